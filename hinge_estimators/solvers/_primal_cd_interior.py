"""An interior point for one column of an L1 / elastic-net piecewise-quadratic loss.

:class:`~hinge_estimators.solvers.PrimalCoordinateDescent` hands a column
(of the squared hinge, the modified Huber loss or the smooth hinge) to
:func:`margin_interior_point` where coordinate descent's measured rate says
it needs more epochs than this costs, or will miss ``max_iter``: at a large
``C`` on nearly separable data the objective is close to a linear program
(the hard-margin L1 SVM), and coordinate descent, Newton steps on the
working set, and LIBLINEAR alike crawl there; the smooth hinge with a narrow
``gamma`` is nearly the hinge's linear program at any ``C``. An interior
point's iterations do not depend on that conditioning: some 20 to 40 of
them, each a ``(d + 1)``-square system. :func:`generalized_hessian` forms
that system's Gram part, and the Newton steps' Hessian.
"""

from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.linalg.blas
import scipy.sparse as sp

from .._objective import absolute_product
from ._dual_cd_parts import csr_rows
from ._primal_cd_fast import sparse_gram

#: Mehrotra's iterations before the interior point gives up
MAX_INTERIOR_ITERATIONS = 60
#: the iterations it usually takes (13 to 35 on breast cancer and digits at
#: C = 1 to 1000), for the caller's estimate of its cost
ITERATIONS_EXPECTED = 40
#: the share of the way to the boundary each step goes
STEP_SHARE = 0.99
#: the complementarity gap, over the objective, at which it stops (the
#: caller's coordinate descent then zeroes what it leaves near 0)
GAP_TOL = 1e-14
#: ... and the largest residual of its linear equations, over ``max(rho, 1)``
RESIDUAL_TOL = 1e-10
#: a complementarity gap this small (over the objective) ends the iterations
#: once the residuals have not halved in STALL_WINDOW iterations
STALL_GAP = 1e-12
STALL_WINDOW = 3
#: the compiled kernels' losses that are piecewise quadratic in the margin
INTERIOR_LOSSES = ("squared_hinge", "modified_huber", "smooth_hinge")


class PiecewiseQuadratic(NamedTuple):
    """A weighted margin loss as ``c_i phi(z_i)`` of one quadratic, one linear piece.

    With ``u = margin - z``: ``0`` for ``u <= 0``, ``u^2 / (2 kappa)`` for
    ``0 < u < kappa upper``, and ``upper u - kappa upper^2 / 2`` past that
    (``upper = None``: no linear piece). That is ``min_{xi, t >= 0} xi^2 /
    (2 kappa) + upper t`` subject to ``xi + t >= u``; the dual variable of a
    sample is then boxed by ``upper``.
    """

    kappa: np.ndarray
    upper: np.ndarray | None
    margin: float

    @classmethod
    def of(cls, kernel, weights):
        """The weighted loss of a compiled kernel (``INTERIOR_LOSSES``).

        The squared hinge ``c u_+^2`` has ``kappa = 1 / (2 c)`` and no linear
        piece; the modified Huber loss is the squared hinge up to ``u = 2``,
        then ``4 c (u - 1)``: ``upper = 4 c``; the smooth hinge ``c
        phi_gamma(u)`` (``u^2 / (2 gamma)``, then ``u - gamma / 2``) has
        ``kappa = gamma / c`` and ``upper = c``.
        """
        if kernel.name == "squared_hinge":
            return cls(0.5 / weights, None, 1.0)
        if kernel.name == "modified_huber":
            return cls(0.5 / weights, 4.0 * weights, 1.0)
        if kernel.name == "smooth_hinge":
            return cls(kernel.a / weights, weights, float(kernel.b))
        if kernel.name == "hinge":
            return cls(np.zeros_like(weights), weights, float(kernel.a))
        raise ValueError(f"no piecewise-quadratic form for the loss {kernel.name!r}")


