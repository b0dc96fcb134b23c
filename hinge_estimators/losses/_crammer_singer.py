"""Crammer-Singer multiclass hinge loss (LIBLINEAR's ``-s 4``)."""

import numpy as np

from ._base import CompiledLoss, DualForm, Loss, MulticlassDual


class CrammerSinger(Loss):
    """Crammer-Singer multiclass hinge: one hinge on the worst wrong class.

    Parameters
    ----------
    delta : float, default=1.0
        Required gap between the true-class score and the best other score.
    squared : bool, default=False
        Square the hinge (the L2-loss version of Lee & Lin, 2013).
    smoothing : float, default=0.0
        If positive, replace the max by its Euclidean (sparsemax) smoothing
        with parameter ``smoothing``, a lower approximation.

    Notes
    -----
    With ``e_r = delta`` for ``r != y`` and ``e_y = 0``,

    .. math:: h(y, s) = \\max_r (e_r + s_r) - s_y
              = [\\delta + \\max_{r \\ne y} s_r - s_y]_+ ,

    and the loss is ``h`` (plain) or ``h^2`` (squared). The subgradient
    returned where ``h > 0`` is ``+1`` at the first maximizer ``r* != y`` and
    ``-1`` at ``y`` (times ``2 h`` when squared), and 0 where ``h = 0``.

    The squared loss is NOT differentiable where two violating classes tie for
    the max (a max of smooth functions has a kink there), so it is declared
    non-smooth, unlike the squared :class:`WestonWatkins` loss (a sum of squared
    hinges). ``W = 0`` is such a tie for every sample: all ``K - 1`` wrong
    classes have margin ``delta``.

    With ``smoothing = mu > 0`` the max is smoothed with a Euclidean prox
    term (Nesterov smoothing; the maximizer is the sparsemax projection):

    .. math:: h_\\mu = \\max_{p \\in \\Delta} \\left[\\langle p, e + s \\rangle
              - \\tfrac{\\mu}{2}\\|p\\|^2\\right] - s_y \\in
              [h - \\mu/2,\\ h - \\mu/(2K)],

    a lower approximation. Its gradient ``p - e_y`` is exact (a vertex ``p``)
    for every sample whose max is ahead by more than ``mu``, so the smoothed
    optimum differs from the true one only through near-ties, and the support
    of ``p`` reveals the ties for :meth:`max_hinge_terms`' exact polish. The
    loss is ``h_mu`` (plain; it may be slightly negative) or ``[h_mu]_+^2``
    (squared). The plain Hessian is ``(I_S - 1_S 1_S^T / |S|) / mu`` on the
    support ``S`` of ``p``, eigenvalues at most ``1 / mu`` (``smoothness``);
    the squared smoothed gradient is only locally Lipschitz (its Hessian grows
    with ``h_mu``), so its ``smoothness`` is ``inf``.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import CrammerSinger
    >>> scores = np.array([[1.0, 0.5, 0.8]])  # one sample, true class 0
    >>> CrammerSinger().loss(np.array([0]), scores).tolist()  # 1 + 0.8 - 1
    [0.8]
    """

    is_multiclass = True
    _constraints = {"delta": "positive", "squared": "bool", "smoothing": "nonnegative"}

    def __init__(self, delta=1.0, squared=False, smoothing=0.0):
        self.delta = delta
        self.squared = squared
        self.smoothing = smoothing

    @property
    def is_smooth(self):
        return self.smoothing > 0

    @property
    def infimum(self):
        # h_mu >= h - mu/2 >= -mu/2, attained when the true class is ahead
        # of every other by more than delta + mu (p = e_y); the squared loss
        # clips at 0
        return -0.5 * self.smoothing if not self.squared else 0.0

    def _shifted(self, y, scores):
        """``e + s - s_y`` (n, K): its max is ``h`` and its ``y`` entry is 0."""
        scores = np.asarray(scores, dtype=float)
        rows = np.arange(scores.shape[0])
        y = np.asarray(y).astype(np.intp)
        shifted = self.delta + scores - scores[rows, y][:, None]
        shifted[rows, y] = 0.0
        return shifted, rows, y

    def _smoothed_parts(self, y, scores):
        shifted, rows, y = self._shifted(y, scores)
        mu = self.smoothing
        p, tau = sparsemax(shifted, mu)
        # <p, v> - mu/2 ||p||^2 = tau + sum_S (v - tau)^2 / (2 mu) on the support
        # S (as sum p = 1): no cancellation even when mu is far below |v|
        excess = np.maximum(shifted - tau[:, None], 0.0)
        h = tau + np.einsum("ij,ij->i", excess, excess) / (2.0 * mu)
        g = p.copy()
        g[rows, y] -= 1.0
        return h, p, g

    def loss(self, y, scores):
        if self.smoothing > 0:
            return self.loss_gradient(y, scores)[0]
        # the value alone, without the gradient's arrays: dual CD's duality
        # gap reads it at every check (on penbased, 10,992 x 10 scores, the
        # gradient's argmax and scatter were half the cost of a check)
        scores = np.asarray(scores, dtype=float)
        rows = np.arange(scores.shape[0])
        y = np.asarray(y).astype(np.intp)
        true = scores[rows, y]
        # max_r (e_r + s_r) with e_y = 0 is at least s_y: h = that - s_y >= 0
        raised = scores + self.delta
        raised[rows, y] = true
        h = raised.max(axis=1) - true
        return h * h if self.squared else h

    def gradient(self, y, scores):
        return self.loss_gradient(y, scores)[1]

    def loss_gradient(self, y, scores):
        if self.smoothing > 0:
            h, _, g = self._smoothed_parts(y, scores)
            if not self.squared:
                return h, g
            pos = np.maximum(h, 0.0)
            return pos * pos, 2.0 * pos[:, None] * g
        shifted, rows, y = self._shifted(y, scores)
        h = np.maximum(shifted.max(axis=1), 0.0)
        # First maximizer among the wrong classes; when h > 0 it is a global one.
        shifted[rows, y] = -np.inf
        top = np.argmax(shifted, axis=1)
        coef = np.where(h > 0, 2.0 * h if self.squared else 1.0, 0.0)
        grad = np.zeros(shifted.shape)
        grad[rows, top] += coef
        grad[rows, y] -= coef
        return (h * h if self.squared else h), grad

    def hessian_product(self, y, scores, direction):
        if not self.is_smooth:
            return Loss.hessian_product(self, y, scores, direction)
        h, p, g = self._smoothed_parts(y, scores)
        direction = np.asarray(direction, dtype=float)
        # Jacobian of the sparsemax: projection onto {sum = 0} within the support
        support = p > 0
        on_support = np.where(support, direction, 0.0)
        mean = on_support.sum(axis=1, keepdims=True) / support.sum(
            axis=1, keepdims=True
        )
        curvature = np.where(support, direction - mean, 0.0) / self.smoothing
        if not self.squared:
            return curvature
        pos = np.maximum(h, 0.0)[:, None]
        gv = (g * direction).sum(axis=1, keepdims=True)
        return 2.0 * (pos > 0) * gv * g + 2.0 * pos * curvature

    def compiled_kernel(self):
        if self.smoothing > 0:
            return None
        return CompiledLoss(
            "crammer_singer", a=float(self.delta), b=float(self.squared)
        )

    def smoothness(self, n_outputs=1):
        if self.smoothing > 0 and not self.squared:
            return 1.0 / self.smoothing
        return np.inf

    def step_curvature(self, n_outputs=1):
        # squared: between ties the Hessian is 2 (e_r - e_y)(e_r - e_y)^T,
        # top eigenvalue 4; the plain loss is Lipschitz
        if self.squared and self.smoothing == 0:
            return 4.0
        return self.smoothness(n_outputs)

    def smoothed(self, mu):
        if self.smoothing > 0:
            return None
        return CrammerSinger(delta=self.delta, squared=self.squared, smoothing=mu)

    def dual_form(self):
        if self.smoothing > 0:
            return None
        return DualForm(multiclass=True, margin=float(self.delta), squared=self.squared)

    def multiclass_dual(self):
        if self.smoothing > 0:
            return None
        return MulticlassDual(
            simplex=True, margin=float(self.delta), quadratic=bool(self.squared)
        )

    def max_hinge_terms(self, y, scores):
        """Terms ``u_t = delta + s_r - s_y`` (one per wrong class ``r``).

        The plain, unsmoothed loss is ``[max_t u_t]_+`` over each sample's
        terms; returns ``(sample_index, A, c)`` as ``hinge_terms`` does, or
        ``None`` for the squared or smoothed loss.
        """
        if self.squared or self.smoothing > 0:
            return None
        scores = np.asarray(scores, dtype=float)
        n, k = scores.shape
        y = np.asarray(y).astype(np.intp)
        wrong = np.ones((n, k), dtype=bool)
        wrong[np.arange(n), y] = False
        sample, cls = np.nonzero(wrong)
        a = np.zeros((sample.size, k))
        a[np.arange(sample.size), cls] = 1.0
        a[np.arange(sample.size), y[sample]] = -1.0
        return sample, a, np.full(sample.size, float(self.delta))


def sparsemax(v, mu=1.0):
    """Row-wise Euclidean projection of ``v / mu`` onto the probability simplex.

    Returns ``(p, tau)`` with ``p = max(v - tau, 0) / mu``; ``tau`` is computed
    in the units of ``v`` so that a small ``mu`` costs no precision in it.
    """
    k = v.shape[1]
    ordered = -np.sort(-v, axis=1)
    cumulative = np.cumsum(ordered, axis=1) - mu
    steps = np.arange(1, k + 1)
    inside = ordered - cumulative / steps > 0
    count = k - np.argmax(inside[:, ::-1], axis=1)  # last index still inside
    tau = cumulative[np.arange(v.shape[0]), count - 1] / count
    return np.maximum(v - tau[:, None], 0.0) / mu, tau
