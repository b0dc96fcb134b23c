"""Gaussian-smoothed hinge loss ``psi_G`` (Luo, Qiao & Zhang, 2021)."""

import numpy as np
from scipy.special import erfc, ndtr

from ._base import CompiledLoss, MarginLoss

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
# Up to this the direct formula loses under two digits to cancellation;
# above it the continued fraction converges to full precision in _CF_TERMS terms.
_DIRECT_MAX = 2.5
_CF_TERMS = 80
# phi(v) / v**2 is below the smallest subnormal double beyond v ~ 38.6.
_UNDERFLOW = 40.0


def _gaussian_excess(v):
    """``E[(Z - v)_+] = phi(v) - v Q(v)`` for ``v >= 0``, without cancellation."""
    v = np.asarray(v, dtype=float)
    out = np.where(np.isnan(v), np.nan, 0.0)
    direct = v <= _DIRECT_MAX
    vd = v[direct]
    out[direct] = np.exp(-0.5 * vd * vd - _LOG_SQRT_2PI) - 0.5 * vd * erfc(
        vd / np.sqrt(2.0)
    )
    # Laplace's continued fraction for Mills' ratio R = Q / phi is
    # R = 1 / (v + k), k = 1 / (v + 2 / (v + 3 / ...)), so phi - v Q = phi k / (v + k)
    # with every quantity positive. Evaluated in log space so that values in the
    # subnormal range are still right.
    far = (v > _DIRECT_MAX) & (v < _UNDERFLOW)
    vf = v[far]
    k = np.zeros_like(vf)
    for j in range(_CF_TERMS, 0, -1):
        k = j / (vf + k)
    out[far] = np.exp(-0.5 * vf * vf - _LOG_SQRT_2PI + np.log(k / (vf + k)))
    return out


class GaussianHinge(MarginLoss):
    """Gaussian-smoothed hinge loss ``psi_G`` of the margin ``z = y * score``.

    Parameters
    ----------
    sigma : float, default=0.5
        Standard deviation of the Gaussian noise added to the hinge argument;
        the loss tends to the hinge uniformly as ``sigma -> 0``.

    Notes
    -----
    With ``t = 1 - z``, ``u = t / sigma`` and ``Phi``, ``phi`` the standard normal
    cdf and pdf, the loss is the hinge averaged over ``t + sigma Z``:

    .. math:: \\psi(z) = \\mathbb{E}[t + \\sigma Z]_+
              = t\\,\\Phi(u) + \\sigma\\,\\phi(u), \\qquad
              \\psi'(z) = -\\Phi(u), \\qquad \\psi''(z) = \\phi(u) / \\sigma

    Infinitely differentiable, convex, 1-Lipschitz, with a
    ``1 / (sigma sqrt(2 pi))``-Lipschitz derivative. It lies ABOVE the hinge,
    ``[t]_+ <= psi <= [t]_+ + sigma / sqrt(2 pi)`` (equality of the gap at
    ``z = 1``), so it is not a lower approximation and is not offered by
    ``smoothed``.

    It is evaluated as ``[t]_+ + sigma E[(Z - |u|)_+]``: the correction term is
    positive and computed without cancellation (Mills' ratio by a continued
    fraction for large ``|u|``), so the relative accuracy holds far in both
    tails, and it underflows to exact zero only where the true value does.
    The name ``psi_G`` and the definition follow Luo, Qiao & Zhang, "Learning
    with Smooth Hinge Losses", Neurocomputing 463 (2021), as reconstructed from
    the abstract.

    Examples
    --------
    >>> import numpy as np
    >>> from hinge_estimators.losses import GaussianHinge, Hinge
    >>> margins = np.linspace(-2.0, 3.0, 11)
    >>> y = np.ones_like(margins)
    >>> bool(np.all(GaussianHinge().loss(y, margins) >= Hinge().loss(y, margins)))
    True
    >>> # at the kink: E[sigma Z]_+ = sigma / sqrt(2 pi)
    >>> round(float(GaussianHinge(sigma=0.5).loss(np.ones(1), np.ones(1))[0]), 4)
    0.1995
    """

    is_smooth = True
    _constraints = {"sigma": "positive"}

    def __init__(self, sigma=0.5):
        self.sigma = sigma

    def _arg(self, z):
        t = 1.0 - np.asarray(z, dtype=float)
        # An infinite u (huge t, tiny sigma) is handled by every branch below.
        with np.errstate(over="ignore"):
            return t, t / self.sigma

    def _phi(self, z):
        t, u = self._arg(z)
        # Underflow of the tail to 0 is the right answer, not an error.
        with np.errstate(under="ignore"):
            return np.maximum(t, 0.0) + self.sigma * _gaussian_excess(np.abs(u))

    def _dphi(self, z):
        _, u = self._arg(z)
        with np.errstate(under="ignore"):
            return -ndtr(u)

    def _d2phi(self, z):
        _, u = self._arg(z)
        # Clipping keeps u * u finite; phi(40) already underflows to 0.
        u = np.clip(u, -_UNDERFLOW, _UNDERFLOW)
        with np.errstate(under="ignore"):
            return np.exp(-0.5 * u * u - _LOG_SQRT_2PI) / self.sigma

    def compiled_kernel(self):
        return CompiledLoss("gaussian_hinge", a=float(self.sigma))

    def smoothness(self, n_outputs=1):
        return 1.0 / (self.sigma * np.sqrt(2.0 * np.pi))
