"""
The binary losses of the hinge family
=====================================

Every binary (margin) loss in the registry ``hinge_estimators.losses.LOSSES``,
with its default hyper-parameters, as a function :math:`\\phi(z)` of the margin
:math:`z = y \\cdot \\text{score}`. The multiclass losses (Crammer--Singer,
Weston--Watkins) act on a whole row of scores and are left out.

A loss of your own shows up here once it has its registry line (see
"Adding a loss").
"""

import matplotlib.pyplot as plt
import numpy as np

from hinge_estimators.losses import LOSSES

z = np.linspace(-2.0, 3.0, 501)

fig, ax = plt.subplots(figsize=(6, 4))
for name, cls in LOSSES.items():
    loss = cls()
    if loss.is_multiclass or loss.is_pairwise:
        continue
    # With y = +1 the score is the margin, so this is phi(z).
    ax.plot(z, loss.loss(np.ones_like(z), z), label=name)

ax.axvline(1.0, color="0.7", linestyle=":", linewidth=1)
ax.set_xlim(z.min(), z.max())
ax.set_ylim(-0.2, 5.0)
ax.set_xlabel("margin $z = y \\cdot$ score")
ax.set_ylabel(r"$\phi(z)$")
ax.set_title("Binary losses of the hinge family (default parameters)")
ax.legend()
fig.tight_layout()
plt.show()
