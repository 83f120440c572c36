"""Cohort retention: trailing cohort NRR/GRR and the cohort table.

Every expected number is worked out by hand in a comment next to it, taken from the spec
(/work/shared/spec/customer-success-engine.md, Phase 9), or produced by the independent row-by-row engine below.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csxl.cohorts import cohort_grr, cohort_nrr, cohort_sizes, cohort_table
from csxl.errors import InputError, TableError

NAN = float("nan")


def worked_example() -> pd.DataFrame:
    """The worked example of docs/revenue.md (same as tests/test_revenue.py).

    month:   Jan  Feb      Mar             Apr  May
    A        100  120      120             90   90
    B        50   -        -               60   60      (returns in Apr: stays in the Jan cohort)
    C        -    150+50   200             0    -
    D        -    -        80 (03-17)      -    100
    E        -    -        -               -    30 (05-31 23:00)
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


# ------------------------------------------------------------------------------------------------ cohort NRR / GRR


@pytest.mark.parametrize(
    ("months", "nrr", "grr"),
    [
        # as of May 2024, base = May - months:
        # 4 -> base Jan: A 100, B 50 = 150; May A 90 + B 60 = 150 -> NRR 150 / 150 = 1.0;
        #      GRR (min(90, 100) + min(60, 50)) / 150 = 140 / 150 = 0.9333
        (4, 1.0, 140 / 150),
        # 3 -> base Feb: A 120, C 200 = 320; May A 90 + C 0 = 90 -> NRR 90 / 320 = 0.28125; GRR the same (no expansion)
        (3, 90 / 320, 90 / 320),
        # 2 -> base Mar: A 120, C 200, D 80 = 400; May 90 + 0 + 100 = 190 -> NRR 0.475;
        #      GRR (90 + 0 + min(100, 80)) / 400 = 170 / 400 = 0.425 (E, new in May, is not in the base)
        (2, 0.475, 0.425),
        # 1 -> base Apr: A 90, B 60 = 150; May 90 + 60 = 150 -> 1.0 and 1.0 (D reactivated, not in the base)
        (1, 1.0, 1.0),
    ],
)
def test_cohort_nrr_grr_worked_example(months: int, nrr: float, grr: float) -> None:
    assert cohort_nrr(worked_example(), "2024-05", months) == pytest.approx(nrr, abs=1e-12)
    assert cohort_grr(worked_example(), "2024-05", months) == pytest.approx(grr, abs=1e-12)


def test_cohort_nrr_as_of_any_date_in_month_and_none_means_last() -> None:
    # same base as the months=4 case above: NRR 150 / 150 = 1.0, GRR 140 / 150
    assert cohort_nrr(worked_example(), dt.date(2024, 5, 20), months=4) == pytest.approx(1.0, abs=1e-12)
    assert cohort_grr(worked_example(), None, months=4) == pytest.approx(140 / 150, abs=1e-12)


def test_cohort_nrr_ignores_rows_after_as_of() -> None:
    # as of April, 2 months back = Feb: A 120, C 200 = 320; Apr A 90 + C 0 = 90 -> 0.28125 (May rows are ignored)
    assert cohort_nrr(worked_example(), "2024-04", months=2) == pytest.approx(90 / 320, abs=1e-12)


def test_cohort_nrr_twelve_months_default() -> None:
    rows = [("A", f"2023-{m:02d}", 100) for m in range(1, 13)] + [("A", "2024-01", 130), ("B", "2024-01", 50)]
    mrr = pd.DataFrame(rows, columns=["account", "month", "mrr"])
    # default months=12: base Jan 2023 = A 100; Jan 2024 A 130 -> NRR 1.3, GRR min(130, 100) / 100 = 1.0 (B is new)
    assert cohort_nrr(mrr, "2024-01") == pytest.approx(1.3, abs=1e-12)
    assert cohort_grr(mrr, "2024-01") == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("as_of", "months", "message"),
    [
        ("2024-05", 12, "there is no base month 2023-05 in the data"),
        ("2024-05", 12, "as_of must be at least 12 month(s) after the first month of the MRR table (2024-01)"),
        ("2024-06", 1, "as_of must be a month with data (the last month in the MRR table is 2024-05)"),
        ("2023-11", 1, "as_of must be on or after the first month of the MRR table"),
        (
            "whenever",
            1,
            "as_of must be a month (YYYY-MM, YYYY-MM-DD, a date cell or an Excel serial number), got 'whenever'",
        ),
        ("2024-05", 0, "months must be a whole number of months >= 1, got 0"),
        ("2024-05", 1.5, "months must be a whole number of months >= 1, got 1.5"),
    ],
)
def test_cohort_nrr_errors(as_of: str, months: Any, message: str) -> None:
    for fn in (cohort_nrr, cohort_grr):
        with pytest.raises(InputError) as info:
            fn(worked_example(), as_of, months)
        assert message in str(info.value)


