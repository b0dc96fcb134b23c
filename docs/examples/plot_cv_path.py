"""
Choosing C: the validation curve and the coefficient path
=========================================================

:class:`~hinge_estimators.HingeClassifierCV` picks ``C`` by cross-validation
the way ``GridSearchCV(HingeClassifier(), {"C": Cs})`` does -- same folds,
same scores, same chosen ``C`` -- but solves each training fold along the
whole grid at once, each ``C`` warm-started from the solution at the previous
one (:func:`~hinge_estimators.hinge_path`). Its default grid starts where the
model starts to move (the largest score has moved by the margin) and spans
six decades.

On the breast cancer set (standardized), the validation curve shows the mean
accuracy over five folds with one standard deviation either side, and the
path shows every coefficient of the squared-hinge SVM as ``C`` grows: all of
them grow together from 0 at first (for small ``C`` the solution is ``C``
times a fixed direction), then bend apart as samples leave the margin.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from hinge_estimators import HingeClassifierCV, hinge_path

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)

clf = HingeClassifierCV(Cs=20, loss="squared_hinge").fit(X, y)
results = clf.cv_results_
mean, std = results["mean_test_score"], results["std_test_score"]
print(f"chosen C = {clf.C_:.3g}, mean CV accuracy {mean[clf.best_index_]:.4f}")

path = hinge_path(X, y, clf.Cs_, loss="squared_hinge")

fig, (curve, coefs) = plt.subplots(1, 2, figsize=(11, 4.2))
curve.semilogx(clf.Cs_, mean, marker="o", ms=3, label="mean over 5 folds")
curve.fill_between(clf.Cs_, mean - std, mean + std, alpha=0.25, label="± 1 std")
curve.axvline(clf.C_, color="k", ls="--", lw=1, label=f"C_ = {clf.C_:.3g}")
curve.set(xlabel="C", ylabel="accuracy", title="Validation curve")
curve.legend(loc="lower right")

coefs.semilogx(path.Cs, path.coefs[:, 0, :], lw=1)
coefs.axvline(clf.C_, color="k", ls="--", lw=1)
coefs.axhline(0.0, color="0.6", lw=0.5)
coefs.set(xlabel="C", ylabel="coefficient")
coefs.set_title("Coefficient path (squared hinge, L2)")
fig.tight_layout()
plt.show()

# %%
# Every point of the path comes with the solver's certificate:
# ``path.optimality`` bounds the relative suboptimality at each ``C`` (below
# the default ``tol=1e-4`` wherever ``path.converged``).
print(f"largest certified relative suboptimality: {np.max(path.optimality):.1e}")