def margin_interior_point(
    columns,
    y,
    weights,
    rho,
    q,
    p,
    intercept,
    loss,
    max_iterations=MAX_INTERIOR_ITERATIONS,
    score=None,
    enough=None,
):
    """Minimize ``sum_i c_i phi(z_i) + rho |w|_1 + q/2 |w|^2 + p/2 b^2``.

    ``z = y * (X w + b)`` (``b = 0`` without ``intercept``), ``c = weights``,
    ``phi`` the margin loss ``loss`` (a loss object whose compiled kernel is
    one of ``INTERIOR_LOSSES``, or the plain hinge: see
    :meth:`PiecewiseQuadratic.of`); ``columns`` is ``X^T``, a C-ordered
    ``(d, n)`` array or a CSR matrix (the column data of
    :class:`PrimalCoordinateDescent`). Runs at most ``max_iterations``;
    returns ``(w, b, iterations, alpha)`` of the last iterate, or of the
    one with the lowest ``score(w, b, alpha)`` where ``score`` is given
    (``alpha`` the multipliers of the samples, 0 for those of weight 0,
    clipped into their box; with ``enough``, a ``score`` whose first entry
    is at most it ends the iterations), or None where the iteration broke down (a
    system no ridge makes positive definite, a step of length 0, values
    that are not finite).

    Notes
    -----
    With ``w = u - v``, ``u, v >= 0``, the loss written as
    :class:`PiecewiseQuadratic` (``xi`` free, ``t >= 0``), the problem is the
    quadratic program ``min sum (xi^2 / (2 kappa) + upper t) + rho 1^T (u +
    v) + q/2 |u - v|^2 + p/2 b^2`` subject to ``y (X w + b) + xi + t - m = s
    >= 0``: ``xi`` needs no sign constraint (where the margin is past ``m``,
    ``xi = 0`` is feasible and best). Its multipliers are ``alpha >= 0``
    (``xi = kappa alpha`` at a stationary point), ``lambda = upper - alpha >=
    0`` for ``t`` (the dual box) and ``mu_u, mu_v >= 0``. Each iteration
    linearizes the optimality conditions (Mehrotra's predictor and
    corrector, one factorization); eliminating ``s``, ``t``, ``alpha``,
    ``u``, ``v`` and the bound multipliers leaves

    .. math:: \\begin{pmatrix} X^T G X + q + E & X^T G 1 \\\\
              1^T G X & 1^T G 1 + p \\end{pmatrix}
              \\begin{pmatrix} \\Delta w \\\\ \\Delta b \\end{pmatrix} = r,
              \\quad G = \\Big(\\frac{s}{\\alpha} + \\kappa +
              \\frac{t}{\\lambda}\\Big)^{-1},\\;
              E = \\frac{E_u E_v}{E_u + E_v},\\; E_u = \\frac{\\mu_u}{u}

    (diagonal matrices; no ``t / lambda`` without a linear piece): ``n d^2``
    to form by a symmetric rank-k update, ``d^3 / 3`` to factor. One step
    length keeps every bounded variable inside (the slack ``s`` ties primal
    and dual variables together).
    """
    keep = weights > 0.0  # a sample of weight 0 does not enter the objective
    if not np.all(keep):
        columns, y, weights = columns[:, keep], y[keep], weights[keep]
        if not sp.issparse(columns):
            columns = np.ascontiguousarray(columns)
    weights = np.asarray(weights, dtype=np.float64)
    shape = PiecewiseQuadratic.of(loss.compiled_kernel(), weights)
    d, n = columns.shape
    ones = np.ones(n)  # the losses read in margins: y = 1
    start = max(rho, 1.0)
    bounded = shape.upper is not None
    # the dual variables start inside their box (0, upper)
    alpha = np.minimum(1.0, 0.5 * shape.upper) if bounded else np.ones(n)
    t = np.ones(n if bounded else 0)
    lam = shape.upper - alpha if bounded else np.ones(0)
    # the bounded variables, in the order of _Point's fields
    point = _Point(
        np.ones(d), np.ones(d), alpha, np.ones(n),
        np.full(d, start), np.full(d, start), t, lam,
    )  # fmt: skip
    b = 0.0
    size = 2 * d + n + len(t)
    residuals_met, best = [], None
    for iteration in range(max_iterations + 1):
        u, v, alpha, s, mu_u, mu_v, t, lam = point
        w = u - v
        scores = columns.T @ w + b
        yalpha = y * alpha
        grad_alpha = np.asarray(columns @ yalpha).ravel()
        linear = t if bounded else 0.0
        residuals = _Residuals(
            rho + q * w - grad_alpha - mu_u,
            rho - q * w + grad_alpha - mu_v,
            p * b - float(yalpha.sum()) if intercept else 0.0,
            s - (y * scores + shape.kappa * alpha + linear - shape.margin),
        )
        gap = _complementarity(point)
        value = float(weights @ loss.loss(ones, y * scores))
        value += rho * float(np.abs(w).sum()) + 0.5 * q * float(w @ w)
        value += 0.5 * p * b * b
        largest = max(
            np.abs(residuals.u).max(initial=0.0),
            np.abs(residuals.v).max(initial=0.0),
            abs(residuals.b),
            np.abs(residuals.s).max(initial=0.0),
        )
        done = gap <= GAP_TOL * max(value, 1.0) and largest <= RESIDUAL_TOL * start
        # with a ridge in the system (collinear columns) the residuals stall
        # short of RESIDUAL_TOL: a small gap and no more progress end it
        residuals_met.append(largest)
        stuck = (
            gap <= STALL_GAP * max(value, 1.0)
            and len(residuals_met) > STALL_WINDOW
            and largest > 0.5 * residuals_met[-1 - STALL_WINDOW]
        )
        last = done or stuck or iteration == max_iterations
        if score is not None or last:
            # in their box: alpha and lambda = upper - alpha are separate
            # variables, equal only up to the residuals
            multipliers = np.zeros(len(keep))
            multipliers[keep] = np.clip(alpha, 0.0, shape.upper if bounded else np.inf)
        if score is not None:
            merit = score(w, b, multipliers)
            if best is None or merit < best[0]:
                best = (merit, w, b, multipliers)
            last = last or (enough is not None and merit[0] <= enough)
        if last:
            # short of its own tolerance the point is still near the optimum:
            # the caller's certificate judges it
            if best is not None:
                return best[1], best[2], iteration, best[3]
            return w, b, iteration, multipliers
        system = _System(columns, y, point, shape.kappa, q, p, intercept)
        if system.factor is None:
            return None
        mean = gap / size
        affine = system.direction(residuals, -u * mu_u, -v * mu_v, -s * alpha, -t * lam)
        t_affine = _longest(point, affine)
        moved = _Point(
            *(a + t_affine * da for a, da in zip(point, affine, strict=True))
        )
        mean_affine = _complementarity(moved) / size
        sigma = min((mean_affine / mean) ** 3, 1.0) if mean > 0 else 0.0
        target = sigma * mean
        # Mehrotra's corrector: the affine step's second-order terms
        step = system.direction(
            residuals,
            target - u * mu_u - affine.u * affine.mu_u,
            target - v * mu_v - affine.v * affine.mu_v,
            target - s * alpha - affine.s * affine.alpha,
            target - t * lam - affine.t * affine.lam,
        )
        step_length = STEP_SHARE * _longest(point, step)
        if not (np.isfinite(step_length) and step_length > 0.0):
            return None
        point = _Point(
            *(a + step_length * da for a, da in zip(point, step, strict=True))
        )
        b += step_length * system.last_db
        if not all(np.all(np.isfinite(a)) for a in point):
            return None
    return None  # not reached: the last iteration returns


class _Point(NamedTuple):
    """The bounded variables (or a step in them)."""

    u: np.ndarray
    v: np.ndarray
    alpha: np.ndarray
    s: np.ndarray
    mu_u: np.ndarray
    mu_v: np.ndarray
    # the linear piece's ``t`` and its multiplier ``upper - alpha`` (empty
    # without a linear piece)
    t: np.ndarray
    lam: np.ndarray


class _Residuals(NamedTuple):
    """The optimality conditions' linear parts at a point (0 at the optimum)."""

    u: np.ndarray
    v: np.ndarray
    b: float
    s: np.ndarray


def _complementarity(point):
    return float(
        point.u @ point.mu_u
        + point.v @ point.mu_v
        + point.s @ point.alpha
        + point.t @ point.lam
    )


def _longest(point, step):
    """The longest step length in ``[0, 1]`` that keeps the point >= 0."""
    top = 1.0
    for value, change in zip(point, step, strict=True):
        shrinking = change < 0.0
        if np.any(shrinking):
            top = min(top, float(np.min(-value[shrinking] / change[shrinking])))
    return top


