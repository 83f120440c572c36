"""Plays 7 (renewal), 9 (cohorts), 10 (success plan), 11 (save) and 12 (NRR) on tiny hand-built portfolios.

Every expected number is worked out by hand in a comment from the spec's tables (engine "Renewal Prep Sequence",
"Target NRR by segment", TTFV table; agent "Intervention playbook by risk level") or from the MRR rows written here.
Dates are pinned: the as-of date is 2026-10-31 unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

import csxl
from csxl.book.render import result_plan
from csxl.errors import InputError
from csxl.facts import last_full_month
from csxl.plays.base import PLAYS, PlayResult, render_markdown, render_text
from csxl.plays.cohorts import cohorts_play
from csxl.plays.nrr import nrr_play
from csxl.plays.renewal import renewal_play
from csxl.plays.save import save_play
from csxl.plays.success_plan import success_plan_play
from csxl.portfolio import Portfolio
from csxl.settings import Settings

AS_OF = dt.date(2026, 10, 31)
DIMS = ("usage", "engagement", "relationship", "outcomes", "financial")


def overrides(points: float) -> dict[str, float]:
    """Every dimension overridden to ``points`` (0..10): the health score is 10 x points under any preset."""
    return {f"{d}_override": points for d in DIMS}


def book(
    accounts: list[dict[str, Any]],
    mrr: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    as_of: dt.date = AS_OF,
) -> Portfolio:
    return Portfolio.from_tables(pd.DataFrame(accounts), mrr, surveys, settings=Settings(as_of=as_of))


def mrr_rows(paths: dict[str, list[float]], first: str) -> pd.DataFrame:
    """Long MRR table from per-account monthly paths starting at month ``first`` (``YYYY-MM``)."""
    months = pd.period_range(first, periods=max(len(p) for p in paths.values()), freq="M").to_timestamp()
    rows = [(a, months[i], v) for a, path in paths.items() for i, v in enumerate(path)]
    return pd.DataFrame(rows, columns=["account", "month", "mrr"])


def days(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


# ==================================================================================================================
# Play 7: renewal
# ==================================================================================================================


@pytest.mark.parametrize(
    ("renewal_in", "status", "due_day", "next_day"),
    [
        # 200 days out: day -90 is 110 days away -> nothing due yet, next is day -90
        (200, "prep not started", None, -90),
        # 91 days out: day -90 falls tomorrow
        (91, "prep not started", None, -90),
        # 90 days out: day -90 is today -> due now
        (90, "in prep", -90, -75),
        # 15 days out: day -30 was 15 days ago, day -14 is tomorrow
        (15, "in prep", -30, -14),
        # 14 days out: day -14 is today
        (14, "in prep", -14, -7),
        # 7 days out: the last step is due, nothing follows
        (7, "in prep", -7, None),
        # renewal day: day -7 (a week ago) is still the step due
        (0, "today", -7, None),
    ],
)
def test_renewal_step_due_now(renewal_in: int, status: str, due_day: int | None, next_day: int | None) -> None:
    p = book([{"account": "Acme", "renewal_date": days(renewal_in), **overrides(7)}])
    r = renewal_play(p, "Acme")
    assert r.days_to_renewal == renewal_in
    assert r.status == status
    assert (r.due_now.day if r.due_now else None) == due_day
    assert (r.next_step.day if r.next_step else None) == next_day
    # every step is dated renewal + day, and exactly the steps before the due one are "passed"
    renewal = days(renewal_in)
    assert [t.date for t in r.timeline] == [renewal + dt.timedelta(days=d) for d in (-90, -75, -60, -45, -30, -14, -7)]
    statuses = [t.status for t in r.timeline]
    assert statuses.count("due now") == (0 if due_day is None else 1)


def test_renewal_real_dates_for_a_known_renewal() -> None:
    # renewal 2026-11-15: -90 -> 2026-08-17, -75 -> 09-01, -60 -> 09-16, -45 -> 10-01, -30 -> 10-16, -14 -> 11-01,
    # -7 -> 11-08 (counted by hand on a calendar; August has 31 days)
    p = book([{"account": "Acme", "renewal_date": dt.date(2026, 11, 15)}])
    r = renewal_play(p, "Acme")
    assert [t.date.isoformat() for t in r.timeline] == [
        "2026-08-17", "2026-09-01", "2026-09-16", "2026-10-01", "2026-10-16", "2026-11-01", "2026-11-08",
    ]  # fmt: skip
    assert [t.status for t in r.timeline] == ["passed"] * 4 + ["due now", "upcoming", "upcoming"]


@pytest.mark.parametrize(
    ("renewal", "status", "fragment"), [(days(-1), "past", "1 day(s) before"), (None, "not set", "blank")]
)
def test_renewal_past_or_missing_gives_a_message_not_a_timeline(
    renewal: dt.date | None, status: str, fragment: str
) -> None:
    p = book([{"account": "Acme", "renewal_date": renewal, **overrides(7)}])
    r = renewal_play(p, "Acme")
    assert r.status == status
    assert fragment in r.message
    assert r.timeline == []
    assert r.due_now is None
    assert ("renewal_date" in [m.column for m in r.missing]) is (renewal is None)


@pytest.mark.parametrize(
    ("cells", "stance", "level"),
    [
        (overrides(9), "expand", "Low"),  # 90 -> Thriving, no signal -> Low
        (overrides(7), "secure", "Medium"),  # 70 -> Healthy, the tier above the at-risk ones -> Medium ("yellow")
        (overrides(5), "recover", "High"),  # 50 -> At-Risk, an at-risk tier -> High (the same level csxl risk gives)
        (overrides(2), "recover", "High"),  # 20 -> Critical -> High level
        ({**overrides(9), "payment_status": "delinquent"}, "recover", "High"),  # High signal beats a Thriving tier
    ],
)
def test_renewal_talk_track_follows_tier_and_level(cells: dict[str, Any], stance: str, level: str) -> None:
    p = book([{"account": "Acme", "renewal_date": days(40), **cells}])
    r = renewal_play(p, "Acme")
    assert (r.stance, r.level) == (stance, level)
    assert r.talk_track  # lines filled from the library
    assert all("{" not in line for line in r.talk_track)


def test_renewal_talk_track_fills_the_account_data() -> None:
    p = book([{"account": "Acme", "renewal_date": days(40), "arr": 120000, "goals_defined": 4, "goals_achieved": 3,
               "seats_purchased": 10, "seats_active": 8, "champion": "Dana Reyes", **overrides(9)}])  # fmt: skip
    text = " ".join(renewal_play(p, "Acme").talk_track)
    assert "3 of 4 goals met" in text
    assert "8/10 active (80%)" in text
    assert "USD 120,000" in text


def test_renewal_unknown_account_raises() -> None:
    p = book([{"account": "Acme"}])
    with pytest.raises(InputError, match="account"):
        renewal_play(p, "Acne Corp")


# ==================================================================================================================
# Play 11: save (and the shared early-warning signals)
# ==================================================================================================================


@pytest.mark.parametrize(
    ("cells", "reason", "basis"),
    [
        # filled churn_reason wins over any signal
        ({"churn_reason": "Price", "champion_status": "left"}, "Price", "churn_reason column"),
        # two High signals: payment failure is listed before champion left
        ({"payment_status": "delinquent", "champion_status": "left"}, "Involuntary", "inferred"),
        # High (champion left) beats Medium (usage down)
        ({"champion_status": "left", "usage_trend": "down"}, "Champion Left", "inferred"),
        # two Medium signals: contract downgraded is listed before usage down
        ({"usage_trend": "down", "contract_trend": "downgraded"}, "Price", "inferred"),
        # only a signal without a category (NPS detractor) -> the default, Value
        ({"nps": 3}, "Value", "no signal points to a cause"),
        # an at-risk tier and no categorised signal -> the default
        (overrides(2), "Value", "no signal points to a cause"),
        # integration disconnected -> Product
        ({"integration": "disconnected"}, "Product", "inferred"),
    ],
)
def test_save_root_cause(cells: dict[str, Any], reason: str, basis: str) -> None:
    p = book([{"account": "Acme", "csm": "Ana", **cells}])
    r = save_play(p, "Acme")
    assert r.reason == reason
    assert basis in r.reason_basis
    assert ("churn_reason" in [m.column for m in r.missing]) is ("churn_reason" not in cells)


@pytest.mark.parametrize(
    ("cells", "level"),
    [
        (overrides(9), "Low"),  # Thriving, no signal
        (overrides(7), "Medium"),  # Healthy, the tier above the at-risk ones -> Medium ("yellow health score")
        (overrides(5), "High"),  # At-Risk, an at-risk tier -> High (the same level csxl risk gives)
        (overrides(2), "High"),  # Critical tier -> High ("red health score")
        ({**overrides(9), "days_since_login": 14}, "High"),  # no login 14+ days is High
        ({**overrides(9), "days_since_login": 13}, "Low"),  # 7..13 days is Low
        ({**overrides(9), "days_since_login": 6}, "Low"),  # no signal
    ],
)
def test_save_level(cells: dict[str, Any], level: str) -> None:
    assert save_play(book([{"account": "Acme", **cells}]), "Acme").level == level


@pytest.mark.parametrize(
    ("cells", "says"),
    [
        (overrides(9), "is not at risk (health Thriving"),  # the issue: a Thriving account got an invented root cause
        ({}, "no warning signal and no health score yet"),
        ({**overrides(9), "days_since_login": 6}, "is not at risk"),
        ({"arr": 0}, "has churned (ARR 0)"),
    ],
)
def test_save_does_not_apply_to_an_account_not_at_risk(cells: dict[str, Any], says: str) -> None:
    """Engine spec: the save play is for an at-risk account; a healthy one gets its tier's playbook and expansion."""
    r = save_play(book([{"account": "Acme", "csm": "Ana", **cells}]), "Acme")
    assert not r.applies and r.level == "Low"
    assert r.steps == [] and r.offer is None and r.reason == "none"
    assert r.instead is not None and says in r.instead
    assert (
        "csxl winback" if "churned" in says else "csxl expansion" if "not at risk" in says else "missing"
    ) in r.instead
    assert r.sections()[0].title == "No save plan"


