"""The interior-point finish of dual CD for the hinge (``_interior_point``).

The solver's answer is checked by a duality gap written out here from the
formulas (no package code), and against libsvm (``SVC(kernel="linear")``)
for the unpenalized intercept; the estimator-level tests use degenerate data
(duplicated rows with both labels, one-hot blocks that sum to the constant
feature: more samples on the margin than the data has rank), where the
active-set polish cannot settle its sets.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeClassifier
from hinge_estimators.solvers._interior_point import (
    grow,
    solve_box_dual,
    working_set,
)

from ._problems import one_hot_rows


def _degenerate(n, d, seed, duplicates=0.25):
    """Rows in general position, then a quarter repeated with random labels."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] + 0.8 * rng.normal(size=n) > 0, 1.0, -1.0)
    k = int(duplicates * n)
    X[:k] = X[k : 2 * k]
    y[:k] = rng.choice([-1.0, 1.0], size=k)
    upper = rng.uniform(0.5, 3.0, size=n)  # sample weights times C
    return X, y, upper


def _primal(X, y, upper, w, b, margin=1.0):
    return 0.5 * w @ w + upper @ np.maximum(margin - y * (X @ w + b), 0.0)


def _dual(X, y, alpha, margin=1.0):
    v = X.T @ (alpha * y)
    return margin * alpha.sum() - 0.5 * v @ v


