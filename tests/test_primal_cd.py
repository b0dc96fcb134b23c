"""Primal coordinate descent (``solver="primal_cd"``) for sparse penalties."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from hinge_estimators import HingeClassifier, LinearObjective
from hinge_estimators.losses import (
    Hinge,
    ModifiedHuber,
    PairwiseSquaredHinge,
    SmoothHinge,
    SquaredHinge,
    WestonWatkins,
)
from hinge_estimators.penalties import L1, ElasticNet, GroupL1L2
from hinge_estimators.solvers import (
    GradientDescent,
    PrimalCoordinateDescent,
    _primal_cd,
    auto_solver,
)

from ._problems import certified_fit, spy_on


def _binary(n=80, d=12, seed=0, sparse=False):
    X, y = make_classification(
        n, d, n_informative=4, n_redundant=2, random_state=seed, class_sep=0.8
    )
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    return X, np.where(y == 1, 1.0, -1.0)


def _phi(loss, z):
    """The margin losses written out here, independently of the package."""
    if isinstance(loss, SmoothHinge):
        u = loss.margin - z
        return np.where(
            u <= 0,
            0.0,
            np.where(u < loss.gamma, u * u / (2 * loss.gamma), u - loss.gamma / 2),
        )
    if isinstance(loss, ModifiedHuber):
        return np.where(z < -1, -4 * z, np.maximum(1 - z, 0) ** 2)
    return np.maximum(1 - z, 0) ** 2


def _dphi(loss, z):
    if isinstance(loss, SmoothHinge):
        return -np.clip((loss.margin - z) / loss.gamma, 0, 1)
    if isinstance(loss, ModifiedHuber):
        return np.where(z < -1, -4.0, -2 * np.maximum(1 - z, 0))
    return -2 * np.maximum(1 - z, 0)


def _value(loss, X, y, w, b, C, s, l1, l2, p=0.0):
    """The objective written out here (``p``: a penalized intercept's weight)."""
    z = y * (X @ w + b)
    penalty = l1 * np.abs(w).sum() + 0.5 * l2 * w @ w + 0.5 * p * b * b
    return penalty + C * s @ _phi(loss, z)


def _split_reference(loss, X, y, C, s, l1, l2, fit_intercept, p=0.0):
    """``min`` over ``w = u - v``, ``u, v >= 0`` (and ``b``) by L-BFGS-B."""
    X = X.toarray() if sp.issparse(X) else X
    d = X.shape[1]

    def fun(x):
        u, v = x[:d], x[d : 2 * d]
        b = x[2 * d] if fit_intercept else 0.0
        w = u - v
        z = y * (X @ w + b)
        r = C * s * y * _dphi(loss, z)
        gw = X.T @ r + l2 * w
        value = _value(loss, X, y, w, b, C, s, l1, l2, p)
        grad = np.concatenate(
            [gw + l1, -gw + l1] + ([[r.sum() + p * b]] if fit_intercept else [])
        )
        return value, grad

    size = 2 * d + int(fit_intercept)
    bounds = [(0, None)] * (2 * d) + [(None, None)] * int(fit_intercept)
    # restarted until a run no longer lowers the value: L-BFGS-B can stop
    # on its relative-reduction rule after a few short steps (modified
    # Huber, off-center features: 12.63 where the optimum is 12.24, with
    # scipy 1.17), and a restart drops the stale curvature pairs
    x, best = np.zeros(size), np.inf
    for _ in range(10):
        res = minimize(
            fun, x, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-12},
        )  # fmt: skip
        if not res.fun < best * (1 - 1e-14):
            break
        x, best = res.x, res.fun
    return min(best, res.fun)


def _certified_default_fit(load, **params):
    """A standardized bundled set and a ``HingeClassifier`` fit on it that
    must not warn that it stopped early."""
    from sklearn.preprocessing import StandardScaler

    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X, y, certified_fit(X, y, **params)


def _binary_value_and_gap(model, X, y, loss, penalty):
    """``(P, gap, signs)`` of a fitted binary model, the gap recomputed by
    ``LinearObjective``, not the solver's certificate."""
    signs = np.where(y == model.classes_[1], 1.0, -1.0)
    objective = LinearObjective(
        loss, X, signs[:, None], n_outputs=1, C=model.C, penalty=penalty
    )
    gap, value = objective.duality_gap(np.append(model.coef_.ravel(), model.intercept_))
    return value, gap, signs


