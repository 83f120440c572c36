"""Plays read the account's situation first (issue: plays that fit the account).

A four-year-old account is past onboarding: ``onboarding`` reports the outcome, not 2022 milestones "overdue", and
``success-plan`` looks ahead instead of marking onboarding milestones "at-risk". The time-to-first-value date is one
rule for both plays (engine spec "Time-to-First-Value Framework": 30 days, 14 days, 24 hours, 10 minutes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from test_plays_accounts import AS_OF, make

from csxl.plays.onboarding import onboarding_plan, onboarding_stage
from csxl.plays.success_plan import success_plan_play

MATURE = {
    "account": "Old",
    "segment": "mid-market",
    "start_date": "2022-01-06",  # day 1636 on 2026-06-30
    "integration": "connected",
    "goals_defined": 2,
    "goals_achieved": 0,
    "seats_active": 7,
    "seats_purchased": 7,
    "roi_documented": "no",
    "champion": "Alex Kim",
    "champion_status": "strong",
    "csm": "Ben",
}


@pytest.mark.parametrize(
    ("start", "stage"),
    [
        (None, "unknown"),
        (AS_OF + dt.timedelta(days=3), "not started"),
        (AS_OF, "onboarding"),  # day 0
        (AS_OF - dt.timedelta(days=90), "onboarding"),  # day 90: the 90-day review is the last day of onboarding
        (AS_OF - dt.timedelta(days=91), "complete"),
        (dt.date(2022, 1, 6), "complete"),
    ],
)
def test_onboarding_stage(start: dt.date | None, stage: str) -> None:
    assert onboarding_stage(start, AS_OF) == stage


def test_onboarding_of_a_four_year_old_account_is_its_outcome() -> None:
    r = onboarding_plan(make(MATURE), "Old")
    assert r.stage == "complete"
    assert r.outcome is not None and "Onboarding ended on 2022-04-06 (day 90)" in r.outcome
    assert "csxl success-plan" in r.outcome
    statuses = {m.status for m in r.milestones}
    assert "overdue" not in statuses and "check" not in statuses  # years-old work is not "overdue"
    assert {m.item: m.status for m in r.milestones}["Success plan created (goals, timeline, stakeholders)"] == "done"
    assert {m.item: m.status for m in r.milestones}["Quick win documented and shared with sponsor"] == "not done"
    assert r.risks == []  # "No login after Day 3" and the other onboarding signals no longer apply
    assert r.sections()[0].title == "Onboarding complete"


def test_onboarding_in_its_window_still_flags_overdue_work_and_risks() -> None:
    young = {**MATURE, "account": "New", "start_date": (AS_OF - dt.timedelta(days=30)).isoformat()}
    r = onboarding_plan(make(young), "New")
    assert r.stage == "onboarding" and r.outcome is None
    assert "overdue" in {m.status for m in r.milestones}  # quick win due on day 21 ... goals_achieved = 0
    assert r.risks


def test_success_plan_of_a_mature_account_looks_ahead() -> None:
    r = success_plan_play(make(MATURE), "Old")
    assert all(m.status != "at-risk" for m in r.milestones)
    assert {m.name: m.status for m in r.milestones}["First Value Delivered"] == "not shown"
    assert not any(o.objective.startswith("Reach first value") for o in r.objectives)
    adoption = next(o for o in r.objectives if o.objective.startswith("Adopt"))
    assert adoption.timeline == r.next_review and adoption.timeline is not None and adoption.timeline > AS_OF


@pytest.mark.parametrize("segment", ["enterprise", "mid-market", "smb", "self-serve"])
def test_time_to_first_value_date_is_the_same_in_both_plays(segment: str) -> None:
    """The issue: self-serve first value was due 2026-10-07 in onboarding and 2026-10-08 in success-plan."""
    row: dict[str, Any] = {"account": "A", "segment": segment, "start_date": "2026-06-01"}
    p = make(row)
    onboarding = onboarding_plan(p, "A").ttfv_target_date
    plan = {m.name: m.target_date for m in success_plan_play(p, "A").milestones}["First Value Delivered"]
    assert onboarding == plan
    # engine spec: 30 days, 14 days, 24 hours (next day), 10 minutes (the start day)
    days = {"enterprise": 30, "mid-market": 14, "smb": 1, "self-serve": 0}[segment]
    assert plan == dt.date(2026, 6, 1) + dt.timedelta(days=days)


# --------------------------------------------------------------------------------------------------------------------
# Customer-facing e-mails: the tone fits the account, no internal score; placeholders are named
# --------------------------------------------------------------------------------------------------------------------

THRIVING = {"usage_override": 9, "engagement_override": 9, "relationship_override": 9, "outcomes_override": 9,
            "financial_override": 9}  # fmt: skip
CRITICAL = {k: 1 for k in THRIVING}


@pytest.mark.parametrize(
    ("cells", "heading", "closing"),
    [
        (THRIVING, "What We Achieved in", "another strong quarter"),
        (CRITICAL, "Where We Stand After", "turning this around"),
    ],
)
def test_qbr_follow_up_fits_the_account_and_shows_no_internal_score(
    cells: dict[str, Any], heading: str, closing: str
) -> None:
    """The issue: a Critical account's follow-up said "another strong quarter" and showed its health score."""
    from csxl.plays.qbr import qbr_prep

    p = make({**MATURE, **cells})
    r = qbr_prep(p, "Old")
    assert heading in r.email_body and closing in r.email_body
    assert "strong quarter" not in r.email_body or cells is THRIVING
    assert "health" not in r.email_body.lower()  # an internal score never goes to the customer
    score = p.scored.loc[p.scored.index[0], "health_score"]
    assert f"{float(score):.1f}" not in r.email_body


