"""The workbook: sheets added or replaced, tables resized, calcChain and fullCalcOnLoad, drawings and charts."""

from __future__ import annotations

import datetime as _dt
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable

from csxl.book.plan import (
    STYLES,
    ArrayFormula,
    Block,
    Button,
    Chart,
    Clear,
    Formula,
    RenameSheet,
    ResizeTable,
    SheetSpec,
)
from csxl.book.refs import MAX_COL, MAX_ROW, cell_ref, column_index, parse_range
from csxl.book.xlsx._xml import (
    _BAD_SHEET_CHARS,
    _SHEET_ORDER,
    _WORKBOOK_ORDER,
    CHART_PREFIX,
    CT_CHART,
    CT_DRAWING,
    CT_STYLES,
    CT_WORKSHEET,
    DML,
    DML_CHART,
    DOC_REL,
    RT_CALC_CHAIN,
    RT_CHART,
    RT_DRAWING,
    RT_HYPERLINK,
    RT_OFFICE,
    RT_STYLES,
    RT_WORKSHEET,
    XDR,
    _child,
    _encode,
    _insert_ordered,
    _number_text,
    _parse,
    _q,
)
from csxl.book.xlsx.drawing import button_anchor, button_target, chart_anchor, chart_xml, shape_name
from csxl.book.xlsx.package import _Package
from csxl.book.xlsx.rename import rename_references
from csxl.book.xlsx.sheet import _Put, _Sheet
from csxl.book.xlsx.styles import _EMPTY_STYLES, LOOKS, _Styles
from csxl.book.xlsx.table_part import resize_table
from csxl.errors import FileError, InputError

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
        if isinstance(op, RenameSheet):
            self.rename_sheet(op)
        elif isinstance(op, SheetSpec):
            self.sheet_spec(op)
        elif isinstance(op, Block):
            self.block(op)
        elif isinstance(op, Clear):
            self.clear(op)
        elif isinstance(op, ResizeTable):
            self.resize_table(op)
        elif isinstance(op, Chart):
            self.chart(op)
        elif isinstance(op, Button):
            self.button(op)
        elif isinstance(op, ArrayFormula):
            self.array_formula(op)
        else:
            raise InputError(
                "plan operation",
                type(op).__name__,
                "a RenameSheet, SheetSpec, Block, Clear, ResizeTable, Chart, Button or ArrayFormula",
            )

    def rename_sheet(self, op: RenameSheet) -> None:
        """Rename a sheet, and every reference to it in defined names, cell formulas and chart series."""
        entry = self._sheet_entry(op.old)
        if entry is None:
            return
        _check_sheet_name(op.new)
        if self._sheet_entry(op.new) is not None:
            raise InputError("sheet", op.new, f"a name no other sheet has (renaming {op.old!r})")
        if self.open:
            raise InputError("rename", op.old, "the first operation of a plan (sheets are already open)")
        old = entry.get("name") or op.old
        entry.set("name", op.new)
        self.pkg.touch(self.wb_part)
        rename_references(self.pkg, self.wb, old, op.new)
        self.formulas_changed = True

    def sheet_spec(self, spec: SheetSpec) -> None:
        _check_sheet_name(spec.name)
        if spec.tab_color is not None and not re.fullmatch(r"[0-9A-Fa-f]{6}", spec.tab_color):
            raise InputError("tab_color", spec.tab_color, "a hex RGB colour such as 1F4E79")
        for letters, width in spec.widths.items():
            if not re.fullmatch(r"[A-Za-z]{1,3}", letters) or column_index(letters) > MAX_COL:
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
            for letters, width in sorted(spec.widths.items(), key=lambda item: column_index(item[0])):
                n = str(column_index(letters))
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
        if block.top + len(block.values) - 1 > MAX_ROW or any(
            block.left + len(row) - 1 > MAX_COL for row in block.values
        ):
            raise InputError("block", block.sheet, f"inside the sheet ({MAX_ROW} rows, {MAX_COL} columns)")
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

    def array_formula(self, op: ArrayFormula) -> None:
        """A legacy array formula: ``<f t="array" ref=...>`` in the top-left cell; the rectangle's other cells lose
        their values and formulas (not their looks), as Excel keeps them."""
        top, left, bottom, right = parse_range("ref", op.ref)
        sheet = self.sheet(op.sheet)
        for r in sheet.rows_between(top, bottom):
            sheet.clear_row(r, left, right)
        _, text = _encode(Formula(op.formula), op.sheet, top, left)
        cell = sheet.cell(top, left, create=True)
        assert cell is not None
        sheet.empty(cell)  # the look stays
        ET.SubElement(
            cell, _q("f"), {"t": "array", "ref": f"{cell_ref(top, left)}:{cell_ref(bottom, right)}"}
        ).text = text
        sheet.dirty_rows.add(top)
        self.formulas_changed = True
        sheet.touch()
        self.values_changed = True

    def resize_table(self, op: ResizeTable) -> None:
        key = op.sheet.casefold()
        if key in self.open:
            part = self.open[key].part
        else:
            entry = self._sheet_entry(op.sheet)
            if entry is None:
                raise FileError(self.where, f"no sheet named {op.sheet!r}")
            part = self._sheet_part(entry)
        resize_table(self.pkg, part, lambda: self.sheet(op.sheet), op, self.where)

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
        xml = chart_xml(chart, sheet.name, self._text_categories(sheet, chart))
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
        self._place(drawing_part, chart_anchor(chart, name, shape_id, rid), existing)

    def button(self, button: Button) -> None:
        """Put the Lite button on its sheet: a shape of that name is replaced in place (same id and position in the
        drawing), its old hyperlink relationship dropped; any other shape, chart or picture is left as it is."""
        sheet = self.sheet(button.sheet)
        drawing_part = self._drawing_of(sheet, create=True)
        assert drawing_part is not None
        drawing = self.pkg.tree(drawing_part)
        existing = next((a for a in drawing if shape_name(a) == button.name), None)
        ids = [int(p.get("id") or 0) for p in drawing.iter(_q("cNvPr", XDR)) if (p.get("id") or "").isdigit()]
        shape_id = max([1, *ids]) + 1
        if existing is not None:
            props = existing.find(f"./*/*/{_q('cNvPr', XDR)}")
            if props is not None and (props.get("id") or "").isdigit():
                shape_id = int(props.get("id") or shape_id)
            for link in existing.iter(_q("hlinkClick", DML)):
                old = link.get(_q("id", DOC_REL))
                if old:
                    self.pkg.remove_relation(drawing_part, old)
        rid = self.pkg.add_relation(drawing_part, RT_HYPERLINK, button_target(button), location=True)
        self._place(drawing_part, button_anchor(button, shape_id, rid), existing)

    def _place(self, drawing_part: str, anchor: ET.Element, existing: ET.Element | None) -> None:
        """Put ``anchor`` where ``existing`` was (its place in the drawing's z-order), or last."""
        drawing = self.pkg.tree(drawing_part)
        if existing is not None:
            position = list(drawing).index(existing)
            drawing.remove(existing)
            drawing.insert(position, anchor)
        else:
            drawing.append(anchor)
        self.pkg.touch(drawing_part)

    def _text_categories(self, sheet: _Sheet, chart: Chart) -> bool:
        top, left, _, _ = parse_range("categories", chart.categories)
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
