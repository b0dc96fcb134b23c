"""The interior point that primal coordinate descent hands slow L1 fits to."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from hinge_estimators import LinearObjective
from hinge_estimators.losses import ModifiedHuber, SmoothHinge, SquaredHinge
from hinge_estimators.penalties import ElasticNet
from hinge_estimators.solvers import PrimalCoordinateDescent, _primal_cd
from hinge_estimators.solvers._primal_cd_interior import margin_interior_point

from ._problems import wide_sparse_binary
from .test_primal_cd import _certified_default_fit, _dphi, _split_reference, _value

#: every loss the interior point takes: the smooth hinges narrow (nearly the
#: hinge's linear program) and wide, with a margin other than 1
LOSSES = [
    SquaredHinge(),
    ModifiedHuber(),
    SmoothHinge(gamma=0.1, margin=1.5),
    SmoothHinge(gamma=2.0),
]


def random_column(seed, C, sparse, n, d, noise):
    """``(X, y, c, columns)``: Gaussian rows (half zeros where ``sparse``),
    labels from two features and noise, weights ``c`` around ``C`` with a
    tenth of them 0 (such samples are left out), ``columns = X^T`` as the
    interior point reads it."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random((n, d)) < 0.5] = 0.0
    y = np.where(X[:, 0] - X[:, 1] + noise * rng.standard_normal(n) > 0, 1.0, -1.0)
    c = C * rng.uniform(0.5, 2.0, n)
    c[rng.random(n) < 0.1] = 0.0
    columns = sp.csr_matrix(X.T) if sparse else np.ascontiguousarray(X.T)
    return X, y, c, columns


def _certified(loss, X, y, c, w, b, l1_ratio, intercept, sparse):
    """Our objective's value and the duality gap ``LinearObjective`` finds."""
    objective = LinearObjective(
        loss, sp.csr_matrix(X) if sparse else X, y[:, None],
        n_outputs=1, C=1.0, sample_weight=c, fit_intercept=intercept,
        penalty=ElasticNet(l1_ratio=l1_ratio),
    )  # fmt: skip
    coef = np.append(w, b) if intercept else w
    gap, value = objective.duality_gap(coef)
    return value, gap


#: the strategies of the interior point's random columns (``random_column``)
COLUMN_CASES = dict(
    seed=st.integers(0, 2**31 - 1),
    C=st.sampled_from([0.1, 10.0, 1000.0]),
    intercept=st.booleans(),
    l1_ratio=st.sampled_from([1.0, 0.6]),
    sparse=st.booleans(),
)


@settings(max_examples=25, deadline=None)
@given(**COLUMN_CASES, loss=st.sampled_from(LOSSES))
def test_interior_point_reaches_the_optimum(seed, C, intercept, l1_ratio, sparse, loss):
    X, y, c, columns = random_column(seed, C, sparse, n=60, d=8, noise=0.3)
    rho, q = l1_ratio, 1.0 - l1_ratio
    found = margin_interior_point(columns, y, c, rho, q, 0.0, intercept, loss)
    assert found is not None
    w, b, *_ = found
    value, gap = _certified(loss, X, y, c, w, b, l1_ratio, intercept, sparse)
    assert value == pytest.approx(_value(loss, X, y, w, b, 1.0, c, rho, q), rel=1e-12)
    assert gap <= 1e-7 * value
    # and no higher than an independent solver's value
    reference = _split_reference(loss, X, y, 1.0, c, rho, q, intercept)
    assert value <= reference * (1 + 1e-8) + 1e-10


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("p", [0.3, 2.0])
def test_interior_point_with_a_penalized_intercept(p, loss):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 6))
    y = np.where(X[:, 0] + 0.5 * rng.standard_normal(80) > 0.8, 1.0, -1.0)
    c = np.full(80, 5.0)
    found = margin_interior_point(
        np.ascontiguousarray(X.T), y, c, 1.0, 0.0, p, True, loss
    )
    w, b, *_ = found
    ours = _value(loss, X, y, w, b, 1.0, c, 1.0, 0.0, p)
    reference = _split_reference(loss, X, y, 1.0, c, 1.0, 0.0, True, p)
    assert ours <= reference * (1 + 1e-9)
    # the optimality conditions in b and w, written out here
    r = c * _dphi(loss, y * (X @ w + b)) * y
    assert abs(r.sum() + p * b) <= 1e-6 * np.abs(r).sum()
    assert np.all(np.abs(X.T @ r) <= 1.0 + 1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_one_hot_columns_with_intercept_handed_over_and_certified(sparse, monkeypatch):
    # one-hot blocks sum to the intercept's column: the normal matrix turns
    # singular near the optimum and takes a ridge; the interior point stops
    # where its residuals stall, and coordinate descent certifies from there
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 4, size=(300, 6))
    X = np.zeros((300, 24))
    X[np.arange(300)[:, None], 4 * np.arange(6) + levels] = 1.0
    y = np.where(levels[:, 0] + levels[:, 1] + rng.normal(0, 1, 300) > 3, 1.0, -1.0)
    X = sp.csr_matrix(X) if sparse else X
    objective = LinearObjective(
        SquaredHinge(), X, y[:, None], n_outputs=1, C=100.0, penalty="l1"
    )
    monkeypatch.setattr(
        _primal_cd, "_interior_point_pays", lambda d, w, checks, *rest: len(checks) > 1
    )
    found = _spy_on_interior_point(monkeypatch)
    result = PrimalCoordinateDescent().solve(objective, tol=1e-9, max_iter=1000)
    assert len(found) == 1 and found[0] is not None
    assert result.converged
    gap, value = objective.duality_gap(result.coef)
    assert gap <= 1e-9 * value
    X_dense = X.toarray() if sparse else X
    reference = _split_reference(
        SquaredHinge(), X_dense, y, 100.0, np.ones(300), 1.0, 0.0, True
    )
    assert value <= reference * (1 + 1e-9)


