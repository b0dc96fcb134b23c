"""
Ranking rare positives: all-pairs losses
========================================

When one class is rare, accuracy says little and the ROC AUC, the fraction of
(positive, negative) pairs ranked the right way, is what users look at. The
pairwise losses of this package are convex relaxations of ``1 - AUC``: a sum
over *all* pairs, computed in O(n log n) by one sort and running sums instead
of the O(n^2) pairs.

First: the per-pair cost of each loss against the pair's score difference.
The squared hinge (Rust and Hocking) grows quadratically with a pair's
violation; the smoothed hinge (``pairwise_smooth_hinge``) is quadratic only
on a band of width ``gamma`` and linear beyond it.

Second: test ROC curves on data with 1 % positives and a few flipped labels.
A mislabelled sample is paired with every sample of the other class, so the
squared hinge turns towards it with a force that grows with how badly it is
ranked; the smoothed hinge bounds that force. Both are compared with a
per-sample linear SVM with balanced class weights, the usual answer to
imbalance. One seed proves little: ``benchmarks/bench_pairwise.py`` repeats
this over 10 seeds (table 3 of ``benchmarks/RESULTS.md``), where both pairwise
losses tie with the balanced per-sample SVM within 0.0013 AUC, and
:ref:`sphx_glr_auto_examples_plot_imbalanced.py` shows, with error bars,
what the pairwise loss buys and when it does not.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import PairwiseSmoothHinge, PairwiseSquaredHinge

# %%
# The per-pair costs: one positive at score ``t`` and one negative at 0. The
# loss of that single pair is normalised by ``W / (W_P W_N) = 2 / 1``, so
# dividing by 2 gives the cost of the pair itself.
t = np.linspace(-2.0, 2.0, 401)
y = np.array([1.0, -1.0])
fig, left = plt.subplots(figsize=(5.5, 4))
for loss in (PairwiseSquaredHinge(), PairwiseSmoothHinge(gamma=1.0)):
    cost = [loss.pair_loss(y, np.array([ti, 0.0])) / 2.0 for ti in t]
    left.plot(t, cost, label=type(loss).__name__)
left.set_xlabel("score of the positive minus score of the negative")
left.set_ylabel("cost of the pair")
left.set_ylim(-0.2, 5.0)
left.set_title("Per-pair cost (margin 1)")
left.legend()
fig.tight_layout()
plt.show()

# %%
# Rare positives with 0.5 % of the labels flipped at random.
X, y = make_classification(
    n_samples=20_000,
    n_features=20,
    n_informative=5,
    n_redundant=5,
    weights=[0.99],
    flip_y=0.005,
    random_state=3,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=3
)
fig, right = plt.subplots(figsize=(6, 4.5))
models = {
    "pairwise_squared_hinge": HingeClassifier(loss="pairwise_squared_hinge"),
    "pairwise_smooth_hinge": HingeClassifier(loss="pairwise_smooth_hinge"),
    "LinearSVC(class_weight='balanced')": LinearSVC(class_weight="balanced"),
}
for name, model in models.items():
    model = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
    scores = model.decision_function(X_test)
    auc = roc_auc_score(y_test, scores)
    fpr, tpr, _ = roc_curve(y_test, scores)
    right.plot(fpr, tpr, label=f"{name}: AUC {auc:.4f}")
    print(f"{name:36s} test ROC AUC {auc:.4f}")
right.plot([0, 1], [0, 1], color="0.7", linestyle=":")
right.set_xlabel("false positive rate")
right.set_ylabel("true positive rate")
right.set_title(f"Test ROC, {y_train.sum()} positives in {y_train.size} samples")
right.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# The three ROC curves lie on top of each other: with balanced class weights
# a per-sample SVM ranks these rare positives as well as the all-pairs losses
# do. What the pairwise losses buy is shown in
# :ref:`sphx_glr_auto_examples_plot_imbalanced.py`.
