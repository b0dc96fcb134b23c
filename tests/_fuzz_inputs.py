"""Cases, strategies and the oracle of the fuzz suite (tests/test_fuzz.py).

A :class:`Case` is a small frozen record of plain values (a seed, a shape, a
scale, a sparse format, ...): :meth:`Case.build` turns it into the arrays
handed to :class:`~hinge_estimators.HingeClassifier`, and ``repr(case)`` is a
complete reproducer::

    from tests._fuzz_inputs import Case, run_case
    print(run_case(Case(...)))

:func:`run_case` fits the case and judges the outcome. The only acceptable
outcomes are

* ``clear_error`` -- a ``ValueError``/``TypeError`` raised by this package or
  by scikit-learn's validation (not leaked from numpy/scipy internals), with a
  message that says something;
* ``certified`` -- a finite model, inputs unchanged byte for byte, whose
  ``objective_value_`` matches the objective recomputed here from ``coef_``
  and ``intercept_`` with formulas written independently of the package, and
  whose ``optimality_`` does not understate the gap to a tight reference fit
  (``dual_cd``, ``newton`` and ``gd`` at tol 1e-12, the smallest objective
  recomputed here counting);
* ``flagged`` -- the same, with a ``ConvergenceWarning``.

Anything else is a failure kind (see ``FAILURES``). The suite and
tests/fuzz_summary.py share this module, so the counts the summary prints are
the outcomes the tests assert on.
"""

import contextlib
import copy
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import traceback
import warnings

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from scipy.special import ndtr
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import LOSSES
from hinge_estimators.solvers import SOLVERS

OK = ("clear_error", "certified", "flagged")
FAILURES = (
    "crash",  # the interpreter died (subprocess cases only)
    "hang",  # a subprocess case ran past its generous limit
    "unclear_error",  # an exception leaked from numpy/scipy/Python internals
    "wrong_error_type",  # raised by the package, but not a ValueError/TypeError
    "bad_refusal",  # an unsupported pair refused without naming loss and solver
    "accepted_invalid",  # NaN/inf/complex/negative input fitted without error
    "nonfinite_model",  # NaN/inf in coef_, intercept_ or the objective
    "unflagged_nonfinite_optimality",  # optimality_ NaN/inf, no warning
    "mutated_input",  # X, y or sample_weight changed by fit
    "objective_mismatch",  # objective_value_ != the recomputed objective
    "understated_optimality",  # the gap to the reference exceeds optimality_
    "silent_constant",  # a constant model, far from optimal, no warning
    "silently_suboptimal",  # converged, no warning, far above the reference
    "bad_labels",  # classes_ or predict() disagree with y
    "bad_predict",  # decision_function differs between X and its dense copy
    "runtime_warning",  # numpy RuntimeWarning during an otherwise fine fit
)

#: relative objective agreement asked of objective_value_: rounding of a sum
#: of n terms, far looser than any solver tolerance
VALUE_RTOL = 1e-7
#: what "converged" must mean at least for the solvers whose tol is not a
#: bound on the suboptimality (lbfgs, gd, fc_boosting: a relative gradient
#: norm); at the default tol=1e-4 a relative excess of 1 % is far out
LOOSE_RTOL = {"sgd": 0.05}
DEFAULT_LOOSE_RTOL = 1e-2
#: solvers whose optimality_ is documented as a bound on (P - P*) / P
GAP_SOLVERS = ("dual_cd", "newton")
REFERENCE_TOL = 1e-12
REFERENCE_MAX_ITER = {"dual_cd": 20_000, "newton": 500, "gd": 2_000}

MULTICLASS_LOSSES = tuple(n for n, c in LOSSES.items() if c.is_multiclass)
PAIRWISE_LOSSES = tuple(n for n, c in LOSSES.items() if c.is_pairwise)


INVALID_WEIGHTS = ("complex", "nan", "inf", "negative", "wrong_length")


