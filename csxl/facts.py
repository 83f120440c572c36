"""Portfolio facts: the per-account numbers every play, sheet and command agrees on, computed in one place.

* **Effective ARR**: the ``arr`` cell when filled, else 12 x the account's MRR (duplicate rows summed) in its latest
  MRR month on or before the as-of month; ``NaN`` when both are missing. Currency per year.
* **Segment**: the ``segment`` cell when filled, else the band of the effective ARR
  (:data:`csxl.settings.SEGMENT_BANDS`).
* **Live**: effective ARR > 0. **At risk**: live and in the lower half of the preset's tiers (:func:`at_risk_tiers`).
* **Renewal days**: renewal date - as-of date in whole days (negative when passed, ``NaN`` when blank).

:func:`account_facts` computes them for a whole table at once; :attr:`csxl.Portfolio.facts` holds the result.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from csxl.settings import SEGMENT_BANDS, TierScheme

__all__ = [
    "FACT_COLUMNS",
    "account_facts",
    "at_risk_tiers",
    "last_full_month",
    "latest_mrr",
    "month_start",
    "mrr_cut",
    "segment_by_arr",
]

#: Columns of :func:`account_facts`.
FACT_COLUMNS: tuple[str, ...] = (
    "arr_effective",
    "arr_source",
    "segment_effective",
    "segment_source",
    "live",
    "at_risk",
    "renewal_days",
)


def at_risk_tiers(scheme: TierScheme) -> tuple[str, ...]:
    """The at-risk tiers of a scheme: its lower half, rounded down (``n // 2`` worst tiers of ``n``).

    ``engine`` (Thriving, Healthy, At-Risk, Critical) -> At-Risk, Critical; ``growth`` (Green, Yellow, Red) -> Red.
    """
    labels = scheme.labels
    return labels[len(labels) - len(labels) // 2 :]


def month_start(day: _dt.date) -> pd.Timestamp:
    """The first day of ``day``'s month, as a Timestamp."""
    return cast(pd.Timestamp, pd.Timestamp(day.year, day.month, 1))


def last_full_month(day: _dt.date) -> pd.Timestamp:
    """The as-of month when ``day`` is its last day, else the month before (month-start Timestamp): the month whose
    MRR bridge is complete."""
    start = month_start(day)
    if (day + _dt.timedelta(days=1)).month != day.month:
        return start
    previous: pd.Timestamp = start - pd.DateOffset(months=1)
    return previous


def mrr_cut(mrr: pd.DataFrame, as_of: _dt.date) -> tuple[pd.Timestamp | None, str]:
    """Where the MRR analyses (cohorts, retention) stop: the as-of month, or the MRR table's last month when the
    table ends before it (an early-month refresh before the month's MRR is in), with the sentence that says so.

    ``(None, reason)`` when the table is empty or starts after the as-of month: there is nothing to analyse.
    """
    if mrr.empty:
        return None, "The MRR sheet is empty: fill account, month and mrr (one row per account and month)."
    months = pd.to_datetime(mrr["month"])
    first, last = months.min(), months.max()
    as_of_month = month_start(as_of)
    if as_of_month < first:
        return None, f"The MRR sheet starts in {first:%Y-%m}, after the as-of month {as_of_month:%Y-%m}."
    if as_of_month > last:
        return last, (
            f"The MRR sheet ends in {last:%Y-%m}, before the as-of month {as_of_month:%Y-%m}: "
            f"the analysis stops at {last:%Y-%m}."
        )
    return as_of_month, ""


def latest_mrr(mrr: pd.DataFrame, as_of: _dt.date) -> pd.DataFrame:
    """Each account's MRR in the MRR table's latest month on or before the as-of month (rows summed), indexed by
    account: an account without a row in that month has no MRR any more (0: it churned, as the MRR movements count
    it), dated that month.

    Columns ``mrr`` (float) and ``month`` (month-start Timestamp); accounts with no month up to then are absent.
    """
    upto = mrr[mrr["month"] <= month_start(as_of)] if not mrr.empty else mrr
    if upto.empty:
        empty = {"mrr": pd.Series(dtype=float), "month": pd.Series(dtype="datetime64[us]")}
        return cast(pd.DataFrame, pd.DataFrame(empty))
    sums = upto.groupby(["account", "month"], sort=True)["mrr"].sum().reset_index()
    last = sums.groupby("account", sort=False).tail(1).set_index("account")
    out: pd.DataFrame = last[["mrr", "month"]].astype({"mrr": float})
    newest = sums["month"].max()
    ended = out["month"] < newest
    out.loc[ended, "mrr"] = 0.0
    out.loc[ended, "month"] = newest
    return out


def segment_by_arr(arr: pd.Series[float], bands: Mapping[str, float] = SEGMENT_BANDS) -> pd.Series[Any]:
    """The band of each ARR (``None`` where ARR is missing): the highest band whose lowest ARR it reaches."""
    ordered = sorted(bands.items(), key=lambda kv: -float(kv[1]))
    values = arr.to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        picked = np.select([values >= float(lo) for _, lo in ordered], [n for n, _ in ordered], default=ordered[-1][0])
    out = pd.Series(picked, index=arr.index, dtype=object)
    return cast("pd.Series[Any]", out.where(~np.isnan(values), None))


def account_facts(table: pd.DataFrame, mrr: pd.DataFrame, as_of: _dt.date, scheme: TierScheme) -> pd.DataFrame:
    """:data:`FACT_COLUMNS` for every row of ``table`` (accounts with ``arr``, ``segment``, ``renewal_date`` and
    ``health_tier``), on ``table``'s index."""
    arr = pd.to_numeric(table["arr"], errors="coerce").astype(float)
    latest = latest_mrr(mrr, as_of)
    names = table["account"]
    from_mrr = names.map(latest["mrr"]).astype(float) * 12.0
    use_mrr = arr.isna() & from_mrr.notna()
    effective = arr.where(~use_mrr, from_mrr)
    arr_source = pd.Series("", index=table.index, dtype=object)
    arr_source[arr.notna()] = "arr column"
    if use_mrr.any():
        months = pd.DatetimeIndex(latest.loc[names[use_mrr].to_numpy(), "month"])
        arr_source[use_mrr] = ("12 x MRR of " + months.strftime("%Y-%m")).to_numpy()
    segment = table["segment"].astype(object)
    by_band = segment_by_arr(effective)
    has_segment = segment.notna()
    segment_source = pd.Series("", index=table.index, dtype=object)
    segment_source[has_segment] = "segment column"
    banded = ~has_segment & by_band.notna()
    segment_source[banded] = effective[banded].map(lambda v: f"from ARR {v:,.0f} (segment blank)")
    live = (effective > 0).fillna(False).astype(bool)
    risky = at_risk_tiers(scheme)
    renewal = pd.to_datetime(table["renewal_date"], errors="coerce")
    facts = pd.DataFrame(
        {
            "arr_effective": effective,
            "arr_source": arr_source,
            "segment_effective": segment.where(has_segment, by_band),
            "segment_source": segment_source,
            "live": live,
            "at_risk": (live & table["health_tier"].isin(risky)).astype(bool),
            "renewal_days": (renewal - pd.Timestamp(as_of)).dt.days.astype(float),
        },
        index=table.index,
    )
    return cast(pd.DataFrame, facts)
