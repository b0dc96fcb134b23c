"""HingeBoostingClassifier: fully-corrective boosting of trees on the squared hinge.

The references are computed here from the fitted trees' outputs only: the
KKT conditions written out from the squared hinge's formula, and the weights
an independent solver (L-BFGS on the same k-column problem) finds.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_hastie_10_2

from hinge_estimators import HingeBoostingClassifier, LinearObjective
from hinge_estimators.estimators._fc_refit import exact_line_search
from hinge_estimators.losses import SquaredHinge
from hinge_estimators.solvers import LBFGS


@pytest.fixture(scope="module")
def hastie():
    X, y = make_hastie_10_2(n_samples=600, random_state=0)
    return X[:300], y[:300], X[300:], y[300:]


def _outputs(trees, X):
    """``(n, t)``: the trees' outputs, the atoms of the model."""
    return np.column_stack([tree.predict(X.astype(np.float32)) for tree in trees])


def _binary(y, classes):
    return np.where(y == classes[1], 1.0, -1.0)


def test_training_objective_never_increases(hastie):
    X, y, _, _ = hastie
    for alpha in (0.0, 0.1):
        clf = HingeBoostingClassifier(
            n_estimators=40, max_depth=2, l2_regularization=alpha, random_state=0
        ).fit(X, y)
        score = clf.train_score_
        assert len(score) == clf.n_estimators_
        assert np.all(np.diff(score) <= 1e-14)
        assert score[-1] < score[0]


@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_every_stage_satisfies_kkt_so_no_tree_is_selected_twice(hastie, alpha):
    X, y, _, _ = hastie
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.5, 2.0, size=len(y))
    clf = HingeBoostingClassifier(
        n_estimators=25, max_depth=2, l2_regularization=alpha, random_state=0
    ).fit(X, y, sample_weight=weights)
    yb, s = _binary(y, clf.classes_), weights / weights.sum()
    H = _outputs(clf.estimators_[0], X)
    # the atoms have unit weighted RMS on the training samples
    np.testing.assert_allclose(np.sqrt(s @ H**2), 1.0, rtol=1e-6)
    for t, scores in enumerate(clf.staged_decision_function(X), start=1):
        residual = 2.0 * yb * np.maximum(1.0 - yb * scores, 0.0)  # -dl/df
        # dR/db = -sum_i s_i r_i = 0 and dR/da_j = alpha a_j - <s r, h_j> = 0
        assert abs(s @ residual) <= 1e-8
        correlation = H[:, :t].T @ (s * residual)
        if alpha == 0.0:
            assert np.abs(correlation).max() <= 1e-8
        elif t == clf.n_estimators_:
            weights_t = clf.tree_weights_[0]
            np.testing.assert_allclose(
                alpha * weights_t, correlation, rtol=1e-6, atol=1e-9
            )
        # the next tree is not one of the selected ones: it correlates with r
        if t < clf.n_estimators_:
            assert abs(H[:, t] @ (s * residual)) > 1e-6


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_weights_equal_an_independent_solver_on_the_tree_outputs(hastie, alpha):
    X, y, _, _ = hastie
    clf = HingeBoostingClassifier(
        n_estimators=15, max_depth=3, l2_regularization=alpha, random_state=1
    ).fit(X, y)
    H = _outputs(clf.estimators_[0], X)
    s = np.full(len(y), 1.0 / len(y))
    # alpha/2 |a|^2 + sum s l  is  alpha (|a|^2 / 2 + (1 / alpha) sum s l)
    objective = LinearObjective(
        SquaredHinge(),
        H,
        _binary(y, clf.classes_)[:, None],
        n_outputs=1,
        sample_weight=s,
        C=1.0 / alpha if alpha else 1.0,
        penalty="l2" if alpha else None,
    )
    reference = LBFGS().solve(objective, tol=1e-12, max_iter=100_000)
    ours = np.concatenate([clf.tree_weights_[0], clf.intercept_])
    scale = alpha if alpha else 1.0
    assert objective.value(ours) * scale == pytest.approx(
        clf.train_score_[-1], rel=1e-10, abs=1e-14
    )
    assert objective.value(ours) <= reference.value * (1 + 1e-10) + 1e-14
    if alpha:  # strictly convex: the minimizer is unique
        np.testing.assert_allclose(ours, reference.coef, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "leaf_values, leaf_lambda",
    [("newton", 10.0), ("newton", 0.0), ("newton", 300.0), ("gradient", 10.0)],
)
def test_first_tree_has_the_documented_leaf_values(hastie, leaf_values, leaf_lambda):
    X, y, _, _ = hastie
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    clf = HingeBoostingClassifier(
        n_estimators=1,
        max_depth=2,
        leaf_values=leaf_values,
        leaf_l2_regularization=leaf_lambda,
        random_state=0,
    ).fit(X, y, sample_weight=weights)
    tree = clf.estimators_[0][0]
    yb = _binary(y, clf.classes_)
    # before the first tree the model is the intercept alone: the weighted
    # squared hinge of a constant b, minimized in closed form by bisection
    lo, hi = -1.0, 1.0
    for _ in range(200):
        b = 0.5 * (lo + hi)
        slope = -2.0 * weights @ (yb * np.maximum(1.0 - yb * b, 0.0))
        lo, hi = (b, hi) if slope < 0 else (lo, b)
    residual = 2.0 * yb * np.maximum(1.0 - yb * b, 0.0)
    leaves = tree.apply(X.astype(np.float32))
    expected = {}
    for leaf in np.unique(leaves):
        rows = leaves == leaf
        numerator = weights[rows] @ residual[rows]
        if leaf_values == "newton":
            curvature = 2.0 * weights[rows] @ (residual[rows] != 0)
            expected[leaf] = numerator / (curvature + leaf_lambda)
        else:
            expected[leaf] = numerator / weights[rows].sum()
    outputs = tree.predict(X.astype(np.float32))
    want = np.array([expected[leaf] for leaf in leaves])
    # the same values up to the positive scale that gives unit weighted RMS
    scale = np.sqrt((weights / weights.sum()) @ want**2)
    np.testing.assert_allclose(outputs, want / scale, rtol=1e-7, atol=1e-12)


