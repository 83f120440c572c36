"""Imports into a workbook a founder has edited in a spreadsheet (the edits made by LibreOffice itself through UNO):
an inserted column, a moved column, a renamed heading. The imported values must land under their headings and no
cell of the founder's own may change."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from ooxml import problems
from test_user_edits import require_uno, uno_edit

from csxl.book.layout import ACCOUNTS
from csxl.book.read import read_book
from csxl.cli import cli

pytestmark = pytest.mark.slow


def test_events_and_invoices_land_under_their_headings_after_excel_edits(tmp_path: Path) -> None:
    require_uno()
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
    a, b = (str(n) for n in read_book(book).tables["Accounts"]["account"].iloc[:2])
    edited = uno_edit(
        book,
        tmp_path / "edited.xlsx",
        [
            # by the template's letters first, then the edits that shift them
            {"op": "set", "sheet": "Accounts", "cell": f"{ACCOUNTS.letter('seats_active')}2", "text": "Seats in use"},
            {"op": "move_column", "sheet": "Accounts", "from": ACCOUNTS.letter("dau_mau"), "to": "A"},
            {"op": "insert_columns", "sheet": "Accounts", "at": "B"},
            {"op": "set", "sheet": "Accounts", "cell": "B2", "text": "Plan"},
            *({"op": "set", "sheet": "Accounts", "cell": f"B{r}", "text": "Pro"} for r in range(3, 9)),
        ],
    )
    before = openpyxl.load_workbook(edited)["Accounts"]
    plan_cells = [before.cell(row=r, column=2).value for r in range(2, 9)]  # DAU/MAU in A, Plan in B
    assert plan_cells[0] == "Plan"

    events = tmp_path / "events.csv"
    events.write_text(
        "event,user_id,account,timestamp,event_id\n"
        + "".join(f"login,u{u},{a},2026-10-{d:02d} 09:00:00,{u}-{d}\n" for u in (1, 2) for d in (1, 8, 15, 22))
        + f"login,u3,{b},2026-10-27 09:00:00,b1\n",
        encoding="utf-8",
    )
    args = ["import", "events", str(events), "--book", str(edited), "--as-of", "2026-10-28", "--overwrite", "--json"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["missing_columns"] == ["seats_active"]  # renamed: not found, reported, not written
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "Invoice ID,Subscription,Customer Name,Amount,Currency,Period Start,Period End\n"
        "in_1,sub_1,Newco GmbH,600,usd,2026-10-01,2026-11-01\n",
        encoding="utf-8",
    )
    run = CliRunner().invoke(cli, ["import", "billing", str(lines), "--book", str(edited), "--as-of", "2026-10-31"])
    assert run.exit_code == 0, run.output

    data = read_book(edited)
    accounts = data.tables["Accounts"].set_index("account")
    # a: 2 users on 4 days each in the 28 days to 28 October: 8 user-days / 28 / 2 users; read back by heading
    assert float(accounts.loc[a, "dau_mau"]) == pytest.approx(8 / 28 / 2, abs=1e-12)
    assert float(accounts.loc[b, "dau_mau"]) == pytest.approx(1 / 28, abs=1e-12)
    after = openpyxl.load_workbook(edited)["Accounts"]
    assert after.cell(row=2, column=1).value == "DAU/MAU"  # the moved column stayed where the founder put it
    assert [after.cell(row=r, column=2).value for r in range(2, 9)] == plan_cells  # the founder's column untouched
    mrr = data.tables["MRR"]
    assert [float(v) for v in mrr[mrr["account"] == "Newco GmbH"]["mrr"]] == [600.0]
    assert problems(edited) == []
