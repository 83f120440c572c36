"""The file adapter (csxl.book.xlsx.apply_plan): surgical XML patches, everything else byte-identical, atomic replace.

Workbooks are compared by their unzipped members (never by the bytes of the zip). Expected values are the values the
test wrote (read back by two independent readers, openpyxl and python-calamine) or hand calculations shown inline.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from engine import recalculate, require_soffice
from openpyxl.workbook.defined_name import DefinedName
from python_calamine import CalamineWorkbook

from csxl.book import build_template
from csxl.book.plan import Block, Chart, Clear, Formula, Plan, ResizeTable, SheetSpec
from csxl.book.xlsx import CHART_PREFIX, apply_plan, money_format
from csxl.demo import demo_portfolio
from csxl.errors import FileError, InputError

XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
VBA_BYTES = b"\xd0\xcf\x11\xe0fake-vba-project" + bytes(range(256))

USER_DRAWING = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
    '<xdr:twoCellAnchor editAs="absolute"><xdr:from><xdr:col>3</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row>'
    "<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>5</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>3</xdr:row>"
    '<xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="[0]!RunRefresh" textlink=""><xdr:nvSpPr>'
    '<xdr:cNvPr id="2" name="Refresh button"/><xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr><a:prstGeom prst="roundRect">'
    "<a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>Refresh</a:t></a:r></a:p>"
    "</xdr:txBody></xdr:sp><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>"
)

EXCEL_ROOT = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{REL}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac xr xr2 xr3" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
    'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2" '
    'xmlns:xr3="http://schemas.microsoft.com/office/spreadsheetml/2016/revision3" '
    'xr:uid="{00000000-0001-0000-0000-000000000000}">'
)


# --------------------------------------------------------------------------------------------------------------------
# Helpers: read and patch workbook zips the way Excel-made files look
# --------------------------------------------------------------------------------------------------------------------


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def rewrite(path: Path, changes: dict[str, bytes | None], new_path: Path | None = None) -> Path:
    """Copy a zip with some members replaced or added (bytes) or removed (None); ``new_path`` renames it."""
    old = members(path)
    target = new_path or path
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in old.items():
            replacement = changes.get(name, data)
            if replacement is not None:
                z.writestr(name, replacement)
        for name, added in changes.items():
            if name not in old and added is not None:
                z.writestr(name, added)
    if target != path:
        path.unlink()
    return target


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> worksheet part, read with regexes (independent of the code under test)."""
    files = members(path)
    wb = files["xl/workbook.xml"].decode()
    rels = files["xl/_rels/workbook.xml.rels"].decode()
    targets = {}
    for rel in re.findall(r"<Relationship [^>]*>", rels):
        rid = re.search(r'Id="([^"]+)"', rel)
        target = re.search(r'Target="([^"]+)"', rel)
        assert rid
        assert target
        t = target.group(1)
        targets[rid.group(1)] = t[1:] if t.startswith("/") else "xl/" + t
    out = {}
    for entry in re.findall(r"<sheet [^>]*>", wb):
        name = re.search(r'name="([^"]+)"', entry)
        rid = re.search(r'r:id="([^"]+)"', entry)
        assert name
        assert rid
        out[name.group(1)] = targets[rid.group(1)]
    return out


def add_user_shape(path: Path, sheet: str) -> str:
    """Give ``sheet`` a DrawingML drawing with one ``xdr:sp`` shape (a button running a macro); returns its part."""
    part = sheet_parts(path)[sheet]
    files = members(path)
    drawing = "xl/drawings/drawing90.xml"
    xml = files[part].decode()
    assert "<drawing " not in xml
    xml = xml.replace("</worksheet>", '<drawing xmlns:r="' + REL + '" r:id="rIdUser1" /></worksheet>')
    rels_name = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    assert rels_name not in files
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rIdUser1" Type="{REL}/drawing" Target="../drawings/drawing90.xml"/></Relationships>'
    )
    types = (
        files["[Content_Types].xml"]
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/drawings/drawing90.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/></Types>',
        )
    )
    rewrite(
        path,
        {
            part: xml.encode(),
            rels_name: rels.encode(),
            drawing: USER_DRAWING.encode(),
            "[Content_Types].xml": types.encode(),
        },
    )
    return drawing


