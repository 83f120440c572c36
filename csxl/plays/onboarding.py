"""Play 2, ``onboarding``: the 90-day onboarding plan of one account, dated, with its onboarding risk signals.

The portfolio's onboarding metrics are :mod:`csxl.plays.onboarding_metrics`.

Rules (engine spec Phase 2; the texts and day numbers are ``library/onboarding.json``):

* **Dates.** Day 0 is ``start_date``. Week ``k`` covers days ``7(k-1) .. 7k-1``; a phase "Week a-b" runs from
  ``start + 7(a-1)`` to ``start + 7b - 1``. Each milestone has a due day (the end of its phase, or the spec's own day:
  integrations by day 3 from the agent spec's "Setup (Day 1-3)", the 30-day check-in on day 30, the 90-day review on
  day 90): ``due = start_date + day``. A blank ``start_date`` gives the plan without dates and a missing-data note.
* **Milestone status** from the data where a column shows it (``evidence`` in the library: e.g. integrations
  connected <=> ``integration == connected``; 80 % of licensed users <=> ``seats_active / seats_purchased >= 0.8``):
  ``done``; not done and past due ``overdue``; not done and not yet due ``open``. Without evidence: ``check``
  (past due, csxl cannot see it) or ``upcoming``.
* **Time to first value**: the segment's aha moment and target (24 hours = 1 day, 10 minutes = same day; target
  date ``start + floor(target_days)``). Measured only when the Accounts sheet has an optional ``first_value_date``
  column (an extra column: csxl keeps columns it does not know).
* **Risk signals** (day ``d = as_of - start_date``):

  ================================  =========================================================================
  Champion leaves company           ``champion_status == left``
  No login after Day 3              ``d > 3`` and the last login ``d - days_since_login <= 3`` (nothing after
                                    day 3); or ``logins_per_week == 0`` with ``d > 3``
  Integration fails                 ``integration == disconnected`` (``partial`` is not a failure)
  Kickoff delayed >1 week           optional ``kickoff_date`` column: ``kickoff_date - start_date > 7`` days
  <50% user activation by Day 30    ``d >= 30`` and ``seats_active / seats_purchased < 0.5`` (today's seats)
  No exec sponsor identified        ``exec_sponsor_status == none``, or that status blank and ``exec_sponsor``
                                    reads none/n-a/-
  ================================  =========================================================================

  A blank cell leaves the signal unknown (``present = None``) and names the column to fill.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from csxl.plays.base import PlayResult, Section, Value, load_library, register
from csxl.plays.common import (
    Item,
    MissingColumn,
    cell,
    extra_dates,
    live_account,
    missing,
    missing_section,
    pct,
    segment_of,
)
from csxl.portfolio import Portfolio
from csxl.signals import COMPARE

__all__ = [
    "MilestoneLine",
    "OnboardingResult",
    "OnboardingRisk",
    "PhaseWindow",
    "first_value_target",
    "onboarding_plan",
    "onboarding_stage",
]

_ABSENT = frozenset({"none", "no", "n/a", "na", "-", "nobody", "false"})


def onboarding_stage(start: _dt.date | None, as_of: _dt.date, library: Mapping[str, Any] | None = None) -> str:
    """Where an account is in its onboarding on ``as_of``: ``not started`` (start in the future), ``onboarding``
    (day 0 .. the window's last day, 90), ``complete`` (after it) or ``unknown`` (no start date). One rule for the
    onboarding and success-plan plays."""
    if start is None:
        return "unknown"
    day = (as_of - start).days
    window = int(load_library("onboarding", library)["window_days"])
    return "not started" if day < 0 else "onboarding" if day <= window else "complete"


def first_value_target(
    segment: str | None, start: _dt.date | None, library: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any] | None, _dt.date | None]:
    """The segment's aha moment and time-to-first-value target (``aha_moment``, ``target``, ``target_days``; engine
    spec "Time-to-First-Value Framework") and the date first value is due: ``start + floor(target_days)``, so "10
    minutes" is due on the start day and "24 hours" the day after. ``None`` for an unknown segment or no start."""
    aha = cast(dict[str, dict[str, Any]], load_library("onboarding", library)["aha"]).get(segment or "")
    if aha is None or start is None:
        return aha, None
    return aha, start + _dt.timedelta(days=math.floor(float(aha["target_days"])))


