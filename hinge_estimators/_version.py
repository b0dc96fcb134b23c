"""The package version, in one place (read by the package and its pickles)."""

__version__ = "0.1.0.dev0"
