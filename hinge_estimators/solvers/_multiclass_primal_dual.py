"""A primal-dual interior point for the hinge terms with sparse penalties.

``gd`` solves here first:

- the Crammer-Singer and Weston-Watkins losses (plain or squared,
  unsmoothed) under ``penalty="l1"``, ``"elasticnet"`` or ``"l1_l2"``. Its
  only other route is the smoothing stages with proximal steps, which
  converge as ``O(1/eps)``: 150 of 180 default fits on iris, wine, digits,
  satimage and splice (C = 0.1, 1, 10) ended at ``max_iter``, most without
  any certified bound. No coordinate method exists for them here
  (``primal_cd`` is binary), and ``dual_cd`` and the multiclass interior
  point solve the L2 penalty's dual only;
- the group norm over one-vs-rest columns of the plain hinge and of the
  smooth hinges too narrow for the group barrier (``_group_barrier``: its
  Newton steps crawl where the curvature exceeds 2): default fits of the
  hinge and ``SmoothHinge(gamma=0.1)`` on 8 multiclass sets at C = 0.1 to
  100 ended at ``max_iter`` in 56 of 64 (the hinge up to 2.1 times the
  optimum); now 0 of 64, 7 to 92 iterations. The group norm couples the
  columns, so the hinge's per-column interior point does not apply. The
  squared hinge, the modified Huber loss and the wider smooth hinges,
  which the group barrier certifies, are accepted here too (the barrier
  was as fast or faster on texture and satimage, and keeps them).

With slacks the problem is a linear, quadratic or second-order cone
program:

.. math:: \\min\\; \\rho \\textstyle\\sum t + \\tfrac{q}{2}\\|W\\|^2
          + \\sum_j c_j (A \\xi_j^2 + B \\zeta_j)
          \\quad\\text{s.t.}\\quad \\xi_j, \\zeta_j \\ge 0,\\;
          \\xi_j + \\zeta_j \\ge u_{jr},\\;
          t \\pm W \\ge 0 \\text{ entrywise (L1)},\\;
          (t_f, W_{:,f}) \\in \\mathcal{Q} \\text{ per feature (group)},

with ``u_jr`` the margins of hinge term ``j``: ``delta + s_r - s_y`` for
the multiclass losses (one term per wrong class for Weston-Watkins, one per
sample over all its wrong classes for Crammer-Singer), ``delta - y_k s_k``
per one-vs-rest column; ``(A, B)`` the term's shape (:func:`margin_terms`:
the plain hinge has ``zeta`` alone, the squared hinge ``xi`` alone, the
smooth hinge and the modified Huber loss both: quadratic, then linear);
``Q`` the second-order cone. Mehrotra's predictor-corrector, with Gondzio's
centrality correctors, on its conditions ``theta_jr (xi_j + zeta_j -
u_jr) = mu``, ``nu_j xi_j = mu``, ``kappa_j zeta_j = mu``, ``lambda^{+-}
(t -+ w) = mu`` and, for the cones, ``x o z = mu e`` under Nesterov-Todd
scaling: each step eliminates the slacks, the multipliers and ``t`` (per
term, per coefficient, per cone) and solves the normal equations in ``(W,
b)``,

.. math:: \\Bigl(\\textstyle\\sum_i E_i^T B_i E_i \\otimes \\tilde x_i
          \\tilde x_i^T + P\\Bigr)\\, d(W, b) = -r,

``B_i = diag(D) - D D^T / g`` per term (``D = theta / s``, ``g = sum_r D_r
+ alpha``, ``alpha = 2 A c + nu / xi``, with one slack (a linear one is
kept as ``xi`` too, ``A = 0``); with two, ``sum_r D_r + alpha beta / (alpha
+ beta)``, ``beta = kappa / zeta``: the slacks' two stationarity conditions
combine in series), ``E_i`` the
margins' rows ``e_r - e_y`` (``-y_k e_k`` per column), ``P`` the penalty's
block: ``q + 4 D^+ D^- / (D^+ + D^-)`` per coefficient (``D^+- = lambda^+-
/ (t -+ w)``), or per feature the Schur complement of ``t`` in ``W_NT^2``
(the cone's scaling) plus ``q``. It is formed as ``K (K + 1) / 2`` weighted
Gram matrices of the rows (``K`` for one-vs-rest columns) and factored once
a step (two to five solves). A primal barrier method on the same matrix
took 50 to 300 Newton steps (its steps are damped wherever a hinge term
crosses its kink); this takes 5 to 103 iterations (8 real multiclass sets,
C = 0.1 to 10, ``benchmarks/RESULTS.md``).
"""

import functools

import numpy as np
import scipy.linalg

from .._objective import weighted_gram
from ..losses import (
    CrammerSinger,
    Hinge,
    ModifiedHuber,
    SmoothHinge,
    SquaredHinge,
    WestonWatkins,
)
from ..penalties import L1, ElasticNet, GroupL1L2
from ._base import GAP, SolveResult, solve_centered
from ._group_barrier import _factor, _rho
from ._interior_point import longest_step
from ._multiclass_interior_point import wrong_classes

