"""Penalties on the coefficients and their registry (name -> class)."""

from ._base import Penalty
from ._elastic_net import ElasticNet
from ._group_l1_l2 import GroupL1L2
from ._l1 import L1
from ._l2 import L2

PENALTIES = {
    "l2": L2,
    "l1": L1,
    "elasticnet": ElasticNet,
    "l1_l2": GroupL1L2,
}


def get_penalty(spec):
    """Resolve a penalty name, object or None to a fresh, validated penalty.

    Parameters
    ----------
    spec : str, Penalty or None
        A registry name (see ``PENALTIES``), a penalty object (cloned, so the
        caller's object is never modified), or None for no penalty.

    Returns
    -------
    penalty : Penalty or None
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec not in PENALTIES:
            raise ValueError(
                f"Unknown penalty {spec!r}. Valid penalties are: "
                f"{sorted(PENALTIES)}, None, or a Penalty object."
            )
        return PENALTIES[spec]().validate()
    if isinstance(spec, Penalty):
        return type(spec)(**spec.get_params()).validate()
    raise TypeError(
        f"penalty must be a string, a Penalty object or None, got "
        f"{type(spec).__name__}. Valid names are: {sorted(PENALTIES)}."
    )


def penalty_name(penalty):
    """The registry name of a penalty object (its class name for user penalties)."""
    if penalty is None:
        return None
    for key, cls in PENALTIES.items():
        if type(penalty) is cls:
            return key
    return type(penalty).__name__


__all__ = [
    "PENALTIES",
    "ElasticNet",
    "GroupL1L2",
    "L1",
    "L2",
    "Penalty",
    "get_penalty",
    "penalty_name",
]
