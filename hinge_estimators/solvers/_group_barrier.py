"""A barrier method for the group L1/L2 norm, L1 and the elastic net.

``gd`` solves ``penalty="l1_l2"`` over ``K > 1`` columns of a smooth margin
loss here first: the group norm couples the columns, so neither
``primal_cd``'s Newton steps nor its interior point (both per column) apply,
and proximal gradient and block coordinate descent alike crawl once the
groups that stay are ill-conditioned (digits, C = 1: both ended at
``max_iter``, ``gd`` at a bound of 8e-3). The group norm is a second-order
cone; its logarithmic barrier, minimized over the cone's height, is a
smooth function of the coefficients, and Newton's method on the smoothed
objective, with the barrier weight ``mu`` shrinking between stages, is an
interior-point method whose iterations do not depend on that conditioning.

``penalty="l1"`` and ``"elasticnet"`` of the same losses take it too, each
coefficient its own group (``|w|`` is the norm of a group of one), one
one-vs-rest column at a time, where ``gd``'s proximal steps have not
certified within three quarters of ``max_iter`` (they ended at ``max_iter``
from C = 10 on; the Gaussian hinge and the pairwise losses have no other
solver for an L1 part: ``primal_cd`` has no compiled update for them). A
pairwise loss's Hessian is formed from its products with the unit vectors
(the pairs are sorted once a step; :func:`_pairwise_hessian`).
"""

import numpy as np
import scipy.linalg

from ..penalties import L1, ElasticNet, GroupL1L2
from ._base import GAP, SolveResult, certified_columns

#: ``mu`` shrinks by this factor between stages
MU_DECREASE = 0.1
#: a stage ends once the certified gap is at most this multiple of ``mu m``
#: (``m`` groups; at a stage's minimizer the gap is about ``mu m``: each group's
#: ``r (t - r) / t``), or once its Newton steps stop
STAGE_GAP = 10.0
#: the stages stop once ``mu m`` is below this share of ``tol * P`` and a
#: stage's steps stop (rounding)
FLOOR_SHARE = 1e-3
#: a Newton step is not taken where its decrement is below this share of
#: the stage's value (rounding)
DECREMENT_FLOOR = 1e-15
#: the Newton steps the method may take (and at most ``max_iter``)
MAX_STEPS = 300
#: halvings of a Newton step before the line search gives up
HALVINGS = 40
ARMIJO = 1e-4
#: the losses whose curvature is at most this (the squared hinge's, 2):
#: a narrower one is nearly the hinge, and Newton's steps crawl there
#: (``SmoothHinge(gamma=0.1)`` on digits at C = 100: 300 steps, 2.5 s, to a
#: bound of 0.999, where the proximal steps reached a 22 % lower objective)
MAX_CURVATURE = 2.0
#: one Newton step forms ``K`` Hessians over the rows (``K n (d + 1)^2``
#: multiply-adds) and factors the ``K (d + 1)`` square system; the method
#: applies where that is at most this
STEP_WORK = 2e9
#: a group whose loss gradient lies inside the unit ball by SNAP_SHARE and,
#: in a barrier stage, whose norm is at most SNAP_MU times ``mu`` (the
#: barrier holds a group that is 0 at the optimum at a norm of order
#: ``mu``; one that is not, near its optimal norm) is set to 0 at each
#: certificate (see :func:`_certified_point`)
SNAP_MU = 100.0
SNAP_SHARE = 1e-6
#: ... and, in the last tries at the zeros, a group whose dual norm is
#: inside the ball by these shares, in turn, whatever its norm (see
#: :func:`_last_zeros`)
CLEAR_SHARES = (1e-3, 1e-1, 0.5)
#: groups below these shares of the largest are numerically 0: set to 0 at
#: the end where the certificate allows (:func:`numerical_zeros`)
NUMERICAL_ZEROS = (1e-12, 1e-10, 1e-8)
#: Newton steps of the support polish (see :func:`_support_polish`), tried
#: at a stage's end once the gap is at most POLISH_GAP of ``P`` and the
#: support has held since the last stage
POLISH_STEPS = 20
POLISH_GAP = 1e-2
#: the polish keeps the groups (L1: coefficients) whose norm is above this:
#: its Hessian divides by the norm's cube, which below 1e-103 underflows
#: to 0 (the Gaussian hinge with L1 on splice as CSR, C = 100: a
#: coefficient of 1e-160 left by the barrier, and a division by zero)
SMOOTH_FLOOR = 1e-100
#: the stages stop at ``min(INNER_SHARE * tol, INNER_TOL)``, below ``tol``
INNER_SHARE = 0.1
INNER_TOL = 1e-6
#: safeguarded Newton steps for each exact intercept, after at most
#: BRACKET_DOUBLINGS doubling steps to bracket it
INTERCEPT_STEPS = 100
BRACKET_DOUBLINGS = 60


