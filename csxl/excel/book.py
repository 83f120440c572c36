"""The xlwings adapter: csxl's one refresh pipeline, run on a workbook open in Excel through an xlwings ``Book``.

One pipeline, two adapters. :func:`refresh_book` does exactly what ``csxl refresh PATH`` does (read -> core ->
:func:`csxl.book.refresh.plan_refresh` -> apply), with the two ends swapped for xlwings:

* **read**: :func:`read_grids` takes each csxl sheet's used range from A1 through xlwings and hands the grids to
  :func:`csxl.book.read.book_from_grids`, the same reader the file path uses after calamine. Error cells arrive as
  their text (``err_to_str``) and become error cells; dates arrive as ``datetime`` (classic Excel, xlwings Server) or
  as Excel serial numbers when a date column is not date-formatted (xlwings Lite can send either): the loaders
  (:mod:`csxl.models`) accept both, serial ``n`` being ``1899-12-30 + n`` days.
* **write**: :func:`apply_plan_to_book` applies a :class:`~csxl.book.plan.Plan` through the public xlwings API, so
  it works on every xlwings runtime (Windows/Mac COM/AppleScript, xlwings Lite and xlwings Server via Office.js).

How each operation is written (and what falls back):

* :class:`~csxl.book.plan.SheetSpec`: missing sheets are added after ``after``; ``replace`` clears the sheet's values
  and formats and deletes csxl's own charts (named ``csxl:<name>``, as the file adapter names them). Buttons,
  shapes and the user's charts stay. Column widths are set; the tab colour is **not** (xlwings has no tab-colour
  API on every runtime; it is cosmetic).
* :class:`~csxl.book.plan.Block`: one ``range.value = 2-D list`` call per rectangle. On a sheet this plan has just
  created or cleared (an account page, the Dashboard, Cohorts), every block and clear is collected first and written
  at the end as one rectangle per band of consecutive used rows (cells the plan does not write are written blank,
  which changes nothing on a cleared sheet): a whole dashboard is a few calls, not one per line. On other sheets
  (Accounts, History) each block is written as it comes, ragged rows in rectangles of equal-length rows, so cells
  outside a row stay untouched.
* Text is always text: every ``str`` is written with Excel's quote prefix (``'``), which Excel hides and never
  stores in the value. Without it Excel would turn ``=HYPERLINK(...)``, ``+1``, ``-x``, ``@x`` into formulas and
  ``2024-01``, ``1/2``, ``TRUE``, ``00123`` into dates, numbers and booleans. Only :class:`~csxl.book.plan.Formula`
  values are written as formulas.
* Styles: cells with the same style key are grouped into rectangles and get the look of
  :data:`csxl.book.xlsx.LOOKS` (number format, bold/italic/size/colour, fill, wrap, bottom border), the same looks
  the file adapter writes. ``money`` is :func:`csxl.book.layout.money_format` of the workbook currency.
* :class:`~csxl.book.plan.Clear`: ``clear_contents`` (the cells keep their look).
* :class:`~csxl.book.plan.ResizeTable`: ``Table.resize``; when the runtime or the workbook has no such table, the op
  is skipped and reported in :attr:`ApplyResult.skipped` (the values are written either way; the table then ends at
  its old last row until the user extends it).
  Rows that join the table take its formats from Excel itself (``looks_from`` is the file adapter's job).
* :class:`~csxl.book.plan.Chart`: replaced by name. When every series is one column of the same rows and the columns
  are adjacent, one chart is made from them (``plot_by="columns"``), the categories are set as x-axis values, and the
  series are named from the header cells right above them (when the plan wrote the titles there) or by name.
  Series that are not adjacent columns, and runtimes without a chart API, skip the chart (reported).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from csxl import usecases
from csxl.book import layout
from csxl.book.actions import ACCOUNT_PICKER
from csxl.book.layout import ACCOUNTS
from csxl.book.live import live_formulas
from csxl.book.plan import Plan
from csxl.book.read import BookData, book_from_grids, column_of
from csxl.book.refresh import plan_refresh
from csxl.errors import InputError, RowIssue
from csxl.excel.apply import ApplyResult, _find_sheet, apply_plan_to_book, text_cell

__all__ = [
    "ApplyResult",
    "BookRefresh",
    "account_sheet",
    "action_account",
    "apply_plan_to_book",
    "book_data",
    "picked_account",
    "read_grids",
    "refresh_book",
    "selected_account",
    "text_cell",
]


# --------------------------------------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------------------------------------


def _grid(sheet: Any) -> list[list[Any]]:
    """The sheet's used range from A1 as rows of Python values (one read call)."""
    last = sheet.used_range.last_cell
    rows, cols = int(last.row), int(last.column)
    values = sheet.range((1, 1), (rows, cols)).options(ndim=2, err_to_str=True).value
    return [list(row) for row in values]


