"""Benchmark cases for the churn model (``python bench/run.py``): fitting and backtesting on 100,000 accounts x 24
monthly snapshots, and scoring 1,000,000 accounts with the fitted model's stored numbers.

The table is drawn from a stated logistic model (12 standardised numeric inputs with 5 % blanks in one, a 4-level
segment), seeded, so every run fits the same data; each case runs in a fresh process (``_fresh`` of
``bench/imports.py``: median wall time and peak memory).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imports import _fresh

ACCOUNTS, SNAPSHOTS, SCORED = 100_000, 24, 1_000_000

_TABLE = (
    "import numpy as np, pandas as pd, time, sys\n"
    "rows = int(sys.argv[1]); k = 12; rng = np.random.default_rng(1)\n"
    "X = rng.normal(0, 1, (rows, k)); w = rng.normal(0, 0.5, k)\n"
    "y = rng.random(rows) < 1 / (1 + np.exp(-(-2.5 + X @ w)))\n"
    "f = pd.DataFrame(X, columns=[f'f{i}' for i in range(k)]); f.loc[rng.random(rows) < 0.05, 'f0'] = np.nan\n"
    "f['segment'] = rng.choice(['a', 'b', 'c', 'd'], rows); f['churned'] = y.astype(int)\n"
    f"f['as_of'] = pd.Timestamp('2025-01-31') + pd.to_timedelta(rng.integers(0, {SNAPSHOTS}, rows) * 30, unit='D')\n"
)


def churn_case(runs: int) -> dict[str, Any]:
    """Fit plus backtest by time on ``ACCOUNTS x SNAPSHOTS`` rows (fresh process, median of ``runs``); the time of
    ``ChurnModel.predict`` alone over ``SCORED`` rows (timed inside the process, after a fit on 200,000 rows)."""
    rows = ACCOUNTS * SNAPSHOTS
    fit = _TABLE + "from csxl import fit_churn_model\nm = fit_churn_model(f, time='as_of')\nprint(m.metrics.roc_auc)\n"
    score = (
        _TABLE + "from csxl import fit_churn_model\nm = fit_churn_model(f, time='as_of')\n"
        f"g = pd.concat([f] * ({SCORED} // rows + 1)).head({SCORED})\n"
        "t = time.perf_counter(); p = m.predict(g); print(f'{time.perf_counter() - t:.4f}')\n"
    )
    fitted = _fresh(fit, Path(str(rows)), runs)
    done = subprocess.run([sys.executable, "-c", score, "200000"], check=True, capture_output=True, text=True)
    return {"rows": rows, "fit": fitted, "score_rows": SCORED, "score_s": float(done.stdout.split()[-1])}


def workbook_case(runs: int) -> dict[str, Any]:
    """The churn model in the 10,000-account workbook: ``csxl churn --apply`` once (rebuild the past month ends, fit,
    write the Model sheet, refresh), then ``csxl refresh`` with the stored model (Accounts churn columns and the Churn
    sheet's 10,000 plain-cell formulas) against the same book without one, fresh copies, median of ``runs``."""
    import shutil
    import tempfile
    import zipfile

    from workbook import BIN, big_book, timed, timed_refreshes

    src = big_book()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        applied = Path(tmp) / "applied.xlsx"
        shutil.copy(src, applied)
        out["apply_s"], out["apply_mb"] = timed([str(BIN / "csxl"), "churn", "--book", str(applied), "--apply"])
        for name, book in (("without", src), ("with", applied)):
            out[name] = timed_refreshes(book, runs)
        with zipfile.ZipFile(applied) as zf:
            sizes = {i.filename: (i.file_size, i.compress_size) for i in zf.infolist()}
        out["file_mb"] = applied.stat().st_size / 2**20, src.stat().st_size / 2**20
        out["largest_part_mb"] = max(size for size, _ in sizes.values()) / 2**20
    return out