def _extra_date(portfolio: Portfolio, row: pd.Series[Any], name: str) -> tuple[bool, _dt.date | None]:
    """(column exists, the account's date or None)."""
    dates = extra_dates(portfolio, name)
    if dates is None:
        return False, None
    value = dates.loc[cast(Any, row.name)]
    if isinstance(value, pd.Series):
        value = value.iloc[0]
    return True, None if pd.isna(value) else pd.Timestamp(value).date()


# --------------------------------------------------------------------------------------------------------------------
# Result models
# --------------------------------------------------------------------------------------------------------------------


class PhaseWindow(Item):
    """A phase of the plan and its dates (inclusive)."""

    phase: str
    start: _dt.date | None
    end: _dt.date | None


class MilestoneLine(Item):
    """One milestone: due day (days after start), due date, status and what the data says."""

    phase: str
    item: str
    day: int
    due: _dt.date | None
    status: str
    evidence: str


class OnboardingRisk(Item):
    """An onboarding risk signal: ``present`` True/False, or None when the data cannot tell (see ``evidence``)."""

    signal: str
    severity: str
    present: bool | None
    evidence: str
    response: str


class OnboardingResult(PlayResult):
    """Play 2: the dated 90-day plan, the time-to-first-value target and the onboarding risk signals."""

    start_date: _dt.date | None
    day: int | None
    stage: str
    outcome: str | None
    in_onboarding: bool | None
    segment: str | None
    aha_moment: str | None
    ttfv_target: str | None
    ttfv_target_date: _dt.date | None
    first_value_date: _dt.date | None
    ttfv_days: int | None
    ttfv_met: bool | None
    phases: list[PhaseWindow]
    milestones: list[MilestoneLine]
    risks: list[OnboardingRisk]
    missing: list[MissingColumn]

    def sections(self) -> list[Section]:
        head: list[list[Value]] = [
            ["Start date (day 0)", self.start_date],
            ["Day of onboarding", self.day],
            ["In the 90-day window", self.in_onboarding],
            ["Segment", self.segment],
            ["Aha moment", self.aha_moment],
            ["TTFV target", self.ttfv_target],
            ["TTFV target date", self.ttfv_target_date],
            ["First value reached", self.first_value_date],
            ["TTFV (days)", self.ttfv_days],
            ["TTFV target met", self.ttfv_met],
        ]
        plan: list[list[Value]] = [[m.phase, m.item, m.day, m.due, m.status, m.evidence] for m in self.milestones]
        risk_rows: list[list[Value]] = [
            [r.signal, r.severity, "unknown" if r.present is None else r.present, r.evidence, r.response]
            for r in self.risks
        ]
        flagged = [r for r in self.risks if r.present]
        summary = (
            f"{len(flagged)} risk signal(s) present: " + ", ".join(f"{r.signal} ({r.severity})" for r in flagged)
            if flagged
            else "No onboarding risk signal present in the data."
        )
        if self.outcome is not None:
            return [
                Section("Onboarding complete", head, text=self.outcome),
                Section("Phases", [[p.phase, p.start, p.end] for p in self.phases], ("phase", "from", "to")),
                Section("90-day plan: outcome", plan, ("phase", "milestone", "day", "due", "status", "evidence")),
                missing_section(self.missing),
            ]
        return [
            Section("Onboarding", head),
            Section(
                "Phases",
                [[p.phase, p.start, p.end] for p in self.phases],
                ("phase", "from", "to"),
            ),
            Section("90-day plan", plan, ("phase", "milestone", "day", "due", "status", "evidence")),
            Section(
                "Onboarding risk signals",
                risk_rows,
                ("signal", "severity", "present", "evidence", "response"),
                text=summary,
            ),
            missing_section(self.missing),
        ]


# --------------------------------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------------------------------


