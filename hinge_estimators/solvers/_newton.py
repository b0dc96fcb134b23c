"""Newton-CG for smooth losses: a trust region (TRON, LIBLINEAR's primal
solver) or, for piecewise-quadratic losses, exact line searches (finite Newton)."""

import contextvars
import numbers

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ..penalties import L2
from ._base import (
    DECREMENT,
    Solver,
    SolveResult,
    counted_after,
    gradient_reference,
    guarded,
    optimal_at_zero,
    solve_centered,
    solve_columns,
)
from ._primal_cd_fast import LOSS_CODES as LINE_LOSS_CODES
from ._primal_cd_fast import line_slope

# Ratio-test thresholds and radius factors of LIBLINEAR's TRON (formulas.md §7.2).
ETA0, ETA1, ETA2 = 1e-4, 0.25, 0.75
SIGMA1, SIGMA2, SIGMA3 = 0.25, 0.5, 4.0
# A predicted decrease below this fraction of |P| is lost in P's rounding error,
# so the ratio test is replaced by "the gradient norm went down".
NOISE = 1e-12
# Relative suboptimality that double precision cannot resolve in P.
FLOOR = 16 * np.finfo(float).eps
# CG works on H + SHIFT * (g.Hg / g.g) I: H can be singular, and the gradient's
# rounding error along a null direction would send every CG to the boundary.
SHIFT = 1e-10
# With line searches, a step counts as the full Newton step when its length
# is within this fraction of 1 (the decrement test then applies, see Notes).
FULL_STEP = 0.1
#: the message of a result certified by the duality gap (a proven bound)
GAP_CERTIFIED = "relative duality gap below tol"
#: set while L-BFGS runs on from Newton's point (:meth:`TrustRegionNewton.
#: _quasi_newton`): L-BFGS's certificate calls Newton, which must not call
#: L-BFGS again
_IN_QUASI_NEWTON = contextvars.ContextVar("hinge_quasi_newton", default=False)
#: Newton iterations after which a squared Weston-Watkins fit that has not
#: converged goes to the interior point (where its normal equations fit,
#: ``interior_point_fits``): on real sets at C = 100 and 1,000 Newton
#: crawled (splice 163 and 364 iterations, 109 and 416 s; digits 101 and
#: 193; texture 48 and 82), where the interior point takes 24-55 steps
#: (0.3-0.9 s); at C <= 1 it took 6-27, on tall synthetic data (100,000 x
#: 30, 8 classes) 4, where the interior point is 4-6 times slower. After 20
#: iterations texture at C = 100 had spent 3.6 s in them (0.6 s in the
#: interior point after)
HANDOVER_ITERATIONS = 10
#: ... where ``max_iter`` leaves the interior point at least this many steps
#: (it took 20-55 on those sets; with fewer, it stops near its start, and
#: Newton keeps the whole budget)
HANDOVER_MIN_STEPS = 30
#: line-search Newton factorizes the formed Hessian (see :func:`_formed`)
#: once a step's CG took more than ``FORM_AFTER`` products and ``size /
#: FORM_RATIO``
FORM_AFTER = 10
FORM_RATIO = 10
#: the gap is measured once the free bound ``||g_W||^2 / (2 reg)`` (the gap
#: itself at the optimal intercept, see _gap_certificate) is within this
#: multiple of ``tol * |P|``
GAP_GATE = 2.0


def _cg_limit(value):
    if value is None or (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and value >= 1
    ):
        return None
    return "must be None or an integer >= 1"


