"""The churn model (csxl.churn): recovers a known model, ranks better than the baselines, reads tables as exports
arrive, refuses too few events, and scores with its stored numbers exactly as the fitted scikit-learn model does.

Where the numbers come from: the synthetic tables are drawn from a stated logistic model (seeded); the recovered
coefficients are compared with the generating ones within 0.1 per unit (20,000 rows: the standard errors are about
0.02, the L2 penalty at C = 1 shrinks them by well under 1 %); the metric example is scikit-learn's own documented one
(y = 0, 0, 1, 1; scores 0.1, 0.4, 0.35, 0.8: ROC AUC 0.75, average precision 0.8333), the Brier score and lift worked
by hand beside them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csxl
from csxl.churn import MIN_EVENTS, NotEnoughChurnEvents, fit_churn_model
from csxl.churn_eval import churn_metrics
from csxl.errors import InputError


def _known(n: int = 20_000, seed: int = 1) -> pd.DataFrame:
    """Rows drawn from logit P(churn) = -2 + 1.0 x1 - 0.5 x2 + 0.7 [segment = smb]; 5 % of x2 blank; 24 month ends;
    ``recency`` a noisy copy of x1 (a baseline that knows part of the truth)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.normal(0, 1, n)
    segment = rng.choice(["smb", "mid", "ent"], n)
    z = -2.0 + 1.0 * x1 - 0.5 * x2 + np.where(segment == "smb", 0.7, 0.0)
    churned = rng.random(n) < 1 / (1 + np.exp(-z))
    frame = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "segment": segment,
            "recency": x1 + rng.normal(0, 1.5, n),
            "churned": np.where(churned, "yes", "no"),
            "as_of": pd.Timestamp("2025-01-31") + pd.to_timedelta(rng.integers(0, 24, n) * 30, unit="D"),
        }
    )
    frame.loc[rng.random(n) < 0.05, "x2"] = np.nan
    return frame


@pytest.fixture(scope="module")
def known() -> tuple[pd.DataFrame, csxl.ChurnModel]:
    frame = _known()
    features = ["x1", "x2", "segment"]
    return frame, fit_churn_model(frame, features=features, time="as_of", baselines={"recency": "recency"})


def test_the_generating_coefficients_are_recovered(known: tuple[pd.DataFrame, csxl.ChurnModel]) -> None:
    _frame, model = known
    scale = {e.column: e.scale for e in model.encodings}
    per_unit = {name: model.coefficients[name] / scale[name] for name in ("x1", "x2")}
    assert per_unit["x1"] == pytest.approx(1.0, abs=0.1)
    assert per_unit["x2"] == pytest.approx(-0.5, abs=0.1)
    smb = model.coefficients["segment = smb"]
    others = (model.coefficients["segment = mid"] + model.coefficients["segment = ent"]) / 2
    assert smb - others == pytest.approx(0.7, abs=0.15)  # the levels' difference is what the data identifies


def test_the_backtest_by_time_beats_the_baselines(known: tuple[pd.DataFrame, csxl.ChurnModel]) -> None:
    _frame, model = known
    metrics = model.metrics
    assert metrics is not None and metrics.method.startswith("time")
    assert metrics.roc_auc > metrics.baselines["recency"]["roc_auc"]
    assert metrics.lift_10 > metrics.baselines["recency"]["lift_10"]
    # calibrated: each decile's observed churn rate within 0.05 of the mean predicted probability
    table = metrics.reliability
    assert len(table) == 10 and (abs(table["observed"] - table["predicted"]) < 0.05).all()
    assert 0 < metrics.brier < metrics.base_rate * (1 - metrics.base_rate)  # better than predicting the base rate


