"""Contract tests run over every registered loss and a few parametrized variants.

Every check compares a loss against something computed independently of its
own formulas: finite differences, brute-force loops over hinge terms, convexity
(the subgradient inequality) or eigenvalues of the Hessian assembled column by
column. A new registry entry is picked up automatically; a new loss class must
describe where it is not twice differentiable in ``_binary_kinks`` or
``_break_distance`` (the tests fail, rather than skip, until it does).
"""

import inspect
import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone

from hinge_estimators.losses import (
    LOSSES,
    CrammerSinger,
    GaussianHinge,
    Hinge,
    ModifiedHuber,
    PairwiseSmoothHinge,
    PairwiseSquare,
    PairwiseSquaredHinge,
    SmoothHinge,
    SquaredHinge,
    WestonWatkins,
)
from hinge_estimators.losses._crammer_singer import sparsemax

EXTRA = [
    SmoothHinge(gamma=0.3),
    GaussianHinge(sigma=0.1),
    Hinge(margin=0.5),
    WestonWatkins(squared=True),
    WestonWatkins(smoothing=0.2),
    WestonWatkins(delta=0.5),
    CrammerSinger(squared=True),
    CrammerSinger(smoothing=0.3),
    CrammerSinger(squared=True, smoothing=0.3),
    CrammerSinger(delta=2.0),
]
# Pairwise losses couple the samples: they have no per-sample value, gradient
# or curvature for the per-sample contract tests below to check (those methods
# raise). tests/test_pairwise.py checks them against the naive O(n^2) sums,
# finite differences and convexity instead; the API tests here cover them.
PAIRWISE = [cls() for cls in LOSSES.values() if cls.is_pairwise] + [
    PairwiseSquaredHinge(margin=0.5)
]
INSTANCES = [cls() for cls in LOSSES.values() if not cls.is_pairwise] + EXTRA
# The smooth approximations handed to solvers must obey the contract as well.
_SMOOTHED = [loss.smoothed(0.25) for loss in INSTANCES]
INSTANCES += [s for s in _SMOOTHED if s is not None]
INSTANCES = list({repr(loss): loss for loss in INSTANCES}.values())


def _probe_terms(loss):
    y, s = (np.array([0]), np.zeros((1, 3))) if loss.is_multiclass else (1.0, 0.0)
    return loss.hinge_terms(np.atleast_1d(y), np.atleast_1d(s))


def _cases(losses):
    # Binary losses draw a vector or a matrix layout inside the strategy.
    return [pytest.param(loss, id=repr(loss)) for loss in losses]


CASES = _cases(INSTANCES)
SMOOTH_CASES = _cases([loss for loss in INSTANCES if loss.is_smooth])
SMOOTHABLE_CASES = _cases([loss for loss in INSTANCES if loss.smoothed(1.0)])
TERM_CASES = _cases([loss for loss in INSTANCES if _probe_terms(loss) is not None])
SETTINGS = settings(max_examples=60, deadline=None)
H = 1e-6  # finite-difference step
FAR = 1e-4  # a sample is checked only this far from a breakpoint


# ---------------------------------------------------------------- kink models
def _binary_kinks(loss):
    """Margins ``z`` where a binary loss is not twice differentiable."""
    if isinstance(loss, Hinge):
        return [loss.margin]
    if isinstance(loss, SquaredHinge):
        return [1.0]
    if isinstance(loss, SmoothHinge):
        return [loss.margin, loss.margin - loss.gamma]
    if isinstance(loss, ModifiedHuber):
        return [-1.0, 1.0]
    if isinstance(loss, GaussianHinge):
        return []
    pytest.fail(f"no kink model for {loss!r}: add it to _binary_kinks")


def _break_distance(loss, y, s):
    """Per sample, how far (in one score) the nearest breakpoint of ``C^2`` is."""
    if not loss.is_multiclass:
        kinks = np.asarray(_binary_kinks(loss), dtype=float)
        z = (y * s)[..., None]
        dist = np.abs(z - kinks).min(axis=-1) if kinks.size else np.full(s.shape, 1e9)
        return dist.min(axis=1) if dist.ndim == 2 else dist
    n, k = s.shape
    rows = np.arange(n)
    shifted = loss.delta + s - s[rows, y][:, None]  # e + s - s_y, y entry fixed below
    shifted[rows, y] = 0.0
    if isinstance(loss, WestonWatkins):
        margins = np.where(np.arange(k) == y[:, None], np.inf, shifted)
        dist = np.abs(margins)
        if loss.smoothing > 0:
            dist = np.minimum(dist, np.abs(margins - loss.smoothing))
        return dist.min(axis=1)
    if isinstance(loss, CrammerSinger):
        if loss.smoothing == 0:
            top2 = np.sort(shifted, axis=1)[:, -2:]
            return top2[:, 1] - top2[:, 0]  # the max switches where it ties
        # The sparsemax gradient is piecewise linear: its Jacobian changes
        # where a class enters or leaves the support, v_j = tau. One score's
        # move by t moves each v_j - tau by at most 2 t.
        _, tau = sparsemax(shifted, loss.smoothing)
        dist = np.abs(shifted - tau[:, None]).min(axis=1) / 2
        if not loss.squared:
            return dist
        # [h_mu]_+^2 also has a curvature jump where h_mu = 0
        plain = CrammerSinger(delta=loss.delta, smoothing=loss.smoothing)
        return np.minimum(dist, np.abs(plain.loss(y, s)))
    pytest.fail(f"no kink model for {loss!r}: add it to _break_distance")


