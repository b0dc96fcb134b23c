"""Checks and rules shared by the estimators."""

import numpy as np


def check_two_classes(name, classes):
    """Refuse targets with a single class (``name``: the estimator's name)."""
    if len(classes) < 2:
        raise ValueError(
            f"{name} needs samples of at least 2 classes in the data, "
            f"but the data contains only one class: {classes[0]!r}."
        )


def check_weighted_classes(name, classes, codes, weights):
    """Refuse per-sample weights that leave fewer than 2 classes with weight."""
    if not np.any(weights > 0):
        raise ValueError(
            "Every sample has zero weight after applying sample_weight and "
            "class_weight: there is nothing to fit."
        )
    weighted_classes = np.unique(codes[weights > 0])
    if len(weighted_classes) < 2:
        raise ValueError(
            f"{name} needs positive weight in at least 2 classes, but "
            "after applying sample_weight and class_weight only class "
            f"{classes[weighted_classes[0]]!r} has any."
        )


def labels_from_scores(classes, scores):
    """Predicted labels: the sign of binary scores, else the largest score."""
    if scores.ndim == 1:
        return classes[(scores > 0).astype(np.intp)]
    return classes[np.argmax(scores, axis=1)]
