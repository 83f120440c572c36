"""The Excel flavour's live formulas: which workbooks get them, and their text.

A workbook made by ``csxl new PATH.xlsm`` (it has the ``xlwings.conf`` sheet) is refreshed with live worksheet
functions where a plain workbook gets values: the Accounts health score and tier (``=HEALTHSCORE``/``=HEALTHTIER``
over the row's dimension scores and the Settings cells), the Dashboard's retention ratios and the Churn sheet's
``=CHURNPROB`` (:mod:`csxl.book.dashboard_sheet`, :mod:`csxl.book.model_sheet`): except on a Mac, where classic
xlwings has no worksheet functions. :func:`csxl.book.refresh.plan_refresh` asks :func:`live_formulas` and writes them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from csxl.book import layout
from csxl.book.layout import ACCOUNTS, TablePlace

__all__ = ["EXCEL_FLAVOUR_SHEET", "is_excel_flavour", "live_formulas", "live_health_score", "live_health_tier"]


#: A workbook holding this sheet is the Excel (classic xlwings) flavour: live =HEALTHSCORE/=HEALTHTIER formulas.
EXCEL_FLAVOUR_SHEET = "xlwings.conf"


def is_excel_flavour(sheet_names: Sequence[str]) -> bool:
    """True for a workbook made by ``csxl new PATH.xlsm`` (it has the ``xlwings.conf`` sheet)."""
    return any(name.strip().lower() == EXCEL_FLAVOUR_SHEET for name in sheet_names)


def live_formulas(sheet_names: Sequence[str], platform: str | None = None) -> bool:
    """Whether a refresh writes live ``=HEALTHSCORE``/``=CHURNPROB``... formulas: in the Excel flavour, except on a
    Mac, where classic xlwings has no worksheet functions (the cells would show ``#NAME?`` for ever): there the
    refresh writes values, as in a plain workbook."""
    return is_excel_flavour(sheet_names) and not (platform or sys.platform).startswith("darwin")


def _settings_range(first: str, last: str) -> str:
    rows = layout.settings_rows()
    return f"{layout.SHEET_SETTINGS}!$B${rows[first]}:$B${rows[last]}"


def live_health_score(row: int, place: TablePlace | None = None) -> str:
    """The Excel flavour's health score of Accounts row ``row``: ``=HEALTHSCORE(dimension scores, weights, preset)``.

    The five ``<dimension>_score`` cells of the row (written by refresh, or typed), the Settings weights (all blank =
    the preset's) and the Settings preset: the same inputs the refresh uses, computed by Excel through xlwings.
    """
    at = place or TablePlace.default(ACCOUNTS)
    dims = [c.key for c in ACCOUNTS.role("owned") if c.key.endswith("_score") and c.key != "health_score"]
    weights = [c for c in layout.settings_rows() if c.startswith("csxl_weight_")]
    cells = [at.index(d) for d in dims]
    adjacent = cells == list(range(cells[0], cells[0] + len(cells)))
    scores = f"{at.cell(dims[0], row)}:{at.cell(dims[-1], row)}" if adjacent else None
    if scores is None:  # the user moved a dimension column: its scores, in the weights' order, as an array
        scores = (
            "CHOOSE({1,"
            + ",".join(str(i) for i in range(2, len(dims) + 1))
            + "},"
            + ",".join(at.cell(d, row) for d in dims)
            + ")"
        )
    return f"=HEALTHSCORE({scores},{_settings_range(weights[0], weights[-1])},csxl_preset)"


def live_health_tier(row: int, place: TablePlace | None = None) -> str:
    """The Excel flavour's tier: ``=HEALTHTIER`` of the row's health score with the Settings bounds of the preset."""
    score = (place or TablePlace.default(ACCOUNTS)).cell("health_score", row)
    names = layout.settings_rows()
    branches = {}
    for scheme in ("engine", "growth"):
        cells = [n for n in names if n.startswith(f"csxl_tier_{scheme}_")]
        branches[scheme] = f'HEALTHTIER({score},"{scheme}",{_settings_range(cells[0], cells[-1])})'
    return f'=IF(csxl_preset="growth",{branches["growth"]},{branches["engine"]})'