def test_zero_training_loss_stops_boosting():
    # separable with margin: unregularized trees reach zero loss, after which
    # no tree correlates with the (zero) functional gradient
    X, y = make_classification(
        n_samples=100, n_features=4, class_sep=3.0, flip_y=0, random_state=0
    )
    clf = HingeBoostingClassifier(
        n_estimators=50, max_depth=3, l2_regularization=0.0, random_state=0
    ).fit(X, y)
    assert clf.n_estimators_ < 50
    assert clf.train_score_[-1] == pytest.approx(0.0, abs=1e-20)
    assert clf.score(X, y) == 1.0


def test_staged_predictions_end_at_the_final_model(hastie):
    X, y, X_test, y_test = hastie
    clf = HingeBoostingClassifier(n_estimators=30, max_depth=1, random_state=0)
    clf.fit(X, y)
    staged = list(clf.staged_decision_function(X_test))
    assert len(staged) == clf.n_estimators_ == 30
    np.testing.assert_allclose(staged[-1], clf.decision_function(X_test), atol=1e-12)
    labels = list(clf.staged_predict(X_test))
    np.testing.assert_array_equal(labels[-1], clf.predict(X_test))
    accuracy = [np.mean(p == y_test) for p in labels]
    assert accuracy[-1] > accuracy[0] + 0.1


def test_early_stopping_keeps_the_best_round(hastie):
    X, y, _, _ = hastie
    clf = HingeBoostingClassifier(
        n_estimators=300,
        max_depth=3,
        l2_regularization=0.0,
        n_iter_no_change=3,
        validation_fraction=0.25,
        random_state=0,
    ).fit(X, y)
    rounds = len(clf.validation_score_)
    assert rounds == len(clf.train_score_) < 300
    best = int(np.argmin(clf.validation_score_)) + 1
    assert clf.n_estimators_ == best
    assert rounds - best >= 3 or clf.n_estimators_ == rounds
    # the kept model is the one of that round, not a prefix of a later one
    staged = list(clf.staged_decision_function(X))
    np.testing.assert_allclose(staged[-1], clf.decision_function(X), atol=1e-12)


def test_early_stopping_is_reproducible_and_uses_the_seed(hastie):
    X, y, _, _ = hastie
    params = dict(n_estimators=40, max_depth=2, n_iter_no_change=2)
    a = HingeBoostingClassifier(random_state=3, **params).fit(X, y)
    b = HingeBoostingClassifier(random_state=3, **params).fit(X, y)
    c = HingeBoostingClassifier(random_state=4, **params).fit(X, y)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    assert not np.array_equal(a.validation_score_, c.validation_score_)


