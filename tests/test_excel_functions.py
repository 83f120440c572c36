"""csxl.excel.functions through xlwings' own dispatchers: the Office.js one (xlwings Lite) and classic registration.

Every call goes through ``xlwings.server.custom_functions_call`` with the payload the Lite add-in sends (xlwings'
``custom_functions_code.js``: ``func_name``, ``args`` as one 2-D list per argument or ``None`` when omitted,
``caller_address``, ``version``, ``runtime``). Cells are encoded as Office.js encodes them: blank ``""``, Excel errors
``{"type": "Error", "basicValue": "#N/A", ...}``, dates as serial numbers. Expected numbers come from the pure core
called directly on the same values (``csxl.health_score``, ``csxl.nrr``, ...) or from a hand calculation in a comment.

The xlwings Office.js dispatcher lives in xlwings PRO, which is free for non-commercial use and testing under the
PolyForm Noncommercial licence: the fixture sets ``XLWINGS_LICENSE_KEY=noncommercial`` for these tests only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import inspect
import io
import math
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xlwings

import csxl
from csxl.revenue import MOVEMENT_COLUMNS

FUNCTIONS_PY = Path(__file__).resolve().parents[1] / "csxl" / "excel" / "functions.py"

#: Every function the module must expose, with its parameters and whether each is optional (the brief's list).
SIGNATURES: dict[str, list[tuple[str, bool]]] = {
    "HEALTHSCORE": [("scores", False), ("weights", True), ("preset", True)],
    "HEALTHTIER": [("score", False), ("scheme", True), ("bounds", True)],
    "HEALTHEXPLAIN": [("scores", False), ("weights", True), ("preset", True)],
    "SIMPLEPOINTS": [
        ("usage", False),
        ("engagement", True),
        ("relationship", True),
        ("financial", True),
        ("sentiment", True),
    ],
    "SIMPLETIER": [("points", False), ("green", True), ("yellow", True)],
    "SIGNALRAG": [("signal", False), ("value", False), ("green", True), ("yellow", True)],
    "USAGESCORE": [("dau_mau", False), ("feature_breadth", True)],
    "ENGAGEMENTSCORE": [("login_trend", False), ("support_tickets_30d", True), ("community_active", True)],
    "RELATIONSHIPSCORE": [("champion", False), ("exec_sponsor", True), ("contacts", True)],
    "OUTCOMESSCORE": [("goals_defined", False), ("goals_achieved", False), ("roi_documented", True)],
    "FINANCIALSCORE": [("payment_status", False), ("expanding", True), ("contraction_risk", True)],
    "CHURNTIER": [("probability", False)],
    "CHURNPROB": [("inputs", False), ("headings", False), ("model", False)],
    "NRR": [("start_mrr", False), ("expansion", False), ("contraction", False), ("churned", False)],
    "GRR": [("start_mrr", False), ("contraction", False), ("churned", False)],
    "COHORTNRR": [("mrr", False), ("as_of", True), ("months", True)],
    "COHORTGRR": [("mrr", False), ("as_of", True), ("months", True)],
    "MRRMOVEMENTS": [("mrr", False), ("as_of", True)],
    "COHORTGRID": [("mrr", False), ("basis", True), ("as_of", True)],
    "LOGOCHURN": [("customers_start", False), ("customers_lost", False)],
    "REVENUECHURN": [("start_mrr", False), ("contraction", False), ("churned", False), ("expansion", True)],
    "QUICKRATIO": [
        ("new", False),
        ("expansion", False),
        ("contraction", False),
        ("churned", False),
        ("reactivation", True),
    ],
    "LTV": [("arpa", False), ("gross_margin", False), ("churn_rate", False), ("max_lifetime_months", True)],
    "CACPAYBACK": [("cac", False), ("arpa", False), ("gross_margin", False)],
    "NPS": [("scores", False)],
    "CSAT": [("scores", False), ("scale", True)],
    "CES": [("scores", False), ("scale", True)],
}


# --------------------------------------------------------------------------------------------------------------------
# Office.js encoding and the dispatcher
# --------------------------------------------------------------------------------------------------------------------

BLANK = ""  # Office.js sends an empty cell as ""


def err(code: str) -> dict[str, str]:
    """An Excel error value as Office.js passes it to a custom function (allowErrorForDataTypeAny)."""
    kinds = {"#N/A": "NotAvailable", "#DIV/0!": "Div0", "#VALUE!": "Value", "#REF!": "Ref"}
    return {"type": "Error", "basicValue": code, "errorType": kinds[code]}


def cell(value: Any) -> list[list[Any]]:
    return [[value]]


def col(*values: Any) -> list[list[Any]]:
    return [[v] for v in values]


def row(*values: Any) -> list[list[Any]]:
    return [list(values)]


def serial(day: dt.date) -> float:
    """Excel serial number of a date (1900 system): days since 1899-12-30 (so 2024-01-01 -> 45292)."""
    return float((day - dt.date(1899, 12, 30)).days)


def payload(name: str, args: list[Any]) -> dict[str, Any]:
    return {
        "func_name": name,
        "args": args,
        "caller_address": "Office.js[Book1.xlsx]Sheet1!H2",
        "content_language": "en-US",
        "version": xlwings.__version__,
        "client": "Office.js",
        "runtime": "1.4",
    }


@pytest.fixture(scope="module")
def lite() -> Iterator[types.ModuleType]:
    """csxl.excel.functions decorated by xlwings' Office.js decorators, as in xlwings Lite / xlwings Server.

    ``from xlwings import func, arg, ret`` resolves to ``xlwings.server``'s decorators in xlwings Lite; here the
    module is loaded afresh (under its own name) with those decorators in place of the Linux no-ops.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings PRO: free for non-commercial use and tests
        import xlwings.server as server
        from xlwings.main import Engine
        from xlwings.pro import _xlofficejs

        if "officejs" not in xlwings.engines.engines_by_name:  # registered by `import xlwings` when licensed
            mp.setattr(xlwings.engines, "engines", [*xlwings.engines.engines])
            mp.setattr(xlwings.engines, "engines_by_name", dict(xlwings.engines.engines_by_name))
            xlwings.engines.add(Engine(impl=_xlofficejs.engine))
        mp.setattr(xlwings, "func", server.func)
        mp.setattr(xlwings, "arg", server.arg)
        mp.setattr(xlwings, "ret", server.ret)
        yield _load_copy("csxl_excel_functions_lite", mp)


