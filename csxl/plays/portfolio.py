"""Play 8, ``portfolio``: the weekly CS dashboard plus the monthly review, for the whole portfolio.

``"Portfolio review"`` (engine spec, command 8: "Generate weekly CS dashboard from all tracked accounts"). The result
holds :func:`csxl.dashboard.weekly_dashboard` and, on top of it:

* **CSM at-risk concentration** (engine spec, monthly question 6): per CSM (blank = ``(unassigned)``) the live
  accounts, ARR, at-risk accounts and ARR, the at-risk share of their own ARR and of all at-risk ARR, and their load
  against the spec's CSM-to-account ratios: ``load_min = sum(1 / max_accounts)`` and
  ``load_max = sum(1 / min_accounts)`` over their accounts, in CSMs (1.0 = one full book). ``load_min > 1`` means
  more accounts than even the loosest ratio allows: over capacity.
* **Capacity by segment** (agent spec "CSM-to-account ratios"): per segment, CSMs needed =
  accounts / max_accounts .. accounts / min_accounts, against the number of distinct named CSMs on live accounts.
  The segment is the ``segment`` cell, else the ARR band ($100K+ enterprise, $25-100K mid-market, $5-25K SMB,
  < $5K self-serve); self-serve counts in the SMB tech-touch pool (the ratio table has no self-serve row).
* **Stage** (agent spec intro and "Three models by stage"): early < 100 live customers, growth 100-499, scale 500+
  (the spec's "1-100 / 100-500 / 500+" overlap at the edges; the models' "<100 / 100-500 / 500+" decide). The spec
  defines stages by customer count only; ARR is shown, not used. With it, the health model and touch model that fit.
* **Monthly review questions** (engine spec Phase 8), answered from the tables: tier moves against the previous
  History snapshot (the latest one dated before the as-of date, any age), churn reasons (this month vs the previous
  three months vs all time; an account's churn month is the month after its last month with MRR > 0), multi-threading
  of the top 10 live accounts by ARR (``contacts_count``; single-threaded = at most 1 contact), expansion signals of
  accounts not at risk, and the CSM concentration above. Questions the tables cannot answer say so.

Numbers (ratios, stage bounds, bands) are in ``library/portfolio.json``; pass ``library=`` to change them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from csxl.dashboard import (
    Dashboard,
    compare,
    dashboard_sections,
    live_table,
    previous_snapshot,
    weekly_dashboard,
)
from csxl.plays.base import PlayResult, Section, load_library, register
from csxl.plays.common import money_cell, pct_cell
from csxl.portfolio import Portfolio
from csxl.sections import Cell
from csxl.signals import SIGNALS, NumericSignal, signal_rag

__all__ = [
    "UNASSIGNED",
    "Answer",
    "Capacity",
    "ChurnReasonLine",
    "CsmLine",
    "Expansion",
    "PortfolioReview",
    "SegmentCapacity",
    "Stage",
    "ThreadLine",
    "TierMove",
    "portfolio_review",
]

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
    """Live accounts not at risk with expansion signals filled: count, ARR, and the largest few by ARR."""

    accounts: int
    arr: float
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
        return out


# --------------------------------------------------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------------------------------------------------


def _money(value: float | None, currency: str) -> str:
    return "unknown" if value is None else f"{currency} {value:,.0f}"


def _pct(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{100.0 * value:.{digits}f}%"


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# --------------------------------------------------------------------------------------------------------------------
# The pieces
# --------------------------------------------------------------------------------------------------------------------


def _concentration(live: pd.DataFrame, per_min: pd.Series[float], per_max: pd.Series[float]) -> list[CsmLine]:
    arr = live["arr_effective"].astype(float)
    risky = live["at_risk"].astype(bool)
    frame = pd.DataFrame(
        {
            "csm": live["csm"].astype(object).where(live["csm"].notna(), UNASSIGNED),
            "arr": arr,
            "at_risk": risky.astype(int),
            "at_risk_arr": arr.where(risky, 0.0),
            "load_min": per_min,
            "load_max": per_max,
        }
    )
    grouped = frame.groupby("csm", sort=True).agg(
        accounts=("arr", "size"),
        arr=("arr", "sum"),
        at_risk=("at_risk", "sum"),
        at_risk_arr=("at_risk_arr", "sum"),
        load_min=("load_min", "sum"),
        load_max=("load_max", "sum"),
    )
    grouped = grouped.reset_index().sort_values(
        ["at_risk_arr", "at_risk", "csm"], ascending=[False, False, True], kind="stable"
    )
    all_risk = float(grouped["at_risk_arr"].sum())
    return [
        CsmLine(
            csm=str(r["csm"]),
            accounts=int(r["accounts"]),
            arr=float(r["arr"]),
            at_risk=int(r["at_risk"]),
            at_risk_arr=float(r["at_risk_arr"]),
            at_risk_share_of_book=float(r["at_risk_arr"]) / float(r["arr"]) if r["arr"] > 0 else None,
            share_of_all_at_risk_arr=float(r["at_risk_arr"]) / all_risk if all_risk > 0 else None,
            load_min=float(r["load_min"]),
            load_max=float(r["load_max"]),
            over_capacity=None if r["csm"] == UNASSIGNED else bool(r["load_min"] > 1.0),
        )
        for r in grouped.to_dict("records")
    ]


def _capacity(live: pd.DataFrame, segment: pd.Series[Any], ratios: Mapping[str, Any]) -> Capacity:
    frame = pd.DataFrame({"segment": segment, "arr": live["arr_effective"].astype(float)})
    grouped = frame.groupby("segment").agg(accounts=("arr", "size"), arr=("arr", "sum"))
    lines = []
    for name, spec in ratios.items():
        accounts = int(grouped["accounts"].get(name, 0))
        if not accounts:
            continue
        lo, hi = int(spec["min_accounts"]), int(spec["max_accounts"])
        lines.append(
            SegmentCapacity(
                segment=str(name),
                touch_model=str(spec["touch_model"]),
                accounts=accounts,
                arr=float(grouped["arr"].get(name, 0.0)),
                min_accounts=lo,
                max_accounts=hi,
                csms_needed_min=accounts / hi,
                csms_needed_max=accounts / lo,
            )
        )
    need_min = sum(s.csms_needed_min for s in lines)
    need_max = sum(s.csms_needed_max for s in lines)
    named = live["csm"].dropna().astype(str).str.strip()
    current = int(named[named != ""].nunique())
    unassigned = int(live["csm"].isna().sum())
    if not lines:
        status = "no live account: nothing to staff"
    elif current == 0:
        status = f"no CSM is assigned; the ratios call for {need_min:.1f}-{need_max:.1f} CSM(s)"
    elif current < need_min:
        status = (
            f"understaffed: {current} CSM(s) for a book that needs {need_min:.1f}-{need_max:.1f} at the spec's ratios"
        )
    elif current > need_max:
        status = (
            f"{current} CSM(s) is more than the {need_min:.1f}-{need_max:.1f} the spec's ratios call for: "
            "room for more accounts per CSM"
        )
    else:
        status = f"within the spec's ratios: {current} CSM(s), {need_min:.1f}-{need_max:.1f} needed"
    if unassigned:
        status += f"; {unassigned} live account(s) have no CSM"
    return Capacity(
        segments=lines,
        csms_current=current,
        csms_needed_min=need_min,
        csms_needed_max=need_max,
        unassigned_accounts=unassigned,
        status=status,
    )


def _stage(customers: int, arr: float, preset: str, csms: int, lib: Mapping[str, Any]) -> Stage:
    stages = sorted(lib["stages"], key=lambda s: int(s["min_customers"]))
    chosen = stages[0]
    for s in stages:
        if customers >= int(s["min_customers"]):
            chosen = s
    model = str(chosen["health_model"])
    if model == "simple":
        fit = (
            "read the Simple-points tiers first; the weighted preset "
            f"'{preset}' is computed too but needs more signals than most early-stage books have"
        )
    elif model == "weighted":
        fit = f"the weighted preset '{preset}' in use fits this stage"
    else:
        fit = (
            f"a predictive model fits this stage; csxl's closest is the weighted preset '{preset}': "
            "calibrate its tier bounds quarterly against churn outcomes"
        )
    hire = int(lib["first_csm_hire_customers"])
    if customers < hire:
        first = f"founder-led is fine below {hire} customers (spec: hire the first CSM at {hire}+)"
    elif csms == 0:
        first = f"{customers} customers and no CSM assigned: time to hire the first CSM (spec: {hire}+ customers)"
    else:
        first = f"{csms} CSM(s) in place"
    return Stage(
        name=str(chosen["name"]),
        label=str(chosen["label"]),
        customers=customers,
        arr=arr,
        approach=str(chosen["approach"]),
        health_model=model,
        health_model_text=str(chosen["health_model_text"]),
        health_model_fit=fit,
        touch_model=str(chosen["touch_model"]),
        first_csm_hire=first,
    )


def _moves(portfolio: Portfolio, live: pd.DataFrame) -> tuple[_dt.date | None, list[TierMove], list[TierMove]]:
    history = portfolio.history
    date = previous_snapshot(history, portfolio.as_of)
    if date is None:
        return None, [], []
    scheme = portfolio.settings.scheme()
    rank = {label: i for i, label in enumerate(scheme.labels)}
    both = compare(live, history[history["as_of"] == date], scheme)
    both = both[both["now"] & both["was"]].copy()
    both["steps"] = both["tier_now"].map(rank).astype(float) - both["tier_then"].map(rank).astype(float)
    both = both[both["steps"].notna() & (both["steps"] != 0)]
    both = both.sort_values(["steps", "arr", "account"], ascending=[False, False, True], kind="stable")

    def lines(frame: pd.DataFrame) -> list[TierMove]:
        return [
            TierMove(
                account=str(r["account"]),
                tier_then=str(r["tier_then"]),
                tier_now=str(r["tier_now"]),
                steps=int(r["steps"]),
                score_then=_float(r["score_then"]),
                score_now=_float(r["score_now"]),
                main_risk=None if r["main_risk"] is None else str(r["main_risk"]),
                arr=_float(r["arr"]),
                csm=None if r["csm"] is None else str(r["csm"]),
            )
            for r in frame.to_dict("records")
        ]

    up = both[both["steps"] < 0].sort_values(["steps", "arr", "account"], ascending=[True, False, True])
    return date.date(), lines(both[both["steps"] > 0]), lines(up)


def _float(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    out = float(value)
    return out if np.isfinite(out) else None


def _churn_reasons(portfolio: Portfolio, table: pd.DataFrame, months: int) -> list[ChurnReasonLine]:
    """Reasons of churned accounts (effective ARR 0): this month / previous ``months`` months / all churned."""
    churned = table[table["arr_effective"] == 0]
    if churned.empty:
        return []
    reason = churned["churn_reason"].astype(object).where(churned["churn_reason"].notna(), NOT_RECORDED)
    month = pd.Timestamp(portfolio.as_of.year, portfolio.as_of.month, 1)
    mrr = portfolio.mrr
    churn_month = pd.Series(pd.NaT, index=churned.index, dtype="datetime64[us]")
    if not mrr.empty:
        paid = mrr[(mrr["month"] <= month)].groupby(["account", "month"])["mrr"].sum()
        paid = paid[paid > 0].reset_index()
        last = paid.groupby("account")["month"].max() + pd.DateOffset(months=1)
        churn_month = churned["account"].map(last).astype("datetime64[us]")
    first = month - pd.DateOffset(months=months)
    frame = pd.DataFrame(
        {
            "reason": reason.to_numpy(),
            "this_month": (churn_month == month).to_numpy(),
            "previous_months": ((churn_month >= first) & (churn_month < month)).to_numpy(),
            "all_time": True,
        }
    )
    grouped = frame.groupby("reason").sum().astype(int).reset_index()
    grouped = grouped.sort_values(["this_month", "all_time", "reason"], ascending=[False, False, True], kind="stable")
    return [
        ChurnReasonLine(
            reason=str(r["reason"]),
            this_month=int(r["this_month"]),
            previous_months=int(r["previous_months"]),
            all_time=int(r["all_time"]),
        )
        for r in grouped.to_dict("records")
    ]


def _threads(portfolio: Portfolio, live: pd.DataFrame, top: int, single_max: int) -> list[ThreadLine]:
    best = live.sort_values(["arr_effective", "account"], ascending=[False, True], kind="stable").head(top)
    contacts = pd.to_numeric(best["contacts_count"], errors="coerce").astype(float)
    cutoffs = portfolio.settings.simple_cutoffs
    definition = SIGNALS["contacts"]
    override = None
    if "contacts" in cutoffs and isinstance(definition, NumericSignal):
        green, yellow = cutoffs["contacts"]
        override = {"green": (definition.green[0], float(green)), "yellow": (definition.yellow[0], float(yellow))}
    rating = signal_rag("contacts", contacts, override)
    return [
        ThreadLine(
            account=str(a),
            arr=float(arr),
            contacts_count=None if np.isnan(c) else int(c),
            rating=None if r is None else str(r),
            single_threaded=None if np.isnan(c) else bool(c <= single_max),
            csm=None if csm is None or csm is pd.NA or csm != csm else str(csm),
        )
        for a, arr, c, r, csm in zip(
            best["account"], best["arr_effective"], contacts.to_numpy(), rating, best["csm"], strict=True
        )
    ]


def _expansion(live: pd.DataFrame) -> Expansion:
    signals = live["expansion_signals"].astype(object)
    has = signals.notna() & (signals.astype(str).str.strip() != "") & ~live["at_risk"].astype(bool)
    chosen = live[has].sort_values(["arr_effective", "account"], ascending=[False, True], kind="stable")
    return Expansion(
        accounts=len(chosen),
        arr=float(chosen["arr_effective"].sum()),
        top=[str(a) for a in chosen["account"].head(5)],
    )


def _answers(review: dict[str, Any], dashboard: Dashboard, lib: Mapping[str, Any]) -> list[Answer]:
    q = [str(x) for x in lib["monthly_questions"]]
    cur = dashboard.currency
    since = review["previous_snapshot"]
    out: list[Answer] = []

    def moves_text(moves: list[TierMove], word: str) -> str:
        if since is None:
            return "no earlier History snapshot to compare with (refresh again next week)"
        if not moves:
            return f"none moved {word} since {since}"
        names = ", ".join(
            f"{m.account} ({m.tier_then} -> {m.tier_now}{'; ' + m.main_risk if m.main_risk else ''})" for m in moves[:5]
        )
        more = f" and {len(moves) - 5} more" if len(moves) > 5 else ""
        return f"{len(moves)} since {since}: {names}{more}"

    out.append(Answer(question=q[0], answer=moves_text(review["moved_down"], "down"), from_data=True))
    out.append(Answer(question=q[1], answer=moves_text(review["moved_up"], "up"), from_data=True))

    reasons: list[ChurnReasonLine] = review["churn_reasons"]
    months = int(lib["churn_trend_months"])
    top = review["top_churn_reason"]
    if not reasons:
        churn = "no churned account (ARR 0) in the Accounts table"
    elif top is None:
        overall = max(reasons, key=lambda r: (r.all_time, r.reason != NOT_RECORDED))
        churn = f"no churn this month; most common reason overall: {overall.reason} ({overall.all_time} accounts)"
    else:
        line = next(r for r in reasons if r.reason == top)
        rate = line.previous_months / months
        trend = "rising" if line.this_month > rate else "falling" if line.this_month < rate else "flat"
        churn = (
            f"{top}: {line.this_month} this month vs {line.previous_months} in the previous {months} months "
            f"({rate:.1f} a month): {trend}"
        )
    out.append(Answer(question=q[2], answer=churn, from_data=True))

    threads: list[ThreadLine] = review["top_accounts"]
    if not threads:
        thread = "no live account"
    else:
        single = [t.account for t in threads if t.single_threaded]
        unknown = sum(t.contacts_count is None for t in threads)
        thread = f"{len(threads) - len(single) - unknown} of the top {len(threads)} are multi-threaded"
        if single:
            thread += f"; single-threaded: {', '.join(single)}"
        if unknown:
            thread += f"; {unknown} without contacts_count"
    out.append(Answer(question=q[3], answer=thread, from_data=True))

    exp: Expansion = review["expansion"]
    expansion = (
        f"{exp.accounts} account(s) not at risk show expansion signals ({_money(exp.arr, cur)} ARR): "
        + ", ".join(exp.top)
        if exp.accounts
        else "no account not at risk has expansion signals filled (expansion_signals column)"
    )
    out.append(Answer(question=q[4], answer=expansion, from_data=True))

    csms: list[CsmLine] = review["csm_concentration"]
    risky = [c for c in csms if c.at_risk]
    if not risky:
        conc = "no live account is at risk"
    else:
        c = risky[0]
        conc = (
            f"{c.csm}: {c.at_risk} at-risk account(s), {_money(c.at_risk_arr, cur)} = "
            f"{_pct(c.share_of_all_at_risk_arr)} of all at-risk ARR and {_pct(c.at_risk_share_of_book)} of their book"
        )
        over = [x.csm for x in csms if x.over_capacity]
        if over:
            conc += f"; over capacity at the spec's ratios: {', '.join(over)}"
    out.append(Answer(question=q[5], answer=conc, from_data=True))
    for question in q[6:]:
        how = lib.get("not_from_data", {}).get(question, "not answerable from the csxl tables")
        out.append(Answer(question=question, answer=f"not in the data: {how}", from_data=False))
    return out


# --------------------------------------------------------------------------------------------------------------------
# The play
# --------------------------------------------------------------------------------------------------------------------


@register("portfolio", 8, "Portfolio review", needs_account=False, result=PortfolioReview)
def portfolio_review(
    portfolio: Portfolio,
    account: str | None = None,
    *,
    library: Mapping[str, Any] | None = None,
) -> PortfolioReview:
    """Play 8 (``"Portfolio review"``): the weekly dashboard plus CSM concentration, capacity, stage and the monthly
    review questions answered from the data. ``account`` is ignored (the play covers every account).

    ``library`` overrides top-level keys of ``library/portfolio.json`` (``csm_ratios``, ``stages``, ...). Same
    portfolio, same result: nothing here reads the clock.
    """
    lib = load_library("portfolio", library)
    dashboard = weekly_dashboard(portfolio)
    table = live_table(portfolio)
    live = table[table["live"]]
    ratios = cast(dict[str, Any], lib["csm_ratios"])
    segment = live["segment_effective"]
    known = segment.isin(list(ratios))
    lo = segment.map({k: float(v["min_accounts"]) for k, v in ratios.items()}).astype(float)
    hi = segment.map({k: float(v["max_accounts"]) for k, v in ratios.items()}).astype(float)
    per_min = (1.0 / hi).where(known, 0.0)
    per_max = (1.0 / lo).where(known, 0.0)
    concentration = _concentration(live, per_min, per_max)
    capacity = _capacity(live, segment, ratios)
    stage = _stage(len(live), float(live["arr_effective"].sum()), portfolio.settings.preset, capacity.csms_current, lib)
    since, down, up = _moves(portfolio, live)
    reasons = _churn_reasons(portfolio, table, int(lib["churn_trend_months"]))
    top_reason = reasons[0].reason if reasons and reasons[0].this_month > 0 else None
    threads = _threads(portfolio, live, int(lib["top_accounts"]), int(lib["single_threaded_max_contacts"]))
    expansion = _expansion(live)
    month_label = dashboard.this_month.label
    review: dict[str, Any] = {
        "previous_snapshot": since,
        "moved_down": down,
        "moved_up": up,
        "churn_reasons": reasons,
        "top_churn_reason": top_reason,
        "top_accounts": threads,
        "expansion": expansion,
        "csm_concentration": concentration,
    }
    conventions = [
        f"At risk = tiers {', '.join(dashboard.at_risk_tiers)} (the lower half of the '{dashboard.preset}' scheme).",
        "Live account = ARR > 0 (the arr cell, else 12 x the latest MRR); ARR 0 = churned.",
        f"This month = {month_label} (the as-of date's month, month to date).",
        "Week over week compares with the latest History snapshot 7-14 days before the as-of date.",
        "Tier moves compare with the latest History snapshot before the as-of date (any age).",
    ]
    conventions += [str(v["note"]) for v in ratios.values() if "note" in v and v.get("note")]
    return PortfolioReview(
        command="portfolio",
        account=None,
        as_of=portfolio.as_of,
        conventions=conventions,
        dashboard=dashboard,
        csm_concentration=concentration,
        capacity=capacity,
        stage=stage,
        previous_snapshot=since,
        moved_down=down,
        moved_up=up,
        churn_month=month_label,
        churn_reasons=reasons,
        top_churn_reason=top_reason,
        top_accounts=threads,
        single_threaded=sum(bool(t.single_threaded) for t in threads),
        expansion=expansion,
        answers=_answers(review, dashboard, lib),
    )
