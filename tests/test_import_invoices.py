"""Invoices -> MRR (csxl.billing.invoice_lines_to_mrr, csxl.data.invoices, ``csxl import billing`` with invoices).

Expected MRR is worked by hand beside each case. Sources of the worked examples:

* ChartMogul, "How MRR is calculated from prorated invoices" (dev.chartmogul.com/docs/
  how-mrr-is-calculated-from-prorated-invoices): MRR = amount (after discounts, before tax) x the plan interval
  normalised to a month ("$90 for a 3 month plan ... MRR will be $30") x the prorate factor (full period over the
  prorated period).
* ChartMogul, "MRR movements" (help.chartmogul.com/hc/en-us/articles/201244842): Syncalytics buys four Gold yearly
  plans for $2,000 (MRR $166.67), adds two Silver monthly plans for $60 (expansion), cancels them (contraction).
* A Stripe upgrade mid-period: Stripe's proration credits the unused time of the old price and charges the new price
  for the rest of the period, both as lines for that part of the period, rounded to the cent.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from ooxml import problems

from csxl.billing import (
    BillingRules,
    explain_invoice_mrr,
    invoice_lines_to_mrr,
    service_months,
    subscriptions_to_mrr,
)
from csxl.book.read import read_book
from csxl.cli import EXIT_DATA, cli
from csxl.data.invoices import is_invoice_file, read_invoice_lines
from csxl.errors import InputError

AS_OF = dt.date(2026, 6, 30)


def _lines(*rows: tuple[str, str, float, str, str], currency: str = "USD") -> pd.DataFrame:
    """(invoice, subscription, amount, period start, period end) rows of one account."""
    return pd.DataFrame(
        {
            "invoice_id": [r[0] for r in rows],
            "subscription_id": [r[1] for r in rows],
            "account": "Contoso",
            "currency": currency,
            "amount": [r[2] for r in rows],
            "period_start": pd.to_datetime([r[3] for r in rows], format="ISO8601"),
            "period_end": pd.to_datetime([r[4] for r in rows], format="ISO8601"),
        }
    )


def _by_month(rows: pd.DataFrame) -> dict[str, float]:
    return {f"{m:%Y-%m}": round(float(v), 4) for m, v in zip(rows["month"], rows["mrr"], strict=True)}


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2026-01-15", "2026-02-15", 1.0),  # one calendar month
        ("2026-01-31", "2026-02-28", 1.0),  # to the same day, clipped to February's last
        ("2026-01-01", "2027-01-01", 12.0),  # a year
        ("2026-01-15", "2026-02-01", 17 / 31),  # 17 of January's 31 days
        ("2026-02-15 10:00", "2026-03-01 10:00", 14 / 28),  # 14 of February's 28 days (times kept)
        ("2026-01-10", "2026-01-10", 0.0),  # no service period
    ],
)
def test_service_months(start: str, end: str, months: float) -> None:
    got = service_months(pd.Series(pd.to_datetime([start])), pd.Series(pd.to_datetime([end])))
    assert got.iloc[0] == pytest.approx(months, abs=1e-12)


CASES: list[tuple[str, pd.DataFrame, dict[str, float]]] = [
    (
        # monthly lines: each month end covered by that month's line; no line for June: churned after May
        "monthly, then no renewal",
        _lines(*[(f"in_{m}", "sub_1", 100.0, f"2026-0{m}-01", f"2026-0{m + 1}-01") for m in (3, 4, 5)]),
        {"2026-03": 100.0, "2026-04": 100.0, "2026-05": 100.0},
    ),
    (
        # an annual invoice of 1,200 from 15 Jan: 100 at every month end to the as-of month
        "annual",
        _lines(("in_1", "sub_1", 1200.0, "2026-01-15", "2027-01-15")),
        {f"2026-0{m}": 100.0 for m in range(1, 7)},
    ),
    (
        # ChartMogul: "$90 for a 3 month plan ... MRR will be $30"
        "quarterly",
        _lines(("in_1", "sub_1", 90.0, "2026-04-01", "2026-07-01")),
        {"2026-04": 30.0, "2026-05": 30.0, "2026-06": 30.0},
    ),
    (
        # upgrade on 15 Jan from 100 to 200 a month: credit -100 x 17/31 = -54.84, charge 200 x 17/31 = 109.68 (to the
        # cent); January's end: 100 + (109.68 - 54.84) / (17/31) = 200.0024 (the cents); then 200 a month
        "proration upgrade",
        _lines(
            ("in_1", "sub_1", 100.0, "2026-01-01", "2026-02-01"),
            ("in_2", "sub_1", -54.84, "2026-01-15", "2026-02-01"),
            ("in_2", "sub_1", 109.68, "2026-01-15", "2026-02-01"),
            ("in_3", "sub_1", 200.0, "2026-02-01", "2026-03-01"),
        ),
        {"2026-01": round(100 + (109.68 - 54.84) / (17 / 31), 4), "2026-02": 200.0},
    ),
    (
        # ChartMogul's Syncalytics: four Gold yearly for 2,000 (166.67), two Silver monthly for 60 a few days later
        # (expansion to 226.67), Silver cancelled mid-cycle: it ends with its paid period (contraction to 166.67)
        "Syncalytics",
        _lines(
            ("in_1", "sub_gold", 2000.0, "2026-01-05", "2027-01-05"),
            ("in_2", "sub_silver", 60.0, "2026-01-09", "2026-02-09"),
            ("in_3", "sub_silver", 60.0, "2026-02-09", "2026-03-09"),
        ),
        {"2026-01": 226.6667, "2026-02": 226.6667} | {f"2026-0{m}": 166.6667 for m in range(3, 7)},
    ),
    (
        # the as-of month counts the lines covering the as-of day: a line to 20 June is over by 30 June
        "ends before the as-of day",
        _lines(("in_1", "sub_1", 50.0, "2026-05-20", "2026-06-20")),
        {"2026-05": 50.0},
    ),
    (
        # a line starting after the as-of date is not MRR yet
        "future",
        _lines(("in_1", "sub_1", 50.0, "2026-07-01", "2026-08-01")),
        {},
    ),
]


@pytest.mark.parametrize(("name", "lines", "expected"), CASES, ids=[c[0] for c in CASES])
def test_invoice_lines_to_mrr_by_hand(name: str, lines: pd.DataFrame, expected: dict[str, float]) -> None:
    assert _by_month(invoice_lines_to_mrr(lines, AS_OF)) == expected


def test_the_as_of_day_inside_a_month() -> None:
    """As of 15 October, a line 20 Sep - 20 Oct covers today: October's MRR is 50 (the month has not ended)."""
    lines = _lines(("in_1", "sub_1", 50.0, "2026-09-20", "2026-10-20"))
    assert _by_month(invoice_lines_to_mrr(lines, dt.date(2026, 10, 15))) == {"2026-09": 50.0, "2026-10": 50.0}
    assert _by_month(invoice_lines_to_mrr(lines, dt.date(2026, 10, 25))) == {"2026-09": 50.0}


