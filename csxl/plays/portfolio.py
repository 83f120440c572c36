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

from collections.abc import Mapping
from typing import Any, cast

from csxl.dashboard import (
    live_table,
    weekly_dashboard,
)
from csxl.monthly import monthly_report
from csxl.plays.base import load_library, register
from csxl.plays.portfolio_model import (
    UNASSIGNED,
    Answer,
    Capacity,
    ChurnReasonLine,
    CsmLine,
    Expansion,
    PortfolioReview,
    SegmentCapacity,
    Stage,
    ThreadLine,
    TierMove,
)
from csxl.plays.portfolio_parts import (
    _answers,
    _capacity,
    _churn_reasons,
    _concentration,
    _expansion,
    _moves,
    _stage,
    _threads,
)
from csxl.portfolio import Portfolio

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


# --------------------------------------------------------------------------------------------------------------------
# The play
# --------------------------------------------------------------------------------------------------------------------


@register("portfolio", 8, "Portfolio review", needs_account=False, result=PortfolioReview)
def portfolio_review(
    portfolio: Portfolio,
    account: str | None = None,
    *,
    library: Mapping[str, Any] | None = None,
    monthly: bool = False,
) -> PortfolioReview:
    """Play 8 (``"Portfolio review"``): the weekly dashboard plus CSM concentration, capacity, stage and the monthly
    review questions answered from the data. ``account`` is ignored (the play covers every account).

    ``library`` overrides top-level keys of ``library/portfolio.json`` (``csm_ratios``, ``stages``, ...). ``monthly``:
    the spec's monthly report from History is added (:func:`csxl.monthly.monthly_report`). Same portfolio, same
    result: nothing here reads the clock.
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
    expansion = _expansion(portfolio, live)
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
        monthly=monthly_report(portfolio) if monthly else None,
    )
