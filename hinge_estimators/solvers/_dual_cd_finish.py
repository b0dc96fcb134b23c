"""A primal finish for dual coordinate descent, where the dual stalls.

Dual CD is fast while few samples sit on the margin. With a large ``C``,
overlapping classes or many free support vectors (``d`` close to ``n``) its
passes barely move the duality gap: LIBLINEAR's dual solver ends at its 1000
passes on such problems too. Newton's method on the primal does not care how
many samples sit on the margin, only that the loss is smooth: the squared
hinge is (piecewise quadratic, solved exactly by the line-search Newton), and
the hinge is reached by a smoothing continuation -- Newton on the Moreau
envelope of the hinge (``loss.smoothed(mu)``, the smooth hinge) for shrinking
``mu``, each stage warm-started from the last, with the active-set ``polish``
tried at every stage for an exact primal point.

The certificate stays a duality gap: the multipliers of the smoothed solution,
``alpha_i = -C_i y_i phi_mu'(y_i z_i)``, lie in the hinge dual's box
``[0, C_i]`` (for the squared hinge they are its exact dual variables), are
rescaled onto ``sum_i alpha_i y_i = 0`` where the intercept is unpenalized, and
bound the optimum from below; the primal is measured at the finish's own
coefficients. The gap of the smoothed solution is about ``mu`` relative (the
smoothing error), which tells how far to shrink ``mu``.
"""

import numpy as np

from ._active_set import polish
from ._dual_cd_parts import binary_certificate
from ._newton import TrustRegionNewton

#: the finish is considered once dual CD has made this many passes and a
#: tenth of max_iter, and only when its measured rate predicts that it will
#: not reach tol by max_iter (a failed finish costs passes dual CD would
#: have used)
MIN_PASSES = 100
#: pass-equivalents charged per Hessian product (``X v`` and ``X^T u``, a dot
#: and an axpy per row as in a pass of dual CD) and
#: per Newton iteration (scores, value and gradient, line search)
PRODUCT_COST, ITERATION_COST = 1, 2
#: the share of the passes left that the finish may spend (measured on
#: breast cancer, digits, iris and sparse counts: 0.5 left digits at C=100
#: and the squared hinge on sparse counts unconverged, 0.9 starved dual CD
#: where the finish fails)
FINISH_SHARE = 0.75
#: the smoothing shrinks by at least 2x and at most 20x per stage
SHRINK_RANGE = (0.05, 0.5)