def _digits_objective(C=100.0, label=1, loss=None):
    """Digits' one-vs-rest column of ``label``, L1, free intercept."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    signs = np.where(y == label, 1.0, -1.0)
    return LinearObjective(
        loss or SquaredHinge(), X, signs[:, None], n_outputs=1, C=C, penalty="l1"
    )


def _spy_on_interior_point(monkeypatch, check=None):
    """The interior point's results, in order, as the solver calls it."""
    found = []
    real = _primal_cd.margin_interior_point

    def spy(*args):
        if check is not None:
            check(args)
        found.append(real(*args))
        return found[-1]

    monkeypatch.setattr(_primal_cd, "margin_interior_point", spy)
    return found


@pytest.mark.parametrize("loss", LOSSES[:3], ids=["squared", "huber", "smooth"])
def test_slow_fit_is_handed_to_the_interior_point_and_certified(loss, monkeypatch):
    # digits' "1 against the rest" at C = 100 with the free intercept: nearly
    # separable, coordinate descent (and LIBLINEAR) crawl; its rate hands the
    # column over
    objective = _digits_objective(loss=loss)
    found = _spy_on_interior_point(monkeypatch)
    result = PrimalCoordinateDescent().solve(objective, tol=1e-6, max_iter=1000)
    assert len(found) == 1 and found[0] is not None
    assert result.converged and result.n_iter <= 1000
    # the gap recomputed by LinearObjective, not the solver's certificate
    gap, value = objective.duality_gap(result.coef)
    assert gap <= 1e-6 * value
    # coordinate descent went on from the interior point, which leaves
    # coefficients near 0: they are exact zeros
    W = result.coef[:-1]
    assert not np.any((W != 0.0) & (np.abs(W) < 1e-9 * np.abs(W).max()))


def test_interior_point_stays_within_max_iter(monkeypatch):
    objective = _digits_objective()
    asked = []

    def pays(data, working_set, checks, tol, n_iter, max_iter):
        asked.append(n_iter)
        return n_iter >= 5

    def check(args):
        # its iterations, counted in n_iter, are bounded by what is left
        # (and one epoch after it)
        assert args[-1] == 12 - asked[-1] - 1

    monkeypatch.setattr(_primal_cd, "_interior_point_pays", pays)
    found = _spy_on_interior_point(monkeypatch, check)
    result = PrimalCoordinateDescent().solve(objective, tol=1e-12, max_iter=12)
    assert found
    assert result.n_iter <= 12


def test_quick_fits_are_not_handed_over(monkeypatch):
    # a fit coordinate descent certifies in a few epochs never pays for it
    objective = _digits_objective(C=0.01)
    found = _spy_on_interior_point(monkeypatch)
    result = PrimalCoordinateDescent().solve(objective, tol=1e-4, max_iter=1000)
    assert result.converged and not found


