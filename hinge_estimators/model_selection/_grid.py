"""The default grid of C for a regularization path."""

import math

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from ..losses import Hinge
from ..penalties import L1, ElasticNet
from ..solvers._newton_finish import _optimal_intercept

#: an L2-type path starts where the largest score has moved by this share of
#: the margin (see :func:`default_Cs`)
START_SHIFT = 1.0
#: the hinge's least subgradient at W = 0 is a linear program over the
#: samples on the kink; beyond this many stored entries of their columns
#: (per column, and over all the columns) it is not solved, and the shared
#: multiplier stands in. HiGHS's time grows faster than the entries: 0.06 s
#: a column at 100,000 (digits), 0.2 s at 320,000 (optdigits), 2 s at
#: 540,000 (a dense 4,000 x 150); by size, not time, so that the grid is
#: the same on every machine
KINK_LP_ENTRIES = 400_000
KINK_LP_TOTAL = 4_000_000
#: a least subgradient this small against the gradient's (W = 0 optimal at
#: every C: the minority class within the majority's reach) gives no start;
#: the gradient's rule gives a finite one
DEGENERATE = 1e-8
#: intercepts within this share of the hinge's margin of a kink (``+-m``) are
#: put on it: the best intercept at ``W = 0`` lies on a kink, and rounding
#: put it one ulp to either side, which decided whether the class there
#: counted in ``V``: scaling the weights by 0.1 moved the L2 grid's start
#: 7.3 times
KINK_ROUNDING = 1e-9


def default_Cs(problem, n_Cs, eps):
    """``n_Cs`` values of C, log-spaced from ``C_start`` to ``C_start / eps``.

    Parameters
    ----------
    problem : namespace
        From ``HingeClassifier._problem``.
    n_Cs : int
    eps : float or None
        ``C_start / C_end`` (``lasso_path``'s ``eps``, inverted because C is
        an inverse regularization strength).

    Returns
    -------
    Cs : ndarray of shape (n_Cs,)
        Increasing, in the user's units of C.

    Notes
    -----
    At ``W = 0`` with the best intercept ``b_0`` (exact for the binary
    losses; 0 for a multiclass loss or a penalized intercept) let ``V =
    X^T G`` be the loss part's gradient per unit of C, ``G_i = s_i
    l'(y_i, b_0)``. Where the model starts to move:

    * a penalty with a non-smooth part (L1, elastic net, group norms): the
      smallest C at which ``W = 0`` stops being optimal, i.e. at which ``-C
      V`` leaves the subdifferential of the penalty at 0 (``1 / ||V||_inf``
      for L1, as :func:`sklearn.svm.l1_min_c`), found by bisection on the
      penalty's ``violation``. Exact for a smooth loss with a free intercept
      or none. The hinge's best intercept puts a class on its kink, where
      ``G`` is any of a box of subgradients: with L1 and the elastic net the
      one of least ``||V||_inf`` (that meets the free intercept's ``sum G =
      0``) is a linear program per column (:func:`_least_hinge_subgradient`;
      it moved the start up to 5.7x on imbalanced data). Elsewhere the start
      can lie below the exact one (a penalized intercept, taken at ``b =
      0``; Crammer-Singer's ties; the group norm with the hinge): a few of
      the path's first values then still have ``W = 0``;
    * a smooth penalty ``q ||W||^2 / 2`` (L2): ``W`` is ``-C V / q`` to first
      order for small C, so the coefficients move from the start, but the
      predictions stay those of the intercept until the scores move by about
      the margin: the path begins where the largest score ``|x_i W|``
      reaches ``START_SHIFT`` = 1 margin, ``C_start = q / max_i |x_i V|``.

    The path ends ``1 / eps`` times higher. ``eps=None`` means 6 decades
    for L2 and, for a non-smooth penalty, glmnet's convention: 4 decades
    when ``n_samples >= n_features``, else 2. Measured for L2 (5-fold
    accuracy of the hinge and the squared hinge on six real sets of
    ``benchmarks/real_datasets.py``, standardized): the best C lay 1.5 to
    6.5 decades above ``C_start``, the curve flat below ``C_start`` and
    within 0.003 of its end value past 6 decades. With L1, 6 decades above
    the first non-zero coefficient is a nearly unregularized problem
    (breast cancer, squared hinge at ``1e6 * l1_min_c``: 15 s and no
    certificate in 1000 working sets, against 0.6 s at ``1e4``, measured
    when ``primal_cd``'s ``max_iter`` still counted working sets), past
    where the validation score stops moving.
    """
    objective = problem.objective.with_C(problem.C_factor)  # C = 1, user units
    start = _optimal_intercept(objective, objective.zeros())
    if isinstance(objective.loss, Hinge):
        start = _on_the_kink(objective, start)
    V, _ = objective.split(objective.gradient(start))
    penalty = objective.penalty
    if not penalty.is_smooth and isinstance(objective.loss, Hinge):
        least = _least_hinge_subgradient(objective, start, V)
        top = float(np.abs(V).max(initial=0.0))
        if float(np.abs(least).max(initial=0.0)) > DEGENERATE * top:
            V = least
    if penalty.is_smooth:
        spread = float(np.abs(np.asarray(objective.X @ V.T)).max(initial=0.0))
        C_start = START_SHIFT * penalty.quadratic / spread if spread > 0 else 1.0
    else:
        C_start = _first_nonzero(penalty, V)
    if eps is None:
        if penalty.is_smooth:
            eps = 1e-6
        else:
            eps = 1e-4 if objective.n_samples >= objective.n_features else 1e-2
    return np.geomspace(C_start, C_start / eps, n_Cs)


