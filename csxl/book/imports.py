"""Imported rows into the workbook's input tables, as a Plan (workbook edge): what a value typed by the user keeps.

:func:`accounts_import_plan` fills Accounts input cells of the accounts it is given (measured usage signals): a
blank cell takes the imported value, a typed one is kept unless ``overwrite``; an input column the user deleted is
not re-created (reported). :func:`usage_sheet_plan` writes the Usage sheet (monthly usage per account), csxl's own.

:func:`mrr_import_plan` puts MRR rows (``account, month, mrr``; from :func:`csxl.billing.subscriptions_to_mrr`) into
the MRR table. An account and month the table already holds keeps its typed value unless ``overwrite`` (then the
first of its rows takes the imported amount and the others of that month are emptied, since rows of one account and
month add up); every other imported row is appended below the table, which grows over them. Columns are found by
heading; the Month is written as the month's first day.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from csxl.book.layout import (
    ACCOUNTS,
    MRR,
    SHEET_BILLING,
    SHEET_COHORTS,
    SHEET_SUPPORT,
    SHEET_USAGE,
    SURVEYS,
    TablePlace,
    column_letter,
)
from csxl.book.plan import Block, Cell, Clear, Plan, ResizeTable
from csxl.book.read import BookData
from csxl.book.render import SheetWriter, Styled
from csxl.cells import company_key, is_blank
from csxl.plays.support import SUPPORT_TARGETS
from csxl.sections import Section

__all__ = [
    "AccountsImport",
    "MrrImport",
    "accounts_import_plan",
    "billing_sheet_plan",
    "mrr_import_plan",
    "new_accounts_plan",
    "support_sheet_plan",
    "surveys_import_plan",
    "usage_from_grid",
    "usage_sheet_plan",
]


@dataclass
class MrrImport:
    """The writes and what they do: rows appended, months overwritten, typed months kept (account, month, typed
    amount, imported amount)."""

    plan: Plan
    appended: int = 0
    overwritten: int = 0
    kept: list[tuple[str, _dt.date, Any, float]] = field(default_factory=list)


def _month_keys(table: pd.DataFrame) -> dict[tuple[str, pd.Timestamp], list[int]]:
    """(account key, month start) -> the sheet rows holding it; a row whose month cannot be read has no key."""
    months = pd.Series(pd.to_datetime(table["month"].astype(object), errors="coerce"), index=table.index)
    starts = months.dt.to_period("M").dt.to_timestamp()
    out: dict[tuple[str, pd.Timestamp], list[int]] = {}
    for row, name, start in zip(table.index, table["account"].astype(object), starts, strict=True):
        if name is None or pd.isna(start):
            continue
        out.setdefault((company_key(str(name)), start), []).append(int(str(row)))
    return out


def mrr_import_plan(book: BookData, rows: pd.DataFrame, *, overwrite: bool = False) -> MrrImport:
    """The Plan that puts ``rows`` (``account, month, mrr``) into ``book``'s MRR table (see the module)."""
    place = book.places.get(MRR.sheet)
    table = book.tables.get(MRR.sheet)
    if place is None or table is None:
        place = TablePlace.default(MRR)
        table = pd.DataFrame({"account": [], "month": [], "mrr": []})
    existing = _month_keys(table)
    out = MrrImport(Plan())
    appended: list[list[Cell]] = []
    for account, month, mrr in rows[["account", "month", "mrr"]].itertuples(index=False, name=None):
        start = pd.Timestamp(month).to_period("M").to_timestamp()
        there = existing.get((company_key(str(account)), start))
        if there is None:
            appended.append([str(account), start.date(), float(mrr)])
            continue
        if not overwrite:
            out.kept.append((str(account), start.date(), table.at[there[0], "mrr"], float(mrr)))
            continue
        column = place.index("mrr")
        out.plan.add(Block(MRR.sheet, there[0], column, [[float(mrr)]]))
        for other in there[1:]:
            out.plan.add(Clear(MRR.sheet, other, column, other, column))
        out.overwritten += 1
    if appended:
        top = place.last_row + 1
        for key, j in (("account", 0), ("month", 1), ("mrr", 2)):
            values: list[list[Cell]] = [[row[j]] for row in appended]
            out.plan.add(Block(MRR.sheet, top, place.index(key), values))
        bottom = top + len(appended) - 1
        out.plan.add(ResizeTable(MRR.sheet, MRR.name, place.ref(bottom), looks_from=MRR.first_data_row))
        out.appended = len(appended)
    return out


