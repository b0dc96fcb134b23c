# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of dual coordinate descent (Hsieh et al. 2008).

Two per-sample loops, both loss-agnostic within their family:

* :func:`binary_dual_cd` -- the L1/L2-loss SVM dual, one coordinate at a time
  with random permutation and shrinking (LIBLINEAR's ``-s 3`` / ``-s 1``);
* :func:`multiclass_dual_cd` -- the Crammer-Singer sequential dual method: one
  sample (all its ``K`` variables) at a time, each sub-problem solved exactly by
  sorting (L1 loss as in LIBLINEAR's ``-s 4``, L2 loss as in Lee & Lin 2013).

They know nothing of ``C``, weights, margins or intercepts: the caller encodes
those in the per-sample bounds ``upper``, curvature ``diag``, linear terms
``offset`` and the value ``bias`` of an appended constant feature. The Python
side (``_dual_cd.py``) measures the duality gap and decides when to stop; a
kernel call runs passes until its projected-gradient violation drops below
``eps`` or ``max_passes`` is reached.

Rows are read either from a C-ordered dense array or from CSR arrays (never
densified); long dense rows use BLAS.

Both kernels run without the GIL for many passes per call; so that Ctrl-C
still stops a fit promptly, they take the GIL briefly every
``SIGNAL_CHECK_VISITS`` sample visits (in the main thread, the only one that
receives signals) and run Python's signal handlers, whose exception
(``KeyboardInterrupt``) then leaves the kernel.
"""

from cpython.exc cimport PyErr_CheckSignals
from libc.math cimport INFINITY, fabs
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc
from scipy.linalg.cython_blas cimport dgemm
from ._random cimport in_main_thread, shuffle
from ._rows cimport (
    HINGE_PREFETCH,
    Rows,
    make_rows,
    prefetch_span,
    row_axpy,
    row_dot,
    row_prefetch,
)

import numpy as np

#: sample visits between two checks for Ctrl-C: each check is a GIL round
#: trip (about a microsecond uncontended), negligible at this spacing, while
#: even long rows (thousands of non-zeros) stay well below a second between
#: checks
cdef enum:
    SIGNAL_CHECK_VISITS = 65536

#: implicit centering keeps ``w + s mu`` while it steps; the ``d`` entries
#: are brought back to ``w`` (and ``mu . w`` recomputed) once the rows read
#: since the last time hold this many times ``d`` entries: ``s`` then sums
#: the steps of a bounded stretch of work, not of a whole call (a near-constant
#: column of 1,000 and a long call left ``w`` 5e-3 off, relative), for at
#: most 2 / RESYNC_WORK of the reading
cdef enum:
    RESYNC_WORK = 16


def binary_dual_cd(
    object X,
    double bias,
    const double[::1] y,
    const double[::1] upper,
    const double[::1] diag,
    const double[::1] offset,
    const double[::1] sq_norms,
    const int[::1] samples,
    double[::1] alpha,
    double[::1] w,
    double eps,
    int max_passes,
    bint shrinking,
    uint64_t seed,
    int[::1] order_state,
    double[::1] shrink_state,
    const double[::1] mean=None,
    const double[::1] mean_dots=None,
):
    """Dual CD on ``min 1/2 ||sum a_i y_i x_i||^2 + 1/2 sum D_i a_i^2 - sum e_i a_i``.

    subject to ``0 <= a_i <= U_i``. ``w`` must equal ``sum a_i y_i x_i`` on
    entry and is kept equal to it.

    With ``mean`` (``mu``, length ``d``) the rows are ``x_i - mu``, never
    formed: sparse rows stay sparse. The pass keeps ``w = v - s mu`` with
    ``v`` updated along the sparse rows only, ``s`` the sum of the steps,
    and ``mu . v`` as a running sum (``mean_dots``: ``m_i = x_i . mu``), so
    that ``(x_i - mu) . w = x_i . v - mu . v + s (||mu||^2 - m_i)``; the
    ``d`` entries of ``w`` are brought back to ``v - s mu`` (and ``mu . v``
    recomputed) at the end of the call and whenever the rows read since the
    last time hold ``RESYNC_WORK * d`` entries. ``sq_norms`` are then those
    of the centered rows.

    Parameters
    ----------
    X : ndarray (n, d) C-ordered float64, or tuple (data, indices, indptr, d)
    bias : float
        Value of the constant feature appended to every row (0: none); its
        weight is ``w[d]``.
    y, upper, diag, offset : ndarray (n,)
        Labels (+-1), bounds ``U_i`` (``inf`` allowed), ``D_i`` and ``e_i``.
    sq_norms : ndarray (n,)
        ``||x_i||^2`` without the constant feature.
    samples : ndarray of int32
        The samples to optimize (others keep ``alpha_i``, normally 0).
    alpha, w : ndarray
        Updated in place.
    eps : float
        Stop when the projected-gradient spread ``max PG - min PG <= eps`` over
        a full pass (after un-shrinking).
    max_passes : int
    shrinking : bool
    seed : int
    order_state : ndarray of int32
        The samples, active (not shrunk) ones first; initialized by the caller
        to ``samples`` and kept between calls, so that a call continuing an
        unfinished solve keeps the shrinking it learned.
    shrink_state : ndarray of 3 floats
        ``[active count, PG max, PG min]`` of the last pass, kept likewise
        (initialized to ``[len(samples), inf, -inf]``).

    Returns
    -------
    passes : int
    violation : float
        ``max PG - min PG`` of the last pass.
    """
    cdef Rows rows = make_rows(X, bias)
    cdef Py_ssize_t n_active = samples.shape[0], active, s, passes = 0
    cdef Py_ssize_t i, j
    cdef int tmp
    cdef double G, PG, a_old, a_new, step, qd
    cdef double pg_max_old = shrink_state[1], pg_min_old = shrink_state[2]
    cdef double pg_max, pg_min, violation = INFINITY
    cdef uint64_t state = seed | 1
    cdef int *order = &order_state[0]
    cdef double *wp = &w[0]
    cdef bint watch_signals = in_main_thread()
    cdef Py_ssize_t visits = 0
    # implicit centering: steps taken (s), mu . v and ||mu||^2
    cdef bint centered = mean is not None
    cdef double shift_sum = 0.0, mean_w = 0.0, mean_sq = 0.0
    cdef const double *mp = NULL
    cdef const double *mdots = NULL
    cdef Py_ssize_t d = rows.n_features
    cdef double row_work = 0.0, read = 0.0
    if centered:
        if mean.shape[0] != d or mean_dots is None or mean_dots.shape[0] != y.shape[0]:
            raise ValueError("mean needs n_features entries and mean_dots one per row")
        mp = &mean[0]
        mdots = &mean_dots[0]
        for j in range(d):
            mean_sq += mp[j] * mp[j]
            mean_w += mp[j] * wp[j]
        # entries a visit reads, on average
        row_work = (
            <double> rows.indptr[y.shape[0]] / max(y.shape[0], 1)
            if rows.sparse else <double> d
        )
    active = <Py_ssize_t> shrink_state[0]
    try:
        with nogil:
            while passes < max_passes:
                passes += 1
                pg_max = -INFINITY
                pg_min = INFINITY
                visits += active
                if watch_signals and visits >= SIGNAL_CHECK_VISITS:
                    visits = 0
                    with gil:
                        PyErr_CheckSignals()
                shuffle(order, active, &state)
                read += active * row_work
                s = 0
                while s < active:
                    i = order[s]
                    if s + 1 < active:
                        row_prefetch(&rows, order[s + 1])
                        # and the next sample's scalars (cache misses alike)
                        j = order[s + 1]
                        HINGE_PREFETCH(&alpha[j])
                        HINGE_PREFETCH(&y[j])
                        HINGE_PREFETCH(&offset[j])
                        HINGE_PREFETCH(&upper[j])
                        HINGE_PREFETCH(&diag[j])
                        HINGE_PREFETCH(&sq_norms[j])
                    G = row_dot(&rows, i, wp)
                    if centered:
                        G += shift_sum * (mean_sq - mdots[i]) - mean_w
                    G = y[i] * G - offset[i] + diag[i] * alpha[i]
                    PG = 0.0
                    if alpha[i] == 0.0:
                        if shrinking and G > pg_max_old:
                            active -= 1
                            tmp = order[s]
                            order[s] = order[active]
                            order[active] = tmp
                            continue
                        if G < 0.0:
                            PG = G
                    elif alpha[i] == upper[i]:
                        if shrinking and G < pg_min_old:
                            active -= 1
                            tmp = order[s]
                            order[s] = order[active]
                            order[active] = tmp
                            continue
                        if G > 0.0:
                            PG = G
                    else:
                        PG = G
                    if PG > pg_max:
                        pg_max = PG
                    if PG < pg_min:
                        pg_min = PG
                    if fabs(PG) > 1e-15:
                        # an empty row (no bias) makes the coordinate linear:
                        # a tiny curvature sends it to the right bound
                        qd = sq_norms[i] + bias * bias + diag[i]
                        if qd < 1e-12:
                            qd = 1e-12
                        a_old = alpha[i]
                        a_new = a_old - G / qd
                        if a_new < 0.0:
                            a_new = 0.0
                        elif a_new > upper[i]:
                            a_new = upper[i]
                        step = (a_new - a_old) * y[i]
                        if step != 0.0:
                            row_axpy(&rows, i, step, wp)
                            alpha[i] = a_new
                            if centered:
                                shift_sum += step
                                mean_w += step * mdots[i]
                    s += 1
                if centered and read >= RESYNC_WORK * d and shift_sum != 0.0:
                    mean_w = 0.0
                    for j in range(d):
                        wp[j] -= shift_sum * mp[j]
                        mean_w += mp[j] * wp[j]
                    shift_sum = 0.0
                    read = 0.0
                if active == 0:
                    pg_max = 0.0
                    pg_min = 0.0
                violation = pg_max - pg_min
                if violation <= eps:
                    if active == n_active:
                        break
                    # verify on every sample before stopping
                    active = n_active
                    pg_max_old = INFINITY
                    pg_min_old = -INFINITY
                    continue
                pg_max_old = pg_max if pg_max > 0.0 else INFINITY
                pg_min_old = pg_min if pg_min < 0.0 else -INFINITY
    finally:
        shrink_state[0] = active
        shrink_state[1] = pg_max_old
        shrink_state[2] = pg_min_old
        if centered and shift_sum != 0.0:
            # w = v - s mu: the one dense update of the call
            for j in range(d):
                wp[j] -= shift_sum * mp[j]
    return passes, violation


cdef double solve_sample(
    Py_ssize_t K,
    Py_ssize_t yi,
    const double *B,
    double A,
    double A_y,
    double U_y,
    double *a,
    double *keys,
    int *idx,
) noexcept nogil:
    """Exact minimizer of one sample's sequential-dual sub-problem.

    ``min sum_m 1/2 A_m a_m^2 + B_m a_m`` s.t. ``sum a_m = 0``, ``a_m <= u_m``,
    with ``A_m = A``, ``u_m = 0`` for ``m != y`` and ``A_y``, ``u_y = U_y`` for
    the true class (``U_y = inf`` for the L2 loss). KKT:
    ``a_m = min(u_m, (beta - B_m) / A_m)`` with ``beta`` the root of the
    increasing piecewise-linear ``sum_m a_m(beta)``; the breakpoints
    ``t_m = B_m + A_m u_m`` are sorted once (``K`` is small: insertion sort).
    Returns ``beta``.
    """
    cdef Py_ssize_t m, k, j
    cdef int tmp
    cdef double capped = 0.0, slope = 0.0, weighted = 0.0, beta = 0.0
    cdef double t
    if A <= 0.0:
        # An empty row without a constant feature: the wrong classes have no
        # curvature and the problem is piecewise linear in them. All their
        # mass goes to the largest B_m, and the true class's share t solves
        # min 1/2 A_y t^2 + (B_y - B_top) t over [0, U_y] in closed form.
        j = -1
        for m in range(K):
            a[m] = 0.0
            if m != yi and (j < 0 or B[m] > B[j]):
                j = m
        if A_y > 0.0:
            t = (B[j] - B[yi]) / A_y
        else:
            t = U_y if B[j] > B[yi] else 0.0
        if t < 0.0:
            t = 0.0
        if t > U_y:
            t = U_y
        a[yi] = t
        a[j] = -t
        return B[j]
    # breakpoints in decreasing order; an infinite cap never enters the sort.
    # Divisions cost more than the rest of the walk (a third of the kernel's
    # time on penbased went to this function): the two curvatures' inverses
    # are taken once, and the walk compares without dividing
    cdef double inv_A = 1.0 / A, inv_y = 1.0 / A_y, inv_m, numerator = 0.0
    cdef Py_ssize_t n_keys = 0
    for m in range(K):
        if m == yi:
            if U_y == INFINITY:
                slope += inv_y
                weighted += B[m] * inv_y
                continue
            keys[m] = B[m] + A_y * U_y
            capped += U_y
        else:
            keys[m] = B[m]
        idx[n_keys] = <int> m
        n_keys += 1
    for k in range(1, n_keys):
        tmp = idx[k]
        j = k
        while j > 0 and keys[idx[j - 1]] < keys[tmp]:
            idx[j] = idx[j - 1]
            j -= 1
        idx[j] = tmp
    # walk the breakpoints from the top: above t_m term m sits at its cap;
    # beta = numerator / slope, and beta >= t reads numerator >= t slope
    k = 0
    while True:
        if slope > 0.0:
            numerator = weighted - capped
            if k == n_keys or numerator >= keys[idx[k]] * slope:
                break
        m = idx[k]
        inv_m = inv_y if m == yi else inv_A
        capped -= U_y if m == yi else 0.0
        slope += inv_m
        weighted += B[m] * inv_m
        k += 1
    beta = numerator / slope
    for m in range(K):
        if m == yi:
            a[m] = (beta - B[m]) * inv_y
            if a[m] > U_y:
                a[m] = U_y
        else:
            a[m] = (beta - B[m]) * inv_A
            if a[m] > 0.0:
                a[m] = 0.0
    return beta


cdef inline void add_scores(
    const double *val,
    const int *col,
    Py_ssize_t nnz,
    const double *W,
    Py_ssize_t K,
    const int *cls,
    Py_ssize_t nc,
    double *G,
) noexcept nogil:
    """``G_j += sum_k val_k W[col_k, cls_j]`` (``col`` NULL: ``col_k = k``).

    Four entries at a time: each ``G_j`` is loaded and stored once per four
    entries instead of once per entry (the compiler cannot keep it in a
    register, ``G`` might alias ``W``), which also cuts the chain of
    dependent additions by four.
    """
    cdef Py_ssize_t k = 0, j, c
    cdef const double *r0
    cdef const double *r1
    cdef const double *r2
    cdef const double *r3
    cdef double v0, v1, v2, v3
    while k + 4 <= nnz:
        if col == NULL:
            r0 = W + k * K
            r1 = r0 + K
            r2 = r1 + K
            r3 = r2 + K
        else:
            r0 = W + col[k] * K
            r1 = W + col[k + 1] * K
            r2 = W + col[k + 2] * K
            r3 = W + col[k + 3] * K
        v0, v1, v2, v3 = val[k], val[k + 1], val[k + 2], val[k + 3]
        for j in range(nc):
            c = cls[j]
            G[j] += (v0 * r0[c] + v1 * r1[c]) + (v2 * r2[c] + v3 * r3[c])
        k += 4
    while k < nnz:
        r0 = W + (k if col == NULL else col[k]) * K
        v0 = val[k]
        for j in range(nc):
            G[j] += v0 * r0[cls[j]]
        k += 1


cdef inline void add_outer(
    const double *val,
    const int *col,
    Py_ssize_t nnz,
    double *W,
    Py_ssize_t K,
    const int *cls,
    Py_ssize_t nc,
    const double *a,
) noexcept nogil:
    """``W[col_k, cls_j] += val_k a_j`` (``col`` NULL: ``col_k = k``), four
    entries at a time so that each ``a_j`` is loaded once per four."""
    cdef Py_ssize_t k = 0, j, c
    cdef double *r0
    cdef double *r1
    cdef double *r2
    cdef double *r3
    cdef double v0, v1, v2, v3, aj
    while k + 4 <= nnz:
        if col == NULL:
            r0 = W + k * K
            r1 = r0 + K
            r2 = r1 + K
            r3 = r2 + K
        else:
            r0 = W + col[k] * K
            r1 = W + col[k + 1] * K
            r2 = W + col[k + 2] * K
            r3 = W + col[k + 3] * K
        v0, v1, v2, v3 = val[k], val[k + 1], val[k + 2], val[k + 3]
        for j in range(nc):
            c = cls[j]
            aj = a[j]
            r0[c] += v0 * aj
            r1[c] += v1 * aj
            r2[c] += v2 * aj
            r3[c] += v3 * aj
        k += 4
    while k < nnz:
        r0 = W + (k if col == NULL else col[k]) * K
        v0 = val[k]
        for j in range(nc):
            r0[cls[j]] += v0 * a[j]
        k += 1


cdef inline Py_ssize_t sort_out(
    double *G,
    int *cls,
    Py_ssize_t nc,
    Py_ssize_t yi,
    const double *alpha_i,
    double diag_i,
    double upper_i,
    bint shrinking,
    Py_ssize_t *y_pos,
    double *spread,
) noexcept nogil:
    """One sample's optimality and shrinking, from its active classes' scores.

    ``G[j]`` holds ``w_m . x_i + e_i^m`` for ``m = cls[j]``; the true class's
    ridge term ``D_i alpha_i^y`` is added here. Sets ``spread`` to the
    sample's violation ``max_m G_m - min_{m: a_m < u_m} G_m`` and ``y_pos``
    to the true class's position; with ``shrinking``, moves the wrong classes
    at their bound 0 whose gradient is below every free variable's to the end
    of ``cls`` (and ``G``). Returns the number of classes left, 1 (or less)
    when the sample is stuck and leaves the pass.
    """
    cdef Py_ssize_t j, m
    cdef double g_max = -INFINITY, g_min = INFINITY
    y_pos[0] = 0
    for j in range(nc):
        m = cls[j]
        if m == yi:
            y_pos[0] = j
            G[j] += diag_i * alpha_i[yi]
            if alpha_i[yi] < upper_i and G[j] < g_min:
                g_min = G[j]
        elif alpha_i[m] < 0.0 and G[j] < g_min:
            g_min = G[j]
        if G[j] > g_max:
            g_max = G[j]
    spread[0] = g_max - g_min
    if not shrinking:
        return nc
    j = 0
    while j < nc:
        m = cls[j]
        if m != yi and alpha_i[m] == 0.0 and G[j] < g_min:
            nc -= 1
            cls[j] = cls[nc]
            cls[nc] = <int> m
            G[j] = G[nc]
            if cls[j] == yi:
                y_pos[0] = j
            continue
        j += 1
    if nc == 2 and alpha_i[yi] == upper_i and G[y_pos[0]] < g_min:
        # the true class at its bound C with the one wrong class left
        # holding -C: moving mass towards the true class is blocked and away
        # from it does not pay, so the sample is stuck, as when LIBLINEAR
        # shrinks the true class (bounded support vectors were half the
        # visits late in a solve)
        return 1
    return nc


cdef double check_all(
    Rows *rows,
    const double *W,
    Py_ssize_t K,
    const int *samples,
    Py_ssize_t n_samples,
    const Py_ssize_t *y,
    const double *alpha,
    const double *offset,
    const double *diag,
    const double *upper,
    int *classes,
    int *n_classes,
    int *order,
    Py_ssize_t *active,
    double *S,
    double *G,
) noexcept nogil:
    """Check every sample at the current ``W`` and shrink afresh; the violation.

    Brings every sample and class back, as the end of a shrinking phase does,
    computes the scores of all dense rows first by one matrix product ``S = X
    W`` (BLAS: several times faster than the pass's class-indexed loops), and
    then applies the pass's optimality test and shrinking rule
    (``sort_out``) to each sample without updating anything. The samples
    left with two active classes or more come first in ``order``
    (``active`` of them). Returns the largest per-sample violation: being
    measured at one ``W``, it is what a pass that moves nothing would find.
    """
    cdef Py_ssize_t s, i, j, m, nc, y_pos, kept = 0, d = rows.n_features
    cdef long long k
    cdef int tmp, one = 1, m_blas = <int> K, n_blas = 0, k_blas = rows.n_features
    cdef double spread, violation = 0.0, zero = 0.0, unit = 1.0
    cdef const double *wrow
    cdef double *srow
    cdef int *cls
    if not rows.sparse and n_samples > 0 and d > 0:
        # S^T (K x n) = W^T (K x d) X^T (d x n), all read as Fortran arrays;
        # rows up to the last sample checked
        for s in range(n_samples):
            if samples[s] + 1 > n_blas:
                n_blas = <int> (samples[s] + 1)
        dgemm(
            "N", "N", &m_blas, &n_blas, &k_blas, &unit, <double *> W, &m_blas,
            <double *> rows.data, &k_blas, &zero, S, &m_blas,
        )  # fmt: skip
    for s in range(n_samples):
        i = samples[s]
        cls = classes + i * K
        for j in range(K):
            G[j] = offset[i * K + cls[j]]
        if rows.sparse:
            k = rows.indptr[i]
            add_scores(
                rows.data + k, rows.indices + k, rows.indptr[i + 1] - k, W, K,
                cls, K, G,
            )  # fmt: skip
        elif d > 0:
            srow = S + i * K
            for j in range(K):
                G[j] += srow[cls[j]]
        if rows.bias != 0.0:
            wrow = W + d * K
            for j in range(K):
                G[j] += rows.bias * wrow[cls[j]]
        nc = sort_out(
            G, cls, K, y[i], alpha + i * K, diag[i], upper[i], True, &y_pos,
            &spread,
        )  # fmt: skip
        n_classes[i] = <int> nc
        if spread > violation:
            violation = spread
    for s in range(n_samples):
        if n_classes[order[s]] > 1:
            tmp = order[s]
            order[s] = order[kept]
            order[kept] = tmp
            kept += 1
    active[0] = kept
    return violation


def multiclass_dual_cd(
    object X,
    double bias,
    const Py_ssize_t[::1] y,
    const double[::1] upper,
    const double[::1] diag,
    const double[:, ::1] offset,
    const double[::1] sq_norms,
    const int[::1] samples,
    double[:, ::1] alpha,
    double[:, ::1] Wt,
    double eps,
    int max_passes,
    bint shrinking,
    uint64_t seed,
    int[::1] order_state,
    int[:, ::1] class_state,
    int[::1] class_count,
    double[::1] shrink_state,
):
    """Sequential dual method for the (L1 or L2) Crammer-Singer dual.

    ``min 1/2 ||W(alpha)||^2 + 1/2 sum_i D_i (alpha_i^{y_i})^2
    + sum_{i,m} e_i^m alpha_i^m`` subject to ``sum_m alpha_i^m = 0``,
    ``alpha_i^m <= 0`` (``m != y_i``) and ``alpha_i^{y_i} <= U_i``, where
    ``W(alpha)^T = Wt = sum_i x_i alpha_i^T`` (``d x K``, feature-major so that
    a sample's ``K`` scores read contiguous memory). L1 loss: ``D_i = 0``,
    ``U_i = C_i``; L2 loss: ``D_i = 1/(2 C_i)``, ``U_i = inf``.

    Shrinking, as in LIBLINEAR: a wrong class at its bound 0 whose gradient is
    below every free variable's leaves the sample's active classes; a sample
    left with its true class only, or with its true class at its bound ``U_i``
    (gradient below the other one's) and one wrong class, leaves the pass.
    Once the passes over the shrunk problem bring its violation below
    ``shrink_eps`` (which then halves, down to ``eps``, as LIBLINEAR's
    ``eps_shrink``) or ``eps``, every sample is checked at the current ``W``
    (``check_all``: one matrix product for dense rows) and shrunk afresh.
    Stops when the largest per-sample violation ``max_m G_m - min_{m: a_m <
    u_m} G_m`` of that check (or of a pass with everything active) is at
    most ``eps``.

    The shrinking state lives in the caller's arrays and carries over between
    calls, so that a call continuing an unfinished solve keeps what it
    learned (bringing everything back at each call made the first pass of
    each call a full one: on penbased, C = 1, calls of 26 passes spent half
    their time that way): ``order_state`` the samples, active ones first
    (initialized to ``samples``); ``class_state[i, :class_count[i]]`` sample
    ``i``'s active classes (initialized to ``0..K-1`` and ``K``);
    ``shrink_state`` ``[active count, whether nothing is shrunk, work,
    work limit, shrink_eps]`` (initialized to ``[len(samples), 1, 0, inf,
    1]``). The work is
    counted in row entries times classes read or written (a pass with
    everything active costs at least ``nnz(X) K``), summed over calls; the
    call also returns after the pass that takes it to the limit, so that the
    caller can space its gap checks by work rather than by passes (a pass of
    a well shrunk solve costs a hundredth of a full one).

    Only the classes whose variable moved update ``W`` (most visits late in
    a solve move two or three of the active classes), as in LIBLINEAR.
    Returns ``(passes, violation)``.
    """
    cdef Rows rows = make_rows(X, bias)
    cdef Py_ssize_t n_active = samples.shape[0], K = Wt.shape[1]
    cdef Py_ssize_t n = alpha.shape[0]
    cdef Py_ssize_t d = rows.n_features, passes = 0, s, i, m, j, yi, nc, y_pos
    cdef long long start
    cdef double A, A_y, spread, violation = INFINITY
    cdef Py_ssize_t active, n_moved, nc_left
    cdef int tmp
    cdef double delta, row_len
    cdef double work = shrink_state[2], work_limit = shrink_state[3]
    cdef double shrink_eps = shrink_state[4], full_pass = 0.0
    cdef double *S = NULL
    # nothing shrunk since everything was last brought back
    cdef bint shrunk, pass_from_all, all_active = shrink_state[1] != 0.0
    cdef uint64_t state = seed | 1
    cdef int *order = &order_state[0]
    # classes[i * K : i * K + n_classes[i]] are sample i's active classes
    cdef int *classes = &class_state[0, 0]
    cdef int *n_classes = &class_count[0]
    cdef int *idx = <int *> malloc(K * sizeof(int))
    cdef int *moved = <int *> malloc(K * sizeof(int))
    cdef double *G = <double *> malloc(K * sizeof(double))
    cdef double *B = <double *> malloc(K * sizeof(double))
    cdef double *a = <double *> malloc(K * sizeof(double))
    cdef double *keys = <double *> malloc(K * sizeof(double))
    cdef const double *row_data
    cdef const int *row_cols
    cdef Py_ssize_t row_nnz
    cdef int *cls
    cdef double *W = &Wt[0, 0]
    cdef double *wrow
    cdef bint watch_signals = in_main_thread()
    cdef Py_ssize_t visits = 0
    if (idx == NULL or moved == NULL or G == NULL or B == NULL or a == NULL
            or keys == NULL):
        free(idx); free(moved); free(G); free(B); free(a); free(keys)
        raise MemoryError()
    active = <Py_ssize_t> shrink_state[0]
    for s in range(n_active):
        i = samples[s]
        full_pass += K * (
            (rows.indptr[i + 1] - rows.indptr[i] if rows.sparse else d) + 1
        )
    try:
        with nogil:
            while passes < max_passes:
                passes += 1
                violation = 0.0
                shrunk = False
                pass_from_all = all_active
                visits += active
                if watch_signals and visits >= SIGNAL_CHECK_VISITS:
                    visits = 0
                    with gil:
                        PyErr_CheckSignals()
                shuffle(order, active, &state)
                s = 0
                while s < active:
                    i = order[s]
                    if s + 1 < active:
                        # the next sample's row and its K-wide rows of alpha,
                        # offset and active classes: in random order each is a
                        # cache miss, and without this the misses cost more
                        # than the arithmetic (penbased, K = 10: half a pass)
                        j = order[s + 1]
                        row_prefetch(&rows, j)
                        prefetch_span(&alpha[j, 0], K * sizeof(double))
                        prefetch_span(&offset[j, 0], K * sizeof(double))
                        prefetch_span(classes + j * K, K * sizeof(int))
                    yi = y[i]
                    cls = classes + i * K
                    nc = n_classes[i]
                    # G_j = w_m . x_i + e_i^m (+ D_i alpha_i^y), m = cls[j]
                    if rows.sparse:
                        start = rows.indptr[i]
                        row_data = rows.data + start
                        row_cols = rows.indices + start
                        row_nnz = rows.indptr[i + 1] - start
                    else:
                        row_data = rows.data + i * d
                        row_cols = NULL
                        row_nnz = d
                    for j in range(nc):
                        G[j] = offset[i, cls[j]]
                    add_scores(row_data, row_cols, row_nnz, W, K, cls, nc, G)
                    if bias != 0.0:
                        wrow = W + d * K
                        for j in range(nc):
                            G[j] += bias * wrow[cls[j]]
                    row_len = row_nnz + 1
                    work += row_len * nc
                    nc_left = sort_out(
                        G, cls, nc, yi, &alpha[i, 0], diag[i], upper[i],
                        shrinking, &y_pos, &spread,
                    )  # fmt: skip
                    if nc_left < nc:
                        shrunk = True
                        n_classes[i] = <int> nc_left
                        nc = nc_left
                    if nc <= 1:
                        active -= 1
                        tmp = order[s]
                        order[s] = order[active]
                        order[active] = tmp
                        continue
                    s += 1
                    if spread > violation:
                        violation = spread
                    if spread <= 1e-12:
                        continue
                    A = sq_norms[i] + bias * bias
                    A_y = A + diag[i]
                    for j in range(nc):
                        B[j] = G[j] - (A_y if j == y_pos else A) * alpha[i, cls[j]]
                    solve_sample(nc, y_pos, B, A, A_y, upper[i], a, keys, idx)
                    # W += x_i (a - alpha_i)^T over the classes that moved
                    n_moved = 0
                    for j in range(nc):
                        m = cls[j]
                        delta = a[j] - alpha[i, m]
                        if delta != 0.0:
                            alpha[i, m] += delta
                            a[n_moved] = delta
                            moved[n_moved] = <int> m
                            n_moved += 1
                    if n_moved == 0:
                        continue
                    work += row_len * n_moved
                    add_outer(row_data, row_cols, row_nnz, W, K, moved, n_moved, a)
                    if bias != 0.0:
                        wrow = W + d * K
                        for j in range(n_moved):
                            wrow[moved[j]] += bias * a[j]
                if shrunk:
                    all_active = False
                if violation <= eps and pass_from_all:
                    # stop only after a pass that began with every sample and
                    # class active (a class shrunk in an earlier pass is not
                    # seen by a pass that shrinks nothing)
                    break
                if shrinking and (violation <= eps or violation <= shrink_eps):
                    # the shrunk problem is solved to eps (or to the current
                    # shrink_eps, which halves down to eps as LIBLINEAR's
                    # does): check everything, and shrink afresh
                    if S == NULL:
                        S = <double *> malloc(n * K * sizeof(double))
                        if S == NULL:
                            with gil:
                                raise MemoryError()
                    violation = check_all(
                        &rows, W, K, &samples[0], n_active, &y[0], &alpha[0, 0],
                        &offset[0, 0], &diag[0], &upper[0], classes, n_classes,
                        order, &active, S, G,
                    )  # fmt: skip
                    work += full_pass
                    all_active = False
                    if violation <= eps:
                        break
                    shrink_eps = max(shrink_eps * 0.5, eps)
                if work >= work_limit:
                    break
    finally:
        shrink_state[0] = active
        shrink_state[1] = 1.0 if all_active else 0.0
        shrink_state[2] = work
        shrink_state[4] = shrink_eps
        free(idx); free(moved); free(G); free(B); free(a); free(keys); free(S)
    return passes, violation


def sample_subproblem(double[::1] B, Py_ssize_t yi, double A, double A_y, double U_y):
    """Python access to one sequential-dual sub-problem (for tests).

    Returns ``(a, beta)``; see ``solve_sample``.
    """
    cdef Py_ssize_t K = B.shape[0]
    a = np.zeros(K)
    keys = np.zeros(K)
    idx = np.zeros(K, dtype=np.int32)
    cdef double[::1] a_view = a, keys_view = keys
    cdef int[::1] idx_view = idx
    beta = solve_sample(K, yi, &B[0], A, A_y, U_y, &a_view[0], &keys_view[0], &idx_view[0])
    return a, beta