# -- the case ----------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Case:
    """One fuzz input: plain values only, so that ``repr`` reproduces it."""

    category: str = "pairs"
    loss: str = "squared_hinge"
    loss_kw: tuple = ()
    solver: str = "auto"
    solver_kw: tuple = ()
    est_kw: tuple = ()
    seed: int = 0
    n: int = 20
    d: int = 3
    n_classes: int = 2
    labels: str = "int"  # int | pm1 | float | str | object_str | bool | mixed
    separation: float = 1.0
    x_exp: int = 0  # X *= 10**x_exp
    col_exps: tuple = ()  # column j *= 10**col_exps[j]
    offset_exp: int | None = None  # X += 10**offset_exp (+ per-column jitter)
    special: str | None = None  # finfo_max | constant_column | duplicate_rows
    sparse: str | None = None  # csr | csc | coo | lil | dok | csr_array | dup ...
    density: float = 1.0
    empty_rows: int = 0
    layout: str | None = None  # fortran | strided | negstride | readonly | ...
    weights: str | None = None  # zeros | tiny | huge | mixed | scalar | int
    weight_exp: int = 0
    class_weight: tuple | None = None  # ((code, value), ...) or ("balanced",)
    #: a first fit before the judged one, with warm_start=True: (seed, n, d,
    #: est_kw of the first fit); set_params(**est_kw) then the judged fit
    warm: tuple | None = None

    def __repr__(self):
        # only the fields that differ from the defaults: a short reproducer
        parts = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default
        ]
        return f"Case({', '.join(parts)})"

    @property
    def invalid(self):
        """Whether the input is invalid, so that fit must refuse it."""
        return (
            self.weights in INVALID_WEIGHTS
            or self.special in ("nan", "inf")
            or self.labels in ("nan", "mixed")
        )

    # -- building -----------------------------------------------------------
    def dense_data(self):
        """``(X, codes)``: float64 C-ordered data before format and layout."""
        rng = np.random.RandomState(self.seed)
        codes = np.arange(self.n) % self.n_classes
        rng.shuffle(codes)
        centers = rng.normal(size=(self.n_classes, self.d)) * self.separation
        X = centers[codes] + rng.normal(size=(self.n, self.d))
        if self.density < 1.0:
            X[rng.uniform(size=X.shape) > self.density] = 0.0
        if self.empty_rows:
            X[rng.choice(self.n, min(self.empty_rows, self.n), replace=False)] = 0
        if self.special == "constant_column":
            X[:, 0] = 3.0
        elif self.special in ("nan", "inf"):
            X[0, 0] = np.nan if self.special == "nan" else -np.inf
        elif self.special == "duplicate_rows":
            X[1::2] = X[0:-1:2]
        elif self.special == "abort":
            os.abort()  # a self-test of run_isolated (tests/test_fuzz.py)
        elif self.special == "finfo_max":
            X = np.finfo(np.float64).max * rng.uniform(size=X.shape)
        with np.errstate(over="ignore"):
            X = X * 10.0**self.x_exp
            for j, e in enumerate(self.col_exps[: self.d]):
                X[:, j] *= 10.0**e
        if self.offset_exp is not None:
            shift = 10.0**self.offset_exp * (1.0 + rng.uniform(size=self.d))
            X = X + shift
        return X, codes

    def label_values(self, codes):
        """``y`` in the requested label type."""
        k = self.labels
        if k == "int":
            return codes.astype(np.int64)
        if k == "pm1":
            return (2 * codes - 1) if self.n_classes == 2 else codes - 1
        if k == "float":
            # integral floats: non-integral ones are "continuous" to sklearn
            return codes * 2.0 - 1.0
        if k == "list":
            return [int(c) for c in codes]
        if k == "str":
            return np.array(["class_" + "ab"[c % 2] * (c + 1) for c in codes])
        if k == "object_str":
            return np.array([f"c{c}" for c in codes], dtype=object)
        if k == "bool":
            return codes.astype(bool) if self.n_classes == 2 else codes
        if k == "mixed":
            return np.array([c if c % 2 else str(c) for c in codes], dtype=object)
        if k == "nan":
            y = codes * 1.0
            y[0] = np.nan
            return y
        raise ValueError(k)

    def sample_weight(self, rng):
        n, w = self.n, self.weights
        if w is None:
            return None
        scale = 10.0**self.weight_exp
        if w == "zeros":
            sw = rng.uniform(0.5, 2.0, size=n)
            sw[rng.uniform(size=n) < 0.4] = 0.0
            return sw
        if w in ("tiny", "huge"):
            return scale * rng.uniform(0.5, 2.0, size=n)
        if w == "uniform":
            return np.full(n, scale)
        if w == "mixed":
            return 10.0 ** rng.randint(
                -abs(self.weight_exp), abs(self.weight_exp) + 1, n
            )
        if w == "scalar":
            return scale
        if w == "int":
            return rng.randint(0, 4, size=n)
        if w == "list":
            return [float(v) for v in rng.uniform(0.5, 2.0, size=n)]
        # invalid weights: each must be refused clearly
        sw = rng.uniform(0.5, 2.0, size=n)
        if w == "complex":
            return sw + 0.5j
        if w in ("nan", "inf", "negative"):
            sw[0] = {"nan": np.nan, "inf": np.inf, "negative": -1.0}[w]
            return sw
        if w == "wrong_length":
            return sw[:-1]
        raise ValueError(w)

    def build(self):
        """``(X, y, sample_weight, X_dense)``: the fit's inputs and a plain copy."""
        X, codes = self.dense_data()
        y = self.label_values(codes)
        sw = self.sample_weight(np.random.RandomState(self.seed + 1))
        Xf = _to_sparse(X, self.sparse, self.seed) if self.sparse else X
        if self.layout is not None:
            Xf = _to_layout(Xf, self.layout)
        # the values the fit gets (duplicates summed, float32 or ints rounded)
        if sp.issparse(Xf):
            X = np.asarray(Xf.toarray(), dtype=np.float64)
        else:
            X = np.asarray(Xf, dtype=np.float64)
        return Xf, y, sw, X

    def estimator(self):
        loss = self.loss
        if self.loss_kw:
            loss = LOSSES[self.loss](**dict(self.loss_kw))
        solver = self.solver
        if self.solver_kw:
            solver = SOLVERS[self.solver](**dict(self.solver_kw))
        kw = dict(self.est_kw)
        if self.class_weight is not None:
            kw["class_weight"] = (
                "balanced"
                if self.class_weight == ("balanced",)
                else {self._label_of(c): v for c, v in self.class_weight}
            )
        kw.setdefault("random_state", 0)
        return HingeClassifier(loss=loss, solver=solver, **kw)

    def _label_of(self, code):
        value = self.label_values(np.array([code]))[0]
        return value.item() if hasattr(value, "item") else value


