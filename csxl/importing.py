"""The import use cases (``csxl import KIND``): files -> the data edge -> the pure rules -> a Plan -> the workbook,
then a refresh, each under the workbook's lock as one turn (a refresh or another import waits).

Beside :mod:`csxl.usecases` on the same floor; the command line calls both.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from csxl.billing import (
    BillingRules,
    explain_invoice_mrr,
    explain_mrr,
    invoice_lines_to_mrr,
    subscriptions_to_mrr,
)
from csxl.book import layout
from csxl.book.imports import (
    accounts_import_plan,
    billing_sheet_plan,
    mrr_import_plan,
    new_accounts_plan,
    support_sheet_plan,
    surveys_import_plan,
    usage_sheet_plan,
)
from csxl.book.matching import existing_accounts, resolve_accounts
from csxl.book.plan import Plan
from csxl.book.read import BookData, read_book
from csxl.book.refresh import RefreshResult, refresh
from csxl.book.safety import workbook_lock
from csxl.book.xlsx import apply_plan
from csxl.data.crm import read_crm
from csxl.data.events import ENGINES, PRESETS, EventMapping, read_usage
from csxl.data.invoices import is_invoice_file, read_invoice_lines
from csxl.data.subscriptions import read_subscriptions
from csxl.data.surveys import read_surveys
from csxl.data.tickets import read_tickets
from csxl.errors import FileError, InputError, RowIssue
from csxl.import_reports import AccountsImport, EventsReport, ImportReport, SurveysImport, TicketsImport, match_rate
from csxl.usage import account_usage_columns

__all__ = [
    "EVENT_ENGINES",
    "EVENT_PRESETS",
    "AccountsImport",
    "EventsReport",
    "ImportReport",
    "SurveysImport",
    "TicketsImport",
    "event_mapping",
    "import_accounts",
    "import_billing",
    "import_events",
    "import_surveys",
    "import_tickets",
    "load_mapping",
    "match_rate",
]


def _write_and_refresh(
    path: str | Path, plan: Plan, book: BookData, *, as_of: _dt.date | None, force: bool, then_refresh: bool = True
) -> RefreshResult | None:
    """The import's writes into the workbook (atomic), then the refresh every import ends with (``then_refresh``
    false: none, for a caller running several imports and one refresh after them, as the demo does)."""
    apply_plan(path, plan, force=force, currency=book.settings.currency)
    return refresh(path, as_of=as_of, force=force) if then_refresh else None


def _json_object(path: str | Path, what: str) -> dict[str, Any]:
    """A ``--mapping`` file's JSON object; :class:`FileError` when it cannot be read, :class:`InputError` naming
    ``what`` it should be when it is not a JSON object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileError(str(path), f"cannot read the mapping ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise InputError("mapping", str(path), f"{what} ({exc})") from None
    if not isinstance(data, dict):
        raise InputError("mapping", str(path), what)
    return data


def load_mapping(path: str | Path) -> dict[str, str]:
    """A column mapping file (JSON object: field -> the file's heading) for ``csxl import --mapping``."""
    data = _json_object(path, "a JSON object of field -> heading")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InputError("mapping", str(path), "a JSON object of field -> heading, both text")
    return dict(data)


@dataclass
class _BillingRead:
    source: str
    rows_read: dict[str, int]
    rows_used: int
    issues: list[RowIssue]
    skipped: int
    rows: pd.DataFrame
    explained: pd.DataFrame


def _billing(
    files: Sequence[str | Path], mapping: Mapping[str, str] | None, currency: str, when: _dt.date, rules: BillingRules
) -> _BillingRead:
    """Billing files (all subscriptions, or all invoice lines) read, turned into MRR rows and explained."""
    kinds = {Path(f).name: is_invoice_file(f) for f in files}
    if len(set(kinds.values())) > 1:
        invoices = ", ".join(name for name, kind in kinds.items() if kind)
        raise InputError("billing files", invoices, "files of one kind per import (these are invoices, the rest not)")
    if any(kinds.values()):
        lines = read_invoice_lines(files, mapping=mapping, currency=currency)
        rows, explained = invoice_lines_to_mrr(lines.frame, when, rules), explain_invoice_mrr(lines.frame, when, rules)
        return _BillingRead(
            "invoice lines", lines.rows_read, lines.rows_used, lines.issues, lines.skipped, rows, explained
        )
    subs = read_subscriptions(files, mapping=mapping, currency=currency)
    rows, explained = subscriptions_to_mrr(subs.frame, when, rules), explain_mrr(subs.frame, when, rules)
    return _BillingRead("subscriptions", subs.rows_read, subs.rows_used, subs.issues, 0, rows, explained)


def import_billing(
    path: str | Path,
    files: Sequence[str | Path],
    *,
    mapping: Mapping[str, str] | None = None,
    rates: Mapping[str, float] | None = None,
    as_of: _dt.date | None = None,
    overwrite: bool = False,
    force: bool = False,
    then_refresh: bool = True,
) -> ImportReport:
    """``csxl import billing``: subscription or invoice exports -> MRR rows in the workbook (:mod:`csxl.billing`
    rules; a typed month kept unless ``overwrite``), then a refresh. Read, write and refresh hold the lock as one."""
    with workbook_lock(path):
        book = read_book(path)
        settings = book.settings
        when = as_of or settings.as_of or _dt.date.today()
        rules = BillingRules(currency=settings.currency, rates={**settings.rates, **(rates or {})})
        read = _billing(files, mapping, settings.currency, when, rules)
        rows, explained = read.rows, read.explained
        spelling, unmatched = resolve_accounts(list(rows["account"]), book, "billing")
        rows["account"] = rows["account"].map(spelling)
        written = mrr_import_plan(book, rows, overwrite=overwrite)
        explained["account"] = explained["account"].map(spelling)
        sources = ", ".join(Path(f).name for f in files)
        written.plan.ops.extend(
            billing_sheet_plan(explained, as_of=when, source=sources, currency=settings.currency).ops
        )
        refreshed = _write_and_refresh(path, written.plan, book, as_of=as_of, force=force, then_refresh=then_refresh)
    return ImportReport(
        kind="billing",
        rows_read=read.rows_read,
        rows_used=read.rows_used,
        issues=tuple(read.issues),
        accounts=len(spelling),
        unmatched=tuple(unmatched),
        mrr_rows=len(rows),
        appended=written.appended,
        overwritten=written.overwritten,
        kept=tuple(written.kept),
        refreshed=refreshed,
        source=read.source,
        skipped=read.skipped,
    )


#: The export layouts ``csxl import events --preset`` knows, and the engines ``--engine`` runs the aggregation on.
EVENT_PRESETS: tuple[str, ...] = tuple(PRESETS)
EVENT_ENGINES: tuple[str, ...] = ENGINES


def event_mapping(
    *,
    preset: str = "generic",
    logins: Sequence[str] = (),
    core: Sequence[str] = (),
    feature: str | None = None,
    mapping_file: str | Path | None = None,
) -> EventMapping:
    """The events mapping from command-line choices and an optional JSON file (``{"preset": ..., "logins": [...],
    "core": [...], "feature": ..., "ignored": [...], "fields": {"account": "...", ...}}``); choices given on the
    command line win over the file's; the default login names when neither gives any."""
    given: dict[str, Any] = {}
    if mapping_file is not None:
        given.update(_json_object(mapping_file, "a JSON object"))
    if preset != "generic" or "preset" not in given:
        given["preset"] = preset
    if core:
        given["core"] = tuple(core)
    if feature is not None:
        given["feature"] = feature
    if logins:
        given["logins"] = tuple(logins)
    try:
        return EventMapping(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "mapping"
        raise InputError(where, first.get("input"), first["msg"].lower()) from None


def import_events(
    path: str | Path,
    files: Sequence[str | Path],
    *,
    mapping: EventMapping | None = None,
    as_of: _dt.date | None = None,
    overwrite: bool = False,
    force: bool = False,
    then_refresh: bool = True,
    engine: str = "duckdb",
) -> EventsReport:
    """``csxl import events``: product events -> the Usage sheet and the Accounts usage columns (a typed cell kept
    unless ``overwrite``), then a refresh; under the workbook's lock as one turn. ``engine``: where the aggregation
    runs (:data:`csxl.data.events.ENGINES`)."""
    with workbook_lock(path):
        book = read_book(path)
        when = as_of or book.settings.as_of or _dt.date.today()
        usage = read_usage(files, mapping or EventMapping(), when, engine=engine)
        columns = account_usage_columns(usage.signals)
        spelling, unmatched = resolve_accounts(list(columns.index), book, "events")
        known = set(book.tables[layout.SHEET_ACCOUNTS]["account"].astype(str))
        columns.index = pd.Index([spelling[name] for name in columns.index])
        written = accounts_import_plan(book, columns[columns.index.isin(known)], overwrite=overwrite)
        monthly = usage.monthly.assign(account=usage.monthly["account"].map(spelling))
        sources = ", ".join(Path(f).name for f in files)
        written.plan.ops.extend(usage_sheet_plan(monthly, as_of=when, source=sources).ops)
        refreshed = _write_and_refresh(path, written.plan, book, as_of=as_of, force=force, then_refresh=then_refresh)
    return EventsReport(
        rows_read=usage.rows_read,
        rows_kept=usage.rows_kept,
        accounts=len(spelling),
        unmatched=tuple(unmatched),
        usage_rows=len(monthly),
        written=written.written,
        kept=tuple(written.kept),
        missing_columns=written.missing_columns,
        refreshed=refreshed,
    )


def import_surveys(
    path: str | Path,
    files: Sequence[str | Path],
    *,
    kind: str | None = None,
    as_of: _dt.date | None = None,
    force: bool = False,
    then_refresh: bool = True,
) -> SurveysImport:
    """``csxl import surveys``: NPS / CSAT / CES answers -> new Surveys rows (names spelled as on Accounts; an answer
    already there is not added twice), then a refresh; under the workbook's lock as one turn."""
    with workbook_lock(path):
        book = read_book(path)
        read = read_surveys(files, kind=kind)
        answers = read.frame.reset_index(drop=True)
        spelling, unmatched = resolve_accounts(list(answers["account"]), book, "surveys")
        plan, appended, already = surveys_import_plan(book, answers.assign(account=answers["account"].map(spelling)))
        refreshed = _write_and_refresh(path, plan, book, as_of=as_of, force=force, then_refresh=then_refresh)
    return SurveysImport(
        rows_read=read.rows_read,
        rows_used=len(answers),
        issues=tuple(read.issues),
        unmatched=tuple(unmatched),
        appended=appended,
        already=already,
        refreshed=refreshed,
    )


def import_tickets(
    path: str | Path,
    files: Sequence[str | Path],
    *,
    as_of: _dt.date | None = None,
    overwrite: bool = False,
    force: bool = False,
    then_refresh: bool = True,
) -> TicketsImport:
    """``csxl import tickets``: help-desk exports -> the Support sheet and Accounts ``support_tickets_30d`` (a typed
    count kept unless ``overwrite``), then a refresh; under the workbook's lock as one turn."""
    with workbook_lock(path):
        book = read_book(path)
        when = as_of or book.settings.as_of or _dt.date.today()
        read = read_tickets(files, when)
        figures = read.figures
        spelling, unmatched = resolve_accounts(figures["account"].astype(str).tolist(), book, "tickets")
        figures = figures.assign(account=figures["account"].astype(str).map(spelling))
        known = set(book.tables[layout.SHEET_ACCOUNTS]["account"].astype(str))
        counts = figures[figures["account"].isin(known)].set_index("account")[["tickets_30d"]]
        written = accounts_import_plan(
            book, counts.rename(columns={"tickets_30d": "support_tickets_30d"}), overwrite=overwrite
        )
        sources = ", ".join(Path(f).name for f in files)
        written.plan.ops.extend(support_sheet_plan(figures, as_of=when, source=sources, kpis=read.kpis).ops)
        refreshed = _write_and_refresh(path, written.plan, book, as_of=as_of, force=force, then_refresh=then_refresh)
    return TicketsImport(
        rows_read=read.rows_read,
        rows_used=read.rows_used,
        accounts=len(spelling),
        unmatched=tuple(unmatched),
        written=written.written,
        kept=tuple(written.kept),
        refreshed=refreshed,
    )


def import_accounts(
    path: str | Path,
    files: Sequence[str | Path],
    *,
    as_of: _dt.date | None = None,
    overwrite: bool = False,
    force: bool = False,
    then_refresh: bool = True,
) -> AccountsImport:
    """``csxl import accounts``: CRM exports -> Accounts: new customers appended, existing ones (matched by CRM id,
    else domain, else name) get their blank cells filled (typed cells kept unless ``overwrite``), then a refresh."""
    with workbook_lock(path):
        book = read_book(path)
        place = book.places.get(layout.SHEET_ACCOUNTS)
        typed = [c.key for c in layout.ACCOUNTS.role("input") if place is None or c.key in place.columns]
        read = read_crm(files, properties={key: layout.header_of(key) for key in typed})
        crm = read.frame.reset_index(drop=True)
        found, by_domain = existing_accounts(book, crm)
        known = crm[[f is not None for f in found]].copy()
        known.index = pd.Index([f for f in found if f is not None])
        written = accounts_import_plan(book, known.drop(columns=["account"]), overwrite=overwrite)
        added_plan, added = new_accounts_plan(book, crm[[f is None for f in found]])
        written.plan.ops.extend(added_plan.ops)
        refreshed = _write_and_refresh(path, written.plan, book, as_of=as_of, force=force, then_refresh=then_refresh)
    return AccountsImport(
        rows_read=read.rows_read,
        skipped=read.skipped,
        issues=tuple(read.issues),
        added=added,
        matched=len(known),
        matched_by_domain=by_domain,
        written=written.written,
        kept=tuple(written.kept),
        refreshed=refreshed,
    )
