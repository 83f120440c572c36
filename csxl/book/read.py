"""Read a csxl workbook: its four tables, its Settings and every input problem, without a spreadsheet application.

Two entry points share one code path:

* :func:`read_book` reads an ``.xlsx`` file headless: :func:`csxl.book.safety.check_package` first, then
  python-calamine (a Rust reader; a 10,000-account / 240,000-MRR-row book reads in about a second, some ten times
  faster than openpyxl), then :func:`book_from_grids`.
* :func:`book_from_grids` is runtime-neutral: it takes each sheet as a grid of Python values from A1 (what calamine
  returns, and what the xlwings adapter gets from ``sheet.used_range``), so Excel, the command line and Python read a
  workbook the same way.

Cell conventions (the loaders in :mod:`csxl.models` then apply the column rules):

* **Blank**: an empty cell, ``None``, ``NaN`` or ``""`` is ``None`` (missing data, never 0). Trailing blank rows are
  dropped; blank rows in the middle are kept so that every row keeps its sheet row number (the loader skips them).
* **Error cells** (``#N/A``, ``#DIV/0!``, ``#VALUE!``, ``#REF!`` ...) become :class:`CellError` values. calamine
  returns an error cell as an empty string, so :func:`read_book` finds them in the sheet XML (``t="e"`` cells); in a
  grid, a string that is exactly an Excel error literal counts as an error too (xlwings with ``err_to_str=True``).
  A :class:`CellError` is neither text, number, date nor yes/no, so every loader column reports it as a bad value
  and the message shows the error text (``dau_mau must be 0..1, got #N/A``).
* **Text, numbers, dates** are passed on as they are: a date cell is a ``date``/``datetime``, a number a ``float``
  (an unformatted date is its Excel serial number, which the date columns accept).

Calamine is imported inside :func:`read_book` only, so ``import csxl.book.read`` works where it is absent (Pyodide).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel

from csxl.book import layout
from csxl.book.archive import HistoryArchive
from csxl.book.layout import ACCOUNTS, HEADER_ROW, HISTORY, MRR, SURVEYS, TablePlace, TableSpec
from csxl.book.model_sheet import StoredModel, stored_model
from csxl.book.read_settings import CellError, settings_from_values
from csxl.book.refs import cell_position, parse_sheet_cell, sheet_parts
from csxl.book.safety import DEFAULT_LIMITS, Limits, check_package
from csxl.cells import EXCEL_ERRORS, header_key, is_blank
from csxl.errors import FileError, InputError, RowIssue
from csxl.models import (
    AccountRecord,
    MrrRow,
    SurveyResponse,
    column_specs,
)
from csxl.portfolio import Portfolio
from csxl.settings import Settings

__all__ = [
    "EXCEL_ERRORS",
    "BookData",
    "CellError",
    "book_from_grids",
    "column_of",
    "heading_issues",
    "read_book",
    "read_sheet_grid",
    "settings_from_values",
    "validate_book",
]


#: Sheets a csxl workbook must have to be read (the other three are written by refresh).
_MODELS: dict[str, type[BaseModel]] = {
    ACCOUNTS.sheet: AccountRecord,
    MRR.sheet: MrrRow,
    SURVEYS.sheet: SurveyResponse,
}
#: Accounts columns that are not inputs (formulas, csxl-owned): kept in ``tables``, dropped before loading.
_NOT_INPUT: tuple[str, ...] = tuple(c.key for c in ACCOUNTS.columns if c.role != "input")


# --------------------------------------------------------------------------------------------------------------------
# Grids -> tables
# --------------------------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class BookData:
    """What a workbook holds, read but not yet checked row by row.

    ``tables``: sheet name (Accounts, MRR, Surveys, History) -> the table's data rows, columns named by layout key
    (unknown columns keep their heading), index ``row`` = the sheet row number, cells as read (blank = ``None``,
    error cells :class:`CellError`). ``places``: sheet -> where the table's columns are (found by header) and its last
    non-blank data row (the header row when the table is empty). ``settings``: the Settings sheet, defaults where
    blank or bad; ``settings_at``: each setting's cell (sheet, row, column), by its defined name when it has one;
    ``issues``: the bad Settings values (the tables' problems come from the loaders: :func:`validate_book`,
    :meth:`to_portfolio`); ``churn_model``: the churn model the Model sheet stores, if any.
    """

    path: str
    sheet_names: list[str]
    tables: dict[str, pd.DataFrame]
    places: dict[str, TablePlace]
    settings: Settings
    issues: list[RowIssue] = field(default_factory=list)
    archive: HistoryArchive | None = None
    churn_model: StoredModel | None = None
    settings_at: dict[str, tuple[str, int, int]] = field(default_factory=dict)

    @property
    def last_rows(self) -> dict[str, int]:
        """Sheet -> the last non-blank data row of its table."""
        return {sheet: place.last_row for sheet, place in self.places.items()}

    def input_tables(self) -> dict[str, pd.DataFrame]:
        """Accounts, MRR, Surveys as the loaders take them (Accounts without its formula and csxl-owned columns)."""
        accounts = self.tables[ACCOUNTS.sheet]
        drop = [c for c in accounts.columns if c in _NOT_INPUT]
        return {
            ACCOUNTS.sheet: accounts.drop(columns=drop),
            MRR.sheet: self.tables[MRR.sheet],
            SURVEYS.sheet: self.tables[SURVEYS.sheet],
        }

    def to_portfolio(self, as_of: _dt.date | None = None) -> Portfolio:
        """:meth:`Portfolio.from_tables` on the input tables and History (data from row 3), with these settings.

        The as-of date is the Settings' ``csxl_as_of`` when set, else ``as_of``, else today (Portfolio's rule). A
        workbook read from a file brings its History archive (:mod:`csxl.book.archive`): its older snapshots come
        before the sheet's, so every reader sees the whole History.
        """
        inputs = self.input_tables()
        history = self.tables[HISTORY.sheet]
        archive = self.archive
        portfolio = Portfolio.from_tables(
            inputs[ACCOUNTS.sheet],
            inputs[MRR.sheet],
            inputs[SURVEYS.sheet],
            archive.combine(history) if archive is not None else history,
            settings=self.settings,
            as_of=as_of,
            first_row=ACCOUNTS.first_data_row,
        )
        return replace(portfolio, issues=(*self.issues, *portfolio.issues))


def _matrix(rows: Sequence[Sequence[Any]]) -> npt.NDArray[np.object_]:
    """Rows of cells -> a 2-D object array (short rows padded with ``None``)."""
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), width), None, dtype=object)
    if not rows or not width:
        return out
    if all(len(r) == width for r in rows):
        try:
            dense = np.array(rows, dtype=object)
        except ValueError:  # a cell holding a sequence: fill row by row
            dense = None
        if dense is not None and dense.shape == out.shape:
            return dense
    for i, r in enumerate(rows):
        out[i, : len(r)] = list(r)
    return out


def _clean(cells: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """Blank cells -> ``None`` and error literals -> :class:`CellError`, in place, column by column; the blank mask."""
    blank = np.zeros(cells.shape, dtype=bool)
    for j in range(cells.shape[1]):
        column = cells[:, j]
        empty = np.asarray(pd.isna(column), dtype=bool) | np.asarray(column == "", dtype=bool)
        column[empty] = None
        blank[:, j] = empty
        errors = np.asarray(pd.Series(column, dtype=object).isin(EXCEL_ERRORS), dtype=bool)
        if errors.any():
            column[errors] = [CellError(str(v)) for v in column[errors]]
    return blank


_UNIT_NOTE = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")


def _heading(label: Any, by_header: Mapping[str, str], keys: frozenset[str]) -> str:
    """A heading as a layout key: the friendly header or the key, any case; a unit note in brackets at the end is
    read away (``ARR (USD)`` is ARR, ``MRR [EUR]`` is MRR). Anything else is the user's own column."""
    text = label.strip() if isinstance(label, str) else str(label)
    for candidate in dict.fromkeys((text, _UNIT_NOTE.sub("", text))):
        key = by_header.get(candidate.lower())
        if key is not None:
            return key
        normal = header_key(candidate)
        if normal in keys:
            return normal
    return text


