"""Product events -> usage per account, as SQL written once: DuckDB embedded by default, Spark for big data.

Input: CSV, JSON lines or Parquet files with the fields every analytics tool exports: event name, user id, account,
timestamp, an optional de-duplication id and optional properties. :data:`PRESETS` name those fields for Segment,
Mixpanel, Amplitude and PostHog exports; an :class:`EventMapping` says which events are logins, which are the core
(value) action and where a feature's name is.

The aggregation is SQL over one normalised view ``events`` (:func:`normalised_sql`, after :func:`repeated_sql` has
found the repeated de-duplication ids): two compact tables whose size does not grow with the number of events
(:data:`USER_MONTHS_SQL`: per account, month, user and 28-day window, the active days as a bit mask;
:data:`FEATURE_MONTHS_SQL`: features used per account, month and window), then :data:`MONTHLY_SQL` (one row per
account and month) and :data:`SIGNALS_SQL` (the Accounts signals as of a date, over the 28 days before it and the 28
before those). They are written in DuckDB's dialect; :mod:`csxl.data.spark` transpiles them with SQLGlot and runs
them on Spark; a test runs both engines on the same events and compares every number. Literals are whole numbers:
``/`` divides as doubles in both engines (a ``28.0`` is a DECIMAL in Spark and rounds).

Rules (documented in docs/import.md): an event with a de-duplication id seen before counts once (the earliest);
events after the as-of date, or without an account, a user or a time, are left out and counted; a month's DAU/MAU is
the average daily active users over the month's days up to the as-of date divided by the month's active users.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from csxl.errors import FileError, InputError

__all__ = [
    "ENGINES",
    "FEATURES_SQL",
    "FEATURE_MONTHS_FROM_MASKS_SQL",
    "FEATURE_MONTHS_SQL",
    "MASK_FEATURES",
    "MONTHLY_SQL",
    "PRESETS",
    "SIGNALS_SQL",
    "USER_MONTHS_SQL",
    "EventMapping",
    "UsageRead",
    "file_source",
    "monthly_usage",
    "normalised_sql",
    "read_usage",
    "reader_of",
    "repeated_sql",
    "usage_signals",
    "usage_steps",
    "user_months_sql",
]


@dataclass(frozen=True)
class Preset:
    """Where an export keeps each field (SQL expressions over the file's columns, in DuckDB's dialect)."""

    event: str
    user_id: str
    account: str
    ts: str
    dedup: str


#: Field expressions of each tool's raw export (its documented field names).
PRESETS: Mapping[str, Preset] = {
    "generic": Preset("event", "user_id", "account", "CAST(timestamp AS TIMESTAMP)", "event_id"),
    # Segment track calls: the account is the group (context.groupId), else a property
    "segment": Preset(
        "event", "userId", "coalesce(context.groupId, properties.account)", "CAST(timestamp AS TIMESTAMP)", "messageId"
    ),
    # Mixpanel raw export: properties.time is Unix seconds, $insert_id de-duplicates
    "mixpanel": Preset(
        "event",
        "properties.distinct_id",
        "properties.account",
        "to_timestamp(CAST(properties.time AS DOUBLE))",
        'properties."$insert_id"',
    ),
    # Amplitude export: event_type, groups by account, insert_id
    "amplitude": Preset(
        "event_type",
        "user_id",
        "coalesce(groups.account, event_properties.account)",
        "CAST(event_time AS TIMESTAMP)",
        "insert_id",
    ),
    # PostHog export: distinct_id, the first group, uuid
    "posthog": Preset(
        "event",
        "distinct_id",
        'coalesce(properties."$group_0", properties.account)',
        "CAST(timestamp AS TIMESTAMP)",
        "uuid",
    ),
}


class EventMapping(BaseModel):
    """Which events mean what. ``logins``: event names that are a login (or a session start); ``core``: the value
    action(s); ``feature``: a column or property expression naming the feature an event uses (empty: the event name
    of every event that is neither a login nor a page view names a feature); ``fields``: SQL expressions over the
    file's columns for any of the preset's fields (``event``, ``user_id``, ``account``, ``ts``, ``dedup``), for an
    export no preset knows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str = Field(default="generic")
    fields: Mapping[str, str] = Field(default_factory=dict)
    logins: tuple[str, ...] = Field(default=("login", "Logged In", "Signed In", "session_start"))
    core: tuple[str, ...] = Field(default=())
    feature: str | None = Field(default=None)
    ignored: tuple[str, ...] = Field(default=("page", "Page Viewed", "$pageview", "$pageleave", "$identify"))


