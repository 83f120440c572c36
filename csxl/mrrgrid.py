"""Long MRR table -> dense accounts x months matrix, shared by :mod:`csxl.revenue` and :mod:`csxl.cohorts`.

Input: a pandas DataFrame with the columns ``account``, ``month``, ``mrr`` (exact names, other columns ignored), one
row per account and month (several rows for the same account and month are **summed**: several subscriptions).

* ``month`` and ``mrr`` follow the MRR table's column rules (:class:`csxl.models.MrrRow`, converted by
  :func:`csxl.columns.convert_column`, the same as :func:`csxl.load_mrr`): a month is a date cell anywhere inside
  the month, ISO text ``'YYYY-MM'`` / ``'YYYY-MM-DD'`` or an Excel serial number; MRR is a finite number >= 0 in
  currency per month. Blanks, other text and booleans are rejected.
* ``account`` is any non-blank label, matched exactly (``'A1'`` and ``'A1 '`` are two accounts).

Every bad cell of the table is reported at once in a :class:`csxl.errors.TableError` (sheet ``"MRR"``, row =
position in the DataFrame + 1).

The month range runs from the first month present in the table (rows with MRR 0 count) to the last one, or to
``as_of`` when given; rows after ``as_of`` are ignored (but still validated). ``as_of`` after the last month of the
table raises: those months have no data yet, and treating them as 0 MRR would churn every customer. An account
with no row for a month has MRR 0 in that month.

Months are returned as **month-start Timestamps** (``datetime64[us]``, pandas 3's default unit; e.g. ``2024-03-01``):
they write to Excel as dates without conversion. Internally a month is an ordinal: months since 1970-01, the same
number as ``pd.Period(..., "M").ordinal``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.columns import convert_column
from csxl.errors import InputError, RowIssue, TableError
from csxl.models import MrrRow, column_specs
from csxl.vectors import require_columns

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Anything that names a month.
MonthLike = Union[str, _dt.date, pd.Timestamp, pd.Period, np.datetime64]

COLUMNS = ("account", "month", "mrr")
SHEET = "MRR"
_MONTH = column_specs(MrrRow)["month"]
_AMOUNT = column_specs(MrrRow)["mrr"]
MONTH_RULE = _MONTH.rule
MRR_RULE = f"{_AMOUNT.rule} (MRR in currency per month; 0 when none)"


@dataclass(frozen=True)
class MrrGrid:
    """The dense matrix: ``values[a, t]`` is account ``a``'s MRR in month ``start + t`` (0 where no row).

    ``cents`` holds the same matrix in integer cents when every input value is a whole number of cents (then sums and
    differences are exact), else ``None``. ``data_last`` is the last month ordinal of the whole table (before any
    ``as_of`` cut); for an empty table ``start`` and ``data_last`` are ``None``.
    """

    values: FloatArray
    cents: IntArray | None
    accounts: pd.Index
    start: int | None
    data_last: int | None

    @property
    def n_months(self) -> int:
        return int(self.values.shape[1])

    @property
    def months(self) -> pd.DatetimeIndex:
        return month_index(self.start if self.start is not None else 0, self.n_months)


def month_index(start: int, n: int, name: str = "month") -> pd.DatetimeIndex:
    """Month-start Timestamps for ordinals ``start .. start + n - 1``."""
    ords = np.arange(start, start + n, dtype=np.int64)
    index: pd.DatetimeIndex = pd.DatetimeIndex(ords.astype("datetime64[M]").astype("datetime64[us]"), name=name)
    return index


def month_label(ordinal: int) -> str:
    """``'YYYY-MM'`` for a month ordinal (for messages)."""
    return str(np.datetime64(int(ordinal), "M"))


def _ordinals(days: npt.NDArray[np.datetime64]) -> IntArray:
    """Month ordinals (months since 1970-01) of converted month cells; NaT gives 0 (the caller masks it)."""
    ords = days.astype("datetime64[M]").astype(np.int64)
    ords[np.isnat(days)] = 0
    return ords


def parse_month(value: Any) -> int | None:
    """Month ordinal of one value by the month-cell rule of the MRR table; ``None`` if it does not name a month."""
    converted = convert_column(_MONTH, pd.Series([value], dtype=object))
    if converted.blank[0] or converted.bad[0]:
        return None
    return int(_ordinals(np.asarray(converted.values))[0])


def parse_as_of(as_of: Any, field: str = "as_of") -> int:
    """Month ordinal of an ``as_of`` argument; :class:`InputError` if it is not a month."""
    ordinal = parse_month(as_of)
    if ordinal is None:
        raise InputError(field, as_of, MONTH_RULE)
    return ordinal


def _month_ordinals(col: pd.Series[Any]) -> tuple[IntArray, BoolArray]:
    """Month ordinals of a column and the mask of cells that are not months (blank included)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        col = col.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(col.dtype):  # date cells: their month (the column rule's fast path)
        stamps = col.to_numpy()
        ords = stamps.astype("datetime64[M]").astype(np.int64)
        missing = np.isnat(stamps)
        ords[missing] = 0
        return ords, missing
    converted = convert_column(_MONTH, col)
    return _ordinals(np.asarray(converted.values)), converted.bad | converted.blank


