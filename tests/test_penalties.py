"""The penalty layer: each penalty's contract, the duality-gap certificate,
``gd``'s proximal solves against independent optima, the solvers' refusals,
and the estimator surface (sparse ``coef_``, ``sparsify``, grid search)."""

import functools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog, minimize, minimize_scalar
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import (
    CrammerSinger,
    Hinge,
    SmoothHinge,
    SquaredHinge,
    WestonWatkins,
)
from hinge_estimators.penalties import (
    L1,
    L2,
    PENALTIES,
    ElasticNet,
    GroupL1L2,
    get_penalty,
)
from hinge_estimators.solvers import SOLVERS, GradientDescent, get_solver

from ._problems import make_objective

#: every registered penalty, and the elastic net at its ends and inside
PENALTY_OBJECTS = [cls() for cls in PENALTIES.values()] + [
    ElasticNet(l1_ratio=0.0),
    ElasticNet(l1_ratio=0.2),
    ElasticNet(l1_ratio=1.0),
]
NONSMOOTH = [L1(), ElasticNet(l1_ratio=0.5), GroupL1L2()]

matrices = arrays(
    np.float64,
    st.tuples(st.integers(1, 3), st.integers(1, 3)),
    elements=st.floats(-3, 3, allow_nan=False, allow_infinity=False),
)
steps = st.floats(0.05, 3.0)


def _ids(objects):
    return [repr(obj) for obj in objects]


# -- the penalty contract ----------------------------------------------------
def _prox_problem(W, step, regularizer):
    """``h(U) = ||U - W||^2 / 2 + step * regularizer(U)`` and a derivative-free
    minimum of it (Powell, from ``W``)."""

    def h(u):
        U = u.reshape(W.shape)
        return 0.5 * float(np.sum((U - W) ** 2)) + step * regularizer(U)

    brute = minimize(
        h, W.ravel(), method="Powell", options={"xtol": 1e-10, "ftol": 1e-14}
    )
    return h, brute.fun


@pytest.mark.parametrize("penalty", PENALTY_OBJECTS, ids=_ids(PENALTY_OBJECTS))
@settings(max_examples=30, deadline=None)
@given(W=matrices, step=steps)
def test_prox_minimizes_its_problem(penalty, W, step):
    # h is 1-strongly convex: the prox must beat a derivative-free minimizer
    # and every small move from it (convex: a local minimum is the minimum)
    h, brute = _prox_problem(W, step, penalty.value)
    prox = penalty.prox(W, step)
    assert prox.shape == W.shape
    assert h(prox.ravel()) <= brute + 1e-9
    rng = np.random.default_rng(0)
    for _ in range(20):
        move = rng.normal(size=W.size) * 1e-4
        assert h(prox.ravel()) <= h(prox.ravel() + move) + 1e-12


@pytest.mark.parametrize("penalty", PENALTY_OBJECTS, ids=_ids(PENALTY_OBJECTS))
@settings(max_examples=30, deadline=None)
@given(W=matrices, step=steps)
def test_nonsmooth_prox_minimizes_its_problem(penalty, W, step):
    # the prox of Psi alone, from which the base class composes prox
    h, brute = _prox_problem(W, step, penalty.nonsmooth_value)
    assert h(penalty.nonsmooth_prox(W, step).ravel()) <= brute + 1e-9


@pytest.mark.parametrize("penalty", PENALTY_OBJECTS, ids=_ids(PENALTY_OBJECTS))
@settings(max_examples=40, deadline=None)
@given(W=matrices, seed=st.integers(0, 1000))
def test_conjugate_fenchel_young(penalty, W, seed):
    rng = np.random.default_rng(seed)
    V = rng.normal(scale=2.0, size=W.shape)
    V = penalty.dual_scale(V) * V
    conj = penalty.conjugate(V)
    assert np.isfinite(conj)
    # Fenchel-Young: Omega(W) + Omega^*(V) >= <V, W> for every pair
    assert penalty.value(W) + conj >= float(np.vdot(V, W)) - 1e-9
    # ... with equality at a subgradient V of Omega at W (0 at a kink is one,
    # except for the group norm, whose subgradient there is any unit-ball V)
    sub = penalty.quadratic * W + penalty.nonsmooth_subgradient(W)
    np.testing.assert_allclose(
        penalty.value(W) + penalty.conjugate(sub),
        float(np.vdot(sub, W)),
        rtol=1e-9,
        atol=1e-9,
    )


