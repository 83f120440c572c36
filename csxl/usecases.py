"""The use cases: what a person asks csxl to do with a workbook file, each one function.

New workbook, refresh, validate, an account page, a play (printed and, if asked, written as a sheet), the report
(printed or as its own workbook), the demo summary and the spec's documents. Each reads through
:mod:`csxl.book.read`, computes with the core and the plays, and writes through the Plan adapter
(:func:`csxl.book.xlsx.apply_plan`): atomic replace, Excel lock-file check, nothing the user owns is touched. The
command line (:mod:`csxl.cli`) only parses arguments, calls one of these and prints; the Excel buttons
(:mod:`csxl.excel.macros`) run the same Plans on an open workbook.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from csxl.backfill import backfill_months, past_accounts
from csxl.book import layout
from csxl.book.actions import actions_plan
from csxl.book.dashboard_sheet import dashboard_plan
from csxl.book.imports import usage_from_grid
from csxl.book.plan import Plan
from csxl.book.read import BookData, read_book, read_sheet_grid, validate_book
from csxl.book.refresh import RefreshResult, cohorts_plan, refresh, refreshed_at
from csxl.book.safety import real_path, refuse_if_open, replacing
from csxl.book.sheets import ReportResult, account_plan, at_risk_plan, at_risk_table, play_plan, report_sections
from csxl.book.template import blank_workbook, build_template
from csxl.book.xlsx import apply_plan
from csxl.cohorts import cohort_grr, cohort_nrr
from csxl.dashboard import history_snapshot, tier_summary, weekly_dashboard
from csxl.demo import demo_portfolio
from csxl.errors import FileError, InputError, RowIssue
from csxl.plays import PLAYS
from csxl.plays.base import PlayResult, render_markdown, render_text
from csxl.plays.measures import SpecMeasures, spec_measures
from csxl.plays.onboarding_metrics import OnboardingMetrics, onboarding_metrics
from csxl.plays.playbook import Playbook, playbook_document
from csxl.plays.schemas import write_schemas
from csxl.plays.support import Priority, support_priority
from csxl.plays.survey_report import SurveyReport, survey_routing
from csxl.portfolio import Portfolio
from csxl.report_models import BackfillOutput
from csxl.revenue import mrr_movements

__all__ = [
    "BackfillResult",
    "FileBook",
    "Workbook",
    "account_sheet",
    "backfill_history",
    "demo_summary",
    "measures_report",
    "new_workbook",
    "onboarding_report",
    "play",
    "playbook",
    "refresh",
    "report_text",
    "run_play",
    "support_ticket",
    "survey_report",
    "validate",
    "write_account_sheet",
    "write_report",
    "write_schemas",
]


#: Weekly History snapshots a demo workbook carries before its as-of date.
DEMO_WEEKS = 8


def new_target(path: str | Path, force: bool) -> Path:
    """Where a new workbook goes: an ``.xlsx`` name (else :class:`InputError`), not an existing file unless
    ``force``, not open in Excel (:class:`FileError`)."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise InputError("path", str(path), "a file name ending in .xlsx")
    if target.exists() and not force:
        raise FileError(str(target), "already exists; pass --force to overwrite it")
    refuse_if_open(target, force)
    return target


def new_workbook(
    path: str | Path,
    *,
    as_of: _dt.date | None = None,
    currency: str = "USD",
    force: bool = False,
) -> RefreshResult:
    """Build a new, empty workbook at ``path`` (the demo is :func:`csxl.demo_book.new_demo_workbook`).

    Refuses to overwrite an existing file unless ``force``. The file appears complete or not at all. It is not
    refreshed: there is nothing to compute yet (Dashboard and Cohorts say "run csxl refresh").
    """

    target = new_target(path, force)
    with replacing(target, suffix=".xlsx") as tmp:
        build_template(tmp, as_of=as_of, currency=currency)
        apply_plan(tmp, actions_plan(), currency=currency)  # the Lite buttons (openpyxl cannot draw shapes)
    return RefreshResult(target, as_of or _dt.date.today(), 0, 0, 0, refreshed_at(), ())


def _portfolio(path: str | Path, as_of: _dt.date | None) -> tuple[Any, Portfolio]:

    book = read_book(path)
    return book, book.to_portfolio(as_of)


def validate(path: str | Path) -> list[RowIssue]:
    """Every bad input cell of the workbook at ``path`` (sheet, row, column, value, rule); empty when none."""
    return validate_book(path)


class Workbook(Protocol):
    """Where a use case reads and writes: a file (:class:`FileBook`) or a workbook open in Excel
    (:class:`csxl.excel.book.OpenBook`). Both give the same tables and take the same Plans."""

    def data(self) -> BookData:
        """The workbook's sheets read as tables (Settings, Accounts, MRR, Surveys, History)."""
        ...

    def apply(self, plan: Plan, currency: str) -> None:
        """Write a Plan's operations into the workbook (money in ``currency``)."""
        ...


