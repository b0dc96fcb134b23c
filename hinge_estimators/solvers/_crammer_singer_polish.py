"""An exact finish for dual CD on the Crammer-Singer dual (plain loss).

Late in a solve the sequential dual method polishes a small set of free
variables for thousands of passes (on texture at ``C = 1``, 140 samples of
5,500 stay active and the gap falls by 10x per 300 full passes' work). Its
multipliers name the ties long before that: a wrong class with
``alpha_i^r < 0`` ties at the sample's max, a sample whose true class is
below its bound has its max at 0. :func:`polish_max_from_multipliers` solves
the optimality conditions on those ties (with active-set rounds) and returns
the multipliers of the exact optimum, an exactly feasible dual point, so that
the certificate stays a duality gap: the primal is measured at ``W(alpha)``.
"""

import numpy as np

from ._active_set import MAX_KINK_TERMS, polish_max_from_multipliers
from ._dual_cd_finish import passes_needed
from ._dual_cd_parts import multiclass_certificate

#: the polish is tried at most this many times per solve, once the relative
#: gap is below ``POLISH_GAP`` (10x less after each failed try), the number
#: of tie equations held within 1 % since the last check, and its estimated
#: cost is below the work dual CD still needs at its measured rate
POLISH_TRIES = 3
POLISH_GAP = 1e-2
#: the polish's cost in the kernel's work units (a row entry times a class,
#: about 0.5 ns) per floating-point operation of its dense algebra, and the
#: operations of the solve of ``k`` tie equations per ``k^3`` (measured,
#: one thread: a round with 400 ties on optdigits about 0.1 s)
WORK_PER_FLOP = 0.8
SOLVE_FLOPS = 3.0
#: ... and, per round, work units per (sample, term, class) entry of the
#: terms' dense arrays (the scores, term values and checks of a round:
#: 25 to 70 ms a round on penbased and texture (10,992 x 9 x 10, 5,500 x 10
#: x 11), where their solves were estimated at 7 and 10 ms)
TERM_WORK = 200.0
#: active-set rounds the estimate assumes (texture and optdigits at C = 1
#: took 2), and the most one try may run
ROUNDS = 2
MAX_ROUNDS = 4


def wrong_class_multipliers(alpha, codes):
    """``theta`` (n, K - 1): ``-alpha_i^r`` for the wrong classes, in order."""
    n, K = alpha.shape
    wrong = np.ones((n, K), dtype=bool)
    wrong[np.arange(n), codes] = False
    return np.maximum(-alpha[wrong].reshape(n, K - 1), 0.0), wrong


def tied_terms(alpha, codes, upper):
    """Number of tie equations the polish would solve.

    Each wrong-class variable off its bound 0 ties at its sample's max, but
    at a sample whose true class is at its bound ``upper`` one of them is
    the reference the others are measured against.
    """
    theta = wrong_class_multipliers(alpha, codes)[0]
    tied = np.count_nonzero(theta, axis=1)
    saturated = alpha[np.arange(codes.size), codes] >= upper
    return int(tied.sum() - np.count_nonzero(saturated & (tied > 0)))


def polish_worth(
    work_checks, ties, history, tol, row_entries, n_coef, term_entries, failed=0
):
    """The polish's estimated cost (work units) where it is worth trying now, else 0.

    ``work_checks`` are ``(work, relative gap)`` of the checks so far,
    ``history`` collects the counts of tie equations (this call appends
    ``ties``), ``row_entries`` the mean entries of a row (plus one),
    ``term_entries`` the size ``n (K - 1) K`` of the terms' arrays,
    ``n_coef`` the coefficients: with more ties than coefficients the
    equations are singular (a degenerate or unsettled set) and the rounds
    failed (penbased at C = 1: 169 ties for 160 coefficients, 8 rounds
    without an answer). After ``failed`` tries that did not certify, the
    gap must be ``10^failed`` times smaller (the ties settle as it shrinks:
    on optdigits at C = 1 the ties read at a gap of 2e-3 failed, at 1e-4
    they gave the optimum).
    """
    history.append(ties)
    work, gap = work_checks[-1]
    too_many = ties > min(MAX_KINK_TERMS, n_coef)
    if len(history) < 2 or gap > POLISH_GAP * 0.1**failed or too_many:
        return 0.0
    if abs(ties - history[-2]) > 0.01 * history[-2]:
        return 0.0
    cost = ROUNDS * (
        WORK_PER_FLOP * (2 * ties * ties * row_entries + SOLVE_FLOPS * ties**3)
        + TERM_WORK * term_entries
    )
    return cost if cost <= passes_needed(work_checks, tol) else 0.0


def crammer_singer_polish(objective, setup, start, alpha, shift):
    """The exact optimum on the ties ``alpha`` names, certified.

    Returns ``(cert, alpha, Wt, shift)`` (``Wt`` the kernel's ``W^T`` of
    the new ``alpha``, with the bias feature's row; ``shift`` the
    intercepts: with an unpenalized intercept the exact optimum's, whose
    stationarity makes each class's multipliers sum to 0, else the given
    ones), or ``None`` where the polish failed.
    """
    codes = start["y"]
    theta, wrong = wrong_class_multipliers(alpha, codes)
    weight = objective.loss_scale * objective.sample_weight
    coef, _, exact = polish_max_from_multipliers(
        objective, theta, weight, max_rounds=MAX_ROUNDS
    )
    if coef is None:
        return None
    # in the box to rounding: clip and scale so that the point is feasible
    exact = np.maximum(exact, 0.0)
    total = exact.sum(axis=1)
    over = total > weight
    exact[over] *= (weight[over] / total[over])[:, None]
    new_alpha = np.zeros_like(alpha)
    new_alpha[wrong] = -exact.ravel()
    new_alpha[np.arange(codes.size), codes] = exact.sum(axis=1)
    d, bias = objective.n_features, setup["bias"]
    Wt = np.zeros((d + 1, alpha.shape[1]))
    Wt[:d] = np.asarray(objective.X.T @ new_alpha)
    if bias:
        Wt[d] = bias * new_alpha.sum(axis=0)
    if setup["unpenalized"]:
        shift = np.asarray(objective.split(coef)[1], dtype=float)
    cert = multiclass_certificate(objective, setup, start, new_alpha, Wt, shift)
    return cert, new_alpha, Wt, shift
