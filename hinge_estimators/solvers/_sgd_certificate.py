"""A duality-gap bound on the suboptimality of any point, for SGD's stopping rule.

SGD's iterates carry no dual variables, so its certificate builds one from the
point itself. For a margin loss ``phi`` with the L2 penalty,

    ``P(W, b) = 1/2 ||W||^2 + C sum_i s_i sum_k phi(Y_ik (x_i w_k + b_k))``,

every ``beta`` with ``beta_ik = C s_i u_ik``, ``u_ik`` in the domain of
``phi*(-.)``, and, with a free intercept, ``sum_i Y_ik beta_ik = 0`` per
column, gives the lower bound (Fenchel duality)

    ``D(beta) = sum_ik C s_i q(u_ik) - 1/2 sum_k ||sum_i beta_ik Y_ik x_i||^2``

on ``P*``, with ``q(u) = -phi*(-u)``. ``u = -phi'(margin)`` at the point
(the optimal dual variables at the optimum) is scaled on one side of each
column to meet the equality. A penalized intercept ``p/2 b^2`` instead
subtracts ``(sum_i Y_ik beta_ik)^2 / (2p)``.

The hinge's ``u`` (0 or 1) is a poor dual point near the margin, so its bound
goes through smoothed hinges: ``phi_g <= phi`` gives ``P*_g <= P*`` and
``P(W) - D_g(beta)`` bounds ``P(W) - P*`` for every ``g``; the smallest over
a few ``g`` is kept.

With a non-smooth penalty (L1, elastic net) the bound is
``LinearObjective.duality_gap``'s: the loss gradient at the point, rescaled
into the dual's feasible set (for L1, ``||X^T U||_inf <= 1``).
"""

import numpy as np
import scipy.sparse as sp

from . import _sgd_fast

#: the hinge's bound is the best over these smoothing widths (times its margin)
HINGE_SMOOTHINGS = (0.0, 1e-2, 0.1, 1.0)


#: the dual points are computed on the samples inside the margin only when
#: they are fewer than this share, for the hinge's several points and for a
#: single point (a copy of their rows of X then costs less than the work it
#: saves; measured on breast cancer, twonorm, spambase and ada)
ACTIVE_SHARE = {"several": 0.5, "one": 0.2}
#: the losses whose dual points and conjugates :func:`_dual_family` knows
CONJUGATES = frozenset({"hinge", "smooth_hinge", "squared_hinge", "modified_huber"})


def _dual_family(loss):
    """``(code, a, b, inv_widths, alpha, beta)``: the loss's kernel code and
    parameters, the inverse smoothing widths of its ``F`` dual points (see
    ``_sgd_fast.dual_u``) and their conjugates ``q_f(u) = alpha_f u - beta_f
    u^2``: the hinge (margin ``m``) through smoothed hinges of widths
    ``HINGE_SMOOTHINGS * m`` (``q = m u - w u^2 / 2``), the smooth hinge
    (gamma ``g``, margin ``m``: ``q = m u - g u^2 / 2``), the squared hinge
    and the modified Huber loss (``q = u - u^2 / 4``)."""
    kernel = loss.compiled_kernel()
    code, a, b = _sgd_fast.LOSS_CODES[kernel.name], kernel.a, kernel.b
    if kernel.name in ("hinge", "smooth_hinge"):
        widths = np.asarray(HINGE_SMOOTHINGS) * a if kernel.name == "hinge" else [a]
        widths = np.asarray(widths, dtype=np.float64)
        margin = a if kernel.name == "hinge" else b
        with np.errstate(divide="ignore"):
            inverse = np.where(widths > 0, 1.0 / np.where(widths > 0, widths, 1), 0)
        return code, a, b, inverse, np.full(widths.size, float(margin)), 0.5 * widths
    return code, a, b, np.zeros(1), np.ones(1), np.array([0.25])


def _support_end(loss):
    """The margin at and above which every dual point of :func:`_dual_family`
    is 0 (the loss's ``u = -phi'`` vanishes there, smoothed or not)."""
    kernel = loss.compiled_kernel()
    if kernel.name == "hinge":
        return kernel.a
    if kernel.name == "smooth_hinge":
        return kernel.b
    return 1.0  # squared hinge, modified Huber


def has_certificate(objective):
    """Whether :func:`relative_gap` can bound ``objective``'s suboptimality."""
    loss = objective.loss
    if objective.has_nonsmooth_penalty:
        return True  # duality_gap needs loss values and gradients only
    if objective.reg == 0 or loss.is_multiclass or loss.is_pairwise:
        return False
    kernel = loss.compiled_kernel()
    return kernel is not None and kernel.name in CONJUGATES