def make_xlsm(path: Path) -> Path:
    """Turn an .xlsx into a macro-enabled .xlsm with a (fake) xl/vbaProject.bin, typed and linked as Excel does."""
    files = members(path)
    types = files["[Content_Types].xml"].decode()
    types = types.replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    types = types.replace(
        "<Default ", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default ', 1
    )
    rels = (
        files["xl/_rels/workbook.xml.rels"]
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/></Relationships>',
        )
    )
    return rewrite(
        path,
        {
            "[Content_Types].xml": types.encode(),
            "xl/_rels/workbook.xml.rels": rels.encode(),
            "xl/vbaProject.bin": VBA_BYTES,
        },
        new_path=path.with_suffix(".xlsm"),
    )


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A csxl template with a small demo portfolio (20 accounts)."""
    return build_template(tmp_path / "book.xlsx", demo=demo_portfolio(20, seed=3))


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """A plain openpyxl workbook: the user's 'Notes' sheet (styled cell A1, numbers B1:B3) and csxl's 'Report'."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Notes"
    ws["A1"] = "keep me"
    ws["A1"].font = openpyxl.styles.Font(bold=True)
    for r, v in enumerate((10, 20, 30), start=1):
        ws.cell(r, 2, v)
    wb.create_sheet("Report")
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    return path


def full_plan() -> Plan:
    """Every kind of operation, on csxl's sheets only (Dashboard, Accounts owned columns, History, a new page)."""
    return Plan(
        [
            SheetSpec("Dashboard", widths={"A": 30.0, "B": 14.0}, tab_color="1F4E79"),
            Block("Dashboard", 1, 1, [["Portfolio"]], "title"),
            Block("Dashboard", 3, 1, [["Month", "MRR", "Churn"]], "header"),
            Block(
                "Dashboard",
                4,
                1,
                [["2024-01", 1000, 0.1], ["2024-02", 1100.5, 0.05], ["2024-03", 1250, 0.0]],
                [[None, "money", "pct"]] * 3,
            ),
            Block("Dashboard", 8, 1, [["Total", Formula("=SUM(B4:B6)")], ["As of", _dt.date(2024, 3, 31)]]),
            Chart("Dashboard", "mrr", "E3", "line", "MRR", "A4:A6", ("B4:B6",), ("MRR",)),
            Chart("Dashboard", "churn", "E20", "bar", "Churn", "A4:A6", ("C4:C6",), ("Churn",), y_format="0%"),
            SheetSpec("Acct Alpha", after="Accounts", widths={"A": 20.0}),
            Block("Acct Alpha", 1, 1, [["Alpha", 42, True, "=not a formula"]]),
            Clear("History", 3, 1, 3, 6),
            ResizeTable("History", "tblHistory", "A2:F5"),
        ]
    )


# --------------------------------------------------------------------------------------------------------------------
# Untouched members, shapes and VBA
# --------------------------------------------------------------------------------------------------------------------


def test_untouched_members_are_byte_identical_and_shape_and_vba_survive(book: Path, tmp_path: Path) -> None:
    add_user_shape(book, "Start")
    xlsm = make_xlsm(book)
    parts = sheet_parts(xlsm)
    before = members(xlsm)
    out = apply_plan(xlsm, full_plan(), out=tmp_path / "out.xlsm")
    after = members(out)

    # The parts the plan needs: the sheets it names, the package lists and styles; everything else is a copy.
    allowed = {
        parts["Dashboard"],
        parts["History"],
        "xl/tables/table4.xml",  # tblHistory (ResizeTable)
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/styles.xml",
    }
    changed = {name for name in before if name in after and before[name] != after[name]}
    assert changed <= allowed, changed - allowed
    assert set(before) <= set(after), "no member may be dropped"
    untouched = set(before) - allowed
    assert untouched, "the test must cover members that stay untouched"
    assert all(after[name] == before[name] for name in untouched)

    # The user's shape (drawing part, its link from Start) and the VBA project with its content type survive.
    assert after["xl/vbaProject.bin"] == VBA_BYTES
    assert "xdr:sp" in after["xl/drawings/drawing90.xml"].decode()
    assert after[parts["Start"]] == before[parts["Start"]]
    assert "macroEnabled.main+xml" in after["[Content_Types].xml"].decode()
    assert 'Extension="bin"' in after["[Content_Types].xml"].decode()
    assert "vbaProject" in after["xl/_rels/workbook.xml.rels"].decode()
    wb = openpyxl.load_workbook(out, keep_vba=True)
    assert wb["Dashboard"]["A1"].value == "Portfolio"


