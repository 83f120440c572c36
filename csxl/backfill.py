"""Health snapshots for past month ends from imported series: what was known at each month end (pure core).

A refresh writes one History snapshot per as-of date, so a workbook that has just imported two years of billing and
usage has no History: trends, week-over-week and the churn model would start empty. :func:`past_accounts` rebuilds
the Accounts table as it stood at a past month end from what carries a date, and the use case scores it as a refresh
on that date would (``csxl.usecases.backfill_history`` through the Portfolio: the same scoring):

* **usage** from that month's row of the monthly usage (the Usage sheet, :data:`csxl.data.events.MONTHLY_SQL`):
  DAU/MAU, logins per week (per active user), core actions per week, features adopted (features used that month),
  seats active (active users); an account with events in earlier months and none in this one was measured inactive
  (zeros); the usage and login trends against the month before (average daily active users, logins;
  :func:`csxl.usage.trend_label`); days since login is not kept by month: blank;
* **NPS**: the account's last NPS answer dated on or before the month end (the Surveys table);
* **MRR and ARR**: the MRR table as of that month end (the Portfolio reads it so); the typed ARR is today's, so it
  is blank for past months (ARR is then MRR x 12; an account without MRR that month gets no snapshot);
* **attributes** that describe the account rather than observe it (:data:`KEPT`: name, segment, CSM, start date,
  features available, seats purchased, domain) are kept;
* everything else (support tickets, payment status, champion and sponsor and their strength, contacts, goals,
  integration, the next renewal date ...) was observed now, not then: blank for past months. A past score rests on
  what was measured at the time (the engine re-weights over the dimensions with data, and a month with too few says
  "Insufficient data"), never on today's values.

The snapshots fill the time before History began: month ends between or over snapshots a refresh wrote are left
alone (:func:`backfill_months`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import pandas as pd

from csxl.usage import trend_label

__all__ = ["KEPT", "backfill_months", "past_accounts"]

#: Accounts columns kept as they are for past months: they describe the account rather than observe it. (ARR is
#: not among them: a past month's ARR is its MRR x 12, from the MRR table; an account without MRR that month was
#: not a customer then, as far as the data says, and has no snapshot.)
KEPT: tuple[str, ...] = (
    "account", "segment", "csm", "start_date", "features_available", "seats_purchased", "domain",
)  # fmt: skip

#: Accounts column <- monthly usage column.
_FROM_USAGE: dict[str, str] = {
    "dau_mau": "dau_mau",
    "logins_per_week": "logins_per_user_week",
    "core_actions_weekly": "core_actions_per_week",
    "features_adopted": "features_used",
    "seats_active": "active_users",
}


def backfill_months(
    months: Iterable[Any], as_of: _dt.date, existing: Iterable[Any] = (), limit: int | None = None
) -> list[_dt.date]:
    """The month ends to write a snapshot for: from the first of ``months`` (the months the imported series cover)
    to the month before ``as_of``'s, and before the first of ``existing`` (History's dates: the backfill fills the
    time before History began, never between or over snapshots a refresh wrote); the latest ``limit`` of them when
    given."""
    stamps = pd.to_datetime(pd.Series(list(months), dtype=object), errors="coerce").dropna()
    if stamps.empty:
        return []
    first = stamps.min().to_period("M")
    last = pd.Timestamp(as_of).to_period("M") - 1
    taken = pd.to_datetime(pd.Series(list(existing), dtype=object), errors="coerce").dropna()
    ends = [p.end_time.date() for p in pd.period_range(first, last, freq="M")] if first <= last else []
    if len(taken):
        ends = [d for d in ends if pd.Timestamp(d) < taken.min()]
    return ends[-limit:] if limit else ends


def past_accounts(
    accounts: pd.DataFrame, usage: pd.DataFrame | None, surveys: pd.DataFrame | None, month_end: _dt.date
) -> pd.DataFrame:
    """``accounts`` (the Accounts input table, by column key) as known at ``month_end``: :data:`KEPT` columns as
    they are, usage from ``usage`` (``account, month, active_users, dau_mau, logins, logins_per_user_week,
    core_actions_per_week, features_used``), NPS from ``surveys`` (``account, date, kind, score``), every other
    column blank."""
    out = accounts.copy()
    for column in out.columns:
        if column not in KEPT:
            out[column] = None
    month = pd.Timestamp(month_end).to_period("M").to_timestamp()
    names = out["account"].astype(str) if "account" in out else pd.Series([], dtype=object)
    if usage is not None and len(usage):
        frame = usage.assign(month=pd.to_datetime(usage["month"]).dt.to_period("M").dt.to_timestamp())
        now = frame[frame["month"] == month].drop_duplicates("account").set_index("account")
        before = frame[frame["month"] == month - pd.DateOffset(months=1)].drop_duplicates("account")
        before = before.set_index("account")
        # an account with events before this month and none in it was measured inactive: zeros, not blanks
        started = frame.groupby("account")["month"].min()
        quiet = names.map(started).le(month).to_numpy() & ~names.isin(now.index).to_numpy()
        for column, source in _FROM_USAGE.items():
            if column in out:
                values = names.map(pd.to_numeric(now[source], errors="coerce")).to_numpy(dtype=float)
                out[column] = np.where(quiet, 0.0, values)
        daily_now = _daily_users(now).reindex(names.to_numpy())
        daily_before = _daily_users(before).reindex(names.to_numpy())
        logins_now = pd.to_numeric(now["logins"], errors="coerce").reindex(names.to_numpy())
        logins_before = pd.to_numeric(before["logins"], errors="coerce").reindex(names.to_numpy())
        changes = {
            "usage_trend": _change(daily_now, daily_before),
            "login_trend": _change(logins_now, logins_before),
        }
        for column, change in changes.items():
            if column in out:
                out[column] = trend_label(change).to_numpy()
    if surveys is not None and len(surveys) and "nps" in out:
        out["nps"] = names.map(_last_nps(surveys, month_end)).astype(object).to_numpy()
    for column in out.columns:  # blanks as None, the way a sheet's empty cells arrive
        out[column] = out[column].astype(object).where(pd.notna(out[column]), None)
    return cast(pd.DataFrame, out)


def _daily_users(usage: pd.DataFrame) -> pd.Series[float]:
    """Average daily active users of each account's month: DAU/MAU x active users."""
    dau = pd.to_numeric(usage["dau_mau"], errors="coerce") * pd.to_numeric(usage["active_users"], errors="coerce")
    daily: pd.Series[float] = dau.astype(float)
    return daily


def _change(now: pd.Series[Any], before: pd.Series[Any]) -> pd.Series[float]:
    """``now / before - 1`` where there was something before; with nothing now, a fall of 100 %."""
    n, b = now.astype(float).to_numpy(), before.astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(b > 0, np.nan_to_num(n, nan=0.0) / b - 1.0, np.nan)
    out: pd.Series[float] = pd.Series(change, index=now.index, dtype=float)
    return out


def _last_nps(surveys: pd.DataFrame, month_end: _dt.date) -> pd.Series[Any]:
    """Each account's last NPS score dated on or before ``month_end``."""
    kind = surveys["kind"].astype(str).str.strip().str.lower()
    dates = pd.to_datetime(surveys["date"], errors="coerce")
    score = pd.to_numeric(surveys["score"], errors="coerce")
    rows = pd.DataFrame({"account": surveys["account"].astype(str), "date": dates, "score": score})
    rows = rows[(kind == "nps") & rows["date"].notna() & (rows["date"] <= pd.Timestamp(month_end)) & score.notna()]
    last = rows.sort_values("date", kind="stable").groupby("account")["score"].last()
    return cast("pd.Series[Any]", last.round().astype(int))
