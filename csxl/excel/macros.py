"""Excel entry points: the Refresh and Account-page buttons, for classic xlwings (RunPython) and for xlwings Lite.

Both kinds call the same adapter (:mod:`csxl.excel.book`), which calls the one refresh pipeline.

* **Classic** (Windows, Mac; the macro workbook of :func:`csxl.excel.xlsm.build_xlsm`): VBA runs
  ``RunPython "import <book>; <book>.main()"``, whose ``main()`` calls :func:`refresh`. :func:`refresh` and
  :func:`account_sheet` find the workbook with ``xw.Book.caller()``. A csxl error (bad input, unknown account) is shown
  in a message box, never as a traceback.
* **xlwings Lite** (Windows, Mac, Excel on the web; paste :func:`csxl.excel.lite.write_lite`'s ``main.py``): one
  ``@script`` per button of :data:`csxl.book.actions.ACTIONS` (``csxl_refresh``, ``csxl_account_sheet``,
  ``csxl_risk`` ...; :data:`SCRIPTS`), each bound to its sheet button (``button="[shape]Sheet!cell"``), plus
  :func:`csxl_play` for any play from the task pane. The shapes are drawn by the file adapter in every workbook csxl
  writes. The refresh script asks Lite for the sheets the refresh reads and writes only (:data:`REFRESH_SHEETS`).

The module imports anywhere (Linux, no Excel): outside Lite and xlwings Server ``xlwings.script`` only marks the
function, on Windows it is xlwings' ``sub`` decorator.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Callable
from typing import Any, cast

import xlwings as xw
from xlwings import script

from csxl.book import layout
from csxl.book.actions import ACTIONS, REFRESH, Action
from csxl.book.live import EXCEL_FLAVOUR_SHEET
from csxl.errors import CsxlError, InputError
from csxl.excel.book import BookRefresh, action_account, refresh_book
from csxl.excel.book import account_sheet as write_account_sheet
from csxl.excel.book import play_sheet as write_play_sheet
from csxl.plays import PLAYS

__all__ = [
    "ACCOUNT_BUTTON",
    "REFRESH_BUTTON",
    "REFRESH_SHEETS",
    "SCRIPTS",
    "account_sheet",
    "check_xlwings",
    "csxl_account_sheet",
    "csxl_play",
    "csxl_refresh",
    "play",
    "refresh",
]

#: The Lite Refresh button: a shape ``csxlRefresh`` on Dashboard whose hyperlink points at Dashboard!H1.
REFRESH_BUTTON = REFRESH.button
#: The Lite Account-page button, on the Actions sheet.
ACCOUNT_BUTTON = next(a.button for a in ACTIONS if a.key == "account")

#: The sheets the Lite refresh asks for (``@script(include=...)``): those the refresh reads (Settings, the tables, the
#: Model) and writes (Cohorts, Dashboard, Churn, Actions, Live scores), under today's and older names. Lite sends no
#: other sheet (account pages, play sheets, imports' sheets, the user's own): its payload is what the refresh needs.
#: The Excel flavour's ``xlwings.conf`` sheet is asked for too: it tells live formulas from values.
REFRESH_SHEETS: tuple[str, ...] = (
    *(
        name
        for sheet in (
            *layout.READ_SHEETS,
            layout.SHEET_MODEL,
            layout.SHEET_COHORTS,
            layout.SHEET_DASHBOARD,
            layout.SHEET_CHURN,
            layout.SHEET_ACTIONS,
            layout.SHEET_LIVE,
        )
        for name in layout.sheet_names_of(sheet)
    ),
    EXCEL_FLAVOUR_SHEET,
)


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
        sheet = write_account_sheet(book, action_account(book, account))
    except CsxlError as exc:
        _say(book, f"csxl could not write the account page: {exc}", error=True)
        return None
    with contextlib.suppress(NotImplementedError, AttributeError, KeyError):
        book.sheets[sheet].activate()
    _say(book, f"csxl: wrote {sheet}")
    return sheet


def _play(book: xw.Book, command: str, account: str | None) -> str | None:
    try:
        key = command.strip().lower()
        name = account.strip() if account and account.strip() else None
        if key in PLAYS and PLAYS[key].needs_account:
            name = action_account(book, name)
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


def check_xlwings(expected: str | None, installed: str | None = None) -> None:
    """Raise :class:`InputError` when the Python's xlwings is not ``expected``, the version whose VBA the macro
    workbook carries (``None``: no check). The message says exactly what to install."""
    have = installed if installed is not None else str(xw.__version__)
    if expected is not None and have != expected:
        raise InputError(
            "xlwings",
            have,
            f"version {expected}, the version of this workbook's macros",
            detail=f'run  pip install "xlwings=={expected}"  in the Python set on the xlwings.conf sheet',
        )


def _caller_checked(expected: str | None) -> xw.Book | None:
    book = xw.Book.caller()
    try:
        check_xlwings(expected)
    except CsxlError as exc:
        _say(book, f"csxl cannot run: {exc}", error=True)
        return None
    return book


def refresh(expected_xlwings: str | None = None) -> None:
    """RunPython entry point: refresh the workbook that called (``xw.Book.caller()``). ``expected_xlwings``: the
    version of the workbook's VBA (the companion module passes it): another installed xlwings is named, not run."""
    book = _caller_checked(expected_xlwings)
    if book is not None:
        _refresh(book)


