"""The penalty contract.

A penalty is the regularizer ``Omega(W)`` of the objective

.. math:: P(W, b) = \\Omega(W) + C \\sum_i s_i \\, \\ell(y_i, x_i W^\\top + b)

on the coefficient matrix ``W`` (``K x d``: one row per score column, one
column per feature). It never touches the intercept ``b`` (a penalized bias,
``intercept_scaling``, is the objective's own ``b^2 / (2 B^2)`` term), and it
knows nothing of ``X``, the loss or ``C``: its strength is fixed at 1 and
``C`` weighs the loss, as in ``LinearSVC`` (``||w||_1 + C sum loss`` for
``penalty="l1"``).

Every penalty is written as a quadratic part plus a non-smooth part,

.. math:: \\Omega(W) = \\tfrac{q}{2}\\|W\\|_F^2 + \\Psi(W),

with ``q = quadratic`` (1 for L2, ``1 - l1_ratio`` for the elastic net, 0 for
L1 and group L1/L2). Smooth solvers see the quadratic part as today's L2
term; the non-smooth part ``Psi`` is reached only through :meth:`nonsmooth_prox`
(proximal gradient, SGD's truncation) or coordinate-wise updates, so a solver
that cannot handle ``Psi`` refuses a non-smooth penalty (``is_smooth=False``).

What a penalty gives:

* ``value(W)``, ``nonsmooth_value(W)``;
* ``prox(W, step)`` = ``argmin_U ||U - W||^2 / 2 + step * Omega(U)`` and
  ``nonsmooth_prox(W, step)``, the same for ``Psi`` alone;
* ``nonsmooth_subgradient(W)``: one subgradient of ``Psi`` (0 at kinks);
* for certificates, ``conjugate(V)`` = ``Omega^*(V) = sup_W <V, W> - Omega(W)``
  (``inf`` outside its domain) and ``dual_scale(V)``, the largest ``t`` in
  ``(0, 1]`` for which ``conjugate(t V)`` is finite: a duality gap is then
  computed at a feasible dual point (see ``LinearObjective.duality_gap``);
* ``violation(W, V)``: per feature, how far ``-V`` (``V`` the loss part's
  gradient in ``W``) is from the subdifferential ``partial Omega(W)``; zero
  for every feature exactly at the optimum (working sets rank features by it);
* ``is_separable``: whether ``Psi`` is a sum over the entries of ``W``
  (coordinate descent may then update one entry at a time) or over the
  columns of ``W`` (group penalties: a feature's block of ``K`` entries).

Hyper-parameters (``l1_ratio``) are constructor arguments exposed through
``get_params``/``set_params``, so ``GridSearchCV`` can tune
``penalty__l1_ratio``.
"""

import numpy as np

from .._params import ParamsMixin


class Penalty(ParamsMixin):
    """Base class of every penalty; see the module docstring for the contract."""

    #: whether Omega is differentiable (only then may smooth solvers take it)
    is_smooth = False
    #: whether Psi is a sum over the entries of W (else over its columns)
    is_separable = True

    @property
    def quadratic(self):
        """``q``: the coefficient of ``||W||^2 / 2`` inside ``Omega``."""
        return 0.0

    def value(self, W):
        """``Omega(W)``."""
        W = np.asarray(W, dtype=np.float64)
        return 0.5 * self.quadratic * float(np.vdot(W, W)) + self.nonsmooth_value(W)

    def nonsmooth_value(self, W):
        """``Psi(W)``, the non-smooth part."""
        return 0.0

    def nonsmooth_prox(self, W, step):
        """``argmin_U ||U - W||^2 / 2 + step * Psi(U)``."""
        return np.array(W, dtype=np.float64)

    def prox(self, W, step):
        """``argmin_U ||U - W||^2 / 2 + step * Omega(U)``.

        The quadratic part is isotropic, so the prox of the sum is the prox
        of ``Psi`` shrunk by ``1 / (1 + step q)``.
        """
        return self.nonsmooth_prox(W, step) / (1.0 + step * self.quadratic)

    def nonsmooth_subgradient(self, W):
        """One subgradient of ``Psi`` at ``W`` (0 where ``Psi`` has a kink)."""
        return np.zeros_like(np.asarray(W, dtype=np.float64))

    def conjugate(self, V):
        """``Omega^*(V)``; ``inf`` outside its domain."""
        raise NotImplementedError

    def dual_scale(self, V):
        """Largest ``t`` in ``(0, 1]`` with ``conjugate(t V)`` finite."""
        return 1.0

    def violation(self, W, V):
        """Per feature (shape ``(d,)``): distance of ``-V`` from ``partial Omega(W)``.

        ``V`` is the gradient of the loss part in ``W`` (shape ``K x d``).
        """
        raise NotImplementedError


def as_matrix(W):
    """``W`` as a float64 2-D array (one row per score column)."""
    W = np.asarray(W, dtype=np.float64)
    return W.reshape(1, -1) if W.ndim == 1 else W


def soft_threshold(W, threshold):
    """``sign(W) * max(|W| - threshold, 0)``, the prox of ``threshold * |.|``."""
    W = np.asarray(W, dtype=np.float64)
    return np.sign(W) * np.maximum(np.abs(W) - threshold, 0.0)


def l1_violation(W, V, quadratic, weight):
    """Distance of ``-V`` from ``q W + weight * partial|W|``, max over rows."""
    W, V = as_matrix(W), as_matrix(V)
    residual = V + quadratic * W
    distance = np.where(
        W != 0.0,
        np.abs(residual + weight * np.sign(W)),
        np.maximum(np.abs(residual) - weight, 0.0),
    )
    return distance.max(axis=0)