class TrustRegionNewton(Solver):
    """Newton-CG: trust region (TRON) or exact line search (finite Newton).

    Parameters
    ----------
    globalization : {"auto", "trust_region", "line_search"}, default="auto"
        How a Newton-CG direction becomes a step. ``"trust_region"``: TRON, as
        LIBLINEAR's primal solver. ``"line_search"``: the CG direction is
        solved without a radius and the step goes to the minimizer of ``P``
        along it (Keerthi and DeCoste's modified finite Newton method, for
        the squared hinge). ``"auto"`` uses the line search for per-sample
        losses whose curvature is piecewise constant
        (``loss.is_piecewise_quadratic``: squared and smoothed hinges,
        modified Huber, squared or smoothed Weston-Watkins) and the trust
        region otherwise (pairwise losses included); see Notes.
    max_cg_iter : int or None, default=None
        Conjugate-gradient steps allowed per Newton iteration; ``None`` means
        ``max(10 * objective.size, 100)``. CG needs at most ``objective.size``
        steps in exact arithmetic but more in floating point when ``H`` is
        ill-conditioned; an iteration whose CG is cut short still takes its
        step but cannot certify convergence.

    Notes
    -----
    Each iteration approximately solves the trust-region subproblem
    :math:`\\min_{\\|s\\| \\le \\Delta} g^\\top s + \\tfrac12 s^\\top H s` at the
    iterate :math:`w` (gradient :math:`g`, generalized Hessian :math:`H`, one
    ``objective.hessian_operator`` per point) by Steihaug's CG: it stops when
    :math:`\\|r\\| \\le \\eta\\|g\\|` with the forcing term
    :math:`\\eta = \\min(0.1, \\sqrt{\\|g\\| / \\|\\nabla P(0)\\|})`
    (superlinear convergence), or on the boundary when a step would leave the
    region or a direction has no positive curvature. The step is accepted when
    the actual decrease exceeds :math:`\\eta_0 = 10^{-4}` times the predicted
    one; the radius follows LIBLINEAR (:math:`\\eta_1 = 0.25, \\eta_2 = 0.75`,
    :math:`\\sigma_{1,2,3} = 0.25, 0.5, 4`, :math:`\\Delta_0 = \\|g_0\\|`, cut to
    the first step's length).

    **tol bounds the relative suboptimality** :math:`(P(w) - P^*) / |P(w)|`,
    as for ``dual_cd`` (where it is the relative duality gap) and unlike
    ``lbfgs`` and ``gd`` (relative gradient norm). It is measured by the
    Newton decrement: when CG ends inside the region with its residual test
    met, its step :math:`s \\approx -H^{-1} g` gives

    .. math:: \\delta = -g^\\top s - \\tfrac12 s^\\top H s
              \\approx \\tfrac12 g^\\top H^{-1} g \\approx P(w) - P^*,

    exact for a quadratic (the squared hinge is piecewise quadratic). Far from
    the optimum, while samples still change pieces, :math:`\\delta` can
    underestimate :math:`P(w) - P^*` several-fold, so the solver stops at
    :math:`w_k` only once Newton is in its superlinear phase: the full Newton
    step from :math:`w_{k-1}` was taken, :math:`\\delta_{k-1} \\le
    \\mathrm{tol}\\,|P(w_{k-1})|` and :math:`\\delta_k \\le \\delta_{k-1} / 4`.
    It then takes the step :math:`s_k` if it lowers ``P`` and reports
    ``optimality`` :math:`= \\delta_{k-1} / |P(w_{k-1})|`, measured two Newton
    steps behind the returned point (for :math:`P^* \\ge 0` the relative
    suboptimality grows with ``P``). At the first point there is no previous
    decrement: it stops when :math:`4\\delta_0 \\le \\mathrm{tol}\\,|P(w_0)|`,
    reporting :math:`4\\delta_0 / |P(w_0)|`, so a warm start that meets ``tol``
    takes 0 iterations (its first radius is also at least :math:`\\|w_0\\|`).
    The certifying solve is the stopping test, not counted in ``n_iter``.
    The decrement is an estimate, and it understated ``P - P*`` on separable
    data scaled by 1e6 (the flat intercept direction): with
    ``penalty="l2"`` a converged run is then checked by the
    strong-convexity bound :math:`\\|\\nabla P\\|^2 / 2 \\ge P - P^*`
    (``P`` is 1-strongly convex in ``W``; each free intercept first moved to
    its exact minimizer), refined by more Newton steps at ``tol * 1e-3``
    when above ``tol``; ``optimality`` is the larger of the two measures
    relative to :math:`|P|`, and ``converged`` requires it below ``tol``. At
    ``max_iter`` the result is not converged and ``optimality`` is the last
    :math:`\\delta / |P|` (``inf`` if that CG ended on the boundary).

    **Duality gap.** For a binary loss with ``penalty="l2"`` the solver
    also stops at any iterate whose relative duality gap
    (:meth:`LinearObjective.duality_gap`, a proof by weak duality) is
    within ``tol``, and reports that gap. With the dual point at the loss
    gradient the gap equals :math:`\\|\\nabla_W P\\|^2 / 2` once a free
    intercept is at its minimizer, so it is measured only when that free
    estimate is within ``2 tol |P|``, after moving the intercept by 1-D
    Newton steps on the scores (no product with ``X``; off its minimizer the
    intercept costs the gap a term linear in its derivative). Asking CG
    for the residual that would leave the estimate at ``tol / 10`` after
    the step saved nothing measurable on a path (the steps that miss are
    those where samples change pieces). A warm start close to the optimum (a
    regularization path) then takes 0 or 1 iteration where the decrement's
    test needs 2 and a certifying solve. A point the decrement certified is
    checked by the gap first (two products) and by the strong-convexity
    bound only where the gap is above ``tol``.

    **Line search.** For a piecewise-quadratic loss the quadratic model is
    exact only until a sample crosses a breakpoint of the loss. With a large
    ``C`` on nearly separable data the curvature jumps from about ``2C x
    x^T`` to 0 as samples leave the margin, and TRON's radius keeps
    collapsing: on standardized digits (3 against the rest, squared hinge,
    ``C = 100``) it took 600 iterations, and did not converge in 1000 at
    ``C = 10^4``; LIBLINEAR's primal solver also stops at its 1000 then. Along
    a direction :math:`s`, :math:`P(w + t s)` needs no pass over ``X`` once
    the scores :math:`Xs` are known, so the exact minimizer :math:`t^*` (the
    root of the monotone derivative, by safeguarded regula falsi: a handful
    of loss evaluations) is cheap, and the method ends in finitely many
    steps once the active set stops changing (36 and 55 iterations on those
    two problems). The stopping test is the same, with "the full Newton
    step" meaning :math:`|t^* - 1| \\le 0.1`.

    Once predicted decreases fall under ``P``'s rounding error
    (:math:`10^{-12} |P|`), steps are accepted when they lower the gradient
    norm; when that fails, or the radius collapses, the solver stops,
    converged if :math:`\\delta \\le \\max(\\mathrm{tol}, 16\\epsilon)\\,|P|` or
    :math:`\\|g\\| \\le 10^{-9} \\|\\nabla P(0)\\|`. ``H`` may be singular
    (``penalty=None``; a multiclass loss with an unpenalized intercept only
    sees score differences): CG works on :math:`H + 10^{-10} \\rho I`,
    :math:`\\rho = g^\\top H g / g^\\top g`, so that the gradient's rounding
    error along a null direction does not push every step to the boundary.

    The line search's directions on one score column of CSR data run the
    same CG compiled (:meth:`LinearObjective.hessian_operator`), with a
    Jacobi preconditioner :math:`\\mathrm{diag}(H)`; the residual test and
    the decrement are unchanged (they use the unpreconditioned residual).

    With a free, unpenalized intercept the problem is solved in centered
    coordinates (:meth:`LinearObjective.centered`), as by ``lbfgs``: the
    same minimizer, and shifting every feature by a constant changes neither
    the iterates' scores nor the certificate. Uncentered, the intercept's
    column is nearly collinear with features far from 0, ``H`` is
    ill-conditioned and the decrement no longer bounds ``P - P*``.

    Squared Weston-Watkins with the L2 penalty, where its dual's normal
    equations fit (``interior_point_fits``) and ``max_iter`` leaves room: a
    fit not converged in ``HANDOVER_ITERATIONS`` (10) iterations goes on in
    the interior point (``InteriorPoint``), from Newton's point. On near
    separable data at a large C Newton crawls there (splice at C = 1,000:
    364 iterations, 416 s; 0.97 s with the hand-over); on tall data it
    converges in a few iterations and keeps the fit. Where the decrement
    stops Newton but neither the duality gap nor the strong-convexity
    bound holds ``tol`` (a curvature breakpoint where many samples lie),
    L-BFGS goes on from its point with the iterations left.
    """

    handles_pairwise = True
    requires_smooth = True
    non_smooth_advice = (
        "use solver='dual_cd' for the hinge and Crammer-Singer losses or solver='gd'"
    )
    _constraints = {
        "globalization": ("auto", "trust_region", "line_search"),
        "max_cg_iter": _cg_limit,
    }

    def __init__(self, globalization="auto", max_cg_iter=None):
        self.globalization = globalization
        self.max_cg_iter = max_cg_iter

    def _line_search(self, loss):
        if self.globalization == "auto":
            # a pairwise loss has a breakpoint per PAIR: its quadratic model
            # degrades gradually, and each point of a line search costs a
            # sort (measured: check_estimator's fits 10x slower)
            piecewise = bool(getattr(loss, "is_piecewise_quadratic", False))
            return piecewise and not loss.is_pairwise
        return self.globalization == "line_search"

    @guarded
    def solve(
        self, objective, coef_init=None, *, tol, max_iter, rng=None, callback=None
    ):
        """Minimize ``objective`` by TRON; see :class:`Solver`."""
        self.check_loss(objective.loss)
        self.check_penalty(objective.penalty)
        if not objective.loss.is_multiclass and objective.n_outputs > 1:
            return self._solve_columns(objective, coef_init, tol, max_iter, callback)
        # centered coordinates (as lbfgs): on features far from 0 the
        # intercept's column is nearly collinear with them, H is then
        # ill-conditioned and the decrement no longer tracks P - P* (on
        # X + 1e8 the decrement certified a model twice the optimum)
        w = objective.zeros() if coef_init is None else np.array(coef_init, float)
        handover = _interior_point_takes(objective) and (
            max_iter >= HANDOVER_ITERATIONS + HANDOVER_MIN_STEPS
        )
        budget = HANDOVER_ITERATIONS if handover else max_iter
        result = solve_centered(
            lambda part, start: self._solve(part, start, tol, budget, callback),
            objective,
            w,
        )
        if not handover or result.converged or result.n_iter < budget:
            return result
        return self._hand_over(objective, result, tol, max_iter, callback)

    def _hand_over(self, objective, result, tol, max_iter, callback):
        """Newton crawled for ``HANDOVER_ITERATIONS``: the interior point from
        its point (which names the samples beyond their margins), certified
        within ``tol`` (near the optimum, not on it); where it is not,
        Newton goes on from its point with the iterations left (from a
        certified one, Newton's finish cost splice at C = 1,000 11.6 s in
        14 iterations of long CG runs, against 1.9 s for the rest). The
        best result, the iterations of all counted."""
        from ._interior_point_solver import InteriorPoint

        spent = result.n_iter
        if max_iter - spent < HANDOVER_MIN_STEPS:
            # (Newton's strong-convexity refinement may have run past its
            # budget)
            return result
        found = InteriorPoint().solve(
            objective,
            result.coef,
            tol=tol,
            max_iter=max_iter - spent,
            callback=counted_after(callback, spent),
        )
        spent += found.n_iter
        candidates = [result, found]
        if not found.converged and spent < max_iter:
            # from the lower of the two points (an interior point cut short
            # is near its centre, far above Newton's)
            start = min(candidates, key=lambda r: r.value).coef
            finish = solve_centered(
                lambda part, begin: self._solve(
                    part, begin, tol, max_iter - spent,
                    counted_after(callback, spent),
                ),
                objective,
                start,
            )  # fmt: skip
            spent += finish.n_iter
            candidates.append(finish)
        # certified first, then the lowest P (the measures of uncertified
        # results differ: Newton's decrement may be inf, the interior
        # point's a duality gap)
        best = min(candidates, key=lambda r: (not r.converged, r.value))
        best.n_iter = spent
        if not best.converged and spent >= max_iter:
            best.message = f"max_iter={max_iter} reached ({best.message})"
        return best

    def _solve(self, objective, w, tol, max_iter, callback):
        gap_applies = _gap_applies(objective)
        result = self._newton(
            objective, w, tol, max_iter, callback, duality_gap=gap_applies
        )
        if (
            not result.converged
            or not objective.reg > 0
            or result.message == GAP_CERTIFIED
        ):
            return result
        # the decrement estimates P - P*; it understated it on separable
        # data scaled by 1e6 (P = 1e-11, 20x the optimum, optimality 3e-12).
        # A bound is reported instead: the duality gap where it meets tol
        # (one product), else the strong-convexity bound, refined until it
        # meets tol (see _newton_finish.certify)
        if gap_applies:
            gap = _relative_gap(objective, result.coef, result.value)
            if gap <= tol:
                result.optimality = max(gap, result.optimality)
                return result
        from ._newton_finish import _optimal_intercept, strong_convexity_bound

        coef = _optimal_intercept(objective, result.coef)
        value, grad = objective.value_and_gradient(coef)
        bound = strong_convexity_bound(objective, value, grad)
        if bound > tol:
            more = self._newton(
                objective, coef, max(tol * 1e-3, 1e-15), max_iter,
                counted_after(callback, result.n_iter),
            )  # fmt: skip
            coef = _optimal_intercept(objective, more.coef)
            value, grad = objective.value_and_gradient(coef)
            bound = strong_convexity_bound(objective, value, grad)
            result.n_iter += more.n_iter
            result.history += more.history
        result.coef, result.value = coef, float(value)
        result.optimality = max(float(bound), result.optimality)
        result.converged = bool(result.optimality <= tol)
        if not result.converged:
            result.message = "the suboptimality bound stays above tol"
            if (
                result.n_iter < max_iter
                and not objective.loss.is_pairwise
                and not _IN_QUASI_NEWTON.get()
            ):
                return self._quasi_newton(objective, result, tol, max_iter, callback)
        return result

    def _quasi_newton(self, objective, result, tol, max_iter, callback):
        """L-BFGS from Newton's point where Newton's decrement stopped it
        but no bound holds ``tol``: the generalized Hessian's jump at a
        curvature breakpoint, where many samples lie, can shrink the steps
        and the decrement far from the optimum (the modified Huber loss on
        optdigits at C = 1,000, one column: 12 iterations to a bound of
        1.9e-3). The better result, certified first, with the iterations of
        both counted."""
        from ._lbfgs import LBFGS

        token = _IN_QUASI_NEWTON.set(True)
        try:
            more = LBFGS()._solve(
                objective, result.coef, tol, max_iter - result.n_iter,
                counted_after(callback, result.n_iter),
            )  # fmt: skip
        finally:
            _IN_QUASI_NEWTON.reset(token)
        more.n_iter += result.n_iter
        more.history = result.history + more.history
        if more.converged or more.value < result.value:
            return more
        result.n_iter = more.n_iter
        return result

    def _newton(self, objective, w, tol, max_iter, callback, duality_gap=False):
        """Newton iterations from ``w``, stopped by the decrement (Notes).

        With ``duality_gap`` (only where :func:`_gap_applies`), also stopped
        where the relative duality gap is within ``tol``, tested at each
        iterate once its free estimate is close (:func:`_gap_certificate`).
        The result's ``message`` is then :data:`GAP_CERTIFIED` and its
        ``optimality`` that gap.
        """
        g_ref = gradient_reference(objective)
        if g_ref == 0.0:
            return optimal_at_zero(objective)
        if self._line_search(objective.loss):
            return self._solve_line_search(
                objective, w, tol, max_iter, callback, g_ref, duality_gap
            )
        f, g = objective.value_and_gradient(w)
        gnorm = np.linalg.norm(g)
        radius = max(gnorm, np.linalg.norm(w))
        max_cg = self.max_cg_iter or max(10 * objective.size, 100)
        history, n_iter, hessp = [], 0, None
        # Decrement at the previous point when the step from it was a full
        # Newton step, absolute and relative (see Notes). At the start a
        # virtual tol * |P| asks for a first decrement below tol * |P| / 4.
        prev_abs, prev_rel = tol * abs(f), None

        def done(converged, optimality, message):
            return SolveResult(
                w, n_iter, converged, float(f), optimality, history, message
            )

        while True:
            if gnorm == 0.0:
                return done(True, 0.0, "gradient is exactly zero")
            certified = duality_gap and _gap_certificate(objective, w, f, g, None, tol)
            if certified:
                w, f, gap = certified
                return done(True, gap, GAP_CERTIFIED)
            cg_tol = min(0.1, np.sqrt(gnorm / g_ref)) * gnorm
            if hessp is None:  # the curvature is evaluated once per point
                hessp = objective.hessian_operator(w)
            s, r, status = _steihaug(hessp, g, radius, cg_tol, max_cg)
            gs = g @ s
            prered = -0.5 * (gs - s @ r)  # = -(g.s + s.Hs/2), r = -(g + Hs)
            decrement = prered if status == "solved" else np.inf
            measure = _relative(decrement, f)
            bound = _certified(prev_abs, prev_rel, decrement, measure, tol)
            if bound is not None:
                trial = objective.value(w + s)
                if trial <= f:
                    w, f = w + s, trial
                return done(True, bound, "Newton decrement below tol * P")
            if n_iter >= max_iter:
                return done(False, measure, "max_iter reached")
            f_new, g_new = objective.value_and_gradient(w + s)
            snorm = np.linalg.norm(s)
            if n_iter == 0:
                radius = min(radius, snorm)
            noisy = prered <= NOISE * abs(f)
            if noisy:  # actred is rounding noise: judge the step by the gradient
                accept = np.linalg.norm(g_new) < gnorm
                radius = radius if accept else SIGMA2 * min(radius, snorm)
            else:
                actred = f - f_new
                accept = actred > ETA0 * prered
                radius = _new_radius(radius, snorm, actred, prered, gs, status)
            n_iter += 1
            stalled = not accept and (
                (noisy and status == "solved")
                or radius <= 1e-14 * np.linalg.norm(w)
                or np.array_equal(w + s, w)
            )
            if accept:
                prev_abs, prev_rel = (
                    (decrement, measure) if status == "solved" else (None, None)
                )
                w, f, g, hessp = w + s, f_new, g_new, None
                gnorm = np.linalg.norm(g)
            history.append(float(f))
            if callback is not None:
                # the decrement measured at the point this step started from
                callback(n_iter, f, measure, DECREMENT, w, objective)
            if stalled:
                converged = _converged_at_stall(measure, tol, gnorm, g_ref)
                return done(
                    converged, measure, "P stopped decreasing in floating point"
                )

    def _solve_line_search(
        self, objective, w, tol, max_iter, callback, g_ref, duality_gap
    ):
        """Newton-CG directions and exact line searches (see Notes)."""
        scores = objective.scores(w)
        f, g = objective.value_and_gradient_from_scores(w, scores)
        gnorm = np.linalg.norm(g)
        max_cg = self.max_cg_iter or max(10 * objective.size, 100)
        history, n_iter = [], 0
        prev_abs, prev_rel = tol * abs(f), None  # as in the trust-region loop
        products = 0  # CG's products in the last step (see _formed)

        def done(converged, optimality, message):
            return SolveResult(
                w, n_iter, converged, float(f), optimality, history, message
            )

        while True:
            if gnorm == 0.0:
                return done(True, 0.0, "gradient is exactly zero")
            certified = duality_gap and _gap_certificate(
                objective, w, f, g, scores, tol
            )
            if certified:
                w, f, gap = certified
                return done(True, gap, GAP_CERTIFIED)
            cg_tol = min(0.1, np.sqrt(gnorm / g_ref)) * gnorm
            hessp, count = _formed(objective.hessian_operator(w), products)
            s, r, status = _direction(hessp, g, cg_tol, max_cg)
            if not hasattr(hessp, "matrix"):  # once formed, formed to the end
                products = count[0]
            if status == "boundary":  # a flat direction: no Newton step
                status = "capped"
            decrement = -0.5 * (g @ s - s @ r) if status == "solved" else np.inf
            measure = _relative(decrement, f)
            bound = _certified(prev_abs, prev_rel, decrement, measure, tol)
            if bound is not None:
                trial = objective.value(w + s)
                if trial <= f:
                    w, f = w + s, trial
                return done(True, bound, "Newton decrement below tol * P")
            if decrement <= NOISE * abs(f) and 4 * measure <= tol:
                # the model's decrease is within P's rounding: so are the
                # line search's derivatives, and t^* is noise (never "full").
                # The Newton step is still taken when it lowers the gradient,
                # which is computed to far better relative accuracy than P
                trial, trial_grad = objective.value_and_gradient(w + s)
                if np.linalg.norm(trial_grad) < gnorm:
                    w, f = w + s, trial
                return done(True, 4 * measure, "Newton decrement at P's rounding")
            if n_iter >= max_iter:
                return done(False, measure, "max_iter reached")
            step, direction_scores = _exact_step(objective, w, scores, s, g @ s)
            n_iter += 1
            moved = w + step * s
            if step <= 0.0 or np.array_equal(moved, w):
                converged = _converged_at_stall(measure, tol, gnorm, g_ref)
                return done(
                    converged, measure, "P stopped decreasing in floating point"
                )
            full = status == "solved" and abs(step - 1.0) <= FULL_STEP
            prev_abs, prev_rel = (decrement, measure) if full else (None, None)
            w = moved
            if n_iter % 16:  # X w by linearity; afresh now and then (drift)
                scores = scores + step * direction_scores
            else:
                scores = objective.scores(w)
            f, g = objective.value_and_gradient_from_scores(w, scores)
            gnorm = np.linalg.norm(g)
            history.append(float(f))
            if callback is not None:
                callback(n_iter, f, measure, DECREMENT, w, objective)

    def _solve_columns(self, objective, coef_init, tol, max_iter, callback):
        """One-vs-rest: one trust region per column.

        The columns are independent problems; a shared trust region would be
        limited by the hardest column at every step (measured: 5948 joint
        iterations against about 1200 for L-BFGS on a 3-class problem).
        """
        # sum of the columns' bounds on P_k - P_k*, relative to the total P
        return solve_columns(
            lambda part, start: self.solve(
                part, start, tol=tol, max_iter=max_iter, callback=callback
            ),
            objective,
            coef_init,
            lambda results: _relative(
                sum(r.optimality * abs(r.value) for r in results),
                sum(r.value for r in results),
            ),
            tol,
            # threads for sparse X only, where CG's products run compiled
            # without the GIL: measured on 2 cores, 1.2-1.3x faster on
            # optdigits and splice as CSR, 0.78-0.97x (slower) on dense sets,
            # whose short BLAS calls alternate with Python (see map_columns)
            threads=sp.issparse(objective.X),
        )


