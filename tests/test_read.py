"""Reading a workbook: round trip of the demo book, damaged cells and Settings, grids vs file, package safety, locks."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.workbook.defined_name import DefinedName

from csxl.book import layout
from csxl.book.layout import ACCOUNTS, HEADER_ROW, HISTORY, MRR, SURVEYS
from csxl.book.read import CellError, _error_cells, book_from_grids, read_book, settings_from_values, validate_book
from csxl.book.safety import Limits, check_package, lock_file
from csxl.book.template import build_template
from csxl.demo import DemoData, demo_portfolio
from csxl.errors import FileError, InputError
from csxl.models import AccountRecord, MrrRow, SurveyResponse, column_specs
from csxl.portfolio import Portfolio
from csxl.settings import Settings
from csxl.tables import load_accounts, load_mrr, load_surveys

ROWS = layout.settings_rows()
FIRST = ACCOUNTS.first_data_row  # 3: note in row 1, header in row 2


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return demo_portfolio(40, seed=7)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory, demo: DemoData) -> Path:
    return build_template(tmp_path_factory.mktemp("read") / "demo.xlsx", demo=demo)


@pytest.fixture(scope="module")
def empty_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("read") / "empty.xlsx", as_of=dt.date(2026, 6, 30))


def _edit(source: Path, target: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    """Copy a workbook through openpyxl with ``change`` applied (the user's hand edits)."""
    wb = openpyxl.load_workbook(source)
    change(wb)
    wb.save(target)
    return target


def _error(ws: Any, ref: str, text: str) -> None:
    """An Excel error cell (openpyxl writes ``t="e"`` when the data type is ``e``)."""
    cell = ws[ref]
    cell.value = text
    cell.data_type = "e"


# --------------------------------------------------------------------------------------------------------------------
# The demo book round-trips
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sheet", "loader", "model", "attr"),
    [
        (ACCOUNTS.sheet, load_accounts, AccountRecord, "accounts"),
        (MRR.sheet, load_mrr, MrrRow, "mrr"),
        (SURVEYS.sheet, load_surveys, SurveyResponse, "surveys"),
    ],
)
def test_demo_tables_round_trip(
    demo: DemoData, demo_path: Path, sheet: str, loader: Any, model: Any, attr: str
) -> None:
    # independent reference: the demo's own data frame, loaded directly (header row 1, data from row 2)
    expected = loader(getattr(demo, attr), first_row=2)
    book = read_book(demo_path)
    got = loader(book.input_tables()[sheet], first_row=FIRST)
    assert got.issues == []
    assert expected.issues == []
    columns = list(column_specs(model))
    pd.testing.assert_frame_equal(
        got.frame[columns].reset_index(drop=True), expected.frame[columns].reset_index(drop=True)
    )
    # sheet row numbers: data starts in row 3, so the last row is 2 + the number of rows
    assert list(got.frame.index) == list(range(FIRST, FIRST + len(getattr(demo, attr))))
    assert book.last_rows[sheet] == 2 + len(getattr(demo, attr))


def test_demo_book_settings_history_and_portfolio(demo: DemoData, demo_path: Path) -> None:
    book = read_book(demo_path)
    assert book.sheet_names == list(layout.SHEETS)
    assert book.issues == []
    # the template writes every default, and the demo's as-of date
    assert book.settings == Settings(as_of=demo.as_of)
    assert book.last_rows[HISTORY.sheet] == HISTORY.header_row
    assert book.tables[HISTORY.sheet].empty
    # Accounts keeps every sheet column under its layout key (inputs, formulas, owned)
    assert list(book.tables[ACCOUNTS.sheet].columns) == list(ACCOUNTS.keys)
    portfolio = book.to_portfolio()
    reference = Portfolio.from_demo(demo)
    assert portfolio.as_of == demo.as_of
    assert portfolio.issues == ()
    pd.testing.assert_frame_equal(
        portfolio.scored.reset_index(drop=True), reference.scored.reset_index(drop=True), check_dtype=False
    )


def test_empty_template_reads_as_empty_tables(empty_path: Path) -> None:
    book = read_book(empty_path)
    # the empty template keeps one blank data row (formulas without cached results): not data
    assert book.last_rows == {ACCOUNTS.sheet: 2, MRR.sheet: 2, SURVEYS.sheet: 2, HISTORY.sheet: 2}
    assert all(frame.empty for frame in book.tables.values())
    assert book.settings == Settings(as_of=dt.date(2026, 6, 30))
    portfolio = book.to_portfolio()
    assert portfolio.accounts.empty
    assert portfolio.as_of == dt.date(2026, 6, 30)
    assert validate_book(empty_path) == []


