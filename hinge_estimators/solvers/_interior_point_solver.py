"""The interior-point solver for the multiclass hinges (``"interior_point"``)."""

import numpy as np
import scipy.sparse as sp

from ._active_set import polish, polish_max_from_multipliers
from ._base import (
    GAP,
    Solver,
    SolveResult,
    guarded,
    optimal_at_zero,
    solve_centered,
)
from ._dual_cd_parts import _balance_multiclass
from ._interior_point import span_basis
from ._multiclass_interior_point import (
    bound_sets,
    margins,
    multipliers,
    solve_multiclass_dual,
    wrong_classes,
)

#: the normal equations are ``p K x p K`` (``p`` the features, plus a
#: penalized intercept's constant column), formed and factorized each step
MAX_COEFFICIENTS = 1024


def interior_point_fits(n_samples, n_features, n_classes):
    """Whether ``solver="auto"`` sends a plain Weston-Watkins fit here: at most
    ``MAX_COEFFICIENTS`` coefficients and a step's work at most
    ``AUTO_STEP_WORK``: the normal equations' products (``n p^2 K``) and,
    with the free intercept, its Schur complement's (``n p K^2``, over an
    ``(n, K, K)`` array: 5.3 GB at n = 20,000, K = 100)."""
    p = n_features + 1  # a penalized intercept's column, at most
    K = n_classes
    return (
        p * K <= MAX_COEFFICIENTS
        and n_samples * (p * p * K + p * K * K) <= AUTO_STEP_WORK
        and n_samples * K * K <= AUTO_SCHUR_ENTRIES
    )


def interior_point_dual(objective):
    """The loss's ``MulticlassDual`` where another solver may hand
    ``objective`` to the interior point (a stalled dual CD, a crawling
    Newton): the loss has the form and the normal equations fit
    (:func:`interior_point_fits`); else None."""
    form = objective.loss.multiclass_dual()
    if form is None or not interior_point_fits(
        objective.n_samples, objective.n_features, objective.n_outputs
    ):
        return None
    return form


#: the steps stop at this fraction of tol: the certificate, measured at the
#: multipliers made exactly feasible, is a little looser than the steps' own
INNER_SHARE = 0.1
#: ... and at most at this relative gap: there :func:`bound_sets` reads
#: the sets clearly for the exact finish (on iris, blobs, wine and digits,
#: Weston-Watkins, it certified gaps of 1e-13 to 1e-16 from 1e-6 as from
#: 1e-9, in 26 steps instead of 33 on digits)
INNER_TOL = 1e-6
#: a solve from a start (dual CD's stalled point, where it hands over)
#: holds at 0 the multipliers of the samples whose margins there all exceed
#: ``WORKING_BAND`` times the loss's margin: each step's normal equations
#: cost ``n p^2 K (K + 1) / 2`` for Crammer-Singer, and on optdigits as CSR
#: (5,620 x 64, K = 10, C = 0.1) 93 % of the samples end beyond their
#: margins (12.9 % are within the band at the optimum). A held sample found
#: inside its margin at a round's solution joins the next round, with the
#: held samples within ``ROUND_BAND`` of theirs, or within ``GROWTH`` times
#: the worst violation where that is more (dual CD's stalled point can be
#: far off on degenerate data: splice at C = 10, 38 held samples up to 6
#: inside their margins after the first round; joining those within 0.1
#: took four rounds, within 3.0 two); the last of ``MAX_ROUNDS`` holds none.
#: The certificate is always on every sample
WORKING_BAND = 1.0
ROUND_BAND = 0.1
GROWTH = 0.5
MAX_ROUNDS = 4
#: digits (1,797 x 64, K = 10) is 7.6e7: 22-27 steps, 0.4-0.55 s; penbased
#: (10,992 x 16) 3.2e7: 51-97 steps, 2.0-3.7 s, where gd stopped at
#: max_iter after 4.8-5.5 s
AUTO_STEP_WORK = 1e9
#: ... and at most this many entries in the Schur complement's ``(n, K, K)``
#: array (8 bytes each: 400 MB)
AUTO_SCHUR_ENTRIES = 5e7


