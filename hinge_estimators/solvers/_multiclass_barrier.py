"""A barrier method for the multiclass hinges with sparse penalties.

``gd`` solves the Crammer-Singer and Weston-Watkins losses (plain or
squared, unsmoothed) under ``penalty="l1_l2"`` here first (under ``"l1"``
and ``"elasticnet"`` by the primal-dual interior point of
:mod:`._multiclass_primal_dual`, which shares this module's pieces: the
hinge terms, the certificate, the normal equations). Their only other
route is ``gd``'s smoothing stages with proximal steps, which converge as
``O(1/eps)`` and ended at ``max_iter`` in 81 of 108 default fits on iris,
wine and digits (C = 0.1, 1, 10; the three penalties), most without any
certified bound. No coordinate method exists for them here (``primal_cd``
is binary), and ``dual_cd`` and the multiclass interior point solve the L2
penalty's dual only.

The problem is a second-order cone program (a linear or quadratic one with
L1 or the elastic net). Each hinge term and each penalty group gets a
logarithmic barrier whose slack is minimized out, which leaves a smooth,
strictly convex function of the coefficients; Newton's method on it, with
the barrier weight ``mu`` shrinking between stages, is an interior-point
method. Its steps are damped wherever a hinge term crosses its kink (50 to
250 a solve); a primal-dual method on the cone (Nesterov-Todd scaling)
would take far fewer, as the primal-dual one does on L1.
"""

import functools

import numpy as np
import scipy.sparse as sp

from ..losses import CrammerSinger, WestonWatkins
from ..penalties import L1, ElasticNet, GroupL1L2
from ._base import GAP, SolveResult
from ._group_barrier import (
    ARMIJO,
    FLOOR_SHARE,
    HALVINGS,
    MU_DECREASE,
    STAGE_GAP,
    _barrier_parts,
    _cone,
    newton_direction,
)
from ._multiclass_interior_point import wrong_classes

# the stages' schedule, the Newton steps' line search and their limits are
# the group barrier's (the same method on another barrier): MU_DECREASE,
# STAGE_GAP (a stage ends at a certified gap of STAGE_GAP mu nu, ``nu`` the
# barrier's degree: at a stage's minimizer each logarithm leaves about mu of
# gap), FLOOR_SHARE, HALVINGS, ARMIJO, its Newton direction and (in gd) its
# MAX_STEPS
#: the stages stop after this many in a row that did not halve the best
#: certified gap
IDLE_STAGES = 2
#: a trial within this share of the value is at its rounding
ROUNDING = 1e-13
#: the method applies where one Newton step's work (:func:`step_work`) is
#: at most this: it takes 50 to 250 steps (a primal barrier, whose steps are
#: damped wherever a hinge term crosses its kink), 7 to 10 s on digits
#: (1,797 x 64, 10 classes, a step's work 5.1e8) at C = 0.1 to 10
STEP_WORK = 6e8
#: a coefficient (L1, elastic net) or a group whose dual ``|V_j|`` lies
#: inside the penalty's ball by SNAP_SHARE and, in a barrier stage, whose
#: size is at most SNAP_MU times the barrier's ``mu / rho`` (the barrier
#: holds what is 0 at the optimum at a size of that order) is set to 0 at
#: each certificate
SNAP_MU = 100.0
SNAP_SHARE = 1e-6
#: the stages aim at this share of ``tol``: the coefficients the barrier
#: holds near 0 are set to 0 only at a certificate, which moves the gap
INNER_SHARE = 0.1
#: Newton iterations of the slacks' one-dimensional equations
SLACK_STEPS = 100


def sparse_multiclass(objective):
    """Whether ``objective`` is a plain or squared (unsmoothed)
    Crammer-Singer or Weston-Watkins loss with an L1, elastic-net
    (``l1_ratio > 0``) or group L1/L2 penalty, in uncentered coordinates:
    the problems of this module and of :mod:`._multiclass_primal_dual`."""
    loss = objective.loss
    if type(loss) not in (CrammerSinger, WestonWatkins) or loss.smoothing > 0:
        return False
    if type(objective.penalty) not in (L1, ElasticNet, GroupL1L2):
        return False
    return _rho(objective) > 0.0 and objective.offset is None


