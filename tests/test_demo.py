"""The seeded demo portfolio: deterministic, realistic, and signals that correlate with churn."""

from __future__ import annotations

import pandas as pd
import pytest

import csxl
from csxl.demo import SEGMENTS


@pytest.fixture(scope="module")
def demo() -> csxl.DemoData:
    return csxl.demo_portfolio(250, seed=7)


def test_same_seed_same_portfolio(demo: csxl.DemoData) -> None:
    again = csxl.demo_portfolio(250, seed=7)
    pd.testing.assert_frame_equal(demo.accounts, again.accounts)
    pd.testing.assert_frame_equal(demo.mrr, again.mrr)
    pd.testing.assert_frame_equal(demo.surveys, again.surveys)
    other = csxl.demo_portfolio(250, seed=8)
    assert not demo.mrr.equals(other.mrr)


def test_shape_and_segments(demo: csxl.DemoData) -> None:
    assert len(demo.accounts) == 250
    assert demo.accounts["account"].is_unique
    assert set(demo.accounts["segment"]) == set(SEGMENTS)
    months = pd.to_datetime(demo.mrr["month"]).dt.to_period("M")
    assert months.nunique() == 24
    assert months.max() == pd.Period(demo.as_of, freq="M")


def test_every_movement_kind_occurs(demo: csxl.DemoData) -> None:
    mov = csxl.mrr_movements(demo.mrr)
    for kind in ("new", "expansion", "contraction", "churned", "reactivation"):
        assert mov[kind].sum() > 0, kind


def test_inputs_validate(demo: csxl.DemoData) -> None:
    for loaded in (
        csxl.load_accounts(demo.accounts),
        csxl.load_mrr(demo.mrr),
        csxl.load_surveys(demo.surveys),
    ):
        assert loaded.issues == []


def test_health_predicts_churn(demo: csxl.DemoData) -> None:
    # The generator draws signals and churn from one latent health: churned accounts must score lower on average.
    scored = csxl.score_accounts(demo.accounts)
    churned = demo.accounts["arr"] == 0
    assert churned.sum() >= 10
    assert scored.loc[churned, "health_score"].mean() < scored.loc[~churned, "health_score"].mean() - 5
