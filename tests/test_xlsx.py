"""The file adapter (csxl.book.xlsx.apply_plan): surgical XML patches, everything else byte-identical, atomic replace.

Workbooks are compared by their unzipped members (never by the bytes of the zip). Expected values are the values the
test wrote (read back by two independent readers, openpyxl and python-calamine) or hand calculations shown inline.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import openpyxl
import pytest
from engine import recalculate, require_soffice
from openpyxl.workbook.defined_name import DefinedName
from python_calamine import CalamineWorkbook

from csxl.book import build_template
from csxl.book.plan import Block, Chart, Clear, Formula, Plan, ResizeTable, SheetSpec
from csxl.book.read import read_book
from csxl.book.refresh import plan_refresh
from csxl.book.refs import column_index
from csxl.book.xlsx import CHART_PREFIX, apply_plan, money_format
from csxl.book.xlsx import package as xlsx_package
from csxl.book.xlsx import sheet as xlsx_sheet
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


@pytest.fixture(params=["tree", "stream"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test on ``book`` or ``plain`` runs twice: with every worksheet parsed whole (``tree``) and with every
    worksheet's rows kept as raw bytes (``stream``; by default only parts of 256 KiB or more stream)."""
    monkeypatch.setattr(xlsx_sheet, "_STREAM_MIN_BYTES", 0 if request.param == "stream" else 1 << 62)
    return str(request.param)


@pytest.fixture
def book(tmp_path: Path, mode: str) -> Path:
    """A csxl template with a small demo portfolio (20 accounts)."""
    return build_template(tmp_path / "book.xlsx", demo=demo_portfolio(20, seed=3))


@pytest.fixture
def plain(tmp_path: Path, mode: str) -> Path:
    """A plain openpyxl workbook: the user's 'Notes' sheet (styled cell A1, numbers B1:B3) and csxl's 'Report'."""
    return plain_workbook(tmp_path / "plain.xlsx")


def plain_workbook(path: Path) -> Path:
    """The ``plain`` workbook at ``path``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Notes"
    ws["A1"] = "keep me"
    ws["A1"].font = openpyxl.styles.Font(bold=True)
    for r, v in enumerate((10, 20, 30), start=1):
        ws.cell(r, 2, v)
    wb.create_sheet("Report")
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
            Clear("Health history", 3, 1, 3, 6),
            ResizeTable("Health history", "tblHistory", "A2:F5"),
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
        parts["Health history"],
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
    apply_plan(book, Plan([ResizeTable("Health history", "tblHistory", "A2:F40")]))
    xml = members(book)["xl/tables/table4.xml"].decode()
    assert 'ref="A2:F40"' in xml
    assert '<autoFilter ref="A2:F40"' in xml
    assert openpyxl.load_workbook(book)["Health history"].tables["tblHistory"].ref == "A2:F40"


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
        apply_plan(book, Plan([ResizeTable("Health history", table, ref)]))
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


@pytest.mark.parametrize("lock_name", ["~$plain.xlsx", ".~lock.plain.xlsx#"])  # every spelling: test_read.py
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
    real = xlsx_package._ZipWriter._write
    calls = {"n": 0}

    def failing(self: xlsx_package._ZipWriter, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # a few members in: the temp file is half written
            raise error
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(xlsx_package._ZipWriter, "_write", failing)
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


# --------------------------------------------------------------------------------------------------------------------
# Big sheets: rows kept as raw bytes give the same XML as parsing the whole sheet
# --------------------------------------------------------------------------------------------------------------------

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"


def apply_both_ways(
    path: Path, plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, bytes], dict[str, bytes], list[bool]]:
    """Apply ``plan`` to copies of ``path`` with every sheet parsed whole and with every sheet's rows streamed.

    Returns both results' members and, for the streamed run, whether each worksheet part opened was cut into raw
    rows (a sheet that is not plain enough falls back to the whole-sheet parse)."""
    cuts: list[bool] = []
    real_cut = xlsx_sheet._cut_rows

    def spy(data: bytes) -> object:
        found = real_cut(data)
        cuts.append(found is not None)
        return found

    results = []
    for threshold in (1 << 62, 0):
        monkeypatch.setattr(xlsx_sheet, "_STREAM_MIN_BYTES", threshold)
        monkeypatch.setattr(xlsx_sheet, "_cut_rows", spy)
        cuts.clear()
        results.append(members(apply_plan(path, plan, out=tmp_path / f"out-{threshold}.xlsx")))
    return results[0], results[1], cuts


def assert_same_xml(tree: dict[str, bytes], stream: dict[str, bytes]) -> None:
    """Same members in the same order; worksheets equal as canonical XML (C14N 2.0: the raw rows keep their own
    quoting and empty-tag style), every other member byte for byte."""
    assert list(tree) == list(stream)
    for name in tree:
        if name.startswith("xl/worksheets/sheet"):
            assert ET.canonicalize(tree[name].decode()) == ET.canonicalize(stream[name].decode()), name
        else:
            assert tree[name] == stream[name], name


def refresh_plan(path: Path) -> Plan:
    """The plan `csxl refresh` computes for the workbook (fixed refresh time)."""
    book = read_book(path)
    portfolio = book.to_portfolio(None)
    plan, _rows = plan_refresh(book.places, portfolio, refreshed_at=_dt.datetime(2026, 1, 5, 9, 30))
    return plan


@pytest.fixture(scope="module")
def demo_2000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A csxl demo workbook with 2,000 accounts (Accounts sheet about 8 MB of XML)."""
    return build_template(tmp_path_factory.mktemp("big") / "big.xlsx", demo=demo_portfolio(2000, seed=11))