def _nearest(header: str, headings: Mapping[str, int]) -> tuple[str, int] | None:
    """The user's heading that most looks like a missing ``header`` (a word of it, or a close spelling)."""
    wanted = header.lower()
    for text, column in headings.items():
        words = text.lower().split()
        if words and (wanted.startswith(words[0]) or words[0] in wanted.split()):
            return text, column
    close = difflib.get_close_matches(wanted, [t.lower() for t in headings], n=1, cutoff=0.6)
    if close:
        return next((t, c) for t, c in headings.items() if t.lower() == close[0])
    return None


def heading_issues(place: TablePlace) -> list[RowIssue]:
    """One issue per input column of the table that its header row lacks, naming the user's heading that looks like
    it (``Renewal`` for ``Renewal date``): its values are unknown for every row until the heading is renamed."""
    spec = place.spec
    known = set(place.columns.values())
    theirs = {text: j for j, text in enumerate(place.headers, start=1) if text and j not in known}
    issues: list[RowIssue] = []
    for column in place.missing("input"):
        near = _nearest(column.header, theirs)
        rule = f"a column headed {column.header!r}"
        if near is None:
            issues.append(RowIssue(spec.sheet, spec.header_row, column.key, None, rule, "unknown for every row"))
            continue
        text, at = near
        effect = f"column {layout.column_letter(at)} is not read: rename it {column.header!r}"
        issues.append(RowIssue(spec.sheet, spec.header_row, column.key, text, rule, effect))
    return issues


