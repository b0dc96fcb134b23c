"""Dual coordinate descent: exact optima, honest certificates, compiled kernels.

References are independent of the dual: L-BFGS on the smooth squared hinge,
an explicit slack-variable QP (SLSQP) for the hinge and Crammer-Singer losses,
and duality gaps recomputed here from the dual variables with the textbook
formulas rather than the solver's helpers.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import (
    CrammerSinger,
    GaussianHinge,
    Hinge,
    ModifiedHuber,
    SmoothHinge,
    SquaredHinge,
    WestonWatkins,
)
from hinge_estimators.solvers import LBFGS, DualCoordinateDescent
from hinge_estimators.solvers._dual_cd_fast import sample_subproblem

from ._problems import make_objective, naive_value
from ._qp import solve_qp

LOSSES = [
    Hinge(),
    Hinge(margin=0.5),
    SquaredHinge(),
    CrammerSinger(),
    CrammerSinger(squared=True, delta=0.7),
]
LAYOUTS = [
    dict(seed=0, n=30, d=3),
    dict(seed=1, n=30, d=4, n_classes=3, weighted=True),
    dict(seed=2, n=30, d=4, fit_intercept=False, C=3.0, sparse=True),
    dict(seed=3, n=24, d=3, intercept_scaling=1.5, weighted=True, sparse=True),
    dict(seed=4, n=30, d=3, n_classes=3, dtype=np.float32),
]


def _reference_value(objective):
    if objective.loss.is_smooth:
        return LBFGS().solve(objective, tol=1e-12, max_iter=10_000).value
    return solve_qp(objective)[0]


def _solve(objective, tol=1e-10, seed=0, **kwargs):
    return DualCoordinateDescent(**kwargs).solve(
        objective, tol=tol, max_iter=100_000, rng=np.random.default_rng(seed)
    )


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda p: str(p))
@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_dual_cd_reaches_the_independent_optimum(loss, layout):
    objective = make_objective(loss, **layout)
    result = _solve(objective)
    assert result.converged
    reference = _reference_value(objective)
    assert result.value == pytest.approx(naive_value(objective, result.coef), rel=1e-12)
    # SLSQP itself is accurate to about 1e-8: the dual optimum may not be
    # meaningfully below it, nor more than 1e-6 above
    assert result.value >= reference * (1 - 1e-7)
    assert result.value <= reference * (1 + 1e-6)
    # the certificate bounds the true suboptimality
    assert (result.value - reference) / result.value <= result.optimality + 1e-7


def _independent_gap(objective, result):
    """Relative duality gap at the certificate's dual point, checked feasible.

    The dual values are the textbook ones (hinge: ``m sum a - |w|^2 / 2``;
    squared hinge: ``- sum a^2 / (4 C_i)`` more; Crammer-Singer: ``delta``
    times the true-class variables), written here without the solver's code.
    """
    X = objective.X.toarray() if sp.issparse(objective.X) else objective.X
    C_i = objective.loss_scale * objective.sample_weight
    form = objective.loss.dual_form()
    B = objective.intercept_scaling if objective.fit_intercept else None
    unpenalized = objective.fit_intercept and B is None
    primal = naive_value(objective, result.coef)
    dual = 0.0
    if not form.multiclass:
        for k, state in enumerate(result.state):
            y = objective.y[:, k]
            alpha = state["certificate_alpha"]
            assert np.all(alpha >= 0)
            if not form.squared:
                assert np.all(alpha <= C_i * (1 + 1e-12))
            if unpenalized:
                assert abs(alpha @ y) <= 1e-12 * max(alpha.sum(), 1.0)
            w = X.T @ (alpha * y)
            quad = w @ w + ((B * (alpha @ y)) ** 2 if B else 0.0)
            ridge = 0.25 / C_i * alpha**2 if form.squared else 0.0 * alpha
            dual += form.margin * alpha.sum() - 0.5 * quad - np.sum(ridge)
    else:
        (state,) = result.state
        alpha = state["certificate_alpha"]
        rows = np.arange(objective.n_samples)
        true = alpha[rows, objective.y]
        scale = np.abs(alpha).sum()
        wrong = alpha.copy()
        wrong[rows, objective.y] = 0.0
        assert np.all(wrong <= 0.0)
        assert np.allclose(alpha.sum(axis=1), 0.0, atol=1e-12 * scale)
        if not form.squared:
            assert np.all(true <= C_i * (1 + 1e-12))
        if unpenalized:
            assert np.allclose(alpha.sum(axis=0), 0.0, atol=1e-12 * scale)
        W = X.T @ alpha
        quad = np.sum(W * W) + (np.sum((B * alpha.sum(axis=0)) ** 2) if B else 0.0)
        ridge = np.sum(0.25 / C_i * true**2) if form.squared else 0.0
        dual = form.margin * true.sum() - 0.5 * quad - ridge
    return (primal - dual) / primal


@pytest.mark.parametrize("layout", LAYOUTS[:4], ids=lambda p: str(p))
@pytest.mark.parametrize("loss", LOSSES, ids=repr)
@pytest.mark.parametrize("tol", [1e-2, 1e-5])
def test_reported_duality_gap_is_honest(loss, layout, tol):
    objective = make_objective(loss, **layout)
    result = _solve(objective, tol=tol)
    assert result.converged
    assert result.optimality <= tol
    gap = _independent_gap(objective, result)
    assert result.optimality == pytest.approx(gap, rel=1e-6, abs=1e-12)


def test_unpenalized_intercept_is_exact_not_a_large_scaling():
    # a strongly shifted problem: the penalized bias (any finite scaling) must
    # lose objective, the exact intercept must match L-BFGS on the same objective
    objective = make_objective(SquaredHinge(), seed=7, n=60, d=3, weighted=True)
    objective.X = objective.X + 5.0
    result = _solve(objective)
    reference = LBFGS().solve(objective, tol=1e-12, max_iter=10_000)
    assert result.value == pytest.approx(reference.value, rel=1e-9)
    np.testing.assert_allclose(result.coef, reference.coef, rtol=1e-5, atol=1e-6)
    penalized = make_objective(
        SquaredHinge(), seed=7, n=60, d=3, weighted=True, intercept_scaling=10.0
    )
    penalized.X = penalized.X + 5.0
    biased = _solve(penalized)
    assert objective.value(biased.coef) > result.value * (1 + 1e-6)


@pytest.mark.parametrize("loss", [Hinge(), SquaredHinge(), CrammerSinger()], ids=repr)
def test_shrinking_does_not_change_the_optimum(loss):
    objective = make_objective(loss, seed=8, n=80, d=5, n_classes=3)
    on = _solve(objective, shrinking=True)
    off = _solve(objective, shrinking=False)
    assert on.value == pytest.approx(off.value, rel=1e-9)


def test_empty_rows_and_zero_weights_are_handled():
    objective = make_objective(Hinge(), seed=9, n=40, d=4, sparse=True, weighted=True)
    X = objective.X.tolil()
    X[3, :] = 0.0
    X[11, :] = 0.0
    objective.X = X.tocsr()
    objective.sample_weight[5] = 0.0
    result = _solve(objective)
    assert result.converged
    assert result.state[0]["alpha"][5] == 0.0
    assert result.value <= solve_qp(objective)[0] * (1 + 1e-6)


@settings(max_examples=200, deadline=None)
@given(
    K=st.integers(2, 7),
    data=st.data(),
    squared=st.booleans(),
    A=st.one_of(st.just(0.0), st.floats(0.05, 5.0)),
    C=st.floats(0.05, 5.0),
)
def test_compiled_subproblem_matches_a_generic_qp(K, data, squared, A, C):
    B = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=K, max_size=K)))
    y = data.draw(st.integers(0, K - 1))
    A_y = A + (0.5 / C if squared else 0.0)
    U = np.inf if squared else C
    a, _ = sample_subproblem(np.ascontiguousarray(B), y, A, A_y, U)
    curv = np.full(K, A)
    curv[y] = A_y

    def f(x):
        return 0.5 * np.sum(curv * x * x) + B @ x

    bounds = [(None, 0.0)] * K
    bounds[y] = (None, None if squared else C)
    if A == 0.0 and not squared:
        # a linear program: SLSQP reports "Inequality constraints
        # incompatible" on some of these and returns garbage (-7.6e13), so
        # the exact simplex answers instead
        ref = linprog(B, A_eq=np.ones((1, K)), b_eq=[0.0], bounds=bounds)
    else:
        ref = minimize(
            f,
            np.zeros(K),
            jac=lambda x: curv * x + B,
            bounds=bounds,
            constraints=[{"type": "eq", "fun": np.sum, "jac": lambda x: np.ones(K)}],
            method="SLSQP",
            options={"ftol": 1e-15, "maxiter": 1000},
        )
    assert abs(a.sum()) <= 1e-12 * (1 + np.abs(a).sum())
    assert np.all(np.delete(a, y) <= 0.0)
    assert a[y] <= U
    assume(ref.success)  # a reference that failed proves nothing either way
    assert f(a) <= ref.fun + 1e-9


@pytest.mark.parametrize(
    "loss, advice",
    [
        (GaussianHinge(), "newton"),
        (SmoothHinge(), "newton"),
        (ModifiedHuber(), "newton"),
        (WestonWatkins(), "gd"),
        (CrammerSinger(smoothing=0.1), "newton"),
    ],
    ids=repr,
)
def test_refuses_losses_without_a_compiled_dual(loss, advice):
    with pytest.raises(ValueError, match=f"DualCoordinateDescent.*{advice}"):
        DualCoordinateDescent().check_loss(loss)


def test_refuses_the_unregularized_objective():
    objective = make_objective(Hinge(), penalty=None)
    with pytest.raises(ValueError, match="penalty='l2'"):
        _solve(objective)


def test_estimator_warm_start_resumes_the_dual():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    params = dict(loss="hinge", solver="dual_cd", tol=1e-6, random_state=0)
    cold = HingeClassifier(**params).fit(X, y)
    clf = HingeClassifier(**params, max_iter=3, warm_start=True)
    with pytest.warns(ConvergenceWarning, match="DualCoordinateDescent"):
        clf.fit(X, y)
    clf.set_params(max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    # both are certified within tol = 1e-6 of the same optimum
    assert clf.objective_value_ == pytest.approx(cold.objective_value_, rel=1e-6)
    # resuming from the optimum: certified before any pass
    again = clf.fit(X, y)
    assert again.n_iter_ == 0
    assert clf.optimality_ <= 1e-6


def test_float32_and_float64_input_give_the_same_model():
    rng = np.random.default_rng(1)
    y = np.arange(150) % 3
    X = rng.normal(size=(150, 5)) + 2.0 * np.eye(5)[y]
    params = dict(loss="crammer_singer", solver="dual_cd", tol=1e-9, max_iter=50_000)
    f32 = HingeClassifier(**params).fit(X.astype(np.float32), y)
    # the same float32 values, given as float64
    f64 = HingeClassifier(**params).fit(X.astype(np.float32).astype(np.float64), y)
    np.testing.assert_allclose(f32.coef_, f64.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(f32.intercept_, f64.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "loss, shape, kwargs, expected",
    [
        (Hinge(), (100, 5), {}, "dual_cd"),
        (CrammerSinger(squared=True), (100, 5), {}, "dual_cd"),
        (SquaredHinge(), (1000, 10), {}, "newton"),
        (SquaredHinge(), (1000, 300), {}, "newton"),
        (SquaredHinge(), (1000, 600), {}, "dual_cd"),
        (SquaredHinge(), (1000, 10), {"sparse": True}, "newton"),
        (SquaredHinge(), (1000, 5000), {"sparse": True}, "dual_cd"),
        # wide sparse data (text) follows C times the mean weighted ||x||^2
        (SquaredHinge(), (1000, 5000), {"sparse": True, "scaled_C": 2.0}, "dual_cd"),
        (SquaredHinge(), (1000, 5000), {"sparse": True, "scaled_C": 2.5}, "newton"),
        (
            SquaredHinge(),
            (1000, 5000),
            {"sparse": True, "scaled_C": 5.0, "intercept": False},
            "dual_cd",
        ),
        (
            SquaredHinge(),
            (1000, 5000),
            {"sparse": True, "scaled_C": 20.0, "intercept": False},
            "newton",
        ),
        # dense wide data stays with dual_cd (it centers the rows itself)
        (SquaredHinge(), (1000, 5000), {"scaled_C": 1e4}, "dual_cd"),
        (Hinge(), (1000, 5000), {"sparse": True, "scaled_C": 1e4}, "dual_cd"),
        (GaussianHinge(), (100, 50), {}, "newton"),
        (WestonWatkins(), (100, 5), {}, "gd"),
        (WestonWatkins(squared=True), (100, 5), {}, "newton"),
        (Hinge(), (100, 5), {"penalty": None}, "gd"),
        (SquaredHinge(), (10, 500), {"penalty": None}, "newton"),
    ],
    ids=str,
)
def test_auto_rule(loss, shape, kwargs, expected):
    from hinge_estimators.solvers import auto_solver

    n, d = shape
    assert auto_solver(loss, n_samples=n, n_features=d, **kwargs).name == expected


# -- the unpenalized intercept converges (issue 12, item 3) -------------------
def _svc_objective(X, y, C):
    """The free-intercept hinge objective at libsvm's solution, one-vs-rest.

    ``SVC(kernel="linear")`` solves exactly ``1/2 |w|^2 + C sum hinge`` with an
    unpenalized ``b``: an independent reference for the hinge.
    """
    from sklearn.svm import SVC

    total = 0.0
    for k in np.unique(y) if len(np.unique(y)) > 2 else [np.max(y)]:
        target = np.where(y == k, 1.0, -1.0)
        svc = SVC(kernel="linear", C=C, tol=1e-10).fit(X, target)
        w, b = (
            np.ravel(svc.coef_.toarray() if sp.issparse(svc.coef_) else svc.coef_),
            svc.intercept_[0],
        )
        z = target * (np.asarray(X @ w).ravel() + b)
        total += 0.5 * w @ w + C * np.maximum(1.0 - z, 0.0).sum()
    return total


def _fit_quietly_converged(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return HingeClassifier(solver="dual_cd", random_state=0, **params).fit(X, y)


def _squared_reference(X, y, **params):
    # Newton on the (smooth, piecewise quadratic) squared hinge: independent
    # of the dual
    return HingeClassifier(
        loss="squared_hinge", solver="newton", tol=1e-12, max_iter=1000, **params
    ).fit(X, y)


def test_unpenalized_intercept_converges_on_small_rows():
    # rows of norm <= 0.05: the multiplier step scaled with them and the fit
    # stopped at 1000 passes with a gap of 0.48 and intercept -0.085
    X, y = np.array([[0.05], [0.0], [0.0], [0.0]]), np.array([1, 0, 0, 0])
    hinge = _fit_quietly_converged(X, y, loss="hinge", max_iter=300)
    assert hinge.objective_value_ == pytest.approx(1.99875, rel=1e-4)
    assert hinge.objective_value_ <= _svc_objective(X, y, 1.0) * (1 + 1e-4)
    assert hinge.intercept_[0] == pytest.approx(-1.0, abs=1e-3)
    squared = _fit_quietly_converged(X, y, loss="squared_hinge", max_iter=300)
    reference = _squared_reference(X, y)
    assert squared.objective_value_ == pytest.approx(
        reference.objective_value_, rel=1e-4
    )


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_unpenalized_intercept_converges_on_sparse_iris(loss):
    # uncentered sparse data: 2,510 passes (hinge) before
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    X = sp.csr_matrix(X)
    clf = _fit_quietly_converged(X, y, loss=loss, max_iter=400)
    if loss == "hinge":
        reference = _svc_objective(X, y, 1.0)
    else:
        reference = _squared_reference(X, y).objective_value_
    assert clf.objective_value_ <= reference * (1 + 1e-4)
    assert clf.objective_value_ >= reference * (1 - 1e-6)
    assert (clf.objective_value_ - reference) / clf.objective_value_ <= (
        clf.optimality_ + 1e-6
    )


def _sparse_counts(n, d, density, noise, seed=0):
    """Count-like non-negative sparse features, overlapping imbalanced classes."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 4.0, size=d)
    p = np.clip(p * density / p.mean(), 0.0, 1.0)
    mask = rng.random((n, d)) < p
    values = np.where(rng.random((n, d)) < 0.7, 1.0, rng.integers(1, 5, size=(n, d)))
    X = sp.csr_matrix(mask * values)
    w = rng.normal(size=d) * (rng.random(d) < 0.2)
    s = X @ w
    y = (s + rng.normal(scale=noise * s.std(), size=n) > np.quantile(s, 0.7)).astype(
        int
    )
    return X, y


