"""Helpers every play shares: reading an account's cells, its ARR, segment and NPS (from :mod:`csxl.facts`), the
missing-data list, text fields, and the one mapping from a health tier to a risk level.

Risk levels are the agent spec's "Intervention playbook by risk level": Critical (a cancellation request, which no
csxl column records, so csxl never infers it), High ("red health score", no login 14+ days, NPS detractor ...),
Medium ("yellow health score", usage declining ...), Low. A health tier maps to a level by its place in the preset's
scheme (:func:`tier_level`): the at-risk tiers (the lower half, :func:`csxl.facts.at_risk_tiers`) are High, the tier
just above them Medium, the rest Low. Engine: Critical and At-Risk High, Healthy Medium, Thriving Low; growth: Red
High, Yellow Medium, Green Low.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.cells import header_key
from csxl.columns import ColumnSpec, convert_column
from csxl.errors import InputError
from csxl.facts import at_risk_tiers
from csxl.models import AccountRecord
from csxl.plays.base import MISSING_DATA, Section
from csxl.portfolio import Portfolio
from csxl.sections import Cell, Styled
from csxl.settings import CHURN_TIERS, TierScheme

__all__ = [
    "RISK_LEVELS",
    "Fields",
    "Item",
    "MissingColumn",
    "account_arr",
    "arr_at_risk",
    "cell",
    "days_between",
    "extra_dates",
    "fill",
    "latest_nps",
    "level_loss_share",
    "live_account",
    "missing",
    "missing_section",
    "money",
    "money_cell",
    "pct",
    "pct_cell",
    "segment_of",
    "source_of",
    "tier_level",
]

#: The risk levels, most severe first.
RISK_LEVELS: tuple[str, ...] = ("Critical", "High", "Medium", "Low")


def tier_level(tier: str | None, scheme: TierScheme) -> str | None:
    """The risk level a health tier indicates in ``scheme``; ``None`` for no tier or a label not in the scheme."""
    if tier is None or tier not in scheme.labels:
        return None
    risky = at_risk_tiers(scheme)
    if tier in risky:
        return "High"
    above = scheme.labels[scheme.labels.index(risky[0]) - 1] if risky and scheme.labels.index(risky[0]) > 0 else None
    return "Medium" if tier == above else "Low"


class Item(BaseModel):
    """Base of the small frozen models inside play results."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MissingColumn(Item):
    """A blank cell the play needed: which column, what for, and what to fill in."""

    column: str
    needed_for: str
    fill: str


def cell(row: pd.Series[Any], column: str) -> Any:
    """One cell of an account row as a plain Python value: ``None`` when blank or absent; dates as ``date``.

    Numbers come back as ``int``/``float``, yes/no as ``bool``, text stripped (blank text is ``None``).
    """
    if column not in row.index:
        return None
    value = row[column]
    if isinstance(value, (pd.Series, pd.DataFrame)):  # a duplicated label: take the first
        value = value.iloc[0]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)) and math.isnan(float(value)):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else stamp.date()
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def missing(column: str, needed_for: str, fill_text: str | None = None) -> MissingColumn:
    """A :class:`MissingColumn`; the fill-in text defaults to the Accounts column's description and unit."""
    if fill_text is None:
        info = AccountRecord.model_fields.get(column)
        if info is not None and info.description:
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            unit = extra.get("unit")
            fill_text = f"{info.description} ({unit})" if unit else info.description
        else:
            fill_text = column
    return MissingColumn(column=column, needed_for=needed_for, fill=fill_text)


def money_cell(value: float | None, currency: str) -> Cell:
    """A money amount for a section row: the number with its currency (``"unknown"`` when missing)."""
    return "unknown" if value is None else Styled(float(value), "money", currency)


def pct_cell(value: float | None, digits: int = 0) -> Cell:
    """A fraction for a section row, shown as a percentage (``"unknown"`` when missing)."""
    return "unknown" if value is None else Styled(float(value), "pct", digits=digits)


def money(value: float | None, currency: str) -> str:
    """``54720.0`` -> ``"USD 54,720"`` (whole units); ``None`` -> ``"unknown"``."""
    if value is None:
        return "unknown"
    return f"{currency} {value:,.0f}"


def pct(value: float | None, digits: int = 0) -> str:
    """A fraction as a percentage: ``0.875`` -> ``"88%"``; ``None`` -> ``"unknown"``."""
    if value is None:
        return "unknown"
    return f"{100.0 * value:.{digits}f}%"


def account_arr(portfolio: Portfolio, row: pd.Series[Any]) -> tuple[float | None, str]:
    """The account's effective ARR and where it came from (:mod:`csxl.facts`): the ``arr`` cell, else 12 x its
    latest MRR; ``(None, "")`` when both are missing. Units: currency per year."""
    facts = portfolio.facts.loc[cast(str, row.name)]
    value = float(facts["arr_effective"])
    return (None, "") if math.isnan(value) else (value, str(facts["arr_source"]))


def live_account(portfolio: Portfolio, account: Any, play: str) -> pd.Series[Any]:
    """The account's row for a play that is for customers (qbr, renewal, expansion, onboarding, success-plan).

    A churned account (effective ARR 0: :mod:`csxl.facts`) raises :class:`InputError` saying the play does not apply
    and that the win-back play does, as the win-back play refuses a live account."""
    row = portfolio.account(account)
    arr = portfolio.facts.loc[cast(str, row.name), "arr_effective"]
    if arr == 0:
        name = str(row["account"])
        raise InputError(
            "account",
            name,
            f"a live account (ARR > 0) for the {play} play: {name} has churned, so what applies is win-back "
            f'(csxl winback "{name}")',
        )
    return row


