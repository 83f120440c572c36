"""The file adapter: apply a refresh :class:`~csxl.book.plan.Plan` to an ``.xlsx``/``.xlsm`` file by patching its XML.

Why surgical: loading and saving a large workbook with openpyxl is slow and loses what openpyxl does not model
(DrawingML shapes such as xlwings Lite buttons; VBA unless asked). Here the workbook stays a zip of parts, and only
the parts a plan needs are parsed and rewritten:

* the worksheets the plan names (cells, ``<dimension>``, ``<cols>``, tab colour, the ``<drawing>`` link);
* ``xl/workbook.xml`` (a new sheet, ``fullCalcOnLoad``), its rels and ``[Content_Types].xml`` when parts come or go;
* ``xl/styles.xml`` when a style is needed that the workbook does not have yet (fonts, fills, borders, number
  formats and cell formats are appended once, and an identical existing one is reused);
* a table part (``ResizeTable``), and the drawing and chart parts of csxl's own charts.

Every other member is copied byte-for-byte (same content, same zip entry name and time). The new file is written to
a temporary file next to the target, flushed to disk and moved over the target in one ``os.replace``: the target is
either the old workbook or the new one, never half of each.

A big worksheet (:data:`_STREAM_MIN_BYTES`) is not parsed whole: its rows stay raw bytes, untouched rows are copied
as they are, and a row the plan writes is edited as bytes (the cells written become what ElementTree would write for
them) or, when an edit needs it, parsed on its own. Both ways give the same XML (``docs/writing.md``).

Cell values (1900 date system): text is an inline string, always text even when it starts with ``=``, ``+``, ``-``
or ``@``; numbers are numbers (NaN and infinities become empty cells); booleans are booleans; a date is the Excel
serial ``days since 1899-12-30`` (plus the time as a fraction of a day), valid from 1900-03-01 on; only
:class:`~csxl.book.plan.Formula` values become formulas.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
import numbers
import os
import posixpath
import re
import struct
import sys
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from xml.sax.saxutils import quoteattr

from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]

from csxl.book.layout import money_format
from csxl.book.plan import STYLES, Block, Cell, Chart, Clear, Formula, Plan, ResizeTable, SheetSpec
from csxl.book.safety import lock_file, replacing
from csxl.errors import FileError, InputError

__all__ = ["CHART_PREFIX", "LOOKS", "Look", "apply_plan", "money_format"]

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
_MAX_ROW = 1_048_576
_MAX_COL = 16_384
_MAX_TEXT = 32_767  # characters Excel keeps in one cell
_EMU_PER_CM = 360_000
_EPOCH = _dt.datetime(1899, 12, 30)  # serial 0 of the 1900 system, past Excel's fictitious 1900-02-29
_FIRST_DATE = _dt.date(1900, 3, 1)  # serials before this date differ by one day because of that fictitious day
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
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


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _split_ref(ref: str) -> tuple[int, int]:
    """``"B12"`` -> (row 12, column 2)."""
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    return int(ref[i:]), _col_index(ref[:i])


def _cell_ref(row: int, col: int) -> str:
    return f"{_col_letters(col)}{row}"


def _parse_cell(field: str, text: str) -> tuple[int, int]:
    match = _REF.match(text.strip())
    if not match:
        raise InputError(field, text, "a cell such as B3")
    row, col = int(match.group(2)), _col_index(match.group(1))
    if not (1 <= row <= _MAX_ROW and 1 <= col <= _MAX_COL):
        raise InputError(field, text, f"a cell inside A1:{_col_letters(_MAX_COL)}{_MAX_ROW}")
    return row, col


def _parse_range(field: str, text: str) -> tuple[int, int, int, int]:
    """``"A5:C9"`` -> (top 5, left 1, bottom 9, right 3); a single cell is a 1x1 range."""
    parts = text.split(":")
    if len(parts) not in (1, 2) or "!" in text:
        raise InputError(field, text, "a range on the same sheet such as A5:A28")
    top, left = _parse_cell(field, parts[0])
    bottom, right = _parse_cell(field, parts[-1])
    if bottom < top or right < left:
        raise InputError(field, text, "a range written top-left to bottom-right")
    return top, left, bottom, right


# --------------------------------------------------------------------------------------------------------------------
# Looks (the named styles of the Plan)
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """One named cell look: number format, font changes over the workbook's default font, fill, border, alignment.

    Colours are hex RGB. ``num_fmt`` ``None`` is General; ``"money"`` stands for the workbook currency's format.
    """

    num_fmt: str | None = None
    bold: bool = False
    italic: bool = False
    size: float | None = None
    color: str | None = None
    fill: str | None = None
    bottom_border: str | None = None
    wrap: bool = False
    vertical: str | None = None


#: What each :data:`csxl.book.plan.STYLES` key looks like in a file written by csxl.
LOOKS: dict[str, Look] = {
    "title": Look(bold=True, size=16),
    "section": Look(bold=True, size=12),
    "header": Look(bold=True, fill="D9D9D9", bottom_border="808080", wrap=True, vertical="center"),
    "note": Look(italic=True, color="595959"),
    "text": Look(),
    "int": Look(num_fmt="0"),
    "number": Look(num_fmt="0.0"),
    "money": Look(num_fmt="money"),
    "pct": Look(num_fmt="0.0%"),
    "date": Look(num_fmt="yyyy-mm-dd"),
    "rag_red": Look(bold=True, color="FFFFFF", fill="C00000"),
    "rag_yellow": Look(bold=True, color="000000", fill="FFC000"),
    "rag_green": Look(bold=True, color="000000", fill="00B050"),
}
assert set(LOOKS) == set(STYLES), "every Plan style needs a look"

_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "@": 49}
_BUILTIN_DATE_IDS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])


def _is_date_format(code: str) -> bool:
    """True when a number format shows a date or time (a d, m, y, h or s outside quotes and brackets)."""
    plain = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.', "", code)
    return re.search(r"[dmyhsDMYHS]", plain.replace("General", "")) is not None


def _key(el: ET.Element) -> tuple[Any, ...]:
    """A comparable form of an element (tag, attributes in any order, children in order)."""
    return (el.tag, tuple(sorted(el.attrib.items())), (el.text or "").strip(), tuple(_key(c) for c in el))


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


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


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
    moment = value if isinstance(value, _dt.datetime) else _dt.datetime(value.year, value.month, value.day)
    moment = moment.replace(tzinfo=None)
    if moment.date() < _FIRST_DATE:
        raise InputError(where, value.isoformat(), "a date on or after 1900-03-01")
    delta = moment - _EPOCH
    return delta.days + (delta.seconds + delta.microseconds / 1_000_000) / 86_400


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
        return "d", _number_text(_serial(value, f"{sheet}!{_cell_ref(r, col)}"))
    if isinstance(value, numbers.Integral):
        return "n", str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return ("n", _number_text(number)) if math.isfinite(number) else ("empty", "")
    raise InputError(f"{sheet}!{_cell_ref(r, col)}", value, "text, a number, a boolean, a date, a Formula or None")


# --------------------------------------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------------------------------------


class _Package:
    """The zip's members: parsed parts csxl changes, new parts, deleted parts; everything else is copied as is."""

    def __init__(self, zin: zipfile.ZipFile, where: str) -> None:
        self.zin = zin
        self.where = where
        self.infos = {info.filename: info for info in zin.infolist() if not info.is_dir()}
        self.order = list(self.infos)
        self.trees: dict[str, ET.Element] = {}
        self.decls: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
        self.dirty: set[str] = set()
        self.raw: dict[str, bytes] = {}  # new or rewritten members given as bytes
        self.deleted: set[str] = set()
        self.builders: dict[str, Callable[[], bytes]] = {}  # parts serialised by their owner (worksheets)
        self.source: IO[bytes] | None = None  # the workbook file, opened to copy members' compressed bytes
        self.content_types = self.tree("[Content_Types].xml")

    # -- members
    def exists(self, name: str) -> bool:
        return name not in self.deleted and (name in self.infos or name in self.trees or name in self.raw)

    def read(self, name: str) -> bytes:
        if name not in self.infos or name in self.deleted:
            raise FileError(self.where, f"the workbook has no part {name}")
        try:
            return self.zin.read(name)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise FileError(self.where, f"cannot read {name} ({exc})") from None

    def tree(self, name: str) -> ET.Element:
        if name not in self.trees:
            data = self.read(name)
            decls = _declarations(data, root_only=False)
            self.decls[name] = (decls, _declarations(data, root_only=True))
            _register(decls)
            self.trees[name] = _parse(data, self.where, name)
        return self.trees[name]

    def adopt(self, name: str, head: bytes, data: bytes) -> ET.Element:
        """Parse ``head`` (a part without its bulk, e.g. a worksheet without its rows) as the tree of part ``name``,
        with the namespace declarations of the whole part ``data``."""
        decls = _declarations(data, root_only=False)
        self.decls[name] = (decls, _declarations(data, root_only=True))
        _register(decls)
        self.trees[name] = _parse(head, self.where, name)
        return self.trees[name]

    def touch(self, name: str) -> None:
        self.dirty.add(name)

    def new_tree(self, name: str, root: ET.Element, content_type: str | None) -> None:
        self.deleted.discard(name)
        self.trees[name] = root
        ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        own = [("xdr", XDR)] if ns == XDR else [("", ns)]  # a new part's root namespace is its default one
        self.decls[name] = (own, [])
        self.dirty.add(name)
        if name not in self.order:
            self.order.append(name)
        if content_type:
            self.set_override(name, content_type)

    def put_bytes(self, name: str, data: bytes, content_type: str | None) -> None:
        self.deleted.discard(name)
        self.raw[name] = data
        if name not in self.order:
            self.order.append(name)
        if content_type:
            self.set_override(name, content_type)

    def delete(self, name: str) -> None:
        self.deleted.add(name)
        self.trees.pop(name, None)
        self.raw.pop(name, None)
        self.dirty.discard(name)
        self.remove_override(name)

    def free_name(self, pattern: str) -> str:
        """The lowest ``pattern.format(n)`` (n >= 1) that is not a member."""
        n = 1
        while self.exists(pattern.format(n)):
            n += 1
        return pattern.format(n)

    # -- content types
    def set_override(self, name: str, content_type: str) -> None:
        part = "/" + name
        for item in self.content_types.findall(_q("Override", CT_NS)):
            if item.get("PartName") == part:
                if item.get("ContentType") != content_type:
                    item.set("ContentType", content_type)
                    self.touch("[Content_Types].xml")
                return
        ET.SubElement(self.content_types, _q("Override", CT_NS), {"PartName": part, "ContentType": content_type})
        self.touch("[Content_Types].xml")

    def remove_override(self, name: str) -> None:
        part = "/" + name
        for item in self.content_types.findall(_q("Override", CT_NS)):
            if item.get("PartName") == part:
                self.content_types.remove(item)
                self.touch("[Content_Types].xml")

    def ensure_rels_default(self) -> None:
        for item in self.content_types.findall(_q("Default", CT_NS)):
            if (item.get("Extension") or "").lower() == "rels":
                return
        default = ET.Element(_q("Default", CT_NS), {"Extension": "rels", "ContentType": CT_RELS})
        self.content_types.insert(0, default)
        self.touch("[Content_Types].xml")

    # -- relationships
    def rels(self, source: str, create: bool = False) -> ET.Element | None:
        name = _rels_name(source)
        if self.exists(name):
            return self.tree(name)
        if not create:
            return None
        self.ensure_rels_default()
        root = ET.Element(_q("Relationships", PKG_REL))
        self.new_tree(name, root, None)
        return root

    def relations(self, source: str) -> Iterator[ET.Element]:
        rels = self.rels(source)
        if rels is not None:
            yield from rels.findall(_q("Relationship", PKG_REL))

    def relation(self, source: str, rid: str) -> ET.Element | None:
        for rel in self.relations(source):
            if rel.get("Id") == rid:
                return rel
        return None

    def target(self, source: str, rel: ET.Element) -> str:
        return _resolve(source, rel.get("Target") or "")

    def add_relation(self, source: str, rel_type: str, part: str) -> str:
        rels = self.rels(source, create=True)
        assert rels is not None
        used = {rel.get("Id") for rel in rels}
        n = 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        ET.SubElement(
            rels, _q("Relationship", PKG_REL), {"Id": rid, "Type": rel_type, "Target": _relative(source, part)}
        )
        self.touch(_rels_name(source))
        return rid

    def remove_relation(self, source: str, rid: str) -> None:
        rels = self.rels(source)
        if rels is None:
            return
        for rel in rels.findall(_q("Relationship", PKG_REL)):
            if rel.get("Id") == rid:
                rels.remove(rel)
                self.touch(_rels_name(source))
        if len(rels) == 0:
            self.delete(_rels_name(source))

    def delete_with_rels(self, part: str) -> None:
        """Delete a part, its rels and the internal parts only it points to (a chart's style and colours)."""
        for rel in list(self.relations(part)):
            if rel.get("TargetMode") != "External":
                inner = self.target(part, rel)
                if self.exists(inner):
                    self.delete(inner)
        if self.exists(_rels_name(part)):
            self.delete(_rels_name(part))
        self.delete(part)

    # -- output
    def raw_member(self, info: zipfile.ZipInfo) -> bytes:
        """A member's bytes as stored in the zip (compressed), read past its local header."""
        if self.source is None:
            self.source = open(self.zin.filename or "", "rb")  # noqa: SIM115 - closed by close()
        try:
            self.source.seek(info.header_offset)
            head = self.source.read(30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                raise OSError("no local header")
            name_length, extra_length = struct.unpack("<2H", head[26:30])
            self.source.seek(info.header_offset + 30 + name_length + extra_length)
            data = self.source.read(info.compress_size)
        except OSError as exc:
            raise FileError(self.where, f"cannot read {info.filename} ({exc})") from None
        if len(data) != info.compress_size:
            raise FileError(self.where, f"cannot read {info.filename} (truncated)")
        return data

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None

    def save(self, handle: IO[bytes]) -> None:
        """Write the package as a zip: members csxl wrote are deflated (level :data:`_ZIP_LEVEL`), every other member
        is copied as its compressed bytes (same CRC, same content); order, names, times and attributes are kept."""
        for name in self.dirty:
            if name in self.builders:
                self.raw[name] = self.builders[name]()
            elif name in self.trees:
                decls, root_decls = self.decls[name]
                self.raw[name] = _serialise(self.trees[name], decls, root_decls)
        if self.zin.filename and all(i.compress_type in _ZIP_METHODS for i in self.infos.values()):
            try:
                self._save_members(_ZipWriter(handle))
                return
            except _NeedsZip64:
                handle.seek(0)
                handle.truncate()
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_ZIP_LEVEL) as zout:
            for name in self.order:
                if name in self.deleted:
                    continue
                old = self.infos.get(name)
                info = zipfile.ZipInfo(name, old.date_time if old else _NEW_PART_TIME)
                info.compress_type = old.compress_type if old else zipfile.ZIP_DEFLATED
                if old is not None:
                    info.external_attr = old.external_attr
                data = self.raw[name] if name in self.raw else self.read(name)
                zout.writestr(info, data, compresslevel=_ZIP_LEVEL)

    def _save_members(self, zout: _ZipWriter) -> None:
        for name in self.order:
            if name in self.deleted:
                continue
            old = self.infos.get(name)
            if old is None:
                zout.add(name, _NEW_PART_TIME, 0, zipfile.ZIP_DEFLATED, self.raw[name])
            elif name in self.raw or old.flag_bits & 0x1:  # rewritten (or encrypted: read() refuses it)
                data = self.raw[name] if name in self.raw else self.read(name)
                zout.add(name, old.date_time, old.external_attr, old.compress_type, data)
            else:
                stored = self.raw_member(old)
                zout.add_compressed(name, old, stored)
        zout.finish()


