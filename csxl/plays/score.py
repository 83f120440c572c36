"""Play 1, ``score``: one account's health score, why, its per-signal Red/Yellow/Green, playbook and touch cadence.

This module also holds the small helpers the six account plays share (reading one cell of an account row, the
"missing data" note, ARR, segment, NPS, template filling); they are pure functions over a
:class:`csxl.portfolio.Portfolio` and one row of its ``table``.

Rules (spec: ``customer-success-engine.md`` Phase 1 and Phase 3; ``customer-success-agent.md`` signal thresholds):

* score, tier and main risk are :attr:`Portfolio.scored`'s (the workbook's settings: preset, weights, tier bounds);
  the explanation is :func:`csxl.explain_health` with ``settings.resolved_weights()``: per dimension the 0..10 score,
  the effective weight, ``points = 10 * weight * score`` and ``lost = 10 * weight * (10 - score)``.
* each signal the account has data for is rated with :func:`csxl.signal_rag` (the Settings sheet's simple-points
  cut-offs apply to ``logins_per_week``, ``contacts`` and ``nps``); see :data:`SIGNAL_COLUMNS` for the column map.
* the playbook is the engine spec's "Engagement Playbook by Health Tier": the tier's own when the tier is one of
  its four (Thriving, Healthy, At-Risk, Critical), else (the ``growth`` preset's Green/Yellow/Red) the playbook whose
  score band holds the score (80/60/40/0).
* the cadence is "Touch Cadence by Tier" for the account's ``segment``; a blank segment is read from ARR with the
  table's bands ($100K+, $25-100K, $5-25K, <$5K), and the result says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from csxl.health import explain_health
from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import (
    Item,
    MissingColumn,
    account_arr,
    cell,
    latest_nps,
    missing,
    missing_section,
    money_cell,
    pct,
    pct_cell,
    segment_of,
    source_of,
)
from csxl.portfolio import Portfolio
from csxl.sections import Cell
from csxl.signals import SIGNALS, NumericSignal, signal_rag

__all__ = [
    "SIGNAL_COLUMNS",
    "CadenceLine",
    "DimensionLine",
    "ScoreResult",
    "SignalLine",
    "score_play",
]


# --------------------------------------------------------------------------------------------------------------------
# The play
# --------------------------------------------------------------------------------------------------------------------

#: (signal of :data:`csxl.SIGNALS`, account column it is read from). ``seat_adoption`` is
#: ``seats_active / seats_purchased``; ``usage_trend`` is rated on the ``login_trend`` scale (same up/flat/down labels).
SIGNAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("logins_per_week", "logins_per_week"),
    ("days_since_login", "days_since_login"),
    ("features_adopted", "features_adopted"),
    ("seat_adoption", "seats_active/seats_purchased"),
    ("integration", "integration"),
    ("champion", "champion_status"),
    ("contacts", "contacts_count"),
    ("exec_sponsor", "exec_sponsor_status"),
    ("payment", "payment_status"),
    ("contract_trend", "contract_trend"),
    ("login_trend", "login_trend"),
    ("usage_trend", "usage_trend"),
    ("nps", "nps"),
)


class DimensionLine(Item):
    """One row of the explanation: 0..10 score, effective weight (fraction), points and points lost (of 100)."""

    dimension: str
    score: float | None
    weight: float
    points: float
    lost: float


class SignalLine(Item):
    """One rated signal: its name, the column(s) read, the value shown and the rating (Red/Yellow/Green)."""

    signal: str
    column: str
    value: str
    rating: str


class CadenceLine(Item):
    """The touch cadence of a segment (engine spec "Touch Cadence by Tier")."""

    segment: str
    label: str
    source: str
    sync_meetings: str
    async_checkins: str
    qbrs: str
    executive_touch: str


class ScoreResult(PlayResult):
    """Play 1: the account's health score, its explanation, per-signal ratings, playbook and cadence."""

    segment: str | None
    arr: float | None
    currency: str
    preset: str
    health_score: float | None
    health_tier: str | None
    main_risk: str | None
    simple_points: float | None
    simple_tier: str | None
    explanation: list[DimensionLine]
    signals: list[SignalLine]
    playbook_tier: str | None
    playbook_action: str | None
    playbook: list[str]
    cadence: CadenceLine | None
    missing: list[MissingColumn]

    def sections(self) -> list[Section]:
        score = None if self.health_score is None else round(self.health_score, 1)
        head: list[list[Cell]] = [
            ["Health score (0-100)", score],
            ["Tier", self.health_tier],
            ["Preset", self.preset],
            ["Biggest loss (main risk)", self.main_risk],
            ["Simple points (0-10)", self.simple_points],
            ["Simple tier", self.simple_tier],
            ["Segment", self.segment],
            ["ARR", money_cell(self.arr, self.currency)],
        ]
        out = [Section("Health score", head)]
        if self.explanation:
            rows: list[list[Cell]] = [
                [d.dimension, None if d.score is None else round(d.score, 2), pct_cell(d.weight, 1), round(d.points, 1),
                 round(d.lost, 1)]
                for d in self.explanation
            ]  # fmt: skip
            out.append(Section("Why this score", rows, ("dimension", "score 0-10", "weight", "points", "lost")))
        if self.signals:
            sig: list[list[Cell]] = [[s.signal, s.column, _number_or_text(s.value), s.rating] for s in self.signals]
            out.append(Section("Signals", sig, ("signal", "column", "value", "rating")))
        if self.playbook_tier:
            out.append(
                Section(
                    f"Playbook: {self.playbook_tier}", [[s] for s in self.playbook], text=self.playbook_action or ""
                )
            )
        if self.cadence:
            c = self.cadence
            out.append(
                Section(
                    f"Touch cadence: {c.label}",
                    [
                        ["Segment", f"{c.segment} ({c.source})"],
                        ["Sync meetings", c.sync_meetings],
                        ["Async check-ins", c.async_checkins],
                        ["QBRs", c.qbrs],
                        ["Executive touch", c.executive_touch],
                    ],
                )
            )
        out.append(missing_section(self.missing))
        return out


