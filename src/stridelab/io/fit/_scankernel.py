"""The compiled inner loop of the scanner (numba, compiled on first use and cached on disk).

:class:`~._scanner.Scanner` walks record headers in Python; a run of messages of one definition
costs it one strided slice, but files that interleave message types message by message, or re-send a
definition before every message (Suunto: ``record`` and ``hrv`` alternate on local type 0), cost one
Python step per message. After :data:`COMPILED_AFTER` such steps in a file the scanner hands the
rest of the file to :func:`scan_loop`, the same walk compiled.

The kernel only takes the plain cases: a data message (normal or compressed-timestamp header) of a
defined, non-special local type that fits in the data, and a definition message whose bytes equal a
definition already parsed in this file. Anything else (a new definition, developer data ids and
field descriptions, undefined local types, reserved header bits, a message running past the data)
stops it at that byte and the Python scanner handles it exactly as before, then calls the kernel
again. Positions are written in file order with the index of their definition; the tests check that
both walks give the same positions, definitions, compressed timestamps and problems on every file of
the corpus. numba is imported on the first call, not with the package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

__all__ = [
    "COMPILED_AFTER",
    "DONE",
    "FULL",
    "LOAD_AFTER_STEPS",
    "SLOW",
    "Tables",
    "loaded",
    "scan_loop",
    "worth_loading",
]

#: Python scan steps (single messages and slow-path messages) in one file after which the compiled
#: loop takes over: a file scanned in runs (a one-hour run written as one block of records) never
#: gets there and so never pays numba's import (~0.3 s, ~55 MB) in a process that decodes small files
COMPILED_AFTER: Final[int] = 2048
#: ... once the compiled loop is loaded. Loading it (numba's import and its disk cache, ~0.3-0.5 s
#: of CPU) pays off only in a process that decodes many such files (an import worker, the server):
#: it is loaded once the process has spent about as much in such Python steps (counted in blocks of
#: COMPILED_AFTER steps across files; ~0.35 us a step), so a single file (one CLI command) never
#: pays more than the loop would save, and a long-lived process at most twice what loading costs.
LOAD_AFTER_STEPS: Final[int] = 1_000_000

#: status returned by the kernel
DONE: Final[int] = 0  # reached ``end``
SLOW: Final[int] = 1  # stopped at a message the Python scanner must handle
FULL: Final[int] = 2  # an output buffer is full

_KERNEL: list[Callable[..., Any]] = []
#: Python steps spent in this process by files that would have used the loop had it been loaded
_PENDING_STEPS: list[int] = [0]


def _scan_loop(  # pragma: no cover - jitted
    data: Any,
    pos: int,
    end: int,
    local_def: Any,
    def_size: Any,
    def_special: Any,
    def_off: Any,
    def_klen: Any,
    def_dev: Any,
    n_defs: int,
    out_pos: Any,
    out_def: Any,
    n_out: int,
    comp_pos: Any,
    comp_off: Any,
    n_comp: int,
) -> tuple[int, int, int, int]:
    cap_out = out_pos.shape[0]
    cap_comp = comp_pos.shape[0]
    while pos < end:
        if n_out >= cap_out or n_comp >= cap_comp:
            return 2, pos, n_out, n_comp
        h = int(data[pos])
        if h & 0x80:  # compressed timestamp header
            d = local_def[(h >> 5) & 0x03]
            if d < 0 or def_special[d] or pos + def_size[d] > end:
                return 1, pos, n_out, n_comp
            out_pos[n_out] = pos
            out_def[n_out] = d
            n_out += 1
            comp_pos[n_comp] = pos
            comp_off[n_comp] = h & 0x1F
            n_comp += 1
            pos += def_size[d]
        elif h & 0x40:  # definition: only one already parsed (same bytes) is taken here
            if pos + 6 > end:
                return 1, pos, n_out, n_comp
            q = pos + 6 + 3 * int(data[pos + 5])
            dev = 0
            if h & 0x20:
                dev = 1
                if q + 1 > end:
                    return 1, pos, n_out, n_comp
                q += 1 + 3 * int(data[q])
            if q > end:
                return 1, pos, n_out, n_comp
            klen = q - pos - 1
            local = h & 0x0F
            found = -1
            cur = local_def[local]
            j = cur if cur >= 0 else 0
            tried = 0
            while tried < n_defs:
                if def_klen[j] == klen and def_dev[j] == dev:
                    a = def_off[j] + 1
                    b = pos + 1
                    k = 0
                    while k < klen and data[a + k] == data[b + k]:
                        k += 1
                    if k == klen:
                        found = j
                        break
                tried += 1
                j += 1
                if j == n_defs:
                    j = 0
            if found < 0:
                return 1, pos, n_out, n_comp
            local_def[local] = found
            pos = q
        else:  # data message
            if h & 0x30:  # reserved bits set: the Python scanner's slow path
                return 1, pos, n_out, n_comp
            d = local_def[h]
            if d < 0 or def_special[d] or pos + def_size[d] > end:
                return 1, pos, n_out, n_comp
            out_pos[n_out] = pos
            out_def[n_out] = d
            n_out += 1
            pos += def_size[d]
    return 0, pos, n_out, n_comp


def loaded() -> bool:
    """Whether the compiled loop is loaded in this process."""
    return bool(_KERNEL)


def worth_loading(steps: int) -> bool:
    """Count ``steps`` more Python steps a file spent beyond ``COMPILED_AFTER``; True when the loop is
    loaded or the process has now spent ``LOAD_AFTER_STEPS`` such steps (then load it)."""
    if _KERNEL:
        return True
    _PENDING_STEPS[0] += steps
    return _PENDING_STEPS[0] >= LOAD_AFTER_STEPS


def scan_loop() -> Callable[..., tuple[int, int, int, int]]:
    """The compiled kernel (compiled, or loaded from numba's disk cache, on the first call)."""
    if not _KERNEL:
        import numba

        _KERNEL.append(numba.njit(cache=True, nogil=True)(_scan_loop))
    return _KERNEL[0]


class Tables:
    """The kernel's view of the scanner's definitions (grown as definitions are parsed) and its
    output buffers (positions with their definition index; compressed-header offsets)."""

    def __init__(self, n_bytes: int) -> None:
        cap = 64
        self.n_defs = 0
        self.size = np.zeros(cap, dtype=np.int64)
        self.special = np.zeros(cap, dtype=np.bool_)
        self.off = np.zeros(cap, dtype=np.int64)
        self.klen = np.zeros(cap, dtype=np.int64)
        self.dev = np.zeros(cap, dtype=np.int64)
        out_cap = max(256, n_bytes // 16)
        self.out_pos = np.empty(out_cap, dtype=np.int64)
        self.out_def = np.empty(out_cap, dtype=np.int32)
        self.n_out = 0
        self.comp_pos = np.empty(256, dtype=np.int64)
        self.comp_off = np.empty(256, dtype=np.int64)
        self.n_comp = 0
        self.pos_chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self.comp_chunks: list[tuple[np.ndarray, np.ndarray]] = []

    def add_definition(self, size: int, special: bool, offset: int, key_len: int, dev: bool) -> None:
        i = self.n_defs
        if i == len(self.size):
            for name in ("size", "special", "off", "klen", "dev"):
                arr = getattr(self, name)
                setattr(self, name, np.concatenate([arr, np.zeros_like(arr)]))
        self.size[i] = size
        self.special[i] = special
        self.off[i] = offset
        self.klen[i] = key_len
        self.dev[i] = dev
        self.n_defs = i + 1

    def flush(self) -> None:
        """Move full (or final) output buffers aside and start new ones."""
        if self.n_out:
            self.pos_chunks.append((self.out_pos[: self.n_out].copy(), self.out_def[: self.n_out].copy()))
            self.n_out = 0
        if self.n_comp:
            self.comp_chunks.append(
                (self.comp_pos[: self.n_comp].copy(), self.comp_off[: self.n_comp].copy())
            )
            self.n_comp = 0
