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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from csxl import sections
from csxl.sections import Section, Styled, Value

if TYPE_CHECKING:
    pass

__all__ = [
    "MISSING_DATA",
    "PLAYS",
    "Play",
    "PlayResult",
    "Section",
    "Styled",
    "Value",
    "load_library",
    "register",
    "render_markdown",
    "render_text",
]

#: The title of the section every account play ends with (:func:`csxl.plays.common.missing_section`).
MISSING_DATA = "Missing data"
#: A placeholder left in a text for the user: ``[your_company]``, ``[specific improvement]`` (not a ``[ ]`` checkbox).
_PLACEHOLDER = re.compile(r"\[(?![ xX]\])[A-Za-z][^\[\]\n]{0,60}\]")
_NONE = re.compile(r"none: ")


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

    def report(self) -> list[Section]:
        """:meth:`sections` as shown (terminal, Markdown, sheet): the "Missing data" section also names the
        ``[placeholders]`` left in the texts for the user to fill by hand, so it never says "none" beside them."""
        out = self.sections()
        found = list(
            dict.fromkeys(
                m.group(0)
                for section in out
                if section.title != MISSING_DATA
                for text in (section.title, section.text, *(str(c) for row in section.rows for c in row))
                for m in _PLACEHOLDER.finditer(text)
            )
        )
        if not found:
            return out
        note = "To fill by hand before sending (no column holds them): " + ", ".join(found) + "."
        return [
            replace(s, text=f"{s.text} {note}".strip(), rows=[r for r in s.rows if not _NONE.match(str(r[0]))])
            if s.title == MISSING_DATA
            else s
            for s in out
        ]


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


def render_text(result: PlayResult) -> str:
    """Readable terminal text of a result (:func:`csxl.sections.render_text`)."""
    return sections.render_text(result.title(), result.report(), result.conventions)


def render_markdown(result: PlayResult) -> str:
    """GitHub Markdown of a result (:func:`csxl.sections.render_markdown`)."""
    return sections.render_markdown(result.title(), result.report(), result.conventions)