def _load_copy(name: str, mp: pytest.MonkeyPatch) -> types.ModuleType:
    # the functions' modules decorate at import: import them afresh under the runtime's decorators (restored after)
    for dependency in ("csxl.excel.udf", "csxl.excel.functions_revenue", "csxl.excel.functions_churn"):
        mp.delitem(sys.modules, dependency, raising=False)
    spec = importlib.util.spec_from_file_location(name, FUNCTIONS_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    mp.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def call(module: types.ModuleType, name: str, *args: Any) -> list[list[Any]]:
    """Call ``name`` through ``custom_functions_call``; omitted trailing arguments are not sent (as in Excel)."""
    from xlwings.server import custom_functions_call

    result = asyncio.run(custom_functions_call(payload(name, list(args)), module))
    assert isinstance(result, list)
    return result


def cells(values: Any) -> list[Any]:
    """Core results as Lite shows them: NaN / None -> "" (blank), numbers as floats, labels as text."""
    out: list[Any] = []
    for v in np.asarray(values, dtype=object).reshape(-1):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append("")
        else:
            out.append(v)
    return out


def column(values: Any) -> list[list[Any]]:
    return [[v] for v in cells(values)]


def same(got: Any, expected: Any) -> bool:
    """Nested equality, numbers to 1e-12 relative (the same core computation, possibly in another order)."""
    if isinstance(got, list) and isinstance(expected, list):
        return len(got) == len(expected) and all(same(g, e) for g, e in zip(got, expected, strict=True))
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return got == pytest.approx(expected, rel=1e-12, abs=1e-12)
    return bool(got == expected)


# --------------------------------------------------------------------------------------------------------------------
# Import and registration metadata
# --------------------------------------------------------------------------------------------------------------------


def test_module_imports_without_excel_license_or_openpyxl() -> None:
    code = (
        "import os, sys\n"
        "os.environ.pop('XLWINGS_LICENSE_KEY', None)\n"
        "import csxl.excel.functions as f\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'openpyxl'))\n"
        "print(f.USAGESCORE([[0.3]], [[0.5]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == str([[csxl.score_usage(0.3, 0.5)]])  # 4 + 2 * mean(0.5, 0.5) = 5.0


def test_meta_names_every_function_without_namespace(lite: types.ModuleType) -> None:
    from xlwings.server import custom_functions_meta

    meta = custom_functions_meta(lite)
    names = {f["name"] for f in meta["functions"]}
    assert names == set(SIGNATURES)  # plain names: no "CSXL." prefix, so formulas read the same in classic
    assert set(lite.__all__) == set(SIGNATURES)


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_meta_parameters_optional_flags_and_help(lite: types.ModuleType, name: str) -> None:
    from xlwings.server import custom_functions_meta

    meta = {f["name"]: f for f in custom_functions_meta(lite)["functions"]}[name]
    params = [(p["name"], p.get("optional", False)) for p in meta["parameters"]]
    assert params == SIGNATURES[name]
    assert meta["description"] == getattr(lite, name).__doc__
    assert meta["description"].strip()
    for p in meta["parameters"]:
        assert not p["description"].startswith("Positional argument"), f"{name}.{p['name']} has no @arg doc"
        assert len(p["description"]) <= 255  # classic cuts argument help at 255 characters
        assert p["dimensionality"] == "matrix"
        assert p["type"] == "any"


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signature_uses_no_optional_hint_and_blank_string_defaults(lite: types.ModuleType, name: str) -> None:
    # `x: float | None = None` breaks the Lite dispatcher (Union is not a converter): every parameter is `Any` and
    # an optional one defaults to "" (what an omitted argument reads as in both runtimes).
    sig = inspect.signature(getattr(lite, name))
    for param in sig.parameters.values():
        assert param.annotation in ("Any", Any)
        assert param.default in (inspect.Parameter.empty, "")


# --------------------------------------------------------------------------------------------------------------------
# Health model
# --------------------------------------------------------------------------------------------------------------------

ENGINE = ["usage", "engagement", "relationship", "outcomes", "financial"]
ACCOUNTS = [
    [8.0, 6.0, 7.0, 5.0, 9.0],
    [2.0, 3.0, 4.0, 1.0, 5.0],
    [10.0, 10.0, 10.0, 10.0, 10.0],
    [7.0, BLANK, 6.0, BLANK, 8.0],
]


def core_scores(rows: list[list[Any]], dims: list[str], weights: Any = "engine") -> list[Any]:
    frame = pd.DataFrame([[np.nan if v == BLANK else v for v in r] for r in rows], columns=dims)
    return cells(csxl.health_score(frame, weights).to_numpy())


def test_healthscore_single_row(lite: types.ModuleType) -> None:
    # 10 * (.3*8 + .2*6 + .15*7 + .2*5 + .15*9) = 10 * 7.0 = 70
    assert same(call(lite, "HEALTHSCORE", [ACCOUNTS[0]]), [[70.0]])


def test_healthscore_block_spills_one_score_per_row(lite: types.ModuleType) -> None:
    got = call(lite, "HEALTHSCORE", ACCOUNTS)
    assert same(got, [[v] for v in core_scores(ACCOUNTS, ENGINE)])
    # row 4: usage, relationship, financial only -> 10 * (.3*7 + .15*6 + .15*8) / .6 = 70
    assert same(got[3], [70.0])


def test_healthscore_header_row_names_the_columns_in_any_order(lite: types.ModuleType) -> None:
    header = ["Financial score", "Usage score", "Notes", "Engagement", "Relationship score", "Outcomes score"]
    data = [[9.0, 8.0, "ok", 6.0, 7.0, 5.0], [5.0, 2.0, BLANK, 3.0, 4.0, 1.0]]
    got = call(lite, "HEALTHSCORE", [header, *data])
    reordered = [[r[1], r[3], r[4], r[5], r[0]] for r in data]
    assert same(got, [["Health score"], *([v] for v in core_scores(reordered, ENGINE))])


def test_healthscore_growth_preset_reads_four_columns(lite: types.ModuleType) -> None:
    scores = [[8.0, 6.0, 7.0, 9.0]]
    got = call(lite, "HEALTHSCORE", scores, None, cell("growth"))
    # 10 * (.4*8 + .25*6 + .2*7 + .15*9) = 10 * 7.45 = 74.5
    assert same(got, [[74.5]])
    assert same(call(lite, "HEALTHSCORE", scores, cell("Growth")), got)  # the preset as `weights` works too


def test_healthscore_growth_preset_on_five_columns_ignores_outcomes(lite: types.ModuleType) -> None:
    got = call(lite, "HEALTHSCORE", [ACCOUNTS[0]], None, cell("growth"))
    assert same(got, [core_scores([ACCOUNTS[0]], ENGINE, "growth")])


def test_healthscore_weights_from_settings_cells(lite: types.ModuleType) -> None:
    weights = col(1.0, 1.0, 1.0, 1.0, 1.0)  # equal weights: the mean of the five scores
    assert same(call(lite, "HEALTHSCORE", [ACCOUNTS[0]], weights), [[10 * (8 + 6 + 7 + 5 + 9) / 5]])
    blank = col(BLANK, BLANK, BLANK, BLANK, BLANK)  # Settings' default: blank weights = the preset's
    assert same(call(lite, "HEALTHSCORE", [ACCOUNTS[0]], blank), [[70.0]])
    pairs = [["Weight: usage", 2.0], ["Weight: financial", 2.0]]  # label | weight pairs from the Settings sheet
    assert same(call(lite, "HEALTHSCORE", [ACCOUNTS[0]], pairs), [[10 * (8 + 9) / 2]])


@pytest.mark.parametrize(
    ("weights", "preset", "expected"),
    [
        (cell("nope"), None, "weights must be a preset (engine, growth), got 'nope'"),
        (col(1.0, -1.0, 1.0, 1.0, 1.0), None, "weight of engagement must be a finite number >= 0, got -1"),
        (col(1.0, BLANK, 1.0, 1.0, 1.0), None, "weights must be all filled (or all blank for the preset's), got"),
        (col(1.0, 1.0), None, "weights must be one weight per scores column (5)"),
        (None, cell("turbo"), "preset must be a preset (engine, growth), got 'turbo'"),
        (cell("growth"), cell("engine"), "weights must be the preset named by preset (engine)"),
        (col(1.0, err("#N/A"), 1.0, 1.0, 1.0), None, "weights must be a value, not an Excel error"),
    ],
)
def test_healthscore_bad_setting_is_one_message(
    lite: types.ModuleType, weights: Any, preset: Any, expected: str
) -> None:
    got = call(lite, "HEALTHSCORE", ACCOUNTS, weights, preset)
    assert len(got) == 1
    assert len(got[0]) == 1
    assert got[0][0].startswith(expected)


def test_healthscore_bad_rows_get_a_message_the_others_compute(lite: types.ModuleType) -> None:
    rows = [ACCOUNTS[0], [11.0, 1.0, 1.0, 1.0, 1.0], [BLANK] * 5, ["high", 1.0, 1.0, 1.0, 1.0], ACCOUNTS[1]]
    rows.append([err("#N/A"), 1.0, 1.0, 1.0, 1.0])
    got = call(lite, "HEALTHSCORE", rows)
    good = core_scores([ACCOUNTS[0], ACCOUNTS[1]], ENGINE)
    assert same(got[0], [good[0]])
    assert same(got[4], [good[1]])
    assert got[1] == ["usage must be 0..10, got 11"]
    assert got[2] == [""]  # an all-blank row stays blank
    assert got[3] == ["usage must be a number (0..10), got 'high'"]
    assert got[5] == ["usage must be a value, not an Excel error, got #N/A"]


def test_healthscore_wrong_column_count(lite: types.ModuleType) -> None:
    got = call(lite, "HEALTHSCORE", [[1.0, 2.0, 3.0]])
    assert got[0][0].startswith("scores must be 5 columns (usage, engagement, relationship, outcomes, financial)")


def test_healthexplain_spills_the_breakdown(lite: types.ModuleType) -> None:
    got = call(lite, "HEALTHEXPLAIN", [ACCOUNTS[3]])
    table = csxl.explain_health(dict(zip(ENGINE, [7.0, np.nan, 6.0, np.nan, 8.0], strict=True)))
    assert got[0] == ["Dimension", "Score", "Weight", "Points", "Lost"]
    body = [[d, *cells(table.loc[d].to_numpy())] for d in table.index]
    assert same(got[1:-1], body)
    assert got[-1][0] == "Total"
    assert got[-1][1] == ""
    assert same(got[-1][2:], [1.0, 70.0, 30.0])  # points total = HEALTHSCORE (70, see above); points + lost = 100


def test_healthexplain_refuses_more_than_one_account(lite: types.ModuleType) -> None:
    got = call(lite, "HEALTHEXPLAIN", ACCOUNTS)
    assert got == [["scores must be one account (one row; use HEALTHSCORE), got '4 account rows'"]]


@pytest.mark.parametrize(
    ("scheme", "bounds", "scores", "expected"),
    [
        (None, None, [85.0, 80.0, 79.99, 60.0, 40.0, 39.9, 0.0], csxl.health_tier([85, 80, 79.99, 60, 40, 39.9, 0])),
        (cell("growth"), None, [80.0, 50.0, 49.9], csxl.health_tier([80, 50, 49.9], "growth")),
        # Settings tier cells 90/70/50: 85 -> Healthy (>= 70), 69 -> At-Risk (>= 50), 49 -> Critical
        (None, col(90.0, 70.0, 50.0), [85.0, 69.0, 49.0], ["Healthy", "At-Risk", "Critical"]),
        (None, col(90.0, 70.0, 50.0, 0.0), [95.0], ["Thriving"]),  # a trailing 0 (the last tier) is accepted
    ],
)
def test_healthtier(lite: types.ModuleType, scheme: Any, bounds: Any, scores: list[float], expected: Any) -> None:
    assert call(lite, "HEALTHTIER", col(*scores), scheme, bounds) == column(expected)


@pytest.mark.parametrize(
    ("scheme", "bounds", "expected"),
    [
        (cell("simple"), None, "scheme must be a 0..100 tier scheme"),
        (cell("gold"), None, "scheme must be a tier scheme"),
        (None, col(50.0, 70.0, 90.0), "bounds must be 3 decreasing numbers > 0"),
        (None, col(90.0, 70.0), "bounds must be 3 decreasing numbers > 0"),
    ],
)
def test_healthtier_bad_settings(lite: types.ModuleType, scheme: Any, bounds: Any, expected: str) -> None:
    got = call(lite, "HEALTHTIER", col(85.0, 20.0), scheme, bounds)
    assert len(got) == 1
    assert got[0][0].startswith(expected)


def test_healthtier_cells_blank_text_errors_and_range(lite: types.ModuleType) -> None:
    got = call(lite, "HEALTHTIER", col(85.0, BLANK, "n/a", err("#DIV/0!"), 120.0, 45.0))
    assert got == [
        ["Thriving"],
        [""],
        ["health score must be a number (0..100), got 'n/a'"],
        ["score must be a value, not an Excel error, got #DIV/0!"],
        ["health score must be 0..100, got 120"],
        ["At-Risk"],
    ]


def test_simplepoints_block_and_five_columns(lite: types.ModuleType) -> None:
    block = [[2.0, 1.0, 2.0, "Green", "red"], [2.0, 2.0, 2.0, 2.0, BLANK], [0.0, "Yellow", 1.0, 0.0, 1.0]]
    got = call(lite, "SIMPLEPOINTS", block)
    # 2+1+2+2+0 = 7; a blank dimension -> blank total; 0+1+1+0+1 = 3
    assert same(got, [[7], [""], [3]])
    by_column = call(lite, "SIMPLEPOINTS", *([[r[j]] for r in block] for j in range(5)))
    assert same(by_column, got)
    expected = csxl.simple_points(*(np.array([r[j] for r in block], dtype=object) for j in range(5)))
    assert same(got, column(expected))


def test_simplepoints_bad_value_and_missing_argument(lite: types.ModuleType) -> None:
    got = call(lite, "SIMPLEPOINTS", [[3.0, 1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0]])
    assert got == [["usage must be one of 0, 1, 2, Red, Yellow, Green, got 3"], [10]]
    assert call(lite, "SIMPLEPOINTS", col(2.0), col(2.0))[0][0].startswith("relationship must be given")


@pytest.mark.parametrize(
    ("points", "green", "yellow", "expected"),
    [
        ([8.0, 7.0, 5.0, 4.0, 10.0], None, None, ["Green", "Yellow", "Yellow", "Red", "Green"]),
        ([7.0, 6.0, 3.0], cell(7.0), cell(4.0), ["Green", "Yellow", "Red"]),  # Settings cut-offs 7 / 4
        (
            [7.5, BLANK, 11.0],
            None,
            None,
            ["points must be a whole number 0..10, got 7.5", "", "points must be a whole"],
        ),
    ],
)
def test_simpletier(lite: types.ModuleType, points: list[Any], green: Any, yellow: Any, expected: list[str]) -> None:
    got = call(lite, "SIMPLETIER", col(*points), green, yellow)
    assert [r[0][: len(e)] for r, e in zip(got, expected, strict=True)] == expected


def test_simpletier_bad_cut_off_is_one_message(lite: types.ModuleType) -> None:
    assert call(lite, "SIMPLETIER", col(8.0, 3.0), cell(4.0), cell(6.0)) == [["yellow must be below green (4), got 6"]]


@pytest.mark.parametrize(
    ("signal", "values", "green", "yellow"),
    [
        ("seat_adoption", [0.8, 0.75, 0.25, 0.1, BLANK], None, None),
        ("nps", [10.0, 8.0, 6.0], cell(8.0), None),
        ("payment", ["on-time", "late", "Overdue"], None, None),
        ("champion", ["strong", "weak", "left"], None, None),
    ],
)
def test_signalrag_matches_core(
    lite: types.ModuleType, signal: str, values: list[Any], green: Any, yellow: Any
) -> None:
    got = call(lite, "SIGNALRAG", cell(signal), col(*values), green, yellow)
    thresholds = {"green": (">=", 8.0)} if green else None
    expected = csxl.signal_rag(signal, np.array([None if v == BLANK else v for v in values], dtype=object), thresholds)
    assert got == column(expected)


@pytest.mark.parametrize(
    ("signal", "values", "green", "expected"),
    [
        ("seat_adoption", [1.5], None, "seat_adoption must be 0..1, got 1.5"),
        ("payment", ["late"], cell(3.0), "green must be blank (payment is rated by labels), got 3"),
        ("vibes", [1.0], None, "signal must be one of logins_per_week"),
        ("nps", [9.0], cell(-1.0), "thresholds must be valid for nps"),
    ],
)
def test_signalrag_errors(lite: types.ModuleType, signal: str, values: list[Any], green: Any, expected: str) -> None:
    assert call(lite, "SIGNALRAG", cell(signal), col(*values), green)[0][0].startswith(expected)


def test_churntier(lite: types.ModuleType) -> None:
    probabilities = [0.1, 0.2, 0.5, 0.8, 0.81, BLANK, 80.0]
    got = call(lite, "CHURNTIER", row(*probabilities))  # a row in, a row out
    expected = [*cells(csxl.churn_tier([0.1, 0.2, 0.5, 0.8, 0.81, None])), "churn probability must be a fraction"]
    assert [v[: len(e)] for v, e in zip(got[0], expected, strict=True)] == expected


def _stored_churn_model() -> tuple[csxl.ChurnModel, list[list[Any]]]:
    """A model fitted on a small known table, and its stored table as the Model sheet holds it (headings first),
    encoded as Office.js sends cells (blank "")."""
    from csxl.book.model_sheet import MODEL_HEADINGS
    from csxl.churn_table import MODEL_COLUMNS, model_table

    rng = np.random.default_rng(4)
    usage = rng.uniform(0, 100, 400)
    plan = rng.choice(["Pro", "Basic"], 400)
    churned = rng.random(400) < 1 / (1 + np.exp(-(1.0 - 0.05 * usage + 0.9 * (plan == "Basic"))))
    usage_cells = pd.Series(usage, dtype=object)
    usage_cells.iloc[::9] = None
    model = csxl.fit_churn_model(pd.DataFrame({"usage": usage_cells, "plan": plan, "churned": churned}))
    table = model_table(model).astype(object)
    rows = [[BLANK if pd.isna(v) else v for v in r] for r in table.itertuples(index=False)]
    return model, [[MODEL_HEADINGS[c] for c in MODEL_COLUMNS], *rows]


def test_churnprob_equals_the_core_for_each_row(lite: types.ModuleType) -> None:
    model, stored = _stored_churn_model()
    inputs = [[12.0, "Pro"], [BLANK, "Basic"], [88.0, "Team"], ["n/a", BLANK], [err("#N/A"), "Pro"]]
    got = call(lite, "CHURNPROB", inputs, row("usage", "plan"), stored)
    frame = pd.DataFrame([[12.0, "Pro"], [None, "Basic"], [88.0, "Team"], ["n/a", None]], columns=["usage", "plan"])
    expected = model.predict(frame).tolist()
    assert same([r[0] for r in got[:4]], expected)
    assert len(set(round(p, 9) for p in expected)) == 4  # four different rows: not one constant
    assert got[4][0] == "inputs must be values, not an Excel error"
    # the headings in another order, the inputs with them
    swapped = call(lite, "CHURNPROB", [[r[1], r[0]] for r in inputs[:2]], row("plan", "usage"), stored)
    assert same([r[0] for r in swapped], expected[:2])


@pytest.mark.parametrize(
    ("headings", "model_rows", "message"),
    [
        (["usage"], None, "frame must be a table with the columns the model was fitted on, got 'plan'"),
        (["usage", "plan"], 1, "model must be the Model sheet's stored table"),
        (["usage", "plan"], "bad", "model: 1 problem(s) in 1 row(s)"),
    ],
)
def test_churnprob_says_what_is_wrong(
    lite: types.ModuleType, headings: list[str], model_rows: Any, message: str
) -> None:
    _, stored = _stored_churn_model()
    if model_rows == 1:
        stored = stored[1:]  # the headings left out of the range
    elif model_rows == "bad":
        stored = [list(r) for r in stored]
        stored[1][6] = "high"  # the intercept is not a number
    inputs = [[12.0, "Pro"][: len(headings)]]
    got = call(lite, "CHURNPROB", inputs, row(*headings), stored)
    assert str(got[0][0]).startswith(message), got


# --------------------------------------------------------------------------------------------------------------------
# Every element-wise function: a column with a good value, a blank, text, an Excel error and an out-of-range value
# --------------------------------------------------------------------------------------------------------------------

X = object()  # where the column goes among the arguments

#: name, arguments (X = the column, others single cells), field named in messages, good value, wrong text,
#: out-of-range value, and the core computing the good value.
ELEMENTWISE: list[tuple[str, list[Any], str, Any, Any, Any, Callable[[Any], Any]]] = [
    ("HEALTHTIER", [X], "health score", 85.0, "high", 120.0, lambda v: csxl.health_tier(v)),
    ("SIMPLETIER", [X], "points", 7.0, "seven", 11.0, lambda v: csxl.simple_tier(v)),
    (
        "SIGNALRAG",
        ["seat_adoption", X],
        "seat_adoption",
        0.5,
        "half",
        1.5,
        lambda v: csxl.signal_rag("seat_adoption", v),
    ),
    ("CHURNTIER", [X], "churn probability", 0.3, "likely", 1.5, lambda v: csxl.churn_tier(v)),
    ("SIMPLEPOINTS", [X, 2.0, 2.0, 2.0, 2.0], "usage", 1.0, "purple", 3.0, lambda v: csxl.simple_points(v, 2, 2, 2, 2)),
    ("USAGESCORE", [X, 0.5], "dau_mau", 0.3, "lots", 1.5, lambda v: csxl.score_usage(v, 0.5)),
    (
        "ENGAGEMENTSCORE",
        [X, 2.0, True],
        "login_trend",
        "flat",
        "sideways",
        -2.0,
        lambda v: csxl.score_engagement(v, 2, True),
    ),
    (
        "RELATIONSHIPSCORE",
        ["Ana", "CFO", X],
        "contacts",
        3.0,
        "many",
        -1.0,
        lambda v: csxl.score_relationship("Ana", "CFO", v),
    ),
    ("OUTCOMESSCORE", [X, 2.0, False], "goals_defined", 4.0, "four", -1.0, lambda v: csxl.score_outcomes(v, 2, False)),
    ("FINANCIALSCORE", [X, True], "payment_status", "current", 5.0, "paid?", lambda v: csxl.score_financial(v, True)),
    ("NRR", [X, 10.0, 5.0, 5.0], "start_mrr", 100.0, "lots", -100.0, lambda v: csxl.nrr(v, 10, 5, 5)),
    ("GRR", [X, 5.0, 5.0], "start_mrr", 100.0, "lots", -100.0, lambda v: csxl.grr(v, 5, 5)),
    ("LOGOCHURN", [X, 1.0], "customers_start", 10.0, "ten", -5.0, lambda v: csxl.logo_churn_rate(v, 1)),
    ("REVENUECHURN", [X, 5.0, 5.0], "start_mrr", 100.0, "lots", -1.0, lambda v: csxl.revenue_churn_rate(v, 5, 5)),
    ("QUICKRATIO", [X, 10.0, 5.0, 5.0], "new", 100.0, "lots", -1.0, lambda v: csxl.quick_ratio(v, 10, 5, 5)),
    ("LTV", [X, 0.8, 0.02], "arpa", 100.0, "lots", -1.0, lambda v: csxl.ltv(v, 0.8, 0.02)),
    ("CACPAYBACK", [X, 100.0, 0.8], "cac", 1000.0, "lots", -1.0, lambda v: csxl.cac_payback(v, 100, 0.8)),
]


@pytest.mark.parametrize(
    ("name", "args", "field", "good", "text", "out_of_range", "core"), ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE]
)
def test_every_elementwise_function_cell_by_cell(
    lite: types.ModuleType,
    name: str,
    args: list[Any],
    field: str,
    good: Any,
    text: Any,
    out_of_range: Any,
    core: Callable[[Any], Any],
) -> None:
    values = [good, BLANK, text, err("#N/A"), out_of_range, good]
    sent = [col(*values) if a is X else cell(a) for a in args]
    got = call(lite, name, *sent)
    assert len(got) == len(values)  # one result per cell: the column spills
    expected = cells([core(good)])[0]
    assert same(got[0], [expected])
    assert same(got[5], [expected])  # the bad cells above do not stop the last one
    assert got[1] == [cells([core(None)])[0]]  # a blank cell gives what the core gives for a missing value
    assert got[2][0].startswith(f"{field} must be")
    assert got[2][0].endswith(f"got {text!r}") or got[2][0].endswith(f"got {text:g}")
    parameter = SIGNATURES[name][next(i for i, a in enumerate(args) if a is X)][0]  # Excel errors name the parameter
    assert got[3] == [f"{parameter} must be a value, not an Excel error, got #N/A"]
    assert got[4][0].startswith(f"{field} must be")
    assert f"got {out_of_range!r}" in got[4][0] or f"got {out_of_range:g}" in got[4][0]
    single = call(lite, name, *[cell(good) if a is X else cell(a) for a in args])  # the scalar form
    assert same(single, [[expected]])
    # a single cell holding an Excel error (issue 13: the empty first call saw it and gave the core's message)
    error_cell = call(lite, name, *[cell(err("#N/A")) if a is X else cell(a) for a in args])
    assert error_cell == [[f"{parameter} must be a value, not an Excel error, got #N/A"]]


# --------------------------------------------------------------------------------------------------------------------
# Dimension scores
# --------------------------------------------------------------------------------------------------------------------


def test_usagescore_single_column_and_broadcast(lite: types.ModuleType) -> None:
    assert same(call(lite, "USAGESCORE", cell(0.3), cell(0.5)), [[5.0]])  # 4 + 2 * mean(0.5, 0.5) = 5.0
    dau = [0.1, 0.2, 0.4, 0.5, 0.9, BLANK]
    got = call(lite, "USAGESCORE", col(*dau), cell(0.5))
    expected = csxl.score_usage(np.array([np.nan if v == BLANK else v for v in dau]), 0.5)
    assert same(got, column(expected))
    assert got[-1] == [""]  # blank DAU/MAU -> blank score
    omitted = call(lite, "USAGESCORE", col(*dau))  # feature_breadth omitted (sent as null)
    assert same(omitted, column(csxl.score_usage(np.array([np.nan if v == BLANK else v for v in dau]))))


def test_usagescore_per_cell_errors(lite: types.ModuleType) -> None:
    got = call(lite, "USAGESCORE", col(0.3, 1.5, "abc", err("#N/A"), True, 0.45), col(0.5, 0.5, 0.5, 0.5, 0.5, -0.1))
    assert got[0] == [csxl.score_usage(0.3, 0.5)]
    assert got[1] == ["dau_mau must be 0..1, got 1.5"]
    assert got[2] == ["dau_mau must be a number (0..1), got 'abc'"]
    assert got[3] == ["dau_mau must be a value, not an Excel error, got #N/A"]
    assert got[4] == ["dau_mau must be a number (0..1), got True"]
    assert got[5] == ["feature_breadth must be 0..1, got -0.1"]


def test_blank_as_null_reads_like_blank_as_empty_text(lite: types.ModuleType) -> None:
    # Pyodide hands some blanks over as None (JS null) rather than "": both are blank cells
    with_null = call(lite, "USAGESCORE", [[0.3], [None]], [[None], [0.5]])
    with_text = call(lite, "USAGESCORE", col(0.3, BLANK), col(BLANK, 0.5))
    assert with_null == with_text == [[csxl.score_usage(0.3)], [""]]
    assert call(lite, "HEALTHSCORE", [[None] * 5, ACCOUNTS[0]]) == [[""], [70.0]]


def test_sizes_must_match(lite: types.ModuleType) -> None:
    got = call(lite, "USAGESCORE", col(0.3, 0.4, 0.5), col(0.5, 0.5))
    assert got[0][0].startswith("argument sizes must be the same size for every range")


def test_a_bad_single_cell_argument_is_one_message(lite: types.ModuleType) -> None:
    assert call(lite, "USAGESCORE", col(0.3, 0.4), cell(1.5)) == [["feature_breadth must be 0..1, got 1.5"]]


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        # flat, 2 tickets, community active: 4 + 2 * mean(1 - 2/10, 1) = 5.8
        ("ENGAGEMENTSCORE", [cell("flat"), cell(2.0), cell(True)], 5.8),
        # champion only, 2 contacts: 4 + 2 * (2 - 1) / 3 = 4.667
        ("RELATIONSHIPSCORE", [cell("Ana Ruiz"), None, cell(2.0)], 4 + 2 * (2 - 1) / 3),
        # 4 goals, 2 achieved, no ROI: 4 + 2 * mean(0.5, 0) = 4.5
        ("OUTCOMESSCORE", [cell(4.0), cell(2.0), cell(False)], 4.5),
        ("OUTCOMESSCORE", [cell(3.0), cell(3.0), cell("yes")], 10.0),  # all met + ROI: 7 + 3 * 1 = 10
        ("FINANCIALSCORE", [cell("current"), cell(True)], 10.0),  # on time + expanding: 7 + 3 * mean(1, 1)
        ("FINANCIALSCORE", [cell("late")], 3.0),  # late: 0 + 3 * mean(1, 1 - 0) = 3
    ],
)
def test_dimension_scores_single_values(lite: types.ModuleType, name: str, args: list[Any], expected: float) -> None:
    assert same(call(lite, name, *args), [[expected]])


