"""The Plan's named looks and ``xl/styles.xml``: formats appended once, identical ones reused."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from csxl.book.layout import money_format
from csxl.book.plan import STYLES
from csxl.book.xlsx._xml import _STYLES_ORDER, MAIN, _child, _local, _number_text, _q

if TYPE_CHECKING:
    from csxl.book.xlsx.package import _Package

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


#: The tier colours (engine spec: Thriving green, Healthy yellow, At-Risk orange, Critical red), hex RGB.
TIER_FILLS: dict[str, str] = {"green": "00B050", "yellow": "FFE066", "orange": "F4A460", "red": "C00000"}

#: What each :data:`csxl.book.plan.STYLES` key looks like in a file written by csxl.
LOOKS: dict[str, Look] = {
    "title": Look(bold=True, size=16),
    "section": Look(bold=True, size=12),
    "header": Look(bold=True, fill="D9D9D9", bottom_border="808080", wrap=True, vertical="center"),
    "note": Look(italic=True, color="595959"),
    "text": Look(),
    "int": Look(num_fmt="0"),
    "number": Look(num_fmt="0.0"),
    "fine": Look(num_fmt="0.0000"),
    "money": Look(num_fmt="money"),
    "pct": Look(num_fmt="0.0%"),
    "date": Look(num_fmt="yyyy-mm-dd"),
    "rag_red": Look(bold=True, color="FFFFFF", fill=TIER_FILLS["red"]),
    "rag_orange": Look(bold=True, color="000000", fill=TIER_FILLS["orange"]),
    "rag_yellow": Look(bold=True, color="000000", fill=TIER_FILLS["yellow"]),
    "rag_green": Look(bold=True, color="000000", fill=TIER_FILLS["green"]),
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
