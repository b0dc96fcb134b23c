"""HingeClassifier: a linear classifier composed of a loss and a solver."""

import math
import warnings
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._objective import LinearObjective
from .._targets import (
    TargetEncoding,
    check_label_types,
    class_weight_per_sample,
)
from ..losses import LOSSES, Loss, ModifiedHuber, get_loss
from ..losses._base import running_sum
from ..penalties import PENALTIES, Penalty
from ..solvers import SGD, SOLVERS, Solver, get_solver
from ..solvers._base import column_jobs
from ..solvers._gradient_descent import UNBOUNDED_MESSAGE
from ..solvers._sgd_parts import partners_objective
from ._progress import (
    HAS_SKLEARN_CALLBACKS,
    CallbackSupportMixin,
    ProgressPrinter,
    SklearnCallbackBridge,
    fit_reporter,
)
from ._shared import (
    CachedParamNamesMixin,
    HTMLReprMixin,
    VersionedPickleMixin,
    available_if_explained,
    canonical_csr,
    check_finite_model,
    check_not_complex,
    check_sample_weight,
    check_two_classes,
    check_weighted_classes,
    checked_class_labels,
    labels_from_scores,
    proba_from_margin_scores,
    single_threaded_blas,
)


def _from_log10(log_value):
    """``10 ** log_value`` written as ``"5.63e-14"``, also where the power
    itself would not be a float (weights normalized by a power of two)."""
    exponent = math.floor(log_value)
    mantissa = 10.0 ** (log_value - exponent)
    if round(mantissa, 2) >= 10.0:  # 9.999 rounds up to 10.0: 1.00e+1 more
        mantissa, exponent = mantissa / 10.0, exponent + 1
    return f"{mantissa:.3g}e{exponent:+03d}"


class _ScalarInterval(Interval):
    """scikit-learn's ``Interval``, with numpy scalars compared as Python
    numbers: a ``float32`` C against the bound 1e50 cast the bound to float32,
    an overflow with a RuntimeWarning (an error under ``-W error``)."""

    def __contains__(self, val):
        return super().__contains__(val.item() if isinstance(val, np.generic) else val)


#: the largest C accepted whatever the data (see ``fit``'s Notes)
C_MAX = 1e50
#: the range of ``intercept_scaling`` (see its description)
INTERCEPT_SCALING_RANGE = (1e-10, 1e10)
#: the largest absolute feature value accepted (see ``fit``'s Notes)
X_MAX = 1e100
#: the accepted range of kappa = C * sum(s_i) * max ||x_i||^2 (``fit``'s Notes)
KAPPA_RANGE = (1e-10, 1e50)
#: weights whose largest value lies outside this range are normalized into C
WEIGHT_RANGE = (2.0**-30, 2.0**30)


def _solver_learns_online(estimator):
    """``partial_fit`` exists when the solver learns online (``SGD``)."""
    spec = estimator.solver
    cls = SOLVERS.get(spec) if isinstance(spec, str) else type(spec)
    if not getattr(cls, "supports_partial_fit", False):
        raise AttributeError(
            f"partial_fit needs a solver that learns online (solver='sgd'); "
            f"solver={spec!r} does not. Use solver='sgd', or fit."
        )
    if getattr(spec, "early_stopping", False):
        raise AttributeError(
            "partial_fit makes one pass over each chunk it is given, so it "
            "cannot hold out data and compare epochs as early_stopping=True "
            "asks; use SGD(early_stopping=False) for partial_fit."
        )
    return True


def _loss_has_probabilities(estimator):
    """``predict_proba`` exists for the modified Huber loss only."""
    spec = estimator.loss
    cls = LOSSES.get(spec) if isinstance(spec, str) else type(spec)
    if cls is not ModifiedHuber:
        raise AttributeError(
            f"probability estimates need loss='modified_huber' (as in "
            f"SGDClassifier); loss={spec!r} has no link from scores to "
            "probabilities. Use sklearn.calibration.CalibratedClassifierCV."
        )
    return True