def column_of(spec: TableSpec, header: Sequence[Any], key: str) -> int | None:
    """1-based column of layout column ``key`` in a header row as read (its first heading), or ``None``."""
    by_header, keys = spec.by_header(), frozenset(spec.keys)
    for j, label in enumerate(header, start=1):
        if not is_blank(label) and not isinstance(label, CellError) and _heading(label, by_header, keys) == key:
            return j
    return None


def _heading_text(label: Any) -> str:
    if is_blank(label) or isinstance(label, CellError):
        return ""
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label).strip()


def _table(spec: TableSpec, grid: Sequence[Sequence[Any]]) -> tuple[pd.DataFrame, TablePlace]:
    """One table sheet's grid -> (data frame indexed by sheet row, where its columns are)."""
    first = spec.first_data_row
    header = list(grid[HEADER_ROW - 1]) if len(grid) >= HEADER_ROW else []
    cells = _matrix(grid[HEADER_ROW:])
    width = max(cells.shape[1], len(header))
    if cells.shape[1] < width:
        cells = np.hstack([cells, np.full((cells.shape[0], width - cells.shape[1]), None, dtype=object)])
    header += [None] * (width - len(header))
    blank = _clean(cells)
    filled_rows = np.flatnonzero(~blank.all(axis=1)) if width else np.empty(0, dtype=np.intp)
    n = int(filled_rows[-1]) + 1 if filled_rows.size else 0
    cells, blank = cells[:n], blank[:n]
    by_header, keys = spec.by_header(), frozenset(spec.keys)
    names: list[str] = []
    kept: list[int] = []
    for j, label in enumerate(header):
        if is_blank(label) or isinstance(label, CellError):
            if n and not blank[:, j].all():
                names.append(f"column {layout.column_letter(j + 1)}")
                kept.append(j)
            continue
        names.append(_heading(label, by_header, keys))
        kept.append(j)
    index = pd.RangeIndex(first, first + n, name="row")
    texts = [_heading_text(label) for label in header]
    while texts and not texts[-1]:
        texts.pop()
    columns: dict[str, int] = {}
    for name, j in zip(names, kept, strict=True):
        if name in spec.keys:
            columns.setdefault(name, j + 1)
    place = TablePlace(spec, columns, tuple(texts), first + n - 1 if n else spec.header_row)
    if not kept and spec is HISTORY:  # a History sheet cleared by hand: an empty History table
        empty = pd.DataFrame({key: pd.Series([], dtype=object) for key in spec.keys}, index=index)
        return empty, TablePlace(spec, {}, (), spec.header_row)
    _require(spec, names, header, n)
    frame = pd.DataFrame(cells[:, kept], columns=names, index=index, dtype=object)
    return frame, place


def _require(spec: TableSpec, names: list[str], header: list[Any], rows: int) -> None:
    """Raise :class:`InputError` when a required column of the table has no heading."""
    model = _MODELS.get(spec.sheet)
    if model is not None:
        required = [name for name, col in column_specs(model).items() if col.required]
    else:
        required = ["as_of", "account"] if rows else []
    missing = [key for key in required if key not in names]
    if not missing:
        return
    found = ", ".join(str(h) for h in header if not is_blank(h)) or "no headings"
    wanted = " and ".join(f"{spec.column(key).header!r}" for key in missing)
    raise InputError(
        f"{spec.sheet} sheet, row {HEADER_ROW}",
        found,
        f"a table header with {wanted} (the {', '.join(missing)} column{'s' if len(missing) > 1 else ''})",
        detail="the header row of a table is row 2; `csxl new PATH` shows the layout",
    )


def _settings_cells(names: Mapping[str, str] | None) -> dict[str, tuple[str, int, int]]:
    """Every setting's cell: its defined name's target when it is one cell, else the layout's (column B)."""
    rows = layout.settings_rows()
    cells = {name: (layout.SHEET_SETTINGS, row, 2) for name, row in rows.items()}
    for name, target in (names or {}).items():
        if name in cells:
            ref = parse_sheet_cell(target)
            if ref is not None:
                cells[name] = ref
    return cells


