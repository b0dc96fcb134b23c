"""HingeBoostingClassifier: class_weight, probabilities, importances, warm start."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.utils.class_weight import compute_class_weight

from hinge_estimators import HingeBoostingClassifier

X, Y = make_classification(
    240, 6, n_informative=3, weights=[0.7], random_state=0, shuffle=False
)
X3, Y3 = make_classification(
    240, 6, n_informative=4, n_classes=3, n_clusters_per_class=1, random_state=1
)


def _boosting(**params):
    return HingeBoostingClassifier(
        **{"n_estimators": 8, "max_depth": 2, "random_state": 0, **params}
    )


# -- class_weight ----------------------------------------------------------------
@pytest.mark.parametrize("class_weight", [{0: 1.0, 1: 3.0}, "balanced"])
def test_class_weight_is_sample_weight_per_class(class_weight):
    weighted = _boosting(class_weight=class_weight).fit(X, Y)
    classes = np.unique(Y)
    per_class = (
        compute_class_weight("balanced", classes=classes, y=Y)
        if class_weight == "balanced"
        else np.array([class_weight[c] for c in classes])
    )
    by_samples = _boosting().fit(X, Y, sample_weight=per_class[Y])
    np.testing.assert_allclose(
        weighted.decision_function(X), by_samples.decision_function(X), atol=1e-8
    )
    unweighted = _boosting().fit(X, Y)
    assert not np.allclose(
        weighted.decision_function(X), unweighted.decision_function(X)
    )


def test_class_weight_refuses_anything_else():
    with pytest.raises(ValueError, match="class_weight"):
        _boosting(class_weight="uniform").fit(X, Y)


# -- probabilities -----------------------------------------------------------------
@pytest.mark.parametrize("X_, y_", [(X, Y), (X3, Y3)])
def test_predict_proba_is_the_squared_hinge_link(X_, y_):
    clf = _boosting().fit(X_, y_)
    scores = clf.decision_function(X_)
    proba = clf.predict_proba(X_)
    assert proba.shape == (len(y_), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # SGDClassifier's modified Huber rule applied to the same scores: a
    # linear model whose features are the scores themselves
    K = 1 if scores.ndim == 1 else scores.shape[1]
    as_features = scores.reshape(len(y_), K)
    sgd = SGDClassifier(loss="modified_huber").fit(as_features, y_)
    sgd.coef_, sgd.intercept_ = np.eye(K), np.zeros(K)
    np.testing.assert_allclose(proba, sgd.predict_proba(as_features), atol=1e-12)


def test_staged_predict_proba_follows_the_stages():
    clf = _boosting().fit(X3, Y3)
    stages = list(clf.staged_predict_proba(X3))
    assert len(stages) == clf.n_estimators_
    np.testing.assert_allclose(stages[-1], clf.predict_proba(X3))
    for proba in stages:
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert not np.allclose(stages[0], stages[-1])


# -- feature importances -----------------------------------------------------------
def test_feature_importances_find_the_only_informative_feature():
    rng = np.random.default_rng(0)
    Xi = rng.normal(size=(300, 5))
    Xi[:, 3] = 1.0  # constant: never split on
    yi = (Xi[:, 1] > 0.2).astype(int)
    clf = _boosting().fit(Xi, yi)
    importances = clf.feature_importances_
    assert importances.shape == (5,)
    assert np.all(importances >= 0) and importances.sum() == pytest.approx(1.0)
    assert np.argmax(importances) == 1 and importances[3] == 0.0


def test_feature_importances_weigh_trees_by_their_weights():
    clf = _boosting().fit(X, Y)
    # with one tree of nonzero weight, the importances are that tree's
    weights = clf.tree_weights_[0]
    weights[:] = 0.0
    weights[3] = -2.0
    np.testing.assert_allclose(
        clf.feature_importances_, clf.estimators_[0][3].feature_importances_
    )


# -- warm start --------------------------------------------------------------------
@pytest.mark.parametrize("X_, y_", [(X, Y), (X3, Y3)])
def test_warm_start_adds_rounds_as_one_fit_would(X_, y_):
    once = _boosting(n_estimators=12).fit(X_, y_)
    warm = _boosting(n_estimators=5, warm_start=True).fit(X_, y_)
    first_trees = [list(trees) for trees in warm.estimators_]
    warm.set_params(n_estimators=12).fit(X_, y_)
    assert warm.n_estimators_ == 12 and len(warm.train_score_) == 12
    for kept, trees in zip(first_trees, warm.estimators_, strict=True):
        assert all(a is b for a, b in zip(kept, trees[:5], strict=False))
    np.testing.assert_allclose(
        warm.decision_function(X_), once.decision_function(X_), atol=1e-6
    )
    assert np.all(np.diff(warm.train_score_) <= 1e-12)


def test_warm_start_refuses_fewer_rounds_and_other_classes():
    clf = _boosting(n_estimators=6, warm_start=True).fit(X, Y)
    trees = clf.estimators_
    clf.fit(X, Y)  # as many rounds: nothing to do
    assert clf.estimators_ is trees
    with pytest.raises(ValueError, match="n_estimators=3"):
        clf.set_params(n_estimators=3).fit(X, Y)
    with pytest.raises(ValueError, match="classes"):
        clf.set_params(n_estimators=9).fit(X3, Y3)


def test_warm_start_with_early_stopping_continues():
    clf = _boosting(n_estimators=4, warm_start=True, n_iter_no_change=50).fit(X, Y)
    clf.set_params(n_estimators=8).fit(X, Y)
    assert clf.n_estimators_ == 8
    assert len(clf.validation_score_) == len(clf.train_score_) == 8
