"""Vectorisation helpers shared by the pure core: scalars, lists, arrays and Series in, the same shape out.

Every metric in csxl takes a scalar, a sequence, a NumPy array or a pandas Series and answers in the same shape:
a scalar gives a Python scalar, a Series gives a Series on the same index, anything else gives an ndarray. The helpers
here do the conversion once, check the rule over the whole array in one pass, and raise an :class:`InputError` that
names the field, the first bad value, its position and how many others break the rule.

Missing values (``None``, ``NaN``, ``pd.NA``, blank strings) become ``NaN``; each metric documents what it does with
them (most propagate ``NaN``, which is how the health model leaves a dimension out).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.cells import is_number
from csxl.errors import InputError

FloatArray = npt.NDArray[np.float64]
ArrayLike = Union[float, int, "npt.ArrayLike", "pd.Series[Any]", None]


@dataclass(frozen=True)
class Shape:
    """Where an input came from, so a result can go back in the same form."""

    scalar: bool
    index: pd.Index | None = None
    name: Any = None


def _where(shape: Shape, position: int) -> str:
    if shape.scalar:
        return ""
    if shape.index is not None:
        return f"at {shape.index[position]!r}"
    return f"at position {position}"


def fail(field: str, values: npt.NDArray[Any], bad: npt.NDArray[np.bool_], rule: str, shape: Shape) -> InputError:
    """Build the error for the first bad element, saying where it is and how many more there are."""
    positions = np.flatnonzero(bad)
    first = int(positions[0])
    value = values.reshape(-1)[first]
    if isinstance(value, np.generic):
        value = value.item()
    parts = [_where(shape, first)]
    if len(positions) > 1:
        parts.append(f"{len(positions) - 1} more bad value(s)")
    return InputError(field, value, rule, detail="; ".join(p for p in parts if p))


def shape_of(x: Any, field: str = "input") -> Shape:
    if isinstance(x, pd.Series):
        return Shape(False, x.index, x.name)
    if isinstance(x, pd.DataFrame):
        raise InputError(field, "a table", "a single value, a list or a column")
    try:
        ndim = np.ndim(x)
    except ValueError:  # numpy refuses ragged nested lists
        raise InputError(field, "rows of different lengths", "a single value, a list or a column") from None
    if ndim == 0:
        return Shape(True)
    return Shape(False)


def _is_blank(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    blank = np.asarray(pd.isna(values), dtype=bool)
    if values.dtype == object:
        blank |= np.fromiter(
            (isinstance(v, str) and not v.strip() for v in values.reshape(-1)), dtype=bool, count=values.size
        ).reshape(values.shape)
    return blank


def _numeric(cleaned: npt.NDArray[Any]) -> FloatArray:
    """pandas' number parsing (text such as ``"12.5"`` is a number); anything else becomes NaN."""
    numbers: pd.Series[Any] = pd.to_numeric(pd.Series(cleaned.tolist()), errors="coerce")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def array_of(x: Any, field: str) -> npt.NDArray[Any]:
    """``x`` as a NumPy array in numpy's own dtype (numbers stay numbers); ragged rows are an :class:`InputError`."""
    try:
        return np.asarray(x.to_numpy() if isinstance(x, pd.Series) else x)
    except ValueError:  # numpy refuses ragged or nested-sequence cells
        raise InputError(field, "rows of different lengths", "a single value, a list or a column") from None


def object_array(x: Any, field: str) -> npt.NDArray[Any]:
    """``x`` (a value, a list, nested lists, an array or a Series) as an object array, keeping each element's type;
    rows of different lengths are an :class:`InputError` naming ``field``."""
    try:
        return np.asarray(x.to_numpy(dtype=object) if isinstance(x, pd.Series) else x, dtype=object)
    except ValueError:  # numpy refuses ragged or nested-sequence cells
        raise InputError(field, "rows of different lengths", "a single value, a list or a column") from None


def to_float(
    x: Any,
    field: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    rule: str | None = None,
    allow_missing: bool = True,
) -> tuple[FloatArray, Shape]:
    """Convert ``x`` to a float64 array (missing -> NaN) and check it lies in ``lo..hi``.

    Text that is not a number, booleans, infinities and values out of range raise :class:`InputError`.
    """
    shape = shape_of(x, field)
    # a list keeps each element's type: numpy would make True a 1 and a date a number
    arr = object_array(x, field) if isinstance(x, (list, tuple)) else array_of(x, field)
    raw = arr.reshape(-1)
    if raw.dtype.kind in "fiu":  # fast path: already numbers, no Python loop
        out = raw.astype(np.float64, copy=False)
        blank = np.isnan(out)
        not_number = np.zeros(raw.shape, dtype=bool)
    else:
        raw = raw.astype(object)
        blank = _is_blank(raw)
        # booleans, dates, complex numbers, bytes, containers ... are not numbers (csxl.cells.is_number), text may be
        is_bool = np.fromiter((not (isinstance(v, str) or is_number(v)) for v in raw), dtype=bool, count=raw.size)
        is_bool &= ~blank
        cleaned = raw.copy()
        cleaned[blank | is_bool] = None
        is_text = np.fromiter((isinstance(v, str) for v in raw), dtype=bool, count=raw.size)
        if not is_text.any() and not is_bool.any():
            try:  # numbers and blanks only (what a spreadsheet range usually holds): no pandas round trip
                out = cleaned.astype(np.float64)
            except (TypeError, ValueError):
                out = _numeric(cleaned)
        else:
            out = _numeric(cleaned)
        not_number = (~blank & np.isnan(out)) | is_bool
    what = rule or _range_rule(lo, hi, lo_open, hi_open)
    if not_number.any():
        raise fail(field, raw, not_number, f"a number ({what})" if what else "a number", shape)
    if not allow_missing and blank.any():
        raise fail(field, raw, blank, what or "a number", shape)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(out)
        if lo is not None:
            bad |= (out <= lo) if lo_open else (out < lo)
        if hi is not None:
            bad |= (out >= hi) if hi_open else (out > hi)
    if bad.any():
        raise fail(field, raw, bad, what or "finite", shape)
    return out, shape


