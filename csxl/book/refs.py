"""Where things are in a workbook: A1 references and the part that holds each sheet, for every reader and writer.

The file reader (:mod:`csxl.book.read`), the file writer (:mod:`csxl.book.xlsx`), the xlwings adapter
(:mod:`csxl.excel.book`) and the ``.xlsm`` builder (:mod:`csxl.excel.xlsm`) all locate cells and sheet parts here.

* Columns: ``A`` is 1, ``Z`` 26, ``AA`` 27, up to ``XFD`` (16,384); rows 1 to 1,048,576 (Excel's grid).
* A cell ``B12`` or ``$B$12``; a range ``A5:C9`` on one sheet; a sheet-qualified cell ``Settings!$B$5`` or
  ``'My sheet'!B5`` (an apostrophe inside a quoted name is doubled), with or without a leading ``=``.
* A sheet's part: ``xl/workbook.xml`` lists the sheets with a relationship id; ``xl/_rels/workbook.xml.rels`` maps the
  id to a target relative to ``xl/`` (or absolute, from the package root).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]

from csxl.errors import InputError

__all__ = [
    "MAX_COL",
    "MAX_ROW",
    "cell_position",
    "cell_ref",
    "column_index",
    "column_letters",
    "parse_cell",
    "parse_range",
    "parse_sheet_cell",
    "resolve_target",
    "sheet_parts",
    "split_ref",
]

MAX_ROW = 1_048_576
MAX_COL = 16_384
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_SHEET_CELL = re.compile(r"^=?(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Za-z]{1,3})\$?(\d+)$")


def column_index(letters: str) -> int:
    """``"A"`` -> 1, ``"AA"`` -> 27 (case-insensitive)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(index: int) -> str:
    """1 -> ``"A"``, 27 -> ``"AA"``; an index below 1 raises :class:`ValueError`."""
    if index < 1:
        raise ValueError(f"column index must be >= 1, got {index}")
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """(12, 2) -> ``"B12"``."""
    return f"{column_letters(col)}{row}"


def split_ref(ref: str) -> tuple[int, int]:
    """``"B12"`` -> (row 12, column 2), for references csxl or a well-formed file wrote (no ``$``)."""
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    return int(ref[i:]), column_index(ref[:i])


def cell_position(text: str) -> tuple[int, int] | None:
    """``B3`` or ``$B$3`` -> (row, column); ``None`` when ``text`` is not a cell reference."""
    match = _CELL.match(text.strip())
    return (int(match.group(2)), column_index(match.group(1))) if match else None


def parse_cell(field: str, text: str) -> tuple[int, int]:
    """A cell a user gave (``B3``, ``$B$3``) -> (row, column); :class:`InputError` naming ``field`` otherwise."""
    position = cell_position(text)
    if position is None:
        raise InputError(field, text, "a cell such as B3")
    row, col = position
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        raise InputError(field, text, f"a cell inside A1:{column_letters(MAX_COL)}{MAX_ROW}")
    return row, col


def parse_range(field: str, text: str) -> tuple[int, int, int, int]:
    """``"A5:C9"`` -> (top 5, left 1, bottom 9, right 3); a single cell is a 1x1 range; corners in any order."""
    parts = text.split(":")
    if len(parts) not in (1, 2) or "!" in text:
        raise InputError(field, text, "a range on the same sheet such as A5:A28")
    top, left = parse_cell(field, parts[0])
    bottom, right = parse_cell(field, parts[-1])
    return min(top, bottom), min(left, right), max(top, bottom), max(left, right)


def parse_sheet_cell(text: str) -> tuple[str, int, int] | None:
    """``Settings!$B$5`` / ``'My sheet'!B5`` -> (sheet, row, column); ``None`` for anything else (a range, a
    formula)."""
    match = _SHEET_CELL.match(text.strip())
    if not match:
        return None
    sheet = match.group(1).replace("''", "'") if match.group(1) is not None else match.group(2)
    return sheet, int(match.group(4)), column_index(match.group(3))


def resolve_target(source: str, target: str) -> str:
    """The package part a relationship of ``source`` points at (``Target`` relative to the source's folder)."""
    if target.startswith("/"):
        return posixpath.normpath(target[1:])
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sheet_parts(
    read: Callable[[str], bytes], workbook: str = "xl/workbook.xml"
) -> tuple[dict[str, str], dict[str, str]]:
    """(sheet name -> part holding its XML, workbook-level defined name -> its formula text), in sheet order.

    ``read(member)`` returns a package member's bytes and raises :class:`KeyError` when it is absent (as
    ``zipfile.ZipFile.read`` does). XML is parsed with defusedxml (no DTD, no entities).
    """
    root: Any = SafeET.fromstring(read(workbook))
    rels_name = posixpath.join(posixpath.dirname(workbook), "_rels", posixpath.basename(workbook) + ".rels")
    targets: dict[str, str] = {}
    try:
        rels: Any = SafeET.fromstring(read(rels_name))
    except KeyError:
        rels = []
    for rel in rels:
        if _local(rel.tag) == "Relationship":
            targets[rel.get("Id", "")] = resolve_target(workbook, rel.get("Target", ""))
    sheets: dict[str, str] = {}
    names: dict[str, str] = {}
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "sheet":
            rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            if rid in targets:
                sheets[element.get("name", "")] = targets[rid]
        elif tag == "definedName" and element.get("localSheetId") is None and element.text:
            names[element.get("name", "")] = element.text
    return sheets, names
