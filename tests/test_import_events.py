"""Product events -> usage (csxl.data.events on DuckDB, csxl.usage, csxl import events), and the same SQL on Spark.

The events below are few enough to count by hand; every expected figure is worked in the comment beside it (exact
to 1e-12: the SQL divides counts). As-of date 2026-10-28: the signals window is 2026-10-01 .. 2026-10-28 (ages 0-27),
the window before it 2026-09-03 .. 2026-09-30 (ages 28-55).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from ooxml import problems
from published import published

from csxl.book.read import read_book
from csxl.cli import cli
from csxl.data.events import (
    EventMapping,
    file_source,
    read_usage,
    repeated_sql,
)
from csxl.errors import InputError
from csxl.importing import event_mapping
from csxl.usage import account_usage_columns

AS_OF = dt.date(2026, 10, 28)
MAPPING = EventMapping(core=("Report Created",))


def _events(a: str = "Contoso", b: str = "Fabrikam") -> str:
    lines = [
        "event,user_id,account,timestamp,event_id",
        # the window before (September): u1 logs in on four days
        *[f"login,u1,{a},2026-09-{d} 09:00:00,s{d}" for d in (15, 16, 20, 25)],
        # this window: u1 logs in on 20 and 27 October, exports on 21st, creates a report (core) on 27th
        f"login,u1,{a},2026-10-20 09:00:00,o1",
        f"Export,u1,{a},2026-10-21 10:00:00,o2",
        f"login,u1,{a},2026-10-27 09:00:00,o3",
        f"Report Created,u1,{a},2026-10-27 10:00:00,o4",
        # u2 logs in on 10 October; the same event delivered twice (same id): counted once
        f"login,u2,{a},2026-10-10 08:00:00,o5",
        f"login,u2,{a},2026-10-10 08:00:00,o5",
        # left out: after the as-of date, without an account, a page view
        f"login,u1,{a},2026-10-29 09:00:00,o6",
        "login,u9,,2026-10-20 09:00:00,o7",
        f"page,u1,{a},2026-10-20 09:01:00,o8",
        # Fabrikam: one login on the as-of date, nothing before
        f"login,u3,{b},2026-10-28 07:00:00,f1",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(_events(), encoding="utf-8")
    return path


def test_signals_and_monthly_usage_by_hand(events: Path) -> None:
    usage = read_usage([events], MAPPING, AS_OF)
    assert usage.rows_read == 14 and usage.rows_kept == 10  # duplicate, after as-of, no account, page view: 4 out
    s = usage.signals.set_index("account")
    c = s.loc["Contoso"]
    assert c["seats_active"] == 2  # u1, u2
    # user-days in the window: (20 Oct, u1), (21 Oct, u1), (27 Oct, u1), (10 Oct, u2) = 4; / 28 days / 2 users
    assert c["dau_mau"] == pytest.approx(4 / 28 / 2, abs=1e-12)
    assert c["logins_per_week"] == pytest.approx(3 / 4 / 2, abs=1e-12)  # 3 logins, 4 weeks, 2 users
    assert c["days_since_login"] == 1  # 27 October
    assert c["features_adopted"] == 2  # Export, Report Created (logins name no feature)
    assert c["core_actions_weekly"] == pytest.approx(1 / 4, abs=1e-12)
    assert c["usage_change"] == pytest.approx(4 / 4 - 1, abs=1e-12)  # 4 user-days now, 4 before
    assert c["login_change"] == pytest.approx(3 / 4 - 1, abs=1e-12)  # 3 logins now, 4 before: -25 %
    f = s.loc["Fabrikam"]
    assert (f["seats_active"], f["days_since_login"], f["features_adopted"]) == (1, 0, 0)
    assert pd.isna(f["usage_change"]) and pd.isna(f["login_change"])  # nothing before: unknown, not a fall
    columns = account_usage_columns(usage.signals)
    # -25 % logins and 0 % usage: both "flat" (not above 0, not below -30 %: core_action_trend's cut-offs)
    assert columns.loc["Contoso", ["usage_trend", "login_trend"]].tolist() == ["flat", "flat"]
    assert columns.loc["Fabrikam", ["usage_trend", "login_trend"]].tolist() == [None, None]
    m = usage.monthly.set_index(["account", usage.monthly["month"].astype(str)])
    october, september = m.loc[("Contoso", "2026-10-01")], m.loc[("Contoso", "2026-09-01")]
    # October counts 28 days (to the as-of date): DAU sum 4 / 28 / 2 users; 3 logins / 2 users / 4 weeks
    assert october["dau_mau"] == pytest.approx(4 / 28 / 2, abs=1e-12)
    assert october["logins_per_user_week"] == pytest.approx(3 / 2 / 4, abs=1e-12)
    assert (october["active_users"], october["logins"], october["features_used"]) == (2, 3, 2)
    # September, 30 days: u1 alone on 4 days; 4 logins / 1 user / (30/7) weeks
    assert september["dau_mau"] == pytest.approx(4 / 30, abs=1e-12)
    assert september["logins_per_user_week"] == pytest.approx(4 / (30 / 7), abs=1e-12)


def _random_events(seed: int, repeats: bool) -> pd.DataFrame:
    """400 events of 3 accounts and 5 users each over 2026-07-01 .. 2026-10-28 (seeded): logins, a core action and
    two features; with ``repeats`` every tenth event is delivered again later the same day with the same id."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = 400
    frame = pd.DataFrame(
        {
            "event": rng.choice(["login", "Report Created", "Export", "Share"], n),
            "user_id": [f"u{k}" for k in rng.integers(0, 5, n)],
            "account": rng.choice(["Contoso", "Fabrikam", "Tailspin"], n),
            "timestamp": pd.Timestamp("2026-07-01") + pd.to_timedelta(rng.integers(0, 120 * 86400, n), unit="s"),
            "event_id": [f"e{k}" for k in range(n)],
        }
    )
    if repeats:
        again = frame.iloc[::10].copy()
        again["timestamp"] = again["timestamp"].dt.floor("D") + pd.Timedelta(hours=23, minutes=59)
        frame = pd.concat([frame, again], ignore_index=True)
    return frame


