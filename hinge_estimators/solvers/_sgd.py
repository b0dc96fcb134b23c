"""Stochastic gradient descent: Pegasos-style steps, averaging, online learning,
L1 and elastic net through the cumulative L1 penalty."""

import warnings
from dataclasses import replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from .._params import _violation
from . import _sgd_fast
from ._base import Solver, SolveResult, progress_callback
from ._sgd_certificate import relative_gap_and_value
from ._sgd_parts import (
    N_AVERAGED,
    SGDState,
    StepRule,
    centered,
    epoch_runner,
    kept_partners,
    l1_weight,
    per_sample_objective,
    prepared,
    projection_radius,
    python_epoch,
    risk_runner,
    step_clip,
    step_from_curvature,
    typical_curvature,
    with_partners,
)

SCHEDULES = ("optimal", "pegasos", "constant", "invscaling", "adaptive")
#: the "adaptive" schedule divides its step by this when an epoch fails to
#: improve, and stops below ADAPTIVE_MIN_ETA (SGDClassifier's rule)
ADAPTIVE_DIVISOR = 5.0
ADAPTIVE_MIN_ETA = 1e-6
#: the schedules that use eta0 (and so may calibrate it)
ETA0_SCHEDULES = ("optimal", "constant", "invscaling", "adaptive")
#: eta0="auto": samples of the trial runs (at most CALIBRATION_SAMPLES, and
#: at most 1/CALIBRATION_SHARE of the data but CALIBRATION_MIN_SAMPLES, so that
#: the trials cost a fraction of an epoch on small fits), and
#: doublings/halvings at most
CALIBRATION_SAMPLES = 1000
CALIBRATION_SHARE = 16
CALIBRATION_MIN_SAMPLES = 200
CALIBRATION_START = 4.0
CALIBRATION_MAX_STEPS = 40
#: the stopping rule's objective is measured on all of a set of up to
#: MONITOR_SAMPLES samples, beyond on 1/MONITOR_SHARE of it but at most
#: MONITOR_SAMPLES: on all 2,000 of a 3,000-8,000 sample set it cost a
#: third of an epoch's steps (splice as CSR, ada, spambase, ring)
MONITOR_SAMPLES = 2_000
MONITOR_SHARE = 4
#: eta0="auto": a run that diverges restarts from its start with the step
#: divided by RESTART_DIVISOR, at most RESTARTS times
RESTART_DIVISOR = 10.0
RESTARTS = 8


class SGDDivergedError(ValueError, FloatingPointError):
    """SGD's iterates overflowed: the step settings do not suit the data.

    A ``ValueError`` (a bad setting, caught with the other parameter errors)
    and a ``FloatingPointError`` (what it was before; code catching that
    still does).
    """


class _Diverged(Exception):
    """Internal: a run's watched objective became non-finite."""

    def __init__(self, n_epoch, watched):
        super().__init__(n_epoch, watched)
        self.n_epoch = n_epoch
        self.watched = watched


def _average_rule(value):
    if isinstance(value, bool | np.bool_) or _violation("positive_int", value) == "":
        return None
    if isinstance(value, int | np.integer) and value == 0:
        return None
    return "must be True, False or an integer >= 0"


def _eta0_rule(value):
    if isinstance(value, str) and value == "auto":
        return None
    return _violation("positive", value) and "must be 'auto' or a finite number > 0"


def _alpha_rule(value):
    if value is None:
        return None
    return _violation("positive", value) and "must be None or a finite number > 0"


def _fraction_rule(value):
    if _violation("positive", value) or value >= 1.0:
        return "must be a number strictly between 0 and 1"
    return None