@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
def test_unpenalized_intercept_converges_on_sparse_counts(loss):
    # non-negative sparse counts, 9 % non-zeros, shaped like a 3,076 x 1,617
    # text set (a quarter of it): the default fit ended at max_iter before
    # (the hinge with a gap of 5e-2: its primal finish, Newton-CG in
    # uncentered coordinates, crawled; now centered). At full size the hinge
    # certifies in 714 passes (1.5 s), but libsvm's reference takes 43 s
    # (10 s at its default tol), too slow for the suite
    X, y = _sparse_counts(770, 405, 0.09, noise=1.0)
    clf = _fit_quietly_converged(X, y, loss=loss, max_iter=1000)
    if loss == "hinge":
        reference = _svc_objective(X, y, 1.0)
    else:
        reference = _squared_reference(X, y).objective_value_
    assert clf.objective_value_ <= reference * (1 + 1e-4)
    assert clf.objective_value_ >= reference * (1 - 1e-6)


def _kernel_centering(monkeypatch):
    """Record, per binary kernel call, whether it was asked to center rows."""
    import hinge_estimators.solvers._dual_cd as module

    calls, kernel = [], module.binary_dual_cd

    def spy(*args, **kwargs):
        calls.append("mean" in kwargs)
        return kernel(*args, **kwargs)

    monkeypatch.setattr(module, "binary_dual_cd", spy)
    return calls


