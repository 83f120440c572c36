"""The Health history archive beside a workbook: the sheet keeps recent months, nothing is lost, readers see it all.

Expected dates are worked by hand from the rules (csxl.history: the sheet keeps the as-of month and the three before,
from the first of that month; the archive keeps the rest under the retention rule: every snapshot of the six months
before the as-of month, then each month's last); exact, they are dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from books import typed_demo_book
from click.testing import CliRunner

from csxl.book.archive import HistoryArchive, archive_path
from csxl.book.read import read_book
from csxl.book.refresh import refresh
from csxl.cli import EXIT_FILE, cli
from csxl.history import HISTORY_COLUMNS, combine_history, normalise_history, sheet_window_start, split_history
from csxl.plays.qbr import qbr_prep


def _frame(dates: list[str], accounts: tuple[str, ...] = ("A", "B"), score: float = 70.0) -> pd.DataFrame:
    rows = [(d, a, score, "Healthy", 8.0, 1000.0) for d in dates for a in accounts]
    return normalise_history(pd.DataFrame(rows, columns=list(HISTORY_COLUMNS)))


def _dates(frame: pd.DataFrame) -> list[str]:
    return sorted({d.date().isoformat() for d in frame["as_of"]})


@pytest.mark.parametrize(
    ("as_of", "start"),
    [
        ("2026-11-07", "2026-08-01"),  # November and the three months before it
        ("2026-11-01", "2026-08-01"),  # the first of a month: 92 days back, more than a quarter's lookback (90)
        ("2026-05-01", "2026-02-01"),  # the shortest window: February to April, 89 days, still >= 13 weeks
        ("2026-01-15", "2025-10-01"),  # across a year
    ],
)
def test_the_sheet_window_starts_three_months_before_the_as_of_month(as_of: str, start: str) -> None:
    assert sheet_window_start(dt.date.fromisoformat(as_of)) == pd.Timestamp(start)
    assert (dt.date.fromisoformat(as_of) - dt.date.fromisoformat(start)).days >= 89


def test_split_history_cuts_at_the_window() -> None:
    history = _frame(["2026-07-24", "2026-07-31", "2026-08-01", "2026-11-06"])
    sheet, older = split_history(history, dt.date(2026, 11, 7))
    assert _dates(sheet) == ["2026-08-01", "2026-11-06"]
    assert _dates(older) == ["2026-07-24", "2026-07-31"]
    assert len(sheet) + len(older) == len(history)
    recent, none = split_history(_frame(["2026-10-30"]), dt.date(2026, 11, 7))
    assert len(recent) == 2 and none.empty


@pytest.mark.parametrize(
    ("archived", "sheet", "dates", "used"),
    [
        ([], [], [], 0),  # nothing anywhere
        (["2026-06-26"], [], ["2026-06-26"], 1),  # only the archive (the sheet cleared by hand)
        ([], ["2026-10-30"], ["2026-10-30"], 0),  # no archive yet
        (
            ["2026-06-26", "2026-07-31"],
            ["2026-08-07", "2026-10-30"],
            ["2026-06-26", "2026-07-31", "2026-08-07", "2026-10-30"],
            2,
        ),
        # a run stopped after writing the archive, before the workbook: 2026-07-31 in both, taken from the sheet
        (["2026-06-26", "2026-07-31"], ["2026-07-31", "2026-10-30"], ["2026-06-26", "2026-07-31", "2026-10-30"], 1),
    ],
)
def test_combine_history_puts_the_archive_first_and_the_sheet_wins(
    archived: list[str], sheet: list[str], dates: list[str], used: int
) -> None:
    combined, n = combine_history(_frame(archived, score=10.0), _frame(sheet, score=90.0))
    assert _dates(combined) == dates
    assert n == 2 * used  # two accounts per snapshot
    assert (combined["health_score"].iloc[n:] == 90.0).all()  # every row after the archive's is the sheet's
    assert (combined["health_score"].iloc[:n] == 10.0).all()


#: Weekly and monthly refreshes from March to November 2026 (a founder who refreshes most weeks).
RUNS = ["2026-03-07", "2026-04-04", "2026-05-02", "2026-06-06", "2026-07-04", "2026-07-25", "2026-08-01",
        "2026-08-08", "2026-09-05", "2026-10-03", "2026-10-31", "2026-11-07"]  # fmt: skip


#: The demo book's own snapshots (eight weeks before its as-of, and the as-of date), read once.
DEMO_DATES: list[str] = []


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = typed_demo_book(tmp_path_factory.mktemp("archive") / "book.xlsx", 20)
    DEMO_DATES[:] = _dates(normalise_history(read_book(book).tables["Health history"]))
    for as_of in RUNS:
        refresh(book, as_of=dt.date.fromisoformat(as_of))
    return book


def test_refreshes_keep_recent_months_in_the_sheet_and_older_ones_beside_it(refreshed: Path) -> None:
    book = read_book(refreshed)
    sheet = normalise_history(book.tables["Health history"])
    every = sorted(set(DEMO_DATES) | set(RUNS))
    assert len(DEMO_DATES) == 9  # eight weekly snapshots, then the as-of date's own (csxl new refreshes)
    # the window as of 2026-11-07 starts 2026-08-01: every snapshot from then is in the sheet, none before
    assert _dates(sheet) == [d for d in every if d >= "2026-08-01"]
    archive = HistoryArchive(refreshed)
    assert archive.path == refreshed.with_name("book.xlsx.history.parquet") and archive.path.exists()
    # before: under the retention rule as of 2026-11-07, every snapshot from 2026-05-01, the last of each month before
    older = [d for d in every if d < "2026-08-01"]
    kept = [d for d in older if d >= "2026-05-01" or d == max(o for o in older if o[:7] == d[:7])]
    assert kept == ["2026-03-07", "2026-04-04", "2026-05-02", "2026-06-06", "2026-07-04", "2026-07-25"]
    assert _dates(archive.rows) == kept
    # readers see one History: the archive, then the sheet, no snapshot twice
    whole = book.to_portfolio(dt.date(2026, 11, 7)).history
    assert _dates(whole) == kept + _dates(sheet)
    assert not whole.duplicated(["as_of", "account"]).any()
    # no temp file left beside the workbook, only the book and its archive
    assert sorted(p.name for p in refreshed.parent.iterdir()) == ["book.xlsx", "book.xlsx.history.parquet"]


def test_the_archive_changes_no_number_a_reader_sees(refreshed: Path, tmp_path: Path) -> None:
    """The same refresh with and without the archive beside the workbook: the Dashboard's week-over-week and the
    plays read snapshots inside the sheet's window, so every figure is the same (here: the QBR's health trend)."""
    book = read_book(refreshed)
    with_archive = book.to_portfolio(dt.date(2026, 11, 14))
    lone = tmp_path / "book.xlsx"
    lone.write_bytes(refreshed.read_bytes())  # sent by e-mail without its archive
    without = read_book(lone).to_portfolio(dt.date(2026, 11, 14))
    window = sheet_window_start(dt.date(2026, 11, 14))
    pd.testing.assert_frame_equal(
        with_archive.history[with_archive.history["as_of"] >= window].reset_index(drop=True), without.history
    )
    name = str(book.tables["Accounts"]["account"].iloc[0])
    assert qbr_prep(with_archive, name).model_dump() == qbr_prep(without, name).model_dump()


def test_a_second_refresh_of_the_same_week_writes_neither_file(refreshed: Path) -> None:
    archive = archive_path(refreshed)
    stamp = archive.stat().st_mtime_ns
    before = HistoryArchive(refreshed).rows
    refresh(refreshed, as_of=dt.date(2026, 11, 7))
    assert archive.stat().st_mtime_ns == stamp  # nothing aged out: the archive is not rewritten
    pd.testing.assert_frame_equal(HistoryArchive(refreshed).rows, before)


def test_a_damaged_archive_is_a_file_error_naming_it(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    assert CliRunner().invoke(cli, ["new", str(book), "--demo", "--accounts", "5"]).exit_code == 0
    archive_path(book).write_bytes(b"not parquet at all")
    before = book.read_bytes()
    run = CliRunner().invoke(cli, ["refresh", str(book)])
    assert run.exit_code == EXIT_FILE, run.output
    assert "book.xlsx.history.parquet" in run.output and "cannot read the Health history archive" in run.output
    assert "Traceback" not in run.output
    assert book.read_bytes() == before  # the workbook is left as it was


def test_a_refresh_into_another_file_takes_the_archive_along(refreshed: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.xlsx"
    refresh(refreshed, as_of=dt.date(2026, 11, 7), out=out)
    assert archive_path(out).exists()
    pd.testing.assert_frame_equal(HistoryArchive(out).rows, HistoryArchive(refreshed).rows)


def test_a_run_stopped_between_the_archive_and_the_workbook_loses_no_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after the archive is written, before the workbook is: every snapshot is still in one of the two,
    also when an earlier as-of date moves archived snapshots back into the sheet's window (found by the kill test)."""
    import csxl.book.refresh as refresh_module

    book = typed_demo_book(tmp_path / "book.xlsx", 8)
    for as_of in ("2026-01-02", "2026-01-30", "2026-06-05", "2026-09-04"):
        refresh(book, as_of=dt.date.fromisoformat(as_of))
    # as of 2026-09-04 the sheet holds June on; January (its last snapshot: the retention rule) is archived
    assert _dates(HistoryArchive(book).rows) == ["2026-01-30"]
    before = set(_dates(read_book(book).to_portfolio().history))

    def stopped(*_args: object, **_kwargs: object) -> Path:
        raise KeyboardInterrupt  # the process stops here: the archive is written, the workbook is not

    monkeypatch.setattr(refresh_module, "apply_plan", stopped)
    # back into January's window (January moves to the sheet), then forward (June moves to the archive); neither
    # date thins a month, so the History must be exactly what it was
    for as_of in ("2026-02-20", "2026-10-02"):
        with pytest.raises(KeyboardInterrupt):
            refresh(book, as_of=dt.date.fromisoformat(as_of))
        assert set(_dates(read_book(book).to_portfolio().history)) == before
