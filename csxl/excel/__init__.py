"""The Excel edge of csxl: worksheet functions for xlwings Lite and classic xlwings.

:mod:`csxl.excel.functions` holds the custom functions (``=HEALTHSCORE(B2:F2)``, ``=NRR(...)``, ...). They are thin
wrappers over the pure core: every number they return is computed by :mod:`csxl`'s own functions. Importing this
package loads nothing; importing :mod:`csxl.excel.functions` loads xlwings (never openpyxl) and works without Excel.
See ``docs/excel-functions.md``.
"""

__all__: list[str] = []
