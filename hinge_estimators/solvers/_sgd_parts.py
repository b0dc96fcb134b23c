"""The pieces of SGD: its state, the step sizes and the two epoch paths.

An epoch runs either in the compiled kernel (``_sgd_fast.sgd_epoch``, for a
loss with a ``compiled_kernel``) or in :func:`python_epoch`, mini-batch steps
through the objective's vectorized loss gradient (any loss, a user-written or
a pairwise one included). Both take the same steps in the same order, on the
per-sample objective

    ``lam/2 ||W||^2 + lam_l1 ||W||_1 + lam_b/2 ||b||^2
    + (1/n) sum_i s_i loss(y_i, W x_i + b)``,

which is ``P / (C n)`` for ``lam = r / (C n)`` and ``lam_l1 = rho / (C n)``
(``r``, ``rho`` the penalty's quadratic and L1 weights: 1, 0 for L2; 0, 1
for L1; ``1 - l1_ratio``, ``l1_ratio`` for the elastic net); the tests hold
them to the same iterates.
"""

import contextlib
import weakref
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import row_norms

from ..penalties import L1, ElasticNet
from . import _sgd_fast
from ._dual_cd_parts import compiled_rows, csr_rows

#: state scalars, in the kernel's order
SCALE, STEPS, ALPHA, N_AVERAGED, NORM2, SEEN, CUMULATIVE_L1 = range(7)


def l1_weight(penalty):
    """``rho``: the weight of ``||W||_1`` in ``penalty`` (0 without one).

    SGD's steps know the L1 part of :class:`~hinge_estimators.penalties.L1`
    and :class:`~hinge_estimators.penalties.ElasticNet`; any other
    non-smooth part is refused by ``SGD.check_penalty``.
    """
    if isinstance(penalty, ElasticNet):
        return float(penalty.l1_ratio)
    if isinstance(penalty, L1):
        return 1.0
    return 0.0


@dataclass
class SGDState:
    """Everything an SGD run carries from one epoch (or one ``partial_fit``) on.

    ``W = scalars[SCALE] * V``; the sum of the averaged iterates is
    ``scalars[ALPHA] * V + R`` (see ``_sgd_fast``), of the intercepts
    ``intercept_sum``. With an L1 part, ``scalars[CUMULATIVE_L1]`` is the
    cumulative pull ``u`` and ``Q`` what each entry has received (both in
    the units of ``V``): the bookkeeping that ``partial_fit`` carries from
    one chunk to the next.

    Attributes
    ----------
    V : ndarray of shape (K, d)
    intercept : ndarray of shape (K,)
    R : ndarray of shape (K, d)
    intercept_sum : ndarray of shape (K,)
    scalars : ndarray of shape (7,)
        ``[scale, steps, alpha, n_averaged, ||V||^2, samples seen, u]``.
    eta : float
        The current step of the ``"adaptive"`` schedule.
    eta0 : float
        The schedule's ``eta0`` (calibrated once when ``eta0="auto"``).
    n_seen : float
        Samples given to ``partial_fit`` so far (sets its ``lam``).
    partners : tuple or None
        A pairwise loss's ``partial_fit``: ``(X, y, sample_weight)`` of the
        latest samples of each class (:func:`with_partners`).
    Q : ndarray of shape (K, d) or None
        The L1 pull each entry has received; allocated by the first step
        with an L1 part.
    """

    V: np.ndarray
    intercept: np.ndarray
    R: np.ndarray
    intercept_sum: np.ndarray
    scalars: np.ndarray
    eta: float
    eta0: float = 1.0
    n_seen: float = 0.0
    partners: tuple | None = None
    Q: np.ndarray | None = None

    @classmethod
    def start(cls, objective, coef_init, eta):
        """A fresh state at ``coef_init`` (zeros if ``None``)."""
        coef = objective.zeros() if coef_init is None else np.asarray(coef_init)
        W, b = objective.split(np.array(coef, dtype=np.float64))
        V = np.ascontiguousarray(W, dtype=np.float64)
        scalars = np.zeros(7)
        scalars[SCALE] = 1.0
        scalars[NORM2] = float(np.dot(V.ravel(), V.ravel()))
        return cls(
            V=V,
            intercept=np.array(b, dtype=np.float64),
            R=np.zeros_like(V),
            intercept_sum=np.zeros_like(b, dtype=np.float64),
            scalars=scalars,
            eta=float(eta),
            eta0=float(eta),
        )

    def pulled(self):
        """``Q``, allocated (zeros) on first use."""
        if self.Q is None:
            self.Q = np.zeros_like(self.V)
        return self.Q

    def follow(self, rule):
        """Drop the L1 bookkeeping when ``rule`` has no L1 part (a
        ``partial_fit`` whose penalty was changed to L2): ``model()`` then
        averages as without L1, and a later L1 part starts owing nothing."""
        if rule.lam_l1 == 0 and self.Q is not None:
            self.Q = None
            self.scalars[CUMULATIVE_L1] = 0.0

    def weights(self):
        """The current iterate ``(W, b)``."""
        return self.scalars[SCALE] * self.V, self.intercept.copy()

    def model(self):
        """``(W, b)`` to report: the average of the averaged steps, if any.

        With an L1 part (``Q`` allocated) the average is kept on the support
        of the current iterate: an average of sparse iterates is dense (a
        feature the pull holds at 0 now was non-zero at some earlier step),
        while the cumulative pull's zeros are where the iterates settled.
        """
        n_avg = self.scalars[N_AVERAGED]
        if n_avg == 0:
            return self.weights()
        W = (self.scalars[ALPHA] * self.V + self.R) / n_avg
        if self.Q is not None:
            W[self.V == 0.0] = 0.0
        return W, self.intercept_sum / n_avg


