"""Play 11, ``save``: an intervention plan for an at-risk account, by root cause.

The early-warning signals are :mod:`csxl.plays.warning`'s (renewal prep and the success plan read the same); the level
is the account's one risk level, :func:`csxl.plays.risk.account_level`.

Rules (defaults in ``library/save.json``; spec: engine Phase 4 and the agent's "Churn prevention"):

* **Level**: :func:`csxl.plays.risk.account_level`, the same level ``csxl risk`` and ``csxl renewal`` give: the most
  severe of the early-warning signals, the risk play's leading indicators and the health tier's level.
* **Root cause** (engine "Churn Reason Taxonomy"): the ``churn_reason`` cell when filled. Otherwise inferred: the
  category of the most severe fired signal that has one; ties go to the signal listed first in ``signals`` (payment
  failure, champion left, no login 14+ days, integration disconnected, ...). No categorised signal -> ``Value``
  (``default_reason``; Value/Fit is the most common churn reason, 25-35 % in the agent spec).
* **Plan**: the level's opening steps (``urgency``) then the reason's save play (``plays``), each with an owner and a
  due date = as-of date + ``due_days``. "CSM" owners are named from the ``csm`` column.
* **What not to offer**: ``do_not_offer`` always; a discount only for the price play, and only with something back.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import (
    MissingColumn,
    account_arr,
    arr_at_risk,
    cell,
    fill,
    missing,
    missing_section,
    money,
    money_cell,
    pct,
)
from csxl.plays.risk import account_level
from csxl.plays.warning import RiskSignal, risk_signals, severity_rank
from csxl.portfolio import Portfolio
from csxl.sections import Cell

__all__ = [
    "SaveOffer",
    "SaveResult",
    "SaveStep",
    "infer_reason",
    "save_play",
]


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SaveStep(_Item):
    """One step of a plan: what, who, by when, and where it comes from (``urgency High``, ``play value``...)."""

    step: str
    owner: str
    due: _dt.date
    source: str


class SaveOffer(_Item):
    """The one save offer that fits the reason (agent spec "Save offers"), when it applies and its risk."""

    offer: str
    when: str
    risk: str


def infer_reason(signals: Sequence[RiskSignal], library: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """Root cause inferred from fired signals: ``(reason, basis)`` (rule in the module docstring)."""
    lib = load_library("save", library)
    order = [str(s) for s in lib["severity_order"]]
    typed = [s for s in signals if s.category]
    if not typed:
        default = str(lib["default_reason"])
        return default, f"inferred: no signal points to a cause, so the most common reason ({default}) is assumed"
    best = min(typed, key=lambda s: severity_rank(s.severity, order))  # the first of equal rank (library order)
    return str(best.category), f"inferred from the most severe signal: {best.label} ({best.severity})"


# --------------------------------------------------------------------------------------------------------------------
# The play
# --------------------------------------------------------------------------------------------------------------------


class SaveResult(PlayResult):
    """Play 11: root cause, intervention level, the save play's steps with owners and dates, offers and don'ts."""

    currency: str
    arr: float | None
    arr_at_risk: float | None
    arr_at_risk_basis: str
    applies: bool
    instead: str | None
    csm: str | None
    health_score: float | None
    health_tier: str | None
    churned: bool
    reason: str
    reason_basis: str
    category: str
    sub_reasons: str
    preventable: str
    level: str
    signals: list[RiskSignal]
    play: str
    steps: list[SaveStep]
    offer: SaveOffer | None
    do_not_offer: list[str]
    missing: list[MissingColumn]

    def title(self) -> str:
        return f"Save play: {self.account} (as of {self.as_of.isoformat()})"

    def sections(self) -> list[Section]:
        score = None if self.health_score is None else round(self.health_score, 1)
        if not self.applies:
            shown: list[list[Cell]] = [
                ["Health", f"{score} ({self.health_tier})" if score is not None else "unknown"],
                ["Intervention level", self.level],
                ["ARR", money_cell(self.arr, self.currency)],
            ]
            return [
                Section("No save plan", shown, text=self.instead or ""),
                missing_section(self.missing),
            ]
        head: list[list[Cell]] = [
            ["Root cause", f"{self.reason} (category {self.category}: {self.sub_reasons})"],
            ["Basis", self.reason_basis],
            ["Preventable", self.preventable],
            ["Intervention level", self.level],
            ["Health", f"{score} ({self.health_tier})" if score is not None else "unknown"],
            ["ARR", money_cell(self.arr, self.currency)],
            ["ARR at risk", money_cell(self.arr_at_risk, self.currency)],
            ["ARR at risk from", self.arr_at_risk_basis],
            ["CSM", self.csm or "unassigned"],
        ]
        out = [Section("Diagnosis", head)]
        if self.churned:
            out.append(Section("Note", text="The account has churned (ARR 0): this is a win-back case (csxl winback)."))
        if self.signals:
            rows: list[list[Cell]] = [[s.label, s.value, s.severity, s.category, s.response] for s in self.signals]
            out.append(Section("Warning signals", rows, ("signal", "value", "severity", "points to", "response")))
        steps: list[list[Cell]] = [[s.due, s.owner, s.step, s.source] for s in self.steps]
        out.append(Section(f"Plan: {self.play}", steps, ("due", "owner", "step", "from")))
        if self.offer:
            o = self.offer
            offer: list[list[Cell]] = [["Offer (once, if needed)", o.offer], ["When", o.when], ["Risk", o.risk]]
            out.append(Section("Save offer", offer))
        out.append(Section("Do not offer", [[d] for d in self.do_not_offer]))
        out.append(missing_section(self.missing))
        return out


def plan_steps(
    items: Sequence[Mapping[str, Any]], as_of: _dt.date, csm: str | None, source: str, fields: Mapping[str, Any]
) -> list[SaveStep]:
    """Library steps -> :class:`SaveStep` (due = as_of + ``due_days``; "CSM" named from the csm column)."""
    out = []
    for item in items:
        owner = str(item["owner"])
        if owner == "CSM":
            owner = f"CSM ({csm})" if csm else "CSM (unassigned: fill csm)"
        out.append(
            SaveStep(
                step=fill(str(item["step"]), fields),
                owner=owner,
                due=as_of + _dt.timedelta(days=int(item["due_days"])),
                source=source,
            )
        )
    return out


@register("save", 11, "Save play", needs_account=True, result=SaveResult)
def save_play(portfolio: Portfolio, account: str, *, library: Mapping[str, Any] | None = None) -> SaveResult:
    """Play 11 (``"Save play for [account]"``): root cause, level, dated steps with owners, the offer, the don'ts.

    Raises :class:`csxl.errors.InputError` for an unknown account; blank cells are listed in ``missing``.
    """
    row = portfolio.account(account)
    lib = load_library("save", library)
    signals, gaps = risk_signals(portfolio, row, lib)
    tier = cell(row, "health_tier")
    level, _ = account_level(portfolio, row)

    filled_reason = cell(row, "churn_reason")
    applies = level != "Low" or filled_reason is not None
    if not applies:
        return _not_at_risk(portfolio, row, level, signals, gaps)
    if filled_reason is not None:
        reason, basis = str(filled_reason), "churn_reason column"
    else:
        reason, basis = infer_reason(signals, lib)
        gaps.append(missing("churn_reason", "the root cause (inferred from signals while blank)"))
    reasons = cast(dict[str, dict[str, Any]], lib["reasons"])
    info = reasons.get(reason) or reasons[str(lib["default_reason"])]
    play_key = str(info["play"])
    play = cast(dict[str, Any], lib["plays"])[play_key]

    arr, _ = account_arr(portfolio, row)
    at_risk, at_risk_basis = arr_at_risk(portfolio, row, level)
    csm = cell(row, "csm")
    if csm is None:
        gaps.append(missing("csm", "step owners"))
    active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
    fields = {
        "account": cell(row, "account"),
        "arr": None if arr is None else money(arr, portfolio.settings.currency),
        "exec_sponsor": cell(row, "exec_sponsor"),
        "champion": cell(row, "champion"),
        "seat_adoption": pct(active / bought) if active is not None and bought else None,
    }
    urgency = cast(dict[str, list[dict[str, Any]]], lib["urgency"]).get(level, [])
    steps = plan_steps(urgency, portfolio.as_of, csm, f"{level} level", fields)
    steps += plan_steps(
        cast(list[dict[str, Any]], play["steps"]), portfolio.as_of, csm, f"{play['title']} play", fields
    )
    steps.sort(key=lambda s: s.due)  # stable: same-day steps keep their order

    offer, dont = _offer(lib, play, play_key, reason)
    health = cell(row, "health_score")
    return SaveResult(
        command="save",
        account=str(cell(row, "account")),
        as_of=portfolio.as_of,
        conventions=[
            "Root cause: churn_reason when filled, else the category of the most severe signal (ties: library order).",
            "Level: most severe signal, at least the health tier's level (Critical/Red -> High, At-Risk/Yellow -> "
            "Medium); due dates = as-of date + the step's days.",
        ],
        currency=portfolio.settings.currency,
        arr=arr,
        arr_at_risk=at_risk,
        arr_at_risk_basis=at_risk_basis,
        applies=True,
        instead=None,
        csm=None if csm is None else str(csm),
        health_score=None if health is None else float(health),
        health_tier=None if tier is None else str(tier),
        churned=arr is not None and arr == 0,
        reason=reason,
        reason_basis=basis,
        category=str(info["category"]),
        sub_reasons=str(info["sub_reasons"]),
        preventable=str(info["preventable"]),
        level=level,
        signals=signals,
        play=str(play["title"]),
        steps=steps,
        offer=offer,
        do_not_offer=dont,
        missing=gaps,
    )


def _offer(
    lib: Mapping[str, Any], play: Mapping[str, Any], play_key: str, reason: str
) -> tuple[SaveOffer | None, list[str]]:
    """The play's one save offer, and what not to offer (no discount at all unless the play is the price play)."""
    offer_spec = play.get("offer")
    offer = None if not offer_spec else SaveOffer(**{k: str(v) for k, v in offer_spec.items()})
    dont = [str(d) for d in lib["do_not_offer"]]
    if play_key not in [str(p) for p in lib["no_discount_unless"]]:
        dont.insert(0, f"No discount at all: the root cause is {reason}, not price")
    return offer, dont


