"""A primal-dual interior-point method for the multiclass hinges' duals.

The plain Weston-Watkins and Crammer-Singer losses are sums and maxima of
hinges: their duals are quadratic programs over ``theta_i^r >= 0``, one
multiplier per sample ``i`` and wrong class ``r``, bounded per entry by
``U_i`` (Weston-Watkins: each term its own hinge) or in sum by ``U_i``
(Crammer-Singer: one hinge on the largest term), with ``W = sum_i x_i
alpha_i^T``, ``alpha_i^r = -theta_i^r`` and ``alpha_i^{y_i} = sum_r
theta_i^r``. Mehrotra's predictor-corrector solves them in a few tens of
Newton steps whatever the degeneracy of the data. Each step eliminates the
multipliers and solves the normal equations

.. math:: (I + \\textstyle\\sum_i S_i \\otimes x_i x_i^T)\\, dW = r

in the ``p K`` coefficients (``S_i = M_i H_i^{-1} M_i^T``, ``K x K``, with
``H_i`` the barrier's Hessian of sample ``i``: diagonal for Weston-Watkins,
diagonal plus rank one for Crammer-Singer), formed block by block and
factorized by Cholesky; an unpenalized intercept adds the equality
``sum_i alpha_i = 0``, whose multipliers are the intercepts, through a
``K x K`` Schur complement. The squared losses' duals have no upper bound
but a quadratic term (``quadratic=True`` of :func:`solve_multiclass_dual`),
whose curvature takes the bound's barrier term's place in ``H_i``.

The point of it: the smoothing route of ``gd`` stalls on these losses
(digits, Weston-Watkins with the free intercept: 1,000 iterations, a bound
of 1.5e-3), and no coordinate method exists for Weston-Watkins here.
"""

import numpy as np
import scipy.linalg

from ._interior_point import TO_BOUNDARY, InteriorPointFailed, longest_step

#: a solve stops after this many steps that did not lower its best gap (or,
#: before the equality holds, its residual) by a factor ``PROGRESS`` (near
#: rounding level the normal equations lose accuracy: the iterates then
#: wander, and the best one is kept). A factor of 0.5 on the residual ended
#: satimage's solves after 10-14 steps at a gap of 1.3: early steps of
#: length 0.1-0.3 shrink the residual by only that much
STALE_STEPS = 5
PROGRESS = 0.99
#: refinements of each Newton step against the operator itself, once the
#: unrefined steps stall above tol
REFINEMENTS = 2
#: the ridge (relative to the largest diagonal entry) a factorization that
#: lost positive definiteness to rounding is retried with
RIDGE = 1e-12
#: the dual slacks start shifted by this multiple of the mean complementarity
#: per variable (Mehrotra's starting-point heuristic: no product far below
#: the others)
START_SHIFT = 0.5
#: Gondzio's multiple centrality correctors: at most ``CORRECTORS`` per
#: step, each aiming at a step ``CORRECTOR_REACH`` times longer, the
#: products pushed into ``[CENTRALITY mu, mu / CENTRALITY]``, kept where
#: the step grows by ``CORRECTOR_GAIN`` of the aimed increase. Mehrotra's
#: steps alone were 0.2-0.4 of the way for most of a solve; over 2,000-row
#: samples of penbased, satimage and texture (both losses, C = 1 and 10)
#: the steps went from 614 to 539 (one corrector), 489 (two) and 462
#: (three), each a solve with the step's factorization
CORRECTORS = 3
#: ... while the relative gap is above this: near the end they pushed the
#: iterates around at rounding level (a 30-sample Crammer-Singer problem at
#: C = 10 stalled at 4e-8)
CORRECTOR_GAP = 1e-6
CORRECTOR_REACH = 1.5
CENTRALITY = 0.1
CORRECTOR_GAIN = 0.1
#: the equality's residual (relative to the sum of the bounds) at which an
#: iterate counts as feasible: the certificate rebalances the multipliers
#: exactly, at a cost in the dual of about this much. At 1e-12, rounding
#: pushed the residual of a C = 1e5 solve just above it for good (1.1e-12
#: to 2e-11 from its 16th step), no later iterate could be kept, and the
#: solve returned its 15th (a gap of 7.7e-3 where the 19th had 6e-5)
BALANCE = 1e-10


