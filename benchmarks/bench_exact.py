"""Exact solvers against LinearSVC: time to a relative suboptimality, and memory.

For each case a high-precision reference is computed first: our ``dual_cd``
at ``tol=1e-11``, whose duality gap gives a certified lower bound ``D <= P*``
(cross-checked against ``newton`` on the squared hinge); suboptimality is
measured against that bound, so it is never understated. Then each
solver is run over a sweep of its own ``tol`` values; the time to reach a
target relative suboptimality ``(P - D) / D <= eps`` is the fastest run that
reaches it (best of ``--repeat`` timings). Both sides solve the same problem:
``fit_intercept=False``, same ``C``, same loss; ``LinearSVC`` uses its dual
coordinate descent (``dual=True``; LIBLINEAR ``-s 3``/``-s 1``/``-s 4``).

Run (from the repository root, with OpenBLAS left at its defaults)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_exact.py

Prints one markdown table (the one committed in ``benchmarks/RESULTS.md``),
then peak memory on the sparse case and the import-time overhead.
"""

import argparse
import subprocess
import sys
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC
from time_to_target import (
    OUR_TOLS,
    SVC_TOLS,
    TARGETS,
    fmt_ratio,
    fmt_time,
    objective,
    time_to,
    timed_fit,
)

from hinge_estimators import HingeClassifier

MAX_ITER = 100_000


def dense_correlated(n, d, seed):
    """Gaussian features mixed by a random matrix (strongly correlated)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    X = Z @ (rng.normal(size=(d, d)) / np.sqrt(d)) + 0.5 * Z
    w = rng.normal(size=d)
    y = (X @ w + rng.normal(scale=2.0, size=n) > 0).astype(int)
    return X, y


def sparse_text(n, d, nnz_per_row, seed):
    """Zipf-distributed term columns, ~nnz_per_row per row, rows l2-normalized."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), nnz_per_row)
    cols = (rng.zipf(1.3, size=n * nnz_per_row) - 1) % d
    X = sp.csr_matrix((rng.random(n * nnz_per_row), (rows, cols)), shape=(n, d))
    X.sum_duplicates()
    X = normalize(X)
    w = rng.normal(size=d)
    y = (X @ w + 0.1 * rng.normal(size=n) > 0).astype(int)
    return X, y


def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def ours(solver, loss, C, tol):
    return HingeClassifier(
        loss=loss,
        solver=solver,
        C=C,
        tol=tol,
        fit_intercept=False,
        max_iter=MAX_ITER,
        random_state=0,
    )


def theirs(loss, C, tol):
    if loss == "crammer_singer":
        return LinearSVC(
            multi_class="crammer_singer",
            C=C,
            tol=tol,
            fit_intercept=False,
            max_iter=MAX_ITER,
            random_state=0,
        )
    return LinearSVC(
        loss=loss,
        C=C,
        tol=tol,
        dual=True,
        fit_intercept=False,
        max_iter=MAX_ITER,
        random_state=0,
    )


def sweep(solver, tols, X, y, C, loss, reference, repeat):
    """``[(time, relative suboptimality)]`` over the tol sweep.

    ``solver`` is one of ours, or ``None`` for LinearSVC.
    """
    runs = []
    for tol in tols:
        if solver is None:
            make = partial(theirs, loss, C, tol)
        else:
            make = partial(ours, solver, loss, C, tol)
        seconds, model = timed_fit(make, X, y, repeat)
        value = objective(X, y, model.coef_, C, loss)
        runs.append((seconds, (value - reference) / reference))
    return runs


