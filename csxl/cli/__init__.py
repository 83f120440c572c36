"""The ``csxl`` command line: parses arguments, calls the public API, prints.

Every csxl error becomes a one-paragraph message on stderr and exit code 2 (bad input) or 3 (file problem); an
unexpected error is reported as a bug with exit code 70, never as a bare traceback. `csxl refresh` exits 4 when it
refreshed the workbook but some input cells could not be used (`--no-strict`: 0).
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

import csxl
from csxl.cli.common import (
    AS_OF,
    EXIT_BUG,
    EXIT_DATA,
    EXIT_FILE,
    EXIT_INPUT,
    PATH,
    friendly,
    issues_lines,
    issues_summary,
    parse_date,
    progress,
)
from csxl.cli.imports import import_group
from csxl.cli.outcomes import calibrate_cmd, churn_cmd

# the exit codes are the command line's contract (docs/reading.md); importers of csxl.cli read them here
__all__ = ["EXIT_BUG", "EXIT_DATA", "EXIT_FILE", "EXIT_INPUT", "cli", "main"]
from csxl.demo_book import DemoBook, new_demo_workbook
from csxl.excel.lite import lite_requirements, write_lite
from csxl.excel.xlsm import build_xlsm
from csxl.plays import PLAYS, PlayResult, render_markdown, render_text
from csxl.plays.schemas import SCHEMAS
from csxl.report_models import DemoOutput
from csxl.usecases import (
    backfill_history,
    demo_summary,
    measures_report,
    new_workbook,
    onboarding_report,
    playbook,
    refresh,
    report_text,
    run_play,
    support_ticket,
    survey_report,
    validate,
    write_account_sheet,
    write_report,
    write_schemas,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(csxl.__version__, prog_name="csxl")
def cli() -> None:
    """csxl: customer success in your own spreadsheet."""


cli.add_command(import_group)
cli.add_command(churn_cmd)
cli.add_command(calibrate_cmd)


@cli.command()
@click.option("--accounts", "n_accounts", default=250, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@friendly
def demo(n_accounts: int, seed: int, as_json: bool) -> None:
    """Score the seeded demo portfolio in memory and print it.

    The portfolio as generated (its signals as drawn, no files, any size). The demo workbook of `csxl new --demo`
    measures its signals from the generated exports instead, so its figures differ from these.
    """
    summary = demo_summary(n_accounts, seed)
    worst = summary.pop("worst")
    if as_json:
        click.echo(DemoOutput.model_validate(summary).model_dump_json(indent=2))
        return
    click.echo(f"csxl demo portfolio (seed {seed}, as of {summary['as_of']})")
    click.echo(
        f"  live accounts {summary['accounts']}, ARR {summary['arr']:,.0f}, avg health {summary['average_health']}"
    )
    for tier, row in summary["tiers"].items():
        click.echo(f"  {tier:<9} {row['count']:>5} accounts  ARR {row['arr']:>14,.0f}")
    click.echo(f"  12-month cohort NRR {summary['nrr_12m']:.1%}, GRR {summary['grr_12m']:.1%}")
    m = summary["last_month"]
    click.echo(
        f"  last month: start {m['start_mrr']:,.0f} + new {m['new']:,.0f} + expansion {m['expansion']:,.0f}"
        f" - contraction {m['contraction']:,.0f} - churned {m['churned']:,.0f}"
        f" + reactivation {m['reactivation']:,.0f} = end {m['end_mrr']:,.0f}"
    )
    click.echo("\n  Ten lowest health scores:")
    click.echo(worst.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))


# --------------------------------------------------------------------------------------------------------------------
# Workbook commands
# --------------------------------------------------------------------------------------------------------------------


@cli.command("new")
@click.argument("path", type=PATH)
@click.option(
    "--demo",
    is_flag=True,
    help="Write a seeded demo portfolio's exports (CRM, Stripe, events, tickets, surveys) and import them.",
)
@click.option("--accounts", "n_accounts", default=250, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--seed", default=7, show_default=True, type=int)
@AS_OF
@click.option("--currency", default="USD", show_default=True, help="ISO currency code for money formats.")
@click.option("--force", is_flag=True, help="Overwrite an existing file / ignore Excel's lock file.")
@click.option(
    "--sources",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --demo: where to write the demo's source files (default: <book>-sources beside the workbook).",
)
@friendly
def new_cmd(
    path: Path,
    demo: bool,
    n_accounts: int,
    seed: int,
    as_of: _dt.date | None,
    currency: str,
    force: bool,
    sources: Path | None,
) -> None:
    """Create a csxl workbook at PATH, refreshed and ready to open.

    PATH.xlsx is the plain workbook (formulas and refreshed values, no Python needed to open it); PATH.xlsm is the
    classic-xlwings flavour with a Refresh button, the xlwings.conf sheet and the companion Python module.
    """
    folder = sources or path.with_name(f"{path.stem}-sources")
    if path.suffix.lower() == ".xlsm":
        with tempfile.TemporaryDirectory(prefix="csxl-") as scratch:
            plain = Path(scratch) / "plain.xlsx"
            if demo:
                made = new_demo_workbook(plain, accounts=n_accounts, seed=seed, as_of=as_of, currency=currency,
                                         force=force, sources=folder)  # fmt: skip
                _say_sources(made)
            target = build_xlsm(path, as_of=as_of, currency=currency, force=force, plain=plain if demo else None)
        click.echo(f"csxl: wrote {target} and {target.with_suffix('.py').name} (classic xlwings, Refresh button)")
        return
    if demo:
        made = new_demo_workbook(
            path, accounts=n_accounts, seed=seed, as_of=as_of, currency=currency, force=force, sources=folder
        )
        _say_sources(made)
        result = made.result
    else:
        result = new_workbook(path, as_of=as_of, currency=currency, force=force)
    click.echo(f"csxl: wrote {result.path} ({result.accounts} accounts, as of {result.as_of:%Y-%m-%d})")


def _say_sources(made: DemoBook) -> None:
    folder = next(iter(made.sources.values())).parent
    click.echo(f"csxl: the demo's sources are in {folder}; the workbook was built from them by csxl import:")
    for kind, report in made.imports.items():
        shown = ", ".join(f"{k} {v}" for k, v in report.items())
        click.echo(f"  {kind}: {shown}")
    if made.issues:
        click.echo(f"csxl: {issues_summary(list(made.issues))}", err=True)


@cli.command("refresh")
@click.argument("path", type=PATH)
@AS_OF
@click.option("-o", "--out", type=PATH, help="Write the refreshed workbook here instead of in place.")
@click.option("--force", is_flag=True, help="Write even if Excel's lock file says the workbook is open.")
@click.option(
    "--strict/--no-strict",
    default=True,
    show_default=True,
    help=f"Exit {EXIT_DATA} when input cells were ignored (the workbook is refreshed either way).",
)
@friendly
def refresh_cmd(path: Path, as_of: _dt.date | None, out: Path | None, force: bool, strict: bool) -> None:
    """Recompute every csxl-owned sheet and column of the workbook at PATH."""

    result = refresh(path, as_of=as_of, out=out, force=force, progress=progress())
    click.echo(
        f"csxl: refreshed {result.path} as of {result.as_of:%Y-%m-%d}: {result.scored} of {result.accounts} accounts "
        f"scored, {result.history_rows} history rows"
    )
    if result.issues:
        click.echo(f"csxl: {issues_summary(result.issues)}", err=True)
        if strict:
            sys.exit(EXIT_DATA)


@cli.command("backfill")
@click.option("--book", "book", required=True, type=PATH, help="The workbook whose History to fill.")
@AS_OF
@click.option("--months", type=click.IntRange(1, 600), help="Only the latest N month ends (default: every one).")
@click.option("--force", is_flag=True, help="Write even if Excel's lock file says the workbook is open.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@friendly
def backfill_cmd(book: Path, as_of: _dt.date | None, months: int | None, force: bool, as_json: bool) -> None:
    """History snapshots for the past month ends your imported MRR and usage cover, before History began, as a
    refresh on each would have scored what was known then; then a refresh. Snapshots a refresh wrote are never
    replaced, and running it twice adds nothing."""

    result = backfill_history(book, as_of=as_of, months=months, force=force)
    if as_json:
        click.echo(result.output().model_dump_json(indent=2))
        return
    span = f"{result.months[0]:%Y-%m} to {result.months[-1]:%Y-%m}" if result.months else "none needed"
    click.echo(
        f"csxl: backfilled {len(result.months)} month ends ({span}), {result.rows} History rows; refreshed as of "
        f"{result.refreshed.as_of:%Y-%m-%d}, {result.refreshed.history_rows} history rows in the sheet"
    )


@cli.command("validate")
@click.argument("path", type=PATH)
@friendly
def validate_cmd(path: Path) -> None:
    """Check every input row of the workbook at PATH; list each problem; exit 2 if there is any."""

    issues = validate(path)
    if not issues:
        click.echo(f"csxl: {path}: no problems found")
        return
    click.echo(f"csxl: {path}: {len(issues)} problem(s)")
    for line in issues_lines(issues):
        click.echo(line)
    sys.exit(EXIT_INPUT)


@cli.command("account")
@click.argument("path", type=PATH)
@click.argument("account")
@AS_OF
@click.option("--force", is_flag=True, help="Write even if Excel's lock file says the workbook is open.")
@friendly
def account_cmd(path: Path, account: str, as_of: _dt.date | None, force: bool) -> None:
    """Write (or rewrite) the sheet of one ACCOUNT in the workbook at PATH."""

    sheet = write_account_sheet(path, account, as_of=as_of, force=force)
    click.echo(f"csxl: wrote sheet {sheet!r} in {path}")


@cli.command("report")
@click.argument("path", type=PATH)
@click.option("-o", "--out", type=PATH, help="Write a standalone report workbook (.xlsx) here.")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "text"]), help="Print the report instead.")
@AS_OF
@friendly
def report_cmd(path: Path, out: Path | None, fmt: str | None, as_of: _dt.date | None) -> None:
    """A report of the workbook at PATH: dashboard, cohorts, at-risk accounts with reasons, account breakdowns."""

    if out is None and fmt is None:
        raise click.UsageError("give -o OUT.xlsx or --format md|json|text")
    if out is not None:
        target = write_report(path, out, as_of=as_of, progress=progress())
        click.echo(f"csxl: wrote {target}")
    if fmt is not None:
        click.echo(report_text(path, fmt, as_of=as_of), nl=False)


@cli.command("lite")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@friendly
def lite_cmd(directory: Path) -> None:
    """Write main.py and the requirement lines for the xlwings Lite editor into DIRECTORY, and print the lines."""

    for written in write_lite(directory):
        click.echo(f"csxl: wrote {written}")
    click.echo("In the xlwings Lite task pane (docs/excel.md):")
    click.echo("  1. requirements.txt tab: ADD these lines below the ones already there (do not replace them):")
    for line in lite_requirements().splitlines():
        click.echo(f"       {line}")
    click.echo("  2. Restart Python (the restart button of the task pane) so Lite installs them.")
    click.echo("  3. main.py tab: paste main.py and save (Ctrl+S).")


# --------------------------------------------------------------------------------------------------------------------
# The plays: csxl COMMAND [ACCOUNT] --book PATH [--as-of DATE] [--json | --md] [--write]
# --------------------------------------------------------------------------------------------------------------------

#: Extra options some plays take (passed to the play function by name).
_PLAY_OPTIONS: dict[str, list[click.Option]] = {
    "qbr": [click.Option(["--date", "qbr_date"], help="QBR date YYYY-MM-DD (default: as-of + 14 days).")],
    "portfolio": [click.Option(["--monthly"], is_flag=True, help="Add the spec's monthly report, from History.")],
}


def _play_command(name: str) -> click.Command:

    play = PLAYS[name]

    @friendly
    def run(book: Path, as_of: _dt.date | None, as_json: bool, as_md: bool, write: bool, **kwargs: Any) -> None:

        account = kwargs.pop("account", None)
        options: dict[str, Any] = {"date": kwargs.pop("qbr_date")} if kwargs.get("qbr_date") else {}
        if kwargs.pop("monthly", False):
            options["monthly"] = True
        _one_format(as_json, as_md)  # before the play runs: --write must not write for a refused command
        result, sheet = run_play(name, book, account, as_of=as_of, write=write, **options)
        _show(result, as_json, as_md)
        if sheet is not None:
            click.echo(f"csxl: wrote sheet {sheet!r} in {book}", err=True)

    params: list[click.Parameter] = []
    if play.needs_account:
        params.append(click.Argument(["account"]))
    params += [
        click.Option(["--book", "book"], type=PATH, required=True, help="The csxl workbook (.xlsx)."),
        click.Option(
            ["--as-of", "as_of"], callback=parse_date, help="As-of date YYYY-MM-DD (default: Settings, else today)."
        ),
        click.Option(["--json", "as_json"], is_flag=True, help="Print the result as JSON (schema: csxl schema)."),
        click.Option(["--md", "as_md"], is_flag=True, help="Print the result as Markdown."),
        click.Option(["--write", "write"], is_flag=True, help="Also write the result as a sheet in the workbook."),
        *_PLAY_OPTIONS.get(name, []),
    ]
    return click.Command(
        name,
        callback=run,
        params=params,
        help=f"{play.title} (command {play.number} of the spec).",
        short_help=play.title,
    )


def _add_plays() -> None:

    for name in sorted(PLAYS, key=lambda n: PLAYS[n].number):
        cli.add_command(_play_command(name))


@cli.command("schema")
@click.argument("command", required=False)
@click.option("--write", "folder", type=click.Path(file_okay=False, path_type=Path), help="Write every schema here.")
@friendly
def schema_cmd(command: str | None, folder: Path | None) -> None:
    """Print the JSON schema of COMMAND's --json output, or write all of them (--write DIR)."""

    if folder is not None:
        for written in write_schemas(folder):
            click.echo(f"csxl: wrote {written}")
        return
    if command not in SCHEMAS:
        raise csxl.InputError("command", command, f"one of {', '.join(sorted(SCHEMAS))}")
    click.echo(json.dumps(SCHEMAS[command](), indent=2))