def step_work(objective):
    """One Newton step's multiply-adds: ``K (K + 1) / 2`` weighted Gram
    matrices of the rows (``n (d + 1)^2`` each) and the Cholesky of the ``K
    (d + 1)`` square system."""
    K, size = objective.n_outputs, objective.n_features + 1
    work = K * (K + 1) / 2 * objective.n_samples * float(size) ** 2
    return work + (K * size) ** 3 / 3.0


def multiclass_barrier_applies(objective):
    """Whether ``gd`` solves ``objective`` by :func:`multiclass_barrier`: a
    :func:`sparse_multiclass` problem with the group norm, within
    ``STEP_WORK`` (L1 and the elastic net go to the primal-dual method), and
    with a free intercept only where every class has a sample of weight."""
    if not sparse_multiclass(objective) or type(objective.penalty) is not GroupL1L2:
        return False
    if objective.fit_intercept and objective.intercept_penalty == 0.0:
        # a class with no sample of weight: its free intercept's optimum is
        # any low enough value, and each hinge term's barrier keeps pulling
        # it lower (to -4e5 on a 30-sample problem)
        weights = objective.loss_scale * objective.sample_weight
        codes = np.asarray(objective.y, dtype=np.intp)[weights > 0.0]
        if np.any(np.bincount(codes, minlength=objective.n_outputs) == 0):
            return False
    return step_work(objective) <= STEP_WORK


def starting_point(objective, start):
    """``(W, b)``: ``start``'s coefficients where it has finite, non-zero
    ones (its intercepts with a free intercept), else zeros."""
    K, d = objective.n_outputs, objective.n_features
    W, b = np.zeros((K, d)), np.zeros(K)
    if start is not None:
        W0, b0 = objective.split(np.asarray(start, dtype=np.float64))
        if np.all(np.isfinite(W0)) and np.all(np.isfinite(b0)) and W0.any():
            W = W0.copy()
            if objective.fit_intercept:
                b = np.array(b0, dtype=np.float64)
    return W, b


def _rho(objective):
    """The weight of the penalty's non-smooth part (1, or ``l1_ratio``)."""
    return float(objective.penalty.nonsmooth_value(np.ones((1, 1))))