def read_grids(
    book: Any, sheets: Iterable[str] = (*layout.READ_SHEETS, layout.SHEET_MODEL)
) -> dict[str, list[list[Any]]]:
    """Each csxl sheet present in ``book`` as its used range from A1: sheet name -> rows of values.

    Cells come as xlwings reads them: ``None`` for blanks, ``float`` numbers, ``str`` text, ``bool``, ``datetime``
    for date-formatted cells (or the Excel serial number where the runtime sends one), and error cells as their
    text (``"#N/A"``). A missing sheet is left out (the reader then says which one is missing).
    """
    out: dict[str, list[list[Any]]] = {}
    for name in sheets:
        for candidate in layout.sheet_names_of(name):  # or its name in an older csxl workbook
            sheet = _find_sheet(book, candidate)
            if sheet is not None:
                out[str(sheet.name)] = _grid(sheet)
                break
    return out


def _csxl_names(book: Any) -> dict[str, str]:
    """Defined names ``csxl_*`` -> their target (``=Settings!$B$5``), so moved Settings rows are still found."""
    out: dict[str, str] = {}
    try:
        names = list(book.names)
    except (AttributeError, NotImplementedError, KeyError):  # a runtime without defined names: the layout's cells
        return out
    for item in names:
        try:
            name, target = str(item.name), item.refers_to
        except (AttributeError, NotImplementedError, KeyError):
            continue
        if target and name.casefold().startswith("csxl_"):
            out[name] = str(target)
    return out


def book_data(book: Any) -> BookData:
    """The workbook's data as :class:`csxl.book.read.BookData`, read through xlwings (see :func:`read_grids`)."""

    return book_from_grids(read_grids(book), path=str(book.name), names=_csxl_names(book))


# --------------------------------------------------------------------------------------------------------------------
# The workflows
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookRefresh:
    """What :func:`refresh_book` did: as of when, accounts read and scored, History rows, problems, skipped ops."""

    book: str
    as_of: _dt.date
    accounts: int
    scored: int
    history_rows: int
    refreshed_at: _dt.datetime
    issues: tuple[RowIssue, ...]
    skipped: tuple[str, ...]

    def message(self) -> str:
        """One line for the status bar / task pane, e.g. ``csxl: 250 accounts scored as of 2024-06-30 ...``."""
        text = (
            f"csxl: {self.scored} of {self.accounts} accounts scored as of {self.as_of.isoformat()}, "
            f"{self.history_rows} History rows"
        )
        if self.issues:
            text += f"; {len(self.issues)} data issue(s), listed on the Dashboard"
        return text


def refresh_book(book: Any, as_of: _dt.date | None = None, *, refreshed_at: _dt.datetime | None = None) -> BookRefresh:
    """Refresh an open workbook: :func:`read_grids` -> ``book_from_grids`` -> ``to_portfolio`` -> ``plan_refresh`` ->
    :func:`apply_plan_to_book`. The same pipeline and numbers as ``csxl refresh PATH`` on the saved file.

    ``as_of``: used when the Settings as-of date is blank (else today). ``refreshed_at``: the time stamp shown on the
    Dashboard (default: now, to the second).
    """

    data = book_data(book)
    portfolio = data.to_portfolio(as_of)
    stamp = refreshed_at or _dt.datetime.now().replace(microsecond=0)

    sheet_names = [str(sheet.name) for sheet in book.sheets]  # all of them: data.sheet_names are the sheets read
    live = live_formulas(sheet_names)
    plan, history_rows = plan_refresh(
        data.places, portfolio, refreshed_at=stamp, live=live, sheet_names=sheet_names, stored=data.churn_model
    )
    applied = apply_plan_to_book(book, plan, currency=portfolio.settings.currency)
    accounts = data.tables.get(ACCOUNTS.sheet)
    return BookRefresh(
        book=str(book.name),
        as_of=portfolio.as_of,
        accounts=0 if accounts is None else len(accounts),
        scored=int(portfolio.scored["health_score"].notna().sum()),
        history_rows=history_rows,
        refreshed_at=stamp,
        issues=tuple(portfolio.issues),
        skipped=tuple(applied.skipped),
    )