def wrong_classes(codes, n_classes):
    """``(n, K - 1)`` indices of each sample's wrong classes, in order."""
    base = np.arange(n_classes - 1)[None, :]
    return base + (base >= codes[:, None])


def multipliers(theta, codes, wrong, n_classes):
    """``alpha`` (n, K) from the wrong classes' ``theta`` (n, K - 1)."""
    n = theta.shape[0]
    alpha = np.zeros((n, n_classes))
    index = np.arange(n)
    alpha[index[:, None], wrong] = -theta
    alpha[index, codes] = theta.sum(axis=1)
    return alpha


def margins(scores, codes, wrong):
    """``scores_i^{y_i} - scores_i^r`` for the wrong classes ``r``."""
    index = np.arange(codes.size)
    return scores[index, codes][:, None] - scores[index[:, None], wrong]


class _Layout:
    """Flat indices of each sample's true and wrong classes in an ``(n, K)``
    array, and the samples of each class, computed once per solve: the
    steps gather and scatter through them several times each (2-D fancy
    indexing took a fifth of penbased's solve)."""

    def __init__(self, rows, codes, K):
        n = codes.size
        self.n, self.K = n, K
        self.codes, self.wrong = codes, wrong_classes(codes, K)
        self.flat_true = np.arange(n) * K + codes
        self.flat_wrong = (np.arange(n)[:, None] * K + self.wrong).ravel()
        self.members = [np.flatnonzero(codes == c) for c in range(K)]
        self.class_rows = [rows[m] for m in self.members]

    def multipliers(self, theta):
        alpha = np.zeros(self.n * self.K)
        alpha[self.flat_wrong] = -theta.ravel()
        alpha[self.flat_true] = theta.sum(axis=1)
        return alpha.reshape(self.n, self.K)

    def margins(self, scores):
        flat = np.ascontiguousarray(scores).ravel()
        wrong = flat[self.flat_wrong].reshape(self.n, self.K - 1)
        return flat[self.flat_true][:, None] - wrong


