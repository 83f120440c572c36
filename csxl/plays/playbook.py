"""The agent spec's JSON output document ("JSON OUTPUT FORMAT"), filled from the portfolio and validated by its schema.

:class:`Playbook` mirrors the document key for key (onboarding design, churn prevention, satisfaction plan, health
scoring, support structure, confidence, risks, signals for other agents); ``extra`` keys are refused. The texts are
the spec's own (``library/playbook.json`` holds the document verbatim). What comes from the portfolio:

* ``health_scoring.weights``: the weights in force (``Settings.resolved_weights()``: the preset's, or the workbook's
  own), keyed as in the spec (``usage`` -> ``product_usage``), fractions summing to 1.
* ``health_scoring.components``: the spec's description of each dimension in force, in weight order.
* ``health_scoring.thresholds``: one entry per tier of the scheme in force (key = tier label in lower case, e.g.
  ``green`` or ``at-risk``): its score band, today's share of the scored accounts, the spec's target share where it
  gives one (Green 50-60 %, Yellow 30-40 %, Red 10-20 %) and the tier's action.
* ``confidence`` (0..1): the weight-averaged share of accounts that have a score for each dimension in force (1.0 =
  every account has data for every weighted dimension).
* ``risks``: the lowest tier holding more than 30 % of the scored accounts ("thresholds too sensitive"), tiers outside
  their target share, accounts with no health score, no NPS answer, low confidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from csxl.plays.base import load_library
from csxl.plays.common import pct
from csxl.portfolio import Portfolio

__all__ = [
    "ChurnPrevention",
    "EmailStep",
    "HealthScoring",
    "Intervention",
    "OnboardingDesign",
    "OnboardingStage",
    "Playbook",
    "SatisfactionPlan",
    "SupportStructure",
    "SupportTier",
    "playbook_document",
    "playbook_schema",
]


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OnboardingStage(_Doc):
    name: str
    day: str
    goal: str
    actions: list[str]


class EmailStep(_Doc):
    email: int = Field(ge=1)
    timing: str
    purpose: str


class OnboardingDesign(_Doc):
    activation_moment: str
    stages: list[OnboardingStage]
    email_sequence: list[EmailStep]
    time_to_value_target: str


class Intervention(_Doc):
    level: str
    trigger: str
    action: str


class ChurnPrevention(_Doc):
    risk_factors: list[str]
    intervention_playbook: list[Intervention]
    early_warning_signals: list[str]


class SatisfactionPlan(_Doc):
    primary_metric: str
    survey_timing: str
    target_score: str
    follow_up_process: str


class HealthScoring(_Doc):
    components: list[str]
    weights: dict[str, float]
    thresholds: dict[str, str]

    @field_validator("weights")
    @classmethod
    def _fractions(cls, weights: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= w <= 1 for w in weights.values()):
            raise ValueError(f"weights must be fractions 0..1, got {weights}")
        if weights and abs(sum(weights.values()) - 1) > 1e-6:
            raise ValueError(f"weights must sum to 1, got {sum(weights.values())}")
        return weights


class SupportTier(_Doc):
    tier: int = Field(ge=1)
    handles: str
    response_sla: str
    escalation: str


class SupportStructure(_Doc):
    tiers: list[SupportTier]
    sla_targets: dict[str, str]


class Playbook(_Doc):
    """The agent spec's JSON output document."""

    onboarding_design: OnboardingDesign
    churn_prevention: ChurnPrevention
    satisfaction_plan: SatisfactionPlan
    health_scoring: HealthScoring
    support_structure: SupportStructure
    confidence: float = Field(ge=0, le=1)
    risks: list[str]
    signals_for_other_agents: list[str]


def playbook_schema() -> dict[str, Any]:
    """The JSON schema of :class:`Playbook` (draft 2020-12, as pydantic writes it)."""
    return Playbook.model_json_schema()


def _band(bounds: tuple[tuple[str, float], ...], i: int) -> str:
    lo = bounds[i][1]
    hi = 100.0 if i == 0 else bounds[i - 1][1] - 1
    return f"Score {lo:g}-{hi:g}"


def playbook_document(portfolio: Portfolio, *, library: Mapping[str, Any] | None = None) -> Playbook:
    """The spec's JSON document for this portfolio: weights and tiers in force, today's distribution, confidence, risks.

    The result is validated by :class:`Playbook` (``model_dump(mode="json")`` is the document).
    """
    lib = load_library("playbook", library)
    doc = dict(cast(dict[str, Any], lib["document"]))
    settings = portfolio.settings
    weights = {d: w for d, w in settings.resolved_weights().items() if w > 0}
    keys = cast(dict[str, str], lib["weight_keys"])
    components = cast(dict[str, str], lib["components"])
    scored = portfolio.scored
    n = len(scored)

    # confidence: weight-averaged share of accounts with a score for each dimension in force
    coverage = {d: float(scored[d].notna().mean()) if n and d in scored else 0.0 for d in weights}
    confidence = round(sum(weights[d] * coverage[d] for d in weights), 2)

    scheme = settings.scheme()
    tiers = scored["health_tier"].dropna() if "health_tier" in scored else scored.iloc[:0, 0]
    tiers = tiers[tiers.isin(scheme.labels)]  # "Insufficient data" is no tier
    counts = tiers.value_counts()
    total = int(counts.sum())
    actions = cast(dict[str, str], lib["tier_actions"])
    targets = cast(dict[str, list[float]], lib["target_shares"])
    thresholds: dict[str, str] = {}
    risks: list[str] = []
    for i, (label, _) in enumerate(scheme.bounds):
        count = int(counts.get(label, 0))
        share = count / total if total else None
        text = f"{_band(scheme.bounds, i)}."
        if share is not None:
            text += f" Now {pct(share)} of scored accounts ({count} of {total})."
        target = targets.get(label)
        if target:
            text += f" Target {target[0] * 100:g}-{target[1] * 100:g}% of customers."
            if share is not None and not target[0] <= share <= target[1]:
                risks.append(
                    f"{label}: {pct(share)} of scored accounts, outside the spec's target "
                    f"{target[0] * 100:g}-{target[1] * 100:g}% (recalibrate quarterly)."
                )
        if label in actions:
            text += f" Action: {actions[label]}"
        thresholds[label.lower()] = text
    lowest = scheme.bounds[-1][0]
    limit = float(lib["lowest_tier_max_share"])
    if total and counts.get(lowest, 0) / total > limit:
        risks.insert(
            0,
            f"More than {limit * 100:g}% of scored accounts are {lowest} ({pct(counts.get(lowest, 0) / total)}): "
            "thresholds may be too sensitive.",
        )
    unscored = n - total
    if unscored:
        risks.append(
            f"{unscored} of {n} accounts have too few signals for a health tier: fill their usage and relationship "
            "signals."
        )
    surveys = portfolio.surveys
    if surveys.empty or not bool(np.any(surveys["kind"].to_numpy(dtype=object) == "nps")):
        risks.append("No NPS answers on the Surveys sheet: the satisfaction plan has no baseline.")
    if confidence < float(lib["low_confidence"]):
        risks.append(f"Low confidence ({confidence:.2f}): most accounts lack data for the weighted dimensions.")

    health = dict(cast(dict[str, Any], doc["health_scoring"]))
    health["components"] = [components[d] for d in sorted(weights, key=lambda d: -weights[d]) if d in components]
    health["weights"] = {keys.get(d, d): w for d, w in weights.items()}
    health["thresholds"] = thresholds
    doc["health_scoring"] = health
    doc["confidence"] = confidence
    doc["risks"] = risks
    return Playbook.model_validate(doc)
