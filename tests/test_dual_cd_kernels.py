"""The compiled dual CD kernels: how rows are read, and interruption.

Kept apart from ``test_dual_cd.py`` (the solver's optimality and
certificates): these tests pin down choices of the kernels themselves.
"""

import os
import signal
import threading

import numpy as np
import pytest
import scipy.sparse as sp

from hinge_estimators import HingeClassifier
from hinge_estimators.solvers._dual_cd_fast import binary_dual_cd, multiclass_dual_cd
from hinge_estimators.solvers._dual_cd_parts import (
    compiled_rows,
    multiclass_shrinking,
)


class _Interrupted(Exception):
    pass


def _interrupt_when_started(alpha):
    """SIGINT to this process once the kernel has visibly started (alpha moved)."""

    def fire():
        while not alpha.any():
            threading.Event().wait(0.001)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    return thread


def _overlapping(n=2000, d=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] + rng.normal(scale=2.0, size=n) > 0, 1.0, -1.0)
    return X, y


def _with_handler(record):
    def handler(signum, frame):
        record()
        raise _Interrupted

    return signal.signal(signal.SIGINT, handler)


def test_binary_kernel_stops_on_ctrl_c_inside_the_call():
    # eps < 0 never stops the kernel: only max_passes would (minutes of work).
    # The kernel writes shrink_state only when it leaves, so a handler that
    # runs inside the call (the fix) still sees the sentinel written here; one
    # that runs after the call returned (no check in the kernel) does not.
    X, y = _overlapping()
    n, d = X.shape
    alpha, w = np.zeros(n), np.zeros(d + 1)
    samples = np.arange(n, dtype=np.int32)
    sentinel = np.array([n, 12345.0, -12345.0])
    shrink_state = sentinel.copy()
    seen = []
    previous = _with_handler(lambda: seen.append(shrink_state.copy()))
    try:
        thread = _interrupt_when_started(alpha)
        with pytest.raises(_Interrupted):
            binary_dual_cd(
                X, 0.0, y, np.full(n, 1.0), np.zeros(n), np.ones(n),
                np.einsum("ij,ij->i", X, X), samples, alpha, w, -1.0,
                10**7, False, 0, samples.copy(), shrink_state,
            )  # fmt: skip
        thread.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    np.testing.assert_array_equal(seen[0], sentinel)
    # and the state it leaves is consistent: w = sum alpha_i y_i x_i
    np.testing.assert_allclose(w[:d], X.T @ (alpha * y), atol=1e-8)


def test_multiclass_kernel_stops_on_ctrl_c():
    X, y = _overlapping()
    n, d, K = X.shape[0], X.shape[1], 3
    codes = np.asarray((X[:, 1] > 0.5).astype(np.intp) + (X[:, 2] > 0))
    alpha, Wt = np.zeros((n, K)), np.zeros((d + 1, K))
    offset = np.ones((n, K))
    offset[np.arange(n), codes] = 0.0
    samples = np.arange(n, dtype=np.int32)
    previous = _with_handler(lambda: None)
    try:
        thread = _interrupt_when_started(alpha)
        with pytest.raises(_Interrupted):
            multiclass_dual_cd(
                X, 0.0, codes, np.full(n, 1.0), np.zeros(n), offset,
                np.einsum("ij,ij->i", X, X), samples, alpha, Wt, -1.0,
                10**7, False, 0, *multiclass_shrinking(samples, (n, K)),
            )  # fmt: skip
        thread.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    np.testing.assert_allclose(Wt[:d], X.T @ alpha, atol=1e-8)


