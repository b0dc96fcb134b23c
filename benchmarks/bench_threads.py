"""One-vs-rest columns in threads: ``n_jobs=None`` against ``n_jobs=2``.

Run (from the repository root, OpenBLAS left at its defaults; the
real-data setup of ``bench_real.py``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_threads.py

Wall-clock seconds of one ``fit`` (``fit_intercept=False, tol=1e-4,
random_state=0``), the two settings alternated in one process, best of
``REPEAT``; dense sets standardized, CSR sets raw. The answers are the
same (each column draws its own random stream). The last rows force
Newton's columns into threads, which it uses on sparse data only, to show
why.
"""

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).parent))
import real_datasets  # noqa: E402

import hinge_estimators.solvers._newton as newton_module  # noqa: E402
from hinge_estimators import HingeClassifier  # noqa: E402

REPEAT = 5
L1 = {"penalty": "l1"}
#: (set, loss, solver, C, extra parameters)
CASES = [
    ("penbased", "hinge", "dual_cd", 0.1, {}),
    ("penbased", "hinge", "dual_cd", 1.0, {}),
    ("satimage", "hinge", "dual_cd", 0.1, {}),
    ("satimage", "hinge", "dual_cd", 1.0, {}),
    ("texture", "hinge", "dual_cd", 0.1, {}),
    ("texture", "hinge", "dual_cd", 1.0, {}),
    ("optdigits", "hinge", "dual_cd", 0.1, {}),
    ("digits", "hinge", "dual_cd", 1.0, {}),
    ("splice", "hinge", "dual_cd", 0.1, {}),
    ("optdigits_csr", "hinge", "dual_cd", 0.1, {}),
    ("splice_csr", "hinge", "dual_cd", 1.0, {}),
    ("penbased", "hinge", "dual_cd", 10.0, {}),
    ("texture", "hinge", "dual_cd", 10.0, {}),
    ("satimage", "squared_hinge", "dual_cd", 0.1, {}),
    ("satimage", "squared_hinge", "primal_cd", 0.00135, L1),
    ("optdigits_csr", "squared_hinge", "primal_cd", 0.000238, L1),
    ("splice", "squared_hinge", "primal_cd", 0.0241, L1),
]
NEWTON_FORCED = ["penbased", "optdigits", "satimage", "optdigits_csr", "splice_csr"]


def data(name):
    if name.endswith("_csr"):
        return real_datasets.load_sparse(name.removesuffix("_csr"))
    X, y = real_datasets.load(name)
    return StandardScaler().fit_transform(X), y


def row(name, loss, solver, C, extra, label=None):
    X, y = data(name)
    best = {None: np.inf, 2: np.inf}
    for _ in range(REPEAT):
        for n_jobs in best:
            model = HingeClassifier(
                loss=loss, solver=solver, C=C, fit_intercept=False, tol=1e-4,
                random_state=0, n_jobs=n_jobs, **extra,
            )  # fmt: skip
            start = time.perf_counter()
            model.fit(X, y)
            best[n_jobs] = min(best[n_jobs], time.perf_counter() - start)
    cells = [name, loss, label or solver, f"{C:g}", f"{best[None]:.3f}"]
    cells += [f"{best[2]:.3f}", f"{best[None] / best[2]:.2f}", str(model.n_iter_)]
    print("| " + " | ".join(cells) + " |", flush=True)


def main():
    warnings.simplefilter("ignore")
    print(f"load average {os.getloadavg()[0]:.2f}\n")
    head = ["set", "loss", "solver", "C", "n_jobs=None s", "n_jobs=2 s", "speed-up"]
    print("| " + " | ".join(head + ["passes"]) + " |")
    print("|---|---|---|---|---|---|---|---|")
    for case in CASES:
        row(*case)
    plain = newton_module.solve_columns
    newton_module.solve_columns = lambda *a, **k: plain(*a, **{**k, "threads": True})
    for name in NEWTON_FORCED:
        row(name, "squared_hinge", "newton", 1.0, {}, "newton (threads forced)")
    print(f"\nload average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
