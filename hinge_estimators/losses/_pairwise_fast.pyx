# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled sweep of the all-pairs squared hinge (Rust & Hocking).

One pass up and one pass down the sorted keys replace a dozen numpy passes
(cumulative sums, gathers, products): at n = 5000 the numpy sweep cost more
than the sort itself.
"""


def squared_hinge_sweep(
    const double[::1] v,
    const double[::1] w_pos,
    const double[::1] w_neg,
    double[::1] grad,
):
    """``sum_j w_j R_j`` and the gradient, in sorted order, of the pair sum.

    ``v`` are the sorted keys (a positive's score, a negative's score plus
    the margin); ``w_pos``/``w_neg`` the weights of the positives/negatives
    at each position (0 elsewhere). A pair (positive ``i``, negative ``j``)
    is active when ``v_i < v_j`` and costs ``(v_j - v_i)^2``. Running sums
    grow by the gaps between consecutive keys, never by differences of large
    sums, so no cancellation: going up, ``Q_p = sum_{i<p} w_i (v_p - v_i)``
    and ``R_p = sum_{i<p} w_i (v_p - v_i)^2``; going down, the negatives'
    ``sum_{j>p} w_j (v_j - v_p)``. Writes ``grad[p] = 2 (w_neg Q - w_pos
    Q_neg)`` (the caller scales it and maps it back) and returns
    ``sum_p w_neg[p] R_p``.
    """
    cdef Py_ssize_t n = v.shape[0], p
    cdef double before = 0.0, Q = 0.0, R = 0.0, gap, value = 0.0
    cdef double after = 0.0, Q_neg = 0.0
    with nogil:
        for p in range(n):
            if p > 0:
                gap = v[p] - v[p - 1]
                R += gap * (2.0 * Q + gap * before)
                Q += gap * before
            value += w_neg[p] * R
            grad[p] = 2.0 * w_neg[p] * Q
            before += w_pos[p]
        for p in range(n - 1, -1, -1):
            if p < n - 1:
                Q_neg += (v[p + 1] - v[p]) * after
            grad[p] -= 2.0 * w_pos[p] * Q_neg
            after += w_neg[p]
    return value
