"""NPS, CSAT, CES, NPS categories, follow-up routing and the survey summary.

Formulas from the agent spec ("NPS / CSAT / CES"): NPS = % promoters (9-10) - % detractors (0-6); CSAT = top-2-box
share x 100; CES = mean answer. Every expected number is hand-computed in its row's comment; results are ratios of
small integers, compared with pytest.approx(abs=1e-9).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csxl.errors import InputError, TableError
from csxl.surveys import (
    NPS_FOLLOWUP,
    NPS_FOLLOWUP_QUESTIONS,
    NpsFollowup,
    SurveySummary,
    ces,
    csat,
    nps,
    nps_category,
    nps_followup,
    survey_summary,
)

TOL = 1e-9
NAN = float("nan")


# --------------------------------------------------------------------------------------------------------------------
# NPS
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([10, 9, 10, 9, 10, 7, 8, 7, 3, 6], 30.0),  # 10 answers: 5 promoters, 3 passives, 2 detractors -> 50 - 20
        ([0, 1, 2, 3, 4, 5, 6], -100.0),  # all detractors: 0 - 100
        ([9, 10, 10], 100.0),  # all promoters: 100 - 0
        ([7, 8, 7, 8], 0.0),  # all passives: 0 - 0
        ([6, 7, 8, 9], 0.0),  # boundaries: 6 detractor, 7-8 passive, 9 promoter -> 25 - 25
        ([10, 10, 10, 0], 50.0),  # 75 - 25
        ([9, 6, 6], -100 / 3),  # 33.33 - 66.67 = -33.33
        ([10], 100.0),  # a single answer
        (10, 100.0),  # a scalar is one answer
        ([10, None, 9, NAN, "", "  ", 3], 100 / 3),  # blanks skipped: 3 answered, 2 P 1 D -> 66.67 - 33.33
        (["10", " 9 ", 3.0], 100 / 3),  # numeric text and whole floats count: same as above
        (np.array([9, 9, 0, 0, 7]), 0.0),  # 40 - 40
        (pd.Series([10, 2], index=["a", "b"]), 0.0),  # 50 - 50
    ],
)
def test_nps(scores: Any, expected: float) -> None:
    assert nps(scores) == pytest.approx(expected, abs=TOL)


BAD_NPS = [
    (["great"], "a number"),  # text
    ([11], "a whole number 0..10"),
    ([-1], "a whole number 0..10"),
    ([7.5], "a whole number 0..10"),  # fractions are not answers
    ([True], "a number"),  # booleans are not scores
    ([], "at least one answered score"),  # no responses
    ([None, NAN, ""], "at least one answered score"),  # only blanks
]


@pytest.mark.parametrize(("scores", "rule"), BAD_NPS)
def test_nps_bad_input(scores: Any, rule: str) -> None:
    with pytest.raises(InputError, match="nps scores must be") as info:
        nps(scores)
    assert rule in str(info.value)


# --------------------------------------------------------------------------------------------------------------------
# CSAT and CES
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "scale", "expected"),
    [
        ([5, 4, 3, 2, 1], 5, 40.0),  # top-2-box 4-5: 2 of 5 -> 40 %
        ([5, 5, 4, 4], 5, 100.0),  # 4 of 4
        ([1, 2, 3], 5, 0.0),  # 0 of 3
        ([5, None, 3, NAN], 5, 50.0),  # blanks skipped: 1 of 2
        ([10, 9, 8], 10, 200 / 3),  # 10-point scale: top two are 9-10 -> 2 of 3 = 66.67 %
        ([7, 6, 5, 1], 7, 50.0),  # 7-point scale: 6-7 -> 2 of 4
        ([3, 2, 1], 3, 200 / 3),  # 3-point scale: 2-3 -> 2 of 3
    ],
)
def test_csat(scores: Any, scale: int, expected: float) -> None:
    assert csat(scores, scale=scale) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("scores", "scale", "expected"),
    [
        ([1, 7], 7, 4.0),  # (1 + 7) / 2
        ([5, 6, 7], 7, 6.0),  # 18 / 3
        ([2, None, 4], 7, 3.0),  # blank skipped: 6 / 2
        ([4], 7, 4.0),
        ([1, 2, 2], 5, 5 / 3),  # 5-point scale: 5 / 3
    ],
)
def test_ces(scores: Any, scale: int, expected: float) -> None:
    assert ces(scores, scale=scale) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: csat([0, 5]), "csat scores must be a whole number 1..5"),  # CSAT starts at 1
        (lambda: csat([6]), "csat scores must be a whole number 1..5"),
        (lambda: csat([4.5]), "csat scores must be a whole number 1..5"),
        (lambda: csat([]), "csat scores must be at least one answered score"),
        (lambda: csat([5], scale=2), "csat scale must be a whole number of points >= 3"),
        (
            lambda: csat([5], scale=5.5),  # type: ignore[arg-type]
            "csat scale must be a whole number of points >= 3",
        ),
        (lambda: csat([5], scale=True), "csat scale must be a whole number of points >= 3"),
        (lambda: ces([8]), "ces scores must be a whole number 1..7"),
        (lambda: ces([6], scale=5), "ces scores must be a whole number 1..5"),
        (lambda: ces(["easy"]), "ces scores must be a number"),
        (lambda: ces([None]), "ces scores must be at least one answered score"),
    ],
)
def test_csat_ces_bad_input(call: Any, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        call()


# --------------------------------------------------------------------------------------------------------------------
# Categories and follow-up routing
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "Detractor"), (6, "Detractor"), (7, "Passive"), (8, "Passive"), (9, "Promoter"), (10, "Promoter")],
)
def test_nps_category_boundaries(score: int, expected: str) -> None:
    # spec: Promoters 9-10, Passives 7-8, Detractors 0-6
    assert nps_category(score) == expected


def test_nps_category_vectorised() -> None:
    series = pd.Series([9, 7.0, None, 0], index=list("wxyz"), name="nps")
    got = nps_category(series)
    assert isinstance(got, pd.Series)
    assert got.index.tolist() == list("wxyz")
    assert got.name == "nps"
    assert got.tolist() == ["Promoter", "Passive", None, "Detractor"]
    assert nps_category(np.array([10, 3])).tolist() == ["Promoter", "Detractor"]
    assert nps_category(None) is None
    with pytest.raises(InputError, match=re.escape("nps score must be a whole number 0..10")):
        nps_category([3, 12])


def test_followup_table_is_the_spec_table() -> None:
    # agent spec "NPS response SLAs and workflow": Detractors 24 h, Passives 48 h, Promoters 1 week = 7 x 24 = 168 h
    assert {k: (v.sla_hours, v.owner) for k, v in NPS_FOLLOWUP.items()} == {
        "Detractor": (24, "CSM/CS Lead"),
        "Passive": (48, "CSM"),
        "Promoter": (168, "CSM/Marketing"),
    }
    assert NPS_FOLLOWUP["Detractor"].action.startswith("Personal call")
    assert NPS_FOLLOWUP["Passive"].action.startswith("Email follow-up")
    assert "referral" in NPS_FOLLOWUP["Promoter"].action
    assert NPS_FOLLOWUP_QUESTIONS["Detractor"][-1] == "Open to a call?"


@pytest.mark.parametrize(
    ("score", "category", "hours", "owner"),
    [(0, "Detractor", 24, "CSM/CS Lead"), (6, "Detractor", 24, "CSM/CS Lead"), (8, "Passive", 48, "CSM"),
     (9, "Promoter", 168, "CSM/Marketing")],
)  # fmt: skip
def test_nps_followup_scalar(score: int, category: str, hours: int, owner: str) -> None:
    got = nps_followup(score)
    assert isinstance(got, NpsFollowup)
    assert got[:3] == (category, hours, owner)
    assert got.action == NPS_FOLLOWUP[category].action


def test_nps_followup_vectorised() -> None:
    got = nps_followup(pd.Series([10, None, 3], index=[7, 8, 9]))
    assert list(got.columns) == ["category", "sla_hours", "owner", "action"]
    assert got.index.tolist() == [7, 8, 9]
    assert got["category"].tolist() == ["Promoter", None, "Detractor"]
    assert got["sla_hours"].tolist() == [168, pd.NA, 24]
    assert got["owner"].tolist() == ["CSM/Marketing", None, "CSM/CS Lead"]
    assert nps_followup(None) is None
    assert len(nps_followup([])) == 0


# --------------------------------------------------------------------------------------------------------------------
# Properties against an independent count
# --------------------------------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 10), st.none()), min_size=1).filter(lambda xs: any(x is not None for x in xs)))
def test_nps_matches_a_plain_count(scores: list[int | None]) -> None:
    answered = [s for s in scores if s is not None]
    counts = Counter("P" if s >= 9 else "D" if s <= 6 else "N" for s in answered)
    expected = 100 * (counts["P"] - counts["D"]) / len(answered)
    got = nps(scores)
    assert got == pytest.approx(expected, abs=TOL)
    assert -100 <= got <= 100


@settings(max_examples=200, deadline=None)
@given(st.integers(3, 11).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(1, n), min_size=1))))
def test_csat_and_ces_match_plain_arithmetic(case: tuple[int, list[int]]) -> None:
    scale, scores = case
    top = sum(1 for s in scores if s >= scale - 1)
    assert csat(scores, scale=scale) == pytest.approx(100 * top / len(scores), abs=TOL)
    assert ces(scores, scale=scale) == pytest.approx(sum(scores) / len(scores), abs=TOL)
    assert min(scores) - TOL <= ces(scores, scale=scale) <= max(scores) + TOL


# --------------------------------------------------------------------------------------------------------------------
# Summary over a responses table
# --------------------------------------------------------------------------------------------------------------------


def responses(kinds: list[str], scores: list[Any]) -> pd.DataFrame:
    n = len(kinds)
    frame: pd.DataFrame = pd.DataFrame(
        {"account": [f"A{i}" for i in range(n)], "date": ["2024-06-01"] * n, "kind": kinds, "score": scores}
    )
    return frame


def test_survey_summary() -> None:
    table = responses(
        ["nps", "NPS", "nps", "nps", "csat", "csat", "CSAT", "ces", "ces"],
        [10, 9, 8, 3, 5, 4, 2, 3, 5],
    )
    got = survey_summary(table)
    assert isinstance(got, SurveySummary)
    assert got.model_dump() == {
        "nps": pytest.approx(25.0, abs=TOL),  # 4 NPS answers: 2 P, 1 N, 1 D -> 50 - 25
        "csat": pytest.approx(200 / 3, abs=TOL),  # 5, 4 in the top 2 boxes of 3 -> 66.67 %
        "ces": pytest.approx(4.0, abs=TOL),  # (3 + 5) / 2
        "nps_responses": 4,
        "csat_responses": 3,
        "ces_responses": 2,
        "promoters": 2,
        "passives": 1,
        "detractors": 1,
    }


def test_survey_summary_of_an_empty_table() -> None:
    got = survey_summary(responses([], []))
    assert (got.nps, got.csat, got.ces) == (None, None, None)
    assert (got.nps_responses, got.csat_responses, got.ces_responses) == (0, 0, 0)


def test_survey_summary_with_one_kind_missing() -> None:
    got = survey_summary(responses(["csat", "csat"], [1, 5]))
    assert got.nps is None
    assert got.csat == pytest.approx(50.0, abs=TOL)  # 1 of 2 in the top two boxes
    assert got.promoters == got.passives == got.detractors == 0


def test_survey_summary_reports_every_bad_row() -> None:
    table = responses(["nps", "csat", "survey", "ces"], [10, 9, 3, None])
    with pytest.raises(TableError) as info:
        survey_summary(table)
    got = [(i.row, i.column, i.rule) for i in info.value.issues]
    assert got == [
        (3, "score", "1..5 for csat"),  # a 9 is not a CSAT answer
        (4, "kind", "one of nps, csat, ces"),
        (5, "score", "filled in (required)"),  # a response row without a score
    ]
