"""The headless workflow end to end: csxl new / refresh / validate / account / report / plays on real files.

Expected numbers come from an independent path: the public core (``csxl.score_accounts``, ``csxl.mrr_movements``)
run on the same demo tables, never from the workbook code under test. Workbooks are compared by unzipped XML.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from books import typed_demo_book
from click.testing import CliRunner
from engine import recalculate, require_soffice
from openpyxl.styles.cell_style import StyleArray
from python_calamine import CalamineWorkbook

import csxl
from csxl.book import layout
from csxl.book.plan import Block
from csxl.book.read import read_book
from csxl.book.refresh import plan_refresh, refresh
from csxl.book.sheets import account_sheet_name
from csxl.cli import EXIT_DATA, EXIT_FILE, EXIT_INPUT, cli
from csxl.dashboard import history_snapshot
from csxl.demo_book import new_demo_workbook
from csxl.derived import derive
from csxl.history import HISTORY_COLUMNS, merge_history, normalise_history, thin_history
from csxl.usecases import new_workbook

AS_OF = dt.date(2026, 10, 31)
STAMP = dt.datetime(2026, 11, 1, 9, 30)


def _xml(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _sheet_part(path: Path, sheet: str) -> str:
    """The zip member of ``sheet`` (via workbook.xml and its rels)."""
    import re

    parts = _xml(path)
    wb = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', wb)
    assert rid, f"no sheet {sheet}"
    target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels
    )
    assert target
    name = target.group(1).lstrip("/")
    return name if name.startswith("xl/") else f"xl/{name}"


def _rows(path: Path, sheet: str) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


@pytest.fixture(scope="module")
def demo() -> csxl.DemoData:
    return csxl.demo_portfolio(120, seed=11)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, demo: csxl.DemoData) -> Path:
    from csxl.book.template import build_template

    path = tmp_path_factory.mktemp("book") / "book.xlsx"
    build_template(path, demo=demo, as_of=AS_OF)
    refresh(path, stamp_at=STAMP)
    return path


@pytest.fixture
def book(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "book.xlsx"
    shutil.copy(built, copy)
    return copy


# ---------------------------------------------------------------------------------------------------- the numbers


def core_scores(demo: csxl.DemoData) -> pd.DataFrame:
    """csxl.score_accounts on the demo's accounts with the contract trend and NPS taken from its MRR and Surveys
    tables first (csxl.derived, tested on its own in tests/test_derived.py): what a refresh scores."""
    loaded = csxl.Portfolio.from_demo(demo)
    return csxl.score_accounts(derive(loaded.accounts, loaded.mrr, loaded.surveys, loaded.as_of).accounts)


def test_owned_columns_equal_the_core(built: Path, demo: csxl.DemoData) -> None:
    # independent: the public core on the demo frames (same rows, same order: sheet row = 3 + position)
    expected = core_scores(demo).reset_index(drop=True)
    rows = _rows(built, layout.SHEET_ACCOUNTS)
    header = [str(h) for h in rows[layout.HEADER_ROW - 1]]
    data = rows[layout.HEADER_ROW :][: len(demo.accounts)]
    col = {h: i for i, h in enumerate(header)}
    for key, source in (("health_score", "health_score"), ("usage_score", "usage"), ("financial_score", "financial")):
        got = pd.Series([r[col[layout.ACCOUNTS.column(key).header]] for r in data], dtype=object).replace("", None)
        want = expected[source]
        pd.testing.assert_series_equal(
            pd.to_numeric(got).astype(float), want.astype(float), check_names=False, rtol=1e-12, atol=1e-9
        )
    tiers = [r[col[layout.ACCOUNTS.column("health_tier").header]] for r in data]
    assert tiers == expected["health_tier"].fillna("").tolist()


def test_history_one_snapshot_per_as_of(book: Path, demo: csxl.DemoData) -> None:
    live = int((csxl.mrr_matrix(demo.mrr, AS_OF).iloc[:, -1] > 0).sum())  # accounts paying in the as-of month
    first = _rows(book, layout.SHEET_HISTORY)[layout.HEADER_ROW :]
    assert len(first) == live
    refresh(book, stamp_at=STAMP)  # same as-of: nothing new
    assert len(_rows(book, layout.SHEET_HISTORY)[layout.HEADER_ROW :]) == live
    refresh(book, as_of=AS_OF + dt.timedelta(days=7), stamp_at=STAMP)  # a week later: a second snapshot
    rows = _rows(book, layout.SHEET_HISTORY)[layout.HEADER_ROW :]
    dates = {r[0] for r in rows}
    assert len(dates) == 2
    assert len(rows) >= 2 * live - 5  # (a few may churn between the two dates; none in the demo's last month)
    with zipfile.ZipFile(book) as zf:
        table = [n for n in zf.namelist() if n.startswith("xl/tables/")]
        refs = [zf.read(n).decode() for n in table]
    assert any(f'ref="A2:F{2 + len(rows)}"' in r for r in refs), "History table not resized to its rows"
    # the dashboard now compares with the snapshot a week before
    assert "Compared with" in str(_rows(book, layout.SHEET_DASHBOARD))


def test_refresh_is_idempotent(book: Path) -> None:
    before = _xml(book)
    refresh(book, stamp_at=STAMP)
    after = _xml(book)
    assert before.keys() == after.keys()
    changed = [n for n in before if before[n] != after[n]]
    assert changed == [], f"a second refresh changed {changed}"
    # a later refresh time changes the Dashboard's timestamp cell only
    refresh(book, stamp_at=STAMP + dt.timedelta(hours=1))
    later = _xml(book)
    changed = [n for n in after if after[n] != later[n]]
    assert changed == [_sheet_part(book, layout.SHEET_DASHBOARD)]


def test_user_sheets_and_inputs_survive(book: Path, demo: csxl.DemoData) -> None:
    # the user adds their own sheet and formats with openpyxl (as Excel would), then refreshes
    wb = openpyxl.load_workbook(book)
    notes = wb.create_sheet("My notes")
    notes["A1"] = "call Ana on Monday"
    notes["B2"] = 42
    wb[layout.SHEET_ACCOUNTS]["A3"].font = openpyxl.styles.Font(bold=True, color="FF0000")
    wb.save(book)
    inputs_before = _rows(book, layout.SHEET_ACCOUNTS)
    before = _xml(book)
    refresh(book, stamp_at=STAMP + dt.timedelta(days=1))
    after = _xml(book)
    notes_part = _sheet_part(book, "My notes")
    assert before[notes_part] == after[notes_part]
    assert b'rgb="00FF0000"' in after["xl/styles.xml"]  # the user's red bold font is still defined
    account_a3 = 'r="A3" s="'
    part = _sheet_part(book, layout.SHEET_ACCOUNTS)
    style_before = before[part].decode().split(account_a3)[1].split('"')[0]
    assert after[part].decode().split(account_a3)[1].split('"')[0] == style_before  # and still on A3
    inputs_after = _rows(book, layout.SHEET_ACCOUNTS)
    n_inputs = len(layout.ACCOUNTS.role("input"))
    assert [r[:n_inputs] for r in inputs_after] == [r[:n_inputs] for r in inputs_before]


def test_text_from_data_is_never_a_formula(tmp_path: Path, demo: csxl.DemoData) -> None:
    from csxl.book.template import build_template

    accounts = demo.accounts.copy()
    mrr = demo.mrr.copy()
    evil = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)"]
    old = accounts["account"].iloc[: len(evil)].tolist()
    rename = dict(zip(old, evil, strict=True))
    accounts["account"] = accounts["account"].replace(rename)
    mrr["account"] = mrr["account"].replace(rename)
    path = tmp_path / "evil.xlsx"
    build_template(path, demo=csxl.DemoData(accounts, mrr, demo.surveys, demo.as_of), as_of=AS_OF)
    refresh(path, stamp_at=STAMP)
    history = _xml(path)[_sheet_part(path, layout.SHEET_HISTORY)].decode()
    assert "<f>" not in history and "<f " not in history
    names = {r[1] for r in _rows(path, layout.SHEET_HISTORY)[layout.HEADER_ROW :]}
    assert set(evil) & names  # written back as the same text


# ---------------------------------------------------------------------------------------------------- bad input


def test_bad_cells_are_reported_and_ignored(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    ws = wb[layout.SHEET_ACCOUNTS]
    arr_col = layout.ACCOUNTS.index("arr")
    dau_col = layout.ACCOUNTS.index("dau_mau")
    ws.cell(4, arr_col).value = "lots"
    ws.cell(5, dau_col).value = 1.5
    wb.save(book)
    result = CliRunner().invoke(cli, ["validate", str(book)])
    assert result.exit_code == EXIT_INPUT
    assert "Accounts" in result.output and "row 4" in result.output and "'lots'" in result.output
    assert "row 5" in result.output and "1.5" in result.output
    run = CliRunner().invoke(cli, ["refresh", str(book)])
    assert run.exit_code == EXIT_DATA, run.output  # refreshed, with cells it could not use
    assert "2 data issue(s) (2 cell(s) ignored)" in run.output
    again = CliRunner().invoke(cli, ["refresh", "--no-strict", str(book)])
    assert again.exit_code == 0, again.output
    rows = _rows(book, layout.SHEET_ACCOUNTS)
    score_col = layout.ACCOUNTS.index("health_score") - 1
    # sheet rows 4 and 5 keep their accounts: the bad ARR and DAU/MAU are unknown, each row is scored without them
    assert all(isinstance(rows[r][score_col], float) for r in (2, 3, 4, 5))
    portfolio = read_book(book).to_portfolio()
    assert {4, 5} <= set(portfolio.accounts.index)
    assert pd.isna(portfolio.accounts.loc[4, "arr"]) and pd.isna(portfolio.accounts.loc[5, "dau_mau"])
    assert rows[3][score_col] == pytest.approx(portfolio.scored.loc[4, "health_score"], abs=1e-9)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"not a workbook", "not a zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "password-protected or legacy"),
    ],
)
def test_broken_files_exit_3_with_a_message(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    for args in (["refresh", str(path)], ["validate", str(path)], ["report", str(path), "--format", "md"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == EXIT_FILE, (args, result.output)
        assert fragment in result.output
        assert "Traceback" not in result.output
    assert path.read_bytes() == content


def test_missing_file_and_lock_file(book: Path) -> None:
    result = CliRunner().invoke(cli, ["refresh", str(book.with_name("nope.xlsx"))])
    assert result.exit_code == EXIT_FILE
    lock = book.with_name("~$" + book.name)
    lock.write_bytes(b"owner")
    before = book.read_bytes()
    result = CliRunner().invoke(cli, ["refresh", str(book)])
    assert result.exit_code == EXIT_FILE and "--force" in result.output
    assert book.read_bytes() == before
    assert CliRunner().invoke(cli, ["refresh", str(book), "--force"]).exit_code == 0


# ---------------------------------------------------------------------------------------------------- commands


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    assert CliRunner().invoke(cli, ["new", str(path)]).exit_code == 0
    stamp = path.read_bytes()
    again = CliRunner().invoke(cli, ["new", str(path), "--demo"])
    assert again.exit_code == EXIT_FILE and "--force" in again.output
    assert path.read_bytes() == stamp
    assert CliRunner().invoke(cli, ["new", str(path), "--demo", "--accounts", "30", "--force"]).exit_code == 0
    assert len(_rows(path, layout.SHEET_HISTORY)) > layout.HEADER_ROW
    assert not list(tmp_path.glob(".csxl-*")), "temporary file left behind"


def test_empty_template_validates_and_refreshes(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    new_workbook(path)
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0
    result = CliRunner().invoke(cli, ["refresh", str(path), "--as-of", "2026-11-02"])
    assert result.exit_code == 0, result.output
    assert "0 of 0 accounts" in result.output
    dash = str(_rows(path, layout.SHEET_DASHBOARD))
    assert "Customer success dashboard" in dash
    assert "The MRR sheet is empty" in str(_rows(path, layout.SHEET_COHORTS))  # the cohorts play says the same


def test_account_sheet_written_and_rewritten(book: Path, demo: csxl.DemoData) -> None:
    name = str(demo.accounts["account"].iloc[5])
    for _ in range(2):
        result = CliRunner().invoke(cli, ["account", str(book), name.upper()])
        assert result.exit_code == 0, result.output
    names = CalamineWorkbook.from_path(str(book)).sheet_names
    assert names.count(account_sheet_name(name)) == 1
    page = str(_rows(book, account_sheet_name(name)))
    assert f"Account: {name}" in page and "MRR history" in page
    unknown = CliRunner().invoke(cli, ["account", str(book), "No Such Co"])
    assert unknown.exit_code == EXIT_INPUT and "No Such Co" in unknown.output


def test_report_formats(book: Path, tmp_path: Path) -> None:
    as_json = CliRunner().invoke(cli, ["report", str(book), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.output)
    assert payload["dashboard"]["as_of"] == AS_OF.isoformat()
    assert {row["tier"] for row in payload["at_risk"]} <= {"At-Risk", "Critical"}
    md = CliRunner().invoke(cli, ["report", str(book), "--format", "md"])
    assert md.output.startswith("# report") and "## At-risk accounts" in md.output
    out = tmp_path / "report.xlsx"
    result = CliRunner().invoke(cli, ["report", str(book), "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheets = CalamineWorkbook.from_path(str(out)).sheet_names
    assert sheets[:2] == [layout.SHEET_DASHBOARD, layout.SHEET_COHORTS] or set(sheets) >= {
        layout.SHEET_DASHBOARD,
        layout.SHEET_COHORTS,
        "At risk",
    }
    assert len([s for s in sheets if s.startswith("Acct ")]) == len(payload["at_risk"])


@pytest.mark.parametrize("command", ["score", "risk", "expansion", "qbr", "onboarding"])
def test_account_plays_from_the_terminal(book: Path, demo: csxl.DemoData, command: str) -> None:
    name = str(demo.accounts["account"].iloc[2])
    text = CliRunner().invoke(cli, [command, name, "--book", str(book)])
    assert text.exit_code == 0, text.output
    assert name in text.output and "as of 2026-10-31" in text.output
    as_json = CliRunner().invoke(cli, [command, name, "--book", str(book), "--json"])
    data = json.loads(as_json.output)
    assert data["command"] == command and data["account"] == name and data["as_of"] == "2026-10-31"
    again = CliRunner().invoke(cli, [command, name, "--book", str(book), "--json", "--as-of", "2026-09-30"])
    assert json.loads(again.output)["as_of"] == "2026-09-30"


def test_play_sheet_written(book: Path, demo: csxl.DemoData) -> None:
    name = str(demo.accounts["account"].iloc[2])
    result = CliRunner().invoke(cli, ["risk", name, "--book", str(book), "--write"])
    assert result.exit_code == 0, result.output
    sheet = next(s for s in CalamineWorkbook.from_path(str(book)).sheet_names if s.startswith("csxl risk"))
    assert "Leading indicators" in str(_rows(book, sheet))


# ---------------------------------------------------------------------------------------------------- real engine


def test_refreshed_book_recalculates_in_libreoffice(built: Path, tmp_path: Path, demo: csxl.DemoData) -> None:
    require_soffice()
    out = recalculate(built, tmp_path)
    wb = openpyxl.load_workbook(out, data_only=True, read_only=True)
    errors = []
    for name in (layout.SHEET_ACCOUNTS, layout.SHEET_DASHBOARD, layout.SHEET_COHORTS, layout.SHEET_HISTORY):
        for row in wb[name].iter_rows(values_only=True):
            errors += [v for v in row if isinstance(v, str) and v.startswith("#") and v.endswith(("!", "?", "A"))]
    assert errors == []
    # the plain-cell simple points (computed by LibreOffice) match the core on every account
    ws = wb[layout.SHEET_ACCOUNTS]
    col = layout.ACCOUNTS.index("simple_points") - 1
    got = [r[col] for r in ws.iter_rows(min_row=3, max_row=2 + len(demo.accounts), values_only=True)]
    # the sentiment points read the NPS survey column the refresh wrote (it beats the typed NPS cell)
    want = core_scores(demo)["simple_points"].tolist()
    assert [None if g in (None, "") else float(g) for g in got] == [None if w != w else float(w) for w in want]


def test_refresh_reports_progress(book: Path) -> None:
    said: list[str] = []
    refresh(book, stamp_at=STAMP, progress=said.append)
    assert [m.split(" ")[0] for m in said] == ["reading", "scoring", "writing"]
    assert "120 accounts" in said[1]


# ---------------------------------------------------------------------------------------------------- Excel flavour


def test_excel_flavour_writes_live_formulas(tmp_path: Path, demo: csxl.DemoData) -> None:
    """The .xlsm gets live health cells (each row's element of the Live scores arrays: tests/test_live_arrays.py)
    and =NRR/=GRR on the Dashboard. The score array's call is computed here by calling the worksheet function
    (csxl.excel.functions, as Excel would through xlwings) on the block the formula names, and compared with
    csxl.score_accounts (independent path)."""
    import re

    from csxl.excel import functions as fx
    from csxl.excel.xlsm import build_xlsm

    path = build_xlsm(tmp_path / "live_book.xlsm", demo, as_of=AS_OF)
    parts = _xml(path)
    accounts_xml = parts[_sheet_part(path, layout.SHEET_ACCOUNTS)].decode()
    score_col, tier_col = layout.ACCOUNTS.letter("health_score"), layout.ACCOUNTS.letter("health_tier")
    for col, live in ((score_col, "A"), (tier_col, "B")):
        formulas = dict(re.findall(rf'<c r="({col}\d+)"[^>]*><f>([^<]*)</f>', accounts_xml))
        assert len(formulas) == len(demo.accounts)
        assert all(f"INDEX('{layout.SHEET_LIVE}'!${live}$5:" in text for text in formulas.values())
    live_xml = parts[_sheet_part(path, layout.SHEET_LIVE)].decode()
    call = re.search(r'<f t="array" ref="A5:A\d+">HEALTHSCORE\(tblAccounts\[\[(.+?)\]:\[(.+?)\]\],', live_xml)
    assert call is not None
    rows = _rows(path, layout.SHEET_ACCOUNTS)
    header = [str(h) for h in rows[layout.HEADER_ROW - 1]]
    lo, hi = header.index(call.group(1)), header.index(call.group(2))
    block = [
        [None if v == "" else v for v in row[lo : hi + 1]] for row in rows[layout.HEADER_ROW :][: len(demo.accounts)]
    ]
    got = fx.HEALTHSCORE(block)  # Settings weights are blank in a new workbook: the preset's
    expected = core_scores(demo).reset_index(drop=True)
    assert [g[0] for g in got] == pytest.approx(expected["health_score"].tolist(), rel=1e-12)
    dashboard = parts[_sheet_part(path, layout.SHEET_DASHBOARD)].decode()
    assert re.search(r"<f>NRR\(B\d+,D\d+,-E\d+,-F\d+\)</f>", dashboard)
    assert re.search(r"<f>GRR\(B\d+,-E\d+,-F\d+\)</f>", dashboard)
    # the plain flavour keeps values
    plain = tmp_path / "plain.xlsx"
    new_demo_workbook(plain, accounts=30)
    assert "<f>HEALTHSCORE" not in _xml(plain)[_sheet_part(plain, layout.SHEET_ACCOUNTS)].decode()


def test_a_workbook_with_the_old_history_sheet_is_migrated(tmp_path: Path) -> None:
    # A book made by csxl before the rename: the sheet is "History" (a name Excel reserves), a user's formula and a
    # defined name point at it. Refresh renames it "Health history", keeps its snapshots and follows the references.
    book = tmp_path / "old.xlsx"
    csxl_new = CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "20"])
    assert csxl_new.exit_code == 0, csxl_new.output
    wb = openpyxl.load_workbook(book)
    wb[layout.SHEET_HISTORY].title = "History"
    mine = wb.create_sheet("Mine")
    mine["A1"] = "=COUNTA(History!B:B)"
    mine["A2"] = "='History'!B3"
    wb.defined_names["my_first"] = openpyxl.workbook.defined_name.DefinedName("my_first", attr_text="History!$B$3")
    wb.save(book)
    before = len(_rows(book, "History"))
    result = refresh(book, as_of=dt.date(2026, 11, 7))
    after = openpyxl.load_workbook(book)
    assert "History" not in after.sheetnames and layout.SHEET_HISTORY in after.sheetnames
    assert after["Mine"]["A1"].value == "=COUNTA('Health history'!B:B)"
    assert after["Mine"]["A2"].value == "='Health history'!B3"
    assert after.defined_names["my_first"].attr_text == "'Health history'!$B$3"
    assert result.history_rows > before - 2  # the old snapshots are kept and this one merged in


def test_every_history_row_gets_the_first_rows_formats(tmp_path: Path) -> None:
    # the "History rows after the first in General format (78.9058333)", in a book an older csxl made (its
    # sheet still "History"): the migration rewrites the table whole, each column in its look (scores 0.0)
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "20"]).exit_code == 0
    wb = openpyxl.load_workbook(book)
    ws = wb[layout.SHEET_HISTORY]
    score = layout.HISTORY.index("health_score")
    first = ws.cell(3, score).number_format
    assert first != "General"
    for row in range(4, ws.max_row + 1):
        ws.cell(row, score)._style = StyleArray()  # no look at all (s="0"), as older csxl wrote these rows
    ws.title = "History"
    wb.save(book)
    refresh(book, as_of=dt.date(2026, 11, 7))
    after = openpyxl.load_workbook(book)[layout.SHEET_HISTORY]
    formats = {after.cell(row, score).number_format for row in range(3, after.max_row + 1)}
    assert formats == {first}


def _history_frame(dates: list[str], accounts: tuple[str, ...] = ("A", "B")) -> pd.DataFrame:
    rows = [(d, a, 70.0, "Healthy", 8.0, 1000.0) for d in dates for a in accounts]
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))


@pytest.mark.parametrize(
    ("as_of", "kept"),
    [
        # as of 2026-11-07: every snapshot from 2026-05-01 (six months before November) stays; before, the last of
        # each month: 2026-03-27 for March, 2026-04-24 for April
        ("2026-11-07", ["2026-03-27", "2026-04-24", "2026-05-01", "2026-05-08", "2026-10-30"]),
        # as of 2026-10-31 the cut is 2026-04-01: April's snapshots all stay
        ("2026-10-31", ["2026-03-27", "2026-04-03", "2026-04-24", "2026-05-01", "2026-05-08", "2026-10-30"]),
    ],
)
def test_history_retention(as_of: str, kept: list[str]) -> None:
    dates = ["2026-03-06", "2026-03-27", "2026-04-03", "2026-04-24", "2026-05-01", "2026-05-08", "2026-10-30"]
    history = normalise_history(_history_frame(dates))
    thinned = thin_history(history, dt.date.fromisoformat(as_of))
    assert sorted({d.date().isoformat() for d in thinned["as_of"]}) == kept
    assert thin_history(thinned, dt.date.fromisoformat(as_of)).equals(thinned)  # applying it twice changes nothing
    assert len(thinned) == 2 * len(kept)  # every account of a kept snapshot stays


def test_a_weekly_refresh_appends_its_snapshot_and_rewrites_nothing_else(tmp_path: Path) -> None:
    book = typed_demo_book(tmp_path / "book.xlsx", 30)  # its History: the eight demo weeks and the as-of date
    data = read_book(book)
    before = data.to_portfolio(dt.date(2026, 11, 7))
    plan, rows = plan_refresh(
        data.places, before, refreshed_at=dt.datetime(2026, 11, 7, 9), sheet_names=data.sheet_names
    )
    written = {
        b.top + i
        for b in plan.ops
        if isinstance(b, Block) and b.sheet == layout.SHEET_HISTORY
        for i in range(len(b.values))
    }
    snapshot = history_snapshot(before)
    old_rows = len(before.history)
    # only the new week's rows, right after the old ones (the demo's History is all within six months: nothing thinned)
    assert written == set(range(3 + old_rows, 3 + old_rows + len(snapshot)))
    assert rows == old_rows + len(snapshot)
    refresh(book, as_of=dt.date(2026, 11, 7))
    after = read_book(book).to_portfolio(dt.date(2026, 11, 7)).history
    expected = thin_history(merge_history(before.history, snapshot), dt.date(2026, 11, 7))
    pd.testing.assert_frame_equal(after, expected)
