"""Primal coordinate descent with working sets: sparse penalties, certified."""

import functools
import warnings

import numpy as np
import scipy.linalg
import scipy.linalg.blas
import scipy.sparse as sp

from .._objective import _balancing_factors
from ..losses import SquaredHinge
from ..penalties import L1, L2, ElasticNet, GroupL1L2
from ..penalties._base import l1_violation
from ._base import GAP, Solver, SolveResult, guarded, solve_centered, solve_columns
from ._dual_cd_finish import passes_needed
from ._dual_cd_parts import csr_rows
from ._primal_cd_fast import (
    LOSS_CODES,
    binary_primal_cd,
    group_primal_cd,
    quadratic_l1_cd,
    sparse_quadratic_l1_cd,
)
from ._primal_cd_interior import (
    INTERIOR_LOSSES,
    ITERATIONS_EXPECTED,
    MAX_INTERIOR_ITERATIONS,
    generalized_hessian,
    margin_interior_point,
    normal_work,
    samples_space_pays,
)

#: the penalties with a coordinate update here
_PENALTIES = (L1, L2, ElasticNet, GroupL1L2)
#: features of the first working set (grown to twice the support after)
FIRST_WORKING_SET = 10
#: an inner solve stops at this fraction of the outer violation (skglm's 0.3)
INNER_FRACTION = 0.3
#: outer iterations without a smaller gap before the solver gives up: the gap
#: has reached the rounding level of the objective's sums
MAX_STALLED = 20
#: epochs whose margins the dual extrapolation combines (celer's K = 5, plus 1)
EXTRAPOLATION_POINTS = 6
#: at a tol this tight, the certified point gets up to POLISH_EPOCHS more
#: epochs on its support, until the violation is POLISH_FRACTION of the first
POLISH_TOL = 1e-10
POLISH_EPOCHS = 1000
POLISH_FRACTION = 1e-13
#: epochs between two certificates within an inner solve (celer's 10: a
#: Newton step after 2 epochs short of the inner target pays more)
CHUNK = 2
#: LIBLINEAR's sufficient decrease fraction (the kernels' ARMIJO)
ARMIJO = 0.01
#: the most epochs one inner solve may run before a new working set
MAX_INNER_EPOCHS = 100
#: a chunk that ends this many times above the inner target, or a second
#: one in a row above it, is crawling: a Newton step follows (just above it
#: once, another chunk costs less)
CRAWL = 1.5
#: sweeps of coordinate descent on a Newton step's quadratic model
NEWTON_SWEEPS = 100
#: halvings of a Newton step before the line search gives up
NEWTON_HALVINGS = 30
#: a Newton step's model adds ``damping * max diag(H)`` to ``H``'s diagonal
#: (Levenberg-Marquardt): at a large C few margins are below 1 and the
#: generalized Hessian is singular, its model unbounded along directions
#: where the objective grows as margins cross the hinge. The damping starts
#: at FIRST_DAMPING, shrinks by DAMPING_DOWN after a full step and grows by
#: DAMPING_UP after a shortened or failed one.
FIRST_DAMPING = 1e-4
MIN_DAMPING = 1e-12
DAMPING_DOWN = 0.25
DAMPING_UP = 10.0
#: a Newton step is taken on a working set of ``m`` features only where
#: ``m^2`` (one sweep on its model) is at most this many times the entries of
#: its columns (one epoch of coordinate descent)
NEWTON_WORK = 200.0
#: a sparse working set whose formed model (``|S|^2``) would hold more than
#: this many times its entries is swept from its rows instead
#: (``sparse_quadratic_l1_cd``); below it the formed ``H`` also serves the
#: sign rounds of :func:`_quadratic_l1_step`
UNFORMED_MODEL = 4.0
#: an epoch's work over the same entries, in sweeps of that model
UNFORMED_SWEEP_SPEEDUP = 8.0
#: the epochs run before coordinate descent's rate is read for a hand-over
#: to the interior point (:mod:`._primal_cd_interior`): a tenth of max_iter,
#: at least this many. Read earlier, the rate is too slow: at C = 1 texture's
#: columns, handed over at 20 epochs for the 200 to 700 their rates asked
#: for, end in 44 by themselves (0.43 s against 0.71)
HANDOVER_EPOCHS = 20
#: what a multiply-add costs, in entries read by an epoch of coordinate
#: descent (about 4 ns each on this 2-core machine), for the interior point's
#: and the Newton steps' work: 0.05 ns in BLAS's rank-k update and Cholesky
#: (20 is cautious), 0.5 ns in the compiled sparse Gram and the model's
#: sweeps
BLAS_SPEEDUP = 20.0
SPARSE_GRAM_SPEEDUP = 8.0
#: products with ``X`` an interior-point iteration takes over the samples
#: (two solves, each refined twice, two products a Woodbury solve and two
#: a refinement's residual), counted one entry each
SAMPLES_SPACE_PRODUCTS = 20
#: see :func:`_interior_point_pays`
MISS_WORK = 10.0
#: the iterations a Newton step's charge leaves for the interior point while
#: it may be tried: its expected iterations and two chunks of epochs (the
#: certificate that asks for it comes after them)
INTERIOR_RESERVE = ITERATIONS_EXPECTED + 2 * CHUNK + 1
#: rounds of sweeps and a solve on the free set for a Newton step's model
SIGN_ROUNDS = 30
#: the rounds' factorizations (``|F|^3 / 3`` multiply-adds each, counted
#: one for one against entries read, not at BLAS's speed) may cost up to
#: this many epochs over the working set's columns: on one-hot blocks
#: (splice, 287 columns) one round counts as 9 epochs of a dense X and 40 of
#: a sparse one
ROUND_WORK = 10.0


