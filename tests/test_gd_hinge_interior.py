"""gd's interior point for the hinge with L1 or the elastic net (a linear or
quadratic program), certified by its own multipliers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from hinge_estimators import HingeClassifier, LinearObjective
from hinge_estimators.losses import CrammerSinger, Hinge, PairwiseSquaredHinge
from hinge_estimators.penalties import L1, ElasticNet, GroupL1L2
from hinge_estimators.solvers import GradientDescent, _gradient_descent
from hinge_estimators.solvers import _primal_cd_interior as interior
from hinge_estimators.solvers._primal_cd_interior import (
    hinge_interior_point_applies,
    margin_interior_point,
)

from ._problems import certified_fit, spy_on, wide_sparse_binary, zipf_text
from .test_primal_cd_interior import COLUMN_CASES, random_column


def _hinge_value(X, y, w, b, c, margin, rho, q, p=0.0):
    """The objective written out here."""
    hinge = np.maximum(margin - y * (X @ w + b), 0.0)
    return c @ hinge + rho * np.abs(w).sum() + 0.5 * q * w @ w + 0.5 * p * b * b


def _hinge_program(X, y, c, margin, rho, q, intercept, p=0.0):
    """The optimal value: HiGHS on the linear program (``q = p = 0``), with
    slacks ``t``; else SLSQP on the dual, ``max m sum a - Omega^*(X^T (a y))
    [- (a.y)^2 / (2 p)]`` over ``0 <= a <= c`` (``a.y = 0`` with a free
    intercept), ``Omega^*(v) = sum_j (|v_j| - rho)_+^2 / (2 q)`` (``|v_j| <=
    rho`` for L1), whose value equals the primal optimum."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    n, d = X.shape
    yX = y[:, None] * X
    free = intercept and p == 0.0
    if q == 0.0 and p == 0.0:
        nb = int(intercept)
        # variables u (d), v (d), b (nb, free), t (n): m - y (X (u - v) + b) <= t
        A = np.hstack([-yX, yX, -y[:, None][:, :nb], -np.eye(n)])
        cost = np.concatenate([np.full(2 * d, rho), np.zeros(nb), c])
        bounds = [(0, None)] * (2 * d) + [(None, None)] * nb + [(0, None)] * n
        run = linprog(cost, A_ub=A, b_ub=-np.full(n, margin), bounds=bounds)
        assert run.status == 0
        return run.fun

    def negative_dual(a):
        v = yX.T @ a
        excess = np.maximum(np.abs(v) - rho, 0.0)
        value = margin * a.sum()
        grad = np.full(n, margin)
        if q > 0:
            value -= excess @ excess / (2 * q)
            grad -= yX @ (np.sign(v) * excess) / q
        if intercept and p > 0:
            value -= (a @ y) ** 2 / (2 * p)
            grad -= (a @ y) / p * y
        return -value, -grad

    constraints = []
    if free:
        constraints.append({"type": "eq", "fun": lambda a: a @ y, "jac": lambda a: y})
    if q == 0.0:  # the L1 ball: |X^T (a y)| <= rho
        constraints.append(
            {"type": "ineq", "fun": lambda a: rho - np.abs(yX.T @ a),
             "jac": lambda a: -np.sign(yX.T @ a)[:, None] * yX.T}
        )  # fmt: skip
    run = minimize(
        negative_dual, np.zeros(n), jac=True, method="SLSQP",
        bounds=list(zip(np.zeros(n), c, strict=True)), constraints=constraints,
        options={"maxiter": 5000, "ftol": 1e-16},
    )  # fmt: skip
    return -run.fun


@settings(max_examples=25, deadline=None)
@given(**COLUMN_CASES, margin=st.sampled_from([1.0, 0.5]))
def test_interior_point_solves_the_hinge_program(
    seed, C, intercept, l1_ratio, sparse, margin
):
    X, y, c, columns = random_column(seed, C, sparse, n=40, d=6, noise=0.5)
    rho, q = l1_ratio, 1.0 - l1_ratio
    loss = Hinge(margin=margin)
    found = margin_interior_point(columns, y, c, rho, q, 0.0, intercept, loss)
    assert found is not None
    w, b, _, alpha = found
    assert np.all((alpha >= 0) & (alpha <= c)) and np.all(alpha[c == 0] == 0)
    value = _hinge_value(X, y, w, b, c, margin, rho, q)
    reference = _hinge_program(X, y, c, margin, rho, q, intercept)
    assert value <= reference * (1 + 1e-8) + 1e-10
    # the multipliers' certificate: small, and a true bound on the excess
    objective = LinearObjective(
        loss, sp.csr_matrix(X) if sparse else X, y[:, None], n_outputs=1, C=1.0,
        sample_weight=c, fit_intercept=intercept, penalty=ElasticNet(l1_ratio),
    )  # fmt: skip
    coef = np.append(w, b) if intercept else w
    dual = (-(alpha * y)[:, None], -margin * alpha[:, None])
    gap, primal = objective.duality_gap(coef, dual=dual)
    assert primal == pytest.approx(value, rel=1e-12)
    assert gap <= 1e-7 * primal
    assert value - reference <= gap + 1e-9 * value


def _certified_fit(X, y, **params):
    return certified_fit(X, y, **{"loss": "hinge", **params})


def _breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), np.where(y == 1, 1.0, -1.0)


@pytest.mark.parametrize("C", [0.1, 10.0])
def test_default_hinge_l1_fit_converges_to_the_linear_programs_optimum(C):
    # gd's smoothing stages ended at max_iter on every such fit (breast
    # cancer at C = 100: 25 % above the optimum)
    X, y = _breast_cancer()
    model = _certified_fit(X, y, penalty="l1", C=C)
    assert model.solver_.__class__.__name__ == "GradientDescent"
    reference = _hinge_program(X, y, np.full(len(y), C), 1.0, 1.0, 0.0, True)
    w, b = model.coef_.ravel(), model.intercept_[0]
    value = _hinge_value(X, y, w, b, np.full(len(y), C), 1.0, 1.0, 0.0)
    assert value == pytest.approx(model.objective_value_, rel=1e-10)
    assert reference * (1 - 1e-9) <= value <= reference * (1 + model.tol)
    # a sparse model: the coefficients the interior point leaves near 0 are
    # exact zeros
    assert np.any(w == 0.0)
    assert not np.any((w != 0.0) & (np.abs(w) < 1e-8 * np.abs(w).max()))


