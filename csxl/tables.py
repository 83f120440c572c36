"""Table loading: a whole DataFrame checked against a record model, every bad cell reported at once.

:func:`load_table` matches headings to the model's columns (:func:`csxl.cells.header_key`), converts each column with
:func:`csxl.columns.convert_column`, applies the model's row rules and unique columns, and returns the valid rows
typed plus every :class:`csxl.errors.RowIssue` (sheet, row, column, value, rule).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel

from csxl.cells import company_key, header_key
from csxl.columns import convert_column
from csxl.errors import InputError, RowIssue, TableError
from csxl.models import AccountRecord, MrrRow, RowRule, SurveyResponse, column_specs

__all__ = ["LoadResult", "load_accounts", "load_mrr", "load_surveys", "load_table", "match_accounts"]

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
    """A checked table: the usable rows (typed) and every problem found.

    ``frame`` has every model column in model order (typed, see :func:`convert_column`), then the input's other
    columns unchanged; its index, named ``row``, is the sheet row number of each row. A bad cell is left blank and
    its row kept (``effect="cell ignored"``): one typo never drops an account from every figure. A row is left out
    (``effect="row left out"``) only when it cannot be placed: a required cell blank or bad, a repeated value in a
    unique column, a required column missing; rows whose model columns are all blank are skipped silently.
    ``issues`` is sorted by row, then column order.
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

    left_out = _left_out(row_bad, problems, all_blank, specs, unique)
    issues += _cell_issues(frame, typed, problems, all_blank, left_out, found, order, sheet, first_row)
    valid = ~all_blank & ~left_out
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


def _left_out(
    row_bad: BoolArray, problems: list[Any], all_blank: BoolArray, specs: Mapping[str, Any], unique: tuple[str, ...]
) -> BoolArray:
    """Rows that cannot be placed: a required column missing, a required cell blank or bad, a repeated unique value."""
    out: BoolArray = row_bad.copy()
    for name, bad, _rule in problems:
        if specs[name].required or name in unique:
            out = out | (bad & ~all_blank)
    return out


def _cell_issues(
    frame: pd.DataFrame,
    typed: dict[str, Any],
    problems: list[Any],
    all_blank: BoolArray,
    left_out: BoolArray,
    found: Mapping[str, int],
    order: Mapping[str, int],
    sheet: str,
    first_row: int,
) -> list[tuple[int, int, RowIssue]]:
    """One issue per bad cell (its effect: cell ignored, or row left out); bad cells blanked in ``typed``."""
    issues: list[tuple[int, int, RowIssue]] = []
    for name, bad, rule_text in problems:
        bad = bad & ~all_blank
        if not bad.any():
            continue
        typed[name] = _blanked(typed[name], bad)
        raw = frame.iloc[:, found[name]].to_numpy(dtype=object)
        for pos in np.flatnonzero(bad):
            row = first_row + int(pos)
            text = rule_text if isinstance(rule_text, str) else str(rule_text[pos])
            effect = "row left out" if left_out[pos] else "cell ignored"
            issues.append((row, order[name], RowIssue(sheet, row, name, _cell(raw, int(pos)), text, effect)))
    return issues


def _blanked(values: Any, bad: BoolArray) -> Any:
    """A typed column with the ``bad`` cells made missing (NaN, NaT, ``None`` or ``pd.NA`` by its type)."""
    if isinstance(values, np.ndarray):
        out = values.copy()
        if out.dtype.kind == "f":
            out[bad] = np.nan
        elif out.dtype.kind == "M":
            out[bad] = np.datetime64("NaT")
        else:
            out[bad] = None
        return out
    out = values.copy()
    out[bad] = pd.NA
    return out


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
    """:func:`load_table` with :class:`MrrRow` (months normalised to the 1st).

    An amount that cannot be read (blank, text, an error cell, below 0) on a row whose account and month can is
    unknown, not 0: the row is used with the account's MRR of its month before (0 before its first month), and the
    issue says so (``effect="read as the month before: 3000"``). A missing month would count as a churn and the next
    as a reactivation: one typo must not invent both.
    """
    result = load_table(frame, MrrRow, sheet=sheet, first_row=first_row)
    unknown = {i.row for i in result.issues if i.column == "mrr"}
    unknown -= {i.row for i in result.issues if i.column != "mrr"}
    if not unknown:
        return result
    return _carry_amounts(frame, result, sorted(unknown), first_row)


