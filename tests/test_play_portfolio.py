"""Play 8, portfolio review: CSM concentration and capacity, stage, the monthly review questions, rendering.

The small portfolio is :mod:`test_dashboard`'s (six accounts A-F, worked by hand there); CSM ratios and stage bounds
come from the agent spec ("CSM-to-account ratios": enterprise 1:10-20, mid-market 1:30-50, SMB 1:100-200; stages
early < 100, growth 100-499, scale 500+; first CSM hire at 50+ customers).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from test_dashboard import AS_OF, accounts_frame, history_frame, mrr_frame, small, surveys_frame

import csxl
import csxl.plays.portfolio
from csxl.history import HISTORY_COLUMNS
from csxl.plays.base import PLAYS, load_library, render_markdown, render_text
from csxl.plays.portfolio import UNASSIGNED, PortfolioReview, portfolio_review
from csxl.portfolio import Portfolio


@pytest.fixture(scope="module")
def review() -> PortfolioReview:
    return portfolio_review(small())


def test_registered_as_play_8() -> None:
    play = PLAYS["portfolio"]
    assert (play.number, play.title, play.needs_account, play.result) == (8, "Portfolio review", False, PortfolioReview)
    assert play.run is portfolio_review


def test_library_holds_the_spec_ratios_and_stages() -> None:
    lib = load_library("portfolio")
    ratios = {k: (v["min_accounts"], v["max_accounts"]) for k, v in lib["csm_ratios"].items()}
    assert ratios == {"enterprise": (10, 20), "mid-market": (30, 50), "smb": (100, 200), "self-serve": (100, 200)}
    assert [(s["name"], s["min_customers"]) for s in lib["stages"]] == [("early", 0), ("growth", 100), ("scale", 500)]
    assert lib["first_csm_hire_customers"] == 50
    assert len(lib["monthly_questions"]) == 8  # engine spec Phase 8 "Monthly Review Questions"


def test_result_basics(review: PortfolioReview) -> None:
    assert (review.command, review.account, review.as_of) == ("portfolio", None, AS_OF)
    assert review.dashboard.total_accounts == 5
    assert review.title() == "Portfolio review, week 2026-W14 (as of 2026-03-31)"


def test_account_argument_is_ignored() -> None:
    a = portfolio_review(small(), "A")
    b = portfolio_review(small())
    assert a == b


# --------------------------------------------------------------------------------------------------------------------
# CSM concentration and capacity
# --------------------------------------------------------------------------------------------------------------------


def test_csm_concentration(review: PortfolioReview) -> None:
    lines = {c.csm: c for c in review.csm_concentration}
    # sorted by at-risk ARR: Ana (B 60,000), Ben (C 12,000), unassigned (D, F: none at risk)
    assert [c.csm for c in review.csm_concentration] == ["Ana", "Ben", UNASSIGNED]
    ana = lines["Ana"]
    assert (ana.accounts, ana.arr, ana.at_risk, ana.at_risk_arr) == (2, 300_000, 1, 60_000)  # A + B
    assert ana.at_risk_share_of_book == pytest.approx(60_000 / 300_000)
    assert ana.share_of_all_at_risk_arr == pytest.approx(60_000 / 72_000)
    # load: A enterprise 1/20 .. 1/10, B mid-market 1/50 .. 1/30
    assert ana.load_min == pytest.approx(1 / 20 + 1 / 50)
    assert ana.load_max == pytest.approx(1 / 10 + 1 / 30)
    assert ana.over_capacity is False
    ben = lines["Ben"]  # C only: E (Ben's) is churned
    assert (ben.accounts, ben.arr, ben.at_risk, ben.at_risk_arr, ben.at_risk_share_of_book) == (1, 12_000, 1, 12_000, 1)
    un = lines[UNASSIGNED]
    assert (un.accounts, un.arr, un.at_risk, un.over_capacity) == (2, 14_400, 0, None)  # D 6,000 + F 8,400


def test_capacity_by_segment(review: PortfolioReview) -> None:
    cap = review.capacity
    # A enterprise; B mid-market; C, D smb; F has no segment and ARR 8,400 -> the $5-25K band -> smb
    got = {s.segment: (s.accounts, s.csms_needed_min, s.csms_needed_max) for s in cap.segments}
    assert got == {
        "enterprise": (1, pytest.approx(1 / 20), pytest.approx(1 / 10)),
        "mid-market": (1, pytest.approx(1 / 50), pytest.approx(1 / 30)),
        "smb": (3, pytest.approx(3 / 200), pytest.approx(3 / 100)),
    }
    assert cap.csms_needed_min == pytest.approx(1 / 20 + 1 / 50 + 3 / 200)
    assert cap.csms_current == 2  # Ana, Ben
    assert cap.unassigned_accounts == 2  # D, F
    assert cap.status.startswith("2 CSM(s) is more than")


def test_a_csm_over_the_loosest_ratio_is_over_capacity() -> None:
    # 25 enterprise accounts for one CSM: load_min = 25 / 20 = 1.25 > 1; the ratios need 25/20 .. 25/10 CSMs
    accounts = pd.DataFrame({"account": [f"E{i}" for i in range(25)], "segment": "enterprise", "arr": 150_000,
                             "csm": "Solo"})  # fmt: skip
    r = portfolio_review(Portfolio.from_tables(accounts, as_of=AS_OF))
    (solo,) = r.csm_concentration
    assert solo.load_min == pytest.approx(1.25)
    assert solo.over_capacity is True
    assert r.capacity.status.startswith("understaffed")


def test_library_override_changes_the_ratios() -> None:
    lib = load_library("portfolio")
    ratios = dict(lib["csm_ratios"])
    ratios["enterprise"] = {"min_accounts": 1, "max_accounts": 1, "touch_model": "Dedicated"}
    r = portfolio_review(small(), library={"csm_ratios": ratios})
    ana = next(c for c in r.csm_concentration if c.csm == "Ana")
    assert ana.load_min == pytest.approx(1 / 1 + 1 / 50)  # A now needs a whole CSM
    assert ana.over_capacity is True


# --------------------------------------------------------------------------------------------------------------------
# Stage
# --------------------------------------------------------------------------------------------------------------------


def test_stage_of_the_small_portfolio(review: PortfolioReview) -> None:
    st = review.stage
    assert (st.name, st.customers, st.arr, st.health_model) == ("early", 5, 326_400, "simple")
    assert "founder-led" in st.first_csm_hire


@pytest.mark.parametrize(
    ("customers", "stage", "model"),
    [(0, "early", "simple"), (1, "early", "simple"), (99, "early", "simple"), (100, "growth", "weighted"),
     (499, "growth", "weighted"), (500, "scale", "predictive")],
)  # fmt: skip
def test_stage_bounds(customers: int, stage: str, model: str) -> None:
    accounts = pd.DataFrame({"account": [f"C{i}" for i in range(customers)], "arr": 1_000.0, "csm": "Ana"})
    r = portfolio_review(Portfolio.from_tables(accounts, as_of=AS_OF))
    assert (r.stage.name, r.stage.customers, r.stage.health_model) == (stage, customers, model)


@pytest.mark.parametrize(("customers", "csm", "says"), [(49, None, "founder-led"), (50, None, "time to hire"),
                                                         (50, "Ana", "1 CSM(s) in place")])  # fmt: skip
def test_first_csm_hire(customers: int, csm: str | None, says: str) -> None:
    accounts = pd.DataFrame({"account": [f"C{i}" for i in range(customers)], "arr": 1_000.0, "csm": csm})
    r = portfolio_review(Portfolio.from_tables(accounts, as_of=AS_OF))
    assert says in r.stage.first_csm_hire


# --------------------------------------------------------------------------------------------------------------------
# Monthly review questions
# --------------------------------------------------------------------------------------------------------------------


def test_tier_moves_against_the_previous_snapshot(review: PortfolioReview) -> None:
    # previous snapshot 2026-03-24: B Healthy -> At-Risk (down 1), D At-Risk -> Healthy (up 1); A, C unchanged
    assert review.previous_snapshot == dt.date(2026, 3, 24)
    assert [(m.account, m.tier_then, m.tier_now, m.steps, m.main_risk) for m in review.moved_down] == [
        ("B", "Healthy", "At-Risk", 1, "usage")
    ]
    assert [(m.account, m.tier_then, m.tier_now, m.steps) for m in review.moved_up] == [("D", "At-Risk", "Healthy", -1)]


def test_tier_moves_use_the_latest_earlier_snapshot_of_any_age() -> None:
    # only the 21-day-old snapshot (B Critical at 10): B moved up Critical -> At-Risk; A is not in it
    history = history_frame()
    history = history[history["as_of"] == "2026-03-10"]
    r = portfolio_review(small(history=history))
    assert r.previous_snapshot == dt.date(2026, 3, 10)
    assert r.moved_down == []
    assert [(m.account, m.tier_then, m.tier_now, m.steps) for m in r.moved_up] == [("B", "Critical", "At-Risk", -1)]
    assert r.dashboard.week_over_week.snapshot_as_of is None  # 21 days is not "a week ago"


def test_no_history_means_no_moves_and_says_so() -> None:
    r = portfolio_review(small(history=pd.DataFrame(columns=list(HISTORY_COLUMNS))))
    assert r.previous_snapshot is None
    assert r.moved_down == []
    assert r.moved_up == []
    assert "no earlier History snapshot" in r.answers[0].answer


def test_churn_reasons_by_window() -> None:
    # as of 2026-03-31; churn month = the month after the last month with MRR > 0
    #   X1 Value, last MRR 2026-02 -> churned 2026-03 (this month)
    #   X2 Value, last MRR 2025-12 -> churned 2026-01 (previous 3 months: 2025-12 .. 2026-02)
    #   X3 Price, last MRR 2025-06 -> churned 2025-07 (all time only)
    #   X4 blank reason, last MRR 2026-02 -> churned 2026-03
    #   L  live (ARR 5,000) with a stale reason: not churned, not counted
    accounts = pd.DataFrame({"account": ["X1", "X2", "X3", "X4", "L"], "arr": [0, 0, 0, 0, 5_000],
                             "churn_reason": ["Value", "Value", "Price", None, "Price"]})  # fmt: skip
    mrr = pd.DataFrame({"account": ["X1", "X2", "X3", "X4", "L"],
                        "month": ["2026-02", "2025-12", "2025-06", "2026-02", "2026-03"],
                        "mrr": [100, 100, 100, 100, 400]})  # fmt: skip
    r = portfolio_review(Portfolio.from_tables(accounts, mrr, as_of=AS_OF))
    got = [(c.reason, c.this_month, c.previous_months, c.all_time) for c in r.churn_reasons]
    # sorted by this month, then all time, then name
    assert got == [("Value", 1, 1, 2), ("(not recorded)", 1, 0, 1), ("Price", 0, 0, 1)]
    assert r.top_churn_reason == "Value"
    assert r.churn_month == "2026-03"
    # trend: 1 this month vs 1 in 3 months (0.33 a month) -> rising
    assert r.answers[2].answer == "Value: 1 this month vs 1 in the previous 3 months (0.3 a month): rising"


def test_churn_reason_of_the_small_portfolio(review: PortfolioReview) -> None:
    # E (Price): last MRR > 0 in 2026-02, explicit 0 in 2026-03 -> churned this month
    assert [(c.reason, c.this_month, c.all_time) for c in review.churn_reasons] == [("Price", 1, 1)]
    assert review.top_churn_reason == "Price"


def test_no_churn_this_month_names_the_overall_top() -> None:
    accounts = pd.DataFrame({"account": ["X", "Y"], "arr": [0, 0], "churn_reason": ["Support", "Support"]})
    r = portfolio_review(Portfolio.from_tables(accounts, as_of=AS_OF))
    assert r.top_churn_reason is None  # no MRR: churn months unknown
    assert r.answers[2].answer == "no churn this month; most common reason overall: Support (2 accounts)"


def test_multi_threading_of_the_top_accounts(review: PortfolioReview) -> None:
    # by ARR: A 240,000 (5 contacts), B 60,000 (1), C 12,000 (2), F 8,400 (blank), D 6,000 (blank)
    got = [(t.account, t.contacts_count, t.rating, t.single_threaded) for t in review.top_accounts]
    assert got == [
        ("A", 5, "Green", False),  # agent spec: 4+ contacts Green
        ("B", 1, "Red", True),  # 1 contact: single-threaded, Red
        ("C", 2, "Yellow", False),  # 2-3 Yellow
        ("F", None, None, None),
        ("D", None, None, None),
    ]
    assert review.single_threaded == 1
    assert review.answers[3].answer == "2 of the top 5 are multi-threaded; single-threaded: B; 2 without contacts_count"


def test_expansion_signals_of_accounts_not_at_risk() -> None:
    accounts = accounts_frame()
    accounts["expansion_signals"] = ["more seats; API", "new team", None, " ", None, None]  # B is at risk: left out
    p = Portfolio.from_tables(accounts, mrr_frame(), surveys_frame(), history_frame(), as_of=AS_OF)
    r = portfolio_review(p)
    assert (r.expansion.accounts, r.expansion.arr, r.expansion.top) == (1, 240_000, ["A"])


def test_every_question_is_answered(review: PortfolioReview) -> None:
    questions = load_library("portfolio")["monthly_questions"]
    assert [a.question for a in review.answers] == questions
    assert [a.from_data for a in review.answers] == [True] * 6 + [False] * 2
    # question 6: Ana carries 60,000 of the 72,000 at-risk ARR = 83 %
    assert review.answers[5].answer.startswith("Ana: 1 at-risk account(s), USD 60,000 = 83% of all at-risk ARR")


# --------------------------------------------------------------------------------------------------------------------
# Rendering, JSON, edge cases
# --------------------------------------------------------------------------------------------------------------------


def test_text_and_markdown_reports(review: PortfolioReview) -> None:
    text = render_text(review)
    md = render_markdown(review)
    for heading in ("Portfolio by tier (engine preset)", "Retention", "This month (2026-03, month to date)",
                    "Renewals", "Week over week", "New at-risk accounts", "Saved (no longer at risk)",
                    "Monthly review", "CSM at-risk concentration", "Stage: Early (1-100 customers)",
                    "Churn reasons (2026-03)", "Multi-threading"):  # fmt: skip
        assert heading in text
        assert f"## {heading}" in md
    assert "nan" not in text.lower().replace("financial", "")
    assert "USD 326,400" in text  # total ARR


def test_json_round_trip(review: PortfolioReview) -> None:
    data = review.model_dump(mode="json")
    back = PortfolioReview.model_validate(json.loads(json.dumps(data)))
    assert back == review
    assert "NaN" not in review.model_dump_json()
    schema = PortfolioReview.model_json_schema()
    for name in ("dashboard", "csm_concentration", "capacity", "stage", "answers"):
        assert name in schema["properties"]


@pytest.mark.parametrize(
    "portfolio",
    [
        Portfolio.from_tables(pd.DataFrame({"account": []}), as_of=AS_OF),
        Portfolio.from_tables(pd.DataFrame({"account": ["A", "B"], "arr": [0, 0]}), as_of=AS_OF),
        Portfolio.from_tables(pd.DataFrame({"account": ["A"]}), as_of=AS_OF),
    ],
    ids=["empty", "all churned", "no arr"],
)
def test_edge_portfolios_render(portfolio: Portfolio) -> None:
    r = portfolio_review(portfolio)
    assert r.csm_concentration == []
    assert r.top_accounts == []
    assert r.capacity.segments == []
    assert r.capacity.status == "no live account: nothing to staff"
    assert (r.stage.name, r.stage.customers) == ("early", 0)
    assert render_text(r)
    assert render_markdown(r)


# --------------------------------------------------------------------------------------------------------------------
# Demo invariants
# --------------------------------------------------------------------------------------------------------------------


def test_demo_invariants() -> None:
    p = Portfolio.from_demo(csxl.demo_portfolio())
    r = portfolio_review(p)
    d = r.dashboard
    assert sum(c.accounts for c in r.csm_concentration) == d.total_accounts
    assert sum(c.arr for c in r.csm_concentration) == pytest.approx(d.total_arr)
    assert sum(c.at_risk for c in r.csm_concentration) == d.at_risk_count
    assert sum(c.at_risk_arr for c in r.csm_concentration) == pytest.approx(d.at_risk_arr)
    assert sum(c.share_of_all_at_risk_arr or 0 for c in r.csm_concentration) == pytest.approx(1.0)
    assert sum(s.accounts for s in r.capacity.segments) == d.total_accounts
    # the demo has 215 live accounts: growth stage (100-499), weighted model
    assert (r.stage.name, r.stage.customers) == ("growth", d.total_accounts)
    arrs = [t.arr for t in r.top_accounts]
    assert len(arrs) == 10
    assert arrs == sorted(arrs, reverse=True)
    live_arr = pd.to_numeric(p.accounts["arr"])
    assert arrs[0] == live_arr.max()
    assert sum(c.all_time for c in r.churn_reasons) == d.churned_accounts
