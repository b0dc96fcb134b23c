"""Hand-computed loss values and the numerical range of the Gaussian hinge.

The references here are numbers worked out by hand, table values of the normal
distribution, or integrals computed by quadrature, never the losses' formulas.
"""

import math
import warnings

import numpy as np
import pytest
from scipy.integrate import quad

from hinge_estimators.losses import (
    CrammerSinger,
    GaussianHinge,
    Hinge,
    ModifiedHuber,
    SmoothHinge,
    SquaredHinge,
    WestonWatkins,
)

PHI_1 = 0.8413447460685429  # standard normal cdf at 1 (tables)
PDF_1 = 0.24197072451914337  # standard normal pdf at 1


def _binary(loss, z):
    """Loss, derivative and curvature at margins ``z`` (with y = +1)."""
    z = np.asarray(z, dtype=float)
    y = np.ones_like(z)
    return loss.loss(y, z), loss.gradient(y, z)


def test_hinge_values():
    assert _binary(Hinge(), 0.25)[0] == 0.75
    assert _binary(Hinge(margin=0.5), 0.25)[0] == 0.25
    assert _binary(Hinge(), 1.0)[1] == -1.0  # active at the kink
    assert _binary(Hinge(), 1.5) == (0.0, 0.0)
    # y = -1 flips the sign of the gradient with respect to the score.
    assert Hinge().gradient(np.array([-1.0]), np.array([0.0]))[0] == 1.0


def test_squared_hinge_values():
    assert _binary(SquaredHinge(), -1.0) == (4.0, -4.0)
    assert _binary(SquaredHinge(), 0.5) == (0.25, -1.0)


def test_smooth_hinge_values():
    loss = SmoothHinge(gamma=0.5)
    value, grad = _binary(loss, [0.8, 0.0, 1.2, 0.5])
    np.testing.assert_allclose(value, [0.04, 0.75, 0.0, 0.25], rtol=1e-14)
    np.testing.assert_allclose(grad, [-0.4, -1.0, 0.0, -1.0], rtol=1e-14)
    assert loss.smoothness() == 2.0
    # margin shifts the whole curve: SmoothHinge(margin=0.5) at 0.3 is u = 0.2.
    np.testing.assert_allclose(
        _binary(SmoothHinge(gamma=0.5, margin=0.5), 0.3)[0], 0.04, rtol=1e-14
    )


