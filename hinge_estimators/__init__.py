"""hinge_estimators: scikit-learn compatible linear classifiers of the hinge family.

Public names only; see ``losses`` and ``solvers`` for the building blocks.
"""

from ._objective import LinearObjective
from ._version import __version__
from .estimators import (
    HingeBoostingClassifier,
    HingeClassifier,
    HingeClassifierCV,
)
from .estimators._shared import InconsistentVersionWarning
from .losses import LOSSES
from .model_selection import hinge_path
from .penalties import PENALTIES
from .solvers import SOLVERS

__all__ = [
    "LOSSES",
    "PENALTIES",
    "SOLVERS",
    "HingeBoostingClassifier",
    "HingeClassifier",
    "HingeClassifierCV",
    "InconsistentVersionWarning",
    "LinearObjective",
    "__version__",
    "hinge_path",
]
