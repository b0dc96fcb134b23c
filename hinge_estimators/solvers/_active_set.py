"""Exact finish for piecewise-linear losses: an active-set polish.

Two shapes of loss are handled: sums of hinge terms (:func:`polish`) and the
hinge of a max of terms, Crammer-Singer's (:func:`polish_max`).

For a loss that is a sum of hinge terms ``[c_t + a_t . s_{i_t}]_+`` (the hinge,
one-vs-rest or not, and the plain Weston-Watkins loss) the optimality
conditions of the L2-regularized objective are

    W = -(1/r) sum_t theta_t a_t x_{i_t}^T,
    theta_t = w_t on violated terms (u_t > 0), 0 on satisfied ones (u_t < 0),
    theta_t in [0, w_t] on terms sitting exactly on their kink (u_t = 0),
    sum_t theta_t a_t = 0                (unpenalized intercept),

where ``w_t = c s_{i_t}`` and ``u_t`` is the term's argument. Once a smoothed
solution tells which terms are violated, satisfied or on the kink, these
conditions are a linear system in ``(theta_kink, b)``. Solving it and checking
every condition gives the exact optimum, certified, which no first-order
method reaches in reasonable time at tight tolerances.
"""

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._dual_cd_parts import csr_rows
from ._primal_cd_fast import sparse_gram

#: the polish forms a dense Gram matrix of the kink terms: cap its size
MAX_KINK_TERMS = 1000
#: sparse rows whose dense copy has at most this many entries are densified
#: for the Gram matrix (8 MB)
DENSE_GRAM_SIZE = 1_000_000
#: below this reciprocal condition number a factorization is not trusted:
#: the minimum-norm least-squares solution is kept (see ``_solve``)
SOLVE_RCOND = 1e-12


def term_arguments(objective, coef):
    """``(sample, A, c, u)`` where ``u_t = c_t + a_t . s_{i_t}`` at ``coef``."""
    scores = objective.scores(coef)
    terms = objective.loss.hinge_terms(objective.y, scores)
    if terms is None:
        return None
    sample, A, c = terms
    u = c + np.einsum("tk,tk->t", A, scores[sample])
    return sample, A, c, u


