"""Broken and hostile files through the command line: every one ends with a documented exit code and a one-line reason
naming the file, never a traceback, and the file is never changed (docs/reading.md, "Exit codes")."""

from __future__ import annotations

import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from csxl.cli import EXIT_FILE, EXIT_INPUT, cli

_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<workbook>&lol2;</workbook>"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "demo.xlsx"
    assert CliRunner().invoke(cli, ["new", str(path), "--demo", "--accounts", "20"]).exit_code == 0
    return path


def _repack(source: Path, target: Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, replace.get(info.filename, src.read(info.filename)))


def truncated(source: Path, target: Path) -> None:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])


def not_a_zip(_source: Path, target: Path) -> None:
    target.write_bytes(b"\x00\x01 this is not a workbook")


def csv_renamed(_source: Path, target: Path) -> None:
    target.write_text("account,arr\nAcme,100\n")


def missing_accounts_sheet(source: Path, target: Path) -> None:
    wb = openpyxl.load_workbook(source)
    del wb["Accounts"]
    wb.save(target)


def zip_bomb(source: Path, target: Path) -> None:
    shutil.copy(source, target)
    with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("xl/media/zeros.bin", "w") as member:
        for _ in range(50):
            member.write(bytes(1024 * 1024))  # 50 MB of zeros in ~50 KB: a ratio of about 1,000


def billion_laughs(source: Path, target: Path) -> None:
    _repack(source, target, {"xl/styles.xml": _LAUGHS.replace(b"workbook", b"styleSheet")})


def read_only(source: Path, target: Path) -> None:
    shutil.copy(source, target)
    target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


CORPUS: list[tuple[str, Callable[[Path, Path], None], int, str]] = [
    ("truncated", truncated, EXIT_FILE, "zip"),
    ("not a zip", not_a_zip, EXIT_FILE, "not a zip"),
    ("CSV renamed .xlsx", csv_renamed, EXIT_FILE, "not a zip"),
    ("missing Accounts sheet", missing_accounts_sheet, EXIT_FILE, "Accounts"),
    ("zip bomb", zip_bomb, EXIT_FILE, "zip bomb"),
    ("billion laughs", billion_laughs, EXIT_FILE, "DOCTYPE/ENTITY"),
    ("read-only", read_only, EXIT_FILE, "read-only"),
]


@pytest.mark.parametrize(("case", "make", "code", "words"), CORPUS, ids=[c[0] for c in CORPUS])
@pytest.mark.parametrize("command", ["refresh", "validate", "report"])
def test_broken_files_end_with_their_exit_code(
    demo: Path, tmp_path: Path, case: str, make: Callable[[Path, Path], None], code: int, words: str, command: str
) -> None:
    target = tmp_path / "book.xlsx"
    make(demo, target)
    before = target.read_bytes()
    args = {"refresh": ["refresh", str(target)], "validate": ["validate", str(target)]}.get(
        command, ["report", str(target), "--format", "text"]
    )
    run = CliRunner().invoke(cli, args)
    if case == "read-only" and command != "refresh":  # reading a read-only workbook is fine
        assert run.exit_code in (0, EXIT_INPUT), run.output
    else:
        assert run.exit_code == code, run.output
        assert words.lower() in run.output.lower()
        assert str(target) in run.output or target.name in run.output
    assert "Traceback" not in run.output
    assert target.read_bytes() == before
    target.chmod(0o644)


def test_the_same_file_in_and_out_and_a_symlink(demo: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    shutil.copy(demo, book)
    run = CliRunner().invoke(cli, ["report", str(book), "-o", str(book)])
    assert run.exit_code == EXIT_INPUT and "a file other than the workbook" in run.output
    link = tmp_path / "link.xlsx"
    link.symlink_to(book)
    assert CliRunner().invoke(cli, ["refresh", str(link)]).exit_code == 0
    assert link.is_symlink()
