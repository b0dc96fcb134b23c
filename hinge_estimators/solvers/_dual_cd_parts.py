"""Data layout, starting points and duality-gap certificates for ``dual_cd``.

Kept apart from the solver so that ``_dual_cd.py`` reads as the algorithm.
"""

import numpy as np
import scipy.sparse as sp

#: with an unpenalized intercept, the inner problems of the method of
#: multipliers penalize (b - b_k)^2 / (2 B^2) through a constant feature B,
#: B this multiple of the root-mean-square row norm. A larger B moves b
#: further per round but makes the feature B dominate the coordinate updates.
#: Measured best (benchmarks/bench_exact.py data, hinge and squared hinge):
#: 0.3 on centered dense data, 1.0 on uncentered sparse data.
INTERCEPT_FEATURE_SCALE = {"centered": 0.3, "uncentered": 1.0}


#: the kernels read a dense ``X`` whose fraction of non-zeros is at most this
#: as CSR arrays, as LIBLINEAR reads every row: a pass then costs the
#: non-zeros only. The multiclass kernel has no BLAS path (it reads each entry
#: once for ``K`` classes), so skipping zeros pays off earlier (digits, 51 %
#: non-zeros: 30 % faster). The binary kernel's dense rows are contiguous
#: (vectorized loops or BLAS), about 2 to 3 times cheaper per entry than a
#: CSR entry: per coordinate update, CSR against dense, splice (21 %
#: non-zeros) 63 against 83 ns, sylva (23 %) 177 against 321 ns, ada (21 %)
#: 31 against 46 ns, spambase (23 %) 49 against 47 ns, optdigits (51 %) 45
#: against 26 ns (``benchmarks/bench_dcd_profile.py``'s data, best of 12).
SPARSE_READ_DENSITY = {"binary": 0.3, "multiclass": 0.6}


def reads_as_sparse(X, multiclass=False):
    """Whether :func:`compiled_rows` hands ``X`` to the kernels as CSR arrays."""
    if sp.issparse(X):
        return True
    limit = SPARSE_READ_DENSITY["multiclass" if multiclass else "binary"]
    # the same count as np.count_nonzero(X), which on floats took 3 times
    # as long as a comparison and a count of booleans (0.15 ms on 4,597 x 57)
    return np.count_nonzero(X != 0) <= limit * np.size(X)


def compiled_rows(X, multiclass=False):
    """``X`` in the form the kernels read: C-ordered dense, or CSR arrays.

    A dense ``X`` that is mostly zeros is read as CSR (see
    ``SPARSE_READ_DENSITY``); the solution is the same either way.
    """
    if not sp.issparse(X):
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not reads_as_sparse(X, multiclass):
            return X
    return csr_rows(sp.csr_matrix(X))


def csr_rows(X):
    """A CSR matrix as the kernels' ``(data, indices, indptr, n_features)``."""
    data = np.asarray(X.data, dtype=np.float64)
    indices = np.asarray(X.indices, dtype=np.int32)
    indptr = np.asarray(X.indptr, dtype=np.int64)
    if data.size == 0:  # the kernel reads &data[0]: give it a harmless entry
        data, indices = np.zeros(1), np.zeros(1, dtype=np.int32)
    return (data, indices, indptr, X.shape[1])


def intercept_scale(objective, sq_norms, centered):
    """``(B, unpenalized)``: the constant feature's value and the intercept mode."""
    if not objective.fit_intercept:
        return 0.0, False
    if objective.intercept_scaling is not None:
        return float(objective.intercept_scaling), False
    rms = float(np.sqrt(np.mean(sq_norms))) if sq_norms.size else 1.0
    scale = INTERCEPT_FEATURE_SCALE["centered" if centered else "uncentered"]
    return scale * (rms if rms > 0 else 1.0), True


def _split_start(objective, coef_init):
    if coef_init is None:
        return None, None
    W, b = objective.split(np.asarray(coef_init, dtype=np.float64))
    return W, b


def binary_shrinking(samples, shape):
    """A fresh shrinking state for ``binary_dual_cd`` (nothing shrunk)."""
    return samples.copy(), np.array([len(samples), np.inf, -np.inf])