def test_cohort_nrr_base_month_without_customers() -> None:
    mrr = pd.DataFrame({"account": ["A", "A", "A"], "month": ["2024-01", "2024-02", "2024-03"], "mrr": [10, 0, 10]})
    with pytest.raises(InputError, match="base month must be a month with at least one customer"):
        cohort_nrr(mrr, "2024-03", months=1)  # base Feb: A has 0 -> nobody
    # all churned: base Jan A 10, Feb 0 -> NRR = GRR = 0 / 10 = 0
    assert cohort_nrr(mrr, "2024-02", months=1) == pytest.approx(0.0, abs=1e-15)
    assert cohort_grr(mrr, "2024-02", months=1) == pytest.approx(0.0, abs=1e-15)


def test_cohort_nrr_empty_table() -> None:
    with pytest.raises(InputError, match="there is no base month"):
        cohort_nrr(pd.DataFrame({"account": [], "month": [], "mrr": []}), "2024-05", 1)


# ------------------------------------------------------------------------------------------------ cohort table


def _table(rows: dict[str, list[float]]) -> pd.DataFrame:
    width = max(len(v) for v in rows.values())
    frame: pd.DataFrame = pd.DataFrame(
        [v + [NAN] * (width - len(v)) for v in rows.values()],
        index=pd.DatetimeIndex([pd.Timestamp(k) for k in rows], name="cohort"),
        columns=pd.RangeIndex(width, name="months_since_start"),
    )
    return frame


def test_cohort_table_logo_worked_example() -> None:
    got = cohort_table(worked_example(), basis="logo")
    # hand: cohorts by first month with MRR > 0: Jan {A, B}, Feb {C}, Mar {D}, May {E}; no account started in Apr.
    # Jan: 2/2, Feb A only 1/2, Mar A 1/2, Apr A + B (B came back, stays in Jan) 2/2, May 2/2
    # Feb (C): Feb 1, Mar 1, Apr 0, May 0, then beyond May -> NaN
    # Mar (D): Mar 1, Apr 0, May 1 (reactivated); May (E): 1
    want = _table(
        {
            "2024-01-01": [1.0, 0.5, 0.5, 1.0, 1.0],
            "2024-02-01": [1.0, 1.0, 0.0, 0.0],
            "2024-03-01": [1.0, 0.0, 1.0],
            "2024-05-01": [1.0],
        }
    )
    pd.testing.assert_frame_equal(got, want, check_exact=False, atol=1e-12, rtol=0)


def test_cohort_table_revenue_worked_example() -> None:
    got = cohort_table(worked_example(), basis="revenue")
    # hand: Jan base 100 + 50 = 150: Feb 120 / 150 = 0.8, Mar 0.8, Apr (90 + 60) / 150 = 1.0, May 1.0
    # Feb base 200 (150 + 50, two rows): 1, 1, 0, 0; Mar base 80: Apr 0, May 100 / 80 = 1.25 (> 1: net of expansion)
    want = _table(
        {
            "2024-01-01": [1.0, 0.8, 0.8, 1.0, 1.0],
            "2024-02-01": [1.0, 1.0, 0.0, 0.0],
            "2024-03-01": [1.0, 0.0, 1.25],
            "2024-05-01": [1.0],
        }
    )
    pd.testing.assert_frame_equal(got, want, check_exact=False, atol=1e-12, rtol=0)


def test_cohort_table_as_of_turns_later_cells_into_nan() -> None:
    got = cohort_table(worked_example(), basis="logo", as_of="2024-03-31")
    # hand, data cut after March: Jan 1, .5, .5; Feb 1, 1; Mar 1; the rest unknown (NaN, not 0)
    want = _table({"2024-01-01": [1.0, 0.5, 0.5], "2024-02-01": [1.0, 1.0], "2024-03-01": [1.0]})
    pd.testing.assert_frame_equal(got, want, check_exact=False, atol=1e-12, rtol=0)


def test_cohort_sizes() -> None:
    got = cohort_sizes(worked_example())
    # hand: Jan {A, B} 150; Feb {C} 200; Mar {D} 80; May {E} 30
    assert got["customers"].to_list() == [2, 1, 1, 1]
    assert got["mrr"].to_list() == pytest.approx([150, 200, 80, 30], abs=1e-9)


