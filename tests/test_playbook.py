"""The reporting extras: support priority and SLAs, the survey report with routing, and the playbook JSON document.

Expected values come from the agent spec's tables ("Priority levels with SLAs", "Auto-assignment rules", "NPS
response SLAs and workflow", "NPS benchmarks", "Threshold-setting methods", "JSON OUTPUT FORMAT") or are computed by
hand from the rows written here (arithmetic in the comments).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

import csxl
from csxl.book.render import result_plan
from csxl.errors import InputError
from csxl.plays.base import load_library, render_markdown, render_text
from csxl.plays.playbook import Playbook, playbook_document, playbook_schema
from csxl.plays.support import support_priority
from csxl.plays.survey_report import SurveyReport, survey_routing
from csxl.portfolio import Portfolio
from csxl.settings import Settings

AS_OF = dt.date(2026, 10, 31)
DIMS = ("usage", "engagement", "relationship", "outcomes", "financial")
SPEC = Path("/work/shared/spec/customer-success-agent.md")


def book(accounts: list[dict[str, Any]], surveys: pd.DataFrame | None = None, **settings: Any) -> Portfolio:
    return Portfolio.from_tables(pd.DataFrame(accounts), None, surveys, settings=Settings(as_of=AS_OF, **settings))


# ==================================================================================================================
# Support priority
# ==================================================================================================================


@pytest.mark.parametrize(
    ("text", "segment", "level"),
    [
        ("Service down for all our users", None, "P1"),  # service down
        ("We lost data after the import", None, "P1"),  # data loss
        ("URGENT: please call back", None, "P2"),  # 'urgent' -> P2 minimum
        ("The export is broken", None, "P2"),  # 'broken' -> P2 minimum
        ("Dashboard is down again", None, "P2"),  # 'down' -> P2 minimum
        ("How do I download a report?", None, "P4"),  # 'download' is not 'down'
        ("Reports are slow, we use a workaround", None, "P3"),
        ("Totals look odd on the invoice page", None, "P3"),  # no keyword: default P3
        ("", None, "P3"),
        ("How do I add a user?", "enterprise", "P2"),  # enterprise -> P2 minimum
        ("How do I add a user?", "Enterprise ", "P2"),  # label matched ignoring case and spaces
        ("Service down", "enterprise", "P1"),  # already above the minimum
        ("How do I add a user?", "smb", "P4"),
        ("How do I add a user?", "Mid Market", "P4"),
    ],
)
def test_support_priority_level(text: str, segment: str | None, level: str) -> None:
    assert support_priority(text, segment).level == level


@pytest.mark.parametrize(
    ("text", "response_minutes", "resolution_hours"),
    [("service down", 15, 4), ("broken", 60, 8), ("slow", 240, 24), ("question", 480, 48)],
)
def test_support_sla_targets_from_spec(text: str, response_minutes: int, resolution_hours: int) -> None:
    # agent spec: P1 15 min / 4 h, P2 1 h / 8 h, P3 4 h / 24 h, P4 8 h / 48 h
    p = support_priority(text)
    assert (p.response_minutes, p.resolution_hours) == (response_minutes, resolution_hours)


@pytest.mark.parametrize(
    ("text", "vip", "route"),
    [
        ("question about seats", True, "senior agent"),  # VIP tag -> senior agent
        ("API sync question", False, "integration specialist"),  # integration keyword -> specialist
        ("API sync question", True, "senior agent"),  # VIP first
        ("question about seats", False, "standard queue"),
    ],
)
def test_support_routing(text: str, vip: bool, route: str) -> None:
    p = support_priority(text, vip=vip)
    assert p.route == route
    assert p.level == "P4"  # the spec routes a VIP; it does not raise the priority


@pytest.mark.parametrize(("same", "escalate", "bug"), [(1, False, False), (2, True, False), (5, True, True)])
def test_support_same_issue_escalation(same: int, escalate: bool, bug: bool) -> None:
    p = support_priority("slow", same_issue=same)
    assert (p.escalate, p.bug_report) == (escalate, bug)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": 5}, "text"),
        ({"text": "x", "segment": "galaxy"}, "segment"),
        ({"text": "x", "vip": "yes"}, "vip"),
        ({"text": "x", "same_issue": 0}, "same_issue"),
        ({"text": "x", "same_issue": True}, "same_issue"),
    ],
)
def test_support_priority_bad_input(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field):
        support_priority(**kwargs)


# ==================================================================================================================
# Survey report
# ==================================================================================================================


def survey_book() -> Portfolio:
    accounts = [
        {"account": "A", "segment": "smb", "arr": 6000},
        {"account": "B", "segment": "enterprise", "arr": 150000},
        {"account": "C", "segment": "mid-market", "arr": 0, "churn_reason": "Price"},
        {"account": "D", "arr": 0},  # churned, no reason
        {"account": "E", "arr": 0, "churn_reason": "Value"},
    ]
    rows = [
        ("A", "2026-10-30", "nps", 3, "The export is broken"),
        ("A", "2026-06-01", "nps", 10, None),
        ("B", "2026-10-01", "nps", 8, "Too expensive for us"),
        ("B", "2026-11-05", "nps", 9, None),  # after the as-of date: ignored
        ("C", "2026-10-20", "nps", 9, "Love it"),
        ("A", "2026-10-02", "csat", 5, "hmm"),
        ("B", "2026-10-02", "csat", 4, None),
        ("C", "2026-10-02", "csat", 2, None),
        ("A", "2026-10-03", "ces", 6, None),
        ("B", "2026-10-03", "ces", 3, None),
    ]
    surveys = pd.DataFrame(rows, columns=["account", "date", "kind", "score", "comment"])
    return book(accounts, surveys)


def test_survey_scores() -> None:
    r = survey_routing(survey_book())
    # NPS answers up to as-of: 3, 10, 8, 9 -> promoters 2, detractors 1 -> (2 - 1) / 4 x 100 = 25 points
    assert r.nps == 25.0
    assert (r.promoters, r.passives, r.detractors) == (2, 1, 1)
    assert r.nps_band == "needs work"  # 0-29
    # last 90 days (after 2026-08-02): 3, 8, 9 -> (1 - 1) / 3 = 0; the 90 before: 10 -> 100; so down
    assert (r.nps_recent, r.nps_previous, r.nps_trend) == (0.0, 100.0, "down")
    # CSAT: 5, 4, 2 -> 2 of 3 in the top two boxes = 66.67 %; CES (6 + 3) / 2 = 4.5
    assert r.csat == pytest.approx(200 / 3)
    assert r.ces == 4.5


def test_survey_segments_against_benchmarks() -> None:
    r = survey_routing(survey_book())
    got = {s.segment: (s.nps, s.verdict) for s in r.by_segment}
    assert got == {
        "smb": (0.0, "below median"),  # A: 3 and 10 -> 0; SMB median 30
        "enterprise": (0.0, "below median"),  # B: 8 -> 0; enterprise median 40
        "mid-market": (100.0, "top quartile"),  # C: 9 -> 100; mid-market top quartile 60
    }


def test_survey_follow_up_routing() -> None:
    r = survey_routing(survey_book())
    got = [(f.account, f.category, f.owner, f.due, f.status.split(":")[0]) for f in r.routing]
    assert got == [
        # detractor within 24 h: 2026-10-30 + 1 day = 10-31, not before the as-of date -> open
        ("A", "Detractor", "CSM/CS Lead", dt.date(2026, 10, 31), "open"),
        # passive within 48 h: 10-01 + 2 days = 10-03 < 10-31
        ("B", "Passive", "CSM", dt.date(2026, 10, 3), "SLA passed"),
        # promoter within 1 week: 10-20 + 7 days = 10-27 < 10-31
        ("C", "Promoter", "CSM/Marketing", dt.date(2026, 10, 27), "SLA passed"),
    ]
    assert r.routing[0].questions[0] == "What's the main reason for your score?"


def test_survey_comments_and_churn_reasons() -> None:
    r = survey_routing(survey_book())
    assert {(c.category, c.route, c.comments) for c in r.comments} == {
        ("bug", "Engineering", 1),
        ("pricing", "Sales/Finance", 1),
        ("positive", "Marketing", 1),
        ("uncategorized", "CS Lead", 1),
    }
    # two churned accounts with a reason: Price 1, Value 1 -> 50 % each; D (ARR 0, no reason) is missing data
    assert [(c.reason, c.accounts, c.share, c.typical) for c in r.churn_reasons] == [
        ("Price", 1, 0.5, "15-25%"),
        ("Value", 1, 0.5, "25-35%"),
    ]
    assert r.churned_without_reason == 1
    assert [m.column for m in r.missing] == ["churn_reason"]


def test_survey_report_empty_sheet() -> None:
    r = survey_routing(book([{"account": "A"}]))
    assert (r.nps, r.csat, r.ces, r.nps_responses) == (None, None, None, 0)
    assert r.routing == []
    assert [m.column for m in r.missing] == ["Surveys sheet"]


def test_survey_report_renders_and_round_trips() -> None:
    demo = Portfolio.from_demo(csxl.demo_portfolio())
    for r in (survey_routing(survey_book()), survey_routing(demo)):
        assert SurveyReport.model_validate_json(r.model_dump_json()) == r
        assert r.title() in render_text(r)
        assert render_markdown(r).startswith("# Survey report")
        assert result_plan(r, "Surveys").sheets() == ["Surveys"]


# ==================================================================================================================
# Playbook document
# ==================================================================================================================


def scored(points: list[float]) -> list[dict[str, Any]]:
    """Accounts whose five dimensions are all ``p`` points: health = 10 x p under any preset."""
    return [{"account": f"a{i}", **{f"{d}_override": p for d in DIMS}} for i, p in enumerate(points)]


def spec_document() -> dict[str, Any]:
    match = re.search(r"## JSON OUTPUT FORMAT\s*```json\n(.*?)```", SPEC.read_text(encoding="utf-8"), re.S)
    assert match
    data: dict[str, Any] = json.loads(match.group(1))
    return data


@pytest.mark.skipif(not SPEC.exists(), reason="the spec sources are not in this checkout")
def test_spec_example_validates_and_matches_the_library() -> None:
    doc = spec_document()
    Playbook.model_validate(doc)
    assert load_library("playbook")["document"] == doc
    assert set(playbook_schema()["required"]) == set(doc)


def test_library_document_validates() -> None:
    Playbook.model_validate(load_library("playbook")["document"])


@pytest.mark.parametrize(
    ("preset", "weights", "tiers"),
    [
        # engine spec Phase 1 weights and tiers
        ("engine", {"product_usage": 0.30, "engagement": 0.20, "relationship": 0.15, "outcomes": 0.20,
                    "financial": 0.15}, ["thriving", "healthy", "at-risk", "critical"]),
        # agent spec Model 2 weights and Green/Yellow/Red
        ("growth", {"product_usage": 0.40, "engagement": 0.25, "relationship": 0.20, "financial": 0.15},
         ["green", "yellow", "red"]),
    ],
)  # fmt: skip
def test_playbook_weights_and_tiers_in_force(preset: str, weights: dict[str, float], tiers: list[str]) -> None:
    doc = playbook_document(book(scored([9, 7, 5]), preset=preset))
    assert doc.health_scoring.weights == pytest.approx(weights)
    assert list(doc.health_scoring.thresholds) == tiers


def test_playbook_custom_weights_are_normalised() -> None:
    doc = playbook_document(book(scored([9]), weights={"usage": 1, "financial": 1}))
    assert doc.health_scoring.weights == {"product_usage": 0.5, "financial": 0.5}
    assert len(doc.health_scoring.components) == 2


def test_playbook_distribution_risks_both_ways() -> None:
    # growth tiers: 4 Red (20), 4 Yellow (60), 2 Green (90) -> Red 40 % > 30 %, Green 20 % outside 50-60 %,
    # Yellow 40 % inside 30-40 %
    bad = playbook_document(book(scored([2] * 4 + [6] * 4 + [9] * 2), preset="growth"))
    assert bad.risks[0].startswith("40% of accounts are red (more than 30%): the thresholds are too sensitive")
    off = next(r for r in bad.risks if r.startswith("Distribution off the spec's target"))
    assert "green 20% (target 50%-60%)" in off and "yellow" not in off
    assert "Now 40% of scored accounts (4 of 10)" in bad.health_scoring.thresholds["red"]
    # 5 Green, 3 Yellow, 2 Red -> 50 %, 30 %, 20 %: all on their target bands (inclusive); NPS answered
    surveys = pd.DataFrame([{"account": "a0", "date": "2026-10-01", "kind": "nps", "score": 9}])
    good = playbook_document(book(scored([9] * 5 + [6] * 3 + [2] * 2), surveys, preset="growth"))
    assert good.risks == []
    assert good.confidence == 1.0


def test_playbook_red_is_at_risk_and_critical_under_the_engine_preset() -> None:
    """The issue: under the default (engine) preset the >30 % red test counted only Critical, and the document was
    silent on the target distribution (Thriving 30 % against the spec's 50-60 % green). Red is the at-risk tiers,
    At-Risk + Critical (csxl.calibration.colours): 2 Critical (score 20) + 2 At-Risk (50) of 10 = 40 % red, while
    Critical alone is 20 %; 3 Thriving (90) = 30 % green, 3 Healthy (70) = 30 % yellow."""
    doc = playbook_document(book(scored([2] * 2 + [5] * 2 + [7] * 3 + [9] * 3)))
    assert doc.risks[0].startswith("40% of accounts are red (more than 30%)")
    assert "(red = At-Risk + Critical)" in doc.risks[0]
    off = next(r for r in doc.risks if r.startswith("Distribution off the spec's target"))
    assert "green 30% (target 50%-60%)" in off and "red 40% (target 10%-20%)" in off
    assert "Colour green: the spec's target is 50%-60%" in doc.health_scoring.thresholds["thriving"]
    assert "(At-Risk + Critical)" in doc.health_scoring.thresholds["critical"]


def test_playbook_confidence_and_data_risks() -> None:
    # engine weights; a0 has every dimension, a1 only usage, a2 nothing (unscored)
    accounts = [*scored([8]), {"account": "a1", "usage_override": 8}, {"account": "a2"}]
    doc = playbook_document(book(accounts))
    # a2 has no data at all: coverage usage 2/3, others 1/3 -> 0.30 x 2/3 + 0.70 x 1/3 = 0.4333 -> 0.43
    assert doc.confidence == 0.43
    # a1 (1 of 5 dimensions) and a2 (none) are below the 3 of 5 a tier needs (csxl.settings.min_coverage)
    assert any("2 of 3 accounts have too few signals for a health tier" in r for r in doc.risks)
    assert any(r.startswith("No NPS answers") for r in doc.risks)
    assert any(r.startswith("Low confidence (0.43)") for r in doc.risks)


def test_playbook_json_round_trip_and_schema() -> None:
    doc = playbook_document(Portfolio.from_demo(csxl.demo_portfolio()))
    assert Playbook.model_validate_json(doc.model_dump_json()) == doc
    data = doc.model_dump(mode="json")
    schema = playbook_schema()
    assert set(schema["required"]) == set(data)
    assert schema["properties"]["confidence"] == {"maximum": 1, "minimum": 0, "title": "Confidence", "type": "number"}
    assert len(data["support_structure"]["tiers"]) == 3  # agent spec's three-tier model


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},  # unknown key
        {"confidence": 1.5},  # out of 0..1
        {"health_scoring": {"components": [], "weights": {"product_usage": 0.7}, "thresholds": {}}},  # sums to 0.7
    ],
)
def test_playbook_schema_refuses_bad_documents(change: dict[str, Any]) -> None:
    doc = {**load_library("playbook")["document"], **change}
    with pytest.raises(ValidationError):
        Playbook.model_validate(doc)
