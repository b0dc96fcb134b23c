"""One-vs-rest columns fitted in threads (``n_jobs``; ``solvers._base.column_jobs``)."""

import threading
import time

import joblib
import numpy as np
import pytest
import scipy.sparse as sp

import hinge_estimators.solvers._base as base
from hinge_estimators import HingeClassifier
from hinge_estimators.losses import Hinge
from hinge_estimators.solvers import DualCoordinateDescent
from hinge_estimators.solvers._base import (
    column_jobs,
    floating_point_guard,
    map_columns,
)

from ._problems import make_objective


def _four_classes(sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(240) % 4
    X = rng.normal(scale=1.2, size=(4, 12))[y] + rng.normal(size=(240, 12))
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    return X, y


class _CountingPool(base.ThreadPoolExecutor):
    """The executor, recording how many workers each pool was given."""

    sizes = []

    def __init__(self, max_workers, **kwargs):
        type(self).sizes.append(max_workers)
        super().__init__(max_workers, **kwargs)


@pytest.fixture
def pools(monkeypatch):
    _CountingPool.sizes = []
    monkeypatch.setattr(base, "ThreadPoolExecutor", _CountingPool)
    return _CountingPool.sizes


@pytest.mark.parametrize(
    "params",
    [
        dict(loss="hinge", solver="dual_cd"),
        dict(loss="squared_hinge", solver="dual_cd", fit_intercept=False),
        dict(loss="squared_hinge", solver="primal_cd", penalty="l1", C=0.3),
    ],
    ids=lambda p: f"{p['loss']}-{p['solver']}",
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_columns_in_threads_give_the_serial_answer(params, sparse, pools):
    X, y = _four_classes(sparse)
    common = dict(params, tol=1e-8, max_iter=5000, random_state=3)
    serial = HingeClassifier(**common).fit(X, y)
    assert pools == []  # n_jobs=None: no pool at all
    threaded = HingeClassifier(**common, n_jobs=2).fit(X, y)
    assert pools == [2]  # the four columns went to a pool of two threads
    # each column draws its own random stream, whatever runs beside it
    np.testing.assert_allclose(threaded.coef_, serial.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(threaded.intercept_, serial.intercept_, atol=1e-10)
    assert threaded.n_iter_ == serial.n_iter_
    assert threaded.optimality_ <= 1e-8


def test_joblib_parallel_config_sets_the_default(pools):
    X, y = _four_classes()
    with joblib.parallel_config(n_jobs=2):
        HingeClassifier("hinge", "dual_cd").fit(X, y)
    assert pools == [2]
    # the estimator's own value wins over the context, as in scikit-learn
    with joblib.parallel_config(n_jobs=2):
        HingeClassifier("hinge", "dual_cd", n_jobs=1).fit(X, y)
    assert pools == [2]


def test_binary_and_multiclass_problems_start_no_threads(pools):
    X, y = _four_classes()
    HingeClassifier("hinge", "dual_cd", n_jobs=2).fit(X, y % 2)
    HingeClassifier("crammer_singer", n_jobs=2).fit(X, y)
    assert pools == []


@pytest.mark.parametrize("solver", ["newton", "fc_boosting"])
def test_python_heavy_solvers_fit_their_columns_on_one_thread(solver, pools):
    # their short BLAS calls between Python steps made two threads slower
    X, y = _four_classes()
    HingeClassifier("squared_hinge", solver, max_iter=5, n_jobs=2).fit(X, y)
    assert pools == []


def test_newton_on_sparse_data_fits_its_columns_in_threads(pools):
    # its CG runs compiled without the GIL there
    X, y = _four_classes(sparse=True)
    common = dict(solver="newton", tol=1e-10, max_iter=100)
    serial = HingeClassifier("squared_hinge", **common).fit(X, y)
    threaded = HingeClassifier("squared_hinge", **common, n_jobs=2).fit(X, y)
    assert pools == [2]
    np.testing.assert_allclose(threaded.coef_, serial.coef_, rtol=1e-10, atol=1e-12)


def test_no_more_threads_than_columns(pools):
    X, y = _four_classes()
    HingeClassifier("hinge", "dual_cd", n_jobs=-1).fit(X, y)
    assert len(pools) == 1 and 1 <= pools[0] <= 4


def test_progress_reports_come_one_at_a_time():
    # a callback is called from the columns' threads: never two at once
    objective = make_objective(Hinge(), n=200, d=8, n_classes=4, C=10.0)
    inside, overlaps, threads = [0], [], set()
    count = threading.Lock()

    def callback(n_iter, value):
        with count:
            inside[0] += 1
            overlaps.append(inside[0])
        threads.add(threading.current_thread().name)
        time.sleep(1e-4)  # widen the window two unguarded calls would share
        with count:
            inside[0] -= 1

    with column_jobs(2):
        result = DualCoordinateDescent().solve(
            objective, tol=1e-8, max_iter=2000, rng=np.random.default_rng(0),
            callback=callback,
        )  # fmt: skip
    assert result.converged
    assert len(overlaps) > 8 and max(overlaps) == 1
    assert all(name.startswith("hinge-column") for name in threads)


def test_an_error_in_a_column_is_raised_and_stops_the_rest():
    started = []

    def column(k):
        started.append(k)
        if k == 0:
            raise RuntimeError("column 0 failed")
        return k

    with column_jobs(2), pytest.raises(RuntimeError, match="column 0 failed"):
        map_columns(column, range(50))
    assert len(started) < 50  # the columns not yet started were cancelled


def test_the_floating_point_guard_sees_the_columns_threads():
    # numpy's error state is a context variable: a bare worker thread starts
    # from numpy's defaults, so an overflow there escaped the guard
    def overflow(k):
        return np.float64(1e308) * (10.0 + k)

    guard = floating_point_guard("TestSolver")
    with column_jobs(2), pytest.raises(ValueError, match="double precision"), guard:
        map_columns(overflow, range(4))


def test_a_columns_own_solve_starts_no_threads():
    inner = []

    def column(k):
        inner.append(base._column_jobs.get())
        return map_columns(lambda j: threading.current_thread().name, range(3))

    with column_jobs(2):
        names = map_columns(column, range(2))
    assert inner == [1, 1]
    for per_column in names:  # each column's inner map ran in its own thread
        assert len(set(per_column)) == 1


def test_hinge_path_fits_the_columns_in_threads(pools):
    from hinge_estimators import hinge_path

    X, y = _four_classes()
    params = dict(loss="hinge", Cs=[0.1, 1.0, 10.0], tol=1e-8, max_iter=5000)
    serial = hinge_path(X, y, random_state=0, **params)
    assert pools == []
    threaded = hinge_path(X, y, random_state=0, n_jobs=2, **params)
    assert pools == [2, 2, 2]  # one pool per point of the path
    np.testing.assert_allclose(threaded.coefs, serial.coefs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(threaded.intercepts, serial.intercepts, atol=1e-10)
