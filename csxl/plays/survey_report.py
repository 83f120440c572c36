"""The survey report (``csxl surveys``): NPS, CSAT and CES with follow-up routing and the churn-reason breakdown.

:func:`survey_routing` (defaults in ``library/surveys.json``; agent spec "NPS / CSAT / CES") reads the Surveys sheet
up to the as-of date: NPS (points), CSAT (% top-2-box), CES (mean 1..7) with :mod:`csxl.surveys`; NPS of the last
90 days vs the 90 before; NPS by segment against the spec's benchmarks; the follow-up of each account's latest NPS
answer of the last 90 days (detractor within 24 h by the CSM/CS Lead, passive within 48 h, promoter within a week;
due date = answer date + ceil(hours / 24) days); comment categories by keyword (first match in library order); and
the churn reasons of the Accounts sheet against the spec's typical shares.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.plays.base import PlayResult, Section, Value, load_library
from csxl.plays.common import MissingColumn, missing_section, pct_cell
from csxl.portfolio import Portfolio
from csxl.sections import Cell
from csxl.surveys import NPS_FOLLOWUP_QUESTIONS, ces, csat, nps, nps_followup

__all__ = ["ChurnReasonLine", "CommentCategory", "FollowUp", "SegmentNps", "SurveyReport", "survey_routing"]


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SegmentNps(_Item):
    """NPS of one segment's answers (points) against the spec's B2B SaaS benchmark for that segment."""

    segment: str
    responses: int
    nps: float
    median: float | None
    top_quartile: float | None
    verdict: str


class FollowUp(_Item):
    """Who follows up an account's latest NPS answer, by when, and the questions to ask."""

    account: str
    answered: _dt.date
    score: int
    category: str
    owner: str
    sla_hours: int
    due: _dt.date
    status: str
    action: str
    questions: list[str]


class CommentCategory(_Item):
    """Survey comments in one category and where they go."""

    category: str
    route: str
    comments: int


class ChurnReasonLine(_Item):
    """Churned accounts with one churn reason, their share, and the spec's typical share and preventability."""

    reason: str
    accounts: int
    share: float
    typical: str
    engine_category: str
    preventable: str


class SurveyReport(PlayResult):
    """NPS / CSAT / CES report with follow-up routing, comment categories and the churn-reason breakdown."""

    nps: float | None
    nps_band: str | None
    nps_responses: int
    promoters: int
    passives: int
    detractors: int
    nps_recent: float | None
    nps_previous: float | None
    nps_trend: str | None
    csat: float | None
    csat_responses: int
    ces: float | None
    ces_responses: int
    nps_target: float
    csat_target: float
    by_segment: list[SegmentNps]
    routing: list[FollowUp]
    comments: list[CommentCategory]
    churn_reasons: list[ChurnReasonLine]
    churned_without_reason: int
    missing: list[MissingColumn]

    def title(self) -> str:
        return f"Survey report (as of {self.as_of.isoformat()})"

    def sections(self) -> list[Section]:
        def num(v: float | None, digits: int = 1) -> Value:
            return None if v is None else round(v, digits)

        head: list[list[Cell]] = [
            ["NPS (points)", num(self.nps), f"{self.nps_band or 'no answers'}; target > {self.nps_target:g}"],
            ["NPS answers", self.nps_responses,
             f"{self.promoters} promoters, {self.passives} passives, {self.detractors} detractors"],
            ["NPS last 90 days vs the 90 before", num(self.nps_recent), num(self.nps_previous), self.nps_trend],
            ["CSAT (% satisfied)", num(self.csat), f"{self.csat_responses} answers; target > {self.csat_target:g}%"],
            ["CES (mean 1-7)", num(self.ces, 2), f"{self.ces_responses} answers"],
        ]  # fmt: skip
        out = [Section("Scores", head)]
        if self.by_segment:
            seg: list[list[Cell]] = [[s.segment, s.responses, num(s.nps), s.median, s.top_quartile, s.verdict]
                                      for s in self.by_segment]  # fmt: skip
            out.append(
                Section("NPS by segment", seg, ("segment", "answers", "NPS", "median", "top quartile", "verdict"))
            )
        rows: list[list[Cell]] = [
            [f.account, f.answered, f.score, f.category, f.owner, f.due, f.status, f.action] for f in self.routing
        ]
        header = ("account", "answered", "score", "category", "owner", "due", "status", "action")
        out.append(Section("Follow-up routing (latest NPS answer per account, last 90 days)", rows, header))
        if self.comments:
            com: list[list[Cell]] = [[c.category, c.route, c.comments] for c in self.comments]
            out.append(Section("Comment categories", com, ("category", "route to", "comments")))
        churn: list[list[Cell]] = [
            [c.reason, c.accounts, pct_cell(c.share), c.typical, c.engine_category, c.preventable]
            for c in self.churn_reasons
        ]
        out.append(Section("Churn reasons", churn, ("reason", "accounts", "share", "typical (spec)", "category",
                                                   "preventable")))  # fmt: skip
        if self.missing:
            out.append(missing_section(self.missing))
        return out


