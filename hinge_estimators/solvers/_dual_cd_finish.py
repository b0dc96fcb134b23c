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

import threading
import weakref

import numpy as np
import scipy.sparse as sp

from .._objective import formed_hessian
from ._active_set import polish
from ._base import solve_centered
from ._dual_cd_parts import binary_certificate
from ._interior_point import (
    MAX_ROUNDS,
    InteriorPointFailed,
    dense_rows,
    grow,
    row_basis,
    snap_to_bounds,
    solve_box_dual,
    working_set,
)
from ._newton import TrustRegionNewton

#: the finish is considered once dual CD has made this many passes and a
#: tenth of max_iter, and only when its measured rate predicts that it will
#: not reach tol by max_iter (a failed finish costs passes dual CD would
#: have used)
MIN_PASSES = 100
#: beyond this many passes (the default max_iter), a larger max_iter lets
#: dual CD go on only where its predicted remaining work is cheap: full-pass
#: equivalents (passes times the fraction of samples shrinking leaves
#: active, plus two per gap check) below ``STALL_WORK``. Judged against
#: max_iter alone, a user who raised max_iter (what the ConvergenceWarning
#: asks) waited longer for the same answer (penbased, hinge, C=10: 2.0 s at
#: max_iter=100000 against 0.74 s at 1000; texture 5.5 s against 0.70 s);
#: a plain 1000-pass horizon sent cheap tight solves to the finish
#: (twonorm, C=0.1, tol=1e-6: 1,202 passes of 0.3 % active samples, 8 ms,
#: against 33 ms); and a work rule within 1000 passes sent sparse text to
#: its costly finish (5,000 x 20,000, the hinge's 5-fold path: 5.1 s
#: against 11.5 s)
STALL_HORIZON = 1000
STALL_WORK = 200
#: full-pass equivalents one gap check costs (two products with X)
CHECK_COST = 2.0
#: pass-equivalents charged per Newton iteration (scores, value and
#: gradient, line search); Hessian work is charged by what it reads or
#: computes (``_metered``)
ITERATION_COST = 2
#: with at most this many coefficients the finish may form the Hessian
#: ``X_A^T D X_A`` of the rows with curvature once per Newton iteration and
#: solve it by Cholesky: the smoothed hinge's Hessian is badly conditioned,
#: and CG took about 150 products per Newton step on sylva (9,814 x 212,
#: free intercept: 21,773 products, 1.6 s, where the formed Hessian takes
#: 0.1 s of products and factorizations)
MAX_FORMED_HESSIAN = 1024
#: multiply-adds of a dense matrix product (forming and factorizing the
#: Hessian) per pass entry of dual CD, measured (single-threaded BLAS, time
#: to form X^T D X on all rows against one pass of dual CD): sylva 11,
#: splice as CSR 21, digits 70, optdigits as CSR 45; the smallest is used
BLAS3_SPEEDUP = 10
#: the Hessian is formed only where that costs at most this many products
#: with the rows ``A`` (CG's products per Newton step on the smoothed hinge)
FORM_WORTH = 100
#: dual CD's multipliers name the active set for ``polish`` with at most
#: this many samples on the margin (its dense solve is cubic in that count:
#: 1,400 take about 0.3 s)
MAX_DUAL_POLISH_KINK = 2000
#: the finish's polish (after a smoothing stage, unmetered: the last resort
#: once dual CD has stalled) takes up to this many: its ``n^2`` matrices
#: stay near 130 MB each and a round's Cholesky factor under a second.
#: Wide separable data at a large C sits there (text, 5,000 x 20,000, the
#: hinge at C = 790: 2,171 samples on the margin; with 2,000 the finish
#: could not polish, and the fit ended at max_iter with a relative gap of
#: 3-9 %, where dual CD alone needs 18,795 passes for 1e-6)
MAX_FINISH_POLISH_KINK = 4000
#: ... and only where the budget pays for this many active-set rounds (a
#: guess from dual CD's multipliers takes a few: one left the sparse
#: synthetic set of ``test_dual_cd`` 5x further from tol than no polish)
MIN_DUAL_POLISH_ROUNDS = 4
#: the share of the passes left that the finish may spend (measured on
#: breast cancer, digits, iris and sparse counts: 0.5 left digits at C=100
#: and the squared hinge on sparse counts unconverged, 0.9 starved dual CD
#: where the finish fails; with the Hessian work charged by what it costs,
#: 0.9 certifies splice as CSR, where 0.75 ended 100 passes short)
FINISH_SHARE = 0.9
#: a smoothing stage is solved to this fraction of its smoothing (relative
#: Newton decrement ``STAGE_ACCURACY * mu / margin``, or ``tol / 4`` if
#: smaller): its gap is about ``mu`` anyway, and iterations beyond that bought
#: nothing (sparse counts 770 x 405: 470-600 passes instead of 590-690)
STAGE_ACCURACY = 0.01
#: the first stage's smoothing (times the margin) is ten times dual CD's
#: relative gap, but at least this: below it Newton's conjugate gradients
#: crawl on the nearly non-smooth loss of wide sparse data (the 5,000 x
#: 20,000 text at C = 382: dual CD stalled at a gap of 1.9e-3, and the stage
#: at 0.019 spent the 472-555 passes left without a Newton step's end, so 2
#: of 6 default fits ended at max_iter; from 0.1 every one certified in one
#: stage and its polish, in 180-410 passes)
MIN_START_MU = 0.1
#: the smoothing halves per stage: after a 20x shrink Newton's first steps
#: from the last stage's point were tiny (line-search steps of 0.00-0.04 for
#: 20-50 iterations on splice and sylva), and after a 3.3x shrink the stage
#: was costly where the polish would have found the active set at 2x (sparse
#: counts 3,076 x 1,617, the default fit: stage 2 at mu = 0.25 ran out of
#: passes, not certified in 1000; halving: certified in 714, and the quarter
#: size set in 440-500 passes instead of 590-720)
SHRINK = 0.5
#: smoothing stages (with their polish) tried before the interior point: one
#: certifies where few samples sit on the margin (penbased, one class
#: against the rest at C = 10: 8-22 ms a column, where the interior point
#: over the 3,000-odd samples near the margin took 20-33 ms), and its
#: smoothed point names a tighter working set than dual CD's
IPM_AFTER_STAGES = 1
#: ... except where it is predicted to cost at most this many passes, or
#: this share of the budget: then it comes first, from dual CD's point
#: (twonorm and breast cancer at C = 10, predicted 10 and 12 passes: 4.7
#: and 2.0 ms, where a stage first took 16 and 4 ms; splice as CSR, the
#: hinge's 5-fold path over 20 C: 9.2 s, against 17.9 s with a stage first
#: everywhere). Beyond the share a stage's point names a tighter working
#: set (splice as CSR at C = 10, one class against the rest: predicted 725
#: of 792 passes from dual CD's point, it ran out; certified after a stage)
IPM_FIRST_SHARE = 0.5
IPM_FIRST_PASSES = 20
#: before dual CD stalls, the interior point is tried where it is predicted
#: to cost at most this share of the passes dual CD still needs
EARLY_IPM_SHARE = 0.3
#: the stage before the interior point stops where only the interior
#: point's price is left, when that price is at most this share of the
#: budget (see ``_stage_before_interior_point``)
STAGE_RESERVE_SHARE = 0.75
#: the smoothing (times the margin) of the stage before the interior point,
#: where dual CD's gap would ask for a smaller one
FIRST_STAGE_MU = 0.25
#: Newton steps an interior-point solve is expected to take (for the budget;
#: 13 to 28 measured from dual CD's point on bench_real's hard hinge sets)
IPM_STEPS = 20
#: ... but after the continuation's first stages, the interior point is
#: tried where this many steps fit: the median of its solves (13 over the
#: hinge's default fits of breast cancer, spambase, twonorm, splice as CSR
#: and text at C = 0.1, 1 and 10, with and without intercept: 26 solves,
#: quartiles 9, 13 and 19 steps). With 20 it was skipped, for a budget
#: that ran out in stages, on one-hot data where LIBLINEAR stops at
#: max_iter too (1,500 x 160 CSR at C = 0.6: 274 passes left once the
#: rows' basis was paid, 303 for 20 steps in its 120 columns; the fit ended
#: at 2.3e-4 after 1,000 passes, and now certifies 1.8e-7 in 806)
LAST_IPM_STEPS = 13
#: ... and the pass entries of the vector work of each, per working sample
#: (10,000 x 16: 0.14 ms per thousand samples and step, where a pass of dual
#: CD costs about 1.3 ns per entry)
STEP_VECTOR_WORK = 100
#: ... and of its fixed cost (about 40 numpy and LAPACK calls: 130 us a step
#: on 100 x 5, where a pass entry of dual CD costs about 1.3 ns)
STEP_OVERHEAD = 100_000
#: the interior-point solve stops at this fraction of tol (its own gap is the
#: working set's; the samples outside it add theirs)
INNER_SHARE = 0.1


