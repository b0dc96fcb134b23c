"""Count the fuzz suite's outcomes per category (tests/test_fuzz.py).

The tests stop at a category's first failure; this script runs them with
``HINGE_FUZZ_RECORD`` set, so that every example is fitted and its outcome
recorded instead of asserted (the very cases the tests draw), then prints
the counts and a few reproducers per failure kind::

    python tests/fuzz_summary.py                   # the tests' default run
    python tests/fuzz_summary.py --examples 500 --json fuzz.json
    python tests/fuzz_summary.py --examples 200 --random

``--examples`` is ``HINGE_FUZZ_EXAMPLES`` (examples per category) and
``--random`` sets ``HINGE_FUZZ_RANDOM=1`` (new examples each run). Each
reproducer runs with ``from tests._fuzz_inputs import Case`` and
``from tests._fuzz_oracle import run_case``. The exit status is 1 when any
case failed.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests._fuzz_oracle import FAILURES, OK  # noqa: E402

TESTS = [
    "tests/test_fuzz.py::test_fuzz",
    "tests/test_fuzz.py::test_fuzz_risky_configurations_in_subprocess",
]


def run(examples, randomize):
    """Run the fuzz tests in recording mode; return the recorded outcomes."""
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    os.close(fd)
    env = {**os.environ, "HINGE_FUZZ_RECORD": path}
    if examples is not None:
        env["HINGE_FUZZ_EXAMPLES"] = str(examples)
    if randomize:
        env["HINGE_FUZZ_RANDOM"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS]
    # pytest reports on stderr: stdout is the table
    done = subprocess.run(command, cwd=ROOT, env=env, check=False, stdout=sys.stderr)
    with open(path) as fh:
        records = [json.loads(line) for line in fh]
    os.unlink(path)
    if done.returncode != 0:
        raise SystemExit(f"the fuzz tests failed to run (exit {done.returncode})")
    return records


def table(records):
    """Markdown table: cases tried, distinct cases and outcome kinds per category."""
    by_category = collections.defaultdict(list)
    for r in records:
        by_category[r["category"]].append(r)
    columns = [k for k in (*OK, *FAILURES) if any(r["kind"] == k for r in records)]
    # hypothesis may draw the same case twice: "distinct" counts each once
    lines = [
        "| category | tried | distinct | " + " | ".join(columns) + " |",
        "| --- | ---: | ---: |" + " ---: |" * len(columns),
    ]
    for category, rows in [*sorted(by_category.items()), ("total", records)]:
        counts = collections.Counter(r["kind"] for r in rows)
        distinct = len({(r["category"], r["case"]) for r in rows})
        cells = [len(rows), distinct, *(counts[k] for k in columns)]
        lines.append(f"| {category} | " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def reproducers(records, per_kind):
    """A few distinct reproducers per (category, failure kind)."""
    found = collections.defaultdict(dict)
    for r in records:
        if r["kind"] not in OK:
            found[(r["category"], r["kind"])].setdefault(r["case"], r["detail"])
    lines = []
    for (category, kind), cases in sorted(found.items()):
        lines.append(f"## {category} / {kind}: {len(cases)} distinct")
        for case, detail in list(cases.items())[:per_kind]:
            lines.append(f"- {detail}\n  run_case({case})")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=None)
    parser.add_argument("--random", action="store_true")
    parser.add_argument("--json", default=None, help="write every outcome here")
    parser.add_argument("--reproducers", type=int, default=3)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    records = run(args.examples, args.random)
    print(f"{len(records)} cases in {time.perf_counter() - start:.0f} s\n")
    print(table(records))
    print()
    print(reproducers(records, args.reproducers))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=1)
    return 1 if any(r["kind"] not in OK for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
