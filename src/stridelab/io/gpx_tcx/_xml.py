"""Safe streaming XML for the GPX and TCX readers: bounded input, no entity expansion, local names,
timestamps and numbers as written in the wild.

Streaming is :func:`xml.etree.ElementTree.iterparse` (expat): elements are cleared once read, so memory
stays bounded by one track point, not by the file. Entity declarations are refused before parsing
(a GPX or TCX never needs one; an "entity-expansion bomb" is the classic XML attack), and the content
is capped at :data:`MAX_XML_BYTES` (decompressed), so a 10 GB or a truncated file fails with a one-line
reason instead of eating the machine.
"""

from __future__ import annotations

import gzip
import io
import math
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

__all__ = [
    "MAX_XML_BYTES",
    "XmlActivityError",
    "child",
    "child_text",
    "iter_events",
    "load_bytes",
    "local",
    "parse_number",
    "parse_time_ns",
]

#: largest GPX/TCX content read (decompressed). A 24-hour 1 Hz TCX with every extension is ~60 MB.
MAX_XML_BYTES = 256 * 1024 * 1024
#: the prolog (before the root element) is searched for a DOCTYPE with entities in this many bytes
_PROLOG_BYTES = 64 * 1024
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


class XmlActivityError(ValueError):
    """A GPX or TCX file that cannot be imported; ``reason`` is the one-line why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_bytes(source: str | Path | bytes, limit: int = MAX_XML_BYTES) -> bytes:
    """The (decompressed) content of a path or bytes, refusing more than ``limit`` bytes."""
    if isinstance(source, bytes):
        data = source
        if len(data) > limit and data[:2] != b"\x1f\x8b":
            raise XmlActivityError(_too_large(limit))
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise XmlActivityError(f"cannot read the file: {exc.strerror or exc}") from exc
        with open(path, "rb") as fh:
            magic = fh.read(2)
            if size > limit and magic != b"\x1f\x8b":
                raise XmlActivityError(_too_large(limit))
            fh.seek(0)
            data = _read_at_most(fh, limit)
    if data[:2] == b"\x1f\x8b":
        try:
            data = _read_at_most(gzip.GzipFile(fileobj=io.BytesIO(data)), limit)
        except (OSError, EOFError) as exc:
            raise XmlActivityError(f"corrupt gzip data: {exc}") from exc
    return data


def _too_large(limit: int) -> str:
    return f"refused: more than {limit // (1024 * 1024)} MB of XML (no GPX/TCX activity is that large)"


def _read_at_most(fh: IO[bytes] | gzip.GzipFile, limit: int) -> bytes:
    with fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise XmlActivityError(_too_large(limit))
    return bytes(data)


#: tag -> local name (a file uses a few dozen tags; the hot loops look them up here)
LOCAL_NAMES: dict[str, str] = {}


def local(tag: str) -> str:
    """The local name of a tag, whatever its namespace (``{ns}Time`` and ``ns3:Time`` -> ``Time``)."""
    name = LOCAL_NAMES.get(tag)
    if name is None:
        name = tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag.rsplit(":", 1)[-1]
        if len(LOCAL_NAMES) < 10_000:
            LOCAL_NAMES[tag] = name
    return name


def child(elem: ET.Element, name: str) -> ET.Element | None:
    """The first direct child of ``elem`` whose local name is ``name`` (any namespace or none)."""
    names = LOCAL_NAMES
    for c in elem:
        if (names.get(c.tag) or local(c.tag)) == name:
            return c
    return None


def child_text(elem: ET.Element, name: str) -> str | None:
    c = child(elem, name)
    return None if c is None else c.text


def iter_events(data: bytes, kind: str, *, original: bytes | None = None) -> Iterator[tuple[str, ET.Element]]:
    """``("start"|"end", element)`` of XML ``data``; :class:`XmlActivityError` naming the problem for
    entity declarations, malformed or truncated XML (``kind`` names the format in messages).
    ``original``: the document ``data`` is a skeleton of (the fast path's); an error is then located
    in the original, so the message is the one the original gives."""
    head = data[:_PROLOG_BYTES]
    doctype = _DOCTYPE.search(head)
    if doctype is not None and _ENTITY.search(head, doctype.start()):
        raise XmlActivityError(
            f"refused: the {kind} file declares XML entities (an entity-expansion guard; "
            f"{kind} files never need them)"
        )
    parser = ET.iterparse(io.BytesIO(data), events=("start", "end"))
    try:
        yield from parser
    except ET.ParseError as exc:
        if original is not None:
            exc = _first_error(original) or exc
        line, col = exc.position
        msg = str(exc)
        what = "truncated" if "no element found" in msg or "unclosed token" in msg else "malformed"
        raise XmlActivityError(f"{what} XML at line {line}, column {col}: {_reason(exc)}") from None


def _first_error(data: bytes) -> ET.ParseError | None:
    """The error expat stops at in ``data`` (None: well-formed)."""
    parser = ET.XMLParser()
    try:
        parser.feed(data)
        parser.close()
    except ET.ParseError as exc:
        return exc
    return None


def _reason(exc: ET.ParseError) -> str:
    return str(exc).split(":", 1)[0]


# ---------------------------------------------------------------------------- values
def parse_time_ns(text: str | None) -> tuple[int | None, bool]:
    """An ISO 8601 timestamp (``Z``, an offset, fractions of any length, or no zone) as UTC
    nanoseconds since the epoch, and whether the text had a zone (False: read as UTC).
    ``(None, True)`` when there is no valid time."""
    if not text:
        return None, True
    s = text.strip()
    if not s:
        return None, True
    if len(s) == 20 and s[19] == "Z":  # the common "2024-05-01T06:30:00Z": no datetime per point
        fast = _fast_time_ns(s)
        if fast is not None:
            return fast, True
    if s[-1] in "zZ":
        s = s[:-1] + "+00:00"
    s = s.replace(" ", "T", 1) if "T" not in s and len(s) > 10 and s[10] == " " else s
    frac = ""
    dot = s.find(".", 17)
    if dot != -1:  # fromisoformat takes 3 or 6 fraction digits: keep up to 9 ourselves
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        frac = s[dot + 1 : end]
        s = s[:dot] + s[end:]
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None, True
    zoned = dt.tzinfo is not None
    if zoned:
        offset = dt.utcoffset() or timedelta(0)
        dt = dt.replace(tzinfo=None) - offset
    if not 1 <= dt.year <= 2200:
        return None, True
    epoch = datetime(1970, 1, 1)
    delta = dt - epoch
    ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    if frac:
        ns += int((frac + "000000000")[:9])
    return ns, zoned


#: "YYYY-MM-DD" -> UTC ns of its midnight (None: not a valid date); one entry per day in a file
_DAY_NS: dict[str, int | None] = {}


def _fast_time_ns(s: str) -> int | None:
    """UTC ns of ``YYYY-MM-DDTHH:MM:SSZ`` (20 characters, checked by the caller), None when the text is
    not exactly that (the general path then decides). Same result as the general path."""
    if s[10] != "T" or s[13] != ":" or s[16] != ":":
        return None
    day = s[:10]
    base = _DAY_NS.get(day, -1)
    if base == -1:
        base, _ = parse_time_ns(day + "T00:00:00+00:00")
        if len(_DAY_NS) < 100_000:
            _DAY_NS[day] = base
    hms = s[11:13] + s[14:16] + s[17:19]
    if base is None or not (hms.isascii() and hms.isdigit()):
        return None
    h, m, sec = int(hms[:2]), int(hms[2:4]), int(hms[4:])
    if h > 23 or m > 59 or sec > 59:
        return None
    return base + (h * 3600 + m * 60 + sec) * 1_000_000_000


def parse_number(text: str | None) -> float | None:
    """A finite float from element text (whitespace, a decimal comma tolerated); None otherwise."""
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    try:
        x = float(s)
    except ValueError:
        try:
            x = float(s.replace(",", "."))
        except ValueError:
            return None
    return x if math.isfinite(x) else None
