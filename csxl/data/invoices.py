"""Invoice exports -> the invoice lines table of :mod:`csxl.billing` (data edge).

Accepted: a Stripe Dashboard export of invoice line items (CSV; the user picks its columns), the same as Parquet (a
warehouse extract), and Stripe API lists of invoices (``.json``) in both shapes: before the 2025-03-31 API version a
line names its subscription in ``subscription`` (and the invoice in ``subscription``); after it, under
``parent.subscription_item_details.subscription`` (the invoice's under ``parent.subscription_details``). Headings are
matched as for subscriptions (:func:`csxl.data.files.find_columns`; :data:`HEADINGS` lists them).

Kept: lines with a service period (start before end) of invoices that are not draft, void or uncollectible. A line
without a period is a one-off charge and a line of such an invoice is not revenue: both are counted as skipped, not
as errors. A cell that cannot be read leaves its row out and is reported (file, line, column, value, rule).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csxl.billing import LINE_COLUMNS
from csxl.data.files import (
    CRM_ID_METADATA,
    find_columns,
    heading_key,
    json_items,
    load_typed,
    metadata_account,
    numbers,
    stamps,
)
from csxl.errors import FileError, InputError, RowIssue

__all__ = ["HEADINGS", "NOT_REVENUE", "InvoiceLinesRead", "is_invoice_file", "read_invoice_lines"]

#: Field -> the headings read as it (compared by :func:`csxl.data.files.heading_key`); the first found wins.
HEADINGS: Mapping[str, tuple[str, ...]] = {
    "invoice_id": ("invoice id", "invoice", "invoice number"),
    "subscription_id": ("subscription id", "subscription"),
    "account": ("account metadata", "company metadata", *CRM_ID_METADATA),
    "customer_name": ("customer name", "customer description", "company"),
    "customer_id": ("customer id", "customer"),
    "currency": ("currency", "line item currency"),
    "amount": ("amount excluding tax", "line item amount", "amount"),
    "amount_cents": ("amount in cents", "unit amount"),
    "discount": ("discount amount", "discount", "discounts"),
    "period_start": ("period start", "line item period start", "service period start", "service start"),
    "period_end": ("period end", "line item period end", "service period end", "service end"),
    "status": ("invoice status", "status"),
}

#: Invoice statuses whose lines are not revenue (Stripe's names; a blank status counts).
NOT_REVENUE: tuple[str, ...] = ("draft", "void", "uncollectible", "deleted")

_MARKS = ("period start", "line item period start", "service period start")


@dataclass
class InvoiceLinesRead:
    """What :func:`read_invoice_lines` found: the table (:data:`csxl.billing.LINE_COLUMNS` plus ``customer_id``,
    ``source``, ``line``), every bad cell, rows read per file and lines skipped (one-off charges, lines of invoices
    that are not revenue)."""

    frame: pd.DataFrame
    issues: list[RowIssue] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    skipped: int = 0

    @property
    def rows_used(self) -> int:
        return len(self.frame)


def is_invoice_file(path: str | Path) -> bool:
    """Whether a billing file holds invoices (else subscriptions): a JSON list of ``invoice`` objects, or a table
    with a service period start heading."""
    file = Path(path)
    if file.suffix.lower() in (".json", ".jsonl", ".ndjson") and file.is_file():
        try:
            items = json_items(file)
        except FileError:
            return False  # not a list: the subscriptions reader says what is wrong with it
        return bool(items) and isinstance(items[0], Mapping) and items[0].get("object") == "invoice"
    if not file.is_file():
        return False
    if file.suffix.lower() == ".parquet":
        return True  # a Parquet billing extract is read as invoice lines (subscriptions come as CSV or JSON)
    try:
        with file.open(encoding="utf-8-sig", errors="replace") as handle:
            head = handle.readline()
    except OSError:
        return False
    keys = {heading_key(h) for h in head.replace(";", ",").replace("\t", ",").split(",")}
    return any(mark in keys for mark in _MARKS)


def _nested(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj


def _line_rows(invoice: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per line of a Stripe API invoice object (both API shapes), amounts in cents, Unix times."""
    customer = invoice.get("customer")
    customer_id = customer.get("id") if isinstance(customer, Mapping) else customer
    invoice_sub = invoice.get("subscription") or _nested(invoice, "parent", "subscription_details", "subscription")
    metadata: Any = invoice.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    lines = _nested(invoice, "lines", "data") or []
    rows = []
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, Mapping):
            continue
        sub = line.get("subscription") or _nested(line, "parent", "subscription_item_details", "subscription")
        discounts = line.get("discount_amounts") or []
        off = sum(d.get("amount", 0) for d in discounts if isinstance(d, Mapping))
        period: Any = line.get("period")
        period = period if isinstance(period, Mapping) else {}
        rows.append(
            {
                "invoice id": invoice.get("id"),
                "subscription id": sub if isinstance(sub, str) else invoice_sub,
                "account (metadata)": metadata_account(metadata),
                "customer name": invoice.get("customer_name"),
                "customer id": customer_id,
                "currency": line.get("currency") or invoice.get("currency"),
                "amount in cents": (line.get("amount") or 0) - off,
                "period start": _unix(period.get("start")),
                "period end": _unix(period.get("end")),
                "invoice status": invoice.get("status"),
            }
        )
    return rows


