"""Play 3, ``qbr``: QBR prep for one account: agenda, data summary, expansion ideas, dated checklist, follow-up email.

Rules (engine spec Phase 6, agent spec QBR FRAMEWORK; texts and day offsets are ``library/qbr.json``):

* **QBR date**: the ``date`` argument (``--date``), else ``as_of + 14`` days; it may not be before the as-of date.
* **Agenda**: the engine spec's 60-minute structure (10 + 15 + 10 + 15 + 10 minutes), with start/end minutes.
* **Data summary**: today's usage columns (csxl keeps one usage snapshot, so "90-day usage" is the snapshot plus
  ``usage_trend``); MRR of the as-of month against three months earlier, ``change = now / then - 1``; health trend
  from the History sheet: ``delta = score now - oldest snapshot within the last 90 days``, "improving" when
  ``delta >= +5`` points, "declining" when ``<= -5``, else "stable"; support tickets of the last 30 days; success-plan
  goals scored ``goals_achieved / goals_defined``; renewal date and days to it.
* **Expansion recommendations**: the first two signals of the ``expansion`` play (hot first, then largest upside).
* **Checklist**: each item dated ``qbr_date + offset_days`` (the agent spec's "1 week before" = -7, the pre-read
  5 days before = -5, "day before" = -1), with the account's numbers; ``days_left = due - as_of``.
* **Follow-up email**: the spec's template filled with :meth:`str.format_map`: quarter ``Q<n> <year>`` of the QBR
  date, objectives due at the end of the next quarter, follow-up actions due the day after the QBR (agent spec:
  within 24 h), next QBR = QBR date + the segment's QBR interval (engine "Touch Cadence": quarterly 3 months,
  semi-annual 6, annual 12; self-serve none). Unknown fields stay visible as ``[field]``.
"""

from __future__ import annotations

import datetime as _dt
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from csxl.errors import InputError
from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import (
    Item,
    MissingColumn,
    cell,
    fill,
    live_account,
    missing,
    missing_section,
    money,
    money_cell,
    pct,
    segment_of,
    tier_level,
)
from csxl.plays.expansion import ExpansionSignal, expansion_opportunities
from csxl.portfolio import Portfolio
from csxl.sections import Cell

__all__ = ["AgendaItem", "ChecklistItem", "DataLine", "QbrResult", "qbr_date", "qbr_prep", "quarter_of"]


class AgendaItem(Item):
    """One block of the 60-minute agenda: minutes from the start, length and talking points."""

    section: str
    start_minute: int
    minutes: int
    points: list[str]


class DataLine(Item):
    """One line of the data summary: the value as a number in ``unit`` (or a label, an ISO date), and as shown."""

    area: str
    metric: str
    value: float | str | None
    unit: str
    shown: str
    note: str


class ChecklistItem(Item):
    """A prep task, its due date (relative to the QBR date), days left from as-of and the account's numbers."""

    item: str
    offset_days: int
    due: _dt.date
    days_left: int
    detail: str


class QbrResult(PlayResult):
    """Play 3: QBR agenda, data summary, expansion recommendations, prep checklist and follow-up email."""

    qbr_date: _dt.date
    quarter: str
    next_qbr: _dt.date | None
    agenda: list[AgendaItem]
    data: list[DataLine]
    health_delta: float | None
    health_trend: str | None
    mrr_change: float | None
    recommendations: list[ExpansionSignal]
    currency: str
    checklist: list[ChecklistItem]
    email_subject: str
    email_body: str
    missing: list[MissingColumn]

    def sections(self) -> list[Section]:
        agenda: list[list[Cell]] = [
            [f"{a.start_minute}-{a.start_minute + a.minutes} min", a.section, "; ".join(a.points)] for a in self.agenda
        ]
        data: list[list[Cell]] = [[d.area, d.metric, d.shown, d.note] for d in self.data]
        recs: list[list[Cell]] = [
            [r.signal, r.strength, r.play, money_cell(r.upside, self.currency), r.formula] for r in self.recommendations
        ]
        checklist: list[list[Cell]] = [[c.due, c.days_left, c.item, c.detail] for c in self.checklist]
        head: list[list[Cell]] = [
            ["QBR date", self.qbr_date],
            ["Quarter", self.quarter],
            ["Pre-read due", next((c.due for c in self.checklist if c.offset_days == -5), None)],
            ["Next QBR", self.next_qbr],
        ]
        return [
            Section("QBR", head),
            Section("Agenda (60 minutes)", agenda, ("time", "section", "points")),
            Section("Data summary", data, ("area", "metric", "value", "note")),
            Section(
                "Expansion recommendations",
                recs,
                ("signal", "strength", "play", "ARR upside", "formula"),
                text="" if recs else "No expansion signal in the data: discuss their 12-month plans instead.",
            ),
            Section("Prep checklist", checklist, ("due", "days left", "task", "detail")),
            Section(f"Follow-up email: {self.email_subject}", text=self.email_body),
            missing_section(self.missing),
        ]


