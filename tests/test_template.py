"""The template workbook's structure: sheets, tables, frozen panes, validations, named cells, formats, safety."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from csxl.book import layout
from csxl.book.formulas import formula_functions, points_formula, simple_points_formulas
from csxl.book.layout import ACCOUNTS, HISTORY, MRR, SIMPLE_SOURCES, SURVEYS, column_letter
from csxl.book.template import FILLS, build_template
from csxl.cells import header_key
from csxl.demo import DemoData, demo_portfolio
from csxl.errors import FileError, InputError
from csxl.models import CHURN_REASONS
from csxl.settings import SIMPLE_TIERS, TIER_SCHEMES
from csxl.signals import SIGNALS, NumericSignal

#: Functions Excel 2010+ and LibreOffice 7.4 both compute (a test-local allow-list, not the module's own).
PORTABLE = {"IF", "AND", "OR", "NOT", "ISNUMBER", "ISBLANK", "LOWER", "UPPER", "TRIM", "SUBSTITUTE", "SUM", "COUNT"}
PORTABLE |= {"COUNTA", "INT", "ROUND", "MIN", "MAX", "ABS", "LEN", "VALUE", "IFERROR", "AVERAGE", "VLOOKUP", "FIND"}
#: Newer Excel-only functions that must never appear.
FORBIDDEN = {"XLOOKUP", "LET", "FILTER", "LAMBDA", "UNIQUE", "SORT", "SEQUENCE", "IFS", "SWITCH", "TEXTJOIN", "XMATCH"}
TRICKY = ['=HYPERLINK("http://x","click")', "+1", "-1", "@SUM(A1)", "=1+1"]


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return demo_portfolio(250, seed=7)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory, demo: DemoData) -> Path:
    return build_template(tmp_path_factory.mktemp("t") / "demo.xlsx", demo=demo)


@pytest.fixture(scope="module")
def empty_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("t") / "empty.xlsx")


@pytest.fixture(scope="module")
def book(demo_path: Path) -> Workbook:
    return openpyxl.load_workbook(demo_path)


@pytest.fixture(scope="module")
def empty(empty_path: Path) -> Workbook:
    return openpyxl.load_workbook(empty_path)


# ---------------------------------------------------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "letters"),
    # spreadsheet column names: 26 letters, then two-letter names (27 = AA), 702 = ZZ, 703 = AAA
    [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (53, "BA"), (702, "ZZ"), (703, "AAA")],
)
def test_column_letter(index: int, letters: str) -> None:
    assert column_letter(index) == letters


def test_accounts_column_order() -> None:
    roles = [c.role for c in ACCOUNTS.columns]
    # inputs first, then the formula columns, then the csxl-owned ones (each role one contiguous block)
    assert roles == sorted(roles, key=["input", "formula", "owned"].index)
    assert ACCOUNTS.keys[:3] == ("account", "segment", "arr")
    assert [c.key for c in ACCOUNTS.role("formula")] == [
        "usage_points",
        "engagement_points",
        "relationship_points",
        "financial_points",
        "sentiment_points",
        "simple_points",
        "simple_tier",
    ]
    assert layout.OWNED_COLUMNS[:3] == ("health_score", "health_tier", "main_risk")
    assert MRR.keys == ("account", "month", "mrr")
    assert SURVEYS.keys == ("account", "date", "kind", "score", "comment")
    assert HISTORY.keys == ("as_of", "account", "health_score", "health_tier", "simple_points", "arr")


def test_layout_is_pure() -> None:
    code = (
        "import sys, csxl.book, csxl.book.layout, csxl.book.formulas\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {'openpyxl', 'xlwings'})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


# ---------------------------------------------------------------------------------------------------------------------
# sheets and tables
# ---------------------------------------------------------------------------------------------------------------------


def test_sheets_in_order(book: Workbook, empty: Workbook) -> None:
    expected = ["Start", "Settings", "Accounts", "MRR", "Surveys", "Health history", "Cohorts", "Dashboard", "Actions"]
    assert book.sheetnames == expected
    assert empty.sheetnames == expected


def test_tables_sized_to_the_data(book: Workbook, demo: DemoData) -> None:
    # header in row 2, one row per record: 250 accounts -> rows 3..252; MRR and Surveys as long as the demo tables
    expected = {
        "Accounts": ("tblAccounts", f"A2:{ACCOUNTS.last_letter}{2 + 250}"),
        "MRR": ("tblMRR", f"A2:C{2 + len(demo.mrr)}"),
        "Surveys": ("tblSurveys", f"A2:E{2 + len(demo.surveys)}"),
        "Health history": ("tblHistory", "A2:F3"),  # empty: one blank row (an Excel table cannot be header-only)
    }
    for sheet, (name, ref) in expected.items():
        tables = book[sheet].tables
        assert list(tables) == [name]
        assert tables[name].ref == ref


def test_empty_template_tables_have_one_blank_row(empty: Workbook) -> None:
    for spec in layout.TABLES:
        table = empty[spec.sheet].tables[spec.name]
        assert table.ref == f"A2:{spec.last_letter}3"
        inputs = [empty[spec.sheet].cell(3, spec.index(c.key)).value for c in spec.role("input")]
        assert all(v is None for v in inputs)


def test_headers_read_back_as_their_keys() -> None:
    """The loader (csxl.models.load_table) matches a header to its field: every friendly header must map back."""
    for spec in layout.TABLES:
        assert [header_key(c.header) for c in spec.columns] == list(spec.keys)


def test_accounts_inputs_are_the_model_columns() -> None:
    from csxl.models import ACCOUNT_COLUMNS

    inputs = [c.key for c in ACCOUNTS.role("input")]
    assert inputs == [c for c in ACCOUNT_COLUMNS if c not in layout.OWNED_COLUMNS]
    assert len(inputs) == 42  # 37 record columns account .. crm_id, then 5 <dimension>_override inputs


def test_table_headers_are_the_friendly_headers(book: Workbook) -> None:
    for spec in layout.TABLES:
        ws = book[spec.sheet]
        assert [ws.cell(2, i).value for i in range(1, len(spec.columns) + 1)] == [c.header for c in spec.columns]
        assert [c.name for c in ws.tables[spec.name].tableColumns] == [c.header for c in spec.columns]


def test_accounts_formula_columns_are_calculated_columns(book: Workbook) -> None:
    """Excel fills a calculated column's formula into rows added to the table: the formula columns carry the first
    data row's formula (cell text without ``=``), no other column carries one."""
    ws = book[ACCOUNTS.sheet]
    first = ACCOUNTS.first_data_row
    calculated = {c.name: c.calculatedColumnFormula for c in ws.tables[ACCOUNTS.name].tableColumns}
    for column in ACCOUNTS.columns:
        formula = calculated[column.header]
        if column.role == "formula":
            assert formula is not None and "=" + formula.attr_text == ws.cell(first, ACCOUNTS.index(column.key)).value
        else:
            assert formula is None, column.key
    for spec in (MRR, SURVEYS, HISTORY):
        assert all(c.calculatedColumnFormula is None for c in book[spec.sheet].tables[spec.name].tableColumns)


