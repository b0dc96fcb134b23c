"""SGD against SGDClassifier on the real datasets, at equal epochs.

For each dense set of ``real_datasets.DENSE`` and a synthetic dense 15,000 x
10 binary set (all standardized, as a user would) and each of the hinge and
the squared hinge (one-vs-rest on multiclass sets), both sides run
``--epochs`` epochs on the same objective:
ours ``HingeClassifier(solver="sgd", C=C)`` with its default ``SGD()``
(averaging from sample 1000 on), stopping switched off; theirs
``SGDClassifier(alpha=1/(C n), max_iter=epochs, tol=None, average=1000)``,
its default schedule otherwise. Both models are scored with one formula, the
objective ``P(W, b) = 1/2 ||W||^2 + C sum_i loss(y_i, x_i W + b)`` summed
over the one-vs-rest columns. Reported: the best of ``--repeat`` fit CPU times
(the two sides alternating), their ratio (ours / theirs) and the ratio of the
objectives (ours / theirs; SGDClassifier's squared hinge diverges at this
alpha, hence ratios near 0).

Run (from the repository root; ``PYTHONPATH=.`` picks this checkout's
package)::

    PYTHONPATH=. env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_sgd_real.py
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler, label_binarize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import real_datasets  # noqa: E402

from hinge_estimators import HingeClassifier  # noqa: E402

#: the dense 15,000 x 10 binary shape of issue 12 (make_classification)
SYNTHETIC = "synthetic"


def objective(X, y, classes, coef, intercept, loss, C):
    """``P`` from its textbook formula, one-vs-rest columns summed."""
    Y = label_binarize(y, classes=classes, neg_label=-1, pos_label=1)
    if len(classes) == 2:
        Y = Y[:, -1:]
    Z = Y * (X @ np.atleast_2d(coef).T + intercept)
    hinge = np.maximum(1.0 - Z, 0.0)
    values = hinge if loss == "hinge" else hinge**2
    return 0.5 * float(np.vdot(coef, coef)) + C * float(values.sum())


def interleaved(makers, X, y, repeat):
    """``[(best CPU seconds, last model)]`` of each maker, fitted in turn.

    CPU time of this process (``time.process_time``), not wall time: on a
    machine shared with other jobs, waiting for a core is not the fit's cost;
    the fits alternate so that both sides see the same conditions.
    """
    best, models = [np.inf] * len(makers), [None] * len(makers)
    for _ in range(repeat):
        for k, make in enumerate(makers):
            est = make()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.process_time()
                est.fit(X, y)
                best[k] = min(best[k], time.process_time() - start)
            models[k] = est
    return list(zip(best, models, strict=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--sets", nargs="*", default=[*real_datasets.DENSE, SYNTHETIC])
    args = parser.parse_args()
    C = args.C
    print(f"{args.epochs} epochs, C={C:g}, best of {args.repeat}; ratios ours/theirs\n")
    print(
        "| set | n x d | classes | loss | ours (ms) | SGDClassifier (ms) "
        "| time ratio | objective ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for name in args.sets:
        if name == SYNTHETIC:
            X, y = make_classification(15_000, 10, n_informative=5, random_state=0)
        elif not real_datasets.available(name):
            print(f"| {name} | (not installed) |")
            continue
        else:
            X, y = real_datasets.load(name)
        X = StandardScaler().fit_transform(X)
        classes = np.unique(y)
        n = X.shape[0]
        for loss in ("hinge", "squared_hinge"):
            (ours_t, ours), (theirs_t, theirs) = interleaved(
                [
                    lambda loss=loss: HingeClassifier(
                        loss=loss,
                        solver="sgd",
                        C=C,
                        max_iter=args.epochs,
                        tol=1e-300,
                        random_state=0,
                    ),
                    lambda loss=loss, n=n: SGDClassifier(
                        loss=loss,
                        alpha=1.0 / (C * n),
                        max_iter=args.epochs,
                        tol=None,
                        average=1000,
                        random_state=0,
                    ),
                ],
                X,
                y,
                args.repeat,
            )
            p_ours = objective(X, y, classes, ours.coef_, ours.intercept_, loss, C)
            p_theirs = objective(
                X, y, classes, theirs.coef_, theirs.intercept_, loss, C
            )
            worst = max(worst, ours_t / theirs_t)
            print(
                f"| {name} | {n} x {X.shape[1]} | {len(classes)} | {loss} | "
                f"{1e3 * ours_t:.1f} | {1e3 * theirs_t:.1f} | "
                f"{ours_t / theirs_t:.2f} | {p_ours / p_theirs:.4f} |",
                flush=True,
            )
    print(f"\nworst time ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
