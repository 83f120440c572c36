"""Shared pieces of the file adapter: namespaces, coordinates, XML parse/serialise that keeps prefixes, the
atomic write, and cell values."""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import os
import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]

from csxl.book.plan import Cell, Formula
from csxl.book.refs import cell_ref
from csxl.book.safety import replacing
from csxl.cells import date_to_serial
from csxl.errors import FileError, InputError

# --------------------------------------------------------------------------------------------------------------------
# Namespaces, relationship and content types
# --------------------------------------------------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
DML = "http://schemas.openxmlformats.org/drawingml/2006/main"
DML_CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
XML_NS = "http://www.w3.org/XML/1998/namespace"

RT_OFFICE = DOC_REL + "/officeDocument"
RT_WORKSHEET = DOC_REL + "/worksheet"
RT_STYLES = DOC_REL + "/styles"
RT_CALC_CHAIN = DOC_REL + "/calcChain"
RT_DRAWING = DOC_REL + "/drawing"
RT_CHART = DOC_REL + "/chart"
RT_TABLE = DOC_REL + "/table"
RT_HYPERLINK = DOC_REL + "/hyperlink"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"

#: Prefixes csxl uses for the elements it creates (registered before each part is written).
_STANDARD_PREFIXES = {"r": DOC_REL, "mc": MC, "xdr": XDR, "a": DML, "c": DML_CHART}

#: csxl names the drawing objects it creates ``csxl:<chart name>``; a sheet replace removes exactly those.
CHART_PREFIX = "csxl:"

