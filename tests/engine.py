"""LibreOffice harness: recalculate a workbook with a real spreadsheet engine, headless, and return the result.

LibreOffice keeps an xlsx file's cached values by default; the private profile written here sets
``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` to 0 ("always recalculate"), so every formula is computed
on load and the converted copy holds LibreOffice's own results. ``soffice`` exits 0 even when a conversion fails, so
the output file is checked.

Tests use :func:`require_soffice`: without LibreOffice they are skipped, except under CI (``CI=true``), where a
missing engine fails them (an unchecked spreadsheet must not pass silently).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

__all__ = [
    "RECALC_XCU",
    "TIMEOUT_S",
    "recalculate",
    "recalculate_many",
    "require_soffice",
    "soffice",
    "soffice_available",
]

#: Seconds one conversion run may take (LibreOffice's first start in a fresh profile takes a few seconds).
TIMEOUT_S = 120

RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """Path of the LibreOffice binary (``$SOFFICE``, ``soffice`` or ``libreoffice`` on PATH), or None."""
    explicit = os.environ.get("SOFFICE")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_available() -> bool:
    return soffice() is not None


def require_soffice() -> str:
    """The soffice path; skip the test without it, or fail when running under CI."""
    binary = soffice()
    if binary is None:
        message = "LibreOffice (soffice) is not installed: the workbook formulas cannot be checked by an engine"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI=true: installing it is required)")
        pytest.skip(message)
    return binary


def _profile(workdir: Path) -> Path:
    profile = workdir / "lo-profile"
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(RECALC_XCU, encoding="utf-8")
    return profile


def recalculate_many(sources: Sequence[Path], workdir: Path) -> list[Path]:
    """Recalculate several workbooks in ONE LibreOffice run; returns the recalculated copies (same order).

    The copies are written to ``workdir/recalculated``; ``workdir`` also holds the private profile. Raises
    ``RuntimeError`` when soffice times out, fails, or a copy is missing.
    """
    binary = require_soffice()
    names = [Path(s).name for s in sources]
    if len(set(names)) != len(names):
        raise ValueError(f"workbook file names must differ (the copies are named after them): {names}")
    workdir.mkdir(parents=True, exist_ok=True)
    outdir = workdir / "recalculated"
    outdir.mkdir(exist_ok=True)
    for name in names:
        (outdir / name).unlink(missing_ok=True)
    command = [
        binary,
        "--headless",
        "--norestore",
        "--nologo",
        "--nolockcheck",
        f"-env:UserInstallation={_profile(workdir).resolve().as_uri()}",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(outdir),
        *(str(Path(s).resolve()) for s in sources),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"LibreOffice did not finish within {TIMEOUT_S} s") from None
    outputs = [outdir / name for name in names]
    missing = [p.name for p in outputs if not p.exists()]
    if done.returncode != 0 or missing:
        raise RuntimeError(
            f"LibreOffice failed (exit {done.returncode}, missing {missing}):\n{done.stdout}\n{done.stderr}"
        )
    return outputs


def recalculate(src: Path, workdir: Path) -> Path:
    """Recalculate one workbook with LibreOffice; returns the recalculated copy in ``workdir/recalculated``."""
    return recalculate_many([src], workdir)[0]
