"""Modified Huber loss (scikit-learn's ``loss="modified_huber"``)."""

import numpy as np

from ._base import CompiledLoss, MarginLoss


class ModifiedHuber(MarginLoss):
    """Modified Huber loss of the margin ``z = y * score``.

    Notes
    -----
    .. math:: \\phi(z) = \\begin{cases}
                  \\max(0, 1 - z)^2 & z \\ge -1 \\\\
                  -4 z & z < -1
              \\end{cases}, \\qquad
              \\phi'(z) = \\begin{cases}
                  -2 \\max(0, 1 - z) & z \\ge -1 \\\\
                  -4 & z < -1
              \\end{cases}

    and ``phi''(z) = 2`` on ``[-1, 1)``, 0 elsewhere (a generalized Hessian at
    the two breakpoints). Continuously differentiable with a 2-Lipschitz
    derivative; the linear tail makes it robust to badly misclassified points,
    unlike :class:`SquaredHinge`.

    It equals ``4 * SmoothHinge(gamma=2)`` exactly (T. Zhang, ICML 2004: the
    quadratically smoothed SVM), so it is an upper, not a lower, approximation
    of the hinge and is not offered by ``smoothed``.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import ModifiedHuber
    >>> margins = np.array([-2.0, 0.5, 2.0])  # with y = +1 the score is the margin
    >>> ModifiedHuber().loss(np.ones(3), margins).tolist()  # -4z below z = -1
    [8.0, 0.25, 0.0]
    """

    is_smooth = True
    is_piecewise_quadratic = True

    def __init__(self):
        pass

    def _phi(self, z):
        z = np.asarray(z, dtype=float)
        # Clamping before squaring / scaling keeps the unused branch of np.where
        # finite (no overflow warning for z = -1e300).
        square = np.square(np.maximum(1.0 - np.maximum(z, -1.0), 0.0))
        return np.where(z >= -1.0, square, -4.0 * np.minimum(z, -1.0))

    def _dphi(self, z):
        # -2 (1 - max(z, -1)) is -4 for every z <= -1, so one formula covers both
        # branches and is continuous at z = -1.
        z = np.asarray(z, dtype=float)
        return -2.0 * np.maximum(1.0 - np.maximum(z, -1.0), 0.0)

    def _d2phi(self, z):
        z = np.asarray(z, dtype=float)
        return np.where((z >= -1.0) & (z < 1.0), 2.0, 0.0)

    def compiled_kernel(self):
        return CompiledLoss("modified_huber")

    def smoothness(self, n_outputs=1):
        return 2.0
