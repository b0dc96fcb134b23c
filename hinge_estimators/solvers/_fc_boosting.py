"""Fully-corrective greedy boosting over the features (sparse linear models)."""

import numpy as np

from ._base import (
    BOUND,
    GRADIENT,
    Solver,
    SolveResult,
    gradient_reference,
    guarded,
    optimal_at_zero,
    solve_centered,
    solve_columns,
)
from ._newton import TrustRegionNewton
from ._newton_finish import newton_finish, strong_convexity_bound

#: the refit's Newton tolerance (relative suboptimality): each refit is
#: solved to near rounding, so that the selected features' gradients vanish
REFIT_TOL = 1e-10
#: Newton iterations allowed per refit
REFIT_MAX_ITER = 1000
#: gradient blocks this close (relative) to the largest tie with it
TIE = 1e-12


class FullyCorrectiveBoosting(Solver):
    """Fully-corrective greedy selection of features (atoms), smooth losses.

    Notes
    -----
    The atoms are the features :math:`x \\mapsto x_j`. Starting from
    :math:`W = 0` with the intercept fitted alone, each round

    1. computes the gradient :math:`\\nabla P` and adds to the active set
       :math:`\\mathcal{A}` the inactive feature whose gradient block is the
       largest, :math:`j = \\arg\\max_{j \\notin \\mathcal{A}}
       \\|\\partial P / \\partial W_{:, j}\\|_2` (its absolute value for one
       score column; the norm over the ``K`` columns of a multiclass loss,
       whose classes then share one set of features; blocks within 1e-12
       of the largest tie, and the lowest index wins, so that rounding does
       not choose between duplicated features). Since
       :math:`\\partial P / \\partial W_{:, j} = X_{:, j}^\\top G`, with
       :math:`G = \\partial P / \\partial \\text{scores}` the functional
       gradient, this is the feature most correlated with the negative
       functional gradient;
    2. refits ALL the active coefficients and the intercept: it minimizes
       :math:`P` restricted to the columns :math:`\\mathcal{A}` of ``X``
       (``LinearObjective.features``) by Newton-CG
       (:class:`TrustRegionNewton`), warm-started from the previous
       coefficients and 0 for the new feature, to a relative suboptimality
       of 1e-10, finished by gradient-judged Newton steps when its gradient
       is still above ``tol / 2``. No step size and no shrinkage: the refit
       is an exact minimization, so :math:`P` never increases, and after it
       every selected feature's gradient is (numerically) zero (the KKT
       conditions of the restricted problem), so a feature is never
       selected twice.

    One-vs-rest problems (a binary loss on ``K > 2`` classes) are solved one
    column at a time: each class selects its own features.

    **tol** bounds the relative suboptimality: with ``penalty="l2"``,
    :math:`P` is 1-strongly convex in :math:`W`, and after a refit the
    intercept is at its minimizer, so
    :math:`P - P^* \\le \\|\\nabla P\\|^2 / 2`; the solver stops, converged,
    once that is at most ``tol`` :math:`|P|`, and ``optimality`` is
    :math:`\\|\\nabla P\\|^2 / (2 |P|)` (summed over one-vs-rest columns). A
    relative gradient norm bounds nothing: with ``C = 100`` it stopped 5 %
    above the optimum. Without a penalty it is the relative gradient norm
    :math:`\\|\\nabla P\\| / \\|\\nabla P(0)\\|`, as before. The
    selected features' part of the gradient is below ``tol / 2`` after each
    refit, so what remains is mostly the unselected features'. With a free
    intercept the solve runs in centered coordinates.

    **max_iter** is the number of features (atoms) the solve may add (per
    one-vs-rest column); ``n_iter`` is the number it added. Reaching it with
    a gradient still above ``tol`` gives ``converged=False`` (the estimator
    warns). To ask for a model on at most ``k`` features, set
    ``max_iter=k``: the result is the exact optimum of ``P`` over the
    ``k`` features chosen (each refit is exact), not the optimum of ``P``,
    and the ``ConvergenceWarning`` says so; silence it with
    :func:`warnings.catch_warnings` when that is what you want. With
    ``max_iter`` at least the number of features, the solve ends at the
    optimum of ``P`` up to ``tol`` (at the latest once every feature is
    active, when the last refit is the full problem).

    A warm start (``coef_init``) keeps the features with a nonzero
    coefficient active.

    Cost: a round is one gradient (one pass over ``X``) plus a Newton solve
    on ``n x |A|`` columns, copied out of ``X`` (one pass); the method pays off
    when the model is to be sparse (``|A|`` much smaller than the number of
    features).
    """

    handles_pairwise = True
    requires_smooth = True
    non_smooth_advice = (
        "use solver='dual_cd' for the hinge and Crammer-Singer losses or "
        "solver='gd' (none of which selects features)"
    )

    def __init__(self):
        pass

    @guarded
    def solve(
        self, objective, coef_init=None, *, tol, max_iter, rng=None, callback=None
    ):
        """Select features and refit until ``tol``; see :class:`Solver`."""
        self.check_loss(objective.loss)
        self.check_penalty(objective.penalty)
        # centered coordinates (LinearObjective.centered): W, hence the
        # selected features, is the same; only the intercept moves. On
        # X + 1e5 the intercept's column swamped the features' gradients
        return solve_centered(
            lambda part, start: self._solve(part, start, tol, max_iter, callback),
            objective,
            coef_init,
        )

    @staticmethod
    def _solve(objective, coef_init, tol, max_iter, callback):
        if objective.loss.is_multiclass or objective.n_outputs == 1:
            return _select_and_refit(objective, coef_init, tol, max_iter, callback)
        return solve_columns(
            lambda part, start: _select_and_refit(part, start, tol, max_iter, callback),
            objective,
            coef_init,
            _relative_bound,
            # one thread: its refits are short numpy steps between Python, which
            # threads slow down (see map_columns)
            threads=False,
        )


