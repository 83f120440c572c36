"""What every ``csxl`` command shares: exit codes, the error wrapper, path and date options, issue lines."""

from __future__ import annotations

import datetime as _dt
import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

import csxl

__all__ = [
    "AS_OF",
    "EXIT_BUG",
    "EXIT_DATA",
    "EXIT_FILE",
    "EXIT_INPUT",
    "PATH",
    "friendly",
    "issues_lines",
    "issues_summary",
    "parse_date",
    "progress",
]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INPUT = 2
EXIT_FILE = 3
EXIT_DATA = 4  # refreshed, but some input cells could not be used (`csxl refresh --no-strict` exits 0)
EXIT_BUG = 70


def friendly(func: F) -> F:
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
        except BrokenPipeError:  # `csxl report ... | head`: the reader left; stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:  # a bug: say so plainly, once
            click.echo(f"csxl: internal error ({type(exc).__name__}: {exc}); please report it", err=True)
            sys.exit(EXIT_BUG)

    return wrapper  # type: ignore[return-value]


PATH = click.Path(dir_okay=False, path_type=Path)


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> _dt.date | None:
    if value is None:
        return None
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"must be a date YYYY-MM-DD, got {value!r}") from None


AS_OF = click.option("--as-of", callback=parse_date, help="As-of date YYYY-MM-DD (default: Settings, else today).")


def progress() -> Callable[[str], None] | None:
    """Progress lines on stderr for a person at a terminal; nothing for cron jobs and pipes."""
    if not sys.stderr.isatty():
        return None
    return lambda message: click.echo(f"csxl: {message} ...", err=True)


def issues_lines(issues: Sequence[csxl.RowIssue]) -> list[str]:
    return [f"  {issue}" for issue in issues]


def issues_summary(issues: Sequence[csxl.RowIssue]) -> str:
    """One line: how many input cells csxl could not use and what it did (``3 data issues: 2 cells ignored, ...``)."""
    kinds = (
        ("cell ignored", "cell(s) ignored"),
        ("row left out", "row(s) left out"),
        ("read as the month before", "MRR amount(s) read as the month before"),
        ("kept in", "name(s) matching no account"),
        ("column", "heading(s) not read"),
        ("unknown for every row", "column(s) missing"),
        ("churn model not used", "bad cell(s) in the stored churn model, not used"),
    )
    counts: dict[str, int] = {}
    for issue in issues:
        what = next((label for start, label in kinds if issue.effect.startswith(start)), "setting(s) not used")
        counts[what] = counts.get(what, 0) + 1
    parts = ", ".join(f"{n} {what}" for what, n in sorted(counts.items(), key=lambda item: -item[1]))
    return f"{len(issues)} data issue(s) ({parts}); the Dashboard and `csxl validate` list them"