def _to_sparse(X, kind, seed):
    rng = np.random.RandomState(seed + 2)
    csr = sp.csr_matrix(X)
    if kind in ("csr", "csc", "coo", "lil", "dok", "bsr"):
        return csr.asformat(kind)
    if kind == "csr_array":
        return sp.csr_array(X)
    if kind == "csc_array":
        return sp.csc_array(X)
    if kind == "int64":
        out = csr.copy()
        out.indices = out.indices.astype(np.int64)
        out.indptr = out.indptr.astype(np.int64)
        return out
    if kind == "explicit_zeros":
        # store every zero of the dense matrix: same values, more entries
        rows, cols = np.nonzero(np.ones_like(X))
        return sp.csr_matrix((X[rows, cols], (rows, cols)), shape=X.shape)
    if kind == "unsorted":
        out = csr.copy()
        for i in range(out.shape[0]):
            lo, hi = out.indptr[i], out.indptr[i + 1]
            out.indices[lo:hi] = out.indices[lo:hi][::-1].copy()
            out.data[lo:hi] = out.data[lo:hi][::-1].copy()
        out.has_sorted_indices = False
        return out
    if kind in ("dup", "coo_dup"):
        # every stored value split into two duplicate entries that sum to it
        coo = csr.tocoo()
        part = rng.uniform(-2.0, 3.0, size=coo.nnz) * coo.data
        rows = np.concatenate([coo.row, coo.row])
        cols = np.concatenate([coo.col, coo.col])
        data = np.concatenate([part, coo.data - part])
        if kind == "coo_dup":
            return sp.coo_matrix((data, (rows, cols)), shape=X.shape)
        order = np.lexsort((cols, rows))
        indptr = np.zeros(X.shape[0] + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=X.shape[0]), out=indptr[1:])
        out = sp.csr_matrix(
            (data[order], cols[order].astype(np.int32), indptr), shape=X.shape
        )
        out.has_canonical_format = False
        return out
    raise ValueError(kind)


def _to_layout(X, layout):
    if sp.issparse(X):
        if layout == "readonly":
            for name in ("data", "indices", "indptr", "row", "col"):
                arr = getattr(X, name, None)
                if isinstance(arr, np.ndarray):
                    arr.flags.writeable = False
            return X
        return X
    if layout == "fortran":
        return np.asfortranarray(X)
    if layout == "strided":
        big = np.zeros((X.shape[0] * 2, X.shape[1] * 3))
        big[::2, ::3] = X
        return big[::2, ::3]
    if layout == "negstride":
        return X[::-1][::-1, ::-1][:, ::-1]
    if layout == "readonly":
        out = X.copy()
        out.flags.writeable = False
        return out
    if layout == "memmap":
        fd, name = tempfile.mkstemp(suffix=".dat")
        os.close(fd)
        mm = np.memmap(name, dtype=np.float64, mode="w+", shape=X.shape)
        mm[:] = X
        mm.flush()
        ro = np.memmap(name, dtype=np.float64, mode="r", shape=X.shape)
        _MEMMAPS.append(name)
        return ro
    if layout == "float32":
        return X.astype(np.float32)
    if layout == "int":
        return np.round(X).astype(np.int64)
    if layout == "list":
        return X.tolist()
    if layout == "fortran_readonly":
        out = np.asfortranarray(X)
        out.flags.writeable = False
        return out
    raise ValueError(layout)


_MEMMAPS = []


def cleanup_memmaps():
    while _MEMMAPS:
        with contextlib.suppress(OSError):
            os.unlink(_MEMMAPS.pop())


# -- snapshots (mutation check) ----------------------------------------------
def _snapshot(obj):
    if obj is None or np.isscalar(obj):
        return ("scalar", repr(obj))
    if isinstance(obj, list):
        return ("list", copy.deepcopy(obj))
    if sp.issparse(obj):
        parts = [type(obj).__name__, obj.shape]
        if obj.format == "lil":
            parts += [
                copy.deepcopy(obj.rows.tolist()),
                copy.deepcopy(obj.data.tolist()),
            ]
        elif obj.format == "dok":
            parts += [sorted(dict(obj).items())]
        else:
            if obj.format in ("csr", "csc"):
                # scipy trusts these flags: a fit must not set them wrongly
                parts += [obj.has_sorted_indices, obj.has_canonical_format]
            for name in ("data", "indices", "indptr", "row", "col", "coords"):
                arr = getattr(obj, name, None)
                if isinstance(arr, tuple):
                    parts += [(a.dtype.str, a.tobytes()) for a in arr]
                elif isinstance(arr, np.ndarray):
                    parts.append(
                        (name, arr.dtype.str, arr.tobytes(), arr.flags.writeable)
                    )
        return tuple(parts)
    arr = np.asarray(obj)
    flags = (arr.flags.writeable, arr.flags.c_contiguous, arr.flags.f_contiguous)
    if arr.dtype == object:
        return ("object", arr.shape, flags, repr(arr.tolist()))
    return (arr.dtype.str, arr.shape, arr.strides, flags, arr.tobytes())


# -- the independent objective -----------------------------------------------
def _smooth_plus(u, gamma):
    u = np.asarray(u, dtype=float)
    return np.where(
        u <= 0,
        0.0,
        np.where(
            u < gamma, np.square(np.minimum(u, gamma)) / (2 * gamma), u - gamma / 2
        ),
    )


def _margin_phi(loss, kw, z):
    """Per-entry loss of the margin ``z = y * score`` (formulas.md section 8)."""
    if loss == "hinge":
        return np.maximum(kw.get("margin", 1.0) - z, 0.0)
    if loss == "squared_hinge":
        return np.square(np.maximum(1.0 - z, 0.0))
    if loss == "smooth_hinge":
        return _smooth_plus(kw.get("margin", 1.0) - z, kw.get("gamma", 1.0))
    if loss == "modified_huber":
        return np.where(z >= -1.0, np.square(np.maximum(1.0 - z, 0.0)), -4.0 * z)
    if loss == "gaussian_hinge":
        sigma = kw.get("sigma", 0.5)
        t = 1.0 - z
        u = t / sigma
        return t * ndtr(u) + sigma * np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)
    raise ValueError(loss)


def _pair_phi(loss, kw, diff):
    """Loss of a (positive, negative) pair with score difference ``diff``."""
    m = kw.get("margin", 1.0)
    if loss == "pairwise_squared_hinge":
        return np.square(np.maximum(m - diff, 0.0))
    if loss == "pairwise_square":
        return np.square(m - diff)
    if loss == "pairwise_smooth_hinge":
        return _smooth_plus(m - diff, kw.get("gamma", 1.0))
    raise ValueError(loss)