def _band(score: float, bands: list[dict[str, Any]]) -> str:
    for b in sorted(bands, key=lambda b: -float(b["min"])):
        if score >= float(b["min"]):
            return str(b["label"])
    return str(bands[-1]["label"])


def _nps_or_none(scores: pd.Series[Any]) -> float | None:
    return nps(scores.to_numpy(dtype=np.float64)) if len(scores) else None


def survey_routing(portfolio: Portfolio, *, library: Mapping[str, Any] | None = None) -> SurveyReport:
    """The NPS/CSAT/CES report of the portfolio with follow-up routing and the churn-reason taxonomy breakdown.

    Only answers dated on or before the as-of date count. An empty Surveys sheet is reported as missing data.
    """
    lib = load_library("surveys", library)
    as_of = portfolio.as_of_ts
    surveys = portfolio.surveys
    surveys = surveys[surveys["date"] <= as_of]
    score = surveys["score"].astype("float64")
    kind = surveys["kind"]
    gaps: list[MissingColumn] = []
    if surveys.empty:
        gaps.append(MissingColumn(column="Surveys sheet", needed_for="NPS, CSAT, CES and routing",
                                  fill="account, date, kind (nps/csat/ces), score"))  # fmt: skip
    nps_scores = score[kind == "nps"]
    csat_scores = score[kind == "csat"]
    ces_scores = score[kind == "ces"]
    nps_value = _nps_or_none(nps_scores)
    trend_days = pd.Timedelta(days=int(lib["trend_days"]))
    dates = surveys["date"][kind == "nps"]
    recent = _nps_or_none(nps_scores[dates > as_of - trend_days])
    previous = _nps_or_none(nps_scores[(dates <= as_of - trend_days) & (dates > as_of - 2 * trend_days)])
    trend = None
    if recent is not None and previous is not None:
        trend = "up" if recent > previous else "down" if recent < previous else "flat"

    accounts = portfolio.accounts
    nps_rows = surveys[kind == "nps"]
    by_segment = _by_segment(portfolio, nps_rows, cast(dict[str, dict[str, float]], lib["nps_benchmarks"]))
    routing = _routing(portfolio, nps_rows, int(lib["routing_window_days"]))
    comments = _comments(surveys, cast(list[dict[str, Any]], lib["comment_categories"]))
    churn_lines, no_reason = _churn_reasons(accounts, cast(dict[str, dict[str, str]], lib["churn_taxonomy"]))
    if no_reason:
        gaps.append(MissingColumn(column="churn_reason", needed_for=f"churn breakdown ({no_reason} churned accounts)",
                                  fill="churn reason category of each account with ARR 0"))  # fmt: skip
    targets = cast(dict[str, float], lib["targets"])
    bands = cast(list[dict[str, Any]], lib["nps_bands"])
    return SurveyReport(
        command="surveys",
        account=None,
        as_of=portfolio.as_of,
        conventions=[
            "NPS = % promoters (9-10) - % detractors (0-6), in points; CSAT = % of answers 4-5 on 1-5; CES = mean 1-7.",
            "Routing: each account's latest NPS answer of the last 90 days; due = answer date + SLA (24 h = 1 day).",
            "Comments: first matching category in library order; churn shares are of accounts with a churn_reason.",
        ],
        nps=nps_value,
        nps_band=None if nps_value is None else _band(nps_value, bands),
        nps_responses=len(nps_scores),
        promoters=int((nps_scores >= 9).sum()),
        passives=int(((nps_scores >= 7) & (nps_scores <= 8)).sum()),
        detractors=int((nps_scores <= 6).sum()),
        nps_recent=recent,
        nps_previous=previous,
        nps_trend=trend,
        csat=csat(csat_scores.to_numpy(dtype=np.float64)) if len(csat_scores) else None,
        csat_responses=len(csat_scores),
        ces=ces(ces_scores.to_numpy(dtype=np.float64)) if len(ces_scores) else None,
        ces_responses=len(ces_scores),
        nps_target=float(targets["nps"]),
        csat_target=float(targets["csat"]),
        by_segment=by_segment,
        routing=routing,
        comments=comments,
        churn_reasons=churn_lines,
        churned_without_reason=no_reason,
        missing=gaps,
    )


