"""csxl's revenue, MRR-table and survey worksheet functions (=NRR, =GRR, =LTV, =MRRMOVEMENTS, =COHORTGRID, =NPS ...).

The conventions are :mod:`csxl.excel.functions`' (which re-exports every function here, so both runtimes register
them from that one module).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from xlwings import func, ret

from csxl.cohorts import cohort_grr, cohort_nrr, cohort_table
from csxl.errors import InputError, TableError
from csxl.excel.cells import (
    _NOT_ERROR,
    Cells,
    ObjArray,
    _as_of,
    _blank,
    _cells,
    _clip,
    _Code,
    _elementwise,
    _error_text,
    _errors,
    _given,
    _grid,
    _guard,
    _is_header,
    _label,
    _message,
    _number,
    _text,
    _to_dates,
    _whole,
)
from csxl.excel.udf import xl_arg
from csxl.revenue import (
    MOVEMENT_COLUMNS,
    cac_payback,
    grr,
    logo_churn_rate,
    ltv,
    mrr_movements,
    nrr,
    quick_ratio,
    revenue_churn_rate,
)
from csxl.surveys import ces, csat, nps

# --------------------------------------------------------------------------------------------------------------------
# Revenue metrics (element-wise)
# --------------------------------------------------------------------------------------------------------------------

_MONEY = "{}, currency per month >= 0."


@func(category="csxl")
@xl_arg("start_mrr", "MRR at the start of the period, currency per month > 0.")
@xl_arg("expansion", _MONEY.format("Expansion MRR"))
@xl_arg("contraction", _MONEY.format("Contraction MRR"))
@xl_arg("churned", _MONEY.format("Churned MRR"))
def NRR(start_mrr: Any, expansion: Any, contraction: Any, churned: Any) -> Cells:
    """Net revenue retention = (start_mrr + expansion - contraction - churned) / start_mrr, a ratio (1.12 = 112 %)."""
    inputs = {"start_mrr": start_mrr, "expansion": expansion, "contraction": contraction, "churned": churned}
    return _guard("NRR", lambda: _elementwise(lambda a: _cells(nrr(**a)), inputs))


@func(category="csxl")
@xl_arg("start_mrr", "MRR at the start of the period, currency per month > 0.")
@xl_arg("contraction", _MONEY.format("Contraction MRR"))
@xl_arg("churned", _MONEY.format("Churned MRR"))
def GRR(start_mrr: Any, contraction: Any, churned: Any) -> Cells:
    """Gross revenue retention = (start_mrr - contraction - churned) / start_mrr, a ratio 0..1 (expansion ignored)."""
    inputs = {"start_mrr": start_mrr, "contraction": contraction, "churned": churned}
    return _guard("GRR", lambda: _elementwise(lambda a: _cells(grr(**a)), inputs))


@func(category="csxl")
@xl_arg("customers_start", "Customers at the start of the period (> 0).")
@xl_arg("customers_lost", "Customers lost in the period (0..customers_start).")
def LOGOCHURN(customers_start: Any, customers_lost: Any) -> Cells:
    """Logo churn = customers_lost / customers_start, a fraction per period (0.02 = 2 %)."""
    inputs = {"customers_start": customers_start, "customers_lost": customers_lost}
    return _guard("LOGOCHURN", lambda: _elementwise(lambda a: _cells(logo_churn_rate(**a)), inputs))


@func(category="csxl")
@xl_arg("start_mrr", "MRR at the start of the period, currency per month > 0.")
@xl_arg("contraction", _MONEY.format("Contraction MRR"))
@xl_arg("churned", _MONEY.format("Churned MRR"))
@xl_arg("expansion", "Optional. Expansion MRR: given, the churn is net (may be negative); omitted, gross.")
def REVENUECHURN(start_mrr: Any, contraction: Any, churned: Any, expansion: Any = "") -> Cells:
    """Revenue churn = (contraction + churned - expansion) / start_mrr, a fraction per period (gross w/o expansion)."""
    inputs = {"start_mrr": start_mrr, "contraction": contraction, "churned": churned, **_given(expansion=expansion)}
    return _guard("REVENUECHURN", lambda: _elementwise(lambda a: _cells(revenue_churn_rate(**a)), inputs))


_NO_LOSSES = "no losses: quick ratio unbounded"
_NO_MOVEMENT = "no movement: quick ratio undefined (0/0)"


def _quick(a: dict[str, Any]) -> ObjArray:
    values = np.asarray(quick_ratio(**a), dtype=np.float64).reshape(-1)
    blank = np.zeros(values.shape, dtype=bool)
    for v in a.values():
        blank = blank | _blank(v)  # a single cell broadcasts
    out = _cells(values)
    out[np.isinf(values)] = _NO_LOSSES
    out[np.isnan(values) & ~blank] = _NO_MOVEMENT
    return out


@func(category="csxl")
@xl_arg("new", _MONEY.format("New MRR"))
@xl_arg("expansion", _MONEY.format("Expansion MRR"))
@xl_arg("contraction", _MONEY.format("Contraction MRR"))
@xl_arg("churned", _MONEY.format("Churned MRR"))
@xl_arg("reactivation", "Optional. Reactivated MRR, currency per month >= 0 (default 0).")
def QUICKRATIO(new: Any, expansion: Any, contraction: Any, churned: Any, reactivation: Any = "") -> Cells:
    """SaaS quick ratio = (new + expansion + reactivation) / (contraction + churned), a ratio (4 = 4 won per 1 lost).

    No losses: the text "no losses: quick ratio unbounded"; nothing moved at all: "no movement ... (0/0)".
    """
    inputs = {
        "new": new,
        "expansion": expansion,
        "contraction": contraction,
        "churned": churned,
        **_given(reactivation=reactivation),
    }
    return _guard("QUICKRATIO", lambda: _elementwise(_quick, inputs))


@func(category="csxl")
@xl_arg("arpa", "Average revenue per account, currency per month >= 0.")
@xl_arg("gross_margin", "Gross margin, a fraction 0..1 (0.8 = 80 %).")
@xl_arg("churn_rate", "Monthly churn rate, a fraction 0..1 (0.02 = 2 %).")
@xl_arg("max_lifetime_months", "Optional. Cap on the lifetime in months (needed when churn is 0), e.g. 60.")
def LTV(arpa: Any, gross_margin: Any, churn_rate: Any, max_lifetime_months: Any = "") -> Cells:
    """Customer lifetime value = arpa * gross_margin / churn_rate (currency); lifetime 1 / churn capped if asked."""

    def body() -> Cells:
        cap = _number(max_lifetime_months, "max_lifetime_months")
        inputs = {"arpa": arpa, "gross_margin": gross_margin, "churn_rate": churn_rate}
        return _elementwise(lambda a: _cells(ltv(**a, max_lifetime_months=cap)), inputs)

    return _guard("LTV", body)


@func(category="csxl")
@xl_arg("cac", "Customer acquisition cost per account, currency >= 0.")
@xl_arg("arpa", "Average revenue per account, currency per month >= 0.")
@xl_arg("gross_margin", "Gross margin, a fraction 0..1.")
def CACPAYBACK(cac: Any, arpa: Any, gross_margin: Any) -> Cells:
    """CAC payback = cac / (arpa * gross_margin), in months."""
    inputs = {"cac": cac, "arpa": arpa, "gross_margin": gross_margin}
    return _guard("CACPAYBACK", lambda: _elementwise(lambda a: _cells(cac_payback(**a)), inputs))


# --------------------------------------------------------------------------------------------------------------------
# MRR table functions
# --------------------------------------------------------------------------------------------------------------------

_MRR_COLUMNS = ("account", "month", "mrr")
_MRR_DOC = (
    "The MRR table: columns account, month, mrr (a header row naming them, or exactly these 3 columns); one row per "
    "account and month, MRR in currency per month."
)
_AS_OF_DOC = "Optional. The as-of month (a date in it, or 'YYYY-MM' text); blank = the table's last month."


def _mrr_table(x: Any) -> pd.DataFrame:
    """The MRR range as the core's long table; blank rows dropped, serial-number months turned into dates.

    A bad cell raises an :class:`InputError` naming its row in the range (1 = the range's first row).
    """
    grid = _grid(x)
    header = _is_header(grid[0], _MRR_COLUMNS)
    if header:
        labels = [_label(v) if v is not None else "" for v in grid[0]]
        missing = [c for c in _MRR_COLUMNS if c not in labels]
        if missing:
            shown = ", ".join(str(v) for v in grid[0] if v is not None)
            raise InputError("mrr header", shown, "a row naming account, month, mrr", detail=f"missing: {missing[0]}")
        picked = grid[1:, [labels.index(c) for c in _MRR_COLUMNS]]
        first_row = 2
    elif grid.shape[1] == len(_MRR_COLUMNS):
        picked, first_row = grid, 1
    else:
        raise InputError("mrr", f"{grid.shape[1]} column(s)", "3 columns (account, month, mrr) or a header row")
    keep = ~_blank(picked).all(axis=1)
    range_rows = np.flatnonzero(keep) + first_row
    picked = picked[keep]
    errors = _errors(picked)
    if errors.any():
        r, c = np.argwhere(errors)[0]
        raise InputError(f"mrr row {range_rows[r]}, {_MRR_COLUMNS[c]}", _Code(picked[r, c]), _NOT_ERROR)
    picked[:, 1] = _to_dates(picked[:, 1])
    table: pd.DataFrame = pd.DataFrame(picked, columns=list(_MRR_COLUMNS), dtype=object)
    table.attrs["range_rows"] = range_rows
    return table


def _table_call(table: pd.DataFrame, call: Callable[[], Any]) -> Any:
    """Run a core call on an MRR table; a :class:`TableError` is retold with the range's own row numbers."""
    try:
        return call()
    except TableError as err:
        rows = table.attrs["range_rows"]
        first = err.issues[0]
        more = len(err.issues) - 1
        raise InputError(
            f"mrr row {rows[first.row - 1]}, {first.column}",
            first.value,
            first.rule,
            detail=f"and {more} more problem(s)" if more else "",
        ) from None


def _cohort_metric(name: str, metric: Callable[..., float], mrr: Any, as_of: Any, months: Any) -> Cells:
    def body() -> Cells:
        n = _whole(months, "months", default=12, lo=1)
        when = _as_of(as_of)
        table = _mrr_table(mrr)
        return [[_table_call(table, lambda: metric(table, when, n))]]

    return _guard(name, body)


@func(category="csxl")
@xl_arg("mrr", _MRR_DOC)
@xl_arg("as_of", _AS_OF_DOC)
@xl_arg("months", "Optional. Months back to the base month (default 12).")
def COHORTNRR(mrr: Any, as_of: Any = "", months: Any = "") -> Cells:
    """Trailing NRR of the customers paying `months` months before as_of: their MRR now / their MRR then (a ratio)."""
    return _cohort_metric("COHORTNRR", cohort_nrr, mrr, as_of, months)


@func(category="csxl")
@xl_arg("mrr", _MRR_DOC)
@xl_arg("as_of", _AS_OF_DOC)
@xl_arg("months", "Optional. Months back to the base month (default 12).")
def COHORTGRR(mrr: Any, as_of: Any = "", months: Any = "") -> Cells:
    """Trailing GRR: sum of min(MRR now, MRR then) / MRR then over the base customers, a ratio 0..1."""
    return _cohort_metric("COHORTGRR", cohort_grr, mrr, as_of, months)


def _dates(index: pd.Index) -> ObjArray:
    return np.asarray(pd.DatetimeIndex(index).to_pydatetime(), dtype=object)


@func(category="csxl")
@xl_arg("mrr", _MRR_DOC)
@xl_arg("as_of", "Optional. Last month to show (a date in it, or 'YYYY-MM' text); blank = the table's last month.")
@ret(date_format="yyyy-mm-dd")
def MRRMOVEMENTS(mrr: Any, as_of: Any = "") -> Cells:
    """Monthly MRR bridge, spilled with a header row: start + new + expansion - contraction - churned + reactivation
    = end (currency per month), and customer counts. One row per month."""

    def body() -> Cells:
        when = _as_of(as_of)
        table = _mrr_table(mrr)
        moves = _table_call(table, lambda: mrr_movements(table, when))
        columns = [_dates(moves.index), *(_cells(moves[c].to_numpy()) for c in MOVEMENT_COLUMNS)]
        rows: Cells = np.column_stack(columns).tolist() if len(moves) else []
        return [["month", *MOVEMENT_COLUMNS], *rows]

    return _guard("MRRMOVEMENTS", body)


@func(category="csxl")
@xl_arg("mrr", _MRR_DOC)
@xl_arg("basis", "Optional. logo (share of customers still paying, default) or revenue (MRR vs month 0, net).")
@xl_arg("as_of", "Optional. Last month to include; blank = the table's last month.")
@ret(date_format="yyyy-mm-dd")
def COHORTGRID(mrr: Any, basis: Any = "", as_of: Any = "") -> Cells:
    """Cohort retention grid, spilled with a header row: one row per start month, one column per month since start.

    Values are shares (1 = 100 %); month 0 is 1; cells after the last month are blank (not yet known), never 0.
    """

    def body() -> Cells:
        how = _text(basis, "basis") or "logo"
        when = _as_of(as_of)
        table = _mrr_table(mrr)
        grid = _table_call(table, lambda: cohort_table(table, how, when))
        header: list[Any] = ["cohort", *(int(c) for c in grid.columns)]
        if not len(grid):
            return [header]
        shares = _cells(grid.to_numpy(dtype=np.float64)).reshape(grid.shape)
        rows: Cells = np.column_stack([_dates(grid.index), shares]).tolist()
        return [header, *rows]

    return _guard("COHORTGRID", body)


# --------------------------------------------------------------------------------------------------------------------
# Surveys (one number for a whole range)
# --------------------------------------------------------------------------------------------------------------------


def _survey(name: str, field: str, metric: Callable[[ObjArray], float], scores: Any) -> Cells:
    def body() -> Cells:
        cells = _grid(scores)
        errors = _errors(cells)
        if errors.any():
            r, c = np.argwhere(errors)[0]
            where = f"at row {r + 1}, column {c + 1} of the range"
            return [[_clip(_error_text(field, cells[r, c], detail=where))]]
        try:
            return [[metric(cells.reshape(-1))]]
        except InputError as err:
            return [[_message(err, width=cells.shape[1])]]

    return _guard(name, body)


@func(category="csxl")
@xl_arg("scores", "NPS answers, whole numbers 0..10 (any range; blanks are skipped).")
def NPS(scores: Any) -> Cells:
    """Net Promoter Score in points -100..100 = 100 * (promoters 9-10 - detractors 0-6) / answers."""
    return _survey("NPS", "nps scores", nps, scores)


@func(category="csxl")
@xl_arg("scores", "CSAT answers, whole numbers 1..scale (blanks are skipped).")
@xl_arg("scale", "Optional. Points on the answer scale (default 5).")
def CSAT(scores: Any, scale: Any = "") -> Cells:
    """CSAT in percent 0..100 = 100 * answers in the top two boxes (4-5 of 5) / answers."""
    return _guard("CSAT", lambda: _survey("CSAT", "csat scores", _scaled(csat, scale, 5), scores))


@func(category="csxl")
@xl_arg("scores", "CES answers, whole numbers 1..scale (blanks are skipped).")
@xl_arg("scale", "Optional. Points on the answer scale (default 7).")
def CES(scores: Any, scale: Any = "") -> Cells:
    """Customer effort score = the mean answer on the 1..7 scale (higher = easier)."""
    return _guard("CES", lambda: _survey("CES", "ces scores", _scaled(ces, scale, 7), scores))


def _scaled(metric: Callable[..., float], scale: Any, default: int) -> Callable[[ObjArray], float]:
    points = _whole(scale, "scale", default=default, lo=3)
    return lambda values: metric(values, scale=points)
