"""Play 9, ``cohorts``: the retention cohort table (logos and revenue) and what it says.

Tables: :func:`csxl.cohort_table` (``basis="logo"`` and ``"revenue"``) and :func:`csxl.cohort_sizes` over the MRR
sheet, cut at the as-of month (or at the last month with MRR data when the sheet ends earlier; the result says so).
Shares are fractions (0.92 = 92 %). Findings (defaults in ``library/cohorts.json``; spec: engine Phase 9):

* **Pooled retention.** For a set of cohorts and an age ``k`` (months since start): the retained customers of the
  cohorts that have reached age ``k`` / their starting customers (revenue: their MRR at ``k`` / their month-0 MRR).
  Pooling weights each cohort by its size, so a 2-customer cohort does not count as much as a 40-customer one.
* **Are newer cohorts retaining better?** At each checkpoint (months 3, 6, 12) the cohorts that have reached it are
  split in date order into the older half and the recent half (the middle cohort of an odd count is left out).
  ``recent - older`` >= +2 points: newer cohorts retain better; <= -2 points: worse; else about the same. Fewer than
  two cohorts at a checkpoint: not enough data.
* **Steepest drop.** For each age ``k >= 1``: ``drop_k`` = pooled (retention at ``k - 1`` - retention at ``k``) over
  the cohorts that have reached ``k``. The largest positive drop is the cliff; months 1-3 are an onboarding problem,
  4-5 adoption, 6-12 value/renewal, 13+ a later renewal (``phases``).
* **Outliers.** At each checkpoint, a cohort of at least 3 customers whose logo retention differs from the pooled
  retention of the other cohorts at that age by 15 points or more (``outlier_gap``, ``outlier_min_size``).
* **Revenue vs logo.** At each checkpoint, pooled revenue retention - pooled logo retention: >= +5 points means
  expansion is masking logo churn; <= -5 points means revenue leaves faster than logos (contraction, or the larger
  accounts churning); else they move together.
* **Left-censored first cohort.** The cohort of the MRR sheet's first month also holds every account already paying
  before the sheet starts. When an account of it has a ``start_date`` before that month, the cohort is shown in the
  tables but left out of the findings (its early months are not onboarding months).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.cohorts import cohort_sizes, cohort_table
from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import MissingColumn, missing_section, pct, pct_cell
from csxl.portfolio import Portfolio
from csxl.sections import Cell

__all__ = [
    "CheckpointCompare",
    "CohortResult",
    "CohortRow",
    "DropFinding",
    "OutlierCohort",
    "RevenueVsLogo",
    "cohorts_play",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CohortRow(_Item):
    """One cohort: start month, starting customers and MRR, retention by months since start (``None`` = not yet)."""

    cohort: _dt.date
    customers: int
    start_mrr: float
    retention: list[float | None]


class CheckpointCompare(_Item):
    """Older half vs recent half of the cohorts at one checkpoint (pooled logo retention, fractions)."""

    month: int
    older_cohorts: int
    recent_cohorts: int
    older: float | None
    recent: float | None
    difference: float | None
    verdict: str


class DropFinding(_Item):
    """The pooled logo retention lost from month ``month - 1`` to ``month`` (fraction of starting customers)."""

    month: int
    drop: float
    cohorts: int
    phase: str
    meaning: str


class OutlierCohort(_Item):
    """A cohort whose retention at ``month`` is ``gap`` away from the other cohorts' pooled retention."""

    cohort: _dt.date
    customers: int
    month: int
    retention: float
    others: float
    gap: float
    direction: str


class RevenueVsLogo(_Item):
    """Pooled revenue vs logo retention at one checkpoint."""

    month: int
    cohorts: int
    logo: float
    revenue: float
    gap: float
    verdict: str


