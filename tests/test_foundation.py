"""The error tree, the presets and the vectorisation helpers every metric stands on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csxl.errors import CsxlError, FileError, InputError, RowIssue, TableError
from csxl.settings import HEALTH_WEIGHTS, TIER_SCHEMES, TierScheme, resolve_tier_scheme, resolve_weights
from csxl.vectors import restore, to_category, to_float


def test_error_tree_splits_by_cause() -> None:
    assert issubclass(InputError, CsxlError)
    assert issubclass(InputError, ValueError)
    assert issubclass(TableError, InputError)
    assert issubclass(FileError, CsxlError)
    assert issubclass(FileError, OSError)
    assert not issubclass(FileError, InputError)


@pytest.mark.parametrize(
    ("field", "value", "rule", "message"),
    [
        ("dau_mau", 1.5, "0..1", "dau_mau must be 0..1, got 1.5"),
        ("segment", "Huge", "one of smb, mid-market", "segment must be one of smb, mid-market, got 'Huge'"),
        ("arr", float("nan"), ">= 0", "arr must be >= 0, got blank"),
        ("arr", None, ">= 0", "arr must be >= 0, got blank"),
    ],
)
def test_input_error_names_field_value_and_rule(field: str, value: object, rule: str, message: str) -> None:
    err = InputError(field, value, rule)
    assert str(err) == message
    assert (err.field, err.rule) == (field, rule)


def test_table_error_lists_every_issue() -> None:
    issues = [RowIssue("MRR", 3, "mrr", "abc", "a number >= 0"), RowIssue("MRR", 7, "month", None, "a date")]
    err = TableError("MRR", issues)
    text = str(err)
    assert "MRR: 2 problem(s) in 2 row(s)" in text
    assert "MRR row 3, mrr: must be a number >= 0, got 'abc'" in text
    assert "MRR row 7, month: must be a date, got blank" in text
    assert err.issues == issues


def test_file_error_quotes_path() -> None:
    assert str(FileError("book.xlsx", "is open in Excel")) == "book.xlsx: is open in Excel"


@pytest.mark.parametrize("preset", sorted(HEALTH_WEIGHTS))
def test_presets_sum_to_one(preset: str) -> None:
    # spec: engine .30+.20+.15+.20+.15 = 1.00; growth .40+.25+.20+.15 = 1.00
    assert sum(HEALTH_WEIGHTS[preset].values()) == pytest.approx(1.0, abs=1e-12)


def test_mapping_weights_are_normalised() -> None:
    # hand: 3 / (3 + 1) = .75, 1 / 4 = .25
    assert resolve_weights({"usage": 3, "financial": 1}) == pytest.approx({"usage": 0.75, "financial": 0.25})


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("nope", "weights must be a preset (engine, growth) or a mapping, got 'nope'"),
        ({"usage": -1}, "weight of usage must be a finite number >= 0, got -1"),
        ({"usage": 0, "financial": 0}, "weights must be at least one weight > 0"),
        ({"vibes": 1}, "weights must be a dimension"),
        ({"usage": "x"}, "weight of usage must be a number >= 0, got 'x'"),
    ],
)
def test_bad_weights(weights: object, message: str) -> None:
    with pytest.raises(InputError, match=None) as info:
        resolve_weights(weights)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_tier_schemes() -> None:
    assert resolve_tier_scheme("ENGINE").labels == ("Thriving", "Healthy", "At-Risk", "Critical")
    assert resolve_tier_scheme("growth") is TIER_SCHEMES["growth"]
    assert resolve_tier_scheme("simple").labels == ("Green", "Yellow", "Red")
    with pytest.raises(InputError, match="scheme must be a tier scheme"):
        resolve_tier_scheme("rainbow")


@pytest.mark.parametrize(
    "bounds",
    [
        (("A", 50.0), ("B", 60.0), ("C", 0.0)),  # not decreasing
        (("A", 50.0), ("B", 10.0)),  # last bound not 0
        (("A", 50.0), ("A", 0.0)),  # duplicate label
    ],
)
def test_bad_tier_scheme(bounds: tuple[tuple[str, float], ...]) -> None:
    with pytest.raises(ValueError, match="tier"):
        TierScheme(name="mine", bounds=bounds)


def test_to_float_shapes_and_missing() -> None:
    values, shape = to_float(["1", 2, None, "", " 3.5 "], "x")
    np.testing.assert_array_equal(values, [1.0, 2.0, np.nan, np.nan, 3.5])
    assert isinstance(restore(values, shape), np.ndarray)
    series = pd.Series([1.0, np.nan], index=["a", "b"], name="n")
    back = restore(*to_float(series, "x"))
    assert isinstance(back, pd.Series)
    assert list(back.index) == ["a", "b"]
    assert back.name == "n"
    assert restore(*to_float(4, "x")) == 4.0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "x must be a number (0..1), got 'abc'"),
        (True, "x must be a number (0..1), got True"),
        (1.5, "x must be 0..1, got 1.5"),
        (float("inf"), "x must be 0..1, got inf"),
        ([0.1, 2, 3], "x must be 0..1, got 2 (at position 1; 1 more bad value(s))"),
    ],
)
def test_to_float_rejects(value: object, message: str) -> None:
    with pytest.raises(InputError) as info:
        to_float(value, "x", lo=0, hi=1)
    assert str(info.value) == message


def test_to_float_names_series_label() -> None:
    with pytest.raises(InputError, match=r"got -1 \(at 'acme'\)"):
        to_float(pd.Series([-1.0], index=["acme"]), "arr", lo=0)


def test_to_category() -> None:
    values, _ = to_category(["Green", " red ", None, 1], "rag", {"red": 0, "yellow": 1, "green": 2})
    np.testing.assert_array_equal(values, [2.0, 0.0, np.nan, 1.0])
    with pytest.raises(InputError, match="rag must be one of red, yellow, green, got 'Blue'"):
        to_category("Blue", "rag", {"red": 0, "yellow": 1, "green": 2})
