"""HingeClassifierCV: the same table and C as GridSearchCV, faster."""

import joblib
import numpy as np
import pytest
from sklearn import config_context
from sklearn.metrics import hinge_loss, make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold

from hinge_estimators import HingeClassifier, HingeClassifierCV

TOL = 1e-10
CS = [0.003, 0.03, 0.3, 3.0, 30.0]
#: a continuous score (no ties between C values, no flips at a prediction's
#: tie): the mean hinge loss of the decision function on the test part
HINGE_SCORE = make_scorer(
    hinge_loss, greater_is_better=False, response_method="decision_function"
)


def _data(n=80, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, d)) + 0.7 * (2 * y[:, None] - 1) * rng.normal(size=d)
    return X, y


def _folds(X, y):
    return list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))


@pytest.mark.parametrize(
    "loss, solver", [("hinge", "dual_cd"), ("squared_hinge", "newton")]
)
def test_agrees_with_grid_search(loss, solver):
    X, y = _data()
    folds = _folds(X, y)
    params = dict(loss=loss, solver=solver, tol=TOL, max_iter=20_000, random_state=0)
    ours = HingeClassifierCV(CS, cv=folds, scoring=HINGE_SCORE, **params).fit(X, y)
    search = GridSearchCV(
        HingeClassifier(**params), {"C": CS}, cv=folds, scoring=HINGE_SCORE
    ).fit(X, y)
    results = search.cv_results_
    assert search.best_params_["C"] == ours.C_
    for key in ["mean_test_score", "std_test_score", "split0_test_score"]:
        np.testing.assert_allclose(ours.cv_results_[key], results[key], rtol=1e-6)
    np.testing.assert_array_equal(
        ours.cv_results_["rank_test_score"], results["rank_test_score"]
    )
    assert ours.cv_results_["params"] == results["params"]
    np.testing.assert_allclose(ours.scores_[1], results["split1_test_score"], rtol=1e-6)


def test_accuracy_table_agrees_with_grid_search():
    # accuracy (the default scoring): equal up to a prediction flipped by a
    # score within the solvers' tolerance of 0, one test sample
    X, y = _data(seed=3)
    folds = _folds(X, y)
    ours = HingeClassifierCV(CS, cv=folds, tol=TOL).fit(X, y)
    search = GridSearchCV(HingeClassifier(tol=TOL), {"C": CS}, cv=folds).fit(X, y)
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"],
        search.cv_results_["mean_test_score"],
        atol=1.0 / len(folds[0][1]),
    )


