"""The loss contract.

A loss maps targets and SCORES to per-sample values. It knows nothing of the
design matrix, of sample weights, of ``C`` or of the intercept: those live in
:class:`hinge_estimators.LinearObjective`, the one place that turns a loss on
scores into an objective on coefficients.

Two families share the contract.

*Binary (margin) losses* (``is_multiclass = False``) take ``y`` with entries in
{-1, +1} and ``scores`` of the same shape: a vector for one binary problem, or
an ``(n, K)`` matrix for ``K`` one-vs-rest problems at once (one column per
class). They act entry-wise on the margin ``z = y * score`` through a function
``phi(z)``; :meth:`loss` returns an array of the shape of ``scores``.

*Multiclass losses* (``is_multiclass = True``) take integer class codes ``y``
of shape ``(n,)`` and ``scores`` of shape ``(n, K)``; :meth:`loss` returns one
value per sample, shape ``(n,)``.

*Pairwise losses* (``is_pairwise = True``, subclasses of :class:`PairwiseLoss`)
couple the samples: they compare every positive (``y = +1``) with every
negative (``y = -1``) through a function ``phi(s_i - s_j)`` of the score
difference, so they have no per-sample value and take the whole score vector
at once, with the sample weights (the weighting is part of the loss). They
provide the ``pair_*`` methods below instead of the per-sample ones, which
raise ``NotImplementedError``.

Methods every loss provides
---------------------------
``loss(y, scores)``
    Values (see above).
``gradient(y, scores)``
    Derivative with respect to the scores, shape of ``scores``. Where the loss
    has a kink, an element of the subdifferential, documented by the loss.
``loss_gradient(y, scores)``
    Both, computed once.
``hessian_product(y, scores, direction)``
    Smooth losses only: per-sample curvature applied to ``direction`` (same
    shape as ``scores``). Binary losses also give ``hessian(y, scores)``, the
    diagonal.
``smoothness(n_outputs=1)``
    Supremum of the curvature (largest eigenvalue of the per-sample Hessian in
    score space); ``inf`` for a non-smooth loss. For a pairwise loss, the
    supremum of ``phi''``.

Methods of pairwise losses
--------------------------
``y`` holds +-1 and ``scores`` one score per sample, both of shape ``(n,)`` or
``(n, 1)``; ``sample_weight`` is ``(n,)`` or ``None`` (ones). With ``W_P`` and
``W_N`` the weighted class totals and ``W = W_P + W_N``, the loss is

    ``total = W / (W_P W_N) * sum_{i: y_i = +1} sum_{j: y_j = -1}
    w_i w_j phi(s_i - s_j)``,

the weighted mean over the (positive, negative) pairs in per-sample units:
multiplying it by ``C`` means what ``C`` means for a per-sample loss (``W``
times a mean), and a weight ``k`` equals repeating the sample ``k`` times.
It is 0 when a class has no weight.

``pair_loss(y, scores, sample_weight)``
    ``total``, a float.
``pair_gradient(y, scores, sample_weight)``
    ``d total / d scores``, shape of ``scores``.
``pair_loss_gradient(y, scores, sample_weight)``
    Both, computed once.
``pair_hessian_product(y, scores, direction, sample_weight)``
    The (generalized) Hessian of ``total`` in score space applied to
    ``direction``; ``pair_hessian_operator(y, scores, sample_weight)`` returns
    the function ``direction -> product`` with the work that depends only on
    the scores done once (what Newton's conjugate gradients want).
``pair_curvature_bound(y, sample_weight)``
    The function ``v -> B v`` for a fixed positive semi-definite ``B`` above
    every (generalized) Hessian, ``H(s) <= B`` for all scores: the Hessian
    with every pair active and ``phi'' = smoothness()``. ``LinearObjective``
    bounds the Lipschitz constant of its gradient with it.

Capabilities, declared rather than inferred from the class
-----------------------------------------------------------
``is_smooth``
    Differentiable with a Lipschitz (at least locally) gradient.
``is_multiclass``
    Takes integer codes and trains all classes jointly.
``is_pairwise``
    Couples samples (takes the whole score vector, see above); solvers that
    do not declare ``handles_pairwise`` refuse it.
``infimum``
    A lower bound on every value of the loss, attained or approached
    (``0.0`` for the whole family except a smoothed plain Crammer-Singer
    loss, ``-smoothing / 2``). The duality gap of ``LinearObjective`` needs
    it: the conjugate ``l^*`` at a scaled gradient ``t g`` is bounded through
    ``l^*(0) = -inf l``.
``is_piecewise_quadratic``
    Smooth, with a (generalized) second derivative that is constant between
    finitely many breakpoints (the squared hinge, modified Huber, smoothed
    hinges). A quadratic model of such a loss is exact until a sample crosses
    a breakpoint and can be badly wrong past it, so the Newton solver moves
    along its direction by a line search rather than within a trust region.

Optional hooks used by the first-order solvers
----------------------------------------------
``smoothed(mu)``
    A smooth loss that approximates this one FROM BELOW, within a gap that
    vanishes as ``mu -> 0`` (Nesterov smoothing). ``None`` if not offered.
``hinge_terms(y, scores)``
    For piecewise-linear losses that are sums of hinge terms
    ``[c_t + a_t . s_{i_t}]_+``: the arrays ``(sample_index, A, c)``. Solvers use
    them to finish a smoothed solution exactly (an active-set polish).
``max_hinge_terms(y, scores)``
    The same arrays for a loss that is the hinge of a MAX of such terms per
    sample, ``[max_t (c_t + a_t . s_i)]_+`` (Crammer-Singer).

Optional hook used by the interior-point solver
-----------------------------------------------
``multiclass_dual()``
    A :class:`MulticlassDual` where the loss's dual is the quadratic program
    over one multiplier per sample and wrong class, each sample's margin
    terms ``delta + s_r - s_{y_i}`` hinged one by one (a box per multiplier:
    Weston-Watkins) or through their max (a simplex per sample:
    Crammer-Singer), plain or squared (``quadratic``), else ``None``.

Optional hook used by the compiled per-sample solvers
-----------------------------------------------------
``compiled_kernel()``
    A :class:`CompiledLoss` naming the formula of the compiled SGD kernel that
    computes this loss per sample, or ``None`` (the default: the solver then
    takes mini-batch steps through the vectorized ``loss_gradient``, which is
    how a user-written loss works). Both formulas are tested against each
    other.

Hyper-parameters are constructor arguments, exposed through ``get_params`` /
``set_params``; :meth:`validate` raises a ``ValueError`` for a bad value.
"""

