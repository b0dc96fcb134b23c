"""The L1 penalty ``||W||_1`` (sparse models; LinearSVC's ``penalty="l1"``)."""

import numpy as np

from ._base import Penalty, l1_violation, soft_threshold


class L1(Penalty):
    """Entrywise absolute sum ``Omega(W) = sum_kj |W_kj|``.

    Notes
    -----
    .. math:: \\Omega(W) = \\|W\\|_1, \\quad
              \\Omega^*(V) = \\begin{cases} 0 & \\|V\\|_\\infty \\le 1 \\\\
              \\infty & \\text{otherwise} \\end{cases}, \\quad
              \\operatorname{prox}_{t\\Omega}(W) = \\operatorname{sign}(W)
              \\max(|W| - t, 0)

    With ``C`` on the loss this is ``LinearSVC(penalty="l1")``'s objective.
    Below ``C = 1 / ||X^T g(0)||_inf`` (``g(0)`` the loss gradient at ``W =
    0``, the intercept fitted) the solution is ``W = 0``. Each class of a
    one-vs-rest problem selects its own features; :class:`GroupL1L2` selects
    features for all classes at once.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.penalties import L1
    >>> W = np.array([[3.0, -4.0, 0.5]])
    >>> L1().value(W)
    7.5
    >>> L1().prox(W, 1.0).tolist()  # soft thresholding by 1
    [[2.0, -3.0, 0.0]]
    """

    def __init__(self):
        pass

    def nonsmooth_value(self, W):
        return float(np.abs(np.asarray(W, dtype=np.float64)).sum())

    def nonsmooth_prox(self, W, step):
        return soft_threshold(W, step)

    def nonsmooth_subgradient(self, W):
        return np.sign(np.asarray(W, dtype=np.float64))

    def conjugate(self, V):
        V = np.asarray(V, dtype=np.float64)
        # a rounding margin: dual_scale(V) * V has sup norm 1 up to one ulp
        return 0.0 if np.abs(V).max(initial=0.0) <= 1.0 + 1e-12 else np.inf

    def dual_scale(self, V):
        top = float(np.abs(np.asarray(V, dtype=np.float64)).max(initial=0.0))
        return 1.0 if top <= 1.0 else 1.0 / top

    def violation(self, W, V):
        return l1_violation(W, V, 0.0, 1.0)
