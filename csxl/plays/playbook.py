"""The agent spec's JSON output document ("JSON OUTPUT FORMAT"), filled from the portfolio and validated by its schema.

:class:`Playbook` mirrors the document key for key (onboarding design, churn prevention, satisfaction plan, health
scoring, support structure, confidence, risks, signals for other agents); ``extra`` keys are refused. The texts are
the spec's own (``library/playbook.json`` holds the document verbatim). What comes from the portfolio:

* ``health_scoring.weights``: the weights in force (``Settings.resolved_weights()``: the preset's, or the workbook's
  own), keyed as in the spec (``usage`` -> ``product_usage``), fractions summing to 1.
* ``health_scoring.components``: the spec's description of each dimension in force, in weight order.
* ``health_scoring.thresholds``: one entry per tier of the scheme in force (key = tier label in lower case, e.g.
  ``green`` or ``at-risk``): its score band, today's share of the scored accounts, its colour and the spec's target
  for that colour (green 50-60 %, yellow 30-40 %, red 10-20 %; colours by :mod:`csxl.calibration`: the best tier
  green, the at-risk tiers red, so under the engine preset red is At-Risk + Critical) and the tier's action.
* ``confidence`` (0..1): the weight-averaged share of accounts that have a score for each dimension in force (1.0 =
  every account has data for every weighted dimension).
* ``risks``: more than 30 % of the scored accounts red ("thresholds too sensitive"), colours outside their target
  share (with ``csxl calibrate``), accounts with no health score, no NPS answer, low confidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from csxl.calibration import TARGET_SHARES, Distribution, colours
from csxl.facts import at_risk_tiers
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
    colour_of = colours(scheme)  # one rule for the colours (csxl.calibration): best tier green, at-risk tiers red
    by_colour = {c: sum(int(counts.get(t, 0)) for t, tc in colour_of.items() if tc == c) for c in TARGET_SHARES}
    thresholds: dict[str, str] = {}
    risks: list[str] = []
    for i, (label, _) in enumerate(scheme.bounds):
        count = int(counts.get(label, 0))
        share = count / total if total else None
        colour = colour_of[label]
        low, high = TARGET_SHARES[colour]
        text = f"{_band(scheme.bounds, i)}."
        if share is not None:
            text += f" Now {pct(share)} of scored accounts ({count} of {total})."
        text += f" Colour {colour}: the spec's target is {low:.0%}-{high:.0%} of customers in {colour}"
        together = [t for t, c in colour_of.items() if c == colour]
        text += f" ({' + '.join(together)})." if len(together) > 1 else "."
        if label in actions:
            text += f" Action: {actions[label]}"
        thresholds[label.lower()] = text
    if total:
        dist = Distribution(total, {c: by_colour[c] / total for c in TARGET_SHARES})
        if dist.warning:
            risks.insert(0, f"{dist.warning} (red = {' + '.join(at_risk_tiers(scheme))}).")
        off = dist.off_target()
        if off:
            risks.append(
                "Distribution off the spec's target: " + ", ".join(off) + ". Recalibrate the thresholds quarterly "
                "(csxl calibrate --book PATH suggests them)."
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