from dataclasses import dataclass

import numpy as np

from .._params import ParamsMixin


@dataclass(frozen=True)
class DualForm:
    """Which compiled dual a loss has (see ``Loss.dual_form``).

    Attributes
    ----------
    multiclass : bool
        ``False``: the binary SVM dual (one variable per sample);
        ``True``: the Crammer-Singer dual (``K`` variables per sample).
    margin : float
        The hinge's margin (``delta`` for Crammer-Singer).
    squared : bool
        L2 loss (the hinge squared) rather than L1 loss.
    """

    multiclass: bool
    margin: float
    squared: bool


@dataclass(frozen=True)
class MulticlassDual:
    """The dual an interior point solves for a plain multiclass hinge (see
    ``Loss.multiclass_dual``).

    Attributes
    ----------
    simplex : bool
        ``True``: each sample's multipliers share one bound (the hinge of the
        max of its margin terms, Crammer-Singer); ``False``: each multiplier
        has its own (a sum of hinges, Weston-Watkins).
    margin : float
        ``delta``, the margin each term asks for.
    quadratic : bool
        ``True`` for the squared loss (each hinge, or the hinge of the max,
        squared): no upper bound on the multipliers, a quadratic term in
        the dual instead (see ``solve_multiclass_dual``).
    """

    simplex: bool
    margin: float
    quadratic: bool = False


@dataclass(frozen=True)
class CompiledLoss:
    """The compiled per-sample formula of a built-in loss (see ``compiled_kernel``).

    Attributes
    ----------
    name : str
        Key of the kernel's loss table (``_sgd_fast.LOSS_CODES``).
    a, b, c : float
        The loss's parameters in the kernel's order (margin, gamma, sigma,
        delta, squared, smoothing: see ``_sgd_fast.margin_derivative`` and
        ``multiclass_gradient``).
    """

    name: str
    a: float = 0.0
    b: float = 0.0
    c: float = 0.0