@dataclass(frozen=True)
class StepRule:
    """The hyper-parameters of an epoch, fixed by the solver for a run."""

    schedule: str
    eta0: float
    power_t: float
    lam: float
    lam_b: float
    batch_size: int
    average_start: float
    radius: float
    clip: float = 0.0
    #: the L1 strength (the cumulative pull of each step is ``eta lam_l1``)
    lam_l1: float = 0.0
    #: the penalty's whole strength ``1 / (C n)`` (or ``alpha``), the
    #: ``lam`` of the ``"optimal"`` and ``"pegasos"`` steps (as
    #: ``SGDClassifier``'s ``alpha`` for the elastic net); None: ``lam``
    lam_schedule: float | None = None

    @property
    def strength(self):
        """The ``lam`` of the ``"optimal"`` and ``"pegasos"`` schedules."""
        return self.lam if self.lam_schedule is None else self.lam_schedule

    @property
    def t0(self):
        """Offset of ``"optimal"``, whose step ``1/(lam (t0 + t - 1))`` is then
        ``eta0 / (1 + lam eta0 (t - 1))``."""
        lam = self.strength
        return 1.0 / (lam * self.eta0) if lam > 0 else 0.0

    def eta(self, t, eta_adaptive):
        """Step size of step ``t`` (counted from 1)."""
        if self.schedule == "optimal":
            return 1.0 / (self.strength * (self.t0 + t - 1.0))
        if self.schedule == "pegasos":
            return 1.0 / (self.strength * t)
        if self.schedule == "invscaling":
            return self.eta0 / t**self.power_t
        if self.schedule == "adaptive":
            return eta_adaptive
        return self.eta0


def step_clip(objective):
    """The curvature bound that clips each sample's step (0: no clipping).

    A smooth loss's term for sample ``i`` has curvature at most ``kappa s_i
    (||x_i||^2 + [intercept])`` in coefficient space (``kappa`` the loss's
    ``step_curvature``), so a step of at most the inverse cannot overshoot
    it. Without the clip, large steps on unscaled data diverge (as
    ``SGDClassifier``'s squared hinge does); a clip per sample rather than one
    cap for all keeps light samples' steps large when a few are heavy. A
    Lipschitz loss's steps cannot blow up: no clip.
    """
    kappa = objective.loss.step_curvature(objective.n_outputs)
    if not np.isfinite(kappa) or objective.loss.is_pairwise:
        return 0.0
    return float(kappa)