def _by_pandas(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The monthly figures and the signals computed the plain way (one row per event, distinct user-days)."""
    kept = frame.sort_values("timestamp").drop_duplicates("event_id")
    kept = kept[kept["timestamp"] < pd.Timestamp(AS_OF) + pd.Timedelta(days=1)].copy()
    kept["day"] = kept["timestamp"].dt.floor("D")
    kept["month"] = kept["day"].dt.to_period("M").dt.to_timestamp()
    kept["age"] = (pd.Timestamp(AS_OF) - kept["day"]).dt.days
    kept["feature"] = kept["event"].where(kept["event"] != "login")
    monthly = kept.groupby(["account", "month"]).agg(
        active_users=("user_id", "nunique"),
        user_days=("day", lambda d: len(set(zip(kept.loc[d.index, "user_id"], d, strict=True)))),
        logins=("event", lambda e: int((e == "login").sum())),
        features_used=("feature", "nunique"),
    )
    now = kept[kept["age"] <= 27]
    signals = pd.DataFrame(
        {
            "seats_active": now.groupby("account")["user_id"].nunique(),
            "user_days": now.groupby("account").apply(lambda g: len(set(zip(g["user_id"], g["day"], strict=True)))),
            "features_adopted": now.groupby("account")["feature"].nunique(),
            "days_since_login": kept[kept["event"] == "login"].groupby("account")["age"].min(),
        }
    )
    return monthly, signals


@pytest.mark.parametrize("repeats", [False, True], ids=["ids-unique", "ids-repeated"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_usage_agrees_with_a_plain_count_of_random_events(tmp_path: Path, seed: int, repeats: bool) -> None:
    """Seeded random events (with and without repeated ids, the two paths of the de-duplication) against pandas
    counting one row per event: active users, DAU/MAU (distinct user-days / days / users), logins, features, and the
    signals window. Exact (counts; the ratios to 1e-12)."""
    frame = _random_events(seed, repeats)
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    usage = read_usage([path], MAPPING, AS_OF)
    monthly, signals = _by_pandas(frame)
    got = usage.monthly.assign(month=pd.to_datetime(usage.monthly["month"])).set_index(["account", "month"])
    assert usage.rows_kept == int(monthly["logins"].sum()) + int(
        frame.drop_duplicates("event_id").query("event != 'login'").shape[0]
    )
    assert got["active_users"].tolist() == monthly["active_users"].tolist()
    assert got["logins"].tolist() == monthly["logins"].tolist()
    assert got["features_used"].tolist() == monthly["features_used"].tolist()
    days = [min(p.days_in_month, (AS_OF - p.date()).days + 1) for p in monthly.index.get_level_values("month")]
    expected = monthly["user_days"] / pd.Series(days, index=monthly.index) / monthly["active_users"]
    assert got["dau_mau"].to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-12)
    s = usage.signals.set_index("account")
    assert s["seats_active"].tolist() == signals["seats_active"].tolist()
    assert s["features_adopted"].tolist() == signals["features_adopted"].tolist()
    assert s["days_since_login"].tolist() == signals["days_since_login"].tolist()
    expected_dau = signals["user_days"] / 28 / signals["seats_active"]
    assert s["dau_mau"].to_numpy() == pytest.approx(expected_dau.to_numpy(), abs=1e-12)


def test_csxl_import_events_fills_blank_cells_keeps_typed_ones_and_writes_usage(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
    a, b = (str(n) for n in read_book(book).tables["Accounts"]["account"].iloc[:2])
    path = tmp_path / "events.csv"
    path.write_text(_events(a, b).replace("u9,,", "u9,Unknown Ltd,"), encoding="utf-8")
    args = ["import", "events", str(path), "--book", str(book), "--as-of", "2026-10-28", "--core", "Report Created"]
    run = CliRunner().invoke(cli, [*args, "--json"])
    assert run.exit_code == 0, run.output
    report = published("import-events", run.output)
    assert report["unmatched"][0]["account"] == "Unknown Ltd"
    assert report["cells_written"] == 0 and len(report["kept"]) > 0  # the demo typed every usage cell: all kept
    run = CliRunner().invoke(cli, [*args, "--overwrite", "--json"])
    assert run.exit_code == 0, run.output
    data = read_book(book)
    accounts = data.tables["Accounts"].set_index("account")
    assert float(accounts.loc[a, "dau_mau"]) == pytest.approx(4 / 28 / 2, abs=1e-12)
    assert int(accounts.loc[a, "seats_active"]) == 2 and accounts.loc[a, "login_trend"] == "flat"
    assert "Usage" in data.sheet_names
    assert problems(book) == []


def _spark() -> object:
    """A local Spark session; without PySpark or Java the test is skipped, but fails under CI (it must run there)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        SparkSession = None
    missing = "pyspark (the csxl[spark] extra)" if SparkSession is None else None
    if missing is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing = "Java 17+"
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{missing} is not installed: the Spark path cannot be checked")
        pytest.skip(f"{missing} is not installed")
    assert SparkSession is not None
    return (
        SparkSession.builder.master("local[1]")
        .appName("csxl-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_the_same_sql_on_spark_gives_the_same_usage(tmp_path: Path, kind: str) -> None:
    """The aggregation written once (DuckDB's dialect), transpiled by SQLGlot and run by PySpark in local mode
    (``read_usage(engine="spark")``) on the same file, with and without repeated ids: every figure, count and column
    type equal to DuckDB's (1e-12)."""
    _spark()
    for repeats in (False, True):
        frame = _random_events(7, repeats)
        path = tmp_path / f"events-{repeats}.{kind}"
        if kind == "csv":
            frame.to_csv(path, index=False)
        else:
            import duckdb

            with duckdb.connect() as con:
                con.register("frame", frame)
                con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
        duck = read_usage([path], MAPPING, AS_OF)
        spark = read_usage([path], MAPPING, AS_OF, engine="spark")
        assert (spark.rows_read, spark.rows_kept) == (duck.rows_read, duck.rows_kept)
        for got, expected in ((spark.monthly, duck.monthly), (spark.signals, duck.signals)):
            assert list(got.columns) == list(expected.columns) and len(got) == len(expected)
            for column in expected.columns:
                if column == "account":
                    assert got[column].astype(str).tolist() == expected[column].astype(str).tolist()
                    continue
                assert got[column].dtype == expected[column].dtype, column
                if expected[column].dtype.kind == "f":
                    pd.testing.assert_series_equal(got[column], expected[column], check_names=False, atol=1e-12, rtol=0)
                else:
                    assert got[column].tolist() == expected[column].tolist(), column


@pytest.mark.slow
def test_csxl_import_events_on_spark_writes_what_duckdb_writes(tmp_path: Path) -> None:
    """``csxl import events --engine spark``: the same Accounts cells and Usage rows as the DuckDB import."""
    _spark()
    books = []
    for engine in ("duckdb", "spark"):
        book = tmp_path / f"{engine}.xlsx"
        assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "6"]).exit_code == 0
        a, b = (str(n) for n in read_book(book).tables["Accounts"]["account"].iloc[:2])
        path = tmp_path / "events.csv"
        path.write_text(_events(a, b), encoding="utf-8")
        args = ["import", "events", str(path), "--book", str(book), "--as-of", "2026-10-28", "--overwrite",
                "--core", "Report Created", "--engine", engine]  # fmt: skip
        run = CliRunner().invoke(cli, args)
        assert run.exit_code == 0, run.output
        books.append(read_book(book))
    duck, spark = books
    pd.testing.assert_frame_equal(spark.tables["Accounts"], duck.tables["Accounts"])
    assert float(duck.tables["Accounts"].set_index("account").loc[a, "dau_mau"]) == pytest.approx(4 / 28 / 2)


@pytest.mark.parametrize("features", [0, 5, 63, 64, 70], ids=lambda n: f"{n}-features")
def test_features_are_counted_the_same_as_bits_or_from_the_events(tmp_path: Path, features: int) -> None:
    """Up to 63 distinct features ride in the per-user months as bits, more take a pass of their own: either way
    features used per month and adopted in the window are pandas' distinct counts (and none when only logins)."""
    import numpy as np

    frame = _random_events(4, True)
    rng = np.random.default_rng(features)
    names = [f"feature {k:02d}" for k in range(features)]
    is_login = rng.random(len(frame)) < (1.0 if features == 0 else 0.2)
    frame["event"] = np.where(is_login, "login", rng.choice(names or ["login"], len(frame)))
    frame = frame.drop_duplicates("event_id", keep="first").copy()  # repeats would carry another name now
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    usage = read_usage([path], MAPPING, AS_OF)
    monthly, signals = _by_pandas(frame)
    got = usage.monthly.assign(month=pd.to_datetime(usage.monthly["month"])).set_index(["account", "month"])
    assert got["features_used"].tolist() == monthly["features_used"].tolist()
    adopted = usage.signals.set_index("account")["features_adopted"]
    assert adopted.tolist() == signals["features_adopted"].fillna(0).astype(int).tolist()
    assert (features == 0) == (int(got["features_used"].sum()) == 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_plans_of_the_repeated_ids_find_the_same_ids(tmp_path: Path, seed: int) -> None:
    """DuckDB's plan (sorted hashes against their neighbour) and the cluster plan (group by hash) give the same set,
    and it is the ids pandas finds more than once among the kept events."""
    import duckdb

    frame = _random_events(seed, True)
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    kept = frame[frame["timestamp"] < pd.Timestamp(AS_OF) + pd.Timedelta(days=1)]
    repeated = kept["event_id"][kept["event_id"].duplicated()].nunique()
    source = file_source([path])
    with duckdb.connect() as con:
        by_sort = set(con.execute(repeated_sql(source, MAPPING, AS_OF, engine="duckdb")).fetchall())
        by_group = set(con.execute(repeated_sql(source, MAPPING, AS_OF)).fetchall())
    assert by_sort == by_group and len(by_sort) == repeated > 0


def test_an_unknown_engine_is_refused(events: Path) -> None:
    with pytest.raises(InputError, match="engine"):
        read_usage([events], MAPPING, AS_OF, engine="bigquery")


def test_an_export_no_preset_knows_is_read_through_a_mapping_file(tmp_path: Path) -> None:
    """The same events with other column names, mapped by a JSON file: the same figures as the generic layout."""
    renamed = _events().replace("event,user_id,account,timestamp,event_id", "action,who,org,when_utc,uid")
    path = tmp_path / "custom.csv"
    path.write_text(renamed, encoding="utf-8")
    mapping_file = tmp_path / "mapping.json"
    fields = {
        "event": "action",
        "user_id": "who",
        "account": "org",
        "ts": "CAST(when_utc AS TIMESTAMP)",
        "dedup": "uid",
    }
    mapping_file.write_text(json.dumps({"core": ["Report Created"], "fields": fields}), encoding="utf-8")
    mapping = event_mapping(mapping_file=mapping_file)
    expected = read_usage([_generic(tmp_path)], MAPPING, AS_OF)
    got = read_usage([path], mapping, AS_OF)
    pd.testing.assert_frame_equal(got.signals, expected.signals)
    pd.testing.assert_frame_equal(got.monthly, expected.monthly)


def _generic(tmp_path: Path) -> Path:
    path = tmp_path / "generic.csv"
    path.write_text(_events(), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ({"fields": {"acount": "org"}}, "acount"),  # a misspelt field is named, with the ones that exist
        ({"core": "Report Created"}, "core"),  # a list expected, text given
        ([1, 2], "a JSON object"),
    ],
)
def test_a_bad_mapping_file_is_an_input_error_naming_the_field(tmp_path: Path, content: object, match: str) -> None:
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_usage([_generic(tmp_path)], event_mapping(mapping_file=mapping_file), AS_OF)
