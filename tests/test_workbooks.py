"""The committed workbooks in ``workbooks/`` are exactly what ``make workbooks`` builds today.

Compared by content: every zip member's XML, with the document timestamps (``docProps/core.xml`` created/modified)
masked; never by the bytes of the zip (compression and member dates differ between builds).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from csxl.cli import cli

ROOT = Path(__file__).resolve().parent.parent
#: Must match WORKBOOKS_EPOCH in the Makefile (2026-11-01 00:00 UTC).
EPOCH = "1793491200"
_STAMPS = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def _content(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    if "docProps/core.xml" in parts:
        parts["docProps/core.xml"] = _STAMPS.sub(b"", parts["docProps/core.xml"])
    return parts


@pytest.mark.parametrize(
    ("name", "args"),
    [("csxl-template.xlsx", []), ("csxl-demo.xlsx", ["--demo"])],
)
def test_committed_workbook_matches_a_fresh_build(
    name: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    committed = ROOT / "workbooks" / name
    assert committed.exists(), f"{committed} missing: run make workbooks"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    fresh = tmp_path / name
    result = CliRunner().invoke(cli, ["new", str(fresh), *args])
    assert result.exit_code == 0, result.output
    want, got = _content(committed), _content(fresh)
    assert sorted(got) == sorted(want)
    differing = [n for n in want if want[n] != got[n]]
    assert differing == [], f"{name}: {differing} differ from a fresh build; run make workbooks and commit"


def test_makefile_epoch_matches() -> None:
    assert f"WORKBOOKS_EPOCH := {EPOCH}" in (ROOT / "Makefile").read_text()