#: Compression methods the zip writer handles (stored, deflated); another one sends the whole zip through zipfile.
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: Sizes and offsets from this on need ZIP64 (the zip then goes through zipfile); a test lowers it.
_ZIP32_LIMIT = 0xFFFFFFFF
#: Parts at least this big are deflated in two halves in two threads.
_PARALLEL_DEFLATE_BYTES = 4 * 1024 * 1024


class _NeedsZip64(Exception):
    """A member or the archive is too big for a plain (non-ZIP64) zip."""


def _deflate(data: bytes) -> tuple[bytes, int]:
    """Raw deflate (level :data:`_ZIP_LEVEL`) of ``data`` and its CRC-32.

    A big part is deflated in two halves at once (zlib releases the GIL): the first ends on a sync flush (a byte
    boundary, not the last block), the second starts primed with the first's last 32 KB, so the two join into one
    stream (the way pigz works) that any inflater reads, back-references across the cut included.
    """
    if len(data) < _PARALLEL_DEFLATE_BYTES:
        whole = zlib.compressobj(_ZIP_LEVEL, zlib.DEFLATED, -15)
        return whole.compress(data) + whole.flush(), zlib.crc32(data)
    view = memoryview(data)
    half = len(data) // 2

    def first() -> bytes:
        head = zlib.compressobj(_ZIP_LEVEL, zlib.DEFLATED, -15)
        return head.compress(view[:half]) + head.flush(zlib.Z_SYNC_FLUSH)

    try:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1)
        job = pool.submit(first)
    except RuntimeError:  # no threads here (e.g. WebAssembly): one stream
        whole = zlib.compressobj(_ZIP_LEVEL, zlib.DEFLATED, -15)
        return whole.compress(data) + whole.flush(), zlib.crc32(data)
    try:
        tail = zlib.compressobj(_ZIP_LEVEL, zlib.DEFLATED, -15, zdict=view[max(0, half - 32768) : half])
        second = tail.compress(view[half:]) + tail.flush()
        crc = zlib.crc32(data)
        return job.result() + second, crc
    finally:
        pool.shutdown()


