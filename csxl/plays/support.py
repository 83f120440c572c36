"""Support priority with SLA targets (``csxl support``) and the help desk's KPI targets (the survey report is
:mod:`csxl.plays.survey_report`).

:func:`support_priority` (defaults in ``library/support.json``; agent spec "Support structure"):

* Phrasings are matched in the ticket text ignoring case and spacing (``library/support.json`` ``patterns``, each
  with why it means that level; ``down`` does not match ``download``). The most urgent level with a match wins:
  P1 service down (the service, site, platform, production ... down, unavailable, unreachable; nobody can log in;
  an outage) or data loss or a security incident; P2 "urgent", "down", "broken" (the spec's "P2 minimum" keywords),
  crashes, a feature that cannot be used; P3 impaired (slow, intermittent, an error, a workaround); P4 a question, a
  feature request or a minor issue. A P3 the customer calls minor (cosmetic, a typo) is P4. Nothing recognised: P3
  (``default_priority``), so an unread problem is never filed as a mere question. ``tests/test_support_priority.py``
  holds the table of phrasings.
* Tier (spec "Three-tier model"): P4 Tier 1; P2 and P3 Tier 2; P1 Tier 3 (engineering) and escalated at once (an
  infrastructure, data-integrity or security problem is a Tier 2 -> 3 trigger). Category: the spec's six (How-To,
  Bug, Account, Feature Request, Integration, Performance).
* Bumps: an enterprise customer is P2 at least (spec "Enterprise customer -> P2 minimum"). A VIP tag does not change
  the priority; it routes the ticket to a senior agent (spec "VIP tag -> senior agent"); an integration keyword routes
  it to a specialist. ``same_issue`` tickets on the same issue: 2+ escalate to the next tier, 5+ also file a bug report.
* SLA targets: first response 15 min / 1 h / 4 h / 8 h and resolution 4 / 8 / 24 / 48 h for P1..P4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
from pydantic import BaseModel, ConfigDict

from csxl.errors import InputError
from csxl.plays.base import load_library

__all__ = ["SUPPORT_TARGETS", "Priority", "support_priority"]

#: The agent spec's support KPI targets ("Support KPIs and targets"): measure -> (direction, target, shown).
SUPPORT_TARGETS: Mapping[str, tuple[str, float, str]] = {
    "first_response_hours": ("<", 4.0, "< 4 h (business; world-class < 1 h)"),
    "resolution_hours": ("<", 24.0, "< 24 h (Tier 1; world-class < 8 h)"),
    "first_contact_resolution": (">", 0.70, "> 70% (world-class > 85%)"),
    "csat": (">", 0.90, "> 90% (world-class > 95%)"),
    "escalation_rate": ("<", 0.20, "< 20% (world-class < 10%)"),
}


_SEGMENTS = {"enterprise": "enterprise", "mid-market": "mid-market", "midmarket": "mid-market", "mid": "mid-market",
             "smb": "smb", "self-serve": "self-serve", "selfserve": "self-serve"}  # fmt: skip


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Priority(_Item):
    """A ticket's priority, its SLA targets (minutes to first response, hours to resolution), routing and why."""

    level: str
    tier: str
    category: str
    name: str
    definition: str
    response_minutes: int
    resolution_hours: int
    route: str
    escalate: bool
    bug_report: bool
    reasons: list[str]


def _matches(text: str, keyword: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(keyword.lower())}(?!\w)", text) is not None


def _patterns(lib: Mapping[str, Any]) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """Level -> (why, compiled pattern) from the library's ``patterns``; a library of plain ``keywords`` (the older
    format) becomes whole-word patterns."""
    raw = lib.get("patterns")
    if raw is None:
        keywords = cast(dict[str, list[str]], lib["keywords"])
        raw = {
            lvl: [{"why": k, "pattern": rf"(?<!\w){re.escape(k.lower())}(?!\w)"} for k in kws]
            for lvl, kws in keywords.items()
        }
    out: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for lvl, rules in cast(dict[str, list[dict[str, str]]], raw).items():
        try:
            out[lvl] = [(r["why"], re.compile(r["pattern"])) for r in rules]
        except (re.error, KeyError, TypeError) as exc:
            raise InputError(
                f"support library patterns[{lvl}]", rules, f"rules of why and a valid pattern ({exc})"
            ) from None
    return out