def test_other_currencies_at_the_rate_and_a_missing_rate_is_refused() -> None:
    lines = _lines(("in_1", "sub_1", 120.0, "2026-06-01", "2026-07-01"), currency="EUR")
    rows = invoice_lines_to_mrr(lines, AS_OF, BillingRules(currency="USD", rates={"EUR": 1.08}))
    assert _by_month(rows) == {"2026-06": round(120 * 1.08, 4)}
    with pytest.raises(InputError, match="EUR"):
        invoice_lines_to_mrr(lines, AS_OF, BillingRules(currency="USD"))


def test_the_same_subscription_as_subscription_or_as_invoices_gives_the_same_mrr() -> None:
    """A 300-a-month subscription from 10 Jan cancelled at the end of its April period, and its four monthly invoices:
    the MRR rows are the same (both: active at the end of January to April)."""
    subs = pd.DataFrame(
        [{"subscription_id": "sub_1", "account": "Contoso", "currency": "USD", "amount": 300.0, "interval": "month",
          "interval_count": 1, "quantity": 1, "percent_off": None, "amount_off": None, "discount_end": None,
          "started_at": pd.Timestamp("2026-01-10"), "trial_end": None, "canceled_at": pd.Timestamp("2026-04-20"),
          "period_end": pd.Timestamp("2026-05-10"), "cancel_at_period_end": True, "status": "active"}]
    )  # fmt: skip
    lines = _lines(*[(f"in_{m}", "sub_1", 300.0, f"2026-0{m}-10", f"2026-0{m + 1}-10") for m in (1, 2, 3, 4)])
    from_subs = subscriptions_to_mrr(subs, AS_OF)
    from_lines = invoice_lines_to_mrr(lines, AS_OF)
    pd.testing.assert_frame_equal(from_subs.reset_index(drop=True), from_lines.reset_index(drop=True))


