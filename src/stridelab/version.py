"""The installed package's version (one source of truth: pyproject.toml), importable from any layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["DECODER_VERSION", "__version__"]

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> str:
    # the package metadata is read on first use (``importlib.metadata`` costs ~20-50 ms to import):
    # modules that only need DECODER_VERSION (the store) do not pay for it
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("stridelab")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value


#: version of the decoders and of the values derived at import (timer time, multisport cadence,
#: device-relative times...). Each stored run keeps the version it was imported with; ``stridelab
#: doctor`` re-derives runs (and retries failed files) imported by an older one. Raise it whenever a
#: decoder fix or a derivation change alters what an import stores.
#: 1: device-relative FIT times resolved or flagged (issue 19); before: 0 (no version stored)
DECODER_VERSION: int = 1