@pytest.mark.slow
def test_refresh_of_a_big_book_is_the_same_xml_streamed_or_parsed(
    demo_2000: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = refresh_plan(demo_2000)
    blocks = [op for op in plan.ops if isinstance(op, Block)]
    rows = {
        sheet: len({b.top + i for b in blocks if b.sheet == sheet for i in range(len(b.values))})
        for sheet in ("Accounts", "Health history")
    }
    assert rows["Accounts"] == 2000, "refresh-sized: every account row"
    assert rows["Health history"] > 1000, "and this as-of date's History snapshot"
    tree, stream, cuts = apply_both_ways(demo_2000, plan, tmp_path, monkeypatch)
    assert cuts.count(True) >= 2, "Accounts and History were streamed"
    # the same document either way (as canonical XML: openpyxl, which built the book, serialises through lxml when it
    # is installed, so the raw rows the stream copies keep lxml's spelling)
    assert_same_xml(tree, stream)
    before = members(demo_2000)
    accounts = sheet_parts(demo_2000)["Accounts"]
    assert stream[accounts] != before[accounts], "the plan did write the Accounts sheet"


def test_refresh_of_a_libreoffice_saved_book_is_the_same_xml_streamed_or_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LibreOffice writes its own XML: shared strings, <c .../> without a space, &quot; in formulas, row attributes.
    made = build_template(tmp_path / "made.xlsx", demo=demo_portfolio(40, seed=5))
    saved = recalculate(made, tmp_path / "lo")
    plan = refresh_plan(saved)
    tree, stream, cuts = apply_both_ways(saved, plan, tmp_path, monkeypatch)
    assert cuts.count(True) >= 2
    assert_same_xml(tree, stream)
    accounts = sheet_parts(saved)["Accounts"]
    assert tree[accounts] != stream[accounts], "raw rows keep LibreOffice's formatting (only C14N is equal)"
    # Read back independently: the written health scores are the scored ones, row by row.
    out = tmp_path / "stream.xlsx"
    out.write_bytes(b"")
    with zipfile.ZipFile(out, "w") as z:
        for name, data in stream.items():
            z.writestr(name, data)
    grid = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Accounts").to_python()
    header = grid[1]
    column = header.index("Health score")
    scored = read_book(saved).to_portfolio(None).scored["health_score"]
    for row in (3, 10, 42):
        assert grid[row - 1][column] == pytest.approx(scored[row]), row


def sheet_xml(rows: str, *, sheet_data: str | None = None) -> bytes:
    """A worksheet part as Excel writes one (default main namespace, x14ac row heights), around ``rows``."""
    data = sheet_data if sheet_data is not None else f"<sheetData>{rows}</sheetData>"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL}" '
        f'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
        f'xmlns:x14ac="{X14AC}"><dimension ref="A1:C3"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/>{data}'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    ).encode()


#: An untouched row written with single quotes: kept as is when rows stream, rewritten "..." when parsed.
SENTINEL = "<row r='40' spans='1:1'><c r='A40' t='n'><v>40</v></c></row>"