def _solve(loss, X, y, penalty, tol=1e-10, **kw):
    objective = LinearObjective(loss, X, y[:, None], n_outputs=1, penalty=penalty, **kw)
    result = PrimalCoordinateDescent().solve(objective, tol=tol, max_iter=500)
    return objective, result


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "penalty, l1, l2",
    [(L1(), 1.0, 0.0), (ElasticNet(l1_ratio=0.7), 0.7, 0.3), (GroupL1L2(), 1.0, 0.0)],
    ids=["l1", "en", "group"],
)
def test_certificate_bounds_the_suboptimality(sparse, penalty, l1, l2):
    X, y = _binary(sparse=sparse)
    s = np.ones(len(y))
    # with one score column the group norm is the absolute value
    reference = _split_reference(SquaredHinge(), X, y, 0.3, s, l1, l2, True)
    for tol in (1e-2, 1e-7):
        objective, result = _solve(SquaredHinge(), X, y, penalty, tol=tol, C=0.3)
        assert result.converged and result.optimality <= tol
        value = objective.value(result.coef)
        assert value == pytest.approx(result.value, rel=1e-12)
        excess = (value - reference) / value
        assert excess <= result.optimality + 1e-9


@pytest.mark.parametrize("sparse", [False, True])
def test_agrees_with_liblinear(sparse):
    X, y = _binary(n=120, d=15, seed=1, sparse=sparse)
    C = 0.05
    svc = LinearSVC(
        penalty="l1", loss="squared_hinge", dual=False, fit_intercept=False,
        C=C, tol=1e-10, max_iter=100000,
    ).fit(X, y)  # fmt: skip
    _, result = _solve(SquaredHinge(), X, y, "l1", tol=1e-8, C=C, fit_intercept=False)
    w_svc, w_cd = svc.coef_.ravel(), result.coef
    s = np.ones(len(y))
    ours = _value(SquaredHinge(), X, y, w_cd, 0.0, C, s, 1.0, 0.0)
    theirs = _value(SquaredHinge(), X, y, w_svc, 0.0, C, s, 1.0, 0.0)
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert ours <= theirs * (1 + 1e-9)
    assert 0 < np.count_nonzero(w_cd) < len(w_cd)
    # the support, away from coefficients at rounding level
    np.testing.assert_array_equal(np.abs(w_cd) > 1e-6, np.abs(w_svc) > 1e-6)


@pytest.mark.parametrize(
    "loss, penalty, l1, l2",
    [
        (SquaredHinge(), L1(), 1.0, 0.0),
        (SmoothHinge(gamma=0.5), ElasticNet(l1_ratio=0.6), 0.6, 0.4),
        (ModifiedHuber(), L1(), 1.0, 0.0),
    ],
)
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_agrees_with_split_formulation(loss, penalty, l1, l2, fit_intercept):
    X, y = _binary(n=60, d=8, seed=2)
    X = X + 2.0  # features off-center: the intercept matters
    s = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    C = 0.2
    _, result = _solve(
        loss,
        X,
        y,
        penalty,
        tol=1e-10,
        C=C,
        sample_weight=s,
        fit_intercept=fit_intercept,
    )
    reference = _split_reference(loss, X, y, C, s, l1, l2, fit_intercept)
    w, b = result.coef[:8], (result.coef[8] if fit_intercept else 0.0)
    ours = _value(loss, X, y, w, b, C, s, l1, l2)
    assert ours == pytest.approx(reference, rel=1e-6)
    assert ours <= reference * (1 + 1e-9)