def test_modified_huber_values():
    loss = ModifiedHuber()
    value, grad = _binary(loss, [-2.0, -1.0, 0.0, 2.0])
    np.testing.assert_array_equal(value, [8.0, 4.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad, [-4.0, -4.0, -2.0, 0.0])
    z = np.linspace(-4, 3, 141)
    four = SmoothHinge(gamma=2.0)
    y = np.ones_like(z)
    np.testing.assert_allclose(loss.loss(y, z), 4 * four.loss(y, z), rtol=1e-14)
    np.testing.assert_allclose(loss.gradient(y, z), 4 * four.gradient(y, z), rtol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = loss.loss(np.ones(2), np.array([-1e300, 1e300]))
    np.testing.assert_array_equal(big, [4e300, 0.0])


def test_gaussian_hinge_values():
    for sigma in (0.1, 0.5, 1.0):
        value = _binary(GaussianHinge(sigma=sigma), 1.0)[0]
        assert value == pytest.approx(sigma / math.sqrt(2 * math.pi), rel=1e-15, abs=0)
    loss = GaussianHinge(sigma=0.3)
    value, grad = _binary(loss, 0.7)
    assert grad == pytest.approx(-PHI_1, rel=1e-15, abs=0)
    # t = 0.3, u = 1: t Phi(1) + sigma phi(1).
    assert value == pytest.approx(0.3 * PHI_1 + 0.3 * PDF_1, rel=1e-15, abs=0)
    assert loss.hessian(np.ones(1), np.array([0.7]))[0] == pytest.approx(
        PDF_1 / 0.3, rel=1e-15, abs=0
    )
    assert loss.smoothness() == pytest.approx(1 / (0.3 * math.sqrt(2 * math.pi)))
    # Above the hinge by at most sigma / sqrt(2 pi), the gap at z = 1.
    z = np.linspace(-5, 6, 221)
    gap = loss.loss(np.ones_like(z), z) - np.maximum(1 - z, 0)
    assert np.all(gap >= 0) and np.all(gap <= 0.3 / math.sqrt(2 * math.pi) + 1e-16)


def _expectation(z, sigma):
    """``E[t + sigma Z]_+`` by quadrature, ``t = 1 - z``."""
    t = 1.0 - z
    lower = -t / sigma

    def integrand(x):
        return (t + sigma * x) * math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    return quad(integrand, lower, math.inf, epsabs=0, epsrel=1e-13, limit=200)[0]


def _tail(z, sigma):
    """The same expectation deep in the right tail, ``v = (z - 1) / sigma >> 1``.

    Substituting ``x = v + y / v`` gives ``sigma phi(v) / v^2`` times
    ``int_0^inf y exp(-y - y^2 / (2 v^2)) dy``, a well-scaled integral.
    """
    v = (z - 1.0) / sigma
    scaled = quad(
        lambda y: y * math.exp(-y - y * y / (2 * v * v)),
        0,
        math.inf,
        epsabs=0,
        epsrel=1e-13,
    )[0]
    return sigma * math.exp(-0.5 * v * v) / math.sqrt(2 * math.pi) / v**2 * scaled


def _asymptotic(z, sigma):
    """``sigma phi(v) (1/v^2 - 3/v^4 + 15/v^6 - ...)`` summed to its smallest term."""
    v = (z - 1.0) / sigma
    total, term, k = 0.0, 1.0 / v**2, 1
    while abs(term) > 1e-18 * abs(total) or total == 0.0:
        total += term
        new = -term * (2 * k + 1) / v**2
        if abs(new) > abs(term):
            break
        term, k = new, k + 1
    return sigma * math.exp(-0.5 * v * v) / math.sqrt(2 * math.pi) * total


@pytest.mark.parametrize("z", [-3.0, -1.0, 0.0, 0.5, 0.9, 1.0, 1.3, 2.0, 2.2])
def test_gaussian_hinge_against_quadrature(z):
    value = _binary(GaussianHinge(sigma=0.5), z)[0]
    assert value == pytest.approx(_expectation(z, 0.5), rel=1e-12, abs=0)


@pytest.mark.parametrize("z", np.linspace(2.0, 19.0, 35))
def test_gaussian_hinge_right_tail_has_no_cancellation(z):
    # v = (z - 1) / sigma runs over [2, 36]: every evaluation branch is crossed.
    value = _binary(GaussianHinge(sigma=0.5), z)[0]
    assert value > 0
    assert value == pytest.approx(_tail(z, 0.5), rel=1e-12, abs=0)
    if z >= 10:  # the asymptotic series is accurate enough from v = 18 on
        assert value == pytest.approx(_asymptotic(z, 0.5), rel=1e-12, abs=0)


@pytest.mark.parametrize("sigma", [0.5, 0.1, 1e-200])
def test_gaussian_hinge_extreme_margins_raise_nothing(sigma):
    # 1 + 37.6 sigma and 1 + 38.5 sigma: a subnormal and an underflowing tail.
    z = np.array([-1e300, -1e6, -40.0, 40.0, 1e6, 1e300])
    z = np.concatenate([z, 1.0 + sigma * np.array([37.6, 38.5])])
    loss = GaussianHinge(sigma=sigma)
    y = np.ones_like(z)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        value, grad = loss.loss_gradient(y, z)
        curvature = loss.hessian(y, z)
    for out in (value, grad, curvature):
        assert np.all(np.isfinite(out))
    assert np.all(value >= 0) and np.all((grad >= -1) & (grad <= 0))
    assert np.all(curvature >= 0)
    assert value[1] == pytest.approx(1.0 + 1e6, rel=1e-12, abs=0)
    assert value[0] == 1e300
    # Right tail: the true value, sigma phi(78) / 78^2 at most, underflows.
    assert _asymptotic(40.0, 0.5) == 0.0
    np.testing.assert_array_equal(value[3:6], 0.0)
    if sigma > 1e-100:  # (for tiny sigma, 1 + 38 sigma rounds to 1)
        assert 0.0 < value[6] < 1e-300 * sigma and value[7] == 0.0
    np.testing.assert_array_equal(grad[[0, 1]], -1.0)


def test_weston_watkins_values():
    zeros = np.zeros((2, 3))
    y = np.array([0, 2])
    for delta in (1.0, 0.5):
        np.testing.assert_array_equal(
            WestonWatkins(delta=delta).loss(y, zeros), 2 * delta
        )
        np.testing.assert_array_equal(
            WestonWatkins(delta=delta, squared=True).loss(y, zeros), 2 * delta**2
        )
    grad = WestonWatkins().gradient(y, zeros)
    np.testing.assert_array_equal(grad, [[-2, 1, 1], [1, 1, -2]])
    # The CS231n notes' example: scores (3.2, 5.1, -1.7), true class 0.
    scores = np.array([[3.2, 5.1, -1.7]])
    assert WestonWatkins().loss(np.array([0]), scores)[0] == pytest.approx(2.9)
    # Smoothed with mu = 0.5: margin 2.9 -> 2.65, margin -3.9 -> 0.
    smooth = WestonWatkins(smoothing=0.5).loss(np.array([0]), scores)[0]
    assert smooth == pytest.approx(2.65)
    # A margin of exactly 0 is active (subgradient 1), like Hinge.
    tie = np.array([[1.0, 0.0, -5.0]])
    np.testing.assert_array_equal(
        WestonWatkins().gradient(np.array([0]), tie), [[-1.0, 1.0, 0.0]]
    )


def test_weston_watkins_hinge_terms_layout():
    sample, a, c = WestonWatkins(delta=2.0).hinge_terms(
        np.array([1, 0]), np.zeros((2, 3))
    )
    np.testing.assert_array_equal(sample, [0, 0, 1, 1])
    np.testing.assert_array_equal(a, [[1, -1, 0], [0, -1, 1], [-1, 1, 0], [-1, 0, 1]])
    np.testing.assert_array_equal(c, 2.0)


def test_crammer_singer_values():
    zeros = np.zeros((2, 4))
    y = np.array([3, 1])
    for delta in (1.0, 2.0):
        np.testing.assert_array_equal(CrammerSinger(delta=delta).loss(y, zeros), delta)
        np.testing.assert_array_equal(
            CrammerSinger(delta=delta, squared=True).loss(y, zeros), delta**2
        )
    # W = 0 is a tie of all wrong classes: the first one gets the +1.
    grad = CrammerSinger().gradient(y, zeros)
    np.testing.assert_array_equal(grad, [[1, 0, 0, -1], [1, -1, 0, 0]])
    scores = np.array([[3.2, 5.1, -1.7], [3.2, 5.1, -1.7]])
    loss = CrammerSinger().loss(np.array([0, 1]), scores)
    np.testing.assert_allclose(loss, [2.9, 0.0], atol=1e-15)
    # Smoothed at zero scores, K = 3, mu = 0.5: e + s - s_y = (0, 1, 1); the
    # sparsemax p = (0, 1/2, 1/2), so h = <p, v> - mu/2 ||p||^2 = 1 - 0.125.
    smooth = CrammerSinger(smoothing=0.5).loss(np.array([0]), np.zeros((1, 3)))
    assert smooth[0] == pytest.approx(0.875, rel=1e-15)


def test_weston_watkins_squared_bound_is_attained():
    # All margins positive: Hessian 2 sum_j (e_j - e_y)(e_j - e_y)^T, top 2 K.
    k = 4
    loss = WestonWatkins(squared=True)
    y, s = np.array([0]), np.array([[0.0, 0.1, 0.2, 0.3]])
    hess = np.stack(
        [loss.hessian_product(y, s, np.eye(k)[j][None]) for j in range(k)], axis=2
    )[0]
    assert np.linalg.eigvalsh(hess).max() == pytest.approx(loss.smoothness(k))


def test_smoothed_weston_watkins_bound_is_attained():
    # All margins inside the band (0, mu): Hessian (1 / mu) times the star
    # Laplacian, whose top eigenvalue is K.
    k, mu = 4, 0.2
    loss = WestonWatkins(smoothing=mu)
    y, s = np.array([0]), np.array([[1.0, 0.05, 0.1, 0.15]])
    hess = np.stack(
        [loss.hessian_product(y, s, np.eye(k)[j][None]) for j in range(k)], axis=2
    )[0]
    assert np.linalg.eigvalsh(hess).max() == pytest.approx(loss.smoothness(k))


def test_smoothed_offers():
    assert Hinge(margin=0.5).smoothed(0.1).get_params() == {
        "gamma": 0.1,
        "margin": 0.5,
    }
    assert WestonWatkins(delta=2.0).smoothed(0.1).get_params() == {
        "delta": 2.0,
        "squared": False,
        "smoothing": 0.1,
    }
    assert CrammerSinger(squared=True).smoothed(0.2).get_params() == {
        "delta": 1.0,
        "squared": True,
        "smoothing": 0.2,
    }
    # Already smooth, or an upper approximation of the hinge: nothing offered.
    for loss in (
        SquaredHinge(),
        SmoothHinge(),
        GaussianHinge(),
        ModifiedHuber(),
        WestonWatkins(squared=True),
        WestonWatkins(smoothing=0.1),
        CrammerSinger(smoothing=0.1),
    ):
        assert loss.smoothed(0.1) is None
    # Only the plain unsmoothed multiclass losses decompose into hinge terms.
    y, s = np.array([0]), np.zeros((1, 3))
    assert WestonWatkins(squared=True).hinge_terms(y, s) is None
    assert WestonWatkins(smoothing=0.1).hinge_terms(y, s) is None
    assert CrammerSinger().hinge_terms(y, s) is None
