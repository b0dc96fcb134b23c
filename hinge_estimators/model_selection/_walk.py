"""One warm-started sweep of a solver along increasing values of C."""

import numpy as np

from ..estimators._hinge_classifier import _seed
from ..estimators._shared import single_threaded_blas

#: how a dual solution at ``C_old`` starts the dual at ``C_new``: ``"scale"``
#: multiplies the dual variables by ``C_new / C_old``, ``"clip"`` keeps them
#: (the solver clips them into the new box). Measured by
#: ``benchmarks/bench_cv.py --warm``: see RESULTS.md, issue 15.
DUAL_WARM_START = "scale"


def walk(model, problem, Cs, *, dual_warm_start=DUAL_WARM_START):
    """Solve ``problem`` at each ``C`` of ``Cs`` (increasing), warm-started.

    Parameters
    ----------
    model : HingeClassifier
        Supplies ``tol``, ``max_iter`` and ``random_state``; after each
        solve it holds the model at that ``C`` (``coef_``, ``intercept_``,
        ``objective_value_``, ``optimality_``, ``n_iter_``), as a fit at that
        ``C`` would leave it.
    problem : namespace
        From ``HingeClassifier._problem``: the objective, built once.
    Cs : sequence of float
        Values of ``C`` in the user's units, increasing.
    dual_warm_start : {"scale", "clip"}
        See :data:`DUAL_WARM_START`.

    Yields
    ------
    result : SolveResult
        The solver's result at each ``C`` in turn (``model`` updated first).

    Notes
    -----
    Each solve starts from the previous solution: the primal solvers from
    its coefficients, ``dual_cd`` from its dual variables (``0 <= alpha_i
    <= C s_i`` for the hinge), which it clips into the new box. Scaling them
    by ``C_new / C_old`` keeps the variables at their upper bound there --
    at small ``C`` all of them, the regime where ``W`` grows like ``C`` --
    where plain clipping would leave them at the old bound, far inside the
    new box.
    """
    solver, objective = problem.solver, problem.objective
    coef, state, C_old = None, None, None
    for C in Cs:
        point = objective.with_C(C * problem.C_factor)
        warm = {}
        if solver.resumes_from_state and state is not None:
            ratio = C / C_old if dual_warm_start == "scale" else 1.0
            warm["warm_state"] = _scaled_state(state, ratio)
        with single_threaded_blas():
            result = solver.solve(
                point,
                coef,
                tol=model.tol,
                max_iter=model.max_iter,
                rng=np.random.default_rng(_seed(model.random_state)),
                **warm,
            )
        model.C = C
        model._store(
            result,
            point,
            problem.encoding,
            problem.codes,
            problem.loss,
            solver,
            problem.value_scale,
        )
        model.n_iter_ = int(result.n_iter)
        coef, state, C_old = result.coef, result.state, C
        yield result


def _scaled_state(state, ratio):
    """``dual_cd``'s per-column states with ``alpha`` times ``ratio``."""
    if ratio == 1.0 or not isinstance(state, list):
        return state
    return [
        {**column, "alpha": np.asarray(column["alpha"]) * ratio} for column in state
    ]