def stalled(checks, tol, max_iter, active=1.0):
    """Whether dual CD's progress, ``checks = [(passes, relative gap), ...]``, stalls.

    The rate is the decrease of ``log(gap)`` per pass since the check nearest
    half of the passes made. A rate that, halved, reaches tol only after
    ``max_iter`` passes counts as a stall; so does one that reaches it only after
    ``STALL_HORIZON`` passes where the remaining work, at the fraction
    ``active`` of samples shrinking leaves in a pass and with the gap checks
    on the way, exceeds ``STALL_WORK`` full passes. That second rule
    measures the rate on the best gap so far (the primal at dual CD's point
    wanders, and one check above the last made the rate look like no
    progress; no gain at all over the last half of the passes counts as as
    many passes again).
    """
    passes, gap = checks[-1]
    if passes < MIN_PASSES or gap <= tol or len(checks) < 2:
        return False
    # measured rates slow down (the polish's budget reads the same factor):
    # trusting them as they stand called the finish so late that the passes
    # left could not pay for it (splice as CSR, centered, C = 0.44: dual CD
    # predicted 380-520 more passes from pass 308 to 561, still short at
    # 1000; the finish, called at 561, failed within the 395 left)
    if passes >= max_iter // 10 and passes + 2 * passes_needed(checks, tol) > max_iter:
        return True
    if max_iter <= STALL_HORIZON:  # the rule above is the whole rule
        return False
    best = np.minimum.accumulate([g for _, g in checks])
    passes_seen = [p for p, _ in checks]
    needed = passes_needed(list(zip(passes_seen, best, strict=True)), tol)
    if not np.isfinite(needed):
        needed = float(passes)
    if passes + needed <= STALL_HORIZON:
        return False
    return work_needed(needed, passes, active) > STALL_WORK


def work_needed(needed, passes, active):
    """Full-pass equivalents of dual CD's ``needed`` further passes.

    A pass visits the fraction ``active`` of the samples that shrinking
    leaves; the gap checks come every ``max(10, passes / 4)`` passes, about
    ``log(end / passes) / log(1.25)`` of them on the way, at ``CHECK_COST``
    each.
    """
    n_checks = np.log1p(needed / max(passes, 1)) / np.log(1.25)
    return needed * active + CHECK_COST * n_checks