def group_barrier_applies(objective):
    """Whether ``gd`` solves ``objective`` by :func:`group_barrier`: the group
    norm over the one-vs-rest columns, the L1 norm or the elastic net
    (``l1_ratio > 0``) of a smooth margin or pairwise loss, within
    ``STEP_WORK``; for the group norm and the piecewise quadratic losses,
    of a curvature (``hessian``) of at most ``MAX_CURVATURE``."""
    loss = objective.loss
    penalty = objective.penalty
    if type(penalty) not in (GroupL1L2, L1, ElasticNet) or _rho(objective) <= 0.0:
        return False
    if loss.is_multiclass or not loss.is_smooth:
        return False
    # Newton's steps crawl over a narrow loss's kinks (the piecewise
    # quadratic ones) and, coupled by the group norm, over its curvature; a
    # Gaussian hinge of small sigma with L1 certifies (digits, sigma 0.1, C
    # = 10 and 1000: 104 and 144 steps, where the proximal steps end at a
    # bound of 0.55 and 0.99)
    narrow_matters = type(penalty) is GroupL1L2 or loss.is_piecewise_quadratic
    if narrow_matters and not loss.smoothness(1) <= MAX_CURVATURE:
        return False
    K, size = objective.n_outputs, objective.n_features + 1
    work = K * objective.n_samples * float(size) ** 2 + (K * size) ** 3 / 3.0
    return work <= STEP_WORK


def _rho(objective):
    """The weight of the penalty's non-smooth part (1, or ``l1_ratio``)."""
    return float(objective.penalty.nonsmooth_value(np.ones((1, 1))))


def _grouped(objective):
    """Whether the groups are the features across the columns (the group
    norm), or the coefficients one by one (L1, the elastic net)."""
    return type(objective.penalty) is GroupL1L2


def _as_groups(objective, A):
    """``A`` (``K x d``, like ``W``) with one group per column: itself for
    the group norm, its coefficients as one row for L1 (``1 x K d``)."""
    return A if _grouped(objective) else A.reshape(1, -1)


def _cone(W, mu):
    """Per group ``j`` (a column of ``W``): the norm ``r``, the cone height
    ``t`` that minimizes ``t - mu log(t^2 - r^2)``, that minimum ``h(r)`` (a
    smooth function of ``W_j`` above ``r``) and ``sqrt(mu^2 + r^2)``; ``mu
    = 0`` gives the norm itself (``t = h = r``)."""
    r2 = np.square(W).sum(axis=0)
    root = np.sqrt(mu * mu + r2)
    t = mu + root
    if mu == 0.0:
        return root, t, t, root
    # t^2 - r^2 = 2 mu t at the minimizing t
    return np.sqrt(r2), t, t - mu * np.log(2.0 * mu * t), root


