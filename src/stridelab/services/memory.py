"""The import's memory budget: no file may drive an import process above it, whatever its compression.

A 1 MB zip can hold a valid 126 MB FIT file (130:1 passes the zip-bomb ratio guard), and decoding a
FIT file takes about :data:`DECODE_BYTES_PER_BYTE` times its size in memory (the bytes, the decoded
columns, the record frame, the Parquet stream being written). So before any bytes are read, the
content size of each file is known or bounded -- ``stat`` for a file, the zip directory for a member,
the gzip trailer and the FIT header's ``data_size`` for compressed content -- and a file whose decode
would not fit is refused with an error naming the file, its estimate and the budget
(:class:`MemoryBudgetError`). The read itself is then limited to what the budget allows, so a header
that lies about the size cannot push the process over it either.

The budget is per import process (the CLI, each pool worker, the dashboard's import worker):
:data:`DEFAULT_MEMORY_BUDGET_BYTES`, or ``$STRIDELAB_MAX_MEMORY_MB``, or ``stridelab import
--max-memory MB``, or the dashboard's ``--max-memory`` (where the import runs in a child process
that is also killed if it ever exceeds the budget: :mod:`stridelab.services.import_worker`).
"""

from __future__ import annotations

import os
import resource
import struct
import sys
import zlib
from typing import Final

__all__ = [
    "BASE_RSS_BYTES",
    "DECODE_BYTES_PER_BYTE",
    "DEFAULT_MEMORY_BUDGET_BYTES",
    "ENV_MAX_MEMORY_MB",
    "MIB",
    "MIN_MEMORY_BUDGET_BYTES",
    "MemoryBudgetError",
    "budget_from_env",
    "check_budget",
    "content_size",
    "current_rss_bytes",
    "estimate_decode_bytes",
    "fit_declared_size",
    "max_decodable_bytes",
    "peak_rss_bytes",
]

MIB: Final[int] = 1024 * 1024
#: peak resident memory an import process may reach (issue 19: 600 MB for any input)
DEFAULT_MEMORY_BUDGET_BYTES: Final[int] = 600 * MIB
#: the smallest budget accepted: an import process needs about this much before decoding anything
MIN_MEMORY_BUDGET_BYTES: Final[int] = 256 * MIB
#: the environment variable that sets the budget (in MB) when no option does
ENV_MAX_MEMORY_MB: Final[str] = "STRIDELAB_MAX_MEMORY_MB"
#: resident memory of an import process before its first decode (Python, numpy, pandas, pyarrow,
#: DuckDB and the readers loaded): measured 190 MB for ``stridelab import`` (bench/memory_budget.py)
BASE_RSS_BYTES: Final[int] = 200 * MIB
#: peak memory of a decode per byte of content, by reader name; FIT measured at 11.8 bytes/byte
#: (+25 MB) on amplified files of 8-32 MB (bench/memory_budget.py), rounded up. Other readers parse
#: text (XML, CSV) into objects, costlier per byte: a conservative default.
DECODE_BYTES_PER_BYTE: Final[dict[str, float]] = {"fit": 13.0}
_DEFAULT_BYTES_PER_BYTE: Final[float] = 20.0


class MemoryBudgetError(ValueError):
    """A file whose decode would exceed the import's memory budget (refused, nothing read or stored)."""

    def __init__(self, name: str, content_bytes: int, estimate_bytes: int, budget_bytes: int) -> None:
        super().__init__(name, content_bytes, estimate_bytes, budget_bytes)
        self.name = name
        self.content_bytes = content_bytes
        self.estimate_bytes = estimate_bytes
        self.budget_bytes = budget_bytes

    @property
    def reason(self) -> str:
        return (
            f"refused: {self.name} holds {self.content_bytes / MIB:.1f} MB of data whose decoding needs "
            f"about {self.estimate_bytes / MIB:.0f} MB, over the import memory budget of "
            f"{self.budget_bytes / MIB:.0f} MB (raise it with --max-memory or ${ENV_MAX_MEMORY_MB})"
        )

    def __str__(self) -> str:
        return self.reason


