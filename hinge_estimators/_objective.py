"""The linear objective: the one bridge from a loss on scores to coefficients."""

import numpy as np
import scipy.sparse as sp

from ._sparse_products import CsrHessian
from .penalties import get_penalty

#: ``penalty=None``'s bound takes a solver's multipliers ``U`` as dual
#: feasible (``X^T U = 0``) where each entry of ``X^T U`` is at most this
#: share of its sum's size (``LinearObjective._null_residual``):
#: an interior point's multipliers of the hinge's linear program leave 1e-16
#: to 6e-12 (330 random problems, 4 to 40 samples, features at scales 1e-4
#: to 1e2), a gradient 1e-3 and up
NULL_RESIDUAL = 1e-9
#: ... plus this share of the uncentred sums, the rounding of ``X^T U``
V_ROUNDING = 64 * np.finfo(np.float64).eps


class LinearObjective:
    """Regularized empirical risk of a linear model, in coefficient space.

    .. math::

        P(W, b) = \\Omega(W) + \\tfrac{1}{2}\\tfrac{\\|b\\|^2}{B^2}
                  + c \\sum_i s_i\\, \\ell(y_i, x_i W^\\top + b)

    with ``Omega`` the penalty (a :class:`~hinge_estimators.penalties.Penalty`:
    ``||W||^2 / 2`` for ``penalty="l2"``, ``||W||_1`` for ``"l1"``, ...) and
    ``c = C``, or ``Omega = 0, c = 1`` for ``penalty=None`` (the plain,
    unregularized empirical risk). The ``\\|b\\|^2 / B^2`` term is present only
    when ``intercept_scaling = B`` is a number and there is a penalty
    (LIBLINEAR's penalized bias: a constant feature ``B`` whose weight is
    penalized, ``b = B w_B``; it is an L2 term whatever ``Omega`` is, so L1
    never penalizes the intercept); by default the intercept is not penalized.

    The penalty is split as ``Omega(W) = (r / 2) ||W||^2 + Psi(W)`` (``r =
    reg``, the penalty's ``quadratic``): :meth:`value_and_gradient` and the
    Hessian products see the quadratic part as a smooth term, and the
    non-smooth part ``Psi`` (L1, group norms) enters :meth:`value`, a
    subgradient in :meth:`gradient`, and :meth:`prox`. Solvers that cannot
    handle ``Psi`` refuse a non-smooth penalty
    (``Solver.check_penalty``); :meth:`duality_gap` certifies any penalty.

    For a pairwise loss (``loss.is_pairwise``) the loss term is
    ``c * loss.pair_loss(y, X W^T, s)``: the loss weighs the pairs itself (see
    :class:`~hinge_estimators.losses.PairwiseLoss`); ``y`` is one +-1 column
    and there is no intercept, since a pairwise loss does not change when
    every score moves by the same amount (its intercept gradient would be 0
    and the Hessian singular).

    **Centered coordinates.** With a free, unpenalized intercept,
    ``x W^T + b = (x - mu) W^T + (b + W mu)`` for any ``mu``: the problem on
    ``X - mu`` is the same problem, and with ``mu`` the weighted column mean
    it is far better conditioned when the features sit far from 0 (the
    intercept's constant column is then nearly collinear with them: on
    ``X + 1e4``, L-BFGS stopped 0.6 % above the optimum at a 1e-8 relative
    gradient and gradient descent 6x above it after 1000 iterations).
    :meth:`centered` returns the problem in those coordinates: ``X`` is left
    as it is (sparse stays sparse) and ``mu`` enters the products, ``X W^T -
    mu W^T + b`` and ``X^T G - mu (1^T G)``; :meth:`center_coef` and
    :meth:`uncenter_coef` map coefficients between the two. The centered
    products carry an absolute rounding error of about ``eps |mu|`` times the
    coefficients, so a gradient measured in them bottoms out near
    ``eps |mu| / |X - mu|`` (relative), about 1e-12 on ``X + 1e4``.

    Coefficients travel as one flat vector (what generic optimizers want):
    ``W`` (``K x d``, row ``k`` is class ``k``) row-major, then ``b`` (``K``) when
    the intercept is fitted. Dense and CSR ``X`` are handled here and nowhere
    else; sparse ``X`` is never densified.

    Parameters
    ----------
    loss : Loss
        A loss object.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray
        Encoded targets: a +-1 matrix ``(n, K)`` for binary losses, integer
        codes ``(n,)`` for multiclass losses, one +-1 column ``(n, 1)`` (or a
        vector) for pairwise losses.
    n_outputs : int
        ``K``, the number of score columns.
    sample_weight : ndarray of shape (n_samples,), default=None
        ``s_i`` (sample weight times class weight).
    C : float, default=1.0
    fit_intercept : bool, default=True
    intercept_scaling : float or None, default=None
    penalty : str, Penalty or None, default="l2"
        A name of :data:`~hinge_estimators.penalties.PENALTIES`, a penalty
        object, or None.
    """

    def __init__(
        self,
        loss,
        X,
        y,
        *,
        n_outputs,
        sample_weight=None,
        C=1.0,
        fit_intercept=True,
        intercept_scaling=None,
        penalty="l2",
    ):
        self.loss = loss
        if sp.issparse(X):
            self.X = sp.csr_matrix(X, dtype=np.float64)
        else:
            self.X = np.asarray(X, dtype=np.float64)
        self.y = y
        self.n_samples, self.n_features = self.X.shape
        self.n_outputs = int(n_outputs)
        if sample_weight is None:
            sample_weight = np.ones(self.n_samples)
        self.sample_weight = np.asarray(sample_weight, dtype=np.float64)
        self.C = float(C)
        self.fit_intercept = bool(fit_intercept)
        self.intercept_scaling = intercept_scaling
        self.penalty = get_penalty(penalty)
        self.reg = 0.0 if self.penalty is None else float(self.penalty.quadratic)
        self.loss_scale = 1.0 if self.penalty is None else self.C
        penalized_bias = self.fit_intercept and intercept_scaling is not None
        self.intercept_penalty = 0.0
        if penalized_bias and self.penalty is not None:
            # 1 / B / B: no intermediate B^2 to overflow (B = 1e200 gives a
            # penalty that underflows to 0, as it should to double precision)
            scaling = float(intercept_scaling)
            self.intercept_penalty = 1.0 / scaling / scaling
            if not np.isfinite(self.intercept_penalty):
                raise ValueError(
                    f"intercept_scaling={intercept_scaling!r} is too small: the "
                    "intercept's penalty 1 / intercept_scaling**2 overflows "
                    "double precision; use intercept_scaling >= 1e-150, or "
                    "intercept_scaling=None for an unpenalized intercept."
                )
        if loss.is_pairwise:
            _check_pairwise(loss, self.y, self.n_outputs, self.fit_intercept)
        self._n_coef = self.n_outputs * self.n_features
        self.size = self._n_coef + (self.n_outputs if self.fit_intercept else 0)
        #: ``mu`` of the centered coordinates (see :meth:`centered`), or None
        self.offset = None

    def _copy(self):
        """A shallow copy (arrays shared) for the variants below to adjust."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        return other

    def with_loss(self, loss):
        """The same objective (data, weights, C, intercept) with another loss."""
        other = self._copy()
        other.loss = loss
        return other

    def with_C(self, C):
        """The same objective with another ``C`` (not with ``penalty=None``)."""
        other = self._copy()
        other.C = float(C)
        other.loss_scale = other.C
        return other

    def subset(self, rows, weight_scale=1.0):
        """The objective of the samples ``rows`` only (weights times ``weight_scale``).

        Same loss, ``C``, penalty and intercept; the pairs of a pairwise loss
        are then the pairs within ``rows``.
        """
        rows = np.asarray(rows)
        other = self._copy()
        other.X = self.X[rows]
        other.y = self.y[rows]
        other.sample_weight = self.sample_weight[rows] * weight_scale
        other.n_samples = len(rows)
        return other

    def column(self, k):
        """The binary problem of one-vs-rest column ``k``, as its own objective.

        The columns of a binary loss on ``K`` classes do not interact: ``P`` is
        the sum of the ``K`` column objectives, and a solver whose steps are
        shared (a trust region) may solve them one at a time.
        """
        if self.loss.is_multiclass:
            raise ValueError("a multiclass loss couples its score columns")
        if self.loss.is_pairwise:
            raise ValueError("a pairwise loss has a single score column")
        other = self._copy()
        other.y = self.y[:, k : k + 1]
        other.n_outputs = 1
        other._n_coef = self.n_features
        other.size = self.n_features + int(self.fit_intercept)
        return other

    def features(self, columns):
        """The objective restricted to the features ``columns`` (the rest held at 0).

        Same loss, targets, weights, ``C``, penalty and intercept; ``X`` is
        sliced to those columns (a copy), so the coefficients are ``W[:,
        columns]`` then ``b``. The fully-corrective refit of ``fc_boosting``.
        """
        columns = np.asarray(columns, dtype=np.intp)
        other = self.with_loss(self.loss)
        other.X = self.X[:, columns]
        other.n_features = len(columns)
        if self.offset is not None:
            other.offset = self.offset[columns]
        other._n_coef = self.n_outputs * len(columns)
        other.size = other._n_coef + (self.n_outputs if self.fit_intercept else 0)
        return other

    # -- centered coordinates (see the class docstring) ----------------------
    def centered(self):
        """The same problem in coordinates where the features have weighted mean 0.

        Returns ``self`` when centering does not apply: no intercept, a
        penalized intercept (``intercept_scaling`` with ``penalty="l2"``: its
        penalty is not invariant), a pairwise loss (no intercept), features
        already centered, or weights whose mean is not finite. Coefficients
        of the returned objective are ``(W, b + W mu)``: map them with
        :meth:`center_coef` and :meth:`uncenter_coef`.
        """
        if (
            self.offset is not None
            or not self.fit_intercept
            or self.intercept_penalty > 0
            or self.loss.is_pairwise
        ):
            return self
        weights = self.sample_weight
        top = float(np.max(weights)) if weights.size else 0.0
        if not (np.isfinite(top) and top > 0):
            return self
        weights = weights / top  # the mean does not change; its sums cannot overflow
        with np.errstate(all="ignore"):
            mean = np.asarray(self.X.T @ weights).ravel() / weights.sum()
        if not np.all(np.isfinite(mean)) or not np.any(mean):
            return self
        other = self._copy()
        other.offset = mean
        return other

    def center_coef(self, coef):
        """``(W, b)`` of the original problem as this objective's ``(W, b + W mu)``."""
        return self._move_intercept(coef, 1.0)

    def uncenter_coef(self, coef):
        """This objective's coefficients as ``(W, b)`` of the original problem."""
        return self._move_intercept(coef, -1.0)

    def _move_intercept(self, coef, sign):
        coef = np.array(coef, dtype=np.float64)
        if self.offset is None:
            return coef
        W, b = self.split(coef)
        b += sign * (W @ self.offset)  # b is a view into coef
        return coef

    # -- coefficient layout -------------------------------------------------
    def zeros(self):
        """A zero coefficient vector."""
        return np.zeros(self.size)

    def split(self, coef):
        """Views ``(W, b)`` of a flat coefficient vector (``b`` zeros if unfitted)."""
        W = coef[: self._n_coef].reshape(self.n_outputs, self.n_features)
        if self.fit_intercept:
            return W, coef[self._n_coef :]
        return W, np.zeros(self.n_outputs)

    def join(self, W, b):
        """Flat vector from ``(W, b)``; ``b`` is dropped without an intercept."""
        parts = [np.asarray(W, dtype=np.float64).ravel()]
        if self.fit_intercept:
            parts.append(np.asarray(b, dtype=np.float64).ravel())
        return np.concatenate(parts)

    # -- scores and their adjoint ---------------------------------------------
    def data_dot(self, M):
        """``(X - mu) M`` for ``M`` of shape ``(d,)`` or ``(d, K)``.

        ``mu`` is the offset of centered coordinates (0 otherwise); sparse
        ``X`` stays sparse.
        """
        out = np.asarray(self.X @ M)
        if self.offset is not None:
            out = out - self.offset @ M
        return out

    def data_t_dot(self, G):
        """``(X - mu)^T G`` for ``G`` of shape ``(n,)`` or ``(n, K)``."""
        out = np.asarray(self.X.T @ G)
        if self.offset is not None:
            out = out - np.multiply.outer(self.offset, G.sum(axis=0))
        return out

    def scores(self, coef):
        """``X W^T + b``, shape ``(n, K)``. Linear in ``coef`` (no offset)."""
        W, b = self.split(coef)
        S = self.data_dot(W.T)
        return S + b if self.fit_intercept else S

    def _adjoint(self, G):
        """Coefficient-space vector ``(G^T X, G.sum(0))`` for score weights ``G``."""
        gW = self.data_t_dot(G).T
        if self.fit_intercept:
            return np.concatenate([gW.ravel(), G.sum(axis=0)])
        return gW.ravel()

    @property
    def has_nonsmooth_penalty(self):
        """Whether the penalty has a non-smooth part ``Psi`` (L1, group norms)."""
        return self.penalty is not None and not self.penalty.is_smooth

    def _penalty(self, coef):
        W, b = self.split(coef)
        value = 0.5 * self.reg * np.dot(W.ravel(), W.ravel())
        if self.has_nonsmooth_penalty:
            value += self.penalty.nonsmooth_value(W)
        if self.fit_intercept:
            value += 0.5 * self.intercept_penalty * np.dot(b, b)
        return value

    def _penalty_gradient(self, coef):
        # the quadratic part only: Psi's subgradient is added by gradient()
        grad = np.empty_like(coef)
        grad[: self._n_coef] = self.reg * coef[: self._n_coef]
        if self.fit_intercept:
            grad[self._n_coef :] = self.intercept_penalty * coef[self._n_coef :]
        return grad

    def _per_sample(self, values):
        # binary losses return one value per (sample, column): sum the columns
        return values.sum(axis=1) if values.ndim == 2 else values

    # -- values and derivatives from precomputed scores ------------------------
    def value_from_scores(self, coef, scores):
        """``P`` at ``coef`` given ``scores = self.scores(coef)``."""
        return self._penalty(coef) + self.loss_scale * self.risk_from_scores(scores)

    def risk_from_scores(self, scores):
        """The weighted loss ``sum_i s_i l_i`` (no ``C``, no penalty) of ``scores``."""
        if self.loss.is_pairwise:
            return self.loss.pair_loss(self.y, scores, self.sample_weight)
        values = self._per_sample(self.loss.loss(self.y, self._fit_shape(scores)))
        return float(np.dot(self.sample_weight, values))

    def score_gradient_from_scores(self, scores):
        """Loss part of the value and ``dP/dscores`` (shape ``(n, K)``)."""
        if self.loss.is_pairwise:
            value, grad = self.loss.pair_loss_gradient(
                self.y, scores, self.sample_weight
            )
            return self.loss_scale * value, self.loss_scale * grad.reshape(scores.shape)
        values, grad = self.loss.loss_gradient(self.y, self._fit_shape(scores))
        value = self.loss_scale * np.dot(self.sample_weight, self._per_sample(values))
        weights = (self.loss_scale * self.sample_weight)[:, None]
        return value, weights * grad.reshape(scores.shape)

    def value_and_gradient_from_scores(self, coef, scores):
        """``(P, grad P)`` at ``coef`` given its scores.

        With a non-smooth penalty the gradient holds one subgradient of
        ``Psi`` (0 at its kinks).
        """
        value, G = self.score_gradient_from_scores(scores)
        grad = self._adjoint(G) + self._penalty_gradient(coef)
        if self.has_nonsmooth_penalty:
            W, _ = self.split(coef)
            grad[: self._n_coef] += self.penalty.nonsmooth_subgradient(W).ravel()
        return value + self._penalty(coef), grad

    # -- the non-smooth part of the penalty (proximal methods) ----------------
    def nonsmooth_value(self, coef):
        """``Psi(W)``: the penalty's non-smooth part (0 for L2 or no penalty)."""
        if not self.has_nonsmooth_penalty:
            return 0.0
        return self.penalty.nonsmooth_value(self.split(coef)[0])

    def smooth_value_and_gradient(self, coef, scores=None):
        """``P - Psi`` and its gradient: the smooth part a proximal method steps on.

        ``scores``, when given, must be ``self.scores(coef)`` (a proximal
        method carries them along instead of recomputing them).
        """
        if scores is None:
            scores = self.scores(coef)
        value, G = self.score_gradient_from_scores(scores)
        W, b = self.split(coef)
        smooth = value + 0.5 * self.reg * np.dot(W.ravel(), W.ravel())
        if self.fit_intercept:
            smooth += 0.5 * self.intercept_penalty * np.dot(b, b)
        return smooth, self._adjoint(G) + self._penalty_gradient(coef)

    def prox(self, coef, step):
        """``argmin_u ||u - coef||^2 / 2 + step * Psi(W(u))``: the intercept is kept."""
        out = np.array(coef, dtype=np.float64)
        if self.has_nonsmooth_penalty:
            W, _ = self.split(out)
            W[...] = self.penalty.nonsmooth_prox(W, step)
        return out

    def duality_gap(self, coef, scores=None, dual=None):
        """An upper bound on ``P(coef) - P*`` from a feasible dual point.

        ``scores`` may pass ``self.scores(coef)`` where the caller has them.
        ``dual`` (not for pairwise losses) replaces the loss gradient as the
        dual point: ``(G, conjugate)``, ``G`` of the scores' shape with the
        weights included and ``conjugate`` its ``F_i^*(G_i)``, per entry
        (binary and one-vs-rest losses) or per sample (multiclass losses; a
        solver's own multipliers: at the hinges' kinks the gradient's choice
        is a poor dual point). Returns ``(gap,
        P(coef))``; the gap is ``inf`` where no bound is available
        (``penalty=None`` without ``dual``, or a multiclass loss whose free
        intercepts' gradient no shrinking of the samples can cancel).

        Notes
        -----
        Write ``P(W, b) = F(X W^T + b) + Omega(W)`` with ``F(S) = c sum_i s_i l(y_i,
        S_i)``. For any ``U`` with ``1^T U = 0`` (the free intercept's constraint), weak
        duality gives ``P* >= -F^*(U) - Omega^*(-X^T U)``. The dual point is the loss
        gradient ``G = dF/dS`` at ``coef``, for which Fenchel-Young is an equality,
        ``F^*(G) = <G, S> - F(S)``, rescaled into the feasible set: per sample by
        ``a_i`` in ``[0, 1]`` (one factor for the rows whose gradient is negative, one
        for the positive rows of each one-vs-rest column, so that every column of ``U``
        sums to 0; for a multiclass loss one factor per sample, from a non-negative
        least-squares fit, see :func:`_row_balancing_factors`), then as a whole by ``t =
        dual_scale`` (so that ``Omega^*`` is finite: ``||X^T U||_inf <= 1`` for L1).
        Convexity of ``F^*`` with ``F_i^*(0) = -inf F_i = -s_i m`` (``m =
        loss.infimum``: 0 for the family, ``-mu/2`` for a smoothed plain Crammer-Singer
        loss) bounds ``F_i^*(t a_i G_i) <= t a_i F_i^*(G_i) - (1 - t a_i) s_i m``, so
        only loss values and gradients are needed: every loss, smooth or not, gets a
        certificate (the pairwise losses have ``m = 0``). For a
        smooth loss it is 0 exactly at the optimum; for a loss with kinks (the hinge)
        the gradient's choice at a kink need not be the optimal dual point, and the
        bound can stay loose there (a solver of such a loss certifies with its own
        dual).

        A penalized intercept (``intercept_scaling``) has no constraint and
        adds ``(1^T U)^2 / (2 p)`` to the conjugate instead.

        Without a penalty ``Omega^*`` is the indicator of ``{0}``: a solver's
        multipliers ``dual`` are feasible only where ``X^T U = 0``, which holds
        up to rounding at best. Where ``X^T U`` is within ``NULL_RESIDUAL`` of
        the sums it comes from, the bound is ``-F^*(U) - |<W, X^T U>|``: the
        Lagrangian ``sum_i <U_i, S_i> - F^*(U)`` at ``coef``, exact for the
        problem whose data is moved by that share (its backward error), and
        the residual's first-order effect otherwise; else ``P* >= -F^*(0)``.
        """
        if dual is not None and self.loss.is_pairwise:
            raise ValueError("dual= is for margin and multiclass losses")
        if scores is None:
            scores = self.scores(coef)
        if self.penalty is None and dual is None:
            # the loss gradient is no dual point without a penalty: X^T U = 0
            # is needed, and only a solver's own multipliers come near it
            return np.inf, self.value_from_scores(coef, scores)
        # per-sample F_i^*(G_i) = <G_i, S_i> - F_i(S_i): the conjugate's part
        if self.loss.is_pairwise:
            value, G = self.score_gradient_from_scores(scores)
            primal = value + self._penalty(coef)
            conj = float(np.vdot(G, scores)) - value
            U, conj_bound, infimum = G, conj, 0.0
        else:
            # one loss evaluation gives the per-sample values and gradients
            losses, grad = self.loss.loss_gradient(self.y, self._fit_shape(scores))
            weights = (self.loss_scale * self.sample_weight)[:, None]
            F_i = weights * np.asarray(losses).reshape(self.n_samples, -1)
            G = weights * grad.reshape(scores.shape)
            primal = float(F_i.sum()) + self._penalty(coef)
            per_entry = G * scores
            if dual is not None:
                # F_i^*(G_i) given: per entry (written as per_entry - F_i
                # below), or per sample for a multiclass loss
                G = np.asarray(dual[0], dtype=np.float64).reshape(scores.shape)
                if not self.loss.is_multiclass:
                    per_entry = np.asarray(dual[1]).reshape(scores.shape) + F_i
            if self.loss.is_multiclass:
                if dual is not None:
                    per_sample = np.asarray(dual[1], dtype=np.float64).reshape(-1)
                else:
                    per_sample = per_entry.sum(axis=1) - F_i[:, 0]
                U, factors = G, np.ones(self.n_samples)
            else:
                per_sample = None
                U, factors = G, np.ones_like(G)
            if self.fit_intercept and self.intercept_penalty == 0:
                if self.loss.is_multiclass:
                    # a solver's own multipliers are balanced exactly: near
                    # balance they are left as they are by the loss gradient's
                    # rounding tolerance, whose leftover costs <1^T U, b*>,
                    # which grows with the intercepts (uncentered features)
                    factors = _row_balancing_factors(G, exact=dual is not None)
                    if factors is None:
                        return np.inf, primal
                    U = G * factors[:, None]
                else:
                    factors = _balancing_factors(G)
                    U = G * factors
            if per_sample is None:
                conj_bound = float(np.sum(factors * (per_entry - F_i)))
            else:
                conj_bound = float(np.dot(factors, per_sample))
                factors = factors[:, None]
            # -inf F_i = -s_i m enters each scaled term with weight 1 - t a_i:
            # sum_i (1 - t a_i) s_i m = m (total - t kept)
            infimum = float(self.loss.infimum)
            if infimum != 0.0:
                entries = np.broadcast_to(weights, factors.shape)
                total, kept = float(entries.sum()), float(np.sum(entries * factors))
        V = self._adjoint(U)[: self._n_coef].reshape(self.n_outputs, self.n_features)
        if self.penalty is None:
            t, residual = self._null_residual(coef, U, V)
            dual = -t * conj_bound - residual
        else:
            t = float(self.penalty.dual_scale(-V))
            dual = -t * conj_bound - self.penalty.conjugate(-t * V)
        if infimum != 0.0:
            dual += infimum * (total - t * kept)
        if self.fit_intercept and self.intercept_penalty > 0:
            total = t * U.sum(axis=0)
            dual -= float(np.dot(total, total)) / (2.0 * self.intercept_penalty)
        return max(primal - dual, 0.0), primal

    def _null_residual(self, coef, U, V):
        """``(t, |<W, V>|)`` for ``penalty=None``'s bound, ``V = X^T U``.

        ``Omega^*`` is the indicator of ``{0}``: the bound needs ``X^T U =
        0``, which rounding leaves only approximately. Where each entry of
        ``V`` is within ``NULL_RESIDUAL`` of its sum's size, ``|X - c|^T A``
        with ``A_i = max(|U_i|, c s_i)`` (at least the hinges' box ``[0, c
        s_i]``: as a separable problem's multipliers tend to 0, ``|X|^T
        |U|`` shrinks with ``V``; per coefficient: against the largest, a
        column at 1e-9 beside one at 1e6 passed with any residual; ``c``
        the features' mean with a free intercept, where ``1^T U = 0``, else
        the offset), ``U`` is taken as feasible (``t = 1``) and the residual
        costs its first-order effect at ``W``, ``|<W, V>|``; else ``t = 0``,
        the bound ``P* >= -F^*(0)`` (0 for the family).
        """
        box = (self.loss_scale * self.sample_weight)[:, None]
        weights = np.maximum(np.abs(U), box)
        if self.fit_intercept and self.intercept_penalty == 0:
            # U is balanced, 1^T U = 0, so X^T U = (X - c)^T U for any c: the
            # sizes of the centred data (features at 2^19 +- 1e-6: against
            # the uncentered sums any balanced U passed, and a warned fit
            # reported 0.41 where P* = 0 and P = 54)
            center = np.asarray(self.X.mean(axis=0)).ravel()
        else:
            center = self.offset
        sizes = absolute_product(self.X, weights, transposed=True, shift=center).T
        # ... and the rounding of V itself, formed from the uncentred data
        # (constant columns: centred sizes of 0, and V of 4e-15)
        rounding = absolute_product(
            self.X, weights, transposed=True, shift=self.offset
        ).T
        allowed = NULL_RESIDUAL * sizes + V_ROUNDING * rounding
        with np.errstate(invalid="ignore", over="ignore"):
            feasible = bool(np.all(np.abs(V) <= allowed.reshape(V.shape)))
        if not feasible:
            return 0.0, 0.0
        W = self.split(coef)[0]
        return 1.0, float(abs(np.vdot(W, V)))

    def _fit_shape(self, scores):
        # a binary loss on a +-1 vector y of shape (n,) would get (n, 1) scores
        if not self.loss.is_multiclass and self.y.ndim == 1:
            return scores[:, 0]
        return scores

    # -- the public interface ------------------------------------------------
    def risk(self, coef):
        """The weighted loss ``sum_i s_i l_i`` (no ``C``, no penalty) at ``coef``."""
        return self.risk_from_scores(self.scores(coef))

    def value(self, coef):
        """Objective value ``P(coef)``."""
        return self.value_from_scores(coef, self.scores(coef))

    def gradient(self, coef):
        """Gradient (a subgradient for non-smooth losses) of ``P``."""
        return self.value_and_gradient(coef)[1]

    def value_and_gradient(self, coef):
        """``(P(coef), grad P(coef))`` with the scores computed once."""
        return self.value_and_gradient_from_scores(coef, self.scores(coef))

    def score_gradient(self, coef):
        """``dP/dscores`` at ``coef``: ``C s_i dl/ds_i``, shape ``(n, K)``.

        The functional gradient used by boosting.
        """
        return self.score_gradient_from_scores(self.scores(coef))[1]

    def hessian_operator(self, coef):
        """A function ``v -> H v`` for the Hessian of ``P`` at ``coef``.

        The loss curvature is evaluated once; each product costs one ``X v``
        and one ``X^T u``. For binary (margin) losses, whose curvature is a
        diagonal, the rows with zero curvature (inactive samples) are dropped
        once here, so each product only touches the others. Smooth losses only.

        For one score column of CSR data the operator is compiled
        (:class:`~hinge_estimators._sparse_products.CsrHessian`): one call per
        product that reads each row once, and two attributes for solvers,
        ``diagonal()`` (``diag(H)``) and ``csr`` (the compiled Hessian, whose
        ``newton_cg`` runs a whole CG without Python in the loop).
        """
        if self.loss.is_pairwise:
            return self._pairwise_hessian_operator(coef)
        scores = self._fit_shape(self.scores(coef))
        weights = (self.loss_scale * self.sample_weight)[:, None]
        if not self.loss.is_multiclass and hasattr(self.loss, "hessian"):
            return self._diagonal_hessian_operator(scores, weights)

        def product(v):
            direction = self.scores(v)
            curved = self.loss.hessian_product(
                self.y, scores, self._fit_shape(direction)
            )
            return self._adjoint(
                weights * curved.reshape(direction.shape)
            ) + self._penalty_gradient(v)

        return product

    def _pairwise_hessian_operator(self, coef):
        # the loss sorts and searches once here; each product is O(n) more
        curved = self.loss.pair_hessian_operator(
            self.y, self.scores(coef), self.sample_weight
        )

        def product(v):
            direction = self.scores(v)
            G = self.loss_scale * curved(direction).reshape(direction.shape)
            return self._adjoint(G) + self._penalty_gradient(v)

        return product

    def _diagonal_hessian_operator(self, scores, weights):
        # A margin loss's curvature is diagonal, one entry D per (sample,
        # column): H v = X^T (D * (X v)) + penalty. Rows whose D is zero in
        # every column (the squared hinge's inactive samples, zero weights)
        # add nothing, so X is sliced to the other rows once here and every
        # product touches only those (as LIBLINEAR's TRON does).
        curvature = np.asarray(self.loss.hessian(self.y, scores))
        D = weights * curvature.reshape(self.n_samples, self.n_outputs)
        active = np.flatnonzero(D.any(axis=1))
        if sp.issparse(self.X) and self.n_outputs == 1:
            return self._compiled_hessian_operator(active, D[active, 0])
        X = self.X
        if len(active) < self.n_samples:
            X, D = X[active], D[active]
        offset = self.offset
        # once, not per product: a sparse matrix's .T builds a new matrix
        # object each time, which cost more than the product itself on
        # small active sets (dual_cd's primal finish: 29,000 products)
        XT = X.T

        def product(v):
            W, b = self.split(v)
            S = X @ W.T
            if offset is not None:
                S = S - offset @ W.T
            G = D * (S + b if self.fit_intercept else S)
            gW = np.asarray(XT @ G).T
            if offset is not None:
                gW = gW - np.outer(G.sum(axis=0), offset)
            gW = gW.ravel()
            loss_part = (
                np.concatenate([gW, G.sum(axis=0)]) if self.fit_intercept else gW
            )
            return loss_part + self._penalty_gradient(v)

        if self.n_outputs == 1 and self.size <= FORMED_HESSIAN_MAX:
            # few coefficients: the matrix itself, on request (one BLAS
            # product), for a solver to factorize where CG needs many
            # products (``_newton._formed``)
            def form():
                return formed_hessian(self, X, D[:, 0])

            form.size = self.size
            product.form = form
        return product

    def _compiled_hessian_operator(self, active, D):
        # one score column of CSR data: each product is one compiled call
        # that reads each row with curvature once (_sparse_products)
        hessian = CsrHessian(
            *self._csr_arrays(),
            np.asarray(active, dtype=np.intp),
            np.ascontiguousarray(D, dtype=np.float64),
            np.zeros(0) if self.offset is None else self.offset,
            self.reg,
            self.fit_intercept,
            self.intercept_penalty,
            self.n_features,
        )

        def product(v):
            return hessian.product(np.ascontiguousarray(v, dtype=np.float64))

        product.diagonal = hessian.diagonal
        # a compiled CG runs the products itself (_newton._direction)
        product.csr = hessian
        return product

    def _csr_arrays(self):
        """``X``'s CSR arrays as the compiled products read them (cached per ``X``)."""
        cached = self.__dict__.get("_csr_cache")
        if cached is None or cached[0] is not self.X:
            X = self.X
            arrays = (
                np.ascontiguousarray(X.data, dtype=np.float64),
                np.ascontiguousarray(X.indices, dtype=np.int32),
                np.ascontiguousarray(X.indptr, dtype=np.int64),
            )
            cached = (X, arrays)
            self._csr_cache = cached
        return cached[1]

    def hessian_product(self, coef, v):
        """Hessian of ``P`` at ``coef`` applied to ``v``."""
        return self.hessian_operator(coef)(v)

    def batch_gradient(self, coef, rows):
        """Unbiased estimate of ``grad P`` from the samples ``rows``.

        The loss part is rescaled by ``n / len(rows)``; the penalty is exact.
        For a pairwise loss the batch's own pairs are used, which gives a
        consistent but not an unbiased estimate (a ratio of batch sums).
        """
        return self.subset(rows, self.n_samples / len(rows)).gradient(coef)

    def lipschitz(self, n_power_iter=30, random_state=0):
        """Upper estimate of the Lipschitz constant of ``grad P``.

        ``r + c L_loss lambda_max([X 1]^T diag(s) [X 1])``, the eigenvalue by
        power iteration (inflated by 10 % because power iteration approaches it
        from below). For a pairwise loss, ``r + c lambda_max(X^T B X)`` with
        ``B`` the loss's ``pair_curvature_bound`` (every pair active).
        ``inf`` when the loss is not smooth.
        """
        smooth = self.loss.smoothness(self.n_outputs)
        if not np.isfinite(smooth):
            return np.inf
        if self.loss.is_pairwise:
            curvature = self.loss.pair_curvature_bound(self.y, self.sample_weight)
            smooth = 1.0
        else:
            s = self.sample_weight

            def curvature(u):
                return s * u

        rng = np.random.default_rng(random_state)
        v = rng.standard_normal(self.n_features + int(self.fit_intercept))
        eig = 0.0
        for _ in range(n_power_iter):
            norm = np.linalg.norm(v)
            if norm == 0:
                break
            v = v / norm
            u = self.X @ v[: self.n_features]
            if self.offset is not None:
                u = u - self.offset @ v[: self.n_features]
            if self.fit_intercept:
                u = u + v[-1]
            u = curvature(u)
            w = np.asarray(self.X.T @ u).ravel()
            if self.offset is not None:
                w = w - self.offset * u.sum()
            v = np.concatenate([w, [u.sum()]]) if self.fit_intercept else w
            eig = np.linalg.norm(v)
        return max(self.reg, self.intercept_penalty) + 1.1 * (
            self.loss_scale * smooth * eig
        )


