"""A founder's data as it really is: blanks that mean "unknown", names spelled three ways, headings renamed.

Each expected number says where it comes from; tolerances are 1e-9 (the same float arithmetic) unless stated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from csxl.book.layout import ACCOUNTS, TablePlace
from csxl.book.read import heading_issues
from csxl.cells import company_key
from csxl.dimensions import score_relationship
from csxl.portfolio import Portfolio
from csxl.scoring import score_accounts
from csxl.settings import INSUFFICIENT_DATA, Settings, min_coverage
from csxl.tables import match_accounts

# ---------------------------------------------------------------------------------------------------- unknown != bad

#: A healthy account whose relationship signals were never typed (the issue's "9/10 simple points scored 47").
HEALTHY_BUT_BLANK_CHAMPION: dict[str, Any] = {
    "account": "Contoso",
    "dau_mau": 0.6,
    "features_adopted": 8,
    "features_available": 10,
    "login_trend": "up",
    "support_tickets_30d": 1,
    "community_active": "yes",
    "goals_defined": 3,
    "goals_achieved": 3,
    "roi_documented": "yes",
    "payment_status": "on-time",
    "contract_trend": "expanded",
}


def test_a_blank_champion_is_unknown_and_left_out_not_scored_zero() -> None:
    blank = score_accounts(pd.DataFrame([HEALTHY_BUT_BLANK_CHAMPION]))
    explicit = score_accounts(pd.DataFrame([{**HEALTHY_BUT_BLANK_CHAMPION, "champion": "none"}]))
    assert np.isnan(blank.loc[0, "relationship"])
    # "none" is an answer: no champion -> the 0..3 band; with contacts unknown the band's midpoint 1.5
    assert explicit.loc[0, "relationship"] == pytest.approx(1.5, abs=1e-9)
    # unknown: the other four dimensions carry the score, re-weighted (engine weights without relationship's 0.15)
    dims = blank.loc[0, ["usage", "engagement", "outcomes", "financial"]].astype(float)
    weights = pd.Series({"usage": 0.30, "engagement": 0.20, "outcomes": 0.20, "financial": 0.15})
    expected = float((dims * weights).sum() / weights.sum() * 10)
    assert blank.loc[0, "health_score"] == pytest.approx(expected, abs=1e-9)
    assert blank.loc[0, "health_tier"] == "Thriving" and blank.loc[0, "dimensions_scored"] == 4
    assert explicit.loc[0, "health_score"] < blank.loc[0, "health_score"]


@pytest.mark.parametrize(
    ("champion", "sponsor", "contacts", "expected"),
    [
        (None, "VP Ops", 5, np.nan),  # champion unknown: the band is unknown, whatever else is known
        ("left", None, 5, 3.0),  # champion left: 0..3 band, 5 contacts >= 4 -> its top
        (0, None, None, 1.5),  # 0 = nobody: the band's midpoint with contacts unknown
    ],
)
def test_relationship_unknown_versus_none(champion: Any, sponsor: Any, contacts: Any, expected: float) -> None:
    got = score_relationship(champion, sponsor, contacts)
    assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("preset", "known", "insufficient"),
    [
        ("engine", 0, True),
        ("engine", 2, True),  # 2 of 5 < 3
        ("engine", 3, False),  # 3 of 5: rated
        ("growth", 1, True),  # 1 of 4 < 2
        ("growth", 2, False),
    ],
)
def test_too_few_dimensions_is_insufficient_data_not_at_risk(preset: str, known: int, insufficient: bool) -> None:
    overrides = ["usage_override", "engagement_override", "relationship_override", "financial_override"][:known]
    if preset == "engine" and known == 3:
        overrides = ["usage_override", "engagement_override", "outcomes_override"]
    row = {"account": "A", "arr": 10_000, **dict.fromkeys(overrides, 1.0)}  # every known dimension is terrible
    portfolio = Portfolio.from_tables(pd.DataFrame([row]), settings=Settings(preset=preset), as_of=dt.date(2026, 6, 30))
    tier = portfolio.scored.loc[2, "health_tier"]
    assert portfolio.scored.loc[2, "dimensions_scored"] == known
    if insufficient:
        assert tier == INSUFFICIENT_DATA
        assert not bool(portfolio.facts["at_risk"].iloc[0])  # unknown is not a risk
    else:
        assert tier in Settings(preset=preset).scheme().labels and bool(portfolio.facts["at_risk"].iloc[0])


def test_min_coverage_is_half_rounded_up() -> None:
    assert [min_coverage(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 1, 2, 2, 3, 3]


# ---------------------------------------------------------------------------------------------------- account names


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Contoso Ltd.", "contoso"),
        ("  CONTOSO, Inc ", "contoso"),
        ("Fabrikam ", "fabrikam"),
        ("AT&T", "at and t"),
        ("Procter & Gamble Co.", "procter and gamble"),
        ("Inc", "inc"),  # a name that is only a legal form keeps it
        ("The Company Company", "the company"),
    ],
)
def test_company_key(written: str, key: str) -> None:
    assert company_key(written) == key


def test_mrr_names_match_accounts_and_the_rest_is_reported_with_the_closest() -> None:
    accounts = pd.Series(["Contoso", "Fabrikam", "Litware Inc", "Litware Labs"])
    mrr = pd.DataFrame(
        {"account": ["Contoso Ltd.", "Fabrikam ", "litware", "Litwares", "Northwind"], "mrr": [1.0, 2, 3, 4, 5]},
        index=pd.Index([3, 4, 5, 6, 7], name="row"),
    )
    out, issues = match_accounts(mrr, accounts, "MRR")
    # litware -> "Litware Inc" (key "litware"); "Litwares" and "Northwind" match nothing and are kept
    assert out["account"].tolist() == ["Contoso", "Fabrikam", "Litware Inc", "Litwares", "Northwind"]
    assert out["mrr"].sum() == 15.0
    assert [(i.row, i.value) for i in issues] == [(6, "Litwares"), (7, "Northwind")]
    assert "closest: 'Litware Labs'" in issues[0].rule or "closest: 'Litware Inc'" in issues[0].rule
    assert issues[1].effect == "kept in the revenue totals; no account gets it"


def test_two_accounts_with_one_key_are_not_guessed() -> None:
    out, issues = match_accounts(
        pd.DataFrame({"account": ["acme"]}, index=pd.Index([3], name="row")), pd.Series(["Acme Inc", "ACME Ltd"]), "MRR"
    )
    assert out["account"].tolist() == ["acme"] and len(issues) == 1


# ---------------------------------------------------------------------------------------------------- headings


def test_missing_input_heading_names_the_users_lookalike() -> None:
    default = TablePlace.default(ACCOUNTS, 5)
    headers = list(default.headers)
    at = ACCOUNTS.index("renewal_date")
    headers[at - 1] = "Renewal"
    columns = {k: v for k, v in default.columns.items() if k != "renewal_date"}
    issues = heading_issues(TablePlace(ACCOUNTS, columns, tuple(headers), 5))
    assert [(i.column, i.value, i.effect) for i in issues] == [
        ("renewal_date", "Renewal", f"column {ACCOUNTS.letter('renewal_date')} is not read: rename it 'Renewal date'")
    ]


# ---------------------------------------------------------------------------------------------------- label points


def test_label_points_from_settings_change_the_simple_points() -> None:
    accounts = pd.DataFrame(
        {
            "account": ["A", "B"],
            "logins_per_week": [5, 5],  # Green: 2
            "login_trend": ["flat", "up"],  # 1 / 2 by the registry
            "contacts_count": [4, 4],  # Green: 2
            "payment_status": ["late", "on-time"],  # 1 / 2 by the registry
            "nps": [9, 9],  # Green: 2
        }
    )
    default = score_accounts(accounts)
    tuned = score_accounts(accounts, settings=Settings(simple_labels={"payment": {"late": 0}, "login_trend": {}}))
    assert default["simple_points"].tolist() == [2 + 1 + 2 + 1 + 2, 10]
    assert tuned["simple_points"].tolist() == [2 + 1 + 2 + 0 + 2, 10]  # late now 0 points; on-time unchanged


def test_settings_refuse_label_points_outside_0_1_2() -> None:
    with pytest.raises(ValueError, match="0, 1 or 2"):
        Settings(simple_labels={"payment": {"late": 3}})
