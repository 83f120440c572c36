"""Worksheet XML as bytes: the patterns and scanners that let the writer cut a big sheet into rows and patch only the
rows a plan touches, without parsing the rest (a 245,000-row MRR sheet stays bytes)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from csxl.book.refs import cell_position, column_index
from csxl.book.xlsx._xml import (
    MAIN,
    _declarations,
)

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


def _existing_cell(body: bytes, start: int) -> tuple[int, int, bytes, bytes | None] | None:
    """The cell starting at ``start`` of a row body: (start, end, its attributes with ``t``/``cm``/``vm`` dropped,
    its ``<f>`` element as written or ``None`` without a formula); ``None`` when it is not plain enough to patch as
    bytes (a shared formula's master, anything but one ``<f>``/``<v>``/``<is>``, single-quoted attributes)."""
    match = _CELL_XML.match(body, start)
    if match is None:
        return None
    inner = match.group(3)
    head = body[start + 2 : match.end(2)]
    formula: bytes | None = None
    if inner:
        plain = _VALUE_ONLY.fullmatch(inner)
        if plain is None or b"'" in head:
            return None
        written = plain.group(1)
        if written:  # overwriting a formula: recalc; a shared formula's master needs the tree (unshare)
            if b"shared" in written and b"ref" in written:
                return None
            formula = written
    elif b"'" in head:
        return None
    if b"t" in head or b"m" in head:
        head = _DROPPED_ATTRS.sub(b"", head)
    return start, match.end(), head, formula


def _styled_head(head: bytes, s: int | None, date_style: Callable[[int], int] | None) -> bytes:
    """A cell's attributes with style ``s`` (or, for a date without one, ``date_style`` of its current style)."""
    current = _S_ATTR.search(head)
    if s is None and date_style is not None:
        s = date_style(int(current.group(1) or 0) if current else 0)
    style = str(s).encode("ascii")
    if current is None:
        return head + b' s="' + style + b'"'
    return head[: current.start(1)] + style + head[current.end(1) :]


def _cell_bytes(head: bytes, kind: str, text: str) -> bytes:
    """A ``<c>`` element as ElementTree writes it: number/date, inline string, boolean, formula or empty."""
    if kind == "n" or kind == "d":
        return b"<c" + head + b"><v>" + text.encode("ascii") + b"</v></c>"
    if kind == "s":
        return b"<c" + head + _INLINE_OPEN + _escape_text(text) + b"</t></is></c>"
    if kind == "b":
        return b"<c" + head + b' t="b"><v>' + text.encode("ascii") + b"</v></c>"
    if kind == "f":
        return b"<c" + head + b"><f>" + _escape_text(text) + b"</f></c>"
    return b"<c" + head + b" />"


def _widened_start_tag(attrs: bytes, row_attrs: dict[str, str], every: list[int], start_tag: bytes) -> bytes:
    """The row's start tag with ``spans`` widened to hold the columns ``every`` (unchanged when they fit)."""
    old = row_attrs.get("spans")
    if not old or ":" not in old:
        return start_tag
    low, high = (int(x) for x in old.split(":", 1))
    value = f"{min([low, *every])}:{max([high, *every])}"
    if value == old:
        return start_tag
    return b"<row" + _SPANS.sub(lambda m: m.group(1) + b'"' + value.encode("ascii") + b'"', attrs) + b">"


def _joined(start_tag: bytes, body: bytes, edits: list[tuple[int, int, int, bytes]], tail: bytes) -> bytes:
    """The row's bytes with each (start, end) span of the body replaced by its new cell."""
    pieces = [start_tag]
    at = 0
    for start, end, _col, cell in edits:
        pieces.append(body[at:start])
        pieces.append(cell)
        at = end
    pieces += [body[at:], b"</row>", tail]
    return b"".join(pieces)