class Loss(ParamsMixin):
    """Base class of every loss; see the module docstring for the contract."""

    is_smooth = False
    is_multiclass = False
    is_pairwise = False
    is_piecewise_quadratic = False

    @property
    def infimum(self):
        """A lower bound on every loss value (see the module docstring)."""
        return 0.0

    def loss(self, y, scores):
        """Per-sample (or per-entry) loss values."""
        raise NotImplementedError

    def gradient(self, y, scores):
        """Derivative (a subgradient at kinks) with respect to the scores."""
        raise NotImplementedError

    def loss_gradient(self, y, scores):
        """Return ``(loss(y, scores), gradient(y, scores))``."""
        return self.loss(y, scores), self.gradient(y, scores)

    def hessian_product(self, y, scores, direction):
        """Per-sample Hessian (in score space) applied to ``direction``."""
        raise NotImplementedError(
            f"{type(self).__name__} is not smooth: it has no Hessian."
        )

    def smoothness(self, n_outputs=1):
        """Supremum of the curvature in score space (``inf`` if not smooth)."""
        return np.inf

    def smoothed(self, mu):
        """A smooth lower approximation with parameter ``mu``, or ``None``."""
        return None

    def hinge_terms(self, y, scores):
        """Hinge-term decomposition ``(sample_index, A, c)``, or ``None``."""
        return None

    def max_hinge_terms(self, y, scores):
        """Terms whose max gives the loss, ``[max_t u_t]_+``, or ``None``."""
        return None

    def dual_form(self):
        """The :class:`DualForm` the compiled dual solver uses, or ``None``."""
        return None

    def multiclass_dual(self):
        """The :class:`MulticlassDual` the interior-point solver uses, or ``None``."""
        return None

    def compiled_kernel(self):
        """The :class:`CompiledLoss` of the compiled SGD kernel, or ``None``."""
        return None

    def step_curvature(self, n_outputs=1):
        """Bound on the curvature of one sample's term wherever it has one.

        ``smoothness()`` for a smooth loss; a loss that is not smooth only at
        ties (the squared Crammer-Singer) still has a curvature bound between
        them, which keeps SGD's steps stable. ``inf``: steps need no cap (a
        Lipschitz loss).
        """
        return self.smoothness(n_outputs)

    @property
    def name(self):
        """Registry name of this loss (the class name for user losses)."""
        from . import LOSSES

        for key, cls in LOSSES.items():
            if type(self) is cls:
                return key
        return type(self).__name__


class MarginLoss(Loss):
    """A binary loss ``l(y, s) = phi(y * s)`` of the margin ``z = y * s``.

    Subclasses implement ``_phi(z)``, ``_dphi(z)`` and, when smooth,
    ``_d2phi(z)``. Because ``y`` is +1 or -1, ``d l / d s = y phi'(z)`` and
    ``d2 l / d s2 = phi''(z)``.
    """

    def loss(self, y, scores):
        """Entry-wise ``phi(y * scores)``."""
        return self._phi(y * scores)

    def gradient(self, y, scores):
        """Entry-wise ``y * phi'(y * scores)``."""
        return y * self._dphi(y * scores)

    def loss_gradient(self, y, scores):
        """Values and gradient with the margin computed once."""
        z = y * scores
        return self._phi(z), y * self._dphi(z)

    def hessian(self, y, scores):
        """Diagonal curvature ``phi''(y * scores)`` (smooth losses only)."""
        if not self.is_smooth:
            return Loss.hessian_product(self, y, scores, None)
        return self._d2phi(y * scores)

    def hessian_product(self, y, scores, direction):
        """Entry-wise ``phi''(z) * direction``."""
        return self.hessian(y, scores) * direction

    def _phi(self, z):
        raise NotImplementedError

    def _dphi(self, z):
        raise NotImplementedError

    def _d2phi(self, z):
        raise NotImplementedError


@dataclass(frozen=True)
class PairGroups:
    """The two classes a pairwise loss compares, read once from its inputs.

    Attributes
    ----------
    scores, weights : ndarray of shape (n,)
        Flat scores and sample weights.
    is_pos : ndarray of bool of shape (n,)
        ``y > 0``.
    pos, neg : ndarray of int
        Indices of the positives (``y > 0``) and of the negatives.
    w_pos, w_neg : float
        Weighted class totals ``W_P`` and ``W_N``.
    factor : float
        ``W / (W_P W_N)``, the normalisation of the pair sum; 0 when a class
        has no weight (there are no pairs).
    """

    scores: np.ndarray
    weights: np.ndarray
    is_pos: np.ndarray
    pos: np.ndarray
    neg: np.ndarray
    w_pos: float
    w_neg: float
    factor: float


