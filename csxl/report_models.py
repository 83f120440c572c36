"""The documents ``csxl import KIND --json``, ``csxl backfill --json`` and ``csxl demo --json`` print.

Pydantic models, so their JSON schemas are published in ``docs/schemas/`` like every other ``--json`` output
(:mod:`csxl.plays.schemas`) and what a command prints is checked against them. The five imports share their parts:
a rejected cell (file, line, column, value, the rule, what happened), an account not on Accounts (with the closest
name), a typed value kept (``--overwrite`` replaces it) and the as-of date of the refresh after the import.
"""

from __future__ import annotations

import datetime as _dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from csxl.dashboard.model import MovementLine

__all__ = [
    "AccountsImportOutput",
    "BackfillOutput",
    "BillingImportOutput",
    "DemoOutput",
    "DemoTier",
    "EventsImportOutput",
    "KeptCell",
    "KeptMonth",
    "RejectedCell",
    "SurveysImportOutput",
    "TicketsImportOutput",
    "Unmatched",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RejectedCell(_Frozen):
    """A cell of an import file that was not used, and why."""

    file: str
    line: int = Field(description="Line of the file (1 = its header), a JSON export's record number; 0: no one line.")
    column: str
    value: str | float | int | bool | None = Field(description="The value as the file holds it.")
    rule: str = Field(description="What the value should have been.")
    effect: str = Field(description="What csxl did instead (row skipped, cell left blank ...).")


class Unmatched(_Frozen):
    """An account of the import that is not on Accounts."""

    account: str
    rule: str = Field(description="Why it did not match, with the closest Accounts name when there is one.")


class KeptMonth(_Frozen):
    """An MRR month you typed that the import would have replaced (``--overwrite`` replaces it)."""

    account: str
    month: _dt.date
    typed: str | float | int | bool | None
    imported: float


class KeptCell(_Frozen):
    """An Accounts cell you typed that the import would have replaced (``--overwrite`` replaces it)."""

    account: str
    column: str
    typed: str | float | int | bool | None
    imported: str | float | int | bool | None


class _Import(_Frozen):
    refreshed_as_of: _dt.date | None = Field(description="The as-of date of the refresh after the import.")


class BillingImportOutput(_Import):
    """``csxl import billing --json``: subscriptions or invoice lines turned into MRR rows."""

    kind: Literal["billing"] = "billing"
    source: str = Field(description="What the files held: subscriptions or invoice lines.")
    rows_read: dict[str, int] = Field(description="Rows read per file.")
    rows_used: int
    skipped: int = Field(description="Rows that are one-off or not revenue.")
    rejected: list[RejectedCell]
    accounts: int
    match_rate: float | None = Field(description="Share of the imported accounts found on Accounts.")
    unmatched: list[Unmatched]
    mrr_rows: int
    appended: int
    overwritten: int
    kept: list[KeptMonth]


class EventsImportOutput(_Import):
    """``csxl import events --json``: product events aggregated into usage per account."""

    kind: Literal["events"] = "events"
    rows_read: int
    rows_kept: int = Field(description="Events left after de-duplication and the as-of date.")
    accounts: int
    match_rate: float | None
    unmatched: list[Unmatched]
    usage_rows: int = Field(description="Rows of the Usage sheet (account x month).")
    cells_written: int
    kept: list[KeptCell]
    missing_columns: list[str] = Field(description="Accounts usage columns the events cannot fill.")


class SurveysImportOutput(_Import):
    """``csxl import surveys --json``: NPS / CSAT / CES answers added to the Surveys table."""

    kind: Literal["surveys"] = "surveys"
    rows_read: dict[str, int]
    rows_used: int
    rejected: list[RejectedCell]
    unmatched: list[Unmatched] = Field(description="Answers whose account is not on Accounts (still counted).")
    appended: int
    already_there: int


class TicketsImportOutput(_Import):
    """``csxl import tickets --json``: help-desk tickets into the Support sheet and the Accounts ticket counts."""

    kind: Literal["tickets"] = "tickets"
    rows_read: int
    rows_used: int
    accounts: int
    unmatched: list[Unmatched]
    cells_written: int
    kept: list[KeptCell]


class AccountsImportOutput(_Import):
    """``csxl import accounts --json``: CRM customers added to Accounts or filled in."""

    kind: Literal["accounts"] = "accounts"
    rows_read: dict[str, int]
    skipped_not_customers: int
    rejected: list[RejectedCell]
    added: int
    matched: int
    matched_by_domain: int
    cells_written: int
    kept: list[KeptCell]


class BackfillOutput(_Frozen):
    """``csxl backfill --json``: the month ends given a History snapshot and the refresh after it."""

    months: list[_dt.date]
    rows: int = Field(description="History rows added.")
    history_rows: int = Field(description="History rows on the sheet after the refresh.")
    as_of: _dt.date


class DemoTier(_Frozen):
    count: int
    arr: float


class DemoOutput(_Frozen):
    """``csxl demo --json``: the seeded demo portfolio summarised."""

    seed: int
    as_of: _dt.date
    accounts: int = Field(description="Live accounts (effective ARR > 0).")
    arr: float
    average_health: float
    tiers: dict[str, DemoTier] = Field(description="Live accounts and their ARR per tier, best tier first.")
    nrr_12m: float
    grr_12m: float
    last_month: MovementLine = Field(description="The latest month's MRR bridge.")
