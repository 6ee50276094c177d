"""Amplified FIT files (the memory-budget and fault benchmarks of issue 19): a simulated run's
records repeated until the file reaches a target size, written with the project's FIT writer
(``stridelab.io.fit.FitWriter``).

The result is a valid FIT activity (header, definitions, CRC; timestamps strictly increasing), only
long: what a hostile upload or a decades-long "activity" looks like to the decoder.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stridelab.io.fit import FitWriter, Message, MessageBlock, mesg_num

from ._run import simulate_run
from ._truth import RunTruth
from ._write import fit_messages

__all__ = ["amplified_fit"]

RECORD = mesg_num("record")


def amplified_fit(target_bytes: int, *, seed: int = 1, duration_s: float = 1800.0) -> bytes:
    """A valid FIT activity of about ``target_bytes`` (at least one simulated run)."""
    run = simulate_run(RunTruth(kind="easy", duration_s=duration_s), seed=seed)
    items = fit_messages(run)
    first = next(i for i, it in enumerate(items) if isinstance(it, MessageBlock) and it.mesg_num == RECORD)
    head = items[:first]
    blocks = [it for it in items if isinstance(it, MessageBlock) and it.mesg_num == RECORD]
    tail = [it for it in items if isinstance(it, Message) and it.mesg_num != mesg_num("event")][-3:]
    cols: dict[str, Any] = {
        k: np.concatenate([np.asarray(b.columns[k]) for b in blocks]) for k in blocks[0].columns
    }
    n = len(cols["timestamp"])
    span = int(cols["timestamp"][-1] - cols["timestamp"][0]) + 1
    w = FitWriter()
    for it in head:
        w.write(it)
    w.write(MessageBlock(RECORD, cols))
    per_record = max(len(w.close()) // n, 1)
    reps = max(target_bytes // (per_record * n), 1)
    w = FitWriter()
    for it in head:
        w.write(it)
    dist = np.asarray(cols["distance"], dtype=np.float64)
    for k in range(int(reps)):
        block = dict(cols)
        block["timestamp"] = np.asarray(cols["timestamp"]) + k * span
        block["distance"] = dist + k * float(dist[-1])
        w.write(MessageBlock(RECORD, block))
    end = int(cols["timestamp"][0]) + int(reps) * span
    for it in tail:
        fields = dict(it.fields)
        if "timestamp" in fields:
            fields["timestamp"] = end
        w.write(Message(it.mesg_num, fields))
    return w.close()
