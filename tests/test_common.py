"""scikit-learn's estimator checks over every (loss, solver) pair.

The instances use ``tol=1e-10``: sklearn's sample-weight and idempotence checks
compare decision functions to a relative 1e-7, which needs solutions far more
accurate than the default ``tol=1e-4`` promises. The defaults themselves are
exercised by tests/test_hinge_classifier.py.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from hinge_estimators import (
    HingeBoostingClassifier,
    HingeClassifier,
    HingeClassifierCV,
)
from hinge_estimators.losses import (
    LOSSES,
    CrammerSinger,
    GaussianHinge,
    Hinge,
    SmoothHinge,
    WestonWatkins,
)
from hinge_estimators.penalties import ElasticNet
from hinge_estimators.solvers import (
    LBFGS,
    SGD,
    SOLVERS,
    FullyCorrectiveBoosting,
    GradientDescent,
)


def _tol(loss, solver="auto"):
    # Smooth losses are solved by gradient methods whose accuracy follows tol.
    # Non-smooth ones finish with the exact active-set polish whatever tol is;
    # a looser tol only shortens the runs where the polish cannot apply.
    # dual_cd's and primal_cd's tol is a relative duality gap, which bounds
    # the objective, not the coefficients (their error grows like its square
    # root): sklearn's 1e-7 comparisons of decision functions need it near
    # rounding level.
    if solver in ("dual_cd", "primal_cd"):
        return 1e-13
    return 1e-12 if loss.is_smooth else 1e-6


def _explicit_pairs():
    # "auto" resolves to one of these (tested per loss below), so listing it
    # too would only run the same fits twice
    for loss_name, loss_cls in LOSSES.items():
        for solver_name, solver_cls in SOLVERS.items():
            try:
                solver_cls().check_loss(loss_cls())
            except ValueError:
                continue  # refused with a clear error; tested in test_solvers.py
            yield loss_name, solver_name


def _string_estimator(loss, solver):
    if solver == "sgd":
        # a stochastic solver: it does not reach the exact optimum the tight
        # tolerances above are for; a seed makes refits identical
        return HingeClassifier(loss=loss, solver=solver, max_iter=50, random_state=0)
    return HingeClassifier(
        loss=loss, solver=solver, tol=_tol(LOSSES[loss](), solver), max_iter=20_000
    )


STRING_ESTIMATORS = [
    _string_estimator(loss, solver) for loss, solver in _explicit_pairs()
] + [HingeClassifier(tol=1e-12)]  # all defaults but tol: solver="auto"

# SGD's variants: averaged mini-batches with the Pegasos schedule and its
# projection, a user-facing Python path (pairwise loss), a fixed alpha
SGD_ESTIMATORS = [
    HingeClassifier(
        loss="hinge",
        solver=SGD(learning_rate="pegasos", projection=True, batch_size=4),
        max_iter=50,
        random_state=0,
    ),
    HingeClassifier(
        loss=CrammerSinger(squared=True),
        solver=SGD(average=True, alpha=1e-3, early_stopping=True),
        max_iter=50,
        random_state=0,
    ),
    HingeClassifier(
        loss="pairwise_squared_hinge",
        solver=SGD(batch_size=16),
        max_iter=50,
        random_state=0,
    ),
    # the cumulative L1 pull, averaged and not
    HingeClassifier(penalty="l1", solver="sgd", max_iter=50, random_state=0),
    HingeClassifier(
        loss="hinge",
        penalty=ElasticNet(l1_ratio=0.5),
        solver=SGD(average=False, batch_size=3),
        max_iter=50,
        random_state=0,
    ),
]

# objects with non-default hyper-parameters, including the variants that only
# exist as objects (squared multiclass hinges, a smoothed Weston-Watkins)
OBJECT_ESTIMATORS = [
    HingeClassifier(loss=Hinge(margin=0.5), solver=GradientDescent(), tol=1e-6),
    HingeClassifier(loss=SmoothHinge(gamma=0.3), solver=LBFGS(memory=5), tol=1e-12),
    HingeClassifier(loss=GaussianHinge(sigma=0.2), solver=LBFGS(), tol=1e-12),
    HingeClassifier(loss=WestonWatkins(squared=True), solver=LBFGS(), tol=1e-12),
    HingeClassifier(loss=WestonWatkins(delta=2.0), solver=GradientDescent(), tol=1e-6),
    HingeClassifier(
        loss=CrammerSinger(squared=True), solver=GradientDescent(), tol=1e-6
    ),
    HingeClassifier(loss=CrammerSinger(squared=True, delta=0.7), tol=1e-13),
    # "auto" resolves these to dual_cd: see _tol
    HingeClassifier(loss=CrammerSinger(delta=0.5), tol=1e-13),
    HingeClassifier(loss="hinge", intercept_scaling=1.0, tol=1e-13),
    HingeClassifier(loss="squared_hinge", class_weight="balanced", tol=1e-12),
    # one-vs-rest columns in two threads (sklearn's checks fit 3 classes)
    HingeClassifier(loss="hinge", solver="dual_cd", tol=1e-13, n_jobs=2),
    HingeClassifier(
        loss=SmoothHinge(gamma=0.3), solver=FullyCorrectiveBoosting(), tol=1e-12
    ),
    HingeClassifier(
        loss=WestonWatkins(squared=True), solver=FullyCorrectiveBoosting(), tol=1e-12
    ),
    HingeClassifier(
        solver="fc_boosting", class_weight="balanced", intercept_scaling=2.0, tol=1e-12
    ),
]

# the non-smooth penalties (squared hinge, solver="auto", which picks gd's
# proximal steps); their tol is a relative duality gap. The group penalty
# meets sklearn's 1e-7 comparisons at 1e-10 already (on iris it needs 12k
# iterations at 1e-12, 2k at 1e-10); the elastic net at 1e-10 did not
PENALTY_ESTIMATORS = [
    HingeClassifier(penalty="l1", tol=1e-12, max_iter=100_000),
    HingeClassifier(penalty=ElasticNet(), tol=1e-12, max_iter=100_000),
    HingeClassifier(penalty="l1_l2", tol=1e-10, max_iter=100_000),
]

BOOSTING_ESTIMATORS = [
    HingeBoostingClassifier(n_estimators=10),
    HingeBoostingClassifier(
        n_estimators=5, max_depth=None, max_leaf_nodes=6, leaf_values="gradient"
    ),
    HingeBoostingClassifier(n_estimators=5, max_depth=None, l2_regularization=0.0),
    HingeBoostingClassifier(
        n_estimators=8, n_iter_no_change=2, validation_fraction=0.3
    ),
]

# cross-validation over a short grid: 3 values x 3 folds plus the refit per
# check (the squared hinge's newton path; the hinge's dual_cd at the tol
# these checks need takes minutes over the default grid's large C). At tol
# 1e-12 the sparse sample-weight check's decision functions differed by
# 2.1e-7 relative under OpenBLAS's Prescott kernel (1.3e-9 under Haswell),
# over sklearn's 1e-7: one solve had stopped just below tol; at 1e-13 they
# differ by 1.9e-13 under both
CV_ESTIMATORS = [HingeClassifierCV(Cs=3, cv=3, tol=1e-13)]

_NO_EXACT_FINISH = (
    "the squared Crammer-Singer loss is neither smooth nor piecewise linear, so "
    "no first-order solver here finishes it exactly; sklearn compares decision "
    "functions to 1e-7, beyond what smoothing reaches in a test's time. The "
    "exact sequential dual solver (dual_cd, what 'auto' picks for this loss) "
    "passes the same check above."
)


_VALIDATION_SPLIT = (
    "early stopping holds out a fraction of the SAMPLES: repeating a sample "
    "changes which ones are held out, a weight does not, as in sklearn's "
    "estimators with a validation split"
)


_STOCHASTIC = (
    "SGD visits a sample of weight k once, with a k-fold step, and k repeats "
    "k times at different points of the step-size schedule: the same "
    "objective but different iterates, so the models differ (SGDClassifier "
    "fails this check for the same reason)"
)


_EARLY_STOP_ON_FIVE = (
    "early stopping judges the model on 5 held-out samples (10 % of this "
    "check's 50), weighted 1000 or 1e-4; in the first epochs their objective "
    "rises while the average is still moving the intercept, so "
    "n_iter_no_change=5 epochs without improvement end the run at epoch 5 "
    "with 66 % of class 0 predicted (the same solver without early stopping "
    "predicts 100 % and passes)"
)


def _expected_failed_checks(estimator):
    solver = getattr(estimator, "solver", None)
    if solver == "sgd" or isinstance(solver, SGD):
        failed = {
            "check_sample_weight_equivalence_on_dense_data": _STOCHASTIC,
            "check_sample_weight_equivalence_on_sparse_data": _STOCHASTIC,
        }
        loss = estimator.loss
        loss = LOSSES[loss]() if isinstance(loss, str) else loss
        if getattr(solver, "early_stopping", False):
            failed["check_class_weight_classifiers"] = _EARLY_STOP_ON_FIVE
        return failed
    if isinstance(estimator, HingeBoostingClassifier):
        if estimator.n_iter_no_change is None:
            return {}
        return {
            "check_sample_weight_equivalence_on_dense_data": _VALIDATION_SPLIT,
            "check_sample_weight_equivalence_on_sparse_data": _VALIDATION_SPLIT,
        }
    loss = estimator.loss
    first_order = isinstance(estimator.solver, GradientDescent) or (
        estimator.solver == "gd"
    )
    if isinstance(loss, CrammerSinger) and loss.squared and first_order:
        return {
            "check_sample_weight_equivalence_on_dense_data": _NO_EXACT_FINISH,
            "check_sample_weight_equivalence_on_sparse_data": _NO_EXACT_FINISH,
        }
    return {}


@parametrize_with_checks(
    STRING_ESTIMATORS
    + OBJECT_ESTIMATORS
    + PENALTY_ESTIMATORS
    + SGD_ESTIMATORS
    + BOOSTING_ESTIMATORS
    + CV_ESTIMATORS,
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_registered_loss_is_covered():
    # a new registry entry must show up above without editing this file
    covered = {e.loss for e in STRING_ESTIMATORS}
    assert set(LOSSES) <= covered


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_auto_solver_is_valid_for_every_loss_and_string_or_object(loss):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    # a fixed seed: dual_cd visits the samples in a random order
    by_name = HingeClassifier(loss=loss, solver="auto", random_state=0).fit(X, y)
    by_object = HingeClassifier(loss=LOSSES[loss](), random_state=0).fit(X, y)
    assert by_name.solver_.name == by_object.solver_.name
    np.testing.assert_allclose(by_name.coef_, by_object.coef_)
