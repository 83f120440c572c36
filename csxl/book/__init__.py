"""The workbook edge: the layout of a csxl workbook, its plain formulas, and the template writer.

:mod:`csxl.book.layout` and :mod:`csxl.book.formulas` are pure (no spreadsheet library); :mod:`csxl.book.template`
uses openpyxl and is imported only when :func:`build_template` is first used, so ``import csxl.book`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csxl.book.template import build_template

__all__ = ["build_template"]


def __getattr__(name: str) -> Any:
    if name == "build_template":
        # deferred: openpyxl loads on first use, so the Excel edge (Lite) imports csxl.book without it
        from csxl.book.template import build_template

        return build_template
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
