"""The Dashboard sheet: the dashboard's sections (:func:`csxl.dashboard.dashboard_sections`) laid out as titled
tables with three charts.

Pure (Plan operations only). ``csxl report`` and ``csxl portfolio`` print the same sections, so the sheet and the
terminal never disagree. Only the sheet adds the "last refreshed" stamp (the dashboard itself reads no clock) and,
in the Excel flavour, live ``=NRR``/``=GRR``/``=QUICKRATIO`` formulas.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from csxl.book import layout
from csxl.book.plan import Chart, Formula, Plan
from csxl.book.refs import column_letters
from csxl.book.render import SheetWriter, Styled
from csxl.book.xlsx.styles import TIER_FILLS
from csxl.dashboard import Dashboard, dashboard_sections, weekly_dashboard
from csxl.dashboard.view import MOVEMENTS_TITLE
from csxl.monthly import MonthlyReport, monthly_report, monthly_sections
from csxl.plays.measures import spec_measures
from csxl.plays.onboarding_metrics import onboarding_metrics
from csxl.portfolio import Portfolio
from csxl.sections import Section

__all__ = ["dashboard_plan", "write_dashboard"]

_CHART_COLUMN = "J"
_CHART_ROWS = 17


def _chart(writer: SheetWriter, section: Section, first: int, last: int, row: int) -> None:
    spec = section.chart
    assert spec is not None
    col = [column_letters(i + 1) for i in spec.series]
    writer.charts.append(
        Chart(
            writer.sheet,
            spec.name,
            f"{_CHART_COLUMN}{row}",
            spec.kind,  # type: ignore[arg-type]
            spec.title,
            f"A{first}:A{last}",
            tuple(f"{c}{first}:{c}{last}" for c in col),
            spec.titles,
            y_format=spec.y_format,
            colors=tuple(TIER_FILLS[c] for c in spec.colours),
        )
    )


def _live_formulas(writer: SheetWriter, r: int) -> None:
    """The latest month's NRR, GRR and quick ratio as formulas over row ``r`` of the movements table
    (A month, B start, C new, D expansion, E -contraction, F -churned, G reactivation)."""
    writer.line(["Live formulas (computed by Excel with csxl's functions, latest month of the table)"], "section")
    writer.line(["NRR (=NRR)", Styled(Formula(f"=NRR(B{r},D{r},-E{r},-F{r})"), "pct")])
    writer.line(["GRR (=GRR)", Styled(Formula(f"=GRR(B{r},-E{r},-F{r})"), "pct")])
    writer.line(["Quick ratio (=QUICKRATIO)", Styled(Formula(f"=QUICKRATIO(C{r},D{r},-E{r},-F{r},G{r})"), "number")])


def write_dashboard(
    writer: SheetWriter,
    d: Dashboard,
    refreshed_at: _dt.datetime,
    *,
    live: bool = False,
    monthly: MonthlyReport | None = None,
    extra: Sequence[Section] = (),
) -> None:
    """Lay the dashboard out on ``writer``'s sheet: tables down columns A-H, charts to the right (column J); then
    ``extra`` sections (the onboarding metrics, the spec's measures) and, when given, the monthly block
    (:func:`csxl.monthly.monthly_sections`)."""
    writer.title(
        "Customer success dashboard",
        f"As of {d.as_of.isoformat()} ({d.week}); last refreshed {refreshed_at:%Y-%m-%d %H:%M}. "
        f"Money in {d.currency}: ARR per year, MRR per month.",
    )
    chart_row = 3
    movements_last = 0
    for section in [*dashboard_sections(d), *extra, *(monthly_sections(monthly) if monthly is not None else [])]:
        writer.line([section.title], "section")
        if section.text:
            writer.line([section.text], "note")
        if section.header:
            writer.line(list(section.header), "header")
        first = writer.row
        for row in section.rows:
            writer.line(list(row))
        last = writer.row - 1
        if section.title == MOVEMENTS_TITLE:
            movements_last = last if last >= first else 0
        if not section.rows:
            writer.line([section.empty], "note")
        writer.skip()
        if section.chart is not None and last >= first:
            _chart(writer, section, first, last, chart_row)
            chart_row += _CHART_ROWS
    if live and movements_last:
        _live_formulas(writer, movements_last)


def dashboard_plan(
    portfolio: Portfolio,
    refreshed_at: _dt.datetime,
    *,
    live: bool = False,
    dash: Dashboard | None = None,
    monthly: MonthlyReport | None = None,
) -> Plan:
    """The whole Dashboard sheet for ``portfolio`` (replaced at each refresh), its monthly block included;
    ``dash`` and ``monthly`` when already computed (a refresh gives the monthly report of the History it writes)."""
    dash = dash or weekly_dashboard(portfolio)
    writer = SheetWriter(
        layout.SHEET_DASHBOARD,
        widths={"A": 36.0, **{c: 14.0 for c in "BCDEFGH"}},
        tab_color="1F4E79",
    )
    # the spec's onboarding targets and measures ("not derivable" shown as such): csxl onboarding-metrics, measures
    extra = [*onboarding_metrics(portfolio).sections(), *spec_measures(portfolio).sections()]
    write_dashboard(writer, dash, refreshed_at, live=live, monthly=monthly or monthly_report(portfolio), extra=extra)
    return writer.plan()