def test_one_vs_rest_elastic_net_dense_and_sparse_give_one_optimum():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X[np.abs(X) < 0.5] = 0.0  # mostly zeros, so that CSR means something
    params = dict(penalty=ElasticNet(l1_ratio=0.7), C=3.0, tol=1e-8)
    dense = _certified_fit(X, y, **params)
    sparse = _certified_fit(sp.csr_matrix(X), y, **params)
    assert dense.coef_.shape == (3, 13)
    assert sparse.objective_value_ == pytest.approx(dense.objective_value_, rel=1e-7)
    # the quadratic part (0.3) makes P strongly convex in W: each certified
    # gap bounds its distance to the one optimum, ||W - W*||^2 <= 2 gap / 0.3
    # (a bound, not a rounding-level match: the last iterates differ by layout)
    radius = sum(
        np.sqrt(2.0 * m.optimality_ * m.objective_value_ / 0.3) for m in (dense, sparse)
    )
    assert np.linalg.norm(sparse.coef_ - dense.coef_) <= radius + 1e-12
    # each column's objective against the independent program
    for k in range(3):
        signs = np.where(y == k, 1.0, -1.0)
        reference = _hinge_program(X, signs, np.full(len(y), 3.0), 1.0, 0.7, 0.3, True)
        w, b = dense.coef_[k], dense.intercept_[k]
        value = _hinge_value(X, signs, w, b, np.full(len(y), 3.0), 1.0, 0.7, 0.3)
        assert reference * (1 - 1e-8) <= value <= reference * (1 + 1e-6)


def test_sample_weights_and_a_penalized_intercept():
    # a weight of 2 is the sample twice; the penalized intercept
    # (intercept_scaling) is a coefficient of the program
    rng = np.random.default_rng(3)
    X, y = _breast_cancer()
    X, y = X[:150, :8], y[:150]
    weights = rng.integers(1, 3, size=len(y)).astype(float)
    params = dict(penalty="l1", C=2.0, tol=1e-9, intercept_scaling=1.0)
    weighted = HingeClassifier(loss="hinge", **params).fit(X, y, sample_weight=weights)
    assert weighted.optimality_ <= 1e-9
    repeated = HingeClassifier(loss="hinge", **params).fit(
        np.repeat(X, weights.astype(int), axis=0), np.repeat(y, weights.astype(int))
    )
    assert weighted.objective_value_ == pytest.approx(
        repeated.objective_value_, rel=1e-8
    )
    reference = _hinge_program(X, y, 2.0 * weights, 1.0, 1.0, 0.0, True, p=1.0)
    assert weighted.objective_value_ == pytest.approx(reference, rel=1e-7)


def _objective(loss=None, penalty="l1", X=None, n_outputs=1):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 5)) if X is None else X
    y = rng.integers(0, 2, 50) * 2.0 - 1.0
    if n_outputs > 1:
        y = rng.integers(0, n_outputs, 50)
    return LinearObjective(
        loss or Hinge(), X, y if n_outputs > 1 else y[:, None],
        n_outputs=n_outputs, C=1.0, penalty=penalty,
    )  # fmt: skip


def test_which_problems_go_to_the_interior_point(monkeypatch):
    # the decision, not the time
    assert hinge_interior_point_applies(_objective(penalty=L1()))
    assert hinge_interior_point_applies(_objective(penalty=ElasticNet(0.5)))
    assert not hinge_interior_point_applies(_objective(penalty="l2"))
    # the group norm: over one column it is L1; over several it couples them
    assert hinge_interior_point_applies(_objective(penalty=GroupL1L2()))
    Y = np.where(np.arange(50)[:, None] % 3 == np.arange(3), 1.0, -1.0)
    one_vs_rest = LinearObjective(
        Hinge(), np.random.default_rng(0).standard_normal((50, 5)), Y,
        n_outputs=3, C=1.0, penalty=GroupL1L2(),
    )  # fmt: skip
    assert not hinge_interior_point_applies(one_vs_rest)
    assert not hinge_interior_point_applies(
        _objective(CrammerSinger(), n_outputs=3, penalty="l1")
    )
    # past the work limit (wide data): gd's smoothing stages alone
    monkeypatch.setattr(interior, "HINGE_STEP_WORK", 10.0)
    assert not hinge_interior_point_applies(_objective(penalty=L1()))


def test_polish_false_keeps_gd_on_its_smoothing_stages(monkeypatch):
    calls = spy_on(monkeypatch, _gradient_descent, "hinge_interior_point")
    objective = _objective()
    GradientDescent(polish=False).solve(objective, tol=1e-3, max_iter=20)
    assert not calls
    result = GradientDescent().solve(objective, tol=1e-8, max_iter=1000)
    assert len(calls) == 1 and result.converged


def test_an_uncertified_interior_point_hands_its_point_to_the_smoothing(monkeypatch):
    # where the interior point stops above tol, the smoothing stages go on
    # from its point with the iterations left, all counted in n_iter
    def short(objective, tol, max_iterations, callback=None, start=None):
        return interior.hinge_interior_point(objective, tol, 2, callback)

    monkeypatch.setattr(_gradient_descent, "hinge_interior_point", short)
    objective = _objective()
    result = GradientDescent().solve(objective, tol=1e-3, max_iter=5000)
    assert result.converged and result.n_iter > 2
    reference = _hinge_program(
        objective.X, objective.y.ravel(), np.ones(50), 1.0, 1.0, 0.0, True
    )
    assert result.value <= reference * (1 + 1e-3)


def test_duality_gap_takes_no_dual_point_for_pairwise_losses():
    # a pairwise loss's dual is per pair, not per sample (the multiclass
    # losses take one per sample: tests/test_multiclass_barrier.py)
    pairwise = LinearObjective(
        PairwiseSquaredHinge(), np.eye(4), np.array([[1.0], [-1.0], [1.0], [-1.0]]),
        n_outputs=1, C=1.0, fit_intercept=False,
    )  # fmt: skip
    with pytest.raises(ValueError, match="margin and multiclass losses"):
        pairwise.duality_gap(np.zeros(4), dual=(np.zeros((4, 1)), np.zeros((4, 1))))