def projection_radius(objective, lam, lam_l1=0.0):
    """A ball around 0 that holds the optimum of the per-sample objective.

    ``lam/2 ||W*||^2 <= P(W*, b*) <= P(0, b) <= mean_i s_i loss(y_i, 0)``, so
    ``||W*|| <= sqrt(2 L0 / lam)`` for any loss. For the plain hinge with
    margin ``m`` and the L2 penalty the dual gives Pegasos' tighter
    ``sqrt(m mean(s) / lam)`` per one-vs-rest column (``1 / sqrt(lam)`` for
    unit weights). An L1 part adds ``lam_l1 ||W*||_1 >= lam_l1 ||W*||``
    to the left side, so ``||W*|| <= L0 / lam_l1`` too.
    """
    zero = objective.zeros()
    mean_weight = float(np.mean(objective.sample_weight))
    form = objective.loss.dual_form()
    if form is not None and not form.multiclass and not form.squared and not lam_l1:
        per_column = np.sqrt(form.margin * mean_weight / lam)
        return per_column * np.sqrt(objective.n_outputs)
    loss_at_zero = objective.risk(zero) / objective.n_samples
    radius = np.inf
    if lam > 0:
        radius = float(np.sqrt(2.0 * loss_at_zero / lam))
    if lam_l1 > 0:
        radius = min(radius, loss_at_zero / lam_l1)
    return radius


def prepared(objective):
    """``objective`` ready for SGD's steps, or a clear error.

    Non-canonical CSR (duplicate entries) is summed in a copy: the steps read
    row norms, which the stored entries overstate (the user's matrix is left
    as it is). Rows whose squared norm overflows make every step size 0 or
    every score non-finite, so they are refused with the fix.
    """
    X = objective.X
    if sp.issparse(X) and not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
        objective = objective._copy()
        objective.X = X
    sq_norms = sq_row_norms(X, fresh=True)
    if not np.all(np.isfinite(sq_norms)):
        i = int(np.argmin(np.isfinite(sq_norms)))
        raise ValueError(
            f"SGD: the squared norm of row {i} of X overflows float64 (its "
            "features reach ~1e154 or more), so no step size is meaningful; "
            "scale the features, e.g. with sklearn.preprocessing.StandardScaler "
            "or MaxAbsScaler."
        )
    return objective


def centered(objective):
    """``(objective on X - mu, mu)`` when a free intercept lets SGD center
    dense data whose mean row dominates its spread, else ``(objective, None)``.

    With an unpenalized intercept the optimum of ``X - mu`` is that of ``X``
    with ``b`` shifted by ``W mu``, but SGD's steps are not invariant: an
    offset makes the intercept and the weights compete along one direction,
    and on ``X + 100`` plain steps ended at chance level. Sparse data is not
    centered (it would become dense); its certificate flags such a fit.
    """
    if (
        not objective.fit_intercept
        or objective.intercept_penalty > 0
        or objective.loss.is_pairwise
        or sp.issparse(objective.X)
    ):
        return objective, None
    s = objective.sample_weight
    total = float(s.sum())
    if total <= 0:
        return objective, None
    mu = (s @ objective.X) / total
    spread = float(s @ sq_row_norms(objective.X)) / total
    # ||mu||^2 is the part of the mean squared norm the offset explains
    if not float(mu @ mu) > 0.1 * spread:
        return objective, None
    other = objective._copy()
    other.X = objective.X - mu
    return other, mu


_last_norms = (None, None)


def sq_row_norms(X, fresh=False):
    """``||x_i||^2`` of every row of ``X``, remembered for the last ``X``.

    A fit reads them several times (validation, centering, the step limits
    of the run and of the calibration, eta0's bound), each a pass over ``X``
    that weighs on small fits. One entry, held by a weak reference (the data
    is never kept alive) and checked by identity; ``fresh=True``, at the
    start of every fit, recomputes (``X`` may have changed in place since).
    """
    global _last_norms
    ref, norms = _last_norms
    if not fresh and ref is not None and ref() is X:
        return norms
    with np.errstate(over="ignore", invalid="ignore"):
        norms = row_norms(X, squared=True)
    with contextlib.suppress(TypeError):  # no weak reference: not remembered
        _last_norms = (weakref.ref(X), norms)
    return norms