#: the steps may take at most this many iterations (and ``max_iter``)
MAX_ITERATIONS = 300
#: a primal value below the best dual bound by more than this share of it
#: is a value that lost its digits, never a better point (``_Record._offer``)
BOUND_ROUNDING = 1e-9
#: a primal equality's residual within this share of its terms' sizes is
#: rounding, not drift (``_Point._residuals``)
RESIDUAL_ROUNDING = 64 * np.finfo(np.float64).eps
#: the pairs of classes whose curvature covers more than this share of the
#: rows form their Gram matrices together from the same blocks of rows
#: (``loss_hessian``)
SHARED_ROWS = 0.5
#: the method applies where one step's work (``step_work``: the normal
#: equations formed and factored) is at most this
STEP_WORK = 2e9
#: the share of the way to the boundary a step takes
TO_BOUNDARY = 0.995
#: the solve stops after this many steps in a row that did not lower its
#: best certified relative gap by PROGRESS while it was below 1 and the
#: complementarity left below a tenth of what ``max(tol, STALE_TOL)`` asks
#: of the gap (near rounding level the normal equations lose accuracy and
#: the iterates wander; below STALE_TOL mu may never get: at tol 1e-13 a
#: floor-less rule ran Weston-Watkins with L1 on digits to 300 steps where
#: 45 gave the same certificate)
STALE_STEPS = 8
PROGRESS = 0.9
STALE_TOL = 1e-9
#: Gondzio's multiple centrality correctors (see :meth:`_Point.centred`; the
#: orthant's products only, the cones keep Mehrotra's term): at most
#: CORRECTORS a step, aiming CORRECTOR_REACH times further, the products
#: pushed into ``[CENTRALITY, 1 / CENTRALITY]`` times the target, kept where
#: the lengths grow by CORRECTOR_GAIN of the aim
CORRECTORS = 3
CORRECTOR_REACH = 1.5
CENTRALITY = 0.1
CORRECTOR_GAIN = 0.1
#: a coefficient (L1, elastic net) or a group whose dual ``|V_j|`` lies
#: inside the penalty's ball by SNAP_SHARE and whose size is at most SNAP_MU
#: times ``mu / rho`` (the iterates hold what is 0 at the optimum at a size
#: of that order) is set to 0 at each certificate
SNAP_MU = 100.0
SNAP_SHARE = 1e-6
#: at the end, the coefficients (groups) the dual puts inside the ball and
#: below these shares of the largest are set to 0, the largest share that
#: keeps the certificate (see ``_Record._sparsest``)
ZERO_SHARES = (1e-12, 1e-9, 1e-6, 1e-5, 1e-4)


def primal_dual_problem(objective):
    """Whether ``objective`` is a problem of this module, in uncentered
    coordinates: a plain or squared (unsmoothed) Crammer-Singer or
    Weston-Watkins loss with an L1, elastic-net (``l1_ratio > 0``) or group
    L1/L2 penalty, or a piecewise quadratic margin loss
    (:func:`margin_terms`) with the group norm over one-vs-rest columns
    (:func:`_group_columns`)."""
    loss = objective.loss
    if loss.is_multiclass:
        if type(loss) not in (CrammerSinger, WestonWatkins) or loss.smoothing > 0:
            return False
        if type(objective.penalty) not in (L1, ElasticNet, GroupL1L2):
            return False
    elif not _group_columns(objective):
        return False
    return _rho(objective) > 0.0 and objective.offset is None


def margin_terms(loss):
    """``(delta, A, B)`` of a margin loss that is ``min A xi^2 + B zeta``
    over ``xi, zeta >= 0`` with ``xi + zeta >= delta - y s``, or None:

    - the hinge (margin ``m``): ``(m, 0, 1)``, ``zeta`` alone;
    - the squared hinge: ``(1, 1, inf)``, ``xi`` alone;
    - the smooth hinge (``gamma``, margin ``m``): ``(m, 1 / (2 gamma),
      1)``, quadratic up to ``u = gamma``, then linear;
    - the modified Huber loss: ``(1, 1, 4)``, quadratic up to ``u = 2``.
    """
    # the classes themselves: a subclass may define another loss
    if type(loss) is Hinge:
        return float(loss.margin), 0.0, 1.0
    if type(loss) is SquaredHinge:
        return 1.0, 1.0, np.inf
    if type(loss) is SmoothHinge:
        return float(loss.margin), 0.5 / float(loss.gamma), 1.0
    if type(loss) is ModifiedHuber:
        return 1.0, 1.0, 4.0
    return None


def _group_columns(objective):
    """Whether ``objective`` is the group norm over ``K > 1`` one-vs-rest
    columns of a :func:`margin_terms` loss, every column with weighted
    samples on both sides where the intercept is free (else its intercept
    has no minimizer: ``-inf`` for a column of negatives alone)."""
    if type(objective.penalty) is not GroupL1L2 or objective.n_outputs < 2:
        return False
    if margin_terms(objective.loss) is None:
        return False
    if objective.fit_intercept and objective.intercept_penalty == 0.0:
        weighted = (objective.loss_scale * objective.sample_weight) > 0.0
        signs = np.asarray(objective.y)[weighted]
        if not ((signs > 0).any(axis=0) & (signs < 0).any(axis=0)).all():
            return False
    return True


def step_work(objective):
    """One step's multiply-adds: ``K (K + 1) / 2`` weighted Gram
    matrices of the rows (``n (d + 1)^2`` each; ``K`` for one-vs-rest
    columns) and the Cholesky of the ``K (d + 1)`` square system."""
    K, size = objective.n_outputs, objective.n_features + 1
    grams = K * (K + 1) / 2 if objective.loss.is_multiclass else K
    work = grams * objective.n_samples * float(size) ** 2
    return work + (K * size) ** 3 / 3.0


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


def multiclass_primal_dual_applies(objective):
    """Whether ``gd`` solves ``objective`` by :func:`multiclass_primal_dual`:
    a :func:`primal_dual_problem` problem within ``STEP_WORK``."""
    if not primal_dual_problem(objective):
        return False
    return step_work(objective) <= STEP_WORK


def in_centered_coordinates(solve):
    """``solve`` run in centered coordinates (:func:`solve_centered`: the
    normal equations formed from ``X - mean``): on uncentered features the
    intercepts' and the coefficients' columns of the normal equations are
    nearly collinear (features shifted by 1e4: no certificate below 1e-5
    where the centered problem reaches 1e-9). Sparse data too: the offset
    stays implicit in the scores, and the normal equations' blocks are
    densified to be formed anyway (:func:`weighted_gram`); uncentered, the
    pixel counts of optdigits as CSR (0 to 16) lost the intercepts' balance
    near the end (Crammer-Singer, L1, C = 1000: certified on one BLAS kernel,
    1.5e-4 on another after 1,000 iterations)."""

    @functools.wraps(solve)
    def run(objective, tol, max_iterations, callback=None, start=None):
        return solve_centered(
            lambda part, begin: solve(part, tol, max_iterations, callback, begin),
            objective,
            start,
        )

    return run


