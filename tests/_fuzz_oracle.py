"""The oracle of the fuzz suite (tests/test_fuzz.py): fit a case, judge it.

:func:`run_case` fits a :class:`~tests._fuzz_inputs.Case` and returns an
:class:`Outcome`. The only acceptable outcomes are

* ``clear_error`` -- a ``ValueError``/``TypeError`` raised by this package or
  by scikit-learn's validation (not leaked from numpy/scipy internals), with a
  message that says something; an unsupported (loss, solver) pair must be
  refused by a ``ValueError`` naming both;
* ``certified`` -- a finite model, inputs unchanged byte for byte, whose
  ``objective_value_`` matches the objective recomputed here from ``coef_``
  and ``intercept_`` with formulas written independently of the package, and
  whose ``optimality_`` does not understate the gap to a tight reference fit
  (``dual_cd`` where the loss has a dual, ``newton`` where it is smooth, else
  ``gd``, at tol 1e-12; the smallest objective recomputed here counts);
* ``flagged`` -- the same, with a ``ConvergenceWarning``.

Anything else is a failure kind (see ``FAILURES``). The tests and
tests/fuzz_summary.py share this module, so the counts the summary prints are
the outcomes the tests assert on. :func:`run_isolated` runs cases in child
processes, so that a crash is an outcome instead of the end of pytest.
"""

import copy
import dataclasses
import json
import os
import subprocess
import sys
import traceback
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr
from sklearn.exceptions import ConvergenceWarning

from hinge_estimators.losses import LOSSES
from hinge_estimators.solvers import SOLVERS

from ._fuzz_inputs import MULTICLASS_LOSSES, PAIRWISE_LOSSES, Case, cleanup_memmaps

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
        # W / (W_P W_N) w_i w_j = W (w_i / W_P) (w_j / W_N): no overflow of
        # the products with huge weights
        pairs = np.outer(s[pos] / wp, s[neg] / wn) * _pair_phi(case.loss, kw, diff)
        return (wp + wn) * pairs
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
        # the case may have another problem that is refused first
        # (intercept_scaling or more than 2 classes with a pairwise loss)
        if _error_is_clear(error) and (
            any(f"'{key}'" in msg for key, _ in case.est_kw) or "classes" in msg
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
            [sys.executable, "-c", "from tests._fuzz_oracle import _worker; _worker()"],
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