def test_dimension_scores_columns_match_core(lite: types.ModuleType) -> None:
    trend, tickets, community = ["down", "flat", "up", -0.5, BLANK], [0.0, 5.0, 12.0, 1.0, 1.0], [1.0, 0.0, "no", 1, 0]
    got = call(lite, "ENGAGEMENTSCORE", col(*trend), col(*tickets), col(*community))
    as_obj = [np.array([None if v == BLANK else v for v in c], dtype=object) for c in (trend, tickets, community)]
    assert same(got, column(csxl.score_engagement(*as_obj)))

    champion, sponsor, contacts = ["Ana", BLANK, "left", "Bo"], ["CFO", "CFO", BLANK, BLANK], [1.0, 4.0, 0.0, 5.0]
    got = call(lite, "RELATIONSHIPSCORE", col(*champion), col(*sponsor), col(*contacts))
    as_obj = [np.array([None if v == BLANK else v for v in c], dtype=object) for c in (champion, sponsor, contacts)]
    assert same(got, column(csxl.score_relationship(*as_obj)))

    got = call(lite, "OUTCOMESSCORE", col(4.0, 4.0, 0.0, 2.0), col(0.0, 4.0, 0.0, 3.0))
    assert got[:3] == column(csxl.score_outcomes(np.array([4.0, 4.0, 0.0]), np.array([0.0, 4.0, 0.0])))
    assert got[3] == ["goals_achieved must be <= goals_defined (2), got 3"]

    got = call(lite, "FINANCIALSCORE", col("delinquent", "current", "paid?"), col(False, True, False), cell(True))
    assert got[:2] == column(csxl.score_financial(np.array(["delinquent", "current"]), np.array([False, True]), True))
    assert got[2][0].startswith("payment_status must be one of failed, overdue, delinquent, late")