def quarter_of(day: _dt.date) -> tuple[int, int]:
    """(year, quarter 1-4) of a date."""
    return day.year, (day.month - 1) // 3 + 1


def _quarter_end(year: int, quarter: int) -> _dt.date:
    month = 3 * quarter
    first_next = _dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - _dt.timedelta(days=1)


def qbr_date(as_of: _dt.date, date: _dt.date | str | None, days_ahead: int = 14) -> _dt.date:
    """The QBR date: ``date`` (a date or ISO ``YYYY-MM-DD`` text) or ``as_of + days_ahead``; never before ``as_of``."""
    if date is None:
        return as_of + _dt.timedelta(days=days_ahead)
    if isinstance(date, str):
        try:
            parsed = _dt.date.fromisoformat(date.strip())
        except ValueError:
            raise InputError("date", date, "a date YYYY-MM-DD") from None
    elif isinstance(date, _dt.datetime):
        parsed = date.date()
    elif isinstance(date, _dt.date):
        parsed = date
    else:
        raise InputError("date", date, "a date YYYY-MM-DD")
    if parsed < as_of:
        raise InputError("date", parsed.isoformat(), f"on or after the as-of date {as_of.isoformat()}")
    return parsed


def _mrr_of(portfolio: Portfolio, name: str, month: pd.Timestamp) -> float | None:
    mrr = portfolio.mrr
    rows = mrr[(mrr["account"] == name) & (mrr["month"] == month)] if not mrr.empty else mrr
    return float(rows["mrr"].sum()) if len(rows) else None


def _health_history(portfolio: Portfolio, name: str, days: int) -> tuple[_dt.date, float] | None:
    """The oldest History snapshot of the account within ``days`` before as-of (inclusive), if any."""
    hist = portfolio.history
    if hist.empty:
        return None
    start = portfolio.as_of_ts - pd.Timedelta(days=days)
    key = name.strip().casefold()
    names = hist["account"].astype(str).str.strip().str.casefold()
    mine = hist[(names == key) & (hist["as_of"] >= start) & (hist["as_of"] <= portfolio.as_of_ts)]
    mine = mine[mine["health_score"].notna()].sort_values("as_of", kind="stable")
    if mine.empty:
        return None
    first = mine.iloc[0]
    return pd.Timestamp(first["as_of"]).date(), float(first["health_score"])


def _fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _lines(templates: list[str], fields: Mapping[str, Any]) -> list[str]:
    """Fill each template; drop one whose fields are not all known (its data is blank)."""
    return [fill(t, fields) for t in templates if all(fields.get(f) is not None for f in _fields_of(t))]


