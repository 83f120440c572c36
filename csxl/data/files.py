"""Cells of imported files, read by one rule for every importer (data edge): CSV through DuckDB, numbers and dates
typed as text (the workbook's own rules: :func:`csxl.cells.number_from_text`, :func:`csxl.cells.date_from_text`).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.cells import BAD, date_from_text, number_from_text
from csxl.errors import FileError, InputError

__all__ = [
    "CRM_ID_METADATA",
    "find_columns",
    "heading_key",
    "is_blank_text",
    "json_items",
    "load_csv",
    "load_typed",
    "metadata_account",
    "numbers",
    "read_date",
    "read_number",
    "stamps",
]


#: Stripe metadata headings that carry the customer's CRM record id (matched to the Accounts ``CRM ID`` column).
CRM_ID_METADATA: tuple[str, ...] = (
    "crm id metadata", "hubspot id metadata", "hubspot company id metadata", "salesforce id metadata",
    "salesforce account id metadata",
)  # fmt: skip


def metadata_account(metadata: Mapping[str, Any]) -> Any:
    """The workbook account a Stripe object's metadata names: ``account`` or ``company``, else a CRM record id
    (``crm_id``, ``hubspot_id``, ``hubspot_company_id``, ``salesforce_id``, ``salesforce_account_id``)."""
    keys = (
        "account",
        "company",
        "crm_id",
        "hubspot_id",
        "hubspot_company_id",
        "salesforce_id",
        "salesforce_account_id",
    )
    return next((metadata[k] for k in keys if metadata.get(k) not in (None, "")), None)


def load_csv(path: Path) -> pd.DataFrame:
    """A CSV file as text cells (DuckDB's reader: delimiter, quoting and encoding detected); :class:`FileError`
    naming the file when it is missing or not CSV."""
    # deferred: DuckDB is the command line's engine; the Excel runtimes never import files
    import duckdb

    if not path.is_file():
        raise FileError(str(path), "no such file")
    try:
        with duckdb.connect() as con:
            query = "SELECT * FROM read_csv(?, all_varchar = true, header = true)"
            return con.execute(query, [str(path)]).df()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileError(str(path), f"cannot read it as CSV ({first})") from None


def load_typed(
    path: Path,
    text: Callable[[list[str]], Collection[str]] = lambda _: (),
    keys: Callable[[list[str]], Collection[str]] = lambda _: (),
) -> pd.DataFrame:
    """A CSV or Parquet file with the column types DuckDB finds (numbers and times typed once, in bulk: millions of
    rows); a CSV with a cell that does not fit the type DuckDB guessed from its first rows is read again as text
    (then every cell is judged by the rules of :func:`numbers` and :func:`stamps`, and the bad one reported).
    ``text(headings)`` names the columns to read as text, trimmed, a blank as missing (in DuckDB: no Python work per
    cell); ``keys(headings)`` those of them that repeat (a customer, a subscription, a currency): they come as pandas
    categoricals, each distinct text once (Arrow's dictionary encoding), so grouping millions of lines by them is
    integer work."""
    # deferred: DuckDB is the command line's engine; the Excel runtimes never import files
    import duckdb

    if not path.is_file():
        raise FileError(str(path), "no such file")
    name = "'" + str(path).replace("'", "''") + "'"
    sources = (
        [f"read_parquet({name})"]
        if path.suffix.lower() == ".parquet"
        else [f"read_csv({name}, header = true)", f"read_csv({name}, header = true, all_varchar = true)"]
    )
    for attempt, source in enumerate(sources, start=1):
        try:
            with duckdb.connect() as con:
                return _typed_frame(con, source, text, keys)
        except duckdb.ConversionException:
            if attempt == len(sources):
                raise FileError(str(path), "cannot read it (a cell does not fit its column)") from None
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FileError(str(path), f"cannot read it ({first})") from None
    raise FileError(str(path), "cannot read it")  # pragma: no cover - the loop returns or raises


def _typed_frame(
    con: Any, source: str, text: Callable[[list[str]], Collection[str]], keys: Callable[[list[str]], Collection[str]]
) -> pd.DataFrame:
    # deferred: Arrow comes with DuckDB's fast path to pandas; only the file importers need it
    import pyarrow as pa

    # deferred: as above (Arrow's text functions: trim, blank to missing)
    import pyarrow.compute as pc

    described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    headings = [str(row[0]) for row in described]
    types = {str(row[0]): str(row[1]).upper() for row in described}
    as_text = set(text(headings))
    as_keys = set(keys(headings)) & as_text

    def item(heading: str) -> str:
        quoted = '"' + heading.replace('"', '""') + '"'
        if heading in as_text:
            return quoted if types[heading] == "VARCHAR" else f"CAST({quoted} AS VARCHAR) AS {quoted}"
        if types[heading].startswith(("DECIMAL", "HUGEINT", "UHUGEINT")):
            return f"CAST({quoted} AS DOUBLE) AS {quoted}"  # a number, as a float (not Python Decimal objects)
        return quoted

    def trimmed(values: Any) -> Any:
        """Text trimmed, a blank as missing."""
        values = pc.utf8_trim_whitespace(values)
        return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)

    # through Arrow: text columns become pandas strings without a Python object per cell (millions of lines); a
    # repeating one is dictionary-encoded first (one dictionary for the whole column) and trimmed distinct value by
    # distinct value, then read as a categorical
    table = con.execute(f"SELECT {', '.join(map(item, headings))} FROM {source}").fetch_arrow_table()
    for i, heading in enumerate(table.column_names):
        if heading in as_keys:
            encoded = table.column(i).combine_chunks().dictionary_encode()
            again = trimmed(encoded.dictionary).dictionary_encode()  # "usd" and "usd " one value, a blank none
            column = pa.DictionaryArray.from_arrays(pc.take(again.indices, encoded.indices), again.dictionary)
            table = table.set_column(i, heading, column)
        elif heading in as_text:
            table = table.set_column(i, heading, trimmed(table.column(i)))
    frame: pd.DataFrame = table.to_pandas(date_as_object=False)
    return frame


def numbers(values: pd.Series[Any]) -> tuple[pd.Series[float], npt.NDArray[np.bool_]]:
    """A column as numbers (NaN where blank) and where a cell holds something that is not one: typed columns as
    they are, text by :func:`read_number` (only the cells a plain number reading cannot take)."""
    if values.dtype.kind in "fiub":
        return values.astype(float), np.zeros(len(values), dtype=bool)
    quick = pd.to_numeric(values, errors="coerce")
    slow = quick.isna() & values.notna()
    if slow.any():
        quick[slow] = values[slow].map(read_number).astype(float)
    bad = quick.isna().to_numpy() & ~values.map(is_blank_text).to_numpy(dtype=bool)
    return quick.astype(float), bad


def stamps(values: pd.Series[Any]) -> tuple[pd.Series[Any], npt.NDArray[np.bool_]]:
    """A column as UTC times without a zone (NaT where blank) and where a cell holds something that is not a date:
    typed columns as they are, ISO text in bulk, other text by :func:`read_date`."""
    if values.dtype.kind == "M":
        typed = pd.Series(values)
        if getattr(typed.dt, "tz", None) is not None:
            typed = typed.dt.tz_convert("UTC").dt.tz_localize(None)
        return typed, np.zeros(len(values), dtype=bool)
    if values.dtype.kind == "O" and values.map(lambda v: isinstance(v, _dt.date)).all():
        return pd.to_datetime(values), np.zeros(len(values), dtype=bool)
    quick = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True).dt.tz_localize(None)
    slow = quick.isna() & values.notna()
    if slow.any():
        read = values[slow].map(read_date)
        quick[slow] = pd.to_datetime(read.where(read.map(lambda v: v is not BAD), None))
    bad = quick.isna().to_numpy() & ~values.map(is_blank_text).to_numpy(dtype=bool)
    return quick, bad


def json_items(path: Path) -> list[Any]:
    """The items of a JSON export: ``{"data": [...]}`` (Stripe's list object), a bare list, or one object per line
    (JSON lines); :class:`FileError` naming the file when it is not JSON or holds no list."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise FileError(str(path), f"cannot read it as JSON ({exc})") from None
    items = data.get("data") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise FileError(str(path), 'holds no list of objects (expected {"data": [...]}, a list, or JSON lines)')
    return items


def read_number(text: Any) -> float | None:
    """A number cell: ``None`` when blank, NaN when unreadable (currency signs and separators read by
    :func:`csxl.cells.number_from_text`)."""
    if is_blank_text(text):
        return None
    try:
        return float(str(text).strip())
    except ValueError:
        parsed = number_from_text(str(text))
        return parsed if parsed is not None else np.nan


def is_blank_text(text: Any) -> bool:
    """Nothing in the cell: missing, NaN, or only spaces."""
    return text is None or bool(pd.isna(text)) or not str(text).strip()


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ]\d)")


def read_date(text: Any) -> object:
    """A date cell: a midnight Timestamp, ``None`` when blank, :data:`csxl.cells.BAD` when unreadable."""
    if is_blank_text(text):
        return None
    body = str(text).strip()
    if not _ISO.match(body):  # 01/10/2026: day or month first is a guess, refused (the workbook's date rule)
        parsed = date_from_text(body)
        return pd.Timestamp(parsed) if parsed is not None else BAD
    try:
        stamp = pd.Timestamp(body)
    except (ValueError, OverflowError):
        return BAD
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    day: pd.Timestamp = stamp.normalize()
    return day


def heading_key(heading: Any) -> str:
    """A file's column heading as a matching key: case, punctuation, underscores and a ``(UTC)`` note ignored
    (``"Created At (UTC)"``, ``created_at`` and ``CREATED-AT`` are all ``"created at"``)."""
    text = re.sub(r"\(\s*utc\s*\)", " ", str(heading).casefold())
    return " ".join(re.sub(r"[^\w]+", " ", text.replace("_", " ")).split())


def find_columns(
    headings: Iterable[Any], names: Mapping[str, Sequence[str]], mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Field -> the file's heading read as it: a ``mapping`` (field -> heading) first, then for each field the first
    of its ``names`` the file has (compared by :func:`heading_key`); a heading serves one field only. Fields the file
    lacks are absent. An unknown field or heading in ``mapping`` is an :class:`InputError`."""
    by_key: dict[str, str] = {}
    for heading in headings:
        by_key.setdefault(heading_key(heading), str(heading))
    out: dict[str, str] = {}
    for name, heading in (mapping or {}).items():
        if name not in names:
            raise InputError("mapping", name, f"one of the fields {', '.join(names)}")
        if heading_key(heading) not in by_key:
            raise InputError("mapping", heading, "a heading of the file")
        out[name] = by_key[heading_key(heading)]
    used = set(out.values())
    for name, candidates in names.items():
        if name in out:
            continue
        found = next((by_key[k] for k in map(heading_key, candidates) if k in by_key and by_key[k] not in used), None)
        if found is not None:
            out[name] = found
            used.add(found)
    return out
