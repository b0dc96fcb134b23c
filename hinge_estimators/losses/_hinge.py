"""Hinge loss ``[margin - z]_+`` (L1-loss SVM)."""

import numpy as np

from ._base import CompiledLoss, DualForm, MarginLoss


class Hinge(MarginLoss):
    """Hinge loss of the margin ``z = y * score``.

    Parameters
    ----------
    margin : float, default=1.0
        Where the loss starts: ``1`` gives the SVM hinge, ``0`` the perceptron
        loss.

    Notes
    -----
    .. math:: \\phi(z) = \\max(0, m - z), \\qquad
              \\partial\\phi(z) \\ni -\\mathbb{1}[z \\le m]

    At the kink ``z = m`` the subgradient ``-1`` is returned, the convention of
    scikit-learn's ``Hinge`` and of the reference gradient-descent example.
    Not differentiable; its smooth lower approximation for Nesterov smoothing is
    :class:`SmoothHinge` with ``gamma = mu`` and the same margin.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import Hinge
    >>> margins = np.array([-1.0, 0.5, 2.0])  # with y = +1 the score is the margin
    >>> Hinge().loss(np.ones(3), margins).tolist()
    [2.0, 0.5, 0.0]
    """

    _constraints = {"margin": "nonnegative"}

    def __init__(self, margin=1.0):
        self.margin = margin

    def _phi(self, z):
        return np.maximum(self.margin - z, 0.0)

    def _dphi(self, z):
        return np.where(z <= self.margin, -1.0, 0.0)

    def smoothness(self, n_outputs=1):
        return np.inf

    def dual_form(self):
        return DualForm(multiclass=False, margin=float(self.margin), squared=False)

    def compiled_kernel(self):
        return CompiledLoss("hinge", a=float(self.margin))

    def smoothed(self, mu):
        from ._smooth_hinge import SmoothHinge

        return SmoothHinge(gamma=mu, margin=self.margin)

    def hinge_terms(self, y, scores):
        # One term per entry (i, k): [margin - y_ik s_ik]_+ = [c + a . s_i]_+ with
        # c = margin and a = -y_ik e_k.
        y2 = np.atleast_2d(np.asarray(y, dtype=float).T).T
        n, k = y2.shape
        sample = np.repeat(np.arange(n), k)
        cols = np.tile(np.arange(k), n)
        a = np.zeros((n * k, k))
        a[np.arange(n * k), cols] = -y2.ravel()
        return sample, a, np.full(n * k, float(self.margin))
