# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernel of stochastic gradient descent: one epoch over given rows.

:func:`sgd_epoch` runs the steps of one pass in a given sample order, a
mini-batch of ``batch_size`` rows per step, on the per-sample objective

    ``lam/2 ||W||^2 + lam_b/2 ||b||^2 + (1/n) sum_i s_i loss(y_i, W x_i + b)``.

It knows the built-in per-sample losses by code (``LOSS_CODES``; a loss names
its code through ``Loss.compiled_kernel()``), and the step-size schedules by
code (``SCHEDULE_CODES``). The Python side (``_sgd.py``) owns the state
arrays, decides the order and when to stop.

Two tricks keep a step at the cost of the rows' non-zeros, not of ``d``:

* *lazy scaling*: ``W = scale * V``; the L2 shrink ``W *= 1 - eta lam`` only
  changes ``scale``;
* *lazy averaging*: the running sum of the iterates is kept as
  ``alpha * V + R``. A step that moves ``V`` by ``delta`` (sparse) does
  ``R -= alpha delta`` and then ``alpha += scale``, which adds the new iterate
  ``scale * V`` to the sum without touching the other coordinates;
* *cumulative L1 penalty* (Tsuruoka, Tsujii & Ananiadou 2009, as
  ``SGDClassifier``): with an L1 part ``lam_l1 ||W||_1`` each step adds its
  pull ``eta lam_l1`` to the total ``u``, and only the features of the
  batch's rows are pulled, each by what it has not received yet (``Q_kj``
  holds what it has), clipped at 0. A feature no row touches owes its pull
  until it is touched, or until the pass ends: the last step settles every
  feature, so the returned ``V`` is the one the pulls at every step give.
  ``u`` and ``Q`` are kept in the units of ``V`` (a pull ``p`` adds ``p /
  scale``), so the L2 shrink shrinks the owed pulls too: the L2 shrink and
  the L1 pull compose as they would step by step.