@pytest.mark.parametrize("penalty", PENALTY_OBJECTS, ids=_ids(PENALTY_OBJECTS))
def test_conjugate_against_a_numeric_sup(penalty):
    # sup_W <V, W> - Omega(W) by a smooth maximizer from several starts; the
    # sup is attained (finite) in the domain and grows without bound outside
    rng = np.random.default_rng(1)
    V = rng.normal(size=(2, 3))
    V = 0.8 * penalty.dual_scale(V) * V  # strictly inside the domain

    def negative(w):
        return penalty.value(w.reshape(V.shape)) - float(np.vdot(V, w))

    best = min(
        minimize(negative, rng.normal(size=V.size), method="Powell").fun
        for _ in range(3)
    )
    np.testing.assert_allclose(penalty.conjugate(V), -best, rtol=1e-6, atol=1e-7)
    t = penalty.dual_scale(3.0 * V / 0.8 / max(np.abs(V).max(), 1e-12))
    if t < 1.0:  # outside the domain: the conjugate is infinite
        outside = 1.1 * 3.0 * V / 0.8 / np.abs(V).max()
        assert penalty.conjugate(outside) == np.inf


@pytest.mark.parametrize("penalty", PENALTY_OBJECTS, ids=_ids(PENALTY_OBJECTS))
@settings(max_examples=30, deadline=None)
@given(V=matrices)
def test_dual_scale_is_the_largest_feasible_scale(penalty, V):
    t = penalty.dual_scale(V)
    assert 0.0 < t <= 1.0
    assert np.isfinite(penalty.conjugate(t * V))
    if t < 1.0:
        assert penalty.conjugate(1.01 * t * V) == np.inf


@pytest.mark.parametrize("penalty", PENALTY_OBJECTS, ids=_ids(PENALTY_OBJECTS))
@settings(max_examples=30, deadline=None)
@given(A=matrices)
def test_violation_is_zero_exactly_at_the_optimum(penalty, A):
    # min_W ||W - A||^2 / 2 + Omega(W) has the solution prox(A, 1); the
    # loss part's gradient there is W - A
    W = penalty.prox(A, 1.0)
    violation = penalty.violation(W, W - A)
    assert violation.shape == (A.shape[1],)
    np.testing.assert_allclose(violation, 0.0, atol=1e-12)
    # moved away in one feature, that feature violates its condition
    moved = W.copy()
    moved[:, 0] += 0.5
    assert penalty.violation(moved, moved - A)[0] > 1e-3


@pytest.mark.parametrize("penalty", PENALTY_OBJECTS, ids=_ids(PENALTY_OBJECTS))
@settings(max_examples=30, deadline=None)
@given(W=matrices)
def test_value_is_quadratic_plus_nonsmooth_part(penalty, W):
    expected = 0.5 * penalty.quadratic * float(np.sum(W * W))
    expected += penalty.nonsmooth_value(W)
    np.testing.assert_allclose(penalty.value(W), expected, rtol=1e-12, atol=1e-14)
    assert penalty.value(W) >= 0.0
    assert penalty.value(np.zeros_like(W)) == 0.0
    if penalty.is_smooth:
        assert penalty.nonsmooth_value(W) == 0.0


@pytest.mark.parametrize("penalty", PENALTY_OBJECTS, ids=_ids(PENALTY_OBJECTS))
def test_params_clone_and_registry_copy(penalty):
    copy = clone(penalty)
    assert type(copy) is type(penalty)
    assert copy.get_params() == penalty.get_params()
    resolved = get_penalty(penalty)
    assert resolved is not penalty
    assert resolved.get_params() == penalty.get_params()
    assert pickle.loads(pickle.dumps(penalty)).get_params() == penalty.get_params()


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half", True, None, np.nan])
def test_l1_ratio_is_validated(bad):
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNet(l1_ratio=bad).validate()
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="l1_ratio"):
        HingeClassifier(penalty=ElasticNet(l1_ratio=bad)).fit(X, y)


