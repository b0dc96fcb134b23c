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

The cluster here is a small ``LocalCluster`` inside this process (two
workers, one thread each); on a real cluster only the ``Client`` changes
(``Client("tcp://scheduler:8786")``). What Dask buys is *memory* (the
stream) and *workers* (the search), not a better optimizer: data that fits in
memory is fitted faster, and to a certified optimum, by an exact solver on
one machine. The first plot compares the two.
"""

import time

import dask.array as da
import joblib
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster, get_task_stream
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
# The training set is a ``dask.array`` of 8 chunks of 5,000 rows (here made
# from memory; in practice it comes from ``da.from_zarr``, HDF5 or Parquet
# files). Each ``Incremental.partial_fit`` call on one chunk sends that chunk
# to the model, which takes one SGD epoch over it. We score the model on
# held-out data after each chunk, for 5 seeds (SGD's sample order and the
# chunks' order), and compare with an exact fit of the whole training set in
# memory (``HingeClassifier(loss="hinge")``, ``dual_cd``).

X, y = make_classification(
    n_samples=50_000, n_features=20, n_informative=10, random_state=0
)
X_train = da.from_array(X[:40_000], chunks=(5_000, 20))
y_train = da.from_array(y[:40_000], chunks=5_000)
X_test, y_test = X[40_000:], y[40_000:]
n_chunks = X_train.numblocks[0]

curves = []
for seed in range(5):
    inc = Incremental(HingeClassifier(loss="hinge", solver="sgd", random_state=seed))
    order = np.random.default_rng(seed).permutation(n_chunks)
    accuracy = []
    for block in order:
        inc.partial_fit(X_train.blocks[block], y_train.blocks[block], classes=[0, 1])
        accuracy.append(inc.score(X_test, y_test))
    curves.append(accuracy)
curves = np.array(curves)
exact = HingeClassifier(loss="hinge").fit(X[:40_000], y[:40_000])
exact_accuracy = exact.score(X_test, y_test)
print(
    f"Incremental after {n_chunks} chunks: held-out accuracy "
    f"{curves[:, -1].mean():.4f} ± {curves[:, -1].std():.4f} over 5 seeds; "
    f"exact fit in memory: {exact_accuracy:.4f}"
)

# %%
# A grid search on the cluster
# ----------------------------
# Nothing in the search changes: under ``joblib.parallel_config(backend="dask")``
# the fits of every (parameter, fold) pair run as tasks on the workers.
# ``random_state`` fixes the coordinate order of ``dual_cd``, so the result is
# the one the search gives on this machine alone. ``get_task_stream`` records
# which worker ran which task and when (joblib groups several fits into one
# task).

X_small, y_small = X[:4_000], y[:4_000]
param_grid = {"C": np.logspace(-3, 0, 4), "loss": ["hinge", "squared_hinge"]}
# the hinge at C=1 needs more than the default 1000 dual passes on a fold
estimator = HingeClassifier(random_state=0, max_iter=5000)
search = GridSearchCV(estimator, param_grid, cv=5)
start = time.time()
with get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
    search.fit(X_small, y_small)
n_fits = len(search.cv_results_["params"]) * search.n_splits_
print(
    f"GridSearchCV: {n_fits} fits as {len(stream.data)} tasks on "
    f"{len({task['worker'] for task in stream.data})} workers; best "
    f"{search.best_params_} with mean accuracy {search.best_score_:.3f}"
)

client.close()
cluster.close()

# %%
# Left: the held-out accuracy along the stream (mean ± std over the 5 seeds)
# against the exact fit in memory; on this easy problem one pass over the
# stream ends as accurate as the exact fit, and the seeds agree more as
# chunks accumulate. Middle: the search's validation curves,
# mean ± std over the 5 folds. Right: the tasks the search sent, one bar per
# task on the worker that ran it, time from the start of the search.

fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4))
rows_seen = 5_000 * np.arange(1, n_chunks + 1)
left.errorbar(
    rows_seen,
    curves.mean(axis=0),
    yerr=curves.std(axis=0),
    marker="o",
    capsize=3,
    label="Incremental(solver='sgd'), one epoch per chunk",
)
left.axhline(
    exact_accuracy, color="0.3", linestyle="--", label="exact fit of all rows in memory"
)
left.set_xlabel("training rows streamed")
left.set_ylabel("held-out accuracy")
left.set_title("Streaming through partial_fit")
left.legend(fontsize=8)

results = search.cv_results_
for loss in param_grid["loss"]:
    rows = [i for i, p in enumerate(results["params"]) if p["loss"] == loss]
    middle.errorbar(
        [results["params"][i]["C"] for i in rows],
        [results["mean_test_score"][i] for i in rows],
        yerr=[results["std_test_score"][i] for i in rows],
        marker="o",
        capsize=3,
        label=loss,
    )
middle.set_xscale("log")
middle.set_xlabel("C")
middle.set_ylabel("accuracy (mean ± std over 5 folds)")
middle.set_title("GridSearchCV run on the cluster")
middle.legend(fontsize=8)

workers = sorted({task["worker"] for task in stream.data})
t0 = min(part["start"] for task in stream.data for part in task["startstops"])
for task in stream.data:
    for part in task["startstops"]:
        if part["action"] == "compute":
            right.barh(
                workers.index(task["worker"]),
                part["stop"] - part["start"],
                left=part["start"] - t0,
                height=0.6,
                color="tab:blue",
                edgecolor="white",
                linewidth=0.5,
            )
right.set_yticks(range(len(workers)), [f"worker {i}" for i in range(len(workers))])
right.set_xlabel("seconds since the search started")
right.set_title(f"{len(stream.data)} tasks on {len(workers)} workers")
fig.tight_layout()
plt.show()
