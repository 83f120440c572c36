"""Subscription exports as they arrive (csxl.data.subscriptions): headings that vary, text in number cells, blanks.

Files are written here the way Stripe's Dashboard export and a generic billing CSV look (headings with ``(UTC)``,
amounts with currency signs, ISO timestamps); expected MRR is worked by hand beside each case (exact)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from ooxml import problems
from published import published

from csxl.billing import BillingRules, subscriptions_to_mrr
from csxl.book.read import read_book
from csxl.cli import EXIT_DATA, cli
from csxl.data.subscriptions import read_subscriptions
from csxl.errors import FileError, InputError

STRIPE = """id,Customer ID,Customer Name,Plan,Quantity,Interval,Amount,Currency,Status,Created (UTC),Start Date (UTC),Current Period End (UTC),Canceled At (UTC),Ended At (UTC),Cancel At Period End,Trial End (UTC),account (metadata)
sub_1,cus_1,Contoso Ltd,Pro,2,month,"$1,000.00",usd,active,2026-01-05 10:00,2026-01-05 10:00,2026-07-05 10:00,,,false,,Contoso
sub_2,cus_2,Fabrikam,Team,1,year,"12,000",usd,canceled,2026-02-01 09:00,2026-02-01 09:00,2027-02-01 09:00,2026-04-10 12:00,,true,,
sub_3,cus_3,Litware,Pro,1,month,500,usd,active,2026-03-01,2026-03-01,2026-07-01,,,false,2026-04-15,
sub_4,cus_4,Bad Corp,Pro,1,fortnight,abc,usd,active,2026-03-01,2026-03-01,,,,false,,
"""  # noqa: E501

GENERIC = """plan_id,plan_name,currency,amount_in_cents,interval,interval_count,customer_id,customer_name,subscription_id,started_at,canceled_at,quantity
p1,Basic,EUR,9900,month,1,c9,Northwind,s9,2026-01-15,2026-05-20,1
p2,Annual,EUR,120000,year,1,c8,Tailspin,s8,2026-02-10,,
p3,Half,EUR,30000,month,6,c7,Wingtip,s7,not a date,,1
"""  # noqa: E501


def test_a_stripe_export_is_read_by_heading_with_every_bad_cell_reported(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.csv"
    path.write_text(STRIPE, encoding="utf-8")
    read = read_subscriptions([path])
    assert read.rows_read == {"subscriptions.csv": 4} and read.rows_used == 3
    # the bad row: its interval and its amount, both reported on line 5, the row left out
    assert [(i.row, i.column, i.value) for i in read.issues] == [(5, "Interval", "fortnight"), (5, "Amount", "abc")]
    assert all(i.effect == "row left out" for i in read.issues)
    by_id = read.frame.set_index("subscription_id")
    assert by_id.loc["sub_1", "account"] == "Contoso"  # account (metadata) beats the customer name
    assert by_id.loc["sub_2", "account"] == "Fabrikam"  # no metadata: the customer name
    assert by_id.loc["sub_1", "amount"] == 1000.0  # "$1,000.00"
    mrr = subscriptions_to_mrr(read.frame, dt.date(2026, 6, 30))
    got = {(r.account, f"{r.month:%Y-%m}"): r.mrr for r in mrr.itertuples()}
    # Contoso: 2 x 1,000 = 2,000 from January; Fabrikam: 12,000 / 12 = 1,000, cancelled on 10 April at period end
    # 2027-02-01, so still paid for at every month end to June; Litware: 500 from the April month end (trial: 15 April)
    assert got[("Contoso", "2026-01")] == 2000.0 and got[("Contoso", "2026-06")] == 2000.0
    assert got[("Fabrikam", "2026-02")] == 1000.0 and got[("Fabrikam", "2026-06")] == 1000.0
    assert ("Litware", "2026-03") not in got and got[("Litware", "2026-04")] == 500.0


def test_a_generic_billing_csv_in_cents(tmp_path: Path) -> None:
    path = tmp_path / "billing.csv"
    path.write_text(GENERIC, encoding="utf-8")
    read = read_subscriptions([path], currency="EUR")
    assert [(i.row, i.column, i.value) for i in read.issues] == [(4, "started_at", "not a date")]
    mrr = subscriptions_to_mrr(read.frame, dt.date(2026, 6, 30), BillingRules(currency="EUR"))
    got = {(r.account, f"{r.month:%Y-%m}"): r.mrr for r in mrr.itertuples()}
    # Northwind 9900 cents = 99 a month, January to April (cancelled on 20 May); Tailspin 1,200 a year = 100
    assert got[("Northwind", "2026-04")] == 99.0 and ("Northwind", "2026-05") not in got
    assert got[("Tailspin", "2026-02")] == 100.0


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("name,price\nA,1\n", InputError, "interval"),  # no interval column: which columns are missing, said
        (None, FileError, "no such file"),
    ],
)
def test_files_that_cannot_be_imported(tmp_path: Path, text: str | None, error: type[Exception], match: str) -> None:
    path = tmp_path / "x.csv"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(error, match=match):
        read_subscriptions([path])


def _demo(tmp_path: Path) -> tuple[Path, list[str]]:
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
    names = [str(n) for n in read_book(book).tables["Accounts"]["account"]]
    return book, names


def _mrr_rows(book: Path) -> dict[tuple[str, str], list[float]]:
    table = read_book(book).tables["MRR"]
    out: dict[tuple[str, str], list[float]] = {}
    for account, month, mrr in table[["account", "month", "mrr"]].itertuples(index=False, name=None):
        out.setdefault((str(account), f"{pd.Timestamp(month):%Y-%m}"), []).append(float(mrr))
    return out


def test_csxl_import_billing_adds_months_keeps_typed_ones_and_refreshes(tmp_path: Path) -> None:
    book, names = _demo(tmp_path)
    typed = _mrr_rows(book)
    first = names[0]
    export = tmp_path / "subscriptions.csv"
    export.write_text(
        "id,Customer Name,Interval,Amount,Currency,Start Date (UTC),Canceled At (UTC)\n"
        f"sub_a,{first.upper()},month,700,usd,2026-09-03,\n"  # an existing account, spelled otherwise
        "sub_b,Newco GmbH,year,2400,usd,2026-08-20,\n"  # not on Accounts: imported, reported
        "sub_c,Broken,month,seven,usd,2026-08-20,\n",  # a bad amount: rejected, reported
        encoding="utf-8",
    )
    run = CliRunner().invoke(cli, ["import", "billing", str(export), "--book", str(book), "--as-of", "2026-10-31"])
    assert run.exit_code == EXIT_DATA, run.output  # a row was rejected (--no-strict: 0)
    assert "subscriptions.csv row 4, Amount: must be a number, got 'seven' (row left out)" in run.output
    assert "Newco GmbH" in run.output
    after = _mrr_rows(book)
    # Newco: 2,400 a year = 200 a month at the August, September and October month ends, appended
    assert [after[("Newco GmbH", m)] for m in ("2026-08", "2026-09", "2026-10")] == [[200.0]] * 3
    # the existing account: its typed months are kept (never overwritten without --overwrite), none added twice
    for key in [k for k in after if k[0] == first]:
        assert after[key] == typed[key]
    assert read_book(book).tables["MRR"].shape[0] == sum(len(v) for v in typed.values()) + 3
    assert problems(book) == []  # the written workbook is valid ECMA-376
    # the MRR explained sheet names the subscription behind each movement: Newco's sub_b started in August
    import openpyxl

    ws = openpyxl.load_workbook(book)["MRR explained"]
    lines = [[c.value for c in row[:5]] for row in ws.iter_rows(min_row=1)]
    assert ["Newco GmbH", "2026-08", "sub_b", 200, "started"] in lines

    run = CliRunner().invoke(
        cli, ["import", "billing", str(export), "--book", str(book), "--as-of", "2026-10-31", "--overwrite", "--json",
              "--no-strict"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    report = published("import-billing", run.output)
    assert report["rows_read"] == {"subscriptions.csv": 3} and report["rows_used"] == 2
    assert report["appended"] == 0 and report["overwritten"] >= 2  # September and October of the first account
    after = _mrr_rows(book)
    assert after[(first, "2026-09")] == [700.0] and after[(first, "2026-10")] == [700.0]


def _ts(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc).timestamp())


#: The same two subscriptions in the shape of Stripe's API before 2025-03-31 (current period and discount on the
#: subscription) and after it (current period on each item, ``discounts`` a list). Amounts in cents.
BEFORE = {
    "object": "list",
    "data": [
        {
            "id": "sub_1", "object": "subscription", "customer": {"id": "cus_1", "name": "Contoso"},
            "status": "active", "start_date": _ts("2026-01-10"), "current_period_end": _ts("2026-07-10"),
            "cancel_at_period_end": False, "canceled_at": None, "ended_at": None, "trial_end": None,
            "discount": {"coupon": {"percent_off": 25, "amount_off": None}, "end": None},
            "items": {"data": [{"price": {"unit_amount": 12000, "currency": "usd",
                                          "recurring": {"interval": "year", "interval_count": 1}}, "quantity": 3}]},
            "metadata": {},
        },
        {
            "id": "sub_2", "object": "subscription", "customer": "cus_2", "status": "canceled",
            "start_date": _ts("2026-02-01"), "current_period_end": _ts("2026-05-01"), "cancel_at_period_end": True,
            "canceled_at": _ts("2026-04-03"), "ended_at": None, "trial_end": None, "discount": None,
            "items": {"data": [{"price": {"unit_amount": 5000, "currency": "usd",
                                          "recurring": {"interval": "month", "interval_count": 1}}, "quantity": 1}]},
            "metadata": {"account": "Fabrikam"},
        },
    ],
}  # fmt: skip


def _after(shape: dict[str, Any]) -> dict[str, Any]:
    subs = []
    for sub in shape["data"]:
        moved = {k: v for k, v in sub.items() if k not in ("current_period_end", "discount")}
        moved["discounts"] = [sub["discount"]] if sub["discount"] else []
        moved["items"] = {"data": [{**item, "current_period_end": sub["current_period_end"]}
                                   for item in sub["items"]["data"]]}  # fmt: skip
        subs.append(moved)
    return {"object": "list", "data": subs}


@pytest.mark.parametrize("shape", ["before 2025-03-31", "after 2025-03-31"])
def test_stripe_api_lists_in_both_shapes_give_the_same_mrr(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "subscriptions.json"
    path.write_text(json.dumps(BEFORE if shape.startswith("before") else _after(BEFORE)), encoding="utf-8")
    read = read_subscriptions([path])
    assert read.issues == []
    got = {(r.account, f"{r.month:%Y-%m}"): r.mrr for r in subscriptions_to_mrr(read.frame, dt.date(2026, 6, 30))
           .itertuples()}  # fmt: skip
    # Contoso: 3 seats x 120.00 a year = 360 / 12 = 30 a month, 25 % off for good: 22.50, January to June
    assert got[("Contoso", "2026-01")] == 22.5 and got[("Contoso", "2026-06")] == 22.5
    # Fabrikam (metadata account): 50 a month from February; cancelled 3 April at the period end 1 May: to April
    assert [got.get(("Fabrikam", m)) for m in ("2026-02", "2026-04", "2026-05")] == [50.0, 50.0, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-10", "2026-01-10"),
        ("2026-01-10 14:22", "2026-01-10"),
        ("2026-01-10T23:30:00-05:00", "2026-01-11"),  # converted to UTC first
        ("10 Jan 2026", "2026-01-10"),
        ("Jan 10, 2026", "2026-01-10"),
        ("01/10/2026", None),  # 1 October or 10 January: a guess, refused
        ("31/12/2026", None),  # unambiguous, but numbers-only day-month orders are refused as one rule
        ("2026-13-01", None),
    ],
)
def test_dates_in_exports_follow_the_workbook_rule(text: str, expected: str | None) -> None:
    from csxl.cells import BAD
    from csxl.data.files import read_date

    got = read_date(text)
    assert (None if got is BAD else f"{got:%Y-%m-%d}") == expected