def pair_groups(y, scores, sample_weight=None):
    """Split ``(y, scores, sample_weight)`` into a :class:`PairGroups`."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(y).reshape(-1)
    if y.shape != s.shape:
        raise ValueError(
            "a pairwise loss takes one +-1 label and one score per sample; got "
            f"{y.shape[0]} labels and scores of shape {np.shape(scores)}."
        )
    if sample_weight is None:
        w = np.ones_like(s)
    else:
        w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    is_pos = y > 0
    pos, neg = np.flatnonzero(is_pos), np.flatnonzero(~is_pos)
    w_pos, w_neg = float(w[pos].sum()), float(w[neg].sum())
    factor = (w_pos + w_neg) / (w_pos * w_neg) if w_pos > 0 and w_neg > 0 else 0.0
    return PairGroups(s, w, is_pos, pos, neg, w_pos, w_neg, factor)


def running_sum(values):
    """``[0, cumsum(values)]``: ``out[k]`` is the sum of the first ``k`` values.

    Sorted sweeps index it by a count (a ``searchsorted`` position), and a
    window ``values[lo:hi]`` sums to ``out[hi] - out[lo]``.
    """
    out = np.zeros(np.size(values) + 1)
    np.cumsum(values, out=out[1:])
    return out


def all_pairs_product(groups, direction, curvature):
    """``curvature * factor * L v``, ``L`` the Laplacian of the complete pair graph.

    ``v^T L v = sum_{i in P, j in N} w_i w_j (v_i - v_j)^2``, so
    ``(L v)_i = w_i (W_N v_i - sum_N w_j v_j)`` for a positive ``i`` and
    symmetrically for a negative. O(n).
    """
    g = groups
    v = np.asarray(direction, dtype=np.float64).reshape(-1)
    out = np.zeros_like(v)
    if g.factor == 0.0:
        return out
    wp, wn = g.weights[g.pos], g.weights[g.neg]
    vp, vn = v[g.pos], v[g.neg]
    scale = curvature * g.factor
    out[g.pos] = scale * wp * (g.w_neg * vp - wn @ vn)
    out[g.neg] = scale * wn * (g.w_pos * vn - wp @ vp)
    return out


class PairwiseLoss(Loss):
    """A loss over all (positive, negative) pairs, ``phi(s_i - s_j)``.

    Subclasses implement :meth:`pair_loss_gradient` and
    :meth:`pair_hessian_operator` (and may specialise :meth:`pair_loss`). The
    per-sample methods of :class:`Loss` raise ``NotImplementedError``; see the
    module docstring for the contract and the normalisation.

    A pairwise loss is invariant to adding a constant to every score, so it
    does not determine an intercept: ``LinearObjective`` refuses
    ``fit_intercept=True`` with it, and ``HingeClassifier`` sets its threshold
    afterwards (see its ``fit_intercept``).

    Parameters
    ----------
    margin : float, default=1.0
        ``m``, by how much a positive's score should exceed a negative's.
    """

    is_smooth = True
    is_pairwise = True
    _constraints = {"margin": "nonnegative"}

    def __init__(self, margin=1.0):
        self.margin = margin

    def _per_sample(self, *args):
        raise NotImplementedError(
            f"{type(self).__name__} is pairwise: it has no per-sample values; "
            "use pair_loss, pair_gradient and pair_hessian_product, which take "
            "the whole score vector and the sample weights."
        )

    loss = gradient = loss_gradient = hessian_product = _per_sample

    def smoothness(self, n_outputs=1):
        """Supremum of ``phi''`` (2 for the squares of this package)."""
        return 2.0

    def pair_loss(self, y, scores, sample_weight=None):
        """The normalised weighted sum over pairs (a float)."""
        return self.pair_loss_gradient(y, scores, sample_weight)[0]

    def pair_gradient(self, y, scores, sample_weight=None):
        """Derivative of :meth:`pair_loss` with respect to the scores."""
        return self.pair_loss_gradient(y, scores, sample_weight)[1]

    def pair_loss_gradient(self, y, scores, sample_weight=None):
        """Return ``(pair_loss, pair_gradient)``, computed once."""
        raise NotImplementedError

    def pair_hessian_operator(self, y, scores, sample_weight=None):
        """The function ``direction -> H direction`` at ``scores``."""
        raise NotImplementedError

    def pair_hessian_product(self, y, scores, direction, sample_weight=None):
        """The (generalized) Hessian at ``scores`` applied to ``direction``."""
        product = self.pair_hessian_operator(y, scores, sample_weight)
        return product(direction).reshape(np.shape(direction))

    def pair_curvature_bound(self, y, sample_weight=None):
        """``v -> B v`` for a fixed ``B`` above every Hessian (module docstring)."""
        groups = pair_groups(y, np.zeros(np.shape(y)), sample_weight)
        curvature = self.smoothness()
        return lambda v: all_pairs_product(groups, v, curvature)


def smooth_plus(u, gamma):
    """Quadratically smoothed positive part, a lower approximation of ``[u]_+``.

    ``0`` for ``u <= 0``, ``u**2 / (2 gamma)`` on ``(0, gamma)`` and
    ``u - gamma / 2`` for ``u >= gamma``; it is the Moreau envelope of
    ``[u]_+`` with parameter ``gamma``, so ``[u]_+ - gamma/2 <= value <= [u]_+``.

    Returns
    -------
    value, derivative, curvature : ndarray
        The derivative is ``clip(u / gamma, 0, 1)``; the curvature is
        ``1 / gamma`` on the open band ``(0, gamma)`` and 0 elsewhere.
    """
    # clip before dividing: u / gamma would overflow for huge u and tiny gamma
    ramp = np.clip(u, 0.0, gamma) / gamma
    value = np.where(u >= gamma, u - 0.5 * gamma, 0.5 * ramp * np.maximum(u, 0.0))
    curvature = np.where((u > 0) & (u < gamma), 1.0 / gamma, 0.0)
    return value, ramp, curvature
