"""The macro workbook (``csxl new PATH.xlsm``): the csxl template plus xlwings' standalone VBA and a Refresh button.

It follows ``xlwings quickstart --standalone``: the workbook carries the VBA project of the *installed* xlwings
(``quickstart_standalone.xlsm``: the ``xlwings`` module with ``RunPython``, and ``Module1.SampleCall``, which runs
``RunPython "import <book>; <book>.main()"`` where ``<book>`` is the file name without extension), so no xlwings
add-in is needed, and a companion Python module ``<book>.py`` next to the workbook provides ``main()``.

How it is built (one template for both flavours):

1. :func:`csxl.book.template.build_template` writes the normal ``.xlsx`` into a temporary file (or ``plain`` is
   given: a csxl workbook to convert);
2. the zip is converted: the workbook part gets the macro-enabled content type, ``xl/vbaProject.bin`` (copied
   byte-for-byte from xlwings) is added with its relationship, the workbook and every sheet get VBA code names
   (``ThisWorkbook``, ``Sheet1`` ...), an ``xlwings.conf`` sheet is added (xlwings' settings: ``UDF Modules`` =
   ``csxl.excel.functions`` and the quickstart's other keys), the Dashboard gets a form-control button (legacy VML
   drawing, ``FmlaMacro`` = ``[0]!SampleCall``), and the Start sheet gets a note on macros and xlwings' licence;
3. :func:`csxl.book.refresh.refresh` fills the converted workbook (the file adapter): the ``xlwings.conf`` sheet
   makes it the live-formula flavour (:mod:`csxl.book.live`: the Live scores arrays, except on a Mac), and the
   result is moved over ``PATH`` in one step; ``<book>.py`` is written next to it.
"""

from __future__ import annotations

import datetime as _dt
import keyword
import re
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import xlwings

from csxl.book import layout
from csxl.book.archive import HistoryArchive
from csxl.book.refresh import refresh
from csxl.book.refs import sheet_parts
from csxl.book.safety import replacing
from csxl.book.template import build_template
from csxl.book.xlsx import DOC_REL, MAIN, PKG_REL
from csxl.demo import DemoData
from csxl.errors import FileError, InputError

__all__ = ["CONF_SHEET", "MACRO", "UDF_MODULES", "build_xlsm", "companion_module", "xlwings_vba_source"]

#: The quickstart macro the Refresh button runs (``Module1.SampleCall`` of xlwings' standalone workbook).
MACRO = "SampleCall"
#: Name of xlwings' settings sheet (the quickstart's ``_xlwings.conf``, activated).
CONF_SHEET = "xlwings.conf"
#: The module classic xlwings imports the worksheet functions from (``Import Functions``).
UDF_MODULES = "csxl.excel.functions"

_MAIN_NS = MAIN
_REL_NS = DOC_REL
_PKG_REL_NS = PKG_REL
_RT_WORKSHEET = _REL_NS + "/worksheet"
_RT_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_RT_VML = _REL_NS + "/vmlDrawing"
_CT_XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_CT_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_CT_VBA = "application/vnd.ms-office.vbaProject"
_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
#: Worksheet children that come after ``<legacyDrawing>`` (ECMA-376 CT_Worksheet order).
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts")

#: The quickstart's xlwings.conf keys, in its order (A1 down; the block must have no gaps), with csxl's values.
CONF_ROWS: tuple[tuple[str, str | bool], ...] = (
    ("Interpreter_Win", "python"),
    ("Interpreter_Mac", ""),
    ("PYTHONPATH", ""),
    ("Conda Path", ""),
    ("Conda Env", ""),
    ("UDF Modules", UDF_MODULES),
    ("Debug UDFs", False),
    ("Use UDF Server", False),
    ("Show Console", False),
)
_CONF_NOTES = (
    "Settings of xlwings for this workbook (they override the xlwings add-in and xlwings.conf files).",
    "Interpreter_Win / Interpreter_Mac: the full path of the Python that has csxl installed, e.g. "
    r"C:\Users\me\csxl\.venv\Scripts\python.exe or /Users/me/csxl/.venv/bin/python (blank on Mac: python).",
    "UDF Modules: the module of the worksheet functions; run the macro ImportPythonUDFs (Alt+F8) once to add them.",
    'The Refresh button on Dashboard runs the macro SampleCall: RunPython "import <book>; <book>.main()", where '
    "<book>.py lies next to this workbook.",
)


