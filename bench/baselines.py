"""Straightforward row-by-row Python implementations of the benchmarked numbers.

They are what a careful analyst would write with loops and dictionaries: the yardstick for csxl's vectorised core
(the "ratio" column of docs/benchmarks.md) and an independent check that both agree.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

ENGINE = {"usage": 0.30, "engagement": 0.20, "relationship": 0.15, "outcomes": 0.20, "financial": 0.15}
ENGINE_TIERS = ((80.0, "Thriving"), (60.0, "Healthy"), (40.0, "At-Risk"), (0.0, "Critical"))


def health_rows(frame: pd.DataFrame) -> tuple[list[float], list[str], list[int]]:
    scores: list[float] = []
    tiers: list[str] = []
    points: list[int] = []
    dims = list(ENGINE)
    for row in frame.itertuples(index=False):
        total = weight = 0.0
        for d in dims:
            v = getattr(row, d)
            if v == v:  # not NaN
                total += ENGINE[d] * v
                weight += ENGINE[d]
        score = 10 * total / weight
        scores.append(score)
        tiers.append(next(label for bound, label in ENGINE_TIERS if score >= bound))
        points.append(row.p_usage + row.p_engagement + row.p_relationship + row.p_financial + row.p_sentiment)
    return scores, tiers, points


def _by_account(mrr: pd.DataFrame) -> tuple[list[pd.Period], dict[str, dict[pd.Period, float]]]:
    table: dict[str, dict[pd.Period, float]] = defaultdict(dict)
    months: set[pd.Period] = set()
    for account, month, value in mrr[["account", "month", "mrr"]].itertuples(index=False):
        p = pd.Period(month, freq="M")
        table[account][p] = table[account].get(p, 0.0) + float(value)
        months.add(p)
    span = pd.period_range(min(months), max(months), freq="M")
    return list(span), table


def movements_rows(mrr: pd.DataFrame) -> list[dict[str, float]]:
    months, table = _by_account(mrr)
    out = []
    seen: set[str] = set()
    prev_month: pd.Period | None = None
    for m in months:
        row = dict.fromkeys(("start_mrr", "new", "expansion", "contraction", "churned", "reactivation", "end_mrr"), 0.0)
        for account, series in table.items():
            cur = series.get(m, 0.0)
            prev = series.get(prev_month, 0.0) if prev_month is not None else 0.0
            row["start_mrr"] += prev
            row["end_mrr"] += cur
            if prev == 0 and cur > 0:
                row["reactivation" if account in seen else "new"] += cur
            elif prev > 0 and cur == 0:
                row["churned"] += prev
            elif cur > prev > 0:
                row["expansion"] += cur - prev
            elif 0 < cur < prev:
                row["contraction"] += prev - cur
            if cur > 0:
                seen.add(account)
        out.append(row)
        prev_month = m
    return out


def cohorts_rows(mrr: pd.DataFrame) -> tuple[dict[tuple[pd.Period, int], float], dict[tuple[pd.Period, int], float]]:
    months, table = _by_account(mrr)
    last = months[-1]
    logo: dict[tuple[pd.Period, int], float] = defaultdict(float)
    revenue: dict[tuple[pd.Period, int], float] = defaultdict(float)
    size: dict[pd.Period, int] = defaultdict(int)
    base: dict[pd.Period, float] = defaultdict(float)
    for series in table.values():
        live = sorted(p for p, v in series.items() if v > 0)
        if not live:
            continue
        first = live[0]
        size[first] += 1
        base[first] += series[first]
        age = 0
        p = first
        while p <= last:
            v = series.get(p, 0.0)
            logo[(first, age)] += 1 if v > 0 else 0
            revenue[(first, age)] += v
            p += 1
            age += 1
    logo_share = {k: v / size[k[0]] for k, v in logo.items()}
    revenue_share = {k: v / base[k[0]] for k, v in revenue.items()}
    return logo_share, revenue_share


def check_same(name: str, result: Any, expected: Any) -> None:
    """Raise AssertionError if csxl and the baseline disagree (beyond float rounding)."""
    if name == "health":
        score, tier, points = result
        e_score, e_tier, e_points = expected
        assert np.allclose(np.asarray(score, dtype=float), e_score, rtol=0, atol=1e-9), "health scores differ"
        assert list(np.asarray(tier, dtype=object)) == e_tier, "tiers differ"
        assert list(np.asarray(points, dtype=float)) == [float(p) for p in e_points], "simple points differ"
    elif name == "movements":
        cols = ["start_mrr", "new", "expansion", "contraction", "churned", "reactivation", "end_mrr"]
        got = result[cols].to_numpy(dtype=float)
        want = np.array([[row[c] for c in cols] for row in expected])
        assert got.shape == want.shape, f"movement rows differ: {got.shape} vs {want.shape}"
        assert np.allclose(got, want, rtol=0, atol=1e-6), "movements differ"
    elif name == "cohorts":
        for table, want in zip(result, expected, strict=True):
            label = {pd.Period(i, freq="M"): i for i in table.index}
            for (cohort, age), value in want.items():
                got = table.loc[label[cohort], age]
                assert math.isclose(float(got), value, abs_tol=1e-9), f"cohort {cohort} month {age} differs"
    else:
        raise KeyError(name)