class PrimalCoordinateDescent(Solver):
    """Coordinate descent on the primal, with working sets, compiled.

    For L1, elastic-net and group L1/L2 penalties (and L2) with the smooth
    margin losses that have a compiled formula: ``squared_hinge`` (LIBLINEAR's
    ``-s 5``, ``LinearSVC(penalty="l1", dual=False)``), ``smooth_hinge`` and
    ``modified_huber``, binary or one-vs-rest. The design matrix is read by
    columns: a dense ``X`` is copied once per fit in Fortran order, a CSR
    ``X`` once into CSC.

    Parameters
    ----------
    working_set : bool, default=True
        Update only the features most likely to be non-zero, growing the set
        until the certificate holds (celer / skglm); ``False`` updates every
        feature in every epoch.

    Notes
    -----
    **Updates.** With ``z_i = y_i (x_i w + b)`` kept up to date, one
    coefficient of a separable penalty ``q w_j^2 / 2 + rho |w_j|`` takes the
    soft-thresholded Newton step

    .. math:: d = \\arg\\min_d\\; g d + \\tfrac{h}{2} d^2 + \\rho |w_j + d|,
              \\quad g = \\sum_i c_i y_i \\phi'(z_i) x_{ij} + q w_j,\\;
              h = \\sum_i c_i \\phi''(z_i) x_{ij}^2 + q

    (``c_i = C s_i``, ``phi''`` the generalized second derivative), with a
    line search on the exact objective (Armijo, as LIBLINEAR's
    ``solve_l1r_l2_svc``): a rejected step is shortened by raising ``h`` to
    the curvature seen along it (2 to 16 times the last), so that it can still
    land on 0; past the curvature bound ``sup phi'' sum_i c_i x_ij^2`` that
    bound's (majorized) step is taken, which always decreases the objective.
    Where the loss is flat along the coordinate (``h = 0``) the first step is
    long and the search scales it. Under the group penalty a feature's ``K``
    coefficients move together by the block soft-threshold of the majorized
    step. A free or penalized intercept is a coordinate updated by the same
    Newton step once per epoch. The features are visited in a fixed order.

    **Centering.** With a dense ``X`` and a free intercept the column copy is
    centered (``LinearObjective.centered``): the intercept's coordinate is
    then nearly decoupled from the features' (on uncentered positive
    features coordinate descent crawled along their correlation with the
    constant column). A CSR ``X`` is not centered (that would fill it in).

    **Working sets.** Each outer iteration measures the full gradient, ranks
    the features by their violation of the optimality conditions
    (``Penalty.violation``: the distance of ``-grad`` to the penalty's
    subdifferential), and solves the problem restricted to the non-zero
    features plus the most violating ones (``max(10, 2 |support|)`` in all)
    until their largest violation is at most 0.3 times the outer one (skglm);
    the certificate (a product with all of ``X``) is measured once that inner
    solve ends. With one score column, a working set on which a chunk of 2
    epochs ends above 1.5 times that, or two chunks in a row above it
    (coordinate descent crawling along correlated or exactly collinear
    columns, such as one-hot blocks, or along the free intercept at a large
    C) goes on by Newton steps as well (newGLMNET): the quadratic
    model of the objective over the working set and the intercept, with the
    generalized Hessian ``X_S^T diag(c phi''(z)) X_S + q`` (for the squared
    hinge ``phi'' = 2 [z < 1]``; formed over the samples of non-zero
    curvature only, by samples for a sparse ``X``) plus a
    Levenberg-Marquardt damping (at a large C few margins are below 1 and
    that Hessian is singular), the intercept eliminated, minimized by
    coordinate descent on that small matrix and rounds of an active-set
    method (a Cholesky on the non-zero coefficients with their signs fixed),
    then an Armijo search on the exact objective; a step the search rejects
    hands back to coordinate descent. A working set whose model costs more
    per sweep than 200 epochs (``|S|^2`` against its columns' entries: wide
    sparse sets) takes no Newton steps, and a step counts in ``n_iter`` as
    the epochs its work is worth. Each Newton step is followed by a
    chunk of epochs, which refill the margins the dual extrapolation
    combines.

    **Interior point.** A column (of any of the three losses: each is
    piecewise quadratic in the margin) with an L1 part whose gap,
    read at the certificates from a tenth of ``max_iter`` on, falls at a
    rate that needs more epochs than the interior point of
    :mod:`._primal_cd_interior` costs (some 40 iterations of a ``(d + 1)``
    square normal matrix; or that will miss ``max_iter``) is handed to it
    once: at a large C on nearly separable data the problem is close to the
    hard-margin L1 SVM, where coordinate descent and its Newton steps crawl
    (and so does a smooth hinge of small ``gamma``, at any C). Coordinate
    descent goes on from its point (its soft-threshold zeroes the
    coefficients the interior point leaves near 0) and certifies it; an
    interior-point iteration counts as one in ``n_iter``, and they are
    bounded by the ``max_iter - n_iter`` left.

    **Stopping rule and certificate.** ``tol`` bounds the relative
    suboptimality: the solver stops when ``P - D <= tol * P`` with ``D`` the
    best dual value met so far, each at a feasible dual point built as
    ``LinearObjective.duality_gap`` does (the loss gradient rescaled onto
    the intercept's constraint and the penalty conjugate's domain), at the
    iterate and at celer's dual extrapolation (an Anderson combination of
    the margins of the last 6 epochs of one working set with no Newton step
    between, whose loss gradient is a far better
    dual point once the support settles: the rescaled gradient alone certifies
    only as fast as the inactive features' gradients converge).
    ``optimality`` is ``(P - D) / P`` (summed over the one-vs-rest columns,
    each solved on its own; the group penalty couples them and is solved as
    one problem). ``max_iter`` bounds the epochs (passes over the working
    set; a Newton step counts as the epochs its work is worth, at least
    one), summed over the working sets, and
    ``n_iter`` counts them (per one-vs-rest column): each working set runs
    at least one epoch and has at most two certificates, so the work is at
    most ``max_iter`` passes over the data and ``2 max_iter + 2`` products
    with ``X``. At ``tol <= 1e-10`` the certified point gets up to
    1000 more epochs on its support (a gap bounds the coefficients' error
    only by about its square root, not counted in ``n_iter``). A gap that
    stops decreasing for 20 certificates (rounding level) ends the solve
    with ``converged=False``.
    ``rng`` is not used.
    """

    requires_smooth = True
    handles_nonsmooth_penalty = True
    non_smooth_advice = "use solver='gd' (proximal steps, every loss)"
    _constraints = {"working_set": "bool"}

    def __init__(self, working_set=True):
        self.working_set = working_set

    def check_loss(self, loss):
        """Refuse pairwise, non-smooth and multiclass losses (no compiled update)."""
        name = type(loss).__name__
        if loss.is_pairwise:
            raise ValueError(
                f"PrimalCoordinateDescent has no update for the pairwise loss "
                f"{name}; use solver='gd'."
            )
        if not loss.is_smooth:
            raise ValueError(
                f"PrimalCoordinateDescent needs a smooth loss and {name} is not "
                "smooth; use loss='squared_hinge', or solver='gd'."
            )
        kernel = loss.compiled_kernel()
        if loss.is_multiclass or kernel is None or kernel.name not in LOSS_CODES:
            raise ValueError(
                f"PrimalCoordinateDescent has no compiled update for {name}; "
                f"use one of {sorted(LOSS_CODES)}, or solver='gd'."
            )

    def check_penalty(self, penalty):
        """Refuse ``penalty=None`` and penalties without a coordinate update."""
        if penalty is None:
            raise ValueError(
                "PrimalCoordinateDescent needs a penalty (its stopping rule is "
                "a duality gap); for penalty=None use solver='newton' or "
                "'lbfgs' with a smooth loss, solver='gd' with any loss."
            )
        if type(penalty) not in _PENALTIES:
            raise ValueError(
                f"PrimalCoordinateDescent has no coordinate update for "
                f"{type(penalty).__name__}; use solver='gd' (proximal steps)."
            )

    @guarded
    def solve(
        self, objective, coef_init=None, *, tol, max_iter, rng=None, callback=None
    ):
        """Minimize ``objective`` by coordinate descent; see :class:`Solver`."""
        self.check_loss(objective.loss)
        self.check_penalty(objective.penalty)

        def run(objective, coef_init):
            data = _ColumnData(objective)
            if isinstance(objective.penalty, GroupL1L2) and objective.n_outputs > 1:
                start = objective.zeros() if coef_init is None else coef_init
                return self._solve(objective, start, data, tol, max_iter, callback)

            def solve_column(part, start):
                start = part.zeros() if start is None else start
                return self._solve(part, start, data, tol, max_iter, callback)

            return solve_columns(solve_column, objective, coef_init, _relative_gap, tol)

        if sp.issparse(objective.X):  # centering would fill the columns in
            return run(objective, coef_init)
        return solve_centered(run, objective, coef_init)

    def _solve(self, objective, start, data, tol, max_iter, callback):
        """The outer loop on one objective (one column, or ``K`` grouped)."""
        loss = objective.loss
        kernel = loss.compiled_kernel()
        kernel_name = kernel.name
        code = LOSS_CODES[kernel.name]
        gamma, margin = (
            (kernel.a, kernel.b) if kernel.name == "smooth_hinge" else (0, 0)
        )
        K, d = objective.n_outputs, objective.n_features
        coef = np.array(start, dtype=np.float64)
        W, b = objective.split(coef)
        W, b = np.ascontiguousarray(W), np.array(b, dtype=np.float64)
        Y = np.ascontiguousarray(objective.y, dtype=np.float64).reshape(-1, K)
        curvature = loss.smoothness(1)
        bounds = curvature * data.squared_norms
        intercept_bound = curvature * data.weights.sum()
        q, p = objective.reg, objective.intercept_penalty
        rho = objective.penalty.nonsmooth_value(np.ones((1, 1)))
        ws_size = FIRST_WORKING_SET
        history, best, stalled, first = [], np.inf, 0, 0.0
        best_dual, Z_extra = -np.inf, None
        # a ring of the last epochs' margins: the kernel writes the next
        # epoch to row ring[0] (the oldest), and the rows are put in order
        # only for an extrapolation (moving them after every call of two
        # epochs cost 4 % of an L1 fit on satimage)
        snapshots = np.zeros((EXTRAPOLATION_POINTS, Y.size))
        ring = [0]
        # epochs of one map (same working set, no Newton step) in snapshots
        streak = 0
        n_iter, outer, inner_done, epochs_left, eps = 0, 0, True, 0, 0.0
        kernel = binary_primal_cd if K == 1 else group_primal_cd

        def inner(working_set, eps, max_epochs):
            # W, Z and b are updated in place
            epochs, violation = kernel(
                data.cols, data.ones, Y, data.weights, Z, W, b,
                objective.fit_intercept, q, rho, p, bounds, intercept_bound,
                working_set, code, gamma, margin, eps, max_epochs, snapshots,
                ring[0],
            )  # fmt: skip
            ring[0] = (ring[0] + epochs) % len(snapshots)
            return epochs, violation

        # a Newton step on the working set (newGLMNET) once coordinate descent
        # crawls there (a chunk of epochs short of eps: correlated columns)
        newton_ok = K == 1
        damping = [FIRST_DAMPING]
        # the interior point is for the L1 part's problem (rho > 0): without
        # it the split w = u - v it works on has no bounded optimum
        interior_ok = newton_ok and kernel_name in INTERIOR_LOSSES and rho > 0.0
        checks, working_set = [], np.arange(d, dtype=np.int32)
        crawling = was_short = False
        # a zero start (the usual one) has zero margins: no product with X
        if W.any() or b.any():
            Z = Y * objective.scores(objective.join(W, b))
        else:
            Z = np.zeros_like(Y)
        fresh = True
        while True:
            if inner_done:
                # the certificate (a product with all of X) only once the
                # working set's problem is solved: mid-way, it would seldom
                # hold and would cost as much as the epochs on a small set
                extra = None if Z_extra is None else Z_extra.reshape(Z.shape)
                primal, dual, loss_grad, grad_b = _certificate(
                    objective, data, Y, Z, W, b, extra
                )
                # any feasible dual point bounds P*: keep the best one met
                best_dual = max(best_dual, dual)
                gap = max(primal - best_dual, 0.0)
                stalled = stalled + 1 if gap >= best else 0
                best = min(best, gap)
                ending = gap <= tol * primal or stalled >= MAX_STALLED
                if (ending or n_iter >= max_iter) and not fresh:
                    # the primal value again on fresh margins (the kernels'
                    # updates drift by rounding), also for a fit that ends
                    # at max_iter (its reported objective); the dual value
                    # stands: any loss gradient gives a feasible dual point
                    Z = Y * objective.scores(objective.join(W, b))
                    fresh = True
                    primal = _primal_value(objective, data, Y, Z, W, b)
                    gap = max(primal - best_dual, 0.0)
                if gap <= tol * primal or stalled >= MAX_STALLED:
                    break
                if n_iter >= max_iter:
                    break
                checks.append((n_iter, gap / primal if primal > 0 else 0.0))
                if interior_ok and _interior_point_pays(
                    data, working_set, checks, tol, n_iter, max_iter
                ):
                    # coordinate descent's rate says the interior point costs
                    # less than the epochs it still needs (or it will miss
                    # max_iter): one try, then coordinate descent goes on
                    # from its point
                    interior_ok = False
                    found = margin_interior_point(
                        data.transposed, Y[:, 0], data.weights, rho, q, p,
                        objective.fit_intercept, loss,
                        min(MAX_INTERIOR_ITERATIONS, max_iter - n_iter - 1),
                    )  # fmt: skip
                    if found is not None:
                        n_iter += found[2]
                        saved = W.copy(), b.copy(), Z
                        W[0], b[...] = found[0], found[1]
                        Z = Y * objective.scores(objective.join(W, b))
                        if _primal_value(objective, data, Y, Z, W, b) < primal:
                            # an epoch over every feature: its soft-threshold
                            # zeroes what the interior point leaves near 0
                            n_iter += inner(np.arange(d, dtype=np.int32), 0.0, 1)[0]
                            Z_extra, streak, fresh = None, 0, False
                            continue
                        # no better than coordinate descent's point
                        W[...], b[...], Z = saved
                outer += 1
                history.append(primal)
                if callback is not None:
                    # no coefficients: the kernel's are in its own (centered)
                    # coordinates and change in place
                    callback(n_iter, primal, gap / primal if primal else 0.0, GAP)
                scores = objective.penalty.violation(W, loss_grad)
                worst = max(scores.max(initial=0.0), np.abs(grad_b).max(initial=0.0))
                first = worst if outer == 1 else first
                support = np.flatnonzero(np.any(W != 0.0, axis=0))
                if self.working_set:
                    ws_size = min(d, max(ws_size, 2 * len(support), FIRST_WORKING_SET))
                    scores[support] = np.inf
                    order = np.sort(np.argsort(-scores, kind="stable")[:ws_size])
                else:
                    order = np.arange(d)
                working_set = np.asarray(order, dtype=np.int32)
                eps, epochs_left = INNER_FRACTION * worst, MAX_INNER_EPOCHS
                # a Newton step's sweeps on its model cost |S|^2 each: on a
                # wide sparse working set (text at a large C: 3,200 columns
                # of 12 entries) that is a thousand epochs, not one
                newton_here = newton_ok and (
                    len(working_set) ** 2 <= NEWTON_WORK * data.entries(working_set)
                )
                crawling, was_short, streak = False, False, 0
            if crawling and n_iter + 1 < max_iter:
                # a Newton step, then epochs as usual: they refill the margins
                # the dual extrapolation combines (not as the last of
                # max_iter: the working set's epoch after it would pass it)
                work = _newton_step(
                    data, working_set, Y, Z, W, b, q, rho, p,
                    objective.fit_intercept, eps, damping, loss,
                )[1]  # fmt: skip
                # counted as the epochs its work is worth (at least one), so
                # that max_iter bounds the work: on a wide sparse working
                # set one step costs thousands of epochs
                epochs_worth = int(np.ceil(work / max(data.entries(working_set), 1)))
                # never so much that the interior point, while it may still
                # be tried, is left too few iterations: one step on a wide
                # sparse working set was charged 986 of 1,000 (200 x 3,000
                # at C = 3), and the fit ended there with a bound of 0.33
                reserve = INTERIOR_RESERVE if interior_ok else 1
                cap = max(max_iter - n_iter - reserve, 1)
                charged = min(max(epochs_worth, 1), cap)
                if interior_ok and epochs_worth > cap:
                    # no more steps: uncharged they ran on (text, 5,000 x
                    # 20,000 at C = 100: 26 steps, 7.4 s, to a bound of 0.65)
                    newton_ok = newton_here = False
                n_iter += charged
                # and against the working set's epochs: its certificate (and
                # the hand-over's rate) comes after as much work as before
                epochs_left = max(epochs_left - charged, 1)
                streak = 0
            chunk = min(CHUNK, epochs_left, max(max_iter - n_iter, 1))
            epochs, violation = inner(working_set, eps, chunk)
            fresh = False
            n_iter += epochs
            streak += epochs
            short = epochs == CHUNK and violation > eps
            # crawling: far short of eps, or short twice in a row
            crawling = newton_here and short and (violation > CRAWL * eps or was_short)
            was_short = short
            epochs_left -= epochs
            inner_done = violation <= eps or epochs_left <= 0 or n_iter >= max_iter
            if inner_done:
                # the ring from its oldest row
                Z_extra = _extrapolate(np.roll(snapshots, -ring[0], axis=0), streak)
        history.append(primal)
        converged = gap <= tol * primal
        if converged and tol <= POLISH_TOL and first > 0:
            # a gap of tol bounds the coefficients' error by about sqrt(tol):
            # more epochs on the support bring them to rounding level
            support = np.flatnonzero(np.any(W != 0.0, axis=0)).astype(np.int32)
            saved = W.copy(), b.copy()
            inner(support, POLISH_FRACTION * first, POLISH_EPOCHS)
            Z = Y * objective.scores(objective.join(W, b))
            polished, dual = _certificate(objective, data, Y, Z, W, b)[:2]
            if polished - max(dual, best_dual) <= tol * polished:
                gap, primal = max(polished - max(dual, best_dual), 0.0), polished
            else:
                W[...], b[...] = saved
        coef = objective.join(W, b)
        optimality = gap / primal if primal > 0 else 0.0
        if converged:
            message = "duality gap below tol"
        elif stalled >= MAX_STALLED:
            message = "the duality gap stopped decreasing (rounding level)"
        else:
            message = "max_iter reached"
        return SolveResult(
            coef,
            n_iter,
            bool(converged),
            float(primal),
            float(optimality),
            history,
            message,
        )


