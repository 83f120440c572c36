"""Validate a workbook's XML parts against the ECMA-376 transitional schemas (vendored in ``tests/data``).

``problems(path)`` returns one line per schema violation (part, element path, reason); ``[]`` means every checked
part is valid. Each part is matched to its schema by the namespace of its root element. Not checked (see the
schemas' README): ``docProps/core.xml``, VML comment drawings, binary parts. The published schemas omit ``xml:space``
on ``<t>``; it is stripped first. An XML part whose root namespace has no schema here is a problem too (a part
csxl writes must be checkable).
"""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path

import xmlschema

__all__ = ["SCHEMAS", "problems", "validate_part"]

_HERE = Path(__file__).resolve().parent / "data" / "ooxml-schemas"
_ISO = _HERE / "ISO-IEC29500-4_2016"

#: Root namespace -> schema file.
SCHEMAS: dict[str, Path] = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main": _ISO / "sml.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing": _ISO / "dml-spreadsheetDrawing.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/chart": _ISO / "dml-chart.xsd",
    "http://schemas.openxmlformats.org/drawingml/2006/main": _ISO / "dml-main.xsd",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties": _ISO
    / "shared-documentPropertiesExtended.xsd",
    "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties": _ISO
    / "shared-documentPropertiesCustom.xsd",
    "http://schemas.openxmlformats.org/package/2006/relationships": _HERE / "ecma" / "opc-relationships.xsd",
    "http://schemas.openxmlformats.org/package/2006/content-types": _HERE / "ecma" / "opc-contentTypes.xsd",
}
#: Parts left unchecked, by name pattern (see the module docstring).
_SKIPPED = re.compile(r"^docProps/core\.xml$|\.vml$|\.bin$|\.(png|jpe?g|emf|wmf)$", re.IGNORECASE)
_ROOT = re.compile(r"<(?:(\w+):)?(\w+)[\s/>]")


@functools.cache
def _schema(path: Path) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(path))


def _root_namespace(text: str) -> str | None:
    body = re.sub(r"^\s*(<\?[^>]*\?>\s*)*", "", text)
    match = _ROOT.match(body)
    if match is None:
        return None
    prefix = match.group(1)
    declared = re.search(rf'xmlns{":" + prefix if prefix else ""}="([^"]+)"', body[: body.find(">") + 1])
    return declared.group(1) if declared else None


def validate_part(name: str, data: bytes) -> list[str]:
    """The schema problems of one part (``[]`` when valid)."""
    text = data.decode("utf-8")
    namespace = _root_namespace(text)
    if namespace not in SCHEMAS:
        return [f"{name}: no schema for root namespace {namespace!r}"]
    text = re.sub(r'\s+xml:space="preserve"', "", text)
    return [f"{name}: {error.path}: {error.reason}" for error in _schema(SCHEMAS[namespace]).iter_errors(text)]


def problems(path: str | Path) -> list[str]:
    """Every schema problem of the XML parts of the workbook at ``path``."""
    out: list[str] = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith("/") or _SKIPPED.search(name):
                continue
            out.extend(validate_part(name, zf.read(name)))
    return out
