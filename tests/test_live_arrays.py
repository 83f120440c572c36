"""The Excel flavour's live health cells: one array call per column, not one call per account (issue 13).

A ``.xlsm`` refreshed for Windows gets, on the **Live scores** sheet, one ``=HEALTHSCORE`` array formula over the
Accounts table's dimension-score columns and one ``=HEALTHTIER`` over its Health score column (Excel refuses array
formulas inside a table); every Accounts row reads its own element with ``INDEX``. Checked here:

* the file: two array formulas, the same ``INDEX`` formula in every row and as the table's calculated column, valid
  ECMA-376;
* the arguments as Excel passes them (the table's columns, the Settings weights, bounds and preset) give the core's
  numbers through xlwings' own dispatcher;
* the wiring in a real engine: LibreOffice computes the workbook with the two Python calls replaced by native
  formulas of the same shape, before and after a founder sorts the table through UNO; rows past the arrays say to
  refresh;
* a refresh on a Mac writes values and says so on the sheet; the Lite refresh writes each array once.
"""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from engine import recalculate
from ooxml import problems
from test_excel_functions import call, lite  # noqa: F401 (the fixture)
from test_excel_runtime import dispatch, included, snapshot, written
from test_refresh import _sheet_part, _xml, core_scores
from test_user_edits import _pasted_rows, require_uno, uno_edit

from csxl.book import layout
from csxl.book.live import LIVE_FIRST_ROW, LIVE_SPARE_ROWS, PAST_THE_ARRAYS
from csxl.book.read import read_book
from csxl.book.refresh import refresh
from csxl.demo import demo_portfolio
from csxl.excel.apply import FORMULA_ARRAY_LIMIT
from csxl.excel.xlsm import build_xlsm

N = 30
LIVE = layout.SHEET_LIVE


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = demo_portfolio(N, seed=11)
    return build_xlsm(tmp_path_factory.mktemp("live") / "live.xlsm", demo, as_of=demo.as_of)


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml")}


def _sheet_xml(path: Path, sheet: str) -> str:
    return _xml(path)[_sheet_part(path, sheet)].decode("utf-8")


def _arrays(xml: str) -> dict[str, tuple[str, str]]:
    """Top-left cell -> (ref, formula) of each legacy array formula of a sheet part."""
    found = re.findall(r'<c r="([A-Z]+\d+)"[^>]*><f t="array" ref="([^"]+)">([^<]*)</f>', xml)
    return {cell: (ref, formula.replace("&gt;", ">").replace("&amp;", "&")) for cell, ref, formula in found}


def _formulas(xml: str, letter: str) -> dict[int, str]:
    found = re.findall(rf'<c r="{letter}(\d+)"[^>]*><f>([^<]*)</f>', xml)
    return {int(row): text.replace("&gt;", ">").replace("&amp;", "&") for row, text in found}


def test_one_array_formula_per_column(xlsm: Path) -> None:
    live = _arrays(_sheet_xml(xlsm, LIVE))
    last = LIVE_FIRST_ROW + N + LIVE_SPARE_ROWS - 1
    assert set(live) == {f"A{LIVE_FIRST_ROW}", f"B{LIVE_FIRST_ROW}"}
    score_ref, score = live[f"A{LIVE_FIRST_ROW}"]
    tier_ref, tier = live[f"B{LIVE_FIRST_ROW}"]
    assert (score_ref, tier_ref) == (f"A{LIVE_FIRST_ROW}:A{last}", f"B{LIVE_FIRST_ROW}:B{last}")
    assert score == "HEALTHSCORE(tblAccounts[[Usage score]:[Financial score]],Settings!$B$6:$B$10,csxl_preset)"
    assert tier.startswith('HEALTHTIER(tblAccounts[Health score],IF(csxl_preset="growth","growth","engine"),')
    assert max(len(score), len(tier)) + 1 <= FORMULA_ARRAY_LIMIT  # classic xlwings writes them with FormulaArray

    accounts = _sheet_xml(xlsm, layout.SHEET_ACCOUNTS)
    assert "HEALTHSCORE" not in accounts and "HEALTHTIER" not in accounts  # no Python call per row
    first = layout.ACCOUNTS.first_data_row
    for key in ("health_score", "health_tier"):
        cells = _formulas(accounts, layout.ACCOUNTS.letter(key))
        assert sorted(cells) == list(range(first, first + N))
        assert len(set(cells.values())) == 1  # one text in every row: Excel sees a consistent calculated column
        text = cells[first]
        letter = "A" if key == "health_score" else "B"
        assert f"INDEX('{LIVE}'!${letter}${LIVE_FIRST_ROW}:${letter}${last}," in text
        table = next(x for n, x in _parts(xlsm).items() if n.startswith("xl/tables/") and 'name="tblAccounts"' in x)
        header = layout.ACCOUNTS.column(key).header
        calculated = re.search(rf'name="{header}"[^>]*><calculatedColumnFormula>([^<]*)<', table)
        assert calculated is not None and calculated.group(1).replace("&gt;", ">") == text
    assert problems(xlsm) == []


