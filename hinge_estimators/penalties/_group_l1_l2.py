"""The group L1/L2 penalty: one group per feature, across the score columns."""

import numpy as np

from ._base import Penalty, as_matrix


def _column_norms(M):
    """Euclidean norm of each column, scaled so tiny or huge entries keep precision.

    ``sqrt(sum(x^2))`` squares a 1e-160 entry into the subnormals, where it
    loses digits: the unit vector ``W / ||W||`` then has a norm above 1 and
    the conjugate at the subgradient is ``inf`` (found by hypothesis).
    """
    top = np.abs(M).max(axis=0, initial=0.0)
    safe = np.where(top > 0, top, 1.0)
    with np.errstate(all="ignore"):  # a subnormal top: M / safe may overflow
        return top * np.sqrt(np.square(M / safe).sum(axis=0))


class GroupL1L2(Penalty):
    """Sum over features of the L2 norm of the feature's coefficients.

    A feature's coefficients in every one-vs-rest (or multiclass) column form
    one group: the feature is kept or dropped for all classes at once. With
    one column (binary problems) this is :class:`L1`.

    Notes
    -----
    .. math:: \\Omega(W) = \\sum_j \\|W_{:, j}\\|_2, \\quad
              \\Omega^*(V) = \\begin{cases} 0 & \\max_j \\|V_{:, j}\\|_2 \\le 1
              \\\\ \\infty & \\text{otherwise} \\end{cases}, \\quad
              \\operatorname{prox}_{t\\Omega}(W)_{:, j} =
              \\Big[1 - \\frac{t}{\\|W_{:, j}\\|_2}\\Big]_+ W_{:, j}

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.penalties import GroupL1L2
    >>> W = np.array([[3.0, 0.0], [4.0, 1.0]])  # 2 classes x 2 features
    >>> GroupL1L2().value(W)  # ||(3, 4)|| + ||(0, 1)||
    6.0
    """

    is_separable = False

    def __init__(self):
        pass

    def nonsmooth_value(self, W):
        return float(_column_norms(as_matrix(W)).sum())

    def nonsmooth_prox(self, W, step):
        M = as_matrix(W)
        norms = _column_norms(M)
        with np.errstate(all="ignore"):
            shrink = np.where(norms > step, 1.0 - step / norms, 0.0)
        return (M * shrink).reshape(np.shape(W))

    def nonsmooth_subgradient(self, W):
        M = as_matrix(W)
        norms = _column_norms(M)
        with np.errstate(all="ignore"):
            unit = np.where(norms > 0, M / norms, 0.0)
        return unit.reshape(np.shape(W))

    def conjugate(self, V):
        top = float(_column_norms(as_matrix(V)).max(initial=0.0))
        return 0.0 if top <= 1.0 + 1e-12 else np.inf

    def dual_scale(self, V):
        top = float(_column_norms(as_matrix(V)).max(initial=0.0))
        return 1.0 if top <= 1.0 else 1.0 / top

    def violation(self, W, V):
        W, V = as_matrix(W), as_matrix(V)
        norms = _column_norms(W)
        with np.errstate(all="ignore"):
            unit = np.where(norms > 0, W / norms, 0.0)
        kept = _column_norms(V + unit)
        dropped = np.maximum(_column_norms(V) - 1.0, 0.0)
        return np.where(norms > 0, kept, dropped)