@dataclass(frozen=True)
class FileBook:
    """A workbook file: read with :func:`csxl.book.read.read_book`, written by :func:`csxl.book.xlsx.apply_plan`
    (atomic replace; refused while Excel has the file open unless ``force``)."""

    path: str | Path
    force: bool = False

    def data(self) -> BookData:
        return read_book(self.path)

    def apply(self, plan: Plan, currency: str) -> None:
        apply_plan(self.path, plan, force=self.force, currency=currency)


def account_sheet(book: Workbook, account: str, *, as_of: _dt.date | None = None) -> str:
    """Write (or rewrite) the account's page (:func:`csxl.book.sheets.account_plan`); returns the sheet name."""
    portfolio = book.data().to_portfolio(as_of)
    plan, sheet = account_plan(portfolio, account)
    book.apply(plan, portfolio.settings.currency)
    return sheet


def play(
    book: Workbook,
    command: str,
    account: str | None = None,
    *,
    as_of: _dt.date | None = None,
    write: bool = False,
    **options: Any,
) -> tuple[PlayResult, str | None]:
    """Run a registered play (``risk``, ``qbr``, ``portfolio`` ...); with ``write``, also write its result as a
    ``csxl ...`` sheet in the workbook's currency. Returns the result and the sheet written (``None`` without)."""
    key = command.strip().lower()
    if key not in PLAYS:
        raise InputError("command", command, f"one of {', '.join(sorted(PLAYS))}")
    registered = PLAYS[key]
    if registered.needs_account and not account:
        raise InputError("account", account, f"an account name (the {key} play is about one account)")
    portfolio = book.data().to_portfolio(as_of)
    if registered.needs_account:
        result = registered.run(portfolio, account, **options)
    else:
        result = registered.run(portfolio, **options)
    if not write:
        return result, None
    plan, sheet = play_plan(result)
    book.apply(plan, portfolio.settings.currency)
    return result, sheet


def write_account_sheet(path: str | Path, account: str, *, as_of: _dt.date | None = None, force: bool = False) -> str:
    """:func:`account_sheet` on the workbook file at ``path``."""
    return account_sheet(FileBook(path, force), account, as_of=as_of)


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
    """:func:`play` on the workbook file at ``path``."""
    return play(FileBook(path, force), command, account, as_of=as_of, write=write, **options)


def report_text(path: str | Path, fmt: str, *, as_of: _dt.date | None = None) -> str:
    """The report printed: ``md`` (Markdown), ``json`` or ``text``."""

    _, portfolio = _portfolio(path, as_of)
    sections, payload = report_sections(weekly_dashboard(portfolio), at_risk_table(portfolio))
    if fmt == "json":
        payload["as_of"] = portfolio.as_of.isoformat()
        return json.dumps(payload, indent=2, default=str) + "\n"
    result = ReportResult(command="report", account=None, as_of=portfolio.as_of, parts=sections)
    return render_markdown(result) if fmt == "md" else render_text(result)


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
    if real_path(target).absolute() == real_path(path).absolute() or (
        target.exists() and Path(path).exists() and os.path.samefile(target, path)
    ):
        raise InputError("out", str(out), "a file other than the workbook it reports on (it would replace it)")
    say("reading the workbook")
    _, portfolio = _portfolio(path, as_of)
    with replacing(target, suffix=".xlsx") as tmp:
        blank_workbook(tmp, layout.SHEET_DASHBOARD)
        say("dashboard and cohorts")
        dash = weekly_dashboard(portfolio)
        plan = dashboard_plan(portfolio, refreshed_at(), dash=dash)
        plan.ops.extend(cohorts_plan(portfolio).ops)
        plan.ops.extend(at_risk_plan(portfolio, dash).ops)
        risk = at_risk_table(portfolio)
        for i, name in enumerate(risk["account"].astype(str)):
            if i % 10 == 0:
                say(f"account pages {i + 1}-{min(i + 10, len(risk))} of {len(risk)}")
            page, _sheet = account_plan(portfolio, name)
            plan.ops.extend(page.ops)
        say("writing")
        apply_plan(tmp, plan, force=True, currency=portfolio.settings.currency)
    return target


def demo_summary(accounts: int, seed: int) -> dict[str, Any]:
    """The seeded demo portfolio summarised: live accounts, ARR and health by tier, 12-month cohort NRR/GRR, the last
    month's MRR bridge, and the ten lowest health scores (``worst``: records)."""
    data = demo_portfolio(accounts, seed=seed)
    portfolio = Portfolio.from_demo(data)
    summary = tier_summary(portfolio)
    summary["seed"], summary["as_of"] = seed, data.as_of.isoformat()
    summary["nrr_12m"] = round(cohort_nrr(portfolio.mrr_rows, data.as_of), 4)
    summary["grr_12m"] = round(cohort_grr(portfolio.mrr_rows, data.as_of), 4)
    last = mrr_movements(portfolio.mrr_rows).iloc[-1]
    bridge = ("start_mrr", "new", "expansion", "contraction", "churned", "reactivation", "end_mrr")
    summary["last_month"] = {"month": pd.Timestamp(str(last.name)).date(), **{k: float(last[k]) for k in bridge}}
    table = portfolio.table.join(portfolio.facts)
    columns = ["account", "segment_effective", "arr_effective", "health_score", "health_tier", "main_risk"]
    worst = table.loc[table["live"], columns].sort_values("health_score", kind="stable").head(10)
    summary["worst"] = worst.rename(columns={"segment_effective": "segment", "arr_effective": "arr"})
    return summary


