"""The one refresh pipeline: workbook data -> core -> a Plan of csxl-owned writes -> an adapter applies it.

``csxl refresh`` (file adapter: :func:`csxl.book.xlsx.apply_plan`) and the Excel Refresh button (xlwings adapter in
:mod:`csxl.excel`) both call :func:`plan_refresh`; neither has a copy of the logic.

What a refresh writes (and nothing else):

* **Accounts**: the owned columns (weighted health score, tier, main risk, the five dimension scores), one value per
  data row; a row that failed validation gets blanks (``csxl validate`` lists why).
* **History**: this as-of date's snapshot merged in (one snapshot per as-of date; refreshing twice changes nothing),
  and the table resized to fit.
* **Cohorts**: the logo and revenue retention grids (blank where a cohort has not reached that age).
* **Dashboard**: the weekly dashboard, its charts, and when it was refreshed.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csxl.book import layout
from csxl.book.actions import actions_plan
from csxl.book.archive import HistoryArchive, archive_path
from csxl.book.dashboard_sheet import dashboard_plan
from csxl.book.formulas import calculated_column_formulas, simple_points_formula_rows
from csxl.book.layout import ACCOUNTS, HISTORY, MRR, SHEET_LIVE, SURVEYS, TablePlace, TableSpec
from csxl.book.live import (
    is_excel_flavour,
    live_formulas,
    live_health_score,
    live_health_tier,
    live_sheet,
    values_sheet,
)
from csxl.book.model_sheet import StoredModel, churn_plan
from csxl.book.plan import Block, Cell, Clear, Formula, Op, Plan, RenameSheet, ResizeTable, Style
from csxl.book.read import BookData, read_book
from csxl.book.render import SheetWriter, Styled
from csxl.book.safety import workbook_lock
from csxl.book.xlsx import apply_plan
from csxl.churn_frame import account_features
from csxl.cohorts import cohort_sizes, cohort_table
from csxl.dashboard import history_snapshot, merge_history
from csxl.errors import RowIssue
from csxl.history import HISTORY_COLUMNS, split_history, thin_history
from csxl.monthly import monthly_report
from csxl.plays.base import Section
from csxl.portfolio import Portfolio

__all__ = [
    "RefreshResult",
    "cohorts_plan",
    "plan_refresh",
    "refresh",
    "refreshed_at",
]


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did: where, as of when, how many accounts were scored, and every input problem left out."""

    path: Path
    as_of: _dt.date
    accounts: int
    scored: int
    history_rows: int
    refreshed_at: _dt.datetime
    issues: tuple[RowIssue, ...]


def refreshed_at() -> _dt.datetime:
    """Now, to the second, in local time; ``SOURCE_DATE_EPOCH`` (seconds, the reproducible-builds convention) wins,
    so ``make workbooks`` rebuilds identical files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc).replace(tzinfo=None)
    return _dt.datetime.now().replace(microsecond=0)


def _plain(value: Any) -> Cell:
    """A pandas/numpy value as a plain cell value (NaN/NaT/None -> empty)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, (_dt.date, str, bool)):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, (int, bool)):
        return value
    return str(value)


def _column_blocks(
    place: TablePlace,
    top: int,
    keys: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    looks: Sequence[Style] | None = None,
) -> list[Block]:
    """Row-major values of ``keys`` written under each key's heading: one block per run of adjacent columns;
    ``looks``: one style per key for every row (else each cell keeps its look)."""
    ops: list[Block] = []
    at = [place.index(key) for key in keys]
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or at[i] != at[i - 1] + 1:
            values = [list(row[start:i]) for row in rows]
            styles = [list(looks[start:i])] * len(values) if looks is not None else None
            ops.append(Block(place.spec.sheet, top, at[start], values, styles))
            start = i
    return ops


def _added_headers(place: TablePlace, read: TablePlace) -> list[Block]:
    """Headings of the csxl columns the sheet lacked, written after its last heading (``place``: ``read`` completed)."""
    added = [c for c in place.spec.columns if c.key in place.columns and c.key not in read.columns]
    return [Block(place.spec.sheet, place.spec.header_row, place.index(c.key), [[c.header]], "header") for c in added]


