"""hinge_path: the solutions of a hinge-family classifier along a grid of C."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ..estimators._hinge_classifier import C_MAX, HingeClassifier
from ._grid import default_Cs
from ._walk import walk


@validate_params(
    {
        "Cs": ["array-like", None],
        "n_Cs": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, 1, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def hinge_path(
    X,
    y,
    Cs=None,
    *,
    loss="squared_hinge",
    penalty="l2",
    solver="auto",
    fit_intercept=True,
    intercept_scaling=None,
    class_weight=None,
    sample_weight=None,
    n_Cs=20,
    eps=None,
    tol=1e-4,
    max_iter=1000,
    random_state=None,
    n_jobs=None,
):
    """Solutions of :class:`~hinge_estimators.HingeClassifier` along a grid of C.

    The data are validated and the objective is built once; each solve
    starts from the solution at the previous (smaller) C (but ``gd``'s
    interior point for the hinge with L1, which starts from the centre of
    its feasible set, on wide data over a first working set that holds the
    previous solution's non-zero features: see ``GradientDescent``).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    Cs : array-like of float, default=None
        The values of C (sorted increasing before solving; the result follows
        that order). ``None``: ``n_Cs`` values from where the model starts to
        move up ``1 / eps`` times (see Notes).
    loss, penalty, solver, fit_intercept, intercept_scaling, class_weight, \
tol, max_iter, random_state, n_jobs
        As in :class:`~hinge_estimators.HingeClassifier`. ``penalty=None``
        is refused: ``C`` does not enter its objective.
    sample_weight : array-like of shape (n_samples,), default=None
    n_Cs : int, default=20
        Grid size when ``Cs`` is None.
    eps : float in (0, 1) or None, default=None
        ``C_start / C_end`` of the default grid. None: ``1e-6`` (6
        decades) with L2; with a non-smooth penalty ``1e-4`` when
        ``n_samples >= n_features``, else ``1e-2`` (glmnet's convention: far
        above the first non-zero coefficient the L1 problem is nearly
        unregularized, slow to solve, and the score has stopped moving).

    Returns
    -------
    path : Bunch
        ``Cs`` (n_Cs,); ``coefs`` (n_Cs, n_rows, n_features) and
        ``intercepts`` (n_Cs, n_rows), as ``coef_``/``intercept_`` of a
        fit at each C (one row for two classes, else one per class);
        ``n_iter``, ``objective_values``, ``optimality`` (each solver's
        certificate, see ``HingeClassifier``'s ``optimality_``: a proven
        bound on the relative suboptimality for ``dual_cd``) and
        ``converged``, each (n_Cs,); ``classes``.

    Warns
    -----
    ConvergenceWarning
        Naming the values of C at which the solver stopped at ``max_iter``.

    Notes
    -----
    **Warm starts.** ``dual_cd`` starts from the previous dual variables
    scaled by ``C_new / C_old`` (which keeps the variables at their bound
    there; the solver clips them into the new box) and, for the binary
    columns, resumes how the previous point was certified: the exact solve
    on its optimal sets, or its primal finish (see ``_walk.walk``); the
    other solvers start from the secant through the previous two solutions
    (in ``log C``). A resumed route that fails to certify is charged to the
    point's ``n_iter`` (in pass-equivalents) and the point is then solved as
    a cold fit with the whole ``max_iter``: such a point can report up to
    about ``1.45 * max_iter`` (once per column; a failed route is not tried
    again along the path).

    **Default grid.** At ``W = 0`` with the best intercept let ``V`` be the
    loss part's gradient per unit of C. With a non-smooth penalty (L1,
    elastic net, group L1/L2) the grid starts at the smallest C at which
    ``W = 0`` is no longer optimal (``1 / ||V||_inf`` for L1, as
    :func:`sklearn.svm.l1_min_c`); with L2, where ``W`` is ``-C V`` to
    first order, where the largest score has moved by the margin,
    ``1 / max_i |x_i V|``. It ends ``1 / eps`` times higher (6 decades
    for L2, 4 or 2 for the non-smooth penalties by default).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from hinge_estimators import hinge_path
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> path = hinge_path(scale(X), y, n_Cs=5)
    >>> path.coefs.shape
    (5, 1, 30)
    >>> bool(path.converged.all()), round(float(path.Cs[-1] / path.Cs[0]))
    (True, 1000000)
    """
    model = HingeClassifier(
        loss=loss,
        solver=solver,
        penalty=penalty,
        fit_intercept=fit_intercept,
        intercept_scaling=intercept_scaling,
        class_weight=class_weight,
        tol=tol,
        max_iter=max_iter,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    check_path_params(model)
    problem = model._problem(X, y, sample_weight, Cs=())
    Cs = grid(model, problem, Cs, n_Cs, eps)
    results = []
    for result in walk(model, problem, Cs):
        results.append(
            (model.coef_, model.intercept_, result.n_iter, model.objective_value_)
            + (model.optimality_, bool(result.converged))
        )
    coefs, intercepts, n_iter, values, optimality, converged = map(
        np.asarray, zip(*results, strict=True)
    )
    warn_unconverged(Cs, converged, max_iter)
    return Bunch(
        Cs=Cs,
        coefs=coefs,
        intercepts=intercepts,
        n_iter=n_iter,
        objective_values=values,
        optimality=optimality,
        converged=converged,
        classes=problem.classes,
    )


def check_path_params(model):
    """Validate a path's estimator parameters; refuse ``penalty=None``."""
    model._validate_params()
    if model.penalty is None:
        raise ValueError(
            "A path over C needs a penalty: with penalty=None the objective "
            "is the plain empirical risk and C does not enter it. Use "
            "penalty='l2' (or another penalty), or fit HingeClassifier once."
        )


