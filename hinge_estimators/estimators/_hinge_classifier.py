"""HingeClassifier: a linear classifier composed of a loss and a solver."""

import functools
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from .._objective import LinearObjective
from .._targets import (
    TargetEncoding,
    class_weight_per_sample,
    encode_labels,
)
from ..losses import LOSSES, get_loss
from ..losses._base import running_sum
from ..solvers import SOLVERS, get_solver
from ..solvers._sgd_parts import partners_objective
from ._shared import check_two_classes, check_weighted_classes, labels_from_scores


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


class HingeClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier trained on a hinge-family loss with a chosen solver.

    Minimizes

    .. math:: P(W, b) = \\tfrac12\\|W\\|_F^2
              + C \\sum_i s_i\\, \\ell(y_i, x_i W^\\top + b),

    ``s_i = sample_weight_i * class_weight[y_i]``, with the intercept ``b``
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
        hinge ``newton`` on dense data with ``n_samples >= 10 * n_features``
        and ``dual_cd`` otherwise, ``newton`` for the other smooth losses
        (pairwise ones included), ``gd`` for the rest
        (see :func:`hinge_estimators.solvers.auto_solver`).
    penalty : {"l2", None}, default="l2"
        ``None`` minimizes the plain empirical risk
        :math:`\\sum_i s_i \\ell_i` (``C`` is then not used).
    C : float, default=1.0
        Inverse regularization strength (LinearSVC's convention).
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
    class_weight : dict, "balanced" or None, default=None
        Multipliers of ``C`` per class. ``"balanced"`` uses
        ``total_weight / (n_classes * class_weight_total)``. A pairwise loss
        is already a mean over (positive, negative) pairs, balanced by
        construction: there a class weight only rescales the loss's total, as
        ``C`` does (``"balanced"`` leaves the ranking unchanged), and it
        moves the threshold (see ``fit_intercept``): ``"balanced"`` gives a
        threshold that weighs both classes equally, ``None`` one that favours
        the larger class, as for a per-sample loss.
    tol : float, default=1e-4
        Stopping tolerance. For the exact solvers (``dual_cd``, ``newton``) it
        bounds the relative suboptimality :math:`(P - P^*)/P`: ``dual_cd``
        stops on the relative duality gap (a proof), ``newton`` on the Newton
        decrement (an estimate, exact for quadratics). For ``lbfgs``, ``gd``
        and ``fc_boosting`` it is the relative gradient norm
        :math:`\\|\\nabla P\\| / \\|\\nabla P(0)\\|`. For ``sgd`` it is the
        relative improvement of the returned model's objective below which
        ``n_iter_no_change`` epochs in a row stop the run; the fit converges
        only if a duality-gap bound then certifies it within ``tol`` (that
        bound is ``optimality_``; see ``SGD``). The value measured
        at the solution is ``optimality_``.
    max_iter : int, default=1000
        Iteration budget of the solver (passes over the data for ``dual_cd``
        and ``sgd``;
        for ``fc_boosting`` the number of features it may select, per
        one-vs-rest class: ``max_iter=k`` asks for a ``k``-feature model,
        and warns when ``tol`` was not reached with ``k`` features).
    warm_start : bool, default=False
        Start from the previous solution when refitting on data with the
        same classes and features; ``dual_cd`` resumes from its dual
        variables (when the number of samples is unchanged). ``sgd`` starts
        from the previous coefficients with a new step-size schedule and new
        averages (as ``SGDClassifier`` does); to continue a run instead,
        call :meth:`partial_fit`, which keeps the step counter, the schedule
        and the averages.
    random_state : int, RandomState instance or None, default=None
        Seed of randomized solvers.
    verbose : int, default=0
        Print the objective every iteration (``verbose >= 2``) or every tenth
        (``verbose == 1``).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
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
        suboptimality of ``coef_``.
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        loss = LOSSES.get(self.loss) if isinstance(self.loss, str) else self.loss
        if getattr(loss, "is_pairwise", False):
            tags.classifier_tags.multi_class = False
        return tags

    # -- fitting -------------------------------------------------------------
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
        """
        self._check_params()
        loss = get_loss(self.loss)
        if loss.is_pairwise and self.intercept_scaling is not None:
            raise ValueError(
                f"HingeClassifier: parameter 'intercept_scaling' must be None with "
                f"the pairwise loss {type(loss).__name__}, whose objective has no "
                f"intercept to penalize, got {self.intercept_scaling!r}."
            )
        # an unknown or incompatible solver is refused before the data is read
        get_solver(self.solver, loss, penalty=self.penalty)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
        )
        check_classification_targets(y)
        classes, codes = encode_labels(y)
        check_two_classes("HingeClassifier", classes)
        if loss.is_pairwise and len(classes) > 2:
            raise ValueError(
                "Only binary classification is supported by the pairwise loss "
                f"{loss.name!r}, which ranks one class above the other; the "
                f"target has {len(classes)} classes. Use a per-sample loss "
                "(one-vs-rest) such as 'squared_hinge' for multiclass data."
            )
        solver = get_solver(
            self.solver,
            loss,
            n_samples=X.shape[0],
            n_features=X.shape[1],
            sparse=sp.issparse(X),
            penalty=self.penalty,
        )
        sample_weight = _check_sample_weight(sample_weight, X.shape[0])
        weights = sample_weight * class_weight_per_sample(
            self.class_weight, classes, codes, sample_weight
        )
        check_weighted_classes("HingeClassifier", classes, codes, weights)
        encoding = TargetEncoding(classes, loss.is_multiclass)
        objective = self._objective(loss, X, encoding, codes, weights)
        coef_init, resume = None, {}
        if (
            self.warm_start
            and getattr(self, "_solution", None) is not None
            and self._solution.shape == (objective.size,)
            and np.array_equal(self.classes_, classes)
        ):
            coef_init = self._solution
            # a solver of the same kind resumes from its own state (the dual
            # variables of dual_cd), not only from the coefficients
            if solver.resumes_from_state and type(self.solver_) is type(solver):
                resume = {"warm_state": self._solver_state}
        # The solvers' BLAS work is vector operations and matrix-vector
        # products, which threaded OpenBLAS barely speeds up and, on small
        # machines, slows down badly (each call wakes its threads: a dot of
        # 1e5 numbers measured 8 ms with 2 threads, 16 us with one).
        with _blas_controller().limit(limits=1, user_api="blas"):
            result = solver.solve(
                objective,
                coef_init,
                tol=self.tol,
                max_iter=self.max_iter,
                rng=np.random.default_rng(_seed(self.random_state)),
                callback=self._progress_printer(),
                **resume,
            )
        if not result.converged:
            warnings.warn(
                f"{type(solver).__name__} did not converge: it stopped after "
                f"{result.n_iter} iterations (max_iter={self.max_iter}) with "
                f"stopping measure {result.optimality:.3g} > tol={self.tol:g} "
                f"({result.message}); increase max_iter, loosen tol, or scale "
                "the data.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._store(result, objective, encoding, codes, loss, solver)
        self.n_iter_ = int(result.n_iter)
        self._online_rng = None
        return self

    @available_if(_solver_learns_online)
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
        self._check_params()
        loss = get_loss(self.loss)
        solver = get_solver(self.solver, loss, penalty=self.penalty)
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
        check_classification_targets(y)
        if classes is not None:
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
        sample_weight = _check_sample_weight(sample_weight, X.shape[0])
        weights = sample_weight * class_weight_per_sample(
            self.class_weight, classes, codes, sample_weight
        )
        encoding = TargetEncoding(classes, loss.is_multiclass)
        objective = self._objective(loss, X, encoding, codes, weights)
        state = None
        if not first_call and type(self.solver_) is type(solver):
            state = self._solver_state
        if getattr(self, "_online_rng", None) is None:
            self._online_rng = np.random.default_rng(_seed(self.random_state))
        with _blas_controller().limit(limits=1, user_api="blas"):
            result = solver.partial_solve(objective, state, rng=self._online_rng)
        if loss.is_pairwise and getattr(result.state, "partners", None) is not None:
            # the threshold from the latest samples of both classes, not from
            # a chunk that may hold one class only
            objective, codes = partners_objective(objective, result.state.partners)
        self._store(result, objective, encoding, codes, loss, solver)
        self.n_iter_ = getattr(self, "n_iter_", 0) + 1 if not first_call else 1
        return self

    def _objective(self, loss, X, encoding, codes, weights):
        return LinearObjective(
            loss,
            X,
            encoding.encode(codes),
            n_outputs=encoding.n_outputs,
            sample_weight=weights,
            C=self.C,
            # a pairwise objective has no intercept: see fit_intercept
            fit_intercept=self.fit_intercept and not loss.is_pairwise,
            intercept_scaling=self.intercept_scaling,
            penalty=self.penalty,
        )

    def _store(self, result, objective, encoding, codes, loss, solver):
        """Unpack a solver's result into the fitted attributes."""
        W, b = objective.split(result.coef)
        self.coef_, self.intercept_ = encoding.public_coef(W.copy(), b.copy())
        if loss.is_pairwise and self.fit_intercept:
            self.intercept_ = _pairwise_threshold(
                objective, W, codes, objective.sample_weight
            )
        self.classes_ = encoding.classes
        self.loss_ = loss
        self.solver_ = solver
        self.objective_value_ = float(result.value)
        self.optimality_ = float(result.optimality)
        self._solution = result.coef
        self._solver_state = result.state

    def _check_params(self):
        def fail(name, what):
            raise ValueError(
                f"HingeClassifier: parameter {name!r} {what}, "
                f"got {getattr(self, name)!r}."
            )

        if not _is_real(self.C) or not np.isfinite(self.C) or self.C <= 0:
            fail("C", "must be a finite number > 0")
        if self.penalty not in ("l2", None):
            fail("penalty", "must be 'l2' or None")
        if not _is_real(self.tol) or not np.isfinite(self.tol) or self.tol <= 0:
            fail("tol", "must be a finite number > 0")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            fail("max_iter", "must be an integer >= 1")
        for name in ("fit_intercept", "warm_start"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                fail(name, "must be True or False")
        if self.intercept_scaling is not None:
            s = self.intercept_scaling
            if not _is_real(s) or not np.isfinite(s) or s <= 0:
                fail("intercept_scaling", "must be None or a finite number > 0")
            if not self.fit_intercept:
                warnings.warn(
                    "intercept_scaling is not used because fit_intercept=False.",
                    UserWarning,
                    stacklevel=3,
                )
        if not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:
            fail("verbose", "must be an integer >= 0")
        if self.penalty is None and self.C != 1.0:
            warnings.warn(
                "C is not used because penalty=None (the objective is the plain "
                "empirical risk).",
                UserWarning,
                stacklevel=3,
            )

    def _progress_printer(self):
        if not self.verbose:
            return None
        every = 1 if self.verbose >= 2 else 10

        def report(n_iter, value):
            if n_iter % every == 0:
                print(f"[HingeClassifier] iter {n_iter:5d}  objective {value:.10g}")

        return report

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
        if sp.issparse(X):
            scores = np.asarray(X @ self.coef_.T)
        else:
            # Row by row in a fixed order rather than a BLAS product, whose
            # rounding depends on how many rows it gets: exact multiclass
            # optima put training points exactly on ties between classes, and
            # a prediction must not flip with the batch it is computed in.
            coef = self.coef_.astype(np.result_type(X.dtype, self.coef_.dtype))
            scores = np.einsum("ij,kj->ik", X, coef)
        scores = scores + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

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


@functools.cache
def _blas_controller():
    """One controller for the process: building it scans the loaded libraries
    (milliseconds), applying its limits is cheap. numpy and scipy, whose BLAS
    the solvers use, are loaded before the first fit."""
    return ThreadpoolController()


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


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _seed(random_state):
    if isinstance(random_state, np.random.RandomState):
        return random_state.randint(np.iinfo(np.int32).max)
    return random_state


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    try:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be numeric: {exc}") from None
    if sample_weight.ndim != 1:
        raise ValueError(
            f"sample_weight must be 1-dimensional, got shape {sample_weight.shape}."
        )
    if sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {sample_weight.shape[0]} entries but X has "
            f"{n_samples} samples."
        )
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight contains negative values.")
    if not np.any(sample_weight > 0):
        raise ValueError("sample_weight is zero for every sample.")
    return sample_weight.copy()
