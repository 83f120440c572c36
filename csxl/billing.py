"""Subscriptions -> MRR per account and month, by rules a revenue analyst can read and change (pure core).

The measurement is the one ChartMogul, Baremetrics and ProfitWell describe: a month's MRR is the normalised monthly
value of every subscription **active at the end of the month** (the snapshot the workbook's MRR table holds).

Rules (:class:`BillingRules`, defaults in brackets):

* **Normalised to a month**: price x quantity / months in the billing interval (``year`` = 12, ``quarter`` = 3,
  ``week`` = 12/52, ``day`` = 12/365, times the interval count: every 6 months = 6).
* **Discounts** reduce MRR: a percentage off and an amount off per interval [every discount while it applies; set
  ``forever_discounts_only`` to count only the ones without an end].
* **Tax** is never MRR (the price is taken before tax).
* **Trials and free plans are not MRR**: a subscription counts from the first month end after its trial ends, and one
  whose normalised value is 0 never counts.
* **A cancellation at period end churns at the end of the paid period**: the subscription counts while it is paid for
  (its end is the later of the cancellation and the period end); an immediate cancellation ends it at once.
* **Past due keeps its MRR** until the subscription ends [``past_due_churn_days`` = None; N: it churns N days after the
  period it failed to pay for ended].
* **Several subscriptions of one customer add up**: ending one while another runs is contraction, churn comes when the
  last ends; a customer who returns after a month at 0 is a reactivation (:mod:`csxl.revenue` names the movements).
* **Other currencies** are converted at a fixed rate per currency (``rates``: units of the workbook currency per unit),
  the same every month, so exchange rates never create movements. A currency without a rate is reported, never 1:1.

**Invoices** (:func:`invoice_lines_to_mrr`, the measurement ChartMogul describes for invoice line items): each line
with a service period is worth its amount (after discounts, before tax) divided by the period's length in months, at
every month end the period covers. A line for a whole plan period gives the plan's monthly value (a year's line
/ 12); a proration line gives its amount over the part of the period it covers (ChartMogul's prorate factor), so the
credit for unused time and the charge for the new plan move MRR by the difference of the two plans. A line without a
service period (a one-off charge) is not MRR; lines of draft, void and uncollectible invoices are not either.

Vectorised: one pass over the subscriptions (or lines), then one repeat per month each is active (numpy), one
group-by.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from csxl.errors import InputError

__all__ = [
    "INTERVAL_MONTHS",
    "LINE_COLUMNS",
    "SUBSCRIPTION_COLUMNS",
    "BillingRules",
    "explain_invoice_mrr",
    "explain_mrr",
    "invoice_lines_to_mrr",
    "monthly_value",
    "service_months",
    "subscription_months",
    "subscriptions_to_mrr",
]

#: Months in one billing interval of each unit (Stripe's ``day``, ``week``, ``month``, ``year``; ``quarter`` too).
INTERVAL_MONTHS: Mapping[str, float] = {"day": 12 / 365, "week": 12 / 52, "month": 1.0, "quarter": 3.0, "year": 12.0}

#: Columns of a subscriptions table (one row per subscription, or per subscription item): see :func:`monthly_value`.
SUBSCRIPTION_COLUMNS: tuple[str, ...] = (
    "subscription_id",
    "account",
    "currency",
    "amount",
    "interval",
    "interval_count",
    "quantity",
    "percent_off",
    "amount_off",
    "discount_end",
    "started_at",
    "trial_end",
    "canceled_at",
    "period_end",
    "cancel_at_period_end",
    "status",
)


#: Columns of an invoice lines table (one row per line with a service period): see :func:`invoice_lines_to_mrr`.
LINE_COLUMNS: tuple[str, ...] = (
    "invoice_id",
    "subscription_id",
    "account",
    "currency",
    "amount",
    "period_start",
    "period_end",
)


class BillingRules(BaseModel):
    """The choices of :func:`subscriptions_to_mrr` (documented in the module)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = Field(default="USD", min_length=3, max_length=3, description="the workbook currency")
    rates: Mapping[str, float] = Field(default_factory=dict, description="units of `currency` per unit of each other")
    forever_discounts_only: bool = Field(default=False, description="count only discounts without an end date")
    past_due_churn_days: int | None = Field(default=None, ge=0, description="past due: churn N days after the period")


