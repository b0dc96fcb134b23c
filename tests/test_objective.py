"""LinearObjective: value against a naive loop, gradient and Hessian-vector
products against finite differences, dense and sparse, weights and intercepts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hinge_estimators.losses import (
    LOSSES,
    CrammerSinger,
    GaussianHinge,
    SmoothHinge,
    WestonWatkins,
)

from ._problems import make_objective, naive_value

# Pairwise losses refuse an intercept and several columns, which these
# layouts draw, and have no per-sample value for naive_value to loop over:
# tests/test_pairwise.py checks their objective.
ALL_LOSSES = [cls() for cls in LOSSES.values() if not cls.is_pairwise]
SMOOTH_LOSSES = [loss for loss in ALL_LOSSES if loss.is_smooth] + [
    WestonWatkins(squared=True),
    WestonWatkins(smoothing=0.3),
    CrammerSinger(smoothing=0.4),
    CrammerSinger(squared=True, smoothing=0.4),
]
# C-infinity losses: their Hessian has no breakpoints, so finite differences of
# the gradient are valid everywhere.
# C-infinity losses only: a random point may sit anywhere. The sparsemax-
# smoothed Crammer-Singer loss has curvature breakpoints (where a class enters
# the support), so it is tested with the piecewise-smooth losses below.
CURVATURE_LOSSES = [GaussianHinge(sigma=0.7)]

settings.register_profile("objective", max_examples=25, deadline=None)

layouts = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 10_000),
        "sparse": st.booleans(),
        "fit_intercept": st.booleans(),
        "intercept_scaling": st.sampled_from([None, 0.5, 3.0]),
        "weighted": st.booleans(),
        "n_classes": st.sampled_from([2, 3]),
        "C": st.sampled_from([0.1, 1.0, 7.0]),
    }
)


def _ids(losses):
    return [repr(loss) for loss in losses]


def _coef(objective, seed):
    return np.random.default_rng(seed + 1).normal(size=objective.size)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=_ids(ALL_LOSSES))
@settings(max_examples=15, deadline=None)
@given(layout=layouts)
def test_value_matches_naive_loop(loss, layout):
    objective = make_objective(loss, **layout)
    coef = _coef(objective, layout["seed"])
    np.testing.assert_allclose(
        objective.value(coef), naive_value(objective, coef), rtol=1e-12
    )


@pytest.mark.parametrize("loss", SMOOTH_LOSSES, ids=_ids(SMOOTH_LOSSES))
@settings(max_examples=25, deadline=None)
@given(layout=layouts)
def test_gradient_matches_finite_differences(loss, layout):
    objective = make_objective(loss, **layout)
    rng = np.random.default_rng(layout["seed"] + 2)
    coef = _coef(objective, layout["seed"])
    grad = objective.gradient(coef)
    for _ in range(3):
        v = rng.normal(size=objective.size)
        h = 1e-6
        fd = (objective.value(coef + h * v) - objective.value(coef - h * v)) / (2 * h)
        scale = max(1.0, abs(fd), np.linalg.norm(grad) * np.linalg.norm(v))
        assert abs(fd - grad @ v) <= 1e-6 * scale


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=_ids(ALL_LOSSES))
@settings(max_examples=15, deadline=None)
@given(layout=layouts)
def test_subgradient_inequality(loss, layout):
    # holds for every convex loss, smooth or not, kinks included
    objective = make_objective(loss, **layout)
    rng = np.random.default_rng(layout["seed"] + 3)
    coef = _coef(objective, layout["seed"])
    value, grad = objective.value_and_gradient(coef)
    for _ in range(5):
        other = coef + rng.normal(scale=rng.choice([1e-3, 1.0]), size=coef.shape)
        lower = value + grad @ (other - coef)
        assert objective.value(other) >= lower - 1e-9 * max(1.0, abs(value))


@pytest.mark.parametrize("loss", CURVATURE_LOSSES, ids=_ids(CURVATURE_LOSSES))
@settings(max_examples=20, deadline=None)
@given(layout=layouts)
def test_hessian_product_matches_finite_differences(loss, layout):
    objective = make_objective(loss, **layout)
    rng = np.random.default_rng(layout["seed"] + 4)
    coef = _coef(objective, layout["seed"]) * 0.3
    hessp = objective.hessian_operator(coef)
    v = rng.normal(size=objective.size)
    h = 1e-5
    fd = (objective.gradient(coef + h * v) - objective.gradient(coef - h * v)) / (2 * h)
    np.testing.assert_allclose(
        hessp(v), fd, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(fd).max())
    )


@pytest.mark.parametrize(
    "loss",
    [SmoothHinge(gamma=0.5), WestonWatkins(squared=True), CrammerSinger(smoothing=0.5)],
    ids=repr,
)
def test_hessian_product_of_piecewise_smooth_losses(loss):
    # away from the curvature breakpoints the finite difference is exact
    objective = make_objective(loss, seed=3, n_classes=3, sparse=True)
    coef = _coef(objective, 3) * 0.2
    h = 1e-7
    v = np.random.default_rng(9).normal(size=objective.size)
    for point in (coef, coef + h * v, coef - h * v):
        assert np.all(np.abs(objective.scores(point) - objective.scores(coef)) < 1e-5)
    fd = (objective.gradient(coef + h * v) - objective.gradient(coef - h * v)) / (2 * h)
    np.testing.assert_allclose(
        objective.hessian_product(coef, v), fd, rtol=1e-4, atol=1e-5
    )


def test_sparse_and_dense_agree_and_sparse_stays_sparse():
    loss = GaussianHinge()
    dense = make_objective(loss, seed=5, sparse=False, weighted=True)
    sparse = make_objective(loss, seed=5, sparse=True, weighted=True)
    dense.X = sparse.X.toarray()
    dense.sample_weight = sparse.sample_weight  # drawn after the sparsity mask
    coef = _coef(dense, 5)
    np.testing.assert_allclose(dense.value(coef), sparse.value(coef), rtol=1e-13)
    np.testing.assert_allclose(dense.gradient(coef), sparse.gradient(coef), rtol=1e-12)
    assert sparse.X.format == "csr"


def test_penalized_intercept_is_liblinear_synthetic_feature():
    # intercept_scaling=B must equal a constant feature B with penalized weight
    loss = LOSSES["squared_hinge"]()
    B = 2.5
    obj = make_objective(loss, seed=1, intercept_scaling=B, fit_intercept=True)
    augmented = make_objective(loss, seed=1, fit_intercept=False)
    augmented.X = np.hstack([obj.X, np.full((obj.n_samples, 1), B)])
    augmented.n_features += 1
    augmented._n_coef = augmented.size = augmented.n_features
    coef = _coef(obj, 1)
    W, b = obj.split(coef)
    aug_coef = np.concatenate([W.ravel(), b / B])
    np.testing.assert_allclose(obj.value(coef), augmented.value(aug_coef), rtol=1e-13)


def test_unregularized_objective_is_the_plain_risk():
    loss = LOSSES["hinge"]()
    obj = make_objective(loss, seed=2, penalty=None, C=5.0, fit_intercept=False)
    coef = _coef(obj, 2)
    W, _ = obj.split(coef)
    margins = obj.y[:, 0] * (obj.X @ W[0])
    np.testing.assert_allclose(obj.value(coef), np.maximum(1 - margins, 0).sum())


def test_weight_k_equals_repeating_k_times():
    loss = LOSSES["modified_huber"]()
    obj = make_objective(loss, seed=4, n=12)
    counts = np.random.default_rng(0).integers(0, 4, size=12)
    weighted = make_objective(loss, seed=4, n=12)
    weighted.sample_weight = counts.astype(float)
    repeated = make_objective(loss, seed=4, n=12)
    repeated.X = np.repeat(obj.X, counts, axis=0)
    repeated.y = np.repeat(obj.y, counts, axis=0)
    repeated.sample_weight = np.ones(counts.sum())
    repeated.n_samples = counts.sum()
    coef = _coef(obj, 4)
    np.testing.assert_allclose(weighted.value(coef), repeated.value(coef), rtol=1e-13)
    np.testing.assert_allclose(
        weighted.gradient(coef), repeated.gradient(coef), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("loss", SMOOTH_LOSSES[:4], ids=_ids(SMOOTH_LOSSES[:4]))
def test_lipschitz_bounds_the_gradient(loss):
    obj = make_objective(loss, seed=6, weighted=True, n_classes=3)
    L = obj.lipschitz()
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.normal(size=(2, obj.size))
        ratio = np.linalg.norm(obj.gradient(a) - obj.gradient(b)) / np.linalg.norm(
            a - b
        )
        assert ratio <= L * (1 + 1e-9)


def test_batch_gradient_is_unbiased():
    loss = LOSSES["squared_hinge"]()
    obj = make_objective(loss, seed=7, n=30, weighted=True)
    coef = _coef(obj, 7)
    batches = np.array_split(np.arange(30), 5)
    mean = np.mean([obj.batch_gradient(coef, rows) for rows in batches], axis=0)
    np.testing.assert_allclose(mean, obj.gradient(coef), rtol=1e-12, atol=1e-12)


def _explicitly_centered(objective):
    """The centered problem built the obvious way: a dense copy of X - mu."""
    from hinge_estimators import LinearObjective

    X = objective.X.toarray() if hasattr(objective.X, "toarray") else objective.X
    s = objective.sample_weight
    return LinearObjective(
        objective.loss,
        X - (s @ X) / s.sum(),
        objective.y,
        n_outputs=objective.n_outputs,
        sample_weight=s,
        C=objective.C,
        penalty=objective.penalty,
    )


@pytest.mark.parametrize("loss", SMOOTH_LOSSES[:4] + [WestonWatkins(squared=True)])
@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    sparse=st.booleans(),
    n_classes=st.sampled_from([2, 3]),
    shift=st.sampled_from([0.0, 3.0, 1e3]),
)
def test_centered_objective_is_the_same_problem(loss, seed, sparse, n_classes, shift):
    # x W + b = (x - mu) W + (b + W mu): values agree at mapped coefficients,
    # and the implicit centering (mu inside the products, sparse X kept
    # sparse) equals an explicit dense X - mu in every product
    objective = make_objective(
        loss, seed=seed, sparse=sparse, n_classes=n_classes, weighted=True
    )
    objective.X = objective.X + shift if not sparse else objective.X
    inner = objective.centered()
    assert inner.offset is not None
    assert (inner.X is objective.X) and (not sparse or inner.X.format == "csr")
    explicit = _explicitly_centered(objective)
    coef = _coef(inner, seed) * 0.3
    v = np.random.default_rng(seed).normal(size=inner.size)
    scale = 1.0 + shift
    np.testing.assert_allclose(
        objective.value(inner.uncenter_coef(coef)),
        inner.value(coef),
        rtol=1e-12 * scale,
    )
    np.testing.assert_allclose(
        inner.uncenter_coef(inner.center_coef(coef)), coef, rtol=1e-12, atol=1e-12
    )
    for got, want in [
        (inner.value(coef), explicit.value(coef)),
        (inner.gradient(coef), explicit.gradient(coef)),
        (inner.hessian_product(coef, v), explicit.hessian_product(coef, v)),
    ]:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12 * scale)
    assert inner.lipschitz() == pytest.approx(explicit.lipschitz(), rel=1e-8)
    # sub-problems keep the centering
    columns = [0, 2]
    np.testing.assert_allclose(
        inner.features(columns).offset, inner.offset[columns], rtol=0
    )


def test_centering_applies_only_to_a_free_unpenalized_intercept():
    loss = SmoothHinge()
    assert make_objective(loss, fit_intercept=False).centered().offset is None
    penalized = make_objective(loss, intercept_scaling=2.0)
    assert penalized.centered() is penalized
    free = make_objective(loss, intercept_scaling=2.0, penalty=None)
    assert free.centered().offset is not None  # no penalty: b is free
    inner = make_objective(loss).centered()
    assert inner.centered() is inner


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("intercept", [False, True])
def test_weighted_gram_of_several_weightings(sparse, intercept, monkeypatch):
    # D of shape (n, P): one Gram matrix per column, over blocks of rows
    # (made small here so that several blocks and a short last one are
    # summed), against the formula written out on the dense rows
    import scipy.sparse as sp

    from hinge_estimators import _objective

    monkeypatch.setattr(_objective, "FORM_BLOCK_ENTRIES", 7 * 6)
    rng = np.random.default_rng(0)
    n, d, P = 23, 5, 4
    X = rng.normal(size=(n, d))
    X[rng.random(X.shape) < 0.4] = 0.0
    D = rng.uniform(0.0, 2.0, size=(n, P))
    D[3] = 0.0
    offset = rng.normal(size=d)
    rows = np.hstack([X - offset, np.ones((n, 1))]) if intercept else X - offset
    data = sp.csr_matrix(X) if sparse else X
    grams = _objective.weighted_gram(data, D, offset, intercept)
    assert grams.shape == (P, rows.shape[1], rows.shape[1])
    for p in range(P):
        expected = rows.T @ np.diag(D[:, p]) @ rows
        np.testing.assert_allclose(grams[p], expected, rtol=1e-12, atol=1e-12)
        single = _objective.weighted_gram(data, D[:, p], offset, intercept)
        np.testing.assert_allclose(single, expected, rtol=1e-12, atol=1e-12)