# (id, rows of sheet Notes, plan ops, {cell: value read back by openpyxl}, rows streamed?)
STREAM_CASES = [
    (
        "missing rows",
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="3"><c r="B3"><v>30</v></c></row>',
        [Block("Notes", 2, 1, [["two"]]), Block("Notes", 7, 2, [[7]])],
        {"A1": "keep me", "A2": "two", "B3": 30, "B7": 7},
        True,
    ),
    (
        "missing cells",
        '<row r="1"><c r="A1"><v>1</v></c><c r="C1"><v>3</v></c></row><row r="3"><c r="C3"><v>33</v></c></row>',
        [Block("Notes", 1, 2, [[2, None, 4]]), Block("Notes", 3, 1, [["a3"]])],
        {"A1": 1, "B1": 2, "C1": None, "D1": 4, "A3": "a3", "C3": 33},  # None empties C1
        True,
    ),
    (
        "shared strings",
        '<row r="1"><c r="A1" s="1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>1</v></c></row>',
        [Block("Notes", 1, 2, [[5.5]])],
        {"A1": "keep me", "B1": 5.5, "C1": "other"},
        True,
    ),
    (
        "inline strings and rich text",
        '<row r="2"><c r="A2" t="inlineStr"><is><t>old</t></is></c><c r="B2" t="inlineStr"><is><r><rPr><b/>'
        '<color rgb="FFFF0000"/><charset val="0"/></rPr><t>rich</t></r></is></c><c r="C2" t="inlineStr">'
        "<is><t>old</t></is></c></row>",
        [Block("Notes", 2, 1, [["a & <b>"]]), Block("Notes", 2, 3, [["=not a formula"]])],
        {"A2": "a & <b>", "B2": "rich", "C2": "=not a formula"},
        True,
    ),
    (
        "row spans and styles",
        '<row r="4" spans="2:3" s="1" customFormat="1" x14ac:dyDescent="0.25"><c r="B4" s="1"><v>1</v></c>'
        '<c r="C4" s="1"><v>2</v></c></row>',
        [Block("Notes", 4, 1, [[0, None, None, None, 4]])],
        {"A4": 0, "B4": None, "C4": None, "D4": None, "E4": 4},  # None empties B4 and C4, creates no D4
        True,
    ),
    (
        "self-closing rows",
        '<row r="6"/><row r="7" spans="1:1" />',
        [Block("Notes", 6, 1, [["six"], [None, "seven"]])],
        {"A6": "six", "B7": "seven"},
        True,
    ),
    (
        "formulas",
        '<row r="8"><c r="A8"><f>1+1</f><v>2</v></c><c r="B8" t="str"><f>"x"&amp;"y"</f><v>xy</v></c></row>',
        [Block("Notes", 8, 1, [[9, Formula("=A8*2")]])],
        {"A8": 9, "B8": "=A8*2"},
        True,
    ),
    (
        "clear",
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1" t="e"><v>#N/A</v></c></row>'
        '<row r="2"><c r="B2"><f>1+1</f><v>2</v></c><c r="C2"><v>3</v></c></row>',
        [Clear("Notes", 1, 2, 3, 2)],
        {"A1": "keep me", "B1": None, "B2": None, "C2": 3},
        True,
    ),
    (
        "cells out of order",  # the row is parsed and its cells sorted, as when the whole sheet is parsed
        '<row r="9"><c r="C9"><v>3</v></c><c r="A9"><v>1</v></c></row>',
        [Block("Notes", 9, 2, [[2]])],
        {"A9": 1, "B9": 2, "C9": 3},
        True,
    ),
    (
        "cells without r",
        '<row r="11"><c><v>1</v></c><c><v>2</v></c></row>',
        [Block("Notes", 11, 3, [[3]])],
        {"A11": 1, "B11": 2, "C11": 3},
        True,
    ),
    (
        "rows out of order",
        '<row r="3"><c r="A3"><v>3</v></c></row><row r="1"><c r="A1"><v>1</v></c></row>',
        [Block("Notes", 2, 1, [[2]])],
        {"A1": 1, "A2": 2, "A3": 3},
        True,
    ),
    (
        "row without r",  # not plain: the whole sheet is parsed
        '<row r="1"><c r="A1"><v>1</v></c></row><row><c r="A2"><v>2</v></c></row>',
        [Block("Notes", 2, 2, [[22]])],
        {"A1": 1, "A2": 2, "B2": 22},
        False,
    ),
    (
        "comment between rows",  # not plain: the whole sheet is parsed
        '<row r="1"><c r="A1"><v>1</v></c></row><!-- a note --><row r="2"><c r="A2"><v>2</v></c></row>',
        [Block("Notes", 2, 2, [[22]])],
        {"A1": 1, "A2": 2, "B2": 22},
        False,
    ),
]


