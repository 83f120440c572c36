"""csxl inside Excel, tested on Linux without Excel.

* The Lite scripts run through xlwings' own dispatcher (``xlwings.server.custom_scripts_call``) against an
  ``xw.Book(json=...)`` built from the payload the Lite add-in sends (a workbook snapshot: every sheet's values from
  A1, tables, defined names, the selection), made here from a demo workbook. The actions the script returns must
  write the numbers of the headless pipeline (``read_book`` -> ``plan_refresh`` on the same file) and of
  ``csxl.score_accounts`` computed independently from the demo data.
* :func:`apply_plan_to_book` on hand-made plans: text stays text, formulas are formulas, styles and fallbacks.
* The macro workbook: its VBA (extracted with oletools) has the macro its button names, and that macro calls
  RunPython; xlwings.conf names the UDF module; the companion module imports.
* ``write_lite``: the files import in a clean process and register the functions and scripts.

The ``noncommercial`` xlwings licence key is set only inside these tests (a subprocess's environment, or a
monkeypatched variable while a test runs), never by csxl itself.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

import csxl
from csxl.book import layout
from csxl.book.actions import ACCOUNT_PICKER
from csxl.book.layout import ACCOUNTS, HISTORY
from csxl.book.plan import Block, Chart, Clear, Formula, Plan, ResizeTable, SheetSpec
from csxl.book.read import book_from_grids, read_book
from csxl.book.refresh import plan_refresh
from csxl.book.template import build_template
from csxl.demo import demo_portfolio
from csxl.errors import FileError, InputError

ROOT = Path(__file__).resolve().parents[1]
DISPATCH = Path(__file__).resolve().parent / "data" / "lite_dispatch.py"
AS_OF = _dt.date(2024, 6, 30)
EPOCH = _dt.date(1899, 12, 30)  # Excel 1900 date system: serial n = 1899-12-30 + n days
STAMP = _dt.datetime(2024, 7, 1, 9, 30)
LITE_ENV = {"XLWINGS_LICENSE_KEY": "noncommercial", "XLWINGS_ON_SERVER": "true"}


# --------------------------------------------------------------------------------------------------------------------
# A workbook snapshot, as the Lite add-in sends it
# --------------------------------------------------------------------------------------------------------------------


def _json_cell(value: Any, dates: str) -> Any:
    """openpyxl value -> Office.js payload value: blanks "", date cells ISO text (or serials), the rest as is."""
    if value is None:
        return ""
    if isinstance(value, (_dt.datetime, _dt.date)):
        day = value.date() if isinstance(value, _dt.datetime) else value
        if dates == "serial":
            return float((day - EPOCH).days)
        return f"{day.isoformat()}T00:00:00.000Z"
    return value


def _table_entry(name: str, ref: str) -> dict[str, Any]:
    first, last = ref.split(":")
    col0, row0 = re.match(r"([A-Z]+)(\d+)", first).groups()  # type: ignore[union-attr]
    col1, row1 = re.match(r"([A-Z]+)(\d+)", last).groups()  # type: ignore[union-attr]
    return {
        "name": name,
        "range_address": ref,
        "header_row_range_address": f"{col0}{row0}:{col1}{row0}",
        "data_body_range_address": f"{col0}{int(row0) + 1}:{col1}{row1}",
        "total_row_range_address": None,
        "show_headers": True,
        "show_totals": False,
        "table_style": "TableStyleLight1",
        "show_autofilter": True,
    }


def snapshot(path: Path, *, dates: str = "iso", active: str = "Dashboard", selection: str = "A1") -> dict[str, Any]:
    """The Lite payload of the workbook at ``path``: values from A1, tables, csxl defined names, selection.

    Formula cells (the simple-points columns) are blank: openpyxl stores no results; the reader drops them anyway.
    """
    wb = openpyxl.load_workbook(path, data_only=True)
    sheets: list[dict[str, Any]] = []
    for ws in wb.worksheets:
        values = [
            [_json_cell(v, dates) for v in row]
            for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column, values_only=True)
        ]
        tables = [_table_entry(t.displayName, t.ref) for t in ws.tables.values()]
        sheets.append({"name": ws.title, "values": values, "pictures": [], "charts": [], "tables": tables})
    order = [ws.title for ws in wb.worksheets]
    names = []
    for name, defined in wb.defined_names.items():
        sheet, cell = defined.attr_text.split("!")
        names.append(
            {
                "name": name,
                "sheet_index": order.index(sheet.strip("'")),
                "address": cell.replace("$", ""),
                "scope_sheet_name": None,
                "scope_sheet_index": None,
                "book_scope": True,
            }
        )
    return {
        "client": "Office.js",
        "version": "lite",
        "book": {"name": path.name, "active_sheet_index": order.index(active), "selection": selection},
        "names": names,
        "sheets": sheets,
    }


def dispatch(jobs: list[dict[str, Any]], tmp: Path, module: str = "csxl.excel.macros") -> dict[str, Any]:
    """Run Lite scripts through xlwings' dispatcher in a clean process (see ``tests/data/lite_dispatch.py``)."""
    spec = tmp / "jobs.json"
    spec.write_text(json.dumps({"module": module, "jobs": jobs}), encoding="utf-8")
    env = {**os.environ, **LITE_ENV, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp)])}
    done = subprocess.run(
        [sys.executable, str(DISPATCH), str(spec)], capture_output=True, text=True, env=env, cwd=tmp, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def written(actions: list[dict[str, Any]], sheets: list[str]) -> dict[str, dict[tuple[int, int], Any]]:
    """Replay the actions' cell writes: sheet -> {(row, column): value} (1-based), clears included."""
    names = list(sheets)
    cells: dict[str, dict[tuple[int, int], Any]] = {name: {} for name in names}
    for action in actions:
        func = action["func"]
        if func == "addSheet":
            position, name = action["args"]
            names.insert(position, name)
            cells[name] = {}
            continue
        if action["sheet_position"] is None:
            continue
        sheet = names[action["sheet_position"]]
        if func == "setValues":
            for i, row in enumerate(action["values"]):
                for j, value in enumerate(row):
                    cells[sheet][(action["start_row"] + i + 1, action["start_column"] + j + 1)] = value
        elif func in ("sheetClear", "sheetClearContents"):
            cells[sheet] = {}
        elif func == "rangeClearContents":
            for i in range(action["row_count"]):
                for j in range(action["column_count"]):
                    cells[sheet][(action["start_row"] + i + 1, action["start_column"] + j + 1)] = None
    return cells


def norm(value: Any) -> Any:
    """One spelling for a cell value: blanks None, text without Excel's quote prefix, dates ISO, floats rounded."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value[1:] if value.startswith("'") else value
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return None if math.isnan(number) else round(number, 9)
    if isinstance(value, Formula):
        return value.text
    return value


def planned(plan: Plan) -> dict[str, dict[tuple[int, int], Any]]:
    """The cells a plan writes: sheet -> {(row, column): value}."""
    cells: dict[str, dict[tuple[int, int], Any]] = {}
    for op in plan.ops:
        if isinstance(op, Block):
            sheet = cells.setdefault(op.sheet, {})
            for i, row in enumerate(op.values):
                for j, value in enumerate(row):
                    sheet[(op.top + i, op.left + j)] = value
    return cells


# --------------------------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> csxl.DemoData:
    return demo_portfolio(24, seed=11, as_of=AS_OF)


@pytest.fixture(scope="module")
def demo_xlsx(tmp_path_factory: pytest.TempPathFactory, demo: csxl.DemoData) -> Path:
    path = tmp_path_factory.mktemp("book") / "demo.xlsx"
    build_template(path, demo=demo)
    return path


@pytest.fixture(scope="module")
def expected(demo_xlsx: Path) -> tuple[dict[str, dict[tuple[int, int], Any]], Any]:
    """The headless pipeline on the same file: the cells plan_refresh writes, and the portfolio."""
    data = read_book(demo_xlsx)
    portfolio = data.to_portfolio()
    plan, _ = plan_refresh(data.places, portfolio, refreshed_at=STAMP)
    return planned(plan), portfolio


@pytest.fixture(scope="module")
def lite_run(tmp_path_factory: pytest.TempPathFactory, demo_xlsx: Path, demo: csxl.DemoData) -> dict[str, Any]:
    """One process running every Lite job of this module (a process start costs seconds)."""
    tmp = tmp_path_factory.mktemp("lite")
    third = str(demo.accounts["account"].iloc[2])
    picked = tmp / "picked.xlsx"
    wb = openpyxl.load_workbook(demo_xlsx)
    wb[layout.SHEET_ACTIONS][ACCOUNT_PICKER] = third
    wb.save(picked)
    jobs = [
        {"book": snapshot(demo_xlsx, dates="iso"), "script": "csxl_refresh"},
        {"book": snapshot(demo_xlsx, dates="serial"), "script": "csxl_refresh"},
        {"book": snapshot(demo_xlsx), "script": "csxl_account_sheet", "args": [third]},
        # blank argument: the selected cell's row (row 5 = the third account: data starts on row 3)
        {"book": snapshot(demo_xlsx, active="Accounts", selection="D5"), "script": "csxl_account_sheet", "args": [""]},
        {"book": snapshot(demo_xlsx, active="Accounts", selection="D1"), "script": "csxl_account_sheet"},
        {"book": snapshot(demo_xlsx), "script": "csxl_play", "args": ["risk", third]},
        {"book": snapshot(demo_xlsx), "script": "csxl_play", "args": ["nrr", ""]},
        {"book": snapshot(demo_xlsx), "script": "csxl_play", "args": ["nosuch", ""]},
        # sheet buttons: a click selects the cell under the button; the account comes from the Actions picker
        {"book": snapshot(picked, active="Actions", selection=_cell("risk")), "script": "csxl_risk"},
        {"book": snapshot(picked, active="Actions", selection=_cell("account")), "script": "csxl_account_sheet"},
        {"book": snapshot(demo_xlsx, active="Actions", selection=_cell("risk")), "script": "csxl_risk"},  # blank
        # from the task pane with a row of Accounts selected: that row, whatever the picker holds
        {"book": snapshot(picked, active="Accounts", selection="B3"), "script": "csxl_risk", "args": [""]},
        {"book": snapshot(picked, active="Actions", selection=_cell("portfolio")), "script": "csxl_portfolio"},
        # what Lite sends for @script(include=...): only the sheets the refresh reads and writes
        {"book": included(snapshot(demo_xlsx)), "script": "csxl_refresh"},
    ]
    return {**dispatch(jobs, tmp), "third": third, "sheets": [ws["name"] for ws in jobs[0]["book"]["sheets"]]}


def _cell(key: str) -> str:
    from csxl.book.actions import ACTIONS

    return next(a.cell for a in ACTIONS if a.key == key)


def included(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without the sheets the refresh script does not ask for (its ``include``)."""
    from csxl.excel.macros import REFRESH_SHEETS

    keep = [ws for ws in payload["sheets"] if ws["name"] in REFRESH_SHEETS]
    order = [ws["name"] for ws in keep]
    names = [n for n in payload["names"] if payload["sheets"][n["sheet_index"]]["name"] in order]
    for n in names:
        n["sheet_index"] = order.index(payload["sheets"][n["sheet_index"]]["name"])
    book = {**payload["book"], "active_sheet_index": order.index(layout.SHEET_DASHBOARD)}
    return {**payload, "book": book, "names": names, "sheets": keep}


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``xw.Book(json=...)`` in this process: the remote engine, with the test-only licence key."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw
    from xlwings.pro import _xlremote

    if "remote" not in [engine.name for engine in xw.engines]:
        xw.engines.add(xw.Engine(impl=_xlremote.engine))
    return xw.Book


def _book(remote: Any, sheets: dict[str, list[list[Any]]], tables: dict[str, list[str]] | None = None) -> Any:
    return remote(
        json={
            "client": "Office.js",
            "version": "lite",
            "book": {"name": "t.xlsx", "active_sheet_index": 0, "selection": "A1"},
            "names": [],
            "sheets": [
                {
                    "name": name,
                    "values": values,
                    "pictures": [],
                    "charts": [],
                    "tables": [_table_entry(t, "A2:B3") for t in (tables or {}).get(name, [])],
                }
                for name, values in sheets.items()
            ],
        }
    )


# --------------------------------------------------------------------------------------------------------------------
# The Lite refresh script writes the pipeline's numbers
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", [0, 1], ids=["dates-iso", "dates-serial"])
@pytest.mark.parametrize("sheet", [ACCOUNTS.sheet, HISTORY.sheet, layout.SHEET_COHORTS])
def test_lite_refresh_writes_the_headless_pipeline_cells(
    lite_run: dict[str, Any], expected: Any, job: int, sheet: str
) -> None:
    result = lite_run["results"][job]
    assert "error" not in result, result.get("error")
    got = written(result["actions"], lite_run["sheets"])[sheet]
    want = expected[0][sheet]
    assert want, f"the pipeline writes on {sheet}"
    diffs = {cell: (norm(got.get(cell)), norm(v)) for cell, v in want.items() if norm(got.get(cell)) != norm(v)}
    assert not diffs, list(diffs.items())[:5]


def test_lite_refresh_dashboard_numbers_match(lite_run: dict[str, Any], expected: Any) -> None:
    """Every number on the Dashboard equals the headless pipeline's (the refresh time stamp differs: not a number)."""
    got = written(lite_run["results"][0]["actions"], lite_run["sheets"])[layout.SHEET_DASHBOARD]
    numbers = {cell: v for cell, v in expected[0][layout.SHEET_DASHBOARD].items() if isinstance(v, (int, float))}
    assert numbers
    assert {c: norm(got.get(c)) for c in numbers} == {c: norm(v) for c, v in numbers.items()}


def test_lite_refresh_health_equals_score_accounts(lite_run: dict[str, Any], demo: csxl.DemoData) -> None:
    """Independent: csxl.score_accounts on the demo table (default engine preset, as the new workbook's Settings), the
    contract trend and NPS from its MRR and Surveys tables first (csxl.derived)."""
    from test_refresh import core_scores

    scores = core_scores(demo).reset_index(drop=True)
    got = written(lite_run["results"][0]["actions"], lite_run["sheets"])[ACCOUNTS.sheet]
    column = ACCOUNTS.index("health_score")
    tiers = ACCOUNTS.index("health_tier")
    for i in range(len(scores)):
        row = ACCOUNTS.first_data_row + i
        assert norm(got.get((row, column))) == norm(scores["health_score"].iloc[i])
        assert norm(got.get((row, tiers))) == norm(scores["health_tier"].iloc[i])


def test_lite_refresh_writes_text_with_quote_prefix(lite_run: dict[str, Any]) -> None:
    """Every text value goes out with Excel's quote prefix, so a tier, a name or '2024-01' is never converted."""
    texts = [
        v
        for a in lite_run["results"][0]["actions"]
        if a["func"] == "setValues"
        for row in a["values"]
        for v in row
        if isinstance(v, str)
        and v
        and not re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", v)
        and not v.startswith("=IF(")  # the simple-points formulas refresh rewrites (csxl's own)
    ]
    assert texts
    assert all(t.startswith("'") for t in texts), [t for t in texts if not t.startswith("'")][:5]


def test_lite_scripts_are_registered_with_their_buttons(lite_run: dict[str, Any]) -> None:
    """Each button's script as xlwings reports it (the drawing side is tests/test_buttons.py)."""
    from csxl.book.actions import ACTIONS
    from csxl.excel.macros import ACCOUNT_BUTTON, REFRESH_BUTTON, REFRESH_SHEETS

    meta = {m["function_name"]: m for m in lite_run["meta"]}
    assert meta["csxl_refresh"]["button"] == REFRESH_BUTTON == "[csxlRefresh]Dashboard!H1"
    assert meta["csxl_account_sheet"]["button"] == ACCOUNT_BUTTON == "[csxlAccountPage]Actions!A8"
    assert {name: m["button"] for name, m in meta.items() if m["button"]} == {a.function: a.button for a in ACTIONS}
    # the refresh asks Lite for the sheets it reads and writes only; the others ask for the whole book
    assert meta["csxl_refresh"]["include"] == ",".join(REFRESH_SHEETS)
    assert all(m["include"] is None for name, m in meta.items() if name != "csxl_refresh")


@pytest.mark.parametrize("job", [2, 3], ids=["by-argument", "by-selection"])
def test_lite_account_page(lite_run: dict[str, Any], job: int) -> None:
    result = lite_run["results"][job]
    assert "error" not in result, result.get("error")
    sheet = f"Acct {lite_run['third']}"[:31]
    adds = [a["args"] for a in result["actions"] if a["func"] == "addSheet"]
    assert [args[1] for args in adds] == [sheet]
    cells = written(result["actions"], lite_run["sheets"])[sheet]
    assert norm(cells[(1, 1)]) == f"Account: {lite_run['third']}"


def test_lite_account_page_outside_a_row_says_why(lite_run: dict[str, Any]) -> None:
    """Selection on row 1 (above the table), no argument: no sheet, a message box with the rule, no traceback."""
    result = lite_run["results"][4]
    assert "error" not in result
    assert not [a for a in result["actions"] if a["func"] in ("addSheet", "setValues")]
    alerts = [a for a in result["actions"] if a["func"] == "alert"]
    assert len(alerts) == 1
    assert "an account's row on the Accounts sheet" in json.dumps(alerts[0]["args"])


def _sheets_added(result: dict[str, Any]) -> list[str]:
    assert "error" not in result, result.get("error")
    return [a["args"][1] for a in result["actions"] if a["func"] == "addSheet"]


def _alerts(result: dict[str, Any]) -> list[str]:
    return [json.dumps(a["args"]) for a in result["actions"] if a["func"] == "alert"]


def test_lite_sheet_button_acts_on_the_picked_account(lite_run: dict[str, Any]) -> None:
    """The Churn-risk button (selection on its own Actions cell) and the Account-page button: the picked account."""
    third = lite_run["third"]
    assert _sheets_added(lite_run["results"][8]) == [f"csxl risk {third}"[:31]]
    assert _sheets_added(lite_run["results"][9]) == [f"Acct {third}"[:31]]
    assert not _alerts(lite_run["results"][8]) and not _alerts(lite_run["results"][9])


def test_lite_sheet_button_with_no_account_picked_says_where(lite_run: dict[str, Any]) -> None:
    result = lite_run["results"][10]
    assert _sheets_added(result) == []
    [alert] = _alerts(result)
    assert "Actions!B4" in alert and "the account to act on" in alert


def test_lite_task_pane_uses_the_selected_row_over_the_picker(lite_run: dict[str, Any], demo: csxl.DemoData) -> None:
    first = str(demo.accounts["account"].iloc[0])  # row 3 = the first account; the picker holds the third
    assert _sheets_added(lite_run["results"][11]) == [f"csxl risk {first}"[:31]]


def test_lite_portfolio_button_needs_no_account(lite_run: dict[str, Any]) -> None:
    assert _sheets_added(lite_run["results"][12]) == ["csxl portfolio"]


def test_lite_refresh_with_only_the_included_sheets_writes_the_same(lite_run: dict[str, Any]) -> None:
    """Lite sends only ``include``'s sheets to the refresh script: the Dashboard it writes is the same, cell by cell."""
    whole = written(lite_run["results"][0]["actions"], lite_run["sheets"])[layout.SHEET_DASHBOARD]
    from csxl.excel.macros import REFRESH_SHEETS

    names = [n for n in lite_run["sheets"] if n in REFRESH_SHEETS]
    part = written(lite_run["results"][13]["actions"], names)[layout.SHEET_DASHBOARD]
    stamp = {c for c, v in whole.items() if isinstance(v, str) and "last refreshed" in v}
    assert whole and {c: norm(v) for c, v in whole.items() if c not in stamp} == {
        c: norm(v) for c, v in part.items() if c not in stamp
    }


# --------------------------------------------------------------------------------------------------------------------
# read_grids / apply_plan_to_book on an xlwings Book in this process
# --------------------------------------------------------------------------------------------------------------------


def test_read_grids_feeds_book_from_grids(remote: Any, demo_xlsx: Path, expected: Any) -> None:
    from csxl.excel.book import book_data, read_grids

    book = remote(json=snapshot(demo_xlsx))
    grids = read_grids(book)
    assert set(grids) == {"Settings", "Accounts", "MRR", "Surveys", "Health history"}
    data = book_data(book)
    portfolio = data.to_portfolio()
    assert portfolio.as_of == expected[1].as_of == AS_OF  # the Settings as-of date, read through the defined name
    # the same accounts as the file reader
    assert data.tables["Accounts"]["account"].tolist() == read_book(demo_xlsx).tables["Accounts"]["account"].tolist()
    assert book_from_grids(grids).last_rows == read_book(demo_xlsx).last_rows


def test_read_grids_error_cells_stay_errors(remote: Any) -> None:
    from csxl.excel.book import read_grids

    book = _book(remote, {"Accounts": [["note", ""], ["Account", "DAU/MAU"], ["a", "#N/A"]]})
    assert read_grids(book) == {"Accounts": [["note", None], ["Account", "DAU/MAU"], ["a", "#N/A"]]}


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("=1+1", "'=1+1"),
        ("+31 20 555", "'+31 20 555"),
        ("-x", "'-x"),
        ("@user", "'@user"),
        ("2024-01", "'2024-01"),  # Excel would make it a date
        ("TRUE", "'TRUE"),  # ... a boolean
        ("'quoted", "''quoted"),  # the first quote is Excel's prefix; the cell shows 'quoted
        ("", ""),  # a blank cell (xlwings sends blanks as "")
        (Formula("=SUM(A1:A2)"), "=SUM(A1:A2)"),  # only csxl's own formulas are formulas
        (1.5, 1.5),
        (float("nan"), ""),
        (_dt.date(2024, 1, 31), "2024-01-31"),
    ],
)
def test_values_are_written_as_their_type(remote: Any, value: Any, sent: Any) -> None:
    from csxl.excel.book import apply_plan_to_book

    book = _book(remote, {"S": [[""]]})
    apply_plan_to_book(book, Plan([Block("S", 2, 3, [[value]])]))
    [action] = [a for a in book.json()["actions"] if a["func"] == "setValues"]
    assert (action["start_row"], action["start_column"], action["values"]) == (1, 2, [[sent]])


