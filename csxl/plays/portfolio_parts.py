"""The computations of the portfolio review (play 8): CSM concentration and capacity, stage, tier moves, churn
reasons, multi-threading, expansion and the monthly review questions answered from the data."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from csxl.cells import finite_or_none
from csxl.dashboard import (
    Dashboard,
    compare,
    previous_snapshot,
)
from csxl.plays.base import load_library
from csxl.plays.expansion import expansion_opportunities
from csxl.plays.portfolio_model import (
    NOT_RECORDED,
    UNASSIGNED,
    Answer,
    Capacity,
    ChurnReasonLine,
    CsmLine,
    Expansion,
    SegmentCapacity,
    Stage,
    ThreadLine,
    TierMove,
    _money,
    _pct,
)
from csxl.portfolio import Portfolio
from csxl.signals import SIGNALS, NumericSignal, signal_rag


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
                score_then=finite_or_none(r["score_then"]),
                score_now=finite_or_none(r["score_now"]),
                main_risk=None if r["main_risk"] is None else str(r["main_risk"]),
                arr=finite_or_none(r["arr"]),
                csm=None if r["csm"] is None else str(r["csm"]),
            )
            for r in frame.to_dict("records")
        ]

    up = both[both["steps"] < 0].sort_values(["steps", "arr", "account"], ascending=[True, False, True])
    return date.date(), lines(both[both["steps"] > 0]), lines(up)


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


def _expansion(portfolio: Portfolio, live: pd.DataFrame) -> Expansion:
    """The expansion pipeline: live accounts not at risk in which the expansion play finds a signal (its one rule:
    seats, the expansion_signals text, high health near renewal), with the summed upside. Only accounts that could
    show a signal are run through the play (a superset, by the library's own thresholds)."""
    lib = load_library("expansion")

    def column(name: str) -> pd.Series[Any]:
        return live[name] if name in live else pd.Series(None, index=live.index, dtype=object)

    seats = pd.to_numeric(column("seats_active"), errors="coerce") / pd.to_numeric(
        column("seats_purchased"), errors="coerce"
    )
    text = column("expansion_signals").astype(object)
    typed = text.notna() & (text.astype(str).str.strip() != "")
    health = pd.to_numeric(column("health_score"), errors="coerce")
    renewal = pd.to_datetime(column("renewal_date"), errors="coerce")
    days = (renewal - pd.Timestamp(portfolio.as_of)).dt.days
    near = (health >= float(lib["high_health_score"])) & days.between(0, int(lib["renewal_window_days"]))
    could = (typed | (seats > float(lib["seat_target_utilisation"]) - 1e-9) | near) & ~live["at_risk"].astype(bool)
    found: list[tuple[str, float, float, int]] = []
    for name, arr in zip(live.loc[could, "account"], live.loc[could, "arr_effective"], strict=True):
        result = expansion_opportunities(portfolio, str(name))
        if result.signals:
            hot = sum(s.strength == "hot" for s in result.signals)
            found.append((str(name), float(arr), float(result.total_upside or 0.0), hot))
    found.sort(key=lambda f: (-f[2], -f[1], f[0]))
    return Expansion(
        accounts=len(found),
        arr=sum(f[1] for f in found),
        upside=sum(f[2] for f in found),
        hot=sum(f[3] > 0 for f in found),
        top=[f[0] for f in found[:5]],
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
        f"{exp.accounts} account(s) not at risk show expansion signals ({exp.hot} hot), {_money(exp.upside, cur)} of "
        f"ARR upside on {_money(exp.arr, cur)} ARR (csxl expansion ACCOUNT for each); largest upside: "
        + ", ".join(exp.top)
        if exp.accounts
        else "no account not at risk shows an expansion signal (seats, the expansion_signals column, high health "
        "near renewal)"
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