@in_centered_coordinates
def multiclass_primal_dual(objective, tol, max_iterations, callback=None, start=None):
    """Minimize ``objective`` (see :func:`multiclass_primal_dual_applies`)
    by Mehrotra's predictor-corrector.

    After each step the point is certified by
    :meth:`LinearObjective.duality_gap` at the multipliers ``theta`` (made
    feasible: non-negative, and with a linear slack at most ``B c`` each or
    in sum), the best dual value met kept, with the coefficients the dual puts
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
        record.certify(point.W, point.b, point.multipliers(), mu)
        history.append(record.primal)
        if callback is not None:
            callback(
                steps, record.primal, record.relative(), GAP, record.coef, objective
            )
        relative = record.relative()
        # stale: no better certificate although it is below 1 and the
        # complementarity left (mu per pair) is far below what tol asks of
        # the gap: the iterates have converged and rounding holds the
        # certificate (early on it lags for many steps: texture's first 8
        # lowered it from 1.6e4 to 1.5e4; and mid-way, while mu is still of
        # tol's order: penbased, one-vs-rest smooth hinge (gamma 0.1) with
        # the group norm at C = 100, stayed at 0.86 to 0.99 for 50 steps with
        # mu below a tenth of the gap, then certified 2e-6 at step 64)
        floor = 0.1 * max(tol, STALE_TOL) * record.primal
        small = relative < 1.0 and mu * point.pairs <= floor
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
        extra = point.second_order(predictor)
        step = point.direction(system, target, extra)
        step, lengths = point.centred(system, target, extra, step)
        point.move(step, *lengths)
        steps += 1
    result = record.result(steps, tol)
    result.history = history
    return result


class _Point:
    """The iterate: ``(W, b)``, the terms' slacks ``xi`` (and ``zeta`` for
    terms of two slacks; ``s = xi + zeta - u``) with their multipliers
    ``nu`` (``kappa``) and ``theta``, the coefficients' bounds ``t`` (and
    ``t -+ w``) with theirs ``lambda^+-``, or the cones' ``(t, W_j)`` with
    ``(z0, zbar_j)``.

    It starts with the terms' slacks one above their margins (split in
    halves between two slacks) and the bounds one above the coefficients'
    sizes; each term's multipliers centred at its own ``mu``, which
    balances its (linear, with two) slack's stationarity."""

    def __init__(self, objective, hinges, penalty, W, b):
        self.objective, self.hinges = objective, hinges
        self.rho, self.q = penalty.rho, penalty.q
        self.W, self.b = W, b
        scores = objective.scores(objective.join(W, b))
        U, self.c = hinges._terms(hinges.margins(scores))
        top = np.maximum(U.max(axis=1), 0.0) + 1.0
        self.s = top[:, None] - U
        self.two = hinges.two_slacks
        if self.two:
            # the slack split in halves; the multipliers centred where they
            # balance zeta's stationarity (B c = sum theta + kappa), xi's
            # residual left to the first step
            self.xi, self.zeta = 0.5 * top, 0.5 * top
            centre = hinges.linear * self.c
            centre = centre / (1.0 / self.zeta + np.sum(1.0 / self.s, axis=1))
            self.kappa = centre / self.zeta
            slack_keys, multiplier_keys = ("s", "xi", "zeta"), ("theta", "nu", "kappa")
        else:
            self.xi = top
            centre = self._slope(self.xi)
            centre = centre / (1.0 / self.xi + np.sum(1.0 / self.s, axis=1))
            slack_keys, multiplier_keys = ("s", "xi"), ("theta", "nu")
        self.theta, self.nu = centre[:, None] / self.s, centre / self.xi
        self.grouped = penalty.grouped
        if self.grouped:
            # one second-order cone per feature: (t_j, W_j), its dual
            # (z0_j, zbar_j) starting at (rho, 0)
            self.t = np.sqrt(np.square(W).sum(axis=0)) + 1.0
            self.z0 = np.full(W.shape[1], self.rho)
            self.zbar = np.zeros_like(W)
            self.primal_keys, self.dual_keys = slack_keys, multiplier_keys
            cones = W.shape[1]
        else:
            t = np.abs(W) + 1.0
            self.s_plus, self.s_minus = t - W, t + W
            self.l_plus = np.full(W.shape, 0.5 * self.rho)
            self.l_minus = np.full(W.shape, 0.5 * self.rho)
            self.primal_keys = slack_keys + ("s_plus", "s_minus")
            self.dual_keys = multiplier_keys + ("l_plus", "l_minus")
            cones = 0
        # the products' count: a cone's x.z counts once (its degree)
        self.pairs = sum(getattr(self, k).size for k in self.primal_keys) + cones

    def _by_sample(self, a):
        """Per-term arrays as ``(m, width)`` (Weston-Watkins and one-vs-rest:
        one margin a term)."""
        return a if self.hinges.simplex else a.reshape(-1, self.hinges.width)

    def _slope(self, xi):
        """``xi``'s cost's slope: ``2 A c xi`` (its quadratic part), or ``B c``
        where the term's only slack is linear."""
        hinges = self.hinges
        if hinges.quadratic > 0.0:
            return 2.0 * hinges.quadratic * self.c * xi
        return hinges.linear * self.c

    def _curvatures(self):
        """Per term ``(alpha, beta)``: ``xi``'s cost's curvature plus ``nu /
        xi``, and ``kappa / zeta`` (None with one slack)."""
        alpha = self.nu / self.xi + 2.0 * self.hinges.quadratic * self.c
        return alpha, (self.kappa / self.zeta if self.two else None)

    def _slack_curvature(self, D):
        """``g``: the terms' curvature in ``sigma``, their slacks' sum, with
        ``theta``'s scaling ``D``: ``sum_r D_r`` plus ``alpha`` (one slack)
        or ``alpha beta / (alpha + beta)`` (two in series)."""
        alpha, beta = self._curvatures()
        combined = alpha if beta is None else alpha * beta / (alpha + beta)
        return D.sum(axis=1) + combined

    def multipliers(self):
        """``theta`` as a feasible dual point, ``(m, width)``."""
        return self.hinges.feasible(self._by_sample(self.theta))

    def complementarity(self, step=None, a_p=0.0, a_d=0.0):
        """The mean product of slacks and multipliers, after ``step`` taken
        with lengths ``a_p`` (primal) and ``a_d`` (dual)."""
        total = 0.0
        for primal, dual in zip(self.primal_keys, self.dual_keys, strict=True):
            x, z = getattr(self, primal), getattr(self, dual)
            if step is not None:
                x, z = x + a_p * step[primal], z + a_d * step[dual]
            total += float(np.sum(x * z))
        if self.grouped:
            x, z = self._cone_points(step, a_p, a_d)
            total += float(np.sum(x * z))
        return total / self.pairs

    def _cone_points(self, step=None, a_p=0.0, a_d=0.0):
        """The cones' ``x = (t, W_j)`` and ``z = (z0, zbar_j)``, ``(d, K +
        1)`` each, after ``step``."""
        x = np.vstack([self.t[None, :], self.W]).T
        z = np.vstack([self.z0[None, :], self.zbar]).T
        if step is not None:
            x = x + a_p * np.vstack([step["t"][None, :], step["W"]]).T
            z = z + a_d * np.vstack([step["z0"][None, :], step["zbar"]]).T
        return x, z

    def normal_equations(self):
        """The scalings of this iterate and the factored normal equations,
        or None where the factorization fails."""
        hinges, objective = self.hinges, self.objective
        K, d = objective.n_outputs, objective.n_features
        size = d + int(objective.fit_intercept)
        D = self.theta / self.s
        g = self._slack_curvature(D)
        if hinges.simplex:
            margin_hessian = ("diagonal plus rank one", D, g)
        else:
            margin_hessian = self._by_sample(D[:, 0] - D[:, 0] ** 2 / g)
        H = loss_hessian(objective, hinges, margin_hessian, size)
        H = H.reshape(K, size, K, size)
        features = np.arange(d)
        if self.grouped:
            x, z = self._cone_points()
            # on a cone's boundary to rounding (the scaling divides by these
            # norms: a norm that rounded to 0 at x_0 > ||x_bar|| raised a
            # divide-by-zero error at tol=1e-10)
            if not (np.all(_cone_norm(x) > 0.0) and np.all(_cone_norm(z) > 0.0)):
                return None
            scaling = _nesterov_todd(x, z)
            H_cone = scaling[2]
            # t eliminated: the Schur complement of H_cone's t entry
            schur = (
                H_cone[:, 1:, 1:]
                - np.einsum("jk,jl->jkl", H_cone[:, 1:, 0], H_cone[:, 0, 1:])
                / H_cone[:, 0, 0][:, None, None]
            )
            schur[:, np.arange(K), np.arange(K)] += self.q
            H[:, features, :, features] += schur
            bounds = scaling
        else:
            D_plus, D_minus = self.l_plus / self.s_plus, self.l_minus / self.s_minus
            diagonal = self.q + 4.0 * D_plus * D_minus / (D_plus + D_minus)
            for k in range(K):
                H[k, features, k, features] += diagonal[k]
            bounds = (D_plus, D_minus)
        factor = _factor(H.reshape(K * size, K * size))
        if factor is None:
            return None
        return D, g, bounds, factor, self._residuals()

    def _residuals(self):
        """The primal equalities' residuals: ``xi (+ zeta) - u(W, b) - s``
        per margin, and for L1 bounds ``s^- - s^+ - 2 W`` per coefficient.

        Each step keeps them at 0 in exact arithmetic only; in floating point
        they drift by rounding of the iterates' size, and the steps must
        remove that drift or the iterates converge to the wrong problem's
        optimum: Crammer-Singer with the group norm on optdigits as CSR at C
        = 100 went through coefficients of 1e13 in its first steps, kept
        slacks 0.024 off their margins, and ended, complementarity at 1e-11,
        at an objective of 105.9 where the optimum is 75.26.

        A residual within the rounding of its terms' sizes is taken as 0:
        near the end, with slacks of 1e-17, a correction of 1e-12 of noise
        pushed them out, the complementarity rose again and the iterates
        diverged (Weston-Watkins with L1 on features shifted by 50, C =
        4e4)."""
        objective, hinges = self.objective, self.hinges
        U, _ = hinges._terms(
            hinges.margins(objective.scores(objective.join(self.W, self.b)))
        )
        total = self.xi + self.zeta if self.two else self.xi
        margins = _beyond_rounding(
            total[:, None] - U - self.s, np.abs(total)[:, None] + np.abs(U) + self.s
        )
        if self.grouped:
            return margins, None
        bounds = _beyond_rounding(
            self.s_minus - self.s_plus - 2.0 * self.W,
            self.s_minus + self.s_plus + 2.0 * np.abs(self.W),
        )
        return margins, bounds

    def direction(self, system, target, extra=None):
        """The step to the conditions' linearization at ``target`` (the
        centring's ``mu``, 0 for the predictor), each product's target less
        ``extra[primal]`` (Mehrotra's second-order term, less Gondzio's
        centrality corrections)."""
        D, g, bounds, factor, (r_margins, r_bounds) = system
        hinges, objective = self.hinges, self.objective
        K, d, n = objective.n_outputs, objective.n_features, objective.n_samples
        intercept = objective.fit_intercept

        def goal(primal):
            x = getattr(self, primal)
            return (target if extra is None else target - extra[primal]) / x

        # s's step carries its residual: s + ds = xi + d xi - u - du
        # (+ zeta's) with ds = d sigma - du + r, so theta's goal shifts by -D r
        goal_s, goal_xi = goal("s") - D * r_margins, goal("xi")
        # each term's slacks' stationarity solved for d sigma (the slacks'
        # sum), per term; with two slacks their two conditions combine in
        # series (see the Notes of multiclass_primal_dual)
        e_xi = goal_xi + goal_s.sum(axis=1) - self._slope(self.xi)
        if self.two:
            goal_zeta = goal("zeta")
            e_zeta = goal_zeta + goal_s.sum(axis=1) - hinges.linear * self.c
            alpha, beta = self._curvatures()
            e = (beta * e_xi + alpha * e_zeta) / (alpha + beta)
        else:
            e = e_xi
        theta_goal = goal_s - D * (e / g)[:, None]
        G = hinges.score_gradient(self._by_sample(theta_goal), n)
        gW, gb = objective.split(objective._adjoint(G))
        gW = gW + self.q * self.W
        if self.grouped:
            # each cone's complementarity, scaled (Nesterov-Todd), and its
            # t's stationarity (z0 = rho) solved for d t
            W_nt, W_inv, H_cone, lam = bounds
            x, z = self._cone_points()
            wanted = np.zeros_like(lam)
            wanted[:, 0] = target
            wanted -= _jordan(lam, lam)
            if extra is not None and "cone" in extra:
                wanted -= extra["cone"]
            a = np.einsum("jkl,jl->jk", W_nt, _jordan_solve(lam, wanted))
            f0 = self.rho - self.z0
            lead = (a[:, 0] - f0) / H_cone[:, 0, 0]
            gW = gW - self.zbar - a[:, 1:].T + (H_cone[:, 1:, 0] * lead[:, None]).T
        else:
            D_plus, D_minus = bounds
            # likewise s^- - s^+ = 2 W: d s^-+ = d t +- d W -+ r / 2
            goal_plus = goal("s_plus") - 0.5 * D_plus * r_bounds
            goal_minus = goal("s_minus") + 0.5 * D_minus * r_bounds
            # each bound's stationarity solved for d t, per coefficient
            D_sum, D_diff = D_plus + D_minus, D_plus - D_minus
            f = goal_plus + goal_minus - self.rho
            gW = gW + goal_plus - goal_minus - D_diff * f / D_sum
        gb = np.asarray(gb) + objective.intercept_penalty * self.b
        rhs = np.hstack([gW, gb[:, None]]) if intercept else gW
        step = -scipy.linalg.cho_solve(factor, rhs.ravel(), check_finite=False)
        step = step.reshape(K, -1)
        dW, db = step[:, :d], (step[:, d] if intercept else np.zeros(K))
        dS = objective.scores(objective.join(dW, db))
        du, _ = hinges._terms(hinges.margins(dS) - hinges.delta)
        D_du = np.sum(D * du, axis=1)
        d_sigma = (D_du + e) / g
        d_xi = d_sigma
        if self.two:
            # xi's stationarity: alpha d xi + sum_r D_r d sigma = D.du + e_xi
            d_xi = (D_du + e_xi - D.sum(axis=1) * d_sigma) / alpha
        step = {
            "W": dW, "b": db, "xi": d_xi, "s": d_sigma[:, None] - du + r_margins,
            "theta": D * du - D * (D_du / g)[:, None] + (theta_goal - self.theta),
            "nu": goal_xi - self.nu - (self.nu / self.xi) * d_xi,
        }  # fmt: skip
        if self.two:
            d_zeta = d_sigma - d_xi
            step["zeta"] = d_zeta
            step["kappa"] = goal_zeta - self.kappa - (self.kappa / self.zeta) * d_zeta
        if self.grouped:
            d_t = lead - np.einsum("jk,kj->j", H_cone[:, 0, 1:], dW) / H_cone[:, 0, 0]
            dx = np.vstack([d_t[None, :], dW]).T
            dz = a - np.einsum("jkl,jl->jk", H_cone, dx)
            step.update(t=d_t, z0=dz[:, 0], zbar=dz[:, 1:].T)
            # the cones' Mehrotra term: (W dx) o (W^-1 dz)
            step["cone"] = _jordan(
                np.einsum("jkl,jl->jk", W_nt, dx), np.einsum("jkl,jl->jk", W_inv, dz)
            )
        else:
            d_t = (D_diff * dW + f) / D_sum
            # the multipliers from the goals (shifted by the residual above)
            # and d t -+ d W: the residual's share is in the goals already
            step.update(
                s_plus=d_t - dW + 0.5 * r_bounds,
                s_minus=d_t + dW - 0.5 * r_bounds,
                l_plus=goal_plus - self.l_plus - D_plus * (d_t - dW),
                l_minus=goal_minus - self.l_minus - D_minus * (d_t + dW),
            )  # fmt: skip
        return step

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
            for x, z in zip(self.primal_keys, self.dual_keys, strict=True):
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

    def second_order(self, predictor):
        """Mehrotra's second-order terms of ``predictor``, per product."""
        keys = zip(self.primal_keys, self.dual_keys, strict=True)
        extra = {x: predictor[x] * predictor[z] for x, z in keys}
        if self.grouped:
            extra["cone"] = predictor["cone"]
        return extra

    def lengths(self, step, fraction):
        """The primal and dual step lengths, ``fraction`` of the way to the
        boundary, at most 1."""
        primal, dual = (
            longest_step(
                [getattr(self, k) for k in keys], [step[k] for k in keys], fraction
            )
            for keys in (self.primal_keys, self.dual_keys)
        )
        if self.grouped:
            x, z = self._cone_points()
            dx = np.vstack([step["t"][None, :], step["W"]]).T
            dz = np.vstack([step["z0"][None, :], step["zbar"]]).T
            primal = min(primal, fraction * _longest_in_cone(x, dx))
            dual = min(dual, fraction * _longest_in_cone(z, dz))
        return primal, dual

    def move(self, step, a_p, a_d):
        """Take ``step``: the primal parts by ``a_p``, the dual by ``a_d``."""
        self.W, self.b = self.W + a_p * step["W"], self.b + a_p * step["b"]
        primal, dual = self.primal_keys, self.dual_keys
        if self.grouped:
            primal, dual = primal + ("t",), dual + ("z0", "zbar")
        for key in primal:
            setattr(self, key, getattr(self, key) + a_p * step[key])
        for key in dual:
            setattr(self, key, getattr(self, key) + a_d * step[key])


