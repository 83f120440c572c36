"""The ``csxl`` command line: parses arguments, calls the public API, prints.

Every csxl error becomes a one-paragraph message on stderr and exit code 2 (bad input) or 3 (file problem); an
unexpected error is reported as a bug with exit code 70, never as a bare traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click
import pandas as pd

import csxl

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INPUT = 2
EXIT_FILE = 3
EXIT_BUG = 70


def _friendly(func: F) -> F:
    """Turn csxl errors into clean messages and exit codes."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except csxl.FileError as exc:
            click.echo(f"csxl: {exc}", err=True)
            sys.exit(EXIT_FILE)
        except csxl.InputError as exc:
            click.echo(f"csxl: {exc}", err=True)
            sys.exit(EXIT_INPUT)
        except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: say so plainly, once
            click.echo(f"csxl: internal error ({type(exc).__name__}: {exc}); please report it", err=True)
            sys.exit(EXIT_BUG)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(csxl.__version__, prog_name="csxl")
def cli() -> None:
    """csxl: customer success in your own spreadsheet."""


def _portfolio_summary(scored: pd.DataFrame, accounts: pd.DataFrame) -> dict[str, Any]:
    arr = pd.to_numeric(accounts["arr"], errors="coerce").fillna(0.0)
    live = arr > 0
    tiers = scored.loc[live, "health_tier"].value_counts()
    tier_arr = arr[live].groupby(scored.loc[live, "health_tier"]).sum()
    return {
        "accounts": int(live.sum()),
        "arr": float(arr[live].sum()),
        "average_health": round(float(scored.loc[live, "health_score"].mean()), 1),
        "tiers": {
            str(t): {"count": int(tiers.get(t, 0)), "arr": float(tier_arr.get(t, 0.0))}
            for t in ("Thriving", "Healthy", "At-Risk", "Critical")
        },
    }


@cli.command()
@click.option("--accounts", "n_accounts", default=250, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@_friendly
def demo(n_accounts: int, seed: int, as_json: bool) -> None:
    """Score a seeded demo portfolio and print it."""
    data = csxl.demo_portfolio(n_accounts, seed=seed)
    scored = csxl.score_accounts(data.accounts)
    summary = _portfolio_summary(scored, data.accounts)
    mov = csxl.mrr_movements(data.mrr)
    as_of = pd.Timestamp(data.as_of)
    summary["nrr_12m"] = round(csxl.cohort_nrr(data.mrr, as_of), 4)
    summary["grr_12m"] = round(csxl.cohort_grr(data.mrr, as_of), 4)
    last = mov.iloc[-1]
    summary["last_month"] = {
        k: float(last[k])
        for k in ("start_mrr", "new", "expansion", "contraction", "churned", "reactivation", "end_mrr")
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"csxl demo portfolio (seed {seed}, as of {data.as_of:%Y-%m-%d})")
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
    table = data.accounts[["account", "segment", "arr"]].join(scored[["health_score", "health_tier", "main_risk"]])
    worst = table[table["arr"] > 0].sort_values("health_score").head(10)
    click.echo("\n  Ten lowest health scores:")
    click.echo(worst.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``csxl`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="csxl")
