"""Where ``solver="auto"`` hands the squared hinge on wide data from dual CD to Newton.

Run (from the repository root, with OpenBLAS left at its defaults)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_auto_wide.py

For each wide set (``n_samples < 2 n_features``), ``fit_intercept`` and
``C``: the fit time (CPU time, best of 3) of ``HingeClassifier`` with
``solver="dual_cd"``, ``"newton"`` and ``"auto"`` at the default ``tol``,
each one's passes or Newton steps, whether it converged, and its objective
relative to the best of the three. ``scaled C`` is ``C`` times the mean
``s_i ||x_i||^2``, the quantity ``auto`` compares with
``WIDE_SPARSE_DUAL_LIMIT`` on sparse data (2 with an intercept, 10
without). Sets: ``bench_exact.sparse_text`` (Zipf terms, rows of unit norm)
at 5,000 x 20,000 and 3,000 x 30,000 (200 terms a row), and a dense
standardized ``make_classification`` set of 2,000 x 5,000, where dual CD
(which centers dense rows itself) stays ahead at every C.
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from bench_exact import sparse_text
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from hinge_estimators import HingeClassifier

SOLVERS = ("dual_cd", "newton", "auto")


def sets(quick):
    yield "text 5000x20000", *sparse_text(5_000, 20_000, 50, seed=2)
    if quick:
        return
    yield "text 3000x30000 (200 a row)", *sparse_text(3_000, 30_000, 200, seed=3)
    X, y = make_classification(
        2_000, 5_000, n_informative=50, flip_y=0.05, random_state=0
    )
    yield "dense 2000x5000", StandardScaler().fit_transform(X), y


def fit(X, y, solver, C, fit_intercept, repeat):
    best, model, converged = np.inf, None, True
    for _ in range(repeat):
        model = HingeClassifier(
            C=C, solver=solver, fit_intercept=fit_intercept, random_state=0
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.process_time()
            model.fit(X, y)
            best = min(best, time.process_time() - start)
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        if best > 2.0:
            break
    return best, model, converged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the first set only")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    header = ["set", "intercept", "C", "scaled C"]
    header += [f"{s} s (steps, conv)" for s in SOLVERS]
    header += ["auto picks", "P / best P - 1 (dual_cd, newton)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, X, y in sets(args.quick):
        norms = X.multiply(X).sum(axis=1) if sp.issparse(X) else (X * X).sum(axis=1)
        mean_norm2 = float(np.mean(norms))
        Cs = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0, 10_000.0)
        if not sp.issparse(X):
            Cs = tuple(c / mean_norm2 for c in (0.3, 1.0, 10.0, 100.0))
        for fit_intercept in (True, False):
            for C in Cs:
                cells, values, picked = [], [], ""
                for solver in SOLVERS:
                    seconds, model, converged = fit(
                        X, y, solver, C, fit_intercept, args.repeat
                    )
                    cells.append(
                        f"{seconds:.3f} ({model.n_iter_}, "
                        f"{'yes' if converged else '**no**'})"
                    )
                    values.append(model.objective_value_)
                    if solver == "auto":
                        picked = model.solver_.name
                best = min(values)
                excess = ", ".join(f"{v / best - 1:.1e}" for v in values[:2])
                print(
                    f"| {name} | {'free' if fit_intercept else 'none'} | {C:.3g} "
                    f"| {C * mean_norm2:.3g} | "
                    + " | ".join(cells)
                    + f" | {picked} | {excess} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
