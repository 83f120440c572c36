"""Calibrating the health score to a founder's own outcomes (pure core): suggested tier thresholds and weights.

The spec (agent document, "Threshold-setting methods"): percentile-based (top 20 % green, middle 60 % yellow, bottom
20 % red), outcome-based (scores of churned against renewed and expanded accounts), a target distribution of Green
50-60 %, Yellow 30-40 %, Red 10-20 %, and "if > 30 % red, thresholds too sensitive".

Colours of a scheme's tiers: green is its best tier, red its at-risk tiers (:func:`csxl.facts.at_risk_tiers`, the
one at-risk rule: engine At-Risk and Critical, growth Red), yellow the tiers between.

* **percentile** (:func:`percentile_bounds`), on today's scored live accounts: the best tier from the 80th
  percentile, red below the 20th; the engine scheme splits its red half and half (Critical below the 10th).
* **outcome** (:func:`outcome_bounds`), on past month ends whose 90 days are over (the churn model's rows): red below
  the score that best separates the accounts that churned within 90 days from those that stayed (the largest
  Youden's J = true-positive rate - false-positive rate), green from the score that best separates the accounts whose
  MRR was higher 90 days later; the engine scheme's Critical below the best churn split among the red rows.
* **weights** (:func:`fit_weights`): a logistic regression of churn on the preset's dimension scores with
  non-negative coefficients (a better dimension score never raises the risk), normalised to sum to 1; fitted on the
  earlier 70 % of month ends and measured (ROC AUC) on the later ones beside the current weights, then refitted on
  all of them.

Too few outcomes are refused with the counts (:class:`csxl.churn.NotEnoughChurnEvents`), as for the churn model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.churn import MIN_EVENTS, NotEnoughChurnEvents
from csxl.churn_eval import churn_metrics
from csxl.errors import InputError
from csxl.facts import at_risk_tiers
from csxl.settings import TierScheme

__all__ = [
    "TARGET_SHARES",
    "Distribution",
    "FittedWeights",
    "colour_shares",
    "colours",
    "fit_weights",
    "outcome_bounds",
    "percentile_bounds",
]

Colour = Literal["green", "yellow", "red"]
FloatArray = npt.NDArray[np.float64]

#: The spec's target distribution: share of accounts per colour, (lowest, highest).
TARGET_SHARES: dict[Colour, tuple[float, float]] = {"green": (0.50, 0.60), "yellow": (0.30, 0.40), "red": (0.10, 0.20)}
#: Above this share of red the thresholds are too sensitive (the spec).
RED_LIMIT = 0.30


def colours(scheme: TierScheme) -> dict[str, Colour]:
    """Each tier label of ``scheme`` -> its colour (see the module)."""
    red = set(at_risk_tiers(scheme))
    return {
        label: ("green" if i == 0 else "red" if label in red else "yellow") for i, label in enumerate(scheme.labels)
    }


@dataclass(frozen=True)
class Distribution:
    """Shares of the scored accounts per colour under some bounds, against the spec's target."""

    accounts: int
    shares: dict[Colour, float]

    @property
    def warning(self) -> str | None:
        """The spec's warning when more than 30 % are red; ``None`` otherwise."""
        red = self.shares.get("red", 0.0)
        if red > RED_LIMIT:
            return f"{red:.0%} of accounts are red (more than {RED_LIMIT:.0%}): the thresholds are too sensitive"
        return None

    def off_target(self) -> list[str]:
        """Each colour outside the target range, as ``green 31% (target 50-60%)``."""
        out = []
        for colour, (low, high) in TARGET_SHARES.items():
            share = self.shares.get(colour, 0.0)
            if not low <= share <= high:
                out.append(f"{colour} {share:.0%} (target {low:.0%}-{high:.0%})")
        return out


