"""gd's primal-dual interior point for the multiclass hinges with sparse
penalties (L1, elastic net, the group norm)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import CrammerSinger, SquaredHinge, WestonWatkins
from hinge_estimators.penalties import L1, ElasticNet, GroupL1L2
from hinge_estimators.solvers import _gradient_descent
from hinge_estimators.solvers import _multiclass_primal_dual as primal_dual
from hinge_estimators.solvers._multiclass_primal_dual import (
    multiclass_primal_dual_applies,
)

from ._problems import (
    certified_fit,
    fit_variant,
    make_objective,
    slsqp_minimum,
    spy_on,
)

LOSSES = {
    "cs": CrammerSinger(),
    "ww": WestonWatkins(),
    "cs2": CrammerSinger(squared=True),
    "ww2": WestonWatkins(squared=True),
}
PENALTIES = {
    "l1": L1(),
    "en": ElasticNet(l1_ratio=0.4),
    "group": GroupL1L2(),
}


def _data(n=27, d=3, K=3, seed=0):
    """Overlapping classes: every kind of margin at the optimum."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % K
    X = rng.normal(scale=1.2, size=(K, d))[codes] + rng.normal(size=(n, d))
    return X, codes


def _reference(loss, penalty, X, codes, C, weights, fit_intercept, p=0.0):
    """``P*`` by SLSQP over ``(W, b, xi, t)``: slacks with linear constraints
    for the hinge terms (one per wrong class, or one per sample bounding all
    of them), ``t >= |W|`` entrywise or ``t_j^2 >= ||W_j||^2`` per feature,
    written here from the definitions; no code of the package. Returns the
    value at SLSQP's ``(W, b)`` with the smallest feasible slacks (an upper
    bound on ``P*`` whatever its tolerance)."""
    X = X.toarray() if sp.issparse(X) else X
    n, d = X.shape
    K = int(codes.max()) + 1
    squared, delta = loss.squared, loss.delta
    simplex = isinstance(loss, CrammerSinger)
    grouped = isinstance(penalty, GroupL1L2)
    rho = 1.0 if not isinstance(penalty, ElasticNet) else penalty.l1_ratio
    q = 1.0 - rho if isinstance(penalty, ElasticNet) else 0.0
    c = C * weights
    n_xi = n if simplex else n * (K - 1)
    n_t = d if grouped else K * d
    nb = K if fit_intercept else 0

    def split(z):
        W = z[: K * d].reshape(K, d)
        b = z[K * d : K * d + nb] if nb else np.zeros(K)
        xi = z[K * d + nb : K * d + nb + n_xi]
        return W, b, xi, z[K * d + nb + n_xi :]

    def margins(W, b):
        S = X @ W.T + b
        wrong = [[r for r in range(K) if r != codes[i]] for i in range(n)]
        return np.array(
            [[delta + S[i, r] - S[i, codes[i]] for r in wrong[i]] for i in range(n)]
        )

    def loss_value(W, b):
        u = np.maximum(margins(W, b), 0.0)
        terms = (
            u.max(axis=1) ** (2 if squared else 1)
            if simplex
            else (u ** (2 if squared else 1)).sum(axis=1)
        )
        return float(c @ terms)

    def penalty_value(W):
        if grouped:
            return float(np.sqrt(np.square(W).sum(axis=0)).sum())
        return rho * float(np.abs(W).sum()) + 0.5 * q * float(np.vdot(W, W))

    def fun(z):
        W, b, xi, t = split(z)
        slack_weight = c if simplex else np.repeat(c, K - 1)
        value = float(slack_weight @ (xi**2 if squared else xi))
        value += (t.sum() if grouped else rho * t.sum()) + 0.5 * q * float(
            np.vdot(W, W)
        )
        return value + 0.5 * p * float(b @ b)

    def constraints(z):
        W, b, xi, t = split(z)
        u = margins(W, b)
        hinge = (xi[:, None] - u).ravel() if simplex else xi - u.ravel()
        if grouped:
            cone = t * t - np.square(W).sum(axis=0)
        else:
            cone = np.concatenate([t - W.ravel(), t + W.ravel()])
        return np.concatenate([hinge, xi, t, cone])

    if not (squared or grouped) and q == 0.0 and p == 0.0:
        # a linear program: HiGHS, exact where SLSQP stopped 0.16 % above
        # the optimum under one OpenBLAS kernel (Sandybridge, cs-l1)
        W, b = _linear_program(X, codes, K, delta, c, rho, nb, simplex)
        return loss_value(W, b) + penalty_value(W)
    z0 = np.concatenate(
        [np.zeros(K * d + nb), np.full(n_xi, delta + 1.0), np.full(n_t, 1.0)]
    )
    W, b, _, _ = split(slsqp_minimum(fun, z0, constraints))
    return loss_value(W, b) + penalty_value(W) + 0.5 * p * float(b @ b)