def _with_zeros(density, n=300, d=40, seed=0):
    """Dense data whose entries are non-zero with probability ``density``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < density)
    return X, (X @ rng.normal(size=d) + 0.3 * rng.normal(size=n) > 0).astype(int)


@pytest.mark.parametrize(
    "density, multiclass, sparse",
    [
        (0.1, False, True),
        (0.2, False, True),
        (0.5, False, False),
        (0.9, False, False),
        (0.2, True, True),
        (0.5, True, True),
        (0.9, True, False),
    ],
)
def test_dense_rows_mostly_zeros_are_read_as_csr(density, multiclass, sparse):
    # as LIBLINEAR does, a pass over mostly-zero dense rows should cost the
    # non-zeros only; the decision depends on the fraction of non-zeros
    X, _ = _with_zeros(density)
    rows = compiled_rows(X, multiclass=multiclass)
    assert isinstance(rows, tuple) == sparse
    if sparse:
        data, indices, indptr, d = rows
        np.testing.assert_array_equal(
            sp.csr_matrix((data, indices, indptr), shape=X.shape).toarray(), X
        )


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "crammer_singer"])
@pytest.mark.parametrize("density", [0.15, 0.5])
def test_dense_with_zeros_and_csr_give_the_same_optimum(loss, density):
    X, y = _with_zeros(density)
    if loss == "crammer_singer":
        y = y + (X[:, 1] > 0.5)
    fits = []
    for data in (X, sp.csr_matrix(X)):
        model = HingeClassifier(
            loss=loss, solver="dual_cd", C=1.0, tol=1e-10, fit_intercept=False,
            max_iter=100_000, random_state=0,
        ).fit(data, y)  # fmt: skip
        assert model.optimality_ <= 1e-10
        fits.append(model)
    dense, csr = fits
    np.testing.assert_allclose(dense.objective_value_, csr.objective_value_, rtol=1e-9)
    # the objective is strongly convex in coef: equal values, equal coef
    np.testing.assert_allclose(dense.coef_, csr.coef_, atol=1e-4)


@pytest.mark.parametrize("bias", [0.0, 0.7])
@pytest.mark.parametrize("squared", [False, True])
def test_binary_kernel_centers_sparse_rows_as_the_dense_copy_would(bias, squared):
    # ``mean`` makes the kernel read x_i - mu without forming it: the same
    # visits, steps and w as on the explicitly centered dense copy (before,
    # sparse rows were read uncentered and their frequent features slowed
    # the intercept's convergence)
    rng = np.random.default_rng(4)
    n, d = 300, 40
    X = sp.random(n, d, density=0.15, random_state=5, format="csr")
    X.data = rng.poisson(3.0, size=X.nnz) + 1.0  # counts: every mean > 0
    y = np.where(rng.random(n) < 0.4, 1.0, -1.0)
    mean = np.asarray(X.mean(axis=0)).ravel()
    dense = X.toarray() - mean
    sq_norms = np.einsum("ij,ij->i", dense, dense)
    upper = np.full(n, np.inf if squared else 0.5)
    diag = np.full(n, 1.0 if squared else 0.0)
    samples = np.arange(n, dtype=np.int32)
    results = []
    for rows, extra in (
        (compiled_rows(X), {"mean": mean, "mean_dots": X @ mean}),
        (dense, {}),
    ):
        alpha, w = np.zeros(n), np.zeros(d + 1)
        passes, _ = binary_dual_cd(
            rows, bias, y, upper, diag, np.ones(n), sq_norms, samples, alpha, w,
            -1.0, 7, False, 11, samples.copy(), np.array([n, np.inf, -np.inf]),
            **extra,
        )  # fmt: skip
        assert passes == 7
        results.append((alpha, w))
    (alpha, w), (alpha_dense, w_dense) = results
    assert alpha.any()
    np.testing.assert_allclose(alpha, alpha_dense, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(w, w_dense, rtol=1e-9, atol=1e-10)
    # the kernel left w = sum_i alpha_i y_i (x_i - mu) (and the constant)
    np.testing.assert_allclose(w[:d], dense.T @ (alpha * y), atol=1e-9)
    assert w[d] == pytest.approx(bias * (alpha @ y), abs=1e-10)


def test_centered_kernel_keeps_its_violation_honest_over_a_long_call():
    # w + s mu, kept while stepping, sums every step of the call: with a
    # near-constant column of 1,000 and one long call the running mu . w
    # drifted, and the kernel stopped at a violation it measured as 7.5e-9
    # where it was 7.6e-8 (eps = 1e-8). Re-synced every RESYNC_WORK x d
    # entries read, the two agree
    rng = np.random.default_rng(1)
    n, d = 400, 30
    X = sp.random(n, d, density=0.1, random_state=3, format="lil")
    X[:, 0] = 1000.0 * (1 + 0.01 * rng.random((n, 1)))
    X = X.tocsr()
    y = np.where(rng.random(n) < 0.1, 1.0, -1.0)
    mean = np.asarray(X.mean(axis=0)).ravel()
    centered = X.toarray() - mean
    sq_norms = np.einsum("ij,ij->i", centered, centered)
    upper, bias = np.full(n, 1.0), 0.5
    alpha, w = np.zeros(n), np.zeros(d + 1)
    samples = np.arange(n, dtype=np.int32)
    eps = 1e-8
    binary_dual_cd(
        compiled_rows(X), bias, y, upper, np.zeros(n), np.ones(n), sq_norms,
        samples, alpha, w, eps, 20000, True, 5, samples.copy(),
        np.array([n, np.inf, -np.inf]), mean=mean, mean_dots=X @ mean,
    )  # fmt: skip
    w_true = centered.T @ (alpha * y)
    G = y * (centered @ w_true + bias * bias * (alpha @ y)) - 1.0
    PG = np.where(
        alpha <= 0, np.minimum(G, 0), np.where(alpha >= upper, np.maximum(G, 0), G)
    )
    assert PG.max() - PG.min() <= 3 * eps