def _unix(value: Any) -> Any:
    return pd.Timestamp(value, unit="s") if isinstance(value, (int, float)) and not isinstance(value, bool) else value


_TEXT = ("invoice_id", "subscription_id", "account", "customer_name", "customer_id", "currency", "status")


def _load(path: Path, mapping: Mapping[str, str] | None) -> pd.DataFrame:
    if path.suffix.lower() in (".json", ".jsonl", ".ndjson"):
        items = json_items(path)
        if not all(isinstance(i, Mapping) and i.get("object", "invoice") == "invoice" for i in items):
            raise FileError(str(path), 'is not a list of Stripe invoice objects (expected {"data": [...]})')
        rows = [row for invoice in items for row in _line_rows(invoice)]
        columns = ["invoice id", "subscription id", "account (metadata)", "customer name", "customer id", "currency",
                   "amount in cents", "period start", "period end", "invoice status"]  # fmt: skip
        frame: pd.DataFrame = pd.DataFrame(rows, columns=columns)
        for heading in ("invoice id", "subscription id", "account (metadata)", "customer name", "customer id",
                        "currency", "invoice status"):  # fmt: skip
            frame[heading] = frame[heading].map(_clean)
        return frame

    def text(headings: list[str]) -> list[str]:
        found = find_columns(headings, HEADINGS, mapping)
        return [found[name] for name in _TEXT if name in found]

    loaded: pd.DataFrame = load_typed(path, text)
    return loaded


def _text(values: pd.Series[Any]) -> pd.Series[Any]:
    """A text field as loaded (trimmed, blanks missing: by DuckDB, or by :func:`_clean` for JSON), None for missing."""
    text: pd.Series[Any] = values.astype(object).where(values.notna(), None)
    return text


def _recase(values: pd.Series[Any], case: Callable[[str], str]) -> pd.Series[Any]:
    """A few distinct texts (a currency, a status) in one case: each distinct value once, not each cell."""
    codes, uniques = pd.factorize(values)
    cased = np.array([case(str(u)) for u in uniques] + [None], dtype=object)
    out: pd.Series[Any] = pd.Series(cased[codes], index=values.index)
    return out


def _clean(value: Any) -> Any:
    return None if value is None else (str(value).strip() or None)


