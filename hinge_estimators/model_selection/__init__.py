"""Model selection over C: the warm-started path and its cross-validation."""

from ._path import hinge_path

__all__ = ["hinge_path"]
