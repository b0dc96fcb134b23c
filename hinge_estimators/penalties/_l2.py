"""The squared L2 penalty ``||W||^2 / 2`` (LinearSVC's and the package's default)."""

import numpy as np

from ._base import Penalty, as_matrix


class L2(Penalty):
    """Squared Frobenius norm ``Omega(W) = ||W||_F^2 / 2``.

    Notes
    -----
    .. math:: \\Omega(W) = \\tfrac12 \\|W\\|_F^2, \\quad
              \\Omega^*(V) = \\tfrac12 \\|V\\|_F^2, \\quad
              \\operatorname{prox}_{t\\Omega}(W) = W / (1 + t)

    Smooth and 1-strongly convex: every solver takes it, and the dual
    coordinate descent solves the problem's dual.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.penalties import L2
    >>> L2().value(np.array([[3.0, -4.0]]))
    12.5
    """

    is_smooth = True

    def __init__(self):
        pass

    @property
    def quadratic(self):
        return 1.0

    def conjugate(self, V):
        V = np.asarray(V, dtype=np.float64)
        return 0.5 * float(np.vdot(V, V))

    def violation(self, W, V):
        return np.abs(as_matrix(V) + as_matrix(W)).max(axis=0)