class _System:
    """The reduced Newton system at a point, factored once for both steps.

    Formed over the coefficients (``(d + 1)``-square, :func:`_normal_matrix`)
    or, where that costs less (:func:`samples_space_pays`: fewer samples
    than features), over the samples (:meth:`_by_samples`), the free
    intercept's border then by its Schur complement.
    """

    def __init__(self, columns, y, point, kappa, q, p, intercept):
        self.columns, self.y, self.point = columns, y, point
        self.intercept = intercept
        resistance = point.s / point.alpha + kappa
        if len(point.t):
            resistance = resistance + point.t / point.lam
        self.G = 1.0 / resistance
        self.E_u, self.E_v = point.mu_u / point.u, point.mu_v / point.v
        both = self.E_u * self.E_v / (self.E_u + self.E_v)
        self.last_db = 0.0
        self.samples = None
        by_coefficients, by_samples = (sum(work) for work in normal_work(columns))
        samples_form = by_samples < SAMPLES_SPACE_SHARE * by_coefficients
        if samples_form:
            self.samples = self._by_samples(resistance, q + both, p, by_coefficients)
        if self.samples is not None:
            self.factor = self.samples[0][0]
        elif samples_form and by_coefficients > FALLBACK_WORK:
            # admitted for the samples' form's cost: the coefficients' is
            # not formed past FALLBACK_WORK (500 x 20,000: 185 s and 3.2 GB
            # matrices; 60,000 columns, 28.8 GB); the iteration stops
            self.factor = None
        else:
            matrix = _normal_matrix(columns, self.G, q + both, p, intercept)
            self.factor = _regularized_cholesky(matrix)

    def _by_samples(self, resistance, diagonal, p, by_coefficients):
        """The samples' form: ``(factors, border, solved border, Schur
        complement)``, or None where it cannot be factored or costs more
        than the coefficients' form (``by_coefficients`` multiply-adds: then
        that form is used, within ``FALLBACK_WORK``).

        ``D`` spans many magnitudes near the optimum: tiny for the non-zero
        coefficients (their barrier terms vanish), huge for the zero ones.
        Woodbury's identity over all of ``D^{-1}`` cancelled there (relative
        gaps of 1e-6 to 0.4 where the coefficients' form reached 1e-11): the
        features ``A`` whose ``D`` is below their data curvature
        ``(X^T G X)_jj`` by ``EXPLICIT_RATIO`` are kept explicit, and only
        the others go through ``K = G^{-1} + X_I D_I^{-1} X_I^T``
        (``n``-square): ``S = D_A + X_A^T K^{-1} X_A`` (``|A|``-square) is
        the Schur complement on ``A``, factored with the coefficients'
        form's ridge where it needs one (duplicated columns, non-zero
        together, make it singular but for ``D_A``). Every such feature is
        explicit: only ``n`` of them, the others through Woodbury, lost the
        solves' accuracy on 10 copies of each column (relative residuals up
        to 6e5: 1,000 iterations where 16 certified). None where ``A`` makes
        ``S`` cost more than the coefficients' form.
        """
        columns, G = self.columns, self.G
        n = columns.shape[1]
        curvature = np.asarray(_squared(columns) @ G).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(curvature > 0, diagonal / curvature, np.inf)
        explicit = np.flatnonzero(ratio < EXPLICIT_RATIO)
        m = float(len(explicit))
        if m**3 / 3.0 + m * n * n > SAMPLES_SPACE_SHARE * by_coefficients:
            return None
        others = np.setdiff1d(np.arange(columns.shape[0]), explicit)
        inverse = np.zeros_like(diagonal)
        inverse[others] = 1.0 / diagonal[others]
        inner = generalized_hessian(_as_rows(columns), inverse)
        inner[np.diag_indices_from(inner)] += resistance
        X_A = columns[explicit]
        X_A = (X_A.toarray() if sp.issparse(X_A) else np.asarray(X_A)).T  # n x |A|
        factor = _regularized_cholesky(inner)
        if factor is None:
            return None
        factor_A = None
        if len(explicit):
            pulled = scipy.linalg.cho_solve(factor, X_A, check_finite=False)
            schur_A = X_A.T @ pulled
            schur_A[np.diag_indices_from(schur_A)] += diagonal[explicit]
            factor_A = _regularized_cholesky(schur_A)
            if factor_A is None:
                return None
        parts = [(factor, factor_A, explicit, X_A, diagonal, inverse)]
        parts += [None, None, None]
        if self.intercept:
            border = np.asarray(columns @ G).ravel()
            solved = self._partitioned(parts[0], border)
            schur = float(G.sum()) + p - float(border @ solved)
            # singular where the columns span the constant (one-hot blocks)
            if not schur > SCHUR_FLOOR * (float(G.sum()) + p):
                return None
            parts[1:] = border, solved, schur
        return parts

    def _partitioned(self, factors, right):
        """``(X^T G X + D)^{-1} right`` by the samples' form (see
        :meth:`_by_samples`), refined ``REFINEMENTS`` times against the
        matrix itself."""
        factor, factor_A, explicit, X_A, diagonal, inverse = factors
        columns, G = self.columns, self.G

        def once(r):
            # the held features' part, then A's Schur complement
            pulled = np.asarray(columns.T @ (inverse * r)).ravel()
            out = inverse * r
            if factor_A is not None:
                rhs_A = r[explicit] - X_A.T @ scipy.linalg.cho_solve(
                    factor, pulled, check_finite=False
                )
                dw_A = scipy.linalg.cho_solve(factor_A, rhs_A, check_finite=False)
                pulled = pulled + X_A @ dw_A
            z = scipy.linalg.cho_solve(factor, pulled, check_finite=False)
            out = out - inverse * np.asarray(columns @ z).ravel()
            if factor_A is not None:
                out[explicit] = dw_A
            return out

        out = once(right)
        for _ in range(REFINEMENTS):
            applied = np.asarray(columns @ (G * (columns.T @ out))).ravel()
            out = out + once(right - applied - diagonal * out)
        return out

    def _solve(self, rhs):
        """The Newton system's solution for ``rhs`` (``d`` entries, and the
        intercept's last)."""
        if self.samples is None:
            return scipy.linalg.cho_solve(self.factor, rhs, check_finite=False)
        factors, border, solved, schur = self.samples
        if not self.intercept:
            return self._partitioned(factors, rhs)
        d = len(border)
        first = self._partitioned(factors, rhs[:d])
        db = (float(rhs[d]) - float(border @ first)) / schur
        return np.append(first - db * solved, db)

    def direction(self, residuals, t_u, t_v, t_s, t_t):
        """The step whose complementarity products move to ``t_*``."""
        columns, y, G = self.columns, self.y, self.G
        E_u, E_v = self.E_u, self.E_v
        u, v, alpha, s, mu_u, mu_v, t, lam = self.point
        d = columns.shape[0]
        pull = t_s / alpha + residuals.s
        if len(t):
            pull = pull - t_t / lam
        h = G * pull
        back = np.asarray(columns @ (y * h)).ravel()
        R1 = -residuals.u + back + t_u / u
        R2 = -residuals.v - back + t_v / v
        rhs = (E_v * R1 - E_u * R2) / (E_u + E_v)
        if self.intercept:
            rhs = np.append(rhs, -residuals.b + float((y * h).sum()))
        solved = self._solve(rhs)
        dw = solved[:d]
        self.last_db = float(solved[d]) if self.intercept else 0.0
        d_alpha = h - G * y * (columns.T @ dw + self.last_db)
        du = (R1 + R2 + E_v * dw) / (E_u + E_v)
        dv = du - dw
        # t's complementarity with lambda = upper - alpha (which moves as
        # -d_alpha): lambda dt - t d_alpha = t_t
        dt = (t_t + t * d_alpha[: len(t)]) / lam if len(t) else t
        return _Point(
            du, dv, d_alpha, (t_s - s * d_alpha) / alpha,
            (t_u - mu_u * du) / u, (t_v - mu_v * dv) / v,
            dt, -d_alpha[: len(t)],
        )  # fmt: skip