def _block(rows: list[tuple[Any, ...]], header: list[Any], keys: list[str]) -> list[list[Any]]:
    at = [header.index(layout.ACCOUNTS.column(k).header) for k in keys]
    return [[row[i] for i in at] for row in rows]


def test_the_arrays_arguments_give_the_core_scores(xlsm: Path, lite: Any) -> None:  # noqa: F811
    """What Excel passes to the two calls (the table's columns and the Settings cells the formulas name), through
    xlwings' own dispatcher: the core's scores (csxl.score_accounts, tolerance 1e-9) and tiers."""
    wb = openpyxl.load_workbook(xlsm, data_only=True, keep_vba=True)
    ws = wb[layout.SHEET_ACCOUNTS]
    header = [c.value for c in ws[layout.HEADER_ROW]]
    first = layout.ACCOUNTS.first_data_row
    rows = list(ws.iter_rows(min_row=first, max_row=first + N - 1, values_only=True))
    dims = ["usage_score", "engagement_score", "relationship_score", "outcomes_score", "financial_score"]
    block = _block(rows, header, dims)
    settings = wb[layout.SHEET_SETTINGS]
    weights = [[settings[f"B{r}"].value] for r in range(6, 11)]
    preset = settings[f"B{layout.settings_rows()['csxl_preset']}"].value
    scores = call(lite, "HEALTHSCORE", block, weights, [[preset]])
    demo = demo_portfolio(N, seed=11)
    want = core_scores(demo).reset_index(drop=True)
    assert [s[0] for s in scores] == pytest.approx(want["health_score"].tolist(), abs=1e-9)
    bounds = [[settings[f"B{r}"].value] for r in range(13, 16)]
    tiers = call(lite, "HEALTHTIER", scores, [["engine"]], bounds)
    assert [t[0] for t in tiers] == want["health_tier"].tolist()


def _native(source: Path, target: Path, rows: int | None = None) -> Path:
    """A copy whose two Python calls are native formulas of the same shape LibreOffice can compute (score = usage x
    100 + financial, read as columns 1 and 5 of the score call's own first argument; tier = hi from 500): the
    wiring (structured references, INDEX by row, padding) is then checked by a real engine. ``rows``: shorten the
    arrays (and the rows' references) to that many rows."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith(("xl/worksheets/", "xl/tables/")):
                text = data.decode("utf-8")
                text = re.sub(  # columns 1 and 5 of the first argument: usage and financial in the weights' order
                    r'(<f t="array" ref="A[^"]+">)HEALTHSCORE\((.+?),Settings!\$B\$6:\$B\$10,csxl_preset\)(</f>)',
                    r"\1INDEX(\2,0,1)*100+INDEX(\2,0,5)\3",
                    text,
                )
                text = re.sub(
                    r'(<f t="array" ref="B[^"]+">)HEALTHTIER\([^<]*\)(</f>)',
                    r'\1IF(tblAccounts[Health score]&gt;=500,"hi","lo")\2',
                    text,
                )
                if rows is not None:
                    end, last = LIVE_FIRST_ROW + rows - 1, LIVE_FIRST_ROW + N + LIVE_SPARE_ROWS - 1
                    for letter in "AB":
                        text = text.replace(f":${letter}${last}", f":${letter}${end}")
                        text = text.replace(f':{letter}{last}"', f':{letter}{end}"')
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return target


def _computed(path: Path) -> list[tuple[Any, Any, Any, Any]]:
    ws = openpyxl.load_workbook(path, data_only=True)[layout.SHEET_ACCOUNTS]
    header = [c.value for c in ws[layout.HEADER_ROW]]
    first = layout.ACCOUNTS.first_data_row
    rows = list(ws.iter_rows(min_row=first, max_row=first + N - 1, values_only=True))
    keys = ["usage_score", "financial_score", "health_score", "health_tier"]
    return [tuple(r) for r in _block(rows, header, keys)]


@pytest.mark.slow
def test_libreoffice_computes_each_row_from_its_own_element(xlsm: Path, tmp_path: Path) -> None:
    computed = _computed(recalculate(_native(xlsm, tmp_path / "native.xlsx"), tmp_path))
    for usage, financial, score, tier in computed:
        assert score == pytest.approx(usage * 100 + financial, abs=1e-9)
        assert tier == ("hi" if score >= 500 else "lo")
    assert len({c[2] for c in computed}) > N // 2  # distinct per row, not one value repeated


@pytest.mark.slow
def test_a_sorted_table_keeps_each_score_on_its_row(xlsm: Path, tmp_path: Path) -> None:
    """A founder sorts Accounts by usage score, largest first (Data > Sort, made by LibreOffice through UNO): the
    arrays follow the table's order, every row still shows its own score."""
    require_uno()
    native = _native(xlsm, tmp_path / "native.xlsx")
    header = [c.value for c in openpyxl.load_workbook(xlsm, read_only=True)[layout.SHEET_ACCOUNTS][layout.HEADER_ROW]]
    width = layout.column_letter(len([h for h in header if h is not None]))
    first = layout.ACCOUNTS.first_data_row
    usage = header.index(layout.ACCOUNTS.column("usage_score").header)
    sorted_book = uno_edit(native, tmp_path / "sorted.xlsx", [
        {"op": "sort", "sheet": layout.SHEET_ACCOUNTS, "range": f"A{first}:{width}{first + N - 1}", "by": usage,
         "ascending": False},
    ])  # fmt: skip
    computed = _computed(sorted_book)
    usages = [c[0] for c in computed]
    assert usages == sorted(usages, reverse=True) and usages != [c[0] for c in _computed(xlsm)]
    for usage_score, financial, score, tier in computed:
        assert score == pytest.approx(usage_score * 100 + financial, abs=1e-9)
        assert tier == ("hi" if score >= 500 else "lo")