Months = npt.NDArray[np.float64]  # months since year 0 (NaN where there is no date)


def _month_index(dates: pd.Series[Any]) -> Months:
    """Months since year 0 of each date (``NaT`` -> NaN); worked once per distinct date."""
    codes, uniques = pd.factorize(_stamps(dates).view("int64"))
    stamps = np.asarray(uniques, dtype="int64").view("datetime64[us]")
    months = stamps.astype("datetime64[M]").astype("int64").astype("float64") + 1970 * 12
    months[np.isnat(stamps)] = np.nan
    out: Months = months[codes]
    return out


def _stamps(dates: pd.Series[Any]) -> npt.NDArray[np.datetime64]:
    """Dates and times as NumPy microseconds, without a zone (``NaT`` where missing)."""
    return np.asarray(pd.to_datetime(dates).to_numpy(dtype="datetime64[us]"))


def monthly_value(subs: pd.DataFrame, rules: BillingRules, *, discounted: bool = True) -> pd.Series[float]:
    """The normalised monthly value of each subscription row in the workbook currency, before trials and ends:
    ``(amount x quantity x (1 - percent_off/100) - amount_off) / months per interval x rate``, never below 0
    (``discounted=False``: without its discount, the value once a discount has ended)."""
    months = subs["interval"].map(INTERVAL_MONTHS).astype(float) * subs["interval_count"].astype(float)
    quantity = subs["quantity"].astype(float).fillna(1.0)
    gross = subs["amount"].astype(float) * quantity
    percent = subs["percent_off"].astype(float).fillna(0.0) * discounted
    off = subs["amount_off"].astype(float).fillna(0.0) * discounted
    if rules.forever_discounts_only:
        temporary = subs["discount_end"].notna()
        percent = percent.where(~temporary, 0.0)
        off = off.where(~temporary, 0.0)
    net = (gross * (1.0 - percent / 100.0) - off).clip(lower=0.0)
    own = subs["currency"].astype(str).str.upper()
    rate = own.map({k.upper(): float(v) for k, v in rules.rates.items()}).astype(float)
    rate = rate.where(own != rules.currency.upper(), 1.0)
    return cast("pd.Series[float]", net / months * rate)


def subscription_months(subs: pd.DataFrame, as_of: _dt.date, rules: BillingRules | None = None) -> pd.DataFrame:
    """The first and last month each subscription counts in (as month-start Timestamps; no row for one that never
    counts), with its monthly value: columns ``subscription_id, account, first, last, mrr, discount_until``.

    A month counts when the subscription is active at its end: started on or before it, trial over, not ended.
    Ends: a cancellation at period end ends at the later of the two dates; a past-due subscription (with
    ``past_due_churn_days``) ends that many days after its period end; an end after ``as_of`` is not an end yet."""
    rules = rules or BillingRules()
    missing = [c for c in SUBSCRIPTION_COLUMNS if c not in subs.columns]
    if missing:
        raise InputError("subscriptions", ", ".join(missing), "a table with the columns of SUBSCRIPTION_COLUMNS")
    value = monthly_value(subs, rules)
    full = monthly_value(subs, rules, discounted=False)
    start = pd.to_datetime(subs["started_at"])
    trial = pd.to_datetime(subs["trial_end"])
    counting_from = start.where(trial.isna() | (trial < start), trial)
    canceled = pd.to_datetime(subs["canceled_at"])
    period_end = pd.to_datetime(subs["period_end"])
    at_period_end = subs["cancel_at_period_end"].fillna(False).astype(bool)
    end = canceled.where(~(at_period_end & period_end.notna() & (period_end > canceled)), period_end)
    if rules.past_due_churn_days is not None:
        late = (subs["status"].astype(str).str.lower() == "past_due") & period_end.notna()
        lapse = period_end + pd.Timedelta(days=rules.past_due_churn_days)
        end = end.where(~late | (end.notna() & (end < lapse)), lapse)
    as_of_ts = pd.Timestamp(as_of)
    end = end.where(end <= as_of_ts)  # an end still to come is not an end yet
    first = _month_index(counting_from)
    # active at the end of month m when the end falls after it: the last month is the one before the end's month
    last = np.where(
        end.isna(), _month_index(pd.Series([as_of_ts] * len(subs), index=subs.index)), _month_index(end) - 1
    )
    counts = ((value > 0) | (full > 0)) & np.isfinite(first) & (last >= first)
    out = pd.DataFrame(
        {
            "subscription_id": subs["subscription_id"].astype(str),
            "account": subs["account"],
            "first": first,
            "last": last,
            "mrr": value,
            "full": full,
            "discount_until": pd.to_datetime(subs["discount_end"]),
        }
    )[counts.to_numpy()]
    return cast(pd.DataFrame, out.reset_index(drop=True))


