"""Rough edges of issue 16: pickle size, HTML repr, modified Huber probabilities."""

import pickle
import warnings

import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeClassifier


def _data(n, n_classes=2):
    return make_classification(
        n, 10, n_informative=5, n_classes=n_classes, random_state=0
    )


# -- pickles -----------------------------------------------------------------------
@pytest.mark.parametrize("loss, n_classes", [("hinge", 2), ("crammer_singer", 3)])
def test_dual_cd_pickle_does_not_grow_with_n_samples(loss, n_classes):
    sizes = []
    for n in (2_000, 20_000):
        X, y = _data(n, n_classes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = HingeClassifier(loss, "dual_cd", max_iter=50).fit(X, y)
        sizes.append(len(pickle.dumps(clf)))
    # the dual variables (8 bytes a sample and class) made it 10x larger
    assert abs(sizes[1] - sizes[0]) < 300, sizes
    assert sizes[0] < 4_000, sizes


def test_dual_cd_warm_start_still_resumes_from_its_dual_variables():
    X, y = _data(2_000)
    clf = HingeClassifier("hinge", "dual_cd", C=0.1, warm_start=True).fit(X, y)
    first = clf.n_iter_
    assert clf._solver_state is not None
    clf.fit(X, y)  # the stored dual point is already certified
    assert clf.n_iter_ <= first // 4
    cold = HingeClassifier("hinge", "dual_cd", C=0.1).fit(X, y)
    assert cold._solver_state is None