class _Hinges:
    """The loss's hinge terms, their barrier and their dual.

    Each sample ``i`` of weight ``c_i > 0`` has wrong-class margins ``u_r =
    delta + s_r - s_{y_i}``. Weston-Watkins has one term per margin,
    Crammer-Singer one per sample over all its margins; a term's loss is
    ``c xi^p`` at the smallest ``xi >= 0`` with ``xi >= u_r`` (``p = 2``
    squared). The barrier replaces it by

    .. math:: \\phi_\\mu(u) = \\min_\\xi\\; c\\,\\xi^p - \\mu \\log \\xi
              - \\mu \\textstyle\\sum_r \\log(\\xi - u_r),

    smooth and convex in ``u``; its gradient ``theta_r = mu / (xi - u_r)``
    is a feasible dual point (``theta >= 0``, and for the plain hinge ``c =
    mu / xi + sum_r theta_r`` bounds the multipliers by ``c``).
    """

    def __init__(self, objective):
        loss = objective.loss
        codes = np.asarray(objective.y, dtype=np.intp)
        K = objective.n_outputs
        weights = objective.loss_scale * objective.sample_weight
        # the design matrix the normal equations are formed from: centered
        # (a dense copy) where the objective is
        X = objective.X
        self.X = X if objective.offset is None else np.asarray(X) - objective.offset
        self.rows = np.flatnonzero(weights > 0.0)
        self.codes = codes[self.rows]
        self.wrong = wrong_classes(self.codes, K)
        self.c = weights[self.rows]
        self.delta = float(loss.delta)
        self.power = 2 if loss.squared else 1
        self.simplex = type(loss) is CrammerSinger
        self.K = K
        m = self.rows.size
        # each logarithm leaves about mu of gap at a stage's minimizer:
        # Weston-Watkins two per term, Crammer-Singer K per sample
        self.degree = m * (2 * (K - 1) if not self.simplex else K)

    def margins(self, scores):
        """``u`` (m, K - 1): ``delta + s_r - s_y`` over the wrong classes."""
        S = scores[self.rows]
        index = np.arange(self.rows.size)
        true = S[index, self.codes][:, None]
        return self.delta + S[index[:, None], self.wrong] - true

    def _terms(self, u):
        """The margins grouped by term: ``(m', r)`` with their weights."""
        if self.simplex:
            return u, self.c
        return u.reshape(-1, 1), np.repeat(self.c, self.K - 1)

    def barrier(self, scores, mu, derivatives=True):
        """Value of ``sum phi_mu``; with ``derivatives`` also ``theta`` (m,
        K - 1) and the margins' Hessian: per term ``diag(a) - a a^T / g``
        (for Crammer-Singer its factors ``(label, a, g)``, the diagonal ``(m, K-1)`` for
        Weston-Watkins, whose terms are one margin each)."""
        u = self.margins(scores)
        U, c = self._terms(u)
        p = self.power
        # distances to each logarithm's pole from xi = top + delta_: top is
        # max(0, max u), so every distance is a sum of non-negatives (no
        # cancellation however large the margins)
        top = np.maximum(U.max(axis=1), 0.0)
        gaps = np.concatenate([top[:, None], top[:, None] - U], axis=1)
        step = _slack(gaps, top, c, p, mu)
        xi = top + step
        distance = step[:, None] + gaps
        value = float(np.sum(c * xi**p) - mu * np.sum(np.log(distance)))
        if not derivatives:
            return value
        theta = mu / distance[:, 1:]
        a = theta * theta / mu
        g = mu * np.sum(1.0 / (distance * distance), axis=1)
        if p == 2:
            g = g + 2.0 * c
        if self.simplex:
            # diag(a) - a a^T / g, kept in its factors
            hessian = ("diagonal plus rank one", a, g)
        else:
            hessian = (a[:, 0] - a[:, 0] ** 2 / g).reshape(u.shape)
            theta = theta.reshape(u.shape)
        return value, theta, hessian

    def linearized(self, theta, hessian, du):
        """The multipliers after a step that moves the margins by ``du``, to
        first order (``theta + B du``, ``B`` the margins' Hessian: the
        Jacobian of ``theta``), made feasible (:meth:`feasible`).

        At a small ``mu`` the multipliers of the terms at their kinks move
        by O(1) under rounding-level moves of the margins, so the exact
        ``theta`` at a point balances the intercepts and the penalty's
        stationarity poorly; the linearized ones satisfy the Newton step's
        linearized conditions, up to its second-order error."""
        if self.simplex:
            _, a, g = hessian
            moved = theta + a * du - a * np.sum(a * du, axis=1)[:, None] / g[:, None]
        else:
            moved = theta + hessian * du
        return self.feasible(moved)

    def feasible(self, theta):
        """Multipliers ``(m, K - 1)`` made a feasible dual point:
        non-negative, and for the plain hinge at most ``c`` each
        (Weston-Watkins) or in sum (Crammer-Singer)."""
        moved = np.maximum(theta, 0.0)
        if self.power == 1:
            if self.simplex:
                total = moved.sum(axis=1)
                over = total > self.c
                moved[over] *= (self.c[over] / total[over])[:, None]
            else:
                moved = np.minimum(moved, self.c[:, None])
        return moved

    def score_gradient(self, theta, n):
        """``G`` (n, K): the margins' gradient ``theta`` mapped to the scores
        (``+theta_r`` at a wrong class, ``-sum_r theta_r`` at the true one)."""
        G = np.zeros((n, self.K))
        G[self.rows[:, None], self.wrong] = theta
        G[self.rows, self.codes] = -theta.sum(axis=1)
        return G

    def score_hessian(self, hessian, n):
        """``(n, K, K)``: each sample's margin Hessian ``B`` mapped to the
        scores, ``E^T B E`` with ``E``'s rows ``e_r - e_y``; ``B`` is
        ``diag(a) - a a^T / g`` (Crammer-Singer) or diagonal (Weston-Watkins),
        scattered entry by entry (no ``(n, K - 1, K)`` products)."""
        m, K = self.rows.size, self.K
        if self.simplex:
            _, a, g = hessian
        else:
            a = hessian
        index = np.arange(m)[:, None]
        codes = self.codes[:, None]
        H_rows = np.zeros((m, K, K))
        H_rows[index, self.wrong, self.wrong] = a
        H_rows[index[:, 0], self.codes, self.codes] = a.sum(axis=1)
        H_rows[index, self.wrong, codes] = -a
        H_rows[index, codes, self.wrong] = -a
        if self.simplex:
            v = np.zeros((m, K))
            v[index, self.wrong] = a
            v[index[:, 0], self.codes] = -a.sum(axis=1)
            H_rows -= np.einsum("tk,tl->tkl", v, v) / g[:, None, None]
        H = np.zeros((n, K, K))
        H[self.rows] = H_rows
        return H

    def conjugate(self, theta, n):
        """Per sample ``F_i^*(G_i)`` at ``G = score_gradient(theta)``: ``-delta
        sum_r theta_r`` plus, squared, ``sum_r theta_r^2 / (4 c)``
        (Weston-Watkins) or ``(sum_r theta_r)^2 / (4 c)`` (Crammer-Singer)."""
        total = theta.sum(axis=1)
        conj = -self.delta * total
        if self.power == 2:
            square = total * total if self.simplex else np.sum(theta * theta, axis=1)
            conj = conj + square / (4.0 * self.c)
        out = np.zeros(n)
        out[self.rows] = conj
        return out