def account_sheet(expected_xlwings: str | None = None) -> None:
    """RunPython entry point: write the page of the account in the selected row of Accounts (else the Actions
    picker's)."""
    book = _caller_checked(expected_xlwings)
    if book is not None:
        _account(book, None)


def play(command: str) -> None:
    """RunPython entry point: run play ``command`` for the selected account (or the portfolio) and write its sheet,
    e.g. ``RunPython "import csxl.excel.macros as m; m.play('risk')"``."""
    _play(xw.Book.caller(), command, None)


# --------------------------------------------------------------------------------------------------------------------
# xlwings Lite (and xlwings Server): scripts
# --------------------------------------------------------------------------------------------------------------------


@script(name=REFRESH.script_name, button=REFRESH.button, include=list(REFRESH_SHEETS), show_taskpane=False)
def csxl_refresh(book: xw.Book) -> None:
    """Refresh this workbook: health scores on Accounts, History, Cohorts and the Dashboard."""
    _refresh(book)


@script(name="csxl play", show_taskpane=True)
def csxl_play(book: xw.Book, command: str = "risk", account: str = "") -> None:
    """Run one of the twelve plays (score, onboarding, qbr, risk, expansion, winback, renewal, portfolio, cohorts,
    success-plan, save, nrr) and write its result as a sheet; a blank account means the selected row of Accounts, else
    the account picked on the Actions sheet."""
    _play(book, command, account)


def _action_script(action: Action) -> Callable[..., Any]:
    """The ``@script`` of one Actions-sheet button: the account page or one play."""

    def run(book: xw.Book, account: str = "") -> None:
        if action.key == "account":
            _account(book, account)
        else:
            _play(book, action.key, account)

    def run_portfolio(book: xw.Book) -> None:
        _play(book, action.key, None)

    body = run if action.needs_account else run_portfolio
    body.__name__ = body.__qualname__ = action.function
    body.__module__ = __name__
    body.__doc__ = action.text + (
        " A blank account means the selected row of Accounts, else the account picked on the Actions sheet."
        if action.needs_account
        else ""
    )
    return cast(Callable[..., Any], script(name=action.script_name, button=action.button, show_taskpane=False)(body))


#: Every button's script by function name (``csxl_refresh``, ``csxl_account_sheet``, ``csxl_risk`` ...), in the order
#: of :data:`csxl.book.actions.ACTIONS`; the module defines each under that name (Lite finds them in ``main.py``).
SCRIPTS: dict[str, Callable[..., Any]] = {REFRESH.function: csxl_refresh}
for _action in ACTIONS:
    if _action.key != "refresh":
        SCRIPTS[_action.function] = globals()[_action.function] = _action_script(_action)
csxl_account_sheet = SCRIPTS["csxl_account_sheet"]