# --------------------------------------------------------------------------------------------------------------------
# Hand-damaged books: every bad cell is reported with its sheet, row, column and value; good rows still load
# --------------------------------------------------------------------------------------------------------------------

#: (sheet, key, sheet row, how the cell is written, value written, rule text expected in the issue)
DAMAGES: list[tuple[str, str, int, str, Any, str]] = [
    (ACCOUNTS.sheet, "arr", 3, "value", "abc", "a number >= 0"),
    (ACCOUNTS.sheet, "dau_mau", 4, "error", "#N/A", "0..1"),
    (ACCOUNTS.sheet, "dau_mau", 5, "value", 1.5, "0..1"),
    (ACCOUNTS.sheet, "account", 6, "value", None, "filled in (required)"),
    (ACCOUNTS.sheet, "renewal_date", 7, "value", "31/12/2026", "a date"),
    (ACCOUNTS.sheet, "nps", 8, "error", "#DIV/0!", "a whole number 0..10"),
    (MRR.sheet, "mrr", 3, "error", "#VALUE!", "a number >= 0"),
    (MRR.sheet, "month", 4, "value", "soon", "a month"),
    (SURVEYS.sheet, "account", 3, "error", "#REF!", "text"),
]
SPECS = {ACCOUNTS.sheet: ACCOUNTS, MRR.sheet: MRR, SURVEYS.sheet: SURVEYS}
#: An unformatted Excel serial in a date column is a date: 1899-12-30 + 46000 days = 2025-12-08 (month 2025-12).
SERIAL_ROW, SERIAL = 5, 46000.0