@pytest.mark.parametrize(
    "ratio", [np.int64(0), np.int64(1), np.float32(0.5), np.float64(0.25)]
)
def test_l1_ratio_takes_numpy_scalars(ratio):
    # a grid search over penalty__l1_ratio hands numpy's scalars from the
    # array it was given (np.array([0, 1]) is int64)
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    model = HingeClassifier(penalty=ElasticNet(l1_ratio=ratio)).fit(X, y)
    reference = HingeClassifier(penalty=ElasticNet(l1_ratio=float(ratio))).fit(X, y)
    np.testing.assert_array_equal(model.coef_, reference.coef_)


@pytest.mark.parametrize("loss", ["squared_hinge", "modified_huber"])
def test_auto_takes_a_penalty_subclass(loss):
    # primal_cd has updates for the package's own penalty classes only: auto
    # chose it for the smooth losses and the fit raised; gd's proximal steps
    # take any penalty with a prox
    from hinge_estimators import hinge_path

    class ScaledL1(L1):
        """L1, through a user's subclass."""

    X, y = make_classification(n_samples=60, n_features=6, random_state=0)
    model = HingeClassifier(loss=loss, penalty=ScaledL1(), C=0.5).fit(X, y)
    plain = HingeClassifier(loss=loss, penalty="l1", C=0.5, tol=1e-8).fit(X, y)
    assert model.objective_value_ <= plain.objective_value_ * (1 + model.tol)
    assert len(hinge_path(X, y, loss=loss, penalty=ScaledL1(), n_Cs=3).Cs) == 3


def test_unknown_penalty_names_the_valid_ones():
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="penalty"):
        HingeClassifier(penalty="l0").fit(X, y)


# -- independent optima ------------------------------------------------------
def _reference_optimum(objective):
    """The optimum by L-BFGS-B on a smooth reformulation with bounds: ``W = P
    - N`` with ``P, N >= 0`` for entrywise penalties, the variational form of
    the group norms otherwise. No prox, no duality gap."""
    penalty = objective.penalty
    n_W = objective.n_outputs * objective.n_features
    n_b = objective.size - n_W

    def smooth(w, b):
        coef = np.concatenate([w, b])
        value, grad = objective.smooth_value_and_gradient(coef)
        return value, grad[:n_W], grad[n_W:]

    if penalty.is_separable:
        weight = penalty.nonsmooth_value(np.ones(n_W)) / n_W

        def split(z):
            w = z[:n_W] - z[n_W : 2 * n_W]
            value, g_w, g_b = smooth(w, z[2 * n_W :])
            value += weight * z[: 2 * n_W].sum()
            return value, np.concatenate([g_w + weight, -g_w + weight, g_b])

        bounds = [(0, None)] * (2 * n_W) + [(None, None)] * n_b
        run = minimize(
            split,
            np.zeros(2 * n_W + n_b),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-12},
        )
        z = run.x
        return np.concatenate([z[:n_W] - z[n_W : 2 * n_W], z[2 * n_W :]])
    # the group norm's variational form ||w|| = min_{eta > 0} ||w||^2 / (2 eta)
    # + eta / 2, jointly convex in (w, eta): a smooth problem with bounds
    K, d = objective.n_outputs, objective.n_features

    def variational(z):
        w, b, eta = z[:n_W], z[n_W : n_W + n_b], z[n_W + n_b :]
        value, g_w, g_b = smooth(w, b)
        norms2 = np.sum(w.reshape(K, d) ** 2, axis=0)
        value += float(np.sum(norms2 / (2 * eta) + eta / 2))
        g_w = g_w + (w.reshape(K, d) / eta).ravel()
        return value, np.concatenate([g_w, g_b, 0.5 - norms2 / (2 * eta**2)])

    run = minimize(
        variational,
        np.concatenate([np.zeros(n_W + n_b), np.ones(d)]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(None, None)] * (n_W + n_b) + [(1e-14, None)] * d,
        options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-12},
    )
    # the 1/eta curvature of the dropped groups stalls that run short of the
    # optimum: keep the groups it kept and minimize over them alone, where
    # the norms are differentiable
    W = run.x[:n_W].reshape(K, d)
    kept = np.linalg.norm(W, axis=0) > 1e-6 * max(np.abs(W).max(), 1e-300)
    b = run.x[n_W : n_W + n_b]
    # a group the first run dropped can belong to the optimum with a tiny
    # norm (1e-4 against 1 for the others, multiclass smooth hinge), and
    # which side of the threshold it lands on moves with the BLAS kernel's
    # rounding: a dropped group whose gradient leaves the dual ball (norm
    # above 1) joins the kept ones, started a little way down its gradient,
    # and the restricted problem is solved again
    for _ in range(d + 1):
        W, b = _restricted_optimum(smooth, K, d, W, b, kept)
        _, g_w, _ = smooth(W.ravel(), b)
        norms = np.linalg.norm(g_w.reshape(K, d), axis=0)
        joining = ~kept & (norms > 1.0 + 1e-9)
        if not joining.any():
            break
        G = g_w.reshape(K, d)
        W[:, joining] = -1e-6 * G[:, joining] / norms[joining]
        kept = kept | joining
    return np.concatenate([W.ravel(), b])