def _table_ops(
    place: TablePlace, read: TablePlace, bottom: int, live: dict[str, str] | None = None
) -> list[Block | ResizeTable]:
    """Re-created headings, then the table stretched to ``bottom``: pasted rows join it and take its first look;
    Accounts' formula columns carry their calculated-column formulas (Excel fills rows added before a refresh), the
    live health columns theirs (``live``: key -> formula; without it, none: those columns hold values)."""
    spec = place.spec
    formulas: tuple[tuple[str, str], ...] = ()
    if spec is ACCOUNTS:
        given = live or {}
        health = {place.headers[place.index(k) - 1]: given.get(k, "=")[1:] for k in ("health_score", "health_tier")}
        formulas = (*calculated_column_formulas(place).items(), *health.items())
    return [
        *_added_headers(place, read),
        ResizeTable(
            spec.sheet, spec.name, place.ref(bottom), place.headers, looks_from=spec.first_data_row, formulas=formulas
        ),
    ]


def _accounts(
    portfolio: Portfolio, read: TablePlace, live: bool = False, churn: pd.DataFrame | None = None
) -> list[Op]:
    """Accounts: owned values and formula columns under their headings, csxl columns re-created, the table grown."""
    place = read.completed()
    first, last = ACCOUNTS.first_data_row, read.last_row
    count = max(0, last - first + 1)
    formulas = (
        {"health_score": live_health_score(place, count), "health_tier": live_health_tier(place, count)}
        if live
        else None
    )
    ops: list[Op] = [*_table_ops(place, read, last, formulas), *(live_sheet(place, count) if live else ())]
    if last < first:
        return ops
    owned = ACCOUNTS.role("owned")
    source = {
        c.key: (c.key[: -len("_score")] if c.key.endswith("_score") and c.key != "health_score" else c.key)
        for c in owned
    }
    frame = portfolio.scored.reindex(range(first, last + 1))
    ranked = churn if churn is not None else pd.DataFrame(columns=["account", "probability", "tier", "drivers"])
    by_name = ranked.drop_duplicates("account").set_index("account")
    names = portfolio.accounts["account"].reindex(frame.index).astype(object)
    for key, column in (("churn_probability", "probability"), ("churn_tier", "tier"), ("churn_drivers", "drivers")):
        frame[key] = names.map(by_name[column])  # blank without a stored model, and for churned accounts
    frame["nps_survey"] = portfolio.derived.nps["score"].reindex(frame.index)  # the answer the scores used
    rows: list[list[Cell]] = [
        [_plain(v) for v in values]
        for values in frame[[source[c.key] for c in owned]].itertuples(index=False, name=None)
    ]
    keys = [c.key for c in owned]
    if formulas is not None:  # one array call per column on the Live scores sheet; each row reads its element
        score_at, tier_at = keys.index("health_score"), keys.index("health_tier")
        score, tier = Formula(formulas["health_score"]), Formula(formulas["health_tier"])
        for row in rows:
            row[score_at], row[tier_at] = score, tier
    formula_keys = [c.key for c in ACCOUNTS.role("formula")]
    texts = simple_points_formula_rows(range(first, last + 1), place)
    columns = [[Formula(text) for text in texts[key]] for key in formula_keys]
    for i, row in enumerate(rows):  # one block per run of adjacent columns: formulas then owned values, per row
        row[:0] = [column[i] for column in columns]
    ops.extend(_column_blocks(place, first, [*formula_keys, *keys], rows))
    return ops


def _input_table(read: TablePlace) -> list[Op]:
    """MRR and Surveys: the table stretched over pasted rows, which take the first row's look."""
    return [*_table_ops(read, read, read.last_row)]


#: The look of each Health history column (the template's formats for its kinds).
_HISTORY_LOOKS: dict[str, Style] = {
    "as_of": "date",
    "account": "text",
    "health_score": "number",
    "health_tier": "text",
    "simple_points": "int",
    "arr": "money",
}