def _slack(gaps, top, c, p, mu):
    """The slack's offset ``xi - top`` for each term: the root of the
    increasing, concave ``f(x) = p c (top + x)^(p-1) - mu sum_j 1 / (x +
    gaps_j)``, by Newton's method from a point left of it (where the nearest
    pole alone balances the first term), which on a concave increasing
    function moves right, monotonically, to the root."""
    # p = 2: the root of 2 c x (top + x) = mu, written without cancellation
    x = mu / c if p == 1 else (mu / c) / (top + np.sqrt(top * top + 2.0 * mu / c))
    active = np.ones(x.shape, dtype=bool)
    for _ in range(SLACK_STEPS):
        d = x[active, None] + gaps[active]
        inverse = 1.0 / d
        slope_c = c[active] if p == 1 else 2.0 * c[active] * (top[active] + x[active])
        f = slope_c - mu * inverse.sum(axis=1)
        f_prime = mu * np.sum(inverse * inverse, axis=1)
        if p == 2:
            f_prime = f_prime + 2.0 * c[active]
        move = np.maximum(-f / f_prime, 0.0)
        x[active] += move
        still = move > 1e-15 * x[active]
        if not still.any():
            break
        active[np.flatnonzero(active)[~still]] = False
    return x


class _Penalty:
    """The penalty's barrier: ``rho h_{mu / rho}(|group|)`` for every group
    (an entry of ``W`` for L1 and the elastic net, a feature's ``K``
    coefficients for the group norm; ``h`` as in ``_group_barrier``), plus
    the elastic net's ``q ||W||^2 / 2``."""

    def __init__(self, objective):
        self.rho = _rho(objective)
        self.q = float(objective.reg)
        self.grouped = type(objective.penalty) is GroupL1L2
        K, d = objective.n_outputs, objective.n_features
        self.degree = 2 * (d if self.grouped else K * d)

    def _groups(self, W):
        return W if self.grouped else W.reshape(1, -1)

    def value(self, W, mu):
        h = _cone(self._groups(W), mu / self.rho)[2]
        return self.rho * float(h.sum()) + 0.5 * self.q * float(np.vdot(W, W))

    def parts(self, W, mu):
        """Value, gradient and the ``(d, K, K)`` (grouped) or ``(K d,)``
        (entries) Hessian of the barrier, the elastic net's part included."""
        value, grad, blocks = _barrier_parts(self._groups(W), mu / self.rho)
        value = self.rho * value + 0.5 * self.q * float(np.vdot(W, W))
        grad = self.rho * grad.reshape(W.shape) + self.q * W
        blocks = self.rho * blocks
        if self.grouped:
            diagonal = np.arange(W.shape[0])
            blocks[:, diagonal, diagonal] += self.q
        else:
            blocks = blocks[:, 0, 0] + self.q
        return value, grad, blocks

    def sizes(self, W):
        """Each group's size (``|w|`` or ``||W_j||``) in ``W``'s layout."""
        if self.grouped:
            return np.broadcast_to(np.sqrt(np.square(W).sum(axis=0)), W.shape)
        return np.abs(W)

    def inside(self, V):
        """Where the dual ``V`` lies inside the penalty's ball by SNAP_SHARE."""
        if self.grouped:
            norms = np.sqrt(np.square(V).sum(axis=0))
            return np.broadcast_to(norms < self.rho * (1.0 - SNAP_SHARE), V.shape)
        return np.abs(V) < self.rho * (1.0 - SNAP_SHARE)


