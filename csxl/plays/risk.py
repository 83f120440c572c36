"""Play 4, ``risk``: the churn leading indicators in one account's data, its risk level, intervention and ARR at risk.

Indicators (engine spec "Early Warning System", agent spec "Intervention playbook by risk level"; levels, cut-offs and
texts are ``library/risk.json``). Each indicator is ``present`` True/False, or None when its column is blank:

===================  ============================================================  ==================================
indicator            present when                                                  level when present
===================  ============================================================  ==================================
usage decline        ``usage_trend == down`` (the >30 % MoM size cannot be          Medium ("usage declining")
                     measured: csxl has no monthly usage series)
engagement dip       ``login_trend == down``                                        Low ("minor engagement dip")
no login             ``days_since_login >= 14`` (High) or ``>= 7`` (Low)            High / Low
champion change      ``champion_status`` ``left`` (High) or ``new`` (Medium)        High / Medium
support tickets up   ``support_tickets_30d >= 5``                                   Medium
spike then silence   ``support_tickets_30d == 0`` and ``days_since_login >= 14``   Medium (the spike before it is
                                                                                    not visible in one 30-day count)
seat removals        ``seats_active < seats_purchased``; level by the seat          Red High, Yellow Medium, Green Low
                     adoption rating (:func:`csxl.signal_rag` ``seat_adoption``)
contract downgraded  ``contract_trend == downgraded``                               Medium
contraction risk     ``contraction_risk`` yes                                       Medium
NPS detractor        NPS answer ``<= 6`` (``nps`` cell, else the latest NPS survey)  High
payment failure      ``payment_status`` ``delinquent`` (High) or ``late`` (Medium)  High / Medium
health tier          :func:`csxl.plays.common.tier_level`: the at-risk tiers        High / Medium
                     (Critical, At-Risk; Red) High, the tier above (Healthy; Yellow)
                     Medium; the rest none. Critical stays for a cancellation request
===================  ============================================================  ==================================

Risk level = :func:`account_level`, one level for risk, save and renewal: the highest among present indicators, the
early-warning signals of :mod:`csxl.plays.warning` and the health tier's level (Critical > High > Medium > Low); none
present -> Low.
Intervention, timing and owner are the agent spec's row for that level; ``deadline = as_of + deadline_days``
(Critical 0 = same day, High 1, Medium 7; Low is "Automated" in the spec, csxl dates it 7 days out).
ARR at risk = the expected loss, :func:`csxl.plays.common.arr_at_risk`: ARR x the account's churn probability (the
stored churn model's) when scored, else ARR x the midpoint of the risk level's band of churn probability (Low 10 %,
Medium 35 %, High 65 %, Critical 90 %): the same rule in risk, save and renewal.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from csxl.plays.base import PlayResult, Section, Value, load_library, register
from csxl.plays.common import (
    Item,
    MissingColumn,
    arr_at_risk,
    cell,
    latest_nps,
    missing,
    missing_section,
    money,
    pct,
    source_of,
    tier_level,
)
from csxl.plays.warning import RiskSignal, risk_signals
from csxl.plays.warning import risk_level as warning_level
from csxl.portfolio import Portfolio
from csxl.signals import signal_rag

__all__ = ["LEVELS", "Indicator", "RiskResult", "churn_risk"]

#: Risk levels, most severe first.
LEVELS: tuple[str, ...] = ("Critical", "High", "Medium", "Low")


class Indicator(Item):
    """One leading indicator: present True/False/None (None = the data cannot tell), evidence, level if present."""

    indicator: str
    present: bool | None
    level: str | None
    evidence: str
    detection: str
    lead_time: str


class RiskResult(PlayResult):
    """Play 4: indicators found, risk level, intervention with owner and dated deadline, ARR at risk."""

    health_score: float | None
    health_tier: str | None
    renewal_date: _dt.date | None
    days_to_renewal: int | None
    risk_level: str
    intervention: str
    timing: str
    owner: str
    deadline: _dt.date
    arr_at_risk: float | None
    arr_source: str
    currency: str
    indicators: list[Indicator]
    warning_signals: list[RiskSignal]
    missing: list[MissingColumn]

    def sections(self) -> list[Section]:
        found = [i for i in self.indicators if i.present]
        summary: list[list[Value]] = [
            ["Risk level", self.risk_level],
            ["ARR at risk", f"{money(self.arr_at_risk, self.currency)} ({self.arr_source})"],
            ["Health score", None if self.health_score is None else round(self.health_score, 1)],
            ["Health tier", self.health_tier],
            ["Renewal date", self.renewal_date],
            ["Days to renewal", self.days_to_renewal],
            ["Indicators present", len(found)],
        ]
        plan: list[list[Value]] = [
            ["Action", self.intervention],
            ["Timing", self.timing],
            ["Owner", self.owner],
            ["Deadline", self.deadline],
        ]
        rows: list[list[Value]] = [
            [i.indicator, "unknown" if i.present is None else i.present, i.level, i.evidence, i.lead_time]
            for i in self.indicators
        ]
        signals: list[list[Value]] = [[s.label, s.severity, s.value, s.response] for s in self.warning_signals]
        return [
            Section("Churn risk", summary),
            Section("Leading indicators", rows, ("indicator", "present", "level", "evidence", "lead time")),
            Section("Early-warning signals (as save and renewal read them)", signals,
                    ("signal", "severity", "value", "response"), empty="none fired"),
            Section(f"Intervention ({self.risk_level})", plan),
            missing_section(self.missing),
        ]  # fmt: skip


def _rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def account_level(
    portfolio: Portfolio, row: Any, *, library: Mapping[str, Any] | None = None
) -> tuple[str, list[RiskSignal]]:
    """The account's one risk level, the same in ``risk``, ``save`` and ``renewal``: the most severe of the risk
    play's leading indicators (``library/risk.json``), the early-warning signals (:mod:`csxl.plays.warning`) and the
    health tier's level; Low when none is present. Also returns the fired early-warning signals."""
    found, _ = _indicators(portfolio, row, load_library("risk", library))
    present = [level for on, level, _ in found.values() if on and level is not None]
    signals, _ = risk_signals(portfolio, row)
    tier = cell(row, "health_tier")
    present.append(warning_level(signals, None if tier is None else str(tier), portfolio.settings.scheme()))
    return min(present, key=_rank), signals


