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
import numpy.typing as npt
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
#: The text fields that repeat from line to line (read as categoricals); an invoice id names a few lines only.
_KEYS = ("subscription_id", "account", "customer_name", "customer_id", "currency", "status")


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

    def keys(headings: list[str]) -> list[str]:
        found = find_columns(headings, HEADINGS, mapping)
        return [found[name] for name in _KEYS if name in found]

    loaded: pd.DataFrame = load_typed(path, text, keys)
    return loaded


def _text(values: pd.Series[Any] | None, n: int) -> pd.Series[Any]:
    """A text field as loaded (trimmed, blanks missing: by DuckDB, or by :func:`_clean` for JSON): categoricals and
    strings as they are (millions of lines: no Python object per cell), anything else as text or None; an absent
    field all missing."""
    if values is None:
        return _categories(np.full(n, -1, dtype=np.int8), pd.Index([], dtype=object))
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(values.dtype):
        return values
    text: pd.Series[Any] = values.astype(object).where(values.notna(), None)
    return text


def _first_of(*fields: pd.Series[Any]) -> pd.Series[Any]:
    """Per line, the first of ``fields`` that is not missing (the account: its metadata, else the customer's name,
    else its id). Categoricals stay categoricals (their categories joined), the rest becomes text."""
    out = fields[0]
    for other in fields[1:]:
        missing = out.isna()
        if not missing.any():
            break
        if isinstance(out.dtype, pd.CategoricalDtype) and isinstance(other.dtype, pd.CategoricalDtype):
            both = out.cat.categories.union(other.cat.categories)
            out = out.cat.set_categories(both).where(~missing, other.cat.set_categories(both))
        else:
            out = out.astype(object).where(~missing, other.astype(object))
    return out


def _recase(values: pd.Series[Any], case: Callable[[str], str]) -> pd.Series[Any]:
    """A few distinct texts (a currency, a status) in one case: each distinct value once, not each cell."""
    codes, uniques = pd.factorize(values)
    cased = np.array([case(str(u)) for u in uniques] + [None], dtype=object)
    again, names = pd.factorize(pd.Series(cased[:-1], dtype=object))  # "usd" and "USD" are one currency
    out: pd.Series[Any] = _categories(np.append(again, -1)[codes], pd.Index(names, dtype=object)).set_axis(values.index)
    return out


def _categories(codes: npt.NDArray[np.signedinteger[Any]], names: pd.Index[Any]) -> pd.Series[Any]:
    """A categorical column from codes into ``names`` (-1: missing)."""
    out: pd.Series[Any] = pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(names)))
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

    def field(name: str) -> pd.Series[Any]:
        out: pd.Series[Any] = _text(raw[columns[name]] if name in columns else None, n).set_axis(raw.index)
        return out

    def report(name: str, mask: np.ndarray[Any, Any], rule: str) -> None:
        nonlocal bad
        for i in np.flatnonzero(mask):
            issues.append(RowIssue(where, int(i) + 2, columns[name], column(name).iloc[i], rule, "row left out"))
        bad |= mask

    values: dict[str, pd.Series[Any]] = {}
    for name in ("amount", "amount_cents", "discount"):
        if name in columns:
            values[name], wrong = numbers(column(name))
            report(name, wrong, "a number")
    for name in ("period_start", "period_end"):
        values[name], wrong = stamps(column(name))
        report(name, wrong, "a date (2026-01-10, or 10 Jan 2026)")
    # the amount, else the amount in cents; less the discount (absent columns cost nothing: millions of lines)
    cents = values["amount_cents"] / 100.0 if "amount_cents" in values else None
    amount = values.get("amount", cents)
    if amount is None or cents is None or amount is cents:
        amount = amount if amount is not None else pd.Series(np.nan, index=raw.index, dtype=float)
    elif amount.isna().any():
        amount = amount.where(amount.notna(), cents)
    if "discount" in values:
        amount = amount - values["discount"].fillna(0.0)
    account = _first_of(*(field(name) for name in ("account", "customer_name", "customer_id") if name in columns))
    status = _recase(field("status"), str.lower)
    start, end = values["period_start"], values["period_end"]
    skip = status.isin(NOT_REVENUE).to_numpy() | (start.isna() & end.isna()).to_numpy() | (start >= end).to_numpy()
    currencies = _recase(field("currency"), str.upper)
    if currencies.isna().any():  # a line without a currency is in the workbook's
        given = _categories(np.zeros(n, dtype=np.int8), pd.Index([currency.upper()], dtype=object))
        currencies = _first_of(currencies, given.set_axis(raw.index))
    columns_out: dict[str, Any] = {
        "invoice_id": field("invoice_id"),
        "subscription_id": _first_of(field("subscription_id"), account),
        "account": account,
        "currency": currencies,
        "amount": amount,
        "period_start": start,
        "period_end": end,
        "customer_id": field("customer_id"),
        "source": _categories(np.zeros(n, dtype=np.int8), pd.Index([where], dtype=object)).set_axis(raw.index),
        "line": np.arange(n) + 2,
    }
    table = pd.DataFrame(index=raw.index)
    for name, values_out in columns_out.items():  # one block per column: no copy into stacked blocks
        table[name] = values_out
    for name, what in (("account", "a customer name or id"), ("amount", "an amount"),
                       ("period_start", "a period start"), ("period_end", "a period end")):  # fmt: skip
        blank = table[name].isna().to_numpy() & ~bad & ~skip
        heading = columns.get(name) or columns.get("customer_id") or columns.get("amount_cents") or name
        issues += [RowIssue(where, int(i) + 2, heading, None, what, "row left out") for i in np.flatnonzero(blank)]
        bad |= blank
    skipped = int((skip & ~bad).sum())
    kept = ~bad & ~skip
    return (table if kept.all() else table[kept].reset_index(drop=True)), issues, skipped


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
