"""The csxl exception tree.

Every error csxl raises on purpose derives from :class:`CsxlError`, split by cause:

``CsxlError``
    ``InputError`` (also a ``ValueError``): a value breaks a rule. Names the field, the value and the rule.
        ``TableError``: one or more rows of a table are bad; carries every :class:`RowIssue` at once.
    ``FileError`` (also an ``OSError``): a workbook or data file cannot be read or written.

Messages follow one pattern so that a cell, a terminal and a log all read the same:
``"<field> must be <rule>, got <value>"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CsxlError", "FileError", "InputError", "RowIssue", "TableError"]


def _show(value: Any) -> str:
    """Quote a value for a message: strings in quotes, floats without noise, long text cut."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    if isinstance(value, float):
        if value != value:  # NaN
            return "blank"
        return f"{value:g}"
    if value is None:
        return "blank"
    return repr(value)


class CsxlError(Exception):
    """Base class of every error csxl raises on purpose."""


class InputError(CsxlError, ValueError):
    """A value breaks a rule.

    ``field`` names the argument or column, ``value`` is the offending value and ``rule`` says what was expected,
    e.g. ``InputError("dau_mau", 1.5, "0..1")`` reads ``dau_mau must be 0..1, got 1.5``.
    """

    def __init__(self, field: str, value: Any, rule: str, *, detail: str = "") -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.detail = detail
        message = f"{field} must be {rule}, got {_show(value)}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


@dataclass(frozen=True)
class RowIssue:
    """One bad cell of a table: where it is, what it holds and which rule it breaks.

    ``row`` is the 1-based row number the user sees (in a workbook: the sheet's row number; in a DataFrame: the
    position + 1 unless the loader was told where the data starts). ``effect`` says what csxl did about it
    (``"cell ignored"``: that field is unknown and the row is used; ``"row left out"``; empty when not decided).
    """

    sheet: str
    row: int
    column: str
    value: Any
    rule: str
    effect: str = ""

    def __str__(self) -> str:
        where = f"{self.sheet} row {self.row}" if self.row > 0 else self.sheet  # row 0: not one row (a name, a file)
        text = f"{where}, {self.column}: must be {self.rule}, got {_show(self.value)}"
        return f"{text} ({self.effect})" if self.effect else text


class TableError(InputError):
    """Rows of a table break rules; ``issues`` lists every one of them, not just the first."""

    def __init__(self, sheet: str, issues: list[RowIssue]) -> None:
        self.sheet = sheet
        self.issues = list(issues)
        first = self.issues[0] if self.issues else RowIssue(sheet, 0, "?", None, "valid")
        super().__init__(first.column, first.value, first.rule)
        rows = len({i.row for i in self.issues})
        lines = "\n".join(f"  {issue}" for issue in self.issues[:50])
        more = f"\n  ... and {len(self.issues) - 50} more" if len(self.issues) > 50 else ""
        self.args = (f"{sheet}: {len(self.issues)} problem(s) in {rows} row(s)\n{lines}{more}",)


class FileError(CsxlError, OSError):
    """A workbook or data file cannot be read or written; ``path`` names it and the message says why."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