def solve_multiclass_dual(
    rows,
    codes,
    upper,
    margin,
    n_classes,
    *,
    simplex,
    equality,
    tol,
    max_steps,
    callback=None,
    quadratic=False,
):
    """The multiclass hinge dual on ``rows`` by Mehrotra's predictor-corrector.

    Solves

    .. math:: \\min_{\\theta \\in \\mathcal{B}}\\;
              \\tfrac12 \\|\\textstyle\\sum_i x_i (M_i\\theta_i)^T\\|_F^2
              - m \\textstyle\\sum_{i, r} \\theta_i^r
              \\quad (\\text{and } \\textstyle\\sum_i M_i\\theta_i = 0
              \\text{ with ``equality``}),

    ``B``: ``0 <= theta_i^r <= U_i`` (Weston-Watkins) or ``theta_i >= 0``,
    ``sum_r theta_i^r <= U_i`` (Crammer-Singer, ``simplex``). With ``W =
    sum_i x_i alpha_i^T``, ``b`` the equality's multipliers and ``rho_i^r =
    x_i . (w_{y_i} - w_r) + b_{y_i} - b_r - m`` the Karush-Kuhn-Tucker
    conditions read ``rho = nu - xi`` with ``nu`` the multipliers of ``theta
    >= 0`` and ``xi`` those of the upper bounds (one per entry, or one per
    sample with ``simplex``: the loss's slack), each complementary to its
    constraint. ``(W, b)`` is the primal solution.

    Parameters
    ----------
    rows : ndarray of shape (n, p)
        Dense rows ``x_i`` (a penalized intercept's constant feature
        included).
    codes : ndarray of shape (n,)
        True classes, in ``0 .. n_classes - 1``.
    upper : ndarray of shape (n,)
        The bounds ``U_i > 0``.
    margin : float
        ``m > 0``.
    n_classes : int
        ``K >= 2``.
    simplex : bool
        Crammer-Singer's constraints (else Weston-Watkins's box).
    equality : bool
        Whether ``sum_i alpha_i = 0`` holds (an unpenalized intercept).
    tol : float
        Stop where the Lagrangian gap ``sum theta rho + sum U [-rho]_+``
        (the duality gap where the equality holds) is below ``tol`` times
        ``||W||^2 / 2 + sum U [-rho]_+`` and the equality's residual is at
        rounding level.
    max_steps : int
    callback : callable, optional
        ``callback(step, W, b, gap)`` after each step (``gap`` relative).
    quadratic : bool
        The squared loss's dual instead (``U_i [.]_+^2`` per sample or per
        term): no upper bound, and ``sum_i (sum_r theta_i^r)^2 / (4 U_i)``
        (``simplex``) or ``sum_{i, r} (theta_i^r)^2 / (4 U_i)`` added to the
        objective. The bound's multiplier ``xi`` is then that term's
        gradient, ``(sum_r theta_i^r) / (2 U_i)`` or ``theta_i^r / (2
        U_i)``, with no complementarity of its own; the slack is carried as
        ``s = 2 U xi``, so that the Newton system's ``xi / s`` is the term's
        curvature ``1 / (2 U)``.

    Returns
    -------
    theta : ndarray of shape (n, K - 1)
    W : ndarray of shape (p, K)
    b : ndarray of shape (K,)
        Zeros without ``equality``.
    steps : int
        The steps taken (the iterate returned may be an earlier one: the
        feasible iterate with the smallest gap).
    slacks : tuple of ndarray
        ``(s, nu, xi)`` of that iterate: the distances to the upper bounds
        (per entry, or per sample with ``simplex``) and the multipliers of
        the lower and upper bounds, which say which bound each multiplier
        approaches (:func:`bound_sets`).
    """
    n, p = rows.shape
    K = n_classes
    layout = _Layout(rows, codes, K)
    # the centre of the feasible set
    share = upper / K if simplex else 0.5 * upper
    theta = np.repeat(share[:, None], K - 1, axis=1)
    s = upper - theta.sum(axis=1) if simplex else upper[:, None] - theta
    b = np.zeros(K)
    W = rows.T @ layout.multipliers(theta)
    bound = upper if simplex else upper[:, None]

    def residual_margins(W, b):
        return layout.margins(rows @ W + b) - margin

    def slack_step(d_theta):
        # s = U - 1^T theta per sample (simplex), U - theta per entry (box)
        return -d_theta.sum(axis=1) if simplex else -d_theta

    def quadratic_slacks(theta):
        # (s, xi) of the squared loss: s = 2 U xi, xi = (1^T) theta / (2 U)
        total = theta.sum(axis=1) if simplex else theta
        return total, total / (2.0 * bound)

    rho = residual_margins(W, b)
    # slacks that zero the dual residual nu - xi = rho, then shifted alike
    if quadratic:
        s, xi = quadratic_slacks(theta)
        nu = np.maximum(rho + (xi[:, None] if simplex else xi), 0.0) + margin
    elif simplex:
        xi = np.maximum(-rho.min(axis=1), 0.0) + margin
        nu = rho + xi[:, None]
    else:
        nu = np.maximum(rho, 0.0) + margin
        xi = nu - rho
    if quadratic:
        comp = float(np.sum(theta * nu))
        nu = nu + START_SHIFT * comp / float(theta.sum())
        count = theta.size
    else:
        comp = float(np.sum(theta * nu) + np.sum(s * xi))
        shift = START_SHIFT * comp / float(theta.sum() + s.sum())
        nu = nu + shift
        xi = xi + shift
        count = theta.size + s.size

    def bounded(values, changes):
        # the variables a step keeps positive: without an upper bound, the
        # squared loss's s and xi follow theta
        return (values[:2], changes[:2]) if quadratic else (values, changes)

    def complementarity(theta, s, nu, xi):
        if quadratic:
            return float(np.sum(theta * nu))
        return float(np.sum(theta * nu) + np.sum(s * xi))

    scale = max(float(upper.sum()), 1e-300)
    best, stale, last_residual = (np.inf, theta, W, b, (s, nu, xi)), 0, np.inf
    refine = 0
    for step in range(max_steps + 1):  # step 0 measures the start
        r_eq = layout.multipliers(theta).sum(axis=0) if equality else None
        if quadratic:
            # P - D = sum theta rho + sum (1^T theta)^2 / (4 U) + sum U loss^2
            excess = (
                np.maximum(-rho.min(axis=1), 0.0) if simplex else np.maximum(-rho, 0.0)
            )
            loss = float(np.sum(bound * excess**2))
            primal = 0.5 * float(np.sum(W * W)) + loss
            total = theta.sum(axis=1) if simplex else theta
            gap = float(np.sum(theta * rho)) + float(np.sum(total**2 / (4.0 * bound)))
            gap += loss
        else:
            loss = (
                np.maximum(-rho.min(axis=1), 0.0)
                if simplex
                else np.maximum(-rho, 0.0).sum(axis=1)
            )
            primal = 0.5 * float(np.sum(W * W)) + float(upper @ loss)
            gap = float(np.sum(theta * rho) + upper @ loss)
        residual = 0.0 if r_eq is None else float(np.max(np.abs(r_eq)))
        balanced = residual <= BALANCE * scale
        relative = gap / primal if primal > 0 else 0.0
        if callback is not None and step:
            callback(step, W, b, relative)
        # a step that does not lower the best feasible gap by 1 % counts as
        # stale, and so does one that does not lower the equality's residual
        # by 1 % (each step scales it by 1 - t: short steps early on shrink
        # it slowly, rounding stops it)
        if balanced:
            stale = 0 if gap < PROGRESS * best[0] else stale + 1
        else:
            stale = 0 if residual < PROGRESS * last_residual else stale + 1
            last_residual = min(residual, last_residual)
        if balanced and gap < best[0]:
            best = (gap, theta, W, b, (s, nu, xi))
        if balanced and relative <= tol:
            break
        if stale >= STALE_STEPS and not refine and np.isfinite(best[0]):
            # stalled on rounding: go on from the best iterate with the steps
            # refined against the operator (features far from 0 without a
            # free intercept: X + 1e4 stalled at 7e-3, refined it reaches
            # 2e-6; refining every step cost penbased half its time again)
            refine, stale, last_residual = REFINEMENTS, 0, np.inf
            theta, W, b, (s, nu, xi) = best[1], best[2], best[3], best[4]
            rho = residual_margins(W, b)
            continue
        if stale >= STALE_STEPS or step == max_steps:
            break
        r_dual = rho - nu + (xi[:, None] if simplex else xi)
        try:
            system = _NewtonSystem(
                rows, layout, theta, s, nu, xi, simplex, equality, refine
            )
        except InteriorPointFailed:  # rounding only: the best iterate stands
            break
        # predictor (affine scaling), then Mehrotra's centred corrector (the
        # squared loss's xi has no complementarity: its residual is 0)
        zero_xi = np.zeros_like(xi) if quadratic else None
        d_theta, _, dnu, dxi = system.step(
            r_dual, theta * nu, zero_xi if quadratic else s * xi, r_eq
        )
        ds = slack_step(d_theta)
        t = longest_step(*bounded((theta, nu, s, xi), (d_theta, dnu, ds, dxi)), 1.0)
        comp = complementarity(theta, s, nu, xi)
        affine = complementarity(
            theta + t * d_theta, s + t * ds, nu + t * dnu, xi + t * dxi
        )
        mu = (affine / comp) ** 3 * comp / count if comp > 0 else 0.0
        d_theta, db, dnu, dxi = system.step(
            r_dual,
            theta * nu + d_theta * dnu - mu,
            zero_xi if quadratic else s * xi + ds * dxi - mu,
            r_eq,
        )
        ds = slack_step(d_theta)
        t = longest_step(
            *bounded((theta, nu, s, xi), (d_theta, dnu, ds, dxi)), TO_BOUNDARY
        )
        # Gondzio's centrality correctors: push the products that a longer
        # step would leave far from mu back into [mu / 10, 10 mu], reusing
        # the factorization, while that lengthens the step
        for _ in range(CORRECTORS if relative > CORRECTOR_GAP else 0):
            if t >= 1.0 or mu <= 0:
                break
            trial = min(1.0, CORRECTOR_REACH * t)
            products = (
                (theta + trial * d_theta) * (nu + trial * dnu),
                (s + trial * ds) * (xi + trial * dxi),
            )
            low, high = CENTRALITY * mu, mu / CENTRALITY
            pushes = [np.clip(v, low, high) - v for v in products]
            pushes = [np.maximum(p, -high) for p in pushes]
            if quadratic:
                pushes[1] = zero_xi
            c_theta, c_b, c_nu, c_xi = system.step(
                np.zeros_like(r_dual), -pushes[0], -pushes[1],
                None if r_eq is None else np.zeros_like(r_eq),
            )  # fmt: skip
            n_theta, n_b = d_theta + c_theta, db + c_b
            n_nu, n_xi = dnu + c_nu, dxi + c_xi
            n_s = slack_step(n_theta)
            n_t = longest_step(
                *bounded((theta, nu, s, xi), (n_theta, n_nu, n_s, n_xi)),
                TO_BOUNDARY,
            )
            if n_t < t + CORRECTOR_GAIN * (trial - t):
                break
            d_theta, db, dnu, dxi, ds, t = n_theta, n_b, n_nu, n_xi, n_s, n_t
        theta = theta + t * d_theta
        s = s + t * ds
        nu = nu + t * dnu
        xi = xi + t * dxi
        if quadratic:
            s, xi = quadratic_slacks(theta)
        b = b + t * db
        # W from theta, not W + t dW: the two drift apart where H^{-1} spans
        # many magnitudes late in a solve
        W = rows.T @ layout.multipliers(theta)
        rho = residual_margins(W, b)
    if not np.isfinite(best[0]):  # never balanced: the last iterate
        best = (gap, theta, W, b, (s, nu, xi))
    return best[1], best[2], best[3], step, best[4]


