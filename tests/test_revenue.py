"""MRR movements, period rates and the revenue metrics (NRR, GRR, churn rates, quick ratio, LTV, CAC payback).

Every expected number is worked out by hand in a comment next to it, taken from the spec
(/work/shared/spec/customer-success-*.md), or produced by the independent row-by-row engine below.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csxl.errors import InputError, TableError
from csxl.revenue import (
    MOVEMENT_COLUMNS,
    cac_payback,
    grr,
    lifetime_months,
    logo_churn_rate,
    ltv,
    mrr_matrix,
    mrr_movements,
    nrr,
    period_rates,
    quick_ratio,
    revenue_churn_rate,
)

MONEY = ["start_mrr", "new", "expansion", "contraction", "churned", "reactivation", "end_mrr"]
COUNTS = ["customers_start", "customers_new", "customers_churned", "customers_reactivated", "customers_end"]


def worked_example() -> pd.DataFrame:
    """The worked example of docs/revenue.md: five accounts, Jan..May 2024, every movement kind.

    A: 100, 120, 120, 90, 90      (new Jan, expansion Feb, contraction Apr)
    B: 50, -, -, 60, 60           (new Jan, churn Feb: no rows Feb/Mar = gap = 0, reactivation Apr)
    C: -, 150+50, 200, 0, -       (new Feb given as two subscription rows, churn Apr via an explicit 0 row)
    D: -, -, 80 (2024-03-17), -, 100   (mid-month date, churn Apr by gap, reactivation May)
    E: -, -, -, -, 30 (Timestamp 2024-05-31 23:00)  (new May)
    """
    rows = [
        ("A", "2024-01", 100),
        ("A", "2024-02", 120),
        ("A", "2024-03", 120),
        ("A", "2024-04", 90),
        ("A", "2024-05", 90),
        ("B", "2024-01", 50),
        ("B", "2024-04", 60),
        ("B", "2024-05", 60),
        ("C", "2024-02", 150),
        ("C", "2024-02-28", 50),
        ("C", "2024-03", 200),
        ("C", "2024-04", 0),
        ("D", dt.date(2024, 3, 17), 80),
        ("D", "2024-05", 100),
        ("E", pd.Timestamp("2024-05-31 23:00"), 30),
    ]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=["account", "month", "mrr"])
    return frame


# Hand calculation, month by month (prev -> cur per account):
# Jan: start 0; A 0->100 new, B 0->50 new                      -> new 150, end 150
# Feb: start 150; A 100->120 exp 20; B 50->0 churn 50; C 0->200 new -> end 120+200 = 320
#      check 150 + 200 + 20 - 0 - 50 + 0 = 320
# Mar: start 320; A, C flat; D 0->80 new                        -> end 120+200+80 = 400
# Apr: start 400; A 120->90 contraction 30; B 0->60 reactivation; C 200->0 churn; D 80->0 churn
#      churned 200+80 = 280; end 90+60 = 150; check 400 - 30 - 280 + 60 = 150
# May: start 150; D 0->100 reactivation; E 0->30 new            -> end 90+60+100+30 = 280
EXPECTED = {
    #            start  new  exp  con  churn react  end  | c_start new churned react end
    "2024-01": (0, 150, 0, 0, 0, 0, 150, 0, 2, 0, 0, 2),
    "2024-02": (150, 200, 20, 0, 50, 0, 320, 2, 1, 1, 0, 2),
    "2024-03": (320, 80, 0, 0, 0, 0, 400, 2, 1, 0, 0, 3),
    "2024-04": (400, 0, 0, 30, 280, 60, 150, 3, 0, 2, 1, 2),
    "2024-05": (150, 30, 0, 0, 0, 100, 280, 2, 1, 0, 1, 4),
}


@pytest.mark.parametrize(("month", "expected"), list(EXPECTED.items()))
def test_worked_example_movements(month: str, expected: tuple[int, ...]) -> None:
    got = mrr_movements(worked_example()).loc[pd.Timestamp(month)]
    # hand calculation above; whole currency units, so exact (abs=1e-9)
    assert got[MONEY].to_list() == pytest.approx(list(expected[:7]), abs=1e-9)
    assert got[COUNTS].astype(int).to_list() == list(expected[7:])


def test_movements_shape_index_and_dtypes() -> None:
    out = mrr_movements(worked_example())
    assert list(out.columns) == list(MOVEMENT_COLUMNS)
    # five months Jan..May 2024, as month-start Timestamps
    assert list(out.index) == list(pd.date_range("2024-01-01", periods=5, freq="MS"))
    assert out.index.name == "month"
    assert all(out[c].dtype == np.int64 for c in COUNTS)
    assert all(out[c].dtype == np.float64 for c in MONEY)


def test_mrr_matrix_fills_gaps_with_zero_and_sums_duplicates() -> None:
    m = mrr_matrix(worked_example())
    # C's Feb = 150 + 50 (two subscription rows); B's Feb and Mar have no row -> 0; D's 2024-03-17 lands in March
    assert m.loc["C", pd.Timestamp("2024-02-01")] == pytest.approx(200, abs=1e-9)
    assert m.loc["B", [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]].to_list() == [0.0, 0.0]
    assert m.loc["D", pd.Timestamp("2024-03-01")] == pytest.approx(80, abs=1e-9)
    assert list(m.index) == ["A", "B", "C", "D", "E"]  # order of first appearance
    assert m.shape == (5, 5)


def test_as_of_cuts_the_range_and_ignores_later_rows() -> None:
    full = mrr_movements(worked_example())
    cut = mrr_movements(worked_example(), as_of=pd.Timestamp("2024-03-20"))  # any date in March
    # the first three months do not depend on later data: same numbers as the full run (independent computation)
    pd.testing.assert_frame_equal(cut, full.iloc[:3])


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2024-06", "as_of must be a month with data (the last month in the MRR table is 2024-05), got '2024-06'"),
        ("2023-12", "as_of must be on or after the first month of the MRR table (2024-01), got '2023-12'"),
        ("soon", "as_of must be a month (YYYY-MM, YYYY-MM-DD, a date cell or an Excel serial number), got 'soon'"),
    ],
)
def test_bad_as_of(as_of: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        mrr_movements(worked_example(), as_of=as_of)
    assert message in str(info.value)


def test_first_month_is_all_new() -> None:
    out = mrr_movements(pd.DataFrame({"account": ["A", "B"], "month": ["2024-01", "2024-01"], "mrr": [10, 5]}))
    # single month: start 0 (nothing known before), all 10 + 5 = 15 is new, 2 new customers
    assert out.shape[0] == 1
    row = out.iloc[0]
    assert row[MONEY].to_list() == pytest.approx([0, 15, 0, 0, 0, 0, 15], abs=1e-12)
    assert row[COUNTS].astype(int).to_list() == [0, 2, 0, 0, 2]


def test_all_churned() -> None:
    mrr = pd.DataFrame(
        {"account": ["A", "B", "A", "B"], "month": ["2024-01"] * 2 + ["2024-02"] * 2, "mrr": [10, 30, 0, 0]}
    )
    feb = mrr_movements(mrr).iloc[1]
    # Feb: start 10 + 30 = 40, both reach 0 -> churned 40, end 0; 2 customers lost of 2
    assert feb[MONEY].to_list() == pytest.approx([40, 0, 0, 0, 40, 0, 0], abs=1e-12)
    assert feb[COUNTS].astype(int).to_list() == [2, 0, 2, 0, 0]
    rates = period_rates(mrr_movements(mrr)).iloc[1]
    # NRR = GRR = (40 - 40) / 40 = 0; logo churn 2 / 2 = 1; quick ratio 0 / 40 = 0
    assert (rates["nrr"], rates["grr"], rates["logo_churn_rate"], rates["quick_ratio"]) == pytest.approx(
        (0.0, 0.0, 1.0, 0.0), abs=1e-12
    )


def test_zero_rows_only() -> None:
    mrr = pd.DataFrame({"account": ["A", "A"], "month": ["2024-01", "2024-02"], "mrr": [0, 0]})
    out = mrr_movements(mrr)
    # nobody ever paid: two months of zeros (rows with MRR 0 still define the month range)
    assert out.shape == (2, 12)
    assert out.to_numpy().sum() == 0


def test_empty_table_gives_empty_result() -> None:
    out = mrr_movements(pd.DataFrame({"account": [], "month": [], "mrr": []}))
    assert out.empty
    assert list(out.columns) == list(MOVEMENT_COLUMNS)
    assert period_rates(out).empty


def test_identity_is_exact_in_cents() -> None:
    # 0.10 -> 0.30 -> 19.99: in float 0.3 - 0.1 = 0.19999999999999998, but whole-cent input is summed in integer cents
    mrr = pd.DataFrame({"account": ["A"] * 3, "month": ["2024-01", "2024-02", "2024-03"], "mrr": [0.1, 0.3, 19.99]})
    out = mrr_movements(mrr)
    # hand: Feb expansion 30 - 10 = 20 cents = 0.2; Mar expansion 1999 - 30 = 1969 cents = 19.69 (exact: abs=0)
    assert out["expansion"].to_list() == [0.0, 0.2, 19.69]
    cents = (out[MONEY] * 100).round().astype(np.int64)
    lhs = cents.start_mrr + cents.new + cents.expansion - cents.contraction - cents.churned + cents.reactivation
    assert (lhs == cents.end_mrr).all()


def test_fractional_cents_fall_back_to_float() -> None:
    third = 100 / 3
    mrr = pd.DataFrame({"account": ["A", "A"], "month": ["2024-01", "2024-02"], "mrr": [third, 2 * third]})
    feb = mrr_movements(mrr).iloc[1]
    # hand: expansion = 2/3 * 100 - 1/3 * 100 = 33.333...; float arithmetic, so rel=1e-12
    assert feb["expansion"] == pytest.approx(third, rel=1e-12)
    assert feb["end_mrr"] == pytest.approx(2 * third, rel=1e-12)


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        ("2024-03", "2024-03-01"),
        ("2024-3", "2024-03-01"),
        (" 2024-03-31 ", "2024-03-01"),
        ("2024-03-31T23:59:59", "2024-03-01"),
        (dt.date(2024, 3, 9), "2024-03-01"),
        (dt.datetime(2024, 3, 9, 12, 0), "2024-03-01"),
        (pd.Timestamp("2024-03-15"), "2024-03-01"),
        (np.datetime64("2024-03-15"), "2024-03-01"),
        (pd.Period("2024-03", "M"), "2024-03-01"),
        (pd.Period("2024-03-15", "D"), "2024-03-01"),
        # local time is kept: 23:30 on 31 Jan in Los Angeles is still January (it is February in UTC)
        (pd.Timestamp("2024-01-31 23:30", tz="America/Los_Angeles"), "2024-01-01"),
    ],
)
def test_month_normalisation(month: Any, expected: str) -> None:
    out = mrr_movements(pd.DataFrame({"account": ["A"], "month": [month], "mrr": [1.0]}))
    assert list(out.index) == [pd.Timestamp(expected)]


def test_datetime_and_period_columns() -> None:
    days = pd.Series(pd.to_datetime(["2024-01-05", "2024-02-20"]))
    periods = pd.Series(pd.period_range("2024-01", periods=2, freq="M"))
    for col in (days, periods):
        out = mrr_movements(pd.DataFrame({"account": ["A", "A"], "month": col, "mrr": [1.0, 2.0]}))
        # Jan new 1, Feb expansion 2 - 1 = 1
        assert out["expansion"].to_list() == pytest.approx([0, 1], abs=1e-12)
        assert list(out.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]


def test_bad_rows_are_all_reported() -> None:
    mrr = pd.DataFrame(
        {
            "account": ["A", "B", "  ", None, "E"],
            "month": ["2024-01", "03/04/2024", "2024-13", "2024-01", pd.Period("2024Q1", "Q")],
            "mrr": [-5, "abc", True, None, 1],
        }
    )
    with pytest.raises(TableError) as info:
        mrr_movements(mrr)
    text = str(info.value)
    assert "MRR: 9 problem(s) in 5 row(s)" in text  # 1 + 2 + 3 + 2 + 1 bad cells in rows 1..5
    assert "MRR row 1, mrr: must be a number >= 0" in text
    assert "got -5" in text
    assert (
        "MRR row 2, month: must be a month (YYYY-MM, YYYY-MM-DD, a date cell or an Excel serial number), "
        "got '03/04/2024'" in text
    )  # day/month ambiguous
    assert "MRR row 2, mrr:" in text
    assert "got 'abc'" in text
    assert "MRR row 3, account: must be an account name (not blank), got '  '" in text
    assert "MRR row 3, month:" in text
    assert "got '2024-13'" in text
    assert "MRR row 3, mrr:" in text
    assert "got True" in text
    assert "MRR row 4, account:" in text  # blank account and blank MRR
    assert "MRR row 4, mrr:" in text
    assert "MRR row 5, month:" in text  # a quarter is not a month
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize("bad", [float("inf"), -0.01, float("nan")])
def test_bad_numeric_mrr(bad: float) -> None:
    with pytest.raises(TableError, match="MRR row 2, mrr"):
        mrr_movements(pd.DataFrame({"account": ["A", "A"], "month": ["2024-01", "2024-02"], "mrr": [1.0, bad]}))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"account": ["A"], "mrr": [1]}), "mrr must be a DataFrame with columns account, month, mrr"),
        (pd.DataFrame({"Account": ["A"], "Month": ["2024-01"], "MRR": [1]}), "missing: account, month, mrr"),
        ([("A", "2024-01", 1)], "mrr must be a DataFrame with columns account, month, mrr, got 'list'"),
    ],
)
def test_missing_columns(table: Any, message: str) -> None:
    with pytest.raises(InputError) as info:
        mrr_movements(table)
    assert message in str(info.value)


# --------------------------------------------------------------------------------------------------- period rates


def test_period_rates_of_worked_example() -> None:
    rates = period_rates(mrr_movements(worked_example()))
    # Jan: start 0 -> NaN ratios; quick ratio 150 / 0 = inf
    # Feb: nrr (150 + 20 - 0 - 50) / 150 = 0.8; grr (150 - 50) / 150 = 0.6667; logo 1 / 2; quick (200 + 20) / 50 = 4.4
    # Mar: nothing lost: nrr = grr = 1, logo 0, quick 80 / 0 = inf
    # Apr: nrr = grr = (400 - 30 - 280) / 400 = 0.225; logo 2 / 3; quick 60 / 310 = 0.193548...
    # May: nrr = grr = 1; quick inf
    expected = {
        "nrr": [np.nan, 0.8, 1.0, 0.225, 1.0],
        "grr": [np.nan, 100 / 150, 1.0, 0.225, 1.0],
        "logo_churn_rate": [np.nan, 0.5, 0.0, 2 / 3, 0.0],
        "revenue_churn_rate": [np.nan, 50 / 150, 0.0, 310 / 400, 0.0],
        "net_revenue_churn_rate": [np.nan, 30 / 150, 0.0, 310 / 400, 0.0],
        "quick_ratio": [np.inf, 4.4, np.inf, 60 / 310, np.inf],
    }
    for col, want in expected.items():
        assert rates[col].to_list() == pytest.approx(want, abs=1e-12, nan_ok=True), col


def test_period_rates_needs_movement_columns() -> None:
    with pytest.raises(InputError, match="missing: start_mrr"):
        period_rates(pd.DataFrame({"x": [1]}))


# --------------------------------------------------------------------------------------------------- metrics


def test_nrr_spec_formula_example() -> None:
    # spec: NRR = (Start MRR + Expansion - Contraction - Churn) / Start MRR x 100 (we return the ratio)
    # hand: start 100,000, expansion 15,000, contraction 3,000, churn 5,000 -> 107,000 / 100,000 = 1.07 (107 %)
    assert nrr(100_000, 15_000, 3_000, 5_000) == pytest.approx(1.07, abs=1e-12)
    # GRR: (100,000 - 3,000 - 5,000) / 100,000 = 0.92
    assert grr(100_000, 3_000, 5_000) == pytest.approx(0.92, abs=1e-12)
    # gross revenue churn (spec: MRR lost / MRR at start): 8,000 / 100,000 = 0.08
    assert revenue_churn_rate(100_000, 3_000, 5_000) == pytest.approx(0.08, abs=1e-12)
    # net revenue churn (spec: (MRR lost - expansion) / start): (8,000 - 15,000) / 100,000 = -0.07 = 1 - NRR
    assert revenue_churn_rate(100_000, 3_000, 5_000, expansion=15_000) == pytest.approx(-0.07, abs=1e-12)
    # quick ratio: (new 20,000 + expansion 15,000) / (3,000 + 5,000) = 4.375
    assert quick_ratio(20_000, 15_000, 3_000, 5_000) == pytest.approx(4.375, abs=1e-12)


def test_logo_churn_rate() -> None:
    # spec: Monthly Logo Churn = Customers Lost / Customers at Start: 6 / 200 = 0.03
    assert logo_churn_rate(200, 6) == pytest.approx(0.03, abs=1e-15)


def test_metrics_are_vectorised_and_keep_the_index() -> None:
    idx = pd.Index(["x", "y", "z"], name="segment")
    start = pd.Series([100.0, 200.0, 50.0], index=idx)
    out = nrr(start, [10, 0, 0], [0, 20, 0], [0, 0, 50])
    # hand: x (100 + 10) / 100 = 1.1; y (200 - 20) / 200 = 0.9; z (50 - 50) / 50 = 0
    assert isinstance(out, pd.Series)
    assert out.index.equals(idx)
    assert out.to_list() == pytest.approx([1.1, 0.9, 0.0], abs=1e-12)
    arr = grr(np.array([100.0, 200.0]), 10, 0)
    # hand: (100 - 10) / 100 = 0.9; (200 - 10) / 200 = 0.95
    assert isinstance(arr, np.ndarray)
    assert arr.tolist() == pytest.approx([0.9, 0.95], abs=1e-12)
    assert isinstance(nrr(100, 0, 0, 0), float)
    # 1,000,000 at once
    big = nrr(np.full(1_000_000, 100.0), 5.0, 1.0, 2.0)
    assert big.shape == (1_000_000,)
    assert big[0] == pytest.approx(1.02, abs=1e-12)  # (100 + 5 - 1 - 2) / 100


def test_missing_values_propagate() -> None:
    out = nrr([100, None], [0, 0], [0, 0], [0, 0])
    assert out[0] == pytest.approx(1.0, abs=1e-15)  # (100 + 0 - 0 - 0) / 100
    assert np.isnan(out[1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nrr(0, 0, 0, 0), "start_mrr must be > 0"),
        (lambda: grr(0, 0, 0), "start_mrr must be > 0"),
        (lambda: nrr(100, -1, 0, 0), "expansion must be >= 0"),
        (lambda: grr(100, 0, -1), "churned must be >= 0"),
        (lambda: nrr(100, 0, 60, 50), "contraction + churned must be <= start_mrr"),
        (lambda: grr([100, 10], [0, 5], [0, 6]), "contraction + churned must be <= start_mrr"),
        (lambda: revenue_churn_rate(100, 60, 50), "contraction + churned must be <= start_mrr"),
        (lambda: nrr("lots", 0, 0, 0), "start_mrr must be a number"),
        (lambda: logo_churn_rate(0, 0), "customers_start must be > 0"),
        (lambda: logo_churn_rate(10, 11), "customers_lost must be <= customers_start, got 11"),
        (lambda: quick_ratio(1, 1, -1, 0), "contraction must be >= 0"),
        # one broadcasting rule for every metric (csxl.vectors.combine; revenue had its own wording)
        (lambda: nrr([1, 2, 3], [1, 2], 0, 0), "argument lengths must be equal (or 1 for a single value)"),
        (
            lambda: nrr(pd.Series([1.0], index=["a"]), pd.Series([1.0], index=["b"]), 0, 0),
            "Series arguments must be on one index",
        ),
    ],
)
def test_metric_errors(call: Any, message: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert message in str(info.value)


def test_float_dust_is_not_an_inconsistency() -> None:
    # 0.1 + 0.2 > 0.3 in binary floating point; losing all of 0.3 is consistent: GRR = NRR = 0 exactly
    assert grr(0.3, 0.1, 0.2) == 0.0
    assert nrr(0.3, 0.0, 0.1, 0.2) == 0.0


@pytest.mark.parametrize(
    ("new", "expansion", "contraction", "churned", "expected"),
    [
        (10, 0, 0, 0, float("inf")),  # gains 10, no losses: documented as inf
        (0, 0, 0, 0, float("nan")),  # nothing moved: 0 / 0 undefined, documented as NaN
        (0, 0, 5, 5, 0.0),  # hand: 0 / 10
        (30, 10, 5, 5, 4.0),  # hand: (30 + 10) / (5 + 5)
    ],
)
def test_quick_ratio_edges(new: float, expansion: float, contraction: float, churned: float, expected: float) -> None:
    assert quick_ratio(new, expansion, contraction, churned) == pytest.approx(expected, abs=1e-12, nan_ok=True)


def test_quick_ratio_counts_reactivation() -> None:
    # hand: (new 10 + expansion 0 + reactivation 10) / (churned 5) = 4
    assert quick_ratio(10, 0, 0, 5, reactivation=10) == pytest.approx(4.0, abs=1e-12)


# --------------------------------------------------------------------------------------------------- LTV


@pytest.mark.parametrize(
    ("churn", "months"),
    [
        # spec (customer-success-agent, "Monthly churn to LTV"): 1 % = 100 mo, 2 % = 50, 3 % = 33 (1/0.03 = 33.33),
        # 5 % = 20, 10 % = 10; formula lifetime = 1 / churn
        (0.01, 100.0),
        (0.02, 50.0),
        (0.03, 100 / 3),
        (0.05, 20.0),
        (0.10, 10.0),
    ],
)
def test_lifetime_table_from_spec(churn: float, months: float) -> None:
    assert lifetime_months(churn) == pytest.approx(months, rel=1e-12)


def test_lifetime_three_percent_rounds_to_spec_33() -> None:
    assert round(lifetime_months(0.03)) == 33  # spec prints "3% = 33mo"


def test_lifetime_vectorised() -> None:
    out = lifetime_months(pd.Series([0.01, 0.02, 0.10], index=["smb", "mid", "ent"]))
    assert out.to_list() == pytest.approx([100, 50, 10], rel=1e-12)  # spec table
    assert list(out.index) == ["smb", "mid", "ent"]


@pytest.mark.parametrize(
    ("arpa", "margin", "churn", "cap", "expected"),
    [
        (500, 0.8, 0.02, None, 20_000.0),  # hand: 500 x 0.8 x (1 / 0.02 = 50) = 20,000
        (500, 0.8, 0.01, 60, 24_000.0),  # hand: lifetime min(100, 60) = 60 -> 500 x 0.8 x 60 = 24,000
        (500, 0.8, 0.05, 60, 8_000.0),  # hand: min(20, 60) = 20 -> 500 x 0.8 x 20 = 8,000
        (500, 0.8, 0.0, 60, 24_000.0),  # hand: churn 0 with a cap: lifetime 60 -> 24,000
        (0, 0.8, 0.02, None, 0.0),  # hand: arpa 0 -> 0
        (1_000, 0.75, 0.03, None, 25_000.0),  # hand: 1,000 x 0.75 x 33.33 = 25,000
    ],
)
def test_ltv(arpa: float, margin: float, churn: float, cap: float | None, expected: float) -> None:
    assert ltv(arpa, margin, churn, max_lifetime_months=cap) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ltv(500, 0.8, 0), "churn_rate must be > 0 when max_lifetime_months is not given"),
        (lambda: ltv(500, 0.8, 0), "pass max_lifetime_months"),
        (lambda: lifetime_months([0.1, 0]), "at position 1"),
        (lambda: ltv(500, 80, 0.02), "gross_margin must be 0..1 (a fraction: 0.8 means 80 %), got 80"),
        (lambda: ltv(500, 0.8, 2), "churn_rate must be 0..1"),
        (lambda: ltv(-1, 0.8, 0.02), "arpa must be >= 0"),
        (lambda: ltv(500, 0.8, 0.02, max_lifetime_months=0), "max_lifetime_months must be > 0"),
        (lambda: ltv(500, 0.8, 0.02, max_lifetime_months=[1, 2]), "max_lifetime_months must be a single number"),
        (lambda: cac_payback(6_000, 500, 0), "arpa x gross_margin must be > 0"),
        (lambda: cac_payback(6_000, 0, 0.8), "never paid back"),
        (lambda: cac_payback(-1, 500, 0.8), "cac must be >= 0"),
    ],
)
def test_ltv_and_payback_errors(call: Any, message: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert message in str(info.value)


def test_cac_payback() -> None:
    # hand: 6,000 / (500 x 0.8 = 400 a month) = 15 months
    assert cac_payback(6_000, 500, 0.8) == pytest.approx(15.0, rel=1e-12)
    # hand: [1,200 / (100 x 0.5) = 24, 0 / 50 = 0]
    assert cac_payback([1_200, 0], 100, 0.5).tolist() == pytest.approx([24.0, 0.0], rel=1e-12)


# --------------------------------------------------------------------------------------------------- properties


def reference_movements(mrr: pd.DataFrame) -> dict[pd.Period, dict[str, Decimal]]:
    """Independent engine: plain Python, one account-month at a time, exact decimal arithmetic.

    Written from the definitions in the brief, sharing no code with csxl: months via ``pd.Period``, duplicates
    summed in a dict, classification with if/elif per account.
    """
    table: dict[Any, dict[pd.Period, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for account, month, value in mrr.itertuples(index=False):
        ts = pd.Timestamp(month)
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        table[account][pd.Period(ts, freq="M")] += Decimal(str(value))
    months = sorted({p for series in table.values() for p in series})
    out: dict[pd.Period, dict[str, Decimal]] = {}
    seen: set[Any] = set()
    month = months[0]
    while month <= months[-1]:
        row = dict.fromkeys(MONEY + COUNTS, Decimal(0))
        for account, series in table.items():
            prev = series.get(month - 1, Decimal(0))
            cur = series.get(month, Decimal(0))
            row["start_mrr"] += prev
            row["end_mrr"] += cur
            row["customers_start"] += prev > 0
            row["customers_end"] += cur > 0
            if prev == 0 and cur > 0:
                if account in seen:
                    row["reactivation"] += cur
                    row["customers_reactivated"] += 1
                else:
                    row["new"] += cur
                    row["customers_new"] += 1
            elif prev > 0 and cur == 0:
                row["churned"] += prev
                row["customers_churned"] += 1
            elif prev > 0 and cur > prev:
                row["expansion"] += cur - prev
            elif prev > 0 and cur < prev:
                row["contraction"] += prev - cur
            if cur > 0:
                seen.add(account)
        out[month] = row
        month += 1
    return out


def _month_value(offset: int, day: int, form: int) -> Any:
    year, month = 2023 + offset // 12, offset % 12 + 1
    if form == 0:
        return f"{year}-{month:02d}"
    if form == 1:
        return f"{year}-{month:02d}-{day:02d}"
    if form == 2:
        return dt.date(year, month, day)
    return pd.Timestamp(year, month, day, 13)


@st.composite
def mrr_tables(draw: Any) -> pd.DataFrame:
    """Random long MRR tables: up to 6 accounts, 14 months, whole cents or not, duplicates, gaps, mixed month forms."""
    n = draw(st.integers(1, 40))
    accounts = draw(st.lists(st.sampled_from("ABCDEF"), min_size=n, max_size=n))
    offsets = draw(st.lists(st.integers(0, 13), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(1, 28), min_size=n, max_size=n))
    uniform = draw(st.booleans())  # all Timestamps -> datetime64 column (fast path), else mixed object column
    forms = [3] * n if uniform else draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    amount = st.one_of(st.just(0), st.integers(1, 500_000).map(lambda c: c / 100), st.floats(0.001, 1e5))
    values = draw(st.lists(amount, min_size=n, max_size=n))
    months = [_month_value(o, d, f) for o, d, f in zip(offsets, days, forms, strict=True)]
    frame: pd.DataFrame = pd.DataFrame({"account": accounts, "month": months, "mrr": values})
    return frame


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(mrr_tables())
def test_property_matches_independent_engine(mrr: pd.DataFrame) -> None:
    got = mrr_movements(mrr)
    want = reference_movements(mrr)
    assert [pd.Period(m, freq="M") for m in got.index] == list(want)
    for month, row in zip(got.index, want.values(), strict=True):
        for col in MONEY:
            # independent exact (Decimal) engine; float64 result, tolerance 1e-6 currency
            assert got.at[month, col] == pytest.approx(float(row[col]), abs=1e-6), (month, col)
        for col in COUNTS:
            assert got.at[month, col] == int(row[col]), (month, col)


@PROPERTY
@given(mrr_tables())
def test_property_identity_and_end_equals_month_total(mrr: pd.DataFrame) -> None:
    out = mrr_movements(mrr)
    bridge = out.start_mrr + out.new + out.expansion - out.contraction - out.churned + out.reactivation
    # the bridge identity, every month (float tolerance 1e-6 currency)
    assert np.allclose(bridge, out.end_mrr, rtol=0, atol=1e-6)
    counts = out.customers_start + out.customers_new + out.customers_reactivated - out.customers_churned
    assert (counts == out.customers_end).all()
    # end_mrr == that month's total MRR, summed independently with pandas groupby on Periods
    periods = [pd.Period(pd.Timestamp(m).tz_localize(None), freq="M") for m in mrr["month"]]
    totals = mrr.groupby(pd.Series(periods, index=mrr.index))["mrr"].sum()
    for month, total in zip(totals.index, totals.to_numpy(), strict=True):
        assert out.at[pd.Period(month, freq="M").to_timestamp(), "end_mrr"] == pytest.approx(total, abs=1e-6)
    # start of month t == end of month t - 1
    assert np.allclose(out.start_mrr.to_numpy()[1:], out.end_mrr.to_numpy()[:-1], rtol=0, atol=1e-9)


@PROPERTY
@given(mrr_tables())
def test_property_period_rates_bounds(mrr: pd.DataFrame) -> None:
    rates = period_rates(mrr_movements(mrr))
    ok = rates.start_mrr > 0
    assert (rates.grr[ok] <= 1 + 1e-12).all()
    assert (rates.grr[ok] >= -1e-12).all()
    assert (rates.nrr[ok] >= rates.grr[ok] - 1e-12).all()
    logos = rates.logo_churn_rate[rates.customers_start > 0]
    assert ((logos >= 0) & (logos <= 1)).all()


# --------------------------------------------------------------------------------------------------- speed


def _big_table(accounts: int = 10_000, months: int = 100, seed: int = 7) -> pd.DataFrame:
    """1,000,000 rows, vectorised generation: random levels, ~2 % churn, some reactivations, price changes."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, months, accounts)
    level = rng.uniform(100, 5_000, (accounts, 1)).round(2) * rng.choice([0.8, 1.0, 1.0, 1.2], (accounts, months))
    alive = (np.arange(months)[None, :] >= start[:, None]) & (rng.random((accounts, months)) > 0.02)
    grid = np.where(alive, level, 0.0).round(2)
    frame: pd.DataFrame = pd.DataFrame(
        {
            "account": np.repeat([f"A{i:05d}" for i in range(accounts)], months),
            "month": np.tile(pd.date_range("2015-01-01", periods=months, freq="MS"), accounts),
            "mrr": grid.reshape(-1),
        }
    )
    return frame


def test_one_million_rows_balance() -> None:
    # scale check only (speed and memory are measured by `make bench`, never asserted here)
    mrr = _big_table()
    assert len(mrr) == 1_000_000
    out = mrr_movements(mrr)
    assert len(out) == 100
    # end_mrr of the last month == the column total of the input for that month (independent pandas sum)
    last = mrr[mrr.month == mrr.month.max()].mrr.sum()
    assert out.end_mrr.iloc[-1] == pytest.approx(last, rel=1e-12)
