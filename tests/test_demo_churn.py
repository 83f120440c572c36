"""The churn model on demo history drawn from a known churn model (csxl.demo_churn): the fitted coefficients recover
the generating ones, and the backtest by time beats the health score and recency on the same held-out months.

Where the tolerances come from: 4,000 accounts x 24 month ends (96,000 rows, about 6 % churned) drawn from
``csxl.demo_churn.TRUE_MODEL``. Each recovered coefficient (per unit: the model's per-standard-deviation coefficient
over the input's scale) is within 20 % of the generating one; the inputs are correlated through one latent
engagement, so their standard errors are 5-10 % of the coefficients. NPS, blank in a third of the rows and filled
with the median plus a "missing" indicator, is attenuated (about 80 % of the truth: single imputation of an input
correlated with the others biases its coefficient towards 0, docs/churn.md): within 30 %. The two inputs with no
effect (ARR, days to renewal) move the log-odds by less than 0.05 per standard deviation.
"""

from __future__ import annotations

import pandas as pd
import pytest

import csxl
from csxl.demo_churn import TRUE_MODEL, demo_churn_history

INPUTS = ["days_since_login", "login_trend", "features_adopted", "core_actions_weekly", "support_tickets_30d", "nps",
          "champion_changed", "tenure_months", "arr", "renewal_days", "segment"]  # fmt: skip


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, csxl.ChurnModel]:
    history = demo_churn_history(accounts=4_000, months=24, seed=11)
    model = csxl.fit_churn_model(
        history, label="churned", features=INPUTS, time="as_of",
        baselines={"health score": "-health_score", "recency": "days_since_login"},
    )  # fmt: skip
    return history, model


def test_the_demo_history_is_what_it_says() -> None:
    history = demo_churn_history(accounts=50, months=6, seed=2)
    assert len(history) == 300 and history.groupby("account")["as_of"].nunique().eq(6).all()
    assert 0.2 < history["nps"].isna().mean() < 0.45  # a third of NPS unanswered
    assert set(history["champion_changed"]) == {"yes", "no"}
    assert history.equals(demo_churn_history(accounts=50, months=6, seed=2))  # same seed, same table


@pytest.mark.slow
def test_the_generating_coefficients_are_recovered(fitted: tuple[pd.DataFrame, csxl.ChurnModel]) -> None:
    _history, model = fitted
    scale = {e.column: e.scale for e in model.encodings}
    for name, truth in TRUE_MODEL.items():
        if name not in scale:
            continue
        per_unit = model.coefficients[name] / scale[name]
        if truth == 0:
            assert abs(model.coefficients[name]) < 0.05, name
        else:
            assert per_unit == pytest.approx(truth, rel=0.30 if name == "nps" else 0.20), name
    others = (model.coefficients["segment = mid-market"] + model.coefficients["segment = enterprise"]) / 2
    assert model.coefficients["segment = smb"] - others == pytest.approx(TRUE_MODEL["segment = smb"], abs=0.2)


@pytest.mark.slow
def test_the_model_beats_both_baselines(fitted: tuple[pd.DataFrame, csxl.ChurnModel]) -> None:
    _history, model = fitted
    metrics = model.metrics
    assert metrics is not None and metrics.method.startswith("time")
    for baseline in ("health score", "recency"):
        assert metrics.roc_auc > metrics.baselines[baseline]["roc_auc"] + 0.02, baseline
        assert metrics.pr_auc > metrics.baselines[baseline]["pr_auc"], baseline
    table = metrics.reliability
    assert (abs(table["observed"] - table["predicted"]) < 0.05).all()  # calibrated on the later months