def _restricted_optimum(smooth, K, d, W, b, kept):
    """The group-penalized optimum over the ``kept`` groups alone (every
    kept group's norm positive: a smooth problem), by L-BFGS-B from
    ``(W, b)``."""

    def restricted(z):
        full = np.zeros((K, d))
        full[:, kept] = z[: K * kept.sum()].reshape(K, -1)
        value, g_w, g_b = smooth(full.ravel(), z[K * kept.sum() :])
        norms = np.linalg.norm(full[:, kept], axis=0)
        g_w = g_w.reshape(K, d)[:, kept] + full[:, kept] / norms
        return value + norms.sum(), np.concatenate([g_w.ravel(), g_b])

    start = np.concatenate([W[:, kept].ravel(), b])
    polish = minimize(
        restricted,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-12},
    )
    W = np.zeros((K, d))
    W[:, kept] = polish.x[: K * kept.sum()].reshape(K, -1)
    return W, polish.x[K * kept.sum() :]


LAYOUTS = {
    "intercept": {},
    "no_intercept": {"fit_intercept": False},
    "penalized_intercept": {"intercept_scaling": 2.0},
    "multiclass": {"n_classes": 3, "weighted": True},
}
#: binary and multiclass smooth losses (the others share these code paths)
SMOOTH_LOSSES = [
    SquaredHinge(),
    SmoothHinge(gamma=0.5),
    WestonWatkins(squared=True),
    # negative values (infimum -mu/2): the bound must account for them
    CrammerSinger(smoothing=0.4),
]


@functools.cache
def _problem(loss, penalty, layout):
    """``(objective, P*)`` of one case, the optimum computed once per session
    (the loss and penalty objects are the module's own, hashed by identity)."""
    objective = make_objective(loss, C=2.0, penalty=penalty, **LAYOUTS[layout])
    optimum = _reference_optimum(objective)
    return objective, optimum


def _gap_cases():
    for loss in SMOOTH_LOSSES:
        for penalty in [*NONSMOOTH, L2()]:
            for layout in LAYOUTS:
                yield pytest.param(
                    loss, penalty, layout, id=f"{loss}-{penalty}-{layout}"
                )


@pytest.mark.parametrize(("loss", "penalty", "layout"), list(_gap_cases()))
def test_duality_gap_bounds_suboptimality_and_vanishes_at_the_optimum(
    loss, penalty, layout
):
    objective, optimum = _problem(loss, penalty, layout)
    best = objective.value(optimum)
    gap, value = objective.duality_gap(optimum)
    assert value == pytest.approx(best, rel=1e-12)
    # the reference optimum is certified: its gap is ~0 (L-BFGS-B's optima
    # are about 1e-6 off in relative value, and the gap follows them)
    assert gap <= 1e-5 * abs(best)
    rng = np.random.default_rng(3)
    for scale in (0.01, 0.3, 2.0):
        coef = optimum + scale * rng.normal(size=optimum.size)
        gap, value = objective.duality_gap(coef)
        if not (loss.is_multiclass and objective.fit_intercept):
            # (a multiclass loss's free intercepts may admit no balanced dual
            # point far from the optimum: then no bound, inf)
            assert np.isfinite(gap)
        # gap >= P(coef) - P* >= P(coef) - P(reference)
        assert gap >= value - best - 1e-9 * abs(value)


