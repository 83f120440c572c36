"""Workbook workflows behind the ``csxl`` commands: new, account sheet, play sheet, report.

Each one reads through :mod:`csxl.book.read`, computes with the core and the plays, and writes through the same Plan
adapter as ``csxl refresh`` (:func:`csxl.book.xlsx.apply_plan`): atomic replace, Excel lock-file check, nothing the
user owns is touched.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from csxl.book import layout
from csxl.book.dashboard_sheet import dashboard_plan
from csxl.book.plan import Chart, Plan
from csxl.book.read import read_book
from csxl.book.refresh import RefreshResult, cohorts_plan, refresh, refreshed_at
from csxl.book.render import SheetWriter, Styled, result_plan
from csxl.book.safety import refuse_if_open, replacing
from csxl.book.template import build_template
from csxl.book.xlsx import apply_plan
from csxl.dashboard import Dashboard, at_risk_mask, dashboard_sections, weekly_dashboard
from csxl.demo import demo_portfolio
from csxl.errors import FileError, InputError
from csxl.plays import PLAYS
from csxl.plays.base import PlayResult, Section, render_markdown, render_text
from csxl.portfolio import Portfolio

__all__ = [
    "ACCOUNT_SHEET_PREFIX",
    "account_sheet_name",
    "at_risk_table",
    "new_workbook",
    "play_sheet_name",
    "report_text",
    "run_play",
    "write_account_sheet",
    "write_report",
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


def new_workbook(
    path: str | Path,
    *,
    demo: bool = False,
    accounts: int = 250,
    seed: int = 7,
    as_of: _dt.date | None = None,
    currency: str = "USD",
    force: bool = False,
) -> RefreshResult:
    """Build a new workbook (optionally with the seeded demo portfolio), refresh it, and move it to ``path``.

    Refuses to overwrite an existing file unless ``force``. The file appears complete or not at all. An empty
    template (no ``demo``) is not refreshed: there is nothing to compute yet.
    """

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise InputError("path", str(path), "a file name ending in .xlsx")
    if target.exists() and not force:
        raise FileError(str(target), "already exists; pass --force to overwrite it")
    refuse_if_open(target, force)
    data = demo_portfolio(accounts, seed=seed, as_of=as_of) if demo else None
    with replacing(target, suffix=".xlsx") as tmp:
        build_template(tmp, demo=data, as_of=as_of, currency=currency)
        result = refresh(tmp, force=True) if data is not None else None
    if result is None:  # an empty template: nothing to compute; Dashboard and Cohorts say "run csxl refresh"
        return RefreshResult(target, as_of or _dt.date.today(), 0, 0, 0, refreshed_at(), ())
    return RefreshResult(
        path=target,
        as_of=result.as_of,
        accounts=result.accounts,
        scored=result.scored,
        history_rows=result.history_rows,
        refreshed_at=result.refreshed_at,
        issues=result.issues,
    )


def _portfolio(path: str | Path, as_of: _dt.date | None) -> tuple[Any, Portfolio]:

    book = read_book(path)
    return book, book.to_portfolio(as_of)


def _mrr_history(portfolio: Portfolio, account: str) -> pd.DataFrame:
    rows = portfolio.mrr[portfolio.mrr["account"].astype(str).str.strip().str.casefold() == account.casefold()]
    monthly = rows.groupby("month", sort=True)["mrr"].sum()
    if monthly.empty:
        empty: pd.DataFrame = pd.DataFrame({"month": [], "mrr": []})
        return empty
    months = pd.date_range(monthly.index.min(), portfolio.as_of_ts.to_period("M").to_timestamp(), freq="MS")
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
    for section in result.sections():
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


def write_account_sheet(path: str | Path, account: str, *, as_of: _dt.date | None = None, force: bool = False) -> str:
    """Write (or rewrite) the account's page in the workbook at ``path``; returns the sheet name."""

    _, portfolio = _portfolio(path, as_of)
    plan, sheet = account_plan(portfolio, account)
    apply_plan(path, plan, force=force, currency=portfolio.settings.currency)
    return sheet


