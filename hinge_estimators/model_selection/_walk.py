"""One warm-started sweep of a solver along increasing values of C."""

import numpy as np

from ..estimators._hinge_classifier import _seed
from ..estimators._shared import single_threaded_blas
from ..solvers._base import column_jobs

#: how a dual solution at ``C_old`` starts the dual at ``C_new``: ``"scale"``
#: multiplies the dual variables by ``C_new / C_old``, ``"clip"`` keeps them
#: (the solver clips them into the new box). Measured by
#: ``benchmarks/bench_cv.py --warm``: see RESULTS.md, issue 15.
DUAL_WARM_START = "scale"
#: how the primal solvers start at ``C_new``: ``"previous"`` from the
#: solution at ``C_old``; ``"secant"`` from the line through the last two
#: solutions, extrapolated in ``log C`` (see :func:`walk`)
PRIMAL_WARM_START = "secant"


def walk(
    model,
    problem,
    Cs,
    *,
    dual_warm_start=DUAL_WARM_START,
    primal_warm_start=PRIMAL_WARM_START,
):
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
    primal_warm_start : {"secant", "previous"}
        See :data:`PRIMAL_WARM_START`.

    Yields
    ------
    result : SolveResult
        The solver's result at each ``C`` in turn (``model`` updated first).

    Notes
    -----
    Each solve starts from the previous solutions: the primal solvers from
    the secant through the last two (``w_k + t (w_k - w_{k-1})``, ``t =
    log(C / C_k) / log(C_k / C_{k-1})``: 1 on a log-spaced grid; the first
    two points from the previous solution), ``dual_cd`` from its dual
    variables (``0 <= alpha_i
    <= C s_i`` for the hinge), which it clips into the new box. Scaling them
    by ``C_new / C_old`` keeps the variables at their upper bound there --
    at small ``C`` all of them, the regime where ``W`` grows like ``C`` --
    where plain clipping would leave them at the old bound, far inside the
    new box. The secant start took Newton's iterations over the 20 default
    values from 60 to 43 (breast_cancer), 52 to 40 (spambase) and 35 to 29
    (twonorm), squared hinge; L-BFGS's from 308 to 235 and gd's from 776
    to 442 on breast_cancer. Every point is still solved to its own
    certificate: the start only changes how far the solver has to go.

    The states handed to ``dual_cd`` say ``along_path``: a binary column
    then resumes how the previous point certified it. The active-set
    polish on exact sets is tried first on the same sets (between two
    breakpoints of the piecewise linear hinge path they stay optimal), and
    the primal finish starts from the previous point's primal solution and
    smoothing, before any pass of dual CD. The hinge path's 7 largest
    values of C cost spambase about one cold fit each, 75 % of it in the
    finish after 300 to 900 stalled passes; resumed, 0.67 s became 0.46 s.
    A route that does not pay is dropped for the rest of the path (see
    ``_dual_cd._resume_record``).
    """
    solver, objective = problem.solver, problem.objective
    coef, state, C_old = None, None, None
    previous = None  # (coef, C) one point further back
    for C in Cs:
        point = objective.with_C(C * problem.C_factor)
        if model._is_auto():
            # "auto" follows C (wide sparse data: dual_cd, then newton); a
            # switch starts the new solver from the primal solutions
            chosen = model._auto_solver_at(
                problem.loss, problem.shape, problem.norm_scale, C
            )
            if type(chosen) is not type(solver):
                solver, state = chosen, None
        warm, start = {}, coef
        if solver.resumes_from_state and state is not None:
            ratio = C / C_old if dual_warm_start == "scale" else 1.0
            warm["warm_state"] = _scaled_state(state, ratio)
        elif primal_warm_start == "secant" and previous is not None:
            start = _secant(previous, (coef, C_old), C)
        with single_threaded_blas(), column_jobs(model.n_jobs):
            result = solver.solve(
                point,
                start,
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
        if coef is not None:
            previous = (coef, C_old)
        coef, state, C_old = result.coef, result.state, C
        yield result


def _secant(older, newer, C):
    """The line through two solutions ``(coef, C)``, at ``C`` (in ``log C``)."""
    (coef_a, C_a), (coef_b, C_b) = older, newer
    if C_b == C_a:
        return coef_b
    t = np.log(C / C_b) / np.log(C_b / C_a)
    return coef_b + t * (coef_b - coef_a)


def _scaled_state(state, ratio):
    """``dual_cd``'s per-column states with ``alpha`` times ``ratio``.

    The states are marked ``along_path`` (see :func:`walk`). A column whose
    primal finish did not certify at one C still runs it at the next: the
    finish's cost is bounded by its budget of passes, and one that ran out
    at one C (text, 5,000 x 20,000, the hinge at C = 382) certified the
    next (C = 790, in 346 passes), where skipping it, as the path once did
    (its Hessian products were unmetered then), left dual CD alone at
    ``max_iter`` there too.
    """
    if not isinstance(state, list):
        return state
    return [
        {
            **column,
            "alpha": np.asarray(column["alpha"]) * ratio,
            "along_path": True,
        }
        for column in state
    ]
