"""
Textbook subgradient descent on five points (``penalty=None``)
==============================================================

Not how to fit a model here (that is ``HingeClassifier()`` with its default
certified solvers; see the other examples): this is the example the project
grew from, kept to show that the building blocks reproduce a textbook method
exactly. It reproduces the classic StackExchange answer on the gradient of the hinge
loss. Five points in the plane, two labelled +1 and three labelled -1, and the
*unregularized* total hinge loss of a linear classifier without intercept,

.. math:: L(w) = \\sum_{i=1}^{5} \\max(0,\\, 1 - y_i\\, w \\cdot x_i),

minimized by the normalized subgradient method: start at :math:`w = 0`, step
:math:`0.1 / k` along :math:`-g / \\lVert g \\rVert` at iteration :math:`k`, stop
when the objective changes by less than :math:`10^{-3}`, and return the average
of all the iterates, the start included.

Through the public API this is a :class:`~hinge_estimators.HingeClassifier`
with ``penalty=None`` (no :math:`\\tfrac12\\lVert w\\rVert^2` term, so ``C``
plays no role), ``fit_intercept=False`` and a
:class:`~hinge_estimators.solvers.GradientDescent` solver configured as the
original loop.
"""

import matplotlib.pyplot as plt
import numpy as np

from hinge_estimators import HingeClassifier
from hinge_estimators.solvers import GradientDescent

X = np.array([[0, 1], [1, 2], [3, 0], [4, 1], [1, 1]], dtype=float)
y = np.array([1, 1, -1, -1, -1])

clf = HingeClassifier(
    loss="hinge",
    penalty=None,
    fit_intercept=False,
    tol=1e-3,
    solver=GradientDescent(method="subgradient", step_size=0.1, averaging=True),
)
clf.fit(X, y)

print("coef_:", clf.coef_)
print("n_iter_:", clf.n_iter_)
print("objective_value_:", clf.objective_value_)

# %%
# The original script stops after 201 subgradient steps at
# :math:`w \approx (-0.326, 0.226)`, with a total hinge loss of about 2.570.

# %%
# The decision boundary
# ---------------------
# Predictions over a grid around the points, the points on top, and the total
# hinge loss of the averaged solution in the title. ``objective_value_`` is that
# total: with ``penalty=None`` the objective is the plain sum of hinge losses.

x1_min, x1_max = X[:, 0].min() - 0.5, X[:, 0].max() + 0.5
x2_min, x2_max = X[:, 1].min() - 0.5, X[:, 1].max() + 0.5
grid_x1, grid_x2 = np.meshgrid(
    np.linspace(x1_min, x1_max, 400), np.linspace(x2_min, x2_max, 400)
)
grid = np.c_[grid_x1.ravel(), grid_x2.ravel()]
predictions = clf.predict(grid).reshape(grid_x1.shape)

fig, ax = plt.subplots(figsize=(5, 4))
ax.contourf(grid_x1, grid_x2, predictions, cmap=plt.cm.Paired, alpha=0.6)
for label, color, marker in [(1, "tab:red", "o"), (-1, "tab:blue", "s")]:
    mask = y == label
    ax.scatter(
        X[mask, 0],
        X[mask, 1],
        c=color,
        marker=marker,
        edgecolors="k",
        s=60,
        label=f"y = {label:+d}",
    )
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_title(f"total hinge loss: {clf.objective_value_:g}")
ax.legend(loc="upper right")
fig.tight_layout()
plt.show()