def _xlwings_dir() -> Path:

    return Path(xlwings.__file__).parent


def _vba_project() -> bytes:
    """``xl/vbaProject.bin`` of the installed xlwings' ``quickstart_standalone.xlsm``."""
    source = _xlwings_dir() / "quickstart_standalone.xlsm"
    try:
        with zipfile.ZipFile(source) as zf:
            return zf.read("xl/vbaProject.bin")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise FileError(str(source), f"cannot read xlwings' standalone VBA project ({exc})") from None


def xlwings_vba_source() -> str:
    """The text of xlwings' VBA module (``xlwings.bas`` of the installed package), licence header included."""
    return (_xlwings_dir() / "xlwings.bas").read_text(encoding="utf-8", errors="replace")


def _licence_lines() -> list[str]:
    """xlwings' BSD 3-clause notice, as it heads its VBA module (the comment lines after ``'Version:``)."""
    lines: list[str] = []
    started = False
    for raw in xlwings_vba_source().splitlines():
        line = raw.rstrip()
        if line.startswith("'xlwings is distributed"):
            started = True
        if started:
            if not line.startswith("'") or line.startswith("'Attribute"):
                break
            lines.append(line[1:])
    return lines


def companion_module(stem: str) -> str:
    """The text of ``<stem>.py``, the module the workbook's RunPython imports."""
    return f'''"""Companion module of {stem}.xlsm: the workbook's Refresh button runs main() through xlwings RunPython.

Keep this file next to the workbook. Generated by csxl; csxl's code lives in the csxl package.
"""

from csxl.excel import macros

#: The xlwings whose VBA this workbook carries: the Python must have exactly this version (pip install xlwings==...).
XLWINGS = "{xlwings.__version__}"


def main() -> None:
    """Refresh the workbook that called (Dashboard button; macro SampleCall)."""
    macros.refresh(XLWINGS)


def account_sheet() -> None:
    """Write the page of the account in the selected Accounts row (see docs/excel.md for a button)."""
    macros.account_sheet(XLWINGS)


if __name__ == "__main__":
    import xlwings as xw

    xw.Book("{stem}.xlsm").set_mock_caller()
    main()
'''


def _check_stem(target: Path) -> str:
    stem = target.stem
    rule = "an .xlsm file name that is a Python module name (letters, digits, _; not starting with a digit)"
    if target.suffix.lower() != ".xlsm":
        raise InputError("path", str(target), "a file name ending in .xlsm")
    if not stem.isidentifier() or keyword.iskeyword(stem) or not stem.isascii():
        raise InputError("path", str(target), rule)
    taken = set(sys.stdlib_module_names) | set(sys.builtin_module_names) | {"csxl", "xlwings", "pandas", "numpy"}
    if stem in taken:
        raise InputError("path", str(target), f"{rule}, not one Python already has ({stem})")
    return stem


# --------------------------------------------------------------------------------------------------------------------
# Zip-level conversion
# --------------------------------------------------------------------------------------------------------------------


def _free(names: set[str], pattern: str) -> str:
    n = 1
    while pattern.format(n) in names:
        n += 1
    return pattern.format(n)


def _next_rid(rels: str) -> str:
    ids = [int(n) for n in re.findall(r'Id="rId(\d+)"', rels)]
    return f"rId{max(ids, default=0) + 1}"


def _add_rel(rels: str | None, rid: str, rel_type: str, target: str) -> str:
    entry = f'<Relationship Id="{rid}" Type="{rel_type}" Target="{target}"/>'
    if rels is None:
        head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        return f'{head}<Relationships xmlns="{_PKG_REL_NS}">{entry}</Relationships>'
    return rels.replace("</Relationships>", entry + "</Relationships>", 1)


def _insert_before_close(xml: str, tag: str, text: str) -> str:
    """Insert ``text`` before the closing tag ``</tag>`` (with or without a namespace prefix)."""
    match = re.search(rf"</(\w+:)?{tag}>", xml)
    if match is None:
        raise FileError("workbook", f"no </{tag}> in the part")
    return xml[: match.start()] + text + xml[match.start() :]


