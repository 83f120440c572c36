"""The churn model's training frame from a workbook's own history (pure core).

One row per account live at a snapshot date (MRR above 0 in that month), its inputs as known on that date
(:func:`account_features`: the measured signals, the health dimensions and score, segment, ARR, tenure, the MRR
trend, days to renewal) and its outcome (:func:`churn_labels`: the account's MRR reached 0 at a month end within
the next ``horizon_days``). A snapshot whose horizon is not over by the as-of date has no outcome yet and trains
nothing; the model scores today's accounts from the same :func:`account_features`, so training and scoring read
the same columns the same way.

The snapshots are the month ends a refresh on that day would have scored (``csxl.usecases`` rebuilds them with
:mod:`csxl.backfill`: nothing observed later leaks into an earlier row).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csxl.churn import ChurnModel
from csxl.churn_eval import churn_metrics
from csxl.health import churn_tier
from csxl.portfolio import Portfolio

__all__ = [
    "FEATURES",
    "HORIZON_DAYS",
    "HealthBacktest",
    "account_features",
    "churn_labels",
    "health_backtest",
    "rank_churn",
    "training_frame",
]

#: Days after a snapshot in which a churn counts (the spec: "churn probability next 90 days").
HORIZON_DAYS = 90

#: The model's input columns, as :func:`account_features` names them.
FEATURES: tuple[str, ...] = (
    "dau_mau", "logins_per_week", "features_adopted", "core_actions_weekly", "seats_active", "days_since_login",
    "support_tickets_30d", "nps", "segment", "arr", "tenure_months", "mrr_change_3m", "renewal_days",
    "usage", "engagement", "relationship", "outcomes", "financial", "health_score",
)  # fmt: skip

_SIGNALS = ("dau_mau", "logins_per_week", "features_adopted", "core_actions_weekly", "seats_active",
            "days_since_login", "support_tickets_30d", "nps", "usage", "engagement", "relationship", "outcomes",
            "financial", "health_score")  # fmt: skip


def _month_mrr(mrr: pd.DataFrame) -> pd.Series[float]:
    """MRR per (account, month start), rows of a month summed."""
    if mrr.empty:
        return pd.Series(dtype=float)
    months = pd.to_datetime(mrr["month"]).dt.to_period("M").dt.to_timestamp()
    summed = pd.to_numeric(mrr["mrr"], errors="coerce").groupby([mrr["account"].astype(str), months]).sum()
    out: pd.Series[float] = summed.astype(float)
    return out


def account_features(portfolio: Portfolio) -> pd.DataFrame:
    """:data:`FEATURES` of every account of ``portfolio`` as of its date, with ``account`` and ``live``."""
    table = portfolio.table.join(portfolio.facts)
    out = pd.DataFrame({"account": table["account"].astype(str)}, index=table.index)
    for column in _SIGNALS:
        out[column] = pd.to_numeric(table[column], errors="coerce") if column in table else np.nan
    out["segment"] = table["segment_effective"].astype(object)
    out["arr"] = pd.to_numeric(table["arr_effective"], errors="coerce")
    as_of = pd.Timestamp(portfolio.as_of)
    start = pd.to_datetime(table["start_date"], errors="coerce")
    out["tenure_months"] = ((as_of - start).dt.days / 30.4375).where(start <= as_of)
    out["renewal_days"] = pd.to_numeric(table["renewal_days"], errors="coerce")
    by_month = _month_mrr(portfolio.mrr)
    now_month = as_of.to_period("M").to_timestamp()
    before = now_month - pd.DateOffset(months=3)
    now = out["account"].map(lambda a: by_month.get((a, now_month), 0.0))
    then = out["account"].map(lambda a: by_month.get((a, before), np.nan))
    out["mrr_change_3m"] = (now / then - 1.0).where(then > 0)
    out["live"] = table["live"].astype(bool)
    result: pd.DataFrame = out
    return result


def churn_labels(
    mrr: pd.DataFrame, accounts: Iterable[str], date: _dt.date, horizon_days: int = HORIZON_DAYS
) -> pd.Series:
    """For each of ``accounts`` (as named on the MRR table): ``True`` when its MRR was above 0 in ``date``'s month
    and is 0 (no row, or 0) at some month end within ``horizon_days`` after ``date``; ``False`` when it stayed;
    ``None`` when it was not paying in ``date``'s month (not at risk of churning)."""
    by_month = _month_mrr(mrr)
    start = pd.Timestamp(date).to_period("M")
    horizon = pd.Timestamp(date) + pd.Timedelta(days=horizon_days)
    ahead = [p.to_timestamp() for p in pd.period_range(start + 1, horizon.to_period("M"), freq="M")
             if p.end_time.normalize() <= horizon]  # fmt: skip
    out: dict[str, Any] = {}
    for account in accounts:
        if by_month.get((account, start.to_timestamp()), 0.0) <= 0:
            out[account] = None
            continue
        out[account] = any(by_month.get((account, month), 0.0) <= 0 for month in ahead)
    labels: pd.Series = pd.Series(out, dtype=object)
    return labels