class _Hinges:
    """The loss's hinge terms and their dual.

    Each sample ``i`` of weight ``c_i > 0`` has margins ``u_r``: for the
    multiclass losses ``delta + s_r - s_{y_i}`` over its wrong classes, one
    term per margin (Weston-Watkins) or one per sample over all of them
    (Crammer-Singer); for a one-vs-rest margin loss ``delta - y_ik s_k``, one
    term per column. A term's loss is ``c min A xi^2 + B zeta`` over ``xi,
    zeta >= 0`` with ``xi + zeta >= u_r`` (:func:`margin_terms`: the plain
    hinge has only ``zeta``, the squared one only ``xi``), and its
    multipliers ``theta_r >= 0`` (at most ``B c`` each, or in sum for
    Crammer-Singer) a dual point.
    """

    def __init__(self, objective):
        loss = objective.loss
        K = objective.n_outputs
        weights = objective.loss_scale * objective.sample_weight
        self.rows = np.flatnonzero(weights > 0.0)
        self.c = weights[self.rows]
        self.K = K
        self.absent = None
        if loss.is_multiclass:
            codes = np.asarray(objective.y, dtype=np.intp)
            self.codes = codes[self.rows]
            self.wrong = wrong_classes(self.codes, K)
            self.family = "simplex" if type(loss) is CrammerSinger else "pairs"
            self.width = K - 1
            self.delta = float(loss.delta)
            self.quadratic, self.linear = (1.0, np.inf) if loss.squared else (0.0, 1.0)
            # with a free intercept, every class's multipliers must sum to 0
            # over the samples: a class with no sample of weight can only be
            # a wrong class, and its multipliers must be 0 in a dual point
            present = np.bincount(self.codes, minlength=K) > 0
            free = objective.fit_intercept and objective.intercept_penalty == 0.0
            self.absent = ~present[self.wrong] if free else None
        else:
            self.family = "columns"
            self.width = K
            self.signs = np.asarray(objective.y, dtype=np.float64)[self.rows]
            self.delta, self.quadratic, self.linear = margin_terms(loss)
        self.simplex = self.family == "simplex"
        # whether a sample's terms couple its scores (the multiclass losses
        # see score differences); one-vs-rest columns are separate
        self.coupled = self.family != "columns"
        self.two_slacks = self.quadratic > 0.0 and np.isfinite(self.linear)

    def margins(self, scores):
        """``u`` (m, width): ``delta + s_r - s_y`` over the wrong classes, or
        ``delta - y_k s_k`` over the columns."""
        S = scores[self.rows]
        if not self.coupled:
            return self.delta - self.signs * S
        index = np.arange(self.rows.size)
        true = S[index, self.codes][:, None]
        return self.delta + S[index[:, None], self.wrong] - true

    def _terms(self, u):
        """The margins grouped by term: ``(m', r)`` with their weights."""
        if self.simplex:
            return u, self.c
        return u.reshape(-1, 1), np.repeat(self.c, self.width)

    def feasible(self, theta):
        """Multipliers ``(m, width)`` made a feasible dual point:
        non-negative, 0 towards a class with no sample of weight (with a free
        intercept), and with a linear slack at most ``B c`` each
        (Weston-Watkins, one-vs-rest) or in sum (Crammer-Singer)."""
        moved = np.maximum(theta, 0.0)
        if self.absent is not None and self.absent.any():
            moved = np.where(self.absent, 0.0, moved)
        if np.isfinite(self.linear):
            cap = self.linear * self.c
            if self.simplex:
                total = moved.sum(axis=1)
                over = total > cap
                moved[over] *= (cap[over] / total[over])[:, None]
            else:
                moved = np.minimum(moved, cap[:, None])
        return moved

    def score_gradient(self, theta, n):
        """``G`` (n, K): the margins' gradient ``theta`` mapped to the scores
        (``+theta_r`` at a wrong class, ``-sum_r theta_r`` at the true one;
        ``-y_k theta_k`` per column)."""
        G = np.zeros((n, self.K))
        if not self.coupled:
            G[self.rows] = -self.signs * theta
            return G
        G[self.rows[:, None], self.wrong] = theta
        G[self.rows, self.codes] = -theta.sum(axis=1)
        return G

    def score_hessian(self, hessian, n):
        """``(n, K, K)``: each sample's margin Hessian ``B`` mapped to the
        scores, ``E^T B E`` with ``E``'s rows ``e_r - e_y``; ``B`` is
        ``diag(a) - a a^T / g`` (Crammer-Singer) or diagonal (Weston-Watkins,
        and one-vs-rest, where ``E = diag(-y)``), scattered entry by entry
        (no ``(n, K - 1, K)`` products); for one-vs-rest columns only the
        diagonal, ``(n, K)`` (an ``(n, K, K)`` array of zeros off it was 80 MB
        a step at 100,000 x 10, K = 10)."""
        m, K = self.rows.size, self.K
        if self.simplex:
            _, a, g = hessian
        else:
            a = hessian
        if not self.coupled:
            H = np.zeros((n, K))
            H[self.rows] = a
            return H
        H = np.zeros((n, K, K))
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
        H[self.rows] = H_rows
        return H

    def conjugate(self, theta, n):
        """``F^*(G)`` at ``G = score_gradient(theta)``: per sample ``-delta
        sum_r theta_r`` plus, with a quadratic slack, ``sum_r theta_r^2 / (4
        A c)`` (Weston-Watkins) or ``(sum_r theta_r)^2 / (4 A c)``
        (Crammer-Singer); per entry ``-delta theta + theta^2 / (4 A c)`` for
        the one-vs-rest columns."""
        A = self.quadratic
        if not self.coupled:
            conj = -self.delta * theta
            if A > 0.0:
                conj = conj + theta * theta / (4.0 * A * self.c[:, None])
            out = np.zeros((n, self.K))
            out[self.rows] = conj
            return out
        total = theta.sum(axis=1)
        conj = -self.delta * total
        if A > 0.0:
            square = total * total if self.simplex else np.sum(theta * theta, axis=1)
            conj = conj + square / (4.0 * A * self.c)
        out = np.zeros(n)
        out[self.rows] = conj
        return out