@pytest.mark.parametrize(
    ("cells", "level", "share"),
    [
        ({**overrides(7), "arr": 100_000}, "Medium", 0.35),  # agent spec predictive tiers: Medium 20-50 % -> 35 %
        ({**overrides(2), "arr": 100_000}, "High", 0.65),  # High 50-80 % -> 65 %
        ({**overrides(2), "arr": 100_000, "churn_probability": 0.42}, "High", 0.42),  # the stored model's probability
    ],
)
def test_arr_at_risk_is_the_expected_loss_in_save_and_risk(cells: dict[str, Any], level: str, share: float) -> None:
    """One rule (csxl.plays.common.arr_at_risk) in save and risk: ARR x churn probability, or x the level's band
    midpoint; never the whole ARR of an account at Low or Medium risk."""
    from csxl.plays.risk import churn_risk

    p = book([{"account": "Acme", **cells}])
    r = save_play(p, "Acme")
    assert r.level == level
    assert r.arr_at_risk == pytest.approx(100_000 * share, abs=1e-6)
    risk = churn_risk(p, "Acme")
    band = {"Low": 0.1, "Medium": 0.35, "High": 0.65, "Critical": 0.9}[risk.risk_level]  # risk's own level
    expected = share if "churn_probability" in cells else band
    assert risk.arr_at_risk == pytest.approx(100_000 * expected, abs=1e-6)