def _linear_program(X, codes, K, delta, c, rho, nb, simplex):
    """``(W, b)`` minimizing the plain multiclass hinge with L1 by HiGHS, over
    ``(W, b, xi, t)``: ``delta + s_r - s_y <= xi`` for every wrong class
    ``r`` (one slack per sample with ``simplex``, else one per wrong class),
    ``-t <= W <= t``, cost ``c . xi + rho sum t``; written from the
    definitions."""
    from scipy.optimize import linprog

    n, d = X.shape
    n_xi = n if simplex else n * (K - 1)
    size = 2 * K * d + nb + n_xi
    rows, rhs = [], []
    for i in range(n):
        y = codes[i]
        for j, r in enumerate(r for r in range(K) if r != y):
            row = np.zeros(size)
            row[r * d : (r + 1) * d] += X[i]
            row[y * d : (y + 1) * d] -= X[i]
            if nb:
                row[K * d + r] += 1.0
                row[K * d + y] -= 1.0
            row[K * d + nb + (i if simplex else i * (K - 1) + j)] = -1.0
            rows.append(row)
            rhs.append(-delta)
    first_t = K * d + nb + n_xi
    for k in range(K * d):
        for sign in (1.0, -1.0):
            row = np.zeros(size)
            row[k], row[first_t + k] = sign, -1.0
            rows.append(row)
            rhs.append(0.0)
    slack_weight = c if simplex else np.repeat(c, K - 1)
    cost = np.concatenate([np.zeros(K * d + nb), slack_weight, np.full(K * d, rho)])
    bounds = [(None, None)] * (K * d + nb) + [(0, None)] * (n_xi + K * d)
    run = linprog(cost, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds)
    assert run.status == 0, run.message
    W = run.x[: K * d].reshape(K, d)
    b = run.x[K * d : K * d + nb] if nb else np.zeros(K)
    return W, b


def _fit(loss, penalty, X, y, **params):
    return certified_fit(
        X, y, loss=loss, penalty=penalty, solver="gd", tol=1e-6, **params
    )


@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("loss", list(LOSSES))
def test_fits_certify_the_reference_optimum(monkeypatch, loss, penalty):
    # each fit ends certified, by its route, at the optimum of an
    # independent solver; and its bound is below that solver's value
    calls = spy_on(monkeypatch, _gradient_descent, "multiclass_primal_dual")
    X, y = _data()
    model = _fit(LOSSES[loss], PENALTIES[penalty], X, y, C=2.0)
    assert calls
    reference = _reference(
        LOSSES[loss], PENALTIES[penalty], X, y, 2.0, np.ones(len(y)), True
    )
    P = model.objective_value_
    # certified at tol 1e-6: above the optimum by at most that, with room
    # for the rounding of P and of the reference
    assert reference * (1 + 2e-6) >= P
    assert P * (1 - model.optimality_) <= reference * (1 + 1e-9)
    assert reference * (1 - 2e-6) <= P