def test_ragged_rows_leave_other_cells_untouched(remote: Any) -> None:
    """On a sheet the plan did not clear, a short row writes only its own cells."""
    from csxl.excel.book import apply_plan_to_book

    book = _book(remote, {"S": [["keep", "keep", "keep"]] * 3})
    apply_plan_to_book(book, Plan([Block("S", 1, 1, [[1, 2, 3], [4, 5, 6], [7]])]))
    cells = written(book.json()["actions"], ["S"])["S"]
    assert cells == {(1, 1): 1, (1, 2): 2, (1, 3): 3, (2, 1): 4, (2, 2): 5, (2, 3): 6, (3, 1): 7}
    assert len([a for a in book.json()["actions"] if a["func"] == "setValues"]) == 2  # 2x3, then 1x1


def test_cleared_sheet_lines_are_written_in_one_call(remote: Any) -> None:
    """A replaced sheet: 20 one-line blocks (a report's lines) and a later clear become one rectangle write."""
    from csxl.excel.book import apply_plan_to_book

    book = _book(remote, {"S": [[""]]})
    lines = [Block("R", 1 + i, 1, [[f"line {i}", i] if i % 2 else [f"line {i}"]]) for i in range(20)]
    plan = Plan([SheetSpec("R", widths={"A": 30.0}), *lines, Clear("R", 3, 1, 3, 2)])
    result = apply_plan_to_book(book, plan)
    sets = [a for a in book.json()["actions"] if a["func"] == "setValues"]
    assert len(sets) == 1 == result.writes
    cells = written(book.json()["actions"], ["S"])["R"]
    assert cells[(2, 2)] == 1  # row 2 = line 1: ["line 1", 1]
    assert cells[(1, 2)] == ""  # padding of the short first row (a blank)
    assert cells[(3, 1)] == ""  # cleared after being planned
    assert cells[(20, 1)] == "'line 19"


