"""The churn model in the workbook: the Model sheet (written by ``csxl churn --apply``) and the Churn sheet (written by
each refresh while a model is stored).

**Model** (:func:`model_plan`): when and on what the model was fitted, its backtest beside the baselines, the health
score's own backtest, the odds ratios, the reliability table with its chart, and the **stored model**: the table of
:func:`csxl.churn_table.model_table` under the headings :data:`MODEL_HEADINGS`. Refresh, ``csxl churn`` and
``=CHURNPROB`` read that table (:func:`read_model`, found by its headings wherever it is on the sheet), so a founder
who edits a coefficient changes every score, and a damaged table is reported cell by cell, never half used.

**Churn** (:func:`churn_plan`): the live accounts ranked by expected ARR loss, each row with the model's inputs as of
the refresh and its probability as a formula over them: the plain-cell logistic formula
(:func:`csxl.book.churn_formula.churn_formula`, no Python) in a plain workbook, ``=CHURNPROB`` of the row, its
headings and the stored model in the Excel flavour. Change an input to see what the model says.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from csxl.book import layout
from csxl.book.churn_formula import churn_formula, churn_tier_formula
from csxl.book.plan import ArrayFormula, Chart, Formula, Plan
from csxl.book.render import SheetWriter, Styled
from csxl.churn import ChurnModel
from csxl.churn_frame import FEATURES, HealthBacktest, rank_churn
from csxl.churn_table import MODEL_COLUMNS, model_from_table, model_table
from csxl.errors import RowIssue, TableError
from csxl.sections import Cell, Section

__all__ = ["CHURN_HEADINGS", "MODEL_HEADINGS", "StoredModel", "churn_plan", "model_plan", "read_model", "stored_model"]

#: The stored model's headings, one per :data:`csxl.churn_table.MODEL_COLUMNS`.
MODEL_HEADINGS: dict[str, str] = {
    "input": "Input", "kind": "Kind", "level": "Level", "fill": "Fill for blanks", "mean": "Mean", "scale": "Scale",
    "coefficient": "Coefficient",
}  # fmt: skip
#: The Churn sheet's leading headings (the model's inputs follow, named as the model names them).
CHURN_HEADINGS: tuple[str, ...] = ("Account", "ARR", "Churn probability", "Churn tier", "Expected ARR loss", "Drivers")
#: The Churn sheet's heading row (its data starts on the next row).
CHURN_HEADER_ROW = 4

_STORED = "Stored model (read by csxl refresh and =CHURNPROB; edit with care)"


def _num(value: Any, style: str = "fine") -> Styled | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return Styled(float(value), style)


_MEASURES = (("ROC AUC", "roc_auc", "fine"), ("PR AUC", "pr_auc", "fine"), ("Lift, riskiest 10 %", "lift_10", "number"),
             ("Lift, riskiest 20 %", "lift_20", "number"))  # fmt: skip


def _metrics_section(model: ChurnModel) -> Section:
    metrics = model.metrics
    if metrics is None:
        return Section("How good it is", text="No backtest: the held-out rows hold a single outcome.")
    names = list(metrics.baselines)
    rows: list[list[Cell]] = []
    for label, key, style in _MEASURES:
        compared = [_num(metrics.baselines[n].get(key), style) for n in names]
        rows.append([label, _num(getattr(metrics, key), style), *compared])
    rows.append(["Brier score (lower is better)", _num(metrics.brier), *([None] * len(names))])
    text = (
        f"Backtest ({metrics.method}) on {metrics.rows:,} held-out account-months, {metrics.events:,} churned "
        f"(base rate {metrics.base_rate:.1%}). An AUC near 0.5 or a lift near 1 ranks no better than chance; below "
        "the health score's AUC, prefer the health score."
    )
    return Section("How good it is", text=text, header=("Measure", "Churn model", *names), rows=rows)


_RATES = ("rate", "low", "high")


def _health_section(health: HealthBacktest) -> Section:
    if not health.rows:
        return Section("Your health score", text="No scored History snapshot has had its 90 days yet.")
    auc = f"ROC AUC {health.roc_auc:.2f}" if health.roc_auc is not None else "no churn among them"
    text = f"{health.rows:,} account-snapshots on {health.snapshots} dates, {health.events} churned in 90 days: {auc}."
    records: list[dict[Hashable, Any]] = health.by_tier.to_dict("records")
    rows: list[list[Cell]] = [
        [
            str(r["tier"]),
            int(r["accounts"]),
            int(r["churned"]),
            *(Styled(float(r[k]), "pct") for k in ("rate", "low", "high")),
        ]
        for r in records
    ]
    header = ("Tier", "Snapshots", "Churned", "Churn rate", "95 % low", "95 % high")
    return Section("Your health score", text=text, header=header, rows=rows)


def model_plan(
    model: ChurnModel, health: HealthBacktest, as_of: _dt.date, snapshots: int, window: tuple[_dt.date, _dt.date]
) -> Plan:
    """The Model sheet, replaced whole (see the module); ``window``: the first and last month end learned from."""
    widths = {"A": 30.0, "B": 14.0, "C": 16.0, "D": 14.0, "E": 14.0, "F": 12.0, "G": 14.0}
    writer = SheetWriter(layout.SHEET_MODEL, after=layout.SHEET_DASHBOARD, widths=widths)
    writer.title(
        "Churn model: probability of churn in the next 90 days",
        f"csxl churn --apply, as of {as_of.isoformat()}: fitted on {model.rows:,} account-months of {snapshots} "
        f"past month ends ({window[0].isoformat()} to {window[1].isoformat()} with a 90-day outcome), "
        f"{model.events:,} churned within 90 days",
    )
    writer.section(_metrics_section(model))
    writer.section(_health_section(health))
    odds: dict[Hashable, dict[Hashable, Any]] = model.odds_ratios().to_dict("index")
    odds_rows: list[list[Cell]] = [[str(k), _num(v["coefficient"]), _num(v["odds_ratio"])] for k, v in odds.items()]
    writer.section(Section("What moves the risk (odds ratios)",
        text="Odds ratio per standard deviation (numbers) or for the level (categories): above 1 raises the risk.",
        header=("Model input", "Coefficient", "Odds ratio"), rows=odds_rows))  # fmt: skip
    if model.unused:
        writer.line([f"Not learned from (blank in every past month): {', '.join(model.unused)}"], "note")
        writer.skip()
    if model.metrics is not None:
        deciles: list[dict[Hashable, Any]] = model.metrics.reliability.to_dict("records")
        rows: list[list[Cell]] = [[i + 1, Styled(float(r["predicted"]), "pct"), Styled(float(r["observed"]), "pct"),
                                   int(r["rows"])] for i, r in enumerate(deciles)]  # fmt: skip
        first, last = writer.section(Section("Reliability (held-out rows by decile of predicted risk)",
            header=("Decile", "Mean predicted", "Observed churn rate", "Rows"), rows=rows))  # fmt: skip
        if last >= first:
            writer.charts.append(Chart(layout.SHEET_MODEL, "reliability", "I3", "line",
                                       "Predicted against observed churn, by decile", f"A{first}:A{last}",
                                       (f"B{first}:B{last}", f"C{first}:C{last}"), ("Mean predicted", "Observed"),
                                       y_format="0%"))  # fmt: skip
    writer.line([_STORED], "section")
    writer.line([MODEL_HEADINGS[c] for c in MODEL_COLUMNS], "header")
    stored: list[dict[Hashable, Any]] = model_table(model).to_dict("records")
    for r in stored:
        text = [None if pd.isna(r[k]) else str(r[k]) for k in ("input", "kind", "level")]
        writer.line([*text, *(_num(r[k]) for k in ("fill", "mean", "scale", "coefficient"))])
    return writer.plan()


@dataclass(frozen=True)
class StoredModel:
    """The model stored on a Model sheet and where its table is (``'Model'!$A$40:$G$75``, headings included)."""

    model: ChurnModel
    ref: str


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip().casefold()


def read_model(grid: Sequence[Sequence[Any]] | None, sheet: str = layout.SHEET_MODEL) -> StoredModel | None:
    """The stored model of a Model sheet (its rows from A1), found by :data:`MODEL_HEADINGS` wherever they are;
    ``None`` when the grid has no such table. A table with bad cells raises :class:`TableError` naming each one."""
    if not grid:
        return None
    wanted = {heading.casefold(): key for key, heading in MODEL_HEADINGS.items()}
    for r, row in enumerate(grid):
        found = {wanted[_text(v)]: c for c, v in enumerate(row) if _text(v) in wanted}
        if len(found) < len(MODEL_COLUMNS):
            continue
        data: dict[str, list[Any]] = {key: [] for key in MODEL_COLUMNS}
        rows: list[int] = []
        for at, below in enumerate(grid[r + 1 :], start=r + 2):
            cells = [below[found[key]] if found[key] < len(below) else None for key in MODEL_COLUMNS]
            if all(v is None or str(v).strip() == "" for v in cells):
                break
            for key, value in zip(MODEL_COLUMNS, cells, strict=True):
                data[key].append(value)
            rows.append(at)
        model = model_from_table(pd.DataFrame(data), sheet=sheet, rows=rows)
        left, right = min(found.values()) + 1, max(found.values()) + 1
        bottom = rows[-1] if rows else r + 1
        name = sheet.replace("'", "''")
        ref = f"'{name}'!${layout.column_letter(left)}${r + 1}:${layout.column_letter(right)}${bottom}"
        return StoredModel(model, ref)
    return None


def stored_model(grid: Sequence[Sequence[Any]], sheet: str, issues: list[RowIssue]) -> StoredModel | None:
    """The churn model the Model sheet stores, or ``None`` with every bad cell added to ``issues`` (a model is used
    whole or not at all; the Accounts churn columns are then left blank)."""
    try:
        stored = read_model(grid, sheet)
    except TableError as error:
        issues.extend(replace(issue, effect="churn model not used") for issue in error.issues)
        return None
    if stored is None:
        return None
    unknown = [e.column for e in stored.model.encodings if e.column not in FEATURES]
    if unknown:
        rule = "an input the workbook gives (" + ", ".join(FEATURES) + ")"
        issues.extend(RowIssue(sheet, 0, "input", name, rule, "churn model not used") for name in unknown)
        return None
    return stored


def churn_plan(
    stored: StoredModel, features: pd.DataFrame, as_of: _dt.date, live: bool = False
) -> tuple[Plan, pd.DataFrame]:
    """The Churn sheet (see the module) for the live rows of ``features`` (:func:`csxl.churn_frame.account_features`),
    and the ranking it shows (:func:`csxl.churn_frame.rank_churn`, index = the Accounts rows). ``live`` (the Excel
    flavour): ``=CHURNPROB`` over the stored model's table instead of the plain formula."""
    model = stored.model
    ranked = rank_churn(model, features)
    inputs = [e.column for e in model.encodings]
    headers = [*CHURN_HEADINGS, *inputs]
    widths = {"A": 28.0, "B": 12.0, "C": 12.0, "D": 10.0, "E": 14.0, "F": 48.0}
    widths.update({layout.column_letter(len(CHURN_HEADINGS) + i + 1): 14.0 for i in range(len(inputs))})
    writer = SheetWriter(layout.SHEET_CHURN, after=layout.SHEET_DASHBOARD, widths=widths)
    writer.title(
        f"Churn risk in the next 90 days, as of {as_of.isoformat()}",
        "Live accounts by expected ARR loss (ARR x probability). The probability is a formula over the inputs on "
        "its row: change one to see what the model says. The model and how good it is: the Model sheet.",
    )
    assert writer.row == CHURN_HEADER_ROW
    writer.line(headers, "header")
    first = writer.row
    letters = {column: layout.column_letter(len(CHURN_HEADINGS) + i + 1) for i, column in enumerate(inputs)}
    last_input = layout.column_letter(len(headers))
    for offset, (index, row) in enumerate(ranked.iterrows()):
        r = first + offset
        refs = {column: f"{letter}{r}" for column, letter in letters.items()}
        probability = None if live else Formula(churn_formula(model, refs))  # live: one array call, below
        values = [features.at[index, column] for column in inputs]
        writer.line([
            str(row["account"]), _num(row["arr"], "money"), Styled(probability, "pct"),
            Formula(churn_tier_formula(f"C{r}")), Styled(Formula(f'=IF(ISNUMBER(C{r}),B{r}*C{r},"")'), "money"),
            str(row["drivers"]) if isinstance(row["drivers"], str) else None,
            *(_input_cell(v) for v in values),
        ])  # fmt: skip
    plan = writer.plan()
    if live and len(ranked):  # the Excel flavour: one =CHURNPROB for the whole column, not one call per account
        start, last = layout.column_letter(len(CHURN_HEADINGS) + 1), first + len(ranked) - 1
        headings = f"${start}${CHURN_HEADER_ROW}:${last_input}${CHURN_HEADER_ROW}"
        formula = f"=CHURNPROB({start}{first}:{last_input}{last},{headings},{stored.ref})"
        plan.add(ArrayFormula(layout.SHEET_CHURN, f"C{first}:C{last}", formula))
    return plan, ranked


def _input_cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)