class _ColumnData:
    """What the kernels read of one objective: ``X`` by columns and the weights."""

    def __init__(self, objective):
        X = objective.X
        self.weights = np.ascontiguousarray(
            objective.loss_scale * objective.sample_weight, dtype=np.float64
        )
        n = objective.n_samples
        d = X.shape[1]
        if sp.issparse(X):
            csc = sp.csc_matrix(X)
            csc.sum_duplicates()
            data = np.asarray(csc.data, dtype=np.float64)
            indices = np.asarray(csc.indices, dtype=np.int32)
            indptr = np.asarray(csc.indptr, dtype=np.int64)
            # X^T as CSR shares the arrays: its products gather, faster than
            # the scatter of a CSR X transposed
            self.transposed = sp.csr_matrix((data, indices, indptr), shape=(d, n))
            squares = sp.csr_matrix((data * data, indices, indptr), shape=(d, n))
            self.squared_norms = np.asarray(squares @ self.weights, dtype=np.float64)
            if data.size == 0:  # the kernel reads &data[0]
                data, indices = np.zeros(1), np.zeros(1, dtype=np.int32)
            self.cols = (data, indices, indptr, n)
        else:
            # the transpose of a Fortran-ordered copy: C-ordered, one row a
            # column; centered here when the objective is (see solve)
            self.cols = _columns(X)
            if objective.offset is not None:
                self.cols -= objective.offset[:, None]
            self.squared_norms = np.square(self.cols) @ self.weights
            self.transposed = self.cols
        self.ones = np.ones(max(n, 1))

    @functools.cached_property
    def interior_point_work(self):
        """The interior point's work on this data, in entries of an epoch.

        Each iteration forms its Newton system and factors it, over the
        coefficients (``X^T G X``: ``n d^2`` multiply-adds by BLAS, or
        ``sum_i nnz_i^2`` by the compiled sparse Gram, and ``d^3 / 3``) or
        over the samples where that costs less (``n^2 d`` or ``sum_j
        nnz_j^2``, and ``n^3 / 3``; its solves take some
        ``SAMPLES_SPACE_PRODUCTS`` products with ``X``): see
        ``_primal_cd_interior._System``. Measured once per fit: the
        hand-over's rule asks at every certificate.
        """
        columns = self.transposed
        d, n = columns.shape
        sparse = sp.issparse(columns)
        gram_speedup = SPARSE_GRAM_SPEEDUP if sparse else BLAS_SPEEDUP
        (gram_d, factor_d), (gram_n, factor_n) = normal_work(columns)
        work = gram_d / gram_speedup + factor_d / BLAS_SPEEDUP
        if samples_space_pays(columns):
            stored = columns.nnz if sparse else n * d
            work = gram_n / gram_speedup + factor_n / BLAS_SPEEDUP
            work += SAMPLES_SPACE_PRODUCTS * stored
        return ITERATIONS_EXPECTED * work

    def entries(self, features):
        """The stored entries of these columns: an epoch's reads over them."""
        if not isinstance(self.cols, tuple):  # dense: a row of n per column
            return self.cols.shape[1] * len(features)
        indptr = self.cols[2]
        return int((indptr[features + 1] - indptr[features]).sum())


