"""A long table printed fast: the look of Rich's default ``Table`` for thousands of rows.

Rich measures and renders every cell through its layout engine: about 1.5 ms per row, so ``stridelab
runs`` over 2,000 runs spent 3 s printing. :class:`FastTable` takes plain-text cells (never markup: a
tag or a file name prints as written), sizes each column once from the cells' display widths and
writes one line per row in the same box (``HEAVY_HEAD``), with optional styles per row or cell. A short
table is handed to Rich's ``Table`` (same output, and Rich wraps long cells); a long table wider than
the terminal shrinks its widest columns, whose cells then end in "…" (``--json`` holds everything).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["FastTable"]

Justify = Literal["left", "right", "center"]

#: fewer rows than this: Rich's own Table renders (the cost is small and the output identical)
RICH_BELOW_ROWS = 60

#: characters one cell wide that Rich measures in one set look-up (printable ASCII, box drawing); a
#: line with any other character (an en dash, "…") is measured by Rich character by character
_ONE_CELL = frozenset(map(chr, range(0x20, 0x7F))) | frozenset(map(chr, range(0x2500, 0x2580)))
_one_cell_each = _ONE_CELL.issuperset


class FastTable:
    """A table of plain-text cells with Rich's default look, rendered in linear time."""

    def __init__(self, title: str | None = None) -> None:
        self.title = title
        self.headers: list[str] = []
        self.justify: list[Justify] = []
        self.no_wrap: list[bool] = []
        self.rows: list[tuple[list[str], list[str | None] | None]] = []
        #: the column widths of the last measure, with the (columns, rows) counts they are of
        self._sized: tuple[tuple[int, int], tuple[int, ...]] | None = None

    def add_column(self, header: str, justify: Justify = "left", no_wrap: bool = False) -> None:
        self.headers.append(header)
        self.justify.append(justify)
        self.no_wrap.append(no_wrap)

    def add_row(self, *cells: str | tuple[str, str] | None, style: str | None = None) -> None:
        """One row of plain-text cells; a cell ``(text, style)`` has its own style, ``style`` is the
        whole row's."""
        if len(cells) != len(self.headers):
            raise ValueError(f"row of {len(cells)} cells in a table of {len(self.headers)} columns")
        texts = [c[0] if isinstance(c, tuple) else ("" if c is None else str(c)) for c in cells]
        styles = [c[1] if isinstance(c, tuple) else style for c in cells]
        self.rows.append((texts, styles if any(st is not None for st in styles) else None))

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def _widths(self) -> list[int]:
        shape = (len(self.headers), len(self.rows))
        if self._sized is not None and self._sized[0] == shape:  # print() measured it already
            return list(self._sized[1])
        widths = self._measure()
        self._sized = (shape, tuple(widths))
        return widths

    def _measure(self) -> list[int]:
        widths = [cell_len(h) for h in self.headers]
        for cells, _ in self.rows:
            for i, c in enumerate(cells):
                n = len(c) if c.isascii() else cell_len(c)
                if n > widths[i]:
                    widths[i] = n
        return widths

    def _width(self, widths: list[int]) -> int:
        return sum(widths) + 3 * len(widths) + 1

    def rich_table(self) -> Table:
        """The same table as a Rich ``Table`` (cells as plain ``Text``: no markup)."""
        from rich.table import Table  # only for short tables (~15 ms to import)

        table = Table(title=self.title)
        for header, justify, no_wrap in zip(self.headers, self.justify, self.no_wrap, strict=True):
            table.add_column(header, justify=justify, no_wrap=no_wrap)
        for cells, styles in self.rows:
            table.add_row(
                *(Text(c, style=st or "") for c, st in zip(cells, styles or [None] * len(cells), strict=True))
            )
        return table

    def print(self, console: Console) -> None:
        """``console.print(self)``, without Rich cropping each of thousands of lines to the console's
        width when none can be wider: the long-table lines are made to fit (the widest columns give
        way) and so is the title; the text is the same (tested)."""
        width = console.width
        fits = len(self.rows) >= RICH_BELOW_ROWS and cell_len(self.title or "") <= width
        if fits:
            widths = self._widths()
            fits = (
                self._width(widths) <= width or self._shrink(widths, self._width(widths) - width) is not None
            )
        console.print(self, crop=not fits)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = self._width(self._widths())
        return Measurement(width, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self._widths()
        total = self._width(widths)
        if len(self.rows) < RICH_BELOW_ROWS:
            yield self.rich_table()
            return
        if total > options.max_width:  # the widest columns give way, their cells end in "…"
            shrunk = self._shrink(widths, total - options.max_width)
            if shrunk is None:
                yield self.rich_table()
                return
            widths, total = shrunk, options.max_width
        yield from self._lines(console, widths, total)

    def _shrink(self, widths: list[int], excess: int) -> list[int] | None:
        out = list(widths)
        floor = [max(cell_len(h), 6) for h in self.headers]
        while excess > 0:
            i = max(range(len(out)), key=lambda k: out[k] - floor[k])
            room = out[i] - floor[i]
            if room <= 0:
                return None
            cut = min(room, excess, max(1, room // 2))
            out[i] -= cut
            excess -= cut
        return out

    def _lines(self, console: Console, widths: list[int], total: int) -> Iterable[Segment]:
        def fit(text: str, i: int) -> str:
            pad = widths[i] - (len(text) if text.isascii() else cell_len(text))
            if pad < 0:
                text = set_cell_size(text, widths[i] - 1) + "…"
                pad = 0
            if self.justify[i] == "right":
                return " " * pad + text
            if self.justify[i] == "center":
                return " " * (pad // 2) + text + " " * (pad - pad // 2)
            return text + " " * pad

        new_line = Segment.line()
        border = console.get_style("table.border", default="") or Style()
        header = console.get_style("table.header", default="") or Style(bold=True)
        if self.title:  # centred over the table, as Rich does
            pad = max(total - cell_len(self.title), 0)
            title_style = console.get_style("table.title", default="") or Style()
            yield Segment(" " * (pad // 2))
            yield Segment(self.title, title_style)
            yield Segment(" " * (pad - pad // 2))
            yield new_line
        yield Segment("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓", border)
        yield new_line
        yield Segment("┃", border)
        for i, h in enumerate(self.headers):
            yield Segment(" " + fit(h, i) + " ", header)
            yield Segment("┃", border)
        yield new_line
        yield Segment("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩", border)
        yield new_line
        # a plain-ASCII cell that fits is padded by str.ljust/rjust (C), the same spaces as fit()
        pads = [str.rjust if j == "right" else str.ljust for j in self.justify]
        simple = [j != "center" for j in self.justify]
        columns = list(zip(range(len(widths)), widths, pads, simple, strict=True))
        for cells, styles in self.rows:
            if styles is None:
                parts = [
                    " " + pad(c, w) + " " if ok and c.isascii() and len(c) <= w else " " + fit(c, i) + " "
                    for (i, w, pad, ok), c in zip(columns, cells, strict=True)
                ]
                if all(map(str.isascii, parts)):  # ASCII between box drawing: Rich measures it at once
                    yield Segment("│" + "│".join(parts) + "│")
                else:  # the odd cells apart: Rich measures them slowly, not the whole line
                    run = "│"
                    for part in parts:
                        if part.isascii() or _one_cell_each(part):
                            run += part + "│"
                        else:
                            yield Segment(run)
                            yield Segment(part)
                            run = "│"
                    yield Segment(run)
            else:  # styles on the cells, not on the borders (as Rich does)
                yield Segment("│")
                for i, (c, st) in enumerate(zip(cells, styles, strict=True)):
                    yield Segment(" " + fit(c, i) + " ", console.get_style(st) if st else None)
                    yield Segment("│")
            yield new_line
        yield Segment("└" + "┴".join("─" * (w + 2) for w in widths) + "┘", border)
        yield new_line
