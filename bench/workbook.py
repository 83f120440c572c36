"""Workbook and Excel-runtime benchmarks (run by ``bench/run.py``; results in ``docs/benchmarks.md``).

* ``csxl refresh`` end to end (a fresh process, as a cron job runs it) on a 10,000-account book with about 240,000
  MRR rows, against a plain openpyxl load+save of the same file and against LibreOffice recalculating it (the
  simple-points formula columns; ``soffice --convert-to xlsx`` with recalculation forced on load).
* xlwings Lite dispatcher: per-call cost of ``=HEALTHSCORE`` on one account against a no-op function, and one array
  call over 10,000 accounts, through ``xlwings.server.custom_functions_call`` (xlwings' own dispatcher; the
  ``noncommercial`` licence key is set in this process only, as in the tests).

Each timed command runs in its own process; its peak memory is read from ``os.wait4`` (the child's max RSS).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "bench"
BIG_ACCOUNTS, BIG_MONTHS = 10_000, 44  # ~245,000 MRR rows (accounts churn and start over the 44 months)
BIN = Path(sys.executable).parent


def big_book() -> Path:
    """The 10,000-account demo book, built once and cached in build/bench/ (rebuilt when the code is newer)."""
    from csxl.book.template import build_template
    from csxl.demo import demo_portfolio

    path = CACHE / f"big-{BIG_ACCOUNTS}x{BIG_MONTHS}.xlsx"
    newest_code = max(p.stat().st_mtime for p in (ROOT / "csxl").rglob("*.py"))
    if not path.exists() or path.stat().st_mtime < newest_code:
        CACHE.mkdir(parents=True, exist_ok=True)
        data = demo_portfolio(BIG_ACCOUNTS, seed=7, months=BIG_MONTHS)
        build_template(path, demo=data)
    return path


AGED_WEEKS = 104  # two years of weekly refreshes


def aged_book() -> tuple[Path, int, int]:
    """The same 10,000-account book after two years of weekly refreshes from the command line: 104 weekly snapshots
    thinned by the retention rule (csxl.history.thin_history), the last four months in the Health history sheet and the
    older ones in the archive beside it (csxl.book.archive), as refresh leaves them. Cached like :func:`big_book`;
    returns it, the sheet's History rows and the archive's."""
    from csxl.book.archive import HistoryArchive
    from csxl.book.template import build_template
    from csxl.dashboard import history_snapshot
    from csxl.demo import demo_history, demo_portfolio
    from csxl.history import split_history, thin_history
    from csxl.portfolio import Portfolio

    path = CACHE / f"aged-{BIG_ACCOUNTS}x{BIG_MONTHS}-{AGED_WEEKS}w.xlsx"
    data = demo_portfolio(BIG_ACCOUNTS, seed=7, months=BIG_MONTHS)
    history = thin_history(
        demo_history(history_snapshot(Portfolio.from_demo(data)), weeks=AGED_WEEKS, seed=7), data.as_of
    )
    sheet, older = split_history(history, data.as_of)
    newest_code = max(p.stat().st_mtime for p in (ROOT / "csxl").rglob("*.py"))
    if not path.exists() or path.stat().st_mtime < newest_code:
        CACHE.mkdir(parents=True, exist_ok=True)
        build_template(path, demo=data, history=sheet)
        archive = HistoryArchive(path)
        archive.stage(older, sheet)
        archive.save()
    return path, len(sheet), len(older)


def history_case(runs: int) -> dict[str, Any]:
    """``csxl refresh`` of the book in its first week (empty History) and after two years (recent months in the sheet,
    older ones in the archive beside it): one snapshot appended either way."""
    from csxl.book.archive import archive_path

    out: dict[str, Any] = {}
    aged, sheet_rows, archived_rows = aged_book()
    for name, src in (("week1", big_book()), ("two_years", aged)):
        out[name] = timed_refreshes(src, runs, "--as-of", "2026-10-31")
    out["history_rows"] = sheet_rows
    out["archived_rows"] = archived_rows
    out["archive_mb"] = archive_path(aged).stat().st_size / 1e6
    return out


GNU_TIME = "/usr/bin/time"


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one command in its own process.

    The peak comes from GNU time (``%M``) when installed: a forked child's ``ru_maxrss`` also counts the memory it
    shared with this (large) benchmark process before ``exec``, which would overstate it.
    """
    wrapped = [GNU_TIME, "-f", "csxl-peak-kb %M", *cmd] if os.path.exists(GNU_TIME) else cmd
    t0 = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): {err[-2000:]}")
    peaks = [line.split()[-1] for line in err.splitlines() if line.startswith("csxl-peak-kb ")]
    return wall, (int(peaks[-1]) if peaks else usage.ru_maxrss) / 1024


def timed_refreshes(book: Path, runs: int, *args: str) -> dict[str, Any]:
    """``csxl refresh`` of a fresh copy of ``book`` (its History archive too) ``runs`` times: the median wall time,
    the largest peak memory."""
    from csxl.book.archive import archive_path

    walls, peaks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            copy = Path(tmp) / "book.xlsx"
            shutil.copy(book, copy)
            if archive_path(book).exists():
                shutil.copy(archive_path(book), archive_path(copy))
            wall, peak = timed([str(BIN / "csxl"), "refresh", str(copy), *args])
            walls.append(wall)
            peaks.append(peak)
    return {"median_s": statistics.median(walls), "peak_rss_mb": max(peaks), "runs": runs}


