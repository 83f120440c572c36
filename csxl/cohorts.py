"""Cohort retention: trailing NRR/GRR of a fixed customer base, and the classic cohort table.

Input is the long MRR table of :mod:`csxl.mrrgrid` (columns ``account``, ``month``, ``mrr``; duplicates summed; a
missing account-month is 0 MRR). Months are month-start Timestamps, as in :mod:`csxl.revenue`. Ratios are fractions
(``1.08`` means 108 %). See ``docs/revenue.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from csxl.errors import InputError
from csxl.mrrgrid import (
    FloatArray,
    IntArray,
    MrrGrid,
    MrrRows,
    load,
    month_index,
    month_label,
    parse_as_of,
    require_table,
)

__all__ = ["cohort_grr", "cohort_nrr", "cohort_sizes", "cohort_table"]

BASES = ("logo", "revenue")


def _months_arg(months: Any) -> int:
    if isinstance(months, (bool, np.bool_)) or not isinstance(months, (int, np.integer)) or months < 1:
        raise InputError("months", months, "a whole number of months >= 1")
    return int(months)


def _base_and_now(mrr: pd.DataFrame | MrrRows, as_of: Any, months: Any) -> tuple[FloatArray, FloatArray]:
    """MRR of the base customers (MRR > 0 in the base month) then and in ``as_of``'s month."""
    n = _months_arg(months)
    if not isinstance(mrr, MrrRows):
        require_table(mrr)
    if as_of is not None:
        parse_as_of(as_of)  # a bad as_of is reported as such before any table problem
    grid = load(mrr, as_of)
    if grid.start is None:
        raise InputError("mrr", "an empty table", "at least one row", detail="there is no base month")
    now = grid.n_months - 1
    base = now - n
    if base < 0:
        raise InputError(
            "as_of",
            month_label(grid.start + now),
            f"at least {n} month(s) after the first month of the MRR table ({month_label(grid.start)})",
            detail=f"there is no base month {month_label(grid.start + base)} in the data",
        )
    then = grid.values[:, base]
    members = then > 0
    if not members.any():
        raise InputError(
            "base month",
            month_label(grid.start + base),
            "a month with at least one customer (MRR > 0)",
            detail=f"nobody to measure retention for as of {month_label(grid.start + now)}",
        )
    return then[members], grid.values[members, now]


def cohort_nrr(mrr: pd.DataFrame | MrrRows, as_of: Any, months: int = 12) -> float:
    """Trailing net revenue retention of the customers who paid ``months`` months before ``as_of``'s month.

    Base = accounts with MRR > 0 in month ``as_of - months``. NRR = their total MRR in ``as_of``'s month / their total
    MRR in the base month (a ratio; expansion counts, customers won later do not). ``as_of=None`` means the last month
    of the table. Raises :class:`InputError` when ``as_of`` is less than ``months`` after the first month (no base
    month), when the base month has no customer, and when ``as_of`` is after the last month of the table (no data).
    """
    then, now = _base_and_now(mrr, as_of, months)
    return float(now.sum() / then.sum())


def cohort_grr(mrr: pd.DataFrame | MrrRows, as_of: Any, months: int = 12) -> float:
    """Trailing gross revenue retention: sum over the base customers of min(MRR now, MRR then) / total MRR then.

    Same base and rules as :func:`cohort_nrr`; expansion is capped at each customer's base MRR, so GRR is in 0..1
    and never above NRR.
    """
    then, now = _base_and_now(mrr, as_of, months)
    return float(np.minimum(now, then).sum() / then.sum())


