"""Accelerated proximal gradient (FISTA) for penalties with a non-smooth part.

Used by ``gd`` when the penalty is L1, elastic net or group L1/L2: the smooth
part of ``P`` (the loss and the penalty's quadratic part) takes gradient steps,
the non-smooth part ``Psi`` its proximal operator
(:meth:`LinearObjective.prox`). Non-smooth losses reach it through ``gd``'s
Nesterov smoothing, one smoothed problem per stage.
"""

from dataclasses import dataclass

import numpy as np

from ._base import GAP

#: iterations between two certificate evaluations (each costs about one
#: iteration: the scores, the loss gradient and one product with ``X^T``)
CHECK_EVERY = 10


@dataclass
class ProximalRun:
    coef: np.ndarray
    n_iter: int
    converged: bool
    optimality: float
    lipschitz: float
    history: list


def proximal_descent(objective, x0, *, max_iter, stop, lipschitz=None, callback=None):
    """Minimize ``objective`` (smooth part plus ``Psi``) from ``x0`` by FISTA.

    * Step ``x+ = prox_{Psi/L}(y - grad f(y) / L)`` on the smooth part ``f``
      (:meth:`LinearObjective.smooth_value_and_gradient`), with ``L`` found
      by backtracking on the upper bound ``f(x+) <= f(y) + <grad f(y), x+ -
      y> + L ||x+ - y||^2 / 2`` (Beck & Teboulle, 2009) and decreased gently
      after each accepted step so that the step can grow back;
    * adaptive restart (O'Donoghue & Candes, 2015): the momentum is reset
      whenever the gradient mapping ``y - x+`` makes an acute angle with the
      last step ``x+ - x``, which recovers linear convergence where ``P`` is
      strongly convex (elastic net) without knowing the modulus.

    ``callback`` (the solvers' internal convention, see ``_base``) gets each
    iterate with the last certificate measured.

    ``stop(x)`` returns ``(done, optimality)``; it is evaluated at the start,
    every :data:`CHECK_EVERY` iterations and at the end, and the run returns
    the iterate ``x`` it was evaluated at. Each trial point costs one product
    with ``X`` (the prox is not linear, so its scores are computed), the
    extrapolated point's scores are combined from known ones, and its
    gradient costs one product with ``X^T``.
    """
    L = lipschitz if lipschitz is not None and np.isfinite(lipschitz) else 1.0
    L = max(L * 0.1, 1e-12)  # the estimate is an upper bound: start optimistic
    x = np.array(x0, dtype=float)
    Sx = objective.scores(x)
    y, Sy = x, Sx
    t = 1.0
    history = []
    done, optimality = stop(x)
    if done:
        return ProximalRun(x, 0, True, optimality, L, history)
    measured = optimality  # the last certificate, reported until the next
    for it in range(1, max_iter + 1):
        fy, gy = objective.smooth_value_and_gradient(y, scores=Sy)
        slack = 1e-13 * abs(fy)  # rounding in f itself: do not chase it
        while True:
            x_new = objective.prox(y - gy / L, 1.0 / L)
            S_new = objective.scores(x_new)
            step = x_new - y
            f_new = objective.value_from_scores(
                x_new, S_new
            ) - objective.nonsmooth_value(x_new)
            bound = fy + np.dot(gy, step) + 0.5 * L * np.dot(step, step)
            if f_new <= bound + slack or L > 1e300:
                break
            L *= 2.0
        if np.dot(y - x_new, x_new - x) > 0:  # momentum points uphill: restart
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        y = x_new + beta * (x_new - x)
        Sy = S_new + beta * (S_new - Sx)  # both exact: no drift to refresh
        x, Sx, t = x_new, S_new, t_next
        history.append(float(f_new + objective.nonsmooth_value(x)))
        if it % CHECK_EVERY == 0:
            done, optimality = stop(x)
            measured = optimality
        if callback is not None:
            callback(it, history[-1], measured, GAP, x, objective)
        if it % CHECK_EVERY == 0 and done:
            return ProximalRun(x, it, True, optimality, L, history)
        L *= 0.98
    done, optimality = stop(x)
    return ProximalRun(x, max_iter, done, optimality, L, history)


def relative_gap(objective, coef):
    """``(gap / |P|, P)`` from :meth:`LinearObjective.duality_gap`."""
    gap, value = objective.duality_gap(coef)
    return gap / max(abs(value), 1e-300), value


def smoothed_gap(objective, smooth, coef):
    """A bound on ``(P(coef) - P*) / |P|`` from a smoothed problem's dual point.

    Returns ``(bound, smoothing_part)``, both relative to ``|P(coef)|``.

    ``smooth`` is ``objective`` with the loss replaced by a smooth lower
    approximation ``F_mu <= F`` (``loss.smoothed(mu)``; its ``infimum`` enters
    ``duality_gap``, so a smoothed loss may go below 0). Then
    ``F^* <= F_mu^*``, so every dual value of the smoothed problem is a dual
    value of the true one at the same dual point, ``D_mu(U) <= D(U) <= P*``,
    and

    .. math:: P(w) - P^* \\le [P(w) - P_\\mu(w)] + [P_\\mu(w) - D_\\mu(U)],

    the smoothing gap plus the smoothed problem's duality gap at its own
    (rescaled-gradient) dual point, which goes to 0 at the smoothed optimum.
    The bound is valid whatever ``mu``; it is tight only when ``mu`` is small
    (the smoothing gap is of order ``mu`` times the number of samples near
    the kinks). The gradient of the true loss would also give a dual point,
    but its choice at a kink need not be the optimal one, and the bound it
    gives can stay loose at the exact optimum.
    """
    gap_mu, value_mu = smooth.duality_gap(coef)
    value = float(objective.value(coef))
    scale = max(abs(value), 1e-300)
    smoothing_part = max(value - value_mu, 0.0) / scale
    return smoothing_part + gap_mu / scale, smoothing_part
