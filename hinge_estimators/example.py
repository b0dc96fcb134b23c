"""A real example fit: ``python -m hinge_estimators.example``.

Fits every registered loss with ``solver="auto"`` on the breast-cancer data set
(scikit-learn ships it), and prints what each fit did: the solver that ran,
its iterations, the objective it stopped on, its stopping measure, and the
held-out accuracy; then the same for a 10-class problem (digits).
"""

import time

from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from . import LOSSES, HingeClassifier


def _report(title, X, y):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    print(f"\n{title}: {X_train.shape[0]} training samples, {X.shape[1]} features")
    print(
        f"{'loss':<24}{'solver':<36}{'iters':>6}{'objective':>14}"
        f"{'optimality':>12}{'accuracy':>10}{'time':>8}"
    )
    for name, cls in LOSSES.items():
        if cls.is_pairwise and len(set(y_train)) > 2:
            continue  # pairwise (AUC) losses are binary only
        clf = HingeClassifier(loss=name, C=1.0, max_iter=20_000)
        start = time.perf_counter()
        clf.fit(X_train, y_train)
        elapsed = time.perf_counter() - start
        print(
            f"{name:<24}{clf.solver_!r:<36}{clf.n_iter_:>6}"
            f"{clf.objective_value_:>14.6f}{clf.optimality_:>12.2e}"
            f"{clf.score(X_test, y_test):>10.3f}{elapsed:>7.2f}s"
        )


def main():
    """Run the example fits and print a table per data set."""
    X, y = load_breast_cancer(return_X_y=True)
    _report("Breast cancer (2 classes)", X, y)
    X, y = load_digits(return_X_y=True)
    _report("Digits (10 classes)", X, y)


if __name__ == "__main__":
    main()