def test_styles_become_few_rectangles(remote: Any) -> None:
    """A 3x2 block styled pct: one number-format write covering 3x2; a header row: bold + fill + bottom border."""
    from csxl.excel.book import apply_plan_to_book

    book = _book(remote, {"S": [[""]]})
    plan = Plan([Block("S", 1, 1, [["A", "B"]], "header"), Block("S", 2, 1, [[0.1, 0.2]] * 3, "pct")])
    apply_plan_to_book(book, plan)
    actions = book.json()["actions"]
    formats = [
        (a["args"], a["start_row"], a["row_count"], a["column_count"])
        for a in actions
        if a["func"] == "setNumberFormat"
    ]
    assert formats == [(["0.0%"], 1, 3, 2)]
    fonts = [a["args"] for a in actions if a["func"] == "setFontProperty"]
    assert ["bold", True] in fonts
    assert [a["args"] for a in actions if a["func"] == "setRangeColor"] == [["#D9D9D9"]]


def test_money_uses_the_workbook_currency(remote: Any) -> None:
    from csxl.excel.book import apply_plan_to_book

    book = _book(remote, {"S": [[""]]})
    apply_plan_to_book(book, Plan([Block("S", 1, 1, [[1200.0]], "money")]), currency="CHF")
    assert [a["args"] for a in book.json()["actions"] if a["func"] == "setNumberFormat"] == [['#,##0 "CHF"']]


