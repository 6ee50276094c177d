"""The one limit tests wait for a background process with: a hang guard, never a speed check.

Tests poll for a condition (a server up, an import job done, rows committed); on a busy shared machine
that can take long, so the limit only catches a process that will never get there. Speed is measured
in ``bench/``.
"""

from __future__ import annotations

from typing import Final

#: seconds after which a wait is declared hung (not slow): far beyond any loaded machine's time
HANG_GUARD_S: Final[float] = 600.0