@pytest.fixture(scope="module")
def damaged_path(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    def change(wb: openpyxl.Workbook) -> None:
        for sheet, key, row, how, value, _rule in DAMAGES:
            ws = wb[sheet]
            ref = SPECS[sheet].cell(key, row)
            if how == "error":
                _error(ws, ref, value)
            else:
                ws[ref] = value
        cell = wb[MRR.sheet][MRR.cell("month", SERIAL_ROW)]
        cell.value, cell.number_format = SERIAL, "General"
        wb[layout.SHEET_SETTINGS][f"B{ROWS['csxl_currency']}"] = "dollars"

    return _edit(demo_path, tmp_path_factory.mktemp("read") / "damaged.xlsx", change)


@pytest.mark.parametrize(("sheet", "key", "row", "how", "value", "rule"), DAMAGES)
def test_damaged_cell_is_reported(
    damaged_path: Path, sheet: str, key: str, row: int, how: str, value: Any, rule: str
) -> None:
    issues = [i for i in validate_book(damaged_path) if (i.sheet, i.row, i.column) == (sheet, row, key)]
    assert len(issues) == 1
    issue = issues[0]
    assert rule in issue.rule
    if how == "error":
        assert isinstance(issue.value, CellError)
        assert str(issue.value) == value
        assert f"got {value} (" in str(issue)  # the message names the error text, then what csxl did
    else:
        assert issue.value == value


def test_damaged_book_lists_exactly_the_damage_in_sheet_then_row_order(demo: DemoData, damaged_path: Path) -> None:
    issues = validate_book(damaged_path)
    got = [(i.sheet, i.row, i.column) for i in issues]
    settings = (layout.SHEET_SETTINGS, ROWS["csxl_currency"], "B")
    # the account whose name was erased (Accounts row 6) leaves its MRR and survey rows matching no account
    erased = demo.accounts["account"].iloc[6 - FIRST]
    orphans = [
        (sheet, FIRST + int(i), "account")
        for sheet, frame in ((MRR.sheet, demo.mrr), (SURVEYS.sheet, demo.surveys))
        for i in np.flatnonzero(frame["account"].to_numpy() == erased)
    ]
    damage = [(sheet, row, key) for sheet, key, row, *_ in DAMAGES]
    order = {name: i for i, name in enumerate(layout.SHEETS)}
    expected = sorted(set(damage + orphans), key=lambda t: (order[t[0]], t[1]))
    assert got == [settings, *expected]
    assert issues[0].value == "dollars"
    assert all(
        i.effect.startswith("kept in") for i in issues if (i.sheet, i.row, i.column) in set(orphans) - set(damage)
    )


def test_damaged_book_still_loads_the_good_rows(demo: DemoData, damaged_path: Path) -> None:
    book = read_book(damaged_path)
    assert book.settings.currency == "USD"  # the bad currency fell back to the default
    portfolio = book.to_portfolio()
    # cell-level rejection: only the row without an account name is left out; the other damaged cells are blank
    assert len(portfolio.accounts) == len(demo.accounts) - 1
    assert 6 not in portfolio.accounts.index and {3, 4, 5, 7, 8} <= set(portfolio.accounts.index)
    for sheet, key, row, *_ in DAMAGES:
        if sheet == ACCOUNTS.sheet and row != 6:
            assert pd.isna(portfolio.accounts.loc[row, key]), (row, key)
    effects = {(i.sheet, i.row): i.effect for i in portfolio.issues}
    assert effects[(ACCOUNTS.sheet, 3)] == "cell ignored" and effects[(ACCOUNTS.sheet, 6)] == "row left out"
    # MRR: the #VALUE! amount (row 3) is read as the month before; the row whose month is "soon" is left out
    assert len(portfolio.mrr) == len(demo.mrr) - 1
    assert effects[(MRR.sheet, 3)].startswith("read as the month before") and effects[(MRR.sheet, 4)] == "row left out"
    assert len(portfolio.surveys) == len(demo.surveys) - 1
    mrr = load_mrr(book.input_tables()[MRR.sheet], first_row=FIRST).frame
    assert mrr.loc[SERIAL_ROW, "month"] == pd.Timestamp("2025-12-01")


# --------------------------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------------------------

BAD_SETTINGS: list[tuple[str, Any, str]] = [
    ("csxl_preset", "fancy", "one of engine, growth"),
    ("csxl_preset", 3.0, "one of engine, growth"),
    ("csxl_preset", CellError("#N/A"), "one of engine, growth"),
    ("csxl_weight_usage", "lots", "a weight >= 0"),
    ("csxl_weight_usage", -0.1, "a weight >= 0"),
    ("csxl_weight_usage", True, "a weight >= 0"),
    ("csxl_weight_usage", "1,2,3", "a weight >= 0"),  # not a number by the one cell rule (cells.number_from_text)
    ("csxl_tier_engine_healthy", 90.0, "below Thriving (80)"),  # 90 >= the Thriving bound 80: not descending
    ("csxl_tier_growth_yellow", 0.0, "above 0"),
    ("csxl_tier_engine_thriving", 101.0, "at most 100"),
    ("csxl_tier_engine_thriving", "high", "a score"),
    ("csxl_sp_nps_green", 5.0, ">= the yellow cut-off (7)"),  # NPS yellow default 7 (agent spec: 7-8 passive)
    ("csxl_sp_contacts_yellow", -1.0, "a number >= 0"),
    ("csxl_sp_logins_per_week_green", "often", "a number >= 0"),
    ("csxl_simple_yellow", 9.0, "below the Green bound (8)"),
    ("csxl_simple_green", 8.5, "a whole number 1..10"),
    ("csxl_simple_green", 11.0, "a whole number 1..10"),
    ("csxl_as_of", "yesterday", "a date"),
    ("csxl_as_of", "2026-02-30", "a date"),
    ("csxl_as_of", 30.0, "a date"),  # serials below 61 fall before 1900-03-01 (Excel's fictitious 1900-02-29)
    ("csxl_currency", "dollars", "a 3-letter ISO code"),
    ("csxl_currency", 840.0, "a 3-letter ISO code"),
]


@pytest.mark.parametrize(("name", "value", "rule"), BAD_SETTINGS)
def test_bad_setting_is_an_issue_and_the_default_is_used(name: str, value: Any, rule: str) -> None:
    settings, issues = settings_from_values({name: value})
    assert settings == Settings()
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.sheet, issue.row, issue.column) == (layout.SHEET_SETTINGS, ROWS[name], "B")
    assert issue.value == value
    assert rule in issue.rule


def test_bad_weight_set_falls_back_to_the_preset() -> None:
    # one bad weight among filled ones: the preset's weights, not a half-changed model
    settings, issues = settings_from_values({"csxl_weight_usage": 0.5, "csxl_weight_financial": "x"})
    assert settings.weights is None
    assert [i.row for i in issues] == [ROWS["csxl_weight_financial"]]
    settings, issues = settings_from_values({"csxl_weight_usage": 0.0, "csxl_weight_financial": 0.0})
    assert settings.weights is None
    assert "at least one" in issues[0].rule


