"""Health models: simple points, weighted 0..100 score, tiers, explanation, main risk, churn tiers.

Expected values come from the spec formulas worked by hand in the comment of each row:

* simple points (agent spec Model 1): Red 0, Yellow 1, Green 2 per dimension, summed; Green 8-10, Yellow 5-7, Red 0-4;
* weighted score: ``10 * sum(w_d * s_d) / sum(w_d over present d)`` with the engine preset (usage .30, engagement .20,
  relationship .15, outcomes .20, financial .15; engine spec Phase 1) or the growth preset (usage .40, engagement .25,
  relationship .20, financial .15; agent spec Model 2);
* tiers: engine spec "Health Tiers" table, agent spec Model 2 thresholds and Model 3 churn tiers, boundaries per
  docs/health.md (score >= bound, no rounding).

Scores are compared with ``abs=1e-9`` (a few float multiplications and additions on numbers <= 100).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csxl.errors import InputError
from csxl.health import (
    churn_tier,
    explain_health,
    health_score,
    health_tier,
    main_risk,
    simple_points,
    simple_tier,
)
from csxl.settings import HEALTH_WEIGHTS, TierScheme

TOL = 1e-9
NAN = float("nan")
ENGINE_DIMS = ("usage", "engagement", "relationship", "outcomes", "financial")


def scores5(usage: Any, engagement: Any, relationship: Any, outcomes: Any, financial: Any) -> dict[str, Any]:
    return dict(zip(ENGINE_DIMS, (usage, engagement, relationship, outcomes, financial), strict=True))


# --------------------------------------------------------------------------------------------------------------------
# simple_points / simple_tier
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((2, 2, 2, 2, 2), 10),  # 2+2+2+2+2
        ((0, 0, 0, 0, 0), 0),  # all Red
        (("Green", "green", " GREEN ", "Yellow", "red"), 7),  # 2+2+2+1+0, labels case- and space-insensitive
        (("Red", "Yellow", "Green", "Yellow", "Red"), 4),  # 0+1+2+1+0
        ((2.0, "1", "Red", 1, np.int64(2)), 6),  # 2+1+0+1+2: floats, numeric text and numpy ints count as points
    ],
)
def test_simple_points_scalar(args: tuple[Any, ...], expected: int) -> None:
    got = simple_points(*args)
    assert got == expected
    assert type(got) is int


def test_simple_points_missing_dimension_makes_total_missing() -> None:
    # decision (docs/health.md): a partial total would look like a bad account, so the total is missing
    assert simple_points(2, 2, None, 2, 2) is None
    assert simple_points(2, 2, "", 2, NAN) is None


def test_simple_points_arrays_are_int_when_complete_and_float_nan_when_not() -> None:
    got = simple_points([2, 0], ["Green", "Red"], 1, [2, 1], ["yellow", "green"])
    # row 0: 2+2+1+2+1 = 8; row 1: 0+0+1+1+2 = 4
    assert got.dtype == np.int64
    assert got.tolist() == [8, 4]
    gaps = simple_points([2, 0], [2, None], 1, 1, 1)
    # row 0: 2+2+1+1+1 = 7; row 1: engagement missing -> NaN
    assert gaps.dtype == np.float64
    assert gaps[0] == 7
    assert np.isnan(gaps[1])


def test_simple_points_series_keeps_index() -> None:
    idx = pd.Index(["acme", "beta"], name="account")
    got = simple_points(pd.Series([2.0, NAN], index=idx), pd.Series(["Green", "Red"], index=idx), 0, 0, 1)
    assert isinstance(got, pd.Series)
    assert got.index.equals(idx)
    assert got.name == "simple_points"
    assert got["acme"] == 5  # 2+2+0+0+1
    assert np.isnan(got["beta"])  # usage missing


@pytest.mark.parametrize(
    ("position", "bad", "shown"),
    [
        (0, 3, "3"),
        (1, "Blue", "'Blue'"),
        (2, 1.5, "1.5"),
        (3, -1, "-1"),
        (4, True, "True"),  # booleans are not points
    ],
)
def test_simple_points_bad_values_name_the_argument(position: int, bad: Any, shown: str) -> None:
    names = ("usage", "engagement", "relationship", "financial", "sentiment")
    args: list[Any] = [1, 1, 1, 1, 1]
    args[position] = bad
    with pytest.raises(InputError) as info:
        simple_points(*args)
    assert str(info.value) == f"{names[position]} must be one of 0, 1, 2, Red, Yellow, Green, got {shown}"
    assert info.value.field == names[position]


def test_simple_points_bad_value_in_array_says_where() -> None:
    with pytest.raises(InputError, match=r"usage must be .*got 'Blue' \(at position 1; 1 more bad value\(s\)\)"):
        simple_points([0, "Blue", 7], 0, 0, 0, 0)


def test_simple_points_mismatched_lengths_raise() -> None:
    with pytest.raises(InputError, match="argument lengths"):
        simple_points([0, 1], [0, 1, 2], 0, 0, 0)


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        # agent spec Model 1: Green 8-10, Yellow 5-7, Red 0-4 -- every edge
        (0, "Red"),
        (4, "Red"),
        (5, "Yellow"),
        (7, "Yellow"),
        (8, "Green"),
        (10, "Green"),
        (7.0, "Yellow"),  # a whole number stored as float is fine
        (None, None),
        (NAN, None),
    ],
)
def test_simple_tier_boundaries(points: Any, expected: str | None) -> None:
    assert simple_tier(points) == expected


@pytest.mark.parametrize(
    ("points", "expected"),
    [(5, "Red"), (6, "Yellow"), (8, "Yellow"), (9, "Green")],  # custom cut-offs green=9, yellow=6
)
def test_simple_tier_custom_cutoffs(points: int, expected: str) -> None:
    assert simple_tier(points, green=9, yellow=6) == expected


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (7.5, "points must be a whole number 0..10, got 7.5"),  # decision: fractions fall between the spec's bands
        (11, "points must be a whole number 0..10, got 11"),
        (-1, "points must be a whole number 0..10, got -1"),
        ("high", "points must be a number (a whole number 0..10), got 'high'"),
    ],
)
def test_simple_tier_bad_points(points: Any, message: str) -> None:
    with pytest.raises(InputError) as info:
        simple_tier(points)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"green": 5, "yellow": 5}, "yellow"),
        ({"green": 11}, "green"),
        ({"yellow": 0}, "yellow"),
        ({"green": 7.5}, "green"),
    ],
)
def test_simple_tier_bad_cutoffs(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        simple_tier(6, **kwargs)
    assert info.value.field == field


def test_simple_tier_vectorised_with_missing() -> None:
    got = simple_tier(pd.Series([10, NAN, 4, 5], index=["a", "b", "c", "d"]))
    assert got.dtype == object
    assert got.tolist() == ["Green", None, "Red", "Yellow"]  # 10 >= 8; missing; 4 < 5; 5 >= 5
    assert got.index.tolist() == ["a", "b", "c", "d"]
    # chained on simple_points with a gap: totals 8 (2+2+2+1+1) and missing
    chained = simple_tier(simple_points([2, 2], [2, None], 2, 1, 1))
    assert chained.tolist() == ["Green", None]


# --------------------------------------------------------------------------------------------------------------------
# health_score
# --------------------------------------------------------------------------------------------------------------------

SCORE_CASES = [
    # (scores, weights, expected, hand calculation)
    (scores5(8, 6, 5, 7, 9), "engine", 71.0),  # 10*(.3*8+.2*6+.15*5+.2*7+.15*9) = 10*(2.4+1.2+.75+1.4+1.35) = 71.0
    (scores5(2, 6, 8, 6, 8), "engine", 54.0),  # 10*(.6+1.2+1.2+1.2+1.2) = 10*5.4 = 54 (docs worked example)
    (scores5(10, 10, 10, 10, 10), "engine", 100.0),  # 10*10*(sum of weights 1)
    (scores5(0, 0, 0, 0, 0), "engine", 0.0),
    # growth ignores outcomes: 10*(.4*8+.25*6+.2*5+.15*9) = 10*(3.2+1.5+1.0+1.35) = 70.5
    (scores5(8, 6, 5, 7, 9), "growth", 70.5),
    (scores5(8, 6, 5, 0, 9), "growth", 70.5),  # outcomes is not a growth dimension, so 0 changes nothing
    # engine, outcomes missing: 10*(2.4+1.2+.75+1.35)/(.3+.2+.15+.15) = 10*5.7/.8 = 71.25
    (scores5(8, 6, 5, None, 9), "engine", 71.25),
    (scores5(8, 6, 5, NAN, 9), "engine", 71.25),
    ({"usage": 8, "engagement": 6, "relationship": 5, "financial": 9}, "engine", 71.25),  # outcomes absent = missing
    # engine, engagement + relationship missing, financial absent: 10*(.3*5+.2*10)/(.3+.2) = 10*3.5/.5 = 70
    ({"usage": 5, "engagement": None, "relationship": NAN, "outcomes": 10}, "engine", 70.0),
    ({"usage": 8}, "engine", 80.0),  # only usage present: 10*.3*8/.3 = 80
    ({"financial": 4}, "growth", 40.0),  # 10*.15*4/.15 = 40
    # custom weights normalised: usage 2/3, financial 1/3 -> 10*(2/3*9 + 1/3*3) = 10*(6+1) = 70
    ({"usage": 9, "financial": 3}, {"usage": 2, "financial": 1}, 70.0),
    # names match ignoring case/spaces; growth: 10*(.4*8+.15*9)/(.4+.15) = 10*4.55/.55 = 82.7272...
    ({" Usage ": 8, "FINANCIAL": 9}, "growth", 455 / 5.5),
    # dimensions the weights do not name are ignored (sentiment, notes): 10*.3*8/.3 = 80
    ({"usage": 8, "sentiment": 0, "notes": "call back"}, "engine", 80.0),
    # a dimension with weight 0 counts for nothing: 10*(1*6)/1 = 60
    ({"usage": 6, "financial": 0}, {"usage": 1, "financial": 0}, 60.0),
]


@pytest.mark.parametrize(("scores", "weights", "expected"), SCORE_CASES)
def test_health_score_by_hand(scores: dict[str, Any], weights: Any, expected: float) -> None:
    got = health_score(scores, weights)
    assert type(got) is float
    assert got == pytest.approx(expected, abs=TOL)


def test_health_score_series_is_one_account() -> None:
    # a row of a table: 10*(2.4+1.2+.75+1.4+1.35) = 71.0 (as the first SCORE_CASES row)
    row = pd.Series(scores5(8, 6, 5, 7, 9), name="acme")
    assert health_score(row) == pytest.approx(71.0, abs=TOL)


def test_health_score_dataframe_keeps_index_and_ignores_other_columns() -> None:
    frame = pd.DataFrame(
        {
            "account": ["Acme", "Beta", "Gamma"],
            "usage": [8, 10, NAN],
            "engagement": [6, 0, 4],
            "relationship": [5, 10, NAN],
            "outcomes": [7, NAN, NAN],
            "financial": [9, 10, 6],
            "sentiment": [0, 0, 0],
        },
        index=pd.Index([101, 205, 307], name="id"),
    )
    got = health_score(frame)
    assert isinstance(got, pd.Series)
    assert got.index.equals(frame.index)
    assert got.name == "health_score"
    # 101: 71.0 as above; 205: 10*(.3*10+.2*0+.15*10+.15*10)/.8 = 10*6/.8 = 75;
    # 307: 10*(.2*4+.15*6)/(.2+.15) = 10*1.7/.35 = 48.571428...
    assert got.to_numpy() == pytest.approx([71.0, 75.0, 170 / 3.5], abs=TOL)


def test_health_score_mapping_of_series_and_broadcast_scalars() -> None:
    idx = pd.Index(["a", "b"])
    got = health_score({"usage": pd.Series([10, 0], index=idx), "financial": 5}, "growth")
    # a: 10*(.4*10+.15*5)/.55 = 47.5/.55 = 86.3636...; b: 10*(0+.75)/.55 = 13.6363...
    assert isinstance(got, pd.Series)
    assert got.index.equals(idx)
    assert got.to_numpy() == pytest.approx([47.5 / 0.55, 7.5 / 0.55], abs=TOL)
    arr = health_score({"usage": np.array([10.0, 0.0]), "financial": [5, 5]}, "growth")
    assert isinstance(arr, np.ndarray)
    assert arr == pytest.approx([47.5 / 0.55, 7.5 / 0.55], abs=TOL)  # same arithmetic as above


def test_health_score_empty_table() -> None:
    got = health_score(pd.DataFrame({"usage": pd.Series([], dtype=float)}))
    assert isinstance(got, pd.Series)
    assert len(got) == 0


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({"usage": 10.5}, "usage must be 0..10, got 10.5"),
        ({"usage": 8, "financial": -1}, "financial must be 0..10, got -1"),
        ({"usage": "high"}, "usage must be a number (0..10), got 'high'"),
        ({"usage": True}, "usage must be a number (0..10), got True"),
        (
            {"usage": None, "financial": NAN},
            "scores must be filled for at least one of usage, engagement, relationship,",
        ),
        ({"sentiment": 5}, "scores must be a mapping or table naming at least one of usage, engagement"),
        (
            pd.DataFrame({"usage": [1, NAN, NAN], "financial": [2, NAN, NAN]}, index=["a", "b", "c"]),
            "scores must be filled for at least one of usage, engagement, relationship, outcomes, financial, got blank "
            "(at 'b'; 1 more bad value(s))",
        ),
        (pd.DataFrame({"usage": [1, 11]}, index=["a", "b"]), "usage must be 0..10, got 11 (at 'b')"),
        ({"usage": 5, "Usage": 6}, "scores must be named once (two columns mean usage), got 'Usage'"),
        ([1, 2, 3], "scores must be a mapping of dimension -> score, or a table, got 'list'"),
        (
            {"usage": pd.Series([1, 2], index=["a", "b"]), "financial": pd.Series([1, 2], index=["b", "a"])},
            "Series arguments must be on one index",
        ),
    ],
)
def test_health_score_bad_input(scores: Any, message: str) -> None:
    with pytest.raises(InputError) as info:
        health_score(scores)
    assert str(info.value).startswith(message)


def test_health_score_only_zero_weight_dimensions_present_raises() -> None:
    with pytest.raises(InputError, match="filled for at least one of usage, got blank"):
        health_score({"financial": 5}, {"usage": 1, "financial": 0})


@pytest.mark.parametrize(
    ("weights", "field"),
    [("nope", "weights"), ({"usage": -1}, "weight of usage"), ({"usage": 0}, "weights"), ({"speed": 1}, "weights")],
)
def test_health_score_bad_weights(weights: Any, field: str) -> None:
    with pytest.raises(InputError) as info:
        health_score({"usage": 5}, weights)
    assert info.value.field == field


def test_health_score_million_accounts_in_one_call() -> None:
    # scale check only: speed is measured by `make bench`, never asserted in a test
    rng = np.random.default_rng(7)
    n = 1_000_000
    frame = pd.DataFrame({d: rng.uniform(0, 10, n) for d in ENGINE_DIMS})
    frame.loc[::5, "outcomes"] = NAN
    scores = health_score(frame)
    tiers = health_tier(scores)
    assert len(tiers) == n
    # independent: row 0 has outcomes missing -> weights renormalised over the other four (hand formula)
    row = frame.iloc[0]
    others = {d: w for d, w in HEALTH_WEIGHTS["engine"].items() if d != "outcomes"}
    expected = 10 * sum(row[d] * w for d, w in others.items()) / sum(others.values())
    assert scores.iloc[0] == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------------------------------------------------
# health_tier / churn_tier
# --------------------------------------------------------------------------------------------------------------------

ENGINE_TIER_CASES = [
    # engine spec "Health Tiers": 80-100 Thriving, 60-79 Healthy, 40-59 At-Risk, 0-39 Critical; score >= bound
    (100, "Thriving"),
    (80, "Thriving"),
    (np.nextafter(80.0, 0.0), "Healthy"),  # the largest float below 80
    (79.999, "Healthy"),
    (79.96, "Healthy"),  # displays as "80" with no decimals, still Healthy: no rounding first
    (60, "Healthy"),
    (59.99, "At-Risk"),
    (40, "At-Risk"),
    (39.99, "Critical"),
    (0, "Critical"),
]


@pytest.mark.parametrize(("score", "expected"), ENGINE_TIER_CASES)
def test_health_tier_engine_boundaries(score: float, expected: str) -> None:
    assert health_tier(score) == expected
    assert health_tier(score, "engine") == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        # agent spec thresholds: Green 80-100, Yellow 50-79, Red 0-49
        (100, "Green"),
        (80, "Green"),
        (79.99, "Yellow"),
        (50, "Yellow"),
        (49.99, "Red"),
        (0, "Red"),
    ],
)
def test_health_tier_growth_boundaries(score: float, expected: str) -> None:
    assert health_tier(score, "growth") == expected


def test_health_tier_custom_scheme_and_vectorised() -> None:
    scheme = TierScheme(name="mine", bounds=(("Top", 90.0), ("Rest", 0.0)))
    assert health_tier([90, 89.9], scheme).tolist() == ["Top", "Rest"]  # 90 >= 90; 89.9 < 90
    got = health_tier(pd.Series([85.0, NAN, 45.0], index=["x", "y", "z"], name="hs"))
    assert got.dtype == object
    assert got.index.tolist() == ["x", "y", "z"]
    assert got.tolist() == ["Thriving", None, "At-Risk"]  # 85 >= 80; missing; 40 <= 45 < 60
    arr = health_tier(np.array([60.0, 59.0]))
    assert isinstance(arr, np.ndarray)
    assert arr.tolist() == ["Healthy", "At-Risk"]


@pytest.mark.parametrize(
    ("score", "scheme", "message"),
    [
        (100.01, "engine", "health score must be 0..100, got 100.01"),
        (-0.01, "engine", "health score must be 0..100, got -0.01"),
        ("good", "engine", "health score must be a number (0..100), got 'good'"),
        (50, "simple", "scheme must be a 0..100 tier scheme"),
        (50, "nope", "scheme must be a tier scheme"),
    ],
)
def test_health_tier_bad_input(score: Any, scheme: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        health_tier(score, scheme)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("probability", "expected"),
    [
        # agent spec Model 3: Low <20 %, Medium 20-50 %, High 50-80 %, Critical >80 %
        (0, "Low"),
        (0.19999, "Low"),
        (0.3 - 0.1, "Low"),  # 0.19999999999999998 in floats: no rounding
        (0.2, "Medium"),
        (0.4999, "Medium"),
        (0.5, "High"),
        (0.8, "High"),  # "High 50-80 %" includes 80 %
        (0.7 + 0.1, "High"),  # 0.7999999999999999
        (0.8000001, "Critical"),
        (1, "Critical"),
        (None, None),
    ],
)
def test_churn_tier_boundaries(probability: Any, expected: str | None) -> None:
    assert churn_tier(probability) == expected


def test_churn_tier_vectorised() -> None:
    got = churn_tier(pd.Series([0.1, NAN, 0.9], index=[3, 1, 2]))
    assert got.tolist() == ["Low", None, "Critical"]  # .1 < .2; missing; .9 > .8
    assert got.index.tolist() == [3, 1, 2]


@pytest.mark.parametrize("probability", [80, -0.1, 1.0000001, "high"])
def test_churn_tier_bad_input(probability: Any) -> None:
    with pytest.raises(InputError, match="churn probability must be a"):
        churn_tier(probability)


# --------------------------------------------------------------------------------------------------------------------
# explain_health / main_risk
# --------------------------------------------------------------------------------------------------------------------


def test_explain_health_worked_example_54() -> None:
    table = explain_health(scores5(2, 6, 8, 6, 8))
    # engine weights; points = 10*w*s, lost = 10*w*(10-s):
    # usage 10*.3*2 = 6 / 24; engagement 12 / 8; outcomes 12 / 8; relationship 12 / 3; financial 12 / 3
    assert table.index.tolist() == ["usage", "engagement", "outcomes", "relationship", "financial"]  # lost desc
    assert table.index.name == "dimension"
    assert table.columns.tolist() == ["score", "weight", "points", "lost"]
    assert table["points"].tolist() == pytest.approx([6, 12, 12, 12, 12], abs=TOL)
    assert table["lost"].tolist() == pytest.approx([24, 8, 8, 3, 3], abs=TOL)
    assert table["weight"].tolist() == pytest.approx([0.3, 0.2, 0.2, 0.15, 0.15], abs=TOL)  # the engine preset
    assert table["points"].sum() == pytest.approx(54.0, abs=TOL)  # = health_score, 6+12*4
    assert (table["points"] + table["lost"]).sum() == pytest.approx(100.0, abs=TOL)  # 54 + 46


def test_explain_health_missing_dimension_row() -> None:
    table = explain_health(scores5(2, 6, 8, None, 8))
    # outcomes missing -> present weights .3+.2+.15+.15 = .8, effective = w/.8: .375, .25, .1875, .1875
    # points: 10*.375*2 = 7.5, 10*.25*6 = 15, 10*.1875*8 = 15, 15  -> 52.5 (= 10*4.2/.8)
    # lost:   10*.375*8 = 30,  10*.25*4 = 10, 10*.1875*2 = 3.75, 3.75 -> 47.5
    assert table.index.tolist() == ["usage", "engagement", "relationship", "financial", "outcomes"]
    assert table["weight"].tolist() == pytest.approx([0.375, 0.25, 0.1875, 0.1875, 0.0], abs=TOL)
    assert table["points"].tolist() == pytest.approx([7.5, 15, 15, 15, 0], abs=TOL)
    assert table["lost"].tolist() == pytest.approx([30, 10, 3.75, 3.75, 0], abs=TOL)
    assert table["score"].isna().tolist() == [False, False, False, False, True]  # only outcomes is missing
    assert table["points"].sum() == pytest.approx(52.5, abs=TOL)
    assert (table["points"] + table["lost"]).sum() == pytest.approx(100.0, abs=TOL)


def test_explain_health_growth_and_one_row_table() -> None:
    frame = pd.DataFrame([scores5(8, 6, 5, 7, 9)], index=["acme"])
    table = explain_health(frame, "growth")
    # growth: lost = 10*w*(10-s): usage 10*.4*2 = 8, engagement 10*.25*4 = 10, relationship 10*.2*5 = 10,
    # financial 10*.15*1 = 1.5; outcomes is not a growth dimension, so it has no row
    assert table.index.tolist() == ["engagement", "relationship", "usage", "financial"]
    assert table["lost"].tolist() == pytest.approx([10, 10, 8, 1.5], abs=TOL)
    assert table["points"].sum() == pytest.approx(70.5, abs=TOL)  # 10*(3.2+1.5+1.0+1.35)


def test_explain_health_refuses_many_accounts() -> None:
    with pytest.raises(InputError, match="one account"):
        explain_health({"usage": [1, 2]})


def test_main_risk_table() -> None:
    frame = pd.DataFrame(
        [
            scores5(2, 6, 8, 6, 8),  # lost 24, 8, 3, 8, 3 -> usage
            scores5(9, 3, 5, 8, 10),  # lost 10*.3*1=3, 10*.2*7=14, 10*.15*5=7.5, 10*.2*2=4, 0 -> engagement
            scores5(NAN, 10, 10, 10, 2),  # only financial loses points -> financial (missing usage is no risk)
            scores5(10, 10, 10, 10, 10),  # nothing lost -> None
            scores5(10, 7, 10, 7, 10),  # engagement and outcomes both lose 10*.2*3 = 6 -> tie to the earlier one
        ],
        index=["a", "b", "c", "d", "e"],
    )
    got = main_risk(frame)
    assert got.name == "main_risk"
    assert got.index.tolist() == ["a", "b", "c", "d", "e"]
    assert got.tolist() == ["usage", "engagement", "financial", None, "engagement"]
    assert main_risk(scores5(2, 6, 8, 6, 8)) == "usage"  # scalar in -> str out (lost 24 is the largest)
    assert main_risk(scores5(2, 6, 8, 6, 8), "growth") == "usage"  # lost 10*.4*8 = 32 is the largest


# --------------------------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------------------------

score_value = st.floats(min_value=0, max_value=10, allow_nan=False)
maybe_score = st.one_of(st.none(), score_value)
weight_value = st.floats(min_value=0.01, max_value=100, allow_nan=False)


@st.composite
def account(draw: st.DrawFn) -> dict[str, float | None]:
    values = draw(st.lists(maybe_score, min_size=5, max_size=5))
    if all(v is None for v in values):
        values[draw(st.integers(0, 4))] = draw(score_value)
    return dict(zip(ENGINE_DIMS, values, strict=True))


@st.composite
def custom_weights(draw: st.DrawFn) -> dict[str, float]:
    return dict(zip(ENGINE_DIMS, draw(st.lists(weight_value, min_size=5, max_size=5)), strict=True))


def reference_score(scores: dict[str, float | None], weights: dict[str, float]) -> float:
    """Independent plain-Python version of the spec formula (no numpy, no normalisation step)."""
    present = {d: s for d, s in scores.items() if s is not None and d in weights}
    num = sum(weights[d] * s for d, s in present.items())
    den = sum(weights[d] for d in present)
    return 10 * num / den


@settings(max_examples=150, deadline=None)
@given(account(), custom_weights())
def test_property_matches_reference_and_stays_in_range(
    scores: dict[str, float | None], weights: dict[str, float]
) -> None:
    got = health_score(scores, weights)
    assert 0.0 <= got <= 100.0
    assert got == pytest.approx(reference_score(scores, weights), rel=1e-9, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(account(), custom_weights(), st.integers(0, 4), score_value)
def test_property_monotone_in_each_dimension(
    scores: dict[str, float | None], weights: dict[str, float], which: int, other: float
) -> None:
    dim = ENGINE_DIMS[which]
    low, high = dict(scores), dict(scores)
    given_value = scores[dim]
    current = given_value if given_value is not None else other
    low[dim], high[dim] = min(current, other), max(current, other)
    assert health_score(low, weights) <= health_score(high, weights)


@settings(max_examples=150, deadline=None)
@given(account(), custom_weights(), st.floats(min_value=1e-3, max_value=1e3))
def test_property_scaling_weights_changes_nothing(
    scores: dict[str, float | None], weights: dict[str, float], k: float
) -> None:
    scaled = {d: k * w for d, w in weights.items()}
    assert health_score(scores, scaled) == pytest.approx(health_score(scores, weights), rel=1e-12, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(score_value, custom_weights(), st.lists(st.booleans(), min_size=5, max_size=5))
def test_property_constant_scores_give_ten_times_the_constant(
    c: float, weights: dict[str, float], missing: list[bool]
) -> None:
    if all(missing):
        missing[0] = False
    scores = {d: (None if gone else c) for d, gone in zip(ENGINE_DIMS, missing, strict=True)}
    assert health_score(scores, weights) == pytest.approx(10 * c, abs=1e-9)  # 10*c*sum(w)/sum(w)


@settings(max_examples=100, deadline=None)
@given(account(), st.sampled_from(["engine", "growth"]))
def test_property_explain_sums(scores: dict[str, float | None], preset: str) -> None:
    growth_dims = ("usage", "engagement", "relationship", "financial")
    if preset == "growth" and all(scores[d] is None for d in growth_dims):
        scores = {**scores, "usage": 5.0}
    table = explain_health(scores, preset)
    assert table["points"].sum() == pytest.approx(health_score(scores, preset), abs=1e-9)
    assert (table["points"] + table["lost"]).sum() == pytest.approx(100.0, abs=1e-9)
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert list(table["lost"]) == sorted(table["lost"], reverse=True)


@settings(max_examples=50, deadline=None)
@given(st.lists(account(), min_size=1, max_size=20))
def test_property_table_path_matches_reference_row_by_row(rows: list[dict[str, float | None]]) -> None:
    frame = pd.DataFrame(rows, dtype=float)
    got = health_score(frame)
    engine = {"usage": 0.30, "engagement": 0.20, "relationship": 0.15, "outcomes": 0.20, "financial": 0.15}
    assert got.to_numpy() == pytest.approx([reference_score(r, engine) for r in rows], rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------------------------------------------------
# The scalar fast path (one account as plain numbers) is the general formula, bit for bit, errors word for word
# --------------------------------------------------------------------------------------------------------------------

_SCORE = st.one_of(st.none(), st.just(NAN), st.floats(-2, 12, allow_nan=False), st.integers(-1, 11))


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries({}, optional={d: _SCORE for d in ENGINE_DIMS}),
    st.sampled_from(["engine", "growth", {"usage": 2, "financial": 1}]),
)
def test_scalar_path_equals_array_path(scores: dict[str, Any], weights: Any) -> None:
    # the array path is forced by wrapping every value in a one-element list
    def run(arg: Any) -> tuple[str, Any]:
        try:
            out = health_score(arg, weights)
        except InputError as err:
            return "error", str(err).replace(" (at position 0)", "")
        return "ok", float(np.asarray(out).reshape(-1)[0])

    scalar = run(dict(scores))
    array = run({k: [v] for k, v in scores.items()}) if scores else run(dict(scores))
    assert scalar == array