@pytest.mark.parametrize(
    "loss, penalty, variant",
    [
        ("cs", "l1", "no_intercept"),
        ("ww2", "en", "no_intercept"),
        ("cs", "group", "sparse"),
        ("ww", "l1", "sparse"),
        ("cs2", "en", "weights"),
        ("ww", "group", "weights"),
        ("cs", "en", "penalized_intercept"),
        ("ww2", "l1", "penalized_intercept"),
    ],
)
def test_variants(monkeypatch, loss, penalty, variant):
    # without an intercept, on CSR data, with sample weights (some zero) and
    # with a penalized intercept: the same agreement
    calls = spy_on(monkeypatch, _gradient_descent, "multiclass_primal_dual")
    X, y = _data(seed=3)
    X, weights, params, p = fit_variant(X, variant)
    model = _fit(
        LOSSES[loss], PENALTIES[penalty], X, y, sample_weight=weights, C=1.5, **params
    )
    assert calls
    reference = _reference(
        LOSSES[loss],
        PENALTIES[penalty],
        X,
        y,
        1.5,
        weights,
        variant != "no_intercept",
        p,
    )
    P = model.objective_value_
    assert abs(P - reference) <= 2e-6 * reference
    assert P * (1 - model.optimality_) <= reference * (1 + 1e-9)


@pytest.mark.parametrize("load", [load_iris, load_wine])
@pytest.mark.parametrize("loss", list(LOSSES))
def test_default_fits_on_real_data_converge(loss, load):
    # the plain Crammer-Singer and Weston-Watkins losses with L1 ended at
    # max_iter with no bound (optimality inf) on both sets before
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for C in (0.1, 10.0):
        model = certified_fit(X, y, loss=LOSSES[loss], penalty="l1", C=C)
        assert model.optimality_ <= 1e-4


@pytest.mark.parametrize("penalty", ["l1", "l1_l2"])
def test_multiclass_dual_argument_matches_the_gradient_point(penalty):
    # dual=(G, F^*(G)) with G the loss gradient and F^* by Fenchel-Young is
    # the default certificate: the same gap without an intercept (nothing to
    # balance); with a free intercept the given point is balanced exactly
    # (bounded least squares where needed), a valid bound where the default
    # has none (its unbounded balancing fails at this random point)
    rng = np.random.default_rng(0)
    for intercept in (False, True):
        objective = make_objective(
            WestonWatkins(squared=True), n_classes=3, n=30, d=4, penalty=penalty,
            fit_intercept=intercept,
        )  # fmt: skip
        coef = rng.normal(scale=0.3, size=objective.zeros().shape)
        scores = objective.scores(coef)
        losses, grad = objective.loss.loss_gradient(objective.y, scores)
        weights = objective.loss_scale * objective.sample_weight
        G = weights[:, None] * grad
        conjugate = np.sum(G * scores, axis=1) - weights * losses
        given = objective.duality_gap(coef, dual=(G, conjugate))
        default = objective.duality_gap(coef)
        assert given[1] == default[1]
        if not intercept:
            assert given[0] == pytest.approx(default[0], rel=1e-12)
            continue
        assert given[0] <= default[0]
        # a valid bound: P minus it is at most the optimum, which the
        # reference solver bounds from above
        optimum = _reference(
            objective.loss, objective.penalty, objective.X,
            np.asarray(objective.y), objective.C, objective.sample_weight, True,
        )  # fmt: skip
        assert given[1] - given[0] <= optimum * (1 + 1e-9)


