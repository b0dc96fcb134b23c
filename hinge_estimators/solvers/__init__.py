"""Solvers and their registry (name -> class)."""

import re

from ..penalties import GroupL1L2, get_penalty
from ._base import Progress, Solver, SolveResult
from ._dual_cd import DualCoordinateDescent
from ._fc_boosting import FullyCorrectiveBoosting
from ._gradient_descent import GradientDescent
from ._interior_point_solver import InteriorPoint, interior_point_fits
from ._lbfgs import LBFGS
from ._newton import TrustRegionNewton
from ._primal_cd import PrimalCoordinateDescent
from ._sgd import SGD

#: auto: the squared hinge goes to newton on data this many times taller
#: than wide. Measured (squared hinge, default tol, fit_intercept=False):
#: on correlated make_classification sets of 600 x 300 to 3000 x 1000 dual_cd
#: ended at max_iter with gaps up to 1.0 while newton converged, on splice's
#: 2392 x 287 training split (standardized or CSR) newton converged in
#: 0.09-0.16 s and dual_cd not in 1000 passes; wide text keeps dual_cd
TALL_RATIO = 2
#: auto: on wide sparse data the squared hinge goes to dual_cd while ``C``
#: times the mean ``s_i (||x_i||^2 + [B^2])`` (over the samples of positive
#: weight; ``B`` a penalized intercept's constant feature) is at most this,
#: to newton above; with an intercept (free or penalized) and without.
#: Measured on Zipf text (``benchmarks/bench_auto_wide.py``;
#: ``bench_exact.sparse_text`` at 5,000 x 20,000, 3,000 x 30,000 and 20,000
#: x 100,000, rows of norm 1): with the free intercept dual_cd and newton
#: are level at 1 (0.012 / 0.011 s), newton 2.3x faster at 3, 4x at 30, and
#: at C = 5,964 (the top of hinge_path's default grid on the first) dual_cd
#: ended at max_iter 8x above the optimum that newton certified; a penalized
#: intercept behaves alike (intercept_scaling=1, C = 9: 112 passes against 5
#: Newton steps); without an intercept dual_cd is 2x faster up to 3, level
#: at 10, newton 1.5x faster at 30-100. The limit with an intercept is 2,
#: not 1, so that the default C = 1 on rows of unit norm (TF-IDF) is not
#: decided by rounding. Uncentered rows that share their frequent terms
#: make the dual's Gram matrix ill-conditioned along the mean row as C
#: grows (dense data is centered by dual_cd itself, and stays with it:
#: standardized 300 x 3,000 and 2,000 x 5,000 sets took dual_cd 3-8x less
#: time than newton up to C ||x||^2 = 100)
WIDE_SPARSE_DUAL_LIMIT = {"intercept": 2.0, "no_intercept": 10.0}

SOLVERS = {
    "dual_cd": DualCoordinateDescent,
    "fc_boosting": FullyCorrectiveBoosting,
    "gd": GradientDescent,
    "interior_point": InteriorPoint,
    "lbfgs": LBFGS,
    "newton": TrustRegionNewton,
    "primal_cd": PrimalCoordinateDescent,
    "sgd": SGD,
}


