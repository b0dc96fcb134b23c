"""scikit-learn's estimator checks over every (loss, solver) pair.

The instances use ``tol=1e-10``: sklearn's sample-weight and idempotence checks
compare decision functions to a relative 1e-7, which needs solutions far more
accurate than the default ``tol=1e-4`` promises. The defaults themselves are
exercised by tests/test_hinge_classifier.py.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import (
    LOSSES,
    CrammerSinger,
    GaussianHinge,
    Hinge,
    SmoothHinge,
    WestonWatkins,
)
from hinge_estimators.solvers import LBFGS, SOLVERS, GradientDescent


def _string_pairs():
    for loss_name, loss_cls in LOSSES.items():
        for solver_name in ["auto", *SOLVERS]:
            if solver_name == "lbfgs" and not loss_cls().is_smooth:
                continue  # refused with a clear error; tested in test_solvers.py
            yield loss_name, solver_name


STRING_ESTIMATORS = [
    HingeClassifier(loss=loss, solver=solver, tol=1e-10, max_iter=20_000)
    for loss, solver in _string_pairs()
]

# objects with non-default hyper-parameters, including the variants that only
# exist as objects (squared multiclass hinges, a smoothed Weston-Watkins)
OBJECT_ESTIMATORS = [
    HingeClassifier(loss=Hinge(margin=0.5), solver=GradientDescent(), tol=1e-10),
    HingeClassifier(loss=SmoothHinge(gamma=0.3), solver=LBFGS(memory=5), tol=1e-10),
    HingeClassifier(
        loss=GaussianHinge(sigma=0.2),
        solver=GradientDescent(),
        tol=1e-10,
        max_iter=20_000,
    ),
    HingeClassifier(loss=WestonWatkins(squared=True), solver=LBFGS(), tol=1e-10),
    HingeClassifier(
        loss=WestonWatkins(delta=2.0),
        solver=GradientDescent(),
        tol=1e-10,
        max_iter=20_000,
    ),
    HingeClassifier(
        loss=CrammerSinger(squared=True),
        solver=GradientDescent(),
        tol=1e-10,
        max_iter=20_000,
    ),
    HingeClassifier(loss=CrammerSinger(delta=0.5), tol=1e-10, max_iter=20_000),
    HingeClassifier(loss="hinge", intercept_scaling=1.0, tol=1e-10, max_iter=20_000),
    HingeClassifier(loss="squared_hinge", class_weight="balanced", tol=1e-10),
]


@parametrize_with_checks(STRING_ESTIMATORS + OBJECT_ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_pair_is_covered():
    # a new registry entry must show up above without editing this file
    covered = {(e.loss, e.solver) for e in STRING_ESTIMATORS}
    for loss in LOSSES:
        assert (loss, "auto") in covered and (loss, "gd") in covered


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_default_solver_is_valid_for_every_loss(loss):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    HingeClassifier(loss=loss).fit(X, y)