def _interior_point_takes(objective):
    """Whether a crawling Newton hands ``objective`` to the interior point:
    squared Weston-Watkins (its dual with the quadratic term) with the L2
    penalty, small enough for the normal equations."""
    from ._interior_point_solver import interior_point_dual

    form = interior_point_dual(objective)
    return (
        form is not None
        and form.quadratic
        and not form.simplex
        and objective.reg > 0
        and isinstance(objective.penalty, L2)
    )


def _exact_step(objective, w, scores, s, slope):
    """The minimizer ``t > 0`` of ``P(w + t s)``, from scores alone.

    ``P(w + t s) = penalty(w) + t penalty'(w).s + t^2 penalty(s)
    + C risk(scores + t X s)``: one product ``X s``, then each derivative
    costs one loss gradient on the scores. The derivative is continuous and
    non-decreasing (``P`` is convex and C^1) and negative at 0 (``slope``, a
    descent direction); its root is found to ``1e-12`` of the initial slope
    (or of ``t``, for a Newton step below) inside a bracket ``[low, high]``
    that every evaluation narrows.

    For a built-in piecewise-quadratic margin loss on one score column (the
    squared hinge, the smooth hinge, the modified Huber loss; binary or a
    one-vs-rest column) one compiled pass (``line_slope``) gives the
    derivative and its own slope, and the search takes Newton steps on the
    derivative: on a piece where it is linear (the active set unchanged) a
    Newton step is exact, so near the optimum, where ``s`` is a CG solution
    and ``t = 1`` up to rounding, the search ends after one or two passes
    (the regula falsi alone took 5-6.5 on twonorm, ring, ada and spambase).
    A Newton point outside the bracket falls back to the regula falsi with
    the Illinois safeguard, which every other loss uses throughout.
    Returns ``(t, X s)``, ``t = 0`` when ``s`` is not a descent direction.
    """
    direction_scores = objective.scores(s)
    if not slope < 0.0:
        return 0.0, direction_scores
    linear = objective._penalty_gradient(w) @ s
    quadratic = 2.0 * objective._penalty(s)
    along = _compiled_line(objective, scores, direction_scores)
    if along is not None:

        def derivative(t):
            value, curvature = along(t)
            return linear + quadratic * t + value, quadratic + curvature

    else:

        def derivative(t):
            _, G = objective.score_gradient_from_scores(scores + t * direction_scores)
            return linear + quadratic * t + float(np.sum(G * direction_scores)), None

    done = 1e-12 * abs(slope)
    low, d_low, high, d_high = 0.0, slope, np.inf, np.nan
    t, side = 1.0, 0
    # the lengths of the last two moves: a Newton move must at least halve
    # the one before the last (Numerical Recipes' rtsafe), else the regula
    # falsi moves; without it, where the derivative is convex, Newton from
    # one end overshot to the other and the regula falsi landed back beside
    # the first, over and over (39 passes against the regula falsi's 15 on
    # a modified Huber line)
    before_last, last = np.inf, np.inf
    for _ in range(160):
        d_t, curvature = derivative(t)
        if abs(d_t) <= done:
            return float(t), direction_scores
        if d_t < 0.0:
            low, d_low = t, d_t
            if side < 0:  # the same end twice: halve the other's weight
                d_high *= 0.5
            side = -1
        else:
            high, d_high = t, d_t
            if side > 0:
                d_low *= 0.5
            side = 1
        if np.isfinite(high) and high - low <= 4e-16 * high:
            break
        # the next point: Newton's on the derivative where its slope is
        # known and the point lies inside the bracket, else the regula
        # falsi point (bisection if rounding puts it outside), or a
        # doubling while the root is not bracketed yet
        step = t - d_t / curvature if curvature is not None and curvature > 0 else 0.0
        previous = t
        if low < step < high and abs(step - t) <= 0.5 * before_last:
            if abs(step - t) <= 1e-12 * t and abs(d_t) <= 1e-6 * abs(slope):
                # the root is this close on t's piece, and the derivative
                # nearly 0 already (a kink within 1e-12 of t, where the
                # curvature jumps, makes a tiny Newton move without that):
                # a further pass would only measure the rounding of its sum
                return float(step), direction_scores
            t = step
        elif not np.isfinite(high):
            if low >= 2.0**60:
                return float(low), direction_scores
            t = 2.0 * low
        else:
            t = (low * d_high - high * d_low) / (d_high - d_low)
            if not low < t < high:
                t = 0.5 * (low + high)
        before_last, last = last, abs(t - previous)
    return float(t if np.isfinite(high) else low), direction_scores


