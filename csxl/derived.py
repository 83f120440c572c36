"""Signals the data shows, over the labels typed on the Accounts sheet: one rule for every score and play.

A founder types ``contract_trend`` (expanded / flat / downgraded) once and forgets it; the MRR table says what the
contract did. When both exist, the data wins and every output says which it used:

* **Contract trend from MRR** (:func:`mrr_trend`): the account's MRR in its latest month up to the as-of month
  against its MRR 12 months earlier (or, for a younger account, its first month, when that is at least 3 months
  back): more than +5 % expanded, less than -5 % downgraded, else flat. No trend is derived for an account with
  fewer than 3 months of MRR, with no MRR in the table's latest month (it churned: not a trend) or starting from 0;
  its typed label is kept. The 5 % band keeps list-price rounding and FX from flipping the label (decision).
* **Latest NPS from the Surveys sheet** (:func:`latest_survey_nps`): an account's latest NPS answer dated on or before
  the as-of date. A dated answer beats the undated ``nps`` cell; the cell stays for accounts without an answer.

:func:`derive` applies both to an Accounts table; :meth:`Derived.sources` says where each value comes from (``typed``,
or the evidence: "MRR -37% from 2025-10 to 2026-10 (typed: expanded)").
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from csxl.cells import label_key
from csxl.mrrgrid import MrrRows, parse_rows

__all__ = ["LOOKBACK_MONTHS", "MIN_MONTHS", "TREND_BAND", "Derived", "derive", "latest_survey_nps", "mrr_trend"]

#: Months between the two MRR values a trend compares.
LOOKBACK_MONTHS = 12
#: Fewest months of MRR (first to latest) a trend is derived from.
MIN_MONTHS = 3
#: A change inside +-5 % is flat.
TREND_BAND = 0.05


def _month(value: _dt.date) -> pd.Timestamp:
    return cast(pd.Timestamp, pd.Timestamp(value.year, value.month, 1))


def _months_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return cast(pd.Series, (later.dt.year - earlier.dt.year) * 12 + (later.dt.month - earlier.dt.month))


_COLUMNS = {
    "trend": pd.Series(dtype=object),
    "change": pd.Series(dtype=float),
    "since": pd.Series(dtype="datetime64[us]"),
    "until": pd.Series(dtype="datetime64[us]"),
}


def _empty(columns: dict[str, pd.Series]) -> pd.DataFrame:
    out: pd.DataFrame = pd.DataFrame(columns)
    return out


def mrr_trend(mrr: pd.DataFrame | MrrRows, as_of: _dt.date) -> pd.DataFrame:
    """The contract trend each account's MRR shows (module docstring), indexed by account: ``trend`` (expanded /
    flat / downgraded), ``change`` (fraction), ``since`` and ``until`` (month starts). Accounts without a derived
    trend are absent. ``mrr``: the MRR table, or its rows parsed once (:attr:`csxl.portfolio.Portfolio.mrr_rows`)."""
    rows = parse_rows(mrr)
    cut = np.datetime64(_month(as_of), "M").astype(np.int64)
    keep = rows.ords <= cut
    acc, ords, amount = rows.acc[keep], rows.ords[keep], rows.amount[keep]
    if not acc.size:
        return _empty(_COLUMNS)
    span = int(ords.max() - ords.min()) + 1
    keys, inverse = np.unique(acc * span + (ords - ords.min()), return_inverse=True)
    sums = np.bincount(inverse, weights=amount)  # one MRR per account and month, keys sorted by account then month
    k_acc, k_ord = keys // span, keys % span + ords.min()
    newest = int(k_ord.max())
    last = np.r_[np.flatnonzero(np.diff(k_acc)), keys.size - 1]  # each account's latest month
    paying = last[(k_ord[last] == newest) & (sums[last] > 0)]  # still a customer in the table's latest month
    latest_of = np.full(int(k_acc.max()) + 1, -1, dtype=np.int64)
    latest_of[k_acc[paying]] = paying
    at = latest_of[k_acc]
    back = np.where(at >= 0, newest - k_ord, -1)
    window = np.flatnonzero((at >= 0) & (back <= LOOKBACK_MONTHS) & (sums > 0))
    first = window[np.r_[True, np.diff(k_acc[window]) != 0]] if window.size else window  # oldest in the window
    base = first[back[first] >= MIN_MONTHS]
    if not base.size:
        return _empty(_COLUMNS)
    now = latest_of[k_acc[base]]
    change = sums[now] / sums[base] - 1.0
    steady = np.round(change, 9)  # exactly 5 % is inside the band, whatever the float rounding of the ratio
    trend = np.select([steady > TREND_BAND, steady < -TREND_BAND], ["expanded", "downgraded"], default="flat")
    months = pd.to_datetime(np.r_[k_ord[base], k_ord[now]].astype("datetime64[M]"))
    out: pd.DataFrame = pd.DataFrame(
        {
            "trend": trend.astype(object),
            "change": change,
            "since": months[: base.size],
            "until": months[base.size :],
        },
        index=pd.Index(rows.accounts[k_acc[base]], name="account"),
    )
    return out


def latest_survey_nps(surveys: pd.DataFrame, as_of: _dt.date) -> pd.DataFrame:
    """Each account's latest NPS answer dated on or before ``as_of``, indexed by account: ``score`` (0..10) and
    ``date``. ``surveys``: the loaded Surveys table (account, date, kind, score)."""
    if surveys.empty:
        return _empty({"score": pd.Series(dtype=float), "date": pd.Series(dtype="datetime64[us]")})
    nps = surveys[(surveys["kind"] == "nps") & (surveys["date"] <= pd.Timestamp(as_of))]
    nps = nps.dropna(subset=["score"]).sort_values(["account", "date"], kind="stable")
    latest = nps.groupby("account", sort=False).tail(1).set_index("account")
    return cast(pd.DataFrame, latest[["score", "date"]].astype({"score": float}))


@dataclass(frozen=True)
class Derived:
    """:func:`derive`'s result: ``accounts`` as the data shows them, and what each derived value rests on (aligned
    with ``accounts``): the MRR ``trend`` rows, the latest ``nps`` answers, the ``typed`` cells they replace."""

    accounts: pd.DataFrame
    trend: pd.DataFrame
    nps: pd.DataFrame
    typed: pd.DataFrame

    def sources(self) -> pd.DataFrame:
        """Where each ``contract_trend`` and ``nps`` comes from, on ``accounts``' index: ``"typed"``, ``"blank"`` or
        the evidence ("MRR -37% from 2025-10 to 2026-10 (typed: expanded)", "NPS survey of 2026-09-12 (typed: 9)").
        Built on demand: text for every account costs more than the values."""
        typed_trend = self.typed["contract_trend"].map(_label)
        trend_text = [
            _trend_text(t, c, s, u, typed)
            for t, c, s, u, typed in zip(
                self.trend["trend"],
                self.trend["change"],
                self.trend["since"],
                self.trend["until"],
                typed_trend,
                strict=True,
            )
        ]
        nps_text = [
            _nps_text(score, date, typed)
            for score, date, typed in zip(self.nps["score"], self.nps["date"], self.typed["nps"], strict=True)
        ]
        out: pd.DataFrame = pd.DataFrame({"contract_trend": trend_text, "nps": nps_text}, index=self.accounts.index)
        return out


def _label(value: object) -> str | None:
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else label_key(str(value))
    )


def _trend_text(trend: object, change: float, since: Any, until: Any, typed: str | None) -> str:
    if not isinstance(trend, str):
        return "typed" if typed is not None else "blank"
    shown = f"MRR {change:+.0%} from {pd.Timestamp(since):%Y-%m} to {pd.Timestamp(until):%Y-%m}"
    return shown + ("" if typed is None else f" (typed: {typed})")


def _nps_text(score: float, date: Any, typed: Any) -> str:
    known = typed is not None and typed is not pd.NA and not (isinstance(typed, float) and typed != typed)
    if score == score:  # an answer on the Surveys sheet
        return f"NPS survey of {pd.Timestamp(date):%Y-%m-%d}" + (f" (typed: {float(typed):g})" if known else "")
    return "typed" if known else "blank"


def derive(accounts: pd.DataFrame, mrr: pd.DataFrame | MrrRows, surveys: pd.DataFrame, as_of: _dt.date) -> Derived:
    """The Accounts table with ``contract_trend`` from the MRR table and ``nps`` from the Surveys sheet where the data
    shows them (module docstring); :meth:`Derived.sources` says which each value is."""
    names = accounts["account"].astype(object).to_numpy()
    out = accounts.copy()
    empty = pd.Series(None, index=out.index, dtype=object)
    typed = pd.DataFrame(
        {
            "contract_trend": out.get("contract_trend", empty),
            "nps": out.get("nps", empty),
        }
    )
    trend = mrr_trend(mrr, as_of).reindex(names).set_axis(out.index, axis=0)
    nps = latest_survey_nps(surveys, as_of).reindex(names).set_axis(out.index, axis=0)
    found = trend["trend"].astype(object)
    out["contract_trend"] = found.where(found.notna(), typed["contract_trend"]).astype(object)
    score = nps["score"].astype(float)
    out["nps"] = score.where(score.notna(), typed["nps"]).astype(object)
    return Derived(out, trend, nps, typed)
