"""The xlwings Lite buttons: every workbook csxl writes carries them, and they agree with the scripts.

Lite runs the ``@script`` whose ``button`` is ``[shape]Sheet!cell`` when the shape of that name, whose hyperlink
points at that cell, is clicked (Office.js has no other way to tie a sheet button to Python, and Excel on the web
cannot add a hyperlink to a shape: these generated shapes are the only buttons web users get). Here the drawing XML
of each kind of workbook is read back (sheet -> drawing part -> ``xdr:sp`` name and ``a:hlinkClick`` -> the
relationship's target) and compared with the scripts' metadata as xlwings' own ``custom_scripts_meta`` reports it
for the ``main.py`` that ``csxl lite`` writes. Edits are made by LibreOffice through UNO.
"""

from __future__ import annotations

import posixpath
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from ooxml import problems
from test_excel_runtime import dispatch
from test_user_edits import require_uno, uno_edit

from csxl import usecases
from csxl.book import layout
from csxl.book.actions import ACCOUNT_PICKER, ACTIONS, REFRESH, actions_plan
from csxl.book.plan import Button, Plan
from csxl.book.refresh import refresh
from csxl.book.template import build_template
from csxl.book.xlsx import apply_plan
from csxl.errors import InputError
from csxl.excel.lite import write_lite
from csxl.excel.macros import REFRESH_SHEETS, SCRIPTS