def _level(text: str, lib: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The most urgent level whose pattern matches (P1 before P2 ...), a P3 said to be minor made P4; else the default.
    Returns the level and why."""
    definitions = cast(dict[str, dict[str, Any]], lib["priorities"])
    patterns = _patterns(lib)
    for level in sorted(patterns, key=lambda p: int(p[1:])):
        hits = list(dict.fromkeys(why for why, pattern in patterns[level] if pattern.search(text)))
        if not hits:
            continue
        found = f"{', '.join(hits)} ({definitions[level]['definition']})"
        minor = [w for w in lib.get("minor_words", []) if _matches(text, str(w))]
        if level == "P3" and minor:
            return "P4", [f"P4: said to be {minor[0]!r} ({definitions['P4']['definition']}); else P3: {found}"]
        return level, [f"{level}: {found}"]
    default = str(lib["default_priority"])
    return default, [f"{default}: nothing recognised (default: a problem not yet understood is not a mere question)"]


def _category(text: str, lib: Mapping[str, Any]) -> str:
    """The spec's ticket category (How-To, Bug, Account, Feature Request, Integration, Performance): the first of the
    library's order whose words the text has; else Bug (a problem was reported)."""
    categories = cast(dict[str, str], lib["categories"])
    for name in cast(list[str], lib["category_order"]):
        if re.search(categories[name], text):
            return name
    return "Bug"


def support_priority(
    text: str,
    segment: str | None = None,
    vip: bool = False,
    *,
    same_issue: int = 1,
    library: Mapping[str, Any] | None = None,
) -> Priority:
    """P1-P4 for a support ticket from its text, bumped by segment, routed by VIP tag and keywords (module docstring).

    Raises :class:`InputError` for text that is not a string, an unknown segment, a ``vip`` that is not a bool or a
    ``same_issue`` count below 1.
    """
    if not isinstance(text, str):
        raise InputError("text", text, "the ticket's text")
    if not isinstance(vip, (bool, np.bool_)):
        raise InputError("vip", vip, "true or false")
    if isinstance(same_issue, bool) or not isinstance(same_issue, (int, np.integer)) or same_issue < 1:
        raise InputError("same_issue", same_issue, "a whole number of tickets >= 1")
    seg = None
    if segment is not None:
        key = re.sub(r"[\s_\-]+", "-", str(segment).strip().lower())
        seg = _SEGMENTS.get(key) or _SEGMENTS.get(key.replace("-", ""))
        if seg is None:
            raise InputError("segment", segment, "one of enterprise, mid-market, smb, self-serve (or blank)")
    lib = load_library("support", library)
    if library is not None and "keywords" in library and "patterns" not in library:
        lib.pop("patterns", None)  # a library in the older format: its keywords, not csxl's patterns
    lowered = " ".join(text.lower().split())
    level, reasons = _level(lowered, lib)
    minimum = cast(dict[str, str], lib["segment_minimum"]).get(seg or "")
    if minimum and int(minimum[1:]) < int(level[1:]):
        reasons.append(f"{minimum}: {seg} customer minimum (was {level})")
        level = minimum
    routes = cast(dict[str, str], lib["routes"])
    specialist = [k for k in lib["specialist_keywords"] if _matches(lowered, str(k))]
    if vip:
        route = routes["vip"]
        reasons.append(f"route: VIP tag -> {route}")
    elif specialist:
        route = routes["specialist"]
        reasons.append(f"route: keyword {specialist[0]!r} -> {route}")
    else:
        route = routes["standard"]
    escalate = same_issue >= int(lib["same_issue_escalate"])
    bug_report = same_issue >= int(lib["same_issue_bug_report"])
    if escalate:
        reasons.append(f"{same_issue} tickets on the same issue: escalate to the next tier")
    if level == "P1":
        escalate = True
        reasons.append("P1: escalate now (infrastructure, data integrity or security: the Tier 2 -> 3 triggers)")
    if bug_report:
        reasons.append("5+ tickets on the same issue: bug report to engineering")
    spec = cast(dict[str, dict[str, Any]], lib["priorities"])[level]
    return Priority(
        level=level,
        tier=str(cast(dict[str, str], lib["tiers"])[level]),
        category=_category(lowered, lib),
        name=str(spec["name"]),
        definition=str(spec["definition"]),
        response_minutes=int(spec["response_minutes"]),
        resolution_hours=int(spec["resolution_hours"]),
        route=route,
        escalate=escalate,
        bug_report=bug_report,
        reasons=reasons,
    )