def _cohort_sums(grid: MrrGrid) -> tuple[IntArray, pd.DatetimeIndex, FloatArray, FloatArray, FloatArray]:
    """Per cohort and age: customers with MRR > 0 and total MRR (NaN beyond the last month), and cohort sizes.

    Returns ``(cohort month positions, cohort months, logos[c, k], revenue[c, k], size[c])``, cohorts ascending.
    """
    m = grid.values
    n_months = grid.n_months
    if n_months == 0:  # empty table
        empty = np.zeros((0, 0))
        return np.zeros(0, dtype=np.int64), pd.DatetimeIndex([], name="cohort"), empty, empty, np.zeros(0)
    paying = m > 0
    ever = paying.any(axis=1)
    m, paying = m[ever], paying[ever]
    first = paying.argmax(axis=1)  # the cohort: first month with MRR > 0 (a returning account keeps it)
    order = np.argsort(first, kind="stable")
    first, m, paying = first[order], m[order], paying[order]
    cohorts, starts = np.unique(first, return_index=True)
    # shift each account's row left by its cohort month so that column k is "k months since start"
    ages = np.arange(n_months)
    idx = first[:, None] + ages[None, :]
    inside = idx < n_months
    idx = np.minimum(idx, n_months - 1)
    aligned = np.where(inside, np.take_along_axis(m, idx, axis=1), 0.0)
    alive = (aligned > 0).astype(np.float64)
    if len(cohorts):
        revenue = np.add.reduceat(aligned, starts, axis=0)
        logos = np.add.reduceat(alive, starts, axis=0)
    else:
        revenue = logos = np.zeros((0, n_months))
    size = np.diff(np.append(starts, len(first))).astype(np.float64)
    # cells beyond the last month are unknown, not 0
    future = (cohorts[:, None] + ages[None, :]) >= n_months
    revenue[future] = np.nan
    logos[future] = np.nan
    start = grid.start if grid.start is not None else 0
    labels = pd.DatetimeIndex(month_index(start, n_months)[cohorts], name="cohort")
    return cohorts.astype(np.int64), labels, logos, revenue, size


def cohort_table(mrr: pd.DataFrame | MrrRows, basis: str = "logo", as_of: Any = None) -> pd.DataFrame:
    """Retention by cohort: rows = cohort month, columns = months since start ``0..N`` (ints), values = share retained.

    * cohort: an account's first month with MRR > 0; an account that churns and comes back stays in that cohort.
    * ``basis="logo"``: accounts of the cohort with MRR > 0 in that month / cohort size (0..1).
    * ``basis="revenue"``: the cohort's total MRR in that month / its total MRR in month 0 (net, expansion included:
      can exceed 1).

    Month 0 is 1.0. Cells after the last month of the table (or ``as_of``) are ``NaN``, never 0. ``N`` is the age
    of the oldest cohort at the last month. Rows are the months in which at least one account started; months
    with no new account have no row. Empty table (or nobody ever paid) -> empty frame. Vectorised (dense matrix).
    """
    if not isinstance(basis, str) or basis.strip().lower() not in BASES:
        raise InputError("basis", basis, "one of logo, revenue")
    grid = load(mrr, as_of)
    cohorts, labels, logos, revenue, size = _cohort_sums(grid)
    shares = logos / size[:, None] if basis.strip().lower() == "logo" else revenue / revenue[:, :1]
    width = grid.n_months - int(cohorts[0]) if cohorts.size else 0  # ages 0..age of the oldest cohort
    table: pd.DataFrame = pd.DataFrame(
        shares[:, :width], index=labels, columns=pd.RangeIndex(width, name="months_since_start")
    )
    return table


def cohort_sizes(mrr: pd.DataFrame | MrrRows, as_of: Any = None) -> pd.DataFrame:
    """Per cohort month: ``customers`` (accounts that started that month) and ``mrr`` (their MRR in month 0).

    The denominators of :func:`cohort_table`; index ``cohort`` (month-start Timestamp).
    """
    grid = load(mrr, as_of)
    _, labels, _, revenue, size = _cohort_sums(grid)
    month0 = revenue[:, 0] if revenue.shape[1] else np.zeros(0)
    sizes: pd.DataFrame = pd.DataFrame({"customers": size.astype(np.int64), "mrr": month0}, index=labels)
    return sizes