def _number_or_text(value: str) -> Cell:
    """A signal's value for a sheet: a number stays a number (``"3.6"`` -> 3.6), anything else its text."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return number if np.isfinite(number) and value.strip() == value else value


def _thresholds(portfolio: Portfolio, signal: str) -> dict[str, Any] | None:
    """The Settings sheet's simple-points cut-offs for a numeric signal, as :func:`signal_rag` overrides."""
    cutoffs = portfolio.settings.simple_cutoffs
    definition = SIGNALS.get(signal)
    if signal not in cutoffs or not isinstance(definition, NumericSignal):
        return None
    green, yellow = cutoffs[signal]
    return {"green": (definition.green[0], float(green)), "yellow": (definition.yellow[0], float(yellow))}


def rate_signals(portfolio: Portfolio, row: pd.Series[Any]) -> tuple[list[SignalLine], list[MissingColumn]]:
    """Every signal of :data:`SIGNAL_COLUMNS` the account has data for, rated; the others as missing columns."""
    lines: list[SignalLine] = []
    gaps: list[MissingColumn] = []
    for signal, column in SIGNAL_COLUMNS:
        if signal == "seat_adoption":
            active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
            if active is None or not bought:
                for col, val in (("seats_active", active), ("seats_purchased", bought)):
                    if val is None:
                        gaps.append(missing(col, "seat adoption signal"))
                continue
            value: Any = active / bought
            shown = f"{active}/{bought} = {pct(value)}"
        elif signal == "nps":
            value, source = latest_nps(portfolio, row)
            if value is None:
                gaps.append(missing("nps", "nps signal (or an NPS answer on the Surveys sheet)"))
                continue
            shown = f"{value} ({source})"
        else:
            value = cell(row, column)
            if value is None:
                gaps.append(missing(column, f"{signal} signal"))
                continue
            shown = str(value) if signal != "contract_trend" else f"{value} ({source_of(portfolio, row, column)})"
        rated_as = "login_trend" if signal == "usage_trend" else signal
        rating = signal_rag(rated_as, value, _thresholds(portfolio, rated_as))
        lines.append(SignalLine(signal=signal, column=column, value=shown, rating=str(rating)))
    return lines, gaps