class CohortResult(PlayResult):
    """Play 9: cohort tables and findings."""

    currency: str
    cut_month: _dt.date | None
    message: str
    logo: list[CohortRow]
    revenue: list[CohortRow]
    excluded_cohort: _dt.date | None
    improvement: list[CheckpointCompare]
    improvement_verdict: str
    steepest: DropFinding | None
    drops: list[DropFinding]
    outliers: list[OutlierCohort]
    revenue_vs_logo: list[RevenueVsLogo]
    findings: list[str]
    missing: list[MissingColumn]
    display_months: list[int]

    def title(self) -> str:
        return f"Cohort analysis (as of {self.as_of.isoformat()})"

    def _table(self, rows: list[CohortRow]) -> tuple[list[list[Cell]], tuple[str, ...]]:
        width = max((len(r.retention) for r in rows), default=0)
        months = [m for m in self.display_months if m < width]
        header = ("cohort", "customers", *[f"M{m}" for m in months])
        out: list[list[Cell]] = []
        for r in rows:
            cells: list[Cell] = [r.cohort.strftime("%Y-%m"), r.customers]
            cells += [
                None if m >= len(r.retention) or r.retention[m] is None else pct_cell(r.retention[m], 1) for m in months
            ]
            out.append(cells)
        return out, header

    def sections(self) -> list[Section]:
        out = [Section("Findings", [[f] for f in self.findings], text=self.message)]
        if self.logo:
            rows, header = self._table(self.logo)
            out.append(Section("Logo retention (share of the cohort's customers still paying)", rows, header))
            rows, header = self._table(self.revenue)
            out.append(Section("Revenue retention (cohort MRR / its month-0 MRR, expansion included)", rows, header))
        if self.improvement:
            imp: list[list[Cell]] = [
                [f"M{c.month}", c.older_cohorts, None if c.older is None else pct_cell(c.older, 1), c.recent_cohorts,
                 None if c.recent is None else pct_cell(c.recent, 1),
                 None if c.difference is None else f"{100 * c.difference:+.1f} pts", c.verdict]
                for c in self.improvement
            ]  # fmt: skip
            header = ("month", "older cohorts", "older", "recent cohorts", "recent", "difference", "verdict")
            out.append(Section("Are newer cohorts retaining better?", imp, header))
        if self.drops:
            drops: list[list[Cell]] = [[f"M{d.month - 1} -> M{d.month}", pct_cell(d.drop, 1), d.cohorts, d.phase]
                                        for d in self.drops]  # fmt: skip
            out.append(Section("Drop by month (pooled)", drops, ("months", "drop", "cohorts", "phase")))
        if self.outliers:
            outl: list[list[Cell]] = [
                [o.cohort.strftime("%Y-%m"), o.customers, f"M{o.month}", pct_cell(o.retention, 1),
                 pct_cell(o.others, 1), f"{100 * o.gap:+.1f} pts", o.direction]
                for o in self.outliers
            ]  # fmt: skip
            header = ("cohort", "customers", "month", "retention", "other cohorts", "gap", "direction")
            out.append(Section("Outlier cohorts", outl, header))
        if self.revenue_vs_logo:
            rl: list[list[Cell]] = [[f"M{r.month}", r.cohorts, pct_cell(r.logo, 1), pct_cell(r.revenue, 1),
                                      f"{100 * r.gap:+.1f} pts", r.verdict] for r in self.revenue_vs_logo]  # fmt: skip
            out.append(
                Section("Revenue vs logo retention", rl, ("month", "cohorts", "logo", "revenue", "gap", "verdict"))
            )
        if self.missing:
            out.append(missing_section(self.missing))
        return out


def _pooled(count: FloatArray, base: FloatArray, select: BoolArray, k: int) -> tuple[float | None, int]:
    """Pooled share at age ``k`` over the selected cohorts that have reached it, and how many there are."""
    if k >= count.shape[1]:
        return None, 0
    seen = select & ~np.isnan(count[:, k])
    total = float(base[seen].sum())
    if not seen.any() or total <= 0:
        return None, int(seen.sum())
    return float(count[seen, k].sum()) / total, int(seen.sum())


