"""What each ``csxl import KIND`` did (the use cases of :mod:`csxl.importing` return these), and the document its
``--json`` prints (:meth:`output`: the models of :mod:`csxl.report_models`, whose schemas are published)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from csxl.book.refresh import RefreshResult
from csxl.errors import RowIssue
from csxl.report_models import (
    AccountsImportOutput,
    BillingImportOutput,
    EventsImportOutput,
    KeptCell,
    KeptMonth,
    RejectedCell,
    SurveysImportOutput,
    TicketsImportOutput,
    Unmatched,
)

__all__ = ["AccountsImport", "EventsReport", "ImportReport", "SurveysImport", "TicketsImport", "match_rate"]


def match_rate(accounts: int, unmatched: int) -> float | None:
    """The share of imported accounts found on Accounts (0..1), ``None`` when nothing was imported."""
    return round((accounts - unmatched) / accounts, 4) if accounts else None


def _plain(value: Any) -> Any:
    """A cell value as JSON holds it: text, a number, a boolean or null as they are; a NumPy number as a number;
    a date as ISO text; anything else as its text."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if hasattr(value, "item") and callable(value.item):  # a NumPy scalar
        return _plain(value.item())
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)


def _rejected(issues: Iterable[RowIssue]) -> list[RejectedCell]:
    return [RejectedCell(file=i.sheet, line=i.row, column=i.column, value=_plain(i.value), rule=i.rule,
                         effect=i.effect) for i in issues]  # fmt: skip


def _unmatched(issues: Iterable[RowIssue]) -> list[Unmatched]:
    return [Unmatched(account=str(i.value), rule=i.rule) for i in issues]


def _kept(kept: Iterable[tuple[str, str, Any, Any]]) -> list[KeptCell]:
    return [KeptCell(account=a, column=c, typed=_plain(t), imported=_plain(v)) for a, c, t, v in kept]


def _as_of(refreshed: RefreshResult | None) -> _dt.date | None:
    return refreshed.as_of if refreshed is not None else None


@dataclass(frozen=True)
class ImportReport:
    """What ``csxl import billing`` did: rows read per file and used, every rejected cell, accounts matched and not
    (with the closest Accounts name), the rows it wrote, the typed values it kept, and the refresh after it."""

    kind: str
    rows_read: dict[str, int]
    rows_used: int
    issues: tuple[RowIssue, ...]
    accounts: int
    unmatched: tuple[RowIssue, ...]
    mrr_rows: int
    appended: int
    overwritten: int
    kept: tuple[tuple[str, _dt.date, Any, float], ...]
    refreshed: RefreshResult | None
    source: str = "subscriptions"
    skipped: int = 0

    def output(self) -> BillingImportOutput:
        return BillingImportOutput(
            source=self.source, rows_read=self.rows_read, rows_used=self.rows_used, skipped=self.skipped,
            rejected=_rejected(self.issues), accounts=self.accounts,
            match_rate=match_rate(self.accounts, len(self.unmatched)), unmatched=_unmatched(self.unmatched),
            mrr_rows=self.mrr_rows, appended=self.appended, overwritten=self.overwritten,
            kept=[KeptMonth(account=a, month=m, typed=_plain(t), imported=v) for a, m, t, v in self.kept],
            refreshed_as_of=_as_of(self.refreshed),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """:meth:`output` as JSON-ready values."""
        return self.output().model_dump(mode="json")


@dataclass(frozen=True)
class EventsReport:
    """What ``csxl import events`` did: events read and kept, accounts matched and not, Accounts cells written and
    typed cells kept, Usage rows, the refresh after it."""

    rows_read: int
    rows_kept: int
    accounts: int
    unmatched: tuple[RowIssue, ...]
    usage_rows: int
    written: int
    kept: tuple[tuple[str, str, Any, Any], ...]
    missing_columns: tuple[str, ...]
    refreshed: RefreshResult | None

    def output(self) -> EventsImportOutput:
        return EventsImportOutput(
            rows_read=self.rows_read, rows_kept=self.rows_kept, accounts=self.accounts,
            match_rate=match_rate(self.accounts, len(self.unmatched)), unmatched=_unmatched(self.unmatched),
            usage_rows=self.usage_rows, cells_written=self.written, kept=_kept(self.kept),
            missing_columns=list(self.missing_columns), refreshed_as_of=_as_of(self.refreshed),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """:meth:`output` as JSON-ready values."""
        return self.output().model_dump(mode="json")


@dataclass(frozen=True)
class SurveysImport:
    """What ``csxl import surveys`` did: answers read and used, every rejected cell, answers whose account is not on
    Accounts (kept in the survey totals), rows appended and answers already in the table."""

    rows_read: dict[str, int]
    rows_used: int
    issues: tuple[RowIssue, ...]
    unmatched: tuple[RowIssue, ...]
    appended: int
    already: int
    refreshed: RefreshResult | None

    def output(self) -> SurveysImportOutput:
        return SurveysImportOutput(
            rows_read=self.rows_read, rows_used=self.rows_used, rejected=_rejected(self.issues),
            unmatched=_unmatched(self.unmatched), appended=self.appended, already_there=self.already,
            refreshed_as_of=_as_of(self.refreshed),
        )  # fmt: skip


@dataclass(frozen=True)
class TicketsImport:
    """What ``csxl import tickets`` did: tickets read and used, accounts (and those not on Accounts), Accounts cells
    written and typed cells kept, the refresh after it."""

    rows_read: int
    rows_used: int
    accounts: int
    unmatched: tuple[RowIssue, ...]
    written: int
    kept: tuple[tuple[str, str, Any, Any], ...]
    refreshed: RefreshResult | None

    def output(self) -> TicketsImportOutput:
        return TicketsImportOutput(
            rows_read=self.rows_read, rows_used=self.rows_used, accounts=self.accounts,
            unmatched=_unmatched(self.unmatched), cells_written=self.written, kept=_kept(self.kept),
            refreshed_as_of=_as_of(self.refreshed),
        )  # fmt: skip


@dataclass(frozen=True)
class AccountsImport:
    """What ``csxl import accounts`` did: rows read, skipped (not customers) and rejected cells; accounts added,
    existing accounts matched (by domain, else by name) with the cells filled and the typed cells kept."""

    rows_read: dict[str, int]
    skipped: int
    issues: tuple[RowIssue, ...]
    added: int
    matched: int
    matched_by_domain: int
    written: int
    kept: tuple[tuple[str, str, Any, Any], ...]
    refreshed: RefreshResult | None

    def output(self) -> AccountsImportOutput:
        return AccountsImportOutput(
            rows_read=self.rows_read, skipped_not_customers=self.skipped, rejected=_rejected(self.issues),
            added=self.added, matched=self.matched, matched_by_domain=self.matched_by_domain,
            cells_written=self.written, kept=_kept(self.kept), refreshed_as_of=_as_of(self.refreshed),
        )  # fmt: skip
