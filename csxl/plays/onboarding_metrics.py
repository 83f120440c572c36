"""Portfolio onboarding metrics (agent spec "Onboarding metrics"): activation, time to first value, D7/D30
retention, D30 paying and post-onboarding NPS, each against its target, over the accounts in their first months."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from csxl.plays.base import PlayResult, Section, Value, load_library
from csxl.plays.common import Item, extra_dates, pct
from csxl.portfolio import Portfolio
from csxl.signals import COMPARE
from csxl.surveys import nps as _nps


class MetricLine(Item):
    """One onboarding metric: value (None = not derivable), unit, target, met, accounts counted, formula, note."""

    metric: str
    value: float | None
    unit: str
    target: str
    met: bool | None
    n: int
    formula: str
    note: str


class OnboardingMetrics(PlayResult):
    """The portfolio's onboarding metrics (agent spec, "Onboarding metrics and targets")."""

    metrics: list[MetricLine]

    def sections(self) -> list[Section]:
        rows: list[list[Value]] = []
        for m in self.metrics:
            shown: Value
            if m.value is None:
                shown = "not derivable"
            elif m.unit == "fraction":
                shown = pct(m.value, 1)
            else:
                shown = round(m.value, 1)
            rows.append([m.metric, shown, m.target, "" if m.met is None else m.met, m.n, m.formula, m.note])
        return [Section("Onboarding metrics", rows, ("metric", "value", "target", "met", "n", "formula", "note"))]


def _metric(
    key: str, name: str, value: float | None, unit: str, n: int, formula: str, note: str, lib: Mapping[str, Any]
) -> MetricLine:
    spec = cast(dict[str, Any], lib["metric_targets"])[key]
    met = None if value is None else bool(COMPARE[str(spec["op"])](value, float(spec["value"])))
    return MetricLine(
        metric=name, value=value, unit=unit, target=str(spec["target"]), met=met, n=n, formula=formula, note=note
    )


def _share(flags: pd.Series[Any]) -> tuple[float | None, int]:
    n = int(flags.size)
    return (float(flags.mean()) if n else None), n


def onboarding_metrics(portfolio: Portfolio, *, library: Mapping[str, Any] | None = None) -> OnboardingMetrics:
    """The onboarding metrics csxl can derive from its columns (vectorised over the whole Accounts table).

    * **TTFV median** (days): ``median(first_value_date - start_date)`` when the optional ``first_value_date``
      column exists, else not derivable.
    * **Activation rate**: accounts with ``seats_active / seats_purchased >= 0.5`` (the onboarding risk table's
      activation bar) / accounts with both seat cells filled and ``seats_purchased > 0``.
    * **Onboarding completion**: among accounts past day 90 with every checkable milestone column filled,
      the share with all of them done (integration connected, goals_defined > 0, seats >= 80 % active, ROI
      documented).
    * **D7 / D30 retention** (logins): among accounts 7-13 (30-36) days old with ``days_since_login`` filled, the
      share whose last login falls on or after day 7 (30): ``(as_of - start_date) - days_since_login >= 7``. Older
      accounts are left out: their last login cannot tell whether they were active then (not derivable when none).
    * **D30 paying** (MRR): among accounts whose first month with MRR > 0 is before the as-of month, the share
      still with MRR > 0 the month after. MRR is monthly, so a D7 figure cannot come from it.
    * **Post-onboarding NPS**: :func:`csxl.nps` of NPS answers dated within days 0-90 of the account's start.
    """
    lib = load_library("onboarding", library)
    table = portfolio.table
    as_of = portfolio.as_of_ts
    start = pd.to_datetime(table["start_date"])
    age = (as_of - start).dt.days
    out: list[MetricLine] = []

    out.append(_ttfv(portfolio, start, lib))
    active = pd.to_numeric(table["seats_active"], errors="coerce").astype(float)
    bought = pd.to_numeric(table["seats_purchased"], errors="coerce").astype(float)
    ok = active.notna() & (bought > 0)
    share, n = _share(active[ok] / bought[ok] >= 0.5)
    out.append(
        _metric(
            "activation_rate", "Activation rate", share, "fraction", n,
            "accounts with seats_active/seats_purchased >= 50% / accounts with seats filled", "seat activation", lib,
        )
    )  # fmt: skip
    window = int(lib["window_days"])
    out.append(_completion(table, age, active, bought, window, lib))
    out += _login_retention(table, age, lib)
    out.append(_d30_paying(portfolio, lib))
    out.append(_post_onboarding_nps(portfolio, start, window, lib))
    return OnboardingMetrics(
        command="onboarding-metrics",
        account=None,
        as_of=portfolio.as_of,
        conventions=["Signups = accounts on the Accounts sheet (all of them, churned ones included)."],
        metrics=out,
    )


