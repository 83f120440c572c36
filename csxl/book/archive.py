"""The Health history archive: a workbook's older snapshots in a Parquet file beside it (workbook edge, DuckDB).

A refresh from the command line keeps the recent snapshots in the Health history sheet
(:func:`csxl.history.split_history`) and the older ones in ``<workbook file name>.history.parquet`` in the same folder
(``accounts.xlsx`` -> ``accounts.xlsx.history.parquet``), so the sheet, and the cost of every refresh, stop growing
with the workbook's age while nothing a trend or the churn model needs is thrown away (the archive follows the same
retention rule, :func:`csxl.history.thin_history`). Readers see one History: the archive's dates, then the sheet's.

The archive is written before the workbook, each atomically (temp file, then replace), under the workbook's lock: a
run stopped between the two leaves a date in both, which the next read takes from the sheet. Without the file (a
workbook sent by e-mail, Excel's own runtimes) everything still works on the sheet's snapshots. Parquet keeps the
text of account names as data: opened anywhere, a name is never a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csxl.book.layout import ARCHIVE_SUFFIX
from csxl.book.safety import real_path, replacing
from csxl.errors import FileError
from csxl.history import HISTORY_COLUMNS, combine_history, normalise_history

__all__ = ["HistoryArchive", "archive_path"]


def archive_path(workbook: str | Path) -> Path:
    """Where the archive of ``workbook`` is (beside the file a symbolic link points to)."""
    target = real_path(workbook)
    return target.with_name(target.name + ARCHIVE_SUFFIX)


class HistoryArchive:
    """The archive of one workbook, read once at the start of a refresh; :meth:`stage` the rows it should hold after
    the refresh, :meth:`save` them before the workbook is written.

    ``rows``: its snapshots as read (normalised; empty without a file); ``used``: how many of them the History given
    to the portfolio holds (:meth:`combine`), i.e. the leading rows that are not the sheet's."""

    def __init__(self, workbook: str | Path) -> None:
        self.path = archive_path(workbook)
        self.rows = _read(self.path)
        self.used = 0
        self._pending: pd.DataFrame | None = None

    def combine(self, sheet: pd.DataFrame | None) -> pd.DataFrame:
        """The History of the workbook: the archive's dates the sheet lacks, then the sheet's rows."""
        history, self.used = combine_history(self.rows, sheet)
        return history

    def stage(self, rows: pd.DataFrame, sheet: pd.DataFrame) -> None:
        """The archive should hold ``rows`` (normalised) after this refresh, the sheet ``sheet``; nothing is written
        when it already does. Archived snapshots of the sheet's dates (a refresh with an earlier as-of date moves
        them back into the window) stay in the archive too: it is written before the workbook, and a run stopped
        between the two must find them in one of them. :meth:`combine` reads such a date from the sheet."""
        back = self.rows[self.rows["as_of"].isin(sheet["as_of"].unique())]
        if len(back):
            rows = pd.concat([rows, back], ignore_index=True).sort_values(["as_of", "account"], kind="stable")
            rows = rows.reset_index(drop=True)
        self._pending = None if _same(rows, self.rows) else rows

    def save(self, workbook: str | Path | None = None) -> Path | None:
        """Write the staged rows (to the archive of ``workbook`` when given: a refresh into another file carries the
        whole archive there). Returns the path written, ``None`` when nothing was."""
        target = self.path if workbook is None else archive_path(workbook)
        rows = self._pending if self._pending is not None else (self.rows if target != self.path else None)
        if rows is None or (rows.empty and not target.exists()):
            return None
        _write(target, rows)
        return target


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return len(a) == len(b) and bool(a.reset_index(drop=True).equals(b.reset_index(drop=True)))


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        return normalise_history(None)
    # deferred: the archive is the command line's; Excel's runtimes (Pyodide) never load DuckDB
    import duckdb

    try:
        with duckdb.connect() as con:
            frame = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
    except (duckdb.Error, OSError) as exc:
        raise FileError(str(path), f"cannot read the Health history archive ({_first_line(exc)})") from None
    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise FileError(str(path), f"is not a csxl Health history archive: no column {', '.join(missing)}")
    for column in ("account", "health_tier"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return normalise_history(frame)


def _write(path: Path, rows: pd.DataFrame) -> None:
    # deferred: as in _read
    import duckdb

    frame = normalise_history(rows).loc[:, list(HISTORY_COLUMNS)]
    with replacing(path, mode_from=path if path.exists() else None, suffix=".tmp") as tmp, duckdb.connect() as con:
        con.register("history", frame)
        con.execute(f"COPY history TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd)")


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
