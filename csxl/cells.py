"""Every cell rule once: what a spreadsheet cell means, for the loaders, the metrics, the reader and Excel functions.

The spreadsheet user's view, shared by every path into csxl:

* **Blank**: an empty cell, ``None``, ``NaN``, ``NaT``, ``pd.NA`` or whitespace-only text is missing data.
* **Number**: an ``int`` or ``float`` (NumPy's too); a boolean is *not* a number, and neither is a date. A number
  typed as text is read as a founder types it (:func:`number_from_text`): ``120,000``, ``$120,000``, ``USD 3,000``,
  ``1 200``, ``(500)``, ``12,5`` and ``1.234,56``; ``35%`` only where a column holds a fraction.
* **Yes/no**: ``TRUE``/``FALSE``, ``yes``/``no``, ``y``/``n``, ``1``/``0`` and ``x`` (= yes), any case, or a boolean.
* **Label key**: labels compare ignoring case, surrounding spaces and spaces/underscores/hyphens inside
  (``" Mid_Market "`` is ``mid-market``).
* **Dates typed as text**: ISO (``2025-12-31``, ``2025-12``), else English month names (``Dec 2025``,
  ``December 2025``, ``31 Dec 2025``, ``Dec 31, 2025``, ``31-Dec-25``) and year-first slashes (``2025/12/31``,
  ``2025/12``) (:func:`date_from_text`); ``12/31/2025`` and ``31/12/2025`` are refused: the order is a guess.
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
    "COMPANY_SUFFIXES",
    "EXCEL_EPOCH",
    "EXCEL_ERRORS",
    "FALSE_WORDS",
    "FIRST_SERIAL",
    "LAST_SERIAL",
    "TRUE_WORDS",
    "YES_NO_RULE",
    "company_key",
    "date_from_text",
    "date_to_serial",
    "domain_key",
    "domain_label",
    "finite_or_none",
    "header_key",
    "is_blank",
    "is_number",
    "label_key",
    "number_from_text",
    "record_key",
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


#: Legal-form words left out when account names are matched (``Contoso Ltd.`` is ``Contoso``).
COMPANY_SUFFIXES: Final = frozenset(
    {
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "ag",
        "kg",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "aps",
        "pty",
        "pte",
        "kk",
    }
)


def company_key(name: str) -> str:
    """An account name as a matching key: case, spacing and punctuation ignored, ``&`` as ``and``, one legal-form word
    at the end dropped (``" Contoso Ltd."``, ``"contoso"`` and ``"CONTOSO, Inc"`` are all ``"contoso"``)."""
    words = re.sub(r"[^\w\s]", " ", name.casefold().replace("&", " and ")).split()
    if len(words) > 1 and words[-1] in COMPANY_SUFFIXES:
        words.pop()
    return " ".join(words)


def domain_key(text: Any) -> str | None:
    """A web domain as a matching key, from a domain, a URL or an e-mail address: lower case, without scheme, ``www.``,
    path, port or the mailbox (``https://www.Contoso.com/about`` and ``jane@contoso.com`` are ``contoso.com``);
    ``None`` for text with no dot or with spaces (a name, not a domain)."""
    body = str(text).strip().lower()
    if "@" in body:
        body = body.rsplit("@", 1)[1]
    body = re.sub(r"^[a-z][a-z0-9+.-]*://", "", body).split("/", 1)[0].split(":", 1)[0]
    body = body.removeprefix("www.").strip(".")
    if not body or " " in body or "." not in body:
        return None
    return body


def record_key(value: Any) -> str | None:
    """A record id (a CRM's Record ID or Account ID) as a matching key: text stripped and case-folded, a whole number
    without its ``.0`` (a sheet keeps ``12345678`` as a number); ``None`` when blank."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip().casefold()
    return text or None


def domain_label(domain: str) -> str:
    """The name part of a domain key: ``contoso.co.uk`` -> ``contoso``, ``mail.fabrikam.com`` -> ``fabrikam``."""
    labels = [p for p in domain.split(".") if p]
    while len(labels) > 2 and len(labels[-1]) <= 3 and labels[-2] in ("co", "com", "org", "net", "ac", "gov"):
        labels.pop()
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


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


_SPACES = re.compile(r"[\s\u00a0\u2009\u202f']")
_CURRENCY_MARK = re.compile(r"^(?:[A-Z]{3}\s*|US\$|[$€£¥])|(?:\s*[A-Z]{3}|[$€£¥])$")
_PLAIN = re.compile(r"^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$|^\.\d+$")
_COMMA_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DOT_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$|^\d{1,3}(?:\.\d{3}){2,}$")
_DECIMAL_COMMA = re.compile(r"^\d+,(?:\d{1,2}|\d{4,})$")


def number_from_text(text: str, *, percent: bool = False) -> float | None:
    """A number typed as text, or ``None`` when the text is not one by these rules (a cell is then refused).

    Outer spaces, one currency sign or ISO code before or after (``$``, ``€``, ``£``, ``¥``, ``US$``, ``USD``),
    a sign or accounting parentheses (``(500)`` is -500), and spaces or apostrophes between digit groups are read
    away. ``1,234`` and ``120,000.50`` use commas as thousands separators; ``1.234,56`` and ``1.234.567`` use dots;
    a comma followed by one, two or four or more digits (``12,5``) is a decimal comma. ``35%`` is 0.35 when
    ``percent`` (a fraction column), else refused: a percent sign in a count or an amount is a mistake to report.
    """
    body = text.strip()
    negative = False
    if body.startswith("(") and body.endswith(")"):
        body, negative = body[1:-1].strip(), True
    if body[:1] in "+-":
        if negative:  # "(-5)": two signs, a typo to report
            return None
        negative = body[0] == "-"
        body = body[1:].strip()
    share = body.endswith("%")
    if share:
        if not percent:
            return None
        body = body[:-1].strip()
    body = _CURRENCY_MARK.sub("", body, count=2).strip()
    if not body:
        return None
    if body[0] in "+-" and not negative:
        negative, body = body[0] == "-", body[1:]
    body = _SPACES.sub("", body)
    if _PLAIN.match(body):
        number = float(body)
    elif _COMMA_THOUSANDS.match(body):
        number = float(body.replace(",", ""))
    elif _DOT_THOUSANDS.match(body):
        number = float(body.replace(".", "").replace(",", "."))
    elif _DECIMAL_COMMA.match(body):
        number = float(body.replace(",", "."))
    else:
        return None
    if not np.isfinite(number):
        return None
    number = -number if negative else number
    return number / 100.0 if share else number


_MONTH_FORMATS = ("%b %Y", "%B %Y", "%b-%Y", "%B-%Y", "%b. %Y", "%Y/%m")
_DAY_FORMATS: tuple[str, ...] = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y")
_DAY_FORMATS += ("%d-%b-%Y", "%d-%b-%y", "%Y/%m/%d", "%d. %B %Y")


def date_from_text(text: str, *, month: bool = False) -> _dt.date | None:
    """A date typed as text in a form that is not ISO, or ``None``: English month names (``Dec 2025``,
    ``31 Dec 2025``, ``Dec 31, 2025``, ``31-Dec-25``) or year-first slashes (``2025/12/31``). A month alone
    (``Dec 2025``, ``2025/12``) is a date only where the column holds months (``month``): its first day.
    Day-month orders with numbers only (``12/31/2025``, ``31/12/2025``) are refused: which is which is a guess."""
    body = " ".join(text.strip().split())
    if not body or len(body) > 40:
        return None
    formats = (*_MONTH_FORMATS, *_DAY_FORMATS) if month else _DAY_FORMATS
    for form in formats:
        try:
            parsed = _dt.datetime.strptime(body, form)
        except ValueError:
            continue
        return parsed.date().replace(day=1) if month else parsed.date()
    return None