@dataclass
class _Found:
    """The indicators read so far: id -> (present, level, evidence), and the blank columns they needed."""

    base: Mapping[str, Any]
    out: dict[str, tuple[bool | None, str | None, str]] = field(default_factory=dict)
    gaps: list[MissingColumn] = field(default_factory=list)

    def level(self, key: str) -> str:
        return str(self.base[key]["level"])

    def blank(self, key: str, column: str, why: str) -> None:
        self.out[key] = (None, None, f"{column} blank")
        self.gaps.append(missing(column, why))


def _indicators(
    portfolio: Portfolio, row: Any, lib: Mapping[str, Any]
) -> tuple[dict[str, tuple[bool | None, str | None, str]], list[MissingColumn]]:
    """id -> (present, level, evidence) for every indicator, and the blank columns they needed."""
    found = _Found(cast(dict[str, Any], lib["indicators"]))
    th = cast(dict[str, Any], lib["thresholds"])
    _activity(found, row, lib, th)
    _commercial(found, portfolio, row, lib, th)
    return found.out, found.gaps


def _activity(found: _Found, row: Any, lib: Mapping[str, Any], th: Mapping[str, Any]) -> None:
    """Usage, logins, the champion and support tickets."""
    out, level, blank = found.out, found.level, found.blank
    trend = cell(row, "usage_trend")
    if trend is None:
        blank("usage_decline", "usage_trend", "usage-decline indicator")
    else:
        note = " (size of the drop not measurable)" if trend == "down" else ""
        out["usage_decline"] = (trend == "down", level("usage_decline"), f"usage_trend = {trend}{note}")

    login_trend = cell(row, "login_trend")
    if login_trend is None:
        blank("engagement_dip", "login_trend", "engagement-dip indicator")
    else:
        out["engagement_dip"] = (login_trend == "down", level("engagement_dip"), f"login_trend = {login_trend}")

    since = cell(row, "days_since_login")
    high, low = int(th["no_login_high_days"]), int(th["no_login_low_days"])
    if since is None:
        blank("no_login", "days_since_login", "no-login indicator")
    else:
        lvl = "High" if since >= high else "Low" if since >= low else None
        out["no_login"] = (lvl is not None, lvl, f"days_since_login = {since} (High >= {high}, Low >= {low})")

    champion = cell(row, "champion_status")
    champ_levels = cast(dict[str, str], lib["champion_levels"])
    if champion is None:
        blank("champion_change", "champion_status", "champion-change indicator")
    else:
        lvl = champ_levels.get(str(champion))
        out["champion_change"] = (lvl is not None, lvl, f"champion_status = {champion}")

    tickets = cell(row, "support_tickets_30d")
    spike = int(th["ticket_spike_30d"])
    if tickets is None:
        blank("ticket_spike", "support_tickets_30d", "support-ticket indicators")
        out["ticket_silence"] = (None, None, "support_tickets_30d blank")
    else:
        out["ticket_spike"] = (tickets >= spike, level("ticket_spike"), f"{tickets} tickets in 30 days (>= {spike})")
        silence = int(th["silence_days"])
        if since is None:
            out["ticket_silence"] = (None, None, "days_since_login blank")
        else:
            quiet = tickets == 0 and since >= silence
            text = f"{tickets} tickets in 30 days, no login for {since} days (silence: 0 and >= {silence})"
            out["ticket_silence"] = (quiet, level("ticket_silence"), text)


