"""The fully-corrective step of HingeBoostingClassifier.

An exact Newton method for the squared hinge on a dense matrix of atoms that
grows by one column per boosting round, warm-started from the previous
round's solution.
"""

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs, dtrtrs

#: a refit stops when no coefficient's partial derivative exceeds this (they
#: are at most 2 sqrt(R) in absolute value: see SquaredHingeRefit.refit)
REFIT_TOL = 1e-10
#: Newton iterations allowed per refit (2.6 on average over 400 stumps on
#: make_hastie_10_2, at most 5 there)
REFIT_MAX_ITER = 100


def grown(array, columns):
    """``array`` (Fortran order) with room for at least ``columns`` columns.

    Capacity doubles, so that appending a column costs amortized O(n).
    """
    if array.shape[1] >= columns:
        return array
    bigger = np.zeros((array.shape[0], max(columns, 2 * array.shape[1])), order="F")
    bigger[:, : array.shape[1]] = array
    return bigger


class SquaredHingeRefit:
    """Minimize the squared hinge of one boosted score over all its atoms.

    .. math:: R(b, a) = \\sum_i s_i \\max(0, 1 - y_i (b + z_i^\\top a))^2
              + \\tfrac{\\alpha}{2} \\|a\\|^2, \\qquad \\sum_i s_i = 1,

    ``z_i`` the outputs of the atoms (trees) on sample ``i``, ``b`` the
    unpenalized intercept.

    Each Newton iteration solves :math:`H\\delta = -\\nabla R` with the
    generalized Hessian
    :math:`H = 2\\sum_{i \\in A} s_i \\tilde z_i \\tilde z_i^\\top +
    \\mathrm{diag}(0, \\alpha, \\dots, \\alpha)`, :math:`\\tilde z_i = (1,
    z_i)`, over the active samples :math:`A = \\{i : y_i f_i < 1\\}`, then
    takes the exact minimizer along :math:`\\delta` of the piecewise-quadratic
    :math:`R` (a sort of the breakpoints): the finite Newton method of
    Keerthi and DeCoste (2005), which ends in finitely many iterations once
    the active set stops changing. It is cheap in a boosting round because
    the matrix :math:`\\sum_{i \\in A} s_i \\tilde z_i \\tilde z_i^\\top` is
    kept between iterations and rounds: a new atom adds one row and column
    (one pass over the samples) and extends the Cholesky factor of ``H`` by
    one row (a triangular solve); samples that enter or leave ``A`` are added
    or subtracted (a rank update), after which ``H`` is factored again. The
    warm start (the previous weights and 0 for the new atom) has the previous
    active set, so a round whose active set does not move costs two passes
    over the ``n x k`` atoms (the new Gram column, the step's scores) and
    :math:`O(k^2)`; each further Newton step, one pass and a factorization
    of ``H``. The gradient comes from the kept sums, not from a pass. A
    singular ``H`` (``alpha =
    0`` with atoms collinear on ``A``) gets a diagonal shift of
    :math:`10^{-12}` times its mean diagonal (raised until the factorization
    succeeds); the direction is still a descent direction and the line search
    keeps every step a decrease.

    Parameters
    ----------
    y : ndarray of shape (n,)
        +-1 targets.
    sample_weight : ndarray of shape (n,)
        Non-negative weights, normalized here to sum to 1.
    alpha : float
        L2 penalty on the atom weights (not on the intercept).
    """

    def __init__(self, y, sample_weight, alpha, capacity=16):
        self.y = np.asarray(y, dtype=np.float64)
        s = np.asarray(sample_weight, dtype=np.float64)
        self.s = s / s.sum()
        self.sy = self.s * self.y
        self.alpha = float(alpha)
        self.Z = np.ones((len(self.y), capacity + 1), order="F")  # 0: intercept
        self.k = 1  # columns in use: the intercept, then one per atom
        self.coef = np.zeros(1)
        self.scores = np.zeros(len(self.y))
        # sums over the samples in self._rows: of s_i z_i z_i^T, of s_i y_i z_i
        self._rows = np.zeros(len(self.y), dtype=bool)
        self._sums = np.zeros((capacity + 1, capacity + 2))  # [gram | rhs]
        self._factor = None  # lower Cholesky factor of H for (_rows, k)
        self._updates = 0  # rows added or removed since the sums were fresh

    @property
    def intercept(self):
        return float(self.coef[0])

    @property
    def weights(self):
        return self.coef[1:].copy()

    def residual(self):
        """``-dl/df_i = 2 y_i max(0, 1 - y_i f_i)``, what the next atom fits."""
        return 2.0 * self.y * np.maximum(1.0 - self.y * self.scores, 0.0)

    def value(self):
        """``R`` at the current coefficients."""
        hinge = np.maximum(1.0 - self.y * self.scores, 0.0)
        a = self.coef[1:]
        return float(self.s @ hinge**2 + 0.5 * self.alpha * a @ a)

    @property
    def _gram(self):
        return self._sums[: self.k, : self.k]

    @property
    def _rhs(self):
        return self._sums[: self.k, -1]

    def add(self, atom):
        """Append an atom (its outputs on the samples) with weight 0."""
        k = self.k
        self.Z = grown(self.Z, k + 1)
        self.Z[:, k] = atom
        if len(self._sums) == k:  # room for one more row and column
            sums = np.zeros((2 * k, 2 * k + 1))
            sums[:k, :k], sums[:k, -1] = self._gram, self._rhs
            self._sums = sums
        col = self.Z[:, : k + 1].T @ (self.s * self._rows * atom)
        self._sums[:k, k] = self._sums[k, :k] = col[:k]
        self._sums[k, k] = col[k]
        self._sums[k, -1] = atom @ (self.sy * self._rows)
        self.coef = np.append(self.coef, 0.0)
        self.k = k + 1
        if self._factor is not None:
            self._factor = _extended(self._factor, 2.0 * col, self.alpha)

    def refit(self, tol=REFIT_TOL, max_iter=REFIT_MAX_ITER):
        """Minimize ``R`` over the intercept and every weight; return converged.

        ``R`` has a fixed scale (weights summing to 1, atoms of unit weighted
        RMS), so ``tol`` is absolute: by Cauchy-Schwarz
        :math:`|\\partial R / \\partial a_j| = 2|\\sum_i s_i y_i m_i z_{ij}|
        \\le 2\\sqrt{R}` (:math:`m_i` the hinge), and the refit stops when
        every partial derivative (the intercept's and the ``alpha a_j`` terms
        included) is at most ``tol``, or when a step no longer changes the
        coefficients in floating point. On the active samples
        ``1 - y_i f_i = y_i (y_i - f_i)``, so the gradient is ``pen * coef -
        2 (rhs - gram @ coef)`` from the two sums over ``A``: an iteration
        makes one pass over ``Z`` (the direction's scores), not three.
        """
        Z = self.Z[:, : self.k]
        pen = np.full(self.k, self.alpha)
        pen[0] = 0.0
        margin = 1.0 - self.y * self.scores
        for _ in range(max_iter):
            self._track(margin > 0)
            grad = pen * self.coef - 2.0 * (self._rhs - self._gram @ self.coef)
            if np.max(np.abs(grad)) <= tol:
                return True
            if self._factor is None:
                self._factor = _factor(2.0 * self._gram + np.diag(pen))
            step = -_solve(self._factor, grad)
            direction = Z @ step
            tau = exact_line_search(
                margin,
                self.y * direction,
                self.s,
                pen * self.coef @ step,
                pen * step @ step,
            )
            if np.array_equal(self.coef + tau * step, self.coef):
                return True  # converged as far as floating point goes
            self.coef += tau * step
            self.scores += tau * direction
            margin = 1.0 - self.y * self.scores
        return False

    def _track(self, active):
        """Make the sums run over ``active``, dropping a stale factor."""
        changed = active != self._rows
        n_changed = int(changed.sum())
        if not n_changed:
            return
        Z = self.Z[:, : self.k]
        self._updates += n_changed
        k = self.k
        if n_changed > active.sum() or self._updates > len(active):
            rows, weights, signed_y = Z[active], self.s[active], self.sy[active]
            self._sums[:k, :k] = rows.T @ (weights[:, None] * rows)
            self._sums[:k, -1] = rows.T @ signed_y
            self._updates = 0
        else:
            rows = Z[changed]
            sign = np.where(active[changed], 1.0, -1.0)
            self._sums[:k, :k] += rows.T @ ((sign * self.s[changed])[:, None] * rows)
            self._sums[:k, -1] += rows.T @ (sign * self.sy[changed])
        self._rows = active
        self._factor = None