def add_shared_strings(path: Path) -> None:
    """Give the workbook Excel's shared string table: string 0 is "keep me", string 1 "other"."""
    files = members(path)
    table = f'<sst xmlns="{MAIN_NS}" count="2" uniqueCount="2"><si><t>keep me</t></si><si><t>other</t></si></sst>'
    rels = (
        files["xl/_rels/workbook.xml.rels"]
        .decode()
        .replace(
            "</Relationships>",
            f'<Relationship Id="rIdSst" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
    )
    types = (
        files["[Content_Types].xml"]
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
    )
    rewrite(
        path,
        {
            "xl/sharedStrings.xml": table.encode(),
            "xl/_rels/workbook.xml.rels": rels.encode(),
            "[Content_Types].xml": types.encode(),
        },
    )


@pytest.mark.parametrize(
    ("rows", "ops", "expected", "streams"), [c[1:] for c in STREAM_CASES], ids=[c[0] for c in STREAM_CASES]
)
def test_streamed_rows_edge_cases(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: str,
    ops: list[Block | Clear],
    expected: dict[str, object],
    streams: bool,
) -> None:
    path = plain_workbook(tmp_path / "edge.xlsx")
    add_shared_strings(path)
    part = sheet_parts(path)["Notes"]
    rewrite(path, {part: sheet_xml(rows + (SENTINEL if streams else ""))})
    tree, stream, cuts = apply_both_ways(path, Plan(list(ops)), tmp_path, monkeypatch)
    assert cuts == [streams]
    assert_same_xml(tree, stream)
    if streams:
        assert SENTINEL in stream[part].decode(), "an untouched raw row is copied byte for byte"
        assert SENTINEL not in tree[part].decode()
    for result in (tree, stream):
        out = tmp_path / "check.xlsx"
        with zipfile.ZipFile(out, "w") as z:
            for name, data in result.items():
                z.writestr(name, data)
        ws = openpyxl.load_workbook(out)["Notes"]
        for ref, value in expected.items():
            assert ws[ref].value == value, ref
        xml = result[part].decode()
        refs = [(int(r), column_index(c)) for c, r in re.findall(r'<c r="([A-Z]+)(\d+)"', xml)]
        assert refs == sorted(refs), "rows and cells in order"


def test_streamed_row_widens_spans_and_takes_the_row_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = plain_workbook(tmp_path / "spans.xlsx")
    part = sheet_parts(path)["Notes"]
    row = '<row r="4" spans="2:3" s="1" customFormat="1" x14ac:dyDescent="0.25"><c r="B4" s="1"><v>1</v></c></row>'
    rewrite(path, {part: sheet_xml(row + SENTINEL)})
    _tree, stream, _cuts = apply_both_ways(path, Plan([Block("Notes", 4, 5, [["e"]])]), tmp_path, monkeypatch)
    xml = stream[part].decode()
    # spans 2:3 widened to the new cell E4 (column 5); E4 takes the row's format s="1" (customFormat).
    assert '<row r="4" spans="2:5" s="1" customFormat="1" x14ac:dyDescent="0.25">' in xml
    assert '<c r="E4" s="1" t="inlineStr"><is><t xml:space="preserve">e</t></is></c>' in xml
    # the fixture's dimension (A1:C3) does not cover the sentinel row 40: recomputed from every row
    assert '<dimension ref="A4:E40"' in xml  # B4..E4 and the sentinel A40


def test_a_sheet_with_empty_sheet_data_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = plain_workbook(tmp_path / "empty.xlsx")
    part = sheet_parts(path)["Notes"]
    rewrite(path, {part: sheet_xml("", sheet_data="<sheetData/>")})
    tree, stream, cuts = apply_both_ways(path, Plan([Block("Notes", 2, 2, [["x"]])]), tmp_path, monkeypatch)
    assert cuts == [False], "nothing to stream: the sheet is parsed"
    assert tree == stream
    assert '<row r="2"><c r="B2" t="inlineStr">' in stream[part].decode()
    assert '<dimension ref="A1:C3"' in stream[part].decode()  # the file's dimension already covers B2


def test_streamed_sheets_apply_twice_to_the_same_xml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = plain_workbook(tmp_path / "twice.xlsx")
    part = sheet_parts(path)["Notes"]
    rewrite(path, {part: sheet_xml(STREAM_CASES[1][1] + SENTINEL)})
    monkeypatch.setattr(xlsx_sheet, "_STREAM_MIN_BYTES", 0)
    plan = Plan([Block("Notes", 1, 2, [[2, None, 4]]), Block("Notes", 3, 1, [["a3"]]), Block("Notes", 5, 1, [[5]])])
    once = apply_plan(path, plan, out=tmp_path / "once.xlsx")
    twice = apply_plan(once, plan, out=tmp_path / "twice.xlsx")
    assert members(once) == members(twice)


def test_a_date_keeps_a_date_look_it_has_else_gets_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Notes"
    ws["A1"] = 1
    ws["A1"].number_format = "dd/mm/yyyy"  # a date look of the user's
    ws["B1"] = 2
    ws["B1"].font = openpyxl.styles.Font(bold=True)  # a look that is not a date
    path = tmp_path / "dates.xlsx"
    wb.save(path)
    part = sheet_parts(path)["Notes"]
    styles = dict(re.findall(r'<c r="([AB]1)" s="(\d+)"', members(path)[part].decode()))
    rows = f'<row r="1"><c r="A1" s="{styles["A1"]}"><v>1</v></c><c r="B1" s="{styles["B1"]}"><v>2</v></c></row>'
    rewrite(path, {part: sheet_xml(rows + SENTINEL)})
    day = _dt.date(2025, 6, 30)
    plan = Plan([Block("Notes", 1, 1, [[day, day, day]])])
    tree, stream, cuts = apply_both_ways(path, plan, tmp_path, monkeypatch)
    assert cuts == [True]
    assert_same_xml(tree, stream)
    out = tmp_path / "check.xlsx"
    with zipfile.ZipFile(out, "w") as z:
        for name, data in stream.items():
            z.writestr(name, data)
    ws = openpyxl.load_workbook(out)["Notes"]
    assert [ws[ref].value for ref in ("A1", "B1", "C1")] == [_dt.datetime(2025, 6, 30)] * 3
    assert ws["A1"].number_format == "dd/mm/yyyy"  # kept
    assert ws["B1"].number_format == "yyyy-mm-dd"  # not a date look: csxl's date look
    assert ws["C1"].number_format == "yyyy-mm-dd"  # a new cell


# --------------------------------------------------------------------------------------------------------------------
# The zip: untouched members copied compressed, big parts deflated in two halves
# --------------------------------------------------------------------------------------------------------------------


def test_untouched_members_are_copied_as_their_compressed_bytes(book: Path, tmp_path: Path) -> None:
    out = apply_plan(book, Plan([Block("Dashboard", 1, 1, [["x"]])]), out=tmp_path / "out.xlsx")
    parts = sheet_parts(book)
    with zipfile.ZipFile(book) as before, zipfile.ZipFile(out) as after:
        assert after.testzip() is None, "every member inflates to its CRC"
        assert after.namelist() == before.namelist()
        old = {info.filename: info for info in before.infolist()}
        for info in after.infolist():
            source = old[info.filename]
            assert (info.date_time, info.external_attr) == (source.date_time, source.external_attr)
            if info.filename not in (parts["Dashboard"], "xl/workbook.xml"):
                assert (info.CRC, info.compress_size) == (source.CRC, source.compress_size), info.filename
                with book.open("rb") as a, out.open("rb") as b:
                    assert raw_data(a, source) == raw_data(b, info), info.filename


def raw_data(handle: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """A member's stored (compressed) bytes, read past its local header (APPNOTE 4.3.7: 30 bytes, name, extra)."""
    handle.seek(info.header_offset)
    head = handle.read(30)
    name_length, extra_length = struct.unpack("<2H", head[26:30])
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    return handle.read(info.compress_size)


def test_a_zip_too_big_for_plain_headers_goes_through_zipfile(
    plain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_package, "_ZIP32_LIMIT", 2000)  # past 2,000 bytes: as if past 4 GB
    out = apply_plan(plain, Plan([Block("Notes", 1, 1, [["big"]])]), out=tmp_path / "z64.xlsx")
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert z.namelist() == zipfile.ZipFile(plain).namelist()
    assert openpyxl.load_workbook(out)["Notes"]["A1"].value == "big"
    assert openpyxl.load_workbook(out)["Notes"]["B3"].value == 30


@pytest.mark.parametrize("size", [0, 1, 5, 40_000, 100_001, 1_000_003])
def test_deflate_in_two_halves_inflates_to_the_part(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(xlsx_package, "_PARALLEL_DEFLATE_BYTES", 1)  # every part in two halves
    # Repetitive XML-like bytes, so the second half refers back across the cut into the first.
    row = b'<row r="7"><c r="A7" t="inlineStr"><is><t>Acme</t></is></c><c r="B7"><v>3.5</v></c></row>'
    data = (row * (size // len(row) + 1))[:size]
    stream, crc = xlsx_package._deflate(data)
    assert zlib.decompress(stream, -15) == data
    assert crc == zlib.crc32(data)
