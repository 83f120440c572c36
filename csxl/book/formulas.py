"""The simple-points model as plain spreadsheet formulas, generated from csxl's own data so sheet and Python agree.

The reference is :func:`csxl.scoring.simple_points_frame`; the cut-offs and label sets come from the signal
registry :data:`csxl.signals.SIGNALS` (``login_trend`` included, with its synonyms declining / stable / growing),
the tier bounds from
:data:`csxl.settings.SIMPLE_TIERS`. Numeric cut-offs and tier bounds are not written into the formulas: they are
named cells on the Settings sheet (``csxl_sp_nps_green`` ...), whose defaults are the registry's values.

Rules of every generated formula (one Accounts row, A1 references relative to that row):

* a blank cell (empty, or only spaces) gives blank points (``""``): missing data is not zero points;
* a value csxl would refuse (text in a number column, a number out of the signal's range or not whole where it must
  be, an unknown label) gives ``"?"``: visibly wrong, never a silent number;
* labels are looked up in their Settings table (``csxl_pts_payment``: label in column A, points in column B), which
  a founder can change; ``VLOOKUP`` ignores case, ``SUBSTITUTE`` reads hyphens and underscores as spaces and
  ``TRIM`` drops outer and repeated spaces, as :mod:`csxl.signals` normalises labels; a label holding a wildcard
  character (``*``, ``?``, ``~``) is refused first, so a lookup is always exact;
* numbers: ``2`` when the Green cut-off holds, else ``1`` when the Yellow one holds, else ``0``;
* total = the sum of the five points when all five are numbers, else blank; tier = the first of Green / Yellow / Red
  whose lower bound the total reaches, blank when the total is.

Only functions that Excel 2010+ and LibreOffice 7.4 both compute are used (:data:`FUNCTIONS`).
"""

from __future__ import annotations

import re

from csxl.book.layout import (
    ACCOUNTS,
    SIMPLE_SOURCES,
    SimpleSource,
    TablePlace,
    label_points_name,
    simple_threshold_name,
    simple_tier_name,
)
from csxl.settings import SIMPLE_TIERS
from csxl.signals import SIGNALS, CategoricalSignal, NumericSignal

__all__ = [
    "FUNCTIONS",
    "INVALID",
    "calculated_column_formulas",
    "formula_functions",
    "points_formula",
    "simple_points_formula_rows",
    "simple_points_formulas",
    "simple_tier_formula",
    "simple_total_formula",
]

#: Every spreadsheet function a generated formula may call.
FUNCTIONS: frozenset[str] = frozenset(
    {"AND", "COUNT", "FIND", "IF", "IFERROR", "INT", "ISNUMBER", "OR", "SUBSTITUTE", "SUM", "TRIM", "VLOOKUP"}
)

#: What a points cell shows for a value csxl refuses.
INVALID = "?"


def _text(value: str) -> str:
    """A string literal for a formula (quotes doubled)."""
    return '"' + value.replace('"', '""') + '"'


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) or abs(value) >= 1e-4 else repr(value)


def _blank(cell: str) -> str:
    return f'TRIM({cell})=""'


def _numeric(cell: str, signal: NumericSignal) -> str:
    green_op, _ = signal.green
    yellow_op, _ = signal.yellow
    rating = (
        f"IF({cell}{green_op}{simple_threshold_name(signal.name, 'green')},2,"
        f"IF({cell}{yellow_op}{simple_threshold_name(signal.name, 'yellow')},1,0))"
    )
    refused: list[str] = []
    if signal.lo is not None:
        refused.append(f"{cell}<{_number(signal.lo)}")
    if signal.hi is not None:
        refused.append(f"{cell}>{_number(signal.hi)}")
    if signal.integer:
        refused.append(f"{cell}<>INT({cell})")
    if refused:
        check = refused[0] if len(refused) == 1 else f"OR({','.join(refused)})"
        rating = f"IF({check},{_text(INVALID)},{rating})"
    return f'IF({_blank(cell)},"",IF(ISNUMBER({cell}),{rating},{_text(INVALID)}))'


def _categorical(cell: str, signal: CategoricalSignal) -> str:
    """Blank -> ``""``; a wildcard character -> ``"?"``; else the label's points from its Settings table, ``"?"`` for
    a label the table does not list."""
    key = f'TRIM(SUBSTITUTE(SUBSTITUTE({cell},"-"," "),"_"," "))'
    lookup = f"IFERROR(VLOOKUP({key},{label_points_name(signal.name)},2,FALSE),{_text(INVALID)})"
    wildcard = f'OR(ISNUMBER(FIND({{"*","?","~"}},{cell})))'
    return f'IF({_blank(cell)},"",IF({wildcard},{_text(INVALID)},{lookup}))'