def test_chart_on_a_user_drawing_keeps_the_user_shape(book: Path) -> None:
    drawing = add_user_shape(book, "Start")
    plan = Plan([Chart("Start", "mix", "H2", "line", "Mix", "A1:A3", ("B1:B3",), ("B",))])
    apply_plan(book, plan)
    xml = members(book)[drawing].decode()
    assert xml.count("<xdr:sp ") == 1
    assert 'name="Refresh button"' in xml
    assert 'macro="[0]!RunRefresh"' in xml
    assert f'name="{CHART_PREFIX}mix"' in xml
    ids = re.findall(r'<xdr:cNvPr id="(\d+)"', xml)
    assert len(ids) == len(set(ids)) == 2, "drawing object ids stay unique"


def test_excel_namespace_prefixes_are_kept(plain: Path) -> None:
    """Excel's root declarations (named in mc:Ignorable) and prefixed attributes survive a rewrite."""
    part = sheet_parts(plain)["Notes"]
    xml = members(plain)[part].decode()
    xml = re.sub(r"<worksheet [^>]*>", EXCEL_ROOT, xml)
    xml = xml.replace('<row r="1"', '<row r="1" spans="1:2" x14ac:dyDescent="0.25"')
    # A prefix declared on a nested element and used only in an attribute value (mc:Choice Requires).
    nested = (
        '<mc:AlternateContent><mc:Choice xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
        'Requires="x14"><legacyDrawingHF r:id="rIdNone"/></mc:Choice><mc:Fallback/></mc:AlternateContent>'
    )
    xml = xml.replace("</worksheet>", nested + "</worksheet>")
    rewrite(plain, {part: xml.encode()})
    apply_plan(plain, Plan([Block("Notes", 1, 4, [["new"]])]))
    out = members(plain)[part].decode()
    root = re.search(r"<worksheet [^>]*>", out)
    assert root is not None
    for prefix in ("mc", "x14ac", "xr", "xr2", "xr3", "r"):
        assert f"xmlns:{prefix}=" in root.group(0), prefix
    assert 'mc:Ignorable="x14ac xr xr2 xr3"' in root.group(0)
    assert 'xr:uid="{00000000-0001-0000-0000-000000000000}"' in root.group(0)
    assert 'x14ac:dyDescent="0.25"' in out
    assert 'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"' in out
    assert 'Requires="x14"' in out
    assert 'spans="1:4"' in out, "a row's spans widen to the new cell D1"
    assert openpyxl.load_workbook(plain)["Notes"]["D1"].value == "new"


# --------------------------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------------------------

VALUES = [
    ("text", "Acme Corp", "Acme Corp"),
    ("unicode", "Zürich – 東京", "Zürich – 東京"),
    ("int", 42, 42),
    ("zero", 0, 0),
    ("negative float", -1.25, -1.25),
    ("big float", 1234567.875, 1234567.875),
    ("bool true", True, True),
    ("bool false", False, False),
    ("control chars stripped", "a\x00b\x1fc", "abc"),
    ("leading space kept", "  padded ", "  padded "),
]


@pytest.mark.parametrize(("label", "value", "expected"), VALUES, ids=[v[0] for v in VALUES])
def test_values_read_back_with_openpyxl_and_calamine(plain: Path, label: str, value: object, expected: object) -> None:
    apply_plan(plain, Plan([Block("Report", 2, 3, [[value]])]))  # type: ignore[list-item]
    assert openpyxl.load_workbook(plain)["Report"]["C2"].value == expected
    grid = CalamineWorkbook.from_path(str(plain)).get_sheet_by_name("Report").to_python(skip_empty_area=False)
    got = grid[1][2]
    assert got == expected
    if isinstance(expected, (str, bool)):
        assert type(got) is type(expected)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), None, ""])
def test_missing_numbers_become_empty_cells(plain: Path, value: object) -> None:
    apply_plan(plain, Plan([Block("Notes", 2, 2, [[value]])]))  # type: ignore[list-item]
    assert openpyxl.load_workbook(plain)["Notes"]["B2"].value is None  # it held 20 before


