"""Help-desk exports (csxl import tickets): Zendesk's ticket export and Intercom's conversations, counted by hand.

As of 2026-10-30: the last 30 days are 2026-10-01 .. 2026-10-30 (ages 0-29), the 30 before 2026-09-01 .. 09-30."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from ooxml import problems
from published import published

from csxl.book.read import read_book
from csxl.cli import cli
from csxl.data.tickets import read_tickets
from csxl.errors import InputError

AS_OF = dt.date(2026, 10, 30)

ZENDESK = """Id,Subject,Status,Priority,Tags,Organization,Created at,Satisfaction Score,Replies,First reply time in minutes,Full resolution time in minutes
1,Cannot log in,solved,urgent,login,Contoso,2026-10-02 09:00,Good,1,30,120
2,Export fails,solved,normal,escalated_tier2,Contoso,2026-10-05 11:00,Bad,3,300,3000
3,Question,open,low,,Contoso,2026-10-20 15:00,Unoffered,,90,
4,Old issue,solved,normal,,Contoso,2026-09-10 08:00,,1,10,20
5,Billing,solved,normal,,Fabrikam,2026-09-03 10:00,,1,10,20
6,Billing 2,solved,normal,,Fabrikam,2026-09-12 10:00,,1,10,20
7,Billing 3,solved,normal,,Fabrikam,2026-09-25 10:00,,1,10,20
8,Future,new,normal,,Fabrikam,2026-11-02 10:00,,,,
9,No org,new,normal,,,2026-10-03 10:00,,,,
"""  # noqa: E501


def test_zendesk_figures_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(ZENDESK, encoding="utf-8")
    read = read_tickets([path], AS_OF)
    assert (read.rows_read, read.rows_used) == (9, 7)  # ticket 8 after the as-of date, ticket 9 without organisation
    c = read.figures.set_index("account").loc["Contoso"]
    assert (c["tickets_30d"], c["tickets_prev_30d"], c["escalations"]) == (3, 1, 2)  # urgent #1, tag escalated #2
    assert c["first_response_hours"] == pytest.approx(90 / 60, abs=1e-12)  # median of 30, 300, 90 minutes
    assert c["resolution_hours"] == pytest.approx((120 + 3000) / 2 / 60, abs=1e-12)  # median of 120 and 3000
    assert c["first_contact_resolution"] == pytest.approx(1 / 2, abs=1e-12)  # #1 one reply and solved; #2 three
    assert c["csat"] == pytest.approx(1 / 2, abs=1e-12)  # one good, one bad; "Unoffered" is not a rating
    assert not c["spike_then_silence"]
    f = read.figures.set_index("account").loc["Fabrikam"]
    assert (f["tickets_30d"], f["tickets_prev_30d"]) == (0, 3) and f["spike_then_silence"]  # 3 in September, none since


def test_help_desk_kpis_by_hand_against_the_spec_targets(tmp_path: Path) -> None:
    """Ticket level, the last 30 days: tickets 1, 2, 3 (Contoso; Fabrikam had none). Agent spec "Support KPIs and
    targets": first response < 4 h, resolution < 24 h, first-contact resolution > 70 %, CSAT > 90 %, escalation
    < 20 %."""
    from csxl.book.imports import support_sheet_plan
    from csxl.book.plan import Block

    path = tmp_path / "tickets.csv"
    path.write_text(ZENDESK, encoding="utf-8")
    kpis = read_tickets([path], AS_OF).kpis
    assert kpis["tickets"] == 3
    assert kpis["first_response_hours"] == pytest.approx(1.5)  # median of 30, 300, 90 minutes
    assert kpis["resolution_hours"] == pytest.approx(26.0)  # median of 120 and 3000 minutes (#3 is open)
    assert kpis["first_contact_resolution"] == pytest.approx(0.5)  # of #1 and #2 (replies counted): #1
    assert kpis["escalation_rate"] == pytest.approx(2 / 3)  # #1 urgent, #2 tagged escalated
    assert kpis["csat"] == pytest.approx(0.5)
    read = read_tickets([path], AS_OF)
    plan = support_sheet_plan(read.figures, as_of=AS_OF, source="tickets.csv", kpis=read.kpis)
    lines = [list(b.values[0]) for b in plan.ops if isinstance(b, Block)]
    met = {str(line[0]): line[3] for line in lines if len(line) == 4 and line[3] in ("yes", "no")}
    assert met == {"First response (median, hours)": "yes", "Resolution (median, hours)": "no",
                   "First-contact resolution": "no", "Support CSAT": "no", "Escalation rate": "no"}  # fmt: skip


def test_intercom_conversations_use_their_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "conversations.csv"
    path.write_text(
        "id,company,created_at,first_response_at,closed_at\n"
        "c1,Contoso,2026-10-10T10:00:00Z,2026-10-10T12:30:00Z,2026-10-11T10:00:00Z\n",
        encoding="utf-8",
    )
    c = read_tickets([path], AS_OF).figures.set_index("account").loc["Contoso"]
    assert c["first_response_hours"] == pytest.approx(2.5, abs=1e-12) and c["resolution_hours"] == pytest.approx(24.0)


def test_a_file_without_an_organisation_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,created at\n1,2026-10-01\n", encoding="utf-8")
    with pytest.raises(InputError, match="organisation"):
        read_tickets([path], AS_OF)


def test_csxl_import_tickets_writes_counts_and_the_support_sheet(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
    a, b = (str(n) for n in read_book(book).tables["Accounts"]["account"].iloc[:2])
    path = tmp_path / "tickets.csv"
    path.write_text(ZENDESK.replace("Contoso", a).replace("Fabrikam", b), encoding="utf-8")
    args = ["import", "tickets", str(path), "--book", str(book), "--as-of", "2026-10-30", "--overwrite", "--json"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert published("import-tickets", run.output)["cells_written"] == 2
    data = read_book(book)
    accounts = data.tables["Accounts"].set_index("account")
    assert int(accounts.loc[a, "support_tickets_30d"]) == 3 and int(accounts.loc[b, "support_tickets_30d"]) == 0
    assert "Support" in data.sheet_names
    assert problems(book) == []