def in_centered_coordinates(solve):
    """``solve`` run on dense data in centered coordinates
    (:meth:`LinearObjective.centered`, the normal equations formed from
    ``X - mean``), its coefficients mapped back: on uncentered features the
    intercepts' and the coefficients' columns of the normal equations are
    nearly collinear (features shifted by 1e4: no certificate below 1e-5
    where the centered problem reaches 1e-9). Sparse data is solved as it
    is (centering would fill it in)."""

    @functools.wraps(solve)
    def run(objective, tol, max_iterations, callback=None, start=None):
        inner = objective if sp.issparse(objective.X) else objective.centered()
        if inner is objective:
            return solve(objective, tol, max_iterations, callback, start)
        begin = None if start is None else inner.center_coef(start)
        result = solve(inner, tol, max_iterations, callback, begin)
        if result is not None:
            result.coef = inner.uncenter_coef(result.coef)
        return result

    return run


@in_centered_coordinates
def multiclass_barrier(objective, tol, max_iterations, callback=None, start=None):
    """Minimize ``objective`` (see :func:`multiclass_barrier_applies`) by the
    barrier method.

    Each stage minimizes the barrier objective (the loss's barrier of
    :class:`_Hinges` plus the penalty's of :class:`_Penalty`, plus a
    penalized intercept's square) by Newton's method (the ``K (d + 1)``
    square Hessian formed and factored, an Armijo search on the scores)
    from the previous stage's point. After each step the point is certified
    by :meth:`LinearObjective.duality_gap` at the barrier's multipliers
    ``theta`` (the best dual value met is kept), with the coefficients the
    dual puts inside the penalty's ball and the barrier holds near 0 set to
    0; a stage ends once that gap is within ``STAGE_GAP * mu nu``, then
    ``mu`` shrinks tenfold. ``start`` (a path's previous solution, a warm
    start) starts the stages there, at the ``mu`` of its certified gap
    (``gap / nu``). Returns a :class:`SolveResult` (its iterations the Newton steps, its
    point the best certified), or None where no step could be taken.
    """
    hinges, penalty = _Hinges(objective), _Penalty(objective)
    degree = hinges.degree + penalty.degree
    W, b = starting_point(objective, start)
    P0 = float(objective.value(objective.join(W, b)))
    if P0 == 0.0 or hinges.rows.size == 0:
        # P >= 0: 0 is optimal (no sample of weight, or all beyond the margin
        # at 0 penalty)
        if P0 == 0.0:
            return SolveResult(objective.join(W, b), 0, True, 0.0, 0.0)
        return None
    user_tol, tol = tol, INNER_SHARE * tol
    mu = max(0.1 * P0 / degree, np.finfo(float).tiny)
    record = _Record(objective, hinges, penalty)
    if W.any():  # a start: its own gap sets mu
        state = _stage_value(objective, hinges, penalty, W, b, mu)
        record.certify(W, b, [state[5]], 0.0)
        if record.relative() <= user_tol:
            return record.result(0, user_tol)
        gap = record.relative() * record.primal
        mu = max(min(mu, gap / degree), np.finfo(float).tiny)
    state = _stage_value(objective, hinges, penalty, W, b, mu)
    steps, history, idle, stage_best = 0, [], 0, np.inf
    while steps < max_iterations:
        moved = _newton_step(objective, hinges, penalty, W, b, mu, state)
        extra = None
        if moved is not None:
            W, b, state, decrement, extra = moved
            steps += 1
            if decrement > STAGE_GAP * mu * degree:
                continue  # far from the stage's minimizer
        gap = record.certify(W, b, [state[5], extra], mu)
        history.append(record.primal)
        if callback is not None:
            callback(
                steps, record.primal, record.relative(), GAP, record.coef, objective
            )
        if record.relative() <= tol:
            break
        if moved is not None and gap > STAGE_GAP * mu * degree:
            continue
        if moved is None and mu * degree <= FLOOR_SHARE * tol * record.primal:
            break  # rounding: nothing more to gain
        # at a small mu the multipliers mu / (xi - u) of the terms at their
        # kinks move by O(1) with rounding-level moves of the margins: once
        # stages whose barrier leaves far less than the certified gap (mu nu,
        # a tenth of it) stop improving the certificate, later ones cannot
        small = mu * degree <= 0.1 * record.relative() * record.primal
        stuck = small and record.relative() > 0.5 * stage_best
        idle = idle + 1 if stuck else 0
        stage_best = min(stage_best, record.relative())
        if idle >= IDLE_STAGES:
            break
        mu *= MU_DECREASE
        state = _stage_value(objective, hinges, penalty, W, b, mu)
    if steps == 0 and record.coef is None:
        return None
    result = record.result(steps, user_tol)
    result.history = history
    return result