def test_frozen_panes(book: Workbook) -> None:
    assert book["Accounts"].freeze_panes == "B3"  # header rows and the account column
    for sheet in ("MRR", "Surveys", "Health history"):
        assert book[sheet].freeze_panes == "A3"
    assert book["Settings"].freeze_panes == "A4"


def test_demo_values_written(book: Workbook, demo: DemoData) -> None:
    ws = book["Accounts"]
    first = demo.accounts.iloc[0]
    assert ws.cell(3, ACCOUNTS.index("account")).value == first["account"]
    assert ws.cell(3, ACCOUNTS.index("arr")).value == pytest.approx(float(first["arr"]), abs=0)
    renewal = ws.cell(3, ACCOUNTS.index("renewal_date")).value
    assert isinstance(renewal, dt.datetime)
    assert renewal.date() == first["renewal_date"]
    flags = {ws.cell(r, ACCOUNTS.index("community_active")).value for r in range(3, 253)}
    assert flags == {"yes", "no"}  # booleans are written as yes/no text
    nps_blank = demo.accounts["nps"].isna().to_numpy()
    cells = [ws.cell(3 + i, ACCOUNTS.index("nps")).value for i in range(250)]
    assert [v is None for v in cells] == list(nps_blank)  # NaN -> an empty cell, never 0 or "nan"
    mrr = book["MRR"]
    assert mrr.cell(3, 3).value == pytest.approx(float(demo.mrr["mrr"].iloc[0]), abs=0)