def sample_curvature(sample_weight, X, fit_intercept):
    """``s_i (||x_i||^2 + [intercept])``: sample ``i``'s term's curvature per
    unit of loss curvature, in coefficient space."""
    return sample_weight * (sq_row_norms(X) + float(fit_intercept))


def step_limits(clip, sample_weight, X, fit_intercept):
    """Each sample's largest step, ``1 / (clip s_i (||x_i||^2 + [b]))``.

    ``inf`` for a zero weight; the one formula of both epoch paths.
    """
    size = sample_curvature(sample_weight, X, fit_intercept)
    with np.errstate(divide="ignore"):
        return np.where(size > 0, 1.0 / (clip * size), np.inf)


def typical_step(objective, clip):
    """``1 / (clip * median_i s_i (||x_i||^2 + [intercept]))``: the clip of a
    typical sample, the most ``eta0="auto"`` may be for a smooth loss.

    A step the clip cuts for most samples all run long would minimize a
    reweighted objective (each sample's gradient divided by its curvature),
    not ``P``; below this bound the clip binds only for the heaviest samples,
    and stops binding as the step decays.

    The median is over the samples with a positive curvature: an empty row
    without an intercept (common in sparse text data, often more than half
    the rows) has a zero gradient in ``W`` and never moves the model, so it
    says nothing about the step the others need (counting it made the
    median 0 and the bound a division by zero). No such sample: no bound.
    """
    return step_from_curvature(typical_curvature(objective), clip)


def step_from_curvature(median, clip):
    """``1 / (clip * median)``, ``inf`` without a median (None)."""
    if median is None:
        return np.inf
    with np.errstate(over="ignore"):
        return float(1.0 / (clip * median))


def typical_curvature(objective):
    """``median_i s_i (||x_i||^2 + [intercept])`` over the samples with a
    positive one (None if there are none): :func:`typical_step`'s median,
    computed once where several steps are derived from it."""
    s = objective.sample_weight
    size = sample_curvature(s, objective.X, objective.fit_intercept)
    positive = size[(s > 0) & (size > 0)]
    return float(np.median(positive)) if positive.size else None


class CompiledRisk:
    """An objective's data in the kernels' layout: its weighted loss at any
    ``(W, b)`` (the scores by BLAS or scipy, the loss in one compiled pass,
    :func:`_sgd_fast.weighted_loss`)."""

    def __init__(self, objective, kernel):
        self.rows = compiled_rows(objective.X)
        self.codes = _kernel_codes(kernel)
        self.kernel = kernel
        self.n_samples = objective.n_samples
        K = objective.n_outputs
        if objective.loss.is_multiclass:
            self.y_signs = np.zeros((0, K))
            self.labels = np.asarray(objective.y, dtype=np.intp)
        else:
            y = np.asarray(objective.y, dtype=np.float64)
            self.y_signs = np.ascontiguousarray(y.reshape(objective.n_samples, K))
            self.labels = np.zeros(0, dtype=np.intp)
        self.weights = np.ascontiguousarray(objective.sample_weight)
        self.fit_intercept = objective.fit_intercept

    def matrix(self):
        """The rows as an array or a CSR matrix (built once)."""
        if not isinstance(self.rows, tuple):
            return self.rows
        if getattr(self, "_matrix", None) is None:
            data, indices, indptr, d = self.rows
            shape = (len(indptr) - 1, d)
            self._matrix = sp.csr_matrix((data, indices, indptr), shape=shape)
        return self._matrix

    def subset(self, rows):
        """The layout of the samples ``rows`` only (``self`` for None), cut
        from this one's arrays: no second look at the data (its density)
        and no second computation of row norms or step limits."""
        if rows is None:
            return self
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        if isinstance(self.rows, tuple):
            other._matrix = self.matrix()[rows]
            other.rows = csr_rows(other._matrix)
        else:
            other.rows = self.rows[rows]
        other.n_samples = len(rows)
        other.y_signs = self.y_signs[rows] if len(self.y_signs) else self.y_signs
        other.labels = self.labels[rows] if len(self.labels) else self.labels
        other.weights = self.weights[rows]
        for name in ("sq_norms", "limits"):
            values = getattr(self, name, None)
            if values is not None and len(values):
                setattr(other, name, values[rows])
        if len(getattr(self, "limits", ())):
            other.min_limit = float(other.limits.min(initial=np.inf))
        return other

    def risk(self, W, b):
        """``sum_i s_i loss(y_i, W x_i + b)``.

        The scores by BLAS (dense) or scipy (CSR, one pass over the
        non-zeros for all columns): the kernel's row loop reads a row once
        per column and does not vectorize; then the loss in one compiled
        pass.
        """
        k = self.kernel
        scores = self.matrix() @ np.asarray(W, dtype=np.float64).T
        scores = np.ascontiguousarray(scores)
        if self.fit_intercept:
            scores += b
        return _sgd_fast.weighted_loss(
            scores, self.y_signs, self.labels, self.weights, self.codes, k.a, k.b, k.c
        )