def _barrier_parts(objective, W, mu):
    """Value, gradient ``rho W_j / t_j`` and the ``(d, K, K)`` Hessian blocks
    ``rho (I / t - W_j W_j^T / (t^2 sqrt(mu^2 + r^2)))`` of ``rho sum_j
    h(||W_j||)`` over the groups (see :func:`_as_groups`; for L1 each block
    is diagonal, a coefficient's ``rho (1 / t - w^2 / (t^2 sqrt(mu^2 +
    w^2)))`` per column)."""
    rho = _rho(objective)
    groups = _as_groups(objective, W)
    _, t, h, root = _cone(groups, mu)
    grad = (rho * groups / t).reshape(W.shape)
    if _grouped(objective):
        K = W.shape[0]
        blocks = np.eye(K)[None, :, :] / t[:, None, None]
        blocks -= np.einsum("kj,lj->jkl", W, W) / (t * t * root)[:, None, None]
    else:
        curvature = (1.0 / t - groups[0] ** 2 / (t * t * root)).reshape(W.shape)
        blocks = np.einsum("kj,kl->jkl", curvature, np.eye(W.shape[0]))
    return rho * float(h.sum()), grad, rho * blocks


def _n_groups(objective):
    """The groups' count: the features, or every coefficient for L1."""
    K, d = objective.n_outputs, objective.n_features
    return d if _grouped(objective) else K * d


def group_barrier(objective, tol, max_iterations, callback=None, start=None):
    """Minimize ``objective`` (see :func:`group_barrier_applies`) by the
    barrier method of :func:`_barrier`: at once for the group norm (it
    couples the one-vs-rest columns), column by column for L1 and the
    elastic net (:func:`solve_columns`: the columns do not interact, each
    step factors a ``d + 1`` square system instead of the ``K (d + 1)``
    one, and the support polish applies per column), certified by the
    columns' summed gaps."""
    if _grouped(objective) or objective.n_outputs == 1:
        return _barrier(objective, tol, max_iterations, callback, start)

    def column(part, begin):
        result = _barrier(part, tol, max_iterations, None, begin)
        if result is None:  # no step: the column stays at 0, unbounded
            zeros = part.zeros()
            return SolveResult(zeros, 0, False, float(part.value(zeros)), np.inf)
        return result

    return certified_columns(column, objective, start, tol, "barrier method", callback)


