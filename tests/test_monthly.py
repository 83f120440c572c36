"""The spec's monthly report from History (csxl.monthly): distribution by month, time in yellow before red, save
rate for red, the correlations; on the Dashboard and from ``csxl portfolio --monthly``.

One History worked by hand (engine tiers: Thriving green, Healthy yellow, At-Risk and Critical red):

==========  ==============  ==============  ==============  ==============
account     31 January      28 February     31 March        30 April
==========  ==============  ==============  ==============  ==============
A           Healthy 55      Healthy 55      At-Risk 35      Critical 20
B           Thriving 85     Healthy 65      Healthy 62      At-Risk 45
C           At-Risk 35      Healthy 65      Healthy 70
==========  ==============  ==============  ==============  ==============

MRR: A pays January to April only; B and C pay all year. As of 31 October 2026.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from csxl.churn_frame import health_backtest
from csxl.cli import cli
from csxl.monthly import monthly_report
from csxl.portfolio import Portfolio

ROOT = Path(__file__).resolve().parents[1]

ROWS = [
    ("A", "2026-01-31", 55, "Healthy"), ("A", "2026-02-28", 55, "Healthy"), ("A", "2026-03-31", 35, "At-Risk"),
    ("A", "2026-04-30", 20, "Critical"),
    ("B", "2026-01-31", 85, "Thriving"), ("B", "2026-02-28", 65, "Healthy"), ("B", "2026-03-31", 62, "Healthy"),
    ("B", "2026-04-30", 45, "At-Risk"),
    ("C", "2026-01-31", 35, "At-Risk"), ("C", "2026-02-28", 65, "Healthy"), ("C", "2026-03-31", 70, "Healthy"),
]  # fmt: skip


def _portfolio() -> Portfolio:
    history = pd.DataFrame(
        [(pd.Timestamp(d), a, float(s), t, None, None) for a, d, s, t in ROWS],
        columns=["as_of", "account", "health_score", "health_tier", "simple_points", "arr"],
    )
    months = {"A": ("2026-01", "2026-04"), "B": ("2026-01", "2026-12"), "C": ("2026-01", "2026-12")}
    mrr = pd.concat(
        [
            pd.DataFrame({"account": a, "month": pd.date_range(f, t, freq="MS"), "mrr": 100.0})
            for a, (f, t) in months.items()
        ]
    )
    accounts = pd.DataFrame({"account": ["A", "B", "C"], "segment": "smb"})
    return Portfolio.from_tables(accounts, mrr, None, history, as_of=dt.date(2026, 10, 31))


def test_the_monthly_report_hand_worked() -> None:
    report = monthly_report(_portfolio())
    by_month = {m.month: m for m in report.distribution}
    # January: A yellow, B green, C red; April: A and B red, C has no April snapshot (two rated accounts)
    assert (by_month["2026-01"].green, by_month["2026-01"].yellow, by_month["2026-01"].red) == pytest.approx(
        (1 / 3,) * 3
    )
    assert by_month["2026-04"].accounts == 2 and by_month["2026-04"].red == 1.0
    # yellow to red: A (yellow from 31 Jan, red 31 Mar: 59 days), B (yellow from 28 Feb, red 30 Apr: 61 days);
    # C entered red at its first snapshot (no yellow before it)
    assert report.yellow_to_red == 2 and report.days_in_yellow_median == 60.0
    # entered red at least 90 days before 31 October: A (31 Mar), B (30 Apr), C (31 Jan). A has no MRR in May:
    # churned within 90 days of 31 March; B and C kept paying: saved 2 of 3. C was Healthy on 28 February (28 days
    # after entering red): back in yellow or green; A and B were not.
    assert (report.red_entries, report.saved, report.back_to_yellow_or_green) == (3, 2, 1)
    assert report.save_rate == pytest.approx(2 / 3)
    # the correlations are the health score's backtest (tested by hand in test_churn_book.py): A's two churned
    # snapshots have its lowest scores, so the score correlates negatively with churn
    backtest = health_backtest(_portfolio().history, _portfolio().mrr, dt.date(2026, 10, 31))
    assert report.churn_correlation == backtest.churn_correlation and report.churn_correlation is not None
    assert report.churn_correlation < 0 and report.correlation_rows == backtest.rows == 11


def test_an_empty_history_says_none_yet() -> None:
    empty = Portfolio.from_tables(pd.DataFrame({"account": ["A"]}), as_of=dt.date(2026, 10, 31))
    report = monthly_report(empty)
    assert report.distribution == [] and report.save_rate is None and report.days_in_yellow_median is None
    assert report.churn_correlation is None and report.red_entries == 0


def test_the_dashboard_and_portfolio_monthly_show_it(tmp_path: Path) -> None:
    book = tmp_path / "demo.xlsx"
    shutil.copy(ROOT / "workbooks" / "csxl-demo.xlsx", book)
    run = CliRunner().invoke(cli, ["refresh", str(book)])
    assert run.exit_code == 0, run.output
    ws = openpyxl.load_workbook(book)["Dashboard"]
    titles = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert "Monthly: health distribution by month (last snapshot of each month)" in titles
    assert "Monthly: does the health score foretell churn?" in titles
    printed = CliRunner().invoke(cli, ["portfolio", "--book", str(book), "--monthly", "--json"])
    assert printed.exit_code == 0, printed.output
    assert '"days_in_yellow_median"' in printed.output
    plain = CliRunner().invoke(cli, ["portfolio", "--book", str(book)])
    assert "Monthly: does the health score" not in plain.output  # only when asked