def test_risk_at_low_level_is_not_the_whole_arr() -> None:
    """The issue: `risk` on a Low-risk account reported its whole ARR as at risk."""
    from csxl.plays.risk import churn_risk

    r = churn_risk(book([{"account": "Acme", "arr": 50_000, **overrides(9)}]), "Acme")
    assert r.risk_level == "Low"
    assert r.arr_at_risk == pytest.approx(5_000)  # 10 %: the midpoint of the spec's Low band (0-20 %)
    assert "10% for Low risk" in (r.arr_source or "")


def test_save_steps_are_dated_and_owned() -> None:
    p = book([{"account": "Acme", "csm": "Ana Ruiz", "churn_reason": "Champion Left", **overrides(9)}])
    r = save_play(p, "Acme")
    # Low level: 1 automated step (day 0); champion-left play: 4 steps at 2, 7, 14, 14 days (library save.json)
    assert [(s.due, s.owner) for s in r.steps] == [
        (AS_OF, "Automated"),
        (days(2), "CSM (Ana Ruiz)"),
        (days(7), "CSM (Ana Ruiz)"),
        (days(14), "CS Leader"),
        (days(14), "CSM (Ana Ruiz)"),
    ]
    assert r.steps[1].step == "Within 48 hours: identify new primary contact"  # engine spec, verbatim


@pytest.mark.parametrize(("reason", "discount_refused"), [("Price", False), ("Value", True), ("Product", True)])
def test_save_what_not_to_offer(reason: str, discount_refused: bool) -> None:
    r = save_play(book([{"account": "Acme", "churn_reason": reason}]), "Acme")
    assert "No discount without getting something back (multi-year, case study, referral)" in r.do_not_offer
    assert any(d.startswith("No discount at all") for d in r.do_not_offer) is discount_refused
    assert r.offer is not None
    assert (r.offer.offer == "Discount 20-30%") is (reason == "Price")


@pytest.mark.parametrize(("active", "bought", "fires"), [(2, 10, True), (3, 10, False), (0, 4, True)])
def test_seat_adoption_signal_threshold(active: int, bought: int, fires: bool) -> None:
    # Red below 25 % active seats: 2/10 = 20 % fires, 3/10 = 30 % does not, 0/4 = 0 % fires
    r = save_play(book([{"account": "Acme", "seats_active": active, "seats_purchased": bought}]), "Acme")
    assert ("low_seat_adoption" in [s.id for s in r.signals]) is fires


