"""Hyper-parameter plumbing shared by losses and solvers.

Losses and solvers are small configuration objects. They follow scikit-learn's
parameter protocol (``get_params``/``set_params``, every ``__init__`` argument
stored unchanged under its own name) so that ``clone`` rebuilds them and
``GridSearchCV`` can tune ``loss__gamma`` or ``solver__step_size``. They are not
estimators, so they do not inherit ``BaseEstimator`` and its tag machinery.
"""

import inspect
import numbers
import weakref

import numpy as np


class ParamsMixin:
    """``get_params``/``set_params``/``repr`` read from the ``__init__`` signature.

    Subclasses declare ``_constraints``: a mapping from parameter name to one of
    ``"positive"``, ``"nonnegative"``, ``"finite"``, ``"bool"``,
    ``"positive_int"``, a tuple of allowed values, or a callable returning an
    error message (or ``None``). :meth:`validate` checks them and raises a
    ``ValueError`` that names the class and the parameter.
    """

    _constraints: dict = {}

    @classmethod
    def _param_names(cls):
        # read once per class: every fit resolves (and so clones) its loss,
        # solver and penalty, and inspect.signature weighed on small fits
        names = _param_names.get(cls)
        if names is None:
            names = _param_names[cls] = tuple(_signature_names(cls))
        return list(names)

    def get_params(self, deep=True):
        """Return the constructor parameters of this object.

        Parameters
        ----------
        deep : bool, default=True
            Accepted for compatibility with scikit-learn; these objects hold
            no nested objects.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor parameters.

        Parameters
        ----------
        **params : dict
            New values, by parameter name.

        Returns
        -------
        self : object
            This object, updated.
        """
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}; "
                    f"valid parameters are {valid}."
                )
            setattr(self, key, value)
        return self

    def validate(self):
        """Check every declared constraint; raise ``ValueError`` naming the problem.

        Returns
        -------
        self : object
        """
        for name, rule in self._constraints.items():
            value = getattr(self, name)
            message = _violation(rule, value)
            if message:
                raise ValueError(
                    f"{type(self).__name__}: parameter {name!r} {message}, "
                    f"got {value!r}."
                )
        return self

    def __repr__(self):
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.default is not p.empty
        }
        shown = []
        for name in self._param_names():
            value = getattr(self, name)
            default = defaults.get(name, inspect.Parameter.empty)
            if default is inspect.Parameter.empty or not _same(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


_param_names = weakref.WeakKeyDictionary()


def _signature_names(cls):
    init = cls.__init__
    if init is object.__init__:
        return []
    sig = inspect.signature(init)
    return sorted(
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    )


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b


def _violation(rule, value):
    """Return why ``value`` breaks ``rule``, or an empty string."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if rule == "positive":
        if not (is_real and np.isfinite(value) and value > 0):
            return "must be a finite number > 0"
    elif rule == "nonnegative":
        if not (is_real and np.isfinite(value) and value >= 0):
            return "must be a finite number >= 0"
    elif rule == "finite":
        if not (is_real and np.isfinite(value)):
            return "must be a finite number"
    elif rule == "bool":
        if not isinstance(value, bool | np.bool_):
            return "must be True or False"
    elif rule == "positive_int":
        if not (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
            return "must be an integer >= 1"
        if value < 1:
            return "must be an integer >= 1"
    elif isinstance(rule, tuple):
        if not any(_same(value, allowed) for allowed in rule):
            return f"must be one of {list(rule)}"
    elif callable(rule):
        return rule(value) or ""
    else:  # pragma: no cover - a programming error in a subclass
        raise TypeError(f"unknown constraint {rule!r}")
    return ""