def _compiled_line(objective, scores, direction_scores):
    """``t -> the loss part's derivative along the line``, compiled, or None
    where ``line_slope`` has no formula for the problem."""
    loss = objective.loss
    if objective.n_outputs != 1 or loss.is_multiclass or loss.is_pairwise:
        return None
    kernel = loss.compiled_kernel()
    if kernel is None or kernel.name not in LINE_LOSS_CODES:
        return None
    code = LINE_LOSS_CODES[kernel.name]
    gamma, margin = (kernel.a, kernel.b) if kernel.name == "smooth_hinge" else (0, 0)
    y = np.asarray(objective.y, dtype=np.float64).reshape(-1)
    margins = np.ascontiguousarray(y * scores.reshape(-1))
    moves = np.ascontiguousarray(y * direction_scores.reshape(-1))
    weights = np.ascontiguousarray(
        objective.loss_scale * objective.sample_weight, dtype=np.float64
    )
    return lambda t: line_slope(code, gamma, margin, margins, moves, weights, t)


def _gap_applies(objective):
    """Whether :meth:`LinearObjective.duality_gap` certifies ``objective`` here.

    It needs the L2 penalty's strong convexity (``reg > 0``) and a binary
    (margin) loss: the free estimate ``||g_W||^2 / (2 reg)`` and the
    intercept's 1-D move of :func:`_gap_certificate` are those of one
    gradient entry per sample and column. A multiclass loss (whose free
    intercepts rescale the dual point per sample) or a pairwise one keeps
    the decrement's test.
    """
    loss = objective.loss
    return bool(objective.reg > 0 and not (loss.is_multiclass or loss.is_pairwise))


