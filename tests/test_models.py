"""Input records and the table loader: cell conversion, every bad row at once, row numbers, cross-field rules.

Expected values are written out by hand from the rules of docs/data.md (the contract a user fills in); each row says
where it comes from. Dates and labels are compared exactly; numbers with pytest.approx(abs=1e-12) where they are
floats parsed from text (exact decimal literals, so no arithmetic error is expected beyond parsing).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from csxl.columns import convert_column
from csxl.errors import InputError, RowIssue, TableError
from csxl.models import (
    ACCOUNT_COLUMNS,
    CHURN_REASONS,
    MRR_COLUMNS,
    SURVEY_COLUMNS,
    AccountRecord,
    MrrRow,
    SurveyResponse,
    column_specs,
)
from csxl.tables import load_accounts, load_mrr, load_surveys, load_table

TOL = 1e-12
NAN = float("nan")
DATE_RULE = "a date (YYYY-MM-DD, a date cell or an Excel serial number)"
BOOL_RULE = "true/false (yes/no, 1/0, x)"


def convert(model: type[BaseModel], field: str, values: list[Any]) -> tuple[list[Any], list[bool], list[bool]]:
    """Convert one column given as an object column; return (values as Python objects, blank, bad)."""
    out = convert_column(column_specs(model)[field], pd.Series(values, dtype=object))
    typed = pd.Series(out.values, dtype=object).tolist()
    return typed, out.blank.tolist(), out.bad.tolist()


def one(model: type[BaseModel], field: str, value: Any) -> tuple[Any, bool, bool]:
    typed, blank, bad = convert(model, field, [value])
    v = typed[0]
    if v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        v = None
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        v = pd.Timestamp(v).date()
    return v, blank[0], bad[0]


# --------------------------------------------------------------------------------------------------------------------
# Columns: derived from the models
# --------------------------------------------------------------------------------------------------------------------


def test_account_columns_in_the_briefs_order() -> None:
    # The order of the engine spec's YAML record as flattened in the task brief, written out independently here.
    expected = [
        "account",
        "segment",
        "arr",
        "csm",
        "renewal_date",
        "start_date",
        "dau_mau",
        "core_actions_weekly",
        "features_adopted",
        "features_available",
        "usage_trend",
        "login_trend",
        "logins_per_week",
        "days_since_login",
        "support_tickets_30d",
        "last_proactive_contact",
        "community_active",
        "champion",
        "champion_status",
        "exec_sponsor",
        "exec_sponsor_status",
        "contacts_count",
        "last_exec_touch",
        "seats_purchased",
        "seats_active",
        "integration",
        "goals_defined",
        "goals_achieved",
        "roi_documented",
        "payment_status",
        "contract_trend",
        "expansion_signals",
        "contraction_risk",
        "nps",
        "churn_reason",
        "domain",  # not in the brief: the join key of csxl import (issue 11)
        "crm_id",  # not in the brief: the CRM record id, the first join key of csxl import (issue 11)
        "usage_override",
        "engagement_override",
        "relationship_override",
        "outcomes_override",
        "financial_override",
    ]
    assert expected == list(ACCOUNT_COLUMNS)
    assert MRR_COLUMNS == ("account", "month", "mrr")
    assert SURVEY_COLUMNS == ("account", "date", "kind", "score", "comment")


def test_only_the_identifying_columns_are_required() -> None:
    required = {m.__name__: [s.name for s in column_specs(m).values() if s.required] for m in (AccountRecord, MrrRow)}
    assert required == {"AccountRecord": ["account"], "MrrRow": ["account", "month", "mrr"]}
    assert [s.name for s in column_specs(SurveyResponse).values() if not s.required] == ["comment"]


@pytest.mark.parametrize(
    ("model", "field", "rule"),
    [
        (AccountRecord, "arr", "a number >= 0"),  # Field(ge=0)
        (AccountRecord, "dau_mau", "a number 0..1"),  # Field(ge=0, le=1)
        (AccountRecord, "features_available", "a whole number > 0"),  # int, Field(gt=0)
        (AccountRecord, "nps", "a whole number 0..10"),  # int, Field(ge=0, le=10)
        (AccountRecord, "usage_override", "a number 0..10"),
        (AccountRecord, "login_trend", "one of up, flat, down"),  # Literal["up", "flat", "down"]
        (AccountRecord, "community_active", BOOL_RULE),
        (AccountRecord, "renewal_date", DATE_RULE),
        (MrrRow, "month", "a month (YYYY-MM, YYYY-MM-DD, a date cell or an Excel serial number)"),
        (SurveyResponse, "kind", "one of nps, csat, ces"),
    ],
)
def test_rules_are_read_from_the_model_fields(model: type[BaseModel], field: str, rule: str) -> None:
    assert column_specs(model)[field].rule == rule


def test_churn_reasons_cover_both_spec_taxonomies() -> None:
    engine = {"Product", "Value", "Relationship", "Financial", "Competition", "Strategic"}  # engine spec table
    agent = {"Value", "Price", "Competition", "Product", "Support", "Business Change", "Champion Left", "Involuntary"}
    assert set(CHURN_REASONS) == engine | agent


# --------------------------------------------------------------------------------------------------------------------
# Cell conversion
# --------------------------------------------------------------------------------------------------------------------

DATE_CASES = [
    # Excel 1900 system, serial 45000. Independent check: Excel shows 44927 for 2023-01-01 (123 years x 365 days
    # + 30 leap days 1904..2020 = 44925 days after 1900-01-01 = serial 1, + 1 for Excel's fictitious 1900-02-29
    # -> 44927); 45000 - 44927 = 73 = 31 (Jan) + 28 (Feb) + 14 -> 2023-03-15.
    (45000, dt.date(2023, 3, 15)),
    (45000.75, dt.date(2023, 3, 15)),  # fraction = 18:00 on the same day, dropped
    (np.int64(44927), dt.date(2023, 1, 1)),  # see above
    (61, dt.date(1900, 3, 1)),  # first serial after Excel's fictitious 1900-02-29 (serial 60)
    ("2023-03-15", dt.date(2023, 3, 15)),
    ("  2023-03-15  ", dt.date(2023, 3, 15)),  # spaces around are stripped
    ("2023-03-15T10:20", dt.date(2023, 3, 15)),  # ISO with time: time dropped
    ("2023-03-15 23:59:59.5", dt.date(2023, 3, 15)),
    (dt.date(2023, 3, 15), dt.date(2023, 3, 15)),
    (dt.datetime(2023, 3, 15, 23, 59), dt.date(2023, 3, 15)),
    (pd.Timestamp("2023-03-15 23:30", tz="America/Los_Angeles"), dt.date(2023, 3, 15)),  # local date, not UTC 16th
    (np.datetime64("2023-03-15T12:00"), dt.date(2023, 3, 15)),
    (pd.Period("2023-03", "M"), dt.date(2023, 3, 1)),  # a period means its first day
    # dates typed as text with an English month name or year first (csxl.cells.date_from_text)
    ("15 Mar 2023", dt.date(2023, 3, 15)),
    ("March 15, 2023", dt.date(2023, 3, 15)),
    ("15-Mar-23", dt.date(2023, 3, 15)),  # Excel's d-mmm-yy display
    ("2023/03/15", dt.date(2023, 3, 15)),
]


@pytest.mark.parametrize(("value", "expected"), DATE_CASES)
def test_dates(value: Any, expected: dt.date) -> None:
    assert one(AccountRecord, "renewal_date", value) == (expected, False, False)


@pytest.mark.parametrize(
    "value",
    [
        "15/03/2023",  # day/month order ambiguous: rejected
        "2023-02-30",  # no such day
        "2023-03",  # a month is not a date (only the MRR month column takes it)
        "Mar 2023",
        "03/15/2023",  # month/day order: a guess as well
        "45000",  # numeric text is not read as a serial (year-like text such as "2024" would be silently wrong)
        60,  # Excel's fictitious 1900-02-29
        0,
        -1,
        True,
        "soon",
    ],
)
def test_bad_dates(value: Any) -> None:
    assert one(AccountRecord, "renewal_date", value) == (None, False, True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-17", dt.date(2024, 3, 1)),  # any day of a month is that month
        ("2024-03", dt.date(2024, 3, 1)),
        (dt.datetime(2024, 3, 31, 23, 0), dt.date(2024, 3, 1)),
        (45000, dt.date(2023, 3, 1)),  # 45000 = 2023-03-15 (see DATE_CASES) -> March 2023
        ("Dec 2025", dt.date(2025, 12, 1)),  # months typed as text: English names, year-first slashes
        ("December 2025", dt.date(2025, 12, 1)),
        ("2025/12", dt.date(2025, 12, 1)),
        ("31 Dec 2025", dt.date(2025, 12, 1)),
    ],
)
def test_months_normalise_to_the_first(value: Any, expected: dt.date) -> None:
    assert one(MrrRow, "month", value) == (expected, False, False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("TRUE", True),
        ("false", False),
        (" Yes ", True),
        ("no", False),
        ("y", True),
        ("N", False),
        ("1", True),
        ("0", False),
        ("x", True),
        ("X", True),
        (True, True),
        (np.bool_(False), False),
        (1, True),
        (0.0, False),
    ],
)
def test_booleans(value: Any, expected: bool) -> None:
    assert one(AccountRecord, "community_active", value) == (expected, False, False)


@pytest.mark.parametrize("value", ["maybe", "t", 2, -1, 0.5, dt.date(2024, 1, 1)])
def test_bad_booleans(value: Any) -> None:
    assert one(AccountRecord, "community_active", value) == (None, False, True)


@pytest.mark.parametrize("value", [None, NAN, "", "   ", pd.NA, pd.NaT])
@pytest.mark.parametrize("field", ["arr", "features_adopted", "renewal_date", "segment", "csm", "roi_documented"])
def test_blank_cells_are_missing_not_zero(field: str, value: Any) -> None:
    assert one(AccountRecord, field, value) == (None, True, False)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("arr", 1200, 1200.0),
        ("arr", " 1.5 ", 1.5),  # numeric text is read as the number it spells
        ("arr", "1e3", 1000.0),
        ("arr", 0, 0.0),  # zero is a value, not missing
        ("dau_mau", 1, 1.0),  # bounds are inclusive
        ("features_adopted", 3.0, 3),  # whole floats are whole numbers
        ("features_adopted", "4", 4),
        ("nps", 10, 10),
        ("features_available", 1, 1),
        # numbers typed as text, as founders type them (csxl.cells.number_from_text; exact by construction)
        ("arr", "120,000", 120_000.0),
        ("arr", "$120,000", 120_000.0),
        ("arr", "USD 3,000.50", 3_000.5),
        ("arr", "3 000 €", 3_000.0),
        ("arr", "1.234,56", 1_234.56),  # dots group, the comma is the decimal point
        ("arr", "12,5", 12.5),  # a comma followed by one or two digits is a decimal comma
        ("arr", "1.234", 1.234),  # one dot group alone is a decimal point, not thousands
        ("dau_mau", "35%", 0.35),  # a percent sign only where the column holds a fraction
        ("dau_mau", "0,35", 0.35),
    ],
)
def test_numbers(field: str, value: Any, expected: float) -> None:
    got, blank, bad = one(AccountRecord, field, value)
    assert (blank, bad) == (False, False)
    assert got == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("arr", -0.01),  # >= 0
        ("arr", "abc"),
        ("arr", "1,2,3"),  # commas that do not group thousands
        ("arr", "12/31/2025"),
        ("arr", "35%"),  # a percent sign outside a fraction column is a mistake
        ("arr", "(-5)"),  # two signs
        ("arr", True),  # booleans are not numbers
        ("arr", math.inf),
        ("arr", "inf"),
        ("arr", "nan"),  # the text "nan" is not a blank
        ("dau_mau", 1.01),  # 0..1
        ("features_adopted", 3.5),  # whole numbers only
        ("features_available", 0),  # > 0
        ("nps", 11),
        ("days_since_login", -1),
    ],
)
def test_bad_numbers(field: str, value: Any) -> None:
    assert one(AccountRecord, field, value) == (None, False, True)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("segment", "Mid Market", "mid-market"),  # case, spaces and underscores do not matter
        ("segment", "SELF_SERVE", "self-serve"),
        ("segment", " smb ", "smb"),
        ("segment", "midmarket", "mid-market"),  # synonym
        ("login_trend", "Declining", "down"),  # synonyms shared with csxl.signals
        ("usage_trend", "growing", "up"),
        ("payment_status", "On-Time", "current"),
        ("integration", "fully connected", "connected"),
        ("churn_reason", "champion left", "Champion Left"),  # canonical spelling kept
        ("churn_reason", "Value/Fit", "Value"),  # the agent spec's label
        ("churn_reason", "business_change", "Business Change"),
        ("exec_sponsor_status", "ENGAGED", "engaged"),
    ],
)
def test_labels(field: str, value: str, expected: str) -> None:
    assert one(AccountRecord, field, value) == (expected, False, False)


@pytest.mark.parametrize(
    ("field", "value"),
    [("segment", "startup"), ("segment", 3), ("login_trend", True), ("churn_reason", "budget"), ("kind", "nps!")],
)
def test_bad_labels(field: str, value: Any) -> None:
    model = SurveyResponse if field == "kind" else AccountRecord
    assert one(model, field, value) == (None, False, True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Acme Corp  ", "Acme Corp"),  # stripped
        ("=SUM(A1:A3)", "=SUM(A1:A3)"),  # formula-like text is just text, kept exactly
        ("+1 555", "+1 555"),
        ("-churned-", "-churned-"),
        ("@acme", "@acme"),
        (1001, "1001"),  # numeric account ids become text
        (1001.0, "1001"),
        (2.5, "2.5"),
    ],
)
def test_text(value: Any, expected: str) -> None:
    assert one(AccountRecord, "csm", value) == (expected, False, False)


@pytest.mark.parametrize("value", [True, dt.date(2024, 1, 1), math.inf])
def test_bad_text(value: Any) -> None:
    assert one(AccountRecord, "csm", value) == (None, False, True)


def test_typed_columns_of_a_loaded_table() -> None:
    frame = pd.DataFrame(
        {"account": ["A"], "arr": ["100"], "nps": [9.0], "roi_documented": ["x"], "start_date": ["2024-01-05"]}
    )
    loaded = load_accounts(frame).raise_for_issues()
    dtypes = {c: str(loaded[c].dtype) for c in ("account", "arr", "nps", "roi_documented", "start_date", "segment")}
    assert dtypes == {
        "account": "object",
        "arr": "float64",
        "nps": "Int64",
        "roi_documented": "boolean",
        "start_date": "datetime64[us]",
        "segment": "object",  # absent column: present in the result, all missing
    }
    assert list(loaded.columns) == list(ACCOUNT_COLUMNS)
    assert loaded.index.name == "row"
    assert loaded.index.tolist() == [2]  # header on row 1, first data row is row 2
    assert loaded["segment"].tolist() == [None]


# --------------------------------------------------------------------------------------------------------------------
# The loader: every bad row at once, with the row numbers the user sees
# --------------------------------------------------------------------------------------------------------------------


def bad_accounts() -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {
            #           row 2     row 3     row 4   row 5  row 6    row 7         row 8
            "account": ["Acme", "Beta", "", None, "Acme", "Gamma", "Delta"],
            "ARR": [1200, "-5", "abc", None, 10, 20, 30],
            "Segment": ["SMB", "Mid Market", "huge", None, "smb", "enterprise", "smb"],
            "dau_mau": [0.5, 0.2, 0.3, None, 1.5, 0.1, 0.2],
            "goals_defined": [3, 3, None, None, 2, 1, None],
            "goals_achieved": [2, 4, None, None, 2, 1, 5],
            "renewal_date": ["2025-01-31", 45000, "31/01/2025", None, None, "2025-02-30", None],
            "notes": ["ok", "x", "y", None, "dup", "z", "w"],
        }
    )
    return frame


def test_every_bad_row_reported_with_sheet_row_numbers() -> None:
    result = load_accounts(bad_accounts())
    got = [(i.row, i.column, i.value, i.rule, i.effect) for i in result.issues]
    ignored, left_out = "cell ignored", "row left out"
    assert got == [
        # row 3: negative ARR; 4 achieved > 3 defined: both cells ignored, the account stays
        (3, "arr", "-5", "a number >= 0", ignored),
        (3, "goals_achieved", 4, "<= goals_defined (3)", ignored),
        # row 4: blank account (the row cannot be placed), unknown segment, text ARR, ambiguous date
        (4, "account", "", "filled in (required)", left_out),
        (4, "segment", "huge", "one of enterprise, mid-market, smb, self-serve", left_out),
        (4, "arr", "abc", "a number >= 0", left_out),
        (4, "renewal_date", "31/01/2025", DATE_RULE, left_out),
        # row 5 is blank in every model column (notes is not a model column): skipped silently
        # row 6: repeated account (left out: the first row is the account), DAU/MAU above 1
        (6, "account", "Acme", "unique (first on row 2)", left_out),
        (6, "dau_mau", 1.5, "a number 0..1", left_out),
        # row 7: 30 February: the renewal date is unknown, the account stays
        (7, "renewal_date", "2025-02-30", DATE_RULE, ignored),
        # row 8: goals_achieved 5 with goals_defined blank -> no rule to break
    ]
    assert all(i.sheet == "Accounts" for i in result.issues)
    assert str(result.issues[0]).endswith("got '-5' (cell ignored)")
    # rows used: every row but the unplaceable 4 and the repeated 6; bad cells are blank in them
    assert result.frame.index.tolist() == [2, 3, 7, 8]
    assert result.frame["account"].tolist() == ["Acme", "Beta", "Gamma", "Delta"]
    assert result.frame["arr"].tolist()[0] == pytest.approx(1200.0, abs=TOL)
    assert np.isnan(result.frame.loc[3, "arr"]) and result.frame.loc[3, "goals_achieved"] is pd.NA
    assert pd.isna(result.frame.loc[7, "renewal_date"])
    assert result.frame.loc[[2, 8], "notes"].tolist() == ["ok", "w"]  # unknown columns are kept, unchanged
    assert result.frame.loc[2, "renewal_date"] == pd.Timestamp("2025-01-31")


def test_raise_for_issues_lists_them_all() -> None:
    result = load_accounts(bad_accounts())
    with pytest.raises(TableError) as info:
        result.raise_for_issues()
    assert info.value.issues == result.issues
    assert isinstance(info.value, InputError)
    text = str(info.value)
    assert text.startswith("Accounts: 9 problem(s) in 4 row(s)")  # 2 + 4 + 2 + 1 issues on rows 3, 4, 6, 7
    assert "Accounts row 4, segment: must be one of enterprise, mid-market, smb, self-serve, got 'huge'" in text


def test_raise_for_issues_returns_the_frame_when_clean() -> None:
    result = load_mrr(pd.DataFrame({"account": ["A"], "month": ["2024-01"], "mrr": [10]}))
    assert result.ok
    frame = result.raise_for_issues()
    assert frame is result.frame


def test_first_row_shifts_row_numbers() -> None:
    # a sheet with a title block: header on row 4, data from row 5 -> position 1 is row 6
    result = load_mrr(
        pd.DataFrame({"account": ["A", "B"], "month": ["2024-01", "2024-13"], "mrr": [1, 2]}), first_row=5
    )
    assert [(i.row, i.column) for i in result.issues] == [(6, "month")]
    assert result.frame.index.tolist() == [5]


def test_input_index_is_ignored_for_row_numbers() -> None:
    frame = pd.DataFrame({"account": ["A", "B"], "month": ["2024-01", "2024-02"], "mrr": [1, -2]}, index=[70, 10])
    assert [i.row for i in load_mrr(frame).issues] == [3]  # second position -> row 3


def test_missing_required_columns_reported_on_the_header_row() -> None:
    result = load_mrr(pd.DataFrame({"Account": ["A"], "amount": [5]}))
    assert result.issues == [
        RowIssue("MRR", 1, "month", None, "a column of the table (required)"),
        RowIssue("MRR", 1, "mrr", None, "a column of the table (required)"),
    ]
    assert len(result.frame) == 0
    assert list(result.frame.columns) == ["account", "month", "mrr", "amount"]


def test_missing_column_and_bad_cells_reported_together() -> None:
    result = load_mrr(pd.DataFrame({"account": ["A", "B"], "mrr": [5, "x"]}))
    assert [(i.row, i.column) for i in result.issues] == [(1, "month"), (3, "mrr")]


def test_headings_are_matched_loosely() -> None:
    frame = pd.DataFrame({" Account ": ["A"], "Renewal Date": [45000], "DAU/MAU": [0.25], "Features-Adopted": [3]})
    loaded = load_accounts(frame).raise_for_issues()
    assert loaded.loc[2, "renewal_date"] == pd.Timestamp("2023-03-15")  # serial 45000, see DATE_CASES
    assert loaded.loc[2, "dau_mau"] == pytest.approx(0.25, abs=TOL)
    assert loaded.loc[2, "features_adopted"] == 3


def test_a_heading_given_twice_is_an_issue() -> None:
    result = load_mrr(pd.DataFrame([["A", "2024-01", 1, 2]], columns=["account", "month", "MRR", "mrr"]))
    assert [(i.row, i.column, i.value) for i in result.issues] == [(1, "mrr", "mrr")]
    assert result.issues[0].rule == "a heading used once (also column 3)"


def test_empty_tables() -> None:
    for frame in (pd.DataFrame(), pd.DataFrame(columns=list(ACCOUNT_COLUMNS))):
        result = load_accounts(frame)
        assert result.issues == []
        assert len(result.frame) == 0
        assert list(result.frame.columns) == list(ACCOUNT_COLUMNS)


def test_trailing_blank_rows_are_skipped() -> None:
    frame = pd.DataFrame({"account": ["A", None, "  "], "month": ["2024-01", None, ""], "mrr": [1, None, None]})
    result = load_mrr(frame)
    assert result.issues == []
    assert result.frame.index.tolist() == [2]


def test_not_a_dataframe() -> None:
    with pytest.raises(InputError, match="frame must be a pandas DataFrame, got 'list'"):
        load_table([1, 2], MrrRow, sheet="MRR")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------------------
# Cross-field rules
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lesser", "greater", "a", "b", "ok"),
    [
        ("features_adopted", "features_available", 12, 12, True),  # equal is fine
        ("features_adopted", "features_available", 13, 12, False),
        ("features_adopted", "features_available", 13, None, True),  # nothing to compare with
        ("seats_active", "seats_purchased", 0, 0, True),
        ("seats_active", "seats_purchased", 41, 40, False),
        ("goals_achieved", "goals_defined", 1, 0, False),
        ("goals_achieved", "goals_defined", None, 0, True),
    ],
)
def test_at_most_rules(lesser: str, greater: str, a: Any, b: Any, ok: bool) -> None:
    result = load_accounts(pd.DataFrame({"account": ["A"], lesser: [a], greater: [b]}, dtype=object))
    if ok:
        assert result.issues == []
    else:
        assert [(i.row, i.column, i.value, i.rule) for i in result.issues] == [(2, lesser, a, f"<= {greater} ({b})")]
    # the one-record model applies the same rule
    if ok:
        AccountRecord.model_validate({"account": "A", lesser: a, greater: b})
    else:
        with pytest.raises(TableError, match=f"{lesser}: must be <= {greater}"):
            AccountRecord.model_validate({"account": "A", lesser: a, greater: b})


@pytest.mark.parametrize(
    ("kind", "score", "ok"),
    [
        ("nps", 0, True),  # NPS 0..10
        ("nps", 10, True),
        ("CSAT", 5, True),  # CSAT 1..5, kind case-insensitive
        ("csat", 0, False),
        ("csat", 6, False),
        ("ces", 7, True),  # CES 1..7
        ("ces", 1, True),
        ("ces", 8, False),
        ("nps", 11, False),  # breaks the field's own 0..10 bound first
    ],
)
def test_survey_score_range_by_kind(kind: str, score: int, ok: bool) -> None:
    frame = pd.DataFrame({"account": ["A"], "date": ["2024-05-01"], "kind": [kind], "score": [score]})
    result = load_surveys(frame)
    assert result.ok is ok
    if not ok:
        expected = "a whole number 0..10" if score > 10 else f"{dict(csat='1..5', ces='1..7')[kind]} for {kind}"
        assert [(i.row, i.column, i.rule) for i in result.issues] == [(2, "score", expected)]


def test_survey_rows() -> None:
    frame = pd.DataFrame(
        {
            "account": ["A", "B", "C"],
            "date": [dt.date(2024, 5, 1), "2024-05-02", 45000],
            "kind": ["NPS", "csat", "ces"],
            "score": [9, 4.0, "6"],
            "comment": ["great", None, "=cmd"],
        }
    )
    loaded = load_surveys(frame).raise_for_issues()
    assert loaded["kind"].tolist() == ["nps", "csat", "ces"]
    assert loaded["score"].tolist() == [9, 4, 6]
    assert loaded["date"].dt.date.tolist() == [dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2023, 3, 15)]
    assert loaded["comment"].tolist() == ["great", None, "=cmd"]


def test_mrr_rows() -> None:
    frame = pd.DataFrame(
        {"account": [" A ", "A", "B"], "month": ["2024-01-17", dt.date(2024, 2, 29), 45000], "mrr": [100, "0", 99.5]}
    )
    loaded = load_mrr(frame).raise_for_issues()
    assert loaded["account"].tolist() == ["A", "A", "B"]
    assert loaded["month"].dt.date.tolist() == [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2023, 3, 1)]
    assert loaded["mrr"].tolist() == pytest.approx([100.0, 0.0, 99.5], abs=TOL)


def test_blank_mrr_is_an_issue_not_zero() -> None:
    result = load_mrr(pd.DataFrame({"account": ["A"], "month": ["2024-01"], "mrr": [None]}))
    assert [(i.row, i.column, i.rule) for i in result.issues] == [(2, "mrr", "filled in (required)")]


# --------------------------------------------------------------------------------------------------------------------
# The one-record models
# --------------------------------------------------------------------------------------------------------------------


def test_account_record_reads_cells_like_the_loader() -> None:
    record = AccountRecord.model_validate(
        {"account": "  Acme ", "segment": "Mid Market", "renewal_date": 45000, "community_active": "x", "nps": "9"}
    )
    assert record.account == "Acme"
    assert record.segment == "mid-market"
    assert record.renewal_date == dt.date(2023, 3, 15)  # serial 45000, see DATE_CASES
    assert record.community_active is True
    assert record.nps == 9
    assert record.arr is None  # not given = missing


def test_account_record_rejects_bad_cells() -> None:
    # a csxl error (an InputError), every bad cell at once, built or validated alike; never pydantic's own error
    for build in (
        lambda: AccountRecord.model_validate({"account": "", "dau_mau": 2, "segment": "huge"}),
        lambda: AccountRecord(account="", dau_mau=2, segment="huge"),
    ):
        with pytest.raises(TableError) as info:
            build()
        assert not isinstance(info.value, ValidationError)
        assert sorted(i.column for i in info.value.issues) == ["account", "dau_mau", "segment"]
        assert {(i.column, i.value) for i in info.value.issues} >= {("dau_mau", 2), ("segment", "huge")}


@pytest.mark.parametrize(
    ("model", "cells", "column"),
    [
        (MrrRow, {"account": "A", "month": "soon", "mrr": 5}, "month"),
        (MrrRow, {"account": "A", "month": "2025-01", "mrr": -1}, "mrr"),
        (SurveyResponse, {"account": "A", "date": "2025-01-01", "kind": "nps", "score": 11}, "score"),
    ],
)
def test_every_record_model_raises_a_csxl_error(model: type[BaseModel], cells: dict[str, Any], column: str) -> None:
    with pytest.raises(TableError) as info:
        model(**cells)
    assert [i.column for i in info.value.issues] == [column]


def test_expansion_signal_list() -> None:
    record = AccountRecord(account="A", expansion_signals=" more seats;; new team ; API usage up ")
    assert record.expansion_signal_list == ["more seats", "new team", "API usage up"]


# A pool of cells like the ones users type or spreadsheet readers hand over.
CELLS = st.one_of(
    st.none(),
    st.just(NAN),
    st.sampled_from(["", "  ", "x", "yes", "No", "TRUE", "0", "1", "1.5", " 7 ", "-3", "abc", "=1+1", "1e3"]),
    st.sampled_from(["Mid Market", "smb", "up", "Declining", "strong", "current", "value/fit", "Champion Left"]),
    st.sampled_from(["2024-03-15", "2024-03", "15/03/2024", "2024-02-30", "2024-03-15 10:00", "45000"]),
    st.booleans(),
    st.integers(-3, 50_000),
    st.floats(min_value=-2, max_value=60_000, allow_nan=False, allow_infinity=False),
    st.just(math.inf),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 12, 31)),
)


def _normal(value: Any) -> Any:
    """A loaded cell or a model attribute as a comparable Python value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).date()
    if isinstance(value, np.generic):
        return value.item()
    return value


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from([c for c in ACCOUNT_COLUMNS if c != "account"]), cells=st.lists(CELLS, max_size=6))
def test_loader_and_model_agree(field: str, cells: list[Any]) -> None:
    # Two routes, one rule set: the vectorised loader (whatever dtype pandas infers for the column) and pydantic
    # validation of one record per cell must accept the same cells and produce the same values.
    frame = pd.DataFrame({"account": [f"A{i}" for i in range(len(cells))], field: pd.Series(cells, dtype=object)})
    frame[field] = frame[field].infer_objects()  # let pandas pick int/float/bool/datetime/str where it can
    result = load_accounts(frame)
    bad_rows = {i.row - 2 for i in result.issues}
    assert {i.column for i in result.issues} <= {field}
    for position, cell in enumerate(cells):
        try:
            record = AccountRecord.model_validate({"account": "A", field: cell})
        except TableError:
            assert position in bad_rows, (field, cell)
            continue
        assert position not in bad_rows, (field, cell)
        assert _normal(result.frame.loc[position + 2, field]) == _normal(getattr(record, field)), (field, cell)


