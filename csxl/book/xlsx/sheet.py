"""Worksheets: cells written in order, as a parsed tree or, for a big sheet, row by row as bytes."""

from __future__ import annotations

import bisect
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from openpyxl.formula.translate import Translator

from csxl.book.refs import cell_ref, parse_cell, parse_range, split_ref
from csxl.book.xlsx._xml import (
    _SHEET_ORDER,
    XML_NS,
    _child,
    _declarations,
    _local,
    _parse,
    _q,
    _serialise,
)
from csxl.book.xlsx.rawrows import (
    _STREAM_MIN_BYTES,
    _cell_bytes,
    _cut_rows,
    _escape_text,
    _existing_cell,
    _joined,
    _raw_attrs,
    _raw_span,
    _RawCells,
    _Row,
    _scan_row,
    _styled_head,
    _widened_start_tag,
)
from csxl.errors import FileError, InputError

if TYPE_CHECKING:
    from csxl.book.xlsx.workbook import _Book

# --------------------------------------------------------------------------------------------------------------------
# Worksheets
# --------------------------------------------------------------------------------------------------------------------

_C, _ROW, _V, _F, _IS, _T = _q("c"), _q("row"), _q("v"), _q("f"), _q("is"), _q("t")


#: (column, kind, text, style): one cell of a row to write; kind and text as :func:`_encode` gives them.
_Put = tuple[int, str, str, "int | None"]


def _box(root: ET.Element) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of a worksheet's ``<dimension ref>``, ``None`` when absent or not a range."""
    dimension = root.find(_q("dimension"))
    ref = dimension.get("ref") if dimension is not None else None
    if not ref:
        return None
    try:
        if ":" in ref:
            return parse_range("dimension", ref)
        r, c = parse_cell("dimension", ref)
        return r, c, r, c
    except InputError:
        return None


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
        self.box = _box(self.root)

    def _index_rows(self) -> None:
        self.rows: dict[int, _Row] = {}
        self.cells: dict[int, dict[int, ET.Element]] = {}
        self.max_col: dict[int, int] = {}
        self.unsorted_rows = False
        self.unsorted_cells: set[int] = set()
        self.touched_rows: set[int] = set()
        self.dirty_rows: set[int] = set()  # rows whose cells may have changed: the dimension is recomputed for them
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
        self.box = None

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
        self.dirty_rows.add(entry.r)
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

    def column_style(self, col: int) -> str | None:
        """The style a new cell of column ``col`` inherits from the column (``<col style>``), if any."""
        return self._inherited_style({}, col)

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
        self.dirty_rows.add(r)
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
        self.dirty_rows.add(r)
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
        self.dirty_rows.add(r)
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
                found = _existing_cell(body, body.find(tags[i], cursor))
                if found is None:
                    return False
                start, end, head, had_formula = found
                cursor = end
                if kind == "f" and s is None and had_formula == b"<f>" + _escape_text(text) + b"</f>":
                    # the same formula (refresh writes 70,000 of them): left as it is; without a cached value the
                    # book still asks for a full calculation on load
                    formulas |= b"<v" not in body[start:end]
                    continue
                formulas |= had_formula is not None
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
                head = _styled_head(head, s, date_style)
            formulas |= kind == "f"
            edits.append((start, end, col, _cell_bytes(head, kind, text)))
        if not edits:
            return True
        start_tag = scan.start_tag if not scan.closed else b"<row" + scan.attrs + b">"
        if spans and touched and b"spans" in scan.attrs:
            start_tag = _widened_start_tag(scan.attrs, row_attrs or _raw_attrs(scan.attrs), cols + new_cols, start_tag)
        if new_cols:
            edits.sort()
        if entry is None:
            entry = _Row(r, None, None)
            self._add_row(entry)
        entry.raw = _joined(start_tag, body, edits, scan.tail)
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
        """Put a value in cell ``c``; the same formula as it holds stays as it is, its cached value with it."""
        if kind == "f":
            held = c.find(_F)
            if held is not None and not held.attrib and held.text == text:
                return
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
        """The ``<dimension>`` of the sheet: its old box widened by the rows written (a box read from the file stays a
        true bound: values were only written or cleared), or a full scan when there is no box to start from."""
        top = bottom = left = right = 0
        rows: Iterable[tuple[int, _Row]] = self.rows.items()
        clean = [r for r in self.rows if r not in self.dirty_rows]
        if self.box is not None and (not clean or (self.box[0] <= min(clean) and max(clean) <= self.box[2])):
            top, left, bottom, right = self.box  # it covers every untouched row: only the written rows can widen it
            rows = [(r, self.rows[r]) for r in self.dirty_rows if r in self.rows]
        for r, entry in rows:
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