def per_sample_weights(case, codes, sw):
    """``s_i = sample_weight_i * class_weight[y_i]`` (design.md)."""
    s = (
        np.ones(len(codes))
        if sw is None
        else np.asarray(sw, dtype=float) * np.ones(len(codes))
    )
    cw = case.class_weight
    if cw is None:
        return s
    if cw == ("balanced",):
        totals = np.bincount(codes, weights=s, minlength=case.n_classes)
        return s * (totals.sum() / (case.n_classes * totals))[codes]
    per_class = np.ones(case.n_classes)
    for c, v in cw:
        per_class[c] = v
    return s * per_class[codes]


def objective_parts(case, n):
    """``(C, penalty, fit_intercept, B)`` of the objective the case fits.

    ``SGD(alpha=a)`` reports ``P`` with ``C = 1 / (a n)`` (see ``SGD``)."""
    est = dict(case.est_kw)
    C = est.get("C", 1.0)
    alpha = dict(case.solver_kw).get("alpha") if case.solver == "sgd" else None
    if alpha is not None and alpha > 0:
        C = 1.0 / (alpha * n)
    return (
        C,
        est.get("penalty", "l2"),
        est.get("fit_intercept", True),
        est.get("intercept_scaling"),
    )


def _risk_terms(case, S, codes, s, shift):
    """Weighted loss terms with every margin moved by ``shift`` (per sample)
    in the direction that raises (``shift > 0``) or lowers the loss."""
    kw = dict(case.loss_kw)
    if case.loss in PAIRWISE_LOSSES:
        t = S[:, 0]
        keep = s > 0
        pos, neg = keep & (codes == 1), keep & (codes == 0)
        wp, wn = s[pos].sum(), s[neg].sum()
        diff = t[pos][:, None] - t[neg][None, :]
        diff = diff - (shift[pos][:, None] + shift[neg][None, :])
        pairs = np.outer(s[pos], s[neg]) * _pair_phi(case.loss, kw, diff)
        return (wp + wn) / (wp * wn) * pairs
    if case.loss in MULTICLASS_LOSSES:
        rows = np.arange(len(codes))
        delta = kw.get("delta", 1.0)
        M = delta + S - S[rows, codes][:, None] + 2 * shift[:, None]
        M[rows, codes] = -np.inf
        if case.loss == "crammer_singer":
            per = np.maximum(M.max(axis=1), 0.0)
            if kw.get("squared"):
                per = per * per
        else:
            pos = np.maximum(M, 0.0)
            per = (pos * pos if kw.get("squared") else pos).sum(axis=1)
        return s * per
    Y = -np.ones(S.shape)
    if S.shape[1] == 1:
        Y[:, 0] = np.where(codes == 1, 1.0, -1.0)
    else:
        Y[np.arange(len(codes)), codes] = 1.0
    return s[:, None] * _margin_phi(case.loss, kw, Y * S - shift[:, None])


def primal_objective(case, X, codes, s, coef, intercept, with_slack=False):
    """``P`` recomputed from the public ``coef_`` and ``intercept_``.

    Written from formulas.md, not from the package: the per-sample losses on
    the scores, the L2 penalty on ``coef_`` only (plus ``b^2 / (2 B^2)`` with
    ``intercept_scaling=B``), ``C`` times the weighted sum (``1`` without a
    penalty). A multiclass loss on two classes publishes ``W_1 - W_0``; the
    objective is evaluated at the symmetric split ``W_1 = -W_0 = coef / 2``,
    which is the minimum over the splits with that difference.

    With ``with_slack``, also how far rounding of the scores alone can move
    ``P``: each score carries an error up to
    ``Delta_i = (d + 2) eps (|x_i| |w| + |b|)``; the losses are convex in the
    margins, so the largest change of a term within ``+-Delta`` is at an end.
    With a huge ``C`` on a hard-margin optimum this dominates (a unit in the
    last place of a score times ``C``).
    """
    C, penalty, fit_intercept, B = objective_parts(case, len(codes))
    coef = np.asarray(coef, dtype=float)
    intercept = np.asarray(intercept, dtype=float)
    X = np.asarray(X, dtype=float)
    pairwise = case.loss in PAIRWISE_LOSSES
    if case.loss in MULTICLASS_LOSSES and case.n_classes == 2:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    with np.errstate(all="ignore"):
        S = X @ coef.T
        use_b = fit_intercept and not pairwise
        if use_b:
            S = S + intercept
        reg = 0.5 * float(np.sum(coef * coef)) if penalty == "l2" else 0.0
        if use_b and B is not None and penalty == "l2":
            reg += 0.5 * float(np.sum(intercept * intercept)) / B**2
        scale = C if penalty == "l2" else 1.0
        zero = np.zeros(len(codes))
        terms = _risk_terms(case, S, codes, s, zero)
        value = reg + scale * float(terms.sum())
        if not with_slack:
            return value
        size = np.abs(X) @ np.abs(coef).T + (np.abs(intercept) if use_b else 0.0)
        delta = (X.shape[1] + 2) * np.finfo(float).eps * size.max(axis=1)
        up = np.abs(_risk_terms(case, S, codes, s, delta) - terms)
        down = np.abs(_risk_terms(case, S, codes, s, -delta) - terms)
        slack = scale * float(np.maximum(up, down).sum())
        return value, slack


# -- the oracle -----------------------------------------------------------
@dataclasses.dataclass
class Outcome:
    kind: str
    detail: str = ""

    @property
    def ok(self):
        return self.kind in OK