@pytest.mark.parametrize("intercept_scaling", [None, 2.0])
def test_group_penalty_meets_optimality_conditions(intercept_scaling):
    X, y = make_classification(90, 10, n_informative=4, n_classes=3, random_state=3)
    Y = np.where(y[:, None] == np.arange(3), 1.0, -1.0)
    s = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    C = 0.1
    objective = LinearObjective(
        SquaredHinge(), X, Y, n_outputs=3, C=C, sample_weight=s,
        intercept_scaling=intercept_scaling, penalty="l1_l2",
    )  # fmt: skip
    result = PrimalCoordinateDescent().solve(objective, tol=1e-10, max_iter=2000)
    assert result.converged
    W, b = result.coef[:30].reshape(3, 10), result.coef[30:]
    # the loss gradient written out here; KKT of the group norm per feature
    R = C * s[:, None] * Y * _dphi(SquaredHinge(), Y * (X @ W.T + b))
    grad_W, grad_b = (X.T @ R).T, R.sum(axis=0)
    scale = np.abs(grad_W).max()
    norms = np.linalg.norm(W, axis=0)
    kept = norms > 0
    assert 0 < kept.sum() < 10  # some features dropped for every class at once
    np.testing.assert_allclose(
        grad_W[:, kept], -W[:, kept] / norms[kept], atol=1e-4 * scale
    )
    assert np.all(np.linalg.norm(grad_W[:, ~kept], axis=0) <= 1 + 1e-6)
    penalty = 0.0 if intercept_scaling is None else 1 / intercept_scaling**2
    np.testing.assert_allclose(grad_b + penalty * b, 0, atol=1e-4 * scale)


def test_dense_and_csr_give_the_same_optimum():
    X, y = _binary(n=100, d=20, seed=4, sparse=True)
    dense = _solve(SquaredHinge(), X.toarray(), y, "l1", C=0.2)[1]
    csr = _solve(SquaredHinge(), X, y, "l1", C=0.2)[1]
    assert dense.value == pytest.approx(csr.value, rel=1e-9)
    np.testing.assert_allclose(dense.coef, csr.coef, atol=1e-4)


def test_warm_start_from_the_solution_stops_at_once():
    X, y = _binary(seed=5)
    objective, result = _solve(SquaredHinge(), X, y, ElasticNet(0.5), tol=1e-8, C=0.3)
    again = PrimalCoordinateDescent().solve(
        objective, result.coef, tol=1e-8, max_iter=500
    )
    assert again.converged and again.n_iter <= 1
    assert again.value <= result.value * (1 + 1e-12)


@pytest.mark.parametrize(
    "loss, words",
    [
        (Hinge(), ["not smooth", "squared_hinge", "gd"]),
        (PairwiseSquaredHinge(), ["pairwise", "gd"]),
        (WestonWatkins(squared=True), ["no compiled update", "gd"]),
    ],
)
def test_refuses_losses_it_has_no_update_for(loss, words):
    with pytest.raises(ValueError) as info:
        PrimalCoordinateDescent().check_loss(loss)
    for word in words:
        assert word in str(info.value)


def test_refuses_no_penalty():
    with pytest.raises(ValueError, match="needs a penalty"):
        PrimalCoordinateDescent().check_penalty(None)


def test_auto_picks_it_for_sparse_penalties_of_smooth_margin_losses():
    assert isinstance(
        auto_solver(SquaredHinge(), penalty="l1"), PrimalCoordinateDescent
    )
    assert isinstance(auto_solver(Hinge(), penalty="l1"), GradientDescent)
    assert isinstance(
        auto_solver(SquaredHinge(), penalty="l1_l2"), PrimalCoordinateDescent
    )
    # the elastic net too (Newton steps, the interior point)
    for loss in (SquaredHinge(), ModifiedHuber(), SmoothHinge()):
        for ratio in (0.15, 0.5, 0.99, 1.0):
            auto = auto_solver(loss, penalty=ElasticNet(l1_ratio=ratio))
            assert isinstance(auto, PrimalCoordinateDescent)
    auto = auto_solver(Hinge(), penalty=ElasticNet(l1_ratio=0.5))
    assert isinstance(auto, GradientDescent)


