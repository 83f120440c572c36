"""The churn model as a table of numbers, and back (pure core): how a model lives in a workbook.

A :class:`csxl.churn.ChurnModel` is only numbers: an intercept, and per input column its kind, the fill for blanks,
the centre and scale, and one coefficient per model column. :func:`model_table` writes them as rows, one per model
column (:data:`MODEL_COLUMNS`):

=============  =========  ==========  ======  ======  =======  ===========
input          kind       level       fill    mean    scale    coefficient
=============  =========  ==========  ======  ======  =======  ===========
(intercept)                                                    -2.1
dau_mau        number                 0.41    0.43    0.21     -0.62
dau_mau        missing                                         0.18
segment        category   enterprise                           -0.33
=============  =========  ==========  ======  ======  =======  ===========

``kind`` is ``number`` or ``yes/no`` (the standardised value), ``missing`` (the indicator of the input above: 1 when
the cell is blank), ``category`` (1 when the cell holds ``level``; ``(blank)`` and ``other`` as in the model). The
Model sheet holds this table, ``=CHURNPROB`` reads it, and :func:`model_from_table` reads it back, checking every
cell (a founder may edit a coefficient): all the bad cells are reported at once (:class:`csxl.errors.TableError`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import pandas as pd

from csxl.cells import number_from_text
from csxl.churn import ChurnModel, Encoding, Kind
from csxl.errors import RowIssue, TableError

__all__ = ["INTERCEPT", "MODEL_COLUMNS", "model_from_table", "model_table"]

#: The table's columns, in order.
MODEL_COLUMNS: tuple[str, ...] = ("input", "kind", "level", "fill", "mean", "scale", "coefficient")
#: The ``input`` of the intercept's row.
INTERCEPT = "(intercept)"

_KINDS = ("number", "yes/no", "missing", "category")


def model_table(model: ChurnModel) -> pd.DataFrame:
    """``model`` as rows (see the module): the intercept first, then each input column's model columns in order."""
    rows: list[dict[str, Any]] = [{"input": INTERCEPT, "coefficient": float(model.intercept)}]
    for encoding in model.encodings:
        names = encoding.names()
        if encoding.kind == "category":
            for level, name in zip(encoding.levels, names, strict=True):
                rows.append({"input": encoding.column, "kind": "category", "level": level,
                             "coefficient": float(model.coefficients[name])})  # fmt: skip
            continue
        rows.append({"input": encoding.column, "kind": encoding.kind, "fill": encoding.fill, "mean": encoding.mean,
                     "scale": encoding.scale, "coefficient": float(model.coefficients[names[0]])})  # fmt: skip
        if encoding.indicator:
            rows.append(
                {"input": encoding.column, "kind": "missing", "coefficient": float(model.coefficients[names[1]])}
            )
    out: pd.DataFrame = pd.DataFrame(rows, columns=list(MODEL_COLUMNS))
    return out


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    parsed = number_from_text(str(value)) if value is not None else None
    return parsed if parsed is not None and math.isfinite(parsed) else None


class _Reader:
    """Reads the rows one by one, collecting every bad cell."""

    def __init__(self, sheet: str, rows: Sequence[int]) -> None:
        self.sheet, self.rows, self.issues = sheet, rows, list[RowIssue]()

    def number(self, at: int, column: str, value: Any, rule: str = "a number", positive: bool = False) -> float:
        number = _number(value)
        if number is None or (positive and number <= 0):
            self.issues.append(RowIssue(self.sheet, self.rows[at], column, value, rule, "model not used"))
            return 1.0
        return number


def model_from_table(
    table: pd.DataFrame, *, sheet: str = "model", rows: Sequence[int] | None = None, label: str = "churned"
) -> ChurnModel:
    """The model written by :func:`model_table` (the cells as a sheet gives them: numbers as numbers or text, blanks
    as ``None``). ``rows``: the sheet row of each table row, for the messages. Every bad cell (a coefficient that is
    not a number, a scale of 0, an unknown kind, a ``missing`` row not under its input, an input twice, no intercept)
    is reported at once in a :class:`TableError`."""
    at_rows = list(rows) if rows is not None else list(range(1, len(table) + 1))
    reader = _Reader(sheet, at_rows)
    absent = [c for c in MODEL_COLUMNS if c not in table.columns]
    if absent:
        raise TableError(sheet, [RowIssue(sheet, 0, c, None, "a column of the model table", "model not used")
                                 for c in absent])  # fmt: skip
    intercept: float | None = None
    order: list[str] = []
    parts: dict[str, dict[str, Any]] = {}
    for i, record in enumerate(table[list(MODEL_COLUMNS)].itertuples(index=False, name=None)):
        name, kind, level, fill, mean, scale, coefficient = record
        column, kind_text = _text(name), _text(kind).lower()
        if not column and not kind_text and _number(coefficient) is None:
            continue  # a blank row
        weight = reader.number(i, "coefficient", coefficient)
        if column == INTERCEPT:
            if intercept is not None:
                reader.issues.append(RowIssue(sheet, at_rows[i], "input", name, "one intercept row"))
            intercept = weight
            continue
        if not column:
            reader.issues.append(RowIssue(sheet, at_rows[i], "input", name, "the name of an input column"))
            continue
        if kind_text not in _KINDS:
            reader.issues.append(RowIssue(sheet, at_rows[i], "kind", kind, "one of " + ", ".join(_KINDS)))
            continue
        part = parts.get(column)
        if kind_text == "category":
            if part is None:
                part = parts[column] = {"kind": "category", "levels": [], "weights": []}
                order.append(column)
            if part["kind"] != "category" or not _text(level) or _text(level) in part["levels"]:
                reader.issues.append(RowIssue(sheet, at_rows[i], "level", level, "a new level of a category input"))
                continue
            part["levels"].append(_text(level))
            part["weights"].append(weight)
        elif kind_text == "missing":
            if part is None or part["kind"] == "category" or part.get("indicator") is not None:
                reader.issues.append(RowIssue(sheet, at_rows[i], "kind", kind, "missing only under its number input"))
                continue
            part["indicator"] = weight
        else:
            if part is not None:
                reader.issues.append(RowIssue(sheet, at_rows[i], "input", name, "each input once"))
                continue
            parts[column] = {"kind": kind_text, "fill": reader.number(i, "fill", fill),
                             "mean": reader.number(i, "mean", mean),
                             "scale": reader.number(i, "scale", scale, "a number above 0", positive=True),
                             "weight": weight, "indicator": None}  # fmt: skip
            order.append(column)
    if intercept is None:
        reader.issues.append(RowIssue(sheet, 0, "input", None, f"a row {INTERCEPT!r} with the intercept"))
    if reader.issues:
        raise TableError(sheet, reader.issues)
    encodings: list[Encoding] = []
    coefficients: dict[str, float] = {}
    for column in order:
        part = parts[column]
        if part["kind"] == "category":
            encoding = Encoding(column, "category", levels=tuple(part["levels"]))
            weights = part["weights"]
        else:
            has = part["indicator"] is not None
            encoding = Encoding(column, cast(Kind, part["kind"]), part["fill"], part["mean"], part["scale"], has)
            weights = [part["weight"], *([part["indicator"]] if has else [])]
        encodings.append(encoding)
        coefficients.update(zip(encoding.names(), weights, strict=True))
    series = pd.Series(coefficients, dtype=float)
    return ChurnModel(tuple(encodings), series, float(cast(float, intercept)), label, 0, 0)