def test_duality_gap_for_the_hinge_is_a_valid_bound():
    # no claim of tightness at kinks; the bound must hold everywhere (the
    # optimum from the linear program below)
    objective = make_objective(Hinge(), C=1.0, penalty="l1")
    best = objective.value(_hinge_l1_lp(objective))
    rng = np.random.default_rng(0)
    for _ in range(5):
        coef = rng.normal(size=objective.size)
        gap, value = objective.duality_gap(coef)
        assert gap >= value - best - 1e-9 * abs(value)


def test_no_penalty_has_no_certificate():
    objective = make_objective(SquaredHinge(), penalty=None)
    gap, _ = objective.duality_gap(objective.zeros())
    assert gap == np.inf


def _hinge_l1_lp(objective):
    """Binary hinge + L1 with a free intercept as a linear program (HiGHS):
    min sum(p + q) + C sum s_i xi_i, xi_i >= 1 - y_i (x_i (p - q) + b)."""
    X = objective.X.toarray() if sp.issparse(objective.X) else objective.X
    y = objective.y.ravel()
    n, d = X.shape
    s = objective.C * objective.sample_weight
    # variables p (d), q (d), b (1, free), xi (n)
    cost = np.concatenate([np.ones(2 * d), [0.0], s])
    yX = y[:, None] * X
    A = np.hstack([-yX, yX, -y[:, None], -np.eye(n)])
    bounds = [(0, None)] * (2 * d) + [(None, None)] + [(0, None)] * n
    run = linprog(cost, A_ub=A, b_ub=-np.ones(n), bounds=bounds, method="highs")
    assert run.status == 0
    z = run.x
    return np.concatenate([z[:d] - z[d : 2 * d], z[2 * d : 2 * d + 1]])


# -- gd's proximal solves ----------------------------------------------------
@pytest.mark.parametrize("loss", SMOOTH_LOSSES, ids=_ids(SMOOTH_LOSSES))
@pytest.mark.parametrize("penalty", NONSMOOTH, ids=_ids(NONSMOOTH))
@pytest.mark.parametrize("layout", ["intercept", "no_intercept", "multiclass"])
def test_gd_reaches_the_independent_optimum_and_its_bound_holds(loss, penalty, layout):
    objective, optimum = _problem(loss, penalty, layout)
    best = objective.value(optimum)  # about 1e-6 above P* (see above)
    # a loose tol, where the reference resolves the true excess: the bound
    # gd reports must cover it; a tight one, where gd must match the optimum
    for tol in (1e-3, 1e-8):
        result = GradientDescent().solve(objective, tol=tol, max_iter=50_000)
        assert result.converged
        excess = (result.value - best) / abs(result.value)
        assert excess <= tol + 1e-12
        assert result.optimality >= excess - 1e-12
        assert result.optimality <= tol
        assert result.value == pytest.approx(objective.value(result.coef), rel=1e-12)


@pytest.mark.parametrize("polish", [True, False])
def test_gd_on_the_hinge_with_l1_certifies_against_the_linear_program(polish):
    # polish=True: the interior point's multipliers certify the linear
    # program's optimum itself; polish=False: the smoothing stages alone,
    # certified by their smoothed duality gap
    objective = make_objective(Hinge(), C=1.0, penalty="l1")
    best = objective.value(_hinge_l1_lp(objective))
    tol = 1e-9 if polish else 1e-3
    result = GradientDescent(polish=polish).solve(objective, tol=tol, max_iter=50_000)
    assert result.converged
    assert ("interior point" in result.message) == polish
    excess = (result.value - best) / abs(result.value)
    assert -1e-9 <= excess <= result.optimality + 1e-12
    assert result.optimality <= tol


@pytest.mark.parametrize("polish, max_iter", [(False, 30), (True, 3)])
def test_gd_reports_an_honest_bound_when_stopped_early(polish, max_iter):
    # smoothing after 30 iterations, the interior point after 3 of its own
    objective = make_objective(Hinge(), C=10.0, penalty="l1")
    best = objective.value(_hinge_l1_lp(objective))
    result = GradientDescent(polish=polish).solve(
        objective, tol=1e-10, max_iter=max_iter
    )
    assert not result.converged
    assert result.n_iter == max_iter
    excess = (result.value - best) / abs(result.value)
    assert result.optimality >= excess


