"""The compiled dual CD kernels: how rows are read, and interruption.

Kept apart from ``test_dual_cd.py`` (the solver's optimality and
certificates): these tests pin down choices of the kernels themselves.
"""

import os
import signal
import threading

import numpy as np
import pytest

from hinge_estimators.solvers._dual_cd_fast import binary_dual_cd, multiclass_dual_cd


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
                10**7, False, 0,
            )  # fmt: skip
        thread.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    np.testing.assert_allclose(Wt[:d], X.T @ alpha, atol=1e-8)