def test_auto_sends_the_multiclass_group_norm_to_gd():
    # with three classes the group norm couples the one-vs-rest columns and
    # primal_cd's block steps are majorized only: it warned here at C = 10
    # (gap 1.3e-2 after 1000 epochs) where gd certifies; with two classes
    # the group norm is L1 and primal_cd keeps it
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    assert isinstance(
        auto_solver(SquaredHinge(), penalty="l1_l2", n_classes=2),
        PrimalCoordinateDescent,
    )
    X, y = make_classification(
        90, 8, n_informative=4, n_classes=3, n_clusters_per_class=1, random_state=6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(penalty="l1_l2", C=10.0).fit(X, y)
    assert isinstance(model.solver_, GradientDescent)
    # the gap recomputed by LinearObjective on the one-vs-rest columns
    Y = np.where(y[:, None] == model.classes_, 1.0, -1.0)
    objective = LinearObjective(
        SquaredHinge(), X, Y, n_outputs=3, C=10.0, penalty=GroupL1L2()
    )
    gap, value = objective.duality_gap(
        np.concatenate([model.coef_.ravel(), model.intercept_])
    )
    assert gap <= model.tol * value


def test_classifier_with_l1_penalty_has_exact_zeros():
    X, y = make_classification(150, 30, n_informative=3, random_state=6)
    model = HingeClassifier(loss="squared_hinge", penalty="l1", C=0.05).fit(X, y)
    assert isinstance(model.solver_, PrimalCoordinateDescent)
    assert 0 < np.count_nonzero(model.coef_) < 30
    assert model.optimality_ <= model.tol
    assert model.score(X, y) > 0.7


@pytest.mark.parametrize("loss", [SquaredHinge(), ModifiedHuber()])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "penalty, l1, l2",
    [(L1(), 1.0, 0.0), (ElasticNet(l1_ratio=0.8), 0.8, 0.2)],
    ids=["l1", "en"],
)
def test_newton_steps_on_collinear_columns_descend_to_the_optimum(
    sparse, penalty, l1, l2, fit_intercept, loss, monkeypatch
):
    # one-hot blocks (each sums to the constant column): coordinate descent
    # crawls along the exact collinearity, and the solver switches to
    # Newton steps on the working set
    rng = np.random.default_rng(3)
    levels = rng.integers(0, 4, size=(200, 10))
    X = np.zeros((200, 40))
    X[np.arange(200)[:, None], 4 * np.arange(10) + levels] = 1.0
    y = np.where(levels[:, 0] + levels[:, 1] + rng.normal(0, 1, 200) > 3, 1.0, -1.0)
    s = rng.uniform(0.5, 2.0, len(y))
    X = sp.csr_matrix(X) if sparse else X
    C = 0.5
    steps = []
    newton_step = _primal_cd._newton_step

    def spy(data, working_set, Y, Z, W, b, *rest):
        w, b_before = W[0].copy(), float(b[0])
        violation, work = newton_step(data, working_set, Y, Z, W, b, *rest)
        if violation is not None:
            steps.append(((w, b_before), (W[0].copy(), float(b[0]))))
        return violation, work

    monkeypatch.setattr(_primal_cd, "_newton_step", spy)
    # on sparse columns (not centered) the kernels' coordinates are X's
    objective, result = _solve(
        loss, X, y, penalty, tol=1e-9, C=C, sample_weight=s,
        fit_intercept=fit_intercept,
    )  # fmt: skip
    assert result.converged and steps
    # a dense X with an intercept is centered: the steps' coordinates are
    # the centered columns'
    X_steps = X
    if fit_intercept and not sparse:
        X_steps = X - np.average(X, axis=0, weights=s)
    for before, after in steps:
        # near the optimum a step's decrease is below the rounding of a
        # value summed over 200 samples: allow that much
        value_after = _value(loss, X_steps, y, *after, C, s, l1, l2)
        value_before = _value(loss, X_steps, y, *before, C, s, l1, l2)
        assert value_after < value_before * (1 + 1e-13)
    reference = _split_reference(loss, X, y, C, s, l1, l2, fit_intercept)
    W, b = objective.split(result.coef)
    ours = _value(
        loss,
        X,
        y,
        W.ravel(),
        float(np.ravel(b)[0]) if fit_intercept else 0.0,
        C,
        s,
        l1,
        l2,
    )
    assert ours == pytest.approx(reference, rel=1e-6)
    assert ours <= reference * (1 + 1e-9)