def test_table_resize_and_its_fallback(remote: Any) -> None:
    from csxl.excel.book import apply_plan_to_book

    book = _book(remote, {"Health history": [[""], ["As of", "Account"]]}, tables={"Health history": ["tblHistory"]})
    result = apply_plan_to_book(
        book,
        Plan(
            [ResizeTable("Health history", "tblHistory", "A2:F40"), ResizeTable("Health history", "tblNope", "A2:B3")]
        ),
    )
    assert [a["args"] for a in book.json()["actions"] if a["func"] == "resizeTable"] == [[0, "$A$2:$F$40"]]
    assert result.skipped == ["Health history: resize table tblNope to A2:B3 (no such table)"]


def test_charts_adjacent_series_and_fallback(remote: Any) -> None:
    from csxl.excel.book import apply_plan_to_book

    book = _book(remote, {"S": [[""]]})
    rows = [["Month", "MRR", "Other"], *[[f"2024-0{m}", 10.0 * m, 1.0] for m in range(1, 5)]]
    plan = Plan(
        [
            SheetSpec("C"),
            Block("C", 4, 1, rows),
            Chart("C", "mrr", "F3", "line", "MRR", "A5:A8", ("B5:B8", "C5:C8"), ("MRR", "Other")),
            Chart("C", "gap", "F20", "bar", "Gap", "A5:A8", ("B5:B8", "D5:D8"), ("MRR", "D")),
        ]
    )
    result = apply_plan_to_book(book, plan)
    [add] = [a["args"] for a in book.json()["actions"] if a["func"] == "addChart"]
    # name, type, sheet, source (header row included: the titles are right above the series), ..., anchor
    assert (add[0], add[1], add[2], add[3], add[9]) == ("csxl:mrr", "Line", "C", "$B$4:$C$8", "$F$3")
    assert result.skipped == ["C: chart gap (series are not adjacent columns)"]


