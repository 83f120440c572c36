"""The portfolio review's result (play 8): pydantic models and how they read as sections."""

from __future__ import annotations

import datetime as _dt

from pydantic import BaseModel, ConfigDict

from csxl.dashboard import (
    Dashboard,
    dashboard_sections,
)
from csxl.monthly import MonthlyReport, monthly_sections
from csxl.plays.base import PlayResult, Section
from csxl.plays.common import money_cell, pct_cell
from csxl.sections import Cell

#: CSM label for live accounts with a blank ``csm`` cell.
UNASSIGNED = "(unassigned)"


#: Churn-reason label for churned accounts with a blank ``churn_reason`` cell.
NOT_RECORDED = "(not recorded)"


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CsmLine(_Item):
    """One CSM's book: live accounts, ARR, at-risk accounts/ARR, shares (fractions) and load (in CSMs)."""

    csm: str
    accounts: int
    arr: float
    at_risk: int
    at_risk_arr: float
    at_risk_share_of_book: float | None
    share_of_all_at_risk_arr: float | None
    load_min: float
    load_max: float
    over_capacity: bool | None


class SegmentCapacity(_Item):
    """One segment: live accounts, ARR, the spec's accounts-per-CSM range and the CSMs it needs (min..max)."""

    segment: str
    touch_model: str
    accounts: int
    arr: float
    min_accounts: int
    max_accounts: int
    csms_needed_min: float
    csms_needed_max: float


class Capacity(_Item):
    """CSM capacity against the ratios: needed (sum over segments) vs distinct named CSMs on live accounts."""

    segments: list[SegmentCapacity]
    csms_current: int
    csms_needed_min: float
    csms_needed_max: float
    unassigned_accounts: int
    status: str


class Stage(_Item):
    """The founder's stage from the live customer count, and the health / touch model that fit it."""

    name: str
    label: str
    customers: int
    arr: float
    approach: str
    health_model: str
    health_model_text: str
    health_model_fit: str
    touch_model: str
    first_csm_hire: str


class TierMove(_Item):
    """An account whose tier changed since the previous snapshot; ``steps`` > 0 = tiers down, < 0 = tiers up."""

    account: str
    tier_then: str
    tier_now: str
    steps: int
    score_then: float | None
    score_now: float | None
    main_risk: str | None
    arr: float | None
    csm: str | None


class ChurnReasonLine(_Item):
    """Churned accounts (effective ARR 0) by reason: churned this month, in the previous months, and all of them."""

    reason: str
    this_month: int
    previous_months: int
    all_time: int


class ThreadLine(_Item):
    """A top account by ARR: engaged contacts, their Red/Yellow/Green rating and the single-threaded flag."""

    account: str
    arr: float
    contacts_count: int | None
    rating: str | None
    single_threaded: bool | None
    csm: str | None


class Expansion(_Item):
    """Live accounts not at risk in which the expansion play finds a signal: count, their ARR, the summed ARR upside
    (an upper bound, as the play's own total), how many have a hot signal, and the five with the largest upside."""

    accounts: int
    arr: float
    upside: float
    hot: int
    top: list[str]


class Answer(_Item):
    """One monthly review question and its answer from the data (or what to do when the data cannot answer)."""

    question: str
    answer: str
    from_data: bool


