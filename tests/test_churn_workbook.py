"""The churn model in the workbook: stored on the Model sheet by ``csxl churn --apply``, read back by every refresh
(Accounts churn columns, the Churn sheet), its plain-cell formula recomputed by LibreOffice, its table edited by
LibreOffice through UNO.

Expected probabilities come from the Python core (:meth:`ChurnModel.predict` on the same inputs); the sheet's
formulas must equal them to 1e-9 (the formula writes 17 significant digits; the rest is floating-point rounding).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from engine import recalculate
from test_user_edits import require_uno, uno_edit

from csxl.book.model_sheet import CHURN_HEADER_ROW, CHURN_HEADINGS, MODEL_HEADINGS
from csxl.book.read import read_book
from csxl.churn import ChurnModel, fit_churn_model
from csxl.churn_frame import account_features
from csxl.churn_table import INTERCEPT, MODEL_COLUMNS, model_from_table, model_table
from csxl.cli import cli
from csxl.errors import TableError
from csxl.health import churn_tier

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "csxl-demo.xlsx"


def _frame(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    usage = rng.uniform(0, 100, n)
    plan = rng.choice(["Pro", "Basic", "Team"], n)
    churned = rng.random(n) < 1 / (1 + np.exp(-(1.0 - 0.04 * usage + 0.8 * (plan == "Basic"))))
    frame = pd.DataFrame({"usage": usage, "champion": rng.random(n) < 0.5, "plan": plan, "churned": churned})
    frame.loc[frame.index[::11], "usage"] = np.nan
    return frame


@pytest.fixture(scope="module")
def small_model() -> ChurnModel:
    return fit_churn_model(_frame(), label="churned")


def test_the_model_table_round_trips_exactly(small_model: ChurnModel) -> None:
    table = model_table(small_model)
    assert list(table.columns) == list(MODEL_COLUMNS)
    assert table["input"].iloc[0] == INTERCEPT
    assert set(table["kind"].dropna()) == {"number", "missing", "yes/no", "category"}
    back = model_from_table(table)
    frame = _frame(200, seed=9)
    assert back.predict(frame).tolist() == small_model.predict(frame).tolist()  # the same numbers: identical


def test_a_model_table_as_cells_arrive(small_model: ChurnModel) -> None:
    """Numbers typed as text, blanks as None, trailing blank rows: read as a sheet gives them."""
    table = model_table(small_model).astype(object)
    table["coefficient"] = [f"{v:.17g}" for v in table["coefficient"]]
    table = table.where(table.notna(), None)
    table.loc[len(table)] = [None] * len(MODEL_COLUMNS)
    back = model_from_table(table)
    frame = _frame(50, seed=5)
    assert back.predict(frame).to_numpy() == pytest.approx(small_model.predict(frame).to_numpy(), abs=1e-15)


def test_every_bad_cell_of_an_edited_model_is_reported_at_once(small_model: ChurnModel) -> None:
    table = model_table(small_model).astype(object)
    number = table.index[table["kind"] == "number"][0]
    category = table.index[table["kind"] == "category"][0]
    table.loc[number, "scale"] = 0  # a scale of 0 would divide by zero
    table.loc[category, "coefficient"] = "high"  # not a number
    table.loc[len(table)] = ["usage", "percent", None, None, None, None, 1.0]  # an unknown kind
    table = table[table["input"] != INTERCEPT]  # and no intercept
    rows = list(range(40, 40 + len(table)))
    with pytest.raises(TableError) as caught:
        model_from_table(table, sheet="Model", rows=rows)
    found = {(issue.column, issue.value) for issue in caught.value.issues}
    assert found == {("scale", 0), ("coefficient", "high"), ("kind", "percent"), ("input", None)}
    assert "Model: 4 problem(s)" in str(caught.value)
    assert all(issue.row in rows or issue.row == 0 for issue in caught.value.issues)


# --------------------------------------------------------------------------------------------------------------------
# csxl churn --apply on the demo workbook
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("applied")
    book = folder / "demo.xlsx"
    shutil.copy(DEMO, book)
    shutil.copy(DEMO.with_name(DEMO.name + ".history.parquet"), folder / "demo.xlsx.history.parquet")
    run = CliRunner().invoke(cli, ["churn", "--book", str(book), "--apply", "--top", "3"])
    assert run.exit_code == 0, run.output
    assert "model stored on the Model sheet" in run.output
    return book


def _accounts(book: Path) -> pd.DataFrame:
    data = read_book(book)
    frame: pd.DataFrame = data.tables["Accounts"]
    return frame


def test_apply_stores_the_model_and_refresh_scores_with_it(applied: Path) -> None:
    data = read_book(applied)
    assert data.churn_model is not None and data.churn_model.ref.startswith("'Model'!$A$")
    portfolio = data.to_portfolio()
    features = account_features(portfolio)
    expected = data.churn_model.model.predict(features)
    accounts = data.tables["Accounts"]
    live = features["live"].to_numpy(dtype=bool)
    by_name = accounts.set_index("account")
    written = pd.to_numeric(by_name["churn_probability"], errors="coerce").reindex(features.index)
    assert written[live].to_numpy() == pytest.approx(expected[live].to_numpy(), abs=1e-12)
    assert written[~live].isna().all() and (~live).any()  # a churned account has no churn probability
    tiers = by_name["churn_tier"].reindex(features.index)[live]
    assert tiers.tolist() == list(churn_tier(expected[live].to_numpy()))
    drivers = by_name["churn_drivers"].reindex(features.index)[live]
    assert drivers.str.count(";").eq(2).all()  # three drivers each
    # a second refresh reads the stored model again: the same numbers
    again = CliRunner().invoke(cli, ["refresh", str(applied)])
    assert again.exit_code == 0, again.output
    after_by_name = _accounts(applied).set_index("account")
    after = pd.to_numeric(after_by_name["churn_probability"], errors="coerce").reindex(features.index)
    assert after[live].tolist() == written[live].tolist()


def _churn_sheet(book: Path, values: bool) -> tuple[list[str], list[list[Any]]]:
    ws = openpyxl.load_workbook(book, data_only=values)["Churn"]
    rows = [list(r) for r in ws.iter_rows(min_row=CHURN_HEADER_ROW, values_only=True)]
    return [str(h) for h in rows[0]], [r for r in rows[1:] if r[0] is not None]


def test_the_churn_sheet_recomputed_by_libreoffice_equals_python(applied: Path, tmp_path: Path) -> None:
    headers, rows = _churn_sheet(applied, values=False)
    assert tuple(headers[: len(CHURN_HEADINGS)]) == CHURN_HEADINGS
    assert all(str(r[2]).startswith("=1/(1+EXP(-(") for r in rows)  # the plain formula, no Python
    data = read_book(applied)
    assert data.churn_model is not None
    model = data.churn_model.model
    inputs = headers[len(CHURN_HEADINGS) :]
    assert inputs == [e.column for e in model.encodings]
    frame = pd.DataFrame([r[len(CHURN_HEADINGS) :] for r in rows], columns=inputs, dtype=object)
    expected = model.predict(frame).to_numpy()
    _, computed = _churn_sheet(recalculate(applied, tmp_path / "engine"), values=True)
    got = np.array([r[2] for r in computed], dtype=float)
    assert got == pytest.approx(expected, abs=1e-9)
    assert [r[3] for r in computed] == list(churn_tier(expected))  # the tier formula, the core's edges
    losses = np.array([r[4] for r in computed], dtype=float)
    arr = np.array([r[1] for r in computed], dtype=float)
    assert losses == pytest.approx(arr * got, rel=1e-12)
    # ranked by the expected loss the refresh computed (ties by name)
    assert np.all(np.diff(losses) <= 1e-6)
    # and the Accounts column holds the same probabilities (the refresh's Python values)
    accounts = _accounts(applied).set_index("account")
    by_name = pd.to_numeric(accounts["churn_probability"], errors="coerce")
    assert got == pytest.approx(by_name.reindex([r[0] for r in computed]).to_numpy(), abs=1e-9)


def test_the_model_sheet_shows_the_backtest_and_the_stored_table(applied: Path) -> None:
    ws = openpyxl.load_workbook(applied)["Model"]
    column_a = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    for heading in ("How good it is", "What moves the risk (odds ratios)", "Reliability (held-out rows by decile "
                    "of predicted risk)"):  # fmt: skip
        assert heading in column_a
    header_row = column_a.index(MODEL_HEADINGS["input"]) + 1
    assert [ws.cell(header_row, c).value for c in range(1, 8)] == list(MODEL_HEADINGS.values())
    assert ws.cell(header_row + 1, 1).value == INTERCEPT
    assert ws._charts, "the reliability chart"


def test_a_coefficient_edited_in_libreoffice_changes_the_scores(applied: Path, tmp_path: Path) -> None:
    """A founder inserts two rows above the stored table and sets the intercept 1.0 higher: the table is still found
    by its headings and every live account's log-odds moves by exactly 1.0."""
    require_uno()
    grid_before = read_book(applied)
    assert grid_before.churn_model is not None
    ws = openpyxl.load_workbook(applied)["Model"]
    intercept_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == INTERCEPT)
    old = float(ws.cell(intercept_row, 7).value)
    edited = uno_edit(applied, tmp_path / "edited.xlsx", [
        {"op": "insert_rows", "sheet": "Model", "row": 3, "count": 2},
        {"op": "set", "sheet": "Model", "cell": f"G{intercept_row + 2}", "number": old + 1.0},
    ])  # fmt: skip
    shutil.copy(
        applied.with_name(applied.name + ".history.parquet"), edited.with_name(edited.name + ".history.parquet")
    )
    run = CliRunner().invoke(cli, ["refresh", str(edited)])
    assert run.exit_code == 0, run.output
    before = pd.to_numeric(_accounts(applied)["churn_probability"], errors="coerce").dropna()
    after = pd.to_numeric(_accounts(edited)["churn_probability"], errors="coerce").reindex(before.index)
    logit = np.log(after / (1 - after)) - np.log(before / (1 - before))
    assert logit.to_numpy() == pytest.approx(np.ones(len(before)), abs=1e-9)


