"""Losses of the hinge family and their registry (name -> class)."""

from ._base import (
    CompiledLoss,
    DualForm,
    Loss,
    MarginLoss,
    MulticlassDual,
    PairwiseLoss,
)
from ._crammer_singer import CrammerSinger
from ._gaussian_hinge import GaussianHinge
from ._hinge import Hinge
from ._modified_huber import ModifiedHuber
from ._pairwise_smooth_hinge import PairwiseSmoothHinge
from ._pairwise_square import PairwiseSquare
from ._pairwise_squared_hinge import PairwiseSquaredHinge
from ._smooth_hinge import SmoothHinge
from ._squared_hinge import SquaredHinge
from ._weston_watkins import WestonWatkins

LOSSES = {
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "smooth_hinge": SmoothHinge,
    "gaussian_hinge": GaussianHinge,
    "modified_huber": ModifiedHuber,
    "crammer_singer": CrammerSinger,
    "weston_watkins": WestonWatkins,
    "pairwise_squared_hinge": PairwiseSquaredHinge,
    "pairwise_square": PairwiseSquare,
    "pairwise_smooth_hinge": PairwiseSmoothHinge,
}


def get_loss(spec):
    """Resolve a loss name or object to a fresh, validated loss object.

    Parameters
    ----------
    spec : str or Loss
        A registry name (see ``LOSSES``) or a loss object, which is cloned so
        that the caller's object is never modified.

    Returns
    -------
    loss : Loss
    """
    if isinstance(spec, str):
        if spec not in LOSSES:
            raise ValueError(
                f"Unknown loss {spec!r}. Valid losses are: {sorted(LOSSES)}, "
                "or a Loss object."
            )
        return LOSSES[spec]().validate()
    if isinstance(spec, Loss):
        return type(spec)(**spec.get_params()).validate()
    raise TypeError(
        f"loss must be a string or a Loss object, got {type(spec).__name__}. "
        f"Valid names are: {sorted(LOSSES)}."
    )


__all__ = [
    "LOSSES",
    "CompiledLoss",
    "CrammerSinger",
    "DualForm",
    "MulticlassDual",
    "GaussianHinge",
    "Hinge",
    "Loss",
    "MarginLoss",
    "ModifiedHuber",
    "PairwiseLoss",
    "PairwiseSmoothHinge",
    "PairwiseSquare",
    "PairwiseSquaredHinge",
    "SmoothHinge",
    "SquaredHinge",
    "WestonWatkins",
    "get_loss",
]
