"""All-pairs squared hinge: O(n log n) scaling, naive speed-up, test ROC AUC.

Run: ``python benchmarks/bench_pairwise.py`` (add ``--quick`` for a smoke run)

1. Time of one value + gradient of ``PairwiseSquaredHinge`` (and of the
   O(n log n) ``PairwiseSmoothHinge`` and the O(n) ``PairwiseSquare``) on
   random scores, half positives, unit weights, for n
   from 1e3 to 1e6; best of several repeats. Prints the slope of a log-log
   fit and saves ``benchmarks/pairwise_scaling.png``.
2. Speed-up over a naive O(n^2) numpy implementation written here (the
   (positive x negative) matrix of violations, by broadcasting, in chunks of
   positives) at n = 5000 (and around it), after checking that both give the
   same numbers.
3. Test ROC AUC on ``make_classification`` (n = 20000, 20 features, 1 % and
   0.1 % positives, ``flip_y=0.001``, stratified half/half split, 10
   seeds, ``StandardScaler``): ``HingeClassifier(loss="pairwise_squared_hinge")``
   and ``HingeClassifier(loss="pairwise_smooth_hinge")`` (robust to the
   flipped labels) against ``HingeClassifier(loss="hinge")``, ``LinearSVC()`` and
   ``LinearSVC(class_weight="balanced")``, all with ``C=1``, and again with C
   picked per model by a 3-fold CV on ROC AUC over {0.01, 0.1, 1, 10}.
4. Which solver ``solver="auto"`` should pick for the pairwise squared hinge:
   fit time and relative suboptimality (against a ``tol=1e-12`` Newton fit) of
   ``newton``, ``lbfgs`` and ``gd`` at the default ``tol`` and of ``lbfgs`` at
   ``tol=1e-8``, on dense and sparse data.

Prints markdown tables.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import (
    PairwiseSmoothHinge,
    PairwiseSquare,
    PairwiseSquaredHinge,
)

HERE = Path(__file__).resolve().parent


def best_time(fn, min_repeats=3, budget=1.0):
    """Best wall time of ``fn()`` over at least ``min_repeats`` calls."""
    times = []
    start = time.perf_counter()
    while len(times) < min_repeats or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 50:
            break
    return min(times)


def random_problem(n, seed=0, positive_fraction=0.5):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < positive_fraction, 1.0, -1.0)
    scores = rng.normal(size=n) + 0.5 * y  # overlapping classes: many active pairs
    return y, scores


# ----------------------------------------------------------------- 1. scaling
def scaling(sizes):
    hinge, square, smooth = (
        PairwiseSquaredHinge(),
        PairwiseSquare(),
        PairwiseSmoothHinge(),
    )
    rows = []
    for n in sizes:
        y, s = random_problem(n)
        t_hinge = best_time(lambda y=y, s=s: hinge.pair_loss_gradient(y, s))
        t_square = best_time(lambda y=y, s=s: square.pair_loss_gradient(y, s))
        t_smooth = best_time(lambda y=y, s=s: smooth.pair_loss_gradient(y, s))
        rows.append((n, t_hinge, t_square, t_smooth))
    n, t_hinge, t_square, t_smooth = (
        np.array(c, dtype=float) for c in zip(*rows, strict=True)
    )
    big = n >= 1e4  # below that, fixed per-call overhead dominates
    slope = np.polyfit(np.log(n[big]), np.log(t_hinge[big]), 1)[0]
    slope_all = np.polyfit(np.log(n), np.log(t_hinge), 1)[0]
    slope_sq = np.polyfit(np.log(n[big]), np.log(t_square[big]), 1)[0]
    slope_smooth = np.polyfit(np.log(n[big]), np.log(t_smooth[big]), 1)[0]
    # what an n log n law predicts for the same range, as a log-log slope
    nlogn = n * np.log(n)
    slope_nlogn = np.polyfit(np.log(n[big]), np.log(nlogn[big]), 1)[0]
    # past the caches (n >= 1e5) the memory hierarchy stops adding to it
    top = n >= 1e5
    if top.sum() >= 2:
        fits = [
            np.polyfit(np.log(n[top]), np.log(t[top]), 1)[0] for t in (t_hinge, nlogn)
        ]
        above = f"For n >= 1e5: squared hinge {fits[0]:.3f}, n log n {fits[1]:.3f}. "
    else:  # --quick stops below 1e5
        above = ""

    print("\n## 1. value + gradient time vs n (half positives, best of repeats)\n")
    print("| n | squared hinge (s) | ns / (n log2 n) | smooth hinge (s) | square (s) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for ni, th, ts, tm in rows:
        per = 1e9 * th / (ni * np.log2(ni))
        print(f"| {ni:,} | {th:.4g} | {per:.2f} | {tm:.4g} | {ts:.4g} |")
    print(
        f"\nlog-log slope, squared hinge: {slope:.3f} for n >= 1e4 "
        f"({slope_all:.3f} over all n); an n log n law gives {slope_nlogn:.3f} "
        f"over n >= 1e4. Square loss (O(n)): {slope_sq:.3f}, so about "
        f"{slope_sq - 1:.2f} of each slope is the memory hierarchy, not the "
        f"algorithm. {above}Smooth hinge (O(n log n)): {slope_smooth:.3f} for "
        "n >= 1e4."
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.loglog(n, t_hinge, "o-", label="pairwise_squared_hinge (sort + sweep)")
    ax.loglog(n, t_smooth, "^-", label="pairwise_smooth_hinge (two merges)")
    ax.loglog(n, t_square, "s-", label="pairwise_square (O(n))")
    ref = t_hinge[-1] * nlogn / nlogn[-1]
    ax.loglog(n, ref, "k--", lw=1, label="c n log n")
    ax.loglog(n, t_hinge[-1] * n / n[-1], "k:", lw=1, label="c n")
    ax.set_xlabel("n (samples)")
    ax.set_ylabel("value + gradient time (s)")
    ax.set_title(f"All-pairs losses: log-log slope {slope:.2f} (n >= 1e4)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = HERE / "pairwise_scaling.png"
    fig.savefig(path, dpi=120)
    print(f"figure: {path.relative_to(HERE.parent)}")
    return rows, slope


# ------------------------------------------------------------ 2. naive O(n^2)
def naive_value_gradient(y, s, margin=1.0, chunk=512):
    """The squared hinge over all pairs, by broadcasting (O(n^2) work)."""
    pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    sp_, sn = s[pos], s[neg]
    factor = len(y) / (len(pos) * len(neg))
    value = 0.0
    grad = np.zeros_like(s)
    grad_neg = np.zeros(len(neg))
    for start in range(0, len(pos), chunk):
        block = slice(start, start + chunk)
        d = np.maximum(margin - (sp_[block, None] - sn[None, :]), 0.0)
        value += np.sum(d * d)
        grad[pos[block]] = -2.0 * factor * d.sum(axis=1)
        grad_neg += 2.0 * factor * d.sum(axis=0)
    grad[neg] = grad_neg
    return factor * value, grad


def naive_speedup(sizes=(2_000, 5_000, 10_000, 20_000), target=5_000):
    loss = PairwiseSquaredHinge()
    print("\n## 2. speed-up over the naive O(n^2) numpy version (half positives)\n")
    print(
        "| n | naive (s) | sort + sweep (s) | speed-up | value rel. diff | grad diff |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    speedups = {}
    for n in sizes:
        y, s = random_problem(n, seed=1)
        fast_value, fast_grad = loss.pair_loss_gradient(y, s)
        slow_value, slow_grad = naive_value_gradient(y, s)
        rel_value = abs(fast_value - slow_value) / slow_value
        rel_grad = np.abs(fast_grad - slow_grad).max() / np.abs(slow_grad).max()
        t_fast = best_time(lambda y=y, s=s: loss.pair_loss_gradient(y, s))
        t_slow = best_time(lambda y=y, s=s: naive_value_gradient(y, s))
        speedups[n] = t_slow / t_fast
        mark = "**" if n == target else ""
        print(
            f"| {mark}{n:,}{mark} | {t_slow:.4g} | {t_fast:.4g} | "
            f"{mark}{speedups[n]:.0f}x{mark} | {rel_value:.1e} | {rel_grad:.1e} |"
        )
    print(
        "\nnaive: the (positive x negative) violation matrix by broadcasting, in "
        "chunks of 512 positives; grad diff = max abs difference / max abs entry"
    )
    return speedups


# ------------------------------------------------------------------- 3. AUC
def models(cv):
    def tuned(estimator, key):
        if not cv:
            return estimator
        grid = {f"{key}__C": [0.01, 0.1, 1.0, 10.0]}
        folds = StratifiedKFold(3, shuffle=True, random_state=0)
        return GridSearchCV(estimator, grid, scoring="roc_auc", cv=folds)

    def pipe(clf, name):
        return tuned(make_pipeline(StandardScaler(), clf), name)

    return {
        "HingeClassifier(pairwise_squared_hinge)": pipe(
            HingeClassifier(loss="pairwise_squared_hinge", C=1.0), "hingeclassifier"
        ),
        "HingeClassifier(pairwise_smooth_hinge)": pipe(
            HingeClassifier(loss="pairwise_smooth_hinge", C=1.0), "hingeclassifier"
        ),
        "HingeClassifier(hinge)": pipe(
            HingeClassifier(loss="hinge", C=1.0, random_state=0), "hingeclassifier"
        ),
        "LinearSVC()": pipe(LinearSVC(C=1.0, random_state=0), "linearsvc"),
        "LinearSVC(class_weight='balanced')": pipe(
            LinearSVC(C=1.0, class_weight="balanced", random_state=0), "linearsvc"
        ),
    }


def auc_table(n, seeds, positive_rates, cv):
    results = {}  # (rate, model) -> list of (auc, seconds)
    for rate in positive_rates:
        for seed in seeds:
            X, y = make_classification(
                n_samples=n,
                n_features=20,
                n_informative=5,
                n_redundant=5,
                weights=[1.0 - rate],
                flip_y=0.001,
                class_sep=1.0,
                random_state=seed,
            )
            X_tr, X_te, y_tr, y_te = train_test_split(
                X, y, test_size=0.5, stratify=y, random_state=seed
            )
            for name, model in models(cv).items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    t0 = time.perf_counter()
                    model.fit(X_tr, y_tr)
                    elapsed = time.perf_counter() - t0
                auc = roc_auc_score(y_te, model.decision_function(X_te))
                results.setdefault((rate, name), []).append((auc, elapsed))
    title = "C picked by 3-fold CV on ROC AUC" if cv else "C = 1 for every model"
    print(
        f"\n## 3. test ROC AUC, make_classification n = {n:,}, 20 features, "
        f"{len(seeds)} seeds, {title}\n"
    )
    print(
        "| positives | model | mean AUC | std | squared-hinge pairwise minus model "
        "(± s.e.) | smooth-hinge pairwise minus model (± s.e.) | "
        "best-or-tied on seeds | fit time (s) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rate in positive_rates:
        names = [name for (r, name) in results if r == rate]
        aucs = np.array([[a for a, _ in results[(rate, nm)]] for nm in names])
        best = aucs.max(axis=0)
        for k, name in enumerate(names):
            runs = results[(rate, name)]
            wins = int(np.sum(aucs[k] >= best - 1e-12))
            paired = [
                _paired(aucs[row], aucs[k]) if row != k else "—" for row in (0, 1)
            ]
            print(
                f"| {rate:.1%} | {name} | {aucs[k].mean():.4f} | {aucs[k].std():.4f}"
                f" | {paired[0]} | {paired[1]} | {wins}/{len(seeds)} | "
                f"{np.mean([t for _, t in runs]):.2f} |"
            )
    return results


def _paired(ours, theirs):
    """Mean paired difference over seeds, with its standard error."""
    diff = ours - theirs
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0.0
    return f"{diff.mean():+.4f} ± {se:.4f}"


# ---------------------------------------------------------- 4. solver choice
def solver_data(quick):
    n = 5_000 if quick else 20_000
    X, y = make_classification(
        n_samples=n,
        n_features=20,
        n_informative=5,
        n_redundant=5,
        weights=[0.99],
        flip_y=0.001,
        random_state=0,
    )
    yield f"dense {n}x20, 1 % positives", StandardScaler().fit_transform(X), y
    n = 10_000 if quick else 100_000
    X, y = make_classification(
        n_samples=n, n_features=100, n_informative=20, weights=[0.9], random_state=1
    )
    yield f"dense {n}x100, 10 % positives", StandardScaler().fit_transform(X), y
    rng = np.random.default_rng(0)
    X = sp.random(20_000, 2_000, density=0.01, random_state=0, format="csr")
    y = (X @ rng.normal(size=2_000) + 0.3 * rng.normal(size=20_000) > 0.5).astype(int)
    yield f"sparse 20000x2000 (1 % dense), {y.mean():.0%} positives", X, y


def solver_table(quick):
    runs = [("newton", 1e-4), ("lbfgs", 1e-4), ("lbfgs", 1e-8), ("gd", 1e-4)]
    print("\n## 4. solvers on the pairwise squared hinge (best of 2 fits)\n")
    header = " | ".join(f"{name} tol={tol:g}" for name, tol in runs)
    print(f"| data | C | {header} |")
    print("| --- | ---: |" + " ---: |" * len(runs))
    for name, X, y in solver_data(quick):
        for C in (1.0, 100.0):
            ref = HingeClassifier(
                loss="pairwise_squared_hinge", solver="newton", C=C, tol=1e-12
            ).fit(X, y)
            cells = []
            for solver, tol in runs:
                best = np.inf
                for _ in range(2):
                    clf = HingeClassifier(
                        loss="pairwise_squared_hinge", solver=solver, C=C, tol=tol
                    )
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        t0 = time.perf_counter()
                        clf.fit(X, y)
                        best = min(best, time.perf_counter() - t0)
                gap = (clf.objective_value_ - ref.objective_value_) / abs(
                    ref.objective_value_
                )
                cells.append(f"{best:.3f} s, {max(gap, 0.0):.0e}")
            print(f"| {name} | {C:g} | " + " | ".join(cells) + " |")
    print("\ncells: fit time, relative suboptimality (P - P*) / P* of the fit")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    args = parser.parse_args()
    sizes = [1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]
    seeds = list(range(10))
    n_auc = 20_000
    if args.quick:
        sizes, seeds, n_auc = sizes[:4], seeds[:2], 5_000
    with threadpool_limits(limits=1, user_api="blas"):
        scaling(sizes)
        naive_speedup((1_000, 2_000) if args.quick else (2_000, 5_000, 10_000, 20_000))
        auc_table(n_auc, seeds, [0.01, 0.001], cv=False)
        auc_table(n_auc, seeds, [0.01, 0.001], cv=True)
        solver_table(args.quick)


if __name__ == "__main__":
    main()