@pytest.mark.parametrize("C", [100.0, 1000.0])
def test_default_l1_fits_on_digits_converge_at_large_C(C):
    # every one-vs-rest column used to end at max_iter here (LinearSVC's
    # too); default tol, max_iter and intercept
    X, y, model = _certified_default_fit(
        load_digits, loss="squared_hinge", penalty="l1", C=C
    )
    assert model.score(X, y) > 0.95


def _one_vs_rest_certified(model, X, y, loss, l1_ratio, references=3):
    """Each one-vs-rest column's gap, recomputed by ``LinearObjective``, and
    the first ``references`` columns' values against an independent split
    solve (L-BFGS-B: slow on digits' 64 features at C = 100)."""
    l1, l2 = l1_ratio, 1.0 - l1_ratio
    for k, label in enumerate(model.classes_):
        signs = np.where(y == label, 1.0, -1.0)
        objective = LinearObjective(
            loss, X, signs[:, None], n_outputs=1, C=model.C,
            penalty=ElasticNet(l1_ratio=l1_ratio),
        )  # fmt: skip
        coef = np.append(model.coef_[k], model.intercept_[k])
        gap, value = objective.duality_gap(coef)
        assert gap <= model.tol * value
        if k >= references:
            continue
        ones = np.ones(len(y))
        reference = _split_reference(loss, X, signs, model.C, ones, l1, l2, True)
        assert value <= reference * (1 + model.tol)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_default_fits_of_a_narrow_smooth_hinge_converge(l1_ratio):
    # a smooth hinge of small gamma is nearly the hinge: coordinate descent
    # crawled on wine at C = 100 and stopped at max_iter with an objective
    # about 3x the optimum; the interior point takes its column now
    from sklearn.datasets import load_wine

    loss = SmoothHinge(gamma=0.1, margin=1.5)
    X, y, model = _certified_default_fit(
        load_wine, loss=loss, penalty=ElasticNet(l1_ratio=l1_ratio), C=100.0,
        solver="primal_cd",
    )  # fmt: skip
    _one_vs_rest_certified(model, X, y, loss, l1_ratio)


@pytest.mark.parametrize(
    "loss", [ModifiedHuber(), SmoothHinge(gamma=0.3)], ids=["huber", "smooth"]
)
def test_default_l1_fits_of_other_losses_on_digits_converge_at_large_C(loss):
    # modified Huber used to go to the squared hinge's interior point (the
    # same optimum only where no margin falls below -1) and the smooth hinge
    # to none: both ended at max_iter at C = 100
    X, y, model = _certified_default_fit(load_digits, loss=loss, penalty="l1", C=100.0)
    assert isinstance(model.solver_, PrimalCoordinateDescent)
    _one_vs_rest_certified(model, X, y, loss, 1.0)


def test_an_interior_point_worse_than_coordinate_descent_is_not_kept(monkeypatch):
    # cut short (or broken down) its point can be worse than coordinate
    # descent's: the solver goes on from its own
    objective = _digits_objective(C=10.0)
    monkeypatch.setattr(
        _primal_cd, "margin_interior_point",
        lambda columns, *rest: (np.zeros(columns.shape[0]), 0.0, 3),
    )  # fmt: skip
    handed_over = []

    def pays(data, working_set, checks, tol, n_iter, max_iter):
        # once coordinate descent has moved from 0
        if n_iter >= 20 and not handed_over:
            handed_over.append(n_iter)
            return True
        return False

    monkeypatch.setattr(_primal_cd, "_interior_point_pays", pays)
    handed = PrimalCoordinateDescent().solve(objective, tol=1e-6, max_iter=1000)
    monkeypatch.setattr(_primal_cd, "_interior_point_pays", lambda *args: False)
    alone = PrimalCoordinateDescent().solve(objective, tol=1e-6, max_iter=1000)
    assert handed_over and alone.converged
    # the same epochs from the same point, 3 iterations later in the count
    assert handed.value == alone.value
    assert handed.n_iter == alone.n_iter + 3


def test_the_rate_rule_for_the_hand_over():
    from hinge_estimators.solvers._primal_cd import _ColumnData, _interior_point_pays

    data = _ColumnData(_digits_objective())
    ws = np.arange(64, dtype=np.int32)
    # a gap that falls 10x every 10 epochs: at 1e-4 in 20 more
    quick = [(80, 1e-1), (90, 1e-2), (100, 1e-3)]
    assert not _interior_point_pays(data, ws, quick, 1e-5, 100, 1000)
    # 10x every 500 epochs: it would miss max_iter
    slow = [(80, 1e-1), (90, 0.098), (100, 0.0955)]
    assert _interior_point_pays(data, ws, slow, 1e-5, 100, 1000)
    # not before a tenth of max_iter, nor with too little left for it
    assert not _interior_point_pays(data, ws, slow, 1e-5, 99, 1000)
    assert not _interior_point_pays(data, ws, slow, 1e-5, 970, 1000)


