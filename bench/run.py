"""Benchmarks of the pure core: ``make bench`` runs them and writes ``docs/benchmarks.md``.

Each case runs in a fresh Python process (so peak memory is that case's own) a few times; we report the median wall
time, the peak resident memory of that process, and the ratio against a straightforward row-by-row Python
implementation of the same numbers (``bench/baselines.py``), which is also checked to give the same results.

Usage: ``python bench/run.py [--out docs/benchmarks.md] [--quick]``; ``--case NAME`` runs one case (internal).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baselines

import csxl

ACCOUNTS_1M = 1_000_000
MRR_ACCOUNTS, MRR_MONTHS = 10_000, 100  # 1,000,000 MRR rows


def health_inputs(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dims = {d: rng.uniform(0, 10, n) for d in ("usage", "engagement", "relationship", "outcomes", "financial")}
    frame = pd.DataFrame(dims)
    frame.loc[rng.random(n) < 0.05, "outcomes"] = np.nan  # 5 % missing: exercises re-normalisation
    for d in ("p_usage", "p_engagement", "p_relationship", "p_financial", "p_sentiment"):
        frame[d] = rng.integers(0, 3, n)
    return frame


def mrr_inputs(accounts: int, months: int, seed: int = 2) -> pd.DataFrame:
    """Long MRR table, every account x month present (0 where not a customer), with all movement kinds."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, months, accounts)
    level = rng.uniform(100, 5_000, accounts).round(0)
    grid = np.zeros((accounts, months))
    alive = np.zeros(accounts, dtype=bool)
    for m in range(months):
        alive |= start == m
        alive &= rng.random(accounts) > 0.015
        alive |= (start < m) & (rng.random(accounts) < 0.003)  # reactivations
        level = np.where(rng.random(accounts) < 0.05, (level * rng.uniform(0.7, 1.4, accounts)).round(0), level)
        grid[:, m] = np.where(alive, level, 0.0)
    months_idx = pd.period_range("2018-01", periods=months, freq="M").to_timestamp()
    return pd.DataFrame(
        {
            "account": np.repeat([f"A{i:05d}" for i in range(accounts)], months),
            "month": np.tile(months_idx, accounts),
            "mrr": grid.reshape(-1),
        }
    )


def _health_csxl(frame: pd.DataFrame) -> Any:
    dims = frame[["usage", "engagement", "relationship", "outcomes", "financial"]]
    score = csxl.health_score(dims, weights="engine")
    tier = csxl.health_tier(score)
    points = csxl.simple_points(
        *(frame[c] for c in ("p_usage", "p_engagement", "p_relationship", "p_financial", "p_sentiment"))
    )
    return score, tier, points


CASES: dict[str, tuple[str, Callable[[], Any], Callable[[Any], Any], Callable[[Any], Any]]] = {
    # name: (description, make inputs, csxl, baseline)
    "health": (
        "health_score + health_tier + simple_points, 1,000,000 accounts",
        lambda: health_inputs(ACCOUNTS_1M),
        _health_csxl,
        baselines.health_rows,
    ),
    "movements": (
        "mrr_movements, 1,000,000 MRR rows (10,000 accounts x 100 months)",
        lambda: mrr_inputs(MRR_ACCOUNTS, MRR_MONTHS),
        csxl.mrr_movements,
        baselines.movements_rows,
    ),
    "cohorts": (
        "cohort_table (logo + revenue), 1,000,000 MRR rows",
        lambda: mrr_inputs(MRR_ACCOUNTS, MRR_MONTHS),
        lambda mrr: (csxl.cohort_table(mrr, basis="logo"), csxl.cohort_table(mrr, basis="revenue")),
        baselines.cohorts_rows,
    ),
}
TARGETS = {"health": 1.0, "movements": 2.0, "cohorts": 2.0}


def run_case(name: str, runs: int, baseline: bool) -> dict[str, Any]:
    _, make, fast, slow = CASES[name]
    data = make()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fast(data)
        times.append(time.perf_counter() - t0)
    out: dict[str, Any] = {
        "median_s": statistics.median(times),
        "runs": runs,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_inputs_mb": rss_before,
    }
    if baseline:
        t0 = time.perf_counter()
        expected = slow(data)
        out["baseline_s"] = time.perf_counter() - t0
        baselines.check_same(name, result, expected)
        out["baseline_agrees"] = True
    return out


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, pandas {pd.__version__}"
    )