def test_unknown_sheet_is_an_input_error(remote: Any) -> None:
    from csxl.excel.book import apply_plan_to_book

    with pytest.raises(InputError, match=re.escape("sheet must be a sheet of t.xlsx")):
        apply_plan_to_book(_book(remote, {"S": [[""]]}), Plan([Block("Nope", 1, 1, [[1]])]))


@pytest.mark.parametrize(
    ("address", "message"),
    [("D1", "below the header"), ("D9", "no account name"), ("B3", None)],
)
def test_selected_account(remote: Any, address: str, message: str | None) -> None:
    from csxl.excel.book import selected_account

    values = [["note"], ["Account"], ["Acme"]]
    book = remote(
        json={
            "client": "Office.js",
            "version": "lite",
            "book": {"name": "t.xlsx", "active_sheet_index": 0, "selection": address},
            "names": [],
            "sheets": [{"name": "Accounts", "values": values, "pictures": [], "tables": []}],
        }
    )
    if message is None:
        assert selected_account(book) == "Acme"
    else:
        with pytest.raises(InputError, match=message):
            selected_account(book)


# --------------------------------------------------------------------------------------------------------------------
# The macro workbook
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from csxl.excel.xlsm import build_xlsm

    path = tmp_path_factory.mktemp("xlsm") / "csxlbook.xlsm"
    return build_xlsm(path, demo_portfolio(12, seed=3, as_of=AS_OF))