GOOD_SETTINGS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {}),
    ({"csxl_preset": "  ", "csxl_weight_usage": None, "csxl_as_of": float("nan"), "csxl_currency": ""}, {}),
    ({"csxl_preset": " Growth "}, {"preset": "growth"}),
    (
        {"csxl_weight_usage": 0.5, "csxl_weight_financial": "50%"},  # blanks count 0; "50%" text is 0.5
        {"weights": {"usage": 0.5, "engagement": 0.0, "relationship": 0.0, "outcomes": 0.0, "financial": 0.5}},
    ),
    (
        {"csxl_tier_growth_green": 85.0},
        {
            "tier_bounds": {
                "engine": (("Thriving", 80.0), ("Healthy", 60.0), ("At-Risk", 40.0), ("Critical", 0.0)),
                "growth": (("Green", 85.0), ("Yellow", 50.0), ("Red", 0.0)),
            }
        },
    ),
    ({"csxl_sp_nps_green": 10.0}, {"simple_cutoffs": {"nps": (10.0, 7.0)}}),
    ({"csxl_sp_nps_green": 9.0, "csxl_sp_nps_yellow": 7.0}, {}),  # the registry's own cut-offs: nothing stored
    ({"csxl_sp_contacts_yellow": "3"}, {"simple_cutoffs": {"contacts": (4.0, 3.0)}}),
    ({"csxl_simple_green": 9.0, "csxl_simple_yellow": 4.0}, {"simple_tiers": (9, 4)}),
    ({"csxl_as_of": dt.datetime(2026, 3, 1, 12, 0)}, {"as_of": dt.date(2026, 3, 1)}),
    ({"csxl_as_of": "2026-01-15"}, {"as_of": dt.date(2026, 1, 15)}),
    ({"csxl_as_of": 45000.0}, {"as_of": dt.date(2023, 3, 15)}),  # 1899-12-30 + 45000 days
    ({"csxl_currency": " eur "}, {"currency": "EUR"}),
    ({"csxl_churn_convention": "anything", "not_a_setting": 1}, {}),
]


@pytest.mark.parametrize(("values", "expected"), GOOD_SETTINGS)
def test_good_settings(values: dict[str, Any], expected: dict[str, Any]) -> None:
    settings, issues = settings_from_values(values)
    assert issues == []
    assert settings == Settings(**expected)


def test_settings_follow_a_moved_named_cell(empty_path: Path, tmp_path: Path) -> None:
    # a user moved the currency cell: the defined name points at B80, which wins over the layout's row
    def change(wb: openpyxl.Workbook) -> None:
        ws = wb[layout.SHEET_SETTINGS]
        ws["B80"] = "gbp"
        ws["B81"] = "soon"
        wb.defined_names["csxl_currency"] = DefinedName("csxl_currency", attr_text="Settings!$B$80")
        wb.defined_names["csxl_as_of"] = DefinedName("csxl_as_of", attr_text="'Settings'!B81")

    book = read_book(_edit(empty_path, tmp_path / "moved.xlsx", change))
    assert book.settings.currency == "GBP"
    assert [(i.row, i.column, i.value) for i in book.issues] == [(81, "B", "soon")]
    assert book.settings.as_of is None


def test_settings_error_cell_in_the_file(empty_path: Path, tmp_path: Path) -> None:
    path = _edit(
        empty_path, tmp_path / "err.xlsx", lambda wb: _error(wb["Settings"], f"B{ROWS['csxl_preset']}", "#REF!")
    )
    book = read_book(path)
    assert book.settings.preset == "engine"
    assert [(i.row, str(i.value)) for i in book.issues] == [(ROWS["csxl_preset"], "#REF!")]


# --------------------------------------------------------------------------------------------------------------------
# Grids (the runtime-neutral reader) give the same book as the file
# --------------------------------------------------------------------------------------------------------------------