@pytest.mark.parametrize(
    ("answers", "fires"),
    [
        ([(dt.date(2026, 3, 1), 9), (dt.date(2026, 9, 1), 5)], True),  # latest 5: detractor
        ([(dt.date(2026, 3, 1), 3), (dt.date(2026, 9, 1), 9)], False),  # latest 9: promoter
        ([(dt.date(2026, 3, 1), 9), (dt.date(2026, 11, 9), 2)], False),  # the 2 is after the as-of date
    ],
)
def test_nps_signal_reads_latest_survey_up_to_as_of(answers: list[tuple[dt.date, int]], fires: bool) -> None:
    # nps cell blank -> the latest NPS answer on or before the as-of date (the 2026-11-09 answer is in the future)
    surveys = pd.DataFrame([{"account": "Acme", "date": d, "kind": "nps", "score": s} for d, s in answers])
    r = save_play(book([{"account": "Acme"}], surveys=surveys), "Acme")
    assert ("nps_detractor" in [s.id for s in r.signals]) is fires


def test_save_churned_account_is_flagged() -> None:
    assert save_play(book([{"account": "Acme", "arr": 0, "churn_reason": "Competition"}]), "Acme").churned
    assert not save_play(book([{"account": "Acme", "arr": 1200}]), "Acme").churned


def test_save_unknown_account_raises() -> None:
    with pytest.raises(InputError, match="account"):
        save_play(book([{"account": "Acme"}]), "Nobody")


# ==================================================================================================================
# Play 10: success plan
# ==================================================================================================================


def test_success_plan_milestones_from_start_date() -> None:
    # enterprise: TTFV 30 days. start 2026-10-01: setup +7 = 10-08, first value +30 = 10-31, adoption +42 = 11-12
    p = book([{"account": "Acme", "segment": "enterprise", "start_date": dt.date(2026, 10, 1), "csm": "Ana",
               "integration": "partial", "goals_defined": 3, "goals_achieved": 0, "seats_purchased": 10,
               "seats_active": 8, **overrides(7)}])  # fmt: skip
    r = success_plan_play(p, "Acme")
    got = [(m.name, m.target_date, m.status) for m in r.milestones]
    assert got == [
        ("Technical Setup Complete", dt.date(2026, 10, 8), "at-risk"),  # partial integration, date passed
        ("First Value Delivered", dt.date(2026, 10, 31), "pending"),  # no goal yet, due today (not before)
        ("Full Adoption", dt.date(2026, 11, 12), "complete"),  # 8/10 = 80 % >= 80 %
    ]
    # Healthy tier, still inside the first 90 days: next review = start + 90 = 2026-12-30
    assert r.next_review == dt.date(2026, 12, 30)
    assert r.aha_moment == "First workflow automated + team adopted"


@pytest.mark.parametrize(
    ("cells", "review"),
    [
        ({"segment": "mid-market", "start_date": dt.date(2024, 1, 1), **overrides(5)}, days(7)),  # At-Risk: weekly
        ({"segment": "mid-market", "start_date": dt.date(2024, 1, 1), **overrides(2)}, days(1)),  # Critical: daily
        # Thriving mid-market, past onboarding: semi-annual, 2026-10-31 + 182 days = 2027-05-01
        ({"segment": "mid-market", "start_date": dt.date(2024, 1, 1), **overrides(9)}, dt.date(2027, 5, 1)),
        # enterprise quarterly: + 91 days = 2027-01-30
        ({"segment": "enterprise", "start_date": dt.date(2024, 1, 1), **overrides(9)}, dt.date(2027, 1, 30)),
        ({"segment": "self-serve", "start_date": dt.date(2024, 1, 1), **overrides(9)}, None),  # no QBRs
    ],
)
def test_success_plan_next_review(cells: dict[str, Any], review: dt.date | None) -> None:
    assert success_plan_play(book([{"account": "Acme", **cells}]), "Acme").next_review == review


@pytest.mark.parametrize(
    ("features", "statuses"),
    [
        (0, ["not-started", "not-started"]),
        (1, ["live", "not-started"]),
        (3, ["live", "live"]),
        (4, ["optimizing", "optimizing"]),  # 4+ features is the Green threshold
        (None, ["unknown", "unknown"]),
    ],
)
def test_success_plan_use_cases(features: int | None, statuses: list[str]) -> None:
    p = book([{"account": "Acme", "features_adopted": features, "features_available": 12}])
    assert [u.status for u in success_plan_play(p, "Acme").use_cases] == statuses


