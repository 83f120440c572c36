"""The Excel flavour's live formulas: which workbooks get them, and their text.

A workbook made by ``csxl new PATH.xlsm`` (it has the ``xlwings.conf`` sheet) is refreshed with live worksheet
functions where a plain workbook gets values: the Accounts health score and tier, the Dashboard's retention ratios
and the Churn sheet's ``=CHURNPROB`` (:mod:`csxl.book.dashboard_sheet`, :mod:`csxl.book.model_sheet`): except on a
Mac, where classic xlwings has no worksheet functions. :func:`csxl.book.refresh.plan_refresh` asks
:func:`live_formulas` and writes them.

One Python call per column, not per account: the **Live scores** sheet holds one array formula ``=HEALTHSCORE`` over the
Accounts table's five dimension-score columns (structured references, so rows pasted into the table are included)
and one ``=HEALTHTIER`` over its Health score column. Excel refuses array formulas inside a table, so each Accounts
row reads its own element with ``INDEX`` (:func:`live_health_score`, the same text in every row, which is also the
table's calculated-column formula). The arrays are :data:`LIVE_SPARE_ROWS` rows longer than the table; a row past
them says to refresh.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from csxl.book import layout
from csxl.book.layout import ACCOUNTS, SHEET_LIVE, TablePlace
from csxl.book.plan import ArrayFormula, Block, Op
from csxl.book.render import SheetWriter

__all__ = [
    "EXCEL_FLAVOUR_SHEET",
    "LIVE_FIRST_ROW",
    "LIVE_SPARE_ROWS",
    "PAST_THE_ARRAYS",
    "is_excel_flavour",
    "live_formulas",
    "live_health_score",
    "live_health_tier",
    "live_sheet",
    "values_sheet",
]


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


#: The Live scores sheet's first array row (title, note, a blank row and the header row above it).
LIVE_FIRST_ROW = 5

#: Rows the Live arrays reach beyond the table, so that rows pasted into Accounts are scored before a refresh.
LIVE_SPARE_ROWS = 1000

#: What an Accounts row past the Live arrays shows until the next refresh lengthens them.
PAST_THE_ARRAYS = "run csxl refresh"

_STRUCTURED_ESCAPES = str.maketrans({"'": "''", "[": "'[", "]": "']", "#": "'#"})


def _column(place: TablePlace, key: str) -> str:
    """The table column of ``key`` as a structured-reference item, ``[Usage score]`` (Excel's ' escapes applied)."""
    return "[" + place.headers[place.index(key) - 1].translate(_STRUCTURED_ESCAPES) + "]"


def _settings_range(first: str, last: str) -> str:
    rows = layout.settings_rows()
    return f"{layout.SHEET_SETTINGS}!$B${rows[first]}:$B${rows[last]}"


def _live_range(letter: str, accounts: int) -> str:
    last = LIVE_FIRST_ROW + accounts + LIVE_SPARE_ROWS - 1
    return f"'{SHEET_LIVE}'!${letter}${LIVE_FIRST_ROW}:${letter}${last}"


def _element(place: TablePlace, key: str, letter: str, accounts: int) -> str:
    """One Accounts row's element of the Live array in column ``letter``: its position under the heading of ``key``
    (one header cell: ``ROW`` of the whole header row would be an array); a row past the array says to refresh."""
    rows = _live_range(letter, accounts)
    at = f"ROW()-ROW({ACCOUNTS.name}[[#Headers],{_column(place, key)}])"
    return f'=IF({at}>ROWS({rows}),"{PAST_THE_ARRAYS}",INDEX({rows},{at}))'


def live_health_score(place: TablePlace, accounts: int) -> str:
    """The Accounts Health score cell of every row: its element of the Live sheet's ``=HEALTHSCORE`` array."""
    return _element(place, "health_score", "A", accounts)


def live_health_tier(place: TablePlace, accounts: int) -> str:
    """The Accounts Health tier cell of every row: its element of the Live sheet's ``=HEALTHTIER`` array."""
    return _element(place, "health_tier", "B", accounts)