@pytest.mark.parametrize(
    "params, centered",
    [
        ({}, True),
        ({"loss": "squared_hinge"}, True),
        ({"fit_intercept": False}, False),
        ({"intercept_scaling": 1.0}, False),  # penalized: not invariant
    ],
)
def test_sparse_rows_are_centered_where_the_intercept_is_free(
    params, centered, monkeypatch
):
    # the decision, not the time: with a free intercept the binary kernel
    # reads sparse rows as x_i - mu (never formed); otherwise centering would
    # change the problem, and the rows are read as they are
    calls = _kernel_centering(monkeypatch)
    X, y = _sparse_counts(300, 120, 0.09, noise=1.0)
    HingeClassifier(
        solver="dual_cd", random_state=0, **{"loss": "hinge", **params}
    ).fit(X, y)
    assert calls and set(calls) == {centered}


def test_centered_sparse_rows_give_the_dense_copys_optimum_in_fewer_passes():
    # text-like rows share their frequent terms: uncentered, the intercept's
    # constant feature and the mean row are nearly collinear and the passes
    # grow (171 against 52 here, hinge at C = 1, before); centered in the
    # kernel, the sparse fit follows the dense copy, which is centered in
    # memory
    from ._problems import zipf_text

    X, y = zipf_text(1000, 3000, nnz_per_row=40, seed=2)
    for loss in ("hinge", "squared_hinge"):
        sparse = _fit_quietly_converged(X, y, loss=loss, tol=1e-6, max_iter=5000)
        dense = _fit_quietly_converged(
            X.toarray(), y, loss=loss, tol=1e-6, max_iter=5000
        )
        assert sparse.objective_value_ == pytest.approx(
            dense.objective_value_, rel=3e-6
        )
        assert sparse.n_iter_ <= 1.5 * dense.n_iter_, (
            loss,
            sparse.n_iter_,
            dense.n_iter_,
        )


