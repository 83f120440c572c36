"""The column-conversion engine: one column of cells converted by its :class:`ColumnSpec`, all rows at once.

A :class:`ColumnSpec` says what a column holds (text, number, whole number, yes/no, date, month or label, with
bounds and label synonyms); :func:`convert_column` converts a whole pandas column by those rules in a few vectorised
passes and says which cells were blank and which broke the rule. The record models (:mod:`csxl.models`) are read into
specs; the table loader (:mod:`csxl.tables`), the one-record validators and the MRR grid all convert through here.
The cell rules themselves (blank, number, yes/no, label keys, Excel serials) are :mod:`csxl.cells`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.cells import (
    BAD,
    BLANK,
    YES_NO_RULE,
    date_from_text,
    is_number,
    label_key,
    number_from_text,
    serials_to_days,
    yes_no,
)

__all__ = ["ColumnKind", "ColumnSpec", "Converted", "convert_column", "format_number", "python_value"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

DATE_UNIT = "datetime64[us]"
_FIRST_DAY = np.datetime64("1900-03-01", "D")  # Excel serial FIRST_SERIAL
_LAST_DAY = np.datetime64("9999-12-31", "D")  # Excel serial LAST_SERIAL


def format_number(v: float) -> str:
    """A bound or limit as text: ``1``, ``0.25``, ``1000000000000000``."""
    return f"{v:g}" if abs(v) < 1e15 else str(int(v))


# --------------------------------------------------------------------------------------------------------------------
# Column specs: the models read as vectorisable rules
# --------------------------------------------------------------------------------------------------------------------

ColumnKind = Literal["text", "number", "integer", "bool", "date", "month", "label"]

_RULE_OF_KIND: dict[str, str] = {
    "text": "text",
    "bool": YES_NO_RULE,
    "date": "a date (YYYY-MM-DD, a date cell or an Excel serial number)",
    "month": "a month (YYYY-MM, YYYY-MM-DD, a date cell or an Excel serial number)",
}
_TYPE_OF_KIND: dict[str, str] = {
    "text": "text",
    "number": "number",
    "integer": "whole number",
    "bool": "yes/no",
    "date": "date",
    "month": "month",
    "label": "label",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an input table, read from a model field: the single source of the vectorised checks and docs."""

    name: str
    kind: ColumnKind
    required: bool
    description: str = ""
    unit: str = ""
    labels: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    @property
    def type_name(self) -> str:
        """Short type for docs: text, number, whole number, yes/no, date, month or label."""
        return _TYPE_OF_KIND[self.kind]

    @property
    def range_rule(self) -> str:
        """The bounds as text: ``0..1``, ``>= 0``, ``> 0`` or empty."""
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None and not self.lo_open and not self.hi_open:
            return f"{format_number(lo)}..{format_number(hi)}"
        parts = []
        if lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {format_number(lo)}")
        if hi is not None:
            parts.append(f"{'<' if self.hi_open else '<='} {format_number(hi)}")
        return " and ".join(parts)

    @property
    def rule(self) -> str:
        """What a filled cell must be, e.g. ``a whole number >= 0`` or ``one of up, flat, down``."""
        if self.kind == "label":
            return "one of " + ", ".join(self.labels)
        if self.kind in ("number", "integer"):
            what = "a number" if self.kind == "number" else "a whole number"
            bounds = self.range_rule
            return f"{what} {bounds}" if bounds else what
        return _RULE_OF_KIND[self.kind]

    @functools.cached_property
    def lookup(self) -> Mapping[str, str]:
        """Label key -> canonical label, synonyms included (labels only)."""
        table = {label_key(label): label for label in self.labels}
        table.update({label_key(alias): label for alias, label in self.aliases})
        return MappingProxyType(table)


# --------------------------------------------------------------------------------------------------------------------
# Column conversion (vectorised)
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Converted:
    """A converted column: typed ``values`` (missing where blank or bad), and the ``blank`` and ``bad`` masks."""

    values: Any  # ndarray (float64, datetime64[us], object) or a pandas extension array (Int64, boolean)
    blank: BoolArray
    bad: BoolArray


_NUMBER_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})
_DATE_INFERRED = frozenset({"date", "datetime", "datetime64"})


def _is_string_dtype(s: pd.Series[Any]) -> bool:
    return isinstance(s.dtype, pd.StringDtype)


def _strip(texts: pd.Series[Any]) -> tuple[ObjectArray, BoolArray]:
    """Strings (and missing) -> stripped object array with None for blanks, and the blank mask."""
    stripped = texts.str.strip()
    blank = np.asarray(stripped.isna() | (stripped == ""), dtype=bool)
    out: ObjectArray = np.array(stripped.astype(object).to_numpy(), dtype=object)
    out[blank] = None
    return out, blank