def _columns(X, block=256):
    """``X^T`` as a C-ordered float64 copy: one row a column of ``X``.

    Transposed a block of rows at a time: numpy's copy of a C-ordered ``X``
    into its transpose strides through memory, 3x slower (sylva, 13,086 x
    212: 7.3 ms against 2.3, 5 % of an L1 fit).
    """
    X = np.asarray(X)
    if X.flags.f_contiguous:  # its transpose is C-ordered already
        return np.array(X.T, dtype=np.float64, order="C")
    columns = np.empty((X.shape[1], X.shape[0]))
    for start in range(0, X.shape[0], block):
        columns[:, start : start + block] = X[start : start + block].T
    return columns


def _certificate(objective, data, Y, Z, W, b, Z_extra=None):
    """``LinearObjective.duality_gap``'s bounds from the margins ``Z`` at hand.

    Returns ``(P, D, loss gradient in W (K x d), gradient in b)`` with ``D``
    the dual value at the rescaled loss gradient; with ``Z_extra`` (margins
    of an extrapolated point), ``D`` is the better of the two dual values.
    One product ``X^T [G, U, ...]`` gives the gradient and the dual points.
    """
    penalty, p = objective.penalty, objective.intercept_penalty
    balance = objective.fit_intercept and p == 0
    points = [Z] if Z_extra is None else [Z, Z_extra]
    parts, columns = [], []
    for margins in points:
        S = Y * margins
        values, grads = objective.loss.loss_gradient(Y, S)
        F = data.weights[:, None] * values
        G = data.weights[:, None] * grads
        # the free intercept's constraint 1^T U = 0: G rescaled per side
        factors = _balancing_factors(G) if balance else np.ones_like(G)
        parts.append((F, G, factors, float(np.sum(factors * (G * S - F)))))
        columns += [G, G * factors] if balance else [G]
    # one product for the gradient and every dual point
    # (a dense X^T is the centered copy: the products are the centered ones)
    products = np.split(data.transposed @ np.hstack(columns), len(columns), axis=1)
    F, G = parts[0][:2]
    primal = _primal_value(objective, data, Y, Z, W, b, F)
    dual = -np.inf
    for k, (_, G_k, factors, conj_bound) in enumerate(parts):
        V = products[2 * k + 1 if balance else k].T
        t = float(penalty.dual_scale(-V))
        value = -t * conj_bound - penalty.conjugate(-t * V)
        if objective.fit_intercept and p > 0:
            total = t * (G_k * factors).sum(axis=0)
            value -= float(np.dot(total, total)) / (2.0 * p)
        dual = max(dual, value)
    grad_b = G.sum(axis=0) + p * b if objective.fit_intercept else np.zeros(0)
    return primal, dual, products[0].T, grad_b


