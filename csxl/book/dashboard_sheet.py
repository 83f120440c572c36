"""The Dashboard sheet: :class:`csxl.dashboard.Dashboard` laid out as titled tables with three charts.

Pure (Plan operations only). The same parts print in ``csxl report --format md|text`` through
:func:`dashboard_sections`, so the sheet and the terminal never disagree.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from csxl.book import layout
from csxl.book.plan import Chart, Formula, Plan
from csxl.book.render import SheetWriter, Styled
from csxl.dashboard import Dashboard, weekly_dashboard
from csxl.plays.base import Section, Value
from csxl.portfolio import Portfolio

__all__ = ["dashboard_plan", "dashboard_sections", "write_dashboard"]


@dataclass
class _Part:
    title: str
    rows: list[list[Value | Styled]]
    header: Sequence[str] = ()
    text: str = ""
    chart: dict[str, Any] = field(default_factory=dict)


def _money(v: float | None) -> Value | Styled:
    return None if v is None else Styled(float(v), "money")


def _pct(v: float | None) -> Value | Styled:
    return None if v is None else Styled(float(v), "pct")


def _num(v: float | None, digits: int = 1) -> Value:
    return None if v is None else round(float(v), digits)


def _date(v: _dt.date | None) -> Value:
    return v


def _parts(d: Dashboard) -> list[_Part]:
    r, m, s, w = d.retention, d.this_month, d.surveys, d.week_over_week
    renewals: list[list[Value | Styled]] = [
        [b.window, b.count, _money(b.arr), b.at_risk, _money(b.at_risk_arr)] for b in d.renewals
    ]
    renewals.append(["Past due (not renewed)", d.renewals_past_due, _money(d.renewals_past_due_arr), None, None])
    weekly: list[list[Value | Styled]] = [
        ["Compared with", w.snapshot_as_of],
        ["Average health then", _num(w.average_health_then)],
        ["Average health change", _num(w.average_health_delta)],
    ]
    weekly += [[f"{t.tier}: accounts / ARR change", t.count_delta, _money(t.arr_delta)] for t in w.tiers]
    parts = [
        _Part(
            "Portfolio",
            [
                ["Live accounts", d.total_accounts],
                ["ARR", _money(d.total_arr)],
                ["Average health (0-100)", _num(d.average_health)],
                [f"At risk ({' / '.join(d.at_risk_tiers)})", d.at_risk_count],
                ["ARR at risk", _money(d.at_risk_arr)],
                ["Churned accounts (no MRR now)", d.churned_accounts],
                ["Health preset", d.preset],
            ],
        ),
        _Part(
            f"Portfolio by tier ({d.preset} preset)",
            [[t.tier, t.count, _money(t.arr), _pct(t.share_of_arr)] for t in d.by_tier],
            header=["Tier", "Accounts", "ARR", "Share of ARR"],
            chart={
                "name": "tiers",
                "kind": "bar",
                "title": "Accounts by tier",
                "cols": ("B",),
                "titles": ("Accounts",),
            },
        ),
        _Part(
            "Simple points tiers",
            [[t.tier, t.count, _money(t.arr), _pct(t.share_of_arr)] for t in d.by_simple_tier],
            header=["Tier", "Accounts", "ARR", "Share of ARR"],
        ),
        _Part(
            "Retention",
            [
                ["Month", r.period_month.strftime("%Y-%m") if r.period_month else None],
                ["GRR (month)", _pct(r.grr)],
                ["NRR (month)", _pct(r.nrr)],
                ["Logo churn (month)", _pct(r.logo_churn_rate)],
                ["12-month cohort NRR", _pct(r.cohort_nrr_12m)],
                ["12-month cohort GRR", _pct(r.cohort_grr_12m)],
            ],
            text="; ".join(r.notes),
        ),
        _Part(
            f"This month ({m.label})",
            [
                ["Churned", m.churned_count, _money(m.churned_mrr)],
                ["Contracted", m.contracted_count, _money(m.contracted_mrr)],
                ["Expanded", m.expanded_count, _money(m.expanded_mrr)],
                ["New", m.new_count, _money(m.new_mrr)],
            ],
            header=["Movement", "Accounts", "MRR"],
        ),
        _Part(
            f"Surveys ({s.start.isoformat()} to {s.end.isoformat()})",
            [
                ["NPS (-100..100)", _num(s.nps), s.nps_responses],
                ["CSAT (% satisfied)", _pct(None if s.csat is None else s.csat / 100.0), s.csat_responses],
                ["CES (mean effort)", _num(s.ces, 2), s.ces_responses],
            ],
            header=["Measure", "Value", "Responses"],
        ),
        _Part(
            "Renewals",
            renewals,
            header=["Due in", "Accounts", "ARR", "At risk", "ARR at risk"],
        ),
        _Part(
            "Week over week",
            weekly,
            text=w.note,
        ),
        _Part(
            "New at-risk accounts",
            [
                [a.account, a.tier_then, a.tier_now, _num(a.score_now), a.main_risk, _money(a.arr), a.csm]
                for a in w.new_reds
            ],
            header=["Account", "Tier before", "Tier now", "Health", "Main risk", "ARR", "CSM"],
        ),
        _Part(
            "Saved (no longer at risk)",
            [[a.account, a.tier_then, a.tier_now, _num(a.score_now), _money(a.arr), a.csm] for a in w.reds_saved],
            header=["Account", "Tier before", "Tier now", "Health", "ARR", "CSM"],
        ),
        _Part(
            "MRR movements by month",
            [
                [
                    x.month.strftime("%Y-%m"),
                    _money(x.start_mrr),
                    _money(x.new),
                    _money(x.expansion),
                    _money(-x.contraction),
                    _money(-x.churned),
                    _money(x.reactivation),
                    _money(x.end_mrr),
                ]
                for x in d.mrr_series
            ],
            header=["Month", "Start MRR", "New", "Expansion", "Contraction", "Churned", "Reactivation", "End MRR"],
            chart={
                "name": "movements",
                "kind": "bar",
                "title": "MRR movements",
                "cols": ("C", "D", "E", "F", "G"),
                "titles": ("New", "Expansion", "Contraction", "Churned", "Reactivation"),
            },
        ),
        _Part(
            "NRR trend (monthly)",
            [[x.month.strftime("%Y-%m"), _pct(x.nrr), _pct(x.grr), _pct(x.logo_churn_rate)] for x in d.nrr_trend],
            header=["Month", "NRR", "GRR", "Logo churn"],
            chart={
                "name": "nrr",
                "kind": "line",
                "title": "NRR and GRR by month",
                "cols": ("B", "C"),
                "titles": ("NRR", "GRR"),
                "y_format": "0%",
            },
        ),
    ]
    if d.notes:
        parts.append(_Part("Notes", [[n] for n in d.notes]))
    return parts


def _plain(value: Value | Styled) -> Value:
    """A printable value: percentages as ``12.3%`` text, everything else as it is."""
    if isinstance(value, Styled):
        inner = value.value
        if isinstance(inner, Formula):
            return inner.text
        if value.style == "pct" and isinstance(inner, (int, float)):
            return f"{100 * inner:.1f}%"
        return inner
    return value


def dashboard_sections(d: Dashboard) -> list[Section]:
    """The dashboard as printable sections (plain values), in sheet order."""
    return [
        Section(p.title, rows=[[_plain(v) for v in row] for row in p.rows], header=p.header, text=p.text)
        for p in _parts(d)
    ]


def write_dashboard(writer: SheetWriter, d: Dashboard, *, live: bool = False) -> None:
    """Lay the dashboard out on ``writer``'s sheet: tables down columns A-H, charts to the right (column J).

    ``live`` (the Excel flavour) adds the latest month's NRR, GRR and quick ratio as ``=NRR``/``=GRR``/``=QUICKRATIO``
    formulas over the movements table's cells, computed by Excel through xlwings.
    """
    writer.title(
        "Customer success dashboard",
        f"As of {d.as_of.isoformat()} ({d.week}); last refreshed {d.refreshed_at:%Y-%m-%d %H:%M}. "
        f"Money in {d.currency}: ARR per year, MRR per month.",
    )
    chart_row = 3
    movements_last = 0
    for part in _parts(d):
        writer.line([part.title], "section")
        if part.text:
            writer.line([part.text], "note")
        if part.header:
            writer.line(list(part.header), "header")
        first = writer.row
        for row in part.rows:
            writer.line(row)
        last = writer.row - 1
        if part.title == "MRR movements by month":
            movements_last = last if last >= first else 0
        if not part.rows:
            writer.line(["(none)"], "note")
        writer.skip()
        spec = part.chart
        if spec and last >= first:
            writer.charts.append(
                Chart(
                    writer.sheet,
                    str(spec["name"]),
                    f"J{chart_row}",
                    spec["kind"],
                    str(spec["title"]),
                    f"A{first}:A{last}",
                    tuple(f"{c}{first}:{c}{last}" for c in spec["cols"]),
                    tuple(spec["titles"]),
                    y_format=spec.get("y_format"),
                )
            )
            chart_row += 17
    if live and movements_last:
        r = movements_last  # columns: A month, B start, C new, D expansion, E -contraction, F -churned, G reactivation
        writer.line(["Live formulas (computed by Excel with csxl's functions, latest month of the table)"], "section")
        writer.line(["NRR (=NRR)", Styled(Formula(f"=NRR(B{r},D{r},-E{r},-F{r})"), "pct")])
        writer.line(["GRR (=GRR)", Styled(Formula(f"=GRR(B{r},-E{r},-F{r})"), "pct")])
        writer.line(
            ["Quick ratio (=QUICKRATIO)", Styled(Formula(f"=QUICKRATIO(C{r},D{r},-E{r},-F{r},G{r})"), "number")]
        )


def dashboard_plan(
    portfolio: Portfolio,
    refreshed_at: _dt.datetime | None = None,
    *,
    live: bool = False,
    dash: Dashboard | None = None,
) -> Plan:
    """The whole Dashboard sheet for ``portfolio`` (replaced at each refresh); ``dash`` when already computed."""
    dash = dash or weekly_dashboard(portfolio, refreshed_at=refreshed_at)
    writer = SheetWriter(
        layout.SHEET_DASHBOARD,
        widths={"A": 36.0, **{c: 14.0 for c in "BCDEFGH"}},
        tab_color="1F4E79",
    )
    write_dashboard(writer, dash, live=live)
    return writer.plan()
