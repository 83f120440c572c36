"""A founder's own edits, made by LibreOffice itself (UNO), then ``csxl refresh``: nothing lands under a wrong header.

Each case starts from the same refreshed 30-account demo book, makes its edits with LibreOffice through UNO
(``tests/uno_edit.py`` under Debian's ``/usr/bin/python3``: formulas, table ranges and names move as they do for a
user), saves as xlsx, refreshes, and checks:

* **owned values**: every csxl-owned Accounts cell, found by its heading in the refreshed sheet, equals the core's
  result on the edited inputs (``score_accounts`` via the reader; exact for text, 1e-9 for scores, the values are the
  same floats written and read back);
* **user cells**: every cell outside csxl's places (input and user columns, Settings, MRR, Surveys, the user's own
  sheet) is byte-for-byte the value or formula it held before the refresh; the count overwritten must be 0;
* **formulas**: every data row carries the simple-points formulas, and after LibreOffice recalculates the refreshed
  book, the simple points equal the core's (exact: whole numbers);
* **tables**: each Excel table covers its last data row.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from engine import recalculate_many, require_soffice
from ooxml import problems
from openpyxl.formula.translate import Translator

from csxl.book import layout
from csxl.book.layout import ACCOUNTS, MRR, SURVEYS
from csxl.book.read import read_book
from csxl.book.refresh import refresh
from csxl.book.template import build_template
from csxl.demo import demo_portfolio
from csxl.derived import latest_survey_nps

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
UNO_PYTHON = "/usr/bin/python3"
N = 30
#: csxl's places on Accounts (written by refresh): owned values and formula columns.
CSXL_KEYS = frozenset(c.key for c in ACCOUNTS.columns if c.role != "input")
CSXL_HEADERS = frozenset(c.header for c in ACCOUNTS.columns if c.role != "input")
CSXL_SHEETS = frozenset({layout.SHEET_HISTORY, layout.SHEET_COHORTS, layout.SHEET_DASHBOARD})


def require_uno() -> None:
    require_soffice()
    ok = (
        Path(UNO_PYTHON).exists()
        and subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, check=False).returncode == 0
    )
    if not ok:
        message = "python3-uno (Debian's /usr/bin/python3 with uno) is not installed: user edits cannot be made"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI=true: installing it is required)")
        pytest.skip(message)


def uno_edit(source: Path, target: Path, edits: list[dict[str, Any]]) -> Path:
    """Make ``edits`` with LibreOffice through UNO and save the result as xlsx at ``target``."""
    spec = target.with_suffix(".json")
    spec.write_text(json.dumps(edits), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    run = subprocess.run(
        [UNO_PYTHON, str(HERE / "uno_edit.py"), str(source), str(target), str(spec)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert run.returncode == 0 and target.exists(), run.stderr[-2000:]
    return target


def letter(key: str) -> str:
    return ACCOUNTS.letter(key)


def last_row(spec: layout.TableSpec) -> int:
    return spec.header_row + {ACCOUNTS.sheet: N, MRR.sheet: 0, SURVEYS.sheet: 0}.get(spec.sheet, 0)


def _pasted_rows() -> list[list[Any]]:
    """Ten new accounts as a user pastes them: values for the input columns, in the sheet's order from A."""
    new = demo_portfolio(10, seed=99).accounts
    inputs = [c.key for c in ACCOUNTS.role("input")]
    rows = []
    for i, record in enumerate(new.to_dict("records")):
        row = []
        for key in inputs:
            value = record.get(key)
            if key == "account":
                value = f"Pasted {i} {value}"
            if isinstance(value, (pd.Timestamp, dt.date)):
                value = value.strftime("%Y-%m-%d")  # pasted as text: csxl reads ISO dates typed as text
            row.append(None if value is None or (isinstance(value, float) and value != value) else value)
        rows.append(row)
    return rows


SETTING_ROWS = layout.settings_rows()