def _rows(table: pd.DataFrame, sizes: pd.DataFrame) -> list[CohortRow]:
    values = table.to_numpy(dtype=np.float64)
    return [
        CohortRow(
            cohort=pd.Timestamp(label).date(),
            customers=int(sizes["customers"].iloc[i]),
            start_mrr=float(sizes["mrr"].iloc[i]),
            retention=[None if np.isnan(v) else float(v) for v in values[i]],
        )
        for i, label in enumerate(table.index)
    ]


def _censored(portfolio: Portfolio, first_cohort: pd.Timestamp) -> bool:
    """True when an account of the first cohort has a start_date before the MRR sheet's first month."""
    mrr = portfolio.mrr
    paying = mrr[mrr["mrr"] > 0]
    first_paid = paying.groupby("account")["month"].min()
    members = first_paid.index[first_paid == first_cohort]
    if "start_date" not in portfolio.accounts.columns:
        return False
    starts = portfolio.accounts.set_index("account")["start_date"]
    starts = pd.to_datetime(starts[starts.index.isin(members)])
    return bool((starts < first_cohort).any())


@register("cohorts", 9, "Cohort analysis", needs_account=False, result=CohortResult)
def cohorts_play(
    portfolio: Portfolio, account: str | None = None, *, library: Mapping[str, Any] | None = None
) -> CohortResult:
    """Play 9 (``"Cohort analysis"``): logo and revenue cohort tables, then the spec's four findings.

    ``account`` is ignored (a portfolio play). An empty MRR sheet is not an error: the result says what to fill.
    """
    lib = load_library("cohorts", library)
    cut, message = portfolio.mrr_cut
    display = [int(m) for m in lib["display_months"]]
    empty = CohortResult(
        command="cohorts", account=None, as_of=portfolio.as_of, currency=portfolio.settings.currency, cut_month=None,
        message=message, logo=[], revenue=[], excluded_cohort=None, improvement=[], improvement_verdict="no data",
        steepest=None, drops=[], outliers=[], revenue_vs_logo=[], findings=[], display_months=display,
        missing=[MissingColumn(column="MRR sheet", needed_for="cohort tables", fill="account, month, mrr rows")],
    )  # fmt: skip
    if cut is None:
        return empty
    mrr = portfolio.mrr_rows
    logo = cohort_table(mrr, "logo", as_of=cut)
    revenue = cohort_table(mrr, "revenue", as_of=cut)
    sizes = cohort_sizes(mrr, as_of=cut)
    if logo.empty:
        return empty.model_copy(update={"message": "Nobody has paid yet (every MRR is 0): no cohort to analyse."})

    g = _Grid.of(logo, revenue, sizes, lib)
    conventions = [
        "Shares are pooled over cohorts (weighted by cohort size); a cohort counts at an age once it has reached it.",
        "Cohort = an account's first month with MRR > 0; logo retention = MRR > 0; revenue retention includes "
        "expansion.",
    ]
    excluded = None
    first_label = pd.Timestamp(logo.index[0])
    if first_label == pd.to_datetime(portfolio.mrr["month"]).min() and _censored(portfolio, first_label):
        g.select[0] = False
        excluded = first_label.date()
        conventions.append(
            f"The {first_label:%Y-%m} cohort also holds accounts paying before the MRR sheet starts (start_date "
            "earlier): it is shown but left out of the findings."
        )
    if message:
        conventions.append(message)
    improvement, improvement_verdict, said_improvement = _improvement(g, float(lib["improvement_threshold"]))
    drops, steepest, said_steepest = _drops(g, cast(list[dict[str, Any]], lib["phases"]))
    outliers, said_outliers = _outliers(g, logo.index, float(lib["outlier_gap"]), int(lib["outlier_min_size"]))
    rvl, said_rvl = _revenue_vs_logo(g, float(lib["masking_threshold"]))
    findings = [said_improvement, said_steepest, said_outliers, *said_rvl]
    return CohortResult(
        command="cohorts",
        account=None,
        as_of=portfolio.as_of,
        conventions=conventions,
        currency=portfolio.settings.currency,
        cut_month=cut.date(),
        message=message or f"Cohorts by first paying month, through {cut:%Y-%m}.",
        logo=_rows(logo, sizes),
        revenue=_rows(revenue, sizes),
        excluded_cohort=excluded,
        improvement=improvement,
        improvement_verdict=improvement_verdict,
        steepest=steepest,
        drops=drops,
        outliers=outliers,
        revenue_vs_logo=rvl,
        findings=findings,
        missing=[],
        display_months=display,
    )