State scalars (``scalars``): ``[scale, t, alpha, n_averaged, norm2, seen,
u]``, with ``t`` the steps taken, ``norm2 = ||V||^2`` (kept only when
projecting), ``seen`` the samples processed and ``u`` the cumulative L1 pull
(units of ``V``).
"""

import numpy as np

from libc.math cimport erfc, exp, pow, sqrt
from libc.stdlib cimport free, malloc
from libc.string cimport memset

cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX

from ._rows cimport (
    HINGE_PREFETCH,
    Rows,
    make_rows,
    row_axpy,
    row_axpy2,
    row_dot,
    row_prefetch,
)


cdef enum:
    HINGE = 0
    SQUARED_HINGE = 1
    SMOOTH_HINGE = 2
    MODIFIED_HUBER = 3
    GAUSSIAN_HINGE = 4
    CRAMMER_SINGER = 10
    WESTON_WATKINS = 11

cdef enum:
    CONSTANT = 0
    OPTIMAL = 1
    INVSCALING = 2
    PEGASOS = 3

#: loss name -> code; the parameters ``(a, b, c)`` each loss reads are listed
#: in ``margin_derivative`` and ``multiclass_gradient``
LOSS_CODES = {
    "hinge": HINGE,
    "squared_hinge": SQUARED_HINGE,
    "smooth_hinge": SMOOTH_HINGE,
    "modified_huber": MODIFIED_HUBER,
    "gaussian_hinge": GAUSSIAN_HINGE,
    "crammer_singer": CRAMMER_SINGER,
    "weston_watkins": WESTON_WATKINS,
}
MULTICLASS_CODES = frozenset({CRAMMER_SINGER, WESTON_WATKINS})
#: "adaptive" steps with a constant eta0 that the Python side divides
SCHEDULE_CODES = {
    "constant": CONSTANT,
    "adaptive": CONSTANT,
    "optimal": OPTIMAL,
    "invscaling": INVSCALING,
    "pegasos": PEGASOS,
}

cdef double INV_SQRT_2PI = 0.3989422804014327
cdef double SQRT1_2 = 0.7071067811865476
#: below this the scale is folded into V (and the average's alpha into R): V
#: stays within 1e4 of W, so alpha V + R loses at most ~1e-12 to cancellation
cdef double MIN_SCALE = 1e-4


#: dense rows of at most this many features go through plain loops rather
#: than BLAS: a BLAS call costs about as much as 20-30 multiply-adds, the
#: whole arithmetic of a short row (the real-data sets of 10-60 features)
cdef enum:
    SHORT_ROW = 64


cdef inline double dot(Rows *X, Py_ssize_t i, const double *w) noexcept nogil:
    """``x_i . w`` (``row_dot``, without a BLAS call on a short dense row)."""
    cdef Py_ssize_t j, d = X.n_features, d4
    cdef const double *x
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    if X.sparse or d > SHORT_ROW or X.bias != 0.0:
        return row_dot(X, i, w)
    x = X.data + i * d
    # four running sums: one would wait on each addition's latency
    d4 = d - d % 4
    for j in range(0, d4, 4):
        s0 += x[j] * w[j]
        s1 += x[j + 1] * w[j + 1]
        s2 += x[j + 2] * w[j + 2]
        s3 += x[j + 3] * w[j + 3]
    for j in range(d4, d):
        s0 += x[j] * w[j]
    return (s0 + s1) + (s2 + s3)


cdef inline void axpy2(
    Rows *X, Py_ssize_t i, double a, double *w, double c, double *v
) noexcept nogil:
    """``w += a x_i`` and, if ``v`` is given, ``v += c x_i`` (``row_axpy``,
    ``row_axpy2``, without BLAS calls on a short dense row)."""
    cdef Py_ssize_t j, d = X.n_features
    cdef const double *x
    if X.sparse or d > SHORT_ROW or X.bias != 0.0:
        if v == NULL:
            row_axpy(X, i, a, w)
        else:
            row_axpy2(X, i, a, w, c, v)
        return
    x = X.data + i * d
    if v == NULL:
        for j in range(d):
            w[j] += a * x[j]
    else:
        for j in range(d):
            w[j] += a * x[j]
            v[j] += c * x[j]


cdef struct LossSpec:
    int kind
    double a
    double b
    double c


cdef inline double margin_derivative(
    const LossSpec *L, double z, double *value
) noexcept nogil:
    """``phi'(z)`` of a margin loss; writes ``phi(z)`` to ``value``.

    Parameters: hinge ``a`` = margin; smooth hinge ``a`` = gamma, ``b`` =
    margin; Gaussian hinge ``a`` = sigma. The kinks follow the numpy losses
    (the hinge's subgradient is -1 at ``z = margin``).
    """
    cdef double u, t
    if L.kind == HINGE:
        u = L.a - z
        value[0] = u if u > 0.0 else 0.0
        return -1.0 if u >= 0.0 else 0.0
    if L.kind == MODIFIED_HUBER and z < -1.0:
        value[0] = -4.0 * z  # the linear tail; above it, the squared hinge
        return -4.0
    if L.kind == SQUARED_HINGE or L.kind == MODIFIED_HUBER:
        u = 1.0 - z
        if u > 0.0:
            value[0] = u * u
            return -2.0 * u
        value[0] = 0.0
        return 0.0
    if L.kind == SMOOTH_HINGE:
        u = L.b - z
        if u <= 0.0:
            value[0] = 0.0
            return 0.0
        if u >= L.a:
            value[0] = u - 0.5 * L.a
            return -1.0
        value[0] = 0.5 * u * u / L.a
        return -u / L.a
    # GAUSSIAN_HINGE: psi = [t]_+ + sigma E[(Z - |u|)_+], psi' = -Phi(u)
    t = 1.0 - z
    u = t / L.a
    value[0] = (t if t > 0.0 else 0.0) + L.a * gaussian_excess(u if u > 0 else -u)
    return -0.5 * erfc(-u * SQRT1_2)


cdef inline double gaussian_excess(double a) noexcept nogil:
    """``E[(Z - a)_+] = phi(a) - a Phi(-a)`` for ``a >= 0``."""
    cdef double excess = INV_SQRT_2PI * exp(-0.5 * a * a) - a * 0.5 * erfc(a * SQRT1_2)
    return excess if excess > 0.0 else 0.0


cdef inline double multiclass_gradient(
    const LossSpec *L, const double *s, Py_ssize_t K, Py_ssize_t y, double *g
) noexcept nogil:
    """Loss of one sample and its gradient ``g`` (length ``K``) in score space.

    Parameters: ``a`` = delta, ``b`` = squared (0/1), ``c`` = smoothing
    (Weston-Watkins only; Crammer-Singer with smoothing has no kernel).
    """
    cdef Py_ssize_t r, best = -1
    cdef double h, m, slope, total = 0.0, value = 0.0
    memset(g, 0, K * sizeof(double))
    if L.kind == CRAMMER_SINGER:
        for r in range(K):
            if r != y and (best < 0 or s[r] > s[best]):
                best = r
        h = L.a + s[best] - s[y]
        if h <= 0.0:
            return 0.0
        slope = 2.0 * h if L.b != 0.0 else 1.0
        g[best] = slope
        g[y] = -slope
        return h * h if L.b != 0.0 else h
    # WESTON_WATKINS
    for r in range(K):
        if r == y:
            continue
        m = L.a + s[r] - s[y]
        if L.c > 0.0:
            if m <= 0.0:
                continue
            if m >= L.c:
                value += m - 0.5 * L.c
                slope = 1.0
            else:
                value += 0.5 * m * m / L.c
                slope = m / L.c
        elif L.b != 0.0:
            if m <= 0.0:
                continue
            value += m * m
            slope = 2.0 * m
        else:
            if m < 0.0:
                continue
            value += m
            slope = 1.0
        g[r] = slope
        total += slope
    g[y] = -total
    return value


def loss_gradient(
    int loss_kind,
    double a,
    double b,
    double c,
    const double[:, ::1] scores,
    const double[:, ::1] y_signs,
    const Py_ssize_t[::1] codes,
    double[::1] values,
    double[:, ::1] gradient,
):
    """Per-sample values and score gradients of a compiled loss, for tests.

    Margin losses read ``y_signs`` (+-1, the shape of ``scores``) and sum the
    values over columns; multiclass losses read ``codes``.
    """
    cdef LossSpec L = LossSpec(loss_kind, a, b, c)
    cdef Py_ssize_t n = scores.shape[0], K = scores.shape[1], i, k
    cdef double v
    for i in range(n):
        if loss_kind in MULTICLASS_CODES:
            values[i] = multiclass_gradient(&L, &scores[i, 0], K, codes[i], &gradient[i, 0])
        else:
            values[i] = 0.0
            for k in range(K):
                gradient[i, k] = y_signs[i, k] * margin_derivative(
                    &L, y_signs[i, k] * scores[i, k], &v
                )
                values[i] += v


cdef inline double scores_loss(
    const LossSpec *L,
    bint multiclass,
    const double *scores,
    Py_ssize_t K,
    const double *y_i,
    Py_ssize_t code,
    double *g,
) noexcept nogil:
    """Loss of one sample at its ``K`` scores and its gradient ``g`` in score
    space; margin losses read the signs ``y_i``, multiclass ones the class
    ``code``."""
    cdef Py_ssize_t k
    cdef double value = 0.0, product
    if multiclass:
        return multiclass_gradient(L, scores, K, code, g)
    for k in range(K):
        g[k] = y_i[k] * margin_derivative(L, y_i[k] * scores[k], &product)
        value += product
    return value


cdef inline double sample_loss(
    Rows *rows,
    Py_ssize_t i,
    const LossSpec *L,
    bint multiclass,
    const double *W,
    Py_ssize_t K,
    double scale,
    const double *intercept,
    bint fit_intercept,
    const double *y_i,
    Py_ssize_t code,
    double *scores,
    double *g,
) noexcept nogil:
    """:func:`scores_loss` of sample ``i`` at the scores ``scale * W x_i + b``
    (``W``: ``K`` C-ordered rows), written to ``scores``."""
    cdef Py_ssize_t k, d = rows.n_features
    for k in range(K):
        scores[k] = scale * dot(rows, i, W + k * d) + (
            intercept[k] if fit_intercept else 0.0
        )
    return scores_loss(L, multiclass, scores, K, y_i, code, g)


def weighted_loss(
    const double[:, ::1] scores,
    const double[:, ::1] y_signs,
    const Py_ssize_t[::1] codes,
    const double[::1] weights,
    int loss_kind,
    double a,
    double b,
    double c,
):
    """``sum_i s_i loss(y_i, scores_i)``, the loss by code as in
    :func:`sgd_epoch`: the objective SGD watches after each epoch and scores
    its step trials by (in numpy a loss call and a reduction, each a fixed
    cost that weighed on small data)."""
    cdef LossSpec L = LossSpec(loss_kind, a, b, c)
    cdef bint multiclass = loss_kind in MULTICLASS_CODES
    cdef Py_ssize_t n = weights.shape[0], K = scores.shape[1], i
    cdef double total = 0.0
    cdef double *g = <double *> malloc(K * sizeof(double))
    if g == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            total += weights[i] * scores_loss(
                &L, multiclass, &scores[i, 0], K,
                &y_signs[i, 0] if not multiclass else NULL,
                codes[i] if multiclass else 0, g,
            )
    free(g)
    return total


cdef inline double dual_u(
    int kind, double a, double b, double inv_width, double z
) noexcept nogil:
    """``u = -phi'(z)`` of a dual point of SGD's certificate at margin ``z``:
    the hinge (margin ``a``) smoothed over ``1 / inv_width`` (``inv_width``
    0: the hinge's own, the indicator of ``z < a``), the smooth hinge (gamma
    ``a``, margin ``b``; ``inv_width = 1 / a``), the squared hinge, the
    modified Huber loss."""
    cdef double t
    if kind == HINGE or kind == SMOOTH_HINGE:
        if inv_width == 0.0:
            return 1.0 if z < a else 0.0
        t = ((a if kind == HINGE else b) - z) * inv_width
        return 0.0 if t <= 0.0 else (1.0 if t >= 1.0 else t)
    if kind == MODIFIED_HUBER and z < -1.0:
        return 4.0
    t = 1.0 - z
    return 2.0 * t if t > 0.0 else 0.0


def dual_points(
    const double[:, ::1] margins,
    const double[:, ::1] y_signs,
    const double[::1] c,
    int loss_kind,
    double a,
    double b,
    const double[::1] inv_widths,
):
    """``(M, sums)`` of the ``F`` dual points of SGD's certificate (point
    ``f`` smoothed over ``1 / inv_widths[f]``, see :func:`dual_u`).

    ``M`` ``(n, F K)``: ``c_i Y_ik u`` of every point, whose product with
    ``X`` gives each point's ``X^T beta`` at once (once its sides are scaled,
    :func:`scale_sides`); ``sums`` ``(F, K, 4)``: per point and column the
    sums of ``c_i u`` over the positive and the negative samples, then of
    ``c_i u^2``: all the dual value needs besides ``X^T beta``.
    """
    cdef Py_ssize_t n = margins.shape[0], K = margins.shape[1]
    cdef Py_ssize_t F = inv_widths.shape[0], i, k, f, side
    points = np.empty((n, F * K))
    totals = np.zeros((F, K, 4))
    cdef double[:, ::1] M = points
    cdef double[:, :, ::1] sums = totals
    cdef double u, cu, y
    with nogil:
        for i in range(n):
            for k in range(K):
                y = y_signs[i, k]
                side = 0 if y > 0.0 else 1
                for f in range(F):
                    u = dual_u(loss_kind, a, b, inv_widths[f], margins[i, k])
                    cu = c[i] * u
                    M[i, f * K + k] = cu * y
                    sums[f, k, side] += cu
                    sums[f, k, 2 + side] += cu * u
    return points, totals


def scale_sides(
    double[:, ::1] M,
    const double[:, ::1] y_signs,
    const double[:, ::1] t_pos,
    const double[:, ::1] t_neg,
):
    """``M[i, f K + k] *= t`` in place, ``t`` point ``f``'s factor of column
    ``k`` on sample ``i``'s side (``t_pos`` or ``t_neg``, ``(F, K)``)."""
    cdef Py_ssize_t n = M.shape[0], K = y_signs.shape[1], F = t_pos.shape[0]
    cdef Py_ssize_t i, k, f
    with nogil:
        for i in range(n):
            for k in range(K):
                for f in range(F):
                    M[i, f * K + k] *= (
                        t_pos[f, k] if y_signs[i, k] > 0.0 else t_neg[f, k]
                    )


