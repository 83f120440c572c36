"""The weekly dashboard's result: pydantic models (``model_dump(mode="json")`` is the ``--json`` output) and the
constants that define its windows."""

from __future__ import annotations

import datetime as _dt

from pydantic import BaseModel, ConfigDict

from csxl.settings import INSUFFICIENT_DATA

__all__ = [
    "ACT_ON_LIMIT",
    "COHORT_MONTHS",
    "NO_WEEK_AGO",
    "RENEWAL_WINDOWS",
    "SERIES_MONTHS",
    "SURVEY_DAYS",
    "UNSCORED",
    "AccountLine",
    "ActLine",
    "Dashboard",
    "DataIssue",
    "MonthMovements",
    "MovementLine",
    "RateLine",
    "RenewalBucket",
    "Retention",
    "SurveyWindow",
    "TierDelta",
    "TierLine",
    "WeekOverWeek",
]

#: The longest list of accounts to act on (and of data issues) the dashboard shows; the count says how many more.
ACT_ON_LIMIT = 25
#: Label of the row for accounts without a tier (too few health signals, or no simple-points data).
UNSCORED = INSUFFICIENT_DATA
#: The week-over-week note when no History snapshot is 7-14 days old.
NO_WEEK_AGO = "no snapshot a week ago"
#: Renewal windows: (label, first day, last day), days from the as-of date, both ends inclusive.
RENEWAL_WINDOWS: tuple[tuple[str, int, int], ...] = (
    ("0-30 days", 0, 30),
    ("31-60 days", 31, 60),
    ("61-90 days", 61, 90),
)
#: Survey window: answers dated as_of - 89 days .. as_of (90 calendar days, the as-of date included).
SURVEY_DAYS = 90
#: Chart series length in months (the as-of month and the 11 before it).
SERIES_MONTHS = 12
#: Trailing cohort window in months.
COHORT_MONTHS = 12


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TierLine(_Model):
    """Accounts in one tier: count, ARR (currency per year) and share of the live ARR (fraction, None if 0 ARR)."""

    tier: str
    count: int
    arr: float
    share_of_arr: float | None


class Retention(_Model):
    """Last full month's period rates and the trailing 12-month cohort rates (fractions)."""

    period_month: _dt.date | None
    start_mrr: float | None
    grr: float | None
    nrr: float | None
    logo_churn_rate: float | None
    customers_start: int | None
    customers_churned: int | None
    cohort_base_month: _dt.date | None
    cohort_nrr_12m: float | None
    cohort_grr_12m: float | None
    notes: list[str] = []


class MonthMovements(_Model):
    """MRR movements of the as-of month (month to date), currency per month; ``None`` when that month has no data."""

    month: _dt.date
    label: str
    has_data: bool
    churned_mrr: float | None
    churned_count: int | None
    contracted_mrr: float | None
    contracted_count: int | None
    expanded_mrr: float | None
    expanded_count: int | None
    new_mrr: float | None
    new_count: int | None


class SurveyWindow(_Model):
    """NPS (points), CSAT (percent) and CES (1..7) over answers dated ``start`` .. ``end`` (inclusive)."""

    start: _dt.date
    end: _dt.date
    nps: float | None
    nps_responses: int
    csat: float | None
    csat_responses: int
    ces: float | None
    ces_responses: int


class RenewalBucket(_Model):
    """Live accounts renewing ``min_days`` .. ``max_days`` days after the as-of date; at risk = at-risk tier."""

    window: str
    min_days: int
    max_days: int
    count: int
    arr: float
    at_risk: int
    at_risk_arr: float


class TierDelta(_Model):
    """One tier now and a week ago (count, ARR) and the change (now - then)."""

    tier: str
    count_now: int
    count_then: int
    count_delta: int
    arr_now: float
    arr_then: float
    arr_delta: float


class AccountLine(_Model):
    """An account in a list (new reds, reds saved, ...): tier then and now, score now, main risk, ARR, CSM."""

    account: str
    tier_then: str | None
    tier_now: str | None
    score_then: float | None
    score_now: float | None
    main_risk: str | None
    arr: float | None
    csm: str | None


class ActLine(_Model):
    """An account to act on this week: its tier, score and main risk, ARR, owner and days to renewal."""

    account: str
    tier: str | None
    score: float | None
    main_risk: str | None
    arr: float | None
    csm: str | None
    renewal_days: int | None


class DataIssue(_Model):
    """One input cell csxl could not use, where it is and what csxl did about it (:class:`csxl.errors.RowIssue`)."""

    sheet: str
    row: int
    column: str
    value: str
    rule: str
    effect: str


class WeekOverWeek(_Model):
    """Changes against the History snapshot 7-14 days old (``snapshot_as_of``); empty with a note when none."""

    snapshot_as_of: _dt.date | None
    days_ago: int | None
    note: str
    average_health_then: float | None
    average_health_delta: float | None
    tiers: list[TierDelta]
    new_reds: list[AccountLine]
    reds_saved: list[AccountLine]
    reds_lost: list[AccountLine]


class MovementLine(_Model):
    """One month of the MRR bridge (currency per month)."""

    month: _dt.date
    start_mrr: float
    new: float
    expansion: float
    contraction: float
    churned: float
    reactivation: float
    end_mrr: float


class RateLine(_Model):
    """One month's period rates (fractions; ``None`` when the month started with no MRR)."""

    month: _dt.date
    nrr: float | None
    grr: float | None
    logo_churn_rate: float | None


class Dashboard(_Model):
    """The weekly CS dashboard. Money: ARR currency/year, MRR currency/month; ratios fractions; health 0..100."""

    as_of: _dt.date
    week: str
    preset: str
    currency: str
    at_risk_tiers: list[str]
    total_accounts: int
    total_arr: float
    churned_accounts: int
    unknown_arr_accounts: int
    by_tier: list[TierLine]
    by_simple_tier: list[TierLine]
    at_risk_count: int
    at_risk_arr: float
    average_health: float | None
    scored_accounts: int
    retention: Retention
    this_month: MonthMovements
    surveys: SurveyWindow
    renewals: list[RenewalBucket]
    renewals_past_due: int
    renewals_past_due_arr: float
    week_over_week: WeekOverWeek
    mrr_series: list[MovementLine]
    nrr_trend: list[RateLine]
    act_on: list[ActLine] = []
    renewing_soon: list[ActLine] = []
    data_issues: int = 0
    data_issue_lines: list[DataIssue] = []
    notes: list[str] = []
