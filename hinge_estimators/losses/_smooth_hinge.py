"""Quadratically smoothed hinge loss (lightning's ``smooth_hinge``)."""

import numpy as np

from ._base import CompiledLoss, MarginLoss, smooth_plus


class SmoothHinge(MarginLoss):
    """Quadratically smoothed hinge loss of the margin ``z = y * score``.

    Parameters
    ----------
    gamma : float, default=1.0
        Width of the quadratic band that replaces the kink; the larger, the
        smoother (the gradient is ``1 / gamma``-Lipschitz).
    margin : float, default=1.0
        Where the loss reaches zero, as in :class:`Hinge`.

    Notes
    -----
    With ``u = m - z`` (``m`` the margin):

    .. math:: \\phi(z) = \\begin{cases}
                  0 & u \\le 0 \\\\
                  u^2 / (2\\gamma) & 0 < u < \\gamma \\\\
                  u - \\gamma / 2 & u \\ge \\gamma
              \\end{cases}, \\qquad
              \\phi'(z) = -\\operatorname{clip}(u / \\gamma, 0, 1)

    and ``phi''(z) = 1 / gamma`` on the open band ``0 < u < gamma``, 0 elsewhere
    (the value at the two breakpoints is a generalized Hessian). It is the
    Moreau envelope of ``Hinge(margin)`` with parameter ``gamma``, hence a lower
    approximation: ``hinge - gamma / 2 <= phi <= hinge``. ``gamma = 1`` is
    Rennie's smooth hinge; ``4 * SmoothHinge(gamma=2)`` is :class:`ModifiedHuber`.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators import HingeClassifier
    >>> from hinge_estimators.losses import SmoothHinge
    >>> margins = np.array([-1.0, 0.5, 2.0])  # with y = +1 the score is the margin
    >>> SmoothHinge(gamma=1.0).loss(np.ones(3), margins).tolist()
    [1.5, 0.125, 0.0]
    >>> HingeClassifier(loss=SmoothHinge(gamma=0.5))  # tunable as loss__gamma
    HingeClassifier(loss=SmoothHinge(gamma=0.5))
    """

    is_smooth = True
    is_piecewise_quadratic = True
    _constraints = {"gamma": "positive", "margin": "nonnegative"}

    def __init__(self, gamma=1.0, margin=1.0):
        self.gamma = gamma
        self.margin = margin

    def _phi(self, z):
        return smooth_plus(self.margin - np.asarray(z, dtype=float), self.gamma)[0]

    def _dphi(self, z):
        return -smooth_plus(self.margin - np.asarray(z, dtype=float), self.gamma)[1]

    def _d2phi(self, z):
        return smooth_plus(self.margin - np.asarray(z, dtype=float), self.gamma)[2]

    def loss_gradient(self, y, scores):
        # One pass of smooth_plus gives both value and slope.
        value, ramp, _ = smooth_plus(self.margin - y * scores, self.gamma)
        return value, -y * ramp

    def compiled_kernel(self):
        return CompiledLoss("smooth_hinge", a=float(self.gamma), b=float(self.margin))

    def smoothness(self, n_outputs=1):
        return 1.0 / self.gamma
