"""Plays 1-6 (score, onboarding, qbr, risk, expansion, winback) on tiny hand-built portfolios.

Every portfolio here is built with :meth:`Portfolio.from_tables` and a pinned as-of date (2026-06-30), so every date
in a result is checked against a hand calculation. Each rule is tested both ways: signal present -> flagged, absent ->
not flagged, blank -> reported as missing data. Expected texts and thresholds come from the spec (quoted in comments)
or from the library JSON files, which hold the spec's tables.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

import csxl
from csxl.errors import InputError
from csxl.plays.base import PLAYS, PlayResult, load_library, render_markdown, render_text
from csxl.plays.expansion import ExpansionResult, expansion_opportunities
from csxl.plays.onboarding import OnboardingResult, onboarding_plan
from csxl.plays.onboarding_metrics import OnboardingMetrics, onboarding_metrics
from csxl.plays.qbr import QbrResult, qbr_prep
from csxl.plays.risk import LEVELS, RiskResult, churn_risk
from csxl.plays.score import ScoreResult, score_play
from csxl.plays.winback import WinbackResult, winback_plan
from csxl.portfolio import Portfolio
from csxl.settings import INSUFFICIENT_DATA, Settings

AS_OF = dt.date(2026, 6, 30)
D = dt.date


def make(
    *accounts: dict[str, Any],
    mrr: list[tuple[str, str, float]] | None = None,
    surveys: list[tuple[str, str, str, int]] | None = None,
    history: list[tuple[str, str, float]] | None = None,
    as_of: dt.date = AS_OF,
    settings: Settings | None = None,
) -> Portfolio:
    """A portfolio from plain rows; fails loudly if the loader dropped a row (a test-setup mistake)."""
    p = Portfolio.from_tables(
        pd.DataFrame(list(accounts)),
        None if mrr is None else pd.DataFrame(mrr, columns=["account", "month", "mrr"]),
        None if surveys is None else pd.DataFrame(surveys, columns=["account", "date", "kind", "score"]),
        None
        if history is None
        else pd.DataFrame(
            [(d, a, s, None, None, None) for a, d, s in history],
            columns=["as_of", "account", "health_score", "health_tier", "simple_points", "arr"],
        ),
        settings=settings,
        as_of=as_of,
    )
    assert not p.issues, p.issues
    return p


def overrides(value: float) -> dict[str, float]:
    """Every dimension pinned to ``value`` (0..10) -> health score ``10 * value`` under any weights."""
    return {f"{d}_override": value for d in ("usage", "engagement", "relationship", "outcomes", "financial")}


def missing_columns(result: Any) -> set[str]:
    return {m.column for m in result.missing}


# --------------------------------------------------------------------------------------------------------------------
# Shared behaviour of the six plays
# --------------------------------------------------------------------------------------------------------------------

LIVE = {"account": "Acme", "segment": "enterprise", "arr": 120000.0, "csm": "Ana", "champion": "Sam",
        "start_date": "2026-01-01", "renewal_date": "2026-08-29", "seats_active": 40, "seats_purchased": 40,
        **overrides(9.0)}  # fmt: skip
GONE = {"account": "Gone", "segment": "smb", "churn_reason": "Product", "champion": "Lee", "csm": "Ana"}
MRR = [("Acme", "2026-05", 10000.0), ("Acme", "2026-06", 10000.0), ("Gone", "2026-02", 500.0)]


def _both() -> Portfolio:
    return make(LIVE, GONE, mrr=MRR)


PLAY_CALLS: list[tuple[str, Callable[..., PlayResult], str, type[PlayResult]]] = [
    ("score", score_play, "Acme", ScoreResult),
    ("onboarding", onboarding_plan, "Acme", OnboardingResult),
    ("qbr", qbr_prep, "Acme", QbrResult),
    ("risk", churn_risk, "Acme", RiskResult),
    ("expansion", expansion_opportunities, "Acme", ExpansionResult),
    ("winback", winback_plan, "Gone", WinbackResult),
]


@pytest.mark.parametrize(("name", "play", "account", "model"), PLAY_CALLS)
def test_play_is_registered_with_its_spec_number(
    name: str, play: Callable[..., PlayResult], account: str, model: type[PlayResult]
) -> None:
    # spec "Natural Language Commands": 1 score, 2 onboarding, 3 QBR, 4 churn risk, 5 expansion, 6 win-back
    numbers = {"score": 1, "onboarding": 2, "qbr": 3, "risk": 4, "expansion": 5, "winback": 6}
    entry = PLAYS[name]
    assert (entry.number, entry.needs_account, entry.result, entry.run) == (numbers[name], True, model, play)


@pytest.mark.parametrize(("name", "play", "account", "model"), PLAY_CALLS)
def test_unknown_account_is_the_portfolio_input_error(
    name: str, play: Callable[..., PlayResult], account: str, model: type[PlayResult]
) -> None:
    with pytest.raises(InputError, match="did you mean 'Acme'") as err:
        play(_both(), "Acm")
    assert err.value.field == "account"


@pytest.mark.parametrize(("name", "play", "account", "model"), PLAY_CALLS)
def test_json_round_trips_and_matches_the_schema(
    name: str, play: Callable[..., PlayResult], account: str, model: type[PlayResult]
) -> None:
    result = play(_both(), account.lower())  # names match ignoring case
    assert type(result) is model
    assert result.account == account
    assert result.as_of == AS_OF
    assert result.command == name
    dumped = json.loads(json.dumps(result.model_dump(mode="json")))
    assert model.model_validate(dumped) == result
    schema = model.model_json_schema()
    assert set(schema["required"]) <= set(dumped)
    assert set(dumped) <= set(schema["properties"])
    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError:  # optional: the round trip above already checks the model
        return
    jsonschema.validate(dumped, schema)


@pytest.mark.parametrize(("name", "play", "account", "model"), PLAY_CALLS)
def test_renderers_print_every_section(
    name: str, play: Callable[..., PlayResult], account: str, model: type[PlayResult]
) -> None:
    result = play(_both(), account)
    text, markdown = render_text(result), render_markdown(result)
    assert text.startswith(f"{name}: {account} (as of 2026-06-30)")
    assert markdown.startswith(f"# {name}: {account} (as of 2026-06-30)")
    for section in result.sections():
        assert section.title in text
        assert f"## {section.title}" in markdown


@pytest.mark.parametrize(("name", "play", "account", "model"), PLAY_CALLS)
def test_same_as_of_gives_the_same_result(
    name: str, play: Callable[..., PlayResult], account: str, model: type[PlayResult]
) -> None:
    assert play(_both(), account).model_dump() == play(_both(), account).model_dump()


def test_library_override_replaces_a_default_text() -> None:
    custom = {"Thriving": {"min_score": 80, "action": "Celebrate", "steps": ["Send cake"]}}
    result = score_play(_both(), "Acme", library={"playbooks": custom})
    assert (result.playbook_tier, result.playbook) == ("Thriving", ["Send cake"])


def test_demo_portfolio_runs_every_play() -> None:
    p = Portfolio.from_demo(csxl.demo_portfolio())
    live = p.facts["arr_effective"] > 0
    for name in p.facts.index[live][:25]:
        for play in (score_play, onboarding_plan, qbr_prep, churn_risk, expansion_opportunities):
            render_text(play(p, name))
    churned = p.accounts.loc[p.accounts["churn_reason"].notna(), "account"].tolist()
    assert churned
    for name in churned:
        assert winback_plan(p, name).churn_date <= p.as_of
        render_text(score_play(p, name))  # the score and the risk still read a churned account
        for play in (onboarding_plan, qbr_prep, expansion_opportunities):  # for customers: win-back applies instead
            with pytest.raises(InputError, match="has churned, so what applies is win-back"):
                play(p, name)


# --------------------------------------------------------------------------------------------------------------------
# 1. score
# --------------------------------------------------------------------------------------------------------------------


def test_score_explanation_by_hand() -> None:
    # engine weights .3/.2/.15/.2/.15 with outcomes blank -> present weights sum .8 (docs/health.md example):
    # score = 10 * (.3*8 + .2*6 + .15*5 + .15*9) / .8 = 10 * 5.7 / .8 = 71.25 -> Healthy (60-79)
    p = make({"account": "A", "usage_override": 8, "engagement_override": 6, "relationship_override": 5,
              "financial_override": 9})  # fmt: skip
    r = score_play(p, "A")
    assert r.health_score == pytest.approx(71.25)
    assert r.health_tier == "Healthy"
    assert r.playbook_tier == "Healthy"
    # lost = 10 * w_eff * (10 - s): engagement .25*40 = 10, relationship .1875*50 = 9.375, usage .375*20 = 7.5,
    # financial .1875*10 = 1.875, outcomes missing 0 (last)
    assert [d.dimension for d in r.explanation] == ["engagement", "relationship", "usage", "financial", "outcomes"]
    assert [d.lost for d in r.explanation] == pytest.approx([10, 9.375, 7.5, 1.875, 0])
    # points = 10 * w_eff * s: 15 + 9.375 + 30 + 16.875 = 71.25
    assert [d.points for d in r.explanation] == pytest.approx([15, 9.375, 30, 16.875, 0])
    assert r.main_risk == "engagement"


@pytest.mark.parametrize(
    ("value", "tier"),
    [(8.5, "Thriving"), (6.5, "Healthy"), (4.5, "At-Risk"), (2.0, "Critical")],  # engine tiers 80/60/40/0
)
def test_score_playbook_follows_the_tier(value: float, tier: str) -> None:
    r = score_play(make({"account": "A", **overrides(value)}), "A")
    assert r.health_score == pytest.approx(10 * value)
    assert r.playbook_tier == tier
    assert r.playbook == load_library("score")["playbooks"][tier]["steps"]


@pytest.mark.parametrize(("value", "growth_tier", "playbook"), [(5.5, "Yellow", "At-Risk"), (7.0, "Yellow", "Healthy")])
def test_growth_tiers_pick_the_playbook_by_score_band(value: float, growth_tier: str, playbook: str) -> None:
    # growth preset: Green >= 80, Yellow >= 50; playbooks by the engine bands 80/60/40/0
    r = score_play(make({"account": "A", **overrides(value)}, settings=Settings(preset="growth")), "A")
    assert (r.health_tier, r.playbook_tier, r.preset) == (growth_tier, playbook, "growth")
    assert any("not a playbook tier" in c for c in r.conventions)


@pytest.mark.parametrize(
    ("cells", "signal", "rating"),
    [  # agent spec, HEALTH SCORING MODEL, Red/Yellow/Green thresholds per signal (csxl.SIGNALS)
        ({"logins_per_week": 3.0}, "logins_per_week", "Green"),
        ({"logins_per_week": 2.9}, "logins_per_week", "Yellow"),
        ({"logins_per_week": 0.4}, "logins_per_week", "Red"),
        ({"days_since_login": 2}, "days_since_login", "Green"),
        ({"days_since_login": 14}, "days_since_login", "Yellow"),
        ({"days_since_login": 15}, "days_since_login", "Red"),
        ({"features_adopted": 4}, "features_adopted", "Green"),
        ({"features_adopted": 1}, "features_adopted", "Red"),
        ({"seats_active": 31, "seats_purchased": 40}, "seat_adoption", "Green"),  # .775 > .75
        ({"seats_active": 30, "seats_purchased": 40}, "seat_adoption", "Yellow"),  # .75 is not > .75
        ({"seats_active": 9, "seats_purchased": 40}, "seat_adoption", "Red"),  # .225 < .25
        ({"integration": "partial"}, "integration", "Yellow"),
        ({"champion_status": "left"}, "champion", "Red"),
        ({"champion_status": "new"}, "champion", "Yellow"),
        ({"contacts_count": 4}, "contacts", "Green"),
        ({"exec_sponsor_status": "none"}, "exec_sponsor", "Red"),
        ({"payment_status": "late"}, "payment", "Yellow"),
        ({"contract_trend": "expanded"}, "contract_trend", "Green"),
        ({"login_trend": "up"}, "login_trend", "Green"),
        ({"usage_trend": "down"}, "usage_trend", "Red"),
        ({"nps": 9}, "nps", "Green"),
        ({"nps": 7}, "nps", "Yellow"),
        ({"nps": 6}, "nps", "Red"),
    ],
)
def test_score_rates_each_signal_with_data(cells: dict[str, Any], signal: str, rating: str) -> None:
    r = score_play(make({"account": "A", **cells}), "A")
    assert {s.signal: s.rating for s in r.signals}[signal] == rating


def test_score_lists_signals_without_data_as_missing() -> None:
    r = score_play(make({"account": "A", "nps": 9}), "A")
    assert [s.signal for s in r.signals] == ["nps"]
    assert {"logins_per_week", "seats_active", "seats_purchased", "champion_status", "segment"} <= missing_columns(r)
    assert "nps" not in missing_columns(r)


def test_score_uses_settings_cutoffs_and_surveys_for_nps() -> None:
    # nps blank -> the latest NPS answer up to as-of (8; the 10 is after as-of); Settings cut-offs green >= 8
    surveys = [("A", "2026-05-01", "nps", 3), ("A", "2026-06-15", "nps", 8), ("A", "2026-07-02", "nps", 10)]
    default = score_play(make({"account": "A"}, surveys=surveys), "A")
    tuned = make({"account": "A"}, surveys=surveys, settings=Settings(simple_cutoffs={"nps": (8, 6)}))
    assert [(s.signal, s.rating) for s in default.signals] == [("nps", "Yellow")]  # 8: 7 <= 8 < 9
    assert [(s.signal, s.rating) for s in score_play(tuned, "A").signals] == [("nps", "Green")]


def test_score_without_any_signal_still_answers() -> None:
    r = score_play(make({"account": "A"}), "A")
    got = (r.health_score, r.health_tier, r.explanation, r.playbook_tier, r.cadence)
    assert got == (None, INSUFFICIENT_DATA, [], None, None)
    assert "segment" in missing_columns(r)


@pytest.mark.parametrize(
    ("cells", "segment", "sync", "qbrs", "from_arr"),
    [  # engine spec "Touch Cadence by Tier"
        ({"segment": "enterprise"}, "enterprise", "Bi-weekly", "Quarterly", False),
        ({"segment": "self-serve"}, "self-serve", "None (reactive)", "None", False),
        ({"arr": 30000}, "mid-market", "Monthly", "Semi-annual", True),  # $25-100K
        ({"arr": 4999}, "self-serve", "None (reactive)", "None", True),  # < $5K
        ({"arr": 100000}, "enterprise", "Bi-weekly", "Quarterly", True),  # $100K+
    ],
)
def test_score_cadence_by_segment_or_arr(
    cells: dict[str, Any], segment: str, sync: str, qbrs: str, from_arr: bool
) -> None:
    r = score_play(make({"account": "A", **cells}), "A")
    assert r.cadence is not None
    assert (r.cadence.segment, r.cadence.sync_meetings, r.cadence.qbrs) == (segment, sync, qbrs)
    assert ("from ARR" in r.cadence.source) is from_arr


# --------------------------------------------------------------------------------------------------------------------
# 2. onboarding
# --------------------------------------------------------------------------------------------------------------------


def _onboard(**cells: Any) -> OnboardingResult:
    base = {"account": "A", "segment": "enterprise", "start_date": "2026-06-01"}
    return onboarding_plan(make({**base, **cells}), "A")


def test_onboarding_plan_is_dated_from_start_date() -> None:
    r = _onboard(integration="connected")  # day 0 = 2026-06-01, as-of 2026-06-30 = day 29
    assert (r.day, r.in_onboarding) == (29, True)
    due = {m.item: m.due for m in r.milestones}
    assert due["Integration(s) connected"] == D(2026, 6, 4)  # day 3
    assert due["30-day check-in: review progress vs success plan"] == D(2026, 7, 1)  # June 1 + 30
    assert due["90-day review: success plan scorecard, next quarter goals"] == D(2026, 8, 30)  # +90 (30+31+29)
    windows = {p.phase: (p.start, p.end) for p in r.phases}
    assert windows["Week 1: Technical Setup"] == (D(2026, 6, 1), D(2026, 6, 7))  # days 0-6
    assert windows["Week 2-3: Core Adoption"] == (D(2026, 6, 8), D(2026, 6, 21))  # days 7-20
    assert windows["Week 7-12: Optimization"] == (D(2026, 7, 13), D(2026, 8, 23))  # days 42-83
    assert len(r.milestones) == sum(len(p["milestones"]) for p in load_library("onboarding")["phases"])


@pytest.mark.parametrize(
    ("cells", "item", "status"),
    [
        ({"integration": "connected"}, "Integration(s) connected", "done"),
        ({"integration": "disconnected"}, "Integration(s) connected", "overdue"),  # due June 4 < June 30
        ({"start_date": "2026-06-29", "integration": "partial"}, "Integration(s) connected", "open"),  # due July 2
        ({}, "Integration(s) connected", "check"),  # blank, past due
        ({"seats_active": 32, "seats_purchased": 40}, "80% of licensed users active", "done"),  # .8 >= .8
        ({"seats_active": 31, "seats_purchased": 40}, "80% of licensed users active", "open"),  # due July 13
        ({"roi_documented": False}, "ROI calculation (first draft)", "open"),
        ({}, "Admin trained on core settings", "check"),  # no csxl column
        ({}, "Workflow optimization session", "upcoming"),  # day 70 = Aug 10
    ],
)
def test_onboarding_milestone_status(cells: dict[str, Any], item: str, status: str) -> None:
    assert {m.item: m.status for m in _onboard(**cells).milestones}[item] == status


@pytest.mark.parametrize(
    ("segment", "target", "target_date"),
    [  # engine spec TTFV table: 30 days, 14 days, 24 hours, 10 minutes
        ("enterprise", "30 days", D(2026, 7, 1)),
        ("mid-market", "14 days", D(2026, 6, 15)),
        ("smb", "24 hours", D(2026, 6, 2)),
        ("self-serve", "10 minutes", D(2026, 6, 1)),
    ],
)
def test_onboarding_ttfv_target_by_segment(segment: str, target: str, target_date: dt.date) -> None:
    r = _onboard(segment=segment)
    assert (r.ttfv_target, r.ttfv_target_date) == (target, target_date)
    assert r.aha_moment == load_library("onboarding")["aha"][segment]["aha_moment"]


def _risk(r: OnboardingResult, signal: str) -> bool | None:
    return {x.signal: x.present for x in r.risks}[signal]


@pytest.mark.parametrize(
    ("cells", "signal", "present"),
    [
        ({"champion_status": "left"}, "Champion leaves company", True),
        ({"champion_status": "strong"}, "Champion leaves company", False),
        ({}, "Champion leaves company", None),
        # day 29: last login on day 29 - 27 = 2 <= 3 -> nothing after day 3
        ({"days_since_login": 27}, "No login after Day 3", True),
        ({"days_since_login": 26}, "No login after Day 3", True),  # last login day 3: nothing after it
        ({"days_since_login": 25}, "No login after Day 3", False),  # last login day 4
        ({"start_date": "2026-06-28", "days_since_login": 2}, "No login after Day 3", False),  # day 2: too early
        ({"logins_per_week": 0}, "No login after Day 3", True),
        ({"integration": "disconnected"}, "Integration fails", True),
        ({"integration": "partial"}, "Integration fails", False),
        # day 60 (May 1 -> June 30): activation 10/40 = 25% < 50%
        ({"start_date": "2026-05-01", "seats_active": 10, "seats_purchased": 40}, "<50% user activation by Day 30",
         True),
        ({"start_date": "2026-05-01", "seats_active": 20, "seats_purchased": 40}, "<50% user activation by Day 30",
         False),  # exactly 50%
        ({"start_date": "2026-06-10", "seats_active": 10, "seats_purchased": 40}, "<50% user activation by Day 30",
         False),  # day 20: not assessed yet
        ({"exec_sponsor_status": "none"}, "No exec sponsor identified", True),
        ({"exec_sponsor_status": "identified"}, "No exec sponsor identified", False),
        ({"exec_sponsor": "n/a"}, "No exec sponsor identified", True),
        ({"exec_sponsor": "Dana (VP Ops)"}, "No exec sponsor identified", False),
        ({}, "No exec sponsor identified", None),
    ],
)  # fmt: skip
def test_onboarding_risk_signals(cells: dict[str, Any], signal: str, present: bool | None) -> None:
    assert _risk(_onboard(**cells), signal) is present


@pytest.mark.parametrize(("kickoff", "present"), [("2026-06-09", True), ("2026-06-08", False), (None, None)])
def test_onboarding_kickoff_from_optional_column(kickoff: str | None, present: bool | None) -> None:
    # kickoff delayed > 1 week: June 9 is day 8, June 8 day 7; the heading is read like csxl's own ("Kickoff Date")
    r = onboarding_plan(make({"account": "A", "start_date": "2026-06-01", "Kickoff Date": kickoff}), "A")
    assert _risk(r, "Kickoff delayed >1 week") is present
    assert ("kickoff_date" in missing_columns(r)) is (kickoff is None)


def test_onboarding_without_kickoff_column_says_which_column_to_add() -> None:
    r = _onboard()
    assert _risk(r, "Kickoff delayed >1 week") is None
    assert "kickoff_date" in missing_columns(r)


def test_onboarding_bad_optional_date_is_an_input_error() -> None:
    with pytest.raises(InputError, match="kickoff_date must be a date") as err:
        onboarding_plan(make({"account": "A", "start_date": "2026-06-01", "kickoff_date": "09/06/2026"}), "A")
    assert "'A'" in str(err.value)


def test_onboarding_without_start_date_lists_it_and_keeps_the_plan() -> None:
    r = onboarding_plan(make({"account": "A", "integration": "connected"}), "A")
    assert "start_date" in missing_columns(r)
    assert r.day is None
    assert all(m.due is None for m in r.milestones)
    assert {m.item: m.status for m in r.milestones}["Integration(s) connected"] == "done"
    assert _risk(r, "No login after Day 3") is None


def test_onboarding_ttfv_measured_from_first_value_date() -> None:
    # mid-market target 14 days: June 1 -> June 12 = 11 days (met); -> June 20 = 19 days (missed)
    met = onboarding_plan(make({"account": "A", "segment": "mid-market", "start_date": "2026-06-01",
                                "first_value_date": "2026-06-12"}), "A")  # fmt: skip
    late = onboarding_plan(make({"account": "A", "segment": "mid-market", "start_date": "2026-06-01",
                                 "first_value_date": "2026-06-20"}), "A")  # fmt: skip
    assert (met.ttfv_days, met.ttfv_met, late.ttfv_days, late.ttfv_met) == (11, True, 19, False)


def _metrics_portfolio(first_value: bool) -> Portfolio:
    rows = [
        {"account": "A", "start_date": "2026-01-01", "seats_active": 32, "seats_purchased": 40,
         "integration": "connected", "goals_defined": 2, "roi_documented": True, "days_since_login": 1},
        {"account": "B", "start_date": "2026-02-01", "seats_active": 10, "seats_purchased": 40,
         "integration": "connected", "goals_defined": 1, "roi_documented": False, "days_since_login": 140},
        {"account": "C", "start_date": "2026-06-25", "seats_active": 5, "seats_purchased": 10,
         "integration": "partial", "goals_defined": 0, "roi_documented": False, "days_since_login": 4},
        {"account": "D", "start_date": "2026-03-01", "integration": "connected", "goals_defined": 1,
         "roi_documented": True, "days_since_login": 100},
    ]  # fmt: skip
    if first_value:
        for row, when in zip(rows, ["2026-01-04", "2026-02-11", None, "2026-03-21"], strict=True):
            row["first_value_date"] = when
    mrr = [("A", "2026-01", 100.0), ("A", "2026-02", 100.0), ("B", "2026-02", 100.0), ("B", "2026-03", 0.0),
           ("C", "2026-06", 50.0), ("D", "2026-03", 100.0)]  # fmt: skip
    surveys = [("A", "2026-02-15", "nps", 10), ("B", "2026-03-01", "nps", 9), ("B", "2026-06-01", "nps", 3),
               ("D", "2026-03-10", "nps", 2)]  # fmt: skip
    return make(*rows, mrr=mrr, surveys=surveys)


def test_onboarding_metrics_by_hand() -> None:
    m = {x.metric: x for x in onboarding_metrics(_metrics_portfolio(first_value=False)).metrics}
    # activation >= 50% seats: A 32/40 yes, B 10/40 no, C 5/10 = 50% yes, D no seats (excluded) -> 2/3
    assert (m["Activation rate"].value, m["Activation rate"].n, m["Activation rate"].met) == (
        pytest.approx(2 / 3), 3, True)  # fmt: skip
    # completion, accounts past day 90 with all four columns: A (all done), B (seats 25%); D has no seats -> 1/2
    assert (m["Onboarding completion"].value, m["Onboarding completion"].n) == (pytest.approx(0.5), 2)
    # A, B, D are months old: their last login cannot tell whether they were active on day 7 or 30; C is 5 days old
    # -> no account in a window: not derivable (the issue: counting old accounts gave 99.6 % and 100 %)
    for name in ("D7 retention", "D30 retention"):
        assert (m[name].value, m[name].n, m[name].met) == (None, 0, None)
        assert "cannot tell" in m[name].note
    # first paying month + 1: A Feb 100 (yes), B Mar 0 (no), D Apr no row (no); C's July is after as-of
    assert (m["D30 paying (MRR)"].value, m["D30 paying (MRR)"].n) == (pytest.approx(1 / 3), 3)
    # answers within days 0-90 of start: A 10 (day 45), B 9 (day 28), D 2 (day 9); B's June answer is day 120
    # NPS = 100 * (2 promoters - 1 detractor) / 3
    assert (m["Post-onboarding NPS"].value, m["Post-onboarding NPS"].n) == (pytest.approx(100 / 3), 3)
    ttfv = m["Time to first value (median)"]
    assert (ttfv.value, ttfv.met) == (None, None)
    assert "first_value_date" in ttfv.note


def test_onboarding_retention_counts_only_accounts_whose_last_login_tells() -> None:
    """As of 2026-06-30. D7: accounts 7-13 days old; D30: 30-36 days old (last login day = age - days_since_login).
    E started 06-21 (age 9), last login 1 day ago = day 8: active after day 7. F started 06-22 (age 8), last login
    5 days ago = day 3: not. G started 05-29 (age 32), last login day 31: active after day 30. H (age 45) and the
    year-old I are outside both windows. D7 = 1/2, D30 = 1/1."""
    rows = [
        {"account": "E", "start_date": "2026-06-21", "days_since_login": 1},
        {"account": "F", "start_date": "2026-06-22", "days_since_login": 5},
        {"account": "G", "start_date": "2026-05-29", "days_since_login": 1},
        {"account": "H", "start_date": "2026-05-16", "days_since_login": 0},
        {"account": "I", "start_date": "2025-06-30", "days_since_login": 0},
    ]
    m = {x.metric: x for x in onboarding_metrics(make(*rows)).metrics}
    assert (m["D7 retention"].value, m["D7 retention"].n, m["D7 retention"].met) == (pytest.approx(0.5), 2, True)
    assert (m["D30 retention"].value, m["D30 retention"].n) == (pytest.approx(1.0), 1)


def test_onboarding_metrics_ttfv_median_with_first_value_dates() -> None:
    result = onboarding_metrics(_metrics_portfolio(first_value=True))
    m = {x.metric: x for x in result.metrics}
    # A 3 days, B 10 days, D 20 days (C blank) -> median 10; target < 7 days -> not met
    assert (m["Time to first value (median)"].value, m["Time to first value (median)"].met) == (10.0, False)
    assert isinstance(result, OnboardingMetrics)
    assert result.account is None
    assert OnboardingMetrics.model_validate(result.model_dump(mode="json")) == result
    assert "Onboarding metrics" in render_markdown(result)


def test_onboarding_metrics_on_empty_sheets() -> None:
    m = {x.metric: x for x in onboarding_metrics(make({"account": "A"})).metrics}
    assert all(x.value is None and x.n == 0 for x in m.values())


# --------------------------------------------------------------------------------------------------------------------
# 3. qbr
# --------------------------------------------------------------------------------------------------------------------


def _qbr_portfolio(segment: str = "enterprise", **cells: Any) -> Portfolio:
    row = {"account": "A", "segment": segment, "arr": 48000.0, "csm": "Ana", "champion": "Sam",
           "goals_defined": 3, "goals_achieved": 1, "support_tickets_30d": 4, "seats_active": 20,
           "seats_purchased": 40, **overrides(7.0), **cells}  # fmt: skip
    mrr = [("A", "2026-03", 1000.0), ("A", "2026-06", 1200.0)]
    return make(row, mrr=mrr, history=[("A", "2026-03-01", 30.0), ("A", "2026-05-01", 60.0)])


def test_qbr_default_date_agenda_and_checklist() -> None:
    r = qbr_prep(_qbr_portfolio(), "A")
    assert r.qbr_date == D(2026, 7, 14)  # as-of + 14 days
    # engine spec "QBR Structure (60 Minutes)": 10 + 15 + 10 + 15 + 10
    assert [(a.start_minute, a.minutes) for a in r.agenda] == [(0, 10), (10, 15), (25, 10), (35, 15), (50, 10)]
    pre_read = next(c for c in r.checklist if c.item == "Send pre-read agenda 5 days before")
    assert (pre_read.due, pre_read.days_left) == (D(2026, 7, 9), 9)  # July 14 - 5; July 9 - June 30
    assert all(c.due < r.qbr_date for c in r.checklist)
    tickets = next(c for c in r.checklist if c.item.startswith("Check open support tickets"))
    assert tickets.detail == "4 ticket(s) opened in the last 30 days"


def test_qbr_data_summary_trends() -> None:
    r = qbr_prep(_qbr_portfolio(), "A")
    # MRR June 1200 vs March 1000: 1200 / 1000 - 1 = +20%
    assert r.mrr_change == pytest.approx(0.2)
    # health now 70 (all dimensions 7); the oldest snapshot within 90 days (April 1..June 30) is May 1 = 60
    # (March 1 is older than 90 days): delta +10 >= +5 -> improving
    assert (r.health_delta, r.health_trend) == (pytest.approx(10.0), "improving")
    goals = next(d for d in r.data if d.metric == "success-plan goals")
    assert goals.shown == "1 of 3 goals achieved (33%)"
    assert (goals.value, goals.unit) == (pytest.approx(1 / 3, rel=1e-12), "fraction")  # a number, not text
    mrr = next(d for d in r.data if d.metric == "MRR, 90 days")
    assert (mrr.value, mrr.unit) == (pytest.approx(1200.0), "USD per month")


@pytest.mark.parametrize(
    ("past", "trend"), [(72.0, "stable"), (66.0, "stable"), (65.0, "improving"), (80.0, "declining")]
)
def test_qbr_health_trend_band(past: float, trend: str) -> None:
    # now 70: delta = 70 - past; |delta| < 5 is stable (70 - 65 = +5 is improving)
    row = {"account": "A", **overrides(7.0)}
    r = qbr_prep(make(row, history=[("A", "2026-06-01", past)]), "A")
    assert r.health_trend == trend


def test_qbr_without_history_says_so() -> None:
    r = qbr_prep(make({"account": "A", **overrides(7.0)}), "A")
    assert r.health_trend is None
    assert "no History snapshot" in next(d.note for d in r.data if d.area == "Health")


@pytest.mark.parametrize(
    ("segment", "date", "quarter", "next_quarter_end", "next_qbr"),
    [  # next QBR: enterprise quarterly (+3 months), mid-market semi-annual (+6), smb annual (+12), self-serve none
        ("enterprise", None, "Q3 2026", "2026-12-31", D(2026, 10, 14)),
        ("mid-market", "2026-11-20", "Q4 2026", "2027-03-31", D(2027, 5, 20)),
        ("smb", D(2026, 7, 1), "Q3 2026", "2026-12-31", D(2027, 7, 1)),
        ("self-serve", None, "Q3 2026", "2026-12-31", None),
    ],
)
def test_qbr_follow_up_email_is_filled(
    segment: str, date: Any, quarter: str, next_quarter_end: str, next_qbr: dt.date | None
) -> None:
    r = qbr_prep(_qbr_portfolio(segment), "A", date=date)
    assert (r.quarter, r.next_qbr) == (quarter, next_qbr)
    assert r.email_subject == f"A + [your_company] — {quarter} Review Recap & Next Steps"
    assert r.email_body.startswith("Hi Sam,")
    assert f"Target: {next_quarter_end}" in r.email_body
    assert "- Success-plan goals: 1 of 3 achieved" in r.email_body
    followup = (r.qbr_date + dt.timedelta(days=1)).isoformat()
    assert f"— Ana by {followup}" in r.email_body
    assert ("none scheduled" in r.email_body) is (next_qbr is None)


def test_qbr_recommends_at_most_two_expansion_plays() -> None:
    p = _qbr_portfolio(expansion_signals="API access; new team asking; premium tier features")
    r = qbr_prep(p, "A")
    direct = expansion_opportunities(p, "A").signals
    assert len(direct) == 3
    assert r.recommendations == direct[:2]


@pytest.mark.parametrize("date", ["2026-06-29", "next week", 20260714])
def test_qbr_date_must_be_a_date_not_before_as_of(date: Any) -> None:
    with pytest.raises(InputError) as err:
        qbr_prep(_qbr_portfolio(), "A", date=date)
    assert err.value.field == "date"


def test_qbr_blank_names_stay_visible() -> None:
    r = qbr_prep(make({"account": "A", **overrides(7.0)}), "A")
    assert r.email_body.startswith("Hi [name],")
    assert {"champion", "csm", "goals_defined", "segment"} <= missing_columns(r)


# --------------------------------------------------------------------------------------------------------------------
# 4. risk
# --------------------------------------------------------------------------------------------------------------------


def _indicators(r: RiskResult) -> dict[str, tuple[bool | None, str | None]]:
    return {i.indicator: (i.present, i.level) for i in r.indicators}


@pytest.mark.parametrize(
    ("cells", "indicator", "present", "level"),
    [  # agent spec "Intervention playbook by risk level" + engine "Early Warning System"
        ({"usage_trend": "down"}, "Usage decline >30% MoM", True, "Medium"),
        ({"usage_trend": "flat"}, "Usage decline >30% MoM", False, None),
        ({"login_trend": "down"}, "Minor engagement dip (login trend down)", True, "Low"),
        ({"days_since_login": 14}, "No login", True, "High"),  # no login 14+ days
        ({"days_since_login": 7}, "No login", True, "Low"),  # no login 7 days
        ({"days_since_login": 6}, "No login", False, None),
        ({"champion_status": "left"}, "Champion job change", True, "High"),
        ({"champion_status": "new"}, "Champion job change", True, "Medium"),
        ({"champion_status": "strong"}, "Champion job change", False, None),
        ({"support_tickets_30d": 5}, "Support tickets up", True, "Medium"),
        ({"support_tickets_30d": 4}, "Support tickets up", False, None),
        ({"support_tickets_30d": 0, "days_since_login": 14}, "Support ticket spike then silence", True, "Medium"),
        ({"support_tickets_30d": 0, "days_since_login": 13}, "Support ticket spike then silence", False, None),
        ({"support_tickets_30d": 1, "days_since_login": 20}, "Support ticket spike then silence", False, None),
        ({"seats_active": 9, "seats_purchased": 40}, "Team member removals", True, "High"),  # 22.5%: Red
        ({"seats_active": 20, "seats_purchased": 40}, "Team member removals", True, "Medium"),  # 50%: Yellow
        ({"seats_active": 39, "seats_purchased": 40}, "Team member removals", True, "Low"),  # 97.5%: Green
        ({"seats_active": 40, "seats_purchased": 40}, "Team member removals", False, None),
        ({"contract_trend": "downgraded"}, "Contract downgraded", True, "Medium"),
        ({"contraction_risk": "yes"}, "Contraction risk flagged", True, "Medium"),
        ({"contraction_risk": "no"}, "Contraction risk flagged", False, None),
        ({"nps": 6}, "NPS detractor", True, "High"),  # detractors 0-6
        ({"nps": 7}, "NPS detractor", False, None),
        ({"payment_status": "delinquent"}, "Payment failure", True, "High"),
        ({"payment_status": "late"}, "Payment failure", True, "Medium"),
        ({"payment_status": "current"}, "Payment failure", False, None),
    ],
)
def test_risk_indicator_both_ways(cells: dict[str, Any], indicator: str, present: bool, level: str | None) -> None:
    # every dimension pinned at 9 (Thriving): the health tier adds no level, so the indicator sets the risk level
    r = churn_risk(make({"account": "A", **overrides(9.0), **cells}), "A")
    assert _indicators(r)[indicator] == (present, level)
    # the risk level is at least this indicator's (the silence case also has no login for 14 days: High)
    assert LEVELS.index(r.risk_level) <= LEVELS.index(level or "Low")


@pytest.mark.parametrize(
    ("value", "tier", "level", "deadline", "owner"),
    [  # engine tiers -> agent risk levels ("red health score" is High; Critical is a cancellation request, which no
        # column records); deadlines: 24h, 1 week; Low automated (+7, csxl)
        (2.0, "Critical", "High", D(2026, 7, 1), "CSM (Ana)"),
        (5.0, "At-Risk", "High", D(2026, 7, 1), "CSM (Ana)"),
        (7.0, "Healthy", "Medium", D(2026, 7, 7), "CSM/Automated (Ana)"),
        (9.0, "Thriving", "Low", D(2026, 7, 7), "Automated"),
    ],
)
def test_risk_level_intervention_owner_and_deadline(
    value: float, tier: str, level: str, deadline: dt.date, owner: str
) -> None:
    r = churn_risk(make({"account": "A", "csm": "Ana", **overrides(value)}), "A")
    assert (r.health_tier, r.risk_level, r.deadline, r.owner) == (tier, level, deadline, owner)
    assert r.intervention == load_library("risk")["levels"][level]["action"]
    assert any("No leading indicator" in c for c in r.conventions) is (level == "Low")


def test_risk_level_is_the_most_severe_present() -> None:
    r = churn_risk(
        make({"account": "A", **overrides(9.0), "login_trend": "down", "nps": 3, "usage_trend": "down"}), "A"
    )
    assert r.risk_level == "High"  # Low + High + Medium


@pytest.mark.parametrize(
    ("cells", "mrr", "arr", "source"),
    [
        ({"arr": 48000.0}, None, 48000.0, "arr column"),
        # arr blank: 12 x the June MRR (1500); July is after as-of and ignored
        ({}, [("A", "2026-05", 1000.0), ("A", "2026-06", 1500.0), ("A", "2026-07", 2000.0)], 18000.0,
         "12 x MRR of 2026-06"),
        ({}, None, None, ""),
    ],
)  # fmt: skip
def test_risk_arr_at_risk(cells: dict[str, Any], mrr: Any, arr: float | None, source: str) -> None:
    """ARR at risk = ARR x 10 % at Low risk (the midpoint of the agent spec's Low band of churn probability, 0-20 %)."""
    r = churn_risk(make({"account": "A", **cells}, mrr=mrr), "A")
    assert r.risk_level == "Low"
    assert r.arr_at_risk == (None if arr is None else pytest.approx(arr * 0.1))
    assert source in (r.arr_source or "") and "10% for Low risk" in (r.arr_source or "")
    assert ("arr" in missing_columns(r)) is (arr is None)


def test_risk_nps_from_latest_survey_up_to_as_of() -> None:
    surveys = [("A", "2026-05-01", "nps", 9), ("A", "2026-06-15", "nps", 4), ("A", "2026-07-05", "nps", 10)]
    r = churn_risk(make({"account": "A", **overrides(9.0)}, surveys=surveys), "A")
    assert _indicators(r)["NPS detractor"] == (True, "High")


def test_risk_blank_columns_are_unknown_not_absent() -> None:
    r = churn_risk(make({"account": "A"}), "A")
    assert all(present is None for present, _ in _indicators(r).values())
    assert r.risk_level == "Low"
    assert {"usage_trend", "days_since_login", "seats_active", "payment_status", "nps"} <= missing_columns(r)


# --------------------------------------------------------------------------------------------------------------------
# 5. expansion
# --------------------------------------------------------------------------------------------------------------------


def _expand(**cells: Any) -> ExpansionResult:
    return expansion_opportunities(make({"account": "A", "arr": 48000.0, **cells}), "A")


@pytest.mark.parametrize(
    ("active", "signal", "strength", "extra_seats"),
    [  # extra seats = ceil(active / .8) - 40 (seats back to 80% utilisation), by hand
        (40, "Hitting usage limits", "hot", 10),  # 100% used: 40 / .8 = 50 -> 10
        (34, "Seats over 80% used", "warm", 3),  # 85%: 42.5 -> 43 -> 3
        (33, "Seats over 80% used", "warm", 2),  # 82.5%: 41.25 -> 42 -> 2
        (32, None, None, 0),  # exactly 80% is not over 80%
    ],
)
def test_expansion_seat_signals(active: int, signal: str | None, strength: str | None, extra_seats: int) -> None:
    r = _expand(seats_active=active, seats_purchased=40)
    if signal is None:
        assert r.signals == []
        assert r.total_upside is None
        return
    (s,) = r.signals
    # price per seat 48000 / 40 = 1200 per year
    assert (s.signal, s.strength, s.upside) == (signal, strength, pytest.approx(1200.0 * extra_seats))
    assert r.total_upside == pytest.approx(1200.0 * extra_seats)
    assert s.playbook == "Seat Expansion"


def test_expansion_text_signals_are_classified_and_sorted() -> None:
    r = _expand(expansion_signals="Asked about API access; New marketing team wants a demo; Champion got promoted; "
                "Loves the product")  # fmt: skip
    got = [(s.signal, s.strength, s.upside) for s in r.signals]
    # hot first, then by upside: new team 48000 x .5, API 48000 x .25, promoted 48000 x .2, other not estimated
    assert got == [
        ("New team/department asking about product", "hot", pytest.approx(24000.0)),
        ("Requesting API access or integrations", "warm", pytest.approx(12000.0)),
        ("Champion promoted", "warm", pytest.approx(9600.0)),
        ("Other expansion signal (unclassified)", "warm", None),
    ]
    assert r.total_upside == pytest.approx(24000.0 + 12000.0 + 9600.0)
    assert r.signals[0].playbook == "Land-and-Expand (New Department)"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Requesting premium tier features", "Requesting features on higher tier"),
        ("Hit the plan limit twice", "Hitting usage limits"),
        ("Raised a Series B", "Company funding round or growth announcement"),
    ],
)
def test_expansion_keywords(text: str, signal: str) -> None:
    assert [s.signal for s in _expand(expansion_signals=text).signals] == [signal]


