"""Squared hinge loss ``[1 - z]_+^2`` (L2-loss SVM, LinearSVC's default)."""

import numpy as np

from ._base import CompiledLoss, DualForm, MarginLoss


class SquaredHinge(MarginLoss):
    """Squared hinge loss of the margin ``z = y * score``.

    Notes
    -----
    .. math:: \\phi(z) = \\max(0, 1 - z)^2, \\quad
              \\phi'(z) = -2\\max(0, 1 - z), \\quad
              \\phi''(z) = 2\\cdot\\mathbb{1}[z < 1]

    Continuously differentiable with a 2-Lipschitz derivative. The second
    derivative jumps at ``z = 1``; the value given there (0) is the generalized
    Hessian used by LIBLINEAR's trust-region Newton method.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import SquaredHinge
    >>> margins = np.array([-1.0, 0.5, 2.0])  # with y = +1 the score is the margin
    >>> SquaredHinge().loss(np.ones(3), margins).tolist()
    [4.0, 0.25, 0.0]
    """

    is_smooth = True
    is_piecewise_quadratic = True

    def __init__(self):
        pass

    def _phi(self, z):
        return np.square(np.maximum(1.0 - z, 0.0))

    def _dphi(self, z):
        return -2.0 * np.maximum(1.0 - z, 0.0)

    def _d2phi(self, z):
        return np.where(z < 1.0, 2.0, 0.0)

    def smoothness(self, n_outputs=1):
        return 2.0

    def compiled_kernel(self):
        return CompiledLoss("squared_hinge")

    def dual_form(self):
        return DualForm(multiclass=False, margin=1.0, squared=True)