def _breast_cancer_with_a_duplicate():
    X, y = _breast_cancer()
    return np.hstack([X, X[:, :1]]), y


def test_collinear_columns_certify_at_the_best_iterate():
    # a duplicated column: the interior point's last steps take a ridge and
    # lose dual feasibility (2.8e-4 at the last iterate, 2e-10 two before);
    # certified at the last one, the fit went on by smoothing and ended at
    # max_iter 4 % above the optimum
    X, y = _breast_cancer_with_a_duplicate()
    model = _certified_fit(X, y, penalty="l1", C=100.0)
    reference = _hinge_program(X, y, np.full(len(y), 100.0), 1.0, 1.0, 0.0, True)
    assert model.objective_value_ <= reference * (1 + model.tol)


def test_the_better_of_the_interior_point_and_the_stages_stands():
    # at a tol no solver certifies in floating point (1e-15 here) the
    # interior point stops short and the smoothing stages go on from its
    # point; where they end higher, its answer stands
    X, y = _breast_cancer()
    with pytest.warns(ConvergenceWarning):
        model = HingeClassifier(loss="hinge", penalty="l1", C=100.0, tol=1e-15).fit(
            X, y
        )
    reference = _hinge_program(X, y, np.full(len(y), 100.0), 1.0, 1.0, 0.0, True)
    excess = (model.objective_value_ - reference) / model.objective_value_
    assert excess <= 1e-9
    assert model.optimality_ >= excess  # still a bound
    assert model.n_iter_ == model.max_iter  # the stages' iterations counted


def test_a_margin_of_zero_is_optimal_at_zero():
    # P >= 0 and P(0) = 0: certified at once (the interior point's tiny
    # non-zero point used to go to the stages, which never certified it)
    X, y = _breast_cancer()
    model = _certified_fit(X, y, loss=Hinge(margin=0.0), penalty="l1")
    assert model.objective_value_ == 0.0 and not model.coef_.any()


def test_the_binary_group_norm_is_l1_for_the_interior_point():
    # over one column the group norm is the L1 norm: the same route, the
    # same optimum (it went to the smoothing stages: 0.09 at max_iter)
    X, y = _breast_cancer()
    group = _certified_fit(X, y, penalty="l1_l2", C=1.0)
    l1 = _certified_fit(X, y, penalty="l1", C=1.0)
    bound = (group.optimality_ + l1.optimality_) * l1.objective_value_
    assert abs(group.objective_value_ - l1.objective_value_) <= bound + 1e-12


def test_the_interior_point_is_skipped_where_its_sample_arrays_are_too_large(
    monkeypatch,
):
    # some 40 vectors over the samples: 1 GB at n = 3e6, d = 2
    objective = _objective()
    assert hinge_interior_point_applies(objective)
    monkeypatch.setattr(interior, "INTERIOR_MEMORY", 50 * 399.0)
    assert not hinge_interior_point_applies(objective)


@pytest.mark.parametrize("C", [1.0, 100.0])
def test_wide_sparse_data_go_to_the_interior_point_over_the_samples(C):
    # 200 x 3,000 sparse: over the coefficients an iteration's system is
    # 3,001-square (past HINGE_STEP_WORK), and gd's smoothing stages ended
    # at max_iter with bounds of 0.08 (C = 1) to 0.66 (C = 100); over the
    # samples it is 200-square
    X, y = wide_sparse_binary()
    ys = 2.0 * y - 1.0
    objective = LinearObjective(Hinge(), X, ys[:, None], n_outputs=1, C=C, penalty=L1())
    assert hinge_interior_point_applies(objective)
    model = _certified_fit(X, y, penalty="l1", C=C)
    reference = _hinge_program(X, ys, np.full(200, C), 1.0, 1.0, 0.0, True)
    w, b = model.coef_.ravel(), model.intercept_[0]
    value = _hinge_value(X.toarray(), ys, w, b, np.full(200, C), 1.0, 1.0, 0.0)
    assert reference * (1 - 1e-9) <= value <= reference * (1 + model.tol)


def test_duplicated_columns_keep_the_samples_form_accurate():
    # 10 copies of each of 40 columns, non-zero together at the optimum:
    # more than n features with a small barrier term. Only n of them kept
    # explicit, the solves' residuals reached 6e5 and the fit ran to
    # max_iter at tol=1e-8 (16 iterations over the coefficients)
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 40))
    X = np.repeat(base, 10, axis=1)
    y = np.where(base[:, :3].sum(1) + 0.3 * rng.normal(size=40) > 0, 1.0, -1.0)
    model = _certified_fit(X, y, penalty="l1", C=100.0, tol=1e-8)
    assert model.n_iter_ <= 100
    reference = _hinge_program(X, y, np.full(40, 100.0), 1.0, 1.0, 0.0, True)
    w, b = model.coef_.ravel(), model.intercept_[0]
    value = _hinge_value(X, y, w, b, np.full(40, 100.0), 1.0, 1.0, 0.0)
    assert reference * (1 - 1e-9) <= value <= reference * (1 + 1e-8)


def test_no_coefficients_form_where_the_samples_form_was_chosen_and_fails(
    monkeypatch,
):
    # admitted on the samples' form's cost, the interior point built the
    # (d + 1)-square form where that form could not be factored: 185 s and
    # 3.2 GB at 500 x 20,000. Past FALLBACK_WORK the iteration stops, and
    # gd's stages go on
    X, y = wide_sparse_binary(n=100, d=2000)
    monkeypatch.setattr(interior, "FALLBACK_WORK", 1e6)
    monkeypatch.setattr(interior._System, "_by_samples", lambda *args: None)
    formed = spy_on(monkeypatch, interior, "_normal_matrix")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        HingeClassifier(loss="hinge", penalty="l1", C=1.0).fit(X, y)
    assert not formed


