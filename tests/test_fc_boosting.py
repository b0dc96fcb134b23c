"""solver="fc_boosting": greedy feature selection with a fully-corrective refit.

References are independent of the solver: the full optimum from L-BFGS, and
gradients written out here from the squared hinge's formula.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import (
    LOSSES,
    Hinge,
    PairwiseSquaredHinge,
    SmoothHinge,
    SquaredHinge,
    WestonWatkins,
)
from hinge_estimators.solvers import (
    LBFGS,
    SOLVERS,
    FullyCorrectiveBoosting,
    auto_solver,
    get_solver,
)

from ._problems import make_objective

LAYOUTS = [
    dict(seed=0, d=6),
    dict(seed=1, d=6, sparse=True, weighted=True, n_classes=3),
    dict(seed=2, d=6, fit_intercept=False, C=10.0),
    dict(seed=3, d=6, intercept_scaling=2.0, weighted=True),
    dict(seed=4, d=6, n=60, C=0.1, weighted=True, sparse=True),
]


def _squared_hinge_gradient(X, y, s, C, W, b):
    """dP/dW and dP/db of the binary squared hinge, written out from its formula."""
    X = X.toarray() if sp.issparse(X) else X
    margin = y * (X @ W + b)
    dscore = -2.0 * C * s * y * np.maximum(1.0 - margin, 0.0)
    return W + X.T @ dscore, dscore.sum()


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
@pytest.mark.parametrize(
    "loss",
    [SquaredHinge(), SmoothHinge(gamma=0.5), WestonWatkins(squared=True)],
    ids=repr,
)
def test_all_features_selected_gives_the_full_lbfgs_optimum(loss, layout):
    if loss.is_multiclass and layout.get("intercept_scaling"):
        layout = dict(layout, intercept_scaling=None)
    objective = make_objective(loss, **layout)
    result = FullyCorrectiveBoosting().solve(objective, tol=1e-12, max_iter=100)
    reference = LBFGS().solve(objective, tol=1e-12, max_iter=10_000)
    assert result.converged and reference.converged
    W, _ = objective.split(result.coef)
    assert np.count_nonzero(np.any(W != 0, axis=0)) == objective.n_features
    assert result.value == pytest.approx(reference.value, rel=1e-12)
    (W, b), (W_ref, b_ref) = (
        objective.split(result.coef),
        objective.split(reference.coef),
    )
    np.testing.assert_allclose(W, W_ref, rtol=1e-6, atol=1e-8)
    if loss.is_multiclass:  # moving every class's intercept together changes nothing
        b, b_ref = b - b.mean(), b_ref - b_ref.mean()
    np.testing.assert_allclose(b, b_ref, rtol=1e-6, atol=1e-8)
    # the reported measure is honest: it is at least the strong-convexity
    # bound ||g||^2 / (2 mu |P|) recomputed here (centered coordinates give
    # the same W, so the same bound up to the intercept's rounding)
    mu = 1.0
    if objective.fit_intercept and objective.intercept_penalty > 0:
        mu = min(mu, objective.intercept_penalty)
    grad = objective.gradient(result.coef)
    measured = grad @ grad / (2 * mu * abs(result.value))
    assert measured <= 1e-12
    assert result.optimality <= 1e-12


def test_pairwise_loss_reaches_the_lbfgs_optimum():
    objective = make_objective(PairwiseSquaredHinge(), seed=5, d=6, fit_intercept=False)
    result = FullyCorrectiveBoosting().solve(objective, tol=1e-12, max_iter=100)
    reference = LBFGS().solve(objective, tol=1e-12, max_iter=10_000)
    assert result.converged
    assert result.value == pytest.approx(reference.value, rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_each_round_refits_to_kkt_and_selects_the_largest_gradient(sparse):
    objective = make_objective(SquaredHinge(), seed=6, n=80, d=12, sparse=sparse)
    X, y, s, C = objective.X, objective.y[:, 0], objective.sample_weight, objective.C
    previous, selected, values = set(), [], []
    for k in range(1, 8):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = FullyCorrectiveBoosting().solve(objective, tol=1e-12, max_iter=k)
        W, b = objective.split(result.coef)
        active = set(np.flatnonzero(W[0]))
        # one new feature per round, never one selected before
        assert previous < active and len(active) == k
        (new,) = active - previous
        # the feature added is the inactive one with the largest |gradient|,
        # measured at the previous round's solution
        if selected:
            assert new == selected[-1][1]
        grad_W, grad_b = _squared_hinge_gradient(X, y, s, C, W[0], b[0])
        # KKT of the refit: the active features' and the intercept's gradient
        # vanish, so none of them can be selected again
        scale = np.abs(grad_W).max()
        assert np.abs(grad_W[list(active)]).max() <= 1e-9 * scale
        assert abs(grad_b) <= 1e-9 * scale
        inactive = [j for j in range(objective.n_features) if j not in active]
        next_feature = inactive[int(np.argmax(np.abs(grad_W[inactive])))]
        selected.append((active, next_feature))
        values.append(result.value)
        previous = active
    # the objective never increases from one round to the next
    assert np.all(np.diff(values) <= 1e-12 * values[0])


def test_history_never_increases_and_callback_sees_every_round():
    objective = make_objective(SmoothHinge(), seed=7, n=60, d=10, weighted=True)
    seen = []
    result = FullyCorrectiveBoosting().solve(
        objective, tol=1e-10, max_iter=100, callback=lambda i, v: seen.append((i, v))
    )
    assert result.converged
    history = np.array(result.history)
    assert np.all(np.diff(history) <= 1e-12 * history[0])
    assert [i for i, _ in seen] == list(range(1, result.n_iter + 1))


def test_max_iter_bounds_the_number_of_features_and_warns():
    X, y = make_classification(
        n_samples=200, n_features=30, n_informative=5, random_state=0
    )
    clf = HingeClassifier(solver="fc_boosting", max_iter=4, tol=1e-8)
    with pytest.warns(ConvergenceWarning, match="FullyCorrectiveBoosting"):
        clf.fit(X, y)
    assert np.count_nonzero(clf.coef_) == 4 and clf.n_iter_ == 4
    # the 4-feature model is the exact optimum over those 4 features
    support = np.flatnonzero(clf.coef_[0])
    restricted = HingeClassifier(solver="lbfgs", tol=1e-12).fit(X[:, support], y)
    np.testing.assert_allclose(clf.coef_[0, support], restricted.coef_[0], rtol=1e-5)
    np.testing.assert_allclose(clf.intercept_, restricted.intercept_, rtol=1e-5)


def test_one_vs_rest_classes_select_their_own_features():
    X, y = make_classification(
        n_samples=240,
        n_features=20,
        n_informative=6,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = HingeClassifier(solver="fc_boosting", max_iter=3).fit(X, y)
    assert clf.coef_.shape == (3, 20)
    assert np.all(np.count_nonzero(clf.coef_, axis=1) == 3)
    supports = {tuple(np.flatnonzero(row)) for row in clf.coef_}
    assert len(supports) > 1


def test_dense_and_sparse_input_give_the_same_model():
    X, y = make_classification(n_samples=150, n_features=15, random_state=2)
    X[np.abs(X) < 0.5] = 0.0
    dense = HingeClassifier(solver="fc_boosting", tol=1e-10).fit(X, y)
    sparse = HingeClassifier(solver="fc_boosting", tol=1e-10).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.coef_, sparse.coef_, rtol=1e-8, atol=1e-12)
    assert dense.n_iter_ == sparse.n_iter_


def test_warm_start_keeps_the_selected_features():
    objective = make_objective(SquaredHinge(), seed=8, n=60, d=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = FullyCorrectiveBoosting().solve(objective, tol=1e-12, max_iter=3)
    resumed = FullyCorrectiveBoosting().solve(
        objective, first.coef, tol=1e-12, max_iter=100
    )
    cold = FullyCorrectiveBoosting().solve(objective, tol=1e-12, max_iter=100)
    assert resumed.converged
    assert resumed.n_iter == cold.n_iter - 3
    assert resumed.value == pytest.approx(cold.value, rel=1e-12)


@pytest.mark.parametrize("loss", ["hinge", "crammer_singer", "weston_watkins"])
def test_non_smooth_losses_are_refused_with_what_to_use(loss):
    with pytest.raises(
        ValueError,
        match=r"FullyCorrectiveBoosting needs a smooth loss.*solver='dual_cd'",
    ):
        get_solver("fc_boosting", LOSSES[loss]())
    with pytest.raises(ValueError, match="FullyCorrectiveBoosting"):
        HingeClassifier(loss=Hinge(), solver="fc_boosting").fit([[0.0], [1.0]], [0, 1])


def test_fc_boosting_is_registered_but_never_auto():
    assert SOLVERS["fc_boosting"] is FullyCorrectiveBoosting
    for cls in LOSSES.values():
        assert not isinstance(auto_solver(cls()), FullyCorrectiveBoosting)


@pytest.mark.parametrize("seed", range(4))
def test_features_tied_up_to_rounding_are_taken_in_index_order(seed):
    # a column and its copy rescaled by 1 -+ 1e-15 have gradient blocks that
    # differ by rounding only: the lower index must win, whichever way the
    # rounding (or another BLAS kernel) ranks them
    from hinge_estimators import LinearObjective

    base = make_objective(SquaredHinge(), seed=seed, n=60, d=4)
    X = base.X
    strongest = int(np.argmax(np.abs(base.gradient(base.zeros())[:4])))
    twin = X[:, [strongest]] * (1 + 1e-15 * (-1) ** seed)
    objective = LinearObjective(
        SquaredHinge(), np.hstack([twin, X]), base.y, n_outputs=1
    )
    result = FullyCorrectiveBoosting().solve(objective, tol=1e-8, max_iter=1)
    W, _ = objective.split(result.coef)
    assert W[0, 0] != 0 and np.count_nonzero(W) == 1


def test_refit_on_ordinary_data_raises_no_floating_point_error():
    # the refit's trust region reached radius 0 and Steihaug divided by zero
    # (issue 13, N5; found by the fuzz suite)
    from ._fuzz_inputs import Case
    from ._fuzz_oracle import run_case

    outcome = run_case(
        Case(
            loss="gaussian_hinge",
            solver="fc_boosting",
            est_kw=(("tol", 1e-08),),
            seed=2335,
            n=6,
            separation=0.5,
        )
    )
    # ordinary data: an error (even a clear one) is a defect here
    assert outcome.kind in ("certified", "flagged"), outcome.detail


def test_shifted_features_give_the_same_model_and_a_certified_optimum():
    # on X + 1e5 the intercept's column swamped the features: coef_ = 0,
    # P = 0.399 against 0.287, no warning (issue 13, N6)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] + 0.5 * rng.normal(size=40) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        plain = HingeClassifier(solver="fc_boosting", C=0.01).fit(X, y)
        shifted = HingeClassifier(solver="fc_boosting", C=0.01).fit(X + 1e5, y)
    assert np.any(shifted.coef_ != 0)
    np.testing.assert_allclose(shifted.coef_, plain.coef_, rtol=1e-4, atol=1e-8)


def test_large_C_stops_at_a_certified_optimum():
    # C = 100 and weights with zeros: the gradient test stopped 5 % above
    from ._fuzz_inputs import Case
    from ._fuzz_oracle import run_case

    outcome = run_case(
        Case(
            category="weights",
            solver="fc_boosting",
            est_kw=(("C", 100.0),),
            seed=543,
            n=30,
            d=6,
            weights="zeros",
        )
    )
    assert outcome.kind == "certified", f"{outcome.kind}: {outcome.detail}"
