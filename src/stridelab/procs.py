"""Child processes that never outlive their parent (layer 0: standard library only, cheap to import).

A process pool's workers block reading the pool's call queue; when the parent dies alone (the OOM
killer, ``kill -9``) nothing closes that queue, so they would wait for minutes or forever, holding the
multiprocessing resource tracker alive with them. :func:`follow_parent` -- run first in every child
(a pool's ``initializer``) -- ties the child's life to its parent's in two ways:

* Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ``ctypes``: the kernel kills the child the
  moment the thread that started it exits (immediate, needs no polling);
* everywhere: a daemon watchdog thread that polls ``os.getppid()`` every :data:`WATCHDOG_PERIOD_S`
  and exits the process when it changes (the child was re-parented: its parent is gone).

A parent that died before the child got here is caught by the first check (the parent pid is passed
in, not read after the fact). The resource tracker exits by itself once every process holding its
pipe (the parent and the workers) is gone.

A spawned child imports a lot before it runs a pool's ``initializer`` (the parent's main module, the
modules of the pickled task: seconds on a loaded machine), and an orphan would live that long. So the
parent also starts its children inside :func:`children_follow`, which passes its pid in the
environment; ``import stridelab`` -- the first thing a child imports -- calls
:func:`follow_parent_from_env`, arming the death signal before anything heavy is loaded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Final

__all__ = [
    "FOLLOW_PARENT_ENV",
    "WATCHDOG_PERIOD_S",
    "children_follow",
    "follow_parent",
    "follow_parent_from_env",
]

#: the environment variable through which a parent tells its spawned children to follow it
FOLLOW_PARENT_ENV: Final[str] = "STRIDELAB_FOLLOW_PARENT_PID"

#: how often the watchdog looks at the parent pid (the 2 s exit guarantee needs well under 2 s)
WATCHDOG_PERIOD_S: Final[float] = 0.25
#: ``PR_SET_PDEATHSIG`` from ``<linux/prctl.h>``
_PR_SET_PDEATHSIG: Final[int] = 1
#: exit status of a child that left because its parent died (as a shell reports SIGHUP)
_ORPHAN_EXIT: Final[int] = 128 + int(signal.SIGHUP)


def _set_pdeathsig() -> bool:
    """Ask the Linux kernel to SIGKILL this process when its parent exits; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # only a process that follows its parent (every command would pay ~5 ms)

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int, period_s: float) -> None:
    while True:
        time.sleep(period_s)
        if os.getppid() != parent_pid:
            os._exit(_ORPHAN_EXIT)  # no cleanup to run: the parent that would use our results is gone


def follow_parent(parent_pid: int, *, period_s: float = WATCHDOG_PERIOD_S) -> None:
    """Make this process exit when ``parent_pid`` (its parent) dies (see the module docstring).

    Call it first thing in a child process; it returns at once (the watchdog is a daemon thread).
    """
    _set_pdeathsig()
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(_ORPHAN_EXIT)
    with contextlib.suppress(RuntimeError):  # interpreter shutting down
        threading.Thread(
            target=_watch, args=(parent_pid, period_s), name="stridelab-parent-watchdog", daemon=True
        ).start()


def follow_parent_from_env() -> None:
    """:func:`follow_parent` when this process was started inside :func:`children_follow` (the
    variable is removed, so this process's own children do not inherit it)."""
    raw = os.environ.pop(FOLLOW_PARENT_ENV, None)
    if raw and raw.isdigit():
        follow_parent(int(raw))


@contextlib.contextmanager
def children_follow() -> Iterator[None]:
    """Processes spawned inside this block follow this one (:func:`follow_parent_from_env`)."""
    before = os.environ.get(FOLLOW_PARENT_ENV)
    os.environ[FOLLOW_PARENT_ENV] = str(os.getpid())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(FOLLOW_PARENT_ENV, None)
        else:
            os.environ[FOLLOW_PARENT_ENV] = before