class _Penalty:
    """The penalty's weights: ``rho`` on its non-smooth part (the L1 norm
    of ``W``'s entries, or of its features' norms for the group norm),
    ``q`` on ``||W||^2 / 2`` (the elastic net)."""

    def __init__(self, objective):
        self.rho = _rho(objective)
        self.q = float(objective.reg)
        self.grouped = type(objective.penalty) is GroupL1L2

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


class _Record:
    """The best certified point and the best dual value met."""

    def __init__(self, objective, hinges, penalty, method="primal-dual interior point"):
        self.objective, self.hinges, self.penalty = objective, hinges, penalty
        self.coef, self.primal, self.dual = None, np.inf, -np.inf
        self.method = method
        # where the last dual put the coefficients inside the penalty's ball
        # (0 at the optimum where they stay there): see result()
        self.inside = None

    def relative(self, primal=None):
        primal = self.primal if primal is None else primal
        if not np.isfinite(primal):
            return np.inf
        gap = max(primal - self.dual, 0.0)
        return gap / primal if primal > 0 else 0.0

    def certify(self, W, b, theta, mu):
        """Bound ``P*`` at the multipliers ``theta`` (``(m, width)``, feasible)
        and try ``(W, b)`` and its snapped version as the best point;
        returns the gap at ``(W, b)``."""
        objective, n = self.objective, self.objective.n_samples
        coef = objective.join(W, b)
        G = self.hinges.score_gradient(theta, n)
        dual = (G, self.hinges.conjugate(theta, n))
        gap, primal = objective.duality_gap(coef, dual=dual)
        self._offer(coef, primal, primal - gap)
        # what the dual puts inside the penalty's ball, and the iterates hold
        # near 0, is 0 at the optimum
        V = objective.split(objective._adjoint(G))[0]
        self.inside = self.penalty.inside(V)
        inside = self.inside & (W != 0.0)
        if mu > 0.0:
            inside &= self.penalty.sizes(W) <= SNAP_MU * mu / self.penalty.rho
        if inside.any():
            snapped = np.where(inside, 0.0, W)
            snapped_coef = objective.join(snapped, b)
            snapped_gap, snapped_primal = objective.duality_gap(snapped_coef, dual=dual)
            self._offer(snapped_coef, snapped_primal, snapped_primal - snapped_gap)
        return gap

    def _sparsest(self, tol):
        """``(coef, P, optimality)``: the best point with the coefficients
        (groups) the dual puts inside the ball and below a share of the
        largest (``ZERO_SHARES``, the most that keeps the certificate within
        ``max(optimality, tol)``) set to 0.

        The snaps of :meth:`certify` are kept only where they lower ``P``,
        and they seldom do by more than rounding: Crammer-Singer with L1
        (60 x 200, 3 classes) ended with none of its 600 coefficients at 0,
        515 of them below 1e-4 of the largest (1e-12 to 1e-20 at
        ``tol=1e-8``)."""
        coef, primal, optimality = self.coef, self.primal, self.relative()
        if coef is None or self.inside is None:
            return coef, primal, optimality
        objective = self.objective
        W, b = objective.split(coef)
        sizes = self.penalty.sizes(W)
        largest = float(sizes.max(initial=0.0))
        best = (coef, primal, optimality)
        for share in ZERO_SHARES:
            clear = self.inside & (sizes <= share * largest) & (W != 0.0)
            if not clear.any():
                continue
            snapped = objective.join(np.where(clear, 0.0, W), b)
            value = float(objective.value(snapped))
            if self.relative(value) > max(optimality, tol):
                break
            best = (snapped, value, self.relative(value))
        return best

    def _offer(self, coef, primal, dual):
        if np.isfinite(dual):
            self.dual = max(self.dual, dual)
        if primal < self.dual - BOUND_ROUNDING * abs(self.dual):
            # below a proven lower bound: the value lost its digits, not the
            # point its loss (Weston-Watkins with L1 on features shifted by
            # 50, C = 4e4: diverged steps left W = 0 with intercepts of 1e32,
            # where delta + s_r - s_y rounds to s_r - s_y, and "P = 0" was
            # reported certified)
            return
        if primal < self.primal:
            self.coef, self.primal = coef, primal

    def result(self, steps, tol):
        coef, primal, optimality = self._sparsest(tol)
        converged = optimality <= tol
        return SolveResult(
            coef=coef,
            n_iter=int(steps),
            converged=bool(converged),
            value=float(primal),
            optimality=float(optimality),
            history=[],
            message=(
                f"relative duality gap below tol ({self.method})"
                if converged
                else f"the {self.method} stopped above tol"
            ),
        )


