"""The weekly dashboard computed from a portfolio: the live table, the History snapshot and every part of
:class:`csxl.dashboard.model.Dashboard` (conventions in :mod:`csxl.dashboard`)."""

from __future__ import annotations

import datetime as _dt
from typing import Any, cast

import numpy as np
import pandas as pd

from csxl.cells import finite_or_none
from csxl.cohorts import cohort_grr, cohort_nrr
from csxl.dashboard.act import act_on, data_issues, renewing_soon
from csxl.dashboard.model import (
    COHORT_MONTHS,
    NO_WEEK_AGO,
    RENEWAL_WINDOWS,
    SERIES_MONTHS,
    SURVEY_DAYS,
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
from csxl.errors import InputError
from csxl.facts import at_risk_tiers, last_full_month, month_start
from csxl.history import normalise_history, snapshot_tiers, week_ago
from csxl.portfolio import Portfolio
from csxl.revenue import mrr_matrix
from csxl.settings import SIMPLE_TIERS, TierScheme
from csxl.surveys import ces, csat, nps

__all__ = [
    "at_risk_mask",
    "compare",
    "effective_arr",
    "history_snapshot",
    "live_table",
    "tier_summary",
    "weekly_dashboard",
]


def effective_arr(portfolio: Portfolio) -> pd.Series[float]:
    """ARR per account (currency per year) on :attr:`Portfolio.table`'s index: ``arr``, else 12 x latest MRR.

    The fallback is the account's MRR (duplicates summed) in its latest MRR month on or before the as-of month.
    ``NaN`` when both are missing.
    """
    return cast("pd.Series[float]", portfolio.facts["arr_effective"])


def tier_summary(portfolio: Portfolio) -> dict[str, Any]:
    """Live accounts, their ARR and average health, and count and ARR per tier of the preset's scheme (best first)."""
    facts, scored = portfolio.facts, portfolio.table
    live = facts["live"]
    arr = facts["arr_effective"][live]
    tiers = scored.loc[live, "health_tier"]
    counts, tier_arr = tiers.value_counts(), arr.groupby(tiers).sum()
    return {
        "accounts": int(live.sum()),
        "arr": float(arr.sum()),
        "average_health": round(float(scored.loc[live, "health_score"].mean()), 1),
        "tiers": {
            t: {"count": int(counts.get(t, 0)), "arr": float(tier_arr.get(t, 0.0))}
            for t in portfolio.settings.scheme().labels
        },
    }


def at_risk_mask(portfolio: Portfolio) -> pd.Series[bool]:
    """The one at-risk rule, per account on :attr:`Portfolio.table`'s index: live (effective ARR > 0) and the health
    tier is one of :func:`at_risk_tiers` of the preset's scheme. Unscored and churned accounts are not at risk."""
    return cast("pd.Series[bool]", portfolio.facts["at_risk"].rename("at_risk"))


def live_table(portfolio: Portfolio) -> pd.DataFrame:
    """:attr:`Portfolio.table` plus the facts ``arr_effective``, ``segment_effective``, ``live`` (ARR > 0),
    ``at_risk`` and ``renewal_days`` (:mod:`csxl.facts`).

    ``at_risk`` is :func:`at_risk_mask`: live and in an at-risk tier.

    ``renewal_days`` = renewal_date - as_of in whole days (negative: the date has passed; ``NaN``: blank).
    All accounts are kept (filter on ``live``), on a fresh 0..n-1 index.
    """
    facts = portfolio.facts
    table = pd.concat(
        [portfolio.table, facts[["arr_effective", "segment_effective", "live", "at_risk", "renewal_days"]]], axis=1
    )
    out: pd.DataFrame = table.reset_index(drop=True)
    return out


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    out = str(value).strip()
    return out or None


def history_snapshot(portfolio: Portfolio) -> pd.DataFrame:
    """This refresh's History rows: one per live account (effective ARR > 0), sorted by account.

    Columns :data:`csxl.portfolio.HISTORY_COLUMNS`: ``as_of`` (the portfolio's as-of date, midnight Timestamp),
    ``account``, ``health_score`` (0..100, NaN when unscored), ``health_tier``, ``simple_points`` (0..10) and
    ``arr`` (effective ARR, currency per year).
    """
    table = live_table(portfolio)
    live = table[table["live"]]
    snap = pd.DataFrame(
        {
            "as_of": pd.Series(
                [portfolio.as_of_ts] * len(live), index=live.index, dtype="datetime64[us]"
            ),  # one date for all rows
            "account": live["account"].astype(object),
            "health_score": pd.to_numeric(live["health_score"], errors="coerce").astype(float),
            "health_tier": live["health_tier"].astype(object),
            "simple_points": pd.to_numeric(live["simple_points"], errors="coerce").astype(float),
            "arr": live["arr_effective"].astype(float),
        }
    )
    return normalise_history(snap.sort_values("account", kind="stable"))


def _tier_lines(tiers: pd.Series[Any], arr: pd.Series[float], labels: tuple[str, ...], total: float) -> list[TierLine]:
    """Count and ARR per label (plus :data:`UNSCORED` for blanks, always last)."""
    keys = tiers.astype(object).where(tiers.isin(labels), UNSCORED)
    frame = pd.DataFrame({"tier": keys.to_numpy(), "arr": arr.fillna(0.0).to_numpy()})
    grouped = frame.groupby("tier")["arr"].agg(["count", "sum"]).reindex([*labels, UNSCORED], fill_value=0)
    return [
        TierLine(
            tier=str(t),
            count=int(r["count"]),
            arr=float(r["sum"]),
            share_of_arr=float(r["sum"]) / total if total > 0 else None,
        )
        for t, r in grouped.iterrows()
    ]


def _movements(portfolio: Portfolio) -> pd.DataFrame:
    """Monthly MRR bridge with rates and the numbers of expanded / contracted accounts, months <= the as-of month."""
    if portfolio.mrr.empty:
        empty: pd.DataFrame = pd.DataFrame()
        return empty
    mov = portfolio.movements.copy()
    matrix = mrr_matrix(portfolio.mrr_rows)
    cents = np.round(matrix.to_numpy(dtype=np.float64) * 100.0)  # compare in cents: no float dust
    prev = np.zeros_like(cents)
    prev[:, 1:] = cents[:, :-1]
    had = prev > 0
    mov["customers_expanded"] = (had & (cents > prev)).sum(axis=0).astype(np.int64)
    mov["customers_contracted"] = (had & (cents > 0) & (cents < prev)).sum(axis=0).astype(np.int64)
    return cast(pd.DataFrame, mov[mov.index <= month_start(portfolio.as_of)])


def _retention(portfolio: Portfolio, mov: pd.DataFrame) -> Retention:
    """The last full month's rates and the trailing cohort ratios; when the MRR sheet ends before the as-of month,
    both are measured at its last month, and one note says so (never an exception's text)."""
    notes: list[str] = []
    month = last_full_month(portfolio.as_of)
    measured_on = portfolio.as_of
    cut, reason = portfolio.mrr_cut
    if cut is not None and cut < portfolio.as_of_month:
        month = cut
        measured_on = (cut + pd.offsets.MonthEnd(0)).date()
        notes.append(reason)
    row = mov.loc[month] if len(mov) and month in mov.index else None
    if row is None:
        notes.append(f"no MRR data for the last full month {month.strftime('%Y-%m')}")
    elif not row["start_mrr"] > 0:
        notes.append(f"no MRR at the start of {month.strftime('%Y-%m')}: period rates undefined")
    cohort_base = month_start(measured_on) - pd.DateOffset(months=COHORT_MONTHS)
    cohort_n: float | None = None
    cohort_g: float | None = None
    if portfolio.mrr.empty:
        notes.append("no MRR data: trailing cohort NRR/GRR undefined")
    else:
        try:
            cohort_n = cohort_nrr(portfolio.mrr_rows, measured_on, COHORT_MONTHS)
            cohort_g = cohort_grr(portfolio.mrr_rows, measured_on, COHORT_MONTHS)
        except InputError:  # no base month, or nobody paying in it
            notes.append(
                f"trailing 12-month cohort NRR/GRR: not measurable yet (it needs customers paying in "
                f"{cohort_base:%Y-%m}, {COHORT_MONTHS} months before {month_start(measured_on):%Y-%m})"
            )
    return Retention(
        period_month=None if row is None else month.date(),
        start_mrr=None if row is None else finite_or_none(row["start_mrr"]),
        grr=None if row is None else finite_or_none(row["grr"]),
        nrr=None if row is None else finite_or_none(row["nrr"]),
        logo_churn_rate=None if row is None else finite_or_none(row["logo_churn_rate"]),
        customers_start=None if row is None else int(row["customers_start"]),
        customers_churned=None if row is None else int(row["customers_churned"]),
        cohort_base_month=cohort_base.date(),
        cohort_nrr_12m=finite_or_none(cohort_n),
        cohort_grr_12m=finite_or_none(cohort_g),
        notes=notes,
    )


def _this_month(portfolio: Portfolio, mov: pd.DataFrame) -> MonthMovements:
    month = month_start(portfolio.as_of)
    has = bool(len(mov)) and month in mov.index
    row = mov.loc[month] if has else None

    def money(col: str) -> float | None:
        return None if row is None else finite_or_none(row[col])

    def count(col: str) -> int | None:
        return None if row is None else int(row[col])

    return MonthMovements(
        month=month.date(),
        label=month.strftime("%Y-%m"),
        has_data=has,
        churned_mrr=money("churned"),
        churned_count=count("customers_churned"),
        contracted_mrr=money("contraction"),
        contracted_count=count("customers_contracted"),
        expanded_mrr=money("expansion"),
        expanded_count=count("customers_expanded"),
        new_mrr=money("new"),
        new_count=count("customers_new"),
    )


def _surveys(portfolio: Portfolio) -> SurveyWindow:
    end = portfolio.as_of
    start = end - _dt.timedelta(days=SURVEY_DAYS - 1)
    s = portfolio.surveys
    values: dict[str, tuple[float | None, int]] = {}
    if s.empty:
        window = s
    else:
        dates = pd.to_datetime(s["date"])
        window = s[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
    for kind, metric in (("nps", nps), ("csat", csat), ("ces", ces)):
        if window.empty:
            values[kind] = (None, 0)
            continue
        scores = pd.to_numeric(window.loc[window["kind"] == kind, "score"], errors="coerce").astype(float).dropna()
        values[kind] = (metric(scores.to_numpy()) if len(scores) else None, len(scores))
    return SurveyWindow(
        start=start,
        end=end,
        nps=values["nps"][0],
        nps_responses=values["nps"][1],
        csat=values["csat"][0],
        csat_responses=values["csat"][1],
        ces=values["ces"][0],
        ces_responses=values["ces"][1],
    )


def _renewals(live: pd.DataFrame) -> tuple[list[RenewalBucket], int, float]:
    days = live["renewal_days"]
    arr = live["arr_effective"]
    out = []
    for label, lo, hi in RENEWAL_WINDOWS:
        inside = (days >= lo) & (days <= hi)
        risky = inside & live["at_risk"]
        out.append(
            RenewalBucket(
                window=label,
                min_days=lo,
                max_days=hi,
                count=int(inside.sum()),
                arr=float(arr[inside].sum()),
                at_risk=int(risky.sum()),
                at_risk_arr=float(arr[risky].sum()),
            )
        )
    past = days < 0
    return out, int(past.sum()), float(arr[past].sum())


def _account_lines(frame: pd.DataFrame) -> list[AccountLine]:
    """Rows with columns account, tier_then, tier_now, score_then, score_now, main_risk, arr, csm -> lines."""
    frame = frame.sort_values(["arr", "account"], ascending=[False, True], kind="stable", na_position="last")
    records = frame.to_dict("records")
    return [
        AccountLine(
            account=str(r["account"]),
            tier_then=_text(r["tier_then"]),
            tier_now=_text(r["tier_now"]),
            score_then=finite_or_none(r["score_then"]),
            score_now=finite_or_none(r["score_now"]),
            main_risk=_text(r["main_risk"]),
            arr=finite_or_none(r["arr"]),
            csm=_text(r["csm"]),
        )
        for r in records
    ]


def compare(live: pd.DataFrame, then: pd.DataFrame, scheme: TierScheme) -> pd.DataFrame:
    """Outer join of live accounts now and one History snapshot by account name.

    Columns: account, tier_now, score_now, main_risk, arr (now, else then), csm, tier_then (in ``scheme``, see
    :func:`snapshot_tiers`), score_then, now (bool: live now), was (bool: in the snapshot).
    """
    now = pd.DataFrame(
        {
            "account": live["account"].astype(str).str.strip().to_numpy(),
            "tier_now": live["health_tier"].astype(object).to_numpy(),
            "score_now": pd.to_numeric(live["health_score"], errors="coerce").astype(float).to_numpy(),
            "main_risk": live["main_risk"].astype(object).to_numpy(),
            "arr_now": live["arr_effective"].astype(float).to_numpy(),
            "csm": live["csm"].astype(object).to_numpy(),
            "now": True,
        }
    )
    was = pd.DataFrame(
        {
            "account": then["account"].astype(str).str.strip().to_numpy(),
            "tier_then": snapshot_tiers(then, scheme).to_numpy(),
            "score_then": then["health_score"].astype(float).to_numpy(),
            "arr_then": then["arr"].astype(float).to_numpy(),
            "was": True,
        }
    ).drop_duplicates("account", keep="last")
    both = now.merge(was, on="account", how="outer")
    both["now"] = both["now"].astype("boolean").fillna(False).astype(bool)
    both["was"] = both["was"].astype("boolean").fillna(False).astype(bool)
    both["arr"] = both["arr_now"].where(both["arr_now"].notna(), both["arr_then"])
    for col in ("tier_now", "tier_then", "main_risk", "csm"):
        both[col] = both[col].astype(object).where(both[col].notna(), None)
    return cast(pd.DataFrame, both)


def _week_over_week(portfolio: Portfolio, live: pd.DataFrame, labels: tuple[str, ...]) -> WeekOverWeek:
    history = portfolio.history
    date = week_ago(history, portfolio.as_of)
    if date is None:
        return WeekOverWeek(
            snapshot_as_of=None,
            days_ago=None,
            note=NO_WEEK_AGO,
            average_health_then=None,
            average_health_delta=None,
            tiers=[],
            new_reds=[],
            reds_saved=[],
            reds_lost=[],
        )
    scheme = portfolio.settings.scheme()
    risky = at_risk_tiers(scheme)
    then = history[history["as_of"] == date]
    tiers_then = snapshot_tiers(then, scheme)
    avg_now = finite_or_none(pd.to_numeric(live["health_score"], errors="coerce").astype(float).mean())
    avg_then = finite_or_none(then["health_score"].mean())
    now_lines = _tier_lines(live["health_tier"], live["arr_effective"], labels, 0.0)
    then_lines = _tier_lines(tiers_then, then["arr"], labels, 0.0)
    deltas = [
        TierDelta(
            tier=n.tier,
            count_now=n.count,
            count_then=t.count,
            count_delta=n.count - t.count,
            arr_now=n.arr,
            arr_then=t.arr,
            arr_delta=n.arr - t.arr,
        )
        for n, t in zip(now_lines, then_lines, strict=True)
    ]
    both = compare(live, then, scheme)
    risky_now = both["tier_now"].isin(risky)
    risky_then = both["tier_then"].isin(risky)
    days = (pd.Timestamp(portfolio.as_of) - date).days
    return WeekOverWeek(
        snapshot_as_of=date.date(),
        days_ago=int(days),
        note=f"compared with the History snapshot of {date.date().isoformat()} ({days} days before)",
        average_health_then=avg_then,
        average_health_delta=None if avg_now is None or avg_then is None else avg_now - avg_then,
        tiers=deltas,
        new_reds=_account_lines(both[both["now"] & risky_now & ~risky_then]),
        reds_saved=_account_lines(both[both["now"] & risky_then & both["tier_now"].isin(labels) & ~risky_now]),
        reds_lost=_account_lines(both[~both["now"] & risky_then]),
    )


def _series(mov: pd.DataFrame, as_of: _dt.date) -> tuple[list[MovementLine], list[RateLine]]:
    if not len(mov):
        return [], []
    first = month_start(as_of) - pd.DateOffset(months=SERIES_MONTHS - 1)
    recent = mov[mov.index >= first]
    money = [
        MovementLine(
            month=pd.Timestamp(m).date(),
            **{c: float(r[c]) for c in ("start_mrr", "new", "expansion", "contraction", "churned", "reactivation")},
            end_mrr=float(r["end_mrr"]),
        )
        for m, r in recent.iterrows()
    ]
    rates = [
        RateLine(
            month=pd.Timestamp(m).date(),
            nrr=finite_or_none(r["nrr"]),
            grr=finite_or_none(r["grr"]),
            logo_churn_rate=finite_or_none(r["logo_churn_rate"]),
        )
        for m, r in recent.iterrows()
    ]
    return money, rates


def weekly_dashboard(portfolio: Portfolio) -> Dashboard:
    """The weekly CS dashboard of a portfolio as of its as-of date (see the module docstring for the conventions).

    Same portfolio, same dashboard: no clock is read (the sheet's "last refreshed" stamp is the workbook edge's). Every
    part that has no data (no MRR, no surveys, no History, no live account) is ``None``/empty and said so in
    ``notes``; nothing raises.
    """
    settings = portfolio.settings
    scheme = settings.scheme()
    labels = scheme.labels
    risky = at_risk_tiers(scheme)
    table = live_table(portfolio)
    live = table[table["live"]]
    arr = live["arr_effective"]
    total_arr = float(arr.sum())
    notes: list[str] = []
    if live.empty:
        notes.append("no live account (ARR > 0): portfolio figures are 0")
    unknown = int(table["arr_effective"].isna().sum())
    if unknown:
        notes.append(f"{unknown} account(s) without ARR or MRR are left out of the portfolio figures")

    simple_labels = SIMPLE_TIERS.labels
    mov = _movements(portfolio)
    if portfolio.mrr.empty:
        notes.append("no MRR data: retention, this month and the MRR series are empty")
    surveys = _surveys(portfolio)
    if surveys.nps_responses + surveys.csat_responses + surveys.ces_responses == 0:
        notes.append(f"no survey answers from {surveys.start.isoformat()} to {surveys.end.isoformat()}")
    renewals, past, past_arr = _renewals(live)
    if past:
        notes.append(f"{past} live account(s) have a renewal date in the past: update renewal_date")
    wow = _week_over_week(portfolio, live, labels)
    if wow.snapshot_as_of is None:
        notes.append(f"week over week: {NO_WEEK_AGO} (History needs a snapshot 7-14 days before the as-of date)")
    money, rates = _series(mov, portfolio.as_of)
    health = pd.to_numeric(live["health_score"], errors="coerce").astype(float)
    iso = portfolio.as_of.isocalendar()
    at_risk = live["at_risk"]
    return Dashboard(
        as_of=portfolio.as_of,
        week=f"{iso[0]}-W{iso[1]:02d}",
        preset=settings.preset,
        currency=settings.currency,
        at_risk_tiers=list(risky),
        total_accounts=len(live),
        total_arr=total_arr,
        churned_accounts=int((table["arr_effective"] == 0).sum()),
        unknown_arr_accounts=unknown,
        by_tier=_tier_lines(live["health_tier"], arr, labels, total_arr),
        by_simple_tier=_tier_lines(live["simple_tier"], arr, simple_labels, total_arr),
        at_risk_count=int(at_risk.sum()),
        at_risk_arr=float(arr[at_risk].sum()),
        average_health=finite_or_none(health.mean()) if health.notna().any() else None,
        scored_accounts=int(health.notna().sum()),
        retention=_retention(portfolio, mov),
        this_month=_this_month(portfolio, mov),
        surveys=surveys,
        renewals=renewals,
        renewals_past_due=past,
        renewals_past_due_arr=past_arr,
        week_over_week=wow,
        mrr_series=money,
        nrr_trend=rates,
        act_on=act_on(live),
        renewing_soon=renewing_soon(live),
        data_issues=len(portfolio.issues),
        data_issue_lines=data_issues(portfolio.issues),
        notes=notes,
    )