ROOT = Path(__file__).resolve().parents[1]
NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
}
RID = f"{{{NS['r']}}}id"
WANTED = {a.button for a in ACTIONS}


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id -> target (resolved to a part name, or as written for a ``#`` location)."""
    name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if name not in zf.namelist():
        return {}
    out = {}
    for rel in ET.fromstring(zf.read(name)).findall("p:Relationship", NS):
        target = rel.get("Target", "")
        if target.startswith("#"):
            out[rel.get("Id", "")] = target
        elif target.startswith("/"):
            out[rel.get("Id", "")] = target.lstrip("/")
        else:
            out[rel.get("Id", "")] = posixpath.normpath(posixpath.join(posixpath.dirname(part), target))
    return out


def drawn_buttons(path: Path) -> list[tuple[str, str, str]]:
    """Every shape with a hyperlink in the workbook: (sheet holding it, shape name, hyperlink target ``#Sheet!A1``)."""
    out = []
    with zipfile.ZipFile(path) as zf:
        book_rels = _rels(zf, "xl/workbook.xml")
        for sheet in ET.fromstring(zf.read("xl/workbook.xml")).findall("m:sheets/m:sheet", NS):
            part = book_rels[sheet.get(RID, "")]
            link = ET.fromstring(zf.read(part)).find("m:drawing", NS)
            if link is None:
                continue
            drawing = _rels(zf, part)[link.get(RID, "")]
            targets = _rels(zf, drawing)
            for props in ET.fromstring(zf.read(drawing)).iterfind(".//xdr:sp/xdr:nvSpPr/xdr:cNvPr", NS):
                click = props.find("a:hlinkClick", NS)
                if click is not None:
                    out.append((sheet.get("name", ""), props.get("name", ""), targets[click.get(RID, "")]))
    return out


def as_buttons(drawn: list[tuple[str, str, str]]) -> list[str]:
    """Each drawn shape as Lite's ``[shape]Sheet!cell``, checking its link points at a cell of its own sheet."""
    out = []
    for sheet, name, target in drawn:
        where, cell = target.lstrip("#").rsplit("!", 1)
        assert where.strip("'") == sheet, f"{name} on {sheet} links to {target}"
        out.append(f"[{name}]{sheet}!{cell}")
    return out


@pytest.fixture(scope="module")
def lite_meta(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The scripts' metadata of the main.py ``csxl lite`` writes, from xlwings' ``custom_scripts_meta`` in Lite mode."""
    folder = tmp_path_factory.mktemp("lite")
    write_lite(folder)
    meta: list[dict[str, Any]] = dispatch([], folder, module="main")["meta"]
    return meta


# --------------------------------------------------------------------------------------------------------------------
# Every kind of workbook carries the buttons, and they agree with the scripts
# --------------------------------------------------------------------------------------------------------------------


def _new(tmp: Path) -> Path:
    return usecases.new_workbook(tmp / "new.xlsx").path


def _older(tmp: Path) -> Path:
    """A workbook of an older csxl (no Actions sheet, no buttons), refreshed once."""
    path = build_template(tmp / "older.xlsx")
    with zipfile.ZipFile(path) as zf:
        assert not any(n.startswith("xl/drawings/drawing") and n.endswith(".xml") for n in zf.namelist())
    refresh(path)
    return path


def _xlsm(tmp: Path) -> Path:
    from csxl.excel.xlsm import build_xlsm

    return build_xlsm(tmp / "book.xlsm")


@pytest.mark.parametrize(
    "make",
    [
        _new,
        _older,
        _xlsm,
        lambda _tmp: ROOT / "workbooks" / "csxl-template.xlsx",
        lambda _tmp: ROOT / "workbooks" / "csxl-demo.xlsx",
    ],
    ids=["csxl-new", "older-workbook-refreshed", "xlsm", "committed-template", "committed-demo"],
)
def test_every_kind_of_workbook_carries_every_button(make: Any, tmp_path: Path) -> None:
    path = make(tmp_path)
    buttons = as_buttons(drawn_buttons(path))
    assert sorted(buttons) == sorted(WANTED)  # each exactly once
    assert problems(path) == []


def test_drawn_buttons_equal_the_scripts_buttons(lite_meta: list[dict[str, Any]], tmp_path: Path) -> None:
    """What Lite binds: the scripts of main.py with a button, as xlwings reports them, against the drawing XML."""
    scripted = {m["button"] for m in lite_meta if m.get("button")}
    assert scripted == set(as_buttons(drawn_buttons(_new(tmp_path)))) == WANTED
    by_function = {m["function_name"]: m for m in lite_meta}
    assert set(by_function) == {*SCRIPTS, "csxl_play"}
    for action in ACTIONS:
        meta = by_function[action.function]
        assert (meta["name"], meta["button"]) == (action.script_name, action.button)
    assert by_function[REFRESH.function]["include"] == ",".join(REFRESH_SHEETS)


def test_button_names_are_unique_and_lite_can_parse_them() -> None:
    shapes = [a.shape for a in ACTIONS]
    cells = [(a.sheet, a.cell) for a in ACTIONS]
    assert len(set(shapes)) == len(shapes) and len(set(cells)) == len(cells)
    for action in ACTIONS:
        assert action.button == f"[{action.shape}]{action.sheet}!{action.cell}"
        assert " " not in action.shape and "[" not in action.shape


# --------------------------------------------------------------------------------------------------------------------
# A refresh keeps one of each, puts back a deleted one, keeps the user's shapes
# --------------------------------------------------------------------------------------------------------------------


def test_refresh_twice_keeps_one_of_each_with_unique_ids(tmp_path: Path) -> None:
    path = _new(tmp_path)
    refresh(path)
    refresh(path)
    assert sorted(as_buttons(drawn_buttons(path))) == sorted(WANTED)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/drawings/drawing") and name.endswith(".xml"):
                ids = [p.get("id") for p in ET.fromstring(zf.read(name)).iterfind(".//xdr:cNvPr", NS)]
                assert len(ids) == len(set(ids)), name
                rels = _rels(zf, name)
                assert len(rels) == len(ids), f"{name}: a stale hyperlink relationship is left"


@pytest.mark.slow
def test_a_deleted_button_comes_back_and_the_users_shape_stays(tmp_path: Path) -> None:
    """By LibreOffice: the Churn-risk button deleted, a shape of the user's added on the Dashboard; then refresh."""
    require_uno()
    path = _new(tmp_path)
    risk = next(a for a in ACTIONS if a.key == "risk")
    edited = uno_edit(
        path,
        tmp_path / "edited.xlsx",
        [
            {"op": "delete_shape", "sheet": risk.sheet, "name": risk.shape},
            {"op": "add_shape", "sheet": layout.SHEET_DASHBOARD, "name": "Founder logo"},
        ],
    )
    assert risk.button not in as_buttons(drawn_buttons(edited))
    refresh(edited)
    assert sorted(as_buttons(drawn_buttons(edited))) == sorted(WANTED)
    with zipfile.ZipFile(edited) as zf:
        names = [
            p.get("name")
            for n in zf.namelist()
            if n.startswith("xl/drawings/drawing") and n.endswith(".xml")
            for p in ET.fromstring(zf.read(n)).iterfind(".//xdr:cNvPr", NS)
        ]
    assert "Founder logo" in names
    assert problems(edited) == []


def test_the_account_picker_is_kept_by_a_refresh(tmp_path: Path) -> None:
    import openpyxl

    path = _new(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb[layout.SHEET_ACTIONS][ACCOUNT_PICKER] = "Acme"
    wb.save(path)
    refresh(path)
    assert openpyxl.load_workbook(path)[layout.SHEET_ACTIONS][ACCOUNT_PICKER].value == "Acme"


@pytest.mark.parametrize(
    ("button", "field"),
    [
        (Button("S", "", "A1", "Go"), "button name"),
        (Button("S", "a[b]", "A1", "Go"), "button name"),
        (Button("S", "ok", "A0", "Go"), "button cell"),
        (Button("S", "ok", "A1", "  "), "button text"),
        (Button("S", "ok", "A1", "Go", width_cm=0), "button size"),
        (Button("S", "ok", "A1", "Go", fill="blue"), "button fill"),
    ],
)
def test_a_bad_button_is_refused_with_its_field(button: Button, field: str, tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    shutil.copy(_new(tmp_path), path)
    before = path.read_bytes()
    with pytest.raises(InputError) as info:
        apply_plan(path, Plan([*actions_plan().ops[:1], Button(layout.SHEET_ACTIONS, *_fields(button))]))
    assert info.value.field == field
    assert path.read_bytes() == before  # nothing written


def _fields(button: Button) -> tuple[Any, ...]:
    return (button.name, button.cell, button.text, button.width_cm, button.height_cm, button.fill)