class PortfolioReview(PlayResult):
    """Play 8: the weekly dashboard, CSM concentration and capacity, stage, and the monthly review questions."""

    dashboard: Dashboard
    csm_concentration: list[CsmLine]
    capacity: Capacity
    stage: Stage
    previous_snapshot: _dt.date | None
    moved_down: list[TierMove]
    moved_up: list[TierMove]
    churn_month: str
    churn_reasons: list[ChurnReasonLine]
    top_churn_reason: str | None
    top_accounts: list[ThreadLine]
    single_threaded: int
    expansion: Expansion
    answers: list[Answer]
    monthly: MonthlyReport | None = None

    def title(self) -> str:
        return f"Portfolio review, week {self.dashboard.week} (as of {self.as_of.isoformat()})"

    def sections(self) -> list[Section]:
        cur = self.dashboard.currency
        out = dashboard_sections(self.dashboard)
        out.append(
            Section(
                "Monthly review",
                [[a.question, a.answer] for a in self.answers],
                ("question", "answer"),
            )
        )
        if self.csm_concentration:
            rows: list[list[Cell]] = [
                [c.csm, c.accounts, money_cell(c.arr, cur), c.at_risk, money_cell(c.at_risk_arr, cur),
                 pct_cell(c.at_risk_share_of_book), pct_cell(c.share_of_all_at_risk_arr), round(c.load_min, 2),
                 round(c.load_max, 2), c.over_capacity]
                for c in self.csm_concentration
            ]  # fmt: skip
            header = ("CSM", "accounts", "ARR", "at risk", "at-risk ARR", "of book", "of all at-risk", "load min",
                      "load max", "over capacity")  # fmt: skip
            out.append(Section("CSM at-risk concentration", rows, header))
        out += self._capacity_and_stage(cur)
        since = "the previous History snapshot" if self.previous_snapshot is None else str(self.previous_snapshot)
        for title, moves in (("Moved down a tier", self.moved_down), ("Moved up a tier", self.moved_up)):
            if moves:
                mrows: list[list[Cell]] = [
                    [m.account, m.tier_then, m.tier_now, _round(m.score_then), _round(m.score_now), m.main_risk,
                     money_cell(m.arr, cur), m.csm]
                    for m in moves
                ]  # fmt: skip
                out.append(
                    Section(
                        f"{title} since {since}",
                        mrows,
                        ("account", "then", "now", "score then", "score now", "main risk", "ARR", "CSM"),
                    )
                )
        if self.churn_reasons:
            crows: list[list[Cell]] = [
                [c.reason, c.this_month, c.previous_months, c.all_time] for c in self.churn_reasons
            ]
            out.append(
                Section(
                    f"Churn reasons ({self.churn_month})",
                    crows,
                    ("reason", "this month", "previous months", "all churned"),
                )
            )
        if self.top_accounts:
            trows: list[list[Cell]] = [
                [t.account, money_cell(t.arr, cur), t.contacts_count, t.rating, t.single_threaded, t.csm]
                for t in self.top_accounts
            ]
            out.append(
                Section(
                    f"Multi-threading: top {len(self.top_accounts)} accounts by ARR",
                    trows,
                    ("account", "ARR", "contacts", "rating", "single-threaded", "CSM"),
                )
            )
        if self.monthly is not None:
            out += monthly_sections(self.monthly)
        return out

    def _capacity_and_stage(self, cur: str) -> list[Section]:
        """The CSM capacity table (accounts per CSM by segment) and the portfolio's stage."""
        out: list[Section] = []
        cap = self.capacity
        seg_rows: list[list[Cell]] = [
            [s.segment, s.touch_model, s.accounts, money_cell(s.arr, cur), f"1:{s.min_accounts}-{s.max_accounts}",
             f"{s.csms_needed_min:.1f}-{s.csms_needed_max:.1f}"]
            for s in cap.segments
        ]  # fmt: skip
        seg_rows.append(["total", "", sum(s.accounts for s in cap.segments), "", "",
                         f"{cap.csms_needed_min:.1f}-{cap.csms_needed_max:.1f}"])  # fmt: skip
        out.append(
            Section(
                f"CSM capacity ({cap.csms_current} CSM(s) today)",
                seg_rows,
                ("segment", "touch model", "accounts", "ARR", "ratio", "CSMs needed"),
                text=cap.status,
            )
        )
        st = self.stage
        out.append(
            Section(
                f"Stage: {st.label}",
                [
                    ["Live customers", st.customers],
                    ["ARR", money_cell(st.arr, cur)],
                    ["Approach", st.approach],
                    ["Health model", st.health_model_text],
                    ["Fit", st.health_model_fit],
                    ["Touch model", st.touch_model],
                    ["First CSM hire", st.first_csm_hire],
                ],
            )
        )
        return out


def _money(value: float | None, currency: str) -> str:
    return "unknown" if value is None else f"{currency} {value:,.0f}"


def _pct(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{100.0 * value:.{digits}f}%"


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
