"""The churn model as a plain-cell formula: LibreOffice, recalculating the generated formula, gives the probability
the Python core gives, to 1e-9, for numbers, yes/no words and booleans, categories (known, unknown, other case,
padded with spaces) and blank or unreadable cells.

Expected values are the Python core's own (``ChurnModel.predict`` on the same cells); the tolerance 1e-9 covers
the 17-digit decimal writing of each stored number and LibreOffice's double arithmetic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from engine import recalculate, require_soffice

from csxl.book.churn_formula import MAX_FORMULA, churn_formula
from csxl.churn import ChurnModel, fit_churn_model
from csxl.errors import InputError


def _model() -> ChurnModel:
    rng = np.random.default_rng(11)
    n = 800
    usage = rng.uniform(0, 100, n)
    champion = rng.random(n) < 0.5
    plan = rng.choice(["Pro", "Basic", "Team", "Legacy"], n, p=[0.46, 0.4, 0.13, 0.01])
    churned = rng.random(n) < 1 / (1 + np.exp(-(1.0 - 0.04 * usage + 1.2 * ~champion + 0.5 * (plan == "Basic"))))
    frame = pd.DataFrame(
        {
            "Usage": pd.Series(usage, dtype=object),
            "Champion": np.where(champion, "Yes", "no").astype(object),
            "Plan": plan.astype(object),
            "Churned": churned.astype(int),
        }
    )
    frame.loc[frame.index[::13], "Usage"] = None
    frame.loc[frame.index[::17], "Champion"] = None
    frame.loc[frame.index[::19], "Plan"] = None
    return fit_churn_model(frame, label="Churned")


#: Rows the workbook holds: as people type them.
CELLS: list[tuple[Any, Any, Any]] = [
    (12.5, "Yes", "Pro"),
    (88.0, "no", "Basic"),
    (None, None, None),  # all blank
    (" ", "  ", "   "),  # only spaces: blank
    (50, True, "Team"),  # an Excel boolean
    (3, False, "Enterprise"),  # a level the model never saw: other
    (70, 1, " Pro "),  # the number 1 is yes; padded level
    (40, 0, "pro"),  # the number 0 is no; another case: a different level (other)
    ("abc", "maybe", "Legacy"),  # unreadable number and yes/no: missing; a rare level: other
    (0, "YES", "(blank)"),
]


def test_libreoffice_computes_the_python_probability(tmp_path: Path) -> None:
    require_soffice()
    model = _model()
    book = tmp_path / "churn.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Usage", "Champion", "Plan", "P(churn)"])
    formula_of_row = {}
    for i, cells in enumerate(CELLS, start=2):
        formula_of_row[i] = churn_formula(model, {"Usage": f"A{i}", "Champion": f"B{i}", "Plan": f"C{i}"})
        ws.append([*cells, formula_of_row[i]])
    wb.save(book)
    computed = openpyxl.load_workbook(recalculate(book, tmp_path / "engine"), data_only=True).active
    assert computed is not None
    got = [computed.cell(i, 4).value for i in range(2, 2 + len(CELLS))]
    frame = pd.DataFrame(CELLS, columns=["Usage", "Champion", "Plan"], dtype=object)
    expected = model.predict(frame).tolist()
    assert all(isinstance(v, float) for v in got), got
    for row, (value, want) in enumerate(zip(got, expected, strict=True)):
        assert value == pytest.approx(want, abs=1e-9), (CELLS[row], value, want)
    assert len(set(np.round(expected, 6))) > 5  # the rows differ: the check is not of one constant


def test_the_formula_names_what_is_missing_and_its_length() -> None:
    model = _model()
    with pytest.raises(InputError, match="Plan"):
        churn_formula(model, {"Usage": "A2", "Champion": "B2"})
    formula = churn_formula(model, {"Usage": "A2", "Champion": "B2", "Plan": "C2"})
    assert formula.startswith("=1/(1+EXP(-(") and len(formula) < MAX_FORMULA
