"""All-pairs square loss ``(m - (s_i - s_j))^2`` in O(n)."""

import numpy as np

from ._base import PairwiseLoss, all_pairs_product, pair_groups


class PairwiseSquare(PairwiseLoss):
    """Square loss over all (positive, negative) pairs.

    Parameters
    ----------
    margin : float, default=1.0
        ``m``, the score difference every pair is pulled towards.

    Notes
    -----
    With positives :math:`P` (``y = +1``), negatives :math:`N`, weights
    :math:`w` and class totals :math:`W_P, W_N`, :math:`W = W_P + W_N`:

    .. math:: L(s) = \\frac{W}{W_P W_N} \\sum_{i \\in P} \\sum_{j \\in N}
              w_i w_j \\left(m - (s_i - s_j)\\right)^2 .

    Unlike the squared hinge it also penalises pairs ranked right by more
    than ``m`` (a least-squares fit of every difference to ``m``). Writing
    :math:`t_i = m - s_i`, :math:`u_j = s_j` and :math:`\\bar t, \\bar u` for
    the weighted class means, the cross terms vanish and

    .. math:: \\sum_{P \\times N} w_i w_j (t_i + u_j)^2
              = W_N \\sum_P w_i (t_i - \\bar t)^2 + W_P \\sum_N w_j (u_j - \\bar u)^2
              + W_P W_N (\\bar t + \\bar u)^2,

    a sum of non-negative terms computed in :math:`O(n)` (Rust & Hocking's
    functional representation of the square loss, centred so that no digits
    cancel). The gradient is
    :math:`\\partial L / \\partial s_i = -\\frac{2W}{W_P} w_i (t_i + \\bar u)`
    for a positive and :math:`\\frac{2W}{W_N} w_j (\\bar t + u_j)` for a
    negative; the Hessian is constant, twice the Laplacian of the complete
    weighted pair graph (times :math:`W / (W_P W_N)`), so the generalized
    Hessian of :class:`PairwiseSquaredHinge` never exceeds it.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import PairwiseSquare
    >>> y = np.array([1.0, -1.0])  # one positive, one negative
    >>> # W / (W_P W_N) = 2 times the pair's cost (1 - 0.5)^2
    >>> PairwiseSquare().pair_loss(y, np.array([0.5, 0.0]))
    0.5
    """

    is_piecewise_quadratic = True

    def pair_loss_gradient(self, y, scores, sample_weight=None):
        """Value and gradient in O(n); see Notes."""
        g = pair_groups(y, scores, sample_weight)
        grad = np.zeros(np.shape(scores))
        if g.factor == 0.0:
            return 0.0, grad
        wp, wn = g.weights[g.pos], g.weights[g.neg]
        t = self.margin - g.scores[g.pos]
        u = g.scores[g.neg]
        t_mean, u_mean = (wp @ t) / g.w_pos, (wn @ u) / g.w_neg
        raw = (
            g.w_neg * (wp @ np.square(t - t_mean))
            + g.w_pos * (wn @ np.square(u - u_mean))
            + g.w_pos * g.w_neg * (t_mean + u_mean) ** 2
        )
        flat = grad.reshape(-1)
        flat[g.pos] = -2.0 * g.factor * g.w_neg * wp * (t + u_mean)
        flat[g.neg] = 2.0 * g.factor * g.w_pos * wn * (t_mean + u)
        return float(g.factor * raw), grad

    def pair_hessian_operator(self, y, scores, sample_weight=None):
        """``v -> H v``, the same constant matrix at every ``scores``."""
        groups = pair_groups(y, scores, sample_weight)
        return lambda v: all_pairs_product(groups, v, 2.0)
