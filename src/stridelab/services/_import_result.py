"""The result of an import (:class:`ImportResult`), in a module of its own: light to import (no
readers, pandas or pyarrow), so that a re-import the source cache answers alone
(:mod:`stridelab.services.import_unchanged`) never loads the decoding stack."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ImportResult", "failure_key"]


@dataclass(slots=True)
class ImportResult:
    """What an import did.

    ``failed`` holds (path, reason) of files with nothing usable; ``warnings`` (path, faults) of
    damaged files that were imported with what precedes each fault; ``notes`` (path, remark) of sound
    files imported with a remark (a tolerated encoding quirk, records without a timestamp);
    ``ignored`` files (in folders and zips) are files no reader takes; ``not_activities`` (path,
    reason) are files a reader takes that hold no activity by design (FIT settings, monitoring,
    workout, course, weight... files): skipped, not failed. ``link_warning``: linking the imported
    activities to their duplicates from other sources failed (they are imported and kept, each listed
    on its own); the exit code is then 1.
    """

    imported: list[tuple[str, str]] = field(default_factory=list)  # (path, activity id)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # imported, but the file is damaged
    notes: list[tuple[str, str]] = field(default_factory=list)  # imported, sound, with a remark
    not_activities: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): skipped
    link_warning: str | None = None  # duplicate linking failed after the commits (imports kept)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when every file was imported intact, was already present or is not an activity (skipped);
        1 when any file failed or was damaged (truncated, bad CRC...: imported only up to the fault).
        (2, a usage error, is the command line's: see ``stridelab import``.)"""
        return 1 if self.failed or self.warnings or self.link_warning else 0

    def relabel(self, old: str, new: str) -> None:
        """Report paths under ``old`` as under ``new`` (e.g. a server's upload folder)."""
        for name in ("imported", "skipped", "failed", "warnings", "notes", "not_activities"):
            pairs: list[tuple[str, str]] = getattr(self, name)
            pairs[:] = [(_relabel(p, old, new), x) for p, x in pairs]
        self.ignored[:] = [_relabel(p, old, new) for p in self.ignored]

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": len(self.imported),
            "skipped": len(self.skipped),
            "failed": [{"path": p, "error": e} for p, e in self.failed],
            "ignored": len(self.ignored),
            "warnings": [{"path": p, "warning": w} for p, w in self.warnings],
            "notes": [{"path": p, "note": n} for p, n in self.notes],
            "imported_ids": [i for _, i in self.imported],
            "seconds": round(self.seconds, 3),
            "not_activities": [{"path": p, "reason": r} for p, r in self.not_activities],
            "link_warning": self.link_warning,
        }


def _relabel(path: str, old: str, new: str) -> str:
    return new + path[len(old) :].lstrip("/") if path.startswith(old) else path


def failure_key(display: str) -> str:
    """The source-cache key of a file an import names by ``display``: the absolute path
    [+ "!member"], without the "#n" of a second activity in one file (failures are kept and forgotten
    by it)."""
    prefix, sep, rest = re.sub(r"#\d+$", "", display).partition("!")
    return os.path.abspath(prefix) + sep + rest
