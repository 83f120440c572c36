"""Subscription exports -> the subscriptions table of :mod:`csxl.billing` (data edge, DuckDB reads the files).

Accepted: a Stripe Dashboard export of subscriptions (the user picks its columns, so any subset in any order), and a
generic subscription CSV (plan id, plan name, currency, amount in cents, interval, interval count, customer id and
name, subscription id, started at, canceled at, quantity). Headings are matched by name, ignoring case, spaces,
punctuation and a ``(UTC)`` note (:data:`HEADINGS` lists every name read); ``<key> (metadata)`` columns are the
user's own Stripe fields, and ``account (metadata)`` or ``company (metadata)``, when present, names the workbook
account (it beats the customer name). Numbers may carry currency signs and thousands separators
(:func:`csxl.cells.number_from_text`); dates are ISO (``2026-01-10``, ``2026-01-10 14:22``) or the forms
:func:`csxl.cells.date_from_text` reads.

A cell that cannot be read leaves its row out, with one :class:`RowIssue` per bad cell (file, line, column, value,
rule): a subscription with an unknown end or price would be a silent wrong number. Line = the data row + 1 (the
header is line 1).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csxl.billing import INTERVAL_MONTHS, SUBSCRIPTION_COLUMNS
from csxl.cells import BAD, yes_no
from csxl.data.files import (
    CRM_ID_METADATA,
    find_columns,
    is_blank_text,
    json_items,
    load_csv,
    metadata_account,
    read_date,
    read_number,
)
from csxl.errors import FileError, InputError, RowIssue

__all__ = ["HEADINGS", "SubscriptionsRead", "read_subscriptions"]

#: Field -> the headings read as it (compared as :func:`_key`); the first found wins.
HEADINGS: Mapping[str, tuple[str, ...]] = {
    "subscription_id": ("subscription id", "subscription", "id"),
    "account": ("account metadata", "company metadata", *CRM_ID_METADATA),
    "customer_name": ("customer name", "customer description", "company", "account"),
    "customer_id": ("customer id", "customer"),
    "currency": ("currency", "plan currency", "price currency"),
    "amount": ("amount", "plan amount", "price amount", "unit price", "price"),
    "amount_cents": ("amount in cents", "amount cents", "unit amount", "plan amount cents"),
    "interval": ("interval", "plan interval", "price interval", "billing interval", "billing period"),
    "interval_count": ("interval count", "plan interval count", "price interval count"),
    "quantity": ("quantity", "seats"),
    "percent_off": ("percent off", "coupon percent off", "discount percent"),
    "amount_off": ("amount off", "coupon amount off", "discount amount"),
    "discount_end": ("discount end", "coupon end", "discount ends at"),
    "started_at": ("start date", "started at", "start", "current period start", "created"),
    "trial_end": ("trial end", "trial ends at"),
    "canceled_at": ("canceled at", "cancelled at", "cancellation date"),
    "ended_at": ("ended at", "ended", "end date"),
    "period_end": ("current period end", "period end"),
    "cancel_at_period_end": ("cancel at period end",),
    "status": ("status",),
}

_INTERVAL_WORDS: Mapping[str, str] = {
    **{unit: unit for unit in INTERVAL_MONTHS},
    "monthly": "month", "months": "month", "annual": "year", "annually": "year", "yearly": "year", "years": "year",
    "weekly": "week", "weeks": "week", "daily": "day", "days": "day", "quarterly": "quarter", "quarters": "quarter",
}  # fmt: skip

_DATES = ("started_at", "trial_end", "canceled_at", "ended_at", "period_end", "discount_end")
_NUMBERS = ("amount", "amount_cents", "interval_count", "quantity", "percent_off", "amount_off")


@dataclass
class SubscriptionsRead:
    """What :func:`read_subscriptions` found: the table (:data:`csxl.billing.SUBSCRIPTION_COLUMNS` plus
    ``customer_id``, ``source`` and ``line``), every bad cell, and rows read per file."""

    frame: pd.DataFrame
    issues: list[RowIssue] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)

    @property
    def rows_used(self) -> int:
        return len(self.frame)


def _stamp(value: Any) -> str | None:
    """A Stripe API timestamp (Unix seconds) as ISO text in UTC; text is kept for the cell rules to judge."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    if isinstance(value, (int, float)):
        try:
            return _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        except (OverflowError, OSError, ValueError):
            return str(value)
    return str(value)


