# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of primal coordinate descent for sparse (L1-type) penalties.

Two loops over the features of a working set, both on the margins ``Z = Y *
scores`` of a smooth margin loss ``phi`` (codes in ``LOSS_CODES``), which they
keep equal to ``Y * (X W^T + b)`` as the coefficients move:

* :func:`binary_primal_cd` -- one score column, the penalty
  ``q/2 w^2 + rho |w|`` per coefficient: a generalized Newton step on one
  coordinate, soft-thresholded, with a backtracking line search on the exact
  objective (LIBLINEAR's ``solve_l1r_l2_svc``), falling back to the step of
  the loss's curvature bound (a majorizer: always a descent) when the search
  fails;
* :func:`group_primal_cd` -- ``K`` score columns and the group penalty
  ``q/2 ||W||^2 + sum_j ||W_{:, j}||_2``: one feature's block of ``K``
  coefficients at a time, by the block soft-threshold of a majorized step
  (curvature bound ``L_j``, so every step decreases the objective).

The intercept (one per column) is a coordinate like the others, with the
constant feature 1, no L1 part and the quadratic ``p`` of a penalized bias
(``p = 0`` for a free one), updated once per epoch by the Newton step with
line search.

The design matrix is read by columns: ``cols`` is either a C-ordered dense
``(d, n)`` array (the transpose of a Fortran-ordered ``X``) or the CSC arrays
``(data, indices, indptr, n)`` of ``X``: both are the row layout of ``X^T``
that ``_rows.Rows`` reads. ``cw`` holds ``C s_i`` (weights times ``C``).

A call runs epochs (the working set in the given order, then the
intercepts; a fixed order makes the epochs iterations of one map, which the
dual extrapolation of ``_primal_cd.py`` relies on, as celer's does) until the largest violation of the optimality conditions met
during an epoch is at most ``eps``, or ``max_epochs``. The violation of a
coordinate is the distance of ``-gradient`` to the penalty's subdifferential
(``Penalty.violation``), measured before its update. The Python side
(``_primal_cd.py``) measures the duality gap and picks the working sets.
Ctrl-C is checked every ``SIGNAL_CHECK_ENTRIES`` matrix entries read (in the
main thread), as in the dual kernels.
"""

from cpython.exc cimport PyErr_CheckSignals
from libc.math cimport fabs, fmax, fmin, sqrt
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from ._random cimport in_main_thread
from ._rows cimport Rows, make_rows

cdef enum:
    SQUARED_HINGE = 1
    SMOOTH_HINGE = 2
    MODIFIED_HUBER = 3
    #: line-search trials (each multiplies the curvature by 2 to 16) before
    #: the majorized step is taken
    MAX_LINE_SEARCH = 40

#: loss name (``Loss.compiled_kernel().name``) -> code
LOSS_CODES = {
    "squared_hinge": SQUARED_HINGE,
    "smooth_hinge": SMOOTH_HINGE,
    "modified_huber": MODIFIED_HUBER,
}

#: matrix entries read between two checks for Ctrl-C (a GIL round trip each)
cdef long long SIGNAL_CHECK_ENTRIES = 1 << 22
#: the line search's sufficient decrease (Armijo) fraction, LIBLINEAR's sigma
cdef double ARMIJO = 0.01


cdef struct Loss:
    int kind
    double gamma     # smooth hinge's band width
    double margin    # smooth hinge's margin


cdef struct Column:
    const double *x     # values
    const int *rows     # sample indices (NULL: dense, rows 0..length-1)
    Py_ssize_t length


cdef inline double phi(const Loss *L, double z) noexcept nogil:
    """The loss of the margin ``z`` (formulas of the numpy losses)."""
    cdef double u
    if L.kind == SMOOTH_HINGE:
        u = L.margin - z
        if u <= 0.0:
            return 0.0
        if u >= L.gamma:
            return u - 0.5 * L.gamma
        return 0.5 * u * u / L.gamma
    if L.kind == MODIFIED_HUBER and z < -1.0:
        return -4.0 * z
    u = 1.0 - z
    return u * u if u > 0.0 else 0.0


cdef inline double dphi(const Loss *L, double z, double *d2) noexcept nogil:
    """``phi'(z)``; writes the generalized second derivative to ``d2``."""
    cdef double u
    if L.kind == SMOOTH_HINGE:
        u = L.margin - z
        if u <= 0.0:
            d2[0] = 0.0
            return 0.0
        if u >= L.gamma:
            d2[0] = 0.0
            return -1.0
        d2[0] = 1.0 / L.gamma
        return -u / L.gamma
    if L.kind == MODIFIED_HUBER and z < -1.0:
        d2[0] = 0.0
        return -4.0
    u = 1.0 - z
    if u > 0.0:
        d2[0] = 2.0
        return -2.0 * u
    d2[0] = 0.0
    return 0.0


cdef inline int piece(const Loss *L, double z) noexcept nogil:
    """Which piece of the piecewise-quadratic ``phi`` holds ``z``: 0 zero,
    1 quadratic, 2 linear."""
    cdef double u
    if L.kind == SMOOTH_HINGE:
        u = L.margin - z
        return 0 if u <= 0.0 else (1 if u < L.gamma else 2)
    if L.kind == MODIFIED_HUBER and z < -1.0:
        return 2
    return 1 if z < 1.0 else 0


cdef inline double phi_change(const Loss *L, double z, double delta) noexcept nogil:
    """``phi(z + delta) - phi(z)`` without the cancellation of the difference:
    near the optimum a step changes the objective by far less than the
    rounding of the loss values, and the line search must still see it."""
    cdef int at = piece(L, z)
    cdef double u
    if at != piece(L, z + delta):
        return phi(L, z + delta) - phi(L, z)
    if at == 0:
        return 0.0
    if L.kind == SMOOTH_HINGE:
        u = L.margin - z
        return -delta if at == 2 else delta * (delta - 2.0 * u) / (2.0 * L.gamma)
    if at == 2:
        return -4.0 * delta
    u = 1.0 - z
    return delta * (delta - 2.0 * u)


cdef inline Column column_of(Rows *X, Py_ssize_t j) noexcept nogil:
    cdef Column c
    if X.sparse:
        c.x = X.data + X.indptr[j]
        c.rows = X.indices + X.indptr[j]
        c.length = X.indptr[j + 1] - X.indptr[j]
    else:
        c.x = X.data + j * X.n_features
        c.rows = NULL
        c.length = X.n_features
    return c


cdef inline double newton_direction(
    double g, double h, double w, double rho
) noexcept nogil:
    """``argmin_d g d + h d^2 / 2 + rho |w + d|``."""
    if g + rho <= h * w:
        return -(g + rho) / h
    if g - rho >= h * w:
        return -(g - rho) / h
    return -w


cdef inline double violation(double g, double w, double rho) noexcept nogil:
    """Distance of ``-g`` from ``rho * partial |w|``."""
    if w > 0.0:
        return fabs(g + rho)
    if w < 0.0:
        return fabs(g - rho)
    return fabs(g) - rho if fabs(g) > rho else 0.0


cdef double coordinate_step(
    const Loss *L,
    Column col,
    const double *y,
    const double *cw,
    double *z,
    Py_ssize_t stride,
    double *w,
    double q,
    double rho,
    double bound,
    double *saved,
) noexcept nogil:
    """Update one coefficient ``w`` (feature column ``col``); return its violation.

    ``z`` and ``y`` are read at ``i * stride`` (one column of an ``n x K``
    array). ``bound`` is the loss part's curvature bound ``sum_i cw_i
    sup(phi'') x_i^2`` for the majorized fallback. ``saved`` holds the
    column's margins during a long step (room for ``col.length`` values).
    """
    cdef Py_ssize_t k, i
    cdef double g = 0.0, h = 0.0, d2, a, x, w0 = w[0], d, delta, smooth, w1, h_seen
    cdef int trial
    cdef bint long_step = False
    for k in range(col.length):
        i = col.rows[k] if col.rows != NULL else k
        x = col.x[k]
        a = cw[i] * dphi(L, z[i * stride], &d2)
        g += a * y[i * stride] * x
        h += cw[i] * d2 * x * x
    g += q * w0
    h += q
    cdef double viol = violation(g, w0, rho)
    if viol == 0.0:
        return 0.0
    if h <= 1e-12 * (bound + q):
        # flat here (every sample in a piece without curvature): a long
        # step, which the line search's secant then scales to the curvature
        # it meets (the bound can be far larger: samples of large weight
        # that sit in the flat piece)
        h = 1e-12 * (bound + q)
        # its trials move z by up to 1e12 times a usual step: z is taken
        # back from a copy, not by subtracting the step again (the smooth
        # hinge's free intercept kept margins 1e-6 off their scores, and a
        # 6-sample fit needed 2,580 epochs to reach tol 1e-6)
        long_step = True
    if h <= 0.0:
        return viol
    d = newton_direction(g, h, w0, rho)
    if d == 0.0:
        return viol
    # z moves with each trial step (the pass that measures the change also
    # applies it, as LIBLINEAR's does): ``applied`` is the step z holds now
    cdef double applied = 0.0, zo, a_i
    cdef bint settled = False
    if long_step:
        for k in range(col.length):
            i = col.rows[k] if col.rows != NULL else k
            saved[k] = z[i * stride]
    for trial in range(MAX_LINE_SEARCH):
        w1 = w0 + d
        delta = g * d + rho * (fabs(w1) - fabs(w0))
        # the majorizer bounds the change: if it passes, no pass over the
        # column is needed (LIBLINEAR's appxcond)
        if (
            g * d + 0.5 * (bound + q) * d * d + rho * (fabs(w1) - fabs(w0))
            <= ARMIJO * delta
        ):
            settled = True
            break
        smooth = 0.5 * q * (w1 * w1 - w0 * w0)
        for k in range(col.length):
            i = col.rows[k] if col.rows != NULL else k
            a_i = y[i * stride] * col.x[k]
            zo = saved[k] if long_step else z[i * stride] - applied * a_i
            smooth += cw[i] * phi_change(L, zo, d * a_i)
            z[i * stride] = zo + d * a_i
        applied = d
        if smooth + rho * (fabs(w1) - fabs(w0)) <= ARMIJO * delta:
            settled = True
            break
        # the curvature seen along the step (the secant's), kept within 2 and
        # 16 times the last: a shorter step that can still land on 0, unlike
        # a halving; the cap keeps a long step that crossed into a steep
        # piece near that piece (the secant alone would fall far short)
        h_seen = 2.0 * (smooth - g * d) / (d * d)
        h = fmin(fmax(h_seen, 2.0 * h), 16.0 * h)
        if h >= bound + q:
            break
        d = newton_direction(g, h, w0, rho)
        if d == 0.0:
            settled = True
            break
    if not settled:
        # the majorizer's step decreases the objective whatever the curvature
        d = newton_direction(g, bound + q, w0, rho)
    w[0] = w0 + d
    if long_step:
        for k in range(col.length):
            i = col.rows[k] if col.rows != NULL else k
            z[i * stride] = saved[k] + d * y[i * stride] * col.x[k]
    elif d != applied:
        for k in range(col.length):
            i = col.rows[k] if col.rows != NULL else k
            z[i * stride] += (d - applied) * y[i * stride] * col.x[k]
    return viol


cdef inline void record(
    double[:, ::1] history, Py_ssize_t first, Py_ssize_t epoch, const double *z
) noexcept nogil:
    """Copy the margins into row ``(first + epoch - 1) % H`` of ``history``."""
    cdef Py_ssize_t H = history.shape[0]
    if H > 0:
        memcpy(
            &history[(first + epoch - 1) % H, 0], z, history.shape[1] * sizeof(double)
        )


cdef inline Loss make_loss(int kind, double gamma, double margin):
    cdef Loss L
    L.kind = kind
    L.gamma = gamma
    L.margin = margin
    return L


def binary_primal_cd(
    object cols,
    const double[::1] ones,
    const double[:, ::1] Y,
    const double[::1] cw,
    double[:, ::1] Z,
    double[:, ::1] W,
    double[::1] b,
    bint fit_intercept,
    double q,
    double rho,
    double p,
    const double[::1] bounds,
    double intercept_bound,
    int[::1] working_set,
    int loss_kind,
    double gamma,
    double margin,
    double eps,
    int max_epochs,
    double[:, ::1] history,
    Py_ssize_t first_row=0,
):
    """Coordinate descent epochs on ``sum_j (q/2 w_j^2 + rho |w_j|) + p/2 b^2
    + sum_i cw_i phi(z_i)``, ``z = y * (X w + b)``.

    Parameters
    ----------
    cols : ndarray (d, n) C-ordered, or tuple (data, indices, indptr, n)
        ``X`` by columns (see the module docstring).
    ones : ndarray (n,)
        The intercept's column (all ones).
    Y : ndarray (n, 1)
        Labels (+-1).
    cw : ndarray (n,)
        ``C s_i``.
    Z, W, b : ndarray
        Margins ``(n, 1)``, coefficients ``(1, d)`` and intercept ``(1,)``,
        updated in place (``Z`` kept equal to ``Y * (X W^T + b)``).
    fit_intercept : bool
    q, rho, p : float
        Quadratic and L1 weights of the penalty; the intercept's quadratic.
    bounds : ndarray (d,)
        ``sum_i cw_i sup(phi'') x_ij^2`` per feature.
    intercept_bound : float
        ``sum_i cw_i sup(phi'')``.
    working_set : ndarray of int32
        The features to update, in this order each epoch.
    loss_kind : int
        A code of ``LOSS_CODES``; ``gamma``, ``margin`` for the smooth hinge.
    eps : float
        Stop after an epoch whose largest violation is at most ``eps``.
    max_epochs : int
    history : ndarray (H, n K)
        The margins after each of the last ``H`` epochs, epoch ``e`` (from 1)
        in row ``(first_row + e - 1) % H`` (for the dual extrapolation);
        ``H = 0``: none.
    first_row : int, default=0
        Where this call's first epoch goes: the caller's ring of rows
        continues across calls without being moved.

    Returns
    -------
    epochs : int
    violation : float
        Largest violation of the last epoch.
    """
    cdef Rows X = make_rows(cols, 0.0)
    cdef Loss L = make_loss(loss_kind, gamma, margin)
    cdef Column col, intercept
    cdef Py_ssize_t n_ws = working_set.shape[0], s, j, epochs = 0
    cdef double viol, worst = 0.0
    cdef int *order = &working_set[0] if n_ws > 0 else NULL
    cdef bint watch_signals = in_main_thread()
    cdef long long entries = 0
    cdef const double *y = &Y[0, 0]
    cdef double *z = &Z[0, 0]
    cdef double *w = &W[0, 0]
    cdef Py_ssize_t n = ones.shape[0]
    cdef double *saved = <double *> malloc((n if n > 0 else 1) * sizeof(double))
    if saved == NULL:
        raise MemoryError()
    intercept.x = &ones[0]
    intercept.rows = NULL
    intercept.length = n
    try:
        with nogil:
            while epochs < max_epochs:
                epochs += 1
                worst = 0.0
                for s in range(n_ws):
                    j = order[s]
                    col = column_of(&X, j)
                    viol = coordinate_step(
                        &L, col, y, &cw[0], z, 1, &w[j], q, rho, bounds[j], saved
                    )
                    if viol > worst:
                        worst = viol
                    entries += col.length
                if fit_intercept:
                    viol = coordinate_step(
                        &L, intercept, y, &cw[0], z, 1, &b[0], p, 0.0,
                        intercept_bound, saved,
                    )
                    if viol > worst:
                        worst = viol
                    entries += intercept.length
                record(history, first_row, epochs, z)
                if watch_signals and entries >= SIGNAL_CHECK_ENTRIES:
                    entries = 0
                    with gil:
                        PyErr_CheckSignals()
                if worst <= eps:
                    break
    finally:
        free(saved)
    return epochs, worst


def group_primal_cd(
    object cols,
    const double[::1] ones,
    const double[:, ::1] Y,
    const double[::1] cw,
    double[:, ::1] Z,
    double[:, ::1] W,
    double[::1] b,
    bint fit_intercept,
    double q,
    double rho,
    double p,
    const double[::1] bounds,
    double intercept_bound,
    int[::1] working_set,
    int loss_kind,
    double gamma,
    double margin,
    double eps,
    int max_epochs,
    double[:, ::1] history,
    Py_ssize_t first_row=0,
):
    """Block coordinate descent on ``q/2 ||W||^2 + rho sum_j ||W_{:, j}|| +
    p/2 ||b||^2 + sum_ik cw_i phi(Z_ik)``, ``Z = Y * (X W^T + b)``.

    ``Y``, ``Z`` are ``(n, K)``, ``W`` is ``(K, d)``, ``b`` is ``(K,)``; the
    other parameters and the returns are those of :func:`binary_primal_cd`.
    A feature's step is ``W_{:, j} <- [1 - rho / (L ||v||)]_+ v`` with ``v =
    W_{:, j} - g / L``, ``g`` the block's gradient and ``L = bounds_j + q``;
    its violation is the distance of ``-g`` from the group norm's
    subdifferential.
    """
    cdef Rows X = make_rows(cols, 0.0)
    cdef Loss L = make_loss(loss_kind, gamma, margin)
    cdef Column col, intercept
    cdef Py_ssize_t n_ws = working_set.shape[0], s, j, epochs = 0, k, m, i
    cdef Py_ssize_t K = W.shape[0], d = W.shape[1]
    cdef double viol, worst = 0.0, d2, x, lip, norm_v, norm_w, norm_g, shrink
    cdef double a
    cdef int *order = &working_set[0] if n_ws > 0 else NULL
    cdef bint watch_signals = in_main_thread()
    cdef long long entries = 0
    cdef Py_ssize_t n = ones.shape[0]
    cdef double *g = <double *> malloc((2 * K + (n if n > 0 else 1)) * sizeof(double))
    cdef double *v = g + K
    cdef double *saved = g + 2 * K
    if g == NULL:
        raise MemoryError()
    intercept.x = &ones[0]
    intercept.rows = NULL
    intercept.length = ones.shape[0]
    try:
        with nogil:
            while epochs < max_epochs:
                epochs += 1
                worst = 0.0
                for s in range(n_ws):
                    j = order[s]
                    col = column_of(&X, j)
                    entries += col.length
                    for k in range(K):
                        g[k] = q * W[k, j]
                    for m in range(col.length):
                        i = col.rows[m] if col.rows != NULL else m
                        x = col.x[m]
                        for k in range(K):
                            g[k] += cw[i] * dphi(&L, Z[i, k], &d2) * Y[i, k] * x
                    norm_w = 0.0
                    norm_g = 0.0
                    for k in range(K):
                        norm_w += W[k, j] * W[k, j]
                    norm_w = sqrt(norm_w)
                    if norm_w > 0.0:
                        for k in range(K):
                            a = g[k] + rho * W[k, j] / norm_w
                            norm_g += a * a
                        viol = sqrt(norm_g)
                    else:
                        for k in range(K):
                            norm_g += g[k] * g[k]
                        viol = sqrt(norm_g) - rho
                        if viol < 0.0:
                            viol = 0.0
                    if viol > worst:
                        worst = viol
                    if viol == 0.0:
                        continue
                    lip = bounds[j] + q
                    if lip <= 0.0:
                        continue
                    norm_v = 0.0
                    for k in range(K):
                        v[k] = W[k, j] - g[k] / lip
                        norm_v += v[k] * v[k]
                    norm_v = sqrt(norm_v)
                    shrink = 1.0 - rho / (lip * norm_v) if norm_v > 0.0 else 0.0
                    if shrink < 0.0:
                        shrink = 0.0
                    for k in range(K):
                        # v becomes the step of column k
                        v[k] = shrink * v[k] - W[k, j]
                        W[k, j] += v[k]
                    for m in range(col.length):
                        i = col.rows[m] if col.rows != NULL else m
                        x = col.x[m]
                        for k in range(K):
                            Z[i, k] += v[k] * Y[i, k] * x
                if fit_intercept:
                    for k in range(K):
                        viol = coordinate_step(
                            &L, intercept, &Y[0, k], &cw[0], &Z[0, k], K,
                            &b[k], p, 0.0, intercept_bound, saved,
                        )
                        if viol > worst:
                            worst = viol
                    entries += K * intercept.length
                record(history, first_row, epochs, &Z[0, 0])
                if watch_signals and entries >= SIGNAL_CHECK_ENTRIES:
                    entries = 0
                    with gil:
                        PyErr_CheckSignals()
                if worst <= eps:
                    break
    finally:
        free(g)
    return epochs, worst


def quadratic_l1_cd(
    const double[:, ::1] H,
    const double[::1] g,
    const double[::1] w,
    double rho,
    double[::1] d,
    int max_sweeps,
    double tol,
):
    """Cyclic coordinate descent on ``g.d + d.H.d / 2 + rho |w + d|_1``.

    The quadratic model of a Newton step over a working set (newGLMNET's
    inner problem): each sweep costs ``m^2`` for ``m`` coordinates, no pass
    over the data. ``d`` is updated in place; stops after a sweep whose
    largest scaled step ``|delta_j| sqrt(H_jj)`` is at most ``tol``. Returns
    the sweeps run.
    """
    cdef Py_ssize_t m = H.shape[0], j, k, sweeps = 0
    cdef double gj, step, largest
    cdef double *Hd = <double *> malloc((m if m > 0 else 1) * sizeof(double))
    if Hd == NULL:
        raise MemoryError()
    try:
        with nogil:
            for j in range(m):
                Hd[j] = 0.0
                for k in range(m):
                    Hd[j] += H[j, k] * d[k]
            while sweeps < max_sweeps:
                sweeps += 1
                largest = 0.0
                for j in range(m):
                    if H[j, j] <= 0.0:
                        continue
                    gj = g[j] + Hd[j]
                    step = newton_direction(gj, H[j, j], w[j] + d[j], rho)
                    if step == 0.0:
                        continue
                    d[j] += step
                    for k in range(m):
                        Hd[k] += step * H[j, k]
                    largest = fmax(largest, fabs(step) * sqrt(H[j, j]))
                if largest <= tol:
                    break
    finally:
        free(Hd)
    return sweeps


def sparse_quadratic_l1_cd(
    const double[::1] data,
    const int[::1] indices,
    const long long[::1] indptr,
    const double[::1] curvature,
    const double[::1] h,
    double h_bb,
    const double[::1] diagonal,
    double extra,
    const double[::1] g,
    const double[::1] w,
    double rho,
    double[::1] d,
    int max_sweeps,
    double tol,
):
    """:func:`quadratic_l1_cd` on the model whose ``H`` is never formed:
    ``A^T diag(curvature) A + extra I - h h^T / h_bb``, ``A^T`` the CSR
    ``m x n`` rows ``data, indices, indptr`` (one per coordinate, over the
    samples), ``h_bb = 0`` for no ``h`` term; ``diagonal`` is ``H``'s.

    Each coordinate's ``(H d)_j`` comes from the kept ``curvature * (A d)``
    (and ``h . d``) in the row's entries: a sweep costs the rows' entries,
    where the formed ``H`` costs ``m`` a moving coordinate (text, 3,056
    columns of a dozen entries: 200 times less). Cyclic, in the same order
    and with the same steps as :func:`quadratic_l1_cd`. Returns the sweeps.
    """
    cdef Py_ssize_t m = diagonal.shape[0], n = curvature.shape[0]
    cdef Py_ssize_t j, k, sweeps = 0
    cdef double gj, step, largest, hd = 0.0
    cdef double *Dq = <double *> malloc((n if n > 0 else 1) * sizeof(double))
    if Dq == NULL:
        raise MemoryError()
    try:
        with nogil:
            for k in range(n):
                Dq[k] = 0.0
            for j in range(m):
                if d[j] != 0.0:
                    for k in range(indptr[j], indptr[j + 1]):
                        Dq[indices[k]] += d[j] * data[k]
                    hd += d[j] * h[j]
            for k in range(n):
                Dq[k] *= curvature[k]
            while sweeps < max_sweeps:
                sweeps += 1
                largest = 0.0
                for j in range(m):
                    if diagonal[j] <= 0.0:
                        continue
                    gj = g[j] + extra * d[j]
                    for k in range(indptr[j], indptr[j + 1]):
                        gj += data[k] * Dq[indices[k]]
                    if h_bb > 0.0:
                        gj -= h[j] * hd / h_bb
                    step = newton_direction(gj, diagonal[j], w[j] + d[j], rho)
                    if step == 0.0:
                        continue
                    d[j] += step
                    for k in range(indptr[j], indptr[j + 1]):
                        Dq[indices[k]] += step * data[k] * curvature[indices[k]]
                    hd += step * h[j]
                    largest = fmax(largest, fabs(step) * sqrt(diagonal[j]))
                if largest <= tol:
                    break
    finally:
        free(Dq)
    return sweeps


def sparse_gram(
    const double[::1] data,
    const int[::1] indices,
    const long long[::1] indptr,
    const double[::1] weights,
    double[:, ::1] H,
):
    """Add ``A^T diag(weights) A`` to the dense ``H`` (``m x m``), ``A`` an
    ``n x m`` CSR matrix with sorted column indices.

    The generalized Hessian of a Newton step over a sparse working set: a
    sample of zero weight (a margin past the hinge) is skipped, and each
    other costs the square of its non-zeros in the working set, where a
    sparse product would cost two passes and a sparse result.
    """
    cdef Py_ssize_t n = indptr.shape[0] - 1, m = H.shape[0], i, a, c, j
    cdef double v
    with nogil:
        for i in range(n):
            if weights[i] == 0.0:
                continue
            for a in range(indptr[i], indptr[i + 1]):
                v = weights[i] * data[a]
                j = indices[a]
                for c in range(a, indptr[i + 1]):
                    H[j, indices[c]] += v * data[c]
        # the loop filled the upper triangle (sorted indices): mirror it
        for j in range(m):
            for a in range(j + 1, m):
                H[a, j] = H[j, a]


def line_slope(
    int loss_kind,
    double gamma,
    double margin,
    const double[::1] Z,
    const double[::1] D,
    const double[::1] cw,
    double t,
):
    """``(sum_i cw_i D_i phi'(Z_i + t D_i), sum_i cw_i D_i^2 phi''(Z_i + t D_i))``.

    The loss part's first and (generalized) second derivative along the line
    ``margins = Z + t D``, for the exact line search of Newton's method
    (``_newton._exact_step``): one pass and no temporaries, where numpy's
    loss gradient built several arrays of ``n`` and the loss values the
    search does not need. Without the GIL, so one-vs-rest columns fitted in
    threads run it side by side.
    """
    cdef Loss L = make_loss(loss_kind, gamma, margin)
    cdef Py_ssize_t n = Z.shape[0], i
    cdef double slope = 0.0, curvature = 0.0, d1, d2, v
    with nogil:
        for i in range(n):
            v = cw[i] * D[i]
            if v == 0.0:
                continue
            d1 = dphi(&L, Z[i] + t * D[i], &d2)
            slope += v * d1
            curvature += v * D[i] * d2
    return slope, curvature
