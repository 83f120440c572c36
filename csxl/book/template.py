"""Write a new csxl workbook (the template), optionally filled with a demo portfolio. Uses openpyxl (workbook edge).

``build_template(path)`` writes the eight sheets of :data:`csxl.book.layout.SHEETS`: a Start page, the Settings
(named cells), the Accounts / MRR / Surveys / History tables as real Excel tables, and placeholder Cohorts and
Dashboard sheets that ``csxl refresh`` fills. With ``demo=csxl.demo.demo_portfolio(...)`` the input tables are filled.

Text that comes from data is never a formula: a string starting with ``=``, ``+``, ``-`` or ``@`` is stored as text
with Excel's quote prefix, so an account named ``=HYPERLINK("...")`` stays a name.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from csxl.book import layout
from csxl.book.actions import ACCOUNT_PICKER, WIDTHS
from csxl.book.formulas import INVALID, calculated_column_formulas, simple_points_formulas
from csxl.book.layout import ACCOUNTS, HISTORY, MRR, SURVEYS, Column, Setting, TableSpec
from csxl.book.tier_colours import add_tier_colours
from csxl.book.validations import add_validations, setting_validation
from csxl.demo import DemoData
from csxl.errors import FileError, InputError
from csxl.signals import SIGNALS, CategoricalSignal

__all__ = [
    "FILLS",
    "blank_workbook",
    "build_template",
]

#: Body fill per column role (None: no fill, the default white of an input cell).
FILLS: dict[str, str | None] = {"input": None, "formula": "DDEBF7", "owned": "EDEDED"}
_HEADER_FILLS = {"input": "44546A", "formula": "2E75B6", "owned": "7F7F7F"}
_ROLE_TEXT = {
    "input": "Your data: type, paste or import here.",
    "formula": "Formula: computed in the sheet from your data (do not type here).",
    "owned": "Written by csxl refresh: your edits are overwritten at the next refresh.",
}
_BAND_TEXT = {
    "input": "Your data (type here)",
    "formula": "Simple points (formulas)",
    "owned": "csxl health (written by csxl refresh)",
}
#: Rows that carry data validation below the data, so rows a user adds are checked too.
_FORMULA_PREFIXES = ("=", "+", "-", "@")
_TITLE = Font(bold=True, size=16)
_SECTION = Font(bold=True, size=12)
_BOLD = Font(bold=True)
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_THIN = Side(style="thin", color="BFBFBF")


def _fill(color: str | None) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=color, end_color=color) if color else PatternFill()


def _formats(currency: str) -> dict[str, str]:
    money = layout.money_format(currency)
    return {
        "currency": money,
        "fraction": "0.0%",
        "number": "0.0",
        "count": "0",
        "date": "yyyy-mm-dd",
        "points": "0",
        "score": "0.0",
    }


# --------------------------------------------------------------------------------------------------------------------
# Cell values
# --------------------------------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(float(value))
    return False


def _python(value: Any, column: Column) -> Any:
    """A DataFrame value -> what openpyxl should store (None for missing)."""
    if _missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no") if column.kind == "yesno" else bool(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if column.kind == "date" and isinstance(value, _dt.datetime):
        return value.date() if value.time() == _dt.time() else value
    if isinstance(value, pd.Period):
        return value.to_timestamp().date()
    if column.kind == "count" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def set_value(cell: Cell | MergedCell, value: Any) -> None:
    """Store ``value`` in ``cell``; text that looks like a formula is kept as text (quote prefix), never evaluated."""
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True


# --------------------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------------------


def _frame_rows(spec: TableSpec, frame: pd.DataFrame | None, what: str) -> tuple[int, dict[str, list[Any]]]:
    if frame is None:
        return 0, {}
    writable = {c.key for c in spec.columns if c.role != "formula"}
    unknown = [str(c) for c in frame.columns if c not in writable]
    if unknown:
        raise InputError(what, unknown[0], f"a column of the {spec.sheet} table ({', '.join(sorted(writable))})")
    return len(frame), {str(c): frame[c].tolist() for c in frame.columns}


def _write_table(ws: Worksheet, spec: TableSpec, frame: pd.DataFrame | None, formats: dict[str, str], what: str) -> int:
    """Note row, header, data rows, formulas, formats, validations, the Excel table. Returns the data row count."""
    n, data = _frame_rows(spec, frame, what)
    rows = max(n, 1)
    first = spec.first_data_row
    ws.cell(1, 1, spec.note).font = Font(italic=True, color="595959")

    for idx, column in enumerate(spec.columns, start=1):
        head = ws.cell(spec.header_row, idx, column.header)
        head.font = _HEADER_FONT
        head.fill = _fill(_HEADER_FILLS[column.role])
        head.alignment = Alignment(wrap_text=True, vertical="center")
        if column.note:
            head.comment = Comment(column.note, "csxl", width=260, height=80)
        longest = max(len(word) for word in column.header.split())  # headers wrap between words, never inside one
        ws.column_dimensions[layout.column_letter(idx)].width = max(column.width, longest * 1.2 + 2)
        values = data.get(column.key)
        fill = _fill(FILLS[column.role])
        number_format = formats.get(column.kind)
        for r in range(rows):
            cell = ws.cell(first + r, idx)
            if values is not None and r < n:
                set_value(cell, _python(values[r], column))
            if number_format:
                cell.number_format = number_format
            if column.role != "input":
                cell.fill = fill
    ws.row_dimensions[spec.header_row].height = 30

    if spec is ACCOUNTS:
        for r in range(rows):
            row = first + r
            for key, formula in simple_points_formulas(row).items():
                ws.cell(row, spec.index(key)).value = formula
    add_validations(ws, spec, first + rows - 1)
    table = Table(displayName=spec.name, ref=spec.ref(rows), autoFilter=AutoFilter(ref=spec.ref(rows)))
    calculated = calculated_column_formulas() if spec is ACCOUNTS else {}
    table.tableColumns = [
        TableColumn(
            id=i,
            name=column.header,
            calculatedColumnFormula=(
                TableFormula(attr_text=calculated[column.header]) if column.header in calculated else None
            ),
        )
        for i, column in enumerate(spec.columns, start=1)
    ]
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False, showColumnStripes=False)
    ws.add_table(table)
    ws.freeze_panes = f"B{first}" if spec is ACCOUNTS else f"A{first}"
    return n


def _band(ws: Worksheet, spec: TableSpec) -> None:
    """Accounts row 1: one merged, coloured band per column role, saying who writes there."""
    start = 1
    roles = [c.role for c in spec.columns]
    while start <= len(roles):
        role = roles[start - 1]
        end = start
        while end < len(roles) and roles[end] == role:
            end += 1
        cell = ws.cell(1, start, spec.note if role == "input" else _BAND_TEXT[role])
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _fill(_HEADER_FILLS[role])
        cell.alignment = Alignment(vertical="center")
        if end > start:
            ws.merge_cells(start_row=1, start_column=start, end_row=1, end_column=end)
        start = end + 1
    ws.row_dimensions[1].height = 20


# --------------------------------------------------------------------------------------------------------------------
# Start, Settings, placeholders
# --------------------------------------------------------------------------------------------------------------------


def _start(ws: Worksheet) -> None:
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 100
    ws.cell(1, 1, "csxl: customer success in your own workbook").font = _TITLE
    paragraphs: list[tuple[str, str]] = [
        (
            "What this is",
            "This workbook holds your customers' data and scores their health. The simple-points model (0-10) is "
            "computed by plain formulas on the Accounts sheet, so it works without any software. The weighted health "
            "score, cohorts and the dashboard are computed by csxl and written into the grey cells.",
        ),
        (
            "Add your data",
            "Type or paste one row per account on Accounts (white columns), one row per account and month on MRR, "
            "one row per survey answer on Surveys. Type directly below the last row: the table grows. Leave a cell "
            "blank when you do not know the value; a blank is missing data, not zero. Dropdowns list the labels csxl "
            "understands.",
        ),
        (
            "Refresh",
            "Save the workbook, then run in a terminal:  csxl refresh PATH  (PATH = this file). csxl reads your data "
            "and the Settings, writes the health scores, tiers and main risks on Accounts, appends to History and "
            "fills Cohorts and Dashboard. It never changes the white input cells.",
        ),
        (
            "Simple points",
            "Each of usage (logins / week), engagement (login trend), relationship (contacts), financial (payment "
            "status) and sentiment (NPS answer) scores 0, 1 or 2 points; the total is 0-10: Green 8-10, Yellow 5-7, "
            "Red 0-4. The cut-offs are on Settings. A missing signal leaves the total blank; '"
            + INVALID
            + "' marks a value csxl does not understand.",
        ),
    ]
    row = 3
    for title, text in paragraphs:
        label = ws.cell(row, 1, title)
        label.font, label.alignment = _SECTION, _TOP  # beside the paragraph's first line
        cell = ws.cell(row, 2, text)
        cell.alignment = _WRAP
        ws.row_dimensions[row].height = 48
        row += 1
    row += 1
    ws.cell(row, 1, "Sheets").font = _SECTION
    sheets = {
        layout.SHEET_START: "This page.",
        layout.SHEET_SETTINGS: "Health preset (engine or growth), weights, tier thresholds, simple-points cut-offs, "
        "as-of date, currency.",
        layout.SHEET_ACCOUNTS: "One row per account: your signals, the simple points (formulas), the csxl health.",
        layout.SHEET_MRR: "Monthly recurring revenue per account and month (feeds NRR, GRR, churn and cohorts).",
        layout.SHEET_SURVEYS: "NPS, CSAT and CES answers.",
        layout.SHEET_HISTORY: "Health per account at every refresh (written by csxl refresh).",
        layout.SHEET_COHORTS: "Revenue retention by start cohort (written by csxl refresh).",
        layout.SHEET_DASHBOARD: "Portfolio summary (written by csxl refresh); its green button refreshes in xlwings "
        "Lite.",
        layout.SHEET_ACTIONS: "Buttons for xlwings Lite: pick an account, then write its page or run a play.",
    }
    for name in layout.SHEETS:
        row += 1
        ws.cell(row, 1, name).font = _BOLD
        ws.cell(row, 2, sheets[name]).alignment = _WRAP
    row += 2
    ws.cell(row, 1, "Legend").font = _SECTION
    for role in ("input", "formula", "owned"):
        row += 1
        sample = ws.cell(row, 1, _BAND_TEXT[role])
        sample.fill = _fill(FILLS[role])
        sample.border = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
        ws.cell(row, 2, _ROLE_TEXT[role])


def _settings(wb: Workbook, ws: Worksheet, as_of: _dt.date | None, currency: str) -> None:
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 14
    ws.column_dimensions["D"].width = 14
    ws.column_dimensions["E"].width = 90
    ws.cell(1, 1, "Settings").font = _TITLE
    ws.cell(2, 1, "csxl refresh reads the values in column B (named cells, e.g. csxl_preset). Change them here.")
    headers = ("Setting", "Value", *layout.SETTINGS_REFERENCE_HEADERS, "Note")
    header_row = layout.SETTINGS_FIRST_ROW - 1
    for idx, text in enumerate(headers, start=1):
        cell = ws.cell(header_row, idx, text)
        cell.font = _HEADER_FONT
        cell.fill = _fill(_HEADER_FILLS["input"])
    rows = layout.settings_rows()
    overrides: dict[str, layout.SettingValue] = {"csxl_as_of": as_of, "csxl_currency": currency}
    for title, items in layout.SETTINGS:
        ws.cell(rows[items[0].name] - 1, 1, title).font = _SECTION
        for item in items:
            row = rows[item.name]
            ws.cell(row, 1, item.label)
            value = overrides.get(item.name, item.default)
            value_cell = ws.cell(row, 2)
            set_value(value_cell, value)
            _setting_format(value_cell, item)
            for offset, ref in enumerate(item.reference):
                ref_cell = ws.cell(row, 3 + offset, ref)
                ref_cell.fill = _fill(FILLS["owned"])
                _setting_format(ref_cell, item)
            if item.note:
                ws.cell(row, 5, item.note)
            if isinstance(value, str) and len(value) > 40:  # long text: across the value and reference columns
                ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=5)
                value_cell.alignment = _WRAP
                ws.row_dimensions[row].height = 45
            dv = setting_validation(item)
            if dv is not None:
                dv.add(f"B{row}")
                ws.add_data_validation(dv)
            wb.defined_names[item.name] = DefinedName(item.name, attr_text=layout.setting_ref(item.name))
    for source in layout.SIMPLE_SOURCES:  # the label tables the points formulas look up (labels A, points B)
        if isinstance(SIGNALS.get(source.signal), CategoricalSignal):
            name = layout.label_points_name(source.signal)
            wb.defined_names[name] = DefinedName(name, attr_text=layout.label_points_range(source.signal))
    ws.freeze_panes = f"A{layout.SETTINGS_FIRST_ROW}"


def _setting_format(cell: Cell | MergedCell, item: Setting) -> None:
    if item.kind == "fraction":
        cell.number_format = "0%"
    elif item.kind == "date":
        cell.number_format = "yyyy-mm-dd"


def _heatmap(ws: Worksheet) -> None:
    """Colour the cohort grids (refresh writes shares of month 0 there): red at 0, yellow at 70 %, green from 100 %.

    Fixed numbers rather than min/max, so a good cohort grid looks green and a bad one red, and net revenue retention
    above 100 % stays green. Blank (future) cells are not coloured.
    """
    rule = ColorScaleRule(  # type: ignore[no-untyped-call]
        start_type="num",
        start_value=0,
        start_color="F8696B",
        mid_type="num",
        mid_value=0.7,
        mid_color="FFEB84",
        end_type="num",
        end_value=1,
        end_color="63BE7B",
    )
    ws.conditional_formatting.add(layout.COHORT_HEATMAP_RANGE, rule)


def _actions(ws: Worksheet) -> None:
    """The Actions sheet's account picker: an input cell listing the Accounts sheet's names (its labels and buttons
    are :func:`csxl.book.actions.actions_plan`, applied by every refresh and by ``csxl new``)."""
    for letter, width in WIDTHS.items():
        ws.column_dimensions[letter].width = width
    cell = ws[ACCOUNT_PICKER]
    cell.border = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
    cell.fill = _fill("FFF2CC")
    names = f'INDIRECT("{ACCOUNTS.name}[{ACCOUNTS.column("account").header}]")'
    picker = DataValidation(
        type="list",
        formula1=names,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Account",
        error="Not a name on the Accounts sheet: the account buttons will say so.",
    )
    picker.add(ACCOUNT_PICKER)
    ws.add_data_validation(picker)


def _placeholder(ws: Worksheet, title: str, text: str) -> None:
    ws.column_dimensions["A"].width = 100
    ws.cell(1, 1, title).font = _TITLE
    ws.cell(3, 1, text).alignment = _WRAP


# --------------------------------------------------------------------------------------------------------------------
# The workbook
# --------------------------------------------------------------------------------------------------------------------


def build_template(
    path: str | Path,
    *,
    demo: DemoData | None = None,
    as_of: _dt.date | None = None,
    currency: str = "USD",
    history: pd.DataFrame | None = None,
) -> Path:
    """Write a new csxl workbook to ``path`` (``.xlsx``) and return the path.

    ``demo``: fill Accounts, MRR and Surveys with these tables (columns named as in :mod:`csxl.book.layout`; an
    unknown column raises :class:`InputError`). ``as_of``: the Settings as-of date (default: the demo's, else blank =
    today). ``currency``: the ISO code shown on Settings and used for the money formats.

    The workbook recalculates on open (``fullCalcOnLoad``), so Excel and LibreOffice show the formulas' results
    even though openpyxl stores none. Raises :class:`FileError` when the file cannot be written.
    """
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise InputError("path", str(path), "a file name ending in .xlsx")
    if as_of is None and demo is not None:
        as_of = demo.as_of
    formats = _formats(currency)

    wb = Workbook()
    first = wb.active
    assert first is not None
    first.title = layout.SHEET_START
    sheets: dict[str, Worksheet] = {layout.SHEET_START: first}
    for name in layout.SHEETS[1:]:
        sheets[name] = wb.create_sheet(name)

    _start(sheets[layout.SHEET_START])
    _settings(wb, sheets[layout.SHEET_SETTINGS], as_of, currency)
    tables: Iterable[tuple[TableSpec, pd.DataFrame | None, str]] = (
        (ACCOUNTS, demo.accounts if demo else None, "demo.accounts"),
        (MRR, demo.mrr if demo else None, "demo.mrr"),
        (SURVEYS, demo.surveys if demo else None, "demo.surveys"),
        (HISTORY, history, "history"),
    )
    for spec, frame, what in tables:
        _write_table(sheets[spec.sheet], spec, frame, formats, what)
    _band(sheets[layout.SHEET_ACCOUNTS], ACCOUNTS)
    add_tier_colours(sheets[layout.SHEET_ACCOUNTS], ACCOUNTS)
    _placeholder(
        sheets[layout.SHEET_COHORTS],
        "Cohorts",
        "Revenue retention by start cohort. Run csxl refresh to fill this sheet.",
    )
    _heatmap(sheets[layout.SHEET_COHORTS])
    _placeholder(
        sheets[layout.SHEET_DASHBOARD],
        "Dashboard",
        "Portfolio health, revenue movements and the accounts to act on. Run csxl refresh to fill this sheet.",
    )

    _actions(sheets[layout.SHEET_ACTIONS])

    wb.calculation.fullCalcOnLoad = True
    wb.calculation.calcMode = "auto"
    try:
        wb.save(target)
    except OSError as exc:
        raise FileError(str(target), f"cannot write the workbook ({exc.strerror or exc})") from None
    return target


def blank_workbook(path: str | Path, sheet: str) -> None:
    """An empty workbook with one sheet named ``sheet`` (the report's starting point: Plans then fill it)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    wb.save(path)
