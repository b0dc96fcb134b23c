"""Progress of a fit: ``verbose`` lines and scikit-learn's callbacks.

Both listen to the solver's callback (see :mod:`hinge_estimators.solvers._base`
for the contract): :class:`ProgressPrinter` prints on a regular schedule, and
:class:`SklearnCallbackBridge` turns the solver's iterations into the tasks of
``sklearn.callback`` (scikit-learn >= 1.9, experimental), so that
``set_callbacks(ProgressBar())`` shows a bar over the iterations and
``ScoringMonitor`` scores the model of each reported iteration.
"""

import math
import time

try:  # scikit-learn >= 1.9: experimental callbacks
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # older versions: no callbacks, nothing to support

    class CallbackSupportMixin:
        """Stand-in for ``sklearn.callback.CallbackSupportMixin`` (absent)."""

    HAS_SKLEARN_CALLBACKS = False
else:
    HAS_SKLEARN_CALLBACKS = True

#: lines ``verbose=1`` aims at over ``max_iter`` iterations (plus the first
#: report and the final line)
LINES_PER_FIT = 20


class ProgressPrinter:
    """Print the solver's reports every ``every``-th iteration, and a final line.

    ``verbose >= 2`` prints every report; ``verbose == 1`` every
    ``ceil(max_iter / 20)``-th iteration (the first report included), so a fit
    that runs its whole budget prints about 20 lines whatever ``max_iter``.
    Each line has the iteration, the primal objective, the certificate (named)
    and the time since the fit began. Solvers that report only when they
    measure (``dual_cd``'s gap) print at the first report past each multiple of
    ``every``. The one-vs-rest columns that some solvers solve one after the
    other each restart the count, and the schedule with it.
    """

    def __init__(self, name, verbose, max_iter):
        self.name = name
        self.every = 1 if verbose >= 2 else max(1, math.ceil(max_iter / LINES_PER_FIT))
        self.start = time.perf_counter()
        self.next_due = 1
        self.last = 0

    def __call__(self, n_iter, value, progress):
        if n_iter < self.last:  # the next one-vs-rest column
            self.next_due = 1
        self.last = n_iter
        if n_iter < self.next_due:
            return
        self.next_due = (n_iter // self.every + 1) * self.every
        certificate = (
            f"{progress.measure} {progress.optimality:.3e}"
            if progress.measure
            else "no certificate"
        )
        print(
            f"[{self.name}] iter {n_iter:6d}  objective {progress.value:.10g}  "
            f"{certificate}  time {self.elapsed():.3f}s",
            flush=True,
        )

    def elapsed(self):
        return time.perf_counter() - self.start

    def final(self, result):
        """The last line: the solution's objective and certificate."""
        state = "converged" if result.converged else "not converged"
        print(
            f"[{self.name}] done {result.n_iter:6d}  objective "
            f"{float(result.value):.10g}  optimality_ {float(result.optimality):.3e}  "
            f"time {self.elapsed():.3f}s  ({state}: {result.message})",
            flush=True,
        )


class SklearnCallbackBridge:
    """The solver's iterations as subtasks of a ``sklearn.callback`` fit task.

    One subtask per iteration: a report after several iterations (``dual_cd``
    measures every few passes) ends the ones in between without a model and
    the last with the model of the report, which ``ScoringMonitor`` scores.
    A model exists when the solver reports coefficients of the whole problem
    (binary, multiclass losses, ``dual_cd``/``sgd`` included); for one-vs-rest
    columns solved one after the other there is none until the fit ends, and
    the monitor scores the fitted model only.
    """

    def __init__(self, estimator, context, X, y, metadata, max_subtasks, model):
        self.estimator = estimator
        self.context = context
        self.X, self.y, self.metadata = X, y, metadata
        self.max_subtasks = max_subtasks
        self.model = model  # progress -> dict of fitted attributes, or None
        self.done = 0
        self.last = 0

    def __call__(self, n_iter, value, progress):
        self._iterations(n_iter, lambda: self.model(progress))

    def finish(self, n_iter, final):
        """The iterations after the last report (a finishing step), then the
        end of the fit task with the fitted model (``final``: the estimator's
        fitted attributes, ``{}`` for the estimator itself)."""
        self._iterations(n_iter, lambda: None)
        self.context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=final,
        )

    def _iterations(self, n_iter, model):
        """Subtasks up to iteration ``n_iter``, the last with ``model()``."""
        steps = n_iter - self.last if n_iter >= self.last else n_iter
        self.last = n_iter
        steps = min(steps, self.max_subtasks - self.done)
        for step in range(steps):
            task = self.context.subcontext(task_name="iteration")
            task.call_on_fit_task_begin(
                estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
            )
            task.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
                reconstruction_attributes=model if step == steps - 1 else None,
            )
            self.done += 1


def fit_reporter(printer, bridge):
    """One solver callback feeding the printer and the bridge (either may be None)."""
    listeners = [f for f in (printer, bridge) if f is not None]
    if not listeners:
        return None
    if len(listeners) == 1:
        return listeners[0]

    def report(n_iter, value, progress):
        for listener in listeners:
            listener(n_iter, value, progress)

    return report
