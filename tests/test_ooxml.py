"""Every file csxl writes is valid ECMA-376 (transitional): the template, the demo, refreshed books, account and play
sheets, the report workbook and the .xlsm; the validator itself is shown to catch broken parts."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from ooxml import problems, validate_part

from csxl.book.refresh import refresh
from csxl.cli import cli
from csxl.usecases import run_play

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["csxl-template.xlsx", "csxl-demo.xlsx"])
def test_committed_workbooks_are_valid(name: str) -> None:
    assert problems(ROOT / "workbooks" / name) == []


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo refreshed a week later, with an account page and a play sheet written into it."""
    path = tmp_path_factory.mktemp("ooxml") / "book.xlsx"
    shutil.copyfile(ROOT / "workbooks" / "csxl-demo.xlsx", path)
    refresh(path, as_of=dt.date(2026, 11, 7))
    runner = CliRunner()
    account = runner.invoke(cli, ["account", str(path), "Iris Studio"])
    assert account.exit_code == 0, account.output
    _result, sheet = run_play("risk", path, "Iris Studio", write=True)
    assert sheet is not None
    return path


def test_a_refreshed_book_with_account_and_play_sheets_is_valid(refreshed: Path) -> None:
    assert problems(refreshed) == []


def test_the_report_workbook_is_valid(refreshed: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    result = CliRunner().invoke(cli, ["report", str(refreshed), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert problems(out) == []


def test_the_excel_flavour_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsm"
    result = CliRunner().invoke(cli, ["new", str(path), "--demo", "--accounts", "30"])
    if result.exit_code != 0 and "xlwings" in result.output:  # pragma: no cover - needs xlwings' VBA project
        pytest.skip(result.output)
    assert result.exit_code == 0, result.output
    assert problems(path) == []


@pytest.mark.parametrize(
    ("broken", "needle"),
    [
        (lambda s: s.replace("<sheetData>", "<sheetData><bogus/>", 1), "bogus"),  # an unknown element
        (lambda s: s.replace('<row r="3"', '<row r="three"', 1), "three"),  # a bad attribute value
        (lambda s: s.replace("<sheetData>", "<sheetData><row r='9'/><row r='x'/>", 1), "x"),
    ],
)
def test_the_validator_catches_a_broken_sheet(broken: object, needle: str) -> None:
    with zipfile.ZipFile(ROOT / "workbooks" / "csxl-demo.xlsx") as zf:
        text = zf.read("xl/worksheets/sheet1.xml").decode()
    assert validate_part("sheet1.xml", text.encode()) == []
    assert callable(broken)
    found = validate_part("sheet1.xml", broken(text).encode())
    assert found and any(needle in line for line in found), found


def test_a_part_without_a_schema_is_a_problem() -> None:
    assert validate_part("x.xml", b'<root xmlns="urn:nobody"/>') == ["x.xml: no schema for root namespace 'urn:nobody'"]
