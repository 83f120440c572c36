"""The pure core must not load the spreadsheet edges (xlwings, openpyxl)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE_MODULES = ["csxl", "csxl.health", "csxl.signals", "csxl.revenue", "csxl.cohorts", "csxl.surveys", "csxl.models"]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_import_loads_no_spreadsheet_library(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'xlwings', 'openpyxl'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing {module} loaded {out}"
