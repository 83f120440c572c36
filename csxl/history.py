"""The History table: one snapshot of every live account per as-of date, and the rules that read it.

Columns :data:`HISTORY_COLUMNS`. :func:`normalise_history` is the one conversion of a History table (dates to
midnight Timestamps, numbers to floats, rows without a date or an account dropped); :func:`merge_history` puts a new
snapshot in (one snapshot per as-of date); :func:`snapshot_tiers` reads a snapshot's tiers in any preset;
:func:`week_ago` and :func:`previous_snapshot` pick the snapshot to compare with. Pure pandas.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, cast

import pandas as pd

from csxl.health import health_tier
from csxl.settings import TierScheme
from csxl.vectors import require_columns

__all__ = [
    "HISTORY_COLUMNS",
    "SHEET_MONTHS",
    "WEEK_MAX_DAYS",
    "WEEK_MIN_DAYS",
    "combine_history",
    "is_normalised",
    "merge_history",
    "normalise_history",
    "previous_snapshot",
    "sheet_window_start",
    "snapshot_tiers",
    "split_history",
    "thin_history",
    "week_ago",
]

#: History retention: every snapshot of the last :data:`RECENT_MONTHS` calendar months (before the as-of month) is
#: kept; older months keep their last snapshot only. The cut moves at month boundaries, so the table is compacted at
#: the first refresh of a month and only appended to in the other weeks.
RECENT_MONTHS = 6

#: With an archive beside the workbook (a refresh from the command line), the Health history sheet keeps the as-of
#: month and the :data:`SHEET_MONTHS` months before it (13 to 18 weekly snapshots, at least 89 days back, so the
#: week-ago comparison and a quarter's lookback never need the archive); older snapshots live in the archive. The
#: window moves at month boundaries, with the retention cut, so the sheet is rewritten once a month at most.
SHEET_MONTHS = 3

#: Week-ago snapshot: at least 7 and at most 14 days before the as-of date.
WEEK_MIN_DAYS, WEEK_MAX_DAYS = 7, 14

#: Columns of the History table (one snapshot per account per as-of date).
HISTORY_COLUMNS: tuple[str, ...] = ("as_of", "account", "health_score", "health_tier", "simple_points", "arr")


_NUMBERS = ("health_score", "simple_points", "arr")


def is_normalised(history: object) -> bool:
    """True when ``history`` is already what :func:`normalise_history` returns (then it is returned as it is)."""
    if not isinstance(history, pd.DataFrame) or tuple(history.columns) != HISTORY_COLUMNS:
        return False
    if not isinstance(history.index, pd.RangeIndex) or history.index.start != 0 or history.index.step != 1:
        return False
    dates = history["as_of"]
    if dates.dtype != "datetime64[us]" or any(history[c].dtype != "float64" for c in _NUMBERS):
        return False
    if history["account"].dtype != object or history["health_tier"].dtype != object:
        return False
    return not (dates.isna().any() or history["account"].isna().any() or (dates != dates.dt.normalize()).any())


def normalise_history(history: pd.DataFrame | None) -> pd.DataFrame:
    """A History table with exactly :data:`HISTORY_COLUMNS`: ``as_of`` midnight Timestamps, numbers as floats.

    Rows without a date or an account are dropped. A table missing one of the columns raises :class:`InputError`.
    A table that is already normalised comes back as it is (no copy): normalising twice costs a check, not a pass.
    """
    if is_normalised(history):
        return cast(pd.DataFrame, history)
    if history is None or (isinstance(history, pd.DataFrame) and history.empty and not len(history.columns)):
        history = pd.DataFrame({c: [] for c in HISTORY_COLUMNS})
    require_columns(history, "history", HISTORY_COLUMNS, f"a DataFrame with the columns {', '.join(HISTORY_COLUMNS)}")
    out = history.loc[:, list(HISTORY_COLUMNS)].copy()
    out["as_of"] = pd.to_datetime(out["as_of"], errors="coerce").dt.normalize().astype("datetime64[us]")
    for col in ("health_score", "simple_points", "arr"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["account"] = out["account"].astype(object)
    out["health_tier"] = out["health_tier"].astype(object).where(out["health_tier"].notna(), None)
    keep = out["as_of"].notna() & out["account"].notna()
    return cast(pd.DataFrame, out[keep].reset_index(drop=True))


def merge_history(
    history: pd.DataFrame | None, snapshot: pd.DataFrame, *, as_of: _dt.date | None = None
) -> pd.DataFrame:
    """``history`` with ``snapshot`` in: rows of the snapshot's as-of date(s) are replaced, not added.

    One snapshot per as-of date, so merging the same snapshot twice gives the same table. ``as_of`` names the date
    being refreshed when the snapshot may be empty (no live account): that date's old rows are then removed too.
    Sorted by ``as_of`` then ``account``.
    """
    old = normalise_history(history)
    new = normalise_history(snapshot)
    dates = set(new["as_of"].tolist())
    if as_of is not None:
        dates.add(pd.Timestamp(as_of))
    kept = old[~old["as_of"].isin(list(dates))]
    parts = [p for p in (kept, new) if len(p)]
    if not parts:
        return normalise_history(None)
    merged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out: pd.DataFrame = merged.sort_values(["as_of", "account"], kind="stable").reset_index(drop=True)
    return out  # both parts were normalised: so is their union


def thin_history(history: pd.DataFrame, as_of: _dt.date) -> pd.DataFrame:
    """``history`` (normalised) with the retention rule applied as of ``as_of``: snapshots dated on or after the
    first day of the month :data:`RECENT_MONTHS` months before the as-of month stay; before it, each calendar month
    keeps its last snapshot. Two years of weekly refreshes become 26 weekly and 18 monthly snapshots; applying the rule
    twice changes nothing."""
    if history.empty:
        return history
    start = pd.Timestamp(as_of).to_period("M").to_timestamp() - pd.DateOffset(months=RECENT_MONTHS)
    dates = history["as_of"]
    old = dates < start
    if not old.any():
        return history
    months = dates.dt.to_period("M")
    last_of_month = dates.groupby(months).transform("max")
    keep = ~old | (dates == last_of_month)
    if keep.all():
        return history
    return cast(pd.DataFrame, history[keep].reset_index(drop=True))


def sheet_window_start(as_of: _dt.date) -> pd.Timestamp:
    """The first day of the month :data:`SHEET_MONTHS` months before the as-of month: the oldest date the Health
    history sheet holds when an archive keeps the older snapshots."""
    return cast(pd.Timestamp, pd.Timestamp(as_of).to_period("M").to_timestamp() - pd.DateOffset(months=SHEET_MONTHS))


def split_history(history: pd.DataFrame, as_of: _dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``history`` (normalised) cut at :func:`sheet_window_start`: (the rows the sheet keeps, the older rows)."""
    old = history["as_of"] < sheet_window_start(as_of)
    if not old.any():
        return history, history.iloc[:0]
    return (
        cast(pd.DataFrame, history[~old].reset_index(drop=True)),
        cast(pd.DataFrame, history[old].reset_index(drop=True)),
    )