def test_spec_example_cohort_table() -> None:
    # spec Phase 9 "Example SaaS Retention Cohort": Jan 100 %, 92 %, 87 %, 84 %; Feb 100 %, 94 %, 90 %, 88 %;
    # Mar 100 %, 91 %, 85 %, then "-". Rebuilt with 100 accounts per cohort, data Jan..May: Jan cohort is also
    # observed in May (we keep 84 paying: our choice, not in the spec), Feb until May (age 3), Mar until May (age 2).
    alive = {"2024-01": [100, 92, 87, 84, 84], "2024-02": [100, 94, 90, 88], "2024-03": [100, 91, 85]}
    rows = []
    for cohort, counts in alive.items():
        start = pd.Period(cohort, freq="M")
        for i in range(100):
            for age, count in enumerate(counts):
                rows.append((f"{cohort}-{i}", str(start + age), 500.0 if i < count else 0.0))
    got = cohort_table(pd.DataFrame(rows, columns=["account", "month", "mrr"]), basis="logo")
    assert got.loc[pd.Timestamp("2024-01-01"), [0, 1, 2, 3]].to_list() == pytest.approx(
        [1, 0.92, 0.87, 0.84], abs=1e-12
    )
    assert got.loc[pd.Timestamp("2024-02-01"), [0, 1, 2, 3]].to_list() == pytest.approx(
        [1, 0.94, 0.90, 0.88], abs=1e-12
    )
    assert got.loc[pd.Timestamp("2024-03-01"), [0, 1, 2]].to_list() == pytest.approx([1, 0.91, 0.85], abs=1e-12)
    # the spec's "-": months after the data ends
    assert np.isnan(got.loc[pd.Timestamp("2024-02-01"), 4])
    assert got.loc[pd.Timestamp("2024-03-01"), [3, 4]].isna().all()


@pytest.mark.parametrize("basis", ["logo", "revenue", " Revenue "])
def test_cohort_table_single_month(basis: str) -> None:
    got = cohort_table(pd.DataFrame({"account": ["A", "B"], "month": ["2024-01", "2024-01"], "mrr": [1, 2]}), basis)
    # one cohort, one column: month 0 is 1.0 by definition
    assert got.shape == (1, 1)
    assert got.iloc[0, 0] == 1.0


def test_cohort_table_all_churned_is_zero_not_nan() -> None:
    mrr = pd.DataFrame({"account": ["A", "A"], "month": ["2024-01", "2024-02"], "mrr": [10, 0]})
    # hand: Jan cohort {A}: month 0 = 1, month 1 = 0 / 1 (observed: churned), exactly 0 and not NaN
    assert cohort_table(mrr, "logo").iloc[0].to_list() == [1.0, 0.0]
    assert cohort_table(mrr, "revenue").iloc[0].to_list() == [1.0, 0.0]