def _sub(case: str, runs: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--workbook-case", case, "--runs", str(runs)]
    out: dict[str, Any] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    print(f"{case}: {out}", file=sys.stderr)
    return out


def workbook_section(runs: int, skip_workbook: bool) -> list[str]:
    """The workbook (csxl refresh) and Excel-runtime (Lite dispatcher) tables."""
    lines: list[str] = []
    if not skip_workbook:
        r = _sub("refresh", runs)
        lo = f"{r['libreoffice_s']:.1f} s ({r['libreoffice_s'] / r['median_s']:.1f}x)" if r["libreoffice_s"] else "n/a"
        lines += [
            "",
            "## csxl refresh (workbook edge)",
            "",
            f"A {r['accounts']:,}-account demo workbook with {r['mrr_rows']:,} MRR rows ({r['file_mb']:.1f} MB), "
            "refreshed by `csxl refresh` in a fresh process (Python start and imports included), on a fresh copy each "
            "run. Compared with an openpyxl load + save of the same file (what a naive refresh would cost, and it "
            "drops DrawingML shapes) and with LibreOffice recalculating it headless (`soffice --convert-to xlsx`, "
            "recalculation forced on load: the plain-cell simple-points formulas). Refresh checks the simple-points "
            "formulas of every Accounts row (columns may have moved, rows may have been pasted: 70,000 formula cells "
            "here) and rewrites only those that differ; what keeps it above the 5 s budget is reading the 245,000 "
            "MRR rows, writing 10,000 rows of owned values and Python's start (about 0.9 s of imports).",
            "",
            "| case | target | median | runs | peak memory |",
            "|---|---|---|---|---|",
            f"| csxl refresh | < 5 s, < 1 GB | {r['median_s']:.2f} s | {r['runs']} | {r['peak_rss_mb']:.0f} MB |",
            f"| openpyxl load + save | | {r['openpyxl_s']:.1f} s ({r['openpyxl_s'] / r['median_s']:.1f}x) | 1 | "
            f"{r['openpyxl_mb']:.0f} MB |",
            f"| LibreOffice recalculation | | {lo} | 1 | |",
        ]
        h = _sub("history", runs)
        w1, w2 = h["week1"], h["two_years"]
        lines += [
            "",
            "## Refresh cost and History age",
            "",
            f"The same book refreshed in its first week (empty History) and after two years of weekly refreshes "
            f"(104 snapshots thinned by the retention rule: six months weekly, then monthly; the last four months in "
            f"the Health history sheet, {h['history_rows']:,} rows, and {h['archived_rows']:,} older rows in the "
            f"archive beside the workbook, {h['archive_mb']:.1f} MB of Parquet). Either way the refresh appends one "
            "snapshot after the unchanged rows; the sheet stops growing after four months.",
            "",
            "| History | median | runs | peak memory |",
            "|---|---|---|---|",
            f"| week 1 (empty) | {w1['median_s']:.2f} s | {w1['runs']} | {w1['peak_rss_mb']:.0f} MB |",
            f"| two years ({h['history_rows']:,} rows in the sheet) | {w2['median_s']:.2f} s "
            f"({w2['median_s'] / w1['median_s']:.2f}x) | {w2['runs']} | {w2['peak_rss_mb']:.0f} MB |",
        ]
    lite = _sub("lite", runs)
    lines += [
        "",
        "## Excel functions through the xlwings Lite dispatcher",
        "",
        "`xlwings.server.custom_functions_call` with the add-in's payload, calls awaited one after another in one",
        "event loop. The no-op has HEALTHSCORE's signature, type hints and argument options and returns its first",
        "cell, so the ratio is what csxl adds to the dispatcher's own work. Outside Pyodide xlwings re-tries a failing",
        "`from pyodide.ffi import JsNull` for every cell; the benchmark provides that module (as Pyodide does) so the",
        "numbers are the dispatcher's, not the missing import's.",
        "",
        "| case | target | result |",
        "|---|---|---|",
        f"| HEALTHSCORE, one account, per call | <= 1.3x no-op | {lite['healthscore_call_ms']:.3f} ms vs "
        f"{lite['noop_call_ms']:.3f} ms: {lite['ratio']:.2f}x |",
        f"| HEALTHSCORE, one array call over 10,000 accounts | < 100 ms | {lite['array_10k_ms']:.0f} ms "
        f"(the no-op on the same range: {lite['noop_array_10k_ms']:.1f} ms) |",
    ]
    if not skip_workbook:
        lines += payload_section(_sub("payload", 1))
    return lines


def payload_section(p: dict[str, Any]) -> list[str]:
    """What the Lite refresh script receives (bench/lite_payload.py)."""
    w1, w2 = p["week1"], p["two_years"]

    def largest(m: dict[str, Any]) -> str:
        return ", ".join(f"{name} {mb:.1f} MB" for name, mb in m["largest"])

    return [
        "",
        "## xlwings Lite refresh: the payload",
        "",
        "Lite sends a script the values of the sheets it asks for (`@script(include=...)`) as JSON before the script "
        "runs. The refresh script asks for the sheets it reads and writes only (`csxl.excel.macros.REFRESH_SHEETS`); "
        'the size is the JSON of each sheet\'s values from A1 (blanks as `""`, dates as ISO text), on the '
        "10,000-account book refreshed once and after two years of weekly refreshes (`bench/lite_payload.py`). The "
        "refresh script then ran through xlwings' own dispatcher (`custom_scripts_call`, CPython, not Pyodide) on "
        f"the first book's included sheets: {p['script_s']:.1f} s, {p['actions']:,} actions"
        + (f", messages: {'; '.join(p['alerts'])}" if p["alerts"] else ", no error message")
        + ".",
        "",
        "| book | all sheets | sheets the refresh asks for | largest of those | left out |",
        "|---|---|---|---|---|",
        f"| 10,000 accounts, week 1 | {w1['all_mb']:.1f} MB | {w1['included_mb']:.1f} MB | {largest(w1)} | "
        f"{', '.join(w1['left_out']) or 'none'} |",
        f"| 10,000 accounts, two years | {w2['all_mb']:.1f} MB | {w2['included_mb']:.1f} MB | {largest(w2)} | "
        f"{', '.join(w2['left_out']) or 'none'} |",
    ]


def import_section() -> list[str]:
    """Product events to usage (csxl import events' engine) at 100 million events, and the pandas baseline."""
    r = _sub("import", 1)
    big, base, inv = r["big"], r["baseline"], r["invoices"]
    return [
        "",
        "## Import: product events to usage (DuckDB)",
        "",
        f"`csxl.data.events.read_usage` (de-duplication, monthly usage per account, the Accounts signals) over "
        f"{big['events']:,} generated events in Parquet ({big['file_mb']:.0f} MB; 10,000 accounts, 24 months, 10 "
        f"users per account with power-user skew: `bench/imports.py`), in a fresh process, median of {big['runs']} "
        "runs. The baseline reads "
        f"{base['events']:,} of the same events into pandas and groups them by account and month (active users, "
        "logins, core actions); csxl's numbers on the same events are checked to agree "
        f"({'they do' if base['agrees'] else 'THEY DO NOT'}).",
        "",
        "| case | target | result | peak memory |",
        "|---|---|---|---|",
        f"| {big['events']:,} events | < 30 s, < 4 GB | {big['median_s']:.1f} s | {big['peak_rss_mb']:,.0f} MB |",
        f"| {base['events']:,} events, pandas group-by | | {base['pandas_s']:.1f} s (csxl on the same: "
        f"{base['csxl_s']:.1f} s, {base['pandas_s'] / base['csxl_s']:.1f}x) | |",
        *(
            [
                "",
                "Over the time target. What remains is three passes over 100 million rows in random order on 2 "
                "cores: the repeated de-duplication ids (a sort of 8-byte hashes, ~5 s; a group-by took ~13 s), the "
                "per-user months (~19 s) and the per-feature months (~8 s), each a hash-table probe per row that "
                "misses the cache at this size whatever the key (hashed user keys measured: no gain).",
            ]
            if big["median_s"] > 30
            else []
        ),
        "",
        "## Import: invoice lines to MRR rows",
        "",
        f"`csxl.data.invoices.read_invoice_lines` then `csxl.billing.invoice_lines_to_mrr` over {inv['lines']:,} "
        "generated Stripe-style invoice lines in Parquet (10,000 accounts, 40 subscriptions each, one monthly line per "
        f"subscription and month: `bench/imports.py`), in a fresh process, median of {inv['runs']} runs. The text "
        "columns come from DuckDB through Arrow (no Python object per cell; the repeating ones, customer, "
        "subscription, currency, status, as categoricals), and what depends on a service period only is worked once "
        "per distinct period.",
        "",
        "| case | target | result | peak memory |",
        "|---|---|---|---|",
        f"| {inv['lines']:,} invoice lines | < 10 s | {inv['median_s']:.1f} s | {inv['peak_rss_mb']:,.0f} MB |",
        *(
            [
                "",
                "Over the time target: the read (DuckDB's Parquet scan, Arrow's dictionary encoding of 400,000 "
                "subscriptions) and the MRR rule (one integer sort of the line-months, sums) take about half each.",
            ]
            if inv["median_s"] > 10
            else []
        ),
    ]


def churn_section() -> list[str]:
    """The churn model: fit and backtest on 2.4 million account-months, scoring a million accounts."""
    r = _sub("churn", 3)
    fit = r["fit"]
    lines = [
        "",
        "## Churn model: fit, backtest, score",
        "",
        f"`csxl.fit_churn_model` with a backtest by time on {r['rows']:,} account-months (100,000 accounts x 24 "
        "monthly snapshots; 12 numeric inputs, one with 5 % blanks, and a 4-level segment, drawn from a known "
        "logistic model: `bench/churn.py`), in a fresh process, median of "
        f"{fit['runs']} runs (the table's generation included); `ChurnModel.predict` over {r['score_rows']:,} rows "
        "timed alone.",
        "",
        "| case | target | result | peak memory |",
        "|---|---|---|---|",
        f"| fit and backtest, {r['rows']:,} rows | < 30 s | {fit['median_s']:.1f} s | {fit['peak_rss_mb']:,.0f} MB |",
        f"| score {r['score_rows']:,} accounts | < 1 s | {r['score_s']:.2f} s | |",
    ]
    b = _sub("churn-book", 3)
    without, with_model = b["without"], b["with"]
    lines += [
        "",
        "The same model in the 10,000-account workbook of the refresh section: `csxl churn --apply` once (the past "
        "month ends rebuilt, the fit, the Model sheet, a refresh), then `csxl refresh` with the stored model (the "
        "Accounts churn columns and a Churn sheet of 10,000 rows, each probability a plain-cell formula) against "
        "the same book without one.",
        "",
        "| case | median | runs | peak memory |",
        "|---|---|---|---|",
        f"| csxl churn --apply | {b['apply_s']:.1f} s | 1 | {b['apply_mb']:,.0f} MB |",
        f"| csxl refresh, no model | {without['median_s']:.2f} s | {without['runs']} | "
        f"{without['peak_rss_mb']:,.0f} MB |",
        f"| csxl refresh, model stored | {with_model['median_s']:.2f} s "
        f"({with_model['median_s'] / without['median_s']:.2f}x) | {with_model['runs']} | "
        f"{with_model['peak_rss_mb']:,.0f} MB |",
        "",
        f"File size {b['file_mb'][1]:.1f} MB without the model, {b['file_mb'][0]:.1f} MB with it (largest part "
        f"{b['largest_part_mb']:.0f} MB uncompressed).",
    ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path)
    ap.add_argument("--case")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--skip-workbook", action="store_true", help="Leave out the 10,000-account workbook case.")
    ap.add_argument(
        "--workbook-case",
        choices=["refresh", "lite", "history", "import", "churn", "churn-book", "payload"],
        help=argparse.SUPPRESS,
    )
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.runs, not args.no_baseline)))
        return
    if args.workbook_case:
        import churn
        import imports
        import lite_payload
        import workbook

        cases = {
            "refresh": lambda: workbook.refresh_case(3),
            "history": lambda: workbook.history_case(3),
            "import": lambda: imports.import_case(1),
            "churn": lambda: churn.churn_case(3),
            "churn-book": lambda: churn.workbook_case(3),
            "payload": lite_payload.payload_case,
        }
        result = cases.get(args.workbook_case, lambda: workbook.lite_case(args.runs))()
        print(json.dumps(result))
        return
    rows = []
    for name, (desc, *_rest) in CASES.items():
        cmd = [sys.executable, __file__, "--case", name, "--runs", str(args.runs)]
        if args.no_baseline:
            cmd.append("--no-baseline")
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        res["name"], res["desc"] = name, desc
        rows.append(res)
        print(f"{name}: {res}", file=sys.stderr)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}.",
        "",
        "Each case runs in its own process; time is the median of the runs, memory is that process's peak resident",
        "set (inputs included). The baseline is a plain row-by-row Python implementation of the same numbers",
        "(`bench/baselines.py`), run once and checked to agree with csxl.",
        "",
        "| case | target | csxl median | runs | peak memory | baseline (row by row) | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = r.get("baseline_s")
        ratio = f"{base / r['median_s']:.0f}x" if base else "n/a"
        base_s = f"{base:.2f} s" if base else "n/a"
        lines.append(
            f"| {r['desc']} | < {TARGETS[r['name']]:.0f} s | {r['median_s']:.3f} s | {r['runs']} | "
            f"{r['peak_rss_mb']:.0f} MB | {base_s} | {ratio} |"
        )
    lines += workbook_section(args.runs, args.skip_workbook)
    lines += import_section()
    lines += churn_section()
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
