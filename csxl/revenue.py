"""Revenue retention: monthly MRR movements, NRR/GRR, churn rates, quick ratio, LTV and CAC payback.

Units: MRR and its movements are currency per month; ratios are fractions (``1.12`` means 112 %); churn rates are
monthly fractions (``0.02`` is 2 % a month); lifetimes and paybacks are months. See ``docs/revenue.md``.

Table functions take the long MRR table described in :mod:`csxl.mrrgrid` (columns ``account``, ``month``, ``mrr``;
duplicate account-months summed; a missing account-month is 0 MRR) and index their results by **month-start
Timestamp**. Metric functions are vectorised: scalars in give Python floats, a Series gives a Series on the same
index, lists and arrays give ndarrays. Missing values (``None``/``NaN``) propagate as ``NaN``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.errors import InputError
from csxl.mrrgrid import MrrGrid, MrrRows, load
from csxl.vectors import FloatArray, Shape, combine, fail, require_columns, restore, to_float

__all__ = [
    "MOVEMENT_COLUMNS",
    "cac_payback",
    "grr",
    "lifetime_months",
    "logo_churn_rate",
    "ltv",
    "mrr_matrix",
    "mrr_movements",
    "nrr",
    "period_rates",
    "quick_ratio",
    "revenue_churn_rate",
]

#: Money columns of :func:`mrr_movements` (currency per month), then the customer counts.
MONEY_COLUMNS: tuple[str, ...] = ("start_mrr", "new", "expansion", "contraction", "churned", "reactivation", "end_mrr")
COUNT_COLUMNS: tuple[str, ...] = (
    "customers_start",
    "customers_new",
    "customers_churned",
    "customers_reactivated",
    "customers_end",
)
MOVEMENT_COLUMNS: tuple[str, ...] = MONEY_COLUMNS + COUNT_COLUMNS

# Relative slack for "contraction + churned <= start": 0.1 + 0.2 > 0.3 in binary floating point.
_SLACK = 1e-9


# --------------------------------------------------------------------------------------------------- tables


def mrr_matrix(mrr: pd.DataFrame | MrrRows, as_of: Any = None) -> pd.DataFrame:
    """The dense accounts x months MRR frame (currency per month).

    Rows: accounts in order of first appearance (index ``account``); columns: every month from the first month of the
    table to the last (or ``as_of``) as month-start Timestamps. A month with no row is 0; duplicate rows are summed.
    Empty table -> empty frame.
    """
    grid = load(mrr, as_of)
    frame: pd.DataFrame = pd.DataFrame(grid.values, index=grid.accounts, columns=grid.months)
    return frame


def _movement_sums(grid: MrrGrid) -> dict[str, npt.NDArray[Any]]:
    """Per-month sums of every movement over accounts, in integer cents when exact, else in float."""
    m: npt.NDArray[Any] = grid.cents if grid.cents is not None else grid.values
    n_months = m.shape[1]
    prev = np.zeros_like(m)
    prev[:, 1:] = m[:, :-1]
    diff = m - prev
    had, has = prev > 0, m > 0
    started = has & ~had  # 0 -> positive: new or reactivation
    # the first month with MRR > 0 is the only "new" month of an account; later starts are reactivations
    first = np.where(has.any(axis=1), has.argmax(axis=1), n_months) if n_months else np.zeros(0, dtype=np.int64)
    is_first = np.arange(n_months)[None, :] == first[:, None]
    new_cells = started & is_first
    react_cells = started & ~is_first
    zero = np.zeros((), dtype=m.dtype)
    churn_cells = had & ~has
    return {
        "start_mrr": prev.sum(axis=0),
        "new": np.where(new_cells, m, zero).sum(axis=0),
        "expansion": np.where(had & (diff > 0), diff, zero).sum(axis=0),
        "contraction": np.where(had & has & (diff < 0), -diff, zero).sum(axis=0),
        "churned": np.where(churn_cells, prev, zero).sum(axis=0),
        "reactivation": np.where(react_cells, m, zero).sum(axis=0),
        "end_mrr": m.sum(axis=0),
        "customers_start": had.sum(axis=0),
        "customers_new": new_cells.sum(axis=0),
        "customers_churned": churn_cells.sum(axis=0),
        "customers_reactivated": react_cells.sum(axis=0),
        "customers_end": has.sum(axis=0),
    }


def mrr_movements(mrr: pd.DataFrame | MrrRows, as_of: Any = None) -> pd.DataFrame:
    """Monthly MRR bridge: where each month's MRR came from and went to.

    One row per month from the table's first month to its last (or ``as_of``), index ``month`` (month-start
    Timestamp). For each account, ``prev`` is its MRR the month before (0 before the first month) and ``cur`` this
    month's:

    ============  ========================================================  ===================
    column        per account                                               units
    ============  ========================================================  ===================
    start_mrr     ``prev``                                                  currency / month
    new           ``cur`` if ``prev == 0 < cur`` and never MRR > 0 before   currency / month
    reactivation  ``cur`` if ``prev == 0 < cur`` and MRR > 0 at some point  currency / month
    expansion     ``cur - prev`` if ``0 < prev < cur``                      currency / month
    contraction   ``prev - cur`` if ``0 < cur < prev``                      currency / month
    churned       ``prev`` if ``prev > 0 == cur`` (churn = MRR reaches 0)    currency / month
    end_mrr       ``cur``                                                   currency / month
    customers_*   number of accounts with ``prev > 0`` (start), new, churned, reactivated, ``cur > 0`` (end)
    ============  ========================================================  ===================

    Identity every month: ``start + new + expansion - contraction - churned + reactivation == end`` and
    ``customers_start + customers_new + customers_reactivated - customers_churned == customers_end``. When every MRR
    value is a whole number of cents (the usual case) the sums are done in integer cents, so the identity is exact in
    cents; otherwise in float64 (exact to ~1e-9 relative). In the first month ``start_mrr`` is 0 and all MRR is new
    (nothing is known before the table starts). An empty table gives an empty frame with these columns.

    Vectorised: a dense accounts x months matrix and column differences; 1,000,000 rows take well under a second.
    """
    grid = load(mrr, as_of)
    sums = _movement_sums(grid)
    out: pd.DataFrame = pd.DataFrame(index=grid.months)
    for col in MONEY_COLUMNS:
        values = sums[col]
        out[col] = values / 100.0 if grid.cents is not None else values.astype(np.float64)
    for col in COUNT_COLUMNS:
        out[col] = sums[col].astype(np.int64)
    return out


def period_rates(movements: pd.DataFrame) -> pd.DataFrame:
    """:func:`mrr_movements` plus each month's rates (fractions), computed from that month's movements.

    Added columns (``NaN`` where the denominator is 0, e.g. the first month, whose start is 0):

    * ``nrr`` = (start + expansion - contraction - churned) / start
    * ``grr`` = (start - contraction - churned) / start
    * ``logo_churn_rate`` = customers_churned / customers_start
    * ``revenue_churn_rate`` = (contraction + churned) / start (gross)
    * ``net_revenue_churn_rate`` = (contraction + churned - expansion) / start (may be negative)
    * ``quick_ratio`` = (new + reactivation + expansion) / (contraction + churned); ``inf`` when nothing was lost
      but something gained, ``NaN`` when nothing moved at all.

    New and reactivated MRR are not part of NRR/GRR (they were not in the starting base).
    """
    require_columns(movements, "movements", MOVEMENT_COLUMNS, "the DataFrame returned by mrr_movements")
    col = {c: movements[c].to_numpy(dtype=np.float64) for c in MOVEMENT_COLUMNS}
    start, exp, con, churn = col["start_mrr"], col["expansion"], col["contraction"], col["churned"]
    gains = col["new"] + col["reactivation"] + exp
    losses = con + churn
    out: pd.DataFrame = movements.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = start > 0
        out["nrr"] = np.where(pos, (start + exp - losses) / start, np.nan)
        out["grr"] = np.where(pos, (start - losses) / start, np.nan)
        logos = col["customers_start"]
        out["logo_churn_rate"] = np.where(logos > 0, col["customers_churned"] / logos, np.nan)
        out["revenue_churn_rate"] = np.where(pos, losses / start, np.nan)
        out["net_revenue_churn_rate"] = np.where(pos, (losses - exp) / start, np.nan)
        out["quick_ratio"] = gains / losses  # inf when only gains, NaN when nothing moved
    return out


# --------------------------------------------------------------------------------------------------- helpers


def _finite(ratio: FloatArray, start: FloatArray, shape: Shape) -> FloatArray:
    """``ratio`` when every value is finite (or NaN from a blank); an overflow names the start MRR that caused it."""
    overflow = np.isinf(ratio)
    if overflow.any():
        raise fail("start_mrr", start, overflow, "large enough for a finite ratio of the movements to it", shape)
    return ratio


def _money(x: Any, field: str) -> tuple[FloatArray, Shape]:
    return to_float(x, field, lo=0, rule=">= 0 (currency per month)")


def _start(x: Any) -> tuple[FloatArray, Shape]:
    return to_float(x, "start_mrr", lo=0, lo_open=True, rule="> 0 (the ratio is undefined without starting MRR)")


def _check_losses(start: FloatArray, contraction: FloatArray, churned: FloatArray, shape: Shape) -> None:
    losses = contraction + churned
    with np.errstate(invalid="ignore"):
        bad = losses > start * (1 + _SLACK)
    if bad.any():
        raise fail(
            "contraction + churned",
            losses,
            bad,
            "<= start_mrr (more MRR cannot be lost than there was; the inputs are inconsistent)",
            shape,
        )


def _fraction(x: Any, field: str) -> tuple[FloatArray, Shape]:
    return to_float(x, field, lo=0, hi=1, rule="0..1 (a fraction: 0.8 means 80 %)")


# --------------------------------------------------------------------------------------------------- ratios


def nrr(start_mrr: Any, expansion: Any, contraction: Any, churned: Any) -> Any:
    """Net revenue retention = (start_mrr + expansion - contraction - churned) / start_mrr, a ratio (1.12 = 112 %).

    Spec formula (customer-success-engine, Phase 5) without the "x 100". All inputs in currency per month, >= 0;
    ``start_mrr`` must be > 0. ``contraction + churned > start_mrr`` raises (the inputs are inconsistent: it would
    make GRR negative). Vectorised; NaN propagates.
    """
    (s, e, c, ch), shape = combine(
        _start(start_mrr),
        _money(expansion, "expansion"),
        _money(contraction, "contraction"),
        _money(churned, "churned"),
    )
    _check_losses(s, c, ch, shape)
    # >= 0 by the checks above; the clip only removes float dust such as (0.3 - 0.1 - 0.2) / 0.3 = -9e-17
    with np.errstate(over="ignore"):
        ratio = np.maximum((s + e - c - ch) / s, 0.0)
    return restore(_finite(ratio, s, shape), shape)


def grr(start_mrr: Any, contraction: Any, churned: Any) -> Any:
    """Gross revenue retention = (start_mrr - contraction - churned) / start_mrr, a ratio in 0..1.

    Expansion never counts. Same input rules as :func:`nrr`. Vectorised; NaN propagates.
    """
    (s, c, ch), shape = combine(_start(start_mrr), _money(contraction, "contraction"), _money(churned, "churned"))
    _check_losses(s, c, ch, shape)
    return restore(np.maximum((s - c - ch) / s, 0.0), shape)


def logo_churn_rate(customers_start: Any, customers_lost: Any) -> Any:
    """Logo churn = customers_lost / customers_start (fraction of customers per period; spec "Monthly Logo Churn").

    ``customers_start`` must be > 0; ``customers_lost`` must be 0..customers_start. Vectorised; NaN propagates.
    """
    (start, lost), shape = combine(
        to_float(customers_start, "customers_start", lo=0, lo_open=True, rule="> 0 (customers at the start)"),
        to_float(customers_lost, "customers_lost", lo=0, rule=">= 0 (customers)"),
    )
    with np.errstate(invalid="ignore"):
        bad = lost > start
    if bad.any():
        raise fail("customers_lost", lost, bad, "<= customers_start", shape)
    return restore(lost / start, shape)


def revenue_churn_rate(start_mrr: Any, contraction: Any, churned: Any, expansion: Any = 0) -> Any:
    """Revenue churn = (contraction + churned - expansion) / start_mrr (fraction of MRR per period).

    With ``expansion=0`` (default) this is gross revenue churn (spec: MRR lost / MRR at start, in 0..1); with
    expansion it is net revenue churn, negative when expansion outweighs losses. Equals ``1 - nrr`` (net) or
    ``1 - grr`` (gross). Same input rules as :func:`nrr`. Vectorised; NaN propagates.
    """
    (s, c, ch, e), shape = combine(
        _start(start_mrr),
        _money(contraction, "contraction"),
        _money(churned, "churned"),
        _money(expansion, "expansion"),
    )
    _check_losses(s, c, ch, shape)
    # <= 1 by the checks above; the clip only removes float dust
    return restore(np.minimum((c + ch - e) / s, 1.0), shape)


def quick_ratio(new: Any, expansion: Any, contraction: Any, churned: Any, reactivation: Any = 0) -> Any:
    """SaaS quick ratio = (new + expansion + reactivation) / (contraction + churned), a ratio (4.0: 4 won per 1 lost).

    All inputs currency per month, >= 0. No losses: ``inf`` when something was gained (a real, excellent state),
    ``NaN`` when nothing moved at all (0 / 0 is undefined). Vectorised; NaN propagates.
    """
    (n, e, c, ch, r), shape = combine(
        _money(new, "new"),
        _money(expansion, "expansion"),
        _money(contraction, "contraction"),
        _money(churned, "churned"),
        _money(reactivation, "reactivation"),
    )
    gains, losses = n + e + r, c + ch
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = gains / losses  # x / 0 is inf for x > 0, 0 / 0 NaN (documented); a ratio past 1.8e308 is inf too
    return restore(out, shape)


# --------------------------------------------------------------------------------------------------- lifetime value


def _lifetime(churn: FloatArray, cap: float | None, shape: Shape) -> FloatArray:
    if cap is None:
        zero = churn == 0
        if zero.any():
            where = fail("churn_rate", churn, zero, "> 0", shape).detail
            why = "at zero churn the lifetime, and so LTV, is unbounded; pass max_lifetime_months (e.g. 60) to cap it"
            raise InputError(
                "churn_rate",
                0.0,
                "> 0 when max_lifetime_months is not given",
                detail="; ".join(part for part in (where, why) if part),
            )
        return 1.0 / churn
    with np.errstate(divide="ignore"):
        return np.minimum(1.0 / churn, cap)


def _cap(max_lifetime_months: Any) -> float | None:
    if max_lifetime_months is None:
        return None
    cap, _ = to_float(max_lifetime_months, "max_lifetime_months", lo=0, lo_open=True, rule="> 0 (months) or None")
    if cap.size != 1 or np.isnan(cap[0]):
        raise InputError("max_lifetime_months", max_lifetime_months, "a single number of months > 0, or None")
    return float(cap[0])


def lifetime_months(churn_rate: Any, max_lifetime_months: Any = None) -> Any:
    """Average customer lifetime in months = 1 / churn_rate, or min(1 / churn_rate, max_lifetime_months).

    ``churn_rate`` is monthly, a fraction 0..1 (spec: 1 % -> 100 months, 2 % -> 50, 3 % -> 33.3, 5 % -> 20,
    10 % -> 10). Churn 0 without a cap raises (unbounded lifetime). Vectorised; NaN propagates.
    """
    cap = _cap(max_lifetime_months)
    churn, shape = _fraction(churn_rate, "churn_rate")
    return restore(_lifetime(churn, cap, shape), shape)


def ltv(arpa: Any, gross_margin: Any, churn_rate: Any, max_lifetime_months: Any = None) -> Any:
    """Customer lifetime value = arpa x gross_margin x lifetime (currency), lifetime as in :func:`lifetime_months`.

    ``arpa``: average revenue per account, currency per month, >= 0; ``gross_margin``: fraction 0..1;
    ``churn_rate``: monthly fraction 0..1. Churn 0 raises unless ``max_lifetime_months`` caps the lifetime.
    Vectorised; NaN propagates.
    """
    cap = _cap(max_lifetime_months)
    (a, gm, churn), shape = combine(
        _money(arpa, "arpa"), _fraction(gross_margin, "gross_margin"), _fraction(churn_rate, "churn_rate")
    )
    return restore(a * gm * _lifetime(churn, cap, shape), shape)


def cac_payback(cac: Any, arpa: Any, gross_margin: Any) -> Any:
    """CAC payback = cac / (arpa x gross_margin), in months.

    ``cac``: acquisition cost per account, currency, >= 0; ``arpa``: currency per month, >= 0; ``gross_margin``:
    fraction 0..1. A zero margin contribution (arpa x gross_margin == 0) raises: the cost is never paid back.
    Vectorised; NaN propagates.
    """
    (c, a, gm), shape = combine(
        to_float(cac, "cac", lo=0, rule=">= 0 (currency per account)"),
        _money(arpa, "arpa"),
        _fraction(gross_margin, "gross_margin"),
    )
    contribution = a * gm
    zero = contribution == 0
    if zero.any():
        raise fail(
            "arpa x gross_margin",
            contribution,
            zero,
            "> 0 (with no margin contribution the acquisition cost is never paid back)",
            shape,
        )
    return restore(c / contribution, shape)
