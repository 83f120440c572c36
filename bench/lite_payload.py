"""What the xlwings Lite refresh script receives, and whether it copes (run by ``bench/run.py``).

Lite sends a script the workbook's values (every sheet's used range from A1, as JSON) before the script runs; the
refresh script asks only for the sheets it reads and writes (``@script(include=...)``,
:data:`csxl.excel.macros.REFRESH_SHEETS`). This case measures that payload on the 10,000-account book refreshed once
and after two years of weekly refreshes: the JSON of each sheet's values (blanks as ``""``, dates as ISO text, as the
add-in sends them), all sheets against the included ones. Then it runs the refresh script through xlwings' own
dispatcher (``custom_scripts_call``, CPython, not Pyodide) on the included payload of the first book and times it.
Tables and defined names are left out of the payload (the reader then uses the layout's cells; the History resize is
reported as skipped): they are a few hundred bytes.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return value


def sheet_values(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values from A1 as the add-in sends them."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    out: dict[str, list[list[Any]]] = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        out[name] = [[_cell(v) for v in row] for row in rows]
    return out


def _mb(values: Any) -> float:
    return len(json.dumps(values, separators=(",", ":"))) / 1e6


def measure(path: Path) -> dict[str, Any]:
    from csxl.excel.macros import REFRESH_SHEETS

    values = sheet_values(path)
    sizes = {name: _mb(rows) for name, rows in values.items()}
    included = {name: mb for name, mb in sizes.items() if name in REFRESH_SHEETS}
    return {
        "all_mb": sum(sizes.values()),
        "included_mb": sum(included.values()),
        "largest": sorted(included.items(), key=lambda kv: -kv[1])[:3],
        "left_out": sorted(set(sizes) - set(included)),
        "values": values,
    }


def _run_script(values: dict[str, list[list[Any]]]) -> tuple[float, int, list[str]]:
    """The refresh script through xlwings' dispatcher on the included sheets; seconds, actions, skipped ops."""
    import xlwings as xw
    from xlwings.pro import _xlremote
    from xlwings.server import custom_scripts_call

    import csxl.excel.macros as macros
    from csxl.book import layout

    if "remote" not in [engine.name for engine in xw.engines]:
        xw.engines.add(xw.Engine(impl=_xlremote.engine))
    names = list(values)
    sheets = [{"name": n, "values": values[n], "pictures": [], "charts": [], "tables": []} for n in names]
    payload = {
        "client": "Office.js",
        "version": "lite",
        "book": {"name": "big.xlsx", "active_sheet_index": names.index(layout.SHEET_DASHBOARD), "selection": "H1"},
        "names": [],
        "sheets": sheets,
    }
    book = xw.Book(json=payload)
    t0 = time.perf_counter()
    done = asyncio.run(custom_scripts_call(macros, "csxl_refresh", typehint_to_value={xw.Book: book}))
    seconds = time.perf_counter() - t0
    actions = done.json()["actions"]
    alerts = [json.dumps(a["args"]) for a in actions if a["func"] == "alert"]
    return seconds, len(actions), alerts


def payload_case() -> dict[str, Any]:
    # before xlwings is first imported: Lite's decorators (XLWINGS_ON_SERVER, what Lite sets) and the licence key of
    # xlwings' remote engine (this benchmark process only, as in the tests)
    os.environ["XLWINGS_ON_SERVER"] = "true"
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
    from workbook import aged_book, big_book

    from csxl.book.refresh import refresh
    from csxl.excel.macros import REFRESH_SHEETS

    with tempfile.TemporaryDirectory() as tmp:
        first = Path(tmp) / "week1.xlsx"
        shutil.copy(big_book(), first)
        refresh(first)
        week1 = measure(first)
        aged, _, _ = aged_book()
        two_years = measure(aged)
        included = {n: v for n, v in week1.pop("values").items() if n in REFRESH_SHEETS}
        two_years.pop("values")
        seconds, actions, alerts = _run_script(included)
    return {"week1": week1, "two_years": two_years, "script_s": seconds, "actions": actions, "alerts": alerts}