# --------------------------------------------------------------------------------------------------------------------
# Revenue metrics
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("NRR", [1000.0, 200.0, 50.0, 100.0], (1000 + 200 - 50 - 100) / 1000),
        ("GRR", [1000.0, 50.0, 100.0], (1000 - 50 - 100) / 1000),
        ("LOGOCHURN", [100.0, 2.0], 2 / 100),
        ("REVENUECHURN", [1000.0, 50.0, 100.0], (50 + 100) / 1000),
        ("REVENUECHURN", [1000.0, 50.0, 100.0, 300.0], (50 + 100 - 300) / 1000),  # net: negative
        ("QUICKRATIO", [100.0, 50.0, 25.0, 25.0], (100 + 50) / (25 + 25)),
        ("QUICKRATIO", [100.0, 50.0, 25.0, 25.0, 50.0], (100 + 50 + 50) / (25 + 25)),
        ("LTV", [100.0, 0.8, 0.02], 100 * 0.8 / 0.02),
        ("LTV", [100.0, 0.8, 0.0, 60.0], 100 * 0.8 * 60),  # churn 0, lifetime capped at 60 months
        ("CACPAYBACK", [1200.0, 100.0, 0.8], 1200 / (100 * 0.8)),
    ],
)
def test_revenue_single_values(lite: types.ModuleType, name: str, args: list[float], expected: float) -> None:
    assert same(call(lite, name, *(cell(a) for a in args)), [[expected]])


