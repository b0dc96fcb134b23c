"""A primal-dual interior point for the multiclass hinges with L1 or the elastic net.

The Crammer-Singer and Weston-Watkins losses (plain or squared) with an L1
or elastic-net penalty form a linear or a convex quadratic program:

.. math:: \\min\\; \\rho \\textstyle\\sum t + \\tfrac{q}{2}\\|W\\|^2
          + \\sum_j c_j \\xi_j^p
          \\quad\\text{s.t.}\\quad t \\pm W \\ge 0,\\;
          \\xi_j \\ge 0,\\; \\xi_j \\ge u_{jr},

with ``u_jr = delta + s_r - s_y`` the margins of hinge term ``j`` (one per
wrong class for Weston-Watkins, one per sample over all its wrong classes
for Crammer-Singer) and ``p = 2`` for the squared losses. Mehrotra's
predictor-corrector on its conditions ``theta_jr (xi_j - u_jr) = mu``,
``nu_j xi_j = mu``, ``lambda^{+-} (t \\mp w) = mu``: each step eliminates the
slacks, the multipliers and ``t`` (per term, per coefficient) and solves
the normal equations in ``(W, b)``,

.. math:: \\Bigl(\\textstyle\\sum_i E_i^T B_i E_i \\otimes \\tilde x_i
          \\tilde x_i^T + \\mathrm{diag}(q + 4 D^+ D^- / (D^+ + D^-))
          \\Bigr)\\, d(W, b) = -r,

``B_i = diag(D) - D D^T / g`` per term (``D = theta / (xi - u)``, ``g =
p (p - 1) c xi^(p-2) + nu / xi + sum_r D_r``), ``E_i`` the margins'
rows ``e_r - e_y``, ``D^\\pm = lambda^\\pm / (t \\mp w)``: the same matrix as
the barrier method of :mod:`._multiclass_barrier` with the primal-dual
scaling, formed by :func:`._multiclass_barrier.loss_hessian` and factored
once a step (two solves). The barrier method took 50 to 300 Newton steps on
these programs (its steps are damped wherever a hinge term crosses its
kink); this takes 8 to 55 (digits, C = 0.1 to 10).
"""

import numpy as np
import scipy.linalg

from ..penalties import GroupL1L2
from ._base import GAP
from ._group_barrier import _factor
from ._multiclass_barrier import (
    _Hinges,
    _Penalty,
    _Record,
    in_centered_coordinates,
    loss_hessian,
    sparse_multiclass,
    starting_point,
    step_work,
)

#: the steps may take at most this many iterations (and ``max_iter``)
MAX_ITERATIONS = 300
#: the method applies where one step's work (``step_work``: the normal
#: equations formed and factored) is at most this
STEP_WORK = 2e9
#: the share of the way to the boundary a step takes
TO_BOUNDARY = 0.995
#: the solve stops after this many steps that did not lower its best
#: certified gap by PROGRESS while the complementarity left was below a tenth
#: of that gap (near rounding level the normal equations lose accuracy and
#: the iterates wander)
STALE_STEPS = 8
#: Gondzio's multiple centrality correctors (see :meth:`_Point.centred`):
#: at most CORRECTORS a step, aiming CORRECTOR_REACH times further, the
#: products pushed into ``[CENTRALITY, 1 / CENTRALITY]`` times the target,
#: kept where the lengths grow by CORRECTOR_GAIN of the aim
CORRECTORS = 3
CORRECTOR_REACH = 1.5
CENTRALITY = 0.1
CORRECTOR_GAIN = 0.1
PROGRESS = 0.9


def multiclass_primal_dual_applies(objective):
    """Whether ``gd`` solves ``objective`` by :func:`multiclass_primal_dual`:
    a ``sparse_multiclass`` problem with L1 or the elastic net (the group
    norm goes to the barrier method), within ``STEP_WORK``."""
    if not sparse_multiclass(objective) or type(objective.penalty) is GroupL1L2:
        return False
    return step_work(objective) <= STEP_WORK