class OpenBook:
    """A workbook open in Excel as a :class:`csxl.usecases.Workbook`: read through xlwings, written by
    :func:`csxl.excel.apply.apply_plan_to_book`."""

    def __init__(self, book: Any) -> None:
        self.book = book

    def data(self) -> BookData:
        return book_data(self.book)

    def apply(self, plan: Plan, currency: str) -> None:
        apply_plan_to_book(self.book, plan, currency=currency)


def account_sheet(book: Any, account: str, as_of: _dt.date | None = None) -> str:
    """Write (or rewrite) ``account``'s page in the open workbook (:func:`csxl.usecases.account_sheet`).

    Returns the sheet name (``Acct <account>``). An unknown account raises :class:`InputError` with the closest name.
    """
    return usecases.account_sheet(OpenBook(book), account, as_of=as_of)


def selected_account(book: Any, selection: Any | None = None) -> str:
    """The account whose Accounts row holds the selected cell (``selection`` or the book's selection); the account
    column is found by its heading, wherever the user moved it.

    Raises :class:`InputError` when the selection is not a data row of the Accounts sheet, or its account is blank.
    """
    rng = selection if selection is not None else book.selection
    rule = "a cell in an account's row on the Accounts sheet"
    if rng is None:
        raise InputError("selection", None, rule)
    sheet = rng.sheet
    if str(sheet.name).casefold() != ACCOUNTS.sheet.casefold():
        raise InputError("selection", f"{sheet.name}!{rng.address}", rule)
    row = int(rng.row)
    if row < ACCOUNTS.first_data_row:
        raise InputError("selection", f"{sheet.name}!{rng.address}", rule + " (below the header)")
    last = int(sheet.used_range.last_cell.column)
    header = sheet.range((ACCOUNTS.header_row, 1), (ACCOUNTS.header_row, last)).options(ndim=1).value
    column = column_of(ACCOUNTS, list(header or []), "account")
    if column is None:
        raise InputError(
            "Accounts header", ACCOUNTS.header_row, f"a column headed {ACCOUNTS.column('account').header!r}"
        )
    return _name(
        sheet.range((row, column)).value, f"{sheet.name}!{rng.address}", rule + " (this row has no account name)"
    )


def _name(value: Any, where: str, rule: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("account", where, rule)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def picked_account(book: Any) -> str:
    """The account in the Actions sheet's picker (:data:`csxl.book.actions.ACCOUNT_PICKER`): what the account
    buttons act on. Raises :class:`InputError` when the sheet is missing or the picker is blank."""
    sheet = _find_sheet(book, layout.SHEET_ACTIONS)
    where = f"{layout.SHEET_ACTIONS}!{ACCOUNT_PICKER}"
    rule = "the account to act on, picked from the list in that cell"
    if sheet is None:
        raise InputError("account", where, rule + " (this workbook has no Actions sheet: run csxl refresh once)")
    return _name(sheet.range(ACCOUNT_PICKER).value, where, rule)


def action_account(book: Any, account: str | None) -> str:
    """The account an account action acts on: ``account`` when given; else the selected row when the selection is on
    Accounts (run from the task pane); else the Actions sheet's picker (run from a sheet button, whose click selects
    the cell under it)."""
    if account and account.strip():
        return account.strip()
    rng = book.selection
    if rng is not None and str(rng.sheet.name).casefold() == ACCOUNTS.sheet.casefold():
        return selected_account(book, rng)
    return picked_account(book)


def play_sheet(book: Any, command: str, account: str | None = None, as_of: _dt.date | None = None) -> str:
    """Run play ``command`` (``risk``, ``qbr``, ``portfolio`` ...) and write its result as a ``csxl ...`` sheet:
    :func:`csxl.usecases.play`, the same registry, plays and layout as ``csxl COMMAND ACCOUNT --book PATH --write``;
    only the adapter differs. Returns the sheet name."""
    _, sheet = usecases.play(OpenBook(book), command, account, as_of=as_of, write=True)
    return str(sheet)
