"""The xlwings adapter: csxl's one refresh pipeline, run on a workbook open in Excel through an xlwings ``Book``.

One pipeline, two adapters. :func:`refresh_book` does exactly what ``csxl refresh PATH`` does (read -> core ->
:func:`csxl.book.refresh.plan_refresh` -> apply), with the two ends swapped for xlwings:

* **read**: :func:`read_grids` takes each csxl sheet's used range from A1 through xlwings and hands the grids to
  :func:`csxl.book.read.book_from_grids`, the same reader the file path uses after calamine. Error cells arrive as
  their text (``err_to_str``) and become error cells; dates arrive as ``datetime`` (classic Excel, xlwings Server) or
  as Excel serial numbers when a date column is not date-formatted (xlwings Lite can send either): the loaders
  (:mod:`csxl.models`) accept both, serial ``n`` being ``1899-12-30 + n`` days.
* **write**: :func:`apply_plan_to_book` applies a :class:`~csxl.book.plan.Plan` through the public xlwings API, so
  it works on every xlwings runtime (Windows/Mac COM/AppleScript, xlwings Lite and xlwings Server via Office.js).

How each operation is written (and what falls back):

* :class:`~csxl.book.plan.SheetSpec`: missing sheets are added after ``after``; ``replace`` clears the sheet's values
  and formats and deletes csxl's own charts (named ``csxl:<name>``, as the file adapter names them). Buttons,
  shapes and the user's charts stay. Column widths are set; the tab colour is **not** (xlwings has no tab-colour
  API on every runtime; it is cosmetic).
* :class:`~csxl.book.plan.Block`: one ``range.value = 2-D list`` call per rectangle. On a sheet this plan has just
  created or cleared (an account page, the Dashboard, Cohorts), every block and clear is collected first and written
  at the end as one rectangle per band of consecutive used rows (cells the plan does not write are written blank,
  which changes nothing on a cleared sheet): a whole dashboard is a few calls, not one per line. On other sheets
  (Accounts, History) each block is written as it comes, ragged rows in rectangles of equal-length rows, so cells
  outside a row stay untouched.
* Text is always text: every ``str`` is written with Excel's quote prefix (``'``), which Excel hides and never
  stores in the value. Without it Excel would turn ``=HYPERLINK(...)``, ``+1``, ``-x``, ``@x`` into formulas and
  ``2024-01``, ``1/2``, ``TRUE``, ``00123`` into dates, numbers and booleans. Only :class:`~csxl.book.plan.Formula`
  values are written as formulas.
* Styles: cells with the same style key are grouped into rectangles and get the look of
  :data:`csxl.book.xlsx.LOOKS` (number format, bold/italic/size/colour, fill, wrap, bottom border), the same looks
  the file adapter writes. ``money`` is :func:`csxl.book.layout.money_format` of the workbook currency.
* :class:`~csxl.book.plan.Clear`: ``clear_contents`` (the cells keep their look).
* :class:`~csxl.book.plan.ResizeTable`: ``Table.resize``; when the runtime or the workbook has no such table, the op
  is skipped and reported in :attr:`ApplyResult.skipped` (the values are written either way; the table then ends at
  its old last row until the user extends it).
* :class:`~csxl.book.plan.Chart`: replaced by name. When every series is one column of the same rows and the columns
  are adjacent, one chart is made from them (``plot_by="columns"``), the categories are set as x-axis values, and the
  series are named from the header cells right above them (when the plan wrote the titles there) or by name.
  Series that are not adjacent columns, and runtimes without a chart API, skip the chart (reported).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from csxl.book import layout
from csxl.book.layout import ACCOUNTS, money_format
from csxl.book.plan import Block, Cell, Chart, Clear, Formula, Plan, ResizeTable, SheetSpec, Style
from csxl.book.read import book_from_grids
from csxl.book.refresh import is_excel_flavour, plan_refresh
from csxl.book.refs import parse_range
from csxl.book.render import result_plan
from csxl.book.sheets import account_plan, play_sheet_name
from csxl.book.xlsx import CHART_PREFIX, LOOKS, Look
from csxl.errors import InputError, RowIssue
from csxl.plays import PLAYS

__all__ = [
    "ApplyResult",
    "BookRefresh",
    "account_sheet",
    "apply_plan_to_book",
    "book_data",
    "read_grids",
    "refresh_book",
    "selected_account",
    "text_cell",
]


#: Plan chart kinds -> xlwings chart types.
CHART_TYPES: dict[str, str] = {"line": "line", "bar": "column_clustered", "stacked": "column_stacked", "pie": "pie"}
_POINTS_PER_CM = 72 / 2.54


# --------------------------------------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------------------------------------


def _sheet_names(book: Any) -> list[str]:
    return [str(sheet.name) for sheet in book.sheets]


def _find_sheet(book: Any, name: str) -> Any | None:
    """The sheet called ``name`` (ignoring case, as Excel does), or ``None``."""
    folded = name.casefold()
    for sheet in book.sheets:
        if str(sheet.name).casefold() == folded:
            return sheet
    return None


def _grid(sheet: Any) -> list[list[Any]]:
    """The sheet's used range from A1 as rows of Python values (one read call)."""
    last = sheet.used_range.last_cell
    rows, cols = int(last.row), int(last.column)
    values = sheet.range((1, 1), (rows, cols)).options(ndim=2, err_to_str=True).value
    return [list(row) for row in values]


