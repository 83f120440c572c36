"""=CHURNPROB: the churn model stored in the workbook, scored by the Python core (conventions of
:mod:`csxl.excel.functions`, which re-exports it so both runtimes register it from one module).

The model is the table ``csxl churn --apply`` writes on the Model sheet (:mod:`csxl.book.model_sheet`): the function
reads it from the range it is given, so an edited coefficient takes effect at the next recalculation, and gives the
probability :meth:`csxl.ChurnModel.predict` gives, the same as the Churn sheet's plain-cell formula.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from xlwings import func

from csxl.book.model_sheet import read_model
from csxl.errors import InputError
from csxl.excel.cells import Cells, _errors, _grid, _guard
from csxl.excel.udf import xl_arg

__all__ = ["CHURNPROB"]

#: The text of a row holding an Excel error among its inputs.
ERROR_ROW = "inputs must be values, not an Excel error"


@func(category="csxl")
@xl_arg("inputs", "The model's inputs: one row per account (a row of cells, or a block of rows).")
@xl_arg("headings", "One row naming each input column as the model names it (e.g. the Churn sheet's headings).")
@xl_arg("model", "The stored model: its table on the Model sheet, headings included (Input, Kind, ... Coefficient).")
def CHURNPROB(inputs: Any, headings: Any, model: Any) -> Cells:
    """Churn probability in the next 90 days (0..1) of each row of ``inputs``, from the stored churn model.

    Blanks are filled as in training; a number column's text the model cannot read counts as blank; a row with an
    Excel error among its inputs gives a text instead of a probability. One column, one value per row.
    """

    def body() -> Cells:
        stored = read_model(_grid(model).tolist(), sheet="model")
        if stored is None:
            raise InputError("model", "a range without the stored model's headings", "the Model sheet's stored table")
        names = _grid(headings)
        if names.shape[0] != 1:
            raise InputError("headings", f"{names.shape[0]} rows", "one row of headings")
        rows = _grid(inputs)
        if rows.shape[1] != names.shape[1]:
            raise InputError("inputs", f"{rows.shape[1]} columns", f"one per heading ({names.shape[1]})")
        bad = _errors(rows)
        cleaned = rows.copy()
        cleaned[bad] = None
        frame = pd.DataFrame(cleaned, columns=["" if h is None else str(h).strip() for h in names[0]], dtype=object)
        probability = stored.model.predict(frame).to_numpy(dtype=float)
        return [[ERROR_ROW if bad[i].any() else float(p)] for i, p in enumerate(probability)]

    return _guard("CHURNPROB", body)
