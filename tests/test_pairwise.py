"""Pairwise (all-pairs) losses against the naive O(n^2) sums over pairs.

The O(n log n) sweeps of the squared and smoothed hinges and the O(n)
centred sums of the square loss share nothing with the reference below, which
builds the (positive x negative) matrix of violations, applies each loss's
formula to every pair, and the Hessian as an explicit n x n matrix, by
broadcasting. Then the objective (finite differences), the
solvers (three algorithms agree), the estimator (refusals, threshold,
sample-weight equivalence).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeClassifier, LinearObjective
from hinge_estimators.losses import (
    LOSSES,
    PairwiseLoss,
    PairwiseSmoothHinge,
    PairwiseSquare,
    PairwiseSquaredHinge,
)
from hinge_estimators.solvers import (
    LBFGS,
    GradientDescent,
    TrustRegionNewton,
    auto_solver,
    get_solver,
)

from ._problems import make_objective

PAIRWISE = [cls() for cls in LOSSES.values() if cls.is_pairwise]
VARIANTS = PAIRWISE + [
    PairwiseSquaredHinge(margin=0.5),
    PairwiseSquare(margin=2.0),
    PairwiseSmoothHinge(gamma=0.25, margin=0.5),
    PairwiseSmoothHinge(gamma=4.0),
]
SETTINGS = settings(max_examples=100, deadline=None)
# Multiples of 1/8 in [-4, 4]: sums and differences with the margins drawn
# below are exact, so ties m - (s_i - s_j) = 0 are exact in both formulas.
GRID = st.integers(-32, 32).map(lambda k: k / 8)
SCORE = st.floats(-5, 5, allow_nan=False, allow_subnormal=False)
MARGINS = st.sampled_from([0.0, 0.5, 0.75, 1.0, 2.0])
# band widths on the same grid, so that the band's ends are decided exactly
GAMMAS = st.sampled_from([0.125, 0.5, 1.0, 3.0])
# each pairwise loss, from a drawn margin and band width
FACTORIES = {
    "squared_hinge": lambda margin, gamma: PairwiseSquaredHinge(margin=margin),
    "square": lambda margin, gamma: PairwiseSquare(margin=margin),
    "smooth_hinge": lambda margin, gamma: PairwiseSmoothHinge(gamma, margin),
}


def test_registry_has_the_pairwise_losses():
    names = {"pairwise_squared_hinge", "pairwise_square", "pairwise_smooth_hinge"}
    assert names <= set(LOSSES)
    for loss in PAIRWISE:
        assert isinstance(loss, PairwiseLoss)
        assert loss.is_pairwise and loss.is_smooth and not loss.is_multiclass


# ------------------------------------------------------------- the reference
def pair_terms(loss, d):
    """``phi(d)``, ``phi'(d)``, ``phi''(d)`` of each pair's violation ``d``."""
    if isinstance(loss, PairwiseSquaredHinge):
        active = d > 0
        return np.where(active, d * d, 0.0), np.where(active, 2 * d, 0.0), 2.0 * active
    if isinstance(loss, PairwiseSmoothHinge):
        g = loss.gamma
        band = (d > 0) & (d < g)
        value = np.where(d <= 0, 0.0, np.where(d < g, d * d / (2 * g), d - g / 2))
        slope = np.where(d <= 0, 0.0, np.where(d < g, d / g, 1.0))
        return value, slope, band / g
    return d * d, 2 * d, np.full(np.shape(d), 2.0)


def naive(loss, y, s, w):
    """Value, gradient and Hessian matrix by explicit pairs (O(n^2) memory)."""
    y, s = np.ravel(y), np.ravel(s)
    w = np.ones_like(s) if w is None else np.asarray(w, dtype=float)
    P, N = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    wp, wn = w[P], w[N]
    factor = w.sum() / (wp.sum() * wn.sum())
    violation = loss.margin - (s[P][:, None] - s[N][None, :])
    phi, dphi, d2phi = pair_terms(loss, violation)
    pair_w = factor * wp[:, None] * wn[None, :]
    value = np.sum(pair_w * phi)
    grad = np.zeros_like(s)
    grad[P] = -(pair_w * dphi).sum(axis=1)
    grad[N] = (pair_w * dphi).sum(axis=0)
    curv = pair_w * d2phi
    H = np.zeros((s.size, s.size))
    H[P, P] += curv.sum(axis=1)
    H[N, N] += curv.sum(axis=0)
    H[np.ix_(P, N)] -= curv
    H[np.ix_(N, P)] -= curv.T
    # magnitudes that bound the rounding error of either formula: every
    # violation is computed to about eps * (m + 2 max|s|), and moves phi and
    # phi' by at most smoothness (sup phi'') times that
    span = loss.margin + 2.0 * np.abs(s).max()
    lip = loss.smoothness()
    grad_scale = np.zeros_like(s)
    grad_scale[P] = lip * span * pair_w.sum(axis=1)
    grad_scale[N] = lip * span * pair_w.sum(axis=0)
    value_scale = lip * span * span * pair_w.sum()
    return value, grad, H, value_scale, grad_scale


def _close(fast, slow, scale):
    """Relative 1e-10, plus 1e-13 of the scale at which scores are rounded."""
    fast, slow = np.asarray(fast), np.asarray(slow)
    assert np.all(np.abs(fast - slow) <= 1e-10 * np.abs(slow) + 1e-13 * scale), (
        fast,
        slow,
    )


@st.composite
def pair_problems(draw, grid_only=False):
    """``(y, scores, weights)``: both classes present, ties and equal scores."""
    n = draw(st.integers(2, 12))
    y = draw(arrays(np.float64, n, elements=st.sampled_from([-1.0, 1.0])))
    y[0], y[1] = 1.0, -1.0
    y = y[draw(st.permutations(range(n)))]
    layout = draw(st.sampled_from(["mixed", "grid", "equal"]))
    if layout == "equal":
        s = np.full(n, draw(GRID if grid_only else SCORE))
    else:
        elements = GRID if grid_only or layout == "grid" else st.one_of(GRID, SCORE)
        s = draw(arrays(np.float64, n, elements=elements))
    if draw(st.booleans()):
        w = None
    else:
        w = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.5, 1, 2.5])))
        assume(w[y > 0].sum() > 0 and w[y < 0].sum() > 0)
    if draw(st.booleans()):  # the (n, 1) column the objective passes
        y, s = y[:, None], s[:, None]
    return y, s, w


# ---------------------------------------------------- against the naive sums
@pytest.mark.parametrize("name", FACTORIES)
@SETTINGS
@given(problem=pair_problems(), margin=MARGINS, gamma=GAMMAS)
def test_value_and_gradient_equal_the_naive_sums(name, problem, margin, gamma):
    y, s, w = problem
    loss = FACTORIES[name](margin, gamma)
    value, grad, _, value_scale, grad_scale = naive(loss, y, s, w)
    fused_value, fused_grad = loss.pair_loss_gradient(y, s, w)
    assert fused_grad.shape == s.shape
    _close(fused_value, value, value_scale)
    _close(loss.pair_loss(y, s, w), value, value_scale)
    _close(fused_grad.ravel(), grad, grad_scale)
    _close(loss.pair_gradient(y, s, w).ravel(), grad, grad_scale)


@pytest.mark.parametrize("name", FACTORIES)
@SETTINGS
@given(
    problem=pair_problems(grid_only=True), margin=MARGINS, gamma=GAMMAS, data=st.data()
)
def test_hessian_product_equals_the_naive_matrix(name, problem, margin, gamma, data):
    # on the grid the active set (a jump of the curvature) is decided exactly
    y, s, w = problem
    loss = FACTORIES[name](margin, gamma)
    _, _, H, _, _ = naive(loss, y, s, w)
    # subnormal directions have no relative precision left to compare
    v = data.draw(
        arrays(np.float64, s.shape, elements=st.floats(-3, 3, allow_subnormal=False))
    )
    expected = H @ v.ravel()
    scale = np.abs(H) @ np.abs(v.ravel())
    if isinstance(loss, PairwiseSmoothHinge):
        # each band is a window of the other class's running sums: the
        # difference of two running sums is exact only up to eps times the
        # sums themselves, i.e. the whole other class
        complete = naive(PairwiseSquare(), y, s, w)[2] / 2 / loss.gamma
        scale = scale + np.abs(complete) @ np.abs(v.ravel())
    product = loss.pair_hessian_product(y, s, v, w)
    assert product.shape == v.shape
    _close(product.ravel(), expected, scale)
    operator = loss.pair_hessian_operator(y, s, w)
    _close(operator(v).ravel(), expected, scale)
    # the curvature bound is above the Hessian: B - H is positive semi-definite
    bound = loss.pair_curvature_bound(y, w)
    B = np.column_stack([bound(e) for e in np.eye(s.size)])
    np.testing.assert_allclose(B, B.T, atol=1e-12 * np.abs(B).max())
    assert np.linalg.eigvalsh(B - H).min() >= -1e-10 * max(1.0, np.abs(B).max())


@pytest.mark.parametrize("loss", VARIANTS, ids=repr)
def test_ties_contribute_nothing_to_the_hinges(loss):
    # one pair exactly at the margin, one violated (by m + 0.5), one beyond it
    m = loss.margin
    y = np.array([1.0, -1.0, -1.0, -1.0])
    s = np.array([1.0, 1.0 - m, 1.5, 1.0 - m - 3.0])
    value, grad = loss.pair_loss_gradient(y, s)
    factor = 4 / 3
    d = m + 0.5
    if isinstance(loss, PairwiseSquaredHinge):
        expected = factor * d**2
    elif isinstance(loss, PairwiseSmoothHinge):
        g = loss.gamma
        expected = factor * (d * d / (2 * g) if d < g else d - g / 2)
    else:
        expected = factor * (0.0 + d**2 + 9.0)
    if not isinstance(loss, PairwiseSquare):
        assert grad[1] == 0.0 and grad[3] == 0.0
    assert value == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("loss", VARIANTS, ids=repr)
def test_all_equal_scores(loss):
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    w = np.array([1.0, 2.0, 0.5, 1.0, 0.0])
    s = np.full(5, 0.3)
    value, grad = loss.pair_loss_gradient(y, s, w)
    # every pair has violation m: the mean over pairs is phi(m), times W
    phi = pair_terms(loss, np.array(loss.margin))[0]
    assert value == pytest.approx(w.sum() * phi, rel=1e-14)
    expected = naive(loss, y, s, w)[1]
    np.testing.assert_allclose(grad, expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(grad.sum(), 0.0, atol=1e-14)


@pytest.mark.parametrize("loss", VARIANTS, ids=repr)
@SETTINGS
@given(problem=pair_problems(), shift=st.sampled_from([-3.0, 0.25, 7.0]))
def test_shift_invariance_and_convexity(loss, problem, shift):
    y, s, w = problem
    value, grad = loss.pair_loss_gradient(y, s, w)
    _, _, _, scale, grad_scale = naive(loss, y, s + shift, w)
    assert abs(loss.pair_loss(y, s + shift, w) - value) <= 1e-13 * scale
    assert abs(grad.sum()) <= 1e-13 * grad_scale.sum()
    other = s + np.linspace(-1.0, 1.0, s.size).reshape(s.shape)
    lower = value + np.sum(grad * (other - s))
    scale = max(scale, naive(loss, y, other, w)[3])
    assert loss.pair_loss(y, other, w) >= lower - 1e-13 * scale


def test_one_class_or_no_weight_means_no_pairs():
    loss = PairwiseSquaredHinge()
    y = np.array([1.0, 1.0, -1.0])
    s = np.array([0.0, 1.0, 2.0])
    assert loss.pair_loss(np.ones(3), s) == 0.0
    value, grad = loss.pair_loss_gradient(y, s, np.array([1.0, 1.0, 0.0]))
    assert value == 0.0 and not grad.any()
    assert not loss.pair_hessian_product(y, s, s, np.array([0.0, 0.0, 1.0])).any()


def test_large_scores_small_violations_keep_their_digits():
    # scores near 1e4, violations below 2e-3: an expanded quadratic
    # (a^2 sum w - 2 a sum w s + sum w s^2) would keep no correct digit
    loss = PairwiseSquaredHinge()
    rng = np.random.default_rng(0)
    u = rng.uniform(0, 1e-3, size=(2, 50))
    y = np.where(np.arange(100) < 50, 1.0, -1.0)
    s = np.concatenate([1e4 + u[0], 1e4 - 1.0 + 1e-3 + u[1]])
    value, grad = loss.pair_loss_gradient(y, s)
    # Sterbenz: s_i - s_j and 1 - (s_i - s_j) are exact here
    d = np.maximum(1.0 - (s[:50, None] - s[None, 50:]), 0.0)
    assert value == pytest.approx(100 / 2500 * np.sum(d**2), rel=1e-6)
    np.testing.assert_allclose(grad[:50], -2 * 100 / 2500 * d.sum(axis=1), rtol=1e-6)


def test_smooth_hinge_keeps_its_digits_far_from_zero():
    # scores near 1e4 and a band of width 1e-2: the band sums only ever hold
    # violations below gamma, so nothing of size 1e4 cancels in them
    loss = PairwiseSmoothHinge(gamma=1e-2)
    rng = np.random.default_rng(1)
    y = np.where(np.arange(200) < 80, 1.0, -1.0)
    s = 1e4 + np.concatenate([rng.uniform(0, 0.05, 80), rng.uniform(-1, -0.97, 120)])
    value, grad = loss.pair_loss_gradient(y, s)
    # Sterbenz: s_i - s_j and 1 - (s_i - s_j) are exact here
    d = 1.0 - (s[:80, None] - s[None, 80:])
    assert (d > 0).any() and (d < 1e-2).any() and (d > 1e-2).any()
    factor = 200 / (80 * 120)
    phi, dphi, _ = pair_terms(loss, d)
    assert value == pytest.approx(factor * phi.sum(), rel=1e-9)
    np.testing.assert_allclose(grad[:80], -factor * dphi.sum(axis=1), rtol=1e-9)
    np.testing.assert_allclose(grad[80:], factor * dphi.sum(axis=0), rtol=1e-9)


@SETTINGS
@given(problem=pair_problems(), gamma=GAMMAS, far=st.sampled_from([10.0, 1e3, 1e6]))
def test_smooth_hinge_pulls_each_sample_with_a_bounded_force(problem, gamma, far):
    # the point of the loss: however badly a sample is ranked, its derivative
    # is at most (its weight) x (the other class's weight) x factor, because
    # phi' <= 1 on every pair; the squared hinge's grows with the violation
    y, s, w = problem
    y, s = np.ravel(y), np.ravel(s).copy()
    w = np.ones_like(s) if w is None else w
    first = np.flatnonzero(y > 0)[0]
    s[first] = -far  # a positive ranked below every negative
    groups = w.sum() / (w[y > 0].sum() * w[y < 0].sum())
    grad = PairwiseSmoothHinge(gamma).pair_gradient(y, s, w)
    bound = groups * w * np.where(y > 0, w[y < 0].sum(), w[y > 0].sum())
    assert np.all(np.abs(grad) <= bound * (1 + 1e-12))
    squared = PairwiseSquaredHinge().pair_gradient(y, s, w)
    if w[first] > 0 and w[y < 0].sum() > 0 and far >= 10:
        assert abs(squared[first]) > bound[first]


def test_smooth_hinge_shrugs_off_mislabelled_samples_the_squared_hinge_follows():
    # three far-away negatives-looking samples labelled positive: each is
    # paired with every negative. The squared hinge's fit turns towards them,
    # the smoothed hinge's much less (cosine to the clean fit)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y = (rng.random(400) < 0.1).astype(int)
        X = rng.normal(size=(400, 3)) + 1.5 * y[:, None] * np.array([1.0, 0.0, 0.0])
        outliers = [[-8.0, 3.0, 0.0], [-9.0, 3.0, 0.0], [-10.0, 3.0, 0.0]]
        X_dirty, y_dirty = np.vstack([X, outliers]), np.append(y, [1, 1, 1])
        cosine = {}
        for loss in ["pairwise_squared_hinge", "pairwise_smooth_hinge"]:
            clean = HingeClassifier(loss=loss, tol=1e-10).fit(X, y).coef_[0]
            dirty = HingeClassifier(loss=loss, tol=1e-10).fit(X_dirty, y_dirty)
            dirty = dirty.coef_[0]
            cosine[loss] = clean @ dirty / np.linalg.norm(clean) / np.linalg.norm(dirty)
        assert cosine["pairwise_smooth_hinge"] > cosine["pairwise_squared_hinge"] + 0.1


@pytest.mark.parametrize(
    ("gamma", "margin", "s"),
    [(0.7, 0.0, [0.1, 0.1 + 0.7]), (0.3, 1.0, [0.0, -0.7, 0.2, -0.6999999999999998])],
)
def test_smooth_hinge_hessian_is_symmetric_when_band_ends_round(gamma, margin, s):
    # a_j - gamma and s_i + gamma round differently: both sides of a pair
    # must still agree on whether it is in the band (a review found they did
    # not, and H was indefinite)
    y = np.array([1.0, -1.0] * (len(s) // 2))
    operator = PairwiseSmoothHinge(gamma, margin).pair_hessian_operator(y, np.array(s))
    H = np.column_stack([operator(e) for e in np.eye(len(s))])
    np.testing.assert_array_equal(H, H.T)
    assert np.linalg.eigvalsh(H).min() >= -1e-12 * max(1.0, np.abs(H).max())


@pytest.mark.parametrize("loss", VARIANTS, ids=repr)
def test_infinite_scores_give_non_finite_numbers_not_a_crash(loss):
    # the compiled merges once ran past their arrays on a key of +-inf
    y = np.array([1.0, -1.0, 1.0, -1.0])
    for s in ([0.0, np.inf, 1.0, 0.5], [-np.inf, 0.0, 1.0, 0.5]):
        with np.errstate(invalid="ignore"):
            value, grad = loss.pair_loss_gradient(y, np.array(s))
        assert not np.isfinite(value) or not np.all(np.isfinite(grad))


def test_per_sample_methods_refuse_clearly():
    loss = PairwiseSquaredHinge()
    y, s = np.array([1.0, -1.0]), np.zeros(2)
    for method in (loss.loss, loss.gradient, loss.loss_gradient):
        with pytest.raises(NotImplementedError, match="pair_loss"):
            method(y, s)
    with pytest.raises(ValueError, match="one score per sample"):
        loss.pair_loss(y, np.zeros((2, 2)))


# -------------------------------------------------------------- the objective
OBJECTIVE_LAYOUTS = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 10_000),
        "sparse": st.booleans(),
        "weighted": st.booleans(),
        "C": st.sampled_from([0.1, 1.0, 7.0]),
        "penalty": st.sampled_from(["l2", None]),
    }
)


@pytest.mark.parametrize("loss", VARIANTS, ids=repr)
@settings(max_examples=25, deadline=None)
@given(layout=OBJECTIVE_LAYOUTS)
def test_objective_gradient_matches_finite_differences(loss, layout):
    objective = make_objective(loss, fit_intercept=False, **layout)
    rng = np.random.default_rng(layout["seed"])
    coef = rng.normal(size=objective.size)
    value, grad = objective.value_and_gradient(coef)
    assert value == pytest.approx(objective.value(coef), rel=1e-14)
    for _ in range(3):
        v = rng.normal(size=objective.size)
        h = 1e-6
        fd = (objective.value(coef + h * v) - objective.value(coef - h * v)) / (2 * h)
        scale = max(1.0, abs(fd), np.linalg.norm(grad) * np.linalg.norm(v))
        assert abs(fd - grad @ v) <= 1e-6 * scale


@pytest.mark.parametrize("loss", VARIANTS, ids=repr)
@pytest.mark.parametrize("sparse", [False, True])
def test_objective_hessian_matches_finite_differences(loss, sparse):
    objective = make_objective(
        loss, seed=3, fit_intercept=False, weighted=True, sparse=sparse, C=2.0
    )
    rng = np.random.default_rng(1)
    coef = 0.3 * rng.normal(size=objective.size)
    v = rng.normal(size=objective.size)
    h = 1e-7
    # no pair changes side between coef - h v and coef + h v
    signs = [
        np.sign(loss.margin - (s[:, None] - s[None, :]))
        for s in (objective.scores(coef + t * v)[:, 0] for t in (-h, h))
    ]
    assert np.array_equal(*signs)
    fd = (objective.gradient(coef + h * v) - objective.gradient(coef - h * v)) / (2 * h)
    np.testing.assert_allclose(
        objective.hessian_product(coef, v), fd, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("loss", PAIRWISE, ids=repr)
def test_objective_value_is_penalty_plus_c_times_pair_loss(loss):
    objective = make_objective(loss, seed=4, fit_intercept=False, weighted=True, C=3.0)
    coef = np.random.default_rng(4).normal(size=objective.size)
    X, y, w = objective.X, objective.y, objective.sample_weight
    expected = 0.5 * coef @ coef + 3.0 * naive(loss, y, X @ coef, w)[0]
    assert objective.value(coef) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("loss", PAIRWISE, ids=repr)
def test_lipschitz_bounds_the_gradient(loss):
    objective = make_objective(loss, seed=6, fit_intercept=False, weighted=True)
    L = objective.lipschitz()
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.normal(size=(2, objective.size))
        change = np.linalg.norm(objective.gradient(a) - objective.gradient(b))
        assert change <= L * np.linalg.norm(a - b) * (1 + 1e-9)


def test_objective_refuses_an_intercept_and_several_columns():
    loss = PairwiseSquaredHinge()
    with pytest.raises(ValueError, match="no intercept to fit"):
        make_objective(loss, fit_intercept=True)
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="one \\+-1 column"):
        LinearObjective(loss, X, -np.ones((4, 3)), n_outputs=3, fit_intercept=False)


@pytest.mark.parametrize("loss", PAIRWISE, ids=repr)
def test_weight_k_equals_repeating_k_times_in_the_objective(loss):
    counts = np.random.default_rng(0).integers(0, 4, size=20)
    counts[:2] = 1  # both classes keep a sample
    weighted = make_objective(loss, seed=5, n=20, fit_intercept=False)
    weighted.sample_weight = counts.astype(float)
    repeated = make_objective(loss, seed=5, n=20, fit_intercept=False)
    repeated.X = np.repeat(weighted.X, counts, axis=0)
    repeated.y = np.repeat(weighted.y, counts, axis=0)
    repeated.sample_weight = np.ones(counts.sum())
    repeated.n_samples = counts.sum()
    coef = np.random.default_rng(5).normal(size=weighted.size)
    np.testing.assert_allclose(weighted.value(coef), repeated.value(coef), rtol=1e-13)
    np.testing.assert_allclose(
        weighted.gradient(coef), repeated.gradient(coef), rtol=1e-12, atol=1e-12
    )


# ------------------------------------------------------------------ solvers
SOLVER_LAYOUTS = [
    dict(seed=10, n=60, d=5),
    dict(seed=11, n=60, d=5, weighted=True, sparse=True, C=10.0),
    dict(seed=12, n=50, d=4, weighted=True, C=0.1),
]


@pytest.mark.parametrize("layout", SOLVER_LAYOUTS, ids=str)
@pytest.mark.parametrize("loss", VARIANTS, ids=repr)
def test_gd_lbfgs_newton_agree_on_the_optimum(loss, layout):
    objective = make_objective(loss, fit_intercept=False, **layout)
    results = {}
    for solver in (GradientDescent(), LBFGS(), TrustRegionNewton()):
        result = solver.solve(objective, tol=1e-10, max_iter=50_000)
        assert result.converged, (solver, result.message)
        assert result.value == pytest.approx(objective.value(result.coef), rel=1e-14)
        results[solver.name] = result
    best = min(r.value for r in results.values())
    for result in results.values():
        assert result.value <= best * (1 + 1e-6)
    np.testing.assert_allclose(
        results["gd"].coef, results["newton"].coef, rtol=1e-5, atol=1e-6
    )
    # the optimum: zero gradient (recomputed, not taken from the solvers)
    g_ref = np.linalg.norm(objective.gradient(objective.zeros()))
    assert np.linalg.norm(objective.gradient(results["newton"].coef)) <= 1e-6 * g_ref


def test_dual_cd_refuses_pairwise_losses():
    for loss in PAIRWISE:
        with pytest.raises(ValueError, match="no update for the pairwise loss"):
            get_solver("dual_cd", loss)
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="PairwiseSquaredHinge.*'newton'"):
        HingeClassifier(loss="pairwise_squared_hinge", solver="dual_cd").fit(X, y)


def test_auto_picks_newton():
    for loss in PAIRWISE:
        assert isinstance(auto_solver(loss), TrustRegionNewton)
        assert isinstance(auto_solver(loss, penalty=None), TrustRegionNewton)


# ---------------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def imbalanced():
    rng = np.random.default_rng(0)
    n = 200
    y = (rng.random(n) < 0.2).astype(int)
    X = rng.normal(size=(n, 4)) + 1.2 * y[:, None] * np.array([1.0, 0.5, 0.0, 0.0])
    return X, y


def test_multiclass_targets_are_refused(imbalanced):
    X, _ = imbalanced
    y = np.arange(X.shape[0]) % 3
    for loss in ["pairwise_squared_hinge", PairwiseSquare(), "pairwise_smooth_hinge"]:
        with pytest.raises(
            ValueError, match="Only binary classification.*pairwise.*3 classes"
        ):
            HingeClassifier(loss=loss).fit(X, y)


def test_intercept_scaling_is_refused(imbalanced):
    X, y = imbalanced
    clf = HingeClassifier(loss="pairwise_squared_hinge", intercept_scaling=1.0)
    with pytest.raises(ValueError, match="'intercept_scaling' must be None"):
        clf.fit(X, y)


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
def test_fit_with_each_solver_and_squared_hinge_threshold(imbalanced, solver):
    X, y = imbalanced
    w = np.where(np.arange(X.shape[0]) % 3 == 0, 2.0, 1.0)
    clf = HingeClassifier(
        loss="pairwise_squared_hinge", solver=solver, tol=1e-10, max_iter=20_000
    )
    clf.fit(X, y, sample_weight=w)
    flat = HingeClassifier(
        loss="pairwise_squared_hinge", solver="newton", fit_intercept=False, tol=1e-12
    ).fit(X, y, sample_weight=w)
    # the intercept does not enter the objective: the same coefficients
    np.testing.assert_allclose(clf.coef_, flat.coef_, rtol=1e-5, atol=1e-7)
    assert flat.intercept_.tolist() == [0.0]
    scores = X @ clf.coef_[0]
    # the threshold: the weighted squared hinge's best shift of fixed scores,
    # found here by a bounded scalar search instead of the knot sweep
    b_ref = best_shift(scores, y, w)
    assert clf.intercept_[0] == pytest.approx(b_ref, abs=1e-7)
    assert clf.score(X, y) > 0.7
    assert clf.objective_value_ == pytest.approx(
        0.5 * clf.coef_[0] @ clf.coef_[0]
        + naive(PairwiseSquaredHinge(), 2.0 * y - 1, scores, w)[0],
        rel=1e-10,
    )


def best_shift(scores, y, w):
    """``argmin_b sum w [1 - y (scores + b)]_+^2`` by a bounded scalar search."""
    from scipy.optimize import minimize_scalar

    sign = 2.0 * y - 1.0

    def cost(b):
        return np.sum(w * np.maximum(1.0 - sign * (scores + b), 0.0) ** 2)

    span = 2.0 + np.abs(scores).max()
    return minimize_scalar(
        cost, bounds=(-span, span), method="bounded", options={"xatol": 1e-12}
    ).x


@pytest.mark.parametrize("seed", range(20))
def test_threshold_minimizes_the_weighted_squared_hinge(seed):
    from hinge_estimators.estimators._hinge_classifier import _pairwise_threshold

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    y = (rng.random(n) < rng.uniform(0.05, 0.9)).astype(int)
    y[:2] = [1, 0]
    scores = rng.normal(size=n) * rng.choice([0.1, 1.0, 10.0]) + 2.0 * y
    if seed % 3 == 0:  # ties between knots
        scores = np.round(4 * scores) / 4
    w = rng.choice([0.0, 0.5, 1.0, 3.0], size=n) if seed % 2 else np.ones(n)
    w[:2] = 1.0
    objective = type("Scores", (), {"X": scores[:, None]})
    (b,) = _pairwise_threshold(objective, np.ones((1, 1)), y, w)
    sign = 2.0 * y - 1.0
    slope = -2.0 * np.sum(w * sign * np.maximum(1.0 - sign * (scores + b), 0.0))
    assert abs(slope) <= 1e-9 * (1.0 + np.sum(w) * (1.0 + np.abs(scores).max()))


def test_separated_classes_get_the_middle_of_the_gap():
    # (a ranking fit keeps its closest pair about one margin apart, so this
    # case is met through the function, with scores given)
    from hinge_estimators.estimators._hinge_classifier import _pairwise_threshold

    scores = np.array([5.0, 6.0, -3.0, -4.0, -3.5])
    y = np.array([1, 1, 0, 0, 0])
    objective = type("Scores", (), {"X": scores[:, None]})
    # every b in [1 - 5, -1 + 3] = [-4, 2] puts each sample beyond its margin
    (b,) = _pairwise_threshold(objective, np.ones((1, 1)), y, np.ones(5))
    assert b == -1.0


def test_class_weight_moves_the_threshold_not_the_ranking(imbalanced):
    X, y = imbalanced  # 20 % positives
    plain = HingeClassifier(loss="pairwise_squared_hinge", tol=1e-12).fit(X, y)
    balanced = HingeClassifier(
        loss="pairwise_squared_hinge", class_weight="balanced", tol=1e-12
    ).fit(X, y)
    np.testing.assert_allclose(balanced.coef_, plain.coef_, rtol=1e-8)
    # the balanced threshold calls more samples positive, as LinearSVC's does
    assert balanced.intercept_[0] > plain.intercept_[0]
    assert balanced.predict(X).sum() > plain.predict(X).sum()
    counts = np.bincount(y)
    weights = np.where(
        y == 1, counts.sum() / (2 * counts[1]), counts.sum() / (2 * counts[0])
    )
    scores = X @ plain.coef_[0]
    assert balanced.intercept_[0] == pytest.approx(
        best_shift(scores, y, weights), abs=1e-7
    )


@pytest.mark.parametrize("sparse", [False, True])
def test_sample_weight_k_equals_repeating_the_sample(imbalanced, sparse):
    X, y = imbalanced
    counts = np.random.default_rng(1).integers(0, 4, size=X.shape[0])
    Xw = sp.csr_matrix(X) if sparse else X
    Xr = np.repeat(X, counts, axis=0)
    Xr = sp.csr_matrix(Xr) if sparse else Xr
    params = dict(loss="pairwise_squared_hinge", solver="newton", tol=1e-12, C=5.0)
    weighted = HingeClassifier(**params).fit(Xw, y, sample_weight=counts)
    repeated = HingeClassifier(**params).fit(Xr, np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-8)


def test_tags_say_binary_only():
    from sklearn.utils import get_tags

    assert not get_tags(
        HingeClassifier(loss="pairwise_square")
    ).classifier_tags.multi_class
    assert not get_tags(
        HingeClassifier(loss=PairwiseSquaredHinge())
    ).classifier_tags.multi_class
    assert get_tags(HingeClassifier()).classifier_tags.multi_class


def test_ranks_better_than_per_sample_hinge_on_rare_positives():
    # a sanity check of what the loss is for, not a benchmark: on 5 %
    # positives the pairwise fit's training AUC is at least the hinge's
    from sklearn.datasets import make_classification
    from sklearn.metrics import roc_auc_score

    X, y = make_classification(
        n_samples=400, n_features=10, weights=[0.95], flip_y=0.02, random_state=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pair = HingeClassifier(loss="pairwise_squared_hinge").fit(X, y)
        hinge = HingeClassifier(loss="hinge").fit(X, y)
    assert (
        roc_auc_score(y, pair.decision_function(X))
        >= roc_auc_score(y, hinge.decision_function(X)) - 0.01
    )
