"""Where dual_cd loses time on real data: ours against the best LinearSVC.

For each (dataset, loss, C) case, time to a relative suboptimality of 1e-4
and 1e-6 (measured against a certified lower bound, see ``bench_exact.py``)
for our ``solver`` (``auto`` and ``dual_cd``) and for the best of
``LinearSVC(dual=True)`` / ``LinearSVC(dual=False)`` (the primal variant
exists for the squared hinge only), all with ``fit_intercept=False`` (the
same objective on both sides). Dense sets are standardized as a user would;
``raw`` sets are used as loaded (their zeros kept).

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_dcd_profile.py --cases penbased:hinge:1 ...

A case is ``name[-raw|-csr]:loss:C``; without ``--cases`` a default list runs.
"""

import argparse
import os
import sys
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_exact import objective, ours, reference_optimum, timed_fit  # noqa: E402
from real_datasets import load  # noqa: E402

TARGETS = (1e-4, 1e-6)
OUR_TOLS = (1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6, 1e-7)
SVC_TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
DEFAULT_CASES = (
    "twonorm:hinge:1",
    "twonorm:squared_hinge:1",
    "ring:squared_hinge:1",
    "penbased:hinge:1",
    "penbased:crammer_singer:1",
    "optdigits-raw:hinge:0.1",
    "optdigits:hinge:0.1",
    "splice:hinge:1",
    "spambase:squared_hinge:1",
    "sylva:hinge:1",
    "satimage:crammer_singer:1",
)


def data(spec):
    name, _, kind = spec.partition("-")
    X, y = load(name)
    if kind == "":
        X = StandardScaler().fit_transform(X)
    elif kind == "csr":
        X = sp.csr_matrix(X)
    return X, np.unique(y, return_inverse=True)[1]


def svc(loss, C, tol, *, dual):
    multi = "crammer_singer" if loss == "crammer_singer" else "ovr"
    return LinearSVC(
        loss="squared_hinge" if loss == "crammer_singer" else loss,
        multi_class=multi,
        dual=dual,
        C=C,
        tol=tol,
        fit_intercept=False,
        max_iter=100_000,
        random_state=0,
    )


def suboptimality(model, X, y, C, loss, reference):
    if loss == "crammer_singer":
        value = objective(X, y, model.coef_, C, loss)
    else:
        # one-vs-rest: the sum of the per-class binary objectives
        classes = np.unique(y)
        coef = np.atleast_2d(model.coef_)
        if len(classes) == 2:
            value = objective(X, (y == classes[1]).astype(int), coef[0], C, loss)
        else:
            value = sum(
                objective(X, (y == c).astype(int), coef[k], C, loss)
                for k, c in enumerate(classes)
            )
    return (value - reference) / reference


def reference(X, y, C, loss):
    if loss == "crammer_singer" or len(np.unique(y)) == 2:
        y2 = y if loss == "crammer_singer" else y
        return reference_optimum(X, y2, C, loss)[0]
    total = 0.0
    for c in np.unique(y):
        total += reference_optimum(X, (y == c).astype(int), C, loss)[0]
    return total


def time_to(runs, target):
    hits = [t for t, gap in runs if gap <= target]
    return min(hits) if hits else None


def sweep(make, tols, X, y, C, loss, ref, repeat):
    runs = []
    for tol in tols:
        seconds, model = timed_fit(partial(make, tol), X, y, repeat)
        runs.append((seconds, suboptimality(model, X, y, C, loss, ref)))
        if runs[-1][1] <= min(TARGETS):
            break
    return runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="*", default=DEFAULT_CASES)
    parser.add_argument("--solvers", nargs="*", default=("auto", "dual_cd"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        "| case | solver | "
        + " | ".join(f"ours / best LinearSVC @{t:g} (ratio)" for t in TARGETS)
        + " |"
    )
    print("|---|---|" + "---|" * len(TARGETS))
    for case in args.cases:
        name, loss, C = case.split(":")
        C = float(C)
        X, y = data(name)
        ref = reference(X, y, C, loss)
        duals = (True,) if loss != "squared_hinge" else (True, False)
        svc_runs = []
        for dual in duals:
            svc_runs += sweep(
                partial(svc, loss, C, dual=dual),
                SVC_TOLS,
                X,
                y,
                C,
                loss,
                ref,
                args.repeat,
            )
        for solver in args.solvers:
            runs = sweep(
                partial(ours, solver, loss, C),
                OUR_TOLS,
                X,
                y,
                C,
                loss,
                ref,
                args.repeat,
            )
            cells = []
            for target in TARGETS:
                a, b = time_to(runs, target), time_to(svc_runs, target)
                ratio = "—" if a is None or b is None else f"{a / b:.2f}"
                fa = "—" if a is None else f"{a:.3f}"
                fb = "—" if b is None else f"{b:.3f}"
                cells.append(f"{fa} / {fb} ({ratio})")
            print(f"| {case} | {solver} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
