"""Inputs and parameters the way scikit-learn takes them: pandas extension
dtypes, numpy scalars as parameters, class weights for labels a fold lacks,
and the warnings and messages about them."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.svm import LinearSVC

from hinge_estimators import HingeClassifier


def _data(n=80, n_classes=2, seed=0):
    return make_classification(
        n, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=seed
    )


LABELS = {
    "categorical": lambda y: pd.Series(pd.Categorical(np.array(["neg", "pos"])[y])),
    "string": lambda y: pd.Series(np.array(["neg", "pos"])[y], dtype="string"),
    "Int64": lambda y: pd.Series(y, dtype="Int64"),
    "boolean": lambda y: pd.Series(y.astype(bool), dtype="boolean"),
}
FEATURES = {
    "Float64": lambda X: pd.DataFrame(X).astype("Float64"),
    "Int64": lambda X: pd.DataFrame(np.round(10 * X)).astype("Int64"),
    "Sparse": lambda X: pd.DataFrame(X).astype(pd.SparseDtype(float, 0.0)),
}


@pytest.mark.parametrize("kind", LABELS)
def test_pandas_extension_labels_fit_as_scikit_learn_reads_them(kind):
    # numpy cannot read these dtypes: the complex-input check raised a bare
    # TypeError before validation
    X, y = _data()
    labels = LABELS[kind](y)
    model = HingeClassifier(solver="dual_cd", tol=1e-10).fit(X, labels)
    reference = LinearSVC().fit(X, labels)
    assert model.classes_.tolist() == reference.classes_.tolist()
    plain = HingeClassifier(solver="dual_cd", tol=1e-10).fit(X, np.asarray(labels))
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", FEATURES)
def test_pandas_extension_features_and_weights_fit(kind):
    X, y = _data()
    frame = FEATURES[kind](X)
    weights = pd.Series(np.linspace(0.5, 2.0, len(y)), dtype="Float64")
    model = HingeClassifier(solver="dual_cd", tol=1e-10)
    model.fit(frame, y, sample_weight=weights)
    dense = np.asarray(frame.astype(float))
    plain = HingeClassifier(solver="dual_cd", tol=1e-10)
    plain.fit(dense, y, sample_weight=np.asarray(weights, dtype=float))
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-9, atol=1e-12)


def test_complex_input_is_still_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="Complex data not supported"):
        HingeClassifier().fit(pd.DataFrame(X.astype(complex)), y)
    with pytest.raises(ValueError, match="sample_weight is complex"):
        HingeClassifier().fit(X, y, sample_weight=pd.Series(np.ones(len(y)) + 1j))


def test_class_weight_for_a_label_the_fold_lacks_is_ignored():
    # compute_class_weight's rule: extra labels are ignored when every class
    # of y has a weight (cross-validation folds without a rare class)
    X, y = _data(n_classes=3, n=90)
    two = y < 2
    full = {0: 1.0, 1: 3.0, 2: 0.5}
    model = HingeClassifier(class_weight=full, tol=1e-10).fit(X[two], y[two])
    restricted = {0: 1.0, 1: 3.0}
    plain = HingeClassifier(class_weight=restricted, tol=1e-10).fit(X[two], y[two])
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-12)
    # ... but not when a class of y has none: a misspelt label, likely
    with pytest.raises(ValueError, match=r"label 2.*classes \[1\] have no weight"):
        HingeClassifier(class_weight={0: 1.0, 2: 3.0}).fit(X[two], y[two])


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_numpy_scalar_parameters_validate_without_warnings(dtype):
    # the bounds (C up to 1e50) were cast to the scalar's float32: overflow
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = HingeClassifier(C=dtype(0.5), intercept_scaling=dtype(2.0)).fit(X, y)
    plain = HingeClassifier(C=0.5, intercept_scaling=2.0).fit(X, y)
    np.testing.assert_array_equal(model.coef_, plain.coef_)
    with pytest.raises(ValueError, match="'C' parameter"):
        HingeClassifier(C=np.float32(-1.0)).fit(X, y)


@pytest.mark.parametrize("total", [1e-13, 3e-38])
def test_the_scale_error_states_the_total_weight(total):
    # the weights are normalized by a power of two first: the message once
    # printed the normalized total with a rounded power of ten ("56.3e-15")
    X, y = _data()
    weights = np.full(len(y), total / len(y))
    with pytest.raises(ValueError, match="kappa") as error:
        HingeClassifier().fit(X, y, sample_weight=weights)
    stated = re.search(r"sum\(s_i\) = (\S+) ", str(error.value)).group(1)
    assert float(stated) == pytest.approx(total, rel=5e-3, abs=0)


def test_intercept_scaling_without_a_penalty_warns_that_it_is_unused():
    X, y = _data()
    with pytest.warns(UserWarning, match="intercept_scaling is not used"):
        model = HingeClassifier(penalty=None, intercept_scaling=1e-3).fit(X, y)
    plain = HingeClassifier(penalty=None).fit(X, y)
    np.testing.assert_allclose(model.intercept_, plain.intercept_, rtol=1e-12)


def test_the_warning_of_an_unbounded_fit_without_a_penalty_says_why():
    # separable binary data, penalty=None: no minimizer, P falls to 0 and
    # the relative bound is undefined; the warning blamed a multiclass
    # loss's intercepts
    from sklearn.exceptions import ConvergenceWarning

    X, y = make_classification(
        120, 6, n_informative=4, n_classes=3, n_clusters_per_class=1,
        random_state=1,
    )  # fmt: skip
    model = HingeClassifier(loss="gaussian_hinge", penalty=None, solver="newton")
    with pytest.warns(ConvergenceWarning) as caught:
        model.fit(X, (y == 1).astype(int))
    message = str(caught[0].message)
    assert "penalty=None" in message and "separable" in message
    assert "multiclass" not in message