def _barrier(objective, tol, max_iterations, callback=None, start=None):
    """Minimize ``objective`` (see :func:`group_barrier_applies`) by the barrier method.

    Each stage minimizes the loss plus ``sum_j h_mu(||W_j||)`` by Newton's
    method (the ``K (d + 1)`` square Hessian formed and factored, an Armijo
    search) from the previous stage's point; ``h_mu(r) = min_{t > r} t - mu
    log(t^2 - r^2)`` tends to ``r`` as ``mu`` shrinks. After every step the
    point is certified by :meth:`LinearObjective.duality_gap`, with the
    intercepts solved for exactly and the groups the barrier holds near 0
    (their loss gradient inside the unit ball) set to 0; a stage ends once
    that gap is within ``STAGE_GAP * mu m`` (``m`` groups: the features, or
    the coefficients for L1; what its minimizer reaches),
    then ``mu`` shrinks tenfold, and once the support holds the norm is
    smooth on it: Newton's method on the exact objective there
    (:func:`_support_polish`) lands on the optimum itself. Returns a
    :class:`SolveResult` (its iterations are the Newton steps, its point the
    best certified), or None where no step could be taken.

    ``start`` (coefficients: a path's previous solution) starts the stages
    there, at the ``mu`` whose stage minimizer has about that point's
    certified gap (``gap / m``), instead of at 0 with a tenth of ``P(0)``.
    """
    K, d = objective.n_outputs, objective.n_features
    W, b = np.zeros((K, d)), np.zeros(K)
    if start is not None:
        W0, b0 = objective.split(np.asarray(start, dtype=np.float64))
        if np.all(np.isfinite(W0)) and W0.any():
            W, b = W0.copy(), np.array(b0, dtype=np.float64)
    if objective.fit_intercept:
        # at b = 0 a loss can have no curvature (the smooth hinge, gamma = 1,
        # has none at the margin 0): the intercepts' rows of the first
        # Hessian were 0 and the barrier could not start
        b = _exact_intercepts(objective, W, b)
    P0 = float(objective.value(objective.join(W, b)))
    if P0 == 0.0:  # P >= 0: optimal at 0 (no sample of weight)
        return SolveResult(objective.join(W, b), 0, True, 0.0, 0.0)
    # the stages aim below tol: near it the groups that leave are still at
    # 1e-6 and setting them to 0 moves the gap past tol (wine, C = 0.005);
    # ending at the first point within tol whose zeros' last try kept it
    # there was up to 2.4 times faster (satimage, Gaussian hinge, L1) but
    # left the zeros unset (breast cancer, L1, C = 0.1: 30 non-zero
    # coefficients where the optimum has 10; digits' group norm 610 for 570)
    user_tol, tol = tol, min(INNER_SHARE * tol, INNER_TOL)
    # the first mu: the barrier's part of the gap, about mu m (m groups), a
    # tenth of P(0)
    m = _n_groups(objective)
    mu = max(0.1 * P0 / m, np.finfo(float).tiny)
    if W.any():  # a start: its own gap sets mu
        coef, gap, primal = _certified_point(objective, W, b, 0.0, tol)
        if gap <= user_tol * primal:
            return SolveResult(coef, 0, True, float(primal), float(gap / primal))
        W, b = (np.array(part) for part in objective.split(coef))
        mu = max(min(mu, gap / m), np.finfo(float).tiny)
    state = _stage_value(objective, W, b, mu)
    steps, history, best, support = 0, [], None, None
    while steps < max_iterations:
        moved = _newton_step(objective, W, b, mu, state)
        if moved is not None:
            W, b, state, decrement = moved
            steps += 1
            if decrement > STAGE_GAP * mu * m:
                # far from the stage's minimizer: its certificate (exact
                # intercepts, two gaps) would not end the stage
                continue
        coef, gap, primal = _certified_point(objective, W, b, mu, tol)
        relative = gap / primal if primal > 0 else 0.0
        history.append(primal)
        if best is None or relative < best[1]:
            best = (coef, relative, primal)
        if callback is not None:
            callback(steps, primal, relative, GAP, coef, objective)
        if relative <= tol:
            break
        if moved is not None and gap > STAGE_GAP * mu * m:
            continue
        # the stage is done
        if moved is None and mu * m <= FLOOR_SHARE * tol * primal:
            break  # rounding: nothing more to gain
        kept = _polish_support(objective.split(coef)[0])
        if (
            relative <= POLISH_GAP
            and np.array_equal(kept, support)
            and _smooth_on(objective, objective.split(coef)[0], kept)
        ):
            polished = _support_polish(
                objective, coef, kept, min(POLISH_STEPS, max_iterations - steps), tol
            )
            steps += polished[3]
            if polished[1] < best[1] * best[2]:
                best = (polished[0], polished[1] / polished[2], polished[2])
            if best[1] <= tol:
                break
        support = kept
        mu *= MU_DECREASE
        state = _stage_value(objective, W, b, mu)
    if best is None or steps == 0:
        return None
    budget = max(max_iterations - steps, 0)
    coef, optimality, primal, spent = _last_zeros(objective, best, mu, user_tol, budget)
    steps += spent
    converged = optimality <= user_tol
    return SolveResult(
        coef=coef,
        n_iter=int(steps),
        converged=bool(converged),
        value=float(primal),
        optimality=float(optimality),
        history=history,
        message=(
            "relative duality gap below tol (barrier method)"
            if converged
            else "the barrier method stopped above tol"
        ),
    )


def numerical_zeros(objective, coef, optimality, primal, tol):
    """``(coef, optimality, P)`` with the groups below a share of the largest
    (``NUMERICAL_ZEROS``, the largest share whose point
    :meth:`LinearObjective.duality_gap` still certifies within
    ``max(optimality, tol)``) set to 0; else as given.

    ``gd``'s answer, whichever route or stage gave it: the barrier's last
    snaps take the groups the dual puts inside the ball, and a zero of the
    optimum whose dual lies on its boundary stays at a barrier's
    rounding-level size (digits, L1 at C = 1000: 12 coefficients at 1e-9
    to 1e-12 of the largest, 439 non-zero where ``primal_cd`` finds 426);
    the proximal steps' Newton certification leaves such sizes too (1e-25
    under another OpenBLAS kernel, where they certified first).
    """
    W, b = objective.split(coef)
    groups = _as_groups(objective, W)
    sizes = np.sqrt(np.square(groups).sum(axis=0))
    largest = float(sizes.max(initial=0.0))
    best = (coef, optimality, primal)
    for share in NUMERICAL_ZEROS:
        small = (sizes > 0.0) & (sizes <= share * largest)
        if not small.any():
            continue
        snapped = groups.copy()
        snapped[:, small] = 0.0
        snapped_coef = objective.join(snapped.reshape(W.shape), b)
        gap, value = objective.duality_gap(snapped_coef)
        if not gap <= max(optimality, tol) * value:
            break
        best = (snapped_coef, gap / value if value > 0 else 0.0, value)
    return best