def test_explained_changes_name_the_invoice_and_sum_to_the_movements() -> None:
    lines = CASES[3][1]  # the proration upgrade
    explained = explain_invoice_mrr(lines, AS_OF)
    assert explained["reason"].tolist() == ["started", "invoice in_3", "ended"]
    months = pd.date_range("2026-01-01", "2026-06-01", freq="MS")
    rows = invoice_lines_to_mrr(lines, AS_OF).set_index("month")["mrr"].reindex(months, fill_value=0.0)
    movements = rows - rows.shift(1, fill_value=0.0)  # each month's MRR minus the month before's
    by_month = explained.groupby("month")["change"].sum().reindex(months, fill_value=0.0)
    assert by_month.to_numpy() == pytest.approx(movements.to_numpy(), abs=1e-9)


STRIPE_LINES = """Invoice ID,Line Item ID,Subscription,Customer,Customer Name,Amount,Discount Amount,Currency,Period Start (UTC),Period End (UTC),Invoice Status,Proration
in_1,il_1,sub_1,cus_1,Contoso Ltd,"$1,200.00",200,usd,2026-01-15 10:00,2027-01-15 10:00,paid,false
in_2,il_2,sub_2,cus_2,Fabrikam,300,,usd,2026-05-01,2026-06-01,paid,false
in_3,il_3,sub_2,cus_2,Fabrikam,300,,usd,2026-06-01,2026-07-01,void,false
in_4,il_4,,cus_3,Litware,99,,usd,,,paid,false
in_5,il_5,sub_5,cus_5,Bad Corp,abc,,usd,2026-05-01,someday,open,false
"""  # noqa: E501


def test_a_stripe_line_items_export_read_by_heading_with_bad_cells_reported(tmp_path: Path) -> None:
    path = tmp_path / "invoice_lines.csv"
    path.write_text(STRIPE_LINES, encoding="utf-8")
    assert is_invoice_file(path)
    read = read_invoice_lines([path])
    # in_3 is void, in_4 has no service period (a one-off charge): skipped, not errors; in_5: two bad cells
    assert read.skipped == 2 and read.rows_read == {"invoice_lines.csv": 5} and read.rows_used == 2
    assert [(i.row, i.column, i.value) for i in read.issues] == [
        (6, "Amount", "abc"),
        (6, "Period End (UTC)", "someday"),
    ]
    rows = invoice_lines_to_mrr(read.frame, AS_OF)
    # Contoso: (1,200 - 200 discount) / 12 = 83.3333 from January; Fabrikam: 300 in May, June's invoice is void
    contoso = _by_month(rows[rows["account"] == "Contoso Ltd"])
    assert contoso == {f"2026-0{m}": 83.3333 for m in range(1, 7)}
    assert _by_month(rows[rows["account"] == "Fabrikam"]) == {"2026-05": 300.0}


def _invoice(shape: str, **over: Any) -> dict[str, Any]:
    """A Stripe API invoice object with one 12,000-cent line for May (discount 2,000 cents), before or after the
    2025-03-31 API version (subscription on the line and invoice, or under ``parent``)."""
    line: dict[str, Any] = {"id": "il_1", "amount": 12000, "currency": "eur",
                            "period": {"start": 1777593600, "end": 1780272000},  # 2026-05-01 .. 2026-06-01 UTC
                            "discount_amounts": [{"amount": 2000, "discount": "di_1"}]}  # fmt: skip
    invoice: dict[str, Any] = {"object": "invoice", "id": "in_1", "customer": "cus_1", "customer_name": "Contoso",
                               "status": "paid", "lines": {"object": "list", "data": [line]}}  # fmt: skip
    if shape == "before":
        line["subscription"] = "sub_1"
        invoice["subscription"] = "sub_1"
    else:
        line["parent"] = {"type": "subscription_item_details", "subscription_item_details": {"subscription": "sub_1"}}
        invoice["parent"] = {"type": "subscription_details", "subscription_details": {"subscription": "sub_1"}}
    return invoice | over


