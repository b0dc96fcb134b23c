"""
Scale-out with Dask
===================

Two ways to put a :class:`~hinge_estimators.HingeClassifier` on a
``dask.distributed`` cluster, with the ``dask`` extra installed
(``python -m pip install -e ".[dask]"``):

* ``dask_ml.wrappers.Incremental`` streams a chunked ``dask.array`` through
  ``partial_fit`` (``solver="sgd"``), one chunk after the other, so the whole
  data never has to sit in memory at once;
* ``joblib.parallel_config(backend="dask")`` sends the fits of a
  :class:`~sklearn.model_selection.GridSearchCV` to the cluster's workers.

The cluster here is a small ``LocalCluster`` inside this process; on a real
cluster only the ``Client`` changes (``Client("tcp://scheduler:8786")``).
"""

import dask.array as da
import joblib
import matplotlib.pyplot as plt
from dask.distributed import Client, LocalCluster
from dask_ml.wrappers import Incremental
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from hinge_estimators import HingeClassifier

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
)
client = Client(cluster)
print(f"cluster: {len(cluster.workers)} workers")

# %%
# Streaming chunks through ``partial_fit``
# ----------------------------------------
# The training set is a ``dask.array`` in chunks of 5,000 rows (here made from
# memory; in practice it comes from ``da.from_zarr``, HDF5 or Parquet files).
# ``Incremental`` calls ``partial_fit`` once per chunk, in an order shuffled by
# ``random_state``; ``classes`` goes through ``fit``'s keyword arguments, since
# a chunk may lack a label. Each call is one SGD epoch over its chunk.

X, y = make_classification(
    n_samples=50_000, n_features=20, n_informative=10, random_state=0
)
X_train = da.from_array(X[:40_000], chunks=(5_000, 20))
y_train = da.from_array(y[:40_000], chunks=5_000)
X_test, y_test = X[40_000:], y[40_000:]

inc = Incremental(HingeClassifier(solver="sgd", random_state=0), random_state=0)
inc.fit(X_train, y_train, classes=[0, 1])
print(
    f"Incremental: {inc.estimator_.n_iter_} partial_fit calls over "
    f"{X_train.numblocks[0]} chunks of {X_train.chunksize[0]} rows; "
    f"held-out accuracy {inc.score(X_test, y_test):.3f}"
)

# %%
# ``inc.partial_fit(X_train, y_train)`` streams the chunks once more from where
# the model stopped (a second epoch), and ``inc.predict`` on a ``dask.array``
# predicts chunk by chunk on the workers.

# %%
# A grid search on the cluster
# ----------------------------
# Nothing in the search changes: under ``joblib.parallel_config(backend="dask")``
# the fits of every (parameter, fold) pair run as tasks on the workers.
# ``random_state`` fixes the coordinate order of ``dual_cd``, so the result is
# the one the search gives on this machine alone.

X_small, y_small = X[:2_000], y[:2_000]
param_grid = {"C": [0.001, 0.01, 0.1], "loss": ["hinge", "squared_hinge"]}
search = GridSearchCV(HingeClassifier(random_state=0), param_grid, cv=3)
with joblib.parallel_config(backend="dask"):
    search.fit(X_small, y_small)
n_fits = len(search.cv_results_["params"]) * search.n_splits_
print(
    f"GridSearchCV: {n_fits} fits on the cluster; best {search.best_params_} "
    f"with mean accuracy {search.best_score_:.3f}"
)

client.close()
cluster.close()

# %%
# The mean cross-validated accuracy of each loss along ``C``.

results = search.cv_results_
fig, ax = plt.subplots(figsize=(5, 3.5))
for loss in param_grid["loss"]:
    rows = [i for i, p in enumerate(results["params"]) if p["loss"] == loss]
    ax.semilogx(
        [results["params"][i]["C"] for i in rows],
        [results["mean_test_score"][i] for i in rows],
        marker="o",
        label=loss,
    )
ax.set_xlabel("C")
ax.set_ylabel("mean CV accuracy")
ax.set_title("GridSearchCV run on a Dask cluster")
ax.legend()
fig.tight_layout()
plt.show()