@dataclass
class _Grid:
    """A cohort table as counts: retained customers and MRR per cohort and age, the cohorts used for findings."""

    kept: FloatArray
    size: FloatArray
    kept_mrr: FloatArray
    mrr0: FloatArray
    select: BoolArray
    checkpoints: list[int]

    @classmethod
    def of(cls, logo: pd.DataFrame, revenue: pd.DataFrame, sizes: pd.DataFrame, lib: Mapping[str, Any]) -> _Grid:
        size = sizes["customers"].to_numpy(dtype=np.float64)
        mrr0 = sizes["mrr"].to_numpy(dtype=np.float64)
        kept = logo.to_numpy(dtype=np.float64) * size[:, None]  # retained customers per cohort and age
        kept_mrr = revenue.to_numpy(dtype=np.float64) * mrr0[:, None]  # MRR per cohort and age
        width = kept.shape[1]
        checkpoints = [int(k) for k in lib["checkpoints"] if int(k) < width]
        return cls(kept, size, kept_mrr, mrr0, np.ones(kept.shape[0], dtype=bool), checkpoints)

    @property
    def order(self) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.select)


def _improvement(g: _Grid, threshold: float) -> tuple[list[CheckpointCompare], str, str]:
    """Vertical improvement: the newer half of the cohorts against the older half at each checkpoint."""
    n = g.kept.shape[0]
    order = g.order
    improvement: list[CheckpointCompare] = []
    for k in g.checkpoints:
        reached = order[~np.isnan(g.kept[order, k])]
        half = len(reached) // 2
        older = np.zeros(n, dtype=bool)
        recent = np.zeros(n, dtype=bool)
        older[reached[:half]] = True
        recent[reached[len(reached) - half :]] = True
        a, na = _pooled(g.kept, g.size, older, k)
        b, nb = _pooled(g.kept, g.size, recent, k)
        if half == 0 or a is None or b is None:
            improvement.append(CheckpointCompare(month=k, older_cohorts=na, recent_cohorts=nb, older=a, recent=b,
                                                 difference=None, verdict="not enough cohorts"))  # fmt: skip
            continue
        diff = b - a
        verdict = (
            "newer retain better" if diff >= threshold else "newer retain worse" if diff <= -threshold
            else "about the same"
        )  # fmt: skip
        improvement.append(CheckpointCompare(month=k, older_cohorts=na, recent_cohorts=nb, older=a, recent=b,
                                             difference=diff, verdict=verdict))  # fmt: skip
    verdicts = {c.verdict for c in improvement if c.difference is not None}
    if not verdicts:
        overall = "not enough cohorts to compare yet"
    elif len(verdicts) == 1:
        overall = verdicts.pop()
    else:
        overall = "mixed: " + ", ".join(f"M{c.month} {c.verdict}" for c in improvement if c.difference is not None)
    return improvement, overall, f"Vertical improvement: {overall}."