@pytest.mark.parametrize("equality", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_the_box_dual_is_solved_to_a_small_duality_gap(equality, seed):
    X, y, upper = _degenerate(60, 5, seed)
    alpha, w, b, steps = solve_box_dual(X, y, upper, 1.0, equality, tol=1e-10)
    assert 0 < steps < 80
    assert np.all(alpha >= 0) and np.all(alpha <= upper)
    # w is the multipliers' own point, and the intercept's balance holds
    np.testing.assert_allclose(w, X.T @ (alpha * y), atol=1e-9)
    if equality:
        assert abs(alpha @ y) <= 1e-9 * upper.sum()
    else:
        assert b == 0.0
    primal, dual = _primal(X, y, upper, w, b), _dual(X, y, alpha)
    assert dual <= primal * (1 + 1e-12)
    assert primal - dual <= 1e-8 * primal


def test_the_free_intercept_agrees_with_libsvm():
    from sklearn.svm import SVC

    X, y, _ = _degenerate(80, 4, seed=7)
    C = 2.0
    alpha, w, b, _ = solve_box_dual(X, y, np.full(80, C), 1.0, True, tol=1e-12)
    svc = SVC(kernel="linear", C=C, tol=1e-12).fit(X, y)
    reference = _primal(X, y, np.full(80, C), svc.coef_[0], svc.intercept_[0])
    ours = _primal(X, y, np.full(80, C), w, b)
    assert ours <= reference * (1 + 1e-9)
    assert ours >= reference * (1 - 1e-6)  # libsvm stops on its own tolerance


@pytest.mark.parametrize("equality", [False, True])
def test_samples_held_at_their_bound_give_the_same_solution(equality):
    # the finish keeps samples far inside the margin at their upper bound and
    # hands their part of w (and of the balance) to the solve: where they are
    # at the bound at the optimum, the solution is the same
    X, y, upper = _degenerate(70, 4, seed=3)
    alpha, w, b, _ = solve_box_dual(X, y, upper, 1.0, equality, tol=1e-12)
    residual = y * (X @ w + b) - 1.0
    held = residual < -0.5
    assert held.sum() >= 5 and np.allclose(alpha[held], upper[held], rtol=1e-6)
    rest = ~held
    pull = upper[held] * y[held]
    alpha_rest, w_rest, b_rest, _ = solve_box_dual(
        X[rest], y[rest], upper[rest], 1.0, equality, tol=1e-12,
        fixed_w=X[held].T @ pull, fixed_balance=float(pull.sum()),
    )  # fmt: skip
    np.testing.assert_allclose(w_rest, w, rtol=1e-5, atol=1e-7)
    assert b_rest == pytest.approx(b, rel=1e-5, abs=1e-7)


def test_the_working_sets_and_their_growth():
    residual = np.array([-3.0, -3.0, -0.2, 0.5, 2.0, 2.0])
    alpha = np.array([1.0, 0.4, 0.0, 0.0, 0.3, 0.0])
    upper = np.ones(6)
    live = np.array([True, True, True, True, True, False])
    working, at_upper = working_set(residual, alpha, upper, live)
    # held: at the bound and far inside; solved: a multiplier or near the
    # margin; a zero weight (the last) is never in either
    np.testing.assert_array_equal(at_upper, [True, False, False, False, False, False])
    np.testing.assert_array_equal(working, [False, True, True, True, True, False])
    # nothing outside breaks its bound: no growth
    assert grow(working, at_upper, residual, live) is None
    # a sample of zero weight may violate its margin: it does not count
    dead = residual.copy()
    dead[5] = -1.0
    assert grow(working, at_upper, dead, live) is None
    # the held sample now satisfies its margin: it joins the working set
    freed = residual.copy()
    freed[0] = 0.3
    new_working, new_upper = grow(working, at_upper, freed, live)
    np.testing.assert_array_equal(new_working, [True, True, True, True, True, False])
    assert not new_upper.any()
    # a sample held at 0 violates its margin: it joins, with the samples
    # outside within ROUND_BAND of their margin
    smaller = np.array([False, True, True, False, False, False])
    held_zero = residual.copy()
    held_zero[[3, 4]] = [-0.3, 0.05]
    new_working, new_upper = grow(smaller, at_upper, held_zero, live)
    np.testing.assert_array_equal(new_working, [False, True, True, True, True, False])
    np.testing.assert_array_equal(new_upper, at_upper)


def _one_hot_duplicates(n, positions, seed):
    """Raw one-hot categories as CSR (each 4-column block sums to 1, so the
    blocks span the constant feature), a tenth of the rows repeated."""
    rng = np.random.default_rng(seed)
    letters = rng.integers(0, 4, size=(n, positions))
    k = n // 10
    letters[:k] = letters[k : 2 * k]
    X = np.zeros((n, positions * 4))
    X[np.arange(n)[:, None], np.arange(positions) * 4 + letters] = 1.0
    w = rng.normal(size=positions * 4) * (rng.random(positions * 4) < 0.15)
    z = X @ w + 0.7 * rng.logistic(size=n)
    return sp.csr_matrix(X), (z > np.median(X @ w)).astype(int)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_degenerate_one_hot_hinge_converges_by_default(fit_intercept):
    # 600 x 120 of rank 91, hinge at C = 10: dual CD stalls and the active-set
    # polish of the smoothing continuation never settled its sets; the fit
    # ended at its 1000 passes with relative gaps of 2.5e-3 (without
    # intercept) and 2.5e-3 (with), where the interior-point finish
    # certifies in about 550
    X, y = _one_hot_duplicates(600, 30, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = HingeClassifier(
            loss="hinge", C=10.0, fit_intercept=fit_intercept, random_state=0
        ).fit(X, y)
    assert clf.optimality_ <= 1e-4
    target = np.where(y == 1, 1.0, -1.0)
    w, b = clf.coef_.ravel(), clf.intercept_[0]
    ours = _primal(X, target, np.full(600, 10.0), w, b)
    assert ours == pytest.approx(clf.objective_value_, rel=1e-9)
    if fit_intercept:
        from sklearn.svm import SVC

        svc = SVC(kernel="linear", C=10.0, tol=1e-8).fit(X, target)
        w_ref = np.ravel(svc.coef_.toarray())
        reference = _primal(X, target, np.full(600, 10.0), w_ref, svc.intercept_[0])
        assert ours <= reference * (1 + 1e-4)
    else:
        # an independent lower bound: the box dual maximized by L-BFGS-B
        from scipy.optimize import minimize

        Z = X.toarray() * target[:, None]

        def negative_dual(a):
            v = Z.T @ a
            return 0.5 * v @ v - a.sum(), Z @ v - 1.0

        found = minimize(
            negative_dual, np.zeros(600), jac=True, method="L-BFGS-B",
            bounds=[(0.0, 10.0)] * 600,
            options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-15, "gtol": 1e-12},
        )  # fmt: skip
        bound = -found.fun
        assert bound <= ours * (1 + 1e-9)
        assert ours <= bound * (1 + 1e-4)


def _noisy_one_hot(n, positions, levels, seed, noise):
    """One-hot categories (CSR) with labels from a sparse rule and ``noise``:
    many samples on or past the margin, rank ``positions * (levels - 1) +
    1`` of ``positions * levels`` columns."""
    rng = np.random.default_rng(seed)
    X = one_hot_rows(rng.integers(levels, size=(n, positions)), levels)
    rule = rng.normal(size=positions * levels) * (rng.random(positions * levels) < 0.2)
    score = X @ rule + noise * rng.normal(size=n)
    return X, (score > np.median(score)).astype(int)


def _certified_default_fit(X, y, C, random_state):
    """A default hinge fit that must certify without a warning: its
    objective written here (checked against ``objective_value_``) and the
    labels as +1/-1; ``(value, target)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = HingeClassifier(loss="hinge", C=C, random_state=random_state).fit(X, y)
    assert clf.optimality_ <= 1e-4
    target = np.where(y == 1, 1.0, -1.0)
    w, b = clf.coef_.ravel(), clf.intercept_[0]
    value = _primal(X, target, np.full(X.shape[0], C), w, b)
    assert value == pytest.approx(clf.objective_value_, rel=1e-9)
    return value, target


def test_the_finish_spends_its_last_passes_on_the_interior_point(monkeypatch):
    # 1,000 x 180 one-hot at C = 2 (LIBLINEAR's dual CD stops at max_iter
    # here too): after dual CD's stall and the finish's first stages, 485
    # passes are left once the rows' basis (151 columns) is paid. The
    # interior point was skipped where twenty of its steps did not fit (568
    # passes) and the stages ended at 1.3e-4 after 1,000 passes; the last
    # chance now goes to it where its median number of steps fits (369),
    # and it certifies. Over 112 such fits (7 shapes, 2 data seeds, C in
    # 0.2, 0.6, 2, 6, 2 pass orders) 15 ended uncertified before, 2 now
    import hinge_estimators.solvers._dual_cd_finish as finish_module

    monkeypatch.setattr(finish_module, "_row_bases", {})
    X, y = _noisy_one_hot(1000, 30, 6, seed=0, noise=2.0)
    C = 2.0
    ours, target = _certified_default_fit(X, y, C, random_state=0)
    from sklearn.svm import SVC

    svc = SVC(kernel="linear", C=C, tol=1e-8).fit(X, target)
    w_ref = np.ravel(svc.coef_.toarray())
    reference = _primal(X, target, np.full(X.shape[0], C), w_ref, svc.intercept_[0])
    assert ours <= reference * (1 + 1e-4)


def test_an_interior_point_out_of_budget_still_gives_its_last_iterate(monkeypatch):
    # 2,000 x 160 one-hot at C = 6 (benchmarks/bench_hard_hinge.py): the
    # finish's last interior point starts where 13 of its steps fit, needs
    # more and runs out; its iterates are interior, feasible dual points,
    # and the last one's certificate is below tol, where the rounds kept
    # nothing and the fit ended at 8.9e-4 after 1,000 passes
    import hinge_estimators.solvers._dual_cd_finish as finish_module

    monkeypatch.setattr(finish_module, "_row_bases", {})
    X, y = _noisy_one_hot(2000, 20, 8, seed=0, noise=3.0)
    C = 6.0
    ours, target = _certified_default_fit(X, y, C, random_state=1)
    # a tight solve, certified on its own (libsvm takes 26 s here)
    tight = HingeClassifier(
        loss="hinge", C=C, tol=1e-9, max_iter=100_000, random_state=0
    ).fit(X, y)
    assert tight.optimality_ <= 1e-9
    reference = _primal(
        X, target, np.full(X.shape[0], C), tight.coef_.ravel(), tight.intercept_[0]
    )
    assert reference * (1 - 1e-8) <= ours <= reference * (1 + 1e-4)


@pytest.mark.parametrize(
    "n, d, seed, C", [(1500, 400, 1, 1.0), (1000, 300, 0, 0.3)], ids=["over", "half"]
)
def test_a_basis_the_budget_cannot_pay_is_not_computed(n, d, seed, C, monkeypatch):
    # sparse counts at 5 %, nearly separable, hinge: dual CD stalls at
    # 110-160 passes, the finish's first stage leaves about 700. At 1,500 x
    # 400 the interior point's rows' basis (priced at some 900) was
    # computed and charged anyway: the budget gone, the finish ended before
    # its next stage (relative gap 0.11 after 1,000 passes). At 1,000 x 300
    # it cost 622 of 712, for a basis of full rank (none), and the stages
    # ran out (1.8e-2). Skipped, the stages certify
    import hinge_estimators.solvers._dual_cd_finish as finish_module

    monkeypatch.setattr(finish_module, "_row_bases", {})
    rng = np.random.default_rng(seed)
    X = sp.random(
        n, d, density=0.05, random_state=seed,
        data_rvs=lambda size: rng.poisson(2, size) + 1.0,
    ).tocsr()  # fmt: skip
    score = X @ rng.normal(size=d) + 2.0 * rng.normal(size=n)
    y = (score > np.median(score)).astype(int)
    ours, target = _certified_default_fit(X, y, C, random_state=0)
    assert not finish_module._row_bases  # no basis was computed
    # gd's smoothing continuation and exact finish, certified on its own
    other = HingeClassifier(loss="hinge", C=C, solver="gd", tol=1e-8).fit(X, y)
    assert other.optimality_ <= 1e-8
    reference = _primal(
        X, target, np.full(n, C), other.coef_.ravel(), other.intercept_[0]
    )
    assert ours <= reference * (1 + 1e-4)
    assert reference <= ours * (1 + 1e-8)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_path_on_degenerate_one_hot_data_converges_at_every_point(fit_intercept):
    # the same data along C: warm starts resume the interior point's
    # certificate. Before it, the points at C >= 10 took 1,066-1,500 passes
    # (four pass orders; at max_iter = 1000 they ended there, uncertified);
    # now 273-562. C = 1 without intercept still goes through dual CD and
    # the continuation (917-1,357 passes over six orders): max_iter = 1500
    # leaves that route room, so the test does not hang on its rounding
    from hinge_estimators.model_selection import hinge_path

    X, y = _one_hot_duplicates(600, 30, seed=0)
    Cs = [0.3, 1.0, 3.0, 10.0, 30.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        path = hinge_path(
            X, y, Cs, loss="hinge", fit_intercept=fit_intercept, max_iter=1500,
            random_state=0,
        )  # fmt: skip
    assert all(path.converged)
    assert np.all(path.optimality <= 1e-4)
    assert np.all(path.n_iter[3:] <= 800)  # the interior point's route
    for k, C in enumerate(Cs):
        cold = HingeClassifier(
            loss="hinge", C=C, fit_intercept=fit_intercept, tol=1e-6, random_state=1
        ).fit(X, y)
        assert path.objective_values[k] == pytest.approx(
            cold.objective_value_, rel=2e-4
        )


def test_the_interior_point_comes_before_the_stall_where_it_is_cheaper(monkeypatch):
    # 3,000 x 20 with a fifth of the labels flipped, hinge at C = 1: dual CD
    # certifies in about 345 passes; the interior point, predicted to cost
    # far less than the passes dual CD's rate still asks for, is tried early
    # and certifies in about 155 (counted in pass-equivalents)
    from sklearn.datasets import make_classification

    import hinge_estimators.solvers._dual_cd as dual_cd_module

    X, y = make_classification(3000, 20, n_informative=10, flip_y=0.2, random_state=0)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            return HingeClassifier(loss="hinge", C=1.0, random_state=0).fit(X, y)

    early = fit()
    monkeypatch.setattr(dual_cd_module, "EARLY_TRIES", 0)
    late = fit()
    assert early.n_iter_ < 0.8 * late.n_iter_
    assert early.optimality_ <= 1e-4 and late.optimality_ <= 1e-4
    assert early.objective_value_ == pytest.approx(late.objective_value_, rel=2e-4)


def test_early_interior_point_waits_for_twenty_passes_of_evidence(monkeypatch):
    # the rate of dual CD's first passes predicts far more passes than it
    # needs (penbased, C = 0.1: 813-988 predicted after 10 passes, 81 needed
    # in all); the interior point is weighed against it from 20 passes on
    from sklearn.datasets import make_classification

    import hinge_estimators.solvers._dual_cd as dual_cd_module

    # a case whose first check (pass 12) already asked for the interior point
    X, y = make_classification(
        2000, 16, n_informative=12, n_redundant=0, n_clusters_per_class=1,
        flip_y=0.1, random_state=3,
    )  # fmt: skip
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    passes_at_call = []
    real = dual_cd_module.early_interior_point
    max_iter = 1000

    def recorded(objective, setup, start, w, shift, tol, needed, budget):
        # budget = FINISH_SHARE * (max_iter - passes)
        passes_at_call.append(max_iter - budget / dual_cd_module.FINISH_SHARE)
        return real(objective, setup, start, w, shift, tol, needed, budget)

    monkeypatch.setattr(dual_cd_module, "early_interior_point", recorded)
    HingeClassifier(
        loss="hinge", C=0.1, fit_intercept=False, max_iter=max_iter, random_state=0
    ).fit(X, y)
    assert passes_at_call  # the early route was weighed
    assert min(passes_at_call) >= 20 - 1e-9


# -- the steps in a basis of the rows (one-hot data is rank deficient) ---------
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("constant", [0.0, 1.5])
def test_the_rows_basis_spans_them_with_their_rank(centered, constant):
    from hinge_estimators.solvers._interior_point import row_basis

    X, _ = _one_hot_duplicates(300, 20, seed=2)
    offset = np.asarray(X.mean(axis=0)).ravel() if centered else None
    rows = X.toarray() - (offset if centered else 0.0)
    if constant:
        rows = np.hstack([rows, np.full((300, 1), constant)])
    basis = row_basis(X, offset, constant)
    assert basis is not None
    assert basis.shape[1] == np.linalg.matrix_rank(rows) < rows.shape[1]
    np.testing.assert_allclose(basis.T @ basis, np.eye(basis.shape[1]), atol=1e-12)
    np.testing.assert_allclose((rows @ basis) @ basis.T, rows, atol=1e-10)


def test_full_rank_rows_get_no_basis():
    from hinge_estimators.solvers._interior_point import row_basis

    X = np.random.default_rng(0).normal(size=(200, 12))
    assert row_basis(X, None, 0.0) is None
    assert row_basis(sp.csr_matrix(X), X.mean(axis=0), 1.0) is None


def _solved_shapes(monkeypatch):
    """Record the shapes of the rows each interior-point solve gets."""
    import hinge_estimators.solvers._dual_cd_finish as finish

    shapes, real = [], finish.solve_box_dual

    def recorded(rows, *args, **kwargs):
        shapes.append(rows.shape)
        return real(rows, *args, **kwargs)

    monkeypatch.setattr(finish, "solve_box_dual", recorded)
    return shapes


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_the_interior_point_steps_in_the_rows_basis(fit_intercept, monkeypatch):
    # splice as CSR (rank 195 of 287): each step half the cost, and the
    # hinge's default fits at C = 100 and 1000 (two pass orders x six seeds)
    # certified in 60 of 60 instead of 44: their second round of the
    # interior point now fit in the passes left
    import hinge_estimators.solvers._dual_cd as dual_cd_module
    import hinge_estimators.solvers._interior_point as interior

    X, y = _one_hot_duplicates(600, 30, seed=0)
    shapes = _solved_shapes(monkeypatch)
    # the finish (the interior point) at the first check, whatever dual CD
    # would do alone
    monkeypatch.setattr(dual_cd_module, "stalled", lambda *args: True)
    params = dict(loss="hinge", C=10.0, fit_intercept=fit_intercept, tol=1e-6)
    in_basis = HingeClassifier(**params, random_state=0).fit(X.copy(), y)
    rank = np.linalg.matrix_rank(X.toarray() - (X.mean(axis=0) if fit_intercept else 0))
    assert shapes and all(shape[1] == rank for shape in shapes)
    # the same problem solved in all the coordinates
    shapes.clear()
    monkeypatch.setattr(interior, "RANK_SHARE", 0.0)
    whole = HingeClassifier(**params, random_state=0).fit(X.copy(), y)
    assert shapes and all(shape[1] == 120 for shape in shapes)
    assert in_basis.optimality_ <= 1e-6 and whole.optimality_ <= 1e-6
    assert in_basis.objective_value_ == pytest.approx(whole.objective_value_, rel=2e-6)


def _computed_bases(monkeypatch):
    """Record each computation of a basis of the rows."""
    import hinge_estimators.solvers._dual_cd_finish as finish

    computed, real = [], finish.row_basis

    def counted(*args):
        computed.append(1)
        return real(*args)

    monkeypatch.setattr(finish, "row_basis", counted)
    return computed


def test_a_basis_kept_for_data_changed_in_place_is_not_used(monkeypatch):
    # the bases are kept by the data's identity (a path's points share
    # them); values changed in place leave the old span, and the steps in
    # it would solve another problem
    import hinge_estimators.solvers._dual_cd as dual_cd_module

    X, y = _one_hot_duplicates(600, 30, seed=0)
    computed = _computed_bases(monkeypatch)
    shapes = _solved_shapes(monkeypatch)
    # the finish (the interior point) at the first check, in both fits:
    # whether dual CD alone would get there does not decide what is tested
    monkeypatch.setattr(dual_cd_module, "stalled", lambda *args: True)
    params = dict(loss="hinge", C=10.0, fit_intercept=False, tol=1e-6, random_state=0)
    HingeClassifier(**params).fit(X, y)
    assert len(computed) == 1
    X.data[:] = np.random.default_rng(1).uniform(0.5, 2.0, size=X.nnz)
    shapes.clear()
    changed = HingeClassifier(**params).fit(X, y)
    assert len(computed) == 2  # the kept basis was refused and replaced
    assert shapes and all(shape[1] == 120 for shape in shapes)  # full rank now
    fresh = HingeClassifier(**params).fit(X.copy(), y)
    assert changed.optimality_ <= 1e-6
    assert changed.objective_value_ == pytest.approx(fresh.objective_value_, rel=2e-6)


def test_a_basis_that_leaves_the_rows_is_not_computed_again(monkeypatch):
    # a feature at 1e-7 of the others falls below RANK_TOL: the basis drops
    # it, the rows leave its span and the steps run in all the coordinates;
    # that verdict is kept for the data (a path over 5 values of C computed
    # it 6 times, refused 10 of 10)
    import hinge_estimators.solvers._dual_cd as dual_cd_module
    from hinge_estimators.model_selection import hinge_path

    X, y = _one_hot_duplicates(600, 30, seed=0)
    tiny = np.random.default_rng(0).uniform(0.0, 1e-7, size=(600, 1))
    X = sp.csr_matrix(sp.hstack([X, sp.csr_matrix(tiny)]))
    computed = _computed_bases(monkeypatch)
    shapes = _solved_shapes(monkeypatch)
    monkeypatch.setattr(dual_cd_module, "stalled", lambda *args: True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        hinge_path(
            X, y, [3.0, 10.0, 30.0], loss="hinge", fit_intercept=False,
            random_state=0,
        )  # fmt: skip
    assert shapes and all(shape[1] == 121 for shape in shapes)
    assert len(computed) <= 1
