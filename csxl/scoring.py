"""Score a whole accounts table in one call: dimension scores, weighted health, tier, main risk, simple points.

This is the step every runtime shares (``csxl refresh``, the Excel Refresh button, ``csxl demo``): it takes the
accounts table with the columns of :class:`csxl.models.AccountRecord` (any subset; missing columns are missing data)
and returns one row per account, on the same index.

Column -> dimension mapping (documented in ``docs/health.md``):

=============  ===================================================================  ==============================
dimension      weighted model (0..10, :mod:`csxl.signals`)                           simple points (0/1/2)
=============  ===================================================================  ==============================
usage          ``score_usage(dau_mau, features_adopted / features_available)``      ``logins_per_week`` R/Y/G
engagement     ``score_engagement(login_trend, support_tickets_30d, community)``   ``login_trend`` down/flat/up
relationship   ``score_relationship(champion, exec_sponsor, contacts_count)``       ``contacts`` R/Y/G
outcomes       ``score_outcomes(goals_defined, goals_achieved, roi_documented)``    (not in the simple model)
financial      ``score_financial(payment_status, contract_trend == expanded, ...)``  ``payment`` R/Y/G
sentiment      (not in the weighted presets)                                        ``nps`` R/Y/G
=============  ===================================================================  ==============================

A ``<dimension>_override`` column, where a cell is filled, overrides the computed score for that account
(a founder's judgement beats the formula; the spec lists "no human override" as an anti-pattern).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union, cast

import numpy as np
import pandas as pd

from csxl.cells import label_key
from csxl.columns import convert_column
from csxl.dimensions import score_engagement, score_financial, score_outcomes, score_relationship, score_usage
from csxl.errors import InputError
from csxl.health import health_score, health_tier, main_risk, simple_points, simple_tier
from csxl.models import AccountRecord, column_specs
from csxl.settings import INSUFFICIENT_DATA, Settings, TierScheme, min_coverage, resolve_weights
from csxl.signals import SIGNALS, NumericSignal, signal_rag
from csxl.vectors import fail, shape_of

__all__ = ["SCORED_COLUMNS", "dimension_scores", "score_accounts", "simple_points_frame"]

#: Columns of :func:`score_accounts`' result, in order.
SCORED_COLUMNS: tuple[str, ...] = (
    "usage",
    "engagement",
    "relationship",
    "outcomes",
    "financial",
    "health_score",
    "health_tier",
    "main_risk",
    "dimensions_scored",
    "simple_points",
    "simple_tier",
)

_RAG_POINTS = {"Red": 0, "Yellow": 1, "Green": 2}


def _col(accounts: pd.DataFrame, name: str) -> pd.Series[Any]:
    """A column, or an all-missing column when the table does not have it."""
    if name in accounts.columns:
        return accounts[name]
    missing: pd.Series[Any] = pd.Series([None] * len(accounts), index=accounts.index, name=name, dtype=object)
    return missing


def _table(accounts: Any) -> pd.DataFrame:
    if not isinstance(accounts, pd.DataFrame):
        raise InputError("accounts", type(accounts).__name__, "a DataFrame of accounts (one row per account)")
    return accounts


def _checked(accounts: pd.DataFrame, name: str) -> pd.Series[Any]:
    """A column converted by the Accounts table's rule for it (:class:`csxl.models.AccountRecord`); a bad cell
    raises :class:`InputError` naming the column, the value, the rule and where it is (never read as blank)."""
    spec = column_specs(AccountRecord)[name]
    column = _col(accounts, name)
    converted = convert_column(spec, column)
    if converted.bad.any():
        raise fail(name, column.to_numpy(dtype=object), converted.bad, spec.rule, shape_of(column))
    out: pd.Series[Any] = pd.Series(converted.values, index=accounts.index, name=name)
    return out


def dimension_scores(accounts: pd.DataFrame) -> pd.DataFrame:
    """The five 0..10 dimension scores per account (NaN where the signals are missing), overrides applied.

    Feature counts, the contract trend and the ``<dimension>_override`` cells are read by the Accounts table's rules:
    an override outside 0..10, junk in a count or an unknown trend label raises :class:`InputError`.
    """
    accounts = _table(accounts)
    available = _checked(accounts, "features_available").astype(float)
    adopted = _checked(accounts, "features_adopted").astype(float)
    breadth = (adopted / available.where(available > 0)).clip(upper=1.0)
    trend = _checked(accounts, "contract_trend").astype(object)
    expanding = trend.map(lambda v: None if v is None else v == "expanded")
    scores = pd.DataFrame(
        {
            "usage": score_usage(_col(accounts, "dau_mau"), breadth),
            "engagement": score_engagement(
                _col(accounts, "login_trend"), _col(accounts, "support_tickets_30d"), _col(accounts, "community_active")
            ),
            "relationship": score_relationship(
                _col(accounts, "champion"), _col(accounts, "exec_sponsor"), _col(accounts, "contacts_count")
            ),
            "outcomes": score_outcomes(
                _col(accounts, "goals_defined"), _col(accounts, "goals_achieved"), _col(accounts, "roi_documented")
            ),
            "financial": score_financial(
                _col(accounts, "payment_status"), expanding.fillna(False), _col(accounts, "contraction_risk")
            ),
        },
        index=accounts.index,
    )
    for dim in scores.columns:
        override = _checked(accounts, f"{dim}_override").astype(float)
        scores[dim] = override.where(override.notna(), scores[dim]).astype(float)
    return cast(pd.DataFrame, scores)


def _cutoffs(signal: str, cutoffs: Mapping[str, tuple[float, float]] | None) -> dict[str, Any] | None:
    """Threshold overrides for :func:`signal_rag`: keep the registry's comparison, change the two cut-offs."""
    if not cutoffs or signal not in cutoffs:
        return None
    definition = SIGNALS[signal]
    if not isinstance(definition, NumericSignal):
        return None
    green, yellow = cutoffs[signal]
    return {"green": (definition.green[0], float(green)), "yellow": (definition.yellow[0], float(yellow))}