def reader_of(path: Path) -> str:
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith(".parquet"):
        return "read_parquet"
    if suffix.endswith((".json", ".jsonl", ".ndjson")):
        return "read_json_auto"
    if suffix.endswith((".csv", ".csv.gz", ".tsv")):
        return "read_csv_auto"
    raise InputError("events file", path.name, "a .csv, .jsonl, .json or .parquet file")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _names(values: Sequence[str]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")" if values else "(NULL)"


def _kept_sql(source: str, mapping: EventMapping, as_of: _dt.date) -> str:
    """The raw events of ``source`` as ``account, user_id, ts, event, feature, dedup``, only those kept: with an
    account, a user and a time, up to the end of the as-of day, not ignored (page views)."""
    if mapping.preset not in PRESETS:
        raise InputError("preset", mapping.preset, f"one of {', '.join(PRESETS)}")
    unknown = sorted(set(mapping.fields) - set(Preset.__dataclass_fields__))
    if unknown:
        raise InputError("fields", ", ".join(unknown), f"one of {', '.join(Preset.__dataclass_fields__)}")
    p = replace(PRESETS[mapping.preset], **dict(mapping.fields))
    feature = mapping.feature or f"CASE WHEN {p.event} IN {_names(mapping.logins)} THEN NULL ELSE {p.event} END"
    end = _quote((as_of + _dt.timedelta(days=1)).isoformat())
    return f"""
        SELECT * FROM (
            SELECT CAST({p.account} AS VARCHAR) AS account, CAST({p.user_id} AS VARCHAR) AS user_id,
                   {p.ts} AS ts, CAST({p.event} AS VARCHAR) AS event, CAST({feature} AS VARCHAR) AS feature,
                   CAST({p.dedup} AS VARCHAR) AS dedup
            FROM {source}
        ) AS raw
        WHERE account IS NOT NULL AND user_id IS NOT NULL AND ts IS NOT NULL AND ts < CAST({end} AS TIMESTAMP)
          AND event NOT IN {_names(mapping.ignored)}
    """


def repeated_sql(source: str, mapping: EventMapping, as_of: _dt.date, engine: str = "spark") -> str:
    """The hashes of the de-duplication ids that occur more than once among the kept events (column ``h``): few in
    practice, so the exact de-duplication in :func:`normalised_sql` groups only those events. A hash shared by two
    different ids (possible on an engine with a 32-bit hash) only sends both to that exact grouping.

    One rule, two plans: on DuckDB the hashes are sorted and compared with their neighbour (one sort of 8-byte
    numbers: 100 million ids in a few seconds, where a group-by builds a table of 100 million groups); a cluster
    engine groups them (a global sort would run on one worker)."""
    kept = _kept_sql(source, mapping, as_of)
    hashes = f"SELECT hash(dedup) AS h FROM ({kept}) AS kept WHERE dedup IS NOT NULL"
    if engine == "duckdb":
        return (
            f"SELECT DISTINCT h FROM (SELECT h, lag(h) OVER (ORDER BY h) AS before FROM ({hashes}) AS hashes) "
            "AS sorted WHERE h = before"
        )
    return f"{hashes} GROUP BY 1 HAVING count(*) > 1"


def normalised_sql(source: str, mapping: EventMapping, as_of: _dt.date, repeated: str | None = "repeated") -> str:
    """The SELECT that reads the raw events of ``source`` (a FROM item: DuckDB's ``read_csv_auto([...])``, or a table
    or view on another engine) into ``account, user_id, day, month, age, feature, is_login, is_core``: one row per
    event kept, ``age`` its days before the as-of date. ``repeated`` names the table of :func:`repeated_sql`: events
    whose id hash is in it are grouped by id, the earliest kept; ``None`` when that table is empty (no id repeats:
    nothing to group)."""
    kept = _kept_sql(source, mapping, as_of)
    unique = "kept"
    if repeated is not None:
        unique = f"""(
            SELECT account, user_id, ts, event, feature FROM kept
            WHERE dedup IS NULL OR hash(dedup) NOT IN (SELECT h FROM {repeated})
            UNION ALL
            SELECT arg_min(account, ts), arg_min(user_id, ts), min(ts), arg_min(event, ts), arg_min(feature, ts)
            FROM kept WHERE hash(dedup) IN (SELECT h FROM {repeated}) GROUP BY dedup
        )"""
    return f"""
        WITH kept AS ({kept})
        SELECT account, user_id, CAST(ts AS DATE) AS day, CAST(date_trunc('month', ts) AS DATE) AS month,
               date_diff('day', CAST(ts AS DATE), DATE {_quote(as_of.isoformat())}) AS age, feature,
               event IN {_names(mapping.logins)} AS is_login, event IN {_names(mapping.core)} AS is_core
        FROM {unique} AS unique_events
    """


#: The events per account, month, user and window (from the view ``events``; ``w`` 0: the 28 days up to the as-of
#: date, 1: the 28 before those, 2: older): the one compact table every usage figure is built from. ``day_mask`` has
#: bit d-1 set when the user was active on day d of the month: a user's active days are ``bit_count`` of it, with no
#: row per user and day (the windows split a month's days, so the masks of one user and month never overlap).
#: ``$feature_mask``: the features the user used, as bits (:func:`user_months_sql`).
USER_MONTHS_SQL = """
SELECT account, month, user_id, least(age // 28, 2) AS w,
       bit_or(CAST(1 AS BIGINT) << (dayofmonth(day) - 1)) AS day_mask,
       count(*) AS events,
       sum(CASE WHEN is_login THEN 1 ELSE 0 END) AS logins,
       sum(CASE WHEN is_core THEN 1 ELSE 0 END) AS core_actions,
       min(CASE WHEN is_login THEN age END) AS login_age,
       $feature_mask AS feature_mask
FROM events GROUP BY 1, 2, 3, 4
"""

#: Features kept as bits of the per-user months (a 64-bit mask); with more, they get a table of their own.
MASK_FEATURES = 63

#: The distinct features of the events (one more than :data:`MASK_FEATURES` at most: enough to know there are more).
FEATURES_SQL = (
    f"SELECT DISTINCT feature FROM events WHERE feature IS NOT NULL ORDER BY feature LIMIT {MASK_FEATURES + 1}"
)

#: The features used per account, month and window, read from the events (when they are too many for a mask).
FEATURE_MONTHS_SQL = """
SELECT account, month, feature, least(age // 28, 2) AS w FROM events WHERE feature IS NOT NULL GROUP BY 1, 2, 3, 4
"""

#: The same from the per-user months' feature masks and the table ``feature_names`` (``bit``, ``feature``).
FEATURE_MONTHS_FROM_MASKS_SQL = """
SELECT DISTINCT u.account, u.month, f.feature, u.w
FROM (SELECT account, month, w, bit_or(feature_mask) AS mask FROM user_months GROUP BY 1, 2, 3) AS u
JOIN feature_names AS f ON ((u.mask >> f.bit) & 1) = 1
"""


def user_months_sql(features: Sequence[str] | None) -> str:
    """:data:`USER_MONTHS_SQL` with each feature of ``features`` as one bit of ``feature_mask`` (bit i: the i-th
    feature; ``None``: no mask, the features are counted from the events, :data:`FEATURE_MONTHS_SQL`)."""
    if not features:
        return USER_MONTHS_SQL.replace("$feature_mask", "CAST(0 AS BIGINT)")
    names = "[" + ", ".join(_quote(f) for f in features) + "]"
    mask = (
        "bit_or(CASE WHEN feature IS NULL THEN CAST(0 AS BIGINT) "
        f"ELSE CAST(1 AS BIGINT) << (array_position({names}, feature) - 1) END)"
    )
    return USER_MONTHS_SQL.replace("$feature_mask", mask)


def usage_steps(features: Sequence[str]) -> list[tuple[str, str]]:
    """The tables to make, in order, after the view ``events``, given its distinct features (:data:`FEATURES_SQL`):
    up to :data:`MASK_FEATURES` features ride in the per-user months as bits (one pass over the events); more take a
    second pass (:data:`FEATURE_MONTHS_SQL`). Both engines run these steps."""
    if len(features) > MASK_FEATURES:
        return [("user_months", user_months_sql(None)), ("feature_months", FEATURE_MONTHS_SQL)]
    if not features:
        empty = "SELECT account, month, CAST(NULL AS VARCHAR) AS feature, w FROM user_months WHERE 1 = 0"
        return [("user_months", user_months_sql(None)), ("feature_months", empty)]
    bits = ", ".join(f"({i}, {_quote(f)})" for i, f in enumerate(features))
    return [
        ("feature_names", f"SELECT * FROM (VALUES {bits}) AS names(bit, feature)"),
        ("user_months", user_months_sql(features)),
        ("feature_months", FEATURE_MONTHS_FROM_MASKS_SQL),
    ]


#: One row per account and month from ``user_months`` and ``feature_months`` (``$as_of`` a DATE). The sum of daily
#: active users over a month is the number of (user, day) pairs in it: the bits of the day masks.
MONTHLY_SQL = """
WITH months AS (
    SELECT account, month, count(DISTINCT user_id) AS active_users, sum(bit_count(day_mask)) AS user_days,
           sum(logins) AS logins, sum(core_actions) AS core_actions
    FROM user_months GROUP BY 1, 2
),
features AS (SELECT account, month, count(DISTINCT feature) AS features_used FROM feature_months GROUP BY 1, 2),
spans AS (
    SELECT month,
           CAST(least(date_diff('day', month, CAST(month + INTERVAL 1 MONTH AS DATE)),
                      date_diff('day', month, CAST($as_of AS DATE)) + 1) AS DOUBLE) AS days
    FROM (SELECT DISTINCT month FROM months) AS m
)
SELECT m.account, m.month, m.active_users, m.user_days / s.days / m.active_users AS dau_mau,
       m.logins, m.logins / m.active_users / (s.days / 7) AS logins_per_user_week,
       m.core_actions / (s.days / 7) AS core_actions_per_week, coalesce(f.features_used, 0) AS features_used
FROM months m JOIN spans s ON s.month = m.month
LEFT JOIN features f ON f.account = m.account AND f.month = m.month
ORDER BY m.account, m.month
"""

#: The Accounts signals of each account as of the as-of date of ``user_months``: the 28 days up to it (window
#: 0), against the 28 days before those (window 1).
SIGNALS_SQL = """
WITH now AS (
    SELECT account, count(DISTINCT user_id) AS seats_active, sum(bit_count(day_mask)) AS user_days,
           sum(logins) AS logins, sum(core_actions) AS core_actions
    FROM user_months WHERE w = 0 GROUP BY 1
),
before AS (
    SELECT account, sum(bit_count(day_mask)) AS user_days, sum(logins) AS logins, sum(core_actions) AS core_actions
    FROM user_months WHERE w = 1 GROUP BY 1
),
features AS (SELECT account, count(DISTINCT feature) AS features_adopted FROM feature_months WHERE w = 0 GROUP BY 1),
accounts AS (SELECT account, min(login_age) AS days_since_login FROM user_months GROUP BY 1)
SELECT a.account,
       n.user_days / 28 / n.seats_active AS dau_mau,
       n.logins / 4 / n.seats_active AS logins_per_week,
       a.days_since_login,
       coalesce(f.features_adopted, 0) AS features_adopted,
       n.core_actions / 4 AS core_actions_weekly,
       n.seats_active,
       CASE WHEN b.user_days > 0 THEN coalesce(n.user_days, 0) / CAST(b.user_days AS DOUBLE) - 1 END AS usage_change,
       CASE WHEN b.logins > 0 THEN coalesce(n.logins, 0) / CAST(b.logins AS DOUBLE) - 1 END AS login_change,
       CASE WHEN b.core_actions > 0 THEN coalesce(n.core_actions, 0) / CAST(b.core_actions AS DOUBLE) - 1 END
           AS core_action_change
FROM accounts a
LEFT JOIN now n ON n.account = a.account
LEFT JOIN before b ON b.account = a.account
LEFT JOIN features f ON f.account = a.account
ORDER BY a.account
"""


def file_source(paths: Sequence[Path]) -> str:
    """DuckDB's FROM item reading the event files (one format per call: the first file's)."""
    return f"{reader_of(paths[0])}([{', '.join(_quote(str(path)) for path in paths)}])"


def _connect(paths: Sequence[Path], mapping: EventMapping, as_of: _dt.date, folder: Path) -> Any:
    """A DuckDB database (spilling to ``folder`` past 3 GB) with the tables ``user_months`` and ``feature_months``
    made from the files: one pass finds the repeated de-duplication ids, one the features, one makes the per-user
    months (:func:`usage_steps`)."""
    # deferred: DuckDB is the command line's engine
    import duckdb

    missing = [p for p in paths if not p.exists()]
    if missing:
        raise FileError(str(missing[0]), "no such file")
    con = duckdb.connect()
    source = file_source(paths)
    try:
        con.execute("SET preserve_insertion_order = false")  # the aggregates order their own output
        # out of core beyond 3 GB: a laptop imports years of events without running out of memory
        con.execute("SET memory_limit = '3GB'")
        con.execute(f"SET temp_directory = {_quote(str(folder))}")
        con.execute(f"CREATE TEMP TABLE repeated AS {repeated_sql(source, mapping, as_of, engine='duckdb')}")
        any_repeated = con.execute("SELECT EXISTS (SELECT 1 FROM repeated)").fetchall() == [(True,)]
        events = normalised_sql(source, mapping, as_of, "repeated" if any_repeated else None)
        con.execute(f"CREATE TEMP VIEW events AS {events}")
        features = [str(row[0]) for row in con.execute(FEATURES_SQL).fetchall()]
        for name, query in usage_steps(features):
            con.execute(f"CREATE TEMP TABLE {name} AS {query}")
    except duckdb.OutOfMemoryException:
        con.close()
        raise FileError(str(paths[0]), "too many events for this machine's memory and temp folder") from None
    except duckdb.Error as exc:
        con.close()
        first = str(exc).strip().splitlines()[0]
        raise FileError(str(paths[0]), f"cannot read the events ({first})") from None
    return con


@dataclass
class UsageRead:
    """Both aggregates of one read of the event files, and how many events were read and kept."""

    monthly: pd.DataFrame
    signals: pd.DataFrame
    rows_read: int
    rows_kept: int


#: The engines :func:`read_usage` runs the SQL on.
ENGINES: tuple[str, ...] = ("duckdb", "spark")


def read_usage(
    paths: Sequence[str | Path], mapping: EventMapping, as_of: _dt.date, engine: str = "duckdb"
) -> UsageRead:
    """:data:`MONTHLY_SQL` and :data:`SIGNALS_SQL` over the event files: on DuckDB embedded (spilling to a temporary
    folder, removed afterwards), or with ``engine="spark"`` on the Spark session PySpark finds (its configured
    master: a cluster, or local); the same SQL either way, the same figures and column types."""
    if engine not in ENGINES:
        raise InputError("engine", engine, f"one of {', '.join(ENGINES)}")
    files = [Path(p) for p in paths]
    if engine == "spark":
        # deferred: the Spark adapter imports this module's SQL
        from csxl.data.spark import read_usage_spark

        return read_usage_spark(files, mapping, as_of)
    with (
        tempfile.TemporaryDirectory(prefix="csxl-events-") as folder,
        _connect(files, mapping, as_of, Path(folder)) as con,
    ):
        monthly: pd.DataFrame = con.execute(MONTHLY_SQL, {"as_of": as_of}).df()
        signals: pd.DataFrame = con.execute(SIGNALS_SQL).df()
        read = int(con.execute(f"SELECT count(*) FROM {file_source(files)}").fetchone()[0])
        kept = int(con.execute("SELECT coalesce(sum(events), 0) FROM user_months").fetchone()[0])
    return UsageRead(monthly, signals, read, kept)


def monthly_usage(paths: Sequence[str | Path], mapping: EventMapping, as_of: _dt.date) -> pd.DataFrame:
    """:data:`MONTHLY_SQL` on DuckDB over the event files: one row per account and month."""
    return read_usage(paths, mapping, as_of).monthly


def usage_signals(paths: Sequence[str | Path], mapping: EventMapping, as_of: _dt.date) -> pd.DataFrame:
    """:data:`SIGNALS_SQL` on DuckDB over the event files: one row per account with events up to ``as_of``."""
    return read_usage(paths, mapping, as_of).signals