def test_revenue_columns_match_core(lite: types.ModuleType) -> None:
    start, exp, con, churn = [1000.0, 500.0, 800.0], [100.0, 0.0, 40.0], [0.0, 50.0, 10.0], [20.0, 0.0, 790.0]
    got = call(lite, "NRR", col(*start), col(*exp), col(*con), col(*churn))
    assert same(got, column(csxl.nrr(start, exp, con, churn)))
    got = call(lite, "GRR", col(*start), col(*con), col(*churn))
    assert same(got, column(csxl.grr(start, con, churn)))
    got = call(lite, "LTV", col(100.0, 200.0), cell(0.75), col(0.05, 0.1))
    assert same(got, column(csxl.ltv([100.0, 200.0], 0.75, [0.05, 0.1])))


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("NRR", [0.0, 0.0, 0.0, 0.0], "start_mrr must be > 0 (the ratio is undefined without starting MRR), got 0"),
        ("GRR", [100.0, 60.0, 50.0], "contraction + churned must be <= start_mrr"),
        ("LOGOCHURN", [10.0, 11.0], "customers_lost must be <= customers_start, got 11"),
        ("LTV", [100.0, 1.2, 0.02], "gross_margin must be 0..1 (a fraction: 0.8 means 80 %), got 1.2"),
        ("LTV", [100.0, 0.8, 0.0], "churn_rate must be > 0 when max_lifetime_months is not given, got 0"),
        ("CACPAYBACK", [1000.0, 0.0, 0.8], "arpa x gross_margin must be > 0"),
        ("QUICKRATIO", [10.0, 0.0, 0.0, 0.0], "no losses: quick ratio unbounded"),  # 10 / 0: not a number to show
        ("QUICKRATIO", [0.0, 0.0, 0.0, 0.0], "no movement: quick ratio undefined (0/0)"),
    ],
)
def test_revenue_messages(lite: types.ModuleType, name: str, args: list[float], expected: str) -> None:
    got = call(lite, name, *(cell(a) for a in args))
    assert len(got) == 1
    assert got[0][0].startswith(expected)


