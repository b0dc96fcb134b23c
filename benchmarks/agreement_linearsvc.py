"""Objective agreement with scikit-learn's LinearSVC where the problems coincide.

Run: ``python benchmarks/agreement_linearsvc.py``

For each case both models are fitted with tight tolerances and the SAME primal
objective (``1/2 ||W||^2 + C sum_i loss_i``, plus ``b^2 / 2`` when LIBLINEAR's
penalized bias with ``intercept_scaling=1`` is used) is evaluated on both
solutions by one independent formula written here. A negative relative
difference means our optimum is lower (LinearSVC stopped above the optimum).
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from hinge_estimators import HingeClassifier


def primal(W, b, X, y, classes, loss, C, penalized_bias):
    """The primal objective of LinearSVC's problems, from scratch."""
    W = np.atleast_2d(W)
    b = np.atleast_1d(b)
    scores = X @ W.T + b
    value = 0.5 * np.sum(W * W) + (0.5 * np.sum(b * b) if penalized_bias else 0.0)
    if loss == "crammer_singer":
        codes = np.searchsorted(classes, y)
        rows = np.arange(len(y))
        others = np.where(np.eye(len(classes))[codes] > 0, -np.inf, scores)
        h = np.maximum(1 + others.max(axis=1) - scores[rows, codes], 0)
        return value + C * np.sum(h)
    if len(classes) == 2:
        Y = np.where(y == classes[1], 1.0, -1.0)[:, None]
    else:
        Y = np.where(y[:, None] == classes[None, :], 1.0, -1.0)
    per = np.maximum(1 - Y * scores, 0)
    return value + C * np.sum(per**2 if loss == "squared_hinge" else per)


def cases():
    X, y = make_classification(
        n_samples=1000,
        n_features=30,
        n_informative=10,
        n_redundant=15,
        flip_y=0.05,
        random_state=0,
    )
    yield "correlated n=1000 d=30", StandardScaler().fit_transform(X), y
    X, y = load_iris(return_X_y=True)
    yield "iris (3 classes, OvR)", StandardScaler().fit_transform(X), y
    X, y = load_digits(return_X_y=True)
    yield "digits (10 classes)", StandardScaler().fit_transform(X), y


def main():
    print(
        f"{'data':<24}{'loss':<16}{'intercept':<12}{'C':>5}"
        f"{'ours':>14}{'LinearSVC':>14}{'rel diff':>11}{'t ours':>8}{'t svc':>8}"
    )
    for name, X, y in cases():
        classes = np.unique(y)
        losses = ["hinge", "squared_hinge"]
        if len(classes) > 2:
            losses.append("crammer_singer")
        for loss in losses:
            for intercept in ("none", "scaling=1"):
                if loss == "crammer_singer" and intercept != "none":
                    continue
                kw = (
                    dict(fit_intercept=False)
                    if intercept == "none"
                    else dict(fit_intercept=True, intercept_scaling=1.0)
                )
                for C in (0.1, 1.0):
                    svc_kw = dict(C=C, tol=1e-10, max_iter=10**6, **kw)
                    if loss == "crammer_singer":
                        svc_kw["multi_class"] = "crammer_singer"
                    else:
                        svc_kw.update(loss=loss, dual=True)
                    t0 = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        svc = LinearSVC(**svc_kw).fit(X, y)
                    t_svc = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    ours = HingeClassifier(
                        loss=loss, C=C, tol=1e-10, max_iter=100_000, **kw
                    ).fit(X, y)
                    t_ours = time.perf_counter() - t0
                    pb = intercept != "none"
                    theirs = primal(
                        svc.coef_, svc.intercept_, X, y, classes, loss, C, pb
                    )
                    mine = primal(
                        ours.coef_, ours.intercept_, X, y, classes, loss, C, pb
                    )
                    print(
                        f"{name:<24}{loss:<16}{intercept:<12}{C:>5g}{mine:>14.8f}"
                        f"{theirs:>14.8f}{(mine - theirs) / theirs:>11.2e}"
                        f"{t_ours:>7.2f}s{t_svc:>7.2f}s"
                    )


if __name__ == "__main__":
    main()
