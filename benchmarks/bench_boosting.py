"""Fully-corrective boosting against scikit-learn's gradient boosting.

Run: ``python benchmarks/bench_boosting.py`` (``--quick`` for a smoke run)

``HingeBoostingClassifier`` (its defaults, ``l2_regularization=0.1``,
``leaf_values="newton"``) against ``GradientBoostingClassifier`` (its
defaults: log loss, ``learning_rate=0.1``) and
``HistGradientBoostingClassifier`` (``early_stopping=False``), with the
same ``max_depth`` (1 and 3) and number of trees, on

* ``make_hastie_10_2``, n = 12,000: the first 2,000 samples train, the other
  10,000 test (Hastie, Tibshirani and Friedman's protocol), 400 trees;
* breast cancer, 5 stratified 70/30 splits, 200 trees;
* digits as a binary problem (digit >= 5), 3 stratified 70/30 splits, 200
  trees.

Test accuracy after each tree comes from ``staged_predict`` (averaged over
the splits); fit time is the wall time of ``fit`` summed over the splits,
divided by the number of trees fitted (ours stops adding trees when no tree
correlates with the functional gradient). Every model runs single-threaded
(``threadpool_limits(1)``: BLAS and OpenMP), the three fits of a split
back to back, after one warm-up fit each. Prints the markdown table and the
ratios; saves ``benchmarks/boosting_accuracy.png``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_hastie_10_2
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from hinge_estimators import HingeBoostingClassifier

HERE = Path(__file__).resolve().parent
CHECKPOINTS = [10, 25, 50, 100, 200, 400]
MODELS = ["ours", "GBC", "HGB"]


def datasets(quick):
    X, y = make_hastie_10_2(n_samples=12_000, random_state=1)
    yield "hastie_10_2", [(X[:2000], X[2000:], y[:2000], y[2000:])], 400
    X, y = load_breast_cancer(return_X_y=True)
    splits = [
        train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
        for seed in range(5)
    ]
    yield "breast cancer", [(a, b, c, d) for a, b, c, d in splits], 200
    X, y = load_digits(return_X_y=True)
    y = (y >= 5).astype(int)
    splits = [
        train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
        for seed in range(3)
    ]
    yield "digits (>= 5)", [(a, b, c, d) for a, b, c, d in splits], 200


def make(model, n_trees, depth):
    if model == "ours":
        return HingeBoostingClassifier(
            n_estimators=n_trees, max_depth=depth, random_state=0
        )
    if model == "GBC":
        return GradientBoostingClassifier(
            n_estimators=n_trees, max_depth=depth, random_state=0
        )
    return HistGradientBoostingClassifier(
        max_iter=n_trees, max_depth=depth, early_stopping=False, random_state=0
    )


def run(splits, n_trees, depth):
    """Accuracy after each tree (mean over splits), fit seconds, trees fitted."""
    curves = {m: [] for m in MODELS}
    seconds = dict.fromkeys(MODELS, 0.0)
    trees = dict.fromkeys(MODELS, 0)
    X, _, y, _ = splits[0]
    for model in MODELS:  # warm-up: imports, first calls
        make(model, 5, depth).fit(X, y)
    for X_train, X_test, y_train, y_test in splits:
        for model in MODELS:
            estimator = make(model, n_trees, depth)
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            seconds[model] += time.perf_counter() - start
            curve = [np.mean(p == y_test) for p in estimator.staged_predict(X_test)]
            trees[model] += len(curve)
            # a model that stopped early keeps its last accuracy
            curve += [curve[-1]] * (n_trees - len(curve))
            curves[model].append(curve)
    return {m: np.mean(curves[m], axis=0) for m in MODELS}, seconds, trees


def trees_to_reach(curve, target):
    """Fewest trees whose test accuracy is at least ``target`` (None if never)."""
    hits = np.flatnonzero(curve >= target - 1e-12)
    return int(hits[0]) + 1 if len(hits) else None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args()
    depths = (1,) if args.quick else (1, 3)
    rows, ratios, plots = [], [], []
    with threadpool_limits(limits=1):
        for name, splits, n_trees in datasets(args.quick):
            if args.quick:
                splits, n_trees = splits[:1], 20
            for depth in depths:
                curves, seconds, trees = run(splits, n_trees, depth)
                plots.append((name, depth, curves))
                checkpoints = [c for c in CHECKPOINTS if c <= n_trees]
                per_tree = {m: seconds[m] / trees[m] for m in MODELS}
                gbc_final = curves["GBC"][-1]
                for model in MODELS:
                    accuracy = " | ".join(
                        f"{curves[model][c - 1]:.4f}" if c <= n_trees else "-"
                        for c in CHECKPOINTS
                    )
                    reach = trees_to_reach(curves[model], gbc_final)
                    rows.append(
                        f"| {name} | {depth} | {model} | {accuracy} | "
                        f"{seconds[model]:.2f} | {1e3 * per_tree[model]:.2f} | "
                        f"{per_tree[model] / per_tree['GBC']:.2f} | "
                        f"{reach if reach is not None else '-'} |"
                    )
                # means over splits of the same counts can differ by rounding
                wins = [
                    curves["ours"][c - 1] >= curves["GBC"][c - 1] - 1e-9
                    for c in checkpoints
                ]
                ratios.append(
                    (name, depth, per_tree["ours"] / per_tree["GBC"], wins, checkpoints)
                )
    print(
        "| data | depth | model | "
        + " | ".join(f"acc @{c}" for c in CHECKPOINTS)
        + " | fit s | ms / tree | per tree / GBC | trees to GBC's final acc |"
    )
    print("|---" * (len(CHECKPOINTS) + 7) + "|")
    for row in rows:
        print(row)
    print()
    for name, depth, ratio, wins, checkpoints in ratios:
        lost = [c for c, w in zip(checkpoints, wins, strict=True) if not w]
        print(
            f"{name}, depth {depth}: fit time per tree ours / GBC = {ratio:.2f}; "
            f"accuracy >= GBC at {sum(wins)}/{len(wins)} checkpoints"
            + (f" (below at {lost} trees)" if lost else "")
        )
    plot(plots, HERE / "boosting_accuracy.png")


def plot(plots, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(name for name, _, _ in plots))
    depths = sorted({depth for _, depth, _ in plots})
    fig, axes = plt.subplots(
        len(depths),
        len(names),
        figsize=(4.5 * len(names), 3.4 * len(depths)),
        squeeze=False,
    )
    styles = {"ours": "C3", "GBC": "C0", "HGB": "C2"}
    labels = {
        "ours": "HingeBoostingClassifier",
        "GBC": "GradientBoostingClassifier",
        "HGB": "HistGradientBoostingClassifier",
    }
    for name, depth, curves in plots:
        ax = axes[depths.index(depth), names.index(name)]
        for model, curve in curves.items():
            ax.plot(
                np.arange(1, len(curve) + 1), curve, styles[model], label=labels[model]
            )
        ax.set_xscale("log")
        ax.set_title(f"{name}, max_depth={depth}")
        ax.set_xlabel("number of trees")
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