def _label_points(signal: str, values: pd.Series[Any], points: Mapping[str, int] | None) -> pd.Series[Any]:
    """0/1/2 points of a label column: the registry's rating, or the Settings table's points for a label it changed."""
    rated: pd.Series[Any] = pd.Series(signal_rag(signal, values), index=values.index).map(
        lambda v: _RAG_POINTS.get(v, v) if isinstance(v, str) else v
    )
    if not points:
        return rated
    keys = values.map(lambda v: label_key(v) if isinstance(v, str) else None)
    changed = keys.map(lambda k: points.get(k) if k is not None else None)
    return cast("pd.Series[Any]", rated.where(changed.isna(), changed))


def simple_points_frame(
    accounts: pd.DataFrame,
    cutoffs: Mapping[str, tuple[float, float]] | None = None,
    tiers: tuple[int, int] = (8, 5),
    labels: Mapping[str, Mapping[str, int]] | None = None,
) -> pd.DataFrame:
    """The simple-points model (agent spec, Model 1): each dimension 0/1/2 from one signal, total, Green/Yellow/Red.

    The same rules are written as plain formulas in the workbook's Accounts sheet; this function is the reference the
    spreadsheet engine's results are compared with. ``cutoffs`` changes the (green, yellow) cut-offs of the numeric
    signals (``logins_per_week``, ``contacts``, ``nps``), ``labels`` the points of labels of the label signals
    (``login_trend``, ``payment``: label key -> 0/1/2, the Settings sheet's tables), ``tiers`` the (green, yellow)
    lower bounds on the total.
    """
    accounts = _table(accounts)
    if cutoffs is not None and not isinstance(cutoffs, Mapping):
        raise InputError("cutoffs", type(cutoffs).__name__, "a mapping of signal -> (green, yellow) cut-offs")
    if not isinstance(tiers, (tuple, list)) or len(tiers) != 2:
        raise InputError("tiers", tiers, "(green, yellow) lower bounds on the 0..10 total")
    if labels is not None and not isinstance(labels, Mapping):
        raise InputError("labels", type(labels).__name__, "a mapping of signal -> {label: points}")
    table = labels or {}
    parts = {
        "usage": signal_rag("logins_per_week", _col(accounts, "logins_per_week"), _cutoffs("logins_per_week", cutoffs)),
        "engagement": _label_points("login_trend", _col(accounts, "login_trend"), table.get("login_trend")),
        "relationship": signal_rag("contacts", _col(accounts, "contacts_count"), _cutoffs("contacts", cutoffs)),
        "financial": _label_points("payment", _col(accounts, "payment_status"), table.get("payment")),
        "sentiment": signal_rag("nps", _col(accounts, "nps"), _cutoffs("nps", cutoffs)),
    }
    frame = pd.DataFrame(
        {
            f"{dim}_points": pd.Series(values, index=accounts.index).map(
                lambda v: _RAG_POINTS.get(v, v) if isinstance(v, str) else v
            )
            for dim, values in parts.items()
        },
        index=accounts.index,
    ).astype(float)
    frame["simple_points"] = simple_points(*(frame[c] for c in frame.columns))
    frame["simple_tier"] = simple_tier(frame["simple_points"], green=tiers[0], yellow=tiers[1])
    return cast(pd.DataFrame, frame)


