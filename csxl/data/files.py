"""Cells of imported files, read by one rule for every importer (data edge): CSV through DuckDB, numbers and dates
typed as text (the workbook's own rules: :func:`csxl.cells.number_from_text`, :func:`csxl.cells.date_from_text`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csxl.cells import BAD, date_from_text, number_from_text
from csxl.errors import FileError

__all__ = ["is_blank_text", "load_csv", "read_date", "read_number"]


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
