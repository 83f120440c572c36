"""The csxl-owned report sheets other than the refreshed ones (:mod:`csxl.book.refresh`), each built as a Plan:
an account's page, a play's result, the standalone report's at-risk table; and their sheet names.

Pure (Plan operations only): the use cases (:mod:`csxl.usecases`) apply these plans to a file, the Excel edge
(:mod:`csxl.excel.book`) to an open workbook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from csxl.book import layout
from csxl.book.plan import Chart, Plan
from csxl.book.render import SheetWriter, Styled, result_plan
from csxl.dashboard import Dashboard, at_risk_mask, dashboard_sections
from csxl.plays import PLAYS
from csxl.plays.base import PlayResult, Section
from csxl.portfolio import Portfolio

__all__ = [
    "ACCOUNT_SHEET_PREFIX",
    "PLAY_SHEET_PREFIX",
    "ReportResult",
    "account_plan",
    "account_sheet_name",
    "at_risk_plan",
    "at_risk_table",
    "play_plan",
    "play_sheet_name",
    "report_sections",
]

#: Sheets whose name starts with this are csxl's account pages (rewritten by ``csxl account``).
ACCOUNT_SHEET_PREFIX = "Acct "
#: Sheets whose name starts with this are csxl's play pages (rewritten by ``csxl COMMAND --write``).
PLAY_SHEET_PREFIX = "csxl "

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(prefix: str, text: str) -> str:
    """A legal, unique-enough sheet name: forbidden characters dropped, at most 31 characters."""
    clean = _BAD_SHEET_CHARS.sub("", text).strip().strip("'")
    return (prefix + clean)[:31].rstrip()


def account_sheet_name(account: str) -> str:
    """``Acct <account>``, cleaned to Excel's sheet-name rules (31 characters, no ``[]:*?/\\``)."""
    return _sheet_name(ACCOUNT_SHEET_PREFIX, account)


def play_sheet_name(command: str, account: str | None) -> str:
    """``csxl <command> <account>`` (or ``csxl <command>``) cleaned to Excel's sheet-name rules."""
    return _sheet_name(PLAY_SHEET_PREFIX, f"{command} {account}" if account else command)


def _mrr_history(portfolio: Portfolio, account: str) -> pd.DataFrame:
    rows = portfolio.mrr[portfolio.mrr["account"].astype(str).str.strip().str.casefold() == account.casefold()]
    monthly = rows.groupby("month", sort=True)["mrr"].sum()
    if monthly.empty:
        empty: pd.DataFrame = pd.DataFrame({"month": [], "mrr": []})
        return empty
    months = pd.date_range(monthly.index.min(), portfolio.as_of_month, freq="MS")
    full = monthly.reindex(months, fill_value=0.0) if len(months) else monthly
    out: pd.DataFrame = pd.DataFrame({"month": full.index, "mrr": full.to_numpy()})
    return out


def account_plan(portfolio: Portfolio, account: str) -> tuple[Plan, str]:
    """The account page: the score play (why this score, per-signal Red/Yellow/Green, playbook), renewal date, MRR
    history with a chart. Returns the plan and the sheet name."""
    row = portfolio.account(account)
    name = str(row["account"])
    sheet = account_sheet_name(name)
    result = PLAYS["score"].run(portfolio, name)
    writer = SheetWriter(sheet, after=layout.SHEET_DASHBOARD, widths={"A": 34.0, "B": 16.0, "C": 16.0, "D": 16.0})
    writer.title(f"Account: {name}", f"csxl account page, as of {portfolio.as_of.isoformat()}")
    renewal = row.get("renewal_date")
    writer.section(
        Section(
            "Renewal",
            rows=[
                ["Renewal date", pd.Timestamp(renewal).date() if pd.notna(renewal) else "not filled (Accounts)"],
                ["ARR", _blank_or(row.get("arr"), lambda v: Styled(float(v), "money"))],
                ["CSM", None if pd.isna(row.get("csm")) else str(row.get("csm"))],
            ],
        )
    )
    for section in result.report():
        writer.section(section)
    history = _mrr_history(portfolio, name)
    writer.line(["MRR history"], "section")
    writer.line(["Month", "MRR"], "header")
    first = writer.row
    for month, mrr in zip(history["month"], history["mrr"], strict=True):
        writer.line([pd.Timestamp(month).date(), Styled(float(mrr), "money")])
    last = writer.row - 1
    if last >= first:
        writer.charts.append(
            Chart(
                sheet,
                "mrr",
                "F3",
                "line",
                f"MRR of {name}",
                f"A{first}:A{last}",
                (f"B{first}:B{last}",),
                ("MRR",),
            )
        )
    return writer.plan(), sheet