def _discount(sub: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(percent off, amount off in cents, end) of a subscription's discount: ``discount`` before the 2025-03-31 API
    version, the first expanded object of ``discounts`` after it (an id alone says nothing: no discount read)."""
    found = sub.get("discount")
    if not isinstance(found, Mapping):
        found = next((d for d in sub.get("discounts") or [] if isinstance(d, Mapping)), None)
    if not isinstance(found, Mapping):
        return None, None, None
    coupon: Any = found.get("coupon")
    if not isinstance(coupon, Mapping):
        coupon = {}
    return coupon.get("percent_off"), coupon.get("amount_off"), found.get("end")


def _json_rows(sub: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per subscription item of a Stripe API subscription object (both API shapes: the current period on
    the subscription before 2025-03-31, on each item after)."""
    customer = sub.get("customer")
    name = customer.get("name") if isinstance(customer, Mapping) else None
    customer_id = customer.get("id") if isinstance(customer, Mapping) else customer
    metadata: Any = sub.get("metadata")
    if not isinstance(metadata, Mapping):
        metadata = {}
    percent, amount_off, discount_end = _discount(sub)
    items = (sub.get("items") or {}).get("data") if isinstance(sub.get("items"), Mapping) else None
    rows = []
    for item in items or [{}]:
        price = item.get("price") or item.get("plan") or {}
        recurring = price.get("recurring") or price
        rows.append(
            {
                "subscription id": sub.get("id"),
                "customer id": customer_id,
                "customer name": name,
                "account (metadata)": metadata_account(metadata),
                "currency": price.get("currency") or sub.get("currency"),
                "amount in cents": price.get("unit_amount", price.get("amount")),
                "interval": recurring.get("interval"),
                "interval count": recurring.get("interval_count"),
                "quantity": item.get("quantity", sub.get("quantity")),
                "percent off": percent,
                "amount off": amount_off / 100 if isinstance(amount_off, (int, float)) else amount_off,
                "discount end": _stamp(discount_end),
                "started at": _stamp(sub.get("start_date") or sub.get("created")),
                "trial end": _stamp(sub.get("trial_end")),
                "canceled at": _stamp(sub.get("canceled_at")),
                "ended at": _stamp(sub.get("ended_at")),
                "current period end": _stamp(item.get("current_period_end", sub.get("current_period_end"))),
                "cancel at period end": sub.get("cancel_at_period_end"),
                "status": sub.get("status"),
            }
        )
    return rows


def _load(path: Path) -> pd.DataFrame:
    """A subscriptions file: a Stripe API list (``.json``, ``.jsonl``) or a CSV (every cell as text)."""
    if path.is_file() and path.suffix.lower() in (".json", ".jsonl", ".ndjson"):
        return _load_json(path)
    return load_csv(path)


def _load_json(path: Path) -> pd.DataFrame:
    """A Stripe API list of subscriptions (``{"object": "list", "data": [...]}``, a bare list, or one per line)."""
    items = json_items(path)
    if not all(isinstance(s, Mapping) for s in items):
        raise FileError(str(path), 'is not a list of Stripe subscription objects (expected {"data": [...]})')
    rows = [row for sub in items for row in _json_rows(sub)]
    frame = pd.DataFrame(rows, columns=list(_json_rows({})[0]))
    texts: pd.DataFrame = frame.astype(object).where(frame.notna(), None).map(lambda v: v if v is None else str(v))
    return texts


def _cells(raw: pd.DataFrame, columns: dict[str, str], where: str) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Each field converted cell by cell; an unreadable cell is an issue and its row is left out."""
    issues: list[RowIssue] = []
    out = pd.DataFrame(index=raw.index)
    bad = np.zeros(len(raw), dtype=bool)

    def report(name: str, mask: Any, rule: str) -> None:
        nonlocal bad
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            issues.append(RowIssue(where, int(i) + 2, columns[name], raw[columns[name]].iloc[i], rule, "row left out"))
        bad |= np.asarray(mask, dtype=bool)

    for name in HEADINGS:
        values = raw[columns[name]] if name in columns else pd.Series([None] * len(raw), index=raw.index)
        if name in _NUMBERS:
            converted = values.map(read_number)
            report(name, converted.isna() & values.notna() & (values.astype(str).str.strip() != ""), "a number")
            out[name] = pd.to_numeric(converted, errors="coerce")
        elif name in _DATES:
            converted = values.astype(object).map(read_date).astype(object)
            failed = converted.map(lambda v: v is BAD)
            report(name, failed, "a date (2026-01-10, or 10 Jan 2026)")
            out[name] = pd.to_datetime(converted.where(~failed, None))
        elif name == "cancel_at_period_end":
            flags = values.map(yes_no)
            report(name, flags.map(lambda v: v is BAD), "true or false")
            out[name] = flags.map(lambda v: v is True)
        elif name == "interval":
            words = values.astype(object).map(
                lambda v: None if is_blank_text(v) else _INTERVAL_WORDS.get(str(v).strip().lower())
            )
            given = ~values.astype(object).map(is_blank_text).astype(bool)
            report(name, words.isna() & given, f"a billing interval ({', '.join(INTERVAL_MONTHS)})")
            out[name] = words
        else:
            out[name] = values.astype(object).map(lambda v: None if is_blank_text(v) else str(v).strip())
    out = out[~bad]
    return out, issues


#: Fields a file must have (one heading of each group).
_REQUIRED: tuple[tuple[str, ...], ...] = (
    ("account", "customer_name", "customer_id"),
    ("amount", "amount_cents"),
    ("interval",),
    ("started_at",),
)


def _table(
    cells: pd.DataFrame, raw: pd.DataFrame, columns: dict[str, str], where: str, currency: str
) -> tuple[pd.DataFrame, list[RowIssue]]:
    """The billing table from the converted cells; rows without a needed value are reported and left out."""
    amount = cells["amount"].where(cells["amount"].notna(), cells["amount_cents"] / 100.0)
    account = cells["account"].where(cells["account"].notna(), cells["customer_name"])
    account = account.where(account.notna(), cells["customer_id"])
    ended = cells["ended_at"].notna()
    table = pd.DataFrame(
        {
            "subscription_id": cells["subscription_id"].where(
                cells["subscription_id"].notna(), pd.Series([f"{where}:{i + 2}" for i in cells.index], cells.index)
            ),
            "account": account,
            "currency": cells["currency"].fillna(currency).str.upper(),
            "amount": amount,
            "interval": cells["interval"],
            "interval_count": cells["interval_count"].fillna(1.0),
            "quantity": cells["quantity"].fillna(1.0),
            "percent_off": cells["percent_off"],
            "amount_off": cells["amount_off"],
            "discount_end": cells["discount_end"],
            "started_at": cells["started_at"],
            "trial_end": cells["trial_end"],
            "canceled_at": cells["ended_at"].where(ended, cells["canceled_at"]),
            "period_end": cells["period_end"],
            "cancel_at_period_end": cells["cancel_at_period_end"] & ~ended,  # an end that happened is the end
            "status": cells["status"],
            "customer_id": cells["customer_id"],
        }
    )
    issues: list[RowIssue] = []
    missing = np.zeros(len(table), dtype=bool)
    for name, what in (("account", "a customer name or id"), ("amount", "a price"), ("interval", "an interval"),
                       ("started_at", "a start date")):  # fmt: skip
        blank = table[name].isna().to_numpy()
        heading = columns.get(name) or columns.get("customer_id") or columns.get("amount_cents") or name
        for i in np.flatnonzero(blank & ~missing):
            issues.append(RowIssue(where, int(table.index[i]) + 2, heading, None, what, "row left out"))
        missing |= blank
    table = table[~missing]
    table["source"] = where
    table["line"] = table.index + 2
    return table.reset_index(drop=True), issues


def read_subscriptions(
    paths: Sequence[str | Path], *, mapping: Mapping[str, str] | None = None, currency: str = "USD"
) -> SubscriptionsRead:
    """Read subscription CSV files (Stripe's export or the generic layout) into one billing table.

    ``mapping``: field -> heading, for headings :data:`HEADINGS` does not know; ``currency``: for rows without one.
    A file without a needed column raises :class:`InputError` naming the file, the fields and the headings it has;
    a bad cell is reported and leaves its row out."""
    frames: list[pd.DataFrame] = []
    issues: list[RowIssue] = []
    counts: dict[str, int] = {}
    for path in map(Path, paths):
        raw = _load(path)
        where = path.name
        counts[where] = len(raw)
        columns = find_columns(raw.columns, HEADINGS, mapping)
        absent = [" or ".join(group) for group in _REQUIRED if not any(name in columns for name in group)]
        if absent:
            shown = ", ".join(str(c) for c in raw.columns[:20])
            raise InputError(where, shown, f"a subscriptions file with a column for {'; '.join(absent)}")
        cells, bad = _cells(raw, columns, where)
        table, blank = _table(cells, raw, columns, where, currency)
        order = {str(c): i for i, c in enumerate(raw.columns)}  # by line, then as the file's columns run
        issues += sorted([*bad, *blank], key=lambda issue: (issue.row, order.get(issue.column, len(order))))
        frames.append(table)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*SUBSCRIPTION_COLUMNS])
    return SubscriptionsRead(frame, issues, counts)
