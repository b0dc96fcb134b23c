"""Count the fuzz suite's outcomes per category (tests/test_fuzz.py).

The tests stop at a category's first failure; this script runs every
example and tallies what happened, with reproducers for each failure kind::

    python tests/fuzz_summary.py                   # 200 examples per category
    python tests/fuzz_summary.py --examples 1000 --json fuzz.json
    python tests/fuzz_summary.py --categories scales,offsets --random

The examples are derandomized as in the tests (``--random`` draws new ones);
``risky`` runs the subprocess cases of ``risky_cases()`` once each.
"""

import argparse
import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests._fuzz_inputs import (  # noqa: E402
    CATEGORIES,
    FAILURES,
    OK,
    cleanup_memmaps,
    risky_cases,
    run_case,
    run_isolated,
)


def _record(category, examples, randomize, records):
    @settings(
        max_examples=examples,
        derandomize=not randomize,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(CATEGORIES[category]())
    def sweep(case):
        try:
            outcome = run_case(case)
        except Exception as exc:  # noqa: BLE001 - a bug of the oracle, counted
            outcome = type("O", (), {"kind": "oracle_error", "detail": repr(exc)})()
        finally:
            cleanup_memmaps()
        records.append((case, outcome))

    sweep()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--categories", default=",".join([*CATEGORIES, "risky"]))
    parser.add_argument("--random", action="store_true")
    parser.add_argument("--json", default=None, help="write every outcome here")
    parser.add_argument("--reproducers", type=int, default=2)
    args = parser.parse_args(argv)
    columns = [*OK, *FAILURES, "oracle_error"]
    table, distinct, examples = {}, {}, collections.defaultdict(list)
    dump = []
    for category in args.categories.split(","):
        records, start = [], time.perf_counter()
        if category == "risky":
            cases = risky_cases()
            records = list(zip(cases, run_isolated(cases), strict=True))
        else:
            _record(category, args.examples, args.random, records)
        counts = collections.Counter(o.kind for _, o in records)
        table[category] = counts
        distinct[category] = len({repr(case) for case, _ in records})
        for case, outcome in records:
            dump.append(
                {
                    "category": category,
                    "kind": outcome.kind,
                    "detail": outcome.detail,
                    "case": repr(case),
                }
            )
            if outcome.kind in OK:
                continue
            found = examples[(category, outcome.kind)]
            if all(repr(case) != repr(c) for c, _ in found):
                found.append((case, outcome))
        print(
            f"# {category}: {len(records)} cases in "
            f"{time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
    used = [c for c in columns if any(t[c] for t in table.values())]
    # hypothesis may draw the same case twice: "distinct" counts each once
    print("| category | tried | distinct | " + " | ".join(used) + " |")
    print("| --- | ---: | ---: |" + " ---: |" * len(used))
    total, total_distinct = collections.Counter(), 0
    for category, counts in table.items():
        total.update(counts)
        total_distinct += distinct[category]
        cells = [sum(counts.values()), distinct[category], *(counts[c] for c in used)]
        print(f"| {category} | " + " | ".join(map(str, cells)) + " |")
    cells = [sum(total.values()), total_distinct, *(total[c] for c in used)]
    print("| total | " + " | ".join(map(str, cells)) + " |")
    print()
    for (category, kind), found in sorted(examples.items()):
        print(f"## {category} / {kind}: {table[category][kind]}")
        for case, outcome in found[: args.reproducers]:
            print(f"- {outcome.detail}\n  run_case({case!r})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dump, fh, indent=1)
    failed = sum(total[k] for k in total if k not in OK)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
