"""History from day one (csxl.backfill, ``csxl backfill``): snapshots for the past month ends the imported series
cover, scored from what was known at each. Expected values are worked by hand beside each case (exact)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from books import typed_demo_book
from click.testing import CliRunner
from ooxml import problems
from published import published

from csxl.backfill import KEPT, backfill_months, past_accounts
from csxl.book.archive import archive_path
from csxl.book.read import read_book
from csxl.cli import cli


@pytest.mark.parametrize(
    ("months", "as_of", "existing", "limit", "expected"),
    [
        ([], dt.date(2026, 6, 15), [], None, []),  # no series: nothing to backfill
        # series from January, as of mid June: the ends of January .. May (June has not ended)
        (["2026-01-01", "2026-03-01"], dt.date(2026, 6, 15), [], None, ["01-31", "02-28", "03-31", "04-30", "05-31"]),
        # History begins 10 April: only the month ends before it
        (["2026-01-01"], dt.date(2026, 6, 15), ["2026-04-10", "2026-05-31"], None, ["01-31", "02-28", "03-31"]),
        (["2026-01-01"], dt.date(2026, 6, 15), [], 2, ["04-30", "05-31"]),  # the latest two
        (["2026-06-01"], dt.date(2026, 6, 15), [], None, []),  # the series starts in the as-of month
    ],
)
def test_backfill_months(
    months: list[str], as_of: dt.date, existing: list[str], limit: int | None, expected: list[str]
) -> None:
    got = backfill_months(months, as_of, pd.to_datetime(existing), limit)
    assert [f"{d:%m-%d}" for d in got] == expected


ACCOUNTS = pd.DataFrame(
    {
        "account": ["Contoso", "Fabrikam", "Litware"],
        "segment": ["smb", "enterprise", "smb"],
        "arr": [12000.0, 90000.0, 5000.0],
        "csm": ["Ana", "Dev", "Ana"],
        "dau_mau": [0.5, 0.4, 0.3],
        "logins_per_week": [5.0, 4.0, 3.0],
        "core_actions_weekly": [9.0, 2.0, 1.0],
        "payment_status": ["current", "late", "current"],
        "champion": ["Jo", "Kim", None],
        "nps": [9, 3, 7],
        "usage_trend": ["up", "down", "flat"],
        "login_trend": ["up", "up", "up"],
    }
)

# Contoso: 4 users in May (DAU/MAU 0.25, 40 logins), 2 in June (0.5, 10 logins); Fabrikam: events in May only
USAGE = pd.DataFrame(
    {
        "account": ["Contoso", "Contoso", "Fabrikam"],
        "month": pd.to_datetime(["2026-05-01", "2026-06-01", "2026-05-01"]),
        "active_users": [4, 2, 3],
        "dau_mau": [0.25, 0.5, 0.2],
        "logins": [40, 10, 12],
        "logins_per_user_week": [2.33, 1.17, 0.93],
        "core_actions_per_week": [7.0, 1.5, 0.0],
        "features_used": [3, 1, 2],
    }
)

SURVEYS = pd.DataFrame(
    {
        "account": ["Contoso", "Contoso", "Fabrikam"],
        "date": pd.to_datetime(["2026-04-02", "2026-06-20", "2026-07-01"]),
        "kind": ["NPS", "nps", "NPS"],
        "score": [6, 10, 2],
    }
)


def test_past_accounts_at_the_end_of_june() -> None:
    row = past_accounts(ACCOUNTS, USAGE, SURVEYS, dt.date(2026, 6, 30)).set_index("account")
    c, f, lw = row.loc["Contoso"], row.loc["Fabrikam"], row.loc["Litware"]
    # June's usage row: DAU/MAU 0.5, 1.17 logins per user per week, 1.5 core actions, 1 feature, 2 active users
    assert (c["dau_mau"], c["logins_per_week"], c["core_actions_weekly"]) == (0.5, 1.17, 1.5)
    # average daily users: May 0.25 x 4 = 1, June 0.5 x 2 = 1: +0 % is flat (not above 0)
    assert c["usage_trend"] == "flat"
    assert c["login_trend"] == "down"  # logins 10 in June against 40 in May: -75 %, below the -30 % cut-off
    # NPS: the last answer on or before 30 June is 20 June's 10
    assert c["nps"] == 10
    # Fabrikam had events in May and none in June: measured inactive (zeros); its trend: a fall of 100 % -> down
    assert (f["dau_mau"], f["logins_per_week"]) == (0.0, 0.0) and f["usage_trend"] == "down"
    assert f["nps"] is None  # its only answer is dated 1 July
    assert lw["dau_mau"] is None and lw["usage_trend"] is None  # never in the usage data: unknown, not zero
    # observed now, not then: blank; attributes kept; ARR blank (MRR x 12 decides a past month's ARR)
    assert row["payment_status"].isna().all() and row["champion"].isna().all() and row["arr"].isna().all()
    assert c["segment"] == "smb" and c["csm"] == "Ana" and "arr" not in KEPT


def test_past_accounts_without_series_keeps_only_attributes() -> None:
    row = past_accounts(ACCOUNTS, None, None, dt.date(2026, 3, 31))
    kept = [c for c in ACCOUNTS.columns if c in KEPT]
    assert row[kept].equals(ACCOUNTS[kept].astype(object))
    assert row.drop(columns=kept).isna().all().all()


def _events(a: str, b: str) -> str:
    """Account a: two users log in on 10 days in June 2026 and not at all in July; account b: July only."""
    lines = ["event,user_id,account,timestamp,event_id"]
    lines += [f"login,u{k},{a},2026-06-{d:02d} 09:00:00,a{k}{d}" for k in (1, 2) for d in range(1, 11)]
    lines += [f"login,u3,{b},2026-07-{d:02d} 09:00:00,b{d}" for d in range(1, 21)]
    return "\n".join(lines) + "\n"


def test_csxl_backfill_fills_the_months_before_history(tmp_path: Path) -> None:
    book = typed_demo_book(tmp_path / "book.xlsx", 6)  # History: the demo weeks only, nothing backfilled yet
    a, b = (str(n) for n in read_book(book).tables["Accounts"]["account"].iloc[:2])
    events = tmp_path / "events.csv"
    events.write_text(_events(a, b), encoding="utf-8")
    run = CliRunner().invoke(cli, ["import", "events", str(events), "--book", str(book), "--as-of", "2026-07-31"])
    assert run.exit_code == 0, run.output
    first_weekly = read_book(book).to_portfolio().history["as_of"].min()  # History as refreshes wrote it
    assert first_weekly == pd.Timestamp("2026-07-31")

    run = CliRunner().invoke(cli, ["backfill", "--book", str(book), "--json"])
    assert run.exit_code == 0, run.output
    report = published("backfill", run.output)
    mrr = read_book(book).tables["MRR"]
    mrr_months = pd.to_datetime(mrr["month"]).dt.to_period("M")
    first = mrr_months.min()
    expected = [p.end_time.date().isoformat() for p in pd.period_range(first, "2026-12", freq="M")]
    expected = [d for d in expected if pd.Timestamp(d) < first_weekly]
    assert report["months"] == expected and report["rows"] > 0  # every month end before the weekly History

    history = read_book(book).to_portfolio().history
    assert archive_path(book).exists()  # the older months live in the archive beside the workbook
    assert history["as_of"].is_monotonic_increasing
    # a past snapshot's ARR is 12 x the account's MRR that month (the MRR table), not today's typed ARR
    june = history[history["as_of"] == pd.Timestamp("2026-06-30")].set_index("account")
    rows = mrr[(mrr_months == pd.Period("2026-06")) & (mrr["account"] == a)]
    assert float(june.loc[a, "arr"]) == pytest.approx(12 * pd.to_numeric(rows["mrr"]).sum(), abs=1e-9)
    # an account is in a month's snapshot only when it had MRR that month
    for date, snap in history[history["as_of"] < first_weekly].groupby("as_of"):
        month = pd.Timestamp(date).to_period("M")
        paying = set(mrr.loc[(mrr_months == month) & (pd.to_numeric(mrr["mrr"]) > 0), "account"].astype(str))
        assert set(snap["account"]) <= paying, date

    again = CliRunner().invoke(cli, ["backfill", "--book", str(book), "--json"])
    assert json.loads(again.output)["months"] == []  # nothing twice
    assert read_book(book).to_portfolio().history.equals(history)
    assert problems(book) == []
