"""Every Excel function, called through xlwings' own dispatcher with what a sheet can hold: an answer in its documented
range, or a message in the cell; never an exception out of the dispatcher, never a Python error name in a cell.

Arguments are grids (1x1 to 3x3) of cells as Office.js sends them: numbers (0, negatives, huge, fractions), whole
numbers, date serials, labels and junk text, blanks (``""``), booleans and error values (``#N/A`` ...). Each function
gets ``EXAMPLES`` cases (``CSXL_FUZZ_EXAMPLES``: 1,000 under CI, 60 otherwise), each checked against the function's
documented output range (:data:`RANGES`): a number there must be finite and inside it, a label one of the documented
labels; text anywhere else is a message and must read as one (no traceback, no ``KeyError``).
"""

from __future__ import annotations

import math
import os
import re
import types
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_excel_functions import SIGNATURES, call, err, lite  # noqa: F401  (lite: the module fixture)

EXAMPLES = int(os.environ.get("CSXL_FUZZ_EXAMPLES", "1000" if os.environ.get("CI") else "60"))

_LABELS = ["up", "flat", "down", "on-time", "late", "none", "yes", "no", "engine", "growth", "nps", "Thriving", "x"]
CELL = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 10.0, 100.0, 1e300, -1e300, 45292.0, 2958466.0]),
    st.integers(min_value=-5, max_value=50).map(float),
    st.sampled_from(_LABELS),
    st.text(max_size=6),
    st.just(""),
    st.booleans(),
    st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!", "#REF!"]).map(err),
)
GRID = st.integers(1, 3).flatmap(lambda r: st.lists(st.lists(CELL, min_size=1, max_size=3), min_size=r, max_size=r))
ARG = st.one_of(CELL.map(lambda v: [[v]]), GRID)

_TIERS = {"Thriving", "Healthy", "At-Risk", "Critical", "Green", "Yellow", "Red", "Insufficient data"}
_RAG = {"Red", "Yellow", "Green"}


def _between(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and lo - 1e-9 <= v <= hi + 1e-9


def _labels(allowed: set[str]) -> Callable[[Any], bool]:
    return lambda v: v in allowed


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


#: What a computed cell may be, per function (docs/excel-functions.md); text outside it is a message.
RANGES: dict[str, Callable[[Any], bool]] = {
    "HEALTHSCORE": _between(0, 100),
    "HEALTHTIER": _labels(_TIERS),
    "HEALTHEXPLAIN": lambda v: _finite(v) or isinstance(v, str),  # a table: dimension names, scores, weights
    "SIMPLEPOINTS": _between(0, 10),
    "SIMPLETIER": _labels(_RAG),
    "SIGNALRAG": _labels(_RAG),
    "USAGESCORE": _between(0, 10),
    "ENGAGEMENTSCORE": _between(0, 10),
    "RELATIONSHIPSCORE": _between(0, 10),
    "OUTCOMESSCORE": _between(0, 10),
    "FINANCIALSCORE": _between(0, 10),
    "CHURNTIER": _labels({"Low", "Medium", "High", "Critical"}),
    "CHURNPROB": _between(0, 1),
    "NRR": _between(0, math.inf),
    "GRR": _between(0, 1),
    "LOGOCHURN": _between(0, 1),
    "REVENUECHURN": _between(-math.inf, 1),
    "QUICKRATIO": _between(0, math.inf),
    "LTV": _between(0, math.inf),
    "CACPAYBACK": _between(0, math.inf),
    "COHORTNRR": _between(0, math.inf),
    "COHORTGRR": _between(0, 1),
    "MRRMOVEMENTS": lambda v: _finite(v) or isinstance(v, str),  # a table with its header row
    "COHORTGRID": lambda v: _finite(v) or isinstance(v, str),
    "NPS": _between(-100, 100),
    "CSAT": _between(0, 100),  # percent satisfied
    "CES": _between(1, math.inf),  # the mean effort on the 1..scale scale (7 by default, the scale argument else)
}

_PYTHON_ERROR = re.compile(r"Traceback|\b[A-Z][A-Za-z]*(Error|Exception)\b|object has no attribute|unhashable")
_TABLES = {"HEALTHEXPLAIN", "MRRMOVEMENTS", "COHORTGRID"}


def check(name: str, result: list[list[Any]]) -> None:
    assert isinstance(result, list) and all(isinstance(row, list) for row in result), (name, result)
    ok = RANGES[name]
    for row in result:
        for value in row:
            if value == "" or value is None:
                continue  # blank: the answer is unknown (a blank input), never a silent 0
            if isinstance(value, str) and (name in _TABLES or not ok(value)):
                assert not _PYTHON_ERROR.search(value), (name, value)  # a message a founder can read
                continue
            assert ok(value), (name, value)  # a number or label: finite and in the documented range


def test_every_function_has_a_documented_range() -> None:
    assert set(RANGES) == set(SIGNATURES)


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_function_answers_in_range_or_with_a_message(lite: types.ModuleType, name: str) -> None:  # noqa: F811
    params = SIGNATURES[name]
    required = sum(1 for _p, optional in params if not optional)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.integers(required, len(params)).flatmap(lambda n: st.lists(ARG, min_size=n, max_size=n)))
    def run(args: list[Any]) -> None:
        check(name, call(lite, name, *args))

    run()
