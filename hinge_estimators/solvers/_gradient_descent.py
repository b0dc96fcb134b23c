"""Gradient descent: accelerated (proximal), Nesterov-smoothed, or subgradient."""

import numpy as np

from ..penalties import GroupL1L2
from ._accelerated import accelerated_descent
from ._active_set import polish, polish_max
from ._base import (
    GAP,
    Solver,
    SolveResult,
    counted_after,
    gradient_reference,
    guarded,
    optimal_at_zero,
    solve_centered,
)
from ._group_barrier import MAX_STEPS as GROUP_BARRIER_STEPS
from ._group_barrier import group_barrier, group_barrier_applies, numerical_zeros
from ._multiclass_primal_dual import MAX_ITERATIONS as MULTICLASS_PD_ITERATIONS
from ._multiclass_primal_dual import (
    multiclass_primal_dual,
    multiclass_primal_dual_applies,
)
from ._newton_finish import certify, strong_convexity_bound
from ._primal_cd_interior import (
    HINGE_MAX_ITERATIONS,
    hinge_interior_point,
    hinge_interior_point_applies,
    past_every_margin,
)
from ._proximal import proximal_descent, relative_gap, smoothed_gap

#: Newton steps allowed to turn a small gradient into a certified bound
FINISH_STEPS = 50
#: L1 and the elastic net of a smooth loss: the share of ``max_iter`` the
#: proximal steps take before the barrier (see ``_interior_routes``); at small
#: C they certify within it (breast cancer, C = 0.1: 350 iterations; satimage's
#: elastic net: 310). At half, fits they certify in 520 to 740 iterations paid
#: for the barrier too (the Gaussian hinge's L1: wine at C = 1000 0.60 s, 0.15
#: s at 0.75; breast cancer at C = 1 0.58 and 0.21 s), where those they do not
#: certify cost 1.2 to 1.4 times more at 0.75 (digits at C = 10: 2.2 -> 2.6 s)
PROX_FIRST_SHARE = 0.75

#: without a penalty the plain hinge's smoothing stages run at most this
#: many iterations first (and half of max_iter), for a separator (``P =
#: 0``): 4 to 44 on separable sets of up to 1,000 x 999 and 300 x 10,000;
#: on data of more samples than features, one per SEPARATING_FEATURES
#: features at most
SEPARATING_ITERATIONS = 100
SEPARATING_FEATURES = 4
#: the smoothing stages end where ``mu`` would fall below this (in the
#: loss's units, its margin 1 by default): a 12-sample fit without a penalty
#: whose stages each ended at once shrank ``mu`` by 0.1 some 320 times to
#: 0, and the smooth hinge's curvature ``1 / mu`` divided by zero; past it
#: the smoothed loss is the loss up to far less than ``tol`` asks of ``P``
MIN_SMOOTHING = 1e-12
FLOOR_MESSAGE = "the smoothing reached its floor uncertified (MIN_SMOOTHING)"
#: without a penalty the stages have a test and no bound
UNBOUNDED_MESSAGE = (
    "the stages' relative gradient norm is below tol, but without a penalty "
    "it bounds nothing for this loss (an exact route exists for the plain "
    "binary or one-vs-rest hinge where its interior point fits)"
)

# Iterations a smoothing stage runs between two polish attempts: on degenerate
# data a stage can crawl towards its tolerance long after its active set is
# exact, and the polish then ends the run.
_STAGE_BUDGET = 1000


