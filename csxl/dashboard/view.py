"""The weekly dashboard as sections: the one description the Dashboard sheet, ``csxl report`` and ``csxl portfolio``
all lay out, so they never disagree in wording or numbers.

Money cells carry the dashboard's currency (ARR per year, MRR per month); ratios are fractions shown as percentages;
the MRR movements table keeps contraction and churn negative, so start + the movements = end along each row (and the
chart draws them below the axis).
"""

from __future__ import annotations

from collections.abc import Sequence

from csxl.dashboard.model import UNSCORED, AccountLine, ActLine, Dashboard
from csxl.sections import Cell, ChartSpec, Section, Styled

__all__ = ["MOVEMENTS_TITLE", "dashboard_sections"]

#: Title of the MRR movements table (the sheet puts live =NRR/=GRR formulas under it).
MOVEMENTS_TITLE = "MRR movements by month"


def _money(value: float | None, currency: str) -> Cell:
    return None if value is None else Styled(float(value), "money", currency)


def _pct(value: float | None, digits: int = 1) -> Cell:
    return None if value is None else Styled(float(value), "pct", digits=digits)


def _num(value: float | None, digits: int = 1) -> Cell:
    return None if value is None else round(float(value), digits)


def _portfolio(d: Dashboard) -> list[Section]:
    cur = d.currency
    head: list[list[Cell]] = [
        ["Week", d.week],
        ["Live accounts (ARR > 0)", d.total_accounts],
        ["ARR", _money(d.total_arr, cur)],
        ["Average health (0-100)", _num(d.average_health)],
        [f"At risk ({' / '.join(d.at_risk_tiers)})", d.at_risk_count],
        ["ARR of at-risk accounts", _money(d.at_risk_arr, cur)],
        ["Churned accounts (ARR 0)", d.churned_accounts],
        ["Health preset", d.preset],
    ]
    tiers = ChartSpec("tiers", "bar", "Accounts by tier", (1,), ("Accounts",))
    header = ("Tier", "Accounts", "ARR", "Share of ARR")
    return [
        Section("Portfolio", head),
        Section(
            f"Portfolio by tier ({d.preset} preset)",
            [[t.tier, t.count, _money(t.arr, cur), _pct(t.share_of_arr)] for t in d.by_tier],
            header,
            chart=tiers,
        ),
        Section(
            "Simple points tiers",
            [[t.tier, t.count, _money(t.arr, cur), _pct(t.share_of_arr)] for t in d.by_simple_tier],
            header,
        ),
    ]


def _money_and_surveys(d: Dashboard) -> list[Section]:
    cur, r, m, s = d.currency, d.retention, d.this_month, d.surveys
    base = r.cohort_base_month or "n/a"
    return [
        Section(
            "Retention",
            [
                ["Month", r.period_month.strftime("%Y-%m") if r.period_month else None],
                ["GRR (month)", _pct(r.grr)],
                ["NRR (month)", _pct(r.nrr)],
                ["Logo churn (month)", _pct(r.logo_churn_rate)],
                [f"12-month cohort NRR (base {base})", _pct(r.cohort_nrr_12m)],
                [f"12-month cohort GRR (base {base})", _pct(r.cohort_grr_12m)],
            ],
            text="; ".join(r.notes),
        ),
        Section(
            f"This month ({m.label}, month to date)",
            [
                ["Churned", m.churned_count, _money(m.churned_mrr, cur)],
                ["Contracted", m.contracted_count, _money(m.contracted_mrr, cur)],
                ["Expanded", m.expanded_count, _money(m.expanded_mrr, cur)],
                ["New", m.new_count, _money(m.new_mrr, cur)],
            ]
            if m.has_data
            else [],
            ("Movement", "Accounts", "MRR"),
            empty=f"no MRR data for {m.label}",
        ),
        Section(
            f"Surveys ({s.start.isoformat()} to {s.end.isoformat()})",
            [
                ["NPS (-100..100, target > 50)", _num(s.nps), s.nps_responses],
                [
                    "CSAT (% satisfied, target > 90%)",
                    _pct(None if s.csat is None else s.csat / 100.0),
                    s.csat_responses,
                ],
                ["CES (mean effort, 1-7)", _num(s.ces, 2), s.ces_responses],
            ],
            ("Measure", "Value", "Responses"),
        ),
    ]


def _renewals(d: Dashboard) -> Section:
    cur = d.currency
    rows: list[list[Cell]] = [
        [b.window, b.count, _money(b.arr, cur), b.at_risk, _money(b.at_risk_arr, cur)] for b in d.renewals
    ]
    rows.append(["Past due (not renewed)", d.renewals_past_due, _money(d.renewals_past_due_arr, cur), None, None])
    return Section("Renewals", rows, ("Due in", "Accounts", "ARR", "At risk", "ARR of at-risk accounts"))


