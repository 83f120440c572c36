"""Lay out titled sections (a play's result, the dashboard, an account page) as Plan blocks on one sheet.

Pure: produces :mod:`csxl.book.plan` operations, no spreadsheet library. One layout for every csxl-owned report
sheet: a title in A1, a subtitle line in A2, then each section as a bold heading, an optional paragraph, and either
key/value rows (key in column A, values from B) or a table with a header row. Numbers keep their type (the sheet
can compute with them); a value's look comes from :class:`Styled` or from the column kinds a section declares.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from csxl.book.plan import Block, Cell, Chart, Formula, Plan, SheetSpec, Style
from csxl.plays.base import PlayResult
from csxl.sections import Cell as SectionCell
from csxl.sections import Section, Styled

__all__ = ["RAG_STYLES", "SheetWriter", "Styled", "result_plan"]

#: Red/Yellow/Green labels (and csxl's tier names) get a coloured cell: the spec's Thriving green, Healthy yellow,
#: At-Risk orange, Critical red; risk levels alike (High orange, Critical red).
RAG_STYLES: dict[str, Style] = {
    "Red": "rag_red",
    "Critical": "rag_red",
    "At-Risk": "rag_orange",
    "High": "rag_orange",
    "Yellow": "rag_yellow",
    "Healthy": "rag_yellow",
    "Medium": "rag_yellow",
    "Green": "rag_green",
    "Thriving": "rag_green",
    "Low": "rag_green",
}


def _cell(value: SectionCell | Formula) -> tuple[Cell, Style | None]:
    if isinstance(value, Formula):
        return value, None
    if isinstance(value, Styled):
        inner, _ = _cell(value.value)
        return inner, cast(Style, value.style)
    if isinstance(value, float) and not math.isfinite(value):
        return None, None
    if isinstance(value, bool):
        return ("yes" if value else "no"), "text"
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value, "date"
    if isinstance(value, int):
        return value, "int"
    if isinstance(value, float):
        return value, "number"
    if isinstance(value, str):
        return value, RAG_STYLES.get(value, "text")
    return None, None


@dataclass
class SheetWriter:
    """Accumulates rows on one sheet, top to bottom; :meth:`plan` returns the operations."""

    sheet: str
    after: str | None = None
    widths: dict[str, float] = field(default_factory=lambda: {"A": 34.0, "B": 16.0, "C": 16.0, "D": 16.0})
    tab_color: str | None = None
    row: int = 1
    blocks: list[Block] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    def line(self, values: Sequence[SectionCell | Formula], style: Style | None = None, *, left: int = 1) -> int:
        """Write one row starting at column ``left``; returns its row number."""
        cells = [_cell(v) for v in values]
        styles = [[style or s for _, s in cells]]
        self.blocks.append(Block(self.sheet, self.row, left, [[c for c, _ in cells]], styles))
        self.row += 1
        return self.row - 1

    def skip(self, n: int = 1) -> None:
        self.row += n

    def title(self, text: str, subtitle: str = "") -> None:
        self.line([text], "title")
        if subtitle:
            self.line([subtitle], "note")
        self.skip()

    def section(self, section: Section) -> tuple[int, int]:
        """Write a section; returns the first and last row of its data rows (a table's header row excluded)."""
        self.line([section.title], "section")
        if section.text:
            for paragraph in section.text.split("\n"):
                self.line([paragraph], "text")
        if section.header:
            self.line(list(section.header), "header")
        first = self.row
        for row in section.rows:
            self.line(list(row))
        last = self.row - 1
        self.skip()
        return first, last

    def plan(self) -> Plan:
        spec = SheetSpec(self.sheet, after=self.after, replace=True, widths=dict(self.widths), tab_color=self.tab_color)
        return Plan([spec, *self.blocks, *self.charts])


def result_plan(result: PlayResult, sheet: str, *, after: str | None = None) -> Plan:
    """A whole sheet for one play result: its title, the as-of date, every section, then the conventions."""
    writer = SheetWriter(sheet, after=after)
    writer.title(result.title(), f"csxl {result.command}, as of {result.as_of.isoformat()}")
    for section in result.report():
        writer.section(section)
    if result.conventions:
        writer.section(Section("Conventions", rows=[[c] for c in result.conventions]))
    return writer.plan()
