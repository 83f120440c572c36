"""``csxl import KIND FILE... --book PATH``: data a founder already has, into the workbook, then a refresh."""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from csxl.cli.common import AS_OF, EXIT_DATA, PATH, friendly, issues_lines
from csxl.importing import (
    EVENT_ENGINES,
    EVENT_PRESETS,
    event_mapping,
    import_accounts,
    import_billing,
    import_events,
    import_surveys,
    import_tickets,
    load_mapping,
    match_rate,
)

__all__ = ["import_group"]

F = TypeVar("F", bound=Callable[..., Any])


def _writes(book_help: str, overwrite_help: str | None) -> Callable[[F], F]:
    """The options every import shares: the workbook, the as-of date, --overwrite (when it can replace typed
    values), --force and --json."""

    def decorate(func: F) -> F:
        options = [
            click.option("--book", "book", required=True, type=PATH, help=book_help),
            AS_OF,
            *([click.option("--overwrite", is_flag=True, help=overwrite_help)] if overwrite_help else []),
            click.option("--force", is_flag=True, help="Write even if Excel's lock file says the workbook is open."),
            click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


@click.group("import")
def import_group() -> None:
    """Bring in data from the files you already have (billing, events, surveys, tickets, CRM accounts), then refresh."""


def _short(value: object) -> str:
    """A value for a one-line message: numbers to four significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _rate(accounts: int, unmatched: int) -> str:
    """``", 97 % matched"`` (nothing when nothing was imported)."""
    rate = match_rate(accounts, unmatched)
    return "" if rate is None else f", {rate:.0%} matched"


def _rates(values: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for value in values:
        code, _, rate = value.partition("=")
        try:
            number = float(rate)
        except ValueError:
            number = float("nan")
        if len(code.strip()) != 3 or not number > 0 or number == float("inf"):
            raise click.BadParameter(f"{value!r}: expected CUR=RATE, e.g. EUR=1.08", param_hint="--rate")
        out[code.strip().upper()] = number
    return out


@import_group.command("billing")
@click.argument("files", nargs=-1, required=True, type=PATH)
@_writes("The workbook to put the MRR rows in.", "Replace MRR you typed for an imported account and month.")
@click.option("--mapping", type=PATH, help="JSON file: field -> heading, for headings csxl does not know.")
@click.option("--rate", "rates", multiple=True, help="CUR=RATE: workbook currency per unit of CUR (repeatable).")
@click.option(
    "--strict/--no-strict",
    default=True,
    show_default=True,
    help=f"Exit {EXIT_DATA} when rows were rejected (the rest is imported either way).",
)
@friendly
def import_billing_cmd(
    files: tuple[Path, ...],
    book: Path,
    mapping: Path | None,
    rates: tuple[str, ...],
    as_of: _dt.date | None,
    overwrite: bool,
    force: bool,
    as_json: bool,
    strict: bool,
) -> None:
    """Subscription or invoice exports (Stripe's CSV or API JSON, a generic CSV, invoice lines as Parquet) -> MRR
    rows in the workbook at BOOK, then a refresh."""

    report = import_billing(
        book, files, mapping=load_mapping(mapping) if mapping else None, rates=_rates(rates), as_of=as_of,
        overwrite=overwrite, force=force,
    )  # fmt: skip
    if as_json:
        click.echo(report.output().model_dump_json(indent=2))
    else:
        read = sum(report.rows_read.values())
        click.echo(
            f"csxl: imported {report.rows_used} of {read} {report.source} from {len(report.rows_read)} file(s)"
            + (f" ({report.skipped} one-off or not revenue, skipped)" if report.skipped else "")
            + ": "
            f"{report.mrr_rows} MRR rows for {report.accounts} accounts ({len(report.unmatched)} not on Accounts"
            f"{_rate(report.accounts, len(report.unmatched))}); "
            f"{report.appended} rows added, {report.overwritten} months replaced, {len(report.kept)} typed months kept"
        )
        for line in issues_lines([*report.issues, *report.unmatched]):
            click.echo(line, err=True)
        for account, month, typed, imported in report.kept[:20]:
            click.echo(f"  kept {account} {month:%Y-%m}: typed {typed}, imported {imported:g} (--overwrite)", err=True)
    if report.issues and strict:
        sys.exit(EXIT_DATA)


@import_group.command("events")
@click.argument("files", nargs=-1, required=True, type=PATH)
@_writes("The workbook to fill.", "Replace usage values you typed on Accounts.")
@click.option(
    "--preset",
    type=click.Choice(sorted(EVENT_PRESETS)),
    default="generic",
    show_default=True,
    help="Whose export the files are (field names).",
)
@click.option("--login", "logins", multiple=True, help="An event name that is a login (repeatable).")
@click.option("--core", "core", multiple=True, help="An event name that is the core (value) action (repeatable).")
@click.option("--feature", help="SQL expression naming an event's feature (default: the event name).")
@click.option("--mapping", type=PATH, help="JSON file: preset, logins, core, feature, ignored, fields (see docs).")
@click.option(
    "--engine",
    type=click.Choice(EVENT_ENGINES),
    default="duckdb",
    show_default=True,
    help="Where the aggregation runs: DuckDB embedded, or Spark (PySpark's configured master; the csxl[spark] extra).",
)
@friendly
def import_events_cmd(
    files: tuple[Path, ...],
    book: Path,
    preset: str,
    logins: tuple[str, ...],
    core: tuple[str, ...],
    feature: str | None,
    mapping: Path | None,
    engine: str,
    as_of: _dt.date | None,
    overwrite: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Product events (CSV, JSON lines or Parquet) -> the Usage sheet and the Accounts usage columns of BOOK."""

    chosen = event_mapping(preset=preset, logins=logins, core=core, feature=feature, mapping_file=mapping)
    report = import_events(book, files, mapping=chosen, as_of=as_of, overwrite=overwrite, force=force, engine=engine)
    if as_json:
        click.echo(report.output().model_dump_json(indent=2))
        return
    click.echo(
        f"csxl: read {report.rows_read} events, kept {report.rows_kept} (duplicates, later than the as-of date or "
        f"without account, user or time left out); {report.accounts} accounts ({len(report.unmatched)} not on "
        f"Accounts{_rate(report.accounts, len(report.unmatched))}); {report.usage_rows} Usage rows; "
        f"{report.written} Accounts cells written, {len(report.kept)} typed cells kept"
    )
    for line in issues_lines(report.unmatched):
        click.echo(line, err=True)
    for account, column, typed, imported in report.kept[:20]:
        click.echo(
            f"  kept {account} {column}: typed {_short(typed)}, measured {_short(imported)} (--overwrite)", err=True
        )


@import_group.command("surveys")
@click.argument("files", nargs=-1, required=True, type=PATH)
@_writes("The workbook to add the answers to.", None)
@click.option("--kind", type=click.Choice(["nps", "csat", "ces"]), help="The survey, for files that name it nowhere.")
@click.option(
    "--strict/--no-strict",
    default=True,
    show_default=True,
    help=f"Exit {EXIT_DATA} when rows were rejected (the rest is imported either way).",
)
@friendly
def import_surveys_cmd(
    files: tuple[Path, ...],
    book: Path,
    kind: str | None,
    as_of: _dt.date | None,
    force: bool,
    as_json: bool,
    strict: bool,
) -> None:
    """Survey answers (NPS, CSAT, CES; by account or e-mail) -> new rows of the Surveys table of BOOK."""

    report = import_surveys(book, files, kind=kind, as_of=as_of, force=force)
    if as_json:
        click.echo(report.output().model_dump_json(indent=2))
    else:
        read = sum(report.rows_read.values())
        click.echo(
            f"csxl: imported {report.rows_used} of {read} answers: {report.appended} added to Surveys, "
            f"{report.already} already there, {len(report.unmatched)} for accounts not on Accounts"
        )
        for line in issues_lines([*report.issues, *report.unmatched]):
            click.echo(line, err=True)
    if report.issues and strict:
        sys.exit(EXIT_DATA)


@import_group.command("tickets")
@click.argument("files", nargs=-1, required=True, type=PATH)
@_writes("The workbook to fill.", "Replace ticket counts you typed on Accounts.")
@friendly
def import_tickets_cmd(
    files: tuple[Path, ...], book: Path, as_of: _dt.date | None, overwrite: bool, force: bool, as_json: bool
) -> None:
    """Help-desk exports (Zendesk tickets, Intercom conversations) -> the Support sheet and Accounts ticket counts."""

    report = import_tickets(book, files, as_of=as_of, overwrite=overwrite, force=force)
    if as_json:
        click.echo(report.output().model_dump_json(indent=2))
        return
    click.echo(
        f"csxl: read {report.rows_read} tickets, used {report.rows_used} (later than the as-of date, or without an "
        f"organisation or a creation date, left out); {report.accounts} accounts ({len(report.unmatched)} not on "
        f"Accounts); {report.written} ticket counts written, {len(report.kept)} typed counts kept"
    )
    for line in issues_lines(report.unmatched):
        click.echo(line, err=True)


@import_group.command("accounts")
@click.argument("files", nargs=-1, required=True, type=PATH)
@_writes("The workbook to add the accounts to.", "Replace values you typed on Accounts with the CRM's.")
@friendly
def import_accounts_cmd(
    files: tuple[Path, ...], book: Path, as_of: _dt.date | None, overwrite: bool, force: bool, as_json: bool
) -> None:
    """CRM exports (HubSpot companies, Salesforce accounts) -> Accounts rows of BOOK: customers added or filled in."""

    report = import_accounts(book, files, as_of=as_of, overwrite=overwrite, force=force)
    if as_json:
        click.echo(report.output().model_dump_json(indent=2))
        return
    click.echo(
        f"csxl: read {sum(report.rows_read.values())} CRM rows ({report.skipped} not customers, skipped): "
        f"{report.added} accounts added, {report.matched} matched ({report.matched_by_domain} by domain), "
        f"{report.written} cells filled, {len(report.kept)} typed cells kept"
    )
    for line in issues_lines(report.issues):
        click.echo(line, err=True)