def _commercial(found: _Found, portfolio: Portfolio, row: Any, lib: Mapping[str, Any], th: Mapping[str, Any]) -> None:
    """Seats, contract, contraction, NPS, payment and the health tier."""
    out, level, blank = found.out, found.level, found.blank
    active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
    if active is None or bought is None:
        blank("seat_removals", "seats_active" if active is None else "seats_purchased", "seat-removals indicator")
    elif bought == 0:
        out["seat_removals"] = (False, None, "0 seats purchased")
    else:
        share = active / bought
        rating = str(signal_rag("seat_adoption", share))
        lvl = cast(dict[str, str], lib["seat_levels"])[rating]
        unused = bought - active
        text = f"{active} of {bought} seats active ({pct(share)}, {rating}); {unused} unused"
        out["seat_removals"] = (active < bought, lvl, text)

    contract = cell(row, "contract_trend")
    if contract is None:
        blank("downgrade", "contract_trend", "downgrade indicator")
    else:
        shown = f"contract_trend = {contract} ({source_of(portfolio, row, 'contract_trend')})"
        out["downgrade"] = (contract == "downgraded", level("downgrade"), shown)

    contraction = cell(row, "contraction_risk")
    if contraction is None:
        blank("contraction_risk", "contraction_risk", "contraction indicator")
    else:
        out["contraction_risk"] = (bool(contraction), level("contraction_risk"), f"contraction_risk = {contraction}")

    score, source = latest_nps(portfolio, row)
    worst = int(th["detractor_max"])
    if score is None:
        out["nps_detractor"] = (None, None, "no NPS answer")
        found.gaps.append(missing("nps", "NPS-detractor indicator (or an NPS answer on the Surveys sheet)"))
    else:
        out["nps_detractor"] = (score <= worst, level("nps_detractor"), f"NPS {score} ({source}; detractor <= {worst})")

    payment = cell(row, "payment_status")
    if payment is None:
        blank("payment_failure", "payment_status", "payment indicator")
    else:
        paid = cast(dict[str, str], lib["payment_levels"]).get(str(payment))
        out["payment_failure"] = (paid is not None, paid, f"payment_status = {payment}")

    tier = cell(row, "health_tier")
    if tier is None:
        out["health_tier"] = (None, None, "no health score (see the score play's missing data)")
    else:
        from_tier = tier_level(str(tier), portfolio.settings.scheme())
        from_tier = from_tier if from_tier in ("High", "Medium") else None
        health = cell(row, "health_score")
        shown = f"{tier} ({float(health):.1f})" if health is not None else str(tier)
        if str(tier) not in portfolio.settings.scheme().labels:  # too few dimensions known to rate the account
            out["health_tier"] = (None, None, f"{shown}: too few signals to rate (unknown, not a risk)")
        else:
            out["health_tier"] = (from_tier is not None, from_tier, shown)