#: A column of the user's own, one gap right of the table.
MINE = layout.column_letter(len(ACCOUNTS.columns) + 2)

#: name -> the edits a user makes (columns by the template's letters, taken before any insert).
CASES: dict[str, list[dict[str, Any]]] = {
    "insert a Plan column at B": [
        {"op": "insert_columns", "sheet": "Accounts", "at": "B"},
        {"op": "set", "sheet": "Accounts", "cell": "B2", "text": "Plan"},
        {"op": "set", "sheet": "Accounts", "cell": "B3", "text": "Pro"},
        {"op": "set", "sheet": "Accounts", "cell": "B4", "formula": "=LEN(A4)"},
    ],
    "delete the Main risk column": [{"op": "delete_columns", "sheet": "Accounts", "at": letter("main_risk")}],
    "delete two input columns": [
        {"op": "delete_columns", "sheet": "Accounts", "at": letter("exec_sponsor")},
        {"op": "delete_columns", "sheet": "Accounts", "at": letter("csm")},
    ],
    "move Health score to A": [
        {"op": "move_column", "sheet": "Accounts", "from": letter("health_score"), "to": "A"},
    ],
    "move ARR after the owned columns": [
        {"op": "move_column", "sheet": "Accounts", "from": letter("arr"), "to": layout.column_letter(100)},
    ],
    "hide Segment and Usage score": [
        {"op": "hide_column", "sheet": "Accounts", "at": letter("segment")},
        {"op": "hide_column", "sheet": "Accounts", "at": letter("usage_score")},
    ],
    "paste ten accounts below the table": [
        {"op": "paste", "sheet": "Accounts", "cell": f"A{last_row(ACCOUNTS) + 1}", "rows": _pasted_rows()},
    ],
    "own column with formulas right of the table": [
        {"op": "set", "sheet": "Accounts", "cell": f"{MINE}2", "text": "My note"},
        *({"op": "set", "sheet": "Accounts", "cell": f"{MINE}{r}", "formula": f"=LEN(A{r})*2"} for r in range(3, 8)),
    ],
    "rename ARR to ARR (USD) and type numbers as text": [
        {"op": "set", "sheet": "Accounts", "cell": f"{letter('arr')}2", "text": "ARR (USD)"},
        {"op": "set", "sheet": "Accounts", "cell": f"{letter('arr')}4", "text": "120,000"},
        {"op": "set", "sheet": "Accounts", "cell": f"{letter('dau_mau')}5", "text": "35%"},
        {"op": "set", "sheet": "MRR", "cell": f"{MRR.letter('mrr')}5", "text": "$3,000"},
        {"op": "set", "sheet": "MRR", "cell": f"{MRR.letter('month')}6", "text": "Dec 2025"},
    ],
    "delete two account rows": [{"op": "delete_rows", "sheet": "Accounts", "row": 5, "count": 2}],
    "change label points and a cut-off on Settings": [
        {"op": "set", "sheet": "Settings", "cell": f"B{SETTING_ROWS['csxl_pts_payment_late']}", "number": 0},
        {"op": "set", "sheet": "Settings", "cell": f"B{SETTING_ROWS['csxl_pts_login_trend_flat']}", "number": 2},
        {"op": "set", "sheet": "Settings", "cell": f"B{SETTING_ROWS['csxl_sp_nps_green']}", "number": 8},
    ],
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_uno()
    path = build_template(tmp_path_factory.mktemp("edits") / "base.xlsx", demo=demo_portfolio(N, seed=3))
    refresh(path)
    return path


def _cells(path: Path, values: bool = False) -> dict[str, dict[tuple[int, int], Any]]:
    """Every non-empty cell of every sheet (formulas as their text, or their cached values), by sheet and cell."""
    wb = openpyxl.load_workbook(path, data_only=values)
    out: dict[str, dict[tuple[int, int], Any]] = {}
    for ws in wb.worksheets:
        out[ws.title] = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value not in (None, "")}
    return out