def _not_at_risk(
    portfolio: Portfolio, row: pd.Series[Any], level: str, signals: list[RiskSignal], gaps: list[MissingColumn]
) -> SaveResult:
    """The save play asked for an account nothing shows at risk: no plan, no invented root cause; what applies."""
    name = str(cell(row, "account"))
    tier, health = cell(row, "health_tier"), cell(row, "health_score")
    arr, _ = account_arr(portfolio, row)
    if tier is None or str(tier) not in portfolio.settings.scheme().labels:
        instead = (
            f"Nothing in {name}'s data shows a risk (no warning signal and no health score yet: "
            f"{tier or 'not scored'}), so there is no save plan to make; fill the missing data below and run it again."
        )
    else:
        why = f"health {tier}" + (f" ({float(health):.1f})" if health is not None else "") + " and no warning signal"
        instead = (
            f"{name} is not at risk ({why}), so there is nothing to save and no root cause to name. What applies "
            f'instead: the {tier} playbook with its touch cadence (csxl score "{name}"), monitoring, and the '
            f'expansion signals (csxl expansion "{name}").'
        )
    if arr == 0:
        instead = f'{name} has churned (ARR 0): nothing left to save; what applies is win-back (csxl winback "{name}").'
    return SaveResult(
        command="save",
        account=name,
        as_of=portfolio.as_of,
        conventions=["The save play applies to an account at Medium risk or above, or with a churn reason filled."],
        currency=portfolio.settings.currency,
        arr=arr,
        arr_at_risk=None,
        arr_at_risk_basis="not at risk",
        applies=False,
        instead=instead,
        csm=None if cell(row, "csm") is None else str(cell(row, "csm")),
        health_score=None if health is None else float(health),
        health_tier=None if tier is None else str(tier),
        churned=arr is not None and arr == 0,
        reason="none",
        reason_basis="not at risk",
        category="none",
        sub_reasons="",
        preventable="",
        level=level,
        signals=signals,
        play="none",
        steps=[],
        offer=None,
        do_not_offer=[],
        missing=gaps,
    )
