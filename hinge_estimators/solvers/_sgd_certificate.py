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

#: the hinge's bound is the best over these smoothing widths (times its margin)
HINGE_SMOOTHINGS = (0.0, 1e-2, 0.1, 1.0)


#: the dual points are computed on the samples inside the margin only when
#: they are fewer than this share, for the hinge's several points and for a
#: single point (a copy of their rows of X then costs less than the work it
#: saves; measured on breast cancer, twonorm, spambase and ada)
ACTIVE_SHARE = {"several": 0.5, "one": 0.2}
#: the losses whose dual points and conjugates :func:`_dual_points` knows
CONJUGATES = frozenset({"hinge", "smooth_hinge", "squared_hinge", "modified_huber"})


def _dual_points(loss, margins):
    """``(U, q)``: ``U`` of shape ``(F, n, K)``, the ``F`` dual points tried
    (``u = -phi'(margin)`` of ``loss``, or of smoothed hinges), and the
    function ``q`` of each (applied to ``U`` or to a rescaled ``U``); ``None``
    for a loss without a conjugate here."""
    kernel = loss.compiled_kernel()
    if kernel is None or loss.is_multiclass or loss.is_pairwise:
        return None
    name, a, b = kernel.name, kernel.a, kernel.b
    z = margins[None]
    if name in ("hinge", "smooth_hinge"):
        # hinge (margin a): smoothed hinges of widths HINGE_SMOOTHINGS * a;
        # smooth hinge (gamma a, margin b): its own width
        margin = a if name == "hinge" else b
        widths = np.asarray(HINGE_SMOOTHINGS) * a if name == "hinge" else np.array([a])
        widths = widths[:, None, None]
        safe = np.where(widths > 0, widths, 1.0)
        U = np.where(
            widths > 0, np.clip((margin - z) / safe, 0.0, 1.0), (z < margin) * 1.0
        )
        return U, lambda u: margin * u - 0.5 * widths * u * u
    if name == "squared_hinge":
        U = 2.0 * np.maximum(1.0 - z, 0.0)
    elif name == "modified_huber":
        U = np.where(z < -1.0, 4.0, 2.0 * np.maximum(1.0 - z, 0.0))
    else:
        return None
    return U, lambda u: u - 0.25 * u * u


def _support_end(loss):
    """The margin at and above which every dual point of :func:`_dual_points`
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
        U, q = _dual_points(objective.loss, margins)
        U = _feasible(objective, U, weights, Y > 0)
        beta = weights * U * Y  # (F, n, K)
        F = U.shape[0]
        duals = np.einsum("ij,fij->f", weights * np.ones((1, K)), q(U))
        if objective.fit_intercept and objective.intercept_penalty > 0:
            sums = beta.sum(axis=1)
            duals = duals - 0.5 * np.sum(sums * sums, axis=1) / (
                objective.intercept_penalty
            )
        # one product with X for every dual point tried (M^T X: the faster
        # BLAS layout for C-ordered dense X)
        M = np.ascontiguousarray(beta.transpose(1, 0, 2).reshape(n, F * K))
        V = (X.T @ M).T if sp.issparse(X) else M.T @ X
        norms = np.einsum("ij,ij->i", V, V).reshape(F, K).sum(axis=1)
        best = float(np.min(primal - (duals - 0.5 * norms)))
    if not np.isfinite(best) or not np.isfinite(primal):
        return np.inf, primal
    return max(best, 0.0) / max(abs(primal), np.finfo(float).tiny), primal


def _feasible(objective, U, weights, positive):
    """``U`` scaled on the heavier side of each column so that a free
    intercept's ``sum_i Y_ik beta_ik = 0`` holds, ``beta = C s U`` (scaling
    towards 0 keeps every ``u`` in its interval, as all contain 0)."""
    if not objective.fit_intercept or objective.intercept_penalty > 0:
        return U
    beta = weights * U
    up = np.where(positive, beta, 0.0).sum(axis=1, keepdims=True)
    down = beta.sum(axis=1, keepdims=True) - up
    with np.errstate(divide="ignore", invalid="ignore"):
        scale_up = np.where(up > down, down / up, 1.0)
        scale_down = np.where(down > up, up / down, 1.0)
    return U * np.where(positive, scale_up, scale_down)
