"""
The binary losses of the hinge family
=====================================

Every binary (margin) loss in the registry ``hinge_estimators.losses.LOSSES``,
with its default hyper-parameters, as a function :math:`\\phi(z)` of the margin
:math:`z = y \\cdot \\text{score}`. The multiclass losses (Crammer--Singer,
Weston--Watkins) act on a whole row of scores and the pairwise ones on pairs
of samples; they are left out.

Several of these losses coincide over much of the axis: the modified Huber
loss *is* the squared hinge for :math:`z \\ge -1` (and linear below, which
makes it less sensitive to badly misclassified points: the two part ways at the
left edge), and the Gaussian-smoothed
hinge differs from the hinge only near the kink. Drawn on one axis they hide
each other, so the first panel gives each a line style of its own and the
small panels show each loss alone (in colour) over the hinge (grey).

A loss of your own shows up here once it has its registry line (see
"Adding a loss").
"""

import matplotlib.pyplot as plt
import numpy as np

from hinge_estimators.losses import LOSSES

z = np.linspace(-3.0, 3.0, 601)
ones = np.ones_like(z)
# With y = +1 the score is the margin, so loss(1, z) is phi(z).
curves = {
    name: cls().loss(ones, z)
    for name, cls in LOSSES.items()
    if not (cls().is_multiclass or cls().is_pairwise)
}
# wide solid lines first, narrow patterned ones on top, so coinciding curves
# stay visible as a pattern drawn over a band
styles = [
    {"linewidth": 5.0, "linestyle": "-", "alpha": 0.45},
    {"linewidth": 3.0, "linestyle": "-"},
    {"linewidth": 2.0, "linestyle": "--"},
    {"linewidth": 2.0, "linestyle": "-."},
    {"linewidth": 2.5, "linestyle": ":"},
]
colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

fig = plt.figure(figsize=(11, 6.5))
grid = fig.add_gridspec(2, 4)
overlay = fig.add_subplot(grid[:, :2])
for (name, phi), style, color in zip(curves.items(), styles, colors, strict=False):
    overlay.plot(z, phi, color=color, label=name, **style)
overlay.axvline(1.0, color="0.7", linestyle=":", linewidth=1)
overlay.set_xlim(z.min(), z.max())
overlay.set_ylim(-0.2, 10.0)
overlay.set_xlabel("margin $z = y \\cdot$ score")
overlay.set_ylabel(r"$\phi(z)$")
overlay.set_title("All binary losses (default parameters)")
overlay.legend()

cells = [grid[0, 2], grid[0, 3], grid[1, 2], grid[1, 3]]
others = [name for name in curves if name != "hinge"]
for cell, name in zip(cells, others, strict=False):
    ax = fig.add_subplot(cell)
    ax.plot(z, curves["hinge"], color="0.6", linewidth=1.5, label="hinge")
    color = colors[list(curves).index(name)]
    ax.plot(z, curves[name], color=color, linewidth=2, label=name)
    ax.set_xlim(z.min(), z.max())
    ax.set_ylim(-0.2, 10.0)
    ax.set_title(name, fontsize=10)
    ax.tick_params(labelsize=8)
fig.tight_layout()
plt.show()