def _drops(g: _Grid, phases: list[dict[str, Any]]) -> tuple[list[DropFinding], DropFinding | None, str]:
    """The share of starting customers lost at each age, its lifecycle phase, and the steepest drop."""

    def phase_of(month: int) -> dict[str, Any]:
        for p in phases:
            if month >= int(p["from"]) and (p["to"] is None or month <= int(p["to"])):
                return p
        return phases[-1]

    drops: list[DropFinding] = []
    for k in range(1, g.kept.shape[1]):
        seen = g.select & ~np.isnan(g.kept[:, k])
        if not seen.any():
            continue
        drop = float((g.kept[seen, k - 1] - g.kept[seen, k]).sum() / g.size[seen].sum())
        p = phase_of(k)
        drops.append(DropFinding(month=k, drop=drop, cohorts=int(seen.sum()), phase=str(p["phase"]),
                                 meaning=str(p["meaning"])))  # fmt: skip
    positive = [d for d in drops if d.drop > 0]
    steepest = max(positive, key=lambda d: d.drop) if positive else None  # max keeps the earliest of equal drops
    if steepest is None:
        return drops, None, "Steepest drop: no month loses customers."
    said = (
        f"Steepest drop: month {steepest.month - 1} -> {steepest.month} ({pct(steepest.drop, 1)} of starting "
        f"customers, {steepest.cohorts} cohorts): {steepest.meaning}."
    )
    return drops, steepest, said


def _outliers(g: _Grid, labels: pd.Index, gap_rule: float, min_size: int) -> tuple[list[OutlierCohort], str]:
    """Cohorts at least ``gap_rule`` from the pooled others at a checkpoint (cohorts of ``min_size`` or more)."""
    outliers: list[OutlierCohort] = []
    for k in g.checkpoints:
        for i in g.order:
            if np.isnan(g.kept[i, k]) or g.size[i] < min_size:
                continue
            others_mask = g.select.copy()
            others_mask[i] = False
            others, count = _pooled(g.kept, g.size, others_mask, k)
            if others is None or count == 0:
                continue
            share = float(g.kept[i, k] / g.size[i])
            gap = share - others
            if abs(gap) >= gap_rule:
                outliers.append(OutlierCohort(
                    cohort=pd.Timestamp(labels[int(i)]).date(), customers=int(g.size[i]), month=k, retention=share,
                    others=others, gap=gap, direction="better" if gap > 0 else "worse",
                ))  # fmt: skip
    rule = f">= {gap_rule * 100:.0f} pts from the others, >= {min_size} customers"
    if not outliers:
        return outliers, f"Outlier cohorts: none (rule: {rule})."
    best = max(outliers, key=lambda o: o.gap)
    worst = min(outliers, key=lambda o: o.gap)
    parts = []
    if best.gap > 0:
        parts.append(f"best {best.cohort:%Y-%m} at M{best.month} ({best.gap * 100:+.1f} pts)")
    if worst.gap < 0:
        parts.append(f"worst {worst.cohort:%Y-%m} at M{worst.month} ({worst.gap * 100:+.1f} pts)")
    said = f"Outlier cohorts ({rule}): " + "; ".join(parts)
    return outliers, said + ". Ask what was different (channel, sales rep, onboarding changes)."


def _revenue_vs_logo(g: _Grid, mask_rule: float) -> tuple[list[RevenueVsLogo], list[str]]:
    """Revenue retention against logo retention at each checkpoint: does expansion mask churn?"""
    rvl: list[RevenueVsLogo] = []
    for k in g.checkpoints:
        lg, count = _pooled(g.kept, g.size, g.select, k)
        rv, _ = _pooled(g.kept_mrr, g.mrr0, g.select, k)
        if lg is None or rv is None:
            continue
        gap = rv - lg
        if gap >= mask_rule:
            verdict = "expansion masks logo churn"
        elif gap <= -mask_rule:
            verdict = "revenue leaves faster than logos"
        else:
            verdict = "move together"
        rvl.append(RevenueVsLogo(month=k, cohorts=count, logo=lg, revenue=rv, gap=gap, verdict=verdict))
    if not rvl:
        return rvl, []
    last = rvl[-1]
    said = (
        f"Revenue vs logo at M{last.month}: {pct(last.revenue, 1)} of starting MRR kept with {pct(last.logo, 1)} "
        f"of customers: {last.verdict}."
    )
    return rvl, [said]
