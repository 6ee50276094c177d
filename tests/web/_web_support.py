"""Shared helpers of the dashboard tests (constants, the demo data handle, a live server)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from _hang import HANG_GUARD_S

SEASON_RUNS = 12
EXTRA_RUNS = 3
SEED = 11
PLAN_START = date(2026, 4, 6)  # a Monday, right after the season's last runs


@dataclass(frozen=True)
class Demo:
    """The shared demo data: the season's FIT files, extra FIT files not in the store, a store
    (runs imported and analysed, a 4-week plan saved) and the plan's first session day."""

    season_dir: Path
    extra_dir: Path
    store: Path
    today: date

    @property
    def fit_files(self) -> list[Path]:
        return sorted(self.season_dir.glob("*.fit"))


AppFactory = Callable[..., FastAPI]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real uvicorn server on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + HANG_GUARD_S  # a hang guard, not a speed check
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
