"""Default fits along C on real data: does every one converge?

A user tunes ``C`` first, and a grid search fits the defaults at every value
of its grid. ``bench_real.py`` checks the default fits at ``C = 1`` only; this
script fits ``HingeClassifier(loss=..., penalty=..., C=C,
random_state=seed)`` -- everything else at its default (the free intercept,
``tol=1e-4``, ``max_iter=1000``, ``solver="auto"``) -- for ``C`` on a
grid, a few seeds (the pass order), and reports for each set, loss and ``C``
the seconds, the passes, and the fits that raised a ``ConvergenceWarning``.

Data (``real_datasets.py``): the dense sets standardized as a user would
(``StandardScaler``), ``splice_csr`` and ``optdigits_csr`` raw as CSR, and
``text`` (``bench_exact.sparse_text`` at 5,000 x 20,000, rows
l2-normalized). Two wide sets, more features than samples, are there by
``--sets`` only: ``text_wide`` (``sparse_text`` at 500 x 20,000) and
``random_wide`` (200 x 3,000 CSR at 1 % density, values in ``[0, 1)``,
labels from 20 features and noise).

Run (from the repository root, setup in ``benchmarks/README.md``)::

    python benchmarks/bench_defaults_grid.py --out defaults.md

Options: ``--sets a,b``, ``--losses hinge,crammer_singer`` (a loss's
parameters after colons: ``smooth_hinge:gamma=0.1:margin=1.5``,
``crammer_singer:squared=True``), ``--C
0.01,1,100,1000``, ``--seeds 3``, ``--penalty l1`` (with the squared hinge:
the L1 problems of issue 14; ``elasticnet``; ``l1_l2``), ``--solver gd``
(default ``auto``). Timings are wall-clock, one
fit at a time, for reading the cost of a converged fit; they are not the
benchmark's speed targets (those are ``bench_real.py``'s, against
LIBLINEAR in the same run).
"""

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import real_datasets  # noqa: E402
from bench_exact import sparse_text  # noqa: E402

from hinge_estimators import HingeClassifier  # noqa: E402
from hinge_estimators.losses import get_loss  # noqa: E402

SETS = (
    "breast_cancer",
    "spambase",
    "twonorm",
    "ring",
    "ada",
    "digits",
    "satimage",
    "texture",
    "penbased",
    "splice",
    "optdigits",
    "sylva",
    "splice_csr",
    "optdigits_csr",
    "text",
)
MULTICLASS_ONLY = ("crammer_singer", "weston_watkins")


#: the wide sets (more features than samples), by ``--sets`` only
WIDE = ("text_wide", "random_wide")


def load(name):
    """``(X, y)`` as the other benchmarks prepare them."""
    if name == "text":
        return sparse_text(5_000, 20_000, 50, seed=2)
    if name == "text_wide":
        return sparse_text(500, 20_000, 50, seed=2)
    if name == "random_wide":
        rng = np.random.RandomState(0)
        X = sp.random(200, 3000, density=0.01, random_state=0, format="csr")
        w = np.zeros(3000)
        w[:20] = rng.randn(20) * 5
        return X, (X @ w + 0.3 * rng.randn(200) > 0).astype(int)
    if name.endswith("_csr"):
        return real_datasets.load_sparse(name.removesuffix("_csr"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' warnings while loading
        X, y = real_datasets.load(name)
    return StandardScaler().fit_transform(X), y


def available(name):
    if name == "text" or name in WIDE:
        return True
    return real_datasets.available(name.removesuffix("_csr"))


def loss_of(spec):
    """``"name"``, or ``"name:param=value:..."`` for a loss object."""
    name, *settings = spec.split(":")
    if not settings:
        return name
    params = dict(setting.split("=") for setting in settings)

    def value(text):
        # True / False for a flag (squared=True), else a number
        flags = {"True": True, "False": False}
        return flags[text] if text in flags else float(text)

    return get_loss(name).set_params(**{k: value(v) for k, v in params.items()})


def fit(X, y, loss, penalty, C, seed, solver="auto"):
    """``(seconds, passes, warned, objective)`` of one default fit."""
    model = HingeClassifier(
        loss=loss_of(loss), penalty=penalty, C=C, random_state=seed, solver=solver
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, int(np.max(model.n_iter_)), warned, model.objective_value_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--losses", default="hinge,squared_hinge,crammer_singer")
    parser.add_argument("--C", default="0.01,1,100,1000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--penalty", default="l2")
    parser.add_argument("--solver", default="auto")
    parser.add_argument("--out")
    args = parser.parse_args()
    Cs = [float(c) for c in args.C.split(",")]
    lines = [
        "Command: `python benchmarks/bench_defaults_grid.py "
        f"{' '.join(sys.argv[1:])}`  ",
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs; penalty "
        f"{args.penalty!r}, solver {args.solver!r}, seeds 0-{args.seeds - 1}.",
        "",
        "Each cell: median seconds, median passes, the median objective P, and "
        "the fits (of the seeds) that ended with a ConvergenceWarning.",
        "",
        "| set | loss | " + " | ".join(f"C={C:g}" for C in Cs) + " |",
        "|---|---|" + "---|" * len(Cs),
    ]
    warned_total, fits_total = 0, 0
    failures = []
    started = time.perf_counter()
    for name in args.sets.split(","):
        if not available(name):
            lines.append(f"| {name} | (not installed) |" + " |" * len(Cs))
            continue
        X, y = load(name)
        for loss in args.losses.split(","):
            if loss.split(":")[0] in MULTICLASS_ONLY and len(np.unique(y)) < 3:
                continue
            cells = []
            for C in Cs:
                runs = [
                    fit(X, y, loss, args.penalty, C, s, args.solver)
                    for s in range(args.seeds)
                ]
                warned = sum(r[2] for r in runs)
                warned_total += warned
                fits_total += len(runs)
                if warned:
                    failures.append(f"{name} {loss} C={C:g} ({warned}/{len(runs)})")
                seconds = np.median([r[0] for r in runs])
                passes = int(np.median([r[1] for r in runs]))
                value = np.median([r[3] for r in runs])
                mark = f", **{warned} warned**" if warned else ""
                cells.append(f"{seconds:.2f} s, {passes}, P {value:.6g}{mark}")
            lines.append(
                f"| {name} {X.shape[0]}x{X.shape[1]} | {loss} | "
                + " | ".join(cells)
                + " |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    lines += [
        "",
        f"ConvergenceWarning in {warned_total} of {fits_total} fits"
        + (": " + ", ".join(failures) if failures else "."),
        "",
        f"Total {time.perf_counter() - started:.0f} s.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
