"""Rough edges of issue 16: pickle size, HTML repr, modified Huber probabilities."""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeBoostingClassifier, HingeClassifier


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


# -- HTML repr ---------------------------------------------------------------------
def _row_classes(html):
    """``{parameter: "user-set" or "default"}`` from the parameter table."""
    rows = re.findall(
        r'<tr class="(user-set|default)">\s*<td><button[^>]*aria-label="Copy (\S+) to',
        html,
    )
    return {name: kind for kind, name in rows}


def test_html_repr_marks_only_changed_nested_parameters():
    from hinge_estimators.losses import Hinge, SmoothHinge

    rows = _row_classes(HingeClassifier(loss=Hinge(), C=2.0)._repr_html_())
    assert rows["loss"] == "user-set" and rows["C"] == "user-set"
    assert rows["loss__margin"] == "default"  # Hinge()'s own default
    assert rows["tol"] == "default"
    rows = _row_classes(HingeClassifier(loss=SmoothHinge(gamma=0.3))._repr_html_())
    assert rows["loss__gamma"] == "user-set"


@pytest.mark.parametrize("estimator", [HingeClassifier(), HingeBoostingClassifier()])
def test_html_repr_links_to_this_packages_api_page(estimator):
    link = estimator._get_doc_link()
    assert link.endswith(f"/generated/hinge_estimators.{type(estimator).__name__}.html")
    assert "scikit-learn.org" not in link
    assert link in estimator._repr_html_()


# -- predict_proba for the modified Huber loss ---------------------------------------
@pytest.mark.parametrize("n_classes", [2, 3])
def test_modified_huber_predict_proba_is_sgdclassifiers(n_classes):
    from sklearn.linear_model import SGDClassifier

    X, y = _data(300, n_classes)
    sgd = SGDClassifier(loss="modified_huber", random_state=0).fit(X, y)
    clf = HingeClassifier("modified_huber").fit(X, y)
    # SGDClassifier's probabilities of our model: its rule, its code
    sgd.coef_, sgd.intercept_ = clf.coef_.copy(), clf.intercept_.copy()
    np.testing.assert_allclose(clf.predict_proba(X), sgd.predict_proba(X), atol=1e-12)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(
            clf.predict_log_proba(X), sgd.predict_log_proba(X), atol=1e-12
        )
    # scores far beyond the margin: hard probabilities, rows still sum to 1
    proba = clf.predict_proba(X * 100)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_predict_proba_only_for_modified_huber():
    X, y = _data(100)
    assert not hasattr(HingeClassifier("hinge"), "predict_proba")
    with pytest.raises(AttributeError, match="modified_huber"):
        HingeClassifier("squared_hinge").fit(X, y).predict_proba(X)
    from hinge_estimators.losses import ModifiedHuber

    assert hasattr(HingeClassifier(ModifiedHuber()), "predict_proba")