def _pair_is_refused(case):
    loss = LOSSES[case.loss](**dict(case.loss_kw))
    if case.solver == "auto":
        return None
    solver = SOLVERS[case.solver](**dict(case.solver_kw))
    try:
        solver.validate()
    except (ValueError, TypeError):
        return None  # a parameter error, judged as any other error
    try:
        solver.check_loss(loss)
    except ValueError as exc:
        return exc
    return None


def _error_is_clear(exc):
    """A ValueError/TypeError raised by this package or sklearn's validation."""
    if not isinstance(exc, ValueError | TypeError):
        return False
    if isinstance(exc, np.linalg.LinAlgError):
        return False
    tb = traceback.extract_tb(exc.__traceback__)
    origin = tb[-1].filename if tb else ""
    ours = ("hinge_estimators", os.sep + "sklearn" + os.sep)
    if not any(part in origin for part in ours):
        return False
    return len(str(exc)) >= 15


def _reference_solvers(case):
    loss = LOSSES[case.loss](**dict(case.loss_kw))
    est = dict(case.est_kw)
    out = []
    if loss.dual_form() is not None and est.get("penalty", "l2") == "l2":
        out.append("dual_cd")
    if loss.is_smooth:
        out.append("newton")
    # gd only where no exact solver applies (plain Weston-Watkins, no
    # penalty): its smoothing stages are slow at tol 1e-12
    return out or ["gd"]


def reference_value(case, X, y, sw, codes, s):
    """An upper bound on ``P*``: the smallest objective (recomputed here,
    plus its rounding slack) of tight fits, with ``(model, X it was fitted
    on)``; ``None, (None, None)`` without one.

    With a free intercept the optimum does not move when every feature is
    shifted by a constant, so an offset case also tries its unshifted data.
    """
    est = dict(case.est_kw)
    if est.get("penalty", "l2") is None:
        return None, (None, None)
    candidates = [X]
    if case.offset_exp is not None and (
        case.loss in PAIRWISE_LOSSES
        or (est.get("fit_intercept", True) and est.get("intercept_scaling") is None)
    ):
        candidates.append(dataclasses.replace(case, offset_exp=None).dense_data()[0])
    best, best_model = None, (None, None)
    for Xr in candidates:
        for solver in _reference_solvers(case):
            kw = {
                **est,
                "tol": REFERENCE_TOL,
                "max_iter": REFERENCE_MAX_ITER[solver],
            }
            ref = dataclasses.replace(
                case, solver=solver, solver_kw=(), est_kw=tuple(kw.items())
            )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with np.errstate(all="ignore"):
                        model = ref.estimator().fit(Xr, y, sample_weight=sw)
                # on the data it was fitted to: the optimum is the same
                value, slack = primal_objective(
                    case, Xr, codes, s, model.coef_, model.intercept_, True
                )
            except Exception:  # noqa: BLE001 - a reference that fails is skipped
                continue
            # value + slack: an upper bound on the true P of the reference,
            # hence on P*
            bound = value + slack
            if np.isfinite(bound) and (best is None or bound < best):
                best, best_model = bound, (model, Xr)
    return best, best_model