class _ZipWriter:
    """A plain zip writer (no ZIP64; :class:`_NeedsZip64` past 4 GB or 65,535 members): each member's local header
    and data, then the central directory, as zipfile writes them to a seekable file."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.offset = 0
        self.central: list[bytes] = []
        self.system = 0 if sys.platform == "win32" else 3  # the "made by" system zipfile records

    def add(self, name: str, date_time: tuple[int, ...], external_attr: int, method: int, data: bytes) -> None:
        """A member from its content: deflated here (or stored as is for a stored member)."""
        if method == zipfile.ZIP_DEFLATED:
            stored, crc = _deflate(data)
        else:
            stored, crc = data, zlib.crc32(data)
        self._write(name, date_time, external_attr, method, 0, crc, len(data), stored)

    def add_compressed(self, name: str, info: zipfile.ZipInfo, stored: bytes) -> None:
        """A member copied as its compressed bytes (CRC and size from the source's directory)."""
        flags = info.flag_bits & 0x6  # the deflate option bits; no data descriptor: sizes are in the header
        self._write(
            name, info.date_time, info.external_attr, info.compress_type, flags, info.CRC, info.file_size, stored
        )

    def _write(
        self,
        name: str,
        date_time: tuple[int, ...],
        external_attr: int,
        method: int,
        flags: int,
        crc: int,
        size: int,
        stored: bytes,
    ) -> None:
        try:
            encoded = name.encode("ascii")
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), flags | 0x800
        if max(size, len(stored), self.offset) >= _ZIP32_LIMIT or len(self.central) >= 0xFFFF:
            raise _NeedsZip64
        year, month, day, hour, minute, second = date_time[:6]
        dos_time = hour << 11 | minute << 5 | second // 2
        dos_date = (year - 1980) << 9 | month << 5 | day
        fields = (flags, method, dos_time, dos_date, crc, len(stored), size, len(encoded))
        header = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, *fields, 0)
        entry = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, self.system, 20, 0, *fields, 0, 0, 0, 0, 0, 0)
        self.central.append(entry[:-8] + struct.pack("<2L", external_attr & 0xFFFFFFFF, self.offset) + encoded)
        self.handle.write(header + encoded)
        self.handle.write(stored)
        self.offset += len(header) + len(encoded) + len(stored)

    def finish(self) -> None:
        directory = b"".join(self.central)
        if self.offset + len(directory) >= _ZIP32_LIMIT:
            raise _NeedsZip64
        count = len(self.central)
        self.handle.write(directory)
        self.handle.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), self.offset, 0))


# --------------------------------------------------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------------------------------------------------


class _Styles:
    """``xl/styles.xml``: resolves a Plan style key to a ``cellXfs`` index, appending what is missing once."""

    def __init__(self, pkg: _Package, part: str, currency: str) -> None:
        self.pkg = pkg
        self.part = part
        self.root = pkg.tree(part)
        self.currency = currency
        self.cache: dict[str, int] = {}
        self.date_xf: dict[int, bool] = {}

    def _section(self, tag: str) -> ET.Element:
        return _child(self.root, tag, _STYLES_ORDER)

    def _find_or_add(self, tag: str, element: ET.Element) -> int:
        section = self._section(tag)
        items = section.findall(_q(element.tag.rsplit("}", 1)[-1]))
        wanted = _key(element)
        for i, item in enumerate(items):
            if _key(item) == wanted:
                return i
        section.append(element)
        section.set("count", str(len(items) + 1))
        self.pkg.touch(self.part)
        return len(items)

    def _num_fmt(self, code: str | None) -> int:
        if code is None:
            return 0
        if code == "money":
            code = money_format(self.currency)
        if code in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[code]
        section = self.root.find(_q("numFmts"))
        existing = [] if section is None else section.findall(_q("numFmt"))
        for item in existing:
            if item.get("formatCode") == code:
                return int(item.get("numFmtId") or 0)
        section = self._section("numFmts")
        new_id = max([163, *(int(i.get("numFmtId") or 0) for i in existing)]) + 1
        ET.SubElement(section, _q("numFmt"), {"numFmtId": str(new_id), "formatCode": code})
        section.set("count", str(len(existing) + 1))
        self.pkg.touch(self.part)
        return new_id

    def _font(self, look: Look) -> int:
        if not (look.bold or look.italic or look.size or look.color):
            return 0
        fonts = self._section("fonts")
        base = fonts.find(_q("font"))
        base_children = {} if base is None else {_local(c.tag): c for c in base}
        font = ET.Element(_q("font"))
        if look.bold:
            ET.SubElement(font, _q("b"))
        if look.italic:
            ET.SubElement(font, _q("i"))
        size = base_children.get("sz")
        ET.SubElement(
            font,
            _q("sz"),
            {"val": _number_text(look.size) if look.size else (size.get("val", "11") if size is not None else "11")},
        )
        if look.color:
            ET.SubElement(font, _q("color"), {"rgb": "FF" + look.color})
        elif "color" in base_children:
            ET.SubElement(font, _q("color"), dict(base_children["color"].attrib))
        for tag in ("name", "family", "charset", "scheme"):
            if tag in base_children:
                ET.SubElement(font, _q(tag), dict(base_children[tag].attrib))
        return self._find_or_add("fonts", font)

    def _fill(self, look: Look) -> int:
        if not look.fill:
            return 0
        fill = ET.Element(_q("fill"))
        pattern = ET.SubElement(fill, _q("patternFill"), {"patternType": "solid"})
        ET.SubElement(pattern, _q("fgColor"), {"rgb": "FF" + look.fill})
        ET.SubElement(pattern, _q("bgColor"), {"indexed": "64"})
        return self._find_or_add("fills", fill)

    def _border(self, look: Look) -> int:
        if not look.bottom_border:
            return 0
        border = ET.Element(_q("border"))
        for side in ("left", "right", "top", "bottom", "diagonal"):
            edge = ET.SubElement(border, _q(side))
            if side == "bottom":
                edge.set("style", "thin")
                ET.SubElement(edge, _q("color"), {"rgb": "FF" + look.bottom_border})
        return self._find_or_add("borders", border)

    def index(self, style: str) -> int:
        """The ``cellXfs`` index of a Plan style key."""
        if style in self.cache:
            return self.cache[style]
        look = LOOKS[style]
        num, font, fill, border = self._num_fmt(look.num_fmt), self._font(look), self._fill(look), self._border(look)
        xf = ET.Element(
            _q("xf"),
            {"numFmtId": str(num), "fontId": str(font), "fillId": str(fill), "borderId": str(border), "xfId": "0"},
        )
        for flag, used in (
            ("applyNumberFormat", num),
            ("applyFont", font),
            ("applyFill", fill),
            ("applyBorder", border),
            ("applyAlignment", look.wrap or look.vertical),
        ):
            if used:
                xf.set(flag, "1")
        if look.wrap or look.vertical:
            align = ET.SubElement(xf, _q("alignment"))
            if look.vertical:
                align.set("vertical", look.vertical)
            if look.wrap:
                align.set("wrapText", "1")
        found = self._find_or_add("cellXfs", xf)
        self.cache[style] = found
        return found

    def is_date(self, s: int) -> bool:
        """True when cell format ``s`` shows a date."""
        if s not in self.date_xf:
            xfs = self.root.find(_q("cellXfs"))
            items = [] if xfs is None else xfs.findall(_q("xf"))
            num = int(items[s].get("numFmtId") or 0) if 0 <= s < len(items) else 0
            if num in _BUILTIN_DATE_IDS:
                result = True
            else:
                codes = {int(i.get("numFmtId") or 0): i.get("formatCode") or "" for i in self.root.iter(_q("numFmt"))}
                result = num in codes and _is_date_format(codes[num])
            self.date_xf[s] = result
        return self.date_xf[s]