def test_missing_data_names_the_placeholders_left_to_fill() -> None:
    """The issue: "Missing data: none" printed beside [placeholders] in the e-mails."""
    from csxl.plays.base import render_text
    from csxl.plays.winback import winback_plan

    gone = make(
        {**MATURE, "account": "Gone", "churn_reason": "Product"},
        mrr=[("Gone", "2026-03", 900.0), ("Gone", "2026-04", 0.0)],
    )
    r = winback_plan(gone, "Gone")
    missing = next(s for s in r.report() if s.title == "Missing data")
    assert "[specific improvement]" in missing.text
    assert "none: every column" not in render_text(r)


# --------------------------------------------------------------------------------------------------------------------
# The portfolio review and the expansion play agree
# --------------------------------------------------------------------------------------------------------------------


def test_portfolio_expansion_pipeline_is_the_expansion_plays() -> None:
    """The issue: `portfolio` said no account had expansion signals (it read only the free-text column) while
    `expansion` found 86. Independent count: the expansion play run on every live account not at risk."""
    from pathlib import Path

    from csxl.book.read import read_book
    from csxl.plays.expansion import expansion_opportunities
    from csxl.plays.portfolio import portfolio_review

    p = read_book(Path(__file__).resolve().parents[1] / "workbooks" / "csxl-demo.xlsx").to_portfolio()
    review = portfolio_review(p)
    live = p.facts[(p.facts["arr_effective"] > 0) & ~p.facts["at_risk"].astype(bool)]
    results = [expansion_opportunities(p, str(name)) for name in live.index]
    with_signals = [r for r in results if r.signals]
    assert with_signals  # the demo has seat-limit and renewal signals without any text
    assert review.expansion.accounts == len(with_signals)
    assert review.expansion.upside == pytest.approx(sum(r.total_upside or 0.0 for r in with_signals), rel=1e-12)
    answer = next(a.answer for a in review.answers if a.question.startswith("What expansion pipeline"))
    assert f"{len(with_signals)} account(s) not at risk show expansion signals" in answer