def _accounts(title: str, lines: Sequence[AccountLine], currency: str) -> Section:
    rows: list[list[Cell]] = [
        [a.account, a.tier_then or "(not in snapshot)", a.tier_now, _num(a.score_now), a.main_risk,
         _money(a.arr, currency), a.csm]
        for a in lines
    ]  # fmt: skip
    return Section(title, rows, ("Account", "Tier before", "Tier now", "Health", "Main risk", "ARR", "CSM"))


def _act(d: Dashboard) -> list[Section]:
    cur = d.currency
    head = ("Account", "Tier", "Health", "Main risk", "ARR", "CSM", "Renews in (days)")

    def rows(lines: Sequence[ActLine]) -> list[list[Cell]]:
        return [
            [a.account, a.tier, _num(a.score), a.main_risk, _money(a.arr, cur), a.csm, a.renewal_days] for a in lines
        ]

    def more(shown: int, total: int) -> str:
        return f"The first {shown} of {total}." if total > shown else ""

    issues: list[list[Cell]] = [
        [f"{i.sheet} row {i.row}", i.column, i.value, i.rule, i.effect] for i in d.data_issue_lines
    ]
    return [
        Section("At risk: call this week", rows(d.act_on), head, text=more(len(d.act_on), d.at_risk_count),
                empty="No live account is at risk."),
        Section("Renewing in the next 30 days", rows(d.renewing_soon), head,
                text=more(len(d.renewing_soon), d.renewals[0].count if d.renewals else 0),
                empty="No renewal in the next 30 days."),
        Section(f"Data issues ({d.data_issues})", issues, ("Where", "Column", "Value", "Expected", "What csxl did"),
                text=more(len(issues), d.data_issues) + (" `csxl validate` lists every one." if issues else ""),
                empty="None: every input cell was read."),
    ]  # fmt: skip


def _week_over_week(d: Dashboard) -> list[Section]:
    w, cur = d.week_over_week, d.currency
    rows: list[list[Cell]] = [
        [t.tier, t.count_now, t.count_delta, _money(t.arr_now, cur), _money(t.arr_delta, cur)]
        for t in w.tiers
        if t.tier != UNSCORED or t.count_now or t.count_then
    ]
    if w.snapshot_as_of is not None:
        rows.append(["Average health", _num(d.average_health), _num(w.average_health_delta), None, None])
    if w.snapshot_as_of is None:
        table = Section("Week over week", [], ("Tier", "Accounts", "Change", "ARR", "ARR change"), empty=w.note)
    else:
        text = w.note[:1].upper() + w.note[1:] + "." if w.note else f"Compared with {w.snapshot_as_of.isoformat()}."
        table = Section("Week over week", rows, ("Tier", "Accounts", "Change", "ARR", "ARR change"), text=text)
    return [
        table,
        _accounts("New at-risk accounts", w.new_reds, cur),
        _accounts("Saved (no longer at risk)", w.reds_saved, cur),
        _accounts("Lost while at risk (churned)", w.reds_lost, cur),
    ]


def _series(d: Dashboard) -> list[Section]:
    cur = d.currency
    movements: list[list[Cell]] = [
        [x.month.strftime("%Y-%m"), _money(x.start_mrr, cur), _money(x.new, cur), _money(x.expansion, cur),
         _money(-x.contraction, cur), _money(-x.churned, cur), _money(x.reactivation, cur), _money(x.end_mrr, cur)]
        for x in d.mrr_series
    ]  # fmt: skip
    return [
        Section(
            MOVEMENTS_TITLE,
            movements,
            ("Month", "Start MRR", "New", "Expansion", "Contraction", "Churned", "Reactivation", "End MRR"),
            text=f"{cur} per month; contraction and churn are negative: start + the movements = end.",
            chart=ChartSpec(
                "movements",
                "bar",
                "MRR movements",
                (2, 3, 4, 5, 6),
                ("New", "Expansion", "Contraction", "Churned", "Reactivation"),
            ),
        ),
        Section(
            "NRR trend (monthly)",
            [[x.month.strftime("%Y-%m"), _pct(x.nrr), _pct(x.grr), _pct(x.logo_churn_rate)] for x in d.nrr_trend],
            ("Month", "NRR", "GRR", "Logo churn"),
            chart=ChartSpec("nrr", "line", "NRR and GRR by month", (1, 2), ("NRR", "GRR"), y_format="0%"),
        ),
    ]


def dashboard_sections(d: Dashboard) -> list[Section]:
    """The dashboard as sections, in reading order (the Dashboard sheet's order)."""
    out = [*_portfolio(d), *_act(d), *_money_and_surveys(d), _renewals(d), *_week_over_week(d), *_series(d)]
    if d.notes:
        out.append(Section("Notes", [[n] for n in d.notes]))
    return out