def test_max_iter_bounds_the_epochs_run(monkeypatch):
    # max_iter once counted working sets of up to 100 epochs each: the work
    # it allowed had no bound a user could read
    X, y = _binary(n=200, d=30, seed=6)
    objective = LinearObjective(
        SquaredHinge(), X, y[:, None], n_outputs=1, C=10.0, penalty="l1"
    )
    run = []
    kernel = _primal_cd.binary_primal_cd

    def spy(*args):
        epochs, violation = kernel(*args)
        run.append(epochs)
        return epochs, violation

    monkeypatch.setattr(_primal_cd, "binary_primal_cd", spy)
    monkeypatch.setattr(_primal_cd, "_newton_step", lambda *args: (None, 0.0))
    result = PrimalCoordinateDescent().solve(objective, tol=1e-14, max_iter=7)
    assert not result.converged
    assert sum(run) <= 7
    assert result.n_iter == sum(run)


@pytest.mark.parametrize("share_active", [0.3, 1.0])
def test_newton_steps_hessian_is_the_weighted_gram_of_the_working_set(share_active):
    # the dense generalized Hessian X_S diag(c) X_S^T, formed by a symmetric
    # rank-k update over the samples of non-zero curvature (fewer than 3/4 of
    # them: a copy of those columns; more: all, scaled)
    from hinge_estimators.solvers._primal_cd_interior import generalized_hessian

    rng = np.random.default_rng(int(10 * share_active))
    X_S = rng.standard_normal((12, 300))
    curvature = np.where(rng.random(300) < share_active, 2.0 * rng.random(300), 0.0)
    np.testing.assert_allclose(
        generalized_hessian(X_S, curvature),
        (X_S * curvature) @ X_S.T,
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("layout", ["C", "F", "strided", "float32"])
def test_column_copy_is_the_transpose_in_any_layout(layout):
    from hinge_estimators.solvers._primal_cd import _columns

    X = np.random.default_rng(0).standard_normal((700, 9))
    given = {
        "C": X,
        "F": np.asfortranarray(X),
        "strided": X[::2],
        "float32": X.astype(np.float32),
    }[layout]
    columns = _columns(given)
    assert columns.flags.c_contiguous and columns.dtype == np.float64
    np.testing.assert_array_equal(columns, np.asarray(given, dtype=np.float64).T)


@pytest.mark.parametrize("C", [10.0, 100.0, 1000.0])
def test_default_intercept_l1_fits_certify_at_large_C(C):
    # with the free intercept (the default) coordinate descent crawled at a
    # large C: every fit from C = 10 up ended at max_iter with its gap up to
    # 0.9; Newton steps now include the intercept
    from sklearn.datasets import load_breast_cancer

    X, y, model = _certified_default_fit(
        load_breast_cancer, loss="squared_hinge", penalty="l1", C=C
    )
    value, gap, signs = _binary_value_and_gap(model, X, y, SquaredHinge(), "l1")
    assert gap <= model.tol * value
    # no lower than the optimum an independent solver finds from above
    s = np.ones(len(y))
    reference = _split_reference(SquaredHinge(), X, signs, C, s, 1.0, 0.0, True)
    assert value <= reference * (1 + 1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), rank=st.integers(2, 12))