def test_gd_keeps_l2_on_its_smooth_path():
    # ElasticNet(l1_ratio=0) is smooth: the same problem as "l2", the same
    # (gradient-norm) path and result
    by_name = GradientDescent().solve(
        make_objective(SquaredHinge(), penalty="l2"), tol=1e-10, max_iter=5000
    )
    by_mix = GradientDescent().solve(
        make_objective(SquaredHinge(), penalty=ElasticNet(l1_ratio=0.0)),
        tol=1e-10,
        max_iter=5000,
    )
    np.testing.assert_allclose(by_mix.coef, by_name.coef, rtol=1e-7, atol=1e-9)
    assert by_name.message == by_mix.message


# -- refusals ----------------------------------------------------------------
def _refusing_solvers():
    for name, cls in SOLVERS.items():
        if not cls.handles_nonsmooth_penalty:
            yield name


@pytest.mark.parametrize("solver", list(_refusing_solvers()))
@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l1_l2"])
def test_solvers_without_a_prox_refuse_nonsmooth_penalties(solver, penalty):
    # a loss each solver accepts: interior_point takes the plain multiclass
    # hinges only
    loss = WestonWatkins() if solver == "interior_point" else SquaredHinge()
    with pytest.raises(ValueError, match=r"non-smooth penalty .*solver='gd'") as info:
        get_solver(solver, loss, penalty=penalty)
    assert info.value.args[0].count(". ") == 0  # one sentence
    # solve() refuses it too, not only the estimator's resolution
    objective = make_objective(loss, penalty=penalty)
    with pytest.raises(ValueError, match="non-smooth penalty"):
        SOLVERS[solver]().solve(objective, tol=1e-4, max_iter=10)
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="non-smooth penalty"):
        HingeClassifier(loss=loss, solver=solver, penalty=penalty).fit(X, y)


def test_every_solver_without_a_nonsmooth_update_refuses():
    # the list above must not shrink to nothing by accident; sgd (the
    # cumulative L1 pull) and primal_cd have their own tests
    assert set(_refusing_solvers()) == set(SOLVERS) - {"gd", "sgd", "primal_cd"}


class _HalfL2(L2):
    """A smooth penalty whose quadratic part is not ||W||^2 / 2."""

    @property
    def quadratic(self):
        return 0.5


@pytest.mark.parametrize("solver", ["dual_cd"])
def test_unit_quadratic_solvers_refuse_another_quadratic(solver):
    loss = Hinge() if solver == "dual_cd" else SquaredHinge()
    with pytest.raises(ValueError, match=r"exactly \|\|W\|\|\^2 / 2"):
        get_solver(solver, loss, penalty=_HalfL2())
    objective = make_objective(loss, penalty=_HalfL2())
    with pytest.raises(ValueError, match="quadratic part"):
        SOLVERS[solver]().solve(objective, tol=1e-4, max_iter=10)
    # the elastic net without its L1 part is the L2 problem: accepted
    get_solver(solver, loss, penalty=ElasticNet(l1_ratio=0.0))


def test_dual_cd_with_l1_ratio_zero_solves_the_l2_problem():
    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    l2 = HingeClassifier(loss="hinge", solver="dual_cd", tol=1e-10, random_state=0)
    mix = clone(l2).set_params(penalty=ElasticNet(l1_ratio=0.0))
    np.testing.assert_allclose(mix.fit(X, y).coef_, l2.fit(X, y).coef_, rtol=1e-5)


# -- the estimator surface ---------------------------------------------------
def _breast_cancer_like():
    # no redundant (linearly dependent) features: the L1 optimum is unique
    X, y = make_classification(
        n_samples=120, n_features=20, n_informative=4, n_redundant=0, random_state=0
    )
    return StandardScaler().fit_transform(X), y


def test_l1_gives_exact_zeros_and_zero_below_the_critical_C():
    X, y = _breast_cancer_like()
    # at W = 0 the free intercept minimizes sum_i (1 - y_i b)_+^2; the
    # gradient there gives the C below which W = 0 is optimal
    signs = 2.0 * y - 1.0
    b = minimize_scalar(lambda b: np.sum(np.maximum(1 - signs * b, 0) ** 2)).x
    slope = -2.0 * signs * np.maximum(1 - signs * b, 0)
    critical = 1.0 / np.abs(X.T @ slope).max()
    below = HingeClassifier(penalty="l1", C=0.9 * critical, tol=1e-8).fit(X, y)
    assert np.count_nonzero(below.coef_) == 0
    above = HingeClassifier(penalty="l1", C=1.5 * critical, tol=1e-8).fit(X, y)
    assert 0 < np.count_nonzero(above.coef_) < X.shape[1]
    dense = HingeClassifier(penalty="l2", C=1.5 * critical).fit(X, y)
    assert np.count_nonzero(dense.coef_) == X.shape[1]


