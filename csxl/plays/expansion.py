"""Play 5, ``expansion``: the expansion signals present in one account's data, scored hot/warm, with play and upside.

Signals (engine spec "Expansion Signals"; keywords, plays and upside factors are ``library/expansion.json``):

* **Seats** (``seats_active / seats_purchased``): 100 % used -> "Hitting usage limits" (hot); over 80 % -> "Seats over
  80% used" (warm, the Seat Expansion playbook's trigger).
* **Text** (``expansion_signals``, parts separated by ``;``): each part is matched, case-insensitively, against the
  keywords of each signal at a word start (``\\bapi`` matches "API access"); the first signal in library order wins
  (usage limits, champion promoted, new team, API/integrations, higher tier, funding/growth); a part matching no
  keyword is an "Other expansion signal" (warm, not estimated).
* **High health + renewal**: ``health_score >= 80`` and renewal within 0..90 days of as-of (warm).

ARR upside (currency per year), stated with each signal:

* seat signals: ``ARR / seats_purchased * (ceil(seats_active / 0.8) - seats_purchased)`` (at least one seat): the
  seats that bring utilisation back to the 80 % the playbook treats as full, at today's price per seat;
* every other signal: ``ARR * factor`` with the library's factor (a csxl default, since the spec has no prices).

The total is the plain sum over signals (an upper bound: two signals can describe one deal).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from typing import Any, cast

from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import (
    Item,
    MissingColumn,
    account_arr,
    cell,
    live_account,
    missing,
    missing_section,
    money,
    money_cell,
    pct,
)
from csxl.portfolio import Portfolio
from csxl.sections import Cell

__all__ = ["ExpansionResult", "ExpansionSignal", "expansion_opportunities"]


class ExpansionSignal(Item):
    """A signal found: strength (hot/warm), what shows it, the play, its playbook and the ARR upside with formula."""

    signal: str
    strength: str
    evidence: str
    play: str
    playbook: str
    playbook_steps: list[str]
    upside: float | None
    formula: str


class ExpansionResult(PlayResult):
    """Play 5: the expansion signals present, scored, with plays and ARR upside."""

    arr: float | None
    arr_source: str
    currency: str
    health_score: float | None
    renewal_date: _dt.date | None
    days_to_renewal: int | None
    seats_active: int | None
    seats_purchased: int | None
    signals: list[ExpansionSignal]
    total_upside: float | None
    caution: str | None
    missing: list[MissingColumn]

    def sections(self) -> list[Section]:
        hot = sum(s.strength == "hot" for s in self.signals)
        head: list[list[Cell]] = [
            ["ARR", f"{money(self.arr, self.currency)} ({self.arr_source or 'arr blank'})"],
            ["Seats", None if self.seats_purchased is None else f"{self.seats_active}/{self.seats_purchased}"],
            ["Health score", None if self.health_score is None else round(self.health_score, 1)],
            ["Renewal date", self.renewal_date],
            ["Signals", f"{len(self.signals)} ({hot} hot, {len(self.signals) - hot} warm)"],
            ["Total ARR upside", money_cell(self.total_upside, self.currency)],
        ]
        rows: list[list[Cell]] = [
            [s.signal, s.strength, s.evidence, s.play, money_cell(s.upside, self.currency), s.formula]
            for s in self.signals
        ]
        out = [
            Section("Expansion", head, text=self.caution or ""),
            Section(
                "Signals",
                rows,
                ("signal", "strength", "evidence", "play", "ARR upside", "formula"),
                text="" if self.signals else "No expansion signal found in the data.",
            ),
        ]
        shown: set[str] = set()
        for s in self.signals:
            if s.playbook and s.playbook not in shown:
                shown.add(s.playbook)
                out.append(
                    Section(f"Playbook: {s.playbook}", [[f"{i}. {t}"] for i, t in enumerate(s.playbook_steps, 1)])
                )
        out.append(missing_section(self.missing))
        return out


def _match(part: str, specs: list[dict[str, Any]]) -> dict[str, Any] | None:
    for spec in specs:
        for word in spec.get("keywords", []):
            if re.search(r"\b" + re.escape(str(word).lower()), part.lower()):
                return spec
    return None


@register("expansion", 5, "Expansion opportunities", needs_account=True, result=ExpansionResult)
def expansion_opportunities(
    portfolio: Portfolio, account: str, *, library: Mapping[str, Any] | None = None
) -> ExpansionResult:
    """Play 5 (``"Expansion opportunities for [account]"``): signals present, hot/warm, play and ARR upside.

    Raises :class:`csxl.errors.InputError` for an unknown account; blank cells are listed in ``missing``.
    """
    row = live_account(portfolio, account, "expansion")
    lib = load_library("expansion", library)
    specs = cast(list[dict[str, Any]], lib["signals"])
    by_id = {str(s["id"]): s for s in specs}
    currency = portfolio.settings.currency
    gaps: list[MissingColumn] = []
    arr, arr_source = account_arr(portfolio, row)
    if arr is None:
        gaps.append(missing("arr", "ARR upside (or MRR rows for the account)"))

    found: dict[str, list[str]] = {}
    active, bought = cell(row, "seats_active"), cell(row, "seats_purchased")
    seat_formula = _seat_signal(found, gaps, active, bought, arr, float(lib["seat_target_utilisation"]))
    raw = cell(row, "expansion_signals")
    if raw is None:
        gaps.append(missing("expansion_signals", "text signals (limits, new teams, tier requests, promotions, API)"))
    else:
        for part in (p.strip() for p in str(raw).split(";")):
            if part:
                spec = _match(part, specs) or by_id["other"]
                found.setdefault(str(spec["id"]), []).append(f'"{part}"')
    health = cell(row, "health_score")
    renewal = cell(row, "renewal_date")
    days = None if renewal is None else (renewal - portfolio.as_of).days
    high, window = float(lib["high_health_score"]), int(lib["renewal_window_days"])
    if renewal is None:
        gaps.append(missing("renewal_date", "the high-health + renewal signal"))
    elif health is not None and days is not None and float(health) >= high and 0 <= days <= window:
        found["health_renewal"] = [f"health {float(health):.1f} >= {high:g}, renewal in {days} days (<= {window})"]
    books = cast(dict[str, Any], lib["playbooks"])
    signals = [_signal(by_id[key], evidence, key, seat_formula, arr, books) for key, evidence in found.items()]
    order = {str(s["id"]): i for i, s in enumerate(specs)}
    ids = {str(by_id[k]["signal"]): order[k] for k in found}
    signals.sort(key=lambda s: (s.strength != "hot", -(s.upside or 0.0), ids[s.signal]))
    values = [s.upside for s in signals if s.upside is not None]
    tier = cell(row, "health_tier")
    caution = None
    if portfolio.facts.loc[cast(str, row.name), "at_risk"]:
        caution = (
            f"At risk ({tier}): an expansion ask now puts the renewal at stake. The signals below wait until health "
            f'recovers; what applies first is the save play (csxl save "{row["account"]}").'
        )
    return ExpansionResult(
        command="expansion",
        account=str(cell(row, "account")),
        as_of=portfolio.as_of,
        conventions=[
            "Upside is ARR per year. Seat signals: price per seat x seats back to 80% utilisation; "
            "others: ARR x factor (csxl default factors in library/expansion.json, set your own).",
            "Total upside is the sum over signals: an upper bound when two signals describe one deal.",
        ],
        arr=arr,
        arr_source=arr_source,
        currency=currency,
        health_score=None if health is None else float(health),
        renewal_date=renewal,
        days_to_renewal=days,
        seats_active=None if active is None else int(active),
        seats_purchased=None if bought is None else int(bought),
        signals=signals,
        total_upside=sum(values) if values else None,
        caution=caution,
        missing=gaps,
    )


def _seat_signal(
    found: dict[str, list[str]],
    gaps: list[MissingColumn],
    active: Any,
    bought: Any,
    arr: float | None,
    target: float,
) -> tuple[float | None, str] | None:
    """The seat signal (at the limit, or above the target utilisation) and its upside: price per seat x the seats
    that bring utilisation back to the target."""
    if active is None or bought is None:
        gaps.append(missing("seats_active" if active is None else "seats_purchased", "seat utilisation signals"))
        return None
    if bought <= 0:
        return None
    share = active / bought
    key = "usage_limits" if share >= 1 else "seats_80" if share > target else None
    if key is None:
        return None
    found[key] = [f"{active}/{bought} seats used ({pct(share)})"]
    extra = max(math.ceil(active / target - 1e-9) - bought, 1)
    text = f"ARR / seats_purchased x (ceil(seats_active / {target:g}) - seats_purchased) = "
    if arr is None:
        return None, text + f"unknown ARR x {extra} seats / {bought}"
    value = arr / bought * extra
    return value, text + f"{arr:,.0f} / {bought} x {extra} = {value:,.0f}"


def _signal(
    spec: Mapping[str, Any],
    evidence: list[str],
    key: str,
    seat_formula: tuple[float | None, str] | None,
    arr: float | None,
    books: Mapping[str, Any],
) -> ExpansionSignal:
    """One signal found, with its play, playbook and upside (seat formula, or ARR x the library's factor)."""
    if key in ("usage_limits", "seats_80") and seat_formula is not None:
        upside, formula = seat_formula
    elif spec.get("factor") is None:
        upside, formula = None, str(spec.get("assumption", "not estimated"))
    else:
        factor = float(spec["factor"])
        upside = None if arr is None else arr * factor
        shown = "unknown" if arr is None else f"{arr:,.0f} x {factor:g} = {arr * factor:,.0f}"
        formula = f"ARR x {factor:g} = {shown}; {spec['assumption']}"
    book = books.get(str(spec.get("playbook", "")), {})
    return ExpansionSignal(
        signal=str(spec["signal"]), strength=str(spec["strength"]), evidence="; ".join(evidence),
        play=str(spec["play"]), playbook=str(book.get("name", "")),
        playbook_steps=[str(s) for s in book.get("steps", [])], upside=upside, formula=formula,
    )  # fmt: skip