def _evidence(
    portfolio: Portfolio, row: pd.Series[Any], rule: Mapping[str, Any] | None
) -> tuple[bool | None, str, MissingColumn | None]:
    """Evaluate a milestone's evidence rule: (done or None, what the data says, the column to fill)."""
    if not rule:
        return None, "not tracked in csxl's columns", None
    column = str(rule["column"])
    op = str(rule["op"])
    if op == "filled":
        has_column, when = _extra_date(portfolio, row, column)
        if when is None:
            why = "blank" if has_column else "no such column on the Accounts sheet"
            return None, f"{column}: {why}", missing(column, "milestone status", f"the {column} (optional date column)")
        return when <= portfolio.as_of, f"{column} = {when.isoformat()}", None
    if "/" in column:
        top, bottom = column.split("/")
        a, b = cell(row, top), cell(row, bottom)
        if a is None or b is None:
            gap = missing(top if a is None else bottom, "milestone status")
            return None, f"{column}: blank", gap
        if b == 0:
            return None, f"{bottom} = 0", None
        value: Any = a / b
        shown = f"{top}/{bottom} = {a}/{b} = {pct(value)}"
    else:
        value = cell(row, column)
        if value is None:
            return None, f"{column}: blank", missing(column, "milestone status")
        shown = f"{column} = {value}"
    target = rule["value"]
    return bool(COMPARE[op](value, target)), shown, None


#: A finished onboarding's milestone statuses: what the data shows today, not work overdue for years.
_AFTER = {"overdue": "not done", "check": "not tracked", "open": "not done", "upcoming": "not tracked"}


def _outcome(
    name: str, start: _dt.date | None, window: int, milestones: list[MilestoneLine], ttfv_met: bool | None
) -> str:
    """What a finished onboarding achieved, by the data, and what applies to the account now."""
    assert start is not None
    end = start + _dt.timedelta(days=window)
    tracked = [m for m in milestones if m.status in ("done", "not done")]
    done = sum(m.status == "done" for m in tracked)
    ttfv = {True: "time to first value met", False: "time to first value missed", None: "time to first value not"
            " measured (no first_value_date)"}[ttfv_met]  # fmt: skip
    return (
        f"Onboarding ended on {end.isoformat()} (day {window}). Outcome by the data: {done} of {len(tracked)} "
        f"milestones csxl can see are done ({len(milestones) - len(tracked)} not tracked in its columns); {ttfv}. "
        f'What applies now: the success plan (csxl success-plan "{name}"), the tier\'s playbook (csxl score), '
        f"QBRs (csxl qbr) and churn risk (csxl risk)."
    )


def _status(done: bool | None, due: _dt.date | None, as_of: _dt.date) -> str:
    past = due is not None and due < as_of
    if done is True:
        return "done"
    if done is False:
        return "overdue" if past else "open"
    return "check" if past else "upcoming"


def _risks(
    portfolio: Portfolio, row: pd.Series[Any], day: int | None, lib: Mapping[str, Any]
) -> tuple[list[OnboardingRisk], list[MissingColumn]]:
    th = cast(dict[str, Any], lib["thresholds"])
    gaps: list[MissingColumn] = []
    found: dict[str, tuple[bool | None, str]] = {}

    status = cell(row, "champion_status")
    if status is None:
        found["champion_left"] = (None, "champion_status blank")
        gaps.append(missing("champion_status", "champion-left signal"))
    else:
        found["champion_left"] = (status == "left", f"champion_status = {status}")

    login_day = int(th["login_by_day"])
    since, per_week = cell(row, "days_since_login"), cell(row, "logins_per_week")
    if day is None:
        found["no_login_after_day_3"] = (None, "start_date blank")
    elif day <= login_day:
        found["no_login_after_day_3"] = (False, f"day {day}: not past day {login_day} yet")
    elif since is not None:
        last = day - int(since)
        found["no_login_after_day_3"] = (last <= login_day, f"last login on day {last} (days_since_login = {since})")
    elif per_week is not None:
        found["no_login_after_day_3"] = (float(per_week) == 0, f"logins_per_week = {per_week}")
    else:
        found["no_login_after_day_3"] = (None, "days_since_login and logins_per_week blank")
        gaps.append(missing("days_since_login", "no-login-after-day-3 signal"))

    integration = cell(row, "integration")
    if integration is None:
        found["integration_fails"] = (None, "integration blank")
        gaps.append(missing("integration", "integration-fails signal"))
    else:
        found["integration_fails"] = (integration == "disconnected", f"integration = {integration}")

    _setup_risks(found, gaps, portfolio, row, day, th)
    risks = [
        OnboardingRisk(
            signal=str(spec["signal"]),
            severity=str(spec["severity"]),
            present=found[str(spec["id"])][0],
            evidence=found[str(spec["id"])][1],
            response=str(spec["response"]),
        )
        for spec in lib["risk_signals"]
        if str(spec["id"]) in found
    ]
    return risks, gaps