_EMPTY_STYLES = (
    f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1">'
    '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


# --------------------------------------------------------------------------------------------------------------------
# Worksheets
# --------------------------------------------------------------------------------------------------------------------

_C, _ROW, _V, _F, _IS, _T = _q("c"), _q("row"), _q("v"), _q("f"), _q("is"), _q("t")

#: Worksheet parts at least this big keep their rows as raw bytes (below it a sheet is parsed whole; both give the
#: same XML, the tests run both ways).
_STREAM_MIN_BYTES = 256 * 1024

# Raw worksheet XML. An element's attributes (values quoted either way), then ``/>`` or ``>`` ... close tag.
_ATTRS = rb"""((?:\s+[^\s=/<>"']+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*"""
_SHEET_DATA_TAG = re.compile(rb"<sheetData" + _ATTRS + rb"(/?)>")
_ROW_TAG = re.compile(rb"<row" + _ATTRS + rb"(/?)>")
_CELL_XML = re.compile(rb'<c(?:\s+r="([A-Z]{1,3})[0-9]{1,7}")?' + _ATTRS + rb"(?:/>|>(.*?)</c>)", re.S)
#: Every cell start tag of a row body, with its reference when ``r`` comes first (as Excel and openpyxl write it).
_CELL_REFS = re.compile(rb'<c(?=[\s/>])(?: r="(([A-Z]{1,3})[0-9]{1,7})")?')
_SPACE = re.compile(rb"[ \t\r\n]*")
_CELL_TAG = re.compile(rb'<c(?:\s+r="([A-Z]{1,3})[0-9]{1,7}")?' + _ATTRS + rb"/?>")
_LAST_CELL = re.compile(rb".*(<c[\s/>])", re.S)
_R_ATTR = re.compile(rb"""\sr\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ANY_ATTR = re.compile(rb"""([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_QUOTED_ATTR = re.compile(rb'([^\s=]+)\s*=\s*"([^"]*)"')
_SPANS = re.compile(rb"""(\sspans\s*=\s*)(?:"[^"]*"|'[^']*')""")
#: What a cell written as bytes may hold: a formula (not a shared one's master), then a value or an inline string.
_VALUE_ONLY = re.compile(rb"(<f(?:\s[^>]*)?(?:/>|>[^<]*</f>))?(?:<v>[^<]*</v>|<v\s*/>|<is>.*?</is>|<is\s*/>)?", re.S)
_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_DROPPED_ATTRS = re.compile(rb'\s+(?:t|cm|vm)\s*=\s*"[^"]*"')  # what emptying a cell removes (type, metadata)
_S_ATTR = re.compile(rb'\ss\s*=\s*"([^"]*)"')
_INLINE_OPEN = b' t="inlineStr"><is><t xml:space="preserve">'


class _Columns(dict[bytes, int]):
    """Column letters -> column number (``b"AB"`` -> 28), filled as letters are met."""

    def __missing__(self, letters: bytes) -> int:
        number = self[letters] = _col_index(letters.decode("ascii"))
        return number


_COL_NUMBERS = _Columns()

#: (column, kind, text, style): one cell of a row to write; kind and text as :func:`_encode` gives them.
_Put = tuple[int, str, str, "int | None"]


def _tag_col(match: re.Match[bytes]) -> int | None:
    """The column of a matched cell start tag (``_CELL_XML``/``_CELL_TAG``); ``None`` without a plain ``r``."""
    if match.group(1) is not None:
        return _COL_NUMBERS[match.group(1)]
    ref = _R_ATTR.search(match.group(2))
    if ref is None:
        return None
    found = _REF.match((ref.group(1) if ref.group(1) is not None else ref.group(2) or b"").decode("utf-8", "replace"))
    return _col_index(found.group(1)) if found else None


def _escape_text(text: str) -> bytes:
    """Element text as ElementTree writes it (``&``, ``<``, ``>`` escaped), UTF-8."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text.encode("utf-8")


@dataclass
class _Cut:
    """A worksheet's XML cut around its rows: ``head`` is the part without them (``<sheetData>`` kept, empty),
    ``rows`` each row's number and raw bytes (with the whitespace after it), ``scope`` the namespace declarations in
    force inside ``<sheetData>``."""

    head: bytes
    rows: list[tuple[int, bytes]]
    scope: dict[str, str]


def _cut_rows(data: bytes) -> _Cut | None:
    """Cut a worksheet part into its head and raw rows; ``None`` when the rows are not plain enough to keep as bytes.

    Plain: UTF-8; ``<sheetData>`` in the main namespace as the default namespace (Excel's, openpyxl's and
    LibreOffice's way); only ``<row r="N">`` children (no comments, CDATA or processing instructions before the end
    of the rows). Anything else is parsed whole, as before.
    """
    encoding = _ENCODING.match(data)
    if encoding is not None and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
        return None
    tag = _SHEET_DATA_TAG.search(data)
    if tag is None or tag.group(2):
        return None
    start = tag.end()
    end = data.find(b"</sheetData>", start)
    if end == -1 or data.find(b"<!", 0, end) != -1 or data.find(b"<?", start, end) != -1:
        return None
    scope = dict(_declarations(data, root_only=True))
    scope.update(_declarations(tag.group(0), root_only=False))
    if scope.get("") != MAIN:
        return None
    space = _SPACE.match(data, start, end)
    first = pos = space.end() if space else start
    rows: list[tuple[int, bytes]] = []
    while pos < end:
        tag = _ROW_TAG.match(data, pos, end)
        if tag is None:
            return None
        ref = _R_ATTR.search(tag.group(1))
        number = (ref.group(1) if ref.group(1) is not None else ref.group(2)) if ref else None
        if not number or not number.isdigit():
            return None
        stop = tag.end()
        if not tag.group(2):
            close = data.find(b"</row>", stop, end)
            if close == -1 or data.find(b"<row", stop, close) != -1:
                return None
            stop = close + len(b"</row>")
        space = _SPACE.match(data, stop, end)
        stop = space.end() if space else stop
        rows.append((int(number), data[pos:stop]))
        pos = stop
    if not rows:
        return None
    return _Cut(data[:first] + data[end:], rows, scope)


class _Row:
    """One child of ``<sheetData>``: kept as raw bytes (``raw``, with the whitespace after it) until something needs
    it parsed (``el``). ``r`` is the row number; ``None`` for a child that is not a row."""

    __slots__ = ("el", "r", "raw")

    def __init__(self, r: int | None, raw: bytes | None, el: ET.Element | None) -> None:
        self.r = r
        self.raw = raw
        self.el = el


@dataclass
class _RawCells:
    """A raw row taken apart: its start tag (``attrs`` as written; ``closed`` for ``<row .../>``), its ``body``, the
    start of each cell's tag (``<c r="B7"``) and its column (ascending), and the whitespace after the row (``tail``)."""

    start_tag: bytes
    attrs: bytes
    closed: bool
    body: bytes
    tail: bytes
    tags: list[bytes]
    cols: list[int]


class _Sheet:
    """One worksheet part with an index of its rows and cells (kept in order when written back).

    A big part (:data:`_STREAM_MIN_BYTES`) is not parsed whole: its rows stay raw bytes, a row the plan writes is
    edited as bytes (only the cells written change; the XML is what ElementTree would write for them), and a row is
    parsed only when an edit needs the tree (formulas, unsorted cells, a row without ``r`` ...). Untouched rows are
    copied as they are. Both ways give the same XML (``tests/test_xlsx.py`` compares them).
    """

    def __init__(self, book: _Book, name: str, part: str) -> None:
        self.book = book
        self.name = name
        self.part = part
        pkg = book.pkg
        cut = None
        if part not in pkg.trees:
            data = pkg.read(part)
            if len(data) >= _STREAM_MIN_BYTES:
                cut = _cut_rows(data)
        self.root = pkg.adopt(part, cut.head, data) if cut is not None else pkg.tree(part)
        if self.root.tag != _q("worksheet"):
            raise FileError(book.where, f"sheet {name!r} is not a worksheet ({_local(self.root.tag)})")
        self.data = _child(self.root, "sheetData", _SHEET_ORDER)
        self.streaming = cut is not None
        if cut is not None:
            self.scope = cut.scope
            self.entries = [_Row(r, raw, None) for r, raw in cut.rows]
        else:
            self.scope = {}
            self.entries = [_Row(None, None, child) for child in self.data]
            self.data[:] = []
        pkg.builders[part] = self.serialise
        self._index_rows()

    def _index_rows(self) -> None:
        self.rows: dict[int, _Row] = {}
        self.cells: dict[int, dict[int, ET.Element]] = {}
        self.max_col: dict[int, int] = {}
        self.unsorted_rows = False
        self.unsorted_cells: set[int] = set()
        self.touched_rows: set[int] = set()
        last = 0
        for entry in self.entries:
            row = entry.el
            if row is not None:
                if row.tag != _ROW:
                    continue
                number = int(row.get("r") or last + 1)
                if "r" not in row.attrib:
                    row.set("r", str(number))
                entry.r = number
            else:
                assert entry.r is not None
                number = entry.r
            if number <= last:
                self.unsorted_rows = True
            self.rows[number] = entry
            last = number
        self.last_row = last
        self._row_numbers: list[int] | None = None
        self._col_styles: list[tuple[int, int, str]] | None = None

    def reset(self) -> None:
        """Drop every row (a replaced sheet)."""
        self.entries = []
        self._index_rows()

    # -- raw rows
    def _parse_entries(self, todo: list[_Row]) -> None:
        """Parse raw rows (in one go) into elements, in the namespace scope of ``<sheetData>``."""
        todo = [entry for entry in todo if entry.raw is not None]
        if not todo:
            return
        decls = "".join(f" xmlns{':' + p if p else ''}={quoteattr(u)}" for p, u in self.scope.items())
        xml = b"<sheetData" + decls.encode("utf-8") + b">" + b"".join(e.raw or b"" for e in todo) + b"</sheetData>"
        children = list(_parse(xml, self.book.where, self.part))
        if len(children) != len(todo):
            raise FileError(self.book.where, f"{self.part} has rows that are not valid XML")
        for entry, element in zip(todo, children, strict=True):
            entry.el, entry.raw = element, None

    def _parsed(self, entry: _Row) -> ET.Element:
        if entry.el is None:
            self._parse_entries([entry])
        assert entry.el is not None
        return entry.el

    def _parse_all(self) -> None:
        self._parse_entries(self.entries)

    def _add_row(self, entry: _Row) -> None:
        assert entry.r is not None
        self.entries.append(entry)
        self.rows[entry.r] = entry
        self.cells.pop(entry.r, None)
        self._row_numbers = None
        if entry.r < self.last_row:
            self.unsorted_rows = True
        self.last_row = max(self.last_row, entry.r)

    def _inherited_style(self, row: Mapping[str, str], col: int) -> str | None:
        """The look Excel gives a new cell: its row's format (``customFormat``), else its column's ``style``."""
        if row.get("customFormat") in ("1", "true") and row.get("s"):
            return row.get("s")
        if self._col_styles is None:
            self._col_styles = [
                (int(c.get("min") or 0), int(c.get("max") or 0), c.get("style") or "")
                for c in self.root.iter(_q("col"))
                if c.get("style") not in (None, "0")
            ]
        for low, high, style in self._col_styles:
            if low <= col <= high:
                return style
        return None

    def touch(self) -> None:
        self.book.pkg.touch(self.part)

    def row_cells(self, r: int) -> dict[int, ET.Element]:
        if r not in self.cells:
            entry = self.rows.get(r)
            row = self._parsed(entry) if entry is not None else None
            found: dict[int, ET.Element] = {}
            last = 0
            if row is not None:
                for c in row.findall(_C):
                    ref = c.get("r")
                    col = _split_ref(ref)[1] if ref else last + 1
                    if not ref:
                        c.set("r", _cell_ref(r, col))
                    if col <= last:
                        self.unsorted_cells.add(r)
                    found[col] = c
                    last = col
            self.cells[r] = found
            self.max_col[r] = last
        return self.cells[r]

    def cell(self, r: int, col: int, create: bool) -> ET.Element | None:
        cells = self.row_cells(r)
        found = cells.get(col)
        if found is not None or not create:
            return found
        entry = self.rows.get(r)
        if entry is None:
            row = ET.Element(_ROW, {"r": str(r)})
            self._add_row(_Row(r, None, row))
            self.cells[r] = cells
        else:
            row = self._parsed(entry)
        found = ET.SubElement(row, _C, {"r": _cell_ref(r, col)})
        inherited = self._inherited_style(row.attrib, col)
        if inherited:
            found.set("s", inherited)
        if col < self.max_col[r]:
            self.unsorted_cells.add(r)
        self.max_col[r] = max(self.max_col[r], col)
        cells[col] = found
        self.touched_rows.add(r)
        return found

    def rows_between(self, top: int, bottom: int) -> list[int]:
        if self._row_numbers is None:
            self._row_numbers = sorted(self.rows)
        numbers = self._row_numbers
        return numbers[bisect.bisect_left(numbers, top) : bisect.bisect_right(numbers, bottom)]

    # -- writing rows
    def put_row(self, r: int, puts: Sequence[_Put], date_style: Callable[[int], int] | None) -> None:
        """Write cells of row ``r``: ``(column, kind, text, style)`` each (style ``None`` keeps the cell's look; a new
        cell takes its row's or column's). ``date_style(current s)`` picks the look of a date cell without a style."""
        entry = self.rows.get(r)
        if self.streaming and (entry is None or entry.raw is not None):
            if entry is None and not any(kind != "empty" or s is not None for _, kind, _, s in puts):
                return
            raw = entry.raw if entry is not None else b'<row r="%d"/>' % r
            assert raw is not None
            scan = _scan_row(raw)
            if scan is not None and self._splice(r, entry, scan, puts, date_style, spans=True):
                return
        for col, kind, text, s in puts:
            c = self.cell(r, col, create=kind != "empty" or s is not None)
            if c is None:
                continue
            self.write(c, kind, text)
            if s is None and kind == "d" and date_style is not None:
                s = date_style(int(c.get("s") or 0))
            if s is not None:
                self.set_style(c, s)
            self.touched_rows.add(r)

    def clear_row(self, r: int, left: int, right: int) -> None:
        """Empty the cells of row ``r`` in columns ``left..right`` (values go, looks stay)."""
        entry = self.rows.get(r)
        if entry is None:
            return
        if entry.raw is not None:
            scan = _scan_row(entry.raw)
            if scan is not None:
                puts = [(col, "empty", "", None) for col in scan.cols if left <= col <= right]
                if not puts or self._splice(r, entry, scan, puts, None, spans=False):
                    return
        cells = self.row_cells(r)
        for col in [k for k in cells if left <= k <= right]:
            self.empty(cells[col])

    def _splice(
        self,
        r: int,
        entry: _Row | None,
        scan: _RawCells,
        puts: Sequence[_Put],
        date_style: Callable[[int], int] | None,
        *,
        spans: bool,
    ) -> bool:
        """Write ``puts`` into a raw row as bytes, as :meth:`put_row` does on a parsed row: the same attributes in the
        same order (``t``, ``cm``, ``vm`` dropped, ``s`` set in place or appended, then the new ``t``) and the same
        value element, so the cells read back as ElementTree wrote them. ``spans``: widen the row's ``spans`` as for a
        written row. ``False``, with nothing changed, when a cell written is not plain (a formula, anything but one
        ``<v>`` or ``<is>``, single-quoted attributes): the caller parses the row instead."""
        body, cols, tags = scan.body, scan.cols, scan.tags
        count = len(cols)
        row_attrs: dict[str, str] | None = None
        edits: list[tuple[int, int, int, bytes]] = []  # (start, end, column, new bytes) in the body
        new_cols: list[int] = []
        touched = formulas = False
        previous = cursor = 0
        for col, kind, text, s in puts:
            if col <= previous:  # callers give columns in order, each once
                return False
            previous = col
            i = bisect.bisect_left(cols, col)
            if i < count and cols[i] == col:
                start = body.find(tags[i], cursor)
                match = _CELL_XML.match(body, start)
                if match is None:
                    return False
                inner = match.group(3)
                head = body[start + 2 : match.end(2)]
                if inner:
                    plain = _VALUE_ONLY.fullmatch(inner)
                    if plain is None or b"'" in head:
                        return False
                    formula = plain.group(1)
                    if formula:  # overwriting a formula: recalc; a shared formula's master needs the tree (unshare)
                        if b"shared" in formula and b"ref" in formula:
                            return False
                        formulas = True
                elif b"'" in head:
                    return False
                if b"t" in head or b"m" in head:
                    head = _DROPPED_ATTRS.sub(b"", head)
                end = cursor = match.end()
            else:
                if kind == "empty" and s is None:
                    continue
                if row_attrs is None:
                    row_attrs = _raw_attrs(scan.attrs)
                head = b' r="' + _cell_ref(r, col).encode("ascii") + b'"'
                inherited = self._inherited_style(row_attrs, col)
                if inherited:
                    head += b' s="' + inherited.encode("utf-8") + b'"'
                start = end = cursor = body.find(tags[i], cursor) if i < count else len(body)
                new_cols.append(col)
            touched = True
            if s is not None or (kind == "d" and date_style is not None):
                current = _S_ATTR.search(head)
                if s is None and date_style is not None:
                    s = date_style(int(current.group(1) or 0) if current else 0)
                style = str(s).encode("ascii")
                if current is None:
                    head += b' s="' + style + b'"'
                else:
                    head = head[: current.start(1)] + style + head[current.end(1) :]
            if kind == "n" or kind == "d":
                cell = b"<c" + head + b"><v>" + text.encode("ascii") + b"</v></c>"
            elif kind == "s":
                cell = b"<c" + head + _INLINE_OPEN + _escape_text(text) + b"</t></is></c>"
            elif kind == "b":
                cell = b"<c" + head + b' t="b"><v>' + text.encode("ascii") + b"</v></c>"
            elif kind == "f":
                formulas = True
                cell = b"<c" + head + b"><f>" + _escape_text(text) + b"</f></c>"
            else:
                cell = b"<c" + head + b" />"
            edits.append((start, end, col, cell))
        if not edits:
            return True
        start_tag = scan.start_tag if not scan.closed else b"<row" + scan.attrs + b">"
        if spans and touched and b"spans" in scan.attrs:
            if row_attrs is None:
                row_attrs = _raw_attrs(scan.attrs)
            old = row_attrs.get("spans")
            if old and ":" in old:
                every = cols + new_cols
                low, high = (int(x) for x in old.split(":", 1))
                value = f"{min([low, *every])}:{max([high, *every])}"
                if value != old:
                    attrs_text = _SPANS.sub(lambda m: m.group(1) + b'"' + value.encode("ascii") + b'"', scan.attrs)
                    start_tag = b"<row" + attrs_text + b">"
        if new_cols:
            edits.sort()
        pieces = [start_tag]
        at = 0
        for start, end, _col, cell in edits:
            pieces.append(body[at:start])
            pieces.append(cell)
            at = end
        pieces.append(body[at:])
        pieces.append(b"</row>")
        pieces.append(scan.tail)
        if entry is None:
            entry = _Row(r, None, None)
            self._add_row(entry)
        entry.raw = b"".join(pieces)
        if formulas:
            self.book.formulas_changed = True
        if touched and spans:
            self.touched_rows.add(r)
        return True

    # -- cell contents
    def empty(self, c: ET.Element) -> None:
        """Drop a cell's value, formula and type; keep its format ``s``."""
        formula = c.find(_F)
        if formula is not None:
            self.book.formulas_changed = True
            if formula.get("t") == "shared" and formula.get("ref"):
                self._unshare(c, formula)
        for child in list(c):
            if child.tag in (_V, _F, _IS):
                c.remove(child)
        for attr in ("t", "cm", "vm"):
            c.attrib.pop(attr, None)

    def _unshare(self, master: ET.Element, formula: ET.Element) -> None:
        """Before a shared formula's master cell is overwritten, give each other cell of the group its own formula."""
        from openpyxl.formula.translate import Translator

        group = formula.get("si")
        origin = master.get("r") or "A1"
        text = "=" + (formula.text or "")
        self._parse_all()
        for entry in self.entries:
            if entry.el is None:
                continue
            for c in entry.el.iter(_C):
                f = c.find(_F)
                if c is master or f is None or f.get("t") != "shared" or f.get("si") != group:
                    continue
                f.text = Translator(text, origin=origin).translate_formula(c.get("r") or origin)[1:]
                for attr in ("t", "si", "ref"):
                    f.attrib.pop(attr, None)

    def write(self, c: ET.Element, kind: str, text: str) -> None:
        self.empty(c)
        if kind == "empty":
            return
        if kind == "s":
            c.set("t", "inlineStr")
            inline = ET.SubElement(c, _IS)
            ET.SubElement(inline, _T, {_q("space", XML_NS): "preserve"}).text = text
        elif kind == "f":
            self.book.formulas_changed = True
            ET.SubElement(c, _F).text = text
        else:
            if kind == "b":
                c.set("t", "b")
            ET.SubElement(c, _V).text = text

    def set_style(self, c: ET.Element, s: int) -> None:
        t = c.attrib.pop("t", None)
        c.set("s", str(s))
        if t is not None:
            c.set("t", t)

    # -- finishing
    def finish(self) -> None:
        if self.unsorted_rows:
            rows = [entry for entry in self.entries if entry.r is not None]
            others = [entry for entry in self.entries if entry.r is None]
            self.entries = sorted(rows, key=lambda entry: entry.r or 0) + others
        for r in self.unsorted_cells:
            entry = self.rows.get(r)
            row = entry.el if entry is not None else None
            if row is not None:
                cells = sorted(row.findall(_C), key=lambda c: _split_ref(c.get("r") or "A1")[1])
                row[:] = cells + [child for child in row if child.tag != _C]
        for r in self.touched_rows:
            entry = self.rows.get(r)
            row = entry.el if entry is not None else None  # a raw row's spans were set when it was written
            spans = row.get("spans") if row is not None else None
            if row is not None and spans and ":" in spans:
                cols = [_split_ref(c.get("r") or "A1")[1] for c in row.iter(_C)]
                low, high = (int(x) for x in spans.split(":", 1))
                row.set("spans", f"{min([low, *cols])}:{max([high, *cols])}")
        self._dimension()

    def _dimension(self) -> None:
        top = bottom = left = right = 0
        for r, entry in self.rows.items():
            if entry.el is not None:
                cells = entry.el.findall(_C)
                if not cells:
                    continue
                first = _split_ref(cells[0].get("r") or "A1")[1]
                last = _split_ref(cells[-1].get("r") or "A1")[1]
            else:
                span = _raw_span(entry.raw or b"")
                if span is None:
                    continue
                first, last = span
            top = r if not top else min(top, r)
            bottom = max(bottom, r)
            left = first if not left else min(left, first)
            right = max(right, last)
        ref = "A1"
        if top:
            ref = _cell_ref(top, left)
            if (bottom, right) != (top, left):
                ref += ":" + _cell_ref(bottom, right)
        dimension = _child(self.root, "dimension", _SHEET_ORDER)
        dimension.set("ref", ref)

    def serialise(self) -> bytes:
        """The part's XML: the tree around the rows (ElementTree, prefixes kept) with the rows put back in order, raw
        rows as they are and parsed ones as ElementTree writes them."""
        decls, root_decls = self.book.pkg.decls[self.part]
        marker = f"csxl-raw-rows-{uuid.uuid4().hex}"
        runs: list[list[bytes]] = []
        elements: list[ET.Element] = []
        text = self.data.text
        saved: list[tuple[ET.Element, str | None]] = []
        in_run = False
        for entry in self.entries:
            if entry.el is not None:
                elements.append(entry.el)
                in_run = False
                continue
            if not in_run:  # a run of raw rows starts: mark its place in the text before it
                if elements:
                    saved.append((elements[-1], elements[-1].tail))
                    elements[-1].tail = (elements[-1].tail or "") + marker
                else:
                    self.data.text = (self.data.text or "") + marker
                runs.append([])
                in_run = True
            runs[-1].append(entry.raw or b"")
        self.data[:] = elements
        try:
            out = _serialise(self.root, decls, root_decls)
        finally:
            self.data[:] = []
            self.data.text = text
            for element, tail in saved:
                element.tail = tail
        if not runs:
            return out
        pieces = out.split(marker.encode("ascii"))
        declared = dict(_declarations(out, root_only=True))
        if len(pieces) != len(runs) + 1 or any(declared.get(p) != u for p, u in self.scope.items()):
            self._parse_all()  # the raw rows would not mean the same under this root: write them all as parsed
            return self.serialise()
        joined = [pieces[0]]
        for run, piece in zip(runs, pieces[1:], strict=True):
            joined.extend(run)
            joined.append(piece)
        return b"".join(joined)


def _raw_attrs(text: bytes) -> dict[str, str]:
    """Attributes of a raw start tag (values as written, entities not expanded)."""
    return {
        name.decode("utf-8", "replace"): (double or single).decode("utf-8", "replace")
        for name, double, single in _ANY_ATTR.findall(text)
    }


def _scan_row(raw: bytes) -> _RawCells | None:
    """A raw row's cells, or ``None`` when the row is not plain: a cell whose ``r`` is not its first attribute, cells
    out of column order, or an ``extLst`` in the row."""
    tag = _ROW_TAG.match(raw)
    if tag is None:
        return None
    core = len(raw.rstrip())
    closed = bool(tag.group(2))
    if closed:
        body = b""
    elif raw.endswith(b"</row>", 0, core):
        body = raw[tag.end() : core - len(b"</row>")]
    else:
        return None
    if b"<extLst" in body:
        return None
    found = _CELL_REFS.findall(body)
    refs: tuple[bytes, ...] = ()
    cols: list[int] = []
    if found:
        refs, letters = zip(*found, strict=True)
        if b"" in letters:
            return None
        cols = list(map(_COL_NUMBERS.__getitem__, letters))
        if len(set(cols)) != len(cols) or cols != sorted(cols):
            return None
    tags = [b'<c r="' + ref + b'"' for ref in refs]
    return _RawCells(raw[: tag.end()], tag.group(1), closed, body, raw[core:], tags, cols)


def _raw_span(raw: bytes) -> tuple[int, int] | None:
    """(column of the first cell, column of the last cell) of a raw row, ``None`` without cells; a cell without a
    plain ``r`` counts as column A (as for a parsed row)."""
    first = _CELL_TAG.search(raw)
    if first is None:
        return None
    at = _LAST_CELL.match(raw)
    last = _CELL_TAG.match(raw, at.start(1)) if at is not None else None
    return _tag_col(first) or 1, (_tag_col(last) if last is not None else None) or 1


# --------------------------------------------------------------------------------------------------------------------
# The workbook
# --------------------------------------------------------------------------------------------------------------------


def _check_sheet_name(name: str) -> None:
    if (
        not name.strip()
        or len(name) > 31
        or _BAD_SHEET_CHARS.search(name)
        or name.startswith("'")
        or name.endswith("'")
    ):
        raise InputError("sheet", name, "a sheet name of 1-31 characters without []:*?/\\ or a leading/trailing '")


class _Book:
    def __init__(self, zin: zipfile.ZipFile, where: str, currency: str) -> None:
        self.where = where
        self.pkg = _Package(zin, where)
        self.currency = currency
        self.formulas_changed = False
        self.values_changed = False
        office = [r for r in self.pkg.relations("") if r.get("Type") == RT_OFFICE]
        if not office:
            raise FileError(where, "not an Excel workbook (no officeDocument relationship in _rels/.rels)")
        self.wb_part = self.pkg.target("", office[0])
        self.wb = self.pkg.tree(self.wb_part)
        if self.wb.tag != _q("workbook"):
            raise FileError(where, f"{self.wb_part} is not a transitional SpreadsheetML workbook")
        self.sheets_el = _child(self.wb, "sheets", _WORKBOOK_ORDER)
        self.open: dict[str, _Sheet] = {}
        self.stale: dict[str, dict[str, ET.Element]] = {}  # drawing part -> csxl chart name -> anchor
        self._styles: _Styles | None = None

    # -- sheets
    def _sheet_entry(self, name: str) -> ET.Element | None:
        wanted = name.casefold()
        for entry in self.sheets_el.findall(_q("sheet")):
            if (entry.get("name") or "").casefold() == wanted:
                return entry
        return None

    def _sheet_part(self, entry: ET.Element) -> str:
        rid = entry.get(_q("id", DOC_REL)) or ""
        rel = self.pkg.relation(self.wb_part, rid)
        name = entry.get("name") or "?"
        if rel is None:
            raise FileError(self.where, f"sheet {name!r} has no part (relationship {rid or 'missing'} not found)")
        part = self.pkg.target(self.wb_part, rel)
        if not self.pkg.exists(part):
            raise FileError(self.where, f"sheet {name!r}: part {part} is missing")
        return part

    def sheet(self, name: str) -> _Sheet:
        key = name.casefold()
        if key not in self.open:
            entry = self._sheet_entry(name)
            if entry is None:
                raise FileError(self.where, f"no sheet named {name!r}")
            self.open[key] = _Sheet(self, entry.get("name") or name, self._sheet_part(entry))
        return self.open[key]

    def styles(self) -> _Styles:
        if self._styles is None:
            rels = [r for r in self.pkg.relations(self.wb_part) if r.get("Type") == RT_STYLES]
            if rels:
                part = self.pkg.target(self.wb_part, rels[0])
            else:
                part = (
                    "xl/styles.xml" if not self.pkg.exists("xl/styles.xml") else self.pkg.free_name("xl/styles{}.xml")
                )
                self.pkg.new_tree(part, _parse(_EMPTY_STYLES.encode(), self.where, part), CT_STYLES)
                self.pkg.add_relation(self.wb_part, RT_STYLES, part)
            self._styles = _Styles(self.pkg, part, self.currency)
        return self._styles

    # -- operations
    def apply(self, op: object) -> None:
        if isinstance(op, SheetSpec):
            self.sheet_spec(op)
        elif isinstance(op, Block):
            self.block(op)
        elif isinstance(op, Clear):
            self.clear(op)
        elif isinstance(op, ResizeTable):
            self.resize_table(op)
        elif isinstance(op, Chart):
            self.chart(op)
        else:
            raise InputError("plan operation", type(op).__name__, "a SheetSpec, Block, Clear, ResizeTable or Chart")

    def sheet_spec(self, spec: SheetSpec) -> None:
        _check_sheet_name(spec.name)
        if spec.tab_color is not None and not re.fullmatch(r"[0-9A-Fa-f]{6}", spec.tab_color):
            raise InputError("tab_color", spec.tab_color, "a hex RGB colour such as 1F4E79")
        for letters, width in spec.widths.items():
            if not re.fullmatch(r"[A-Za-z]{1,3}", letters) or _col_index(letters) > _MAX_COL:
                raise InputError("widths", letters, "a column letter such as B")
            if not (isinstance(width, (int, float)) and 0 < width <= 255):
                raise InputError(f"widths[{letters}]", width, "a width of 0-255 characters")
        if self._sheet_entry(spec.name) is None:
            self._create_sheet(spec)
        elif spec.replace:
            sheet = self.sheet(spec.name)
            sheet.reset()
            for merge in sheet.root.findall(_q("mergeCells")):
                sheet.root.remove(merge)
            self._layout(sheet.root, spec)
            self._mark_stale_charts(sheet)
            sheet.touch()
            self.values_changed = True

    def _layout(self, root: ET.Element, spec: SheetSpec) -> None:
        if spec.tab_color:
            pr = _child(root, "sheetPr", _SHEET_ORDER)
            for old in pr.findall(_q("tabColor")):
                pr.remove(old)
            pr.insert(0, ET.Element(_q("tabColor"), {"rgb": "FF" + spec.tab_color.upper()}))
        if spec.widths:
            for old in root.findall(_q("cols")):
                root.remove(old)
            cols = ET.Element(_q("cols"))
            for letters, width in sorted(spec.widths.items(), key=lambda item: _col_index(item[0])):
                n = str(_col_index(letters))
                ET.SubElement(
                    cols, _q("col"), {"min": n, "max": n, "width": _number_text(float(width)), "customWidth": "1"}
                )
            _insert_ordered(root, cols, _SHEET_ORDER)

    def _create_sheet(self, spec: SheetSpec) -> None:
        part = self.pkg.free_name("xl/worksheets/sheet{}.xml")
        root = ET.Element(_q("worksheet"))
        ET.SubElement(root, _q("dimension"), {"ref": "A1"})
        views = ET.SubElement(root, _q("sheetViews"))
        ET.SubElement(views, _q("sheetView"), {"workbookViewId": "0"})
        ET.SubElement(root, _q("sheetFormatPr"), {"defaultRowHeight": "15"})
        ET.SubElement(root, _q("sheetData"))
        margins = {"left": "0.7", "right": "0.7", "top": "0.75", "bottom": "0.75", "header": "0.3", "footer": "0.3"}
        ET.SubElement(root, _q("pageMargins"), margins)
        self._layout(root, spec)
        self.pkg.new_tree(part, root, CT_WORKSHEET)
        rid = self.pkg.add_relation(self.wb_part, RT_WORKSHEET, part)
        entries = self.sheets_el.findall(_q("sheet"))
        ids = [int(e.get("sheetId") or 0) for e in entries]
        entry = ET.Element(_q("sheet"), {"name": spec.name, "sheetId": str(max([0, *ids]) + 1), _q("id", DOC_REL): rid})
        position = len(entries)
        if spec.after is not None:
            after = self._sheet_entry(spec.after)
            if after is not None:
                position = entries.index(after) + 1
        if position < len(entries):
            self.sheets_el.insert(list(self.sheets_el).index(entries[position]), entry)
            self._shift_sheet_indexes(position)
        else:
            self.sheets_el.append(entry)
        self.pkg.touch(self.wb_part)

    def _shift_sheet_indexes(self, position: int) -> None:
        """A sheet inserted at ``position``: local names and the active/first tab that point at or after it move on."""
        for defined in self.wb.iter(_q("definedName")):
            local = defined.get("localSheetId")
            if local is not None and local.isdigit() and int(local) >= position:
                defined.set("localSheetId", str(int(local) + 1))
        for view in self.wb.iter(_q("workbookView")):
            for attr in ("activeTab", "firstSheet"):
                value = view.get(attr)
                if value is not None and value.isdigit() and int(value) >= position:
                    view.set(attr, str(int(value) + 1))

    def block(self, block: Block) -> None:
        sheet = self.sheet(block.sheet)
        if block.top < 1 or block.left < 1:
            raise InputError("block", f"{block.sheet}!R{block.top}C{block.left}", "1-based (top and left >= 1)")
        if block.top + len(block.values) - 1 > _MAX_ROW or any(
            block.left + len(row) - 1 > _MAX_COL for row in block.values
        ):
            raise InputError("block", block.sheet, f"inside the sheet ({_MAX_ROW} rows, {_MAX_COL} columns)")
        single = block.styles if isinstance(block.styles, str) else None
        grid = block.styles if not isinstance(block.styles, str) and block.styles is not None else None
        styles = self.styles() if block.styles is not None or self._has_dates(block) else None
        for name in {single} if single else {s for row in grid or () for s in row if s}:
            if name not in LOOKS:
                raise InputError("style", name, f"one of {', '.join(STYLES)}")
        fixed = styles.index(single) if styles is not None and single else None
        date_style: Callable[[int], int] | None = None
        if block.styles is None and styles is not None:
            book_styles = styles

            def date_style(current: int) -> int:
                """A date cell without a style keeps a date look it has, else gets ``yyyy-mm-dd``."""
                return current if book_styles.is_date(current) else book_styles.index("date")

        for i, values in enumerate(block.values):
            r = block.top + i
            row_styles = grid[i] if grid is not None and i < len(grid) else ()
            puts: list[_Put] = []
            for j, value in enumerate(values):
                col = block.left + j
                kind, text = _encode(value, block.sheet, r, col)
                key = row_styles[j] if j < len(row_styles) else None
                s = fixed if fixed is not None else (styles.index(key) if styles is not None and key else None)
                puts.append((col, kind, text, s))
            sheet.put_row(r, puts, date_style)
        sheet.touch()
        self.values_changed = True

    @staticmethod
    def _has_dates(block: Block) -> bool:
        return any(isinstance(v, _dt.date) for row in block.values for v in row)

    def clear(self, op: Clear) -> None:
        sheet = self.sheet(op.sheet)
        if op.top < 1 or op.left < 1 or op.bottom < op.top or op.right < op.left:
            raise InputError("clear", f"R{op.top}C{op.left}:R{op.bottom}C{op.right}", "a 1-based rectangle")
        for r in sheet.rows_between(op.top, op.bottom):
            sheet.clear_row(r, op.left, op.right)
        sheet.touch()
        self.values_changed = True

    def resize_table(self, op: ResizeTable) -> None:
        sheet = self.sheet(op.sheet)
        top, left, bottom, right = _parse_range("ref", op.ref)
        for rel in sheet.book.pkg.relations(sheet.part):
            if rel.get("Type") != RT_TABLE:
                continue
            part = self.pkg.target(sheet.part, rel)
            table = self.pkg.tree(part)
            names = {(table.get("name") or "").casefold(), (table.get("displayName") or "").casefold()}
            if op.table.casefold() not in names:
                continue
            header = int(table.get("headerRowCount") or "1")
            totals = int(table.get("totalsRowCount") or "0")
            if bottom - top + 1 < header + totals + 1:
                raise InputError("ref", op.ref, "a range with a header and at least one data row")
            columns = table.find(_q("tableColumns"))
            count = len(columns.findall(_q("tableColumn"))) if columns is not None else right - left + 1
            if right - left + 1 != count:
                raise InputError("ref", op.ref, f"{count} columns wide (the columns of table {op.table})")
            ref = f"{_cell_ref(top, left)}:{_cell_ref(bottom, right)}"
            table.set("ref", ref)
            auto = table.find(_q("autoFilter"))
            if auto is not None:
                auto.set("ref", f"{_cell_ref(top, left)}:{_cell_ref(bottom - totals, right)}")
            self.pkg.touch(part)
            return
        raise FileError(self.where, f"sheet {sheet.name!r} has no table named {op.table!r}")

    # -- charts
    def _drawing_of(self, sheet: _Sheet, create: bool) -> str | None:
        link = sheet.root.find(_q("drawing"))
        if link is not None:
            rel = self.pkg.relation(sheet.part, link.get(_q("id", DOC_REL)) or "")
            if rel is not None and self.pkg.exists(self.pkg.target(sheet.part, rel)):
                return self.pkg.target(sheet.part, rel)
            if not create:
                return None
            sheet.root.remove(link)
        if not create:
            return None
        part = self.pkg.free_name("xl/drawings/drawing{}.xml")
        self.pkg.new_tree(part, ET.Element(_q("wsDr", XDR)), CT_DRAWING)
        rid = self.pkg.add_relation(sheet.part, RT_DRAWING, part)
        _insert_ordered(sheet.root, ET.Element(_q("drawing"), {_q("id", DOC_REL): rid}), _SHEET_ORDER)
        sheet.touch()
        return part

    @staticmethod
    def _anchor_name(anchor: ET.Element) -> str | None:
        props = anchor.find(f"{_q('graphicFrame', XDR)}/{_q('nvGraphicFramePr', XDR)}/{_q('cNvPr', XDR)}")
        name = props.get("name") if props is not None else None
        return name if name and name.startswith(CHART_PREFIX) else None

    def _mark_stale_charts(self, sheet: _Sheet) -> None:
        drawing = self._drawing_of(sheet, create=False)
        if drawing is None:
            return
        stale = self.stale.setdefault(drawing, {})
        for anchor in self.pkg.tree(drawing):
            name = self._anchor_name(anchor)
            if name:
                stale[name] = anchor

    def chart(self, chart: Chart) -> None:
        sheet = self.sheet(chart.sheet)
        xml = _chart_xml(chart, sheet.name, self._text_categories(sheet, chart))
        drawing_part = self._drawing_of(sheet, create=True)
        assert drawing_part is not None
        drawing = self.pkg.tree(drawing_part)
        name = CHART_PREFIX + chart.name
        existing = next((a for a in drawing if self._anchor_name(a) == name), None)
        self.stale.get(drawing_part, {}).pop(name, None)
        ids = [int(p.get("id") or 0) for p in drawing.iter(_q("cNvPr", XDR)) if (p.get("id") or "").isdigit()]
        shape_id = max([1, *ids]) + 1
        rid = None
        if existing is not None:
            frame_id = existing.find(f".//{_q('cNvPr', XDR)}")
            if frame_id is not None and (frame_id.get("id") or "").isdigit():
                shape_id = int(frame_id.get("id") or shape_id)
            link = existing.find(f".//{_q('chart', DML_CHART)}")
            rid = link.get(_q("id", DOC_REL)) if link is not None else None
        rel = self.pkg.relation(drawing_part, rid) if rid else None
        if rel is not None and rel.get("Type") == RT_CHART:
            chart_part = self.pkg.target(drawing_part, rel)
        else:
            chart_part = self.pkg.free_name("xl/charts/chart{}.xml")
            rid = self.pkg.add_relation(drawing_part, RT_CHART, chart_part)
        assert rid is not None
        self.pkg.put_bytes(chart_part, xml, CT_CHART)
        anchor = _chart_anchor(chart, name, shape_id, rid)
        if existing is not None:
            position = list(drawing).index(existing)
            drawing.remove(existing)
            drawing.insert(position, anchor)
        else:
            drawing.append(anchor)
        self.pkg.touch(drawing_part)

    def _text_categories(self, sheet: _Sheet, chart: Chart) -> bool:
        top, left, _, _ = _parse_range("categories", chart.categories)
        c = sheet.cell(top, left, create=False)
        return c is not None and c.get("t") in ("inlineStr", "s", "str")

    # -- finishing
    def finish(self) -> None:
        for drawing_part, anchors in self.stale.items():
            if not anchors:
                continue
            drawing = self.pkg.tree(drawing_part)
            for anchor in anchors.values():
                link = anchor.find(f".//{_q('chart', DML_CHART)}")
                rid = link.get(_q("id", DOC_REL)) if link is not None else None
                rel = self.pkg.relation(drawing_part, rid) if rid else None
                if rel is not None and rid is not None:
                    self.pkg.delete_with_rels(self.pkg.target(drawing_part, rel))
                    self.pkg.remove_relation(drawing_part, rid)
                drawing.remove(anchor)
            self.pkg.touch(drawing_part)
            if len(drawing) == 0:
                self._drop_drawing(drawing_part)
        for sheet in self.open.values():
            if sheet.part in self.pkg.dirty:
                sheet.finish()
        if self.formulas_changed:
            self._drop_calc_chain()
        if self.formulas_changed or self.values_changed:
            calc = _child(self.wb, "calcPr", _WORKBOOK_ORDER)
            if calc.get("fullCalcOnLoad") not in ("1", "true"):
                calc.set("fullCalcOnLoad", "1")
                self.pkg.touch(self.wb_part)

    def _drop_drawing(self, drawing_part: str) -> None:
        for sheet in self.open.values():
            link = sheet.root.find(_q("drawing"))
            if link is None:
                continue
            rid = link.get(_q("id", DOC_REL)) or ""
            rel = self.pkg.relation(sheet.part, rid)
            if rel is not None and self.pkg.target(sheet.part, rel) == drawing_part:
                sheet.root.remove(link)
                self.pkg.remove_relation(sheet.part, rid)
                self.pkg.delete_with_rels(drawing_part)
                sheet.touch()

    def _drop_calc_chain(self) -> None:
        for rel in list(self.pkg.relations(self.wb_part)):
            if rel.get("Type") == RT_CALC_CHAIN:
                part = self.pkg.target(self.wb_part, rel)
                if self.pkg.exists(part):
                    self.pkg.delete(part)
                self.pkg.remove_relation(self.wb_part, rel.get("Id") or "")


# --------------------------------------------------------------------------------------------------------------------
# Chart parts (built with openpyxl's chart classes)
# --------------------------------------------------------------------------------------------------------------------


def _chart_xml(chart: Chart, sheet: str, text_categories: bool) -> bytes:
    """The chart part (``c:chartSpace``) of a Plan chart, serialised by openpyxl's chart classes."""
    from openpyxl.chart import BarChart, LineChart, PieChart, Reference, Series
    from openpyxl.chart.data_source import AxDataSource, StrRef
    from openpyxl.utils import quote_sheetname
    from openpyxl.xml.functions import tostring

    if chart.kind not in ("line", "bar", "stacked", "pie"):
        raise InputError("chart kind", chart.kind, "line, bar, stacked or pie")
    if not chart.name or not chart.name.strip():
        raise InputError("chart name", chart.name, "a non-empty name")
    if not chart.series:
        raise InputError("chart series", chart.series, "at least one range")
    if len(chart.series_titles) != len(chart.series):
        raise InputError("series_titles", len(chart.series_titles), f"one title per series ({len(chart.series)})")
    if chart.kind == "pie" and len(chart.series) != 1:
        raise InputError("chart series", len(chart.series), "exactly one range for a pie chart")
    if not (chart.width_cm > 0 and chart.height_cm > 0):
        raise InputError("chart size", f"{chart.width_cm} x {chart.height_cm} cm", "positive")
    _parse_cell("anchor", chart.anchor)
    quoted = quote_sheetname(sheet)

    def ref(field: str, text: str) -> str:
        t, lft, b, rgt = _parse_range(field, text)
        return f"{quoted}!${_col_letters(lft)}${t}:${_col_letters(rgt)}${b}"

    built: Any
    if chart.kind == "line":
        built = LineChart()
    elif chart.kind == "pie":
        built = PieChart()
    else:
        built = BarChart()
        built.type = "col"
        if chart.kind == "stacked":
            built.grouping = "stacked"
            built.overlap = 100
    categories = ref("categories", chart.categories)
    for values, title in zip(chart.series, chart.series_titles, strict=True):
        series = Series(Reference(range_string=ref("series", values)), title=title)
        if text_categories:
            series.cat = AxDataSource(strRef=StrRef(f=categories))
        built.series.append(series)
    if not text_categories:
        built.set_categories(Reference(range_string=categories))
    built.title = chart.title
    built.roundedCorners = False
    if chart.kind != "pie":
        built.x_axis.delete = False
        built.y_axis.delete = False
        if chart.y_format:
            built.y_axis.number_format = chart.y_format
            built.y_axis.numFmt.sourceLinked = False
    built.legend.position = "b"
    _register([])  # csxl's prefixes (a, c, r) for the chart's namespaced elements
    return _XML_HEADER + cast(bytes, tostring(built._write()))


def _chart_anchor(chart: Chart, name: str, shape_id: int, rid: str) -> ET.Element:
    """A ``xdr:oneCellAnchor`` holding a ``graphicFrame`` named ``csxl:<name>`` that points at the chart part."""
    row, col = _parse_cell("anchor", chart.anchor)

    def x(tag: str) -> str:
        return _q(tag, XDR)

    anchor = ET.Element(x("oneCellAnchor"))
    start = ET.SubElement(anchor, x("from"))
    for tag, value in (("col", col - 1), ("colOff", 0), ("row", row - 1), ("rowOff", 0)):
        ET.SubElement(start, x(tag)).text = str(value)
    width, height = round(chart.width_cm * _EMU_PER_CM), round(chart.height_cm * _EMU_PER_CM)
    ET.SubElement(anchor, x("ext"), {"cx": str(width), "cy": str(height)})
    frame = ET.SubElement(anchor, x("graphicFrame"), {"macro": ""})
    props = ET.SubElement(frame, x("nvGraphicFramePr"))
    ET.SubElement(props, x("cNvPr"), {"id": str(shape_id), "name": name})
    ET.SubElement(props, x("cNvGraphicFramePr"))
    xfrm = ET.SubElement(frame, x("xfrm"))
    ET.SubElement(xfrm, _q("off", DML), {"x": "0", "y": "0"})
    ET.SubElement(xfrm, _q("ext", DML), {"cx": "0", "cy": "0"})
    graphic = ET.SubElement(frame, _q("graphic", DML))
    data = ET.SubElement(graphic, _q("graphicData", DML), {"uri": DML_CHART})
    ET.SubElement(data, _q("chart", DML_CHART), {_q("id", DOC_REL): rid})
    ET.SubElement(anchor, x("clientData"))
    return anchor


# --------------------------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------------------------

_SUFFIXES = (".xlsx", ".xlsm")


def apply_plan(
    path: str | Path, plan: Plan, *, out: str | Path | None = None, force: bool = False, currency: str = "USD"
) -> Path:
    """Apply ``plan`` to the workbook at ``path``, replacing it atomically (or writing ``out``); returns that file.

    Only the parts the plan needs are rewritten; every other zip member is copied unchanged. ``currency`` (ISO code)
    sets the ``money`` number format. Refuses with :class:`FileError` when Excel's lock file sits next to the target
    (unless ``force``), when the file is not a workbook zip or a named sheet is missing; bad plan values raise
    :class:`InputError`. On any error the target is left as it was and no temporary file remains.
    """
    source = Path(path)
    target = Path(out) if out is not None else source
    for field, file in (("path", source), ("out", target)):
        if file.suffix.lower() not in _SUFFIXES:
            raise InputError(field, str(file), "a file name ending in .xlsx or .xlsm")
    if source.suffix.lower() != target.suffix.lower():
        raise InputError("out", str(target), f"a {source.suffix.lower()} file like its source")
    if not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise InputError("currency", currency, "a 3-letter ISO code such as USD")
    lock = lock_file(target)
    if lock is not None and not force:
        raise FileError(str(target), f"Excel has it open ({lock.name} exists); close it there, or use --force")
    if not source.is_file():
        raise FileError(str(source), "does not exist")
    try:
        zin = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise FileError(str(source), "not an .xlsx/.xlsm workbook (not a zip file)") from None
    except OSError as exc:
        raise FileError(str(source), f"cannot read the workbook ({exc.strerror or exc})") from None
    with zin:
        if "[Content_Types].xml" not in zin.namelist():
            raise FileError(str(source), "not an .xlsx/.xlsm workbook ([Content_Types].xml is missing)")
        book = _Book(zin, str(source), currency.upper())
        try:
            for op in plan.ops:
                book.apply(op)
            book.finish()
            _atomic_write(target, book.pkg.save, target if target.exists() else source)
        finally:
            book.pkg.close()
    return target