def read_grids(book: Any, sheets: Iterable[str] = layout.READ_SHEETS) -> dict[str, list[list[Any]]]:
    """Each csxl sheet present in ``book`` as its used range from A1: sheet name -> rows of values.

    Cells come as xlwings reads them: ``None`` for blanks, ``float`` numbers, ``str`` text, ``bool``, ``datetime``
    for date-formatted cells (or the Excel serial number where the runtime sends one), and error cells as their
    text (``"#N/A"``). A missing sheet is left out (the reader then says which one is missing).
    """
    out: dict[str, list[list[Any]]] = {}
    for name in sheets:
        sheet = _find_sheet(book, name)
        if sheet is not None:
            out[str(sheet.name)] = _grid(sheet)
    return out


def _csxl_names(book: Any) -> dict[str, str]:
    """Defined names ``csxl_*`` -> their target (``=Settings!$B$5``), so moved Settings rows are still found."""
    out: dict[str, str] = {}
    try:
        names = list(book.names)
    except (AttributeError, NotImplementedError, KeyError):  # a runtime without defined names: the layout's cells
        return out
    for item in names:
        try:
            name, target = str(item.name), item.refers_to
        except (AttributeError, NotImplementedError, KeyError):
            continue
        if target and name.casefold().startswith("csxl_"):
            out[name] = str(target)
    return out


def book_data(book: Any) -> Any:
    """The workbook's data as :class:`csxl.book.read.BookData`, read through xlwings (see :func:`read_grids`)."""

    return book_from_grids(read_grids(book), path=str(book.name), names=_csxl_names(book))


# --------------------------------------------------------------------------------------------------------------------
# Write: values
# --------------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------------
# Write: the plan
# --------------------------------------------------------------------------------------------------------------------


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

    def apply(self) -> ApplyResult:
        for op in self.plan.ops:
            if isinstance(op, SheetSpec):
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
        for name, cells in self.pending.values():
            self.rects(list(_bands(cells, name)))
        return self.result


def apply_plan_to_book(book: Any, plan: Plan, currency: str = "USD") -> ApplyResult:
    """Apply ``plan`` to an xlwings ``book`` (see the module docstring for how each operation is written).

    ``currency``: ISO code of the ``money`` number format (``"$"#,##0`` for USD). Ops the runtime cannot do (a table
    resize, a chart) are listed in :attr:`ApplyResult.skipped`; values are always written.
    """
    return _Writer(book, plan, currency).apply()


# --------------------------------------------------------------------------------------------------------------------
# The workflows
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookRefresh:
    """What :func:`refresh_book` did: as of when, accounts read and scored, History rows, problems, skipped ops."""

    book: str
    as_of: _dt.date
    accounts: int
    scored: int
    history_rows: int
    refreshed_at: _dt.datetime
    issues: tuple[RowIssue, ...]
    skipped: tuple[str, ...]

    def message(self) -> str:
        """One line for the status bar / task pane, e.g. ``csxl: 250 accounts scored as of 2024-06-30 ...``."""
        text = (
            f"csxl: {self.scored} of {self.accounts} accounts scored as of {self.as_of.isoformat()}, "
            f"{self.history_rows} History rows"
        )
        if self.issues:
            text += f"; {len(self.issues)} input problem(s) left out (csxl validate lists them)"
        return text