def refresh_case(runs: int) -> dict[str, Any]:
    src = big_book()
    rows = None
    from python_calamine import CalamineWorkbook

    rows = len(CalamineWorkbook.from_path(str(src)).get_sheet_by_name("MRR").to_python()) - 2
    refreshes = timed_refreshes(src, runs)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "book.xlsx"
        shutil.copy(src, copy)
        code = "import openpyxl,sys; wb=openpyxl.load_workbook(sys.argv[1]); wb.save(sys.argv[1])"
        openpyxl_s, openpyxl_mb = timed([sys.executable, "-c", code, str(copy)])
        lo_s = None
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if soffice:
            sys.path.insert(0, str(ROOT / "tests"))
            from engine import recalculate

            shutil.copy(src, copy)
            t0 = time.perf_counter()
            recalculate(copy, Path(tmp) / "lo")
            lo_s = time.perf_counter() - t0
    return {
        "accounts": BIG_ACCOUNTS,
        "mrr_rows": rows,
        "file_mb": src.stat().st_size / 2**20,
        **refreshes,
        "openpyxl_s": openpyxl_s,
        "openpyxl_mb": openpyxl_mb,
        "libreoffice_s": lo_s,
    }


def _pyodide_stub() -> None:
    """Stand in for Pyodide's ``pyodide.ffi.JsNull``.

    xlwings checks every cell with ``from pyodide.ffi import JsNull``; inside Pyodide (Lite) the module is imported
    once and cached, but on Linux the import fails afresh for each cell (~0.1 ms, 5 s for 50,000 cells), which would
    measure the missing Pyodide, not the dispatcher. With this stub the check costs what it costs in Lite.
    """
    pyodide = types.ModuleType("pyodide")
    ffi = types.ModuleType("pyodide.ffi")

    class JsNull:  # never instantiated: no cell is JavaScript's null here
        pass

    ffi.JsNull = JsNull  # type: ignore[attr-defined]
    pyodide.ffi = ffi  # type: ignore[attr-defined]
    sys.modules.setdefault("pyodide", pyodide)
    sys.modules.setdefault("pyodide.ffi", ffi)


def _lite_module() -> tuple[types.ModuleType, types.ModuleType]:
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"  # this benchmark process only (xlwings PRO, non-commercial)
    _pyodide_stub()
    import xlwings
    import xlwings.server as server
    from xlwings.main import Engine
    from xlwings.pro import _xlofficejs

    if "officejs" not in xlwings.engines.engines_by_name:
        xlwings.engines.add(Engine(impl=_xlofficejs.engine))
    xlwings.func, xlwings.arg, xlwings.ret = server.func, server.arg, server.ret  # what Lite resolves them to
    spec = importlib.util.spec_from_file_location("csxl_functions_lite", ROOT / "csxl" / "excel" / "functions.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    noop = types.ModuleType("noop_lite")
    # a no-op with HEALTHSCORE's signature, type hints and argument options (scores raw, as under Office.js);
    # it returns its first cell
    exec(
        "from typing import Any\n"
        "from xlwings import func, arg\n"
        "@func(category='csxl')\n"
        "@arg('scores', 'raw')\n"
        "@arg('weights', ndim=2, err_to_str=True)\n"
        "@arg('preset', ndim=2, err_to_str=True)\n"
        "def NOOP(scores: Any, weights: Any = '', preset: Any = '') -> list[list[Any]]:\n"
        "    first = scores\n"
        "    while isinstance(first, list):\n"
        "        first = first[0]\n"
        "    return [[first]]\n",
        noop.__dict__,
    )
    fn = noop.NOOP
    for target in {fn, inspect.unwrap(fn)}:  # the same once-only hint resolution csxl.excel.functions does
        target.__annotations__ = typing.get_type_hints(target)
    return module, noop


def lite_case(runs: int) -> dict[str, Any]:
    import numpy as np

    module, noop = _lite_module()
    import xlwings
    from xlwings.server import custom_functions_call

    def payload(name: str, args: list[Any]) -> dict[str, Any]:
        return {
            "func_name": name,
            "args": args,
            "caller_address": "Office.js[Book1.xlsx]Accounts!BA3",
            "content_language": "en-US",
            "version": xlwings.__version__,
            "client": "Office.js",
            "runtime": "1.4",
        }

    def per_call(mod: types.ModuleType, name: str, args: list[Any], n: int) -> float:
        """Seconds per call, the calls awaited one after another in one event loop (as the add-in's calls are)."""

        async def calls(k: int) -> float:
            t0 = time.perf_counter()
            for _ in range(k):
                await custom_functions_call(payload(name, args), mod)
            return time.perf_counter() - t0

        asyncio.run(calls(20))  # warm up
        return asyncio.run(calls(n)) / n

    one = [[[7.0, 5.0, 6.0, 4.0, 8.0]]]
    calls = 2000
    pairs = [  # interleaved, so drift in the machine's speed hits both alike; the ratio is the median of the pairs'
        (per_call(module, "HEALTHSCORE", one, calls), per_call(noop, "NOOP", one, calls)) for _ in range(runs)
    ]
    health = statistics.median(h for h, _ in pairs)
    noop_s = statistics.median(n for _, n in pairs)
    ratio = statistics.median(h / n for h, n in pairs)
    rng = np.random.default_rng(3)
    big = [[rng.uniform(0, 10, (10_000, 5)).round(2).tolist()]]
    array, noop_array = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = asyncio.run(custom_functions_call(payload("HEALTHSCORE", big[0]), module))
        array.append(time.perf_counter() - t0)
        assert len(out) == 10_000
        t0 = time.perf_counter()
        asyncio.run(custom_functions_call(payload("NOOP", big[0]), noop))
        noop_array.append(time.perf_counter() - t0)
    return {
        "healthscore_call_ms": health * 1000,
        "noop_call_ms": noop_s * 1000,
        "ratio": ratio,
        "array_10k_ms": statistics.median(array) * 1000,
        "noop_array_10k_ms": statistics.median(noop_array) * 1000,
        "runs": runs,
    }