def _relative_gap(objective, w, f):
    """``LinearObjective.duality_gap`` at ``w`` relative to ``|P(w)| = |f|``."""
    gap, _ = objective.duality_gap(w)
    return _relative(gap, f)


def _gap_certificate(objective, w, f, g, scores, tol):
    """``(coef, P(coef), relative gap)`` where the duality gap certifies, else None.

    With the L2 penalty and a dual point that is the loss gradient ``G``
    with ``sum_i G_i = 0``, the gap is exactly ``||reg W + X^T G||^2 / (2
    reg) = ||g_W||^2 / (2 reg)`` (Fenchel-Young is an equality for both
    terms). That is free here, so the gap's two products are spent only
    once it is within ``GAP_GATE * tol``. A free intercept off its
    minimizer by ``g_b`` costs the gap a term linear in ``g_b`` (the dual
    point is rescaled onto ``sum_i U_i = 0``), where ``g_W`` enters
    squared: after a Newton step both are at CG's residual, and that term
    dominates. So the intercept is first moved to its minimizer for this
    ``W`` (:func:`_intercept_newton`, no product) and the gap measured there;
    the point returned is that one.
    """
    W_grad = g[: objective._n_coef]
    with np.errstate(over="ignore"):  # a huge gradient is just not close
        close = W_grad @ W_grad <= GAP_GATE * 2.0 * objective.reg * tol * abs(f)
    if not close:
        return None
    if scores is None:
        scores = objective.scores(w)
    w, scores = _intercept_newton(objective, w, scores)
    gap, value = objective.duality_gap(w, scores)
    gap = _relative(gap, value)
    return (w, value, gap) if gap <= tol else None


