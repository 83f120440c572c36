"""Cells of imported files, read by one rule for every importer (data edge): CSV through DuckDB, numbers and dates
typed as text (the workbook's own rules: :func:`csxl.cells.number_from_text`, :func:`csxl.cells.date_from_text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csxl.cells import BAD, date_from_text, number_from_text
from csxl.errors import FileError, InputError

__all__ = ["find_columns", "heading_key", "is_blank_text", "load_csv", "read_date", "read_number"]


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


def read_date(text: Any) -> object:
    """A date cell: a midnight Timestamp, ``None`` when blank, :data:`csxl.cells.BAD` when unreadable."""
    if is_blank_text(text):
        return None
    body = str(text).strip()
    try:
        stamp = pd.Timestamp(body)
    except (ValueError, OverflowError):
        parsed = date_from_text(body)
        return pd.Timestamp(parsed) if parsed is not None else BAD
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
