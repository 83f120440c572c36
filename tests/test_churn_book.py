"""The churn model on a workbook (csxl.churn_frame, ``csxl churn``): outcomes from the MRR table, inputs as known at
each past month end, today's accounts ranked by expected ARR loss; too little history refused with the counts.

Expected outcomes are worked by hand from the MRR rows beside them (a month end counts when it falls within 90 days
of the snapshot); the ranking's figures are checked against each other (expected loss = ARR x probability), exact.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from books import typed_demo_book
from click.testing import CliRunner

from csxl.churn_frame import churn_labels, training_frame
from csxl.cli import cli
from csxl.portfolio import Portfolio

ROOT = Path(__file__).resolve().parents[1]


def _mrr(rows: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """account -> (first month, last month) at 100 a month."""
    frames = [
        pd.DataFrame({"account": name, "month": pd.date_range(first, last, freq="MS"), "mrr": 100.0})
        for name, (first, last) in rows.items()
    ]
    return pd.concat(frames, ignore_index=True)


MRR = _mrr({"A": ("2026-01", "2026-06"), "B": ("2026-01", "2026-12"), "C": ("2026-03", "2026-12")})


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        # 30 April + 90 days = 29 July: the May and June month ends count, July's (31st) does not; A pays through
        # June, so it has not churned yet; C pays from March
        ("2026-04-30", {"A": False, "B": False, "C": False}),
        # 31 May + 90 days = 29 August: June and July count; A has no July row: churned
        ("2026-05-31", {"A": True, "B": False, "C": False}),
        # 28 February: C was not paying yet, so it cannot churn (no outcome)
        ("2026-02-28", {"A": False, "B": False, "C": None}),
        # 31 July: A is gone already (not paying in July): no outcome
        ("2026-07-31", {"A": None, "B": False, "C": False}),
    ],
)
def test_churn_labels_from_the_mrr_table(date: str, expected: dict[str, bool | None]) -> None:
    labels = churn_labels(MRR, ["A", "B", "C"], dt.date.fromisoformat(date))
    assert labels.to_dict() == expected


def test_the_training_frame_knows_only_what_each_month_end_knew() -> None:
    accounts = pd.DataFrame({"account": ["A", "B", "C"], "segment": ["smb", "smb", "mid-market"]})
    snapshots = [
        Portfolio.from_tables(accounts, MRR, as_of=dt.date.fromisoformat(d))
        for d in ("2026-03-31", "2026-05-31", "2026-09-30")
    ]
    frame = training_frame(snapshots, MRR, dt.date(2026, 10, 31))
    # 30 September + 90 days is after the as-of date: no outcome yet, not a training row
    assert sorted({d.date().isoformat() for d in frame["as_of"]}) == ["2026-03-31", "2026-05-31"]
    may = frame[frame["as_of"] == pd.Timestamp("2026-05-31")].set_index("account")
    assert may["churned"].to_dict() == {"A": 1, "B": 0, "C": 0}
    assert (may["arr"] == 1200.0).all()  # ARR then: 12 x that month's MRR, nothing typed
    march = frame[frame["as_of"] == pd.Timestamp("2026-03-31")].set_index("account")
    assert march.loc["C", "mrr_change_3m"] != march.loc["C", "mrr_change_3m"]  # no MRR three months before: blank
    assert march.loc["A", "mrr_change_3m"] != march.loc["A", "mrr_change_3m"]  # December 2025 had no row either


def test_csxl_churn_ranks_live_accounts_by_expected_loss() -> None:
    run = CliRunner().invoke(cli, ["churn", "--book", str(ROOT / "workbooks" / "csxl-demo.xlsx"), "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert report["churn_events"] >= 20 and report["rows"] > report["churn_events"]
    ranked = pd.DataFrame(report["accounts"])
    assert ((ranked["probability"] > 0) & (ranked["probability"] < 1)).all()
    assert ranked["expected_loss"].tolist() == pytest.approx((ranked["arr"] * ranked["probability"]).tolist())
    assert ranked["expected_loss"].is_monotonic_decreasing
    assert set(ranked["tier"]) <= {"Low", "Medium", "High", "Critical"}
    text = CliRunner().invoke(cli, ["churn", "--book", str(ROOT / "workbooks" / "csxl-demo.xlsx"), "--top", "3"])
    assert text.exit_code == 0 and "Expected loss" in text.output
    assert str(ranked["account"].iloc[0]) in text.output


def test_too_little_history_is_refused_with_the_counts(tmp_path: Path) -> None:
    book = typed_demo_book(tmp_path / "small.xlsx", 6)
    run = CliRunner().invoke(cli, ["churn", "--book", str(book)])
    assert run.exit_code == 2, run.output
    assert re.search(r"'\d+ churn events in \d+ rows'", run.output)
    assert re.search(r"at least \d+ churn events", run.output) and "rule-based health tiers" in run.output
    assert "Traceback" not in run.output


def test_the_health_score_backtest_hand_worked() -> None:
    """History at two month ends for A (score 30, Critical), B (80, Thriving), C (50, Healthy). MRR: A pays January
    to April, B all year, C 100 until April and 200 from May. Both snapshots' 90 days are over by 31 October.
    Outcomes: A churns within 90 days of both (no May row), B and C do not; C expands (June and July at 200 against
    March and April at 100). The score ranks A riskiest: AUC 1. Churn rates by tier: Critical 2 of 2 (Wilson 95 %
    lower bound 1 / (1 + z^2 / 2) with z = 1.959964: 0.342380), the others 0 of 2. Correlations (Pearson, by hand
    over the six rows: scores 30, 80, 50 twice; churned 1, 0, 0; expanded 0, 0, 1): with churn
    -7.778 / (20.548 x 0.4714) = -0.8030, with expansion -1.111 / (20.548 x 0.4714) = -0.1147."""
    from csxl.churn_frame import health_backtest

    mrr = pd.concat(
        [
            _mrr({"A": ("2026-01", "2026-04"), "B": ("2026-01", "2026-12"), "C": ("2026-01", "2026-04")}),
            _mrr({"C": ("2026-05", "2026-12")}).assign(mrr=200.0),
        ],
        ignore_index=True,
    )
    history = pd.DataFrame(
        [
            (pd.Timestamp(d), a, s, t)
            for d in ("2026-03-31", "2026-04-30")
            for a, s, t in (("A", 30.0, "Critical"), ("B", 80.0, "Thriving"), ("C", 50.0, "Healthy"))
        ],
        columns=["as_of", "account", "health_score", "health_tier"],
    )
    result = health_backtest(history, mrr, dt.date(2026, 10, 31))
    assert (result.rows, result.snapshots, result.events) == (6, 2, 2)
    assert result.roc_auc == pytest.approx(1.0)
    tiers = result.by_tier.set_index("tier")
    assert tiers.loc["Critical", ["accounts", "churned"]].tolist() == [2, 2]
    assert tiers.loc["Critical", "low"] == pytest.approx(0.342380, abs=1e-6)
    assert tiers.loc["Thriving", "rate"] == 0.0 and tiers.loc["Healthy", "rate"] == 0.0
    assert result.churn_correlation == pytest.approx(-0.8030, abs=1e-3)
    assert result.expansion_correlation == pytest.approx(-0.1147, abs=1e-3)
    # a snapshot whose 90 days are not over yet says nothing
    assert health_backtest(history, mrr, dt.date(2026, 6, 30)).rows == 3