def test_the_stored_numbers_score_as_the_fitted_scikit_learn_model(known: tuple[pd.DataFrame, csxl.ChurnModel]) -> None:
    """The Platt scaling is folded into the coefficients: refit scikit-learn's calibrated model on the same design
    and compare its probabilities with the stored model's NumPy score (1e-9)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    frame, model = known
    design = np.column_stack([e.transform(frame[e.column]) for e in model.encodings])
    y = (frame["churned"] == "yes").to_numpy(dtype=int)
    base = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=100)
    fitted = CalibratedClassifierCV(base, method="sigmoid", cv=3, ensemble=False)
    fitted.fit(design, y)
    assert np.allclose(model.predict(frame).to_numpy(), fitted.predict_proba(design)[:, 1], atol=1e-9, rtol=0)


def test_a_table_as_exports_arrive() -> None:
    """Numbers typed as text, yes/no words, a category with blanks and rare levels, a label with blanks: fitted
    without a hand-typed value; new rows with an unseen level and blanks are scored, index kept."""
    rng = np.random.default_rng(5)
    n = 600
    usage = rng.uniform(0, 100, n)
    champion = rng.random(n) < 0.5
    churned = rng.random(n) < 1 / (1 + np.exp(-(1.0 - 0.04 * usage + 1.2 * ~champion)))
    plan = rng.choice(["Pro", "Basic", "Team", "Legacy-1"], n, p=[0.46, 0.4, 0.13, 0.01])
    frame = pd.DataFrame(
        {
            "Usage": [f"{v:,.1f}" if i % 3 else float(v) for i, v in enumerate(usage)],  # "1,234.5" text and numbers
            "Champion": np.where(champion, "Yes", "no"),
            "Plan": plan,
            "Churned": np.where(churned, "TRUE", "FALSE"),
        },
        index=pd.Index([f"acct-{i}" for i in range(n)]),
    )
    frame.loc[frame.index[::17], "Champion"] = ""
    frame.loc[frame.index[::23], "Plan"] = None
    frame.loc[frame.index[::50], "Churned"] = None
    model = fit_churn_model(frame, label="Churned")
    kinds = {e.column: e.kind for e in model.encodings}
    assert kinds == {"Usage": "number", "Champion": "yes/no", "Plan": "category"}
    plan_levels = next(e.levels for e in model.encodings if e.column == "Plan")
    assert "other" in plan_levels and "(blank)" in plan_levels and "Legacy-1" not in plan_levels
    assert model.left_out == len(frame.index[::50]) and model.rows == n - model.left_out
    assert model.coefficients["Usage"] < 0 and model.coefficients["Champion"] < 0  # more usage, a champion: safer
    fresh = pd.DataFrame(
        {"Usage": ["12", None], "Champion": [None, "yes"], "Plan": ["Enterprise", ""]}, index=pd.Index(["n1", "n2"])
    )
    p = model.predict(fresh)
    assert list(p.index) == ["n1", "n2"] and ((p > 0) & (p < 1)).all()
    assert p["n1"] > p["n2"]  # low usage and no champion known: riskier


def test_too_few_churn_events_are_refused_with_the_counts() -> None:
    frame = _known(400, seed=3)
    frame["churned"] = "no"
    frame.loc[frame.index[:7], "churned"] = "yes"
    with pytest.raises(NotEnoughChurnEvents) as caught:
        fit_churn_model(frame, features=["x1", "x2", "segment"])
    assert isinstance(caught.value, InputError)
    message = str(caught.value)
    assert "7 churn events in 400 rows" in message and f"at least {MIN_EVENTS} churn events" in message
    assert "rule-based health tiers" in message


def test_bad_labels_and_missing_columns_are_named() -> None:
    frame = _known(200)
    frame.loc[frame.index[4], "churned"] = "maybe"
    with pytest.raises(InputError, match=r"churned \(row 4\) must be yes/no .* got 'maybe'"):
        fit_churn_model(frame)
    with pytest.raises(InputError, match="label must be a column of the table"):
        fit_churn_model(frame, label="lost")


def test_predict_names_a_missing_column(known: tuple[pd.DataFrame, csxl.ChurnModel]) -> None:
    frame, model = known
    with pytest.raises(InputError, match="x2"):
        model.predict(frame.drop(columns=["x2"]))


def test_drivers_add_up_to_the_score(known: tuple[pd.DataFrame, csxl.ChurnModel]) -> None:
    frame, model = known
    rows = frame.head(5)
    drivers = model.drivers(rows, top=len(model.coefficients))
    total = drivers.groupby("row")["contribution"].sum() + model.intercept
    assert np.allclose(total.reindex(rows.index).to_numpy(), model.score(rows).to_numpy(), atol=1e-12)
    top = model.drivers(rows, top=3)
    assert (top.groupby("row").size() == 3).all()
    assert set(top["direction"]) <= {"raises", "lowers"}


@pytest.mark.parametrize(
    ("y", "p", "auc", "ap", "brier", "lift"),
    [
        # scikit-learn's documented example; Brier = (0.01 + 0.16 + 0.4225 + 0.04) / 4; the top 20 % of 4 rows is
        # one row (0.8, churned): rate 1 over the base rate 0.5 = lift 2
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75, 0.8333333333, 0.158125, 2.0),
        # a perfect ranking: AUC 1, AP 1
        ([0, 1, 0, 1], [0.2, 0.9, 0.1, 0.7], 1.0, 1.0, (0.04 + 0.01 + 0.01 + 0.09) / 4, 2.0),
    ],
)
def test_churn_metrics_hand_worked(
    y: list[int], p: list[float], auc: float, ap: float, brier: float, lift: float
) -> None:
    m = churn_metrics(y, p)
    assert (m.roc_auc, m.brier, m.lift_20) == (pytest.approx(auc), pytest.approx(brier), pytest.approx(lift))
    assert m.pr_auc == pytest.approx(ap, abs=1e-9)


@pytest.mark.parametrize(
    ("y", "p", "rule"),
    [([1, 1, 1], [0.2, 0.3, 0.4], "outcomes of both kinds"), ([0, 1], [0.5], "one per outcome"), ([], [], "one per")],
)
def test_churn_metrics_refuse_what_cannot_be_measured(y: list[int], p: list[float], rule: str) -> None:
    with pytest.raises(InputError, match=rule):
        churn_metrics(y, p)