def loss_hessian(objective, hinges, margin_hessian, size):
    """``sum_i H_i (x) x_i x_i^T`` over the rows (``H_i`` the loss's ``K x
    K`` score Hessian; one weighted Gram matrix per pair of classes, per
    class for one-vs-rest columns), ``K size`` square, with a free
    intercept's pin along ``1`` for the multiclass losses (they only see
    score differences, so shifting every intercept alike changes
    nothing)."""
    K, n = objective.n_outputs, objective.n_samples
    X = objective.X
    H = np.zeros((K, size, K, size))
    if hinges.coupled and not hinges.simplex:
        _weston_watkins_blocks(objective, hinges, margin_hessian, H)
        return _pinned(objective, hinges, H).reshape(K * size, K * size)
    H_scores = hinges.score_hessian(margin_hessian, n)
    if hinges.coupled:
        pairs = [(k, m) for k in range(K) for m in range(k, K)]
        weights = H_scores[:, [k for k, _ in pairs], [m for _, m in pairs]]
    else:
        pairs, weights = [(k, k) for k in range(K)], H_scores
    # the pairs with curvature on most rows share each densified block of
    # rows (see weighted_gram: Crammer-Singer's, whose rank-one part couples
    # every pair on every row); the others take their own rows (Weston-
    # Watkins's pairs of two classes: the samples of those two only)
    counts = np.count_nonzero(weights, axis=0)
    shared = counts > SHARED_ROWS * X.shape[0]
    grams = [None] * len(pairs)
    if shared.any():
        index = np.flatnonzero(shared)
        blocks = weighted_gram(
            X, weights[:, index], objective.offset, objective.fit_intercept
        )
        for i, block in zip(index, blocks, strict=True):
            grams[i] = block
    for i in np.flatnonzero(~shared):
        rows = np.flatnonzero(weights[:, i])
        grams[i] = weighted_gram(
            X[rows], weights[rows, i], objective.offset, objective.fit_intercept
        )
    for (k, m), block in zip(pairs, grams, strict=True):
        H[k, :, m, :] = block
        if m != k:
            H[m, :, k, :] = block.T
    return _pinned(objective, hinges, H).reshape(K * size, K * size)