cdef inline double step_size(
    int schedule, double t, double eta0, double power_t, double t0, double lam
) noexcept nogil:
    if schedule == OPTIMAL:
        return 1.0 / (lam * (t0 + t - 1.0))
    if schedule == PEGASOS:
        return 1.0 / (lam * t)
    if schedule == INVSCALING:
        # pow costs more than the rest of a short step; the common exponents
        # go through square roots (equal to pow up to rounding)
        if power_t == 0.5:
            return eta0 / sqrt(t)
        if power_t == 0.25:
            return eta0 / sqrt(sqrt(t))
        return eta0 / pow(t, power_t)
    return eta0


cdef inline void fold(
    double[:, ::1] V,
    double[:, ::1] R,
    double[:, ::1] Q,
    double *scale,
    double *alpha,
    double *norm2,
    double *u,
) noexcept nogil:
    """Move ``scale`` into ``V`` (and ``alpha V`` into ``R``): same iterate,
    same sum; the L1 bookkeeping ``Q``, ``u`` (units of ``V``) follows."""
    cdef Py_ssize_t k, j
    cdef bint l1 = Q.shape[0] > 0
    for k in range(V.shape[0]):
        for j in range(V.shape[1]):
            if alpha[0] != 0.0:
                R[k, j] += alpha[0] * V[k, j]
            V[k, j] *= scale[0]
            if l1:
                Q[k, j] *= scale[0]
    norm2[0] *= scale[0] * scale[0]
    u[0] *= scale[0]
    alpha[0] = 0.0
    scale[0] = 1.0