def test_xlsm_button_runs_a_macro_that_calls_runpython(xlsm: Path) -> None:
    from oletools.olevba import VBA_Parser  # type: ignore[import-untyped]

    with zipfile.ZipFile(xlsm) as zf:
        types = zf.read("[Content_Types].xml").decode()
        vml = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/drawings/vmlDrawing")]
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    macros = [m for v in vml for m in re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", v)]
    assert macros == ["SampleCall"]
    parser = VBA_Parser(str(xlsm))
    code = "\n".join(source for _, _, _, source in parser.extract_macros())
    parser.close()
    body = re.search(rf"Sub {macros[0]}\(\)(.*?)End Sub", code, re.S)
    assert body is not None, "the button's macro is in the VBA project"
    assert "RunPython" in body.group(1)
    assert ".main()" in body.group(1)
    assert re.search(r"Public Function RunPython\(", code)  # the standalone xlwings module, not the add-in


def test_xlsm_checks_the_xlwings_of_its_vba(xlsm: Path) -> None:
    """The VBA names the DLL of one xlwings version; the companion module passes that version to every entry point,
    and another installed xlwings is refused with the exact pip command (the Start sheet says the same)."""
    from oletools.olevba import VBA_Parser

    from csxl.excel.macros import check_xlwings

    parser = VBA_Parser(str(xlsm))
    code = "\n".join(source for _, _, _, source in parser.extract_macros())
    parser.close()
    dll = set(re.findall(r'Lib "xlwings(?:32|64)-([0-9.]+)\.dll"', code))
    companion = xlsm.with_suffix(".py").read_text(encoding="utf-8")
    version = re.search(r'^XLWINGS = "([0-9.]+)"$', companion, re.M)
    assert version is not None and dll == {version.group(1)}
    assert "macros.refresh(XLWINGS)" in companion and "macros.account_sheet(XLWINGS)" in companion
    check_xlwings(version.group(1), installed=version.group(1))  # the same: runs
    check_xlwings(None, installed="0.1")  # no version to check (Lite, a hand-written module)
    with pytest.raises(InputError) as info:
        check_xlwings(version.group(1), installed="0.36.7")
    assert info.value.field == "xlwings" and f'pip install "xlwings=={version.group(1)}"' in str(info.value)
    start = " ".join(str(c) for row in openpyxl.load_workbook(xlsm)["Start"].iter_rows(values_only=True) for c in row)
    assert f'pip install "xlwings=={version.group(1)}"' in start


def test_xlsm_button_sits_on_the_dashboard(xlsm: Path) -> None:
    wb = openpyxl.load_workbook(xlsm, keep_vba=True)
    assert wb.sheetnames == [*layout.SHEETS, layout.SHEET_LIVE, "xlwings.conf"]
    with zipfile.ZipFile(xlsm) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))}
        rid = re.search(r'name="Dashboard"[^>]*r:id="(\w+)"', workbook).group(1)  # type: ignore[union-attr]
        part = str(rels[rid]).lstrip("/").removeprefix("xl/")
        sheet = zf.read("xl/" + part).decode()
        sheet_rels = zf.read("xl/worksheets/_rels/" + part.rsplit("/", 1)[1] + ".rels").decode()
    legacy = re.search(r'<legacyDrawing [^>]*r:id="(\w+)"', sheet)
    assert legacy is not None
    assert re.search(rf'Id="{legacy.group(1)}"[^>]*Target="\.\./drawings/vmlDrawing\d+\.vml"', sheet_rels)
    assert 'codeName="ThisWorkbook"' in workbook