def _distinct_texts(texts: pd.Series[Any]) -> tuple[npt.NDArray[np.intp], ObjectArray, BoolArray]:
    """A column of strings (and missing) -> (codes, stripped distinct texts, blank per distinct text).

    Work is done once per distinct text (a 240,000-row MRR sheet has a few dozen distinct months); code -1 is missing.
    """
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    stripped, blank = _strip(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    return np.asarray(codes, dtype=np.intp), stripped, blank


def _spread(distinct: npt.NDArray[Any], codes: npt.NDArray[np.intp], fill: Any) -> npt.NDArray[Any]:
    """Per-distinct results back to rows; code -1 (missing) takes ``fill``."""
    return np.concatenate([distinct, np.array([fill], dtype=distinct.dtype)])[codes]


def _string_numbers(texts: pd.Series[Any], percent: bool = False) -> tuple[FloatArray, BoolArray]:
    codes, distinct, blank = _distinct_texts(texts)
    return _spread(_text_numbers(distinct, percent), codes, np.nan), _spread(blank, codes, True)


def _string_texts(texts: pd.Series[Any]) -> tuple[ObjectArray, BoolArray]:
    codes, distinct, blank = _distinct_texts(texts)
    return _spread(distinct, codes, None), _spread(blank, codes, True)


def _string_dates(texts: pd.Series[Any], month: bool) -> tuple[npt.NDArray[np.datetime64], BoolArray]:
    codes, distinct, blank = _distinct_texts(texts)
    return _spread(_iso_dates(distinct, month), codes, np.datetime64("NaT")), _spread(blank, codes, True)


def _missing(arr: ObjectArray) -> BoolArray:
    return np.asarray(pd.isna(arr), dtype=bool)


def _element_types(arr: ObjectArray) -> tuple[BoolArray, BoolArray]:
    """(is text, is a number) per element of an object array (booleans are not numbers)."""
    n = arr.size
    is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=n)
    is_num = np.fromiter((is_number(v) for v in arr), dtype=bool, count=n)
    return is_str, is_num