@in_centered_coordinates
def multiclass_primal_dual(objective, tol, max_iterations, callback=None, start=None):
    """Minimize ``objective`` (see :func:`multiclass_primal_dual_applies`)
    by Mehrotra's predictor-corrector.

    After each step the point is certified by
    :meth:`LinearObjective.duality_gap` at the multipliers ``theta`` (made
    feasible: non-negative, and for the plain hinge at most ``c`` each or in
    sum), the best dual value met kept, with the coefficients the dual puts
    inside the penalty's ball and the iterates hold near 0 set to 0.
    ``start`` (a path's previous solution, a warm start) is where the
    coefficients start, with the slacks and multipliers centred around it.
    Returns a :class:`SolveResult` (its iterations the steps, its point the
    best certified), or None where no sample has weight.
    """
    hinges, penalty = _Hinges(objective), _Penalty(objective)
    if hinges.rows.size == 0:
        return None
    point = _Point(objective, hinges, penalty, *starting_point(objective, start))
    record = _Record(objective, hinges, penalty, "primal-dual interior point")
    steps, history, best, stale = 0, [], np.inf, 0
    while True:
        mu = point.complementarity()
        record.certify(point.W, point.b, [point.multipliers()], mu)
        history.append(record.primal)
        if callback is not None:
            callback(
                steps, record.primal, record.relative(), GAP, record.coef, objective
            )
        relative = record.relative()
        # stale: no better certificate although the complementarity left
        # (mu per pair) is far below the gap
        gap = relative * record.primal
        small = np.isfinite(gap) and mu * point.pairs <= 0.1 * gap
        stale = stale + 1 if small and relative >= PROGRESS * best else 0
        best = min(best, relative)
        if relative <= tol or steps >= max_iterations or stale >= STALE_STEPS:
            break
        system = point.normal_equations()
        if system is None:
            break
        predictor = point.direction(system, 0.0)
        a_p, a_d = point.lengths(predictor, 1.0)
        target = (point.complementarity(predictor, a_p, a_d) / mu) ** 3 * mu
        extra = {
            x: predictor[x] * predictor[z] for x, z in zip(PRIMAL, DUAL, strict=True)
        }
        step = point.direction(system, target, extra)
        step, lengths = point.centred(system, target, extra, step)
        point.move(step, *lengths)
        steps += 1
    result = record.result(steps, tol)
    result.history = history
    return result