@pytest.mark.parametrize(
    ("value", "serial"),
    [
        # Excel's documented anchor: 1900-03-01 is serial 61 (60 is the fictitious 1900-02-29).
        (_dt.date(1900, 3, 1), "61"),
        # (2024-01-31 - 1899-12-30).days = 45322
        (_dt.date(2024, 1, 31), str((_dt.date(2024, 1, 31) - _dt.date(1899, 12, 30)).days)),
        # 18:00 is 0.75 of a day
        (_dt.datetime(2024, 1, 31, 18, 0), "45322.75"),
        # a future date
        (_dt.date(2099, 12, 31), str((_dt.date(2099, 12, 31) - _dt.date(1899, 12, 30)).days)),
    ],
)
def test_dates_are_serials_with_a_date_format(plain: Path, value: _dt.date, serial: str) -> None:
    apply_plan(plain, Plan([Block("Report", 1, 1, [[value]])]))
    xml = members(plain)[sheet_parts(plain)["Report"]].decode()
    assert f"<v>{serial}</v>" in xml
    cell = openpyxl.load_workbook(plain)["Report"]["A1"]
    assert cell.is_date
    assert cell.number_format == "yyyy-mm-dd"
    expected = value if isinstance(value, _dt.datetime) else _dt.datetime(value.year, value.month, value.day)
    assert cell.value == expected


def test_dates_before_march_1900_are_refused(plain: Path) -> None:
    before = members(plain)
    with pytest.raises(InputError, match="1900-03-01"):
        apply_plan(plain, Plan([Block("Report", 1, 1, [[_dt.date(1900, 2, 28)]])]))
    assert members(plain) == before


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "=1+1"])
def test_formula_like_text_stays_text(plain: Path, text: str) -> None:
    apply_plan(plain, Plan([Block("Report", 1, 1, [[text]])]))
    cell = openpyxl.load_workbook(plain)["Report"]["A1"]
    assert cell.value == text
    assert cell.data_type == "s"
    grid = CalamineWorkbook.from_path(str(plain)).get_sheet_by_name("Report").to_python()
    assert grid[0][0] == text
    assert "<f>" not in members(plain)[sheet_parts(plain)["Report"]].decode()


def test_formula_is_recalculated_by_libreoffice(book: Path, tmp_path: Path) -> None:
    # A fake calcChain (as Excel keeps one) must go, with its rel and content type, once csxl writes a formula.
    files = members(book)
    rels = (
        files["xl/_rels/workbook.xml.rels"]
        .decode()
        .replace(
            "</Relationships>",
            f'<Relationship Id="rIdCalc" Type="{REL}/calcChain" Target="calcChain.xml"/></Relationships>',
        )
    )
    types = (
        files["[Content_Types].xml"]
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/calcChain.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
        )
    )
    chain = '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="A1" i="1"/></calcChain>'
    wb_xml = files["xl/workbook.xml"].decode().replace(' fullCalcOnLoad="1"', "")
    rewrite(
        book,
        {
            "xl/_rels/workbook.xml.rels": rels.encode(),
            "[Content_Types].xml": types.encode(),
            "xl/calcChain.xml": chain.encode(),
            "xl/workbook.xml": wb_xml.encode(),
        },
    )
    plan = Plan(
        [
            SheetSpec("Dashboard"),
            Block("Dashboard", 1, 1, [[2.5], [4], [Formula("=SUM(A1:A2)*2")], [Formula("=csxl_currency")]]),
        ]
    )
    apply_plan(book, plan)
    after = members(book)
    assert "xl/calcChain.xml" not in after
    assert "calcChain" not in after["xl/_rels/workbook.xml.rels"].decode()
    assert "calcChain" not in after["[Content_Types].xml"].decode()
    assert re.search(r'<calcPr [^>]*fullCalcOnLoad="1"', after["xl/workbook.xml"].decode())

    require_soffice()
    recalculated = recalculate(book, tmp_path / "lo")
    wb = openpyxl.load_workbook(recalculated, data_only=True)
    assert wb["Dashboard"]["A3"].value == pytest.approx((2.5 + 4) * 2)  # = 13
    assert wb["Dashboard"]["A4"].value == "USD"  # the named Settings cell of the template
    original = openpyxl.load_workbook(book)
    assert wb.sheetnames == original.sheetnames
    for name in ("Start", "Settings", "Accounts"):
        assert wb[name]["A1"].value == original[name]["A1"].value
    grid = CalamineWorkbook.from_path(str(recalculated)).get_sheet_by_name("Dashboard").to_python()
    assert grid[2][0] == pytest.approx(13.0)


# --------------------------------------------------------------------------------------------------------------------
# Idempotence and the operations
# --------------------------------------------------------------------------------------------------------------------