def test_ltv_bad_cap_is_one_message_and_blanks_propagate(lite: types.ModuleType) -> None:
    assert call(lite, "LTV", col(100.0, 90.0), cell(0.8), cell(0.02), cell(-5.0))[0][0].startswith(
        "max_lifetime_months must be > 0 (months) or None, got -5"
    )
    assert call(lite, "NRR", col(1000.0, BLANK), cell(0.0), cell(0.0), cell(0.0)) == [[1.0], [""]]
    assert call(lite, "QUICKRATIO", col(BLANK), cell(0.0), cell(0.0), cell(0.0)) == [[""]]  # blank, not "0/0"


# --------------------------------------------------------------------------------------------------------------------
# MRR tables (dates arrive as serial numbers in Lite)
# --------------------------------------------------------------------------------------------------------------------

JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)
MRR_ROWS = [
    ("A", JAN, 100.0),
    ("B", JAN, 50.0),
    ("A", FEB, 120.0),
    ("B", FEB, 0.0),
    ("A", MAR, 120.0),
    ("C", MAR, 80.0),
    ("B", MAR, 60.0),
]
MRR_FRAME = pd.DataFrame(MRR_ROWS, columns=["account", "month", "mrr"])


def mrr_range(header: bool = True) -> list[list[Any]]:
    rows = [[a, serial(m), v] for a, m, v in MRR_ROWS]
    return [["Account", "Month", "MRR"], *rows, [BLANK, BLANK, BLANK]] if header else rows