def _factor(H):
    """Lower Cholesky factor of ``H``, shifted if ``H`` is (numerically) singular."""
    shift = 1e-12 * max(np.trace(H) / len(H), np.finfo(float).tiny)
    extra = 0.0
    for _ in range(20):
        shifted = H + extra * np.eye(len(H)) if extra else H
        factor, info = dpotrf(shifted, lower=1, clean=1, overwrite_a=shifted is not H)
        if info == 0:
            return factor
        extra = shift if extra == 0.0 else 100.0 * extra
    raise FloatingPointError("the refit's Hessian could not be factored")


def _solve(L, b):
    """``x`` with ``L L^T x = b``."""
    return dpotrs(L, b, lower=1)[0]


def _extended(L, h, alpha):
    """The factor of ``[[H, h[:-1]], [h[:-1]^T, h[-1] + alpha]]`` from ``H = L L^T``.

    ``None`` when the new pivot is not safely positive (factor again then).
    """
    row = dtrtrs(L, h[:-1], lower=1)[0]
    pivot = h[-1] + alpha - row @ row
    if not pivot > 1e-10 * (h[-1] + alpha):
        return None
    k = len(L)
    out = np.zeros((k + 1, k + 1), order="F")
    out[:k, :k] = L
    out[k, :k] = row
    out[k, k] = np.sqrt(pivot)
    return out