@pytest.mark.parametrize(
    ("value", "renewal", "present"),
    [  # health >= 80 and renewal within 0..90 days
        (9.0, "2026-08-29", True),  # 90, 60 days
        (9.0, "2026-09-28", True),  # 90 days exactly
        (9.0, "2026-10-28", False),  # 120 days
        (9.0, "2026-06-01", False),  # already past
        (7.0, "2026-08-29", False),  # health 70
    ],
)
def test_expansion_high_health_near_renewal(value: float, renewal: str, present: bool) -> None:
    r = _expand(renewal_date=renewal, **overrides(value))
    found = [s for s in r.signals if s.signal == "High health score + approaching renewal"]
    assert bool(found) is present
    if present:
        assert found[0].upside == pytest.approx(4800.0)  # 48000 x .1


def test_expansion_without_arr_or_data_lists_missing() -> None:
    r = expansion_opportunities(make({"account": "A", "expansion_signals": "new team"}), "A")
    assert [(s.signal, s.upside) for s in r.signals] == [("New team/department asking about product", None)]
    assert r.total_upside is None
    assert {"arr", "seats_active", "renewal_date"} <= missing_columns(r)


# --------------------------------------------------------------------------------------------------------------------
# 6. winback
# --------------------------------------------------------------------------------------------------------------------