def grid(model, problem, Cs, n_Cs, eps):
    """The sorted ``Cs`` (default: :func:`default_Cs`), range-checked."""
    if Cs is None:
        Cs = default_Cs(problem, n_Cs, eps)
    given = np.asarray(Cs)
    if given.ndim != 1 or given.dtype.kind not in "iuf":
        # strings, booleans and nested lists were cast (or flattened) into
        # a grid the user did not write
        raise ValueError(
            f"Cs must be a 1-d list or array of numbers (the values of C); got {Cs!r}."
        )
    Cs = np.sort(given.astype(np.float64))
    if Cs.size == 0 or not np.all(np.isfinite(Cs)) or Cs[0] <= 0:
        raise ValueError(
            f"Cs must be a non-empty list of positive, finite values; got {Cs!r}."
        )
    if Cs[-1] > C_MAX:
        raise ValueError(
            f"Cs must be at most {C_MAX:g}, HingeClassifier's largest C; got "
            f"{Cs[-1]:.3g}. Scale the features up (StandardScaler), which "
            "lowers the C that the same model needs."
        )
    for C in {Cs[0], Cs[-1]}:  # the scale rule of HingeClassifier.fit
        model._check_scale(
            problem.X, problem.max_norm2, problem.raw_weights, problem.solver, C
        )
    return Cs


def warn_unconverged(Cs, converged, max_iter):
    """One ``ConvergenceWarning`` naming the values of C that did not converge.

    ``converged`` is ``(n_Cs,)``, or ``(n_folds, n_Cs)`` for cross-validation.
    """
    converged = np.atleast_2d(converged)
    if converged.all():
        return
    missed = ", ".join(
        f"{C:.3g}" + (f" ({n} of {len(converged)} folds)" if len(converged) > 1 else "")
        for C, n in zip(Cs, (~converged).sum(axis=0), strict=True)
        if n
    )
    warnings.warn(
        f"The solver did not converge within max_iter={max_iter} at C = "
        f"{missed}; increase max_iter, loosen tol, or scale the data.",
        ConvergenceWarning,
        stacklevel=4,  # the caller, past hinge_path's or fit's wrapper
    )
