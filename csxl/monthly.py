"""The spec's monthly health report, from History (pure core): "Monthly: health distribution trend, health-to-churn
correlation, health-to-expansion correlation, time in yellow before red, save rate for red."

* **Distribution by month**: the last History snapshot of each month, the share of its rated accounts per colour
  (green = the scheme's best tier, red = its at-risk tiers, yellow between: :func:`csxl.calibration.colours`);
  "Insufficient data" and blanks are not rated and not counted.
* **Correlations**: the health score against churn within 90 days and against expansion (MRR higher 90 days later),
  over the snapshots whose 90 days are over (:func:`csxl.churn_frame.health_outcomes`, as the health-score
  backtest counts them).
* **Time in yellow before red**: each time an account went from yellow to red between two snapshots, the days from
  the first snapshot of that yellow run to the first red one; the median and the count.
* **Save rate for red**: each time an account entered red (its first red snapshot after a non-red one, or its first
  snapshot) at least 90 days before the as-of date and was paying then, saved = still paying at every month end of
  the next 90 days (:func:`csxl.churn_frame.churn_labels`); also how many were back in yellow or green at a later
  snapshot within those 90 days.

Snapshots are compared by History rows; weekly snapshots thinned to month ends by the retention rule
(:func:`csxl.history.thin_history`) make older runs coarser (a run's start is known to the snapshot).
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.calibration import colours
from csxl.churn_frame import HORIZON_DAYS, MonthGrid, health_outcomes, outcome_correlations
from csxl.portfolio import Portfolio
from csxl.sections import Cell, ChartSpec, Section, Styled

__all__ = ["MonthShares", "MonthlyReport", "monthly_report", "monthly_sections"]


class MonthShares(BaseModel):
    """One month's distribution: its last snapshot date, rated accounts and the share per colour."""

    model_config = ConfigDict(frozen=True)

    month: str
    snapshot: _dt.date
    accounts: int
    green: float
    yellow: float
    red: float


class MonthlyReport(BaseModel):
    """The spec's monthly report (see the module); a figure without data to compute it is ``None``."""

    model_config = ConfigDict(frozen=True)

    as_of: _dt.date
    distribution: list[MonthShares]
    churn_correlation: float | None
    expansion_correlation: float | None
    correlation_rows: int
    yellow_to_red: int
    days_in_yellow_median: float | None
    red_entries: int
    saved: int
    save_rate: float | None
    back_to_yellow_or_green: int


def _colour_frame(portfolio: Portfolio, history: pd.DataFrame) -> pd.DataFrame:
    """History rows with a colour, sorted by account and date."""
    named = colours(portfolio.settings.scheme())
    for other in ("engine", "growth"):  # a History written under the other preset keeps its own labels
        from_settings = portfolio.settings.model_copy(update={"preset": other}).scheme()
        named = {**colours(from_settings), **named}
    frame = history.assign(colour=history["health_tier"].map(named), as_of=pd.to_datetime(history["as_of"]))
    out: pd.DataFrame = frame.dropna(subset=["colour"]).sort_values(["account", "as_of"], kind="stable")
    ordered: pd.DataFrame = out.reset_index(drop=True)
    return ordered


def _distribution(frame: pd.DataFrame) -> list[MonthShares]:
    if frame.empty:
        return []
    last = frame.groupby(frame["as_of"].dt.to_period("M"))["as_of"].transform("max")
    latest = frame[frame["as_of"] == last]
    out = []
    for date, group in latest.groupby("as_of"):
        shares = group["colour"].value_counts(normalize=True)
        out.append(
            MonthShares(month=f"{pd.Timestamp(date):%Y-%m}", snapshot=pd.Timestamp(date).date(), accounts=len(group),
                        green=float(shares.get("green", 0.0)), yellow=float(shares.get("yellow", 0.0)),
                        red=float(shares.get("red", 0.0)))
        )  # fmt: skip
    return out


