"""Excel entry points: the Refresh and Account-page buttons, for classic xlwings (RunPython) and for xlwings Lite.

Both kinds call the same adapter (:mod:`csxl.excel.book`), which calls the one refresh pipeline.

* **Classic** (Windows, Mac; the macro workbook of :func:`csxl.excel.xlsm.build_xlsm`): VBA runs
  ``RunPython "import <book>; <book>.main()"``, whose ``main()`` calls :func:`refresh`. :func:`refresh` and
  :func:`account_sheet` find the workbook with ``xw.Book.caller()``. A csxl error (bad input, unknown account) is shown
  in a message box, never as a traceback.
* **xlwings Lite** (Windows, Mac, Excel on the web; paste :func:`csxl.excel.lite.write_lite`'s ``main.py``):
  :func:`csxl_refresh` and :func:`csxl_account_sheet` are ``@script`` functions. Lite runs a script from its task pane
  or from a sheet button: a shape named ``csxlRefresh`` (Dashboard) / ``csxlAccountSheet`` (Accounts) whose hyperlink
  points at the cell in :data:`REFRESH_BUTTON` / :data:`ACCOUNT_BUTTON` (``[shape name]Sheet!cell``, xlwings' format).

The module imports anywhere (Linux, no Excel): outside Lite and xlwings Server ``xlwings.script`` only marks the
function, on Windows it is xlwings' ``sub`` decorator.
"""

from __future__ import annotations

import contextlib
import datetime as _dt

import xlwings as xw
from xlwings import script

from csxl.book import layout
from csxl.book.layout import ACCOUNTS
from csxl.errors import CsxlError
from csxl.excel.book import BookRefresh, refresh_book, selected_account
from csxl.excel.book import account_sheet as write_account_sheet
from csxl.excel.book import play_sheet as write_play_sheet
from csxl.plays import PLAYS

__all__ = [
    "ACCOUNT_BUTTON",
    "REFRESH_BUTTON",
    "account_sheet",
    "csxl_account_sheet",
    "csxl_play",
    "csxl_refresh",
    "play",
    "refresh",
]

#: Hyperlink cell of the Lite Refresh button: a shape named ``csxlRefresh`` on Dashboard linking to Dashboard!H1.
REFRESH_BUTTON = f"[csxlRefresh]{layout.SHEET_DASHBOARD}!H1"
#: Hyperlink cell of the Lite Account-page button: a shape ``csxlAccountSheet`` on Accounts, right of the table.
ACCOUNT_BUTTON = f"[csxlAccountSheet]{ACCOUNTS.sheet}!{layout.column_letter(len(ACCOUNTS.columns) + 2)}1"


def _say(book: xw.Book, text: str, *, error: bool = False) -> None:
    """Tell the user: a message box for errors, the status bar (classic) for news; always printed (Lite's log)."""
    print(text)
    try:
        if error:
            book.app.alert(text, title="csxl", mode="critical")
        else:
            book.app.status_bar = text
    except (NotImplementedError, AttributeError):  # a runtime without a status bar: the printed line is enough
        pass


# --------------------------------------------------------------------------------------------------------------------
# The work, given a book
# --------------------------------------------------------------------------------------------------------------------


def _refresh(book: xw.Book, as_of: _dt.date | None = None) -> BookRefresh | None:
    try:
        result = refresh_book(book, as_of)
    except CsxlError as exc:
        _say(book, f"csxl could not refresh: {exc}", error=True)
        return None
    _say(book, result.message())
    return result


def _account(book: xw.Book, account: str | None) -> str | None:
    try:
        name = account.strip() if account and account.strip() else selected_account(book)
        sheet = write_account_sheet(book, name)
    except CsxlError as exc:
        _say(book, f"csxl could not write the account page: {exc}", error=True)
        return None
    with contextlib.suppress(NotImplementedError, AttributeError, KeyError):
        book.sheets[sheet].activate()
    _say(book, f"csxl: wrote {sheet}")
    return sheet


def _play(book: xw.Book, command: str, account: str | None) -> str | None:
    try:
        name = account.strip() if account and account.strip() else None

        key = command.strip().lower()
        if name is None and key in PLAYS and PLAYS[key].needs_account:
            name = selected_account(book)
        sheet = write_play_sheet(book, command, name)
    except CsxlError as exc:
        _say(book, f"csxl could not run {command}: {exc}", error=True)
        return None
    with contextlib.suppress(NotImplementedError, AttributeError, KeyError):
        book.sheets[sheet].activate()
    _say(book, f"csxl: wrote {sheet}")
    return sheet


# --------------------------------------------------------------------------------------------------------------------
# Classic xlwings: RunPython
# --------------------------------------------------------------------------------------------------------------------


def refresh() -> None:
    """RunPython entry point: refresh the workbook that called (``xw.Book.caller()``)."""
    _refresh(xw.Book.caller())


def account_sheet() -> None:
    """RunPython entry point: write the page of the account in the selected row of Accounts."""
    _account(xw.Book.caller(), None)


def play(command: str) -> None:
    """RunPython entry point: run play ``command`` for the selected account (or the portfolio) and write its sheet,
    e.g. ``RunPython "import csxl.excel.macros as m; m.play('risk')"``."""
    _play(xw.Book.caller(), command, None)


# --------------------------------------------------------------------------------------------------------------------
# xlwings Lite (and xlwings Server): scripts
# --------------------------------------------------------------------------------------------------------------------


@script(name="csxl refresh", button=REFRESH_BUTTON, show_taskpane=False)
def csxl_refresh(book: xw.Book) -> None:
    """Refresh this workbook: health scores on Accounts, History, Cohorts and the Dashboard."""
    _refresh(book)


@script(name="csxl account page", button=ACCOUNT_BUTTON, show_taskpane=True)
def csxl_account_sheet(book: xw.Book, account: str = "") -> None:
    """Write the page of ``account`` (or, when blank, of the account in the selected row of Accounts).

    A sheet button moves the selection onto its own cell, so from the Accounts button type the account's name in the
    task pane's field; from the task pane's run button (F5) with the field blank, the selected row is used.
    """
    _account(book, account)


@script(name="csxl play", show_taskpane=True)
def csxl_play(book: xw.Book, command: str = "risk", account: str = "") -> None:
    """Run one of the twelve plays (score, onboarding, qbr, risk, expansion, winback, renewal, portfolio, cohorts,
    success-plan, save, nrr) and write its result as a sheet; a blank account means the selected row of Accounts."""
    _play(book, command, account)
