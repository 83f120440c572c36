"""The workbook's buttons: where each xlwings Lite button sits, what it runs, and the Actions sheet that holds them.

xlwings Lite ties a sheet button to a ``@script`` by a shape's name and the cell its hyperlink points at: the script's
``button="[shape]Sheet!cell"`` (:attr:`Action.button`). This module is the one home of those three facts; the file
adapter draws the shapes (:class:`csxl.book.plan.Button`) and :mod:`csxl.excel.macros` makes one script per action
from :data:`ACTIONS`, so the drawing and the scripts cannot disagree (``tests/test_buttons.py`` reads both).

* **Dashboard**: the Refresh button at ``H1``.
* **Actions** sheet: the account picker (``B4``, a list of the Accounts sheet's names), one button per account action
  (the account page and each play that needs an account) and one per portfolio play.

Clicking a shape follows its hyperlink, which selects the cell under the button: so a button can never tell which
row was selected before the click. Account buttons therefore use the account in the picker; run from the task pane
(or App Mode) with the account field blank, the same scripts use the selected row of Accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from csxl.book import layout
from csxl.book.plan import Block, Button, Plan, SheetSpec
from csxl.plays import PLAYS

__all__ = [
    "ACCOUNT_PICKER",
    "ACTIONS",
    "REFRESH",
    "WIDTHS",
    "Action",
    "actions_plan",
    "buttons",
]

#: The Actions sheet's account picker: the account the account buttons act on.
ACCOUNT_PICKER = "B4"
#: Column widths (characters) of the Actions sheet: column A holds the buttons (5.2 cm), B what each does.
WIDTHS: dict[str, float] = {"A": 30.0, "B": 70.0}
_FIRST_BUTTON_ROW = 8
_BUTTON_ROWS = 2  # each button covers its cell's row and the row below, so rows alternate


@dataclass(frozen=True)
class Action:
    """One button: ``key`` (``refresh``, ``account`` or a play's name), its shape, cell, label and script."""

    key: str
    shape: str
    sheet: str
    cell: str
    label: str
    needs_account: bool
    text: str  # what it does, written beside it on the Actions sheet

    @property
    def button(self) -> str:
        """The ``@script(button=...)`` string: ``[shape]Sheet!cell``."""
        return f"[{self.shape}]{self.sheet}!{self.cell}"

    @property
    def function(self) -> str:
        """The name of its script in :mod:`csxl.excel.macros` (``csxl_refresh``, ``csxl_risk`` ...)."""
        return "csxl_" + ("account_sheet" if self.key == "account" else self.key.replace("-", "_"))

    @property
    def script_name(self) -> str:
        """The script's name in Lite's task pane (``csxl refresh``, ``csxl risk`` ...)."""
        return "csxl " + ("account page" if self.key == "account" else self.key)


def _shape(key: str) -> str:
    """``csxlRisk``, ``csxlSuccessPlan``; the account page's is ``csxlAccountPage``."""
    return "csxl" + ("AccountPage" if key == "account" else "".join(part.capitalize() for part in key.split("-")))


#: The Dashboard's Refresh button.
REFRESH = Action(
    "refresh",
    "csxlRefresh",
    layout.SHEET_DASHBOARD,
    "H1",
    "Refresh",
    False,
    "Refresh: health scores, History, Cohorts and this Dashboard.",
)


def _actions() -> tuple[Action, ...]:
    plays = sorted(PLAYS.values(), key=lambda p: (not p.needs_account, p.number))
    keyed = [("account", "Account page", True, "The account's page: health, signals, risks and MRR history.")]
    keyed += [
        (
            p.name,
            p.title,
            p.needs_account,
            f"{p.title}: written as the sheet 'csxl {p.name}" + (" <account>'." if p.needs_account else "'."),
        )
        for p in plays
    ]
    out: list[Action] = [REFRESH]
    row = _FIRST_BUTTON_ROW
    for i, (key, label, needs, text) in enumerate(keyed):
        if i and needs != keyed[i - 1][2]:
            row += 2  # a blank row and the portfolio section's title
        out.append(Action(key, _shape(key), layout.SHEET_ACTIONS, f"A{row}", label, needs, text))
        row += _BUTTON_ROWS
    return tuple(out)


#: Every button of a csxl workbook, the Dashboard's Refresh first.
ACTIONS: tuple[Action, ...] = _actions()


def buttons() -> list[Button]:
    """The shapes of :data:`ACTIONS` (the file adapter draws them; a refresh puts back a deleted one)."""
    out = []
    for action in ACTIONS:
        wide = action.sheet == layout.SHEET_ACTIONS
        out.append(
            Button(
                action.sheet,
                action.shape,
                action.cell,
                action.label,
                width_cm=5.2 if wide else 3.0,
                height_cm=0.9,
                fill="1F4E79" if action.key != "refresh" else "2E7D32",
            )
        )
    return out


def actions_plan() -> Plan:
    """The Actions sheet's labels and every button. The sheet is created when missing, never emptied: the account in
    the picker and anything the user added stay."""
    sheet = layout.SHEET_ACTIONS
    blocks = [
        Block(sheet, 1, 1, [["Actions"]], "title"),
        Block(
            sheet,
            2,
            1,
            [
                [
                    "Buttons for xlwings Lite (Excel on Windows, Mac and the web): pick the account, then click. "
                    "Refresh is the green button on the Dashboard."
                ]
            ],
            "note",
        ),
        Block(sheet, 4, 1, [["Account"]], "header"),
        Block(
            sheet,
            5,
            1,
            [
                [
                    "The account buttons act on this account (a click selects the cell under the button, so they "
                    "cannot use the selected row). From the task pane, an account left blank means the selected row "
                    "of Accounts."
                ]
            ],
            "note",
        ),
    ]
    first = {a.needs_account: int(a.cell[1:]) for a in reversed(ACTIONS) if a.sheet == sheet}
    blocks.append(Block(sheet, first[True] - 1, 1, [["For the account in " + ACCOUNT_PICKER]], "section"))
    blocks.append(Block(sheet, first[False] - 1, 1, [["For the portfolio"]], "section"))
    for action in ACTIONS:
        if action.sheet == sheet:
            blocks.append(Block(sheet, int(action.cell[1:]), 2, [[action.text]], "text"))
    spec = SheetSpec(sheet, after=layout.SHEET_DASHBOARD, replace=False, widths=WIDTHS)
    return Plan([spec, *blocks, *buttons()])
