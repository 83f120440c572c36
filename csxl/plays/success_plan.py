"""Play 10, ``success-plan``: the engine spec's success plan template, filled from the account's data.

Rules (defaults in ``library/success_plan.json``; spec: engine Phase 2):

* **Stakeholders**: champion and exec sponsor from their columns (``"Name, Title"`` is split at the first comma),
  the CSM as plan owner; the technical lead has no column and is left to fill in on the plan.
* **Dates** count from ``start_date`` (blank: from the as-of date, as a new plan, and the result says so).
  Milestones: Technical Setup Complete = start + 7 days (week 1), First Value Delivered = start + the segment's target
  time to first value (enterprise 30 days, mid-market 14, SMB 24 hours and self-serve 10 minutes -> 1 day), Full
  Adoption = start + 42 days (end of week 6).
* **Milestone status**: ``complete`` when its data says so (setup: integration connected; first value: at least one
  goal achieved; adoption: active / purchased seats >= 80 %), else ``at-risk`` when its date is before the as-of
  date, else ``pending``; ``unknown`` when the column is blank.
* **Use cases**: primary and second use case, from ``features_adopted`` (features in regular use): fewer than 1 / 2
  -> ``not-started``, at least that -> ``live``, 4+ (the Green threshold) -> ``optimizing``; go-live targets start +
  21 days (week 3) and + 42 days (week 6).
* **Objectives**: the library's objectives with today's baseline (seats, goals, ROI); goals and ROI are due at the
  renewal's ROI presentation (renewal - 60 days) when that is still ahead, else at the next review.
* **Risks**: the early-warning signals of :mod:`csxl.plays.save`, each with its response as mitigation, owned by the
  CSM.
* **Next review**: Critical/Red tier -> tomorrow (daily check-in), At-Risk -> in 7 days (weekly checkpoints); else
  the 90-day review while still inside the first 90 days; else as-of + the segment's QBR interval (enterprise 91 days,
  mid-market 182, SMB 365; self-serve has none).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.plays.base import PlayResult, Section, Value, load_library, register
from csxl.plays.common import MissingColumn, cell, fill, live_account, missing, missing_section, pct, segment_of
from csxl.plays.onboarding import first_value_target, onboarding_stage
from csxl.plays.warning import risk_signals
from csxl.portfolio import Portfolio

__all__ = ["Milestone", "Objective", "PlanRisk", "Stakeholder", "SuccessPlanResult", "UseCase", "success_plan_play"]


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stakeholder(_Item):
    """A person on the plan: role, name and title (``None`` when not on file)."""

    role: str
    name: str | None
    title: str | None


class Objective(_Item):
    """A business objective: what, how it is measured, where it stands now, the goal and the date it is due."""

    objective: str
    metric: str
    baseline: str
    target: str
    timeline: _dt.date | None


class UseCase(_Item):
    """A use case with its status (not-started / live / optimizing) and target go-live date."""

    name: str
    status: str
    go_live_date: _dt.date


class Milestone(_Item):
    """A milestone: target date, status (complete / pending / at-risk / unknown; "not shown" once onboarding is
    over and the data does not show it) and what marks it complete."""

    name: str
    target_date: _dt.date
    status: str
    done_when: str


class PlanRisk(_Item):
    """A risk from the data, its mitigation and owner."""

    risk: str
    mitigation: str
    owner: str


class SuccessPlanResult(PlayResult):
    """Play 10: the success plan (engine spec template) for one account."""

    created: _dt.date
    owner: str | None
    segment: str
    start_date: _dt.date | None
    aha_moment: str
    ttfv_target: str
    stakeholders: list[Stakeholder]
    objectives: list[Objective]
    use_cases: list[UseCase]
    milestones: list[Milestone]
    risks: list[PlanRisk]
    next_review: _dt.date | None
    next_review_rule: str
    missing: list[MissingColumn]

    def title(self) -> str:
        return f"Success plan: {self.account} (as of {self.as_of.isoformat()})"

    def sections(self) -> list[Section]:
        head: list[list[Value]] = [
            ["Created", self.created],
            ["Owner (CSM)", self.owner or "unassigned"],
            ["Segment", self.segment],
            ["Customer since", self.start_date],
            ["Aha moment", self.aha_moment],
            ["Target time to first value", self.ttfv_target],
            ["Next review", self.next_review],
            ["Next review rule", self.next_review_rule],
        ]
        people: list[list[Value]] = [[s.role, s.name, s.title] for s in self.stakeholders]
        objectives: list[list[Value]] = [
            [o.objective, o.metric, o.baseline, o.target, o.timeline] for o in self.objectives
        ]
        cases: list[list[Value]] = [[u.name, u.status, u.go_live_date] for u in self.use_cases]
        stones: list[list[Value]] = [[m.name, m.target_date, m.status, m.done_when] for m in self.milestones]
        risks: list[list[Value]] = [[r.risk, r.mitigation, r.owner] for r in self.risks]
        return [
            Section("Success plan", head),
            Section("Stakeholders", people, ("role", "name", "title")),
            Section("Business objectives", objectives, ("objective", "metric", "baseline", "target", "by")),
            Section("Use cases", cases, ("use case", "status", "go-live")),
            Section("Milestones", stones, ("milestone", "target date", "status", "complete when")),
            Section("Risks", risks, ("risk", "mitigation", "owner"))
            if risks
            else Section("Risks", [["no early-warning signal fired"]]),
            missing_section(self.missing),
        ]


def _person(role: str, text: Any) -> Stakeholder:
    if text is None:
        return Stakeholder(role=role, name=None, title=None)
    name, _, title = str(text).partition(",")
    return Stakeholder(role=role, name=name.strip() or None, title=title.strip() or None)


def _status(done: bool | None, target: _dt.date, as_of: _dt.date) -> str:
    """complete / pending / at-risk (past its date, not done) / unknown (no data)."""
    if done is None:
        return "unknown"
    if done:
        return "complete"
    return "at-risk" if target < as_of else "pending"


def _use_case_status(features: int | None, needed: int, optimizing: int) -> str:
    if features is None:
        return "unknown"
    if features >= optimizing:
        return "optimizing"
    return "live" if features >= needed else "not-started"


@register("success-plan", 10, "Success plan", needs_account=True, result=SuccessPlanResult)
def success_plan_play(
    portfolio: Portfolio, account: str, *, library: Mapping[str, Any] | None = None
) -> SuccessPlanResult:
    """Play 10 (``"Success plan for [account]"``): stakeholders, objectives, use cases, dated milestones, risks.

    Raises :class:`csxl.errors.InputError` for an unknown account; blank cells are listed in ``missing``.
    """
    row = live_account(portfolio, account, "success-plan")
    lib = load_library("success_plan", library)
    as_of = portfolio.as_of
    gaps: list[MissingColumn] = []
    conventions: list[str] = []
    segment, aha = _segment_and_aha(portfolio, row, lib, gaps, conventions)
    start = cell(row, "start_date")
    base = start if start is not None else as_of
    if start is None:
        gaps.append(missing("start_date", "milestone dates"))
        conventions.append("start_date blank: milestones are dated from the as-of date (a new plan).")
    _, first_value = first_value_target(segment, base)
    assert first_value is not None
    milestones, cases = _milestones_and_use_cases(row, lib, base, (first_value - base).days, as_of, gaps)
    next_review, rule = _next_review(row, lib, segment, base, as_of)
    mature = onboarding_stage(start, as_of) == "complete"
    if mature:
        milestones = _after_onboarding(milestones, conventions)
    objectives = _objectives(row, lib, aha, base, as_of, next_review, first_value, mature)
    csm = cell(row, "csm")
    stakeholders, risks = _people_and_risks(portfolio, row, gaps)
    conventions.append("Milestone status: complete when the data says so, else at-risk once its date has passed.")
    return SuccessPlanResult(
        command="success-plan",
        account=str(cell(row, "account")),
        as_of=as_of,
        conventions=conventions,
        created=as_of,
        owner=None if csm is None else str(csm),
        segment=segment,
        start_date=start,
        aha_moment=str(aha["aha_moment"]),
        ttfv_target=str(aha["target"]),
        stakeholders=stakeholders,
        objectives=objectives,
        use_cases=cases,
        milestones=milestones,
        risks=risks,
        next_review=next_review,
        next_review_rule=rule,
        missing=gaps,
    )


def _after_onboarding(milestones: list[Milestone], conventions: list[str]) -> list[Milestone]:
    """Onboarding is history: its milestones show what the data says today, not years-old work "at risk"."""
    conventions.append(
        "Onboarding ended 90 days after the start: its milestones show what the data says today (complete, or not"
        " shown); the objectives look ahead to the next review."
    )
    return [m.model_copy(update={"status": "not shown"}) if m.status == "at-risk" else m for m in milestones]


def _segment_and_aha(
    portfolio: Portfolio, row: pd.Series[Any], lib: Mapping[str, Any], gaps: list[MissingColumn], notes: list[str]
) -> tuple[str, dict[str, Any]]:
    """The account's segment (the library's default when blank) and its aha moment and time to first value (the
    onboarding library's: :func:`csxl.plays.onboarding.first_value_target`)."""
    aha_lib = cast(dict[str, dict[str, Any]], load_library("onboarding")["aha"])
    segment, source = segment_of(portfolio, row)
    if segment is None or segment not in aha_lib:
        segment = str(lib["default_segment"])
        gaps.append(missing("segment", "aha moment, time to first value and review cadence (or fill arr)"))
        notes.append(f"Segment blank: the {segment} aha moment and cadence are used.")
    elif source != "segment column":
        notes.append(f"Segment {segment} read {source}.")
    return segment, aha_lib[segment]


def _milestones_and_use_cases(
    row: pd.Series[Any],
    lib: Mapping[str, Any],
    base: _dt.date,
    first_value_day: int,
    as_of: _dt.date,
    gaps: list[MissingColumn],
) -> tuple[list[Milestone], list[UseCase]]:
    """The dated milestones with their status from the data, and the use cases with theirs."""
    integration, achieved = cell(row, "integration"), cell(row, "goals_achieved")
    active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
    features, roi = cell(row, "features_adopted"), cell(row, "roi_documented")
    seat_share = active / bought if active is not None and bought else None
    for column, value, what in (
        ("integration", integration, "Technical Setup milestone"),
        ("goals_achieved", achieved, "First Value milestone and goals objective"),
        ("seats_active", active, "Full Adoption milestone"),
        ("seats_purchased", bought, "Full Adoption milestone"),
        ("features_adopted", features, "use case status"),
        ("roi_documented", roi, "ROI objective"),
    ):
        if value is None:
            gaps.append(missing(column, what))
    done = {
        "setup": None if integration is None else str(integration) == "connected",
        "first_value": None if achieved is None else int(achieved) >= 1,
        "adoption": None if seat_share is None else seat_share >= float(lib["full_adoption_share"]),
    }
    milestones = []
    for key, spec in cast(dict[str, dict[str, Any]], lib["milestones"]).items():
        target = base + _dt.timedelta(days=first_value_day if spec["day"] == "ttfv" else int(spec["day"]))
        milestones.append(
            Milestone(
                name=str(spec["name"]), target_date=target, status=_status(done.get(key), target, as_of),
                done_when=str(spec["done_when"]),
            )
        )  # fmt: skip
    cases = [
        UseCase(
            name=str(u["name"]),
            status=_use_case_status(features, int(u["min_features"]), int(lib["optimizing_features"])),
            go_live_date=base + _dt.timedelta(days=int(u["day"])),
        )
        for u in cast(list[dict[str, Any]], lib["use_cases"])
    ]
    return milestones, cases


def _next_review(
    row: pd.Series[Any], lib: Mapping[str, Any], segment: str, base: _dt.date, as_of: _dt.date
) -> tuple[_dt.date | None, str]:
    """The next review and its rule: by tier when at risk, the 90-day review in onboarding, else the segment's QBR."""
    tier = cell(row, "health_tier")
    by_tier = cast(dict[str, int], lib["review_days_by_tier"])
    onboarding_end = base + _dt.timedelta(days=int(lib["onboarding_review_day"]))
    interval = cast(dict[str, int | None], lib["review_days_by_segment"]).get(segment)
    if tier is not None and str(tier) in by_tier:
        days = by_tier[str(tier)]
        return as_of + _dt.timedelta(days=days), f"{tier} tier: check-in every {days} day(s) until health improves"
    if as_of < onboarding_end:
        return onboarding_end, f"90-day review (start + {lib['onboarding_review_day']} days)"
    if interval:
        return as_of + _dt.timedelta(days=int(interval)), f"{segment} QBR cadence: every {interval} days"
    return None, f"{segment}: no scheduled review (automated engagement)"


def _objectives(
    row: pd.Series[Any],
    lib: Mapping[str, Any],
    aha: Mapping[str, Any],
    base: _dt.date,
    as_of: _dt.date,
    next_review: _dt.date | None,
    first_value: _dt.date,
    mature: bool,
) -> list[Objective]:
    """The plan's objectives with baselines read from the data and dated timelines. ``mature`` (onboarding over):
    first value is no longer an objective, and adoption is due by the next review."""
    defined, achieved = cell(row, "goals_defined"), cell(row, "goals_achieved")
    active, bought, roi = cell(row, "seats_active"), cell(row, "seats_purchased"), cell(row, "roi_documented")
    seat_share = active / bought if active is not None and bought else None
    renewal = cell(row, "renewal_date")
    value_date = None if renewal is None else renewal + _dt.timedelta(days=int(lib["value_review_day"]))
    if value_date is None or value_date < as_of:
        value_date = next_review
    adoption = next_review if mature else base + _dt.timedelta(days=42)
    dates = {"first_value": first_value, "adoption": adoption, "value": value_date}
    fields = {
        "aha": aha["aha_moment"],
        "ttfv": aha["target"],
        "first_value_line": "unknown (fill goals_achieved)"
        if achieved is None
        else ("first value delivered" if int(achieved) >= 1 else "no goal achieved yet"),
        "seat_line": "unknown (fill seats_active, seats_purchased)"
        if seat_share is None
        else f"{active}/{bought} active ({pct(seat_share)})",
        "goals_line": "unknown (fill goals_defined, goals_achieved)"
        if defined is None or achieved is None
        else f"{achieved} of {defined} met",
        "roi_line": "unknown (fill roi_documented)" if roi is None else ("documented" if roi else "not documented"),
    }
    return [
        Objective(
            objective=fill(str(o["objective"]), fields),
            metric=str(o["metric"]),
            baseline=fill(str(o["baseline"]), fields),
            target=fill(str(o["target"]), fields),
            timeline=dates.get(str(o["timeline"])),
        )
        for o in cast(list[dict[str, Any]], lib["objectives"])
        if not (mature and o["timeline"] == "first_value")
    ]


def _people_and_risks(
    portfolio: Portfolio, row: pd.Series[Any], gaps: list[MissingColumn]
) -> tuple[list[Stakeholder], list[PlanRisk]]:
    """The stakeholders and the plan's risks (the early-warning signals that fire, owned by the CSM)."""
    csm = cell(row, "csm")
    if csm is None:
        gaps.append(missing("csm", "plan owner"))
    for column in ("champion", "exec_sponsor"):
        if cell(row, column) is None:
            gaps.append(missing(column, "stakeholders"))
    signals, signal_gaps = risk_signals(portfolio, row)
    seen = {g.column for g in gaps}
    gaps += [g for g in signal_gaps if g.column not in seen]
    owner = f"CSM ({csm})" if csm else "CSM (unassigned)"
    risks = [PlanRisk(risk=f"{s.label}: {s.value}", mitigation=s.response, owner=owner) for s in signals]
    stakeholders = [
        _person("Champion", cell(row, "champion")),
        _person("Exec sponsor", cell(row, "exec_sponsor")),
        Stakeholder(role="Technical lead", name=None, title=None),
        Stakeholder(role="CSM (owner)", name=None if csm is None else str(csm), title=None),
    ]
    return stakeholders, risks