def reference_optimum(X, y, C, loss):
    """A certified lower bound on ``P*`` and the gap it was certified with.

    Suboptimality is measured against the dual lower bound ``D <= P*`` (not
    against the reference's primal value), so that a target counts as reached
    only when it provably is.
    """
    model = ours("dual_cd", loss, C, 1e-11)
    model.set_params(max_iter=1_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    value = objective(X, y, model.coef_, C, loss)
    if loss == "squared_hinge":  # an independent second opinion
        newton = ours("newton", loss, C, 1e-12).fit(X, y)
        value = min(value, objective(X, y, newton.coef_, C, loss))
    lower = model.objective_value_ * (1.0 - model.optimality_)
    return min(lower, value), model.optimality_


def run_cases(cases, repeat):
    header = (
        "| case | loss | C | solver | "
        + " | ".join(f"ours / LinearSVC s @{t:g} (ratio)" for t in TARGETS)
        + " |"
    )
    print(header)
    print("|" + "---|" * (4 + len(TARGETS)))
    for name, (X, y), loss, C, solvers in cases:
        reference, certified = reference_optimum(X, y, C, loss)
        svc_runs = sweep(None, SVC_TOLS, X, y, C, loss, reference, repeat)
        for solver in solvers:
            our_runs = sweep(solver, OUR_TOLS, X, y, C, loss, reference, repeat)
            cells = []
            for target in TARGETS:
                a, b = time_to(our_runs, target), time_to(svc_runs, target)
                cells.append(f"{fmt_time(a)} / {fmt_time(b)} ({fmt_ratio(a, b)})")
            print(f"| {name} | {loss} | {C:g} | {solver} | " + " | ".join(cells) + " |")
        sys.stdout.flush()
        best_svc = min(gap for _, gap in svc_runs)
        print(
            f"|  | reference gap {certified:.1e}; LinearSVC's best relative "
            f"suboptimality over its tol sweep: {best_svc:.1e} |  |  |  |  |  |"
        )


_MEMORY_SCRIPT = """
import sys, warnings
sys.path.insert(0, {root!r} + "/benchmarks")
from bench_exact import sparse_text, ours, theirs

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return float(line.split()[1]) / 1024.0

X, y = sparse_text(20_000, 100_000, 50, seed=2)
import gc; gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak resident size (VmHWM) to the current one
base = status("VmRSS")
warnings.simplefilter("ignore")
model = {make}
model.fit(X, y)
print(status("VmHWM") - base)
"""


def peak_memory(root):
    """Peak resident memory added by one fit (MiB), each in a fresh process."""
    out = {}
    for label, make in [
        ("ours (auto)", "ours('auto', 'hinge', 1.0, 1e-4)"),
        ("ours (dual_cd)", "ours('dual_cd', 'squared_hinge', 1.0, 1e-4)"),
        ("LinearSVC hinge", "theirs('hinge', 1.0, 1e-4)"),
        ("LinearSVC squared_hinge", "theirs('squared_hinge', 1.0, 1e-4)"),
    ]:
        script = _MEMORY_SCRIPT.format(root=root, make=make)
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        out[label] = float(result.stdout.strip().splitlines()[-1])
    return out


def import_overhead(repeat=7):
    """Median extra seconds of ``import hinge_estimators`` after sklearn's."""

    def best(code):
        times = []
        for _ in range(repeat):
            result = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            times.append(float(result.stdout))
        return float(np.median(times))

    timer = (
        "import time; t = time.perf_counter(); {body}; print(time.perf_counter() - t)"
    )
    base = best(timer.format(body="import sklearn.svm, sklearn.base"))
    ours_too = best(
        timer.format(body="import sklearn.svm, sklearn.base; import hinge_estimators")
    )
    return base, ours_too


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small cases only")
    args = parser.parse_args()
    exact = ["auto", "dual_cd", "newton"]
    dense_small = dense_correlated(1000, 300, seed=0)
    cases = []
    for C in (0.1, 1.0):
        for loss in ("hinge", "squared_hinge"):
            solvers = ["auto"] if loss == "hinge" else exact
            cases.append(("dense 1000x300", dense_small, loss, C, solvers))
    if not args.quick:
        dense_large = dense_correlated(20_000, 100, seed=1)
        text = sparse_text(20_000, 100_000, 50, seed=2)
        for data_name, data in (
            ("dense 20000x100", dense_large),
            ("sparse text", text),
        ):
            for C in (0.1, 1.0):
                for loss in ("hinge", "squared_hinge"):
                    solvers = ["auto"] if loss == "hinge" else exact
                    cases.append((data_name, data, loss, C, solvers))
    for C in (0.1, 1.0):
        cases.append(("digits (10 classes)", digits(), "crammer_singer", C, ["auto"]))
    run_cases(cases, args.repeat)
    root = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    print()
    memory = peak_memory(root)
    for label, mib in memory.items():
        print(f"peak memory of one fit, sparse text case, {label}: {mib:.1f} MiB")
    print(
        "ratio ours(auto, hinge) / LinearSVC(hinge): "
        f"{memory['ours (auto)'] / memory['LinearSVC hinge']:.2f}"
    )
    base, both = import_overhead()
    print(
        f"import sklearn.svm: {base:.3f} s; plus hinge_estimators: {both:.3f} s "
        f"(+{both - base:.3f} s)"
    )


if __name__ == "__main__":
    main()