def _few_features_decide(n, d, seed=0):
    """``(X, y)``: ``n x d`` CSR at 1 % density plus one entry of 1 in one
    of the first 10 columns of each row, labels in ``{-1, 1}`` from those 10
    features and a little noise: an L1 hinge optimum with few non-zero
    coefficients among many features."""
    rng = np.random.RandomState(seed)
    X = sp.random(n, d, density=0.01, random_state=seed, format="csr")
    X = X + sp.csr_matrix(
        (np.ones(n), (np.arange(n), rng.randint(0, 10, n))), shape=(n, d)
    )
    w_true = np.zeros(d)
    w_true[:10] = rng.randn(10) * 5
    y = np.where(X @ w_true + 0.3 * rng.randn(n) > 0, 1.0, -1.0)
    return sp.csr_matrix(X), y


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_past_the_work_limit_the_hinge_runs_on_working_sets_of_features(monkeypatch, C):
    # 1,500 x 3,000 sparse: past HINGE_STEP_WORK over the coefficients and
    # over the samples alike, the interior point did not apply and gd's
    # smoothing stages ended at max_iter with bounds of 0.07 (C = 0.1) and
    # 0.05 (C = 1); the optimum has a few hundred non-zero coefficients at
    # most, and the interior point over working sets of them certifies it
    X, y = _few_features_decide(1500, 3000)
    objective = LinearObjective(Hinge(), X, y[:, None], n_outputs=1, C=C, penalty=L1())
    assert interior._step_work(X) > interior.HINGE_STEP_WORK  # the intended route
    assert hinge_interior_point_applies(objective)
    solved_on = spy_on(monkeypatch, interior, "margin_interior_point")
    model = _certified_fit(X, y, penalty="l1", C=C)
    assert solved_on and all(columns.shape[0] < 3000 for columns in solved_on)
    c = np.full(len(y), C)
    reference = _hinge_program(X, y, c, 1.0, 1.0, 0.0, True)
    w, b = model.coef_.ravel(), model.intercept_[0]
    value = _hinge_value(X, y, w, b, c, 1.0, 1.0, 0.0)
    assert reference * (1 - 1e-9) <= value <= reference * (1 + model.tol)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [True, False])
def test_working_sets_reach_the_whole_problems_optimum(
    monkeypatch, penalty, fit_intercept, sparse
):
    # the limit set just below the whole problem's iteration and the first
    # working set at 3 features: several rounds of column generation, each
    # certified on the whole problem, end at its optimum
    X, y = _few_features_decide(80, 150, seed=1)
    X = X if sparse else X.toarray()  # the dense route centres the columns
    monkeypatch.setattr(interior, "HINGE_STEP_WORK", interior._step_work(X) - 1.0)
    monkeypatch.setattr(interior, "SCREEN_FIRST", 3)
    solved_on = spy_on(monkeypatch, interior, "margin_interior_point")
    l1_ratio = 1.0 if penalty == "l1" else 0.6
    model = _certified_fit(
        X, y, penalty=ElasticNet(l1_ratio), C=0.3, tol=1e-8, fit_intercept=fit_intercept
    )
    assert len(solved_on) >= 2 and solved_on[0].shape[0] < 150
    c = np.full(len(y), 0.3)
    rho, q = l1_ratio, 1.0 - l1_ratio
    reference = _hinge_program(X, y, c, 1.0, rho, q, fit_intercept)
    w = model.coef_.ravel()
    b = model.intercept_[0] if fit_intercept else 0.0
    value = _hinge_value(X.toarray() if sparse else X, y, w, b, c, 1.0, rho, q)
    assert reference * (1 - 1e-7) <= value <= reference * (1 + 1e-7)


@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize("foretold", [True, False])
def test_working_sets_past_the_limit_leave_the_fit_to_the_stages(
    monkeypatch, warm, foretold
):
    # where the features past rho at 0 (foretold), or the first round's
    # violators, pass the limit, the route gives nothing: the fit is the
    # smoothing stages' from the start, as without it, with the round's
    # iterations counted (from the round's point they ended 20 % higher on
    # text at C = 1,000; a warm start was replaced by 0, and a path's point
    # at C = 1,000 ended 60 % higher)
    X, y = _few_features_decide(80, 150, seed=1)
    first = interior._step_work(X[:, :3])
    monkeypatch.setattr(interior, "HINGE_STEP_WORK", 2.0 * first)
    monkeypatch.setattr(interior, "SCREEN_FIRST", 3)
    if not foretold:
        monkeypatch.setattr(interior, "SCREEN_FORETELL", np.inf)
    objective = LinearObjective(
        Hinge(), X, y[:, None], n_outputs=1, C=1000.0, penalty=L1()
    )
    assert hinge_interior_point_applies(objective)
    start = None
    if warm:  # a start somewhere else than 0
        start = GradientDescent(polish=False).solve(objective, tol=1e-4, max_iter=30)
        start = start.coef
    rounds = spy_on(
        monkeypatch, interior, "margin_interior_point", lambda _, found: found
    )
    with_route = GradientDescent().solve(objective, start, tol=1e-4, max_iter=200)
    assert len(rounds) == (0 if foretold else 1)
    spent = rounds[0][2] if rounds else 0
    without = GradientDescent(polish=False).solve(
        objective, start, tol=1e-4, max_iter=200 - spent
    )
    assert with_route.n_iter == without.n_iter + spent == 200
    np.testing.assert_array_equal(with_route.coef, without.coef)


def _interior_point_peak(X, y, C):
    """``(result, peak bytes)`` of the hinge's L1 interior point on ``X``."""
    import tracemalloc

    objective = LinearObjective(Hinge(), X, y[:, None], n_outputs=1, C=C, penalty=L1())
    tracemalloc.start()
    try:
        result = interior.hinge_interior_point(objective, 1e-8, 200)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_working_sets_copy_no_more_of_x_than_they_use(monkeypatch):
    # on wide dense data the route centred a copy of the whole X, three in
    # all (860 MB at 1,000 x 40,000, given up after one round of 50
    # features): each round now copies its own columns
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 20000))
    y = np.where(X[:, :3].sum(axis=1) > 0, 1.0, -1.0)
    monkeypatch.setattr(interior, "HINGE_STEP_WORK", interior._step_work(X) - 1.0)
    result, peak = _interior_point_peak(X, y, C=0.1)
    assert result.converged
    assert peak < 0.5 * X.nbytes