def test_quadratic_model_step_reaches_the_models_minimum(seed, rank):
    # a Newton step's model at a large C: a generalized Hessian of low rank
    # (few margins below 1) plus the solver's damping. Coordinate descent's
    # sweeps alone stop far from its minimum; the sign-fixed solves reach it
    from hinge_estimators.solvers._primal_cd import _quadratic_l1_step

    rng = np.random.default_rng(seed)
    m = 12
    A = rng.standard_normal((rank, m)) * rng.uniform(0.1, 10.0, size=m)
    H = A.T @ A
    H += 1e-3 * H.diagonal().max() * np.eye(m)
    g = rng.standard_normal(m) * H.diagonal().max() * rng.uniform(0.1, 2.0)
    w = np.where(rng.random(m) < 0.5, 0.0, rng.standard_normal(m))
    rho = float(np.abs(g).max()) * rng.uniform(0.05, 0.5)
    tol = 1e-9 * rho
    d, _ = _quadratic_l1_step(H, g, w, rho, tol)
    x = w + d
    grad = g + H @ d
    # the optimality conditions of the model, written out here
    for j in range(m):
        if x[j] != 0.0:
            assert abs(grad[j] + rho * np.sign(x[j])) <= 10 * tol
        else:
            assert abs(grad[j]) <= rho + 10 * tol

    def model(d):
        return g @ d + 0.5 * d @ H @ d + rho * (np.abs(w + d).sum() - np.abs(w).sum())

    # no higher than a brute-force minimum over the split variables
    def split(v):
        u, n = v[:m], v[m:]
        step = u - n - w
        value = g @ step + 0.5 * step @ H @ step + rho * (u + n).sum()
        gs = g + H @ step
        return value, np.concatenate([gs + rho, -gs + rho])

    start = np.concatenate([np.maximum(w, 0), np.maximum(-w, 0)])
    options = {"maxiter": 50000, "ftol": 1e-16, "gtol": 1e-12}
    bounds = [(0, None)] * (2 * m)
    res = minimize(split, start, jac=True, bounds=bounds, options=options)
    brute = res.fun - rho * np.abs(w).sum()
    assert model(d) <= brute + 1e-9 * max(1.0, abs(brute))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_segment_minimum_is_the_lowest_point_on_the_segment(seed):
    from hinge_estimators.solvers._primal_cd import _segment_minimum

    rng = np.random.default_rng(seed)
    m = 6
    A = rng.standard_normal((m, m))
    H = A.T @ A
    x = np.where(rng.random(m) < 0.3, 0.0, rng.standard_normal(m))
    direction = rng.standard_normal(m) * rng.uniform(0.1, 5.0)
    grad = rng.standard_normal(m) * 2.0
    rho = rng.uniform(0.1, 2.0)

    def along(t):
        step = t * direction
        return grad @ step + 0.5 * step @ H @ step + rho * np.abs(x + step).sum()

    grid = np.linspace(0.0, 1.0, 20001)
    lowest = min(along(t) for t in grid)
    point = _segment_minimum(H, grad, x, direction, rho)
    if point is None:
        assert lowest >= along(0.0) - 1e-9
    else:
        t = (point - x) @ direction / (direction @ direction)
        np.testing.assert_allclose(point, x + t * direction, atol=1e-12)
        assert along(t) <= lowest + 1e-12 * (1 + abs(lowest))


def test_max_iter_bounds_the_epochs_with_newton_steps(monkeypatch):
    # a Newton step (counted as one) taken as the last of max_iter was
    # followed by the working set's epoch: n_iter = max_iter + 1
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = np.where(y == 1, 1.0, -1.0)
    objective = LinearObjective(
        SquaredHinge(), X, y[:, None], n_outputs=1, C=100.0, penalty="l1"
    )
    steps = []
    newton_step = _primal_cd._newton_step

    def spy(*args):
        steps.append(1)
        return newton_step(*args)

    monkeypatch.setattr(_primal_cd, "_newton_step", spy)
    monkeypatch.setattr(_primal_cd, "_interior_point_pays", lambda *args: False)
    for max_iter in range(5, 60, 3):
        result = PrimalCoordinateDescent().solve(
            objective, tol=1e-12, max_iter=max_iter
        )
        assert result.n_iter <= max_iter
    assert steps


def test_default_elastic_net_fit_converges_at_large_C():
    # auto's gd ended at max_iter here with a gap of 0.02
    from sklearn.datasets import load_breast_cancer

    X, y, model = _certified_default_fit(
        load_breast_cancer, loss="squared_hinge", penalty="elasticnet", C=100.0
    )
    value, gap, _ = _binary_value_and_gap(
        model, X, y, SquaredHinge(), ElasticNet(l1_ratio=0.5)
    )
    assert gap <= model.tol * value