def _month_start(index: Months) -> pd.DatetimeIndex:
    years, months = np.divmod(np.asarray(index, dtype="int64"), 12)
    stamps: Any = pd.to_datetime(pd.DataFrame({"year": years, "month": months + 1, "day": 1}))
    return cast(pd.DatetimeIndex, pd.DatetimeIndex(stamps))


def _check_rates(subs: pd.DataFrame, rules: BillingRules) -> None:
    own = {str(c).upper() for c in pd.unique(subs["currency"])}
    unknown = sorted(own - {rules.currency.upper()} - {k.upper() for k in rules.rates})
    if unknown:
        raise InputError("currency", ", ".join(unknown), f"a rate to {rules.currency} on Settings (none given)")


def _per_month(subs: pd.DataFrame, as_of: _dt.date, rules: BillingRules) -> pd.DataFrame:
    """One row per subscription and month it counts in: ``subscription_id, account, month, mrr`` (the value at that
    month end: discounted while the discount applies), in subscription then month order."""
    _check_rates(subs, rules)
    spans = subscription_months(subs, as_of, rules)
    n = (spans["last"] - spans["first"] + 1).astype("int64").to_numpy()
    rows = np.repeat(np.arange(len(spans)), n)
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    months = _month_start(spans["first"].to_numpy()[rows] + offsets)
    month_end = months + pd.offsets.MonthEnd(0)
    until = pd.DatetimeIndex(spans["discount_until"].to_numpy()[rows])
    ended = np.asarray(until.notna() & (until <= month_end), dtype=bool)  # the discount is over by this month's end
    mrr = np.where(ended, spans["full"].to_numpy()[rows], spans["mrr"].to_numpy()[rows])
    out: pd.DataFrame = pd.DataFrame(
        {
            "subscription_id": spans["subscription_id"].to_numpy()[rows],
            "account": spans["account"].to_numpy()[rows],
            "month": months.to_numpy(),
            "mrr": mrr,
        }
    )
    return out


def _mrr_rows(per: pd.DataFrame) -> pd.DataFrame:
    """``account, month, mrr`` from per-subscription months: summed, months at 0 left out."""
    grouped = per.groupby(["account", "month"], sort=True, as_index=False)["mrr"].sum()
    grouped = grouped[grouped["mrr"] > 1e-9].reset_index(drop=True)
    if grouped.empty:
        empty: dict[str, Any] = {"account": [], "month": pd.Series([], dtype="datetime64[ns]"), "mrr": []}
        return cast(pd.DataFrame, pd.DataFrame(empty).astype({"account": object, "mrr": float}))
    return cast(pd.DataFrame, grouped)


