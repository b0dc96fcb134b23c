"""The solver contract.

A solver minimizes a :class:`~hinge_estimators.LinearObjective`. It holds
algorithm hyper-parameters only (``step_size``, ``memory``, ...); ``tol`` and
``max_iter`` come from the estimator, as in ``LinearSVC``. :meth:`Solver.solve`
writes nothing onto the solver: everything it learned is in the returned
:class:`SolveResult`, so one solver object can serve many fits (and threads).

A solver declares what it needs of a loss (``requires_smooth``,
``handles_pairwise``) and of a penalty (``handles_nonsmooth_penalty``);
:meth:`Solver.check_loss` and :meth:`Solver.check_penalty` refuse what it
cannot handle with one sentence that names the loss or penalty, the solver
and what to use instead.

``solve(objective, coef_init, *, tol, max_iter, rng, callback)``

* ``coef_init`` -- flat starting coefficients (``objective.zeros()`` if None);
* ``tol`` -- the solver's documented stopping tolerance;
* ``max_iter`` -- iteration budget; reaching it gives ``converged=False`` and the
  estimator raises ``ConvergenceWarning``;
* ``rng`` -- a ``numpy.random.Generator`` for randomized solvers;
* ``callback`` -- progress reports (``verbose``, ``sklearn.callback``); it
  must not modify anything. A callback taking two positional arguments is
  called as ``callback(n_iter, value)``, one taking three as
  ``callback(n_iter, value, progress)`` with a :class:`Progress` record: the
  certificate (``optimality``, named by ``measure``) and the current
  coefficients. ``value`` is the primal objective ``P`` of the problem the
  solver was given (for ``dual_cd`` the primal at the current dual point,
  never the dual value; for the smoothing stages of ``gd`` the unsmoothed
  ``P``); ``n_iter`` counts iterations from the start of the solve and never
  goes back. Solvers call it after each iteration, or, where measuring costs
  a pass over the data (``dual_cd``'s gap), after each measurement.

  Inside a solver, ``callback`` is always the adapter from
  :func:`progress_callback` (applied by :func:`guarded`, or at the top of
  ``solve``), called as ``callback(n_iter, value, optimality, measure, coef,
  objective)``; ``value`` and ``coef`` may be zero-argument functions, so
  that what costs a pass is computed only when a report reads it.
"""

import contextvars
import functools
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .._params import ParamsMixin


@dataclass
class SolveResult:
    """What a solver returns.

    Attributes
    ----------
    coef : ndarray
        Flat coefficient vector (see ``LinearObjective.split``).
    n_iter : int
        Iterations performed.
    converged : bool
        Whether the stopping criterion was met within ``max_iter``.
    value : float
        Objective value at ``coef``.
    optimality : float
        The stopping measure at ``coef`` (its meaning is documented by each
        solver, e.g. the relative gradient norm).
    history : list of float
        Objective value after each iteration.
    message : str
        Why the solver stopped.
    state : object
        Solver-specific state a later solve can resume from (dual variables
        for ``dual_cd``); passed back as ``warm_state`` by warm starts.
    dual : ndarray or None
        The dual point of the certificate, where a solver reports it and
        keeps no state (``interior_point``'s multipliers, read by
        ``dual_cd`` when it hands a stalled fit over).
    """

    coef: np.ndarray
    n_iter: int
    converged: bool
    value: float
    optimality: float = np.nan
    history: list = field(default_factory=list)
    message: str = ""
    state: object = None
    dual: object = None


#: names of the certificates solvers report (``Progress.measure``)
GAP = "relative duality gap"
DECREMENT = "relative Newton decrement"
GRADIENT = "relative gradient norm"
BOUND = "relative suboptimality bound"


class Progress:
    """One progress report of a solver: the third argument of a callback.

    Attributes
    ----------
    n_iter : int
        Iterations (passes for ``dual_cd`` and ``sgd``) since the solve began.
    value : float
        The primal objective ``P`` at the current iterate (computed on first
        access where it costs a pass over the data).
    optimality : float
        The solver's certificate at the current iterate; NaN where none is
        measured at this iteration.
    measure : str
        What ``optimality`` is: ``"relative duality gap"``,
        ``"relative Newton decrement"``, ``"relative gradient norm"``, ...
    coef : ndarray or None
        The current flat coefficients of ``objective`` (computed on first
        access); None where the solver has no primal iterate to show.
    objective : LinearObjective or None
        The problem ``coef`` belongs to: the one given to ``solve``, its
        centered form (map back with ``uncenter_coef``) or one one-vs-rest
        column of it.

    Read ``value`` and ``coef`` during the callback: the solver moves on after
    it, and what they are computed from may change.
    """

    __slots__ = ("n_iter", "_value", "optimality", "measure", "_coef", "objective")

    def __init__(self, n_iter, value, optimality, measure, coef, objective):
        self.n_iter = int(n_iter)
        self._value = value
        self.optimality = float(optimality)
        self.measure = measure
        self._coef = coef
        self.objective = objective

    @property
    def value(self):
        if callable(self._value):
            self._value = float(self._value())
        return float(self._value)

    @property
    def coef(self):
        if callable(self._coef):
            self._coef = self._coef()
        return self._coef

    def __repr__(self):
        return (
            f"Progress(n_iter={self.n_iter}, value={self.value:.10g}, "
            f"{self.measure or 'optimality'}={self.optimality:.3g})"
        )


