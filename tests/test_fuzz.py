"""Property: every public function, given junk, answers or raises a csxl error; never another exception.

Hypothesis draws arguments from the cells people and programs really pass (blanks, booleans, text, numbers typed as
text, NaN, infinities, dates, bytes, complex numbers, dicts, ragged lists, empty and 2-D arrays, Series, DataFrames).
``CSXL_FUZZ_EXAMPLES`` sets the cases per function: 1,000 under CI (``CI=true``, as ``.ci/run`` sets it), 150
otherwise; a larger number runs a longer search.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import os
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csxl

EXAMPLES = int(os.environ.get("CSXL_FUZZ_EXAMPLES", "1000" if os.environ.get("CI") else "150"))

_ATOMS: list[Any] = [
    None, True, False, 0, 1, -1, 2.5, 1e300, -1e300, float("nan"), float("inf"), "", " ", "abc", "1,5", "x", "\x00",
    "=1+1", "9999-12-31", _dt.date(2024, 1, 1), _dt.datetime(9999, 12, 31), np.datetime64("2024-01"), b"9", 1 + 2j,
    {"a": 1}, (1,), "engine", "growth", 10**20, np.int64(3), np.float64("nan"), pd.NA, pd.NaT,
]  # fmt: skip
_CELLS = st.sampled_from(_ATOMS) | st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=6)
_TABLES = st.builds(
    lambda a, b, c: pd.DataFrame(
        {"account": ["A", "B"], "mrr": [a, 1.0], "month": ["2024-01", b], "dau_mau": [c, 0.5]}
    ),
    _CELLS,
    _CELLS,
    _CELLS,
)
_VALUES = (
    _CELLS
    | st.lists(_CELLS, max_size=4)
    | st.lists(st.lists(_CELLS, max_size=3), max_size=3)  # 2-D ranges, ragged ones included
    | st.builds(lambda xs: pd.Series(xs, dtype=object), st.lists(_CELLS, max_size=4))
    | st.builds(lambda xs: np.array(xs, dtype=object), st.lists(_CELLS, max_size=4))
    | _TABLES
)

#: Public names that take no junk-able data (types, constants, the workbook entry points that need a file).
_NOT_FUNCTIONS = {
    "AccountRecord", "CsxlError", "DemoData", "FileError", "HEALTH_WEIGHTS", "InputError", "LoadResult", "MrrRow",
    "Portfolio", "RowIssue", "Settings", "SurveyResponse", "SurveySummary", "TIER_SCHEMES", "TableError",
    "TierScheme", "build_template", "read_book", "refresh", "validate_book",
}  # fmt: skip
FUNCTIONS = sorted(name for name in csxl.__all__ if name not in _NOT_FUNCTIONS and callable(getattr(csxl, name, None)))


def _arity(function: Any) -> int:
    params = inspect.signature(function).parameters.values()
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def test_every_public_function_is_fuzzed() -> None:
    assert len(FUNCTIONS) >= 40
    assert {"health_score", "nrr", "cohort_table", "load_accounts", "score_accounts", "nps"} <= set(FUNCTIONS)


@pytest.mark.slow
@pytest.mark.parametrize("name", FUNCTIONS)
def test_junk_in_gives_an_answer_or_a_csxl_error(name: str) -> None:
    function = getattr(csxl, name)
    arity = max(1, _arity(function))
    if name == "demo_portfolio":  # generating a portfolio is costly: small sizes, junk seeds
        arguments = st.tuples(st.sampled_from([0, -1, 1, 2, 2.5, "3", None, True]), _CELLS)
    else:
        arguments = st.lists(_VALUES, min_size=1, max_size=arity).map(tuple)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(arguments)
    def run(args: tuple[Any, ...]) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                function(*args)
            except csxl.CsxlError:
                pass
            except TypeError as exc:  # too many or too few positional arguments is Python's own, not the data's
                if "positional argument" not in str(exc) and "required" not in str(exc):
                    raise

    run()