def subscriptions_to_mrr(subs: pd.DataFrame, as_of: _dt.date, rules: BillingRules | None = None) -> pd.DataFrame:
    """MRR rows (``account, month, mrr``; month = the 1st) from a subscriptions table, every month up to ``as_of``'s,
    sorted by account and month: the sum over the account's subscriptions active at each month end.

    Raises :class:`InputError` when a subscription's currency has no rate (naming the currencies)."""
    exploded = _per_month(subs, as_of, rules or BillingRules())
    return _mrr_rows(exploded[exploded["mrr"] > 0])


_EXPLAINED = ["account", "month", "subscription_id", "change", "reason"]


def _explain(per: pd.DataFrame, as_of: _dt.date, changed: str | pd.Series[str]) -> pd.DataFrame:
    """The changes of per-subscription months (sorted by subscription, then month): ``started`` at a subscription's
    first month, ``changed`` (the reason given) when its value moves, ``ended`` the month after its last month
    (when that month is not after ``as_of``'s)."""
    if per.empty:
        return cast(pd.DataFrame, pd.DataFrame(columns=_EXPLAINED))
    same = per["subscription_id"].eq(per["subscription_id"].shift())
    same &= per["month"].eq(per["month"].shift() + pd.offsets.MonthBegin(1))  # a gap: ended, then started again
    step = per["mrr"] - per["mrr"].shift(fill_value=0.0)
    moved = same & (step.abs() > 1e-9)
    reasons = changed if isinstance(changed, str) else changed[moved]
    rows = [
        per[~same].assign(change=per["mrr"][~same], reason="started"),
        per[moved].assign(change=step[moved], reason=reasons),
    ]
    follows = per["subscription_id"].eq(per["subscription_id"].shift(-1))
    follows &= per["month"].shift(-1).eq(per["month"] + pd.offsets.MonthBegin(1))
    ends = per[~follows].copy()
    ends["month"] = ends["month"] + pd.offsets.MonthBegin(1)
    as_of_month = pd.Timestamp(as_of).to_period("M").to_timestamp()
    ends = ends[ends["month"] <= as_of_month]
    rows.append(ends.assign(change=-ends["mrr"], reason="ended"))
    out = pd.concat(rows, ignore_index=True)
    out = out[out["change"].abs() > 1e-9]
    out = out.sort_values(["account", "month", "subscription_id"], kind="stable").reset_index(drop=True)
    return cast(pd.DataFrame, out[_EXPLAINED])


def explain_mrr(subs: pd.DataFrame, as_of: _dt.date, rules: BillingRules | None = None) -> pd.DataFrame:
    """Which subscription moved each account's MRR, and why: ``account, month, subscription_id, change, reason``,
    one row per change (sorted by account, month, subscription). ``reason``: ``started`` (its first month end, a
    trial over), ``discount ended``, ``ended`` (the month after its last month end, when that month is not after
    ``as_of``'s). Summed by account and month, the changes are each month's MRR minus the month before's."""
    return _explain(_per_month(subs, as_of, rules or BillingRules()), as_of, "discount ended")


def service_months(start: pd.Series[Any], end: pd.Series[Any]) -> pd.Series[float]:
    """The length of each service period in calendar months: whole months from ``start`` (the same day of a later
    month, or that month's last day), plus the days left over / the days of the month they fall in.
    2026-01-15 -> 2026-02-15 is 1; 2026-01-31 -> 2026-02-28 is 1; 2026-01-15 -> 2026-02-01 is 17/31.
    Worked once per distinct period (billing periods repeat from line to line), in integers on microseconds with the
    first day of each month the periods touch looked up once (NumPy's calendar)."""
    codes, s, e = _periods(start, end)
    value = _months_between(s, e)
    out: pd.Series[float] = pd.Series(value[codes] if len(codes) else value[:0], index=start.index, dtype=float)
    return out