def test_refit_is_a_plain_fit_at_the_chosen_C():
    X, y = _data(seed=1)
    cv = HingeClassifierCV(CS, scoring=HINGE_SCORE, tol=TOL).fit(X, y)
    plain = HingeClassifier(C=cv.C_, tol=TOL).fit(X, y)
    np.testing.assert_allclose(cv.coef_, plain.coef_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(cv.intercept_, plain.intercept_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(cv.decision_function(X), plain.decision_function(X),
                               rtol=1e-5, atol=1e-7)  # fmt: skip
    assert cv.objective_value_ == pytest.approx(plain.objective_value_, rel=1e-9)


def test_refit_false_averages_the_folds_at_the_chosen_C():
    X, y = _data(seed=2)
    cv = HingeClassifierCV(CS, refit=False, tol=TOL).fit(X, y)
    expected = cv.coefs_paths_[:, cv.best_index_].mean(axis=0)
    np.testing.assert_allclose(cv.coef_, expected)
    assert cv.predict(X).shape == y.shape


def test_two_jobs_give_the_one_job_result():
    X, y = _data(seed=4)
    params = dict(Cs=CS[:3], loss="hinge", tol=1e-8, random_state=0, cv=3)
    one = HingeClassifierCV(n_jobs=1, **params).fit(X, y)
    # threads: the same joblib dispatch as loky's processes without their
    # start-up time (tests/test_dask.py runs the folds on a cluster)
    with joblib.parallel_config(backend="threading"):
        two = HingeClassifierCV(n_jobs=2, **params).fit(X, y)
    np.testing.assert_array_equal(one.Cs_, two.Cs_)
    np.testing.assert_allclose(one.scores_, two.scores_)
    np.testing.assert_allclose(one.coefs_paths_, two.coefs_paths_)
    assert one.C_ == two.C_


def test_sample_weight_reaches_every_fold():
    # a weight of 2 is a repeated sample: the folds' paths on weighted data
    # are the paths of HingeClassifier fits with the same weights
    X, y = _data(seed=5)
    weights = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    folds = _folds(X, y)
    cv = HingeClassifierCV(CS, cv=folds, tol=TOL).fit(X, y, sample_weight=weights)
    train = folds[2][0]
    cold = HingeClassifier(C=CS[3], tol=TOL).fit(
        X[train], y[train], sample_weight=weights[train]
    )
    np.testing.assert_allclose(cv.coefs_paths_[2, 3], cold.coef_, rtol=1e-5)
    # without routing the weights also weigh the test scores, as in
    # LogisticRegressionCV: the default (accuracy computed directly) gives
    # the accuracy scorer's table
    scored = HingeClassifierCV(CS, cv=folds, tol=TOL, scoring="accuracy")
    scored.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(cv.scores_, scored.scores_, rtol=1e-12)


def test_metadata_routing_sends_groups_to_the_splitter_and_weights_to_the_scorer():
    X, y = _data(seed=6)
    groups = np.arange(len(y)) % 4
    weights = np.linspace(0.5, 2.0, len(y))
    with config_context(enable_metadata_routing=True):
        scorer = make_scorer(
            hinge_loss, greater_is_better=False, response_method="decision_function"
        ).set_score_request(sample_weight=True)
        cv = HingeClassifierCV(CS, cv=GroupKFold(4), scoring=scorer, tol=TOL)
        cv.set_fit_request(sample_weight=True)
        cv.fit(X, y, groups=groups, sample_weight=weights)
        model = HingeClassifier(tol=TOL).set_fit_request(sample_weight=True)
        search = GridSearchCV(model, {"C": CS}, cv=GroupKFold(4), scoring=scorer)
        search.fit(X, y, groups=groups, sample_weight=weights)
    np.testing.assert_allclose(
        cv.cv_results_["mean_test_score"],
        search.cv_results_["mean_test_score"],
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="groups"):
        HingeClassifierCV(CS, cv=GroupKFold(4)).fit(X, y, groups=groups)


def test_a_fold_without_a_class_and_penalty_none_are_refused():
    X, y = _data()
    order = np.argsort(y, kind="stable")
    folds = [(order[:40], order[40:]), (order[40:], order[:40])]
    with pytest.raises(ValueError, match="fold 0 has no sample of the classes"):
        HingeClassifierCV(CS, cv=folds).fit(X, y)
    with pytest.raises(ValueError, match="needs a penalty"):
        HingeClassifierCV(CS, penalty=None).fit(X, y)


def test_sparsify_and_probabilities_as_the_plain_classifier():
    # the refit model is a HingeClassifier's: sparsify()/densify() store an
    # L1 model's coef_ sparse, and the modified Huber loss gives
    # probabilities (HingeClassifierCV had neither)
    import scipy.sparse as sp
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = HingeClassifierCV(Cs=4, penalty="l1").fit(X, y)
    scores = model.decision_function(X)
    assert sp.issparse(model.sparsify().coef_)
    np.testing.assert_array_equal(model.decision_function(X), scores)
    assert isinstance(model.densify().coef_, np.ndarray)
    huber = HingeClassifierCV(Cs=4, loss="modified_huber").fit(X, y)
    plain = HingeClassifier(loss="modified_huber", C=huber.C_).fit(X, y)
    np.testing.assert_allclose(huber.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_allclose(huber.predict_log_proba(X), plain.predict_log_proba(X))
    assert not hasattr(model, "predict_proba")


def _nan_always(estimator, X, y):
    return float("nan")


def _nan_on_the_first_C(estimator, X, y):
    """A scorer undefined (NaN) at the grid's first C, accuracy elsewhere."""
    if CS[0] == estimator.C:
        return float("nan")
    return float(np.mean(estimator.predict(X) == y))


@pytest.mark.parametrize("all_nan", [False, True])
def test_a_nan_score_ranks_last_as_in_grid_search(all_nan):
    # roc_auc is NaN on a test fold of one class: argmax picked the NaN mean
    # and rankdata ranked every C as -2**31
    X, y = _data()
    folds = _folds(X, y)
    scoring = _nan_always if all_nan else _nan_on_the_first_C
    cv = HingeClassifierCV(CS, cv=folds, scoring=scoring, tol=TOL).fit(X, y)
    grid = GridSearchCV(
        HingeClassifier(tol=TOL), {"C": CS}, cv=folds, scoring=scoring
    ).fit(X, y)
    np.testing.assert_array_equal(
        cv.cv_results_["rank_test_score"], grid.cv_results_["rank_test_score"]
    )
    assert cv.best_index_ == grid.best_index_
    assert grid.best_params_["C"] == cv.C_


def test_cv_given_as_a_generator_with_routing_enabled():
    # get_metadata_routing passed the splitter through check_cv, which
    # consumed a generator before fit read it
    X, y = _data()
    folds = _folds(X, y)
    with config_context(enable_metadata_routing=True):
        cv = HingeClassifierCV(CS, cv=(fold for fold in folds), tol=TOL).fit(X, y)
    plain = HingeClassifierCV(CS, cv=folds, tol=TOL).fit(X, y)
    np.testing.assert_array_equal(cv.scores_, plain.scores_)
    with pytest.raises(ValueError, match="cv gave no folds"):
        HingeClassifierCV(CS, cv=[]).fit(X, y)


def test_a_second_fit_leaves_nothing_of_the_first():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=list("abcd"))
    cv = HingeClassifierCV(CS, cv=3).fit(frame, y)
    assert list(cv.feature_names_in_) == list("abcd")
    cv.set_params(refit=False).fit(X, y)
    for name in ("feature_names_in_", "objective_value_", "optimality_"):
        assert not hasattr(cv, name), name


@pytest.mark.parametrize(
    "Cs, message",
    [
        (True, "not a boolean"),
        ([[0.1, 1.0], [10.0, 100.0]], "1-d list or array of numbers"),
        (["0.1", "1"], "1-d list or array of numbers"),
        ([1.0, 1e60], "at most 1e\\+50"),
    ],
)
def test_grids_that_are_not_lists_of_C_are_refused(Cs, message):
    X, y = _data()
    with pytest.raises(ValueError, match=message):
        HingeClassifierCV(Cs, cv=3).fit(X, y)


def test_a_test_fold_of_zero_weight_gets_accuracy_scores_error():
    X, y = _data()
    folds = _folds(X, y)
    weights = np.ones(len(y))
    weights[folds[0][1]] = 0.0
    with pytest.raises(ValueError, match="at least one non-zero"):
        HingeClassifierCV(CS, cv=folds).fit(X, y, sample_weight=weights)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_hinge_grid_does_not_depend_on_the_weights_scale():
    # the best intercept at W = 0 lies on the hinge's kink; rounding put it
    # one ulp to either side, which decided whether that class counted in
    # the start's gradient (the start moved 7.3x with the weights / 10)
    from hinge_estimators import hinge_path

    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    X = rng.normal(size=(60, 3)) + y[:, None]
    weights = rng.uniform(0.5, 2.0, 60)
    starts = [
        t * hinge_path(X, y, loss="hinge", sample_weight=weights * t, max_iter=1).Cs[0]
        for t in (1.0, 3.0, 0.1, 1000.0, 1e12)
    ]
    np.testing.assert_allclose(starts, starts[0], rtol=1e-9)