def test_each_working_set_round_solves_its_own_problem(monkeypatch):
    # the rounds' iterates were scored on the whole problem, where with the
    # elastic net the features left out weigh on the bound beyond any
    # scaling: on text at C = 10 the first round's best iterate was its
    # first, at w = 0, and the next working set was chosen from it
    X, y = zipf_text(5000, 20000)
    rounds = []
    real = interior.margin_interior_point

    def spy(columns, y, weights, rho, q, p, intercept, loss, *args, **kwargs):
        found = real(columns, y, weights, rho, q, p, intercept, loss, *args, **kwargs)
        rounds.append((columns, y, weights, rho, q, intercept, found))
        return found

    monkeypatch.setattr(interior, "margin_interior_point", spy)
    # the rounds themselves, not the rule that foretells where they end
    monkeypatch.setattr(interior, "SCREEN_FORETELL", np.inf)
    with warnings.catch_warnings():
        # the optimum needs more features than the interior point takes:
        # the smoothing stages end the fit, at max_iter
        warnings.simplefilter("ignore", ConvergenceWarning)
        HingeClassifier(loss="hinge", penalty=ElasticNet(0.5), C=10.0).fit(X, y)
    assert rounds and rounds[0][0].shape[0] < 20000
    for columns, signs, weights, rho, q, intercept, found in rounds:
        w, b, _, alpha = found
        # the round's problem divided by rho + q: an elastic net of ratio
        # rho / (rho + q) at C = 1, the weights divided alike
        restricted = LinearObjective(
            Hinge(), sp.csr_matrix(columns.T), signs[:, None], n_outputs=1,
            C=1.0, sample_weight=weights / (rho + q), fit_intercept=intercept,
            penalty=ElasticNet(rho / (rho + q)),
        )  # fmt: skip
        coef = np.append(w, b) if intercept else w
        dual = (-(alpha * signs / (rho + q))[:, None], -alpha[:, None] / (rho + q))
        gap, primal = restricted.duality_gap(coef, dual=dual)
        assert gap <= 1e-6 * primal


def test_the_work_checks_copy_no_columns(monkeypatch):
    # the foretelling check sliced X's columns past rho to count their
    # work: on wide dense data at a large C, most of X (280 MB at 1,000 x
    # 40,000) for a route that then gave way
    rng = np.random.default_rng(0)
    X = rng.random((100, 20000))
    y = np.where(X[:, :3].sum(axis=1) > 1.5, 1.0, -1.0)
    first = interior._step_work(X, np.arange(interior.SCREEN_FIRST))
    monkeypatch.setattr(interior, "HINGE_STEP_WORK", 2.0 * first)
    result, peak = _interior_point_peak(X, y, C=100.0)
    assert result.n_iter == 0  # the route gave way at once
    assert peak < 0.5 * X.nbytes


# -- penalty=None: the hinge's linear program alone ---------------------------
def _unpenalized_program(X, y, c, intercept):
    """``min sum_i c_i [1 - y_i (x_i w + b)]_+``, summed over the one-vs-rest
    columns of ``y`` (``(n, K)`` of +-1) by HiGHS."""
    Y = np.asarray(y, dtype=float).reshape(len(y), -1)
    return sum(
        _hinge_program(X, Y[:, k], c, 1.0, 0.0, 0.0, intercept)
        for k in range(Y.shape[1])
    )


def _one_vs_rest(y):
    classes = np.unique(y)
    if len(classes) == 2:
        return np.where(y == classes[1], 1.0, -1.0)
    return np.where(y[:, None] == classes, 1.0, -1.0)


def _iris():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def _digits_part():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize(
    "data", ["breast_cancer", "breast_cancer_raw", "iris", "iris_csr", "digits"]
)
def test_no_penalty_default_hinge_fit_reaches_the_linear_programs_optimum(
    data, intercept
):
    # every one of these default fits ended at max_iter, 0.1 to 50 % above
    # the optimum: the smoothing stages have no bound without a penalty
    X, y = {
        "breast_cancer": lambda: (_breast_cancer()[0], load_breast_cancer().target),
        "breast_cancer_raw": lambda: load_breast_cancer(return_X_y=True),
        "iris": _iris,
        "iris_csr": lambda: (sp.csr_matrix(_iris()[0]), _iris()[1]),
        "digits": _digits_part,
    }[data]()
    model = _certified_fit(X, y, penalty=None, fit_intercept=intercept)
    reference = _unpenalized_program(X, _one_vs_rest(y), np.ones(len(y)), intercept)
    scores = np.asarray(X @ model.coef_.T) + model.intercept_
    value = float(
        np.maximum(1.0 - _one_vs_rest(y).reshape(scores.shape) * scores, 0).sum()
    )
    assert value == pytest.approx(model.objective_value_, rel=1e-10, abs=1e-12)
    assert value - reference <= model.optimality_ * value + 1e-9 * max(reference, 1)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(4, 30),
    d=st.integers(1, 4),
    scale=st.sampled_from([1e-3, 1e-1, 1.0, 30.0]),
    shift=st.sampled_from([0.0, 1.0, 50.0]),
    separable=st.booleans(),
    intercept=st.booleans(),
    weighted=st.booleans(),
    zeroed=st.booleans(),
)
def test_no_penalty_hinge_fits_are_certified_at_the_optimum(
    seed, n, d, scale, shift, separable, intercept, weighted, zeroed
):
    # the smoothing stages' gradient test had stood 10 % above the optimum
    # with no warning (2 of 330 such problems), and their smoothing shrank
    # to 0 and divided by it (5 of 330). With most entries 0 (``zeroed``)
    # some rows are 0: without an intercept their multipliers stay at 1
    # while the others' tend to 0, and X^T U with them
    rng = np.random.default_rng(seed)
    X = shift + scale * rng.standard_normal((n, d))
    if zeroed:
        X = X * (rng.random((n, d)) < 0.3)
    labels = X @ rng.standard_normal(d) > 0 if separable else rng.random(n) < 0.5
    y = np.where(labels, 1.0, -1.0)
    if len(np.unique(y)) < 2:
        return
    c = rng.uniform(0.1, 3.0, n) if weighted else np.ones(n)
    model = _certified_fit(X, y, sample_weight=c, penalty=None, fit_intercept=intercept)
    reference = _hinge_program(X, y, c, 1.0, 0.0, 0.0, intercept)
    value = _hinge_value(X, y, model.coef_.ravel(), model.intercept_[0], c, 1.0, 0, 0)
    assert value - reference <= model.optimality_ * value + 1e-9 * max(reference, 1)


