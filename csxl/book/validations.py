"""Excel data validations of the template's input cells: lists and ranges (workbook edge, openpyxl).

A validation helps a founder type what csxl reads; on Accounts it only warns (other spellings csxl accepts stay
possible), and refresh checks every cell again whatever Excel allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from csxl.book.layout import Column, Setting, TableSpec

__all__ = ["VALIDATION_ROWS", "add_validations", "setting_validation"]

#: Rows below the data that an empty template's validations cover (rows pasted later keep them).
VALIDATION_ROWS = 5000


def _list_formula(choices: Sequence[str]) -> str:
    text = ",".join(choices)
    if '"' in text or len(text) > 250:  # pragma: no cover - the layout's lists are short and plain
        raise ValueError(f"choice list too long or quoted for a validation list: {text!r}")
    return f'"{text}"'


def _validation(column: Column) -> DataValidation | None:
    """The warning-style validation of an input column (other spellings csxl accepts stay possible)."""
    common: dict[str, Any] = {
        "allow_blank": True,
        "showErrorMessage": True,
        "errorStyle": "warning",
        "errorTitle": column.header,
    }
    if column.choices:
        return DataValidation(
            type="list",
            formula1=_list_formula(column.choices),
            error=f"Expected one of: {', '.join(column.choices)}.",
            **common,
        )
    if column.kind not in ("currency", "fraction", "number", "count") or (column.lo is None and column.hi is None):
        return None
    kind: Literal["whole", "decimal"] = "whole" if column.whole or column.kind == "count" else "decimal"
    what = "a whole number" if kind == "whole" else "a number"
    if column.lo is not None and column.hi is not None:
        return DataValidation(
            type=kind,
            operator="between",
            formula1=f"{column.lo:g}",
            formula2=f"{column.hi:g}",
            error=f"Expected {what} from {column.lo:g} to {column.hi:g}.",
            **common,
        )
    operator: Literal["greaterThanOrEqual", "lessThanOrEqual"]
    if column.lo is not None:
        bound, operator, words = column.lo, "greaterThanOrEqual", "at least"
    else:
        assert column.hi is not None
        bound, operator, words = column.hi, "lessThanOrEqual", "at most"
    return DataValidation(
        type=kind, operator=operator, formula1=f"{bound:g}", error=f"Expected {what} {words} {bound:g}.", **common
    )


def add_validations(ws: Worksheet, spec: TableSpec, last_row: int) -> None:
    """Each input column of ``spec`` gets its validation down to ``last_row`` (at least :data:`VALIDATION_ROWS`)."""
    bottom = max(last_row, spec.first_data_row + VALIDATION_ROWS)
    for column in spec.role("input"):
        dv = _validation(column)
        if dv is None:
            continue
        letter = spec.letter(column.key)
        dv.add(f"{letter}{spec.first_data_row}:{letter}{bottom}")
        ws.add_data_validation(dv)


def setting_validation(item: Setting) -> DataValidation | None:
    """The validation of one Settings value cell (``None``: any value)."""
    common: dict[str, Any] = {"allow_blank": True, "showErrorMessage": True, "errorTitle": item.label}
    if item.kind == "choice":
        return DataValidation(
            type="list", formula1=_list_formula(item.choices), error=f"One of {', '.join(item.choices)}.", **common
        )
    if item.kind == "fraction":
        return DataValidation(
            type="decimal", operator="between", formula1="0", formula2="1", error="A weight 0-100 %.", **common
        )
    if item.kind == "date":
        return DataValidation(
            type="date", operator="greaterThan", formula1="1", error="A date, or blank for today.", **common
        )
    if item.name.startswith("csxl_simple_"):
        return DataValidation(
            type="whole", operator="between", formula1="1", formula2="10", error="Whole points 1-10.", **common
        )
    if item.name.startswith("csxl_pts_"):
        return DataValidation(
            type="whole", operator="between", formula1="0", formula2="2", error="Points 0, 1 or 2.", **common
        )
    if item.name.startswith("csxl_tier_"):
        return DataValidation(
            type="decimal", operator="between", formula1="0", formula2="100", error="A score 0-100.", **common
        )
    if item.name.startswith("csxl_rate_"):
        return DataValidation(
            type="decimal", operator="greaterThan", formula1="0", error="A rate above 0, or blank.", **common
        )
    if item.kind == "number":
        return DataValidation(
            type="decimal", operator="greaterThanOrEqual", formula1="0", error="A number >= 0.", **common
        )
    return None