def run_play(
    command: str,
    path: str | Path,
    account: str | None = None,
    *,
    as_of: _dt.date | None = None,
    write: bool = False,
    force: bool = False,
    **options: Any,
) -> tuple[PlayResult, str | None]:
    """Run a registered play on the workbook at ``path``; with ``write``, also write its result as a csxl sheet there
    (in the workbook's currency). Returns the result and the sheet written (``None`` without ``write``)."""
    if command not in PLAYS:
        raise InputError("command", command, f"one of {', '.join(sorted(PLAYS))}")
    play = PLAYS[command]
    if play.needs_account and not account:
        raise InputError("account", account, f"an account name (csxl {command} ACCOUNT --book PATH)")
    _, portfolio = _portfolio(path, as_of)
    result = play.run(portfolio, account, **options) if play.needs_account else play.run(portfolio, **options)
    if not write:
        return result, None
    sheet = play_sheet_name(result.command, result.account)
    plan = result_plan(result, sheet, after=layout.SHEET_DASHBOARD)
    apply_plan(path, plan, force=force, currency=portfolio.settings.currency)
    return result, sheet


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


def _report_sections(dash: Dashboard, risk: pd.DataFrame) -> tuple[list[Section], dict[str, Any]]:

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


def report_text(path: str | Path, fmt: str, *, as_of: _dt.date | None = None) -> str:
    """The report printed: ``md`` (Markdown), ``json`` or ``text``."""

    _, portfolio = _portfolio(path, as_of)
    sections, payload = _report_sections(weekly_dashboard(portfolio), at_risk_table(portfolio))
    if fmt == "json":
        payload["as_of"] = portfolio.as_of.isoformat()
        return json.dumps(payload, indent=2, default=str) + "\n"
    result = _ReportResult(command="report", account=None, as_of=portfolio.as_of, parts=sections)
    return render_markdown(result) if fmt == "md" else render_text(result)


class _ReportResult(PlayResult):
    parts: list[Any]

    def sections(self) -> list[Section]:
        return list(self.parts)


def write_report(
    path: str | Path,
    out: str | Path,
    *,
    as_of: _dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """A standalone report workbook: Dashboard, Cohorts, At risk, and one page per at-risk account."""

    say = progress or (lambda _msg: None)
    target = Path(out)
    if target.suffix.lower() != ".xlsx":
        raise InputError("out", str(out), "a file name ending in .xlsx")
    say("reading the workbook")
    _, portfolio = _portfolio(path, as_of)
    with replacing(target, suffix=".xlsx") as tmp:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = layout.SHEET_DASHBOARD
        wb.save(tmp)
        say("dashboard and cohorts")
        dash = weekly_dashboard(portfolio)
        plan = dashboard_plan(portfolio, refreshed_at(), dash=dash)
        plan.ops.extend(cohorts_plan(portfolio).ops)
        risk = at_risk_table(portfolio)
        writer = SheetWriter("At risk", widths={"A": 28.0, "B": 12.0, "C": 12.0, "D": 10.0, "E": 10.0, "F": 16.0})
        writer.title("At-risk accounts", f"largest ARR first, as of {portfolio.as_of.isoformat()}")
        sections, _ = _report_sections(dash, risk)
        writer.section(sections[-1])
        plan.ops.extend(writer.plan().ops)
        for i, name in enumerate(risk["account"].astype(str)):
            if i % 10 == 0:
                say(f"account pages {i + 1}-{min(i + 10, len(risk))} of {len(risk)}")
            page, _sheet = account_plan(portfolio, name)
            plan.ops.extend(page.ops)
        say("writing")
        apply_plan(tmp, plan, force=True, currency=portfolio.settings.currency)
    return target
