"""The ``stridelab`` command line (Typer + Rich).

Each area registers its commands in a ``cmd_<area>.py`` module of this package exposing
``register(app: typer.Typer) -> None``; they are discovered here, so areas never edit one shared file.

The command modules are loaded lazily: ``stridelab --help`` and ``--version`` import none of them
(nor pandas, the store or the cores), ``stridelab runs`` imports only ``cmd_core``. :data:`COMMANDS`
names each command's module and its one-line help (what ``--help`` lists); a test checks it against
what the modules really register. A ``cmd_*`` module missing from it still works: it is imported
whenever the command list is needed (slower ``--help``, never a missing command).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import typer
from typer.core import TyperCommand

from stridelab.cli._coerce import install as install_plain_coercion
from stridelab.cli._errors import JsonErrorsGroup

__all__ = ["COMMANDS", "app", "first_paragraph", "load_all", "main"]

#: command -> (module in this package, the first paragraph of its help), in ``--help`` order
COMMANDS: dict[str, tuple[str, str]] = {
    "import": ("cmd_core", "Import activities; re-importing is near-instant (content-hash de-duplication)."),
    "runs": ("cmd_core", "List imported activities."),
    "cohort": (
        "cmd_scale",
        "Every athlete of the Parquet datasets: pace-adjusted balance, trend, drift, plan adherence, flags.",
    ),
    "show": ("cmd_core", "Summary and running-dynamics means of one run."),
    "export": (
        "cmd_core",
        "Export a run: its records (csv/parquet, SI units, canonical column names) or the run as a\n"
        "FIT, TCX or GPX file for other tools.",
    ),
    "demo": (
        "cmd_core",
        "Generate a synthetic season (13 weeks ending yesterday), import it and show the runs. Offline.",
    ),
    "analyze": (
        "cmd_analysis",
        "Running-dynamics analysis of one run: clean segments, zones, pace-adjusted balance and drift.",
    ),
    "trend": (
        "cmd_analysis",
        "GCT balance across runs: raw and pace-adjusted, rolling median, robust trend, weeks, months.",
    ),
    "report": (
        "cmd_analysis",
        "Self-contained HTML report (opens offline) of one run, or of the trend with --trend.",
    ),
    "tag": (
        "cmd_experiments",
        "Tag a run, some laps or a time range (cue=push-behind); list or remove a run's tags.",
    ),
    "tags": ("cmd_experiments", "List the tags of all runs."),
    "baseline": (
        "cmd_experiments",
        "Each run against your personal baseline of pace-adjusted balance, with outliers explained.",
    ),
    "imu": (
        "cmd_imu",
        "Analyse a raw IMU recording: IC/TO per foot, contact/flight/step time, symmetry, strike,\n"
        "bounce, pelvic drop, trunk lean -- or a one-leg balance test -- and store the per-step table.",
    ),
    "log": (
        "cmd_training",
        "Log a session (done/partial/skipped) with RPE, pain and per-exercise reps or seconds.",
    ),
    "load": (
        "cmd_training",
        "Weekly running load of the last 12 weeks (--weeks), the 10 % check, the acute:chronic ratio\n"
        "and next week's maximum.",
    ),
    "exercises": ("cmd_training", "List the exercise library (exercises, drills and running cues)."),
    "serve": (
        "cmd_web",
        "Serve the dashboard (runs, trends, plan & today, balance tests, import) over your store.",
    ),
    "experiment": ("cmd_experiments", "N-of-1 experiments on form cues: create, analyze, list, protocol."),
    "plan": ("cmd_training", "Build and follow a phased training plan."),
    "test": (
        "cmd_training",
        "Balance and function tests: one-leg stand, sit-to-stand, tandem walk; history.",
    ),
    "status": (
        "cmd_status",
        "Where you stand (pace-adjusted balance, GCT, VO with intervals), why, what to do today, is it\n"
        "working (experiment, plan outcome) and the load guard; each line with the command that shows\n"
        "its evidence.",
    ),
    "laps": (
        "cmd_laps",
        "Per-lap (or per-km with --km) table of one run: distance, time, sport-aware speed, elevation,\n"
        "heart rate, power and every running dynamic present, with the experiment arm of each lap.",
    ),
    "fitness": (
        "cmd_fitness",
        "Heart-rate TRIMP and power stress per week, fitness (CTL, 42 d), fatigue (ATL, 7 d) and form\n"
        "(TSB), with the 10 % check and the ACWR on that load -- and their caveats.",
    ),
    "walking": (
        "cmd_health",
        "Daily walking gait from Apple Health (iPhone): walking asymmetry, double support, step length\n"
        "and walking speed per day, and their means over the days shown.",
    ),
    "live": (
        "cmd_live",
        "Live gait feedback: balance, contact, cadence and cues while running; every session is\n"
        "journaled as it arrives and stored when it ends.",
    ),
    "doctor": (
        "cmd_store",
        "Check the store: catalog integrity, every stream, leftovers of interrupted writes, runs\n"
        "derived by an older version, files that failed with an older decoder.",
    ),
    "backup": (
        "cmd_store",
        "Back up the store to a folder: a consistent snapshot (safe while the dashboard or an import\n"
        "is writing) with a checksum manifest that restore verifies.",
    ),
    "restore": (
        "cmd_store",
        "Restore a backup as the store, after verifying every checksum and the catalog's integrity.\n"
        "The swap is atomic (the store is the old one or the restored one, never a mix); a store that\n"
        "is not empty is replaced only with --force.",
    ),
}


def _command_modules() -> list[str]:
    """Every ``cmd_*`` module of this package (found on disk, not imported)."""
    return sorted(i.name for i in pkgutil.iter_modules(__path__) if i.name.startswith("cmd_"))


class _LazyGroup(JsonErrorsGroup):
    """The root group: a command's module is imported when the command is run or its help shown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()
        install_plain_coercion(self)

    def _load(self, module_name: str) -> None:
        if module_name in self._loaded:
            return
        self._loaded.add(module_name)
        sub = typer.Typer()
        importlib.import_module(f"{__name__}.{module_name}").register(sub)
        group = typer.main.get_group(sub)
        for name, command in group.commands.items():
            install_plain_coercion(command)  # no pydantic for plain values (cli/_coerce.py)
            self.commands.setdefault(name, command)

    def _load_unlisted(self) -> None:
        listed = {module for module, _ in COMMANDS.values()}
        for module_name in _command_modules():
            if module_name not in listed:
                self._load(module_name)

    # ``Any`` for the click types: typer vendors its own click (typer._click), which is private
    def list_commands(self, ctx: Any) -> list[str]:
        self._load_unlisted()
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            entry = COMMANDS.get(cmd_name)
            if entry is not None:
                self._load(entry[0])
            else:
                self._load_unlisted()
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # list the not-yet-loaded commands from COMMANDS, without importing their modules
        real = self.commands
        stubs = {
            name: TyperCommand(name=name, help=help_text)
            for name, (_module, help_text) in COMMANDS.items()
            if name not in real
        }
        self._load_unlisted()
        self.commands = {**stubs, **real}
        try:
            super().format_help(ctx, formatter)
        finally:
            self.commands = real


app = typer.Typer(
    name="stridelab",
    help="Gait-and-balance lab for runners: import, analyse, train.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,  # lazy command modules; --json: errors are JSON objects too
)


def _version_callback(value: bool) -> None:
    if value:
        from stridelab.version import __version__

        typer.echo(f"stridelab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Gait-and-balance lab for runners."""


def load_all() -> dict[str, Any]:
    """Import every command module and return the root's commands by name (for tests and docs)."""
    group = typer.main.get_command(app)
    assert isinstance(group, _LazyGroup)
    for module_name in _command_modules():
        group._load(module_name)
    return dict(group.commands)


def first_paragraph(command: Any) -> str:
    """The part of a command's help that ``--help`` lists."""
    return inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0].strip()


def main() -> None:
    """Console-script entry point."""
    app()
