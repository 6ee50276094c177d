"""Text from outside (file contents, paths, user input) made safe to show.

One place decides how a foreign string reaches a person: :func:`plain` strips what a terminal would
obey instead of print (ANSI/ECMA-48 escape sequences, C0 and C1 control characters, DEL, bidirectional
overrides), :func:`markup` additionally escapes Rich markup (``[bold]``, ``[/]``...) so that a product
name or a path is printed as written instead of styling the output or crashing it (``MarkupError``).
HTML pages escape through Jinja's autoescape; JSON output escapes controls itself (``\\u001b``).
"""

from __future__ import annotations

import re
from typing import Final

from rich.markup import escape as _rich_escape

__all__ = ["REPLACEMENT", "markup", "plain"]

#: what a removed control character becomes (visible, so that a tampered name does not look clean)
REPLACEMENT: Final[str] = "\ufffd"

#: ESC-introduced sequences: CSI (``ESC [ ... final``), OSC/DCS/SOS/PM/APC strings (up to BEL or ST),
#: and two-character escapes (``ESC c``, ``ESC 7``...); the 8-bit CSI (U+009B) form as well
_ESCAPES: Final[re.Pattern[str]] = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI ... final byte (unterminated: up to where it stops)
    r"|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, ... ST
    r"|\x1b[ -/]*[0-~]?"  # nF / Fp / Fe / Fs escapes (and a lone ESC)
)
#: C0 controls but tab, DEL, C1 controls, and the bidirectional overrides/isolates ("Trojan source")
_CONTROLS: Final[re.Pattern[str]] = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """``str(value)`` with escape sequences removed and control characters replaced by
    :data:`REPLACEMENT` (a tab becomes a space): safe to print on a terminal."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing to do (printable excludes every control)
        return text
    text = _ESCAPES.sub(REPLACEMENT, text)
    return _CONTROLS.sub(REPLACEMENT, text).replace("\t", " ")


def markup(value: object) -> str:
    """:func:`plain`, then Rich markup escaped: safe inside a Rich string, table cell or title."""
    return _rich_escape(plain(value))
