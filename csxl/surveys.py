"""Survey metrics: NPS, CSAT and CES, NPS categories and the detractor/passive/promoter follow-up routing.

Formulas (agent spec, "NPS / CSAT / CES"):

* **NPS** = % promoters (9-10) - % detractors (0-6), in points from -100 to +100 (passives 7-8 count in the total).
* **CSAT** = top-2-box responses / all responses x 100, in percent 0..100. On the 5-point scale the top two boxes
  are 4 and 5; on an ``n``-point scale (answers 1..n) they are ``n - 1`` and ``n``.
* **CES** = the mean answer on the 1..7 scale (1..``scale``), higher = easier.

Scores are checked before anything is counted: every filled score must be a whole number on the scale; text,
booleans, fractions and out-of-range answers raise :class:`~csxl.errors.InputError`. Blank answers (``None``,
``NaN``, empty text) are skipped: they are surveys sent but not answered. With no answer at all, ``nps``, ``csat`` and
``ces`` raise ``InputError`` (a score of 0 would be a wrong number); :func:`survey_summary` reports ``None`` instead,
so an empty Surveys sheet is a valid state.

Note on units: NPS is in points (-100..100) and CSAT in percent (0..100), as the spec defines them with "x 100";
CES is on its answer scale.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.errors import InputError
from csxl.models import SURVEY_SCALES, SurveyResponse
from csxl.tables import load_table
from csxl.vectors import FloatArray, Shape, fail, restore, to_float

__all__ = [
    "NPS_FOLLOWUP",
    "NPS_FOLLOWUP_QUESTIONS",
    "NpsFollowup",
    "SurveySummary",
    "ces",
    "csat",
    "nps",
    "nps_category",
    "nps_followup",
    "survey_summary",
]

PROMOTER = "Promoter"
PASSIVE = "Passive"
DETRACTOR = "Detractor"


class NpsFollowup(NamedTuple):
    """What to do after an NPS answer: who follows up, how fast (hours) and how."""

    category: str
    sla_hours: int
    owner: str
    action: str


#: NPS response SLAs and workflow (agent spec, "NPS response SLAs and workflow"); 1 week = 168 hours.
NPS_FOLLOWUP: MappingProxyType[str, NpsFollowup] = MappingProxyType(
    {
        DETRACTOR: NpsFollowup(
            DETRACTOR,
            24,
            "CSM/CS Lead",
            "Personal call, understand root cause, propose resolution, follow up in 2 weeks",
        ),
        PASSIVE: NpsFollowup(PASSIVE, 48, "CSM", "Email follow-up, gather specific feedback"),
        PROMOTER: NpsFollowup(
            PROMOTER,
            168,
            "CSM/Marketing",
            "Thank you, referral/review/case study ask (max 1-2 requests/year)",
        ),
    }
)

#: Follow-up questions by NPS category (agent spec, "Follow-up questions by segment").
NPS_FOLLOWUP_QUESTIONS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        PROMOTER: ("What do you love most?", "Would you leave a review/be a reference?"),
        PASSIVE: ("What would make you rate us higher?", "What's one thing to improve?"),
        DETRACTOR: (
            "What's the main reason for your score?",
            "What would improve your experience?",
            "Open to a call?",
        ),
    }
)


def _checked(scores: Any, field: str, lo: int, hi: int) -> tuple[FloatArray, Shape]:
    """Scores as float64 (NaN = blank), each filled one a whole number in ``lo..hi``; anything else raises."""
    rule = f"a whole number {lo}..{hi}"
    values, shape = to_float(scores, field, lo=float(lo), hi=float(hi), rule=rule)
    with np.errstate(invalid="ignore"):
        fractional = ~np.isnan(values) & (values != np.round(values))
    if fractional.any():
        raise fail(field, values, fractional, rule, shape)
    return values, shape


def _answered(scores: Any, field: str, lo: int, hi: int) -> FloatArray:
    """The filled scores (blanks dropped); at least one is required."""
    values, _ = _checked(scores, field, lo, hi)
    answered = values[~np.isnan(values)]
    if answered.size == 0:
        raise InputError(field, None, "at least one answered score", detail="no responses")
    return answered


def _scale(scale: Any, field: str) -> int:
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, (int, np.integer)) or scale < 3:
        raise InputError(field, scale, "a whole number of points >= 3")
    return int(scale)


def nps(scores: Any) -> float:
    """Net Promoter Score of a set of answers, in points: ``100 * (promoters - detractors) / answered``.

    Promoters answer 9-10, passives 7-8, detractors 0-6. Range -100 (all detractors) to +100 (all promoters).
    ``scores``: a score, list, array or Series of whole numbers 0..10; blanks are skipped.
    """
    answered = _answered(scores, "nps scores", 0, 10)
    promoters = np.count_nonzero(answered >= 9)
    detractors = np.count_nonzero(answered <= 6)
    return float(100.0 * (promoters - detractors) / answered.size)


def csat(scores: Any, scale: int = 5) -> float:
    """Customer satisfaction in percent: ``100 * top-2-box answers / answered``.

    Answers are whole numbers ``1..scale``; the top two boxes are ``scale - 1`` and ``scale`` (4-5 on the 5-point
    scale). Range 0..100. Blanks are skipped. ``scale`` must be a whole number >= 3.
    """
    n = _scale(scale, "csat scale")
    answered = _answered(scores, "csat scores", 1, n)
    return float(100.0 * np.count_nonzero(answered >= n - 1) / answered.size)


def ces(scores: Any, scale: int = 7) -> float:
    """Customer effort score: the mean answer, on the ``1..scale`` answer scale (7-point by default).

    Answers are whole numbers ``1..scale``; blanks are skipped. ``scale`` must be a whole number >= 3.
    """
    n = _scale(scale, "ces scale")
    answered = _answered(scores, "ces scores", 1, n)
    return float(answered.mean())


def _categories(values: FloatArray) -> Any:
    out = np.where(values >= 9, PROMOTER, np.where(values >= 7, PASSIVE, DETRACTOR)).astype(object)
    out[np.isnan(values)] = None
    return out


def nps_category(score: Any) -> Any:
    """``"Promoter"`` (9-10), ``"Passive"`` (7-8) or ``"Detractor"`` (0-6) for each NPS answer; blank -> ``None``.

    Scalar in -> ``str`` (or ``None``) out; Series in -> Series (object dtype) on the same index; else ndarray.
    """
    values, shape = _checked(score, "nps score", 0, 10)
    categories = _categories(values)
    if shape.index is not None:  # keep object dtype (None for blanks) rather than pandas' inferred string dtype
        return pd.Series(categories, index=shape.index, name=shape.name, dtype=object)
    return restore(categories, shape)


def nps_followup(score: Any) -> Any:
    """The follow-up for each NPS answer (:data:`NPS_FOLLOWUP`): ``(category, sla_hours, owner, action)``.

    Scalar in -> an :class:`NpsFollowup` tuple (``None`` for a blank answer). Series or array in -> a DataFrame with
    columns ``category``, ``sla_hours`` (``Int64``), ``owner``, ``action``; blank answers give an all-missing row.
    A Series keeps its index.
    """
    values, shape = _checked(score, "nps score", 0, 10)
    categories = _categories(values)
    if shape.scalar:
        category = categories[0]
        return None if category is None else NPS_FOLLOWUP[category]
    columns: dict[str, Any] = {"category": categories}
    for column in ("sla_hours", "owner", "action"):
        filled = np.full(categories.shape, None, dtype=object)
        for category, followup in NPS_FOLLOWUP.items():
            filled[categories == category] = getattr(followup, column)
        columns[column] = filled
    frame = pd.DataFrame(
        {name: pd.Series(values, dtype=object, index=shape.index) for name, values in columns.items()},
        index=shape.index,
    )
    frame["sla_hours"] = frame["sla_hours"].astype("Int64")
    return frame


class SurveySummary(BaseModel):
    """Survey metrics over a responses table; a metric with no answers is ``None`` (its count is 0)."""

    model_config = ConfigDict(frozen=True)

    nps: float | None
    """NPS in points, -100..100."""
    csat: float | None
    """CSAT in percent (top-2-box share x 100), 0..100."""
    ces: float | None
    """CES, mean answer on the 1..7 scale."""
    nps_responses: int
    csat_responses: int
    ces_responses: int
    promoters: int
    passives: int
    detractors: int


def survey_summary(responses: pd.DataFrame, *, sheet: str = "Surveys", first_row: int = 2) -> SurveySummary:
    """NPS, CSAT and CES with their answer counts (and the promoter/passive/detractor split) over a responses table.

    ``responses`` has the Surveys table's columns (:class:`~csxl.models.SurveyResponse`); it is checked with the
    same rules as :func:`~csxl.models.load_surveys` and any bad row raises :class:`~csxl.errors.TableError` naming
    all of them. Only ``kind`` and ``score`` are used. An empty table gives ``None`` metrics and zero counts.
    """
    loaded = load_table(responses, SurveyResponse, sheet=sheet, first_row=first_row).raise_for_issues()
    kind = loaded["kind"].to_numpy(dtype=object)
    score = loaded["score"].to_numpy(dtype=np.float64, na_value=np.nan)
    metrics: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for name in ("nps", "csat", "ces"):
        answered = score[kind == name]
        counts[name] = int(answered.size)
        metrics[name] = None
    if counts["nps"]:
        metrics["nps"] = nps(score[kind == "nps"])
    if counts["csat"]:
        metrics["csat"] = csat(score[kind == "csat"], scale=SURVEY_SCALES["csat"][1])
    if counts["ces"]:
        metrics["ces"] = ces(score[kind == "ces"], scale=SURVEY_SCALES["ces"][1])
    nps_answers = score[kind == "nps"]
    return SurveySummary(
        nps=metrics["nps"],
        csat=metrics["csat"],
        ces=metrics["ces"],
        nps_responses=counts["nps"],
        csat_responses=counts["csat"],
        ces_responses=counts["ces"],
        promoters=int(np.count_nonzero(nps_answers >= 9)),
        passives=int(np.count_nonzero((nps_answers >= 7) & (nps_answers <= 8))),
        detractors=int(np.count_nonzero(nps_answers <= 6)),
    )
