"""Play 12, ``nrr``: net and gross revenue retention with the expansion / contraction / churn breakdown, by segment.

Three measures, each for the portfolio and for every segment (defaults in ``library/nrr.json``; spec: engine
Phase 5 "NRR Formula" and "Target NRR by segment"):

* **Last full month** ``L``: the as-of month when the as-of date is its last day, else the month before (capped at
  the MRR sheet's last month). Bridge of ``L``: for each account ``prev`` = MRR in ``L - 1``, ``cur`` = MRR in ``L``;
  expansion = ``cur - prev`` where ``0 < prev < cur``; contraction = ``prev - cur`` where ``0 < cur < prev``; churn =
  ``prev`` where ``prev > 0 = cur`` (the same rules as :func:`csxl.mrr_movements`).
* **Trailing 12 months**: the 12 monthly bridges ``L - 11 .. L`` summed; start MRR = MRR of ``L - 12`` (the month
  before the window). Movements of customers won inside the window count too.
* **12-month cohort**: the customers paying in ``L - 12``, their MRR then vs in ``L`` (the base of
  :func:`csxl.cohort_nrr`): expansion = ``now - then`` where ``now > then``; contraction = ``then - now`` where
  ``0 < now < then``; churn = ``then`` where ``now = 0``.

For each: NRR = (start + expansion - contraction - churn) / start and GRR = (start - contraction - churn) / start,
fractions (1.12 = 112 %); ``None`` when the start MRR is 0. New and reactivated MRR count in neither. Segments come
from the Accounts sheet by account name ("(blank)" for a blank segment, "not on Accounts sheet" for MRR accounts the
sheet does not list). Ratings compare the 12-month cohort NRR with the segment's targets (good / great / world-class;
self-serve has none in the spec), and the portfolio's with the agent spec's NRR bands; a monthly NRR is never rated
against annual targets.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.facts import last_full_month
from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import MissingColumn, missing_section, money_cell, pct, pct_cell
from csxl.portfolio import Portfolio
from csxl.revenue import mrr_matrix
from csxl.sections import Cell

__all__ = ["NrrResult", "RetentionLine", "last_full_month", "nrr_play"]

FloatArray = npt.NDArray[np.float64]

NOT_LISTED = "not on Accounts sheet"
BLANK = "(blank)"


class RetentionLine(BaseModel):
    """One measure for one scope: MRR movements (currency per month), NRR and GRR (fractions) and the rating."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: str
    measure: str
    period: str
    accounts: int
    start_mrr: float
    expansion: float
    contraction: float
    churned: float
    nrr: float | None
    grr: float | None
    target_good: float | None = None
    target_great: float | None = None
    target_world_class: float | None = None
    rating: str | None = None


class NrrResult(PlayResult):
    """Play 12: NRR/GRR for the last full month, the trailing 12 months and the 12-month cohort, by segment."""

    currency: str
    last_full_month: _dt.date | None
    message: str
    lines: list[RetentionLine]
    nrr_target: float
    grr_target: float
    missing: list[MissingColumn]

    def title(self) -> str:
        return f"NRR report (as of {self.as_of.isoformat()})"

    def sections(self) -> list[Section]:
        out = [Section("Period", [["Last full month", self.last_full_month]], text=self.message)]
        for scope in dict.fromkeys(line.scope for line in self.lines):
            rows: list[list[Cell]] = []
            for ln in (x for x in self.lines if x.scope == scope):
                rows.append([
                    ln.measure, ln.period, ln.accounts, money_cell(ln.start_mrr, self.currency),
                    money_cell(ln.expansion, self.currency), money_cell(ln.contraction, self.currency),
                    money_cell(ln.churned, self.currency), pct_cell(ln.nrr, 1), pct_cell(ln.grr, 1), ln.rating,
                ])  # fmt: skip
            header = ("measure", "period", "accounts", "start MRR", "expansion", "contraction", "churn", "NRR", "GRR",
                      "rating")  # fmt: skip
            out.append(Section(f"Retention: {scope}", rows, header))
        targets: list[list[Cell]] = [
            [ln.scope, pct_cell(ln.target_good), pct_cell(ln.target_great), pct_cell(ln.target_world_class)]
            for ln in self.lines
            if ln.measure == "12-month cohort" and ln.target_good is not None
        ]
        if targets:
            out.append(Section("Targets (engine spec, NRR)", targets, ("segment", "good", "great", "world-class")))
        if self.missing:
            out.append(missing_section(self.missing))
        return out


