"""References to a renamed sheet, rewritten the way Excel does when a user renames it: defined names, cell formulas
(``<f>``) and chart series (``<c:f>``), in ``Sheet!A1`` and ``'My sheet'!A1`` forms."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from openpyxl.utils import quote_sheetname

from csxl.book.xlsx._xml import _q
from csxl.book.xlsx.package import _Package

__all__ = ["rename_references"]

#: A formula element's text in a worksheet (``<f>``) or a chart (``<c:f>``): (open tag, text, close tag).
_FORMULA_XML = re.compile(r"(<(?:\w+:)?f\b[^>]*>)([^<]*)(</(?:\w+:)?f>)")


def _reference_renamer(old: str, new: str) -> Callable[[str], str]:
    """A function rewriting ``old!`` and ``'old'!`` references in a formula's text (XML-escaped) to ``new``."""
    quoted_new = quote_sheetname(new).replace("'", "&apos;") if "'" in new else quote_sheetname(new)
    plain = re.escape(old)
    quoted = re.escape(old.replace("'", "''"))
    pattern = re.compile(rf"(?<![\w.'])(?:{plain}|'{quoted}'|&apos;{quoted}&apos;)!", re.IGNORECASE)
    return lambda text: pattern.sub(lambda _m: quoted_new + "!", text)


def rename_references(pkg: _Package, workbook: ET.Element, old: str, new: str) -> None:
    """Point every reference to sheet ``old`` at ``new`` (call before any worksheet of the package is opened)."""
    rename = _reference_renamer(old, new)
    for defined in workbook.iter(_q("definedName")):
        if defined.text:
            defined.text = rename(defined.text)
    needle = old.encode("utf-8").lower()
    for part in list(pkg.order):
        if part.startswith(("xl/worksheets/", "xl/charts/")) and part.endswith(".xml") and pkg.exists(part):
            data = pkg.read(part)
            if needle in data.lower():
                text = _FORMULA_XML.sub(lambda m: m.group(1) + rename(m.group(2)) + m.group(3), data.decode("utf-8"))
                pkg.put_bytes(part, text.encode("utf-8"), None)
