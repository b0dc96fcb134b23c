"""An interior-point finish for the hinge's dual, on a working set of samples.

Dual coordinate descent stalls on hard hinge problems (large ``C``, classes
that overlap, and above all *degenerate* data: duplicated rows, one-hot
categories whose blocks sum to the constant feature, more samples on the
margin than the data has rank). There the active-set polish fails too: the
optimality conditions on the margin set are singular, their least-squares
multipliers leave the box, and its set updates run away (splice as CSR,
3,190 x 287 of rank 195, hinge at ``C = 10``: 194 samples on the margin of
rank 183; six wrongly guessed of 194 sent the polish's violation to 219).

A primal-dual interior-point method does not care: it solves the box- (and
equality-) constrained dual QP in a few tens of Newton steps whatever the
degeneracy, and converges to the analytic centre of the optimal face, where
every multiplier of a degenerate margin set stays strictly inside its box.
Each step costs one ``size x size`` matrix ``I + Z^T D^{-1} Z`` formed over
the working set and one Cholesky factorization (the normal equations of the
linear SVM's dual, Ferris and Munson 2002), so it is used where ``size``, the
number of coefficients, is small.

Only samples that may carry a free multiplier take part: those dual CD
already gave one, and those within a band of the margin; every other
multiplier is held at 0, or at its upper bound for a sample far inside the
margin. The solution is then checked on all samples (the duality gap of the
whole problem, at the working set's multipliers padded with the held ones)
and samples that break their bound join the set for another round.
"""

import numpy as np
import scipy.linalg
import scipy.linalg.blas
import scipy.sparse as sp

#: Newton steps of one interior-point solve (Mehrotra's predictor-corrector
#: takes 15 to 30 from a cold start on the hard problems of
#: ``benchmarks/bench_real.py``)
MAX_STEPS = 80
#: fraction of the way to the boundary a step may go
TO_BOUNDARY = 0.995
#: dual CD's multipliers start this fraction of their box away from its
#: bounds (an interior point must start strictly inside)
START_INSIDE = 0.01
#: samples whose margin residual ``y (x.w + b) - m`` is below this multiple
#: of the margin join the working set (with those that have a multiplier):
#: on splice as CSR at C = 10 the band ``m`` covered every support vector of
#: the optimum from dual CD's stalled point (638 of 3,190 rows), ``0.3 m``
#: missed two and took three rounds
BAND = 1.0
#: ... and those violating their margin at a round's solution join the next
#: with the samples within this multiple of it
ROUND_BAND = 0.1
#: rounds of solve-and-check before giving up
MAX_ROUNDS = 5
#: multipliers within this multiple of tol (relative to their box) of a bound
#: are moved onto it once the solve is certified (``snap_to_bounds``)
SNAP = 1e-2


#: the rows' basis (``row_basis``) is used where their rank is at most this
#: share of the coefficients
RANK_SHARE = 0.9
#: eigenvalues of the rows' Gram matrix below this times the largest are
#: taken for zero
RANK_TOL = 1e-12
#: ... and it is formed (densely) only for data of at most this many entries
MAX_BASIS_ENTRIES = 5_000_000


class InteriorPointFailed(Exception):
    """The Newton system could not be factorized (lost positive definiteness)."""


def working_set(residual, alpha, upper, live):
    """The first round's sets: ``(working, at_upper)``, boolean per sample.

    A sample whose multiplier sits at its upper bound while it violates its
    margin by more than ``BAND`` stays there (fixed); the others with a
    multiplier, or within ``BAND`` of their margin, are solved for; the rest
    keep a multiplier of 0. (On penbased, 10,992 x 16, one class against the
    rest at C = 10, 8,000 samples end at their bound: in the working set
    they made each step cost 2 ms, a continuation's whole stage.)
    """
    at_upper = live & (alpha >= upper) & (residual < -BAND)
    working = live & ~at_upper & ((alpha > 0) | (residual < BAND))
    return working, at_upper