def polish(
    objective,
    coef,
    band,
    max_rounds=8,
    guess=None,
    multipliers=False,
    max_kink=None,
    max_least_squares=None,
):
    """Try to turn a smoothed solution into the exact optimum.

    The first guess of the active set comes from the smoothed solution: terms
    with ``0 < u_t < band`` sit on their kink, terms with ``u_t >= band`` are
    violated. Each round solves the optimality conditions on the guessed sets
    and then updates the guess by an active-set rule (kink terms whose
    multiplier leaves ``[0, w_t]`` go to the matching bound, bound terms whose
    argument has the wrong sign go to the kink set), which settles in a few
    rounds once the guess is close.

    Parameters
    ----------
    objective : LinearObjective
        The non-smooth objective; nothing is done unless its loss offers
        ``hinge_terms`` and it is regularized.
    coef : ndarray
        Solution of the problem smoothed with parameter ``band``.
    band : float
        Width of the smoothing band.
    max_rounds : int, default=8
        Active-set updates tried before giving up.
    guess : tuple of bool arrays, optional
        ``(kink, upper)`` per hinge term, replacing the guess from ``band``
        (a dual solver knows them from its multipliers).
    multipliers : bool, default=False
        Also return the multipliers of the exact optimum, ``(sample,
        theta, rounds)``: ``theta`` per hinge term, an exactly feasible dual
        point for a duality-gap certificate, and the solves it took
        (``None`` where it failed).
    max_kink : int, optional
        Give up on a guess with more kink terms than this (the solve is
        cubic in their number); ``MAX_KINK_TERMS`` by default.
    max_least_squares : int, optional
        ... and on a singular set with more kink terms than this: its
        least-squares solve (an SVD) costs several times a Cholesky factor
        (48 ms single-threaded at 600 terms, cubic in their number: some 14 s
        at 4,000); no limit by default.

    Returns
    -------
    coef : ndarray or None
        The exact optimum, or ``None`` if no guessed active set satisfied every
        optimality condition.
    violation : float
        Largest violation of the optimality conditions (relative) in the
        last round.
    dual : tuple or None
        Only with ``multipliers=True``: ``(sample, theta, rounds)``.
    """
    terms = term_arguments(objective, coef) if objective.reg > 0 else None
    if terms is None:  # not a sum of hinge terms, or nothing to anchor W
        return (None, np.inf, None) if multipliers else (None, np.inf)
    sample, A, c, u = terms
    w = objective.loss_scale * objective.sample_weight[sample]
    live = w > 0
    kink = live & (u > 0) & (u < band)
    upper = live & (u >= band)
    if guess is not None:
        kink, upper = live & guess[0], live & guess[1]
    scale = max(1.0, float(np.max(np.abs(c))) if c.size else 1.0)
    max_kink = MAX_KINK_TERMS if max_kink is None else max_kink
    seen = set()
    violation = first_violation = np.inf
    # the rounds change the sets by a few terms: each reuses the factor of an
    # earlier round's (``_KinkFactor``)
    factors = _KinkFactor()
    for rounds in range(1, max_rounds + 1):
        key = (kink.tobytes(), upper.tobytes())
        if key in seen or kink.sum() > max_kink:
            break
        seen.add(key)
        try:
            candidate, theta, u_new, balance = _solve_on_sets(
                objective, sample, A, c, w, kink, upper, factors=factors,
                max_least_squares=max_least_squares,
            )  # fmt: skip
        except _TooCostly:
            break
        satisfied = live & ~kink & ~upper
        violation = max(
            balance,
            np.max(np.concatenate([[0.0], -theta[kink] / w[kink]])),
            np.max(np.concatenate([[0.0], (theta[kink] - w[kink]) / w[kink]])),
            np.max(np.concatenate([[0.0], -u_new[upper] / scale])),
            np.max(np.concatenate([[0.0], u_new[satisfied] / scale])),
            np.max(np.concatenate([[0.0], np.abs(u_new[kink]) / scale])),
        )
        if violation <= 1e-9:
            if multipliers:
                return candidate, float(violation), (sample, theta, rounds)
            return candidate, float(violation)
        if violation > 1.0 and first_violation == np.inf and kink.sum() > 200:
            # a poor guess on a large set: each round costs a dense solve, so
            # leave it to a later, finer stage
            break
        first_violation = min(first_violation, violation)
        if violation > 10 * first_violation:
            break  # the guesses are running away: leave it to a later stage
        # conservative active-set update: move only the terms that break a
        # condition (a full primal-dual update can run away from a poor guess)
        to_zero = kink & (theta < 0)
        to_upper = kink & (theta > w)
        to_kink = (upper & (u_new < 0)) | (satisfied & (u_new > 0))
        kink = (kink & ~to_zero & ~to_upper) | to_kink
        upper = (upper & ~to_kink) | to_upper
    return (None, float(violation), None) if multipliers else (None, float(violation))


class _TooCostly(Exception):
    """A singular set beyond ``polish``'s ``max_least_squares``."""


