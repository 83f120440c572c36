"""Drawing objects of the file adapter: csxl's charts (chart parts built with openpyxl's chart classes, anchored
by ``graphicFrame``) and the xlwings Lite sheet buttons (a named shape whose hyperlink points at its own cell)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, cast

from openpyxl.chart import BarChart, LineChart, PieChart, Reference, Series
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.utils import quote_sheetname
from openpyxl.xml.functions import tostring

from csxl.book.plan import Button, Chart
from csxl.book.refs import column_letters, parse_cell, parse_range
from csxl.book.xlsx._xml import _EMU_PER_CM, _XML_HEADER, DML, DML_CHART, DOC_REL, XDR, _q, _register
from csxl.errors import InputError

__all__ = ["button_anchor", "button_target", "chart_anchor", "chart_xml", "shape_name"]


def chart_xml(chart: Chart, sheet: str, text_categories: bool) -> bytes:
    """The chart part (``c:chartSpace``) of a Plan chart, serialised by openpyxl's chart classes."""

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
    parse_cell("anchor", chart.anchor)
    quoted = quote_sheetname(sheet)

    def ref(field: str, text: str) -> str:
        t, lft, b, rgt = parse_range(field, text)
        return f"{quoted}!${column_letters(lft)}${t}:${column_letters(rgt)}${b}"

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
        if chart.kind == "line":
            series.smooth = False  # straight segments: a smoothed line overshoots the data
        if chart.colors:  # given colours (the tier colours where the series are tiers)
            series.graphicalProperties.solidFill = chart.colors[len(built.series)]
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
        built.x_axis.tickLblPos = "low"  # month labels below the plot, clear of negative bars
        if chart.y_format:
            built.y_axis.number_format = chart.y_format
            built.y_axis.numFmt.sourceLinked = False
    built.legend.position = "b"
    _register([])  # csxl's prefixes (a, c, r) for the chart's namespaced elements
    return _XML_HEADER + cast(bytes, tostring(built._write()))


def chart_anchor(chart: Chart, name: str, shape_id: int, rid: str) -> ET.Element:
    """A ``xdr:oneCellAnchor`` holding a ``graphicFrame`` named ``csxl:<name>`` that points at the chart part."""
    row, col = parse_cell("anchor", chart.anchor)

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
# xlwings Lite buttons
# --------------------------------------------------------------------------------------------------------------------


def shape_name(anchor: ET.Element) -> str | None:
    """The name of the drawing object an anchor holds (a chart frame, a shape, a picture), or ``None``."""
    props = anchor.find(f"./*/*/{_q('cNvPr', XDR)}")
    return props.get("name") if props is not None else None


def button_target(button: Button) -> str:
    """The hyperlink target of a button: its own cell in this workbook (``#Dashboard!H1``, ``#'My sheet'!A1``)."""
    row, col = parse_cell("button cell", button.cell)
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", button.sheet) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+", button.sheet
    )
    sheet = button.sheet if plain else quote_sheetname(button.sheet)
    return f"#{sheet}!{column_letters(col)}{row}"


def _check_button(button: Button) -> None:
    if not button.name or any(ch in button.name for ch in "[]!") or button.name != button.name.strip():
        raise InputError("button name", button.name, "a shape name without spaces around it and without [ ] !")
    if not button.text.strip():
        raise InputError("button text", button.text, "a non-empty label")
    if not (0 < button.width_cm <= 50 and 0 < button.height_cm <= 50):
        raise InputError("button size", f"{button.width_cm} x {button.height_cm} cm", "between 0 and 50 cm")
    if len(button.fill) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in button.fill):
        raise InputError("button fill", button.fill, "six hex digits (RGB)")


def button_anchor(button: Button, shape_id: int, rid: str) -> ET.Element:
    """A ``xdr:oneCellAnchor`` at the button's cell holding a rounded rectangle named ``button.name`` with the label
    centred in white and ``a:hlinkClick`` on the hyperlink relationship ``rid`` (what Excel writes for Insert > Shape,
    then Link > Place in this document)."""
    _check_button(button)
    row, col = parse_cell("button cell", button.cell)

    def x(tag: str) -> str:
        return _q(tag, XDR)

    def a(tag: str) -> str:
        return _q(tag, DML)

    anchor = ET.Element(x("oneCellAnchor"))
    start = ET.SubElement(anchor, x("from"))
    margin = round(0.05 * _EMU_PER_CM)  # inside the cell, so the cell's borders stay visible
    for tag, value in (("col", col - 1), ("colOff", margin), ("row", row - 1), ("rowOff", margin)):
        ET.SubElement(start, x(tag)).text = str(value)
    width, height = round(button.width_cm * _EMU_PER_CM), round(button.height_cm * _EMU_PER_CM)
    ET.SubElement(anchor, x("ext"), {"cx": str(width), "cy": str(height)})
    shape = ET.SubElement(anchor, x("sp"), {"macro": "", "textlink": ""})
    props = ET.SubElement(shape, x("nvSpPr"))
    described = {"id": str(shape_id), "name": button.name, "descr": f"xlwings Lite button: {button.text}"}
    drawing_props = ET.SubElement(props, x("cNvPr"), described)
    ET.SubElement(drawing_props, a("hlinkClick"), {_q("id", DOC_REL): rid, "tooltip": button.text})
    ET.SubElement(props, x("cNvSpPr"))
    geometry = ET.SubElement(shape, x("spPr"))
    xfrm = ET.SubElement(geometry, a("xfrm"))
    ET.SubElement(xfrm, a("off"), {"x": "0", "y": "0"})
    ET.SubElement(xfrm, a("ext"), {"cx": str(width), "cy": str(height)})
    ET.SubElement(ET.SubElement(geometry, a("prstGeom"), {"prst": "roundRect"}), a("avLst"))
    ET.SubElement(ET.SubElement(geometry, a("solidFill")), a("srgbClr"), {"val": button.fill.upper()})
    ET.SubElement(ET.SubElement(geometry, a("ln")), a("noFill"))
    text = ET.SubElement(shape, x("txBody"))
    body = {"vertOverflow": "clip", "horzOverflow": "clip", "wrap": "none", "lIns": "36000", "rIns": "36000"}
    ET.SubElement(text, a("bodyPr"), {**body, "rtlCol": "0", "anchor": "ctr"})
    ET.SubElement(text, a("lstStyle"))
    paragraph = ET.SubElement(text, a("p"))
    ET.SubElement(paragraph, a("pPr"), {"algn": "ctr"})
    run = ET.SubElement(paragraph, a("r"))
    run_props = ET.SubElement(run, a("rPr"), {"lang": "en-US", "sz": "1000", "b": "1"})
    ET.SubElement(ET.SubElement(run_props, a("solidFill")), a("srgbClr"), {"val": "FFFFFF"})
    ET.SubElement(run, a("t")).text = button.text
    ET.SubElement(anchor, x("clientData"), {"fPrintsWithSheet": "0"})
    return anchor