def relative_gap(objective, coef):
    """``(P(coef) - D) / P(coef)`` for the best dual point tried: an upper
    bound on the relative suboptimality ``(P(coef) - P*) / P(coef)``.

    ``None`` when the loss has no conjugate here (multiclass, pairwise,
    Gaussian hinge, a user's loss, ``penalty=None``); ``inf`` where
    ``duality_gap`` has no bound (a multiclass loss whose free intercepts
    are off their optimum).
    """
    return relative_gap_and_value(objective, coef)[0]


def relative_gap_and_value(objective, coef):
    """``(relative_gap(objective, coef), P(coef))``: the bound and the value
    it was computed from (``(None, None)`` without a certificate)."""
    if not has_certificate(objective):
        return None, None
    if objective.has_nonsmooth_penalty:
        with np.errstate(over="ignore", invalid="ignore"):
            gap, primal = objective.duality_gap(coef)
        if not (np.isfinite(gap) and np.isfinite(primal)):
            return np.inf, primal
        return gap / max(abs(primal), np.finfo(float).tiny), primal
    n, K = objective.n_samples, objective.n_outputs
    with np.errstate(over="ignore", invalid="ignore"):
        scores = objective.scores(coef)
        primal = objective.value_from_scores(coef, scores)
        Y = np.asarray(objective.y, dtype=np.float64).reshape(n, K)
        weights = (objective.C * objective.sample_weight)[:, None]
        margins = Y * scores
        X = objective.X
        # every dual point is 0 on a sample beyond the margin (as its q is):
        # only the others enter the sums and the product with X (on fitted
        # models most samples are beyond it)
        active = np.any(margins < _support_end(objective.loss), axis=1)
        several = objective.loss.compiled_kernel().name == "hinge"
        share = ACTIVE_SHARE["several" if several else "one"]
        if np.count_nonzero(active) < share * n:
            rows = np.flatnonzero(active)
            margins, Y, weights = margins[rows], Y[rows], weights[rows]
            X, n = X[rows], rows.size
        code, a, b, inv_widths, alpha, beta = _dual_family(objective.loss)
        c = np.ascontiguousarray(weights[:, 0])
        margins, Y = np.ascontiguousarray(margins), np.ascontiguousarray(Y)
        F = inv_widths.size
        M, sums = _sgd_fast.dual_points(margins, Y, c, code, a, b, inv_widths)
        A_pos, A_neg, B_pos, B_neg = (sums[..., j] for j in range(4))
        t_pos, t_neg = _side_scales(objective, A_pos, A_neg)
        # sum_i C s_i q(t u_i) with q(u) = alpha u - beta u^2, per side
        duals = alpha * np.sum(t_pos * A_pos + t_neg * A_neg, axis=1) - beta * np.sum(
            t_pos * t_pos * B_pos + t_neg * t_neg * B_neg, axis=1
        )
        if objective.fit_intercept and objective.intercept_penalty > 0:
            totals = t_pos * A_pos - t_neg * A_neg  # sum_i Y_ik beta_ik
            duals = duals - 0.5 * np.sum(totals * totals, axis=1) / (
                objective.intercept_penalty
            )
        # Y_ik beta_ik of every point: one product with X for all of them
        # (M^T X: the faster BLAS layout for C-ordered dense X)
        _sgd_fast.scale_sides(M, Y, t_pos, t_neg)
        V = (X.T @ M).T if sp.issparse(X) else M.T @ X
        norms = np.einsum("ij,ij->i", V, V).reshape(F, K).sum(axis=1)
        best = float(np.min(primal - (duals - 0.5 * norms)))
    if not np.isfinite(best) or not np.isfinite(primal):
        return np.inf, primal
    return max(best, 0.0) / max(abs(primal), np.finfo(float).tiny), primal


def _side_scales(objective, A_pos, A_neg):
    """``(t_+, t_-)``, shape ``(F, K)``: the factors on the heavier side of
    each column (``A`` the sums of ``C s u`` on each side) that make a free
    intercept's ``sum_i Y_ik beta_ik = 0`` hold, ``beta = C s t u`` (scaling
    towards 0 keeps every ``u`` in its interval, as all contain 0); ones
    where the intercept is penalized or absent."""
    if not objective.fit_intercept or objective.intercept_penalty > 0:
        return np.ones_like(A_pos), np.ones_like(A_neg)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_pos = np.where(A_pos > A_neg, A_neg / A_pos, 1.0)
        t_neg = np.where(A_neg > A_pos, A_pos / A_neg, 1.0)
    return t_pos, t_neg
