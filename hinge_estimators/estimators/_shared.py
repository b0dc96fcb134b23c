"""Checks and rules shared by the estimators."""

import functools
import inspect
import numbers
import threading
import warnings
import weakref
from contextlib import contextmanager
from types import MethodType

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight
from threadpoolctl import ThreadpoolController

from .._targets import encode_labels
from .._version import __version__


def check_two_classes(name, classes):
    """Refuse targets with a single class (``name``: the estimator's name)."""
    if len(classes) < 2:
        raise ValueError(
            f"{name} needs samples of at least 2 classes in the data, "
            f"but the data contains only one class: {classes[0]!r}."
        )


def check_weighted_classes(name, classes, codes, weights):
    """Refuse per-sample weights that leave fewer than 2 classes with weight."""
    if weights.size and weights.min() > 0 and codes.min() != codes.max():
        return  # every sample has weight, and they hold 2 classes or more
    if not np.any(weights > 0):
        raise ValueError(
            "Every sample has zero weight after applying sample_weight and "
            "class_weight: there is nothing to fit."
        )
    weighted_classes = np.unique(codes[weights > 0])
    if len(weighted_classes) < 2:
        raise ValueError(
            f"{name} needs positive weight in at least 2 classes, but "
            "after applying sample_weight and class_weight only class "
            f"{classes[weighted_classes[0]]!r} has any."
        )


def proba_from_margin_scores(scores):
    """Probabilities from scores whose loss is minimized at ``f = 2p - 1``.

    The modified Huber and squared hinge losses, minimized in expectation
    over ``y`` with ``P(y = 1) = p``, give ``f = 2p - 1`` (Zhang, 2004), so
    ``p = (clip(f, -1, 1) + 1) / 2`` for two classes (``SGDClassifier``'s
    rule). For one-vs-rest scores, each class's ``p_k`` is divided by their
    sum (Zadrozny and Elkan), uniform where all are 0.
    """
    proba = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
    if proba.ndim == 1:
        return np.column_stack([1.0 - proba, proba])
    total = proba.sum(axis=1, keepdims=True)
    empty = total[:, 0] == 0
    proba[empty], total[empty] = 1.0, proba.shape[1]
    return proba / total


def labels_from_scores(classes, scores):
    """Predicted labels: the sign of binary scores, else the largest score."""
    if scores.ndim == 1:
        return classes[(scores > 0).astype(np.intp)]
    return classes[np.argmax(scores, axis=1)]


# -- input checks --------------------------------------------------------------
def check_not_complex(value, name):
    """Refuse complex input before it is cast to float.

    numpy drops the imaginary part with only a warning (or none, for an object
    array), so a complex ``sample_weight`` used to be fitted on its real part.
    """
    if value is None or isinstance(value, numbers.Real):
        return
    if isinstance(value, numbers.Complex):
        complex_ = True
    elif sp.issparse(value):
        complex_ = _complex_dtype(value.dtype)
    elif hasattr(value, "dtypes") and not hasattr(value, "dtype"):  # a DataFrame
        complex_ = any(_complex_dtype(d) for d in value.dtypes)
    elif hasattr(value, "dtype") and not isinstance(value.dtype, np.dtype):
        # a pandas extension dtype (categorical, string, nullable Int64 or
        # Float64, sparse): numpy cannot read it, its ``kind`` says
        complex_ = _complex_dtype(value.dtype)
    else:
        array = value if hasattr(value, "dtype") else np.asarray(value)
        if array.dtype == object:
            complex_ = any(
                isinstance(v, numbers.Complex) and not isinstance(v, numbers.Real)
                for v in np.ravel(array)
            )
        else:
            complex_ = np.issubdtype(array.dtype, np.complexfloating)
    if complex_:
        raise ValueError(
            f"Complex data not supported: {name} is complex, and casting it "
            f"to float would drop the imaginary part; pass a real {name}."
        )


def _complex_dtype(dtype):
    """Whether ``dtype`` (numpy's, or a pandas extension dtype) is complex."""
    if isinstance(dtype, np.dtype):
        return np.issubdtype(dtype, np.complexfloating)
    # pandas' extension dtypes name their numpy kind (a sparse one, its
    # values'): "c" for complex; numpy's issubdtype raises TypeError on them
    return getattr(dtype, "kind", "O") == "c"


def check_sample_weight(sample_weight, X):
    """scikit-learn's ``_check_sample_weight``, non-negative, as float64.

    Refuses complex weights, NaN or infinity, a wrong shape, negative values
    and weights that are all zero, each with a message that names
    ``sample_weight``. Always returns a new array (the caller's is never
    modified).
    """
    if sample_weight is None:
        # what _check_sample_weight returns for None (ones pass every check),
        # without its namespace and dtype dispatch, which cost as much as a
        # small fit's epoch
        return np.ones(X.shape[0])
    check_not_complex(sample_weight, "sample_weight")
    return _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
    )