def _scores(place: TablePlace) -> str:
    """The table's five dimension-score columns in the weights' order: one range when adjacent (as csxl writes
    them), else an array built with ``CHOOSE`` (a user moved a column)."""
    dims = [c.key for c in ACCOUNTS.role("owned") if c.key.endswith("_score") and c.key != "health_score"]
    cells = [place.index(d) for d in dims]
    if cells == list(range(cells[0], cells[0] + len(cells))):
        return f"{ACCOUNTS.name}[{_column(place, dims[0])}:{_column(place, dims[-1])}]"
    choices = ",".join(str(i) for i in range(1, len(dims) + 1))
    return f"CHOOSE({{{choices}}}," + ",".join(f"{ACCOUNTS.name}{_column(place, d)}" for d in dims) + ")"


def _score_formula(place: TablePlace) -> str:
    """``=HEALTHSCORE(dimension scores, weights, preset)``: the table's dimension-score columns (refreshed from the
    signals, or typed), the Settings weights (all blank = the preset's) and the Settings preset."""
    weights = [c for c in layout.settings_rows() if c.startswith("csxl_weight_")]
    return f"=HEALTHSCORE({_scores(place)},{_settings_range(weights[0], weights[-1])},csxl_preset)"


def _tier_formula(place: TablePlace) -> str:
    """``=HEALTHTIER`` of the table's Health score column with the preset's scheme and its Settings bounds."""
    names = layout.settings_rows()
    bounds = {}
    for scheme in ("engine", "growth"):
        cells = [n for n in names if n.startswith(f"csxl_tier_{scheme}_")]
        bounds[scheme] = _settings_range(cells[0], cells[-1])
    growth = 'csxl_preset="growth"'
    return (
        f"=HEALTHTIER({ACCOUNTS.name}{_column(place, 'health_score')},"
        f'IF({growth},"growth","engine"),IF({growth},{bounds["growth"]},{bounds["engine"]}))'
    )


_TITLE = "Live health scores (Excel flavour)"


def live_sheet(place: TablePlace, accounts: int) -> list[Op]:
    """The Live scores sheet: one ``=HEALTHSCORE`` and one ``=HEALTHTIER`` array formula for the Accounts table."""
    writer = SheetWriter(SHEET_LIVE, after=layout.SHEET_ACTIONS, widths={"A": 16.0, "B": 16.0, "C": 60.0})
    writer.title(
        _TITLE,
        "One Python call per column for every account: the Accounts Health score and tier read their row from "
        "here. Written by csxl refresh; Excel does not let you change part of an array. #N/A below the last account "
        "is Excel's filler for rows the table does not use yet.",
    )
    writer.line([place.headers[place.index("health_score") - 1], place.headers[place.index("health_tier") - 1]],
                "header")  # fmt: skip
    assert writer.row == LIVE_FIRST_ROW
    last = LIVE_FIRST_ROW + accounts + LIVE_SPARE_ROWS - 1
    looks = Block(SHEET_LIVE, LIVE_FIRST_ROW, 1, [[None]] * (last - LIVE_FIRST_ROW + 1), "number")  # scores as 0.0
    ops: list[Op] = [*writer.plan().ops, looks]
    ops.append(ArrayFormula(SHEET_LIVE, f"A{LIVE_FIRST_ROW}:A{last}", _score_formula(place)))
    ops.append(ArrayFormula(SHEET_LIVE, f"B{LIVE_FIRST_ROW}:B{last}", _tier_formula(place)))
    return ops


def values_sheet() -> list[Op]:
    """The Live scores sheet of an Excel-flavour workbook refreshed where there are no worksheet functions (a Mac)."""
    writer = SheetWriter(SHEET_LIVE, after=layout.SHEET_ACTIONS, widths={"A": 90.0})
    writer.title(
        _TITLE,
        "Not used: this workbook was last refreshed on a Mac, where classic xlwings has no worksheet functions, so "
        "the Accounts health scores and tiers are values. A refresh on Windows puts the live formulas back.",
    )
    return writer.plan().ops
