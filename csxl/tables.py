"""Table loading: a whole DataFrame checked against a record model, every bad cell reported at once.

:func:`load_table` matches headings to the model's columns (:func:`csxl.cells.header_key`), converts each column with
:func:`csxl.columns.convert_column`, applies the model's row rules and unique columns, and returns the valid rows
typed plus every :class:`csxl.errors.RowIssue` (sheet, row, column, value, rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel

from csxl.cells import header_key
from csxl.columns import convert_column
from csxl.errors import InputError, RowIssue, TableError
from csxl.models import AccountRecord, MrrRow, RowRule, SurveyResponse, column_specs

__all__ = ["LoadResult", "load_accounts", "load_mrr", "load_surveys", "load_table"]

BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]
# dtype of a loaded column by kind; text and labels stay object (None = missing) under pandas 2 and 3 alike
_DTYPE: dict[str, str] = {"text": "object", "label": "object"}


# --------------------------------------------------------------------------------------------------------------------
# Table loading
# --------------------------------------------------------------------------------------------------------------------


def _cell(arr: ObjectArray, position: int) -> Any:
    value = arr[position]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


@dataclass(frozen=True)
class LoadResult:
    """A checked table: the valid rows (typed) and every problem found.

    ``frame`` has every model column in model order (typed, see :func:`convert_column`), then the input's other
    columns unchanged; its index, named ``row``, is the sheet row number of each row. Rows with any issue, and rows
    whose model columns are all blank, are left out. ``issues`` is sorted by row, then column order.
    """

    sheet: str
    frame: pd.DataFrame
    issues: list[RowIssue]

    @property
    def ok(self) -> bool:
        """True when no issue was found."""
        return not self.issues

    def raise_for_issues(self) -> pd.DataFrame:
        """Raise :class:`TableError` listing every issue, or return ``frame`` when there is none."""
        if self.issues:
            raise TableError(self.sheet, self.issues)
        return self.frame


def load_table(frame: pd.DataFrame, model: type[BaseModel], *, sheet: str, first_row: int = 2) -> LoadResult:
    """Check a whole table against ``model`` and report every bad cell at once.

    Row numbers: data row at position ``i`` (0-based, the input's index is ignored) is sheet row ``first_row + i``;
    the header is row ``first_row - 1``. Headings match field names ignoring case, with spaces, hyphens and slashes
    read as ``_`` (``"Renewal Date"`` is ``renewal_date``).

    Issues (``csxl.errors.RowIssue``): a bad cell (its rule, e.g. ``a number >= 0``); a blank required cell
    (``filled in (required)``); a broken row rule (``<= goals_defined (3)``); a repeated value in a unique column
    (``unique (first on row 4)``, later occurrences only); a missing required column or a column given twice (one
    issue on the header row). A row whose model columns are all blank is skipped silently (spreadsheets end in blank
    rows). Columns the model does not know are kept, unchecked. A frame with no columns and no rows is an empty table.
    """
    _check_arguments(frame, sheet, first_row)
    specs = column_specs(model)
    order = {name: i for i, name in enumerate(specs)}
    n = len(frame)
    header_row = first_row - 1
    index = pd.Index(np.arange(first_row, first_row + n, dtype=np.int64), name="row")
    found, extras, issues = _headings(frame, specs, order, sheet, header_row)
    empty_table = n == 0 and len(frame.columns) == 0

    typed: dict[str, Any] = {}
    all_blank = np.ones(n, dtype=bool)
    row_bad = np.zeros(n, dtype=bool)
    # (column, bad rows, rule text: one for the column or one per row)
    problems: list[tuple[str, BoolArray, str | ObjectArray]] = []
    for name, spec in specs.items():
        if name not in found:
            if spec.required and not empty_table:
                rule = "a column of the table (required)"
                issues.append((header_row, order[name], RowIssue(sheet, header_row, name, None, rule)))
                row_bad[:] = True
            typed[name] = convert_column(spec, pd.Series([None] * n, dtype=object)).values
            continue
        converted = convert_column(spec, frame.iloc[:, found[name]])
        typed[name] = converted.values
        all_blank &= converted.blank
        problems.append((name, converted.bad, spec.rule))
        if spec.required:
            problems.append((name, converted.blank, "filled in (required)"))
    rules: tuple[RowRule, ...] = getattr(model, "row_rules", ())
    for row_rule in rules:
        if row_rule.column in found:
            bad, texts = row_rule.check(typed)
            per_row = np.empty(n, dtype=object)
            per_row[bad] = texts
            problems.append((row_rule.column, bad, per_row))
    unique: tuple[str, ...] = getattr(model, "unique_columns", ())
    for name in unique:
        if name in found:
            repeated, per_row = _repeats(typed[name], all_blank, first_row)
            if repeated.any():
                problems.append((name, repeated, per_row))

    valid = ~all_blank & ~row_bad
    for name, bad, rule_text in problems:
        bad = bad & ~all_blank
        if not bad.any():
            continue
        valid &= ~bad
        raw = frame.iloc[:, found[name]].to_numpy(dtype=object)
        for pos in np.flatnonzero(bad):
            row = first_row + int(pos)
            text = rule_text if isinstance(rule_text, str) else str(rule_text[pos])
            issues.append((row, order[name], RowIssue(sheet, row, name, _cell(raw, int(pos)), text)))

    out = pd.DataFrame(
        {name: pd.Series(values, index=index, dtype=_DTYPE.get(specs[name].kind)) for name, values in typed.items()},
        index=index,
    )
    if extras:
        others = frame.iloc[:, extras].copy()
        others.index = index
        out = pd.concat([out, others], axis=1)
    issues.sort(key=lambda item: (item[0], item[1]))
    return LoadResult(sheet=sheet, frame=out[valid], issues=[issue for _, _, issue in issues])


def _check_arguments(frame: Any, sheet: Any, first_row: Any) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError("frame", type(frame).__name__, "a pandas DataFrame")
    if not isinstance(sheet, str):
        raise InputError("sheet", sheet, "a sheet name (text)")
    if isinstance(first_row, bool) or not isinstance(first_row, (int, np.integer)) or first_row < 2:
        raise InputError("first_row", first_row, "a whole number >= 2 (the header is the row above)")


def _headings(
    frame: pd.DataFrame, specs: Mapping[str, Any], order: Mapping[str, int], sheet: str, header_row: int
) -> tuple[dict[str, int], list[int], list[tuple[int, int, RowIssue]]]:
    """Model column -> frame position; the positions of the other columns; a heading used twice as an issue."""
    found: dict[str, int] = {}
    extras: list[int] = []
    issues: list[tuple[int, int, RowIssue]] = []
    for j, label in enumerate(frame.columns):
        key = header_key(label)
        if key not in specs:
            extras.append(j)
        elif key in found:
            rule = f"a heading used once (also column {found[key] + 1})"
            issues.append((header_row, order[key], RowIssue(sheet, header_row, key, label, rule)))
        else:
            found[key] = j
    return found, extras, issues


def _repeats(values: Any, all_blank: BoolArray, first_row: int) -> tuple[BoolArray, ObjectArray]:
    """The rows repeating an earlier filled value of a unique column, each with the rule naming the first row."""
    series = pd.Series(values, dtype=object)
    filled = np.asarray(series.notna(), dtype=bool) & ~all_blank
    repeated = np.asarray(series.duplicated(keep="first"), dtype=bool) & filled
    per_row = np.empty(len(series), dtype=object)
    if repeated.any():
        firsts = filled & ~repeated
        first_row_of = pd.Series(np.flatnonzero(firsts) + first_row, index=series[firsts].to_numpy())
        where = first_row_of.reindex(series[repeated].to_numpy()).to_numpy()
        per_row[repeated] = [f"unique (first on row {w})" for w in where]
    return repeated, per_row


def load_accounts(frame: pd.DataFrame, sheet: str = "Accounts", first_row: int = 2) -> LoadResult:
    """:func:`load_table` with :class:`AccountRecord` (account names must be unique)."""
    return load_table(frame, AccountRecord, sheet=sheet, first_row=first_row)


def load_mrr(frame: pd.DataFrame, sheet: str = "MRR", first_row: int = 2) -> LoadResult:
    """:func:`load_table` with :class:`MrrRow` (months normalised to the 1st)."""
    return load_table(frame, MrrRow, sheet=sheet, first_row=first_row)


def load_surveys(frame: pd.DataFrame, sheet: str = "Surveys", first_row: int = 2) -> LoadResult:
    """:func:`load_table` with :class:`SurveyResponse` (score range checked per kind)."""
    return load_table(frame, SurveyResponse, sheet=sheet, first_row=first_row)