def date_cell(day: dt.date) -> dict[str, Any]:
    """How Lite writes a datetime result with @ret(date_format=...): a formatted serial number."""
    return {"type": "FormattedNumber", "basicValue": serial(day), "numberFormat": "yyyy-mm-dd"}


@pytest.mark.parametrize("header", [True, False])
def test_mrrmovements_spills_with_header_row(lite: types.ModuleType, header: bool) -> None:
    got = call(lite, "MRRMOVEMENTS", mrr_range(header))
    moves = csxl.mrr_movements(MRR_FRAME)
    assert got[0] == ["month", *MOVEMENT_COLUMNS]
    assert [r[0] for r in got[1:]] == [date_cell(JAN), date_cell(FEB), date_cell(MAR)]
    assert same([r[1:] for r in got[1:]], [cells(moves.loc[m].to_numpy(dtype=np.float64)) for m in moves.index])
    # February by hand: start 150, expansion 20 (A), churned 50 (B), end 120
    assert same(got[2][1:8], [150.0, 0.0, 20.0, 0.0, 50.0, 0.0, 120.0])


def test_mrrmovements_as_of_as_a_serial_date(lite: types.ModuleType) -> None:
    got = call(lite, "MRRMOVEMENTS", mrr_range(), cell(serial(dt.date(2024, 2, 15))))
    assert len(got) == 3
    assert got[-1][0] == date_cell(FEB)


def test_cohortgrid_blank_future_cells(lite: types.ModuleType) -> None:
    got = call(lite, "COHORTGRID", mrr_range())
    grid = csxl.cohort_table(MRR_FRAME)
    assert got[0] == ["cohort", 0, 1, 2]
    assert [r[0] for r in got[1:]] == [date_cell(JAN), date_cell(MAR)]
    assert same([r[1:] for r in got[1:]], [cells(grid.loc[c].to_numpy()) for c in grid.index])
    # Jan cohort (A, B): 2/2, 1/2 (B at 0 in Feb), 2/2 (B back); March cohort (C): 1 then not yet known (blank)
    assert same(got[1][1:], [1.0, 0.5, 1.0])
    assert same(got[2][1:], [1.0, "", ""])
    revenue = call(lite, "COHORTGRID", mrr_range(), cell("revenue"))
    assert same([r[1:] for r in revenue[1:]], [cells(v) for v in csxl.cohort_table(MRR_FRAME, "revenue").to_numpy()])


@pytest.mark.parametrize(("name", "metric"), [("COHORTNRR", csxl.cohort_nrr), ("COHORTGRR", csxl.cohort_grr)])
def test_cohort_retention(lite: types.ModuleType, name: str, metric: Callable[..., float]) -> None:
    got = call(lite, name, mrr_range(), cell(serial(MAR)), cell(2.0))
    assert same(got, [[metric(MRR_FRAME, "2024-03", 2)]])
    # by hand, base January (A 100, B 50) -> March (A 120, B 60): NRR 180/150 = 1.2; GRR (100 + 50)/150 = 1.0
    assert same(got, [[1.2 if name == "COHORTNRR" else 1.0]])
    assert same(call(lite, name, mrr_range(), None, cell(1.0)), [[metric(MRR_FRAME, None, 1)]])


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ([["account", "month", "mrr"], ["A", serial(JAN), -5.0]], "mrr row 2, mrr must be a number >= 0"),
        ([["account", "month", "mrr"], ["A", "03/04/2024", 5.0]], "mrr row 2, month must be a month (YYYY-MM"),
        (
            [["A", serial(JAN), 5.0], ["B", 12.0, 5.0]],  # serial 12 lies before 1900-03-01: not a month here
            "mrr row 2, month must be a month (YYYY-MM, YYYY-MM-DD, a date cell or an Excel serial number), got 12",
        ),
        ([["account", "month", "amount"], ["A", serial(JAN), 5.0]], "mrr header must be a row naming account"),
        ([["A", serial(JAN)]], "mrr must be 3 columns (account, month, mrr) or a header row, got '2 column(s)'"),
        ([["A", err("#REF!"), 5.0]], "mrr row 1, month must be a value, not an Excel error, got #REF!"),
    ],
)
def test_mrr_table_messages_name_the_range_row(lite: types.ModuleType, table: Any, expected: str) -> None:
    got = call(lite, "MRRMOVEMENTS", table)
    assert len(got) == 1
    assert got[0][0].startswith(expected)


def test_cohort_messages(lite: types.ModuleType) -> None:
    got = call(lite, "COHORTNRR", mrr_range(), cell(err("#N/A")))
    assert got == [["as_of must be a value, not an Excel error, got #N/A"]]
    assert call(lite, "COHORTNRR", mrr_range(), None, cell(1.5))[0][0].startswith("months must be a whole number >= 1")
    assert call(lite, "COHORTNRR", mrr_range(), cell("2024-01"))[0][0].startswith("as_of must be at least 12 month(s)")
    assert call(lite, "COHORTGRID", mrr_range(), cell("margin"))[0][0].startswith("basis must be one of logo, revenue")


# --------------------------------------------------------------------------------------------------------------------
# Surveys
# --------------------------------------------------------------------------------------------------------------------


def test_surveys_over_a_block_skip_blanks(lite: types.ModuleType) -> None:
    answers = [[10.0, 9.0, BLANK], [3.0, 8.0, 6.0]]
    # 2 promoters, 2 detractors (3, 6), 1 passive of 5 answers: 100 * (2 - 2) / 5 = 0
    assert same(call(lite, "NPS", answers), [[csxl.nps([10, 9, 3, 8, 6])]])
    assert same(call(lite, "NPS", answers), [[0.0]])
    # CSAT on 5 points: 4 and 5 are satisfied, 2 of 3 -> 66.67 %
    assert same(call(lite, "CSAT", row(5.0, 4.0, 3.0)), [[100 * 2 / 3]])
    assert same(call(lite, "CSAT", row(10.0, 9.0, 3.0), cell(10.0)), [[csxl.csat([10, 9, 3], scale=10)]])
    assert same(call(lite, "CES", col(7.0, 6.0, BLANK, 2.0)), [[(7 + 6 + 2) / 3]])


