"""Dual coordinate descent: exact, certified solutions of the SVM duals."""

from collections import deque

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import row_norms

from ._active_set import polish
from ._base import (
    GAP,
    Solver,
    SolveResult,
    counted_after,
    gradient_reference,
    map_columns,
    progress_callback,
)
from ._crammer_singer_polish import (
    POLISH_TRIES,
    crammer_singer_polish,
    polish_worth,
    tied_terms,
)
from ._dual_cd_fast import binary_dual_cd, multiclass_dual_cd
from ._dual_cd_finish import (
    FINISH_SHARE,
    dual_polish,
    early_interior_point,
    interior_point_applies,
    known_bases,
    pass_work,
    passes_needed,
    primal_finish,
    publish_bases,
    stalled,
    work_needed,
)
from ._dual_cd_parts import (
    binary_certificate,
    binary_shrinking,
    binary_start,
    compiled_rows,
    exact_intercept,
    init_bias_weight,
    intercept_scale,
    multiclass_certificate,
    multiclass_shrinking,
    multiclass_start,
)
from ._interior_point_solver import InteriorPoint, interior_point_dual
from ._newton_finish import newton_finish

#: below this tol the certified dual solution gets an exact primal finish
EXACT_FINISH_TOL = 1e-10
#: a resumed primal finish (hinge_path, see ``_resume``) starts its
#: smoothing at this multiple of the one that certified the previous C:
#: spambase's path (hinge, 20 default C, two pass orders) took 0.94 s
#: from the previous smoothing itself (Newton crawls from the previous
#: point without the continuation), 0.51-0.59 s from 2x to 8x, 0.56-0.58 s
#: from 16x, against 0.76-0.78 s with dual CD first
WARM_FINISH_MU = 4.0
#: ... and may spend this share of what the finish may spend in a cold
#: solve of as many passes as the column's last point that resumed nothing
WARM_FINISH_SHARE = 0.5
#: the hinge's interior point is tried at most this many times per column
#: before dual CD stalls (``early_interior_point``), once it has made this
#: many passes and still needs this many at its measured rate. The rate of
#: the first passes misleads: after 10, two one-vs-rest columns of penbased
#: (C = 0.1) predicted 813 and 988 passes still to go, and the interior
#: point spent 76 and 99 pass-equivalents where dual CD needed 81 in all
#: (the fit 97 -> 68 ms with 20); on breast cancer, twonorm, ring, ada,
#: spambase, digits, satimage and texture (C = 0.1, 1, 10) 20 changes nothing
EARLY_TRIES = 1
EARLY_MIN_PASSES = 20
EARLY_MIN_NEEDED = 20
#: below this many row entries of work in ``max_iter`` passes (about 25 ms
#: of dual CD), the finish's budget does not shrink with dual CD's passes
#: (see ``_finish_budget``): breast cancer (569 x 30) is just below it
SMALL_DATA_WORK = 2e7
#: with an unpenalized intercept, the most passes between two updates of b
MAX_PASSES_PER_INTERCEPT_UPDATE = 50
#: Crammer-Singer: the gap is checked once the kernel's work since the last
#: check reaches the larger of this many passes with everything active (a
#: check costs about one) and this share of the work so far
CHECK_EVERY_FULL_PASSES = 8
CHECK_GROWTH = 0.25
#: row entries one kernel call may read (about 0.1 s): the kernel holds no
#: GIL, so Ctrl-C waits for the call to end
MAX_WORK_PER_CALL = 5e7