def test_no_penalty_separable_data_end_at_zero_loss():
    # 14 samples at 10 +- 1e-3: the interior point's iterates only tend to a
    # separator (P > 0 at each) and its multipliers to 0, so neither value
    # nor bound reached 0 (1000 iterations, P = 13.3, a warning)
    X = 10.0 + 1e-3 * np.linspace(-1.0, 1.0, 14)[:, None]
    y = (X[:, 0] > 10.0).astype(int)
    model = _certified_fit(X, y, penalty=None)
    assert model.objective_value_ == 0.0
    assert model.score(X, y) == 1.0


def test_no_penalty_certificate_needs_x_t_u_zero_to_rounding():
    # P* >= m sum alpha only where X^T (alpha y) = 0: the multipliers that
    # balance two mirrored samples are feasible, a perturbed copy is not
    X = np.array([[1.0, 2.0], [-1.0, -2.0], [0.5, 0.1], [-0.5, -0.1]])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    objective = LinearObjective(
        Hinge(), X, y[:, None], n_outputs=1, C=1.0, fit_intercept=False,
        penalty=None,
    )  # fmt: skip
    coef = np.zeros(2)  # P = 4: every sample on its margin's wrong side
    alpha = np.ones(4)
    assert np.allclose(X.T @ (alpha * y), 0.0)

    def gap(a):
        return objective.duality_gap(coef, dual=(-(a * y)[:, None], -a[:, None]))

    assert gap(alpha) == (0.0, 4.0)  # D = sum alpha = 4 = P: w = 0 is optimal
    nudged = alpha.copy()
    nudged[0] = 1.0 - 1e-6  # X^T (alpha y) of 2e-6: far past rounding
    assert gap(nudged) == (4.0, 4.0)  # no bound but P* >= 0
    # the gradient is no dual point without a penalty
    assert objective.duality_gap(coef)[0] == np.inf


def test_no_penalty_smoothing_stops_at_its_floor(monkeypatch):
    # X = 0: every w is optimal, the smoothed gradient at 0 is 0, and each
    # stage ended at once: mu shrank by 0.1 a stage to 0 and the smooth
    # hinge divided by it (ZeroDivisionError)
    X = np.zeros((12, 2))
    y = np.tile([0, 1, 1], 4)
    with pytest.warns(ConvergenceWarning, match="floor"):
        model = HingeClassifier(
            loss="hinge", penalty=None, fit_intercept=False,
            solver=GradientDescent(polish=False),
        ).fit(X, y)  # fmt: skip
    assert model.objective_value_ == 12.0
    assert model.optimality_ == np.inf  # the stages bound nothing


def test_which_unpenalized_problems_go_to_the_interior_point(monkeypatch):
    assert hinge_interior_point_applies(_objective(penalty=None))
    assert not hinge_interior_point_applies(
        _objective(CrammerSinger(), n_outputs=3, penalty=None)
    )
    # no working sets without a penalty: every feature's dual value must
    # reach 0, so past the limit over all of them the stages take it
    X = np.random.default_rng(1).standard_normal((50, 2 * interior.SCREEN_FIRST))
    first = interior._step_work(X, np.arange(interior.SCREEN_FIRST))
    monkeypatch.setattr(interior, "HINGE_STEP_WORK", first)
    assert hinge_interior_point_applies(_objective(penalty=L1(), X=X))
    assert not hinge_interior_point_applies(_objective(penalty=None, X=X))


def test_no_penalty_nearly_collinear_columns_reach_the_optimum():
    # 7 columns at 298 +- 2e-4, one duplicated, no intercept (singular
    # values 3.7e3, then about 1e-3): the interior point's normal matrix
    # squared that conditioning and its residual stalled at 6e-4; the
    # stages then stopped on their gradient test 6 % above the optimum,
    # with no warning
    rng = np.random.default_rng(1088)
    X = 298.0 + 2e-4 * rng.standard_normal((22, 6))
    X = np.hstack([X, X[:, :1]])
    y = np.where(rng.random(22) < 0.5, 1.0, -1.0)
    model = _certified_fit(X, y, penalty=None, fit_intercept=False)
    reference = _hinge_program(X, y, np.ones(22), 1.0, 0.0, 0.0, False)
    value = _hinge_value(X, y, model.coef_.ravel(), 0.0, np.ones(22), 1.0, 0, 0)
    assert value - reference <= model.optimality_ * value + 1e-9 * max(reference, 1)


def test_a_stop_below_which_a_route_found_a_point_is_no_certificate(monkeypatch):
    # without a penalty the stages stop on a gradient test: where the
    # interior point (here held short of a certificate) met a lower P than
    # the stop's bound allows, the fit is not converged and that point stands
    from hinge_estimators.solvers._base import SolveResult

    def short(objective, tol, max_iterations, callback=None, start=None):
        return interior.hinge_interior_point(objective, 0.0, 3, callback)

    def stopped_higher(self, objective, x, tol, max_iter, callback):
        # the stages' claim: converged at P(0), far above the point handed on
        return SolveResult(
            objective.zeros(),
            1,
            True,
            objective.value(objective.zeros()),
            1e-6,
            [],
            "relative gradient norm below tol",
        )

    monkeypatch.setattr(_gradient_descent, "hinge_interior_point", short)
    monkeypatch.setattr(GradientDescent, "_smoothing", stopped_higher)
    objective = _objective(penalty=None)
    handed_on = short(objective, 0.0, 3)
    assert handed_on.value < objective.value(objective.zeros())
    result = GradientDescent().solve(objective, tol=1e-4, max_iter=100)
    assert not result.converged
    assert result.value == handed_on.value