class InteriorPoint(Solver):
    """Primal-dual interior point on the dual of a multiclass hinge.

    For ``loss="weston_watkins"`` and ``loss="crammer_singer"`` (plain or
    squared, not smoothed) with the L2 penalty, on problems with at most
    1,024 coefficients (``(n_features + 1) * n_classes`` with an intercept).

    Notes
    -----
    The dual of the plain Weston-Watkins loss is the quadratic program

    .. math:: \\max_{0 \\le \\theta_{ir} \\le U_i}\\;
              \\Delta \\textstyle\\sum_{i, r} \\theta_{ir}
              - \\tfrac12 \\|X^T \\alpha(\\theta)\\|_F^2,
              \\qquad \\alpha_i^{r} = -\\theta_{ir},\\;
              \\alpha_i^{y_i} = \\textstyle\\sum_r \\theta_{ir},

    one multiplier per sample and wrong class, ``U_i = C s_i`` (``s_i`` the
    sample's weight); Crammer-Singer's bounds each sample's sum instead,
    :math:`\\sum_r \\theta_{ir} \\le U_i`. An unpenalized intercept adds
    :math:`\\sum_i \\alpha_i = 0`, whose multipliers are the intercepts; a
    penalized one (``intercept_scaling``) is a constant feature. The squared
    losses (``squared=True``) have no upper bound ``U_i``; their duals
    subtract :math:`\\sum_i (\\sum_r \\theta_{ir})^2 / (4 U_i)`
    (Crammer-Singer) or :math:`\\sum_{i, r} \\theta_{ir}^2 / (4 U_i)`
    (Weston-Watkins) instead, which adds ``1 / (2 U_i)`` to the Newton
    system's per-sample blocks where the bound's barrier term was (dual CD
    crawls on the squared Crammer-Singer dual at a large C as on the plain
    one: satimage at C = 100 ended 1,000 passes at a bound of 0.74, and
    hands over here). Their multipliers have no bound to name for the exact
    finish below: a squared loss's answer is the interior point's own,
    within ``tol`` of the optimum, not on it. Mehrotra's
    predictor-corrector, with Gondzio's centrality correctors, takes it to a
    relative gap of ``min(tol / 10, 1e-6)`` in a few tens of Newton steps
    (digits, Weston-Watkins: 22-27), each forming and factorizing the normal
    equations in the ``p K`` coefficients: about ``2 n p^2 (K - 1)``
    operations for Weston-Watkins, ``n p^2 K (K + 1)`` for Crammer-Singer
    (``dual_cd`` is usually faster there). The optimality conditions on the
    sets the last iterate approaches are then solved exactly (the active-set
    polish of ``gd``), which lands on the optimum itself wherever those sets
    determine it (not on degenerate data such as one-hot rows: there the
    interior point's own answer stands).

    It works on a dense copy of ``X`` (sparse input is densified: at most
    1,024 coefficients keep the rows short). The iterations are these Newton
    steps (``n_iter_``; ``max_iter`` bounds them). Every solve starts from
    the centre of the feasible set: an interior point gains little from a
    starting point near the boundary. A start (``coef_init``, ``warm_start``)
    is used for the samples instead: those whose margins there all exceed
    twice the loss's margin are held at a multiplier of 0 while the others
    are solved for, a cheaper step where most samples lie beyond their
    margins; held samples found inside their margins at the solution join
    in a new round (at most four, the last holding none), and the
    certificate is on every sample. ``tol`` bounds the
    relative duality gap :math:`(P(W, b) - D(\\alpha)) / P(W, b)`, ``D`` at
    the solution's multipliers (rebalanced onto ``sum_i alpha_i = 0``
    exactly with the free intercept): a certificate, as for ``dual_cd``.
    """

    non_smooth_advice = "use solver='gd', which handles non-smooth losses"

    def __init__(self):
        pass

    def check_loss(self, loss):
        """Refuse a loss without a ``multiclass_dual`` (see ``losses._base``):
        every loss but Weston-Watkins and Crammer-Singer, plain or squared."""
        super().check_loss(loss)
        if loss.multiclass_dual() is None:
            raise ValueError(
                f"InteriorPoint solves the duals of the multiclass hinges "
                f"(loss='weston_watkins' or 'crammer_singer', plain or squared, "
                f"not smoothed), not {loss!r}; use solver='auto'."
            )

    @guarded
    def solve(
        self,
        objective,
        coef_init=None,
        *,
        tol,
        max_iter,
        rng=None,
        callback=None,
        support=None,
    ):
        """Solve the dual by the interior-point method; see :class:`Solver`.

        ``support`` (boolean, one per sample; with ``coef_init``): the
        samples a previous solver gave a multiplier, kept in the first
        working set whatever their margins (see ``WORKING_BAND``).
        """
        self.check_loss(objective.loss)
        self.check_penalty(objective.penalty)
        if objective.reg == 0.0:
            raise ValueError(
                "InteriorPoint needs the L2 penalty (penalty='l2'): without it "
                "the dual is not defined; use solver='gd' for penalty=None."
            )
        size = objective.n_features + int(
            objective.fit_intercept and objective.intercept_penalty > 0
        )
        if size * objective.n_outputs > MAX_COEFFICIENTS:
            raise ValueError(
                f"InteriorPoint forms and factorizes a matrix over the "
                f"{size * objective.n_outputs} coefficients (n_features "
                f"{'+ 1 ' if size > objective.n_features else ''}times "
                f"n_classes), at most {MAX_COEFFICIENTS}; use solver='auto'."
            )
        return solve_centered(
            lambda part, start: self._solve(
                part, start, support, tol, max_iter, callback
            ),
            objective,
            coef_init,
        )

    def _solve(self, objective, start, support, tol, max_iter, callback):
        X, d, K = objective.X, objective.n_features, objective.n_outputs
        dual = objective.loss.multiclass_dual()
        simplex = dual.simplex
        rows = X.toarray() if sp.issparse(X) else np.array(X, dtype=np.float64)
        if objective.offset is not None:
            rows -= objective.offset
        equality = objective.fit_intercept and objective.intercept_penalty == 0
        constant = 0.0
        if objective.fit_intercept and objective.intercept_penalty > 0:
            # the problem over (W, b) divided by reg: b = constant * w_B
            constant = float(np.sqrt(objective.reg / objective.intercept_penalty))
            rows = np.hstack([rows, np.full((rows.shape[0], 1), constant)])
        upper = objective.loss_scale * objective.sample_weight / objective.reg
        kept = np.flatnonzero(upper > 0)
        codes = np.asarray(objective.y, dtype=np.intp)
        if not len(kept):  # every weight 0: P = ||W||^2 / 2, optimal at 0
            return optimal_at_zero(objective)
        history = []
        # W lies in the span of the rows: solved in a basis of it where their
        # rank is low (one-hot blocks sum to the constant feature: splice,
        # 287 columns of rank 195), each step's products and factor shrink
        basis = span_basis(rows)
        solved_rows = rows if basis is None else rows @ basis

        def coefficients(W, b):
            if basis is not None:  # back from the basis's coordinates
                W = basis @ W
            # the free intercepts are fixed up to a common shift (the losses
            # read score differences): centred, as every solver leaves them
            # (a squared Crammer-Singer fit's, with no exact finish to
            # centre them, differed by 1e-3 between a weighted and a
            # repeated-samples fit of the same problem)
            intercept = (
                b - b.mean() if equality else constant * W[d] if constant else None
            )
            return objective.join(W[:d].T, intercept)

        steps = 0  # over the rounds

        def report(step, W, b, relative):
            coef = coefficients(W, b)
            value = float(objective.value(coef))
            history.append(value)
            if callback is not None:
                callback(steps + step, value, relative, GAP, coef, objective)

        message = "relative duality gap below tol"
        inner_tol = min(INNER_SHARE * tol, INNER_TOL)
        wrong = wrong_classes(codes, K)
        working = kept
        if start is not None:
            # held at 0: the samples whose margins at the start all exceed
            # the band (see WORKING_BAND)
            W0, b0 = objective.split(np.asarray(start, dtype=float))
            scores = rows[kept, :d] @ W0.T + (0.0 if b0 is None else b0)
            low = margins(scores, codes[kept], wrong[kept]).min(axis=1)
            near = low - dual.margin < WORKING_BAND * dual.margin
            if support is not None:
                near |= np.asarray(support, dtype=bool)[kept]
            working = kept[near]
            if not len(working):
                working = kept
        best = None
        for round_ in range(MAX_ROUNDS):
            if round_ == MAX_ROUNDS - 1:
                working = kept  # the last round holds nothing
            # the last steps divide by multipliers near 0 (1e-300 and below):
            # their overflow is harmless, the best iterate is kept
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                theta, W, b, taken, slacks = solve_multiclass_dual(
                    solved_rows[working], codes[working], upper[working],
                    dual.margin, K,
                    simplex=simplex, equality=equality, tol=inner_tol,
                    max_steps=max_iter - steps, callback=report,
                    quadratic=dual.quadratic,
                )  # fmt: skip
            steps += taken
            # the multipliers of the problem over (W, b) itself (the steps
            # solved it divided by reg); the held samples' are 0
            theta_all = np.zeros((len(codes), K - 1))
            theta_all[working] = objective.reg * theta
            coef = coefficients(W, b)
            gap, primal, alpha = _certificate(
                objective, rows, codes, theta_all, coef, equality
            )
            if best is None or gap < best[0]:  # a round cut short by max_iter
                best = (gap, primal, alpha, coef, theta_all, theta, slacks, working)
            held = np.setdiff1d(kept, working, assume_unique=True)
            if gap <= tol * primal or not len(held) or steps >= max_iter:
                break
            # a held sample inside its margin needs a multiplier: it joins,
            # with the held samples near their margin
            scores = solved_rows[held] @ W + b
            low = margins(scores, codes[held], wrong[held]).min(axis=1)
            low -= dual.margin
            if not (low < 0).any():
                break
            # the margins' errors are of the order of the worst violation:
            # the held samples within it of their margins join too
            band = max(ROUND_BAND * dual.margin, -GROWTH * float(low.min()))
            working = np.union1d(working, held[low < band])
        gap, primal, alpha, coef, theta_all, theta, slacks, working = best
        # the optimality conditions on the sets the multipliers name, solved
        # exactly: the interior point ends near the optimum, not on it
        # (1e-7 relative, its coefficients about 1e-4 off), and an exact
        # model does not move with the data's layout (a weight of 2 against
        # a repeated sample: the same optimum, different barrier terms)
        at_zero, at_upper = bound_sets(
            theta, slacks, upper[working], dual.margin, simplex
        )
        sets = (
            np.zeros((len(codes), K - 1), dtype=bool),
            np.zeros((len(codes),) if simplex else (len(codes), K - 1), dtype=bool),
        )
        sets[0][np.setdiff1d(kept, working, assume_unique=True)] = True  # held at 0
        sets[0][working], sets[1][working] = at_zero, at_upper
        # (the squared loss's multipliers have no upper bound to name: its
        # interior point's answer stands, certified as it is)
        exact = (
            None
            if dual.quadratic
            else _exact_finish(objective, coef, theta_all, sets, simplex)
        )
        if exact is not None:
            exact_gap, exact_primal, exact_alpha = _certificate(
                objective, rows, codes, exact[1], exact[0], equality
            )
            if exact_gap <= max(gap, tol * exact_primal):
                coef, gap, primal = exact[0], exact_gap, exact_primal
                alpha = exact_alpha
                message = "relative duality gap below tol (exact finish)"
        optimality = gap / primal if primal > 0 else 0.0
        converged = optimality <= tol
        if not converged:
            message = (
                f"max_iter={max_iter} steps reached"
                if steps >= max_iter
                else "the steps stopped improving (rounding) above tol"
            )
        return SolveResult(
            coef=coef,
            n_iter=int(steps),
            converged=bool(converged),
            value=primal,
            optimality=float(optimality),
            history=history,
            message=message,
            # the dual point of the certificate (dual CD's layout, for its
            # state where it handed a fit over: ``_dual_cd._hand_over``)
            dual=alpha,
        )