def test_success_plan_stakeholders_risks_and_missing_data() -> None:
    p = book([{"account": "Acme", "champion": "Dana Reyes, VP Ops", "exec_sponsor": "CFO", "champion_status": "left",
               "csm": "Ana"}])  # fmt: skip
    r = success_plan_play(p, "Acme")
    assert [(s.role, s.name, s.title) for s in r.stakeholders[:2]] == [
        ("Champion", "Dana Reyes", "VP Ops"),
        ("Exec sponsor", "CFO", None),
    ]
    assert [x.mitigation for x in r.risks] == ["Find new champion within 48h, re-establish exec relationship"]
    missing = [m.column for m in r.missing]
    assert "start_date" in missing  # dated from the as-of date instead
    assert r.milestones[0].target_date == days(7)
    assert "segment" in missing  # no segment and no ARR: the default segment (mid-market) is used
    assert r.segment == "mid-market"


def test_success_plan_segment_from_arr_band() -> None:
    # ARR 150,000 >= 100,000 -> enterprise (engine "Touch Cadence by Tier" bands)
    r = success_plan_play(book([{"account": "Acme", "arr": 150000}]), "Acme")
    assert r.segment == "enterprise"
    assert "segment" not in [m.column for m in r.missing]


# ==================================================================================================================
# Play 9: cohorts
# ==================================================================================================================

SMALL = {"checkpoints": [2], "outlier_min_size": 1}


def cohort_book(paths: dict[str, list[float]], as_of: dt.date = dt.date(2026, 4, 30), **cells: Any) -> Portfolio:
    accounts = [{"account": a, **cells.get(a, {})} for a in paths]
    return book(accounts, mrr_rows(paths, "2026-01"), as_of=as_of)


def test_cohorts_newer_better_expansion_masks_churn() -> None:
    # Jan cohort a1..a4, Feb cohort b1..b4; Jan loses a3, a4 in March (age 2); a1 expands 100 -> 300
    p = cohort_book({
        "a1": [100, 100, 300, 300], "a2": [100] * 4, "a3": [100, 100, 0, 0], "a4": [100, 100, 0, 0],
        "b1": [0, 100, 100, 100], "b2": [0, 100, 100, 100], "b3": [0, 100, 100, 100], "b4": [0, 100, 100, 100],
    })  # fmt: skip
    r = cohorts_play(p, library=SMALL)
    assert [row.retention for row in r.logo] == [[1.0, 1.0, 0.5, 0.5], [1.0, 1.0, 1.0, None]]
    # revenue Jan: M2 = (300 + 100) / 400 = 1.0
    assert r.revenue[0].retention == [1.0, 1.0, 1.0, 1.0]
    # M2: older (Jan) 2/4 = 0.5, recent (Feb) 4/4 = 1.0 -> +0.5 -> better
    (m2,) = r.improvement
    assert (m2.older, m2.recent, m2.verdict) == (0.5, 1.0, "newer retain better")
    # drops: M1 (0 + 0)/8 = 0; M2 (2 + 0)/8 = 0.25; M3 (Jan only) 0/4 = 0 -> steepest M2, onboarding
    assert [d.drop for d in r.drops] == [0.0, 0.25, 0.0]
    assert r.steepest is not None
    assert (r.steepest.month, r.steepest.phase) == (2, "onboarding")
    # outliers at M2: Jan 0.5 vs Feb 1.0 (gap -0.5), Feb 1.0 vs Jan 0.5 (+0.5)
    assert [(o.cohort.month, o.direction, o.gap) for o in r.outliers] == [(1, "worse", -0.5), (2, "better", 0.5)]
    # revenue vs logo at M2: logo (2 + 4)/8 = 0.75, revenue (400 + 400)/800 = 1.0 -> +0.25 masks churn
    (rl,) = r.revenue_vs_logo
    assert (rl.logo, rl.revenue, rl.verdict) == (0.75, 1.0, "expansion masks logo churn")


def test_cohorts_newer_worse_revenue_leaves_faster() -> None:
    # the mirror image: Jan keeps everyone, Feb loses b3, b4 at age 2 and b1 contracts 100 -> 10
    p = cohort_book({
        "a1": [100] * 4, "a2": [100] * 4, "a3": [100] * 4, "a4": [100] * 4,
        "b1": [0, 100, 10, 10], "b2": [0, 100, 100, 100], "b3": [0, 100, 0, 0], "b4": [0, 100, 0, 0],
    })  # fmt: skip
    r = cohorts_play(p, library=SMALL)
    (m2,) = r.improvement
    assert (m2.older, m2.recent, m2.verdict) == (1.0, 0.5, "newer retain worse")
    # M2 pooled: logo (4 + 2)/8 = 0.75; revenue (400 + 110)/800 = 0.6375 -> -0.1125
    (rl,) = r.revenue_vs_logo
    assert rl.revenue == pytest.approx(0.6375)
    assert rl.verdict == "revenue leaves faster than logos"