def _carry_amounts(frame: pd.DataFrame, result: LoadResult, rows: list[int], first_row: int) -> LoadResult:
    """``result`` with each row of ``rows`` (bad amount, good account and month) added at the month before's MRR."""
    specs = column_specs(MrrRow)
    where: dict[str, int] = {}
    for j, label in enumerate(frame.columns):
        where.setdefault(header_key(label), j)
    if "account" not in where or "month" not in where:  # a missing column: no row can be placed
        return result
    positions = [row - first_row for row in rows]
    keys = {
        name: convert_column(specs[name], frame.iloc[positions, where[name]]).values for name in ("account", "month")
    }
    added = pd.DataFrame({"account": keys["account"], "month": keys["month"]}, index=pd.Index(rows, name="row"))
    added = added.sort_values(["account", "month"], kind="stable")
    good = result.frame
    amounts: dict[int, float] = {}
    carried: dict[Any, tuple[Any, float]] = {}  # account -> (month, MRR) of its latest carried row so far
    for row, account, month in added[["account", "month"]].itertuples(name=None):
        earlier = good[(good["account"] == account) & (good["month"] < month)]
        last = earlier["month"].max() if len(earlier) else None
        value = float(earlier.loc[earlier["month"] == last, "mrr"].sum()) if last is not None else 0.0
        previous = carried.get(account)
        if previous is not None and previous[0] < month and (last is None or previous[0] > last):
            value = previous[1]
        amounts[row] = value
        carried[account] = (month, value)
    added["mrr"] = pd.Series(amounts)
    frame_out = pd.concat([good, added.reindex(columns=good.columns)]).sort_index()
    frame_out["mrr"] = frame_out["mrr"].astype(np.float64)
    issues = [
        replace(i, effect=f"read as the month before: {amounts[i.row]:g}") if i.row in amounts else i
        for i in result.issues
    ]
    return LoadResult(sheet=result.sheet, frame=frame_out, issues=issues)


def load_surveys(frame: pd.DataFrame, sheet: str = "Surveys", first_row: int = 2) -> LoadResult:
    """:func:`load_table` with :class:`SurveyResponse` (score range checked per kind)."""
    return load_table(frame, SurveyResponse, sheet=sheet, first_row=first_row)


def match_accounts(frame: pd.DataFrame, accounts: pd.Series[Any], sheet: str) -> tuple[pd.DataFrame, list[RowIssue]]:
    """``frame``'s ``account`` names spelled as on Accounts, and one issue per row whose name matches no account.

    A name matches exactly, else by :func:`csxl.cells.company_key` (case, spacing, punctuation and legal-form words
    ignored: ``Contoso Ltd.`` is ``Contoso``) when that key names one account only. A row that matches nothing is
    kept (its MRR still counts in the totals; a survey answer in the survey totals) and reported with the closest
    Accounts name. ``frame`` is indexed by sheet row (a :class:`LoadResult` frame).
    """
    names = [str(n) for n in accounts.dropna().unique()]
    if frame.empty or not names:
        return frame, []
    exact = set(names)
    by_key: dict[str, list[str]] = {}
    for name in names:
        by_key.setdefault(company_key(name), []).append(name)
    codes, found = pd.factorize(frame["account"], use_na_sentinel=True)
    uniques: list[Any] = list(found)
    spelled: list[Any] = []
    unmatched: set[int] = set()
    for i, value in enumerate(uniques):
        text = str(value)
        hits = [text] if text in exact else by_key.get(company_key(text), [])
        if len(hits) == 1:
            spelled.append(hits[0])
        else:
            spelled.append(value)
            unmatched.add(i)
    out = frame.copy()
    out["account"] = np.asarray([*spelled, None], dtype=object)[codes]
    issues: list[RowIssue] = []
    what = "revenue totals" if sheet == "MRR" else f"{sheet.lower()} totals"
    for pos in np.flatnonzero(np.isin(codes, list(unmatched))):
        value = str(uniques[codes[pos]])
        close = difflib.get_close_matches(value, names, n=1, cutoff=0.5)
        rule = "an account on the Accounts sheet" + (f" (closest: {close[0]!r})" if close else "")
        effect = f"kept in the {what}; no account gets it"
        row = int(frame.index.to_numpy()[pos])
        issues.append(RowIssue(sheet, row, "account", value, rule, effect))
    return out, issues
