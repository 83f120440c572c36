"""The committed workbooks in ``workbooks/`` are exactly what ``make workbooks`` builds today.

Compared by content: every zip member's XML, with the document timestamps (``docProps/core.xml`` created/modified)
masked; never by the bytes of the zip (compression and member dates differ between builds).
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from csxl.book.read import read_book
from csxl.cli import cli
from csxl.dashboard import weekly_dashboard

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


def _canonical(name: str, data: bytes) -> bytes:
    """A part as canonical XML (C14N 2.0: the same document whichever serialiser wrote it; openpyxl declares
    namespaces elsewhere when lxml is installed), other parts as they are."""
    if name.endswith((".xml", ".rels", ".vml")):
        return ET.canonicalize(data.decode("utf-8")).encode("utf-8")
    return data


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
    differing = [n for n in want if _canonical(n, want[n]) != _canonical(n, got[n])]
    assert differing == [], f"{name}: {differing} differ from a fresh build; run make workbooks and commit"


def test_makefile_epoch_matches() -> None:
    assert f"WORKBOOKS_EPOCH := {EPOCH}" in (ROOT / "Makefile").read_text()


def test_the_demo_workbook_has_weeks_of_history_and_every_dashboard_block_has_content() -> None:
    # the first thing a user opens: eight weekly snapshots before the as-of date, so week over week, new at-risk and
    # saved are filled, and the named lists (who to call, renewals) are there; before the weeks, the month ends the
    # imported series cover (backfilled, most of them in the archive beside the workbook)
    book = read_book(ROOT / "workbooks" / "csxl-demo.xlsx")
    portfolio = book.to_portfolio()
    dates = sorted(set(portfolio.history["as_of"]))
    weeks = dates[-9:]
    assert all((b - a).days == 7 for a, b in itertools.pairwise(weeks)) and weeks[-1].date() == portfolio.as_of
    months = dates[:-9]
    assert len(months) >= 12 and all(d.is_month_end for d in months) and months[-1] < weeks[0]
    d = weekly_dashboard(portfolio)
    assert d.week_over_week.snapshot_as_of is not None
    assert d.week_over_week.new_reds and d.week_over_week.reds_saved
    assert d.act_on and d.renewing_soon
    assert d.data_issues == 0