def _solve_on_sets(
    objective, sample, A, c, w, kink, upper, factors=None, max_least_squares=None
):
    """Solve the optimality conditions with ``theta`` fixed off the kink set.

    ``factors`` (a :class:`_KinkFactor`) keeps the Cholesky factor of an
    earlier round's kink matrix, which this round's solve borders where the
    sets moved little.

    Returns the candidate coefficients, ``theta`` for every term (``w`` on
    ``upper``, 0 on the rest), the new term arguments and the residual of the
    intercept's stationarity.
    """
    reg = objective.reg
    K = objective.n_outputs
    n_kink = int(kink.sum())
    # part of W fixed by the violated terms (theta_t = w_t)
    Xu = _Rows(objective, sample[upper])
    W_fixed = -Xu.t_dot(A[upper] * w[upper, None]).T / reg
    fixed_pull = (A[upper] * w[upper, None]).sum(axis=0)  # sum_U w_t a_t

    Xk = _Rows(objective, sample[kink])
    Ak = A[kink]
    fixed_scores = np.einsum("tk,tk->t", Ak, Xk.dot(W_fixed.T))
    rhs = -(c[kink] + fixed_scores)
    penalized_bias = objective.fit_intercept and objective.intercept_penalty > 0
    # b = -(1/p) sum_t theta_t a_t, p = intercept_penalty: substituted, it
    # adds (A A^T) reg / p to Q
    shift = reg / objective.intercept_penalty if penalized_bias else 0.0
    if penalized_bias:
        rhs = rhs + (Ak @ fixed_pull) / objective.intercept_penalty

    def block(terms_i, terms_j):
        """``Q`` between two lists of kink terms: ``(A_i A_j^T) * (G_ij + shift)``."""
        rows_i = _Rows(objective, sample[terms_i])
        rows_j = _Rows(objective, sample[terms_j])
        return _kink_matrix(rows_i.cross(rows_j), A[terms_i], A[terms_j], shift)

    terms = np.flatnonzero(kink)
    # on a small set the LU of the whole system costs less than the Python
    # around a factor and its bordering (breast cancer, 569 x 30: a fit of 3
    # ms took 4 with them)
    large = n_kink >= _KinkFactor.MIN_TERMS
    if objective.fit_intercept and not penalized_bias and K > 1:
        # terms a_t = e_j - e_y (Crammer-Singer's, Weston-Watkins'): A 1 = 0,
        # the intercept's K x K system is singular and the whole system's
        # least squares decides; a factor first would be wasted
        large = large and bool(np.any(Ak.sum(axis=1)))
    solve = factors.bordered(terms, block) if factors is not None and large else None
    Q = None
    if solve is None:
        Q = _kink_matrix(Xk.gram(), Ak, Ak, shift)
        solve = _KinkFactor.cholesky(Q, terms) if large else None
        if factors is not None and solve is not None:
            factors.keep(solve)
    b = np.zeros(K)
    theta_kink = np.zeros(n_kink)
    free_bias = objective.fit_intercept and not penalized_bias
    solved = None
    if solve is not None:
        solved = _eliminate(solve, Ak if free_bias else None, rhs, fixed_pull, reg)
    if solved is not None:
        theta_kink, b = solved[0], (b if solved[1] is None else solved[1])
    elif n_kink:
        if max_least_squares is not None and n_kink > max_least_squares:
            raise _TooCostly
        if Q is None:
            Q = _kink_matrix(Xk.gram(), Ak, Ak, shift)
        if free_bias:
            # unknowns (theta_kink, b): kink equations and sum_t theta_t a_t = 0
            M = np.zeros((n_kink + K, n_kink + K))
            M[:n_kink, :n_kink] = -Q / reg
            M[:n_kink, n_kink:] = Ak
            M[n_kink:, :n_kink] = Ak.T
            solution = _solve(M, np.concatenate([rhs, -fixed_pull]))
            theta_kink, b = solution[:n_kink], solution[n_kink:]
        else:
            theta_kink = _solve(-Q / reg, rhs)
    elif free_bias:
        # no kink term: the intercept's equation alone (sum_U w_t a_t = 0)
        b = _solve(np.zeros((K, K)), -fixed_pull)
    if penalized_bias:
        b = -(fixed_pull + Ak.T @ theta_kink) / objective.intercept_penalty
    W = W_fixed - Xk.t_dot(Ak * theta_kink[:, None]).T / reg
    candidate = objective.join(W, b)

    theta = np.where(upper, w, 0.0)
    theta[kink] = theta_kink
    scores = objective.scores(candidate)
    u_new = c + np.einsum("tk,tk->t", A, scores[sample])
    balance = 0.0
    if objective.fit_intercept and not penalized_bias:
        # the intercept's stationarity: lstsq may have settled for a residual
        live_weight = max(1.0, float(w[w > 0].sum()))
        balance = np.linalg.norm(fixed_pull + Ak.T @ theta_kink) / live_weight
    return candidate, theta, u_new, float(balance)