def _last_zeros(objective, best, mu, tol, budget=POLISH_STEPS):
    """``(coef, optimality, P, steps)``: ``best`` (the first three) with the
    support polish's Newton steps (at most ``budget``), and the groups
    the dual puts inside the ball set to 0, where the point stays certified
    within ``max(optimality, tol)``: every such group whatever its norm (a
    stage that certified early leaves some at 1e-6); where that takes
    groups of the optimum too (L1 on breast cancer: the stages leave the
    kept coefficients' ``|V|`` at ``1 - 3e-6``, inside the snapping's ``1 -
    1e-6``, and all 28 snapped took the gap from 6e-6 to 15.6), those the
    last stage holds at its ``mu``'s size or that are clearly inside, with
    Newton steps on the support left where the snap alone moved the gap
    past it; a try refused (one group of the optimum among those snapped
    cancels the snap: breast cancer, squared hinge, C = 10, a coefficient of
    -4.9e-5 with its dual at 0.985 kept another of -8.9e-6 with 0.38) is
    followed by one with a stricter share (``CLEAR_SHARES``)."""
    coef, optimality, primal = best
    zeros = np.count_nonzero(coef == 0.0)
    spent = []  # the support polish's Newton steps, counted in n_iter
    tries = [(0.0, None)] + [(mu, share) for share in CLEAR_SHARES]
    for size_mu, share in tries:
        steps = min(POLISH_STEPS, budget - sum(spent)) if share is not None else 0
        final = _certified_point(
            objective, *objective.split(coef), size_mu, tol, share, steps, spent
        )
        if final[1] <= max(optimality, tol) * final[2]:
            coef, optimality, primal = final[0], final[1] / final[2], final[2]
        if np.count_nonzero(coef == 0.0) > zeros:
            break
    return coef, optimality, primal, sum(spent)


def _stage_value(objective, W, b, mu):
    """The stage's objective at ``(W, b)``: value, gradient ``(gW, gb)``,
    the scores and the barrier's Hessian blocks."""
    coef = objective.join(W, b)
    scores = objective.scores(coef)
    value, grad = objective.smooth_value_and_gradient(coef, scores)
    gW, gb = objective.split(grad)
    barrier, barrier_grad, blocks = _barrier_parts(objective, W, mu)
    return value + barrier, gW + barrier_grad, np.array(gb), scores, blocks


def _newton_step(objective, W, b, mu, state):
    """One damped Newton step of a stage: ``(W, b, state, decrement)``, or
    None where the decrement ``g.H^-1.g / 2`` is at rounding level or the
    line search found no decrease."""
    K, d = W.shape
    intercept = objective.fit_intercept
    size = d + int(intercept)
    value, gW, gb, scores, blocks = state
    grad = (np.hstack([gW, gb[:, None]]) if intercept else gW).ravel()
    factor = _factor(_stage_hessian(objective, scores, blocks, size))
    if factor is None or not np.isfinite(value):
        return None
    step = -scipy.linalg.cho_solve(factor, grad, check_finite=False)
    slope = float(grad @ step)
    if not -0.5 * slope > DECREMENT_FLOOR * max(abs(value), 1.0):
        return None
    step = step.reshape(K, size)
    dW, db = step[:, :d], (step[:, d] if intercept else np.zeros(K))
    # the scores are affine in the coefficients: a trial's are scores + t dS,
    # and its value needs no product with X (the gradient, only once a
    # trial is taken: the line search halves often at a large C)
    dS = objective.scores(objective.join(dW, db))
    t = 1.0
    for _ in range(HALVINGS):
        with np.errstate(divide="ignore", invalid="ignore"):
            trial = _trial_value(objective, W + t * dW, b + t * db, scores + t * dS, mu)
        if trial <= value + ARMIJO * t * slope:
            with np.errstate(divide="ignore", invalid="ignore"):
                state = _stage_value(objective, W + t * dW, b + t * db, mu)
            if np.isfinite(state[0]) and np.all(np.isfinite(state[1])):
                return W + t * dW, b + t * db, state, -0.5 * slope
        t *= 0.5
    return None


