"""hinge_estimators: scikit-learn compatible linear classifiers of the hinge family.

Public names only; see ``losses`` and ``solvers`` for the building blocks.
"""

from ._objective import LinearObjective
from .estimators import HingeBoostingClassifier, HingeClassifier
from .losses import LOSSES
from .solvers import SOLVERS

__version__ = "0.1.0.dev0"

__all__ = [
    "LOSSES",
    "SOLVERS",
    "HingeBoostingClassifier",
    "HingeClassifier",
    "LinearObjective",
    "__version__",
]