def test_portfolio_counts_a_seat_signal_without_any_text() -> None:
    from csxl.plays.portfolio import portfolio_review

    full = {"account": "Full", "arr": 12_000, "seats_active": 10, "seats_purchased": 10, **THRIVING}
    quiet = {"account": "Quiet", "arr": 12_000, "seats_active": 2, "seats_purchased": 10, **THRIVING}
    review = portfolio_review(make(full, quiet))
    assert (review.expansion.accounts, review.expansion.top, review.expansion.hot) == (1, ["Full"], 1)


def test_risk_save_and_renewal_give_every_account_the_same_level() -> None:
    """The issue: one risk vocabulary and one level. Before, `risk` and `save` disagreed on 14 of the demo's 215 live
    accounts (risk's leading indicators and save's early-warning signals were two separate rules)."""
    from pathlib import Path

    from csxl.book.read import read_book
    from csxl.plays.renewal import renewal_play
    from csxl.plays.risk import churn_risk
    from csxl.plays.save import save_play

    p = read_book(Path(__file__).resolve().parents[1] / "workbooks" / "csxl-demo.xlsx").to_portfolio()
    live = [str(n) for n in p.facts.index[p.facts["live"].astype(bool)]]
    levels = {n: (churn_risk(p, n).risk_level, save_play(p, n).level) for n in live}
    assert {n: v for n, v in levels.items() if v[0] != v[1]} == {}
    with_renewal = [n for n in live if p.table.loc[n, "renewal_date"] is not None][:40]
    assert all(renewal_play(p, n).level == levels[n][0] for n in with_renewal)


def test_customer_plays_on_a_churned_account_point_to_win_back() -> None:
    from csxl.errors import InputError
    from csxl.plays.expansion import expansion_opportunities
    from csxl.plays.qbr import qbr_prep
    from csxl.plays.renewal import renewal_play

    gone = make({**MATURE, "arr": 0, "renewal_date": "2026-09-01"})
    for play in (qbr_prep, renewal_play, expansion_opportunities, onboarding_plan, success_plan_play):
        with pytest.raises(InputError, match='has churned, so what applies is win-back \\(csxl winback "Old"\\)'):
            play(gone, "Old")


def test_expansion_on_an_at_risk_account_says_to_save_it_first() -> None:
    from csxl.plays.expansion import expansion_opportunities

    critical = make({**MATURE, **CRITICAL, "arr": 12_000, "seats_active": 10, "seats_purchased": 10})
    r = expansion_opportunities(critical, "Old")
    assert r.signals  # the seat limit is still shown
    assert r.caution is not None and "csxl save" in r.caution and "Critical" in r.caution
    thriving = make({**MATURE, **THRIVING, "arr": 12_000})
    assert expansion_opportunities(thriving, "Old").caution is None


def test_one_months_nrr_and_grr_are_never_rated_against_the_annual_targets() -> None:
    """The issue: `portfolio` rated one month's NRR (104.5 %) and GRR (99.1 %) against the annual targets (> 110 %,
    > 90 %). Only the 12-month cohort figures carry a rating; the month rows of the NRR report have none."""
    from pathlib import Path

    from csxl.book.read import read_book
    from csxl.plays.base import render_text
    from csxl.plays.nrr import nrr_play
    from csxl.plays.portfolio import portfolio_review

    p = read_book(Path(__file__).resolve().parents[1] / "workbooks" / "csxl-demo.xlsx").to_portfolio()
    text = render_text(portfolio_review(p))
    month_lines = [line for line in text.splitlines() if "(month)" in line]
    assert month_lines and not any(w in line for line in month_lines for w in ("target", "below", "good", "great"))
    nrr = render_text(nrr_play(p))
    month_rows = [line for line in nrr.splitlines() if line.startswith("month ")]
    assert month_rows and not any(w in line for line in month_rows for w in ("below", "good", "great", "world"))
