"""All-pairs smoothed hinge (Huberized, width ``gamma``) in O(n log n)."""

import numpy as np

from ._base import PairwiseLoss, pair_groups, running_sum
from ._pairwise_fast import smooth_hinge_sweep


class PairwiseSmoothHinge(PairwiseLoss):
    """Quadratically smoothed hinge over all (positive, negative) pairs.

    The ranking counterpart of :class:`SmoothHinge`: quadratic for small
    violations, linear for large ones, so that a mislabelled sample, which
    is paired with every sample of the other class, pulls on the fit with a
    bounded force instead of one that grows with its violation as in
    :class:`PairwiseSquaredHinge`.

    Parameters
    ----------
    gamma : float, default=1.0
        Width of the quadratic band (the gradient is ``1 / gamma``-Lipschitz
        in each pair's score difference). Small values approach the all-pairs
        hinge, the convex relaxation of ``1 - AUC`` used by SVMperf.
    margin : float, default=1.0
        ``m``: a pair costs nothing once the positive's score exceeds the
        negative's by at least ``m``.

    Notes
    -----
    With positives :math:`P`, negatives :math:`N`, weights :math:`w`, class
    totals :math:`W_P, W_N`, :math:`W = W_P + W_N`, the violation
    :math:`d_{ij} = m - (s_i - s_j)` and the smoothed positive part
    :math:`\\psi_\\gamma` (0 for :math:`d \\le 0`, :math:`d^2 / (2\\gamma)` on
    :math:`(0, \\gamma)`, :math:`d - \\gamma / 2` beyond):

    .. math:: L(s) = \\frac{W}{W_P W_N} \\sum_{i \\in P} \\sum_{j \\in N}
              w_i w_j \\, \\psi_\\gamma(d_{ij}),

    with :math:`[d]_+ - \\gamma/2 \\le \\psi_\\gamma(d) \\le [d]_+`.

    **Value and gradient in** :math:`O(n \\log n)`: sort each class by score,
    then one compiled pass up and one down. Going up, the sorted positives'
    keys :math:`s_i` and :math:`s_i + \\gamma` (where they enter and leave
    the quadratic band of a negative's key :math:`a_j = s_j + m`) are merged
    with the sorted :math:`a_j`; the positives in the band carry running sums
    :math:`\\sum w_i (v - s_i)` and :math:`\\sum w_i (v - s_i)^2` grown by the
    gaps between keys, as in :class:`PairwiseSquaredHinge`, and those past
    it :math:`\\sum w_i` and :math:`\\sum w_i (v - s_i - \\gamma)`; a negative
    reads its value and derivative
    :math:`\\partial L / \\partial s_j \\propto w_j \\sum_i w_i
    \\operatorname{clip}(d_{ij} / \\gamma, 0, 1)` from them. The descending
    pass over the negatives gives the positives' derivatives. Band sums only
    hold terms below :math:`\\gamma` and are reset whenever the band empties:
    an exit subtracts what its own sample added, never a sum over the class,
    so the rounding left is that of forming each violation from the scores
    (a unit in their last place, as in the naive sum over pairs). A
    ``gamma`` within a few such units of 0 makes the band vanish in floating
    point.

    **Generalized Hessian**: :math:`\\psi_\\gamma'' = 1/\\gamma` on the open
    band :math:`0 < d_{ij} < \\gamma` and 0 elsewhere, so
    :math:`(Hv)_i = \\frac{W}{\\gamma W_P W_N} w_i \\sum_{j:\\, 0 < d_{ij} <
    \\gamma} w_j (v_i - v_j)`; each sample's band is an interval of the other
    class's sorted keys (two binary searches on the same rounded keys from
    both sides, so that :math:`H` is symmetric), and a product is
    :math:`O(n)` from running sums of :math:`w` and :math:`w v` (a window is
    a difference of two running sums, exact to rounding relative to the
    class's sums, which is ample for conjugate gradients). Like every
    pairwise loss it is invariant to a common shift of the scores.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import PairwiseSmoothHinge
    >>> y = np.array([1.0, -1.0])  # one positive, one negative
    >>> # W / (W_P W_N) = 2 times the pair's cost (1 - 0.5)^2 / (2 gamma)
    >>> PairwiseSmoothHinge(gamma=1.0).pair_loss(y, np.array([0.5, 0.0]))
    0.25
    """

    is_piecewise_quadratic = True

    _constraints = {"gamma": "positive", "margin": "nonnegative"}

    def __init__(self, gamma=1.0, margin=1.0):
        self.gamma = gamma
        self.margin = margin

    def smoothness(self, n_outputs=1):
        """Supremum of ``psi''``: ``1 / gamma``."""
        return 1.0 / self.gamma

    def pair_loss_gradient(self, y, scores, sample_weight=None):
        """Value and gradient in O(n log n); see Notes."""
        g = pair_groups(y, scores, sample_weight)
        grad = np.zeros(np.shape(scores))
        if not g.factor:
            return 0.0, grad
        pos, neg = _sorted_classes(g)
        s_pos, a_neg = g.scores[pos], g.scores[neg] + self.margin
        grad_pos, grad_neg = np.empty(pos.size), np.empty(neg.size)
        value = smooth_hinge_sweep(
            s_pos,
            g.weights[pos],
            a_neg,
            g.weights[neg],
            float(self.gamma),
            grad_pos,
            grad_neg,
        )
        flat = grad.reshape(-1)
        flat[pos] = g.factor * grad_pos
        flat[neg] = g.factor * grad_neg
        return float(g.factor * value), grad

    def pair_hessian_operator(self, y, scores, sample_weight=None):
        """``v -> H v``: two sorts and binary searches here, O(n) per product."""
        g = pair_groups(y, scores, sample_weight)
        if not g.factor:
            return lambda v: np.zeros(np.size(v))
        gamma = float(self.gamma)
        pos_order, neg_order = _sorted_classes(g)
        s_pos = g.scores[pos_order]
        a_neg = g.scores[neg_order] + self.margin
        # the open band s_i < a_j < s_i + gamma, seen from either side with
        # the same rounded keys, so that H stays symmetric (s + gamma is
        # non-decreasing in s, hence sorted too)
        e_pos = s_pos + gamma
        neg_lo = np.searchsorted(e_pos, a_neg, side="right")
        neg_hi = np.searchsorted(s_pos, a_neg, side="left")
        pos_lo = np.searchsorted(a_neg, s_pos, side="right")
        pos_hi = np.searchsorted(a_neg, e_pos, side="left")
        w_pos, w_neg = g.weights[pos_order], g.weights[neg_order]
        pos_band = _window(running_sum(w_neg), pos_lo, pos_hi)
        neg_band = _window(running_sum(w_pos), neg_lo, neg_hi)
        scale = g.factor / gamma

        def product(direction):
            v = np.asarray(direction, dtype=np.float64).reshape(-1)
            v_pos, v_neg = v[pos_order], v[neg_order]
            out = np.zeros_like(v)
            out[pos_order] = (
                scale
                * w_pos
                * (
                    pos_band * v_pos
                    - _window(running_sum(w_neg * v_neg), pos_lo, pos_hi)
                )
            )
            out[neg_order] = (
                scale
                * w_neg
                * (
                    neg_band * v_neg
                    - _window(running_sum(w_pos * v_pos), neg_lo, neg_hi)
                )
            )
            return out

        return product


def _sorted_classes(groups):
    """Indices of the positives and of the negatives, each by ascending score."""
    # stable: a merge sort, about twice as fast as the default quicksort on
    # random floats (benchmarks/bench_pairwise.py)
    pos = groups.pos[np.argsort(groups.scores[groups.pos], kind="stable")]
    neg = groups.neg[np.argsort(groups.scores[groups.neg], kind="stable")]
    return pos, neg


def _window(running, lo, hi):
    """``sum(values[lo:hi])`` for each ``(lo, hi)``, from ``running_sum(values)``."""
    return np.where(hi > lo, running[hi] - running[np.minimum(lo, hi)], 0.0)