@register("qbr", 3, "QBR prep", needs_account=True, result=QbrResult)
def qbr_prep(
    portfolio: Portfolio,
    account: str,
    *,
    library: Mapping[str, Any] | None = None,
    date: _dt.date | str | None = None,
) -> QbrResult:
    """Play 3 (``"QBR prep for [account]"``): agenda, data summary, 1-2 expansion ideas, dated checklist, email.

    ``date`` is the QBR date (default ``as_of + 14`` days). Raises :class:`InputError` for an unknown account or a
    QBR date that is not a date or lies before the as-of date.
    """
    row = live_account(portfolio, account, "qbr")
    lib = load_library("qbr", library)
    as_of = portfolio.as_of
    when = qbr_date(as_of, date, int(lib["default_days_ahead"]))
    name = str(cell(row, "account"))
    currency = portfolio.settings.currency
    summary = _Summary()
    _usage(summary, row)
    mrr_change = _revenue(summary, portfolio, name, currency)
    delta, trend = _health(summary, portfolio, row, lib)
    _support_and_outcomes(summary, row, as_of)
    recommendations = expansion_opportunities(portfolio, name).signals[:2]
    next_qbr = _next_qbr(summary, portfolio, row, when)
    fields = _fields(summary, row, when, next_qbr, trend, recommendations, currency)
    lookback, band = int(lib["lookback_days"]), float(lib["health_trend_band"])
    year, q = quarter_of(when)
    email = cast(dict[str, str], lib["email"])
    checklist = _checklist(lib, when, as_of, fields)
    body_fields = _body_fields(lib, summary, fields, recommendations)  # adds the expansion fields, as the subject sees
    # the e-mail's tone follows the account's risk level (the tier mapping every play uses); an unknown tier: neutral
    level = tier_level(cell(row, "health_tier"), portfolio.settings.scheme()) or "Medium"
    tone = cast(dict[str, dict[str, str]], lib["email_by_level"])[level]
    body_fields.update({key: fill(text, fields) for key, text in tone.items()})
    return QbrResult(
        command="qbr",
        account=name,
        as_of=as_of,
        conventions=[
            f"QBR date {when.isoformat()} ({'--date' if date is not None else 'as-of + 14 days'}); "
            "checklist due = QBR date + offset.",
            "csxl keeps one usage snapshot per account: the 90-day view is the snapshot, usage_trend and MRR.",
            f"Health trend: now minus the oldest History snapshot of the last {lookback} days; "
            f"+/-{band:g} points = improving/declining.",
            "[field] in the email marks a blank the data could not fill.",
            "The e-mail goes to the customer: it shows no internal score; its heading and closing follow the risk"
            " level of the health tier (a Critical account is not told 'another strong quarter').",
        ],
        qbr_date=when,
        quarter=f"Q{q} {year}",
        next_qbr=next_qbr,
        agenda=_agenda(lib),
        data=summary.data,
        health_delta=delta,
        health_trend=trend,
        mrr_change=mrr_change,
        recommendations=recommendations,
        currency=currency,
        checklist=checklist,
        email_subject=fill(email["subject"], fields),
        email_body=re.sub(r"\n{3,}", "\n\n", fill(email["body"], body_fields)),
        missing=summary.gaps,
    )


@dataclass
class _Summary:
    """What the data summary found, filled step by step: the lines, the missing columns and the numbers reused."""

    data: list[DataLine] = field(default_factory=list)
    gaps: list[MissingColumn] = field(default_factory=list)
    usage_bits: list[str] = field(default_factory=list)
    seats: tuple[Any, Any, float | None] = (None, None, None)  # active, purchased, share
    health: Any = None
    tickets: Any = None
    goals: tuple[Any, Any, str | None] = (None, None, None)  # defined, achieved, summary text
    roi: Any = None


def _agenda(lib: Mapping[str, Any]) -> list[AgendaItem]:
    minute = 0
    agenda: list[AgendaItem] = []
    for block in lib["agenda"]:
        agenda.append(
            AgendaItem(
                section=str(block["section"]), start_minute=minute, minutes=int(block["minutes"]),
                points=[str(p) for p in block["points"]],
            )
        )  # fmt: skip
        minute += int(block["minutes"])
    return agenda


_USAGE_COLUMNS = (
    ("dau_mau", "DAU/MAU"),
    ("core_actions_weekly", "core actions per week"),
    ("logins_per_week", "logins per week"),
    ("usage_trend", "usage trend"),
    ("login_trend", "login trend"),
)


def _usage(summary: _Summary, row: pd.Series[Any]) -> None:
    for column, label in _USAGE_COLUMNS:
        value = cell(row, column)
        if value is None:
            summary.gaps.append(missing(column, "the usage summary"))
            continue
        numeric = column in ("dau_mau", "core_actions_weekly", "logins_per_week")
        unit = "fraction" if column == "dau_mau" else "per week" if numeric else "label"
        shown = pct(float(value)) if column == "dau_mau" else str(value)
        number: float | str = float(value) if numeric else str(value)
        note = f"{column} (latest snapshot)"
        summary.data.append(DataLine(area="Usage", metric=label, value=number, unit=unit, shown=shown, note=note))
        summary.usage_bits.append(f"{label} {shown}")
    adopted, available = cell(row, "features_adopted"), cell(row, "features_available")
    if adopted is not None and available:
        summary.data.append(
            DataLine(area="Usage", metric="features adopted", value=adopted / available, unit="fraction",
                     shown=f"{adopted}/{available}", note="")
        )  # fmt: skip
    active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
    share = None if active is None or not bought else active / bought
    summary.seats = (active, bought, share)
    if share is not None:
        summary.data.append(
            DataLine(area="Usage", metric="seats active", value=share, unit="fraction",
                     shown=f"{active}/{bought} ({pct(share)})", note="")
        )  # fmt: skip