def _headers(cells: dict[tuple[int, int], Any]) -> dict[str, int]:
    return {str(v): col for (r, col), v in cells.items() if r == ACCOUNTS.header_row}


@pytest.fixture(scope="module")
def edited(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Each case: (the book as the user saved it, the same book after csxl refresh)."""
    work = tmp_path_factory.mktemp("cases")
    out: dict[str, tuple[Path, Path]] = {}
    for i, (name, edits) in enumerate(CASES.items()):
        saved = uno_edit(base, work / f"case{i}.xlsx", edits)
        refreshed = work / f"case{i}-refreshed.xlsx"
        shutil.copyfile(saved, refreshed)
        refresh(refreshed)
        out[name] = (saved, refreshed)
    return out


@pytest.fixture(scope="module")
def recalculated(edited: dict[str, tuple[Path, Path]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    names = list(edited)
    copies = recalculate_many([edited[n][1] for n in names], tmp_path_factory.mktemp("recalc"))
    return dict(zip(names, copies, strict=True))


def _case_ids() -> Iterator[str]:
    yield from CASES


@pytest.mark.parametrize("case", list(_case_ids()))
def test_owned_values_land_under_their_headings(case: str, edited: dict[str, tuple[Path, Path]]) -> None:
    saved, refreshed = edited[case]
    portfolio = read_book(saved).to_portfolio()
    expected = portfolio.scored.copy()
    # the latest NPS answer on the Surveys sheet, by the account's name (csxl.derived)
    names = portfolio.accounts["account"].reindex(expected.index)
    expected["nps_survey"] = names.map(latest_survey_nps(portfolio.surveys, portfolio.as_of)["score"])
    cells = _cells(refreshed)[ACCOUNTS.sheet]
    headers = _headers(cells)
    owned = ACCOUNTS.role("owned")
    assert {c.header for c in owned} <= set(headers), "every owned column is there (re-created when deleted)"
    checked = 0
    for column in owned:
        source = (
            column.key[: -len("_score")]
            if column.key.endswith("_score") and column.key != "health_score"
            else (column.key)
        )
        at = headers[column.header]
        # the churn columns: blank while no churn model is stored (tests/test_churn_workbook.py writes one)
        values = expected[source] if source in expected else pd.Series(None, index=expected.index, dtype=object)
        for row, value in values.items():
            got = cells.get((int(row), at))
            if value is None or (isinstance(value, float) and value != value):
                assert got is None, (case, column.key, row)
            elif isinstance(value, str):
                assert got == value, (case, column.key, row)
            else:
                assert got == pytest.approx(float(value), abs=1e-9), (case, column.key, row)
            checked += 1
    assert checked >= len(owned) * (N - 2)


@pytest.mark.parametrize("case", list(_case_ids()))
def test_no_user_cell_is_overwritten(case: str, edited: dict[str, tuple[Path, Path]]) -> None:
    saved, refreshed = edited[case]
    before, after = _cells(saved), _cells(refreshed)
    headers = _headers(before[ACCOUNTS.sheet])
    ours = {col for text, col in headers.items() if text in CSXL_HEADERS}
    overwritten = []
    checked = 0
    for sheet, cells in before.items():
        if sheet in CSXL_SHEETS:
            continue
        for (row, col), value in cells.items():
            if sheet == ACCOUNTS.sheet and (col in ours or row == 1):
                continue  # csxl's columns and the band of notes above the header
            checked += 1
            if after.get(sheet, {}).get((row, col)) != value:
                overwritten.append((sheet, row, col, value, after.get(sheet, {}).get((row, col))))
    assert checked > 500
    assert overwritten == []


@pytest.mark.parametrize("case", list(_case_ids()))
def test_every_row_has_formulas_and_the_table_covers_it(case: str, edited: dict[str, tuple[Path, Path]]) -> None:
    _saved, refreshed = edited[case]
    book = read_book(refreshed)
    place = book.places[ACCOUNTS.sheet]
    wb = openpyxl.load_workbook(refreshed)
    ws = wb[ACCOUNTS.sheet]
    for row in range(ACCOUNTS.first_data_row, place.last_row + 1):
        for key in ("usage_points", "simple_points", "simple_tier"):
            value = ws.cell(row, place.index(key)).value
            assert isinstance(value, str) and value.startswith("="), (case, row, key, value)
    for spec in (ACCOUNTS, MRR, SURVEYS):
        table = wb[spec.sheet].tables[spec.name]
        bottom = int("".join(ch for ch in table.ref.split(":")[1] if ch.isdigit()))
        assert bottom == max(book.places[spec.sheet].last_row, spec.first_data_row), (case, spec.name, table.ref)
        assert len(table.tableColumns) == len(book.places[spec.sheet].completed().headers)
    _assert_calculated_columns(ws, wb[ACCOUNTS.sheet].tables[ACCOUNTS.name], place, case)


def _assert_calculated_columns(ws: Any, table: Any, place: Any, case: str) -> None:
    """Each formula column carries a calculated-column formula (what Excel fills into rows added to the table): the
    first data row's formula, of which every row's is the translation (openpyxl's Translator shifts the relative
    references); csxl sets none on another column. LibreOffice drops them on save, so refresh restores them."""
    first = ACCOUNTS.first_data_row
    calculated = {c.name: c.calculatedColumnFormula for c in table.tableColumns}
    for column in ACCOUNTS.columns:
        if column.key not in place.columns:  # an input column the user deleted
            continue
        formula = calculated.get(ws.cell(ACCOUNTS.header_row, place.index(column.key)).value)
        if column.role != "formula":
            assert formula is None, (case, column.key, formula)
            continue
        assert formula is not None, (case, column.key)
        letter = openpyxl.utils.get_column_letter(place.index(column.key))
        for row in range(first, place.last_row + 1):
            shifted = Translator("=" + formula.attr_text, origin=f"{letter}{first}")
            expected = shifted.translate_formula(f"{letter}{row}")
            assert ws[f"{letter}{row}"].value == expected, (case, column.key, row)


@pytest.mark.parametrize("case", list(_case_ids()))
def test_the_sheet_formulas_agree_with_the_core(
    case: str, edited: dict[str, tuple[Path, Path]], recalculated: dict[str, Path]
) -> None:
    saved, _refreshed = edited[case]
    expected = read_book(saved).to_portfolio().scored
    cells = _cells(recalculated[case], values=True)[ACCOUNTS.sheet]
    at = _headers(cells)["Simple points"]
    compared = 0
    for row, value in expected["simple_points"].items():
        got = cells.get((int(row), at))
        if value != value:  # NaN: a signal is missing or bad -> the sheet shows blank or "?"
            assert got in (None, "?"), (case, row, got)
            continue
        assert got == value, (case, row)
        compared += 1
    assert compared > 5


def test_a_renamed_heading_is_reported_with_what_to_do(base: Path, tmp_path: Path) -> None:
    # "Renewal date" renamed "Renewal" by the user: the column is not read, and validate says which one to rename
    saved = uno_edit(
        base, tmp_path / "renamed.xlsx", [{"op": "set", "sheet": "Accounts", "cell": f"{letter('renewal_date')}2",
                                          "text": "Renewal"}]
    )  # fmt: skip
    issues = [i for i in read_book(saved).to_portfolio().issues if i.column == "renewal_date"]
    assert len(issues) == 1
    assert (issues[0].row, issues[0].value) == (ACCOUNTS.header_row, "Renewal")
    assert issues[0].effect == f"column {letter('renewal_date')} is not read: rename it 'Renewal date'"


@pytest.mark.parametrize("case", list(_case_ids()))
def test_the_edited_then_refreshed_book_is_valid_ooxml(case: str, edited: dict[str, tuple[Path, Path]]) -> None:
    _saved, refreshed = edited[case]
    assert problems(refreshed) == []
