"""Tier colours on the Accounts sheet as conditional formats: each tier cell takes its tier's colour, whoever wrote it.

The colours are the looks of :data:`csxl.book.render.RAG_STYLES` (the spec's Thriving green, Healthy yellow, At-Risk
orange, Critical red; growth Green, Yellow, Red), so the Accounts cells, the Dashboard and every play sheet agree.
A rule covers its column from the first data row to :data:`TIER_ROWS`; Excel and LibreOffice move it with the column.
"""

from __future__ import annotations

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from csxl.book.layout import TableSpec
from csxl.book.render import RAG_STYLES
from csxl.book.xlsx import LOOKS
from csxl.settings import SIMPLE_TIERS, TIER_SCHEMES

__all__ = ["TIER_COLUMNS", "TIER_ROWS", "add_tier_colours"]

#: The Accounts columns holding a tier label.
TIER_COLUMNS: tuple[str, ...] = ("health_tier", "simple_tier")
#: The last row the rules cover (a founder's book; more rows keep their values, without the colour).
TIER_ROWS = 20_000


def add_tier_colours(ws: Worksheet, spec: TableSpec) -> None:
    """One "cell equals <tier>" rule per tier label on each tier column of ``spec`` (fill and font of its look)."""
    labels = {label for scheme in (*TIER_SCHEMES.values(), SIMPLE_TIERS) for label in scheme.labels}
    for key in TIER_COLUMNS:
        letter = spec.letter(key)
        target = f"{letter}{spec.first_data_row}:{letter}{TIER_ROWS}"
        for label in sorted(labels):
            look = LOOKS[RAG_STYLES[label]]
            if look.fill is None:  # pragma: no cover - every tier style has a fill
                continue
            rule = CellIsRule(  # type: ignore[no-untyped-call]
                operator="equal",
                formula=[f'"{label}"'],
                fill=PatternFill("solid", start_color=look.fill, end_color=look.fill),
                font=Font(bold=look.bold, color=look.color),
            )
            ws.conditional_formatting.add(target, rule)
