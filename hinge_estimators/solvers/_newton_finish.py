"""A few Newton-CG steps to finish where a line search on values cannot.

Near the optimum the objective's decrease falls below its rounding error, so a
method that needs ``P`` to go down (L-BFGS-B's line search) stalls at a relative
gradient norm around 1e-9. Newton steps judged by the GRADIENT norm keep
converging (quadratically, or finitely for piecewise-quadratic losses such as
the squared hinge), since the gradient is computed to far better relative
accuracy than the change in ``P``.
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg


def newton_finish(objective, x, *, g_ref, tol, max_steps=20):
    """Refine ``x`` by damped Newton-CG steps accepted on gradient decrease.

    Returns ``(x, n_steps, relative_gradient_norm)``.
    """
    grad = objective.gradient(x)
    gnorm = np.linalg.norm(grad)
    steps = 0
    while steps < max_steps and gnorm > tol * g_ref:
        hessp = objective.hessian_operator(x)
        H = LinearOperator((x.size, x.size), matvec=hessp, dtype=float)
        direction, _ = cg(H, -grad, rtol=min(0.1, np.sqrt(gnorm / g_ref)), maxiter=200)
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
