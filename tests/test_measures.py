"""What the spec measures, from the workbook (csxl.plays.measures), worked by hand on six accounts as of 2026-06-30.

Sources: engine spec "Touch Cadence by Tier" (enterprise weekly check-ins, quarterly exec touch; mid-market
bi-weekly, semi-annual; SMB monthly, none), "Engagement-to-Retention Mapping" (Power daily multi-feature, Regular
3-4x/week, Casual 1-2x/week, Dormant <1x/week, Ghost no activity 30+ days), "Customer Advisory Board" (health > 70,
active > 6 months, a mix of segments), "Weekly CS Metrics" (expansion rate target > 15 % a year); agent spec
"Monthly churn to LTV" (1 % -> 100 months).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_plays_accounts import make

from csxl.plays.base import render_text
from csxl.plays.measures import spec_measures


def _health(score: int) -> dict[str, int]:
    return {f"{d}_override": score for d in ("usage", "engagement", "relationship", "outcomes", "financial")}


ACCOUNTS: list[dict[str, Any]] = [
    # enterprise: contacted 5 days ago (weekly: in time), exec touch 166 days ago (quarterly: late); 6 logins a week
    # with 6 of 10 features: Power; customer since 2025-01-01 (545 days), health 90: board candidate
    {"account": "E1", "segment": "enterprise", "arr": 120_000, "last_proactive_contact": "2026-06-25",
     "last_exec_touch": "2026-01-15", "logins_per_week": 6, "features_adopted": 6, "features_available": 10,
     "days_since_login": 0, "start_date": "2025-01-01", **_health(9)},
    # enterprise: contacted 20 days ago (late), exec touch 60 days ago (in time); daily but 2 of 10 features: Regular;
    # customer for 121 days: not a board candidate
    {"account": "E2", "segment": "enterprise", "arr": 150_000, "last_proactive_contact": "2026-06-10",
     "last_exec_touch": "2026-05-01", "logins_per_week": 6, "features_adopted": 2, "features_available": 10,
     "days_since_login": 1, "start_date": "2026-03-01", **_health(8)},
    # mid-market: contacted 10 days ago (bi-weekly: in time), exec touch blank (unknown); 2 a week: Casual
    {"account": "M1", "segment": "mid-market", "arr": 50_000, "last_proactive_contact": "2026-06-20",
     "logins_per_week": 2, "days_since_login": 2, "start_date": "2024-06-30", **_health(8)},
    # smb: no contact date (unknown); 0.5 a week: Dormant; health 50
    {"account": "S1", "segment": "smb", "arr": 10_000, "logins_per_week": 0.5, "days_since_login": 10,
     "start_date": "2026-01-01", **_health(5)},
    # smb: no login for 40 days: Ghost, whatever its weekly average says
    {"account": "S2", "segment": "smb", "arr": 6_000, "logins_per_week": 3, "days_since_login": 40,
     "start_date": "2025-06-01", **_health(6)},
    {"account": "X", "segment": "smb", "arr": 0, "start_date": "2024-01-01"},  # churned: left out
]  # fmt: skip

# E1: 10,000 a month from 2025-06, 11,000 from 2026-01 (expansion +1,000), 10,450 from 2026-04 (contraction 550)
MRR = [("E1", f"{y}-{m:02d}", 10_000.0) for y, m in [(2025, k) for k in range(6, 13)]]
MRR += [("E1", f"2026-{m:02d}", 11_000.0) for m in (1, 2, 3)] + [("E1", f"2026-{m:02d}", 10_450.0) for m in (4, 5, 6)]
SURVEYS = [("E1", "2026-05-01", "nps", 10), ("M1", "2026-06-01", "nps", 3), ("S1", "2026-06-15", "nps", 8),
           ("E2", "2026-01-01", "nps", 9)]  # fmt: skip  # E2's answer is older than 90 days


@pytest.fixture(scope="module")
def measures() -> Any:
    return spec_measures(make(*ACCOUNTS, mrr=MRR, surveys=[(a, d, k, s) for a, d, k, s in SURVEYS]))


def test_touch_cadence_compliance(measures: Any) -> None:
    got = {c.segment: c for c in measures.cadence}
    e, m, s = got["enterprise"], got["mid-market"], got["smb"]
    assert (e.accounts, e.contact_every_days, e.contact_known, e.contact_in_time) == (2, 7, 2, 1)
    assert (e.exec_every_days, e.exec_known, e.exec_in_time) == (91, 2, 1)
    assert (m.contact_every_days, m.contact_known, m.contact_in_time, m.exec_known) == (14, 1, 1, 0)
    assert (s.accounts, s.contact_known, s.exec_every_days) == (2, 0, None)  # blank is unknown; SMB: no exec touch
    assert got["self-serve"].contact_every_days is None  # "Automated" is no cadence to keep


def test_engagement_levels(measures: Any) -> None:
    got = {e.level: (e.accounts, e.arr) for e in measures.engagement}
    assert got == {"Power": (1, 120_000.0), "Regular": (1, 150_000.0), "Casual": (1, 50_000.0),
                   "Dormant": (1, 10_000.0), "Ghost": (1, 6_000.0)}  # fmt: skip
    assert measures.engagement_unknown == 0


def test_advisory_board_candidates(measures: Any) -> None:
    # E1 (90, 545 days) and M1 (80, 730 days); E2 is too new, S1/S2 below 70; one per segment in turn, best first
    assert (measures.advisory_board, measures.advisory_eligible) == (["E1", "M1"], 2)


def test_expansion_rate_and_revenue_ltv(measures: Any) -> None:
    # last 12 months 2025-07 .. 2026-06: expansion 1,000 / start 10,000 = 10 % (target > 15 %)
    assert measures.expansion_rate == pytest.approx(0.10)
    # gross revenue churn: 550 / 11,000 = 5 % in 2026-04, 0 in the 11 other months -> mean 0.05 / 12
    assert measures.monthly_revenue_churn == pytest.approx(0.05 / 12)
    assert measures.lifetime_months == pytest.approx(240.0)
    # ARPA = (120,000 + 150,000 + 50,000 + 10,000 + 6,000) / 5 live / 12 = 5,600 a month; LTV = 5,600 x 240
    assert measures.arpa == pytest.approx(5_600.0)
    assert measures.revenue_ltv == pytest.approx(1_344_000.0)
    assert measures.cac_payback.startswith("not derivable")


def test_nps_coverage_by_segment_and_tenure(measures: Any) -> None:
    # answers after 2026-04-01: E1 10, M1 3, S1 8 -> 3 of 5 live accounts
    assert (measures.nps_responded, measures.nps_response_rate) == (3, pytest.approx(0.6))
    assert measures.nps_by_segment == {"enterprise": 100.0, "mid-market": -100.0, "smb": 0.0, "self-serve": None}
    # tenure at the answer: S1 165 days (year 1); E1 485 and M1 701 days (year 2: one promoter, one detractor)
    assert measures.nps_by_tenure == {"year 1": 0.0, "year 2": 0.0, "year 3+": None}


def test_measures_render_and_say_what_they_cannot_derive() -> None:
    bare = spec_measures(make({"account": "A", "arr": 1200}))
    text = render_text(bare)
    assert "not derivable (no date filled)" in text and "not derivable: the workbook holds no acquisition cost" in text
    assert bare.expansion_rate is None and bare.revenue_ltv is None