def test_cohort_table_empty_and_never_paid() -> None:
    empty = cohort_table(pd.DataFrame({"account": [], "month": [], "mrr": []}))
    assert empty.empty
    zeros = cohort_table(pd.DataFrame({"account": ["A"], "month": ["2024-01"], "mrr": [0]}), "revenue")
    assert zeros.empty  # nobody ever paid: no cohort
    assert cohort_sizes(pd.DataFrame({"account": [], "month": [], "mrr": []})).empty


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"basis": "arr"}, InputError, "basis must be one of logo, revenue, got 'arr'"),
        ({"as_of": "2024-07"}, InputError, "as_of must be a month with data"),
    ],
)
def test_cohort_table_errors(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        cohort_table(worked_example(), **kwargs)
    assert message in str(info.value)


def test_cohort_table_bad_rows() -> None:
    mrr = pd.DataFrame({"account": ["A", "A"], "month": ["2024-01", "2024-02"], "mrr": [10, "n/a"]})
    with pytest.raises(TableError, match="MRR row 2, mrr"):
        cohort_table(mrr)


# ------------------------------------------------------------------------------------------------ properties


def reference_cohorts(
    mrr: pd.DataFrame,
) -> tuple[dict[tuple[pd.Period, int], float], dict[tuple[pd.Period, int], float]]:
    """Independent engine: plain Python per account and month (no csxl code), logo and revenue shares.

    Only cells up to the last month of the table are produced; later cells must be NaN in csxl's table.
    """
    table: dict[Any, dict[pd.Period, float]] = defaultdict(lambda: defaultdict(float))
    for account, month, value in mrr.itertuples(index=False):
        table[account][pd.Period(pd.Timestamp(month), freq="M")] += float(value)
    last = max(p for series in table.values() for p in series)
    members: dict[pd.Period, list[Any]] = defaultdict(list)
    for account, series in table.items():
        paid = [p for p, v in series.items() if v > 0]
        if paid:
            members[min(paid)].append(account)
    logo: dict[tuple[pd.Period, int], float] = {}
    revenue: dict[tuple[pd.Period, int], float] = {}
    for cohort, accounts in members.items():
        base = sum(table[a][cohort] for a in accounts)
        age = 0
        while cohort + age <= last:
            month = cohort + age
            logo[(cohort, age)] = sum(1 for a in accounts if table[a].get(month, 0.0) > 0) / len(accounts)
            revenue[(cohort, age)] = sum(table[a].get(month, 0.0) for a in accounts) / base
            age += 1
    return logo, revenue


@st.composite
def mrr_tables(draw: Any) -> pd.DataFrame:
    """Random long MRR tables: up to 6 accounts over 12 months, zeros, duplicates, gaps, mid-month dates."""
    n = draw(st.integers(1, 40))
    accounts = draw(st.lists(st.sampled_from("ABCDEF"), min_size=n, max_size=n))
    offsets = draw(st.lists(st.integers(0, 11), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(1, 28), min_size=n, max_size=n))
    amount = st.one_of(st.just(0), st.integers(1, 100_000).map(lambda c: c / 100), st.floats(0.01, 1e4))
    values = draw(st.lists(amount, min_size=n, max_size=n))
    months = [
        pd.Timestamp(2024, 1 + o, d) if d % 2 else f"2024-{1 + o:02d}" for o, d in zip(offsets, days, strict=True)
    ]
    frame: pd.DataFrame = pd.DataFrame({"account": accounts, "month": months, "mrr": values})
    return frame


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(mrr_tables())
def test_property_cohort_table_matches_independent_engine(mrr: pd.DataFrame) -> None:
    want_logo, want_revenue = reference_cohorts(mrr)
    for basis, want in (("logo", want_logo), ("revenue", want_revenue)):
        got = cohort_table(mrr, basis)
        expected_cells = 0
        for (cohort, age), value in want.items():
            # independent engine, float tolerance 1e-9
            assert got.at[cohort.to_timestamp(), age] == pytest.approx(value, abs=1e-9), (basis, cohort, age)
            expected_cells += 1
        # every other cell is "not observed yet": NaN, never 0
        assert int(got.notna().to_numpy().sum()) == expected_cells
        if len(got):
            assert (got[0] == 1.0).all()  # month 0 is exactly 1.0
        if basis == "logo":
            values = got.to_numpy()
            values = values[~np.isnan(values)]
            assert ((values >= 0) & (values <= 1)).all()


@PROPERTY
@given(mrr_tables(), st.integers(1, 11), st.integers(0, 11))
def test_property_cohort_grr_le_one_and_le_nrr(mrr: pd.DataFrame, months: int, as_of_offset: int) -> None:
    periods = [pd.Period(pd.Timestamp(m), freq="M") for m in mrr["month"]]
    first, last = min(periods), max(periods)
    as_of = pd.Period("2024-01", freq="M") + as_of_offset
    if as_of > last or as_of - months < first:
        with pytest.raises(InputError):
            cohort_nrr(mrr, str(as_of), months)
        return
    base = as_of - months
    base_mrr = mrr[[p == base for p in periods]].groupby("account")["mrr"].sum()
    if not (base_mrr > 0).any():
        with pytest.raises(InputError, match="base month"):
            cohort_grr(mrr, str(as_of), months)
        return
    n, g = cohort_nrr(mrr, str(as_of), months), cohort_grr(mrr, str(as_of), months)
    assert 0 <= g <= 1 + 1e-12
    assert n >= g - 1e-12
    # independent: NRR = base customers' MRR now / then, summed with pandas groupby
    now_mrr = mrr[[p == as_of for p in periods]].groupby("account")["mrr"].sum()
    paying = base_mrr[base_mrr > 0]
    want = sum(now_mrr.get(a, 0.0) for a in paying.index) / paying.sum()
    assert n == pytest.approx(want, rel=1e-9)
    assert not math.isnan(g)


# ------------------------------------------------------------------------------------------------ speed


def test_cohort_table_one_million_rows() -> None:
    rng = np.random.default_rng(11)
    accounts, months = 10_000, 100
    start = rng.integers(0, months, accounts)
    alive = (np.arange(months)[None, :] >= start[:, None]) & (rng.random((accounts, months)) > 0.03)
    alive[np.arange(accounts), start] = True  # everyone pays in their start month, so the cohort is `start`
    grid = np.where(alive, rng.uniform(100, 5_000, (accounts, 1)).round(2), 0.0)
    mrr = pd.DataFrame(
        {
            "account": np.repeat(np.arange(accounts), months),
            "month": np.tile(pd.date_range("2015-01-01", periods=months, freq="MS"), accounts),
            "mrr": grid.reshape(-1),
        }
    )
    # scale check only: speed is measured by `make bench`, never asserted in a test
    logo = cohort_table(mrr, "logo")
    revenue = cohort_table(mrr, "revenue")
    # independent: cohort sizes are the number of accounts per start month (np.bincount of the generator's start)
    sizes = np.bincount(start, minlength=months)
    assert cohort_sizes(mrr)["customers"].to_numpy().tolist() == sizes[sizes > 0].tolist()
    assert logo.shape == revenue.shape