def colour_shares(scores: Sequence[float] | pd.Series, scheme: TierScheme) -> Distribution:
    """How the health ``scores`` (blanks left out) fall into ``scheme``'s colours."""
    values = pd.to_numeric(pd.Series(scores, dtype=object), errors="coerce").dropna().to_numpy(dtype=float)
    if not len(values):
        return Distribution(0, {"green": 0.0, "yellow": 0.0, "red": 0.0})
    bounds = np.array([b for _, b in scheme.bounds])
    tier = (values[:, None] < bounds[None, :]).sum(axis=1)  # 0 = best tier (score >= its bound)
    named = colours(scheme)
    labels = np.array([named[label] for label in scheme.labels])[tier]
    shares: dict[Colour, float] = {c: float((labels == c).mean()) for c in ("green", "yellow", "red")}
    return Distribution(len(values), shares)


def _scheme(scheme: TierScheme, values: Sequence[float]) -> TierScheme:
    """``scheme`` with new lower bounds (best first; the last stays 0), rounded to 0.1, strictly decreasing."""
    rounded = [round(float(v), 1) for v in values]
    for i in range(1, len(rounded)):  # ties (many equal scores) separated by the smallest step shown
        rounded[i] = min(rounded[i], round(rounded[i - 1] - 0.1, 1))
    if rounded[-1] <= 0:
        raise InputError("health scores", f"bounds {rounded}", "spread enough to place every tier above 0")
    bounds = tuple(zip(scheme.labels, [*rounded, 0.0], strict=True))
    return scheme.model_copy(update={"bounds": bounds})


def percentile_bounds(scores: Sequence[float] | pd.Series, scheme: TierScheme) -> TierScheme:
    """The percentile method (see the module) on today's health ``scores`` (blanks left out)."""
    values = pd.to_numeric(pd.Series(scores, dtype=object), errors="coerce").dropna().to_numpy(dtype=float)
    if len(values) < 5:
        raise InputError("health scores", f"{len(values)} scored accounts", "at least 5 for percentiles")
    cuts = [80.0, 20.0] if len(scheme.labels) == 3 else [80.0, 20.0, 10.0]
    if len(scheme.labels) not in (3, 4):
        raise InputError("tier scheme", scheme.name, "3 or 4 tiers")
    return _scheme(scheme, [float(np.percentile(values, q)) for q in cuts])


