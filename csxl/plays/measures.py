"""What the spec measures, computed from the workbook (``csxl measures``; the Dashboard's "Spec measures" block).

Every figure says how many accounts it rests on, and a figure the workbook cannot give is "not derivable" with the
reason, never a guess. Vectorised over the Accounts table (one pass per measure).

* **Touch cadence** (engine "Touch Cadence by Tier"): per segment, live accounts whose ``last_proactive_contact`` is
  within the segment's async check-in interval (weekly 7 days, bi-weekly 14, monthly 30) and whose
  ``last_exec_touch`` is within its executive-touch interval (quarterly 91, semi-annual 182); "automated" / "none"
  is not a cadence to keep. Blank dates are unknown, not late.
* **Engagement levels** (engine "Engagement-to-Retention Mapping"): Ghost = no login for 30+ days; else by
  ``logins_per_week``: Power >= 5 (daily) with half or more of the features adopted (multi-feature), Regular 3-5 (and
  daily users of few features), Casual 1-3, Dormant < 1. With the spec's retention prediction and action.
* **Advisory-board candidates** (engine "Customer Advisory Board" selection): live, health score > 70, customer for
  more than 6 months (183 days); up to 12, taken in turn from each segment (the spec's "mix of segments"), best
  health first. "Willing to give candid feedback" is for you to ask.
* **Expansion rate** (engine "Weekly CS Metrics", target > 15 % a year): expansion MRR of the last 12 months of the
  MRR table (to the as-of month) / the MRR at the start of those months.
* **Revenue LTV**: ARPA (MRR of live accounts in the latest month / live accounts) x average lifetime (1 / the mean
  monthly gross revenue churn of the last 12 months; agent spec: 1 % -> 100 months). Gross margin 100 %: multiply by
  yours. **CAC payback** needs your acquisition cost, which the workbook does not hold (``csxl.cac_payback``).
* **NPS response rate** (agent spec "NPS / CSAT / CES"): live accounts with an NPS answer in the last 90 days / live
  accounts; NPS of those answers by segment and by tenure (year 1, year 2, year 3+: engine "By Customer Maturity").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from csxl.plays.base import PlayResult, Section, load_library
from csxl.plays.common import Item, money_cell, pct
from csxl.portfolio import Portfolio
from csxl.sections import Cell
from csxl.surveys import nps

__all__ = ["CadenceLine", "EngagementLevel", "SpecMeasures", "spec_measures"]

#: Days of each cadence word of the library's cadence table; words not here (None, Automated) are no cadence.
INTERVAL_DAYS: dict[str, int] = {"Weekly": 7, "Bi-weekly": 14, "Monthly": 30, "Quarterly": 91, "Semi-annual": 182,
                                 "Annual": 365}  # fmt: skip
#: Engine "Engagement-to-Retention Mapping": level -> (retention prediction, action).
LEVELS: dict[str, tuple[str, str]] = {
    "Power": ("95%+ renewal", "Advocate program, expansion"),
    "Regular": ("85-95%", "Feature adoption, optimization"),
    "Casual": ("60-80%", "Re-engagement campaign"),
    "Dormant": ("20-40%", "Urgent intervention"),
    "Ghost": ("<20%", "Win-back or churn prep"),
}
CAB_HEALTH, CAB_DAYS, CAB_SIZE = 70.0, 183, 12
EXPANSION_TARGET = 0.15


class CadenceLine(Item):
    """One segment's touch-cadence compliance: intervals (days), accounts known and in time."""

    segment: str
    accounts: int
    contact_every_days: int | None
    contact_known: int
    contact_in_time: int
    exec_every_days: int | None
    exec_known: int
    exec_in_time: int


class EngagementLevel(Item):
    """One engagement level: live accounts, their ARR, the spec's retention prediction and action."""

    level: str
    accounts: int
    arr: float
    retention: str
    action: str


