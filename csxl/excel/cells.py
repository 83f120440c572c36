"""How Excel cells come in and go out of the worksheet functions: shapes, blanks, Excel errors, dates, settings
cells, messages; and the health model's inputs. Runtime-neutral (no xlwings decorators here: see
:mod:`csxl.excel.functions`)."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.cells import EXCEL_EPOCH, EXCEL_ERRORS, FIRST_SERIAL, LAST_SERIAL, is_number
from csxl.errors import CsxlError, InputError, TableError
from csxl.settings import (
    DIMENSIONS,
    HEALTH_WEIGHTS,
    resolve_weights,
)

#: What every function returns: rows of cells (a single value is ``[[value]]``).
Cells = list[list[Any]]
ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.intp]


#: The five weighted dimensions in the Accounts table's (and the Settings sheet's) column order.
ALL_DIMENSIONS: tuple[str, ...] = tuple(d for d in DIMENSIONS if any(d in w for w in HEALTH_WEIGHTS.values()))

_MAX_TEXT = 250


# --------------------------------------------------------------------------------------------------------------------
# Cells in: shapes, blanks, Excel errors, settings
# --------------------------------------------------------------------------------------------------------------------


def _js_null(value: Any) -> bool:
    """Pyodide's ``JsNull`` (an empty cell under Pyodide 0.28+, passed through by xlwings before 0.36.7)."""
    return type(value).__name__ == "JsNull"


def _officejs_cell(value: Any) -> Any:
    """One Office.js cell as ``@arg(ndim=2, err_to_str=True)`` would give it: JS null and "" are blank (None), an
    error is its code (``"#N/A"``), another data type its basic value."""
    if value is None or value == "" or _js_null(value):
        return None
    if isinstance(value, dict):
        return value.get("basicValue")
    return value


def _officejs_cells(value: Any) -> Any:
    """A raw Office.js argument as a 2-D list of cleaned cells; a block of plain numbers is returned untouched."""
    if type(value) is not list:
        return [[_officejs_cell(value)]]
    rows = value if value and type(value[0]) is list else [value]
    if set(map(type, itertools.chain.from_iterable(rows))) <= {float, int}:
        return rows
    return [[_officejs_cell(v) for v in row] for row in rows]


def _omitted(x: Any) -> bool:
    """An optional argument left out: ``""`` (the default) or ``None`` (a blank single cell in xlwings Lite)."""
    return x is None or (isinstance(x, str) and x == "") or _js_null(x)


def _grid(x: Any) -> ObjArray:
    """Any argument as a 2-D object array; ``""`` cells become ``None`` (blank)."""
    if isinstance(x, (list, tuple)) and len(x) > 0:
        if isinstance(x[0], (list, tuple)):
            rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in x]
        else:
            rows = [list(x)]  # a 1-D list is one row
        width = len(rows[0])
        if width == 0 or any(len(r) != width for r in rows):
            raise InputError("range", f"rows of {sorted({len(r) for r in rows})} cells", "rectangular")
        out: ObjArray = np.empty((len(rows), width), dtype=object)
        out[:, :] = rows
    else:
        out = np.empty((1, 1), dtype=object)
        out[0, 0] = None if isinstance(x, (list, tuple)) or _js_null(x) else x  # an empty list: one blank cell
    if out.size <= 64:  # a small range may carry JsNull cells (xlwings before 0.36.7); a big one is cleaned raw
        out[np.vectorize(_js_null, otypes=[bool])(out)] = None
    out[out == ""] = None
    return out


def _blank(a: ObjArray) -> npt.NDArray[np.bool_]:
    return np.asarray(pd.isna(a), dtype=bool)


_ERROR_SET = frozenset(EXCEL_ERRORS)


def _errors(a: ObjArray) -> npt.NDArray[np.bool_]:
    """Mask of cells holding an Excel error value (error codes are text, so only strings are looked up)."""
    return np.fromiter(
        (isinstance(v, str) and v in _ERROR_SET for v in a.reshape(-1)), dtype=bool, count=a.size
    ).reshape(a.shape)


def _one_plain_row(value: Any, width: int) -> bool:
    """True for one row of ``width`` plain numbers as the dispatcher passes it (``[[7.0, 5.0, ...]]``)."""
    return (
        type(value) is list
        and len(value) == 1
        and type(value[0]) is list
        and len(value[0]) == width
        and all(type(v) in (float, int) for v in value[0])
    )


def _plain_block(value: Any, width: int) -> bool:
    """True for rows of ``width`` plain numbers each (no blanks, text, errors or booleans), as the dispatcher passes."""
    if type(value) is not list or not all(type(row) is list and len(row) == width for row in value):
        return False
    return set(map(type, itertools.chain.from_iterable(value))) <= {float, int}


