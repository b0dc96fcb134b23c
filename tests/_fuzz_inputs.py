"""Inputs of the fuzz suite (tests/test_fuzz.py): cases and strategies.

A :class:`Case` is a small frozen record of plain values (a seed, a shape, a
scale, a sparse format, ...): :meth:`Case.build` turns it into the arrays
handed to :class:`~hinge_estimators.HingeClassifier`, and ``repr(case)`` is a
complete reproducer::

    from tests._fuzz_inputs import Case
    from tests._fuzz_oracle import run_case
    print(run_case(Case(...)))

``CATEGORIES`` maps each fuzz category to a hypothesis strategy of cases;
``risky_cases()`` lists the configurations run in a child process. The
oracle that judges a fit is tests/_fuzz_oracle.py.
"""

import contextlib
import dataclasses
import os
import tempfile

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from hinge_estimators import HingeClassifier
from hinge_estimators.losses import LOSSES
from hinge_estimators.solvers import SOLVERS

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

#: the pairs whose warm start resumes from the solver's state (dual_cd)
RESUMING = tuple(
    (lo, so, ())
    for lo in LOSSES
    for so in ("auto", "dual_cd")
    if LOSSES[lo]().dual_form() is not None
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


#: a seed corpus: the shape collision of issue 13 item 2 (Crammer-Singer,
#: two classes: 5 features and 2 intercepts, then 6 features without), which
#: random draws rarely combine with enough samples
KNOWN_WARM = tuple(
    Case(
        category="warm",
        loss="crammer_singer",
        solver=solver,
        est_kw=(("fit_intercept", False), ("warm_start", True)),
        seed=1,
        n=40,
        d=6,
        warm=(2, 40, 5, (("warm_start", True),)),
    )
    for solver in ("auto", "dual_cd")
)


@st.composite
def warm_cases(draw):
    """A warm-started refit after a first fit on other data or parameters
    (issue 13 item 2: a warm start may only speed a fit up)."""
    if not draw(st.integers(0, 9)):
        return draw(st.sampled_from(KNOWN_WARM))
    # half the time a pair whose solver resumes from its dual state
    pairs = draw(st.sampled_from([ACCEPTED, RESUMING]))
    case = draw(base_case("warm", pairs=pairs))
    kw = dict(case.est_kw)
    kw["warm_start"] = True
    first = dict(kw)
    change = draw(
        st.sampled_from(["none", "fit_intercept", "fit_intercept", "scaling", "C"])
    )
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
    d = draw(st.sampled_from([case.d, case.d, max(case.d - 1, 1), case.d + 1]))
    if change == "fit_intercept" and case.d > 1 and draw(st.booleans()):
        # d - 1 features and K intercepts make as many coefficients as d
        # features without: the first solution has the second's shape
        kw["fit_intercept"], first["fit_intercept"], d = False, True, case.d - 1
        kw.pop("intercept_scaling", None)
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