def _moves(prev: FloatArray, cur: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-account expansion, contraction and churn (same shape as the inputs), currency per month."""
    had, has = prev > 0, cur > 0
    diff = cur - prev
    expansion = np.where(had & (diff > 0), diff, 0.0)
    contraction = np.where(had & has & (diff < 0), -diff, 0.0)
    churned = np.where(had & ~has, prev, 0.0)
    return expansion, contraction, churned


def _line(
    scope: str, measure: str, period: str, start: FloatArray, moves: tuple[FloatArray, FloatArray, FloatArray]
) -> RetentionLine:
    s = float(start.sum())
    e, c, ch = (float(m.sum()) for m in moves)
    return RetentionLine(
        scope=scope,
        measure=measure,
        period=period,
        accounts=int(np.count_nonzero(start > 0)),
        start_mrr=s,
        expansion=e,
        contraction=c,
        churned=ch,
        nrr=(s + e - c - ch) / s if s > 0 else None,
        grr=(s - c - ch) / s if s > 0 else None,
    )


def _rate(line: RetentionLine, lib: Mapping[str, Any]) -> RetentionLine:
    """Add targets and a rating to a 12-month cohort line (segment targets, or the portfolio bands)."""
    if line.nrr is None:
        return line
    targets = cast(dict[str, dict[str, Any]], lib["segment_targets"]).get(line.scope)
    if targets:
        good, great, world = float(targets["good"]), float(targets["great"]), float(targets["world_class"])
        if line.nrr >= world:
            rating = "world-class"
        elif line.nrr >= great:
            rating = "great"
        elif line.nrr >= good:
            rating = "good"
        else:
            rating = f"below good ({pct(good)})"
        return line.model_copy(
            update={"target_good": good, "target_great": great, "target_world_class": world, "rating": rating}
        )
    if line.scope == "portfolio":
        bands = sorted(cast(list[dict[str, Any]], lib["portfolio_benchmarks"]), key=lambda b: -float(b["min"]))
        label = next(str(b["label"]) for b in bands if line.nrr >= float(b["min"]) or b is bands[-1])
        return line.model_copy(update={"rating": label})
    return line.model_copy(update={"rating": "no spec target"})


@register("nrr", 12, "NRR report", needs_account=False, result=NrrResult)
def nrr_play(
    portfolio: Portfolio, account: str | None = None, *, library: Mapping[str, Any] | None = None
) -> NrrResult:
    """Play 12 (``"NRR report"``): NRR and GRR with expansion / contraction / churn, by segment, against targets.

    ``account`` is ignored (a portfolio play). Missing MRR history is reported in the result, never guessed.
    """
    lib = load_library("nrr", library)
    currency = portfolio.settings.currency
    conventions = [
        "NRR = (start MRR + expansion - contraction - churn) / start MRR; GRR = (start MRR - contraction - churn) / "
        "start MRR (engine spec Phase 5). New and reactivated MRR are in neither.",
        "Churn = MRR reaches 0; expansion / contraction = MRR up / down for an account paying in both months.",
        "Last full month = the as-of month when the as-of date is its last day, else the month before.",
        "Trailing 12 months = the 12 monthly bridges ending in the last full month, summed; start = MRR of the month "
        "before the window; customers won inside the window count.",
        "12-month cohort = customers paying 12 months before the last full month: their MRR then vs now.",
        "Ratings: the 12-month cohort NRR against the engine spec's segment targets (self-serve has none) and the "
        "portfolio against the agent spec's NRR bands; GRR target > 90 %.",
        f"Segments from the Accounts sheet by account name; '{BLANK}' = segment blank, '{NOT_LISTED}' = MRR "
        "account missing from the Accounts sheet.",
    ]
    base = NrrResult(
        command="nrr", account=None, as_of=portfolio.as_of, conventions=conventions, currency=currency,
        last_full_month=None, message="", lines=[], nrr_target=float(lib["nrr_target"]),
        grr_target=float(lib["grr_target"]), missing=[],
    )  # fmt: skip
    mrr = portfolio.mrr
    if mrr.empty:
        gap = MissingColumn(column="MRR sheet", needed_for="every NRR figure", fill="account, month, mrr rows")
        return base.model_copy(update={"message": "The MRR sheet is empty: no retention to report.", "missing": [gap]})
    months = pd.to_datetime(mrr["month"])
    first, last = months.min(), months.max()
    month = last_full_month(portfolio.as_of)
    notes = []
    if month > last:
        notes.append(
            f"The MRR sheet ends in {last:%Y-%m}, before the last full month {month:%Y-%m}: using {last:%Y-%m}."
        )
        month = last
    if month <= first:
        gap = MissingColumn(column="MRR sheet", needed_for="a month-over-month bridge", fill="earlier months of MRR")
        text = f"The MRR sheet starts in {first:%Y-%m}: no earlier month to compare {month:%Y-%m} with."
        return base.model_copy(update={"message": text, "missing": [gap]})

    matrix = mrr_matrix(portfolio.mrr_rows, as_of=month)
    values = matrix.to_numpy(dtype=np.float64)
    scopes, present = _scopes(portfolio, matrix.index, [str(x) for x in lib["segment_order"]])
    lines = _lines(values, month, scopes, lib, notes)
    gaps: list[MissingColumn] = []
    if BLANK in present:
        gaps.append(MissingColumn(column="segment", needed_for="NRR by segment", fill="the account's segment"))
    if NOT_LISTED in present:
        gaps.append(
            MissingColumn(column="Accounts sheet", needed_for="NRR by segment",
                          fill="a row (with segment) for every account on the MRR sheet")
        )  # fmt: skip
    message = " ".join([f"Last full month {month:%Y-%m}.", *notes])
    return base.model_copy(
        update={"last_full_month": month.date(), "message": message, "lines": lines, "missing": gaps}
    )


def _scopes(
    portfolio: Portfolio, names_index: pd.Index, order: list[str]
) -> tuple[list[tuple[str, npt.NDArray[np.bool_]]], list[str]]:
    """The portfolio and each segment present (the facts' segment of each MRR account), as row masks."""
    names = pd.Series(names_index.to_numpy(dtype=object), dtype=object)
    table = portfolio.table
    listed = names.isin(table["account"]).to_numpy(dtype=bool)
    segment = names.map(dict(zip(table["account"], portfolio.facts["segment_effective"], strict=True)))
    labels = np.where(listed, segment.fillna(BLANK).to_numpy(dtype=object), NOT_LISTED).astype(object)
    present = sorted(set(labels.tolist()), key=lambda s: (order.index(s) if s in order else len(order), s))
    scopes: list[tuple[str, npt.NDArray[np.bool_]]] = [("portfolio", np.ones(len(labels), dtype=bool))]
    scopes += [(s, labels == s) for s in present]
    return scopes, present


def _lines(
    values: FloatArray,
    month: pd.Timestamp,
    scopes: list[tuple[str, npt.NDArray[np.bool_]]],
    lib: Mapping[str, Any],
    notes: list[str],
) -> list[RetentionLine]:
    """Per scope: the month's bridge, and with 13 months of data the trailing 12 months and the 12-month cohort."""
    t = values.shape[1] - 1
    label_m = f"{month:%Y-%m}"
    month_moves = _moves(values[:, t - 1], values[:, t])
    window = None
    if t >= 12:
        prev, cur = values[:, t - 12 : t], values[:, t - 11 : t + 1]
        window = tuple(m.sum(axis=1) for m in _moves(prev, cur))
        then, now = values[:, t - 12], values[:, t]
        member = then > 0
        cohort = (
            np.where(member & (now > then), now - then, 0.0),
            np.where(member & (now > 0) & (now < then), then - now, 0.0),
            np.where(member & (now == 0), then, 0.0),
        )
        start_window = f"{month - pd.DateOffset(months=11):%Y-%m}..{label_m}"
        base_month = f"{month - pd.DateOffset(months=12):%Y-%m}"
    else:
        notes.append(f"Less than 13 months of MRR up to {label_m}: no trailing-12-month or 12-month cohort figures.")
    lines: list[RetentionLine] = []
    for scope, mask in scopes:
        lines.append(
            _line(scope, "month", label_m, values[mask, t - 1], cast(Any, tuple(m[mask] for m in month_moves)))
        )
        if window is not None:
            w = cast(Any, tuple(m[mask] for m in window))
            lines.append(_line(scope, "trailing 12 months", start_window, values[mask, t - 12], w))
            c = cast(Any, tuple(m[mask] for m in cohort))
            cohort_line = _line(scope, "12-month cohort", f"base {base_month} -> {label_m}", values[mask, t - 12], c)
            lines.append(_rate(cohort_line, lib))
    return lines
