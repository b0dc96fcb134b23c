"""A few Newton-CG steps to finish where a line search on values cannot.

Near the optimum the objective's decrease falls below its rounding error, so a
method that needs ``P`` to go down (L-BFGS-B's line search) stalls at a relative
gradient norm around 1e-9. Newton steps judged by the GRADIENT norm keep
converging (quadratically, or finitely for piecewise-quadratic losses such as
the squared hinge), since the gradient is computed to far better relative
accuracy than the change in ``P``.
"""

import numpy as np

from ._newton import _steihaug

#: CG steps per Newton direction
MAX_CG = 200
#: a step may raise ``P`` by at most this much of ``|P|`` (rounding), never more
VALUE_SLACK = 1e-10


def newton_finish(objective, x, *, g_ref, tol, max_steps=20):
    """Refine ``x`` by damped Newton-CG steps accepted on gradient decrease.

    The directions come from the same shifted CG as ``TrustRegionNewton``
    (:func:`~hinge_estimators.solvers._newton._steihaug` without a radius):
    ``H`` is singular when the intercept is unpenalized and the loss only
    sees score differences (Weston-Watkins, Crammer-Singer) or without a
    penalty, and plain CG divides the gradient's rounding error along such a
    null direction by a curvature of rounding size -- a direction of norm
    1e16 that a step accepted on the gradient alone once carried to 1e163
    (squared Weston-Watkins in ``fc_boosting``). The shift bounds the step;
    a trial point is accepted only when it is finite, lowers the gradient
    norm and does not raise ``P`` beyond its rounding.

    Returns ``(x, n_steps, relative_gradient_norm)``.
    """
    value, grad = objective.value_and_gradient(x)
    gnorm = np.linalg.norm(grad)
    steps = 0
    while steps < max_steps and gnorm > tol * g_ref:
        forcing = min(0.1, np.sqrt(gnorm / g_ref))
        direction, _, _ = _steihaug(
            objective.hessian_operator(x), grad, np.inf, forcing * gnorm, MAX_CG
        )
        step = 1.0
        for _ in range(30):
            trial = x + step * direction
            trial_value, trial_grad = objective.value_and_gradient(trial)
            trial_norm = np.linalg.norm(trial_grad)
            if (
                np.isfinite(trial_value)
                and trial_norm < gnorm
                and trial_value <= value + VALUE_SLACK * abs(value)
            ):
                break
            step *= 0.5
        else:
            break  # no step reduces the gradient: nothing left to gain
        x, value, grad, gnorm = trial, trial_value, trial_grad, trial_norm
        steps += 1
    return x, steps, gnorm / g_ref