def _unchanged_prefix(old: pd.DataFrame, new: pd.DataFrame) -> int:
    """How many leading rows of ``new`` equal those of ``old`` (same values, blanks equal): rows not to rewrite."""
    n = min(len(old), len(new))
    same = np.ones(n, dtype=bool)
    for column in HISTORY_COLUMNS:
        a, b = old[column].iloc[:n], new[column].iloc[:n]
        if a.dtype == b.dtype and a.dtype.kind in "fM":  # dates and numbers compared natively (no Timestamps)
            av, bv = a.to_numpy(), b.to_numpy()
        else:
            av, bv = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
        same &= np.asarray((av == bv) | (pd.isna(av) & pd.isna(bv)), dtype=bool)
    changed = np.flatnonzero(~same)
    return int(changed[0]) if changed.size else n


def _history(
    portfolio: Portfolio,
    read: TablePlace,
    merged: pd.DataFrame,
    rewrite: bool = False,
    archive: HistoryArchive | None = None,
) -> tuple[list[Op], int]:
    """History: this snapshot merged in (``merged``: :func:`csxl.dashboard.merge_history` of it), the retention rule
    applied (:func:`csxl.history.thin_history`), every column
    under its heading, stale rows cleared, the table resized.

    Only rows that change are written: the new snapshot is appended after the unchanged ones, so a refresh costs the
    same with two years of History as with one week; the table is rewritten whole when the retention rule drops a
    month's snapshots (the first refresh of a month), when the sheet's rows do not map one to one to the History read
    (blank or bad rows in it), or when ``rewrite`` (a book migrated from an older csxl: every row gets its look).

    ``archive``: the History archive beside the workbook (the portfolio's History holds its rows first): the sheet
    keeps the recent months (:func:`csxl.history.split_history`), the older snapshots are staged for the archive."""
    place = read.completed()
    merged = thin_history(merged, portfolio.as_of)
    first = HISTORY.first_data_row
    old = portfolio.history
    if archive is not None:
        merged, older = split_history(merged, portfolio.as_of)
        archive.stage(older, merged)
        old = old.iloc[archive.used :].reset_index(drop=True)
    mapped = len(old) == max(read.last_row - first + 1, 0) and place.columns == read.columns
    keep = 0 if rewrite or not mapped else _unchanged_prefix(old, merged)
    rows: list[list[Cell]] = [
        [_plain(v) for v in values]
        for values in merged[list(HISTORY_COLUMNS)].iloc[keep:].itertuples(index=False, name=None)
    ]
    ops: list[Op] = [*_added_headers(place, read)]
    if rows:  # every row written in its column's look
        looks = [_HISTORY_LOOKS[key] for key in HISTORY_COLUMNS]
        ops.extend(_column_blocks(place, first + keep, list(HISTORY_COLUMNS), rows, looks))
    stale_from = first + len(merged)
    if read.last_row >= stale_from:
        for key in HISTORY_COLUMNS:
            at = place.index(key)
            ops.append(Clear(HISTORY.sheet, stale_from, at, read.last_row, at))
    bottom = first + len(merged) - 1
    ops.append(ResizeTable(HISTORY.sheet, HISTORY.name, place.ref(bottom), place.headers))
    return ops, len(merged)


def _grid_section(grid: pd.DataFrame, sizes: pd.DataFrame, size_col: str, size_label: str) -> Section:
    months = [int(m) for m in grid.columns]
    header = ["Cohort", size_label, *[f"M{m}" for m in months]]
    rows: list[list[Any]] = []
    for cohort, values in zip(grid.index, grid.to_numpy(), strict=True):
        start = pd.Timestamp(cohort)
        size = _plain(sizes[size_col].get(cohort))
        cells: list[Any] = [Styled(float(v), "pct") if v == v else None for v in values]
        shown = Styled(size, "money" if size_col == "mrr" else "int") if isinstance(size, (int, float)) else size
        rows.append([start.strftime("%Y-%m"), shown, *cells])
    return Section("", rows=rows, header=header)