def grow(working, at_upper, residual, live):
    """The next round's sets, or None where no sample outside breaks its bound.

    A sample kept at 0 must satisfy its margin (``residual >= 0``), one kept
    at its upper bound violate it (``residual <= 0``); those that do not, and
    the samples within ``ROUND_BAND`` of their margin beside them, join.
    """
    at_zero = live & ~working & ~at_upper
    wrong = (at_zero & (residual < 0)) | (at_upper & (residual > 0))
    if not wrong.any():
        return None
    near = np.abs(residual) < ROUND_BAND
    joining = wrong | ((at_zero | at_upper) & near)
    return working | joining, at_upper & ~joining


def solve_box_dual(
    rows,
    y,
    upper,
    margin,
    equality,
    alpha=None,
    *,
    tol,
    fixed_w=None,
    fixed_balance=0.0,
    charge=None,
):
    """The hinge SVM's dual on ``rows`` by a primal-dual interior-point method.

    Solves

    .. math:: \\min_{0 \\le \\alpha \\le U}\\; \\tfrac12 \\|v + Z^T\\alpha\\|^2
              - m\\, \\textstyle\\sum_i \\alpha_i
              \\quad (\\text{and } y^T\\alpha + e = 0 \\text{ with }
              ``equality``),

    ``Z = diag(y) X``, by Mehrotra's predictor-corrector; ``v`` and ``e`` are
    the part of ``w`` and of the intercept's balance that the samples held
    at a bound outside ``rows`` make. With ``w = v + Z^T alpha`` the
    Karush-Kuhn-Tucker conditions read ``y_i (x_i . w + b) - m = nu_i -
    xi_i``, ``alpha_i nu_i = 0``, ``(U_i - alpha_i) xi_i = 0``: ``b``,
    the equality's multiplier, is the unpenalized intercept and ``xi_i`` the
    hinge loss's slack. Each Newton step eliminates ``nu``, ``xi`` and
    ``alpha`` and solves the normal equations ``(I + Z^T D^{-1} Z) dw = r``
    (``D`` diagonal, positive) by Cholesky, with the intercept's step from a
    second right-hand side.

    Parameters
    ----------
    rows : ndarray of shape (n, size)
        Dense rows ``x_i`` (a penalized intercept's constant feature
        included).
    y : ndarray of shape (n,)
        Labels, +1 or -1.
    upper : ndarray of shape (n,)
        The box ``U_i > 0``.
    margin : float
        ``m``.
    equality : bool
        Whether ``y^T alpha = 0`` holds (an unpenalized intercept).
    alpha : ndarray of shape (n,), optional
        A starting point, moved ``START_INSIDE`` of the box inside.
    tol : float
        Stop where the complementarity ``alpha^T nu + (U - alpha)^T xi``
        (the duality gap once the residuals vanish) is below ``tol`` times
        the primal ``||w||^2 / 2 + U^T xi``.
    fixed_w : ndarray of shape (size,), optional
        ``v`` (zero by default).
    fixed_balance : float, default=0.0
        ``e``.
    charge : callable, optional
        Called before each step (a budget meter may raise; the exception
        then carries the last iterate ``(alpha, w, b)`` as ``iterate``).

    Returns
    -------
    alpha : ndarray of shape (n,)
    w : ndarray of shape (size,)
    b : float
        0 without ``equality``.
    steps : int
    """
    n, size = rows.shape
    a = 0.5 * upper if alpha is None else alpha
    a = np.clip(a, START_INSIDE * upper, (1 - START_INSIDE) * upper)
    b = 0.0
    fixed_w = np.zeros(size) if fixed_w is None else fixed_w
    w = fixed_w + rows.T @ (a * y)
    residual = y * (rows @ w) - margin
    # slacks that zero the dual residual at the start: nu - xi = residual
    nu = np.maximum(residual, 0.0) + margin
    xi = np.maximum(-residual, 0.0) + margin
    scale = max(1.0, float(np.abs(upper).sum()))
    # the distance to the upper bound is a variable of its own: recomputed as
    # upper - a it rounds to 0 (a division by zero) once a is within
    # rounding of its bound
    s = upper - a
    for step in range(1, MAX_STEPS + 1):
        r_dual = residual - nu + xi
        r_eq = float(y @ a) + fixed_balance if equality else 0.0
        comp = float(a @ nu + s @ xi)
        feasible = (
            float(np.max(np.abs(r_dual), initial=0.0))
            <= 1e-9 * max(margin, float(np.max(np.abs(residual), initial=0.0)))
            and abs(r_eq) <= 1e-9 * scale
        )
        if feasible and comp <= tol * (0.5 * float(w @ w) + float(upper @ xi)):
            return a, w, b, step - 1
        if charge is not None:
            try:
                charge()
            except Exception as error:
                # the last iterate, for a caller that certifies what it has
                error.iterate = (a, w, b)
                raise
        system = _NewtonSystem(rows, y, a, s, nu, xi, r_dual, r_eq, equality)
        # predictor (affine scaling), then Mehrotra's centred corrector
        da, _, _, dnu, dxi = system.step(a * nu, s * xi)
        t = longest_step((a, s, nu, xi), (da, -da, dnu, dxi), 1.0)
        affine = float((a + t * da) @ (nu + t * dnu) + (s - t * da) @ (xi + t * dxi))
        mu = (affine / comp) ** 3 * comp / (2 * n) if comp > 0 else 0.0
        da, db, dw, dnu, dxi = system.step(
            a * nu + da * dnu - mu, s * xi - da * dxi - mu
        )
        t = longest_step((a, s, nu, xi), (da, -da, dnu, dxi), TO_BOUNDARY)
        a = a + t * da
        s = s - t * da
        b += t * db
        w = w + t * dw
        nu = nu + t * dnu
        xi = xi + t * dxi
        residual = y * (rows @ w + b) - margin
    return a, w, b, MAX_STEPS