def passes_needed(checks, tol):
    """Passes dual CD still needs to reach ``tol`` at its measured rate (see
    :func:`stalled`); ``inf`` where it does not progress, 0 where unknown."""
    passes, gap = checks[-1]
    if gap <= tol or len(checks) < 2:
        return 0.0
    earlier = [c for c in checks[:-1] if c[0] <= passes / 2] or checks[:1]
    p0, g0 = earlier[-1]
    if g0 <= 0.0 or gap <= 0.0:
        return 0.0
    rate = np.log(g0 / gap) / max(passes - p0, 1)
    if rate <= 0.0:
        return np.inf
    return float(np.log(gap / tol) / rate)


def pass_work(objective):
    """Row entries one pass of dual CD reads (stored entries and one per
    row): the unit the finish's budget is counted in."""
    X = objective.X
    return float(X.nnz if sp.issparse(X) else X.size) + objective.n_samples


def dual_polish(objective, setup, start, alpha, w, shift, budget):
    """The active-set polish on the sets dual CD's multipliers name (hinge).

    Where dual CD's dual is nearly optimal its primal point lags behind (the
    primal of ``w = sum_i alpha_i y_i x_i`` converges more slowly than the
    dual), but the multipliers already tell which samples sit on the margin
    (``0 < alpha_i < C_i``) and which violate it (``alpha_i = C_i``). One
    solve of the optimality conditions on those sets (``polish``) then gives
    the exact optimum and its multipliers, an exactly feasible dual point:
    the certificate stays a duality gap. The solve is cubic in the number of
    margin samples, so it is tried only where its cost (pass-equivalents, as
    the Newton finish's Hessian work) fits in ``budget``.

    Returns ``(cert, alpha, spent)``; ``cert`` is None where nothing was tried
    or the sets were wrong.
    """
    upper = setup["upper"]
    kink = (alpha > 0) & (alpha < upper)
    at_upper = (alpha > 0) & (alpha >= upper)
    n_kink = int(kink.sum())
    n = objective.n_samples
    one_pass = pass_work(objective)
    row_work = float(one_pass - n) / max(n, 1)
    # the Gram matrix of the margin rows, then LU of the (n_kink + 1) system
    cost = (n_kink * n_kink * row_work + 2 * n_kink**3 / 3) / (BLAS3_SPEEDUP * one_pass)
    cost += ITERATION_COST  # the candidate's scores, each round
    rounds = min(8, int(budget // cost))
    # more margin samples than coefficients: the conditions are singular
    # there (a degenerate or unsettled set), the solve falls back to least
    # squares and the rounds fail (twonorm, 27 on the margin for 21
    # coefficients: 0.8 s for nothing)
    size = objective.n_features + int(objective.fit_intercept)
    max_kink = min(MAX_DUAL_POLISH_KINK, size)
    too_many = n_kink > max_kink
    if too_many or rounds < MIN_DUAL_POLISH_ROUNDS:
        return None, None, 0
    column = objective.column(start["column"])
    d = objective.n_features
    b = float(shift) if setup["unpenalized"] else setup["bias"] * w[d]
    coef = column.join(w[:d][None, :], [b])
    exact, _, dual = polish(
        column,
        coef,
        0.0,
        max_rounds=rounds,
        guess=(kink, at_upper),
        multipliers=True,
        # and no round's guess either: the rounds can move hundreds of
        # samples onto the margin, and each such round is a least-squares
        # solve that fails (splice as CSR, hinge, C = 0.87: one polish of 4
        # rounds took 4.9 s, 10 times the whole dual CD solve)
        max_kink=max_kink,
    )
    if exact is None:  # every round it could afford was spent
        return None, None, cost * rounds
    exact_alpha = _exact_multipliers(dual, alpha, upper)
    cert = _certify(objective, setup, start, exact, exact_alpha)
    cert["exact"] = True  # the multipliers of the exact optimum
    return cert, exact_alpha, cost * dual[2]


def _exact_multipliers(dual, alpha, upper):
    """``alpha`` from the polish's ``(sample, theta, rounds)``, in the box."""
    exact_alpha = np.zeros_like(alpha)
    exact_alpha[dual[0]] = dual[1]
    return np.clip(exact_alpha, 0.0, upper)


class _OutOfBudget(Exception):
    pass


def _metered(objective, meter):
    """``objective`` whose Hessian work is charged to ``meter`` (in passes).

    A pass of dual CD reads every row entry twice (a dot and an axpy); so
    does a Hessian product, on the rows with curvature only (``A``: ``H =
    X_A^T D X_A + penalty``), and is charged the share of a pass those rows
    make. With few coefficients the matrix is formed instead (charged its
    dense multiply-adds, ``|A| size^2``, at ``BLAS3_SPEEDUP`` per pass
    entry) and each product with it costs ``size^2`` multiply-adds.
    """
    X, n = objective.X, objective.n_samples
    one_pass = pass_work(objective)
    row_work = np.diff(X.indptr) if sp.issparse(X) else np.full(n, X.shape[1])
    y = objective.y[:, 0]
    weights = objective.loss_scale * objective.sample_weight
    size = objective.size
    hessian_operator = objective.hessian_operator

    def charge(work):
        meter[0] += work / one_pass
        if meter[0] > meter[1]:
            raise _OutOfBudget

    def counted(coef):
        z = objective.scores(coef)[:, 0]
        curvature = weights * objective.loss.hessian(y, z)
        rows = np.flatnonzero(curvature)
        work = float(row_work[rows].sum()) + len(rows)
        forming = (len(rows) * size * size + size**3 / 3) / BLAS3_SPEEDUP
        if size > MAX_FORMED_HESSIAN or forming > FORM_WORTH * work:
            product = hessian_operator(coef)  # reads the rows A only

            def charged(v):
                charge(work)
                return product(v)

            def diagonal():  # CG's preconditioner: one pass over the rows A
                charge(work)
                return product.diagonal()

            if hasattr(product, "diagonal"):
                charged.diagonal = diagonal
            if hasattr(product, "csr"):  # a compiled CG runs the products
                charged.csr = product.csr
                charged.charge = lambda steps: charge(steps * work)
            return charged
        # forming it and factorizing it (the line-search Newton's solve)
        charge(forming)
        H = formed_hessian(objective, X[rows], curvature[rows])

        def formed(v):
            charge(0.5 * size * size)
            return H @ v

        formed.matrix = H
        return formed

    objective.hessian_operator = counted  # on this copy only
    return objective


def primal_finish(objective, setup, start, w, shift, gap, tol, budget, mu=None):
    """Newton on the primal (smoothed for the hinge) from dual CD's point.

    ``budget`` is in passes over the data (Hessian work charged as
    ``_metered`` says):
    where Newton crawls (nearly separable data with ``d`` close to ``n``, many
    kinks for the line searches) the finish gives up within it and dual CD
    goes on. Returns ``(cert, alpha, spent)``: the certificate (as
    ``binary_certificate``) of the best point found (``None`` if none), its
    feasible dual ``alpha`` (in the box, before balancing) and the
    pass-equivalents spent. The hinge's smoothing starts at ``mu`` where
    given (a path's previous point certified there; see ``_dual_cd._resume``),
    else at the relative ``gap`` times the margin; each certificate of a
    stage records its ``mu``.
    """
    meter = [0, budget]
    try:
        best = _finish(objective, setup, start, w, shift, gap, tol, meter, mu)
    except _OutOfBudget:
        best = meter[2] if len(meter) > 2 else None
    if best is None:  # no stage fitted the budget (a budget of 0 passes)
        best = (None, None)
    return best[0], best[1], min(meter[0], budget)


def interior_point_applies(objective):
    """Whether the hinge's interior point may finish ``objective``: a
    non-smooth loss and at most ``MAX_FORMED_HESSIAN`` coefficients."""
    size = objective.n_features + int(objective.fit_intercept)
    return not objective.loss.is_smooth and size <= MAX_FORMED_HESSIAN


def early_interior_point(objective, setup, start, w, shift, tol, needed, budget):
    """The interior point before dual CD stalls, where it costs less than the
    passes dual CD still ``needed`` (its own estimate; see
    :func:`interior_point_applies`).

    On small problems the interior point certifies in a few passes'
    worth where dual CD and its polish spent hundreds (breast cancer, C = 1:
    291 passes, four polish tries, 1.7 ms). Returns ``(cert, alpha, spent)``
    as :func:`primal_finish`; ``cert`` is None where it was not worth trying
    (``spent`` then counts the product that told).
    """
    if not interior_point_applies(objective):
        return None, None, 0.0
    d = objective.n_features
    b = shift if setup["unpenalized"] else setup["bias"] * w[d]
    plan = _interior_point_plan(objective, setup, start, w, b, start["alpha"])
    spent = 1.0  # the margins the plan read
    if plan["cost"] > EARLY_IPM_SHARE * min(needed, budget):
        return None, None, spent
    meter = [spent, budget]
    try:
        best = _interior_point(objective, setup, start, plan, tol, meter)
    except _OutOfBudget:  # the last iterate's or an earlier round's point
        best = meter[2] if len(meter) > 2 else None
    if best is None:
        return None, None, min(meter[0], budget)
    return best[0], best[1], min(meter[0], budget)


def _finish(objective, setup, start, w, shift, gap, tol, meter, mu=None):
    column = objective.column(start["column"])
    d, bias = objective.n_features, setup["bias"]
    unpenalized = setup["unpenalized"]
    b = shift if unpenalized else bias * w[d]
    coef = column.join(w[:d][None, :], [b])
    newton = TrustRegionNewton(globalization="line_search")
    loss = objective.loss
    if loss.is_smooth:
        latest = [None]
        report = _steps(setup, column, meter)

        def kept(n_iter, value, decrement, measure, coef, objective):
            latest[0] = coef.copy()
            if report is not None:
                report(n_iter, value, decrement, measure, coef, objective)

        try:
            result = _newton_steps(
                newton, column.with_loss(loss), coef, tol / 4, meter, kept
            )
        except _OutOfBudget:
            # the budget ran out between Newton steps: the last iterate is
            # still a primal point, often far better than dual CD's (counts,
            # 770 x 405, squared hinge, C = 100: 26,803 against 51,256)
            if latest[0] is not None:
                alpha = _multipliers(column, setup, start, latest[0])
                cert = _certify(objective, setup, start, latest[0], alpha)
                cert["mu"] = 0.0
                meter[2:] = [(cert, alpha)]
            raise
        meter[0] += ITERATION_COST * result.n_iter
        alpha = _multipliers(column, setup, start, result.coef)
        cert = _certify(objective, setup, start, result.coef, alpha)
        cert["mu"] = 0.0  # no smoothing: Newton on the loss itself
        return cert, alpha
    margin = setup["form"].margin if setup["form"].margin > 0 else 1.0
    resumed = mu is not None
    if mu is None:
        mu = margin * float(np.clip(max(10 * gap, MIN_START_MU), tol, 1.0))
    best = None
    # the interior point is tried once: first, or after the first stage
    # where its polish did not certify (IPM_AFTER_STAGES)
    interior = interior_point_applies(column)
    coarse_first = interior
    if interior:
        plan = _interior_point_plan(objective, setup, start, w, b, start["alpha"])
        left = meter[1] - meter[0]
        # where it is cheap, the interior point goes first, from dual CD's
        # point (a stage costs more there: twonorm 7,400 x 20, C = 10: 4 ms
        # against 16 ms with a stage first); so it does where a path resumes
        # the previous C's finish (``mu`` given): that point names a tight
        # working set, and a stage at its small smoothing is costly
        if resumed and plan["solve_cost"] > left:
            # a path's resumed finish that cannot afford the interior point
            # spends nothing: dual CD and its own finish do better from here
            return None
        cheap = max(IPM_FIRST_PASSES, IPM_FIRST_SHARE * left)
        if resumed or plan["solve_cost"] <= cheap:
            first = _interior_point(objective, setup, start, plan, tol, meter)
            if first is not None:
                interior = False
                best = first
                meter[2:] = [best]
                if first[0]["gap"] <= tol * first[0]["primal"]:
                    return best
        # beyond the budget, a coarse stage would only spend passes that the
        # continuation needs (a 600 x 120 one-hot set's path at C = 1: the
        # coarse stage and the continuation at dual CD's small gap ended at
        # 2.7e-2, where the continuation alone certifies)
        coarse_first = plan["solve_cost"] <= left
    stages, coarse_start = 0, None
    while meter[0] < meter[1]:
        if interior and stages == IPM_AFTER_STAGES:
            interior = False
            W, b_stage = column.split(coef)
            plan = _interior_point_plan(
                objective, setup, start, W[0], float(b_stage[0]), alpha
            )
            # the finish's last chance: what the budget still holds would go
            # to stages at ever smaller smoothings, which seldom certify; the
            # interior point gets it where its usual number of steps fits
            found = _interior_point(
                objective, setup, start, plan, tol, meter, steps=LAST_IPM_STEPS
            )
            if found is not None and (best is None or found[0]["gap"] < best[0]["gap"]):
                best = found
                meter[2:] = [best]
                if found[0]["gap"] <= tol * found[0]["primal"]:
                    break
            if coarse_start is not None:
                # the coarse stage served the interior point only: the
                # continuation starts from dual CD's point, nearer its
                # smoothing (from the coarse point, a 600 x 120 one-hot
                # set's path at C = 1 ended at 3e-2 where dual CD's certifies)
                coef = coarse_start
        # the stage before the interior point only improves its start: at a
        # coarse smoothing, cheap (a small one from dual CD's stalled point
        # took 583 passes on splice as CSR, most of the budget)
        coarse = coarse_first and interior and stages == 0
        coarse = coarse and mu < FIRST_STAGE_MU * margin
        stage_mu = FIRST_STAGE_MU * margin if coarse else mu
        coarse_start = coef if coarse else None
        # the stage before the interior point leaves it its price, where
        # that leaves the stage a share worth having (else the stage runs
        # as it would: splice as CSR at C = 10, a price of 784 of 791 passes
        # left the stage 7, and the interior point from there overran)
        before_interior = interior and stages == 0
        before_interior = before_interior and (
            plan["solve_cost"] <= STAGE_RESERVE_SHARE * (meter[1] - meter[0])
        )
        stage_start = coef
        stages += 1
        smooth = column.with_loss(loss.smoothed(stage_mu))
        # a stage's solution is a stepping stone (its own gap is about mu,
        # relative): solved to a fraction of that, not to tol
        accuracy = max(tol / 4, STAGE_ACCURACY * stage_mu / margin)
        if before_interior:
            result = _stage_before_interior_point(
                newton, smooth, coef, accuracy, meter, _steps(setup, column, meter),
                plan["solve_cost"],
            )  # fmt: skip
            if not hasattr(result, "coef"):
                # out of what the interior point leaves it: the interior
                # point from the stage's last iterate (dual CD's point where
                # it made none)
                if result is None:
                    coef, alpha = stage_start, start["alpha"]
                else:
                    coef, alpha = result, _multipliers(smooth, setup, start, result)
                coarse_start = None
                continue
        else:
            result = _newton_steps(
                newton, smooth, coef, accuracy, meter, _steps(setup, column, meter)
            )
        coef = result.coef
        meter[0] += ITERATION_COST * max(result.n_iter, 1)
        alpha = _multipliers(smooth, setup, start, coef)
        cert = _certify(objective, setup, start, coef, alpha)
        # more kink terms than coefficients: the conditions are singular, each
        # round a least-squares solve that fails (as in dual_polish; splice
        # as CSR at C = 32.9: 26 such solves, 0.35 s, none certified)
        exact, _, dual = polish(
            column, coef, stage_mu, multipliers=True,
            max_kink=min(MAX_FINISH_POLISH_KINK, column.size),
            # beyond dual CD's cap, only sets a Cholesky factor solves: a
            # singular one (duplicated documents on the margin) would be
            # an SVD of up to 4,000 (some 14 s a round, see polish)
            max_least_squares=MAX_DUAL_POLISH_KINK,
        )  # fmt: skip
        if exact is not None:
            # the polish's multipliers are the exact optimum's dual point
            exact_alpha = _exact_multipliers(dual, alpha, setup["upper"])
            finished = _certify(objective, setup, start, exact, exact_alpha)
            if finished["gap"] < cert["gap"]:
                cert, alpha = finished, exact_alpha
                cert["exact"] = True
        cert["mu"] = stage_mu
        if setup["finish_report"] is not None:
            setup["finish_report"](meter[0], cert)
        if best is None or cert["gap"] < best[0]["gap"]:
            best = (cert, alpha)
            meter[2:] = [best]  # what an exhausted budget leaves
        relative = cert["gap"] / cert["primal"] if cert["primal"] > 0 else 0.0
        if relative <= tol or mu <= 1e-3 * tol * margin:
            break
        if not coarse:
            mu *= SHRINK
    return best


def _stage_before_interior_point(
    newton, smooth, coef, accuracy, meter, report, reserve
):
    """The smoothing stage before the interior point, within the budget less
    ``reserve`` (the interior point's price): its result, or where it ran
    out there its last iterate (None where it made none).

    From a stalled dual CD's poor point it could take the whole budget: on
    one-hot rows (300 x 180, C = 10, a path's point, relative gap 0.9) 21
    Newton steps, 610 of 900 passes, and the interior point could then not
    be paid for; the point ended at max_iter with a relative gap of 0.44.
    """
    latest = [None]

    def kept(n_iter, value, decrement, measure, coef, objective):
        latest[0] = coef.copy()
        if report is not None:
            report(n_iter, value, decrement, measure, coef, objective)

    limit = meter[1]
    meter[1] = limit - reserve
    try:
        return _newton_steps(newton, smooth, coef, accuracy, meter, kept)
    except _OutOfBudget:
        return latest[0]
    finally:
        meter[1] = limit


def _interior_point_plan(objective, setup, start, w, b, alpha):
    """The first working set, read off the primal point ``(w, b)`` and the
    multipliers ``alpha``, and the predicted cost of its solve (passes)."""
    d = objective.n_features
    y, upper = start["y"], setup["upper"]
    bias, unpenalized = setup["bias"], setup["unpenalized"]
    constant = bias if bias and not unpenalized else 0.0
    live = upper > 0
    residual = y * (objective.data_dot(w[:d]) + b) - setup["form"].margin
    plan = {
        "sets": working_set(residual, alpha, upper, live),
        "alpha": alpha,
        "live": live,
        "constant": constant,
        "size": d + int(bool(constant)),
        "pass_work": pass_work(objective),
    }
    n_rows = int(plan["sets"][0].sum())
    plan["cost"] = IPM_STEPS * _step_cost(plan, n_rows)
    # what the solve's own rounds charge: in the coordinates of the rows'
    # basis where a path's earlier point paid for one (``known_bases``;
    # else the full size). The finish reads it to choose the interior point
    # or a smoothing stage first (priced at the full size, a stalled point
    # of a one-hot path spent its whole budget on a stage and ended at
    # max_iter); the choice against dual CD's passes (the early interior
    # point) keeps the full size's price, which it was tuned with
    width = _kept_basis_width(objective, constant, setup.get("known_bases", {}))
    plan["solve_cost"] = (
        plan["cost"] if width is None else IPM_STEPS * _step_cost(plan, n_rows, width)
    )
    return plan


def _step_cost(plan, n_rows, size=None):
    """Passes one interior-point step costs: it forms and factorizes the
    normal equations (BLAS) and runs a few tens of vector operations over
    the working set. ``size``: the coefficients the step solves for
    (``plan["size"]`` by default; fewer in a basis of the rows)."""
    size = plan["size"] if size is None else size
    blas = (n_rows * size * size / 2 + size**3 / 3) / BLAS3_SPEEDUP
    work = blas + STEP_VECTOR_WORK * n_rows + STEP_OVERHEAD
    return work / plan["pass_work"]


def _interior_point(objective, setup, start, plan, tol, meter, steps=IPM_STEPS):
    """The hinge's dual by the interior-point method on a working set.

    Where the number of coefficients is small (the Hessian may be formed),
    this replaces the smoothing continuation's many Newton stages by one
    interior-point solve of about twenty steps, which degenerate margin sets
    (duplicated rows, one-hot data) do not trouble (``_interior_point``).
    ``plan`` (:func:`_interior_point_plan`) holds the first working set.
    A round starts only where ``steps`` of its steps fit in the budget left
    (the steps are charged as they run: one past it ends the finish).
    Returns ``(cert, alpha)`` of the best round, or None where none ran (its
    predicted cost exceeds what is left of the budget, a factorization
    failed).
    """
    X, d = objective.X, objective.n_features
    y, upper = start["y"], setup["upper"]
    unpenalized = setup["unpenalized"]
    margin = setup["form"].margin
    column = objective.column(start["column"])
    sets, live = plan["sets"], plan["live"]
    constant, size = plan["constant"], plan["size"]
    best = None
    # the steps solve in a basis of the rows where their rank is low
    n_first = int(sets[0].sum())
    basis, kept = _cached_row_basis(objective, constant, n_first, plan, meter, setup)

    for _ in range(MAX_ROUNDS):
        working, at_upper = sets
        rows = np.flatnonzero(working)
        if not len(rows):  # every sample held at a bound: nothing to solve
            break
        # none where ``steps`` steps cannot fit in the budget left
        solve_size = size if basis is None else basis.shape[1]
        if steps * _step_cost(plan, len(rows), solve_size) > meter[1] - meter[0]:
            break
        block = dense_rows(X, rows, constant)
        if objective.offset is not None:  # centered coordinates: x_i - mu
            block[:, :d] -= objective.offset
        # the samples held at their upper bound: their part of w and of the
        # intercept's balance
        pull = upper * y * at_upper
        fixed_w = np.zeros(size)
        fixed_w[:d] = objective.data_t_dot(pull)
        if constant:
            fixed_w[d] = constant * pull.sum()
        meter[0] += CHECK_COST  # that product, the certificate and the margins
        basis, block, fixed_w = _in_rows_basis(
            setup, objective, constant, plan, meter, basis, kept, block, fixed_w
        )
        # a step's cost in the coordinates it solves in (the block's columns)
        step = _step_cost(plan, len(rows), block.shape[1])

        def charge(step=step):
            meter[0] += step
            if meter[0] > meter[1]:
                raise _OutOfBudget

        def certified(theta, v, b_new, basis=basis, rows=rows, at_upper=at_upper):
            """The round's point ``(cert, alpha, coef, w, b)``, certified."""
            if basis is not None:  # back from the basis's coordinates
                v = basis @ v
            new_alpha = np.where(at_upper, upper, 0.0)
            new_alpha[rows] = theta
            w_new = np.zeros(d + 1)
            w_new[:size] = v
            b_new = constant * w_new[d] if constant else b_new
            coef = column.join(w_new[:d][None, :], [b_new])
            cert = _certify(objective, setup, start, coef, new_alpha)
            return cert, new_alpha, coef, w_new, b_new

        try:
            theta, v, b_new, _ = solve_box_dual(
                block, y[rows], upper[rows], margin, unpenalized, plan["alpha"][rows],
                tol=INNER_SHARE * tol, fixed_w=fixed_w,
                fixed_balance=float(pull.sum()), charge=charge,
            )  # fmt: skip
        except InteriorPointFailed:
            break
        except _OutOfBudget as error:
            # the budget ran out mid-solve: its last iterate (interior, so a
            # feasible dual point) may still give the finish its best bound
            found = [meter[2]] if len(meter) > 2 and meter[2] is not None else []
            found += [best] if best is not None else []
            if getattr(error, "iterate", None) is not None:
                cert, new_alpha = certified(*error.iterate)[:2]
                cert["mu"] = tol * margin
                found.append((cert, new_alpha))
            if found:  # what the finish returns (an earlier round's too)
                meter[2:] = [min(found, key=lambda kept: kept[0]["gap"])]
            raise
        cert, new_alpha, coef, w_new, b_new = certified(theta, v, b_new)
        # an interior point never reaches its bounds: snapped onto them, the
        # multipliers name the optimal sets (a path's next point solves them
        # at once, dual CD's shrinking sees them), where that keeps the gap
        snapped = snap_to_bounds(new_alpha, upper, tol)
        if cert["gap"] <= tol * cert["primal"] and snapped is not None:
            exact = _certify(objective, setup, start, coef, snapped)
            if exact["gap"] <= tol * exact["primal"]:
                cert, new_alpha = exact, snapped
        cert["mu"] = tol * margin  # where a path's next finish may resume
        if best is None or cert["gap"] < best[0]["gap"]:
            best = (cert, new_alpha)
        if cert["gap"] <= tol * cert["primal"]:
            break
        residual = y * (objective.data_dot(w_new[:d]) + b_new) - margin
        sets = grow(working, at_upper, residual, live)
        if sets is None:
            break
    return best


#: the rows' bases (``row_basis``), by the identity of the data they were
#: computed for: the one-vs-rest columns share their data, and so do a
#: path's points where the solver keeps the data object (sparse data, or
#: no intercept to center: dense data centered for a free intercept is a
#: new copy at each C, and gets its basis again). Arrays are not hashable:
#: no WeakKeyDictionary; the columns may run in threads: a lock
_row_bases = {}
_row_bases_lock = threading.Lock()
#: the basis is computed only where its Gram matrix over all ``n`` rows
#: costs at most this share of the interior point's own products over its
#: working set (``IPM_STEPS`` steps): sylva, 13,086 x 212, of rank 204, has
#: a few hundred samples near the margin and its 20 ms basis would have
#: been pure cost (a third of a 60 ms fit at C = 0.1)
BASIS_SHARE = 0.5
#: ... and only where it costs at most this share of the finish's budget
#: left (the interior point must still run in it; splice as CSR's costs 92
#: passes, a sixth of a cold fit's finish)
BASIS_BUDGET_SHARE = 0.5
#: ... and only for this many coefficients or more: below, a step's BLAS
#: work is a small part of its cost (satimage, 36 features: the vector work
#: and the fixed cost), and a basis would change nothing but the budget
MIN_BASIS_SIZE = 100
#: LAPACK's symmetric eigensolver costs about this many pass entries of
#: dual CD per ``size^3`` (measured: 5 ms at 287, where a pass entry costs
#: about 1.3 ns)
EIGH_WORK = 0.2


def _cached_row_basis(objective, constant, n_rows, plan, meter, setup, fresh=False):
    """``row_basis`` of the objective's rows (centered where it is), per data,
    offset and constant feature; None where it is not worth computing for a
    working set of ``n_rows``. ``fresh``: computed again whatever is known.

    Every choice here reads only what the solve began with and the
    column's own budget, never what the solve's other columns did, so that
    the answer does not depend on the order in which the one-vs-rest
    columns run (``n_jobs``): a basis counts as paid for only where a
    path's earlier point computed it (``setup["known_bases"]``,
    :func:`known_bases`), as does a data's mark that none is worth it;
    otherwise each column that wants it is charged its computation (passes,
    as ``_step_cost``), also where another column of the solve computed it
    first and the work is shared (``setup["solve_bases"]``). The solve's
    bases and marks reach the kept ones once it has ended
    (:func:`publish_bases`). With the charge going to the first column
    only, two threads gave coefficients 1.3e-4 apart; with a column's mark
    that its rows left the basis read by the others, 0.13 apart.
    Returns ``(basis, kept)``: ``kept`` where it was known.
    """
    X = objective.X
    key = _basis_key(objective, constant)
    known = setup.get("known_bases", {}).get(key)
    if known is not None and known[0]() is X and not fresh:
        return known[1], known[1] is not None
    if plan["size"] < MIN_BASIS_SIZE or X.shape[0] > BASIS_SHARE * IPM_STEPS * n_rows:
        return None, False
    size = plan["size"]
    work = X.shape[0] * size * size / 2 / BLAS3_SPEEDUP + EIGH_WORK * size**3
    if work / plan["pass_work"] > BASIS_BUDGET_SHARE * (meter[1] - meter[0]):
        # a basis that leaves too little for the interior point to run in
        # it: charged anyway, it ended the finish (sparse counts, 2,000 x 500
        # at 5 %: a basis of 967 passes against 713 left, whose stages had
        # certified nothing yet; relative gap 0.24 after 1,000 passes), or
        # left the stages too little (1,000 x 300: 622 of 712, for a basis
        # of full rank, none; 1.8e-2)
        return None, False
    meter[0] += work / plan["pass_work"]
    shared = setup.setdefault("solve_bases", {})
    with _row_bases_lock:
        entry = shared.get(key)
    if entry is None:  # (computed from this solve's data: the same answer)
        basis = row_basis(X, objective.offset, constant)
        with _row_bases_lock:
            entry = shared.setdefault(key, (weakref.ref(X), basis))
    return entry[1], False


def publish_bases(setup, states):
    """Keep the bases a solve computed, and its marks of data whose rows left
    their basis, for later solves; record in each column's state (``states``)
    the keys a path's next point may count as paid for (:func:`known_bases`).
    Once the solve has ended: its columns, running in threads, read none of
    this."""
    computed = setup.get("solve_bases", {})
    marks = setup.get("solve_marks", set())
    with _row_bases_lock:
        for old in [k for k, (ref, _) in _row_bases.items() if ref() is None]:
            _row_bases.pop(old, None)  # data gone: its basis too
        for key, (ref, basis) in computed.items():
            if ref() is not None:
                _row_bases[key] = (ref, None if key in marks else basis)
    keys = frozenset(computed) | frozenset(setup.get("known_bases", {}))
    for state in states:
        if isinstance(state, dict):
            state["row_bases"] = keys


def known_bases(warm_state):
    """The bases a solve may count as paid for (see :func:`_cached_row_basis`),
    by key: ``(data's weak reference, basis or None)``, those a path's
    earlier points computed (``warm_state`` marked ``along_path`` by
    ``hinge_path``, its columns' ``row_bases``); none otherwise, so that a
    fit (or a path) does not depend on what earlier fits on the same data
    left behind."""
    if not isinstance(warm_state, list):
        return {}
    keys = set()
    for column in warm_state:
        if isinstance(column, dict) and column.get("along_path", False):
            keys |= set(column.get("row_bases") or ())
    with _row_bases_lock:
        return {
            key: _row_bases[key]
            for key in keys
            if key in _row_bases and _row_bases[key][0]() is not None
        }


def _kept_basis_width(objective, constant, known):
    """The columns of the basis kept for the objective's rows since before
    the solve began (``known``; see :func:`_cached_row_basis`), or None
    where none is (not computed yet, or none worth it for this data)."""
    entry = known.get(_basis_key(objective, constant))
    if entry is None or entry[0]() is not objective.X or entry[1] is None:
        return None
    return entry[1].shape[1]


def _basis_key(objective, constant):
    """The cache's key of a basis: the data's identity, offset and constant."""
    offset = objective.offset
    return (
        id(objective.X),
        None if offset is None else offset.tobytes(),
        float(constant),
    )


def _in_rows_basis(
    setup, objective, constant, plan, meter, basis, kept, block, fixed_w
):
    """``(basis, block, fixed_w)`` in the coordinates of ``basis``, or
    ``(None, block, fixed_w)`` as they are where there is none or the rows
    leave its span.

    A known basis (``kept``) that the rows leave was computed for the data
    before it changed in place: it is computed again, once; a fresh basis
    the rows leave (a direction below ``RANK_TOL`` that they still use)
    marks the data as having none worth it, for later solves only
    (:func:`publish_bases`; the solve's other columns decide on their own
    rows).
    """
    if basis is None:
        return None, block, fixed_w
    reduced = _in_basis(basis, block, fixed_w)
    if reduced is None and kept:
        basis, _ = _cached_row_basis(
            objective, constant, block.shape[0], plan, meter, setup, fresh=True
        )
        reduced = None if basis is None else _in_basis(basis, block, fixed_w)
    if reduced is None:
        if basis is not None:
            with _row_bases_lock:
                setup.setdefault("solve_marks", set()).add(
                    _basis_key(objective, constant)
                )
        return None, block, fixed_w
    return basis, *reduced


#: rows whose part outside the basis exceeds this (relative) are not in its
#: span
BASIS_RESIDUAL = 1e-9


def _in_basis(basis, block, fixed_w):
    """``(block V, V^T fixed_w)``, or None where the rows or ``fixed_w`` leave
    the span of ``V`` (the cache is by the data's identity: an array changed
    in place keeps it; then the steps in the basis would solve another
    problem)."""
    reduced, fixed = block @ basis, basis.T @ fixed_w
    scale = max(float(np.abs(block).max(initial=0.0)), 1e-300)
    if np.abs(block - reduced @ basis.T).max(initial=0.0) > BASIS_RESIDUAL * scale:
        return None
    fixed_scale = max(float(np.abs(fixed_w).max(initial=0.0)), 1e-300)
    if np.abs(fixed_w - basis @ fixed).max(initial=0.0) > BASIS_RESIDUAL * fixed_scale:
        return None
    return reduced, fixed


def _steps(setup, column, meter):
    """The Newton steps' progress reports (the primal of ``column``), or None."""
    report = setup["finish_report"]
    if report is None:
        return None

    def step(n_iter, value, decrement, measure, coef, objective):
        report(meter[0], column=column, coef=coef, decrement=decrement)

    return step


def _newton_steps(newton, objective, coef, tol, meter, callback=None):
    """Plain Newton iterations on ``objective``, its Hessian work metered.

    Not ``newton.solve``: that refines until its own strong-convexity bound
    holds; here the duality gap is the certificate and the budget is counted
    in passes, so only the steps are wanted. They run in centered
    coordinates (:meth:`LinearObjective.centered`; implicit, sparse data
    stays sparse), as ``newton.solve`` would: on uncentered data (sparse
    counts, all features non-negative) the intercept is nearly collinear with
    the features and CG crawls.
    """
    newton.check_loss(objective.loss)

    def steps(inner, start):
        step = callback
        if callback is not None and inner is not objective:

            def step(n_iter, value, decrement, measure, coef, _objective):
                # reports see the problem's own coordinates, not the centered
                callback(
                    n_iter, value, decrement, measure, inner.uncenter_coef(coef),
                    objective,
                )  # fmt: skip

        return newton._newton(_metered(inner, meter), start, tol, meter[1], step)

    # an objective already in centered coordinates (dual CD's, on sparse
    # rows) is solved as it is: solve_centered maps nothing then
    return solve_centered(steps, objective, coef)


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