def test_unpenalized_intercept_converges_on_imbalanced_dense_data():
    # shaped like SYLVA (standardized, 5 % positives, nearly separable): the
    # optimal intercept is far from 0 (about -2) and the default fit ended at
    # 1000 passes, 1.1e-3 above libsvm's optimum, its primal finish out of
    # budget before its first smoothing stage ended (each Hessian product was
    # charged a full pass; CG took hundreds per Newton step)
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        2000, 50, n_informative=25, weights=[0.95], class_sep=1.0,
        flip_y=0.005, random_state=0,
    )  # fmt: skip
    X = StandardScaler().fit_transform(X)
    clf = _fit_quietly_converged(X, y, loss="hinge", max_iter=1000)
    reference = _svc_objective(X, y, 1.0)
    assert clf.objective_value_ <= reference * (1 + 1e-4)
    assert clf.objective_value_ >= reference * (1 - 1e-6)
    assert clf.objective_value_ - reference <= (
        clf.optimality_ * clf.objective_value_ + 1e-6 * reference
    )


def _one_hot_categories(n, positions, seed):
    """Categorical data shaped like splice: ``positions`` 4-letter columns,
    one-hot and standardized, 3 classes from a sparse linear rule plus noise."""
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    letters = rng.integers(0, 4, size=(n, positions))
    X = np.zeros((n, positions * 4))
    X[np.arange(n)[:, None], np.arange(positions) * 4 + letters] = 1.0
    w = rng.normal(size=(3, positions * 4)) * (rng.random(positions * 4) < 0.15)
    y = np.argmax(X @ w.T + 0.7 * rng.gumbel(size=(n, 3)), axis=1)
    return StandardScaler().fit_transform(X), y


def test_unpenalized_intercept_converges_on_one_hot_categories():
    # collinear one-hot columns: the finish's polish finds the active set only
    # at a small enough smoothing; a finish that stopped when the stages left
    # "could not fit" its budget (gap halving per stage) left this default
    # fit, and splice's, at 1000 passes (measured 833 passes with the polish
    # given its stages; the finish before that change also ended at 1000)
    X, y = _one_hot_categories(800, 60, seed=1)
    clf = _fit_quietly_converged(X, y, loss="hinge", max_iter=1000)
    reference = _svc_objective(X, y, 1.0)
    assert clf.objective_value_ <= reference * (1 + 1e-4)
    # libsvm stops on its dual gradient: on these collinear columns its
    # objective was 3e-6 (relative) above ours, which the gap certifies
    assert clf.objective_value_ >= reference * (1 - 1e-5)


