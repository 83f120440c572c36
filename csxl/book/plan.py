"""What a refresh writes, as plain data: the contract between the one refresh pipeline and its runtime adapters.

The pipeline (``csxl.book.refresh``) reads the input tables, computes with the core, and returns a :class:`Plan`: a
list of operations on csxl-owned places only. An adapter applies the plan to one runtime:

* the file adapter (``csxl.book.xlsx``) patches the workbook's XML in place, so the user's own sheets, cells,
  formats, charts, shapes, buttons and macros come through untouched, and replaces the file atomically;
* the xlwings adapter (``csxl.excel``) writes the same operations through an xlwings ``Book`` inside Excel.

No operation knows a spreadsheet library. Coordinates are 1-based (row 1, column 1 = A1). Every text value is data:
an adapter stores a ``str`` as a string cell even when it starts with ``=``, ``+``, ``-`` or ``@`` (never a formula);
only :class:`Formula` values are formulas, and only csxl's own code creates them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Union

__all__ = [
    "STYLES",
    "ArrayFormula",
    "Block",
    "Button",
    "Cell",
    "Chart",
    "Clear",
    "Formula",
    "Op",
    "Plan",
    "RenameSheet",
    "ResizeTable",
    "SheetSpec",
    "Style",
]


@dataclass(frozen=True)
class Formula:
    """A formula written by csxl itself, e.g. ``Formula("=SUM(B3:B9)")`` (English function names, A1 references)."""

    text: str

    def __post_init__(self) -> None:
        if not self.text.startswith("="):
            raise ValueError(f"a formula starts with '=', got {self.text!r}")


#: A cell value: text is always text; ``None`` is an empty cell; dates are dates (date-formatted by the style).
Cell = Union[str, int, float, bool, _dt.date, _dt.datetime, Formula, None]

#: Named cell looks every adapter knows. ``None`` on a block keeps each cell's existing look (template-styled places).
Style = Literal[
    "title",  # large bold
    "section",  # bold, a size up
    "header",  # bold on light grey, wrapped, bottom border
    "note",  # italic grey
    "text",
    "int",  # 0
    "number",  # 0.0
    "fine",  # 0.0000 (coefficients, probabilities as numbers)
    "money",  # currency, no decimals (the workbook's currency)
    "pct",  # 0.0%
    "date",  # yyyy-mm-dd
    "rag_red",  # tier labels: white or dark text on the tier's colour (Critical / Red)
    "rag_orange",  # At-Risk
    "rag_yellow",
    "rag_green",
]
STYLES: tuple[str, ...] = Style.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Block:
    """Values written into a rectangle whose top-left cell is (``top``, ``left``) on ``sheet``.

    ``values`` is row-major; ragged rows are allowed (missing cells are not touched). ``styles`` gives one style for
    the whole block, or a row-major grid of styles (``None`` entries keep the cell's existing look).
    """

    sheet: str
    top: int
    left: int
    values: Sequence[Sequence[Cell]]
    styles: Style | Sequence[Sequence[Style | None]] | None = None


@dataclass(frozen=True)
class Clear:
    """Empty the values of a rectangle (inclusive bounds); the cells keep their look."""

    sheet: str
    top: int
    left: int
    bottom: int
    right: int


@dataclass(frozen=True)
class ResizeTable:
    """Set an Excel table's range (``ref`` such as ``"A2:F120"``), e.g. after History grew or rows were pasted.

    ``headers``: the table's column names left to right, as its header row holds them, when ``ref`` is wider or
    narrower than the table (a column added by the user, or re-created by csxl); empty = the same columns.
    ``looks_from``: rows the table gains (pasted below it, or appended by csxl) take the look of this row, column by
    column, in each cell without a look of its own (a look the user gave a cell is kept); ``None`` = leave them.
    ``formulas``: (column name, formula without ``=`` as the first data row holds it) pairs: each becomes the column's
    calculated-column formula, which Excel fills into rows added to the table (an empty formula removes the column's
    calculated-column formula); other columns keep theirs.
    """

    sheet: str
    table: str
    ref: str
    headers: tuple[str, ...] = ()
    looks_from: int | None = None
    formulas: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RenameSheet:
    """Rename sheet ``old`` to ``new`` (a workbook made by an older csxl); references to it follow, as in Excel.

    Nothing happens when no sheet is called ``old``; a sheet called ``new`` already there is an error."""

    old: str
    new: str

    @property
    def sheet(self) -> str:
        return self.old


@dataclass(frozen=True)
class SheetSpec:
    """Create ``name`` if it does not exist, or empty it when ``replace`` (a csxl-owned sheet such as an account page).

    ``after`` names the sheet it follows (else it goes last); ``widths`` maps column letters to widths in characters.
    A sheet the user owns is never replaced: the pipeline only names sheets csxl creates.
    """

    name: str
    after: str | None = None
    replace: bool = True
    widths: dict[str, float] = field(default_factory=dict)
    tab_color: str | None = None  # hex RGB, e.g. "1F4E79"


@dataclass(frozen=True)
class Chart:
    """A chart placed at ``anchor`` (top-left cell, e.g. ``"H3"``) on ``sheet``, drawing from cells of that sheet.

    ``categories`` and each of ``series`` are ranges on the same sheet (``"A5:A28"``); ``series_titles`` are the
    legend names. ``kind``: ``line``, ``bar`` (vertical columns), ``stacked`` (stacked columns) or ``pie``. ``name``
    identifies the chart so a refresh replaces it instead of adding a second one.
    """

    sheet: str
    name: str
    anchor: str
    kind: Literal["line", "bar", "stacked", "pie"]
    title: str
    categories: str
    series: tuple[str, ...]
    series_titles: tuple[str, ...]
    width_cm: float = 16.0
    height_cm: float = 7.5
    y_format: str | None = None  # number format of the value axis, e.g. "0%"
    colors: tuple[str, ...] = ()  # hex RGB per series (e.g. the tier colours); empty: the application's palette


@dataclass(frozen=True)
class Button:
    """A sheet button for xlwings Lite: a shape called ``name`` over ``cell`` whose hyperlink points at ``cell``.

    Lite runs the ``@script`` whose ``button`` is ``[name]sheet!cell`` when that link is followed (Office.js has no
    other way to tie a sheet button to Python). ``name`` identifies the shape: applying the op again replaces it, and
    it is the only way Excel on the web gets such a button (it cannot add a hyperlink to a shape).
    """

    sheet: str
    name: str
    cell: str
    text: str
    width_cm: float = 3.6
    height_cm: float = 0.75
    fill: str = "1F4E79"  # hex RGB of the button; the text is white


@dataclass(frozen=True)
class ArrayFormula:
    """One formula computed once for a whole rectangle ``ref`` of ``sheet`` (e.g. ``"A5:A1504"``): a legacy
    (Ctrl+Shift+Enter) array formula, which every Excel since 2007 and LibreOffice read; cells the answer does not
    reach show ``#N/A``. A runtime with dynamic arrays only (xlwings Lite: Office.js) writes ``formula`` in the
    top-left cell, where it spills. The rectangle's other cells must be free (a sheet csxl replaces), and not
    inside an Excel table: Excel refuses array formulas there."""

    sheet: str
    ref: str
    formula: str

    def __post_init__(self) -> None:
        if not self.formula.startswith("="):
            raise ValueError(f"a formula starts with '=', got {self.formula!r}")


Op = Union[RenameSheet, SheetSpec, Block, Clear, ResizeTable, Chart, Button, ArrayFormula]


@dataclass
class Plan:
    """An ordered list of operations. Sheets are created before anything is written on them."""

    ops: list[Op] = field(default_factory=list)

    def add(self, *ops: Op) -> Plan:
        self.ops.extend(ops)
        return self

    def sheets(self) -> list[str]:
        """Every sheet the plan touches, in first-touch order."""
        seen: dict[str, None] = {}
        for op in self.ops:
            seen.setdefault(op.sheet if not isinstance(op, SheetSpec) else op.name, None)
        return list(seen)
