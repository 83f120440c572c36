"""Nothing lost on the file system: a report never replaces its own workbook, read-only files are refused, symbolic
links keep pointing at a refreshed workbook, concurrent refreshes take turns, a killed run's temp files go away."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from csxl.book.read import read_book
from csxl.cli import EXIT_FILE, EXIT_INPUT, cli
from csxl.history import normalise_history, thin_history


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "book.xlsx"
    run = CliRunner().invoke(cli, ["new", str(path), "--demo", "--accounts", "30"])
    assert run.exit_code == 0, run.output
    return path


@pytest.fixture
def book(demo_book: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "book.xlsx"
    shutil.copy(demo_book, copy)
    return copy


def _sheets(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        text = zf.read("xl/workbook.xml").decode()
    return [part.split('"', 1)[0] for part in text.split('<sheet name="')[1:]]


@pytest.mark.parametrize("spelling", ["same", "absolute", "dotted"])
def test_a_report_never_replaces_the_workbook_it_reads(
    book: Path, spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(book.parent)
    out = {"same": "book.xlsx", "absolute": str(book.resolve()), "dotted": "./sub/../book.xlsx"}[spelling]
    (book.parent / "sub").mkdir(exist_ok=True)
    before = book.read_bytes()
    run = CliRunner().invoke(cli, ["report", "book.xlsx", "-o", out])
    assert run.exit_code == EXIT_INPUT, run.output
    assert "a file other than the workbook it reports on" in run.output
    assert book.read_bytes() == before  # before the fix: exit 0 and the workbook replaced by the report


def test_a_read_only_workbook_is_refused_and_left_alone(book: Path) -> None:
    before = book.read_bytes()
    book.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # 0444 (root ignores it: csxl must check the bits)
    try:
        run = CliRunner().invoke(cli, ["refresh", str(book), "--as-of", "2026-10-31"])
        assert run.exit_code == EXIT_FILE, run.output
        assert "read-only" in run.output
        assert book.read_bytes() == before
    finally:
        book.chmod(0o644)


def test_a_symbolic_link_stays_a_link_and_its_target_is_refreshed(book: Path, tmp_path: Path) -> None:
    link = tmp_path / "linked.xlsx"
    link.symlink_to(book)
    before = book.stat().st_mtime_ns
    run = CliRunner().invoke(cli, ["refresh", str(link), "--as-of", "2026-10-24"])
    assert run.exit_code == 0, run.output
    assert link.is_symlink() and link.resolve() == book.resolve()
    assert book.stat().st_mtime_ns != before
    history = read_book(book).to_portfolio().history
    assert pd.Timestamp("2026-10-24") in set(history["as_of"])


def test_temp_files_of_a_killed_run_are_removed_by_the_next(book: Path) -> None:
    stale = book.parent / f".csxl-{book.name}-k1ll3d.tmp"  # what a run killed between write and replace leaves
    stale.write_bytes(b"half a workbook")
    run = CliRunner().invoke(cli, ["refresh", str(book), "--as-of", "2026-10-31"])
    assert run.exit_code == 0, run.output
    assert not stale.exists()
    assert sorted(p.name for p in book.parent.iterdir()) == ["book.xlsx"]


@pytest.mark.slow
def test_concurrent_refreshes_take_turns_and_keep_every_snapshot(book: Path) -> None:
    csxl = [sys.executable, "-c", "from csxl.cli import main; main()"]
    dates = ["2026-10-10", "2026-10-17", "2026-10-24", "2026-10-31"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = [
        subprocess.Popen(
            [*csxl, "refresh", str(book), "--as-of", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for d in dates
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(dates), [r[1].decode()[-500:] for r in results]
    snapshots = {d.date().isoformat() for d in read_book(book).to_portfolio().history["as_of"]}
    assert set(dates) <= snapshots  # last-writer-wins lost snapshots before the lock
    assert "Dashboard" in _sheets(book)


@pytest.mark.parametrize("as_of", ["9999-12-31", "9900-01-01", "1899-12-31"])
def test_an_as_of_outside_csxls_calendar_is_a_clear_input_error(book: Path, as_of: str) -> None:
    before = book.read_bytes()
    for args in (["refresh", str(book)], ["report", str(book), "--format", "json"]):
        run = CliRunner().invoke(cli, [*args, "--as-of", as_of])
        assert run.exit_code == EXIT_INPUT, run.output  # it was exit 70: OverflowError: date value out of range
        assert "as_of must be a date from 1900-03-01 to 9899-12-31" in run.output
    assert book.read_bytes() == before


def test_the_last_as_of_csxl_takes_runs_every_play(book: Path) -> None:
    # 9899-12-31: every date a play computes from it (renewal windows, QBR dates, reviews) still exists
    run = CliRunner().invoke(cli, ["refresh", str(book), "--as-of", "9899-12-31"])
    assert run.exit_code == 0, run.output
    facts = read_book(book).to_portfolio(dt.date(9899, 12, 31)).facts
    name = str(facts.index[facts["arr_effective"] > 0][0])  # a customer: qbr, renewal ... refuse a churned account
    for command in ("risk", "qbr", "save", "renewal", "onboarding", "success-plan", "expansion", "score"):
        run = CliRunner().invoke(cli, [command, name, "--book", str(book), "--as-of", "9899-12-31", "--json"])
        assert run.exit_code == 0, (command, run.output)


def _retained(dates: set[str], as_of: str) -> set[str]:
    """The snapshot dates the History retention rule keeps as of ``as_of`` (csxl.history.thin_history)."""
    frame = normalise_history(pd.DataFrame({"as_of": sorted(dates), "account": "A", "health_score": 50.0,
                                            "health_tier": None, "simple_points": None, "arr": 1.0}))  # fmt: skip
    return {d.date().isoformat() for d in thin_history(frame, dt.date.fromisoformat(as_of))["as_of"]}


@pytest.mark.slow
def test_killed_refreshes_leave_the_old_or_the_new_workbook_never_a_broken_one(book: Path) -> None:
    import random
    import signal
    import time

    csxl = [sys.executable, "-c", "from csxl.cli import main; main()"]
    start = time.monotonic()
    subprocess.run([*csxl, "refresh", str(book), "--as-of", "2026-10-03"], check=True, capture_output=True)
    duration = time.monotonic() - start  # one whole refresh, Python's start included
    rng = random.Random(20261204)
    outcomes = {"old": 0, "new": 0}

    def snapshots() -> set[str]:  # the workbook always opens
        return {d.date().isoformat() for d in read_book(book).to_portfolio().history["as_of"]}

    for kill in range(30):
        before = snapshots()
        as_of = f"2026-{1 + kill % 9:02d}-{1 + kill % 28:02d}"  # a real date each time
        proc = subprocess.Popen([*csxl, "refresh", str(book), "--as-of", as_of])
        # spread over the run, weighted to its end: the write and the replace happen in the last tenth
        time.sleep(duration * (rng.uniform(0.3, 1.0) if kill % 2 else rng.uniform(0.85, 1.05)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = snapshots()
        # nothing appears from nowhere, and nothing the retention rule keeps as of this date is lost: the old book,
        # the new one, or (killed between the archive and the workbook) the old sheet with the new archive
        kept = _retained(before | {as_of}, as_of)
        assert after <= before | {as_of} and (after == before or kept - {as_of} <= after), (as_of, before ^ after)
        outcomes["new" if as_of in after else "old"] += 1
    run = subprocess.run([*csxl, "refresh", str(book), "--as-of", "2026-10-31"], capture_output=True, check=False)
    assert run.returncode == 0, run.stderr.decode()[-500:]
    # no temp file survives the next run: the workbook and its History archive (snapshots before July) remain
    assert sorted(p.name for p in book.parent.iterdir()) == ["book.xlsx", "book.xlsx.history.parquet"]
    assert sum(outcomes.values()) == 30