class HingeClassifier(
    CallbackSupportMixin,
    HTMLReprMixin,
    VersionedPickleMixin,
    CachedParamNamesMixin,
    SparseCoefMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """Linear classifier trained on a hinge-family loss with a chosen solver.

    Minimizes

    .. math:: P(W, b) = \\Omega(W)
              + C \\sum_i s_i\\, \\ell(y_i, x_i W^\\top + b),

    ``s_i = sample_weight_i * class_weight[y_i]``, ``Omega`` the penalty
    (:math:`\\tfrac12\\|W\\|_F^2` by default), with the intercept ``b``
    unpenalized (unless ``intercept_scaling`` is given).

    Parameters
    ----------
    loss : str or Loss, default="squared_hinge"
        A registry name (``"hinge"``, ``"squared_hinge"``, ``"smooth_hinge"``,
        ``"gaussian_hinge"``, ``"modified_huber"``, ``"crammer_singer"``,
        ``"weston_watkins"``, ``"pairwise_squared_hinge"``,
        ``"pairwise_square"``, ``"pairwise_smooth_hinge"``) or a loss
        object, whose parameters are then tunable as ``loss__<name>``. A
        binary loss on more than two classes trains one-vs-rest; a multiclass
        loss trains all classes jointly. A pairwise loss (an AUC surrogate
        over all (positive, negative) pairs, see
        :class:`~hinge_estimators.losses.PairwiseLoss`) is binary only: more
        than two classes raise a ``ValueError``.
    solver : str or Solver, default="auto"
        ``"auto"``, ``"dual_cd"`` (compiled dual coordinate descent),
        ``"newton"`` (Newton-CG), ``"lbfgs"``, ``"gd"``,
        ``"fc_boosting"`` (fully-corrective greedy feature selection: a sparse
        ``coef_``, smooth losses only, never picked by ``"auto"``),
        ``"sgd"`` (compiled stochastic gradient descent with averaging, for
        data too large for the exact solvers and for streams: it enables
        :meth:`partial_fit`; never picked by ``"auto"``) or a
        solver object (parameters tunable as ``solver__<name>``). ``"auto"``
        picks the fastest exact solver for the loss and the data shape:
        ``dual_cd`` for the hinge and Crammer-Singer losses, for the squared
        hinge ``newton`` on data with ``n_samples >= 2 * n_features``
        and on wide sparse data (text) once ``C`` times the mean
        ``s_i ||x_i||^2`` exceeds 2 (10 without an intercept),
        ``dual_cd`` otherwise, ``newton`` for the other smooth losses
        (pairwise ones included), ``gd`` for the rest; with ``"l1"``,
        ``"elasticnet"`` or ``"l1_l2"`` ``primal_cd`` (compiled coordinate
        descent) for the squared hinge, the smooth hinge and the modified
        Huber loss (but ``"l1_l2"`` over more than two classes), ``gd``
        (proximal steps; an interior point first for the hinge with
        ``"l1"`` or ``"elasticnet"``, a barrier method for the smooth
        losses of curvature at most 2 (the Gaussian hinge's default), a
        primal-dual interior point for the multiclass hinges and for
        ``"l1_l2"`` over the one-vs-rest columns of the hinge and the narrow
        smooth hinges) for the rest (see
        :func:`hinge_estimators.solvers.auto_solver`).
    penalty : {"l2", "l1", "elasticnet", "l1_l2"}, Penalty or None, \
            default="l2"
        The regularizer :math:`\\Omega(W)` on the coefficients (never on the
        intercept): ``"l2"`` :math:`\\|W\\|^2/2`; ``"l1"``
        :math:`\\|W\\|_1` (sparse ``coef_``, LinearSVC's ``penalty="l1"``);
        ``"elasticnet"`` :class:`~hinge_estimators.penalties.ElasticNet`
        (pass ``ElasticNet(l1_ratio=...)`` to set the mix, tunable as
        ``penalty__l1_ratio``); ``"l1_l2"``
        :class:`~hinge_estimators.penalties.GroupL1L2` (a feature is kept or
        dropped for every class at once); or a penalty object. ``None``
        minimizes the plain empirical risk :math:`\\sum_i s_i \\ell_i`
        (``C`` is then not used). The penalty's strength is fixed and ``C``
        weighs the loss, as in ``LinearSVC(penalty="l1")``: a smaller ``C``
        gives a sparser ``coef_``, and below
        :math:`C = 1 / \\|X^\\top g\\|_\\infty` (``g`` the loss gradient
        at ``coef_ = 0``) L1 gives ``coef_ = 0``. The non-smooth penalties
        (``"l1"``, ``"elasticnet"`` with ``l1_ratio > 0``, ``"l1_l2"``) set
        coefficients to exactly 0 (count them with
        ``np.count_nonzero(coef_)``, store them with :meth:`sparsify`);
        ``solver="auto"`` then picks ``primal_cd`` or ``gd`` (see
        ``solver``), ``sgd`` takes ``"l1"`` and ``"elasticnet"``, and the
        solvers without an update for them (``dual_cd``, ``newton``,
        ``lbfgs``, ``fc_boosting``) refuse them with a ``ValueError``.
        ``dual_cd`` also needs the quadratic part to be exactly
        :math:`\\|W\\|^2/2` (``"l2"``, ``ElasticNet(l1_ratio=0)``).
    C : float, default=1.0
        Inverse regularization strength (LinearSVC's convention), in
        ``(0, 1e50]``; with the data and weights it must also keep the
        problem's scale in range (see :meth:`fit`'s Notes).
    fit_intercept : bool, default=True
        Whether to fit an intercept. A pairwise loss ranks samples and does
        not change when every score moves by the same amount, so its objective
        has no intercept and does not determine a threshold: with
        ``fit_intercept=True`` the intercept is set after the fit, with the
        ranking's scores :math:`t_i` held fixed, to the shift that a
        per-sample squared hinge would choose,
        :math:`b = \\arg\\min_b \\sum_i s_i [1 - y_i (t_i + b)]_+^2` (the
        middle of the minimizers when the classes are separated by more than
        the margins), so sample and class weights move it as they move
        LinearSVC's. ``decision_function`` and the ROC AUC do not depend on
        it.
    intercept_scaling : float or None, default=None
        ``None``: the intercept is not penalized. A number ``B``: LIBLINEAR's
        convention, the intercept is the weight of a constant feature of value
        ``B``, penalized like the others (the objective gains
        :math:`\\|b\\|^2 / (2B^2)`). A pairwise loss has no intercept in its
        objective: a number raises a ``ValueError``.
        ``B`` must lie in ``[1e-10, 1e10]``: ``B^2`` joins every row's
        squared norm and ``1 / B^2`` is the intercept's curvature, so
        beyond it one of them exceeds the coefficients' (1 for scaled
        features) by more than ``1e20``, past what double precision
        resolves against it (and ``1e-200`` or ``1e200`` overflowed).
    class_weight : dict, "balanced" or None, default=None
        Multipliers of ``C`` per class. ``"balanced"`` uses
        ``total_weight / (n_classes * class_weight_total)``. A sample's
        weight is its class's in every one-vs-rest column (``LinearSVC``
        and ``SGDClassifier`` weigh only column ``k``'s positives by class
        ``k``'s weight). Labels absent from ``y`` are ignored where every
        class of ``y`` has a weight in the dict (a cross-validation fold may
        lack a rare class), as in scikit-learn. A pairwise loss
        is already a mean over (positive, negative) pairs, balanced by
        construction: there a class weight only rescales the loss's total, as
        ``C`` does (``"balanced"`` leaves the ranking unchanged), and it
        moves the threshold (see ``fit_intercept``): ``"balanced"`` gives a
        threshold that weighs both classes equally, ``None`` one that favours
        the larger class, as for a per-sample loss.
    tol : float, default=1e-4
        Stopping tolerance. For the exact solvers (``dual_cd``, ``newton``) it bounds
        the relative suboptimality :math:`(P - P^*)/P`: ``dual_cd`` stops on the
        relative duality gap (a proof), ``newton`` on the Newton decrement (an estimate,
        exact for quadratics). For ``lbfgs``, ``gd`` and ``fc_boosting`` it is the
        relative gradient norm :math:`\\|\\nabla P\\| / \\|\\nabla P(0)\\|`; with a
        non-smooth penalty ``gd`` and ``primal_cd`` stop on a relative duality gap, a
        proven bound on the relative suboptimality (see ``GradientDescent``). For
        ``sgd`` it is the relative improvement of the returned model's objective
        below which ``n_iter_no_change`` epochs in a row stop the run; the fit
        converges only if a duality-gap bound then certifies it within ``tol``
        (that bound is ``optimality_``; see ``SGD``). The value measured at the
        solution is ``optimality_``.
    max_iter : int, default=1000
        Iteration budget of the solver (passes over the data for ``dual_cd``
        and ``sgd``, Crammer-Singer's shrunk passes in full-pass equivalents;
        on small data, where ``max_iter`` passes cost less than about 25 ms,
        ``dual_cd``'s exact finish of the hinge may spend as much work again;
        epochs over the working sets for ``primal_cd``;
        for ``fc_boosting`` the number of features it may select, per
        one-vs-rest class: ``max_iter=k`` asks for a ``k``-feature model,
        and warns when ``tol`` was not reached with ``k`` features).
    warm_start : bool, default=False
        Start from the previous solution when refitting on data with the
        same classes and features; ``dual_cd`` resumes from its dual
        variables (when the number of samples is unchanged). Those are kept
        after a fit only with ``warm_start=True``: they hold one number per
        sample (per class), which would make every fitted model, and its
        pickle, grow with the training set; without them a later warm start
        begins from the coefficients alone. ``sgd`` starts
        from the previous coefficients with a new step-size schedule and new
        averages (as ``SGDClassifier`` does); to continue a run instead,
        call :meth:`partial_fit`, which keeps the step counter, the schedule
        and the averages.
    random_state : int, RandomState instance or None, default=None
        Seed of randomized solvers.
    verbose : int, default=0
        Print the solver's progress: the iteration, the primal objective, the
        certificate (relative duality gap, Newton decrement or gradient norm,
        named on each line) and the time since the fit began, every iteration
        (``verbose >= 2``) or every ``ceil(max_iter / 20)``-th (``verbose ==
        1``: about 20 lines for a fit that runs its whole budget), then a final
        line with ``optimality_`` and why the solver stopped. ``dual_cd``
        measures its gap every few passes and prints at those passes (and
        at the Newton steps of its primal finish). With scikit-learn >= 1.9,
        ``set_callbacks`` also takes its experimental ``sklearn.callback``
        objects: each solver iteration is a task, so ``ProgressBar()`` shows
        a bar over the iterations and ``ScoringMonitor`` scores the model of
        each reported iteration (for problems solved as a whole: binary and
        multiclass losses; one-vs-rest columns solved one after the other
        have no whole model until the end, which is then scored alone).

    n_jobs : int, default=None
        How many one-vs-rest columns (a binary loss on more than two classes)
        are fitted at once, in threads: ``dual_cd``'s compiled passes and
        BLAS release the GIL. ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` all CPUs, as in
        scikit-learn. It applies to the solvers that fit the columns one by
        one in compiled passes: ``dual_cd``, ``primal_cd``, and ``newton`` on
        sparse data (on dense data its Python-level steps made two threads
        slower than one, so it uses one). ``gd``, ``lbfgs`` and ``sgd``
        update all columns together, and binary or multiclass losses have
        one problem, so it has no effect there. Measured on 2 cores:
        1.2 to 1.9 times faster for ``dual_cd``'s hinge on most sets, but
        slower (0.7 to 0.85 times) where its Python-level primal finish
        dominates (the hinge on digits at ``C >= 1``). The result does not
        depend on it (each column draws its own random stream); the progress
        reports of columns fitted at the same time interleave.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Exactly 0 where a non-smooth penalty (``"l1"``, ...) drops a
        feature. A sparse matrix after :meth:`sparsify` (until
        :meth:`densify` or the next fit; predictions, warm starts and
        :meth:`partial_fit` work on either).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has string feature names.
    n_iter_ : int
        Iterations the solver ran.
    objective_value_ : float
        Objective value the solver stopped on.
    optimality_ : float
        The solver's stopping measure at the solution (see ``tol``): the
        relative duality gap for ``dual_cd``, a proven bound on the relative
        suboptimality of ``coef_``. ``inf`` where no bound could be computed
        (a non-smooth multiclass loss with a non-smooth penalty and free
        intercepts can leave no feasible dual point); the fit then warns.
    loss_ : Loss
        The loss object used (a fresh copy; ``loss`` is never modified).
    solver_ : Solver
        The solver object used.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from hinge_estimators import HingeClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), HingeClassifier(loss="hinge"))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True

    A sparse model: L1 keeps a few of the 30 features, fewer as ``C``
    shrinks.

    >>> import numpy as np
    >>> sparse = make_pipeline(
    ...     StandardScaler(), HingeClassifier(penalty="l1", C=0.05)
    ... ).fit(X, y)
    >>> n_nonzero = np.count_nonzero(sparse[-1].coef_)
    >>> bool(0 < n_nonzero < 15)
    True
    >>> bool(sparse[-1].sparsify().coef_.nnz == n_nonzero)
    True
    """

    def __init__(
        self,
        loss="squared_hinge",
        solver="auto",
        *,
        penalty="l2",
        C=1.0,
        fit_intercept=True,
        intercept_scaling=None,
        class_weight=None,
        tol=1e-4,
        max_iter=1000,
        warm_start=False,
        random_state=None,
        verbose=0,
        n_jobs=None,
    ):
        self.loss = loss
        self.solver = solver
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    _parameter_constraints: dict = {
        "loss": [StrOptions(set(LOSSES)), Loss],
        "solver": [StrOptions({"auto", *SOLVERS}), Solver],
        "penalty": [StrOptions(set(PENALTIES)), Penalty, None],
        "C": [_ScalarInterval(Real, 0, C_MAX, closed="right")],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [
            _ScalarInterval(Real, *INTERCEPT_SCALING_RANGE, closed="both"),
            None,
        ],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        loss = LOSSES.get(self.loss) if isinstance(self.loss, str) else self.loss
        if getattr(loss, "is_pairwise", False):
            tags.classifier_tags.multi_class = False
        return tags

    def set_params(self, **params):
        """Set the parameters; ``loss__<name>`` etc. need a loss object.

        Parameters
        ----------
        **params : dict
            Estimator parameters, and ``loss__<name>`` / ``solver__<name>``
            for a loss or solver given as an object.

        Returns
        -------
        self : HingeClassifier
        """
        for key in params:
            head, nested, _ = key.partition("__")
            if not nested or head not in _OBJECT_PARAMS:
                continue
            current = params.get(head, getattr(self, head, None))
            if not hasattr(current, "set_params"):
                raise ValueError(
                    f"Cannot set {key!r}: {head}={current!r} is "
                    f"{'a name' if isinstance(current, str) else 'not an object'}"
                    f", which has no parameters to set. "
                    f"{_OBJECT_PARAMS[head](current)}"
                )
        return super().set_params(**params)

    # -- fitting -------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight ``k`` is equivalent to repeating the
            sample ``k`` times.

        Returns
        -------
        self : HingeClassifier

        Notes
        -----
        **Scales.** The problem is invariant under ``X -> a X``,
        ``C -> C / a^2`` (the coefficients scale by ``1 / a``) and under
        ``s -> t s``, ``C -> C / t``, so its numerical difficulty is one
        number,

        .. math:: \\kappa = C \\sum_i s_i \\max_i \\|x_i\\|^2

        (``x_i`` with ``intercept_scaling`` appended when it is set), which
        bounds the ratio of the loss's curvature to the penalty's (the
        condition number of ``P`` is at most :math:`1 + \\kappa` times the
        loss's smoothness). The rule, in order:

        * ``X`` must have its largest absolute entry in ``[1e-100, 1e100]``
          (or be all zero): beyond, squared row norms and their products with
          ``C`` leave the double range. ``ValueError`` otherwise.
        * Weights ``s_i`` (``sample_weight`` times ``class_weight``) whose
          largest value lies outside ``[2**-30, 2**30]`` are divided by a
          power of two near it and ``C`` multiplied by it: exact, ``P`` is
          unchanged (with ``penalty=None`` it scales by that power, and
          ``objective_value_`` reports the unscaled ``P``). This keeps
          products of weights (pairwise losses) finite. Not done for
          ``SGD(alpha=...)``, whose objective does not contain ``C``.
        * With a penalty, :math:`\\kappa` must lie in
          ``[1e-10, 1e50]``; ``ValueError`` otherwise, naming its factors.
          Above: measured, every solver stays finite (and as accurate as on
          a well-scaled problem) up to about ``1e80``, and Newton overflows
          near ``1e120``. Below: at the optimum
          :math:`W = C \\sum_i \\alpha_i y_i x_i` with
          :math:`0 \\le \\alpha_i \\le s_i |\\ell'|`, so each score's
          linear part is at most :math:`\\kappa |\\ell'|` against an
          intercept of order 1: predictions would be decided by the
          intercept's rounding (within a million roundings of it). ``C``
          itself is limited to ``(0, 1e50]``, the limit of :math:`\\kappa`
          for unit weights and unit row norms.
        * :meth:`partial_fit` checks the range of ``X`` and the final
          guard only: one chunk does not fix the scale of the stream.
        * Last, a fitted ``coef_``, ``intercept_`` and objective value must
          be finite; otherwise a ``FloatingPointError`` is raised and no
          model is stored.
        """
        problem = self._problem(X, y, sample_weight)
        loss, solver, objective = problem.loss, problem.solver, problem.objective
        classes, encoding, codes = problem.classes, problem.encoding, problem.codes
        value_scale = problem.value_scale
        coef_init, resume = None, {}
        if (
            self.warm_start
            and getattr(self, "_solution", None) is not None
            and np.array_equal(self.classes_, classes)
        ):
            # The stored vector is read by position: it is a start only for a
            # problem whose coefficients mean the same things. Equal sizes are
            # not enough (5 features with intercepts and 6 without have as
            # many entries; issue 13), so the whole layout must match.
            if self._warm_layout == _coef_layout(objective, loss):
                coef_init = self._solution
            # a solver of the same kind resumes from its own state (the dual
            # variables of dual_cd, which it makes feasible for the new
            # problem), not only from the coefficients
            if solver.resumes_from_state and type(self.solver_) is type(solver):
                resume = {"warm_state": self._solver_state}
        printer = (
            ProgressPrinter("HingeClassifier", self.verbose, self.max_iter)
            if self.verbose
            else None
        )
        bridge = self._callback_bridge(
            X, y, sample_weight, objective, encoding, codes, loss
        )
        with single_threaded_blas(), column_jobs(self.n_jobs):
            result = solver.solve(
                objective,
                coef_init,
                tol=self.tol,
                max_iter=self.max_iter,
                rng=np.random.default_rng(_seed(self.random_state)),
                callback=fit_reporter(printer, bridge),
                **resume,
            )
        if printer is not None:
            printer.final(result)
        if not result.converged:
            measure = f"stopping measure {result.optimality:.3g} > tol={self.tol:g}"
            advice = "increase max_iter, loosen tol, or scale the data."
            if result.optimality <= self.tol:
                # below tol, yet not converged (the solver's own reason
                # follows): "0.00484 > tol=0.01" was false
                measure = f"stopping measure {result.optimality:.3g} (tol={self.tol:g})"
            if result.optimality <= self.tol and UNBOUNDED_MESSAGE in result.message:
                # a test met that bounds nothing (penalty=None, a non-smooth
                # loss): "9.9e-05 > tol=1e-4" misread it, and more
                # iterations would not help
                measure = (
                    f"stopping measure {result.optimality:.3g} <= tol="
                    f"{self.tol:g}, a test that bounds nothing here"
                )
                advice = "a penalty (penalty='l2', 'l1', ...) gives a certified fit."
            if np.isinf(result.optimality):
                # "inf > tol" alone reads as a divergence: it is a missing bound
                if self.penalty is None:
                    why = (
                        "with penalty=None no dual point bounds this loss's "
                        "objective (and on separable data its infimum 0 may "
                        "not be attained)"
                    )
                elif loss.is_multiclass:
                    why = (
                        "no feasible dual point at its last iterate, as for a "
                        "multiclass loss whose free intercepts the loss "
                        "gradient cannot balance"
                    )
                else:
                    why = "no feasible dual point at its last iterate"
                measure = f"no bound on its suboptimality (stopping measure inf: {why})"
            warnings.warn(
                f"{type(solver).__name__} did not converge: it stopped after "
                f"{result.n_iter} iterations (max_iter={self.max_iter}) with "
                f"{measure} ({result.message}); {advice}",
                ConvergenceWarning,
                stacklevel=3,  # the caller of fit, past _fit_context's wrapper
            )
        self._store(result, objective, encoding, codes, loss, solver, value_scale)
        self.n_iter_ = int(result.n_iter)
        self._online_rng = None
        if bridge is not None:
            bridge.finish(self.n_iter_, final={})
        return self

    @available_if_explained(_solver_learns_online)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One online pass over a chunk of data (``solver="sgd"`` only).

        Follows ``SGDClassifier.partial_fit``: the first call needs
        ``classes``, every later call continues the same run -- the step
        counter, the step-size schedule and the averages carry on (also from
        a previous ``fit`` with ``solver="sgd"``), and each call is one epoch
        over its chunk (shuffled if the solver's ``shuffle`` is on; its
        ``early_stopping`` must be off). ``max_iter``, ``tol`` and
        ``warm_start`` do not apply; ``fit`` starts a new run.

        The objective is ``P`` over every sample given so far: with the
        solver's ``alpha=None`` the L2 strength of step ``t`` is
        :math:`1/(C n_{seen})`, so passing the same data twice weighs it
        twice, as repeating samples does in ``fit``. Set ``SGD(alpha=...)``
        for a fixed strength (``SGDClassifier``'s convention).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every label the stream will contain; required on the first call,
            and must match ``classes_`` on later ones.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights. ``class_weight="balanced"`` needs the whole
            data and is refused; pass a dict instead.

        Returns
        -------
        self : HingeClassifier
        """
        loss, solver = self._resolve(X, y)
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: all "
                "the labels the stream will contain (a chunk may lack some)."
            )
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class totals of the whole "
                "data, which partial_fit does not see; pass a dict, e.g. from "
                "sklearn.utils.class_weight.compute_class_weight."
            )
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            reset=first_call,
        )
        X = canonical_csr(X)
        check_classification_targets(y)
        if classes is not None:
            check_not_complex(classes, "classes")
            check_label_types(classes)
            classes = np.unique(np.asarray(classes))
            if not first_call and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()} differs from the classes of "
                    f"the previous calls, {self.classes_.tolist()}."
                )
        else:
            classes = self.classes_
        check_two_classes("HingeClassifier", classes)
        unknown = np.setdiff1d(np.unique(y), classes)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not in classes="
                f"{classes.tolist()}; pass every label on the first call."
            )
        if loss.is_pairwise and len(classes) > 2:
            raise ValueError(
                "Only binary classification is supported by the pairwise loss "
                f"{loss.name!r}; classes has {len(classes)} labels."
            )
        codes = np.searchsorted(classes, y)
        sample_weight = check_sample_weight(sample_weight, X)
        weights = sample_weight * class_weight_per_sample(
            self.class_weight, classes, codes, sample_weight
        )
        # one chunk's weights do not fix the stream's scale, so they are not
        # normalized here (see fit's Notes); the data's range is checked
        _check_X_range(X)
        encoding = TargetEncoding(classes, loss.is_multiclass)
        objective = self._objective(loss, X, encoding, codes, weights, self.C)
        state = None
        if not first_call and type(self.solver_) is type(solver):
            state = self._solver_state
        if getattr(self, "_online_rng", None) is None:
            self._online_rng = np.random.default_rng(_seed(self.random_state))
        with single_threaded_blas():
            result = solver.partial_solve(objective, state, rng=self._online_rng)
        if loss.is_pairwise and getattr(result.state, "partners", None) is not None:
            # the threshold from the latest samples of both classes, not from
            # a chunk that may hold one class only
            objective, codes = partners_objective(objective, result.state.partners)
        self._store(result, objective, encoding, codes, loss, solver)
        self.n_iter_ = getattr(self, "n_iter_", 0) + 1 if not first_call else 1
        return self

    def _problem(self, X, y, sample_weight, Cs=None):
        """Validate the data and build the objective ``fit`` solves.

        ``Cs``: the values of ``C`` the objective will be solved at (default
        ``(self.C,)``); the scale rule (``fit``'s Notes) is checked at the
        smallest and the largest (not at all for ``Cs=()``: the caller
        checks once it knows them, with ``problem.raw_weights``), and
        ``problem.objective`` is built at the first (at 1 for ``()``).
        ``problem.C_factor`` converts a user's ``C`` to the objective's (a
        power of two where the weights were normalized, else 1), which
        ``objective.with_C`` then takes. Used by ``fit`` and by the
        regularization path, which validates once and solves many times.
        """
        loss, solver = self._resolve(X, y)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
        )
        X = canonical_csr(X)
        classes, codes = checked_class_labels(y)
        check_two_classes("HingeClassifier", classes)
        if loss.is_pairwise and len(classes) > 2:
            raise ValueError(
                "Only binary classification is supported by the pairwise loss "
                f"{loss.name!r}, which ranks one class above the other; the "
                f"target has {len(classes)} classes. Use a per-sample loss "
                "(one-vs-rest) such as 'squared_hinge' for multiclass data."
            )
        sample_weight = check_sample_weight(sample_weight, X)
        raw_weights = sample_weight * class_weight_per_sample(
            self.class_weight, classes, codes, sample_weight
        )
        check_weighted_classes("HingeClassifier", classes, codes, raw_weights)
        # one pass for the row norms: the scale rule reads their maximum at
        # each value of C it checks, "auto" their weighted mean
        norms = _row_norms2(X)
        max_norm2 = float(norms.max()) if norms.size else 0.0
        # "auto" depends on the data (shape, sparsity, row norms), which
        # _resolve did not know; the sparse rows' mean weighted squared norm
        # lets it follow C (see _auto_solver_at)
        norm_scale = (
            _mean_weighted_norm2(norms, raw_weights, self._penalized_scaling())
            if self._is_auto() and sp.issparse(X)
            else None
        )
        shape = (X.shape, sp.issparse(X), len(classes))
        Cs = [float(self.C)] if Cs is None else [float(C) for C in Cs]
        if self._is_auto():
            solver = self._auto_solver_at(loss, shape, norm_scale, Cs[0] if Cs else 1.0)
        check = len(Cs) > 0
        Cs = Cs or [1.0]
        # the extremes (kappa grows with C), then the objective's C
        for C_user in {min(Cs), max(Cs)} - {Cs[0]}:
            self._check_scale(X, max_norm2, raw_weights, solver, C_user)
        C, weights, value_scale = self._check_scale(
            X, max_norm2, raw_weights, solver, Cs[0], check=check
        )
        encoding = TargetEncoding(classes, loss.is_multiclass)
        objective = self._objective(loss, X, encoding, codes, weights, C)
        C_factor = C / Cs[0] if self.penalty is not None else 1.0
        return SimpleNamespace(
            loss=loss,
            solver=solver,
            X=X,
            classes=classes,
            codes=codes,
            encoding=encoding,
            objective=objective,
            value_scale=value_scale,
            C_factor=C_factor,
            raw_weights=raw_weights,
            shape=shape,
            norm_scale=norm_scale,
            max_norm2=max_norm2,
        )

    def _is_auto(self):
        return isinstance(self.solver, str) and self.solver == "auto"

    def _penalized_scaling(self):
        """The constant feature of a penalized intercept (None: no such column)."""
        if self.fit_intercept and self.intercept_scaling is not None:
            return float(self.intercept_scaling)
        return None

    def _auto_solver_at(self, loss, shape, norm_scale, C):
        """``solver="auto"``'s choice for the data ``shape`` (``(X.shape,
        sparse, n_classes)``) at ``C`` (the user's units); ``norm_scale``
        from :func:`_mean_weighted_norm2` (None: dense data)."""
        (n_samples, n_features), sparse, n_classes = shape
        scaled_C = None
        if norm_scale is not None:
            top, mean = norm_scale
            with np.errstate(over="ignore"):  # inf: above any limit, as it is
                scaled_C = C * top * mean
        return get_solver(
            "auto",
            loss,
            n_samples=n_samples,
            n_features=n_features,
            sparse=sparse,
            penalty=self.penalty,
            n_classes=n_classes,
            scaled_C=scaled_C,
            intercept=self.fit_intercept,
        )

    def _resolve(self, X, y):
        """Checks that need no data pass; the loss and solver objects.

        The parameters' types and ranges are checked by ``_fit_context``
        (``_parameter_constraints``) before this runs.
        """
        self._warn_unused_params()
        loss = get_loss(self.loss)
        if loss.is_pairwise and self.intercept_scaling is not None:
            raise ValueError(
                f"HingeClassifier: parameter 'intercept_scaling' must be None with "
                f"the pairwise loss {type(loss).__name__}, whose objective has no "
                f"intercept to penalize, got {self.intercept_scaling!r}."
            )
        # an incompatible solver is refused before the data is read
        solver = get_solver(self.solver, loss, penalty=self.penalty)
        check_not_complex(X, "X")
        check_not_complex(y, "y")
        check_label_types(y)
        return loss, solver

    def _check_scale(self, X, max_norm2, weights, solver, C_user=None, check=True):
        """Apply the scale rule of ``fit``'s Notes: ``(C, weights, value_scale)``.

        At ``C_user`` (default ``self.C``); ``check=False`` normalizes the
        weights only, without the range check on kappa. ``max_norm2``:
        ``max_i ||x_i||^2`` in float64 (:func:`_row_norms2`), which bounds
        the largest entry of ``X`` too.

        ``value_scale`` converts the solved objective back to ``P`` (it
        differs from 1 only with ``penalty=None`` and normalized weights).
        """
        _check_X_range(X, max_norm2)
        C_user = float(self.C if C_user is None else C_user)
        C, value_scale, log_scale = C_user, 1.0, 0.0
        top = float(weights.max())
        fixed_alpha = isinstance(solver, SGD) and solver.alpha is not None
        if not WEIGHT_RANGE[0] <= top <= WEIGHT_RANGE[1] and not fixed_alpha:
            # a power of two: dividing by it is exact (no subnormal results
            # for weights within 2**-970 of the largest)
            exponent = math.frexp(top)[1]
            weights = np.ldexp(weights, -exponent)
            log_scale = exponent * math.log10(2.0)
            if self.penalty is not None:
                C = _ldexp(C, exponent)  # inf is refused by kappa below
            else:
                value_scale = _ldexp(1.0, exponent)
        if self.penalty is None or not check:
            return C, weights, value_scale
        row_norm2 = max_norm2
        if self.fit_intercept and self.intercept_scaling is not None:
            row_norm2 += float(self.intercept_scaling) ** 2
        if row_norm2 == 0.0:
            return C, weights, value_scale  # X = 0: W = 0 exactly
        total = float(weights.sum())
        log_kappa = (
            math.log10(C_user) + log_scale + math.log10(total) + math.log10(row_norm2)
        )
        low, high = KAPPA_RANGE
        if not math.log10(low) <= log_kappa <= math.log10(high):
            factors = (
                f"C = {C_user:.3g}, total weight sum(s_i) = "
                f"{_from_log10(math.log10(total) + log_scale)} (sample_weight "
                "times class_weight), "
                f"max ||x_i||^2 = {row_norm2:.3g}"
            )
            if log_kappa > math.log10(high):
                why = (
                    f"above {high:g}: the loss's curvature would exceed the "
                    "penalty's by so much that the solvers' products overflow"
                )
                fix = "lower C or the weights, or scale the features down"
            else:
                why = (
                    f"below {low:g}: the optimal coefficients would move the "
                    "scores by less than the rounding of the intercept decides"
                )
                fix = "raise C or the weights, or scale the features up"
            raise ValueError(
                f"HingeClassifier: the problem's scale kappa = C * sum(s_i) * "
                f"max ||x_i||^2 = 1e{log_kappa:.1f} is {why} ({factors}). "
                f"Standardize the features (StandardScaler), or {fix}; "
                "see HingeClassifier.fit's Notes."
            )
        return C, weights, value_scale

    def _objective(self, loss, X, encoding, codes, weights, C=None):
        return LinearObjective(
            loss,
            X,
            encoding.encode(codes),
            n_outputs=encoding.n_outputs,
            sample_weight=weights,
            C=self.C if C is None else C,
            # a pairwise objective has no intercept: see fit_intercept
            fit_intercept=self.fit_intercept and not loss.is_pairwise,
            intercept_scaling=self.intercept_scaling,
            penalty=self.penalty,
        )

    def _store(self, result, objective, encoding, codes, loss, solver, value_scale=1.0):
        """Unpack a solver's result into the fitted attributes.

        A non-finite model raises ``FloatingPointError`` before anything is
        stored (see ``fit``'s Notes).
        """
        coef, intercept = self._public_model(
            objective, result.coef, encoding, codes, loss
        )
        value = float(result.value) * value_scale
        check_finite_model("HingeClassifier", coef, intercept, value)
        self.coef_, self.intercept_ = coef, intercept
        self.classes_ = encoding.classes
        self.loss_ = loss
        self.solver_ = solver
        self.objective_value_ = value
        self.optimality_ = float(result.optimality)
        self._solution = result.coef
        self._warm_layout = _coef_layout(objective, loss)
        # dual_cd's state is its dual variables, n_samples numbers per column
        # (321 KB at n = 20,000): kept only where a later fit resumes from it,
        # so that fitted models and their pickles do not grow with the data.
        # SGD's (the averages, the step counter: O(n_features)) continues a
        # run in partial_fit, with or without warm_start.
        keep = self.warm_start or getattr(solver, "supports_partial_fit", False)
        self._solver_state = result.state if keep else None

    def _public_model(self, objective, flat_coef, encoding, codes, loss):
        """``(coef_, intercept_)`` of the solver's flat coefficients."""
        W, b = objective.split(flat_coef)
        coef, intercept = encoding.public_coef(W.copy(), b.copy())
        if loss.is_pairwise and self.fit_intercept:
            with np.errstate(all="ignore"):
                intercept = _pairwise_threshold(
                    objective, W, codes, objective.sample_weight
                )
        return coef, intercept

    def _callback_bridge(self, X, y, sample_weight, objective, encoding, codes, loss):
        """The ``sklearn.callback`` fit task, or None without callbacks.

        Only where scikit-learn has callbacks (>= 1.9) and some are set (see
        :meth:`set_callbacks`); one subtask per solver iteration, at most
        ``max_iter`` per one-vs-rest column.
        """
        if not (HAS_SKLEARN_CALLBACKS and getattr(self, "_skl_callbacks", None)):
            return None
        columns = 1 if loss.is_multiclass else objective.n_outputs
        max_subtasks = self.max_iter * columns
        context = self._init_callback_context(max_subtasks=max_subtasks)
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        context.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)

        def model(progress):
            solved = progress.objective
            if (
                solved is None
                or solved.size != objective.size
                or solved.n_outputs != objective.n_outputs
                or progress.coef is None
            ):
                return None  # one column of several: no whole model yet
            coef, intercept = self._public_model(
                objective, solved.uncenter_coef(progress.coef), encoding, codes, loss
            )
            return {
                "coef_": coef,
                "intercept_": intercept,
                "classes_": encoding.classes,
            }

        return SklearnCallbackBridge(self, context, X, y, metadata, max_subtasks, model)

    def _warn_unused_params(self):
        if self.intercept_scaling is not None and not self.fit_intercept:
            warnings.warn(
                "intercept_scaling is not used because fit_intercept=False.",
                UserWarning,
                stacklevel=5,
            )
        elif self.intercept_scaling is not None and self.penalty is None:
            warnings.warn(
                "intercept_scaling is not used because penalty=None (nothing is "
                "penalized, the intercept included).",
                UserWarning,
                stacklevel=5,
            )
        if self.penalty is None and self.C != 1.0:
            warnings.warn(
                "C is not used because penalty=None (the objective is the plain "
                "empirical risk).",
                UserWarning,
                stacklevel=5,
            )

    # -- prediction ------------------------------------------------------------
    def decision_function(self, X):
        """Signed scores: ``(n_samples,)`` for two classes, else one per class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray
            Positive values favour ``classes_[1]`` in the binary case.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False
        )
        return self._scores(X)

    def _scores(self, X):
        """:meth:`decision_function` of an ``X`` already validated (fit's)."""
        coef = self.coef_
        if sp.issparse(coef):  # sparsify()'d: the same scores as the dense model
            coef = coef.toarray()
        if sp.issparse(X):
            scores = np.asarray(X @ coef.T)
        else:
            # Row by row in a fixed order rather than a BLAS product, whose
            # rounding depends on how many rows it gets: exact multiclass
            # optima put training points exactly on ties between classes, and
            # a prediction must not flip with the batch it is computed in.
            coef = coef.astype(np.result_type(X.dtype, coef.dtype))
            scores = np.einsum("ij,kj->ik", X, coef)
        scores = scores + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    @available_if_explained(_loss_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities (``loss="modified_huber"`` only), as SGDClassifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)

        Notes
        -----
        ``SGDClassifier``'s rule (Zhang, 2004): the modified Huber loss is
        minimized in expectation by :math:`f = 2p - 1` on :math:`[-1, 1]`, so
        :math:`p = (\\mathrm{clip}(f, -1, 1) + 1) / 2` for two classes. For
        more, each class's one-vs-rest :math:`p_k` is divided by their sum
        (Zadrozny and Elkan), uniform where all are 0. Scores beyond
        :math:`\\pm 1` give probabilities of exactly 0 and 1.
        """
        return proba_from_margin_scores(self.decision_function(X))

    @available_if_explained(_loss_has_probabilities)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``-inf`` where it is 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)  # checks that the model is fitted
        return labels_from_scores(self.classes_, scores)


def _pairwise_threshold(objective, W, codes, weights):
    """The intercept of a pairwise loss: the best squared-hinge shift.

    ``b = argmin_b sum_i s_i [1 - y_i (score_i + b)]_+^2`` with the scores of
    the fitted ranking held fixed and ``s_i`` the sample times class weights
    (see ``fit_intercept``); the middle of the minimizers where they form an
    interval (a ranking with a gap wider than 2 between the classes).

    The derivative is ``2 g(b)`` with
    ``g(b) = sum_N s_j [1 + score_j + b]_+ - sum_P s_i [1 - score_i - b]_+``,
    continuous, non-decreasing and linear between the knots ``1 - score_i``
    (positives) and ``-1 - score_j`` (negatives). ``g`` at every knot comes
    from running sums over the sorted knots (O(n log n)); the root is then
    found on one linear piece, exactly.
    """
    scores = np.asarray(objective.X @ W[0]).ravel()
    keep = weights > 0
    positive = (codes == 1)[keep]
    s, v = scores[keep], weights[keep]
    p, v_p = _sorted_with_weights(1.0 - s[positive], v[positive])  # b < p_i
    q, v_q = _sorted_with_weights(-1.0 - s[~positive], v[~positive])  # b > q_j
    knots = np.unique(np.concatenate([p, q]))
    # sum over the negatives with q_j < k of v_j (k - q_j), and over the
    # positives with p_i > k of v_i (p_i - k)
    below = np.searchsorted(q, knots, side="left")
    above = np.searchsorted(p, knots, side="right")
    cum_q, cum_qq = running_sum(v_q), running_sum(v_q * q)
    cum_p, cum_pp = running_sum(v_p), running_sum(v_p * p)
    g_neg = knots * cum_q[below] - cum_qq[below]
    g_pos = (cum_pp[-1] - cum_pp[above]) - knots * (cum_p[-1] - cum_p[above])
    g = g_neg - g_pos
    # g <= 0 at the first knot (no negative active), >= 0 at the last
    first = int(np.argmax(g >= 0.0))
    if first == 0:
        root = knots[0]
    else:
        a, c = knots[first - 1], knots[first]
        root = a - g[first - 1] * (c - a) / (g[first] - g[first - 1])
    # an empty active set makes g exactly 0: the minimizers are [root, high]
    zero = np.flatnonzero(g == 0.0)
    high = max(root, knots[zero[-1]]) if zero.size else root
    return np.array([0.5 * (root + high)])


def _sorted_with_weights(keys, weights):
    order = np.argsort(keys, kind="stable")
    return keys[order], weights[order]


def _coef_layout(objective, loss):
    """What each entry of the solver's coefficient vector stands for."""
    return (
        type(loss),
        objective.size,
        objective.n_features,
        objective.fit_intercept,
        objective.intercept_scaling is None,
    )


def _seed(random_state):
    if isinstance(random_state, np.random.RandomState):
        return random_state.randint(np.iinfo(np.int32).max)
    return random_state


def _ldexp(value, exponent):
    """``value * 2**exponent``, ``inf`` where it overflows."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return math.inf


def _check_X_range(X, max_norm2=None):
    """Refuse features beyond the double range the solvers need (fit's Notes).

    ``max_norm2``: ``max_i ||x_i||^2`` if known. The largest absolute entry
    lies between its root and its root over ``sqrt(n_features)``; when both
    are safely inside the range, the passes for the largest and smallest
    entries are not needed.
    """
    if max_norm2 is not None and np.finfo(float).tiny <= max_norm2 < np.inf:
        high = math.sqrt(max_norm2) * (1.0 + 1e-6)
        low = math.sqrt(max_norm2 / max(X.shape[1], 1)) * (1.0 - 1e-6)
        if high <= X_MAX and low >= 1.0 / X_MAX:
            return
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return
    largest = max(float(values.max()), -float(values.min()))
    if largest > X_MAX or 0.0 < largest < 1.0 / X_MAX:
        raise ValueError(
            f"HingeClassifier: the largest absolute value in X is {largest:.3g}, "
            f"outside [{1.0 / X_MAX:g}, {X_MAX:g}]: squared row norms and their "
            "products with C would leave the range of double precision. Scale "
            "the features (e.g. StandardScaler); see HingeClassifier.fit's Notes."
        )


def _row_norms2(X):
    """``||x_i||^2`` of every row in float64 (float32 squares could overflow).

    ``inf`` without a warning where the squares overflow: the range check of
    ``X``, which reads it first, then refuses the data with its message.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if sp.issparse(X):
            squares = sp.csr_matrix(
                (np.square(X.data, dtype=np.float64), X.indices, X.indptr),
                shape=X.shape,
            )
            return np.asarray(squares.sum(axis=1)).ravel()
        return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def _mean_weighted_norm2(norms, weights, scaling):
    """``(s_max, mean_i (s_i / s_max) (||x_i||^2 + scaling^2))`` over the
    samples of positive weight: ``C`` times their product is what ``auto``
    compares with its limit on wide sparse data. Split so that huge weights
    times large norms cannot overflow before ``C`` (often tiny then) enters.
    ``norms``: the ``||x_i||^2`` of :func:`_row_norms2`; ``scaling``: a
    penalized intercept's constant feature, or None."""
    live = weights > 0
    top = float(weights.max()) if live.any() else 0.0
    if top == 0.0:
        return 0.0, 0.0
    norms = norms[live] + (scaling**2 if scaling is not None else 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        return top, float(np.mean(weights[live] / top * norms))


def _loss_hint(current):
    cls = LOSSES.get(current) if isinstance(current, str) else None
    example = f"{cls.__name__}()" if cls is not None else "SmoothHinge()"
    return (
        "Pass the loss as an object, e.g. "
        f"loss={example}, whose parameters are then tunable as loss__<name>."
    )


def _solver_hint(current):
    cls = SOLVERS.get(current) if isinstance(current, str) else None
    example = f"{cls.__name__}()" if cls is not None else "LBFGS()"
    return (
        "Pass the solver as an object, e.g. "
        f"solver={example}, whose parameters are then tunable as solver__<name>."
    )


def _penalty_hint(current):
    cls = PENALTIES.get(current) if isinstance(current, str) else None
    example = f"{cls.__name__}()" if cls is not None else "ElasticNet(l1_ratio=0.5)"
    return (
        "Pass the penalty as an object, e.g. "
        f"penalty={example}, whose parameters are then tunable as "
        "penalty__<name>; its strength is C."
    )


#: parameters that may be objects with their own parameters
_OBJECT_PARAMS = {"loss": _loss_hint, "solver": _solver_hint, "penalty": _penalty_hint}