def test_cohorts_halves_drop_the_middle_cohort_and_pool_by_size() -> None:
    # five cohorts Jan..May at M1: Jan 1/2, Feb 2/2, Mar 2/2 (the middle one, left out), Apr 1/2, May 4/4
    zero = [0.0]
    p = cohort_book(
        {
            "j1": [100.0] * 6, "j2": [100.0] + zero * 5,
            "f1": zero + [100.0] * 5, "f2": zero + [100.0] * 5,
            "m1": zero * 2 + [100.0] * 4, "m2": zero * 2 + [100.0] * 4,
            "a1": zero * 3 + [100.0] * 3, "a2": zero * 3 + [100.0] + zero * 2,
            **{f"y{i}": zero * 4 + [100.0] * 2 for i in range(4)},
        },
        as_of=dt.date(2026, 6, 30),
    )  # fmt: skip
    (m1,) = cohorts_play(p, library={"checkpoints": [1]}).improvement
    # older = Jan + Feb: (1 + 2) / 4 = 0.75; recent = Apr + May: (1 + 4) / 6 = 0.8333 (an unweighted mean of the
    # two cohorts would be (0.5 + 1.0) / 2 = 0.75: "about the same")
    assert (m1.older_cohorts, m1.recent_cohorts) == (2, 2)
    assert m1.older == 0.75
    assert m1.recent == pytest.approx(5 / 6)
    assert m1.verdict == "newer retain better"


def test_cohorts_flat_portfolio_has_no_cliff_and_no_outlier() -> None:
    p = cohort_book({"a1": [100] * 4, "a2": [100] * 4, "b1": [0, 100, 100, 100], "b2": [0, 100, 100, 100]})
    r = cohorts_play(p, library=SMALL)
    assert r.improvement[0].verdict == "about the same"
    assert r.steepest is None
    assert r.outliers == []
    assert r.revenue_vs_logo[0].verdict == "move together"


@pytest.mark.parametrize(
    ("churn_age", "phase"),
    [(2, "onboarding"), (3, "onboarding"), (4, "adoption"), (7, "value/renewal"), (12, "value/renewal"),
     (13, "later renewal")],
)  # fmt: skip
def test_cohorts_cliff_phase(churn_age: int, phase: str) -> None:
    # one cohort of 2; a2 pays ages 0..churn_age-1 and is 0 from churn_age on: the only drop is at churn_age
    n = churn_age + 1
    paths = {"a1": [100.0] * n, "a2": [100.0] * churn_age + [0.0]}
    as_of = pd.Period("2026-01", "M") + churn_age
    r = cohorts_play(cohort_book(paths, as_of=as_of.end_time.date()))
    assert r.steepest is not None
    assert (r.steepest.month, r.steepest.drop, r.steepest.phase) == (churn_age, 0.5, phase)


def test_cohorts_left_censored_first_cohort_is_left_out_of_findings() -> None:
    paths = {"a1": [100] * 4, "a2": [100, 100, 0, 0], "b1": [0, 100, 100, 100], "b2": [0, 100, 100, 100]}
    plain = cohorts_play(cohort_book(paths), library=SMALL)
    assert plain.excluded_cohort is None
    assert plain.improvement[0].verdict == "newer retain better"  # Jan 0.5 vs Feb 1.0
    censored = cohorts_play(cohort_book(paths, a1={"start_date": dt.date(2025, 6, 1)}), library=SMALL)
    assert censored.excluded_cohort == dt.date(2026, 1, 1)
    assert censored.improvement[0].verdict == "not enough cohorts"  # only Feb is left
    assert len(censored.logo) == 2  # still shown in the table


def test_cohorts_missing_or_short_data() -> None:
    empty = cohorts_play(book([{"account": "Acme"}]))
    assert empty.logo == []
    assert [m.column for m in empty.missing] == ["MRR sheet"]
    # MRR ends in March, as-of is in April: the analysis stops at March and says so
    short = cohorts_play(cohort_book({"a1": [100, 100, 100]}))
    assert short.cut_month == dt.date(2026, 3, 1)
    assert "ends in 2026-03" in short.message


# ==================================================================================================================
# Play 12: NRR
# ==================================================================================================================


@pytest.mark.parametrize(
    ("as_of", "month"),
    [
        (dt.date(2026, 10, 31), "2026-10"),  # last day: the month itself is full
        (dt.date(2026, 10, 30), "2026-09"),
        (dt.date(2026, 3, 1), "2026-02"),
        (dt.date(2024, 2, 29), "2024-02"),  # leap day is February's last day
        (dt.date(2026, 1, 15), "2025-12"),
    ],
)
def test_last_full_month(as_of: dt.date, month: str) -> None:
    assert f"{last_full_month(as_of):%Y-%m}" == month


