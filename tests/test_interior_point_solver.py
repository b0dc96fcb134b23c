"""The interior-point solver of the plain multiclass hinges: the optimum of an
independent QP, a certificate that bounds the suboptimality, the default
Weston-Watkins fit converging where gd stopped at max_iter, the auto rule,
and its refusals."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import CrammerSinger, Hinge, WestonWatkins
from hinge_estimators.solvers import (
    GradientDescent,
    InteriorPoint,
    Progress,
    TrustRegionNewton,
    auto_solver,
    get_solver,
)

from ._problems import make_objective
from ._qp import solve_qp

LOSSES = [
    WestonWatkins(),
    WestonWatkins(delta=0.5),
    CrammerSinger(),
    WestonWatkins(squared=True),
    CrammerSinger(squared=True, delta=0.5),
]
LAYOUTS = [
    dict(seed=0, n=30, d=3, n_classes=3),
    dict(seed=4, n=24, d=3, n_classes=4, weighted=True),
    dict(seed=5, n=24, d=4, n_classes=3, fit_intercept=False, C=3.0),
    dict(seed=6, n=21, d=3, n_classes=3, intercept_scaling=1.0, sparse=True),
    dict(seed=7, n=30, d=3, n_classes=3, C=10.0, weighted=True, sparse=True),
    dict(seed=12, n=30, d=3, n_classes=3, C=10.0, weighted=True, sparse=True),
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda p: str(p))
@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_interior_point_reaches_the_independent_qp_optimum(loss, layout):
    objective = make_objective(loss, **layout)
    qp_value, _, _ = solve_qp(objective)
    result = InteriorPoint().solve(objective, tol=1e-8, max_iter=200)
    assert result.converged, result.message
    assert result.value == pytest.approx(objective.value(result.coef), rel=1e-14)
    assert result.value >= qp_value * (1 - 1e-7)
    assert result.value <= qp_value * (1 + 1e-7)
    # the certificate is honest: it bounds the distance to the QP's optimum
    # (to SLSQP's accuracy: its slacks may violate their constraints by 1e-8,
    # a few 1e-9 of P at C = 10)
    assert result.optimality * result.value >= result.value - qp_value * (1 + 1e-8)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_an_early_stop_reports_a_bound_that_holds(loss):
    # three steps: far from the optimum, not converged, and the reported
    # relative gap still bounds the true suboptimality
    objective = make_objective(loss, seed=8, n=40, d=4, n_classes=3, C=10.0)
    qp_value, _, _ = solve_qp(objective)
    result = InteriorPoint().solve(objective, tol=1e-8, max_iter=3)
    assert not result.converged and result.n_iter == 3
    assert "max_iter" in result.message
    assert result.optimality * result.value >= result.value - qp_value - 1e-9
    assert result.value > qp_value * (1 + 1e-6)


@pytest.mark.parametrize("loss", [WestonWatkins(), CrammerSinger()], ids=repr)
def test_zero_weight_samples_are_as_good_as_absent(loss):
    # (Crammer-Singer's exact finish once divided 0 by 0 on them: the
    # floating-point guard refused the fit)
    weights = np.ones(30)
    weights[::4] = 0.0
    weighted = make_objective(loss, seed=9, n=30, d=3, n_classes=3)
    weighted.sample_weight = weights
    kept = weighted.subset(np.flatnonzero(weights))
    a = InteriorPoint().solve(weighted, tol=1e-10, max_iter=200)
    b = InteriorPoint().solve(kept, tol=1e-10, max_iter=200)
    assert a.converged and b.converged
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-7, atol=1e-9)


def test_dense_and_sparse_input_give_the_same_model():
    dense = make_objective(CrammerSinger(), seed=10, n=36, d=4, n_classes=3)
    sparse = make_objective(CrammerSinger(), seed=10, n=36, d=4, n_classes=3)
    sparse.X = sp.csr_matrix(dense.X)
    a = InteriorPoint().solve(dense, tol=1e-10, max_iter=200)
    b = InteriorPoint().solve(sparse, tol=1e-10, max_iter=200)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)


def test_default_weston_watkins_fit_on_digits_converges():
    # before the interior point, auto sent plain Weston-Watkins to gd, which
    # stopped at max_iter=1000 with a bound of 1.5e-3 (ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(loss="weston_watkins").fit(X, y)
    assert isinstance(model.solver_, InteriorPoint)
    assert model.optimality_ <= model.tol
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        smoothing = HingeClassifier(loss="weston_watkins", solver="gd").fit(X, y)
    assert model.objective_value_ <= smoothing.objective_value_


@pytest.mark.parametrize(
    "shape, expected",
    [
        (dict(n_samples=1797, n_features=64, n_classes=10), InteriorPoint),
        # 101 x 11 coefficients: beyond the normal equations' size
        (dict(n_samples=500, n_features=100, n_classes=11), GradientDescent),
        # n p^2 K above the step budget
        (dict(n_samples=10**6, n_features=60, n_classes=3), GradientDescent),
        # the free intercept's Schur complement: an (n, K, K) array and n p K^2
        # work a step (5.3 GB and 4.6 s a step at n = 20,000, K = 100)
        (dict(n_samples=20_000, n_features=9, n_classes=100), GradientDescent),
        # the class count unknown: the rule cannot size the problem
        (dict(n_samples=100, n_features=4), GradientDescent),
    ],
)
def test_auto_sends_plain_weston_watkins_by_size(shape, expected):
    assert isinstance(auto_solver(WestonWatkins(), **shape), expected)


def test_auto_keeps_its_routes_for_the_other_losses():
    shape = dict(n_samples=100, n_features=4, n_classes=3)
    assert not isinstance(auto_solver(CrammerSinger(), **shape), InteriorPoint)
    assert not isinstance(
        auto_solver(CrammerSinger(squared=True), **shape), InteriorPoint
    )
    assert isinstance(
        auto_solver(WestonWatkins(), penalty=None, **shape), GradientDescent
    )


def test_auto_keeps_squared_weston_watkins_with_newton():
    # the interior point solves it (solver="interior_point": 0.53 s on
    # splice at C = 1,000, where newton took 416 s), but took 3.6-6.4 times
    # newton's time on tall data and stops near the optimum, not on it
    for shape in (
        dict(n_samples=1797, n_features=64, n_classes=10),
        dict(n_samples=None, n_features=4, n_classes=3),
    ):
        solver = auto_solver(WestonWatkins(squared=True), **shape)
        assert isinstance(solver, TrustRegionNewton)


@pytest.mark.parametrize(
    "loss",
    [Hinge(), WestonWatkins(smoothing=0.1), CrammerSinger(smoothing=0.1)],
    ids=repr,
)
def test_other_losses_are_refused_in_one_sentence(loss):
    with pytest.raises(ValueError, match=r"multiclass hinges .*solver='auto'"):
        get_solver("interior_point", loss)


def test_too_many_coefficients_and_no_penalty_are_refused():
    wide = make_objective(WestonWatkins(), n=20, d=400, n_classes=3)
    with pytest.raises(ValueError, match="at most 1024"):
        InteriorPoint().solve(wide, tol=1e-4, max_iter=10)
    free = make_objective(WestonWatkins(), n=20, d=3, n_classes=3, penalty=None)
    with pytest.raises(ValueError, match="needs the L2 penalty"):
        InteriorPoint().solve(free, tol=1e-4, max_iter=10)


def test_progress_reports_the_primal_at_the_reported_coefficients():
    objective = make_objective(WestonWatkins(), seed=3, n=30, d=3, n_classes=3, C=10.0)
    records = []
    result = InteriorPoint().solve(
        objective,
        tol=1e-8,
        max_iter=50,
        callback=lambda k, v, p: records.append((k, v, p, p.coef)),
    )
    assert records and records[-1][0] <= result.n_iter
    for k, v, progress, coef in records:
        assert isinstance(progress, Progress) and progress.n_iter == k
        coef = progress.objective.uncenter_coef(coef)
        assert objective.value(coef) == pytest.approx(v, rel=1e-9)
    assert [r[0] for r in records] == sorted(r[0] for r in records)


def _unbalanced_classes(seed, n=400, d=8, K=6):
    """Six overlapping classes of very unequal sizes, features off 0."""
    rng = np.random.default_rng(seed)
    y = rng.choice(K, size=n, p=rng.dirichlet(np.full(K, 0.7)))
    centers = rng.normal(size=(K, d))
    return centers[y] + rng.normal(size=(n, d)) + rng.normal(scale=3, size=d), y


@pytest.mark.parametrize("loss", ["weston_watkins", "crammer_singer"])
@pytest.mark.parametrize("seed, C", [(1, 1.0), (1, 10.0), (3, 1.0)])
def test_slow_early_steps_do_not_end_the_solve(loss, seed, C):
    # with the free intercept the equality's residual shrinks by 1 - t a
    # step: a stall rule that asked it to halve ended these solves after
    # 13-22 steps at a relative gap of 0.08-0.24 (and satimage's after 10-14
    # at 1.3)
    X, y = _unbalanced_classes(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(loss=loss, C=C, solver="interior_point").fit(X, y)
    assert model.optimality_ <= model.tol


@pytest.mark.parametrize("loss", ["weston_watkins", "crammer_singer"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_default_fit_ends_exactly_on_the_optimum(loss, fit_intercept):
    # the steps stop near the optimum (1e-6 relative); the exact finish on
    # the sets the iterate approaches then lands on it. Read off theta / U
    # alone (below 1e-5 of a bound meant at it), 270 of iris's multipliers
    # were misread at that distance and the finish failed (2.4e-6 reported)
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = HingeClassifier(
        loss=loss, solver="interior_point", fit_intercept=fit_intercept
    ).fit(X, y)
    assert model.optimality_ <= 1e-12


def test_the_solver_reads_the_declared_dual_not_the_class():
    # a capability, as the design asks: a loss that declares no multiclass
    # dual is refused whatever its class, and the declaration's margin is
    # the one solved for
    class NoDual(WestonWatkins):
        def multiclass_dual(self):
            return None

    with pytest.raises(ValueError, match="duals of the multiclass hinges"):
        get_solver("interior_point", NoDual())
    objective = make_objective(WestonWatkins(delta=0.5), seed=0, n=30, d=3, n_classes=3)
    qp_value, _, _ = solve_qp(objective)
    result = InteriorPoint().solve(objective, tol=1e-8, max_iter=200)
    assert result.value == pytest.approx(qp_value, rel=1e-7)


@pytest.mark.parametrize("loss", ["weston_watkins", "crammer_singer"])
@pytest.mark.parametrize(
    "intercept", [dict(fit_intercept=False), dict(intercept_scaling=2.0)]
)
def test_features_far_from_zero_without_a_free_intercept_converge(loss, intercept):
    # nothing absorbs the offset: the rows' norms reach 2e4, the normal
    # equations lose digits and the steps stalled at a gap of 7e-3; once
    # stalled they are refined against the operator itself (about 4e-5:
    # tol=1e-3 leaves a wide margin, as how far such a solve gets is a
    # matter of rounding)
    rng = np.random.default_rng(5)
    y = np.arange(45) % 3
    X = rng.normal(scale=1.5, size=(3, 4))[y] + rng.normal(size=(45, 4)) + 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(
            loss=loss, solver="interior_point", tol=1e-3, **intercept
        )
        model.fit(X, y)
    assert model.optimality_ <= model.tol


def _three_blobs(seed, n=45, d=4):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return rng.normal(scale=1.5, size=(3, d))[y] + rng.normal(size=(n, d)), y


@pytest.mark.parametrize("loss", ["weston_watkins", "crammer_singer"])
def test_rounding_in_the_equality_does_not_end_a_tight_solve(loss):
    # at C = 1e5 the free intercept's equality residual rounds to 1e-12-2e-11
    # of the bounds' sum late in the solve; with 1e-12 as the cut (and no
    # ridge on the Schur complement) no later iterate counted as feasible:
    # Crammer-Singer stopped at 1.5e-7, Weston-Watkins at 7.7e-3 before the
    # steps were refined. Both now end
    # near 5e-9, at the edge of rounding for tol=1e-8: the bound asserted is
    # 20 times looser, for another CPU's rounding
    X, y = _three_blobs(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = HingeClassifier(loss=loss, solver="interior_point", C=1e5, tol=1e-8)
        model.fit(X, y)
    assert model.optimality_ <= 1e-7


@pytest.mark.parametrize("loss", ["weston_watkins", "crammer_singer"])
def test_a_class_without_weight_fits_without_warnings(loss):
    # its intercept is free: the Schur complement had an exactly zero row
    # (scipy's LinAlgWarning "Diagonal number 3 is exactly zero")
    X, y = _three_blobs(3, n=30, d=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = HingeClassifier(loss=loss, solver="interior_point", tol=1e-6)
        model.fit(X, y, sample_weight=(y != 1).astype(float))
    assert model.optimality_ <= 1e-6


def _rows_per_round(monkeypatch, axis=0):
    """Spy on the interior point's solves: the rows each round solved for
    (their number; ``axis=1``: their width)."""
    from hinge_estimators.solvers import _interior_point_solver

    rounds = []
    real = _interior_point_solver.solve_multiclass_dual

    def spy(rows, *args, **kwargs):
        rounds.append(rows.shape[axis])
        return real(rows, *args, **kwargs)

    monkeypatch.setattr(_interior_point_solver, "solve_multiclass_dual", spy)
    return rounds


def _optimum_and_spy(monkeypatch, loss, layout):
    """``(objective, its QP optimum, a cold interior-point solve, the rows
    per round of the solves after it)``."""
    objective = make_objective(loss, **layout)
    qp_value, _, _ = solve_qp(objective)
    cold = InteriorPoint().solve(objective, tol=1e-8, max_iter=200)
    return objective, qp_value, cold, _rows_per_round(monkeypatch)


START_LAYOUTS = [
    dict(seed=0, n=90, d=3, n_classes=3, C=1.0),
    dict(seed=5, n=80, d=4, n_classes=4, fit_intercept=False, C=3.0),
    dict(seed=6, n=70, d=3, n_classes=3, intercept_scaling=1.0, sparse=True),
    dict(seed=7, n=90, d=3, n_classes=3, C=10.0, weighted=True, sparse=True),
]


@pytest.mark.parametrize("layout", START_LAYOUTS, ids=lambda p: str(p))
@pytest.mark.parametrize("loss", [WestonWatkins(), CrammerSinger()], ids=repr)
def test_a_start_holds_the_samples_beyond_their_margins(monkeypatch, loss, layout):
    # from the optimum itself, the samples beyond twice the margin are held
    # at 0: one round over fewer rows, and the independent QP's optimum
    objective, qp_value, cold, rounds = _optimum_and_spy(monkeypatch, loss, layout)
    warm = InteriorPoint().solve(objective, cold.coef, tol=1e-8, max_iter=200)
    assert len(rounds) == 1
    assert rounds[0] < layout["n"]
    assert warm.converged, warm.message
    assert warm.value == pytest.approx(qp_value, rel=1e-7)
    assert warm.optimality * warm.value >= warm.value - qp_value * (1 + 1e-8)


@pytest.mark.parametrize("layout", START_LAYOUTS, ids=lambda p: str(p))
@pytest.mark.parametrize("loss", [WestonWatkins(), CrammerSinger()], ids=repr)
def test_a_misleading_start_grows_the_working_set(monkeypatch, loss, layout):
    # three times the optimum puts the samples on their margins at three
    # times it: held, they are found inside their margins at the first
    # round's solution and join the next; the answer is still the optimum
    objective, qp_value, cold, rounds = _optimum_and_spy(monkeypatch, loss, layout)
    result = InteriorPoint().solve(objective, 3 * cold.coef, tol=1e-8, max_iter=200)
    assert len(rounds) >= 2
    assert rounds == sorted(rounds) and rounds[0] < rounds[-1]
    assert result.converged, result.message
    assert result.value == pytest.approx(qp_value, rel=1e-7)
    assert result.n_iter <= 200


def test_the_rounds_share_max_iter(monkeypatch):
    # the steps of every round count: at most max_iter in all, and the bound
    # reported holds for the round kept
    objective = make_objective(CrammerSinger(), seed=7, n=90, d=3, n_classes=3, C=10.0)
    qp_value, _, _ = solve_qp(objective)
    cold = InteriorPoint().solve(objective, tol=1e-8, max_iter=200)
    for max_iter in (5, 12, 25):
        result = InteriorPoint().solve(
            objective, 3 * cold.coef, tol=1e-8, max_iter=max_iter
        )
        assert result.n_iter <= max_iter
        assert result.value == pytest.approx(objective.value(result.coef), rel=1e-14)
        assert result.optimality * result.value >= result.value - qp_value * (1 + 1e-8)


def _one_hot_blocks(n=150, blocks=6, levels=4, K=3, seed=0):
    """Categorical features one-hot encoded: each block of columns sums to
    1, so the rows span fewer dimensions than there are columns."""
    rng = np.random.default_rng(seed)
    categories = rng.integers(0, levels, size=(n, blocks))
    X = np.zeros((n, blocks * levels))
    X[np.arange(n)[:, None], categories + levels * np.arange(blocks)] = 1.0
    weights = rng.normal(size=(blocks * levels, K))
    codes = np.argmax(X @ weights + rng.normal(scale=0.5, size=(n, K)), axis=1)
    return X, codes


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("loss", [WestonWatkins(), CrammerSinger()], ids=repr)
def test_rank_deficient_rows_are_solved_in_a_basis_of_their_span(
    monkeypatch, loss, fit_intercept
):
    # W lies in the span of the rows: one-hot blocks (24 columns of rank
    # 19) are solved in a basis of it, to the same certified optimum
    from hinge_estimators import LinearObjective
    from hinge_estimators.solvers import _interior_point_solver

    X, codes = _one_hot_blocks()
    Y = np.where(codes[:, None] == np.arange(3), 1.0, -1.0)
    objective = LinearObjective(
        loss, X, codes if loss.is_multiclass else Y, n_outputs=3, C=5.0,
        fit_intercept=fit_intercept,
    )  # fmt: skip
    widths = _rows_per_round(monkeypatch, axis=1)
    in_basis = InteriorPoint().solve(objective, tol=1e-9, max_iter=200)
    assert widths and max(widths) < X.shape[1]
    monkeypatch.setattr(_interior_point_solver, "span_basis", lambda *args: None)
    widths.clear()
    plain = InteriorPoint().solve(objective, tol=1e-9, max_iter=200)
    assert min(widths) == X.shape[1]
    assert in_basis.converged and plain.converged
    assert in_basis.value == pytest.approx(plain.value, rel=1e-8)
    assert in_basis.value == pytest.approx(objective.value(in_basis.coef), rel=1e-12)


def test_a_stalled_squared_crammer_singer_fit_hands_over_and_converges():
    # dual CD crawls on the squared loss's dual at a large C as on the plain
    # one (iris at C = 1,000: 1,000 passes, a bound of 0.19); it hands over
    # to the interior point, which certifies the fit
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    loss = CrammerSinger(squared=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(loss=loss, C=1000.0).fit(X, y)
    assert model.optimality_ <= model.tol
    assert type(model.solver_).__name__ == "DualCoordinateDescent"
    # one-sided against another method's point: no P below the optimum
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        other = HingeClassifier(loss=loss, C=1000.0, solver="gd", tol=1e-8).fit(X, y)
    assert model.objective_value_ <= other.objective_value_ * (1 + model.tol)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_the_free_intercepts_are_centred(loss):
    # fixed only up to a common shift (the losses read score differences):
    # a squared Crammer-Singer fit, with no exact finish to centre them,
    # left them 1e-3 off between a weighted and a repeated-samples fit
    objective = make_objective(loss, seed=11, n=30, d=3, n_classes=3, C=10.0)
    result = InteriorPoint().solve(objective, tol=1e-8, max_iter=200)
    b = objective.split(result.coef)[1]
    assert abs(b.sum()) <= 1e-12 * np.abs(b).max()