def multiclass_shrinking(samples, shape):
    """A fresh shrinking state for ``multiclass_dual_cd`` (nothing shrunk).

    ``shape`` is ``alpha``'s, ``(n, K)``.
    """
    n, K = shape
    classes = np.ascontiguousarray(
        np.broadcast_to(np.arange(K, dtype=np.int32), (n, K))
    )
    return (
        samples.copy(),
        classes,
        np.full(n, K, dtype=np.int32),
        np.array([len(samples), 1.0, 0.0, np.inf, 1.0]),
    )


# -- binary (one dual per one-vs-rest column) --------------------------------
def binary_start(
    objective, form, warm_state, coef_init, upper, mean=None, unpenalized=False
):
    """Per-column starting duals.

    From a previous dual solution (``warm_state``) when its shape fits, else
    from primal coefficients through ``alpha_i = -C_i phi'(z_i)`` (the KKT
    relation), else zero. ``w`` is always recomputed from ``alpha``.
    Intercepts given in the original coordinates are moved to the centered
    ones when the solver centered the data (``mean``). A warm state may come
    from another problem (new data, labels, ``C`` or intercept mode): ``alpha``
    is clipped into the new box, which makes it feasible, and the intercept it
    carried (``shift``) is used only where the intercept is unpenalized --
    elsewhere it would change the problem the kernel solves.
    """
    Y, n, d = objective.y, objective.n_samples, objective.n_features
    weights = objective.loss_scale * objective.sample_weight
    W0, b0 = _split_start(objective, coef_init)
    starts = []
    for k in range(objective.n_outputs):
        y = np.ascontiguousarray(Y[:, k], dtype=np.float64)
        shift, resume = 0.0, None
        if warm_state is not None and warm_state[k]["alpha"].shape == (n,):
            alpha = np.array(warm_state[k]["alpha"], dtype=np.float64)
            shift = float(np.ravel(warm_state[k]["shift"])[0])
            if warm_state[k].get("along_path", False):  # set by hinge_path
                resume = path_resume(warm_state[k])
        elif W0 is not None:
            # b0 is the intercept of the original coordinates: in centered
            # ones (``mean``) the scores take b0 + W0 . mean
            scores = objective.data_dot(W0[k]) + b0[k]
            if mean is not None:
                scores += W0[k] @ mean
            grad = objective.loss.gradient(y, scores)
            alpha = -weights * y * grad
            shift = float(b0[k])
        else:
            alpha = np.zeros(n)
        if not unpenalized:
            shift = 0.0
        alpha = np.clip(alpha, 0.0, upper)
        # within rounding of the bound is at it (a state scaled by C_new /
        # C_old: the sets read off alpha stay those of the state)
        alpha[alpha >= upper * (1 - 1e-12)] = upper[alpha >= upper * (1 - 1e-12)]
        w = np.zeros(d + 1)
        if np.any(alpha):
            w[:d] = objective.data_t_dot(alpha * y)
        if mean is not None and unpenalized:
            shift += float(w[:d] @ mean)
        starts.append(
            {
                "column": k,
                "y": y,
                "alpha": alpha,
                "w": w,
                "shift": shift,
                "offset": _binary_offset(form.margin, y),
                "resume": resume,
            }
        )
    return starts


def path_resume(state):
    """What a path's point resumes of the previous one's column ``state``.

    ``exact_sets``: it was certified by the polish on exact sets (and that
    route is not off); ``finish``: ``(mu, w, b)``, the smoothing and primal
    point where the primal finish certified it, or None; and the record
    that turns each route off where it does not pay (``_resume_record`` in
    ``_dual_cd``).
    """
    finish = None
    if state.get("finish_mu") is not None and not state.get("finish_off", False):
        w, b = state["primal"]
        finish = float(state["finish_mu"]), np.asarray(w), float(np.ravel(b)[0])
    return {
        "exact_sets": bool(state.get("exact_sets", False))
        and not state.get("polish_off", False),
        "finish": finish,
        "cold_passes": state.get("cold_passes"),
        "polish_off": bool(state.get("polish_off", False)),
        "finish_off": bool(state.get("finish_off", False)),
    }