def _trial_value(objective, W, b, scores, mu):
    """The stage's objective at ``(W, b)`` from its ``scores``."""
    value, _ = objective.score_gradient_from_scores(scores)
    value += 0.5 * objective.reg * float(np.vdot(W, W))
    if objective.fit_intercept:
        value += 0.5 * objective.intercept_penalty * float(b @ b)
    return value + _rho(objective) * float(_cone(_as_groups(objective, W), mu)[2].sum())


def _stage_hessian(objective, scores, blocks, size):
    """The stage's ``K size`` square Hessian: each column's generalized
    Hessian (:func:`formed_hessian`, over its rows of non-zero curvature),
    plus the barrier's ``K x K`` block of each feature across the columns."""
    from .._objective import formed_hessian

    K, d = objective.n_outputs, objective.n_features
    if objective.loss.is_pairwise:
        H = _pairwise_hessian(objective, scores, size)
        features = np.arange(d)
        H[features[:, None], features] += blocks[:, 0, 0] * np.eye(d)
        return H
    weights = objective.loss_scale * objective.sample_weight
    X = objective.X
    H = np.zeros((K, size, K, size))
    for k in range(K):
        curvature = weights * objective.loss.hessian(objective.y[:, k], scores[:, k])
        rows = np.flatnonzero(curvature)
        H[k, :, k, :] = formed_hessian(objective.column(k), X[rows], curvature[rows])
    features = np.arange(d)
    H[:, features, :, features] += blocks
    return H.reshape(K * size, K * size)


def _pairwise_hessian(objective, scores, size):
    """A pairwise loss's Hessian in the coefficients (one score column, no
    intercept), formed by its products with the ``size`` unit vectors: the
    loss sorts the scores once (``pair_hessian_operator``), and each product
    costs ``X v``, ``O(n)`` for the pairs and ``X^T u``."""
    if size == 0:  # no feature kept (the support polish at 0)
        return np.zeros((0, 0))
    curved = objective.loss.pair_hessian_operator(
        objective.y, scores, objective.sample_weight
    )
    columns = []
    for j in range(size):
        v = np.zeros(size)
        v[j] = 1.0
        direction = objective.scores(v)
        G = objective.loss_scale * curved(direction).reshape(direction.shape)
        columns.append(objective._adjoint(G) + objective._penalty_gradient(v))
    H = np.column_stack(columns)
    return 0.5 * (H + H.T)