def _as_numbers(rows: ObjArray) -> npt.NDArray[Any]:
    """``rows`` as float64 when every cell is a plain number or blank (the usual range), else unchanged.

    Float columns take the core's fast path; anything else (text, booleans) stays as it is so the core names it.
    """
    if all(v is None or (type(v) in (float, int)) for v in rows.reshape(-1)):
        return rows.astype(np.float64)
    return rows


_NOT_ERROR = "a value, not an Excel error"


class _Code(str):
    """An Excel error code in a message, shown as Excel shows it (``#N/A``, not ``'#N/A'``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _error_text(field: str, code: Any, detail: str = "") -> str:
    """``usage must be a value, not an Excel error, got #N/A``."""
    return str(InputError(field, _Code(code), _NOT_ERROR, detail=detail))


def _numeric_text(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _label(v: Any) -> str:
    """A header or weight label as a key: ``"Usage score"``, ``"Weight: usage"``, ``"usage"`` -> ``"usage"``."""
    text = re.sub(r"[^a-z0-9]+", "_", str(v).strip().lower()).strip("_")
    text = text.removeprefix("weight_")
    return text.removesuffix("_score")


def _is_header(row: ObjArray, names: tuple[str, ...]) -> bool:
    """A first row is a header when its filled cells are all non-numeric text and one of them is a known name."""
    filled = [v for v in row if v is not None]
    if not filled or not all(isinstance(v, str) and not _numeric_text(v) for v in filled):
        return False
    return any(_label(v) in names for v in filled)


def _single(x: Any, field: str) -> Any:
    """One setting cell: ``None`` when omitted or blank; more than one cell or an Excel error raises."""
    if _omitted(x):
        return None
    cells = _grid(x)
    if cells.size != 1:
        raise InputError(field, f"{cells.shape[0]}x{cells.shape[1]} cells", "a single cell")
    value = cells[0, 0]
    if isinstance(value, str) and value in EXCEL_ERRORS:
        raise InputError(field, _Code(value), _NOT_ERROR)
    return value


def _text(x: Any, field: str) -> str | None:
    value = _single(x, field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(field, value, "a name (text)")
    return value.strip()


def _number(x: Any, field: str) -> float | None:
    value = _single(x, field)
    if value is None:
        return None
    if isinstance(value, str) and _numeric_text(value):
        value = float(value)
    if not is_number(value) or not math.isfinite(float(value)):
        raise InputError(field, value, "a number")
    return float(value)


def _whole(x: Any, field: str, default: int, lo: int) -> int:
    value = _number(x, field)
    if value is None:
        return default
    if value != round(value) or value < lo:
        raise InputError(field, value, f"a whole number >= {lo}")
    return int(value)


def _int_if_whole(value: float | None, default: int) -> float | int:
    """A cut-off cell (Excel sends numbers as floats): 8.0 -> 8; other values are left for the core to judge."""
    if value is None:
        return default
    return int(value) if value == round(value) else value


def _to_dates(values: ObjArray) -> ObjArray:
    """Excel serial numbers (xlwings Lite sends dates as numbers) -> ``datetime``; other values are left as they are.

    Serial ``s`` is day ``s`` after 1899-12-30 (Excel's 1900 date system), valid from 61 (1900-03-01) on. Numbers
    outside 61..2958465 are left alone for the core to reject.
    """
    flat = values.reshape(-1)
    numeric = np.fromiter((is_number(v) for v in flat), dtype=bool, count=flat.size)
    serial = np.where(numeric, flat, np.nan).astype(np.float64)
    with np.errstate(invalid="ignore"):
        ok = numeric & (serial >= FIRST_SERIAL) & (serial <= LAST_SERIAL)
    out = flat.copy()
    if ok.any():
        stamps = pd.Timestamp(EXCEL_EPOCH) + pd.to_timedelta(serial[ok], unit="D")
        out[ok] = np.asarray(stamps.to_pydatetime(), dtype=object)
    result: ObjArray = out.reshape(values.shape)
    return result


def _as_of(x: Any) -> Any:
    """The as-of month: blank -> ``None`` (the last month of the table); a serial number -> a date."""
    value = _single(x, "as_of")
    if value is None:
        return None
    return _to_dates(np.array([value], dtype=object))[0]


# --------------------------------------------------------------------------------------------------------------------
# Cells out: messages and values
# --------------------------------------------------------------------------------------------------------------------

_POSITION = re.compile(r"^at (?:position )?(-?\d+)$")  # "at position 3" (arrays), "at 3" (a table's row index)
_MORE = re.compile(r"^\d+ more bad value\(s\)$")


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _message(err: BaseException, width: int | None = None) -> str:
    """A short cell text for an error.

    Element-wise calls (``width=None``) drop the core's "at position N" and "N more bad value(s)": the text sits in
    the bad cell itself. Aggregates (``width`` = columns of the range) turn the position into a row and column.
    """
    if isinstance(err, TableError):
        return _clip(str(err))
    if isinstance(err, InputError):
        parts = []
        for part in err.detail.split("; ") if err.detail else []:
            where = _POSITION.match(part)
            if where and width is not None:
                row, col = divmod(int(where.group(1)), width)
                parts.append(f"at row {row + 1}, column {col + 1} of the range")
            elif not (where or (_MORE.match(part) and width is None)):
                parts.append(part)
        return _clip(str(InputError(err.field, err.value, err.rule, detail="; ".join(parts))))
    if isinstance(err, CsxlError):
        return _clip(str(err))
    return _clip(f"unexpected {type(err).__name__}: {err}")


def _cells(values: Any) -> ObjArray:
    """Core results -> cells: numbers as Python numbers, ``NaN`` / ``None`` as blank, labels as text."""
    arr = np.asarray(values).reshape(-1)
    if arr.dtype.kind == "f":
        out: ObjArray = arr.astype(object)
        out[np.isnan(arr)] = None
        return out
    if arr.dtype.kind in "iub":
        return arr.astype(object)
    out = arr.astype(object)
    out[_blank(out)] = None
    return out


def _guard(name: str, body: Callable[[], Cells]) -> Cells:
    """Run a function body; any error becomes one text cell (never a traceback in Excel)."""
    try:
        return body()
    except Exception as err:
        if isinstance(err, CsxlError):
            return [[_message(err)]]
        return [[_clip(f"{name}: {_message(err)}")]]


def _solve(todo: IntArray, compute: Callable[[IntArray], ObjArray], out: ObjArray) -> None:
    """Fill ``out[todo]`` with ``compute(todo)``; a bad element gets its own message, the others still compute.

    ``compute`` is first called with no element at all: an error then is about a setting (a preset, weights,
    thresholds) and is raised for the whole call. Otherwise the whole set is computed at once (vectorised); if that
    fails, the set is split in halves until each failing element is alone, so k bad elements among n cost about
    ``2 k log2(n)`` vectorised calls, not n.
    """
    compute(np.zeros(0, dtype=np.intp))

    def solve(idx: IntArray) -> None:
        if idx.size == 0:
            return
        try:
            out[idx] = compute(idx)
        except Exception as err:
            if idx.size == 1:
                out[idx[0]] = _message(err)
                return
            half = idx.size // 2
            solve(idx[:half])
            solve(idx[half:])

    solve(todo)


def _elementwise(compute: Callable[[dict[str, Any]], ObjArray], inputs: Mapping[str, Any]) -> Cells:
    """Apply ``compute`` element by element over arguments of one shape (single cells repeat).

    ``compute`` gets each argument as a 1-D object array (length 1 for a single cell, which the core broadcasts)
    and returns one cell per element. Excel errors are caught here, per element, before the core sees them.
    """
    grids = {name: _grid(value) for name, value in inputs.items()}
    shapes = {g.shape for g in grids.values() if g.size > 1}
    if len(shapes) > 1:
        sizes = ", ".join(f"{name} {g.shape[0]}x{g.shape[1]}" for name, g in grids.items() if g.size > 1)
        raise InputError("argument sizes", sizes, "the same size for every range (single cells repeat)")
    shape = shapes.pop() if shapes else (1, 1)
    n = shape[0] * shape[1]
    flat = {name: g.reshape(-1) for name, g in grids.items()}
    out: ObjArray = np.full(n, None, dtype=object)
    bad = np.zeros(n, dtype=bool)
    for name, values in flat.items():
        errors = _errors(values)
        if not errors.any():
            continue
        if values.size == 1:
            errors = np.full(n, True)
        new = errors & ~bad
        codes = values if values.size == n else np.full(n, values[0], dtype=object)
        out[new] = [_error_text(name, code) for code in codes[new]]
        bad |= new

    def run(idx: IntArray) -> ObjArray:
        # every argument of the call's size is cut to ``idx`` (single-cell calls too: the empty first call must not
        # see an Excel error that the loop above already answered); a single cell beside a range repeats
        return compute({name: v[idx] if v.size == n else v for name, v in flat.items()})

    _solve(np.flatnonzero(~bad).astype(np.intp), run, out)
    return _shaped(out, shape)


def _shaped(out: ObjArray, shape: tuple[int, int]) -> Cells:
    cells: Cells = out.reshape(shape).tolist()
    return cells


def _given(**kwargs: Any) -> dict[str, Any]:
    """The optional arguments that were given (omitted ones fall back to the core's defaults)."""
    return {k: v for k, v in kwargs.items() if not _omitted(v)}


# --------------------------------------------------------------------------------------------------------------------
# Health model inputs
# --------------------------------------------------------------------------------------------------------------------


class _HealthInput:
    """The parsed arguments of HEALTHSCORE / HEALTHEXPLAIN: column names, data rows, the weights to use."""

    def __init__(self, scores: Any, weights: Any, preset: Any) -> None:
        grid = _grid(scores)
        preset_name = self._preset(_text(preset, "preset"), "preset")
        w_cells = None if _omitted(weights) else _grid(weights)
        if w_cells is not None and w_cells.size == 1 and isinstance(w_cells[0, 0], str):
            if w_cells[0, 0] in EXCEL_ERRORS:
                raise InputError("weights", _Code(w_cells[0, 0]), _NOT_ERROR)
            named = self._preset(w_cells[0, 0].strip(), "weights")
            if preset_name is not None and named != preset_name:
                raise InputError("weights", w_cells[0, 0], f"the preset named by preset ({preset_name}), or numbers")
            preset_name, w_cells = named, None
        self.preset: str = preset_name or "engine"
        self.header = grid.shape[0] > 0 and _is_header(grid[0], DIMENSIONS)
        if self.header:
            self.dims = [_label(v) if v is not None else f"column {j + 1}" for j, v in enumerate(grid[0])]
            self.data: ObjArray = grid[1:]
        else:
            self.dims = self._dims_by_count(grid.shape[1])
            self.data = grid
        known = [d for d in self.dims if d in DIMENSIONS]
        twice = sorted({d for d in known if known.count(d) > 1})
        if twice:
            raise InputError("scores header", ", ".join(twice), "each dimension named once")
        self.weights: str | dict[str, float] = self._weights(w_cells)
        resolve_weights(self.weights)  # a bad weight is one message for the call, not one per row

    @staticmethod
    def _preset(name: str | None, field: str) -> str | None:
        if name is None:
            return None
        key = name.lower()
        if key not in HEALTH_WEIGHTS:
            raise InputError(field, name, f"a preset ({', '.join(HEALTH_WEIGHTS)})")
        return key

    def _dims_by_count(self, k: int) -> list[str]:
        own = tuple(d for d in ALL_DIMENSIONS if d in HEALTH_WEIGHTS[self.preset])
        if k == len(own):
            return list(own)
        if k == len(ALL_DIMENSIONS):
            return list(ALL_DIMENSIONS)
        raise InputError(
            "scores",
            f"{k} column(s)",
            f"{len(own)} columns ({', '.join(own)}) or a header row naming the dimensions",
        )

    def _weights(self, cells: ObjArray | None) -> str | dict[str, float]:
        if cells is None:
            return self.preset
        errors = _errors(cells)
        if errors.any():
            raise InputError("weights", _Code(cells[errors][0]), _NOT_ERROR)
        rows, cols = cells.shape
        if cols == 2 and rows >= 1 and all(isinstance(v, str) for v in cells[:, 0]):
            labels, values = cells[:, 0], cells[:, 1]  # label | weight, one pair a row
        elif rows == 2 and cols >= 1 and all(isinstance(v, str) for v in cells[0, :]):
            labels, values = cells[0, :], cells[1, :]  # labels above weights
        elif rows == 1 or cols == 1:
            values = cells.reshape(-1)
            if values.size != len(self.dims):
                raise InputError(
                    "weights",
                    f"{values.size} cell(s)",
                    f"one weight per scores column ({len(self.dims)}), a preset name, or label/weight pairs",
                )
            labels = np.asarray(self.dims, dtype=object)
        else:
            raise InputError("weights", f"{rows}x{cols} cells", "a row or column of weights, or label/weight pairs")
        blank = _blank(values)
        if blank.all():
            return self.preset  # the Settings sheet's "blank = the preset's weights"
        if blank.any():
            raise InputError(
                "weights", f"{int(blank.sum())} blank of {blank.size}", "all filled (or all blank for the preset's)"
            )
        return {_label(label): value for label, value in zip(labels, values, strict=True)}

    def rows(self) -> tuple[ObjArray, npt.NDArray[np.bool_], list[tuple[int, str]]]:
        """Data rows, the mask of entirely blank rows, and (row, message) for rows holding an Excel error."""
        data = self.data
        blank_rows = np.asarray(_blank(data).all(axis=1) if data.size else np.zeros(data.shape[0]), dtype=bool)
        errors = _errors(data) if data.size else np.zeros(data.shape, dtype=bool)
        bad_rows = np.flatnonzero(errors.any(axis=1))
        first_col = errors.argmax(axis=1)
        messages = [(int(r), _error_text(self.dims[first_col[r]], data[r, first_col[r]])) for r in bad_rows]
        return data, blank_rows, messages

    def frame(self, data: ObjArray) -> pd.DataFrame:
        frame: pd.DataFrame = pd.DataFrame(data, columns=self.dims, dtype=object)
        return frame