def budget_from_env(default: int = DEFAULT_MEMORY_BUDGET_BYTES) -> int:
    """The budget in bytes from ``$STRIDELAB_MAX_MEMORY_MB`` (a positive number of MB), else ``default``.

    Raises ValueError for a value that is not a number or is below :data:`MIN_MEMORY_BUDGET_BYTES`.
    """
    raw = os.environ.get(ENV_MAX_MEMORY_MB, "").strip()
    if not raw:
        return default
    try:
        mb = float(raw)
    except ValueError:
        raise ValueError(
            f"Invalid value for ${ENV_MAX_MEMORY_MB}: expected a number of MB, got {raw!r}."
        ) from None
    return check_budget(int(mb * MIB), f"${ENV_MAX_MEMORY_MB}")


def check_budget(budget_bytes: int, what: str = "the 'max_memory' parameter") -> int:
    """``budget_bytes`` when it is at least :data:`MIN_MEMORY_BUDGET_BYTES`, else ValueError."""
    if budget_bytes < MIN_MEMORY_BUDGET_BYTES:
        raise ValueError(
            f"Invalid value for {what}: at least {MIN_MEMORY_BUDGET_BYTES // MIB} MB "
            f"(an import process needs about {BASE_RSS_BYTES // MIB} MB before decoding), "
            f"got {budget_bytes // MIB} MB."
        )
    return budget_bytes


def current_rss_bytes() -> int:
    """This process's resident memory now (Linux ``/proc``), else its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes(*, children: bool = False) -> int:
    """Peak resident memory of this process (or of its largest waited-for child) in bytes.

    For this process, Linux's ``VmHWM`` (the peak of the current address space) when available:
    ``ru_maxrss`` survives ``exec``, so a spawned child would report the RSS of the process it was
    forked from (a 300 MB server, an 800 MB test runner) as its own peak."""
    if not children:
        try:
            with open("/proc/self/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    peak = resource.getrusage(who).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # macOS reports bytes


def estimate_decode_bytes(reader_name: str, content_bytes: int) -> int:
    """Peak memory a decode of ``content_bytes`` of content adds to the process (an upper estimate)."""
    per_byte = DECODE_BYTES_PER_BYTE.get(reader_name, _DEFAULT_BYTES_PER_BYTE)
    return int(per_byte * content_bytes) + 32 * MIB


def max_decodable_bytes(reader_name: str, budget_bytes: int, *, base_bytes: int = BASE_RSS_BYTES) -> int:
    """The largest content an import process (``base_bytes`` resident before decoding) can decode
    within ``budget_bytes`` (0 when none). The same for every process, whatever else it holds (a
    test runner, a notebook): the budget is that of an import process."""
    base = base_bytes
    per_byte = DECODE_BYTES_PER_BYTE.get(reader_name, _DEFAULT_BYTES_PER_BYTE)
    return max(int((budget_bytes - base - 32 * MIB) / per_byte), 0)


def fit_declared_size(head: bytes) -> int | None:
    """The size a FIT file's header declares (header + ``data_size`` + CRC), None if not a FIT header."""
    if len(head) < 12 or head[8:12] != b".FIT" or head[0] not in (12, 14):
        return None
    (data_size,) = struct.unpack_from("<I", head, 4)
    return int(head[0]) + int(data_size) + 2


def _gzip_head(compressed: bytes) -> bytes:
    """The first decompressed bytes of gzip data (b"" when unreadable)."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(compressed, 64)
    except zlib.error:
        return b""


def content_size(path: str, *, compressed: bool | None = None) -> int:
    """An upper bound, from metadata only, of the content of the file at ``path`` once decompressed.

    A plain file: its size (or the FIT header's declared size when larger). gzip: the larger of the
    trailer's ``ISIZE`` (mod 4 GiB) and the FIT header's declared size. Either can lie: callers also
    bound the read itself.
    """
    size = os.stat(path).st_size
    with open(path, "rb") as fh:
        head = fh.read(4096)
        is_gzip = head[:2] == b"\x1f\x8b" if compressed is None else compressed
        if not is_gzip:
            return max(size, fit_declared_size(head) or 0)
        trailer = b""
        if size >= 18:
            fh.seek(size - 4)
            trailer = fh.read(4)
    isize = struct.unpack("<I", trailer)[0] if len(trailer) == 4 else 0
    return max(isize, fit_declared_size(_gzip_head(head)) or 0)