class _Record:
    """The best certified point and the best dual value met."""

    def __init__(self, objective, hinges, penalty, method="barrier method"):
        self.objective, self.hinges, self.penalty = objective, hinges, penalty
        self.coef, self.primal, self.dual = None, np.inf, -np.inf
        self.method = method

    def relative(self):
        if not np.isfinite(self.primal):
            return np.inf
        gap = max(self.primal - self.dual, 0.0)
        return gap / self.primal if self.primal > 0 else 0.0

    def certify(self, W, b, thetas, mu):
        """Bound ``P*`` at each of ``thetas`` (multipliers of shape ``(m, K -
        1)``, ``None`` skipped) and try ``(W, b)`` and its snapped version as
        the best point; returns the gap at ``(W, b)``."""
        objective, n = self.objective, self.objective.n_samples
        coef = objective.join(W, b)
        best = None
        for theta in thetas:
            if theta is None:
                continue
            G = self.hinges.score_gradient(theta, n)
            dual = (G, self.hinges.conjugate(theta, n))
            gap, primal = objective.duality_gap(coef, dual=dual)
            self._offer(coef, primal, primal - gap)
            if best is None or gap < best[0]:
                best = (gap, G, dual)
        gap, G, dual = best
        # what the dual puts inside the penalty's ball, and the barrier holds
        # near 0, is 0 at the optimum
        V = objective.split(objective._adjoint(G))[0]
        inside = self.penalty.inside(V) & (W != 0.0)
        if mu > 0.0:
            inside &= self.penalty.sizes(W) <= SNAP_MU * mu / self.penalty.rho
        if inside.any():
            snapped = np.where(inside, 0.0, W)
            snapped_coef = objective.join(snapped, b)
            snapped_gap, snapped_primal = objective.duality_gap(snapped_coef, dual=dual)
            self._offer(snapped_coef, snapped_primal, snapped_primal - snapped_gap)
        return gap

    def _offer(self, coef, primal, dual):
        if np.isfinite(dual):
            self.dual = max(self.dual, dual)
        if primal < self.primal:
            self.coef, self.primal = coef, primal

    def result(self, steps, tol):
        optimality = self.relative()
        converged = optimality <= tol
        return SolveResult(
            coef=self.coef,
            n_iter=int(steps),
            converged=bool(converged),
            value=float(self.primal),
            optimality=float(optimality),
            history=[],
            message=(
                f"relative duality gap below tol ({self.method})"
                if converged
                else f"the {self.method} stopped above tol"
            ),
        )


def _stage_value(objective, hinges, penalty, W, b, mu):
    """The stage's value, gradient ``(gW, gb)``, scores, the loss's score
    Hessian factors and the penalty's Hessian, and ``theta``."""
    scores = objective.scores(objective.join(W, b))
    loss_value, theta, margin_hessian = hinges.barrier(scores, mu)
    n = objective.n_samples
    G = hinges.score_gradient(theta, n)
    value_p, grad_p, blocks = penalty.parts(W, mu)
    gW, gb = objective.split(objective._adjoint(G))
    gW = gW + grad_p
    p = objective.intercept_penalty
    value = loss_value + value_p
    if objective.fit_intercept:
        gb = np.asarray(gb) + p * b
        value += 0.5 * p * float(b @ b)
    return value, gW, np.asarray(gb), scores, (margin_hessian, blocks), theta


def _trial_value(objective, hinges, penalty, W, b, scores, mu):
    """The stage's value at ``(W, b)`` from its ``scores``."""
    value = hinges.barrier(scores, mu, derivatives=False) + penalty.value(W, mu)
    if objective.fit_intercept:
        value += 0.5 * objective.intercept_penalty * float(b @ b)
    return value


