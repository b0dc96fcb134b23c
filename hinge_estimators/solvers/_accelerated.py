"""Accelerated proximal-free gradient descent (FISTA) with backtracking and restart.

Shared by ``gd`` on smooth losses and by each stage of its Nesterov-smoothing
path on non-smooth ones.
"""

from dataclasses import dataclass

import numpy as np

from ._base import GRADIENT

# Scores are carried along by linear updates instead of recomputed; refresh them
# exactly every so often so rounding errors cannot accumulate.
_REFRESH_EVERY = 50


@dataclass
class AcceleratedRun:
    coef: np.ndarray
    n_iter: int
    converged: bool
    optimality: float
    lipschitz: float
    history: list


def accelerated_descent(
    objective, x0, *, g_ref, tol, max_iter, lipschitz=None, callback=None
):
    """Minimize a smooth ``objective`` from ``x0``.

    Nesterov's accelerated gradient (FISTA momentum) with

    * backtracking on the step ``1/L`` (sufficient decrease
      ``P(y - g/L) <= P(y) - ||g||^2 / (2L)``), and a gentle decrease of ``L``
      after every accepted step so the step can grow again;
    * gradient-based adaptive restart (O'Donoghue & Candes, 2015): momentum is
      reset whenever it points uphill, which recovers linear convergence on
      strongly convex problems without knowing the modulus.

    The scores ``X w + b`` are linear in the coefficients, so the trial points
    of the line search and the extrapolated point get their scores by
    combining known score vectors: one product with ``X`` and one with ``X^T``
    per iteration.

    Stops when ``||grad P(y)|| <= tol * g_ref`` at the extrapolated point ``y``,
    whose gradient is computed anyway, and returns that point.
    """
    L = lipschitz if lipschitz is not None and np.isfinite(lipschitz) else 1.0
    L = max(L * 0.1, 1e-12)  # the estimate is an upper bound: start optimistic
    x = np.array(x0, dtype=float)
    Sx = objective.scores(x)
    y, Sy = x, Sx
    fy, gy = objective.value_and_gradient_from_scores(y, Sy)
    t = 1.0
    history = []
    gnorm = np.linalg.norm(gy)
    for it in range(1, max_iter + 1):
        if gnorm <= tol * g_ref:
            return AcceleratedRun(y, it - 1, True, gnorm / g_ref, L, history)
        Sg = objective.scores(gy)
        g2 = gnorm * gnorm
        slack = 1e-13 * abs(fy)  # rounding in P itself: do not chase it
        while True:
            x_new = y - gy / L
            S_new = Sy - Sg / L
            f_new = objective.value_from_scores(x_new, S_new)
            if f_new <= fy - 0.5 * g2 / L + slack or L > 1e300:
                break
            L *= 2.0
        if np.dot(gy, x_new - x) > 0:  # momentum points uphill: restart it
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        y = x_new + beta * (x_new - x)
        Sy = S_new + beta * (S_new - Sx)
        x, Sx, fx, t = x_new, S_new, f_new, t_next
        if it % _REFRESH_EVERY == 0:
            Sx = objective.scores(x)
            Sy = objective.scores(y)
        fy, gy = objective.value_and_gradient_from_scores(y, Sy)
        gnorm = np.linalg.norm(gy)
        history.append(float(min(fx, fy)))
        if callback is not None:
            callback(it, fy, gnorm / g_ref, GRADIENT, y, objective)
        # let the step grow back slowly; measured on smooth problems, 0.98 with
        # gradient restart alone needs 4x fewer iterations than 0.9 with an
        # additional function-value restart
        L *= 0.98
    converged = gnorm <= tol * g_ref
    return AcceleratedRun(y, max_iter, converged, gnorm / g_ref, L, history)
