"""``stridelab live``: live feedback from a replayed recording, a phone (Sensor Logger push) or BLE."""

from __future__ import annotations

import math
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from stridelab.cli._common import AthleteOpt, JsonOpt, StoreOpt, console, err_console, fail, open_store
from stridelab.jsonsafe import dumps
from stridelab.live.cues import DEFAULT_BAND
from stridelab.present.format import balance, num
from stridelab.present.text import markup as esc

__all__ = ["register"]

#: metric → (label, factor from SI, decimals, unit) for the panel
_PANEL: tuple[tuple[str, str, float, int, str], ...] = (
    ("cadence_spm", "cadence", 1.0, 0, "spm"),
    ("stance_time_s", "ground contact", 1000.0, 0, "ms"),
    ("flight_time_s", "flight", 1000.0, 0, "ms"),
    ("step_time_s", "step time", 1000.0, 0, "ms"),
    ("step_time_symmetry_index_pct", "step-time symmetry", 1.0, 1, "%"),
)

#: the default cue band (a list: --band repeats)
_DEFAULT_BAND = [DEFAULT_BAND]


def _panel(update: dict[str, Any], notes: list[str], cues: list[str]) -> Any:
    from rich.table import Table

    t = Table(title=f"stridelab live  {num(update.get('time_s'), 0, 's')}", show_header=False)
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_row("GCT balance", esc(balance(update.get("stance_time_balance_left_pct"))))
    for key, label, factor, dec, unit in _PANEL:
        v = update.get(key)
        t.add_row(label, esc(num(None if v is None else v * factor, dec, unit)))
    from stridelab.live.cues import KINEMATIC_LABELS

    for key, label in KINEMATIC_LABELS:  # only the ones the stream's sensors give
        if key in update:
            v = update.get(key)
            t.add_row(label, esc(num(None if v is None else math.degrees(v), 1, "°")))
    t.add_row("latency", esc(num(update.get("latency_s"), 3, "s")))
    for c in cues[-3:]:
        t.add_row("[bold yellow]cue[/]", f"[bold yellow]{esc(c)}[/]")
    for n in notes[-3:]:
        t.add_row("[dim]note[/]", f"[dim]{esc(n)}[/]")
    return t


def _source(spec: str, speed: float | None, host: str, port: int, token: str | None, rate_hz: float) -> Any:
    kind, _, arg = spec.partition(":")
    if kind == "replay":
        from stridelab.live.sources.replay import ReplaySource

        if not arg:
            raise ValueError("--source replay:FILE needs a file")
        return ReplaySource(Path(arg), speed=speed)
    if kind == "phone":
        from stridelab.live.sources.phone import PhoneSource

        return PhoneSource(host=host, port=port, token=token, sampling_rate_hz=rate_hz)
    if kind == "phyphox":
        from stridelab.live.sources.phyphox import PhyphoxSource

        if not arg:
            raise ValueError("--source phyphox:http://PHONE:8080 needs the address phyphox shows")
        return PhyphoxSource(arg, sampling_rate_hz=rate_hz)
    if kind == "ble":
        import importlib.util

        from stridelab.live.sources.ble_loop import BleSource

        if importlib.util.find_spec("bleak") is None:
            raise RuntimeError("Bluetooth needs the optional extra: pip install 'stridelab[live]' (bleak)")
        return BleSource(arg)
    raise ValueError(f"--source is replay:FILE, phone, phyphox:URL or ble:ADDRESS, got {spec!r}")


def _line(obj: dict[str, Any]) -> None:
    """One JSON object per line (NaN → null), flushed: a consumer reads each update as it comes."""
    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()