def _row_balancing_factors(G, exact=False):
    """Per-sample factors ``a`` in ``[0, 1]`` with ``G^T a = 0``, or None.

    A multiclass loss's gradient rows cannot be shrunk entry by entry (the
    conjugate is per sample), so the free intercepts' constraint ``1^T U = 0``
    is met with one factor per row: ``a = 1 - delta``, ``delta >= 0`` the
    non-negative least-squares solution of ``G^T delta = G^T 1`` (at most
    ``K`` rows are shrunk; ``delta`` goes to 0 with the intercepts' gradient).
    None when no such ``delta`` in ``[0, 1]`` solves it to rounding. Sums
    within ``1e-10`` of ``|G|`` are taken as 0, unless ``exact``: then only
    exact zeros are, the solution must hold to ``1e-14`` of ``|G|``, and
    where the unbounded solution leaves ``[0, 1]`` the bounded least squares
    (BVLS) is tried: the unbounded one shrinks at most ``K`` rows, each by
    far more than 1 where a class's samples weigh almost nothing (a class
    weight of 1e-10: no bound at all before), over the rows most aligned
    with the imbalance first.
    """
    sums = G.sum(axis=0)
    scale = max(float(np.abs(G).sum()), 1e-300)
    tiny = (1e-14 if exact else 1e-10) * scale
    if not np.any(np.abs(sums) > (0.0 if exact else tiny)):
        return np.ones(G.shape[0])
    from scipy.optimize import lsq_linear, nnls

    if exact:
        # a basic solution shrinks at most K rows, most often among the rows
        # whose gradient points along the imbalance: the solve runs over the
        # 20 K of those, then 200 K, then all (all 10,992 rows of penbased at
        # every step took 55 % of a fit), bounded where the unbounded
        # solution leaves [0, 1]
        n, K = G.shape
        order = np.argsort(-(G @ sums), kind="stable")
        for size in (20 * K, 200 * K, n):
            rows = order[: min(size, n)]
            part, _ = nnls(G[rows].T, sums)
            if part.max() > 1.0:
                bounded = lsq_linear(G[rows].T, sums, bounds=(0.0, 1.0), method="bvls")
                part = bounded.x
            if part.max() <= 1.0 and np.all(np.abs(G[rows].T @ part - sums) <= tiny):
                delta = np.zeros(n)
                delta[rows] = part
                return 1.0 - delta
            if size >= n:
                return None
    delta, _ = nnls(G.T, sums)
    if delta.max() > 1.0 or np.any(np.abs(G.T @ delta - sums) > tiny):
        return None
    return 1.0 - delta