def _revenue(summary: _Summary, portfolio: Portfolio, name: str, currency: str) -> float | None:
    """The MRR line (now against three months before); returns the change as a fraction."""
    month = portfolio.as_of_month
    then = month - pd.DateOffset(months=3)
    mrr_now, mrr_then = _mrr_of(portfolio, name, month), _mrr_of(portfolio, name, then)
    change = None if mrr_now is None or not mrr_then else mrr_now / mrr_then - 1.0
    if mrr_now is not None or mrr_then is not None:
        shown = f"{money(mrr_then, currency)} -> {money(mrr_now, currency)}"
        note = f"{then:%Y-%m} -> {month:%Y-%m}" + ("" if change is None else f", change {change:+.1%}")
        summary.data.append(
            DataLine(area="Revenue", metric="MRR, 90 days", value=mrr_now, unit=f"{currency} per month", shown=shown,
                     note=note)
        )  # fmt: skip
    return change


def _health(
    summary: _Summary, portfolio: Portfolio, row: pd.Series[Any], lib: Mapping[str, Any]
) -> tuple[float | None, str | None]:
    """The health line and its trend over the lookback: (delta in points, improving/stable/declining)."""
    health = summary.health = cell(row, "health_score")
    if health is None:
        summary.gaps.append(
            missing("health signals", "the health trend", "the columns of the score play's missing data")
        )
        return None, None
    band, lookback = float(lib["health_trend_band"]), int(lib["lookback_days"])
    past = _health_history(portfolio, str(cell(row, "account")), lookback)
    delta: float | None = None
    trend: str | None = None
    now_text = f"{float(health):.1f} ({cell(row, 'health_tier')})"
    if past is None:
        note = f"no History snapshot in the last {lookback} days (each refresh adds one)"
    else:
        delta = float(health) - past[1]
        trend = "improving" if delta >= band else "declining" if delta <= -band else "stable"
        note = f"{trend}: {past[1]:.1f} on {past[0].isoformat()} -> {float(health):.1f} ({delta:+.1f} points)"
    summary.data.append(
        DataLine(area="Health", metric="health score", value=float(health), unit="0-100", shown=now_text, note=note)
    )
    return delta, trend


def _support_and_outcomes(summary: _Summary, row: pd.Series[Any], as_of: _dt.date) -> None:
    tickets = summary.tickets = cell(row, "support_tickets_30d")
    if tickets is None:
        summary.gaps.append(missing("support_tickets_30d", "the support load"))
    else:
        summary.data.append(
            DataLine(area="Support", metric="tickets opened, last 30 days", value=float(tickets), unit="tickets",
                     shown=str(tickets), note="")
        )  # fmt: skip
    defined, achieved = cell(row, "goals_defined"), cell(row, "goals_achieved")
    goals_summary = None
    if defined is None:
        summary.gaps.append(missing("goals_defined", "scoring the success-plan goals"))
    elif achieved is None:
        summary.gaps.append(missing("goals_achieved", "scoring the success-plan goals"))
    else:
        share = achieved / defined if defined else None
        goals_summary = f"{achieved} of {defined} goals achieved" + ("" if share is None else f" ({pct(share)})")
        summary.data.append(
            DataLine(area="Outcomes", metric="success-plan goals", value=share, unit="fraction", shown=goals_summary,
                     note="achieved / defined")
        )  # fmt: skip
    summary.goals = (defined, achieved, goals_summary)
    roi = summary.roi = cell(row, "roi_documented")
    if roi is not None:
        answer = "yes" if roi else "no"
        summary.data.append(
            DataLine(area="Outcomes", metric="ROI documented", value=answer, unit="yes/no", shown=answer, note="")
        )
    renewal = cell(row, "renewal_date")
    if renewal is not None:
        summary.data.append(
            DataLine(area="Contract", metric="renewal", value=renewal.isoformat(), unit="date",
                     shown=renewal.isoformat(), note=f"{(renewal - as_of).days} days")
        )  # fmt: skip


