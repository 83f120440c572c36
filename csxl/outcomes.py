"""The use cases that learn from outcomes: the churn model (``csxl churn``) and the health score's calibration
(``csxl calibrate``).

Both read the workbook once, rebuild its past month ends (:func:`csxl.usecases.past_portfolios`: inputs as known
then) and their outcomes within 90 days (:func:`csxl.churn_frame.training_frame`), report, and write to the workbook
only when asked (``apply``): the model on the Model sheet, the suggested thresholds and weights on Settings, then one
refresh (:func:`csxl.usecases.refresh`) so every sheet agrees.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from csxl.book import layout
from csxl.book.model_sheet import model_plan
from csxl.book.plan import Block, Plan
from csxl.book.read import BookData, read_book
from csxl.book.xlsx import apply_plan
from csxl.calibration import Distribution, FittedWeights, colour_shares, fit_weights, outcome_bounds, percentile_bounds
from csxl.churn import ChurnModel, NotEnoughChurnEvents, fit_churn_model
from csxl.churn_frame import FEATURES, HealthBacktest, account_features, health_backtest, rank_churn, training_frame
from csxl.errors import InputError
from csxl.portfolio import Portfolio
from csxl.settings import HEALTH_WEIGHTS, INSUFFICIENT_DATA, TierScheme
from csxl.usecases import past_portfolios, refresh

__all__ = ["Calibration", "ChurnRanking", "ChurnReport", "calibrate", "churn_report"]


@dataclass(frozen=True)
class ChurnRanking:
    """What ``csxl churn`` found: the model fitted on the workbook's own past month ends, the snapshots and rows it
    learned from, and today's live accounts ranked by expected ARR loss (``account, arr, probability, tier,
    expected_loss, drivers``)."""

    model: ChurnModel
    as_of: _dt.date
    snapshots: int
    accounts: pd.DataFrame
    window: tuple[_dt.date, _dt.date]


@dataclass(frozen=True)
class ChurnReport:
    """What ``csxl churn`` found, from one read of the workbook: how well its health score foretold churn, and the
    churn model's ranking, or why no model could be fitted (``refused``: too few churns in its history)."""

    health: HealthBacktest
    ranking: ChurnRanking | None
    refused: NotEnoughChurnEvents | None = None


def churn_report(
    path: str | Path, as_of: _dt.date | None = None, *, apply: bool = False, force: bool = False
) -> ChurnReport:
    """``csxl churn``: the health-score backtest (:func:`csxl.churn_frame.health_backtest` over History and MRR),
    then the churn model (:func:`csxl.fit_churn_model`) fitted on one row per account and past month end
    (:mod:`csxl.churn_frame`: inputs as known then, churned within 90 days from the MRR table), backtested by time
    against the health score and recency, scoring today's live accounts.

    ``apply``: the fitted model is stored in the workbook (the Model sheet, :mod:`csxl.book.model_sheet`), then the
    workbook is refreshed, which writes the Accounts churn columns and the Churn sheet from it; every later refresh
    scores with the stored model until the next ``apply``. A refused model writes nothing."""
    book = read_book(path)
    today = book.to_portfolio(as_of)
    health = health_backtest(today.history, today.mrr, today.as_of)
    try:
        ranking = _churn_ranking(book, today, path)
    except NotEnoughChurnEvents as refused:
        return ChurnReport(health, None, refused)
    if apply:
        plan = model_plan(ranking.model, health, ranking.as_of, ranking.snapshots, ranking.window)
        apply_plan(path, plan, force=force, currency=today.settings.currency)
        refresh(path, as_of=as_of, force=force)
    return ChurnReport(health, ranking)


def _outcomes(book: BookData, today: Portfolio, path: str | Path) -> tuple[int, pd.DataFrame]:
    """The account-months of the workbook's past month ends whose 90 days are over (:func:`training_frame`) and how
    many month ends they come from."""
    snapshots = list(past_portfolios(book, today, path, None, before_history=False))
    return len(snapshots), training_frame(snapshots, today.mrr_rows, today.as_of)


