"""Workbooks written with and without lxml: openpyxl serialises through lxml when it is installed (as in most
data-science environments) and declares namespaces in other places then (``xmlns:r`` on each ``<sheet>`` instead
of the root). Every part csxl patches must stay well-formed and valid either way.

The suite itself runs with lxml installed; here each workbook is written in a fresh process with openpyxl's own
switch (``OPENPYXL_LXML``) on and off, then every XML part is parsed and checked against the ECMA-376 schemas.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from ooxml import problems

CSXL = [sys.executable, "-c", "from csxl.cli import main; main()"]


def _run(args: list[str], lxml: bool, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENPYXL_LXML": "True" if lxml else "False"}
    return subprocess.run([*CSXL, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("lxml", [True, False], ids=["with lxml", "without lxml"])
def test_every_workbook_csxl_writes_is_well_formed_with_and_without_lxml(tmp_path: Path, lxml: bool) -> None:
    pytest.importorskip("lxml")  # the test extra installs it; without it "with lxml" cannot be told apart
    probe = subprocess.run(
        [sys.executable, "-c", "import openpyxl.xml as x; print(x.LXML)"],
        env={**os.environ, "OPENPYXL_LXML": "True" if lxml else "False"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip() == str(lxml)  # openpyxl really serialises the way the test says
    steps = [
        ["new", "plain.xlsx"],
        ["new", "macro.xlsm"],
        ["new", "demo.xlsx", "--demo", "--accounts", "40"],
        ["refresh", "macro.xlsm"],
        ["refresh", "demo.xlsx"],
    ]
    for step in steps:
        done = _run(step, lxml, tmp_path)
        assert done.returncode == 0, (step, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
    for book in ("plain.xlsx", "macro.xlsm", "demo.xlsx"):
        with zipfile.ZipFile(tmp_path / book) as zf:
            for name in zf.namelist():
                if name.endswith((".xml", ".rels", ".vml")):
                    ElementTree.fromstring(zf.read(name))  # namespace-well-formed: every prefix bound
        assert problems(tmp_path / book) == [], book
