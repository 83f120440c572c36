"""What every play returns, and how the twelve commands find each other.

A play is a pure function ``play(portfolio, account=None, *, library=None) -> PlayResult``. Its result is a pydantic
model (``--json`` prints ``model_dump(mode="json")``; the schema is ``type(result).model_json_schema()``), and it
describes itself as :class:`Section` s, so one renderer each makes the terminal text, the Markdown and the workbook
sheet (``csxl.book``) without knowing the play.

Default texts (playbooks, email sequences, agendas, timelines, benchmarks) live as JSON files in
``csxl/plays/library/``; :func:`load_library` reads one, and a caller may pass its own mapping instead.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar, Union

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    pass

__all__ = ["PLAYS", "Play", "PlayResult", "Section", "load_library", "register", "render_markdown", "render_text"]

#: A cell of a section row: text, number, date or blank.
Value = Union[str, int, float, bool, _dt.date, None]


@dataclass(frozen=True)
class Section:
    """A titled part of a result: either key/value lines (``header`` empty) or a table (``header`` = column names).

    ``rows`` hold plain values; ``text`` is a paragraph shown before the rows (an email body, a talk track).
    """

    title: str
    rows: Sequence[Sequence[Value]] = ()
    header: Sequence[str] = ()
    text: str = ""


class PlayResult(BaseModel):
    """Base of every play's result: which command, for which account (``None`` = the portfolio), as of when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    account: str | None
    as_of: _dt.date
    conventions: list[str] = []

    def title(self) -> str:
        """A one-line heading, e.g. ``"Churn risk: Umber AI (as of 2026-10-31)"``."""
        who = f": {self.account}" if self.account else ""
        return f"{self.command}{who} (as of {self.as_of.isoformat()})"

    def sections(self) -> list[Section]:
        """The result as sections, in reading order. Every play overrides this."""
        raise NotImplementedError(f"{type(self).__name__} does not describe its sections")


@dataclass(frozen=True)
class Play:
    """A registered command: its CLI name (``risk``), number in the spec (1-12), whether it needs an account."""

    name: str
    number: int
    title: str
    needs_account: bool
    run: Callable[..., PlayResult]
    result: type[PlayResult]


#: The registry, filled by :func:`register` as the play modules are imported (``csxl.plays`` imports them all).
PLAYS: dict[str, Play] = {}


_F = TypeVar("_F", bound=Callable[..., PlayResult])


def register(
    name: str, number: int, title: str, *, needs_account: bool, result: type[PlayResult]
) -> Callable[[_F], _F]:
    """Decorator: add a play function to :data:`PLAYS` under ``name`` (the function keeps its own type)."""

    def deco(func: _F) -> _F:
        if name in PLAYS:
            raise ValueError(f"play {name!r} registered twice")
        PLAYS[name] = Play(name, number, title, needs_account, func, result)
        return func

    return deco


@cache
def _library_text(name: str) -> str:
    return resources.files("csxl.plays").joinpath("library").joinpath(f"{name}.json").read_text(encoding="utf-8")


def load_library(name: str, override: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The default data ``library/<name>.json`` as a fresh dict, with ``override``'s top-level keys replacing it."""
    data: dict[str, Any] = json.loads(_library_text(name))
    if override:
        data.update(override)
    return data


def _show(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else repr(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def render_text(result: PlayResult) -> str:
    """Readable terminal text: title, then each section (key: value lines, or an aligned table)."""
    out = [result.title(), "=" * len(result.title())]
    for section in result.sections():
        out += ["", section.title, "-" * len(section.title)]
        if section.text:
            out.append(section.text)
        if section.header:
            table = [list(section.header)] + [[_show(v) for v in row] for row in section.rows]
            widths = [max(len(r[i]) if i < len(r) else 0 for r in table) for i in range(len(section.header))]
            for r in table:
                out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())
        else:
            for row in section.rows:
                key, *rest = [_show(v) for v in row] or [""]
                out.append(f"{key}: {' | '.join(rest)}" if rest else key)
    for note in result.conventions:
        out.append(f"* {note}")
    return "\n".join(out) + "\n"


def _md_cell(value: Value) -> str:
    return _show(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: PlayResult) -> str:
    """GitHub Markdown: ``#`` title, ``##`` sections, tables for tabular sections, bullets for key/value ones."""
    out = [f"# {result.title()}"]
    for section in result.sections():
        out += ["", f"## {section.title}"]
        if section.text:
            out += ["", section.text]
        if section.rows:
            out.append("")
        if section.header:
            out.append("| " + " | ".join(section.header) + " |")
            out.append("|" + "---|" * len(section.header))
            for row in section.rows:
                out.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
        else:
            for row in section.rows:
                key, *rest = [_md_cell(v) for v in row] or [""]
                out.append(f"- **{key}**: {' | '.join(rest)}" if rest else f"- {key}")
    if result.conventions:
        out += ["", "## Conventions", ""] + [f"- {c}" for c in result.conventions]
    return "\n".join(out) + "\n"
