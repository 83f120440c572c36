"""The early-warning signals the account plays share (engine Phase 4, agent "Churn prevention"), and the one risk
level of an account (:func:`csxl.plays.risk.account_level` combines them with the risk play's indicators).

* **Signals.** Each rule of ``library/save.json`` ``signals`` names Accounts columns and a test (``in`` labels, ``eq``,
  ``lt``, ``lte``, ``gt``, ``gte``; all tests of a rule must hold). ``seat_adoption`` is ``seats_active /
  seats_purchased``; ``nps`` is the account's NPS as :mod:`csxl.derived` reads it. A rule whose column is blank does
  not fire, and the column is listed as missing data.
* **Level** (agent spec "Intervention playbook by risk level"): the most severe fired signal (High > Medium > Low),
  raised to the level of the health tier (:func:`csxl.plays.common.tier_level`: the preset's at-risk tiers High, the
  tier above them Medium). No signal and a healthy tier -> Low.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.plays.base import load_library
from csxl.plays.common import MissingColumn, cell, latest_nps, missing, pct, tier_level
from csxl.portfolio import Portfolio
from csxl.settings import TierScheme

__all__ = ["RiskSignal", "risk_level", "risk_signals", "severity_rank"]

_OPS = ("in", "eq", "lt", "lte", "gt", "gte")


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RiskSignal(_Item):
    """A fired early-warning signal: which rule, the value read, severity, churn category it points to, response."""

    id: str
    label: str
    value: str
    severity: str
    category: str | None
    response: str


# --------------------------------------------------------------------------------------------------------------------
# Signals shared by the account plays
# --------------------------------------------------------------------------------------------------------------------


def _read(portfolio: Portfolio, row: pd.Series[Any], column: str) -> tuple[Any, str, list[MissingColumn]]:
    """The value a rule tests, how it is shown, and the blank columns that kept it from being read."""
    if column == "seat_adoption":
        active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
        if active is None or not bought:
            blank = [c for c, v in (("seats_active", active), ("seats_purchased", bought)) if v is None]
            return None, "", [missing(c, "seat adoption signal") for c in blank]
        share = float(active) / float(bought)
        return share, f"{active}/{bought} seats = {pct(share)}", []
    if column == "nps":
        score, source = latest_nps(portfolio, row)
        if score is None:
            return None, "", [missing("nps", "NPS detractor signal (or an NPS answer on the Surveys sheet)")]
        return score, f"NPS {score} ({source})", []
    value = cell(row, column)
    if value is None:
        return None, "", [missing(column, "early-warning signals")]
    return value, f"{column} = {value}", []


def _holds(value: Any, op: str, target: Any) -> bool:
    if op == "in":
        return str(value).strip().lower() in {str(t).strip().lower() for t in target}
    if op == "eq":
        return bool(value == target)
    number, limit = float(value), float(target)
    return {
        "lt": number < limit,
        "lte": number <= limit,
        "gt": number > limit,
        "gte": number >= limit,
    }[op]


def risk_signals(
    portfolio: Portfolio, row: pd.Series[Any], library: Mapping[str, Any] | None = None
) -> tuple[list[RiskSignal], list[MissingColumn]]:
    """The early-warning rules of ``library/save.json`` (``signals``) that fire for one account row.

    Returns the fired signals in library order and the blank columns (each once) that kept a rule from being tested.
    """
    lib = load_library("save", library)
    fired: list[RiskSignal] = []
    gaps: dict[str, MissingColumn] = {}
    for rule in cast(list[dict[str, Any]], lib["signals"]):
        shown: list[str] = []
        ok = True
        for cond in cast(list[dict[str, Any]], rule["when"]):
            value, text, blank = _read(portfolio, row, str(cond["column"]))
            for gap in blank:
                gaps.setdefault(gap.column, gap)
            ops = [op for op in _OPS if op in cond]
            if value is None or not ops or not all(_holds(value, op, cond[op]) for op in ops):
                ok = False
                break
            if text not in shown:
                shown.append(text)
        if ok:
            fired.append(
                RiskSignal(
                    id=str(rule["id"]),
                    label=str(rule["label"]),
                    value="; ".join(shown),
                    severity=str(rule["severity"]),
                    category=None if rule.get("category") is None else str(rule["category"]),
                    response=str(rule["response"]),
                )
            )
    return fired, list(gaps.values())


def severity_rank(severity: str, order: Sequence[str]) -> int:
    """Position of ``severity`` in ``order`` (most severe first); unknown severities last."""
    return order.index(severity) if severity in order else len(order)


def risk_level(
    signals: Sequence[RiskSignal], tier: str | None, scheme: TierScheme, library: Mapping[str, Any] | None = None
) -> str:
    """The account's intervention level: the most severe signal, at least the tier's level (see module docstring)."""
    lib = load_library("save", library)
    order = [str(s) for s in lib["severity_order"]]
    candidates = [s.severity for s in signals]
    from_tier = tier_level(tier, scheme)
    if from_tier in ("High", "Medium"):
        candidates.append(from_tier)
    if not candidates:
        return "Low"
    return min(candidates, key=lambda s: severity_rank(s, order))