# ----------------------------------------------------------------- strategies
SCORE = st.floats(-5, 5, allow_nan=False, allow_subnormal=False)
SIGN = st.sampled_from([-1.0, 1.0])


@st.composite
def problems(draw, loss, on_kinks=False):
    """``(y, scores)``; with ``on_kinks`` many scores sit exactly on breakpoints.

    Multiclass: codes ``(n,)`` and scores ``(n, K)``; binary: +-1 labels and
    scores of the same shape, a vector or an ``(n, K)`` matrix.
    """
    n = draw(st.integers(1, 5))
    if loss.is_multiclass:
        k = draw(st.integers(2, 5))
        y = draw(arrays(np.intp, n, elements=st.integers(0, k - 1)))
        # Multiples of delta / 2 make margins exactly 0 and the max tie often.
        grid = st.sampled_from([loss.delta * j / 2 for j in range(-4, 5)])
        elements = st.one_of(grid, SCORE) if on_kinks else SCORE
        return y, draw(arrays(np.float64, (n, k), elements=elements))
    shape = draw(st.sampled_from([(n,), (n, draw(st.integers(2, 5)))]))
    y = draw(arrays(np.float64, shape, elements=SIGN))
    if not on_kinks:
        return y, draw(arrays(np.float64, shape, elements=SCORE))
    kinks = _binary_kinks(loss) + [0.0, 1.0, -1.0]
    elements = st.one_of(st.sampled_from(kinks), SCORE)
    z = draw(arrays(np.float64, shape, elements=elements))
    return y, y * z  # y is +-1, so the margin y * s is exactly z


def _per_sample(loss, y, s):
    value = loss.loss(y, s)
    return value.sum(axis=1) if value.ndim == 2 else value


def _n_outputs(s):
    return s.shape[1] if s.ndim == 2 else 1


def _rows(a):
    return a.reshape(a.shape[0], -1)


# ---------------------------------------------------------------- derivatives
@pytest.mark.parametrize("loss", CASES)
@SETTINGS
@given(data=st.data())
def test_gradient_matches_finite_differences(loss, data):
    y, s = data.draw(problems(loss))
    good = _break_distance(loss, y, s) > FAR
    assume(good.any())
    grad = loss.gradient(y, s)
    for idx in np.ndindex(s.shape):
        if not good[idx[0]]:
            continue
        plus, minus = s.copy(), s.copy()
        plus[idx] += H
        minus[idx] -= H
        i = idx[0]
        fd = (_per_sample(loss, y, plus)[i] - _per_sample(loss, y, minus)[i]) / (2 * H)
        assert abs(fd - grad[idx]) <= 1e-6 * abs(fd) + 2e-6, (idx, fd, grad[idx])


@pytest.mark.parametrize("loss", SMOOTH_CASES)
@SETTINGS
@given(data=st.data())
def test_hessian_product_matches_finite_differences(loss, data):
    y, s = data.draw(problems(loss))
    v = data.draw(arrays(np.float64, s.shape, elements=st.floats(-1, 1)))
    # A step H v moves every margin by at most 2 H, far less than FAR.
    good = _break_distance(loss, y, s) > FAR
    assume(good.any())
    hv = loss.hessian_product(y, s, v)
    fd = (loss.gradient(y, s + H * v) - loss.gradient(y, s - H * v)) / (2 * H)
    np.testing.assert_allclose(_rows(hv)[good], _rows(fd)[good], rtol=1e-5, atol=1e-5)
    if not loss.is_multiclass:
        np.testing.assert_allclose(hv, loss.hessian(y, s) * v, rtol=1e-15, atol=0)