@pytest.mark.parametrize("sparse", [False, True])
def test_the_finish_forms_the_same_hessian_as_the_objective(sparse):
    # the primal finish forms X_A^T D X_A (+ penalty) itself, in centered
    # coordinates too: it must be the objective's Hessian
    from hinge_estimators._objective import LinearObjective
    from hinge_estimators.losses import LOSSES
    from hinge_estimators.solvers._dual_cd_finish import _metered

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 7)) + 3.0
    X[rng.random(X.shape) < 0.6] = 0.0
    X = sp.csr_matrix(X) if sparse else X
    y = np.where(rng.random(60) < 0.4, 1.0, -1.0)[:, None]
    loss = LOSSES["hinge"]().smoothed(0.5)
    for objective in (
        LinearObjective(loss, X, y, n_outputs=1, C=1.3).column(0),
        LinearObjective(loss, X, y, n_outputs=1, C=1.3).column(0).centered(),
        LinearObjective(loss, X, y, n_outputs=1, intercept_scaling=2.0).column(0),
    ):
        coef = rng.normal(size=objective.size)
        meter = [0.0, np.inf]
        formed = _metered(objective.with_loss(loss), meter).hessian_operator(coef)
        assert hasattr(formed, "matrix")  # 8 coefficients: formed, not CG
        reference = objective.hessian_operator(coef)
        for v in np.eye(objective.size):
            np.testing.assert_allclose(formed(v), reference(v), atol=1e-10)
        assert meter[0] > 0


# -- warm starts on another problem (issue 13, defect 2) ----------------------
def _warm_cases():
    from sklearn.datasets import make_classification

    X5, y5 = make_classification(60, 5, random_state=0)
    X6, y6 = make_classification(60, 6, random_state=1)
    Xn, yn = make_classification(60, 5, random_state=1)  # same size, new labels
    cases = [
        # the reproducer: the old intercepts leaked into a fit without one
        ("crammer_singer", {}, (X5, y5), {"fit_intercept": False}, (X6, y6)),
        ("crammer_singer", {}, (X5, y5), {}, (Xn, yn)),
    ]
    for loss in ["hinge", "squared_hinge", "crammer_singer"]:
        cases.append((loss, {}, (X5, y5), {"intercept_scaling": 10.0}, (X5, y5)))
        cases.append(
            (
                loss,
                {"intercept_scaling": 10.0},
                (X5, y5),
                {"intercept_scaling": None},
                (Xn, yn),
            )
        )
    return cases


@pytest.mark.parametrize("case", range(8))
def test_warm_start_on_another_problem_is_never_falsely_certified(case):
    loss, first, (X0, y0), change, (X1, y1) = _warm_cases()[case]
    params = dict(loss=loss, solver="dual_cd", random_state=0, max_iter=100_000)
    warm = HingeClassifier(warm_start=True, **params, **first).fit(X0, y0)
    warm.set_params(**change)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warm.fit(X1, y1)
    optimum = (
        HingeClassifier(tol=1e-10, **params, **{**first, **change})
        .fit(X1, y1)
        .objective_value_
    )
    # a warm start may only speed a fit up: certified within tol of the
    # optimum of the problem now posed, and the certificate tells the truth
    assert warm.optimality_ <= 1e-4
    assert warm.objective_value_ <= optimum * (1 + 1e-4)
    assert (warm.objective_value_ - optimum) / warm.objective_value_ <= (
        warm.optimality_ + 1e-9
    )


# -- Ctrl-C: kernel calls are bounded in work (issue 13, defect 11) -----------
def test_kernel_calls_are_bounded_in_work(monkeypatch):
    import hinge_estimators.solvers._dual_cd as module

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 20))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    params = dict(loss="hinge", solver="dual_cd", C=100.0, fit_intercept=False)
    params.update(tol=1e-8, max_iter=100_000, random_state=0)
    unbounded = HingeClassifier(**params).fit(X, y)
    assert unbounded.n_iter_ > 50  # long enough for passes // 4 > 10
    calls = []
    kernel = module.binary_dual_cd

    def spy(*args):
        calls.append(args[11])  # the passes this call may run
        return kernel(*args)

    monkeypatch.setattr(module, "binary_dual_cd", spy)
    # two passes' worth of work per call
    monkeypatch.setattr(module, "MAX_WORK_PER_CALL", 2 * (X.size + X.shape[0]))
    bounded = HingeClassifier(**params).fit(X, y)
    assert max(calls) <= 2
    assert bounded.optimality_ <= 1e-8
    assert bounded.objective_value_ == pytest.approx(
        unbounded.objective_value_, rel=1e-7
    )


# -- the hinge's polish competes with the passes it would save -----------------
def _polish_spy(monkeypatch):
    """Record the kernel calls' active fractions, passes_needed and the
    budgets dual_polish is handed, in order."""
    import hinge_estimators.solvers._dual_cd as module

    events = []
    kernel, needed, polish = (
        module.binary_dual_cd,
        module.passes_needed,
        module.dual_polish,
    )

    def spy_kernel(*args):
        result = kernel(*args)
        events.append(("active", args[-1][0] / len(args[7])))
        return result

    def spy_needed(*args):
        result = needed(*args)
        events.append(("needed", result))
        return result

    def spy_polish(*args):
        events.append(("budget", args[-1]))
        return polish(*args)

    monkeypatch.setattr(module, "binary_dual_cd", spy_kernel)
    monkeypatch.setattr(module, "passes_needed", spy_needed)
    monkeypatch.setattr(module, "dual_polish", spy_polish)
    return events


def test_polish_budget_is_the_work_of_the_shrunk_passes(monkeypatch):
    # dual CD's late passes visit only the samples shrinking left (here
    # under 1 %): the polish may cost what those passes would, not what as
    # many full passes would (splice as CSR: 10-30 ms polishes in place of
    # 2-5 ms of passes, half of them failing on a singular margin set)
    events = _polish_spy(monkeypatch)
    objective = make_objective(
        Hinge(), seed=3, n=3000, d=10, C=0.1, fit_intercept=False
    )
    result = _solve(objective, tol=1e-8)
    assert result.converged
    budgets = [i for i, (name, _) in enumerate(events) if name == "budget"]
    assert budgets, "the polish was never considered: the test proves nothing"
    for i in budgets:
        active = min(v for name, v in events[max(0, i - 8) : i] if name == "active")
        needed = next(v for name, v in reversed(events[:i]) if name == "needed")
        assert active < 0.05  # shrinking left few samples (margin: 10x)
        # measured: 16-28 full-pass equivalents for 2 x 110-850 passes
        assert events[i][1] <= 0.5 * (2 * needed)