def _drive(items: Any, json_out: bool, broadcast: Any) -> None:
    """Show the items of a live loop: JSON lines, or the Rich panel with one line per cue and lap."""
    notes: list[str] = []
    cues: list[str] = []
    if json_out:
        for item in items:
            if broadcast is not None:
                broadcast.publish(item)
            _line(item)
        return
    from rich.live import Live

    with Live(_panel({}, notes, cues), console=console, refresh_per_second=4) as live:
        for item in items:
            if broadcast is not None:
                broadcast.publish(item)
            if item["type"] == "note":
                notes.append(str(item["text"]))
                continue
            if item["type"] == "lap":
                cues.append(str(item["text"]))
                console.print(f"[bold cyan]{esc(str(item['text']))}[/]")
                continue
            if item["type"] != "update":
                continue
            for c in item.get("cues", []):
                cues.append(str(c["text"]))
                console.print(f"[bold yellow]{esc(str(c['text']))}[/]")
            live.update(_panel(item, notes, cues))


def _serve_page(broadcast: Any, token: str | None, host: str, port: int) -> None:
    import threading

    import uvicorn

    from stridelab.live.page import live_app

    web = live_app(broadcast, token=token, host=host)
    server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()


def register(app: typer.Typer) -> None:
    @app.command("live")
    def live_cmd(
        source: str = typer.Option(..., "--source", help="replay:FILE, phone, phyphox:URL or ble:ADDRESS."),
        speed: float = typer.Option(1.0, "--speed", min=1.0, max=100.0, help="Replay speed (1-100 ×)."),
        as_fast: bool = typer.Option(False, "--as-fast-as-possible", help="Replay without pacing."),
        json_out: bool = JsonOpt,
        window_s: float = typer.Option(30.0, "--window", min=5.0, help="Rolling window (s)."),
        interval_s: float = typer.Option(1.0, "--interval", min=0.1, help="Seconds between updates."),
        band: list[str] = typer.Option(
            _DEFAULT_BAND,
            "--band",
            help="Cue band METRIC=LOW:HIGH in SI units (repeatable).",
        ),
        hold_s: float = typer.Option(10.0, "--hold", min=0.0, help="Seconds outside a band before a cue."),
        cue_gap_s: float = typer.Option(
            30.0, "--cue-gap", min=0.0, help="Least seconds between two cues of a metric."
        ),
        host: str = typer.Option(
            "127.0.0.1", "--host", help="phone: address to bind (not 127.0.0.1 needs --token)."
        ),
        port: int = typer.Option(8765, "--port", min=0, max=65535, help="phone: TCP port."),
        token: str | None = typer.Option(
            None, "--token", envvar="STRIDELAB_LIVE_TOKEN", help="phone: token ('auto')."
        ),
        rate_hz: float = typer.Option(100.0, "--rate", min=10.0, help="phone: the rate set in the app (Hz)."),
        page: bool = typer.Option(
            False, "--page", help="Serve the live page (big numbers, gauge, spoken cues) at HOST:PORT/live."
        ),
        save: bool = typer.Option(True, "--save/--no-save", help="Keep the session in the store at the end."),
        experiment: str | None = typer.Option(
            None,
            "--experiment",
            help="Announce the laps' arms of this experiment (e.g. 'lap 3: push behind').",
        ),
        run_no: int = typer.Option(1, "--run", min=1, help="Which run of the experiment this is (1-based)."),
        use_plan: bool = typer.Option(
            True,
            "--plan/--no-plan",
            help="A running training plan sets its GCT balance target (balanced zone) for gauge and cues.",
        ),
        lap_s: float | None = typer.Option(
            None,
            "--lap-every",
            min=10.0,
            help="Timer laps every N s (IMU streams; FIT replays use their laps).",
        ),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
    ) -> None:
        """Live gait feedback: balance, contact, cadence and cues while running; every session is
        journaled as it arrives and stored when it ends."""
        from stridelab.live import LiveSession, read_journal
        from stridelab.live.cues import Cues, parse_band
        from stridelab.services.live import save_session

        try:
            rules = tuple(parse_band(b, hold_s=hold_s, min_gap_s=cue_gap_s) for b in band)
            if token == "auto":
                token = secrets.token_urlsafe(16)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        plan, targets = None, {r.metric: (r.low, r.high) for r in rules}
        if use_plan:
            from stridelab.services.training import plan_live_targets

            try:
                plan_bands = plan_live_targets(open_store(store), athlete, datetime.now().date())
            except (ValueError, LookupError) as exc:
                raise fail(str(exc)) from exc
            if plan_bands and band == _DEFAULT_BAND:  # an explicit --band wins over the plan's
                rules = tuple(r for r in rules if r.metric not in plan_bands) + tuple(
                    parse_band(f"{m}={lo}:{hi}", hold_s=hold_s, min_gap_s=cue_gap_s)
                    for m, (lo, hi) in plan_bands.items()
                )
                targets = {r.metric: (r.low, r.high) for r in rules}
        if experiment is not None:
            from stridelab.live.laps import LapPlan, target_bands
            from stridelab.services.experiments import get_experiment

            try:
                exp = get_experiment(open_store(store), athlete, experiment)
                plan = LapPlan(exp.name, exp.design, exp.protocol, run_no)
            except (ValueError, KeyError, LookupError) as exc:
                raise fail(str(exc)) from exc
            targets.update(target_bands(exp.protocol))
        kind, _, arg = source.partition(":")
        if kind == "replay" and arg.lower().endswith((".fit", ".fit.gz")):
            from stridelab.live.fit_replay import FitReplay

            try:
                replay = FitReplay.from_file(
                    arg,
                    speed=None if as_fast else speed,
                    window_s=window_s,
                    interval_s=interval_s,
                    cues=Cues(rules),
                    laps=plan,
                    targets=targets,
                )
            except ValueError as exc:
                raise fail(str(exc)) from exc
            fit_broadcast = None
            if page:
                from stridelab.live.page import Broadcast

                fit_broadcast = Broadcast()
                _serve_page(fit_broadcast, token, host, port)
            try:
                _drive(replay.run(), json_out, fit_broadcast)
            except KeyboardInterrupt:
                replay.close()
            return
        try:
            src = _source(source, None if as_fast else speed, host, port, token, rate_hz)
        except (ValueError, FileNotFoundError, RuntimeError, KeyError) as exc:
            raise fail(str(exc)) from exc
        st = open_store(store)
        journal = st.root / "live" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}.jsonl"
        try:
            session = LiveSession(
                src,
                journal,
                window_s=window_s,
                interval_s=interval_s,
                cues=Cues(rules),
                source_label=source,
                laps=plan,
                lap_s=lap_s if lap_s is not None else (600.0 if plan is not None else None),
                targets=targets,
            )
        except ValueError as exc:
            raise fail(str(exc)) from exc
        broadcast = None
        if page:
            from stridelab.live.page import Broadcast, live_app

            broadcast = Broadcast()
            try:
                if hasattr(src, "app"):  # the phone endpoint's app serves the page too
                    live_app(broadcast, token=token, host=host, app=src.app)
                else:
                    import threading

                    import uvicorn

                    web = live_app(broadcast, token=token, host=host)
                    server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning"))
                    threading.Thread(target=server.run, daemon=True).start()
            except ValueError as exc:
                raise fail(str(exc)) from exc
            if not json_out:
                q = f"?token={token}" if token else ""
                console.print(f"live page: [bold]{esc(f'http://{host}:{port}/live{q}')}[/]")
        if source == "phone" and not json_out:
            q = f"?token={token}" if token else ""
            console.print(
                f"Point Sensor Logger's HTTP push at [bold]{esc(f'http://{host}:{port}/live/phone{q}')}[/]"
            )
        try:
            _drive(session.run(), json_out, broadcast)
        except KeyboardInterrupt:
            session.close()
        if save:
            j = read_journal(journal)
            try:
                rec_id = save_session(st, athlete, journal, j.recording(gap_free=True, path=str(journal)))
            except ValueError as exc:  # ImuDataError too: the journal stays, readable
                err_console.print(f"session not stored ({esc(str(exc))}); its journal is {esc(str(journal))}")
            else:
                msg = {"type": "stored", "id": rec_id, "journal": str(journal)}
                if json_out:
                    _line(msg)
                else:
                    console.print(f"stored as IMU recording {esc(rec_id[:12])} (journal {esc(str(journal))})")