def test_multiclass_one_vs_rest():
    X, y = load_iris(return_X_y=True)
    clf = HingeBoostingClassifier(n_estimators=20, max_depth=2, random_state=0)
    clf.fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (150, 3)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[scores.argmax(1)])
    assert clf.score(X, y) > 0.95
    assert len(clf.estimators_) == len(clf.tree_weights_) == 3
    # each column is a binary problem, class k (+1) against the rest (-1): its
    # scores rank class k first on the training data
    for k in range(3):
        assert scores[y == k, k].mean() > 0 > scores[y != k, k].mean()
    staged = list(clf.staged_decision_function(X))
    assert staged[-1].shape == (150, 3)


def test_sparse_and_dense_input_give_the_same_model(hastie):
    # sklearn's dense and sparse splitters may break exact ties between
    # splits differently (and the first residuals take two values only):
    # few zeros and shallow trees keep this data free of such ties
    X, y, X_test, _ = hastie
    X = np.where(np.abs(X) < 0.2, 0.0, X)
    dense = HingeBoostingClassifier(n_estimators=10, max_depth=2, random_state=0)
    dense.fit(X, y)
    sparse = HingeBoostingClassifier(n_estimators=10, max_depth=2, random_state=0)
    sparse.fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(
        dense.decision_function(X_test),
        sparse.decision_function(sp.csr_matrix(X_test)),
        rtol=1e-9,
        atol=1e-12,
    )


def test_sample_weight_two_equals_a_duplicate(hastie):
    # Compared on the training points, as sklearn's check does: splits that
    # tie on the training data (the same partition, another feature or
    # threshold) are broken by rounding, which differs between the two fits.
    X, y, _, _ = hastie
    X, y = X[:120], y[:120]
    weights = np.ones(len(y))
    weights[:30] = 2.0
    for depth in (1, 3):
        weighted = HingeBoostingClassifier(
            n_estimators=10, max_depth=depth, random_state=0
        ).fit(X, y, sample_weight=weights)
        repeated = HingeBoostingClassifier(
            n_estimators=10, max_depth=depth, random_state=0
        ).fit(np.vstack([X, X[:30]]), np.concatenate([y, y[:30]]))
        np.testing.assert_allclose(
            weighted.decision_function(X),
            repeated.decision_function(X),
            rtol=1e-7,
            atol=1e-9,
        )
        np.testing.assert_allclose(weighted.train_score_, repeated.train_score_)


def test_verbose_prints_one_line_per_round(hastie, capsys):
    X, y, _, _ = hastie
    HingeBoostingClassifier(n_estimators=4, verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert all("objective" in line and "trees" in line for line in lines)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_estimators=0), "n_estimators"),
        (dict(max_depth=0), "max_depth"),
        (dict(max_leaf_nodes=1), "max_leaf_nodes"),
        (dict(min_samples_leaf=0), "min_samples_leaf"),
        (dict(l2_regularization=-1.0), "l2_regularization"),
        (dict(leaf_l2_regularization=-1.0), "leaf_l2_regularization"),
        (dict(leaf_l2_regularization=np.inf), "leaf_l2_regularization"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(n_iter_no_change=0), "n_iter_no_change"),
        (dict(tol=-1.0), "tol"),
    ],
)
def test_invalid_parameters_are_refused_by_name(params, match):
    clf = HingeBoostingClassifier(**params)
    with pytest.raises(
        ValueError, match=f"HingeBoostingClassifier: parameter '{match}'"
    ):
        clf.fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1])
    clone(clf)  # still a valid estimator


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    curvature=st.sampled_from([1e-3, 0.3]),
)
def test_exact_line_search_finds_the_minimum_along_the_direction(n, seed, curvature):
    rng = np.random.default_rng(seed)
    margin = rng.normal(size=n)
    slope = rng.normal(size=n) * rng.integers(0, 2, size=n)  # some zero slopes
    s = rng.uniform(0.1, 1.0, size=n)

    def phi(t, c0):
        return (
            c0 * t
            + 0.5 * curvature * t * t
            + s @ np.maximum(margin - t * slope, 0) ** 2
        )

    # a descent direction: phi'(0) < 0
    c0 = 2.0 * (s * slope) @ np.maximum(margin, 0.0) - 1.0
    tau = exact_line_search(margin, slope, s, c0, curvature)
    assert tau >= 0
    best = phi(tau, c0)
    grid = np.concatenate(
        [np.linspace(0, 2 * tau + 1, 2001), tau + np.array([-1, 1]) * 1e-6]
    )
    values = np.array([phi(t, c0) for t in grid if t >= 0])
    assert best <= values.min() + 1e-9 * (1 + abs(values.min()))
