"""HingeClassifier: errors on bad input, drop-in use with scikit-learn tools,
and agreement with LinearSVC where the two solve the same problem."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import CrammerSinger, SmoothHinge
from hinge_estimators.solvers import GradientDescent


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    return StandardScaler().fit_transform(X), y


# -- bad input -----------------------------------------------------------------
@pytest.mark.parametrize(
    "bad, message",
    [
        (np.nan, "NaN"),
        (np.inf, "infinity"),
    ],
)
def test_non_finite_X_is_refused(binary, bad, message):
    X, y = binary
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match=message):
        HingeClassifier().fit(X, y)


def test_non_finite_y_is_refused(binary):
    X, y = binary
    y = y.astype(float)
    y[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        HingeClassifier().fit(X, y)


def test_one_class_is_refused(binary):
    X, _ = binary
    with pytest.raises(ValueError, match="only one class"):
        HingeClassifier().fit(X, np.zeros(len(X)))


@pytest.mark.parametrize(
    "weighting",
    [
        {"sample_weight": "first class only"},
        {"class_weight": {0: 0.0, 1: 1.0}},
    ],
)
def test_weight_on_a_single_class_is_refused(binary, weighting):
    X, y = binary
    kwargs, fit_kwargs = {}, {}
    if "sample_weight" in weighting:
        fit_kwargs["sample_weight"] = (y == y.min()).astype(float)
    else:
        kwargs["class_weight"] = weighting["class_weight"]
    with pytest.raises(ValueError, match="positive weight in at least 2 classes"):
        HingeClassifier(**kwargs).fit(X, y, **fit_kwargs)


def test_mismatched_lengths_are_refused(binary):
    X, y = binary
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        HingeClassifier().fit(X, y[:-1])


@pytest.mark.parametrize(
    "weights, message",
    [
        (lambda n: -np.ones(n), "negative"),
        (lambda n: np.zeros(n), "zero for every sample"),
        (lambda n: np.ones(n - 1), "entries but X has"),
        (lambda n: np.full(n, np.nan), "NaN or infinity"),
    ],
)
def test_bad_sample_weights_are_refused(binary, weights, message):
    X, y = binary
    with pytest.raises(ValueError, match=message):
        HingeClassifier().fit(X, y, sample_weight=weights(len(y)))


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(loss="huber"), r"Unknown loss 'huber'.*'hinge'"),
        (dict(solver="sag"), r"Unknown solver 'sag'.*'lbfgs'"),
        (dict(loss="hinge", solver="lbfgs"), r"LBFGS needs a smooth loss.*'gd'"),
        (dict(C=-1.0), r"'C' must be a finite number > 0"),
        (dict(C=np.inf), r"'C' must be a finite number > 0"),
        (dict(tol=0), r"'tol'"),
        (dict(max_iter=0), r"'max_iter'"),
        (dict(penalty="l1"), r"'penalty'"),
        (dict(intercept_scaling=-2.0), r"'intercept_scaling'"),
        (dict(loss=SmoothHinge(gamma=0.0)), r"SmoothHinge: parameter 'gamma'"),
        (dict(loss=CrammerSinger(delta=-1)), r"CrammerSinger: parameter 'delta'"),
        (dict(solver=GradientDescent(step_size=-1)), r"'step_size'"),
        (dict(class_weight={7: 1.0}), r"label 7.*not in the training classes"),
        (dict(class_weight="unbalanced"), r"class_weight must be"),
        (dict(loss=3), r"loss must be a string or a Loss object"),
    ],
)
def test_bad_parameters_are_refused_clearly(binary, params, message):
    X, y = binary
    with pytest.raises((ValueError, TypeError), match=message):
        HingeClassifier(**params).fit(X, y)


def test_inputs_are_not_modified(binary):
    X, y = binary
    X_copy, y_copy, w = X.copy(), y.copy(), np.linspace(0.5, 2, len(y))
    w_copy = w.copy()
    loss = SmoothHinge(gamma=0.4)
    HingeClassifier(loss=loss, class_weight="balanced").fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(w, w_copy)
    assert loss.get_params() == {"gamma": 0.4, "margin": 1.0}


def test_convergence_warning_when_max_iter_is_hit(binary):
    X, y = binary
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        HingeClassifier(solver="gd", max_iter=2, C=100.0).fit(X, y)


def test_unused_parameters_are_reported(binary):
    X, y = binary
    with pytest.warns(UserWarning, match="C is not used"):
        HingeClassifier(penalty=None, C=3.0).fit(X, y)
    with pytest.warns(UserWarning, match="intercept_scaling is not used"):
        HingeClassifier(fit_intercept=False, intercept_scaling=2.0).fit(X, y)


# -- drop-in use -----------------------------------------------------------------
def test_pipeline_grid_search_over_nested_parameters():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), HingeClassifier(loss=SmoothHinge()))
    search = GridSearchCV(
        pipe,
        {
            "hingeclassifier__C": [0.1, 1.0],
            "hingeclassifier__loss__gamma": [0.2, 1.0],
            "hingeclassifier__solver": ["lbfgs", GradientDescent(smoothing=0.5)],
        },
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > 0.85
    best = search.best_estimator_[-1]
    assert best.loss.gamma in (0.2, 1.0)
    # the searched object was cloned, never mutated by fitting
    assert pipe[-1].loss.get_params() == {"gamma": 1.0, "margin": 1.0}


def test_grid_search_over_solver_parameters(binary):
    X, y = binary
    search = GridSearchCV(
        HingeClassifier(loss="hinge", solver=GradientDescent()),
        {"solver__smoothing_decrease": [0.1, 0.3]},
        cv=3,
    ).fit(X, y)
    assert search.best_estimator_.solver.smoothing_decrease in (0.1, 0.3)


def test_cross_val_score_multiclass():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:600])
    scores = cross_val_score(HingeClassifier(loss="crammer_singer"), X, y[:600], cv=3)
    assert scores.mean() > 0.85


def test_pickle_round_trip(binary):
    X, y = binary
    clf = HingeClassifier(loss=SmoothHinge(gamma=0.5)).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.decision_function(X), clf.decision_function(X))
    assert repr(again) == repr(clf)


def test_calibrated_classifier_gives_probabilities(binary):
    X, y = binary
    calibrated = CalibratedClassifierCV(
        HingeClassifier(loss="hinge"), ensemble=False, cv=3
    ).fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(calibrated.predict(X) == y) > 0.8


def test_warm_start_continues_from_previous_solution(binary):
    X, y = binary
    clf = HingeClassifier(solver="gd", warm_start=True, tol=1e-8).fit(X, y)
    first = clf.n_iter_
    clf.fit(X, y)
    assert clf.n_iter_ < first
    assert clf.n_iter_ <= 1


def test_sparse_and_dense_give_the_same_model(binary):
    X, y = binary
    # dual_cd (what "auto" picks) centers dense data but not sparse data, so
    # the two runs take different paths to the same exact optimum
    params = dict(loss="hinge", tol=1e-10, max_iter=20_000, random_state=0)
    dense = HingeClassifier(**params).fit(X, y)
    sparse = HingeClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.coef_, sparse.coef_, rtol=1e-8, atol=1e-10)


def test_binary_multiclass_loss_reports_one_column(binary):
    X, y = binary
    clf = HingeClassifier(loss="crammer_singer").fit(X, y)
    assert clf.coef_.shape == (1, X.shape[1])
    assert clf.decision_function(X).shape == (len(y),)
    assert np.mean(clf.predict(X) == y) > 0.8


def test_verbose_prints_progress(binary, capsys):
    X, y = binary
    HingeClassifier(solver="gd", verbose=2, max_iter=5).fit(X, y)
    assert "objective" in capsys.readouterr().out


def test_clone_keeps_loss_and_solver_objects():
    clf = HingeClassifier(loss=SmoothHinge(gamma=0.3), solver=GradientDescent())
    copy = clone(clf)
    assert copy.loss is not clf.loss and copy.loss.gamma == 0.3


# -- agreement with LinearSVC ------------------------------------------------------
def _linear_svc_objective(svc, X, y, loss, B=None):
    Y = np.where(y == svc.classes_[1], 1.0, -1.0)
    w = svc.coef_.ravel()
    b = float(np.ravel(svc.intercept_)[0])
    z = Y * (X @ w + b)
    per = np.maximum(1 - z, 0)
    risk = np.sum(per**2 if loss == "squared_hinge" else per)
    penalty = 0.5 * w @ w + (0.5 * (b / B) ** 2 if B else 0.0)
    return penalty + svc.C * risk


@pytest.fixture(scope="module")
def correlated():
    X, y = make_classification(
        n_samples=200,
        n_features=8,
        n_informative=4,
        n_redundant=3,
        flip_y=0.1,
        random_state=3,
    )
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("loss, rel", [("squared_hinge", 1e-6), ("hinge", 1e-3)])
@pytest.mark.parametrize("intercept", ["none", "scaling=1"])
def test_matches_linear_svc_objective(correlated, loss, rel, intercept):
    X, y = correlated
    kw = (
        dict(fit_intercept=False)
        if intercept == "none"
        else dict(fit_intercept=True, intercept_scaling=1.0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svc = LinearSVC(loss=loss, C=1.0, tol=1e-10, max_iter=10**6, dual=True, **kw)
        svc.fit(X, y)
    ours = HingeClassifier(loss=loss, C=1.0, tol=1e-10, max_iter=50_000, **kw).fit(X, y)
    theirs = _linear_svc_objective(svc, X, y, loss, kw.get("intercept_scaling"))
    # ours is the optimum: equal to LinearSVC's value within rel, or lower
    assert ours.objective_value_ <= theirs * (1 + rel)
    assert ours.objective_value_ >= theirs * (1 - 1e-3)


def test_matches_crammer_singer_linear_svc():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    svc = LinearSVC(
        multi_class="crammer_singer",
        C=1.0,
        fit_intercept=False,
        tol=1e-10,
        max_iter=10**6,
    ).fit(X, y)
    ours = HingeClassifier(
        loss="crammer_singer", C=1.0, fit_intercept=False, tol=1e-10, max_iter=50_000
    ).fit(X, y)
    S = X @ svc.coef_.T
    h = np.maximum(
        1
        + np.max(np.where(np.eye(3)[y] > 0, -np.inf, S), axis=1)
        - S[np.arange(len(y)), y],
        0,
    )
    theirs = 0.5 * np.sum(svc.coef_**2) + np.sum(h)
    assert ours.objective_value_ <= theirs * (1 + 1e-3)
    assert ours.objective_value_ >= theirs * (1 - 1e-3)
