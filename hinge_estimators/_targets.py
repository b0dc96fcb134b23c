"""Label encoding: class labels to what a loss consumes, and back.

* A binary loss on two classes gets a ``(n, 1)`` matrix of +-1, the second
  class of ``classes_`` being +1 (scikit-learn's convention).
* A binary loss on ``K > 2`` classes gets a ``(n, K)`` +-1 matrix, one column per
  class: the ``K`` one-vs-rest problems are solved as one objective whose
  columns do not interact, with no Python loop over classes.
* A multiclass loss gets integer codes ``(n,)`` and ``K = n_classes`` outputs.
"""

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TargetEncoding:
    """How labels map to a loss's targets and how coefficients map back.

    Attributes
    ----------
    classes : ndarray
        Sorted unique labels (``classes_``).
    multiclass_loss : bool
        Whether the loss takes integer codes and ``n_classes`` score columns.
    """

    classes: np.ndarray
    multiclass_loss: bool

    @property
    def n_classes(self):
        return len(self.classes)

    @property
    def n_outputs(self):
        """Number of score columns the objective optimizes."""
        if self.multiclass_loss or self.n_classes > 2:
            return self.n_classes
        return 1

    def encode(self, codes):
        """Targets for the loss from integer class codes ``0..K-1``."""
        codes = np.asarray(codes)
        if self.multiclass_loss:
            return codes.astype(np.intp)
        if self.n_classes == 2:
            return np.where(codes == 1, 1.0, -1.0)[:, None]
        signs = -np.ones((codes.shape[0], self.n_classes))
        signs[np.arange(codes.shape[0]), codes] = 1.0
        return signs

    def public_coef(self, W, b):
        """``coef_``/``intercept_`` in scikit-learn's shapes from solver output.

        A multiclass loss on two classes yields two score columns; as
        LinearSVC does for Crammer-Singer, the public model is their
        difference, so that ``decision_function > 0`` means ``classes_[1]``.
        """
        if self.multiclass_loss and self.n_classes == 2:
            return (W[1] - W[0])[None, :], np.array([b[1] - b[0]])
        return W, b


#: integer labels spanning at most this many values per sample (or
#: ``DENSE_SPAN_MIN`` values) are encoded by a table over their span
DENSE_SPAN_PER_SAMPLE = 2
DENSE_SPAN_MIN = 1024


def encode_labels(y):
    """Return ``(classes, codes)`` for a 1-d label array.

    ``np.unique(y, return_inverse=True)``. Integer labels over a short span
    (the usual ``0..K-1``), and one-character strings (read as their code
    points, which sort as the strings do), are encoded by a table of the
    values present instead, in time linear in ``n`` rather than a sort (a
    tenth of a small fit); the same classes, dtype and codes.
    """
    y = np.asarray(y)
    if y.ndim == 1 and y.size:
        if y.dtype.kind in "iu":
            encoded = _encode_short_span(y)
            if encoded is not None:
                return encoded
        elif y.dtype.kind == "U" and y.dtype.itemsize == 4 and y.dtype.isnative:
            encoded = _encode_short_span(y.view(np.uint32))
            if encoded is not None:
                return encoded[0].view(y.dtype), encoded[1]
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.reshape(-1)


def _encode_short_span(y):
    """:func:`encode_labels` of integers by a table over their span, or
    None when the span is too wide for one."""
    low, high = int(y.min()), int(y.max())
    if high - low >= max(DENSE_SPAN_MIN, DENSE_SPAN_PER_SAMPLE * y.size):
        return None
    # offsets in a type that holds the span (int8's -100..100 spans 200) and
    # values in y's (uint64's may exceed int64's)
    unsigned = y.dtype.kind == "u"
    shifted = y - y.dtype.type(low) if unsigned else y.astype(np.int64) - low
    present = np.zeros(high - low + 1, dtype=bool)
    present[shifted] = True
    offsets = np.flatnonzero(present)
    if unsigned:
        classes = offsets.astype(y.dtype) + y.dtype.type(low)
    else:
        classes = (offsets + low).astype(y.dtype)
    codes = (np.cumsum(present) - 1)[shifted]
    return classes, codes.astype(np.intp, copy=False)


def check_label_types(y):
    """Refuse labels that mix kinds (numbers and strings) or cannot be sorted.

    ``np.unique`` fails on such labels with a bare ``TypeError`` about ``<``,
    and ``np.asarray`` turns a list such as ``[1, "a"]`` into the strings
    ``["1", "a"]``, so a list is inspected element by element.
    """
    y = np.asarray(y) if hasattr(y, "dtype") else np.asarray(y, dtype=object)
    if y.dtype != object:
        return
    kinds = {}
    for label_type in set(map(type, y.ravel())):
        if issubclass(label_type, str | bytes):
            kind = "string"
        elif issubclass(label_type, numbers.Number | np.bool_):
            kind = "number"
        else:
            kind = label_type.__name__
        kinds.setdefault(kind, label_type.__name__)
    if len(kinds) > 1:
        found = ", ".join(sorted(set(kinds.values())))
        raise ValueError(
            f"y mixes labels of different kinds ({found}): class labels "
            "must be all numbers or all strings, e.g. y.astype(str)."
        )
    try:
        np.unique(y)
    except TypeError as exc:
        raise ValueError(
            f"the labels in y cannot be sorted ({exc}); use numbers or strings "
            "as class labels."
        ) from None


def class_weight_per_sample(class_weight, classes, codes, sample_weight):
    """Per-sample multipliers ``class_weight[y_i]`` (ones when ``None``).

    ``"balanced"`` uses weighted class totals, ``W / (K * W_k)``, so that giving a
    sample weight ``k`` stays equivalent to repeating it ``k`` times.
    """
    if class_weight is None:
        return np.ones(codes.shape[0])
    n_classes = len(classes)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                "class_weight must be a dict, 'balanced' or None, got "
                f"{class_weight!r}."
            )
        totals = np.bincount(codes, weights=sample_weight, minlength=n_classes)
        if np.any(totals <= 0):
            empty = classes[totals <= 0]
            raise ValueError(
                f"class_weight='balanced' needs positive total sample weight in every "
                f"class; classes {empty.tolist()} have none."
            )
        per_class = totals.sum() / (n_classes * totals)
        return per_class[codes]
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"class_weight must be a dict, 'balanced' or None, got "
            f"{type(class_weight).__name__}."
        )
    per_class = np.ones(n_classes)
    known = {c.item() if hasattr(c, "item") else c: i for i, c in enumerate(classes)}
    unknown, weighted = [], set()
    for label, weight in class_weight.items():
        key = label.item() if hasattr(label, "item") else label
        weight = float(weight)
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(
                f"class_weight for label {label!r} must be finite and >= 0, got "
                f"{weight!r}."
            )
        if key in known:
            per_class[known[key]] = weight
            weighted.add(known[key])
        else:
            unknown.append(label)
    # labels absent from the training data are ignored, as scikit-learn's
    # compute_class_weight does (a cross-validation fold may lack a rare
    # class), unless a training class has no weight: then an unknown label
    # is more likely a misspelt one
    if unknown and len(weighted) < n_classes:
        missing = [classes[i] for i in range(n_classes) if i not in weighted]
        raise ValueError(
            f"class_weight has label {unknown[0]!r}, which is not in the "
            f"training classes {classes.tolist()}, while the classes "
            f"{np.asarray(missing).tolist()} have no weight in it."
        )
    return per_class[codes]