def test_a_newton_step_counts_the_epochs_its_work_is_worth(monkeypatch):
    # on a wide sparse working set one Newton step (its model's sweeps cost
    # |S|^2 each) is worth thousands of epochs: counted as one, max_iter
    # bounded nothing (text at C = 100: 65 s for a default fit)
    X, y = _binary(n=200, d=30, seed=6)
    objective = LinearObjective(
        SquaredHinge(), X, y[:, None], n_outputs=1, C=100.0, penalty="l1"
    )
    newton_step = _primal_cd._newton_step
    charged = []

    def costly(data, working_set, *args):
        violation, _ = newton_step(data, working_set, *args)
        charged.append(data.entries(working_set))
        return violation, 37.5 * data.entries(working_set)

    monkeypatch.setattr(_primal_cd, "_newton_step", costly)
    # no interior point (a step's charge then leaves it no reserve)
    monkeypatch.setattr(_primal_cd, "INTERIOR_LOSSES", ())
    counted = []
    kernel = _primal_cd.binary_primal_cd

    def epochs(*args):
        out = kernel(*args)
        counted.append(out[0])
        return out

    monkeypatch.setattr(_primal_cd, "binary_primal_cd", epochs)
    result = PrimalCoordinateDescent().solve(objective, tol=1e-14, max_iter=400)
    assert charged
    # each step counted as 38 epochs (or what max_iter left)
    assert result.n_iter <= 400
    assert result.n_iter >= sum(counted) + 38 * (len(charged) - 1)


@pytest.mark.parametrize("loss", [ModifiedHuber(), SmoothHinge(gamma=0.5)])
def test_newton_steps_serve_every_smooth_margin_loss(loss, monkeypatch):
    # the Newton steps were the squared hinge's only: with the free
    # intercept the modified Huber and smooth hinge L1 fits ended at
    # max_iter from C = 10 (and on most real sets at C = 1)
    from sklearn.datasets import load_breast_cancer

    newton_step = _primal_cd._newton_step
    taken = []

    def spy(*args):
        out = newton_step(*args)
        taken.append(out[0] is not None)
        return out

    monkeypatch.setattr(_primal_cd, "_newton_step", spy)
    X, y, model = _certified_default_fit(
        load_breast_cancer, loss=loss, penalty="l1", C=10.0
    )
    assert any(taken)
    value, gap, signs = _binary_value_and_gap(model, X, y, loss, "l1")
    assert gap <= model.tol * value
    s = np.ones(len(y))
    reference = _split_reference(loss, X, signs, 10.0, s, 1.0, 0.0, True)
    assert value <= reference * (1 + 1e-9)


@pytest.mark.parametrize(
    "loss", [SmoothHinge(gamma=0.1), SmoothHinge(gamma=0.5, margin=2.0)]
)
def test_newton_step_without_curvature_is_skipped(loss):
    # every margin past the smooth hinge's quadratic band: no sample has
    # curvature, and the step's solves divided by 0 (an overflow error
    # ended the fit)
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = HingeClassifier(loss=loss, penalty="l1", C=10.0, max_iter=5000).fit(X, y)
    assert model.optimality_ <= model.tol


@pytest.mark.parametrize("intercept", [False, True])
def test_unformed_model_sweeps_match_the_formed_ones(intercept):
    # the Newton step's model swept from the working set's rows (H never
    # formed) against the sweeps of the formed H - h h^T / h_bb + extra I:
    # the same cyclic steps, so the same step to rounding
    from hinge_estimators.solvers._dual_cd_parts import csr_rows
    from hinge_estimators.solvers._primal_cd_fast import (
        quadratic_l1_cd,
        sparse_quadratic_l1_cd,
    )

    rng = np.random.default_rng(3)
    m, n = 40, 120
    A_T = sp.random(m, n, density=0.1, random_state=3, format="csr")
    curvature = np.where(rng.random(n) < 0.6, 2.0 * rng.random(n), 0.0)
    extra, rho = 0.05, 0.3
    g, w = rng.normal(size=m), np.where(rng.random(m) < 0.5, rng.normal(size=m), 0.0)
    dense = A_T.toarray()
    H = (dense * curvature) @ dense.T + extra * np.eye(m)
    h = dense @ curvature if intercept else np.zeros(m)
    h_bb = curvature.sum() + 0.1 if intercept else 0.0
    if intercept:
        H -= np.outer(h, h) / h_bb
    # a fixed number of sweeps (tol 0: no stop that rounding could move)
    expected = np.zeros(m)
    assert quadratic_l1_cd(H, g, w, rho, expected, 30, 0.0) == 30
    d = np.zeros(m)
    data, indices, indptr, _ = csr_rows(A_T)
    unformed_sweeps = sparse_quadratic_l1_cd(
        data, indices, indptr, curvature, h, h_bb, np.ascontiguousarray(H.diagonal()),
        extra, g, w, rho, d, 30, 0.0,
    )  # fmt: skip
    assert unformed_sweeps == 30
    np.testing.assert_allclose(d, expected, rtol=1e-9, atol=1e-12)
    # and from a non-zero start: its products are formed first
    start = np.where(rng.random(m) < 0.5, rng.normal(size=m), 0.0)
    expected, d = start.copy(), start.copy()
    quadratic_l1_cd(H, g, w, rho, expected, 5, 0.0)
    sparse_quadratic_l1_cd(
        data, indices, indptr, curvature, h, h_bb, np.ascontiguousarray(H.diagonal()),
        extra, g, w, rho, d, 5, 0.0,
    )  # fmt: skip
    np.testing.assert_allclose(d, expected, rtol=1e-9, atol=1e-12)