def _best_split(scores: FloatArray, positive: npt.NDArray[np.bool_], low_is_positive: bool) -> float | None:
    """The threshold t with the largest Youden's J for "positive when score < t" (or ">= t"); ``None`` without both
    outcomes."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return None
    candidates = np.unique(scores)
    best, at = -np.inf, None
    for t in candidates[1:]:  # t = the lowest score of the upper group
        flagged = scores < t if low_is_positive else scores >= t
        j = (flagged & positive).sum() / n_pos - (flagged & ~positive).sum() / n_neg
        if j > best:
            best, at = j, float(t)
    return at


def outcome_bounds(frame: pd.DataFrame, scheme: TierScheme) -> TierScheme:
    """The outcome method (see the module) on rows with ``health_score``, ``churned`` (1/0) and ``expanded`` (1/0).
    The green bound stays where ``scheme`` has it when fewer than 5 rows expanded (or all did)."""
    data = frame.assign(health_score=pd.to_numeric(frame["health_score"], errors="coerce")).dropna(
        subset=["health_score"]
    )
    churned = data["churned"].to_numpy(dtype=float) == 1
    events = int(churned.sum())
    if events < MIN_EVENTS or len(data) - events < MIN_EVENTS:
        raise NotEnoughChurnEvents("churned", events, MIN_EVENTS, len(data))
    scores = data["health_score"].to_numpy(dtype=float)
    red = _best_split(scores, churned, low_is_positive=True)
    expanded = data["expanded"].to_numpy(dtype=float) == 1 if "expanded" in data else np.zeros(len(data), dtype=bool)
    green = _best_split(scores, expanded, low_is_positive=False) if 5 <= expanded.sum() < len(data) - 5 else None
    current = [b for _, b in scheme.bounds[:-1]]
    red_at = red if red is not None else current[-2 if len(current) == 3 else -1]
    green_at = green if green is not None and green > red_at else max(current[0], red_at + 0.2)
    if len(scheme.labels) == 3:
        return _scheme(scheme, [green_at, red_at])
    below = scores < red_at
    critical = _best_split(scores[below], churned[below], low_is_positive=True) if below.sum() >= 10 else None
    if critical is None or critical >= red_at:
        critical = red_at * current[2] / current[1]  # the current scheme's proportion
    return _scheme(scheme, [green_at, red_at, critical])


@dataclass(frozen=True)
class FittedWeights:
    """Suggested weights (non-negative, summing to 1), the held-out ROC AUC they and the current weights would have
    had, and the rows and churns they were fitted on."""

    weights: dict[str, float]
    auc_suggested: float | None
    auc_current: float | None
    rows: int
    events: int
    method: str


def _nonnegative_logistic(x: FloatArray, y: FloatArray) -> FloatArray:
    """Coefficients >= 0 of a logistic regression of ``y`` on ``x`` (plus a free intercept), a small L2 penalty."""
    # deferred: SciPy's bounded optimiser (with scikit-learn, a dependency of the churn model)
    from scipy.optimize import minimize

    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - x.mean(axis=0)) / scale
    penalty = 1.0 / len(y)

    def loss(theta: FloatArray) -> tuple[float, FloatArray]:
        eta = z @ theta[1:] + theta[0]
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))
        value = float(np.mean(np.logaddexp(0.0, eta) - y * eta) + 0.5 * penalty * theta[1:] @ theta[1:])
        grad = np.concatenate([[np.mean(p - y)], z.T @ (p - y) / len(y) + penalty * theta[1:]])
        return value, grad

    start = np.zeros(x.shape[1] + 1)
    bounds = [(None, None), *[(0.0, None)] * x.shape[1]]
    done = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    coefficients: FloatArray = np.asarray(done.x[1:], dtype=float) / scale  # per raw score point
    return coefficients


def fit_weights(
    frame: pd.DataFrame, dimensions: Sequence[str], current: Mapping[str, float], time: str = "as_of"
) -> FittedWeights:
    """Suggested weights of ``dimensions`` (see the module) from rows with those 0..10 scores, ``churned`` and the
    snapshot date ``time``; rows missing a dimension score are left out. Raises :class:`NotEnoughChurnEvents` with too
    few churns among the usable rows."""
    columns = list(dimensions)
    data = frame.dropna(subset=columns)
    y = data["churned"].to_numpy(dtype=float)
    events = int(y.sum())
    if events < MIN_EVENTS or len(y) - events < MIN_EVENTS:
        raise NotEnoughChurnEvents("churned (rows with every dimension score)", events, MIN_EVENTS, len(y))
    risk = -data[columns].to_numpy(dtype=float)  # a lower score is riskier
    when = pd.to_datetime(data[time])
    dates = np.sort(when.unique())
    held_auc: tuple[float | None, float | None] = (None, None)
    method = "in-sample"
    if len(dates) >= 3:
        first_test = pd.Timestamp(dates[int(len(dates) * 0.7)])
        train, test = (when < first_test).to_numpy(), (when >= first_test).to_numpy()
        if y[train].min() != y[train].max() and y[test].min() != y[test].max():
            fitted = _nonnegative_logistic(risk[train], y[train])
            now = np.array([current.get(c, 0.0) for c in columns])
            held_auc = (
                churn_metrics(y[test], risk[test] @ fitted).roc_auc if fitted.any() else None,
                churn_metrics(y[test], risk[test] @ now).roc_auc,
            )
            method = f"time (train before {first_test:%Y-%m-%d})"
    coefficients = _nonnegative_logistic(risk, y)
    if not coefficients.any():
        raise InputError("dimension scores", "no dimension", "one whose lower scores go with churn, to weight")
    weights = {c: float(w) for c, w in zip(columns, coefficients / coefficients.sum(), strict=True)}
    return FittedWeights(weights, held_auc[0], held_auc[1], len(y), events, method)