@cli.command("playbook")
@click.option("--book", "book", type=PATH, required=True, help="The csxl workbook (.xlsx).")
@AS_OF
@click.option("--json", "as_json", is_flag=True, default=True, help="Print the JSON document (the default).")
@friendly
def playbook_cmd(book: Path, as_of: _dt.date | None, as_json: bool) -> None:
    """The spec's playbook JSON document (onboarding, churn prevention, satisfaction, health scoring, support).

    Its schema: csxl schema playbook (docs/schemas/playbook.json).
    """

    click.echo(json.dumps(playbook(book, as_of).model_dump(mode="json"), indent=2))


def _one_format(as_json: bool, as_md: bool) -> None:
    if as_json and as_md:
        raise click.UsageError("choose one of --json and --md")


def _show(result: PlayResult, as_json: bool, as_md: bool) -> None:
    """A result as JSON, Markdown or text (the default)."""
    _one_format(as_json, as_md)
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        click.echo(render_markdown(result) if as_md else render_text(result), nl=False)


_F = TypeVar("_F", bound=Callable[..., Any])


def _report(func: _F) -> _F:
    """The options of a report over the whole workbook: --book, --as-of, --json, --md."""
    for option in reversed([
        click.option("--book", "book", type=PATH, required=True, help="The csxl workbook (.xlsx)."),
        AS_OF,
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (schema: csxl schema)."),
        click.option("--md", "as_md", is_flag=True, help="Print the result as Markdown."),
    ]):  # fmt: skip
        func = option(func)
    return func