def test_l1_on_wide_sparse_text_converges_with_unformed_newton_models(monkeypatch):
    # bag-of-words columns: the working set grows to hundreds of columns of a
    # few entries each, where sweeps of the formed model cost |S| a moving
    # coordinate and were charged as such; the default fit at C = 10 ended
    # at max_iter with a bound of 0.14. Swept from the rows it certifies, and
    # the unformed model is what its Newton steps used
    from ._problems import zipf_text

    X, y = zipf_text(1000, 3000, nnz_per_row=40, seed=2)
    # the sizes of the working sets whose Newton models were swept unformed
    unformed = spy_on(
        monkeypatch, _primal_cd, "sparse_quadratic_l1_cd", lambda args, _: len(args[6])
    )
    model = certified_fit(X, y, loss="squared_hinge", penalty="l1", C=10.0)
    assert model.optimality_ <= model.tol
    assert unformed
    # no higher than LIBLINEAR's optimum for the same objective (its
    # intercept is penalized: compared without one)
    ours = certified_fit(
        X, y, loss="squared_hinge", penalty="l1", C=10.0, fit_intercept=False
    )
    theirs = LinearSVC(
        penalty="l1", dual=False, C=10.0, fit_intercept=False, tol=1e-10,
        max_iter=20_000,
    )  # fmt: skip
    with warnings.catch_warnings():
        # a bound from above either way: its value is what is compared
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
    signs = np.where(y == ours.classes_[1], 1.0, -1.0)
    coef = theirs.coef_.ravel()
    margins = 1 - signs * (X @ coef)
    value = np.abs(coef).sum() + 10.0 * np.sum(np.maximum(margins, 0) ** 2)
    assert ours.objective_value_ <= value * (1 + 1e-9)
    # and our bound from below holds against their point
    assert ours.objective_value_ * (1 - ours.optimality_) <= value * (1 + 1e-12)


def test_a_long_step_in_a_flat_piece_leaves_the_margins_on_their_scores():
    # the smooth hinge's free intercept in its flat piece takes trial steps
    # of 1e12 times a usual one; the margins were taken back by subtracting
    # the step again and kept 1e-6 of it: this fit ended at max_iter=1000
    # with a bound of 6.6e-6 and an objective_value_ above its own point's
    X = np.array(
        [[1.051121136156309], [-2.2476751131190147], [-1.6683201578200266],
         [-3.1553126579907826], [-1.6172570434965854], [0.5756013425899883]]
    )  # fmt: skip
    y = np.array([1, 0, 0, 0, 1, 1])
    model = certified_fit(
        X, y, loss="smooth_hinge", solver="primal_cd", C=100.0, tol=1e-8, max_iter=100
    )
    # the objective at the returned point, written out (gamma = 1)
    u = 1.0 - np.where(y == 1, 1.0, -1.0) * (X @ model.coef_.ravel() + model.intercept_)
    losses = np.where(u <= 0, 0.0, np.where(u < 1, 0.5 * u * u, u - 0.5))
    value = (
        0.5 * float(model.coef_.ravel() @ model.coef_.ravel()) + 100.0 * losses.sum()
    )
    assert model.objective_value_ == pytest.approx(value, rel=1e-12)