def _kink_matrix(gram, A_i, A_j, shift):
    """``(A_i A_j^T) * (gram + shift)``, in place on ``gram``."""
    if shift:
        gram += shift
    if A_i.shape[1] == 1:  # (a a^T) * G in place: no more n^2 temporaries
        gram *= A_i
        gram *= A_j.T
    else:
        gram *= A_i @ A_j.T
    return gram


def _eliminate(solve, A, rhs, pull, reg):
    """The optimality conditions on the sets, given solves with ``Q``.

    Solves ``-Q theta / reg + A b = rhs`` and ``A^T theta = -pull`` (without
    ``A``: ``-Q theta / reg = rhs``) by eliminating ``theta``: ``b`` solves
    the ``K x K`` system ``A^T Q^{-1} A b = A^T Q^{-1} rhs - pull / reg``.

    Returns ``(theta, b)`` (``b`` None without ``A``), or None where the
    ``K x K`` system is singular or badly conditioned (as in :func:`_solve`):
    the caller solves the whole system then, by LU or least squares.
    """
    if A is None:
        return -reg * solve(rhs[:, None])[:, 0], None
    solved = solve(np.column_stack([rhs, A]))
    q_rhs, q_A = solved[:, 0], solved[:, 1:]
    small = A.T @ q_A
    if not np.linalg.cond(small) < 1.0 / SOLVE_RCOND:
        return None
    b = np.linalg.solve(small, A.T @ q_rhs - pull / reg)
    return reg * (q_A @ b - q_rhs), b


