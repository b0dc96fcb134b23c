"""Solvers and their registry (name -> class)."""

from ._base import Solver, SolveResult
from ._gradient_descent import GradientDescent
from ._lbfgs import LBFGS

SOLVERS = {
    "gd": GradientDescent,
    "lbfgs": LBFGS,
}


def auto_solver(loss):
    """The solver ``solver="auto"`` resolves to for ``loss``.

    Rule: L-BFGS for smooth losses (fewest passes over the data in our
    measurements), gradient descent with Nesterov smoothing and the exact
    active-set polish otherwise.
    """
    if loss.is_smooth and not loss.is_pairwise:
        return LBFGS()
    return GradientDescent()


def get_solver(spec, loss):
    """Resolve a solver name or object to a fresh, validated solver for ``loss``.

    Parameters
    ----------
    spec : str or Solver
        ``"auto"``, a registry name (see ``SOLVERS``) or a solver object, which
        is cloned so that the caller's object is never modified.
    loss : Loss
        The loss the solver must handle; an incompatible pair raises a
        ``ValueError`` that says what to use instead.

    Returns
    -------
    solver : Solver
    """
    if isinstance(spec, str):
        if spec == "auto":
            solver = auto_solver(loss)
        elif spec in SOLVERS:
            solver = SOLVERS[spec]()
        else:
            raise ValueError(
                f"Unknown solver {spec!r}. Valid solvers are: "
                f"{['auto', *sorted(SOLVERS)]}, or a Solver object."
            )
    elif isinstance(spec, Solver):
        solver = type(spec)(**spec.get_params())
    else:
        raise TypeError(
            f"solver must be a string or a Solver object, got {type(spec).__name__}."
        )
    solver.validate()
    solver.check_loss(loss)
    return solver


__all__ = [
    "LBFGS",
    "SOLVERS",
    "GradientDescent",
    "SolveResult",
    "Solver",
    "auto_solver",
    "get_solver",
]