def _weston_watkins_blocks(objective, hinges, margin_hessian, H):
    """Add Weston-Watkins's ``sum_i H_i (x) x_i x_i^T`` to ``H`` (``(K,
    size, K, size)``) class by class: a sample of class ``c`` has ``a_r`` at
    ``(r, r)``, their sum at ``(c, c)`` and ``-a_r`` at ``(c, r)`` and ``(r,
    c)``, nothing between two wrong classes, so ``D_{c, r} = X_c^T diag(a_r)
    X_c`` over the samples of class ``c`` gives every block: ``n (K - 1)``
    weighted rows in all, one product per class, where the pairs' Gram
    matrices took ``(2 K - 1) n`` (penbased, elastic net: 1.2 of its 3.0 s)."""
    X, codes, rows = objective.X, hinges.codes, hinges.rows
    K = objective.n_outputs
    for c in range(K):
        members = np.flatnonzero(codes == c)
        if not len(members):
            continue
        wrong = hinges.wrong[members[0]]
        blocks = weighted_gram(
            X[rows[members]], margin_hessian[members], objective.offset,
            objective.fit_intercept,
        )  # fmt: skip
        for r, D in zip(wrong, blocks, strict=True):
            H[r, :, r, :] += D
            H[c, :, c, :] += D
            H[c, :, r, :] -= D
            H[r, :, c, :] -= D


