"""How well churn probabilities (or any risk score) foretold outcomes: the metrics every churn backtest reports.

ROC AUC, PR AUC (average precision) and the Brier score come from scikit-learn's metrics; the lift of the riskiest
10 % and 20 % and the reliability table by decile (mean predicted probability, observed churn rate, rows) are worked
here. Used by the churn model's backtest (:mod:`csxl.churn`) and for any probabilities a user brings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.errors import InputError

__all__ = ["ChurnMetrics", "churn_metrics"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ChurnMetrics:
    """How well probabilities rank and match outcomes on held-out rows: ROC AUC, PR AUC, Brier score, the base rate,
    the lift of the riskiest 10 % and 20 %, the reliability table by decile (mean predicted, observed rate, rows),
    how the metrics were made (``"time"`` or ``"5-fold"``) and the same metrics of each baseline."""

    roc_auc: float
    pr_auc: float
    brier: float
    base_rate: float
    lift_10: float
    lift_20: float
    rows: int
    events: int
    method: str
    reliability: pd.DataFrame
    baselines: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def churn_metrics(
    y: Sequence[float] | FloatArray, p: Sequence[float] | FloatArray, *, method: str = "given"
) -> ChurnMetrics:
    """ROC AUC, PR AUC, Brier score, lift of the top 10 % / 20 % and the reliability table by decile of ``p``
    (probabilities, or any risk score for the rank metrics) against outcomes ``y`` (1 churned, 0 not)."""
    # deferred: scikit-learn's metrics (the same as everyone's)
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    truth, risk = _vector(y, "y"), _vector(p, "p")
    if not set(np.unique(truth)) <= {0.0, 1.0}:
        raise InputError("y", sorted(set(np.unique(truth)) - {0.0, 1.0})[:3], "outcomes 1 (churned) or 0 (not)")
    if len(truth) != len(risk) or not len(truth):
        raise InputError("p", f"{len(risk)} values", f"one per outcome ({len(truth)})")
    if truth.min() == truth.max():
        raise InputError("y", f"all {int(truth[0])}", "outcomes of both kinds (churned and not)")
    base = float(truth.mean())
    probability = bool(risk.min() >= 0.0 and risk.max() <= 1.0)
    deciles = pd.qcut(pd.Series(risk).rank(method="first"), 10, labels=False) if len(risk) >= 10 else None
    reliability = (
        pd.DataFrame({"decile": deciles + 1, "predicted": risk, "observed": truth})
        .groupby("decile")
        .agg(predicted=("predicted", "mean"), observed=("observed", "mean"), rows=("observed", "size"))
        .reset_index()
        if deciles is not None
        else pd.DataFrame(columns=["decile", "predicted", "observed", "rows"])
    )
    return ChurnMetrics(
        roc_auc=float(roc_auc_score(truth, risk)),
        pr_auc=float(average_precision_score(truth, risk)),
        brier=float(brier_score_loss(truth, risk)) if probability else math.nan,
        base_rate=base,
        lift_10=_lift(truth, risk, 0.10),
        lift_20=_lift(truth, risk, 0.20),
        rows=len(truth),
        events=int(truth.sum()),
        method=method,
        reliability=reliability,
    )


def _vector(values: Any, name: str) -> FloatArray:
    """A sequence of finite numbers as floats; anything else an :class:`InputError` naming ``name``."""
    try:
        out = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, values, "a sequence of numbers (no blanks, no text)") from None
    if out.ndim != 1 or not np.isfinite(out).all():
        raise InputError(name, values, "a sequence of numbers (no blanks, no text)")
    return out


def _lift(truth: FloatArray, risk: FloatArray, share: float) -> float:
    """The churn rate of the riskiest ``share`` of rows (at least one) over the overall rate."""
    top = max(1, round(len(risk) * share))
    order = np.argsort(-risk, kind="stable")[:top]
    return float(truth[order].mean() / truth.mean())