def _place(place: TablePlace | None) -> TablePlace:
    return place if place is not None else TablePlace.default(ACCOUNTS)


def points_formula(source: SimpleSource, row: int, place: TablePlace | None = None) -> str:
    """The 0/1/2 points formula of one simple-points dimension for Accounts row ``row`` (with the leading ``=``).

    ``place``: where the Accounts columns are in this workbook (default: the layout's order)."""
    at = _place(place)
    if source.column not in at.columns:  # the input column was deleted: unknown, reported by the reader
        return '=""'
    cell = at.cell(source.column, row)
    if source.prefer is not None and source.prefer in at.columns:  # a number there beats the typed cell
        preferred = at.cell(source.prefer, row)
        cell = f"IF(ISNUMBER({preferred}),{preferred},{cell})"
    definition = SIGNALS[source.signal]
    if isinstance(definition, NumericSignal):
        return "=" + _numeric(cell, definition)
    return "=" + _categorical(cell, definition)


def simple_total_formula(row: int, place: TablePlace | None = None) -> str:
    """Sum of the five points when all five are numbers, else blank (each points cell named: columns may move)."""
    at = _place(place)
    cells = ",".join(at.cell(f"{s.dimension}_points", row) for s in SIMPLE_SOURCES)
    return f'=IF(COUNT({cells})={len(SIMPLE_SOURCES)},SUM({cells}),"")'


def simple_tier_formula(row: int, place: TablePlace | None = None) -> str:
    """Green / Yellow / Red from the total with the Settings bounds (``csxl_simple_green`` ...), blank if no total."""
    total = _place(place).cell("simple_points", row)
    *ranked, (last_label, _) = SIMPLE_TIERS.bounds
    body = _text(last_label)
    for label, _bound in reversed(ranked):
        body = f"IF({total}>={simple_tier_name(label)},{_text(label)},{body})"
    return f'=IF(ISNUMBER({total}),{body},"")'


def simple_points_formulas(row: int, place: TablePlace | None = None) -> dict[str, str]:
    """Every formula column of Accounts row ``row``: column key -> formula text (with the leading ``=``).

    ``place``: where the Accounts columns are in this workbook (default: the layout's order); every column the
    formulas read or write must be in it (:meth:`TablePlace.completed` adds csxl's own)."""
    out = {f"{s.dimension}_points": points_formula(s, row, place) for s in SIMPLE_SOURCES}
    out["simple_points"] = simple_total_formula(row, place)
    out["simple_tier"] = simple_tier_formula(row, place)
    missing = {c.key for c in ACCOUNTS.role("formula")} - set(out)
    if missing:  # pragma: no cover - a layout change without a formula
        raise RuntimeError(f"no formula for Accounts columns {sorted(missing)}")
    for key, formula in out.items():
        unknown = formula_functions(formula) - FUNCTIONS
        if unknown:  # pragma: no cover - a generator change that would break portability
            raise RuntimeError(f"{key} formula calls {sorted(unknown)}, outside the portable set")
    return out


#: A row number no sheet has (Excel's last row is 1,048,576): formulas built for it become templates for any row.
_TEMPLATE_ROW = 9_999_999


def simple_points_formula_rows(rows: range, place: TablePlace | None = None) -> dict[str, list[str]]:
    """:func:`simple_points_formulas` for many rows at once: column key -> one formula per row of ``rows``.

    The formulas are generated (and checked) once, for a row number no sheet has, and that number is replaced by
    each row's: the same text as one call per row, at a fraction of the cost for 10,000 accounts."""
    templates = simple_points_formulas(_TEMPLATE_ROW, place)
    marker = str(_TEMPLATE_ROW)
    out: dict[str, list[str]] = {}
    for key, text in templates.items():
        head, *rest = text.split(marker)
        out[key] = [head + "".join(str(row) + part for part in rest) for row in rows]
    return out


def calculated_column_formulas(place: TablePlace | None = None) -> dict[str, str]:
    """Each Accounts formula column's calculated-column formula: its heading -> the first data row's formula without
    the ``=``, A1 references relative to that row (the form Excel keeps for a calculated column typed with A1
    references). Stored in the table part, it lets Excel fill the formulas into rows added to the table before any
    refresh; every row's own formula is the same text shifted to its row, so Excel sees a consistent column."""
    at = _place(place)
    first = at.spec.first_data_row
    return {at.headers[at.index(key) - 1]: text[1:] for key, text in simple_points_formulas(first, place).items()}


_CALL = re.compile(r"([A-Za-z][A-Za-z0-9_.]*)\s*\(")
_STRING = re.compile(r'"(?:[^"]|"")*"')


def formula_functions(formula: str) -> set[str]:
    """The function names a formula calls (upper case; string literals ignored)."""
    return {name.upper() for name in _CALL.findall(_STRING.sub('""', formula))}