def _amounts(col: pd.Series[Any]) -> tuple[FloatArray, BoolArray]:
    """MRR as float64 and the mask of cells that are blank or break the MRR column's rule."""
    converted = convert_column(_AMOUNT, col)
    return np.asarray(converted.values, dtype=np.float64), converted.bad | converted.blank


def _account_codes(col: pd.Series[Any]) -> tuple[IntArray, pd.Index, BoolArray]:
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    u_bad = np.array([isinstance(u, str) and not u.strip() for u in uniques] + [True], dtype=bool)
    return codes, pd.Index(uniques), u_bad[codes]


def _issues(column: str, values: pd.Series[Any], bad: BoolArray, rule: str) -> list[RowIssue]:
    positions = np.flatnonzero(bad)
    raw = values.to_numpy(dtype=object)
    return [RowIssue(SHEET, int(p) + 1, column, _plain(raw[p]), rule) for p in positions]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def require_table(mrr: Any) -> pd.DataFrame:
    """Check ``mrr`` is a DataFrame with the needed columns; :class:`InputError` listing them otherwise."""
    return require_columns(mrr, "mrr", COLUMNS, f"a DataFrame with columns {', '.join(COLUMNS)}")


def _whole_cents(values: FloatArray) -> IntArray | None:
    cents = values * 100.0
    rounded = np.rint(cents)
    if values.size and not np.all(np.abs(cents - rounded) <= 1e-6 + 1e-12 * np.abs(cents)):
        return None
    if values.size and float(rounded.max()) >= 2.0**53:
        return None
    return rounded.astype(np.int64)


@dataclass(frozen=True)
class MrrRows:
    """The MRR table checked and parsed once: per row the account code, month ordinal and amount.

    Build it with :func:`parse_rows`; every MRR metric takes it in place of the DataFrame, so a run that computes
    several metrics (a refresh, the dashboard) converts and validates the table once.
    """

    acc: IntArray
    accounts: pd.Index
    ords: IntArray
    amount: FloatArray

    def __len__(self) -> int:
        return int(self.acc.size)


def parse_rows(mrr: Any) -> MrrRows:
    """Validate the long table (every bad cell reported at once) and parse it; an :class:`MrrRows` passes through."""
    if isinstance(mrr, MrrRows):
        return mrr
    table = require_table(mrr)
    acc_col, month_col, mrr_col = (table[c] for c in COLUMNS)
    if isinstance(acc_col, pd.DataFrame) or isinstance(month_col, pd.DataFrame) or isinstance(mrr_col, pd.DataFrame):
        raise InputError("mrr", ", ".join(map(str, table.columns)), "a table with each of account, month, mrr once")
    acc, accounts, acc_bad = _account_codes(acc_col)
    ords, month_bad = _month_ordinals(month_col)
    amount, amount_bad = _amounts(mrr_col)
    if acc_bad.any() or month_bad.any() or amount_bad.any():
        issues = (
            _issues("account", acc_col, acc_bad, "an account name (not blank)")
            + _issues("month", month_col, month_bad, MONTH_RULE)
            + _issues("mrr", mrr_col, amount_bad, MRR_RULE)
        )
        issues.sort(key=lambda i: i.row)
        raise TableError(SHEET, issues)
    return MrrRows(acc, accounts, ords, amount)


def load(mrr: Any, as_of: Any = None) -> MrrGrid:
    """The dense accounts x months matrix (duplicates summed) of a long table or of parsed :class:`MrrRows`."""
    if not isinstance(mrr, MrrRows):
        require_table(mrr)
    as_of_ord = None if as_of is None else parse_as_of(as_of)
    rows = parse_rows(mrr)
    acc, accounts, ords, amount = rows.acc, rows.accounts, rows.ords, rows.amount
    empty = np.zeros((0, 0))
    if len(rows) == 0:
        return MrrGrid(empty, np.zeros((0, 0), dtype=np.int64), pd.Index([], name="account"), None, None)
    first, data_last = int(ords.min()), int(ords.max())
    end = data_last
    if as_of_ord is not None:
        if as_of_ord > data_last:
            raise InputError(
                "as_of",
                month_label(as_of_ord),
                f"a month with data (the last month in the MRR table is {month_label(data_last)})",
                detail="later months have no data yet; add rows (MRR 0 is fine) to cover them",
            )
        if as_of_ord < first:
            raise InputError(
                "as_of",
                month_label(as_of_ord),
                f"on or after the first month of the MRR table ({month_label(first)})",
            )
        end = as_of_ord
        keep = ords <= end
        if not keep.all():
            acc_kept, kept_idx = pd.factorize(acc[keep])
            acc = np.asarray(acc_kept, dtype=np.int64)
            accounts = accounts[np.asarray(kept_idx, dtype=np.int64)]
            ords, amount = ords[keep], amount[keep]
    n_acc, n_months = len(accounts), end - first + 1
    flat = acc * n_months + (ords - first)
    summed = np.bincount(flat, weights=amount, minlength=n_acc * n_months)  # duplicate rows add up
    values: FloatArray = np.asarray(summed, dtype=np.float64).reshape(n_acc, n_months)
    accounts = pd.Index(accounts, name="account")
    return MrrGrid(values, _whole_cents(values), accounts, first, data_last)