class _Point:
    """The iterate: ``(W, b)``, the terms' slacks ``xi`` (and ``s = xi -
    u``) with their multipliers ``nu`` and ``theta``, the coefficients'
    bounds ``t`` (and ``t -+ w``) with theirs ``lambda^+-``.

    It starts with the terms' slacks one above their margins and the bounds
    one above the coefficients' sizes; each term's multipliers centred at
    its own ``mu``, which balances its slack's stationarity."""

    def __init__(self, objective, hinges, penalty, W, b):
        self.objective, self.hinges = objective, hinges
        self.rho, self.q = penalty.rho, penalty.q
        self.W, self.b = W, b
        scores = objective.scores(objective.join(W, b))
        U, self.c = hinges._terms(hinges.margins(scores))
        self.xi = np.maximum(U.max(axis=1), 0.0) + 1.0
        self.s = self.xi[:, None] - U
        p, c = hinges.power, self.c
        centre = p * c * self.xi ** (p - 1)
        centre = centre / (1.0 / self.xi + np.sum(1.0 / self.s, axis=1))
        self.theta, self.nu = centre[:, None] / self.s, centre / self.xi
        t = np.abs(W) + 1.0
        self.s_plus, self.s_minus = t - W, t + W
        self.l_plus = np.full(W.shape, 0.5 * self.rho)
        self.l_minus = np.full(W.shape, 0.5 * self.rho)
        self.pairs = self.s.size + self.xi.size + 2 * W.size

    def _by_sample(self, a):
        """Per-term arrays as ``(m, K - 1)`` (Weston-Watkins: one margin a
        term)."""
        return a if self.hinges.simplex else a.reshape(-1, self.hinges.K - 1)

    def multipliers(self):
        """``theta`` as a feasible dual point, ``(m, K - 1)``."""
        return self.hinges.feasible(self._by_sample(self.theta))

    def complementarity(self, step=None, a_p=0.0, a_d=0.0):
        """The mean product of slacks and multipliers, after ``step`` taken
        with lengths ``a_p`` (primal) and ``a_d`` (dual)."""
        pairs = (
            ("theta", "s"), ("nu", "xi"), ("l_plus", "s_plus"), ("l_minus", "s_minus")
        )  # fmt: skip
        total = 0.0
        for dual, primal in pairs:
            x, z = getattr(self, primal), getattr(self, dual)
            if step is not None:
                x, z = x + a_p * step[primal], z + a_d * step[dual]
            total += float(np.sum(x * z))
        return total / self.pairs

    def normal_equations(self):
        """The scalings of this iterate and the factored normal equations,
        or None where the factorization fails."""
        hinges, objective = self.hinges, self.objective
        K, d = objective.n_outputs, objective.n_features
        size = d + int(objective.fit_intercept)
        D = self.theta / self.s
        g = self.nu / self.xi + D.sum(axis=1)
        if hinges.power == 2:
            g = g + 2.0 * self.c
        if hinges.simplex:
            margin_hessian = ("diagonal plus rank one", D, g)
        else:
            margin_hessian = self._by_sample(D[:, 0] - D[:, 0] ** 2 / g)
        D_plus, D_minus = self.l_plus / self.s_plus, self.l_minus / self.s_minus
        H = loss_hessian(objective, hinges, margin_hessian, size)
        H = H.reshape(K, size, K, size)
        diagonal = self.q + 4.0 * D_plus * D_minus / (D_plus + D_minus)
        features = np.arange(d)
        for k in range(K):
            H[k, features, k, features] += diagonal[k]
        factor = _factor(H.reshape(K * size, K * size))
        if factor is None:
            return None
        return D, g, D_plus, D_minus, factor

    def direction(self, system, target, extra=None):
        """The step to the conditions' linearization at ``target`` (the
        centring's ``mu``, 0 for the predictor), each product's target less
        ``extra[primal]`` (Mehrotra's second-order term, less Gondzio's
        centrality corrections)."""
        D, g, D_plus, D_minus, factor = system
        hinges, objective = self.hinges, self.objective
        K, d, n = objective.n_outputs, objective.n_features, objective.n_samples
        intercept = objective.fit_intercept
        p, c = hinges.power, self.c

        def goal(primal):
            x = getattr(self, primal)
            return (target if extra is None else target - extra[primal]) / x

        goal_s, goal_xi = goal("s"), goal("xi")
        goal_plus, goal_minus = goal("s_plus"), goal("s_minus")
        # each slack's stationarity solved for d xi, per term
        e = goal_xi + goal_s.sum(axis=1) - p * c * self.xi ** (p - 1)
        theta_goal = goal_s - D * (e / g)[:, None]
        G = hinges.score_gradient(self._by_sample(theta_goal), n)
        gW, gb = objective.split(objective._adjoint(G))
        # each bound's stationarity solved for d t, per coefficient
        D_sum, D_diff = D_plus + D_minus, D_plus - D_minus
        f = goal_plus + goal_minus - self.rho
        gW = gW + self.q * self.W + goal_plus - goal_minus - D_diff * f / D_sum
        gb = np.asarray(gb) + objective.intercept_penalty * self.b
        rhs = np.hstack([gW, gb[:, None]]) if intercept else gW
        step = -scipy.linalg.cho_solve(factor, rhs.ravel(), check_finite=False)
        step = step.reshape(K, -1)
        dW, db = step[:, :d], (step[:, d] if intercept else np.zeros(K))
        dS = objective.scores(objective.join(dW, db))
        du, _ = hinges._terms(hinges.margins(dS) - hinges.delta)
        D_du = np.sum(D * du, axis=1)
        d_xi = (D_du + e) / g
        d_t = (D_diff * dW + f) / D_sum
        d_plus, d_minus = d_t - dW, d_t + dW
        return {
            "W": dW, "b": db, "xi": d_xi, "s": d_xi[:, None] - du,
            "theta": D * du - D * (D_du / g)[:, None] + (theta_goal - self.theta),
            "nu": goal_xi - self.nu - (self.nu / self.xi) * d_xi,
            "s_plus": d_plus, "s_minus": d_minus,
            "l_plus": goal_plus - self.l_plus - D_plus * d_plus,
            "l_minus": goal_minus - self.l_minus - D_minus * d_minus,
        }  # fmt: skip

    def centred(self, system, target, extra, step):
        """Gondzio's multiple centrality correctors: ``(step, lengths)``
        after up to CORRECTORS corrections, each aiming at steps
        CORRECTOR_REACH times longer with every product pushed into
        ``[CENTRALITY target, target / CENTRALITY]``, kept where the
        lengths grow by CORRECTOR_GAIN of the aim."""
        lengths = self.lengths(step, TO_BOUNDARY)
        for _ in range(CORRECTORS):
            if min(lengths) >= 1.0:
                break
            reach = [min(1.0, CORRECTOR_REACH * a) for a in lengths]
            corrected = dict(extra)
            for x, z in zip(PRIMAL, DUAL, strict=True):
                products = (getattr(self, x) + reach[0] * step[x]) * (
                    getattr(self, z) + reach[1] * step[z]
                )
                low, high = CENTRALITY * target, target / CENTRALITY
                push = np.clip(products, low, high) - products
                # products far above the box are lowered at most to -high
                corrected[x] = extra[x] - np.maximum(push, -high)
            trial = self.direction(system, target, corrected)
            trial_lengths = self.lengths(trial, TO_BOUNDARY)
            aim = sum(reach) - sum(lengths)
            if sum(trial_lengths) < sum(lengths) + CORRECTOR_GAIN * aim:
                break
            step, lengths, extra = trial, trial_lengths, corrected
        return step, lengths

    def lengths(self, step, fraction):
        """The primal and dual step lengths, ``fraction`` of the way to the
        boundary, at most 1."""
        primal = min(_longest(getattr(self, k), step[k]) for k in PRIMAL)
        dual = min(_longest(getattr(self, k), step[k]) for k in DUAL)
        return min(1.0, fraction * primal), min(1.0, fraction * dual)

    def move(self, step, a_p, a_d):
        """Take ``step``: the primal parts by ``a_p``, the dual by ``a_d``."""
        self.W, self.b = self.W + a_p * step["W"], self.b + a_p * step["b"]
        for key in PRIMAL:
            setattr(self, key, getattr(self, key) + a_p * step[key])
        for key in DUAL:
            setattr(self, key, getattr(self, key) + a_d * step[key])


#: the slacks (primal) and multipliers (dual) of the conditions
PRIMAL = ("s", "xi", "s_plus", "s_minus")
DUAL = ("theta", "nu", "l_plus", "l_minus")


def _longest(x, dx):
    """The longest ``a`` with ``x + a dx >= 0`` (``inf`` where ``dx >= 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(dx < 0, -x / dx, np.inf)
    return float(ratio.min(initial=np.inf))
