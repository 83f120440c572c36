"""Play 6, ``winback``: the win-back plan of a churned account: timing, approach, dated email sequence, when to stop.

Rules (engine spec Phase 7; texts are ``library/winback.json``):

* **Churned** means no MRR in the as-of month. Months after the as-of month are ignored. The churn date is the first
  month at 0 after the last month with MRR > 0 (its 1st day): ``churn_date = last positive month + 1 month``.
  An account with MRR in the as-of month raises :class:`InputError` (it has not churned); so does one with no MRR
  rows, or none above 0 (there is no churn date to read).
* **Days since churn** ``= as_of - churn_date``. The timing row is the first whose upper edge holds it:
  0-30, 31-90, 91-180, 181-365 days, then ">365: remove from active campaigns" (the spec's edges overlap at 30, 90,
  180 and 365; csxl puts each edge day in the earlier row).
* **Emails**: day 7, 30 and 90 after the churn date, dated ``churn_date + day``; the first is filled for the churn
  reason (the spec's product / value / price lines; Financial reads as price; other reasons keep the generic
  "[specific improvement]" text). ``status`` is past / today / upcoming against the as-of date.
* **Stop** on ``churn_date + 365`` days; the third email goes out only with a major release.
* Lost ARR = 12 x the MRR of the last paying month.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from csxl.errors import InputError
from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import Item, MissingColumn, cell, fill, missing, missing_section, money_cell
from csxl.portfolio import Portfolio
from csxl.sections import Cell

__all__ = ["EmailStep", "TimingRow", "WinbackResult", "churn_date", "winback_plan"]


class TimingRow(Item):
    """A row of the win-back timing table; ``current`` marks the account's row."""

    window: str
    approach: str
    success_rate: str
    current: bool


class EmailStep(Item):
    """One email of the sequence: day after churn, send date, status against as-of, subject and filled body."""

    number: int
    label: str
    day: int
    date: _dt.date
    status: str
    subject: str
    body: str


class WinbackResult(PlayResult):
    """Play 6: churn date, time since churn, approach and success rate, dated emails, when to stop."""

    last_paid_month: _dt.date
    last_mrr: float
    lost_arr: float
    currency: str
    churn_date: _dt.date
    days_since_churn: int
    churn_reason: str | None
    window: str
    approach: str
    success_rate: str
    in_campaign: bool
    stop_date: _dt.date
    stop_rule: str
    timing: list[TimingRow]
    emails: list[EmailStep]
    missing: list[MissingColumn]

    def sections(self) -> list[Section]:
        head: list[list[Cell]] = [
            ["Churn date", self.churn_date],
            ["Last paying month", self.last_paid_month.strftime("%Y-%m")],
            ["Lost ARR", money_cell(self.lost_arr, self.currency)],
            ["Days since churn", self.days_since_churn],
            ["Churn reason", self.churn_reason],
            ["Window", self.window],
            ["Approach", self.approach],
            ["Expected success rate", self.success_rate],
            ["In active campaign", self.in_campaign],
            ["Stop on", self.stop_date],
        ]
        timing: list[list[Cell]] = [
            [t.window, t.approach, t.success_rate, "<- now" if t.current else ""] for t in self.timing
        ]
        emails: list[list[Cell]] = [[e.label, e.date, e.status, e.subject] for e in self.emails]
        out = [
            Section("Win-back", head),
            Section("Timing", timing, ("time since churn", "approach", "success rate", "")),
            Section("Email sequence", emails, ("email", "send on", "status", "subject")),
        ]
        out += [Section(f"{e.label}: {e.subject}", text=e.body) for e in self.emails]
        out.append(Section("When to stop", [[self.stop_rule], ["Stop date", self.stop_date]]))
        out.append(missing_section(self.missing))
        return out


def churn_date(portfolio: Portfolio, name: str) -> tuple[_dt.date, _dt.date, float]:
    """(churn date, last paying month, its MRR) of a churned account, read from the MRR sheet up to the as-of month.

    Raises :class:`InputError` when the account has MRR in the as-of month, no MRR rows, or never MRR > 0.
    """
    month = portfolio.as_of_month
    mrr = portfolio.mrr
    mine = mrr[(mrr["account"] == name) & (mrr["month"] <= month)] if not mrr.empty else mrr
    if mine.empty:
        raise InputError("account", name, "an account with rows on the MRR sheet (the churn date comes from MRR)")
    by_month = mine.groupby("month")["mrr"].sum()
    paying = by_month[by_month > 0]
    if paying.empty:
        raise InputError("account", name, "an account that paid at some point (MRR > 0 in a month)")
    last = pd.Timestamp(paying.index.max())
    if last == month:
        rule = f"a churned account with no MRR in {month:%Y-%m} (it has not churned: MRR {paying.iloc[-1]:,.2f})"
        raise InputError("account", name, rule)
    churned = last + pd.DateOffset(months=1)
    return pd.Timestamp(churned).date(), last.date(), float(paying.loc[last])


