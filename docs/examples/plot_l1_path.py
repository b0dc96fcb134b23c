"""
The L1 regularization path of a sparse linear SVM
=================================================

``HingeClassifier(penalty="l1")`` minimizes
:math:`\\|w\\|_1 + C \\sum_i \\ell(y_i, x_i w + b)` (the squared hinge here,
``LinearSVC(penalty="l1")``'s problem). The penalty's strength is fixed and
``C`` weighs the loss, so a small ``C`` keeps few features: below the critical
value :math:`C_0 = 1 / \\|X^\\top g\\|_\\infty` (``g`` the loss gradient with
every coefficient at 0 and the intercept fitted) the model is the intercept
alone, and features enter one after another as ``C`` grows.

On the standardized breast cancer data (30 features), the top panel follows
each coefficient along a grid of ``C`` from :math:`C_0 / 2` up (log scale);
coefficients are exactly 0 until their feature enters. The bottom panel counts
the non-zero coefficients, ``np.count_nonzero(clf.coef_)`` (not monotone: a
feature can leave the model again when a correlated one enters), and shows
the accuracy on held-out data: with about six features the model already
classifies as well as with the 18 or so it keeps at the largest ``C``.

The path is computed with warm starts, each fit starting from the previous
solution (``warm_start=True``).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from hinge_estimators import HingeClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# the critical C: with w = 0 the intercept b minimizes sum_i (1 - y_i b)_+^2,
# whose solution is the one where the hinge is active on both classes
signs = np.where(y_train == 1, 1.0, -1.0)
n_pos, n_neg = np.sum(signs > 0), np.sum(signs < 0)
b = (n_pos - n_neg) / (n_pos + n_neg)  # the squared hinge's minimizer, |b| < 1
slope = -2.0 * signs * np.maximum(1.0 - signs * b, 0.0)
C0 = 1.0 / np.abs(X_train.T @ slope).max()

Cs = C0 * np.logspace(-0.3, 3, 40)
clf = HingeClassifier(penalty="l1", warm_start=True, tol=1e-6, max_iter=10_000)
coefs, n_nonzero, accuracy = [], [], []
for C in Cs:
    clf.set_params(C=C).fit(X_train, y_train)
    coefs.append(clf.coef_.ravel().copy())
    n_nonzero.append(np.count_nonzero(clf.coef_))
    accuracy.append(clf.score(X_test, y_test))
coefs = np.array(coefs)

fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
top.plot(Cs, coefs, linewidth=1)
top.axvline(C0, color="0.5", linestyle=":", linewidth=1)
top.annotate(r"$C_0$", (C0, top.get_ylim()[1]), ha="right", va="top")
top.set_xscale("log")
top.set_ylabel("coefficient")
top.set_title("L1 regularization path, squared hinge (breast cancer)")

bottom.step(Cs, n_nonzero, where="post", color="C0")
bottom.set_ylabel("non-zero coefficients", color="C0")
bottom.set_xlabel("C")
bottom.set_ylim(0, X.shape[1] + 1)
twin = bottom.twinx()
twin.plot(Cs, accuracy, color="C3", marker=".", linewidth=1)
twin.set_ylabel("held-out accuracy", color="C3")
twin.set_ylim(0.5, 1.0)
fig.tight_layout()
plt.show()
