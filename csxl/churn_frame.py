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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.churn import ChurnModel
from csxl.churn_eval import churn_metrics
from csxl.health import churn_tier
from csxl.mrrgrid import MrrRows
from csxl.mrrgrid import load as load_mrr_grid
from csxl.portfolio import Portfolio

__all__ = [
    "FEATURES",
    "HORIZON_DAYS",
    "HealthBacktest",
    "MonthGrid",
    "account_features",
    "churn_labels",
    "health_backtest",
    "health_outcomes",
    "outcome_correlations",
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


FloatArray = npt.NDArray[np.float64]


class MonthGrid:
    """The MRR table as :func:`csxl.mrrgrid.load`'s dense accounts x months matrix (rows of a month summed), for
    lookups of many accounts at once; a month without a row, or outside the table's months, is 0."""

    def __init__(self, mrr: pd.DataFrame | MrrRows) -> None:
        grid = load_mrr_grid(mrr)
        self.values, self.accounts = grid.values, grid.accounts
        self.first = grid.start if grid.start is not None else 0  # a month ordinal (months since 1970-01)

    def index(self, names: Iterable[str]) -> npt.NDArray[np.int64]:
        """Each account's row in the grid, -1 for an account the MRR table does not name."""
        wanted = pd.Index(
            [str(n) for n in names] if not isinstance(names, pd.Series) else names.astype(str), dtype=object
        )
        return np.asarray(self.accounts.get_indexer(wanted), dtype=np.int64)

    def at(self, index: npt.NDArray[np.int64], month: pd.Period, missing: float = 0.0) -> FloatArray:
        """Each account's MRR in ``month`` (``index``: :meth:`index`; ``missing`` for an account not named)."""
        col = np.full(len(index), month.ordinal - self.first, dtype=np.int64)
        return self._values(index, col, missing)

    def _values(self, index: npt.NDArray[np.int64], col: npt.NDArray[np.int64], missing: float = 0.0) -> FloatArray:
        out = np.where(index >= 0, 0.0, missing)
        ok = (index >= 0) & (col >= 0) & (col < self.values.shape[1])
        out[ok] = self.values[index[ok], col[ok]]
        return out

    def outcomes(
        self, index: npt.NDArray[np.int64], dates: pd.DatetimeIndex, horizon_days: int
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """For each row (an account's ``index`` and a snapshot date): paying in the date's month; churned (MRR 0 at
        a month end within ``horizon_days``); expanded (MRR higher in the month ``horizon_days`` later)."""
        start = dates.to_period("M")
        col = start.asi8 - self.first
        horizon = dates + pd.Timedelta(days=horizon_days)
        now = self._values(index, col)
        gone = np.zeros(len(index), dtype=bool)
        for k in range(1, horizon_days // 28 + 2):
            within = np.asarray((start + k).to_timestamp(how="end").normalize() <= horizon, dtype=bool)
            gone |= within & (self._values(index, col + k) <= 0)
        later = horizon.to_period("M").asi8 - self.first
        return now > 0, gone, self._values(index, later) > now

    def churned(self, names: Sequence[str], date: _dt.date, horizon_days: int) -> npt.NDArray[np.object_]:
        """:func:`churn_labels` of ``names`` as an object array (``True`` / ``False`` / ``None``)."""
        dates = pd.DatetimeIndex([pd.Timestamp(date)] * len(names))
        paying, gone, _ = self.outcomes(self.index(names), dates, horizon_days)
        out: npt.NDArray[np.object_] = gone.astype(object)
        out[~paying] = None
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
    grid, month = MonthGrid(portfolio.mrr_rows), as_of.to_period("M")
    index = grid.index(out["account"])
    now = grid.at(index, month)
    then = grid.at(index, month - 3, missing=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["mrr_change_3m"] = np.where(then > 0, now / then - 1.0, np.nan)
    out["live"] = table["live"].astype(bool)
    result: pd.DataFrame = out
    return result


def churn_labels(
    mrr: pd.DataFrame | MonthGrid, accounts: Iterable[str], date: _dt.date, horizon_days: int = HORIZON_DAYS
) -> pd.Series:
    """For each of ``accounts`` (as named on the MRR table): ``True`` when its MRR was above 0 in ``date``'s month
    and is 0 (no row, or 0) at some month end within ``horizon_days`` after ``date``; ``False`` when it stayed;
    ``None`` when it was not paying in ``date``'s month (not at risk of churning)."""
    names = [str(a) for a in accounts]
    grid = mrr if isinstance(mrr, MonthGrid) else MonthGrid(mrr)  # a grid already built: many dates, one table
    out = dict(zip(names, grid.churned(names, date, horizon_days), strict=True))
    labels: pd.Series = pd.Series(out, dtype=object)
    return labels


def _expanded(grid: MonthGrid, names: Sequence[str], date: _dt.date, horizon_days: int) -> npt.NDArray[np.bool_]:
    """MRR higher in the month ``horizon_days`` after ``date`` than in ``date``'s month."""
    dates = pd.DatetimeIndex([pd.Timestamp(date)] * len(names))
    return grid.outcomes(grid.index(names), dates, horizon_days)[2]


def training_frame(
    snapshots: Iterable[Portfolio], mrr: pd.DataFrame | MrrRows, as_of: _dt.date, horizon_days: int = HORIZON_DAYS
) -> pd.DataFrame:
    """The rows of every snapshot whose horizon is over by ``as_of``: ``as_of`` (the snapshot date), ``account``,
    :data:`FEATURES`, ``churned`` (1/0) and ``expanded`` (1/0: MRR higher in the month ``horizon_days`` later than in
    the snapshot's month, as :func:`health_backtest` counts it), accounts that were live then only."""
    frames = []
    grid = MonthGrid(mrr)
    for portfolio in snapshots:
        if pd.Timestamp(portfolio.as_of) + pd.Timedelta(days=horizon_days) > pd.Timestamp(as_of):
            continue
        features = account_features(portfolio)
        features["churned"] = grid.churned(list(features["account"]), portfolio.as_of, horizon_days)
        kept = features[features["churned"].notna()].copy()
        kept["churned"] = kept["churned"].astype(bool).astype(int)
        kept["expanded"] = _expanded(grid, list(kept["account"]), portfolio.as_of, horizon_days).astype(int)
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


def health_outcomes(
    history: pd.DataFrame,
    mrr: pd.DataFrame | MonthGrid,
    as_of: _dt.date,
    horizon_days: int = HORIZON_DAYS,
) -> pd.DataFrame:
    """The History rows that have an outcome: scored, the account paying in that month, the horizon over by
    ``as_of``; with ``churned`` and ``expanded`` (``as_of, account, health_score, tier, churned, expanded``)."""
    grid = mrr if isinstance(mrr, MonthGrid) else MonthGrid(mrr)
    cutoff = pd.Timestamp(as_of) - pd.Timedelta(days=horizon_days)
    scored = history[pd.to_numeric(history["health_score"], errors="coerce").notna()]
    scored = scored[pd.to_datetime(scored["as_of"]) <= cutoff]
    names = scored["account"].astype(str)
    paying, churned, expanded = grid.outcomes(grid.index(names), pd.DatetimeIndex(scored["as_of"]), horizon_days)
    rows: pd.DataFrame = pd.DataFrame({
        "as_of": scored["as_of"].to_numpy(), "account": names.to_numpy(),
        "health_score": pd.to_numeric(scored["health_score"]).to_numpy(dtype=float),
        "tier": scored["health_tier"].to_numpy(), "churned": churned, "expanded": expanded,
    })[paying].reset_index(drop=True)  # fmt: skip
    return rows


def outcome_correlations(rows: pd.DataFrame) -> tuple[float | None, float | None]:
    """Pearson correlation of the health score with churn and with expansion over :func:`health_outcomes` rows;
    ``None`` where one outcome never (or always) happened."""
    score = rows["health_score"].astype(float)
    churn = float(score.corr(rows["churned"].astype(float))) if rows["churned"].nunique() == 2 else None
    grew = float(score.corr(rows["expanded"].astype(float))) if rows["expanded"].nunique() == 2 else None
    return churn, grew


def health_backtest(
    history: pd.DataFrame, mrr: pd.DataFrame, as_of: _dt.date, horizon_days: int = HORIZON_DAYS
) -> HealthBacktest:
    """:class:`HealthBacktest` of ``history`` (``as_of, account, health_score, health_tier``) against the outcomes in
    ``mrr`` (:func:`health_outcomes`). Without such rows every figure is ``None`` and the tier table is empty."""
    # deferred: SciPy (with scikit-learn) gives the binomial interval; a refresh never needs it
    from scipy.stats import binomtest

    frame = health_outcomes(history, mrr, as_of, horizon_days)
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
    truth, risk = frame["churned"].to_numpy(dtype=float), -frame["health_score"].to_numpy(dtype=float)
    auc = churn_metrics(truth, risk).roc_auc if both else None
    churn, grew = outcome_correlations(frame)
    return HealthBacktest(
        rows=len(frame), snapshots=frame["as_of"].nunique(), events=int(frame["churned"].sum()), roc_auc=auc,
        by_tier=table.sort_values("rate", ascending=False, kind="stable").reset_index(drop=True),
        churn_correlation=churn, expansion_correlation=grew,
    )  # fmt: skip


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
