"""SGD against SGDClassifier: epoch throughput and objective after 1, 5, 20 epochs.

Both sides minimize the same per-sample objective

    F(w, b) = alpha/2 ||w||^2 + (1/n) sum_i loss(y_i, w.x_i + b),

``alpha = 1/(C n)`` (our ``HingeClassifier(C=C)`` minimizes ``C n F``), with
the intercept unpenalized, for the same number of epochs (``tol=None`` for
``SGDClassifier``, stopping switched off for ours). F is computed here from
its textbook formula; the exact optimum ``F*`` comes from our exact solvers
at ``tol=1e-8`` (``dual_cd``'s duality gap certifies it). Reported: the
relative gap ``F / F* - 1`` and the throughput ``n * epochs / fit time``
(best of ``--repeat``), for SGDClassifier plain and averaged and for ours
with the default solver settings and plain (``average=False``).

Cases: dense ``make_classification`` n=200,000 d=50; sparse n=50,000
d=50,000 with 50 non-zeros per row (density 0.001, Gaussian values), labels
from a noisy linear model. ``alpha = 1e-4`` (SGDClassifier's default).

Run (from the repository root, with OpenBLAS left at its defaults)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_sgd.py
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier

from hinge_estimators import HingeClassifier
from hinge_estimators.solvers import SGD

ALPHA = 1e-4
EPOCHS = (1, 5, 20)
THROUGHPUT_EPOCHS = 5


def dense_case():
    return make_classification(200_000, 50, n_informative=20, random_state=0)


def sparse_case(n=50_000, d=50_000, nnz_per_row=50, seed=0):
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), nnz_per_row)
    cols = rng.integers(0, d, size=n * nnz_per_row)
    X = sp.csr_matrix(
        (rng.standard_normal(n * nnz_per_row), (rows, cols)), shape=(n, d)
    )
    X.sum_duplicates()
    w = rng.standard_normal(d)
    y = (X @ w + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def per_sample_objective(X, y, coef, intercept, loss):
    """F(w, b) from the textbook formula (independent of both packages)."""
    z = np.where(y == 1, 1.0, -1.0) * (X @ np.ravel(coef) + float(intercept[0]))
    hinge = np.maximum(1.0 - z, 0.0)
    values = hinge if loss == "hinge" else hinge**2
    w = np.ravel(coef)
    return 0.5 * ALPHA * float(w @ w) + float(values.mean())


def configurations(loss, C):
    """name -> function(epochs) returning an unfitted estimator."""
    return {
        "SGDClassifier": lambda e: SGDClassifier(
            loss=loss, alpha=ALPHA, max_iter=e, tol=None, random_state=0
        ),
        "SGDClassifier(average=True)": lambda e: SGDClassifier(
            loss=loss, alpha=ALPHA, max_iter=e, tol=None, average=True, random_state=0
        ),
        "ours (default SGD)": lambda e: HingeClassifier(
            loss=loss, solver="sgd", C=C, max_iter=e, tol=1e-300, random_state=0
        ),
        "ours (average=False)": lambda e: HingeClassifier(
            loss=loss,
            solver=SGD(average=False),
            C=C,
            max_iter=e,
            tol=1e-300,
            random_state=0,
        ),
    }


def fit_timed(make, epochs, X, y, repeat):
    best, model = np.inf, None
    for _ in range(repeat):
        est = make(epochs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            est.fit(X, y)
            best = min(best, time.perf_counter() - start)
        model = est
    return best, model


def exact_optimum(X, y, loss, C):
    clf = HingeClassifier(loss=loss, C=C, tol=1e-8, max_iter=20_000).fit(X, y)
    return per_sample_objective(X, y, clf.coef_, clf.intercept_, loss), clf


def run_case(name, X, y, loss, repeat):
    n = X.shape[0]
    C = 1.0 / (ALPHA * n)
    optimum, exact = exact_optimum(X, y, loss, C)
    print(
        f"\n### {name}, loss={loss}, n={n}, d={X.shape[1]}, alpha={ALPHA:g} "
        f"(C={C:g}); F* = {optimum:.6g} ({exact.solver_.name}, certified "
        f"{exact.optimality_:.1e})\n"
    )
    print(
        "| configuration | throughput (samples/s) | vs SGDClassifier same "
        "averaging | " + " | ".join(f"F/F*-1 after {e}" for e in EPOCHS) + " |"
    )
    print("|---|---:|---:|" + "---:|" * len(EPOCHS))
    rows = {}
    for label, make in configurations(loss, C).items():
        seconds, _ = fit_timed(make, THROUGHPUT_EPOCHS, X, y, repeat)
        throughput = n * THROUGHPUT_EPOCHS / seconds
        gaps = []
        for epochs in EPOCHS:
            _, model = fit_timed(make, epochs, X, y, 1)
            value = per_sample_objective(X, y, model.coef_, model.intercept_, loss)
            gaps.append(value / optimum - 1.0)
        rows[label] = (throughput, gaps)
    pairs = {
        "ours (default SGD)": "SGDClassifier(average=True)",
        "ours (average=False)": "SGDClassifier",
    }
    for label, (throughput, gaps) in rows.items():
        ratio = f"{throughput / rows[pairs[label]][0]:.2f}x" if label in pairs else ""
        cells = " | ".join(f"{g:.3g}" for g in gaps)
        print(f"| {label} | {throughput:,.0f} | {ratio} | {cells} |")
    best_theirs = [
        min(rows["SGDClassifier"][1][i], rows["SGDClassifier(average=True)"][1][i])
        for i in range(len(EPOCHS))
    ]
    ours = rows["ours (default SGD)"][1]
    verdicts = [
        "met" if o <= t else "MISSED" for o, t in zip(ours, best_theirs, strict=True)
    ]
    print(
        "\nobjective target (ours default <= best SGDClassifier) after "
        + ", ".join(f"{e} epochs: {v}" for e, v in zip(EPOCHS, verdicts, strict=True))
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--losses", default="hinge,squared_hinge")
    args = parser.parse_args()
    cases = {"dense": dense_case, "sparse": sparse_case}
    for name, make in cases.items():
        X, y = make()
        for loss in args.losses.split(","):
            run_case(name, X, y, loss, args.repeat)


if __name__ == "__main__":
    main()