def test_many_rows_with_a_few_bad_ones() -> None:
    # Scale sanity (no timing): 50,000 MRR rows with three bad cells at known positions are all found, in order.
    n = 50_000
    months = pd.date_range("2022-01-01", periods=24, freq="MS").strftime("%Y-%m-%d").to_numpy()
    frame = pd.DataFrame(
        {
            "account": np.array([f"acct {i % 2000}" for i in range(n)], dtype=object),
            "month": months[np.arange(n) % 24],
            "mrr": np.arange(n, dtype=float) % 500,
        }
    )
    frame = frame.astype({"mrr": object})
    frame.loc[10, "mrr"] = -1.0
    frame.loc[25_000, "month"] = "05/01/2022"  # day and month order is a guess: refused
    frame.loc[49_999, "account"] = " "
    result = load_mrr(frame)
    assert [(i.row, i.column) for i in result.issues] == [(12, "mrr"), (25_002, "month"), (50_001, "account")]
    # the -1 amount (position 10: "acct 10", month 2022-11) is read as the account's month before; the other two rows
    # cannot be placed (no month, no account)
    assert len(result.frame) == n - 2
    # independently: acct 10's rows before 2022-11 (other positions 10 + 2000k), the latest month's amount
    earlier = frame[(frame["account"] == "acct 10") & (frame["month"] < "2022-11-01") & (frame.index != 10)]
    expected = float(earlier.loc[earlier["month"] == earlier["month"].max(), "mrr"].astype(float).sum())
    assert result.issues[0].effect == f"read as the month before: {expected:g}"
    assert result.frame.loc[12, "mrr"] == expected
    assert result.frame["month"].nunique() == 24


@pytest.mark.parametrize(
    ("model", "heading"), [(AccountRecord, "## Accounts"), (MrrRow, "## MRR"), (SurveyResponse, "## Surveys")]
)
def test_docs_list_every_column_with_its_required_flag(model: type[BaseModel], heading: str) -> None:
    # docs/data.md is the contract users fill in: each section's table must name every model column, in order.
    text = (Path(__file__).parents[1] / "docs" / "data.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| `")]
    documented = [(cells[1].strip().strip("`"), cells[-2].strip() == "**yes**") for cells in rows]
    assert documented == [(s.name, s.required) for s in column_specs(model).values()]