def _on_the_kink(objective, start):
    """``start`` with the free intercepts within ``KINK_ROUNDING`` of the
    hinge's kinks (``+-margin``) put on them, where the loss's gradient
    takes its one convention (the kink's samples count as active)."""
    if not objective.fit_intercept or objective.intercept_penalty > 0:
        return start
    W, b = objective.split(start)
    margin = float(objective.loss.margin)
    b = np.array(b, dtype=np.float64)
    for kink in (margin, -margin):
        b = np.where(np.abs(b - kink) <= KINK_ROUNDING * margin, kink, b)
    return objective.join(W, b)


def _first_nonzero(penalty, V):
    """The smallest C at which ``W = 0`` violates optimality (log bisection)."""
    zero = np.zeros_like(V)

    def moves(C):
        return bool(np.any(penalty.violation(zero, C * V) > 0))

    top = float(np.abs(V).max(initial=0.0))
    if top == 0.0:
        return 1.0
    low, high = 1e-3 / top, 1e3 / top  # for norms, within sqrt(d*K) of 1/top
    if moves(low) or not moves(high):
        return 1.0 / top
    for _ in range(60):
        middle = math.sqrt(low * high)
        low, high = (low, middle) if moves(middle) else (middle, high)
    return high


def _least_hinge_subgradient(objective, start, V):
    """``V`` at the hinge's subgradient of least ``||V_k||_inf`` per column.

    At ``W = 0`` with the intercept ``b_k`` every sample of one class can sit
    on the kink (``y_i b_k = margin``), where its derivative is any
    ``-a_i y_i s_i``, ``0 <= a_i <= 1``; ``W = 0`` stays optimal up to ``C =
    1 / min_a ||X^T G(a)||_inf`` (with ``sum G = 0`` for a free intercept),
    a linear program in ``(a, t)``. Only for the entrywise penalties (L1,
    elastic net: the columns' conditions separate). A column whose program
    is too large (``KINK_LP_ENTRIES``, ``KINK_LP_TOTAL``) takes the one
    ``a`` shared by its kink (what the free intercept's constraint leaves:
    about half-way from the gradient's ``V_k`` to the program's on the real
    sets). With a free intercept the gradient's own ``V_k`` is no candidate:
    its choice at the kink breaks ``sum G = 0``, and its norm can lie below
    the least feasible one (a start too high: non-zero coefficients below it).
    """
    if type(objective.penalty) not in (L1, ElasticNet):
        return V
    free_intercept = objective.fit_intercept and objective.intercept_penalty == 0
    if objective.fit_intercept and not free_intercept:
        return V
    X = objective.X
    weights = objective.loss_scale * objective.sample_weight
    margin = float(objective.loss.margin)
    scores = np.asarray(objective.scores(start)).reshape(len(weights), -1)
    V = np.array(V, dtype=np.float64)
    budget = KINK_LP_TOTAL
    for k in range(V.shape[0]):
        y = np.asarray(objective.y[:, k], dtype=np.float64)
        z = y * scores[:, k]
        kink = np.isclose(z, margin, rtol=1e-12, atol=1e-12) & (weights > 0)
        if not kink.any():
            continue
        fixed = np.where((z < margin) & ~kink, -y * weights, 0.0)
        D = -y[kink] * weights[kink]  # G = fixed + a D on the kink
        base = np.asarray(X.T @ fixed).ravel()
        X_kink = X[kink]
        candidates = []
        if free_intercept and D.sum() != 0.0:  # (margin 0: both classes)
            shared = float(np.clip(-fixed.sum() / D.sum(), 0.0, 1.0))
            candidates.append(base + shared * np.asarray(X_kink.T @ D).ravel())
        entries = X_kink.nnz if sp.issparse(X_kink) else X_kink.size
        if entries <= min(KINK_LP_ENTRIES, budget):
            budget -= entries
            found = _least_norm_program(X_kink, D, base, fixed, free_intercept)
            if found is not None:
                candidates.append(found)
        if not free_intercept:
            # no constraint: the gradient's choice is a subgradient too
            candidates.append(V[k].copy())
        if candidates:
            V[k] = min(candidates, key=lambda c: np.abs(c).max(initial=0.0))
    return V


def _least_norm_program(X_kink, D, base, fixed, free_intercept):
    """``min ||base + X_kink^T (a D)||_inf`` over ``0 <= a <= 1`` (and ``sum
    fixed + a.D = 0``) by HiGHS; the minimizing ``V_k``, or None."""
    M = X_kink.T.multiply(D) if sp.issparse(X_kink) else X_kink.T * D
    M = sp.csr_matrix(M)
    d, m = M.shape
    ones = sp.csr_matrix(np.ones((d, 1)))
    # M a - t <= -base and -M a - t <= base: |V_k| <= t
    A_ub = sp.vstack([sp.hstack([M, -ones]), sp.hstack([-M, -ones])])
    b_ub = np.concatenate([-base, base])
    A_eq = b_eq = None
    if free_intercept:
        A_eq = sp.csr_matrix(np.append(D, 0.0)[None, :])
        b_eq = np.array([-fixed.sum()])
    cost = np.zeros(m + 1)
    cost[-1] = 1.0
    bounds = [(0.0, 1.0)] * m + [(0.0, None)]
    # HiGHS's presolve took 60 % of the time on digits' columns (90 -> 33 ms)
    found = linprog(
        cost, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds,
        method="highs", options={"presolve": False},
    )  # fmt: skip
    if found.status != 0:
        return None
    a = np.clip(found.x[:m], 0.0, 1.0)
    return base + np.asarray(M @ a).ravel()
