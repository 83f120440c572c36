"""Survey exports as they arrive (csxl import surveys): a column named after the survey, e-mails instead of accounts,
scores out of their scale, the same file imported twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from ooxml import problems
from published import published

from csxl.book.read import read_book
from csxl.cli import EXIT_DATA, cli
from csxl.data.surveys import read_surveys
from csxl.errors import InputError


def test_a_delighted_style_export_by_email(tmp_path: Path) -> None:
    path = tmp_path / "nps.csv"
    path.write_text(
        "Email,NPS,Comment,Created At\n"
        "jane@contoso.co.uk,9,Great support,2026-10-02 10:00:00\n"  # contoso (the public suffix dropped)
        "bob@gmail.com,7,,2026-10-03\n"  # free mail names no company: reported
        "li@fabrikam.com,11,,2026-10-04\n"  # 11 is outside NPS 0-10: reported
        "ann@fabrikam.com,6,,not a date\n",
        encoding="utf-8",
    )
    read = read_surveys([path])
    # the account is the e-mail's domain (the public suffix kept): matched to Accounts by domain, else by "contoso"
    assert read.frame[["account", "kind", "score"]].values.tolist() == [["contoso.co.uk", "nps", 9]]
    assert [(i.row, i.column) for i in read.issues] == [(3, "Email"), (4, "NPS"), (5, "Created At")]


def test_a_file_that_names_no_survey_needs_kind(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("Account,Score,Date\nContoso,4,2026-10-02\n", encoding="utf-8")
    assert [(i.column, i.rule) for i in read_surveys([path]).issues] == [("?", "nps, csat or ces")]
    assert read_surveys([path], kind="csat").frame["kind"].tolist() == ["csat"]
    with pytest.raises(InputError, match="nps, csat or ces"):
        read_surveys([path], kind="ces2")


def test_csxl_import_surveys_appends_once_and_refreshes(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
    name = str(read_book(book).tables["Accounts"]["account"].iloc[0])
    before = len(read_book(book).tables["Surveys"])
    path = tmp_path / "csat.csv"
    path.write_text(f"Company,CSAT,Date\n{name.upper()},5,2026-10-20\n{name},9,2026-10-21\n", encoding="utf-8")
    args = ["import", "surveys", str(path), "--book", str(book), "--json"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == EXIT_DATA, run.output  # 9 is outside CSAT 1-5: the row is rejected, the rest imported
    report = published("import-surveys", run.output)
    assert (report["appended"], report["already_there"], len(report["rejected"])) == (1, 0, 1)
    table = read_book(book).tables["Surveys"]
    assert len(table) == before + 1 and table.iloc[-1]["account"] == name  # spelled as on Accounts
    run = CliRunner().invoke(cli, [*args, "--no-strict"])
    assert run.exit_code == 0 and json.loads(run.output)["appended"] == 0  # the same file again adds nothing
    assert len(read_book(book).tables["Surveys"]) == before + 1
    assert problems(book) == []


def test_answers_by_email_find_their_account_by_the_domain_typed_on_accounts(tmp_path: Path) -> None:
    import openpyxl

    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
    first = str(read_book(book).tables["Accounts"]["account"].iloc[0])
    wb = openpyxl.load_workbook(book)  # the founder types a domain (as a URL) for the first account
    ws = wb["Accounts"]
    column = next(c for c in range(1, ws.max_column + 1) if ws.cell(2, c).value == "Domain")
    ws.cell(3, column).value = "https://www.Northwind-Traders.com/"
    wb.save(book)
    path = tmp_path / "nps.csv"
    lines = ["Email,NPS,Date", "kim@northwind-traders.com,10,2026-10-02", "ola@tailspin.io,3,2026-10-03"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = CliRunner().invoke(cli, ["import", "surveys", str(path), "--book", str(book), "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    # the typed domain names the first account whatever its name; tailspin.io matches no domain and no name
    assert [u["account"] for u in report["unmatched"]] == ["tailspin.io"]
    added = read_book(book).tables["Surveys"].iloc[-2:][["account", "score"]].values.tolist()
    assert added == [[first, 10.0], ["tailspin.io", 3.0]]