def progress_callback(callback):
    """Adapt a user's ``callback`` to the solvers' internal calling convention.

    Returns ``notify(n_iter, value, optimality=nan, measure="", coef=None,
    objective=None)`` (None for None; an adapter is returned unchanged), which
    calls ``callback(n_iter, value)`` or ``callback(n_iter, value, progress)``
    according to how many positional arguments ``callback`` takes (see the
    module docstring).
    """
    if callback is None or getattr(callback, "_is_progress_adapter", False):
        return callback
    with_record = _positional_arity(callback) >= 3
    # one report at a time: columns fitted in threads (column_jobs) report
    # from their threads, and a printer or a user's list is not thread-safe
    one_at_a_time = threading.Lock()

    def notify(n_iter, value, optimality=np.nan, measure="", coef=None, objective=None):
        progress = Progress(n_iter, value, optimality, measure, coef, objective)
        with one_at_a_time:
            if with_record:
                callback(progress.n_iter, progress.value, progress)
            else:
                callback(progress.n_iter, progress.value)

    notify._is_progress_adapter = True
    return notify


def counted_after(callback, n_done):
    """``callback`` for a phase that counts from 1 after ``n_done`` iterations."""
    if callback is None or n_done == 0:
        return callback

    def shifted(n_iter, *args):
        callback(n_done + n_iter, *args)

    shifted._is_progress_adapter = True
    return shifted


