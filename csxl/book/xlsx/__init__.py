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

Modules: :mod:`._xml` (namespaces, coordinates, XML that keeps prefixes, the atomic write, cell values),
:mod:`.styles` (looks and ``styles.xml``), :mod:`.package` (the zip), :mod:`.sheet` (worksheets),
:mod:`.workbook` (sheets, tables, drawings, charts); this module holds the entry point, :func:`apply_plan`.

A big worksheet (:data:`.sheet._STREAM_MIN_BYTES`) is not parsed whole: its rows stay raw bytes, untouched rows
are copied as they are, and a row the plan writes is edited as bytes (the cells written become what ElementTree
would write for them) or, when an edit needs it, parsed on its own. Both ways give the same XML (``docs/writing.md``).

Cell values (1900 date system): text is an inline string, always text even when it starts with ``=``, ``+``, ``-``
or ``@``; numbers are numbers (NaN and infinities become empty cells); booleans are booleans; a date is the Excel
serial ``days since 1899-12-30`` (plus the time as a fraction of a day), valid from 1900-03-01 on; only
:class:`~csxl.book.plan.Formula` values become formulas.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from csxl.book.layout import money_format
from csxl.book.plan import Plan
from csxl.book.safety import refuse_if_open
from csxl.book.xlsx._xml import CHART_PREFIX, DOC_REL, MAIN, PKG_REL, _atomic_write
from csxl.book.xlsx.styles import LOOKS, Look
from csxl.book.xlsx.workbook import _Book
from csxl.errors import FileError, InputError

__all__ = ["CHART_PREFIX", "DOC_REL", "LOOKS", "MAIN", "PKG_REL", "Look", "apply_plan", "money_format"]

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
    refuse_if_open(target, force)
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