def test_xlsm_conf_sheet_and_licence(xlsm: Path) -> None:
    wb = openpyxl.load_workbook(xlsm, keep_vba=True)
    conf = wb["xlwings.conf"]
    keys: dict[str, Any] = {}
    for row in conf.iter_rows(min_row=1, values_only=True):
        if row[0] is None:
            break  # xlwings reads A1 down to the first blank
        keys[str(row[0])] = row[1]
    assert keys["UDF Modules"] == "csxl.excel.functions"
    assert keys["Interpreter_Win"] == "python"
    text = " ".join(str(c) for row in conf.iter_rows(values_only=True) for c in row if c)
    assert "BSD 3-clause" in text
    assert "Zoomer Analytics" in text
    start = " ".join(str(c) for row in wb["Start"].iter_rows(values_only=True) for c in row if c)
    assert "BSD 3-clause" in start
    assert "ImportPythonUDFs" in start and "Live scores" in start  # how the live health cells come to life


def test_xlsm_is_refreshed_like_the_plain_workbook(xlsm: Path) -> None:
    data = read_book(xlsm)
    accounts = data.tables["Accounts"]
    # the dimension scores are refreshed values; health score and tier are live =HEALTHSCORE/=HEALTHTIER formulas,
    # which Excel computes on open (no cached value in the file: tests/test_refresh.py checks the formulas)
    assert accounts["usage_score"].notna().any()
    assert accounts["health_score"].isna().all()
    assert data.last_rows["Health history"] > HISTORY.header_row


