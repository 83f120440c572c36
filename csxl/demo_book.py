"""``csxl new --demo``: the demo workbook built the way a founder builds theirs, through the importers.

The seeded portfolio (:func:`csxl.demo.demo_portfolio`) is written out as the exports a founder's tools give
(:mod:`csxl.demo_sources`: a HubSpot companies export, Stripe invoice line items, product events with their mapping,
a Zendesk tickets export, survey answers) into a folder beside the workbook, where they can be opened and read. An
empty workbook is then filled by ``csxl import accounts``, ``billing``, ``events``, ``tickets`` and ``surveys`` in that
order, exactly as from the command line, and refreshed once more with its History: month-end snapshots backfilled
from the imported series (``csxl backfill``) and, for the last eight weeks, seeded weekly snapshots walking back from
today's scores (:func:`csxl.demo.demo_history`), so that every week-over-week block of the Dashboard has content.

On the floor above the import and workbook use cases; the command line calls it.
"""

from __future__ import annotations

import datetime as _dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csxl.book import layout
from csxl.book.read import BookData
from csxl.book.refresh import RefreshResult, refresh
from csxl.book.template import build_template
from csxl.dashboard import history_snapshot
from csxl.demo import demo_history, demo_portfolio
from csxl.demo_sources import CRM_PROPERTIES, DemoSources, demo_sources
from csxl.errors import FileError, RowIssue
from csxl.importing import (
    event_mapping,
    import_accounts,
    import_billing,
    import_events,
    import_surveys,
    import_tickets,
)
from csxl.portfolio import Portfolio
from csxl.usecases import DEMO_WEEKS, new_target, past_snapshots

__all__ = ["SOURCE_FILES", "DemoBook", "new_demo_workbook", "write_demo_sources"]

#: The demo's source files, by what they hold.
SOURCE_FILES: dict[str, str] = {
    "crm": "hubspot-companies.csv",
    "billing": "stripe-invoice-line-items.csv",
    "events": "product-events.csv",
    "mapping": "product-events-mapping.json",
    "tickets": "zendesk-tickets.csv",
    "surveys": "survey-responses.csv",
}


@dataclass(frozen=True)
class DemoBook:
    """What ``csxl new --demo`` made: the refreshed workbook, its source files, and what each import reported
    (rows read and used, skipped, rejected cells and unmatched accounts: the demo's sources have none of the last
    two)."""

    result: RefreshResult
    sources: dict[str, Path]
    imports: dict[str, dict[str, Any]] = field(default_factory=dict)
    issues: tuple[RowIssue, ...] = ()


def write_demo_sources(sources: DemoSources, folder: str | Path, *, force: bool = False) -> dict[str, Path]:
    """Write the demo's sources into ``folder`` (:data:`SOURCE_FILES`); the CRM's custom properties are named as
    the Accounts headings they fill. Refuses to overwrite a source file unless ``force``."""
    where = Path(folder)
    paths = {kind: where / name for kind, name in SOURCE_FILES.items()}
    existing = [p for p in paths.values() if p.exists()]
    if existing and not force:
        raise FileError(str(existing[0]), "already exists; pass --force to overwrite the demo's sources")
    crm = sources.crm.rename(columns={key: layout.header_of(key) for key in CRM_PROPERTIES})
    tables = {"crm": crm, "billing": sources.invoices, "events": sources.events, "tickets": sources.tickets,
              "surveys": sources.surveys}  # fmt: skip
    try:
        where.mkdir(parents=True, exist_ok=True)
        for kind, table in tables.items():
            table.to_csv(paths[kind], index=False, lineterminator="\n")
        paths["mapping"].write_text(json.dumps(sources.mapping, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise FileError(str(where), f"cannot write the demo's sources ({exc.strerror or exc})") from None
    return paths


def new_demo_workbook(
    path: str | Path,
    *,
    accounts: int = 250,
    seed: int = 7,
    as_of: _dt.date | None = None,
    currency: str = "USD",
    force: bool = False,
    sources: str | Path | None = None,
) -> DemoBook:
    """Write the demo's sources (into ``sources``, default ``<book>-sources`` beside the workbook) and build the
    workbook ``path`` from them through the importers (see the module). The workbook appears complete or not at all;
    an existing workbook or source file is kept unless ``force``."""
    target = new_target(path, force)
    data = demo_portfolio(accounts, seed=seed, as_of=as_of)
    folder = Path(sources) if sources is not None else target.with_name(f"{target.stem}-sources")
    files = write_demo_sources(demo_sources(data, seed=seed, currency=currency), folder, force=force)
    with tempfile.TemporaryDirectory(prefix="csxl-demo-") as scratch:
        imported = Path(scratch) / "imported.xlsx"
        build_template(imported, as_of=data.as_of, currency=currency)
        reports = _import_all(imported, files)
        # the last refresh writes the workbook (and its History archive) at its place, atomically
        result = refresh(imported, out=target, force=force, backfill=_demo_history(imported, seed))
    issues = tuple(i for report in reports.values() for i in report.pop("_issues"))
    return DemoBook(result=result, sources=files, imports=reports, issues=issues)


def _import_all(book: Path, files: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """The five imports in the order a founder runs them (accounts first: the others match against them)."""
    out: dict[str, dict[str, Any]] = {}
    crm = import_accounts(book, [files["crm"]], force=True, then_refresh=False)
    out["accounts"] = {"rows": sum(crm.rows_read.values()), "added": crm.added, "skipped": crm.skipped,
                       "_issues": crm.issues}  # fmt: skip
    billing = import_billing(book, [files["billing"]], force=True, then_refresh=False)
    out["billing"] = {**_summary(billing.to_dict()), "_issues": billing.issues + billing.unmatched}
    mapping = event_mapping(mapping_file=files["mapping"])
    events = import_events(book, [files["events"]], mapping=mapping, force=True, then_refresh=False)
    out["events"] = {**_summary(events.to_dict()), "_issues": events.unmatched}
    tickets = import_tickets(book, [files["tickets"]], force=True, then_refresh=False)
    out["tickets"] = {"rows": tickets.rows_read, "used": tickets.rows_used, "_issues": tickets.unmatched}
    surveys = import_surveys(book, [files["surveys"]], force=True, then_refresh=False)
    out["surveys"] = {"rows": sum(surveys.rows_read.values()), "used": surveys.rows_used,
                      "_issues": surveys.issues + surveys.unmatched}  # fmt: skip
    return out


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    keep = ("rows_read", "rows_used", "rows_kept", "skipped", "match_rate", "mrr_rows", "usage_rows")
    return {k: v for k, v in report.items() if k in keep}


def _demo_history(book: Path, seed: int) -> Any:
    """The History the demo refresh adds: seeded weekly snapshots for the last :data:`DEMO_WEEKS` weeks, and the
    month ends before them backfilled from the imported series."""

    def snapshots(data: BookData, today: Portfolio) -> pd.DataFrame:
        weekly = demo_history(history_snapshot(today), weeks=DEMO_WEEKS, seed=seed)
        months = past_snapshots(data, today, book, None)
        if not weekly.empty and not months.empty:
            months = months[months["as_of"] < weekly["as_of"].min()]
        return pd.concat([months, weekly], ignore_index=True)

    return snapshots