def _positional_arity(function):
    """How many positional arguments ``function`` accepts (3 for ``*args``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 2
    count = 0
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            return 3
        if parameter.kind in (
            parameter.POSITIONAL_ONLY,
            parameter.POSITIONAL_OR_KEYWORD,
        ):
            count += 1
    return count


class Solver(ParamsMixin):
    """Base class of every solver; see the module docstring for the contract."""

    requires_smooth = False
    handles_pairwise = False
    #: whether ``solve`` accepts ``warm_state`` (a previous result's ``state``)
    resumes_from_state = False
    #: what to suggest when refusing a non-smooth loss
    non_smooth_advice = "use solver='gd', which handles non-smooth losses"
    #: whether ``solve`` handles a non-smooth penalty (L1, group norms)
    handles_nonsmooth_penalty = False
    #: what to suggest when refusing a non-smooth penalty
    nonsmooth_penalty_advice = (
        "use solver='auto', or solver='gd' (proximal steps, every loss)"
    )
    #: whether ``solve`` assumes the penalty's quadratic part is exactly
    #: ``||W||^2 / 2`` (``reg = 1``: the SVM dual, SGD's ``lam ||W||^2 / 2``)
    needs_unit_quadratic = False

    def check_loss(self, loss):
        """Raise ``ValueError`` if this solver cannot minimize ``loss``."""
        name = type(self).__name__
        loss_name = type(loss).__name__
        if loss.is_pairwise and not self.handles_pairwise:
            raise ValueError(
                f"{name} has no update for the pairwise loss {loss_name}; use "
                "solver='newton', 'lbfgs' or 'gd'."
            )
        if self.requires_smooth and not loss.is_smooth:
            raise ValueError(
                f"{name} needs a smooth loss and {loss_name} is not smooth; "
                f"{self.non_smooth_advice}, or choose a smooth loss such as "
                "'squared_hinge'."
            )

    def check_penalty(self, penalty):
        """Raise ``ValueError`` if this solver cannot minimize with ``penalty``.

        A solver that steps on gradients only cannot handle a non-smooth
        penalty (L1, elastic net, group L1/L2); those that can (proximal or
        coordinate-wise updates) set ``handles_nonsmooth_penalty``. A solver
        built on ``||W||^2 / 2`` itself (``needs_unit_quadratic``) refuses a
        smooth penalty with another quadratic part.
        """
        if penalty is None:
            return
        from ..penalties import penalty_name

        name, penalty_cls = type(self).__name__, type(penalty).__name__
        if not (penalty.is_smooth or self.handles_nonsmooth_penalty):
            raise ValueError(
                f"{name} has no update for the non-smooth penalty "
                f"{penalty_cls} (penalty={penalty_name(penalty)!r}); "
                f"{self.nonsmooth_penalty_advice}."
            )
        if self.needs_unit_quadratic and penalty.quadratic != 1.0:
            raise ValueError(
                f"{name} needs the penalty's quadratic part to be exactly "
                f"||W||^2 / 2 and {penalty_cls} has {penalty.quadratic:g} "
                "||W||^2 / 2; use penalty='l2' (or ElasticNet(l1_ratio=0)), or "
                "solver='gd', which takes any penalty."
            )

    def solve(
        self, objective, coef_init=None, *, tol, max_iter, rng=None, callback=None
    ):
        """Minimize ``objective``; return a :class:`SolveResult`."""
        raise NotImplementedError

    @property
    def name(self):
        """Registry name of this solver (the class name for user solvers)."""
        from . import SOLVERS

        for key, cls in SOLVERS.items():
            if type(self) is cls:
                return key
        return type(self).__name__


def gradient_reference(objective):
    """``||grad P(0)||``: the scale relative gradient norms are measured against.

    Measuring against the gradient at zero (rather than at the starting point)
    keeps ``tol`` meaningful for warm starts. A zero reference means ``0`` is
    optimal. A reference that is not finite (features, weights or ``C`` so
    large that the gradient overflows) raises a ``ValueError`` rather than
    letting a solver return NaN.
    """
    zero = objective.zeros()
    # the scores are linear in the coefficients: 0 at 0, without a product
    scores = np.zeros((objective.n_samples, objective.n_outputs))
    with np.errstate(over="ignore", invalid="ignore"):
        _, grad = objective.value_and_gradient_from_scores(zero, scores)
        reference = float(np.linalg.norm(grad))
    if not np.isfinite(reference):
        raise ValueError(
            "The objective's gradient at 0 overflows double precision: X, "
            "sample_weight, class_weight or C is too large (the gradient is "
            "C * sum_i s_i * x_i * loss'). Scale the features (e.g. with "
            "StandardScaler) or the weights."
        )
    return reference


@contextmanager
def floating_point_guard(solver):
    """Raise a ``ValueError`` if the solve inside overflowed or produced a NaN.

    numpy's overflow, invalid-operation and division-by-zero events are
    recorded (not printed) while the block runs; any of them means that the
    data's scale exceeds what double precision holds (on ordinary data the
    solvers meet none: the test suite turns each into an error), and the
    answer cannot be trusted, finite or not. Blocks that expect such events
    (a loss's tail formula) silence them with their own ``np.errstate``.
    """
    events = []

    def record(kind, flag):
        events.append(kind)

    with np.errstate(over="call", invalid="call", divide="call", call=record):
        yield
    if events:
        raise ValueError(
            f"{solver}: {events[0]} in floating point during the solve: the "
            "features, sample_weight, class_weight or C are too large (or too "
            "small) for double precision. Scale the features (e.g. with "
            "StandardScaler) or the weights."
        )


def guarded(solve):
    """Decorate a ``solve`` method with :func:`floating_point_guard`.

    Its ``callback`` is adapted by :func:`progress_callback` on the way in.
    """

    @functools.wraps(solve)
    def guarded_solve(self, *args, **kwargs):
        if "callback" in kwargs:
            kwargs["callback"] = progress_callback(kwargs["callback"])
        with floating_point_guard(type(self).__name__):
            return solve(self, *args, **kwargs)

    return guarded_solve


def solve_centered(solve, objective, coef_init):
    """``solve(objective, start)`` run in centered coordinates, mapped back.

    With a free, unpenalized intercept the problem is solved on implicitly
    centered features (:meth:`LinearObjective.centered`): shifting every
    feature then changes nothing. ``coef_init`` may be None (``solve`` picks
    its own start); an objective that is already centered, or has nothing to
    center, is solved as it is. ``solve`` may return None, passed on.
    """
    inner = objective.centered()
    if inner is objective:  # no centering, or already centered: no mapping
        return solve(objective, coef_init)
    start = None if coef_init is None else inner.center_coef(coef_init)
    result = solve(inner, start)
    if result is not None:  # None: the solve had nothing to offer
        result.coef = inner.uncenter_coef(result.coef)
    return result


def optimal_at_zero(objective):
    """The result when ``gradient_reference(objective)`` is 0: 0 is optimal."""
    zero = objective.zeros()
    return SolveResult(zero, 0, True, objective.value(zero), 0.0, [], "0 is optimal")


def solve_columns(solve, objective, coef_init, combine, tol=None, threads=True):
    """Solve the one-vs-rest columns of a binary loss, each on its own.

    The columns do not interact (see ``LinearObjective.column``); they run
    one after the other, or in threads where :func:`column_jobs` allows and
    ``threads`` is true (``solve`` must then be safe to call from several
    threads at once, and should spend its time in long calls that release
    the GIL: see :func:`map_columns`).
    ``solve(part, start)`` minimizes one column's objective from ``start``
    (``None`` without ``coef_init``) and returns a :class:`SolveResult`;
    ``combine(results)`` gives the whole problem's stopping measure from the
    columns' results; where it bounds the whole problem's relative
    suboptimality, ``tol`` makes the result converged when that bound is
    within it, also if a column stopped short of its own.

    Returns
    -------
    result : SolveResult
        The columns' coefficients joined in ``objective``'s flat layout, the
        largest ``n_iter``, and the summed value.
    """
    W0 = b0 = None
    if coef_init is not None:
        W0, b0 = objective.split(np.asarray(coef_init, dtype=float))

    def solve_column(k):
        part = objective.column(k)
        start = None if W0 is None else part.join(W0[k], b0[k : k + 1])
        return solve(part, start)

    columns = range(objective.n_outputs)
    if threads:
        results = map_columns(solve_column, columns)
    else:
        results = [solve_column(k) for k in columns]
    splits = [objective.column(k).split(r.coef) for k, r in enumerate(results)]
    coef = objective.join(
        np.vstack([W for W, _ in splits]), np.concatenate([b for _, b in splits])
    )
    total = float(sum(r.value for r in results))
    optimality = float(combine(results))
    converged = all(r.converged for r in results)
    return SolveResult(
        coef=coef,
        n_iter=max(r.n_iter for r in results),
        converged=converged or (tol is not None and optimality <= tol),
        value=total,
        optimality=optimality,
        history=[total],
        message="; ".join(sorted({r.message for r in results})),
    )


def certified_columns(solve, objective, start, tol, method, callback=None):
    """:func:`solve_columns` for a method that certifies each column by its
    duality gap: the whole problem's relative gap is the columns' summed
    gaps over their summed values (``P`` and the bound are sums), converged
    where that is within ``tol``. ``method`` names the method in the
    result's message; ``callback`` hears the joined result once."""
    result = solve_columns(
        solve,
        objective,
        start,
        lambda results: (
            sum(r.optimality * r.value for r in results)
            / max(sum(r.value for r in results), np.finfo(float).tiny)
        ),
        tol,
    )
    result.message = (
        f"relative duality gap below tol ({method})"
        if result.converged
        else f"the {method} stopped above tol"
    )
    result.history = [result.value]
    if callback is not None:
        callback(
            result.n_iter, result.value, result.optimality, GAP, result.coef, objective
        )
    return result


#: how many one-vs-rest columns the solvers may fit at once (column_jobs)
_column_jobs = contextvars.ContextVar("hinge_estimators_column_jobs", default=1)


@contextmanager
def column_jobs(n_jobs):
    """Let the solvers run in this block fit up to ``n_jobs`` columns at once.

    ``n_jobs`` follows joblib: None means 1 (unless a
    ``joblib.parallel_config`` says otherwise), -1 all CPUs. The columns run
    in threads: the compiled kernels release the GIL, and so does BLAS.
    Threads started inside (a column's own solve) see 1: no nesting.
    """
    from joblib import effective_n_jobs

    token = _column_jobs.set(max(1, effective_n_jobs(n_jobs)))
    try:
        yield
    finally:
        _column_jobs.reset(token)


def map_columns(function, items):
    """``[function(item) for item in items]``, in threads if :func:`column_jobs`
    allows more than one.

    Threads pay where each column spends its time in long calls that release
    the GIL (a compiled pass over the data): measured on 2 cores (quiet),
    dual CD's one-vs-rest hinge ran 1.2 to 1.9 times faster on penbased,
    satimage, texture, optdigits, splice, and ``primal_cd``'s L1 fits 1.3 to
    1.6 times. Where a column's time goes to numpy steps on short arrays in
    Python (Newton on dense data, dual CD's primal finish), the GIL
    serializes the columns and two threads are slower than one: dense
    one-vs-rest Newton 0.78 to 0.97 times the speed of one thread, the
    hinge on digits at C = 1 and 10, where the finish dominates, 0.84 and
    0.72.

    Results keep the order of ``items``. An exception in a column (or a
    KeyboardInterrupt while waiting) cancels the columns not yet started and
    is raised once the running ones have returned. Each column runs in a copy
    of the caller's context: numpy's error state (``np.errstate``, which
    :func:`floating_point_guard` sets) is a context variable, and a bare
    thread would start from numpy's defaults and escape the guard.
    """
    items = list(items)
    workers = min(_column_jobs.get(), len(items))
    if workers <= 1:
        return [function(item) for item in items]

    def alone(item):  # no threads inside a column's own solve
        _column_jobs.set(1)
        return function(item)

    with ThreadPoolExecutor(workers, thread_name_prefix="hinge-column") as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, alone, item) for item in items
        ]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
