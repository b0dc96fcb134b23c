"""Hard hinge problems that LIBLINEAR fails too: does our default fit certify?

Three families of generated data where dual coordinate descent (ours and
LIBLINEAR's) crawls: the hinge with the default tol and max_iter, solver
"auto" (``dual_cd`` here), against ``LinearSVC(loss="hinge")`` on the same
data (LIBLINEAR penalizes its intercept: a different objective, so only
whether it warns and its time are shown).

* ``one_hot``: categorical rows as one-hot CSR blocks (each block sums to
  1: rank ``positions * (levels - 1) + 1``), labels from a sparse rule plus
  noise; 7 shapes x 2 data seeds x C in {0.2, 0.6, 2, 6} x 2 pass orders.
* ``counts``: sparse Poisson counts at 5 % non-zeros, nearly separable;
  5 shapes (600 x 150 to 2,000 x 500) x 2 seeds x C in {0.3, 1, 3}.
* ``one_hot_paths``: ``hinge_path`` over C in ``logspace(-1, 3, 7)`` on
  noise-free one-hot rows (300 x 180), three classes one-vs-rest, no
  intercept; 30 seeds; a path counts as failed if any point warns.

Run (from the repository root, OpenBLAS at its defaults)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/bench_hard_hinge.py

``--families one_hot,counts`` picks families; ``--no-liblinear`` skips
LinearSVC. Times are CPU seconds of the whole family (one thread).
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from hinge_estimators import HingeClassifier, hinge_path

FAMILIES = ("one_hot", "counts", "one_hot_paths")


def one_hot(n, positions, levels, seed, noise):
    """One-hot CSR rows and scores from a sparse random rule plus noise."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(levels, size=(n, positions))
    columns = (np.arange(positions) * levels + codes).ravel()
    X = sp.csr_matrix(
        (np.ones(n * positions), (np.repeat(np.arange(n), positions), columns)),
        shape=(n, positions * levels),
    )
    rule = rng.normal(size=positions * levels)
    rule *= rng.random(positions * levels) < 0.2
    return X, X @ rule + noise * rng.normal(size=n)


def counts(n, d, seed):
    """Sparse Poisson counts (5 %), labels from a dense rule plus noise."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n, d, density=0.05, random_state=seed,
        data_rvs=lambda size: rng.poisson(2, size) + 1.0,
    ).tocsr()  # fmt: skip
    score = X @ rng.normal(size=d) + 2.0 * rng.normal(size=n)
    return X, (score > np.median(score)).astype(int)


def binary_cases(family):
    """``(label, X, y, C, pass order)`` of a family of single fits."""
    if family == "one_hot":
        shapes = [
            (1500, 40, 4, 3.0), (1200, 60, 4, 3.0), (800, 60, 4, 5.0),
            (3000, 60, 4, 2.0), (2000, 20, 8, 3.0), (1000, 30, 6, 2.0),
            (2500, 50, 3, 4.0),
        ]  # fmt: skip
        for n, positions, levels, noise in shapes:
            for seed in (0, 1):
                X, score = one_hot(n, positions, levels, seed, noise)
                y = (score > np.median(score)).astype(int)
                for C in (0.2, 0.6, 2.0, 6.0):
                    for order in (0, 1):
                        label = f"{n}x{positions * levels} seed {seed}"
                        yield label, X, y, C, order
    else:
        for n, d in [(2000, 500), (1500, 400), (1000, 300), (800, 200), (600, 150)]:
            for seed in (0, 1):
                X, y = counts(n, d, seed)
                for C in (0.3, 1.0, 3.0):
                    yield f"{n}x{d} seed {seed}", X, y, C, 0


def fit_warns(estimator, X, y):
    """``(fitted, warned)``: whether the fit raised a ConvergenceWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(X, y)
    return estimator, any(issubclass(w.category, ConvergenceWarning) for w in caught)


def run_binary(family, liblinear):
    ours_failed, theirs_failed, total = [], 0, 0
    ours_time = theirs_time = 0.0
    for label, X, y, C, order in binary_cases(family):
        total += 1
        start = time.process_time()
        clf, warned = fit_warns(
            HingeClassifier(loss="hinge", C=C, random_state=order), X, y
        )
        ours_time += time.process_time() - start
        if warned or clf.optimality_ > clf.tol:
            ours_failed.append(f"{label} C={C:g} order {order}: {clf.optimality_:.1e}")
        if liblinear:
            start = time.process_time()
            _, warned = fit_warns(
                LinearSVC(loss="hinge", C=C, random_state=order), X, y
            )
            theirs_time += time.process_time() - start
            theirs_failed += warned
    row = f"| {family} | {total} | {len(ours_failed)} | {ours_time:.2f} |"
    if liblinear:
        row += f" {theirs_failed} | {theirs_time:.2f} |"
    return row, ours_failed


def run_paths(liblinear):
    failed, total, ours_time = [], 0, 0.0
    for seed in range(30):
        X, score = one_hot(300, 60, 3, seed, 0.0)
        rng = np.random.default_rng(100 + seed)
        y = np.where(score > np.median(score), rng.integers(0, 3, 300), 0)
        total += 1
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            path = hinge_path(
                X, y, Cs=np.logspace(-1, 3, 7), loss="hinge", solver="dual_cd",
                fit_intercept=False, random_state=0,
            )  # fmt: skip
        ours_time += time.process_time() - start
        if not path.converged.all():
            worst = float(path.optimality.max())
            failed.append(f"seed {seed}: worst point {worst:.1e}")
    row = f"| one_hot_paths | {total} | {len(failed)} | {ours_time:.2f} |"
    if liblinear:
        row += " (no path) | |"
    return row, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--no-liblinear", action="store_true")
    args = parser.parse_args()
    liblinear = not args.no_liblinear
    header = "| family | fits | ours uncertified | ours CPU s |"
    rule = "|---|---|---|---|"
    if liblinear:
        header += " LinearSVC warned | LinearSVC CPU s |"
        rule += "---|---|"
    print(header)
    print(rule)
    details = []
    for family in args.families.split(","):
        if family == "one_hot_paths":
            row, failed = run_paths(liblinear)
        else:
            row, failed = run_binary(family, liblinear)
        print(row, flush=True)
        details += [f"{family}: {line}" for line in failed]
    for line in details:
        print("  uncertified:", line)


if __name__ == "__main__":
    main()