#: the samples' form of the Newton system (``_System``) is used where its
#: work, ``n^2 d`` (dense) or ``sum_j nnz_j^2`` over the features (sparse)
#: and ``n^3 / 3``, is below this share of the coefficients' form's, ``n
#: d^2`` or ``sum_i nnz_i^2`` and ``d^3 / 3``: it also pays two products
#: with ``X`` a solve and its refinements
SAMPLES_SPACE_SHARE = 0.5
#: the samples' form's solves are refined this many times against the
#: matrix (one removed the cancellation of ``D^{-1}``'s huge entries)
REFINEMENTS = 2
#: a free intercept's Schur complement below this share of its diagonal
#: entry is singular (the columns span the constant): the coefficients'
#: form then takes the step, with its ridge (within ``FALLBACK_WORK``)
SCHUR_FLOOR = 1e-12
#: the coefficients' form is not formed past this many multiply-adds where
#: the samples' form was chosen and cannot be factored (as
#: ``HINGE_STEP_WORK``, which admits the hinge's interior point)
FALLBACK_WORK = 1e9
#: the features whose barrier term ``D_j`` lies below this share of their
#: data curvature ``(X^T G X)_jj`` stay explicit in the samples' form (the
#: others' ``D^{-1}`` then loses at most three digits to cancellation,
#: which the refinements recover); early on none does, and the form is
#: Woodbury's identity itself
EXPLICIT_RATIO = 1e-3


def samples_space_pays(columns):
    """Whether ``_System`` solves over the samples (``columns``: ``X^T``,
    ``(d, n)``), by :func:`normal_work`."""
    by_coefficients, by_samples = normal_work(columns)
    return sum(by_samples) < SAMPLES_SPACE_SHARE * sum(by_coefficients)


def normal_work(columns):
    """``((gram, factor) over the coefficients, (gram, factor) over the
    samples)``: the multiply-adds of forming and of factoring the Newton
    system either way (``columns``: ``X^T``, ``(d, n)``, dense or CSR)."""
    d, n = columns.shape
    if sp.issparse(columns):
        csr = sp.csr_matrix(columns)
        per_feature = np.diff(csr.indptr).astype(np.float64)
        per_sample = np.bincount(csr.indices, minlength=n).astype(np.float64)
        gram_d, gram_n = np.square(per_sample).sum(), np.square(per_feature).sum()
    else:
        gram_d, gram_n = n * float(d) ** 2, float(n) ** 2 * d
    return (gram_d, (d + 1.0) ** 3 / 3.0), (gram_n, float(n) ** 3 / 3.0)


def _squared(columns):
    """``columns`` with its entries squared (dense or CSR)."""
    if sp.issparse(columns):
        squared = sp.csr_matrix(columns, copy=True)
        squared.data **= 2
        return squared
    return np.square(columns)


def _as_rows(columns):
    """``X`` from ``columns = X^T`` (CSR for sparse ``columns``, which
    :func:`generalized_hessian` reads by its columns, the features here)."""
    return sp.csr_matrix(columns.T) if sp.issparse(columns) else columns.T


def generalized_hessian(X_S, curvature):
    """``X_S diag(curvature) X_S^T`` (dense ``|S| x |S|``).

    A sparse ``X_S`` (CSR) goes through :func:`sparse_gram`, by samples,
    skipping those of zero curvature (at a large ``C`` most margins sit past
    the hinge): a sample costs the square of its non-zeros in ``S``, where
    scipy's sparse product costs two passes and a sparse result, and BLAS on
    a dense copy the whole ``|S|^2`` (and threads that, on a loaded machine,
    cost far more CPU time than they save). A dense ``X_S`` is multiplied by
    BLAS over the samples of non-zero curvature.
    """
    m = X_S.shape[0]
    if sp.issparse(X_S):
        by_samples = sp.csr_matrix(X_S.T)  # n x |S|, sorted indices
        H = np.zeros((m, m))
        data, indices, indptr, _ = csr_rows(by_samples)
        sparse_gram(data, indices, indptr, curvature, H)
        return H
    active = np.flatnonzero(curvature)
    if m == 0 or len(active) == 0:  # BLAS refuses an empty product
        return np.zeros((m, m))
    root = np.sqrt(curvature)
    # the rows scaled by sqrt(curvature), then a symmetric rank-k update: the
    # upper triangle only, half a general product's work (sylva, 200 of 212
    # features over 13,086 samples: 17 ms a Newton step's Hessian before);
    # the samples past the hinge are dropped where that saves a copy's worth
    if len(active) < 0.75 * len(curvature):
        scaled = X_S[:, active] * root[active]
    else:
        scaled = X_S * root
    # a C-ordered (|S| x n) block is the Fortran-ordered transpose: no copy
    upper = scipy.linalg.blas.dsyrk(1.0, scaled.T, trans=1, lower=0)
    return upper + np.triu(upper, 1).T