def _intercept_newton(objective, w, scores, steps=4):
    """``(w, scores)`` with a free intercept moved by 1-D Newton steps.

    The intercept's derivative is ``sum_i s_i l'(z_i)``, its curvature
    ``sum_i s_i l''(z_i)``; moving it shifts every score, so no product with
    ``X`` is needed. For a piecewise-quadratic binary loss (one column:
    Newton solves one-vs-rest a column at a time), where one step is exact
    on a piece; elsewhere the curvature may vanish far from the minimizer
    (the Gaussian hinge's), and ``(w, scores)`` are returned as they are. A
    step that does not lower ``|derivative|`` (one that crossed
    breakpoints) is undone and ends the search.
    """
    loss = objective.loss
    if (
        not objective.fit_intercept
        or objective.intercept_penalty > 0
        or objective.n_outputs != 1
        or loss.is_multiclass
        or loss.is_pairwise
        or not loss.is_piecewise_quadratic
    ):
        return w, scores
    weights = objective.loss_scale * objective.sample_weight
    moved = w.copy()
    slope, curvature = _intercept_slope(objective, weights, scores)
    for _ in range(steps):
        if slope is None or not curvature > 0:
            break
        delta = -slope / curvature
        shifted = scores + delta
        new_slope, new_curvature = _intercept_slope(objective, weights, shifted)
        if new_slope is not None and not abs(new_slope) < abs(slope):
            break
        moved[objective._n_coef] += delta
        scores, slope, curvature = shifted, new_slope, new_curvature
    return moved, scores