class DualCoordinateDescent(Solver):
    """Dual coordinate descent with shrinking (Hsieh et al. 2008), compiled.

    Solves the dual of the hinge and squared-hinge SVM (one-vs-rest for
    several classes, one independent dual per class) and, by the sequential
    dual method, of the plain and squared Crammer-Singer losses. Per-sample
    bounds carry sample and class weights; dense and CSR data are read row by
    row without densifying.

    Parameters
    ----------
    shrinking : bool, default=True
        Skip variables stuck at a bound (LIBLINEAR's heuristic; every stop is
        verified on all samples first).

    Notes
    -----
    **Duals.** For the binary losses (margin ``m``, ``C_i = C s_i``)

    .. math:: \\max_{0 \\le \\alpha_i \\le U_i}\\; m\\textstyle\\sum_i \\alpha_i
              - \\tfrac12\\|\\sum_i \\alpha_i y_i x_i\\|^2
              - \\tfrac12 \\sum_i D_i \\alpha_i^2,

    ``U_i = C_i, D_i = 0`` for the hinge and ``U_i = \\infty, D_i = 1/(2C_i)``
    for the squared hinge; ``w = \\sum_i \\alpha_i y_i x_i``. Crammer-Singer
    uses ``K`` variables per sample with ``\\sum_m \\alpha_i^m = 0``
    (formulas.md §2.2, §3.2).

    **Intercept.** ``fit_intercept=False``: no bias. ``intercept_scaling=B``:
    LIBLINEAR's penalized bias, a constant feature ``B``. By default the
    intercept is unpenalized and solved *exactly*: the dual then has the
    equality constraint ``sum_i alpha_i y_i = 0``, which coordinate descent
    cannot keep, so it is handled by the method of multipliers (equivalently
    a proximal-point loop on ``b``): each inner problem penalizes
    ``(b - b_k)^2 / (2 B^2)`` through a constant feature ``B`` and is a plain
    box-constrained dual, solved warm-started. For the binary duals ``b_{k+1}``
    is then the exact minimizer of the primal at the inner solution's ``w``
    (a 1-D piecewise linear or quadratic problem, solved by sorting), which
    lowers the objective at least as much as the multiplier step
    ``b_k + B^2 sum_i alpha_i y_i``, a step that vanishes on rows of small
    norm; Crammer-Singer keeps the multiplier step. Its fixed points are
    exactly the unpenalized optimum.

    **Primal finish.** Where the binary dual stalls (after ``max(100,
    max_iter / 10)`` passes, its measured rate would not reach ``tol`` within
    ``max_iter``: large ``C``, many free support vectors), Newton's method
    takes over on the primal from dual CD's point -- directly for the squared
    hinge, through a smoothing continuation with the active-set polish for the
    hinge (``_dual_cd_finish``) -- within a share of the passes left (a Hessian
    product counts as a pass). For the hinge with at most 1,024 coefficients
    a primal-dual interior-point solve of the dual joins it, first where it
    is predicted cheap, else after one coarse smoothing stage whose point
    names a tighter working set (``_interior_point``: Mehrotra's
    predictor-corrector on the samples near the margin, the normal equations
    ``I + Z^T D^{-1} Z`` formed and factorized, the unpenalized intercept as
    the multiplier of ``sum_i alpha_i y_i = 0``): degenerate margin sets
    (duplicated rows, one-hot categories) stall the polish's set updates,
    not it. It is also tried once before dual CD stalls, where its predicted
    cost is well below the passes dual CD's measured rate still asks for.
    Its certificate is still a duality gap, at the smoothed solution's or
    the interior point's multipliers; if it does not certify, dual CD
    resumes from the better of the two dual points.

    **Crammer-Singer.** The sequential dual method keeps its shrinking
    between kernel calls and checks the gap after an amount of kernel work
    (not of passes: a shrunk pass can cost a hundredth of a full one), and
    ``max_iter`` counts its passes in full-pass equivalents of that work. Where
    it lingers over a few free variables, the ties its multipliers name are
    solved exactly (``_crammer_singer_polish``, plain loss, no unpenalized
    intercept); the exact multipliers are a feasible dual point, so the
    certificate is still a duality gap.

    **Stopping rule and certificate.** ``tol`` bounds the relative
    suboptimality: the solver stops when the relative duality gap

    .. math:: \\frac{P(w, b) - D(\\hat\\alpha)}{P(w, b)} \\le \\mathrm{tol}

    for every one-vs-rest column, ``P`` the primal objective (computed with
    the loss's numpy formula) and ``D`` the dual at a feasible ``\\hat\\alpha``
    (``alpha`` rescaled onto ``sum_i alpha_i y_i = 0`` when the intercept is
    unpenalized). Since ``D \\le P^*``, the reported ``optimality`` is a proven
    upper bound on ``(P - P^*) / P``. ``max_iter`` counts passes over the data
    (epochs), the primal finish's work included in pass-equivalents. A warm
    start (``warm_state``) from another problem is first made feasible for
    this one (clipped into the box; Crammer-Singer variables projected onto
    the new labels' constraints) and its intercept is kept only where the
    intercept is unpenalized, so the certificate is always that of the
    problem being solved.
    """

    resumes_from_state = True
    needs_unit_quadratic = True
    nonsmooth_penalty_advice = (
        "its dual is the L2-penalized SVM's, so use solver='auto' or solver='gd' "
        "(proximal steps)"
    )
    _constraints = {"shrinking": "bool"}

    def __init__(self, shrinking=True):
        self.shrinking = shrinking

    def check_loss(self, loss):
        """Refuse losses whose dual has no compiled update."""
        super().check_loss(loss)
        if loss.dual_form() is None:
            advice = (
                "solver='newton' or 'lbfgs'"
                if loss.is_smooth
                else "solver='gd' (Nesterov smoothing with an exact finish)"
            )
            raise ValueError(
                f"DualCoordinateDescent has no update for {type(loss).__name__}; "
                f"use {advice}."
            )

    def solve(
        self,
        objective,
        coef_init=None,
        *,
        tol,
        max_iter,
        rng=None,
        callback=None,
        warm_state=None,
    ):
        """Minimize ``objective`` through its dual; see :class:`Solver`."""
        self.check_loss(objective.loss)
        self.check_penalty(objective.penalty)
        callback = progress_callback(callback)
        if objective.reg == 0.0:
            raise ValueError(
                "DualCoordinateDescent needs the L2 penalty (penalty='l2'): "
                "without it the SVM dual is not defined; use solver='gd' for "
                "penalty=None."
            )
        rng = np.random.default_rng() if rng is None else rng
        form = objective.loss.dual_form()
        original = objective
        objective, mean = _centered(objective, form)
        rows = compiled_rows(objective.X, multiclass=form.multiclass)
        sq_norms = row_norms(objective.X, squared=True)
        center = {}
        if objective.offset is not None:  # sparse rows, centered by the kernel
            mean_dots = np.asarray(objective.X @ mean, dtype=np.float64).ravel()
            sq_norms = np.maximum(sq_norms - 2.0 * mean_dots + mean @ mean, 0.0)
            center = {"mean": mean, "mean_dots": mean_dots}
        weights = objective.loss_scale * objective.sample_weight
        samples = np.flatnonzero(weights > 0).astype(np.int32)
        C_i = np.where(weights > 0, weights, 1.0)  # unused where weight is 0
        upper = np.where(weights > 0, np.inf if form.squared else weights, 0.0)
        diag = 0.5 / C_i if form.squared else np.zeros_like(C_i)
        bias, unpenalized = intercept_scale(objective, sq_norms, mean is not None)
        setup = dict(
            rows=rows,
            bias=bias,
            unpenalized=unpenalized,
            upper=upper,
            diag=diag,
            sq_norms=sq_norms,
            samples=samples,
            form=form,
            shrinking=self.shrinking,
            tol=tol,
            max_iter=max_iter,
            rng=rng,
            callback=callback,
            # the reports show the coefficients of the problem given when
            # there is one column (binary or multiclass); one-vs-rest columns
            # are solved one after the other and have no whole model to show
            reported=original if objective.n_outputs == 1 or form.multiclass else None,
            finish_report=None,
            mean=mean,
            center=center,
            chunk=_passes_per_call(objective.X, form, objective.n_outputs),
            # a stalled Crammer-Singer dual hands over to the interior point
            handoff=form.multiclass and _interior_point_takes(original),
            # the rows' bases the hinge's interior point may count as paid,
            # and those the solve's columns computed (their work shared)
            known_bases=known_bases(warm_state),
            solve_bases={},
            solve_marks=set(),
        )
        if form.multiclass:
            start = multiclass_start(
                objective, form, warm_state, coef_init, upper, mean, unpenalized
            )
            outcome = _run(objective, setup, [start], multiclass_dual_cd)
        else:
            starts = binary_start(
                objective, form, warm_state, coef_init, upper, mean, unpenalized
            )
            outcome = _run(objective, setup, starts, binary_dual_cd)
        columns, states = outcome
        publish_bases(setup, states)
        if form.multiclass and columns[0].get("stalled", False):
            spent = int(np.ceil(columns[0]["passes"]))
            W, b = columns[0]["w"], columns[0]["b"]
            if mean is not None:  # x.w + b = (x - mu).w + b'
                b = b - W @ mean
            handed = _hand_over(
                original, columns[0], original.join(W, b), tol, max_iter - spent,
                callback,
            )  # fmt: skip
            if handed is not None:
                return handed
            if spent < max_iter:
                # no better: dual CD goes on from where it stalled (``start``
                # holds its point) with the passes left
                more = dict(
                    setup,
                    handoff=False,
                    max_iter=max_iter - spent,
                    callback=counted_after(setup["callback"], spent),
                )
                columns, states = _run(objective, more, [start], multiclass_dual_cd)
                columns[0]["passes"] += spent
                publish_bases(more, states)
        W = np.vstack([c["w"] for c in columns])
        b = np.concatenate([c["b"] for c in columns])
        if mean is not None:  # back from centered data: x.w + b = (x - mu).w + b'
            b = b - W @ mean
            for column, state in zip(columns, states, strict=True):
                state["shift"] = column["b"] - column["w"] @ mean
        coef = objective.join(W, b)
        gap = sum(c["gap"] for c in columns)
        primal = sum(c["primal"] for c in columns)
        if tol <= EXACT_FINISH_TOL and all(c["converged"] for c in columns):
            coef, finished = _exact_finish(original, coef, primal, states, upper)
            # the dual bound is unchanged: P - D moves with P
            gap, primal = max(gap + finished - primal, 0.0), finished
        optimality = gap / primal if primal > 0 else 0.0
        # the columns' gaps and primals add up to the whole problem's: it is
        # certified when their sum is within tol, also where one column ran
        # out of passes (it warned "stopping measure 5.85e-05 > tol=0.0001")
        converged = all(c["converged"] for c in columns) or optimality <= tol
        # (Crammer-Singer counts fractional full-pass equivalents; its last
        # kernel call may end a fraction past max_iter: 1001 was reported)
        n_iter = int(min(np.ceil(max(c["passes"] for c in columns)), max_iter))
        history = columns[0]["history"]
        message = (
            "relative duality gap below tol"
            if converged
            else f"{max_iter} passes over the data reached"
        )
        return SolveResult(
            coef=coef,
            n_iter=n_iter,
            converged=converged,
            value=float(primal),
            optimality=float(optimality),
            history=history,
            message=message,
            state=states,
        )


