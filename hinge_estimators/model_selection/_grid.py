"""The default grid of C for a regularization path."""

import math

import numpy as np

from ..solvers._newton_finish import _optimal_intercept

#: an L2-type path starts where the largest score has moved by this share of
#: the margin (see :func:`default_Cs`)
START_SHIFT = 1.0


def default_Cs(problem, n_Cs, eps):
    """``n_Cs`` values of C, log-spaced from ``C_start`` to ``C_start / eps``.

    Parameters
    ----------
    problem : namespace
        From ``HingeClassifier._problem``.
    n_Cs : int
    eps : float or None
        ``C_start / C_end`` (``lasso_path``'s ``eps``, inverted because C is
        an inverse regularization strength).

    Returns
    -------
    Cs : ndarray of shape (n_Cs,)
        Increasing, in the user's units of C.

    Notes
    -----
    At ``W = 0`` with the best intercept ``b_0`` (exact for the binary
    losses; 0 for a multiclass loss or a penalized intercept) let ``V =
    X^T G`` be the loss part's gradient per unit of C, ``G_i = s_i
    l'(y_i, b_0)``. Where the model starts to move:

    * a penalty with a non-smooth part (L1, elastic net, group norms): the
      smallest C at which ``W = 0`` stops being optimal, i.e. at which ``-C
      V`` leaves the subdifferential of the penalty at 0 (``1 / ||V||_inf``
      for L1, as :func:`sklearn.svm.l1_min_c`), found by bisection on the
      penalty's ``violation``;
    * a smooth penalty ``q ||W||^2 / 2`` (L2): ``W`` is ``-C V / q`` to first
      order for small C, so the coefficients move from the start, but the
      predictions stay those of the intercept until the scores move by about
      the margin: the path begins where the largest score ``|x_i W|``
      reaches ``START_SHIFT`` = 1 margin, ``C_start = q / max_i |x_i V|``.

    The path ends ``1 / eps`` times higher. ``eps=None`` means 6 decades
    for L2 and, for a non-smooth penalty, glmnet's convention: 4 decades
    when ``n_samples >= n_features``, else 2. Measured for L2 (5-fold
    accuracy of the hinge and the squared hinge on six real sets of
    ``benchmarks/real_datasets.py``, standardized): the best C lay 1.5 to
    6.5 decades above ``C_start``, the curve flat below ``C_start`` and
    within 0.003 of its end value past 6 decades. With L1, 6 decades above
    the first non-zero coefficient is a nearly unregularized problem
    (breast cancer, squared hinge at ``1e6 * l1_min_c``: 15 s and no
    certificate in 1000 working sets, against 0.6 s at ``1e4``, measured
    when ``primal_cd``'s ``max_iter`` still counted working sets), past
    where the validation score stops moving.
    """
    objective = problem.objective.with_C(problem.C_factor)  # C = 1, user units
    start = _optimal_intercept(objective, objective.zeros())
    V, _ = objective.split(objective.gradient(start))
    penalty = objective.penalty
    if penalty.is_smooth:
        spread = float(np.abs(np.asarray(objective.X @ V.T)).max(initial=0.0))
        C_start = START_SHIFT * penalty.quadratic / spread if spread > 0 else 1.0
    else:
        C_start = _first_nonzero(penalty, V)
    if eps is None:
        if penalty.is_smooth:
            eps = 1e-6
        else:
            eps = 1e-4 if objective.n_samples >= objective.n_features else 1e-2
    return np.geomspace(C_start, C_start / eps, n_Cs)


def _first_nonzero(penalty, V):
    """The smallest C at which ``W = 0`` violates optimality (log bisection)."""
    zero = np.zeros_like(V)

    def moves(C):
        return bool(np.any(penalty.violation(zero, C * V) > 0))

    top = float(np.abs(V).max(initial=0.0))
    if top == 0.0:
        return 1.0
    low, high = 1e-3 / top, 1e3 / top  # for norms, within sqrt(d*K) of 1/top
    if moves(low) or not moves(high):
        return 1.0 / top
    for _ in range(60):
        middle = math.sqrt(low * high)
        low, high = (low, middle) if moves(middle) else (middle, high)
    return high