def _next_qbr(summary: _Summary, portfolio: Portfolio, row: pd.Series[Any], when: _dt.date) -> _dt.date | None:
    """The next QBR after this one, by the segment's cadence (engine spec "Touch Cadence by Tier")."""
    cadence = load_library("score")["cadence"]
    segment, _ = segment_of(portfolio, row)
    if segment is None:
        summary.gaps.append(missing("segment", "the next QBR date (or fill arr)"))
    months = None if segment is None else cadence.get(segment, {}).get("qbr_months")
    return None if months is None else (pd.Timestamp(when) + pd.DateOffset(months=int(months))).date()


def _fields(
    summary: _Summary,
    row: pd.Series[Any],
    when: _dt.date,
    next_qbr: _dt.date | None,
    trend: str | None,
    recommendations: list[ExpansionSignal],
    currency: str,
) -> dict[str, Any]:
    """The template fields of the checklist and the email."""
    year, q = quarter_of(when)
    ny, nq = (year + 1, 1) if q == 4 else (year, q + 1)
    champion, csm = cell(row, "champion"), cell(row, "csm")
    for column, value in (("champion", champion), ("csm", csm)):
        if value is None:
            summary.gaps.append(missing(column, "naming people in the checklist and email"))
    active, bought, seat_share = summary.seats
    defined, achieved, goals_summary = summary.goals
    health, roi = summary.health, summary.roi
    return {
        "company": str(cell(row, "account")),
        "name": champion,
        "champion": champion,
        "exec_sponsor": cell(row, "exec_sponsor"),
        "csm": csm,
        "sender": csm,
        "quarter": f"Q{q} {year}",
        "next_quarter": f"Q{nq} {ny}",
        "objective_target": _quarter_end(ny, nq).isoformat(),
        "followup_date": (when + _dt.timedelta(days=1)).isoformat(),
        "next_qbr": next_qbr.isoformat() if next_qbr else "none scheduled (no QBR for this segment)",
        "tickets_30d": summary.tickets,
        "goals_defined": defined,
        "goals_achieved": achieved,
        "goals_open": None if defined is None or achieved is None else defined - achieved,
        "goals_summary": goals_summary,
        "seats_active": active,
        "seats_purchased": bought,
        "seat_share": None if seat_share is None else pct(seat_share),
        "health_now": None if health is None else f"{float(health):.1f}",
        "health_trend": trend or (None if health is None else "no History trend yet"),
        "roi_documented": None if roi is None else ("yes" if roi else "no"),
        "usage_summary": ", ".join(summary.usage_bits) or None,
        "expansion_summary": "; ".join(
            f"{r.signal}: {money(r.upside, currency)}" for r in recommendations
        ) or "none found in the data",
    }  # fmt: skip


def _checklist(
    lib: Mapping[str, Any], when: _dt.date, as_of: _dt.date, fields: Mapping[str, Any]
) -> list[ChecklistItem]:
    return [
        ChecklistItem(
            item=str(c["item"]), offset_days=int(c["offset_days"]),
            due=when + _dt.timedelta(days=int(c["offset_days"])),
            days_left=(when + _dt.timedelta(days=int(c["offset_days"])) - as_of).days,
            detail=fill(str(c.get("detail", "")), fields),
        )
        for c in lib["checklist"]
    ]  # fmt: skip


def _body_fields(
    lib: Mapping[str, Any], summary: _Summary, fields: dict[str, Any], recommendations: list[ExpansionSignal]
) -> dict[str, Any]:
    """The email body's fields: the template fields plus achievements, up to three objectives and action items."""
    objectives_lib = cast(dict[str, str], lib["objectives"])
    picked: list[str] = []
    if fields["goals_open"]:
        picked.append(objectives_lib["goals"])
    seat_share = summary.seats[2]
    if seat_share is not None and seat_share < 0.8:
        picked.append(objectives_lib["adoption"])
    if summary.roi is False:
        picked.append(objectives_lib["roi"])
    if recommendations:
        fields["expansion_signal"] = recommendations[0].signal
        fields["expansion_play"] = recommendations[0].play
        picked.append(objectives_lib["expansion"])
    if not picked:
        picked.append(objectives_lib["default"])
    objectives = [f"{i}. {fill(t, fields)}" for i, t in enumerate(picked[:3], 1)]
    return {
        **fields,
        "achievements": "\n".join(_lines(list(lib["achievements"]), fields)) or "- [Goal 1]: [Result + metric]",
        "objectives": "\n".join(objectives),
        "action_items": "\n".join(fill(str(a), fields) for a in lib["action_items"]),
    }
