"""The worksheet functions through the oldest xlwings csxl allows (``pyproject.toml``: ``xlwings>=...``), not only
the newest: the dispatcher tests (``tests/test_excel_functions.py``) run again in a fresh process with that version
of xlwings first on the path. Older versions fail in ways users met (issue 13): up to 0.36.1 a script with postponed
annotations is refused, before 0.36.7 an empty cell arrives as Pyodide's ``JsNull`` and an omitted argument fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _floor() -> str:
    found = re.search(r'"xlwings>=([0-9.]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert found, "pyproject.toml names the oldest xlwings csxl supports"
    return found.group(1)


@pytest.mark.slow
def test_the_dispatcher_tests_pass_on_the_oldest_xlwings(tmp_path: Path) -> None:
    floor, target = _floor(), tmp_path / "xlwings-floor"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), f"xlwings=={floor}"]
    got = subprocess.run(pip, capture_output=True, text=True, timeout=300, check=False)
    if got.returncode != 0:
        message = f"cannot install xlwings=={floor} from the package index: {got.stderr[-300:]}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}
    version = subprocess.run([sys.executable, "-c", "import xlwings; print(xlwings.__version__)"], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    assert version.stdout.strip() == floor  # the old version really is the one imported
    tests = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
             str(ROOT / "tests" / "test_excel_functions.py")]  # fmt: skip
    run = subprocess.run(tests, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert re.search(r"\d+ passed", run.stdout)
