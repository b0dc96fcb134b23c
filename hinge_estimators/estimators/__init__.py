"""Estimators: one file each."""

from ._hinge_boosting import HingeBoostingClassifier
from ._hinge_classifier import HingeClassifier
from ._hinge_classifier_cv import HingeClassifierCV

__all__ = ["HingeBoostingClassifier", "HingeClassifier", "HingeClassifierCV"]