def _intercept_slope(objective, weights, scores):
    """The intercept's derivative and curvature, or ``(None, 0)`` within rounding."""
    z = objective._fit_shape(scores)
    terms = weights * np.ravel(objective.loss.gradient(objective.y, z))
    slope = float(terms.sum())
    # within the sum's rounding the intercept is at its minimizer
    if not abs(slope) > 1e-13 * float(np.abs(terms).sum()):
        return None, 0.0
    return slope, float(weights @ np.ravel(objective.loss.hessian(objective.y, z)))


def _certified(prev_abs, prev_rel, decrement, measure, tol):
    """The bound on the relative suboptimality if it is certified, else None.

    Certified once the previous step was the full Newton step (``prev_abs``
    is its decrement) and the decrement has since fallen four-fold (Notes).
    """
    if prev_abs is None or not decrement <= prev_abs / 4:
        return None
    bound = 4 * measure if prev_rel is None else prev_rel
    return bound if bound <= tol else None


def _converged_at_stall(measure, tol, gnorm, g_ref):
    """Whether a run that can no longer lower ``P`` is at the optimum (Notes)."""
    if not np.isfinite(measure):
        # no decrement (CG capped or on the boundary): a small gradient alone
        # bounds nothing without strong convexity (penalty=None), so the
        # result is flagged rather than reported converged with inf
        return False
    return measure <= max(tol, FLOOR) or gnorm <= 1e-9 * g_ref


def _relative(decrement, f):
    """``decrement / |P|``, with ``0 / 0 = 0``."""
    if f != 0:
        return decrement / abs(f)
    return 0.0 if decrement == 0 else np.inf


def _new_radius(radius, snorm, actred, prered, gs, status):
    """LIBLINEAR's radius update from the ratio of actual to predicted decrease."""
    curvature = -actred - gs  # P(w + s) - P(w) - g.s
    alpha = SIGMA3 if curvature <= 0 else max(SIGMA1, -0.5 * gs / curvature)
    if actred < ETA0 * prered:
        return min(alpha * snorm, SIGMA2 * radius)
    if actred < ETA1 * prered:
        return max(SIGMA1 * radius, min(alpha * snorm, SIGMA2 * radius))
    if actred < ETA2 * prered:
        return max(SIGMA1 * radius, min(alpha * snorm, SIGMA3 * radius))
    if status == "boundary":
        return SIGMA3 * radius
    return max(radius, min(alpha * snorm, SIGMA3 * radius))


def _formed(hessp, products):
    """``(operator, count)``: ``hessp``'s formed matrix as an operator
    (``.matrix``, which :func:`_direction` factorizes) where it offers one
    (``hessp.form``: a dense one-column objective with at most
    ``FORMED_HESSIAN_MAX`` coefficients) and forming pays, else ``hessp``
    counting its products in ``count`` (a list of one number).

    Forming pays once the previous step's CG took more products than
    forming costs (``products > max(FORM_AFTER, size / FORM_RATIO)``).
    Measured (single-threaded BLAS): forming cost 8-12 products' time at
    17-65 coefficients, more with more (its BLAS-3 product against the
    products' BLAS-2: 17 at 213 on sylva, 20 at 288 on splice); CG took 3
    products a step on twonorm, 10-20 on penbased, optdigits, texture and
    spambase, up to 77. With this rule the squared hinge (tol=1e-6, C = 0.1,
    1, 10; ``benchmarks/bench_newton_formed.py``) took 0.57-0.94x the time
    on texture, optdigits, spambase, penbased, sylva at C = 10 and breast
    cancer at C >= 1, 0.97-1.03x where CG needs few products (twonorm, ring:
    never formed), and up to 1.09x on ada, where one step's count misjudges
    the next.
    """
    count = [0]
    form = getattr(hessp, "form", None)
    if form is None:
        return hessp, count
    if products > max(FORM_AFTER, form.size / FORM_RATIO):
        H = form()

        def formed(v):
            return H @ v

        formed.matrix = H
        return formed, count

    def counted(v):
        count[0] += 1
        return hessp(v)

    return counted, count