def _d30_paying(portfolio: Portfolio, lib: Mapping[str, Any]) -> MetricLine:
    mrr = portfolio.mrr
    formula = "accounts with MRR > 0 the month after their first paying month / accounts with that month <= as-of"
    month = portfolio.as_of_month
    if mrr.empty:
        return _metric("d30_paying", "D30 paying (MRR)", None, "fraction", 0, formula, "MRR sheet empty", lib)
    by = mrr[mrr["month"] <= month].groupby(["account", "month"], sort=False)["mrr"].sum()
    paying = by[by > 0].reset_index()
    first = paying.groupby("account")["month"].min()
    nxt = first + pd.DateOffset(months=1)
    nxt = nxt[nxt <= month]
    keys = pd.MultiIndex.from_arrays([nxt.index, nxt.to_numpy()])
    after = by.reindex(keys).fillna(0.0).to_numpy() > 0
    share, n = _share(pd.Series(after, dtype=bool))
    note = "MRR is monthly: D7 cannot be read from it"
    return _metric("d30_paying", "D30 paying (MRR)", share, "fraction", n, formula, note, lib)


def _post_onboarding_nps(
    portfolio: Portfolio, start: pd.Series[Any], window: int, lib: Mapping[str, Any]
) -> MetricLine:
    surveys = portfolio.surveys
    formula = f"NPS of answers dated within days 0-{window} of the account's start_date"
    answers = surveys[surveys["kind"] == "nps"] if not surveys.empty else surveys
    starts = pd.Series(start.to_numpy(), index=portfolio.table["account"].astype(str).to_numpy())
    if answers.empty:
        return _metric("post_onboarding_nps", "Post-onboarding NPS", None, "NPS", 0, formula, "no NPS answers", lib)
    began = pd.to_datetime(answers["account"].astype(str).map(starts))
    offset = (answers["date"] - began).dt.days
    inside = answers[(offset >= 0) & (offset <= window)]
    if inside.empty:
        return _metric(
            "post_onboarding_nps", "Post-onboarding NPS", None, "NPS", 0, formula, "no answer in the window", lib
        )
    value = _nps(inside["score"].astype(float))
    return _metric(
        "post_onboarding_nps", "Post-onboarding NPS", value, "NPS", len(inside), formula, "surveys sheet", lib
    )


def _ttfv(portfolio: Portfolio, start: pd.Series[Any], lib: Mapping[str, Any]) -> MetricLine:
    """Median days from start to first value, when the Accounts sheet has a first_value_date column."""
    fv = extra_dates(portfolio, "first_value_date")
    formula = "median(first_value_date - start_date)"
    if fv is None:
        note = "add a first_value_date column to the Accounts sheet"
        return _metric("ttfv_median_days", "Time to first value (median)", None, "days", 0, formula, note, lib)
    ttfv = (fv - start).dt.days.dropna()
    value = float(ttfv.median()) if len(ttfv) else None
    note = "accounts with both dates"
    return _metric("ttfv_median_days", "Time to first value (median)", value, "days", len(ttfv), formula, note, lib)


def _completion(
    table: pd.DataFrame,
    age: pd.Series[Any],
    active: pd.Series[float],
    bought: pd.Series[float],
    window: int,
    lib: Mapping[str, Any],
) -> MetricLine:
    """Accounts past the onboarding window with every checkable milestone done, of those with all of them filled."""
    ok = active.notna() & (bought > 0)
    checks = pd.DataFrame(
        {
            "integration": table["integration"].map(lambda v: None if v is None else v == "connected"),
            "goals": pd.to_numeric(table["goals_defined"], errors="coerce").gt(0).where(table["goals_defined"].notna()),
            "seats": (active / bought.where(bought > 0) >= 0.8).where(ok),
            "roi": table["roi_documented"].astype(object).where(table["roi_documented"].notna()),
        },
        index=table.index,
    )
    eligible = (age > window) & checks.notna().all(axis=1)
    share, n = _share(checks[eligible].astype(bool).all(axis=1))
    return _metric(
        "onboarding_completion", "Onboarding completion", share, "fraction", n,
        "accounts past day 90 with every checkable milestone done / such accounts",
        "checkable: integration connected, goals_defined > 0, seats >= 80% active, roi_documented", lib,
    )  # fmt: skip


#: Days after day ``n`` an account's age may be for its last login to tell whether it was active in days ``n``..age.
RETENTION_WINDOW_DAYS = 6


def _login_retention(table: pd.DataFrame, age: pd.Series[Any], lib: Mapping[str, Any]) -> list[MetricLine]:
    """D7 and D30 retention from ``days_since_login``, over the accounts whose last login can tell.

    csxl keeps no login history, only the last login. For an account aged ``n`` to ``n + 6`` days, a last login on or
    after day ``n`` means it was active in that week, and one before means it was not; for an older account the last
    login says nothing about day ``n`` (it may have come back later), so it is left out: counting it made D7 99.6 %
    and D30 100 %. No account in the window: not derivable (omitted, never 100 %)."""
    since = pd.to_numeric(table["days_since_login"], errors="coerce").astype(float)
    out = []
    for key, days, name in (("d7_retention", 7, "D7 retention"), ("d30_retention", 30, "D30 retention")):
        last = days + RETENTION_WINDOW_DAYS
        eligible = age.between(days, last) & since.notna()
        share, n = _share((age[eligible] - since[eligible]) >= days)
        note = (
            f"accounts aged {days}-{last} days, whose last login tells (csxl keeps no login history)"
            if n
            else f"no account is {days}-{last} days old: the last login of older accounts cannot tell (add a login "
            "history to measure it)"
        )
        out.append(
            _metric(
                key, name, share, "fraction", n,
                f"accounts aged {days}-{last} days with a login on or after day {days} / those accounts", note, lib,
            )
        )  # fmt: skip
    return out