def test_route_applies_only_where_it_should(monkeypatch):
    def objective(loss, penalty, **kwargs):
        return make_objective(loss, n_classes=3, penalty=penalty, **kwargs)

    applies = multiclass_primal_dual_applies
    assert applies(objective(CrammerSinger(), "l1"))
    assert applies(objective(WestonWatkins(squared=True), "elasticnet"))
    assert applies(objective(CrammerSinger(squared=True), "l1_l2"))
    # smoothed losses are smooth already; L2 and l1_ratio 0 have other
    # solvers; a binary loss is primal_cd's; centered coordinates are the
    # route's own business
    for penalty in ("l1", "l1_l2"):
        assert not applies(objective(CrammerSinger(smoothing=0.5), penalty))
        assert not applies(objective(CrammerSinger(), penalty).centered())
    assert not applies(objective(CrammerSinger(), "l2"))
    assert not applies(objective(CrammerSinger(), ElasticNet(l1_ratio=0.0)))
    assert not applies(make_objective(SquaredHinge(), penalty="l1"))
    monkeypatch.setattr(primal_dual, "STEP_WORK", 10.0)
    assert not applies(objective(CrammerSinger(), "l1"))


@pytest.mark.parametrize("penalty", ["l1", "l1_l2"])
def test_warm_start_along_C_stays_certified(monkeypatch, penalty):
    # a warm start (the previous C's solution) starts the route there
    X, y = _data(seed=5)
    model = HingeClassifier(
        loss=CrammerSinger(), penalty=penalty, solver="gd", tol=1e-6, warm_start=True
    )
    starts = []
    real = _gradient_descent.multiclass_primal_dual

    def spy(objective, tol, max_iterations, callback=None, start=None):
        starts.append(start)
        return real(objective, tol, max_iterations, callback, start=start)

    monkeypatch.setattr(_gradient_descent, real.__name__, spy)
    for C in (0.5, 1.0, 2.0):
        model.set_params(C=C).fit(X, y)
        assert model.optimality_ <= 1e-6
        cold = certified_fit(
            X, y, loss=CrammerSinger(), penalty=penalty, solver="gd", C=C, tol=1e-6
        )
        gap = max(model.optimality_, cold.optimality_)
        assert abs(model.objective_value_ - cold.objective_value_) <= (
            2 * gap * cold.objective_value_
        )
    # the warm fits at the second and third C (calls 2 and 4; the cold
    # fits between) started from the previous solution
    assert len(starts) == 6 and starts[2] is not None and starts[4] is not None


@pytest.mark.parametrize(
    "loss, penalty",
    [
        ("ww", ElasticNet(l1_ratio=0.5)),
        ("cs", L1()),
        ("cs2", GroupL1L2()),
        ("ww2", ElasticNet(l1_ratio=0.4)),
    ],
)
def test_shifted_features_certify_validly(loss, penalty):
    # features far from 0 (a free intercept makes the shift irrelevant): the
    # routes solve in centered coordinates, and the certificate balances
    # their multipliers exactly. Before, the elastic-net Weston-Watkins fit
    # on X + 3e4 reported a bound of 0 while 2.2e-6 above the optimum
    rng = np.random.default_rng(6)
    n, d, K = 40, 5, 3
    codes = np.arange(n) % K
    X = rng.normal(size=(K, d))[codes] + rng.normal(size=(n, d))
    params = dict(loss=LOSSES[loss], penalty=penalty, solver="gd")
    reference = certified_fit(X, codes, tol=1e-8, **params)
    shifted = certified_fit(X + 3e4, codes, tol=1e-6, **params)
    lower = shifted.objective_value_ * (1 - shifted.optimality_)
    # P on features shifted by 3e4 carries their rounding (about 1e-12)
    assert lower <= reference.objective_value_ * (1 + 1e-9)
    assert shifted.objective_value_ <= reference.objective_value_ * (1 + 2e-6)


def test_a_class_without_weight_keeps_finite_intercepts():
    # a class with no sample of weight: its free intercept's optimum is any
    # low enough value (a primal barrier pulled it to -4e5); the primal-dual
    # iterates stay finite and certify
    X, y = _data()
    weights = np.where(y == 2, 0.0, 1.0)
    for penalty in ("l1", "l1_l2"):
        model = certified_fit(
            X, y, sample_weight=weights, loss=WestonWatkins(), penalty=penalty,
            solver="gd", tol=1e-6,
        )  # fmt: skip
        assert np.all(np.abs(model.intercept_) < 1e3)