def _wide_column(seed, C, sparse, n=30, d=120):
    """``random_column`` with more features than samples (the samples' form
    of the Newton system pays)."""
    return random_column(seed, C, sparse, n=n, d=d, noise=0.3)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("intercept", [False, True])
def test_the_samples_form_of_the_newton_system_solves_it(sparse, intercept):
    # a point as near the optimum: the barrier terms D of a few coefficients
    # (the non-zero ones) tiny, the others' huge; the samples' form's solve
    # against the matrix formed here (a backward error at rounding level;
    # Woodbury's identity over all of D^{-1} cancelled there)
    from hinge_estimators.solvers import _primal_cd_interior as interior

    X, y, c, columns = _wide_column(3, 1.0, sparse)
    keep = c > 0
    columns = columns[:, keep] if sparse else np.ascontiguousarray(columns[:, keep])
    y, c = y[keep], c[keep]
    d, n = columns.shape
    rng = np.random.default_rng(0)
    active = rng.random(d) < 0.1
    u = np.where(active, rng.uniform(0.5, 2.0, d), 1e-7)
    mu_u = np.where(active, 1e-9, 1.0)
    point = interior._Point(
        u, np.full(d, 1e-7), rng.uniform(0.1, 1, n), rng.uniform(1e-6, 1, n),
        mu_u, np.ones(d), np.ones(0), np.ones(0),
    )  # fmt: skip
    kappa = 0.5 / c
    system = interior._System(columns, y, point, kappa, 0.0, 0.0, intercept)
    assert system.samples is not None  # the samples' form was used
    dense = columns.toarray() if sparse else columns
    both = system.E_u * system.E_v / (system.E_u + system.E_v)
    matrix = interior._normal_matrix(dense, system.G, both, 0.0, intercept)
    for _ in range(3):
        rhs = rng.standard_normal(len(matrix))
        solved = system._solve(rhs)
        residual = np.abs(matrix @ solved - rhs).max()
        scale = np.abs(matrix).max() * np.abs(solved).max() + np.abs(rhs).max()
        assert residual <= 1e-12 * scale


@settings(max_examples=15, deadline=None)
@given(**COLUMN_CASES, loss=st.sampled_from(LOSSES))
def test_the_interior_point_over_the_samples_reaches_the_optimum(
    seed, C, intercept, l1_ratio, sparse, loss
):
    X, y, c, columns = _wide_column(seed, C, sparse)
    rho, q = l1_ratio, 1.0 - l1_ratio
    found = margin_interior_point(columns, y, c, rho, q, 0.0, intercept, loss)
    assert found is not None
    w, b, *_ = found
    value, gap = _certified(loss, X, y, c, w, b, l1_ratio, intercept, sparse)
    assert gap <= 1e-7 * value
    reference = _split_reference(loss, X, y, 1.0, c, rho, q, intercept)
    assert value <= reference * (1 + 1e-8) + 1e-10


@pytest.mark.parametrize("C", [1.0, 3.0])
def test_a_fit_that_will_miss_max_iter_is_handed_over_whatever_its_epochs_cost(C):
    # 200 x 3,000 sparse: coordinate descent's epochs over its small working
    # sets cost far less than the interior point, and ended at max_iter
    # with a bound of 3e-2 (C = 1); it is the fit's one chance. At C = 3 a
    # Newton step was charged 986 of the 1,000 iterations first, which left
    # the interior point none (a bound of 0.33)
    from sklearn.svm import LinearSVC

    from hinge_estimators import HingeClassifier

    X, y = wide_sparse_binary()
    model = HingeClassifier(penalty="l1", C=C, fit_intercept=False).fit(X, y)
    assert model.optimality_ <= model.tol
    reference = LinearSVC(
        penalty="l1", dual=False, C=C, fit_intercept=False, tol=1e-10,
        max_iter=100_000,
    ).fit(X, y)  # fmt: skip
    ys = 2.0 * y - 1.0

    def primal(w):
        return np.abs(w).sum() + C * np.sum(np.maximum(0.0, 1 - ys * (X @ w)) ** 2)

    ours, theirs = primal(model.coef_.ravel()), primal(reference.coef_.ravel())
    assert ours <= theirs * (1 + 1e-4)
