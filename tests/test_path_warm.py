"""dual_cd along a path: what a point hands the next one, and what stays exact.

A warm state from ``hinge_path`` (``along_path``) resumes the previous
point's exact sets (one active-set solve) or its primal finish (its
smoothing, its primal point); either way the point is certified as a cold
solve would be. The references are the slack-variable QP of ``tests/_qp``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hinge_estimators.solvers._dual_cd as dual_cd_module
from hinge_estimators.losses import Hinge, SquaredHinge
from hinge_estimators.model_selection._walk import _scaled_state
from hinge_estimators.solvers import DualCoordinateDescent
from hinge_estimators.solvers._dual_cd_parts import _balance_binary, exact_intercept

from ._problems import make_objective, naive_value, one_hot_rows
from ._qp import solve_qp


def _solve(objective, tol, warm_state=None):
    return DualCoordinateDescent().solve(
        objective,
        tol=tol,
        max_iter=100_000,
        rng=np.random.default_rng(0),
        warm_state=warm_state,
    )


def _spy(monkeypatch):
    """Record the order of kernel calls, polishes and finishes (with their mu)."""
    events = []

    def record(name, function):
        def wrapped(*args, **kwargs):
            events.append((name, kwargs.get("mu")))
            return function(*args, **kwargs)

        monkeypatch.setattr(dual_cd_module, name, wrapped)

    record("binary_dual_cd", dual_cd_module.binary_dual_cd)
    record("dual_polish", dual_cd_module.dual_polish)
    record("primal_finish", dual_cd_module.primal_finish)
    return events


def _check_optimum(objective, result, tol):
    assert result.converged
    assert result.optimality <= tol
    assert result.value == pytest.approx(naive_value(objective, result.coef), rel=1e-12)
    reference = solve_qp(objective)[0]  # SLSQP: accurate to about 1e-8
    assert (result.value - reference) / result.value <= tol + 1e-7


@pytest.mark.parametrize("sparse", [False, True])
def test_path_point_resumes_the_finish_that_certified_the_last(sparse, monkeypatch):
    # the finish certifies the first C (forced: dual CD "stalls" at once);
    # the next C starts with the finish, at WARM_FINISH_MU times its last
    # smoothing and from its primal point, before any pass of dual CD
    monkeypatch.setattr(dual_cd_module, "stalled", lambda *args: True)
    objective = make_objective(Hinge(), seed=2, n=40, d=4, sparse=sparse, C=2.0)
    first = _solve(objective, tol=1e-6)
    mu = first.state[0]["finish_mu"]
    assert first.converged and mu is not None and mu > 0
    state = _scaled_state(first.state, 2.0)
    state[0]["exact_sets"] = False  # the finish's route, not the polish's
    events = _spy(monkeypatch)
    following = objective.with_C(4.0)
    result = _solve(following, tol=1e-6, warm_state=state)
    assert events[0] == ("primal_finish", dual_cd_module.WARM_FINISH_MU * mu)
    _check_optimum(following, result, 1e-6)


@pytest.mark.parametrize("loss", [Hinge(), SquaredHinge()], ids=repr)
def test_a_state_without_along_path_starts_as_before(loss, monkeypatch):
    # HingeClassifier's own warm starts carry the same state without the
    # path's flag: no finish or polish before dual CD's first pass
    monkeypatch.setattr(dual_cd_module, "stalled", lambda *args: True)
    objective = make_objective(loss, seed=2, n=40, d=4, C=2.0)
    first = _solve(objective, tol=1e-6)
    state = [{**column, "alpha": column["alpha"] * 2.0} for column in first.state]
    events = _spy(monkeypatch)
    _solve(objective.with_C(4.0), tol=1e-6, warm_state=state)
    assert events[0] == ("binary_dual_cd", None)


@pytest.mark.parametrize("weighted", [False, True])
def test_exact_sets_certify_a_nearby_C_without_a_pass(weighted, monkeypatch):
    # between two breakpoints of the hinge's path the optimal sets do not
    # change: the previous point's sets, solved at the new C, are exact
    objective = make_objective(Hinge(), seed=0, n=40, d=4, weighted=weighted, C=1.0)
    first = _solve(objective, tol=1e-12)
    state = _scaled_state(first.state, 1.001)
    state[0]["exact_sets"] = True  # as a polish-certified point leaves it
    events = _spy(monkeypatch)
    following = objective.with_C(1.001)
    result = _solve(following, tol=1e-8, warm_state=state)
    assert [name for name, _ in events] == ["dual_polish"]
    assert result.optimality <= 1e-10  # exact up to rounding
    _check_optimum(following, result, 1e-8)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=2, max_size=30),
    st.integers(0, 2**32 - 1),
)
def test_exact_intercept_minimizes_whatever_the_order_of_ties(scores, seed):
    # integer scores make many breakpoints tie; the minimizer is checked
    # against the objective at every breakpoint (the optimum is at one)
    rng = np.random.default_rng(seed)
    z = np.asarray(scores, dtype=float)
    y = np.where(rng.random(z.size) < 0.5, -1.0, 1.0)
    y[:2] = [-1.0, 1.0]
    c = rng.choice([0.5, 1.0, 2.0], size=z.size)
    form = Hinge().dual_form()

    def risk(b):
        return float(c @ np.maximum(0.0, 1.0 - y * (z + b)))

    b = exact_intercept(form, y, z, c, b0=0.0)
    best = min(risk(t) for t in y * 1.0 - z)
    assert risk(b) <= best + 1e-12 * max(1.0, best)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 5.0), min_size=1, max_size=20),
    st.integers(0, 2**32 - 1),
)
def test_balancing_scales_the_heavier_side_onto_the_constraint(alpha, seed):
    alpha = np.asarray(alpha)
    y = np.where(np.random.default_rng(seed).random(alpha.size) < 0.5, -1.0, 1.0)
    out = _balance_binary(alpha, y)
    assert np.all(out >= 0.0) and np.all(out <= alpha * (1 + 1e-15))
    scale = max(1.0, float(alpha.sum()))
    assert abs(float(out @ y)) <= 1e-12 * scale
    pos, neg = alpha[y > 0].sum(), alpha[y < 0].sum()
    lighter = (y < 0) if pos >= neg else (y > 0)
    np.testing.assert_array_equal(out[lighter], alpha[lighter])


def _solve_with_resumed_finish(monkeypatch, resumed_finish):
    """The next C of a path whose previous point the finish certified (last
    cold solve: 100 passes), with ``resumed_finish(budget)`` standing in for
    the resumed finish; ``(objective, result)``."""
    monkeypatch.setattr(dual_cd_module, "stalled", lambda *args: True)
    objective = make_objective(Hinge(), seed=2, n=40, d=4, C=2.0)
    first = _solve(objective, tol=1e-6)
    state = _scaled_state(first.state, 2.0)
    state[0].update(exact_sets=False, cold_passes=100)
    finish = dual_cd_module.primal_finish

    def finish_or_stand_in(*args, mu=None):
        return finish(*args) if mu is None else resumed_finish(args[-1])

    monkeypatch.setattr(dual_cd_module, "primal_finish", finish_or_stand_in)
    following = objective.with_C(4.0)
    result = DualCoordinateDescent().solve(
        following, tol=1e-6, max_iter=200, rng=np.random.default_rng(0),
        warm_state=state,
    )  # fmt: skip
    return following, result


def test_a_resumed_finish_that_fails_is_dropped_and_the_solve_goes_on(monkeypatch):
    # a resumed finish that does not certify costs its passes once: the
    # column is then solved as a cold one (all of max_iter left) and the
    # path's next point does not resume the finish again
    from hinge_estimators.solvers._dual_cd_parts import path_resume

    budgets = []

    def failing(budget):
        budgets.append(budget)
        return None, None, budget  # spent its whole budget, found nothing

    following, result = _solve_with_resumed_finish(monkeypatch, failing)
    # the hinge with few coefficients (the interior point's finish) may
    # spend the last cold solve's whole finish share; other finishes half
    expected = int(dual_cd_module.FINISH_SHARE * 100)
    assert budgets == [expected]
    _check_optimum(following, result, 1e-6)
    assert result.state[0]["finish_off"]
    assert path_resume({**result.state[0], "along_path": True})["finish"] is None


def test_a_resumed_finish_that_could_not_start_keeps_the_route(monkeypatch):
    # a resumed finish that spends nothing (the interior point does not fit
    # its budget) is no verdict on the route: the next point may resume it
    # (splice as CSR: once switched off, every later point of the path ran
    # dual CD to its stall again, 550-900 passes each)
    def unaffordable(budget):
        return None, None, 0  # nothing spent

    following, result = _solve_with_resumed_finish(monkeypatch, unaffordable)
    _check_optimum(following, result, 1e-6)
    assert not result.state[0]["finish_off"]


def test_dual_polish_never_solves_more_margin_samples_than_coefficients(monkeypatch):
    # the polish's rounds may move samples onto the margin; with more of
    # them than coefficients every round is a failing least-squares solve
    # (one polish on splice took 4.9 s): dual_polish caps every round's set
    import hinge_estimators.solvers._dual_cd_finish as finish_module

    caps = []
    polish = finish_module.polish

    def spy(*args, **kwargs):
        caps.append(kwargs["max_kink"])
        return polish(*args, **kwargs)

    monkeypatch.setattr(finish_module, "polish", spy)
    # the polish tried at every check, whatever the multipliers look like
    monkeypatch.setattr(dual_cd_module, "_polish_worth", lambda *args: True)
    objective = make_objective(Hinge(), seed=2, n=60, d=3, C=10.0)
    result = _solve(objective, tol=1e-8)
    assert result.converged
    assert caps and max(caps) <= objective.n_features + 1


def _one_hot_scores(n, positions, levels, noise, seed, sparse_rule=False):
    """One-hot rows (CSR, ``positions`` categories of ``levels`` levels: each
    block of indicators sums to 1, rank ``positions * (levels - 1) + 1``)
    and scores from a random rule (a fifth of it non-zero where
    ``sparse_rule``, as ``benchmarks/bench_hard_hinge.py``) plus ``noise``;
    ``(X, score)``."""
    rng = np.random.default_rng(seed)
    X = one_hot_rows(rng.integers(levels, size=(n, positions)), levels)
    rule = rng.normal(size=positions * levels)
    if sparse_rule:
        rule *= rng.random(positions * levels) < 0.2
    return X, X @ rule + noise * rng.normal(size=n)


def _one_hot_objective(C):
    """A hinge objective on one-hot rows (60 categories of 2 levels): the
    120 columns have rank 61 and the interior point solves in a basis of
    the rows (``row_basis``)."""
    from hinge_estimators import LinearObjective
    from hinge_estimators._targets import TargetEncoding

    X, score = _one_hot_scores(300, 60, 2, noise=3.0, seed=0)
    labels = (score > np.median(score)).astype(int)
    encoding = TargetEncoding(np.arange(2), False)
    return LinearObjective(Hinge(), X, encoding.encode(labels), n_outputs=1, C=C)


def test_a_resumed_finish_is_priced_in_the_basis_its_solve_runs_in(monkeypatch):
    # a path's resumed finish runs the interior point only where it can
    # afford it; its steps run in the coordinates of the rows' basis kept
    # for the data, so that is the price to compare with the budget (priced
    # at the full size, splice as CSR's large-C points spent nothing there
    # and ran dual CD to its stall, 100-250 passes each, and a one-hot set's
    # path ended a point at max_iter)
    import hinge_estimators.solvers._dual_cd_finish as finish_module

    monkeypatch.setattr(dual_cd_module, "stalled", lambda *args: True)
    monkeypatch.setattr(finish_module, "_row_bases", {})
    objective = _one_hot_objective(C=4.0)
    first = _solve(objective, tol=1e-6)  # certified by the finish
    assert first.converged and first.state[0]["finish_mu"] is not None
    # the basis the finish's interior point kept for these rows (centered:
    # the intercept is free)
    (kept,) = finish_module._row_bases.values()
    width = kept[1].shape[1]
    assert kept[0]() is objective.X and width < objective.n_features

    plans = []
    plan = finish_module._interior_point_plan

    def recorded(*args):
        plans.append(plan(*args))
        return plans[-1]

    monkeypatch.setattr(finish_module, "_interior_point_plan", recorded)
    resumed = []
    primal_finish = dual_cd_module.primal_finish

    def spied(*args, mu=None):
        out = primal_finish(*args, mu=mu)
        if mu is not None:
            resumed.append(out)
        return out

    monkeypatch.setattr(dual_cd_module, "primal_finish", spied)
    following = objective.with_C(8.0)

    def solve_resumed(cold_passes):
        state = _scaled_state(first.state, 2.0)
        state[0].update(exact_sets=False, cold_passes=cold_passes)
        plans.clear()
        resumed.clear()
        return _solve(following, tol=1e-6, warm_state=state)

    # the resumed finish's working set and its price at the full size...
    solve_resumed(cold_passes=10**6)
    first_plan = plans[0]
    n_rows = int(first_plan["sets"][0].sum())
    in_basis = finish_module.IPM_STEPS * finish_module._step_cost(
        first_plan, n_rows, width
    )
    assert in_basis < 0.8 * first_plan["cost"]
    # ... and a budget between the basis's price and the full size's
    budget = 0.5 * (in_basis + first_plan["cost"])
    result = solve_resumed(cold_passes=budget / dual_cd_module.FINISH_SHARE)
    cert, _, spent = resumed[0]
    assert spent > 0 and cert is not None
    assert cert["gap"] <= 1e-6 * cert["primal"]
    _check_optimum(following, result, 1e-6)


def test_the_rows_basis_leaves_no_trace_in_the_answer(monkeypatch):
    # the interior point's basis of the rows is computed once per data and
    # shared (the one-vs-rest columns, a path's points), but a column is
    # charged for it unless an earlier point of the same path paid: the
    # budget's choices, and so the answer, do not depend on the order the
    # columns ran in (n_jobs) or on fits made before on the same data. With
    # the first column charged alone, n_jobs=2 gave coefficients 1.3e-4
    # from n_jobs=1, and a second fit on the same X other passes
    import hinge_estimators.solvers._dual_cd_finish as finish_module
    from hinge_estimators import HingeClassifier, hinge_path

    monkeypatch.setattr(finish_module, "_row_bases", {})
    X, score = _one_hot_scores(500, 50, 3, noise=1.0, seed=3)
    y = np.where(score > np.median(score), np.arange(500) % 3, 0)
    params = dict(loss="hinge", solver="dual_cd", fit_intercept=False, random_state=0)
    Cs = np.logspace(-2, 3, 9)
    one = hinge_path(X, y, Cs=Cs, n_jobs=1, **params)
    two = hinge_path(X.copy(), y, Cs=Cs, n_jobs=2, **params)
    np.testing.assert_array_equal(one.n_iter, two.n_iter)
    np.testing.assert_array_equal(one.coefs, two.coefs)
    # a second fit on the same data finds its bases kept: the same answer
    first = HingeClassifier(C=Cs[-1], **params).fit(X, y)
    again = HingeClassifier(C=Cs[-1], **params).fit(X, y)
    assert first.n_iter_ == again.n_iter_
    np.testing.assert_array_equal(first.coef_, again.coef_)


@pytest.mark.parametrize("seed", [0, 6])
def test_a_stalled_point_of_a_path_prices_the_interior_point_in_its_basis(seed):
    # noise-free one-hot rows, three classes one-vs-rest, no intercept, C
    # up to 1000: a point whose column resumes nothing starts from the
    # scaled multipliers, stalls, and its finish chose between the
    # interior point first and a smoothing stage by the full size's price
    # (400-560 passes where the kept basis makes it 180): the stage took
    # the whole budget and the point ended at max_iter, 50-100 % above the
    # optimum. Over 30 such paths 12 had such a point; now 3 do
    from hinge_estimators import HingeClassifier, hinge_path

    X, score = _one_hot_scores(300, 60, 3, noise=0.0, seed=seed)
    rng = np.random.default_rng(100 + seed)
    y = np.where(score > np.median(score), rng.integers(0, 3, 300), 0)
    params = dict(loss="hinge", solver="dual_cd", fit_intercept=False, random_state=0)
    Cs = np.logspace(-1, 3, 7)
    path = hinge_path(X, y, Cs=Cs, **params)
    assert path.converged.all() and np.all(path.optimality <= 1e-4)
    tight = HingeClassifier(C=Cs[-1], tol=1e-8, max_iter=20_000, **params).fit(X, y)
    assert tight.optimality_ <= 1e-8
    excess = (
        path.objective_values[-1] - tight.objective_value_
    ) / tight.objective_value_
    assert -1e-8 <= excess <= path.optimality[-1] + 1e-8


@pytest.mark.parametrize("case", ["one_hot_path", "sparse_counts"])
def test_on_small_data_the_finish_keeps_its_share_of_max_iter(case):
    # a pass over small data costs microseconds and a step of the interior
    # point hundreds of passes: the finish, given 90 % of what dual CD left
    # of max_iter, could not afford it after a long stall, and the fit (or
    # a path's point) ended at max_iter. Where max_iter passes cost less
    # than SMALL_DATA_WORK, it gets 90 % of max_iter whatever dual CD spent
    import scipy.sparse as sp

    from hinge_estimators import HingeClassifier, hinge_path

    if case == "one_hot_path":
        # 300 x 180, noise-free, three classes: the point at C = 1000 ended
        # 50-100 % above the optimum
        X, score = _one_hot_scores(300, 60, 3, noise=0.0, seed=3)
        rng = np.random.default_rng(103)
        y = np.where(score > np.median(score), rng.integers(0, 3, 300), 0)
        params = dict(loss="hinge", solver="dual_cd", fit_intercept=False)
        path = hinge_path(X, y, Cs=np.logspace(-1, 3, 7), random_state=0, **params)
        assert path.converged.all() and np.all(path.optimality <= 1e-4)
        C, value, bound = 1000.0, path.objective_values[-1], path.optimality[-1]
    else:
        # 600 x 150 counts at 5 %, nearly separable, hinge at C = 1: ended
        # at a relative gap of 1.2e-2
        rng = np.random.default_rng(0)
        X = sp.random(
            600, 150, density=0.05, random_state=0,
            data_rvs=lambda size: rng.poisson(2, size) + 1.0,
        ).tocsr()  # fmt: skip
        score = X @ rng.normal(size=150) + 2.0 * rng.normal(size=600)
        y = (score > np.median(score)).astype(int)
        params = dict(loss="hinge")
        clf = HingeClassifier(C=1.0, random_state=0, **params).fit(X, y)
        assert clf.optimality_ <= 1e-4
        C, value, bound = 1.0, clf.objective_value_, clf.optimality_
    tight = HingeClassifier(
        C=C, tol=1e-9, max_iter=50_000, random_state=1, **params
    ).fit(X, y)
    assert tight.optimality_ <= 1e-9
    excess = (value - tight.objective_value_) / tight.objective_value_
    assert -1e-8 <= excess <= bound + 1e-8


def test_the_stage_before_the_interior_point_leaves_it_its_price():
    # a path's point at C = 10 (one-hot rows, noise-free, three classes):
    # a column resumed nothing, dual CD stalled at a relative gap of 0.9,
    # and the finish's first smoothing stage took 21 Newton steps, 610 of
    # its 900 passes; the interior point could then not be paid for and the
    # point ended at max_iter (0.44). The stage now stops where the
    # interior point's price is all that is left, and it certifies
    from hinge_estimators import HingeClassifier, hinge_path

    X, score = _one_hot_scores(300, 60, 3, noise=0.0, seed=3, sparse_rule=True)
    rng = np.random.default_rng(103)
    y = np.where(score > np.median(score), rng.integers(0, 3, 300), 0)
    params = dict(loss="hinge", solver="dual_cd", fit_intercept=False)
    Cs = np.logspace(-1, 3, 7)
    path = hinge_path(X, y, Cs=Cs, random_state=0, **params)
    assert path.converged.all() and np.all(path.optimality <= 1e-4)
    tight = HingeClassifier(
        C=Cs[3], tol=1e-9, max_iter=50_000, random_state=1, **params
    ).fit(X, y)
    assert tight.optimality_ <= 1e-9
    excess = (
        path.objective_values[3] - tight.objective_value_
    ) / tight.objective_value_
    assert -1e-8 <= excess <= path.optimality[3] + 1e-8


def test_no_column_reads_what_another_found_about_the_basis(monkeypatch):
    # one-hot rows and a column of 3e-8 on a few of them: the rows' basis
    # (its threshold drops that direction) is left by some columns' rows
    # and not by others'. A column's mark that its rows left the basis was
    # read by the columns that ran after it: with two threads the fit
    # certified or warned (2.9e-3) by their timing. The columns are run
    # here in reverse order, as a thread might
    import scipy.sparse as sp

    import hinge_estimators.solvers._dual_cd as dual_cd_module
    import hinge_estimators.solvers._dual_cd_finish as finish_module
    from hinge_estimators import HingeClassifier

    rng = np.random.default_rng(1)
    n, positions, levels = 1500, 16, 10
    codes = rng.integers(0, levels, (n, positions))
    score = (codes[:, :3] * rng.normal(size=3)).sum(axis=1) + rng.normal(size=n)
    y = np.digitize(score, np.quantile(score, [0.25, 0.5, 0.75]))
    one_hot = one_hot_rows(codes, levels)
    rng = np.random.default_rng(0)
    tiny = np.zeros(n)
    tiny[rng.choice(n, int(rng.integers(1, 40)), replace=False)] = 3.35e-8
    X = sp.hstack([one_hot, sp.csr_matrix(tiny[:, None])]).tocsr()
    params = dict(loss="hinge", solver="dual_cd", C=10.0, random_state=0)
    monkeypatch.setattr(finish_module, "_row_bases", {})
    forward = HingeClassifier(**params).fit(X, y)
    in_order = dual_cd_module.map_columns

    def reversed_order(function, items):
        items = list(items)
        done = dict(zip(items[::-1], in_order(function, items[::-1]), strict=True))
        return [done[item] for item in items]

    monkeypatch.setattr(dual_cd_module, "map_columns", reversed_order)
    monkeypatch.setattr(finish_module, "_row_bases", {})
    backward = HingeClassifier(**params).fit(X, y)
    # (whether the fit certifies depends on the BLAS kernel's rounding at
    # the basis's threshold; that it does not depend on the order is tested)
    assert forward.n_iter_ == backward.n_iter_
    assert forward.optimality_ == backward.optimality_
    np.testing.assert_array_equal(forward.coef_, backward.coef_)


def test_a_path_counts_as_paid_only_the_bases_its_own_points_computed(monkeypatch):
    # dense data without intercept keeps the caller's array, and with it
    # the key of the rows' basis: a basis an unrelated earlier fit left for
    # it counted as paid at the path's later points (n_iter 910 -> 872 and
    # coefficients 1e-4 apart at C = 0.3). A path now passes on, point to
    # point, the keys of the bases it computed
    import hinge_estimators.solvers._dual_cd_finish as finish_module
    from hinge_estimators import HingeClassifier, hinge_path

    monkeypatch.setattr(finish_module, "_row_bases", {})
    rng = np.random.default_rng(4)
    n, positions, levels, classes = 1500, 40, 4, 4
    codes = rng.integers(0, levels, (n, positions))
    X = one_hot_rows(codes, levels).toarray()
    rule = rng.normal(size=(classes, positions * levels))
    rule *= rng.random(positions * levels) < 0.2
    y = np.argmax(X @ rule.T + 0.7 * rng.gumbel(size=(n, classes)), axis=1)
    params = dict(loss="hinge", solver="dual_cd", fit_intercept=False, random_state=0)
    Cs = [0.1, 0.3, 30, 1000]
    fresh = hinge_path(X, y, Cs=Cs, **params)
    HingeClassifier(C=10.0, **params).fit(X, y)  # leaves a basis for X
    after = hinge_path(X, y, Cs=Cs, **params)
    np.testing.assert_array_equal(fresh.n_iter, after.n_iter)
    np.testing.assert_array_equal(fresh.coefs, after.coefs)


def test_a_column_s_mark_is_kept_whatever_the_threads_timing(monkeypatch):
    # two columns computing the rows' basis at once: the later one stored
    # it over the mark the first had written (its rows left the basis),
    # and a path's next point then read the basis or the mark by the
    # threads' timing (n_iter 423 against 532). The solve's bases and marks
    # are now kept once it has ended. Here the columns run one after the
    # other, the second computing the basis again as a thread would
    import hinge_estimators.solvers._dual_cd_finish as finish_module

    monkeypatch.setattr(finish_module, "_row_bases", {})
    rows = finish_module.row_basis
    computed = []

    def recomputed(*args):
        computed.append(1)
        return rows(*args)

    monkeypatch.setattr(finish_module, "row_basis", recomputed)
    objective = _one_hot_objective(C=4.0)
    setup = {"solve_bases": {}, "solve_marks": set(), "known_bases": {}}
    key = finish_module._basis_key(objective, 0.0)
    setup["solve_marks"].add(key)  # a column's rows left the basis
    plan = {"size": 121, "pass_work": 1e9}
    meter = [0.0, 1e9]
    basis, _ = finish_module._cached_row_basis(objective, 0.0, 300, plan, meter, setup)
    assert basis is not None and computed
    states = [{}]
    finish_module.publish_bases(setup, states)
    assert finish_module._row_bases[key][1] is None  # the mark, not the basis
    assert states[0]["row_bases"] == frozenset([key])


def test_known_bases_reads_any_state_s_keys():
    # a state built by hand, or by an older version, may carry no keys, None
    # or a list: none of them may stop the solve (|= on None raised)
    from hinge_estimators.solvers._dual_cd_finish import known_bases

    for keys in (None, [], [("no", None, 0.0)], frozenset()):
        assert known_bases([{"along_path": True, "row_bases": keys}]) == {}
    assert known_bases([{"along_path": True}, "not a state"]) == {}
