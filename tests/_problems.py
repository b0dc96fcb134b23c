"""Small random problems shared by the objective, solver and estimator tests."""

import numpy as np
import scipy.sparse as sp

from hinge_estimators import LinearObjective
from hinge_estimators._targets import TargetEncoding


def make_objective(
    loss,
    *,
    seed=0,
    n=40,
    d=5,
    n_classes=2,
    sparse=False,
    fit_intercept=True,
    intercept_scaling=None,
    weighted=False,
    C=1.0,
    penalty="l2",
    dtype=np.float64,
):
    """A LinearObjective on random, partly overlapping classes."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % n_classes
    centers = rng.normal(scale=1.5, size=(n_classes, d))
    X = centers[codes] + rng.normal(size=(n, d))
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    X = X.astype(dtype)
    weights = rng.uniform(0.2, 3.0, size=n) if weighted else None
    encoding = TargetEncoding(np.arange(n_classes), loss.is_multiclass)
    return LinearObjective(
        loss,
        X,
        encoding.encode(codes),
        n_outputs=encoding.n_outputs,
        sample_weight=weights,
        C=C,
        fit_intercept=fit_intercept,
        intercept_scaling=intercept_scaling,
        penalty=penalty,
    )


def naive_value(objective, coef):
    """The objective by explicit loops over samples: an independent reference."""
    W, b = objective.split(coef)
    X = objective.X.toarray() if sp.issparse(objective.X) else objective.X
    total = 0.5 * objective.reg * float(np.sum(W * W))
    if objective.fit_intercept:
        total += 0.5 * objective.intercept_penalty * float(np.sum(b * b))
    for i in range(objective.n_samples):
        s = np.array([X[i] @ W[k] + b[k] for k in range(objective.n_outputs)])
        yi = objective.y[i]
        if objective.loss.is_multiclass:
            li = objective.loss.loss(np.array([yi]), s[None, :])[0]
        else:
            li = np.sum(objective.loss.loss(np.asarray(yi)[None, :], s[None, :]))
        total += objective.loss_scale * objective.sample_weight[i] * li
    return total


def zipf_text(n, d, nnz_per_row=30, seed=0):
    """Bag-of-words-like CSR data: Zipf-distributed term columns (frequent
    terms shared by most rows), rows of unit norm, labels from a random
    linear rule with noise. Wide (``d > n``) and uncentered, as text is."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), nnz_per_row)
    cols = (rng.zipf(1.3, size=n * nnz_per_row) - 1) % d
    X = sp.csr_matrix((rng.random(n * nnz_per_row), (rows, cols)), shape=(n, d))
    X.sum_duplicates()
    X = sp.csr_matrix(X.multiply(1.0 / np.sqrt(X.multiply(X).sum(axis=1))))
    y = (X @ rng.normal(size=d) + 0.1 * rng.normal(size=n) > 0).astype(int)
    return X, y


def spy_on(monkeypatch, module, name, record=None):
    """Replace ``module.name`` by a wrapper that calls through and records,
    for each call (in the returned list), ``record(args, result)``: by
    default the first argument."""
    calls = []
    real = getattr(module, name)

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(args[0] if record is None else record(args, result))
        return result

    monkeypatch.setattr(module, name, spy)
    return calls


def certified_fit(X, y, sample_weight=None, **params):
    """``HingeClassifier(**params)`` fitted on ``X, y``; it must not warn that
    it stopped early, and its bound must be within its ``tol``."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from hinge_estimators import HingeClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = HingeClassifier(**params).fit(X, y, sample_weight=sample_weight)
    assert model.optimality_ <= model.tol
    return model


def fit_variant(X, variant):
    """``(X, sample_weight, params, p)`` of a fit variant on ``X``:
    ``"no_intercept"`` (``fit_intercept=False``), ``"sparse"`` (40 % of the
    entries zeroed, CSR), ``"weights"`` (uniform in [0, 3], the first four
    0) or ``"penalized_intercept"`` (``intercept_scaling=2``: the intercept
    penalized by ``p = 1 / 4``, ``b^2 p / 2``)."""
    weights = np.ones(X.shape[0])
    params, p = {}, 0.0
    if variant == "no_intercept":
        params["fit_intercept"] = False
    elif variant == "sparse":
        X = np.where(np.random.default_rng(1).random(X.shape) < 0.4, 0.0, X)
        X = sp.csr_matrix(X)
    elif variant == "weights":
        weights = np.random.default_rng(2).uniform(0.0, 3.0, X.shape[0])
        weights[:4] = 0.0
    else:
        assert variant == "penalized_intercept", variant
        params["intercept_scaling"] = 2.0
        p = 1.0 / 4.0
    return X, weights, params, p


#: SLSQP restarts at its iteration limit (see :func:`slsqp_minimum`)
SLSQP_RESTARTS = 3


def slsqp_minimum(fun, z0, constraints):
    """SLSQP's minimizer of ``fun`` under ``constraints(z) >= 0`` from
    ``z0``; it must succeed (or stop on its line search, status 8).

    Its quasi-Newton model of a second-order cone's constraint (``t^2 >=
    ||W_j||^2``) degrades near a group at 0, where the constraint's gradient
    vanishes: under another BLAS kernel's rounding one reference problem
    ran into the iteration limit where it had converged before. A restart
    from where it stopped (a fresh model) finishes it; a limit reached after
    SLSQP_RESTARTS restarts still fails.
    """
    from scipy.optimize import minimize

    for _ in range(SLSQP_RESTARTS + 1):
        result = minimize(
            fun,
            z0,
            constraints=[{"type": "ineq", "fun": constraints}],
            method="SLSQP",
            options={"maxiter": 3000, "ftol": 1e-14},
        )
        if result.status != 9:
            break
        z0 = result.x
    assert result.success or result.status == 8, result.message
    return result.x


def wide_sparse_binary(n=200, d=3000, seed=0):
    """``(X, y)``: CSR ``n x d`` at 1 % density (values in ``[0, 1)``),
    labels in ``{0, 1}`` from 20 features and noise: far more features than
    samples, where coordinate descent's epochs are cheap and crawl."""
    rng = np.random.RandomState(seed)
    X = sp.random(n, d, density=0.01, random_state=seed, format="csr")
    w_true = np.zeros(d)
    w_true[:20] = rng.randn(20) * 5
    y = (X @ w_true + 0.3 * rng.randn(n) > 0).astype(int)
    return X, y


def one_hot_rows(codes, levels):
    """One-hot CSR rows of categorical ``codes`` (n, positions) in ``0 ..
    levels - 1``: each position's block of ``levels`` indicators sums to 1,
    so the rows have rank ``positions * (levels - 1) + 1``."""
    n, positions = codes.shape
    columns = (np.arange(positions) * levels + codes).ravel()
    return sp.csr_matrix(
        (np.ones(n * positions), (np.repeat(np.arange(n), positions), columns)),
        shape=(n, positions * levels),
    )
