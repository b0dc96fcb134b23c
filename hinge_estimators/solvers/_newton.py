"""Trust-region Newton-CG (TRON, LIBLINEAR's primal solver) for smooth losses."""

import numbers

import numpy as np

from ._base import (
    Solver,
    SolveResult,
    gradient_reference,
    optimal_at_zero,
    solve_columns,
)

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


def _cg_limit(value):
    if value is None or (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and value >= 1
    ):
        return None
    return "must be None or an integer >= 1"


class TrustRegionNewton(Solver):
    """Trust-region Newton method with conjugate gradients (TRON).

    Parameters
    ----------
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
    The certifying solve is the stopping test, not counted in ``n_iter``. At
    ``max_iter`` the result is not converged and ``optimality`` is the last
    :math:`\\delta / |P|` (``inf`` if that CG ended on the boundary).

    Once predicted decreases fall under ``P``'s rounding error
    (:math:`10^{-12} |P|`), steps are accepted when they lower the gradient
    norm; when that fails, or the radius collapses, the solver stops,
    converged if :math:`\\delta \\le \\max(\\mathrm{tol}, 16\\epsilon)\\,|P|` or
    :math:`\\|g\\| \\le 10^{-9} \\|\\nabla P(0)\\|`. ``H`` may be singular
    (``penalty=None``; a multiclass loss with an unpenalized intercept only
    sees score differences): CG works on :math:`H + 10^{-10} \\rho I`,
    :math:`\\rho = g^\\top H g / g^\\top g`, so that the gradient's rounding
    error along a null direction does not push every step to the boundary.
    """

    handles_pairwise = True
    requires_smooth = True
    non_smooth_advice = (
        "use solver='dual_cd' for the hinge and Crammer-Singer losses or solver='gd'"
    )
    _constraints = {"max_cg_iter": _cg_limit}

    def __init__(self, max_cg_iter=None):
        self.max_cg_iter = max_cg_iter

    def solve(
        self, objective, coef_init=None, *, tol, max_iter, rng=None, callback=None
    ):
        """Minimize ``objective`` by TRON; see :class:`Solver`."""
        self.check_loss(objective.loss)
        if not objective.loss.is_multiclass and objective.n_outputs > 1:
            return self._solve_columns(objective, coef_init, tol, max_iter, callback)
        g_ref = gradient_reference(objective)
        if g_ref == 0.0:
            return optimal_at_zero(objective)
        w = objective.zeros() if coef_init is None else np.array(coef_init, float)
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
            if hessp is None:  # the curvature is evaluated once per point
                hessp = objective.hessian_operator(w)
            forcing = min(0.1, np.sqrt(gnorm / g_ref))
            s, r, status = _steihaug(hessp, g, radius, forcing * gnorm, max_cg)
            gs = g @ s
            prered = -0.5 * (gs - s @ r)  # = -(g.s + s.Hs/2), r = -(g + Hs)
            decrement = prered if status == "solved" else np.inf
            measure = _relative(decrement, f)
            if prev_abs is not None and decrement <= prev_abs / 4:
                bound = 4 * measure if prev_rel is None else prev_rel
                if bound <= tol:
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
                callback(n_iter, history[-1])
            if stalled:
                converged = measure <= max(tol, FLOOR) or gnorm <= 1e-9 * g_ref
                return done(
                    converged, measure, "P stopped decreasing in floating point"
                )

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
        )


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


def _steihaug(hessp, g, radius, cg_tol, max_steps):
    """Steihaug CG on ``min g.s + s.Hs/2, ||s|| <= radius``.

    ``H`` is shifted by ``SHIFT`` times the Rayleigh quotient of ``g``. Returns
    ``(s, r, status)`` with the residual ``r = -(g + H s)`` and status
    ``"solved"`` (residual test met inside), ``"boundary"`` or ``"capped"``.
    """
    s = np.zeros_like(g)
    r = -g
    d = r.copy()
    rr = r @ r
    shift = None
    for _ in range(max_steps):
        Hd = hessp(d)
        if shift is None:
            shift = SHIFT * (d @ Hd) / rr
        Hd = Hd + shift * d
        dHd = d @ Hd
        alpha = rr / dHd if dHd > 0 else np.inf
        if not np.isfinite(alpha) or np.linalg.norm(s + alpha * d) >= radius:
            # leaving the region, or no positive curvature: stop on the boundary
            sd, dd, gap = s @ d, d @ d, radius**2 - s @ s
            root = np.sqrt(sd * sd + dd * max(gap, 0.0))
            tau = gap / (sd + root) if sd >= 0 else (root - sd) / dd
            return s + tau * d, r - tau * Hd, "boundary"
        s = s + alpha * d
        r = r - alpha * Hd
        rr_new = r @ r
        if np.sqrt(rr_new) <= cg_tol:
            return s, r, "solved"
        d = r + (rr_new / rr) * d
        rr = rr_new
    return s, r, "capped"