class GradientDescent(Solver):
    """First-order solver for every loss, smooth or not (pairwise ones too).

    Parameters
    ----------
    method : {"auto", "accelerated", "smoothing", "subgradient"}, default="auto"
        ``"accelerated"`` (smooth losses): Nesterov's accelerated gradient with
        backtracking line search and adaptive restart (its proximal form for a
        non-smooth penalty, see Notes).
        ``"smoothing"`` (non-smooth losses that offer ``smoothed``): Nesterov
        smoothing with continuation -- a sequence of smooth lower
        approximations with a shrinking smoothing parameter, each solved by the
        accelerated method warm-started from the last, finished by an exact
        active-set polish where the loss is a sum of hinge terms.
        ``"subgradient"``: the normalized, decaying subgradient step
        ``w <- w - step_size * g / ||g|| / k`` with iterate averaging.
        ``"auto"`` picks ``accelerated`` for smooth losses, else ``smoothing``
        when the loss offers it, else ``subgradient``.
    step_size : float, default=0.1
        Subgradient method only: the length of the ``k``-th step is
        ``step_size / k``.
    averaging : bool, default=True
        Subgradient method only: return the mean of all iterates (the start
        and the last one included) instead of the last iterate.
    smoothing : float, default=1.0
        Smoothing method only: the first smoothing parameter ``mu`` (in units
        of the loss's margin).
    smoothing_decrease : float, default=0.1
        Smoothing method only: ``mu`` is multiplied by this after each stage.
    polish : bool, default=True
        The exact routes: with the smoothing method, after each stage, try to
        solve the exact optimality conditions on the active set the smoothed
        solution reveals, and solve the hinge with L1 or the elastic net by
        an interior point before any stage; with the accelerated method,
        solve the group norm over one-vs-rest columns by a barrier method
        before any proximal step (see Notes). ``False``: the stages, or the
        proximal steps, alone.

    Notes
    -----
    **Stopping.** ``accelerated`` first runs until
    :math:`\\|\\nabla P(w)\\| \\le \\mathrm{tol}\\,\\|\\nabla P(0)\\|`, which
    bounds nothing (at ``C = 100`` it stopped 15 % above the optimum), then
    certifies: with ``penalty="l2"``, ``P`` is 1-strongly convex in ``W``, so
    with each free intercept moved to its exact minimizer (one line search)
    :math:`P - P^* \\le \\|\\nabla P\\|^2 / 2`; Newton-CG steps refine the
    point until that is at most ``tol`` :math:`|P|`, and ``optimality`` is
    :math:`\\|\\nabla P\\|^2 / (2|P|)` (the relative gradient norm without a
    penalty; a multiclass loss's coupled intercepts are not moved, their
    gradient is counted in the norm). ``smoothing``
    stops when the polish certifies the exact optimum (``optimality`` is then
    the largest violation of the optimality conditions, about 1e-12), or when
    the last stage met that gradient test on the smoothed objective and the
    smoothing gap :math:`P(w) - P_\\mu(w)` is at most ``tol * P(w) / 2``; as
    :math:`P_\\mu \\le P`, that gap plus the stage's own suboptimality
    bounds :math:`P(w) - P^*`, and the stage's is bounded by strong
    convexity, :math:`\\|\\nabla P_\\mu\\|^2 / 2` (the stage is continued
    once to a smaller gradient when that is above what ``tol`` leaves).
    ``optimality`` is the sum, relative to :math:`|P|`, and ``converged``
    requires it below ``tol``. A change of ``P`` between stages below
    ``tol`` only has the stage finished to full ``tol``; it bounds nothing
    (with ``C = 100`` it had stopped 12 % above the optimum).
    ``subgradient`` stops, as in the classical example it reproduces, when
    the objective changes by at most ``tol`` (absolute) between two
    consecutive iterates, or when the subgradient is exactly zero.

    **Non-smooth penalties** (L1, elastic net, group L1/L2: everything
    ``objective.has_nonsmooth_penalty`` flags). ``accelerated`` becomes accelerated
    *proximal* gradient (FISTA with backtracking and adaptive restart,
    :func:`~hinge_estimators.solvers._proximal.proximal_descent`): gradient steps on the
    loss and the penalty's quadratic part, the penalty's proximal operator for the rest.
    It stops when the relative duality gap :math:`(P - D) / |P|` of
    :meth:`LinearObjective.duality_gap` (the rescaled loss gradient as dual point, 0 at
    the optimum of a smooth loss) is at most ``tol``, evaluated every 10 iterations:
    ``tol`` bounds the relative suboptimality, and ``optimality`` is that bound.
    ``smoothing`` (non-smooth losses) runs the same method on each smoothed problem
    :math:`P_\\mu` (``loss.smoothed(mu)``, a lower approximation; its ``infimum``
    enters the bound) and
    certifies the *true* problem with :math:`P(w) - P^* \\le [P(w) - P_\\mu(w)] +
    [P_\\mu(w) - D_\\mu]`, valid because :math:`F_\\mu \\le F` makes every smoothed dual
    value a dual value of ``P`` (``smoothed_gap`` in ``solvers/_proximal.py``; the
    hinge's own gradient is no good dual point at its kinks). A stage ends when its
    duality gap falls below the smoothing gap (or ``tol / 2``), then ``mu`` shrinks;
    ``tol`` again bounds the relative suboptimality. These stages converge as
    :math:`O(1/\\epsilon)`: thousands of iterations for ``tol = 1e-4``.

    ``subgradient`` takes ``P``'s subgradient, the penalty's included, and stops as it
    does for L2.

    **The hinge with L1 or the elastic net** (binary or one-vs-rest; not the
    group norm) is a linear program (a quadratic one with the elastic net's
    quadratic part). With ``polish=True``, where one iteration's work
    (``n (d + 1)^2``, or ``sum_i nnz_i^2`` for sparse rows, plus ``(d +
    1)^3 / 3``, per column; with fewer samples than features, ``n^2 d`` or
    ``sum_j nnz_j^2`` and ``n^3 / 3`` where that is less) is at most
    ``1e9``, each column is first solved by the primal-dual interior point
    ``primal_cd`` hands its slow columns to (Mehrotra's predictor-corrector,
    20 to 100 iterations, each a ``d + 1`` square system, or an ``n``-square
    one over the samples; ``_primal_cd_interior.margin_interior_point``), and
    certified by
    the duality gap at its multipliers :math:`\\alpha_i \\in [0, C s_i]`
    (:math:`D = m \\sum_i \\alpha_i - \\Omega^*(X^T (\\alpha \\circ y))`,
    made feasible by :meth:`LinearObjective.duality_gap`). The coefficients
    whose :math:`|X^T (\\alpha \\circ y)|_j` lies inside the L1 weight are
    set to 0, where the interior point leaves them near it. It starts from
    the centre of its feasible set, not from ``coef_init`` (a warm start
    does not shorten it); its iterations count in ``n_iter``, and a solve it
    does not certify goes on by the smoothing stages from its point, with
    the iterations left. Past the work limit it runs on growing working
    sets of features (column generation, each round certified on the whole
    problem; the first set holds ``coef_init``'s non-zero features), and
    where the optimum needs more features than the limit allows it gives
    way to the smoothing stages from ``coef_init``. Measured on
    15 real sets at C = 0.1 to 100 (``benchmarks/bench_defaults_grid.py``):
    the default fits that ended at ``max_iter`` fell from 55 to 4 of 60
    with L1 and from 51 to 3 with the elastic net (all on a 5,000 x 20,000
    text set, beyond the work limit), and with the working sets to 2 of 60
    each (that text set at C = 100 and 1,000, where 12,000 features or more
    pass the L1 weight at 0). On rank-deficient columns (texture; a
    duplicated column) the last steps take a ridge and can lose dual
    feasibility: the best certified iterate is kept, not the last.

    **The group norm over one-vs-rest columns** (``"l1_l2"``, ``K > 1``
    columns of a smooth margin loss whose curvature is at most the squared
    hinge's: not a narrow smooth hinge, nearly the hinge, where Newton's
    steps crawl) couples the columns, and proximal steps
    crawl once the groups that stay are ill-conditioned. With
    ``polish=True``, where one Newton step's work (``K n (d + 1)^2`` to form
    the Hessian, ``(K (d + 1))^3 / 3`` to factor it) is at most ``2e9``, it
    is first solved by a barrier method (``_group_barrier.group_barrier``):
    Newton steps on the loss plus :math:`\\sum_j h_\\mu(\\|W_{:,j}\\|)`,
    :math:`h_\\mu(r) = \\min_{t > r} t - \\mu \\log(t^2 - r^2)` (the second-order
    cone's logarithmic barrier, minimized over the cone's height: smooth,
    and :math:`r \\le h_\\mu(r)`), ``mu`` shrinking tenfold a stage; after
    each step the point is certified by :meth:`LinearObjective.duality_gap`
    with the intercepts solved for exactly and the groups the dual puts
    inside the unit ball set to 0; once the support holds over a stage,
    Newton's method on the exact norm there. It aims at
    ``min(tol / 10, 1e-6)`` (near ``tol`` the groups that leave are still
    about 1e-6 and setting them to 0 moves the gap past ``tol``). It starts
    from ``coef_init`` where one is given (a path's previous solution, a
    warm start), at the ``mu`` of that point's certified gap (``gap / m``, ``m``
    groups), else from 0 (``hinge_path`` with 10 values of C: digits 5.8 ->
    3.6 s, texture 13.8 -> 9.8 s); its Newton steps count in ``n_iter`` (at
    most 300), and a solve it does not certify goes on by the proximal steps
    from its best point. Measured on 8 multiclass sets
    at C = 0.1 to 100, squared hinge and modified Huber
    (``benchmarks/bench_defaults_grid.py``): 44 of 64 default fits ended at
    ``max_iter``, now none; 0.01 to 4.4 s a fit.

    Where the barrier stops short on the group norm of a piecewise
    quadratic loss (squared hinge, modified Huber, smooth hinge: its Newton
    steps crawl over the kinks at a large C, digits at C = 1000: 300 steps
    to a bound of 0.66), the primal-dual interior point below goes on from
    its point (31 iterations there).

    **L1 and the elastic net of the same smooth losses** run the proximal
    steps for ``PROX_FIRST_SHARE`` (three quarters) of ``max_iter`` first: at a small
    C they certify fast, with exact zeros. Where they do not (they ended at
    ``max_iter`` from C = 10 on: breast cancer, the Gaussian hinge at C =
    1000, a bound of 0.95), the barrier goes on from their point,
    coefficient by coefficient (each coefficient its own group,
    :math:`h_\\mu(|w|)`), one one-vs-rest column at a time (the columns do
    not interact: a ``d + 1`` square system a step, and the support polish
    per column; a pairwise loss's Hessian formed from its products). ``auto``
    sends the Gaussian hinge and the pairwise losses here (``primal_cd`` has
    no compiled update for them): breast cancer, L1, C = 10 and 1000, 5 of
    the pairwise losses' 6 default fits had ended at ``max_iter`` (the
    all-pairs squared hinge at C = 1000 22 % above the optimum).

    **The multiclass hinges with sparse penalties** (Crammer-Singer and
    Weston-Watkins, plain or squared, unsmoothed, with ``"l1"``,
    ``"elasticnet"`` or ``"l1_l2"``) are linear, quadratic or second-order
    cone programs in their slacks; the smoothing stages and proximal steps
    crawl on them (150 of 180 default fits on iris, wine, digits, satimage
    and splice at C = 0.1 to 10 ended at ``max_iter``, most without any
    bound). With ``polish=True`` they are first solved by Mehrotra's
    predictor-corrector with Gondzio's correctors on their conditions
    (``_multiclass_primal_dual``; the group norm's cones under
    Nesterov-Todd scaling), on dense data in centered coordinates, where one
    step's work (``K (K + 1) / 2`` weighted Gram matrices of the rows, ``n
    (d + 1)^2`` each, and the ``K (d + 1)`` square Cholesky) is at most
    ``2e9``: 5 to 103 iterations on 8 real sets, certified by
    :meth:`LinearObjective.duality_gap` at its multipliers (made feasible),
    with what the dual puts inside the penalty's ball set to 0. It starts
    from ``coef_init`` where one is given, counts its iterations in
    ``n_iter``, and a solve it does not certify goes on by the smoothing
    stages from its best point.

    **The group norm over one-vs-rest columns of the plain hinge, and of
    smooth hinges too narrow for the group barrier** (curvature over 2) take
    the same route: each term ``c (A xi^2 + B zeta)`` over the slacks
    ``xi + zeta >= delta - y s`` (the hinge's ``zeta`` alone; the smooth
    hinge's and the modified Huber loss's both). Default fits of the hinge
    and ``SmoothHinge(gamma=0.1)`` at C = 0.1 to 100 on 8 multiclass sets:
    56 of 64 had ended at ``max_iter``, now none (7 to 92 iterations, 0.01
    to 3.2 s).

    **Centered coordinates.** With a free, unpenalized intercept the
    accelerated and smoothing methods run on the problem in centered
    coordinates (:meth:`LinearObjective.centered`; the polish too): the same
    minimizer, but a shift of every feature by a constant changes nothing
    (uncentered, ``X + 1e4`` left the iterates 6x above the optimum after
    1000 iterations). Gradient norms and ``g_ref`` are the centered
    problem's. The subgradient method reproduces the classical algorithm
    and is not centered.

    **No penalty.** With ``penalty=None`` the plain hinge (binary or
    one-vs-rest) is the linear program above with ``rho = 0``. The
    smoothing stages run first, for at most ``SEPARATING_ITERATIONS`` (100)
    and half of ``max_iter``, and on data of more samples than features one
    per ``SEPARATING_FEATURES`` (4) features at most (where classes overlap
    their steps are lost): on separable data they reach a separator, ``P =
    0``, in a few steps (4 to 44 on sets up to 1,000 x 999, where the
    interior point took up to 80 times longer). Else it takes the same
    interior point where one
    iteration over every feature is within its work limit and the basis
    below within its memory (there are no working sets: every feature's
    dual value must reach 0), on an orthonormal basis of the scores' space,
    formed once for all columns (only ``X w`` matters without a penalty;
    nearly collinear columns had stalled it on the raw ones). Its
    certificate needs ``X^T (alpha y) = 0``, which holds to rounding only:
    where it does within ``NULL_RESIDUAL`` (1e-9) of each entry's sum, the
    gap counts the residual's first-order effect
    (:meth:`LinearObjective.duality_gap`); its multipliers have left 1e-16
    to 6e-12. The smoothing stages' gradient test, the only stop they have
    without a penalty, had stood up to 86 % above the optimum with no
    warning (2 of 330 small random problems, and 7 nearly equal columns),
    and every default fit on iris, breast cancer and digits had ended at
    ``max_iter`` 0.1 to 50 % above it; the interior point certifies all of
    them, in 9 to 64 iterations, and stops once certified within a tenth of
    ``tol`` (and 1,296
    random problems of up to 200 samples, with duplicated columns, zero rows
    and weights, CSR: none warned, and each within its ``optimality_`` of
    HiGHS's optimum). On
    sparse data it reads a dense copy, where that holds at most 4e6 entries
    (``_primal_cd_interior.DENSE_ENTRIES``; on the raw sparse columns its
    multipliers stopped short: 3 % above the optimum, certified). Elsewhere
    (the multiclass hinges, larger data) the stages stop on the larger of
    the smoothing gap and their relative gradient norm, a test and no
    bound: the fit is never converged there (it warns), and it reports the
    interior point's bound where that ran first.

    **No penalty, separable data.** A sum of hinge terms then reaches ``P =
    0`` at a finite ``W`` (every separator with margin 1 is optimal): the
    solve stops there, certified, since such a ``P`` is never negative
    (``optimality`` 0); the interior point's iterates only tend to a
    separator, so a separating iterate is scaled until every margin is
    met.

    **Rates.** The subgradient method converges as :math:`O(1/\\sqrt{k})`;
    smoothing with acceleration reaches accuracy :math:`\\epsilon` in
    :math:`O(1/\\epsilon)` gradient steps and in practice much faster thanks to
    warm starts, restart and the final polish.
    """

    handles_pairwise = True
    handles_nonsmooth_penalty = True
    _constraints = {
        "method": ("auto", "accelerated", "smoothing", "subgradient"),
        "step_size": "positive",
        "averaging": "bool",
        "smoothing": "positive",
        "smoothing_decrease": lambda v: (
            None if isinstance(v, float | int) and 0 < v < 1 else "must be in (0, 1)"
        ),
        "polish": "bool",
    }

    def __init__(
        self,
        method="auto",
        step_size=0.1,
        averaging=True,
        smoothing=1.0,
        smoothing_decrease=0.1,
        polish=True,
    ):
        self.method = method
        self.step_size = step_size
        self.averaging = averaging
        self.smoothing = smoothing
        self.smoothing_decrease = smoothing_decrease
        self.polish = polish

    def resolved_method(self, loss):
        """The method ``"auto"`` stands for with ``loss``."""
        if self.method != "auto":
            return self.method
        if loss.is_smooth:
            return "accelerated"
        if loss.smoothed(self.smoothing) is not None:
            return "smoothing"
        return "subgradient"

    def check_loss(self, loss):
        """Refuse a method that cannot handle ``loss``."""
        super().check_loss(loss)
        method = self.resolved_method(loss)
        name = type(loss).__name__
        if method == "accelerated" and not loss.is_smooth:
            raise ValueError(
                f"GradientDescent(method='accelerated') needs a smooth loss and "
                f"{name} is not smooth; use method='smoothing' or 'auto'."
            )
        if method == "smoothing" and loss.smoothed(self.smoothing) is None:
            raise ValueError(
                f"GradientDescent(method='smoothing') needs a loss with a smooth "
                f"approximation and {name} offers none; use method='subgradient' "
                "or 'auto'."
            )

    @guarded
    def solve(
        self, objective, coef_init=None, *, tol, max_iter, rng=None, callback=None
    ):
        """Minimize ``objective``; see :class:`Solver`."""
        result = self._solve(objective, coef_init, tol, max_iter, callback)
        if coef_init is not None and not result.converged and result.coef is not None:
            # an uncertified end above its start: the start stands (the
            # interior points start from their own centre: a warm refit of
            # the unpenalized hinge at max_iter=1 turned P = 0 into 268),
            # with no bound (the end's may not be one)
            start = np.array(coef_init, dtype=np.float64)
            start_value = float(objective.value(start))
            if start_value < result.value:
                result.coef, result.value = start, start_value
                result.optimality = np.inf
                result.message += "; the start was lower and stands"
        if objective.has_nonsmooth_penalty and result.coef is not None:
            # numerically zero groups set to 0, whichever route gave them
            result.coef, result.optimality, result.value = numerical_zeros(
                objective, result.coef, result.optimality, result.value, tol
            )
        return result

    def _solve(self, objective, coef_init, tol, max_iter, callback):
        self.check_loss(objective.loss)
        x0 = objective.zeros() if coef_init is None else np.array(coef_init, float)
        method = self.resolved_method(objective.loss)
        if method == "subgradient":
            return self._subgradient(objective, x0, tol, max_iter, callback)
        # accelerated and smoothed steps run in centered coordinates (see
        # LinearObjective.centered): shifting the features changes nothing
        spent, found = 0, None
        routes = (
            self._interior_routes(objective, method, max_iter) if self.polish else []
        )
        for solve, cap in routes:
            # an interior point ends certified where proximal steps crawl
            # (see Notes); a route goes on from the point of the one before
            budget = min(cap, max_iter - spent)
            if budget <= 0:
                break
            start = coef_init if found is None else found.coef
            attempt = solve(
                objective, tol, budget, counted_after(callback, spent), start=start
            )
            if attempt is None:
                continue
            attempt.n_iter += spent
            if found is not None:
                # the lower P stands, with the better of the two bounds
                swapped = attempt.value > found.value
                if swapped:
                    found.n_iter, attempt, found = attempt.n_iter, found, attempt
                _merge_bounds(attempt, found, tol)
                if swapped and callback is not None:
                    # the last report was the route's own, higher point
                    callback(
                        attempt.n_iter, attempt.value, attempt.optimality, GAP,
                        attempt.coef, objective,
                    )  # fmt: skip
            found = attempt
            if found.converged or found.n_iter >= max_iter:
                return found
            x0, spent = found.coef, found.n_iter
        if objective.has_nonsmooth_penalty:
            run = self._proximal if method == "accelerated" else self._prox_smoothing
        else:
            run = self._accelerated if method == "accelerated" else self._smoothing
        result = solve_centered(
            lambda part, start: run(
                part, start, tol, max_iter - spent, counted_after(callback, spent)
            ),
            objective,
            x0,
        )
        result.n_iter += spent
        if (
            found is not None
            and result.converged
            and found.value < result.value * (1.0 - result.optimality)
        ):
            # a point below what the stages' bound allows of P*: their
            # stop was a test, not a bound (penalty=None; before the
            # interior point ran on a basis of the scores' space it stalled
            # at P = 26.79 on 7 nearly equal columns at 298 +- 2e-4, and the
            # stages stopped on their gradient test at 26.99, where the
            # optimum is 25.22)
            result.converged = False
            result.message += "; contradicted by a lower point"
        if found is not None and not result.converged:
            # the interior point's certificate bounds P* as well: its lower
            # bound, P (1 - optimality), may be the better one (the only
            # one without a penalty, where the stages report a test)
            _merge_bounds(result, found, tol, objective.penalty is not None)
        if found is not None and not result.converged and found.value < result.value:
            # the stages went on from the interior point's answer and ended
            # above it, uncertified (their first stages leave that point:
            # breast cancer and a duplicated column, L1 hinge, C = 100, ended
            # 4 % above the optimum the interior point had reached): it
            # stands
            found.n_iter = result.n_iter
            found.history = found.history + result.history
            found.message += "; the stages that followed ended higher"
            if callback is not None:
                callback(
                    found.n_iter, found.value, found.optimality, GAP, found.coef,
                    objective,
                )  # fmt: skip
            return found
        return result

    def _interior_routes(self, objective, method, max_iter):
        """The ``(solve, iterations)`` that take ``objective`` in turn before
        the proximal steps, each from the point of the one before: the
        hinge's L1 / elastic-net linear program; the group norm over
        one-vs-rest columns of a smooth loss (the barrier, then the
        primal-dual interior point where the barrier stopped short and that
        applies); L1 and the elastic net of a smooth loss (the proximal steps
        for PROX_FIRST_SHARE of ``max_iter``, then the barrier); the
        multiclass hinges' sparse penalties and the group norm over
        one-vs-rest columns of the others (the primal-dual interior
        point)."""
        if method == "smoothing" and hinge_interior_point_applies(objective):
            n, d = objective.n_samples, objective.n_features
            budget = min(SEPARATING_ITERATIONS, max_iter // 2)
            if n > d + 1:
                # more samples than features: the classes may overlap, and
                # the stages' steps are lost there (spambase: 0.09 -> 0.15 s
                # at 100); their share grows with the interior point's cost
                # per step, n d^2 against the stages' n d
                budget = min(budget, d // SEPARATING_FEATURES)
            if objective.penalty is None and budget >= 1:
                # a separator, P = 0, is a few smoothed steps away on
                # separable data (any labels are, with as many features as
                # samples, but for ties), where the interior point's Newton
                # steps cost n d^2 each (1,000 x 999, 10 classes: 0.10 s
                # against 7.9 s; 2,700 x 600, 0.36 against 2.71 s)
                return [
                    (self._separating_route, budget),
                    (hinge_interior_point, HINGE_MAX_ITERATIONS),
                ]
            return [(hinge_interior_point, HINGE_MAX_ITERATIONS)]
        primal_dual = method != "subgradient" and multiclass_primal_dual_applies(
            objective
        )
        if method == "accelerated" and group_barrier_applies(objective):
            if type(objective.penalty) is not GroupL1L2:
                # the proximal steps converge fast where C is small, with
                # exact zeros; the barrier first cost up to 117 times their
                # time there (5,000 x 600 CSR, L1, C = 0.1: 0.06 -> 7.0 s)
                # and left zeros unset
                return [
                    (self._proximal_route, max(1, int(PROX_FIRST_SHARE * max_iter))),
                    (group_barrier, GROUP_BARRIER_STEPS),
                ]
            routes = [(group_barrier, GROUP_BARRIER_STEPS)]
            if primal_dual:
                # where the barrier's Newton steps crawl over the kinks
                # (digits at C = 1000: 300 steps to a bound of 0.66), the
                # primal-dual method certifies (31 iterations)
                routes.append((multiclass_primal_dual, MULTICLASS_PD_ITERATIONS))
            return routes
        if primal_dual:
            return [(multiclass_primal_dual, MULTICLASS_PD_ITERATIONS)]
        return []

    def _separating_route(
        self, objective, tol, max_iterations, callback=None, start=None
    ):
        """The smoothing stages as a route (see :meth:`_interior_routes`)
        for a problem without a penalty: certified where they reach ``P =
        0``, else their point with no bound (``optimality`` inf: their test
        bounds nothing)."""
        x0 = objective.zeros() if start is None else np.array(start, float)
        result = solve_centered(
            lambda part, begin: self._smoothing(
                part, begin, tol, max_iterations, callback
            ),
            objective,
            x0,
        )
        if not (result.converged and result.value == 0.0):
            # a separator's P rounds to 4e-15, not 0: scaled past every
            # margin, it is one (1,000 x 999: the stages stopped at 35
            # iterations there, then the interior point took 0.8 s)
            scaled = past_every_margin(objective, result.coef, objective.loss.margin)
            if scaled is not result.coef:
                result.coef, result.value = scaled, 0.0
                result.converged, result.optimality = True, 0.0
                result.message = "P = 0, its lower bound (a separator, scaled)"
                return result
            result.converged, result.optimality = False, np.inf
            result.message = "no separator within the stages' iterations"
        return result

    def _proximal_route(
        self, objective, tol, max_iterations, callback=None, start=None
    ):
        """The proximal steps as a route (see :meth:`_interior_routes`), in
        centered coordinates."""
        x0 = objective.zeros() if start is None else np.array(start, float)
        return solve_centered(
            lambda part, begin: self._proximal(
                part, begin, tol, max_iterations, callback
            ),
            objective,
            x0,
        )

    def _accelerated(self, objective, x0, tol, max_iter, callback):
        g_ref = gradient_reference(objective)
        if g_ref == 0.0:
            return optimal_at_zero(objective)
        run = accelerated_descent(
            objective,
            x0,
            g_ref=g_ref,
            tol=tol,
            max_iter=max_iter,
            lipschitz=objective.lipschitz(),
            callback=callback,
        )
        coef, n_iter, optimality, converged = (
            run.coef,
            run.n_iter,
            run.optimality,
            run.converged,
        )
        message = "relative gradient norm below tol" if converged else "max_iter"
        if converged:
            # the gradient test bounds nothing (15 % above the optimum at
            # C = 100): certify P - P*, refining by Newton steps if needed
            coef, steps, optimality, converged = certify(
                objective, coef, g_ref=g_ref, tol=tol, max_steps=FINISH_STEPS
            )
            n_iter += steps
            message = (
                "relative suboptimality bound below tol"
                if converged
                else "the suboptimality bound stays above tol"
            )
        return SolveResult(
            coef,
            n_iter,
            converged,
            float(objective.value(coef)),
            optimality,
            run.history,
            message,
        )

    def _proximal(self, objective, x0, tol, max_iter, callback):
        def stop(coef):
            gap, _ = relative_gap(objective, coef)
            return gap <= tol, gap

        run = proximal_descent(
            objective,
            x0,
            max_iter=max_iter,
            stop=stop,
            lipschitz=objective.lipschitz(),
            callback=callback,
        )
        return SolveResult(
            run.coef,
            run.n_iter,
            run.converged,
            float(objective.value(run.coef)),
            run.optimality,
            run.history,
            "relative duality gap below tol" if run.converged else "max_iter",
        )

    def _prox_smoothing(self, objective, x, tol, max_iter, callback):
        loss = objective.loss
        mu = float(self.smoothing)
        n_iter, history, L = 0, [], None
        callback = _stage_reports(callback, objective, lambda: n_iter)
        bound = np.inf
        while n_iter < max_iter:
            smooth = objective.with_loss(loss.smoothed(mu))

            def stop(coef, smooth=smooth):
                # solving the smoothed problem past its distance to P gains
                # nothing: the stage ends there, and mu shrinks
                total, smoothing_part = smoothed_gap(objective, smooth, coef)
                stage_part = total - smoothing_part
                return stage_part <= max(0.5 * tol, smoothing_part), total

            run = proximal_descent(
                smooth,
                x,
                max_iter=max_iter - n_iter,
                stop=stop,
                lipschitz=L if L is not None else smooth.lipschitz(),
                callback=callback,
            )
            # a stage counts as one iteration at least (its certificate costs
            # a gradient), so stages that start finished still end the run
            x, n_iter, L = run.coef, n_iter + max(run.n_iter, 1), run.lipschitz
            history.extend(run.history)
            bound = run.optimality
            if bound <= tol:
                return SolveResult(
                    x,
                    n_iter,
                    True,
                    float(objective.value(x)),
                    bound,
                    history,
                    "smoothing gap plus the smoothed duality gap below tol",
                )
            if run.converged:
                mu *= self.smoothing_decrease
                if mu < MIN_SMOOTHING:
                    break
        return SolveResult(
            x, n_iter, False, float(objective.value(x)), bound, history,
            "max_iter" if n_iter >= max_iter else FLOOR_MESSAGE,
        )  # fmt: skip

    def _certify_stage(self, smooth, x, g_ref, tol, budget, L, n_iter):
        """The stage's bound on ``(P_mu - P_mu*) / |P_mu|``, tightened once
        (None without a penalty: there is none)."""
        value, grad = smooth.value_and_gradient(x)
        bound = strong_convexity_bound(smooth, value, grad)
        if bound is None:  # no penalty: no bound
            return x, n_iter, None
        if bound > tol and budget > 0 and g_ref > 0:
            # ||g||^2 / 2 <= tol |P| / 2 once ||g|| <= sqrt(tol |P|)
            target = min(tol, np.sqrt(max(tol, 0.0) * abs(value)) / g_ref)
            run = accelerated_descent(
                smooth, x, g_ref=g_ref, tol=target, max_iter=budget, lipschitz=L
            )
            x, n_iter = run.coef, n_iter + run.n_iter
            value, grad = smooth.value_and_gradient(x)
            bound = strong_convexity_bound(smooth, value, grad)
        return x, n_iter, float(bound)

    def _smoothing(self, objective, x, tol, max_iter, callback):
        loss = objective.loss
        mu = float(self.smoothing)
        n_iter, history, L = 0, [], None
        callback = _stage_reports(callback, objective, lambda: n_iter)
        gap, stage_tol, stage_converged = np.inf, np.inf, False
        previous = np.inf
        while n_iter < max_iter:
            stage_start = n_iter
            smooth = objective.with_loss(loss.smoothed(mu))
            g_ref = gradient_reference(smooth)
            if g_ref == 0.0:
                x, stage_converged = smooth.zeros(), True
            else:
                # each stage is solved well enough (measured: 1e-4 relative
                # gradient) that the active set it reveals is a reliable guess
                # for the polish; looser stages cost more iterations later
                stage_tol = max(tol, 1e-4)
                run = accelerated_descent(
                    smooth,
                    x,
                    g_ref=g_ref,
                    tol=stage_tol,
                    max_iter=min(max_iter - n_iter, _STAGE_BUDGET),
                    lipschitz=L if L is not None else smooth.lipschitz(),
                    callback=callback,
                )
                x, n_iter, L = run.coef, n_iter + run.n_iter, run.lipschitz
                history.extend(run.history)
                stage_converged = run.converged
            if self.polish:
                exact, violation = polish(objective, x, mu)
                if exact is None:
                    exact, violation = polish_max(objective, x, mu)
                if exact is not None:
                    value = float(objective.value(exact))
                    return SolveResult(
                        exact,
                        n_iter,
                        True,
                        value,
                        violation,
                        history,
                        "exact optimum certified by the active-set polish",
                    )
            value = float(objective.value(x))
            if value == 0.0 and _nonnegative(objective, x):
                # separable data without a penalty: any separator with margin
                # 1 is optimal, this one included (P >= 0)
                return SolveResult(
                    x, n_iter, True, 0.0, 0.0, history, "P = 0, its lower bound"
                )
            gap = (value - smooth.value(x)) / max(abs(value), 1e-300)
            settled = abs(previous - value) <= tol * abs(value)
            if (gap <= tol or settled) and stage_tol > tol and g_ref > 0.0:
                # the smoothing is fine enough: finish this stage to full tol
                run = accelerated_descent(
                    smooth,
                    x,
                    g_ref=g_ref,
                    tol=tol,
                    max_iter=max_iter - n_iter,
                    lipschitz=L,
                    callback=callback,
                )
                x, n_iter, L = run.coef, n_iter + run.n_iter, run.lipschitz
                history.extend(run.history)
                stage_converged, stage_tol = run.converged, tol
                value = float(objective.value(x))
                gap = (value - smooth.value(x)) / max(abs(value), 1e-300)
                settled = abs(previous - value) <= tol * abs(value)
            if stage_converged and stage_tol <= tol and gap <= 0.5 * tol:
                # half of tol for the gap, the rest for the stage's bound
                # P - P* <= gap + (P_mu - P_mu*): the stage's gradient test
                # bounds nothing (at C = 100 it stopped 12 % above the
                # optimum with a zero gap), so bound it by strong convexity
                # and tighten the stage once if needed
                x, n_iter, bound = self._certify_stage(
                    smooth, x, g_ref, tol - gap, max_iter - n_iter, L, n_iter
                )
                value = float(objective.value(x))
                gap = (value - smooth.value(x)) / max(abs(value), 1e-300)
                if bound is None:
                    # no penalty: the stage's relative gradient norm, the
                    # test it met, is what penalty=None reports; it bounds
                    # nothing, so the fit is not converged (it stood 3 to
                    # 86 % above the optimum on random problems; an interior
                    # point certifies the plain hinge's linear program where
                    # it fits)
                    norm = float(np.linalg.norm(smooth.gradient(x)))
                    optimality = max(gap, norm / g_ref if g_ref > 0 else 0.0)
                    return SolveResult(
                        x, n_iter, False, value, optimality, history,
                        UNBOUNDED_MESSAGE,
                    )  # fmt: skip
                optimality = gap + bound
                return SolveResult(
                    x,
                    n_iter,
                    bool(optimality <= tol),
                    value,
                    optimality,
                    history,
                    "smoothing gap plus the stage's bound below tol"
                    if optimality <= tol
                    else "the suboptimality bound stays above tol",
                )
            previous = value
            if stage_converged:  # else: same mu again, another budget
                mu *= self.smoothing_decrease
                if mu < MIN_SMOOTHING:
                    n_iter = max(n_iter, stage_start + 1)
                    break
            # a stage costs at least its gradient and polish, so it counts as
            # one iteration even when its descent took none: with a decrease
            # of 0.999999 stages that start converged would otherwise never
            # exhaust max_iter (issue 13's fuzz suite: a fit that never ended)
            n_iter = max(n_iter, stage_start + 1)
        # report the smoothing gap: the change between stages is no measure of
        # distance once a stage has been cut short; at the floor the stages
        # ended without a bound on theirs: none
        floor = n_iter < max_iter
        return SolveResult(
            x, n_iter, False, float(objective.value(x)), np.inf if floor else gap,
            history, FLOOR_MESSAGE if floor else "max_iter",
        )  # fmt: skip

    def _subgradient(self, objective, x, tol, max_iter, callback):
        # The classical method, step for step: evaluate at w, measure the change
        # of the objective since the last evaluation, step along -g/||g|| with
        # length step_size/k, and stop once the change was at most tol (the
        # step of that last iteration is still taken, and counted).
        iterate_sum = x.copy()
        n_points = 1
        previous = np.inf
        history = []
        converged = False
        message = "max_iter"
        n_iter = 0
        for k in range(1, max_iter + 1):
            value, grad = objective.value_and_gradient(x)
            change = previous - value
            previous = value
            history.append(float(value))
            norm = np.linalg.norm(grad)
            if norm == 0.0:  # w is optimal: no direction to step in
                converged, message = True, "zero subgradient"
                break
            point = x
            x = x - (self.step_size / k) * grad / norm
            iterate_sum += x
            n_points += 1
            n_iter = k
            if callback is not None:
                callback(k, value, abs(change), "objective change", point, objective)
            if abs(change) <= tol:
                converged, message = True, "objective change below tol"
                break
        coef = iterate_sum / n_points if self.averaging else x
        return SolveResult(
            coef,
            n_iter,
            converged,
            float(objective.value(coef)),
            float(abs(change)) if n_iter else np.nan,
            history,
            message,
        )


def _merge_bounds(result, found, tol, own_bound=True):
    """``result``'s optimality from the better of its own lower bound on
    ``P*`` and ``found``'s (``P (1 - optimality)`` each, relative bounds of
    the same problem), converged where that is within ``tol``; from
    ``found``'s alone where ``result``'s optimality is a test, not a bound
    (``own_bound=False``: the stages without a penalty)."""
    bounds = [
        r.value * (1.0 - r.optimality)
        for r in ((result, found) if own_bound else (found,))
        if np.isfinite(r.optimality) and r.value > 0
    ]
    if not bounds or not result.value > 0:
        return
    optimality = max(result.value - max(bounds), 0.0) / result.value
    if optimality < result.optimality or not own_bound:
        result.optimality = float(optimality)
        if optimality <= tol:
            result.converged = True
            result.message += "; certified by the interior point's bound"


def _stage_reports(callback, objective, done):
    """A smoothing stage's reports in terms of the problem being solved.

    A stage minimizes the smoothed ``P_mu`` and counts its iterations from 1;
    its reports show the unsmoothed ``P`` (computed only if read) and the
    iterations since the solve began (``done()`` before the stage).
    """
    if callback is None:
        return None

    def report(it, value, optimality, measure, coef, stage_objective):
        callback(
            done() + it,
            lambda: objective.value(coef),
            optimality,
            f"{measure} of the smoothed stage",
            coef,
            objective,
        )

    return report


def _nonnegative(objective, coef):
    """Whether ``P >= 0`` is known: a loss that is a sum of hinge terms, or
    their max (Crammer-Singer), is a sum of positive parts."""
    scores = objective.scores(coef)
    loss, y = objective.loss, objective.y
    return (
        loss.hinge_terms(y, scores) is not None
        or loss.max_hinge_terms(y, scores) is not None
    )