@pytest.mark.parametrize("loss", CASES)
@SETTINGS
@given(data=st.data())
def test_subgradient_inequality_including_kinks(loss, data):
    y, s = data.draw(problems(loss, on_kinks=True))
    scale = data.draw(st.sampled_from([1e-3, 0.1, 1.0, 5.0]))
    step = data.draw(arrays(np.float64, s.shape, elements=st.floats(-1, 1)))
    other = s + scale * step
    value, grad = loss.loss(y, s), loss.gradient(y, s)
    linear = grad * (other - s)
    if loss.is_multiclass:
        linear = linear.sum(axis=1)
    after = loss.loss(y, other)
    tol = 1e-10 * (1.0 + np.abs(value) + np.abs(after))
    assert np.all(after >= value + linear - tol)


@pytest.mark.parametrize("loss", CASES)
@SETTINGS
@given(data=st.data())
def test_values_stay_above_the_declared_infimum(loss, data):
    # the duality gap's conjugate bound rests on it (LinearObjective)
    y, s = data.draw(problems(loss, on_kinks=True))
    far = data.draw(st.sampled_from([1.0, 10.0, 1e3]))
    assert np.all(loss.loss(y, s) >= loss.infimum - 1e-12)
    assert np.all(loss.loss(y, far * s) >= loss.infimum - 1e-12)


def test_smoothed_crammer_singer_reaches_its_infimum():
    # far ahead of every other class, the smoothed max picks p = e_y:
    # h_mu = -mu/2, the declared infimum (a looser one would weaken the gap)
    loss = CrammerSinger(smoothing=0.4)
    value = loss.loss(np.array([0]), np.array([[10.0, 0.0, 0.0]]))
    assert value[0] == pytest.approx(loss.infimum, abs=1e-12)
    assert loss.infimum < 0


@pytest.mark.parametrize("loss", SMOOTH_CASES)
@SETTINGS
@given(data=st.data())
def test_curvature_within_smoothness(loss, data):
    y, s = data.draw(problems(loss, on_kinks=True))
    bound = loss.smoothness(n_outputs=_n_outputs(s))
    assert bound > 0
    tol = 1e-12 * (1.0 + (bound if np.isfinite(bound) else 0.0))
    if loss.is_multiclass:
        # Assemble each per-sample Hessian from products with the unit vectors.
        n, k = s.shape
        units = [np.tile(np.eye(k)[j], (n, 1)) for j in range(k)]
        hess = np.stack([loss.hessian_product(y, s, e) for e in units], axis=2)
        np.testing.assert_allclose(hess, hess.transpose(0, 2, 1), atol=1e-10)
        eig = np.linalg.eigvalsh(0.5 * (hess + hess.transpose(0, 2, 1)))
    else:
        eig = loss.hessian(y, s)
    assert np.all(eig >= -1e-10)  # convex
    assert np.all(eig <= bound + tol)
    if np.isfinite(bound):
        scale = data.draw(st.sampled_from([1e-3, 0.1, 1.0, 5.0]))
        step = scale * data.draw(arrays(np.float64, s.shape, elements=st.floats(-1, 1)))
        dg = loss.gradient(y, s + step) - loss.gradient(y, s)
        if loss.is_multiclass:
            lhs, rhs = np.linalg.norm(dg, axis=1), np.linalg.norm(step, axis=1)
        else:
            lhs, rhs = np.abs(dg), np.abs(step)
        assert np.all(lhs <= bound * rhs * (1 + 1e-9) + 1e-12)


@pytest.mark.parametrize("loss", INSTANCES, ids=repr)
def test_smooth_flag_consistent(loss):
    y = np.array([0, 1]) if loss.is_multiclass else np.array([1.0, -1.0])
    s = np.array([[0.3, -0.2, 1.0], [0.0, 0.0, 0.0]]) if loss.is_multiclass else y
    if loss.is_smooth:
        assert loss.smoothness(n_outputs=3) > 0
        assert loss.hessian_product(y, s, np.ones_like(s)).shape == s.shape
    else:
        assert loss.smoothness(n_outputs=3) == np.inf
        with pytest.raises(NotImplementedError):
            loss.hessian_product(y, s, np.ones_like(s))


# -------------------------------------------------------------- solver hooks
@pytest.mark.parametrize("loss", SMOOTHABLE_CASES)
@SETTINGS
@given(data=st.data())
def test_smoothed_is_vanishing_lower_approximation(loss, data):
    y, s = data.draw(problems(loss, on_kinks=True))
    exact = loss.loss(y, s)
    tol = 1e-12 * (1.0 + np.abs(exact))
    previous = np.inf
    for mu in [2.0, 0.5, 0.1, 1e-2, 1e-3, 1e-9]:
        approx = loss.smoothed(mu)
        assert approx.is_smooth
        approx.validate()
        gap = exact - approx.loss(y, s)
        assert np.all(gap >= -tol)
        assert np.all(gap <= previous + tol)
        previous = gap
    assert np.all(previous <= 1e-6)


