"""Estimators: one file each."""

from ._hinge_classifier import HingeClassifier

__all__ = ["HingeClassifier"]
