"""The dashboard's configuration: one frozen object, validated on construction.

The app is built from it (:func:`stridelab.web.create_app`); nothing else is read from the
environment, so a test builds exactly the app it wants.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from stridelab.services.memory import DEFAULT_MEMORY_BUDGET_BYTES, check_budget

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_PORT", "MIN_TOKEN_CHARS", "WebConfig", "is_loopback"]

DEFAULT_PORT: Final[int] = 8765
#: one uploaded file (a FIT file, a .fit.gz or a zip export); a real FIT file is < 50 MB
DEFAULT_MAX_UPLOAD_BYTES: Final[int] = 200 * 1024 * 1024
#: a token shorter than this is refused (it would be guessable on a shared network)
MIN_TOKEN_CHARS: Final[int] = 16
_ATHLETE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class WebConfig:
    """Everything the dashboard needs.

    ``token``: required when ``host`` is not a loopback address; every request must then carry it
    (``?token=`` once, which sets a cookie, or ``Authorization: Bearer``). ``today`` pins the
    calendar day (tests, demos); None means the real local date. ``background_analysis`` lets the
    server fill the analysis cache of new runs in its writer thread.
    """

    store_path: Path
    athlete: str = "me"
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    page_size: int = 50
    background_analysis: bool = True
    today: date | None = None
    extra_allowed_hosts: tuple[str, ...] = field(default=())
    #: resident memory an upload's import (a child process) may use: refused or stopped beyond it
    max_memory_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES

    def __post_init__(self) -> None:
        object.__setattr__(self, "store_path", Path(self.store_path).expanduser())
        if not _ATHLETE.match(self.athlete):
            raise ValueError(
                f"Invalid value for the 'athlete' parameter: {self.athlete!r} (use letters, digits, '_.-')."
            )
        if not 0 <= self.port <= 65535:
            raise ValueError(f"Invalid value for the 'port' parameter: expected 0-65535, got {self.port}.")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"Invalid value for the 'token' parameter: use at least {MIN_TOKEN_CHARS} characters."
            )
        if not self.loopback and not self.token:
            raise ValueError(
                f"Refusing to serve on {self.host} without a token: anyone on the network could read and "
                "change your data. Pass a token (e.g. `--token auto`) or bind to 127.0.0.1."
            )
        if not 1024 <= self.max_upload_bytes <= 4 * 1024**3:
            raise ValueError("Invalid value for the 'max_upload_bytes' parameter: expected 1 KiB-4 GiB.")
        check_budget(self.max_memory_bytes, "the 'max_memory_bytes' parameter")
        if not 5 <= self.page_size <= 500:
            raise ValueError(
                f"Invalid value for the 'page_size' parameter: expected 5-500, got {self.page_size}."
            )

    @property
    def loopback(self) -> bool:
        """True when the server is reachable from this machine only."""
        return is_loopback(self.host)

    def allowed_hosts(self) -> set[str] | None:
        """Host names (without the port) accepted in the Host header (DNS-rebinding guard), or None
        (any) when a token protects the app."""
        if self.token:
            return None
        return {"127.0.0.1", "localhost", "[::1]", *self.extra_allowed_hosts}