def test_a_polish_not_worth_its_cost_is_no_try(monkeypatch):
    # a polish that declines (its cost above the budget, spent 0) used to
    # count as one of the DUAL_POLISH_TRIES: two early refusals left none
    # for the point where it pays
    import hinge_estimators.solvers._dual_cd as module

    calls = []

    def declining(*args):
        calls.append(args[-1])
        return None, None, 0

    monkeypatch.setattr(module, "dual_polish", declining)
    monkeypatch.setattr(module, "_polish_worth", lambda *args: True)
    monkeypatch.setattr(module, "EARLY_TRIES", 0)
    objective = make_objective(
        Hinge(), seed=3, n=3000, d=10, C=0.1, fit_intercept=False
    )
    result = _solve(objective, tol=1e-8)
    assert result.converged
    assert len(calls) > module.DUAL_POLISH_TRIES


# -- the primal finish keeps the certificate honest ----------------------------
@pytest.mark.parametrize("layout", LAYOUTS[:4], ids=lambda p: str(p))
@pytest.mark.parametrize("loss", [Hinge(), SquaredHinge()], ids=repr)
def test_primal_finish_is_certified_honestly(loss, layout, monkeypatch):
    import hinge_estimators.solvers._dual_cd as module

    # finish at the first measurement, whatever dual CD's progress
    monkeypatch.setattr(module, "stalled", lambda *args: True)
    objective = make_objective(loss, **layout)
    result = _solve(objective, tol=1e-6)
    assert result.converged
    assert result.optimality <= 1e-6
    assert result.value == pytest.approx(naive_value(objective, result.coef), rel=1e-12)
    gap = _independent_gap(objective, result)
    assert result.optimality == pytest.approx(gap, rel=1e-6, abs=1e-12)
    reference = _reference_value(objective)
    assert (result.value - reference) / result.value <= result.optimality + 1e-7


def test_primal_finish_without_budget_leaves_dual_cd_to_go_on(monkeypatch):
    """A finish given 0 passes (``FINISH_SHARE * (max_iter - passes)`` rounds
    down to 0 near ``max_iter``) runs no stage; it used to return ``None`` and
    the solve crashed with a TypeError instead of going on with dual CD."""
    import hinge_estimators.solvers._dual_cd as module

    monkeypatch.setattr(module, "stalled", lambda *args: True)
    monkeypatch.setattr(module, "FINISH_SHARE", 0.0)
    objective = make_objective(Hinge(), **LAYOUTS[0])
    result = _solve(objective, tol=1e-6)
    assert result.converged
    gap = _independent_gap(objective, result)
    assert gap <= 1e-6


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_one_vs_rest_warns_exactly_when_the_whole_gap_exceeds_tol(fit_intercept):
    # the columns' gaps add up to the whole problem's; a column that ran out
    # of passes used to make the fit warn "stopping measure 8.9e-04 >
    # tol=0.001" although the whole model was certified within tol (iris, C=1)
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for C in (1.0, 10.0):
        for max_iter in (10, 20, 40, 80, 160):
            clf = HingeClassifier(
                "hinge", "dual_cd", C=C, tol=1e-3, max_iter=max_iter,
                fit_intercept=fit_intercept, random_state=0,
            )  # fmt: skip
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                clf.fit(X, y)
            warned = any(w.category is ConvergenceWarning for w in caught)
            assert warned == (clf.optimality_ > 1e-3), (C, max_iter, clf.optimality_)


def test_a_larger_max_iter_does_not_delay_the_finish():
    # the stall was judged against max_iter: with max_iter=20000 dual CD
    # crawled for 5,773 / 10,658 passes (intercept / none) before its primal
    # finish, which certifies this problem within 650 at max_iter=1000
    X, y = _one_hot_categories(600, 30, 0)
    for fit_intercept in (True, False):
        params = dict(C=10.0, fit_intercept=fit_intercept)
        default = _fit_quietly_converged(X, y, loss="hinge", max_iter=1000, **params)
        larger = _fit_quietly_converged(X, y, loss="hinge", max_iter=20000, **params)
        assert larger.n_iter_ <= default.n_iter_
        assert larger.objective_value_ == pytest.approx(
            default.objective_value_, rel=2e-4
        )


def test_the_stall_rule_weighs_the_work_left_not_only_max_iter():
    from hinge_estimators.solvers._dual_cd_finish import STALL_WORK, stalled

    # the relative gap falls 10x every 200 passes: at 400 passes it is 1e-4,
    # 800 passes from 1e-8, past the 1000-pass horizon
    checks = [(p, 1e-2 * 10 ** (-p / 200)) for p in (50, 100, 150, 200, 250, 300, 400)]
    # within max_iter, and cheap: 0.3 % of the samples active, few checks
    assert not stalled(checks, 1e-8, 100_000, active=0.003)
    # within max_iter but expensive: every sample active, 800 full passes
    assert STALL_WORK < 800
    assert stalled(checks, 1e-8, 100_000, active=1.0)
    # within the horizon: dual CD goes on however much a pass costs
    assert not stalled(checks, 1e-6, 100_000, active=1.0)
    # beyond max_iter: a stall whatever a pass costs
    assert stalled(checks, 1e-8, 1000, active=0.003)
    # no gain over the last half (one check above the rest does not count
    # as a loss: the best gap so far is what moves): as many passes again
    flat = checks[:4] + [(400, 2e-4), (600, 3e-4), (800, 2.5e-4)]
    assert not stalled(flat, 1e-8, 100_000, active=0.003)
    assert stalled(flat, 1e-8, 100_000, active=1.0)
    # too early to judge
    assert not stalled(checks[:1] + [(60, 1e-3)], 1e-8, 100_000, active=1.0)


