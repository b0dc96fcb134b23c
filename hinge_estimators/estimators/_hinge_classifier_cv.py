"""HingeClassifierCV: C chosen by cross-validation along warm-started paths."""

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.metrics import accuracy_score, get_scorer, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _manual_routing,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import _check_method_params, check_is_fitted

from ..losses import LOSSES
from ..model_selection._path import check_path_params, grid, warn_unconverged
from ..model_selection._walk import walk
from ._hinge_classifier import HingeClassifier
from ._shared import (
    CachedParamNamesMixin,
    VersionedPickleMixin,
    check_sample_weight,
    labels_from_scores,
)

#: ``C_start / C_end`` of the default grid: None is ``hinge_path``'s rule
#: (6 decades with L2, 4 or 2 with a non-smooth penalty)
GRID_EPS = None
#: the HingeClassifier parameters HingeClassifierCV passes on
_MODEL_PARAMS = (
    "loss",
    "solver",
    "penalty",
    "fit_intercept",
    "intercept_scaling",
    "class_weight",
    "tol",
    "max_iter",
    "random_state",
)


class HingeClassifierCV(
    VersionedPickleMixin,
    CachedParamNamesMixin,
    SparseCoefMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """:class:`HingeClassifier` with C chosen by cross-validation.

    Each training fold is validated once and solved along the whole grid of
    C by :func:`~hinge_estimators.hinge_path`'s warm-started sweep (each C
    starts from the solution at the previous one), instead of one cold fit
    per (C, fold) as ``GridSearchCV`` does; the folds run in parallel with
    joblib (``joblib.parallel_config(backend="dask")`` sends them to a Dask
    cluster). The scores and the chosen C are those ``GridSearchCV(
    HingeClassifier(...), {"C": Cs}, cv=cv)`` gives, up to the solvers'
    ``tol``.

    Parameters
    ----------
    Cs : int or array-like of float, default=10
        The grid of C: a number of values, log-spaced from where the model
        starts to move up 6 decades with L2, 4 (or 2 when features
        outnumber samples) with a non-smooth penalty (the default grid of
        :func:`~hinge_estimators.hinge_path`, computed on the whole data so
        that every fold uses the same values), or the values themselves
        (sorted increasing).
    cv : int, cross-validation generator or iterable, default=None
        As in ``GridSearchCV``: ``None`` is 5-fold stratified. Every
        training fold must hold a sample of every class (a ``ValueError``
        names the fold otherwise): its path is one objective over all the
        classes. ``GridSearchCV`` fits such a fold on the classes it has.
    scoring : str, callable or None, default=None
        A scorer name or callable; ``None`` is accuracy.
    refit : bool, default=True
        Refit a :class:`HingeClassifier` on the whole data at the best C.
        ``False``: ``coef_`` and ``intercept_`` are the folds' solutions at
        the best C (``C_``, of the best mean score) averaged.
        (``LogisticRegressionCV`` averages each fold's solution at that
        fold's own best C instead.)
    n_jobs : int, default=None
        Folds solved in parallel (joblib; ``None`` is 1 unless in a
        ``joblib.parallel_config`` context).
    loss, solver, penalty, fit_intercept, intercept_scaling, class_weight, \
tol, max_iter, random_state
        As in :class:`HingeClassifier`. ``penalty=None`` is refused: C does
        not enter its objective.
    verbose : int, default=0
        joblib's verbosity over the folds.

    Attributes
    ----------
    C_ : float
        The C of the best mean score (the smallest C among ties).
    Cs_ : ndarray of shape (n_Cs,)
        The grid, increasing.
    scores_ : ndarray of shape (n_folds, n_Cs)
        Test score of each fold at each C.
    coefs_paths_ : ndarray of shape (n_folds, n_Cs, n_rows, n_features)
        The coefficients of each fold's path (``n_rows`` as ``coef_``).
    intercepts_paths_ : ndarray of shape (n_folds, n_Cs, n_rows)
    n_iter_ : ndarray of shape (n_folds, n_Cs)
        Solver iterations at each point of each fold's path.
    cv_results_ : dict of ndarrays
        As ``GridSearchCV``'s: ``param_C``, ``params``,
        ``split{k}_test_score``, ``mean_test_score``, ``std_test_score``,
        ``rank_test_score``.
    best_index_ : int
        Index of ``C_`` in ``Cs_``.
    coef_, intercept_, classes_, n_features_in_, feature_names_in_
        As in :class:`HingeClassifier` (``coef_`` a sparse matrix after
        :meth:`sparsify`, until :meth:`densify` or the next fit).
    objective_value_, optimality_ : float
        Of the refit (``refit=True`` only).

    Notes
    -----
    **Metadata routing** follows ``LogisticRegressionCV``: ``sample_weight``
    weighs the training objective of every fold and of the refit; with
    ``sklearn.set_config(enable_metadata_routing=True)`` it and any other
    metadata reach the splitter (``groups``) and the scorer as they request
    them; without routing ``sample_weight`` also weighs the test scores
    (``GridSearchCV`` does not weigh its scores: with weights the two tables
    then differ).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from hinge_estimators import HingeClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = HingeClassifierCV(Cs=5).fit(scale(X), y)
    >>> clf.scores_.shape
    (5, 5)
    >>> bool(clf.C_ in clf.Cs_)
    True
    """

    _parameter_constraints: dict = {
        **{
            key: value
            for key, value in HingeClassifier._parameter_constraints.items()
            if key in _MODEL_PARAMS
        },
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        Cs=10,
        *,
        cv=None,
        scoring=None,
        refit=True,
        n_jobs=None,
        loss="squared_hinge",
        solver="auto",
        penalty="l2",
        fit_intercept=True,
        intercept_scaling=None,
        class_weight=None,
        tol=1e-4,
        max_iter=1000,
        random_state=None,
        verbose=0,
    ):
        self.Cs = Cs
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.loss = loss
        self.solver = solver
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        loss = LOSSES.get(self.loss) if isinstance(self.loss, str) else self.loss
        if getattr(loss, "is_pairwise", False):
            tags.classifier_tags.multi_class = False
        return tags

    def _model(self):
        return HingeClassifier(**{key: getattr(self, key) for key in _MODEL_PARAMS})

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Cross-validate the grid of C, then refit at the best.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training objectives (and, without metadata
            routing, of the test scores; see Notes).
        **params : dict
            Metadata for the splitter and the scorer (metadata routing
            enabled only).

        Returns
        -------
        self : HingeClassifierCV
        """
        _raise_for_params(params, self, "fit")
        if isinstance(self.Cs, (bool, np.bool_)):
            raise ValueError(
                f"HingeClassifierCV: Cs must be a number of values or the values "
                f"of C, not a boolean; got {self.Cs!r}."
            )
        model = self._model()
        check_path_params(model)
        problem = model._problem(X, y, sample_weight, Cs=())
        X, classes = problem.X, problem.classes
        y = classes[problem.codes]
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        Cs = grid(
            model,
            problem,
            None if isinstance(self.Cs, Integral) else self.Cs,
            self.Cs if isinstance(self.Cs, Integral) else 1,
            GRID_EPS,
        )
        routed = self._route("fit", sample_weight=sample_weight, **params)
        splitter = check_cv(self.cv, y, classifier=True)
        folds = list(splitter.split(X, y, **routed.splitter.split))
        if not folds:
            raise ValueError(
                "HingeClassifierCV: cv gave no folds (was the iterator empty, "
                "or consumed before fit?); pass a number of folds, a splitter "
                "or a non-empty list of (train, test) pairs."
            )
        # the default, accuracy, is computed directly: the scorer's checks of
        # its input cost 6x the prediction (a third of a path's time on
        # breast_cancer); the value is accuracy_score's, np.average too
        scorer = None if self.scoring is None else self._get_scorer()
        paths = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fold_path)(
                clone(model),
                X,
                y,
                sample_weight,
                train,
                test,
                Cs,
                scorer,
                routed.scorer.score,
                classes,
                k,
            )  # fmt: skip
            for k, (train, test) in enumerate(folds)
        )
        scores, coefs, intercepts, n_iter, converged = map(
            np.asarray, zip(*paths, strict=True)
        )
        warn_unconverged(Cs, converged, self.max_iter)
        self.Cs_, self.scores_, self.n_iter_ = Cs, scores, n_iter
        self.coefs_paths_, self.intercepts_paths_ = coefs, intercepts
        self.cv_results_ = _cv_results(Cs, scores)
        # GridSearchCV's rule: the best rank, the smallest C among ties (a
        # NaN mean ranks last)
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.C_ = float(Cs[self.best_index_])
        self.classes_ = classes
        self.n_features_in_ = model.n_features_in_
        # what an earlier fit set and this one does not must go (a refit on
        # an array after one on a DataFrame kept the old feature names)
        for name in ("feature_names_in_", "objective_value_", "optimality_"):
            self.__dict__.pop(name, None)
        if hasattr(model, "feature_names_in_"):
            self.feature_names_in_ = model.feature_names_in_
        if self.refit:
            final = model.set_params(C=self.C_).fit(X, y, sample_weight)
            self.coef_, self.intercept_ = final.coef_, final.intercept_
            self.objective_value_ = final.objective_value_
            self.optimality_ = final.optimality_
        else:
            self.coef_ = coefs[:, self.best_index_].mean(axis=0)
            self.intercept_ = intercepts[:, self.best_index_].mean(axis=0)
        return self

    # the fitted model predicts as a HingeClassifier does (probabilities for
    # the modified Huber loss only: the descriptors that say so are shared)
    decision_function = HingeClassifier.decision_function
    _scores = HingeClassifier._scores
    predict = HingeClassifier.predict
    predict_proba = HingeClassifier.__dict__["predict_proba"]
    predict_log_proba = HingeClassifier.__dict__["predict_log_proba"]

    def score(self, X, y, sample_weight=None, **score_params):
        """The ``scoring`` metric of the fitted model on ``X``, ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        **score_params : dict
            Metadata for the scorer (metadata routing enabled only).

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        _raise_for_params(score_params, self, "score")
        routed = self._route("score", sample_weight=sample_weight, **score_params)
        return self._get_scorer()(self, X, y, **routed.scorer.score)

    def _route(self, method, sample_weight=None, **params):
        if _routing_enabled():
            return process_routing(self, method, sample_weight=sample_weight, **params)
        score = dict(params)
        if sample_weight is not None:
            score["sample_weight"] = sample_weight
        return _manual_routing({"splitter": {}, "scorer": {"score": score}})

    def get_metadata_routing(self):
        """Get metadata routing of this object (splitter and scorer).

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                # the splitter as given (check_cv would consume a
                # generator before fit reads it), as GridSearchCV does
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            .add(
                scorer=self._get_scorer(),
                method_mapping=MethodMapping()
                .add(caller="score", callee="score")
                .add(caller="fit", callee="score"),
            )
        )

    def _get_scorer(self):
        return get_scorer("accuracy" if self.scoring is None else self.scoring)


def _fold_path(
    model, X, y, sample_weight, train, test, Cs, scorer, score_params, classes, k
):
    """One fold: the path on its training part, scored on its test part."""
    missing = np.setdiff1d(classes, y[train]).tolist()
    if missing:
        raise ValueError(
            f"The training part of fold {k} has no sample of the classes "
            f"{missing}: every fold must train on every class. Use fewer "
            "folds or a stratified splitter (cv=StratifiedKFold(...))."
        )
    weights = None if sample_weight is None else sample_weight[train]
    problem = model._problem(_safe_indexing(X, train), y[train], weights, Cs=Cs)
    X_test, y_test = _safe_indexing(X, test), y[test]
    score_params = _check_method_params(X, params=score_params, indices=test)
    rows = []
    for result in walk(model, problem, Cs):
        if scorer is None:  # accuracy without the scorer's checks (see fit)
            # X_test is part of the validated X: predict's checks (0.9 ms a
            # call, 17 % of HingeClassifierCV on breast_cancer) are skipped
            labels = labels_from_scores(model.classes_, model._scores(X_test))
            correct = labels == y_test
            weights = score_params.get("sample_weight")
            if weights is not None and not np.sum(weights) > 0:
                # accuracy_score's own error for weights that sum to 0
                accuracy_score(y_test, labels, sample_weight=weights)
            score = float(np.average(correct, weights=weights))
        else:
            score = scorer(model, X_test, y_test, **score_params)
        rows.append(
            (score, model.coef_, model.intercept_, result.n_iter, result.converged)
        )
    return tuple(map(np.asarray, zip(*rows, strict=True)))


def _cv_results(Cs, scores):
    """``GridSearchCV``-style records of the score table (folds x Cs)."""
    means, stds = scores.mean(axis=0), scores.std(axis=0)
    results = {
        "param_C": np.ma.MaskedArray(Cs, mask=False),
        "params": [{"C": float(C)} for C in Cs],
    }
    for k, fold in enumerate(scores):
        results[f"split{k}_test_score"] = fold
    results["mean_test_score"] = means
    results["std_test_score"] = stds
    if np.isnan(means).all():
        # no score to rank (GridSearchCV gives every candidate rank 1)
        rank = np.ones(len(means), dtype=np.int32)
    else:
        # NaN means (a scorer undefined on a fold, e.g. roc_auc on a test
        # fold of one class) rank last, as in GridSearchCV; rankdata gave
        # every candidate NaN, cast to -2**31
        ranked = np.nan_to_num(means, nan=np.nanmin(means) - 1)
        rank = rankdata(-ranked, method="min").astype(np.int32)
    results["rank_test_score"] = rank
    return results