class SpecMeasures(PlayResult):
    """The spec's measures from the workbook (module docstring)."""

    currency: str
    live_accounts: int
    cadence: list[CadenceLine]
    engagement: list[EngagementLevel]
    engagement_unknown: int
    advisory_board: list[str]
    advisory_eligible: int
    expansion_rate: float | None
    expansion_basis: str
    arpa: float | None
    monthly_revenue_churn: float | None
    lifetime_months: float | None
    revenue_ltv: float | None
    cac_payback: str
    nps_response_rate: float | None
    nps_responded: int
    nps_by_segment: dict[str, float | None]
    nps_by_tenure: dict[str, float | None]

    def sections(self) -> list[Section]:
        def rate(part: int, whole: int) -> Cell:
            return f"{part} of {whole} ({pct(part / whole)})" if whole else "not derivable (no date filled)"

        cadence: list[list[Cell]] = [
            [c.segment, c.accounts, c.contact_every_days or "none", rate(c.contact_in_time, c.contact_known)
             if c.contact_every_days else "", c.exec_every_days or "none",
             rate(c.exec_in_time, c.exec_known) if c.exec_every_days else ""]
            for c in self.cadence
        ]  # fmt: skip
        levels: list[list[Cell]] = [
            [e.level, e.accounts, money_cell(e.arr, self.currency), e.retention, e.action] for e in self.engagement
        ]
        rate_text = "not derivable (no MRR movements)" if self.expansion_rate is None else pct(self.expansion_rate, 1)
        money: list[list[Cell]] = [
            ["Expansion rate (last 12 months)", rate_text, "target > 15% a year", self.expansion_basis],
            ["ARPA (MRR per live account)", money_cell(self.arpa, self.currency), "", ""],
            ["Monthly gross revenue churn (12-month mean)",
             "not derivable" if self.monthly_revenue_churn is None else pct(self.monthly_revenue_churn, 2), "", ""],
            ["Average lifetime (months)", "not derivable" if self.lifetime_months is None
             else round(self.lifetime_months, 1), "", "1 / monthly churn"],
            ["Revenue LTV (gross margin 100%)", money_cell(self.revenue_ltv, self.currency), "",
             "ARPA x lifetime; multiply by your gross margin"],
            ["CAC payback", self.cac_payback, "", ""],
        ]  # fmt: skip
        nps_rows: list[list[Cell]] = [
            ["Response rate (last 90 days)", "not derivable" if self.nps_response_rate is None
             else f"{self.nps_responded} of {self.live_accounts} ({pct(self.nps_response_rate)})"],
        ]  # fmt: skip
        for k, v in [*self.nps_by_segment.items(), *self.nps_by_tenure.items()]:
            nps_rows.append([f"NPS, {k}", "no answers" if v is None else round(v, 1)])
        cab = ", ".join(self.advisory_board) or "none eligible"
        return [
            Section("Touch cadence compliance", cadence,
                    ("segment", "live accounts", "contact every (days)", "contacted in time", "exec touch every",
                     "exec touch in time")),
            Section("Engagement levels", levels, ("level", "accounts", "ARR", "retention (spec)", "action"),
                    text=f"{self.engagement_unknown} live account(s) without logins_per_week or days_since_login."),
            Section("Advisory-board candidates", [[cab]],
                    text=f"{self.advisory_eligible} eligible (health > 70, customer > 6 months); up to 12, a mix of "
                    "segments. Ask them whether they will give candid feedback."),
            Section("Expansion and lifetime value", money, ("measure", "value", "target", "how")),
            Section("NPS coverage", nps_rows),
        ]  # fmt: skip


def _cadence(portfolio: Portfolio, live: pd.DataFrame, table: pd.DataFrame) -> list[CadenceLine]:
    spec = cast(dict[str, dict[str, Any]], load_library("score")["cadence"])
    as_of = portfolio.as_of_ts
    out = []
    for segment, row in spec.items():
        mine = table.loc[live.index[live["segment_effective"] == segment]]
        contact = INTERVAL_DAYS.get(str(row["async_checkins"]))
        exec_touch = INTERVAL_DAYS.get(str(row["executive_touch"]))
        counts: list[int] = []
        for column, days in (("last_proactive_contact", contact), ("last_exec_touch", exec_touch)):
            dates = pd.to_datetime(mine[column], errors="coerce") if column in mine else pd.Series(dtype="M8[ns]")
            known = dates.notna()
            counts += [int(known.sum()), int(((as_of - dates[known]).dt.days <= (days or 0)).sum())]
        out.append(CadenceLine(segment=segment, accounts=len(mine), contact_every_days=contact,
                               contact_known=counts[0], contact_in_time=counts[1], exec_every_days=exec_touch,
                               exec_known=counts[2], exec_in_time=counts[3]))  # fmt: skip
    return out


def _engagement(live: pd.DataFrame, table: pd.DataFrame) -> tuple[list[EngagementLevel], int]:
    rows = table.loc[live.index]

    def number(column: str) -> pd.Series[float]:
        values = rows[column] if column in rows else pd.Series(np.nan, index=rows.index)
        out: pd.Series[float] = pd.to_numeric(values, errors="coerce").astype(float)
        return out

    per_week, since = number("logins_per_week"), number("days_since_login")
    available = number("features_available")
    breadth = number("features_adopted") / available.where(available > 0)
    conditions = [since >= 30, per_week.isna(), (per_week >= 5) & (breadth >= 0.5), per_week >= 3, per_week >= 1]
    level = np.select(
        [c.to_numpy(dtype=bool) for c in conditions],
        ["Ghost", "unknown", "Power", "Regular", "Casual"],
        default="Dormant",
    )
    level = pd.Series(level, index=rows.index)
    arr = live["arr_effective"].astype(float)
    out = [
        EngagementLevel(level=name, accounts=int((level == name).sum()), arr=float(arr[level == name].sum()),
                        retention=retention, action=action)
        for name, (retention, action) in LEVELS.items()
    ]  # fmt: skip
    return out, int((level == "unknown").sum())