def refresh_book(book: Any, as_of: _dt.date | None = None, *, refreshed_at: _dt.datetime | None = None) -> BookRefresh:
    """Refresh an open workbook: :func:`read_grids` -> ``book_from_grids`` -> ``to_portfolio`` -> ``plan_refresh`` ->
    :func:`apply_plan_to_book`. The same pipeline and numbers as ``csxl refresh PATH`` on the saved file.

    ``as_of``: used when the Settings as-of date is blank (else today). ``refreshed_at``: the time stamp shown on the
    Dashboard (default: now, to the second).
    """

    data = book_data(book)
    portfolio = data.to_portfolio(as_of)
    stamp = refreshed_at or _dt.datetime.now().replace(microsecond=0)

    live = is_excel_flavour(data.sheet_names)
    plan, history_rows = plan_refresh(data.last_rows, portfolio, refreshed_at=stamp, live=live)
    applied = apply_plan_to_book(book, plan, currency=portfolio.settings.currency)
    accounts = data.tables.get(ACCOUNTS.sheet)
    return BookRefresh(
        book=str(book.name),
        as_of=portfolio.as_of,
        accounts=0 if accounts is None else len(accounts),
        scored=int(portfolio.scored["health_score"].notna().sum()),
        history_rows=history_rows,
        refreshed_at=stamp,
        issues=tuple(data.issues) + tuple(portfolio.issues),
        skipped=tuple(applied.skipped),
    )


def account_sheet(book: Any, account: str, as_of: _dt.date | None = None) -> str:
    """Write (or rewrite) ``account``'s page (:func:`csxl.book.sheets.account_plan`) in the open workbook.

    Returns the sheet name (``Acct <account>``). An unknown account raises :class:`InputError` with the closest name.
    """

    data = book_data(book)
    portfolio = data.to_portfolio(as_of)
    plan, sheet = account_plan(portfolio, account)
    apply_plan_to_book(book, plan, currency=portfolio.settings.currency)
    return str(sheet)


def selected_account(book: Any, selection: Any | None = None) -> str:
    """The account whose Accounts row holds the selected cell (``selection`` or the book's selection).

    Raises :class:`InputError` when the selection is not a data row of the Accounts sheet, or its account is blank.
    """
    rng = selection if selection is not None else book.selection
    rule = "a cell in an account's row on the Accounts sheet"
    if rng is None:
        raise InputError("selection", None, rule)
    sheet = rng.sheet
    if str(sheet.name).casefold() != ACCOUNTS.sheet.casefold():
        raise InputError("selection", f"{sheet.name}!{rng.address}", rule)
    row = int(rng.row)
    if row < ACCOUNTS.first_data_row:
        raise InputError("selection", f"{sheet.name}!{rng.address}", rule + " (below the header)")
    value = sheet.range((row, ACCOUNTS.index("account"))).value
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("selection", f"{sheet.name}!{rng.address}", rule + " (this row has no account name)")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def play_sheet(book: Any, command: str, account: str | None = None, as_of: _dt.date | None = None) -> str:
    """Run play ``command`` (``risk``, ``qbr``, ``portfolio`` ...) and write its result as a ``csxl ...`` sheet.

    The same registry, plays and sheet layout as ``csxl COMMAND ACCOUNT --book PATH --write``; only the adapter
    differs. Returns the sheet name.
    """

    key = command.strip().lower()
    if key not in PLAYS:
        raise InputError("command", command, f"one of {', '.join(sorted(PLAYS))}")
    play = PLAYS[key]
    portfolio = book_data(book).to_portfolio(as_of)
    if play.needs_account:
        if not account:
            raise InputError("account", account, f"an account name (the {key} play is about one account)")
        result = play.run(portfolio, account)
    else:
        result = play.run(portfolio)
    sheet = play_sheet_name(result.command, result.account)
    apply_plan_to_book(book, result_plan(result, sheet, after=layout.SHEET_DASHBOARD), portfolio.settings.currency)
    return sheet
