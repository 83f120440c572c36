"""The argument decorators every csxl worksheet function uses (xlwings' own ``arg``), in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from xlwings import arg

__all__ = ["OFFICEJS", "big_arg", "xl_arg"]

_F = TypeVar("_F", bound=Callable[..., Any])


def xl_arg(name: str, doc: str) -> Callable[[_F], _F]:
    """``@arg`` with the options every argument uses: always 2-D, Excel errors as their text."""
    decorator: Callable[[_F], _F] = arg(name, ndim=2, err_to_str=True, doc=doc)
    return decorator


#: True when the decorators are xlwings' Office.js ones (xlwings Lite / xlwings Server), which pass JSON values.
OFFICEJS = getattr(arg, "__module__", "") == "xlwings.pro.udfs_officejs"


def big_arg(name: str, doc: str) -> Callable[[_F], _F]:
    """The argument that may hold a whole column of accounts.

    Under Office.js it is taken ``raw`` and cleaned by csxl (:mod:`csxl.excel.cells`): a block of plain numbers (the
    usual 10,000-row call) then skips xlwings' per-cell cleaning altogether. Elsewhere (classic xlwings, COM values)
    it is an ordinary :func:`xl_arg` argument.
    """
    if OFFICEJS:
        decorator: Callable[[_F], _F] = arg(name, "raw", doc=doc)
        return decorator
    return xl_arg(name, doc)
