"""The package version (one place; ``genlearn.__version__`` re-exports it)."""

__version__ = "0.2.0"