@pytest.mark.parametrize(
    ("sheets", "platform", "live"),
    [
        (["Accounts", "xlwings.conf"], "win32", True),  # classic xlwings on Windows computes the functions
        (["Accounts", "xlwings.conf"], "linux", True),  # a headless refresh for a Windows user
        (["Accounts", "xlwings.conf"], "darwin", False),  # classic xlwings on a Mac has no worksheet functions
        (["Accounts"], "win32", False),  # a plain workbook keeps values everywhere
    ],
)
def test_live_formulas_only_where_excel_can_compute_them(sheets: list[str], platform: str, live: bool) -> None:
    from csxl.book.live import live_formulas

    assert live_formulas(sheets, platform) is live


def test_an_xlsm_refreshed_on_a_mac_gets_values(xlsm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from csxl.book.refresh import refresh

    book = tmp_path / "mac.xlsm"
    shutil.copy(xlsm, book)
    monkeypatch.setattr(sys, "platform", "darwin")
    refresh(book)
    scores = pd.to_numeric(read_book(book).tables["Accounts"]["health_score"], errors="coerce")
    assert scores.notna().any()  # values written, not =HEALTHSCORE formulas without a cached value


def test_xlsm_companion_module_imports(xlsm: Path) -> None:
    module = xlsm.with_suffix(".py")
    assert module.exists()
    code = "import csxlbook; assert callable(csxlbook.main) and callable(csxlbook.account_sheet); print('ok')"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(xlsm.parent)])}
    env.pop("XLWINGS_LICENSE_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=xlsm.parent, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("name", ["1book.xlsm", "my-book.xlsm", "json.xlsm", "class.xlsm", "book.xlsx"])
def test_xlsm_needs_a_module_name(tmp_path: Path, name: str) -> None:
    from csxl.excel.xlsm import build_xlsm

    with pytest.raises(InputError):
        build_xlsm(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_xlsm_refuses_to_overwrite(tmp_path: Path) -> None:
    from csxl.excel.xlsm import build_xlsm

    (tmp_path / "mybook.py").write_text("# mine\n")
    with pytest.raises(FileError, match="already exists"):
        build_xlsm(tmp_path / "mybook.xlsm")
    assert (tmp_path / "mybook.py").read_text() == "# mine\n"
    assert not (tmp_path / "mybook.xlsm").exists()


# --------------------------------------------------------------------------------------------------------------------
# xlwings Lite files
# --------------------------------------------------------------------------------------------------------------------


def test_write_lite_registers_functions_and_scripts(tmp_path: Path) -> None:
    from csxl.excel import functions
    from csxl.excel.lite import write_lite
    from csxl.excel.macros import SCRIPTS

    paths = write_lite(tmp_path / "lite")
    assert [p.name for p in paths] == ["main.py", "requirements-to-add.txt"]
    # lines to add to the tab, xlwings pinned to the version csxl was installed (and tested) with
    assert paths[1].read_text().splitlines() == [
        f"xlwings=={metadata.version('xlwings')}",
        f"csxl=={metadata.version('csxl')}",
    ]
    code = (
        "import json, main\n"
        "from xlwings.server import custom_functions_meta, custom_scripts_meta\n"
        "print(json.dumps({'functions': [f['name'] for f in custom_functions_meta(main)['functions']],"
        " 'scripts': [s['function_name'] for s in custom_scripts_meta(main)]}))\n"
    )
    env = {**os.environ, **LITE_ENV, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=paths[0].parent, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    meta = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(meta["functions"]) == sorted(functions.__all__)
    assert sorted(meta["scripts"]) == sorted({*SCRIPTS, "csxl_play"})
    assert len(meta["scripts"]) == 15  # refresh, account page, twelve plays, and csxl_play for the task pane


def test_csxl_lite_prints_the_lines_to_add_and_the_restart(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from csxl.cli import cli

    run = CliRunner().invoke(cli, ["lite", str(tmp_path / "lite")])
    assert run.exit_code == 0, run.output
    assert "ADD these lines" in run.output and "Restart Python" in run.output
    assert f"xlwings=={metadata.version('xlwings')}" in run.output
    assert f"csxl=={metadata.version('csxl')}" in run.output


def test_write_lite_unwritable_folder(tmp_path: Path) -> None:
    from csxl.excel.lite import write_lite

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(FileError, match="cannot write the xlwings Lite files"):
        write_lite(blocker / "lite")


def test_lite_play_script_writes_the_play_sheet(lite_run: dict[str, Any]) -> None:
    """The play button: the same registry and sheet layout as ``csxl risk ACCOUNT --book PATH --write``."""
    from csxl.book.sheets import play_sheet_name

    risk, nrr, bad = lite_run["results"][5], lite_run["results"][6], lite_run["results"][7]
    for result in (risk, nrr):
        assert "error" not in result, result.get("error")
    texts = json.dumps(risk["actions"])
    assert play_sheet_name("risk", lite_run["third"]) in texts
    assert "Leading indicators" in texts
    assert "NRR report" in json.dumps(nrr["actions"])
    assert "command must be one of" in json.dumps(bad)