def _runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row with the start date of its colour run and the colour (and run start) of the row before it."""
    account = frame["account"].astype(str)
    same_account = account.eq(account.shift())
    starts = ~(same_account & frame["colour"].eq(frame["colour"].shift()))
    run = starts.cumsum()
    run_start = frame["as_of"].groupby(run).transform("first")
    out: pd.DataFrame = frame.assign(
        starts=starts, run_start=run_start, before=frame["colour"].shift().where(same_account),
        before_start=run_start.shift().where(same_account),
    )  # fmt: skip
    return out


def monthly_report(
    portfolio: Portfolio, horizon_days: int = HORIZON_DAYS, *, history: pd.DataFrame | None = None
) -> MonthlyReport:
    """The monthly report of ``portfolio``'s History (see the module) as of its date; ``history``: another History
    of the same portfolio (a refresh gives the one it writes, this snapshot merged in)."""
    history = portfolio.history if history is None else history
    frame = _colour_frame(portfolio, history)
    grid = MonthGrid(portfolio.mrr_rows)  # the MRR table as this run parsed it once
    outcomes = health_outcomes(history, grid, portfolio.as_of, horizon_days)
    churn_correlation, expansion_correlation = outcome_correlations(outcomes)
    runs = _runs(frame)
    into_red = runs[runs["starts"] & runs["colour"].eq("red")]
    from_yellow = into_red[into_red["before"].eq("yellow")]
    days = (from_yellow["as_of"] - from_yellow["before_start"]).dt.days.to_numpy(dtype=float)
    cutoff = pd.Timestamp(portfolio.as_of) - pd.Timedelta(days=horizon_days)
    entered = into_red[into_red["as_of"] <= cutoff]
    paying, churned, _ = grid.outcomes(grid.index(entered["account"]), pd.DatetimeIndex(entered["as_of"]), horizon_days)
    entries, saved = int(paying.sum()), int((paying & ~churned).sum())
    later = runs.loc[runs["colour"].ne("red"), ["account", "as_of"]].rename(columns={"as_of": "back_on"})
    pairs = entered[paying][["account", "as_of"]].merge(later, on="account")
    window = (pairs["back_on"] > pairs["as_of"]) & (
        pairs["back_on"] <= pairs["as_of"] + pd.Timedelta(days=horizon_days)
    )
    back = int(pairs[window][["account", "as_of"]].drop_duplicates().shape[0])
    return MonthlyReport(
        as_of=portfolio.as_of, distribution=_distribution(frame), churn_correlation=churn_correlation,
        expansion_correlation=expansion_correlation, correlation_rows=len(outcomes),
        yellow_to_red=len(days), days_in_yellow_median=float(np.median(days)) if len(days) else None,
        red_entries=entries, saved=saved, save_rate=saved / entries if entries else None,
        back_to_yellow_or_green=back,
    )  # fmt: skip


def _or_none(value: float | None, style: str, note: str) -> Styled | str:
    return note if value is None else Styled(value, style, digits=2)


def monthly_sections(report: MonthlyReport) -> list[Section]:
    """The report as sections (the Dashboard's monthly block, ``csxl portfolio --monthly``)."""
    rows: list[list[Cell]] = [
        [m.month, m.snapshot, m.accounts, *(Styled(share, "pct") for share in (m.green, m.yellow, m.red))]
        for m in report.distribution
    ]
    distribution = Section(
        "Monthly: health distribution by month (last snapshot of each month)", rows,
        ("month", "snapshot", "rated accounts", "green", "yellow", "red"),
        empty="No History snapshot with a tier yet: each refresh adds one.",
        chart=ChartSpec("monthly_distribution", "stacked", "Health distribution by month", (3, 4, 5),
                        ("Green", "Yellow", "Red"), y_format="0%", colours=("green", "yellow", "red")),
    )  # fmt: skip
    waiting = f"none yet: no scored snapshot is {HORIZON_DAYS} days old"
    median = report.days_in_yellow_median
    figures = Section(
        "Monthly: does the health score foretell churn?",
        [
            ["Health-to-churn correlation", _or_none(report.churn_correlation, "number", waiting)],
            ["Health-to-expansion correlation", _or_none(report.expansion_correlation, "number", waiting)],
            ["Account-snapshots with a 90-day outcome", report.correlation_rows],
            ["Yellow to red moves", report.yellow_to_red],
            ["Median days in yellow before red", "none yet" if median is None else round(median)],
            ["Entered red, 90 days since (paying then)", report.red_entries],
            ["Saved (still paying 90 days later)", report.saved],
            ["Save rate for red", _or_none(report.save_rate, "pct", "none yet")],
            ["Back in yellow or green within 90 days", report.back_to_yellow_or_green],
        ],
        text="A health score that foretells churn correlates negatively with it (a lower score, more churn).",
    )
    return [distribution, figures]
