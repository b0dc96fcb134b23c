"""The shortcuts that keep small fits cheap answer as the checks they skip."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.multiclass import check_classification_targets

from hinge_estimators import HingeClassifier
from hinge_estimators.estimators._shared import (
    check_sample_weight,
    check_weighted_classes,
    checked_class_labels,
)


def _outcome(check, y):
    """What ``check(y)`` does: ('ok' | error message, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check(y)
            result = "ok"
        except ValueError as exc:
            result = str(exc)
    return result, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    "y",
    [
        np.array([0, 1, 1, 0]),
        np.array([True, False, True]),
        np.array([3, 7, 7, 3, 5], dtype=np.uint8),
        np.array([0.0, 1.0, 2.0, 1.0]),
        np.array([0.5, 1.0, 2.0]),  # continuous: refused
        np.array([1e19, 1.0]),  # beyond int64: continuous for scikit-learn
        np.arange(30),  # 30 classes in 30 samples: scikit-learn warns
        np.arange(30) * 1000 % 7,  # a wide span, few classes: no warning
        np.repeat(np.arange(12), 2),  # 12 classes in 24 samples: no warning
        np.repeat(np.arange(13), 2)[:25],  # 13 classes in 25 samples: warns
        np.array(["a", "b", "a"]),
        np.array(["b", "", "b"]),  # one character: read as code points
        np.array(["yes", "no", "no"]),
        np.array([str(i % 23) for i in range(30)]),  # warns
        np.array([1, 2, 3], dtype=object),
    ],
)
def test_class_label_check_answers_as_scikit_learns(y):
    def reference(y):
        check_classification_targets(y)
        return np.unique(y, return_inverse=True)

    assert _outcome(checked_class_labels, y) == _outcome(reference, y)
    if _outcome(reference, y)[0] == "ok":
        classes, codes = checked_class_labels(y)
        expected_classes, expected_codes = reference(y)
        assert classes.dtype == expected_classes.dtype
        assert np.array_equal(classes, expected_classes)
        assert np.array_equal(codes, expected_codes)


def test_default_sample_weight_is_fresh_ones():
    X = np.zeros((4, 2))
    first, second = check_sample_weight(None, X), check_sample_weight(None, X)
    assert first.dtype == np.float64 and np.array_equal(first, np.ones(4))
    first[0] = 5.0
    assert second[0] == 1.0  # a new array each time


@pytest.mark.parametrize(
    "codes, weights, message",
    [
        ([0, 1, 1], [1.0, 2.0, 3.0], None),
        ([0, 1, 1], [0.0, 2.0, 3.0], "only class .*b.* has any"),
        ([1, 1, 1], [1.0, 2.0, 3.0], "only class .*b.* has any"),
        ([0, 1, 1], [0.0, 0.0, 0.0], "zero weight"),
    ],
)
def test_weighted_class_check(codes, weights, message):
    classes = np.array(["a", "b"])
    args = ("Est", classes, np.array(codes), np.array(weights))
    if message is None:
        check_weighted_classes(*args)
    else:
        with pytest.raises(ValueError, match=message):
            check_weighted_classes(*args)


def test_parameter_names_are_read_per_class():
    class Narrower(HingeClassifier):
        def __init__(self, C=2.0):
            super().__init__(C=C)

    assert HingeClassifier()._get_param_names() == sorted(
        HingeClassifier().get_params(deep=False)
    )
    assert Narrower._get_param_names() == ["C"]
    assert "loss" in HingeClassifier._get_param_names()  # not the subclass's
    names = HingeClassifier._get_param_names()
    names.append("junk")  # a copy: the cache is not modified
    assert "junk" not in HingeClassifier._get_param_names()
    assert clone(Narrower(C=3.0)).C == 3.0


@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64, np.uint64]
)
def test_label_encoding_is_numpys_unique(dtype):
    from hinge_estimators._targets import encode_labels

    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    cases = [
        rng.integers(0, 3, 50),
        np.array([5]),
        rng.integers(0, 120, 200),
        np.array([info.min, info.max, info.min], dtype=dtype),  # too wide: sorted
        rng.integers(info.max - 50, info.max, 30, endpoint=True, dtype=dtype),
        rng.integers(info.min, info.min + 50, 30, endpoint=True, dtype=dtype),
    ]
    if info.min < 0:
        cases.append(rng.integers(-100, 100, 300))  # wider than int8's half
    for y in cases:
        y = y.astype(dtype)
        classes, codes = encode_labels(y)
        expected_classes, expected_codes = np.unique(y, return_inverse=True)
        assert classes.dtype == y.dtype
        assert np.array_equal(classes, expected_classes)
        assert np.array_equal(codes, expected_codes)


@pytest.mark.parametrize("largest", [0.9e100, 1.1e100, 0.9e-100, 1.1e-100, 1.0, 1e160])
@pytest.mark.parametrize("n_features", [1, 50])
@pytest.mark.parametrize("sparse", [False, True])
def test_range_check_from_row_norms_answers_as_the_entries(largest, n_features, sparse):
    # the row norms bound the largest entry; near the limits the check must
    # still answer as the entries themselves do
    import scipy.sparse as sp

    from hinge_estimators.estimators._hinge_classifier import (
        _check_X_range,
        _row_norms2,
    )

    X = np.full((3, n_features), largest * 1e-3)
    X[1, -1] = -largest
    if sparse:
        X = sp.csr_matrix(X)

    def outcome(check):
        try:
            check()
            return "ok"
        except ValueError as exc:
            return str(exc)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflowing squares stay silent
        norms = float(_row_norms2(X).max())
    assert outcome(lambda: _check_X_range(X, norms)) == outcome(
        lambda: _check_X_range(X)
    )
