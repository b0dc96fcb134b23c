"""
Imbalanced data: what the pairwise loss buys, and when it does not
==================================================================

With rare positives, the ROC AUC (the fraction of (positive, negative) pairs
ranked the right way) is what users look at. Three ways to train a linear
model for it:

* a per-sample hinge or squared hinge, as is (``loss="hinge"``,
  ``HingeClassifier()``): every sample counts once, so the rare class weighs
  little in the objective;
* the same with ``class_weight="balanced"``: each class weighs half;
* an all-pairs loss, ``loss="pairwise_squared_hinge"``: a convex surrogate of
  ``1 - AUC`` over all (positive, negative) pairs, balanced by construction.

Each is fitted on ``make_classification`` sets with 50 %, 10 %, 2 % and 0.5 %
positives, 10 seeds each (a new data set and split per seed), ``C=1``,
standardized features. The left panel shows the mean test ROC AUC with its
standard deviation over the seeds; the right panel the *paired* difference
of the pairwise loss against each per-sample model on the same seed, with
the standard error of the mean difference.

What it shows: against the unweighted losses, the pairwise loss gains AUC as
soon as the positives are rare: 0.01 to 0.025 against the squared hinge, and
a lot against the hinge, whose optimum on many of these sets is
``coef_ = 0`` with the intercept at -1 (every negative exactly on its
margin, no direction that pays for itself; the script counts these fits):
that model predicts the majority class and its AUC is noise, hence the
hinge's huge spread;
against ``class_weight="balanced"`` it gains nothing measurable at any rate;
and on balanced data all four rank alike. ``benchmarks/bench_pairwise.py`` (table 3 of
``benchmarks/RESULTS.md``) finds the same on 20,000 samples with ``C`` tuned
by cross-validation. Reach for the pairwise loss when the AUC is the
objective and you want no class weights to choose (or a ranking with a
``pairwise_smooth_hinge`` that mislabelled positives cannot drag); reach for
``class_weight="balanced"`` when a per-sample model (``dual_cd``, ``sgd`` on
a stream, one-vs-rest multiclass) is what you need.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hinge_estimators import HingeClassifier

rates = [0.5, 0.1, 0.02, 0.005]
seeds = range(10)
models = {
    # a few of these sets need more than the default 1000 passes of dual_cd
    "hinge": HingeClassifier(loss="hinge", max_iter=10_000),
    "squared_hinge": HingeClassifier(),
    "squared_hinge, balanced": HingeClassifier(class_weight="balanced"),
    "pairwise_squared_hinge": HingeClassifier(loss="pairwise_squared_hinge"),
}
auc = {name: np.zeros((len(rates), len(seeds))) for name in models}
trivial = np.zeros(len(rates), dtype=int)  # hinge fits whose optimum is w = 0
for r, rate in enumerate(rates):
    for s in seeds:
        X, y = make_classification(
            n_samples=10_000,
            n_features=20,
            n_informative=5,
            n_redundant=5,
            weights=[1 - rate],
            flip_y=0.001,
            class_sep=0.8,
            random_state=s,
        )
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.5, stratify=y, random_state=s
        )
        for name, model in models.items():
            fitted = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
            auc[name][r, s] = roc_auc_score(y_test, fitted.decision_function(X_test))
            if name == "hinge":
                trivial[r] += np.abs(fitted[-1].coef_).max() < 1e-6

for r, rate in enumerate(rates):
    row = ", ".join(f"{name} {auc[name][r].mean():.4f}" for name in models)
    print(f"{rate:6.1%} positives: mean test AUC {row}")
    print(f"        hinge fits with coef_ = 0: {trivial[r]} of {len(seeds)}")

# %%
# Mean AUC over the seeds (left) and the paired differences (right).

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
x = np.arange(len(rates))
for k, (name, values) in enumerate(auc.items()):
    left.errorbar(
        x + (k - 1.5) * 0.06,
        values.mean(axis=1),
        yerr=values.std(axis=1),
        marker="o",
        capsize=3,
        label=name,
    )
left.set_xticks(x, [f"{rate:.1%}" for rate in rates])
left.set_xlabel("fraction of positives")
left.set_ylabel("test ROC AUC (mean ± std over 10 seeds)")
left.set_title("Test AUC")
left.legend(fontsize=8)

pairwise = auc["pairwise_squared_hinge"]
for k, name in enumerate(["hinge", "squared_hinge", "squared_hinge, balanced"]):
    diff = pairwise - auc[name]
    right.errorbar(
        x + (k - 1) * 0.08,
        diff.mean(axis=1),
        yerr=diff.std(axis=1, ddof=1) / np.sqrt(diff.shape[1]),
        marker="o",
        capsize=3,
        label=f"pairwise minus {name}",
    )
right.axhline(0.0, color="0.5", linewidth=1)
right.set_xticks(x, [f"{rate:.1%}" for rate in rates])
right.set_xlabel("fraction of positives")
right.set_ylabel("AUC difference (mean ± s.e., paired by seed)")
right.set_title("What the pairwise loss buys")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()
