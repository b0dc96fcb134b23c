"""Estimators: one file each."""

from ._hinge_boosting import HingeBoostingClassifier
from ._hinge_classifier import HingeClassifier

__all__ = ["HingeBoostingClassifier", "HingeClassifier"]
