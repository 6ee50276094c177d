"""The installed package's version (one source of truth: pyproject.toml), importable from any layer."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("stridelab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