def _primal_value(objective, data, Y, Z, W, b, F=None):
    """``P`` at the margins ``Z`` (``F``: the weighted losses, if at hand)."""
    if F is None:
        F = data.weights[:, None] * objective.loss.loss(Y, Y * Z)
    q, p = objective.reg, objective.intercept_penalty
    primal = float(F.sum()) + 0.5 * q * float(np.vdot(W, W))
    primal += objective.penalty.nonsmooth_value(W)
    if objective.fit_intercept:
        primal += 0.5 * p * float(np.dot(b, b))
    return primal


def _extrapolate(ordered, epochs):
    """Anderson extrapolation of the last margins (celer's dual extrapolation).

    ``ordered`` holds the margins after the last ``H`` epochs, oldest first,
    of which the last ``epochs`` were iterations of one map (same working
    set, no Newton step between); returns ``sum_k c_k z_k`` with ``c``
    minimizing the norm of the combined differences under ``sum c = 1``, or
    None (too few epochs, singular system).
    """
    H = ordered.shape[0]
    if H < 3 or epochs < H:
        return None
    diffs = np.diff(ordered, axis=0)
    try:
        c = np.linalg.solve(diffs @ diffs.T, np.ones(H - 1))
    except np.linalg.LinAlgError:
        return None
    total = c.sum()
    if not (np.isfinite(total) and total != 0):
        return None
    return (c / total) @ ordered[1:]


