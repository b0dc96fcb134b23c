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
"""

import numpy as np
import scipy.sparse as sp

#: the hinge's bound is the best over these smoothing widths (times its margin)
HINGE_SMOOTHINGS = (0.0, 1e-2, 0.1, 1.0)


def _forms(loss):
    """``[(u(margins), q(u))...]``: the dual points tried for ``loss``, or None."""
    kernel = loss.compiled_kernel()
    if kernel is None or loss.is_multiclass or loss.is_pairwise:
        return None
    name, a, b = kernel.name, kernel.a, kernel.b
    if name == "hinge":
        return [_smooth_hinge_form(g * a, a) for g in HINGE_SMOOTHINGS]
    if name == "smooth_hinge":
        return [_smooth_hinge_form(a, b)]
    if name == "squared_hinge":
        return [(lambda z: 2.0 * np.maximum(1.0 - z, 0.0), lambda u: u - 0.25 * u * u)]
    if name == "modified_huber":
        return [
            (
                lambda z: np.where(z < -1.0, 4.0, 2.0 * np.maximum(1.0 - z, 0.0)),
                lambda u: u - 0.25 * u * u,
            )
        ]
    return None


def _smooth_hinge_form(gamma, margin):
    """The smoothed hinge of width ``gamma`` (``0``: the hinge itself)."""
    if gamma <= 0.0:
        return (lambda z: (z < margin).astype(np.float64), lambda u: margin * u)
    return (
        lambda z: np.clip((margin - z) / gamma, 0.0, 1.0),
        lambda u: margin * u - 0.5 * gamma * u * u,
    )


def has_certificate(objective):
    """Whether :func:`relative_gap` can bound ``objective``'s suboptimality."""
    return objective.reg > 0 and _forms(objective.loss) is not None


def relative_gap(objective, coef):
    """``(P(coef) - D) / P(coef)`` for the best dual point tried: an upper
    bound on the relative suboptimality ``(P(coef) - P*) / P(coef)``.

    ``None`` when the loss has no conjugate here (multiclass, pairwise,
    Gaussian hinge, a user's loss, ``penalty=None``).
    """
    if not has_certificate(objective):
        return None
    n, K = objective.n_samples, objective.n_outputs
    with np.errstate(over="ignore", invalid="ignore"):
        scores = objective.scores(coef)
        primal = objective.value_from_scores(coef, scores)
        Y = np.asarray(objective.y, dtype=np.float64).reshape(n, K)
        margins = Y * scores
        weights = (objective.C * objective.sample_weight)[:, None]
        forms = _forms(objective.loss)
        positive = Y > 0
        signed, duals = [], []
        for u_of, q in forms:
            u = _feasible(objective, weights * u_of(margins), positive)
            beta = weights * u * Y
            dual = float(np.sum(weights * q(u)))
            if objective.fit_intercept and objective.intercept_penalty > 0:
                sums = beta.sum(axis=0)
                dual -= 0.5 * float(sums @ sums) / objective.intercept_penalty
            signed.append(beta)
            duals.append(dual)
        # one product with X for every dual point tried (M^T X: the faster
        # BLAS layout for C-ordered dense X)
        M = np.hstack(signed)
        V = (objective.X.T @ M).T if sp.issparse(objective.X) else M.T @ objective.X
        norms = np.einsum("ij,ij->i", V, V).reshape(len(forms), K).sum(axis=1)
        best = float(np.min(primal - (np.asarray(duals) - 0.5 * norms)))
    if not np.isfinite(best) or not np.isfinite(primal):
        return np.inf
    return max(best, 0.0) / max(abs(primal), np.finfo(float).tiny)


def _feasible(objective, beta, positive):
    """``beta / (C s)`` (the ``u``), scaled on the heavier side of each column
    so that a free intercept's ``sum_i Y_ik beta_ik = 0`` holds (scaling
    towards 0 keeps every ``u`` in its interval, as all contain 0)."""
    weights = (objective.C * objective.sample_weight)[:, None]
    u = np.divide(beta, weights, out=np.zeros_like(beta), where=weights > 0)
    if not objective.fit_intercept or objective.intercept_penalty > 0:
        return u
    up = np.where(positive, beta, 0.0).sum(axis=0)
    down = beta.sum(axis=0) - up
    with np.errstate(divide="ignore", invalid="ignore"):
        scale_up = np.where(up > down, down / up, 1.0)
        scale_down = np.where(down > up, up / down, 1.0)
    return u * np.where(positive, scale_up, scale_down)
