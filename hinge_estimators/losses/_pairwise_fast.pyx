# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled sweeps of the all-pairs squared and smoothed hinges (Rust & Hocking).

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



def smooth_hinge_sweep(
    const double[::1] s_pos,
    const double[::1] w_pos,
    const double[::1] a_neg,
    const double[::1] w_neg,
    double gamma,
    double[::1] grad_pos,
    double[::1] grad_neg,
):
    """Value and gradient of the all-pairs smoothed hinge, by two merges.

    A pair (positive ``i``, negative ``j``) with ``d = a_j - s_i`` costs 0 for
    ``d <= 0``, ``d^2 / (2 gamma)`` on ``(0, gamma)`` and ``d - gamma / 2``
    beyond. ``s_pos`` are the positives' scores and ``a_neg`` the negatives'
    ``s_j + m``, each sorted ascending, with their weights.

    Going up, three sorted streams are merged: the positives entering the
    band at ``s_i``, leaving it at ``e_i = s_i + gamma``, and the negatives.
    Over the positives in the band ``B = sum w_i``, ``Qb = sum w_i (v - s_i)``
    and ``Rb = sum w_i (v - s_i)^2`` grow by the gaps between keys; an exit
    removes what its positive added, ``w width`` and ``w width^2`` with
    ``width = e_i - s_i`` as rounded, and an empty band is reset to 0 so that
    rounding cannot build up from one band to the next. The positives past
    the band add ``L = sum w_i`` and ``QL = sum w_i (v - e_i)``. A negative
    costs ``w_j (Rb / (2 gamma) + QL + L gamma / 2)`` and its derivative is
    ``w_j (Qb / gamma + L)``. Going down is the mirror image over the
    negatives (band ``(v, v + gamma)``, leaving at ``a_j - gamma``) and gives
    each positive ``-w_i (Qn / gamma + Ln)``. The loss is C^1, so the order
    of tied keys changes no number, except that an element enters before it
    leaves (``width`` may round to 0). The band's far end is ``s_i + gamma``
    going up and ``a_j - gamma`` going down, the same up to one rounding of
    the scores: for ``gamma`` within a few units in the last place of the
    scores the two passes may disagree by that much. Writes the unscaled
    gradients in the sorted orders and returns the unscaled value.
    """
    cdef Py_ssize_t n_pos = s_pos.shape[0], n_neg = a_neg.shape[0]
    cdef Py_ssize_t entered = 0, left = 0, k = 0
    cdef int event
    cdef double B = 0.0, Qb = 0.0, Rb = 0.0, L = 0.0, QL = 0.0
    cdef double value = 0.0, half = 0.5 * gamma, inv = 1.0 / gamma
    cdef double key, cur, next_exit, gap, width
    cdef double INF = float("inf")
    if n_pos == 0 or n_neg == 0:
        return 0.0
    with nogil:
        cur = s_pos[0] if s_pos[0] < a_neg[0] else a_neg[0]
        while k < n_neg:
            next_exit = s_pos[left] + gamma if left < entered else INF
            # ties: an entry first (it adds 0 there), then an exit
            if (
                entered < n_pos
                and s_pos[entered] <= next_exit
                and s_pos[entered] <= a_neg[k]
            ):
                event = 0
                key = s_pos[entered]
            elif left < entered and next_exit <= a_neg[k]:
                # (left < entered: with a_j = +inf, INF <= a_j holds too)
                event = 1
                key = next_exit
            else:
                event = 2
                key = a_neg[k]
            gap = key - cur
            Rb += gap * (2.0 * Qb + gap * B)
            Qb += gap * B
            QL += gap * L
            cur = key
            if event == 0:
                B += w_pos[entered]
                entered += 1
            elif event == 1:
                if left + 1 == entered:
                    B = 0.0
                    Qb = 0.0
                    Rb = 0.0
                else:
                    width = next_exit - s_pos[left]
                    B -= w_pos[left]
                    Qb -= w_pos[left] * width
                    Rb -= w_pos[left] * width * width
                L += w_pos[left]
                left += 1
            else:
                value += w_neg[k] * (0.5 * inv * Rb + QL + half * L)
                grad_neg[k] = w_neg[k] * (inv * Qb + L)
                k += 1
        # going down: negatives enter at a_j and leave at a_j - gamma
        B = 0.0
        Qb = 0.0
        L = 0.0
        entered = n_neg - 1
        left = n_neg - 1
        k = n_pos - 1
        cur = s_pos[k] if s_pos[k] > a_neg[entered] else a_neg[entered]
        while k >= 0:
            next_exit = a_neg[left] - gamma if left > entered else -INF
            if (
                entered >= 0
                and a_neg[entered] >= next_exit
                and a_neg[entered] >= s_pos[k]
            ):
                event = 0
                key = a_neg[entered]
            elif left > entered and next_exit >= s_pos[k]:
                event = 1
                key = next_exit
            else:
                event = 2
                key = s_pos[k]
            Qb += (cur - key) * B
            cur = key
            if event == 0:
                B += w_neg[entered]
                entered -= 1
            elif event == 1:
                if left - 1 == entered:
                    B = 0.0
                    Qb = 0.0
                else:
                    B -= w_neg[left]
                    Qb -= w_neg[left] * (a_neg[left] - next_exit)
                L += w_neg[left]
                left -= 1
            else:
                grad_pos[k] = -w_pos[k] * (inv * Qb + L)
                k -= 1
    return value