@pytest.mark.parametrize("shape", ["before", "after"])
def test_stripe_api_invoices_in_both_shapes(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "invoices.json"
    path.write_text(json.dumps({"object": "list", "data": [_invoice(shape)]}), encoding="utf-8")
    assert is_invoice_file(path)
    read = read_invoice_lines([path], currency="USD")
    assert read.frame["subscription_id"].tolist() == ["sub_1"]
    rows = invoice_lines_to_mrr(read.frame, AS_OF, BillingRules(currency="USD", rates={"EUR": 1.1}))
    assert _by_month(rows) == {"2026-05": round((12000 - 2000) / 100 * 1.1, 4)}  # 100 EUR after discount, at 1.1


def _demo(tmp_path: Path) -> tuple[Path, list[str]]:
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
    return book, [str(a) for a in read_book(book).tables["Accounts"]["account"]]


def test_csxl_import_billing_reads_invoices_and_explains_by_invoice(tmp_path: Path) -> None:
    book, _ = _demo(tmp_path)
    export = tmp_path / "lines.csv"
    export.write_text(
        "Invoice ID,Subscription,Customer Name,Amount,Currency,Period Start,Period End,Invoice Status\n"
        "in_a,sub_a,Newco GmbH,2400,usd,2026-08-20,2027-08-20,paid\n"  # 200 a month from August
        "in_b,sub_b,Newco GmbH,50,usd,2026-10-01,2026-11-01,paid\n"  # and 50 in October
        "in_c,sub_c,Newco GmbH,5O,usd,2026-10-01,2026-11-01,paid\n",  # a letter O: rejected, reported
        encoding="utf-8",
    )
    args = ["import", "billing", str(export), "--book", str(book), "--as-of", "2026-10-31"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == EXIT_DATA, run.output
    assert "imported 2 of 3 invoice lines" in run.output
    assert "lines.csv row 4, Amount: must be a number, got '5O' (row left out)" in run.output
    mrr = read_book(book).tables["MRR"]
    newco = mrr[mrr["account"] == "Newco GmbH"]
    assert [float(v) for v in newco["mrr"]] == [200.0, 200.0, 250.0]  # August, September, October
    ws = openpyxl.load_workbook(book)["MRR explained"]
    lines = [[c.value for c in row[:5]] for row in ws.iter_rows(min_row=1)]
    assert ["Newco GmbH", "2026-10", "sub_b", 50, "started"] in lines
    assert problems(book) == []


def test_subscriptions_and_invoices_in_one_import_are_refused(tmp_path: Path) -> None:
    book, _ = _demo(tmp_path)
    lines = tmp_path / "lines.csv"
    lines.write_text("Invoice ID,Customer Name,Amount,Period Start,Period End\nin_1,X,1,2026-01-01,2026-02-01\n")
    subs = tmp_path / "subs.csv"
    subs.write_text("id,Customer Name,Interval,Amount,Start Date\nsub_1,X,month,1,2026-01-01\n")
    run = CliRunner().invoke(cli, ["import", "billing", str(lines), str(subs), "--book", str(book)])
    assert run.exit_code == 2 and "files of one kind per import" in run.output


def test_rates_on_settings_convert_and_the_command_line_wins(tmp_path: Path) -> None:
    """The EUR rate typed on Settings (1.10) converts EUR invoices; ``--rate EUR=1.2`` overrides it; a bad rate cell
    is reported by the refresh's Settings check with its cell."""
    book, _ = _demo(tmp_path)
    from csxl.book import layout
    from csxl.book.read_settings import settings_from_values

    wb = openpyxl.load_workbook(book)
    wb[layout.SHEET_SETTINGS][layout.setting_ref(layout.rate_name("EUR")).split("!")[1].replace("$", "")] = 1.1
    wb.save(book)
    assert read_book(book).settings.rates == {"EUR": 1.1}
    export = tmp_path / "lines.csv"
    export.write_text(
        "Invoice ID,Subscription,Customer Name,Amount,Currency,Period Start,Period End\n"
        "in_a,sub_a,Euroco,1000,eur,2026-10-01,2026-11-01\n",
        encoding="utf-8",
    )
    args = ["import", "billing", str(export), "--book", str(book), "--as-of", "2026-10-31"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    mrr = read_book(book).tables["MRR"]
    assert [float(v) for v in mrr[mrr["account"] == "Euroco"]["mrr"]] == [pytest.approx(1100.0, abs=1e-9)]
    run = CliRunner().invoke(cli, [*args, "--rate", "EUR=1.2", "--overwrite"])
    assert run.exit_code == 0, run.output
    mrr = read_book(book).tables["MRR"]
    assert [float(v) for v in mrr[mrr["account"] == "Euroco"]["mrr"]] == [pytest.approx(1200.0, abs=1e-9)]
    _, issues = settings_from_values({layout.rate_name("GBP"): "abc", layout.rate_name("CHF"): -1.0})
    rows = layout.settings_rows()
    assert [(i.row, i.value, i.rule) for i in issues] == [  # by row: GBP's cell is above CHF's
        (rows[layout.rate_name("GBP")], "abc", "a positive number (USD per 1 GBP), or blank"),
        (rows[layout.rate_name("CHF")], -1.0, "a positive number (USD per 1 CHF), or blank"),
    ]


def test_a_bad_cell_far_below_the_first_rows_is_still_reported(tmp_path: Path) -> None:
    """DuckDB guesses a column's type from the first rows: 30,000 good lines, then a line whose amount is 'n/a' and
    one whose period end is '01/10/2026'. The file is then read as text and judged cell by cell: both reported by
    line, the rest imported (exact: 30,000 lines of 10 from 1 June, 10 at the June month end each)."""
    lines = ["Invoice ID,Subscription,Customer Name,Amount,Currency,Period Start,Period End"]
    lines += [f"in_{i},sub_{i},Contoso,10,usd,2026-06-01,2026-07-01" for i in range(30_000)]
    lines += ["in_x,sub_x,Contoso,n/a,usd,2026-06-01,2026-07-01", "in_y,sub_y,Contoso,10,usd,2026-06-01,01/10/2026"]
    path = tmp_path / "lines.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_invoice_lines([path])
    assert [(i.row, i.column, i.value) for i in read.issues] == [
        (30_002, "Amount", "n/a"),
        (30_003, "Period End", "01/10/2026"),  # day or month first? a guess: refused
    ]
    assert read.rows_used == 30_000
    assert _by_month(invoice_lines_to_mrr(read.frame, AS_OF)) == {"2026-06": 300_000.0}


def test_a_warehouse_extract_with_its_own_headings_through_a_mapping(tmp_path: Path) -> None:
    """Parquet with column names no export uses, mapped by field: the same MRR as the Stripe layout."""
    import duckdb

    path = tmp_path / "extract.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT 'in_1' AS inv, 'sub_1' AS sub_ref, 'Contoso' AS org, 1200.0 AS net_amount, 'usd' AS ccy,
                       TIMESTAMP '2026-01-15' AS svc_from, TIMESTAMP '2027-01-15' AS svc_to)
                TO '{path}' (FORMAT parquet)"""
        )
    mapping = {"invoice_id": "inv", "subscription_id": "sub_ref", "customer_name": "org", "amount": "net_amount",
               "currency": "ccy", "period_start": "svc_from", "period_end": "svc_to"}  # fmt: skip
    assert is_invoice_file(path)
    read = read_invoice_lines([path], mapping=mapping)
    assert _by_month(invoice_lines_to_mrr(read.frame, AS_OF)) == {f"2026-0{m}": 100.0 for m in range(1, 7)}


def test_repeating_texts_arrive_as_categoricals_trimmed_once(tmp_path: Path) -> None:
    """Millions of lines: customer, subscription, currency and status come as categoricals (no Python object per
    cell). Two spellings that differ by spaces or case are one value; a blank is missing, never a category."""
    path = tmp_path / "lines.csv"
    path.write_text(
        "Invoice ID,Subscription ID,Customer Name,Currency,Amount,Period Start,Period End,Invoice Status\n"
        "in_1, sub_1 ,Acme,usd ,10,2026-01-01,2026-02-01,paid\n"
        "in_2,sub_1,Acme , USD,10,2026-02-01,2026-03-01,Paid\n"
        "in_3,  ,Beta,,5,2026-01-01,2026-02-01,\n",
        encoding="utf-8",
    )
    lines = read_invoice_lines([path]).frame
    for column in ("subscription_id", "account", "currency"):
        assert isinstance(lines[column].dtype, pd.CategoricalDtype), column
    assert lines["subscription_id"].tolist() == ["sub_1", "sub_1", "Beta"]  # a blank subscription: the customer's
    assert lines["account"].tolist() == ["Acme", "Acme", "Beta"]
    assert lines["currency"].tolist() == ["USD", "USD", "USD"]  # a blank currency is the workbook's
    assert not lines["account"].cat.categories.hasnans and lines["account"].cat.categories.is_unique
    assert invoice_lines_to_mrr(lines, dt.date(2026, 2, 28))["mrr"].tolist() == [10.0, 10.0, 5.0]
