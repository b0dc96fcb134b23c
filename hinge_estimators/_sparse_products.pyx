# cython: language_level=3
"""Hessian products of a margin loss with CSR rows, and CG on them, compiled.

``H v = X_A^T D (X_A w - mu.w + b) + reg w`` (and the intercept's entry)
in one call that reads each row of ``A`` (the rows with curvature) once for
both of its products. The two scipy products it replaces cost a fixed
~40 us each (dispatch, checks, the transposed view) besides their
arithmetic, and the conjugate-gradient loop around them another ~20 us of
numpy calls per step; on the few rows with curvature of ``dual_cd``'s primal
finish that was most of the time (and what its pass-budget meter did not
see). Used by :meth:`LinearObjective.hessian_operator` for one score column
of CSR data, and by ``TrustRegionNewton``'s line-search directions.
"""

from libc.math cimport isfinite, sqrt

import numpy as np


cdef class CsrHessian:
    """The Hessian ``H = X_A^T D X_A + reg I`` of one score column, CSR rows.

    ``rows`` are the samples with curvature ``D`` (same length); ``offset``
    is ``mu`` (length ``n_features``) or empty for uncentered data; the
    coefficient vectors have ``n_features`` entries, plus the intercept's
    when ``fit_intercept`` (whose own curvature is ``sum D + intercept_penalty``).
    The arrays are held, not copied.
    """

    cdef const double[::1] data
    cdef const int[::1] indices
    cdef const long long[::1] indptr
    cdef const Py_ssize_t[::1] rows
    cdef const double[::1] D
    cdef const double[::1] offset
    cdef double reg, intercept_penalty
    cdef bint fit_intercept, centered
    cdef readonly Py_ssize_t size
    cdef Py_ssize_t n_features

    def __init__(
        self,
        const double[::1] data,
        const int[::1] indices,
        const long long[::1] indptr,
        const Py_ssize_t[::1] rows,
        const double[::1] D,
        const double[::1] offset,
        double reg,
        bint fit_intercept,
        double intercept_penalty,
        Py_ssize_t n_features,
    ):
        self.data, self.indices, self.indptr = data, indices, indptr
        self.rows, self.D, self.offset = rows, D, offset
        self.reg, self.intercept_penalty = reg, intercept_penalty
        self.fit_intercept = fit_intercept
        self.centered = offset.shape[0] > 0
        self.n_features = n_features
        self.size = n_features + (1 if fit_intercept else 0)

    cdef void _product(self, const double *v, double *out) noexcept nogil:
        """``out = H v``: each row of ``A`` read once for both products."""
        cdef Py_ssize_t a, i, j, d = self.n_features
        cdef long long k
        cdef double shift = 0.0, s, g, total = 0.0
        if self.fit_intercept:
            shift = v[d]
        if self.centered:
            for j in range(d):
                shift -= self.offset[j] * v[j]
        for j in range(d):
            out[j] = self.reg * v[j]
        for a in range(self.rows.shape[0]):
            i = self.rows[a]
            s = shift
            for k in range(self.indptr[i], self.indptr[i + 1]):
                s += self.data[k] * v[self.indices[k]]
            g = self.D[a] * s
            total += g
            for k in range(self.indptr[i], self.indptr[i + 1]):
                out[self.indices[k]] += g * self.data[k]
        if self.centered:
            for j in range(d):
                out[j] -= total * self.offset[j]
        if self.fit_intercept:
            out[d] = total + self.intercept_penalty * v[d]

    def product(self, const double[::1] v):
        """``H v``."""
        out = np.empty(self.size)
        cdef double[::1] view = out
        with nogil:
            self._product(&v[0], &view[0])
        return out

    def diagonal(self):
        """``diag(H)``: ``sum_i D_i (x_ij - mu_j)^2 = sum_i D_i x_ij^2 - 2 mu_j
        sum_i D_i x_ij + mu_j^2 sum_i D_i``, one pass over the rows."""
        out = np.zeros(self.size)
        cdef double[::1] diag = out
        cdef double[::1] linear = np.zeros(self.n_features)
        cdef Py_ssize_t a, i, j, d = self.n_features
        cdef long long k
        cdef double x, total = 0.0
        with nogil:
            for a in range(self.rows.shape[0]):
                i = self.rows[a]
                total += self.D[a]
                for k in range(self.indptr[i], self.indptr[i + 1]):
                    x = self.data[k]
                    diag[self.indices[k]] += self.D[a] * x * x
                    linear[self.indices[k]] += self.D[a] * x
            for j in range(d):
                if self.centered:
                    diag[j] += self.offset[j] * (
                        self.offset[j] * total - 2.0 * linear[j]
                    )
                diag[j] += self.reg
            if self.fit_intercept:
                diag[d] = total + self.intercept_penalty
        return out

    def newton_cg(
        self,
        const double[::1] g,
        double cg_tol,
        Py_ssize_t max_steps,
        const double[::1] preconditioner,
        double shift_factor,
    ):
        """(Preconditioned) CG on ``min g.s + s.Hs/2`` without a radius.

        The loop of ``_newton._steihaug`` with an infinite radius, step for
        step: ``H`` is shifted by ``shift_factor`` times the Rayleigh
        quotient of the first direction; ``preconditioner`` is ``M`` (``M^-1
        r``) or empty. Returns ``(s, r, status, steps)``: ``r = -(g + H s)``,
        ``status`` 0 solved (``||r|| <= cg_tol``), 1 no positive curvature
        (``s``, or the first direction while ``s`` is 0), 2 capped; ``steps``
        products.
        """
        cdef Py_ssize_t size = self.size
        s_out, r_out = np.zeros(size), np.empty(size)
        cdef double[::1] s = s_out, r = r_out
        cdef double[::1] z = np.empty(size), d = np.empty(size)
        cdef double[::1] Hd = np.empty(size)
        cdef bint preconditioned = preconditioner.shape[0] > 0
        cdef Py_ssize_t j, steps = 0
        cdef int status = 2
        cdef double rz = 0.0, rz_new, dHd, dd, alpha, beta, rr, shift = 0.0
        with nogil:
            for j in range(size):
                r[j] = -g[j]
                z[j] = r[j] / preconditioner[j] if preconditioned else r[j]
                d[j] = z[j]
                rz += r[j] * z[j]
            while steps < max_steps:
                self._product(&d[0], &Hd[0])
                steps += 1
                if steps == 1:
                    dHd, dd = 0.0, 0.0
                    for j in range(size):
                        dHd += d[j] * Hd[j]
                        dd += d[j] * d[j]
                    shift = shift_factor * dHd / dd
                dHd = 0.0
                for j in range(size):
                    Hd[j] += shift * d[j]
                    dHd += d[j] * Hd[j]
                alpha = rz / dHd if dHd > 0.0 else 0.0
                if not (dHd > 0.0 and isfinite(alpha)):
                    status = 1
                    break
                rr = 0.0
                for j in range(size):
                    s[j] += alpha * d[j]
                    r[j] -= alpha * Hd[j]
                    rr += r[j] * r[j]
                if sqrt(rr) <= cg_tol:
                    status = 0
                    break
                rz_new = 0.0
                for j in range(size):
                    z[j] = r[j] / preconditioner[j] if preconditioned else r[j]
                    rz_new += r[j] * z[j]
                beta = rz_new / rz
                for j in range(size):
                    d[j] = z[j] + beta * d[j]
                rz = rz_new
        if status == 1 and not np.any(s_out):
            s_out = np.asarray(d).copy()
        return s_out, r_out, status, steps
