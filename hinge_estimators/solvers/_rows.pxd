# cython: language_level=3
# Rows of a design matrix as the compiled kernels read them: one view for
# C-ordered float64 dense arrays (long rows through BLAS, short ones by plain
# loops) and for CSR arrays (never densified), with an optional appended
# constant feature, shared by every kernel (dual coordinate descent, SGD).

from scipy.linalg.cython_blas cimport daxpy, ddot


cdef struct Rows:
    const double *data
    const int *indices
    const long long *indptr
    bint sparse
    int n_features
    double bias            # value of the appended constant feature (0: none)


#: dense rows with at most this many features are read by plain loops: a BLAS
#: call's fixed cost (dispatch, argument checks) is as much as a short row's
#: arithmetic. Measured per coordinate update (binary kernel, best of 12):
#: penbased (d = 16) 30 ns by loops against 50 ns by BLAS, twonorm (d = 20)
#: 20 against 29; at d = 64 BLAS wins (optdigits 49 against 60 ns).
cdef enum:
    SHORT_ROW = 32


cdef inline double short_dot(const double *x, const double *w, int d) noexcept nogil:
    """``x . w`` with four running sums (one sum waits on each add's latency)."""
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef int k = 0
    while k + 4 <= d:
        s0 += x[k] * w[k]
        s1 += x[k + 1] * w[k + 1]
        s2 += x[k + 2] * w[k + 2]
        s3 += x[k + 3] * w[k + 3]
        k += 4
    while k < d:
        s0 += x[k] * w[k]
        k += 1
    return (s0 + s1) + (s2 + s3)


cdef inline double row_dot(Rows *X, Py_ssize_t i, const double *w) noexcept nogil:
    """``x_i . w`` (including the constant feature, stored at ``w[d]``)."""
    cdef double s = 0.0
    cdef long long k
    cdef int one = 1, d = X.n_features
    if X.sparse:
        for k in range(X.indptr[i], X.indptr[i + 1]):
            s += X.data[k] * w[X.indices[k]]
    elif d <= SHORT_ROW:
        s = short_dot(X.data + i * d, w, d)
    else:
        s = ddot(&d, <double *> X.data + i * d, &one, <double *> w, &one)
    if X.bias != 0.0:
        s += X.bias * w[d]
    return s


cdef inline void row_axpy(Rows *X, Py_ssize_t i, double a, double *w) noexcept nogil:
    """``w += a x_i``."""
    cdef long long k
    cdef int one = 1, d = X.n_features
    cdef const double *x
    if X.sparse:
        for k in range(X.indptr[i], X.indptr[i + 1]):
            w[X.indices[k]] += a * X.data[k]
    elif d <= SHORT_ROW:
        x = X.data + i * d
        for k in range(d):
            w[k] += a * x[k]
    else:
        daxpy(&d, &a, <double *> X.data + i * d, &one, w, &one)
    if X.bias != 0.0:
        w[d] += a * X.bias


cdef inline void row_axpy2(
    Rows *X, Py_ssize_t i, double a, double *w, double c, double *v
) noexcept nogil:
    """``w += a x_i`` and ``v += c x_i``; a sparse row is read once for both."""
    cdef long long k
    cdef Py_ssize_t j
    cdef double x_k
    if X.sparse:
        for k in range(X.indptr[i], X.indptr[i + 1]):
            x_k = X.data[k]
            j = X.indices[k]
            w[j] += a * x_k
            v[j] += c * x_k
        if X.bias != 0.0:
            w[X.n_features] += a * X.bias
            v[X.n_features] += c * X.bias
    else:
        row_axpy(X, i, a, w)
        row_axpy(X, i, c, v)


cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define HINGE_PREFETCH(p) __builtin_prefetch(p)
    #else
    #define HINGE_PREFETCH(p) ((void) 0)
    #endif
    """
    void HINGE_PREFETCH(const void *p) noexcept nogil


cdef inline void prefetch_span(const void *start, Py_ssize_t n_bytes) noexcept nogil:
    """Ask for the cache lines of ``n_bytes`` from ``start`` ahead of use."""
    cdef const char *p = <const char *> start
    cdef Py_ssize_t k = 0
    while k < n_bytes:
        HINGE_PREFETCH(p + k)
        k += 64
    HINGE_PREFETCH(p + n_bytes - 1)


cdef inline void row_prefetch(Rows *X, Py_ssize_t i) noexcept nogil:
    """Ask for row ``i``'s memory ahead of use: samples visited in random order
    each miss the cache, and the miss costs about as much as a short row's
    arithmetic."""
    cdef long long k, start, stop
    cdef const char *p
    if X.sparse:
        start, stop = X.indptr[i], X.indptr[i + 1]
        k = start
        while k < stop:
            HINGE_PREFETCH(X.data + k)
            HINGE_PREFETCH(X.indices + k)
            k += 8
    else:
        p = <const char *> (X.data + i * X.n_features)
        k = 0
        while k < X.n_features * 8:
            HINGE_PREFETCH(p + k)
            k += 64


cdef inline Rows make_rows(object X, double bias):
    """A ``Rows`` view of a C-ordered float64 array or of CSR arrays."""
    cdef Rows rows
    cdef const double[::1] data
    cdef const int[::1] indices
    cdef const long long[::1] indptr
    cdef const double[:, ::1] dense
    if isinstance(X, tuple):
        # the caller pads empty CSR arrays to length 1, so &data[0] is valid
        data, indices, indptr, n_features = X
        rows.data = &data[0]
        rows.indices = &indices[0]
        rows.indptr = &indptr[0]
        rows.sparse = True
        rows.n_features = n_features
    else:
        dense = X
        rows.data = &dense[0, 0]
        rows.indices = NULL
        rows.indptr = NULL
        rows.sparse = False
        rows.n_features = dense.shape[1]
    rows.bias = bias
    return rows