def _grids() -> dict[str, list[list[Any]]]:
    settings: list[list[Any]] = [[None, None] for _ in range(max(ROWS.values()))]
    for _title, items in layout.SETTINGS:
        for item in items:
            settings[ROWS[item.name] - 1] = [item.label, item.default]
    settings[ROWS["csxl_preset"] - 1][1] = "growth"
    settings[ROWS["csxl_currency"] - 1][1] = "EUR"
    settings[ROWS["csxl_as_of"] - 1][1] = dt.date(2026, 4, 30)
    settings[ROWS["csxl_sp_nps_yellow"] - 1][1] = "#N/A"
    blank = [None] * 7
    return {
        "Start": [["csxl"]],
        "Settings": settings,
        "Accounts": [
            ["note"],
            ["ACCOUNT", "Segment", "ARR", "dau_mau", "Region", None, "Renewal date"],
            ["Acme", "smb", 1200.0, 0.5, "EU", "x", dt.date(2026, 5, 1)],
            blank,
            ["Beta", "enterprise", "#N/A", 0.25, None, None, 46000.0],
            blank,
            ["", None, "", None, None, None, None],
        ],
        "MRR": [
            ["note"],
            ["Account", "Month", "MRR"],
            ["Acme", dt.date(2026, 1, 1), 100.0],
            ["Beta", dt.datetime(2026, 1, 15, 9, 30), "#DIV/0!"],
        ],
        "Surveys": [["note"], ["Account", "Date", "Kind", "Score", "Comment"]],
        "Health history": [["note"], [c.header for c in HISTORY.columns]],
        "Cohorts": [["Cohorts"]],
        "Dashboard": [["Dashboard"]],
    }


def _write_grids(grids: dict[str, list[list[Any]]], path: Path) -> Path:
    wb = openpyxl.Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    for name, rows in grids.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None or value == "":
                    continue
                if isinstance(value, str) and value.startswith("#"):
                    ws.cell(r, c).value = value
                    ws.cell(r, c).data_type = "e"
                else:
                    ws.cell(r, c, value)
    wb.save(path)
    return path


def test_grids_give_the_same_book_as_the_file(tmp_path: Path) -> None:
    grids = _grids()
    from_grids = book_from_grids(grids)
    from_file = read_book(_write_grids(grids, tmp_path / "grids.xlsx"))
    assert from_file.sheet_names == from_grids.sheet_names == list(grids)
    assert from_file.last_rows == from_grids.last_rows
    assert from_file.settings == from_grids.settings
    assert from_file.issues == from_grids.issues
    for sheet in (ACCOUNTS.sheet, MRR.sheet, SURVEYS.sheet, HISTORY.sheet):
        pd.testing.assert_frame_equal(from_file.tables[sheet], from_grids.tables[sheet])


def test_grid_book_contents() -> None:
    book = book_from_grids(_grids())
    accounts = book.tables[ACCOUNTS.sheet]
    # headers by key or friendly header, any case; unknown columns kept; a blank heading over data gets its letter
    assert list(accounts.columns) == ["account", "segment", "arr", "dau_mau", "Region", "column F", "renewal_date"]
    # trailing blank rows dropped, the blank row 4 kept so rows keep their sheet numbers
    assert list(accounts.index) == [3, 4, 5]
    assert book.last_rows == {ACCOUNTS.sheet: 5, MRR.sheet: 4, SURVEYS.sheet: 2, HISTORY.sheet: 2}
    assert accounts.loc[5, "arr"] == CellError("#N/A")
    assert accounts.loc[4].isna().all()
    # settings: growth, EUR, as-of; the #N/A NPS cut-off is an issue and the registry cut-offs stay
    assert book.settings == Settings(preset="growth", currency="EUR", as_of=dt.date(2026, 4, 30))
    settings_issues = [i for i in book.issues if i.sheet == layout.SHEET_SETTINGS]
    assert [(i.row, str(i.value)) for i in settings_issues] == [(ROWS["csxl_sp_nps_yellow"], "#N/A")]
    # the grid's tables lack most input columns: each is reported once on its header row, the rest of the book reads
    headings = [i for i in book.issues if i.sheet != layout.SHEET_SETTINGS]
    assert headings and all(i.row == HEADER_ROW for i in headings)
    assert ("Accounts", "csm") in {(i.sheet, i.column) for i in headings}
    loaded = load_accounts(book.input_tables()[ACCOUNTS.sheet], first_row=FIRST)
    assert [(i.row, i.column, str(i.value), i.effect) for i in loaded.issues] == [(5, "arr", "#N/A", "cell ignored")]
    assert loaded.frame["account"].tolist() == ["Acme", "Beta"]