def stalled(checks, tol, max_iter):
    """Whether dual CD's progress, ``checks = [(passes, relative gap), ...]``, stalls.

    The rate is the decrease of ``log(gap)`` per pass since the check nearest
    half of the passes made; a rate that reaches tol only after ``max_iter``
    passes counts as a stall.
    """
    passes, gap = checks[-1]
    if passes < max(MIN_PASSES, max_iter // 10) or gap <= tol or len(checks) < 2:
        return False
    earlier = [c for c in checks[:-1] if c[0] <= passes / 2] or checks[:1]
    p0, g0 = earlier[-1]
    if g0 <= 0.0 or gap <= 0.0:
        return False
    rate = np.log(g0 / gap) / max(passes - p0, 1)
    if rate <= 0.0:
        return True
    needed = np.log(gap / tol) / rate
    return passes + needed > max_iter


class _OutOfBudget(Exception):
    pass


def _metered(objective, meter):
    """``objective`` whose Hessian products are charged to ``meter``."""
    hessian_operator = objective.hessian_operator

    def counted(coef):
        product = hessian_operator(coef)

        def charged(v):
            meter[0] += PRODUCT_COST
            if meter[0] > meter[1]:
                raise _OutOfBudget
            return product(v)

        return charged

    objective.hessian_operator = counted  # on this copy only
    return objective


def primal_finish(objective, setup, start, w, shift, gap, tol, budget):
    """Newton on the primal (smoothed for the hinge) from dual CD's point.

    ``budget`` is in passes over the data (a Hessian product counts as one):
    where Newton crawls (nearly separable data with ``d`` close to ``n``, many
    kinks for the line searches) the finish gives up within it and dual CD
    goes on. Returns ``(cert, alpha, spent)``: the certificate (as
    ``binary_certificate``) of the best point found (``None`` if none), its
    feasible dual ``alpha`` (in the box, before balancing) and the
    pass-equivalents spent.
    """
    meter = [0, budget]
    try:
        best = _finish(objective, setup, start, w, shift, gap, tol, meter)
    except _OutOfBudget:
        best = meter[2] if len(meter) > 2 else (None, None)
    return best[0], best[1], min(meter[0], budget)


def _finish(objective, setup, start, w, shift, gap, tol, meter):
    column = objective.column(start["column"])
    d, bias = objective.n_features, setup["bias"]
    unpenalized = setup["unpenalized"]
    b = shift if unpenalized else bias * w[d]
    coef = column.join(w[:d][None, :], [b])
    newton = TrustRegionNewton(globalization="line_search")
    loss = objective.loss
    if loss.is_smooth:
        metered = _metered(column.with_loss(loss), meter)
        result = _newton_steps(
            newton, metered, coef, tol / 4, meter[1], _steps(setup, column, meter)
        )
        meter[0] += ITERATION_COST * result.n_iter
        alpha = _multipliers(column, setup, start, result.coef)
        return _certify(objective, setup, start, result.coef, alpha), alpha
    margin = setup["form"].margin if setup["form"].margin > 0 else 1.0
    mu = margin * float(np.clip(gap, tol, 1.0))
    best = None
    while meter[0] < meter[1]:
        smooth = column.with_loss(loss.smoothed(mu))
        result = _newton_steps(
            newton, _metered(smooth, meter), coef, tol / 4, meter[1],
            _steps(setup, column, meter),
        )  # fmt: skip
        coef = result.coef
        meter[0] += ITERATION_COST * max(result.n_iter, 1)
        alpha = _multipliers(smooth, setup, start, coef)
        cert = _certify(objective, setup, start, coef, alpha)
        exact, _ = polish(column, coef, mu)
        if exact is not None:
            finished = _certify(objective, setup, start, exact, alpha)
            if finished["gap"] < cert["gap"]:
                cert = finished
        if setup["finish_report"] is not None:
            setup["finish_report"](meter[0], cert)
        if best is None or cert["gap"] < best[0]["gap"]:
            best = (cert, alpha)
            meter[2:] = [best]  # what an exhausted budget leaves
        relative = cert["gap"] / cert["primal"] if cert["primal"] > 0 else 0.0
        if relative <= tol or mu <= 1e-3 * tol * margin:
            break
        # the smoothed solution's gap is about mu (relative): aim below tol
        mu *= float(np.clip(0.5 * tol / relative, *SHRINK_RANGE))
    return best


def _steps(setup, column, meter):
    """The Newton steps' progress reports (the primal of ``column``), or None."""
    report = setup["finish_report"]
    if report is None:
        return None

    def step(n_iter, value, decrement, measure, coef, objective):
        report(meter[0], column=column, coef=coef, decrement=decrement)

    return step


def _newton_steps(newton, objective, coef, tol, max_iter, callback=None):
    """Plain Newton iterations on ``objective`` (the metered copy itself).

    Not ``newton.solve``: that maps to centered coordinates (a new objective,
    whose products the meter would not see) and refines until its own
    strong-convexity bound holds; here the duality gap is the certificate
    and the budget is counted in passes, so only the steps are wanted.
    """
    newton.check_loss(objective.loss)
    return newton._newton(objective, coef, tol, max_iter, callback)


def _multipliers(column, setup, start, coef):
    """``alpha_i = -C_i y_i phi'(z_i)``, clipped into the dual's box."""
    y = start["y"]
    weights = column.loss_scale * column.sample_weight
    z = column.scores(coef)[:, 0]
    alpha = -weights * y * column.loss.gradient(y, z)
    return np.clip(alpha, 0.0, setup["upper"])


def _certify(objective, setup, start, coef, alpha):
    """Duality gap with the primal at ``coef`` and the dual at ``alpha``."""
    column = objective.column(start["column"])
    W, b = column.split(coef)
    d, bias = objective.n_features, setup["bias"]
    w = np.zeros(d + 1)
    w[:d] = W[0]
    shift = 0.0
    if setup["unpenalized"]:
        shift = float(b[0])
    elif bias:
        w[d] = float(b[0]) / bias
    return binary_certificate(objective, setup, start, alpha, w, shift, exact_dual=True)