def _value(grid: Sequence[Sequence[Any]] | None, row: int, column: int) -> Any:
    if grid is None or row > len(grid) or row < 1:
        return None
    line = grid[row - 1]
    value = line[column - 1] if 0 < column <= len(line) else None
    if isinstance(value, str) and value in EXCEL_ERRORS:
        return CellError(value)
    return None if isinstance(value, str) and value == "" else value


def _find(grids: Mapping[str, Any], name: str) -> str | None:
    """The grid key of sheet ``name`` (sheet names are case-insensitive, as in Excel), or of its older name
    (:data:`csxl.book.layout.OLD_SHEET_NAMES`: a workbook made by an older csxl)."""
    for candidate in layout.sheet_names_of(name):
        if candidate in grids:
            return candidate
        folded = candidate.casefold()
        key = next((key for key in grids if str(key).casefold() == folded), None)
        if key is not None:
            return key
    return None


def _book(
    grids: Mapping[str, Sequence[Sequence[Any]]],
    path: str,
    sheet_names: list[str],
    names: Mapping[str, str] | None,
) -> BookData:
    found: dict[str, str] = {}
    for sheet in layout.READ_SHEETS:
        key = _find(grids, sheet)
        if key is None:
            raise FileError(path, f"not a csxl workbook: no sheet {sheet!r} (create one with `csxl new PATH`)")
        found[sheet] = key
    tables: dict[str, pd.DataFrame] = {}
    places: dict[str, TablePlace] = {}
    for spec in layout.TABLES:
        tables[spec.sheet], places[spec.sheet] = _table(spec, grids[found[spec.sheet]])
    cells = _settings_cells(names)
    values: dict[str, Any] = {}
    where: dict[str, tuple[int, str]] = {}
    for name, (sheet, row, column) in cells.items():
        key = _find(grids, sheet)
        values[name] = _value(grids[key] if key is not None else None, row, column)
        where[name] = (row, layout.column_letter(column))
    settings, issues = settings_from_values(values, cells=where)
    for spec in (ACCOUNTS, MRR, SURVEYS):
        issues.extend(heading_issues(places[spec.sheet]))
    model_key = _find(grids, layout.SHEET_MODEL)
    stored = stored_model(grids[model_key], str(model_key), issues) if model_key is not None else None
    return BookData(path=path, sheet_names=sheet_names, tables=tables, places=places, settings=settings,
                    issues=issues, churn_model=stored, settings_at=cells)  # fmt: skip


def book_from_grids(
    grids: Mapping[str, Sequence[Sequence[Any]]],
    path: str = "<book>",
    *,
    names: Mapping[str, str] | None = None,
) -> BookData:
    """Read a workbook given as grids: sheet name -> its used range from A1, as rows of Python values.

    ``grids`` must hold Settings, Accounts, MRR, Surveys and History (else :class:`FileError` "not a csxl workbook");
    sheet names match ignoring case. Cells: ``None``/``""``/NaN are blank; an Excel error literal string
    (``"#N/A"``) or a :class:`CellError` is an error cell; anything else is passed on as it is. ``names``: defined
    name -> target (``"Settings!$B$5"``); a ``csxl_*`` name pointing at one cell is read there (so Settings rows
    a user inserted or moved are still found), every other setting at its layout cell (column B,
    :func:`csxl.book.layout.settings_rows`). A table whose header (row 2) lacks a required column raises
    :class:`InputError`.
    """
    return _book(grids, path, [str(name) for name in grids], names)


# --------------------------------------------------------------------------------------------------------------------
# The file: calamine + error cells from the sheet XML
# --------------------------------------------------------------------------------------------------------------------

_ERROR_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b([^>]*)>")
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]*)</(?:[A-Za-z_][\w.-]*:)?v>")
_CLOSE = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?c>")
_MARKERS = (b't="e"', b"t='e'")


def _error_cells(data: bytes) -> list[tuple[int, int, str]]:
    """(row, column, error text) of every error cell (``t="e"``) in a worksheet's XML."""
    out: list[tuple[int, int, str]] = []
    for marker in _MARKERS:
        pos = data.find(marker)
        while pos != -1:
            start = data.rfind(b"<", 0, pos)
            tag = _ERROR_TAG.match(data, start) if start != -1 else None
            if tag is not None and tag.end() > pos and not tag.group(1).rstrip().endswith(b"/"):
                attrs = {
                    m.group(1).split(b":")[-1]: m.group(2) or m.group(3) or b"" for m in _ATTR.finditer(tag.group(1))
                }
                close = _CLOSE.search(data, tag.end())
                value = _VALUE.search(data, tag.end(), close.start() if close else len(data))
                ref = cell_position(attrs.get(b"r", b"").decode("ascii", "replace"))
                if attrs.get(b"t") == b"e" and ref is not None:
                    text = unescape(value.group(1).decode("utf-8", "replace")) if value else "#VALUE!"
                    out.append((*ref, text))
            pos = data.find(marker, pos + 1)
    return out