def run_case(case, *, reference=True):
    """Fit ``case`` and judge the outcome; returns an :class:`Outcome`."""
    try:
        X, y, sw, X_dense = case.build()
    except Exception as exc:  # noqa: BLE001 - a bad case is a bug of this file
        raise AssertionError(f"case could not be built: {exc!r}") from exc
    before = (_snapshot(X), _snapshot(y), _snapshot(sw))
    refused = _pair_is_refused(case)
    est = case.estimator()
    if case.warm is not None:
        seed, n, d, first_kw = case.warm
        first = dataclasses.replace(
            case, seed=seed, n=n, d=d, est_kw=first_kw, warm=None
        )
        Xw, yw, sww, _ = first.build()
        est = first.estimator()
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                est.fit(Xw, yw, sample_weight=sww)
        except Exception:  # noqa: BLE001 - only the second fit is judged
            est = first.estimator()
        est.set_params(**case.estimator().get_params(deep=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y, sample_weight=sw)
            error = None
        except MemoryError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - judged below
            error = exc
    if (_snapshot(X), _snapshot(y), _snapshot(sw)) != before:
        return Outcome("mutated_input", "fit changed its input")
    if refused is not None:
        if error is None:
            return Outcome(
                "bad_refusal", f"check_loss refuses it ({refused}) but fit ran"
            )
        msg = str(error)
        names = (
            type(est.solver).__name__ if not isinstance(est.solver, str) else None,
        )
        solver_names = {
            case.solver,
            SOLVERS[case.solver].__name__,
            *filter(None, names),
        }
        loss_names = {case.loss, LOSSES[case.loss].__name__}
        if (
            isinstance(error, ValueError)
            and any(n in msg for n in solver_names)
            and any(n in msg for n in loss_names)
        ):
            return Outcome("clear_error", msg[:120])
        return Outcome("bad_refusal", f"{type(error).__name__}: {msg[:200]}")
    if error is not None:
        if _error_is_clear(error):
            return Outcome("clear_error", f"{type(error).__name__}: {str(error)[:160]}")
        tb = traceback.extract_tb(error.__traceback__)
        where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else "?"
        ours = tb and "hinge_estimators" in tb[-1].filename
        raised = tb and tb[-1].line and tb[-1].line.lstrip().startswith("raise ")
        return Outcome(
            "wrong_error_type" if ours and raised else "unclear_error",
            f"{type(error).__name__} at {where}: {str(error)[:160]}",
        )
    if case.invalid:
        return Outcome("accepted_invalid", "fit accepted invalid input")
    flagged = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    return _judge_model(case, est, X, X_dense, y, sw, flagged, runtime, reference)


def _judge_model(case, est, X_given, X_dense, y, sw, flagged, runtime, reference):
    coef, intercept = est.coef_, est.intercept_
    if not (
        np.all(np.isfinite(coef))
        and np.all(np.isfinite(intercept))
        and np.isfinite(est.objective_value_)
    ):
        return Outcome(
            "nonfinite_model",
            f"coef finite={np.all(np.isfinite(coef))}, intercept={intercept}, "
            f"objective_value_={est.objective_value_}",
        )
    if np.isnan(est.optimality_) or (np.isinf(est.optimality_) and not flagged):
        return Outcome(
            "unflagged_nonfinite_optimality",
            f"optimality_={est.optimality_} without a ConvergenceWarning",
        )
    classes = np.unique(np.asarray(y))
    if not np.array_equal(np.asarray(est.classes_), classes):
        return Outcome("bad_labels", f"classes_={est.classes_!r}")
    pred = est.predict(X_dense)
    if not np.all(np.isin(pred, classes)):
        return Outcome("bad_labels", f"predict gave {np.unique(pred)!r}")
    if X_given is not X_dense:
        # the fitted model must score the input as given like its plain copy
        given = np.asarray(est.decision_function(X_given), dtype=float)
        plain = np.asarray(est.decision_function(X_dense), dtype=float)
        with np.errstate(all="ignore"):
            size = np.abs(X_dense) @ np.abs(coef).T + np.abs(intercept)
        single = getattr(X_given, "dtype", None) == np.float32
        tol = (1e-5 if single else 1e-10) * size.reshape(given.shape) + 1e-300
        if not np.all(np.abs(given - plain) <= tol):
            return Outcome(
                "bad_predict", "decision_function differs on the input's format"
            )
    codes = np.searchsorted(classes, np.asarray(y))
    s = per_sample_weights(case, codes, sw)
    value, slack = primal_objective(case, X_dense, codes, s, coef, intercept, True)
    if not np.isfinite(value):
        return Outcome("nonfinite_model", f"recomputed objective {value}")
    reported = est.objective_value_
    # both computations carry the rounding of the scores (slack each)
    tolerance = VALUE_RTOL * max(abs(value), abs(reported)) + 2 * slack + 1e-300
    if abs(reported - value) > tolerance:
        return Outcome(
            "objective_mismatch",
            f"objective_value_={reported!r}, recomputed {value!r} "
            f"(relative {abs(reported - value) / max(abs(value), 1e-300):.3g}, "
            f"rounding slack {slack:.3g})",
        )
    if reference:
        best, (model, X_ref) = reference_value(case, X_dense, y, sw, codes, s)
        if best is not None and value > 0:
            # a lower bound on the true P of the fit minus an upper bound on P*
            excess = (value - slack - best) / value
            solver = est.solver_.name
            constant = (
                np.unique(pred).size == 1 and np.unique(model.predict(X_ref)).size > 1
            )
            where = f"P={value:.6g}, reference {best:.6g}, relative excess {excess:.3g}"
            if solver in GAP_SOLVERS and excess > est.optimality_ * (1 + 1e-6) + 1e-9:
                kind = (
                    "silent_constant"
                    if constant and not flagged
                    else "understated_optimality"
                )
                return Outcome(kind, f"{where} > optimality_={est.optimality_:.3g}")
            loose = LOOSE_RTOL.get(solver, DEFAULT_LOOSE_RTOL)
            if not flagged and excess > loose:
                kind = "silent_constant" if constant else "silently_suboptimal"
                return Outcome(kind, f"{where} (solver {solver}, no warning)")
    if runtime:
        return Outcome("runtime_warning", str(runtime[0].message)[:160])
    return Outcome("flagged" if flagged else "certified")


# -- subprocess isolation ---------------------------------------------------
WORKER_MEMORY = 4 * 2**30
WORKER_TIMEOUT = 300


def _worker():
    """Read case reprs from stdin; print one JSON outcome line per case."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass
    for line in sys.stdin:
        case = eval(line, {"Case": Case})  # noqa: S307 - our own reprs
        print("START", flush=True)
        outcome = run_case(case, reference=False)
        cleanup_memmaps()
        print(json.dumps(dataclasses.asdict(outcome)), flush=True)


def run_isolated(cases):
    """:func:`run_case` for each case in child processes; a crash or a hang
    is recorded as that case's outcome and the next case gets a new child."""
    outcomes, todo = [], list(cases)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    while todo:
        feed = "".join(repr(c) + "\n" for c in todo)
        proc = subprocess.Popen(
            [sys.executable, "-c", "from tests._fuzz_inputs import _worker; _worker()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        try:
            out, err = proc.communicate(feed, timeout=WORKER_TIMEOUT * len(todo))
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            timed_out = True
        done = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        outcomes += [Outcome(**o) for o in done]
        todo = todo[len(done) :]
        if todo:
            started = out.count("START") > len(done)
            if timed_out:
                outcomes.append(
                    Outcome("hang", f"no answer in {WORKER_TIMEOUT * len(todo)} s")
                )
            elif started or proc.returncode != 0:
                tail = err.strip().splitlines()[-1:] if err.strip() else []
                outcomes.append(
                    Outcome(
                        "crash", f"exit code {proc.returncode}: {' '.join(tail)[:200]}"
                    )
                )
            else:
                raise AssertionError(f"worker failed before the case: {err[-2000:]}")
            todo = todo[1:]
    return outcomes


# -- strategies ---------------------------------------------------------------
#: every (loss, solver) pair of the registries, "auto" included; refused ones
#: must raise a ValueError naming both
ALL_PAIRS = tuple((lo, so) for lo in LOSSES for so in ("auto", *SOLVERS))


def _accepted(loss, solver):
    if solver == "auto":
        return True
    try:
        SOLVERS[solver]().check_loss(LOSSES[loss]())
    except ValueError:
        return False
    return True


#: the pairs that fit, with the solver's keyword arguments (a pairwise loss
#: needs SGD(batch_size >= 2))
ACCEPTED = tuple(
    [(lo, so, ()) for lo, so in ALL_PAIRS if _accepted(lo, so)]
    + [(lo, "sgd", (("batch_size", 8),)) for lo in PAIRWISE_LOSSES]
)

#: loss hyper-parameters worth varying (objects, as a user passes them)
LOSS_VARIANTS = {
    "hinge": [(("margin", 0.5),)],
    "smooth_hinge": [(("gamma", 0.1),), (("gamma", 3.0), ("margin", 0.5))],
    "gaussian_hinge": [(("sigma", 0.05),)],
    "crammer_singer": [(("squared", True),), (("delta", 0.5),)],
    "weston_watkins": [(("squared", True),), (("delta", 2.0),)],
    "pairwise_smooth_hinge": [(("gamma", 0.2),)],
}


@st.composite
def pair_and_loss(draw, pairs=ACCEPTED):
    loss, solver, solver_kw = draw(st.sampled_from(pairs))
    loss_kw = ()
    if loss in LOSS_VARIANTS and draw(st.booleans()):
        loss_kw = draw(st.sampled_from(LOSS_VARIANTS[loss]))
    return {"loss": loss, "loss_kw": loss_kw, "solver": solver, "solver_kw": solver_kw}


@st.composite
def estimator_kw(draw, loss, penalty_none=False):
    kw = {}
    C = draw(st.sampled_from([1.0, 1.0, 0.01, 100.0]))
    if C != 1.0:
        kw["C"] = C
    if not draw(st.integers(0, 4)):
        kw["fit_intercept"] = False
    elif (penalty_none or loss not in PAIRWISE_LOSSES) and not draw(st.integers(0, 4)):
        # a pairwise loss refuses it (tested in the "pairs" category)
        kw["intercept_scaling"] = draw(st.sampled_from([1.0, 10.0]))
    if not draw(st.integers(0, 3)):
        kw["tol"] = 1e-8
    if penalty_none and not draw(st.integers(0, 5)):
        kw["penalty"] = None
        kw.pop("C", None)
    return tuple(sorted(kw.items()))


@st.composite
def base_case(draw, category, pairs=ACCEPTED, penalty_none=False):
    fields = draw(pair_and_loss(pairs))
    n_classes = 2 if draw(st.integers(0, 3)) else draw(st.integers(3, 4))
    if fields["loss"] in PAIRWISE_LOSSES and category not in ("pairs", "labels"):
        n_classes = 2  # more classes are refused (tested in those two)
    return Case(
        category=category,
        est_kw=draw(estimator_kw(fields["loss"], penalty_none)),
        seed=draw(st.integers(0, 2**31 - 1)),
        n=draw(st.integers(max(6, 2 * n_classes), 40)),
        d=draw(st.integers(1, 6)),
        n_classes=n_classes,
        separation=draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])),
        **fields,
    )