def _periods(
    start: pd.Series[Any], end: pd.Series[Any]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.datetime64], npt.NDArray[np.datetime64]]:
    """The distinct (start, end) periods of the lines, and each line's: ``codes`` into them, their starts and ends
    (NumPy microseconds). Billing periods repeat from line to line: what depends on the period only is worked once."""
    key_s, unique_s = pd.factorize(_stamps(start).view("int64"))
    key_e, unique_e = pd.factorize(_stamps(end).view("int64"))
    width = max(len(unique_e), 1)
    codes, pairs = pd.factorize(key_s.astype("int64") * width + key_e)
    s = np.asarray(unique_s, dtype="int64")[pairs // width].view("datetime64[us]")
    e = np.asarray(unique_e, dtype="int64")[pairs % width].view("datetime64[us]")
    return codes, s, e


def _months_between(s: npt.NDArray[np.datetime64], e: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """:func:`service_months` of NumPy stamps (NaN where either is missing)."""
    missing = np.isnat(s) | np.isnat(e)
    s, e = np.where(missing, np.datetime64(0, "us"), s), np.where(missing, np.datetime64(0, "us"), e)
    fields = pd.DatetimeIndex(s)
    month_s = ((fields.year - 1970) * 12 + fields.month - 1).to_numpy(dtype="int64")
    day_s = fields.day.to_numpy(dtype="int64")
    ends = pd.DatetimeIndex(e)
    month_e = ((ends.year - 1970) * 12 + ends.month - 1).to_numpy(dtype="int64")
    s_us, e_us = s.view("int64"), e.view("int64")
    time_s = s_us - (s_us // _DAY_US) * _DAY_US
    calendar = _FirstDays(min(month_s.min(initial=0), month_e.min(initial=0)), max(month_s.max(initial=0),
                          month_e.max(initial=0)))  # fmt: skip

    def anchor(whole: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """``start`` moved by ``whole`` months (the day clipped to the month's last), in microseconds."""
        month = month_s + whole
        day = np.minimum(day_s, calendar.days_in(month))
        result: npt.NDArray[np.int64] = (calendar.first(month) + day - 1) * _DAY_US + time_s
        return result

    whole = month_e - month_s
    whole = np.where(anchor(whole) > e_us, whole - 1, whole)
    left = (e_us - anchor(whole)) / _DAY_US
    value = whole + left / calendar.days_in(month_s + whole)
    result: npt.NDArray[np.float64] = np.where(missing, np.nan, value)
    return result


_DAY_US = 86_400_000_000


class _FirstDays:
    """The first day (days since 1970-01-01) of every month from ``low`` to ``high`` + 1 (months since 1970-01)."""

    def __init__(self, low: int, high: int) -> None:
        self.low = int(low)
        months = np.arange(self.low, int(high) + 3).astype("datetime64[M]")
        self.days = months.astype("datetime64[D]").astype("int64")

    def first(self, month: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        out: npt.NDArray[np.int64] = self.days[month - self.low]
        return out

    def days_in(self, month: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        out: npt.NDArray[np.int64] = self.days[month - self.low + 1] - self.days[month - self.low]
        return out


def _line_months(
    lines: pd.DataFrame, as_of: _dt.date, rules: BillingRules, by: str = "subscription_id"
) -> pd.DataFrame:
    """One row per subscription and month its lines count in: ``subscription_id, account, month, mrr, invoice_id``
    (the value summed over its lines covering that month's end, the last such invoice named), sorted by subscription
    then month (``by="account"``: ``account, month, mrr`` per account). A line covers the end of month m when it
    starts before the month's last moment and ends at or after it (for ``as_of``'s month: the end of the as-of
    day)."""
    missing = [c for c in LINE_COLUMNS if c not in lines.columns]
    if missing:
        raise InputError("invoice lines", ", ".join(missing), "a table with the columns of LINE_COLUMNS")
    _check_rates(lines, rules)
    # what depends on the period only (its length, its first and last month ends), once per distinct period
    period, s, e = _periods(lines["period_start"], lines["period_end"])
    months = _months_between(s, e)
    cutoff = np.datetime64(pd.Timestamp(as_of) + pd.Timedelta(days=1), "us")
    as_of_month = float(pd.Timestamp(as_of).year * 12 + pd.Timestamp(as_of).month - 1)
    first = _month_index(pd.Series(s))
    last = _month_index(pd.Series(e)) - 1  # the last month whose end (the next month's first moment) it reaches
    last = np.where((e >= cutoff) & (s < cutoff), np.maximum(last, as_of_month), last)
    last = np.minimum(last, as_of_month)
    counts = (months > 0) & np.isfinite(first) & (last >= first) & (s < cutoff)
    codes, currencies = pd.factorize(lines["currency"])
    given = {k.upper(): float(v) for k, v in rules.rates.items()} | {rules.currency.upper(): 1.0}
    rate = np.array([given.get(str(c).upper(), np.nan) for c in currencies] + [np.nan])[codes]
    value = lines["amount"].to_numpy(dtype=float, na_value=np.nan) / months[period] * rate
    first, last = first[period], last[period]
    keep = np.flatnonzero(counts[period] & np.isfinite(value))
    n = (last[keep] - first[keep] + 1).astype("int64")
    rows = np.repeat(keep, n)
    month = first[rows] + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    per = _sum_by(lines[by], rows, month, value[rows])
    # the names of the lines kept, taken before they become Python objects (millions of lines: categoricals)
    out = pd.DataFrame(
        {
            by: per["key"].astype(str),
            "account": lines["account"].take(per["line"]).to_numpy(dtype=object),
            "month": _month_start(per["month"]).to_numpy(),
            "mrr": per["mrr"],
            "invoice_id": lines["invoice_id"].take(per["line"]).to_numpy(dtype=object).astype(str),
        }
    )
    return cast(pd.DataFrame, out[_PER_COLUMNS[by]])


_PER_COLUMNS = {
    "subscription_id": ["subscription_id", "account", "month", "mrr", "invoice_id"],
    "account": ["account", "month", "mrr"],
}


def _sum_by(keys: pd.Series[Any], rows: npt.NDArray[np.int64], month: Months, mrr: Months) -> dict[str, Any]:
    """The values of line-months summed per key (of each line) and month, sorted by key (first seen) then month:
    ``key``, ``month``, ``mrr`` and ``line`` (the last line of each, for its names). One sort of integers (numpy):
    millions of line-months in a second or two."""
    codes, uniques = pd.factorize(keys)
    low = int(month.min()) if len(month) else 0
    span = int(month.max()) - low + 1 if len(month) else 1
    key = codes[rows].astype("int64") * span + (month.astype("int64") - low)
    order = np.argsort(key, kind="stable")
    key, line = key[order], rows[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.array([], dtype="int64")
    return {
        "key": np.asarray(uniques, dtype=object)[key[starts] // span] if len(key) else np.array([], dtype=object),
        "month": (key[starts] % span + low).astype(float),
        "mrr": np.add.reduceat(mrr[order], starts) if len(key) else np.array([], dtype=float),
        "line": np.maximum.reduceat(line, starts) if len(key) else np.array([], dtype="int64"),
    }


def invoice_lines_to_mrr(lines: pd.DataFrame, as_of: _dt.date, rules: BillingRules | None = None) -> pd.DataFrame:
    """MRR rows (``account, month, mrr``) from invoice lines (:data:`LINE_COLUMNS`; amounts after discounts and
    before tax, in the line's currency), every month up to ``as_of``'s: each line's amount over its service period in
    months (:func:`service_months`), at each month end the period covers, summed by account.

    Raises :class:`InputError` when a line's currency has no rate (naming the currencies)."""
    per = _line_months(lines, as_of, rules or BillingRules(), by="account")
    return _mrr_rows(per[per["mrr"].abs() > 1e-9])


def explain_invoice_mrr(lines: pd.DataFrame, as_of: _dt.date, rules: BillingRules | None = None) -> pd.DataFrame:
    """:func:`explain_mrr` for invoice lines: a change of a subscription's value names the invoice that made it
    (``invoice in_123``)."""
    per = _line_months(lines, as_of, rules or BillingRules())
    return _explain(per, as_of, "invoice " + per["invoice_id"].astype(str))
