"""Results that do not depend on rounding: refits on data perturbed by a
relative 1e-14 (what another BLAS kernel's rounding does to the fits) give the
same predictions and a finite model.

These are the fits that failed scikit-learn's checks on OpenBLAS's Haswell
kernel (issue 13) while passing on AVX-512: the boosted trees' split and
class ties, and squared Weston-Watkins in fully-corrective boosting, whose
Newton finish walked along a flat direction to 1e163. No BLAS setting is
touched here: the perturbation stands in for the kernel.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils import shuffle

from hinge_estimators import HingeBoostingClassifier, HingeClassifier
from hinge_estimators.losses import WestonWatkins
from hinge_estimators.solvers import FullyCorrectiveBoosting

PERTURBATIONS = range(12)


def _perturbed(values, seed):
    noise = np.random.default_rng(seed).standard_normal(np.shape(values))
    return values * (1 + 1e-14 * noise)


def _weight_equivalence_setup():
    # sklearn's check_sample_weight_equivalence_on_{dense,sparse}_data
    rng = np.random.RandomState(42)
    n_samples = 15
    X = rng.rand(n_samples, n_samples * 2)
    y = rng.randint(0, 3, size=n_samples)
    sw = rng.randint(0, 5, size=n_samples)
    X_repeated, y_repeated = X.repeat(sw, axis=0), y.repeat(sw)
    X_weighted, y_weighted, sw = shuffle(X, y, sw, random_state=0)
    return X, (X_repeated, y_repeated), (X_weighted, y_weighted, sw)


@pytest.mark.parametrize("sparse", [False, True])
def test_deep_boosted_trees_decide_ties_without_rounding(sparse):
    # l2_regularization=0 and unlimited depth: the trees meet splits of
    # equal impurity decrease, and zero-weight samples get exactly equal
    # scores (+-1) in several columns. Both used to be decided by rounding.
    X, (X_rep, y_rep), (X_w, y_w, sw) = _weight_equivalence_setup()
    container = sp.csr_matrix if sparse else np.asarray

    def fit(X_fit, y_fit, weights=None):
        return HingeBoostingClassifier(
            n_estimators=5, max_depth=None, l2_regularization=0.0, random_state=0
        ).fit(container(X_fit), y_fit, sample_weight=weights)

    repeated = fit(X_rep, y_rep)
    expected = repeated.predict(container(X))
    scores = repeated.decision_function(container(X))
    for seed in PERTURBATIONS:
        weighted = fit(_perturbed(X_w, seed), y_w, _perturbed(sw, seed))
        np.testing.assert_array_equal(weighted.predict(container(X)), expected)
        np.testing.assert_allclose(
            weighted.decision_function(container(X)), scores, rtol=1e-7, atol=1e-12
        )


def test_squared_weston_watkins_boosting_is_finite_and_stable():
    # sklearn's check_supervised_y_2d setup
    rnd = np.random.RandomState(0)
    X = rnd.uniform(size=(30, 3))
    y = np.arange(30) % 3

    def fit(X_fit, y_fit):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ConvergenceWarning either
            return HingeClassifier(
                loss=WestonWatkins(squared=True),
                solver=FullyCorrectiveBoosting(),
                tol=1e-12,
            ).fit(X_fit, y_fit)

    reference = fit(X, y)
    expected = reference.predict(X)
    for seed in PERTURBATIONS:
        model = fit(_perturbed(X, seed), y)
        assert np.all(np.isfinite(model.coef_))
        assert np.all(np.isfinite(model.intercept_))
        np.testing.assert_array_equal(model.predict(X), expected)
        np.testing.assert_allclose(
            model.decision_function(X),
            reference.decision_function(X),
            rtol=1e-7,
            atol=1e-9,
        )