# -- auto on wide sparse data follows C ----------------------------------------
def test_auto_sends_wide_sparse_text_to_newton_at_large_C():
    # on text-like rows (uncentered, frequent terms shared) the dual's Gram
    # matrix is ill-conditioned along the mean row as C grows: at C = 1e4
    # dual_cd stopped at max_iter 2.7x above the optimum (relative gap 0.63),
    # which newton certifies in 38 steps
    from ._problems import zipf_text

    X, y = zipf_text(600, 3000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = HingeClassifier(C=1e4).fit(X, y)
    assert clf.solver_.name == "newton"
    assert clf.optimality_ <= clf.tol  # newton's duality-gap certificate
    # what dual_cd's passes reach is no better
    with pytest.warns(ConvergenceWarning):
        dual = HingeClassifier(C=1e4, solver="dual_cd", max_iter=50).fit(X, y)
    assert clf.objective_value_ <= dual.objective_value_
    # small C keeps the dual's few cheap passes (the default C = 1 on rows of
    # unit norm among them, clear of the limit's rounding); dense data of
    # the same shape keeps dual_cd at every C (it centers dense rows itself)
    assert HingeClassifier(C=0.5).fit(X, y).solver_.name == "dual_cd"
    assert HingeClassifier().fit(X, y).solver_.name == "dual_cd"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 20 passes only
        dense = HingeClassifier(C=1e4, max_iter=20).fit(X.toarray(), y)
    assert dense.solver_.name == "dual_cd"


def test_auto_on_wide_sparse_data_reads_the_problem_not_its_storage():
    # the choice follows C times the mean s_i ||x_i||^2 over the samples of
    # positive weight (plus a penalized intercept's column): unchanged by
    # X -> a X with C -> C / a^2 in float32 (whose squares overflow beyond
    # 1.8e19: they are taken in float64), by rows of zero weight, and it
    # counts intercept_scaling^2
    from hinge_estimators.solvers import get_solver

    from ._problems import zipf_text

    X, y = zipf_text(300, 1500, seed=4)
    picked = {}
    for C in (0.5, 20.0):
        for dtype, a in ((np.float64, 1.0), (np.float32, 1e20)):
            clf = HingeClassifier(C=C / a**2, max_iter=5)
            problem = clf._problem((X * a).astype(dtype), y, None)
            picked[C, dtype] = problem.solver.name
    assert picked[0.5, np.float64] == picked[0.5, np.float32] == "dual_cd"
    assert picked[20.0, np.float64] == picked[20.0, np.float32] == "newton"
    # half the rows weightless: the others decide (C = 1.5 on unit rows)
    weights = np.where(np.arange(len(y)) % 2 == 0, 1.0, 0.0)
    weights[:2] = 1.0  # both classes keep weight
    problem = HingeClassifier(C=2.5)._problem(X, y, weights)
    assert problem.solver.name == "newton"
    # intercept_scaling=10 adds 100 to every ||x_i||^2 = 1
    problem = HingeClassifier(C=0.5, intercept_scaling=10.0)._problem(X, y, None)
    assert problem.solver.name == "newton"
    assert get_solver("auto", SquaredHinge(), n_samples=300, n_features=1500,
                      sparse=True, scaled_C=0.5 * 101).name == "newton"  # fmt: skip


def test_newton_steps_keep_coordinates_already_centered():
    # dual CD's objective for sparse rows is already in centered coordinates
    # (offset mu): the finish's Newton steps used to center it again, moving
    # the intercept by W mu on the way in and out, and returned a point off
    # by that much (their certificates failed: splice as CSR, squared hinge,
    # C = 35, 206,265 for a primal of 20,679)
    from hinge_estimators.solvers import TrustRegionNewton
    from hinge_estimators.solvers._dual_cd_finish import _newton_steps

    objective = make_objective(SquaredHinge(), seed=1, n=80, d=6, sparse=True)
    centered = objective.centered()
    assert centered.offset is not None
    start = centered.zeros()
    result = _newton_steps(
        TrustRegionNewton(globalization="line_search"), centered, start, 1e-12,
        [0.0, 1e9],
    )  # fmt: skip
    assert np.linalg.norm(centered.gradient(result.coef)) <= 1e-8 * max(
        1.0, np.linalg.norm(centered.gradient(start))
    )


def test_stall_reads_the_measured_rate_at_half_speed():
    # dual CD's rate slows as it goes: at pass 308 it predicted 443 more
    # passes and the fit ended at max_iter = 1000, its finish called at pass
    # 561 with too few passes left (splice as CSR, centered, C = 0.44). The
    # rule now stalls when the halved rate misses max_iter
    from hinge_estimators.solvers._dual_cd_finish import passes_needed, stalled

    checks = [(100, 1e-2), (150, 2e-3), (308, 1.1e-3)]
    needed = passes_needed(checks, 1e-4)
    assert 308 + needed < 1000 < 308 + 2 * needed  # the case the factor decides
    assert stalled(checks, 1e-4, 1000)


def test_a_stalled_dual_cd_goes_to_the_finish_before_any_polish(monkeypatch):
    # the finish's stages end in the same exact polish; a polish tried first
    # spent a third of max_iter and failed, leaving the finish too little
    # (sparse counts, 770 x 405, hinge: the fit ended at max_iter)
    import hinge_estimators.solvers._dual_cd as module

    events = []
    for name in ("dual_polish", "primal_finish"):
        real = getattr(module, name)

        def recorded(*args, _real=real, _name=name, **kwargs):
            events.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, recorded)
    monkeypatch.setattr(module, "_polish_worth", lambda *args: True)
    monkeypatch.setattr(module, "stalled", lambda *args: True)
    objective = make_objective(Hinge(), **LAYOUTS[0])
    result = _solve(objective, tol=1e-8)
    assert result.converged
    assert events and events[0] == "primal_finish"