def _newton_step(objective, hinges, penalty, W, b, mu, state):
    """One damped Newton step of a stage: ``(W, b, state, decrement,
    theta_lin)`` (``theta_lin`` the multipliers at the full step, to first
    order: see :meth:`_Hinges.linearized`), or
    None where the decrement is at rounding level or the line search found
    no decrease."""
    K, d = W.shape
    intercept = objective.fit_intercept
    size = d + int(intercept)
    value, gW, gb, scores, (margin_hessian, blocks), _ = state
    grad = (np.hstack([gW, gb[:, None]]) if intercept else gW).ravel()
    H = _stage_hessian(objective, hinges, penalty, margin_hessian, blocks, size)
    direction = newton_direction(H, grad, value, K, intercept)
    if direction is None:
        return None
    dW, db, slope = direction
    dS = objective.scores(objective.join(dW, db))
    # the multipliers at the full step, to first order (a dual estimate)
    theta_lin = hinges.linearized(
        state[5], margin_hessian, hinges.margins(dS) - hinges.delta
    )
    norm = np.linalg.norm(grad)
    t = 1.0
    for _ in range(HALVINGS):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            trial = _trial_value(
                objective, hinges, penalty, W + t * dW, b + t * db, scores + t * dS, mu
            )
        decrease = trial <= value + ARMIJO * t * slope
        # near a small mu's minimizer the decrease is below the value's
        # rounding (a sum over every hinge term) while the gradient is not:
        # a step that lowers the gradient's norm is taken there
        rounding = trial <= value + ROUNDING * abs(value)
        if decrease or rounding:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                moved = _stage_value(
                    objective, hinges, penalty, W + t * dW, b + t * db, mu
                )
            finite = np.isfinite(moved[0]) and np.all(np.isfinite(moved[1]))
            if finite and not decrease:
                moved_grad = (
                    np.hstack([moved[1], moved[2][:, None]]) if intercept else moved[1]
                )
                finite = np.linalg.norm(moved_grad) < norm
            if finite:
                return W + t * dW, b + t * db, moved, -0.5 * slope, theta_lin
        t *= 0.5
    return None


def _stage_hessian(objective, hinges, penalty, margin_hessian, blocks, size):
    """The ``K size`` square Hessian: the loss's (:func:`loss_hessian`) plus
    the penalty's barrier."""
    K, d = objective.n_outputs, objective.n_features
    H = loss_hessian(objective, hinges, margin_hessian, size).reshape(K, size, K, size)
    features = np.arange(d)
    if penalty.grouped:
        H[:, features, :, features] += blocks
    else:
        entries = blocks.reshape(K, d)
        for k in range(K):
            H[k, features, k, features] += entries[k]
    return H.reshape(K * size, K * size)


def loss_hessian(objective, hinges, margin_hessian, size):
    """``sum_i H_i (x) x_i x_i^T`` over the rows (``H_i`` the loss's ``K x
    K`` score Hessian; one weighted Gram matrix per pair of classes), ``K
    size`` square, with a free intercept's pin along ``1`` (the losses only
    see score differences, so shifting every intercept alike changes
    nothing)."""
    K, d, n = objective.n_outputs, objective.n_features, objective.n_samples
    H_scores = hinges.score_hessian(margin_hessian, n)
    X = hinges.X
    H = np.zeros((K, size, K, size))
    for k in range(K):
        for m in range(k, K):
            h = H_scores[:, k, m]
            rows = np.flatnonzero(h)
            block = _weighted_gram(X[rows], h[rows], objective.fit_intercept)
            H[k, :, m, :] = block
            if m != k:
                H[m, :, k, :] = block.T
    if objective.fit_intercept:
        p = objective.intercept_penalty
        corner = H[:, d, :, d]
        corner += p * np.eye(K)
        if p == 0.0:
            scale = float(np.abs(np.diagonal(corner)).mean())
            corner += (scale if scale > 0 else 1.0) * np.ones((K, K)) / K
        H[:, d, :, d] = corner
    return H.reshape(K * size, K * size)


def _weighted_gram(X, h, intercept):
    """``[X, 1]^T diag(h) [X, 1]`` (without the ``1`` column if no intercept)."""
    if sp.issparse(X):
        gram = np.asarray((X.T @ X.multiply(h[:, None])).todense())
        column = np.asarray(X.T @ h).ravel()
    else:
        weighted = X * h[:, None]
        gram = X.T @ weighted
        column = weighted.sum(axis=0)
    if not intercept:
        return gram
    d = gram.shape[0]
    out = np.empty((d + 1, d + 1))
    out[:d, :d] = gram
    out[:d, d] = out[d, :d] = column
    out[d, d] = h.sum()
    return out