def _exact_finish(objective, coef, theta, sets, simplex):
    """``(coef, theta)`` of the exact optimum on the sets ``sets`` (the
    multipliers at 0 and at their upper bound, :func:`bound_sets`) name, or
    None where the active-set solve did not satisfy every condition."""
    weight = objective.loss_scale * objective.sample_weight
    at_zero, at_upper = sets
    if simplex:
        snapped = np.where(at_zero, 0.0, theta)
        total = snapped.sum(axis=1)
        full = at_upper & (total > 0)
        snapped[full] *= (weight[full] / total[full])[:, None]
        # a sample below its bound must read as such after the snap
        inside = ~at_upper & (total >= weight) & (total > 0)
        snapped[inside] *= (1 - 1e-6) * (weight[inside] / total[inside])[:, None]
        exact, _, multipliers_ = polish_max_from_multipliers(objective, snapped, weight)
        if exact is None:
            return None
        return exact, np.asarray(multipliers_).reshape(theta.shape)
    kink = ~at_zero & ~at_upper
    exact, _, dual = polish(
        objective, coef, 0.0, guess=(kink.ravel(), at_upper.ravel()), multipliers=True
    )
    if exact is None:
        return None
    return exact, np.asarray(dual[1]).reshape(theta.shape)


def _certificate(objective, rows, codes, theta, coef, equality):
    """``(P(coef) - D(theta), P(coef), alpha)``: ``D`` at the multipliers
    ``theta`` (n, K - 1), made exactly feasible (clipped into the box or
    simplex, and rebalanced onto ``sum_i alpha_i = 0`` with the free
    intercept): ``alpha`` (n, K), ``W = X^T alpha / reg``."""
    dual_form, K = objective.loss.multiclass_dual(), objective.n_outputs
    weight = objective.loss_scale * objective.sample_weight
    if dual_form.quadratic:
        theta = np.maximum(theta, 0.0)  # no upper bound
        theta[weight == 0] = 0.0  # a sample of weight 0: no term, no multiplier
    else:
        theta = np.clip(theta, 0.0, weight[:, None])
    if dual_form.simplex and not dual_form.quadratic:
        total = theta.sum(axis=1)
        over = total > weight
        theta[over] *= (weight[over] / total[over])[:, None]
    alpha = multipliers(theta, codes, wrong_classes(codes, K), K)
    if equality:
        alpha = _balance_multiclass(alpha, codes)
    true = alpha[np.arange(codes.size), codes]
    W_dual = rows[:, : objective.n_features].T @ alpha
    quadratic = float(np.sum(W_dual * W_dual))
    if rows.shape[1] > objective.n_features:  # the penalized intercept's column
        column = rows[0, -1] * alpha.sum(axis=0)
        quadratic += float(column @ column)
    dual = dual_form.margin * float(true.sum()) - 0.5 * quadratic / objective.reg
    if dual_form.quadratic:
        # the squared loss's conjugate: (1^T theta_i)^2 / (4 c_i) per sample
        # (Crammer-Singer), (theta_i^r)^2 / (4 c_i) per term (Weston-Watkins),
        # at the rebalanced multipliers
        wrong = alpha.copy()
        wrong[np.arange(codes.size), codes] = 0.0
        squares = true**2 if dual_form.simplex else np.sum(wrong**2, axis=1)
        kept = weight > 0
        dual -= float(np.sum(squares[kept] / (4.0 * weight[kept])))
    primal = float(objective.value(coef))
    return max(primal - dual, 0.0), primal, alpha
