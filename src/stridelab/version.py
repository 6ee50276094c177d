"""The installed package's version (one source of truth: pyproject.toml), importable from any layer."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["DECODER_VERSION", "__version__"]

try:
    __version__ = version("stridelab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

#: version of the decoders and of the values derived at import (timer time, multisport cadence,
#: device-relative times...). Each stored run keeps the version it was imported with; ``stridelab
#: doctor`` re-derives runs (and retries failed files) imported by an older one. Raise it whenever a
#: decoder fix or a derivation change alters what an import stores.
#: 1: device-relative FIT times resolved or flagged (issue 19); before: 0 (no version stored)
DECODER_VERSION: int = 1
