"""FastTable prints what Rich's Table prints for plain text (the look is one), cells never as markup."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from stridelab.cli._table import RICH_BELOW_ROWS, FastTable


def _render(obj: object, width: int = 150) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(obj)
    return buf.getvalue()


def _table(n: int, title: str | None = "runs") -> FastTable:
    t = FastTable(title)
    t.add_column("id")
    t.add_column("distance", justify="right")
    t.add_column("where", justify="center")
    t.add_column("tags")
    for i in range(n):
        tag = "[bold]cue=push[/]" if i % 3 == 0 else ("größe=ß" if i % 3 == 1 else "")
        t.add_row(f"ab{i:04d}", f"{i * 1.5:.2f} km", "lap" * (i % 4), tag, style="yellow" if i == 5 else None)
    return t


@pytest.mark.parametrize("title", ["runs", None, "a title longer than the whole table is wide, by far"])
def test_a_long_table_renders_as_rich_does(title: str | None) -> None:
    t = _table(RICH_BELOW_ROWS + 40, title)
    assert _render(t) == _render(t.rich_table())


def test_cells_are_plain_text_and_cell_styles_apply() -> None:
    t = _table(RICH_BELOW_ROWS + 1)
    t.add_row("x", "1", "", ("flagged", "bold red"))
    text = _render(t)
    assert "[bold]cue=push[/]" in text  # printed as written, not interpreted
    buf = io.StringIO()
    Console(file=buf, width=150, force_terminal=True, color_system="standard").print(t)
    assert "\x1b[1;31m flagged" in buf.getvalue()


def test_a_long_table_too_wide_for_the_terminal_shrinks_its_widest_column() -> None:
    t = _table(RICH_BELOW_ROWS + 5)
    t.add_row("x", "1", "", "a very long tag value " * 4)
    narrow = _render(t, width=60)
    lines = narrow.splitlines()
    assert max(len(line) for line in lines) == 60
    assert any(line.rstrip("│ ").endswith("…") for line in lines)
    assert "ab0000" in narrow and "1.50 km" in narrow  # the other columns keep their cells whole


def test_a_short_table_is_rich_itself() -> None:
    t = _table(3)
    assert _render(t, width=30) == _render(t.rich_table(), width=30)


def test_rows_must_match_the_columns() -> None:
    t = FastTable()
    t.add_column("a")
    with pytest.raises(ValueError, match="1 columns"):
        t.add_row("x", "y")


@pytest.mark.parametrize("width", [150, 60, 30])
@pytest.mark.parametrize("color", [None, "standard"])
def test_printing_without_cropping_gives_the_same_text(width: int, color: str | None) -> None:
    for t in (
        _table(RICH_BELOW_ROWS + 40),
        _table(RICH_BELOW_ROWS + 5, "a title far wider than thirty cells"),
        _table(4),
    ):
        t.add_row("x", "1", "", "a very long tag value " * 4)
        outs = []
        for use_method in (False, True):
            buf = io.StringIO()
            console = Console(file=buf, width=width, force_terminal=color is not None, color_system=color)
            if use_method:
                t.print(console)
            else:
                console.print(t)
            outs.append(buf.getvalue())
        assert outs[0] == outs[1]
