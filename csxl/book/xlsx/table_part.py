"""A table part (``xl/tables/tableN.xml``): resized over pasted or appended rows, its columns rebuilt by header."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from csxl.book.plan import ResizeTable
from csxl.book.refs import cell_ref, parse_range
from csxl.book.xlsx._xml import RT_TABLE, _q
from csxl.book.xlsx.package import _Package
from csxl.book.xlsx.sheet import _Sheet
from csxl.errors import FileError, InputError

__all__ = ["resize_table"]


def resize_table(pkg: _Package, sheet_part: str, open_sheet: Callable[[], _Sheet], op: ResizeTable, where: str) -> None:
    """Set the range of table ``op.table`` on the sheet whose part is ``sheet_part``; rebuild its columns from
    ``op.headers``; give the rows it gains the look of ``op.looks_from``. The sheet itself is opened
    (``open_sheet``) only when rows need a look: resizing a 245,000-row MRR table touches the table part alone."""
    top, left, bottom, right = parse_range("ref", op.ref)
    for rel in pkg.relations(sheet_part):
        if rel.get("Type") != RT_TABLE:
            continue
        part = pkg.target(sheet_part, rel)
        table = pkg.tree(part)
        names = {(table.get("name") or "").casefold(), (table.get("displayName") or "").casefold()}
        if op.table.casefold() not in names:
            continue
        header = int(table.get("headerRowCount") or "1")
        totals = int(table.get("totalsRowCount") or "0")
        if bottom - top + 1 < header + totals + 1:
            raise InputError("ref", op.ref, "a range with a header and at least one data row")
        columns = table.find(_q("tableColumns"))
        if op.headers and columns is not None:
            if len(op.headers) != right - left + 1:
                raise InputError("headers", len(op.headers), f"{right - left + 1} names (the width of {op.ref})")
            _table_columns(columns, op.headers)
        if op.formulas and columns is not None:
            _calculated_columns(columns, op.formulas)
        count = len(columns.findall(_q("tableColumn"))) if columns is not None else right - left + 1
        if right - left + 1 != count:
            raise InputError("ref", op.ref, f"{count} columns wide (the columns of table {op.table})")
        ref = f"{cell_ref(top, left)}:{cell_ref(bottom, right)}"
        old = table.get("ref") or ""
        old_bottom = parse_range("ref", old)[2] if ":" in old else top
        table.set("ref", ref)
        if op.looks_from is not None and bottom > old_bottom:
            first_new = max(old_bottom + 1, op.looks_from + 1, top + header)
            _format_rows(open_sheet(), op.looks_from, first_new, bottom, left, right)
        auto = table.find(_q("autoFilter"))
        if auto is not None:
            auto.set("ref", f"{cell_ref(top, left)}:{cell_ref(bottom - totals, right)}")
        pkg.touch(part)
        return
    raise FileError(where, f"sheet {op.sheet!r} has no table named {op.table!r}")


def _format_rows(sheet: _Sheet, source: int, top: int, bottom: int, left: int, right: int) -> None:
    """Rows ``top..bottom`` take row ``source``'s look, column by column, where a cell has none of its own (no style,
    or only the column's default style, which a new cell inherits)."""
    looks = {
        col: str(c.get("s"))
        for col, c in sheet.row_cells(source).items()
        if left <= col <= right and c.get("s") not in (None, "0")
    }
    if not looks:
        return
    plain = {col: {None, "0", sheet.column_style(col)} for col in looks}
    for r in range(top, bottom + 1):
        for col, s in looks.items():
            c = sheet.cell(r, col, create=True)
            assert c is not None
            if c.get("s") in plain[col] and c.get("s") != s:
                sheet.set_style(c, int(s))
                sheet.touched_rows.add(r)
    sheet.touch()


def _table_columns(columns: ET.Element, headers: tuple[str, ...]) -> None:
    """Rebuild a table's ``tableColumns`` for ``headers`` (left to right): a column keeps its element (id, formulas)
    when its name is still there, a new one gets a fresh id; names are unique and never blank (``Column7``)."""
    old = {(c.get("name") or "").casefold(): c for c in columns.findall(_q("tableColumn"))}
    next_id = max((int(c.get("id") or 0) for c in old.values()), default=0) + 1
    used: set[str] = set()
    kept: list[ET.Element] = []
    for i, header in enumerate(headers, start=1):
        name = header.strip() or f"Column{i}"
        while name.casefold() in used:
            name = f"{name}{i}"
        used.add(name.casefold())
        element = old.pop(name.casefold(), None)
        if element is None:
            element = ET.Element(_q("tableColumn"), {"id": str(next_id), "name": name})
            next_id += 1
        kept.append(element)
    for child in list(columns):
        columns.remove(child)
    columns.extend(kept)
    columns.set("count", str(len(kept)))


def _calculated_columns(columns: ET.Element, formulas: tuple[tuple[str, str], ...]) -> None:
    """Set the calculated-column formula of each named column (first child of ``tableColumn``, as the schema
    orders it), or remove it for an empty formula; a name the table does not have is left alone."""
    by_name = {(c.get("name") or "").casefold(): c for c in columns.findall(_q("tableColumn"))}
    for name, formula in formulas:
        column = by_name.get(name.casefold())
        if column is None:
            continue
        element = column.find(_q("calculatedColumnFormula"))
        if not formula:  # no calculated-column formula (the column holds values now)
            if element is not None:
                column.remove(element)
            continue
        if element is None:
            element = ET.Element(_q("calculatedColumnFormula"))
            column.insert(0, element)
        element.attrib.pop("array", None)
        element.text = formula
