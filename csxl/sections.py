"""Results described as titled sections, and the two text renderers (terminal text and Markdown).

Every result csxl shows a person, a play's or the weekly dashboard's, describes itself as a list of :class:`Section`
s once. The terminal and Markdown renderers here, and the sheet writer of the workbook edge
(:mod:`csxl.book.render`), lay the same sections out, so the Dashboard sheet, ``csxl report`` and ``csxl portfolio``
never disagree in wording or numbers.

Cells keep their type: a number is a number. A :class:`Styled` cell says how it looks (``money`` in a currency,
``pct`` for a fraction shown as a percentage, ``number`` with a number of decimals); the sheet gets the number with a
number format, the text renderers the formatted text (``USD 54,720``, ``88.5%``).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

__all__ = ["Cell", "ChartSpec", "Section", "Styled", "Value", "render_markdown", "render_text", "show"]

#: A plain cell: text, number, yes/no, date or blank.
Value = Union[str, int, float, bool, _dt.date, None]


@dataclass(frozen=True)
class Styled:
    """A cell with an explicit look: ``money`` (``unit`` = ISO currency), ``pct`` (a fraction), ``number`` (``digits``
    decimals) or any sheet style of :mod:`csxl.book.plan`. ``value`` may also be a workbook formula (sheets only)."""

    value: Any
    style: str
    unit: str = ""
    digits: int = 1


#: A cell of a section row.
Cell = Union[Value, Styled]


@dataclass(frozen=True)
class ChartSpec:
    """A chart over a table section: category = the first column; ``series`` are column positions (0-based)."""

    name: str
    kind: str  # "bar", "line", "stacked" or "pie"
    title: str
    series: tuple[int, ...]
    titles: tuple[str, ...]
    y_format: str | None = None
    colours: tuple[str, ...] = ()  # per series: "green", "yellow", "orange" or "red" (the tier colours), else empty


@dataclass(frozen=True)
class Section:
    """A titled part of a result: key/value lines (``header`` empty) or a table (``header`` = column names).

    ``text`` is a paragraph shown before the rows (an email body, a talk track, a note); ``chart`` draws the table on
    a sheet; ``empty`` is what a table with no rows shows.
    """

    title: str
    rows: Sequence[Sequence[Cell]] = ()
    header: Sequence[str] = ()
    text: str = ""
    chart: ChartSpec | None = None
    empty: str = "(none)"


def show(cell: Cell) -> str:
    """A cell as text: money ``USD 54,720``, percentages ``88.5%``, dates ISO, yes/no, blanks empty."""
    if isinstance(cell, Styled):
        value = cell.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(float(value)):
                return ""
            if cell.style == "money":
                return f"{cell.unit} {value:,.0f}".strip()
            if cell.style == "pct":
                return f"{100.0 * value:.{cell.digits}f}%"
            if cell.style == "number":
                return f"{value:,.{cell.digits}f}"
        return show(value if not hasattr(value, "text") else str(value.text))
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, float):
        if not math.isfinite(cell):
            return ""
        return f"{cell:,.2f}".rstrip("0").rstrip(".") if abs(cell) < 1e15 else repr(cell)
    if isinstance(cell, _dt.date):
        return cell.isoformat()
    return str(cell)


def render_text(title: str, sections: Sequence[Section], notes: Sequence[str] = ()) -> str:
    """Readable terminal text: title, then each section (key: value lines, or an aligned table), then the notes."""
    out = [title, "=" * len(title)]
    for section in sections:
        out += ["", section.title, "-" * len(section.title)]
        if section.text:
            out.append(section.text)
        if section.header:
            table = [list(section.header)] + [[show(v) for v in row] for row in section.rows]
            widths = [max(len(r[i]) if i < len(r) else 0 for r in table) for i in range(len(section.header))]
            for r in table:
                out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())
            if not section.rows:
                out.append(section.empty)
        else:
            for row in section.rows:
                key, *rest = [show(v) for v in row] or [""]
                out.append(f"{key}: {' | '.join(rest)}" if rest else key)
    for note in notes:
        out.append(f"* {note}")
    return "\n".join(out) + "\n"


def _md_cell(value: Cell) -> str:
    return show(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(title: str, sections: Sequence[Section], notes: Sequence[str] = ()) -> str:
    """GitHub Markdown: ``#`` title, ``##`` sections, tables for tabular sections, bullets for key/value ones."""
    out = [f"# {title}"]
    for section in sections:
        out += ["", f"## {section.title}"]
        if section.text:
            out += ["", section.text]
        if section.rows:
            out.append("")
        if section.header:
            out.append("| " + " | ".join(section.header) + " |")
            out.append("|" + "---|" * len(section.header))
            for row in section.rows:
                out.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
            if not section.rows:
                out += ["", f"_{section.empty}_"]
        else:
            for row in section.rows:
                key, *rest = [_md_cell(v) for v in row] or [""]
                out.append(f"- **{key}**: {' | '.join(rest)}" if rest else f"- {key}")
    if notes:
        out += ["", "## Conventions", ""] + [f"- {c}" for c in notes]
    return "\n".join(out) + "\n"