@pytest.mark.parametrize("missing", ["Settings", "Accounts", "MRR", "Surveys", "Health history"])
def test_grids_without_a_sheet(missing: str) -> None:
    grids = _grids()
    del grids[missing]
    with pytest.raises(FileError, match=f"not a csxl workbook: no sheet '{missing}'"):
        book_from_grids(grids, "book.xlsx")


def test_sheet_names_match_ignoring_case() -> None:
    grids = {name.lower(): rows for name, rows in _grids().items()}
    assert book_from_grids(grids).last_rows[ACCOUNTS.sheet] == 5


@pytest.mark.parametrize(
    ("sheet", "header", "missing"),
    [
        ("Accounts", ["Name", "Segment"], "'Account'"),
        ("MRR", ["Customer", "Month", "MRR"], "'Account'"),
        ("MRR", ["Account", "Month"], "'MRR'"),
        ("Surveys", ["Account", "Date", "Score"], "'Kind'"),
    ],
)
def test_table_without_a_required_column(sheet: str, header: list[str], missing: str) -> None:
    grids = _grids()
    grids[sheet] = [["note"], header]
    with pytest.raises(InputError, match=missing):
        book_from_grids(grids)


def test_error_cells_found_in_sheet_xml() -> None:
    xml = (
        b'<sheetData><row r="1"><c r="A1" t="e"/><c r="B1" t="n"><v>1</v></c>'
        b'<c r="C1" s="2" t=\'e\'><f>1/0</f><v>#DIV/0!</v></c><x:c r="AA7" t="e"><x:v>#N/A</x:v></x:c>'
        b'<c r="E1" t="inlineStr"><is><t>t="e"</t></is></c></row></sheetData>'
    )
    # C1 = (row 1, column 3); AA7 = (row 7, column 27); A1 has no value; E1 is text that merely contains t="e"
    assert sorted(_error_cells(xml)) == [(1, 3, "#DIV/0!"), (7, 27, "#N/A")]


def test_reader_imports_no_calamine_until_used() -> None:
    code = "import sys, csxl.book.read; assert 'python_calamine' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------------------------------------
# Package safety
# --------------------------------------------------------------------------------------------------------------------

_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<workbook>&lol2;</workbook>"
)


