"""Demo churn history drawn from a known churn model (pure core): the spec's model-3 inputs per account and month
end, and whether the account churned within 90 days, from stated coefficients.

It is how csxl shows (``tests/test_demo_churn.py``) that :func:`csxl.fit_churn_model` recovers a model it did not
see and ranks better than the two baselines a founder has without it: the health score and recency (days since
the last login). The inputs are the spec's list ("days since last login, login trend (30d slope), feature breadth,
core actions/week, ticket volume, NPS history, contract value, days to renewal, champion changes") plus tenure and
segment, with the blanks exports have (NPS unanswered for a third of the rows).

The generating model, log-odds of churn within 90 days (:data:`TRUE_MODEL`, per unit of each input):

    -2.2 + 0.035 days_since_login - 1.6 login_trend - 0.12 features_adopted - 0.02 core_actions_weekly
         + 0.15 support_tickets_30d - 0.12 nps + 0.9 champion_changed - 0.02 tenure_months + 0.5 [segment = smb]

ARR and days to renewal carry no risk of their own (their true coefficient is 0). The health score is a plausible
weighted score of usage and support (what a rule-based score sees), with noise; recency is ``days_since_login``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TRUE_MODEL", "demo_churn_history"]

#: The generating log-odds, per unit of each input (``intercept`` and ``segment = smb`` included).
TRUE_MODEL: dict[str, float] = {
    "intercept": -2.2,
    "days_since_login": 0.035,
    "login_trend": -1.6,
    "features_adopted": -0.12,
    "core_actions_weekly": -0.02,
    "support_tickets_30d": 0.15,
    "nps": -0.12,
    "champion_changed": 0.9,
    "tenure_months": -0.02,
    "arr": 0.0,
    "renewal_days": 0.0,
    "segment = smb": 0.5,
}


def demo_churn_history(accounts: int = 2_000, months: int = 24, seed: int = 11) -> pd.DataFrame:
    """One row per account and month end (``as_of``, ``account``), the inputs of :data:`TRUE_MODEL`, ``segment``,
    ``health_score`` (0..100) and ``churned`` (1/0, drawn from the model). Same arguments, same table."""
    rng = np.random.default_rng(seed)
    n = accounts * months
    account = np.repeat([f"Account {i + 1:05d}" for i in range(accounts)], months)
    month = np.tile(np.arange(months), accounts)
    ends = pd.date_range("2024-01-31", periods=months, freq="ME")
    dates = ends[month]
    engaged = np.repeat(rng.normal(0, 1, accounts), months) + rng.normal(0, 0.6, n)  # latent, drifts by month
    segment = np.repeat(rng.choice(["smb", "mid-market", "enterprise"], accounts, p=[0.5, 0.35, 0.15]), months)
    frame: pd.DataFrame = pd.DataFrame(
        {
            "as_of": dates,
            "account": account,
            "days_since_login": np.clip(np.round(12 - 8 * engaged + rng.gamma(2.0, 3.0, n)), 0, 90),
            "login_trend": np.round(np.clip(0.15 * engaged + rng.normal(0, 0.2, n), -1, 1), 3),
            "features_adopted": np.clip(np.round(6 + 2.5 * engaged + rng.normal(0, 1.5, n)), 0, 15),
            "core_actions_weekly": np.clip(np.round(25 + 12 * engaged + rng.normal(0, 8, n)), 0, None),
            "support_tickets_30d": rng.poisson(np.exp(0.6 - 0.3 * engaged)),
            "nps": np.clip(np.round(7 + 1.5 * engaged + rng.normal(0, 1.5, n)), 0, 10),
            "champion_changed": np.where(rng.random(n) < 0.08, "yes", "no"),
            "tenure_months": np.repeat(rng.integers(1, 48, accounts), months) + month,
            "arr": np.repeat(np.round(rng.lognormal(9.8, 0.8, accounts), -2), months),
            "renewal_days": rng.integers(0, 365, n),
            "segment": segment,
        }
    )
    z = TRUE_MODEL["intercept"] + (segment == "smb") * TRUE_MODEL["segment = smb"]
    for column in ("days_since_login", "login_trend", "features_adopted", "core_actions_weekly",
                   "support_tickets_30d", "nps", "tenure_months", "arr", "renewal_days"):  # fmt: skip
        z = z + TRUE_MODEL[column] * frame[column].to_numpy(dtype=float)
    z = z + TRUE_MODEL["champion_changed"] * (frame["champion_changed"] == "yes").to_numpy(dtype=float)
    frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    usage = np.clip(frame["features_adopted"] / 15 * 60 + (40 - frame["days_since_login"]), 0, 100)
    support = np.clip(100 - 10 * frame["support_tickets_30d"], 0, 100)
    frame["health_score"] = np.round(np.clip(0.7 * usage + 0.3 * support + rng.normal(0, 12, n), 0, 100), 1)
    frame.loc[rng.random(n) < 1 / 3, "nps"] = np.nan  # unanswered surveys: a blank, as exports have it
    return frame