def training_frame(
    snapshots: Iterable[Portfolio], mrr: pd.DataFrame, as_of: _dt.date, horizon_days: int = HORIZON_DAYS
) -> pd.DataFrame:
    """The rows of every snapshot whose horizon is over by ``as_of``: ``as_of`` (the snapshot date), ``account``,
    :data:`FEATURES`, ``churned`` (1/0) and ``expanded`` (1/0: MRR higher in the month ``horizon_days`` later than in
    the snapshot's month, as :func:`health_backtest` counts it), accounts that were live then only."""
    frames = []
    by_month = _month_mrr(mrr)
    for portfolio in snapshots:
        if pd.Timestamp(portfolio.as_of) + pd.Timedelta(days=horizon_days) > pd.Timestamp(as_of):
            continue
        features = account_features(portfolio)
        labels = churn_labels(mrr, features["account"], portfolio.as_of, horizon_days)
        features["churned"] = features["account"].map(labels)
        kept = features[features["churned"].notna()].copy()
        kept["churned"] = kept["churned"].astype(bool).astype(int)
        date = pd.Timestamp(portfolio.as_of)
        later = (date + pd.Timedelta(days=horizon_days)).to_period("M").to_timestamp()
        months = (date.to_period("M").to_timestamp(), later)
        now, then = ([by_month.get((a, m), 0.0) for a in kept["account"]] for m in months)
        kept["expanded"] = (np.array(then) > np.array(now)).astype(int)
        kept.insert(0, "as_of", pd.Timestamp(portfolio.as_of))
        frames.append(kept.drop(columns=["live"]))
    if not frames:
        empty: pd.DataFrame = pd.DataFrame(columns=["as_of", "account", *FEATURES, "churned", "expanded"])
        return empty
    out: pd.DataFrame = pd.concat(frames, ignore_index=True)
    return out


@dataclass(frozen=True)
class HealthBacktest:
    """How well the configured health score foretold churn: over History snapshots whose 90 days are over, the ROC
    AUC of the score (lower = riskier) against churn within 90 days, the churn rate by tier with its 95 % Wilson
    interval, and the correlation of the score with churn and with expansion (MRR up 90 days later)."""

    rows: int
    snapshots: int
    events: int
    roc_auc: float | None
    by_tier: pd.DataFrame
    churn_correlation: float | None
    expansion_correlation: float | None


