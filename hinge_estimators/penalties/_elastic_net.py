"""The elastic net ``l1_ratio ||W||_1 + (1 - l1_ratio) ||W||^2 / 2``."""

import numbers

import numpy as np

from ._base import Penalty, l1_violation, soft_threshold


def _ratio(value):
    # numpy's scalars too (a grid of np.arange or np.linspace values)
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        return "must be a number in [0, 1]"
    if not 0.0 <= value <= 1.0:
        return "must be a number in [0, 1]"
    return None


class ElasticNet(Penalty):
    """Mixture of L1 and squared L2: sparse, and unique when ``l1_ratio < 1``.

    Parameters
    ----------
    l1_ratio : float in [0, 1], default=0.5
        ``rho``: 1 is :class:`L1`, 0 is :class:`L2`.

    Notes
    -----
    .. math:: \\Omega(W) = \\rho \\|W\\|_1 + \\tfrac{1 - \\rho}{2}\\|W\\|_F^2,
              \\quad \\Omega^*(V) = \\sum_{kj} \\frac{[|V_{kj}| - \\rho]_+^2}
              {2 (1 - \\rho)}, \\quad
              \\operatorname{prox}_{t\\Omega}(W) =
              \\frac{\\operatorname{sign}(W)\\max(|W| - t\\rho, 0)}{1 + t(1 - \\rho)}

    ``SGDClassifier(penalty="elasticnet", alpha, l1_ratio)`` minimizes
    ``alpha * Omega(W) + mean loss``: the same problem as ``C = 1 / (alpha n)``
    here. With ``rho = 1`` the conjugate is L1's indicator of the unit
    sup-norm ball.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators import HingeClassifier
    >>> from hinge_estimators.penalties import ElasticNet
    >>> ElasticNet(l1_ratio=0.5).value(np.array([[3.0, -4.0]]))  # 0.5*7 + 0.25*25
    9.75
    >>> HingeClassifier(penalty=ElasticNet(l1_ratio=0.2))  # tunable: penalty__l1_ratio
    HingeClassifier(penalty=ElasticNet(l1_ratio=0.2))
    """

    _constraints = {"l1_ratio": _ratio}

    def __init__(self, l1_ratio=0.5):
        self.l1_ratio = l1_ratio

    @property
    def is_smooth(self):
        return self.l1_ratio == 0.0

    @property
    def quadratic(self):
        return 1.0 - float(self.l1_ratio)

    def nonsmooth_value(self, W):
        return float(self.l1_ratio) * float(
            np.abs(np.asarray(W, dtype=np.float64)).sum()
        )

    def nonsmooth_prox(self, W, step):
        return soft_threshold(W, step * float(self.l1_ratio))

    def nonsmooth_subgradient(self, W):
        return float(self.l1_ratio) * np.sign(np.asarray(W, dtype=np.float64))

    def conjugate(self, V):
        V = np.abs(np.asarray(V, dtype=np.float64))
        rho = float(self.l1_ratio)
        if rho == 1.0:
            return 0.0 if V.max(initial=0.0) <= 1.0 + 1e-12 else np.inf
        excess = np.maximum(V - rho, 0.0)
        return float(np.vdot(excess, excess)) / (2.0 * (1.0 - rho))

    def dual_scale(self, V):
        if float(self.l1_ratio) < 1.0:
            return 1.0
        top = float(np.abs(np.asarray(V, dtype=np.float64)).max(initial=0.0))
        return 1.0 if top <= 1.0 else 1.0 / top

    def violation(self, W, V):
        return l1_violation(W, V, self.quadratic, float(self.l1_ratio))
