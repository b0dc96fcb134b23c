"""Agreement with ``LinearSVC(penalty="l1", loss="squared_hinge", dual=False)``.

Both sides minimize ``||W||_1 + C sum_i max(0, 1 - y_i x_i.w)^2`` (one-vs-rest
on more than two classes, no intercept). Each model is judged by that formula
written here in numpy, not by the package's objective; ``C`` is a multiple of
``l1_min_c`` (below which ``W = 0``) so that the optimum is sparse but not
empty.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC, l1_min_c

from hinge_estimators import HingeClassifier

#: both fits at this tol: far tighter than the 1e-6 compared
TOL = 1e-10
#: a coefficient below this may be zero on one side and not on the other
#: (the solvers stop at different points of the same optimum's neighbourhood)
TINY = 1e-8


def l1_squared_hinge(X, y, classes, coef, C):
    """``||W||_1 + C sum_k sum_i max(0, 1 - Y_ik x_i.w_k)^2``, in numpy."""
    if len(classes) == 2:
        Y = np.where(y == classes[1], 1.0, -1.0)[:, None]
    else:
        Y = np.where(y[:, None] == classes[None, :], 1.0, -1.0)
    margins = Y * np.asarray(X @ coef.T)
    return np.abs(coef).sum() + C * (np.maximum(1.0 - margins, 0.0) ** 2).sum()


def standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fit_both(X, y, C):
    ours = HingeClassifier(
        loss="squared_hinge",
        penalty="l1",
        C=C,
        tol=TOL,
        fit_intercept=False,
        max_iter=100_000,
    ).fit(X, y)
    theirs = LinearSVC(
        penalty="l1",
        loss="squared_hinge",
        dual=False,
        C=C,
        tol=TOL,
        fit_intercept=False,
        max_iter=100_000,
    ).fit(X, y)
    return ours, theirs


def check_agreement(X, y, C):
    ours, theirs = fit_both(X, y, C)
    classes = np.unique(y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    ours_coef = ours.coef_.toarray() if sp.issparse(ours.coef_) else ours.coef_
    ours_coef = np.asarray(ours_coef, dtype=np.float64)
    p_ours = l1_squared_hinge(X, y, classes, ours_coef, C)
    p_theirs = l1_squared_hinge(X, y, classes, theirs.coef_, C)
    # the test's premise: a sparse optimum that is not empty
    kept = np.abs(theirs.coef_) > TINY
    assert 0 < kept.sum() < kept.size
    assert abs(p_ours - p_theirs) <= 1e-6 * p_theirs
    # the same support, up to coefficients too small to tell from zero
    ours_kept = np.abs(ours_coef) > TINY
    differ = ours_kept != kept
    assert not differ.any(), (
        f"support differs at {np.flatnonzero(differ.ravel())}: ours "
        f"{ours_coef.ravel()[differ.ravel()]}, LinearSVC "
        f"{theirs.coef_.ravel()[differ.ravel()]}"
    )


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("multiple", [2.0, 10.0, 100.0])
def test_breast_cancer_matches_linearsvc(sparse, multiple):
    X, y = standardized(load_breast_cancer)
    C = multiple * l1_min_c(X, y, loss="squared_hinge", fit_intercept=False)
    check_agreement(sp.csr_matrix(X) if sparse else X, y, C)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_one_vs_rest_matches_linearsvc(sparse):
    X, y = standardized(load_wine)
    C = 5.0 * l1_min_c(X, y, loss="squared_hinge", fit_intercept=False)
    check_agreement(sp.csr_matrix(X) if sparse else X, y, C)