cdef inline double pull(
    double *v, double *q, double u, double *r, double alpha, double *norm2
) noexcept nogil:
    """Pull one entry ``v`` towards 0 by what it is owed, ``u - |q|`` on its
    side, clipped at 0; ``q`` records it, ``R`` (``r``, if given) keeps the
    lazy average's sum and ``norm2`` the squared norm."""
    cdef double z = v[0], owed, moved
    if z > 0.0:
        owed = u + q[0]
        v[0] = z - owed if z > owed else 0.0
    elif z < 0.0:
        owed = u - q[0]
        v[0] = z + owed if -z > owed else 0.0
    else:
        return 0.0
    moved = v[0] - z
    q[0] += moved
    if r != NULL:
        r[0] -= alpha * moved
    norm2[0] += v[0] * v[0] - z * z
    return moved


cdef inline void pull_row(
    Rows *X,
    Py_ssize_t i,
    double[:, ::1] V,
    double[:, ::1] Q,
    double[:, ::1] R,
    double u,
    double alpha,
    bint averaged,
    double *norm2,
) noexcept nogil:
    """:func:`pull` on the features of row ``i`` (its stored entries when
    sparse, its non-zero ones when dense: the same features either way)."""
    cdef Py_ssize_t k, j, K = V.shape[0], d = V.shape[1]
    cdef long long p
    cdef const double *x
    cdef double *r = NULL
    for k in range(K):
        if X.sparse:
            for p in range(X.indptr[i], X.indptr[i + 1]):
                j = X.indices[p]
                if averaged:
                    r = &R[k, j]
                pull(&V[k, j], &Q[k, j], u, r, alpha, norm2)
        else:
            x = X.data + i * d
            for j in range(d):
                if x[j] != 0.0:
                    if averaged:
                        r = &R[k, j]
                    pull(&V[k, j], &Q[k, j], u, r, alpha, norm2)


