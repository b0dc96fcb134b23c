"""A few Newton-CG steps to finish where a line search on values cannot.

Near the optimum the objective's decrease falls below its rounding error, so a
method that needs ``P`` to go down (L-BFGS-B's line search) stalls at a relative
gradient norm around 1e-9. Newton steps judged by the GRADIENT norm keep
converging (quadratically, or finitely for piecewise-quadratic losses such as
the squared hinge), since the gradient is computed to far better relative
accuracy than the change in ``P``.
"""

import numpy as np


def newton_finish(objective, x, *, g_ref, tol, max_steps=20):
    """Refine ``x`` by damped Newton-CG steps accepted on gradient decrease.

    Returns ``(x, n_steps, relative_gradient_norm)``.
    """
    grad = objective.gradient(x)
    gnorm = np.linalg.norm(grad)
    steps = 0
    while steps < max_steps and gnorm > tol * g_ref:
        direction = _conjugate_gradient(
            objective.hessian_operator(x),
            -grad,
            rtol=min(0.1, np.sqrt(gnorm / g_ref)),
            max_iter=200,
        )
        step = 1.0
        for _ in range(30):
            trial = x + step * direction
            trial_grad = objective.gradient(trial)
            trial_norm = np.linalg.norm(trial_grad)
            if trial_norm < gnorm:
                break
            step *= 0.5
        else:
            break  # no step reduces the gradient: nothing left to gain
        x, grad, gnorm = trial, trial_grad, trial_norm
        steps += 1
    return x, steps, gnorm / g_ref


def _conjugate_gradient(hessp, b, *, rtol, max_iter):
    """Solve ``H d = b`` by CG, stopping at a direction of zero curvature.

    The Hessian is only positive SEMI-definite when the intercept is not
    penalized (shifting every class's intercept together changes no
    multiclass loss), so plain CG could divide by zero.
    """
    d = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    stop = (rtol * np.sqrt(rr)) ** 2
    for _ in range(max_iter):
        if rr <= stop:
            break
        Hp = hessp(p)
        curvature = p @ Hp
        if curvature <= 1e-300:
            break  # flat direction: keep what has been solved so far
        alpha = rr / curvature
        d += alpha * p
        r -= alpha * Hp
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return d if d.any() else b