@dataclass
class AccountsImport:
    """The writes into Accounts: cells filled or replaced, typed cells kept (account, column, typed, imported), and
    the input columns the sheet no longer has."""

    plan: Plan
    written: int = 0
    kept: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    missing_columns: tuple[str, ...] = ()


def _cell_value(value: Any) -> Cell:
    """An imported value as a cell: blanks ``None``, yes/no as ``yes`` / ``no`` (the words the sheet's yes/no columns
    list, as the template writes them), dates as dates, numpy numbers as Python numbers."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, (int, float, str, _dt.date)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        item: Cell = value.item()
        return item
    return str(value)


def accounts_import_plan(book: BookData, values: pd.DataFrame, *, overwrite: bool = False) -> AccountsImport:
    """Write ``values`` (indexed by the Accounts name as the sheet spells it; columns = Accounts input keys) into the
    Accounts rows of those accounts (see the module); a blank imported value never empties a cell."""
    place = book.places.get(ACCOUNTS.sheet) or TablePlace.default(ACCOUNTS)
    table = book.tables[ACCOUNTS.sheet]
    rows = {str(name): int(str(row)) for row, name in table["account"].items() if not is_blank(name)}
    out = AccountsImport(Plan(), missing_columns=tuple(c for c in values.columns if c not in place.columns))
    for account, imported in values.iterrows():
        row = rows.get(str(account))
        if row is None:
            continue
        for column, value in imported.items():
            new = _cell_value(value)
            key = str(column)
            if new is None or key not in place.columns:
                continue
            typed = table.at[row, key] if key in table.columns else None
            if not is_blank(typed) and not overwrite:
                if typed != new:
                    out.kept.append((str(account), key, typed, new))
                continue
            out.plan.add(Block(ACCOUNTS.sheet, row, place.index(key), [[new]]))
            out.written += 1
    return out


_USAGE_HEADER = (
    "Account", "Month", "Active users", "DAU/MAU", "Logins", "Logins per user per week", "Core actions per week",
    "Features used",
)  # fmt: skip


def _widths(header: tuple[str, ...]) -> dict[str, float]:
    """Column widths that hold each heading on one line (the account column wider, for names)."""
    return {column_letter(i): max(12.0, len(text) + 2.0) for i, text in enumerate(header, start=1)} | {"A": 28.0}


def usage_sheet_plan(monthly: pd.DataFrame, *, as_of: _dt.date, source: str) -> Plan:
    """The Usage sheet: one row per account and month (:data:`csxl.data.events.MONTHLY_SQL`), rewritten whole by each
    events import."""
    writer = SheetWriter(SHEET_USAGE, after=SHEET_COHORTS, widths=_widths(_USAGE_HEADER))
    writer.title(
        "Usage",
        f"Monthly product usage per account from {source}, as of {as_of.isoformat()} (csxl import events). The "
        "current month counts its days up to the as-of date. Rewritten by each events import; refresh leaves it.",
    )
    rows: list[list[Any]] = []
    for r in monthly.to_dict("records"):
        rows.append(
            [
                str(r["account"]),
                pd.Timestamp(r["month"]).strftime("%Y-%m"),
                Styled(int(r["active_users"]), "int"),
                Styled(float(r["dau_mau"]), "pct"),
                Styled(int(r["logins"]), "int"),
                float(r["logins_per_user_week"]),
                float(r["core_actions_per_week"]),
                Styled(int(r["features_used"]), "int"),
            ]
        )
    writer.section(Section("Monthly usage", rows=rows, header=_USAGE_HEADER, empty="(no events)"))
    return writer.plan()


_USAGE_KEYS = (
    "account", "month", "active_users", "dau_mau", "logins", "logins_per_user_week", "core_actions_per_week",
    "features_used",
)  # fmt: skip


def usage_from_grid(grid: Sequence[Sequence[Any]] | None) -> pd.DataFrame | None:
    """The monthly usage an events import wrote on the Usage sheet (:func:`usage_sheet_plan`), read back: columns
    ``account, month, active_users, dau_mau, logins, logins_per_user_week, core_actions_per_week, features_used``,
    rows from under the header to the first row without an account; ``None`` when the sheet or its header is
    missing."""
    if not grid:
        return None
    want = [h.casefold() for h in _USAGE_HEADER]
    top = next((i for i, row in enumerate(grid) if [str(c).strip().casefold() for c in row[: len(want)]] == want), None)
    if top is None:
        return None
    rows: list[list[Any]] = []
    for row in grid[top + 1 :]:
        cells = list(row[: len(want)]) + [None] * (len(want) - len(row))
        if cells[0] is None or not str(cells[0]).strip():
            break
        rows.append(cells)
    frame = pd.DataFrame(rows, columns=list(_USAGE_KEYS))
    frame["month"] = pd.to_datetime(frame["month"].astype(str).str.strip(), format="%Y-%m", errors="coerce")
    for key in _USAGE_KEYS[2:]:
        frame[key] = pd.to_numeric(frame[key], errors="coerce")
    out: pd.DataFrame = frame[frame["month"].notna()].reset_index(drop=True)
    return out


def _answer_key(account: Any, date: Any, kind: Any, score: Any) -> tuple[str, str, str, float] | None:
    stamp = pd.to_datetime(date, errors="coerce")
    number = pd.to_numeric(score, errors="coerce")
    if is_blank(account) or pd.isna(stamp) or pd.isna(number):
        return None
    return company_key(str(account)), stamp.date().isoformat(), str(kind).strip().lower(), float(number)


def surveys_import_plan(book: BookData, rows: pd.DataFrame) -> tuple[Plan, int, int]:
    """Append survey answers (``account, date, kind, score, comment``) below the Surveys table, each at most once: an
    answer the table already holds (same account, date, kind and score) is skipped, so importing a file twice adds
    nothing. Returns the plan, the rows appended and the rows already there."""
    place = book.places.get(SURVEYS.sheet) or TablePlace.default(SURVEYS)
    table = book.tables.get(SURVEYS.sheet)
    seen: set[tuple[str, str, str, float]] = set()
    if table is not None and len(table):
        for values in table[["account", "date", "kind", "score"]].itertuples(index=False, name=None):
            key = _answer_key(*values)
            if key is not None:
                seen.add(key)
    new: list[list[Cell]] = []
    for account, date, kind, score, comment in rows[["account", "date", "kind", "score", "comment"]].itertuples(
        index=False, name=None
    ):
        key = _answer_key(account, date, kind, score)
        if key is None or key in seen:
            continue
        seen.add(key)
        new.append([str(account), pd.Timestamp(date).date(), str(kind), int(score), _cell_value(comment)])
    plan = Plan()
    if new:
        top = place.last_row + 1
        for j, column in enumerate(("account", "date", "kind", "score", "comment")):
            if column in place.columns:
                plan.add(Block(SURVEYS.sheet, top, place.index(column), [[row[j]] for row in new]))
        bottom = top + len(new) - 1
        plan.add(ResizeTable(SURVEYS.sheet, SURVEYS.name, place.ref(bottom), looks_from=SURVEYS.first_data_row))
    return plan, len(new), len(rows) - len(new)


_SUPPORT_HEADER = (
    "Account", "Tickets (30 days)", "Tickets (30 days before)", "Escalations", "First response (h, median)",
    "Resolution (h, median)", "First-contact resolution", "Support CSAT", "Spike then silence",
)  # fmt: skip


def _number_or_blank(value: Any, style: str) -> Any:
    if value is None or pd.isna(value):
        return None
    return Styled(float(value), style)


def support_sheet_plan(
    figures: pd.DataFrame, *, as_of: _dt.date, source: str, kpis: Mapping[str, float | None] | None = None
) -> Plan:
    """The Support sheet: the help desk's KPIs against the spec's targets (``kpis``,
    :data:`csxl.data.tickets.SUPPORT_KPI_SQL`), then per account the 30-day support figures
    (:data:`csxl.data.tickets.SUPPORT_SQL`); rewritten whole by each tickets import."""
    writer = SheetWriter(SHEET_SUPPORT, after=SHEET_USAGE, widths=_widths(_SUPPORT_HEADER))
    writer.title(
        "Support",
        f"Tickets per account from {source}, the 30 days to {as_of.isoformat()} against the 30 before (csxl import "
        "tickets). Targets (agent spec): first response < 4 h, resolution < 24 h, first-contact resolution > 70 %, "
        "support CSAT > 90 %, escalation rate < 20 %. Spike then silence: 3+ tickets in the 30 days before, none "
        "since.",
    )
    if kpis is not None:
        writer.section(_kpi_section(kpis))
    rows: list[list[Any]] = []
    for r in figures.to_dict("records"):
        rows.append(
            [
                str(r["account"]),
                Styled(int(r["tickets_30d"]), "int"),
                Styled(int(r["tickets_prev_30d"]), "int"),
                Styled(int(r["escalations"]), "int"),
                _number_or_blank(r["first_response_hours"], "number"),
                _number_or_blank(r["resolution_hours"], "number"),
                _number_or_blank(r["first_contact_resolution"], "pct"),
                _number_or_blank(r["csat"], "pct"),
                bool(r["spike_then_silence"]),
            ]
        )
    writer.section(Section("Support, last 30 days", rows=rows, header=_SUPPORT_HEADER, empty="(no tickets)"))
    return writer.plan()


_KPI_NAMES = {
    "first_response_hours": ("First response (median, hours)", "number"),
    "resolution_hours": ("Resolution (median, hours)", "number"),
    "first_contact_resolution": ("First-contact resolution", "pct"),
    "csat": ("Support CSAT", "pct"),
    "escalation_rate": ("Escalation rate", "pct"),
}


def _kpi_section(kpis: Mapping[str, float | None]) -> Section:
    """The help desk's KPIs of the last 30 days, each against the agent spec's target (met yes / no)."""
    rows: list[list[Any]] = [["Tickets (30 days)", Styled(int(kpis.get("tickets") or 0), "int"), "", ""]]
    for key, (name, style) in _KPI_NAMES.items():
        value = kpis.get(key)
        op, target, shown = SUPPORT_TARGETS[key]
        met: Any = "" if value is None else (value < target if op == "<" else value > target)
        rows.append([name, "not in the export" if value is None else Styled(value, style), shown, met])
    return Section("Support KPIs (all tickets, last 30 days)", rows=rows, header=("measure", "value", "target", "met"))


def new_accounts_plan(book: BookData, rows: pd.DataFrame) -> tuple[Plan, int]:
    """Append accounts the Accounts table does not have (``rows``: Accounts input columns, one row per account),
    each value under its heading; the table grows over them and they take its first row's look (the next refresh
    writes their formulas and scores). Returns the plan and the rows appended."""
    place = book.places.get(ACCOUNTS.sheet) or TablePlace.default(ACCOUNTS)
    plan = Plan()
    if rows.empty:
        return plan, 0
    top = place.last_row + 1
    for column in rows.columns:
        if str(column) in place.columns:
            values = [[_cell_value(v)] for v in rows[column].tolist()]
            plan.add(Block(ACCOUNTS.sheet, top, place.index(str(column)), values))
    bottom = top + len(rows) - 1
    plan.add(
        ResizeTable(ACCOUNTS.sheet, ACCOUNTS.name, place.completed().ref(bottom), looks_from=ACCOUNTS.first_data_row)
    )
    return plan, len(rows)


def billing_sheet_plan(explained: pd.DataFrame, *, as_of: _dt.date, source: str, currency: str) -> Plan:
    """The MRR explained sheet: each change of an account's MRR with the subscription that made it and why
    (:func:`csxl.billing.explain_mrr`); rewritten whole by each billing import."""
    header = ("Account", "Month", "Subscription", "Change", "Why")
    writer = SheetWriter(SHEET_BILLING, after=SHEET_COHORTS, widths=_widths(header) | {"C": 24.0, "E": 16.0})
    writer.title(
        "MRR explained",
        f"Each change of an account's MRR from {source}, as of {as_of.isoformat()} (csxl import billing): the "
        "subscription that made it and why. Summed by account and month, the changes are the MRR table's movements.",
    )
    rows = [
        [str(r["account"]), pd.Timestamp(r["month"]).strftime("%Y-%m"), str(r["subscription_id"]),
         Styled(float(r["change"]), "money", unit=currency), str(r["reason"])]
        for r in explained.to_dict("records")
    ]  # fmt: skip
    writer.section(Section("Movements", rows=rows, header=header, empty="(no subscriptions)"))
    return writer.plan()