CHURNED_MRR = [("G", "2026-01", 1000.0), ("G", "2026-02", 1000.0), ("G", "2026-03", 1000.0), ("G", "2026-04", 0.0)]


def _winback(as_of: dt.date = AS_OF, mrr: list[tuple[str, str, float]] = CHURNED_MRR, **cells: Any) -> WinbackResult:
    row = {"account": "G", "champion": "Lee", "csm": "Ana", "churn_reason": "Product", **cells}
    return winback_plan(make(row, mrr=mrr, as_of=as_of), "G")


def test_winback_churn_date_and_emails() -> None:
    r = _winback()
    # last paying month March -> churn date April 1; June 30 - April 1 = 90 days -> "30-90 days" (edge: earlier row)
    assert (r.churn_date, r.last_paid_month, r.days_since_churn) == (D(2026, 4, 1), D(2026, 3, 1), 90)
    assert (r.window, r.success_rate, r.in_campaign) == ("30-90 days", "10-15%", True)
    assert r.lost_arr == pytest.approx(12000.0)  # 12 x 1000
    # emails on day 7, 30 and 90 after April 1
    assert [(e.date, e.status) for e in r.emails] == [
        (D(2026, 4, 8), "past"), (D(2026, 5, 1), "past"), (D(2026, 6, 30), "today")]  # fmt: skip
    assert r.stop_date == D(2027, 4, 1)  # + 365 days
    assert r.emails[0].body.startswith("Hi Lee,")
    assert r.emails[0].body.rstrip().endswith("Ana")