def _emails(lib: Mapping[str, Any], churned: _dt.date, as_of: _dt.date, fields: Mapping[str, Any]) -> list[EmailStep]:
    """The sequence's e-mails dated from the churn date, filled, each past / today / upcoming."""
    emails: list[EmailStep] = []
    for e in lib["emails"]:
        when = churned + _dt.timedelta(days=int(e["day"]))
        status = "past" if when < as_of else "today" if when == as_of else "upcoming"
        body = re.sub(r"\n{3,}", "\n\n", fill(str(e["body"]), fields))
        emails.append(
            EmailStep(
                number=int(e["number"]), label=str(e["label"]), day=int(e["day"]), date=when, status=status,
                subject=fill(str(e["subject"]), fields), body=body,
            )
        )  # fmt: skip
    return emails


@register("winback", 6, "Win-back plan", needs_account=True, result=WinbackResult)
def winback_plan(portfolio: Portfolio, account: str, *, library: Mapping[str, Any] | None = None) -> WinbackResult:
    """Play 6 (``"Win-back plan for [account]"``): timing row, approach, success rate, dated emails, stop date.

    Raises :class:`InputError` for an unknown account, or one that has not churned (MRR in the as-of month).
    """
    row = portfolio.account(account)
    name = str(cell(row, "account"))
    lib = load_library("winback", library)
    churned, last_month, last_mrr = churn_date(portfolio, name)
    as_of = portfolio.as_of
    days = (as_of - churned).days
    gaps: list[MissingColumn] = []

    rows = cast(list[dict[str, Any]], lib["timing"])
    pick = next((i for i, r in enumerate(rows) if r["max_days"] is not None and days <= int(r["max_days"])), None)
    pick = len(rows) - 1 if pick is None else pick
    timing = [
        TimingRow(window=str(r["window"]), approach=str(r["approach"]), success_rate=str(r["success_rate"]),
                  current=i == pick)
        for i, r in enumerate(rows)
    ]  # fmt: skip
    current = rows[pick]

    reason = cell(row, "churn_reason")
    reasons = cast(dict[str, Any], lib["reasons"])
    info = reasons.get(str(reason)) if reason is not None else None
    if reason is None:
        gaps.append(missing("churn_reason", "tailoring email 1 to the churn reason"))
    line_key = None if info is None else info.get("line")
    champion, csm = cell(row, "champion"), cell(row, "csm")
    if champion is None:
        gaps.append(missing("champion", "addressing the emails"))
    if csm is None:
        gaps.append(missing("csm", "signing the emails"))
    opening = lib["unknown_opening"] if info is None else info.get("opening", lib["unknown_opening"])
    fields = {
        "name": champion or "[Name]",
        "sender": csm or "[Name]",
        "company": name,
        "churn_reason_text": "[specific churn reason]" if info is None else str(info["text"]),
        "reason_opening": fill(str(opening), {"company": name}),
        "reason_line": "" if line_key is None else str(cast(dict[str, str], lib["reason_lines"])[line_key]),
    }
    emails = _emails(lib, churned, as_of, fields)
    stop_after = int(lib["stop_after_days"])
    return WinbackResult(
        command="winback",
        account=name,
        as_of=as_of,
        conventions=[
            "Churn date = the 1st of the first month at 0 after the last month with MRR > 0 (MRR sheet).",
            "Timing edges: 30, 90, 180 and 365 days belong to the earlier row.",
            "Lost ARR = 12 x the MRR of the last paying month.",
            "[...] marks text to write yourself (the spec's placeholders).",
        ],
        last_paid_month=last_month,
        last_mrr=last_mrr,
        lost_arr=12.0 * last_mrr,
        currency=portfolio.settings.currency,
        churn_date=churned,
        days_since_churn=days,
        churn_reason=None if reason is None else str(reason),
        window=str(current["window"]),
        approach=str(current["approach"]),
        success_rate=str(current["success_rate"]),
        in_campaign=bool(current["active"]),
        stop_date=churned + _dt.timedelta(days=stop_after),
        stop_rule=str(lib["stop_rule"]),
        timing=timing,
        emails=emails,
        missing=gaps,
    )