def test_applying_the_same_plan_twice_gives_identical_xml(book: Path, tmp_path: Path) -> None:
    add_user_shape(book, "Start")
    once = apply_plan(book, full_plan(), out=tmp_path / "once.xlsx")
    twice = apply_plan(once, full_plan(), out=tmp_path / "twice.xlsx")
    first, second = members(once), members(twice)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_styles_are_added_once(book: Path) -> None:
    def xf_count() -> int:
        found = re.search(r'<cellXfs count="(\d+)"', members(book)["xl/styles.xml"].decode())
        assert found
        return int(found.group(1))

    start = xf_count()
    plan = Plan([Block("Dashboard", 1, 1, [["a", "b", 1, 0.5]], [["rag_red", "header", "money", "pct"]])])
    apply_plan(book, plan)
    grown = xf_count()
    assert start < grown <= start + 4
    apply_plan(book, plan)
    assert xf_count() == grown


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("USD", '"$"#,##0'), ("EUR", '"€"#,##0'), ("GBP", '"£"#,##0'), ("CHF", '#,##0 "CHF"'), ("chf", '#,##0 "CHF"')],
)
def test_money_format_follows_the_currency(plain: Path, currency: str, expected: str) -> None:
    assert money_format(currency) == expected
    apply_plan(plain, Plan([Block("Report", 1, 1, [[1200]], "money")]), currency=currency)
    assert openpyxl.load_workbook(plain)["Report"]["A1"].number_format == expected


@pytest.mark.parametrize(
    ("style", "number_format", "bold", "fill"),
    [
        ("title", "General", True, None),
        ("int", "0", False, None),
        ("number", "0.0", False, None),
        ("pct", "0.0%", False, None),
        ("date", "yyyy-mm-dd", False, None),
        ("rag_red", "General", True, "FFC00000"),
        ("header", "General", True, "FFD9D9D9"),
    ],
)
def test_styles_look(plain: Path, style: str, number_format: str, bold: bool, fill: str | None) -> None:
    apply_plan(plain, Plan([Block("Report", 1, 1, [[1]], style)]))  # type: ignore[arg-type]
    cell = openpyxl.load_workbook(plain)["Report"]["A1"]
    assert cell.number_format == number_format
    assert bool(cell.font.b) is bold
    assert (cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None) == fill


def test_block_with_no_style_keeps_each_cells_look(plain: Path) -> None:
    apply_plan(plain, Plan([Block("Notes", 1, 1, [["changed"]])]))
    cell = openpyxl.load_workbook(plain)["Notes"]["A1"]
    assert cell.value == "changed"
    assert cell.font.b


def test_new_cells_take_the_row_or_column_format(plain: Path) -> None:
    part = sheet_parts(plain)["Notes"]
    xml = members(plain)[part].decode()
    bold = re.search(r'<c r="A1" s="(\d+)"', xml)  # the bold look openpyxl gave A1
    assert bold
    s = bold.group(1)
    xml = xml.replace(
        "<sheetData>", f'<cols><col min="5" max="6" width="9" style="{s}" customWidth="1"/></cols><sheetData>'
    )
    xml = xml.replace('<row r="2"', f'<row r="2" s="{s}" customFormat="1"')
    rewrite(plain, {part: xml.encode()})
    apply_plan(plain, Plan([Block("Notes", 2, 3, [["in row 2"]]), Block("Notes", 7, 6, [["in column F"]])]))
    ws = openpyxl.load_workbook(plain)["Notes"]
    assert ws["C2"].font.b
    assert ws["F7"].font.b


def test_cells_stay_in_order_and_dimension_is_right(plain: Path) -> None:
    # Write right-to-left and bottom-to-top around the existing B1:B3 so every insert lands in the middle.
    plan = Plan([Block("Notes", 5, 4, [[1]]), Block("Notes", 4, 1, [["x"]]), Block("Notes", 1, 3, [["y"]])])
    apply_plan(plain, plan)
    xml = members(plain)[sheet_parts(plain)["Notes"]].decode()
    refs = re.findall(r'<c r="([A-Z]+)(\d+)"', xml)
    order = [(int(r), ord(c)) for c, r in refs]
    assert order == sorted(order)
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    assert rows == [1, 2, 3, 4, 5]
    assert re.search(r'<dimension ref="A1:D5"', xml)  # the old A1:B3 plus C1, A4 and D5