def health_backtest(
    history: pd.DataFrame, mrr: pd.DataFrame, as_of: _dt.date, horizon_days: int = HORIZON_DAYS
) -> HealthBacktest:
    """:class:`HealthBacktest` of ``history`` (``as_of, account, health_score, health_tier``) against the outcomes in
    ``mrr``: a snapshot row counts when the account paid in that month, had a score, and the horizon is over by
    ``as_of``. Without such rows every figure is ``None`` and the tier table is empty."""
    # deferred: SciPy (with scikit-learn) gives the binomial interval
    from scipy.stats import binomtest

    by_month = _month_mrr(mrr)
    rows = []
    cutoff = pd.Timestamp(as_of) - pd.Timedelta(days=horizon_days)
    scored = history[pd.to_numeric(history["health_score"], errors="coerce").notna()]
    for date, snapshot in scored[pd.to_datetime(scored["as_of"]) <= cutoff].groupby("as_of"):
        names = snapshot["account"].astype(str)
        churned = churn_labels(mrr, names, pd.Timestamp(date).date(), horizon_days)
        later = (pd.Timestamp(date) + pd.Timedelta(days=horizon_days)).to_period("M").to_timestamp()
        month = pd.Timestamp(date).to_period("M").to_timestamp()
        for account, score, tier in zip(names, snapshot["health_score"], snapshot["health_tier"], strict=True):
            if churned.get(account) is None:
                continue
            now, then = by_month.get((account, month), 0.0), by_month.get((account, later), 0.0)
            rows.append((date, account, float(score), tier, bool(churned[account]), then > now))
    frame = pd.DataFrame(rows, columns=["as_of", "account", "health_score", "tier", "churned", "expanded"])
    if frame.empty:
        empty = pd.DataFrame(columns=["tier", "accounts", "churned", "rate", "low", "high"])
        return HealthBacktest(0, 0, 0, None, empty, None, None)
    tiers = []
    for tier, group in frame.groupby("tier", sort=False):
        k, n = int(group["churned"].sum()), len(group)
        interval = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        tiers.append((tier, n, k, k / n, float(interval.low), float(interval.high)))
    table = pd.DataFrame(tiers, columns=["tier", "accounts", "churned", "rate", "low", "high"])
    both = frame["churned"].nunique() == 2
    auc = churn_metrics(frame["churned"].astype(float), -frame["health_score"]).roc_auc if both else None
    score = frame["health_score"]
    return HealthBacktest(
        rows=len(frame),
        snapshots=frame["as_of"].nunique(),
        events=int(frame["churned"].sum()),
        roc_auc=auc,
        by_tier=table.sort_values("rate", ascending=False, kind="stable").reset_index(drop=True),
        churn_correlation=float(score.corr(frame["churned"].astype(float))) if both else None,
        expansion_correlation=(
            float(score.corr(frame["expanded"].astype(float))) if frame["expanded"].nunique() == 2 else None
        ),
    )


def rank_churn(model: ChurnModel, features: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The live rows of ``features`` (:func:`account_features`) scored by ``model``: ``account``, ``arr``,
    ``probability``, ``tier`` (:func:`csxl.churn_tier`), ``expected_loss`` (ARR x probability) and ``drivers`` (the
    ``top`` model columns that push the score most, e.g. ``arr (lowers); nps (raises)``), index kept, the largest
    expected loss first (ties by account name)."""
    live = (features[features["live"].astype(bool)] if "live" in features else features).rename_axis(None)
    probability = model.predict(live)
    drivers = model.drivers(live, top=top)
    said = drivers.assign(text=drivers["feature"] + " (" + drivers["direction"] + ")").groupby("row")["text"]
    ranked: pd.DataFrame = pd.DataFrame(
        {
            "account": live["account"],
            "arr": live["arr"],
            "probability": probability,
            "tier": churn_tier(probability.to_numpy()),
            "expected_loss": live["arr"] * probability,
            "drivers": said.agg("; ".join).reindex(live.index) if len(live) else pd.Series(dtype=object),
        },
        index=live.index,
    ).sort_values(["expected_loss", "account"], ascending=[False, True], kind="stable", na_position="last")
    return ranked