def _set_code_name(sheet_xml: str, code_name: str) -> str:
    """Give a worksheet its VBA code name (``<sheetPr codeName=...>``, the first child of ``<worksheet>``)."""
    match = re.search(r"<((?:\w+:)?)sheetPr\b([^>]*?)(/?)>", sheet_xml)
    if match is not None:
        if "codeName=" in match.group(2):
            return sheet_xml
        start = match.start() + 1 + len(match.group(1)) + len("sheetPr")
        return sheet_xml[:start] + f' codeName="{code_name}"' + sheet_xml[start:]
    root = re.search(r"<((?:\w+:)?)worksheet\b[^>]*>", sheet_xml)
    if root is None:
        raise FileError("worksheet", "no <worksheet> element")
    return sheet_xml[: root.end()] + f'<{root.group(1)}sheetPr codeName="{code_name}"/>' + sheet_xml[root.end() :]


def _add_legacy_drawing(sheet_xml: str, rid: str) -> str:
    if re.search(r"<(\w+:)?legacyDrawing\b", sheet_xml):
        raise FileError("Dashboard", "already has a legacy drawing (comments or controls); cannot add the button")
    prefix_match = re.search(r"<((?:\w+:)?)worksheet\b", sheet_xml)
    prefix = prefix_match.group(1) if prefix_match else ""
    element = f'<{prefix}legacyDrawing xmlns:r="{_REL_NS}" r:id="{rid}"/>'
    positions = [m.start() for tag in (*_AFTER_LEGACY, "extLst") if (m := re.search(rf"<(\w+:)?{tag}\b", sheet_xml))]
    if positions:
        at = min(positions)
        return sheet_xml[:at] + element + sheet_xml[at:]
    return _insert_before_close(sheet_xml, "worksheet", element)


def _button_vml(idmap: int, text: str, macro: str, anchor: tuple[int, int, int, int, int, int, int, int]) -> str:
    """A form-control button (what Excel's Developer > Insert > Button writes) in a VML drawing."""
    shape_id = 1024 * idmap + 1
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
        '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
        'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>'
        f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t201" style="position:absolute;margin-left:0;margin-top:0;'
        'width:110pt;height:30pt;z-index:1;mso-wrap-style:tight" o:button="t" fillcolor="buttonFace [67]" '
        'strokecolor="windowText [64]" o:insetmode="auto">'
        '<v:fill color2="buttonFace [67]" o:detectmouseclick="t"/><o:lock v:ext="edit" rotation="t"/>'
        '<v:textbox style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center">'
        f'<font face="Calibri" size="220" color="#000000">{escape(text)}</font></div></v:textbox>'
        '<x:ClientData ObjectType="Button">'
        f"<x:Anchor>{', '.join(str(n) for n in anchor)}</x:Anchor>"
        "<x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill>"
        f"<x:FmlaMacro>[0]!{escape(macro)}</x:FmlaMacro>"
        "<x:TextHAlign>Center</x:TextHAlign><x:TextVAlign>Center</x:TextVAlign>"
        "</x:ClientData></v:shape></xml>"
    )


def _inline(ref: str, value: str | bool, style: str = "") -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def _conf_sheet() -> str:
    rows: list[str] = []
    for i, (key, value) in enumerate(CONF_ROWS, start=1):
        cells = _inline(f"A{i}", key) + (_inline(f"B{i}", value) if value != "" else "")
        rows.append(f'<row r="{i}">{cells}</row>')
    row = len(CONF_ROWS) + 3  # a gap: xlwings reads A1 down to the first blank
    for note in _CONF_NOTES:
        rows.append(f'<row r="{row}">{_inline(f"A{row}", note)}</row>')
        row += 1
    row += 1
    for line in ["xlwings (the VBA module of this workbook):", *_licence_lines()]:
        rows.append(f'<row r="{row}">{_inline(f"A{row}", line)}</row>')
        row += 1
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN_NS}">'
        '<sheetPr codeName="{code}"/><sheetFormatPr defaultRowHeight="15"/>'
        '<cols><col min="1" max="1" width="22" customWidth="1"/><col min="2" max="2" width="28" customWidth="1"/>'
        f"</cols><sheetData>{''.join(rows)}</sheetData></worksheet>"
    )


