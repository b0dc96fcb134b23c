"""Newton-CG on the squared hinge: trust region (TRON) against exact line searches.

Run: ``python benchmarks/bench_newton_globalization.py``

For each problem and tolerance: fit time (best of 3), Newton iterations and
the reported relative suboptimality of ``TrustRegionNewton`` with
``globalization="trust_region"`` and ``"line_search"`` (what ``"auto"``
picks for the squared hinge), and LIBLINEAR's primal Newton solver
(``LinearSVC(dual=False)``) for the stall cases. Problems: standardized
digits, 3 against the rest, C = 1, 100, 1e4 (nearly separable: the case
that made TRON stall), and ``bench_exact.py``'s dense 1000 x 300 and sparse
text cases (``fit_intercept=False`` there, as in that benchmark).
"""

import time
import warnings

import numpy as np
from bench_exact import dense_correlated, sparse_text
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from hinge_estimators import LinearObjective
from hinge_estimators.losses import SquaredHinge
from hinge_estimators.solvers import TrustRegionNewton


def best_of(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def problems():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y3 = np.where(y == 3, 1.0, -1.0)
    for C in (1.0, 100.0, 1e4):
        yield f"digits 3-vs-rest, C={C:g}", X, y3, C, True, (1e-4,)
    X, y = dense_correlated(1000, 300, seed=0)
    for C in (0.1, 1.0):
        yield f"dense 1000x300, C={C:g}", X, 2.0 * y - 1, C, False, (1e-2, 1e-4, 1e-6)
    X, y = sparse_text(20_000, 100_000, 50, seed=2)
    for C in (0.1, 1.0):
        yield f"sparse text, C={C:g}", X, 2.0 * y - 1, C, False, (1e-2, 1e-4, 1e-6)


def main():
    print("| problem | tol | trust region | line search | LinearSVC(dual=False) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, X, y, C, intercept, tols in problems():
        objective = LinearObjective(
            SquaredHinge(), X, y[:, None], n_outputs=1, C=C, fit_intercept=intercept
        )
        for tol in tols:
            cells = []
            for globalization in ("trust_region", "line_search"):
                solver = TrustRegionNewton(globalization)
                seconds, result = best_of(
                    lambda s=solver, o=objective, t=tol: s.solve(
                        o, tol=t, max_iter=1000
                    )
                )
                status = "" if result.converged else ", **not converged**"
                cells.append(
                    f"{seconds:.3f} s, {result.n_iter} it, {result.optimality:.0e}"
                    f"{status}"
                )
            liblinear = "—"
            if intercept:
                svc = LinearSVC(dual=False, C=C, tol=tol, max_iter=1000)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    seconds, svc = best_of(lambda m=svc, A=X, b=y: m.fit(A, b))
                stalled = any(w.category is ConvergenceWarning for w in caught)
                liblinear = f"{seconds:.3f} s, {int(np.max(svc.n_iter_))} it" + (
                    ", **not converged**" if stalled else ""
                )
            print(f"| {name} | {tol:g} | {cells[0]} | {cells[1]} | {liblinear} |")
    print(
        "\ncells: fit time (best of 3), Newton iterations, the solver's reported "
        "relative suboptimality bound"
    )


if __name__ == "__main__":
    with threadpool_limits(limits=1, user_api="blas"):
        main()