def _newton_step(
    data, working_set, Y, Z, W, b, q, rho, p, intercept, eps, damping, loss
):
    """One Newton step of a smooth margin loss over the working set (newGLMNET).

    The quadratic model ``g.d + d.H.d / 2 + rho |w + d|_1`` (``H`` the
    generalized Hessian ``X_S^T diag(c phi''(z)) X_S + q``: ``2 c [z < 1]``
    for the squared hinge, bordered by the intercept's row and column where
    there is one) is minimized by
    :func:`_quadratic_l1_step`, then the step is scaled by an Armijo search
    on the exact objective. The intercept, free of the L1 part, is
    eliminated from the model first (its Schur complement), so the model's
    coordinates all carry the same ``rho``. ``W``, ``b`` and ``Z`` are
    updated in place. Returns the largest violation over the working set
    after the step (None where the search found no decrease: the caller
    goes back to coordinate descent) and the step's work, in entries of an
    epoch (``BLAS_SPEEDUP``, ``SPARSE_GRAM_SPEEDUP``).
    """
    y, z, w = Y[:, 0], Z[:, 0], W[0, working_set]
    cw = data.weights
    X_S = data.transposed[working_set]  # |S| x n: CSR, or dense rows
    ones = np.ones_like(z)  # the losses read in margins: y = 1
    curvature = cw * loss.hessian(ones, z)
    entries = data.entries(working_set)
    # a wide sparse working set's model is swept from its rows, H unformed
    # (sparse_quadratic_l1_cd): text at C = 10, 3,056 columns of about 16
    # entries, spent 2.6 of its 3.7 s in sweeps of the formed H
    unformed = sp.issparse(X_S) and len(w) ** 2 > UNFORMED_MODEL * entries
    if unformed:
        H = None
        diagonal = np.asarray(X_S.multiply(X_S) @ curvature, dtype=np.float64)
    else:
        H = generalized_hessian(X_S, curvature)
        diagonal = H.diagonal()
    largest = max(float(diagonal.max(initial=0.0)), float(curvature.sum()))
    if not largest > 0.0:
        # no sample of non-zero curvature (the smooth hinge's flat parts):
        # no model to minimize, and its solves would divide by 0
        return None, 0.0
    extra = q + damping[0] * largest
    values, slopes = loss.loss_gradient(ones, z)
    residual = cw * slopes * y  # the loss's derivative in each score
    g = X_S @ residual + q * w
    # the intercept's row of the model: d_b = -(g_b + h_b.d) / h_bb at the
    # model's minimum in d_b, which leaves H - h_b h_b^T / h_bb and
    # g - h_b g_b / h_bb on the features (a free intercept on uncentered
    # columns, the default, is where coordinate descent crawls worst)
    h_bb = float(curvature.sum()) + p + damping[0] * largest if intercept else 0.0
    g_b = float(residual.sum()) + p * float(b[0]) if intercept else 0.0
    g_model, h_b = g, np.zeros(len(w))
    if h_bb > 0.0:
        h_b = np.asarray(X_S @ curvature, dtype=np.float64)
        g_model = g - h_b * (g_b / h_bb)
    if unformed:
        model_diagonal = diagonal + extra - (h_b * h_b / h_bb if h_bb > 0.0 else 0.0)
        d = np.zeros(len(w))
        rows = csr_rows(sp.csr_matrix(X_S))
        scale = np.sqrt(max(float(model_diagonal.max(initial=0.0)), 1e-300))
        sweeps = sparse_quadratic_l1_cd(
            *rows[:3], curvature, h_b, h_bb, model_diagonal, extra, g_model, w,
            rho, d, NEWTON_SWEEPS, 0.1 * eps / scale,
        )  # fmt: skip
        # the diagonal's pass, and the sweeps: a multiply-add an entry, about
        # a tenth of an epoch's work on them (text, squared hinge and
        # modified Huber at C = 10 and 100: 1.1 to 1.4 ns an entry a sweep,
        # 11 to 14 ns an epoch)
        work = float(entries) * (1.0 + sweeps / UNFORMED_SWEEP_SPEEDUP)
    else:
        H[np.diag_indices_from(H)] += extra
        H_model = H - np.outer(h_b, h_b) / h_bb if h_bb > 0.0 else H
        budget = ROUND_WORK * entries
        d, work = _quadratic_l1_step(H_model, g_model, w, rho, 0.1 * eps, budget)
        # the Hessian's multiply-adds: BLAS's rank-k update over the samples
        # below the hinge, or the compiled sparse Gram (about entries^2 / n)
        active = float(np.count_nonzero(curvature))
        if sp.issparse(X_S):
            n = max(len(curvature), 1)
            work += active * (entries / n) ** 2 / SPARSE_GRAM_SPEEDUP
        else:
            work += active * len(w) ** 2 / BLAS_SPEEDUP
    d_b = -(g_b + float(h_b @ d)) / h_bb if h_bb > 0.0 else 0.0
    # the model's first-order decrease (newGLMNET's, LIBLINEAR's Armijo
    # rule): negative at any step that lowers the convex model
    decrease = float(g @ d) + g_b * d_b
    decrease += rho * float((np.abs(w + d) - np.abs(w)).sum())
    if not decrease < 0.0:
        return None, work
    dz = y * (X_S.T @ d + d_b)
    squared = isinstance(loss, SquaredHinge)
    u = np.maximum(1.0 - z, 0.0)
    t = 1.0
    for _ in range(NEWTON_HALVINGS):
        step = t * dz
        if squared:
            # the change per sample, without cancelling two loss values
            u_new = 1.0 - (z + step)
            both = (u > 0.0) & (u_new > 0.0)
            change = np.where(
                both, step * (step - 2.0 * u), np.maximum(u_new, 0.0) ** 2 - u * u
            )
        else:
            change = loss.loss(ones, z + step) - values
        w_new = w + t * d
        total = float(cw @ change) + 0.5 * q * float(w_new @ w_new - w @ w)
        total += rho * float((np.abs(w_new) - np.abs(w)).sum())
        total += 0.5 * p * t * d_b * (t * d_b + 2.0 * float(b[0]))
        if total <= ARMIJO * t * decrease:
            break
        t *= 0.5
    else:
        damping[0] = min(damping[0] * DAMPING_UP, 1.0)
        return None, work
    # Levenberg-Marquardt: a full step trusts the model more next time
    factor = DAMPING_DOWN if t == 1.0 else DAMPING_UP
    damping[0] = float(np.clip(damping[0] * factor, MIN_DAMPING, 1.0))
    W[0, working_set] = w_new
    b[0] += t * d_b
    z += step
    loss_grad = X_S @ (cw * loss.gradient(ones, z) * y)
    violation = float(l1_violation(w_new, loss_grad, q, rho).max(initial=0.0))
    return violation, work