def pairs_cases():
    """Every registered pair, refused ones included, on ordinary data."""
    return base_case(
        "pairs", pairs=tuple((lo, so, ()) for lo, so in ALL_PAIRS), penalty_none=True
    )


@st.composite
def scales_cases(draw):
    """Features, single columns or C scaled by 10**e, |e| <= 150 (some beyond)."""
    case = draw(base_case("scales"))
    where = draw(st.sampled_from(["X", "X", "columns", "C", "special"]))
    exp = st.integers(-150, 150)
    if where == "X":
        return dataclasses.replace(case, x_exp=draw(exp))
    if where == "columns":
        return dataclasses.replace(
            case, col_exps=tuple(draw(exp) for _ in range(case.d))
        )
    if where == "C":
        kw = dict(case.est_kw)
        kw["C"] = 10.0 ** draw(exp)
        kw.pop("penalty", None)
        return dataclasses.replace(case, est_kw=tuple(sorted(kw.items())))
    special = draw(
        st.sampled_from(
            ["finfo_max", "x300", "constant_column", "duplicate_rows", "nan", "inf"]
        )
    )
    if special == "x300":
        return dataclasses.replace(case, x_exp=draw(st.sampled_from([-300, 300])))
    return dataclasses.replace(case, special=special)


@st.composite
def offsets_cases(draw):
    """Every feature shifted by 10**e, e in [1, 8] (with a per-column jitter)."""
    case = draw(base_case("offsets"))
    return dataclasses.replace(case, offset_exp=draw(st.integers(1, 8)))


SPARSE_KINDS = (
    "csr",
    "csc",
    "coo",
    "lil",
    "dok",
    "bsr",
    "csr_array",
    "csc_array",
    "dup",
    "coo_dup",
    "unsorted",
    "int64",
    "explicit_zeros",
)


@st.composite
def sparse_cases(draw):
    """Sparse formats, non-canonical ones, explicit zeros and empty rows."""
    case = draw(base_case("sparse"))
    return dataclasses.replace(
        case,
        sparse=draw(st.sampled_from(SPARSE_KINDS)),
        density=draw(st.sampled_from([1.0, 0.5, 0.2])),
        empty_rows=draw(st.integers(0, 3)),
        layout="readonly" if not draw(st.integers(0, 4)) else None,
    )


LAYOUTS = (
    "fortran",
    "strided",
    "negstride",
    "readonly",
    "memmap",
    "float32",
    "int",
    "list",
    "fortran_readonly",
)


@st.composite
def layouts_cases(draw):
    """Memory layouts and dtypes of a dense X."""
    case = draw(base_case("layouts"))
    return dataclasses.replace(case, layout=draw(st.sampled_from(LAYOUTS)))