def level_loss_share(level: str) -> float:
    """The share of ARR counted as expected loss at a risk level when no churn model scores the account: the midpoint
    of the level's band of churn probability (:data:`csxl.settings.CHURN_TIERS`, the agent spec's predictive tiers:
    Low 0-20 % -> 10 %, Medium 20-50 % -> 35 %, High 50-80 % -> 65 %, Critical 80-100 % -> 90 %)."""
    lower = 0.0
    for name, upper in CHURN_TIERS:
        if name == level:
            return (lower + upper) / 2
        lower = upper
    raise InputError("risk level", level, f"one of {', '.join(n for n, _ in CHURN_TIERS)}")


def arr_at_risk(portfolio: Portfolio, row: pd.Series[Any], level: str) -> tuple[float | None, str]:
    """ARR at risk of an account, one rule for every play: its expected loss, ARR x churn probability.

    The probability is the account's ``churn_probability`` cell (the stored churn model's, written by each refresh)
    when filled; else the midpoint of its risk level's band (:func:`level_loss_share`), so a Low-risk account is never
    reported with its whole ARR at risk. Returns the amount and how it was worked out; ``(None, ...)`` without ARR.
    """
    arr, source = account_arr(portfolio, row)
    probability = cell(row, "churn_probability")
    if isinstance(probability, (int, float)) and 0 <= float(probability) <= 1:
        share, basis = float(probability), f"churn probability {float(probability):.0%} (the stored churn model)"
    else:
        share = level_loss_share(level)
        basis = f"{share:.0%} for {level} risk (midpoint of the spec's band of churn probability)"
    if arr is None:
        return None, f"ARR unknown; {basis}"
    return arr * share, f"ARR {money(arr, portfolio.settings.currency)} ({source}) x {basis}"


def segment_of(portfolio: Portfolio, row: pd.Series[Any]) -> tuple[str | None, str]:
    """The account's segment and its source (:mod:`csxl.facts`): the ``segment`` cell, else the band of its
    effective ARR (:data:`csxl.settings.SEGMENT_BANDS`); ``(None, "")`` when both are missing."""
    facts = portfolio.facts.loc[cast(str, row.name)]
    segment = facts["segment_effective"]
    return (None, "") if segment is None or segment is pd.NA else (str(segment), str(facts["segment_source"]))


def latest_nps(portfolio: Portfolio, row: pd.Series[Any]) -> tuple[int | None, str]:
    """The account's NPS answer (0..10) and its source: its latest NPS survey up to as-of, else the ``nps`` cell
    (:mod:`csxl.derived`: a dated answer beats the undated cell)."""
    value = cell(row, "nps")
    if value is None:
        return None, ""
    return int(value), source_of(portfolio, row, "nps")


def source_of(portfolio: Portfolio, row: pd.Series[Any], column: str) -> str:
    """Where the account's ``contract_trend`` or ``nps`` comes from (:attr:`Portfolio.signal_sources`): ``nps column``
    / ``contract_trend column`` when typed, else the evidence ("MRR -37% from 2025-10 to 2026-10 (typed: ...)")."""
    sources = portfolio.signal_sources
    text = str(sources.at[row.name, column]) if row.name in sources.index else "typed"
    return f"{column} column" if text == "typed" else text


class Fields(dict[str, str]):
    """Template fields for :meth:`str.format_map`: an unknown field stays a visible ``[field]`` placeholder."""

    def __missing__(self, key: str) -> str:
        return f"[{key}]"


def fill(template: str, fields: Mapping[str, Any]) -> str:
    """``template.format_map`` with ``fields`` (values shown with ``str``; ``None`` left as ``[field]``)."""
    return template.format_map(Fields({k: str(v) for k, v in fields.items() if v is not None}))


def days_between(later: _dt.date, earlier: _dt.date) -> int:
    """Whole days from ``earlier`` to ``later`` (negative when ``later`` is before ``earlier``)."""
    return (later - earlier).days


def missing_section(items: list[MissingColumn]) -> Section:
    """The "Missing data" section every account play ends with."""
    if not items:
        return Section(MISSING_DATA, [["none: every column this play reads is filled"]])
    return Section(MISSING_DATA, [[m.column, m.needed_for, m.fill] for m in items], ("column", "needed for", "fill in"))


def extra_dates(portfolio: Portfolio, name: str) -> pd.Series[Any] | None:
    """An optional date column of the Accounts sheet that csxl does not define (``kickoff_date``, ``first_value_date``).

    Returns ``None`` when the sheet has no such column, else a Series of Timestamps (NaT = blank) on
    :attr:`Portfolio.table`'s index. Cells follow the date rules of every csxl date column (ISO text, date cells,
    Excel serials); a bad cell raises :class:`InputError` naming the column, the value and the account.
    """
    table = portfolio.table
    labels = [c for c in table.columns if header_key(c) == name]
    if not labels:
        return None
    raw = table[labels[0]]
    if isinstance(raw, pd.DataFrame):
        raw = raw.iloc[:, 0]
    spec = ColumnSpec(name=name, kind="date", required=False)
    converted = convert_column(spec, raw)
    if converted.bad.any():
        pos = int(np.flatnonzero(converted.bad)[0])
        raise InputError(name, raw.iloc[pos], spec.rule, detail=f"account {table.index[pos]!r}")
    return pd.Series(pd.to_datetime(np.asarray(converted.values)), index=table.index, name=name)
