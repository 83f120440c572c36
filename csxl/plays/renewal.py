"""Play 7, ``renewal``: the renewal prep timeline as real dates, the step due now, a risk assessment and a talk track.

Rules (defaults in ``library/renewal.json``; spec: engine Phase 3 "Renewal Prep Sequence"):

* **Timeline.** Each step of ``timeline`` (day -90 ... -7) is dated ``renewal_date + day`` days. With
  ``days = renewal_date - as_of`` (whole days): a step is ``passed`` when a later step's date is on or before the
  as-of date, ``due now`` when it is the latest step dated on or before the as-of date, ``upcoming`` otherwise. More
  than 90 days out no step is due yet (``status`` "prep not started"); on the renewal day itself the day -7 step is
  still the one due. A renewal date before the as-of date, or a blank one, gives no timeline and a message saying
  what to fill in.
* **Risk assessment**: the health score and tier (the workbook's preset), the early-warning signals and the
  intervention level of :mod:`csxl.plays.save` (same rules as the save play).
* **Talk track**: ``stance_by_level`` first (a High level means "recover"), else ``stance_by_tier`` of the health tier,
  else "secure"; the stance's lines are filled with the account's data (goals met, seats, ARR, champion, sponsor,
  fired signals). A blank field stays visible as ``[field]``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from pydantic import BaseModel, ConfigDict

from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import (
    MissingColumn,
    account_arr,
    cell,
    fill,
    live_account,
    missing,
    missing_section,
    money,
    money_cell,
    pct,
)
from csxl.plays.risk import account_level
from csxl.plays.warning import RiskSignal, risk_signals
from csxl.portfolio import Portfolio
from csxl.sections import Cell

__all__ = ["RenewalResult", "TimelineStep", "renewal_play", "renewal_timeline"]


class TimelineStep(BaseModel):
    """A renewal prep step, dated: ``day`` relative to the renewal, ``status`` as of the as-of date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: int
    date: _dt.date
    who: str
    step: str
    status: str


def renewal_timeline(renewal: _dt.date, as_of: _dt.date, steps: Sequence[Mapping[str, Any]]) -> list[TimelineStep]:
    """Date each library step (``renewal + day``) and mark it passed / due now / upcoming as of ``as_of``.

    Steps are sorted by ``day``. Only meaningful for ``renewal >= as_of`` (the play refuses past renewals first).
    """
    ordered = sorted(steps, key=lambda s: int(s["day"]))
    dates = [renewal + _dt.timedelta(days=int(s["day"])) for s in ordered]
    reached = [i for i, d in enumerate(dates) if d <= as_of]
    current = reached[-1] if reached else None
    out = []
    for i, (spec, date) in enumerate(zip(ordered, dates, strict=True)):
        if current is not None and i < current:
            status = "passed"
        elif i == current:
            status = "due now"
        else:
            status = "upcoming"
        out.append(
            TimelineStep(day=int(spec["day"]), date=date, who=str(spec["who"]), step=str(spec["step"]), status=status)
        )
    return out


class RenewalResult(PlayResult):
    """Play 7: renewal date, days left, dated timeline with the step due now, risk assessment and talk track."""

    currency: str
    arr: float | None
    csm: str | None
    renewal_date: _dt.date | None
    days_to_renewal: int | None
    status: str
    message: str
    timeline: list[TimelineStep]
    due_now: TimelineStep | None
    next_step: TimelineStep | None
    health_score: float | None
    health_tier: str | None
    level: str
    signals: list[RiskSignal]
    stance: str
    talk_track_label: str
    talk_track: list[str]
    missing: list[MissingColumn]

    def title(self) -> str:
        return f"Renewal prep: {self.account} (as of {self.as_of.isoformat()})"

    def sections(self) -> list[Section]:
        head: list[list[Cell]] = [
            ["Renewal date", self.renewal_date],
            ["Days to renewal", self.days_to_renewal],
            ["Status", self.status],
            ["Due now", f"day {self.due_now.day}: {self.due_now.step}" if self.due_now else "nothing"],
            ["Next", f"{self.next_step.date.isoformat()} (day {self.next_step.day}): {self.next_step.step}"
             if self.next_step else "nothing"],
            ["ARR", money_cell(self.arr, self.currency)],
            ["CSM", self.csm or "unassigned"],
        ]  # fmt: skip
        out = [Section("Renewal", head, text=self.message)]
        if self.timeline:
            rows: list[list[Cell]] = [[t.day, t.date, t.who, t.step, t.status] for t in self.timeline]
            out.append(Section("Timeline", rows, ("day", "date", "who", "step", "status")))
        score = None if self.health_score is None else round(self.health_score, 1)
        risk: list[list[Cell]] = [
            ["Health score", score],
            ["Tier", self.health_tier],
            ["Risk level", self.level],
        ]
        out.append(Section("Risk assessment", risk))
        if self.signals:
            sig: list[list[Cell]] = [[s.label, s.value, s.severity, s.response] for s in self.signals]
            out.append(Section("Warning signals", sig, ("signal", "value", "severity", "response")))
        out.append(Section(f"Talk track: {self.talk_track_label}", [[line] for line in self.talk_track]))
        out.append(missing_section(self.missing))
        return out