#: zlib level of the members written: 4 deflates a 40 MB sheet twice as fast as the default 6, about 15 % bigger
#: (Excel reads any level and writes its own when it saves).
_ZIP_LEVEL = 4
_NEW_PART_TIME = (1980, 1, 1, 0, 0, 0)  # zip entry time of parts csxl creates (a fixed stamp: reproducible files)
_XML_HEADER = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_MAX_TEXT = 32_767  # characters Excel keeps in one cell
_EMU_PER_CM = 360_000
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DECL = re.compile(rb"""xmlns(?::([A-Za-z_][\w.\-]*))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _q(tag: str, ns: str = MAIN) -> str:
    return f"{{{ns}}}{tag}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# Worksheet children in schema order (CT_Worksheet); new children are inserted where the schema wants them.
# fmt: off
_SHEET_ORDER = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
    "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks",
    "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties",
    "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF",
    "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst",
)
# fmt: on
# fmt: off
_WORKBOOK_ORDER = (
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets", "functionGroups",
    "externalReferences", "definedNames", "calcPr", "oleSize", "customWorkbookViews", "pivotCaches",
    "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
)
# fmt: on
# fmt: off
_STYLES_ORDER = (
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles",
    "colors", "extLst",
)
# fmt: on


def _order_name(child: ET.Element) -> str:
    """The schema name deciding a child's position (``mc:AlternateContent`` counts as what it wraps)."""
    if child.tag == _q("AlternateContent", MC):
        for choice in child:
            for inner in choice:
                return _local(inner.tag)
    return _local(child.tag)


def _insert_ordered(parent: ET.Element, child: ET.Element, order: Sequence[str]) -> None:
    """Insert ``child`` before the first sibling that the schema puts after it."""
    rank = {name: i for i, name in enumerate(order)}
    mine = rank[_local(child.tag)]
    for i, sibling in enumerate(parent):
        theirs = rank.get(_order_name(sibling))
        if theirs is not None and theirs > mine:
            parent.insert(i, child)
            return
    parent.append(child)


def _child(parent: ET.Element, tag: str, order: Sequence[str]) -> ET.Element:
    """The child ``tag`` (main namespace) of ``parent``, created in schema position when missing."""
    found = parent.find(_q(tag))
    if found is None:
        found = ET.Element(_q(tag))
        _insert_ordered(parent, found, order)
    return found


# --------------------------------------------------------------------------------------------------------------------
# Coordinates
# --------------------------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------------------------
# XML parts: parse and serialise keeping the namespace prefixes
# --------------------------------------------------------------------------------------------------------------------


def _declarations(data: bytes, *, root_only: bool) -> list[tuple[str, str]]:
    """The ``xmlns`` declarations of a document (of its root start tag when ``root_only``), in document order."""
    if root_only:
        start = re.search(rb"<(?![?!])", data)
        if start is None:
            return []
        end = data.find(b">", start.start())
        data = data[start.start() : end + 1]
    return [
        (
            (m.group(1) or b"").decode("utf-8", errors="replace"),
            (m.group(2) if m.group(2) is not None else m.group(3) or b"").decode("utf-8", errors="replace"),
        )
        for m in _DECL.finditer(data)
    ]


def _register(decls: Sequence[tuple[str, str]]) -> None:
    for prefix, uri in [*_STANDARD_PREFIXES.items(), *decls]:
        if prefix == "xml" or re.fullmatch(r"ns\d+", prefix):
            continue
        ET.register_namespace(prefix, uri)


def _serialise(root: ET.Element, decls: Sequence[tuple[str, str]], root_decls: Sequence[tuple[str, str]]) -> bytes:
    """Write a part with its original prefixes; every ``xmlns:*`` of the original that ElementTree dropped (it keeps
    only the used ones) is declared again on the root: ``mc:Ignorable`` and ``mc:Choice Requires`` name prefixes."""
    _register(decls)
    text = ET.tostring(root, encoding="unicode")
    end = text.find(">")
    head = text[:end]
    prefixes = {p for p, _ in _declarations(head.encode("utf-8"), root_only=False)}
    missing: list[tuple[str, str]] = []
    for p, u in [*root_decls, *decls]:  # nested ones too: an mc:Choice Requires="x14" names a prefix, not a tag
        if p and p not in prefixes and p != "xml":
            missing.append((p, u))
            prefixes.add(p)
    if missing:
        cut = end - 1 if head.endswith("/") else end
        extra = "".join(f" xmlns:{p}={quoteattr(u)}" for p, u in missing)
        text = text[:cut] + extra + text[cut:]
    return _XML_HEADER + text.encode("utf-8")


def _parse(data: bytes, where: str, part: str) -> ET.Element:
    try:
        root: ET.Element = SafeET.fromstring(data)
    except Exception as exc:  # ParseError or a defusedxml refusal (entities, DTD tricks)
        raise FileError(where, f"{part} is not valid XML ({exc})") from None
    return root


def _rels_name(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _relative(source: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source) or ".")


# --------------------------------------------------------------------------------------------------------------------
# Atomic replace (the lock file check is csxl.book.safety.lock_file)
# --------------------------------------------------------------------------------------------------------------------


def _atomic_write(target: Path, write: Callable[[IO[bytes]], None], mode_from: Path | None) -> None:
    """Write through ``write`` into a temp file beside ``target``, fsync it, then replace ``target`` with it."""
    with replacing(target, mode_from=mode_from, suffix=".tmp") as tmp, open(tmp, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


# --------------------------------------------------------------------------------------------------------------------
# Cell values
# --------------------------------------------------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _BAD_XML_CHARS.sub("", text)[:_MAX_TEXT]


def _serial(value: _dt.date, where: str) -> float:
    """Excel serial of a date/datetime (1900 system): days since 1899-12-30, time as a fraction of a day."""
    serial = date_to_serial(value)
    if serial is None:
        raise InputError(where, value.isoformat(), "a date on or after 1900-03-01")
    return serial


def _number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


#: (kind, text): kind is "empty", "n" (number), "b" (boolean), "s" (inline string), "f" (formula) or "d" (date).
_Encoded = tuple[str, str]


def _encode(value: Cell | Any, sheet: str, r: int, col: int) -> _Encoded:
    """A plan value as (kind, text) for cell ``col`` of row ``r`` of ``sheet`` (named in errors)."""
    if type(value) is float:  # the common types first: a refresh encodes some 100,000 values
        return ("n", _number_text(value)) if math.isfinite(value) else ("empty", "")
    if type(value) is str:
        text = _clean_text(value)
        return ("s", text) if text else ("empty", "")
    if type(value) is int:
        return "n", str(value)
    if value is None:
        return "empty", ""
    if isinstance(value, Formula):
        return "f", _BAD_XML_CHARS.sub("", value.text[1:])
    if isinstance(value, str):
        text = _clean_text(value)
        return ("s", text) if text else ("empty", "")
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, _dt.date):
        return "d", _number_text(_serial(value, f"{sheet}!{cell_ref(r, col)}"))
    if isinstance(value, numbers.Integral):
        return "n", str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return ("n", _number_text(number)) if math.isfinite(number) else ("empty", "")
    raise InputError(f"{sheet}!{cell_ref(r, col)}", value, "text, a number, a boolean, a date, a Formula or None")