#: the interior point's step limit after a stalled Crammer-Singer dual (it
#: took 48-66 steps on satimage, 51-97 on penbased, from a cold start; over
#: the working sets' rounds, which start afresh, penbased at C = 1,000 took
#: 105 and 112, and ended at 150 with a bound of 1e-3), within what is left
#: of ``max_iter`` (a step counts as a pass: it costs more), and only where
#: at least ``HANDOFF_MIN_STEPS`` are left
HANDOFF_STEPS = 300
HANDOFF_MIN_STEPS = 30


def _will_miss(checks, tol, max_iter):
    """Whether dual CD's measured rate (``passes_needed``) says it ends past
    ``max_iter``, once it has made a tenth of it; asked at every check.

    The binary finish's rule (:func:`stalled`) doubles the passes the rate
    asks for; here that handed over fits dual CD ends by itself, for an
    interior point that costs more: splice as CSR at C = 1 (0.44 s, 665
    passes, against 2.1 s), texture at C = 10 (2.5 against 5.5 s), splice
    at C = 1 (1.4 against 2.2 s). Asked again at each check, the plain rate
    still hands over satimage at C = 10 (at 180 passes rather than 157;
    alone it ends at max_iter with a gap of 3e-4) and C = 100.
    """
    passes = checks[-1][0]
    if passes < max_iter // 10 or checks[-1][1] <= tol:
        return False
    return passes + passes_needed(checks, tol) > max_iter