@st.composite
def weights_cases(draw):
    """Sample weights with zeros, tiny, huge or mixed magnitudes; class weights."""
    case = draw(base_case("weights"))
    kind = draw(
        st.sampled_from(
            [
                "zeros",
                "tiny",
                "huge",
                "uniform",
                "mixed",
                "scalar",
                "int",
                "complex",
                "nan",
                "inf",
                "negative",
                "wrong_length",
                "list",
                "class",
            ]
        )
    )
    if kind == "class":
        value = 10.0 ** draw(st.integers(-150, 150))
        cw = ((draw(st.integers(0, case.n_classes - 1)), value),)
        if not draw(st.integers(0, 3)):
            cw = ((0, 0.0),) if case.n_classes == 2 else cw + ((1, 0.0),)
        return dataclasses.replace(case, class_weight=cw)
    exp = {
        "tiny": st.integers(-150, -1),
        "huge": st.integers(1, 150),
        "uniform": st.sampled_from([-300, -150, -20, 20, 150, 300]),
        "mixed": st.integers(1, 150),
        "scalar": st.integers(-150, 150),
    }.get(kind, st.just(0))
    balanced = ("balanced",) if not draw(st.integers(0, 3)) else None
    return dataclasses.replace(
        case, weights=kind, weight_exp=draw(exp), class_weight=balanced
    )


@st.composite
def labels_cases(draw):
    """Label types: ints, +-1, floats, strings, object strings, bools, mixed."""
    case = draw(base_case("labels"))
    kind = draw(
        st.sampled_from(
            ["int", "pm1", "float", "str", "object_str", "bool", "mixed", "list", "nan"]
        )
    )
    return dataclasses.replace(case, labels=kind)


@st.composite
def warm_cases(draw):
    """A warm-started refit after a first fit on other data or parameters
    (issue 13 item 2: a warm start may only speed a fit up)."""
    case = draw(base_case("warm"))
    kw = dict(case.est_kw)
    kw["warm_start"] = True
    first = dict(kw)
    change = draw(st.sampled_from(["none", "fit_intercept", "scaling", "C"]))
    if change == "fit_intercept":
        first["fit_intercept"] = not kw.get("fit_intercept", True)
        first.pop("intercept_scaling", None)
    elif change == "scaling" and case.loss not in PAIRWISE_LOSSES:
        first["intercept_scaling"] = draw(st.sampled_from([0.1, 1.0, 100.0]))
        first["fit_intercept"] = True
    elif change == "C":
        first["C"] = kw.get("C", 1.0) * draw(st.sampled_from([0.01, 100.0]))
        first.pop("penalty", None)
    seed = draw(st.sampled_from([case.seed, case.seed + 1]))
    n = draw(st.sampled_from([case.n, case.n + 1]))
    # d - 1 features with an intercept have as many coefficients as d
    # without one when there is one score column per class
    d = draw(st.sampled_from([case.d, case.d, max(case.d - 1, 1), case.d + 1]))
    return dataclasses.replace(
        case,
        est_kw=tuple(sorted(kw.items())),
        warm=(seed, n, d, tuple(sorted(first.items()))),
    )


CATEGORIES = {
    "pairs": pairs_cases,
    "scales": scales_cases,
    "offsets": offsets_cases,
    "sparse": sparse_cases,
    "layouts": layouts_cases,
    "weights": weights_cases,
    "labels": labels_cases,
    "warm": warm_cases,
}


def risky_cases():
    """Configurations that may take the interpreter down: sizes a compiled
    kernel allocates from, absurd hyper-parameters, extreme values (issue 13
    items 1, 4). Run through :func:`run_isolated`."""
    base = {"category": "risky", "n": 30, "d": 3, "seed": 7}
    cases = []
    for batch in (2**61, 10**12, 2**31, 2**40, 2**63 - 1, 0, -1, 31):
        for loss in ("hinge", "crammer_singer", "pairwise_squared_hinge"):
            cases.append(
                Case(
                    loss=loss, solver="sgd", solver_kw=(("batch_size", batch),), **base
                )
            )
    for key, values in {
        "average": (2**62, -5),
        "n_iter_no_change": (2**62, 0),
        "validation_fraction": (1e-300, 0.999999, 1.0),
        "eta0": (1e300, 1e-300),
        "power_t": (1e300, -1.0),
        "alpha": (1e300, 1e-300, 0.0),
    }.items():
        for value in values:
            kw = ((key, value),)
            if key == "validation_fraction":
                kw = (("early_stopping", True), *kw)
            cases.append(Case(loss="hinge", solver="sgd", solver_kw=kw, **base))
    for solver, key, values in (
        ("lbfgs", "memory", (2**40, 0)),
        ("lbfgs", "max_line_search", (2**62,)),
        ("newton", "max_cg_iter", (2**62, 0)),
        ("gd", "smoothing", (1e300, 1e-300)),
        ("gd", "smoothing_decrease", (1e-300, 0.999999)),
        ("gd", "step_size", (1e300,)),
    ):
        for value in values:
            cases.append(
                Case(
                    loss="squared_hinge" if solver != "gd" else "hinge",
                    solver=solver,
                    solver_kw=((key, value),),
                    **base,
                )
            )
    for est in (
        (("C", 1e300),),
        (("C", 1e-300),),
        (("intercept_scaling", 1e-200),),
        (("intercept_scaling", 1e200),),
        (("max_iter", 2**62), ("tol", 1e-300)),
    ):
        for loss, solver in (
            ("hinge", "dual_cd"),
            ("squared_hinge", "newton"),
            ("pairwise_squared_hinge", "newton"),
            ("weston_watkins", "gd"),
        ):
            cases.append(Case(loss=loss, solver=solver, est_kw=est, **base))
    for solver in ("dual_cd", "gd", "sgd"):
        cases.append(Case(loss="hinge", solver=solver, special="finfo_max", **base))
    return cases