def settle_l1(
    double[:, ::1] V, double[:, ::1] Q, double[:, ::1] R, double[::1] scalars
):
    """Give every entry of ``V`` the L1 pull it is owed (the pass's end).

    The running sum ``alpha V + R`` of the averaged iterates is unchanged:
    the pulls owed are the current iterate's, not the past ones'.
    """
    cdef Py_ssize_t k, j
    cdef double alpha = scalars[2], u = scalars[6], norm2 = scalars[4]
    cdef double *r = NULL
    with nogil:
        for k in range(V.shape[0]):
            for j in range(V.shape[1]):
                if alpha != 0.0:
                    r = &R[k, j]
                pull(&V[k, j], &Q[k, j], u, r, alpha, &norm2)
    scalars[4] = norm2


def sgd_epoch(
    object X,
    const double[:, ::1] y_signs,
    const Py_ssize_t[::1] codes,
    const double[::1] weights,
    const double[::1] sq_norms,
    const Py_ssize_t[::1] order,
    int loss_kind,
    double a,
    double b,
    double c,
    double[:, ::1] V,
    double[::1] intercept,
    double[:, ::1] R,
    double[::1] intercept_sum,
    double[::1] scalars,
    int schedule,
    double eta0,
    double power_t,
    double t0,
    double lam_schedule,
    double lam,
    double lam_b,
    double lam_l1,
    double[:, ::1] Q,
    bint fit_intercept,
    Py_ssize_t batch_size,
    double average_start,
    double radius,
    const double[::1] step_limits,
    double min_limit,
):
    """One pass over ``order``; returns ``sum_i s_i loss_i`` at the iterates met.

    ``X`` comes from ``compiled_rows``; binary losses read ``y_signs`` (n, K),
    multiclass ones ``codes``. ``V``, ``intercept``, ``R``, ``intercept_sum``
    and ``scalars`` (module docstring) are updated in place. A step is
    averaged once ``seen`` reaches ``average_start`` (0: no averaging);
    ``radius > 0`` projects ``W`` onto the ball of that radius after each step
    (``sq_norms`` then holds ``||x_i||^2``). ``step_limits`` (empty: none)
    holds each sample's largest step for a smooth loss, ``1 / (curvature s_i
    (||x_i||^2 + [intercept]))``, the most that cannot overshoot its own
    term; steps below ``min_limit``, their minimum, skip the check.
    ``lam`` is the L2 strength (the shrink), ``lam_l1`` the L1 strength
    (the cumulative pull; ``Q`` is then ``V``'s shape, and the pass ends
    with :func:`settle_l1`), ``lam_schedule`` the ``lam`` of the
    ``"optimal"`` and ``"pegasos"`` steps.
    """
    cdef Rows rows = make_rows(X, 0.0)
    cdef LossSpec L = LossSpec(loss_kind, a, b, c)
    cdef bint multiclass = loss_kind in MULTICLASS_CODES
    cdef Py_ssize_t n = order.shape[0], K = V.shape[0], pos = 0, m, j, k, i
    cdef double scale = scalars[0], t = scalars[1], alpha = scalars[2]
    cdef double n_avg = scalars[3], norm2 = scalars[4], seen = scalars[5]
    cdef double u = scalars[6]
    cdef bint l1 = lam_l1 > 0.0
    cdef double eta, shrink, step, coef, weight, value, loss_sum = 0.0, product, norm
    cdef double alpha_prev, step_i
    cdef bint clipping = step_limits.shape[0] > 0
    cdef bint averaged
    cdef double *G
    cdef double *scores
    cdef double *g
    # the gradient buffer holds one batch; a batch larger than the pass is
    # the pass (and a size from the caller must never wrap malloc's argument)
    if l1 and (Q.shape[0] != V.shape[0] or Q.shape[1] != V.shape[1]):
        raise ValueError("sgd_epoch: Q must have V's shape when lam_l1 > 0")
    if batch_size < 1:
        raise ValueError(f"sgd_epoch: batch_size must be >= 1, got {batch_size}")
    if batch_size > n:
        batch_size = n if n > 0 else 1
    if K < 1 or batch_size > PY_SSIZE_T_MAX // (K * <Py_ssize_t> sizeof(double)):
        raise MemoryError(
            f"sgd_epoch: a batch of {batch_size} samples x {K} outputs does "
            "not fit in memory"
        )
    G = <double *> malloc(batch_size * K * sizeof(double))
    scores = <double *> malloc(K * sizeof(double))
    if G == NULL or scores == NULL:
        free(G)
        free(scores)
        raise MemoryError()
    with nogil:
        while pos < n:
            m = batch_size if n - pos > batch_size else n - pos
            if pos + m < n:
                row_prefetch(&rows, order[pos + m])
                if clipping:
                    HINGE_PREFETCH(&step_limits[order[pos + m]])
            t += 1.0
            eta = step_size(schedule, t, eta0, power_t, t0, lam_schedule)
            # gradients of the batch, all at the iterate before the step
            for j in range(m):
                i = order[pos + j]
                g = G + j * K
                weight = weights[i]
                if weight == 0.0:
                    memset(g, 0, K * sizeof(double))
                    continue
                value = sample_loss(
                    &rows, i, &L, multiclass, &V[0, 0], K, scale, &intercept[0],
                    fit_intercept, &y_signs[i, 0] if not multiclass else NULL,
                    codes[i] if multiclass else 0, scores, g,
                )
                loss_sum += weight * value
                for k in range(K):
                    g[k] *= weight
            # the L2 shrink, lazily; a step past the origin lands on it
            shrink = 1.0 - eta * lam
            if shrink <= 0.0:
                fold(V, R, Q, &scale, &alpha, &norm2, &u)
                for k in range(K):
                    for j in range(V.shape[1]):
                        V[k, j] = 0.0
                        if l1:
                            Q[k, j] = 0.0  # nothing is owed by zeros
                norm2 = 0.0
                u = 0.0
            else:
                scale *= shrink
            if fit_intercept and lam_b > 0.0:
                shrink = 1.0 - eta * lam_b
                for k in range(K):
                    intercept[k] *= shrink if shrink > 0.0 else 0.0
            averaged = average_start > 0.0 and seen + m >= average_start
            alpha_prev = alpha
            step = eta / m
            for j in range(m):
                i = order[pos + j]
                g = G + j * K
                step_i = step
                if step > min_limit and step_i > step_limits[i]:
                    step_i = step_limits[i]
                for k in range(K):
                    if g[k] == 0.0:
                        continue
                    coef = -step_i * g[k] / scale
                    if radius > 0.0:
                        product = dot(&rows, i, &V[k, 0])
                        norm2 += 2.0 * coef * product + coef * coef * sq_norms[i]
                    if averaged and alpha_prev != 0.0:
                        axpy2(&rows, i, coef, &V[k, 0], -alpha_prev * coef, &R[k, 0])
                    else:
                        axpy2(&rows, i, coef, &V[k, 0], 0.0, NULL)
                    if fit_intercept:
                        intercept[k] -= step_i * g[k]
            if l1:
                # this step's pull, then every touched feature gets its due
                u += eta * lam_l1 / scale
                for j in range(m):
                    pull_row(
                        &rows, order[pos + j], V, Q, R, u, alpha_prev,
                        averaged and alpha_prev != 0.0, &norm2,
                    )
            if radius > 0.0:
                norm = scale * sqrt(norm2 if norm2 > 0.0 else 0.0)
                if norm > radius:
                    scale *= radius / norm
            if averaged:
                alpha = alpha_prev + scale
                n_avg += 1.0
                for k in range(K):
                    intercept_sum[k] += intercept[k]
            seen += m
            if scale < MIN_SCALE:
                fold(V, R, Q, &scale, &alpha, &norm2, &u)
            pos += m
    free(G)
    free(scores)
    scalars[0] = scale
    scalars[1] = t
    scalars[2] = alpha
    scalars[3] = n_avg
    scalars[4] = norm2
    scalars[5] = seen
    scalars[6] = u
    if l1:
        settle_l1(V, Q, R, scalars)
    return loss_sum


def shuffled(Py_ssize_t n, unsigned long long seed):
    """A random permutation of ``range(n)`` (Fisher-Yates on splitmix64).

    The epochs' orders: cheaper than numpy's generator on short epochs, where
    a permutation per epoch weighs; seeded from the run's generator.
    """
    out = np.arange(n, dtype=np.intp)
    cdef Py_ssize_t[::1] order = out
    cdef Py_ssize_t i, j, tmp
    cdef unsigned long long z
    with nogil:
        for i in range(n - 1, 0, -1):
            seed += 0x9E3779B97F4A7C15ULL
            z = seed
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
            z = z ^ (z >> 31)
            # multiply-shift: an unbiased-enough index in [0, i] for i < 2^32
            j = <Py_ssize_t> (((z >> 32) * <unsigned long long> (i + 1)) >> 32)
            tmp = order[i]
            order[i] = order[j]
            order[j] = tmp
    return out