def playbook(path: str | Path, as_of: _dt.date | None = None) -> Playbook:
    """The spec's playbook JSON document, filled from the workbook at ``path``."""
    return playbook_document(_portfolio(path, as_of)[1])


def survey_report(path: str | Path, as_of: _dt.date | None = None) -> SurveyReport:
    """NPS / CSAT / CES report with follow-up routing, from the workbook at ``path``."""
    return survey_routing(_portfolio(path, as_of)[1])


def onboarding_report(path: str | Path, as_of: _dt.date | None = None) -> OnboardingMetrics:
    """The portfolio's onboarding metrics against the spec's targets, from the workbook at ``path``."""
    return onboarding_metrics(_portfolio(path, as_of)[1])


def measures_report(path: str | Path, as_of: _dt.date | None = None) -> SpecMeasures:
    """What the spec measures (touch cadence, engagement levels, advisory board, expansion rate, LTV, NPS coverage),
    from the workbook at ``path``."""
    return spec_measures(_portfolio(path, as_of)[1])


def support_ticket(text: str, segment: str | None = None, vip: bool = False) -> Priority:
    """Priority (P1-P4), SLA targets and routing of a support ticket from its text."""
    return support_priority(text, segment, vip)


@dataclass(frozen=True)
class BackfillResult:
    """What :func:`backfill_history` wrote: the month ends given a snapshot, the rows added, the refresh after it."""

    months: tuple[_dt.date, ...]
    rows: int
    refreshed: RefreshResult

    def output(self) -> BackfillOutput:
        """What ``csxl backfill --json`` prints."""
        return BackfillOutput(months=list(self.months), rows=self.rows, history_rows=self.refreshed.history_rows,
                              as_of=self.refreshed.as_of)  # fmt: skip


def past_snapshots(book: BookData, today: Portfolio, path: str | Path, limit: int | None) -> pd.DataFrame:
    """The History rows of each month end the imported series cover before ``today``'s History began
    (:mod:`csxl.backfill`), scored as a refresh on that date would score them."""
    frames = [history_snapshot(portfolio) for portfolio in past_portfolios(book, today, path, limit)]
    return pd.concat(frames, ignore_index=True) if frames else today.history.iloc[:0]


def past_portfolios(
    book: BookData, today: Portfolio, path: str | Path, limit: int | None, *, before_history: bool = True
) -> Iterator[Portfolio]:
    """The Portfolio of each past month end the imported series cover (MRR rows, the Usage sheet), on the Accounts
    table as it stood then (:func:`csxl.backfill.past_accounts`); ``before_history``: only the month ends before
    History began (the backfill), else every one before ``today``'s month (the churn model's snapshots)."""
    inputs = book.input_tables()
    usage = usage_from_grid(read_sheet_grid(path, layout.SHEET_USAGE))
    series = [*pd.to_datetime(inputs[layout.SHEET_MRR]["month"], errors="coerce").dropna()]
    if usage is not None:
        series += list(usage["month"])
    taken = today.history["as_of"].unique() if before_history else ()
    months = backfill_months(series, today.as_of, taken, limit)
    settings = book.settings.model_copy(update={"as_of": None})  # each snapshot is dated its own month end
    for month_end in months:
        accounts = past_accounts(inputs[layout.SHEET_ACCOUNTS], usage, inputs[layout.SHEET_SURVEYS], month_end)
        yield Portfolio.from_tables(
            accounts, inputs[layout.SHEET_MRR], inputs[layout.SHEET_SURVEYS], settings=settings, as_of=month_end,
            first_row=layout.ACCOUNTS.first_data_row,
        )  # fmt: skip


def backfill_history(
    path: str | Path, *, as_of: _dt.date | None = None, months: int | None = None, force: bool = False
) -> BackfillResult:
    """``csxl backfill``: a History snapshot at each past month end the imported series cover (MRR rows, the Usage
    sheet), as if a refresh had run on that day with what was known then (:mod:`csxl.backfill`); then the refresh
    itself. A month end History already has keeps its snapshot; ``months``: only the latest so many."""
    if months is not None and (isinstance(months, bool) or not 1 <= months <= 600):
        raise InputError("months", months, "a whole number 1..600")
    written: list[pd.DataFrame] = []

    def snapshots(book: BookData, today: Portfolio) -> pd.DataFrame:
        written.append(past_snapshots(book, today, path, months))
        return written[0]

    result = refresh(path, as_of=as_of, force=force, backfill=snapshots)
    added = written[0] if written else pd.DataFrame()
    dates = sorted({pd.Timestamp(d).date() for d in added.get("as_of", [])})
    return BackfillResult(months=tuple(dates), rows=len(added), refreshed=result)
