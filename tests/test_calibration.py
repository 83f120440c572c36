"""Calibrating the health score (csxl.calibration, ``csxl calibrate``): thresholds by percentile and by outcome,
weights fitted from outcomes, the distribution against the spec's target.

Expected bounds are worked by hand in each test's comment (NumPy's default, linear, percentile: the p-th percentile
of n sorted values sits at position p/100 x (n - 1)); fitted weights are checked by what they must do (non-negative,
sum 1, the one dimension that drives churn carries most of the weight, a better held-out AUC than equal weights).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from csxl.book.read import read_book
from csxl.calibration import colour_shares, colours, fit_weights, outcome_bounds, percentile_bounds
from csxl.churn import NotEnoughChurnEvents
from csxl.cli import cli
from csxl.errors import InputError
from csxl.settings import TIER_SCHEMES

ROOT = Path(__file__).resolve().parents[1]
ENGINE, GROWTH = TIER_SCHEMES["engine"], TIER_SCHEMES["growth"]


def test_colours_follow_the_one_at_risk_rule() -> None:
    assert colours(ENGINE) == {"Thriving": "green", "Healthy": "yellow", "At-Risk": "red", "Critical": "red"}
    assert colours(GROWTH) == {"Green": "green", "Yellow": "yellow", "Red": "red"}


@pytest.mark.parametrize(
    ("scores", "scheme", "shares", "warned"),
    [
        # engine 80 / 60 / 40: 90 and 80 Thriving (80 reaches the bound), 70 Healthy, 50 and 10 red
        ([90, 80, 70, 50, 10], ENGINE, {"green": 0.4, "yellow": 0.2, "red": 0.4}, True),
        # growth 80 / 50: 50 is Yellow (it reaches the bound); blanks and text are left out
        ([90, 50, 49.9, None, "n/a"], GROWTH, {"green": 1 / 3, "yellow": 1 / 3, "red": 1 / 3}, True),
        ([90, 85, 81, 70, 20], GROWTH, {"green": 0.6, "yellow": 0.2, "red": 0.2}, False),
        ([], GROWTH, {"green": 0.0, "yellow": 0.0, "red": 0.0}, False),
    ],
)
def test_colour_shares(scores: list[object], scheme: object, shares: dict[str, float], warned: bool) -> None:
    found = colour_shares(scores, scheme)  # type: ignore[arg-type]
    assert found.shares == pytest.approx(shares)
    assert (found.warning is not None) == warned  # more than 30 % red: too sensitive (the spec)


def test_percentile_bounds_hand_worked() -> None:
    scores = list(range(1, 101))  # 1..100: the p-th percentile is 1 + p/100 x 99
    engine = percentile_bounds(scores, ENGINE)
    # 80th: 1 + 79.2 = 80.2; 20th: 1 + 19.8 = 20.8; 10th: 1 + 9.9 = 10.9
    assert engine.bounds == (("Thriving", 80.2), ("Healthy", 20.8), ("At-Risk", 10.9), ("Critical", 0.0))
    growth = percentile_bounds(scores, GROWTH)
    assert growth.bounds == (("Green", 80.2), ("Yellow", 20.8), ("Red", 0.0))
    # the suggestion gives the spec's 20 / 60 / 20 on these scores
    assert colour_shares(scores, growth).shares == pytest.approx({"green": 0.2, "yellow": 0.6, "red": 0.2})


def test_percentile_bounds_refuse_what_cannot_be_split() -> None:
    with pytest.raises(InputError, match="at least 5"):
        percentile_bounds([50, 60], GROWTH)
    with pytest.raises(InputError, match="spread enough"):
        percentile_bounds([0.1] * 10, ENGINE)  # every score equal and near 0: no room for three bounds


def _outcomes(n: int = 100) -> pd.DataFrame:
    score = np.arange(n, dtype=float)  # 0..99
    return pd.DataFrame(
        {"health_score": score, "churned": (score < 40).astype(int), "expanded": (score >= 75).astype(int)}
    )


def test_outcome_bounds_find_the_separating_scores() -> None:
    """Churned exactly below 40 and expanded exactly from 75: Youden's J is 1 at those scores. The engine's Critical
    split has no renewed account below 40 to separate from: the current proportion, 40 x 40 / 60 = 26.7."""
    growth = outcome_bounds(_outcomes(), GROWTH)
    assert growth.bounds == (("Green", 75.0), ("Yellow", 40.0), ("Red", 0.0))
    engine = outcome_bounds(_outcomes(), ENGINE)
    assert engine.bounds == (("Thriving", 75.0), ("Healthy", 40.0), ("At-Risk", 26.7), ("Critical", 0.0))


def test_outcome_bounds_keep_green_without_expansions_and_refuse_few_churns() -> None:
    frame = _outcomes().assign(expanded=0)
    assert outcome_bounds(frame, GROWTH).bounds[0] == ("Green", 80.0)  # the current bound stays
    few = _outcomes().assign(churned=lambda f: (f["health_score"] < 10).astype(int))
    with pytest.raises(NotEnoughChurnEvents, match="'10 churn events in 100 rows'"):
        outcome_bounds(few, GROWTH)


def test_fit_weights_put_the_weight_on_the_dimension_that_drives_churn() -> None:
    """Churn depends on usage only (log-odds 2 - 0.6 x usage); the other dimensions are noise. The fitted weights
    are non-negative, sum to 1, give usage most of the weight, and rank the later months better than equal weights."""
    rng = np.random.default_rng(8)
    n, dims = 6000, ["usage", "engagement", "relationship", "financial"]
    frame = pd.DataFrame({d: rng.uniform(0, 10, n) for d in dims})
    frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-(2.0 - 0.6 * frame["usage"])))).astype(int)
    frame["as_of"] = pd.to_datetime("2026-01-31") + pd.to_timedelta(rng.integers(0, 10, n) * 30, unit="D")
    frame.loc[frame.index[::50], "engagement"] = np.nan  # rows missing a score are left out
    fitted = fit_weights(frame, dims, {d: 0.25 for d in dims})
    assert all(w >= 0 for w in fitted.weights.values())
    assert sum(fitted.weights.values()) == pytest.approx(1.0)
    assert fitted.weights["usage"] > 0.8
    assert fitted.rows == n - len(frame.index[::50])
    assert fitted.auc_suggested is not None and fitted.auc_current is not None
    assert fitted.auc_suggested > fitted.auc_current + 0.05
    assert fitted.method.startswith("time (train before")


def test_fit_weights_refuse_too_few_churns() -> None:
    frame = pd.DataFrame({"usage": [5.0] * 30, "churned": [1] * 3 + [0] * 27, "as_of": pd.Timestamp("2026-01-31")})
    with pytest.raises(NotEnoughChurnEvents, match="'3 churn events in 30 rows'"):
        fit_weights(frame, ["usage"], {"usage": 1.0})


def test_csxl_calibrate_suggests_and_applies_percentile_bounds(tmp_path: Path) -> None:
    book = tmp_path / "demo.xlsx"
    shutil.copy(ROOT / "workbooks" / "csxl-demo.xlsx", book)
    shown = CliRunner().invoke(cli, ["calibrate", "--book", str(book), "--json"])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["applied"] is False and report["suggested"]["shares"]["green"] == pytest.approx(0.2, abs=0.02)
    assert read_book(book).settings.scheme() == ENGINE  # nothing written without --apply
    applied = CliRunner().invoke(cli, ["calibrate", "--book", str(book), "--apply"])
    assert applied.exit_code == 0, applied.output
    assert "written to Settings and refreshed" in applied.output
    written = read_book(book).settings.scheme()
    assert dict(written.bounds[:-1]) == report["suggested"]["bounds"]
    # the demo's History holds no health score old enough to have an outcome: the outcome method says so, exit 2
    outcome = CliRunner().invoke(cli, ["calibrate", "--book", str(book), "--method", "outcome"])
    assert outcome.exit_code == 2, outcome.output
    assert "0 churn events in 0 rows" in outcome.output and "Traceback" not in outcome.output
