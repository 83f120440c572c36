"""CRM exports -> Accounts rows (data edge): a HubSpot companies export or a Salesforce accounts export.

Headings are matched by name (:data:`HEADINGS`, case, spaces and punctuation ignored). Read into the Accounts columns
``account, domain, crm_id, csm, segment, renewal_date, arr`` (``crm_id``: HubSpot's Record ID, Salesforce's Account
ID, the key later imports match by first) and checked by the Accounts loader itself
(:func:`csxl.tables.load_accounts`): a bad cell is ignored and reported by file and line, a repeated name leaves the
later row out. Decisions: a company's **Annual Revenue** is its turnover, not what it pays you, and is never read as
ARR (only ``ARR``, ``Annual Recurring Revenue``, ``Annual Contract Value``); the owner (``Company owner``,
``Account Owner``) is the CSM; a website is read as its domain; with a ``Lifecycle Stage`` (HubSpot) or ``Type``
(Salesforce) column only customers are imported (a value containing "customer"), the rest counted as skipped.
Any other Accounts column can come from a custom property named as its Accounts heading (``Champion status``,
``Start date``, ``Seats purchased`` ...): founders keep those on the company record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from csxl.cells import domain_key
from csxl.data.files import find_columns, is_blank_text, load_csv
from csxl.errors import InputError, RowIssue
from csxl.tables import load_accounts

__all__ = ["CRM_COLUMNS", "HEADINGS", "CrmRead", "read_crm"]

#: The Accounts columns a CRM import fills.
CRM_COLUMNS: tuple[str, ...] = ("account", "domain", "crm_id", "csm", "segment", "renewal_date", "arr")

HEADINGS: Mapping[str, tuple[str, ...]] = {
    "account": ("company name", "account name", "name", "company", "account"),
    "domain": ("company domain name", "domain", "website", "company website", "website url"),
    "crm_id": ("record id", "account id", "company id", "crm id", "hubspot id", "salesforce id", "id"),
    "csm": ("company owner", "account owner", "owner", "csm", "customer success manager"),
    "segment": ("segment", "customer segment"),
    "renewal_date": ("renewal date", "contract end date", "next renewal date", "contract renewal date"),
    "arr": ("arr", "annual recurring revenue", "annual contract value", "acv"),
    "stage": ("lifecycle stage", "type", "account type"),
}


@dataclass
class CrmRead:
    """The accounts read (:data:`CRM_COLUMNS`, typed by the Accounts loader), every bad cell, rows read per file,
    and rows skipped as not customers."""

    frame: pd.DataFrame
    issues: list[RowIssue] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    skipped: int = 0


def _one_file(path: Path, properties: Mapping[str, str]) -> tuple[pd.DataFrame, list[RowIssue], int, int]:
    raw = load_csv(path)
    names = {**HEADINGS, **{key: (heading,) for key, heading in properties.items() if key not in HEADINGS}}
    found = find_columns(raw.columns, names)
    columns = {name: found.get(name) for name in names}
    wanted_columns = [*CRM_COLUMNS, *(key for key in names if key not in HEADINGS and columns[key] is not None)]
    if columns["account"] is None:
        shown = ", ".join(map(str, raw.columns[:20]))
        raise InputError(path.name, shown, "a CRM export with a company or account name column")
    keep = pd.Series(True, index=raw.index)
    if columns["stage"] is not None:
        keep = raw[columns["stage"]].astype(object).map(lambda v: not is_blank_text(v) and "customer" in str(v).lower())
    texts = pd.DataFrame(
        {
            name: (raw[columns[name]] if columns[name] else pd.Series([None] * len(raw), index=raw.index)).astype(
                object
            )
            for name in wanted_columns
        }
    )
    texts["domain"] = texts["domain"].map(lambda v: None if is_blank_text(v) else (domain_key(v) or str(v).strip()))
    texts = texts.where(~texts.map(is_blank_text), None)
    # lines stay the file's (header = line 1): the loader numbers rows from first_row, kept rows keep their index
    loaded = load_accounts(texts.reset_index(drop=True), sheet=path.name, first_row=2)
    frame = loaded.frame[wanted_columns]
    wanted = set((keep[keep].index + 2).tolist())
    frame = frame[frame.index.isin(wanted)]
    issues = [i for i in loaded.issues if i.row in wanted or i.row < 2]
    for issue in issues:
        if columns.get(issue.column):
            issues[issues.index(issue)] = RowIssue(
                issue.sheet, issue.row, str(columns[issue.column]), issue.value, issue.rule, issue.effect
            )
    return frame, issues, len(raw), int((~keep).sum())


def read_crm(paths: Sequence[str | Path], *, properties: Mapping[str, str] | None = None) -> CrmRead:
    """Read CRM export files into Accounts columns (see the module). ``properties``: more Accounts columns (key ->
    heading) read from a custom property of that name (a founder's own ``Champion status`` or ``Start date`` kept on
    the company record), checked by the same rules as on the sheet."""
    out = CrmRead(pd.DataFrame(columns=list(CRM_COLUMNS)))
    frames = []
    for path in map(Path, paths):
        frame, issues, count, skipped = _one_file(path, properties or {})
        frames.append(frame)
        out.issues += issues
        out.rows_read[path.name] = count
        out.skipped += skipped
    if frames:
        out.frame = pd.concat(frames, ignore_index=True)
    return out