def checked_class_labels(y):
    """``encode_labels(y)``, once scikit-learn's ``check_classification_targets``
    accepts ``y``: ``(classes, codes)``.

    ``y`` as ``validate_data`` returns it. The check re-validates ``y``,
    checks whether it is a dataframe and sorts it (``type_of_target``): 0.1
    ms on 569 integer labels, 0.6 ms on 7,400 one-character strings, as much
    as the rest of a small fit. A 1-d array of booleans, integers, strings,
    or floats that all survive a round trip through int64 (its own test) is
    "binary" or "multiclass", both accepted: such labels are encoded without
    it, and it runs only for the warning it gives when more than half of
    over 20 samples are distinct classes. Every other input goes to it
    first (the same errors and warnings).
    """
    if not _plain_labels(y):
        check_classification_targets(y)
        return encode_labels(y)
    classes, codes = encode_labels(y)
    if y.shape[0] > 20 and len(classes) > round(0.5 * y.shape[0]):
        check_classification_targets(y)  # warns: y may be a regression target
    return classes, codes


def _plain_labels(y):
    """Whether ``type_of_target(y)`` is "binary" or "multiclass" for sure."""
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.size):
        return False
    if y.dtype.kind in "biuU":
        return True
    if y.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            return bool(np.all(y.astype(np.int64).astype(y.dtype) == y))
    return False


def canonical_csr(X):
    """``X`` (CSR from ``validate_data``) with summed duplicates, sorted indices.

    Row norms, the dual's diagonal and SGD's steps are computed from the
    stored entries, so duplicate entries (allowed by scipy, summed on use)
    made them wrong. A non-canonical matrix is copied before it is fixed:
    ``validate_data`` may return the caller's own matrix, which is never
    modified.
    """
    if not sp.issparse(X):
        return X
    # scipy caches the flag after checking the structure; check on a view so
    # that nothing of the caller's matrix is touched
    canonical = sp.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape)
    if not canonical.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()  # sums duplicates and sorts the indices
    return X


def check_finite_model(name, coef, intercept, value):
    """A final guard: a fitted model is finite, or the fit fails clearly."""
    if not (
        np.all(np.isfinite(coef))
        and np.all(np.isfinite(intercept))
        and np.isfinite(value)
    ):
        raise FloatingPointError(
            f"{name}: the solver produced a non-finite model (coef_, "
            "intercept_ or the objective overflowed), so no model is returned. "
            "Scale the features (e.g. StandardScaler), or bring C and the "
            "sample and class weights closer to 1."
        )


# -- process-wide state ---------------------------------------------------------
@functools.cache
def _blas_controller():
    """One controller for the process: building it scans the loaded libraries
    (milliseconds), applying its limits is cheap. numpy and scipy, whose BLAS
    the solvers use, are loaded before the first fit."""
    return ThreadpoolController()


_blas_lock = threading.Lock()
_blas_state = {"depth": 0, "limiter": None}