def _repack(source: Path, target: Path, replace: dict[str, bytes | None]) -> Path:
    """Copy a zip member by member; ``replace`` swaps a member's bytes (``None`` drops it)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in replace:
                data = replace[info.filename]
                if data is not None:
                    dst.writestr(info.filename, data)
            else:
                dst.writestr(info.filename, src.read(info.filename))
    return target


def _zip_bomb(source: Path, target: Path) -> Path:
    shutil.copy(source, target)
    with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("xl/media/zeros.bin", "w") as member:
        block = bytes(1024 * 1024)
        for _ in range(50):  # 50 MB of zeros deflate to ~50 KB: ratio ~1000
            member.write(block)
    return target


def _ole(_source: Path, target: Path) -> Path:
    target.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504))
    return target


def _text(_source: Path, target: Path) -> Path:
    target.write_text("account,arr\nAcme,100\n")
    return target


def _folder(_source: Path, target: Path) -> Path:
    target.mkdir()
    return target


def _absent(_source: Path, target: Path) -> Path:
    return target


PACKAGES: list[tuple[str, Callable[[Path, Path], Path], Limits, list[str]]] = [
    ("zip bomb", _zip_bomb, Limits(), ["zip bomb", "xl/media/zeros.bin", "52,428,800 bytes", "limit 200"]),
    (
        "doctype in workbook.xml",
        lambda s, t: _repack(s, t, {"xl/workbook.xml": _LAUGHS}),
        Limits(),
        ["xl/workbook.xml", "DOCTYPE/ENTITY"],
    ),
    (
        "entity in styles",
        lambda s, t: _repack(s, t, {"xl/styles.xml": _LAUGHS.replace(b"workbook", b"styleSheet")}),
        Limits(),
        ["xl/styles.xml", "DOCTYPE/ENTITY"],
    ),
    (
        "entity behind 8 KB of comments",  # the scan read only the first 4 KB: this passed it
        lambda s, t: _repack(
            s, t, {"xl/styles.xml": b'<?xml version="1.0"?>' + b"<!-- " + b"pad <x> " * 1024 + b"-->" + _LAUGHS[21:]}
        ),
        Limits(),
        ["xl/styles.xml", "DOCTYPE/ENTITY"],
    ),
    (
        "entity in a UTF-16 part",
        lambda s, t: _repack(
            s, t, {"xl/styles.xml": _LAUGHS.replace(b"workbook", b"styleSheet").decode().encode("utf-16")}
        ),
        Limits(),
        ["xl/styles.xml", "DOCTYPE/ENTITY"],
    ),
    ("not a zip", _text, Limits(), ["not a zip archive"]),
    ("OLE file", _ole, Limits(), ["password-protected or legacy .xls file; save it as .xlsx"]),
    ("missing file", _absent, Limits(), ["no such file"]),
    ("folder", _folder, Limits(), ["folder"]),
    ("no workbook part", lambda s, t: _repack(s, t, {"xl/workbook.xml": None}), Limits(), ["no xl/workbook.xml"]),
    (
        "no content types",
        lambda s, t: _repack(s, t, {"[Content_Types].xml": None}),
        Limits(),
        ["no [Content_Types].xml"],
    ),
    ("too many members", lambda s, t: shutil.copy(s, t), Limits(max_members=3), ["too many members", "limit 3"]),
    ("too large in total", lambda s, t: shutil.copy(s, t), Limits(max_total_uncompressed=1000), ["members expand"]),
    ("file too large", lambda s, t: shutil.copy(s, t), Limits(max_file_bytes=1000), ["more than the limit"]),
]


@pytest.mark.parametrize(("case", "make", "limits", "words"), PACKAGES, ids=[p[0] for p in PACKAGES])
def test_unsafe_or_broken_package(
    empty_path: Path, tmp_path: Path, case: str, make: Callable[[Path, Path], Path], limits: Limits, words: list[str]
) -> None:
    target = Path(make(empty_path, tmp_path / "bad.xlsx"))
    with pytest.raises(FileError) as caught:
        check_package(target, limits)
    for word in words:
        assert word in str(caught.value)
    assert caught.value.path == str(target)
    with pytest.raises(FileError):
        read_book(target, limits=limits)


def test_safe_package_passes(demo_path: Path) -> None:
    check_package(demo_path)  # a real workbook: nothing raised


@pytest.mark.parametrize("missing", ["Accounts", "MRR"])
def test_workbook_without_a_csxl_sheet(empty_path: Path, tmp_path: Path, missing: str) -> None:
    path = _edit(empty_path, tmp_path / "nosheet.xlsx", lambda wb: wb.remove(wb[missing]))
    with pytest.raises(FileError, match=f"no sheet '{missing}' \\(create one with `csxl new PATH`\\)"):
        read_book(path)


def test_file_table_without_its_key_column(empty_path: Path, tmp_path: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb[MRR.sheet]["A2"] = "Customer"

    with pytest.raises(InputError, match="'Account'"):
        read_book(_edit(empty_path, tmp_path / "nokey.xlsx", change))


# --------------------------------------------------------------------------------------------------------------------
# Excel's lock file
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "lock", "found"),
    [
        ("demo.xlsx", "~$demo.xlsx", True),
        ("Quarterly.xlsx", "~$arterly.xlsx", True),  # stem of 9 characters: Excel drops the first two
        ("Quarterly.xlsx", "~$Quarterly.xlsx", True),
        ("demo.xlsx", "~$mo.xlsx", False),  # stem of 4 characters: the full name only
        ("demo.xlsx", ".~lock.demo.xlsx#", True),  # LibreOffice
        ("demo.xlsx", "~$other.xlsx", False),
        ("demo.xlsx", None, False),
    ],
)
def test_lock_file(tmp_path: Path, name: str, lock: str | None, found: bool) -> None:
    book = tmp_path / name
    book.write_bytes(b"")
    if lock is not None:
        (tmp_path / lock).write_bytes(b"owner")
    assert lock_file(book) == (tmp_path / lock if found and lock else None)


def test_settings_read_numbers_by_the_cell_rule() -> None:
    # one number-text rule for every cell (csxl.cells.number_from_text): Settings read "1,5" and "30%" as the
    # Accounts columns do (a decimal comma; a percentage is a fraction)
    settings, issues = settings_from_values({"csxl_weight_usage": "30%", "csxl_weight_engagement": "1,5"})
    assert issues == []
    assert settings.weights is not None
    assert settings.weights["usage"] == pytest.approx(0.3, abs=1e-12)
    assert settings.weights["engagement"] == pytest.approx(1.5, abs=1e-12)