def test_longest_step_in_the_cone_matches_bisection():
    # the first exit of x + a dx from the second-order cone, against a
    # bisection on membership; directions along the cone's surface (a
    # near 0 in the quadratic) lost every digit before (1754 for 542)
    rng = np.random.default_rng(0)
    for trial in range(300):
        m = int(rng.integers(2, 6))
        x = rng.normal(size=m)
        x[0] = np.linalg.norm(x[1:]) + rng.uniform(1e-3, 2.0)
        dx = rng.normal(size=m) * 10.0 ** rng.uniform(-4, 2)
        if trial % 3 == 0:  # along the surface
            dx[0] = -np.linalg.norm(dx[1:]) * (1.0 + 1e-6 * rng.normal())
        found = primal_dual._longest_in_cone(x[None, :], dx[None, :])

        def inside(a, x=x, dx=dx):
            y = x + a * dx
            return y[0] - np.linalg.norm(y[1:]) >= -1e-12 * (1.0 + np.abs(y).max())

        high = 1.0
        while inside(high) and high < 1e12:
            high *= 2.0
        if high >= 1e12:
            assert not np.isfinite(found) or found >= 1e11
            continue
        low = 0.0
        for _ in range(200):
            middle = 0.5 * (low + high)
            low, high = (middle, high) if inside(middle) else (low, middle)
        assert found == pytest.approx(low, rel=1e-6)


