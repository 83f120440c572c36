"""Which account on the Accounts sheet an imported value means (workbook edge): by CRM record id, by web domain,
by name. One home for the rule every import uses (:func:`resolve_accounts`) and the CRM import's own
(:func:`existing_accounts`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from csxl.book import layout
from csxl.book.read import BookData
from csxl.cells import company_key, domain_key, domain_label, record_key
from csxl.errors import RowIssue
from csxl.tables import match_accounts

__all__ = ["account_domains", "account_ids", "existing_accounts", "resolve_accounts"]


def account_ids(accounts: pd.DataFrame) -> dict[str, str]:
    """CRM record id key -> Accounts name, from the Accounts ``CRM ID`` column (the first account of an id)."""
    out: dict[str, str] = {}
    if "crm_id" in accounts.columns:
        for name, record in zip(accounts["account"], accounts["crm_id"], strict=True):
            key = record_key(record)
            if key and isinstance(name, str):
                out.setdefault(key, name)
    return out


def account_domains(accounts: pd.DataFrame) -> dict[str, str]:
    """Domain key -> Accounts name, from the Accounts ``Domain`` column (the first account of a domain)."""
    out: dict[str, str] = {}
    if "domain" in accounts.columns:
        for name, domain in zip(accounts["account"], accounts["domain"], strict=True):
            key = domain_key(domain) if isinstance(domain, str) else None
            if key and isinstance(name, str):
                out.setdefault(key, name)
    return out


def resolve_accounts(values: Sequence[Any], book: BookData, what: str) -> tuple[dict[Any, str], list[RowIssue]]:
    """Each imported account value -> the Accounts name it means, and one issue per value that names no account.

    A value equal to an Accounts ``CRM ID`` is that account; a domain, URL or e-mail address is matched to the
    Accounts ``Domain`` column, else by its name part; any other value by name (exactly, else ignoring case,
    spacing, punctuation and one legal-form word). A value that matches nothing keeps its own spelling (it is
    reported with the closest Accounts name)."""
    accounts = book.tables[layout.SHEET_ACCOUNTS]
    by_id = account_ids(accounts)
    by_domain = account_domains(accounts)
    out: dict[Any, str] = {}
    rest: list[Any] = []
    named: list[str] = []
    for value in dict.fromkeys(values):
        record = record_key(value)
        if record is not None and record in by_id:
            out[value] = by_id[record]
            continue
        key = domain_key(value) if isinstance(value, str) and ("." in value or "@" in value) else None
        if key is not None and key in by_domain:
            out[value] = by_domain[key]
        else:
            rest.append(value)
            named.append(domain_label(key) if key is not None else str(value))
    spelled, issues = match_accounts(pd.DataFrame({"account": named}), accounts["account"], what)
    for value, name, spelling in zip(rest, named, spelled["account"], strict=True):
        out[value] = str(spelling) if spelling != name else str(value)
    # an issue names the value as imported (tailspin.io), not the name part it was matched by; it has no row (a name
    # may stand on many lines of the files)
    return out, [replace(i, value=rest[i.row] if 0 <= i.row < len(rest) else i.value, row=0) for i in issues]


def existing_accounts(book: BookData, crm: pd.DataFrame) -> tuple[list[str | None], int]:
    """The Accounts name each CRM row is (matched by CRM id, else domain, else name key), ``None`` for a new one."""
    accounts = book.tables[layout.SHEET_ACCOUNTS]
    names = [str(n) for n in accounts["account"] if isinstance(n, str)]
    by_key: dict[str, list[str]] = {}
    for name in names:
        by_key.setdefault(company_key(name), []).append(name)
    by_domain = account_domains(accounts)
    by_id = account_ids(accounts)
    found: list[str | None] = []
    by_domain_count = 0
    records = crm["crm_id"] if "crm_id" in crm.columns else pd.Series([None] * len(crm))
    for name, domain, record in zip(crm["account"], crm["domain"], records, strict=True):
        if record_key(record) in by_id:
            found.append(by_id[str(record_key(record))])
            continue
        key = domain_key(domain) if isinstance(domain, str) else None
        if key is not None and key in by_domain:
            found.append(by_domain[key])
            by_domain_count += 1
            continue
        hits = [str(name)] if str(name) in names else by_key.get(company_key(str(name)), [])
        found.append(hits[0] if len(hits) == 1 else None)
    return found, by_domain_count