def _talk_fields(portfolio: Portfolio, row: Any, arr: float | None, signals: list[RiskSignal]) -> dict[str, Any]:
    defined, achieved = cell(row, "goals_defined"), cell(row, "goals_achieved")
    active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
    return {
        "account": cell(row, "account"),
        "arr": None if arr is None else money(arr, portfolio.settings.currency),
        "champion": cell(row, "champion"),
        "exec_sponsor": cell(row, "exec_sponsor"),
        "goals_line": f"{achieved} of {defined} goals met"
        if defined is not None and achieved is not None
        else "goals not tracked yet (fill goals_defined, goals_achieved)",
        "seat_line": f"{active}/{bought} active ({pct(active / bought)})"
        if active is not None and bought
        else "seat use unknown (fill seats_active, seats_purchased)",
        "signals_line": ", ".join(s.label for s in signals) if signals else "no warning signal fired",
    }


@register("renewal", 7, "Renewal prep", needs_account=True, result=RenewalResult)
def renewal_play(portfolio: Portfolio, account: str, *, library: Mapping[str, Any] | None = None) -> RenewalResult:
    """Play 7 (``"Renewal prep for [account]"``): timeline as real dates, the step due now, risk and talk track.

    Raises :class:`csxl.errors.InputError` for an unknown account. A blank or past ``renewal_date`` is not an error:
    the result has no timeline and its ``message`` says what to fill in.
    """
    row = live_account(portfolio, account, "renewal")
    lib = load_library("renewal", library)
    as_of = portfolio.as_of
    gaps: list[MissingColumn] = []
    renewal = cell(row, "renewal_date")
    timeline: list[TimelineStep] = []
    days: int | None = None
    if renewal is None:
        status = "not set"
        message = "renewal_date is blank: fill in the next contract renewal date to get a timeline."
        gaps.append(missing("renewal_date", "the renewal timeline"))
    else:
        days = (renewal - as_of).days
        if days < 0:
            status = "past"
            message = (
                f"The renewal date {renewal.isoformat()} is {-days} day(s) before the as-of date {as_of.isoformat()}: "
                "that renewal has passed. Update renewal_date to the next renewal (if the account churned, use the "
                "win-back play)."
            )
        else:
            timeline = renewal_timeline(renewal, as_of, cast(list[dict[str, Any]], lib["timeline"]))
            first = timeline[0]
            if days == 0:
                status, message = "today", "The renewal is today."
            elif first.status == "upcoming":
                status = "prep not started"
                message = f"Renewal in {days} days; prep starts on {first.date.isoformat()} (day {first.day})."
            else:
                status, message = "in prep", f"Renewal in {days} days."
    due = next((t for t in timeline if t.status == "due now"), None)
    nxt = next((t for t in timeline if t.status == "upcoming"), None)

    signals, signal_gaps = risk_signals(portfolio, row)
    gaps += signal_gaps
    tier = cell(row, "health_tier")
    tier_text = None if tier is None else str(tier)
    level, _ = account_level(portfolio, row)
    stance = cast(dict[str, str], lib["stance_by_level"]).get(level) or cast(dict[str, str], lib["stance_by_tier"]).get(
        str(tier_text), "secure"
    )
    track = cast(dict[str, dict[str, Any]], lib["talk_tracks"])[stance]
    arr, _ = account_arr(portfolio, row)
    fields = _talk_fields(portfolio, row, arr, signals)
    csm = cell(row, "csm")
    health = cell(row, "health_score")
    return RenewalResult(
        command="renewal",
        account=str(cell(row, "account")),
        as_of=as_of,
        conventions=[
            "Step dates = renewal_date + day; 'due now' = the latest step dated on or before the as-of date.",
            "Risk level and signals: the save play's rules (library save.json).",
        ],
        currency=portfolio.settings.currency,
        arr=arr,
        csm=None if csm is None else str(csm),
        renewal_date=renewal,
        days_to_renewal=days,
        status=status,
        message=message,
        timeline=timeline,
        due_now=due,
        next_step=nxt,
        health_score=None if health is None else float(health),
        health_tier=tier_text,
        level=level,
        signals=signals,
        stance=stance,
        talk_track_label=str(track["label"]),
        talk_track=[fill(str(line), fields) for line in track["lines"]],
        missing=gaps,
    )
