"""Weston-Watkins multiclass hinge loss (CS231n's "multiclass SVM loss")."""

import numpy as np

from ._base import CompiledLoss, Loss, MulticlassDual, smooth_plus


class WestonWatkins(Loss):
    """Weston-Watkins multiclass hinge: one hinge per wrong class.

    Parameters
    ----------
    delta : float, default=1.0
        Required gap between the true-class score and every other score.
    squared : bool, default=False
        Square each hinge term (the L2-loss version, smooth).
    smoothing : float, default=0.0
        If positive, replace each hinge term ``[M]_+`` by its quadratic
        smoothing ``smooth_plus(M, smoothing)`` (see :func:`smooth_plus`). Only
        for the plain loss: ``squared=True`` with ``smoothing > 0`` is rejected.

    Notes
    -----
    For sample ``i`` with scores ``s`` and class code ``y``, the margins are
    ``M_j = delta + s_j - s_y`` for ``j != y`` and

    .. math:: \\ell(y, s) = \\sum_{j \\ne y} [M_j]_+ \\quad\\text{(plain)}, \\qquad
              \\sum_{j \\ne y} [M_j]_+^2 \\quad\\text{(squared)}.

    The gradient has entries ``f'(M_j)`` for ``j != y`` and minus their sum at
    ``y``; for the plain loss ``f'(M_j) = 1[M_j >= 0]`` (active at equality,
    like :class:`Hinge`). The Hessian is ``sum_j f''(M_j) (e_j - e_y)(e_j -
    e_y)^T``, whose largest eigenvalue is at most ``K max f''``: the star graph
    Laplacian ``sum_j (e_j - e_y)(e_j - e_y)^T`` has top eigenvalue ``K``. Hence
    ``smoothness`` is ``2 K`` (squared) or ``K / smoothing`` (smoothed).

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import WestonWatkins
    >>> scores = np.array([[1.0, 0.5, 0.8]])  # one sample, true class 0
    >>> WestonWatkins().loss(np.array([0]), scores).round(12).tolist()  # 0.5 + 0.8
    [1.3]
    """

    is_multiclass = True
    _constraints = {"delta": "positive", "squared": "bool", "smoothing": "nonnegative"}

    def __init__(self, delta=1.0, squared=False, smoothing=0.0):
        self.delta = delta
        self.squared = squared
        self.smoothing = smoothing

    @property
    def is_smooth(self):
        return bool(self.squared) or self.smoothing > 0

    @property
    def is_piecewise_quadratic(self):
        # squared hinges, or hinges smoothed quadratically: both are smooth
        return self.is_smooth

    def validate(self):
        super().validate()
        if self.squared and self.smoothing > 0:
            raise ValueError(
                f"{type(self).__name__}: parameters 'squared' and 'smoothing' "
                "cannot be combined (the squared loss is already smooth); got "
                f"squared={self.squared!r}, smoothing={self.smoothing!r}."
            )
        return self

    def _margins(self, y, scores):
        """Margins ``M`` (n, K) and the mask of the wrong classes ``j != y``."""
        scores = np.asarray(scores, dtype=float)
        rows = np.arange(scores.shape[0])
        y = np.asarray(y).astype(np.intp)
        margins = self.delta + scores - scores[rows, y][:, None]
        others = np.ones(scores.shape, dtype=bool)
        others[rows, y] = False
        return margins, others, rows, y

    def _terms(self, margins):
        """Per-term value, slope and curvature of ``f(M)``."""
        if self.smoothing > 0:
            return smooth_plus(margins, self.smoothing)
        pos = np.maximum(margins, 0.0)
        if self.squared:
            return pos * pos, 2.0 * pos, np.where(margins > 0, 2.0, 0.0)
        return pos, np.where(margins >= 0, 1.0, 0.0), None

    def loss(self, y, scores):
        margins, others, _, _ = self._margins(y, scores)
        return np.where(others, self._terms(margins)[0], 0.0).sum(axis=1)

    def gradient(self, y, scores):
        return self.loss_gradient(y, scores)[1]

    def loss_gradient(self, y, scores):
        margins, others, rows, y = self._margins(y, scores)
        value, slope, _ = self._terms(margins)
        grad = np.where(others, slope, 0.0)
        grad[rows, y] = -grad.sum(axis=1)
        return np.where(others, value, 0.0).sum(axis=1), grad

    def hessian_product(self, y, scores, direction):
        if not self.is_smooth:
            return Loss.hessian_product(self, y, scores, direction)
        margins, others, rows, y = self._margins(y, scores)
        curvature = np.where(others, self._terms(margins)[2], 0.0)
        direction = np.asarray(direction, dtype=float)
        out = curvature * (direction - direction[rows, y][:, None])
        out[rows, y] = -out.sum(axis=1)
        return out

    def compiled_kernel(self):
        return CompiledLoss(
            "weston_watkins",
            a=float(self.delta),
            b=float(self.squared),
            c=float(self.smoothing),
        )

    def smoothness(self, n_outputs=1):
        if self.squared:
            return 2.0 * n_outputs
        if self.smoothing > 0:
            return n_outputs / self.smoothing
        return np.inf

    def smoothed(self, mu):
        if self.squared or self.smoothing > 0:
            return None
        return WestonWatkins(delta=self.delta, squared=False, smoothing=mu)

    def multiclass_dual(self):
        if self.smoothing > 0:
            return None
        return MulticlassDual(
            simplex=False, margin=float(self.delta), quadratic=bool(self.squared)
        )

    def hinge_terms(self, y, scores):
        if self.squared or self.smoothing > 0:
            return None
        # One term [delta + s_j - s_y]_+ per (i, j != y_i), row-major order.
        _, others, _, y = self._margins(y, scores)
        sample, cls = np.nonzero(others)
        terms = np.arange(sample.size)
        a = np.zeros((sample.size, others.shape[1]))
        a[terms, cls] = 1.0
        a[terms, y[sample]] = -1.0
        return sample, a, np.full(sample.size, float(self.delta))
