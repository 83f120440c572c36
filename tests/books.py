"""Test workbooks built from the seeded demo portfolio's tables directly (no importers, no source files).

``csxl new --demo`` builds its workbook through the importers (csxl.demo_book); tests that need a workbook whose
History is exactly the eight weekly demo snapshots and the as-of date's, or whose typed cells are the generator's
(no domain, no CRM id), build it here: the template filled with the tables, the weekly snapshots, one refresh.
"""

from __future__ import annotations

from pathlib import Path

from csxl.book.refresh import refresh
from csxl.book.template import build_template
from csxl.dashboard import history_snapshot
from csxl.demo import demo_history, demo_portfolio
from csxl.portfolio import Portfolio
from csxl.usecases import DEMO_WEEKS


def typed_demo_book(path: Path, accounts: int, seed: int = 7) -> Path:
    """A refreshed workbook at ``path`` holding the demo portfolio's tables as typed, with its weekly History."""
    data = demo_portfolio(accounts, seed=seed)
    history = demo_history(history_snapshot(Portfolio.from_demo(data)), weeks=DEMO_WEEKS, seed=seed)
    build_template(path, demo=data, history=history)
    refresh(path, force=True)
    return path