def _setup_risks(
    found: dict[str, tuple[bool | None, str]],
    gaps: list[MissingColumn],
    portfolio: Portfolio,
    row: pd.Series[Any],
    day: int | None,
    th: Mapping[str, Any],
) -> None:
    """The kickoff-delayed, low-activation and no-exec-sponsor signals."""
    has_kickoff, kickoff = _extra_date(portfolio, row, "kickoff_date")
    start = cell(row, "start_date")
    within = int(th["kickoff_within_days"])
    if kickoff is None or start is None:
        what = "start_date blank" if start is None else ("kickoff_date blank" if has_kickoff else "no kickoff_date")
        found["kickoff_delayed"] = (None, what)
        if start is not None:
            gaps.append(missing("kickoff_date", "kickoff-delayed signal", "the kickoff call date (optional column)"))
    else:
        late = (kickoff - start).days
        found["kickoff_delayed"] = (late > within, f"kickoff on day {late}")

    act_day, act_share = int(th["activation_day"]), float(th["activation_fraction"])
    active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
    if day is None:
        found["low_activation_day_30"] = (None, "start_date blank")
    elif active is None or bought is None:
        found["low_activation_day_30"] = (None, "seats_active or seats_purchased blank")
        gaps.append(missing("seats_active" if active is None else "seats_purchased", "activation signal"))
    elif bought == 0:
        found["low_activation_day_30"] = (None, "0 seats purchased: activation is not defined")
    else:
        share = active / bought
        text = f"{active}/{bought} seats active = {pct(share)}"
        if day < act_day:
            found["low_activation_day_30"] = (False, f"day {day}: assessed from day {act_day} ({text})")
        else:
            found["low_activation_day_30"] = (share < act_share, text)

    sponsor_status, sponsor = cell(row, "exec_sponsor_status"), cell(row, "exec_sponsor")
    if sponsor_status is not None:
        found["no_exec_sponsor"] = (sponsor_status == "none", f"exec_sponsor_status = {sponsor_status}")
    elif sponsor is not None:
        found["no_exec_sponsor"] = (str(sponsor).strip().lower() in _ABSENT, f"exec_sponsor = {sponsor}")
    else:
        found["no_exec_sponsor"] = (None, "exec_sponsor and exec_sponsor_status blank")
        gaps.append(missing("exec_sponsor_status", "no-exec-sponsor signal"))


def _phases(
    portfolio: Portfolio,
    row: pd.Series[Any],
    start: _dt.date | None,
    lib: Mapping[str, Any],
    gaps: list[MissingColumn],
) -> tuple[list[PhaseWindow], list[MilestoneLine]]:
    """The plan's phases dated from the start, and each milestone with its due date and status from the data."""
    as_of = portfolio.as_of
    phases: list[PhaseWindow] = []
    milestones: list[MilestoneLine] = []
    for phase in lib["phases"]:
        name = str(phase["phase"])
        first, last = int(phase["first_week"]), int(phase["last_week"])
        phases.append(
            PhaseWindow(
                phase=name,
                start=None if start is None else start + _dt.timedelta(days=7 * (first - 1)),
                end=None if start is None else start + _dt.timedelta(days=7 * last - 1),
            )
        )
        for m in phase["milestones"]:
            due = None if start is None else start + _dt.timedelta(days=int(m["day"]))
            done, shown, gap = _evidence(portfolio, row, m.get("evidence"))
            if gap is not None and gap.column not in {g.column for g in gaps}:
                gaps.append(gap)
            milestones.append(
                MilestoneLine(
                    phase=name, item=str(m["item"]), day=int(m["day"]), due=due, status=_status(done, due, as_of),
                    evidence=shown,
                )
            )  # fmt: skip
    return phases, milestones