def auto_solver(
    loss,
    *,
    n_samples=None,
    n_features=None,
    sparse=False,
    penalty="l2",
    n_classes=None,
    scaled_C=None,
    intercept=True,
):
    """The solver ``solver="auto"`` resolves to for ``loss`` and the data shape.

    Rule (measured by ``benchmarks/bench_exact.py``, see ``RESULTS.md``):

    * a loss with a compiled dual (hinge, plain and squared Crammer-Singer):
      ``dual_cd``;
    * the squared hinge, which has both: ``newton`` for data with
      ``n_samples >= 2 * n_features``, dense or sparse (tall data: a handful
      of Newton steps, each a few products with ``X``, beats the dual's
      passes, which grow with ``C`` and the features' correlation; on the
      real sparse sets of ``benchmarks/bench_real.py``, splice and optdigits
      as CSR, ``dual_cd`` took 1.6-5x LIBLINEAR's time to 1e-4 or never got
      there, ``newton`` 1.3-1.9x); on wide sparse data (text) ``dual_cd``
      while ``scaled_C``, ``C`` times the mean of ``s_i ||x_i||^2`` (plus a
      penalized intercept's ``intercept_scaling^2``) over the samples of
      positive weight, is at most 2 with an intercept (``intercept``) or 10
      without, and ``newton`` above (see ``WIDE_SPARSE_DUAL_LIMIT``; unknown
      ``scaled_C``: ``dual_cd``); wide dense data: ``dual_cd`` (a few cheap
      passes win);
    * any other smooth loss, the pairwise ones and squared Weston-Watkins
      included: ``newton``
      (pairwise squared hinge, ``benchmarks/bench_pairwise.py``: at the
      default ``tol`` it lands within 1e-14 of the optimum in about the time
      ``lbfgs`` needs at ``tol=1e-8``, while ``lbfgs`` at the default ``tol``
      stopped up to 1e-3 above it);
    * plain Weston-Watkins with the L2 penalty, where the data's shape and
      ``n_classes`` are given and the problem is small enough to form its
      normal equations (:func:`interior_point_fits`: at most 1,024
      coefficients and ``n p^2 K <= 1e9``): ``interior_point`` (digits,
      1,797 x 64, 10 classes, free intercept: 0.5 s to a certified 4e-13,
      where ``gd`` stopped at ``max_iter`` with a bound of 1.5e-3 after
      1.1 s). Squared Weston-Watkins goes to ``newton``, which hands a fit
      it has not converged in ``HANDOVER_ITERATIONS`` (10) to the interior
      point: alone, the interior point took 3.6-6.4 times ``newton``'s time
      on tall data (100,000 x 30, 8 classes: 6.6-11.5 s against 1.6-1.8 s,
      4 iterations, at C = 0.01 to 100), and ``newton`` alone 39 s on
      digits and 416 s on splice at C = 1,000 (0.6 and 1.0 s now);
    * the rest (larger plain Weston-Watkins, ``penalty=None`` on a
      non-smooth loss): ``gd`` (Nesterov smoothing with the exact
      active-set finish).

    The dual needs the L2 penalty, so with ``penalty=None`` the dual route is
    skipped. Without a shape (``n_samples=None``) the squared hinge goes to
    ``newton``. A non-smooth penalty (L1, elastic net, group L1/L2) goes to
    the solvers that have an update for it (see
    :func:`_nonsmooth_penalty_solver`). A penalty object the choice has no
    update for (a user's subclass or new penalty) goes to ``gd``, whose
    proximal steps take any penalty.
    """
    penalty = get_penalty(penalty)
    solver = _auto_choice(
        loss, n_samples, n_features, sparse, penalty, n_classes, scaled_C, intercept
    )
    try:
        solver.check_penalty(penalty)
    except ValueError:
        return GradientDescent()
    return solver


def _auto_choice(
    loss, n_samples, n_features, sparse, penalty, n_classes, scaled_C, intercept
):
    """:func:`auto_solver`'s rule, before the penalty check."""
    if penalty is not None and not penalty.is_smooth:
        return _nonsmooth_penalty_solver(loss, penalty, n_classes)
    has_dual = (
        loss.dual_form() is not None
        and penalty is not None
        and penalty.quadratic == 1.0
    )
    if loss.is_smooth and has_dual:
        tall = n_samples is None or (n_samples >= TALL_RATIO * n_features)
        limit = WIDE_SPARSE_DUAL_LIMIT["intercept" if intercept else "no_intercept"]
        hard = sparse and scaled_C is not None and scaled_C > limit
        return TrustRegionNewton() if tall or hard else DualCoordinateDescent()
    if has_dual:
        return DualCoordinateDescent()
    form = loss.multiclass_dual()
    if (
        form is not None
        and not form.simplex
        and not form.quadratic
        and penalty is not None
        and n_classes is not None
        and n_samples is not None
        and interior_point_fits(n_samples, n_features, n_classes)
    ):
        return InteriorPoint()
    if loss.is_smooth:
        return TrustRegionNewton()
    return GradientDescent()


