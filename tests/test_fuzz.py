"""Fuzz suite: every registered (loss, solver) pair on unusual inputs.

Random shapes, scales over 1e-150..1e150 (and a few beyond), features
shifted by large constants, sparse formats (CSR, CSC, COO, LIL, DOK, BSR,
sparse arrays, duplicate entries, unsorted or int64 indices, explicit zeros,
empty rows), memory layouts (Fortran, strided, negative strides, read-only,
``np.memmap``, float32, ints, lists), sample and class weights (zeros, tiny,
huge, mixed; NaN, inf, negative, complex or short ones must be refused),
label types (ints, +-1, floats, strings, bools, lists; mixed types and NaN
must be refused) and warm starts after a change of data or parameters. The
outcome of every fit must be a clear ``ValueError``/``TypeError``, or a finite
model, inputs unchanged, whose objective and certificate hold when recomputed
independently (tests/_fuzz_inputs.py holds the cases, tests/_fuzz_oracle.py
the judge). Configurations that may kill the interpreter run in a child
process.

The default run is small and reproducible (derandomized). More examples::

    HINGE_FUZZ_EXAMPLES=500 python -m pytest -q tests/test_fuzz.py
    HINGE_FUZZ_RANDOM=1 HINGE_FUZZ_SHRINK=1 python -m pytest -q tests/test_fuzz.py

``HINGE_FUZZ_EXAMPLES`` is the number of examples per category (default 25),
``HINGE_FUZZ_RANDOM=1`` draws new examples on each run and
``HINGE_FUZZ_SHRINK=1`` lets hypothesis shrink a failure (slow: every step is
a fit). ``python tests/fuzz_summary.py --examples 500`` counts the outcomes
per category instead of stopping at the first failure.
"""

import dataclasses
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hinge_estimators import HingeClassifier

from ._fuzz_inputs import CATEGORIES, Case, cleanup_memmaps, risky_cases
from ._fuzz_oracle import REFERENCE_TOL, primal_objective, run_case, run_isolated

EXAMPLES = int(os.environ.get("HINGE_FUZZ_EXAMPLES", "25"))
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
if os.environ.get("HINGE_FUZZ_SHRINK") == "1":
    _PHASES.append(Phase.shrink)

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=os.environ.get("HINGE_FUZZ_RANDOM") != "1",
    database=None,
    deadline=None,
    phases=_PHASES,
    suppress_health_check=list(HealthCheck),
)


#: tests/fuzz_summary.py sets this: outcomes are appended to the file (one
#: JSON line each) instead of asserted, so that it counts the very cases
#: the tests draw
RECORD = os.environ.get("HINGE_FUZZ_RECORD")


def _record(category, case, outcome):
    with open(RECORD, "a") as fh:
        line = {"category": category, "case": repr(case)}
        fh.write(json.dumps({**line, **dataclasses.asdict(outcome)}) + "\n")


def _check(category, case):
    try:
        outcome = run_case(case)
    finally:
        cleanup_memmaps()
    if RECORD:
        _record(category, case, outcome)
        return
    assert outcome.ok, (
        f"{outcome.kind}: {outcome.detail}\nreproducer:\n"
        "  from tests._fuzz_inputs import Case\n"
        "  from tests._fuzz_oracle import run_case\n"
        f"  run_case({case!r})"
    )


@pytest.mark.parametrize("category", sorted(CATEGORIES))
@FUZZ
@given(data=st.data())
def test_fuzz(category, data):
    _check(category, data.draw(CATEGORIES[category](), label="case"))


def test_fuzz_risky_configurations_in_subprocess():
    # absurd sizes and extreme values, in a child process so that a crash
    # (heap corruption, abort) is reported instead of ending pytest
    cases = risky_cases()
    outcomes = run_isolated(cases)
    if RECORD:
        for case, outcome in zip(cases, outcomes, strict=True):
            _record("risky", case, outcome)
        return
    bad = [(c, o) for c, o in zip(cases, outcomes, strict=True) if not o.ok]
    assert not bad, "\n".join(
        f"{o.kind}: {o.detail}\n  run_case({c!r})" for c, o in bad
    )


# -- the oracle itself can fail ------------------------------------------------
def _tampered(monkeypatch, tamper):
    """Make every fit go through ``tamper(estimator, X)`` afterwards."""
    fit = HingeClassifier.fit

    def tampered_fit(self, X, y, sample_weight=None):
        fit(self, X, y, sample_weight=sample_weight)
        tamper(self, X)
        return self

    monkeypatch.setattr(HingeClassifier, "fit", tampered_fit)


PLAIN = Case(loss="hinge", solver="dual_cd", seed=3, n=30, d=3)


def test_oracle_certifies_an_ordinary_fit():
    assert run_case(PLAIN).kind == "certified"


@pytest.mark.parametrize(
    "tamper, kind",
    [
        (lambda est, X: X.__setitem__((0, 0), 1.0), "mutated_input"),
        (lambda est, X: est.coef_.__setitem__((0, 0), np.nan), "nonfinite_model"),
        (
            lambda est, X: setattr(
                est, "objective_value_", est.objective_value_ * 1.01
            ),
            "objective_mismatch",
        ),
        (lambda est, X: setattr(est, "classes_", est.classes_[::-1]), "bad_labels"),
    ],
)
def test_oracle_flags_a_tampered_fit(monkeypatch, tamper, kind):
    _tampered(monkeypatch, tamper)
    assert run_case(PLAIN).kind == kind


def test_oracle_flags_an_understated_certificate(monkeypatch):
    # halve the model, report its true objective, and claim optimality_ = 0
    def tamper(est, X):
        if est.tol == REFERENCE_TOL:
            return  # the oracle's reference fits stay honest
        est.coef_ = est.coef_ * 0.5
        _, codes, _, X = PLAIN.build()  # integer labels: y is the codes
        s = np.ones(len(codes))
        est.objective_value_ = primal_objective(
            PLAIN, X, codes, s, est.coef_, est.intercept_
        )
        est.optimality_ = 0.0

    _tampered(monkeypatch, tamper)
    outcome = run_case(PLAIN)
    assert outcome.kind == "understated_optimality", outcome


@pytest.mark.parametrize(
    "error, kind",
    [
        (ZeroDivisionError("float division by zero"), "unclear_error"),
        (np.linalg.LinAlgError("Singular matrix"), "unclear_error"),
    ],
)
def test_oracle_judges_errors(monkeypatch, error, kind):
    def tamper(est, X):
        raise error

    _tampered(monkeypatch, tamper)
    assert run_case(PLAIN).kind == kind


def test_oracle_accepts_a_clear_error():
    bad = dataclasses.replace(PLAIN, est_kw=(("C", -1.0),))
    assert run_case(bad).kind == "clear_error"


def test_isolation_reports_a_crash_and_goes_on():
    crash = dataclasses.replace(PLAIN, special="abort")
    kinds = [o.kind for o in run_isolated([PLAIN, crash, PLAIN])]
    assert kinds == ["certified", "crash", "certified"]