def _relative_bound(results):
    """The columns' bounds on ``P_k - P_k*`` summed, relative to the total P."""
    total = sum(r.value for r in results)
    excess = sum(r.optimality * abs(r.value) for r in results)
    if total != 0:
        return excess / abs(total)
    return 0.0 if excess == 0 else np.inf


def _select_and_refit(objective, coef_init, tol, max_iter, callback):
    """The rounds of the Notes on one objective (one column or multiclass)."""
    g_ref = gradient_reference(objective)
    w = objective.zeros() if coef_init is None else np.array(coef_init, float)
    if g_ref == 0.0:
        return optimal_at_zero(objective)
    W, _ = objective.split(w)
    active = [int(j) for j in np.flatnonzero(np.any(W != 0, axis=0))]
    history, n_atoms = [], 0
    while True:
        if active or objective.fit_intercept:
            w = _refit(objective, w, active, g_ref, tol)
        value, grad = objective.value_and_gradient(w)
        # the relative gradient norm bounds nothing (5 % above the optimum at
        # C = 100): stop on the strong-convexity bound; the refit leaves the
        # intercept at its minimizer, where that bound holds
        optimality, measure = strong_convexity_bound(objective, value, grad), BOUND
        if optimality is None:  # penalty=None: no bound, the gradient test
            optimality = float(np.linalg.norm(grad) / g_ref)
            measure = GRADIENT
        history.append(float(value))
        if callback is not None and n_atoms:
            callback(n_atoms, value, optimality, measure, w, objective)
        strength = np.linalg.norm(objective.split(grad)[0], axis=0)
        strength[active] = -np.inf
        j = _strongest(strength)
        if optimality <= tol:
            converged, message = True, "relative gradient norm below tol"
        elif n_atoms >= max_iter:
            converged, message = False, "max_iter features selected"
        elif not strength[j] > 0:
            converged, message = False, "every feature used, refit above tol"
        else:
            active.append(j)
            n_atoms += 1
            continue
        return SolveResult(
            w, n_atoms, converged, float(value), optimality, history, message
        )


def _strongest(strength):
    """The feature of largest gradient block; ties go to the lowest index.

    Strengths within ``TIE`` (relative) of the largest count as equal: a
    duplicated column's gradient differs from its twin's by rounding alone,
    which a BLAS kernel decides differently from another.
    """
    top = float(np.max(strength))
    if not np.isfinite(top):
        return int(np.argmax(strength))
    return int(np.flatnonzero(strength >= top - TIE * abs(top))[0])


def _refit(objective, w, active, g_ref, tol):
    """Minimize ``P`` over the intercept and the features ``active``, from ``w``."""
    sub = objective.features(active)
    W, b = objective.split(w)
    start = sub.join(W[:, active], b)
    coef = (
        TrustRegionNewton()
        .solve(sub, start, tol=REFIT_TOL, max_iter=REFIT_MAX_ITER)
        .coef
    )
    if np.linalg.norm(sub.gradient(coef)) > 0.5 * tol * g_ref:
        coef = newton_finish(sub, coef, g_ref=g_ref, tol=0.5 * tol)[0]
    W_sub, b_sub = sub.split(coef)
    W_new = np.zeros_like(W)
    W_new[:, active] = W_sub
    return _mean_zero_intercepts(objective, objective.join(W_new, b_sub))


def _mean_zero_intercepts(objective, w):
    """``w`` with intercepts of mean 0 when ``P`` cannot tell the difference.

    A multiclass loss of score differences (Crammer-Singer, Weston-Watkins)
    with an unpenalized intercept does not see the intercepts' mean, so the
    optimum is a line; Newton's steps drift along it by rounding (its CG
    amplifies the gradient's 1e-16 component along the null direction).
    Centering picks the point that gradient methods started at 0 keep, so
    that equivalent fits (a weight ``k`` or ``k`` repeats) agree.
    """
    if not (objective.loss.is_multiclass and objective.fit_intercept):
        return w
    W, b = objective.split(w)
    centered = objective.join(W, b - b.mean())
    value = objective.value(w)
    if objective.value(centered) <= value + 1e-14 * abs(value):
        return centered
    return w
