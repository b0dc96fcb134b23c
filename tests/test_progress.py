"""Progress reports: ``verbose`` lines, the solver callback, sklearn.callback."""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import Hinge, SquaredHinge
from hinge_estimators.solvers import SOLVERS, GradientDescent, Progress

from ._problems import make_objective

X, Y = make_classification(300, 8, n_informative=5, random_state=0)
X3, Y3 = make_classification(
    300, 8, n_informative=5, n_classes=3, n_clusters_per_class=1, random_state=0
)

ITER_LINE = re.compile(
    r"^\[HingeClassifier\] iter +(\d+)  objective (\S+)  (.+) (\S+)  time (\S+)s$"
)
CERTIFICATES = {
    # dual_cd's primal finish (Newton steps) reports between its gap checks
    "dual_cd": ("relative duality gap", "relative Newton decrement (primal finish)"),
    "newton": ("relative Newton decrement",),
    "lbfgs": ("relative gradient norm",),
    "gd": ("relative gradient norm",),
    "sgd": ("relative improvement",),
    "fc_boosting": ("relative suboptimality bound",),
    "primal_cd": ("relative duality gap",),
}


def _fit_quietly(clf, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


@pytest.mark.parametrize(
    "loss, solver",
    [
        ("hinge", "dual_cd"),
        ("squared_hinge", "newton"),
        ("squared_hinge", "lbfgs"),
        ("hinge", "gd"),
        ("squared_hinge", "gd"),
        ("hinge", "sgd"),
        ("squared_hinge", "fc_boosting"),
    ],
)
def test_verbose_prints_primal_certificate_and_time(capsys, loss, solver):
    clf = _fit_quietly(HingeClassifier(loss, solver, C=10.0, verbose=1), X, Y)
    lines = capsys.readouterr().out.strip().splitlines()
    optimum = HingeClassifier(loss, "auto", C=10.0, tol=1e-10).fit(X, Y)
    iterations = [ITER_LINE.match(line) for line in lines[:-1]]
    assert iterations and all(iterations), lines  # even a short newton fit
    assert lines[-1].startswith("[HingeClassifier] done")
    assert f"optimality_ {clf.optimality_:.3e}" in lines[-1]
    for match in iterations:
        assert any(name in match.group(3) for name in CERTIFICATES[solver])
        float(match.group(4)), float(match.group(5))
        # the primal objective at an iterate: never below the optimum (a
        # dual-side value, which dual_cd printed before, lies below it)
        assert float(match.group(2)) >= optimum.objective_value_ * (1 - 1e-9)
    counts = [int(m.group(1)) for m in iterations]
    assert counts == sorted(counts)


def test_dual_cd_reports_never_go_back_in_passes(capsys):
    # the primal finish reports fractions of a pass (its meter) between the
    # certificates: one rounding for every report, or a certificate rounded
    # up came before a Newton step rounded down (416, then 415; it depended
    # on the random pass order, so several seeds)
    for seed in range(8):
        clf = HingeClassifier("hinge", "dual_cd", C=10.0, random_state=seed)
        _fit_quietly(clf.set_params(verbose=1), X, Y)
        lines = capsys.readouterr().out.strip().splitlines()[:-1]
        counts = [int(ITER_LINE.match(line).group(1)) for line in lines]
        assert counts == sorted(counts), seed


def test_verbose_one_prints_a_bounded_number_of_lines(capsys):
    # the subgradient method with a tol it never meets runs all 1000 iterations
    clf = HingeClassifier(
        "hinge", GradientDescent(method="subgradient"), penalty=None,
        tol=1e-300, max_iter=1000, verbose=1,
    )  # fmt: skip
    _fit_quietly(clf, X, Y)
    assert clf.n_iter_ == 1000
    lines = capsys.readouterr().out.strip().splitlines()
    assert 15 <= len(lines) <= 25
    assert "iter   1000" in lines[-2]


def test_verbose_two_prints_every_iteration(capsys):
    clf = _fit_quietly(HingeClassifier(solver="lbfgs", verbose=2), X, Y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == clf.n_iter_ + 1


@pytest.mark.parametrize(
    "loss, solver",
    [("squared_hinge", "primal_cd"), ("squared_hinge", "gd"), ("hinge", "gd")],
)
def test_verbose_with_l1_prints_the_true_objective_and_gap(capsys, loss, solver):
    # the proximal and coordinate solvers: the primal P (never a smoothed
    # stage's value, which lies below P*) and the duality gap, in order
    params = dict(penalty="l1", C=0.5, max_iter=300)
    clf = _fit_quietly(HingeClassifier(loss, solver, verbose=2, **params), X, Y)
    lines = capsys.readouterr().out.strip().splitlines()
    optimum = HingeClassifier(loss, "gd", penalty="l1", C=0.5, tol=1e-8)
    optimum = _fit_quietly(optimum.set_params(max_iter=20_000), X, Y)
    iterations = [ITER_LINE.match(line) for line in lines[:-1]]
    assert iterations and all(iterations), lines
    assert lines[-1].startswith("[HingeClassifier] done")
    for match in iterations:
        assert "duality gap" in match.group(3)
        assert float(match.group(2)) >= optimum.objective_value_ * (1 - 1e-6)
    counts = [int(m.group(1)) for m in iterations]
    assert counts == sorted(counts)
    assert clf.optimality_ >= 0


@pytest.mark.parametrize("name", ["newton", "lbfgs", "gd", "fc_boosting", "sgd"])
def test_callback_with_three_arguments_gets_progress_records(name):
    objective = make_objective(SquaredHinge(), seed=3, C=10.0)
    records = []
    result = SOLVERS[name]().solve(
        objective, tol=1e-8, max_iter=50, rng=np.random.default_rng(0),
        # a record's lazy parts are read during the call (the contract)
        callback=lambda k, v, p: records.append((k, v, p, p.coef)),
    )  # fmt: skip
    assert records
    for k, v, progress, coef in records:
        assert isinstance(progress, Progress)
        assert progress.n_iter == k and progress.value == v and progress.measure
        if coef is not None and progress.objective.size == objective.size:
            # the reported value is P at the reported coefficients
            coef = progress.objective.uncenter_coef(coef)
            assert objective.value(coef) == pytest.approx(v, rel=1e-9)
    assert records[-1][0] <= result.n_iter


def test_dual_cd_callback_reports_primal_and_gap():
    objective = make_objective(Hinge(), seed=2, C=10.0)
    records = []
    result = SOLVERS["dual_cd"]().solve(
        objective, tol=1e-6, max_iter=1000, rng=np.random.default_rng(0),
        callback=lambda k, v, p: records.append((p, p.value, p.coef)),
    )  # fmt: skip
    for progress, value, coef in records:
        assert progress.measure in CERTIFICATES["dual_cd"]
        assert value >= result.value * (1 - 1e-9)
        assert objective.value(coef) == pytest.approx(value)
    gaps = [p for p, _, _ in records if p.measure == "relative duality gap"]
    assert gaps[-1].optimality <= 1e-6


# -- sklearn.callback ------------------------------------------------------------
callback_module = pytest.importorskip(
    "sklearn.callback",
    reason="scikit-learn < 1.9 has no sklearn.callback: HingeClassifier then "
    "offers no set_callbacks, and there is nothing to test",
)


class Recorder:
    """A FitCallback that records the tasks it sees."""

    def __init__(self):
        self.events = []

    def setup(self, estimator, context):
        self.events.append("setup")

    def teardown(self, estimator, context):
        self.events.append("teardown")

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context):
        self.events.append(("end", context.task_name))


@pytest.mark.parametrize("solver", ["dual_cd", "newton"])
def test_sklearn_callbacks_see_one_task_per_iteration(solver):
    recorder = Recorder()
    clf = HingeClassifier("squared_hinge", solver, C=10.0).set_callbacks(recorder)
    clf.fit(X, Y)
    events = recorder.events
    assert events[0] == "setup" and events[-1] == "teardown"
    assert events[1] == ("begin", "fit") and events[-2] == ("end", "fit")
    assert events[2:-2].count(("begin", "iteration")) == clf.n_iter_
    assert events[2:-2].count(("end", "iteration")) == clf.n_iter_


@pytest.mark.parametrize("solver, X_, y_", [("lbfgs", X, Y), ("dual_cd", X3, Y3)])
def test_scoring_monitor_scores_the_iterates(solver, X_, y_):
    monitor = callback_module.ScoringMonitor(scoring="accuracy")
    loss = "crammer_singer" if len(np.unique(y_)) > 2 else "squared_hinge"
    clf = HingeClassifier(loss, solver, C=10.0).set_callbacks(monitor)
    _fit_quietly(clf, X_, y_)
    rows = monitor.get_logs().data
    iterations = [r for r in rows if r["task_name"] == "iteration"]
    (fit_row,) = [r for r in rows if r["task_name"] == "fit"]
    assert len(iterations) >= 2
    assert fit_row["accuracy"] == clf.score(X_, y_)
    # the iterates' models differ from the final one early on and reach it
    assert iterations[0]["accuracy"] != pytest.approx(iterations[-1]["accuracy"]) or (
        len({r["accuracy"] for r in iterations}) == 1
    )
    assert iterations[-1]["accuracy"] == pytest.approx(clf.score(X_, y_), abs=0.02)


def test_progress_bar_runs_over_the_iterations():
    pytest.importorskip("rich", reason="ProgressBar needs rich, not installed")
    clf = HingeClassifier(solver="newton").set_callbacks(callback_module.ProgressBar())
    clf.fit(X, Y)
    assert hasattr(clf, "coef_")


def test_no_callbacks_no_context():
    clf = HingeClassifier().fit(X, Y)
    assert not hasattr(clf, "_callback_fit_ctx")