def combine_history(archived: pd.DataFrame | None, sheet: pd.DataFrame | None) -> tuple[pd.DataFrame, int]:
    """One History from an archive and a sheet: the archive's snapshots of dates the sheet does not hold, then the
    sheet's rows in their order (a date in both, left by a run stopped between writing the archive and the workbook,
    is the sheet's). Returns the table and how many of its leading rows came from the archive."""
    recent = normalise_history(sheet)
    older = normalise_history(archived)
    if older.empty:
        return recent, 0
    older = older[~older["as_of"].isin(recent["as_of"].unique())]
    if recent.empty:
        return cast(pd.DataFrame, older.reset_index(drop=True)), len(older)
    return pd.concat([older, recent], ignore_index=True), len(older)


def snapshot_tiers(rows: pd.DataFrame, scheme: TierScheme) -> pd.Series[Any]:
    """The tier of each History row in ``scheme``: its stored tier when that is one of the scheme's labels, else the
    tier of its ``health_score`` (0..100) in the scheme (a snapshot written under another preset), else ``None``."""
    stored = rows["health_tier"].astype(object)
    known = stored.isin(scheme.labels)
    score = pd.to_numeric(rows["health_score"], errors="coerce").astype(float)
    usable = ~known & score.between(0.0, 100.0)
    out = stored.where(known, None).astype(object)
    if usable.any():
        out[usable] = health_tier(score[usable], scheme=scheme)
    return cast("pd.Series[Any]", out)


def week_ago(history: pd.DataFrame, as_of: _dt.date) -> pd.Timestamp | None:
    """The latest History date 7..14 days before ``as_of``, or ``None``."""
    if history.empty:
        return None
    age = (pd.Timestamp(as_of) - history["as_of"]).dt.days
    ok = history.loc[(age >= WEEK_MIN_DAYS) & (age <= WEEK_MAX_DAYS), "as_of"]
    return None if ok.empty else cast(pd.Timestamp, ok.max())


def previous_snapshot(history: pd.DataFrame, as_of: _dt.date) -> pd.Timestamp | None:
    """The latest History date strictly before ``as_of`` (any age), or ``None``."""
    if history.empty:
        return None
    before = history.loc[history["as_of"] < pd.Timestamp(as_of), "as_of"]
    return None if before.empty else cast(pd.Timestamp, before.max())