@pytest.mark.parametrize("loss", TERM_CASES)
@SETTINGS
@given(data=st.data())
def test_hinge_terms_sum_to_loss(loss, data):
    y, s = data.draw(problems(loss, on_kinks=True))
    sample, a, c = loss.hinge_terms(y, s)
    scores = _rows(s)
    assert a.shape == (c.size, scores.shape[1]) and sample.shape == c.shape
    total = np.zeros(scores.shape[0])
    for t in range(c.size):  # brute force, one term at a time
        total[sample[t]] += max(0.0, c[t] + float(a[t] @ scores[sample[t]]))
    np.testing.assert_allclose(total, _per_sample(loss, y, s), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------- API contract
@pytest.mark.parametrize("loss", CASES)
@SETTINGS
@given(data=st.data())
def test_loss_gradient_and_shapes(loss, data):
    y, s = data.draw(problems(loss, on_kinks=True))
    value, grad = loss.loss_gradient(y, s)
    np.testing.assert_allclose(value, loss.loss(y, s), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(grad, loss.gradient(y, s), rtol=1e-14, atol=1e-14)
    assert grad.shape == s.shape
    assert value.shape == ((s.shape[0],) if loss.is_multiclass else s.shape)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    if loss.is_multiclass:
        # Only score differences matter: shifting a row changes nothing.
        shift = data.draw(st.sampled_from([-3.0, 0.5, 2.0]))
        np.testing.assert_allclose(loss.loss(y, s + shift), value, atol=1e-12)
        np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("loss", INSTANCES + PAIRWISE, ids=repr)
def test_params_round_trip_and_clone(loss):
    params = loss.get_params()
    signature = inspect.signature(type(loss)).parameters
    assert set(params) == set(signature)
    assert type(loss)(**params).get_params() == params
    copy = clone(loss)
    assert type(copy) is type(loss) and copy is not loss
    assert copy.get_params() == params
    assert eval(repr(loss)).get_params() == params  # noqa: S307 - our own repr
    assert loss.validate() is loss
    for name, value in params.items():
        new = (not value) if isinstance(value, bool) else value * 2 + 0.5
        changed = clone(loss).set_params(**{name: new})
        assert changed.get_params()[name] == new
        assert changed.set_params(**params).get_params() == params


def test_registry_names():
    for key, cls in LOSSES.items():
        assert cls().name == key
        assert cls().validate().get_params() == cls().get_params()


BAD = [
    (SmoothHinge, {"gamma": 0}, ["gamma"]),
    (SmoothHinge, {"margin": -1}, ["margin"]),
    (GaussianHinge, {"sigma": -1}, ["sigma"]),
    (GaussianHinge, {"sigma": np.nan}, ["sigma"]),
    (Hinge, {"margin": -1}, ["margin"]),
    (WestonWatkins, {"delta": 0}, ["delta"]),
    (WestonWatkins, {"squared": "yes"}, ["squared"]),
    (WestonWatkins, {"smoothing": -0.1}, ["smoothing"]),
    (WestonWatkins, {"squared": True, "smoothing": 0.1}, ["squared", "smoothing"]),
    (CrammerSinger, {"delta": 0}, ["delta"]),
    (CrammerSinger, {"squared": "yes"}, ["squared"]),
    (CrammerSinger, {"smoothing": np.inf}, ["smoothing"]),
    (PairwiseSquaredHinge, {"margin": -1}, ["margin"]),
    (PairwiseSquare, {"margin": np.nan}, ["margin"]),
    (PairwiseSmoothHinge, {"gamma": 0.0}, ["gamma"]),
    (PairwiseSmoothHinge, {"gamma": np.inf}, ["gamma"]),
]


@pytest.mark.parametrize(("cls", "params", "names"), BAD)
def test_validate_rejects_bad_values(cls, params, names):
    with pytest.raises(ValueError) as info:
        cls(**params).validate()
    for name in names:
        assert repr(name) in str(info.value)


def test_cross_products_of_valid_flags_validate():
    for cls in (WestonWatkins, CrammerSinger):
        for squared, smoothing in itertools.product([False, True], [0.0, 0.5]):
            loss = cls(squared=squared, smoothing=smoothing)
            if cls is WestonWatkins and squared and smoothing:
                continue
            assert loss.validate() is loss
            assert loss.is_smooth == (
                smoothing > 0 or (squared and cls is WestonWatkins)
            )