@pytest.mark.parametrize(
    ("as_of", "window", "active"),
    [  # churn April 1; engine spec "Win-Back Timing"
        (D(2026, 4, 1), "0-30 days", True),  # 0 days
        (D(2026, 5, 1), "0-30 days", True),  # 30
        (D(2026, 5, 2), "30-90 days", True),  # 31
        (D(2026, 7, 1), "90-180 days", True),  # 91
        (D(2026, 9, 28), "90-180 days", True),  # 180
        (D(2026, 9, 29), "180-365 days", True),  # 181
        (D(2027, 4, 1), "180-365 days", True),  # 365
        (D(2027, 4, 2), ">365 days", False),  # 366: remove from active campaigns
    ],
)
def test_winback_timing_window(as_of: dt.date, window: str, active: bool) -> None:
    r = _winback(as_of=as_of)
    assert (r.window, r.in_campaign) == (window, active)
    assert [t.current for t in r.timing].count(True) == 1


@pytest.mark.parametrize(
    ("reason", "line"),
    [  # engine spec Email 1: [If product], [If value], [If price]
        ("Product", "Here's what changed: [feature/fix description]"),
        ("Value", "We've redesigned onboarding to get to value in [X days]"),
        ("Price", "We have new plans that might work better for your budget"),
        ("Financial", "We have new plans that might work better for your budget"),
        ("Competition", None),
    ],
)
def test_winback_email_one_is_filled_for_the_reason(reason: str, line: str | None) -> None:
    body = _winback(churn_reason=reason).emails[0].body
    lines = load_library("winback")["reason_lines"].values()
    if line is None:
        assert not any(candidate in body for candidate in lines)
        assert "\n\n\n" not in body
    else:
        assert line in body
    assert load_library("winback")["reasons"][reason]["opening"] in body


