"""Line-search Newton on dense data: CG's products against the formed Hessian.

Run (from the repository root, with OpenBLAS left at its defaults)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/bench_newton_formed.py

``HingeClassifier(solver="newton")`` (squared hinge, ``fit_intercept=False``,
``tol=1e-6``; one-vs-rest on the multiclass sets) on the dense standardized
sets of the real-data benchmark at C = 0.1, 1, 10: wall time (best of
``--repeat``) with CG's products only (``FORMED_HESSIAN_MAX = 0``) and with
the rule ``solver="newton"`` uses (the formed Hessian, factorized, once a
step's CG took more products than forming costs; see
``hinge_estimators.solvers._newton._formed``), and the relative difference
of the two objective values.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_real import prepared  # noqa: E402

import hinge_estimators._objective as objective_module  # noqa: E402
from hinge_estimators import HingeClassifier  # noqa: E402

SETS = (
    "twonorm", "ring", "ada", "spambase", "breast_cancer", "digits", "penbased",
    "satimage", "texture", "optdigits", "sylva", "splice",
)  # fmt: skip


def timed(X, y, C, repeat):
    best, model = np.inf, None
    for _ in range(repeat):
        model = HingeClassifier(
            solver="newton", C=C, fit_intercept=False, tol=1e-6, random_state=0
        )
        start = time.perf_counter()
        model.fit(X, y)
        best = min(best, time.perf_counter() - start)
    return best, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    default = objective_module.FORMED_HESSIAN_MAX
    print("| set | C | CG only ms | newton's rule ms | ratio | P rule / P CG - 1 |")
    print("|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' warnings while loading
            X, y = prepared(name, False)
        label = f"{name} {X.shape[0]}x{X.shape[1]} K={y.max() + 1}"
        for C in (0.1, 1.0, 10.0):
            objective_module.FORMED_HESSIAN_MAX = 0
            cg_s, cg = timed(X, y, C, args.repeat)
            objective_module.FORMED_HESSIAN_MAX = default
            rule_s, rule = timed(X, y, C, args.repeat)
            excess = rule.objective_value_ / cg.objective_value_ - 1
            print(
                f"| {label} | {C:g} | {1e3 * cg_s:.1f} | {1e3 * rule_s:.1f} "
                f"| {rule_s / cg_s:.2f} | {excess:.1e} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
