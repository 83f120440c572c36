"""``csxl new --demo`` walks a founder's path: the demo's exports are files, and the workbook is built by the importers.

Expected figures come from the demo's own source files, read back by the public readers and rules (not from the
generator's tables): the Accounts usage columns are what the events engine measures from the events file, the MRR
table is what the invoice rule makes of the invoice lines. Exact where the figure is a copy; the generator's fidelity
(measured usage against the latent values it drew) is checked by correlation, with the threshold stated.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from csxl.billing import invoice_lines_to_mrr
from csxl.book import layout
from csxl.book.archive import HistoryArchive
from csxl.book.read import read_book
from csxl.cli import EXIT_FILE, cli
from csxl.data.crm import read_crm
from csxl.data.events import EventMapping, read_usage
from csxl.data.invoices import read_invoice_lines
from csxl.demo import demo_portfolio
from csxl.demo_book import SOURCE_FILES, new_demo_workbook
from csxl.demo_sources import CORE_ACTION, demo_sources
from csxl.usage import account_usage_columns

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    run = CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "40"])
    assert run.exit_code == 0, run.output
    assert "built from them by csxl import" in run.output
    return book


def test_the_sources_are_files_a_user_can_open(demo_book: Path) -> None:
    folder = demo_book.with_name("demo-sources")
    assert sorted(p.name for p in folder.iterdir()) == sorted(SOURCE_FILES.values())
    crm = pd.read_csv(folder / SOURCE_FILES["crm"])
    # HubSpot's own headings, then the founder's custom properties named as the Accounts headings they fill
    assert list(crm.columns[:5]) == ["Record ID", "Company name", "Company Domain Name", "Company owner",
                                     "Lifecycle Stage"]  # fmt: skip
    assert {layout.header_of("champion_status"), layout.header_of("start_date")} <= set(crm.columns)
    assert json.loads((folder / SOURCE_FILES["mapping"]).read_text()) == {"logins": ["login"], "core": [CORE_ACTION]}


def test_the_workbook_holds_what_the_importers_make_of_the_sources(demo_book: Path) -> None:
    folder = demo_book.with_name("demo-sources")
    book = read_book(demo_book)
    accounts = book.tables[layout.SHEET_ACCOUNTS].set_index("account")
    # Accounts: the CRM's customers (its leads skipped), their custom properties typed as on the sheet
    crm = read_crm([folder / SOURCE_FILES["crm"]], properties={"champion_status": "Champion status"})
    assert crm.skipped >= 1 and not crm.issues
    assert sorted(accounts.index) == sorted(crm.frame["account"])
    champions = crm.frame.set_index("account")["champion_status"]
    assert accounts["champion_status"].reindex(champions.index).tolist() == champions.tolist()
    # MRR: the invoice rule over the invoice lines (onboarding fees are one-off charges, not MRR)
    lines = read_invoice_lines([folder / SOURCE_FILES["billing"]])
    raw = pd.read_csv(folder / SOURCE_FILES["billing"])
    assert lines.skipped == (raw["Description"] == "Onboarding fee").sum() > 0 and not lines.issues
    want = invoice_lines_to_mrr(lines.frame, AS_OF)  # accounts named by the CRM id in the invoice metadata
    want["account"] = want["account"].map(accounts.reset_index().set_index("crm_id")["account"])
    want = want.sort_values(["account", "month"]).reset_index(drop=True)
    got = book.tables[layout.SHEET_MRR][["account", "month", "mrr"]].copy()
    got["month"] = pd.to_datetime(got["month"])
    got = got.sort_values(["account", "month"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=1e-12)
    # usage: what the events engine measures from the events file, under each account's name
    mapping = EventMapping(logins=("login",), core=(CORE_ACTION,))
    measured = account_usage_columns(read_usage([folder / SOURCE_FILES["events"]], mapping, AS_OF).signals)
    domains = accounts["domain"].reset_index().set_index("domain")["account"]
    measured.index = measured.index.map(domains)
    for column in ("dau_mau", "logins_per_week", "days_since_login", "seats_active", "usage_trend"):
        typed = accounts[column].reindex(measured.index)
        want_values = measured[column]
        if column != "usage_trend":
            got_values = pd.to_numeric(typed, errors="coerce").astype(float)
            assert np.allclose(got_values, want_values.astype(float), rtol=1e-9, equal_nan=True), column
        else:
            assert typed.astype(str).tolist() == want_values.astype(str).tolist(), column


def test_the_history_is_backfilled_months_then_the_demo_weeks(demo_book: Path) -> None:
    history = read_book(demo_book).to_portfolio(AS_OF).history
    dates = sorted({d.date() for d in history["as_of"]})
    weekly = [AS_OF - dt.timedelta(days=7 * k) for k in range(8, -1, -1)]
    assert dates[-9:] == weekly  # eight weeks before the as-of date, and its own snapshot
    months = dates[:-9]
    assert months and all((d + dt.timedelta(days=1)).day == 1 for d in months)  # month ends only
    assert months[-1] < weekly[0]
    # older months live in the archive beside the workbook (the sheet keeps the as-of month and three before)
    assert HistoryArchive(demo_book).path.exists()


def test_the_generated_events_measure_what_the_generator_drew(tmp_path: Path) -> None:
    """Fidelity of the generator: the engine's DAU/MAU and seats active follow the latent values (Pearson r > 0.9 on
    live accounts; drawn day by day, so not exact), and the last login of a live account is exactly the latent days
    since login (the generator puts one login on that day and none after)."""
    data = demo_portfolio(80, seed=3)
    sources = demo_sources(data, seed=3)
    by_domain = {d: a for a, d in zip(sources.crm["Company name"], sources.crm["Company Domain Name"], strict=True)}
    events = sources.events.assign(account=sources.events["account"].map(by_domain))
    events.to_csv(tmp_path / "events.csv", index=False)
    measured = read_usage([tmp_path / "events.csv"], EventMapping(core=(CORE_ACTION,)), data.as_of).signals
    measured = measured.set_index("account")
    latent = data.accounts.set_index("account")
    live = latent.index[latent["arr"] > 0].intersection(measured.index)
    assert len(live) > 40
    for column in ("dau_mau", "seats_active"):
        r = np.corrcoef(measured.loc[live, column].astype(float), latent.loc[live, column].astype(float))[0, 1]
        assert r > 0.9, (column, r)
    assert (measured.loc[live, "days_since_login"] == latent.loc[live, "days_since_login"]).all()


def test_same_seed_same_sources() -> None:
    data = demo_portfolio(15, seed=11)
    one, two = demo_sources(data, seed=11), demo_sources(data, seed=11)
    for name in ("crm", "invoices", "events", "tickets", "surveys"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name))
    assert not one.events.equals(demo_sources(data, seed=12).events)


def test_demo_sources_refuse_a_bad_window() -> None:
    with pytest.raises(Exception, match=r"event_months must be a whole number 2\.\.24"):
        demo_sources(demo_portfolio(3), event_months=1)


def test_the_sources_folder_is_chosen_and_kept_unless_forced(tmp_path: Path) -> None:
    book, folder = tmp_path / "b.xlsx", tmp_path / "exports"
    made = new_demo_workbook(book, accounts=5, sources=folder)
    assert made.result.path == book and not made.issues
    assert {p.parent for p in made.sources.values()} == {folder}
    stamp = (folder / SOURCE_FILES["crm"]).read_bytes()
    book.unlink()
    run = CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "5", "--sources", str(folder)])
    assert run.exit_code == EXIT_FILE and "--force" in run.output and "Traceback" not in run.output
    assert (folder / SOURCE_FILES["crm"]).read_bytes() == stamp and not book.exists()
    forced = ["new", str(book), "--demo", "--accounts", "5", "--sources", str(folder), "--force"]
    assert CliRunner().invoke(cli, forced).exit_code == 0
    assert not list(tmp_path.glob(".csxl-*")), "temporary file left behind"


def test_the_macro_workbook_demo_is_built_the_same_way(tmp_path: Path) -> None:
    plain, macro = tmp_path / "plain.xlsx", tmp_path / "macro.xlsm"
    for book in (plain, macro):
        run = CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "5"])
        assert run.exit_code == 0, run.output
    assert (tmp_path / "macro-sources" / SOURCE_FILES["events"]).exists()
    # the same History, its older snapshots in the archive beside each workbook
    assert HistoryArchive(macro).path.exists()
    pd.testing.assert_frame_equal(read_book(macro).to_portfolio(AS_OF).history,
                                  read_book(plain).to_portfolio(AS_OF).history)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "macro.py", "macro.xlsm", "macro.xlsm.history.parquet", "plain.xlsx", "plain.xlsx.history.parquet"]  # fmt: skip


def test_imported_yes_no_cells_are_the_words_the_sheet_lists(demo_book: Path) -> None:
    """A CRM's true/false becomes yes / no, as the template writes them and the column's validation list offers
    (not a TRUE/FALSE cell the list would refuse when edited)."""
    import openpyxl

    sheet = openpyxl.load_workbook(demo_book)[layout.SHEET_ACCOUNTS]
    headings = [cell.value for cell in sheet[layout.ACCOUNTS.header_row]]
    for key in ("community_active", "roi_documented", "contraction_risk"):
        column = headings.index(layout.header_of(key)) + 1
        values = {sheet.cell(row, column).value for row in range(layout.ACCOUNTS.first_data_row, sheet.max_row + 1)}
        assert values <= {"yes", "no", None} and {"yes", "no"} <= values, (key, values)