@pytest.mark.slow
def test_rows_past_the_arrays_say_to_refresh(xlsm: Path, tmp_path: Path) -> None:
    computed = _computed(recalculate(_native(xlsm, tmp_path / "short.xlsx", rows=20), tmp_path))
    assert all(isinstance(c[2], (int, float)) for c in computed[:20])
    assert [c[2] for c in computed[20:]] == [PAST_THE_ARRAYS] * (N - 20)


def test_a_mac_refresh_writes_values_and_says_so(xlsm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = tmp_path / "mac.xlsm"
    shutil.copy(xlsm, book)
    monkeypatch.setattr(sys, "platform", "darwin")
    refresh(book)
    assert _arrays(_sheet_xml(book, LIVE)) == {}
    note = " ".join(str(c) for row in openpyxl.load_workbook(book)[LIVE].iter_rows(values_only=True) for c in row if c)
    assert "Not used" in note and "Mac" in note
    accounts = _sheet_xml(book, layout.SHEET_ACCOUNTS)
    assert "INDEX(" not in accounts
    table = next(x for n, x in _parts(book).items() if n.startswith("xl/tables/") and 'name="tblAccounts"' in x)
    header = layout.ACCOUNTS.column("health_score").header
    assert re.search(rf'name="{header}"[^>]*><calculatedColumnFormula>', table) is None
    scores = read_book(book).tables[layout.SHEET_ACCOUNTS]["health_score"]
    assert scores.notna().sum() > N // 2
    assert problems(book) == []


def test_the_lite_refresh_writes_each_array_once(xlsm: Path, tmp_path: Path) -> None:
    """The refresh script on the .xlsm through xlwings' dispatcher (the payload Lite sends for its ``include``):
    Office.js has dynamic arrays but no legacy array formula, so each array is one formula in its top-left cell,
    where it spills; every Accounts row gets its INDEX formula."""
    actions = dispatch([{"book": included(snapshot(xlsm)), "script": "csxl_refresh"}], tmp_path)["results"][0]
    assert "error" not in actions, actions
    sheets = [ws["name"] for ws in included(snapshot(xlsm))["sheets"]]
    live = sheets.index(LIVE)
    formulas = [a for a in actions["actions"] if a["func"] in ("setFormula", "setFormulaArray")]
    on_live = [(a["func"], a["start_row"] + 1, a["start_column"] + 1, a["values"]) for a in formulas
               if a["sheet_position"] == live]  # fmt: skip
    assert [(f, r, c) for f, r, c, _ in on_live] == [
        ("setFormula", LIVE_FIRST_ROW, 1),
        ("setFormula", LIVE_FIRST_ROW, 2),
    ]
    assert str(on_live[0][3]).count("HEALTHSCORE(") == 1 and str(on_live[1][3]).count("HEALTHTIER(") == 1
    cells = written(actions["actions"], sheets)[layout.SHEET_ACCOUNTS]
    column = layout.ACCOUNTS.index("health_score")
    first = layout.ACCOUNTS.first_data_row
    texts = {str(cells[(r, column)]) for r in range(first, first + N)}
    assert len(texts) == 1 and texts.pop().startswith("=IF(ROW()-ROW(tblAccounts[[#Headers],[Health score]])")


@pytest.mark.slow
def test_a_moved_score_column_is_passed_in_the_weights_order(xlsm: Path, tmp_path: Path) -> None:
    """A founder drags Usage score to column B (LibreOffice, through UNO) and refreshes: the five columns are no
    longer one range, so the call gets CHOOSE({1,...,5}, ...) of them in the weights' order; LibreOffice computes each
    row from its own usage and financial scores (columns 1 and 5 of that argument)."""
    require_uno()
    header = [c.value for c in openpyxl.load_workbook(xlsm, read_only=True)[layout.SHEET_ACCOUNTS][layout.HEADER_ROW]]
    usage = layout.column_letter(header.index(layout.ACCOUNTS.column("usage_score").header) + 1)
    moved = uno_edit(xlsm, tmp_path / "moved.xlsx", [
        {"op": "move_column", "sheet": layout.SHEET_ACCOUNTS, "from": usage, "to": "B"},
    ])  # fmt: skip
    refresh(moved)
    score = _arrays(_sheet_xml(moved, LIVE))[f"A{LIVE_FIRST_ROW}"][1]
    assert score.startswith("HEALTHSCORE(CHOOSE({1,2,3,4,5},tblAccounts[Usage score],tblAccounts[Engagement score],")
    assert len(score) + 1 <= FORMULA_ARRAY_LIMIT  # still one FormulaArray for classic xlwings
    native = _native(moved, tmp_path / "native.xlsx")
    computed = _computed(recalculate(native, tmp_path))
    for usage_score, financial, value, tier in computed:
        assert value == pytest.approx(usage_score * 100 + financial, abs=1e-9)
        assert tier == ("hi" if value >= 500 else "lo")


@pytest.mark.slow
def test_pasted_and_deleted_rows_are_scored_after_a_refresh(xlsm: Path, tmp_path: Path) -> None:
    """A founder pastes ten accounts below the table and deletes two rows (LibreOffice, through UNO), then refreshes:
    the arrays cover every row (plus the spare rows), every row reads its own element, and LibreOffice computes each
    row from its own scores."""
    require_uno()
    first = layout.ACCOUNTS.first_data_row
    edited = uno_edit(xlsm, tmp_path / "pasted.xlsx", [
        {"op": "paste", "sheet": layout.SHEET_ACCOUNTS, "cell": f"A{first + N}", "rows": _pasted_rows()},
        {"op": "delete_rows", "sheet": layout.SHEET_ACCOUNTS, "row": first + 2, "count": 2},
    ])  # fmt: skip
    refresh(edited)
    rows = N + 10 - 2
    last = LIVE_FIRST_ROW + rows + LIVE_SPARE_ROWS - 1
    assert {ref for ref, _ in _arrays(_sheet_xml(edited, LIVE)).values()} == {
        f"A{LIVE_FIRST_ROW}:A{last}",
        f"B{LIVE_FIRST_ROW}:B{last}",
    }
    cells = _formulas(_sheet_xml(edited, layout.SHEET_ACCOUNTS), layout.ACCOUNTS.letter("health_score"))
    assert sorted(cells) == list(range(first, first + rows)) and len(set(cells.values())) == 1
    ws = openpyxl.load_workbook(recalculate(_native(edited, tmp_path / "native.xlsx"), tmp_path), data_only=True)
    sheet = ws[layout.SHEET_ACCOUNTS]
    header = [c.value for c in sheet[layout.HEADER_ROW]]
    keys = ["account", "usage_score", "financial_score", "health_score"]
    computed = _block(list(sheet.iter_rows(min_row=first, max_row=first + rows - 1, values_only=True)), header, keys)
    assert sum(str(c[0]).startswith("Pasted ") for c in computed) == 10
    for _account, usage, financial, score in computed:
        assert score == pytest.approx(usage * 100 + financial, abs=1e-9)