def test_a_damaged_model_is_not_used_and_each_bad_cell_is_named(applied: Path, tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(applied)["Model"]
    intercept_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == INTERCEPT)
    book = tmp_path / "damaged.xlsx"
    wb = openpyxl.load_workbook(applied)
    wb["Model"].cell(intercept_row, 7).value = "n/a"
    wb["Model"].cell(intercept_row + 1, 6).value = 0
    wb.save(book)
    data = read_book(book)
    assert data.churn_model is None
    named = {(i.sheet, i.row, i.column) for i in data.issues if i.effect == "churn model not used"}
    assert named == {("Model", intercept_row, "coefficient"), ("Model", intercept_row + 1, "scale")}
    run = CliRunner().invoke(cli, ["refresh", str(book)])
    assert run.exit_code == 4, run.output  # refreshed, with input cells it could not use (csxl refresh --strict)
    assert "2 bad cell(s) in the stored churn model, not used" in run.output
    assert pd.to_numeric(_accounts(book)["churn_probability"], errors="coerce").isna().all()


def test_without_a_model_the_churn_columns_stay_blank(tmp_path: Path) -> None:
    book = tmp_path / "plain.xlsx"
    shutil.copy(DEMO, book)
    data = read_book(book)
    assert data.churn_model is None and "Model" not in data.sheet_names
    accounts = data.tables["Accounts"]
    assert {"churn_probability", "churn_tier", "churn_drivers"} <= set(accounts.columns)
    assert accounts["churn_probability"].isna().all()