class _NewtonSystem:
    """One interior-point step's linear system, factorized once for two solves.

    With ``D = nu / alpha + xi / (U - alpha)`` the step solves ``(Z Z^T + D)
    d_alpha + d_b y = g`` and ``y^T d_alpha = -r_eq``; through ``d_w = Z^T
    d_alpha`` that is the normal equations ``(I + Z^T D^{-1} Z) d_w = Z^T
    D^{-1} (g - d_b y)``, whose matrix has every eigenvalue at least 1.
    """

    def __init__(self, rows, y, a, s, nu, xi, r_dual, r_eq, equality):
        self.rows, self.y, self.equality = rows, y, equality
        self.a, self.s, self.nu, self.xi = a, s, nu, xi
        self.r_dual, self.r_eq = r_dual, r_eq
        self.inverse = 1.0 / (nu / a + xi / s)
        # X^T D^{-1} X by a symmetric rank-k update (the upper triangle only:
        # half a general product's work, 1.1 against 2.0 ms on 648 x 287)
        scaled = rows.T * np.sqrt(self.inverse)
        normal = scipy.linalg.blas.dsyrk(1.0, scaled, trans=0, lower=0)
        normal[np.diag_indices_from(normal)] += 1.0
        try:
            self.factor = scipy.linalg.cho_factor(
                normal, lower=False, check_finite=False
            )
        except np.linalg.LinAlgError as error:
            raise InteriorPointFailed(str(error)) from error
        # the intercept's column of the eliminated system (Z^T D^{-1} y =
        # X^T D^{-1} 1 as y_i^2 = 1), shared by both solves
        self.pull_b = rows.T @ self.inverse
        self.q = self._solve(self.pull_b)
        self.curvature_b = float(y @ (self.inverse * y) - self.pull_b @ self.q)

    def _solve(self, right):
        return scipy.linalg.cho_solve(self.factor, right, check_finite=False)

    def step(self, r_nu, r_xi):
        """``(d_alpha, d_b, d_w, d_nu, d_xi)`` for the complementarity
        residuals ``r_nu = alpha nu - target``, ``r_xi = (U - alpha) xi -
        target``."""
        rows, y, inverse = self.rows, self.y, self.inverse
        a, s, nu, xi = self.a, self.s, self.nu, self.xi
        g = -self.r_dual - r_nu / a + r_xi / s
        weighted = inverse * g
        p = self._solve(rows.T @ (y * weighted))
        db = 0.0
        if self.equality:
            # y^T D^{-1} (g - d_b y - Z d_w) = -r_eq, with d_w = p - d_b q
            db = (y @ weighted - self.pull_b @ p + self.r_eq) / self.curvature_b
        dw = p - db * self.q
        da = inverse * (g - db * y - y * (rows @ dw))
        return da, db, dw, -(r_nu + nu * da) / a, (xi * da - r_xi) / s