def _balancing_factors(G):
    """Per-entry factors in ``[0, 1]`` that make every column of ``G`` sum to 0.

    In each column the side (negative or positive entries) with the larger
    total is shrunk to cancel the other; a column with entries of one sign
    only is zeroed.
    """
    negative = np.where(G < 0, G, 0.0).sum(axis=0)
    positive = np.where(G > 0, G, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink_pos = np.where(positive > -negative, -negative / positive, 1.0)
        shrink_neg = np.where(-negative > positive, positive / -negative, 1.0)
    shrink_pos = np.nan_to_num(shrink_pos, nan=0.0)
    shrink_neg = np.nan_to_num(shrink_neg, nan=0.0)
    return np.where(G > 0, shrink_pos, shrink_neg)


def _check_pairwise(loss, y, n_outputs, fit_intercept):
    """Refuse what a pairwise loss cannot mean: an intercept, several columns."""
    name = type(loss).__name__
    if fit_intercept:
        raise ValueError(
            f"{name} is pairwise: it does not change when every score moves by "
            "the same amount, so there is no intercept to fit; use "
            "fit_intercept=False (HingeClassifier sets its threshold after "
            "the fit)."
        )
    if n_outputs != 1 or (y.ndim == 2 and y.shape[1] != 1):
        raise ValueError(
            f"{name} is pairwise and binary: it takes one +-1 column, got "
            f"n_outputs={n_outputs} and targets of shape {y.shape}."
        )


#: a dense one-column objective with at most this many coefficients offers
#: its formed Hessian (:func:`formed_hessian`) with ``hessian_operator``'s
#: products, as ``product.form()`` (``_newton._formed`` decides when)
FORMED_HESSIAN_MAX = 1024
#: rows densified at a time to form the Hessian (at most 8 MB a block),
#: fewer where several weightings' scaled rows would pass
#: FORM_BLOCK_ENTRIES together (see :func:`weighted_gram`)
FORM_BLOCK = 1024
FORM_BLOCK_ENTRIES = 1 << 20


def formed_hessian(objective, XA, DA):
    """``H = X_A^T D X_A + reg I`` (with the intercept's row and column) of a
    one-column ``objective``: ``XA`` its rows with curvature, ``DA`` that
    curvature (weights included); see :func:`weighted_gram`."""
    H = weighted_gram(XA, DA, objective.offset, objective.fit_intercept)
    d = objective.n_features
    H[np.arange(d), np.arange(d)] += objective.reg
    if objective.fit_intercept:
        H[d, d] += objective.intercept_penalty
    return H


def absolute_product(X, A, transposed=False, shift=None):
    """``|X - shift| A`` (``|X - shift|^T A`` where ``transposed``; ``shift``
    one value a feature, None for 0), a dense ``X`` a block of ``FORM_BLOCK``
    rows at a time: no copy of the whole ``|X|`` (the certificates of an
    interior point without a penalty, one an iteration, on wide data). A
    sparse ``X`` stays sparse: ``|x - c| = |c|`` off its entries."""
    if sp.issparse(X):
        if shift is None:
            absolute = abs(X)
        else:
            shift = np.asarray(shift, dtype=np.float64)
            entries = X.tocoo()
            at = shift[entries.col]
            change = np.abs(entries.data - at) - np.abs(at)
            absolute = sp.csr_matrix((change, (entries.row, entries.col)), X.shape)
            rest = np.abs(shift)
            if transposed:
                return np.asarray(absolute.T @ A) + np.outer(rest, A.sum(axis=0))
            return np.asarray(absolute @ A) + (rest @ A)[None]
        return np.asarray(absolute.T @ A if transposed else absolute @ A)
    shift = 0.0 if shift is None else shift
    blocks = range(0, X.shape[0], FORM_BLOCK)
    if transposed:
        out = np.zeros((X.shape[1], A.shape[1]))
        for start in blocks:
            rows = slice(start, start + FORM_BLOCK)
            out += np.abs(X[rows] - shift).T @ A[rows]
        return out
    return np.vstack(
        [np.abs(X[start : start + FORM_BLOCK] - shift) @ A for start in blocks]
    )


def weighted_gram(X, D, offset=None, intercept=False):
    """``[X - offset, 1]^T diag(D) [X - offset, 1]`` (without the ``1``
    column when not ``intercept``; ``offset`` None for none); for ``D`` of
    shape ``(n, P)``, one such matrix per column, ``(P, size, size)``.

    A block of rows at a time (sparse ones densified): one dense matrix
    product per block runs at BLAS speed, where a sparse ``X^T D X`` costs
    about five times more per multiply-add (splice as CSR, 21 % non-zeros),
    and each block's scaled rows stay within ``FORM_BLOCK_ENTRIES`` (8 MB;
    the product and the result add ``P size^2`` each). Several
    weightings share each block's densified rows and one product: the
    multiclass interior point's ``K (K + 1) / 2`` Gram matrices a step,
    formed one at a time from fancy-indexed rows, spent a third of a
    Crammer-Singer fit on optdigits as CSR slicing and densifying them.
    """
    D = np.asarray(D, dtype=np.float64)
    single = D.ndim == 1
    D = D[:, None] if single else D
    n, d = X.shape
    P, size = D.shape[1], d + int(intercept)
    H = np.zeros((size, P, size))
    sparse = sp.issparse(X)
    rows = int(max(1, min(FORM_BLOCK, FORM_BLOCK_ENTRIES // max(P * size, 1))))
    for start in range(0, n, rows):
        block = X[start : start + rows]
        block = block.toarray() if sparse else np.asarray(block, dtype=np.float64)
        if offset is not None:
            # centered coordinates, x - mu, on the block: a rank-two
            # correction of X^T D X after the fact would cancel where the
            # features sit far from 0 (the reason for centering)
            block = block - offset
        if intercept:
            block = np.hstack([block, np.ones((block.shape[0], 1))])
        weights = D[start : start + rows]
        scaled = block[:, None, :] * weights[:, :, None]
        H += (block.T @ scaled.reshape(block.shape[0], P * size)).reshape(size, P, size)
    H = H.transpose(1, 0, 2)
    return np.ascontiguousarray(H[0] if single else H)
