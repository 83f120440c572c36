"""Usage signals from measured activity: the Accounts columns an events import fills (pure core).

The aggregation itself (active users, logins, core actions, features over a window) is SQL in the data edge
(:mod:`csxl.data.events`), written once for DuckDB and Spark; this module turns its per-account figures into the
Accounts input columns, with the labels rated by the signal registry's own cut-offs, so a measured trend and a typed
one mean the same: a change above ``core_action_trend``'s Green cut-off (> 0) is ``up``, one at or above its Yellow
cut-off (>= -30 %) ``flat``, a fall of more than 30 % ``down`` (the spec: "Core action volume: Red declining >30%").
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from csxl.signals import SIGNALS, NumericSignal

__all__ = ["SIGNAL_COLUMNS", "account_usage_columns", "trend_label"]

#: Accounts input columns an events import writes, in this order.
SIGNAL_COLUMNS: tuple[str, ...] = (
    "dau_mau",
    "logins_per_week",
    "days_since_login",
    "features_adopted",
    "core_actions_weekly",
    "seats_active",
    "usage_trend",
    "login_trend",
)

_TREND = cast(NumericSignal, SIGNALS["core_action_trend"])


def _holds(values: np.ndarray[Any, Any], rule: tuple[str, float]) -> np.ndarray[Any, Any]:
    op, bound = rule
    compare: Any = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}[op]
    held: np.ndarray[Any, Any] = compare(values, bound)
    return held


def trend_label(change: pd.Series[Any]) -> pd.Series[Any]:
    """A fractional change (0.12 = up 12 %) as ``up`` / ``flat`` / ``down`` by ``core_action_trend``'s cut-offs;
    unknown (no earlier activity to compare with) stays blank."""
    values = pd.to_numeric(change, errors="coerce").astype(float).to_numpy()
    known = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        up = _holds(values, _TREND.green)
        flat = _holds(values, _TREND.yellow)
    labels = np.where(up, "up", np.where(flat, "flat", "down")).astype(object)
    labels[~known] = None
    out: pd.Series[Any] = pd.Series(labels, index=change.index, dtype=object)
    return out


def account_usage_columns(signals: pd.DataFrame) -> pd.DataFrame:
    """Per-account figures (``account`` and :data:`csxl.data.events.SIGNALS_SQL`'s columns) -> the Accounts columns
    :data:`SIGNAL_COLUMNS`, indexed by account: counts as whole numbers, trends as labels, blanks where unknown."""
    out = pd.DataFrame(index=pd.Index(signals["account"].astype(str), name="account"))
    for column in ("dau_mau", "logins_per_week", "core_actions_weekly"):
        out[column] = pd.to_numeric(signals[column], errors="coerce").astype(float).to_numpy()
    for column in ("days_since_login", "features_adopted", "seats_active"):
        out[column] = pd.to_numeric(signals[column], errors="coerce").astype("Int64").to_numpy()
    for column, change in (("usage_trend", "usage_change"), ("login_trend", "login_change")):
        out[column] = pd.Series(trend_label(signals[change]).to_numpy(), index=out.index, dtype=object)
    return cast(pd.DataFrame, out[list(SIGNAL_COLUMNS)])
