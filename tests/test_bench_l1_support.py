"""``benchmarks/l1_support.py``: which L1 coefficients every optimum shares.

``bench_l1.py``'s support column rests on it: a feature it calls determined
must have the same status in every optimum, and one it calls undetermined
must be free to move. Each claim is checked here against an optimum built
independently (a duplicated column lets mass move between its copies).
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.svm import l1_min_c

from hinge_estimators import HingeClassifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from l1_support import Determined  # noqa: E402


def objective(X, y, w, C):
    """``||w||_1 + C sum_i max(0, 1 - y_i x_i.w)^2``, in numpy."""
    return np.abs(w).sum() + C * (np.maximum(1.0 - y * (X @ w), 0.0) ** 2).sum()


def optimum(X, y, C):
    """``(w, absolute gap)`` of a tight fit, the gap by the package's certificate."""
    model = HingeClassifier(
        loss="squared_hinge", penalty="l1", solver="primal_cd", C=C, tol=1e-12,
        fit_intercept=False, max_iter=100_000,
    ).fit(X, y)  # fmt: skip
    w = model.coef_.ravel()
    return w, model.optimality_ * objective(X, y, w, C)


def problem(seed, n=80, d=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_independent_columns_determine_every_coefficient(seed):
    X, y = problem(seed)
    C = 4.0 * l1_min_c(X, y, loss="squared_hinge", fit_intercept=False)
    w, gap = optimum(X, y, C)
    judged = Determined(X, y[:, None], C, w[None, :], [gap])
    assert (judged.status >= 0).all()
    assert ((judged.status[0] == 1) == (w != 0)).all()
    assert not judged.wrong(w[None, :]).any()
    # dropping a non-zero coefficient, or adding one, is caught
    dropped, added = w.copy(), w.copy()
    dropped[np.flatnonzero(w)[0]] = 0.0
    assert judged.wrong(dropped[None, :]).sum() == 1
    if (w == 0).any():
        added[np.flatnonzero(w == 0)[0]] = 1e-3
        assert judged.wrong(added[None, :]).sum() == 1


@pytest.mark.parametrize("seed", [0, 1])
def test_a_duplicated_column_is_undetermined_and_its_mass_moves(seed):
    X, y = problem(seed)
    C = 4.0 * l1_min_c(X, y, loss="squared_hinge", fit_intercept=False)
    w, _ = optimum(X, y, C)
    j = int(np.argmax(np.abs(w)))  # surely non-zero: its copy shares the mass
    X2 = np.hstack([X, X[:, [j]]])
    w2, gap = optimum(X2, y, C)
    judged = Determined(X2, y[:, None], C, w2[None, :], [gap])
    pair = [j, X.shape[1]]
    assert (judged.status[0, pair] == -1).all()
    others = np.setdiff1d(np.arange(X2.shape[1]), pair)
    assert (judged.status[0, others] >= 0).all()
    # an optimum with the mass on one copy only, and one on the other: the
    # status of both copies differs between them, the objective does not
    total = w2[pair].sum()
    first, second = w2.copy(), w2.copy()
    first[pair] = (total, 0.0)
    second[pair] = (0.0, total)
    best = objective(X2, y, w2, C)
    for moved in (first, second):
        assert objective(X2, y, moved, C) <= best * (1 + 1e-12)
        assert not judged.wrong(moved[None, :]).any()