def _interior_point_takes(objective):
    """Whether a stalled Crammer-Singer dual may hand over to the interior
    point (``solver="interior_point"``): the plain or squared loss (its dual
    over the simplices, or with its quadratic term), small enough to form
    the normal equations (:func:`interior_point_fits`)."""
    form = interior_point_dual(objective)
    return form is not None and form.simplex


def _hand_over(objective, column, coef, tol, steps_left, callback=None):
    """The interior point's solve of a Crammer-Singer fit whose dual CD
    stalled, as dual CD's result (``n_iter``: its passes plus the steps), or
    None where it did no better than dual CD's point.

    At a large C dual CD on this dual crawls: satimage (6,435 x 36, 6
    classes) at C = 100 ended its 1,000 passes (2.4 s) with a relative gap
    of 0.46, its primal 46 % above the optimum, and penbased at C = 100 and
    1000 (5.4 s) likewise; the interior point certifies each in 48-97
    steps (3-4 s), whatever C. ``n_iter`` counts dual CD's passes and the
    steps, at most ``max_iter`` in all. The state (what a warm start
    resumes) holds the interior point's multipliers. ``coef``, dual CD's
    point, tells the interior point which samples lie beyond their margins
    (their multipliers are held at 0 while the rest are solved for:
    ``_interior_point_solver.WORKING_BAND``). None where fewer than
    ``HANDOFF_MIN_STEPS`` are left, or the interior point did no better
    than dual CD's point: dual CD then goes on from it.
    """
    if steps_left < HANDOFF_MIN_STEPS:
        return None
    passes = int(np.ceil(column["passes"]))
    # the steps' reports go on from dual CD's passes
    result = InteriorPoint().solve(
        objective,
        coef,  # dual CD's point: where the samples beyond their margins are
        support=np.any(column["state"]["alpha"] != 0, axis=1),
        tol=tol,
        max_iter=min(HANDOFF_STEPS, steps_left),
        callback=counted_after(callback, passes),
    )
    gap = column["gap"] / column["primal"] if column["primal"] > 0 else 0.0
    if result.optimality >= gap:
        return None
    # the state a warm start resumes and the certificate's dual point are
    # the interior point's (dual CD's alpha has W = X^T alpha: reg is 1
    # here); what described dual CD's own point goes
    state = dict(column["state"], finish_mu=None, exact_sets=False)
    state.pop("primal", None)
    if result.dual is not None:  # (none where every weight is 0)
        alpha = result.dual / objective.reg
        state.update(alpha=alpha, certificate_alpha=alpha.copy())
        if objective.fit_intercept and objective.intercept_penalty == 0:
            state["shift"] = np.array(objective.split(result.coef)[1], dtype=float)
    message = (
        "relative duality gap below tol (interior point after dual CD stalled)"
        if result.converged
        else result.message
    )
    return SolveResult(
        coef=result.coef,
        n_iter=passes + result.n_iter,
        converged=result.converged,
        value=result.value,
        optimality=result.optimality,
        history=list(column["history"]) + list(result.history),
        message=message,
        state=[state],
    )


