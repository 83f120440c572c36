"""The ``csxl`` command line: exit codes, messages, and the installed entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import csxl
from csxl.cli import EXIT_BUG, EXIT_FILE, EXIT_INPUT, cli
from csxl.cli.common import friendly


def test_demo_prints_portfolio() -> None:
    result = CliRunner().invoke(cli, ["demo", "--accounts", "60", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "csxl demo portfolio (seed 3" in result.output
    assert "Ten lowest health scores" in result.output


def test_demo_json_matches_the_core() -> None:
    result = CliRunner().invoke(cli, ["demo", "--accounts", "60", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    # independent path: the same numbers straight from the public API
    data = csxl.demo_portfolio(60, seed=3)
    live = data.accounts["arr"] > 0
    assert summary["accounts"] == int(live.sum())
    assert summary["arr"] == pytest.approx(float(data.accounts.loc[live, "arr"].sum()), abs=0.005)
    assert sum(t["count"] for t in summary["tiers"].values()) <= summary["accounts"]
    m = summary["last_month"]
    identity = m["start_mrr"] + m["new"] + m["expansion"] - m["contraction"] - m["churned"] + m["reactivation"]
    assert identity == pytest.approx(m["end_mrr"], abs=0.005)
    assert summary["nrr_12m"] == pytest.approx(csxl.cohort_nrr(data.mrr, data.as_of), abs=1e-4)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["demo", "--accounts", "0"], "0 is not in the range"),
        (["demo", "--seed", "x"], "'x' is not a valid integer"),
        (["nosuch"], "No such command"),
    ],
)
def test_bad_arguments_exit_2_with_message(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert fragment in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("error", "code", "fragment"),
    [
        (csxl.InputError("dau_mau", 1.5, "a number 0..1"), EXIT_INPUT, "dau_mau must be a number 0..1, got 1.5"),
        (csxl.FileError("book.xlsx", "it is not a zip file"), EXIT_FILE, "book.xlsx"),
        (RuntimeError("boom"), EXIT_BUG, "internal error (RuntimeError: boom)"),
    ],
)
def test_errors_become_messages_and_exit_codes(error: Exception, code: int, fragment: str) -> None:
    @friendly
    def failing() -> None:
        raise error

    @cli.command("fail-for-test")
    @friendly
    def _cmd() -> None:
        failing()

    try:
        result = CliRunner().invoke(cli, ["fail-for-test"])
    finally:
        cli.commands.pop("fail-for-test", None)
    assert result.exit_code == code
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_installed_console_script() -> None:
    exe = shutil.which("csxl") or str(__import__("pathlib").Path(sys.executable).with_name("csxl"))
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    assert csxl.__version__ in out


def test_python_dash_m_style_entry() -> None:
    code = "from csxl.cli import main; main(['demo', '--accounts', '20', '--json'])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["accounts"] > 0


@pytest.mark.parametrize("command", [["surveys"], ["measures"], ["onboarding-metrics"], ["portfolio"]])
def test_json_and_md_together_are_refused(command: list[str]) -> None:
    # one output format: the reports and the plays refuse both with exit 2 and say why, before anything is written
    book = Path(__file__).resolve().parent.parent / "workbooks" / "csxl-demo.xlsx"
    run = CliRunner().invoke(cli, [*command, "--book", str(book), "--json", "--md"])
    assert run.exit_code == 2 and "choose one of --json and --md" in run.output