def _text_numbers(texts: ObjectArray, percent: bool = False) -> FloatArray:
    """Numeric text -> float (NaN where not a number): plain numbers at once, the others by
    :func:`csxl.cells.number_from_text` (thousands separators, currency signs, a percent sign in a fraction column)."""
    if texts.size == 0:
        return np.empty(0)
    out = np.array(pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce"), dtype=np.float64)
    for i in np.flatnonzero(np.isnan(out)):
        text = texts[i]
        if isinstance(text, str) and text.strip() and text.strip().lower() not in ("nan", "-nan", "+nan"):
            number = number_from_text(text, percent=percent)
            out[i] = np.nan if number is None else number
    return out


def _numbers(s: pd.Series[Any], percent: bool = False) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Any column -> (float64 values, blank, bad): numbers and numeric text pass; booleans, text, inf are bad.
    ``percent``: the column holds a fraction, so ``35%`` is 0.35."""
    n = len(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        blank = np.asarray(s.isna(), dtype=bool)
        return np.full(n, np.nan), blank, ~blank
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        blank = np.isnan(values)
        return values, blank, np.isinf(values)
    arr = s.to_numpy(dtype=object)
    inferred = pd.api.types.infer_dtype(arr, skipna=True)
    if inferred in _NUMBER_INFERRED:
        values = np.asarray(pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce"), dtype=np.float64)
        blank = _missing(arr)
        return values, blank, (~blank & np.isnan(values)) | np.isinf(values)
    if inferred == "string" or _is_string_dtype(s):
        values, blank = _string_numbers(s, percent)
        return values, blank, (~blank & np.isnan(values)) | np.isinf(values)
    # mixed types: classify each element (off the hot path: real sheets rarely mix)
    is_str, is_num = _element_types(arr)
    values = np.full(n, np.nan)
    missing = _missing(arr)
    blank = missing.copy()
    if is_num.any():
        values[is_num & ~missing] = arr[is_num & ~missing].astype(np.float64)
    if is_str.any():
        values[is_str], blank[is_str] = _string_numbers(pd.Series(arr[is_str], dtype=object), percent)
    return values, blank, (~blank & np.isnan(values)) | np.isinf(values)


def _number_text(v: Any) -> str:
    value = v.item() if isinstance(v, np.generic) else v
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _texts(s: pd.Series[Any]) -> tuple[ObjectArray, BoolArray, BoolArray]:
    """Any column -> (stripped text, blank, bad): text passes, numbers become text, booleans/dates are bad."""
    n = len(s)
    if _is_string_dtype(s):
        out, blank = _string_texts(s)
        return out, blank, np.zeros(n, dtype=bool)
    arr = s.to_numpy(dtype=object)
    inferred = pd.api.types.infer_dtype(arr, skipna=True)
    if inferred in ("string", "empty"):
        out, blank = _string_texts(pd.Series(arr, dtype=object))
        return out, blank, np.zeros(n, dtype=bool)
    out = np.full(n, None, dtype=object)
    missing = _missing(arr)
    is_str, is_num = _element_types(arr)
    blank = missing.copy()
    if is_str.any():
        out[is_str], blank[is_str] = _string_texts(pd.Series(arr[is_str], dtype=object))
    numbers = is_num & ~missing
    nums = arr[numbers]
    finite = np.fromiter((np.isfinite(float(v)) for v in nums), dtype=bool, count=nums.size)
    out[numbers] = [_number_text(v) if ok else None for v, ok in zip(nums, finite, strict=True)]
    bad = ~blank & ~is_str & ~numbers
    bad[np.flatnonzero(numbers)[~finite]] = True
    return out, blank, bad


def _by_unique(s: pd.Series[Any], convert: Callable[[Any], object]) -> tuple[ObjectArray, BoolArray, BoolArray]:
    """Convert each distinct value once (labels, yes/no): ``convert`` returns a value, ``BLANK`` or ``BAD``."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate(uniques):
        mapped[i] = convert(value.item() if isinstance(value, np.generic) else value)
    mapped[-1] = BLANK  # code -1 = missing
    picked = mapped[codes]
    blank = np.fromiter((v is BLANK for v in mapped), dtype=bool, count=mapped.size)[codes]
    bad = np.fromiter((v is BAD for v in mapped), dtype=bool, count=mapped.size)[codes]
    picked[blank | bad] = None
    return picked, blank, bad


def _labeller(spec: ColumnSpec) -> Callable[[Any], object]:
    lookup = spec.lookup

    def convert(v: Any) -> object:
        if isinstance(v, str):
            key = label_key(v)
            return BLANK if not key else lookup.get(key, BAD)
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            return BLANK
        return BAD

    return convert


def _iso_dates(texts: ObjectArray, month: bool) -> npt.NDArray[np.datetime64]:
    """ISO text -> datetime64[D] (NaT where the text is not an ISO date, or a month for month columns).

    ``YYYY-MM-DD`` with an optional time; month columns also take ``YYYY-MM``. Month and day may have one digit.
    """
    series = pd.Series(texts, dtype=object).astype("string")
    time = r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    day = r"(?:-(?P<d>\d{1,2}))?" if month else r"-(?P<d>\d{1,2})"
    parts = series.str.extract(rf"^(?P<y>\d{{4}})-(?P<m>\d{{1,2}}){day}{time}$")
    days = parts["d"].fillna("1") if month else parts["d"]
    head = parts["y"] + "-" + parts["m"].str.zfill(2) + "-" + days.str.zfill(2)
    parsed = pd.to_datetime(head.astype(object), format="%Y-%m-%d", errors="coerce")
    days = np.asarray(parsed.to_numpy(), dtype="datetime64[D]")  # in its own unit: no nanosecond wrap-around
    for i in np.flatnonzero(np.isnat(days) & parts["y"].isna().to_numpy()):  # not ISO: the other written forms
        written = texts[i]
        found = date_from_text(written, month=month) if isinstance(written, str) else None
        if found is not None:
            days[i] = np.datetime64(found, "D")
    return days


def _datetimes_to_days(s: pd.Series[Any]) -> npt.NDArray[np.datetime64]:
    """A datetime64 column (naive or time-zone-aware) -> datetime64[D] of the local date."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    return np.asarray(s.to_numpy(), dtype="datetime64[D]")  # in its own unit: no nanosecond wrap-around


def _one_date(v: Any) -> Any:
    """A date-like object -> datetime64[D] (local date), NaT if it is not date-like."""
    if isinstance(v, pd.Period):  # a month or shorter; a quarter or a year is not "a date within a month"
        start, end = v.start_time, v.end_time
        same_month = (start.year, start.month) == (end.year, end.month)
        return np.datetime64(start.date(), "D") if same_month else np.datetime64("NaT")
    if isinstance(v, (dt.date, np.datetime64)):
        stamp = pd.Timestamp(v)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_localize(None)
        return np.datetime64(stamp.date(), "D")
    return np.datetime64("NaT")


def _dates(s: pd.Series[Any], month: bool) -> tuple[npt.NDArray[np.datetime64], BoolArray, BoolArray]:
    """Any column -> (datetime64[us] at midnight, or the 1st of the month; blank; bad)."""
    n = len(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        blank = np.asarray(s.isna(), dtype=bool)
        return np.full(n, np.datetime64("NaT"), dtype=DATE_UNIT), blank, ~blank
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        days = _datetimes_to_days(s)
        blank = np.isnat(days)
        bad = np.zeros(n, dtype=bool)
    elif pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        days, bad = serials_to_days(values)
        blank = np.isnan(values)
    else:
        arr = s.to_numpy(dtype=object)
        inferred = pd.api.types.infer_dtype(arr, skipna=True)
        missing = _missing(arr)
        if inferred in ("string", "empty") or _is_string_dtype(s):
            days, blank = _string_dates(pd.Series(arr, dtype=object), month)
            bad = ~blank & np.isnat(days)
        else:
            days = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
            converted = False
            if inferred in _DATE_INFERRED:
                try:
                    days = _datetimes_to_days(pd.Series(pd.to_datetime(pd.Series(arr, dtype=object))))
                    converted = True
                except (ValueError, TypeError, OverflowError):  # mixed time zones or out of range: one by one
                    pass
            blank = missing.copy()
            bad = np.zeros(n, dtype=bool)
            if not converted:
                is_str, is_num = _element_types(arr)
                if is_str.any():
                    days[is_str], blank[is_str] = _string_dates(pd.Series(arr[is_str], dtype=object), month)
                numbers = is_num & ~missing
                if numbers.any():
                    days[numbers], _ = serials_to_days(arr[numbers].astype(np.float64))
                others = ~is_str & ~is_num & ~missing
                if others.any():
                    days[others] = [_one_date(v) for v in arr[others]]
                bad = ~blank & np.isnat(days)
    with np.errstate(invalid="ignore"):  # Excel's calendar is the one date rule: 1900-03-01 .. 9999-12-31
        bad |= ~blank & ~np.isnat(days) & ((days < _FIRST_DAY) | (days > _LAST_DAY))
    days = days.copy()
    days[bad | blank] = np.datetime64("NaT")
    if month:
        days = days.astype("datetime64[M]").astype("datetime64[D]")
    return days.astype(DATE_UNIT), blank, bad


def convert_column(spec: ColumnSpec, column: pd.Series[Any]) -> Converted:
    """Convert one column by ``spec``'s rules, all rows at once: typed values, blank cells and bad cells.

    Typed values: ``number`` float64 (NaN missing); ``integer`` pandas ``Int64``; ``bool`` pandas ``boolean``;
    ``date``/``month`` ``datetime64[us]`` at midnight (months on the 1st); ``text``/``label`` object with ``None``.
    Bad cells (wrong type, out of bounds, unknown label) are missing in ``values`` and flagged in ``bad``.
    """
    s = column.reset_index(drop=True)
    values: Any
    if spec.kind in ("number", "integer"):
        numbers, blank, bad = _numbers(s, percent=spec.unit.startswith("fraction"))
        with np.errstate(invalid="ignore"):
            if spec.kind == "integer":
                bad |= (numbers != np.floor(numbers)) | (np.abs(numbers) > 2.0**53)
            if spec.lo is not None:
                bad |= (numbers <= spec.lo) if spec.lo_open else (numbers < spec.lo)
            if spec.hi is not None:
                bad |= (numbers >= spec.hi) if spec.hi_open else (numbers > spec.hi)
        bad &= ~blank
        numbers = numbers.copy()
        numbers[bad | blank] = np.nan
        values = pd.array(numbers, dtype="Int64") if spec.kind == "integer" else numbers
    elif spec.kind == "text":
        values, blank, bad = _texts(s)
    elif spec.kind == "label":
        values, blank, bad = _by_unique(s, _labeller(spec))
    elif spec.kind == "bool":
        if pd.api.types.is_bool_dtype(s.dtype) and not s.hasnans:
            flags = s.to_numpy(dtype=bool)
            return Converted(pd.array(flags, dtype="boolean"), np.zeros(len(s), bool), np.zeros(len(s), bool))
        picked, blank, bad = _by_unique(s, yes_no)
        values = pd.array(picked.tolist(), dtype="boolean")
    else:
        values, blank, bad = _dates(s, spec.kind == "month")
    return Converted(values, blank, bad)


def python_value(value: Any, spec: ColumnSpec) -> Any:
    """One converted cell as the Python value the model field holds."""
    if value is None or value is pd.NA:
        return None
    if spec.kind in ("date", "month"):
        return pd.Timestamp(value).date()
    if spec.kind == "integer":
        return int(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
