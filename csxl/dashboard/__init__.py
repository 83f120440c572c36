"""The weekly CS dashboard (engine spec Phase 8, agent spec "Weekly health report format"), pure and vectorised.

* :mod:`~csxl.dashboard.model`: the result (pydantic models) and its windows;
* :mod:`~csxl.dashboard.build`: :func:`weekly_dashboard` and :func:`history_snapshot` over a
  :class:`csxl.portfolio.Portfolio`;
* :mod:`~csxl.dashboard.view`: :func:`dashboard_sections`, the one description every renderer lays out.

History (one snapshot per as-of date) is :mod:`csxl.history`; the per-account facts (effective ARR, live, at risk)
are :mod:`csxl.facts`.

Conventions (``docs/dashboard.md`` has every formula):

* **Live account**: effective ARR > 0. Effective ARR (currency per year) is the ``arr`` cell, or, where it is blank,
  ``12 x`` the account's MRR in its latest MRR month on or before the as-of month (as the plays read it). An account
  with effective ARR 0 is churned; blank and no MRR is "ARR unknown" (counted apart, in neither).
* **At risk**: the health tier is in the lower half of the preset's tier scheme, rounded down (:func:`at_risk_tiers`):
  At-Risk and Critical for ``engine`` (4 tiers), Red for ``growth`` (3 tiers). Yellow / Healthy are not at risk. An
  unscored account (no signal at all) is not at risk.
* **This month** is the calendar month holding the as-of date (month to date). The **last full month** is the as-of
  month when the as-of date is its last day, else the month before.
* **A week ago** is the latest History snapshot dated 7 to 14 days (inclusive) before the as-of date; when there is
  none the week-over-week part is empty and says "no snapshot a week ago".
* Money: ARR in currency per year, MRR and its movements in currency per month. Ratios are fractions (1.08 = 108 %).
  NPS in points (-100..100), CSAT in percent (0..100), CES on its 1..7 scale, health 0..100.
"""

from __future__ import annotations

from csxl.dashboard.build import (
    at_risk_mask,
    compare,
    effective_arr,
    history_snapshot,
    live_table,
    tier_summary,
    weekly_dashboard,
)
from csxl.dashboard.model import (
    NO_WEEK_AGO,
    RENEWAL_WINDOWS,
    UNSCORED,
    AccountLine,
    Dashboard,
    MonthMovements,
    MovementLine,
    RateLine,
    RenewalBucket,
    Retention,
    SurveyWindow,
    TierDelta,
    TierLine,
    WeekOverWeek,
)
from csxl.dashboard.view import dashboard_sections
from csxl.facts import at_risk_tiers
from csxl.history import merge_history, normalise_history, previous_snapshot, snapshot_tiers

__all__ = [
    "NO_WEEK_AGO",
    "RENEWAL_WINDOWS",
    "UNSCORED",
    "AccountLine",
    "Dashboard",
    "MonthMovements",
    "MovementLine",
    "RateLine",
    "RenewalBucket",
    "Retention",
    "SurveyWindow",
    "TierDelta",
    "TierLine",
    "WeekOverWeek",
    "at_risk_mask",
    "at_risk_tiers",
    "compare",
    "dashboard_sections",
    "effective_arr",
    "history_snapshot",
    "live_table",
    "merge_history",
    "normalise_history",
    "previous_snapshot",
    "snapshot_tiers",
    "tier_summary",
    "weekly_dashboard",
]