def _quadratic_l1_step(H, g, w, rho, tol, budget=np.inf):
    """``argmin_d g.d + d.H.d / 2 + rho |w + d|_1``, to a violation of ``tol``.

    Coordinate descent on ``H`` (:func:`quadratic_l1_cd`) finds the signs;
    where ``H`` is ill conditioned (correlated columns: the case a Newton
    step is for) its steps shrink long before the model's minimum. Up to
    ``SIGN_ROUNDS`` rounds of an active-set method then follow (feature-sign
    search, Lee et al. 2007): the zero coordinates that violate the
    optimality conditions join the free set with the sign that lowers the
    model, the model is minimized on the free set with those signs fixed (a
    Cholesky of ``H_FF``), and the next point is the exact minimum of the
    model on the segment towards that solution (convex and piecewise
    quadratic, its pieces split where a coordinate changes sign), so every
    round lowers the model. The rounds stop before their factorizations'
    work (``|F|^3 / 3`` each) would pass ``budget``. Returns the step and
    its work in entries of an epoch (sweeps and solves, see
    ``SPARSE_GRAM_SPEEDUP`` and ``BLAS_SPEEDUP``).
    """
    m = len(w)
    d = np.zeros(m)
    H = np.ascontiguousarray(H)
    scale = np.sqrt(max(float(H.diagonal().max(initial=0.0)), 1e-300))
    sweeps = quadratic_l1_cd(H, g, w, rho, d, NEWTON_SWEEPS, tol / scale)
    solves = 0.0
    x = w + d
    for _ in range(SIGN_ROUNDS):
        factorization = np.count_nonzero(x) ** 3 / 3.0
        budget -= factorization
        if budget < 0.0:
            break
        solves += factorization
        grad = g + H @ (x - w)
        violation = l1_violation(x, grad, 0.0, rho)
        if violation.max(initial=0.0) <= tol:
            break
        # the zero coordinates that violate join with the sign that lowers
        # the model; where the solve turns one of them the other way, the
        # segment can rise at once: then the free set alone is solved, and
        # where that does not move either, sweeps move the joining ones
        joining = (x == 0.0) & (violation > tol)
        signs = np.sign(x)
        signs[joining] = -np.sign(grad[joining])
        moved = _sign_fixed_move(H, grad, x, signs, rho, scale)
        if moved is None and joining.any():
            moved = _sign_fixed_move(H, grad, x, np.sign(x), rho, scale)
        if moved is None:
            d = x - w
            sweeps += quadratic_l1_cd(H, g, w, rho, d, NEWTON_SWEEPS, tol / scale)
            moved = w + d
            if np.array_equal(moved, x):
                break
        x = moved
    work = sweeps * m * m / SPARSE_GRAM_SPEEDUP + solves / BLAS_SPEEDUP
    return x - w, work