# ---------------------------------------------------------------------------------------------------------------------
# formats, fills, validations
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "number_format"),
    [("arr", '"$"#,##0'), ("dau_mau", "0.0%"), ("renewal_date", "yyyy-mm-dd"), ("nps", "0"), ("simple_points", "0")],
)
def test_number_formats(book: Workbook, key: str, number_format: str) -> None:
    assert book["Accounts"].cell(3, ACCOUNTS.index(key)).number_format == number_format


def test_computed_cells_are_filled_inputs_are_not(book: Workbook) -> None:
    ws = book["Accounts"]
    for column in ACCOUNTS.columns:
        cell = ws.cell(10, ACCOUNTS.index(column.key))
        color = cell.fill.start_color.rgb if cell.fill.fill_type == "solid" else None
        expected = FILLS[column.role]
        assert (color[-6:] if color else None) == expected, column.key


def _validations(ws: Worksheet) -> dict[str, list[object]]:
    """Top-left cell of each validated range -> its validations."""
    out: dict[str, list[object]] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out.setdefault(rng.split(":")[0], []).append(dv)
    return out


@pytest.mark.parametrize(
    ("key", "labels"),
    # the labels the loader (csxl.models.AccountRecord) accepts, as the spec's health-score record lists them
    [
        ("payment_status", {"current", "late", "delinquent"}),
        ("champion_status", {"strong", "weak", "new", "left", "none"}),
        ("exec_sponsor_status", {"none", "identified", "engaged"}),
        ("integration", {"connected", "partial", "disconnected"}),
        ("contract_trend", {"expanded", "flat", "downgraded"}),
        ("login_trend", {"down", "flat", "up"}),
        ("usage_trend", {"down", "flat", "up"}),
        ("segment", {"enterprise", "mid-market", "smb", "self-serve"}),
        ("community_active", {"yes", "no"}),
        ("churn_reason", set(CHURN_REASONS)),
    ],
)
def test_label_columns_have_dropdowns(book: Workbook, key: str, labels: set[str]) -> None:
    found = _validations(book["Accounts"]).get(f"{ACCOUNTS.letter(key)}3", [])
    lists = [dv for dv in found if dv.type == "list"]  # type: ignore[attr-defined]
    assert len(lists) == 1
    assert set(lists[0].formula1.strip('"').split(",")) == labels  # type: ignore[attr-defined]
    assert lists[0].errorStyle == "warning"  # type: ignore[attr-defined]  # variants such as "On Time" stay possible


def test_numeric_validations_follow_the_registry(book: Workbook) -> None:
    nps = SIGNALS["nps"]
    assert isinstance(nps, NumericSignal)
    # NPS answers are whole numbers 0..10 (agent spec, NPS scale); DAU/MAU is a fraction 0..1 (100 % = 1)
    (dv,) = _validations(book["Accounts"])[f"{ACCOUNTS.letter('nps')}3"]
    assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("whole", "between", "0", "10")  # type: ignore[attr-defined]
    (dv,) = _validations(book["Accounts"])[f"{ACCOUNTS.letter('dau_mau')}3"]
    assert (dv.type, dv.formula1, dv.formula2) == ("decimal", "0", "1")  # type: ignore[attr-defined]


def test_validations_reach_below_the_data(empty: Workbook) -> None:
    ws = empty["Accounts"]
    ranges = [str(dv.sqref) for dv in ws.data_validations.dataValidation]
    assert all(int(re.findall(r"\d+", r)[-1]) >= 5000 for r in ranges)  # rows a user adds are validated too


# ---------------------------------------------------------------------------------------------------------------------
# Settings: named cells
# ---------------------------------------------------------------------------------------------------------------------


def _named_value(wb: Workbook, name: str) -> object:
    dn = wb.defined_names[name]
    ((sheet, ref),) = list(dn.destinations)
    return wb[sheet][ref.replace("$", "")].value