def nrr_book() -> Portfolio:
    # 13 months 2025-10 .. 2026-10 (index 0..12)
    paths = {
        "e1": [1000.0] * 12 + [1200.0],  # expands +200 in 2026-10
        "e2": [500.0] * 12 + [0.0],  # churns 500 in 2026-10
        "m1": [300.0] * 6 + [200.0] * 7,  # contracts 300 -> 200 in 2026-04
        "s1": [0.0] * 5 + [100.0] * 5 + [150.0] * 3,  # new in 2026-03, expands +50 in 2026-08
        "s2": [200.0] * 8 + [0.0] * 5,  # churns 200 in 2026-06
    }
    accounts = [
        {"account": "e1", "segment": "enterprise"},
        {"account": "e2", "segment": "enterprise"},
        {"account": "m1", "segment": "mid-market"},
        {"account": "s1", "segment": "smb"},
        {"account": "s2", "segment": "smb"},
    ]
    return book(accounts, mrr_rows(paths, "2025-10"))


def line(result: Any, scope: str, measure: str) -> Any:
    return next(x for x in result.lines if x.scope == scope and x.measure == measure)


def test_nrr_hand_computed_portfolio() -> None:
    r = nrr_play(nrr_book())
    assert r.last_full_month == dt.date(2026, 10, 1)
    # month 2026-10 (prev = 09): start e1 1000 + e2 500 + m1 200 + s1 150 = 1850; expansion 200, churn 500
    m = line(r, "portfolio", "month")
    assert (m.start_mrr, m.expansion, m.contraction, m.churned) == (1850, 200, 0, 500)
    assert m.nrr == pytest.approx(1550 / 1850)
    assert m.grr == pytest.approx(1350 / 1850)
    # trailing 12 (2025-11..2026-10), start = 2025-10 MRR = 1000 + 500 + 300 + 200 = 2000;
    # expansion 200 (e1) + 50 (s1, won inside the window), contraction 100 (m1), churn 500 (e2) + 200 (s2)
    t = line(r, "portfolio", "trailing 12 months")
    assert (t.start_mrr, t.expansion, t.contraction, t.churned) == (2000, 250, 100, 700)
    assert t.nrr == pytest.approx(1450 / 2000)
    # 12-month cohort: base = 2025-10 payers (s1 not in it): expansion 200, contraction 100, churn 700
    c = line(r, "portfolio", "12-month cohort")
    assert (c.start_mrr, c.expansion, c.contraction, c.churned) == (2000, 200, 100, 700)
    assert c.nrr == pytest.approx(0.70)  # (2000 + 200 - 100 - 700) / 2000
    assert c.grr == pytest.approx(0.60)  # (2000 - 800) / 2000
    assert c.rating == "critical"  # agent spec: < 90 % is critical


def test_nrr_by_segment_against_targets() -> None:
    r = nrr_play(nrr_book())
    assert [x.scope for x in r.lines if x.measure == "month"] == ["portfolio", "enterprise", "mid-market", "smb"]
    ent = line(r, "enterprise", "12-month cohort")
    # enterprise: start 1500, +200, -500 -> 1200 / 1500 = 0.8; target good 110 % (engine spec)
    assert ent.nrr == pytest.approx(0.8)
    assert (ent.target_good, ent.target_great, ent.target_world_class) == (1.10, 1.20, 1.30)
    assert ent.rating == "below good (110%)"
    # smb cohort: s2 200 -> 0 = 0.0; trailing 12: s1's +50 counts -> 50 / 200 = 0.25
    assert line(r, "smb", "12-month cohort").nrr == 0.0
    assert line(r, "smb", "trailing 12 months").nrr == pytest.approx(0.25)
    assert line(r, "mid-market", "12-month cohort").nrr == pytest.approx(200 / 300)


def test_nrr_agrees_with_the_core_functions() -> None:
    # independent computation: csxl.mrr_movements / period_rates and csxl.cohort_nrr / cohort_grr
    p = Portfolio.from_demo(csxl.demo_portfolio(accounts=60, seed=3))
    r = nrr_play(p)
    rates = csxl.period_rates(csxl.mrr_movements(p.mrr, as_of="2026-10")).iloc[-1]
    m = line(r, "portfolio", "month")
    assert m.nrr == pytest.approx(rates["nrr"])
    assert m.grr == pytest.approx(rates["grr"])
    assert m.expansion == pytest.approx(rates["expansion"])
    c = line(r, "portfolio", "12-month cohort")
    assert c.nrr == pytest.approx(csxl.cohort_nrr(p.mrr, "2026-10", 12))
    assert c.grr == pytest.approx(csxl.cohort_grr(p.mrr, "2026-10", 12))
    # segments add up to the portfolio
    segs = [x for x in r.lines if x.measure == "12-month cohort" and x.scope != "portfolio"]
    assert sum(x.start_mrr for x in segs) == pytest.approx(c.start_mrr)