@pytest.mark.parametrize("reason", list(load_library("winback")["reasons"]))
def test_winback_email_one_reads_for_every_reason_in_the_taxonomy(reason: str) -> None:
    """The spec's "I know [specific churn reason] was frustrating" filled with a list of reasons read "I know missing
    feature, poor UX, bugs, performance was frustrating": each reason has its own whole sentence instead."""
    body = _winback(churn_reason=reason).emails[0].body
    opening = body.split("\n\n")[1]
    assert re.match(r"(I know|Your) [^.]+\. I wanted you to know", opening), opening  # one whole sentence first
    assert "{" not in body and "}" not in body  # every placeholder filled
    assert load_library("winback")["reasons"][reason]["text"] not in body  # the taxonomy's list is not pasted in


def test_winback_blank_reason_keeps_the_spec_placeholder() -> None:
    r = _winback(churn_reason=None)
    assert "([specific churn reason])" in r.emails[0].body
    assert "churn_reason" in missing_columns(r)


def test_winback_live_account_is_refused() -> None:
    live = [*CHURNED_MRR, ("G", "2026-06", 800.0)]
    with pytest.raises(InputError, match="has not churned"):
        _winback(mrr=live)


@pytest.mark.parametrize(
    ("mrr", "churn"),
    [
        # no row for the as-of month counts as 0; a later month (after as-of) is ignored
        ([("G", "2026-01", 1000.0), ("G", "2026-08", 1000.0)], D(2026, 2, 1)),
        # paid, paused, paid again: the churn follows the last paying month (March)
        ([("G", "2026-01", 1.0), ("G", "2026-02", 0.0), ("G", "2026-03", 1.0)], D(2026, 4, 1)),
        # two rows in one month add up
        ([("G", "2026-05", 10.0), ("G", "2026-05", 20.0), ("G", "2026-06", 0.0)], D(2026, 6, 1)),
    ],
)
def test_winback_churn_date_rules(mrr: list[tuple[str, str, float]], churn: dt.date) -> None:
    assert _winback(mrr=mrr).churn_date == churn