def _factorized(normal):
    """Cholesky of a symmetric positive definite ``normal``; where rounding
    lost its definiteness, of ``normal`` with a ridge of ``RIDGE`` times its
    largest diagonal entry."""
    try:
        return scipy.linalg.cho_factor(normal, lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        pass
    ridged = normal + RIDGE * float(np.max(np.diag(normal))) * np.eye(len(normal))
    try:
        return scipy.linalg.cho_factor(ridged, lower=False, check_finite=False)
    except np.linalg.LinAlgError as error:
        raise InteriorPointFailed(str(error)) from error


class _NewtonSystem:
    """One step's linear system, factorized once for the predictor's and the
    corrector's solves (see :func:`solve_multiclass_dual`).

    With ``g = -r_dual - r_nu / theta + (r_xi / s)`` (summed over a
    sample's entries with ``simplex``), the step solves ``(A A^T + H)
    d_theta + E^T d_b = g`` and ``E d_theta = -r_eq`` (``A^T theta = W``,
    ``E theta = sum_i alpha_i``); ``d_W = A^T d_theta`` solves ``N d_W = A^T
    H^{-1} (g - E^T d_b)`` with ``N = I + A^T H^{-1} A``, and ``d_b`` the
    ``K x K`` Schur complement ``sum_i S_i - P^T N^{-1} P`` (``P = A^T
    H^{-1} E^T``), singular along the constant (one intercept is free):
    ``1 1^T`` added fixes ``sum d_b = 0``.
    """

    def __init__(self, rows, layout, theta, s, nu, xi, simplex, equality, refine=0):
        n, p = rows.shape
        K, codes, wrong = layout.K, layout.codes, layout.wrong
        self.rows, self.layout = rows, layout
        self.theta, self.s, self.nu, self.xi = theta, s, nu, xi
        self.simplex, self.equality, self.refine = simplex, equality, refine
        samples = np.arange(n)
        if simplex:
            # H_i^{-1} = diag(q) - q q^T / T, q = theta / nu, T = s / xi +
            # sum q; the diagonal as q_r (T - q_r) / T with T - q_r summed
            # without q_r (a sample at its bound has one q_r far above)
            q = theta / nu
            slack = s / xi
            total = slack + q.sum(axis=1)
            inverse = -q[:, :, None] * q[:, None, :] / total[:, None, None]
            others = slack[:, None] + (q[:, None, :] * (1 - np.eye(K - 1))).sum(-1)
            diagonal = np.arange(K - 1)
            inverse[:, diagonal, diagonal] = q * others / total[:, None]
            self.inverse = inverse
            S = np.zeros((n, K, K))
            S[samples, codes, codes] = q.sum(axis=1) * slack / total
            column = -q * slack[:, None] / total[:, None]
            S[samples[:, None], codes[:, None], wrong] = column
            S[samples[:, None], wrong, codes[:, None]] = column
            S[samples[:, None, None], wrong[:, :, None], wrong[:, None, :]] = inverse
            normal = _dense_blocks(rows, S)
        else:
            # H^{-1} diagonal: theta s / (nu s + xi theta), per entry
            h = theta * s / (nu * s + xi * theta)
            self.inverse = h
            normal, S = _box_blocks(layout, h, p, equality)
        normal[np.diag_indices_from(normal)] += 1.0
        self.factor = _factorized(normal)
        if equality:
            # P = A^T H^{-1} E^T: column l is vec(X^T S[:, :, l]), class-major,
            # from one product X^T S (p x K K)
            P = (rows.T @ S.reshape(n, K * K)).reshape(p, K, K)
            P = P.transpose(1, 0, 2).reshape(K * p, K)
            self.P = P
            self.Q = scipy.linalg.cho_solve(self.factor, P, check_finite=False)
            schur = S.sum(axis=0) - P.T @ self.Q + np.ones((K, K))
            # a class without samples (all its weights 0) has a row of zeros
            # there once its multipliers underflow (its intercept is free):
            # the ridge keeps the factorization regular (scipy warned
            # "exactly zero") and leaves that intercept's step at about 0
            schur[np.diag_indices(K)] += RIDGE * float(np.max(np.abs(schur)))
            self.schur = scipy.linalg.lu_factor(schur, check_finite=False)

    def _apply_inverse(self, u):
        if self.simplex:
            return np.einsum("nrs,ns->nr", self.inverse, u)
        return self.inverse * u

    def step(self, r_dual, r_nu, r_xi, r_eq):
        """``(d_theta, d_b, d_nu, d_xi)`` for the complementarity residuals
        ``r_nu = theta nu - target`` and ``r_xi = s xi - target``."""
        theta, s, nu, xi = self.theta, self.s, self.nu, self.xi
        g = -r_dual - r_nu / theta + ((r_xi / s)[:, None] if self.simplex else r_xi / s)
        d_theta, db = self._solve(g, r_eq)
        for _ in range(self.refine):
            # iterative refinement against the operator applied directly: the
            # normal equations lose digits where the rows are large (features
            # far from 0 without a free intercept to absorb them)
            residual, residual_eq = self._residual(d_theta, db, g, r_eq)
            more_theta, more_b = self._solve(residual, residual_eq)
            d_theta, db = d_theta + more_theta, db + more_b
        dnu = -(r_nu + nu * d_theta) / theta
        if self.simplex:
            dxi = (xi * d_theta.sum(axis=1) - r_xi) / s
        else:
            dxi = (xi * d_theta - r_xi) / s
        return d_theta, db, dnu, dxi

    def _solve(self, g, r_eq):
        """``(d_theta, d_b)`` of ``(A A^T + H) d_theta + E^T d_b = g``,
        ``E d_theta = -r_eq``, through the factorized normal equations."""
        rows, layout = self.rows, self.layout
        p, K = rows.shape[1], layout.K
        weighted = layout.multipliers(self._apply_inverse(g))
        right = (rows.T @ weighted).T.ravel()
        solved = scipy.linalg.cho_solve(self.factor, right, check_finite=False)
        db = np.zeros(K)
        if self.equality:
            # E d_theta = -r_eq with d_W = solved - Q d_b
            target = weighted.sum(axis=0) - self.P.T @ solved + r_eq
            db = scipy.linalg.lu_solve(self.schur, target, check_finite=False)
            solved = solved - self.Q @ db
        dW = solved.reshape(K, p).T
        drho = layout.margins(rows @ dW + db)
        return self._apply_inverse(g - drho), db

    def _residual(self, d_theta, db, g, r_eq):
        """What ``(d_theta, d_b)`` leaves of ``g`` and of the equality, the
        products taken directly (``-r_eq`` is the equality's right side, so
        its residual is passed as a new ``r_eq``)."""
        rows, layout = self.rows, self.layout
        alpha = layout.multipliers(d_theta)
        applied = layout.margins(rows @ (rows.T @ alpha) + db)
        if self.simplex:
            applied = applied + self.nu / self.theta * d_theta
            applied = applied + (self.xi / self.s * d_theta.sum(axis=1))[:, None]
        else:
            applied = applied + (self.nu / self.theta + self.xi / self.s) * d_theta
        residual_eq = None if r_eq is None else r_eq + alpha.sum(axis=0)
        return g - applied, residual_eq


def _dense_blocks(rows, S):
    """``sum_i S_i (x) x_i x_i^T``, class-major: block ``(k, l)`` is ``X^T
    diag(S[:, k, l]) X``; the upper triangle of blocks, one product per block
    row (the lower triangle is left unset: Cholesky reads the upper)."""
    n, p = rows.shape
    K = S.shape[1]
    normal = np.zeros((K * p, K * p))
    for k in range(K):
        right = (S[:, k, k:, None] * rows[:, None, :]).reshape(n, (K - k) * p)
        normal[k * p : (k + 1) * p, k * p :] = rows.T @ right
    return normal


def _box_blocks(layout, h, p, with_S):
    """``sum_i S_i (x) x_i x_i^T`` for Weston-Watkins, and ``S`` (n, K, K)
    where ``with_S``.

    ``S_i`` has ``sum_r h_ir`` at ``(y_i, y_i)``, ``h_ir`` at ``(r, r)`` and
    ``-h_ir`` at ``(y_i, r)`` and ``(r, y_i)``, nothing between two wrong
    classes: the products ``D_{c, r} = X_c^T diag(h_{., r}) X_c`` over the
    samples of class ``c`` give block ``(c, r)`` (minus), and add to the
    diagonal blocks ``(r, r)`` and ``(c, c)``: ``n p^2 (K - 1)``
    multiply-adds, against ``n p^2 K (K + 1) / 2`` for dense ``S_i``.
    """
    K, codes, wrong = layout.K, layout.codes, layout.wrong
    n = codes.size
    normal = np.zeros((K * p, K * p))
    for c, (members, block) in enumerate(
        zip(layout.members, layout.class_rows, strict=True)
    ):
        if not len(members):
            continue
        weights = h[members]  # (n_c, K - 1), columns the wrong classes in order
        right = (weights[:, :, None] * block[:, None, :]).reshape(len(members), -1)
        products = (block.T @ right).reshape(p, K - 1, p)
        for j in range(K - 1):
            r = j + (j >= c)
            D = products[:, j, :]
            normal[r * p : (r + 1) * p, r * p : (r + 1) * p] += D
            normal[c * p : (c + 1) * p, c * p : (c + 1) * p] += D
            low, high = min(c, r), max(c, r)
            normal[low * p : (low + 1) * p, high * p : (high + 1) * p] -= D
    S = None
    if with_S:
        samples = np.arange(n)
        S = np.zeros((n, K, K))
        S[samples, codes, codes] = h.sum(axis=1)
        S[samples[:, None], codes[:, None], wrong] = -h
        S[samples[:, None], wrong, codes[:, None]] = -h
        S[samples[:, None], wrong, wrong] = h
    return normal, S


def bound_sets(theta, slacks, upper, margin, simplex):
    """Which bound each multiplier of an interior point approaches:
    ``(at_zero, at_upper)``, per entry (``at_upper`` per sample with
    ``simplex``).

    A multiplier heads for 0 where it is smaller, relative to its bound,
    than its bound's multiplier ``nu`` relative to the margin (their product
    goes to 0 and ``nu`` stays positive), and likewise for the upper bound
    with ``s`` and ``xi``: a comparison that holds long before either side
    is at rounding level (a threshold on ``theta / U`` alone misread 270 of
    iris's multipliers at a relative gap of 1e-5).
    """
    s, nu, xi = slacks
    scale = upper[:, None]
    at_zero = theta / scale <= nu / margin
    at_upper = s / (upper if simplex else scale) <= xi / margin
    return at_zero, at_upper