def exact_line_search(margin, slope, s, c0, c1):
    """``argmin_{t >= 0} c0 t + c1 t^2 / 2 + sum_i s_i max(0, m_i - t e_i)^2``.

    ``m = margin``, ``e = slope``: a convex piecewise quadratic whose
    derivative is piecewise linear and continuous, ``A + B t`` between
    breakpoints, where a sample enters or leaves the active set
    (``t_i = m_i / e_i``). The breakpoints are sorted and the derivative's
    sign change located, O(n log n); none is sorted when the first piece's
    minimizer comes before every breakpoint (a Newton step that keeps the
    active set). ``c0 < 0`` is assumed (a descent direction).
    """
    inside = margin > 0
    weighted = s * slope
    # on a piece, A = c0 - 2 sum s e m and B = c1 + 2 sum s e^2 over its actives
    A = c0 - 2.0 * (weighted @ np.where(inside, margin, 0.0))
    B = c1 + 2.0 * (weighted @ np.where(inside, slope, 0.0))
    # active at 0 and leaving (e > 0), or inactive and entering (e < 0)
    events = np.flatnonzero((inside == (slope > 0)) & (slope != 0))
    t = margin[events] / slope[events]
    if B > 0 and (not len(t) or t.min() >= -A / B):
        return float(-A / B)
    order = np.argsort(t)
    t, events = t[order], events[order]
    change = 2.0 * np.where(inside[events], 1.0, -1.0) * weighted[events]
    A = A + np.concatenate([[0.0], np.cumsum(change * margin[events])])
    B = B - np.concatenate([[0.0], np.cumsum(change * slope[events])])
    starts = np.concatenate([[0.0], t])
    # the first piece whose end has a non-negative derivative holds the root
    ends_ok = A[:-1] + B[:-1] * t >= 0
    j = int(np.argmax(ends_ok)) if ends_ok.any() else len(t)
    if B[j] <= 0:
        return float(starts[j])
    end = t[j] if j < len(t) else np.inf
    return float(np.clip(-A[j] / B[j], starts[j], end))