def _advisory(portfolio: Portfolio, live: pd.DataFrame, table: pd.DataFrame) -> tuple[list[str], int]:
    rows = table.loc[live.index]
    health = pd.to_numeric(rows["health_score"], errors="coerce")
    start = pd.to_datetime(rows["start_date"], errors="coerce")
    tenure = (portfolio.as_of_ts - start).dt.days
    ok = (health > CAB_HEALTH) & (tenure > CAB_DAYS)
    pool = pd.DataFrame({"segment": live["segment_effective"].astype(object).fillna("(blank)"), "health": health,
                         "arr": live["arr_effective"].astype(float)})[ok]  # fmt: skip
    pool = pool.sort_values(["health", "arr"], ascending=False, kind="stable")
    turns = pool.groupby("segment", sort=False).cumcount()  # 0 = each segment's best, 1 = its second ...
    picked = pool.assign(turn=turns).sort_values(["turn", "health"], ascending=[True, False], kind="stable")
    return [str(name) for name in picked.index[:CAB_SIZE]], int(ok.sum())


def _money(portfolio: Portfolio, live: pd.DataFrame) -> dict[str, Any]:
    cut, _ = portfolio.mrr_cut  # the last month the MRR analyses use (csxl.facts.mrr_cut: never past the table)
    moves = portfolio.movements[portfolio.movements.index <= cut] if cut is not None else None
    out: dict[str, Any] = {"expansion_rate": None, "expansion_basis": "no MRR table", "monthly_revenue_churn": None}
    if moves is not None and len(moves) > 1:
        last = moves.iloc[-12:]
        start = float(last["start_mrr"].iloc[0])
        if start > 0:
            out["expansion_rate"] = float(last["expansion"].sum()) / start
            first, final = last.index[0], last.index[-1]
            out["expansion_basis"] = (f"expansion MRR {first:%Y-%m} to {final:%Y-%m} / MRR at the start of "
                                      f"{first:%Y-%m}")  # fmt: skip
        churn = last["revenue_churn_rate"].dropna()
        out["monthly_revenue_churn"] = float(churn.mean()) if len(churn) else None
    mrr = live["arr_effective"].astype(float) / 12.0
    out["arpa"] = float(mrr.mean()) if len(mrr) else None
    churn = out["monthly_revenue_churn"]
    out["lifetime_months"] = 1.0 / churn if churn else None
    out["revenue_ltv"] = out["arpa"] * out["lifetime_months"] if out["arpa"] and out["lifetime_months"] else None
    return out


def _nps(portfolio: Portfolio, live: pd.DataFrame, table: pd.DataFrame) -> dict[str, Any]:
    surveys = portfolio.surveys
    since = portfolio.as_of_ts - pd.Timedelta(days=90)
    answers = surveys[(surveys["kind"] == "nps") & (surveys["date"] > since) & (surveys["date"] <= portfolio.as_of_ts)]
    answers = answers[answers["account"].isin(live.index)]
    responded = int(answers["account"].nunique())
    segment = answers["account"].map(live["segment_effective"]).astype(object).fillna("(blank)")
    starts = table["start_date"].reindex(answers["account"].to_numpy()).to_numpy()  # map() fails on no answers
    start = pd.Series(pd.to_datetime(starts, errors="coerce"), index=answers.index)
    years = ((answers["date"] - start).dt.days // 365).clip(upper=2)
    tenure = years.map({0: "year 1", 1: "year 2", 2: "year 3+"}).astype(object).fillna("(no start date)")

    def by(groups: pd.Series[Any], keys: list[str]) -> dict[str, float | None]:
        return {k: (float(nps(answers["score"][groups == k])) if (groups == k).any() else None) for k in keys}

    return {
        "nps_response_rate": responded / len(live) if len(live) else None,
        "nps_responded": responded,
        "nps_by_segment": by(segment, ["enterprise", "mid-market", "smb", "self-serve"]),
        "nps_by_tenure": by(tenure, ["year 1", "year 2", "year 3+"]),
    }


def spec_measures(portfolio: Portfolio, *, library: Mapping[str, Any] | None = None) -> SpecMeasures:
    """The spec's measures of ``portfolio`` (module docstring). ``library`` is not used (the tables are the spec's)."""
    facts = portfolio.facts
    live = facts[facts["live"].astype(bool)]
    table = portfolio.table
    cadence = _cadence(portfolio, live, table)
    engagement, unknown = _engagement(live, table)
    board, eligible = _advisory(portfolio, live, table)
    return SpecMeasures(
        command="measures",
        account=None,
        as_of=portfolio.as_of,
        conventions=["Live accounts: ARR > 0. Blank cells are unknown, never late or low."],
        currency=portfolio.settings.currency,
        live_accounts=len(live),
        cadence=cadence,
        engagement=engagement,
        engagement_unknown=unknown,
        advisory_board=board,
        advisory_eligible=eligible,
        cac_payback="not derivable: the workbook holds no acquisition cost (csxl.cac_payback(cac, arpa, margin))",
        **_money(portfolio, live),
        **_nps(portfolio, live, table),
    )
