"""gd's barrier method for the group L1/L2 norm over one-vs-rest columns."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.preprocessing import StandardScaler

from hinge_estimators import HingeClassifier, LinearObjective
from hinge_estimators.losses import (
    CrammerSinger,
    GaussianHinge,
    Hinge,
    ModifiedHuber,
    SmoothHinge,
    SquaredHinge,
)
from hinge_estimators.penalties import L1, L2, ElasticNet, GroupL1L2
from hinge_estimators.solvers import GradientDescent, _gradient_descent
from hinge_estimators.solvers import _group_barrier as barrier
from hinge_estimators.solvers._group_barrier import group_barrier_applies

from ._problems import certified_fit, spy_on


@pytest.fixture(autouse=True)
def _barrier_route(monkeypatch):
    # gd goes on to its primal-dual method where the barrier stops short on
    # the group norm of a piecewise quadratic loss
    # (tests/test_one_vs_rest_group.py); these tests are the barrier's alone
    monkeypatch.setattr(
        _gradient_descent, "multiclass_primal_dual_applies", lambda objective: False
    )


def _standardized(load):
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _l1_objective(X, y, C, loss="squared_hinge"):
    """The L1 problem ``HingeClassifier`` builds on ``X, y`` at ``C``."""
    return HingeClassifier(loss=loss, penalty="l1", C=C)._problem(X, y, None).objective


def _loss_duals(objective, coef):
    """The loss gradient ``V = X^T G`` at ``coef``, ``W``'s shape: a group
    is 0 at the optimum where its norm is below 1 there."""
    _, G = objective.score_gradient_from_scores(objective.scores(coef))
    return objective.split(objective._adjoint(G))[0]


def _certified_fit(X, y, **params):
    return certified_fit(X, y, **{"penalty": "l1_l2", **params})


def _phi(loss, z):
    """The margin losses written out here."""
    u = np.maximum(1.0 - z, 0.0)
    if isinstance(loss, ModifiedHuber):
        return np.where(z >= -1.0, u * u, -4.0 * z)
    return u * u


def _group_reference(loss, X, Y, C):
    """``min sum_j t_j + C sum_ik phi(Y_ik (x_i w_k + b_k))`` subject to
    ``t_j^2 >= ||W_j||^2``, ``t >= 0``, by SLSQP: no code of the package."""
    n, d = X.shape
    K = Y.shape[1]

    def split(z):
        return z[: K * d].reshape(K, d), z[K * d : K * d + K], z[K * d + K :]

    def fun(z):
        W, b, t = split(z)
        return t.sum() + C * _phi(loss, Y * (X @ W.T + b)).sum()

    cone = {
        "type": "ineq",
        "fun": lambda z: split(z)[2] ** 2 - np.square(split(z)[0]).sum(axis=0),
    }
    bounds = [(None, None)] * (K * d + K) + [(0, None)] * d
    start = np.concatenate([np.zeros(K * d + K), np.ones(d)])
    run = minimize(
        fun, start, method="SLSQP", constraints=[cone], bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-14},
    )  # fmt: skip
    return run.fun


@pytest.mark.parametrize("loss", [SquaredHinge(), ModifiedHuber()], ids=["sq", "mh"])
@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
def test_group_fits_reach_the_independent_optimum(loss, C):
    X, y = _standardized(load_iris)
    model = _certified_fit(X, y, loss=loss, C=C, tol=1e-8)
    assert model.solver_.__class__.__name__ == "GradientDescent"
    Y = np.where(y[:, None] == np.arange(3), 1.0, -1.0)
    ours = (
        np.sqrt(np.square(model.coef_).sum(axis=0)).sum()
        + C * _phi(loss, Y * model.decision_function(X)).sum()
    )
    assert ours == pytest.approx(model.objective_value_, rel=1e-10)
    reference = _group_reference(loss, X, Y, C)
    assert ours <= reference * (1 + 1e-7)
    assert reference <= ours * (1 + 1e-6)  # SLSQP's own accuracy


def test_digits_at_C_1_certifies():
    # gd's proximal steps and primal_cd's block steps both ended at
    # max_iter here (gd at a bound of 8e-3)
    X, y = _standardized(load_digits)
    model = _certified_fit(X, y, C=1.0)
    gap, value = _objective(X, y, 1.0).duality_gap(
        np.concatenate([model.coef_.ravel(), model.intercept_])
    )
    assert gap <= model.tol * value
    assert value == pytest.approx(model.objective_value_, rel=1e-10)


def _objective(X, y, C, loss=None, fit_intercept=True, intercept_scaling=None):
    classes = np.unique(y)
    Y = np.where(y[:, None] == classes, 1.0, -1.0)
    return LinearObjective(
        loss or SquaredHinge(), X, Y, n_outputs=len(classes), C=C,
        penalty=GroupL1L2(), fit_intercept=fit_intercept,
    )  # fmt: skip


def test_dropped_groups_are_exact_zeros_and_optimal():
    # at a small C most features leave every class at once
    X, y = _standardized(load_wine)
    model = _certified_fit(X, y, C=0.05, tol=1e-8)
    norms = np.sqrt(np.square(model.coef_).sum(axis=0))
    dropped = norms == 0.0
    assert dropped.any() and not dropped.all()
    assert norms[~dropped].min() > 1e-6 * norms.max()
    # a dropped group is optimal at 0: its loss gradient is in the unit ball
    objective = _objective(X, y, 0.05)
    coef = np.concatenate([model.coef_.ravel(), model.intercept_])
    V = _loss_duals(objective, coef)
    assert np.all(np.sqrt(np.square(V[:, dropped]).sum(axis=0)) <= 1.0 + 1e-6)


def test_dense_and_sparse_give_one_optimum():
    X, y = _standardized(load_wine)
    X[np.abs(X) < 0.6] = 0.0
    dense = _certified_fit(X, y, C=2.0, tol=1e-9)
    sparse = _certified_fit(sp.csr_matrix(X), y, C=2.0, tol=1e-9)
    # the objective, not the coefficients: without a quadratic part the
    # optimum need not be unique, and rounding can pick another point of it
    assert sparse.objective_value_ == pytest.approx(dense.objective_value_, rel=1e-8)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("loss", [SquaredHinge(), ModifiedHuber(), SmoothHinge(0.5)])
def test_exact_intercepts_zero_their_gradient(seed, loss):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 4)) + 3.0  # off-centre: b far from 0
    y = rng.integers(0, 3, 60)
    objective = _objective(X, y, 10.0 ** rng.uniform(-1, 2), loss=loss)
    W = rng.standard_normal((3, 4))
    b = barrier._exact_intercepts(objective, W, rng.standard_normal(3))
    coef = objective.join(W, b)
    _, G = objective.score_gradient_from_scores(objective.scores(coef))
    scale = np.abs(G).sum(axis=0) + 1e-300
    assert np.all(np.abs(G.sum(axis=0)) <= 1e-10 * scale)


def test_which_problems_take_the_barrier(monkeypatch):
    # the decision, not the time
    X, y = _standardized(load_iris)
    assert group_barrier_applies(_objective(X, y, 1.0))
    assert group_barrier_applies(_objective(X, y, 1.0, loss=ModifiedHuber()))
    # one column (the group norm is L1 there), L1 and the elastic net: the
    # same barrier, coefficient by coefficient
    binary = _objective(X[y < 2], y[y < 2], 1.0)
    binary.n_outputs, binary.y = 1, binary.y[:, :1]
    assert group_barrier_applies(binary)
    for penalty in (L1(), ElasticNet(l1_ratio=0.3)):
        other = _objective(X, y, 1.0)
        other.penalty = penalty
        assert group_barrier_applies(other)
    # a pairwise loss (one score column, no intercept)
    model = HingeClassifier(loss="pairwise_squared_hinge", penalty="l1")
    assert group_barrier_applies(model._problem(X[y < 2], y[y < 2], None).objective)
    # not: a non-smooth or multiclass loss; a penalty without an L1 part
    assert not group_barrier_applies(_objective(X, y, 1.0, loss=Hinge()))
    cs = LinearObjective(CrammerSinger(), X, y, n_outputs=3, C=1.0, penalty="l1_l2")
    assert not group_barrier_applies(cs)
    for penalty in (L2(), ElasticNet(l1_ratio=0.0)):
        other = _objective(X, y, 1.0)
        other.penalty = penalty
        assert not group_barrier_applies(other)
    monkeypatch.setattr(barrier, "STEP_WORK", 10.0)
    assert not group_barrier_applies(_objective(X, y, 1.0))


def test_polish_false_keeps_the_proximal_steps(monkeypatch):
    calls = spy_on(monkeypatch, _gradient_descent, "group_barrier")
    X, y = _standardized(load_iris)
    objective = _objective(X, y, 1.0)
    GradientDescent(polish=False).solve(objective, tol=1e-3, max_iter=50)
    assert not calls
    result = GradientDescent().solve(objective, tol=1e-8, max_iter=1000)
    assert len(calls) == 1 and result.converged
    assert "barrier" in result.message


def test_an_uncertified_barrier_hands_its_point_to_the_proximal_steps(monkeypatch):
    # stopped after 3 Newton steps, the proximal steps go on from the best
    # point it certified, with the iterations left, all counted in n_iter
    monkeypatch.setattr(barrier, "MAX_STEPS", 3)
    monkeypatch.setattr(_gradient_descent, "GROUP_BARRIER_STEPS", 3)
    X, y = _standardized(load_iris)
    objective = _objective(X, y, 1.0)
    result = GradientDescent().solve(objective, tol=1e-6, max_iter=20_000)
    assert result.converged and result.n_iter > 3
    reference = _group_reference(SquaredHinge(), X, objective.y, 1.0)
    assert result.value <= reference * (1 + 1e-6)


def test_a_penalized_intercept_and_sample_weights():
    # intercept_scaling: the intercepts are penalized coefficients; a
    # weight of 2 is the sample twice
    X, y = _standardized(load_iris)
    weights = np.random.default_rng(0).integers(1, 3, len(y)).astype(float)
    params = dict(C=3.0, tol=1e-9, intercept_scaling=1.0)
    weighted = HingeClassifier(penalty="l1_l2", **params).fit(
        X, y, sample_weight=weights
    )
    assert weighted.optimality_ <= 1e-9
    repeated = HingeClassifier(penalty="l1_l2", **params).fit(
        np.repeat(X, weights.astype(int), axis=0), np.repeat(y, weights.astype(int))
    )
    assert weighted.objective_value_ == pytest.approx(
        repeated.objective_value_, rel=1e-8
    )


@pytest.mark.parametrize("start", [-40.0, 0.0, 40.0])
def test_exact_intercepts_from_far_away(start):
    # a Newton step from a half-open bracket jumped to 1e48-1e76 where the
    # Gaussian hinge's curvature was subnormal; the fit then overflowed
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 1))
    y = rng.integers(0, 3, 60)
    objective = _objective(X, y, 1.0, loss=GaussianHinge())
    W = np.full((3, 1), 10.0)
    b = barrier._exact_intercepts(objective, W, np.full(3, start))
    _, G = objective.score_gradient_from_scores(objective.scores(objective.join(W, b)))
    assert np.all(np.abs(b) < 100.0)
    assert np.all(np.abs(G.sum(axis=0)) <= 1e-9 * (np.abs(G).sum(axis=0) + 1e-300))


def test_the_smooth_hinge_starts_from_its_exact_intercepts(monkeypatch):
    # SmoothHinge(gamma=1) has no curvature at the margin 0: at W = 0, b = 0
    # the intercepts' rows of the Hessian were 0 and no step could be taken
    # (the fit fell back to the proximal steps: 700 iterations)
    results = spy_on(
        monkeypatch, _gradient_descent, "group_barrier", lambda _, result: result
    )
    X, y = _standardized(load_iris)
    _certified_fit(X, y, loss="smooth_hinge", C=100.0)
    assert len(results) == 1 and results[0] is not None and results[0].converged


def test_uncentered_gaussian_hinge_does_not_overflow():
    # features shifted by 50: the Gaussian hinge's curvature at the first
    # intercepts is subnormal, and the Newton step's division overflowed
    # (the fit raised) before the bracket could reject it
    X, y = _standardized(load_iris)
    model = _certified_fit(X + 50.0, y, loss="gaussian_hinge", C=0.1)
    assert np.all(np.isfinite(model.intercept_))


def test_a_narrow_smooth_hinge_keeps_the_proximal_steps(monkeypatch):
    # nearly the hinge: Newton's steps crawl (300 steps to a bound of
    # 0.999 on digits at C = 100, a higher objective than the proximal
    # steps'); the decision, not the time
    X, y = _standardized(load_iris)
    assert not group_barrier_applies(_objective(X, y, 1.0, loss=SmoothHinge(0.1)))
    assert group_barrier_applies(_objective(X, y, 1.0, loss=SmoothHinge(0.5)))


def test_a_warm_start_reaches_the_cold_optimum():
    # a path's previous solution starts the stages at the mu of its own gap
    # (fewer steps along digits' and texture's paths, not at every point);
    # the point it reaches is the cold solve's optimum
    X, y = _standardized(load_wine)
    near = GradientDescent().solve(_objective(X, y, 1.0), tol=1e-8, max_iter=1000)
    objective = _objective(X, y, 1.3)
    cold = GradientDescent().solve(objective, tol=1e-8, max_iter=1000)
    warm = GradientDescent().solve(objective, near.coef, tol=1e-8, max_iter=1000)
    assert cold.converged and warm.converged
    assert warm.value == pytest.approx(cold.value, rel=1e-7)
    # a start that is already certified costs no step
    again = GradientDescent().solve(objective, warm.coef, tol=1e-6, max_iter=1000)
    assert again.converged and again.n_iter == 0


# -- L1 and the elastic net ---------------------------------------------------
def _gaussian_hinge(z, sigma):
    """``E[1 - z + sigma Z]_+``, from its closed form (no code of the package)."""
    from scipy.stats import norm

    t = 1.0 - z
    return t * norm.cdf(t / sigma) + sigma * norm.pdf(t / sigma)


def _l1_reference(phi, X, y, C, l1_ratio=1.0):
    """``min l1_ratio |w|_1 + (1 - l1_ratio) |w|^2 / 2 + C sum_i phi(y_i (x_i.w
    + b))`` by L-BFGS-B over ``w = w+ - w-`` (``w+-`` >= 0, a smooth
    bound-constrained problem), gradients by finite differences: no code of
    the package."""
    n, d = X.shape
    s = np.where(y == y.max(), 1.0, -1.0)

    def fun(z):
        w = z[:d] - z[d : 2 * d]
        value = C * phi(s * (X @ w + z[-1])).sum()
        return value + l1_ratio * z[: 2 * d].sum() + 0.5 * (1 - l1_ratio) * w @ w

    bounds = [(0.0, None)] * (2 * d) + [(None, None)]
    result = minimize(
        fun,
        np.zeros(2 * d + 1),
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 20_000, "maxfun": 10**6},
    )
    return float(result.fun)


def _binary(seed=0, n=60, d=6):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, d)) + 0.8 * y[:, None] * rng.normal(size=d)
    return X, y


@pytest.mark.parametrize("C", [10.0, 1000.0])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("loss", ["gaussian", "squared"])
def test_l1_and_elastic_net_certify_the_reference_optimum(loss, l1_ratio, C):
    # gd with L1 or the elastic net of a smooth loss: its proximal steps
    # ended at max_iter from C = 10 on (breast cancer, the Gaussian hinge at C
    # = 1000: a bound of 0.95); the barrier certifies the optimum of an
    # independent solver
    X, y = _binary()
    penalty = L1() if l1_ratio == 1.0 else ElasticNet(l1_ratio=l1_ratio)
    phi = {
        "gaussian": lambda z: _gaussian_hinge(z, 0.5),
        "squared": lambda z: np.maximum(1.0 - z, 0.0) ** 2,
    }[loss]
    model = certified_fit(
        X, y, loss={"gaussian": GaussianHinge(), "squared": SquaredHinge()}[loss],
        penalty=penalty, C=C, solver="gd", tol=1e-7,
    )  # fmt: skip
    reference = _l1_reference(phi, X, y, C, l1_ratio)
    # P from the definitions: an upper bound on P* whatever the package
    # computes. At (or below) the reference's value, with its bound below
    # that: L-BFGS-B can stop above the optimum (3 % above at C = 1000 under
    # OpenBLAS's Prescott kernel), which a two-sided check blamed on gd
    w, b = model.coef_.ravel(), model.intercept_[0]
    s = np.where(y == y.max(), 1.0, -1.0)
    P = C * phi(s * (X @ w + b)).sum() + l1_ratio * np.abs(w).sum()
    P += 0.5 * (1 - l1_ratio) * w @ w
    assert model.objective_value_ == pytest.approx(P, rel=1e-12)
    assert reference * (1 + 2e-7) >= P
    assert P * (1 - model.optimality_) <= reference * (1 + 1e-9)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_default_gaussian_hinge_fits_with_l1_converge(penalty):
    # "auto" sends the Gaussian hinge with an L1 part to gd (primal_cd has no
    # compiled update for it): at C = 10 and 1000 every such fit on breast
    # cancer ended at max_iter before
    X, y = _standardized(load_breast_cancer)
    for C in (10.0, 1000.0):
        certified_fit(X, y, loss="gaussian_hinge", penalty=penalty, C=C)


def test_one_vs_rest_l1_is_solved_column_by_column(monkeypatch):
    # the columns do not interact under L1: each is its own barrier solve
    # (a d + 1 square system, and the support polish), and the whole agrees
    # with primal_cd, a second solver; on digits at C = 1000 the joint solve
    # had stalled at a bound of 0.64
    # (the barrier itself: through gd it runs only where the proximal steps
    # have not certified, which rounding could decide)
    calls = spy_on(monkeypatch, barrier, "_barrier")
    X, y = _standardized(load_wine)
    result = barrier.group_barrier(_l1_objective(X, y, 1000.0), 1e-4, 300)
    assert len(calls) == 3 and result.converged
    other = certified_fit(
        X, y, loss="squared_hinge", penalty="l1", C=1000.0, solver="primal_cd", tol=1e-8
    )
    assert result.value <= other.objective_value_ * (1 + 1e-4)
    lower = result.value * (1 - result.optimality)
    assert lower <= other.objective_value_ * (1 + 1e-9)


@pytest.mark.parametrize("load", [load_digits, load_breast_cancer])
def test_l1_zeros_are_exact_where_the_dual_says_so(monkeypatch, load):
    # the coefficients that are 0 at the optimum (their loss gradient well
    # inside the unit ball there: primal_cd's at tol 1e-10, a second solver,
    # tells) come out exactly 0 from the barrier: snapping them moved the
    # kept ones off their optimum and the snap was refused whole, leaving
    # them at 1e-8 to 1e-5 (digits at C = 10: 610 non-zero coefficients where
    # the optimum has 426; breast cancer: a coefficient of -8.9e-6 whose dual
    # is 0.38, while one of the optimum in the same snap cancelled it)
    calls = spy_on(monkeypatch, _gradient_descent, "group_barrier")
    X, y = _standardized(load)
    model = certified_fit(X, y, loss="squared_hinge", penalty="l1", C=10.0, solver="gd")
    assert calls  # the proximal steps did not certify within their share
    reference = certified_fit(
        X, y, loss="squared_hinge", penalty="l1", C=10.0, solver="primal_cd", tol=1e-10
    )
    objective = _l1_objective(X, y, 10.0)
    V = _loss_duals(objective, objective.join(reference.coef_, reference.intercept_))
    clearly_inside = np.abs(V) < 1.0 - 1e-2
    assert clearly_inside.any()
    assert np.all(model.coef_[clearly_inside] == 0.0)


def test_small_C_keeps_the_proximal_steps(monkeypatch):
    # L1 and the elastic net: the proximal steps first, for 3/4 of max_iter;
    # at a small C they certify (the barrier first cost up to 117 times
    # their time), at a large one the barrier goes on from their point
    calls = spy_on(monkeypatch, _gradient_descent, "group_barrier")
    X, y = _standardized(load_breast_cancer)
    for penalty in ("l1", ElasticNet(l1_ratio=0.5)):
        certified_fit(X, y, loss="gaussian_hinge", penalty=penalty, C=0.1)
    assert not calls
    certified_fit(X, y, loss="gaussian_hinge", penalty="l1", C=1000.0)
    assert len(calls) == 1


def _pairwise_squared_hinge(X, y):
    """``n / (n_P n_N) sum_{i in P, j in N} [1 - (s_i - s_j)]_+^2`` over every
    pair, written out (O(n^2)): no code of the package."""
    positives, negatives = X[y == y.max()], X[y != y.max()]
    scale = len(y) / (len(positives) * len(negatives))

    def phi(w):
        difference = (positives @ w)[:, None] - (negatives @ w)[None, :]
        return scale * np.square(np.maximum(1.0 - difference, 0.0)).sum()

    return phi


@pytest.mark.parametrize("C", [10.0, 1000.0])
def test_pairwise_l1_certifies_the_reference_optimum(C):
    # the all-pairs squared hinge with L1 (auto: gd, no intercept): its
    # proximal steps ended at max_iter from C = 10 on (breast cancer at C =
    # 1000: P 22 % above the optimum); the barrier forms the pairs' Hessian
    # from its products and certifies the optimum of an independent solver
    X, y = _binary(n=40, d=5)
    model = certified_fit(
        X, y, loss="pairwise_squared_hinge", penalty="l1", C=C, tol=1e-7
    )
    phi = _pairwise_squared_hinge(X, y)
    d = X.shape[1]
    result = minimize(
        lambda z: z.sum() + C * phi(z[:d] - z[d:]),
        np.zeros(2 * d),
        method="L-BFGS-B",
        bounds=[(0.0, None)] * (2 * d),
        options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 20_000, "maxfun": 10**6},
    )
    reference = float(result.fun)
    P = model.objective_value_
    assert abs(P - reference) <= 2e-7 * reference
    assert P * (1 - model.optimality_) <= reference * (1 + 1e-9)


@pytest.mark.parametrize(
    "loss", ["pairwise_squared_hinge", "pairwise_square", "pairwise_smooth_hinge"]
)
def test_default_pairwise_l1_fits_converge(loss):
    # breast cancer at C = 10 and 1000: 5 of these 6 fits ended at max_iter
    X, y = _standardized(load_breast_cancer)
    for C in (10.0, 1000.0):
        certified_fit(X, y, loss=loss, penalty="l1", C=C)


def test_a_snap_that_zeroes_a_group_of_the_optimum_is_refused():
    # a snap within tol can still zero a coefficient the optimum keeps (its
    # dual then leaves the ball: 0.514 over rho = 0.5 in a review's case);
    # _zeros_hold refuses it, and accepts the optimum's own zeros
    X, y = _standardized(load_breast_cancer)
    model = certified_fit(
        X, y, loss="squared_hinge", penalty="l1", C=0.1, solver="primal_cd", tol=1e-10
    )
    objective = _l1_objective(X, y, 0.1)
    W = model.coef_.copy()
    zeros = (W == 0.0).ravel()
    assert zeros.any() and not zeros.all()
    coef = objective.join(W, model.intercept_)
    assert barrier._zeros_hold(objective, coef, zeros)
    largest = np.argmax(np.abs(W.ravel()))
    W.ravel()[largest] = 0.0
    snapped = zeros.copy()
    snapped[largest] = True
    assert not barrier._zeros_hold(
        objective, objective.join(W, model.intercept_), snapped
    )


def test_a_route_that_ends_higher_leaves_the_lower_point_and_reports_it():
    # gd tries its routes in turn, each from the point before; where a later
    # one ends higher the earlier point stands, with the better of the two
    # bounds, and is the last point reported (it was the discarded one)
    from hinge_estimators.solvers._base import SolveResult

    objective = (
        HingeClassifier(loss="squared_hinge", penalty="l1", C=10.0)
        ._problem(*_standardized(load_breast_cancer), None)
        .objective
    )
    zeros = objective.zeros()

    def first(objective, tol, budget, callback=None, start=None):
        return SolveResult(zeros + 1.0, 3, False, 10.0, 0.5, [10.0], "first")

    def second(objective, tol, budget, callback=None, start=None):
        assert np.array_equal(start, zeros + 1.0)
        callback(5, 12.0, 0.2, "gap", zeros + 2.0, objective)
        return SolveResult(zeros + 2.0, 5, False, 12.0, 0.2, [12.0], "second")

    reports = []
    solver = GradientDescent()
    solver._interior_routes = lambda *args: [(first, 100), (second, 100)]
    result = solver.solve(
        objective, tol=1e-4, max_iter=8, callback=lambda *report: reports.append(report)
    )
    assert result.value == 10.0 and np.array_equal(result.coef, zeros + 1.0)
    # the lower bound of the second, 12 (1 - 0.2) = 9.6, is the better one
    assert result.optimality == pytest.approx(0.04)
    assert result.n_iter == 8
    assert reports[-1][1] == 10.0


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_a_narrow_gaussian_hinge_with_l1_converges(penalty):
    # curvature 4 (sigma 0.1), over the barrier's limit for the group norm
    # and the piecewise quadratic losses (Newton crawls over their kinks),
    # but the Gaussian hinge has none: with an L1 part its default fits on
    # breast cancer ended at max_iter at C = 10 and 1000 (bounds 0.08, 0.97)
    X, y = _standardized(load_breast_cancer)
    for C in (10.0, 1000.0):
        certified_fit(X, y, loss=GaussianHinge(sigma=0.1), penalty=penalty, C=C)
    objective = HingeClassifier(loss=GaussianHinge(sigma=0.1), penalty="l1_l2")
    three = _standardized(load_iris)
    assert not group_barrier_applies(objective._problem(*three, None).objective)


def test_the_last_zeros_polish_is_counted_and_budgeted(monkeypatch):
    # the Newton steps after a refused snap count in n_iter (they did not)
    # and keep to the iterations left
    objective = _l1_objective(*_standardized(load_breast_cancer), 10.0)
    finals, budgets = [], []
    real = barrier._last_zeros

    def spied(objective, best, mu, tol, budget):
        out = real(objective, best, mu, tol, budget)
        finals.append(out[3])
        budgets.append(budget)
        return out

    monkeypatch.setattr(barrier, "_last_zeros", spied)
    reported = []
    result = barrier.group_barrier(
        objective, 1e-4, 300, lambda n_iter, *rest: reported.append(n_iter)
    )
    assert result.converged and len(finals) == 1
    assert result.n_iter == reported[-1] + finals[0]
    assert budgets[0] == 300 - reported[-1] and finals[0] <= budgets[0]


def test_numerically_zero_coefficients_are_set_to_zero():
    # digits, L1 at C = 1000 by gd: zeros of the optimum stayed at rounding
    # level (1e-9 to 1e-12 of the largest after the barrier; 1e-25 after the
    # proximal steps' certification under another OpenBLAS kernel): none
    # below 1e-12 of the largest now, whichever route answered
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = certified_fit(X, y, penalty="l1", C=1000.0, solver="gd")
    W = model.coef_
    assert not np.any((W != 0.0) & (np.abs(W) < 1e-12 * np.abs(W).max()))


def test_numerical_zeros_keep_the_certificate():
    # the mechanism on its own: zeros of a certified point perturbed at
    # rounding level are set back to 0 with the certificate holding; a
    # perturbation above every share is left as it is
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = certified_fit(X, y, penalty="l1", C=1.0, solver="primal_cd", tol=1e-10)
    objective = model._problem(X, y, None).objective
    W = model.coef_.copy()
    zeros = W == 0.0
    assert zeros.any()
    largest = np.abs(W).max()
    for size, kept in ((1e-14, False), (1e-3, True)):
        perturbed = np.where(zeros, size * largest, W)
        coef = objective.join(perturbed, model.intercept_)
        gap, value = objective.duality_gap(coef)
        out, optimality, primal = barrier.numerical_zeros(
            objective, coef, gap / value, value, 1e-4
        )
        W_out = objective.split(out)[0]
        if kept:
            np.testing.assert_array_equal(W_out, perturbed)
        else:
            assert np.all(W_out[zeros] == 0.0)
            np.testing.assert_array_equal(W_out[~zeros], W[~zeros])
            assert optimality <= max(gap / value, 1e-4)
            check_gap, check_value = objective.duality_gap(out)
            assert check_gap <= optimality * check_value * (1 + 1e-12)
            assert primal == pytest.approx(check_value, rel=1e-14)


def test_a_numerically_zero_coefficient_stays_out_of_the_polish():
    # the polish's Hessian divides by each kept coefficient's cube: the
    # barrier left one at 1e-160 (the Gaussian hinge with L1 on one-hot
    # data at C = 100), its cube underflowed to 0, and the fit raised a
    # division by zero. Below SMOOTH_FLOOR a coefficient is numerically 0
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :6]
    y = np.where(y == 1, 1.0, -1.0)
    objective = LinearObjective(
        GaussianHinge(), X, y[:, None], n_outputs=1, C=10.0, penalty=L1()
    )
    coef = np.append(np.linspace(0.5, -0.5, 6), 0.1)
    coef[2] = 1e-160
    W = objective.split(coef)[0]
    kept = barrier._polish_support(W)
    assert 2 not in kept and len(kept) == 5
    assert barrier._smooth_on(objective, W, kept)
    assert not barrier._smooth_on(objective, W, np.arange(6))
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        barrier._support_polish(objective, coef, kept, 5, 1e-8)