class _KinkFactor:
    """The Cholesky factor of one polish round's kink matrix, for later rounds.

    ``Q`` (a Gram matrix of the kink terms) is positive semi-definite; where
    it is definite and well conditioned its Cholesky factor costs a third of
    the LU of the whole system (single-threaded, 2,200 kink terms: 0.11 s
    against 0.34 s), the bulk of a polish round on wide sparse data.

    A later round's set differs from the factored one ``S`` by a few terms:
    ``D`` left, ``N`` joined. Its matrix is ``Q_S`` bordered by the new terms
    with the left ones pinned at 0,

    .. math:: \\begin{pmatrix} Q_S & Q_{SN} & E_D \\\\ Q_{NS} & Q_{NN} & 0
              \\\\ E_D^T & 0 & 0 \\end{pmatrix},

    solved through ``Q_S``'s factor and the Schur complement ``T`` of its
    ``|N| + |D|`` last rows: ``O(|S|^2 (|N| + |D|))`` where a new factor
    costs ``|S|^3 / 3`` and the whole Gram matrix (text, 2,264 kink terms,
    a round that moved 133: 50 ms against 190 ms).
    """

    #: a round whose sets moved more than this share of the factored set's
    #: terms gets a factor of its own
    BORDER_SHARE = 0.125
    #: kink sets smaller than this are solved whole, by LU (``_solve``)
    MIN_TERMS = 200

    def __init__(self):
        self.solve = None

    @staticmethod
    def cholesky(Q, terms):
        """Solves with ``Q`` by its Cholesky factor, or None where ``Q`` is
        singular or badly conditioned."""
        if Q.shape[0] == 0:
            return None
        factor, info = scipy.linalg.lapack.dpotrf(Q, lower=0, clean=1)
        if info != 0:
            return None
        # the 1-norm without an n^2 temporary of |Q|
        anorm = float(scipy.linalg.lapack.dlange("1", Q))
        rcond, info = scipy.linalg.lapack.dpocon(factor, anorm)
        if info != 0 or not rcond > SOLVE_RCOND:
            return None

        def solve(right):
            return scipy.linalg.cho_solve((factor, False), right, check_finite=False)

        solve.terms, solve.norm = terms, anorm
        return solve

    def keep(self, solve):
        self.solve = solve

    def bordered(self, terms, block):
        """Solves with the matrix of ``terms`` (sorted), or None where no
        factor is kept or the sets moved too much.

        ``block(terms_i, terms_j)`` computes ``Q`` between two lists of terms.
        """
        base = self.solve
        if base is None:
            return None
        factored = base.terms
        kept = np.isin(terms, factored)
        joined = terms[~kept]
        left = np.flatnonzero(~np.isin(factored, terms))
        n_joined, moved = len(joined), len(joined) + len(left)
        if moved > self.BORDER_SHARE * len(factored):
            return None
        at = np.searchsorted(factored, terms[kept])
        if moved == 0:
            return base
        # W = [Q_SN, E_D] and the Schur complement T = Z - W^T Q_S^{-1} W
        W = np.zeros((len(factored), moved))
        if n_joined:
            W[:, :n_joined] = block(factored, joined)
        W[left, n_joined + np.arange(len(left))] = 1.0
        Y = base(W)
        T = -(W.T @ Y)
        if n_joined:
            T[:n_joined, :n_joined] += block(joined, joined)
            # the joined terms' Schur complement Q_NN - Q_NS Q_S^{-1} Q_SN
            # (positive semi-definite) bounds the new matrix's smallest
            # eigenvalue from below: measured against Q_S's scale, not its
            # own (a joined duplicate of a factored term, or a term in the
            # span of the factored rows, makes it ~1e-15, and T's own
            # condition number, of a 1 x 1 T, says nothing)
            joined_block = np.array(T[:n_joined, :n_joined])
            factor, info = scipy.linalg.lapack.dpotrf(joined_block, lower=0, clean=1)
            if info != 0:
                return None
            rcond, info = scipy.linalg.lapack.dpocon(factor, base.norm)
            if info != 0 or not rcond > SOLVE_RCOND:
                return None
        lu, pivots, info = scipy.linalg.lapack.dgetrf(T)
        if info != 0:
            return None
        anorm = float(np.abs(T).sum(axis=0).max())
        rcond, info = scipy.linalg.lapack.dgecon(lu, anorm, norm="1")
        if info != 0 or not rcond > SOLVE_RCOND:
            return None

        def solve(right):
            padded = np.zeros((len(factored), right.shape[1]))
            padded[at] = right[kept]
            first = base(padded)
            small = -(W.T @ first)
            small[:n_joined] += right[~kept]
            u, _ = scipy.linalg.lapack.dgetrs(lu, pivots, small)
            out = np.empty_like(right, dtype=float)
            out[kept] = (first - Y @ u)[at]
            out[~kept] = u[:n_joined]
            return out

        return solve


def _solve(M, rhs):
    """``M x = rhs`` by LU where ``M`` is well conditioned, else least squares.

    LU is several times cheaper than the SVD behind ``lstsq`` (1,400 kink
    terms: 0.1 s against 6 s). A singular or badly conditioned ``M``
    (duplicate rows on the kink, more kink terms than features) keeps the
    minimum-norm least-squares solution, the one the active-set rules and
    the sample-weight equivalence (a unique answer) rely on; LAPACK's
    condition estimate from the LU factors costs ``O(n^2)``. That solution
    comes from a complete orthogonal factorization (QR with column
    pivoting, LAPACK's ``gelsy``), with numpy's rank threshold (``eps``
    times the size, relative): the same answer as the SVD's to 1e-14 on
    singular systems of 200-600, in 55 % of its time (splice as CSR, whose
    one-hot margin sets are singular: a tenth of a default hinge fit).
    """
    if M.shape[0]:
        lu, piv, info = scipy.linalg.lapack.dgetrf(M)
        if info == 0:
            anorm = float(np.abs(M).sum(axis=0).max())
            rcond, info = scipy.linalg.lapack.dgecon(lu, anorm, norm="1")
            if info == 0 and rcond > SOLVE_RCOND:
                x, info = scipy.linalg.lapack.dgetrs(lu, piv, rhs)
                if info == 0:
                    return x
    threshold = np.finfo(float).eps * max(M.shape[0], 1)
    return scipy.linalg.lstsq(
        M, rhs, cond=threshold, lapack_driver="gelsy", check_finite=False
    )[0]


