"""Every cell rule once: what a spreadsheet cell means, for the loaders, the metrics, the reader and Excel functions.

The spreadsheet user's view, shared by every path into csxl:

* **Blank**: an empty cell, ``None``, ``NaN``, ``NaT``, ``pd.NA`` or whitespace-only text is missing data.
* **Number**: an ``int`` or ``float`` (NumPy's too); a boolean is *not* a number, and neither is a date.
* **Yes/no**: ``TRUE``/``FALSE``, ``yes``/``no``, ``y``/``n``, ``1``/``0`` and ``x`` (= yes), any case, or a boolean.
* **Label key**: labels compare ignoring case, surrounding spaces and spaces/underscores/hyphens inside
  (``" Mid_Market "`` is ``mid-market``).
* **Dates**: Excel's 1900 date system: serial ``n`` is ``1899-12-30 + n`` days, valid from 61 (1900-03-01, after
  Excel's fictitious 1900-02-29) to 2958465 (9999-12-31).
* **Excel errors**: the error values a cell can show (``#N/A``, ``#DIV/0!`` ...), as text.

Nothing here knows a sheet or a column: the table loaders (:mod:`csxl.columns`), the metric functions
(:mod:`csxl.vectors`, :mod:`csxl.signals`), the workbook reader and the Excel functions all call these.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "BAD",
    "BLANK",
    "EXCEL_EPOCH",
    "EXCEL_ERRORS",
    "FALSE_WORDS",
    "FIRST_SERIAL",
    "LAST_SERIAL",
    "TRUE_WORDS",
    "YES_NO_RULE",
    "date_to_serial",
    "finite_or_none",
    "header_key",
    "is_blank",
    "is_number",
    "label_key",
    "serial_to_date",
    "serials_to_days",
    "yes_no",
]

#: Sentinels of a converted cell: blank (missing data) and bad (breaks the column's rule).
BLANK: Final = object()
BAD: Final = object()

#: Excel's day 0 in the 1900 date system; serials from :data:`FIRST_SERIAL` on are exact.
EXCEL_EPOCH: Final = _dt.datetime(1899, 12, 30)
FIRST_SERIAL: Final = 61  # 1900-03-01
LAST_SERIAL: Final = 2958465  # 9999-12-31, Excel's last date
_EPOCH_DAY = np.datetime64("1899-12-30", "D")

TRUE_WORDS: Final = frozenset({"true", "yes", "y", "x", "1"})
FALSE_WORDS: Final = frozenset({"false", "no", "n", "0"})
YES_NO_RULE: Final = "true/false (yes/no, 1/0, x)"

#: Excel's error values as a cell shows them (and as xlwings hands them over with ``err_to_str=True``).
EXCEL_ERRORS: Final = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#PYTHON!",
    }
)


def is_number(v: Any) -> bool:
    """True for an int or float (NumPy's included); False for booleans, text, dates and everything else."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def is_blank(v: Any) -> bool:
    """True for a missing cell: ``None``, ``NaN``, ``NaT``, ``pd.NA`` or whitespace-only text."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, (float, np.floating)):
        return bool(v != v)
    return isinstance(v, np.datetime64) and bool(np.isnat(v))


def yes_no(v: Any) -> object:
    """One yes/no cell -> ``True``, ``False``, :data:`BLANK` or :data:`BAD`."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, str):
        key = v.strip().lower()
        if not key:
            return BLANK
        return True if key in TRUE_WORDS else False if key in FALSE_WORDS else BAD
    if is_number(v):
        if v != v:
            return BLANK
        return True if v == 1 else False if v == 0 else BAD
    return BLANK if is_blank(v) else BAD


def finite_or_none(value: Any) -> float | None:
    """A number as a float, or ``None`` for a missing, NaN or infinite one (JSON has no NaN)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    out = float(value)
    return out if np.isfinite(out) else None


def label_key(text: str) -> str:
    """Case-, space-, underscore- and hyphen-insensitive key of a label (``" Mid_Market "`` -> ``"mid-market"``)."""
    return re.sub(r"[\s_\-]+", "-", text.strip().lower())


def header_key(label: Any) -> str:
    """A column heading as a field name: case-insensitive; spaces, hyphens and slashes read as ``_`` (``"DAU/MAU"``)."""
    return re.sub(r"[\s\-/]+", "_", str(label).strip().lower())


def serials_to_days(values: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.bool_]]:
    """Excel serials -> ``datetime64[D]`` (a fraction, the time of day, is dropped), and the out-of-range mask.

    Serials outside ``FIRST_SERIAL..LAST_SERIAL`` (and NaN) become NaT; the mask flags the out-of-range ones only.
    """
    with np.errstate(invalid="ignore"):
        ok = (values >= FIRST_SERIAL) & (values < LAST_SERIAL + 1)
    days = np.where(ok, np.floor(np.where(ok, values, 0.0)), 0).astype(np.int64)
    out = _EPOCH_DAY + days.astype("timedelta64[D]")
    out[~ok] = np.datetime64("NaT")
    return out, ~ok & ~np.isnan(values)


def serial_to_date(serial: float) -> _dt.datetime | None:
    """One Excel serial -> ``datetime`` (time of day kept); ``None`` outside ``FIRST_SERIAL..LAST_SERIAL``."""
    if not is_number(serial) or not FIRST_SERIAL <= float(serial) < LAST_SERIAL + 1:
        return None
    return EXCEL_EPOCH + _dt.timedelta(days=float(serial))


def date_to_serial(value: _dt.date) -> float | None:
    """Excel serial of a date or datetime (time as a fraction of a day); ``None`` before 1900-03-01."""
    moment = value if isinstance(value, _dt.datetime) else _dt.datetime(value.year, value.month, value.day)
    moment = moment.replace(tzinfo=None)
    delta = moment - EXCEL_EPOCH
    if delta.days < FIRST_SERIAL:
        return None
    return delta.days + (delta.seconds + delta.microseconds / 1_000_000) / 86_400
