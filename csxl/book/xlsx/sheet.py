"""Worksheets: cells written in order, as a parsed tree or, for a big sheet, row by row as bytes."""

from __future__ import annotations

import bisect
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from openpyxl.formula.translate import Translator

from csxl.book.refs import cell_position, cell_ref, column_index, split_ref
from csxl.book.xlsx._xml import (
    _SHEET_ORDER,
    MAIN,
    XML_NS,
    _child,
    _declarations,
    _local,
    _parse,
    _q,
    _serialise,
)
from csxl.errors import FileError

if TYPE_CHECKING:
    from csxl.book.xlsx.workbook import _Book

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
        number = self[letters] = column_index(letters.decode("ascii"))
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
    found = cell_position(
        (ref.group(1) if ref.group(1) is not None else ref.group(2) or b"").decode("utf-8", "replace")
    )
    return found[1] if found else None


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
                    col = split_ref(ref)[1] if ref else last + 1
                    if not ref:
                        c.set("r", cell_ref(r, col))
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
        found = ET.SubElement(row, _C, {"r": cell_ref(r, col)})
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
                head = b' r="' + cell_ref(r, col).encode("ascii") + b'"'
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
                cells = sorted(row.findall(_C), key=lambda c: split_ref(c.get("r") or "A1")[1])
                row[:] = cells + [child for child in row if child.tag != _C]
        for r in self.touched_rows:
            entry = self.rows.get(r)
            row = entry.el if entry is not None else None  # a raw row's spans were set when it was written
            spans = row.get("spans") if row is not None else None
            if row is not None and spans and ":" in spans:
                cols = [split_ref(c.get("r") or "A1")[1] for c in row.iter(_C)]
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
                first = split_ref(cells[0].get("r") or "A1")[1]
                last = split_ref(cells[-1].get("r") or "A1")[1]
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
            ref = cell_ref(top, left)
            if (bottom, right) != (top, left):
                ref += ":" + cell_ref(bottom, right)
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
