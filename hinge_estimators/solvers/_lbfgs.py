"""L-BFGS-B from scipy: the reference solver for smooth losses."""

import numbers

import numpy as np
from scipy.optimize import minimize

from ._base import (
    GRADIENT,
    Solver,
    SolveResult,
    gradient_reference,
    guarded,
    optimal_at_zero,
    solve_centered,
)
from ._newton_finish import certify, newton_finish

#: Newton steps allowed to turn a small gradient into a certified bound
FINISH_STEPS = 50


#: L-BFGS-B allocates ``n * memory`` doubles and takes ``maxls`` as a C int:
#: larger values failed inside scipy with an unclear error
MAX_MEMORY = 10_000
MAX_LINE_SEARCH = 2**31 - 1


def _bounded_int(value, top):
    if (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and 1 <= value <= top
    ):
        return None
    return f"must be an integer in [1, {top}]"


class LBFGS(Solver):
    """Limited-memory BFGS (scipy's L-BFGS-B) on a smooth objective.

    Parameters
    ----------
    memory : int, default=10
        Number of correction pairs kept (L-BFGS-B's ``maxcor``), at most
        10000.
    max_line_search : int, default=50
        Line-search steps allowed per iteration (``maxls``), at most
        ``2**31 - 1`` (a C int).

    Notes
    -----
    Runs until the relative gradient norm
    :math:`\\|\\nabla P(w)\\| \\le \\mathrm{tol}\\,\\|\\nabla P(0)\\|` (scipy's own
    ``gtol``/``ftol`` tests are switched off). When L-BFGS-B halts because the
    objective no longer decreases in floating point (typically near a relative
    gradient norm of 1e-9), a few Newton-CG steps judged by the gradient norm
    finish the job. A small relative gradient bounds nothing (at ``C = 100``
    it stopped 28 % above the optimum), so the point is then certified, as
    by ``gd``: with ``penalty="l2"`` and each free intercept moved to its
    exact minimizer, :math:`P - P^* \\le \\|\\nabla P\\|^2 / 2`; Newton-CG
    steps refine the point until that is at most ``tol`` :math:`|P|`.
    ``optimality`` is :math:`\\|\\nabla P\\|^2 / (2|P|)`, a bound on the
    relative suboptimality (the relative gradient norm without a penalty).

    With a free, unpenalized intercept the problem is solved in centered
    coordinates (:meth:`LinearObjective.centered`): the same minimizer, and
    a shift of every feature by a constant changes neither the iterates'
    scores nor the stopping test. Gradients, ``g_ref`` and ``optimality``
    are those of the centered problem. Uncentered, the intercept's constant
    column is nearly collinear with features far from 0: on ``X + 1e4``
    L-BFGS-B met a 1e-8 relative gradient 0.6 % above the optimum (the
    reference :math:`\\|\\nabla P(0)\\|` is then inflated by the offset, and the
    problem is ill-conditioned).
    """

    handles_pairwise = True
    requires_smooth = True
    non_smooth_advice = "use solver='gd' (Nesterov smoothing)"
    _constraints = {
        "memory": lambda v: _bounded_int(v, MAX_MEMORY),
        "max_line_search": lambda v: _bounded_int(v, MAX_LINE_SEARCH),
    }

    def __init__(self, memory=10, max_line_search=50):
        self.memory = memory
        self.max_line_search = max_line_search

    @guarded
    def solve(
        self, objective, coef_init=None, *, tol, max_iter, rng=None, callback=None
    ):
        """Minimize ``objective`` with L-BFGS-B; see :class:`Solver`."""
        self.check_loss(objective.loss)
        self.check_penalty(objective.penalty)
        x0 = objective.zeros() if coef_init is None else np.array(coef_init, float)
        return solve_centered(
            lambda part, start: self._solve(part, start, tol, max_iter, callback),
            objective,
            x0,
        )

    def _solve(self, objective, x0, tol, max_iter, callback):
        g_ref = gradient_reference(objective)
        if g_ref == 0.0:
            return optimal_at_zero(objective)

        last = {}

        def fun(x):
            value, grad = objective.value_and_gradient(x)
            last.update(x=x.copy(), value=value, grad_norm=np.linalg.norm(grad))
            return value, grad

        history = []
        state = {"converged": False, "optimality": np.inf}

        def on_iteration(intermediate_result):
            history.append(float(intermediate_result.fun))
            x = intermediate_result.x
            if "x" in last and np.array_equal(x, last["x"]):
                ratio = last["grad_norm"] / g_ref
            else:  # scipy reports a point it did not just evaluate: measure it
                ratio = np.linalg.norm(objective.gradient(x)) / g_ref
            state["optimality"] = ratio
            if callback is not None:
                callback(
                    len(history), history[-1], ratio, GRADIENT, x.copy(), objective
                )
            if ratio <= tol:
                state["converged"] = True
                raise StopIteration

        # measure the start first: a warm start may already be optimal
        _, grad0 = objective.value_and_gradient(x0)
        if np.linalg.norm(grad0) <= tol * g_ref:
            coef, steps, optimality, converged = certify(
                objective, x0, g_ref=g_ref, tol=tol, max_steps=FINISH_STEPS
            )
            if converged:
                return SolveResult(coef, steps, True, objective.value(coef), optimality)
        # L-BFGS-B halts when the objective stops decreasing in floating point,
        # sometimes above tol; a restart with fresh curvature pairs often gets
        # further. Restart while that helps, within the iteration budget.
        x, n_iter = x0, 0
        for _ in range(4):
            result = minimize(
                fun,
                x,
                jac=True,
                method="L-BFGS-B",
                callback=on_iteration,
                options={
                    "maxiter": max_iter - n_iter,
                    "maxcor": self.memory,
                    "maxls": self.max_line_search,
                    "gtol": 0.0,
                    "ftol": 0.0,
                    "maxfun": max(15000, 20 * max_iter),
                },
            )
            n_iter += int(result.nit)
            progressed = result.nit > 1
            x = result.x
            if state["converged"] or n_iter >= max_iter or not progressed:
                break
        coef = result.x
        value, grad = objective.value_and_gradient(coef)
        optimality = np.linalg.norm(grad) / g_ref
        converged = state["converged"] or optimality <= tol
        message = "relative gradient norm below tol" if converged else result.message
        if not converged and n_iter < max_iter:
            # stalled on rounding in P, not on the budget: finish with Newton
            coef, steps, optimality = newton_finish(
                objective, coef, g_ref=g_ref, tol=tol, max_steps=max_iter - n_iter
            )
            n_iter += steps
            value = objective.value(coef)
            converged = optimality <= tol
            if converged:
                message = "relative gradient norm below tol (Newton finish)"
        if converged:
            # the gradient test bounds nothing: certify P - P* (or refine)
            coef, steps, optimality, converged = certify(
                objective, coef, g_ref=g_ref, tol=tol, max_steps=FINISH_STEPS
            )
            n_iter += steps
            value = objective.value(coef)
            message = (
                "relative suboptimality bound below tol"
                if converged
                else "the suboptimality bound stays above tol"
            )
        return SolveResult(
            coef=coef,
            n_iter=n_iter,
            converged=bool(converged),
            value=float(value),
            optimality=float(optimality),
            history=history,
            message=message,
        )
