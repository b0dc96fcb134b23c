"""HingeBoostingClassifier: fully-corrective tree boosting on the squared hinge."""

import numbers
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._targets import (
    TargetEncoding,
    check_label_types,
    class_weight_per_sample,
)
from ._fc_refit import REFIT_TOL, SquaredHingeRefit, grown
from ._hinge_classifier import HingeClassifier
from ._shared import (
    CachedParamNamesMixin,
    HTMLReprMixin,
    VersionedPickleMixin,
    canonical_csr,
    check_not_complex,
    check_sample_weight,
    check_two_classes,
    check_weighted_classes,
    checked_class_labels,
    labels_from_scores,
    proba_from_margin_scores,
    single_threaded_blas,
)

#: a tree whose outputs have a cosine below this with the negative
#: functional gradient is no descent direction: that score column is done
NULL_ATOM = 1e-8
#: significant bits kept of the sample weights a tree sees
WEIGHT_BITS = 20
#: at most / at least this many significant bits kept of the residuals a tree
#: fits (fewer when the weights' total needs them; see ``_tree_inputs``)
RESIDUAL_BITS = (30, 20)
#: significant bits kept of the scores (``_snap_scores``)
SCORE_BITS = 40


class HingeBoostingClassifier(
    HTMLReprMixin,
    VersionedPickleMixin,
    CachedParamNamesMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """Fully-corrective gradient boosting of regression trees, squared hinge.

    The nonlinear learner of Zeng, Zhang and Lin ("Fully-corrective gradient
    boosting with squared hinge"): each round fits a regression tree to the
    negative functional gradient of the squared hinge, then refits the
    weights of ALL the trees so far (and the intercept) jointly; there is no
    learning rate and no line search.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of boosting rounds (trees per score column).
    max_depth : int or None, default=3
        Maximum depth of each tree (as in ``GradientBoostingClassifier``).
    max_leaf_nodes : int or None, default=None
        Grow trees best-first with at most this many leaves.
    min_samples_leaf : int, default=1
        Minimum number of samples in a leaf.
    leaf_values : {"newton", "gradient"}, default="newton"
        The values of a new tree's leaves, given its partition (always found
        by least squares on the negative functional gradient): ``"newton"``,
        one Newton step of the squared hinge per leaf (as
        ``GradientBoostingClassifier`` sets its leaves); ``"gradient"``, the
        least-squares values, the mean gradient per leaf (Zeng et al.'s
        atom). The refit then weighs each tree as a whole. See Notes.
    leaf_l2_regularization : float, default=10.0
        :math:`\\lambda`, added to each leaf's curvature in the Newton leaf
        values (as XGBoost's ``reg_lambda``): a leaf gets
        :math:`\\sum_{i \\in L} s_i r_i / (\\sum_{i \\in L} 2 s_i
        [y_i f(x_i) < 1] + \\lambda)`, in units of sample weight (with unit
        weights, the curvature of :math:`\\lambda / 2` active samples), so
        that a leaf with few active samples is shrunk towards 0 relative to
        the tree's other leaves; leaves with many are barely changed. Only
        for ``leaf_values="newton"``; 0 gives the plain Newton step. Why:
        without shrinkage the refit can fit a small training set within a
        few trees, and deep trees' small leaves carry noise into it (breast
        cancer, depth 3: test accuracy 0.928 after 10 trees with 0 against
        0.949 with 10, where ``GradientBoostingClassifier`` has 0.939); a
        larger ``l2_regularization`` did the same there but cost accuracy
        after 100 trees. Every :math:`\\lambda` in {5, 10, 12, 16} was at
        least as accurate as ``GradientBoostingClassifier`` at every
        checkpoint of the benchmark (10 to 400 trees, depths 1 and 3, three
        datasets); 2 to 4 were not, and 8 and 20 missed one breast-cancer
        checkpoint each, by 4 and 2 of its 855 test predictions
        (``benchmarks/RESULTS.md``, issue 5). Stumps' leaves hold
        many samples, so it barely changes them.
    l2_regularization : float, default=0.1
        :math:`\\alpha`, the L2 penalty on the tree weights (the intercept is
        not penalized), with the loss a weighted MEAN and every tree scaled
        to unit RMS, so that its meaning does not change with the number of
        samples or the scale of the trees. Without shrinkage the fully
        corrective refit drives the training loss down fast; the penalty is
        what keeps later trees from fitting noise (0.1 was the best of
        {0, 0.001, 0.01, 0.1, 0.3, 1} over depths 1 to 3 on the benchmark's
        three datasets; tune it like a learning rate). 0 fits the plain
        empirical risk, whose training loss reaches 0 (and boosting stops)
        once the trees separate the training data with margin 1; its
        minimizer need not be unique.
    validation_fraction : float, default=0.1
        Fraction of the training data (stratified) held out for early
        stopping; used only when ``n_iter_no_change`` is set.
    n_iter_no_change : int or None, default=None
        Stop when the validation loss has not improved by at least ``tol``
        for this many rounds, and keep the model of the best round. ``None``
        (the default): no early stopping, every sample is used for training.
    tol : float, default=1e-4
        The improvement of the validation loss (mean squared hinge on the
        held-out samples) that counts for early stopping.
    class_weight : dict, "balanced" or None, default=None
        Multipliers of the sample weights per class, as in
        :class:`HingeClassifier`: ``"balanced"`` uses
        ``total_weight / (n_classes * class_weight_total)``.
    warm_start : bool, default=False
        When fitted and refitted on the same data with a larger
        ``n_estimators``, keep the trees and add rounds (as
        ``GradientBoostingClassifier``): the kept trees' weights are refitted
        to their optimum first (the same weights, up to the refit's
        tolerance), then boosting continues, drawing from the same random
        stream. A smaller ``n_estimators`` than the model has raises a
        ``ValueError``; an equal one leaves the model as it is. With early
        stopping the validation split is drawn again from ``random_state``
        (the same split for an int).
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and the trees (which permute the features
        before looking for a split). An int gives the same model every fit.
    verbose : int, default=0
        Print one line per round (trees, training objective, validation
        loss, elapsed time) when >= 1.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has string feature names.
    estimators_ : list of lists of DecisionTreeRegressor
        ``estimators_[k]`` holds the trees of score column ``k`` (one column
        for two classes, one per class otherwise). A tree's leaf values are
        scaled so that its outputs have unit weighted root mean square on
        the training samples.
    tree_weights_ : list of ndarray
        ``tree_weights_[k][j]``: the weight of tree ``estimators_[k][j]``.
    intercept_ : ndarray of shape (n_score_columns,)
    n_estimators_ : int
        Number of rounds in the model: ``n_estimators`` unless early
        stopping ended sooner, or every column stopped because no tree
        correlates with its functional gradient any more (zero training loss
        with ``l2_regularization=0``). A column that stopped has fewer trees.
    train_score_ : ndarray of shape (n_rounds,)
        Training objective :math:`\\sum_k R_k` after each round run, never
        increasing (the refit starts from the previous round's weights).
    validation_score_ : ndarray of shape (n_rounds,)
        Validation loss after each round run; only with early stopping.
    feature_importances_ : ndarray of shape (n_features,)
        Impurity-based importances, as ``GradientBoostingClassifier``'s, with
        each tree weighted by the absolute value of its weight: a tree's
        impurity decreases (normalized to sum 1 per tree) times
        ``|tree_weights_[k][j]|``, summed over trees and columns and
        normalized to sum 1. Why weighted: the trees fit residuals that shrink
        from round to round, so their raw impurity decreases are on
        different scales, while every tree has unit RMS and enters the score
        through its weight. All zeros when no tree split.

    See Also
    --------
    HingeClassifier : linear models; ``solver="fc_boosting"`` runs the same
        fully-corrective boosting with the features as atoms.

    Notes
    -----
    Binary case, labels :math:`y_i = \\pm 1`, weights :math:`s_i` normalized
    to :math:`\\sum_i s_i = 1`. After :math:`t` rounds the score is
    :math:`f_t(x) = b + \\sum_{j \\le t} a_j h_j(x)` and :math:`(b, a)`
    minimizes

    .. math:: R(b, a) = \\sum_i s_i \\max(0, 1 - y_i f_t(x_i))^2
              + \\tfrac{\\alpha}{2} \\|a\\|^2 .

    Round :math:`t + 1`:

    1. the negative functional gradient,
       :math:`r_i = -\\partial \\ell / \\partial f(x_i) = 2 y_i \\max(0,
       1 - y_i f_t(x_i))`;
    2. a ``DecisionTreeRegressor`` (squared error, the sample weights) fits
       :math:`r`; least squares over the tree's partition picks the tree
       most correlated with :math:`r` (Zeng et al.'s selection rule, up to
       the tree search being greedy). With ``leaf_values="newton"`` each
       leaf :math:`L` then gets the Newton step
       :math:`\\sum_{i \\in L} s_i r_i / \\sum_{i \\in L} 2 s_i
       [y_i f_t(x_i) < 1]` (0 without an active sample; with the
       weights before normalization, ``leaf_l2_regularization`` is added to
       the denominator) instead of the mean of :math:`r`: the two differ
       in how leaves full of well-classified samples (:math:`r_i = 0`) are
       weighed against the others, and the Newton values generalized better
       with deeper trees on the
       benchmark's data (``make_hastie_10_2``, 400 trees of depth 3: test
       accuracy 0.908 against 0.884; breast cancer, 100 trees of depth 2:
       0.960 against 0.946; the same with stumps; both measured without
       ``leaf_l2_regularization``). The tree's outputs
       scaled to unit weighted RMS are the new atom :math:`h_{t+1}` (a
       common scale for the L2 term). If
       :math:`h_{t+1}` is orthogonal to :math:`r` (cosine below 1e-8: no
       split correlates, or :math:`r = 0`), or :math:`r` is below the
       refit's tolerance (weighted RMS at most 1e-10: zero training loss up
       to rounding), the column is done. The tree only makes splits that
       lower its squared error by more than 1e-9 of the root's (no split
       of equal gradients, which would change the ``leaf_l2_regularization``
       shrinkage without changing the partition's fit);
    3. the fully-corrective step: :math:`R` is minimized over all
       :math:`t + 2` coefficients, warm-started from the previous ones and
       0, until no partial derivative exceeds 1e-10 (:math:`R` has a fixed
       scale: the weights sum to 1 and the atoms have unit RMS). After it
       :math:`\\sum_i s_i r_i h_j(x_i) = \\alpha a_j` for every selected
       tree and :math:`\\sum_i s_i r_i = 0` (the KKT conditions): with
       :math:`\\alpha = 0` the functional gradient is orthogonal to every
       selected tree, so a selected tree is never selected again.

    The refit is an exact Newton method with an exact line search (finite
    Newton, Keerthi and DeCoste 2005) on the dense ``n x (t + 1)`` matrix of
    atom outputs, which is kept between rounds together with the Gram matrix
    of the active samples (margin below 1) and its Cholesky factor; see
    ``hinge_estimators.estimators._fc_refit``. Why not the alternatives,
    measured on ``make_hastie_10_2`` (2,000 samples, stumps): Zeng et al.'s
    ADMM (splitting :math:`z = Ga`, closed-form prox of the squared hinge)
    took 2,018 iterations from a cold start to bring the largest partial
    derivative below 1e-8 on 100 trees with its best penalty parameter
    (:math:`\\rho = 0.01`), and did not get there in 20,000 with
    :math:`\\rho \\in \\{0.1, 1, 10\\}`; each iteration is two passes over the
    atoms. The project's Newton-CG with a trust region
    (:class:`~hinge_estimators.solvers.TrustRegionNewton` with
    ``globalization="trust_region"``, on a
    ``LinearObjective`` over the atoms) converges, but near zero training
    loss its radius shrank at every kink: 67 to 1,000 iterations per refit
    with :math:`\\alpha = 10^{-4}`. The finite Newton method, warm-started,
    takes 1 to 5 iterations per round (2.6 on average over 400 stumps), each
    one pass over the atoms plus a Cholesky factorization of a
    :math:`(t + 1)^2` matrix when the active set moved, and ends at the
    exact minimizer, so the objective never increases.

    **Ties are decided by order, not by rounding.** A tree sees the
    residuals (at most 30 significant bits) and the sample weights (20 bits)
    rounded to binary grids, so that its weighted sums are exact and splits
    of mathematically equal impurity decrease compare equal: the tree's
    seeded feature order and ascending thresholds then pick one, the same
    for a weight ``k`` and ``k`` repeats and whatever kernel BLAS uses for
    the refit. The leaves' values use the exact weights and residuals.
    Scores are rounded to 40 significant bits of a bound on the model's
    scores, so that classes with equal scores tie exactly and ``predict``
    takes the first.

    More than two classes: one-vs-rest, one boosted score per class with
    targets :math:`\\pm 1`, rounds in lockstep (a round adds one tree per
    column that is not done); ``predict`` takes the largest score.

    Unlike ``GradientBoostingClassifier``, early stopping keeps the model of
    the best round rather than every tree fitted: the weights after round
    :math:`t` depend on trees :math:`1..t` only, so that model is exact.

    Examples
    --------
    >>> from sklearn.datasets import make_hastie_10_2
    >>> from hinge_estimators import HingeBoostingClassifier
    >>> X, y = make_hastie_10_2(n_samples=2000, random_state=0)
    >>> clf = HingeBoostingClassifier(n_estimators=50, max_depth=1, random_state=0)
    >>> clf.fit(X[:1000], y[:1000]).score(X[1000:], y[1000:]) > 0.8
    True
    """

    def __init__(
        self,
        n_estimators=100,
        *,
        max_depth=3,
        max_leaf_nodes=None,
        min_samples_leaf=1,
        leaf_values="newton",
        leaf_l2_regularization=10.0,
        l2_regularization=0.1,
        validation_fraction=0.1,
        n_iter_no_change=None,
        tol=1e-4,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.leaf_values = leaf_values
        self.leaf_l2_regularization = leaf_l2_regularization
        self.l2_regularization = l2_regularization
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fitting -------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the boosted trees.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Converted to float32, as trees compare features in float32.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight ``k`` is equivalent to repeating the
            sample ``k`` times.

        Returns
        -------
        self : HingeBoostingClassifier
        """
        self._check_params()
        name = type(self).__name__
        check_not_complex(X, "X")
        check_not_complex(y, "y")
        check_label_types(y)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float32)
        X = canonical_csr(X) if sp.issparse(X) and X.format == "csr" else X
        classes, codes = checked_class_labels(y)
        check_two_classes(name, classes)
        sample_weight = check_sample_weight(sample_weight, X)
        sample_weight = sample_weight * class_weight_per_sample(
            self.class_weight, classes, codes, sample_weight
        )
        check_weighted_classes(name, classes, codes, sample_weight)
        targets = TargetEncoding(classes, False).encode(codes)
        previous = self._previous_model(classes)
        if previous is not None and self.n_estimators == self.n_estimators_:
            return self  # warm start with nothing to add
        rng = check_random_state(self.random_state)
        fit_rows = np.arange(X.shape[0])
        val_rows = None
        if self.n_iter_no_change is not None:
            fit_rows, val_rows = train_test_split(
                fit_rows,
                test_size=self.validation_fraction,
                stratify=codes,
                random_state=rng,
            )
            check_weighted_classes(
                name, classes, codes[fit_rows], sample_weight[fit_rows]
            )
            if not np.any(sample_weight[val_rows] > 0):
                raise ValueError(
                    f"{name}: every held-out sample for early stopping has zero "
                    "weight; raise validation_fraction or set n_iter_no_change=None."
                )
        tree_rng = rng if previous is None else self._rng
        with single_threaded_blas():
            columns, history = self._boost(
                X, targets, sample_weight, fit_rows, val_rows, tree_rng, previous
            )
        self._rng = tree_rng  # a warm start continues the same random stream
        self.classes_ = classes
        self.estimators_ = [c.trees for c in columns]
        self.tree_weights_ = [c.refit.weights for c in columns]
        self.intercept_ = np.array([c.refit.intercept for c in columns])
        self.n_estimators_ = max(len(c.trees) for c in columns)
        self._stages = [c.stages for c in columns]
        self.train_score_ = np.array(history["train"])
        if val_rows is not None:
            self.validation_score_ = np.array(history["validation"])
        return self

    def _previous_model(self, classes):
        """The fitted model a warm start continues from, or None.

        Refuses a smaller ``n_estimators`` than the model has, or other
        classes (the trees were grown for those).
        """
        if not (self.warm_start and hasattr(self, "estimators_")):
            return None
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True continues a model of the classes "
                f"{self.classes_.tolist()}, but y has {classes.tolist()}; "
                "set warm_start=False to fit a new model."
            )
        if self.n_estimators < self.n_estimators_:
            raise ValueError(
                f"n_estimators={self.n_estimators} must be at least the "
                f"{self.n_estimators_} rounds of the model when warm_start=True "
                "(rounds are only added); set warm_start=False to fit anew."
            )
        return {
            "trees": self.estimators_,
            "stages": self._stages,
            "train": list(self.train_score_[: self.n_estimators_]),
            "validation": list(
                getattr(self, "validation_score_", [])[: self.n_estimators_]
            ),
            "rounds": self.n_estimators_,
        }

    def _boost(self, X, targets, sample_weight, fit_rows, val_rows, rng, previous):
        """Run the rounds; return the score columns and the score history.

        ``previous`` (a warm start): the trees, stages and histories of the
        model to continue.
        """
        X_fit = _rows_for_predict(X if val_rows is None else X[fit_rows])
        data = {
            "fit": X_fit.tocsc() if sp.issparse(X_fit) else X_fit,
            "train": X_fit,
            "validation": None,
        }
        weights = sample_weight[fit_rows]
        val_targets = val_weights = None
        if val_rows is not None:
            data["validation"] = _rows_for_predict(X[val_rows])
            val_targets, val_weights = targets[val_rows], sample_weight[val_rows]
        columns = [
            _BoostedScore(
                targets[fit_rows, k],
                weights,
                self.l2_regularization,
                None if val_rows is None else (val_targets[:, k], val_weights),
            )
            for k in range(targets.shape[1])
        ]
        first_round, history = 1, {"train": [], "validation": []}
        if previous is not None:
            for k, column in enumerate(columns):
                column.resume(previous["trees"][k], previous["stages"][k], data)
            first_round = previous["rounds"] + 1
            history = {"train": previous["train"], "validation": previous["validation"]}
        tree_params = {
            "max_depth": self.max_depth,
            "max_leaf_nodes": self.max_leaf_nodes,
            "min_samples_leaf": self.min_samples_leaf,
        }
        best, best_round, start = np.inf, first_round - 1, time.perf_counter()
        if history["validation"]:
            best = history["validation"][-1]
        # the Newton leaves' lambda; None: least-squares (mean gradient) leaves
        newton = (
            float(self.leaf_l2_regularization) if self.leaf_values == "newton" else None
        )
        for round_ in range(first_round, self.n_estimators + 1):
            # the trees draw their seeds from rng, as in GradientBoostingClassifier
            grew = [
                c.grow(data, weights, tree_params, newton, rng)
                for c in columns
                if not c.done
            ]
            if not any(grew):
                break
            history["train"].append(sum(c.refit.value() for c in columns))
            line = f"objective {history['train'][-1]:.6g}"
            if val_rows is not None:
                loss = sum(c.validation_loss() for c in columns)
                history["validation"].append(loss)
                line += f"  validation {loss:.6g}"
                if loss < best - self.tol:
                    best, best_round = loss, round_
            if self.verbose:
                trees = sum(len(c.trees) for c in columns)
                print(
                    f"[{type(self).__name__}] round {round_:4d}  trees {trees:5d}  "
                    f"{line}  {time.perf_counter() - start:.2f}s"
                )
            if val_rows is not None and round_ - best_round >= self.n_iter_no_change:
                break
        if val_rows is not None:
            for c in columns:
                c.truncate(max(best_round, 1))
        if any(c.refit_failed for c in columns):
            warnings.warn(
                "A fully-corrective refit stopped after its iteration limit "
                "above its tolerance; the tree weights are not exactly optimal.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return columns, history

    def _check_params(self):
        def check(name, ok, what):
            if not ok:
                raise ValueError(
                    f"{type(self).__name__}: parameter {name!r} {what}, "
                    f"got {getattr(self, name)!r}."
                )

        def integer(value, low, none_ok=False):
            if value is None:
                return none_ok
            return (
                isinstance(value, numbers.Integral)
                and not isinstance(value, bool)
                and value >= low
            )

        check("n_estimators", integer(self.n_estimators, 1), "must be an integer >= 1")
        check("max_depth", integer(self.max_depth, 1, True), "must be None or >= 1")
        check(
            "max_leaf_nodes",
            integer(self.max_leaf_nodes, 2, True),
            "must be None or an integer >= 2",
        )
        check(
            "min_samples_leaf",
            integer(self.min_samples_leaf, 1),
            "must be an integer >= 1",
        )
        check(
            "leaf_values",
            isinstance(self.leaf_values, str)
            and self.leaf_values in ("newton", "gradient"),
            "must be 'newton' or 'gradient'",
        )
        leaf_lambda = self.leaf_l2_regularization
        check(
            "leaf_l2_regularization",
            _is_real(leaf_lambda) and np.isfinite(leaf_lambda) and leaf_lambda >= 0,
            "must be a finite number >= 0",
        )
        alpha = self.l2_regularization
        check(
            "l2_regularization",
            _is_real(alpha) and np.isfinite(alpha) and alpha >= 0,
            "must be a finite number >= 0",
        )
        frac = self.validation_fraction
        check(
            "validation_fraction",
            _is_real(frac) and 0 < frac < 1,
            "must be a number strictly between 0 and 1",
        )
        check(
            "n_iter_no_change",
            integer(self.n_iter_no_change, 1, True),
            "must be None or an integer >= 1",
        )
        tol = self.tol
        check("tol", _is_real(tol) and np.isfinite(tol) and tol >= 0, "must be >= 0")
        check("verbose", integer(self.verbose, 0), "must be an integer >= 0")
        check(
            "warm_start",
            isinstance(self.warm_start, bool | np.bool_),
            "must be True or False",
        )
        check(
            "class_weight",
            self.class_weight is None
            or isinstance(self.class_weight, dict)
            or (isinstance(self.class_weight, str) and self.class_weight == "balanced"),
            "must be a dict, 'balanced' or None",
        )

    # -- prediction ------------------------------------------------------------
    def decision_function(self, X):
        """The intercept plus the weighted sum of the trees' outputs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Converted to float32, the precision the trees compare in.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class for more than two classes; for two, one
            score whose positive values favour ``classes_[1]``.
        """
        X = self._validate_X(X)
        scores = np.empty((X.shape[0], len(self.estimators_)))
        for k, (trees, weights) in enumerate(
            zip(self.estimators_, self.tree_weights_, strict=True)
        ):
            scores[:, k] = self.intercept_[k]
            for tree, weight in zip(trees, weights, strict=True):
                scores[:, k] += weight * tree.predict(X, check_input=False)
        coefs = [
            np.concatenate([[b], w])
            for b, w in zip(self.intercept_, self.tree_weights_, strict=True)
        ]
        scores = _snap_scores(scores, self._score_bound(coefs))
        return scores.ravel() if scores.shape[1] == 1 else scores

    def _score_bound(self, coefs):
        """A bound on ``|score|`` given each column's ``(intercept, weights)``.

        A tree's outputs are bounded by its largest leaf value. The bound
        depends on the model only, so that a sample's score does not depend
        on the other samples it is predicted with.
        """
        bound = 0.0
        for trees, coef in zip(self.estimators_, coefs, strict=True):
            largest = [1.0] + [np.max(np.abs(t.tree_.value)) for t in trees]
            bound = max(bound, float(np.abs(coef) @ np.array(largest)[: len(coef)]))
        return bound

    def staged_decision_function(self, X):
        """Scores of the model after each round, ``1..n_estimators_``.

        The weights of every tree are refitted each round, so stage ``t`` is
        not a prefix sum of the final model: each stage uses the weights it
        had after round ``t`` (stored at fit time).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Yields
        ------
        scores : ndarray
            As :meth:`decision_function` returns them.
        """
        X = self._validate_X(X)
        outputs = [
            np.column_stack(
                [np.ones(X.shape[0])] + [t.predict(X, check_input=False) for t in trees]
            )
            for trees in self.estimators_
        ]
        for stage in range(1, self.n_estimators_ + 1):
            scores = np.column_stack(
                [
                    H[:, : len(c)] @ c
                    for H, c in (
                        (H, stages[min(stage, len(stages) - 1)])
                        for H, stages in zip(outputs, self._stages, strict=True)
                    )
                ]
            )
            bound = self._score_bound(
                [stages[min(stage, len(stages) - 1)] for stages in self._stages]
            )
            scores = _snap_scores(scores, bound)
            yield scores.ravel() if scores.shape[1] == 1 else scores

    predict = HingeClassifier.predict

    def staged_predict(self, X):
        """Predicted labels of the model after each round, ``1..n_estimators_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Yields
        ------
        labels : ndarray of shape (n_samples,)
        """
        for scores in self.staged_decision_function(X):
            yield labels_from_scores(self.classes_, scores)

    def predict_proba(self, X):
        """Class probabilities from the scores, the squared hinge's link.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)

        Notes
        -----
        The squared hinge, minimized in expectation over ``y`` with
        :math:`P(y = 1 \\mid x) = p`, gives the score :math:`f = 2p - 1`
        (Zhang, 2004), so :math:`p = (\\mathrm{clip}(f, -1, 1) + 1) / 2`:
        ``SGDClassifier``'s rule for its modified Huber loss, which equals the
        squared hinge where :math:`y f \\ge -1`. More than two classes: the
        one-vs-rest :math:`p_k` divided by their sum. These are the loss's
        link, not calibrated probabilities: ``l2_regularization`` shrinks the
        scores towards 0 (probabilities towards 1/2) and a model that fits
        its training data pushes them to 0 and 1; use
        ``CalibratedClassifierCV`` where calibration matters.
        """
        return proba_from_margin_scores(self.decision_function(X))

    def staged_predict_proba(self, X):
        """:meth:`predict_proba` of the model after each round.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Yields
        ------
        proba : ndarray of shape (n_samples, n_classes)
        """
        for scores in self.staged_decision_function(X):
            yield proba_from_margin_scores(scores)

    @property
    def feature_importances_(self):
        """Impurity-based importances weighted by the tree weights (see Attributes).

        Returns
        -------
        importances : ndarray of shape (n_features,)
        """
        check_is_fitted(self)
        total = np.zeros(self.n_features_in_)
        for trees, weights in zip(self.estimators_, self.tree_weights_, strict=True):
            for tree, weight in zip(trees, weights, strict=True):
                decrease = tree.tree_.compute_feature_importances(normalize=False)
                if decrease.sum() > 0:
                    total += abs(weight) * decrease / decrease.sum()
        return total / total.sum() if total.sum() > 0 else total

    def _validate_X(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        return _rows_for_predict(X)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _on_grid(values, bits, step=None):
    """``values`` rounded to multiples of ``step`` (a power of two).

    ``step`` defaults to ``2^(e - bits)`` with ``2^e`` the smallest power of
    two at least ``max |values|``: ``bits`` significant bits are kept. Returns
    ``(rounded, step)``; ``step`` is 0 when every value is 0.
    """
    if step is None:
        top = float(np.max(np.abs(values), initial=0.0))
        if top == 0.0 or not np.isfinite(top):
            return np.array(values, dtype=np.float64), 0.0
        step = np.ldexp(1.0, int(np.frexp(top)[1]) - bits)
    return np.round(values / step) * step, step


def _tree_inputs(residual, weights):
    """The residuals and weights a tree fits, on binary grids.

    Why: a tree picks the split of largest weighted impurity decrease, and
    deep trees meet splits whose decreases are mathematically EQUAL (two
    partitions with the same weighted class sums); rounding then decides,
    and it differs between a weight ``k`` and ``k`` repeats, or between
    BLAS kernels that round the refit differently (issue 13: 2 of 15
    predictions of sklearn's weight-equivalence check on OpenBLAS's Haswell
    kernel). On grids the tree's sums are exact integers times the grid
    steps, whatever their order, so equal decreases are computed equal and
    the tree's fixed scanning order (features in its seeded permutation,
    thresholds ascending) breaks the tie; values within a grid step snap
    together (what rounding had left 1e-16 apart). The weights keep
    ``WEIGHT_BITS`` bits, on the coarsest power-of-two grid that holds them
    all exactly (integer weights stay integers); the residuals keep as many
    bits, up to ``RESIDUAL_BITS[0]``, as leave the weighted sums below
    2^52 grid units (at least ``RESIDUAL_BITS[1]``: beyond some 2^32 units
    of total weight the sums may round again, and ties are decided as
    before).
    """
    tree_weights, weight_step = _on_grid(weights, WEIGHT_BITS)
    top = float(np.max(tree_weights))
    while weight_step < top and np.all(np.mod(tree_weights, 2 * weight_step) == 0):
        weight_step *= 2  # a coarser grid that still holds every weight
    units = len(weights) * (top / weight_step)  # bounds the total, no overflow
    most, least = RESIDUAL_BITS
    bits = int(np.clip(52 - np.ceil(np.log2(units + 1.0)), least, most))
    return _on_grid(residual, bits)[0], tree_weights


def _snap_scores(scores, bound):
    """Scores rounded to ``SCORE_BITS`` bits of the model's score ``bound``.

    A model may give two classes the same score (deep trees with
    ``l2_regularization=0`` put held-out or zero-weight samples at exactly
    +-1 in several columns); rounding, which differs between BLAS kernels,
    then picked the class. On a common grid such ties are exact and
    ``argmax`` takes the first class; the change is below ``2^-40`` of the
    bound.
    """
    if not (np.isfinite(bound) and bound > 0):
        return scores
    return _on_grid(scores, SCORE_BITS, _on_grid(np.array([bound]), SCORE_BITS)[1])[0]


def _rows_for_predict(X):
    """What ``tree.predict(X, check_input=False)`` reads: CSR or C-ordered."""
    return X.tocsr() if sp.issparse(X) else np.ascontiguousarray(X)


class _BoostedScore:
    """One score column: its trees, its refit, its stages and validation scores."""

    def __init__(self, y, sample_weight, alpha, validation):
        self.refit = SquaredHingeRefit(y, sample_weight, alpha)
        self.refit_failed = not self.refit.refit()
        self.trees = []
        self.stages = [self.refit.coef.copy()]  # coefficients after j trees
        self.done = False
        self.validation = validation
        if validation is not None:
            self.val_outputs = np.ones((len(validation[0]), 17), order="F")

    def grow(self, data, weights, tree_params, newton_leaves, rng):
        """Fit one tree to the negative functional gradient and refit all.

        Returns whether a tree was added (``False``: the column is done).
        """
        refit = self.refit
        residual = refit.residual()
        # the tree decides on grid values, not on rounding (see _tree_inputs)
        target, tree_weights = _tree_inputs(residual, weights)
        # a split must lower the squared error by more than rounding: with the
        # weights, a no-op split (equal gradients on both sides, e.g. from
        # rounding in the impurity) would change the leaves' lambda shrinkage
        # and break "a weight k = k repeated samples"
        spread = refit.s @ residual**2 - (refit.s @ residual) ** 2
        tree = DecisionTreeRegressor(
            random_state=rng, min_impurity_decrease=1e-9 * spread, **tree_params
        )
        tree.fit(data["fit"], target, sample_weight=tree_weights, check_input=False)
        leaves = tree.apply(data["train"], check_input=False)
        values = tree.tree_.value  # a view: writing it changes the tree
        # the leaves' values from the exact weights and residuals (the tree
        # only chose the partition): sum s r / (sum s l'' + lambda) for a
        # regularized Newton step (l'' = 2 where active, lambda =
        # newton_leaves), sum s r / sum s for least squares. Whether a sample
        # is active is read off the grid: a residual that rounding left at
        # 1e-17 is 0, in every fit alike.
        size = len(values)
        step = np.bincount(leaves, weights * residual, minlength=size)
        if newton_leaves is not None:
            curvature = np.where(target != 0, 2.0 * weights, 0.0)
            scale = np.bincount(leaves, curvature, minlength=size) + newton_leaves
        else:
            scale = np.bincount(leaves, weights, minlength=size)
        leaf = tree.tree_.children_left == -1
        values[leaf, 0, 0] = np.divide(
            step[leaf], scale[leaf], out=np.zeros(leaf.sum()), where=scale[leaf] > 0
        )
        outputs = values[leaves, 0, 0]
        norm = np.sqrt(refit.s @ outputs**2)
        fit = refit.s @ (residual * outputs)
        gradient_norm = np.sqrt(refit.s @ residual**2)
        # |dR/da| <= gradient_norm for a unit-RMS atom (Cauchy-Schwarz): below
        # the refit's tolerance no tree can move the model (a training loss
        # that reached 0 up to rounding, e.g. one margin at 1 - 1e-14)
        if not (fit > NULL_ATOM * norm * gradient_norm and gradient_norm > REFIT_TOL):
            self.done = True
            return False
        values /= norm  # unit weighted RMS on the training samples
        refit.add(outputs / norm)
        self.refit_failed |= not refit.refit()
        self.trees.append(tree)
        self.stages.append(refit.coef.copy())
        if self.validation is not None:
            k = len(self.trees) + 1
            self.val_outputs = grown(self.val_outputs, k)
            self.val_outputs[:, k - 1] = tree.predict(
                data["validation"], check_input=False
            )
        return True

    def resume(self, trees, stages, data):
        """Continue from a fitted column: its trees as atoms, its last weights.

        The atoms are the trees' outputs on the training samples (unit RMS, as
        when they were added); the refit starts from the stored weights, the
        optimum already, and only confirms it.
        """
        refit = self.refit
        for tree in trees:
            refit.add(tree.predict(data["train"], check_input=False))
            if self.validation is not None:
                k = refit.k
                self.val_outputs = grown(self.val_outputs, k)
                self.val_outputs[:, k - 1] = tree.predict(
                    data["validation"], check_input=False
                )
        refit.coef = np.array(stages[-1], dtype=np.float64)
        refit.scores = refit.Z[:, : refit.k] @ refit.coef
        self.refit_failed = not refit.refit()
        self.trees = list(trees)
        self.stages = [np.array(s, copy=True) for s in stages]

    def validation_loss(self):
        """Weighted mean squared hinge of the current model on held-out samples."""
        y, s = self.validation
        k = len(self.trees) + 1
        scores = self.val_outputs[:, :k] @ self.refit.coef
        return float(s @ np.maximum(1.0 - y * scores, 0.0) ** 2 / s.sum())

    def truncate(self, n_rounds):
        """Keep the model after round ``n_rounds`` (exact: see the Notes)."""
        self.trees = self.trees[:n_rounds]
        self.stages = self.stages[: len(self.trees) + 1]
        self.refit.coef = self.stages[-1].copy()