@cli.command("surveys")
@_report
@friendly
def surveys_cmd(book: Path, as_of: _dt.date | None, as_json: bool, as_md: bool) -> None:
    """NPS / CSAT / CES report with follow-up routing (detractors within 24 h ...) and churn reasons."""

    result = survey_report(book, as_of)
    _show(result, as_json, as_md)


@cli.command("onboarding-metrics")
@_report
@friendly
def onboarding_metrics_cmd(book: Path, as_of: _dt.date | None, as_json: bool, as_md: bool) -> None:
    """Onboarding metrics against the spec's targets: activation, completion, TTFV, D7/D30 retention, D30 paying,
    post-onboarding NPS; a metric the data cannot tell is "not derivable", never 100 %."""

    result = onboarding_report(book, as_of)
    _show(result, as_json, as_md)


@cli.command("measures")
@_report
@friendly
def measures_cmd(book: Path, as_of: _dt.date | None, as_json: bool, as_md: bool) -> None:
    """What the spec measures: touch-cadence compliance, engagement levels, advisory-board candidates, expansion rate,
    revenue LTV, NPS response rate by segment and tenure."""

    result = measures_report(book, as_of)
    _show(result, as_json, as_md)


@cli.command("support")
@click.argument("text")
@click.option("--segment", help="Customer segment (enterprise, mid-market, smb, self-serve).")
@click.option("--vip", is_flag=True, help="The customer carries the VIP tag.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@friendly
def support_cmd(text: str, segment: str | None, vip: bool, as_json: bool) -> None:
    """Priority (P1-P4), SLA targets and routing of a support ticket from its TEXT."""

    result = support_ticket(text, segment, vip)
    data = result.model_dump(mode="json")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


_add_plays()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``csxl`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="csxl")
