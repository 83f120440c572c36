"""Release readiness: ``make dist`` builds an sdist and a pure wheel whose metadata is complete and passes
``twine check --strict``; the wheel carries the package data the code reads at run time; the version comes from one
place (``csxl.__version__``)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import csxl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True,
                           text=True, timeout=600, check=False)  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_sdist_and_a_pure_wheel_pass_twine_check(dist: Path) -> None:
    wheels = list(dist.glob("*.whl"))
    sdists = list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    assert wheels[0].name == f"csxl-{csxl.__version__}-py3-none-any.whl"  # pure Python, the one version
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, [*wheels, *sdists])],
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_the_wheel_metadata_and_package_data(dist: Path) -> None:
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = f"csxl-{csxl.__version__}.dist-info"
        meta = Parser().parsestr(zf.read(f"{info}/METADATA").decode())
    assert meta["Version"] == csxl.__version__
    assert meta["License-Expression"] == "MIT" and f"{info}/licenses/LICENSE" in names
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["Description-Content-Type"] == "text/markdown"
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and any(
        c.startswith("Programming Language :: Python :: 3") for c in classifiers
    )
    requires = meta.get_all("Requires-Dist") or []
    assert any(r.startswith("xlwings>=") for r in requires)
    assert any("python-calamine" in r and "emscripten" in r for r in requires)  # Lite (Pyodide) installs without it
    for data in ("csxl/py.typed", "csxl/plays/library/save.json"):
        assert data in names, data
    library = {p.name for p in (ROOT / "csxl" / "plays" / "library").glob("*.json")}
    assert {n.rsplit("/", 1)[-1] for n in names if n.startswith("csxl/plays/library/")} == library
    assert not any(n.startswith("tests/") for n in names)
