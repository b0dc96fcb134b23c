"""The Newton-CG solver, with either globalization (trust region, exact line
search): agreement with L-BFGS, an honest suboptimality certificate, the
Hessian fast path, refusals and estimator use."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeClassifier, LinearObjective
from hinge_estimators.losses import (
    CrammerSinger,
    GaussianHinge,
    Hinge,
    ModifiedHuber,
    SmoothHinge,
    SquaredHinge,
    WestonWatkins,
)
from hinge_estimators.solvers import LBFGS, TrustRegionNewton, get_solver

from ._problems import make_objective

SMOOTH = [
    SquaredHinge(),
    SmoothHinge(),
    GaussianHinge(),
    ModifiedHuber(),
    WestonWatkins(squared=True),
    WestonWatkins(smoothing=0.3),
    CrammerSinger(smoothing=0.4),
]
LAYOUTS = [
    dict(seed=0),
    dict(seed=1, sparse=True, weighted=True, n_classes=3),
    dict(seed=2, fit_intercept=False, C=10.0, dtype=np.float32),
    dict(seed=3, intercept_scaling=2.0, weighted=True, sparse=True),
    dict(seed=4, n_classes=3, weighted=True, dtype=np.float32),
    # unregularized, on overlapping classes so that the optimum is finite
    dict(seed=5, penalty=None, n=300, d=2),
]


def _reference_value(objective):
    """``P*`` from two solvers run to their tightest tolerance."""
    lbfgs = LBFGS().solve(objective, tol=1e-12, max_iter=20_000)
    newton = TrustRegionNewton().solve(objective, tol=1e-14, max_iter=1000)
    return min(lbfgs.value, newton.value), lbfgs


GLOBALIZATIONS = ["trust_region", "line_search"]


@pytest.mark.parametrize("globalization", GLOBALIZATIONS)
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda p: str(p))
@pytest.mark.parametrize("loss", SMOOTH, ids=repr)
def test_newton_agrees_with_lbfgs(loss, layout, globalization):
    objective = make_objective(loss, **layout)
    lbfgs = LBFGS().solve(objective, tol=1e-12, max_iter=20_000)
    newton = TrustRegionNewton(globalization).solve(objective, tol=1e-10, max_iter=1000)
    assert lbfgs.converged and newton.converged, newton.message
    assert newton.value == pytest.approx(objective.value(newton.coef), rel=1e-14)
    assert abs(newton.value - lbfgs.value) <= 1e-6 * abs(lbfgs.value)
    if objective.penalty is None:
        return  # the unregularized minimizer need not be unique
    W_newton, b_newton = objective.split(newton.coef)
    W_lbfgs, b_lbfgs = objective.split(lbfgs.coef)
    np.testing.assert_allclose(W_newton, W_lbfgs, rtol=1e-5, atol=1e-5)
    if loss.is_multiclass:  # scores only matter up to a common shift
        b_newton, b_lbfgs = b_newton - b_newton.mean(), b_lbfgs - b_lbfgs.mean()
    np.testing.assert_allclose(b_newton, b_lbfgs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("globalization", GLOBALIZATIONS)
@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6])
@pytest.mark.parametrize("layout", LAYOUTS[:5], ids=lambda p: str(p))
@pytest.mark.parametrize("loss", SMOOTH, ids=repr)
def test_certificate_bounds_the_true_relative_suboptimality(
    loss, layout, tol, globalization
):
    objective = make_objective(loss, **layout)
    p_star, _ = _reference_value(objective)
    result = TrustRegionNewton(globalization).solve(objective, tol=tol, max_iter=1000)
    assert result.converged, result.message
    assert result.optimality <= tol
    assert result.value == pytest.approx(objective.value(result.coef), rel=1e-14)
    true = (result.value - p_star) / abs(result.value)
    assert true <= result.optimality + 1e-12


def _dense_hessian(objective, coef):
    """Hessian of a binary, one-column objective from ``loss.hessian`` and X."""
    X = objective.X.toarray() if sp.issparse(objective.X) else objective.X
    A = np.hstack([X, np.ones((X.shape[0], 1))]) if objective.fit_intercept else X
    z = objective.scores(coef)[:, 0]
    curvature = objective.loss.hessian(objective.y[:, 0], z)
    D = objective.loss_scale * objective.sample_weight * curvature
    H = A.T @ (D[:, None] * A)
    H[np.diag_indices(objective.n_features)] += objective.reg
    if objective.fit_intercept:
        H[-1, -1] += objective.intercept_penalty
    return H


def test_decrement_is_the_exact_suboptimality_of_the_squared_hinge():
    # Near the optimum, where no margin crosses 1, P is exactly quadratic: the
    # suboptimality equals 1/2 g^T H^-1 g, and the solver measures it by CG.
    objective = make_objective(SquaredHinge(), seed=7, n=60, d=4, weighted=True)
    p_star, reference = _reference_value(objective)
    w_star = reference.coef
    margins = objective.y[:, 0] * objective.scores(w_star)[:, 0]
    gap = np.min(np.abs(1.0 - margins))
    X = objective.X
    row_norms = np.sqrt(np.sum(X * X, axis=1) + 1.0)
    direction = np.random.default_rng(0).normal(size=objective.size)
    direction /= np.linalg.norm(direction)
    w = w_star + 0.25 * gap / row_norms.max() * direction
    assert np.all(
        np.sign(1.0 - objective.y[:, 0] * objective.scores(w)[:, 0])
        == np.sign(1.0 - margins)
    )
    value, grad = objective.value_and_gradient(w)
    decrement = 0.5 * grad @ np.linalg.solve(_dense_hessian(objective, w), grad)
    assert decrement == pytest.approx(value - p_star, rel=1e-6)
    # warm started there with a tol the point meets, the solver certifies it
    # without iterating, reports its measured decrement, and the certifying
    # (inexact) Newton step removes nearly all of the suboptimality
    tol = 8 * decrement / value
    result = TrustRegionNewton().solve(objective, w, tol=tol, max_iter=100)
    assert result.converged and result.n_iter == 0
    assert result.optimality == pytest.approx(4 * decrement / value, rel=1e-3)
    assert result.value - p_star <= 1e-3 * (value - p_star)


@pytest.mark.parametrize(
    "layout",
    [
        dict(seed=0),
        dict(seed=1, sparse=True, n_classes=3),
        dict(seed=2, fit_intercept=False),
        dict(seed=3, intercept_scaling=0.5, sparse=True),
        dict(seed=4, penalty=None, n_classes=3),
    ],
    ids=str,
)
def test_hessian_fast_path_drops_inactive_rows_correctly(layout):
    loss = SquaredHinge()
    objective = make_objective(loss, weighted=True, **layout)
    objective.sample_weight[::7] = 0.0  # zero weights are dropped too
    rng = np.random.default_rng(1)
    coef = rng.normal(scale=0.5, size=objective.size)
    curvature = loss.hessian(objective.y, objective.scores(coef))
    D = objective.loss_scale * objective.sample_weight[:, None] * curvature
    assert 0 < np.count_nonzero(D.any(axis=1)) < objective.n_samples
    # reference: every row, dense X, no slicing
    X = objective.X.toarray() if sp.issparse(objective.X) else objective.X
    hessp = objective.hessian_operator(coef)
    for _ in range(3):
        v = rng.normal(size=objective.size)
        V, c = objective.split(v)
        G = D * (X @ V.T + c)
        expected_W = X.T @ G + objective.reg * V.T
        expected = [expected_W.T.ravel()]
        if objective.fit_intercept:
            expected.append(G.sum(axis=0) + objective.intercept_penalty * c)
        np.testing.assert_allclose(
            hessp(v), np.concatenate(expected), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize(
    "layout",
    [
        dict(seed=5),
        dict(seed=6, fit_intercept=False),
        dict(seed=7, intercept_scaling=0.5),
        dict(seed=8, penalty=None),
    ],
    ids=str,
)
@pytest.mark.parametrize("centered", [False, True])
def test_compiled_sparse_hessian_equals_the_dense_one(layout, centered):
    # one column of CSR data goes through the compiled product and diagonal
    # (_sparse_products); dense X through numpy: the same H, the same diag(H)
    loss = SquaredHinge()
    sparse = make_objective(loss, sparse=True, weighted=True, **layout)
    sparse.X = sparse.X + sp.csr_matrix(np.eye(*sparse.X.shape)[::-1] * 3.0)
    sparse.sample_weight[::7] = 0.0
    dense = sparse._copy()
    dense.X = sparse.X.toarray()
    if centered:
        sparse, dense = sparse.centered(), dense.centered()
    rng = np.random.default_rng(2)
    coef = rng.normal(scale=0.5, size=sparse.size)
    compiled, reference = sparse.hessian_operator(coef), dense.hessian_operator(coef)
    size = sparse.size
    H = np.column_stack([reference(e) for e in np.eye(size)])
    assert np.any(H != 0)
    for v in np.vstack([np.eye(size), rng.normal(size=(3, size))]):
        np.testing.assert_allclose(compiled(v), H @ v, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(compiled.diagonal(), np.diag(H), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("preconditioned", [False, True])
@pytest.mark.parametrize("centered", [False, True])
def test_compiled_cg_takes_the_steps_of_the_python_cg(preconditioned, centered):
    # the line search's directions on CSR data run CsrHessian.newton_cg; it
    # must be _steihaug without a radius, step for step (same s, residual,
    # status and number of products), and report its products to a meter
    from hinge_estimators.solvers._dual_cd_finish import _metered
    from hinge_estimators.solvers._newton import SHIFT, _direction, _steihaug

    objective = make_objective(SmoothHinge(gamma=0.5), seed=11, n=60, d=6,
                               sparse=True, weighted=True)  # fmt: skip
    objective = objective.centered() if centered else objective
    rng = np.random.default_rng(3)
    coef = rng.normal(scale=0.3, size=objective.size)
    hessp = objective.hessian_operator(coef)
    g = rng.normal(size=objective.size)
    M = hessp.diagonal() if preconditioned else np.zeros(0)
    for cg_tol, max_steps in [(1e-8, 100), (1e-8, 2)]:
        s, r, code, steps = hessp.csr.newton_cg(g, cg_tol, max_steps, M, SHIFT)
        products = []

        def plain(v, products=products):  # no .csr: the Python loop
            products.append(1)
            return hessp(v)

        s_py, r_py, status = _steihaug(
            plain, g, np.inf, cg_tol, max_steps,
            preconditioner=M if preconditioned else None,
        )  # fmt: skip
        assert ("solved", "boundary", "capped")[code] == status
        assert steps == len(products)
        np.testing.assert_allclose(s, s_py, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(r, r_py, rtol=1e-7, atol=1e-9 * np.abs(g).max())
        # the residual is the true one (up to the 1e-10 relative shift)
        np.testing.assert_allclose(r, -(g + hessp(s)), atol=1e-8 * np.abs(g).max())
    meter = [0.0, np.inf]
    metered = _metered(objective, meter).hessian_operator(coef)
    _direction(metered, g, 1e-8, 100)
    assert meter[0] > 0  # the compiled products were charged


@pytest.mark.parametrize("globalization", GLOBALIZATIONS)
def test_singular_hessian_is_handled(globalization):
    # Unregularized smooth hinge at 0: every margin sits where the curvature
    # is 0, so the first model is linear: only the trust region bounds it, or
    # the line search along CG's first (descent) direction
    objective = make_objective(SmoothHinge(), seed=5, penalty=None, n=300, d=2)
    hessp = objective.hessian_operator(objective.zeros())
    assert not np.any(hessp(np.ones(objective.size)))
    result = TrustRegionNewton(globalization).solve(objective, tol=1e-10, max_iter=1000)
    reference = LBFGS().solve(objective, tol=1e-12, max_iter=20_000)
    assert result.converged
    assert result.value == pytest.approx(reference.value, rel=1e-9)


def test_warm_start_at_the_optimum_takes_no_iteration():
    objective = make_objective(GaussianHinge(), seed=11, weighted=True)
    first = TrustRegionNewton().solve(objective, tol=1e-10, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = TrustRegionNewton().solve(
            objective, first.coef, tol=1e-8, max_iter=1000
        )
    assert again.converged and again.n_iter == 0
    assert again.value <= first.value


def test_history_callback_and_max_iter():
    objective = make_objective(SmoothHinge(gamma=0.3), seed=10, C=100.0)
    calls = []
    result = TrustRegionNewton().solve(
        objective, tol=1e-14, max_iter=3, callback=lambda k, v: calls.append((k, v))
    )
    assert not result.converged and "max_iter" in result.message
    assert result.n_iter == 3 == len(result.history)
    assert calls == list(enumerate(result.history, start=1))
    assert np.all(np.diff(result.history) <= 0)  # accepted steps only lower P
    assert result.value == result.history[-1]


@pytest.mark.parametrize(
    "loss", [Hinge(), CrammerSinger(), WestonWatkins(), CrammerSinger(squared=True)]
)
def test_non_smooth_losses_are_refused_with_advice(loss):
    pattern = r"TrustRegionNewton needs a smooth loss.*solver='dual_cd'.*'gd'"
    with pytest.raises(ValueError, match=pattern):
        TrustRegionNewton().check_loss(loss)
    with pytest.raises(ValueError, match=pattern):
        get_solver("newton", loss)


def test_max_cg_iter_is_validated():
    assert TrustRegionNewton(max_cg_iter=5).validate().max_cg_iter == 5
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="max_cg_iter"):
            TrustRegionNewton(max_cg_iter=bad).validate()
    with pytest.raises(ValueError, match="globalization.*trust_region"):
        TrustRegionNewton(globalization="wolfe").validate()


def test_auto_globalization_follows_the_loss():
    solver = TrustRegionNewton()
    for loss in (SquaredHinge(), ModifiedHuber(), SmoothHinge()):
        assert solver._line_search(loss)
    assert solver._line_search(WestonWatkins(squared=True))
    assert not solver._line_search(GaussianHinge())  # curvature varies everywhere
    assert not solver._line_search(CrammerSinger(smoothing=0.4))
    from hinge_estimators.losses import PairwiseSquaredHinge

    assert not solver._line_search(PairwiseSquaredHinge())  # see _line_search
    assert TrustRegionNewton("line_search")._line_search(GaussianHinge())
    assert not TrustRegionNewton("trust_region")._line_search(SquaredHinge())


@pytest.mark.parametrize("loss", [SquaredHinge(), GaussianHinge()], ids=repr)
@pytest.mark.parametrize("layout", LAYOUTS[:5], ids=lambda p: str(p))
def test_exact_step_is_the_minimizer_along_the_direction(loss, layout):
    from scipy.optimize import minimize_scalar

    from hinge_estimators.solvers._newton import _exact_step

    objective = make_objective(loss, **layout)
    rng = np.random.default_rng(3)
    w = rng.normal(scale=0.3, size=objective.size)
    s = -objective.gradient(w) + 0.3 * rng.normal(size=objective.size)
    slope = objective.gradient(w) @ s
    assert slope < 0
    t, direction_scores = _exact_step(objective, w, objective.scores(w), s, slope)
    np.testing.assert_allclose(direction_scores, objective.scores(s))
    # an independent 1-D minimization of P itself, by bounded Brent
    reference = minimize_scalar(
        lambda u: objective.value(w + u * s),
        bounds=(0.0, 4.0 * t),
        method="bounded",
        options={"xatol": 1e-10 * t},
    ).x
    assert t == pytest.approx(reference, rel=1e-5)
    # and the derivative along s vanishes there
    along = objective.gradient(w + t * s) @ s
    assert abs(along) <= 1e-9 * abs(slope)
    assert _exact_step(objective, w, objective.scores(w), -s, -slope)[0] == 0.0


def test_exact_step_newton_lands_on_the_minimizers_piece(monkeypatch):
    # P(t) = t^2 / 2 + C sum_i (1 - x_i t)_+^2 along w = t (one feature, both
    # labels +1): x = 4 leaves the margin at t = 0.25, x = 0.5 at t = 2, so
    # on [0.25, 2) the derivative is t (1 + C / 2) - C and the minimizer is
    # C / (1 + C / 2) = 6/7 for C = 1.5. t = 1 lies on that piece and t = 0
    # does not: a Newton step from t = 1 is exact, a secant through 0 is not
    # (the regula falsi alone took 8 passes here)
    import hinge_estimators.solvers._newton as newton

    objective = LinearObjective(
        SquaredHinge(),
        np.array([[0.5], [4.0]]),
        np.array([1.0, 1.0]),
        n_outputs=1,
        C=1.5,
        fit_intercept=False,
    )
    passes = []
    real = newton.line_slope

    def counted(*args):
        passes.append(args[-1])
        return real(*args)

    monkeypatch.setattr(newton, "line_slope", counted)
    w, s = np.zeros(1), np.ones(1)
    slope = objective.gradient(w) @ s
    t, _ = newton._exact_step(objective, w, objective.scores(w), s, slope)
    assert t == pytest.approx(6.0 / 7.0, rel=1e-12)
    assert len(passes) <= 2, passes


def test_exact_step_does_not_stop_on_a_kink_beside_t():
    # along w + t s: sample A's margin a t, sample E's 1 + M (1 - eps - t),
    # which enters the squared hinge's active set at t = 1 - 1e-13 with a
    # curvature of 2 M^2 = 2e13. At t = 1 that curvature makes the Newton
    # move tiny (under 1e-12) though the derivative is half the initial
    # slope; the minimizer is where A alone balances the penalty, t = 2/3
    from hinge_estimators.solvers._newton import _exact_step

    M, eps, a = np.sqrt(1e13), 1e-13, 0.5
    objective = LinearObjective(
        SquaredHinge(),
        np.array([[a, 0.0], [-M, 1.0 + M * (1.0 - eps)]]),
        np.array([1.0, 1.0]),
        n_outputs=1,
        C=1.0,
        fit_intercept=False,
    )
    w, s = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    slope = objective.gradient(w) @ s
    t, _ = _exact_step(objective, w, objective.scores(w), s, slope)
    # P(t) = t^2 / 2 + 1/2 + (1 - a t)^2 on [0, 1 - eps]: P'(t) = 1.5 t - 1
    assert t == pytest.approx(2.0 / 3.0, rel=1e-9)
    assert abs(objective.gradient(w + t * s) @ s) <= 1e-9 * abs(slope)


def test_line_search_finishes_where_the_trust_region_stalls():
    # standardized digits, 3 against the rest, squared hinge, C = 100: nearly
    # separable, so the curvature 2 C x x^T of a sample vanishes as soon as it
    # leaves the margin and TRON's radius keeps collapsing (600 iterations;
    # LIBLINEAR's primal solver stops at its 1000). Newton directions with
    # exact line searches end in tens of steps (Keerthi and DeCoste).
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = np.where(y == 3, 1.0, -1.0)[:, None]
    from hinge_estimators import LinearObjective

    objective = LinearObjective(SquaredHinge(), X, y, n_outputs=1, C=100.0)
    result = TrustRegionNewton("line_search").solve(objective, tol=1e-8, max_iter=100)
    assert result.converged, result.message
    assert result.n_iter <= 100
    # the optimum, from an independent solver run to its tightest tolerance
    reference = LBFGS().solve(objective, tol=1e-12, max_iter=100_000)
    assert result.value <= reference.value * (1 + 1e-8)
    g_ref = np.linalg.norm(objective.gradient(objective.zeros()))
    assert np.linalg.norm(objective.gradient(result.coef)) <= 1e-6 * g_ref


def test_estimator_resolves_newton_dense_and_sparse():
    X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    X[np.abs(X) < 0.5] = 0.0
    # tol bounds P - P* relative to P (about 110 here), so it pins the
    # coefficients to sqrt(2 tol P) only (P is 1-strongly convex): 1e-14
    # for the 1e-6 agreement below
    params = dict(loss="squared_hinge", C=3.0, tol=1e-14)
    dense = HingeClassifier(solver="newton", **params).fit(X, y)
    sparse = HingeClassifier(solver="newton", **params).fit(sp.csr_matrix(X), y)
    lbfgs = HingeClassifier(solver="lbfgs", **{**params, "tol": 1e-12}).fit(X, y)
    assert isinstance(dense.solver_, TrustRegionNewton)
    assert dense.solver_.name == "newton"
    assert dense.optimality_ <= 1e-14
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dense.coef_, lbfgs.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dense.intercept_, lbfgs.intercept_, atol=1e-7)
    assert dense.score(X, y) > 0.8


def test_estimator_warns_when_max_iter_is_too_small():
    X, y = make_classification(n_samples=200, n_features=8, random_state=1)
    clf = HingeClassifier(
        loss="squared_hinge", solver="newton", C=100.0, tol=1e-12, max_iter=1
    )
    with pytest.warns(ConvergenceWarning, match="TrustRegionNewton did not converge"):
        clf.fit(X, y)
    assert clf.n_iter_ == 1


@pytest.mark.parametrize("seed", range(5))
def test_newton_finish_stays_bounded_along_a_null_direction(seed):
    # Squared Weston-Watkins with a free intercept only sees score
    # differences: H is singular along "every intercept + c". Near the optimum
    # the gradient's rounding error along that direction used to be divided by
    # a rounding-size curvature (a CG direction of norm 1e16): the finish then
    # either stalled (no step lowered the gradient: seeds 0 and 2 here) or,
    # under other BLAS rounding, walked the intercepts to 1e163. The finish
    # must reach the optimum, move by a bounded amount and not raise P.
    from hinge_estimators.solvers._newton_finish import newton_finish

    objective = make_objective(WestonWatkins(squared=True), seed=seed, n_classes=3)
    optimum = TrustRegionNewton().solve(objective, tol=1e-14, max_iter=100).coef
    g_ref = np.linalg.norm(objective.gradient(objective.zeros()))
    rng = np.random.default_rng(seed)
    for size in [1e-9, 1e-11, 1e-12, 1e-13]:
        start = optimum + size * rng.standard_normal(optimum.shape)
        coef, _, optimality = newton_finish(objective, start, g_ref=g_ref, tol=1e-17)
        assert np.all(np.isfinite(coef))
        assert optimality <= 1e-15
        assert np.abs(coef - start).max() <= 1e-6
        value = objective.value(start)
        assert objective.value(coef) <= value + 1e-12 * value


# -- issue 13: answers certified or flagged (cases found by the fuzz suite) ---
def _fuzz_ok(**kw):
    from ._fuzz_inputs import Case
    from ._fuzz_oracle import run_case

    outcome = run_case(Case(**kw))
    assert outcome.ok, f"{outcome.kind}: {outcome.detail}"


def test_newton_is_shift_invariant_and_certifies_on_shifted_features():
    # uncentered, the intercept's column is nearly collinear with X + 1e8:
    # Newton's decrement certified P = 1261 against P* = 601.7
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] + 0.5 * rng.normal(size=40) > 0
    kw = dict(loss="smooth_hinge", C=100.0, solver="newton")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        plain = HingeClassifier(**kw).fit(X, y)
        shifted = HingeClassifier(**kw).fit(X + 1e8, y)
    np.testing.assert_allclose(shifted.coef_, plain.coef_, rtol=1e-4, atol=1e-6)
    _fuzz_ok(
        category="offsets",
        loss="smooth_hinge",
        est_kw=(("C", 100.0),),
        seed=70363,
        n=6,
        separation=0.5,
        offset_exp=8,
    )


def test_newton_flags_a_stall_without_a_decrement():
    # penalty=None, no intercept: CG ends capped, optimality_ is inf, and a
    # small gradient is no bound without strong convexity: flag it
    _fuzz_ok(
        loss="pairwise_square",
        solver="newton",
        est_kw=(("fit_intercept", False), ("penalty", None)),
        n=6,
        d=6,
        separation=0.5,
    )


def test_steihaug_on_a_zero_radius_does_not_divide_by_zero():
    from hinge_estimators.solvers._newton import _steihaug

    g = np.array([1.0, -2.0])
    with np.errstate(all="raise"):
        s, r, status = _steihaug(lambda v: v, g, 0.0, 1e-12, 10)
    assert status == "boundary"
    np.testing.assert_array_equal(s, 0.0)
    np.testing.assert_array_equal(r, -g)


@pytest.mark.parametrize(
    "kw",
    [
        dict(
            category="scales",
            solver="newton",
            est_kw=(("C", 0.01),),
            seed=155800,
            n=6,
            x_exp=6,
        ),
        dict(
            category="scales",
            loss="gaussian_hinge",
            loss_kw=(("sigma", 0.05),),
            solver="newton",
            seed=3,
            n=6,
            d=1,
            separation=3.0,
            x_exp=6,
        ),
    ],
    ids=["squared_hinge", "gaussian_hinge"],
)
def test_newton_never_understates_on_separable_data_scaled_by_1e6(kw):
    # the decrement reported 3e-12 at 20x the optimum: the reported
    # optimality is now the strong-convexity bound (issue 13, N2)
    _fuzz_ok(**kw)


@pytest.mark.parametrize("globalization", GLOBALIZATIONS)
@pytest.mark.parametrize("loss", [SquaredHinge(), ModifiedHuber()], ids=repr)
def test_warm_start_within_tol_is_certified_by_the_gap_without_a_hessian(
    loss, globalization
):
    # a regularization path's start: the optimum at a nearby C. Its duality
    # gap is within tol, so no Newton direction is needed (the decrement's
    # test solved one CG system to certify it)
    objective = make_objective(loss, seed=0)
    nearby = objective.with_C(objective.C / 1.01)
    start = TrustRegionNewton().solve(nearby, tol=1e-14, max_iter=100).coef
    p_star, _ = _reference_value(objective)
    hessians = []
    counted = objective.centered()  # solved as it is (already centered)
    operator = counted.hessian_operator
    counted.hessian_operator = lambda coef: hessians.append(1) or operator(coef)
    result = TrustRegionNewton(globalization).solve(
        counted, counted.center_coef(start), tol=1e-4, max_iter=100
    )
    assert result.converged and result.n_iter == 0, result.message
    assert not hessians
    true = (result.value - p_star) / abs(result.value)
    assert true <= result.optimality <= 1e-4


@pytest.mark.parametrize(
    "loss", [SquaredHinge(), SmoothHinge(gamma=0.4), ModifiedHuber()], ids=repr
)
@pytest.mark.parametrize("layout", LAYOUTS[:3], ids=lambda p: str(p))
def test_compiled_line_derivative_matches_numpy(loss, layout):
    # the exact line search's compiled derivative (line_slope) against the
    # numpy loss gradient it replaces, at points on and off the kinks
    from hinge_estimators.solvers._newton import _compiled_line

    objective = make_objective(loss, **layout)
    if objective.n_outputs > 1:  # Newton solves one-vs-rest column by column
        assert (
            _compiled_line(objective, *[objective.scores(objective.zeros())] * 2)
            is None
        )
        objective = objective.column(1)
    rng = np.random.default_rng(5)
    w = rng.normal(scale=0.5, size=objective.size)
    s = rng.normal(size=objective.size)
    scores, direction = objective.scores(w), objective.scores(s)
    along = _compiled_line(objective, scores, direction)
    assert along is not None
    for t in (0.0, 0.3, 1.0, 2.7):
        _, G = objective.score_gradient_from_scores(scores + t * direction)
        expected = float(np.sum(G * direction))
        slope, curvature = along(t)
        assert slope == pytest.approx(expected, rel=1e-12, abs=1e-12)
        # the slope's own derivative (what the search's Newton steps use),
        # by central differences of numpy's gradient (the pieces are wide
        # against h: no kink of these random margins falls within it)
        h = 1e-6
        _, G_up = objective.score_gradient_from_scores(scores + (t + h) * direction)
        _, G_down = objective.score_gradient_from_scores(scores + (t - h) * direction)
        numeric = float(np.sum((G_up - G_down) * direction)) / (2 * h)
        assert curvature == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_compiled_line_only_where_it_has_the_formula():
    from hinge_estimators.solvers._newton import _compiled_line

    for loss, n_classes in ((GaussianHinge(), 2), (WestonWatkins(squared=True), 3)):
        objective = make_objective(loss, n_classes=n_classes)
        scores = objective.scores(objective.zeros())
        assert _compiled_line(objective, scores, scores) is None


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_formed_hessian_is_the_operators_matrix(fit_intercept, weighted, offset):
    # the dense one-column operator's formed matrix (BLAS products over
    # blocks of rows, centered on each block) against its own products; far
    # from 0 a rank-two correction of X^T D X would cancel to ~1e-4
    objective = make_objective(
        SquaredHinge(), n=300, d=7, fit_intercept=fit_intercept, weighted=weighted
    )
    objective.X = objective.X + offset
    objective = objective.centered() if fit_intercept else objective
    rng = np.random.default_rng(4)
    w = rng.normal(scale=0.3, size=objective.size)
    product = objective.hessian_operator(w)
    assert product.form.size == objective.size
    H = product.form()
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())
    for _ in range(3):
        v = rng.normal(size=objective.size)
        expected = product(v)
        # far from 0 both sides round the centering at ~1e-9 (the products
        # subtract mu . w from each score): still 1e5 times below the
        # cancellation of an uncentered X^T D X
        rtol = 1e-10 if offset == 0 else 1e-6
        np.testing.assert_allclose(
            H @ v, expected, rtol=rtol, atol=rtol * np.abs(expected).max()
        )
    # sparse rows and several columns keep CG's products only
    sparse = make_objective(SquaredHinge(), n=300, d=7, sparse=True)
    assert not hasattr(sparse.hessian_operator(sparse.zeros()), "form")
    three = make_objective(SquaredHinge(), n=300, d=7, n_classes=3)
    assert not hasattr(three.hessian_operator(three.zeros()), "form")


def test_newton_factorizes_the_formed_hessian_once_cg_takes_many_products(
    monkeypatch,
):
    # correlated features, large C: CG takes tens of products a step, so the
    # steps after the first factorize the formed matrix; the optimum is the
    # one the products alone reach
    import hinge_estimators.solvers._newton as newton

    X, y = make_classification(
        2000, 40, n_informative=30, n_redundant=8, flip_y=0.05, random_state=0
    )
    X = X @ np.random.default_rng(0).normal(size=(40, 40))  # ill-conditioned
    kinds = []
    real = newton._direction

    def recorded(hessp, g, cg_tol, max_steps):
        kinds.append("formed" if hasattr(hessp, "matrix") else "cg")
        return real(hessp, g, cg_tol, max_steps)

    monkeypatch.setattr(newton, "_direction", recorded)
    params = dict(C=10.0, solver="newton", tol=1e-10, max_iter=200)
    formed = HingeClassifier(**params).fit(X, y)
    assert kinds[0] == "cg" and "formed" in kinds
    assert kinds[kinds.index("formed") :] == ["formed"] * (
        len(kinds) - kinds.index("formed")
    )  # once formed, to the end
    kinds.clear()
    import hinge_estimators._objective as objective_module

    monkeypatch.setattr(objective_module, "FORMED_HESSIAN_MAX", 0)  # CG only
    products = HingeClassifier(**params).fit(X, y)
    assert set(kinds) == {"cg"}
    assert formed.objective_value_ == pytest.approx(products.objective_value_, rel=1e-9)
    # a well-conditioned problem (a few products a step) never forms it
    kinds.clear()
    monkeypatch.setattr(objective_module, "FORMED_HESSIAN_MAX", 1024)
    X2, y2 = make_classification(
        2000, 5, n_informative=5, n_redundant=0, random_state=1
    )
    HingeClassifier(C=0.1, solver="newton").fit(X2, y2)
    assert set(kinds) == {"cg"}


def test_a_crawling_squared_weston_watkins_goes_to_the_interior_point(monkeypatch):
    # on near-separable data at a large C newton crawled (digits at C = 100:
    # 101 iterations, 15 s; splice at C = 1,000: 364, 416 s): after
    # HANDOVER_ITERATIONS the interior point takes over, certified
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    from hinge_estimators.solvers import _interior_point_solver, _newton

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    handed = []
    real = _interior_point_solver.InteriorPoint.solve

    def spy(self, *args, **kwargs):
        handed.append(kwargs["max_iter"])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_interior_point_solver.InteriorPoint, "solve", spy)
    loss = WestonWatkins(squared=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(loss=loss, C=10.0).fit(X, y)
    assert handed and isinstance(model.solver_, TrustRegionNewton)
    assert _newton.HANDOVER_ITERATIONS < model.n_iter_ <= model.max_iter
    assert model.optimality_ <= model.tol
    # against L-BFGS's point and its own bound (P* lies between)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        other = HingeClassifier(loss=loss, C=10.0, solver="lbfgs", tol=1e-6).fit(X, y)
    low = other.objective_value_ * (1 - other.optimality_)
    assert low <= model.objective_value_ <= other.objective_value_ * (1 + model.tol)


def test_newton_keeps_a_squared_weston_watkins_fit_it_converges_on(monkeypatch):
    # tall data: newton converges in a few iterations (4 on 100,000 x 30, 8
    # classes, where the interior point is 4-6 times slower); no hand-over
    from hinge_estimators.solvers import _interior_point_solver

    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 3000)
    X = rng.normal(size=(4, 6))[y] * 0.7 + rng.normal(size=(3000, 6))
    handed = []
    monkeypatch.setattr(
        _interior_point_solver.InteriorPoint, "solve", lambda *a, **k: handed.append(1)
    )
    model = HingeClassifier(loss=WestonWatkins(squared=True), C=1.0).fit(X, y)
    assert not handed and model.optimality_ <= model.tol


@pytest.mark.parametrize("max_iter", [5, 10, 12, 20])
def test_a_small_max_iter_keeps_newton_whole(monkeypatch, max_iter):
    # with too few iterations left for the interior point it stopped near its
    # centre (P 1e10 where Newton's was 5) or took every iteration Newton
    # would have used: below HANDOVER_ITERATIONS + HANDOVER_MIN_STEPS the fit
    # is Newton's own
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    from hinge_estimators.solvers import _newton

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:600])
    y = y[:600]
    params = dict(loss=WestonWatkins(squared=True), C=10.0, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = HingeClassifier(**params).fit(X, y)
        monkeypatch.setattr(_newton, "_interior_point_takes", lambda objective: False)
        alone = HingeClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(model.coef_, alone.coef_)
    assert model.n_iter_ == alone.n_iter_ == max_iter


def test_a_decrement_stopped_short_of_the_bound_goes_on_with_lbfgs():
    # near-separable columns at a large C: many samples at the modified
    # Huber loss's curvature breakpoint, where the generalized Hessian
    # shrinks Newton's steps and its decrement long before the optimum
    # (digits at C = 1e4 ended with a bound of 0.029; optdigits at C =
    # 1,000, 1.9e-3 on one column): L-BFGS goes on from Newton's point
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(loss="modified_huber", C=1e4).fit(X, y)
    assert isinstance(model.solver_, TrustRegionNewton)
    assert model.optimality_ <= model.tol
    # one-sided against L-BFGS alone (no P of any method lies below P*)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        other = HingeClassifier(
            loss="modified_huber", C=1e4, solver="lbfgs", tol=1e-8
        ).fit(X, y)
    assert model.objective_value_ <= other.objective_value_ * (1 + model.tol)