def _binary_offset(margin, y):
    def offset(shift):
        # the hinge at score s + b_k is [m - y b_k - y s]_+: a per-sample margin
        return np.ascontiguousarray(margin - y * shift)

    return offset


def init_bias_weight(start, bias):
    """Set the constant feature's weight to ``B sum alpha_i y_i`` (or its K-vector)."""
    alpha, w = start["alpha"], start["w"]
    if alpha.ndim == 1:
        w[-1] = bias * np.dot(alpha, start["y"])
    else:
        w[-1] = bias * alpha.sum(axis=0)


def binary_certificate(objective, setup, start, alpha, w, shift, exact_dual=False):
    """Primal value, dual value at a feasible point, and the coefficients.

    The primal is measured at ``w`` (and ``shift`` or the bias feature's
    weight), the dual at ``alpha``; the dual's quadratic term is read off ``w``
    (the kernel keeps ``w`` equal to ``sum_i alpha_i y_i x_i``) unless
    ``exact_dual`` asks to recompute it from ``alpha``, for a primal point
    that did not come from ``alpha``.
    """
    d = objective.n_features
    y, bias, form = start["y"], setup["bias"], setup["form"]
    weights = objective.loss_scale * objective.sample_weight
    wf = w[:d].copy()
    b = float(shift) if setup["unpenalized"] else bias * w[d]
    scores = objective.data_dot(wf) + b
    primal = 0.5 * wf @ wf + 0.5 * objective.intercept_penalty * b * b
    primal += float(weights @ objective.loss.loss(y, scores))
    feasible = alpha
    if setup["unpenalized"]:
        feasible = _balance_binary(alpha, y)
        w_hat = objective.data_t_dot(feasible * y)
        quadratic = w_hat @ w_hat
    elif exact_dual:
        w_hat = objective.data_t_dot(alpha * y)
        quadratic = w_hat @ w_hat + (bias * float(alpha @ y)) ** 2
    else:
        # the kernel keeps w = sum alpha_i y_i x_i (with the bias feature's
        # weight) up to rounding, which the gap's floor accounts for
        quadratic = w @ w if bias else wf @ wf
    linear = form.margin * feasible.sum()
    ridge = 0.5 * float(setup["diag"] @ (feasible * feasible))
    dual = linear - 0.5 * quadratic - ridge
    return {
        "primal": primal,
        "gap": max(primal - dual, 0.0),
        "floor": rounding_floor(primal, linear, quadratic, ridge),
        "w": wf,
        "b": np.array([b]),
        "feasible": feasible,
    }


#: np.finfo costs 50 us a call: a tenth of a gap check on small data
_EPS = float(np.finfo(float).eps)


def rounding_floor(primal, linear, quadratic, ridge):
    """Size of the rounding error in ``P - D``: no gap is measurable below it."""
    return 64 * _EPS * (abs(primal) + abs(linear) + quadratic + ridge)


def _balance_binary(alpha, y):
    """Scale the heavier side down to ``sum alpha_i y_i = 0`` (stays in the box)."""
    # y is +-1: the two sides' sums from two reductions, without the
    # boolean indexing (half of a gap check's time on twonorm)
    total, signed = float(alpha.sum()), float(alpha @ y)
    if signed == 0.0:
        return alpha
    # (clipped: rounding must not turn an empty side's 0 negative)
    pos, neg = max(0.5 * (total + signed), 0.0), max(0.5 * (total - signed), 0.0)
    if pos > neg:
        return alpha * np.where(y > 0, neg / pos, 1.0)
    return alpha * np.where(y < 0, pos / neg, 1.0)


