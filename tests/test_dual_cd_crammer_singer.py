"""The Crammer-Singer kernel of dual CD: its shrinking, stopping and finish.

``test_dual_cd.py`` checks the solver's optima and certificates over every
loss; these tests pin down the multiclass kernel's own contract (the state it
keeps between calls, what its stopping test promises, its work limit) and the
exact polish from its multipliers.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from hinge_estimators import HingeClassifier
from hinge_estimators._objective import LinearObjective
from hinge_estimators.losses import CrammerSinger
from hinge_estimators.solvers import _dual_cd
from hinge_estimators.solvers._crammer_singer_polish import crammer_singer_polish
from hinge_estimators.solvers._dual_cd import DualCoordinateDescent
from hinge_estimators.solvers._dual_cd_fast import multiclass_dual_cd
from hinge_estimators.solvers._dual_cd_parts import (
    compiled_rows,
    multiclass_shrinking,
)


def _blobs(n=300, d=6, K=4, spread=1.5, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % K
    centers = rng.normal(size=(K, d)) * spread
    return centers[y] + rng.normal(size=(n, d)), y


def _violation(X, y, alpha, C, delta=1.0):
    """Largest per-sample KKT violation of the L1 Crammer-Singer dual, numpy.

    ``G_m = w_m . x_i + delta [m != y_i]``; a variable below its bound may
    grow, so the violation is ``max_m G_m - min_{m: alpha_m < bound} G_m``.
    """
    n = X.shape[0]
    rows = np.arange(n)
    G = X @ (X.T @ alpha) + delta
    G[rows, y] -= delta
    bound = np.zeros_like(alpha)
    bound[rows, y] = C
    free = np.where(alpha < bound, G, np.inf)
    return float(np.max(G.max(axis=1) - free.min(axis=1)))


def _kernel_args(X, y, C, K):
    n, d = X.shape
    offset = np.ones((n, K))
    offset[np.arange(n), y] = 0.0
    samples = np.arange(n, dtype=np.int32)
    sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else None
    if sq is None:
        sq = np.einsum("ij,ij->i", X, X)
    rows = compiled_rows(X, multiclass=True)
    return rows, offset, samples, sq, np.full(n, C), np.zeros(n)


@pytest.mark.parametrize("sparse", [False, True])
def test_kernel_stop_means_every_sample_meets_eps(sparse):
    # the kernel stops on a check of every sample at one W (check_all), after
    # passes over shrunk sets: its promise is the violation of all samples
    X, y = _blobs()
    X = sp.csr_matrix(X * (np.abs(X) > 0.5)) if sparse else X
    K, C, eps = 4, 1.0, 1e-3
    n, d = X.shape
    rows, offset, samples, sq, upper, diag = _kernel_args(X, y, C, K)
    alpha, Wt = np.zeros((n, K)), np.zeros((d + 1, K))
    state = multiclass_shrinking(samples, (n, K))
    passes, violation = multiclass_dual_cd(
        rows, 0.0, y.astype(np.intp), upper, diag, offset, sq, samples, alpha,
        Wt, eps, 100_000, True, 0, *state,
    )  # fmt: skip
    assert passes < 100_000 and violation <= eps
    dense = X.toarray() if sparse else X
    np.testing.assert_allclose(Wt[:d], dense.T @ alpha, atol=1e-10)
    assert _violation(dense, y, alpha, C) <= eps * (1 + 1e-9)


def test_kernel_keeps_its_shrinking_between_calls_and_stops_on_work():
    X, y = _blobs(n=400)
    K, C = 4, 10.0
    n, d = X.shape
    rows, offset, samples, sq, upper, diag = _kernel_args(X, y, C, K)
    alpha, Wt = np.zeros((n, K)), np.zeros((d + 1, K))
    state = multiclass_shrinking(samples, (n, K))
    work = state[3]
    full_pass = n * (d + 1) * K
    calls = 0
    while True:
        work[3] = work[2] + 3 * full_pass  # about three full passes a call
        before = work[2]
        passes, violation = multiclass_dual_cd(
            rows, 0.0, y.astype(np.intp), upper, diag, offset, sq, samples,
            alpha, Wt, 1e-6, 10**6, True, calls, *state,
        )  # fmt: skip
        calls += 1
        if violation <= 1e-6:
            break
        # stopped by the work limit, within one pass of it
        assert work[3] <= work[2] <= work[3] + full_pass + (work[2] - before)
        assert calls < 10_000
    assert calls > 2
    # the state carried over: samples were shrunk at some point and the
    # solution is the one a single call reaches
    assert _violation(X, y, alpha, C) <= 1e-6 * (1 + 1e-9)
    single = np.zeros((n, K)), np.zeros((d + 1, K))
    multiclass_dual_cd(
        rows, 0.0, y.astype(np.intp), upper, diag, offset, sq, samples,
        *single, 1e-9, 10**6, True, 0, *multiclass_shrinking(samples, (n, K)),
    )  # fmt: skip
    chunked = _primal(X, y, Wt[:d].T, C)
    assert chunked == pytest.approx(_primal(X, y, single[1][:d].T, C), rel=1e-5)


def _primal(X, y, W, C):
    S = X @ W.T
    rows = np.arange(len(y))
    margins = S + 1.0
    margins[rows, y] = S[rows, y]
    return 0.5 * np.sum(W * W) + C * np.sum(margins.max(axis=1) - S[rows, y])


def test_polish_from_dual_cd_multipliers_is_the_certified_optimum(monkeypatch):
    # overlapping classes at a large C: dual CD's tail is slow, the ties its
    # multipliers name at a moderate gap give the exact optimum
    X, y = _blobs(n=200, d=8, K=3, spread=0.8, seed=3)
    # dual CD alone (the solver would try the polish itself)
    monkeypatch.setattr(_dual_cd, "crammer_singer_polish", lambda *args: None)
    objective = LinearObjective(
        CrammerSinger(), X, y, n_outputs=3, C=10.0, fit_intercept=False
    )
    rough = DualCoordinateDescent().solve(
        objective, tol=1e-4, max_iter=10**6, rng=np.random.default_rng(0)
    )
    alpha = rough.state[0]["alpha"]
    setup = {"bias": 0.0, "unpenalized": False, "diag": np.zeros(200)}
    setup["form"] = objective.loss.dual_form()
    start = {"y": y.astype(np.intp)}
    polished = crammer_singer_polish(objective, setup, start, alpha, np.zeros(3))
    assert polished is not None
    cert, new_alpha, Wt, _ = polished
    assert cert["gap"] <= 1e-11 * cert["primal"]
    # an exactly feasible dual point, and its W
    rows = np.arange(200)
    wrong = new_alpha.copy()
    wrong[rows, y] = 0.0
    assert np.all(wrong <= 0.0) and np.all(new_alpha[rows, y] <= 10.0)
    np.testing.assert_allclose(new_alpha.sum(axis=1), 0.0, atol=1e-9)
    np.testing.assert_allclose(Wt[:8], X.T @ new_alpha, atol=1e-9)
    # optimal, proven independently of the package: weak duality with the
    # textbook dual (delta times the true-class variables) at new_alpha and
    # the primal written here at W = X^T new_alpha
    W = (X.T @ new_alpha).T
    dual = new_alpha[rows, y].sum() - 0.5 * np.sum(W * W)
    primal = _primal(X, y, W, 10.0)
    assert primal - dual <= 1e-10 * primal
    # and dual CD's own point was not there yet
    assert _primal(X, y, rough.coef.reshape(3, -1)[:, :8], 10.0) > primal * (1 + 1e-8)


def test_solver_adopts_the_polish_at_tight_tol(monkeypatch):
    # the decision: at a tight tol on a problem with fewer ties than
    # coefficients, the polish is tried and its point certifies the fit
    X, y = _blobs(n=200, d=8, K=3, spread=0.8, seed=3)
    adopted = []
    real = _dual_cd.crammer_singer_polish

    def spy(*args):
        out = real(*args)
        adopted.append(out is not None)
        return out

    monkeypatch.setattr(_dual_cd, "crammer_singer_polish", spy)
    clf = HingeClassifier(
        loss="crammer_singer", solver="dual_cd", C=10.0, tol=1e-9,
        fit_intercept=False, max_iter=10**6, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert any(adopted)
    assert clf.optimality_ <= 1e-9


@pytest.mark.parametrize("source", ["blobs", "wine"])
def test_the_polish_certifies_with_the_free_intercept(source, monkeypatch):
    # the polish was off with an unpenalized intercept (dual CD's
    # multiplier rounds alone moved b): on the real sets' default fits it
    # now certifies splice at C = 1 in 450 passes instead of 777 (0.44 s
    # against 1.04), texture at C = 10 in 307 instead of 464 (0.62 s
    # against 1.80), each to a relative gap of about 1e-12
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    if source == "wine":
        X, y = load_wine(return_X_y=True)
        X, C, tol = StandardScaler().fit_transform(X), 10.0, 1e-4
    else:
        X, y = _blobs(n=200, d=8, K=3, spread=0.8, seed=3)
        C, tol = 10.0, 1e-9
    adopted = []
    real = _dual_cd.crammer_singer_polish

    def spy(*args):
        out = real(*args)
        adopted.append(out is not None and out[0]["gap"] <= 1e-10 * out[0]["primal"])
        return out

    monkeypatch.setattr(_dual_cd, "crammer_singer_polish", spy)
    clf = HingeClassifier(
        loss="crammer_singer", solver="dual_cd", C=C, tol=tol, random_state=0,
        max_iter=10**6,
    ).fit(X, y)  # fmt: skip
    assert any(adopted)
    assert clf.optimality_ <= 1e-10
    # the same objective, written here, against the interior point's answer
    codes = np.unique(y, return_inverse=True)[1]

    def primal(W, b):
        S = X @ W.T + b
        rows = np.arange(len(codes))
        margins = S + 1.0
        margins[rows, codes] = S[rows, codes]
        return 0.5 * np.sum(W * W) + C * np.sum(margins.max(axis=1) - S[rows, codes])

    ours = primal(clf.coef_, clf.intercept_)
    assert ours == pytest.approx(clf.objective_value_, rel=1e-9)
    other = HingeClassifier(
        loss="crammer_singer", solver="interior_point", C=C, tol=1e-10
    ).fit(X, y)
    assert other.optimality_ <= 1e-10
    reference = primal(other.coef_, other.intercept_)
    assert abs(ours - reference) <= 1e-8 * reference


def test_crammer_singer_value_alone_matches_the_fused_one():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(500, 5))
    scores[:50, 1] = scores[:50, 2]  # ties between wrong classes
    y = rng.integers(0, 5, size=500)
    for loss in (CrammerSinger(delta=0.7), CrammerSinger(squared=True)):
        value, _ = loss.loss_gradient(y, scores)
        np.testing.assert_allclose(loss.loss(y, scores), value, rtol=0, atol=0)


def test_default_fit_counts_full_pass_equivalents_and_converges():
    # a shrunk pass costs a small fraction of a full one; counted as one pass,
    # this default fit (like penbased's and texture's at C = 1) stopped at
    # max_iter = 1000 with a relative gap of 4e-4
    import warnings

    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        2000, 16, n_informative=12, n_redundant=2, n_classes=10,
        n_clusters_per_class=1, random_state=0,
    )  # fmt: skip
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = HingeClassifier(loss="crammer_singer", random_state=0).fit(X, y)
    assert clf.optimality_ <= clf.tol
    assert isinstance(clf.n_iter_, int) and clf.n_iter_ < clf.max_iter
    # the same objective, solved far tighter, is not lower by more than tol
    tight = HingeClassifier(
        loss="crammer_singer", random_state=0, tol=1e-8, max_iter=20_000
    ).fit(X, y)
    assert clf.objective_value_ <= tight.objective_value_ * (1 + clf.tol)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_stalled_dual_hands_over_to_the_interior_point(fit_intercept, monkeypatch):
    # overlapping classes at a large C: dual CD on this dual crawls. Its
    # default fits ended at max_iter with relative gaps of 0.33-0.95 here
    # (satimage at C = 100: 0.46, its primal 46 % above the optimum); the
    # interior point, handed over once dual CD's rate says it stalls,
    # certifies them
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from ._qp import solve_qp

    X, y = _blobs(n=120, d=4, K=3, spread=0.8, seed=0)
    calls, real = [], _dual_cd.InteriorPoint.solve

    def spy(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_dual_cd.InteriorPoint, "solve", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = HingeClassifier(
            loss="crammer_singer", C=100.0, fit_intercept=fit_intercept,
            random_state=0,
        ).fit(X, y)  # fmt: skip
    assert calls == [1]
    assert clf.optimality_ <= clf.tol
    assert clf.n_iter_ < clf.max_iter
    # the optimum of an independent solver (slack QP by SLSQP)
    objective = LinearObjective(
        CrammerSinger(), X, y, n_outputs=3, C=100.0, fit_intercept=fit_intercept
    )
    reference = solve_qp(objective)[0]
    assert clf.objective_value_ == pytest.approx(reference, rel=1e-5)


def test_no_hand_over_where_the_interior_point_does_not_fit(monkeypatch):
    # the normal equations are formed over the p K coefficients: a problem
    # beyond interior_point_fits stays with dual CD (and its warning)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = _blobs(n=120, d=4, K=3, spread=0.8, seed=0)
    from hinge_estimators.solvers import _interior_point_solver

    monkeypatch.setattr(
        _interior_point_solver, "interior_point_fits", lambda *args: False
    )
    calls = []
    monkeypatch.setattr(
        _dual_cd.InteriorPoint, "solve", lambda *args, **kwargs: calls.append(1)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        HingeClassifier(
            loss="crammer_singer", C=100.0, max_iter=200, random_state=0
        ).fit(X, y)
    assert not calls
    assert any(w.category is ConvergenceWarning for w in caught)


def test_the_hand_over_stays_within_max_iter():
    # the steps count as passes: dual CD's passes and the interior point's
    # steps together at most max_iter (the steps once got 150 whatever was
    # left: 115 "passes" at max_iter = 100)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = _blobs(n=120, d=4, K=3, spread=0.8, seed=0)
    for max_iter in (60, 100, 300):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = HingeClassifier(
                loss="crammer_singer", C=100.0, max_iter=max_iter, random_state=0
            ).fit(X, y)
        assert clf.n_iter_ <= max_iter


def test_dual_cd_goes_on_where_the_interior_point_does_no_better(monkeypatch):
    # an interior point that does not improve on dual CD's point leaves the
    # fit to dual CD, with all of its passes: it used to stop where it had
    # stalled (105 of 1,000 passes) and report "1000 passes reached"
    from hinge_estimators.solvers._base import SolveResult

    X, y = _blobs(n=120, d=4, K=3, spread=0.8, seed=0)

    def no_better(self, objective, *args, **kwargs):
        return SolveResult(objective.zeros(), 1, False, np.inf, np.inf)

    monkeypatch.setattr(_dual_cd.InteriorPoint, "solve", no_better)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = HingeClassifier(
            loss="crammer_singer", C=100.0, max_iter=400, random_state=0
        ).fit(X, y)
    assert clf.n_iter_ == 400 or clf.optimality_ <= clf.tol
    assert clf.n_iter_ > 200  # well past where it stalled


def test_the_hand_over_asks_the_plain_rate_not_the_doubled_one():
    # the binary finish's stall rule doubles the passes the rate asks for;
    # for the hand-over that sent fits dual CD ends by itself to the costlier
    # interior point (splice as CSR at C = 1: 2.1 s against 0.44 s by dual
    # CD). The decision, on a rate fixed here (a tenfold fall of the gap per
    # 50 passes: from 1e-3 at pass 100, 1e-5 at pass 200)
    from hinge_estimators.solvers._dual_cd_finish import stalled

    checks = [(50, 1e-2), (100, 1e-3)]
    assert not _dual_cd._will_miss(checks, 1e-5, 250)  # ends at 200 <= 250
    assert stalled(checks, 1e-5, 250)  # 100 + 2 x 100 > 250: the old rule
    assert _dual_cd._will_miss(checks, 1e-5, 150)  # ends past max_iter
    # not before a tenth of max_iter, nor once within tol
    assert not _dual_cd._will_miss(checks, 1e-5, 10_000)
    assert not _dual_cd._will_miss([(50, 1e-2), (100, 1e-6)], 1e-5, 150)


def test_dual_cd_going_on_reports_its_passes_in_order(monkeypatch):
    # after a hand-over that did no better, dual CD's reports go on from
    # the passes it had made (they restarted at 0)
    from hinge_estimators.solvers._base import SolveResult

    X, y = _blobs(n=120, d=4, K=3, spread=0.8, seed=0)

    def no_better(self, objective, *args, **kwargs):
        return SolveResult(objective.zeros(), 1, False, np.inf, np.inf)

    monkeypatch.setattr(_dual_cd.InteriorPoint, "solve", no_better)
    reported = []
    objective = LinearObjective(CrammerSinger(), X, y, n_outputs=3, C=100.0)
    result = DualCoordinateDescent().solve(
        objective, tol=1e-4, max_iter=400, rng=np.random.default_rng(0),
        callback=lambda n_iter, value: reported.append(n_iter),
    )  # fmt: skip
    assert result.n_iter > 200  # dual CD went on past its stall
    assert len(reported) > 2
    assert np.all(np.diff(reported) >= 0)