def test_defined_names_point_at_their_defaults(book: Workbook) -> None:
    nps, logins, contacts = SIGNALS["nps"], SIGNALS["logins_per_week"], SIGNALS["contacts"]
    assert isinstance(nps, NumericSignal)
    assert isinstance(logins, NumericSignal)
    assert isinstance(contacts, NumericSignal)
    expected: dict[str, object] = {
        "csxl_preset": "engine",
        "csxl_currency": "USD",
        "csxl_as_of": dt.datetime(2026, 10, 31),  # the demo's as-of date
        "csxl_sp_nps_green": nps.green[1],  # the registry's cut-offs
        "csxl_sp_nps_yellow": nps.yellow[1],
        "csxl_sp_logins_per_week_green": logins.green[1],
        "csxl_sp_logins_per_week_yellow": logins.yellow[1],
        "csxl_sp_contacts_green": contacts.green[1],
        "csxl_sp_contacts_yellow": contacts.yellow[1],
        "csxl_simple_green": dict(SIMPLE_TIERS.bounds)["Green"],
        "csxl_simple_yellow": dict(SIMPLE_TIERS.bounds)["Yellow"],
        "csxl_tier_engine_thriving": dict(TIER_SCHEMES["engine"].bounds)["Thriving"],
        "csxl_tier_engine_at_risk": dict(TIER_SCHEMES["engine"].bounds)["At-Risk"],
        "csxl_tier_growth_yellow": dict(TIER_SCHEMES["growth"].bounds)["Yellow"],
        "csxl_weight_usage": None,  # blank = the preset's weight
        "csxl_pts_payment_late": 1,  # the payment signal's Yellow label: 1 point
        "csxl_pts_login_trend_growing": 2,  # a synonym of "up": Green, 2 points
    }
    for name, value in expected.items():
        assert _named_value(book, name) == value, name
    tables = {"csxl_pts_payment", "csxl_pts_login_trend"}  # the label tables (two columns each)
    assert set(book.defined_names) == set(layout.settings_rows()) | tables
    for name in tables:
        assert book.defined_names[name].attr_text == layout.label_points_range(name.removeprefix("csxl_pts_"))


def test_settings_preset_dropdown(book: Workbook) -> None:
    row = layout.settings_rows()["csxl_preset"]
    (dv,) = _validations(book["Settings"])[f"B{row}"]
    assert dv.formula1 == '"engine,growth"'  # type: ignore[attr-defined]


def test_every_formula_name_is_defined(book: Workbook) -> None:
    formulas = simple_points_formulas(3)
    used = set(re.findall(r"csxl_\w+", " ".join(formulas.values())))
    assert used  # the cut-offs are named cells, not literals
    assert used <= set(book.defined_names)


# ---------------------------------------------------------------------------------------------------------------------
# formulas
# ---------------------------------------------------------------------------------------------------------------------


def _formulas(wb: Workbook) -> list[str]:
    return [str(cell.value) for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.data_type == "f"]


def test_formulas_are_in_every_accounts_row(book: Workbook) -> None:
    ws = book["Accounts"]
    for row in (3, 100, 252):
        for key, formula in simple_points_formulas(row).items():
            assert ws.cell(row, ACCOUNTS.index(key)).value == formula
    assert len(_formulas(book)) == 250 * 7  # 7 formula columns, 250 accounts, nothing else is a formula


def test_formulas_use_only_portable_functions(book: Workbook) -> None:
    called = set().union(*(formula_functions(f) for f in _formulas(book)))
    assert called <= PORTABLE, called - PORTABLE
    assert not called & FORBIDDEN
    for formula in set(_formulas(book)):
        assert "[" not in formula  # no structured references (LibreOffice is unreliable with them)
        assert "_xlfn" not in formula.lower()


def test_usage_formula_text() -> None:
    # hand-written from the registry: logins_per_week Green >= 3, Yellow >= 0.5 (named cells), lo = 0
    usage = next(s for s in SIMPLE_SOURCES if s.dimension == "usage")
    col = ACCOUNTS.letter("logins_per_week")
    cell = f"{col}7"
    assert points_formula(usage, 7) == (
        f'=IF(TRIM({cell})="","",IF(ISNUMBER({cell}),IF({cell}<0,"?",'
        f'IF({cell}>=csxl_sp_logins_per_week_green,2,IF({cell}>=csxl_sp_logins_per_week_yellow,1,0))),"?"))'
    )


def test_formula_functions_ignores_string_literals() -> None:
    assert formula_functions('=IF(A1="SUM(x)",LOWER(B2),0)') == {"IF", "LOWER"}


# ---------------------------------------------------------------------------------------------------------------------
# safety and recalculation
# ---------------------------------------------------------------------------------------------------------------------