def _regularized_cholesky(matrix):
    """``cho_factor`` of ``matrix``, or of it plus the smallest ridge that works.

    The normal matrix is singular where columns are collinear (one-hot blocks
    sum to the intercept's column; centered, to 0) once the free
    coefficients' barrier terms vanish near the optimum: a ridge from
    ``1e-12`` of its largest diagonal entry up, by factors of 100, to
    ``1e-4``. Returns None where none works.
    """
    top = float(np.abs(matrix.diagonal()).max(initial=0.0))
    if not np.isfinite(top):
        return None
    ridge = 0.0
    while ridge <= 1e-4 * top:
        try:
            shifted = matrix
            if ridge > 0.0:
                shifted = matrix + ridge * np.eye(len(matrix))
            return scipy.linalg.cho_factor(shifted, lower=False, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            ridge = 1e-12 * top if ridge == 0.0 else 100.0 * ridge
    return None


def _normal_matrix(columns, G, diagonal, p, intercept):
    """``[[X^T G X + diag, X^T G 1], [1^T G X, 1^T G 1 + p]]``, dense."""
    d = columns.shape[0]
    gram = generalized_hessian(columns, G)
    gram[np.diag_indices(d)] += diagonal
    if not intercept:
        return gram
    border = np.asarray(columns @ G).ravel()
    matrix = np.empty((d + 1, d + 1))
    matrix[:d, :d] = gram
    matrix[:d, d] = border
    matrix[d, :d] = border
    matrix[d, d] = float(G.sum()) + p
    return matrix


#: ``gd`` hands the hinge's L1 / elastic-net problem to the interior point
#: where one iteration's work, forming ``X^T G X`` (``n (d + 1)^2``
#: multiply-adds dense, ``sum_i nnz_i^2`` sparse) and factoring it
#: (``(d + 1)^3 / 3``), is at most this, per one-vs-rest column. Measured:
#: sylva (13,086 x 212, 5.9e8) 53 iterations, 4.3 s, to a gap of 5e-12 at
#: C = 1; spambase (4,597 x 57) 0.05 s; splice as CSR 0.14 s a column
HINGE_STEP_WORK = 1e9
#: the iterations ``gd``'s interior point may take (and at most
#: ``max_iter``): the hinge's linear program takes more than the smooth
#: losses' (penbased, one-vs-rest at C = 1 to 100: 35 to 84)
HINGE_MAX_ITERATIONS = 200
#: ... and where its arrays over the samples, about INTERIOR_BYTES_PER_SAMPLE
#: bytes a sample (some 40 vectors of n floats: measured 1.04 GB at n = 3e6,
#: d = 2), take at most INTERIOR_MEMORY bytes a column
INTERIOR_BYTES_PER_SAMPLE = 400
INTERIOR_MEMORY = 1e9
#: without a penalty the interior point runs on a basis of the scores'
#: space (``_scores_basis``): a dense copy of ``X``, the SVD's own and its
#: factors, and the map back to ``w``, about this many copies of ``X`` at
#: once (10 x 2,000,000: 960 MB past ``X``'s 153 MB at five dense copies)
UNPENALIZED_COPIES = 6
#: ... and its iterations end once certified within this share of tol
UNPENALIZED_SHARE = 0.1
#: the coefficients whose ``|X^T (alpha y)|_j`` is below ``rho`` by more
#: than this share are zero at the optimum: the interior point leaves them
#: near 0, and they are set to 0 (kept only if the certificate holds)
SNAP_SHARE = 1e-6
#: a sparse ``X`` is densified for the interior point where its dense copy
#: has at most DENSE_ENTRIES entries and the dense normal matrix's work,
#: ``n (d + 1)^2``, is at most DENSE_WORK_RATIO times the sparse Gram's,
#: ``sum_i nnz_i^2``: BLAS's rank-k update runs many times faster per
#: multiply-add. Measured, hinge with L1, one-vs-rest: optdigits as CSR
#: (ratio 3.9) 0.62 s dense against 1.14 s sparse; splice as CSR (23) 0.77
#: against 0.38 s
DENSE_ENTRIES = 4_000_000
DENSE_WORK_RATIO = 5.0
#: a separator's margins are scaled this share past the loss's margin, and
#: ROUNDING_SHARE times its scores' sizes (``|X| |w| + |b|``) over its
#: smallest margin past that (see :func:`past_every_margin`)
SEPARATION_SHARE = 1e-9
ROUNDING_SHARE = 64 * np.finfo(np.float64).eps
#: where the Newton system over every feature is past HINGE_STEP_WORK, the
#: hinge's interior point runs on working sets of features, the first of
#: this many (see :func:`_screened_column`)
SCREEN_FIRST = 50
#: ... and joined by the features whose dual values pass this share of rho
SCREEN_NEAR = 0.5
#: the route gives way at once where the features whose dual values pass
#: rho at 0 would cost this many times HINGE_STEP_WORK: text (5,000 x
#: 20,000) at C = 10 5.3 times, at C = 100 42 times, where the rounds reach
#: the limit; a 1,500 x 3,000 sparse set at C = 1 1.3 times, where they
#: certify with 400 features (137 non-zero)
SCREEN_FORETELL = 4.0


def _sparse_gram_work(X):
    """``sum_i nnz_i^2`` of a sparse ``X``: the compiled Gram's multiply-adds."""
    per_row = np.diff(sp.csr_matrix(X).indptr).astype(np.float64)
    return float(np.square(per_row).sum())


def _gram_work(X):
    """``(dense, work)``: whether the interior point reads ``X`` as a dense
    array (a sparse one densified where ``DENSE_WORK_RATIO`` says so), and
    the multiply-adds of one normal matrix's Gram part that way."""
    n, d = X.shape
    dense_work = n * (d + 1.0) ** 2
    if not sp.issparse(X):
        return True, dense_work
    sparse_work = _sparse_gram_work(X)
    if n * d <= DENSE_ENTRIES and dense_work <= DENSE_WORK_RATIO * sparse_work:
        return True, dense_work
    return False, sparse_work


def hinge_interior_point_applies(objective):
    """Whether ``gd`` solves ``objective`` by :func:`hinge_interior_point`.

    The plain hinge (binary or one-vs-rest) with the L1 penalty or the
    elastic net (an L1 part), or the group norm over one column (which is
    L1), on data whose iteration's work (over the coefficients, or over
    the samples where there are fewer: see ``_System``) is within
    ``HINGE_STEP_WORK`` (past it, on working sets of features, see
    :func:`_screened_column`: where the first set's is within it) and whose
    sample arrays fit in ``INTERIOR_MEMORY``; and without a penalty, where
    the iteration over every feature is within ``HINGE_STEP_WORK`` (the
    linear program then has no sparsity for working sets to find: every
    feature's dual value must reach 0), a sparse ``X`` has at most
    ``DENSE_ENTRIES`` entries dense, and ``UNPENALIZED_COPIES`` dense
    copies of ``X`` fit in ``INTERIOR_MEMORY`` (see :func:`_scores_basis`).
    """
    from ..penalties import L1, ElasticNet, GroupL1L2

    loss, penalty = objective.loss, objective.penalty
    kernel = None if loss.is_multiclass or loss.is_pairwise else loss.compiled_kernel()
    # over one column the group norm is the L1 norm
    l1_like = type(penalty) in (L1, ElasticNet) or (
        type(penalty) is GroupL1L2 and objective.n_outputs == 1
    )
    if kernel is None or kernel.name != "hinge" or not (l1_like or penalty is None):
        return False
    if objective.n_samples * INTERIOR_BYTES_PER_SAMPLE > INTERIOR_MEMORY:
        return False
    if penalty is None:
        # read as a dense array, for the basis of the scores' space (see
        # _hinge_column): a sparse X only where that copy is small, and the
        # basis's copies (UNPENALIZED_COPIES of X) within INTERIOR_MEMORY
        X = objective.X
        n, d = X.shape
        small = not sp.issparse(X) or n * d <= DENSE_ENTRIES
        fits = 8.0 * UNPENALIZED_COPIES * n * d <= INTERIOR_MEMORY
        return small and fits and n * (d + 1.0) * min(n, d + 1.0) <= HINGE_STEP_WORK
    if penalty.nonsmooth_value(np.ones((1, 1))) <= 0.0:
        return False
    # past HINGE_STEP_WORK over every feature, it runs on working sets of
    # features (see _screened_column), the first of SCREEN_FIRST
    first = min(SCREEN_FIRST, objective.n_features)
    return _step_work(objective.X, np.arange(first)) <= HINGE_STEP_WORK


def _step_work(X, features=None):
    """One iteration's multiply-adds for the columns ``features`` of ``X``
    (None: all): forming and factoring the Newton system over the
    coefficients (a sparse ``X`` densified where :func:`_gram_work` says
    so), or over the samples where that costs less (:func:`normal_work`,
    :func:`samples_space_pays`). From the shape and the entries' counts
    alone: the working sets' checks sliced ``X`` for them, a transient copy
    of most of it on wide dense data (280 MB at 1,000 x 40,000)."""
    n = X.shape[0]
    d = X.shape[1] if features is None else len(features)
    if sp.issparse(X):
        csr = sp.csr_matrix(X)
        per_row = np.diff(csr.indptr)
        per_column = np.bincount(csr.indices, minlength=X.shape[1])
        if features is not None:
            chosen = np.zeros(X.shape[1], dtype=bool)
            chosen[features] = True
            rows = np.repeat(np.arange(n), per_row)
            per_row = np.bincount(rows[chosen[csr.indices]], minlength=n)
            per_column = per_column[features]
        gram_d = float(np.square(per_row.astype(np.float64)).sum())
        gram_n = float(np.square(per_column.astype(np.float64)).sum())
        dense_work = n * (d + 1.0) ** 2
        densified = n * d <= DENSE_ENTRIES and dense_work <= DENSE_WORK_RATIO * gram_d
        gram = dense_work if densified else gram_d
    else:
        gram = n * (d + 1.0) ** 2
        gram_d, gram_n = n * float(d) ** 2, float(n) ** 2 * d
    by_coefficients = gram_d + (d + 1.0) ** 3 / 3.0
    by_samples = gram_n + float(n) ** 3 / 3.0
    work = gram + (d + 1.0) ** 3 / 3.0
    if by_samples < SAMPLES_SPACE_SHARE * by_coefficients:
        work = min(work, by_samples)
    return work


def hinge_interior_point(objective, tol, max_iterations, callback=None, start=None):
    """The hinge's L1 / elastic-net problem solved by :func:`margin_interior_point`.

    Each one-vs-rest column is solved on its own, and certified by the
    duality gap at the interior point's multipliers ``alpha`` (in ``[0,
    c_i]``; ``F_i^*(-alpha_i y_i) = -m alpha_i`` for the hinge of margin
    ``m``), which :meth:`LinearObjective.duality_gap` makes exactly feasible:
    the hinge's own gradient is no dual point at its kinks (it certified
    nothing better than 0.8 on breast cancer, L1, C = 1, at the optimum).
    The coefficients whose dual value lies inside ``(-rho, rho)`` are set to
    0 (``SNAP_SHARE``). Without a penalty (the linear program ``rho = q =
    0``) the certificate takes the multipliers as feasible where ``X^T
    (alpha y)`` is 0 to rounding (see :meth:`LinearObjective.duality_gap`).
    Returns a :class:`SolveResult` (``converged`` where
    the summed gaps are within ``tol`` of ``P``; a column whose iteration
    broke down is left at 0 with an infinite bound). An interior point
    starts from the centre of its feasible set: ``start`` only names
    features for the first working set where there is one (see
    :func:`_screened_column`).
    """
    from ._base import certified_columns

    # the columns share X: decided once (without a penalty always dense, for
    # the basis: see hinge_interior_point_applies)
    dense = objective.penalty is None or _gram_work(objective.X)[0]
    # no working sets without a penalty (see hinge_interior_point_applies)
    screened = (
        objective.penalty is not None and _step_work(objective.X) > HINGE_STEP_WORK
    )
    # without a penalty the columns share one basis of the scores' space: it
    # is formed once (a 1,000 x 999 set of 10 classes redid its SVD for each
    # column, 6.2 of its 7.9 s)
    shared = _scores_basis(objective) if objective.penalty is None else None
    return certified_columns(
        lambda part, begin: _hinge_column(
            part, tol, max_iterations, dense, screened, begin, shared
        ),
        objective,
        start,
        tol,
        "interior point",
        callback,
    )


def _shifted_rows(objective):
    """``(rows, shift)``: ``X - shift`` as a dense array of its own, ``shift``
    the offset and, with a free intercept, the features' mean: any shift of
    the features leaves an unpenalized intercept's problem the same, and
    centred its normal matrix is better conditioned."""
    X, d = objective.X, objective.n_features
    shift = np.zeros(d) if objective.offset is None else np.asarray(objective.offset)
    rows = X.toarray() if sp.issparse(X) else np.array(X, dtype=np.float64)
    rows -= shift
    if objective.fit_intercept and objective.intercept_penalty == 0:
        mean = rows.mean(axis=0)
        rows -= mean
        shift = shift + mean
    return rows, shift


def _scores_basis(objective):
    """``(shift, basis)`` for the columns of ``objective`` without a
    penalty: :func:`_shifted_rows`'s shift and :func:`_range_basis` of its
    rows."""
    rows, shift = _shifted_rows(objective)
    return shift, _range_basis(rows)


def _hinge_column(
    part, tol, max_iterations, dense, screened=False, start=None, shared=None
):
    """One column of :func:`hinge_interior_point` (``dense``: read ``X`` as
    a dense array, see :func:`_gram_work`; ``screened``: on working sets of
    features, see :func:`_screened_column`; ``start``: the column's start,
    where there is one; ``shared``: :func:`_scores_basis` of the columns'
    ``X``, without a penalty)."""
    from ._base import SolveResult

    zero = part.zeros()
    zero_value = float(part.value(zero))
    if zero_value == 0.0:  # P >= 0: no loss at 0 (a margin of 0)
        return SolveResult(zero, 0, True, 0.0, 0.0)
    X, d = part.X, part.n_features
    y = np.asarray(part.y, dtype=np.float64).reshape(-1)
    weights = np.asarray(part.loss_scale * part.sample_weight, dtype=np.float64)
    # without a penalty the linear program of the hinge alone (rho = q = 0)
    rho = 0.0 if part.penalty is None else part.penalty.nonsmooth_value(np.ones((1, 1)))
    rho, q, p = float(rho), part.reg, part.intercept_penalty
    free = part.fit_intercept and p == 0
    offset = np.zeros(d) if part.offset is None else np.asarray(part.offset)
    shift, columns, basis = np.zeros(d), None, None
    if shared is not None:
        # without a penalty only the scores' space matters: the interior
        # point runs on an orthonormal basis of it (see _range_basis). On
        # the raw columns its multipliers stopped short of X^T U = 0 where
        # columns were nearly collinear (CSR, scales 1e-6 to 1e6 and a near
        # duplicate: 3 % above the optimum, certified), and ``<W, X^T U>``
        # at the raw W, far from the optimal one, did not account for it;
        # in the basis the residual is rounding and ``<W, X^T U> = <v, Q^T
        # U>``
        shift, basis = shared
    elif screened:
        # no copy of the whole X (wide dense data: three of them, 860 MB at
        # 1,000 x 40,000): each round's columns are built for its working
        # set (columns_of), the rows' shift as below
        if dense:
            shift = np.asarray(X.mean(axis=0)).ravel() if free else offset
    elif not dense:
        columns = sp.csr_matrix(X.T)  # the interior point reads X^T
    else:
        rows, shift = _shifted_rows(part)  # the interior point's rows
        columns = np.ascontiguousarray(rows.T)
    margin = float(part.loss.compiled_kernel().a)

    def columns_of(features):
        # the interior point's X^T over ``features`` (None: all)
        if features is None:
            return columns if basis is None else basis[0]
        chosen = X[:, features]
        if not dense:
            return sp.csr_matrix(chosen.T)
        chosen = chosen.toarray() if sp.issparse(chosen) else np.asarray(chosen, float)
        return np.ascontiguousarray((chosen - shift[features]).T)

    def dual_values(v):
        # (X - shift)^T v over every feature, without forming X - shift
        if columns is not None:
            return np.asarray(columns @ v).ravel()
        return np.asarray(X.T @ v).ravel() - shift * float(v.sum())

    def certificate(w, b, alpha, on=part, moved=shift - offset):
        # its scores (X - shift) w + b are the objective's (X - offset) w + b
        # (``on``: the objective, or its restriction to a working set)
        intercept = [b - float(moved @ w)] if part.fit_intercept else None
        dual = (-(alpha * y)[:, None], -margin * alpha[:, None])
        coef = on.join(w[None, :], intercept)
        if part.penalty is None:
            coef = past_every_margin(on, coef, margin)
            intercept = list(on.split(coef)[1]) if part.fit_intercept else None
        return (coef, intercept, dual, *on.duality_gap(coef, dual=dual))

    def solve(features, budget):
        # the interior point on the columns ``features`` (None: all), the
        # others held at 0; the best certified iterate, not the last: with
        # collinear columns the last steps take a ridge and can lose dual
        # feasibility (breast cancer with a duplicated column, C = 100:
        # 2e-10 two steps before the end, 2.8e-4 at it)
        def lifted(w):
            # from the basis's coordinates where it ran on one
            return w if basis is None or features is not None else basis[1] @ w

        def full(w):
            if features is None:
                return w
            everywhere = np.zeros(d)
            everywhere[features] = w
            return everywhere

        # the iterates are scored on the problem they solve: on the whole
        # one, the features left out weigh on the bound (with the elastic
        # net, beyond any scaling: 5,000 x 20,000 text, C = 100, every
        # round's best iterate was its first, at w = 0)
        on, moved = part, shift - offset
        if features is not None:
            on, moved = part.features(features), moved[features]

        def relative_gap(w, b, alpha):
            # the relative gap, then P: among iterates of no certificate
            # (penalty=None where X^T (alpha y) stays off 0: 7 nearly equal
            # columns at 298 +- 2e-4 stalled at 6e-4) the lowest P is the
            # best answer, not the first iterate
            *_, gap, primal = certificate(lifted(w), b, alpha, on, moved)
            # P = 0 is optimal: the hinge is never negative
            return (gap / primal if primal > 0 else 0.0), primal

        # without a penalty, no zeros to read from a tighter end: its
        # certificate within a tenth of tol ends it (spambase: certified at
        # 4.9e-7 in 42 iterations, then 33 more that rounding kept from
        # certifying again; 1-ulp changes in the basis moved that end)
        enough = UNPENALIZED_SHARE * tol if part.penalty is None else None
        found = margin_interior_point(
            columns_of(features), y, weights, rho, q, p, part.fit_intercept,
            part.loss, budget, score=relative_gap, enough=enough,
        )  # fmt: skip
        if found is None:
            return None
        w, b, iterations, alpha = found
        return full(lifted(w)), b, iterations, alpha

    if screened:
        found, used = _screened_column(
            solve, certificate, dual_values, y, weights, rho, tol, max_iterations,
            start, part,
        )  # fmt: skip
    else:
        found, used = solve(None, max_iterations), 0
    if found is None:
        # nothing to offer: the column stays at its start, where gd's
        # smoothing stages go on (at 0, a warm start was lost: a path's
        # point at C = 1,000 on text ended 60 % higher than from the last)
        if start is None:
            return SolveResult(zero, used, False, zero_value, np.inf)
        start = np.array(start, dtype=np.float64)
        return SolveResult(start, used, False, float(part.value(start)), np.inf)
    w, b, iterations, alpha = found
    pulled = alpha * y
    coef, intercept, dual, gap, primal = certificate(w, b, alpha)
    # the coefficients inside the L1 ball are 0 (none without a penalty)
    inside = rho > 0 and np.abs(dual_values(pulled)) < (1.0 - SNAP_SHARE) * rho
    if np.any(inside & (w != 0.0)):
        snapped = part.join(np.where(inside, 0.0, w)[None, :], intercept)
        snapped_gap, snapped_primal = part.duality_gap(snapped, dual=dual)
        if snapped_gap <= max(gap, tol * snapped_primal):
            coef, gap, primal = snapped, snapped_gap, snapped_primal
    optimality = gap / primal if primal > 0 else 0.0
    return SolveResult(
        coef=coef,
        n_iter=int(iterations),
        converged=bool(optimality <= tol),
        value=float(primal),
        optimality=float(optimality),
    )


def _range_basis(rows):
    """``(Q^T, lift)``: an orthonormal basis ``Q`` of the range of ``X``
    (``rows``, dense, ``n x d``: scaled in place) and the map from its
    coordinates to ``w``, ``X lift v = Q v``.

    Without a penalty the hinge's linear program sees ``X`` through its
    scores ``X w`` only, and the interior point's normal matrix ``X^T G X``
    squares ``X``'s condition number: on 7 nearly equal columns at ``298 +-
    2e-4`` (one duplicated; singular values 3.7e3, then 1.2e-3 to 5.6e-4)
    its residual stalled at 6e-4, and the fit ended 6 % above the optimum.
    On ``Q`` it is perfectly conditioned. The columns are scaled to unit
    norm first (``D``); directions of singular values below ``max(n, d)``
    epsilons of the largest are then dropped (the scaled ``X`` is 0 along
    them to rounding), and ``w = D^{-1} V S^{-1} v`` has the scores ``Q
    v``.
    """
    # the columns at unit norm first (w_j scaled alike: the program is the
    # same), so that only collinearity drops a direction, not scale: a
    # column at 1e6 next to an informative one at 1e-9 had the latter's
    # direction dropped, a wrong optimum
    norms = np.sqrt(np.einsum("ij,ij->j", rows, rows))
    norms[norms == 0.0] = 1.0
    rows /= norms
    left, values, right = np.linalg.svd(rows, full_matrices=False)
    rank_tol = max(rows.shape) * np.finfo(np.float64).eps
    kept = values > values.max(initial=0.0) * rank_tol
    lift = right[kept].T / values[kept] / norms[:, None]
    return np.ascontiguousarray(left[:, kept].T), lift


def past_every_margin(objective, coef, margin):
    """``coef`` scaled up until every weighted sample is past ``margin`` in
    every column, where it separates them (``y_ik s_ik > 0``), else
    ``coef``.

    Without a penalty, separable data has ``P* = 0`` and any separator scaled
    that far is optimal; an interior point only tends to one (its margins
    approach ``margin`` from inside, ``P > 0`` at every iterate), and its
    multipliers to 0 along no feasible direction, so that neither its value
    nor its bound would reach 0; the smoothing stages' values reach 4e-15,
    not 0.
    """
    weighted = objective.loss_scale * objective.sample_weight > 0
    signs = np.asarray(objective.y, dtype=np.float64).reshape(objective.n_samples, -1)
    margins = (signs * objective.scores(coef))[weighted]
    if not margins.size or not margins.min() > 0:
        return coef
    # a little past, so that rounding leaves no score short of the margin:
    # the scores' own rounding, in the coordinates a user computes them in
    # (``X w + b``, uncentered: features shifted by 1e4 put intercepts at
    # 1e8 and margins 6e-8 short, past a fixed share of 1e-9)
    W, b = objective.split(coef)
    if objective.offset is not None:
        b = b - W @ objective.offset
    sizes = absolute_product(objective.X, np.abs(W).T) + np.abs(b)
    rounding = ROUNDING_SHARE * float(sizes.max(initial=0.0)) / margins.min()
    factor = max(1.0, margin / margins.min()) * (1.0 + SEPARATION_SHARE + rounding)
    scaled = coef * factor
    return scaled if objective.value(scaled) == 0.0 else coef


def _screened_column(
    solve, certificate, dual_values, y, weights, rho, tol, max_iterations, start,
    part,
):  # fmt: skip
    """The interior point on growing working sets of features (column
    generation), for a column whose Newton system over every feature is
    past ``HINGE_STEP_WORK``.

    A feature can be non-zero at the optimum only where its dual value
    ``|X_j^T (alpha y)|`` reaches ``rho``. The first working set holds the
    ``SCREEN_FIRST`` features with the largest dual values at ``alpha = c``
    (balanced between the classes where the intercept is free: the loss's
    gradient at 0; where those past ``rho`` there would cost
    ``SCREEN_FORETELL`` times ``HINGE_STEP_WORK``, the route gives way at
    once), and those
    non-zero at ``start`` where the set's iteration stays within
    ``HINGE_STEP_WORK`` with them; each round solves the problem restricted
    to the working set, certifies it on the whole problem (the duality gap
    at its multipliers: they are a dual point of the whole problem, made
    feasible by :meth:`LinearObjective.duality_gap`), and where some
    feature's dual value passes ``rho`` there, adds those past
    ``SCREEN_NEAR`` times ``rho``, the largest first, at most as many as the
    set holds (it at most doubles). It stops once certified, where no
    feature violates (the restricted solve ended short) or after
    ``max_iterations`` iterations in all. Returns ``(found, iterations)``:
    ``solve``'s ``(w, b, iterations, alpha)`` of the best certified round,
    or None where none ran or an iteration would cost more than
    ``HINGE_STEP_WORK`` over a working set, or over the last one with all
    its violators (the optimum then needs more features than the interior
    point can take: ``gd``'s smoothing stages go on from the start); and
    the iterations of every round.
    """
    X, d = part.X, part.n_features
    pulled = weights * y
    if part.fit_intercept and part.intercept_penalty == 0:
        # sum alpha_i y_i = 0: the larger class's weights scaled down
        positive, negative = pulled[y > 0].sum(), -pulled[y < 0].sum()
        if positive > 0 and negative > 0:
            pulled = np.where(
                y > 0,
                pulled * min(1.0, negative / positive),
                pulled * min(1.0, positive / negative),
            )
    scores = np.abs(dual_values(pulled))
    foretold = _step_work(X, np.flatnonzero(scores > rho))
    if foretold > SCREEN_FORETELL * HINGE_STEP_WORK:
        # the features past rho at 0 foretell the optimum's support, roughly
        # (text, 5,000 x 20,000: 13, 91, 316, 2,507 at C = 0.1, 1, 3, 10,
        # where it has 16, 101, 311 and some 3,000): far past the limit with
        # them, the rounds would end there, their iterations lost to the
        # stages
        return None, 0
    order = np.argsort(-scores, kind="stable")
    features = np.sort(order[: min(SCREEN_FIRST, d)])
    if start is not None:
        W0 = part.split(np.asarray(start, dtype=np.float64))[0].ravel()
        with_start = np.union1d(features, np.flatnonzero(W0))
        # a start of wide support (an uncertified smoothing answer) would
        # end the route before its first round
        if _step_work(X, with_start) <= HINGE_STEP_WORK:
            features = with_start
    used, best = 0, None
    while used < max_iterations:
        if _step_work(X, features) > HINGE_STEP_WORK:
            # the optimum needs more features than the interior point can
            # take: the smoothing stages go on from the start, as where the
            # route does not apply (from the last round's point, text at C
            # = 1,000 ended at max_iter 20 % higher)
            return None, used
        found = solve(features, max_iterations - used)
        if found is None:
            break
        w, b, iterations, alpha = found
        used += iterations
        *_, gap, primal = certificate(w, b, alpha)
        relative = gap / primal if primal > 0 else 0.0
        if best is None or relative < best[0]:
            best = (relative, w, b, alpha)
        if relative <= tol:
            break
        values = np.abs(dual_values(alpha * y))
        values[features] = 0.0
        violating = np.flatnonzero(values > rho)
        if not len(violating):
            break
        if _step_work(X, np.union1d(features, violating)) > HINGE_STEP_WORK:
            # past the limit with the violators alone: more rounds would
            # double the set up to it and stop there (text, 5,000 x 20,000,
            # C = 10: 1,868 violators at the first round's 50 features,
            # four more rounds, 0.5 s, to a bound of 0.65)
            return None, used
        # the violators and the features near rho, the largest first: the
        # violators alone joined a few at a time (1,500 x 3,000 sparse, C =
        # 1: 50, 100, 162, 179, 189, 197, 198 features, the iterations spent
        # at a bound of 0.1; with those above rho / 2: 5 rounds, 1e-13)
        near = np.flatnonzero(values > SCREEN_NEAR * rho)
        near = near[np.argsort(-values[near], kind="stable")]
        features = np.union1d(features, near[: max(len(features), SCREEN_FIRST)])
    if best is None:
        return None, used
    return (best[1], best[2], used, best[3]), used