@register("risk", 4, "Churn risk", needs_account=True, result=RiskResult)
def churn_risk(portfolio: Portfolio, account: str, *, library: Mapping[str, Any] | None = None) -> RiskResult:
    """Play 4 (``"Churn risk for [account]"``): leading indicators, level, intervention, owner, deadline, ARR at risk.

    Raises :class:`csxl.errors.InputError` for an unknown account; blank cells are listed in ``missing``.
    """
    row = portfolio.account(account)
    lib = load_library("risk", library)
    found, gaps = _indicators(portfolio, row, lib)
    base = cast(dict[str, Any], lib["indicators"])
    indicators = [
        Indicator(
            indicator=str(spec["indicator"]),
            present=found[key][0],
            level=found[key][1] if found[key][0] else None,
            evidence=found[key][2],
            detection=str(spec["detection"]),
            lead_time=str(spec["lead_time"]),
        )
        for key, spec in base.items()
        if key in found
    ]
    present = [i.level for i in indicators if i.present and i.level is not None]
    risk_level, signals = account_level(portfolio, row, library=library)
    plan = cast(dict[str, Any], lib["levels"])[risk_level]
    csm = cell(row, "csm")
    owner = str(plan["owner"])
    if csm is not None and "CSM" in owner:
        owner = f"{owner} ({csm})"
    elif csm is None and "CSM" in owner:
        gaps.append(missing("csm", "naming the owner"))
    at_risk, basis = arr_at_risk(portfolio, row, risk_level)
    if at_risk is None:
        gaps.append(missing("arr", "ARR at risk (or MRR rows for the account)"))
    renewal = cell(row, "renewal_date")
    health = cell(row, "health_score")
    conventions = [
        "Risk level = the most severe of the leading indicators, the early-warning signals and the health tier's"
        " level (the same level save and renewal give); none present = Low.",
        "Usage decline >30% MoM needs monthly usage numbers; csxl flags usage_trend = down without the size.",
        "ARR at risk = the expected loss: ARR x the churn probability (the stored churn model's), else x the midpoint"
        " of the risk level's band (Low 10 %, Medium 35 %, High 65 %, Critical 90 %).",
    ]
    if not present:
        conventions.append("No leading indicator is present in the data.")
    return RiskResult(
        command="risk",
        account=str(cell(row, "account")),
        as_of=portfolio.as_of,
        conventions=conventions,
        health_score=None if health is None else float(health),
        health_tier=None if cell(row, "health_tier") is None else str(cell(row, "health_tier")),
        renewal_date=renewal,
        days_to_renewal=None if renewal is None else (renewal - portfolio.as_of).days,
        risk_level=risk_level,
        intervention=str(plan["action"]),
        timing=str(plan["timing"]),
        owner=owner,
        deadline=portfolio.as_of + _dt.timedelta(days=int(plan["deadline_days"])),
        arr_at_risk=at_risk,
        arr_source=basis,
        currency=portfolio.settings.currency,
        indicators=indicators,
        warning_signals=signals,
        missing=gaps,
    )
