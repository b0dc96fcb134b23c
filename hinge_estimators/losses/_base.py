"""The loss contract.

A loss maps targets and SCORES to per-sample values. It knows nothing of the
design matrix, of sample weights, of ``C`` or of the intercept: those live in
:class:`hinge_estimators.LinearObjective`, the one place that turns a loss on
scores into an objective on coefficients.

Two families share the contract.

*Binary (margin) losses* (``is_multiclass = False``) take ``y`` with entries in
{-1, +1} and ``scores`` of the same shape: a vector for one binary problem, or
an ``(n, K)`` matrix for ``K`` one-vs-rest problems at once (one column per
class). They act entry-wise on the margin ``z = y * score`` through a function
``phi(z)``; :meth:`loss` returns an array of the shape of ``scores``.

*Multiclass losses* (``is_multiclass = True``) take integer class codes ``y``
of shape ``(n,)`` and ``scores`` of shape ``(n, K)``; :meth:`loss` returns one
value per sample, shape ``(n,)``.

Methods every loss provides
---------------------------
``loss(y, scores)``
    Values (see above).
``gradient(y, scores)``
    Derivative with respect to the scores, shape of ``scores``. Where the loss
    has a kink, an element of the subdifferential, documented by the loss.
``loss_gradient(y, scores)``
    Both, computed once.
``hessian_product(y, scores, direction)``
    Smooth losses only: per-sample curvature applied to ``direction`` (same
    shape as ``scores``). Binary losses also give ``hessian(y, scores)``, the
    diagonal.
``smoothness(n_outputs=1)``
    Supremum of the curvature (largest eigenvalue of the per-sample Hessian in
    score space); ``inf`` for a non-smooth loss.

Capabilities, declared rather than inferred from the class
-----------------------------------------------------------
``is_smooth``
    Differentiable with a Lipschitz (at least locally) gradient.
``is_multiclass``
    Takes integer codes and trains all classes jointly.
``is_pairwise``
    Couples samples (takes the whole score vector); per-sample solvers refuse it.

Optional hooks used by the first-order solvers
----------------------------------------------
``smoothed(mu)``
    A smooth loss that approximates this one FROM BELOW, within a gap that
    vanishes as ``mu -> 0`` (Nesterov smoothing). ``None`` if not offered.
``hinge_terms(y, scores)``
    For piecewise-linear losses that are sums of hinge terms
    ``[c_t + a_t . s_{i_t}]_+``: the arrays ``(sample_index, A, c)``. Solvers use
    them to finish a smoothed solution exactly (an active-set polish).
``max_hinge_terms(y, scores)``
    The same arrays for a loss that is the hinge of a MAX of such terms per
    sample, ``[max_t (c_t + a_t . s_i)]_+`` (Crammer-Singer).

Hyper-parameters are constructor arguments, exposed through ``get_params`` /
``set_params``; :meth:`validate` raises a ``ValueError`` for a bad value.
"""

from dataclasses import dataclass

import numpy as np

from .._params import ParamsMixin


@dataclass(frozen=True)
class DualForm:
    """Which compiled dual a loss has (see ``Loss.dual_form``).

    Attributes
    ----------
    multiclass : bool
        ``False``: the binary SVM dual (one variable per sample);
        ``True``: the Crammer-Singer dual (``K`` variables per sample).
    margin : float
        The hinge's margin (``delta`` for Crammer-Singer).
    squared : bool
        L2 loss (the hinge squared) rather than L1 loss.
    """

    multiclass: bool
    margin: float
    squared: bool


class Loss(ParamsMixin):
    """Base class of every loss; see the module docstring for the contract."""

    is_smooth = False
    is_multiclass = False
    is_pairwise = False

    def loss(self, y, scores):
        """Per-sample (or per-entry) loss values."""
        raise NotImplementedError

    def gradient(self, y, scores):
        """Derivative (a subgradient at kinks) with respect to the scores."""
        raise NotImplementedError

    def loss_gradient(self, y, scores):
        """Return ``(loss(y, scores), gradient(y, scores))``."""
        return self.loss(y, scores), self.gradient(y, scores)

    def hessian_product(self, y, scores, direction):
        """Per-sample Hessian (in score space) applied to ``direction``."""
        raise NotImplementedError(
            f"{type(self).__name__} is not smooth: it has no Hessian."
        )

    def smoothness(self, n_outputs=1):
        """Supremum of the curvature in score space (``inf`` if not smooth)."""
        return np.inf

    def smoothed(self, mu):
        """A smooth lower approximation with parameter ``mu``, or ``None``."""
        return None

    def hinge_terms(self, y, scores):
        """Hinge-term decomposition ``(sample_index, A, c)``, or ``None``."""
        return None

    def max_hinge_terms(self, y, scores):
        """Terms whose max gives the loss, ``[max_t u_t]_+``, or ``None``."""
        return None

    def dual_form(self):
        """The :class:`DualForm` the compiled dual solver uses, or ``None``."""
        return None

    @property
    def name(self):
        """Registry name of this loss (the class name for user losses)."""
        from . import LOSSES

        for key, cls in LOSSES.items():
            if type(self) is cls:
                return key
        return type(self).__name__


class MarginLoss(Loss):
    """A binary loss ``l(y, s) = phi(y * s)`` of the margin ``z = y * s``.

    Subclasses implement ``_phi(z)``, ``_dphi(z)`` and, when smooth,
    ``_d2phi(z)``. Because ``y`` is +1 or -1, ``d l / d s = y phi'(z)`` and
    ``d2 l / d s2 = phi''(z)``.
    """

    def loss(self, y, scores):
        """Entry-wise ``phi(y * scores)``."""
        return self._phi(y * scores)

    def gradient(self, y, scores):
        """Entry-wise ``y * phi'(y * scores)``."""
        return y * self._dphi(y * scores)

    def loss_gradient(self, y, scores):
        """Values and gradient with the margin computed once."""
        z = y * scores
        return self._phi(z), y * self._dphi(z)

    def hessian(self, y, scores):
        """Diagonal curvature ``phi''(y * scores)`` (smooth losses only)."""
        if not self.is_smooth:
            return Loss.hessian_product(self, y, scores, None)
        return self._d2phi(y * scores)

    def hessian_product(self, y, scores, direction):
        """Entry-wise ``phi''(z) * direction``."""
        return self.hessian(y, scores) * direction

    def _phi(self, z):
        raise NotImplementedError

    def _dphi(self, z):
        raise NotImplementedError

    def _d2phi(self, z):
        raise NotImplementedError


def smooth_plus(u, gamma):
    """Quadratically smoothed positive part, a lower approximation of ``[u]_+``.

    ``0`` for ``u <= 0``, ``u**2 / (2 gamma)`` on ``(0, gamma)`` and
    ``u - gamma / 2`` for ``u >= gamma``; it is the Moreau envelope of
    ``[u]_+`` with parameter ``gamma``, so ``[u]_+ - gamma/2 <= value <= [u]_+``.

    Returns
    -------
    value, derivative, curvature : ndarray
        The derivative is ``clip(u / gamma, 0, 1)``; the curvature is
        ``1 / gamma`` on the open band ``(0, gamma)`` and 0 elsewhere.
    """
    # clip before dividing: u / gamma would overflow for huge u and tiny gamma
    ramp = np.clip(u, 0.0, gamma) / gamma
    value = np.where(u >= gamma, u - 0.5 * gamma, 0.5 * ramp * np.maximum(u, 0.0))
    curvature = np.where((u > 0) & (u < gamma), 1.0 / gamma, 0.0)
    return value, ramp, curvature
