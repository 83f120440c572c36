"""CRM exports (csxl import accounts): a HubSpot companies export as it arrives, into a founder's Accounts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from ooxml import problems

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
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
    existing = str(read_book(book).tables["Accounts"]["account"].iloc[0])
    path = tmp_path / "companies.csv"
    path.write_text(HUBSPOT.replace("Fabrikam,", f"{existing.upper()},"), encoding="utf-8")
    run = CliRunner().invoke(cli, ["import", "accounts", str(path), "--book", str(book), "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
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
