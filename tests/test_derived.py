"""Signals from the data beat the labels typed on Accounts (csxl.derived), worked by hand.

The issue: an account typed "expanded" counted Green while its own MRR fell 37 %; NPS answers on the Surveys sheet
were used by the plays but left the simple points blank. Rule (docs/workbook.md): MRR in the latest month against 12
months earlier (or the first month, at least 3 back), +-5 % flat; the latest dated NPS answer beats the NPS cell.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from csxl.derived import derive, latest_survey_nps, mrr_trend
from csxl.portfolio import Portfolio

AS_OF = dt.date(2026, 10, 31)


def _mrr(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["account", "month", "mrr"])
    frame["month"] = pd.to_datetime(frame["month"] + "-01")
    return frame


@pytest.mark.parametrize(
    ("rows", "trend", "change"),
    [
        # 1,000 a year ago -> 630 now: -37 % (the account)
        ([("A", "2025-10", 1000.0), ("A", "2026-04", 800.0), ("A", "2026-10", 630.0)], "downgraded", -0.37),
        ([("A", "2025-10", 1000.0), ("A", "2026-10", 1200.0)], "expanded", 0.20),
        ([("A", "2025-10", 1000.0), ("A", "2026-10", 1040.0)], "flat", 0.04),  # inside +-5 %
        ([("A", "2025-10", 1000.0), ("A", "2026-10", 950.0)], "flat", -0.05),  # exactly -5 %: flat
        # 2024-10 is more than 12 months back: the base is 2025-10
        ([("A", "2024-10", 100.0), ("A", "2025-10", 1000.0), ("A", "2026-10", 1100.0)], "expanded", 0.10),
        # a younger account: its first month (4 months back)
        ([("A", "2026-06", 500.0), ("A", "2026-10", 400.0)], "downgraded", -0.20),
        # two rows in one month are one MRR (summed)
        ([("A", "2025-10", 600.0), ("A", "2025-10", 400.0), ("A", "2026-10", 700.0)], "downgraded", -0.30),
    ],
)
def test_mrr_trend(rows: list[tuple[str, str, float]], trend: str, change: float) -> None:
    got = mrr_trend(_mrr(rows), AS_OF)
    assert got.loc["A", "trend"] == trend
    assert got.loc["A", "change"] == pytest.approx(change, abs=1e-12)


@pytest.mark.parametrize(
    "rows",
    [
        [("A", "2026-08", 500.0), ("A", "2026-10", 100.0)],  # two months back: too little history
        [("A", "2025-10", 500.0), ("A", "2026-09", 500.0), ("B", "2026-10", 10.0)],  # A churned (no 2026-10 row)
        [("A", "2025-10", 500.0), ("A", "2026-10", 0.0)],  # A churned (MRR 0)
        [("A", "2025-10", 0.0), ("A", "2026-10", 900.0)],  # from 0: a new customer, not a trend
        [("A", "2026-10", 500.0)],  # one month
    ],
)
def test_no_trend_without_enough_paid_history(rows: list[tuple[str, str, float]]) -> None:
    assert "A" not in mrr_trend(_mrr(rows), AS_OF).index


def test_months_after_the_as_of_date_are_ignored() -> None:
    rows = [("A", "2025-10", 1000.0), ("A", "2026-10", 1000.0), ("A", "2026-12", 100.0)]
    assert mrr_trend(_mrr(rows), AS_OF).loc["A", "trend"] == "flat"


def test_latest_survey_nps_up_to_the_as_of_date() -> None:
    surveys = pd.DataFrame(
        [
            ("A", "2026-03-01", "nps", 9),
            ("A", "2026-09-01", "nps", 4),
            ("A", "2026-11-05", "nps", 10),
            ("A", "2026-10-01", "csat", 2),
            ("B", "2026-01-01", "nps", 7),
        ],
        columns=["account", "date", "kind", "score"],
    )
    surveys["date"] = pd.to_datetime(surveys["date"])
    got = latest_survey_nps(surveys, AS_OF)
    assert got.loc["A", "score"] == 4  # 2026-11-05 is after the as-of date; CSAT is not NPS
    assert got.loc["B", "score"] == 7


def _portfolio(cells: dict[str, Any], mrr: list[tuple[str, str, float]], surveys: list[tuple[str, str, int]]) -> Any:
    return Portfolio.from_tables(
        pd.DataFrame([{"account": "A", **cells}]),
        pd.DataFrame(mrr, columns=["account", "month", "mrr"]),
        pd.DataFrame([(a, d, "nps", s) for a, d, s in surveys], columns=["account", "date", "kind", "score"]),
        as_of=AS_OF,
    )


def test_derive_says_which_it_used() -> None:
    p = _portfolio(
        {"contract_trend": "expanded", "nps": 9},
        [("A", "2025-10", 1000.0), ("A", "2026-10", 630.0)],
        [("A", "2026-09-12", 3)],
    )
    derived = derive(p.accounts, p.mrr, p.surveys, p.as_of)
    accounts, sources = derived.accounts, derived.sources()
    assert accounts.loc[accounts.index[0], "contract_trend"] == "downgraded"
    assert accounts.loc[accounts.index[0], "nps"] == 3
    assert sources.iloc[0]["contract_trend"] == "MRR -37% from 2025-10 to 2026-10 (typed: expanded)"
    assert sources.iloc[0]["nps"] == "NPS survey of 2026-09-12 (typed: 9)"


def test_typed_labels_stay_where_the_data_is_silent() -> None:
    p = _portfolio({"contract_trend": "expanded", "nps": 9}, [("A", "2026-10", 630.0)], [])
    derived = derive(p.accounts, p.mrr, p.surveys, p.as_of)
    accounts, sources = derived.accounts, derived.sources()
    assert (accounts.iloc[0]["contract_trend"], accounts.iloc[0]["nps"]) == ("expanded", 9)
    assert list(sources.iloc[0]) == ["typed", "typed"]


def test_the_financial_score_and_the_plays_use_the_mrr_trend() -> None:
    """The issue's account: typed expanded, MRR -37 %: the financial dimension scores it as downgraded (not as an
    expansion), and the score and risk plays say where the trend came from."""
    from csxl.plays.risk import churn_risk
    from csxl.plays.score import score_play

    mrr = [("A", "2025-10", 1000.0), ("A", "2026-10", 630.0)]
    typed_down = _portfolio({"contract_trend": "downgraded", "payment_status": "current"}, mrr, [])
    typed_up = _portfolio({"contract_trend": "expanded", "payment_status": "current"}, mrr, [])
    assert typed_up.scored.iloc[0]["financial"] == typed_down.scored.iloc[0]["financial"]
    line = next(s for s in score_play(typed_up, "A").signals if s.signal == "contract_trend")
    assert line.value.startswith("downgraded (MRR -37%") and line.rating == "Red"
    downgrade = next(i for i in churn_risk(typed_up, "A").indicators if i.indicator.lower().startswith("contract"))
    assert downgrade.present and "typed: expanded" in downgrade.evidence


def test_simple_points_read_the_survey_nps() -> None:
    """The issue: simple points were blank when the NPS was only on the Surveys sheet."""
    cells = {"logins_per_week": 5, "login_trend": "up", "contacts_count": 5, "payment_status": "current"}
    blank = _portfolio(cells, [("A", "2026-10", 100.0)], [])
    answered = _portfolio(cells, [("A", "2026-10", 100.0)], [("A", "2026-09-12", 10)])
    assert pd.isna(blank.scored.iloc[0]["simple_points"])
    assert answered.scored.iloc[0]["simple_points"] == 10  # 2+2+2+2 and NPS 10 Green 2