def _churn_ranking(book: BookData, today: Portfolio, path: str | Path) -> ChurnRanking:
    snapshots, frame = _outcomes(book, today, path)
    model = fit_churn_model(
        frame, label="churned", features=FEATURES, time="as_of",
        baselines={"health score": "-health_score", "recency": "days_since_login"},
    )  # fmt: skip
    ranked = rank_churn(model, account_features(today))
    dates = pd.to_datetime(frame["as_of"])
    window = (dates.min().date(), dates.max().date())  # the month ends it learned from (they all have outcomes)
    return ChurnRanking(model, today.as_of, snapshots, ranked.reset_index(drop=True), window)


@dataclass(frozen=True)
class Calibration:
    """What ``csxl calibrate`` found: the workbook's scheme and weights, the suggested ones (``None`` with the reason
    in ``refused`` / ``weights_refused``), today's colour distribution under each against the spec's target, and
    whether they were written to Settings."""

    method: str
    scheme: TierScheme
    suggested: TierScheme | None
    refused: str | None
    current: Distribution
    proposed: Distribution | None
    current_weights: dict[str, float]
    weights: FittedWeights | None
    weights_refused: str | None
    applied: bool = False


def calibrate(
    path: str | Path,
    *,
    method: Literal["percentile", "outcome"] = "percentile",
    as_of: _dt.date | None = None,
    apply: bool = False,
    force: bool = False,
) -> Calibration:
    """``csxl calibrate``: suggested tier thresholds of the preset's scheme (:mod:`csxl.calibration`: ``percentile``
    on today's scores, ``outcome`` on the past month ends' outcomes) and weights fitted from outcomes, with today's
    tier distribution under both against the spec's target. ``apply``: written to Settings (the thresholds, and the
    weights when they could be fitted), then the workbook is refreshed; nothing is written when no threshold could be
    suggested."""
    if method not in ("percentile", "outcome"):
        raise InputError("method", method, "percentile or outcome")
    book = read_book(path)
    today = book.to_portfolio(as_of)
    settings = today.settings
    scheme = settings.scheme()
    rated = today.facts["live"].to_numpy(dtype=bool) & (today.table["health_tier"] != INSUFFICIENT_DATA).to_numpy()
    scores = today.table["health_score"][rated]  # live accounts with a tier (too little data: not rated)
    _, frame = _outcomes(book, today, path)
    suggested: TierScheme | None = None
    refused: str | None = None
    try:
        suggested = percentile_bounds(scores, scheme) if method == "percentile" else outcome_bounds(frame, scheme)
    except InputError as error:  # NotEnoughChurnEvents included
        refused = str(error)
    dimensions = list(HEALTH_WEIGHTS[settings.preset])
    current_weights = settings.resolved_weights()
    weights: FittedWeights | None = None
    weights_refused: str | None = None
    try:
        weights = fit_weights(frame, dimensions, current_weights)
    except InputError as error:
        weights_refused = str(error)
    found = Calibration(
        method, scheme, suggested, refused, colour_shares(scores, scheme),
        colour_shares(scores, suggested) if suggested is not None else None, current_weights, weights, weights_refused,
    )  # fmt: skip
    if apply and suggested is not None:
        apply_plan(path, _settings_plan(book, suggested, weights), force=force, currency=settings.currency)
        refresh(path, as_of=as_of, force=force)
        return Calibration(**{**found.__dict__, "applied": True})
    return found


def _settings_plan(book: BookData, scheme: TierScheme, weights: FittedWeights | None) -> Plan:
    """The Settings cells of ``scheme``'s bounds (and of every weight, when fitted) with the suggested values, each
    where its defined name points."""
    values: dict[str, float] = {}
    for label, bound in scheme.bounds[:-1]:
        values[f"csxl_tier_{scheme.name}_{label.lower().replace('-', '_')}"] = bound
    if weights is not None:
        for name in layout.settings_rows():
            if name.startswith("csxl_weight_"):
                values[name] = round(weights.weights.get(name[len("csxl_weight_") :], 0.0), 4)
    plan = Plan()
    for name, value in values.items():
        sheet, row, column = book.settings_at[name]
        plan.add(Block(sheet, row, column, [[value]]))
    return plan