def test_text_from_data_is_never_a_formula(tmp_path: Path) -> None:
    accounts = pd.DataFrame(
        {"account": TRICKY, "csm": ["=cmd|' /C calc'!A0", "ok", "-x", "+y", "@z"], "churn_reason": TRICKY}
    )
    empty = pd.DataFrame({"account": [], "month": [], "mrr": []})
    surveys = pd.DataFrame({"account": TRICKY, "comment": ["=1", "+2", "-3", "@4", '=HYPERLINK("a")']})
    path = build_template(
        tmp_path / "tricky.xlsx",
        demo=DemoData(accounts=accounts, mrr=empty, surveys=surveys, as_of=dt.date(2026, 1, 31)),
    )
    wb = openpyxl.load_workbook(path)
    ws = wb["Accounts"]
    for i, name in enumerate(TRICKY):
        cell = ws.cell(3 + i, 1)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (name, "s", True)
        assert ws.cell(3 + i, ACCOUNTS.index("churn_reason")).data_type == "s"
    assert ws.cell(3, ACCOUNTS.index("csm")).data_type == "s"
    assert all(wb["Surveys"].cell(3 + i, 5).data_type == "s" for i in range(5))
    # no formula element in the sheet XML holds data text
    with zipfile.ZipFile(path) as zf:
        xml = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
    assert not re.search(r"<f>[^<]*HYPERLINK", xml)
    assert "cmd|" not in "".join(re.findall(r"<f>[^<]*</f>", xml))


def test_recalculates_on_open(demo_path: Path) -> None:
    with zipfile.ZipFile(demo_path) as zf:
        workbook_xml = zf.read("xl/workbook.xml").decode()
    assert re.search(r'<calcPr[^>]*fullCalcOnLoad="1"', workbook_xml)


def test_start_sheet_explains_refresh_and_legend(book: Workbook) -> None:
    text = " ".join(str(c.value) for row in book["Start"].iter_rows() for c in row if c.value)
    assert "csxl refresh PATH" in text
    for sheet in layout.SHEETS:
        assert sheet in text
    fills = {
        c.fill.start_color.rgb[-6:] for row in book["Start"].iter_rows() for c in row if c.fill.fill_type == "solid"
    }
    assert {FILLS["formula"], FILLS["owned"]} <= fills


def test_placeholders_say_refresh(book: Workbook) -> None:
    for sheet in ("Cohorts", "Dashboard"):
        text = " ".join(str(c.value) for row in book[sheet].iter_rows() for c in row if c.value)
        assert "csxl refresh" in text


def test_unknown_demo_column_is_refused(tmp_path: Path) -> None:
    accounts = pd.DataFrame({"account": ["A"], "favourite_colour": ["blue"]})
    empty = pd.DataFrame({"account": [], "month": [], "mrr": []})
    data = DemoData(accounts=accounts, mrr=empty, surveys=empty, as_of=dt.date(2026, 1, 31))
    with pytest.raises(InputError, match="favourite_colour"):
        build_template(tmp_path / "x.xlsx", demo=data)


def test_formula_column_in_data_is_refused(tmp_path: Path) -> None:
    accounts = pd.DataFrame({"account": ["A"], "simple_points": [3]})
    empty = pd.DataFrame({"account": [], "month": [], "mrr": []})
    data = DemoData(accounts=accounts, mrr=empty, surveys=empty, as_of=dt.date(2026, 1, 31))
    with pytest.raises(InputError, match="simple_points"):
        build_template(tmp_path / "x.xlsx", demo=data)


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.xlsx"):
        build_template(tmp_path / "book.xls")
    with pytest.raises(FileError):
        build_template(tmp_path / "no" / "such" / "dir" / "book.xlsx")


def test_currency_format(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(build_template(tmp_path / "eur.xlsx", currency="EUR"))
    assert wb["Accounts"].cell(3, ACCOUNTS.index("arr")).number_format == '"€"#,##0'
    assert _named_value(wb, "csxl_currency") == "EUR"
    wb = openpyxl.load_workbook(build_template(tmp_path / "chf.xlsx", currency="CHF"))
    assert wb["Accounts"].cell(3, ACCOUNTS.index("arr")).number_format == '#,##0 "CHF"'


def test_docs_column_tables_match_the_layout() -> None:
    """docs/workbook.md's column and Settings tables are generated from the layout (python -m csxl.book.docs_tables)."""
    from pathlib import Path

    from csxl.book.docs_tables import BEGIN, END, layout_markdown

    page = (Path(__file__).resolve().parent.parent / "docs" / "workbook.md").read_text(encoding="utf-8")
    generated = page.split(BEGIN, 1)[1].split(END, 1)[0]
    assert generated.strip() == layout_markdown().strip(), "run: python -m csxl.book.docs_tables docs/workbook.md"
