"""FIT CRC-16 (CRC-16/ARC, poly 0xA001 reflected, init 0) computed with numpy.

The data, front-padded with zero bytes to ``m * L`` (leading zeros leave a CRC with init 0
unchanged), is cut into ``m`` chunks of ``L`` = 32 bytes whose CRCs are computed side by side, two
bytes per numpy step (a 65,536-entry table). The chunk CRCs are then joined pairwise, one vectorised
level at a time (``ceil(log2 m)`` levels): because the CRC has no init/xor-out, the CRC of ``A || B``
is ``shift_len(B)(crc(A)) ^ crc(B)``, and the shift by ``len(B)`` zero bytes is a linear map applied
through two 256-entry tables (the table of ``2 L`` is the one of ``L`` applied twice). A level with
an odd number of chunks gets a zero chunk in front (its CRC is 0: more leading zeros), so the data is
padded to a multiple of ``L`` only, not to a power of two of chunks.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["crc16"]


@cache
def _tables() -> tuple[list[int], np.ndarray]:
    t8 = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        t8.append(c)
    t8a = np.array(t8, dtype=np.uint32)
    c16 = np.arange(65536, dtype=np.uint32)
    c16 = (c16 >> 8) ^ t8a[c16 & 0xFF]
    c16 = (c16 >> 8) ^ t8a[c16 & 0xFF]
    return t8, c16.astype(np.uint16)


@cache
def _shift_tables(chunk: int) -> tuple[list[int], list[int]]:
    """Tables applying ``chunk`` zero bytes to a CRC (low byte, high byte contributions)."""
    _, t16 = _tables()
    v = np.concatenate([np.arange(256, dtype=np.uint16), (np.arange(256, dtype=np.uint16) << 8)])
    for _ in range(chunk // 2):
        v = t16[v]
    out = v.tolist()
    return out[:256], out[256:]


def _crc_py(data: bytes | memoryview, crc: int = 0) -> int:
    t8, _ = _tables()
    for b in data:
        crc = (crc >> 8) ^ t8[(crc ^ b) & 0xFF]
    return crc


#: bytes per chunk of the side-by-side pass (16 two-byte steps), and the size below which the plain
#: byte loop is cheaper than the numpy set-up
_CHUNK = 32
_NUMPY_MIN = 1024


@cache
def _shift_arrays(length: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_shift_tables` of ``length`` (a power of two times :data:`_CHUNK`) as uint16 arrays,
    built by squaring the tables of ``length / 2``."""
    if length <= _CHUNK:
        lo, hi = _shift_tables(length)
        return np.array(lo, dtype=np.uint16), np.array(hi, dtype=np.uint16)
    lo_h, hi_h = _shift_arrays(length // 2)
    return lo_h[lo_h & 0xFF] ^ hi_h[lo_h >> 8], lo_h[hi_h & 0xFF] ^ hi_h[hi_h >> 8]


def crc16(data: bytes | memoryview) -> int:
    """The FIT CRC of ``data``."""
    n = len(data)
    if n < _NUMPY_MIN:
        return _crc_py(data)
    _, t16 = _tables()
    m = -(-n // _CHUNK)  # chunks
    buf = np.zeros(m * _CHUNK, dtype=np.uint8)
    buf[m * _CHUNK - n :] = np.frombuffer(data, dtype=np.uint8)
    cols = np.ascontiguousarray(buf.view("<u2").reshape(m, _CHUNK // 2).T)
    crc = np.zeros(m, dtype=np.uint16)
    idx = np.empty(m, dtype=np.uint16)
    for j in range(_CHUNK // 2):  # in place: no allocation per step (np.take is faster than t16[idx])
        np.bitwise_xor(crc, cols[j], out=idx)
        np.take(t16, idx, out=crc)
    length = _CHUNK
    while len(crc) > 1:
        if len(crc) % 2:  # a zero chunk in front (CRC 0) makes the count even
            crc = np.concatenate([np.zeros(1, dtype=np.uint16), crc])
        lo, hi = _shift_arrays(length)
        a = crc[0::2]
        crc = lo[a & 0xFF] ^ hi[a >> 8] ^ crc[1::2]
        length *= 2
    return int(crc[0])