class PythonEpoch:
    """:func:`python_epoch` and the numpy risk: :class:`CompiledEpoch`'s
    interface for a loss without a compiled kernel."""

    def __init__(self, objective):
        self.objective = objective
        self.n_samples = objective.n_samples

    def subset(self, rows):
        """The runner of the samples ``rows`` only (``self`` for None)."""
        return self if rows is None else PythonEpoch(self.objective.subset(rows))

    def run(self, state, order, rule):
        return python_epoch(self.objective, state, order, rule)

    def risk(self, W, b):
        """``sum_i s_i loss(y_i, W x_i + b)``."""
        objective = self.objective
        # the scores directly (not through join/split): this runs every
        # epoch, and on small data its overhead is what costs
        scores = objective.X @ W.T
        if objective.fit_intercept:
            scores += b
        return objective.risk_from_scores(scores)


def per_sample_objective(data, W, b, rule, intercept):
    """The per-sample objective of ``(W, b)`` on ``data`` (an epoch runner):
    ``(1/n) sum_i s_i loss_i + lam/2 ||W||^2 + lam_l1 ||W||_1``, plus
    ``lam_b/2 ||b||^2`` with ``intercept``. What the stopping rule watches
    (with ``intercept``) and the step calibration scores (without)."""
    penalty = 0.5 * rule.lam * float(np.vdot(W, W))
    if intercept:
        penalty += 0.5 * rule.lam_b * float(np.dot(b, b))
    if rule.lam_l1 > 0:
        penalty += rule.lam_l1 * float(np.abs(W).sum())
    return data.risk(W, b) / data.n_samples + penalty


def epoch_runner(objective, with_sq_norms=False):
    """The compiled epoch of ``objective`` when its loss has a kernel, else
    the vectorized one: ``run(state, order, rule)`` and ``risk(W, b)``."""
    kernel = objective.loss.compiled_kernel()
    if kernel is None:
        return PythonEpoch(objective)
    return CompiledEpoch(objective, kernel, with_sq_norms)


def risk_runner(objective):
    """``risk(W, b)`` of ``objective``: compiled when its loss has a kernel."""
    kernel = objective.loss.compiled_kernel()
    if kernel is None:
        return PythonEpoch(objective)
    return CompiledRisk(objective, kernel)