def _nonsmooth_penalty_solver(loss, penalty, n_classes=None):
    """The ``auto`` choice for a non-smooth penalty.

    ``primal_cd`` (compiled coordinate descent with working sets, Newton
    steps where it crawls, and an interior point where its rate is slow)
    for every penalty with the smooth margin losses it has a compiled update
    for, but the group norm over more than two classes; ``gd``'s proximal
    steps for every other loss (the plain hinge with L1 or the elastic net
    by ``gd``'s interior point, where it fits: see ``GradientDescent``).

    The group norm ``"l1_l2"`` with one-vs-rest columns couples the columns:
    ``primal_cd`` then moves one feature's block by a majorized step, with
    neither Newton steps nor the interior point, and on 8 multiclass sets
    (iris to optdigits, squared hinge and modified Huber, C = 0.1 to 100,
    default tol and max_iter) it reached a lower objective than ``gd``'s
    proximal steps in none of 64 fits, up to 4.9x higher (texture, C =
    100); both ended at ``max_iter`` from C = 1 on most of those sets.
    ``gd`` now solves it by its barrier method first (see
    ``GradientDescent``), which certified all 64.

    Measured (default tol and max_iter, free intercept, standardized): with
    the elastic net (l1_ratio 0.5) ``gd`` ended at 1000 iterations in 33 of
    60 squared-hinge fits along C = 1 to 1000 on 15 real sets, ``primal_cd``
    in 2 (a 5,000 x 20,000 text set at C >= 100); at C = 1 ``primal_cd``
    took 0.5 against 1.8-2.4 s on sylva and splice with the modified Huber
    loss and the smooth hinge, where ``gd`` did not certify splice. Without
    the quadratic part (L1) ``gd`` stopped at 1000 iterations on sylva and
    satimage at C = 1, where ``primal_cd`` certified.
    """
    if isinstance(penalty, GroupL1L2) and n_classes is not None and n_classes > 2:
        return GradientDescent()
    try:
        PrimalCoordinateDescent().check_loss(loss)
    except ValueError:
        return GradientDescent()
    return PrimalCoordinateDescent()


def get_solver(
    spec,
    loss,
    *,
    n_samples=None,
    n_features=None,
    sparse=False,
    penalty="l2",
    n_classes=None,
    scaled_C=None,
    intercept=True,
):
    """Resolve a solver name or object to a fresh, validated solver for ``loss``.

    Parameters
    ----------
    spec : str or Solver
        ``"auto"``, a registry name (see ``SOLVERS``) or a solver object, which
        is cloned so that the caller's object is never modified.
    loss : Loss
        The loss the solver must handle; an incompatible pair raises a
        ``ValueError`` that says what to use instead.
    n_samples, n_features : int, optional
        The data shape, used by ``"auto"`` (see :func:`auto_solver`).
    sparse : bool, default=False
        Whether the data is sparse, used by ``"auto"`` for the squared hinge
        on wide data (see :func:`auto_solver`).
    penalty : str, Penalty or None, default="l2"
        The objective's penalty, used by ``"auto"``; a solver that has no
        update for it raises a ``ValueError`` that says what to use instead.
    n_classes : int, optional
        The number of classes, used by ``"auto"`` for plain Weston-Watkins
        (see :func:`auto_solver`).
    scaled_C : float, optional
        ``C`` times the mean of ``s_i (||x_i||^2 + [intercept_scaling^2])``
        over the samples of positive weight (``s`` the sample weights), used
        by ``"auto"`` for the squared hinge on wide sparse data.
    intercept : bool, default=True
        Whether the objective has an intercept (free or penalized), used
        with ``scaled_C``.

    Returns
    -------
    solver : Solver
    """
    if isinstance(spec, str):
        if spec == "auto":
            solver = auto_solver(
                loss,
                n_samples=n_samples,
                n_features=n_features,
                sparse=sparse,
                penalty=penalty,
                n_classes=n_classes,
                scaled_C=scaled_C,
                intercept=intercept,
            )
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
    penalty = get_penalty(penalty)
    try:
        solver.check_loss(loss)
    except ValueError as exc:
        # where the penalty is refused too, that refusal comes first: the
        # loss's advice names solvers for that loss that may have no update
        # for the penalty (dual_cd's "use newton" for the smooth hinge with L1)
        try:
            solver.check_penalty(penalty)
        except ValueError as penalty_exc:
            # the loss's refusal without its advice, which names solvers for
            # the loss alone
            reason = re.split(r"[;,] use ", str(exc))[0].rstrip(".")
            raise ValueError(
                f"{penalty_exc} The loss is refused too: {reason}."
            ) from None
        if isinstance(spec, str) and isinstance(solver, SGD) and loss.is_pairwise:
            # the name builds SGD() with batch_size=1, which a pairwise loss
            # cannot use: say how to set it
            raise ValueError(
                f"{exc} solver='sgd' is SGD() with its defaults; pass the "
                "solver as an object to set them, e.g. solver=SGD(batch_size=256)."
            ) from None
        raise
    solver.check_penalty(penalty)
    return solver


__all__ = [
    "DualCoordinateDescent",
    "FullyCorrectiveBoosting",
    "LBFGS",
    "PrimalCoordinateDescent",
    "SGD",
    "SOLVERS",
    "Progress",
    "GradientDescent",
    "InteriorPoint",
    "SolveResult",
    "Solver",
    "TrustRegionNewton",
    "auto_solver",
    "get_solver",
]