@pytest.mark.parametrize(
    ("name", "answers", "extra", "expected"),
    [
        ("NPS", [[10.0, 9.0], [8.0, 11.0]], [], "nps scores must be a whole number 0..10, got 11 (at row 2, column 2"),
        ("NPS", [[10.0, err("#N/A")]], [], "nps scores must be a value, not an Excel error, got #N/A (at row 1, col"),
        ("NPS", [[BLANK, BLANK]], [], "nps scores must be at least one answered score, got blank (no responses)"),
        ("CSAT", [[5.0, 6.0]], [], "csat scores must be a whole number 1..5, got 6"),
        ("CSAT", [[5.0]], [cell(2.0)], "scale must be a whole number >= 3, got 2"),
        ("CES", [[7.0, 8.0]], [], "ces scores must be a whole number 1..7, got 8"),
        ("CES", col(7.0, err("#DIV/0!")), [], "ces scores must be a value, not an Excel error, got #DIV/0! (at row 2"),
        ("CSAT", [[5.0, "great"]], [], "csat scores must be a number (a whole number 1..5), got 'great' (at row 1, co"),
    ],
)
def test_survey_messages(lite: types.ModuleType, name: str, answers: Any, extra: list[Any], expected: str) -> None:
    got = call(lite, name, answers, *extra)
    assert len(got) == 1
    assert got[0][0].startswith(expected)


# --------------------------------------------------------------------------------------------------------------------
# Classic xlwings (Windows COM UDFs): what registration exposes, without Windows
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classic() -> Iterator[tuple[types.ModuleType, types.ModuleType]]:
    """xlwings.udfs (classic registration) with the Windows-only COM modules stubbed, and the functions decorated by it.

    ``xlwings.udfs`` imports pythoncom / pywintypes / win32com at the top but only uses them to talk to Excel; its
    decorators and its VBA generator are plain Python, so they run here on stubs.
    """
    with pytest.MonkeyPatch.context() as mp:
        pythoncom = types.ModuleType("pythoncom")
        pythoncom.CoInitialize = lambda: None  # type: ignore[attr-defined]
        win32com, client = types.ModuleType("win32com"), types.ModuleType("win32com.client")
        client.Dispatch = lambda *a: None  # type: ignore[attr-defined]
        win32com.client = client  # type: ignore[attr-defined]
        for name, module in {
            "pythoncom": pythoncom,
            "pywintypes": types.ModuleType("pywintypes"),
            "win32com": win32com,
            "win32com.client": client,
        }.items():
            mp.setitem(sys.modules, name, module)
        path = Path(xlwings.__file__).parent / "udfs.py"
        spec = importlib.util.spec_from_file_location("xlwings.udfs", path)
        assert spec is not None
        assert spec.loader is not None
        udfs = importlib.util.module_from_spec(spec)
        mp.setitem(sys.modules, "xlwings.udfs", udfs)
        spec.loader.exec_module(udfs)
        mp.setattr(xlwings, "func", udfs.xlfunc)
        mp.setattr(xlwings, "arg", udfs.xlarg)
        mp.setattr(xlwings, "ret", udfs.xlret)
        yield udfs, _load_copy("csxl_excel_functions_classic", mp)


def test_classic_registration_metadata(classic: tuple[types.ModuleType, types.ModuleType]) -> None:
    _, module = classic
    for name, params in SIGNATURES.items():
        info = getattr(module, name).__xlfunc__
        assert info["name"] == name
        assert info["category"] == "csxl"
        assert [(a["name"], "optional" in a) for a in info["args"]] == params
        assert all(a["options"].get("ndim") == 2 and a["options"].get("err_to_str") for a in info["args"])
        assert all(not a["doc"].startswith("Positional argument") for a in info["args"])
        assert info["ret"]["doc"] == getattr(module, name).__doc__


def test_classic_vba_declares_every_function(classic: tuple[types.ModuleType, types.ModuleType]) -> None:
    udfs, module = classic
    out = io.StringIO()
    udfs.generate_vba_wrapper("csxl.excel.functions", module, out, types.SimpleNamespace(Name="Book1.xlsm"))
    vba = out.getvalue()
    for name, params in SIGNATURES.items():
        declared = ", ".join(f"Optional {p}" if optional else p for p, optional in params)
        assert f"Function {name}({declared})" in vba
        assert f'XLPy.CallUDF("csxl.excel.functions", "{name}"' in vba


def test_classic_call_gives_the_lite_answer(
    classic: tuple[types.ModuleType, types.ModuleType], lite: types.ModuleType
) -> None:
    # classic hands the function its arguments already converted (2-D lists, blanks None, errors as text) and the
    # Python default for an omitted optional argument
    _, module = classic
    as_classic = [[None if v == BLANK else v for v in r] for r in ACCOUNTS]
    shown = [["" if v is None else v for v in r] for r in module.HEALTHSCORE(as_classic)]  # classic shows None blank
    assert same(shown, call(lite, "HEALTHSCORE", ACCOUNTS))
    assert module.USAGESCORE([[0.3], [1.5]], [["#N/A"], [0.5]]) == [
        ["feature_breadth must be a value, not an Excel error, got #N/A"],
        ["dau_mau must be 0..1, got 1.5"],
    ]


def test_healthscore_plain_numeric_block_equals_the_general_path(lite: types.ModuleType) -> None:
    # a column of fully filled accounts takes one vectorised call; the result must be the general path's, row by row
    rng = np.random.default_rng(5)
    rows = rng.uniform(0, 10, (40, 5)).round(3).tolist()
    got = call(lite, "HEALTHSCORE", rows)
    assert same(got, [[v] for v in core_scores(rows, ENGINE)])
    # one bad value: the block falls back to the general path, the bad row gets its message, the others compute
    rows[7][2] = 12.0
    got = call(lite, "HEALTHSCORE", rows)
    assert got[7] == ["relationship must be 0..10, got 12"]
    good = [r for i, r in enumerate(rows) if i != 7]
    assert same([g for i, g in enumerate(got) if i != 7], [[v] for v in core_scores(good, ENGINE)])


def test_raw_scores_are_cleaned_exactly_as_xlwings_cleans_them(lite: types.ModuleType) -> None:
    # HEALTHSCORE takes `scores` raw under Office.js (a plain numeric block skips xlwings' per-cell cleaning); any other
    # block must come out as xlwings' own cleaning (ndim=2, err_to_str=True) would give it: the reference here
    from xlwings.pro._xlofficejs import Engine

    grid = [[1.0, BLANK, "text", err("#N/A"), 7], [None, 2.5, True, err("#DIV/0!"), "3"]]
    reference = Engine.clean_value_data(grid, None, None, None, True)
    assert lite._officejs_cells(grid) == reference
    assert lite._officejs_cells(4.0) == [[4.0]]  # one cell arrives as a scalar
    assert lite._officejs_cells([7.0, 5.0]) == [[7.0, 5.0]]  # one row arrives flat
    numbers = [[1.0, 2.0], [3.0, 4]]
    assert lite._officejs_cells(numbers) is numbers  # untouched: the fast path


def test_a_js_null_cell_is_blank() -> None:
    """Pyodide 0.28+ passes an empty cell as ``JsNull``; xlwings before 0.36.7 handed it on as it is. csxl's own
    cleaning reads it as blank: a primary input gives a blank, an omitted optional argument its default."""
    from csxl.excel import functions

    js_null = type("JsNull", (), {})()  # the name is what Pyodide's class is recognised by
    assert functions.USAGESCORE(js_null) == [[None]]
    assert functions.USAGESCORE(0.3, js_null) == functions.USAGESCORE(0.3)  # omitted feature breadth
    assert functions.HEALTHTIER(85.0, js_null, js_null) == [["Thriving"]]
    assert functions.CHURNTIER([[0.5, js_null]]) == [["High", None]]