def _start_note(sheet_xml: str) -> str:
    """Append a note on the macros and xlwings' licence below the Start sheet's content."""
    rows = [int(n) for n in re.findall(r'<(?:\w+:)?row\b[^>]*\br="(\d+)"', sheet_xml)]
    row = max(rows, default=0) + 2
    lines = [
        (
            "Macros",
            "This .xlsm runs csxl inside Excel through xlwings (classic RunPython): the Refresh button on "
            "Dashboard calls main() of the Python file with this workbook's name next to it. Set the Python to use on "
            "the xlwings.conf sheet. docs/excel.md explains the setup per platform.",
        ),
        (
            "Live scores",
            "On Windows the Accounts health score and tier are live formulas: one =HEALTHSCORE and one =HEALTHTIER "
            "for every account on the Live scores sheet. Run the macro ImportPythonUDFs once (Alt+F8); until then "
            "they show #NAME?. On a Mac, Refresh writes them as values (classic xlwings has no worksheet functions "
            "there).",
        ),
        (
            "xlwings version",
            f"The macros are those of xlwings {xlwings.__version__}; the Python on xlwings.conf must have exactly that "
            f'version: pip install "xlwings=={xlwings.__version__}". With another version the macro stops before '
            f"Python starts (Windows: file not found: xlwings64-{xlwings.__version__}.dll); Refresh then names both "
            "versions when the library loads but the package differs.",
        ),
        (
            "xlwings licence",
            "The VBA module 'xlwings' is part of xlwings, Copyright (C) 2014-present, Zoomer Analytics "
            "LLC, distributed under the BSD 3-clause licence; its full text heads that module and is on the "
            "xlwings.conf sheet.",
        ),
    ]
    # the looks of the template's paragraphs (a bold label, wrapped text), so the note reads like the rest of the page
    looks = re.search(r'<c r="A\d+"( s="\d+")[^>]*>(?:(?!</c>).)*</c><c r="B\d+"( s="\d+")', sheet_xml)
    label, body = (looks.group(1), looks.group(2)) if looks else ("", "")
    cells = ""
    for title, text in lines:
        height = 15 * (len(text) // 95 + 1) + 3  # column B is 100 characters wide
        cells += (f'<row r="{row}" ht="{height}" customHeight="1">{_inline(f"A{row}", title, label)}'
                  f'{_inline(f"B{row}", text, body)}</row>')  # fmt: skip
        row += 1
    return _insert_before_close(sheet_xml, "sheetData", cells)


def _convert(source: Path, target: Path) -> None:
    """Rewrite the ``.xlsx`` at ``source`` as a macro workbook at ``target`` (see the module docstring)."""
    with zipfile.ZipFile(source) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    names = set(parts)

    def text(name: str) -> str:
        return parts[name].decode("utf-8")

    workbook = text("xl/workbook.xml")
    wb_rels = text("xl/_rels/workbook.xml.rels")
    sheets = list(sheet_parts(lambda member: parts[member])[0].items())  # (name, part)
    if CONF_SHEET.casefold() in {n.casefold() for n, _ in sheets}:
        raise FileError(str(source), f"already has a sheet {CONF_SHEET}")

    # Content types: macro-enabled workbook, the VBA project, VML drawings, the new sheet.
    types = text("[Content_Types].xml").replace(_CT_XLSX_MAIN, _CT_XLSM_MAIN)
    extra = f'<Override PartName="/xl/vbaProject.bin" ContentType="{_CT_VBA}"/>'
    if 'Extension="vml"' not in types:
        extra += f'<Default Extension="vml" ContentType="{_CT_VML}"/>'
    conf_part = _free(names, "xl/worksheets/sheet{}.xml")
    extra += f'<Override PartName="/{conf_part}" ContentType="{_CT_WORKSHEET}"/>'
    types = _insert_before_close(types, "Types", extra)
    parts["xl/vbaProject.bin"] = _vba_project()

    # Workbook: code name, the conf sheet; its rels: the VBA project and the sheet.
    vba_rid = _next_rid(wb_rels)
    wb_rels = _add_rel(wb_rels, vba_rid, _RT_VBA, "vbaProject.bin")
    conf_rid = _next_rid(wb_rels)
    wb_rels = _add_rel(wb_rels, conf_rid, _RT_WORKSHEET, conf_part.removeprefix("xl/"))
    pr = re.search(r"<((?:\w+:)?)workbookPr\b([^>]*?)(/?)>", workbook)
    opened = re.search(r"<((?:\w+:)?)sheets\b", workbook)
    main = opened.group(1) if opened else ""  # the prefix the part gives the main namespace (usually none)
    if pr is None:
        sheets_tag = re.search(r"<(\w+:)?(bookViews|sheets)\b", workbook)
        assert sheets_tag is not None
        added = f'<{main}workbookPr codeName="ThisWorkbook"/>'
        workbook = workbook[: sheets_tag.start()] + added + workbook[sheets_tag.start() :]
    elif "codeName=" not in pr.group(2):
        at = pr.start() + 1 + len(pr.group(1)) + len("workbookPr")
        workbook = workbook[:at] + ' codeName="ThisWorkbook"' + workbook[at:]
    ids = [int(n) for n in re.findall(r'sheetId="(\d+)"', workbook)]
    # the relationships prefix declared on the element itself: where openpyxl declared it (the root, or each <sheet>
    # when lxml serialises) does not matter, and no other prefix can shadow it here
    sheet_el = (
        f'<{main}sheet name="{CONF_SHEET}" sheetId="{max(ids, default=0) + 1}" xmlns:r="{_REL_NS}" r:id="{conf_rid}"/>'
    )
    workbook = _insert_before_close(workbook, "sheets", sheet_el)

    # Sheets: code names; the Start note; the Dashboard button.
    for i, (name, part) in enumerate(sheets, start=1):
        xml = _set_code_name(text(part), f"Sheet{i}")
        if name == layout.SHEET_START:
            xml = _start_note(xml)
        if name == layout.SHEET_DASHBOARD:
            rels_part = f"{part.rsplit('/', 1)[0]}/_rels/{part.rsplit('/', 1)[1]}.rels"
            rels = text(rels_part) if rels_part in parts else None
            vml_part = _free(names | set(parts), "xl/drawings/vmlDrawing{}.vml")
            used = [int(n) for p in parts if p.endswith(".vml") for n in re.findall(r'data="(\d+)', text(p))]
            rid = _next_rid(rels or "")
            parts[rels_part] = _add_rel(rels, rid, _RT_VML, "../drawings/" + vml_part.rsplit("/", 1)[1]).encode()
            parts[vml_part] = _button_vml(
                max(used, default=0) + 1, "Refresh (csxl)", MACRO, (7, 0, 0, 2, 9, 0, 2, 0)
            ).encode()
            xml = _add_legacy_drawing(xml, rid)
        parts[part] = xml.encode("utf-8")
    parts[conf_part] = _conf_sheet().replace("{code}", f"Sheet{len(sheets) + 1}").encode("utf-8")

    parts["[Content_Types].xml"] = types.encode("utf-8")
    parts["xl/workbook.xml"] = workbook.encode("utf-8")
    parts["xl/_rels/workbook.xml.rels"] = wb_rels.encode("utf-8")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        order = ["[Content_Types].xml", *[n for n in parts if n != "[Content_Types].xml"]]
        for name in order:
            zout.writestr(name, parts[name])


def build_xlsm(
    path: str | Path,
    demo: DemoData | None = None,
    *,
    as_of: _dt.date | None = None,
    currency: str = "USD",
    force: bool = False,
    plain: Path | None = None,
) -> Path:
    """Write the macro workbook ``path`` (``<book>.xlsm``) and its companion module ``<book>.py``; return the path.

    ``demo``, ``as_of``, ``currency`` as for :func:`csxl.book.template.build_template`; the workbook is refreshed
    once (as ``csxl new`` does), so a demo opens with scores, cohorts and the dashboard filled. ``<book>`` must be a
    Python module name, because RunPython imports it. Refuses to overwrite the workbook or ``<book>.py`` unless
    ``force``. The workbook appears complete or not at all. ``plain``: convert this csxl workbook (``.xlsx``, e.g.
    the demo built through the importers) instead of a new template; its sheets and History are kept.
    """

    target = Path(path)
    stem = _check_stem(target)
    module = target.with_suffix(".py")
    for existing in (target, module):
        if existing.exists() and not force:
            raise FileError(str(existing), "already exists; pass --force to overwrite it")
    with replacing(target) as macro, tempfile.TemporaryDirectory(prefix="csxl-") as scratch:
        source = plain
        if source is None:
            source = Path(scratch) / "plain.xlsx"  # the plain template, converted into the macro workbook
            build_template(source, demo=demo, as_of=as_of, currency=currency)
        _convert(source, macro)
        refresh(macro, force=True)  # after the conversion: the xlwings.conf sheet makes it the live-formula flavour
        if plain is not None:  # its older History snapshots go beside the macro workbook (before it, as a refresh's)
            HistoryArchive(plain).save(target)
    try:
        module.write_text(companion_module(stem), encoding="utf-8")
    except OSError as exc:
        raise FileError(str(module), f"cannot write the companion module ({exc.strerror or exc})") from None
    return target