def score_accounts(
    accounts: pd.DataFrame,
    weights: Union[str, Mapping[str, float]] = "engine",
    scheme: Union[str, TierScheme] = "engine",
    *,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Score every account: dimension scores, weighted health (0..100), tier, main risk, simple points and tier.

    Unknown is not bad: a blank signal leaves its dimension out and the weights of the others are re-normalised.
    ``dimensions_scored`` counts the preset's dimensions with a score; below :func:`csxl.settings.min_coverage` of
    them the account's tier is :data:`csxl.settings.INSUFFICIENT_DATA` (its score, when any, is still shown), so an
    account is never At-Risk for lack of data. An account with no usable signal has a blank score (not an error:
    early-stage founders fill few columns); every other account is still scored. ``settings`` (a workbook's Settings
    sheet), when given, supplies the weights, the tier scheme and the simple-points cut-offs and replaces
    ``weights``/``scheme``.
    """
    accounts = _table(accounts)
    cutoffs: Mapping[str, tuple[float, float]] | None = None
    labels: Mapping[str, Mapping[str, int]] | None = None
    tiers = (8, 5)
    if settings is not None and not isinstance(settings, Settings):
        raise InputError("settings", settings, "a csxl.Settings, e.g. Settings(preset='growth')")
    if settings is not None:
        weights, scheme = settings.resolved_weights(), settings.scheme()
        cutoffs, tiers, labels = settings.simple_cutoffs, settings.simple_tiers, settings.simple_labels
    dims = dimension_scores(accounts)
    weighted = [d for d in resolve_weights(weights) if d in dims.columns]
    any_signal = dims[weighted].notna().any(axis=1)
    result = dims.copy()
    result["health_score"] = np.nan
    result["health_tier"] = None
    result["main_risk"] = None
    covered = dims[weighted].notna().sum(axis=1).astype(np.int64)
    result["dimensions_scored"] = covered
    if any_signal.any():
        scored = dims[any_signal]
        hs = health_score(scored, weights=weights)
        result.loc[any_signal, "health_score"] = hs
        result.loc[any_signal, "health_tier"] = health_tier(hs, scheme=scheme)
        result.loc[any_signal, "main_risk"] = main_risk(scored, weights=weights)
    result.loc[covered < min_coverage(len(weighted)), "health_tier"] = INSUFFICIENT_DATA
    simple = simple_points_frame(accounts, cutoffs, tiers, labels)
    result["simple_points"] = simple["simple_points"]
    result["simple_tier"] = simple["simple_tier"]
    return cast(pd.DataFrame, result[list(SCORED_COLUMNS)])
