"""A Plan applied to a workbook open in Excel, through xlwings: values and formulas by rectangles, looks by style
bands, tables resized, sheets and charts made; what the file writer (:mod:`csxl.book.xlsx`) does to a file."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from csxl.book.layout import money_format
from csxl.book.plan import (
    ArrayFormula,
    Block,
    Button,
    Cell,
    Chart,
    Clear,
    Formula,
    Plan,
    RenameSheet,
    ResizeTable,
    SheetSpec,
    Style,
)
from csxl.book.refs import parse_range
from csxl.book.xlsx import CHART_PREFIX, LOOKS, Look
from csxl.errors import InputError

__all__ = ["CHART_TYPES", "FORMULA_ARRAY_LIMIT", "ApplyResult", "apply_plan_to_book", "text_cell"]

#: The longest formula Excel's COM ``Range.FormulaArray`` accepts (characters).
FORMULA_ARRAY_LIMIT = 255

#: Plan chart kinds -> xlwings chart types.
CHART_TYPES: dict[str, str] = {"line": "line", "bar": "column_clustered", "stacked": "column_stacked", "pie": "pie"}


def _officejs(book: Any) -> bool:
    """Whether ``book`` is an Office.js workbook (xlwings Lite, or a book built from its JSON payload)."""
    return type(getattr(book, "impl", None)).__module__ in ("xlwings.pro._xlremote", "xlwings.pro._xlofficejs")


def _sheet_names(book: Any) -> list[str]:
    return [str(sheet.name) for sheet in book.sheets]


def _find_sheet(book: Any, name: str) -> Any | None:
    """The sheet called ``name`` (ignoring case, as Excel does), or ``None``."""
    folded = name.casefold()
    for sheet in book.sheets:
        if str(sheet.name).casefold() == folded:
            return sheet
    return None


_POINTS_PER_CM = 72 / 2.54


def text_cell(text: str) -> str | None:
    """What to write for text so Excel shows exactly ``text`` as text: the quote prefix, or blank for ``""``.

    ``"=1+1"`` -> ``"'=1+1"`` (shown as ``=1+1``, never computed); ``"2024-01"`` -> ``"'2024-01"`` (not a date).
    """
    return "'" + text if text else None


def _xl(value: Cell | Any) -> Any:
    """A Plan cell -> the value handed to xlwings."""
    if isinstance(value, Formula):
        return value.text
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            return None
        return value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value
    if hasattr(value, "item"):  # a numpy scalar that slipped through
        return _xl(value.item())
    return text_cell(str(value))


@dataclass(frozen=True)
class _Rect:
    """A rectangle of values (and per-cell styles) to write in one call."""

    sheet: str
    top: int
    left: int
    values: list[list[Cell]]
    styles: list[list[Style | None]]


def _style_grid(block: Block) -> list[list[Style | None]]:
    if block.styles is None or isinstance(block.styles, str):
        style: Style | None = block.styles
        return [[style] * len(row) for row in block.values]
    grid: list[list[Style | None]] = []
    for i, row in enumerate(block.values):
        given = list(block.styles[i]) if i < len(block.styles) else []
        grid.append([given[j] if j < len(given) else None for j in range(len(row))])
    return grid


def _rects(block: Block) -> Iterator[_Rect]:
    """The block as rectangles of equal-length rows (cells beyond a short row stay untouched)."""
    values = [list(row) for row in block.values]
    styles = _style_grid(block)
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or len(values[i]) != len(values[start]):
            if values[start]:
                yield _Rect(block.sheet, block.top + start, block.left, values[start:i], styles[start:i])
            start = i


def _bands(cells: dict[tuple[int, int], tuple[Cell, Style | None]], sheet: str) -> Iterator[_Rect]:
    """The cells of a cleared sheet as few rectangles: one per band of consecutive used rows, as wide as the band.

    Cells of the band that the plan does not write are blank (the sheet was just cleared, so a blank changes nothing).
    """
    by_row: dict[int, list[int]] = {}
    for row, column in cells:
        by_row.setdefault(row, []).append(column)
    rows = sorted(by_row)
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i] != rows[i - 1] + 1:
            band = rows[start:i]
            left = min(min(by_row[r]) for r in band)
            right = max(max(by_row[r]) for r in band)
            values: list[list[Cell]] = []
            styles: list[list[Style | None]] = []
            for r in band:
                picked = [cells.get((r, c), (None, None)) for c in range(left, right + 1)]
                values.append([v for v, _ in picked])
                styles.append([st for _, st in picked])
            yield _Rect(sheet, band[0], left, values, styles)
            start = i


def _style_boxes(styles: Sequence[Sequence[Style | None]]) -> Iterator[tuple[Style, int, int, int, int]]:
    """Rectangles of equal style in a style grid: (style, first row, first column, last row, last column), 0-based.

    Each row is cut into runs of one style; a run with the same columns and style as one in the row above extends
    it downwards. A 100x10 grid of one style is one rectangle; a striped one is one rectangle per stripe.
    """
    open_boxes: dict[tuple[int, int, Style], int] = {}  # (first col, last col, style) -> first row
    last_row: dict[tuple[int, int, Style], int] = {}
    for r, row in enumerate(styles):
        runs: list[tuple[int, int, Style]] = []
        c = 0
        while c < len(row):
            style = row[c]
            end = c
            while end + 1 < len(row) and row[end + 1] == style:
                end += 1
            if style is not None:
                runs.append((c, end, style))
            c = end + 1
        current = set(runs)
        for key in list(open_boxes):
            if key not in current or last_row[key] != r - 1:
                yield key[2], open_boxes.pop(key), key[0], last_row.pop(key), key[1]
        for key in runs:
            if key not in open_boxes:
                open_boxes[key] = r
            last_row[key] = r
    for key, first in open_boxes.items():
        yield key[2], first, key[0], last_row[key], key[1]


def _apply_look(rng: Any, look: Look, currency: str) -> None:
    """Give ``rng`` a csxl look (the file adapter's :data:`csxl.book.xlsx.LOOKS`)."""
    if look.num_fmt is not None:
        rng.number_format = money_format(currency) if look.num_fmt == "money" else look.num_fmt
    if look.bold:
        rng.font.bold = True
    if look.italic:
        rng.font.italic = True
    if look.size is not None:
        rng.font.size = look.size
    if look.color is not None:
        rng.font.color = "#" + look.color
    if look.fill is not None:
        rng.color = "#" + look.fill
    if look.wrap:
        rng.wrap_text = True
    if look.bottom_border is not None:
        try:
            edge = rng.borders["edge_bottom"]
            edge.line_style = "continuous"
            edge.weight = "thin"
            edge.color = "#" + look.bottom_border
        except (NotImplementedError, AttributeError, KeyError):  # a runtime without borders: the header keeps its fill
            pass


@dataclass
class ApplyResult:
    """What :func:`apply_plan_to_book` did: sheets touched, value writes (calls), and every op it could not apply."""

    sheets: list[str] = field(default_factory=list)
    writes: int = 0
    skipped: list[str] = field(default_factory=list)


class _Writer:
    def __init__(self, book: Any, plan: Plan, currency: str) -> None:
        self.book = book
        self.plan = plan
        self.currency = currency
        self.result = ApplyResult()
        self.cleared: set[str] = set()
        self.sheets: dict[str, Any] = {}
        self.pending: dict[str, tuple[str, dict[tuple[int, int], tuple[Cell, Style | None]]]] = {}

    def sheet(self, name: str) -> Any:
        key = name.casefold()
        if key not in self.sheets:
            found = _find_sheet(self.book, name)
            if found is None:
                raise InputError("sheet", name, f"a sheet of {self.book.name} (the plan writes there)")
            self.sheets[key] = found
            if name not in self.result.sheets:
                self.result.sheets.append(name)
        return self.sheets[key]

    # Sheets ---------------------------------------------------------------------------------------------------------

    def sheet_spec(self, spec: SheetSpec) -> None:
        sheet = _find_sheet(self.book, spec.name)
        if sheet is None:
            after = _find_sheet(self.book, spec.after) if spec.after else None
            if after is None:
                after = self.book.sheets[len(self.book.sheets) - 1]
            sheet = self.book.sheets.add(spec.name, after=after)
            self.cleared.add(spec.name.casefold())
        elif spec.replace:
            sheet.clear()
            self._delete_charts(sheet, lambda name: name.startswith(CHART_PREFIX))
            self.cleared.add(spec.name.casefold())
        self.sheets[spec.name.casefold()] = sheet
        if spec.name not in self.result.sheets:
            self.result.sheets.append(spec.name)
        for letters, width in spec.widths.items():
            sheet.range(f"{letters}1").column_width = width
        if spec.tab_color:
            self.result.skipped.append(f"{spec.name}: tab colour {spec.tab_color} (no tab-colour API in xlwings)")

    def _delete_charts(self, sheet: Any, which: Any) -> None:
        try:
            charts = list(sheet.charts)
        except (NotImplementedError, AttributeError):
            return
        for chart in charts:
            if which(str(chart.name)):
                chart.delete()

    # Values ---------------------------------------------------------------------------------------------------------

    def rects(self, rects: list[_Rect]) -> None:
        for rect in rects:
            sheet = self.sheet(rect.sheet)
            height, width = len(rect.values), len(rect.values[0])
            target = sheet.range((rect.top, rect.left), (rect.top + height - 1, rect.left + width - 1))
            target.value = [[_xl(v) for v in row] for row in rect.values]
            self.result.writes += 1
            for style, r0, c0, r1, c1 in _style_boxes(rect.styles):
                look = LOOKS[style]
                if look == Look():
                    continue
                rng = sheet.range((rect.top + r0, rect.left + c0), (rect.top + r1, rect.left + c1))
                _apply_look(rng, look, self.currency)

    def clear(self, op: Clear) -> None:
        self.sheet(op.sheet).range((op.top, op.left), (op.bottom, op.right)).clear_contents()

    # Tables and charts ----------------------------------------------------------------------------------------------

    def resize(self, op: ResizeTable) -> None:
        sheet = self.sheet(op.sheet)
        try:
            tables = {str(t.name).casefold(): t for t in sheet.tables}
        except (NotImplementedError, AttributeError) as exc:
            self.result.skipped.append(f"{op.sheet}: resize table {op.table} to {op.ref} ({exc or 'no table API'})")
            return
        table = tables.get(op.table.casefold())
        if table is None:
            self.result.skipped.append(f"{op.sheet}: resize table {op.table} to {op.ref} (no such table)")
            return
        try:
            table.resize(sheet.range(op.ref))
        except (NotImplementedError, AttributeError) as exc:
            self.result.skipped.append(f"{op.sheet}: resize table {op.table} to {op.ref} ({exc or 'not supported'})")

    def _planned(self, sheet: str, row: int, column: int) -> Cell:
        """The value this plan writes at (row, column) of ``sheet`` (``None`` if none)."""
        for op in self.plan.ops:
            if isinstance(op, Block) and op.sheet.casefold() == sheet.casefold():
                i, j = row - op.top, column - op.left
                if 0 <= i < len(op.values) and 0 <= j < len(op.values[i]):
                    return op.values[i][j]
        return None

    def chart(self, op: Chart) -> None:
        sheet = self.sheet(op.sheet)
        name = CHART_PREFIX + op.name
        spans = [parse_range("range", s) for s in op.series]
        top, bottom = (spans[0][0], spans[0][2]) if spans else (0, 0)
        adjacent = all(s[0] == top and s[2] == bottom and s[1] == s[3] == spans[0][1] + i for i, s in enumerate(spans))
        if not spans or not adjacent:
            self.result.skipped.append(f"{op.sheet}: chart {op.name} (series are not adjacent columns)")
            return
        left, right = spans[0][1], spans[-1][3]
        titled = top > 1 and all(
            str(self._planned(op.sheet, top - 1, s[1]) or "") == title
            for s, title in zip(spans, op.series_titles, strict=False)
        )
        first = top - 1 if titled else top
        try:
            self._delete_charts(sheet, lambda existing: existing == name)
            chart = sheet.charts.add(
                anchor=sheet.range(op.anchor),
                width=op.width_cm * _POINTS_PER_CM,
                height=op.height_cm * _POINTS_PER_CM,
                chart_type=CHART_TYPES[op.kind],
                source=sheet.range((first, left), (bottom, right)),
                plot_by="columns",
                name=name,
            )
            chart.set_x_axis_values(sheet.range(op.categories))
            chart.title = op.title
        except (NotImplementedError, AttributeError) as exc:
            self.result.skipped.append(f"{op.sheet}: chart {op.name} ({exc or 'no chart API'})")
            return
        if not titled:
            try:
                series = chart.series
                for i, title in enumerate(op.series_titles):
                    series[i].name = title
            except (NotImplementedError, AttributeError, IndexError):
                self.result.skipped.append(f"{op.sheet}: chart {op.name} series titles (not supported here)")
        if op.y_format and op.kind != "pie":
            try:
                chart.value_axis.number_format = op.y_format
            except (NotImplementedError, AttributeError):
                self.result.skipped.append(f"{op.sheet}: chart {op.name} axis format (not supported here)")

    # The plan -------------------------------------------------------------------------------------------------------

    def overlay(self, op: Block | Clear) -> None:
        """Record a write on a cleared sheet; the cells are written at the end in few calls (:func:`_bands`)."""
        cells = self.pending.setdefault(op.sheet.casefold(), (op.sheet, {}))[1]
        if isinstance(op, Clear):
            for r in range(op.top, op.bottom + 1):
                for c in range(op.left, op.right + 1):
                    if (r, c) in cells:
                        cells[(r, c)] = (None, cells[(r, c)][1])
            return
        for i, (values, styles) in enumerate(zip(op.values, _style_grid(op), strict=True)):
            for j, (value, style) in enumerate(zip(values, styles, strict=True)):
                key = (op.top + i, op.left + j)
                old = cells.get(key, (None, None))[1]
                cells[key] = (value, style if style is not None else old)

    def array_formula(self, op: ArrayFormula) -> None:
        """A legacy array formula over the rectangle (classic xlwings: ``formula_array``); Office.js (xlwings Lite)
        has no such formula but dynamic arrays: the formula goes into the top-left cell and spills. Excel's COM
        ``FormulaArray`` takes at most 255 characters: a longer one (long headings) is written as a spilling
        ``formula2`` in the top-left cell, which needs Excel 365, and said in ``skipped``."""
        sheet = self.sheet(op.sheet)
        top, left, _, _ = parse_range("ref", op.ref)
        if _officejs(self.book):
            sheet.range((top, left)).formula = op.formula
        elif len(op.formula) <= FORMULA_ARRAY_LIMIT:
            sheet.range(op.ref).formula_array = op.formula
        else:
            sheet.range((top, left)).formula2 = op.formula
            self.result.skipped.append(
                f"{op.sheet}!{op.ref}: array formula of {len(op.formula)} characters (Excel takes "
                f"{FORMULA_ARRAY_LIMIT}): written as a dynamic array, which needs Excel 365; shorter headings fix it"
            )
        self.result.writes += 1

    def _has_shape(self, op: Button) -> bool:
        """Whether ``op``'s sheet already holds a shape of that name (the file adapter drew it)."""
        sheet = _find_sheet(self.book, op.sheet)
        try:
            return sheet is not None and any(str(shape.name) == op.name for shape in sheet.shapes)
        except (AttributeError, NotImplementedError, KeyError):  # a runtime without shapes: nothing to say
            return True

    def apply(self) -> ApplyResult:
        for op in self.plan.ops:
            if isinstance(op, RenameSheet):  # Excel follows the references itself
                old = _find_sheet(self.book, op.old)
                if old is not None and _find_sheet(self.book, op.new) is None:
                    old.name = op.new
            elif isinstance(op, SheetSpec):
                self.sheet_spec(op)
            elif isinstance(op, (Block, Clear)) and op.sheet.casefold() in self.cleared:
                self.overlay(op)
            elif isinstance(op, Block):
                self.rects(list(_rects(op)))
            elif isinstance(op, Clear):
                self.clear(op)
            elif isinstance(op, ResizeTable):
                self.resize(op)
            elif isinstance(op, Chart):
                self.chart(op)
            elif isinstance(op, Button) and not self._has_shape(op):
                self.result.skipped.append(
                    f"{op.sheet}: button {op.name} (a shape with a link cannot be made from inside Excel: "
                    "run csxl refresh on the saved file once)"
                )
        for name, cells in self.pending.values():
            self.rects(list(_bands(cells, name)))
        for op in self.plan.ops:  # last: the cells of a cleared sheet are written, the rectangles are free
            if isinstance(op, ArrayFormula):
                self.array_formula(op)
        return self.result


def apply_plan_to_book(book: Any, plan: Plan, currency: str = "USD") -> ApplyResult:
    """Apply ``plan`` to an xlwings ``book`` (see the module docstring for how each operation is written).

    ``currency``: ISO code of the ``money`` number format (``"$"#,##0`` for USD). Ops the runtime cannot do (a table
    resize, a chart) are listed in :attr:`ApplyResult.skipped`; values are always written.
    """
    return _Writer(book, plan, currency).apply()
