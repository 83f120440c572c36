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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from csxl import sections
from csxl.sections import Section, Styled, Value

if TYPE_CHECKING:
    pass

__all__ = [
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


def render_text(result: PlayResult) -> str:
    """Readable terminal text of a result (:func:`csxl.sections.render_text`)."""
    return sections.render_text(result.title(), result.sections(), result.conventions)


def render_markdown(result: PlayResult) -> str:
    """GitHub Markdown of a result (:func:`csxl.sections.render_markdown`)."""
    return sections.render_markdown(result.title(), result.sections(), result.conventions)