def test_the_finish_starts_its_smoothing_no_finer_than_its_floor(monkeypatch):
    # the first stage's smoothing is ten times dual CD's relative gap; where
    # dual CD stalled close (1.9e-3 on the 5,000 x 20,000 text, C = 382) that
    # stage crawled (Newton's CG on a nearly non-smooth loss) through the
    # passes left, and 2 of 6 default fits ended at max_iter
    import hinge_estimators.solvers._dual_cd as module
    import hinge_estimators.solvers._dual_cd_finish as finish

    smoothings, real_polish = [], finish.polish

    def recorded(column, coef, mu, **kwargs):
        smoothings.append(mu)
        return real_polish(column, coef, mu, **kwargs)

    monkeypatch.setattr(finish, "polish", recorded)
    # the smoothing route (the interior point is for few coefficients)
    monkeypatch.setattr(finish, "MAX_FORMED_HESSIAN", 0)
    monkeypatch.setattr(module, "EARLY_TRIES", 0)
    monkeypatch.setattr(module, "DUAL_POLISH_TRIES", 0)
    # dual CD "stalls" only once it is close
    gaps = []

    def close(checks, *args):
        gaps.append(checks[-1][1])
        return checks[-1][1] < 2e-3

    monkeypatch.setattr(module, "stalled", close)
    objective = make_objective(Hinge(), seed=5, n=200, d=6, fit_intercept=False)
    result = _solve(objective, tol=1e-9)
    assert result.converged
    assert smoothings, "the finish ran no stage"
    stalled_at = next(gap for gap in gaps if gap < 2e-3)
    assert 10 * stalled_at < finish.MIN_START_MU  # the floor decides here
    assert smoothings[0] == pytest.approx(finish.MIN_START_MU)


def test_finish_out_of_budget_keeps_its_last_newton_point(monkeypatch):
    # the squared hinge's finish is Newton on the loss itself; when the
    # budget ran out between two steps its point was dropped and dual CD's,
    # often far worse, was kept (counts 770 x 405, C = 100: 51,256 with a
    # ConvergenceWarning where the finish had reached the optimum 26,803)
    import hinge_estimators.solvers._dual_cd as module
    import hinge_estimators.solvers._dual_cd_finish as finish

    real_steps = finish._newton_steps

    def one_step_then_out(newton, objective, coef, tol, meter, callback=None):
        def step(*args):
            if callback is not None:
                callback(*args)
            raise finish._OutOfBudget

        return real_steps(newton, objective, coef, tol, meter, step)

    returned, real_finish = [], module.primal_finish

    def recorded(*args, **kwargs):
        returned.append(real_finish(*args, **kwargs))
        return returned[-1]

    monkeypatch.setattr(finish, "_newton_steps", one_step_then_out)
    monkeypatch.setattr(module, "primal_finish", recorded)
    monkeypatch.setattr(module, "stalled", lambda *args: True)
    objective = make_objective(SquaredHinge(), **LAYOUTS[0])
    result = _solve(objective, tol=1e-10)
    assert returned and returned[0][0] is not None
    # the kept point is certified as any other: its gap bounds the distance
    # to the optimum the solve then reaches
    cert = returned[0][0]
    assert cert["primal"] - cert["gap"] <= result.value * (1 + 1e-9)
    assert result.converged


@pytest.mark.parametrize("sparse", [False, True])
def test_warm_start_from_the_optimal_coefficients_needs_no_pass(sparse):
    # a start from coefficients (another solver's fit, warm_start=True)
    # scored the centered rows with the original coordinates' intercept:
    # 392 passes (CSR) and 411 (dense) from the optimum, now none
    X, y = _sparse_counts(600, 100, 0.1, noise=1.0)
    if not sparse:
        X = X.toarray()
    clf = HingeClassifier(solver="newton", tol=1e-10, warm_start=True).fit(X, y)
    clf.set_params(solver="dual_cd", tol=1e-6).fit(X, y)
    assert clf.n_iter_ == 0
    assert clf.optimality_ <= 1e-6


def test_the_finish_polishes_margin_sets_beyond_dual_cds_polish_cap(monkeypatch):
    # wide separable text at a large C: 460 samples sit on the margin of the
    # optimum, dual CD crawls (a gap of 2e-2 after 1,000 passes) and only the
    # finish's polish certifies. Its cap on the margin set is its own, above
    # the budgeted polish's: with the latter at 100 here (as 2,000 against
    # text's 2,171 margin samples at C = 790), the finish refused the set too
    # and the fit ended at max_iter
    import hinge_estimators.solvers._dual_cd_finish as finish

    from ._problems import zipf_text

    monkeypatch.setattr(finish, "MAX_DUAL_POLISH_KINK", 100)
    X, y = zipf_text(800, 3200)
    clf = _fit_quietly_converged(X, y, loss="hinge", C=1e4)
    reference = HingeClassifier(
        loss="hinge", C=1e4, solver="gd", tol=1e-8, max_iter=5000
    ).fit(X, y)
    margins = np.where(y == 1, 1.0, -1.0) * reference.decision_function(X)
    assert np.count_nonzero(np.abs(margins - 1.0) < 1e-6) > 100
    assert clf.objective_value_ <= reference.objective_value_ * (1 + 1e-4)
    assert clf.objective_value_ >= reference.objective_value_ * (1 - 1e-6)
