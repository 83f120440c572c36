"""CRM exports (csxl import accounts): a HubSpot companies export as it arrives, into a founder's Accounts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from books import typed_demo_book
from click.testing import CliRunner
from ooxml import problems
from published import published

from csxl.book.read import read_book
from csxl.cli import cli
from csxl.data.crm import read_crm

HUBSPOT = """Record ID,Company name,Company Domain Name,Company owner,Lifecycle Stage,Annual Revenue,ARR,Renewal Date,Segment
101,Northwind Traders,northwind.com,Ana Lee,Customer,50000000,"$120,000",2027-01-31,Enterprise
102,Fabrikam,https://www.fabrikam.io/,Bo Kim,customer,2000000,abc,2026-12-15,mid-market
103,Prospect Inc,prospect.com,Ana Lee,Lead,,,,
104,Northwind Traders,northwind.com,Ana Lee,Customer,,,,
"""  # noqa: E501


def test_a_hubspot_export_read_with_the_accounts_rules(tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    path.write_text(HUBSPOT, encoding="utf-8")
    read = read_crm([path])
    assert read.rows_read == {"companies.csv": 4} and read.skipped == 1  # the Lead is not a customer
    rows = read.frame.set_index("account")
    assert rows.loc["Northwind Traders", "arr"] == 120000.0  # "$120,000"; Annual Revenue (turnover) never read
    assert rows.loc["Fabrikam", "domain"] == "fabrikam.io"  # a website read as its domain
    assert rows.loc["Northwind Traders", "renewal_date"] == pd.Timestamp("2027-01-31")
    assert [(i.row, i.column, i.effect) for i in read.issues] == [
        (3, "ARR", "cell ignored"),  # 'abc': the account stays, its ARR unknown
        (5, "Company name", "row left out"),  # the same company twice
    ]


def test_csxl_import_accounts_adds_customers_and_fills_known_ones(tmp_path: Path) -> None:
    book = typed_demo_book(tmp_path / "book.xlsx", 6)  # its accounts have no domain yet
    existing = str(read_book(book).tables["Accounts"]["account"].iloc[0])
    path = tmp_path / "companies.csv"
    path.write_text(HUBSPOT.replace("Fabrikam,", f"{existing.upper()},"), encoding="utf-8")
    run = CliRunner().invoke(cli, ["import", "accounts", str(path), "--book", str(book), "--json"])
    assert run.exit_code == 0, run.output
    report = published("import-accounts", run.output)
    assert (report["added"], report["matched"], report["skipped_not_customers"]) == (1, 1, 1)
    data = read_book(book)
    accounts = data.tables["Accounts"].set_index("account")
    assert len(accounts) == 7  # six demo accounts and Northwind
    assert accounts.loc["Northwind Traders", "csm"] == "Ana Lee" and accounts.loc["Northwind Traders", "domain"] == (
        "northwind.com"
    )
    assert accounts.loc[existing, "domain"] == "fabrikam.io"  # a blank cell of a known account filled
    # the refresh after the import gave the new account its scores and its simple-points formulas
    assert pd.notna(accounts.loc["Northwind Traders", "dimensions_scored"])
    assert problems(book) == []


def test_the_crm_record_id_is_the_first_join_key(tmp_path: Path) -> None:
    """The CRM import writes each company's Record ID to CRM ID; later imports match by it first: a CRM export whose
    company was renamed and moved domain updates the same account, and events and billing that name the account by
    its record id land on it, with the match rate reported."""
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book)]).exit_code == 0
    companies = tmp_path / "companies.csv"
    companies.write_text(HUBSPOT, encoding="utf-8")
    assert CliRunner().invoke(cli, ["import", "accounts", str(companies), "--book", str(book)]).exit_code == 0
    accounts = read_book(book).tables["Accounts"].set_index("account")
    assert accounts.loc["Northwind Traders", "crm_id"] == "101" and accounts.loc["Fabrikam", "crm_id"] == "102"

    renamed = tmp_path / "renamed.csv"
    renamed.write_text(
        "Record ID,Company name,Company Domain Name,Company owner,Lifecycle Stage\n"
        "101,Northwind Holdings,northwind-holdings.com,Cy Ode,Customer\n",
        encoding="utf-8",
    )
    run = CliRunner().invoke(cli, ["import", "accounts", str(renamed), "--book", str(book), "--overwrite", "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert report["added"] == 0 and report["matched"] == 1  # the same company: matched by id, not added
    accounts = read_book(book).tables["Accounts"].set_index("account")
    assert accounts.loc["Northwind Traders", "csm"] == "Cy Ode"  # the name on the sheet is the user's

    events = tmp_path / "events.csv"
    events.write_text(
        "event,user_id,account,timestamp,event_id\n"
        "login,u1,101,2026-10-20 09:00:00,e1\n"  # Northwind by its record id
        "login,u2,102,2026-10-21 09:00:00,e2\n"  # Fabrikam by its record id
        "login,u3,999,2026-10-21 09:00:00,e3\n",  # no such record: reported
        encoding="utf-8",
    )
    args = ["import", "events", str(events), "--book", str(book), "--as-of", "2026-10-28", "--json"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert report["accounts"] == 3 and report["match_rate"] == round(2 / 3, 4)
    assert [u["account"] for u in report["unmatched"]] == ["999"]
    accounts = read_book(book).tables["Accounts"].set_index("account")
    assert (
        int(accounts.loc["Northwind Traders", "seats_active"]) == 1
        and int(accounts.loc["Fabrikam", "seats_active"]) == 1
    )

    billing = tmp_path / "subscriptions.csv"
    billing.write_text(
        "id,Customer Name,hubspot_id (metadata),Interval,Amount,Start Date\n"
        "sub_1,Northwind Holdings GmbH,101,month,900,2026-09-01\n",
        encoding="utf-8",
    )
    run = CliRunner().invoke(cli, ["import", "billing", str(billing), "--book", str(book), "--as-of", "2026-10-31"])
    assert run.exit_code == 0 and "100% matched" in run.output, run.output
    mrr = read_book(book).tables["MRR"]
    assert set(mrr["account"]) == {"Northwind Traders"}
    assert problems(book) == []