class CompiledEpoch(CompiledRisk):
    """The data of one objective in the kernel's layout, built once per fit."""

    def __init__(self, objective, kernel, with_sq_norms):
        super().__init__(objective, kernel)
        self.sq_norms = sq_row_norms(objective.X) if with_sq_norms else None
        self.clip = step_clip(objective)
        self.limits = (
            step_limits(self.clip, self.weights, objective.X, self.fit_intercept)
            if self.clip > 0
            else np.zeros(0)
        )
        # a step below every sample's limit needs no per-sample check
        self.min_limit = float(self.limits.min(initial=np.inf))

    def run(self, state, order, rule):
        """One pass over ``order``; returns ``sum s_i loss_i`` along the way."""
        k = self.kernel
        state.follow(rule)
        sq_norms = self.sq_norms if self.sq_norms is not None else np.zeros(0)
        return _sgd_fast.sgd_epoch(
            self.rows,
            self.y_signs,
            self.labels,
            self.weights,
            sq_norms,
            np.ascontiguousarray(order, dtype=np.intp),
            self.codes,
            k.a,
            k.b,
            k.c,
            state.V,
            state.intercept,
            state.R,
            state.intercept_sum,
            state.scalars,
            _sgd_fast.SCHEDULE_CODES[rule.schedule],
            state.eta if rule.schedule == "adaptive" else rule.eta0,
            rule.power_t,
            rule.t0,
            rule.strength,
            rule.lam,
            rule.lam_b,
            rule.lam_l1,
            state.pulled() if rule.lam_l1 > 0 else _NO_PULLS,
            self.fit_intercept,
            rule.batch_size,
            rule.average_start,
            rule.radius,
            self.limits,
            self.min_limit,
        )


_NO_PULLS = np.zeros((0, 0))


def _kernel_codes(kernel):
    if kernel.name not in _sgd_fast.LOSS_CODES:
        raise ValueError(f"the SGD kernel has no loss named {kernel.name!r}")
    return _sgd_fast.LOSS_CODES[kernel.name]


#: a pairwise loss's partial_fit keeps at least this many of the latest
#: samples of each class (or batch_size, if larger) to pair a chunk with
PARTNERS = 64


def with_partners(objective, partners):
    """``(objective + the kept samples, {label: their rows})``.

    A pairwise loss learns from pairs of a positive and a negative; a
    ``partial_fit`` chunk of one class (a stream sorted by class, or single
    samples) has none, and learned nothing. Its batches that lack a class
    are paired with the latest samples of that class from earlier chunks,
    appended here after the chunk's rows.
    """
    if partners is None:
        return objective, {}
    X, y, weights = partners
    other = objective._copy()
    n = objective.n_samples
    if sp.issparse(objective.X):
        other.X = sp.vstack([objective.X, X], format="csr")
    else:
        other.X = np.vstack([objective.X, X])
    other.y = np.concatenate([np.ravel(objective.y), y]).reshape(
        (-1,) + np.shape(objective.y)[1:]
    )
    other.sample_weight = np.concatenate([objective.sample_weight, weights])
    other.n_samples = n + len(y)
    return other, {label: n + np.flatnonzero(y == label) for label in (-1.0, 1.0)}


def partners_objective(objective, partners):
    """``(objective over the kept samples, their class codes)``: what a
    pairwise ``partial_fit`` sets its threshold on when its chunk may hold
    one class only (the kept samples hold the latest of both)."""
    X, y, weights = partners
    other = objective._copy()
    other.X, other.sample_weight, other.n_samples = X, weights, len(y)
    other.y = y.reshape((-1,) + np.shape(objective.y)[1:])
    return other, (y > 0).astype(np.intp)


def kept_partners(combined, n_chunk, batch_size):
    """The latest ``max(PARTNERS, batch_size)`` samples of each class among
    the earlier partners and the chunk (its rows first in ``combined``)."""
    keep = max(PARTNERS, int(batch_size))
    y = np.ravel(combined.y)
    # earlier partners are older than the chunk's rows
    age = np.r_[np.arange(n_chunk) + len(y) - n_chunk, np.arange(len(y) - n_chunk)]
    by_age = np.argsort(age, kind="stable")
    rows = np.concatenate([by_age[y[by_age] == label][-keep:] for label in (-1.0, 1.0)])
    rows = rows[np.argsort(age[rows], kind="stable")]  # kept oldest first
    return combined.X[rows], y[rows].astype(np.float64), combined.sample_weight[rows]