@pytest.mark.parametrize(
    ("now", "rating"),
    [(1300.0, "world-class"), (1299.0, "great"), (1200.0, "great"), (1100.0, "good"), (1099.0, "below good (110%)")],
)
def test_nrr_enterprise_rating_boundaries(now: float, rating: str) -> None:
    # one enterprise account, 1000 in 2025-10 -> ``now`` in 2026-10: cohort NRR = now / 1000
    mrr = mrr_rows({"e": [1000.0] * 12 + [now]}, "2025-10")
    r = nrr_play(book([{"account": "e", "segment": "enterprise"}], mrr))
    assert line(r, "enterprise", "12-month cohort").rating == rating


def test_nrr_missing_data_is_reported() -> None:
    assert [m.column for m in nrr_play(book([{"account": "a"}])).missing] == ["MRR sheet"]
    one_month = nrr_play(book([{"account": "a"}], mrr_rows({"a": [10.0]}, "2026-10")))
    assert one_month.lines == []
    assert "no earlier month" in one_month.message
    # 3 months: a month line but no 12-month figures; b is not on the Accounts sheet; a's segment is blank, so it
    # takes the band of its effective ARR (12 x 10 = 120 a year: self-serve), as in every play (csxl.facts)
    short = nrr_play(book([{"account": "a"}], mrr_rows({"a": [10.0] * 3, "b": [5.0] * 3}, "2026-08")))
    assert {x.measure for x in short.lines} == {"month"}
    assert {x.scope for x in short.lines} == {"portfolio", "self-serve", "not on Accounts sheet"}
    assert [m.column for m in short.missing] == ["Accounts sheet"]


def test_nrr_mid_month_as_of_uses_previous_month() -> None:
    p = book([{"account": "a"}], mrr_rows({"a": [100.0, 100.0, 150.0]}, "2026-08"), as_of=dt.date(2026, 10, 15))
    r = nrr_play(p)
    # last full month = September: 100 -> 100, NRR 1.0 (October's +50 is not counted yet)
    assert r.last_full_month == dt.date(2026, 9, 1)
    assert line(r, "portfolio", "month").nrr == 1.0


# ==================================================================================================================
# Every play: registry, JSON round trip, schema, renderers, determinism
# ==================================================================================================================


@pytest.fixture(scope="module")
def demo() -> Portfolio:
    return Portfolio.from_demo(csxl.demo_portfolio())


RUNS = [
    ("renewal", 7, True),
    ("cohorts", 9, False),
    ("success-plan", 10, True),
    ("save", 11, True),
    ("nrr", 12, False),
]


@pytest.mark.parametrize(("name", "number", "needs_account"), RUNS)
def test_play_registered(name: str, number: int, needs_account: bool) -> None:
    play = PLAYS[name]
    assert (play.number, play.needs_account) == (number, needs_account)


@pytest.mark.parametrize(("name", "number", "needs_account"), RUNS)
def test_play_round_trip_render_and_determinism(demo: Portfolio, name: str, number: int, needs_account: bool) -> None:
    play = PLAYS[name]
    # the customer plays refuse a churned account (win-back applies), the win-back play a live one
    live = demo.facts["arr_effective"] > 0
    if name == "winback":
        pool = demo.facts.index[~live]
    elif name in ("qbr", "renewal", "expansion", "onboarding", "success-plan"):
        pool = demo.facts.index[live]
    else:
        pool = demo.facts.index
    accounts = [str(a) for a in pool[:25]] if needs_account else [None]
    for account in accounts:
        result = play.run(demo, account) if needs_account else play.run(demo)
        assert isinstance(result, play.result)
        assert result.as_of == demo.as_of
        again = type(result).model_validate_json(result.model_dump_json())
        assert again == result
        assert "properties" in type(result).model_json_schema()
        text, md = render_text(result), render_markdown(result)
        assert result.title() in text
        assert md.startswith("# ")
        assert result_plan(result, "Play").sheets() == ["Play"]
    if needs_account:
        assert play.run(demo, accounts[0]) == play.run(demo, accounts[0])
    else:
        assert play.run(demo) == play.run(demo)


def test_results_are_play_results(demo: Portfolio) -> None:
    for result in (nrr_play(demo), cohorts_play(demo)):
        assert isinstance(result, PlayResult)
        assert result.conventions
        assert "NaN" not in result.model_dump_json()  # missing cells are null, never NaN