def test_group_penalty_drops_features_for_every_class_at_once():
    X, y = make_classification(
        n_samples=150, n_features=12, n_informative=3, n_classes=3, random_state=1
    )
    clf = HingeClassifier(penalty="l1_l2", C=0.02, tol=1e-8).fit(X, y)
    kept = np.any(clf.coef_ != 0, axis=0)
    assert 0 < kept.sum() < X.shape[1]
    assert np.all(np.all(clf.coef_[:, kept] != 0, axis=0))


def test_sparsify_and_densify_keep_the_predictions():
    X, y = _breast_cancer_like()
    clf = HingeClassifier(penalty="l1", C=0.05).fit(X, y)
    dense_scores = clf.decision_function(X)
    n_nonzero = np.count_nonzero(clf.coef_)
    clf.sparsify()
    assert sp.issparse(clf.coef_) and clf.coef_.nnz == n_nonzero
    np.testing.assert_allclose(clf.decision_function(X), dense_scores, rtol=1e-12)
    np.testing.assert_allclose(
        clf.decision_function(sp.csr_matrix(X)), dense_scores, rtol=1e-12
    )
    assert np.array_equal(clf.predict(X), clf.predict(sp.csr_matrix(X)))
    clone_of_fitted = pickle.loads(pickle.dumps(clf))
    assert sp.issparse(clone_of_fitted.coef_)
    clf.densify()
    assert isinstance(clf.coef_, np.ndarray)
    np.testing.assert_allclose(clf.decision_function(X), dense_scores, rtol=1e-12)
    # a warm start from a sparsified model works
    clf.sparsify().set_params(warm_start=True).fit(X, y)
    assert isinstance(clf.coef_, np.ndarray)


def test_agrees_with_liblinear_l1_without_intercept():
    X, y = _breast_cancer_like()
    C = 0.1
    ours = HingeClassifier(
        penalty="l1", C=C, fit_intercept=False, tol=1e-10, max_iter=100_000
    ).fit(X, y)
    assert ours.optimality_ <= 1e-10
    svc = LinearSVC(
        penalty="l1", dual=False, C=C, fit_intercept=False, tol=1e-8, max_iter=10_000
    ).fit(X, y)

    def objective(coef):
        margins = (2 * y - 1) * (X @ coef.ravel())
        return np.abs(coef).sum() + C * np.sum(np.maximum(1 - margins, 0) ** 2)

    assert objective(ours.coef_) <= objective(svc.coef_) * (1 + 1e-9)
    np.testing.assert_allclose(ours.coef_, svc.coef_, atol=1e-5)
    assert np.array_equal(ours.coef_ != 0, np.abs(svc.coef_) > 1e-8)


def test_grid_search_tunes_l1_ratio_in_a_pipeline():
    X, y = _breast_cancer_like()
    pipe = make_pipeline(StandardScaler(), HingeClassifier(penalty=ElasticNet()))
    search = GridSearchCV(
        pipe, {"hingeclassifier__penalty__l1_ratio": [0.1, 0.9]}, cv=3
    ).fit(X, y)
    best = search.best_params_["hingeclassifier__penalty__l1_ratio"]
    assert best in (0.1, 0.9)
    fitted = search.best_estimator_[-1]
    assert fitted.penalty.l1_ratio == best
    # the estimator's own penalty object is never modified by a fit
    assert pipe[-1].penalty.l1_ratio == 0.5
    # a higher l1_ratio gives no more non-zeros than a lower one here
    sparse = clone(pipe).set_params(hingeclassifier__penalty__l1_ratio=0.9)
    mixed = clone(pipe).set_params(hingeclassifier__penalty__l1_ratio=0.1)
    n_sparse = np.count_nonzero(sparse.fit(X, y)[-1].coef_)
    n_mixed = np.count_nonzero(mixed.fit(X, y)[-1].coef_)
    assert n_sparse < n_mixed