def python_epoch(objective, state, order, rule, partners=None):
    """:func:`_sgd_fast.sgd_epoch`'s steps, through the loss's vectorized gradient.

    Works for any loss; a pairwise loss gets the pairs within each batch.
    Returns the same progressive loss sum and leaves ``state`` in the same
    form (with ``scale = 1`` and the sum of iterates explicit in ``R``).
    """
    state.follow(rule)
    s = state.scalars
    W = s[SCALE] * state.V
    b = state.intercept
    total = s[ALPHA] * state.V + state.R  # the running sum, explicitly
    l1 = rule.lam_l1 > 0
    if l1:
        # the kernel keeps the L1 bookkeeping in units of V; here W = V
        pulled = s[SCALE] * state.pulled()
        owed = s[SCALE] * s[CUMULATIVE_L1]
    loss_sum = 0.0
    fit_intercept = objective.fit_intercept
    labels = np.ravel(objective.y) if partners else None
    for start in range(0, len(order), rule.batch_size):
        rows = order[start : start + rule.batch_size]
        seen = len(rows)
        if partners:
            # a batch without one of the classes is paired with the kept
            # samples of that class (see with_partners)
            present = labels[rows]
            for label, extra in partners.items():
                if extra.size and not np.any(present == label):
                    rows = np.concatenate([rows, extra])
        m = len(rows)
        s[STEPS] += 1.0
        eta = rule.eta(s[STEPS], state.eta)
        batch = objective.subset(rows)
        scores = batch.scores(objective.join(W, b))
        value, G = batch.score_gradient_from_scores(scores)
        loss_sum += value / batch.loss_scale
        G = G / batch.loss_scale
        if rule.clip > 0:
            # each sample's step at most its limit, as in the kernel: a
            # rescaling of its row of G
            limit = step_limits(rule.clip, batch.sample_weight, batch.X, fit_intercept)
            G = G * (np.minimum(eta / m, limit) / (eta / m))[:, None]
        shrink = max(1.0 - eta * rule.lam, 0.0)
        W *= shrink
        W -= (eta / m) * np.asarray(batch.X.T @ G).T
        if fit_intercept:
            b *= max(1.0 - eta * rule.lam_b, 0.0)
            b -= (eta / m) * G.sum(axis=0)
        if l1:
            # the owed pulls shrink with W (the kernel's units of V)
            pulled *= shrink
            owed = owed * shrink + eta * rule.lam_l1
            pull_l1(W, pulled, owed, touched_features(batch.X))
        if rule.radius > 0:
            norm = np.linalg.norm(W)
            if norm > rule.radius:
                W *= rule.radius / norm
                if l1:
                    pulled *= rule.radius / norm
                    owed *= rule.radius / norm
        if rule.average_start > 0 and s[SEEN] + seen >= rule.average_start:
            total += W
            state.intercept_sum += b
            s[N_AVERAGED] += 1.0
        s[SEEN] += seen
    if l1:
        # the pass's end settles every feature (the running sum is kept)
        pull_l1(W, pulled, owed, slice(None))
        state.Q[...] = pulled
        s[CUMULATIVE_L1] = owed
    state.V[...] = W
    state.R[...] = total
    s[SCALE], s[ALPHA] = 1.0, 0.0
    s[NORM2] = float(np.dot(W.ravel(), W.ravel()))
    return loss_sum


def touched_features(X):
    """The features a batch's rows touch: stored entries of CSR rows,
    non-zero entries of dense ones (the kernel's choice)."""
    if sp.issparse(X):
        return np.unique(X.indices)
    return np.flatnonzero(np.any(X != 0.0, axis=0))


def pull_l1(W, pulled, owed, features):
    """The cumulative L1 pull (Tsuruoka et al. 2009) of ``features``, in place.

    Each entry moves towards 0 by what it is owed on its side, ``owed +
    pulled`` for a positive one and ``owed - pulled`` for a negative one,
    clipped at 0; ``pulled`` records the move. The kernel's ``pull``.
    """
    z = W[:, features]
    q = pulled[:, features]
    new = np.where(
        z > 0.0,
        np.where(z > owed + q, z - (owed + q), 0.0),
        np.where(z < 0.0, np.where(-z > owed - q, z + (owed - q), 0.0), 0.0),
    )
    pulled[:, features] = q + (new - z)
    W[:, features] = new
