"""Fuzz suite: every registered (loss, solver) pair on unusual inputs.

Random shapes, scales over 1e-150..1e150 (and a few beyond), features
shifted by large constants, sparse formats (CSR, CSC, COO, LIL, DOK, BSR,
sparse arrays, duplicate entries, unsorted or int64 indices, explicit zeros,
empty rows), memory layouts (Fortran, strided, negative strides, read-only,
``np.memmap``, float32, ints, lists), sample and class weights (zeros, tiny,
huge, mixed) and label types (ints, +-1, floats, strings, bools, mixed). The
outcome of every fit must be a clear ``ValueError``/``TypeError``, or a finite
model, inputs unchanged, whose objective and certificate hold when recomputed
independently (see tests/_fuzz_inputs.py, which holds the cases and the
oracle). Configurations that may kill the interpreter run in a child process.

The default run is small and reproducible (derandomized). More examples::

    HINGE_FUZZ_EXAMPLES=500 python -m pytest -q tests/test_fuzz.py
    HINGE_FUZZ_RANDOM=1 HINGE_FUZZ_SHRINK=1 python -m pytest -q tests/test_fuzz.py

``HINGE_FUZZ_EXAMPLES`` is the number of examples per category (default 25),
``HINGE_FUZZ_RANDOM=1`` draws new examples on each run and
``HINGE_FUZZ_SHRINK=1`` lets hypothesis shrink a failure (slow: every step is
a fit). ``python tests/fuzz_summary.py --examples 500`` counts the outcomes
per category instead of stopping at the first failure.
"""

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from ._fuzz_inputs import (
    CATEGORIES,
    cleanup_memmaps,
    risky_cases,
    run_case,
    run_isolated,
)

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


def _check(case):
    try:
        outcome = run_case(case)
    finally:
        cleanup_memmaps()
    assert outcome.ok, (
        f"{outcome.kind}: {outcome.detail}\nreproducer:\n"
        f"  from tests._fuzz_inputs import Case, run_case\n  run_case({case!r})"
    )


@FUZZ
@given(CATEGORIES["pairs"]())
def test_fuzz_every_pair(case):
    _check(case)


@FUZZ
@given(CATEGORIES["scales"]())
def test_fuzz_scales(case):
    _check(case)


@FUZZ
@given(CATEGORIES["offsets"]())
def test_fuzz_offsets(case):
    _check(case)


@FUZZ
@given(CATEGORIES["sparse"]())
def test_fuzz_sparse_formats(case):
    _check(case)


@FUZZ
@given(CATEGORIES["layouts"]())
def test_fuzz_memory_layouts(case):
    _check(case)


@FUZZ
@given(CATEGORIES["weights"]())
def test_fuzz_weights(case):
    _check(case)


@FUZZ
@given(CATEGORIES["labels"]())
def test_fuzz_labels(case):
    _check(case)


def test_every_category_is_tested():
    # a category added to _fuzz_inputs.CATEGORIES needs its test above
    tested = {"pairs", "scales", "offsets", "sparse", "layouts", "weights", "labels"}
    assert set(CATEGORIES) == tested


@pytest.mark.parametrize("part", range(2))
def test_fuzz_risky_configurations_in_subprocess(part):
    # absurd sizes and extreme values, in a child process so that a crash
    # (heap corruption, abort) is reported instead of ending pytest
    cases = risky_cases()[part::2]
    outcomes = run_isolated(cases)
    bad = [(c, o) for c, o in zip(cases, outcomes, strict=True) if not o.ok]
    assert not bad, "\n".join(
        f"{o.kind}: {o.detail}\n  run_case({c!r})" for c, o in bad
    )