class _Rows:
    """The rows ``rows`` of the objective's data, centered when it is.

    In centered coordinates (``LinearObjective.centered``) the data is
    ``X - mu``: dense rows are centered explicitly (exact differences, which
    keep the Gram matrix accurate for features far from 0); sparse rows
    stay sparse and ``mu`` enters each product.
    """

    def __init__(self, objective, rows):
        self.X = objective.X[rows]
        self.offset = objective.offset
        if self.offset is not None and not sp.issparse(self.X):
            self.X, self.offset = self.X - self.offset, None

    def dot(self, M):
        """``X_rows M`` (``M`` of shape ``(d, K)``)."""
        out = np.asarray(self.X @ M)
        return out - self.offset @ M if self.offset is not None else out

    def t_dot(self, M):
        """``X_rows^T M`` (``M`` of shape ``(rows, K)``)."""
        out = np.asarray(self.X.T @ M)
        if self.offset is not None:
            out = out - np.outer(self.offset, M.sum(axis=0))
        return out

    def cross(self, other):
        """``X_rows X_other^T``, dense (``other`` rows of the same objective)."""
        out = self.X @ other.X.T
        out = out.toarray() if sp.issparse(out) else np.array(out, dtype=float)
        return self._centered_product(out, other)

    def _centered_product(self, out, other):
        """``out = X_rows X_other^T`` made ``(X_rows - mu)(X_other - mu)^T``,
        in place: each ``n^2`` temporary costs as much as the sparse Gram
        itself (text, 2,500 rows: 100 ms of a 300 ms polish round)."""
        if self.offset is not None:
            out -= np.asarray(self.X @ self.offset).ravel()[:, None]
            out -= np.asarray(other.X @ self.offset).ravel()[None, :]
            out += self.offset @ self.offset
        return out

    def gram(self):
        """``X_rows X_rows^T``, dense."""
        X = self.X
        if sp.issparse(X) and X.shape[0] * X.shape[1] <= DENSE_GRAM_SIZE:
            # a sparse product of the rows with themselves costs more than
            # BLAS on their dense copy (splice as CSR, 196 of 287 columns at
            # 21 %: 2 ms against 0.1 ms), and the polish's budget counts BLAS
            X = X.toarray()
        gram = _sparse_gram(X) if sp.issparse(X) else np.asarray(X @ X.T)
        return self._centered_product(gram, self)


def _sparse_gram(X):
    """``X X^T`` of sparse rows, dense, summed feature by feature.

    Each feature adds the outer product of its column, the square of its
    non-zeros: scipy's sparse product builds a sparse result instead, six
    times slower (text, 2,171 rows of 50 terms in 20,000: 36 ms against
    0.23 s, a quarter of a polish round there).
    """
    by_features = sp.csr_matrix(X.T)  # a copy: safe to canonicalize
    by_features.sum_duplicates()  # sorted indices, no duplicate entries
    gram = np.zeros((X.shape[0], X.shape[0]))
    data, indices, indptr, _ = csr_rows(by_features)
    sparse_gram(data, indices, indptr, np.ones(by_features.shape[0]), gram)
    return gram