def _has_errors(zf: zipfile.ZipFile, member: str) -> bool:
    """True when a worksheet's XML holds an error cell marker; streamed in 4 MB chunks (no whole sheet in memory)."""
    tail = b""
    with zf.open(member) as fh:
        while chunk := fh.read(1 << 22):
            data = tail + chunk
            if any(marker in data for marker in _MARKERS):
                return True
            tail = data[-8:]
    return False


def _place_errors(grid: list[list[Any]], errors: list[tuple[int, int, str]]) -> None:
    """Put :class:`CellError` values into a calamine grid (which shows error cells as ``""``)."""
    for row, column, text in errors:
        while len(grid) < row:
            grid.append([])
        line = grid[row - 1]
        if len(line) < column:
            line.extend([""] * (column - len(line)))
        line[column - 1] = CellError(text)


def read_book(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> BookData:
    """Read a csxl workbook file (``.xlsx``) headless: safety checks, then calamine, then :func:`book_from_grids`.

    Raises :class:`FileError` for a missing, unsafe or damaged file and for a workbook without the csxl sheets,
    :class:`InputError` for a table without a required column. Bad cells are not errors here: they reach the
    loaders (:meth:`BookData.to_portfolio`, :func:`validate_book`), which report each one.
    """
    where = str(path)
    check_package(path, limits)
    # deferred: python-calamine is not installed under Pyodide (xlwings Lite), which never reads a file
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        with zipfile.ZipFile(path) as zf:
            members, names = sheet_parts(zf.read)
            wanted = {
                name.casefold() for s in (*layout.READ_SHEETS, layout.SHEET_MODEL) for name in layout.sheet_names_of(s)
            }
            errors: dict[str, list[tuple[int, int, str]]] = {}
            for sheet, member in members.items():
                if sheet.casefold() in wanted and member in zf.namelist() and _has_errors(zf, member):
                    errors[sheet] = _error_cells(zf.read(member))
        workbook = CalamineWorkbook.from_path(where)
        grids: dict[str, list[list[Any]]] = {}
        with workbook:
            sheet_names = list(workbook.sheet_names)
            for sheet in sheet_names:
                if sheet.casefold() in wanted:
                    grid: list[list[Any]] = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
                    _place_errors(grid, errors.get(sheet, []))
                    grids[sheet] = grid
    except FileError:
        raise
    except CalamineError as exc:
        raise FileError(where, f"cannot read the workbook ({type(exc).__name__}: {exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise FileError(where, f"damaged workbook ({exc})") from None
    return replace(_book(grids, where, sheet_names, names), archive=HistoryArchive(path))


def read_sheet_grid(path: str | Path, sheet: str) -> list[list[Any]] | None:
    """One sheet of a workbook file as a grid of values from A1 (calamine; the same safety checks as
    :func:`read_book`), ``None`` when the workbook has no sheet of that name (any case)."""
    check_package(path, DEFAULT_LIMITS)
    # deferred: python-calamine is not installed under Pyodide (xlwings Lite), which never reads a file
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        with workbook:
            found = next((n for n in workbook.sheet_names if n.casefold() == sheet.casefold()), None)
            if found is None:
                return None
            grid: list[list[Any]] = workbook.get_sheet_by_name(found).to_python(skip_empty_area=False)
            return grid
    except CalamineError as exc:
        raise FileError(str(path), f"cannot read the workbook ({type(exc).__name__}: {exc})") from None


def validate_book(path: str | Path) -> list[RowIssue]:
    """Every problem of the workbook: bad Settings values, then each bad cell of Accounts, MRR and Surveys.

    Issues are sorted by sheet (tab order), then row; within a row, by column order. File-level problems (missing,
    unsafe, not a csxl workbook, a table without its required column) raise :class:`FileError` / :class:`InputError`.
    """
    book = read_book(path)
    issues = list(book.to_portfolio().issues)  # the loaders' issues; the as-of date plays no part in them
    order = {sheet: i for i, sheet in enumerate(layout.SHEETS)}
    return sorted(issues, key=lambda issue: (order.get(issue.sheet, len(order)), issue.row))