def cohorts_plan(portfolio: Portfolio) -> Plan:
    """The Cohorts sheet: logo then revenue retention by start month (share of month 0; blank = not reached yet)."""
    writer = SheetWriter(layout.SHEET_COHORTS, widths={"A": 12.0, "B": 12.0})
    as_of = portfolio.as_of_ts
    writer.title(
        "Cohorts",
        f"Retention by start month, as of {portfolio.as_of.isoformat()}. Month 0 = 100 %. Revenue retention is net "
        "(includes expansion). The first cohort holds every account already paying in the first month of data.",
    )
    cut, reason = portfolio.mrr_cut
    if cut is None:
        writer.line([reason], "note")
        return writer.plan()
    if cut < portfolio.as_of_month:  # a refresh early in a month whose MRR is not in yet
        as_of = cut.to_period("M").to_timestamp(how="end").normalize()
        writer.line([reason], "note")
    sizes = cohort_sizes(portfolio.mrr_rows, as_of)
    for title, basis, size_col, label in (
        ("Logo retention (share of customers still paying)", "logo", "customers", "Customers"),
        ("Revenue retention (net MRR as a share of month 0)", "revenue", "mrr", "Start MRR"),
    ):
        grid = cohort_table(portfolio.mrr_rows, basis, as_of)
        section = _grid_section(grid, sizes, size_col, label)
        writer.line([title], "section")
        writer.line(list(section.header), "header")
        for row in section.rows:
            writer.line(row)
        writer.skip()
    return writer.plan()


def _renames(sheet_names: Sequence[str]) -> list[RenameSheet]:
    """A sheet still called by an older csxl name, renamed to today's (when today's name is not taken)."""
    folded = {name.casefold(): name for name in sheet_names}
    out: list[RenameSheet] = []
    for name, olds in layout.OLD_SHEET_NAMES.items():
        if name.casefold() in folded:
            continue
        old = next((folded[o.casefold()] for o in olds if o.casefold() in folded), None)
        if old is not None:
            out.append(RenameSheet(old, name))
    return out


def plan_refresh(
    places: Mapping[str, TablePlace],
    portfolio: Portfolio,
    *,
    refreshed_at: _dt.datetime,
    live: bool = False,
    sheet_names: Sequence[str] = (),
    archive: HistoryArchive | None = None,
    rewrite_history: bool = False,
    stored: StoredModel | None = None,
) -> tuple[Plan, int]:
    """Every csxl-owned write for this portfolio. ``places``: sheet -> where its table's columns are (as read; a
    table not given is where the layout puts it, empty).

    ``live`` (the Excel flavour): the Accounts health score and tier read the Live scores sheet's ``=HEALTHSCORE``/
    ``=HEALTHTIER`` array formulas over the refreshed dimension scores and the Settings cells (:mod:`csxl.book.live`),
    computed by Excel, instead of values; the Dashboard adds its retention ratios as ``=NRR``/``=GRR``/
    ``=QUICKRATIO`` formulas. ``sheet_names``: the workbook's sheets;
    one with an older csxl name (:data:`csxl.book.layout.OLD_SHEET_NAMES`) is renamed first. ``archive``: the History
    archive beside the workbook, whose rows the portfolio's History starts with; the snapshots older than the sheet's
    window are staged on it (saved by the caller before the workbook). ``rewrite_history``: the portfolio's History
    holds rows the sheet does not (backfilled snapshots): the table is rewritten whole. ``stored``: the churn model
    the Model sheet holds (:func:`csxl.book.model_sheet.read_model`): the Accounts churn columns and the Churn sheet
    are written from it (blank columns without one). Returns the plan and the number of History rows the sheet holds
    after the merge.
    """

    def place(spec: TableSpec) -> TablePlace:
        return places.get(spec.sheet) or TablePlace.default(spec)

    plan = Plan()
    renames = _renames(sheet_names)
    plan.add(*renames)  # first: every later op names the sheets by today's names
    churn_ops, ranked = _churn(stored, portfolio, live)
    plan.add(*_accounts(portfolio, place(ACCOUNTS), live, ranked))
    plan.add(*_input_table(place(MRR)), *_input_table(place(SURVEYS)))
    rewrite = bool(renames) or rewrite_history
    merged = merge_history(portfolio.history, history_snapshot(portfolio), as_of=portfolio.as_of)
    history_ops, history_rows = _history(portfolio, place(HISTORY), merged, rewrite=rewrite, archive=archive)
    plan.add(*history_ops)
    plan.ops.extend(cohorts_plan(portfolio).ops)
    # the monthly block reads the History as this refresh leaves it: a second refresh changes nothing
    monthly = monthly_report(portfolio, history=merged)
    plan.ops.extend(dashboard_plan(portfolio, refreshed_at, live=live, monthly=monthly).ops)
    plan.ops.extend(churn_ops)
    plan.ops.extend(actions_plan().ops)  # the Lite buttons: a deleted one comes back, as a deleted column does
    if not live and is_excel_flavour(sheet_names) and any(n.casefold() == SHEET_LIVE.casefold() for n in sheet_names):
        plan.add(*values_sheet())  # refreshed on a Mac: the Live scores sheet says it is not used
    return plan, history_rows


