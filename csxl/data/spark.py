"""The usage SQL of :mod:`csxl.data.events` on Spark (data edge): the same steps as on DuckDB, each transpiled by
SQLGlot (:func:`spark_sql`), on the session PySpark finds (its configured master: a cluster, or local). Needs the
``csxl[spark]`` extra and Java 17+; ``csxl import events --engine spark`` is its caller."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from csxl.data.events import (
    FEATURES_SQL,
    MONTHLY_SQL,
    SIGNALS_SQL,
    EventMapping,
    UsageRead,
    normalised_sql,
    reader_of,
    repeated_sql,
    usage_steps,
)
from csxl.errors import FileError, InputError

__all__ = ["read_usage_spark", "spark_sql"]


def spark_sql(query: str, as_of: _dt.date) -> str:
    """``query`` (DuckDB's dialect, ``$as_of`` bound to ``as_of``) in Spark SQL, transpiled by SQLGlot."""
    # deferred: SQLGlot is needed only where a query leaves DuckDB
    import sqlglot

    bound = query.replace("$as_of", f"DATE '{as_of.isoformat()}'")  # an ISO date needs no escaping
    return str(sqlglot.transpile(bound, read="duckdb", write="spark")[0])


def _spark_session() -> Any:
    """The active Spark session, or a new one with PySpark's configured master (UTC: the timestamps' zone)."""
    try:
        # deferred: PySpark is the csxl[spark] extra, needed only for --engine spark
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("engine", "spark", "PySpark installed (pip install 'csxl[spark]'; Java 17+)") from None
    builder: Any = SparkSession.builder.appName("csxl")
    return builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()


def read_usage_spark(files: Sequence[Path], mapping: EventMapping, as_of: _dt.date) -> UsageRead:
    """:func:`read_usage` on Spark: the files read by Spark's own readers, each step of the DuckDB path transpiled
    (:func:`spark_sql`), the two aggregates brought back with DuckDB's column types."""
    missing = [p for p in files if not p.exists()]
    if missing:
        raise FileError(str(missing[0]), "no such file")
    spark = _spark_session()
    kind = reader_of(files[0])
    names = [str(p) for p in files]
    try:
        if kind == "read_parquet":
            raw = spark.read.parquet(*names)
        elif kind == "read_json_auto":
            raw = spark.read.json(names)
        else:
            raw = spark.read.csv(names, header=True)
        raw.createOrReplaceTempView("csxl_raw")
        repeated = spark.sql(spark_sql(repeated_sql("csxl_raw", mapping, as_of), as_of)).cache()
        repeated.createOrReplaceTempView("repeated")
        any_repeated = bool(repeated.limit(1).count())
        events = normalised_sql("csxl_raw", mapping, as_of, "repeated" if any_repeated else None)
        spark.sql(spark_sql(events, as_of)).createOrReplaceTempView("events")
        features = [str(row[0]) for row in spark.sql(spark_sql(FEATURES_SQL, as_of)).collect()]
        for name, query in usage_steps(features):
            spark.sql(spark_sql(query, as_of)).cache().createOrReplaceTempView(name)
        monthly = spark.sql(spark_sql(MONTHLY_SQL, as_of)).toPandas()
        signals = spark.sql(spark_sql(SIGNALS_SQL, as_of)).toPandas()
        read = int(raw.count())
        kept = int(spark.sql("SELECT coalesce(sum(events), 0) FROM user_months").collect()[0][0])
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileError(str(files[0]), f"cannot read the events on Spark ({first[:300]})") from None
    return UsageRead(_typed(monthly), _typed(signals), read, kept)


#: The columns DuckDB returns as whole numbers (as floats when one is missing, as pandas must).
_COUNTS = ("active_users", "features_used", "days_since_login", "features_adopted", "seats_active")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Spark's result with the column types DuckDB gives: months as dates, counts as integers, the rest floats."""
    out: pd.DataFrame = frame.copy()
    for column in out.columns:
        if column == "account":
            continue
        if column == "month":
            out[column] = pd.to_datetime(out[column]).astype("datetime64[us]")
            continue
        values = pd.to_numeric(out[column]).astype("float64")
        whole = column in _COUNTS and not values.isna().any()
        out[column] = values.astype("int64") if whole else values
    return out
