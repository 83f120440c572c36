"""One home per rule: the same input through each path into csxl gives the same answer.

Each test pins a divergence that existed when the same rule lived in two to four modules (issue 8). The expected
values come from the rule itself (docs/data.md, csxl.cells), not from either old copy.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

import csxl
from csxl import cells
from csxl.dimensions import score_engagement

# --------------------------------------------------------------------------------------------------------------------
# Yes/no cells: the loader and the metric functions read the same words
# --------------------------------------------------------------------------------------------------------------------

YES_NO_CASES: list[tuple[Any, bool | None]] = [
    ("x", True),  # the case that diverged: a tick mark in a spreadsheet
    ("X ", True),
    ("yes", True),
    ("Y", True),
    ("TRUE", True),
    (1, True),
    (True, True),
    ("no", False),
    ("n", False),
    ("false", False),
    (0, False),
    (False, False),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("cell", "expected"), YES_NO_CASES)
def test_yes_no_is_one_rule_for_loader_and_metrics(cell: Any, expected: bool | None) -> None:
    loaded = csxl.load_accounts(pd.DataFrame({"account": ["A"], "community_active": pd.Series([cell], dtype=object)}))
    assert loaded.ok
    from_loader = loaded.frame["community_active"].iloc[0]
    from_loader = None if pd.isna(from_loader) else bool(from_loader)
    assert from_loader is expected
    # the metric reads the same cell the same way: yes scores as the loaded True does, blank as the loaded blank
    direct = score_engagement("flat", community_active=cell)
    via_loader = score_engagement("flat", community_active=from_loader)
    assert direct == pytest.approx(via_loader, abs=1e-12, nan_ok=True)  # same function, so exact


@pytest.mark.parametrize("cell", ["maybe", 2, "si"])
def test_a_bad_yes_no_is_bad_on_every_path(cell: Any) -> None:
    loaded = csxl.load_accounts(pd.DataFrame({"account": ["A"], "community_active": [cell]}))
    assert [i.column for i in loaded.issues] == ["community_active"]
    assert loaded.issues[0].rule == cells.YES_NO_RULE
    with pytest.raises(csxl.InputError, match=r"community_active must be true/false \(yes/no, 1/0, x\)"):
        score_engagement("flat", community_active=cell)


# --------------------------------------------------------------------------------------------------------------------
# Months: the MRR loader and the MRR metrics accept the same cells
# --------------------------------------------------------------------------------------------------------------------

MONTH_CASES: list[tuple[Any, str]] = [
    (45292, "2024-01-01"),  # Excel serial of 2024-01-01 (1899-12-30 + 45292 days): the case that diverged
    (45322.75, "2024-01-01"),  # 2024-01-31 18:00: the time of day is dropped, the month kept
    ("2024-01", "2024-01-01"),
    ("2024-1", "2024-01-01"),
    ("2024-01-17", "2024-01-01"),
    (_dt.date(2024, 1, 17), "2024-01-01"),
    (pd.Timestamp("2024-01-17 10:00"), "2024-01-01"),
    (pd.Period("2024-01", "M"), "2024-01-01"),
]


@pytest.mark.parametrize(("cell", "month"), MONTH_CASES)
def test_a_month_cell_means_the_same_month_everywhere(cell: Any, month: str) -> None:
    raw = pd.DataFrame({"account": ["A"], "month": pd.Series([cell], dtype=object), "mrr": [100.0]})
    loaded = csxl.load_mrr(raw)
    assert loaded.ok
    assert loaded.frame["month"].iloc[0] == pd.Timestamp(month)
    from_raw = csxl.mrr_movements(raw)
    from_loaded = csxl.mrr_movements(loaded.frame)
    assert list(from_raw.index) == list(from_loaded.index) == [pd.Timestamp(month)]
    pd.testing.assert_frame_equal(from_raw, from_loaded)


@pytest.mark.parametrize("cell", [12, "03/04/2024", "2024-13", pd.Period("2024Q1", "Q"), True, "soon"])
def test_a_bad_month_is_bad_on_every_path(cell: Any) -> None:
    raw = pd.DataFrame({"account": ["A"], "month": pd.Series([cell], dtype=object), "mrr": [100.0]})
    loaded = csxl.load_mrr(raw)
    assert [i.column for i in loaded.issues] == ["month"]
    with pytest.raises(csxl.TableError) as info:
        csxl.mrr_movements(raw)
    assert [i.column for i in info.value.issues] == ["month"]
    assert info.value.issues[0].rule == loaded.issues[0].rule


# --------------------------------------------------------------------------------------------------------------------
# Excel serials: the reader's, the writer's and the Excel functions' dates agree
# --------------------------------------------------------------------------------------------------------------------

SERIALS = [(61, _dt.date(1900, 3, 1)), (45000, _dt.date(2023, 3, 15)), (2958465, _dt.date(9999, 12, 31))]


@pytest.mark.parametrize(("serial", "day"), SERIALS)
def test_serials_round_trip_through_the_one_epoch(serial: int, day: _dt.date) -> None:
    moment = cells.serial_to_date(serial)
    assert moment is not None and moment.date() == day
    assert cells.date_to_serial(day) == serial
    days, out_of_range = cells.serials_to_days(np.array([float(serial)]))
    assert str(days[0]) == day.isoformat() and not out_of_range[0]


@pytest.mark.parametrize("serial", [60, 0, -1, 2958466])
def test_serials_outside_excels_calendar_are_refused(serial: int) -> None:
    assert cells.serial_to_date(serial) is None
    _, out_of_range = cells.serials_to_days(np.array([float(serial)]))
    assert out_of_range[0]


@pytest.mark.parametrize(("value", "expected"), [(1, True), (2.5, True), (np.int64(3), True), (True, False)])
def test_booleans_are_not_numbers(value: Any, expected: bool) -> None:
    assert cells.is_number(value) is expected


# --------------------------------------------------------------------------------------------------------------------
# Portfolio facts: effective ARR, segment and tiers have one answer for every play, sheet and command
# --------------------------------------------------------------------------------------------------------------------

AS_OF = _dt.date(2026, 10, 31)


def _facts_portfolio(preset: str = "engine") -> csxl.Portfolio:
    accounts = pd.DataFrame(
        {
            "account": ["Typed", "FromMrr", "Unknown", "Ended"],
            "arr": [120_000.0, None, None, None],
            "segment": [None, None, None, None],
            "dau_mau": [0.5, 0.2, None, 0.1],
        }
    )
    mrr = pd.DataFrame(
        {
            # FromMrr: two rows in its latest month (two subscriptions) add up; a later month lies after the as-of.
            # Ended: no row in the table's latest month (imported billing writes no zero rows): it churned
            "account": ["FromMrr", "FromMrr", "FromMrr", "FromMrr", "Ended"],
            "month": ["2026-09", "2026-10", "2026-10", "2026-11", "2026-08"],
            "mrr": [1_000.0, 1_500.0, 500.0, 9_999.0, 700.0],
        }
    )
    return csxl.Portfolio.from_tables(accounts, mrr, settings=csxl.Settings(preset=preset), as_of=AS_OF)


def test_effective_arr_is_one_answer_on_every_path() -> None:
    from csxl.dashboard import effective_arr, live_table
    from csxl.plays.score import account_arr

    p = _facts_portfolio()
    # FromMrr: 12 x (1,500 + 500) of 2026-10, the latest month on or before the as-of month (November is ignored)
    expected = {"Typed": 120_000.0, "FromMrr": 24_000.0, "Ended": 0.0}
    for name, arr in expected.items():
        assert account_arr(p, p.account(name))[0] == pytest.approx(arr, rel=1e-12)
        assert effective_arr(p)[name] == pytest.approx(arr, rel=1e-12)
        assert live_table(p).set_index("account").loc[name, "arr_effective"] == pytest.approx(arr, rel=1e-12)
    assert account_arr(p, p.account("FromMrr"))[1] == "12 x MRR of 2026-10"
    assert account_arr(p, p.account("Ended"))[1] == "12 x MRR of 2026-10"  # 0: no row in October
    assert not p.facts["live"][p.table["account"].eq("Ended")].any()
    assert account_arr(p, p.account("Unknown")) == (None, "")


def test_a_blank_segment_takes_the_band_of_the_effective_arr() -> None:
    from csxl.plays.score import segment_of

    p = _facts_portfolio()
    # bands: enterprise >= 100,000, mid-market >= 25,000, smb >= 5,000 (engine spec, Touch Cadence by Tier)
    assert segment_of(p, p.account("Typed")) == ("enterprise", "from ARR 120,000 (segment blank)")
    assert segment_of(p, p.account("FromMrr")) == ("smb", "from ARR 24,000 (segment blank)")
    assert segment_of(p, p.account("Unknown")) == (None, "")


@pytest.mark.parametrize("preset", ["engine", "growth"])
def test_tier_summary_uses_the_presets_own_tiers(preset: str) -> None:
    from csxl.dashboard import tier_summary

    p = _facts_portfolio(preset)
    summary = tier_summary(p)
    assert tuple(summary["tiers"]) == csxl.Settings(preset=preset).scheme().labels
    assert summary["accounts"] == 2  # Unknown has no ARR: not live
    assert summary["arr"] == pytest.approx(144_000.0, rel=1e-12)


# --------------------------------------------------------------------------------------------------------------------
# A1 references and sheet parts: one parser for the reader, the writer, the xlwings adapter and the .xlsm builder
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("B5", (5, 2, 5, 2)), ("$A$5:$C$9", (5, 1, 9, 3)), ("C9:A5", (5, 1, 9, 3)), ("xfd1048576", (1048576, 16384) * 2)],
)
def test_one_range_parser(text: str, expected: tuple[int, int, int, int]) -> None:
    from csxl.book import refs

    assert refs.parse_range("range", text) == expected


@pytest.mark.parametrize("text", ["Settings!B5:B6", "B0", "XFE1", "A1048577", "5B", ""])
def test_one_range_parser_refuses(text: str) -> None:
    from csxl.book import refs

    with pytest.raises(csxl.InputError, match="range"):
        refs.parse_range("range", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Settings!$B$5", ("Settings", 5, 2)),
        ("='My ''CS'' sheet'!AA10", ("My 'CS' sheet", 10, 27)),
        ("Settings!B5:B6", None),
        ("=SUM(A1)", None),
    ],
)
def test_sheet_qualified_cells(text: str, expected: tuple[str, int, int] | None) -> None:
    from csxl.book import refs

    assert refs.parse_sheet_cell(text) == expected


def test_sheet_parts_resolve_relative_and_absolute_targets() -> None:
    from csxl.book import refs

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    members = {
        "xl/workbook.xml": f'<workbook {ns} {rns}><sheets><sheet name="A" sheetId="1" r:id="rId1"/>'
        f'<sheet name="B" sheetId="2" r:id="rId2"/></sheets><definedNames>'
        f'<definedName name="csxl_as_of">Settings!$B$5</definedName>'
        f'<definedName name="local" localSheetId="0">A!$A$1</definedName></definedNames></workbook>'.encode(),
        "xl/_rels/workbook.xml.rels": b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
        b'<Relationship Id="rId2" Target="/xl/worksheets/../worksheets/sheet2.xml"/></Relationships>',
    }
    sheets, names = refs.sheet_parts(members.__getitem__)
    assert sheets == {"A": "xl/worksheets/sheet1.xml", "B": "xl/worksheets/sheet2.xml"}
    assert names == {"csxl_as_of": "Settings!$B$5"}  # sheet-local names are not workbook settings


# --------------------------------------------------------------------------------------------------------------------
# The command line over a workbook: one dashboard, one risk vocabulary, the same bytes, the workbook's currency
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eur_book(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from click.testing import CliRunner

    from csxl.cli import cli

    path = tmp_path_factory.mktemp("book") / "book.xlsx"
    run = CliRunner().invoke(cli, ["new", str(path), "--demo", "--accounts", "40", "--currency", "EUR"])
    assert run.exit_code == 0, run.output
    return path


def _csxl(*args: str) -> str:
    from click.testing import CliRunner

    from csxl.cli import cli

    run = CliRunner().invoke(cli, list(args))
    assert run.exit_code == 0, run.output
    return run.output


def test_portfolio_json_is_the_same_bytes_for_the_same_book_and_as_of(eur_book: Any) -> None:
    first = _csxl("portfolio", "--book", str(eur_book), "--as-of", "2026-10-31", "--json")
    second = _csxl("portfolio", "--book", str(eur_book), "--as-of", "2026-10-31", "--json")
    assert first == second
    assert json_loads(first)["dashboard"]["currency"] == "EUR"


def json_loads(text: str) -> Any:
    import json

    return json.loads(text)


def test_the_dashboard_is_described_once_for_sheet_report_and_play(eur_book: Any) -> None:
    from csxl.book.dashboard_sheet import dashboard_plan
    from csxl.book.plan import Block
    from csxl.book.read import read_book
    from csxl.dashboard import dashboard_sections, weekly_dashboard
    from csxl.monthly import monthly_report, monthly_sections
    from csxl.plays.measures import spec_measures

    portfolio = read_book(eur_book).to_portfolio(as_of=_dt.date(2026, 10, 31))
    titles = [s.title for s in dashboard_sections(weekly_dashboard(portfolio))]
    plan = dashboard_plan(portfolio, _dt.datetime(2026, 11, 1, 9, 0))
    on_sheet = [
        b.values[0][0]
        for b in plan.ops
        if isinstance(b, Block) and not isinstance(b.styles, str) and b.styles[0][0] == "section"
    ]
    play_text = _csxl("portfolio", "--book", str(eur_book), "--as-of", "2026-10-31")
    report_text = _csxl("report", str(eur_book), "--format", "text", "--as-of", "2026-10-31")
    monthly = [s.title for s in monthly_sections(monthly_report(portfolio))]
    # the sheet lays out exactly the dashboard's sections, the onboarding metrics (csxl onboarding-metrics prints
    # the same section), then the monthly block
    measures = [s.title for s in spec_measures(portfolio).sections()]
    assert on_sheet == [*titles, "Onboarding metrics", *measures, *monthly]
    onboarding_text = _csxl("onboarding-metrics", "--book", str(eur_book), "--as-of", "2026-10-31")
    assert "\nOnboarding metrics\n" in onboarding_text
    measures_text = _csxl("measures", "--book", str(eur_book), "--as-of", "2026-10-31")
    assert all(f"\n{title}\n" in measures_text for title in measures)
    for title in titles:
        assert f"\n{title}\n" in play_text and f"\n{title}\n" in report_text
    assert "EUR " in play_text and "USD" not in play_text


def test_a_play_sheet_is_in_the_workbooks_currency(eur_book: Any, tmp_path: Any) -> None:
    import html
    import shutil
    import zipfile

    book = tmp_path / "eur.xlsx"
    shutil.copy(eur_book, book)
    _csxl("portfolio", "--book", str(book), "--write")
    with zipfile.ZipFile(book) as zf:
        styles = html.unescape(zf.read("xl/styles.xml").decode())
    # the play's money cells take the workbook's format; before, the play sheet added a dollar format to a EUR book
    assert '"€"#,##0' in styles
    assert '"$"' not in styles


def test_one_risk_level_for_an_account_in_every_play(eur_book: Any) -> None:
    from csxl.book.read import read_book
    from csxl.plays import PLAYS

    portfolio = read_book(eur_book).to_portfolio(as_of=_dt.date(2026, 10, 31))
    table = portfolio.table
    critical = table.loc[table["health_tier"] == "Critical", "account"]
    at_risk = table.loc[table["health_tier"] == "At-Risk", "account"]
    assert len(critical) and len(at_risk)
    for name in (critical.iloc[0], at_risk.iloc[0]):
        risk = PLAYS["risk"].run(portfolio, name)
        save = PLAYS["save"].run(portfolio, name)
        renewal = PLAYS["renewal"].run(portfolio, name)
        tier_indicator = next(i for i in risk.indicators if i.indicator == "Health score tier")
        # the tier alone says High in every play ("red health score"); other signals may raise a play's level only
        assert tier_indicator.level == "High"
        assert {risk.risk_level, save.level, renewal.level} <= {"High", "Critical"}
        assert save.level == renewal.level  # the same rules over the same signals


# --------------------------------------------------------------------------------------------------------------------
# Where the MRR analyses stop: one rule for csxl cohorts and the Cohorts sheet
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "said"),
    [
        (_dt.date(2023, 12, 31), "The MRR sheet starts in 2024-01, after the as-of month 2023-12."),  # before the data
        (_dt.date(2024, 6, 4), "The MRR sheet ends in 2024-03, before the as-of month 2024-06"),  # after the data
    ],
)
def test_the_mrr_cut_is_said_the_same_by_the_play_and_the_sheet(as_of: _dt.date, said: str) -> None:
    from csxl.book.plan import Block
    from csxl.book.refresh import cohorts_plan
    from csxl.plays import PLAYS

    mrr = pd.DataFrame(
        {"account": ["A", "A", "A", "B"], "month": ["2024-01", "2024-02", "2024-03", "2024-02"], "mrr": [10, 12, 0, 5]}
    )
    portfolio = csxl.Portfolio.from_tables(pd.DataFrame({"account": ["A", "B"]}), mrr, as_of=as_of)
    play = PLAYS["cohorts"].run(portfolio)
    sheet = [str(b.values[0][0]) for b in cohorts_plan(portfolio).ops if isinstance(b, Block)]
    assert said in play.message
    assert any(said in line for line in sheet)  # before: the sheet raised where the play answered


# --------------------------------------------------------------------------------------------------------------------
# Work done once: one refresh parses the MRR table once and normalises History once
# --------------------------------------------------------------------------------------------------------------------


def test_one_refresh_parses_the_mrr_table_once_and_normalises_history_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import csxl.history
    import csxl.mrrgrid
    import csxl.portfolio
    from csxl.book.refresh import plan_refresh

    data = csxl.demo_portfolio(30, seed=5)
    history = pd.DataFrame(
        {
            "as_of": ["2026-10-24"],
            "account": [data.accounts["account"][0]],
            "health_score": ["61.5"],
            "health_tier": ["Healthy"],
            "simple_points": [7],
            "arr": [1000],
        }
    )  # fmt: skip  (raw cells, as read from a sheet: text numbers, a date as text)
    parses = []
    parse = csxl.mrrgrid.parse_rows

    def counting_parse(mrr: Any) -> Any:
        parses.append(not isinstance(mrr, csxl.mrrgrid.MrrRows))
        return parse(mrr)

    monkeypatch.setattr(csxl.mrrgrid, "parse_rows", counting_parse)
    monkeypatch.setattr(csxl.portfolio, "parse_rows", counting_parse)
    portfolio = csxl.Portfolio.from_tables(data.accounts, data.mrr, data.surveys, history, as_of=data.as_of)
    assert csxl.history.is_normalised(portfolio.history)
    assert csxl.history.normalise_history(portfolio.history) is portfolio.history  # a check, not a second pass
    plan_refresh({}, portfolio, refreshed_at=_dt.datetime(2026, 11, 1, 9, 0))
    csxl.plays.PLAYS["cohorts"].run(portfolio)
    csxl.plays.PLAYS["portfolio"].run(portfolio)
    assert sum(parses) == 1  # before: six parses of the MRR table in one refresh
    assert len(parses) >= 5  # the metrics did run, each on the parsed rows


@pytest.mark.parametrize(
    ("as_of", "full"),
    [
        (_dt.date(2026, 10, 31), "2026-10-01"),
        (_dt.date(2026, 10, 30), "2026-09-01"),
        (_dt.date(2026, 3, 1), "2026-02-01"),
    ],
)
def test_the_last_full_month_is_one_rule_for_the_dashboard_and_the_nrr_play(as_of: _dt.date, full: str) -> None:
    from csxl.dashboard import weekly_dashboard
    from csxl.facts import last_full_month
    from csxl.plays import PLAYS

    assert last_full_month(as_of) == pd.Timestamp(full)  # the as-of month only when the as-of date is its last day
    months = pd.period_range("2025-01", "2026-10", freq="M").strftime("%Y-%m")
    mrr = pd.DataFrame({"account": ["A"] * len(months), "month": list(months), "mrr": [100.0] * len(months)})
    portfolio = csxl.Portfolio.from_tables(pd.DataFrame({"account": ["A"], "arr": [1200.0]}), mrr, as_of=as_of)
    assert weekly_dashboard(portfolio).retention.period_month == pd.Timestamp(full).date()
    assert PLAYS["nrr"].run(portfolio).last_full_month == pd.Timestamp(full).date()


# --------------------------------------------------------------------------------------------------------------------
# Dates: one calendar (Excel's, 1900-03-01 .. 9999-12-31) for every date cell; nothing wraps around
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("9999-12-31", "9999-12-31"),  # pandas' nanosecond range ends in 2262: this read as 1816-03-29
        (_dt.date(9999, 12, 31), "9999-12-31"),
        (_dt.datetime(2500, 6, 1, 15, 30), "2500-06-01"),  # read as 1915-11-12
        (np.datetime64("2999-01-01"), "2999-01-01"),  # read as 1829-11-23
        (2958465, "9999-12-31"),  # Excel's last serial
        (pd.Timestamp("2024-05-01 00:30", tz="Europe/Paris"), "2024-05-01"),  # the local date
    ],
)
def test_far_dates_are_read_as_written(cell: Any, day: str) -> None:
    loaded = csxl.load_accounts(pd.DataFrame({"account": ["A"], "renewal_date": pd.Series([cell], dtype=object)}))
    assert loaded.ok
    assert loaded.frame["renewal_date"].iloc[0] == pd.Timestamp(day)
    record = csxl.SurveyResponse(account="A", date=cell, kind="nps", score=9)
    assert record.date.isoformat() == day


@pytest.mark.parametrize("cell", ["1600-01-01", "1900-02-28", 60, _dt.date(1899, 12, 31)])
def test_dates_before_excels_calendar_are_reported_not_guessed(cell: Any) -> None:
    loaded = csxl.load_accounts(pd.DataFrame({"account": ["A"], "renewal_date": pd.Series([cell], dtype=object)}))
    assert [(i.column, i.row) for i in loaded.issues] == [("renewal_date", 2)]
    with pytest.raises(ValueError, match="must be a date"):
        csxl.SurveyResponse(account="A", date=cell, kind="nps", score=9)


# --------------------------------------------------------------------------------------------------------------------
# Numbers: the metric functions take what csxl.cells calls a number, and nothing else
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: csxl.ltv(_dt.datetime(2024, 1, 1), 0.5, 0.1), "arpa"),  # a date read as 8.5e15 nanoseconds
        (lambda: csxl.nps([9, 10, True]), "nps scores"),  # numpy turned True into a 1: NPS 33.3
        (lambda: csxl.nps([[9, 2], [9]]), "nps scores"),  # ragged rows: a numpy ValueError
        (lambda: csxl.nrr(100, [1 + 2j], 0, 0), "expansion"),
        (lambda: csxl.nps([9, b"9"]), "nps scores"),
        (lambda: csxl.nps([9, "\x00"]), "nps scores"),
        (lambda: csxl.grr(100, np.array(["2024-01-01"], dtype="datetime64[D]"), 0), "contraction"),
    ],
)
def test_only_numbers_are_numbers(call: Any, field: str) -> None:
    with pytest.raises(csxl.InputError) as info:
        call()
    assert str(info.value).startswith(f"{field} must be")


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"dau_mau": [0.5], "usage_override": [50]}, "usage_override"),  # a 0-10 score of 50 was used as is
        ({"dau_mau": [0.5], "usage_override": ["abc"]}, "usage_override"),  # junk was silently ignored
        ({"dau_mau": [0.5], "usage_override": [True]}, "usage_override"),  # True became 1.0
        ({"dau_mau": [0.5], "features_adopted": ["abc"], "features_available": [5]}, "features_adopted"),
        ({"payment_status": ["current"], "contract_trend": ["=1+1"]}, "contract_trend"),  # read as 'not expanding'
    ],
)
def test_overrides_and_counts_follow_the_accounts_tables_rules(cells: dict[str, list[Any]], field: str) -> None:
    with pytest.raises(csxl.InputError) as info:
        csxl.dimension_scores(pd.DataFrame(cells))
    assert str(info.value).startswith(f"{field} must be")
    loaded = csxl.load_accounts(pd.DataFrame({"account": ["A"], **cells}))
    assert [i.column for i in loaded.issues] == [field]  # the same cell, the same verdict through the loader


def test_a_contract_trend_synonym_is_read_alike_by_the_loader_and_the_scores() -> None:
    direct = csxl.dimension_scores(pd.DataFrame({"payment_status": ["current"], "contract_trend": ["Expanding"]}))
    assert direct["financial"].iloc[0] == pytest.approx(10.0, abs=1e-12)  # current + expanding: the top of the band


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: csxl.demo_portfolio(0), "accounts"),  # ValueError before
        (lambda: csxl.Settings(simple_tiers=(5, 8)), "simple_tiers"),  # accepted, then refused by later code
        (lambda: csxl.Settings(preset="nope"), "preset"),  # a pydantic ValidationError before
        (lambda: csxl.health_score({"usage": 7}, weights=None), "weights"),  # AttributeError before
        (lambda: csxl.score_accounts(pd.DataFrame({"account": ["A"]}), settings="growth"), "settings"),
        (lambda: csxl.grr(pd.Series([100.0]), 1, [1, 2]), "argument lengths"),  # a pandas ValueError before
        (lambda: csxl.nrr(1e-300, 1e300, 0, 0), "start_mrr"),  # inf before
    ],
)
def test_misuse_is_a_csxl_error_naming_the_argument(call: Any, field: str) -> None:
    with pytest.raises(csxl.InputError) as info:
        call()
    assert str(info.value).startswith(f"{field} must be")
