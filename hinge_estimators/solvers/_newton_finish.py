"""A few Newton-CG steps to finish where a line search on values cannot.

Near the optimum the objective's decrease falls below its rounding error, so a
method that needs ``P`` to go down (L-BFGS-B's line search) stalls at a relative
gradient norm around 1e-9. Newton steps judged by the GRADIENT norm keep
converging (quadratically, or finitely for piecewise-quadratic losses such as
the squared hinge), since the gradient is computed to far better relative
accuracy than the change in ``P``.
"""

import numpy as np

from ._newton import _exact_step, _steihaug

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


def strong_convexity_bound(objective, value, grad):
    """``||g||^2 / (2 mu |P|)``: a bound on ``(P - P*) / |P|``, or None.

    With ``penalty="l2"``, ``P`` is ``mu``-strongly convex in ``W`` (``mu =
    reg``; with a penalized intercept ``mu = min(reg, intercept_penalty)``),
    so ``P(w) - P* <= ||g||^2 / (2 mu)``. With a free, unpenalized
    intercept the bound holds for ``W`` at the intercept's minimizer; the
    intercept's part of ``g`` is included in the norm, which covers its
    first-order effect once that part is small (it is driven down with the
    rest). Without a penalty there is no bound (None).
    """
    mu = float(objective.reg)
    if objective.fit_intercept and objective.intercept_penalty > 0:
        mu = min(mu, float(objective.intercept_penalty))
    if not mu > 0:
        return None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        absolute = float(grad @ grad) / (2.0 * mu)
        if value != 0:
            return absolute / abs(value)
    return 0.0 if absolute == 0 else np.inf


def certify(objective, x, *, g_ref, tol, max_steps=50):
    """Check, and if needed refine, a point that met the gradient test.

    A relative gradient norm below ``tol`` does not bound ``P - P*`` (with
    ``C = 100`` L-BFGS-B stopped 28 % above the optimum at a 1e-4 relative
    gradient): when the strong-convexity bound
    :func:`strong_convexity_bound` is above ``tol``, the point is refined by
    Newton-CG (``TrustRegionNewton`` asked for ``tol * 1e-3``: it converges
    quadratically, or finitely for piecewise-quadratic losses), then by
    :func:`newton_finish` if ``P``'s rounding stopped it first.
    Returns ``(x, n_steps, optimality, certified)``; ``optimality`` is that
    bound, or the relative gradient norm when there is none
    (``penalty=None``).
    """
    if objective.reg > 0:
        x = _optimal_intercept(objective, x)
    value, grad = objective.value_and_gradient(x)
    bound = strong_convexity_bound(objective, value, grad)
    ratio = float(np.linalg.norm(grad) / g_ref)
    if bound is None:
        return x, 0, ratio, ratio <= tol
    steps = 0
    if bound > tol and max_steps > 0:
        mu = float(objective.reg)
        if objective.fit_intercept and objective.intercept_penalty > 0:
            mu = min(mu, float(objective.intercept_penalty))
        # Newton-CG (exact line searches for a piecewise-quadratic loss)
        # converges quadratically or finitely: asked for far below tol, its
        # gradient, hence the bound, follows
        from ._newton import TrustRegionNewton

        run = TrustRegionNewton().solve(
            objective, x, tol=max(tol * 1e-3, 1e-15), max_iter=max_steps
        )
        x, steps = run.coef, run.n_iter
        value, grad = objective.value_and_gradient(x)
        if strong_convexity_bound(objective, value, grad) > tol:
            # Newton stopped on P's rounding: gradient-judged steps go on
            target = min(tol, np.sqrt(2.0 * mu * tol * abs(value)) / g_ref)
            x, more, _ = newton_finish(
                objective, x, g_ref=g_ref, tol=target, max_steps=max_steps
            )
            steps += more
        x = _optimal_intercept(objective, x)
        value, grad = objective.value_and_gradient(x)
        bound = strong_convexity_bound(objective, value, grad)
    return x, steps, float(bound), bool(bound <= tol)


def _optimal_intercept(objective, x):
    """``x`` with each free intercept moved to its exact minimizer for ``W``.

    ``P`` is strongly convex in ``W`` only: the bound ``||g||^2 / 2`` holds
    at ``(W, b*(W))``. One exact line search per intercept (the columns of
    a binary loss do not share intercepts); a multiclass loss couples its
    intercepts and is left as is. Kept only if ``P`` does not go up.
    """
    if (
        not objective.fit_intercept
        or objective.intercept_penalty > 0
        or objective.loss.is_multiclass
    ):
        return x
    value = objective.value(x)
    for k in range(objective.n_outputs):
        grad = objective.gradient(x)
        index = objective._n_coef + k
        if grad[index] == 0.0 or not np.isfinite(grad[index]):
            continue
        direction = np.zeros_like(x)
        direction[index] = -grad[index]
        step, _ = _exact_step(
            objective, x, objective.scores(x), direction, -(grad[index] ** 2)
        )
        trial = x + step * direction
        trial_value = objective.value(trial)
        if np.isfinite(trial_value) and trial_value <= value:
            x, value = trial, trial_value
    return x
