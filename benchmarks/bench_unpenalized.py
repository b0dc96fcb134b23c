"""The hinge without a penalty on real data: certified, against SGDClassifier.

``penalty=None`` leaves the hinge a linear program, ``min sum_i [1 - y_i (x_i
w + b)]_+`` (one per one-vs-rest column). For each set this script fits
``HingeClassifier(loss="hinge", penalty=None)`` with its defaults and
``SGDClassifier(loss="hinge", penalty=None)`` with its defaults (the same
minimizer: its objective is the mean hinge), solves each column's linear
program with HiGHS (``scipy.optimize.linprog``) for the optimum ``P*``, and
prints one row a set: wall seconds, iterations, the relative excess ``(P -
P*) / P*`` of each, our ``optimality_`` and whether the fit warned. ``P``
of ``SGDClassifier`` is our objective at its coefficients.

Run (from the repository root, setup in ``benchmarks/README.md``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/bench_unpenalized.py

``--sets a,b`` picks sets (``real_datasets.py``'s names; ``_csr`` for the raw
CSR copy); the dense ones are standardized as a user would.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.linear_model import SGDClassifier

sys.path.insert(0, str(Path(__file__).parent))
from bench_defaults_grid import load  # noqa: E402
from time_to_target import fit_watched  # noqa: E402

from hinge_estimators import HingeClassifier  # noqa: E402

SETS = (
    "breast_cancer",
    "digits",
    "spambase",
    "twonorm",
    "splice_csr",
    "optdigits",
    "satimage",
)


def signs(y, classes):
    """The one-vs-rest columns' labels, +-1, one column a class (one for two)."""
    columns = classes[1:] if len(classes) == 2 else classes
    return np.where(np.asarray(y)[:, None] == columns[None, :], 1.0, -1.0)


def optimum(X, Y):
    """``P*``: each column's linear program over ``(w, b, xi)`` by HiGHS."""
    n, d = X.shape
    rows = sp.csr_matrix(X)
    total = 0.0
    for s in Y.T:
        A = sp.hstack([-sp.diags(s) @ rows, sp.csr_matrix(-s[:, None]), -sp.eye(n)])
        bounds = [(None, None)] * (d + 1) + [(0, None)] * n
        cost = np.r_[np.zeros(d + 1), np.ones(n)]
        run = linprog(cost, A_ub=A.tocsr(), b_ub=-np.ones(n), bounds=bounds)
        if run.status != 0:
            raise RuntimeError(f"HiGHS: {run.message}")
        total += run.fun
    return total


def objective(X, Y, coef, intercept):
    scores = np.asarray(X @ coef.T) + intercept
    return float(np.maximum(1.0 - Y * scores, 0.0).sum())


def excess(value, best):
    """``(P - P*) / P*``, or ``P`` itself where ``P* = 0`` (separable)."""
    if best > 0:
        return f"{(value - best) / best:.1e}"
    return f"P = {value:.3g}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    args = parser.parse_args()
    print(
        "| set | ours s | ours iterations | ours excess | optimality_ | ours "
        "warned | SGDClassifier s (ours / its) | its epochs | its excess | its "
        "warned |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        X, y = load(name)
        ours = HingeClassifier(loss="hinge", penalty=None)
        theirs = SGDClassifier(loss="hinge", penalty=None, random_state=0)
        our_seconds, our_warned = fit_watched(ours, X, y)
        their_seconds, their_warned = fit_watched(theirs, X, y)
        Y = signs(y, ours.classes_)
        best = optimum(X, Y)
        our_excess = excess(objective(X, Y, ours.coef_, ours.intercept_), best)
        their_excess = excess(objective(X, Y, theirs.coef_, theirs.intercept_), best)
        K = len(ours.classes_)
        print(
            f"| {name} {X.shape[0]}x{X.shape[1]} K={K} | {our_seconds:.2f} | "
            f"{ours.n_iter_} | {our_excess} | {ours.optimality_:.1e} | "
            f"{'yes' if our_warned else 'no'} | {their_seconds:.2f} "
            f"({our_seconds / their_seconds:.2f}) | {theirs.n_iter_} | "
            f"{their_excess} | {'yes' if their_warned else 'no'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