def _scale_mismatch(seed):
    # an uninformative column at 1e6 beside an informative one at 1e-9
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(40) < 0.5, 1.0, -1.0)
    X = np.column_stack(
        [1e6 * rng.normal(size=40), 1e-9 * (y + 0.3 * rng.normal(size=40))]
    )
    return X, y


def _near_duplicates(seed):
    # a nearly duplicated pair (1e-6 apart) beside a column at 1e5
    rng = np.random.default_rng(seed)
    t = 2e-3 * rng.normal(size=150)
    X = np.column_stack(
        [1e-2 * rng.normal(size=150), t, t * (1 + 1e-6 * rng.normal(size=150)),
         1e5 * rng.normal(size=150)]
    )  # fmt: skip
    noise = rng.normal(size=150)
    y = np.where(X[:, 0] / 1e-2 + X[:, 3] / 1e5 + noise > 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("make", [_scale_mismatch, _near_duplicates])
@pytest.mark.parametrize("seed", [0, 15])
def test_no_penalty_columns_of_very_different_scales_reach_the_optimum(make, seed):
    # a review found both certified above the optimum: the basis dropped
    # directions for their scale (singular values below max(n, d) eps of a
    # column at 1e6), and the certificate measured every residual against
    # the largest column's sums
    X, y = make(seed)
    model = _certified_fit(X, y, penalty=None)
    # the reference on columns scaled to unit norm: the same program
    norms = np.linalg.norm(X - X.mean(axis=0), axis=0)
    reference = _hinge_program(X / norms, y, np.ones(len(y)), 1.0, 0.0, 0.0, True)
    w, b = model.coef_.ravel(), model.intercept_[0]
    value = _hinge_value(X, y, w, b, np.ones(len(y)), 1.0, 0, 0)
    assert value - reference <= model.optimality_ * value + 1e-9 * max(reference, 1)


def _sparse_scaled(seed):
    # low-density CSR, column scales 1e-6 to 1e6, often a near duplicate
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(50, 300)), int(rng.integers(5, 30))
    k = int(rng.choice([2, 3]))
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < rng.uniform(0.03, 0.2))
    noise = rng.choice([0.3, 1.0]) * rng.normal(size=(n, k))
    y = np.argmax(X @ rng.normal(size=(d, k)) + noise, axis=1)
    X = X * 10.0 ** rng.uniform(-6, 6, size=d)
    if rng.random() < 0.5:
        j = rng.integers(0, d)
        X[:, (j + 1) % d] = X[:, j] * (1 + 1e-6 * rng.normal(size=n))
    return X, y, bool(rng.random() < 0.8), float(rng.choice([1e-4, 1e-8]))


@pytest.mark.parametrize("seed", [2, 80, 202, 227])
def test_no_penalty_sparse_ill_conditioned_data_reach_the_optimum(seed):
    # a review's finding: on CSR data the interior point ran on the raw
    # columns, stopped short of X^T U = 0, and its certificate passed 3 %
    # above the optimum (or the stages' gradient test took over, likewise)
    X, y, intercept, tol = _sparse_scaled(seed)
    model = _certified_fit(
        sp.csr_matrix(X), y, penalty=None, fit_intercept=intercept, tol=tol
    )
    signs = _one_vs_rest(y)
    centred = X - X.mean(axis=0) if intercept else X
    norms = np.abs(centred).max(axis=0)
    kept = norms > 0
    reference = _unpenalized_program(
        centred[:, kept] / norms[kept], signs, np.ones(len(y)), intercept
    )
    scores = X @ model.coef_.T + model.intercept_
    value = float(np.maximum(1.0 - signs.reshape(scores.shape) * scores, 0).sum())
    assert value <= reference * (1 + tol) + 1e-9


def test_no_penalty_stages_never_claim_convergence():
    # without a penalty the smoothing stages' stop is a gradient test, which
    # stood 3 to 86 % above the optimum: a fit they end warns, however small
    # its test
    X, y = _breast_cancer()
    with pytest.warns(ConvergenceWarning, match="bounds nothing"):
        model = HingeClassifier(
            loss="hinge", penalty=None, solver=GradientDescent(polish=False),
            tol=1e-2, max_iter=20000,
        ).fit(X[:, :5], y)  # fmt: skip
    assert model.optimality_ <= 1e-2  # the test itself was met


def test_no_penalty_reports_the_interior_points_bound_after_the_stages(monkeypatch):
    # the interior point held short of its certificate, the stages go on
    # from its point: their gap is no bound without a penalty, so the fit
    # reports the interior point's, which must bound the true excess (the
    # stages' gap was reported: 5e-11 where the excess was 1.6e-3)
    def short(objective, tol, max_iterations, callback=None, start=None):
        return interior.hinge_interior_point(objective, tol, 10, callback)

    monkeypatch.setattr(_gradient_descent, "hinge_interior_point", short)
    X, y = _breast_cancer()
    X = X[:, :5]
    with pytest.warns(ConvergenceWarning):
        model = HingeClassifier(
            loss="hinge", penalty=None, tol=1e-12, max_iter=2000
        ).fit(X, y)  # fmt: skip
    reference = _hinge_program(X, y, np.ones(len(y)), 1.0, 0.0, 0.0, True)
    value = model.objective_value_
    assert np.isfinite(model.optimality_)
    assert (value - reference) / value <= model.optimality_ * (1 + 1e-6) + 1e-12


@pytest.mark.parametrize("seed", [9, 15, 19])
def test_no_penalty_separators_meet_every_margin_in_the_users_coordinates(seed):
    # features shifted by 1e4: intercepts near 1e8, and a separator scaled
    # 1e-9 past the margin left X w + b up to 6e-8 short of it, where
    # objective_value_ said 0
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 6)) * 10.0 ** rng.uniform(-4, 2, size=6)
    X = X + 1e4 * rng.normal(size=6)
    y = np.argmax((X - X.mean(0)) @ rng.normal(size=(6, 3)) / X.std(0).mean(), 1)
    model = _certified_fit(X, y, penalty=None)
    assert model.objective_value_ == 0.0
    margins = _one_vs_rest(y) * (X @ model.coef_.T + model.intercept_)
    assert margins.min() >= 1.0


