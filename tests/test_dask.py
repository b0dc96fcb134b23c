"""Scale-out on Dask (the ``dask`` extra): ``dask_ml.wrappers.Incremental``
streams a chunked ``dask.array`` through ``partial_fit``, and ``GridSearchCV``
runs its fits on a ``dask.distributed`` cluster through joblib's ``dask``
backend. Each gives what the same work gives locally.

The cluster is in-process (``processes=False``) with one thread per worker, so
the module starts in a second and is deterministic; it is closed at teardown.
"""

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from hinge_estimators import HingeClassifier, HingeClassifierCV

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")

CHUNK = 500


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_incremental_streams_chunks_through_partial_fit(client):
    X, y = make_classification(
        n_samples=5000, n_features=20, n_informative=5, random_state=0
    )
    X_train, X_test, y_train, y_test = X[:4000], X[4000:], y[:4000], y[4000:]
    X_stream = da.from_array(X_train, chunks=(CHUNK, X.shape[1]))
    y_stream = da.from_array(y_train, chunks=CHUNK)
    clf = HingeClassifier(solver="sgd", random_state=0)

    # Blocks in their order, so the stream is reproducible locally below.
    inc = wrappers.Incremental(clf, shuffle_blocks=False)
    with distributed.get_task_stream(client) as tasks:
        inc.fit(X_stream, y_stream, classes=[0, 1])
    assert tasks.data, "Incremental.fit did not run on the cluster"
    fitted = inc.estimator_
    assert fitted.n_iter_ == X_stream.numblocks[0]  # one partial_fit per chunk
    assert inc.score(X_test, y_test) > 0.8  # chance is 0.5

    local = clone(clf)
    for start in range(0, len(X_train), CHUNK):
        rows = slice(start, start + CHUNK)
        local.partial_fit(X_train[rows], y_train[rows], classes=[0, 1])
    assert_allclose(fitted.coef_, local.coef_, rtol=0, atol=1e-10)
    assert_allclose(fitted.intercept_, local.intercept_, rtol=0, atol=1e-10)


def test_grid_search_runs_on_the_cluster(client):
    X, y = make_classification(n_samples=300, n_features=10, random_state=0)
    # random_state fixes dual_cd's coordinate order, so every fit is the same
    # wherever it runs.
    search = GridSearchCV(
        HingeClassifier(random_state=0),
        {"C": [0.01, 0.1, 1.0], "loss": ["hinge", "squared_hinge"]},
        cv=3,
    )
    local = clone(search).fit(X, y)
    with (
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        on_cluster = clone(search).fit(X, y)
    assert tasks.data, "the search did not run on the cluster"
    assert on_cluster.best_params_ == local.best_params_
    assert_array_equal(
        on_cluster.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
    )
    assert_allclose(on_cluster.best_estimator_.coef_, local.best_estimator_.coef_)
    assert np.isfinite(on_cluster.best_score_)


def test_cv_folds_run_on_the_cluster(client):
    X, y = make_classification(n_samples=200, n_features=8, random_state=1)
    cv = HingeClassifierCV(Cs=4, cv=3, loss="hinge", random_state=0, n_jobs=-1)
    local = clone(cv).fit(X, y)
    with (
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        on_cluster = clone(cv).fit(X, y)
    assert tasks.data, "the folds did not run on the cluster"
    assert on_cluster.C_ == local.C_
    assert_allclose(on_cluster.scores_, local.scores_)
    assert_allclose(on_cluster.coefs_paths_, local.coefs_paths_)