def play_plan(result: PlayResult) -> tuple[Plan, str]:
    """A play's result as its own sheet after the Dashboard, and the sheet's name."""
    sheet = play_sheet_name(result.command, result.account)
    return result_plan(result, sheet, after=layout.SHEET_DASHBOARD), sheet


def at_risk_table(portfolio: Portfolio) -> pd.DataFrame:
    """Accounts in the at-risk tiers (see :func:`csxl.dashboard.at_risk_mask`), largest ARR first, with reasons."""

    table = portfolio.table
    mask = at_risk_mask(portfolio)
    cols = ["account", "segment", "arr", "csm", "renewal_date", "health_score", "health_tier", "main_risk"]
    frame = table.loc[mask.to_numpy(), [c for c in cols if c in table.columns]]
    ordered: pd.DataFrame = frame.sort_values("arr", ascending=False, na_position="last").reset_index(drop=True)
    return ordered


def _blank_or(value: Any, convert: Callable[[Any], Any]) -> Any:
    """``None`` for a missing value (None, NaN, NaT), else ``convert(value)``."""
    return None if value is None or bool(pd.isna(value)) else convert(value)


def report_sections(dash: Dashboard, risk: pd.DataFrame) -> tuple[list[Section], dict[str, Any]]:

    sections = dashboard_sections(dash)
    rows: list[list[Any]] = [
        [
            str(r["account"]),
            _blank_or(r.get("segment"), str),
            _blank_or(r.get("arr"), float),
            _blank_or(r.get("health_score"), lambda v: round(float(v), 1)),
            _blank_or(r.get("health_tier"), str),
            _blank_or(r.get("main_risk"), str),
            _blank_or(r.get("renewal_date"), lambda v: pd.Timestamp(v).date()),
        ]
        for r in risk.to_dict("records")
    ]
    sections.append(
        Section(
            "At-risk accounts (largest ARR first)",
            rows=rows,
            header=["Account", "Segment", "ARR", "Health", "Tier", "Main risk", "Renewal"],
        )
    )
    payload = {
        "dashboard": dash.model_dump(mode="json"),
        "at_risk": [
            dict(zip(["account", "segment", "arr", "health", "tier", "main_risk", "renewal"], r, strict=True))
            for r in rows
        ],
    }
    return sections, payload


def at_risk_plan(portfolio: Portfolio, dash: Dashboard) -> Plan:
    """The report's "At risk" sheet: the at-risk accounts, largest ARR first, with reasons."""
    writer = SheetWriter("At risk", widths={"A": 28.0, "B": 12.0, "C": 12.0, "D": 10.0, "E": 10.0, "F": 16.0})
    writer.title("At-risk accounts", f"largest ARR first, as of {portfolio.as_of.isoformat()}")
    sections, _ = report_sections(dash, at_risk_table(portfolio))
    writer.section(sections[-1])
    return writer.plan()


class ReportResult(PlayResult):
    """The report printed by ``csxl report --format md|text``: the dashboard's sections and the at-risk table."""

    parts: list[Any]

    def sections(self) -> list[Section]:
        return list(self.parts)