# -- Crammer-Singer (one joint dual) -------------------------------------------
def multiclass_start(
    objective, form, warm_state, coef_init, upper, mean=None, unpenalized=False
):
    """Starting dual ``alpha`` (n, K) and ``W^T`` (d + 1, K) for Crammer-Singer.

    A warm state may come from another problem: ``alpha`` is projected onto
    the new problem's constraints (see :func:`_feasible_multiclass`), and its
    intercepts are kept only where the intercept is unpenalized.
    """
    codes = np.ascontiguousarray(objective.y, dtype=np.intp)
    n, d, K = objective.n_samples, objective.n_features, objective.n_outputs
    weights = objective.loss_scale * objective.sample_weight
    W0, b0 = _split_start(objective, coef_init)
    shift = np.zeros(K)
    if warm_state is not None and warm_state[0]["alpha"].shape == (n, K):
        alpha = np.array(warm_state[0]["alpha"], dtype=np.float64)
        shift = np.array(warm_state[0]["shift"], dtype=np.float64)
    elif W0 is not None:
        scores = objective.data_dot(W0.T) + b0  # see binary_start
        if mean is not None:
            scores += mean @ W0.T
        alpha = -weights[:, None] * objective.loss.gradient(codes, scores)
        shift = np.array(b0, dtype=np.float64)
    else:
        alpha = np.zeros((n, K))
    if not unpenalized:
        shift = np.zeros(K)
    rows = np.arange(n)
    alpha = _feasible_multiclass(alpha, codes, upper)
    alpha = np.ascontiguousarray(alpha)
    Wt = np.zeros((d + 1, K))
    Wt[:d] = objective.data_t_dot(alpha)
    if mean is not None and unpenalized:  # see binary_start
        shift = shift + mean @ Wt[:d]
    e = np.full((n, K), float(form.margin))
    e[rows, codes] = 0.0

    def offset(shift):
        return np.ascontiguousarray(e + shift)

    return {
        "y": codes,
        "alpha": alpha,
        "w": Wt,
        "shift": shift,
        "offset": offset,
    }


def _feasible_multiclass(alpha, codes, upper):
    """Project a start onto the Crammer-Singer dual's per-sample constraints.

    ``alpha_i^m <= 0`` off the true class, ``alpha_i^{y_i} = -sum_{m != y_i}
    alpha_i^m <= U_i``. A warm start on new labels violates the first (the
    kernel would then work from an infeasible point, and the certificate
    would read a dual value that bounds nothing): positive wrong-class entries
    are dropped, the true class takes the balance, and where it exceeds its
    bound the wrong classes are scaled down.
    """
    n = alpha.shape[0]
    rows = np.arange(n)
    wrong = np.minimum(alpha, 0.0)
    wrong[rows, codes] = 0.0
    true = -wrong.sum(axis=1)
    over = true > upper
    if np.any(over):
        wrong[over] *= (upper[over] / true[over])[:, None]
        true = -wrong.sum(axis=1)
    wrong[rows, codes] = true
    return wrong


def multiclass_certificate(objective, setup, start, alpha, Wt, shift):
    """Primal value and dual value at a feasible point for Crammer-Singer."""
    d = objective.n_features
    codes, bias, form = start["y"], setup["bias"], setup["form"]
    weights = objective.loss_scale * objective.sample_weight
    W = Wt[:d].T.copy()
    b = np.array(shift, dtype=float) if setup["unpenalized"] else bias * Wt[d]
    scores = objective.data_dot(W.T) + b
    primal = 0.5 * float(np.sum(W * W)) + 0.5 * objective.intercept_penalty * b @ b
    primal += float(weights @ objective.loss.loss(codes, scores))
    feasible = alpha
    if setup["unpenalized"]:
        feasible = _balance_multiclass(alpha, codes)
    W_hat = objective.data_t_dot(feasible)
    quadratic = float(np.sum(W_hat * W_hat))
    if bias and not setup["unpenalized"]:
        column = bias * feasible.sum(axis=0)
        quadratic += float(column @ column)
    true = feasible[np.arange(codes.size), codes]
    linear = form.margin * true.sum()
    ridge = 0.5 * float(setup["diag"] @ (true * true))
    dual = linear - 0.5 * quadratic - ridge
    return {
        "primal": primal,
        "gap": max(primal - dual, 0.0),
        "floor": rounding_floor(primal, linear, quadratic, ridge),
        "w": W,
        "b": b,
        "feasible": feasible,
    }


