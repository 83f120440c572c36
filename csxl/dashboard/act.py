"""Who to act on this week, by name: the at-risk accounts, the renewals of the next 30 days, and the data issues.

A founder reads counts to see the trend and names to pick up the phone. Every list is sorted so the first line is
the first call: at-risk accounts by ARR (largest first), renewals by days left (soonest first), data issues in sheet
and row order. Each list stops at :data:`ACT_ON_LIMIT` lines; the dashboard says how many more there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from csxl.cells import finite_or_none, is_blank
from csxl.dashboard.model import ACT_ON_LIMIT, RENEWAL_WINDOWS, ActLine, DataIssue
from csxl.errors import RowIssue

__all__ = ["act_on", "data_issues", "renewing_soon"]


def _text(value: Any) -> str | None:
    return None if is_blank(value) else str(value)


def _lines(frame: pd.DataFrame) -> list[ActLine]:
    out: list[ActLine] = []
    for r in frame.head(ACT_ON_LIMIT).to_dict("records"):
        days = finite_or_none(r["renewal_days"])
        out.append(
            ActLine(
                account=str(r["account"]),
                tier=_text(r["health_tier"]),
                score=finite_or_none(pd.to_numeric(r["health_score"], errors="coerce")),
                main_risk=_text(r["main_risk"]),
                arr=finite_or_none(r["arr_effective"]),
                csm=_text(r.get("csm")),
                renewal_days=None if days is None else int(days),
            )
        )
    return out


def act_on(live: pd.DataFrame) -> list[ActLine]:
    """Live at-risk accounts, largest ARR first (then by name)."""
    risky = live[live["at_risk"]]
    return _lines(risky.sort_values(["arr_effective", "account"], ascending=[False, True], na_position="last"))


def renewing_soon(live: pd.DataFrame) -> list[ActLine]:
    """Live accounts whose renewal falls in the first renewal window (0-30 days), soonest first."""
    _label, lo, hi = RENEWAL_WINDOWS[0]
    days = live["renewal_days"]
    due = live[(days >= lo) & (days <= hi)]
    return _lines(due.sort_values(["renewal_days", "account"], kind="stable"))


def data_issues(issues: Sequence[RowIssue]) -> list[DataIssue]:
    """The first :data:`ACT_ON_LIMIT` input issues as dashboard lines (value shown as text)."""
    return [
        DataIssue(
            sheet=i.sheet,
            row=i.row,
            column=i.column,
            value="" if i.value is None else str(i.value),
            rule=i.rule,
            effect=i.effect,
        )
        for i in issues[:ACT_ON_LIMIT]
    ]