@register("onboarding", 2, "Onboarding plan", needs_account=True, result=OnboardingResult)
def onboarding_plan(
    portfolio: Portfolio, account: str, *, library: Mapping[str, Any] | None = None
) -> OnboardingResult:
    """Play 2 (``"Onboarding plan for [account]"``): dated 90-day milestones, TTFV target, onboarding risk signals.

    Raises :class:`InputError` for an unknown account or a bad ``kickoff_date``/``first_value_date`` cell.
    """
    row = live_account(portfolio, account, "onboarding")
    lib = load_library("onboarding", library)
    as_of = portfolio.as_of
    gaps: list[MissingColumn] = []

    start = cell(row, "start_date")
    day = None if start is None else (as_of - start).days
    if start is None:
        gaps.append(missing("start_date", "dating the plan (day 0) and the day-based risk signals"))
    window = int(lib["window_days"])

    segment, _ = segment_of(portfolio, row)
    aha, target_date = first_value_target(segment, start, lib)
    if aha is None:
        gaps.append(missing("segment", "the aha moment and TTFV target (or fill arr)"))
    has_fv, first_value = _extra_date(portfolio, row, "first_value_date")
    ttfv_days = None if first_value is None or start is None else (first_value - start).days
    ttfv_met = None
    if ttfv_days is not None and aha is not None:
        ttfv_met = ttfv_days <= float(aha["target_days"])
    if first_value is None:
        why = "blank" if has_fv else "optional column"
        gaps.append(missing("first_value_date", "measuring TTFV", f"the date the account reached first value ({why})"))

    phases, milestones = _phases(portfolio, row, start, lib, gaps)
    stage = onboarding_stage(start, as_of, lib)
    outcome = None
    if stage == "complete":  # the plan is history: its result, not overdue work; its risk signals no longer apply
        milestones = [m.model_copy(update={"status": _AFTER.get(m.status, m.status)}) for m in milestones]
        risks: list[OnboardingRisk] = []
        outcome = _outcome(str(cell(row, "account")), start, window, milestones, ttfv_met)
    else:
        risks, risk_gaps = _risks(portfolio, row, day, lib)
        seen = {g.column for g in gaps}
        gaps += [g for g in risk_gaps if g.column not in seen]

    return OnboardingResult(
        command="onboarding",
        account=str(cell(row, "account")),
        as_of=as_of,
        conventions=[
            "Day 0 is start_date; due = start_date + day; week k covers days 7(k-1) to 7k-1.",
            "Status: done / overdue / open where a column shows the milestone, else check (past due) / upcoming.",
            "Activation by day 30 uses today's seats_active / seats_purchased (csxl keeps no seat history).",
            "kickoff_date and first_value_date are optional extra date columns of the Accounts sheet.",
        ],
        start_date=start,
        day=day,
        stage=stage,
        outcome=outcome,
        in_onboarding=None if day is None else 0 <= day <= window,
        segment=segment,
        aha_moment=None if aha is None else str(aha["aha_moment"]),
        ttfv_target=None if aha is None else str(aha["target"]),
        ttfv_target_date=target_date,
        first_value_date=first_value,
        ttfv_days=ttfv_days,
        ttfv_met=ttfv_met,
        phases=phases,
        milestones=milestones,
        risks=risks,
        missing=gaps,
    )


# --------------------------------------------------------------------------------------------------------------------
# Portfolio onboarding metrics
# --------------------------------------------------------------------------------------------------------------------