def _factor(matrix):
    """``cho_factor`` of ``matrix``, with the smallest ridge that works
    (a free intercept's row is 0 where no sample has curvature), or None."""
    top = float(np.abs(matrix.diagonal()).max(initial=0.0))
    if not (np.isfinite(top) and top > 0.0):
        return None
    ridge = 0.0
    while ridge <= 1e-6 * top:
        try:
            shifted = matrix + ridge * np.eye(len(matrix)) if ridge else matrix
            return scipy.linalg.cho_factor(shifted, lower=False, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            ridge = 1e-14 * top if ridge == 0.0 else 100.0 * ridge
    return None


def _certified_point(objective, W, b, mu, tol, clear=None, polish_steps=0, spent=None):
    """``(coef, gap, P)`` with the intercepts exact and the groups the dual
    puts inside the unit ball set to 0 where that keeps the point certified
    (or its gap no higher).

    A group is set to 0 where its loss gradient ``V_j`` has ``||V_j|| < 1 -
    SNAP_SHARE`` (0 is optimal for it where ``V`` is the optimum's) and, in
    a barrier stage, its norm is at most ``SNAP_MU * mu`` (the barrier holds
    such groups at a norm of order ``mu``); the intercepts are then solved
    for again. The intercepts are solved for exactly because the gap's dual
    point must sum to 0 over the samples of each column: the loss gradient
    left by a stage's Newton steps misses that by a little, which the gap's
    rescaling turns into much (nearly separable wine at C = 100: a stage's
    decrement of 1e-7 left 1e-2 in the intercepts' gradient and a relative
    gap of 2e-2). Where the snapped point's gap is too high, up to
    ``polish_steps`` Newton steps on its support (:func:`_support_polish`;
    appended to ``spent``)
    may bring it back: setting groups of ``1e-5`` to 0 moves the kept ones
    off their optimum, and their duals past the ball's edge (a 5,000 x 600
    CSR set, L1: 337 coefficients of the 600 left non-zero, the snap's gap
    1.6e-3 where tol asked 1e-4).
    """
    if objective.fit_intercept:
        b = _exact_intercepts(objective, W, b)
    coef = objective.join(W, b)
    gap, primal = objective.duality_gap(coef)
    rho = _rho(objective)
    norms = np.sqrt(np.square(_as_groups(objective, W)).sum(axis=0))
    dual_norms = _dual_norms(objective, coef)
    inside = (dual_norms < rho * (1.0 - SNAP_SHARE)) & (norms > 0.0)
    if mu > 0.0:
        small = norms <= SNAP_MU * mu
        if clear is not None:
            # or inside by ``clear``: a group of the optimum sits at ``rho
            # |w| / t``, ``rho (1 - O(mu / |w|))``, so one this far inside is
            # at most about ``mu / clear`` in size (breast cancer, L1: a
            # coefficient of 2e-6 with |V| = 0.992, over SNAP_MU mu)
            small |= dual_norms < rho * (1.0 - clear)
        inside &= small
    if inside.any():
        snapped = _as_groups(objective, W.copy())
        snapped[:, inside] = 0.0
        snapped = snapped.reshape(W.shape)
        if objective.fit_intercept:
            b = _exact_intercepts(objective, snapped, b)
        snapped_coef = objective.join(snapped, b)
        snapped_gap, snapped_primal = objective.duality_gap(snapped_coef)
        if snapped_gap <= max(gap, tol * snapped_primal) and _zeros_hold(
            objective, snapped_coef, inside
        ):
            return snapped_coef, snapped_gap, snapped_primal
        kept = _polish_support(snapped)
        if polish_steps > 0 and _smooth_on(objective, snapped, kept):
            polished = _support_polish(objective, snapped_coef, kept, polish_steps, tol)
            if spent is not None:
                spent.append(polished[3])
            if polished[1] <= max(gap, tol * polished[2]) and _zeros_hold(
                objective, polished[0], inside
            ):
                return polished[:3]
    return coef, gap, primal


def _zeros_hold(objective, coef, snapped):
    """Whether the groups ``snapped`` (set to 0) are optimal at 0 at
    ``coef``: their loss gradient's norm at most ``rho``. A snap within tol
    can still take a group of the optimum (a coefficient of -3.8e-4 returned
    as 0 with its dual at 0.514 over ``rho = 0.5``)."""
    dual_norms = _dual_norms(objective, coef)
    return bool(np.all(dual_norms[snapped] <= _rho(objective) * (1.0 + SNAP_SHARE)))


def _dual_norms(objective, coef):
    """Each group's norm of the loss gradient ``V = X^T G`` at ``coef`` (in
    the groups of :func:`_as_groups`): a group is 0 at the optimum where
    that is below ``rho`` there."""
    _, G = objective.score_gradient_from_scores(objective.scores(coef))
    V, _ = objective.split(objective._adjoint(G))
    return np.sqrt(np.square(_as_groups(objective, V)).sum(axis=0))


def _exact_intercepts(objective, W, b):
    """Each column's intercept minimizing ``P`` with ``W`` held: the root of
    the non-decreasing ``g(b) = sum_i c_i y_i phi'(y_i (s_i + b)) + p b``.

    The root is bracketed first, by steps from ``b`` that double (a root
    where ``g`` changes sign within ``2^BRACKET_DOUBLINGS`` of ``b``; none,
    as where every sample of weight is in one class and ``p = 0``, leaves
    ``b``), then found by Newton steps kept inside the bracket, bisecting
    where a step leaves it: a Newton step from a half-open bracket jumped
    to 1e300 where the Gaussian hinge's curvature was subnormal.
    """
    coef = objective.join(W, np.zeros_like(b))
    scores = objective.scores(coef)
    weights = objective.loss_scale * objective.sample_weight
    p = objective.intercept_penalty
    loss = objective.loss
    b = np.array(b, dtype=np.float64)
    for k in range(objective.n_outputs):
        y, s = objective.y[:, k], scores[:, k]

        def slope(value, y=y, s=s):
            _, g = loss.loss_gradient(y, s + value)
            return float(weights @ g) + p * value

        start = float(b[k])
        g = slope(start)
        if g == 0.0:
            continue
        # the bracket: [low, high] with g(low) < 0 < g(high)
        step = -np.sign(g) * max(1.0, abs(start))
        far, g_far = start, g
        for _ in range(BRACKET_DOUBLINGS):
            far = start + step
            g_far = slope(far)
            if np.sign(g_far) != np.sign(g):
                break
            step *= 2.0
        if np.sign(g_far) == np.sign(g):
            continue  # no root within reach: b stays
        (low, g_low), (high, g_high) = sorted([(start, g), (far, g_far)])
        value, g = (low, g_low) if abs(g_low) < abs(g_high) else (high, g_high)
        scale = float(weights.sum()) * max(1.0, abs(value))
        for _ in range(INTERCEPT_STEPS):
            if abs(g) <= 1e-15 * scale or high - low <= 1e-15 * max(1.0, abs(value)):
                break
            curvature = float(weights @ loss.hessian(y, s + value)) + p
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                # a subnormal curvature overflows the step: bisect instead
                trial = value - g / curvature if curvature > 0 else np.nan
            if not low < trial < high:
                trial = 0.5 * (low + high)
            value, g = trial, slope(trial)
            if g < 0:
                low = value
            elif g > 0:
                high = value
        b[k] = value
    return b


def _polish_support(W):
    """The features whose group's norm passes ``SMOOTH_FLOOR``: the
    polish's support (the others are numerically 0)."""
    return np.flatnonzero(np.sqrt(np.square(W).sum(axis=0)) > SMOOTH_FLOOR)


def _smooth_on(objective, W, kept):
    """Whether the penalty is smooth at ``W`` over the features ``kept`` (the
    polish's Newton steps need that): every kept group's norm passes
    ``SMOOTH_FLOOR``, and for L1 every kept feature's coefficient in every
    column."""
    return _grouped(objective) or bool(np.all(np.abs(W[:, kept]) > SMOOTH_FLOOR))


def _support_polish(objective, coef, kept, budget, tol):
    """Newton steps on the exact objective over the groups ``kept`` (the
    others held at 0), where every norm is positive and smooth, each
    followed by the certificate (exact intercepts), until it holds ``tol``
    or stops improving: ``(coef, gap, P, steps)`` of the best point. The
    gap, a first-order measure, lags the Newton decrement on nearly
    separable data, so the steps stop on it."""
    W, b = objective.split(coef)
    part = objective.features(kept)
    W_S, b = W[:, kept].copy(), np.array(b)
    best = (coef, *objective.duality_gap(coef))
    state = _stage_value(part, W_S, b, 0.0)
    steps = 0
    while steps < budget:
        moved = _newton_step(part, W_S, b, 0.0, state)
        if moved is None:
            break
        W_S, b, state, _ = moved
        steps += 1
        full = np.zeros_like(W)
        full[:, kept] = W_S
        candidate = _certified_point(objective, full, b, 0.0, tol)
        if candidate[1] >= best[1]:
            break  # the steps no longer help (the support is wrong)
        best = candidate
        if best[1] <= tol * best[2]:
            break
    return (*best, steps)
