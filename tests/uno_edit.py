"""Edit a workbook the way a user does, with LibreOffice itself: run by Debian's ``/usr/bin/python3`` (python3-uno).

    /usr/bin/python3 tests/uno_edit.py SOURCE.xlsx TARGET.xlsx EDITS.json

LibreOffice is started headless with a private profile and a pipe, the workbook is loaded, each edit of the JSON list
is made through the UNO API (so references in formulas, table ranges and named ranges move as they do for a user),
and the result is stored as Excel 2007-365 ``.xlsx``. Edits (columns are letters, rows 1-based as the user sees):

* ``{"op": "insert_columns", "sheet": S, "at": "B", "count": 1}``
* ``{"op": "delete_columns", "sheet": S, "at": "C", "count": 1}``
* ``{"op": "move_column", "sheet": S, "from": "D", "to": "A"}`` (cut and insert before ``to``, as a drag with Alt)
* ``{"op": "hide_column", "sheet": S, "at": "E"}``
* ``{"op": "set", "sheet": S, "cell": "B5", "text": "120,000"}``, or ``"number": 3``, or ``"formula": "=1+1"``
* ``{"op": "paste", "sheet": S, "cell": "A4", "rows": [[...], ...]}`` (strings as text, numbers as numbers, None
  blank: what a paste of values does)
* ``{"op": "delete_rows", "sheet": S, "row": 5, "count": 1}``
* ``{"op": "insert_rows", "sheet": S, "row": 5, "count": 1}`` (blank rows before row 5)
* ``{"op": "delete_shape", "sheet": S, "name": N}`` (select the shape, press Delete)
* ``{"op": "add_shape", "sheet": S, "name": N}`` (Insert > Shape, a rectangle, named in the Selection pane)

This file runs outside the project's interpreter (``uno`` exists only for Debian's Python); it has no csxl import.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.table import CellAddress, CellRangeAddress  # type: ignore[import-not-found]


def _prop(name: str, value: Any) -> Any:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _column(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1  # UNO columns are 0-based


def _cell(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    return _column(letters), int(ref[len(letters) :]) - 1


def _connect(pipe: str, proc: subprocess.Popen[bytes]) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + 60
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.3)


def _shape(doc: Any, page: Any, op: str, name: str) -> None:
    if op == "delete_shape":
        found = [page.getByIndex(i) for i in range(page.getCount()) if page.getByIndex(i).Name == name]
        if not found:
            raise SystemExit(f"no shape named {name!r}")
        for shape in found:
            page.remove(shape)
        return
    shape = doc.createInstance("com.sun.star.drawing.RectangleShape")
    page.add(shape)
    size = uno.createUnoStruct("com.sun.star.awt.Size")
    size.Width, size.Height = 3000, 1500  # 1/100 mm
    point = uno.createUnoStruct("com.sun.star.awt.Point")
    point.X, point.Y = 12000, 200
    shape.setSize(size)
    shape.setPosition(point)
    shape.Name = name


def _edit(doc: Any, edit: dict[str, Any]) -> None:
    sheet = doc.Sheets.getByName(edit["sheet"])
    index = doc.Sheets.getElementNames().index(edit["sheet"])
    op = edit["op"]
    if op == "insert_columns":
        sheet.Columns.insertByIndex(_column(edit["at"]), edit.get("count", 1))
    elif op == "delete_columns":
        sheet.Columns.removeByIndex(_column(edit["at"]), edit.get("count", 1))
    elif op == "hide_column":
        sheet.Columns.getByIndex(_column(edit["at"])).IsVisible = False
    elif op == "move_column":
        source, target = _column(edit["from"]), _column(edit["to"])
        sheet.Columns.insertByIndex(target, 1)
        if source >= target:
            source += 1
        last = 1048575
        src = CellRangeAddress(index, source, 0, source, last)
        sheet.moveRange(CellAddress(index, target, 0), src)
        sheet.Columns.removeByIndex(source, 1)
    elif op == "set":
        col, row = _cell(edit["cell"])
        cell = sheet.getCellByPosition(col, row)
        if "text" in edit:
            cell.setString(edit["text"])
        elif "number" in edit:
            cell.setValue(edit["number"])
        else:
            cell.setFormula(edit["formula"])
    elif op == "paste":
        col, row = _cell(edit["cell"])
        rows = edit["rows"]
        for i, values in enumerate(rows):
            for j, value in enumerate(values):
                cell = sheet.getCellByPosition(col + j, row + i)
                if value is None:
                    continue
                if isinstance(value, str):
                    cell.setString(value)
                else:
                    cell.setValue(value)
    elif op == "delete_rows":
        sheet.Rows.removeByIndex(edit["row"] - 1, edit.get("count", 1))
    elif op == "insert_rows":
        sheet.Rows.insertByIndex(edit["row"] - 1, edit.get("count", 1))
    elif op == "sort":  # the rows of a range by one of its columns (0-based), as Data > Sort does
        cells = sheet.getCellRangeByName(edit["range"])
        field = uno.createUnoStruct("com.sun.star.table.TableSortField")
        field.Field = edit["by"]
        field.IsAscending = edit.get("ascending", True)
        descriptor = cells.createSortDescriptor()
        for prop in descriptor:
            if prop.Name == "SortFields":
                prop.Value = uno.Any("[]com.sun.star.table.TableSortField", (field,))
            elif prop.Name == "ContainsHeader":
                prop.Value = False
        uno.invoke(cells, "sort", (descriptor,))
    elif op in ("delete_shape", "add_shape"):
        _shape(doc, sheet.DrawPage, op, edit["name"])
    else:
        raise SystemExit(f"unknown edit {op!r}")


def main(source: str, target: str, edits_path: str) -> None:
    edits = json.loads(Path(edits_path).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="csxl-uno-") as work:
        pipe = f"csxl{os.getpid()}"
        profile = Path(work, "profile").as_uri()
        proc = subprocess.Popen(
            [
                os.environ.get("SOFFICE", "soffice"),
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                f"-env:UserInstallation={profile}",
                f"--accept=pipe,name={pipe};urp;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            context = _connect(pipe, proc)
            desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
            url = Path(source).resolve().as_uri()
            doc = desktop.loadComponentFromURL(url, "_blank", 0, (_prop("Hidden", True),))
            for edit in edits:
                _edit(doc, edit)
            out = Path(target).resolve().as_uri()
            doc.storeToURL(out, (_prop("FilterName", "Calc MS Excel 2007 XML"),))
            doc.close(True)
            with contextlib.suppress(Exception):  # the bridge goes down with the office: the expected end
                desktop.terminate()
        finally:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