def _range_rule(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    def num(v: float) -> str:
        return f"{v:g}"

    if lo is not None and hi is not None:
        if not lo_open and not hi_open:
            return f"{num(lo)}..{num(hi)}"
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        return f"in {left}{num(lo)}, {num(hi)}{right}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {num(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {num(hi)}"
    return ""


def to_category(x: Any, field: str, mapping: Mapping[str, float]) -> tuple[FloatArray, Shape]:
    """Map labels (case- and space-insensitive) to numbers; missing -> NaN; an unknown label raises.

    ``mapping`` keys are lower-case labels. Numbers already equal to one of the mapping's values pass through, so
    ``"Green"`` and ``2`` mean the same thing where the mapping says so.
    """
    shape = shape_of(x)
    raw = np.asarray(x.to_numpy(dtype=object) if isinstance(x, pd.Series) else x, dtype=object).reshape(-1)
    allowed_numbers = set(mapping.values())
    out = np.full(raw.shape, np.nan)
    bad = np.zeros(raw.shape, dtype=bool)
    blank = _is_blank(raw)
    lookup = {str(k).strip().lower(): float(v) for k, v in mapping.items()}
    for i, v in enumerate(raw):
        if blank[i]:
            continue
        if isinstance(v, str):
            key = v.strip().lower()
            if key in lookup:
                out[i] = lookup[key]
                continue
        elif (
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_))
            and float(v) in allowed_numbers
        ):
            out[i] = float(v)
            continue
        bad[i] = True
    if bad.any():
        labels = ", ".join(dict.fromkeys(str(k) for k in mapping))
        raise fail(field, raw, bad, f"one of {labels}", shape)
    return out, shape


def restore(values: npt.NDArray[Any], shape: Shape) -> Any:
    """Give ``values`` back in the input's form: scalar -> Python scalar, Series -> Series, else ndarray."""
    if shape.scalar:
        item = values.reshape(-1)[0]
        return item.item() if isinstance(item, np.generic) else item
    if shape.index is not None:
        return pd.Series(values, index=shape.index, name=shape.name)
    return values


def broadcast(*shapes: Shape) -> Shape:
    """The shape of a result computed from several inputs: the first Series wins, else array, else scalar."""
    for s in shapes:
        if s.index is not None:
            return s
    for s in shapes:
        if not s.scalar:
            return s
    return Shape(True)


def combine(*inputs: tuple[FloatArray, Shape]) -> tuple[list[FloatArray], Shape]:
    """Broadcast converted inputs against each other (single values repeat) and pick the result's shape.

    Series arguments must share one index (values are combined by position, so a mismatch would pair wrong rows).
    """
    shapes = [s for _, s in inputs]
    indexes = [s.index for s in shapes if s.index is not None]
    if any(not indexes[0].equals(other) for other in indexes[1:]):
        raise InputError("Series arguments", "different indexes", "on one index (align them first)")
    try:
        arrays = np.broadcast_arrays(*(a for a, _ in inputs))
    except ValueError:
        lengths = sorted({a.size for a, _ in inputs})
        raise InputError("argument lengths", lengths, "equal (or 1 for a single value)") from None
    shape = broadcast(*shapes)
    if shape.index is not None and arrays and arrays[0].size != len(shape.index):
        lengths = sorted({a.size for a, _ in inputs})
        raise InputError("argument lengths", lengths, "equal (or 1 for a single value)")
    return [np.asarray(a, dtype=np.float64) for a in arrays], shape


def map_distinct(x: Any, field: str, rule: str, convert: Callable[[Any], float | None]) -> tuple[FloatArray, Shape]:
    """Map each distinct non-missing value once through ``convert`` (a code, or None when the value is not allowed).

    Missing values (None, NaN, pd.NA, blank text) give NaN. Cost: one hash pass over the input plus one Python call
    per distinct value, so a million rows of a few labels convert at C speed.
    """
    shape = shape_of(x, field)
    raw = object_array(x, field).reshape(-1)
    try:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    except TypeError:  # an unhashable cell (a dict, a list): not a value of any signal
        unhashable = np.fromiter((not isinstance(v, Hashable) for v in raw), dtype=bool, count=raw.size)
        raise fail(field, raw, unhashable, rule, shape) from None
    table = np.full(len(uniques) + 1, np.nan)  # the last slot serves code -1 (missing)
    refused = np.zeros(len(uniques) + 1, dtype=bool)
    for i, u in enumerate(uniques):
        if isinstance(u, str) and not u.strip():
            continue
        got = convert(u)
        if got is None:
            refused[i] = True
        else:
            table[i] = got
    bad = refused[codes]
    if bad.any():
        raise fail(field, raw, bad, rule, shape)
    return table[codes], shape


def require_columns(table: Any, field: str, columns: tuple[str, ...], rule: str) -> pd.DataFrame:
    """``table`` when it is a DataFrame holding every one of ``columns``; else an :class:`InputError` naming
    ``field``, what it got (the type, or the columns it has) and ``rule``, with the missing columns."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(field, type(table).__name__, rule)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            field,
            ", ".join(map(str, table.columns)) or "no columns",
            rule,
            detail=f"missing: {', '.join(missing)}",
        )
    return table
