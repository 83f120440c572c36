"""Signal ratings (Red/Yellow/Green) and the five 0..10 dimension scores.

Expected ratings come from the agent spec's "Red/Yellow/Green thresholds per signal" with the boundary decisions of
docs/signals.md; expected scores are hand-computed with the band formula ``lo + (hi - lo) * position`` (bands 0..3,
4..6, 7..10) shown in the comment of each row. Scores are compared with abs=1e-9 (pure float arithmetic).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from csxl.dimensions import score_engagement, score_financial, score_outcomes, score_relationship, score_usage
from csxl.errors import InputError
from csxl.signals import SIGNALS, CategoricalSignal, NumericSignal, signal_rag

TOL = 1e-9
NAN = float("nan")

# --------------------------------------------------------------------------------------------------------------------
# signal_rag
# --------------------------------------------------------------------------------------------------------------------

NUMERIC_CASES = [
    # logins_per_week: spec Red ">14 days no login" (< 0.5/week), Yellow 1-2x/week, Green 3+/week; gaps -> Yellow
    ("logins_per_week", 0, "Red"),
    ("logins_per_week", 0.49, "Red"),
    ("logins_per_week", 0.5, "Yellow"),  # one login in 14 days is not "> 14 days no login"
    ("logins_per_week", 1, "Yellow"),
    ("logins_per_week", 2.99, "Yellow"),
    ("logins_per_week", 3, "Green"),
    ("logins_per_week", 12.5, "Green"),
    # days_since_login: Red > 14 (spec); Green <= 2 (3+/week = a login every 7/3 days); else Yellow
    ("days_since_login", 0, "Green"),
    ("days_since_login", 2, "Green"),
    ("days_since_login", 2.5, "Yellow"),
    ("days_since_login", 14, "Yellow"),
    ("days_since_login", 14.5, "Red"),
    ("days_since_login", 400, "Red"),
    # features_adopted: Red 1 (and 0), Yellow 2-3, Green 4+
    ("features_adopted", 0, "Red"),
    ("features_adopted", 1, "Red"),
    ("features_adopted", 2, "Yellow"),
    ("features_adopted", 3, "Yellow"),
    ("features_adopted", 4, "Green"),
    # core_action_trend: Red declining > 30 %, Yellow flat/slight decline, Green growing (> 0)
    ("core_action_trend", -1.0, "Red"),
    ("core_action_trend", -0.31, "Red"),
    ("core_action_trend", -0.30, "Yellow"),  # a 30 % decline is not "more than 30 %"
    ("core_action_trend", 0.0, "Yellow"),  # flat
    ("core_action_trend", 0.001, "Green"),
    ("core_action_trend", 3.0, "Green"),
    # seat_adoption: Red < 25 %, Yellow 25-75 % (both edges), Green > 75 %
    ("seat_adoption", 0.0, "Red"),
    ("seat_adoption", 0.2499, "Red"),
    ("seat_adoption", 0.25, "Yellow"),
    ("seat_adoption", 0.75, "Yellow"),
    ("seat_adoption", 0.7501, "Green"),
    ("seat_adoption", 1.0, "Green"),
    # contacts (multi-threading): Red single contact (and 0), Yellow 2-3, Green 4+
    ("contacts", 0, "Red"),
    ("contacts", 1, "Red"),
    ("contacts", 2, "Yellow"),
    ("contacts", 3, "Yellow"),
    ("contacts", 4, "Green"),
    # nps: detractor 0-6, passive 7-8, promoter 9-10
    ("nps", 0, "Red"),
    ("nps", 6, "Red"),
    ("nps", 7, "Yellow"),
    ("nps", 8, "Yellow"),
    ("nps", 9, "Green"),
    ("nps", 10, "Green"),
    ("nps", "9", "Green"),  # numeric text is a number
]


@pytest.mark.parametrize(("signal", "value", "expected"), NUMERIC_CASES)
def test_numeric_signal_thresholds(signal: str, value: Any, expected: str) -> None:
    assert signal_rag(signal, value) == expected


CATEGORICAL_CASES = [
    # spec: Integration Red disconnected; Yellow partial; Green fully connected
    ("integration", "disconnected", "Red"),
    ("integration", "none", "Red"),
    ("integration", "partial", "Yellow"),
    ("integration", "connected", "Green"),
    ("integration", "Fully-Connected", "Green"),
    # Support: Red multiple escalations; Yellow normal volume; Green low/positive
    ("support", "escalations", "Red"),
    ("support", "escalated", "Red"),
    ("support", "normal", "Yellow"),
    ("support", "low", "Green"),
    ("support", "positive", "Green"),
    # Outreach response: Red no response; Yellow delayed; Green prompt
    ("outreach_response", "none", "Red"),
    ("outreach_response", "No Response", "Red"),
    ("outreach_response", "delayed", "Yellow"),
    ("outreach_response", "prompt", "Green"),
    # Champion: Red no champion/left; Yellow weak/new; Green strong advocate
    ("champion", "none", "Red"),
    ("champion", "left", "Red"),
    ("champion", "weak", "Yellow"),
    ("champion", "new", "Yellow"),
    ("champion", "STRONG", "Green"),
    # Executive sponsor: Red none; Yellow identified not engaged; Green engaged
    ("exec_sponsor", "none", "Red"),
    ("exec_sponsor", "identified", "Yellow"),
    ("exec_sponsor", "engaged", "Green"),
    # Payment: Red failed/overdue; Yellow late; Green on-time (+ the engine template's current/delinquent)
    ("payment", "failed", "Red"),
    ("payment", "overdue", "Red"),
    ("payment", "delinquent", "Red"),
    ("payment", "late", "Yellow"),
    ("payment", "on-time", "Green"),
    ("payment", "On Time", "Green"),
    ("payment", "on_time", "Green"),
    ("payment", " current ", "Green"),
    # Contract trend: Red downgraded; Yellow flat; Green expanded
    ("contract_trend", "downgraded", "Red"),
    ("contract_trend", "flat", "Yellow"),
    ("contract_trend", "Expanded", "Green"),
    # Login trend (simple points, Model 1: declining 0 / flat 1 / growing 2), with the loader's synonyms
    ("login_trend", "down", "Red"),
    ("login_trend", "Declining", "Red"),
    ("login_trend", "flat", "Yellow"),
    ("login_trend", "stable", "Yellow"),
    ("login_trend", "up", "Green"),
    ("login_trend", "growing", "Green"),
]


@pytest.mark.parametrize(("signal", "value", "expected"), CATEGORICAL_CASES)
def test_categorical_signal_labels(signal: str, value: str, expected: str) -> None:
    assert signal_rag(signal, value) == expected


def test_registry_covers_every_spec_signal() -> None:
    # the agent spec lists 13 signals; csxl adds days_since_login as a second form of login frequency
    assert set(SIGNALS) == {
        "logins_per_week",
        "days_since_login",
        "features_adopted",
        "core_action_trend",
        "seat_adoption",
        "integration",
        "support",
        "outreach_response",
        "champion",
        "contacts",
        "exec_sponsor",
        "payment",
        "contract_trend",
        "nps",
        "login_trend",  # the simple-points engagement signal (down / flat / up), csxl's 15th
    }


@pytest.mark.parametrize("signal", sorted(SIGNALS))
@pytest.mark.parametrize("missing", [None, NAN, "", "  ", pd.NA])
def test_missing_value_gives_none(signal: str, missing: Any) -> None:
    assert signal_rag(signal, missing) is None


def test_vector_input_gives_object_array() -> None:
    out = signal_rag("seat_adoption", [0.1, 0.25, None, 0.9])
    assert isinstance(out, np.ndarray)
    assert out.dtype == object
    assert out.tolist() == ["Red", "Yellow", None, "Green"]  # .1 < .25; .25 edge is Yellow; .9 > .75


def test_series_keeps_index_name_and_none() -> None:
    values = pd.Series(["late", None, "Current"], index=["acme", "blue", "cedar"], name="pay")
    out = signal_rag("payment", values)
    assert isinstance(out, pd.Series)
    assert out.index.tolist() == ["acme", "blue", "cedar"]
    assert out.name == "pay"
    assert out.dtype == object
    assert out.tolist() == ["Yellow", None, "Green"]


def test_empty_input() -> None:
    out = signal_rag("nps", [])
    assert isinstance(out, np.ndarray)
    assert out.size == 0


def test_signal_name_is_case_insensitive() -> None:
    assert signal_rag(" NPS ", 10) == "Green"


@pytest.mark.parametrize(
    ("signal", "value", "message"),
    [
        ("nps", "great", "nps must be a number (0..10), got 'great'"),
        ("nps", 11, "nps must be 0..10, got 11"),
        ("nps", -1, "nps must be 0..10, got -1"),
        ("nps", 7.5, "nps must be a whole number 0..10, got 7.5"),
        ("nps", True, "nps must be a number (0..10), got True"),
        ("seat_adoption", 1.2, "seat_adoption must be 0..1, got 1.2"),
        ("contacts", 2.5, "contacts must be a whole number >= 0, got 2.5"),
        ("core_action_trend", -1.5, "core_action_trend must be >= -1, got -1.5"),
        ("logins_per_week", -2, "logins_per_week must be >= 0, got -2"),
        ("payment", "paid", "payment must be one of failed, overdue, delinquent, late, on-time, current, got 'paid'"),
        ("payment", 2, "payment must be one of failed, overdue, delinquent, late, on-time, current, got 2"),
        ("champion", "Alex Kim", "champion must be one of none, left, weak, new, strong, got 'Alex Kim'"),
        ("integration", True, "integration must be one of disconnected, none, partial, connected, fully connected"),
    ],
)
def test_bad_values_raise_naming_field_value_rule(signal: str, value: Any, message: str) -> None:
    with pytest.raises(InputError) as err:
        signal_rag(signal, value)
    assert str(err.value).startswith(message)


def test_bad_value_in_series_names_its_row() -> None:
    with pytest.raises(InputError, match=r"^nps must be 0\.\.10, got 12 \(at 'b'; 1 more bad value\(s\)\)$"):
        signal_rag("nps", pd.Series([3, 12, 15], index=["a", "b", "c"]))


def test_unknown_signal_lists_valid_names() -> None:
    with pytest.raises(InputError) as err:
        signal_rag("logins", 3)
    text = str(err.value)
    assert text.startswith("signal must be one of logins_per_week, days_since_login, ")
    assert text.endswith(", got 'logins'")
    assert all(name in text for name in SIGNALS)


def test_thresholds_override_by_mapping() -> None:
    # default nps 8 is Yellow (7-8); with Green from 8 it is Green; the registry itself is unchanged
    assert signal_rag("nps", 8, thresholds={"green": (">=", 8)}) == "Green"
    assert signal_rag("nps", 8) == "Yellow"


def test_thresholds_override_by_definition() -> None:
    strict = NumericSignal(name="seat_adoption", meaning="x", green=(">=", 0.9), yellow=(">=", 0.5), lo=0, hi=1)
    # .8 is Green by default (> .75) but Yellow under 0.5 <= x < 0.9
    assert signal_rag("seat_adoption", [0.4, 0.8, 0.9], thresholds=strict).tolist() == ["Red", "Yellow", "Green"]
    relabelled = SIGNALS["payment"].model_copy(update={"yellow": ("late", "grace")})
    assert signal_rag("payment", "grace", thresholds=relabelled) == "Yellow"


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"green": ("<", 3)}, "must point the same way"),
        ({"green": (">=", 5)}, "every Green value must also pass yellow"),  # green 5 below yellow 7
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_invalid_override_raises(override: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InputError, match=r"^thresholds must be valid for nps") as err:
        signal_rag("nps", 8, thresholds=override)
    assert fragment in str(err.value)


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        SIGNALS["nps"] = SIGNALS["contacts"]  # type: ignore[index]
    with pytest.raises(ValidationError):
        SIGNALS["nps"].name = "x"  # type: ignore[misc]


def test_categorical_definition_rejects_a_label_in_two_ratings() -> None:
    with pytest.raises(ValidationError, match="one rating only"):
        CategoricalSignal(name="x", meaning="x", red=("late",), yellow=("Late",), green=("ok",))


@given(st.floats(0, 1), st.floats(0, 1))
def test_numeric_rating_is_monotone(a: float, b: float) -> None:
    order = {"Red": 0, "Yellow": 1, "Green": 2}
    lo, hi = min(a, b), max(a, b)
    assert order[signal_rag("seat_adoption", lo)] <= order[signal_rag("seat_adoption", hi)]
    # days since login: fewer days is better
    assert order[signal_rag("days_since_login", 30 * hi)] <= order[signal_rag("days_since_login", 30 * lo)]


# --------------------------------------------------------------------------------------------------------------------
# score_usage: band <.2 -> 0..3, .2..4 -> 4..6, >.4 -> 7..10; position linear, top saturates at .6
# --------------------------------------------------------------------------------------------------------------------

USAGE_CASES = [
    (0.0, None, 0.0),  # low band, position 0/.2 = 0 -> 0
    (0.1, None, 1.5),  # 3 * .1/.2 = 1.5
    (0.19, None, 2.85),  # 3 * .19/.2 = 2.85
    (0.2, None, 4.0),  # .2 belongs to the middle band: 4 + 2 * 0 = 4
    (0.3, None, 5.0),  # 4 + 2 * (.3-.2)/.2 = 5
    (0.4, None, 6.0),  # .4 belongs to the middle band: 4 + 2 * 1 = 6
    (0.41, None, 7.15),  # 7 + 3 * (.41-.4)/.2 = 7.15
    (0.5, None, 8.5),  # 7 + 3 * .5 = 8.5
    (0.6, None, 10.0),  # saturation: 7 + 3 * 1
    (0.95, None, 10.0),  # above saturation stays 10
    (0.3, 0.5, 5.0),  # 4 + 2 * mean(.5, .5) = 5
    (0.3, 1.0, 5.5),  # 4 + 2 * mean(.5, 1) = 5.5
    (0.1, 1.0, 2.25),  # 3 * mean(.5, 1) = 2.25 (breadth never lifts the band)
    (0.19, 1.0, 2.925),  # 3 * mean(.95, 1) = 2.925
    (0.5, 0.0, 7.75),  # 7 + 3 * mean(.5, 0) = 7.75
    (0.9, 0.0, 8.5),  # 7 + 3 * mean(1, 0) = 8.5
    (0.3, NAN, 5.0),  # missing breadth entry = breadth not given: 4 + 2 * .5
    (None, 0.5, NAN),  # missing DAU/MAU -> no score
]


@pytest.mark.parametrize(("dau_mau", "breadth", "expected"), USAGE_CASES)
def test_score_usage(dau_mau: Any, breadth: Any, expected: float) -> None:
    assert score_usage(dau_mau, breadth) == pytest.approx(expected, abs=TOL, nan_ok=True)


def test_score_usage_custom_bands() -> None:
    # bands (.1, .3), saturation .5: .2 is mid-band -> 4 + 2 * (.2-.1)/.2 = 5; .4 -> 7 + 3 * (.4-.3)/.2 = 8.5
    assert score_usage([0.2, 0.4], bands=(0.1, 0.3), saturation=0.5).tolist() == pytest.approx([5.0, 8.5], abs=TOL)


# --------------------------------------------------------------------------------------------------------------------
# score_engagement: down 0..3, flat 4..6, up 7..10; position = mean(1 - tickets/10, community), missing part = .5
# --------------------------------------------------------------------------------------------------------------------

ENGAGEMENT_CASES = [
    ("down", None, None, 1.5),  # band midpoint 0 + 3 * .5
    ("flat", None, None, 5.0),  # 4 + 2 * .5
    ("up", None, None, 8.5),  # 7 + 3 * .5
    ("Declining", None, None, 1.5),
    (" STABLE ", None, None, 5.0),
    ("growing", None, None, 8.5),
    (-0.31, None, None, 1.5),  # numeric change < -.30 is down
    (-0.30, None, None, 5.0),  # -.30 is flat/slight decline
    (0.0, None, None, 5.0),  # no change is flat
    (0.05, None, None, 8.5),  # > 0 is up
    ("-0.5", None, None, 1.5),  # numeric text is a change
    ("flat", 2, True, 5.8),  # 4 + 2 * mean(1 - 2/10, 1) = 4 + 2 * .9
    ("up", 0, True, 10.0),  # 7 + 3 * mean(1, 1)
    ("down", 10, False, 0.0),  # 0 + 3 * mean(0, 0)
    ("down", 25, False, 0.0),  # tickets beyond the cap stay at component 0
    ("up", 5, None, 8.5),  # 7 + 3 * mean(.5, missing .5)
    ("up", None, False, 7.75),  # 7 + 3 * mean(missing .5, 0)
    ("flat", 0, None, 5.5),  # 4 + 2 * mean(1, .5) = 5.5
    ("flat", NAN, "yes", 5.5),  # 4 + 2 * mean(.5, 1) = 5.5
    (None, 0, True, NAN),  # no login trend -> no score
]


@pytest.mark.parametrize(("trend", "tickets", "community", "expected"), ENGAGEMENT_CASES)
def test_score_engagement(trend: Any, tickets: Any, community: Any, expected: float) -> None:
    assert score_engagement(trend, tickets, community) == pytest.approx(expected, abs=TOL, nan_ok=True)


def test_score_engagement_tickets_cap() -> None:
    # cap 20: 4 + 2 * (1 - 10/20) = 5 (only the ticket part; community not given counts .5 -> mean(.5, .5))
    assert score_engagement("flat", 10, tickets_cap=20) == pytest.approx(5.0, abs=TOL)
    # cap 20, community active: 4 + 2 * mean(.5, 1) = 5.5
    assert score_engagement("flat", 10, True, tickets_cap=20) == pytest.approx(5.5, abs=TOL)


# --------------------------------------------------------------------------------------------------------------------
# score_relationship: no champion 0..3, champion only 4..6, champion + (sponsor or 4+ contacts) 7..10;
# position = (contacts - 1) / 3 clipped to 0..1, missing contacts = .5
# --------------------------------------------------------------------------------------------------------------------

RELATIONSHIP_CASES = [
    ("Ana Ruiz", None, 2, 4 + 2 / 3),  # champion only: 4 + 2 * (2-1)/3 = 4.667
    ("Ana Ruiz", None, 3, 4 + 4 / 3),  # 4 + 2 * 2/3 = 5.333
    ("Ana Ruiz", False, 1, 4.0),  # 4 + 2 * 0
    ("Ana Ruiz", None, 4, 10.0),  # 4 contacts = multi-threaded: 7 + 3 * 1
    ("Ana Ruiz", "VP Ops", 3, 9.0),  # sponsor = multi-threaded: 7 + 3 * 2/3
    ("Ana Ruiz", "identified", 1, 7.0),  # a status other than none counts as a sponsor: 7 + 3 * 0
    (True, True, None, 8.5),  # 7 + 3 * .5 (contacts unknown)
    ("strong", "none", None, 5.0),  # 4 + 2 * .5
    (None, None, 3, NAN),  # blank champion = unknown (not "no champion"): no band, no score
    ("left", "VP Ops", 1, 0.0),  # champion left: 0 + 3 * 0
    ("none", None, None, 1.5),  # 0 + 3 * .5
    (False, None, 8, 3.0),  # 0 + 3 * min(1, 7/3)
    (None, None, None, NAN),  # nothing known -> no score
    ("", " ", NAN, NAN),  # blank text is nothing known too
]


@pytest.mark.parametrize(("champion", "sponsor", "contacts", "expected"), RELATIONSHIP_CASES)
def test_score_relationship(champion: Any, sponsor: Any, contacts: Any, expected: float) -> None:
    assert score_relationship(champion, sponsor, contacts) == pytest.approx(expected, abs=TOL, nan_ok=True)


def test_score_relationship_contacts_green() -> None:
    # contacts_green 6: 4 contacts is not yet multi-threaded -> 4 + 2 * (4-1)/5 = 5.2; 6 -> 7 + 3 * 1 = 10
    got = score_relationship("Ana", None, [4, 6], contacts_green=6)
    assert got.tolist() == pytest.approx([5.2, 10.0], abs=TOL)


# --------------------------------------------------------------------------------------------------------------------
# score_outcomes: 0 met 0..3, some 4..6, all 7..10; position = mean(achieved/defined, roi)
# --------------------------------------------------------------------------------------------------------------------

OUTCOMES_CASES = [
    (4, 2, False, 4.5),  # 4 + 2 * mean(.5, 0)
    (4, 2, True, 5.5),  # 4 + 2 * mean(.5, 1)
    (5, 4, False, 4.8),  # 4 + 2 * mean(.8, 0)
    (3, 3, False, 8.5),  # 7 + 3 * mean(1, 0)
    (3, 3, True, 10.0),  # 7 + 3 * mean(1, 1)
    (5, 0, False, 0.0),  # 0 + 3 * mean(0, 0)
    (5, 0, True, 1.5),  # 0 + 3 * mean(0, 1)
    (1, 1, "yes", 10.0),  # 7 + 3 * mean(1, 1)
    (2, 1, None, 4.5),  # missing roi = not documented: 4 + 2 * mean(.5, 0)
    (0, 0, True, NAN),  # no goals defined: nothing to measure
    (None, 1, False, NAN),
    (3, None, False, NAN),
]


@pytest.mark.parametrize(("defined", "achieved", "roi", "expected"), OUTCOMES_CASES)
def test_score_outcomes(defined: Any, achieved: Any, roi: Any, expected: float) -> None:
    assert score_outcomes(defined, achieved, roi) == pytest.approx(expected, abs=TOL, nan_ok=True)


# --------------------------------------------------------------------------------------------------------------------
# score_financial: late or worse 0..3, on time 4..6, on time + expanding 7..10;
# position = mean(payment part (0 failed/overdue/delinquent, 1 otherwise), 1 - contraction_risk)
# --------------------------------------------------------------------------------------------------------------------

FINANCIAL_CASES = [
    ("delinquent", False, False, 1.5),  # 0 + 3 * mean(0, 1)
    ("failed", False, True, 0.0),  # 0 + 3 * mean(0, 0)
    ("overdue", True, False, 1.5),  # expanding does not lift a late payer: 0 + 3 * mean(0, 1)
    ("late", False, False, 3.0),  # 0 + 3 * mean(1, 1)
    ("late", True, True, 1.5),  # 0 + 3 * mean(1, 0)
    ("current", False, False, 6.0),  # 4 + 2 * mean(1, 1)
    ("On-Time", False, True, 5.0),  # 4 + 2 * mean(1, 0)
    ("current", True, False, 10.0),  # 7 + 3 * mean(1, 1)
    ("current", "yes", 1, 8.5),  # 7 + 3 * mean(1, 0)
    ("current", None, NAN, 6.0),  # missing flags = no: 4 + 2 * mean(1, 1)
    (None, True, False, NAN),  # no payment status -> no score
]


@pytest.mark.parametrize(("payment", "expanding", "risk", "expected"), FINANCIAL_CASES)
def test_score_financial(payment: Any, expanding: Any, risk: Any, expected: float) -> None:
    assert score_financial(payment, expanding, risk) == pytest.approx(expected, abs=TOL, nan_ok=True)


# --------------------------------------------------------------------------------------------------------------------
# Vectors, Series, broadcasting
# --------------------------------------------------------------------------------------------------------------------


def _columns(cases: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*cases, strict=True)]


@pytest.mark.parametrize(
    ("function", "cases"),
    [
        (score_usage, USAGE_CASES),
        (score_engagement, ENGAGEMENT_CASES),
        (score_relationship, RELATIONSHIP_CASES),
        (score_outcomes, OUTCOMES_CASES),
        (score_financial, FINANCIAL_CASES),
    ],
)
def test_vector_call_matches_the_scalar_table(function: Any, cases: list[tuple[Any, ...]]) -> None:
    # the whole hand-computed table in one call (object columns mixing labels, numbers and blanks)
    *inputs, expected = _columns(cases)
    got = function(*[np.array(column, dtype=object) for column in inputs])
    assert isinstance(got, np.ndarray)
    assert got.tolist() == pytest.approx(expected, abs=TOL, nan_ok=True)
    # as Series on a shared index: same numbers, index kept
    index = pd.Index([f"acct{i}" for i in range(len(cases))])
    series = function(*[pd.Series(column, index=index, dtype=object) for column in inputs])
    assert isinstance(series, pd.Series)
    assert series.index.equals(index)
    assert series.tolist() == pytest.approx(expected, abs=TOL, nan_ok=True)


def test_numeric_series_keep_index() -> None:
    dau = pd.Series([0.1, 0.3], index=[10, 20], name="dau_mau")
    got = score_usage(dau, pd.Series([1.0, 0.5], index=[10, 20]))
    # 3 * mean(.5, 1) = 2.25; 4 + 2 * mean(.5, .5) = 5
    assert got.index.tolist() == [10, 20]
    assert got.tolist() == pytest.approx([2.25, 5.0], abs=TOL)


def test_scalar_arguments_broadcast() -> None:
    # current + expanding -> 10; late (expansion ignored) -> 3 (see FINANCIAL_CASES)
    assert score_financial(["current", "late"], True).tolist() == pytest.approx([10.0, 3.0], abs=TOL)
    # champion present for every row; contacts 1 and 4 -> 4 + 0 = 4 and multi-threaded 7 + 3 = 10
    assert score_relationship("Ana", None, [1, 4]).tolist() == pytest.approx([4.0, 10.0], abs=TOL)


def test_scalar_in_python_float_out() -> None:
    out = score_usage(0.3)
    assert type(out) is float
    assert out == pytest.approx(5.0, abs=TOL)  # 4 + 2 * .5


def test_empty_arrays() -> None:
    assert score_usage([]).size == 0
    assert score_financial([], True).size == 0


def test_bool_columns_and_string_dtype_work() -> None:
    trend = pd.Series(["up", "down"], dtype="string")
    got = score_engagement(trend, pd.Series([0, 10]), pd.Series([True, False]))
    # 7 + 3 * mean(1, 1) = 10; 0 + 3 * mean(0, 0) = 0
    assert got.tolist() == pytest.approx([10.0, 0.0], abs=TOL)


# --------------------------------------------------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: score_usage(1.5), "dau_mau must be 0..1, got 1.5"),
        (lambda: score_usage("high"), "dau_mau must be a number (0..1), got 'high'"),
        (lambda: score_usage([0.1, 2, 3]), "dau_mau must be 0..1, got 2 (at position 1; 1 more bad value(s))"),
        (lambda: score_usage(0.3, 1.2), "feature_breadth must be 0..1, got 1.2"),
        (
            lambda: score_usage(0.3, bands=(0.4, 0.2)),
            "bands and saturation must be increasing fractions, 0 < a < b < saturation <= 1, got (0.4, 0.2, 0.6)",
        ),
        (
            lambda: score_engagement("sideways"),
            "login_trend must be down, declining, flat, stable, up, growing, or a fractional change >= -1, "
            "got 'sideways'",
        ),
        (lambda: score_engagement(-1.5), "login_trend must be down, declining, flat, stable, up, growing"),
        (lambda: score_engagement("up", -1), "support_tickets_30d must be >= 0, got -1"),
        (
            lambda: score_engagement("up", 1, "maybe"),
            "community_active must be true/false (yes/no, 1/0, x), got 'maybe'",
        ),
        (lambda: score_engagement("up", tickets_cap=0), "tickets_cap must be a number > 0, got 0"),
        (lambda: score_relationship(5, None), "champion must be a name, true/false, or none/left, got 5"),
        (lambda: score_relationship("Ana", None, 2.5), "contacts must be a whole number >= 0, got 2.5"),
        (
            lambda: score_relationship("Ana", None, contacts_green=1),
            "contacts_green must be a whole number >= 2, got 1",
        ),
        (lambda: score_outcomes(3, 5), "goals_achieved must be <= goals_defined (3), got 5"),
        (
            lambda: score_outcomes([3, 2], [1, 5]),
            "goals_achieved must be <= goals_defined (2), got 5 (at position 1)",
        ),
        (lambda: score_outcomes(-1, 0), "goals_defined must be >= 0, got -1"),
        (lambda: score_outcomes(2.5, 1), "goals_defined must be a whole number >= 0, got 2.5"),
        (lambda: score_outcomes("three", 1), "goals_defined must be a number (>= 0), got 'three'"),
        (
            lambda: score_financial("paid"),
            "payment_status must be one of failed, overdue, delinquent, late, on-time, current, got 'paid'",
        ),
        (lambda: score_financial("late", 2), "expanding must be true/false (yes/no, 1/0, x), got 2"),
        (lambda: score_usage([0.1, 0.2], [0.1, 0.2, 0.3]), "argument lengths must be equal (or 1 for a single value)"),
        (
            lambda: score_usage(pd.Series([0.1]), pd.Series([0.5], index=[7])),
            "Series arguments must be on one index (align them first)",
        ),
    ],
)
def test_bad_inputs_raise_naming_field_value_rule(call: Any, message: str) -> None:
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value).startswith(message)


# --------------------------------------------------------------------------------------------------------------------
# Properties: every score in [0, 10], monotone non-decreasing in every good signal
# --------------------------------------------------------------------------------------------------------------------

fractions = st.floats(0, 1, allow_nan=False)
flags = st.booleans()
maybe_flags = st.one_of(st.none(), flags)


def _le(a: float, b: float) -> bool:
    return a <= b + 1e-12


@settings(max_examples=200, deadline=None)
@given(fractions, fractions, st.one_of(st.none(), fractions), st.one_of(st.none(), fractions))
def test_usage_in_range_and_monotone(x1: float, x2: float, b1: float | None, b2: float | None) -> None:
    lo, hi = min(x1, x2), max(x1, x2)
    for breadth in (b1, b2):
        s_lo, s_hi = score_usage(lo, breadth), score_usage(hi, breadth)
        assert 0 <= s_lo <= 10
        assert _le(s_lo, s_hi)
    if b1 is not None and b2 is not None:
        assert _le(score_usage(x1, min(b1, b2)), score_usage(x1, max(b1, b2)))


TRENDS = ["down", "flat", "up"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(TRENDS),
    st.one_of(st.none(), st.integers(0, 40)),
    st.integers(0, 40),
    maybe_flags,
    st.floats(-1, 5, allow_nan=False),
    st.floats(-1, 5, allow_nan=False),
)
def test_engagement_in_range_and_monotone(
    trend: str, t1: int | None, t2: int, community: bool | None, c1: float, c2: float
) -> None:
    score = score_engagement(trend, t1, community)
    assert 0 <= score <= 10
    better_trend = TRENDS[min(TRENDS.index(trend) + 1, 2)]
    assert _le(score, score_engagement(better_trend, t1, community))
    if t1 is not None:  # fewer tickets is better
        assert _le(score_engagement(trend, max(t1, t2), community), score_engagement(trend, min(t1, t2), community))
    assert _le(score_engagement(trend, t1, False), score_engagement(trend, t1, True))
    assert _le(score_engagement(min(c1, c2), t1, community), score_engagement(max(c1, c2), t1, community))


@settings(max_examples=200, deadline=None)
@given(maybe_flags, maybe_flags, st.one_of(st.none(), st.integers(0, 12)), st.integers(0, 12))
def test_relationship_in_range_and_monotone(
    champion: bool | None, sponsor: bool | None, n1: int | None, n2: int
) -> None:
    score = score_relationship(champion, sponsor, n1)
    if champion is None:  # unknown champion: the band is unknown
        assert math.isnan(score)
        return
    assert 0 <= score <= 10
    assert _le(score_relationship(False, sponsor, n1), score_relationship(True, sponsor, n1))
    assert _le(score_relationship(champion, False, n1), score_relationship(champion, True, n1))
    if n1 is not None:
        assert _le(
            score_relationship(champion, sponsor, min(n1, n2)), score_relationship(champion, sponsor, max(n1, n2))
        )


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20), st.data(), flags)
def test_outcomes_in_range_and_monotone(defined: int, data: st.DataObject, roi: bool) -> None:
    a1 = data.draw(st.integers(0, defined))
    a2 = data.draw(st.integers(0, defined))
    score = score_outcomes(defined, a1, roi)
    assert 0 <= score <= 10
    assert _le(score_outcomes(defined, min(a1, a2), roi), score_outcomes(defined, max(a1, a2), roi))
    assert _le(score_outcomes(defined, a1, False), score_outcomes(defined, a1, True))


PAYMENTS = ["delinquent", "late", "current"]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PAYMENTS), maybe_flags, maybe_flags)
def test_financial_in_range_and_monotone(payment: str, expanding: bool | None, risk: bool | None) -> None:
    score = score_financial(payment, expanding, risk)
    assert 0 <= score <= 10
    better = PAYMENTS[min(PAYMENTS.index(payment) + 1, 2)]
    assert _le(score, score_financial(better, expanding, risk))
    assert _le(score_financial(payment, False, risk), score_financial(payment, True, risk))
    assert _le(score_financial(payment, expanding, True), score_financial(payment, expanding, False))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(fractions, st.one_of(st.none(), fractions)), min_size=1, max_size=20))
def test_vector_equals_elementwise(rows: list[tuple[float, float | None]]) -> None:
    dau = [r[0] for r in rows]
    breadth = [NAN if r[1] is None else r[1] for r in rows]
    vector = score_usage(dau, breadth)
    assert vector.tolist() == pytest.approx([score_usage(d, b) for d, b in zip(dau, breadth, strict=True)], abs=TOL)