def polish_max(objective, coef, band):
    """Exact finish for a loss ``[max_t u_t]_+`` per sample (Crammer-Singer).

    With per-term multipliers ``theta_t >= 0`` and ``sum_{t in i} theta_t <= w_i``,
    optimality is stationarity (as for :func:`polish`) plus complementarity:
    ``theta_t > 0`` only on terms attaining ``m_i = max(0, max_t u_t)``, and
    ``sum theta = w_i`` whenever ``m_i > 0``. The smoothed (sparsemax)
    solution's supports name the ties. A tie at zero gives equations
    ``u_t = 0``; a tie at a positive max, with reference term ``t0``, gives
    ``theta_{t0} = w_i - sum theta_t`` (a term at its bound) and equations
    ``u_t - u_{t0} = 0``, which are hinge-kink equations with ``a_t - a_{t0}``
    and offset 0. So one linear solve, :func:`_solve_on_sets`, serves both.
    Nothing is solved when more than ``MAX_KINK_TERMS`` terms sit on a kink
    (the solve's dense Gram matrix is the square of that count).

    Returns ``(coef, violation)`` like :func:`polish`.
    """
    if objective.reg == 0:
        return None, np.inf
    terms = _max_terms(objective, objective.scores(coef))
    if terms is None:
        return None, np.inf
    sample, A, c, u = terms
    n = objective.n_samples
    m = u.size // n
    # supports of the smoothed multipliers: the zero piece is the last column
    from ..losses._crammer_singer import sparsemax

    p, _ = sparsemax(np.hstack([u.reshape(n, m), np.zeros((n, 1))]), band)
    candidate, violation, _ = _polish_max_on(
        objective, terms, p[:, :m] > 0, p[:, m] > 0, np.argmax(p[:, :m], axis=1)
    )
    return candidate, violation


def polish_max_from_multipliers(objective, theta, weight, max_rounds=8):
    """:func:`polish_max` on the ties a dual solution's multipliers name.

    ``theta`` (n, terms per sample, in :meth:`max_hinge_terms`' order) are
    per-term multipliers (Crammer-Singer: ``-alpha_i^r`` for the wrong classes
    ``r``), ``weight`` the bounds ``w_i`` of their sums. A term with
    ``theta_t > 0`` ties at the max; a sample whose sum is below its bound
    has its max at 0 (``u_t = 0`` on its terms), one at its bound ties at a
    positive max. Returns ``(coef, violation, multipliers)``, the
    multipliers of the exact optimum (``None`` where it failed).
    """
    failed = None, np.inf, None
    if objective.reg == 0:
        return failed
    terms = _max_terms(objective, np.zeros((objective.n_samples, objective.n_outputs)))
    if terms is None:
        return failed
    # sample i's share of its bound; at 1 (to rounding) the sample saturates
    w_safe = np.where(weight > 0, weight, 1.0)
    in_support = theta > 0
    zero_in = theta.sum(axis=1) / w_safe < 1 - 1e-9
    ref = np.argmax(theta, axis=1)
    for _ in range(max_rounds):
        candidate, violation, Theta, U = _polish_max_on(
            objective, terms, in_support, zero_in, ref, details=True
        )
        if violation <= 1e-9 or Theta is None:
            return (candidate, violation, Theta) if violation <= 1e-9 else failed
        # the active-set rule: multipliers below 0 leave the support; terms
        # above their sample's max (0 where the sample is below its bound,
        # its tied terms' value where it is at it) join it; a sample whose
        # multipliers exceed its bound saturates, one whose tied terms fall
        # below 0 does not
        share = Theta / w_safe[:, None]
        tied = np.max(np.where(in_support, U, -np.inf), axis=1)
        above = U - np.where(zero_in, 0.0, tied)[:, None]
        new_support = (in_support & (share > -1e-12)) | (~in_support & (above > 1e-12))
        new_zero_in = np.where(
            zero_in, share.sum(axis=1) <= 1 + 1e-12, tied < -1e-12
        ) | ~new_support.any(axis=1)
        new_ref = np.argmax(np.where(new_support, Theta, -np.inf), axis=1)
        if np.array_equal(new_support, in_support) and np.array_equal(
            new_zero_in, zero_in
        ):
            break
        in_support, zero_in, ref = new_support, new_zero_in, new_ref
    return failed