def _balance_multiclass(alpha, codes, max_rounds=1000):
    """Shrink the class-to-class flows of ``alpha`` to a circulation.

    Sample ``i`` sends ``beta_i^m = -alpha_i^m >= 0`` from its class to class
    ``m``; ``sum_i alpha_i^m = 0`` for every ``m`` says that each class sends
    out what it receives. Scaling the flows of each (class, class) pair down
    (iterative proportional scaling until the imbalance is at rounding level)
    keeps every per-sample constraint, because ``alpha_i^y = sum_m beta_i^m``
    shrinks with them.
    """
    n, K = alpha.shape
    rows = np.arange(n)
    beta = -alpha.copy()
    beta[rows, codes] = 0.0
    beta = np.maximum(beta, 0.0)
    flows = np.zeros((K, K))
    np.add.at(flows, codes, beta)
    kept = flows.copy()
    total = flows.sum()
    for _ in range(max_rounds):
        out, into = kept.sum(axis=1), kept.sum(axis=0)
        if np.max(np.abs(out - into), initial=0.0) <= 1e-15 * max(total, 1e-300):
            break
        row_scale = np.where(out > into, into / np.where(out > 0, out, 1.0), 1.0)
        kept *= row_scale[:, None]
        out, into = kept.sum(axis=1), kept.sum(axis=0)
        col_scale = np.where(into > out, out / np.where(into > 0, into, 1.0), 1.0)
        kept *= col_scale[None, :]
    ratio = np.divide(kept, flows, out=np.zeros_like(kept), where=flows > 0)
    beta *= ratio[codes]
    feasible = -beta
    feasible[rows, codes] = beta.sum(axis=1)
    return feasible


# -- the unpenalized intercept, exactly --------------------------------------
def exact_intercept(form, y, z, c, b0=0.0):
    """``argmin_b sum_i c_i l(y_i (z_i + b))`` for the hinge or squared hinge.

    ``l(u) = [m - u]_+`` (squared if ``form.squared``) is convex and piecewise
    linear (quadratic) in ``b``, with one breakpoint ``t_i = y_i m - z_i`` per
    sample: sorting them, the derivative on each piece is a running sum, and
    the minimizer is where it changes sign. Where a whole interval minimizes
    (a flat piece), the point nearest ``b0`` is taken, so that repeated calls
    do not jump between equally good intercepts.
    """
    live = c > 0
    y, z, c = y[live], z[live], c[live]
    if not (np.any(y > 0) and np.any(y < 0)):
        return float(b0)  # one class only: no finite minimizer (or any b)
    t = y * form.margin - z
    # the minimizer does not depend on the order of tied breakpoints (the
    # running sums at both ends of a tie are the same): the default sort,
    # vectorized in numpy >= 2, took 75 us on 7,400 values against 430 us
    # for the stable one (twonorm's path spent a quarter of its small values
    # of C in this sort)
    order = np.argsort(t)
    t, y, c = t[order], y[order], c[order]
    pos, neg = np.where(y > 0, c, 0.0), np.where(y < 0, c, 0.0)
    # after k breakpoints (b in [t_k, t_{k+1}]) the positives k+1.. and the
    # negatives ..k are active (have a positive loss)
    pos_above = pos.sum() - np.concatenate([[0.0], np.cumsum(pos)])
    neg_below = np.concatenate([[0.0], np.cumsum(neg)])
    lo = np.concatenate([[-np.inf], t])
    hi = np.concatenate([t, [np.inf]])
    if not form.squared:
        slope = neg_below - pos_above  # nondecreasing in k
        k = int(np.searchsorted(slope, 0.0, side="left"))
        if k <= len(t) and slope[k] == 0.0:  # a flat piece: all of it minimizes
            return float(np.clip(b0, lo[k], hi[k]))
        return float(t[k - 1])
    # squared: derivative / 2 on piece k is A_k b - B_k
    pos_t, neg_t = pos * t, neg * t
    A = pos_above + neg_below
    B = (pos_t.sum() - np.concatenate([[0.0], np.cumsum(pos_t)])) + np.concatenate(
        [[0.0], np.cumsum(neg_t)]
    )
    # the derivative at breakpoint j (1-based) is A_j t_j - B_j
    at_kink = A[1:] * t - B[1:]
    k = int(np.searchsorted(at_kink, 0.0, side="left"))  # root on piece k
    if A[k] <= 0.0:
        return float(np.clip(b0, lo[k], hi[k]))
    return float(np.clip(B[k] / A[k], lo[k], hi[k]))