def test_two_intercepts_are_refused(small_model: ChurnModel) -> None:
    table = model_table(small_model).astype(object)
    table.loc[len(table)] = [INTERCEPT, None, None, None, None, None, 0.5]
    with pytest.raises(TableError, match="one intercept row"):
        model_from_table(table)


def test_the_excel_flavour_churn_sheet_calls_churnprob_on_the_stored_table(applied: Path) -> None:
    """In a .xlsm (classic xlwings) the probability column is ONE =CHURNPROB array formula over every row's inputs,
    the heading row and the stored model's range as read from the Model sheet (so rows inserted above it are
    followed): one Python call per refresh of the column, not one per account."""
    from csxl.book.model_sheet import churn_plan
    from csxl.book.plan import ArrayFormula, Block, Formula

    data = read_book(applied)
    assert data.churn_model is not None
    portfolio = data.to_portfolio()
    plan, ranked = churn_plan(data.churn_model, account_features(portfolio), portfolio.as_of, live=True)
    per_row = [c.text for op in plan.ops if isinstance(op, Block) for row in op.values for c in row
               if isinstance(c, Formula) and "CHURNPROB" in c.text]  # fmt: skip
    assert per_row == []
    arrays = [op for op in plan.ops if isinstance(op, ArrayFormula)]
    first = CHURN_HEADER_ROW + 1
    last_row = first + len(ranked) - 1
    width = len(CHURN_HEADINGS) + len(data.churn_model.model.encodings)
    last = chr(ord("A") + width - 1)
    assert len(ranked) > 0
    assert arrays == [ArrayFormula(
        "Churn", f"C{first}:C{last_row}",
        f"=CHURNPROB(G{first}:{last}{last_row},$G${CHURN_HEADER_ROW}:${last}${CHURN_HEADER_ROW},{data.churn_model.ref})",
    )]  # fmt: skip


def test_churn_columns_follow_their_headings_after_excel_edits(applied: Path, tmp_path: Path) -> None:
    """A founder inserts a column at B and deletes the Drivers column in LibreOffice: the refresh writes each
    probability under its heading (found by header, never by position) and re-creates the deleted column."""
    require_uno()
    ws = openpyxl.load_workbook(applied)["Accounts"]
    header_row = 2
    headings = {ws.cell(header_row, c).value: c for c in range(1, ws.max_column + 1)}
    drivers = openpyxl.utils.get_column_letter(headings["Churn drivers"])
    edited = uno_edit(applied, tmp_path / "edited.xlsx", [
        {"op": "delete_columns", "sheet": "Accounts", "at": drivers, "count": 1},
        {"op": "insert_columns", "sheet": "Accounts", "at": "B", "count": 1},
    ])  # fmt: skip
    archive = ".history.parquet"
    shutil.copy(applied.with_name(applied.name + archive), edited.with_name(edited.name + archive))
    run = CliRunner().invoke(cli, ["refresh", str(edited)])
    assert run.exit_code == 0, run.output
    before = _accounts(applied).set_index("account")
    after = _accounts(edited).set_index("account")
    assert "churn_drivers" in after.columns  # re-created
    want = pd.to_numeric(before["churn_probability"], errors="coerce").dropna()
    got = pd.to_numeric(after["churn_probability"], errors="coerce").reindex(want.index)
    assert got.to_numpy() == pytest.approx(want.to_numpy(), abs=1e-12)
    assert after["churn_tier"].reindex(want.index).tolist() == before["churn_tier"].reindex(want.index).tolist()
