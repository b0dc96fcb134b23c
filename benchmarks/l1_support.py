"""Which coefficients of an L1 squared-hinge optimum are determined.

``bench_l1.py``'s support column compares the non-zero sets of two models of
``P(w) = ||w||_1 + f(w)``, ``f(w) = C sum_i max(0, 1 - z_i)^2``, ``z_i = y_i
x_i.w`` (per one-vs-rest column). The optimum need not be unique, so two exact
solvers may disagree on features whose status no solver can settle. This
module sorts the features, from one reference model ``w~`` with a certified
gap ``G = P(w~) - D`` (``LinearObjective.duality_gap``):

- **Every optimum has the same residuals** ``u*_i = max(0, 1 - z*_i)``, hence
  the same gradient ``g* = grad f``: ``h(z) = C sum phi(z_i)`` is convex with
  a ``2C``-Lipschitz gradient ``-2C u``, so ``4C^2 ||u - u'||^2 <= 4C (h(z) -
  h(z') - <grad h(z'), z - z'>)``, and the L1 part's optimality conditions
  make the right side ``<= 0`` for two optima. The same inequality at ``w~``
  against an optimum bounds ``||u~ - u*|| <= sqrt(G / C)`` and ``|g~_j -
  g*_j| <= 2 ||x_j|| sqrt(C G)`` (``radius_j``, plus ``ROUNDING``).
- **Zero in every optimum**: a feature with ``|g~_j| < 1 - radius_j`` has
  ``|g*_j| < 1`` (strictly inside the dual ball).
- The others form ``E`` (on the boundary, or too close to tell). Two optima
  differ by a vector ``v`` supported on ``E`` with ``X_{A,E} v = 0`` for the
  samples ``A`` with ``u*_i > 0`` (their margins ``z*_i = 1 - u*_i`` are
  fixed); ``A`` is taken as ``u~_i > sqrt(G / C)``, a subset of the true one,
  so the null space found contains the true one. A feature of ``E`` whose row
  of that null space is zero has **the same value in every optimum**:
  determined, its zero/non-zero status read from ``w~`` (a tight reference
  fit: at a gap of ``1e-13`` a coefficient could only be misread where it is
  itself of that order). The rest are **undetermined**: an optimum with
  ``w_j != 0`` and one with ``w_j = 0`` may both exist (the midpoint of two
  optima is optimal: ``bench_l1.py`` evaluates it for its two reference fits).

The test is conservative: near-collinear columns count as collinear (a
relative eigenvalue of ``X_{A,E}^T X_{A,E}`` below ``NULL_EIGENVALUE``), so
a feature is called undetermined rather than misjudged.
"""

import numpy as np
import scipy.sparse as sp

#: added to both radii: the rounding of ``g~`` and ``u~`` (sums over the
#: samples), where the certified gap is at or near 0
ROUNDING = 1e-9
#: relative eigenvalue of the boundary columns' Gram matrix counted as 0
NULL_EIGENVALUE = 1e-10
#: a null-space row at least this large (unit basis vectors) leaves a
#: feature undetermined
NULL_ROW = 1e-6


class Determined:
    """The status of every coefficient of a one-vs-rest L1 squared-hinge fit.

    Parameters
    ----------
    X : array or sparse matrix (n, d)
    Y : array (n, K)
        ``+-1`` targets of the ``K`` columns.
    C : float
    W : array (K, d)
        The reference model ``w~``.
    gaps : sequence of K floats
        Its certified absolute duality gap per column.

    Attributes
    ----------
    status : int array (K, d)
        ``0`` zero in every optimum, ``1`` the same non-zero value in every
        optimum, ``-1`` undetermined.
    boundary : int
        Features in ``E`` (summed over columns); ``null`` the summed
        dimension of the null spaces; ``inside`` the smallest ``(1 - |g~_j|)
        / radius_j`` over the features certified zero (how clearly they are).
    """

    def __init__(self, X, Y, C, W, gaps):
        W = np.atleast_2d(W)
        K, d = W.shape
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel()
                        if sp.issparse(X) else np.square(X).sum(axis=0))  # fmt: skip
        self.status = np.zeros((K, d), dtype=int)
        self.boundary, self.null, self.inside = 0, 0, np.inf
        for k in range(K):
            gap = max(float(gaps[k]), 0.0)
            y, w = Y[:, k], W[k]
            u = np.maximum(1.0 - y * np.asarray(X @ w).ravel(), 0.0)
            g = -2.0 * C * np.asarray(X.T @ (y * u)).ravel()
            radius = 2.0 * norms * np.sqrt(C * gap) + ROUNDING
            margin = 1.0 - np.abs(g)
            edge = np.flatnonzero(margin <= radius)
            clear = margin > radius
            if clear.any():
                ratio = margin[clear] / np.maximum(radius[clear], 1e-300)
                self.inside = min(self.inside, float(ratio.min()))
            self.boundary += edge.size
            if edge.size == 0:
                continue
            rows = np.flatnonzero(u > np.sqrt(gap / C) + ROUNDING)
            basis = _null_space(X, rows, edge)
            free = np.abs(basis).max(axis=1, initial=0.0) > NULL_ROW
            self.null += basis.shape[1]
            self.status[k, edge] = np.where(free, -1, (w[edge] != 0).astype(int))

    def wrong(self, W):
        """Features whose zero/non-zero status in ``W`` contradicts a determined one."""
        determined = self.status >= 0
        return determined & ((np.atleast_2d(W) != 0) != (self.status == 1))

    def undetermined(self):
        return self.status < 0


def _gram(X, rows, columns):
    part = X[rows][:, columns]
    if sp.issparse(part):
        return (part.T @ part).toarray()
    return part.T @ part


def _null_space(X, rows, columns):
    values, vectors = np.linalg.eigh(_gram(X, rows, columns))
    top = max(float(values.max(initial=0.0)), 1e-300)
    return vectors[:, values <= NULL_EIGENVALUE * top]