def playbook_for(tier: str | None, score: float | None, playbooks: Mapping[str, Any]) -> str | None:
    """The playbook key: the tier itself when it names a playbook, else the band (``min_score``) holding the score."""
    if tier in playbooks:
        return tier
    if score is None:
        return None
    for name, spec in sorted(playbooks.items(), key=lambda kv: -float(kv[1]["min_score"])):
        if score >= float(spec["min_score"]):
            return str(name)
    return None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@register("score", 1, "Score account", needs_account=True, result=ScoreResult)
def score_play(portfolio: Portfolio, account: str, *, library: Mapping[str, Any] | None = None) -> ScoreResult:
    """Play 1 (``"Score [account]"``): health score, explanation, signal ratings, tier playbook and touch cadence.

    Raises :class:`csxl.errors.InputError` for an unknown account; blank cells are listed in ``missing``.
    """
    row = portfolio.account(account)
    lib = load_library("score", library)
    settings = portfolio.settings
    weights = settings.resolved_weights()
    gaps: list[MissingColumn] = []

    health = _float(cell(row, "health_score"))
    tier = cell(row, "health_tier")
    explanation = _explanation(row, weights) if health is not None else []
    if health is None:
        gaps.append(
            missing("usage/engagement/relationship/outcomes/financial signals", "a health score", _NO_SCORE_FILL)
        )

    signals, signal_gaps = rate_signals(portfolio, row)
    gaps += signal_gaps

    playbooks = cast(dict[str, Any], lib["playbooks"])
    key = playbook_for(None if tier is None else str(tier), health, playbooks)

    segment, source = segment_of(portfolio, row)
    cadence = _cadence(segment, source, cast(dict[str, Any], lib["cadence"]))
    if cadence is None:
        gaps.append(missing("segment", "the touch cadence (or fill arr)"))
    arr, _ = account_arr(portfolio, row)
    conventions = [
        "Signals without a csxl column are not rated: core_action_trend, support (ticket pattern), outreach_response.",
        "usage_trend is rated on the login_trend scale: down Red, flat Yellow, up Green.",
    ]
    if key is not None and key != tier:
        conventions.append(f"Tier {tier!s} is not a playbook tier; the playbook is the one whose band holds the score.")
    simple = _float(cell(row, "simple_points"))
    return ScoreResult(
        command="score",
        account=str(cell(row, "account")),
        as_of=portfolio.as_of,
        conventions=conventions,
        segment=segment,
        arr=arr,
        currency=settings.currency,
        preset=settings.preset,
        health_score=health,
        health_tier=None if tier is None else str(tier),
        main_risk=None if cell(row, "main_risk") is None else str(cell(row, "main_risk")),
        simple_points=simple,
        simple_tier=None if cell(row, "simple_tier") is None else str(cell(row, "simple_tier")),
        explanation=explanation,
        signals=signals,
        playbook_tier=key,
        playbook_action=None if key is None else str(playbooks[key]["action"]),
        playbook=[] if key is None else [str(s) for s in playbooks[key]["steps"]],
        cadence=cadence,
        missing=gaps,
    )


_NO_SCORE_FILL = (
    "at least one of: dau_mau, login_trend, champion/exec_sponsor/contacts_count, goals_defined, payment_status"
)


def _explanation(row: pd.Series[Any], weights: Mapping[str, float]) -> list[DimensionLine]:
    """Each dimension's score, effective weight, points and points lost (:func:`csxl.explain_health`)."""
    dims = {d: _float(cell(row, d)) for d in weights}
    table = explain_health({d: (np.nan if v is None else v) for d, v in dims.items()}, weights=weights)
    return [
        DimensionLine(
            dimension=str(dim),
            score=None if math.isnan(float(r["score"])) else float(r["score"]),
            weight=float(r["weight"]),
            points=float(r["points"]),
            lost=float(r["lost"]),
        )
        for dim, r in table.iterrows()
    ]


def _cadence(segment: str | None, source: str, cadence_lib: Mapping[str, Any]) -> CadenceLine | None:
    """The segment's touch cadence (engine spec "Touch Cadence by Tier"); ``None`` without a known segment."""
    if segment is None or segment not in cadence_lib:
        return None
    c = cadence_lib[segment]
    return CadenceLine(
        segment=segment,
        label=str(c["label"]),
        source=source,
        sync_meetings=str(c["sync_meetings"]),
        async_checkins=str(c["async_checkins"]),
        qbrs=str(c["qbrs"]),
        executive_touch=str(c["executive_touch"]),
    )
