"""All-pairs squared hinge ``[m - (s_i - s_j)]_+^2`` in O(n log n) (Rust & Hocking)."""

import numpy as np

from ._base import PairwiseLoss, pair_groups, running_sum
from ._pairwise_fast import squared_hinge_sweep


class PairwiseSquaredHinge(PairwiseLoss):
    """Squared hinge over all (positive, negative) pairs: an AUC surrogate.

    Parameters
    ----------
    margin : float, default=1.0
        ``m``: a pair costs nothing once the positive's score exceeds the
        negative's by at least ``m``.

    Notes
    -----
    With positives :math:`P` (``y = +1``), negatives :math:`N`, weights
    :math:`w`, :math:`W_P = \\sum_P w_i`, :math:`W_N = \\sum_N w_j`,
    :math:`W = W_P + W_N`:

    .. math:: L(s) = \\frac{W}{W_P W_N} \\sum_{i \\in P} \\sum_{j \\in N}
              w_i w_j \\left[m - (s_i - s_j)\\right]_+^2 ,

    a convex relaxation of :math:`W (1 - \\mathrm{AUC})` (the weighted
    Mann-Whitney statistic). Pair :math:`(i, j)` is *active* when
    :math:`a_j = s_j + m > s_i`; a tie :math:`s_i - s_j = m` contributes 0, to
    the value, the gradient and the Hessian.

    **Value and gradient in** :math:`O(n \\log n)` (Rust & Hocking,
    arXiv:2302.11062, with a closed-form gradient). Sort the keys
    :math:`v = s_i` (positives) and :math:`v = a_j` (negatives) together,
    once, and sweep them in ascending order, accumulating from non-negative
    increments (:math:`\\Delta_k = v_k - v_{k-1} \\ge 0`) the weight
    :math:`P_k` of the positives at or before position :math:`k` and

    .. math:: Q_k = \\sum_{i \\in P,\\, l_i < k} w_i (v_k - s_i)
              = Q_{k-1} + \\Delta_k P_{k-1},

    .. math:: R_k = \\sum_{i \\in P,\\, l_i < k} w_i (v_k - s_i)^2
              = R_{k-1} + 2 \\Delta_k Q_{k-1} + \\Delta_k^2 P_{k-1}

    (:math:`l_i` the position of :math:`i`). A negative :math:`j` at position
    :math:`k` sees exactly its active positives (those with :math:`s_i < a_j`;
    a tie adds :math:`w_i (a_j - s_i) = 0` whichever side it is sorted on), so

    .. math:: L = \\frac{W}{W_P W_N} \\sum_{j \\in N} w_j R_{k_j}, \\qquad
              \\frac{\\partial L}{\\partial s_j} = \\frac{2 W}{W_P W_N} w_j Q_{k_j}.

    The positives' gradient
    :math:`-\\frac{2 W w_i}{W_P W_N} \\sum_{j:\\, a_j > s_i} w_j (a_j - s_i)`
    is the mirror sweep in descending order over the negatives' weights.
    Every sum has non-negative terms, so nothing cancels: the expanded form
    :math:`a^2 \\sum w - 2a \\sum w s + \\sum w s^2` would lose every digit
    when the violations are small next to the scores.

    **Generalized Hessian** (:math:`\\phi'' = 2` on active pairs, 0 at ties,
    as LIBLINEAR's for the squared hinge):
    :math:`(Hv)_i = \\frac{2W}{W_P W_N} w_i \\sum_{j \\text{ active}}
    w_j (v_i - v_j)`, from the same sorted sweep with running sums of
    :math:`w` and :math:`w v`; here ties matter, and a block of equal keys is
    located by binary search so that a tie stays inactive. :math:`O(n)` per
    product after :math:`O(n \\log n)` once per point. The loss is invariant
    to a common shift of the scores (the gradient sums to 0,
    :math:`H \\mathbf 1 = 0`).

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import PairwiseSquaredHinge
    >>> y = np.array([1.0, -1.0])  # one positive, one negative
    >>> scores = np.array([0.5, 0.0])  # ranked right, inside the margin
    >>> # W / (W_P W_N) = 2 times the pair's cost (1 - 0.5)^2
    >>> PairwiseSquaredHinge().pair_loss(y, scores)
    0.5
    """

    is_piecewise_quadratic = True

    def pair_loss(self, y, scores, sample_weight=None):
        """The loss alone (the same compiled sweep)."""
        sweep = _Sweep(pair_groups(y, scores, sample_weight), self.margin)
        return sweep.value() if sweep.factor else 0.0

    def pair_loss_gradient(self, y, scores, sample_weight=None):
        """Value and gradient in O(n log n); see Notes."""
        sweep = _Sweep(pair_groups(y, scores, sample_weight), self.margin)
        if not sweep.factor:
            return 0.0, np.zeros(np.shape(scores))
        value, grad = sweep.value_gradient()
        return value, grad.reshape(np.shape(scores))

    def pair_hessian_operator(self, y, scores, sample_weight=None):
        """``v -> H v``: one sort here, O(n) running sums per product."""
        sweep = _Sweep(pair_groups(y, scores, sample_weight), self.margin)
        if not sweep.factor:
            return lambda v: np.zeros(np.size(v))
        return sweep.hessian_operator()


class _Sweep:
    """Positives' scores and negatives' ``a_j = s_j + m``, sorted together once."""

    def __init__(self, groups, margin):
        self.factor = groups.factor
        if not self.factor:
            return
        keys = np.where(groups.is_pos, groups.scores, groups.scores + margin)
        # stable: a merge sort, also about twice as fast as the default
        # quicksort on random floats (benchmarks/bench_pairwise.py)
        self.order = np.argsort(keys, kind="stable")
        self.v = keys[self.order]
        w = groups.weights[self.order]
        self.w_pos = np.where(groups.is_pos[self.order], w, 0.0)
        self.w_neg = w - self.w_pos  # exactly w or 0

    def value(self):
        return self.value_gradient()[0]

    def value_gradient(self):
        # the same running sums as _ascending (and their mirror image over the
        # negatives sorted after each position), in one compiled pass each way
        sorted_grad = np.empty_like(self.v)
        value = squared_hinge_sweep(self.v, self.w_pos, self.w_neg, sorted_grad)
        grad = np.empty_like(sorted_grad)
        grad[self.order] = self.factor * sorted_grad
        return float(self.factor * value), grad

    def hessian_operator(self):
        n = self.v.size
        if np.any(np.diff(self.v) == 0.0):
            # a pair whose keys tie is inactive: count only the positives
            # strictly below and the negatives strictly above each block
            lo = np.searchsorted(self.v, self.v, side="left")
            hi = np.searchsorted(self.v, self.v, side="right")
        else:
            lo, hi = np.arange(n), np.arange(1, n + 1)
        below = running_sum(self.w_pos)[lo]  # positives' weight strictly below
        above = np.append(_reverse_cumsum(self.w_neg), 0.0)[hi]
        order, w_pos, w_neg = self.order, self.w_pos, self.w_neg
        scale = 2.0 * self.factor

        def product(direction):
            v = np.asarray(direction, dtype=np.float64).reshape(-1)[order]
            v_below = running_sum(w_pos * v)[lo]
            v_above = np.append(_reverse_cumsum(w_neg * v), 0.0)[hi]
            out = np.empty_like(v)
            out[order] = scale * (
                w_neg * (v * below - v_below) + w_pos * (v * above - v_above)
            )
            return out

        return product


def _reverse_cumsum(values):
    """``out[k] = values[k:].sum()``."""
    return np.cumsum(values[::-1])[::-1]