def _pinned(objective, hinges, H):
    """``H`` (``(K, size, K, size)``) with a penalized intercept's curvature,
    or a free intercept's pin along ``1`` for the multiclass losses."""
    if objective.fit_intercept:
        K, d = objective.n_outputs, objective.n_features
        p = objective.intercept_penalty
        corner = H[:, d, :, d]
        corner += p * np.eye(K)
        if p == 0.0 and hinges.coupled:
            scale = float(np.abs(np.diagonal(corner)).mean())
            corner += (scale if scale > 0 else 1.0) * np.ones((K, K)) / K
        H[:, d, :, d] = corner
    return H


def _beyond_rounding(residual, size):
    """``residual`` with the entries within ``RESIDUAL_ROUNDING`` of their
    terms' ``size`` (the sum of their magnitudes) set to 0."""
    return np.where(np.abs(residual) > RESIDUAL_ROUNDING * size, residual, 0.0)


def _longest_in_cone(x, dx):
    """The longest ``a`` with ``x + a dx`` in the second-order cone (rows
    ``(x0, xbar)``, ``x`` inside): the first positive root of ``q(a) = (x0 +
    a dx0)^2 - ||xbar + a dxbar||^2`` (``q(0) > 0``), with ``x0 + a dx0 >=
    0``. The roots are taken in the form without cancellation (``c / q``
    beside ``q / a``): ``(-b - sqrt(disc)) / 2a`` lost every digit for a
    direction along the cone's surface (``a`` near 0: 1754 for 542)."""
    J = np.ones(x.shape[1])
    J[1:] = -1.0
    a_ = np.sum(J * dx * dx, axis=1)
    b_ = 2.0 * np.sum(J * x * dx, axis=1)
    c_ = np.sum(J * x * x, axis=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = b_ * b_ - 4.0 * a_ * c_
        real = disc >= 0.0
        q = -0.5 * (b_ + np.copysign(np.sqrt(np.maximum(disc, 0.0)), b_))
        roots = np.stack([q / a_, c_ / q])
        roots = np.where(real & np.isfinite(roots) & (roots > 0.0), roots, np.inf)
        lead = np.where(dx[:, 0] < 0, -x[:, 0] / dx[:, 0], np.inf)
    return float(min(roots.min(initial=np.inf), lead.min(initial=np.inf)))


def _jordan(u, v):
    """The second-order cones' Jordan product, row by row: ``(u.v, u0 vbar +
    v0 ubar)``."""
    out = np.empty_like(u)
    out[:, 0] = np.sum(u * v, axis=1)
    out[:, 1:] = u[:, :1] * v[:, 1:] + v[:, :1] * u[:, 1:]
    return out


def _jordan_solve(lam, a):
    """``u`` with ``lam o u = a``, row by row (``lam`` inside the cone)."""
    lam0, lam_bar = lam[:, 0], lam[:, 1:]
    det = lam0 * lam0 - np.sum(lam_bar * lam_bar, axis=1)
    u0 = (lam0 * a[:, 0] - np.sum(lam_bar * a[:, 1:], axis=1)) / det
    u = np.empty_like(a)
    u[:, 0] = u0
    u[:, 1:] = (a[:, 1:] - u0[:, None] * lam_bar) / lam0[:, None]
    return u


def _cone_norm(u):
    """``sqrt(u_0^2 - ||u_bar||^2)`` row by row, as ``(u_0 - ||u_bar||)
    (u_0 + ||u_bar||)`` (the difference of squares cancels near the
    boundary); 0 or NaN outside the cone."""
    bar = np.linalg.norm(u[:, 1:], axis=1)
    with np.errstate(invalid="ignore"):
        return np.sqrt((u[:, 0] - bar) * (u[:, 0] + bar))


def _nesterov_todd(x, z):
    """The cones' Nesterov-Todd scaling, row by row: ``(W, W^-1, W^2,
    lambda)``, ``W`` symmetric with ``W x = W^-1 z = lambda``: ``W = theta
    B(w)``, ``B`` the Lorentz boost of ``w = (z^ + J x^) / (2 gamma)``
    (``x^``, ``z^`` normalized to ``u^T J u = 1``, ``J = diag(1, -I)``,
    ``gamma^2 = (1 + x^.z^) / 2``), ``theta^2 = ||z||_J / ||x||_J``
    (Alizadeh and Goldfarb, 2003)."""
    m = x.shape[1]
    J = np.ones(m)
    J[1:] = -1.0
    x_norm, z_norm = _cone_norm(x), _cone_norm(z)
    x_hat, z_hat = x / x_norm[:, None], z / z_norm[:, None]
    gamma = np.sqrt(0.5 * (1.0 + np.sum(x_hat * z_hat, axis=1)))
    w = (z_hat + J * x_hat) / (2.0 * gamma[:, None])
    theta = np.sqrt(z_norm / x_norm)
    w0, w_bar = w[:, 0], w[:, 1:]
    boost = np.empty((x.shape[0], m, m))
    boost[:, 0, 0] = w0
    boost[:, 0, 1:] = boost[:, 1:, 0] = w_bar
    boost[:, 1:, 1:] = (
        np.eye(m - 1)[None]
        + np.einsum("jk,jl->jkl", w_bar, w_bar) / (1.0 + w0)[:, None, None]
    )
    W = theta[:, None, None] * boost
    # a boost's inverse is J B J
    W_inv = (J[None, :, None] * boost * J[None, None, :]) / theta[:, None, None]
    lam = np.einsum("jkl,jl->jk", W, x)
    return W, W_inv, np.einsum("jkl,jlm->jkm", W, W), lam