class SGD(Solver):
    """Stochastic gradient descent on the per-sample objective; online capable.

    Parameters
    ----------
    learning_rate : {"optimal", "pegasos", "constant", "invscaling", \
"adaptive"}, default="optimal"
        Step size of step ``t`` (counted over the whole run, and across
        ``partial_fit`` calls): ``"optimal"`` :math:`1/(\\lambda(t_0 + t - 1))`
        with Bottou's ``t0`` (as ``SGDClassifier``); ``"pegasos"``
        :math:`1/(\\lambda t)` (Shalev-Shwartz et al.); ``"constant"``
        ``eta0``; ``"invscaling"`` ``eta0 / t**power_t``; ``"adaptive"``
        ``eta0``, divided by 5 each time ``n_iter_no_change`` epochs fail to
        improve, stopping once it falls below 1e-6. ``"optimal"`` and
        ``"pegasos"`` need a penalty (their ``lambda`` is its strength
        ``1/(C n)``, the elastic net's whole ``alpha`` as in
        ``SGDClassifier``).
    eta0 : float, default=0.01
        Initial step of ``"constant"``, ``"invscaling"`` and ``"adaptive"``
        (the other schedules do not use it).
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    alpha : float or None, default=None
        :math:`\\lambda`, the penalty's strength in the per-sample objective
        (``SGDClassifier``'s ``alpha``, also for L1 and the elastic net). ``None``
        uses :math:`1/(C n)`, which makes SGD minimize the estimator's
        objective ``P`` (``n`` the training samples; for ``partial_fit``, all
        samples given so far, so that the stream's objective is ``P`` over
        everything seen). A number fixes it, as ``SGDClassifier``'s ``alpha``
        does: ``C`` is then not used and the objective reported is ``P`` with
        ``C = 1 / (alpha n)``.
    average : bool or int, default=False
        Report the average of the iterates (averaged SGD, Polyak-Ruppert)
        rather than the last one: ``True`` averages every step, an integer
        ``k`` the steps once ``k`` samples have been seen. With L1 or the
        elastic net the average is kept on the last iterate's support (see
        Notes), so it is as sparse as the iterate.
    batch_size : int, default=1
        Samples per step (their gradients are averaged). A pairwise loss needs
        at least 2 (it compares the batch's positives with its negatives). A
        size above the number of samples means full-batch steps.
    shuffle : bool, default=True
        Visit the samples in a fresh random order every epoch (seeded by the
        estimator's ``random_state``); ``False`` keeps the data order.
    projection : bool, default=False
        Project the coefficients after every step onto a ball that provably
        contains the optimum (Pegasos' :math:`1/\\sqrt{\\lambda}` for the hinge,
        :math:`\\sqrt{2 L(0)/\\lambda}` for other losses, see Notes).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified
        when every class has samples to spare, else at random) and stop when
        the model's objective on it stops improving; otherwise its objective
        on (a fixed sample of) the training data is watched (see Notes).
    validation_fraction : float, default=0.1
        Size of the held-out part when ``early_stopping=True``.
    n_iter_no_change : int, default=5
        Epochs without an improvement of more than ``tol`` (relative) after
        which the run stops (or ``"adaptive"`` shrinks its step).

    Notes
    -----
    SGD minimizes :math:`P/(Cn)`, the per-sample form of the objective:

    .. math:: F(W, b) = \\frac{\\lambda}{2}\\|W\\|_F^2
              + \\frac{1}{n}\\sum_i s_i\\,\\ell(y_i, W x_i + b),
              \\qquad \\lambda = \\frac{1}{Cn},

    with the intercept unpenalized (``intercept_scaling = B`` adds
    :math:`\\lambda\\|b\\|^2/(2B^2)`); for another penalty
    :math:`\\lambda\\Omega(W)` replaces :math:`\\frac{\\lambda}{2}\\|W\\|_F^2`.
    A step on the batch :math:`A_t` of size :math:`m` is

    .. math:: W \\leftarrow (1 - \\eta_t\\lambda) W
              - \\frac{\\eta_t}{m}\\sum_{i\\in A_t} s_i\\, g_i x_i^\\top,
              \\qquad b \\leftarrow b - \\frac{\\eta_t}{m}\\sum_{i\\in A_t} s_i g_i,

    :math:`g_i` the loss's (sub)gradient in score space at the scores before
    the step; a shrink factor below 0 is clipped to 0. For a smooth loss
    (curvature at most :math:`\\kappa`, its ``step_curvature``) each sample's
    step is clipped, :math:`\\eta_t/m \\to \\min(\\eta_t/m,\\ 1/(\\kappa s_i
    (\\|x_i\\|^2 + 1)))` (the 1 for the intercept), the largest step that
    cannot overshoot that sample's own term: large steps on unscaled data
    then cannot diverge (``SGDClassifier``'s squared hinge does), and a few
    heavy samples do not slow the others down. As :math:`\\eta_t` decays the
    clip stops binding, so the fixed point is the optimum. Built-in losses run in
    a compiled kernel whose cost per step is the batch's non-zeros: the
    shrink is a scalar (:math:`W = \\sigma V`) and the average is kept as
    :math:`\\alpha V + R`. A loss without a compiled formula (a user's loss,
    a pairwise loss) takes the same steps through its vectorized gradient.

    L1 and the elastic net, :math:`\\Omega = \\rho\\|W\\|_1 +
    \\frac{1-\\rho}{2}\\|W\\|_F^2`: the quadratic part is the shrink above
    with :math:`(1-\\rho)\\lambda`, and the L1 part is the cumulative
    penalty of Tsuruoka, Tsujii & Ananiadou (2009), as in
    ``SGDClassifier``: step :math:`t` adds :math:`\\eta_t\\rho\\lambda` to
    the total pull :math:`u`, and each feature of the batch's rows moves
    towards 0 by what it has not yet received (:math:`u - |q_j|` on its
    side, :math:`q_j` its received pull), clipped at 0. A feature no row
    touches owes its pull until it is touched (the cost per step stays the
    batch's non-zeros on sparse data; a touched feature gets what it owes
    after that step's gradient, Tsuruoka's order), and the end of every
    epoch (or ``partial_fit`` call) settles every feature, so the returned
    coefficients owe nothing. :math:`u` and
    :math:`q` travel in the solver's state from one ``partial_fit`` chunk to
    the next. Features whose gradient stays below the pull are held at
    exactly 0; with averaging, the reported average is zeroed where the last
    iterate is (the average of iterates that were each sparse is dense,
    with tiny entries where the pull held the feature at 0 after some early
    excursion; dropping them lowered the objective on the test problems).
    :class:`~hinge_estimators.penalties.GroupL1L2` is refused (its pull
    couples a feature's classes): use ``solver='gd'`` or ``'auto'``.

    Projection radius: at the optimum :math:`\\frac{\\lambda}{2}\\|W^*\\|^2 \\le
    F(W^*, b^*) \\le F(0, b) \\le L(0) = \\frac1n\\sum_i s_i\\ell(y_i, 0)`; for the
    hinge with margin :math:`m` the dual bound :math:`\\lambda\\|w^*\\|^2 \\le
    m\\,\\bar s` is tighter (Pegasos), per one-vs-rest column. An L1 part
    :math:`\\lambda\\rho\\|W\\|_1 \\ge \\lambda\\rho\\|W\\|_F` also bounds
    :math:`\\|W^*\\|_F \\le L(0)/(\\lambda\\rho)`.

    Stopping: after each epoch the objective of the model SGD would return
    (the average, once averaging has started) is measured on a fixed sample
    of at most 2,000 training samples, or on the held-out part with
    ``early_stopping``, and compared with the best so far;
    ``n_iter_no_change`` epochs in a row that improve it by less than
    ``tol`` times its size stop the run. Not the running loss of the epoch's
    iterates (``SGDClassifier``'s rule): it is free but noisy, and with
    unequal sample weights it stopped runs far from the optimum. A stall is
    no proof of optimality (steps that shrink stall anywhere: at an extreme
    ``C``, on offset features), so the run is ``converged`` only when a
    duality-gap bound certifies the returned model within ``tol`` (relative;
    ``_sgd_certificate``, for the margin losses with a conjugate), and
    ``optimality`` is that bound; the bound is loose (it can exceed the
    true suboptimality a hundredfold), so most fits at the default ``tol``
    are flagged, not converged. With L1 or the elastic net the bound is
    ``LinearObjective.duality_gap``'s (the loss gradient rescaled into the
    dual's feasible set), for every loss. A loss without a certificate is never
    ``converged``; its ``optimality`` is the last relative improvement.
    With a free intercept, dense features whose mean dominates their spread
    are centered first (the optimum is unchanged, the steps are not).

    Divergence: a run whose watched objective or coefficients overflow is
    never returned. With ``eta0="auto"`` the step is the solver's own
    choice, so the run restarts from its start with the calibrated step
    divided by 10 (up to 8 times) and a ``ConvergenceWarning`` says so; a
    step the user fixed (``eta0``, or the ``"pegasos"`` schedule) is not
    changed behind their back: :class:`SGDDivergedError` is raised, a
    ``ValueError`` (a setting unsuited to the data) that is also a
    ``FloatingPointError``. The step rule's typical step is the median over
    the samples that move the model (an empty row without an intercept does
    not), so sparse data with mostly empty rows gets a finite step.
    ``max_iter`` counts epochs; ``history`` holds the watched values in the
    units of ``P``.
    """

    handles_pairwise = True
    supports_partial_fit = True
    #: L1 and the elastic net (the cumulative L1 pull, the quadratic part
    #: 1 - l1_ratio in the lazy L2 scale); not group L1/L2
    handles_nonsmooth_penalty = True
    _constraints = {
        "learning_rate": SCHEDULES,
        "eta0": _eta0_rule,
        "power_t": "nonnegative",
        "alpha": _alpha_rule,
        "average": _average_rule,
        "batch_size": "positive_int",
        "shuffle": "bool",
        "projection": "bool",
        "early_stopping": "bool",
        "validation_fraction": _fraction_rule,
        "n_iter_no_change": "positive_int",
    }

    def __init__(
        self,
        learning_rate="invscaling",
        eta0="auto",
        power_t=0.25,
        alpha=None,
        average=1000,
        batch_size=1,
        shuffle=True,
        projection=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
    ):
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.alpha = alpha
        self.average = average
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.projection = projection
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    def check_penalty(self, penalty):
        """Accept L2, L1 and the elastic net; refuse other non-smooth penalties.

        A group penalty (:class:`~hinge_estimators.penalties.GroupL1L2`)
        couples a feature's entries across the score columns; SGD's pull is
        entrywise, so it is refused (``solver='gd'`` or ``'auto'`` handle it).
        """
        if penalty is None or penalty.is_smooth or l1_weight(penalty) > 0:
            return
        from ..penalties import penalty_name

        raise ValueError(
            f"SGD has no update for the non-smooth penalty "
            f"{type(penalty).__name__} (penalty={penalty_name(penalty)!r}): its "
            "cumulative pull is entrywise (L1, elastic net); use solver='gd' "
            "or solver='auto'."
        )

    def check_loss(self, loss):
        super().check_loss(loss)
        if loss.is_pairwise and self.batch_size < 2:
            raise ValueError(
                f"SGD with the pairwise loss {type(loss).__name__} compares the "
                "positives and negatives of each batch, so it needs batch_size "
                f">= 2; got batch_size={self.batch_size}. Pass "
                "solver=SGD(batch_size=256) (a few hundred works well)."
            )

    # -- the two entry points ---------------------------------------------------
    def solve(
        self, objective, coef_init=None, *, tol, max_iter, rng=None, callback=None
    ):
        """Run epochs until the watched objective stalls; see :class:`Solver`."""
        self.check_loss(objective.loss)
        self.check_penalty(objective.penalty)
        original = objective
        objective, mu = centered(prepared(objective))
        if coef_init is not None and mu is not None:
            W0, b0 = original.split(np.asarray(coef_init, dtype=np.float64))
            coef_init = objective.join(W0, b0 + W0 @ mu)
        rng = np.random.default_rng(rng)
        train, valid = self._split(objective, rng)
        lam = self._lam(objective, train.n_samples)
        callback = _epoch_reports(
            progress_callback(callback), self._reported(original, lam), mu
        )
        rule, epoch = self._rule(train, lam, rng)
        if valid is not None:
            monitor = risk_runner(valid)
        else:
            # the epochs' own layout, or rows of it (not a copy of the data's)
            monitor = epoch.subset(_monitor_rows(train.n_samples, rng))
        recoverable = self.eta0 == "auto" and self.learning_rate in ETA0_SCHEDULES
        for restart in range(RESTARTS + 1):
            try:
                state, n_epoch, stopped, change, message, history = self._epochs(
                    objective,
                    coef_init,
                    train,
                    monitor,
                    epoch,
                    rule,
                    rng,
                    tol=tol,
                    max_iter=max_iter,
                    callback=callback,
                )
                break
            except _Diverged as diverged:
                if not recoverable or restart == RESTARTS:
                    raise self._divergence_error(diverged, rule, restart) from None
                rule = replace(rule, eta0=rule.eta0 / RESTART_DIVISOR)
        if restart:
            warnings.warn(
                f"SGD diverged with its calibrated step and was restarted "
                f"{restart} time(s) with the step divided by "
                f"{RESTART_DIVISOR:g} each time (eta0={rule.eta0:.3g} now); the "
                "fit may be slow to converge: scale the data (StandardScaler) "
                "or set eta0.",
                ConvergenceWarning,
                stacklevel=3,
            )
        W, b = state.model()
        coef = objective.join(W, b)
        converged, optimality, message, value = _verdict(
            self._reported(objective, lam), coef, stopped, change, message, tol
        )
        if mu is not None:
            coef = original.join(W, b - W @ mu)
            value = None  # the certificate's P is of the centered coordinates
        return self._result(
            original,
            state,
            coef,
            lam,
            n_epoch,
            converged,
            optimality,
            message,
            history,
            value,
        )

    def _divergence_error(self, diverged, rule, restarts):
        """The :class:`SGDDivergedError` of a run that could not be rescued."""
        if restarts:
            tried = (
                f" after {restarts} restarts with the calibrated step divided by "
                f"{RESTART_DIVISOR:g} each time (down to eta0={rule.eta0:.3g})"
            )
        else:
            tried = ""
        return SGDDivergedError(
            f"SGD diverged in epoch {diverged.n_epoch} (objective "
            f"{diverged.watched}){tried}, with learning_rate="
            f"{self.learning_rate!r}, eta0={self.eta0!r}: the steps overflow on "
            "this data; use a smaller eta0 or another learning_rate, or scale "
            "the data (StandardScaler) or the sample weights."
        )

    def _epochs(
        self,
        objective,
        coef_init,
        train,
        monitor,
        epoch,
        rule,
        rng,
        *,
        tol,
        max_iter,
        callback,
    ):
        """Run epochs from ``coef_init`` until the watched objective stalls.

        ``(state, n_epoch, stopped, change, message, history)``; raises
        :class:`_Diverged` when the watched objective becomes non-finite.
        """
        state = SGDState.start(objective, coef_init, rule.eta0)
        history, best, stalled, change = [], np.inf, 0, np.inf
        stopped, message = False, f"max_iter={max_iter} epochs reached"
        for n_epoch in range(1, max_iter + 1):
            # a diverging run is reported below, not by numpy's warnings
            with np.errstate(over="ignore", invalid="ignore"):
                epoch.run(state, self._order(train.n_samples, rng), rule)
            watched = self._watched(monitor, state, rule)
            if not np.isfinite(watched):
                raise _Diverged(n_epoch, watched)
            # reported in the units of P (the estimator's objective), as the
            # other solvers do; the stopping rule only compares ratios
            lam = rule.strength
            as_p = watched / lam if lam > 0 else watched * train.n_samples
            history.append(as_p)
            if callback is not None:
                callback(n_epoch, as_p, change, IMPROVEMENT, state.model, objective)
            if rule.average_start > 0 and state.scalars[N_AVERAGED] == 0:
                continue  # the returned model, the average, does not exist yet
            change = (best - watched) / max(abs(best), abs(watched), 1e-300)
            if watched < best - tol * abs(best):
                stalled = 0
            else:
                stalled += 1
            best = min(best, watched)
            if stalled >= self.n_iter_no_change:
                if self.learning_rate == "adaptive" and state.eta > ADAPTIVE_MIN_ETA:
                    state.eta /= ADAPTIVE_DIVISOR
                    stalled = 0
                    if state.eta > ADAPTIVE_MIN_ETA:
                        continue
                stopped = True
                message = (
                    f"no improvement > tol in {self.n_iter_no_change} epochs"
                    if self.learning_rate != "adaptive"
                    else "the adaptive step fell below 1e-6"
                )
                break
        W, b = state.model()
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            # the watched value can stay finite while a coefficient overflows
            # (a zero feature column times an infinite weight)
            raise _Diverged(n_epoch, np.inf)
        return state, n_epoch, stopped, change, message, history

    def partial_solve(self, objective, state=None, *, rng=None):
        """One epoch over ``objective``'s samples, continuing ``state``.

        The online step behind ``HingeClassifier.partial_fit``: the step
        counter, the schedule and the averages go on from ``state`` (a
        previous result's ``state``; ``None`` starts at zero).
        ``early_stopping`` does not apply (there is no epoch to compare).
        """
        self.check_loss(objective.loss)
        self.check_penalty(objective.penalty)
        if self.early_stopping:
            raise ValueError(
                "SGD: early_stopping=True holds out part of the data of a fit and "
                "compares epochs; partial_fit makes a single pass over each chunk "
                "it is given, so it cannot. Set early_stopping=False for "
                "partial_fit."
            )
        objective = prepared(objective)
        rng = np.random.default_rng(rng)
        first = state is None
        if first:
            state = SGDState.start(objective, None, 1.0)
        if state.V.shape != (objective.n_outputs, objective.n_features):
            raise ValueError(
                "partial_fit: the state has coefficients of shape "
                f"{state.V.shape}, the data needs "
                f"{(objective.n_outputs, objective.n_features)}."
            )
        state.n_seen += objective.n_samples
        lam = self._lam(objective, state.n_seen)
        rule, epoch = self._rule(
            objective, lam, rng, eta0=None if first else state.eta0
        )
        if first:
            state.eta = state.eta0 = rule.eta0
        order = self._order(objective.n_samples, rng)
        # an overflow is reported below as a divergence, not by numpy's warnings
        with np.errstate(over="ignore", invalid="ignore"):
            if objective.loss.is_pairwise:
                # a chunk of one class has no pairs of its own: it is paired
                # with the latest samples of the other class from earlier chunks
                combined, partners = with_partners(objective, state.partners)
                python_epoch(combined, state, order, rule, partners)
                state.partners = kept_partners(
                    combined, objective.n_samples, rule.batch_size
                )
            else:
                epoch.run(state, order, rule)
        W, b = state.model()
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise SGDDivergedError(
                f"SGD diverged in an online pass (partial_fit) with learning_rate="
                f"{self.learning_rate!r}, eta0={self.eta0!r}: the coefficients "
                "overflowed, so the online state is lost (start again with fit "
                "or a fresh estimator); use a smaller eta0 or another "
                "learning_rate, or scale the data (StandardScaler) or the sample "
                "weights."
            )
        return self._result(
            objective,
            state,
            objective.join(W, b),
            lam,
            1,
            # a single pass proves nothing: not converged (partial_fit
            # does not warn; its optimality_ is inf)
            False,
            np.inf,
            "one online pass (not certified)",
            [],
        )

    # -- pieces ---------------------------------------------------------------
    def _lam(self, objective, n):
        """The penalty's strength ``1 / (C n)`` (or ``alpha``); 0 without one."""
        if objective.penalty is None:
            if self.learning_rate in ("optimal", "pegasos"):
                raise ValueError(
                    f"SGD: learning_rate={self.learning_rate!r} is 1/(alpha t) and "
                    "needs the L2 penalty; with penalty=None use 'constant', "
                    "'invscaling' or 'adaptive'."
                )
            if self.alpha is not None:
                raise ValueError(
                    "SGD: alpha sets the L2 penalty, which penalty=None removes; "
                    "use alpha=None or penalty='l2'."
                )
            return 0.0
        if self.alpha is not None:
            if objective.C != 1.0:
                warnings.warn(
                    f"C={objective.C:g} is not used because SGD(alpha="
                    f"{self.alpha:g}) sets the regularization.",
                    UserWarning,
                    stacklevel=4,
                )
            return float(self.alpha)
        return 1.0 / (objective.C * n)

    def _rule(self, objective, lam, rng, eta0=None):
        """``(rule, epoch)``: the step rule of a run on ``objective`` (its
        ``eta0`` calibrated when ``"auto"``, unless ``eta0`` is given) and the
        epoch runner of ``objective``, whose layout the trials share."""
        if self.average is True:
            average_start = 1.0
        elif self.average is False:
            average_start = 0.0
        else:
            average_start = float(max(int(self.average), 0))
        rule = StepRule(
            schedule=self.learning_rate,
            eta0=1.0 if self.eta0 == "auto" else float(self.eta0),
            power_t=float(self.power_t),
            lam=lam * objective.reg,
            lam_b=lam * objective.intercept_penalty,
            lam_l1=lam * l1_weight(objective.penalty),
            lam_schedule=lam,
            # a batch larger than the data is the data (full-batch steps); the
            # kernels allocate a batch's gradients, so the size is bounded here
            batch_size=min(int(self.batch_size), max(objective.n_samples, 1)),
            average_start=average_start,
            radius=(
                projection_radius(
                    objective, lam * objective.reg, lam * l1_weight(objective.penalty)
                )
                if self.projection
                else 0.0
            ),
            clip=step_clip(objective),
        )
        epoch = self._epoch_runner(objective, rule)
        if eta0 is not None:
            return replace(rule, eta0=eta0), epoch
        if self.eta0 == "auto" and self.learning_rate in ETA0_SCHEDULES:
            median = typical_curvature(objective)  # once for both steps below
            cap = step_from_curvature(median, rule.clip) if rule.clip > 0 else np.inf
            if rule.lam > 0:
                # a step with eta lam > 1 shrinks W past 0: at a tiny C (a
                # huge lam) every step then resets W to one sample's
                # gradient, and the trials on a sample could not tell
                cap = min(cap, 1.0 / rule.lam)
            # the walk starts where a typical sample's step moves its own
            # margin by CALIBRATION_START: the trials then end within a
            # doubling or two on standardized data
            start = CALIBRATION_START * step_from_curvature(median, 1.0)
            eta0 = self._calibrate(objective, rule, rng, cap, start, epoch)
            return replace(rule, eta0=eta0), epoch
        return rule, epoch

    def _calibrate(self, objective, rule, rng, cap, start, epoch):
        """Bottou's ``eta0``: the best of a doubling/halving search on a sample.

        Each candidate runs one epoch of the configured schedule (and
        averaging) from zero over a sample (``CALIBRATION_SAMPLES``); its
        score is the per-sample objective there. The search starts at
        ``min(start, 1, cap)`` and walks by factors of 2 while the score improves,
        never above ``cap`` (``1 / lam``, and a smooth loss's typical clip):
        a step the shrink or the clip would cut is not tried, which also
        keeps the trials few on small fits. ``epoch``: ``objective``'s epoch
        runner, whose layout the sample's is cut from.
        """
        n = objective.n_samples
        size = min(
            n,
            CALIBRATION_SAMPLES,
            max(CALIBRATION_MIN_SAMPLES, n // CALIBRATION_SHARE),
        )
        rows = np.sort(rng.choice(n, size=size, replace=False))
        # the sample's kernel layout is built once for all the trials
        run = epoch.subset(rows)
        order = np.arange(size)

        def score(eta0):
            state = SGDState.start(objective, None, eta0)
            with np.errstate(all="ignore"):
                run.run(state, order, replace(rule, eta0=eta0))
                W, b = state.model()
                value = per_sample_objective(run, W, b, rule, intercept=False)
            return value if np.isfinite(value) else np.inf

        eta = min(start, 1.0, cap)
        best = score(eta)
        direction = 0.5
        if 2.0 * eta <= cap:
            up = score(2.0 * eta)
            if up < best:
                eta, best, direction = 2.0 * eta, up, 2.0
        for _ in range(CALIBRATION_MAX_STEPS):
            if eta * direction > cap:
                break
            candidate = score(eta * direction)
            if not candidate < best:
                break
            eta, best = eta * direction, candidate
        return eta

    def _epoch_runner(self, objective, rule):
        """``.run(state, order, rule)``, one epoch, and ``.risk(W, b)``;
        ``rule`` here fixes the layout (projection or not), the steps may
        differ per call."""
        return epoch_runner(objective, with_sq_norms=rule.radius > 0)

    def _order(self, n, rng):
        if not self.shuffle:
            return np.arange(n)
        if n >= 2**32:  # beyond the compiled shuffle's index range
            return rng.permutation(n)
        # a compiled shuffle seeded from the run's generator: numpy's
        # permutation costs as much as a short epoch's steps
        return _sgd_fast.shuffled(n, int(rng.integers(2**63)))

    def _split(self, objective, rng):
        if not self.early_stopping:
            return objective, None
        y = objective.y
        if objective.loss.is_multiclass:
            strata = y
        elif y.ndim == 2 and y.shape[1] > 1:
            strata = np.argmax(y, axis=1)
        else:
            strata = np.asarray(y).ravel() > 0
        n = objective.n_samples
        n_valid = int(np.ceil(self.validation_fraction * n))
        if n_valid < 1 or n - n_valid < 1:
            raise ValueError(
                f"SGD: early_stopping cannot hold out validation_fraction="
                f"{self.validation_fraction} of {n} samples and keep some to "
                "train on; use more data or early_stopping=False."
            )
        seed = int(rng.integers(np.iinfo(np.int32).max))
        try:
            # stratified when every class can appear on both sides
            train, valid = train_test_split(
                np.arange(n), test_size=n_valid, stratify=strata, random_state=seed
            )
        except ValueError:
            # tiny or very unbalanced data: a plain random split
            train, valid = train_test_split(
                np.arange(n), test_size=n_valid, random_state=seed
            )
        return objective.subset(np.sort(train)), objective.subset(np.sort(valid))

    def _watched(self, monitor, state, rule):
        """The per-sample objective, on ``monitor``, of the model SGD would
        return (the averaged one, if any).

        The model's own objective rather than the running loss of the epoch's
        iterates, which is free but noisy: with unequal weights it fluctuates
        by more than any sensible ``tol`` and stops runs far from the optimum.
        """
        W, b = state.model()
        with np.errstate(over="ignore", invalid="ignore"):
            return per_sample_objective(monitor, W, b, rule, intercept=True)

    def _reported(self, objective, lam):
        """The objective SGD minimized: ``P``, or with ``alpha`` set, ``P`` with
        ``C = 1 / (alpha n)`` (``C`` unused)."""
        if self.alpha is not None and lam > 0:
            return objective.with_C(1.0 / (lam * objective.n_samples))
        return objective

    def _result(
        self,
        objective,
        state,
        coef,
        lam,
        n_iter,
        converged,
        optimality,
        message,
        history,
        value=None,
    ):
        """The :class:`SolveResult`; ``value``: ``P(coef)`` where the
        certificate computed it (on the same objective and coefficients)."""
        if value is None:
            reported = self._reported(objective, lam)
            with np.errstate(over="ignore", invalid="ignore"):
                value = reported.value(coef)
        value = float(value)
        if not np.isfinite(value):
            raise SGDDivergedError(
                f"SGD diverged: the objective of its model is {value} (the "
                f"coefficients reach {float(np.max(np.abs(coef))):.3g}), with "
                f"learning_rate={self.learning_rate!r}, eta0={self.eta0!r}; "
                "use a smaller eta0 or another learning_rate, or scale the data "
                "(StandardScaler) or the sample weights."
            )
        return SolveResult(
            coef=coef,
            n_iter=int(n_iter),
            converged=converged,
            value=value,
            optimality=float(optimality),
            history=history,
            message=message,
            state=state,
        )


def _monitor_rows(n, rng):
    """The samples the stopping rule evaluates: all (None), or a fixed
    random subset of them (the same every epoch, so that epochs are
    compared on equal terms at a small fraction of an epoch's cost; see
    ``MONITOR_SAMPLES``)."""
    if n <= MONITOR_SAMPLES:
        return None
    size = min(MONITOR_SAMPLES, n // MONITOR_SHARE)
    return np.sort(rng.choice(n, size, replace=False))


def _verdict(objective, coef, stopped, change, message, tol):
    """``(converged, optimality, message, P(coef) or None)`` of a run that
    ended at ``coef``.

    A stalled objective is no proof of optimality (SGD's steps shrink, so it
    stalls far from the optimum at an extreme ``C`` or on offset data): the
    run is converged only when the duality-gap bound of
    :func:`relative_gap` is at most ``tol``, and ``optimality`` is that bound.
    A loss without one (multiclass, pairwise, Gaussian hinge, a user's
    loss) cannot be certified: never converged, ``optimality`` the last
    relative change (``inf`` before there was one).
    """
    gap, value = relative_gap_and_value(objective, coef)
    if gap is None:
        optimality = change if np.isfinite(change) else np.inf
        return (
            False,
            abs(optimality),
            message + "; this loss has no certificate",
            value,
        )
    if stopped and gap <= tol:
        return True, gap, message + f"; certified duality gap {gap:.2g}", value
    if stopped:
        message += (
            f", but the duality-gap bound of the returned model is {gap:.2g}: "
            "SGD is not certified near the optimum (its bound is loose; use "
            "solver='dual_cd' or 'newton' for a certified optimum)"
        )
    return False, gap, message, value


#: what SGD reports per epoch as its stopping measure
IMPROVEMENT = "relative improvement of the watched objective"


def _epoch_reports(callback, reported, mu):
    """An epoch's report in terms of the problem given to ``solve``.

    The epochs run on centered data when ``mu`` is set and watch an estimate
    of ``P`` on a sample; the report shows the exact ``P`` of the current
    model (the average, once averaging started) and its coefficients, both
    computed only if read, during the call (``state`` moves on after it).
    """
    if callback is None:
        return None

    def report(n_epoch, watched, change, measure, model, objective):
        def coef():
            W, b = model()
            return reported.join(W, b if mu is None else b - W @ mu)

        callback(
            n_epoch, lambda: reported.value(coef()), change, measure, coef, reported
        )

    return report
