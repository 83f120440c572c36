"""The documents ``csxl churn --json`` and ``csxl calibrate --json`` print (pydantic models, so their JSON schemas are
published in ``docs/schemas/`` like every other ``--json`` output: :mod:`csxl.plays.schemas`)."""

from __future__ import annotations

import datetime as _dt

from pydantic import BaseModel, ConfigDict

__all__ = [
    "BaselineMetrics",
    "CalibrationOutput",
    "ChurnOutput",
    "ColourShares",
    "HealthScoreBacktest",
    "ModelMetrics",
    "RankedAccount",
    "SuggestedBounds",
    "TierBounds",
    "TierChurnRate",
    "WeightsOutput",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TierChurnRate(_Frozen):
    """One tier of the health-score backtest: snapshots, churned within 90 days, the rate and its 95 % Wilson
    interval."""

    tier: str
    accounts: int
    churned: int
    rate: float
    low: float
    high: float


class HealthScoreBacktest(_Frozen):
    """How well the configured health score foretold churn (``None``: not measurable yet)."""

    rows: int
    snapshots: int
    churn_events: int
    roc_auc: float | None
    churn_correlation: float | None
    expansion_correlation: float | None
    by_tier: list[TierChurnRate]


class BaselineMetrics(_Frozen):
    """A baseline's rank metrics on the model's held-out rows."""

    roc_auc: float
    pr_auc: float
    lift_10: float
    lift_20: float


class ModelMetrics(_Frozen):
    """The churn model's backtest."""

    method: str
    roc_auc: float
    pr_auc: float
    brier: float
    lift_10: float
    lift_20: float
    baselines: dict[str, BaselineMetrics]


class RankedAccount(_Frozen):
    """A live account with its churn probability (next 90 days), tier, expected ARR loss and drivers."""

    account: str
    arr: float | None
    probability: float
    tier: str
    expected_loss: float | None
    drivers: str | None


class ChurnOutput(_Frozen):
    """``csxl churn --json``."""

    health_score: HealthScoreBacktest
    as_of: _dt.date
    applied: bool
    snapshots: int
    trained_from: _dt.date
    trained_to: _dt.date
    rows: int
    churn_events: int
    unused_inputs: list[str]
    metrics: ModelMetrics | None
    odds_ratios: dict[str, float]
    accounts: list[RankedAccount]


class ColourShares(_Frozen):
    """Shares of the scored accounts per colour."""

    green: float
    yellow: float
    red: float


class TierBounds(_Frozen):
    """Lower bounds of a scheme's tiers (the last tier starts at 0 and is left out), the distribution they give."""

    bounds: dict[str, float]
    shares: ColourShares
    accounts: int
    warning: str | None


class SuggestedBounds(TierBounds):
    """The suggestion, with each colour outside the spec's target range."""

    off_target: list[str]


class WeightsOutput(_Frozen):
    """The weights in force and the ones fitted from outcomes, with the held-out ROC AUC of each."""

    current: dict[str, float]
    suggested: dict[str, float] | None
    auc_suggested: float | None
    auc_current: float | None
    method: str | None
    refused: str | None


class CalibrationOutput(_Frozen):
    """``csxl calibrate --json``."""

    method: str
    preset: str
    target: dict[str, tuple[float, float]]
    current: TierBounds
    suggested: SuggestedBounds | None
    refused: str | None
    weights: WeightsOutput
    applied: bool