def test_nesterov_todd_scaling():
    # W symmetric positive definite, W x = W^-1 z = lambda, W^2 x = z
    rng = np.random.default_rng(1)
    x, z = rng.normal(size=(20, 4)), rng.normal(size=(20, 4))
    x[:, 0] = np.linalg.norm(x[:, 1:], axis=1) + rng.uniform(1e-3, 3.0, 20)
    z[:, 0] = np.linalg.norm(z[:, 1:], axis=1) + rng.uniform(1e-3, 3.0, 20)
    W, W_inv, W2, lam = primal_dual._nesterov_todd(x, z)
    np.testing.assert_allclose(W, np.swapaxes(W, 1, 2), atol=1e-12)
    assert np.all(np.linalg.eigvalsh(W) > 0)
    np.testing.assert_allclose(
        np.einsum("jkl,jlm->jkm", W, W_inv), np.eye(4)[None].repeat(20, 0), atol=1e-10
    )
    np.testing.assert_allclose(
        np.einsum("jkl,jl->jk", W, x), lam, rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        np.einsum("jkl,jl->jk", W_inv, z), lam, rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(np.einsum("jkl,jl->jk", W2, x), z, rtol=1e-9, atol=1e-12)


def test_a_class_of_tiny_weight_still_has_a_bound():
    # a class weighing 1e-12: the unbounded balancing shrank rows by more
    # than 1 and the fit had no bound at all (optimality inf)
    X, y = _data(seed=1, n=30)
    model = HingeClassifier(
        loss=CrammerSinger(), penalty="l1", solver="gd", class_weight={2: 1e-12}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert np.isfinite(model.optimality_)


@pytest.mark.parametrize(
    "loss, penalty",
    [
        ("crammer_singer", "l1"),
        ("crammer_singer", "elasticnet"),
        ("weston_watkins", "l1"),
        ("hinge", "l1_l2"),
    ],
)
def test_default_fits_set_exact_zeros_and_stay_certified(loss, penalty):
    # wide data (60 x 200, 5 informative features): the interior point's
    # zeros come out at 1e-6 to 1e-20 of the largest coefficient, and the
    # snaps it tried were kept only where they lowered P, which rounding
    # decided: none of the 600 coefficients was 0 (the README promises
    # exact zeros, count_nonzero and sparsify)
    from sklearn.datasets import make_classification

    X, y = make_classification(60, 200, n_informative=5, n_classes=3, random_state=0)
    model = HingeClassifier(loss=loss, penalty=penalty).fit(X, y)
    assert model.optimality_ <= model.tol
    objective = model._problem(X, y, None).objective
    coef = objective.join(model.coef_, model.intercept_)
    assert objective.value(coef) == pytest.approx(model.objective_value_, rel=1e-12)
    sizes = np.abs(model.coef_)
    if penalty == "l1_l2":
        sizes = np.broadcast_to(np.linalg.norm(model.coef_, axis=0), sizes.shape)
    assert np.count_nonzero(sizes) < 0.7 * sizes.size
    # what it set to 0 is (nearly) 0 at a tight optimum
    tight = HingeClassifier(loss=loss, penalty=penalty, tol=1e-8, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tight.fit(X, y)
    largest = np.abs(tight.coef_).max()
    assert np.all(np.abs(tight.coef_[sizes == 0]) <= 1e-3 * largest)


def test_the_cone_norm_near_the_boundary_stays_positive():
    # sqrt(u_0^2 - ||u_bar||^2) as a difference of squares cancels near the
    # boundary: there it rounded to 0 inside the cone, and the scaling
    # divided by it (a divide-by-zero error at tol=1e-10). A few ulps
    # inside (of the norm as computed), it stays positive; well inside it
    # is the exact value; on the boundary or outside, not positive
    from fractions import Fraction
    from math import sqrt

    from hinge_estimators.solvers._multiclass_primal_dual import _cone_norm

    bars = np.array([[0.6, 0.8, 0.0], [3.0, 4.0, 0.0], [1e-3, 2e-3, 2e-3]])
    sizes = np.linalg.norm(bars, axis=1)
    for ulps in (1, 3, 1000):
        u = np.column_stack([sizes + ulps * np.spacing(sizes), bars])
        values = _cone_norm(u)
        assert np.all(np.isfinite(values)) and np.all(values > 0.0)
        # the naive formula's cancellation: zero (or less) for some
        naive = u[:, 0] ** 2 - np.square(bars).sum(axis=1)
        assert np.all(values**2 >= np.minimum(naive, 0.0))
    inside = np.column_stack([1.5 * sizes, bars])
    for row, value in zip(inside, _cone_norm(inside), strict=True):
        exact = sqrt(Fraction(row[0]) ** 2 - sum(Fraction(v) ** 2 for v in row[1:]))
        assert value == pytest.approx(exact, rel=1e-12)
    assert not _cone_norm(np.array([[5.0, 3.0, 4.0]]))[0] > 0.0
    assert not _cone_norm(np.array([[1.0, 3.0, 4.0]]))[0] > 0.0


def test_a_tight_group_norm_fit_that_reached_a_cone_boundary_finishes():
    # the kind of problem a review hit (90 x 4, 3 classes, weights, balanced
    # classes, no intercept, tol=1e-10), where a cone's norm rounded to 0
    # and the fit raised a floating-point error (on its data, drawn from a
    # longer random stream; the norm itself is tested above): the fit
    # finishes with finite coefficients and a bound
    rng = np.random.default_rng(1)
    n = 90
    y = np.where(np.arange(n) % 5 == 0, 0, np.arange(n) % 3)
    X = rng.normal(size=(n, 4)) + 0.5 * rng.normal(size=(3, 4))[y]
    weights = rng.uniform(0.2, 3, n)
    for C in (10.0, 137.8912680021289):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = HingeClassifier(
                loss="hinge", penalty="l1_l2", fit_intercept=False, C=C,
                class_weight="balanced", tol=1e-10, max_iter=2000,
            ).fit(X, y, sample_weight=weights)  # fmt: skip
        assert np.all(np.isfinite(model.coef_))
        assert model.optimality_ < 1e-6


def _equalities_residual(point):
    """The largest residual of the point's primal equalities, written here:
    ``s = xi (+ zeta) - u(W, b)`` per margin, ``s^- - s^+ = 2 W`` under L1."""
    objective, hinges = point.objective, point.hinges
    scores = objective.scores(objective.join(point.W, point.b))
    U, _ = hinges._terms(hinges.margins(scores))
    total = point.xi + point.zeta if point.two else point.xi
    residual = np.abs(total[:, None] - U - point.s).max()
    if not point.grouped:
        bounds = point.s_minus - point.s_plus - 2.0 * point.W
        residual = max(residual, np.abs(bounds).max())
    return residual


@pytest.mark.parametrize("penalty", ["l1", "l1_l2"])
@pytest.mark.parametrize("loss", ["cs", "ww2"])
def test_a_full_step_removes_the_primal_equalities_drift(loss, penalty):
    # the slacks' equalities drift by rounding where the iterates grow
    # large; a step of length 1 must land on them again, or the iterates
    # converge to another problem's optimum (see the next test)
    objective = make_objective(LOSSES[loss], n=30, d=4, n_classes=3, penalty=penalty)
    hinges, penalty_ = primal_dual._Hinges(objective), primal_dual._Penalty(objective)
    point = primal_dual._Point(
        objective, hinges, penalty_, *primal_dual.starting_point(objective, None)
    )
    assert _equalities_residual(point) <= 1e-12
    rng = np.random.default_rng(0)
    point.s = point.s * (1.0 + 0.01 * rng.random(point.s.shape))
    if not point.grouped:
        point.s_plus = point.s_plus * (1.0 + 0.01 * rng.random(point.W.shape))
    assert _equalities_residual(point) > 1e-4  # the drift is there
    system = point.normal_equations()
    step = point.direction(system, point.complementarity())
    point.move(step, 1.0, 1.0)  # a length a leaves (1 - a) of the drift
    assert _equalities_residual(point) <= 1e-10 * (1.0 + np.abs(point.s).max())


def test_crammer_singer_with_the_group_norm_through_a_blowup_certifies():
    # digits as CSR (pixel counts, uncentered) at C = 1e6: the first steps
    # take the coefficients to 1e13 and back; the slacks' drift then held
    # the objective above the optimum and the fit ended at max_iter with a
    # bound of 3.3e-4 (optdigits, C = 100: 105.9 against 75.26)
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(loss="crammer_singer", penalty="l1_l2", C=1e6)
        model.fit(sp.csr_matrix(X), y)
    assert model.optimality_ <= 1e-4


def test_a_full_step_meets_the_l1_bounds_linearized_conditions():
    # with the bounds' drift (s^- - s^+ != 2 W) the step's multipliers must
    # still meet their linearized complementarity, and t's stationarity
    # (l^+ + l^- = rho) after a full step: the residual's share counted once
    objective = make_objective(CrammerSinger(), n=30, d=4, n_classes=3, penalty="l1")
    hinges, penalty_ = primal_dual._Hinges(objective), primal_dual._Penalty(objective)
    point = primal_dual._Point(
        objective, hinges, penalty_, *primal_dual.starting_point(objective, None)
    )
    rng = np.random.default_rng(0)
    point.s_plus = point.s_plus * (1.0 + 0.05 * rng.random(point.W.shape))
    mu = point.complementarity()
    step = point.direction(point.normal_equations(), mu)
    for x, z in (("s_plus", "l_plus"), ("s_minus", "l_minus")):
        s, lam = getattr(point, x), getattr(point, z)
        linearized = s * lam + lam * step[x] + s * step[z]
        np.testing.assert_allclose(linearized, mu, rtol=1e-9)
    point.move(step, 1.0, 1.0)
    np.testing.assert_allclose(point.l_plus + point.l_minus, point.rho, rtol=1e-9)


def test_a_value_below_the_dual_bound_is_never_the_best_point():
    # Weston-Watkins with L1 on features shifted by 50 at a large C and a
    # tight tol: the interior point converged, then diverged to W = 0 with
    # intercepts of 1e32, where delta + s_r - s_y rounds to s_r - s_y; that
    # point's "P = 0" was kept and reported certified
    rng = np.random.default_rng(697707)
    n, d, K = 118, 9, 3
    y = np.arange(n) % K
    X = rng.normal(scale=1.2, size=(K, d))[y] + rng.normal(size=(n, d)) + 50.0
    params = dict(loss="weston_watkins", penalty="l1", C=38265.640552912875)
    # a bound from below by a looser fit (before any divergence; its bound
    # holds whether or not it reaches its tol, which it does by a hair)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loose = HingeClassifier(tol=1e-6, max_iter=300, **params).fit(X, y)
        tight = HingeClassifier(tol=1e-8, max_iter=300, **params).fit(X, y)
    assert loose.optimality_ < 1e-4
    lower = loose.objective_value_ * (1.0 - loose.optimality_)
    assert tight.objective_value_ >= lower * (1.0 - 1e-9)
    assert np.all(np.abs(tight.intercept_) < 1e6)


@pytest.mark.parametrize("loss", ["ww", "ww2", "cs"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_normal_equations_loss_block_is_the_sum_over_samples(
    loss, sparse, fit_intercept
):
    # sum_i H_i (x) x_i x_i^T written out with einsum over the rows (the
    # centered ones where the solve centers, and the intercept's column)
    # against loss_hessian's blocks: Weston-Watkins's class by class,
    # Crammer-Singer's by pairs from shared blocks
    objective = make_objective(
        LOSSES[loss], n=60, d=5, n_classes=4, penalty="l1", sparse=sparse,
        fit_intercept=fit_intercept, weighted=True,
    )  # fmt: skip
    hinges, penalty_ = primal_dual._Hinges(objective), primal_dual._Penalty(objective)
    point = primal_dual._Point(
        objective, hinges, penalty_, *primal_dual.starting_point(objective, None)
    )
    rng = np.random.default_rng(1)
    D = point.theta / point.s * rng.uniform(0.5, 2.0, point.s.shape)
    g = point._slack_curvature(D)
    if hinges.simplex:
        margin_hessian = ("diagonal plus rank one", D, g)
    else:
        margin_hessian = point._by_sample(D[:, 0] - D[:, 0] ** 2 / g)
    size = objective.n_features + int(fit_intercept)
    H = primal_dual.loss_hessian(objective, hinges, margin_hessian, size)
    scores = hinges.score_hessian(margin_hessian, objective.n_samples)
    rows = objective.X.toarray() if sparse else np.asarray(objective.X)
    if objective.offset is not None:
        rows = rows - objective.offset
    if fit_intercept:
        rows = np.hstack([rows, np.ones((len(rows), 1))])
    expected = np.einsum("ikm,ip,iq->kpmq", scores, rows, rows)
    K = objective.n_outputs
    if fit_intercept:  # the free intercept's pin along 1, as the solve adds it
        corner = expected[:, -1, :, -1]
        scale = float(np.abs(np.diagonal(corner)).mean())
        expected[:, -1, :, -1] = corner + scale * np.ones((K, K)) / K
    expected = expected.reshape(H.shape)
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12 * np.abs(H).max())


def test_sparse_data_are_solved_in_centered_coordinates(monkeypatch):
    # uncentered, the normal equations of optdigits as CSR (pixel counts 0
    # to 16) lost the intercepts' balance near the end (Crammer-Singer, L1,
    # C = 1000): certified on one BLAS kernel, 1.5e-4 after 1,000 iterations
    # on another. The steps run on the centered objective, X still sparse,
    # and reach the dense fit's optimum
    seen = spy_on(monkeypatch, primal_dual, "starting_point")
    X, y = _data(seed=4)
    X = np.where(np.random.default_rng(4).random(X.shape) < 0.5, X + 8.0, 0.0)
    sparse = _fit(CrammerSinger(), L1(), sp.csr_matrix(X), y, C=3.0)
    assert seen
    objective = seen[0]
    assert sp.issparse(objective.X) and objective.offset is not None
    dense = _fit(CrammerSinger(), L1(), X, y, C=3.0)
    assert sparse.objective_value_ == pytest.approx(dense.objective_value_, rel=2e-6)