def test_no_penalty_separable_data_take_the_smoothing_stages_first(monkeypatch):
    # a review: separable one-vs-rest data (as all wide data are) reach P = 0
    # in a few smoothed steps, where the interior point took 80 times longer
    # (1,000 x 999, 10 classes: 7.9 s against 0.10 s); and each column redid
    # the basis's SVD
    calls = spy_on(monkeypatch, _gradient_descent, "hinge_interior_point")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 80))
    y = np.argmax(X @ rng.normal(size=(80, 4)), axis=1)
    model = _certified_fit(X, y, penalty=None)
    assert not calls and model.objective_value_ == 0.0
    assert np.min(_one_vs_rest(y) * (X @ model.coef_.T + model.intercept_)) >= 1.0


def test_no_penalty_columns_share_one_basis(monkeypatch):
    calls = spy_on(monkeypatch, interior, "_range_basis")
    monkeypatch.setattr(_gradient_descent, "SEPARATING_ITERATIONS", 1)
    X, y = _iris()
    _certified_fit(X, y, penalty=None)
    assert len(calls) == 1


def test_no_penalty_interior_point_stays_within_its_memory(monkeypatch):
    # the basis holds several dense copies of X (10 x 2,000,000: 960 MB
    # past X's 153 MB): past INTERIOR_MEMORY the stages take the fit
    objective = _objective(penalty=None)
    assert hinge_interior_point_applies(objective)
    size = 8.0 * objective.n_samples * objective.n_features
    monkeypatch.setattr(
        interior, "INTERIOR_MEMORY", size * (interior.UNPENALIZED_COPIES - 1)
    )
    assert not hinge_interior_point_applies(objective)


def test_a_met_test_that_bounds_nothing_is_not_reported_above_tol(monkeypatch):
    # Crammer-Singer without a penalty has no certificate: its stages stop
    # on a gradient test below tol and do not converge, which the warning
    # read as "9.9e-05 > tol=0.0001; increase max_iter"
    from hinge_estimators.solvers._base import SolveResult

    def tested(self, objective, coef_init=None, **kwargs):
        return SolveResult(
            objective.zeros(), 7, False, objective.value(objective.zeros()),
            0.5 * kwargs["tol"], [], _gradient_descent.UNBOUNDED_MESSAGE,
        )  # fmt: skip

    monkeypatch.setattr(GradientDescent, "solve", tested)
    X, y = _iris()
    with pytest.warns(ConvergenceWarning) as caught:
        HingeClassifier(loss="crammer_singer", penalty=None).fit(X, y)
    message = str(caught[0].message)
    assert "5e-05 <= tol=0.0001" in message and "bounds nothing" in message
    assert "increase max_iter" not in message


@pytest.mark.parametrize("max_iter", [50, 120])
def test_no_penalty_tall_data_give_the_stages_a_small_share(monkeypatch, max_iter):
    # a third review: the separating stages took 100 iterations of max_iter
    # first, and fits of max_iter up to ~130 ended uncertified (iris at 50:
    # P = 105 where P* = 88.72); where samples outnumber features the
    # classes may overlap, and the stages get one iteration per 4 features
    budgets = spy_on(
        monkeypatch, _gradient_descent.GradientDescent, "_separating_route",
        record=lambda args, result: args[3],
    )  # fmt: skip
    X, y = _iris()
    model = _certified_fit(X, y, penalty=None, max_iter=max_iter)
    assert budgets == [X.shape[1] // _gradient_descent.SEPARATING_FEATURES]
    reference = _unpenalized_program(X, _one_vs_rest(y), np.ones(len(y)), True)
    value = model.objective_value_
    assert value - reference <= model.optimality_ * value + 1e-9 * max(reference, 1)


def test_other_unconverged_fits_below_tol_keep_their_advice(monkeypatch):
    # the "bounds nothing" text is for the stages' test without a penalty;
    # a fit stopped at max_iter below tol reads neither "> tol" (false) nor
    # that text
    from hinge_estimators.solvers._base import SolveResult

    def stopped(self, objective, coef_init=None, **kwargs):
        return SolveResult(
            objective.zeros(), 7, False, objective.value(objective.zeros()),
            0.5 * kwargs["tol"], [], "max_iter",
        )  # fmt: skip

    monkeypatch.setattr(GradientDescent, "solve", stopped)
    X, y = _iris()
    with pytest.warns(ConvergenceWarning) as caught:
        HingeClassifier(loss="hinge", solver="gd").fit(X, y)
    message = str(caught[0].message)
    assert "stopping measure 5e-05 (tol=0.0001)" in message
    assert "bounds nothing" not in message and "increase max_iter" in message


def test_no_penalty_bound_holds_on_features_of_tiny_spread():
    # a fifth review: features at 2^19 +- 1e-6 (exact), separable (P* = 0):
    # against the uncentered sums any balanced U passed the certificate's
    # feasibility test, and a fit stopped at max_iter=1 reported 0.41 where
    # its true relative gap is 1
    rng = np.random.default_rng(0)
    Z = np.round(rng.normal(size=(100, 10)) * 1000)
    y = (Z @ rng.normal(size=10) > 0).astype(int)
    X = 2.0**19 + Z * 2.0**-30
    with pytest.warns(ConvergenceWarning):
        model = HingeClassifier(loss="hinge", penalty=None, max_iter=1).fit(X, y)
    assert model.objective_value_ > 0.0
    assert model.optimality_ >= 1.0  # (P - 0) / P


def test_an_uncertified_end_above_its_warm_start_keeps_the_start():
    # the interior point starts from its own centre: a warm refit at
    # max_iter=1 from the optimum returned P = 268 where the start had 0
    rng = np.random.default_rng(0)
    X = rng.normal(size=(353, 5))
    y = (X @ rng.normal(size=5) + rng.normal(size=353) > 0).astype(int)
    model = HingeClassifier(loss="hinge", penalty=None, warm_start=True).fit(X, y)
    first = model.objective_value_
    with pytest.warns(ConvergenceWarning):
        model.set_params(max_iter=1).fit(X, y)
    assert model.objective_value_ <= first * (1 + 1e-12)  # P at the start, to rounding