def _table(
    raw: pd.DataFrame, columns: dict[str, str], where: str, currency: str
) -> tuple[pd.DataFrame, list[RowIssue], int]:
    """The lines table of one file, the bad cells (rows left out) and the lines skipped."""
    n = len(raw)
    issues: list[RowIssue] = []
    bad = np.zeros(n, dtype=bool)

    def column(name: str) -> pd.Series[Any]:
        return raw[columns[name]] if name in columns else pd.Series([None] * n, index=raw.index, dtype=object)

    def report(name: str, mask: np.ndarray[Any, Any], rule: str) -> None:
        nonlocal bad
        for i in np.flatnonzero(mask):
            issues.append(RowIssue(where, int(i) + 2, columns[name], column(name).iloc[i], rule, "row left out"))
        bad |= mask

    values: dict[str, pd.Series[Any]] = {}
    for name in ("amount", "amount_cents", "discount"):
        if name not in columns:
            values[name] = pd.Series(np.nan, index=raw.index, dtype=float)
            continue
        values[name], wrong = numbers(column(name))
        report(name, wrong, "a number")
    for name in ("period_start", "period_end"):
        values[name], wrong = stamps(column(name))
        report(name, wrong, "a date (2026-01-10, or 10 Jan 2026)")
    amount = values["amount"].where(values["amount"].notna(), values["amount_cents"] / 100.0)
    amount = amount - values["discount"].fillna(0.0)
    account = _text(column("account"))
    for other in ("customer_name", "customer_id"):
        account = account.where(account.notna(), _text(column(other)))
    status = _recase(_text(column("status")), str.lower)
    start, end = values["period_start"], values["period_end"]
    skip = status.isin(NOT_REVENUE).to_numpy() | (start.isna() & end.isna()).to_numpy() | (start >= end).to_numpy()
    subscription = _text(column("subscription_id"))
    table = pd.DataFrame(
        {
            "invoice_id": _text(column("invoice_id")),
            "subscription_id": subscription.where(subscription.notna(), account),
            "account": account,
            "currency": _recase(_text(column("currency")).fillna(currency), str.upper),
            "amount": amount,
            "period_start": start,
            "period_end": end,
            "customer_id": _text(column("customer_id")),
            "source": where,
            "line": np.arange(n) + 2,
        }
    )
    for name, what in (("account", "a customer name or id"), ("amount", "an amount"),
                       ("period_start", "a period start"), ("period_end", "a period end")):  # fmt: skip
        blank = table[name].isna().to_numpy() & ~bad & ~skip
        heading = columns.get(name) or columns.get("customer_id") or columns.get("amount_cents") or name
        issues += [RowIssue(where, int(i) + 2, heading, None, what, "row left out") for i in np.flatnonzero(blank)]
        bad |= blank
    skipped = int((skip & ~bad).sum())
    return table[~bad & ~skip].reset_index(drop=True), issues, skipped


def read_invoice_lines(
    paths: Sequence[str | Path], *, mapping: Mapping[str, str] | None = None, currency: str = "USD"
) -> InvoiceLinesRead:
    """Read invoice line files into one lines table (amounts in currency units, after discounts, before tax).

    A file without a needed column raises :class:`InputError` naming the file, the fields and its headings; a bad
    cell is reported and leaves its row out."""
    frames: list[pd.DataFrame] = []
    issues: list[RowIssue] = []
    counts: dict[str, int] = {}
    skipped = 0
    for path in map(Path, paths):
        raw = _load(path, mapping)
        where = path.name
        counts[where] = len(raw)
        columns = find_columns(raw.columns, HEADINGS, mapping)
        needed = (("account", "customer_name", "customer_id"), ("amount", "amount_cents"), ("period_start",),
                  ("period_end",))  # fmt: skip
        absent = [" or ".join(group) for group in needed if not any(name in columns for name in group)]
        if absent:
            shown = ", ".join(str(c) for c in raw.columns[:20])
            raise InputError(where, shown, f"an invoice lines file with a column for {'; '.join(absent)}")
        table, bad, skip = _table(raw, columns, where, currency)
        issues += sorted(bad, key=lambda issue: issue.row)
        skipped += skip
        frames.append(table)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*LINE_COLUMNS])
    return InvoiceLinesRead(frame, issues, counts, skipped)
