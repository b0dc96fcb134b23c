"""The default hinge with its free intercept against libsvm, on bench_real's sets.

``HingeClassifier(loss="hinge")`` (``dual_cd``, unpenalized intercept, C=1)
on the training split that ``bench_real.py``'s defaults table uses (dense
sets standardized, CSR sets raw), one-vs-rest on multiclass sets, against
``SVC(kernel="linear", C=1, tol=1e-8)`` (libsvm solves exactly that
objective). Prints the passes, whether the fit converged (no
ConvergenceWarning), the certified relative gap, the objective's relative
excess over libsvm's and the fit's time. A short, targeted run (about a
minute, most of it libsvm), not the 15-minute ``bench_real.py``.

Usage::

    PYTHONPATH=. python benchmarks/bench_free_intercept.py [SET ...]

(default: sylva digits splice_csr spambase ada breast_cancer twonorm ring).
"""

import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).parent))
import bench_real  # noqa: E402
from time_to_target import fit_watched  # noqa: E402

from hinge_estimators import HingeClassifier  # noqa: E402

SETS = (
    "sylva",
    "digits",
    "splice_csr",
    "spambase",
    "ada",
    "breast_cancer",
    "twonorm",
    "ring",
)


def hinge_objective(X, target, w, b, C=1.0):
    """``1/2 |w|^2 + C sum_i [1 - t_i (x_i . w + b)]_+``, ``t`` in {0, 1}."""
    z = np.asarray(X @ w).ravel() + b
    return 0.5 * w @ w + C * np.maximum(0.0, 1.0 - (2.0 * target - 1.0) * z).sum()


def libsvm_objective(X, y, columns):
    total = 0.0
    for k in columns:
        target = (y == k).astype(int)
        svc = SVC(kernel="linear", C=1.0, tol=1e-8).fit(X, target)
        coef = svc.coef_.toarray() if sp.issparse(svc.coef_) else svc.coef_
        total += hinge_objective(X, target, np.ravel(coef), svc.intercept_[0])
    return total


def main(names):
    print("| set | passes | converged | certified gap | P / P_libsvm - 1 | time (s) |")
    print("|---|---|---|---|---|---|")
    for name in names:
        X, y, _, _ = bench_real.prepared(name, split=True)
        K = int(y.max()) + 1
        columns = [1] if K == 2 else list(range(K))
        model = HingeClassifier(loss="hinge", random_state=0)
        seconds, warned = fit_watched(model, X, y)
        coef, intercept = np.atleast_2d(model.coef_), np.atleast_1d(model.intercept_)
        ours = sum(
            hinge_objective(X, (y == k).astype(int), coef[i], intercept[i])
            for i, k in enumerate(columns)
        )
        reference = libsvm_objective(X, y, columns)
        print(
            f"| {name} {X.shape[0]}x{X.shape[1]} | {model.n_iter_} | "
            f"{'no' if warned else 'yes'} | {model.optimality_:.1e} | "
            f"{(ours - reference) / reference:.1e} | {seconds:.2f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:] or SETS)