@pytest.mark.parametrize(
    ("mrr", "message"),
    [(None, "rows on the MRR sheet"), ([("G", "2026-01", 0.0)], "paid at some point")],
)
def test_winback_cannot_run_without_paying_history(mrr: Any, message: str) -> None:
    row = {"account": "G"}
    with pytest.raises(InputError, match=message):
        winback_plan(make(row, mrr=mrr), "G")


def test_zero_seats_purchased_is_not_missing_data() -> None:
    p = make({"account": "A", "start_date": "2026-05-01", "seats_active": 0, "seats_purchased": 0})
    plan, risk, grow = onboarding_plan(p, "A"), churn_risk(p, "A"), expansion_opportunities(p, "A")
    assert _risk(plan, "<50% user activation by Day 30") is None
    assert _indicators(risk)["Team member removals"] == (False, None)
    assert grow.signals == []
    for result in (plan, risk, grow):
        assert not {"seats_active", "seats_purchased"} & missing_columns(result)


def test_onboarding_start_date_in_the_future() -> None:
    r = _onboard(start_date="2026-07-10", integration="partial")  # day -10
    assert (r.day, r.in_onboarding) == (-10, False)
    assert {m.status for m in r.milestones} <= {"open", "upcoming"}
    assert _risk(r, "No login after Day 3") is False


def test_no_playbook_step_names_a_tier_that_does_not_exist() -> None:
    """The engine spec's Critical playbook ends "until health improves to Orange": orange is At-Risk's colour, not a
    tier of either model; every tier a step names is one of the engine or growth tiers."""
    from csxl.settings import resolve_tier_scheme

    tiers = {*resolve_tier_scheme("engine").labels, *resolve_tier_scheme("growth").labels}
    named = [
        m.group(1)
        for book in load_library("score")["playbooks"].values()
        for step in book["steps"]
        for m in [re.search(r"improves to ([A-Z][\w-]+)", step)]
        if m
    ]
    assert named and set(named) <= tiers