@contextmanager
def single_threaded_blas():
    """Run BLAS on one thread while the block runs, in every thread of the process.

    The solvers' BLAS work is vector operations and matrix-vector products,
    which threaded OpenBLAS barely speeds up and, on small machines, slows
    down badly (each call wakes its threads: a dot of 1e5 numbers measured
    8 ms with 2 threads, 16 us with one). The limit is process-wide, so
    concurrent fits share it: the first to enter records the original
    limits and sets 1, the last to leave restores them. (Each fit setting
    and restoring its own limit restored out of order under threads: the
    fit that started second recorded 1 as the "original" and, leaving last,
    left the process at 1 thread for good.)
    """
    with _blas_lock:
        if _blas_state["depth"] == 0:
            _blas_state["limiter"] = _blas_controller().limit(limits=1, user_api="blas")
        _blas_state["depth"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_state["depth"] -= 1
            if _blas_state["depth"] == 0:
                _blas_state["limiter"].restore_original_limits()
                _blas_state["limiter"] = None


# -- parameters -----------------------------------------------------------------
_param_names = weakref.WeakKeyDictionary()


class CachedParamNamesMixin:
    """``_get_param_names`` read from ``__init__``'s signature once per class.

    scikit-learn reads the signature on every ``get_params``, which every
    ``fit`` calls to validate its parameters (and ``clone`` and ``repr``):
    ``inspect.signature`` took a fifth of that validation. A class's
    ``__init__`` does not change, so its parameter names do not either.
    """

    @classmethod
    def _get_param_names(cls):
        names = _param_names.get(cls)
        if names is None:
            names = _param_names[cls] = tuple(super()._get_param_names())
        return list(names)


# -- pickles --------------------------------------------------------------------
class InconsistentVersionWarning(_SklearnVersionWarning):
    """An estimator is unpickled by another version of hinge_estimators.

    A subclass of scikit-learn's ``InconsistentVersionWarning``, so that a
    filter for that warning also covers this one.

    Attributes
    ----------
    estimator_name : str
    current_version : str
        The version unpickling.
    original_version : str
        The version that pickled (``"unknown"`` for pickles that stored none).
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        # scikit-learn's attribute names, for code that reads them
        self.current_sklearn_version = current_version
        self.original_sklearn_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from "
            f"hinge_estimators version {self.original_version} when using "
            f"version {self.current_version}. This might lead to breaking code "
            "or invalid results. Use at your own risk."
        )


_VERSION_KEY = "_hinge_estimators_version"


class VersionedPickleMixin:
    """Store the package version in pickles and warn when it differs on load."""

    def __getstate__(self):
        state = super().__getstate__()
        if isinstance(state, dict):
            state = dict(state)
            state[_VERSION_KEY] = __version__
        return state

    def __setstate__(self, state):
        if isinstance(state, dict):
            state = dict(state)
            version = state.pop(_VERSION_KEY, "unknown")
            if version != __version__:
                warnings.warn(
                    InconsistentVersionWarning(
                        estimator_name=type(self).__name__,
                        current_version=__version__,
                        original_version=version,
                    ),
                    stacklevel=2,
                )
        super().__setstate__(state)


# -- optional methods ----------------------------------------------------------
class available_if_explained:  # noqa: N801 - used as a decorator
    """``available_if`` whose ``AttributeError`` gives the reason itself.

    scikit-learn's puts the reason only in the chained cause ("This
    'HingeClassifier' has no attribute 'partial_fit'"). ``check(obj)`` raises
    an ``AttributeError`` that says why the method is unavailable.
    """

    def __init__(self, check):
        self.check = check

    def __call__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)
        return self

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        try:
            self.check(obj)
        except AttributeError as exc:
            raise AttributeError(
                f"This {type(obj).__name__!r} has no attribute "
                f"{self.fn.__name__!r}: {exc}"
            ) from exc
        return MethodType(self.fn, obj)


# -- HTML representation ---------------------------------------------------------
def _documentation_root():
    """Where the API pages live: the distribution's ``Documentation`` URL.

    Without one (the project declares none yet), the path relative to the
    pages of the built docs that show HTML reprs (the gallery's
    ``auto_examples/``): ``../generated/``, where autosummary writes them.
    """
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        urls = metadata("hinge-estimators").get_all("Project-URL") or []
    except (ImportError, PackageNotFoundError):  # pragma: no cover - not installed
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation":
            return url.strip().rstrip("/")
    return ".."


class HTMLReprMixin:
    """A documentation link and honest "changed" marks in the HTML repr.

    scikit-learn marks a parameter as user-set when it is not an ``__init__``
    argument, so every nested parameter of a loss, solver or penalty object
    (``loss__margin=1.0``) was highlighted, default or not. Here a nested
    parameter is user-set only if it differs from the default of its object's
    ``__init__``. The link points at this package's API page of the class
    (see :func:`_documentation_root`), not at scikit-learn's.
    """

    _doc_link_module = "hinge_estimators"

    @property
    def _doc_link_template(self):
        return (
            _documentation_root()
            + "/generated/{estimator_module}.{estimator_name}.html"
        )

    def _doc_link_url_param_generator(self):
        # the API reference documents the classes at the package's top level
        return {
            "estimator_module": "hinge_estimators",
            "estimator_name": type(self).__name__,
        }

    def _get_params_html(self, deep=True, doc_link=""):
        params = super()._get_params_html(deep=deep, doc_link=doc_link)
        params.non_default = tuple(
            name
            for name in params.non_default
            if not self._nested_default(name, params[name])
        )
        return params

    def _nested_default(self, name, value):
        """Whether ``name`` (``owner__param``) holds its owner's default."""
        owner_name, nested, param = name.partition("__")
        if not nested or "__" in param:
            return False
        owner = getattr(self, owner_name, None)
        try:
            default = inspect.signature(type(owner).__init__).parameters[param].default
        except (KeyError, TypeError, ValueError):
            return False
        if default is inspect.Parameter.empty:
            return False
        try:
            return type(value) is type(default) and bool(np.array_equal(value, default))
        except (TypeError, ValueError):
            return value is default
