"""What a page or a report says about the program itself (its version), for the layers below
``stridelab/__init__`` (which may not be imported from them)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:  # one source of truth: pyproject.toml (the same lookup as ``stridelab.__version__``)
    __version__ = version("stridelab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