def test_clear_drops_values_and_keeps_the_look(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    accounts = wb["Accounts"]
    assert accounts["B3"].value is not None
    look = accounts["B3"].number_format, accounts["B3"].fill.fgColor.rgb
    apply_plan(book, Plan([Clear("Accounts", 3, 2, 4, 3)]))
    after = openpyxl.load_workbook(book)["Accounts"]
    assert after["B3"].value is None
    assert after["C4"].value is None
    assert (after["B3"].number_format, after["B3"].fill.fgColor.rgb) == look
    assert after["A3"].value == accounts["A3"].value  # outside the rectangle


def test_writing_over_a_shared_formula_master_keeps_the_other_cells(plain: Path) -> None:
    part = sheet_parts(plain)["Notes"]
    xml = members(plain)[part].decode()
    shared = (
        '<row r="1"><c r="C1"><f t="shared" ref="C1:C3" si="0">B1*2</f><v>20</v></c></row>'
        '<row r="2"><c r="C2"><f t="shared" si="0"/><v>40</v></c></row>'
        '<row r="3"><c r="C3"><f t="shared" si="0"/><v>60</v></c></row>'
    )
    xml = re.sub(r"<sheetData>.*</sheetData>", f"<sheetData>{shared}</sheetData>", xml)
    rewrite(plain, {part: xml.encode()})
    apply_plan(plain, Plan([Block("Notes", 1, 3, [["overwritten"]])]))
    out = members(plain)[part].decode()
    assert 'si="0"' not in out, "the group is dissolved: no cell points at a master that is gone"
    assert re.search(r'<c r="C2"><f>B2\*2</f>', out)
    assert re.search(r'<c r="C3"><f>B3\*2</f>', out)
    assert openpyxl.load_workbook(plain)["Notes"]["C1"].value == "overwritten"


def test_resize_table(book: Path) -> None:
    apply_plan(book, Plan([ResizeTable("History", "tblHistory", "A2:F40")]))
    xml = members(book)["xl/tables/table4.xml"].decode()
    assert 'ref="A2:F40"' in xml
    assert '<autoFilter ref="A2:F40"' in xml
    assert openpyxl.load_workbook(book)["History"].tables["tblHistory"].ref == "A2:F40"


@pytest.mark.parametrize(
    ("table", "ref", "error"),
    [
        ("tblHistory", "A2:F2", InputError),  # header only, no data row
        ("tblHistory", "A2:C9", InputError),  # 3 columns, the table has 6
        ("tblNope", "A2:F9", FileError),
        ("tblHistory", "2:F9", InputError),
    ],
)
def test_resize_table_refuses(book: Path, table: str, ref: str, error: type[Exception]) -> None:
    before = members(book)
    with pytest.raises(error):
        apply_plan(book, Plan([ResizeTable("History", table, ref)]))
    assert members(book) == before


def test_new_sheet_goes_after_and_shifts_sheet_indexes(plain: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "One"
    wb.create_sheet("Two")
    wb.create_sheet("Three")
    wb.active = 2  # Three
    wb["Three"].defined_names["local_three"] = DefinedName("local_three", attr_text="Three!$A$1")
    path = plain.with_name("three.xlsx")
    wb.save(path)
    apply_plan(path, Plan([SheetSpec("New", after="One", widths={"B": 22.5}, tab_color="C00000")]))
    out = openpyxl.load_workbook(path)
    assert out.sheetnames == ["One", "New", "Two", "Three"]
    assert out.active is not None
    assert out.active.title == "Three"
    wb_xml = members(path)["xl/workbook.xml"].decode()
    assert re.search(r'name="local_three" localSheetId="3"|localSheetId="3"[^>]*name="local_three"', wb_xml)
    new = out["New"]
    assert new.column_dimensions["B"].width == 22.5
    assert new.sheet_properties.tabColor is not None
    assert new.sheet_properties.tabColor.rgb == "FFC00000"


def test_new_sheet_without_after_goes_last(plain: Path) -> None:
    apply_plan(plain, Plan([SheetSpec("Zed"), Block("Zed", 1, 1, [["z"]])]))
    out = openpyxl.load_workbook(plain)
    assert out.sheetnames == ["Notes", "Report", "Zed"]
    assert out["Zed"]["A1"].value == "z"


def test_sheet_replace_empties_the_sheet_and_removes_only_csxl_charts(plain: Path) -> None:
    drawing = add_user_shape(plain, "Report")
    first = Plan(
        [
            Block("Report", 1, 1, [["a", 1], ["b", 2], ["c", 3]]),
            Chart("Report", "one", "E2", "line", "One", "A1:A3", ("B1:B3",), ("B",)),
            Chart("Report", "two", "E20", "pie", "Two", "A1:A3", ("B1:B3",), ("B",)),
        ]
    )
    apply_plan(plain, first)
    assert {"xl/charts/chart1.xml", "xl/charts/chart2.xml"} <= set(members(plain))
    second = Plan(
        [
            SheetSpec("Report", replace=True),
            Block("Report", 2, 1, [["x", 5], ["y", 6]]),
            Chart("Report", "one", "E2", "bar", "One again", "A2:A3", ("B2:B3",), ("B",)),
        ]
    )
    apply_plan(plain, second)
    after = members(plain)
    xml = after[drawing].decode()
    assert xml.count(f'name="{CHART_PREFIX}one"') == 1
    assert f"{CHART_PREFIX}two" not in xml
    assert 'name="Refresh button"' in xml, "the user's shape stays"
    # chart "one" keeps its part (chart1), the stale chart "two" goes with its content type
    assert [n for n in after if n.startswith("xl/charts/")] == ["xl/charts/chart1.xml"]
    assert "chart2" not in after["[Content_Types].xml"].decode()
    ws = openpyxl.load_workbook(plain)["Report"]
    assert ws["A1"].value is None
    assert ws["A2"].value == "x"
    assert len(ws._charts) == 1
    assert type(ws._charts[0]).__name__ == "BarChart"
    assert openpyxl.load_workbook(plain)["Notes"]["A1"].value == "keep me"


def test_sheet_replace_drops_a_drawing_left_empty(plain: Path) -> None:
    apply_plan(plain, Plan([Chart("Report", "one", "E2", "line", "One", "A1:A3", ("B1:B3",), ("B",))]))
    assert any(n.startswith("xl/drawings/") for n in members(plain))
    apply_plan(plain, Plan([SheetSpec("Report")]))
    after = members(plain)
    assert not any(n.startswith(("xl/drawings/", "xl/charts/")) for n in after)
    assert "<drawing" not in after[sheet_parts(plain)["Report"]].decode()
    assert "drawing" not in after["[Content_Types].xml"].decode()


def test_running_a_chart_again_replaces_it(plain: Path) -> None:
    base = Chart("Notes", "trend", "D2", "line", "Trend", "A1:A3", ("B1:B3",), ("B",))
    apply_plan(plain, Plan([base]))
    apply_plan(plain, Plan([Chart("Notes", "trend", "D2", "line", "Renamed", "A1:A3", ("B1:B3",), ("B",))]))
    charts = openpyxl.load_workbook(plain)["Notes"]._charts
    assert len(charts) == 1
    assert [n for n in members(plain) if n.startswith("xl/charts/")] == ["xl/charts/chart1.xml"]
    assert "Renamed" in members(plain)["xl/charts/chart1.xml"].decode()


@pytest.mark.parametrize(
    ("kind", "cls", "grouping"),
    [("line", "LineChart", "standard"), ("bar", "BarChart", "clustered"), ("stacked", "BarChart", "stacked")],
)
def test_chart_kinds(plain: Path, kind: str, cls: str, grouping: str) -> None:
    plan = Plan(
        [
            Block("Report", 1, 1, [["m1", 1, 2], ["m2", 3, 4]]),
            Chart("Report", "k", "E2", kind, "K", "A1:A2", ("B1:B2", "C1:C2"), ("B", "C")),  # type: ignore[arg-type]
        ]
    )
    apply_plan(plain, plan)
    chart = openpyxl.load_workbook(plain)["Report"]._charts[0]
    assert type(chart).__name__ == cls
    assert chart.grouping == grouping
    assert [s.val.numRef.f for s in chart.series] == ["'Report'!$B$1:$B$2", "'Report'!$C$1:$C$2"]
    xml = members(plain)["xl/charts/chart1.xml"].decode()
    assert "strRef" in xml, "text categories are a string reference"


@pytest.mark.parametrize(
    ("chart", "field"),
    [
        (Chart("Report", "p", "E2", "pie", "P", "A1:A2", ("B1:B2", "C1:C2"), ("B", "C")), "series"),
        (Chart("Report", "p", "E2", "line", "P", "A1:A2", ("B1:B2",), ()), "series_titles"),
        (Chart("Report", "p", "E2", "line", "P", "A1:A2", (), ()), "series"),
        (Chart("Report", "p", "nowhere", "line", "P", "A1:A2", ("B1:B2",), ("B",)), "anchor"),
        (Chart("Report", "p", "E2", "line", "P", "Other!A1:A2", ("B1:B2",), ("B",)), "categories"),
    ],
)
def test_bad_charts_are_refused(plain: Path, chart: Chart, field: str) -> None:
    before = members(plain)
    with pytest.raises(InputError, match=field):
        apply_plan(plain, Plan([chart]))
    assert members(plain) == before


# --------------------------------------------------------------------------------------------------------------------
# Safety: lock files, out, atomic replace, errors
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lock_name", ["~$plain.xlsx", "~$ain.xlsx"])
def test_excel_lock_file_refuses_unless_forced(plain: Path, lock_name: str) -> None:
    (plain.parent / lock_name).write_bytes(b"owner")
    before = members(plain)
    with pytest.raises(FileError, match="--force") as info:
        apply_plan(plain, Plan([Block("Report", 1, 1, [["x"]])]))
    assert "close" in str(info.value)
    assert members(plain) == before
    apply_plan(plain, Plan([Block("Report", 1, 1, [["x"]])]), force=True)
    assert openpyxl.load_workbook(plain)["Report"]["A1"].value == "x"


def test_out_leaves_the_original_untouched(plain: Path, tmp_path: Path) -> None:
    before = members(plain)
    out = apply_plan(plain, Plan([Block("Notes", 1, 1, [["new"]])]), out=tmp_path / "sub.xlsx")
    assert members(plain) == before
    assert openpyxl.load_workbook(out)["Notes"]["A1"].value == "new"


@pytest.mark.parametrize("error", [OSError("disk full"), RuntimeError("boom")])
def test_a_failed_write_leaves_the_original_and_no_temp_file(
    plain: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    before = members(plain)
    stat = plain.stat()
    listing = sorted(p.name for p in plain.parent.iterdir())
    real = zipfile.ZipFile.writestr
    calls = {"n": 0}

    def failing(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # a few members in: the temp file is half written
            raise error
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises((FileError, RuntimeError)):
        apply_plan(plain, Plan([Block("Notes", 1, 1, [["never"]])]))
    monkeypatch.undo()
    assert calls["n"] == 3
    assert members(plain) == before
    assert (plain.stat().st_size, plain.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert sorted(p.name for p in plain.parent.iterdir()) == listing


def test_not_a_zip_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("not a workbook")
    with pytest.raises(FileError, match="not a zip") as info:
        apply_plan(path, Plan())
    assert info.value.path == str(path)


def test_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="does not exist"):
        apply_plan(tmp_path / "nope.xlsx", Plan())


def test_missing_sheet_is_a_file_error(plain: Path) -> None:
    with pytest.raises(FileError, match="no sheet named 'Ghost'") as info:
        apply_plan(plain, Plan([Block("Ghost", 1, 1, [["x"]])]))
    assert info.value.path == str(plain)


def test_missing_sheet_part_is_a_file_error(plain: Path) -> None:
    part = sheet_parts(plain)["Report"]
    rewrite(plain, {part: None})
    with pytest.raises(FileError, match="missing"):
        apply_plan(plain, Plan([Block("Report", 1, 1, [["x"]])]))


@pytest.mark.parametrize(
    ("plan", "kwargs"),
    [
        (Plan([Block("Report", 0, 1, [["x"]])]), {}),
        (Plan([Block("Report", 1, 1, [["x"]], "shiny")]), {}),  # type: ignore[arg-type]
        (Plan([Block("Report", 1, 1, [[object()]])]), {}),  # type: ignore[list-item]
        (Plan([SheetSpec("Bad/Name")]), {}),
        (Plan([SheetSpec("Wide", widths={"B": -1.0})]), {}),
        (Plan([SheetSpec("Tab", tab_color="red")]), {}),
        (Plan([Clear("Report", 5, 1, 2, 1)]), {}),
        (Plan(), {"currency": "US$"}),
        (Plan(), {"out": "elsewhere.xls"}),
    ],
)
def test_bad_plans_are_input_errors(plain: Path, plan: Plan, kwargs: dict[str, object]) -> None:
    before = members(plain)
    if "out" in kwargs:
        kwargs = {"out": plain.parent / str(kwargs["out"])}
    with pytest.raises(InputError):
        apply_plan(plain, plan, **kwargs)  # type: ignore[arg-type]
    assert members(plain) == before


def test_never_touches_sheets_the_plan_does_not_name(book: Path) -> None:
    parts = sheet_parts(book)
    before = members(book)
    apply_plan(book, Plan([Block("Cohorts", 5, 1, [[1.0, math.pi]])]))
    after = members(book)
    for name, part in parts.items():
        if name != "Cohorts":
            assert after[part] == before[part], name