def _direction(hessp, g, cg_tol, max_steps):
    """The Newton direction of the line-search globalization, as ``_steihaug``.

    An operator that carries its formed matrix (``hessp.matrix``, small
    problems: ``dual_cd``'s primal finish) is solved by Cholesky, exactly:
    CG on a badly conditioned Hessian (the smoothed hinge's) runs hundreds of
    Python-level iterations where one factorization costs ``size^3 / 3``.
    """
    matrix = getattr(hessp, "matrix", None)
    if matrix is not None:
        try:
            s = -scipy.linalg.cho_solve(scipy.linalg.cho_factor(matrix), g)
        except np.linalg.LinAlgError:
            pass  # not positive definite in floating point: CG copes
        else:
            return s, -(g + matrix @ s), "solved"
    preconditioner = _preconditioner(hessp)
    csr = getattr(hessp, "csr", None)
    if csr is None:
        return _steihaug(
            hessp, g, np.inf, cg_tol, max_steps, preconditioner=preconditioner
        )
    # one score column of CSR data: the same CG, compiled (no numpy call
    # per step); an operator that meters its products is told their number
    s, r, code, steps = csr.newton_cg(
        np.ascontiguousarray(g, dtype=np.float64), cg_tol, max_steps,
        np.zeros(0) if preconditioner is None else preconditioner, SHIFT,
    )  # fmt: skip
    if hasattr(hessp, "charge"):
        hessp.charge(steps)
    return s, r, ("solved", "boundary", "capped")[code]


def _preconditioner(hessp):
    """``diag(H)`` where the operator offers it (CG's Jacobi preconditioner), else None.

    The steps of CG grow with the spread of ``H``'s eigenvalues; on sparse
    data the columns' scales (how often a feature is non-zero among the rows
    with curvature) spread them, and scaling each coordinate by its diagonal
    entry undoes some of that (LIBLINEAR's TRON preconditions too). Only the
    compiled CSR operator offers it. Measured, squared hinge without
    intercept at tol=1e-4: optdigits as CSR 0.20 s against 0.24 s at C=0.1,
    0.31 against 0.41 at C=10; splice as CSR within noise (0.05 s); the
    smoothed hinge of ``dual_cd``'s finish on sparse counts 15 % fewer
    products.
    """
    diagonal = getattr(hessp, "diagonal", None)
    if diagonal is None:
        return None
    M = np.asarray(diagonal(), dtype=float)
    top = float(np.max(M)) if M.size else 0.0
    if not (np.isfinite(top) and top > 0.0):
        return None
    # a zero entry is a coordinate H does not see: its curvature is the shift
    return np.maximum(M, 1e-12 * top)


def _steihaug(hessp, g, radius, cg_tol, max_steps, preconditioner=None):
    """Steihaug CG on ``min g.s + s.Hs/2, ||s|| <= radius``.

    ``H`` is shifted by ``SHIFT`` times the Rayleigh quotient of the first
    direction. Returns ``(s, r, status)`` with the residual ``r = -(g + H s)``
    and status ``"solved"`` (residual test ``||r|| <= cg_tol`` met inside),
    ``"boundary"`` or ``"capped"``. ``preconditioner``, a positive vector
    ``M`` (preconditioned CG with ``M^-1 r``), only without a radius: the
    region's norm would otherwise have to be ``M``'s.
    """
    if preconditioner is not None and radius != np.inf:
        raise ValueError("a preconditioned CG has no trust region")
    s = np.zeros_like(g)
    r = -g
    z = r if preconditioner is None else r / preconditioner
    d = z.copy()
    rz = r @ z
    shift = None
    for _ in range(max_steps):
        Hd = hessp(d)
        if shift is None:
            shift = SHIFT * (d @ Hd) / (d @ d)
        Hd = Hd + shift * d
        dHd = d @ Hd
        alpha = rz / dHd if dHd > 0 else np.inf
        if not np.isfinite(alpha) and radius == np.inf:
            # no positive curvature and no region: the descent made so far
            return (s if s.any() else d), r, "boundary"
        if not np.isfinite(alpha) or np.linalg.norm(s + alpha * d) >= radius:
            # leaving the region, or no positive curvature: stop on the boundary
            sd, dd, gap = s @ d, d @ d, radius**2 - s @ s
            root = np.sqrt(sd * sd + dd * max(gap, 0.0))
            if sd >= 0:
                # sd + root = 0 only when s is on a boundary of radius 0 or
                # already on it: no further move (was a division by zero)
                tau = gap / (sd + root) if sd + root > 0 else 0.0
            else:
                tau = (root - sd) / dd
            return s + tau * d, r - tau * Hd, "boundary"
        s = s + alpha * d
        r = r - alpha * Hd
        if np.linalg.norm(r) <= cg_tol:
            return s, r, "solved"
        z = r if preconditioner is None else r / preconditioner
        rz_new = r @ z
        d = z + (rz_new / rz) * d
        rz = rz_new
    return s, r, "capped"