def _by_segment(
    portfolio: Portfolio, nps_rows: pd.DataFrame, bench: Mapping[str, Mapping[str, float]]
) -> list[SegmentNps]:
    """NPS per segment (the account's segment by :mod:`csxl.facts`) against the spec's benchmarks."""
    facts = portfolio.facts
    segment_by_name = dict(zip(portfolio.table["account"], facts["segment_effective"], strict=True))
    seg = nps_rows["account"].map(segment_by_name).fillna("(blank or not on Accounts sheet)")
    out = []
    for name, group in nps_rows.groupby(seg.to_numpy(), sort=True):
        value = nps(group["score"].to_numpy(dtype=np.float64))
        b = bench.get(str(name))
        if b is None:
            verdict = "no spec benchmark"
        elif value >= b["top_quartile"]:
            verdict = "top quartile"
        elif value >= b["median"]:
            verdict = "above median"
        else:
            verdict = "below median"
        out.append(
            SegmentNps(segment=str(name), responses=len(group), nps=value,
                       median=None if b is None else float(b["median"]),
                       top_quartile=None if b is None else float(b["top_quartile"]), verdict=verdict)
        )  # fmt: skip
    return out


def _routing(portfolio: Portfolio, nps_rows: pd.DataFrame, window_days: int) -> list[FollowUp]:
    """Each account's latest NPS answer of the window, routed: owner, SLA, due date, status, questions."""
    as_of = portfolio.as_of_ts
    latest = (
        nps_rows[nps_rows["date"] > as_of - pd.Timedelta(days=window_days)]
        .sort_values(["date", "account"], kind="stable")
        .groupby("account", sort=False)
        .tail(1)
    )
    follow = nps_followup(latest["score"].astype("float64").reset_index(drop=True))
    routing = []
    for (_, r), (_, f) in zip(latest.reset_index(drop=True).iterrows(), follow.iterrows(), strict=True):
        answered = pd.Timestamp(r["date"]).date()
        due = answered + _dt.timedelta(days=math.ceil(int(f["sla_hours"]) / 24))
        routing.append(
            FollowUp(
                account=str(r["account"]), answered=answered, score=int(r["score"]), category=str(f["category"]),
                owner=str(f["owner"]), sla_hours=int(f["sla_hours"]), due=due,
                status="SLA passed: check it was done" if due < portfolio.as_of else "open",
                action=str(f["action"]), questions=list(NPS_FOLLOWUP_QUESTIONS[str(f["category"])]),
            )
        )  # fmt: skip
    rank = {"Detractor": 0, "Passive": 1, "Promoter": 2}
    routing.sort(key=lambda f: (rank.get(f.category, 3), f.due, f.account))
    return routing


def _comments(surveys: pd.DataFrame, categories: list[dict[str, Any]]) -> list[CommentCategory]:
    """Survey comments by the first category whose keyword they contain (library order), the rest uncategorised."""
    comments: list[CommentCategory] = []
    if "comment" not in surveys.columns:
        return comments
    text = surveys["comment"].dropna().astype(str).str.lower()
    text = text[text.str.strip() != ""]
    left = pd.Series(True, index=text.index)
    for cat in categories:
        pattern = "|".join(rf"(?<!\w){re.escape(str(k).lower())}(?!\w)" for k in cat["keywords"])
        hit = left & text.str.contains(pattern, regex=True)
        if hit.any():
            comments.append(CommentCategory(category=str(cat["category"]), route=str(cat["route"]),
                                            comments=int(hit.sum())))  # fmt: skip
        left &= ~hit
    if left.any():
        comments.append(CommentCategory(category="uncategorized", route="CS Lead", comments=int(left.sum())))
    return comments


def _churn_reasons(
    accounts: pd.DataFrame, taxonomy: Mapping[str, Mapping[str, str]]
) -> tuple[list[ChurnReasonLine], int]:
    """Churned accounts by reason (with the taxonomy's notes), and how many churned accounts have no reason."""
    reasons = accounts["churn_reason"].dropna() if "churn_reason" in accounts else pd.Series([], dtype=object)
    counts = reasons.value_counts()
    total = int(counts.sum())
    lines = [
        ChurnReasonLine(
            reason=str(reason), accounts=int(n), share=int(n) / total,
            typical=taxonomy.get(str(reason), {}).get("typical", ""),
            engine_category=taxonomy.get(str(reason), {}).get("engine_category", ""),
            preventable=taxonomy.get(str(reason), {}).get("preventable", ""),
        )
        for reason, n in sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    ]  # fmt: skip
    churned = accounts["arr"] == 0 if "arr" in accounts else pd.Series(False, index=accounts.index)
    no_reason = int((churned & accounts["churn_reason"].isna()).sum()) if "churn_reason" in accounts else 0
    return lines, no_reason
