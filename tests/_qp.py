"""An independent reference: the hinge-family problems written as explicit QPs
with slack variables and solved by scipy's SLSQP (small problems only)."""

import numpy as np
from scipy.optimize import minimize


def _dense(X):
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X)


def solve_qp(objective):
    """Minimize the objective of a hinge / Weston-Watkins / Crammer-Singer loss.

    Variables ``(W, b, xi)``; the loss is replaced by slacks with linear
    constraints, so no loss code of the package is used.
    """
    loss = objective.loss
    X = _dense(objective.X)
    n, d = X.shape
    K = objective.n_outputs
    nb = K if objective.fit_intercept else 0
    s = objective.loss_scale * objective.sample_weight
    squared = getattr(loss, "squared", False)
    name = type(loss).__name__
    rows = []  # (sample, slack index, class-space vector a, offset c): xi >= c + a.s
    if name == "Hinge":
        for i in range(n):
            for k in range(K):
                a = np.zeros(K)
                a[k] = -objective.y[i, k]
                rows.append((i, i * K + k, a, loss.margin))
        n_slack = n * K
    elif name == "WestonWatkins":
        for i in range(n):
            for j in range(K):
                if j != objective.y[i]:
                    a = np.zeros(K)
                    a[j], a[objective.y[i]] = 1.0, -1.0
                    rows.append((i, i * K + j, a, loss.delta))
        n_slack = n * K
    elif name == "CrammerSinger":
        for i in range(n):
            for j in range(K):
                if j != objective.y[i]:
                    a = np.zeros(K)
                    a[j], a[objective.y[i]] = 1.0, -1.0
                    rows.append((i, i, a, loss.delta))
        n_slack = n
    else:  # pragma: no cover
        raise ValueError(name)
    slack_weight = np.zeros(n_slack)
    for i, t, _, _ in rows:
        slack_weight[t] = s[i]
    nw = K * d

    def split(z):
        return z[:nw].reshape(K, d), z[nw : nw + nb], z[nw + nb :]

    def fun(z):
        W, b, xi = split(z)
        value = 0.5 * objective.reg * np.sum(W * W)
        if nb:
            value += 0.5 * objective.intercept_penalty * np.sum(b * b)
        value += slack_weight @ (xi**2 if squared else xi)
        return value

    def jac(z):
        W, b, xi = split(z)
        g = np.zeros_like(z)
        g[:nw] = objective.reg * W.ravel()
        if nb:
            g[nw : nw + nb] = objective.intercept_penalty * b
        g[nw + nb :] = slack_weight * (2 * xi if squared else 1.0)
        return g

    A = np.zeros((len(rows) + n_slack, nw + nb + n_slack))
    lb = np.zeros(len(rows) + n_slack)
    for r, (i, t, a, c) in enumerate(rows):
        # xi_t - a.(W x_i + b) >= c
        A[r, nw + nb + t] = 1.0
        A[r, :nw] = -np.outer(a, X[i]).ravel()
        if nb:
            A[r, nw : nw + nb] = -a
        lb[r] = c
    for t in range(n_slack):
        A[len(rows) + t, nw + nb + t] = 1.0
    constraints = {"type": "ineq", "fun": lambda z: A @ z - lb, "jac": lambda z: A}
    z0 = np.concatenate([np.zeros(nw + nb), np.full(n_slack, 2.0)])
    z0[nw + nb :] = np.maximum(lb[: len(rows)].max(), 1.0) + 1.0
    result = minimize(
        fun,
        z0,
        jac=jac,
        constraints=[constraints],
        method="SLSQP",
        options={"maxiter": 2000, "ftol": 1e-12},
    )
    # SLSQP reports "positive directional derivative" (status 8) when rounding
    # stops its line search at the optimum
    assert result.success or result.status == 8, result.message
    W, b, xi = split(result.x)
    # its constraints hold only to its own tolerance, which scales with the
    # slacks' weights (C = 100: 2e-8 short with OPENBLAS_CORETYPE=Haswell),
    # and an infeasible point can sit below the optimum: the value returned
    # is that of (W, b) with the smallest feasible slacks, an upper bound on
    # the optimum whatever SLSQP's rounding
    z = np.concatenate([W.ravel(), b, np.zeros(n_slack)])
    needed = np.zeros(n_slack)
    np.maximum.at(
        needed, [t for _, t, _, _ in rows], lb[: len(rows)] - A[: len(rows)] @ z
    )
    assert np.all(needed <= xi + 1e-6 * max(1.0, np.abs(xi).max())), "far infeasible"
    return fun(np.concatenate([W.ravel(), b, needed])), W, b