def _sign_fixed_move(H, grad, x, signs, rho, scale):
    """The model's lowest point towards its minimum with these signs fixed.

    On the free set ``F`` (``signs != 0``) the model with fixed signs is a
    quadratic; its minimum is a step from ``x`` (the coordinates off it are 0
    already): ``H_FF delta = -(grad + rho s)_F``, solved for the step, not
    the point, so that the ridge and the rounding err by a share of the step,
    not of the coefficients. Returns :func:`_segment_minimum` towards it, or
    None (no descent, or a singular solve).
    """
    free = np.flatnonzero(signs)
    if len(free) == 0:
        return None
    H_FF = H[np.ix_(free, free)]
    # a tiny ridge: the free columns may be collinear (one-hot blocks)
    H_FF[np.diag_indices_from(H_FF)] += 1e-12 * scale * scale
    try:
        with warnings.catch_warnings():
            # an ill-conditioned H_FF (nearly collinear columns) is expected:
            # the segment's minimum judges the step it gives
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            step = scipy.linalg.solve(
                H_FF, -(grad[free] + rho * signs[free]), assume_a="pos"
            )
    except (np.linalg.LinAlgError, ValueError):
        return None
    if not np.all(np.isfinite(step)):
        return None
    direction = np.zeros(len(x))
    direction[free] = step
    return _segment_minimum(H, grad, x, direction, rho)


def _segment_minimum(H, grad, x, direction, rho):
    """The model's minimum on ``x + t direction``, ``t`` in ``[0, 1]``.

    ``grad`` is the quadratic part's gradient at ``x``. Along the segment the
    model is ``t a + t^2 c / 2 + rho |x + t direction|_1``: convex, quadratic
    between the points where a coordinate crosses 0, where its slope jumps by
    ``2 rho |direction_j|``. The minimum is in the first piece whose slope at
    its right end is not negative; the coordinate that reaches 0 at that
    piece's end is set to 0 exactly. Returns None where no point is lower
    than ``x``.
    """
    a = float(grad @ direction)
    c = float(direction @ (H @ direction))
    # the L1 part's slope on the first piece: a zero coordinate leaves 0 in
    # the direction's sign
    start_signs = np.where(x != 0.0, np.sign(x), np.sign(direction))
    slope = rho * float(start_signs @ direction)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossings = np.where(x * direction < 0.0, -x / direction, np.inf)
    order = np.argsort(crossings, kind="stable")
    order = order[crossings[order] < 1.0]
    ends = np.append(crossings[order], 1.0)
    slopes = slope + 2.0 * rho * np.concatenate(
        ([0.0], np.cumsum(np.abs(direction[order])))
    )
    lows = np.concatenate(([0.0], ends[:-1]))
    # the first piece whose slope at its right end is >= 0 holds the minimum
    rising = np.flatnonzero(a + c * ends + slopes >= 0.0)
    k = int(rising[0]) if len(rising) else len(ends) - 1
    if c > 0.0:
        t = float(np.clip(-(a + slopes[k]) / c, lows[k], ends[k]))
    else:
        t = float(ends[k])
    if not t > 0.0:
        return None
    point = x + t * direction
    # the coordinates that cross 0 where the minimum is (a piece's end, ties
    # included) land there exactly, not at a rounding's +-1e-16
    point[order[crossings[order] == t]] = 0.0
    step = point - x
    change = float(grad @ step + 0.5 * step @ (H @ step))
    change += rho * float((np.abs(point) - np.abs(x)).sum())
    return point if change < 0.0 else None


def _interior_point_pays(data, working_set, checks, tol, n_iter, max_iter):
    """Whether the interior point costs less than the epochs still needed,
    or is the fit's one chance.

    Coordinate descent still needs ``passes_needed`` epochs at its measured
    rate, each over the working set's columns; the interior point costs
    some 40 iterations of its Newton system
    (:attr:`_ColumnData.interior_point_work`). Where the rate says
    coordinate descent will miss ``max_iter``, the interior point is taken
    if it costs at most ``MISS_WORK`` times ``max_iter`` epochs over all of
    ``X``. Asked once a tenth of ``max_iter`` has run (at least
    ``HANDOVER_EPOCHS``), with the interior point's iterations left.
    """
    if n_iter < max(max_iter // 10, HANDOVER_EPOCHS) or len(checks) < 3:
        return False
    if max_iter - n_iter <= ITERATIONS_EXPECTED:
        # cut short, its early iterates are far from the optimum
        return False
    left = max_iter - n_iter
    needed = passes_needed(checks, tol)
    if not needed > 0:
        return False
    if needed > left:
        # coordinate descent will end at max_iter without a certificate:
        # the interior point is the fit's one chance, worth up to MISS_WORK
        # times max_iter epochs over every feature (the working sets' epochs
        # can be far cheaper than the interior point and as useless: 200 x
        # 3,000 sparse, C = 1, 1,000 epochs in 5 ms to a bound of 3e-2; a
        # 500 x 20,000 text set at C = 100, 25 ms to 0.82, where the
        # interior point certifies in 0.2 s)
        full = data.entries(np.arange(data.transposed.shape[0]))
        return data.interior_point_work <= MISS_WORK * max_iter * full
    return data.interior_point_work <= needed * data.entries(working_set)


def _relative_gap(results):
    """Summed gaps over summed values of the one-vs-rest columns."""
    total = sum(r.value for r in results)
    gap = sum(r.optimality * r.value for r in results)
    return gap / total if total > 0 else 0.0