def _passes_per_call(X, form, n_outputs):
    """Passes one kernel call may run: about ``MAX_WORK_PER_CALL`` row entries.

    The multiclass kernel counts its work itself (a shrunk pass costs a
    hundredth of a full one) and is stopped by work instead.
    """
    if form.multiclass:
        return np.iinfo(np.int32).max
    n, d = X.shape
    per_pass = (X.nnz if sp.issparse(X) else n * d) + n
    return max(1, int(MAX_WORK_PER_CALL // max(per_pass, 1)))


def _full_pass_work(rows, shape):
    """The multiclass kernel's work count of a pass with everything active.

    ``shape`` is ``alpha``'s; 0 for the binary kernel (it counts no work).
    """
    if len(shape) == 1:
        return 0.0
    n, K = shape
    entries = rows[0].size if isinstance(rows, tuple) else rows.size
    return float((entries + n) * K)


def _certified(cert, tol):
    # a tol below what the gap's own rounding lets one measure is met there
    return cert["gap"] <= max(tol * cert["primal"], cert["floor"])


def _exact_finish(objective, coef, value, states, upper):
    """Finish a certified dual solution exactly, when ``tol`` asks for it.

    A duality gap cannot be measured much below 1e-13 relative, and it bounds
    the objective, not the coefficients (their error is of the order of its
    square root). Where the dual solution reveals the active set, one exact
    primal step finishes the job: Newton steps for the squared hinge (piecewise
    quadratic, so exact once the active set is right) and the active-set KKT
    solve for the hinge, whose sets are read off the multipliers. The result is
    kept only if it does not increase the objective, so the reported gap
    still bounds it.
    """
    loss = objective.loss
    candidate = None
    if loss.is_smooth:
        g_ref = gradient_reference(objective)
        if g_ref > 0:
            candidate, _, _ = newton_finish(
                objective, coef, g_ref=g_ref, tol=1e-15, max_steps=10
            )
    elif not loss.is_multiclass and loss.hinge_terms is not None:
        alpha = np.column_stack([s["alpha"] for s in states])  # (n, K)
        bound = np.broadcast_to(upper[:, None], alpha.shape)
        kink = (alpha > 0) & (alpha < bound)
        at_upper = (alpha > 0) & (alpha >= bound)
        candidate, _ = polish(
            objective, coef, 0.0, guess=(kink.ravel(), at_upper.ravel())
        )
    if candidate is None:
        return coef, value
    new_value = objective.value(candidate)
    # The finish solves the optimality conditions exactly; its objective may
    # exceed the dual solution's by rounding (many terms sit exactly on their
    # kink), never by more than this.
    if new_value <= value * (1 + 1e-12):
        return candidate, new_value
    return coef, value


def _centered(objective, form):
    """Data with an unpenalized intercept, centered; ``(objective, mean)``.

    With ``b`` free, ``x.w + b = (x - mu).w + (b + mu.w)`` makes the problem
    on ``X - mu`` the same problem for any ``mu``. Centering removes the
    near-collinearity between the features and the intercept's constant
    feature that stalls coordinate descent on uncentered data (features far
    from 0, or sparse counts and one-hot rows that share their frequent
    features). Dense data is centered in a copy. Sparse data would densify:
    its objective is put in centered coordinates (``offset``) and the binary
    kernel centers each row as it reads it (cut the passes 1.7-6x on splice
    as CSR and on TF-IDF text). The Crammer-Singer kernel reads sparse rows
    as they are.
    """
    if not objective.fit_intercept or objective.intercept_scaling is not None:
        return objective, None
    if sp.issparse(objective.X):
        if form.multiclass:
            return objective, None
        centered = objective.centered()
        return centered, centered.offset
    weights = objective.sample_weight
    mean = weights @ objective.X / weights.sum()
    centered = objective.with_loss(objective.loss)
    centered.X = objective.X - mean
    return centered, mean


def _report_certificate(setup, passes, cert):
    """Report a measured point: its primal, relative gap and model."""
    primal = cert["primal"]
    gap = cert["gap"] / primal if primal > 0 else 0.0
    _report(setup, passes, primal, gap, GAP, cert["w"], cert["b"])


def _report(setup, passes, primal, optimality, measure, w, b):
    """Call the progress callback with the model ``(w, b)`` of centered data."""
    reported = setup["reported"]
    # copies: the kernel updates w in place after this report
    W, b = np.array(np.atleast_2d(w)), np.array(b, dtype=float)

    def coef():
        if setup["mean"] is None:
            return reported.join(W, b)
        return reported.join(W, b - W @ setup["mean"])

    coef = None if reported is None else coef
    # whole passes, rounded up the same way for every report (Crammer-Singer
    # and the primal finish count fractions of a pass), so they never decrease
    passes = int(np.ceil(passes))
    setup["callback"](passes, primal, optimality, measure, coef, reported)


def _finish_reports(setup, done):
    """What the primal finish (after ``done`` passes) reports: its certified
    stages, and its Newton steps (primal computed only if read, decrement)."""

    def report(spent, cert=None, *, column=None, coef=None, decrement=np.nan):
        if cert is not None:
            _report_certificate(setup, done + spent, cert)
            return
        W, b = column.split(coef)
        primal = lambda: column.value(coef)  # noqa: E731 - computed if read
        measure = "relative Newton decrement (primal finish)"
        _report(setup, done + spent, primal, decrement, measure, W[0], b)

    return report


def _run(objective, setup, starts, kernel):
    """Run each independent dual (one per one-vs-rest column) to its certificate.

    The columns may run in threads (:func:`map_columns`): each gets its own
    random stream, drawn from the solve's in column order, so that the
    result does not depend on how many run at once, and its own copy of the
    setup (the primal finish writes its progress reporter there).
    """
    seeds = setup["rng"].integers(2**63, size=len(starts))

    def solve_column(k):
        column_setup = dict(setup, rng=np.random.default_rng(seeds[k]))
        return _solve_one(objective, column_setup, starts[k], kernel)

    columns = map_columns(solve_column, range(len(starts)))
    return columns, [column["state"] for column in columns]


def _best_intercept(objective, setup, start, w, b0):
    """The intercept minimizing the primal at the current ``w`` (binary duals).

    The method of multipliers moves ``b`` by ``B^2 sum_i alpha_i y_i`` per
    round, a step that vanishes with the rows' norms (``B`` scales with them):
    on rows of norm 0.05 it took 11,845 passes. Setting ``b`` to the exact
    minimizer of ``P(w, .)`` instead can only lower ``P``; the next round's
    proximal inner problem then starts from that ``b``, so the combined step
    is at least as good as the multiplier step it replaces.
    """
    d = objective.n_features
    z = objective.data_dot(w[:d])
    weights = objective.loss_scale * objective.sample_weight
    return exact_intercept(setup["form"], start["y"], z, weights, b0)


#: the polish from dual CD's multipliers is tried at most this many times
#: per column, once the relative gap is below ``DUAL_POLISH_GAP`` and the
#: number of samples on the margin held within 1 % since the last check (the
#: active set has settled)
DUAL_POLISH_TRIES = 2
DUAL_POLISH_GAP = 1e-2


def _finish_budget(objective, max_iter, passes):
    """Passes a stalled binary dual's primal finish may spend.

    ``FINISH_SHARE`` of what dual CD left of ``max_iter``; but where
    ``max_iter`` passes over the data cost less than ``SMALL_DATA_WORK`` row
    entries, that share of all of ``max_iter`` whatever dual CD spent (the
    fit then makes at most about twice ``max_iter`` passes' work; ``n_iter_``
    reports ``max_iter``). On such data a pass costs microseconds and the
    interior point's dense algebra hundreds of passes: on 300 x 180 one-hot
    rows (18,300 row entries a pass) a step costs 28, and 3 of 30
    noise-free one-hot paths (C up to 1000) ended a point at max_iter
    50-100 % above the optimum, where the finish had too little left after
    dual CD's stall (now none); sparse counts, 600 x 150 at 5 %, C = 1: a
    relative gap of 1.2e-2, now certified.
    """
    budget = int(FINISH_SHARE * (max_iter - passes))
    if max_iter * pass_work(objective) < SMALL_DATA_WORK:
        budget = max(budget, int(FINISH_SHARE * max_iter))
    return budget


def _polish_worth(checks, alpha, upper, history):
    """Whether dual CD's multipliers look settled enough for the polish.

    ``history`` collects this column's counts of samples on the margin.
    """
    on_margin = int(np.count_nonzero((alpha > 0) & (alpha < upper)))
    history.append(on_margin)
    if len(history) < 2 or checks[-1][1] > DUAL_POLISH_GAP:
        return False
    return abs(on_margin - history[-2]) <= 0.01 * history[-2]


def _adopt(objective, setup, start, cert, new_alpha, shift, passes):
    """Move dual CD's point to a polish's or finish's dual point; the new shift.

    ``start``'s ``alpha`` and ``w`` are updated in place.
    """
    alpha, w, y = start["alpha"], start["w"], start["y"]
    d, bias = objective.n_features, setup["bias"]
    alpha[:] = new_alpha
    w[:d] = objective.data_t_dot(alpha * y)
    if bias:
        w[d] = bias * float(alpha @ y)
    if setup["unpenalized"]:
        shift = float(cert["b"][0])
    if setup["callback"] is not None:  # the adopted point's certificate
        _report_certificate(setup, passes, cert)
    return shift


def _resume(objective, setup, start, cert, shift, polish_allowed):
    """Start a binary column from the previous point of a path (``hinge_path``).

    Where that point was certified by the polish on exact sets, the same
    sets are solved at this C first: between two breakpoints of the
    (piecewise linear) hinge path they are this C's optimal sets too, and
    one solve certifies without a pass. Where it was certified by the primal
    finish, the finish starts from its primal point, at ``WARM_FINISH_MU``
    times its last smoothing: where dual CD would first stall for hundreds
    of passes before its own, longer continuation. Each route is dropped for
    the rest of the path once it does not pay (see ``_resume_record``).

    Returns ``(cert, shift, passes, resumed)``; ``resumed`` names the routes
    tried, with whether they certified.
    """
    alpha, w = start["alpha"], start["w"]
    tol, max_iter = setup["tol"], setup["max_iter"]
    passes, resumed = 0, {}
    resume = start["resume"]
    if resume is None:
        return cert, shift, passes, resumed
    if polish_allowed and resume["exact_sets"]:
        new, new_alpha, spent = dual_polish(
            objective, setup, start, alpha, w, shift, FINISH_SHARE * max_iter
        )
        passes += int(np.ceil(spent))
        if new is not None and new["gap"] < cert["gap"]:
            cert = new
            shift = _adopt(objective, setup, start, new, new_alpha, shift, passes)
        resumed["polish"] = _certified(cert, tol)
    if not _certified(cert, tol) and resume["finish"] is not None:
        mu, w_prev, b_prev = resume["finish"]
        d, bias = objective.n_features, setup["bias"]
        w_start = np.zeros_like(w)
        w_start[:d] = w_prev
        if bias and not setup["unpenalized"]:
            w_start[d] = b_prev / bias
        # at most half the passes of the last solve that resumed nothing: a
        # finish that fails leaves dual CD and its own finish the rest
        cold = resume["cold_passes"]
        budget = FINISH_SHARE * (max_iter if cold is None else min(cold, max_iter))
        new, new_alpha, spent = primal_finish(
            objective, setup, start, w_start, b_prev, None, tol,
            int(_warm_finish_share(objective) * budget),
            mu=WARM_FINISH_MU * mu,
        )  # fmt: skip
        passes += int(np.ceil(spent))
        if new is not None and new["gap"] < cert["gap"]:
            cert = new
            shift = _adopt(objective, setup, start, new, new_alpha, shift, passes)
        if spent > 0:  # a finish that could not afford a start is no verdict
            resumed["finish"] = _certified(cert, tol)
    return cert, shift, passes, resumed


def _warm_finish_share(objective):
    """The share of a cold solve's finish budget a resumed finish may spend.

    The hinge's interior point (where ``interior_point_applies``) from the
    previous C's point costs about what it costs in a cold solve,
    where dual CD first spends hundreds of passes: it gets the whole share
    (splice as CSR, the hinge's path: with half, the third class's resumed
    interior point never fitted, each attempt spent 130-285 passes on a
    continuation instead, and the route was switched off for the rest of
    the path, whose large-C points then took 550-900 passes each).
    """
    return 1.0 if interior_point_applies(objective) else WARM_FINISH_SHARE


def _resume_record(start, resumed, passes, converged):
    """What a path's next point reads to resume this one (see ``_resume``).

    ``cold_passes``: the passes of this column's last solve that resumed
    nothing. A route that did not certify, or whose solve took more passes
    than that (splice as CSR: the resumed finish 900 pass-equivalents
    against 670-730 for dual CD and its own finish; spambase: 80-140
    against 590-680), is off for the rest of the path (``polish_off``,
    ``finish_off``).
    """
    resume = start.get("resume") or {}
    cold = resume.get("cold_passes")
    record = {
        # (a warm start certified as it came, at 0 passes, measures nothing)
        "cold_passes": passes if not resumed and converged and passes else cold,
        "polish_off": resume.get("polish_off", False),
        "finish_off": resume.get("finish_off", False),
    }
    costly = cold is not None and passes > cold
    for route, certified in (resumed or {}).items():
        if not certified or costly:
            record[route + "_off"] = True
    return record


def _solve_one(objective, setup, start, kernel):
    """Kernel calls with a tightening inner tolerance until the gap is below tol.

    With an unpenalized intercept each call is one round of the method of
    multipliers: the inner problem's linear term carries the current ``b_k``
    and the intercept update follows the call.
    """
    form = setup["form"]
    multiclass = form.multiclass
    alpha, w, shift = start["alpha"], start["w"], start["shift"]
    bias, unpenalized = setup["bias"], setup["unpenalized"]
    d = objective.n_features
    passes, eps, history, checks = 0, 1.0, [], []
    # the primal finish runs at most once per solve
    finished = False
    if bias:
        init_bias_weight(start, bias)
    certify = multiclass_certificate if multiclass else binary_certificate
    # the kernels' shrinking state carries over between their calls
    samples = setup["samples"]
    fresh_shrinking = multiclass_shrinking if multiclass else binary_shrinking
    shrunk = fresh_shrinking(samples, alpha.shape)
    tol, max_iter = setup["tol"], setup["max_iter"]
    full_pass = _full_pass_work(setup["rows"], alpha.shape)
    exact_b = unpenalized and not multiclass
    # the hinge's active-set polish from the multipliers: costly (a dense
    # solve), so tried at most this often
    polish_tries = 0 if (multiclass or form.squared) else DUAL_POLISH_TRIES
    early_tries = 0 if (multiclass or form.squared) else EARLY_TRIES
    on_margin = []
    # Crammer-Singer's polish from the multipliers (plain loss; with an
    # unpenalized intercept the polish's exact intercepts replace dual CD's
    # multiplier rounds' ones: splice at C = 1, 777 -> 450 passes)
    cs_polish_tries = POLISH_TRIES if multiclass and not form.squared else 0
    work_checks, ties = [], []
    # the fraction of samples shrinking left active after the last three
    # binary calls (the cost of a pass, for the stall rule)
    active_fractions = deque([1.0], maxlen=3)
    if exact_b:
        shift = _best_intercept(objective, setup, start, w, shift)
    # a warm start may already be optimal: measure before the first pass
    cert = certify(objective, setup, start, alpha, w, shift) if alpha.any() else None
    converged = cert is not None and _certified(cert, tol)
    # hinge_path: resume the previous point's exact sets or primal finish
    resumed, resume_spent = None, 0
    if cert is not None and not converged and not (multiclass or finished):
        cert, shift, resume_spent, resumed = _resume(
            objective, setup, start, cert, shift, bool(polish_tries)
        )
        converged = _certified(cert, tol)
        if converged:
            passes, resume_spent = resume_spent, 0
        # else: the solve goes on as a cold one would, with all of max_iter;
        # n_iter counts the passes spent too (at most WARM_FINISH_SHARE *
        # FINISH_SHARE * max_iter and a polish's rounds more, once per
        # column and path: a route that fails is off for the rest of it)
    while not converged:
        offset = start["offset"](shift)
        # measure the gap every few passes (it costs about two passes); with
        # an unpenalized intercept this is also how often b is updated, which
        # must stay frequent: an inner problem solved far beyond the accuracy
        # of its b is wasted work
        budget = max_iter if multiclass else max(10, passes // 4)
        if multiclass:
            # by work, not passes: the multiclass kernel's shrinking makes a
            # late pass a hundredth of a full one, so that checks every few
            # passes cost more than the passes (a check costs about one
            # pass with everything active)
            work = shrunk[3]
            check_at = work[2] + max(
                CHECK_EVERY_FULL_PASSES * full_pass, CHECK_GROWTH * work[2]
            )
        if unpenalized:
            budget = min(budget, MAX_PASSES_PER_INTERCEPT_UPDATE)
        if multiclass:
            # kernel passes until the next intercept update (as before), and
            # the work max_iter leaves, in full-pass equivalents
            work_left = (max_iter - passes) * full_pass
        else:
            budget = min(max_iter - passes, budget)
        # the kernel runs without the GIL and cannot see Ctrl-C: hand control
        # back to Python after a bounded amount of work (chunks continue the
        # same solve: the shrinking state carries over)
        while budget > 0:
            chunk = min(budget, setup["chunk"])
            if multiclass:
                work[3] = min(
                    check_at, work[2] + MAX_WORK_PER_CALL, work[2] + work_left
                )
                work_before = work[2]
            seed = int(setup["rng"].integers(2**63))
            done, violation = kernel(
                setup["rows"], bias, start["y"], setup["upper"], setup["diag"],
                offset, setup["sq_norms"], setup["samples"], alpha, w, eps,
                chunk, setup["shrinking"], seed, *shrunk, **setup["center"],
            )  # fmt: skip
            if multiclass:
                # max_iter counts full-pass equivalents: a shrunk pass costs a
                # hundredth of a full one, and counting it as one ended
                # default fits at max_iter far from tol (penbased, texture);
                # never more than one per pass (a full pass's work, writes
                # included, can exceed full_pass's reads-only count)
                used = work[2] - work_before
                passes += min(done, used / full_pass)
                work_left -= used
                budget -= done
                if violation <= eps or work[2] >= check_at or work_left <= 0:
                    break
                continue
            passes += done
            budget -= chunk
            active_fractions.append(shrunk[1][0] / max(len(samples), 1))
            if done < chunk:  # the kernel met eps
                break
        if unpenalized:
            # the inner solution's intercept: b_k + B * (weight of the feature B)
            shift = shift + bias * w[d]
        if exact_b:
            shift = _best_intercept(objective, setup, start, w, shift)
        cert = certify(objective, setup, start, alpha, w, shift)
        history.append(cert["primal"])
        if setup["callback"] is not None:
            _report_certificate(setup, passes, cert)
        converged = _certified(cert, tol)
        checks.append((passes, cert["gap"] / cert["primal"] if cert["primal"] else 0))
        new = None
        if cs_polish_tries and not converged:
            work_checks.append((shrunk[3][2], checks[-1][1]))
            cost = polish_worth(
                work_checks, tied_terms(alpha, start["y"], setup["upper"]), ties,
                tol, full_pass / (alpha.shape[1] * objective.n_samples),
                objective.n_features * alpha.shape[1],
                alpha.size * (alpha.shape[1] - 1), POLISH_TRIES - cs_polish_tries,
            )  # fmt: skip
            if cost:
                cs_polish_tries -= 1
                passes += int(np.ceil(cost / full_pass))  # pass-equivalents
                polished = crammer_singer_polish(objective, setup, start, alpha, shift)
                if polished is not None and polished[0]["gap"] < cert["gap"]:
                    # adopt the exact point; dual CD resumes from it if needed
                    cert, alpha[:], w[:] = polished[:3]
                    if unpenalized:
                        shift = polished[3]
                    converged = _certified(cert, tol)
                    shrunk = fresh_shrinking(samples, alpha.shape)
                    if setup["callback"] is not None:
                        _report_certificate(setup, passes, cert)
        if early_tries and not (converged or finished) and passes >= EARLY_MIN_PASSES:
            # the interior point, where it costs less than dual CD's own
            # estimate of the passes it still needs
            needed = passes_needed(checks, tol)
            if not np.isfinite(needed):
                needed = float(max_iter - passes)
            if needed >= EARLY_MIN_NEEDED:
                early_tries -= 1
                new, new_alpha, spent = early_interior_point(
                    objective, setup, start, w, shift, tol, needed,
                    FINISH_SHARE * (max_iter - passes),
                )  # fmt: skip
                passes += int(np.ceil(spent))
        if (
            multiclass
            and setup["handoff"]
            and not converged
            and _will_miss(checks, tol, max_iter)
        ):
            # a Crammer-Singer dual that will not reach tol by max_iter: the
            # interior point takes over (see _hand_over); the start keeps
            # this point for dual CD to go on from, should it do no better
            cert["stalled"] = True
            start["shift"] = np.array(shift, dtype=np.float64)
            break
        # a stalled dual CD goes to the primal finish (whose stages end in
        # the same exact polish) with all the passes left: a polish tried
        # first spent 36 % of max_iter and failed, and the finish then
        # failed within what remained (sparse counts, 770 x 405, hinge)
        stall = (
            new is None
            and not (converged or multiclass or finished)
            and stalled(checks, tol, max_iter, min(active_fractions))
        )
        if (
            new is None
            and polish_tries
            and not (converged or stall)
            and _polish_worth(checks, alpha, setup["upper"], on_margin)
        ):
            # the hinge's active set, read off the multipliers, solved
            # exactly. Its budget: measured rates slow down, so dual CD's
            # own estimate of what it still needs is doubled; its late
            # passes visit only the samples shrinking left, so the polish
            # competes with their work, not with full passes (splice as
            # CSR, hinge, C = 0.1: 6 % of the samples active, and a 10-30 ms
            # polish per column where the passes it saved cost 2-5 ms)
            needed = 2 * passes_needed(checks, tol)
            if np.isfinite(needed):
                needed = work_needed(needed, passes, min(active_fractions))
            new, new_alpha, spent = dual_polish(
                objective, setup, start, alpha, w, shift,
                min(needed, FINISH_SHARE * (max_iter - passes)),
            )  # fmt: skip
            if spent:  # a polish not worth its cost yet is no try
                polish_tries -= 1
            passes += int(np.ceil(spent))  # whole passes: the kernel's unit
        if stall:
            finished = True
            if setup["callback"] is not None:  # the finish reports too
                setup["finish_report"] = _finish_reports(setup, passes)
            new, new_alpha, spent = primal_finish(
                objective, setup, start, w, shift, checks[-1][1], tol,
                _finish_budget(objective, max_iter, passes),
            )  # fmt: skip
            passes += int(np.ceil(spent))  # whole passes: the kernel's unit
        if new is not None and new["gap"] < cert["gap"]:
            # adopt the finish's dual point; dual CD resumes from it
            cert, converged = new, _certified(new, tol)
            shift = _adopt(objective, setup, start, new, new_alpha, shift, passes)
            shrunk = fresh_shrinking(samples, alpha.shape)
        if converged or passes >= max_iter:
            break
        if violation <= eps:  # the call met its target: ask for 10x less
            eps = max(violation * 0.1, 1e-15)
    passes += resume_spent
    cert.update(
        passes=passes,
        converged=converged,
        history=history,
        # "alpha" resumes a warm start; "certificate_alpha" is the feasible
        # dual point the gap was measured at (alpha itself unless the
        # unpenalized intercept's equality constraint had to be restored)
        state={
            "alpha": alpha.copy(),
            "shift": np.array(shift, copy=True),
            "certificate_alpha": cert.pop("feasible"),
            # where the finish certified: its smoothing and primal point, a
            # start for the finish at a nearby problem (hinge_path)
            "finish_mu": cert.get("mu") if converged else None,
            # certified by the exact solve on the optimal sets (the polish)
            "exact_sets": bool(converged and cert.get("exact", False)),
            **_resume_record(start, resumed, passes, converged),
            "primal": (cert["w"].copy(), np.array(cert["b"], copy=True)),
        },
    )
    return cert
