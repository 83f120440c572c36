"""The weekly dashboard (csxl.dashboard): History snapshots, the dashboard's numbers, its edge cases.

The small portfolio below is worked by hand in the comments; every expected number says where it comes from. The
demo portfolio is used for invariants only (counts add up, ARR sums, deltas match an independent count).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest

import csxl
from csxl.dashboard import (
    NO_WEEK_AGO,
    UNSCORED,
    Dashboard,
    at_risk_mask,
    at_risk_tiers,
    history_snapshot,
    merge_history,
    normalise_history,
    weekly_dashboard,
)
from csxl.errors import InputError
from csxl.history import HISTORY_COLUMNS
from csxl.portfolio import Portfolio
from csxl.settings import TIER_SCHEMES, Settings, TierScheme

AS_OF = dt.date(2026, 3, 31)
DIMS = ("usage", "engagement", "relationship", "outcomes", "financial")


def _account(name: str, dims: tuple[float, float, float, float, float], **cells: Any) -> dict[str, Any]:
    """One Accounts row whose five dimension scores are set by the *_override columns.

    Engine weights (spec Phase 1): usage .30, engagement .20, relationship .15, outcomes .20, financial .15, so
    health = 10 x sum(weight x score).
    """
    row: dict[str, Any] = {"account": name, **cells}
    row.update({f"{d}_override": v for d, v in zip(DIMS, dims, strict=True)})
    return row


def accounts_frame() -> pd.DataFrame:
    """Six accounts, as of 2026-03-31.

    A  enterprise  ARR 240,000  Ana  renews +10 d   all 9          -> health 90  Thriving; simple 10 Green
    B  mid-market  ARR  60,000  Ana  renews +45 d   usage 2, rest 6 -> 10 x (.3x2 + .7x6) = 48  At-Risk; simple 1 Red
    C  smb         ARR  12,000  Ben  renews +75 d   all 3          -> 30  Critical
    D  smb         ARR   6,000  -    renewed -5 d   all 7          -> 70  Healthy (renewal date in the past)
    E  self-serve  ARR       0  Ben  churned (Price) all 2         -> 20  Critical, but churned: not live
    F  (blank)     ARR blank -> 12 x March MRR 700 = 8,400           all 8.5 -> 85 Thriving
    Simple points (logins_per_week, login_trend, contacts, payment, nps; agent spec thresholds):
    A 5/wk Green 2, up 2, 5 contacts Green 2, current 2, NPS 10 (its latest survey, 2026-03-01, beats the typed 9:
    csxl.derived) Green 2 = 10 -> Green; B 0.2/wk Red 0, down 0, 1 contact Red 0, late 1, NPS 6 (latest survey
    2026-01-01 beats the typed 7) Red 0 = 1 -> Red; C, D, F blank signals -> Unscored.
    """
    day = dt.timedelta(days=1)
    rows = [
        _account("A", (9, 9, 9, 9, 9), segment="enterprise", arr=240_000, csm="Ana", renewal_date=AS_OF + 10 * day,
                 contacts_count=5, logins_per_week=5, login_trend="up", payment_status="current", nps=9),
        _account("B", (2, 6, 6, 6, 6), segment="mid-market", arr=60_000, csm="Ana", renewal_date=AS_OF + 45 * day,
                 contacts_count=1, logins_per_week=0.2, login_trend="down", payment_status="late", nps=7),
        _account("C", (3, 3, 3, 3, 3), segment="smb", arr=12_000, csm="Ben", renewal_date=AS_OF + 75 * day,
                 contacts_count=2),
        _account("D", (7, 7, 7, 7, 7), segment="smb", arr=6_000, renewal_date=AS_OF - 5 * day),
        _account("E", (2, 2, 2, 2, 2), segment="self-serve", arr=0, csm="Ben", churn_reason="Price"),
        _account("F", (8.5, 8.5, 8.5, 8.5, 8.5)),
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _months(first: str, last: str) -> list[pd.Timestamp]:
    return list(pd.date_range(first, last, freq="MS"))


def mrr_frame() -> pd.DataFrame:
    """MRR, 2025-03 .. 2026-03 (currency per month).

    A 20,000 every month, 21,000 in 2026-03 (expansion 1,000)
    B  5,000 every month,  4,000 in 2026-03 (contraction 1,000)
    C  1,000 from 2026-01 (new in January)
    D    500 from 2026-02 (new in February)
    E    300 until 2026-02, an explicit 0 in 2026-03 (churn 300 in March)
    F    700 in 2026-03 only (new in March)
    """
    rows: list[tuple[str, pd.Timestamp, float]] = []
    for m in _months("2025-03", "2026-02"):
        rows += [("A", m, 20_000), ("B", m, 5_000), ("E", m, 300)]
    rows += [("A", pd.Timestamp("2026-03-01"), 21_000), ("B", pd.Timestamp("2026-03-01"), 4_000)]
    rows += [("E", pd.Timestamp("2026-03-01"), 0), ("F", pd.Timestamp("2026-03-01"), 700)]
    rows += [("C", m, 1_000) for m in _months("2026-01", "2026-03")]
    rows += [("D", m, 500) for m in _months("2026-02", "2026-03")]
    return pd.DataFrame(rows, columns=["account", "month", "mrr"])


def surveys_frame() -> pd.DataFrame:
    """Survey answers around the 90-day window 2026-01-01 .. 2026-03-31 (2026-03-31 minus 89 days = 2026-01-01).

    NPS 10 (03-01), 9 (02-01), 6 (01-01, first day inside), 3 (2025-12-31, one day outside), 8 (04-01, future)
    CSAT 5, 4, 2 inside; 1 on 2025-12-31 outside.   CES 3, 6 inside.
    """
    rows = [
        ("A", "2026-03-01", "nps", 10), ("A", "2026-02-01", "nps", 9), ("B", "2026-01-01", "nps", 6),
        ("B", "2025-12-31", "nps", 3), ("C", "2026-04-01", "nps", 8),
        ("A", "2026-03-10", "csat", 5), ("B", "2026-02-10", "csat", 4), ("C", "2026-01-10", "csat", 2),
        ("C", "2025-12-31", "csat", 1),
        ("A", "2026-03-20", "ces", 3), ("B", "2026-03-21", "ces", 6),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["account", "date", "kind", "score"])


def history_frame() -> pd.DataFrame:
    """History: a snapshot 7 days before (2026-03-24), one 15 days before and one 21 days before.

    2026-03-24: A 90 Thriving 240,000 | B 65 Healthy 60,000 | C 35 Critical 12,000 | D 45 At-Risk 6,000 |
                E 25 Critical 3,600 (F was not a customer yet)
    """
    week = [
        ("2026-03-24", "A", 90.0, "Thriving", 10, 240_000),
        ("2026-03-24", "B", 65.0, "Healthy", 5, 60_000),
        ("2026-03-24", "C", 35.0, "Critical", None, 12_000),
        ("2026-03-24", "D", 45.0, "At-Risk", None, 6_000),
        ("2026-03-24", "E", 25.0, "Critical", None, 3_600),
    ]
    older = [("2026-03-16", "A", 50.0, "At-Risk", 4, 240_000), ("2026-03-10", "B", 10.0, "Critical", 1, 60_000)]
    return pd.DataFrame(week + older, columns=list(HISTORY_COLUMNS))


def small(
    as_of: dt.date = AS_OF, history: pd.DataFrame | None = None, *, settings: Settings | None = None
) -> Portfolio:
    return Portfolio.from_tables(
        accounts_frame(),
        mrr_frame(),
        surveys_frame(),
        history_frame() if history is None else history,
        settings=settings,
        as_of=as_of,
    )


@pytest.fixture(scope="module")
def dash() -> Dashboard:
    return weekly_dashboard(small())


# --------------------------------------------------------------------------------------------------------------------
# At risk
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        (TIER_SCHEMES["engine"], ("At-Risk", "Critical")),  # 4 tiers -> the 2 worst
        (TIER_SCHEMES["growth"], ("Red",)),  # 3 tiers -> the worst one; Yellow is not at risk
        (TierScheme(name="two", bounds=(("Good", 50.0), ("Bad", 0.0))), ("Bad",)),
        (TierScheme(name="five", bounds=(("A", 90.0), ("B", 70.0), ("C", 50.0), ("D", 30.0), ("E", 0.0))), ("D", "E")),
    ],
)
def test_at_risk_tiers_are_the_lower_half_rounded_down(scheme: TierScheme, expected: tuple[str, ...]) -> None:
    assert at_risk_tiers(scheme) == expected


def test_at_risk_mask_is_live_and_in_an_at_risk_tier() -> None:
    p = small()
    mask = at_risk_mask(p)
    # B At-Risk and C Critical are live; E is Critical but churned (ARR 0)
    assert dict(zip(p.table["account"], mask, strict=True)) == {
        "A": False, "B": True, "C": True, "D": False, "E": False, "F": False,
    }  # fmt: skip
    assert mask.index.equals(p.table.index)


# --------------------------------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------------------------------


def test_history_snapshot_has_one_row_per_live_account() -> None:
    snap = history_snapshot(small())
    assert list(snap.columns) == list(HISTORY_COLUMNS)
    assert snap["account"].tolist() == ["A", "B", "C", "D", "F"]  # E is churned (ARR 0)
    assert set(snap["as_of"]) == {pd.Timestamp(AS_OF)}
    # health = 10 x the common override (A 90, C 30, D 70, F 85); B = 48 (see accounts_frame)
    assert snap["health_score"].tolist() == pytest.approx([90, 48, 30, 70, 85])
    assert snap["health_tier"].tolist() == ["Thriving", "At-Risk", "Critical", "Healthy", "Thriving"]
    # F's ARR is 12 x its March MRR 700
    assert snap["arr"].tolist() == [240_000, 60_000, 12_000, 6_000, 8_400]
    assert snap["simple_points"].iloc[:2].tolist() == [10, 1]
    assert snap["simple_points"].iloc[2:].isna().all()


def test_merge_history_replaces_the_same_date_and_is_idempotent() -> None:
    p = small()
    snap = history_snapshot(p)
    once = merge_history(p.history, snap)
    # 7 old rows (none dated 2026-03-31) + 5 new
    assert len(once) == 7 + 5
    twice = merge_history(once, snap)
    pd.testing.assert_frame_equal(once, twice)
    # sorted by as_of then account
    assert once[["as_of", "account"]].apply(tuple, axis=1).tolist() == sorted(
        once[["as_of", "account"]].apply(tuple, axis=1).tolist()
    )


def test_merge_history_replaces_a_stale_snapshot_of_the_same_day() -> None:
    snap = history_snapshot(small())
    stale = snap.assign(health_score=1.0).iloc[:2]  # an earlier refresh of the same day, other numbers
    merged = merge_history(stale, snap)
    pd.testing.assert_frame_equal(merged, merge_history(None, snap))


def test_merge_history_with_an_empty_snapshot_clears_that_date_when_told() -> None:
    snap = history_snapshot(small())
    empty = snap.iloc[:0]
    assert len(merge_history(snap, empty)) == 5  # no date in the snapshot: nothing to replace
    assert merge_history(snap, empty, as_of=AS_OF).empty  # the refresh of AS_OF had no live account


def test_merge_history_refuses_a_table_without_the_columns() -> None:
    with pytest.raises(InputError, match="missing: health_tier"):
        merge_history(pd.DataFrame({"as_of": [], "account": [], "health_score": []}), history_snapshot(small()))


def test_normalise_history_drops_rows_without_date_or_account() -> None:
    raw = pd.DataFrame(
        {"as_of": ["2026-03-01", None, "2026-03-02"], "account": ["A", "B", None], "health_score": ["50", 1, 2],
         "health_tier": ["At-Risk", None, None], "simple_points": [None, None, None], "arr": [100, 1, 1]}
    )  # fmt: skip
    out = normalise_history(raw)
    assert out["account"].tolist() == ["A"]
    assert out["health_score"].tolist() == [50.0]


# --------------------------------------------------------------------------------------------------------------------
# The dashboard on the small portfolio
# --------------------------------------------------------------------------------------------------------------------


def test_portfolio_totals(dash: Dashboard) -> None:
    assert dash.as_of == AS_OF
    assert dash.week == "2026-W14"  # 2026-03-31 is the Tuesday of ISO week 14
    assert dash.total_accounts == 5  # A B C D F
    assert dash.total_arr == 326_400  # 240,000 + 60,000 + 12,000 + 6,000 + 8,400
    assert dash.churned_accounts == 1  # E
    assert dash.unknown_arr_accounts == 0
    assert dash.at_risk_tiers == ["At-Risk", "Critical"]
    assert (dash.at_risk_count, dash.at_risk_arr) == (2, 72_000)  # B 60,000 + C 12,000
    assert dash.average_health == pytest.approx((90 + 48 + 30 + 70 + 85) / 5)  # 64.6
    assert dash.scored_accounts == 5


@pytest.mark.parametrize(
    ("tier", "count", "arr"),
    [
        ("Thriving", 2, 248_400),  # A 240,000 + F 8,400
        ("Healthy", 1, 6_000),  # D
        ("At-Risk", 1, 60_000),  # B
        ("Critical", 1, 12_000),  # C (E is churned)
        (UNSCORED, 0, 0),
    ],
)
def test_by_tier(dash: Dashboard, tier: str, count: int, arr: float) -> None:
    line = next(t for t in dash.by_tier if t.tier == tier)
    assert (line.count, line.arr) == (count, arr)
    assert line.share_of_arr == pytest.approx(arr / 326_400)


def test_by_tier_lists_the_scheme_in_order(dash: Dashboard) -> None:
    assert [t.tier for t in dash.by_tier] == ["Thriving", "Healthy", "At-Risk", "Critical", UNSCORED]
    assert [t.tier for t in dash.by_simple_tier] == ["Green", "Yellow", "Red", UNSCORED]


@pytest.mark.parametrize(
    ("tier", "count", "arr"),
    [("Green", 1, 240_000), ("Yellow", 0, 0), ("Red", 1, 60_000), (UNSCORED, 3, 26_400)],  # C+D+F 12,000+6,000+8,400
)
def test_by_simple_tier(dash: Dashboard, tier: str, count: int, arr: float) -> None:
    line = next(t for t in dash.by_simple_tier if t.tier == tier)
    assert (line.count, line.arr) == (count, arr)


def test_retention_of_the_last_full_month(dash: Dashboard) -> None:
    r = dash.retention
    # as_of 2026-03-31 is the last day of March, so March is the last full month.
    # start (Feb MRR) = A 20,000 + B 5,000 + C 1,000 + D 500 + E 300 = 26,800
    # expansion 1,000 (A), contraction 1,000 (B), churned 300 (E)
    assert r.period_month == dt.date(2026, 3, 1)
    assert r.start_mrr == 26_800
    assert r.nrr == pytest.approx((26_800 + 1_000 - 1_000 - 300) / 26_800)
    assert r.grr == pytest.approx((26_800 - 1_000 - 300) / 26_800)
    assert r.logo_churn_rate == pytest.approx(1 / 5)  # E of A B C D E
    assert (r.customers_start, r.customers_churned) == (5, 1)


def test_trailing_cohort_rates(dash: Dashboard) -> None:
    r = dash.retention
    # base month 2025-03: A 20,000, B 5,000, E 300 = 25,300; 2026-03: A 21,000, B 4,000, E 0 = 25,000
    assert r.cohort_base_month == dt.date(2025, 3, 1)
    assert r.cohort_nrr_12m == pytest.approx(25_000 / 25_300)
    # GRR caps each at its base: min(21,000, 20,000) + min(4,000, 5,000) + min(0, 300) = 24,000
    assert r.cohort_grr_12m == pytest.approx(24_000 / 25_300)


def test_last_full_month_is_the_month_before_when_as_of_is_mid_month() -> None:
    r = weekly_dashboard(small(dt.date(2026, 3, 15))).retention
    # February: start (Jan) A 20,000 + B 5,000 + C 1,000 + E 300 = 26,300; D is new (not in NRR); nothing lost
    assert r.period_month == dt.date(2026, 2, 1)
    assert r.start_mrr == 26_300
    assert (r.nrr, r.grr, r.logo_churn_rate) == (1.0, 1.0, 0.0)


def test_this_month(dash: Dashboard) -> None:
    m = dash.this_month
    assert (m.month, m.label, m.has_data) == (dt.date(2026, 3, 1), "2026-03", True)
    assert (m.churned_mrr, m.churned_count) == (300, 1)  # E
    assert (m.contracted_mrr, m.contracted_count) == (1_000, 1)  # B 5,000 -> 4,000
    assert (m.expanded_mrr, m.expanded_count) == (1_000, 1)  # A 20,000 -> 21,000
    assert (m.new_mrr, m.new_count) == (700, 1)  # F


def test_surveys_over_the_last_90_days(dash: Dashboard) -> None:
    s = dash.surveys
    assert (s.start, s.end) == (dt.date(2026, 1, 1), AS_OF)
    # NPS inside: 10, 9, 6 -> 2 promoters, 1 detractor: 100 x (2 - 1) / 3
    assert (s.nps, s.nps_responses) == (pytest.approx(100 / 3), 3)
    # CSAT inside: 5, 4, 2 -> top-2-box 2 of 3
    assert (s.csat, s.csat_responses) == (pytest.approx(200 / 3), 3)
    # CES inside: 3, 6 -> mean 4.5
    assert (s.ces, s.ces_responses) == (4.5, 2)


@pytest.mark.parametrize(
    ("window", "count", "arr", "at_risk", "at_risk_arr"),
    [
        ("0-30 days", 1, 240_000, 0, 0),  # A, +10 days, Thriving
        ("31-60 days", 1, 60_000, 1, 60_000),  # B, +45 days, At-Risk
        ("61-90 days", 1, 12_000, 1, 12_000),  # C, +75 days, Critical
    ],
)
def test_renewals(dash: Dashboard, window: str, count: int, arr: float, at_risk: int, at_risk_arr: float) -> None:
    b = next(x for x in dash.renewals if x.window == window)
    assert (b.count, b.arr, b.at_risk, b.at_risk_arr) == (count, arr, at_risk, at_risk_arr)


def test_renewals_in_the_past_are_not_due(dash: Dashboard) -> None:
    # D renewed 5 days ago: not in any window, counted as past due
    assert sum(b.count for b in dash.renewals) == 3
    assert (dash.renewals_past_due, dash.renewals_past_due_arr) == (1, 6_000)


@pytest.mark.parametrize(
    ("days", "window"),
    [(-1, None), (0, "0-30 days"), (30, "0-30 days"), (31, "31-60 days"), (60, "31-60 days"),
     (61, "61-90 days"), (90, "61-90 days"), (91, None)],
)  # fmt: skip
def test_renewal_window_edges(days: int, window: str | None) -> None:
    accounts = pd.DataFrame({"account": ["X"], "arr": [1_000], "renewal_date": [AS_OF + dt.timedelta(days=days)]})
    d = weekly_dashboard(Portfolio.from_tables(accounts, as_of=AS_OF))
    hits = [b.window for b in d.renewals if b.count]
    assert hits == ([] if window is None else [window])
    assert d.renewals_past_due == (1 if days < 0 else 0)


def test_week_over_week(dash: Dashboard) -> None:
    w = dash.week_over_week
    assert (w.snapshot_as_of, w.days_ago) == (dt.date(2026, 3, 24), 7)
    # then: (90 + 65 + 35 + 45 + 25) / 5 = 52; now 64.6
    assert w.average_health_then == pytest.approx(52)
    assert w.average_health_delta == pytest.approx(64.6 - 52)
    deltas = {t.tier: (t.count_delta, t.arr_delta) for t in w.tiers}
    assert deltas == {
        "Thriving": (2 - 1, 248_400 - 240_000),  # A, F now; A then
        "Healthy": (1 - 1, 6_000 - 60_000),  # D now; B then
        "At-Risk": (1 - 1, 60_000 - 6_000),  # B now; D then
        "Critical": (1 - 2, 12_000 - 15_600),  # C now; C + E (3,600) then
        UNSCORED: (0, 0),
    }
    # B: Healthy -> At-Risk (new red, main risk usage: it loses 10 x .3 x (10 - 2) = 24 points there)
    assert [(a.account, a.tier_then, a.tier_now, a.main_risk) for a in w.new_reds] == [
        ("B", "Healthy", "At-Risk", "usage")
    ]
    assert w.new_reds[0].score_now == pytest.approx(48)
    assert [(a.account, a.tier_then, a.tier_now) for a in w.reds_saved] == [("D", "At-Risk", "Healthy")]
    assert [(a.account, a.tier_then, a.tier_now) for a in w.reds_lost] == [("E", "Critical", None)]


@pytest.mark.parametrize(
    ("dates", "chosen"),
    [
        (["2026-03-24"], dt.date(2026, 3, 24)),  # 7 days: the minimum
        (["2026-03-17"], dt.date(2026, 3, 17)),  # 14 days: the maximum
        (["2026-03-25"], None),  # 6 days: too recent
        (["2026-03-16"], None),  # 15 days: too old
        (["2026-03-17", "2026-03-20", "2026-03-26"], dt.date(2026, 3, 20)),  # latest in 7..14
        (["2026-03-31"], None),  # today's own snapshot is not a week ago
    ],
)
def test_week_ago_snapshot_rule(dates: list[str], chosen: dt.date | None) -> None:
    history = pd.DataFrame([(d, "A", 90.0, "Thriving", 10, 240_000) for d in dates], columns=list(HISTORY_COLUMNS))
    w = weekly_dashboard(small(history=history)).week_over_week
    assert w.snapshot_as_of == chosen
    if chosen is None:
        assert w.note == NO_WEEK_AGO
        assert w.tiers == []
        assert w.new_reds == []
        assert w.average_health_delta is None


def test_an_account_new_since_the_snapshot_and_at_risk_is_a_new_red() -> None:
    # a snapshot with only A: B and C are at risk now and were not at risk (absent) then
    history = pd.DataFrame([("2026-03-24", "A", 90.0, "Thriving", 10, 240_000)], columns=list(HISTORY_COLUMNS))
    w = weekly_dashboard(small(history=history)).week_over_week
    assert [(a.account, a.tier_then) for a in w.new_reds] == [("B", None), ("C", None)]  # ARR order


def test_a_snapshot_written_under_another_preset_is_re_tiered_from_its_score() -> None:
    # growth labels in the History while the preset is engine: 65 -> Healthy, 45 -> At-Risk (engine bounds)
    history = pd.DataFrame(
        [("2026-03-24", "B", 65.0, "Yellow", None, 60_000), ("2026-03-24", "D", 45.0, "Red", None, 6_000)],
        columns=list(HISTORY_COLUMNS),
    )
    w = weekly_dashboard(small(history=history)).week_over_week
    assert [a.account for a in w.new_reds] == ["B", "C"]  # B was Healthy; C was absent
    assert [(a.account, a.tier_then) for a in w.reds_saved] == [("D", "At-Risk")]


def test_growth_preset_at_risk_is_red_only() -> None:
    d = weekly_dashboard(small(settings=Settings(preset="growth")))
    # growth weights .40/.25/.20/.15 on usage/engagement/relationship/financial (outcomes unused):
    # B = 10 x (.4x2 + .6x6) = 44 Red; C 30 Red; D 70 Yellow (not at risk); A 90, F 85 Green
    assert d.at_risk_tiers == ["Red"]
    assert {t.tier: t.count for t in d.by_tier} == {"Green": 2, "Yellow": 1, "Red": 2, UNSCORED: 0}
    assert (d.at_risk_count, d.at_risk_arr) == (2, 72_000)


def test_series_cover_the_last_12_months(dash: Dashboard) -> None:
    months = [x.month for x in dash.mrr_series]
    # the MRR table runs 2025-03 .. 2026-03 (13 months): the last 12 are 2025-04 .. 2026-03
    assert months == [d.date() for d in _months("2025-04", "2026-03")]
    assert [x.month for x in dash.nrr_trend] == months
    last = dash.mrr_series[-1]
    assert (last.start_mrr, last.new, last.expansion, last.contraction, last.churned, last.end_mrr) == (
        26_800, 700, 1_000, 1_000, 300, 27_200,
    )  # fmt: skip
    # 2025-04 .. 2026-01: A + B + E flat = 25,300, so NRR = GRR = 1; January adds C as new (not in NRR)
    assert all(x.nrr == 1.0 for x in dash.nrr_trend[:-1])
    assert dash.nrr_trend[-1].nrr == pytest.approx(26_500 / 26_800)


def test_series_stop_at_the_as_of_month() -> None:
    d = weekly_dashboard(small(dt.date(2026, 2, 10)))
    assert d.mrr_series[-1].month == dt.date(2026, 2, 1)
    assert len(d.mrr_series) == 12  # the window 2025-03 .. 2026-02, all inside the table
    assert d.this_month.label == "2026-02"
    assert (d.this_month.new_count, d.this_month.new_mrr) == (1, 500)  # D


# --------------------------------------------------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------------------------------------------------


def test_empty_portfolio() -> None:
    d = weekly_dashboard(Portfolio.from_tables(pd.DataFrame({"account": []}), as_of=AS_OF))
    assert (d.total_accounts, d.total_arr, d.at_risk_count, d.average_health) == (0, 0, 0, None)
    assert all(t.count == 0 and t.share_of_arr is None for t in d.by_tier)
    assert d.retention.nrr is None
    assert d.retention.cohort_nrr_12m is None
    assert not d.this_month.has_data
    assert d.this_month.churned_mrr is None
    assert d.surveys.nps is None
    assert d.surveys.nps_responses == 0
    assert d.mrr_series == []
    assert d.nrr_trend == []
    assert d.week_over_week.note == NO_WEEK_AGO
    assert any("no live account" in n for n in d.notes)


def test_no_mrr_no_surveys_no_history() -> None:
    p = Portfolio.from_tables(accounts_frame(), as_of=AS_OF)
    d = weekly_dashboard(p)
    # F has no ARR and no MRR: unknown, left out; the others as before: 240,000 + 60,000 + 12,000 + 6,000
    assert (d.total_accounts, d.total_arr, d.unknown_arr_accounts) == (4, 318_000, 1)
    assert d.retention.period_month is None
    assert d.retention.cohort_nrr_12m is None
    assert d.this_month.has_data is False
    assert (d.surveys.nps, d.surveys.csat, d.surveys.ces) == (None, None, None)
    assert d.week_over_week.snapshot_as_of is None
    assert any("no MRR data" in n for n in d.notes)
    assert any("no survey answers" in n for n in d.notes)


def test_all_churned() -> None:
    accounts = pd.DataFrame({"account": ["A", "B"], "arr": [0, 0], "churn_reason": ["Price", None]})
    mrr = pd.DataFrame({"account": ["A", "A", "B"], "month": ["2026-02", "2026-03", "2026-02"], "mrr": [100, 0, 50]})
    d = weekly_dashboard(Portfolio.from_tables(accounts, mrr, as_of=AS_OF))
    assert (d.total_accounts, d.total_arr, d.churned_accounts) == (0, 0, 2)
    # March: start 150 (A 100 + B 50), both churned: NRR = GRR = 0, logo churn 2/2
    assert (d.retention.nrr, d.retention.grr, d.retention.logo_churn_rate) == (0.0, 0.0, 1.0)
    assert (d.this_month.churned_mrr, d.this_month.churned_count) == (150, 2)
    assert history_snapshot(Portfolio.from_tables(accounts, mrr, as_of=AS_OF)).empty


def test_as_of_before_any_data() -> None:
    d = weekly_dashboard(small(dt.date(2024, 6, 30)))
    # MRR starts 2025-03, surveys 2025-12: nothing is known yet; renewals are measured from 2024-06-30 (> 90 days)
    assert d.retention.period_month is None
    assert d.retention.cohort_nrr_12m is None
    assert d.this_month.has_data is False
    assert d.mrr_series == []
    assert d.surveys.nps_responses == d.surveys.csat_responses == d.surveys.ces_responses == 0
    assert sum(b.count for b in d.renewals) == 0
    assert d.renewals_past_due == 0
    # F's ARR falls back to MRR on or before the as-of month: none, so F is left out
    assert d.total_accounts == 4


def test_as_of_after_the_mrr_table_has_no_this_month() -> None:
    d = weekly_dashboard(small(dt.date(2026, 5, 15)))
    # last MRR month is 2026-03: May has no data (not "nothing moved"); retention is measured at March, the last month
    # with MRR, and one plain sentence says so (never an exception's text)
    assert d.this_month.has_data is False
    assert d.this_month.churned_mrr is None
    assert d.retention.period_month == dt.date(2026, 3, 1)
    march = next(line for line in d.nrr_trend if line.month == dt.date(2026, 3, 1))
    assert d.retention.nrr == march.nrr and d.retention.grr == march.grr
    assert d.retention.notes[0] == (
        "The MRR sheet ends in 2026-03, before the as-of month 2026-05: the analysis stops at 2026-03."
    )
    assert not any("must be" in note for note in d.retention.notes)


def test_surveys_after_as_of_are_ignored() -> None:
    d = weekly_dashboard(small(dt.date(2026, 4, 1)))
    # window 2026-01-02 .. 2026-04-01: NPS 10, 9 and the future-dated 8 (now inside), not 6 (01-01) -> 2 of 3 promoters
    assert d.surveys.start == dt.date(2026, 1, 2)
    assert d.surveys.nps_responses == 3
    assert d.surveys.nps == pytest.approx(100 * 2 / 3)


# --------------------------------------------------------------------------------------------------------------------
# JSON and schema
# --------------------------------------------------------------------------------------------------------------------


def test_json_round_trip(dash: Dashboard) -> None:
    text = dash.model_dump_json()
    assert "NaN" not in text
    back = Dashboard.model_validate_json(text)
    assert back == dash
    assert Dashboard.model_validate(json.loads(json.dumps(dash.model_dump(mode="json")))) == dash


def test_json_schema_exists() -> None:
    schema = Dashboard.model_json_schema()
    assert schema["type"] == "object"
    for name in ("by_tier", "retention", "this_month", "surveys", "renewals", "week_over_week", "nrr_trend"):
        assert name in schema["properties"]


def test_the_dashboard_reads_no_clock() -> None:
    # same portfolio, same dashboard, byte for byte (the "last refreshed" stamp belongs to the sheet, not the result)
    first = json.dumps(weekly_dashboard(small()).model_dump(mode="json"), sort_keys=True)
    second = json.dumps(weekly_dashboard(small()).model_dump(mode="json"), sort_keys=True)
    assert first == second
    assert "refreshed" not in first


# --------------------------------------------------------------------------------------------------------------------
# Demo portfolio invariants
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> Portfolio:
    return Portfolio.from_demo(csxl.demo_portfolio())


def test_demo_counts_and_arr_add_up(demo: Portfolio) -> None:
    d = weekly_dashboard(demo)
    arr = pd.to_numeric(demo.accounts["arr"])
    assert d.total_accounts == int((arr > 0).sum())  # the demo fills every ARR cell
    assert d.total_arr == pytest.approx(float(arr[arr > 0].sum()))
    for lines in (d.by_tier, d.by_simple_tier):
        assert sum(t.count for t in lines) == d.total_accounts
        assert sum(t.arr for t in lines) == pytest.approx(d.total_arr)
        assert sum(t.share_of_arr or 0 for t in lines) == pytest.approx(1.0)
    risky = [t for t in d.by_tier if t.tier in d.at_risk_tiers]
    assert d.at_risk_count == sum(t.count for t in risky)
    assert d.at_risk_arr == pytest.approx(sum(t.arr for t in risky))
    # retention: the last full month's rates from the bridge's own columns
    last = d.mrr_series[-1]
    assert d.retention.nrr == pytest.approx((last.start_mrr + last.expansion - last.contraction - last.churned)
                                            / last.start_mrr)  # fmt: skip
    assert d.this_month.churned_mrr == last.churned


def test_demo_week_over_week_matches_an_independent_count(demo: Portfolio) -> None:
    snap = history_snapshot(demo)
    risky = {"At-Risk", "Critical"}
    now_tier = dict(zip(snap["account"], snap["health_tier"], strict=True))
    # a synthetic snapshot 10 days earlier: flip 8 at-risk accounts to Thriving (-> new reds), 8 healthy ones to
    # Critical (-> saved), drop 5 other accounts (-> not in the snapshot), add one that has churned since
    at_risk_now = [a for a, t in now_tier.items() if t in risky]
    healthy_now = [a for a, t in now_tier.items() if t not in risky]
    then = snap.copy()
    then["as_of"] = pd.Timestamp(demo.as_of - dt.timedelta(days=10))
    then.loc[then["account"].isin(at_risk_now[:8]), "health_tier"] = "Thriving"
    then.loc[then["account"].isin(healthy_now[:8]), "health_tier"] = "Critical"
    then = then[~then["account"].isin(healthy_now[8:13])]
    gone = pd.DataFrame([(then["as_of"].iloc[0], "Gone Co", 10.0, "Critical", 1, 5_000)], columns=list(HISTORY_COLUMNS))
    then = pd.concat([then, gone], ignore_index=True)
    p = Portfolio.from_tables(demo.accounts, demo.mrr, demo.surveys, then, settings=demo.settings, as_of=demo.as_of)
    w = weekly_dashboard(p).week_over_week
    assert w.days_ago == 10
    counts_then = then["health_tier"].value_counts()
    arr_then = then.groupby("health_tier")["arr"].sum()
    for t in w.tiers:
        assert t.count_then == int(counts_then.get(t.tier, 0))
        assert t.arr_then == pytest.approx(float(arr_then.get(t.tier, 0.0)))
        assert t.count_delta == t.count_now - t.count_then
    then_tier = dict(zip(then["account"], then["health_tier"], strict=True))
    expected_new = {a for a in at_risk_now if then_tier.get(a) not in risky}
    assert {a.account for a in w.new_reds} == expected_new
    assert expected_new >= set(at_risk_now[:8])
    assert {a.account for a in w.reds_saved} == set(healthy_now[:8])
    assert [a.account for a in w.reds_lost] == ["Gone Co"]
    assert w.average_health_delta == pytest.approx(snap["health_score"].mean() - then["health_score"].mean())