def longest_step(values, changes, fraction):
    """The longest step, at most 1, keeping every value positive (times
    ``fraction`` of the way to the boundary); every value is positive."""
    # the largest relative decrease -change / value, without masks (they
    # took a third of a step's time on 10,000 x 16)
    worst = max(
        float(np.max(-change / value, initial=0.0))
        for value, change in zip(values, changes, strict=True)
    )
    return 1.0 if worst <= fraction else fraction / worst


def snap_to_bounds(alpha, upper, tol):
    """``alpha`` with the multipliers within ``SNAP * tol`` of a bound (relative
    to the box) moved onto it; None where none is."""
    near_zero = alpha <= SNAP * tol * upper
    near_upper = upper - alpha <= SNAP * tol * upper
    if not (near_zero.any() or near_upper.any()):
        return None
    return np.where(near_upper, upper, np.where(near_zero, 0.0, alpha))


def row_basis(X, offset, constant):
    """An orthonormal basis of the space the rows ``[x_i - offset, constant]``
    span, or None where it is nearly all of it.

    The interior point's step (``_NewtonSystem``) costs ``n size^2`` for the
    normal equations and ``size^3 / 3`` for their factor, but ``w`` only
    moves in the span of the rows: solved in the coordinates of a basis of
    it, the step costs ``n r^2 + r^3 / 3`` for the rank ``r``. One-hot
    categories make that worth it (each block of indicators sums to the
    constant feature): splice, 3,190 x 287, has rank 195 (194 centered);
    a step over 600 rows took 0.83 ms instead of 1.66. Where the rank is
    above ``RANK_SHARE`` of the columns (digits 61 of 64, sylva 204 of 212)
    the projections would cost more than they save: None.

    The basis comes from the eigenvectors of the rows' Gram matrix ``Z^T Z``
    (``size x size``: 4 ms of BLAS and 5 of LAPACK on splice) whose
    eigenvalues exceed ``RANK_TOL`` times the largest: on every set of
    ``benchmarks/bench_real.py`` the spectrum has a gap of at least five
    decades around that threshold where it is rank deficient (splice: 3e-17
    below, 9e-6 above).
    """
    n, d = X.shape
    if n * d > MAX_BASIS_ENTRIES:
        return None
    dense = dense_rows(X, slice(None), constant)
    if offset is not None:
        # exact differences: a Gram matrix corrected for the mean afterwards
        # loses the null space to cancellation
        dense[:, :d] -= offset
    return span_basis(dense)


def span_basis(dense):
    """:func:`row_basis` of rows already dense (centered, with their
    constant feature): an orthonormal basis of their span, or None where it
    is nearly all of it."""
    size = dense.shape[1]
    gram = scipy.linalg.blas.dsyrk(1.0, dense, trans=1, lower=0)
    values, vectors = scipy.linalg.eigh(
        gram, lower=False, driver="evd", check_finite=False
    )
    keep = values > RANK_TOL * max(float(values[-1]), 0.0)
    if keep.sum() > RANK_SHARE * size or not keep.any():
        return None
    return np.ascontiguousarray(vectors[:, keep])


def dense_rows(X, rows, constant):
    """``X[rows]`` dense, with a constant feature ``constant`` where non-zero."""
    block = X[rows]
    block = block.toarray() if sp.issparse(block) else np.array(block, dtype=float)
    if constant:
        block = np.hstack([block, np.full((block.shape[0], 1), constant)])
    return block