def _churn(stored: StoredModel | None, portfolio: Portfolio, live: bool) -> tuple[list[Op], pd.DataFrame | None]:
    """The Churn sheet and the ranking behind the Accounts churn columns, from the stored model; nothing without
    one. (A model whose inputs the workbook cannot give was refused when read: :func:`csxl.book.read.read_book`.)"""
    if stored is None:
        return [], None
    plan, ranked = churn_plan(stored, account_features(portfolio), portfolio.as_of, live=live)
    return list(plan.ops), ranked


def refresh(
    path: str | Path,
    *,
    as_of: _dt.date | None = None,
    out: str | Path | None = None,
    force: bool = False,
    stamp_at: _dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    backfill: Callable[[BookData, Portfolio], pd.DataFrame] | None = None,
) -> RefreshResult:
    """Refresh a workbook file in place (or into ``out``): read, compute, write the csxl-owned places atomically.

    ``backfill``: History snapshots for dates the History lacks, computed from the book as read under the lock and
    its portfolio (``csxl.usecases.backfill_history``); a date the History already has keeps its snapshot."""

    say = progress or (lambda _message: None)
    with workbook_lock(path):  # read, compute and write as one turn: a concurrent run waits, no snapshot is lost
        say(f"reading {path}")
        book = read_book(path)
        archive = book.archive if book.archive is not None else HistoryArchive(path)
        book = replace(book, archive=archive)  # the portfolio's History starts with the archive's snapshots
        portfolio = book.to_portfolio(as_of)
        added = backfill(book, portfolio) if backfill is not None else None
        if added is not None and len(added):
            say(f"adding {added['as_of'].nunique()} backfilled History snapshots")
            portfolio = replace(portfolio, history=merge_history(added, portfolio.history))
        say(f"scoring {len(portfolio.accounts):,} accounts and {len(portfolio.mrr):,} MRR rows")
        stamp = stamp_at or refreshed_at()
        live = live_formulas(book.sheet_names)
        plan, history_rows = plan_refresh(
            book.places, portfolio, refreshed_at=stamp, live=live, sheet_names=book.sheet_names, archive=archive,
            rewrite_history=added is not None and len(added) > 0, stored=book.churn_model,
        )  # fmt: skip
        if archive.save(out) is not None:  # first: a run stopped before the workbook is written loses no snapshot
            say(f"archived older History snapshots in {archive_path(out or path)}")
        say("writing the workbook")
        target = apply_plan(path, plan, out=out, force=force, currency=portfolio.settings.currency)
    return RefreshResult(
        path=Path(target),
        as_of=portfolio.as_of,
        accounts=len(book.tables[ACCOUNTS.sheet]) if ACCOUNTS.sheet in book.tables else 0,
        scored=int(portfolio.scored["health_score"].notna().sum()),
        history_rows=history_rows,
        refreshed_at=stamp,
        issues=portfolio.issues,
    )
