"""hinge_path: every point is the optimum at its C; the default grid's start."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import l1_min_c

from hinge_estimators import HingeClassifier, LinearObjective, hinge_path
from hinge_estimators.losses import Hinge, get_loss
from hinge_estimators.model_selection._grid import default_Cs

TOL = 1e-10


def _data(sparse=False, n=60, d=5, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, d)) + 0.8 * (2 * y[:, None] - 1) * rng.normal(size=d)
    if sparse:
        X[rng.random(X.shape) < 0.4] = 0.0
        X = sp.csr_matrix(X)
    return X, y, rng.uniform(0.2, 3.0, size=n)


def _primal(loss, X, y, weights, C, coef, intercept):
    """P(w, b) = ||w||^2 / 2 + C sum_i s_i loss(y_i, x_i w + b), written out."""
    scores = np.asarray(X @ coef.ravel()).ravel() + intercept[0]
    signs = 2.0 * y - 1.0
    losses = get_loss(loss).loss(signs[:, None], scores[:, None]).ravel()
    return 0.5 * coef.ravel() @ coef.ravel() + C * weights @ losses


@pytest.mark.parametrize(
    "loss, solver",
    [("hinge", "dual_cd"), ("squared_hinge", "dual_cd"), ("squared_hinge", "newton")],
)
@pytest.mark.parametrize(
    "sparse, fit_intercept, weighted",
    [(False, True, True), (True, False, False), (True, True, True)],
)
def test_every_point_is_the_cold_optimum(loss, solver, sparse, fit_intercept, weighted):
    X, y, weights = _data(sparse)
    weights = weights if weighted else np.ones(len(y))
    Cs = [0.01, 0.1, 1.0, 10.0]
    params = dict(loss=loss, solver=solver, fit_intercept=fit_intercept, tol=TOL)
    path = hinge_path(
        X, y, Cs, sample_weight=weights if weighted else None, max_iter=20_000,
        random_state=0, **params,
    )  # fmt: skip
    assert path.converged.all()
    assert np.all(path.optimality <= TOL)
    for i, C in enumerate(Cs):
        cold = HingeClassifier(C=C, max_iter=20_000, random_state=0, **params)
        cold.fit(X, y, sample_weight=weights)
        ours = _primal(loss, X, y, weights, C, path.coefs[i], path.intercepts[i])
        reference = _primal(loss, X, y, weights, C, cold.coef_, cold.intercept_)
        assert ours == pytest.approx(reference, rel=1e-6)
        assert path.objective_values[i] == pytest.approx(ours, rel=1e-9)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_auto_path_on_wide_sparse_data_switches_to_newton(fit_intercept):
    # auto follows C on text-like data: dual_cd's cheap passes at small C,
    # newton once C ||x||^2 passes its limit (2 with an intercept, 10
    # without); the switch starts newton from
    # the primal solutions, and every point is still the cold optimum
    from ._problems import zipf_text

    X, y = zipf_text(300, 1500, seed=1)
    weights = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    Cs = [0.1, 0.5, 3.0, 30.0, 300.0]
    params = dict(fit_intercept=fit_intercept, tol=1e-8, random_state=0)
    solvers = []
    path_model = HingeClassifier(**params)
    problem = path_model._problem(X, y, weights, Cs=Cs)
    from hinge_estimators.model_selection._walk import walk

    for _ in walk(path_model, problem, Cs):
        solvers.append(path_model.solver_.name)
    assert solvers[0] == "dual_cd" and solvers[-1] == "newton"
    path = hinge_path(X, y, Cs, sample_weight=weights, **params)
    assert path.converged.all()
    for i, C in enumerate(Cs):
        cold = HingeClassifier(C=C, **params).fit(X, y, sample_weight=weights)
        assert cold.solver_.name == solvers[i]  # the same choice as a fit
        ours = _primal(
            "squared_hinge", X, y, weights, C, path.coefs[i], path.intercepts[i]
        )
        reference = _primal(
            "squared_hinge", X, y, weights, C, cold.coef_, cold.intercept_
        )
        assert ours == pytest.approx(reference, rel=1e-6)


def test_multiclass_path_matches_cold_fits():
    rng = np.random.default_rng(1)
    y = np.arange(45) % 3
    X = rng.normal(size=(45, 4)) + 2.0 * np.eye(3, 4)[y]
    Cs = [0.05, 0.5, 5.0]
    path = hinge_path(X, y, Cs, loss="hinge", solver="dual_cd", tol=TOL, random_state=0)
    assert path.coefs.shape == (3, 3, 4)
    for i, C in enumerate(Cs):
        cold = HingeClassifier(loss="hinge", C=C, tol=TOL, random_state=0).fit(X, y)
        value = cold.objective_value_
        assert path.objective_values[i] == pytest.approx(value, rel=1e-6)


def test_grid_is_sorted_and_default_grid_spans_eps():
    X, y, _ = _data()
    path = hinge_path(X, y, [1.0, 0.1, 10.0])
    np.testing.assert_array_equal(path.Cs, [0.1, 1.0, 10.0])
    default = hinge_path(X, y, n_Cs=4, eps=1e-3)
    assert default.Cs[-1] / default.Cs[0] == pytest.approx(1e3)
    assert np.all(np.diff(default.Cs) > 0)


def test_l2_grid_starts_where_the_largest_score_moves_by_the_margin():
    # W = -C V to first order: at a C 1000 times below the start the largest
    # score has moved by 1/1000 of the margin
    X, y, _ = _data()
    path = hinge_path(X, y, n_Cs=2, loss="squared_hinge", tol=TOL)
    tiny = hinge_path(X, y, [path.Cs[0] * 1e-3], loss="squared_hinge", tol=TOL)
    moved = np.abs(X @ tiny.coefs[0].ravel()).max()
    assert moved == pytest.approx(1e-3, rel=1e-2)


@pytest.mark.parametrize("loss, slope", [("squared_hinge", 1.0), ("hinge", 2.0)])
def test_l1_grid_starts_at_l1_min_c(loss, slope):
    # the L1 start is the smallest C with a non-zero coefficient; without an
    # intercept it is sklearn's l1_min_c for the squared hinge, whose slope
    # at 0 is twice the hinge's (built from the penalty object only, no L1
    # solver needed)
    X, y, _ = _data()
    loss_obj = get_loss(loss)
    objective = LinearObjective(
        loss_obj, X, (2.0 * y - 1.0)[:, None], n_outputs=1, fit_intercept=False,
        penalty="l1",
    )  # fmt: skip
    problem = SimpleNamespace(objective=objective, C_factor=1.0)
    start = default_Cs(problem, 2, 1e-2)[0]
    assert start == pytest.approx(
        slope * l1_min_c(X, y, loss="squared_hinge", fit_intercept=False), rel=1e-9
    )


def _hinge_at_zero(y, s, C, intercept):
    """``P`` at ``W = 0`` with the best intercept, for the binary hinge: a
    convex piecewise-linear function of ``b`` with its kinks at ``+-1``."""
    signs = np.where(y == y.max(), 1.0, -1.0)
    candidates = [-1.0, 1.0] if intercept else [0.0]
    return min(C * s @ np.maximum(0.0, 1.0 - signs * b) for b in candidates)


@pytest.mark.parametrize(
    "params",
    [{}, {"fit_intercept": False}, {"class_weight": {0: 1.0, 1: 3.0}}],
    ids=["intercept", "no_intercept", "class_weight"],
)
def test_hinge_l1_grid_starts_where_the_model_moves(params):
    # the best intercept puts a class on the hinge's kink, where the
    # gradient the start was read from is one of a box of subgradients:
    # the start lay 5.7x below the first non-zero coefficient on these
    # imbalanced data. Below the start W = 0 is optimal (a fit certified to
    # 1e-9 reaches no lower than the best intercept alone); above it the
    # model moves (any fit below that value proves it)
    X, y = make_classification(80, 8, n_informative=4, random_state=11, weights=[0.7])
    with warnings.catch_warnings():
        # the path's second point, 1e4 times further, is not what is tested
        warnings.simplefilter("ignore", ConvergenceWarning)
        path = hinge_path(X, y, n_Cs=2, loss="hinge", penalty="l1", **params)
    start = path.Cs[0]
    weights = params.get("class_weight", {0: 1.0, 1: 1.0})
    s = np.array([weights[label] for label in y])
    intercept = params.get("fit_intercept", True)
    fit = dict(loss="hinge", penalty="l1", tol=1e-9, max_iter=20_000, **params)
    below = HingeClassifier(C=0.9 * start, **fit).fit(X, y)
    assert below.optimality_ <= 1e-9
    zero = _hinge_at_zero(y, s, 0.9 * start, intercept)
    assert zero <= below.objective_value_ * (1 + 1e-7)
    with warnings.catch_warnings():
        # any point below the best intercept's value proves it: no certificate
        warnings.simplefilter("ignore", ConvergenceWarning)
        above = HingeClassifier(C=1.1 * start, **fit).fit(X, y)
    assert above.objective_value_ < _hinge_at_zero(y, s, 1.1 * start, intercept)


def test_hinge_l1_grid_start_ignores_the_gradients_unbalanced_choice():
    # the gradient's choice at the kink breaks the free intercept's sum G =
    # 0, and its norm can lie below the least feasible one: kept as a
    # candidate, it put the start 11 % too high here (non-zero coefficients
    # below it; the review found 10 of 50 random cases, up to 3.2x)
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rows = np.r_[np.flatnonzero(y == 0)[:40], np.flatnonzero(y == 1)]
    X, y = X[rows], y[rows]
    weights = {0: 5.0, 1: 1.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        path = hinge_path(
            X, y, n_Cs=2, loss="hinge", penalty="l1", class_weight=weights
        )
    C = 0.9 * path.Cs[0]
    below = HingeClassifier(
        loss="hinge", penalty="l1", class_weight=weights, C=C, tol=1e-9,
        max_iter=20_000,
    ).fit(X, y)  # fmt: skip
    assert below.optimality_ <= 1e-9
    s = np.array([weights[label] for label in y])
    assert _hinge_at_zero(y, s, C, True) <= below.objective_value_ * (1 + 1e-7)


def test_hinge_l1_grid_start_is_finite_where_w_0_is_always_optimal():
    # a minority class within the majority's reach: the least subgradient is
    # 0 (W = 0 optimal at every C), and the start was 1 / 1e-16 (5.6e14;
    # every fit of the path at max_iter); the gradient's rule stands in
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 5))
    y = (rng.random(200) < 0.3).astype(int)
    path = hinge_path(X, y, n_Cs=3, loss="hinge", penalty="l1")
    assert path.Cs[-1] < 1e6
    assert all(path.converged)


def test_hinge_least_subgradient_with_both_classes_on_the_kink():
    # Hinge(margin=0) at W = 0, b = 0: every sample sits on the kink, both
    # classes, and with balanced classes the kink's derivatives sum to 0:
    # the free intercept's shared multiplier has no class to scale (it
    # divided 0 by 0); the linear program still finds the least subgradient
    from hinge_estimators.model_selection._grid import _least_hinge_subgradient

    X = np.random.default_rng(4).standard_normal((60, 5))
    signs = np.tile([1.0, -1.0], 30)
    objective = LinearObjective(
        Hinge(margin=0.0), X, signs[:, None], n_outputs=1, penalty="l1"
    )
    start = objective.zeros()
    V, _ = objective.split(objective.gradient(start))
    least = _least_hinge_subgradient(objective, start, V)
    assert np.all(np.isfinite(least))
    # any a in [0, 1] with sum G = 0 gives a V: a = 0 gives V = 0, the least
    np.testing.assert_allclose(least, 0.0, atol=1e-9)


@pytest.mark.parametrize(
    "penalty, n_features, decades", [("l2", 5, 6), ("l1", 5, 4), ("l1", 80, 2)]
)
def test_default_grid_span_depends_on_the_penalty_and_shape(
    penalty, n_features, decades
):
    # far above the first non-zero coefficient an L1 problem is nearly
    # unregularized and slow to certify: the default grid stops at glmnet's
    # 4 decades (n >= d) or 2 (n < d); L2 keeps 6
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, n_features))
    y = (X[:, 0] + 0.5 * rng.standard_normal(40) > 0).astype(int)
    objective = LinearObjective(
        get_loss("squared_hinge"), X, (2.0 * y - 1.0)[:, None], n_outputs=1,
        penalty=penalty,
    )  # fmt: skip
    problem = SimpleNamespace(objective=objective, C_factor=1.0)
    Cs = default_Cs(problem, 3, None)
    assert Cs[-1] / Cs[0] == pytest.approx(10.0**decades)


def test_penalty_none_and_bad_Cs_are_refused():
    X, y, _ = _data()
    with pytest.raises(ValueError, match="needs a penalty"):
        hinge_path(X, y, [1.0], penalty=None)
    with pytest.raises(ValueError, match="positive"):
        hinge_path(X, y, [0.0, 1.0])


def test_unconverged_points_are_named():
    X, y, _ = _data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = hinge_path(X, y, [1e3], loss="hinge", solver="dual_cd", max_iter=1,
                          tol=1e-12)  # fmt: skip
    assert not path.converged[0]
    assert any(
        issubclass(w.category, ConvergenceWarning) and "1e+03" in str(w.message)
        for w in caught
    )


def test_dual_warm_state_scales_alpha_and_marks_the_path():
    from hinge_estimators.model_selection._walk import _scaled_state

    state = [
        {"alpha": np.array([1.0, 2.0]), "shift": 0.0},
        {"alpha": np.array([0.5, 0.0]), "shift": 1.0},
    ]
    warm = _scaled_state(state, 2.0)
    np.testing.assert_array_equal(warm[0]["alpha"], [2.0, 4.0])
    np.testing.assert_array_equal(warm[1]["alpha"], [1.0, 0.0])
    assert all(column["along_path"] for column in warm)
    assert [column["shift"] for column in warm] == [0.0, 1.0]


def test_a_finish_that_failed_at_one_C_still_runs_at_the_next(monkeypatch):
    # the path used to skip dual_cd's primal finish at every C after one
    # where it ran and did not certify: on the 5,000 x 20,000 text (hinge)
    # a finish out of passes at C = 382 left C = 790 to dual CD alone, at
    # max_iter too, where the finish certifies in 346 passes
    import hinge_estimators.solvers._dual_cd as module

    calls = []

    def failing(*args, **kwargs):
        calls.append(args[6])  # tol: one call per solve that stalled
        return None, None, 1

    monkeypatch.setattr(module, "primal_finish", failing)
    monkeypatch.setattr(module, "stalled", lambda *args: True)
    monkeypatch.setattr(module, "EARLY_TRIES", 0)
    monkeypatch.setattr(module, "dual_polish", lambda *args: (None, None, 0))
    X, y, _ = _data(n=200, d=8)
    Cs = [0.1, 10.0, 1000.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        path = hinge_path(
            X, y, Cs, loss="hinge", solver="dual_cd", tol=1e-14, max_iter=200,
            random_state=0,
        )  # fmt: skip
    # no point certifies at 1e-14 before its first check, where it stalls
    # (forced): each has its finish
    assert not path.converged.any()
    assert len(calls) == len(Cs)