def _max_terms(objective, scores):
    """``(sample, A, c, u)`` of ``max_hinge_terms``, sample-major."""
    terms = objective.loss.max_hinge_terms(objective.y, scores)
    if terms is None:
        return None
    sample, A, c = terms
    u = c + np.einsum("tk,tk->t", A, scores[sample])
    per_sample = np.bincount(sample, minlength=objective.n_samples)
    if np.any(per_sample != per_sample[0]):  # pragma: no cover - CS has K-1 each
        return None
    # sample-major layout: the K-1 terms of sample i are rows i*m .. i*m+m-1
    order = np.argsort(sample, kind="stable")
    return sample[order], A[order], c[order], u[order]


def _polish_max_on(objective, terms, in_support, zero_in, ref, details=False):
    """Solve :func:`polish_max`'s conditions on the named ties and verify them.

    ``in_support`` (n, m): the terms tied at the max; ``zero_in`` (n,): the
    samples whose max is 0 (not saturated); ``ref`` (n,): the reference term
    of the saturated ones. Returns ``(coef, violation, multipliers)``.
    """
    sample, A, c, _ = terms
    n = objective.n_samples
    m = in_support.shape[1]
    weight = objective.loss_scale * objective.sample_weight
    live = weight > 0
    # reference term of saturated samples
    saturated = live & ~zero_in
    rows = np.arange(n)
    is_ref = np.zeros((n, m), dtype=bool)
    is_ref[rows[saturated], ref[saturated]] = True
    kink = (in_support & live[:, None] & ~is_ref).ravel()
    upper = is_ref.ravel()
    if kink.sum() > MAX_KINK_TERMS:
        # the solve forms a dense Gram matrix of the kink terms and factors
        # it (cubic time): as in :func:`polish`, leave it to a finer stage or
        # to the smoothing's own stopping test
        return (None, np.inf, None) + ((None,) if details else ())
    A2 = A.copy()
    c2 = c.copy()
    ref_rows = rows * m + ref
    shift = (saturated[:, None] & in_support & ~is_ref).ravel()
    A2[shift] -= A[ref_rows[sample[shift]]]
    c2[shift] = 0.0
    w_term = weight[sample]
    candidate, theta, _, balance = _solve_on_sets(
        objective, sample, A2, c2, w_term, kink, upper
    )
    # multipliers of the original terms
    Theta = np.where(kink | upper, theta, 0.0).reshape(n, m)
    sat_rows = rows[saturated]
    Theta[sat_rows, ref[saturated]] = weight[saturated] - (
        Theta[sat_rows].sum(axis=1) - Theta[sat_rows, ref[saturated]]
    )
    new_scores = objective.scores(candidate)
    U_new = (c + np.einsum("tk,tk->t", A, new_scores[sample])).reshape(n, m)
    top = np.maximum(U_new.max(axis=1), 0.0)
    scale = max(1.0, float(np.max(np.abs(c))))
    w_safe = np.where(live, weight, 1.0)
    share = Theta / w_safe[:, None]
    slack = 1.0 - share.sum(axis=1)
    active = share > 1e-9
    violation = max(
        balance,
        float(np.max(np.maximum(-share, 0.0)[live], initial=0.0)),
        float(np.max(np.maximum(-slack, 0.0)[live], initial=0.0)),
        float(
            np.max(
                np.abs(U_new - top[:, None])[active & live[:, None]] / scale,
                initial=0.0,
            )
        ),
        float(np.max((top / scale)[live & (slack > 1e-9)], initial=0.0)),
    )
    extra = (U_new,) if details else ()
    if violation > 1e-9:
        return (None, float(violation), Theta if details else None) + extra
    return (candidate, float(violation), Theta) + extra
