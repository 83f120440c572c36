"""The portfolio: a workbook's checked input tables, its settings and an as-of date, in one pure object.

Every runtime builds one :class:`Portfolio` (``csxl refresh`` from a file, the Excel button from an xlwings ``Book``,
Python from data frames) and every later step reads from it: the dashboard, the cohort grid, the plays. Loading is the
boundary: rows that break a rule are reported in :attr:`Portfolio.issues` (sheet, row, column, value, rule) and left
out; every other row is used.

Conventions (see ``docs/data.md``):

* ``accounts`` is indexed by sheet row number (``row``) and has every :class:`csxl.models.AccountRecord` column,
  typed; ``mrr`` has ``account``, ``month`` (month-start timestamps), ``mrr``; ``surveys`` has ``account``, ``date``,
  ``kind``, ``score``, ``comment``; ``history`` has ``as_of``, ``account``, ``health_score``, ``health_tier``,
  ``simple_points``, ``arr`` (one row per account per refresh).
* The as-of date decides "now" everywhere (renewals due, days since churn, the cohort cut-off): the date passed in
  (``--as-of``) when given, else the Settings sheet's date, else today.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import pandas as pd

from csxl.demo import DemoData
from csxl.derived import Derived, derive
from csxl.errors import InputError, RowIssue
from csxl.facts import account_facts, month_start, mrr_cut
from csxl.history import HISTORY_COLUMNS, normalise_history
from csxl.mrrgrid import MrrRows, parse_rows
from csxl.revenue import mrr_movements, period_rates
from csxl.scoring import score_accounts
from csxl.settings import Settings
from csxl.tables import load_accounts, load_mrr, load_surveys, match_accounts

__all__ = ["Portfolio"]


#: The as-of dates csxl accepts: Excel's first exact date, and a century before its last (room for renewal windows,
#: QBR dates and other future dates the plays compute).
AS_OF_FIRST = _dt.date(1900, 3, 1)
AS_OF_LAST = _dt.date(9899, 12, 31)


def _day(value: _dt.date) -> _dt.date:
    return value.date() if isinstance(value, _dt.datetime) else value


@dataclass(frozen=True)
class Portfolio:
    """Checked inputs + settings + as-of date. Build it with :meth:`from_tables` or :meth:`from_demo`."""

    accounts: pd.DataFrame
    mrr: pd.DataFrame
    surveys: pd.DataFrame
    history: pd.DataFrame
    settings: Settings
    as_of: _dt.date
    issues: tuple[RowIssue, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.as_of, _dt.date) or not AS_OF_FIRST <= _day(self.as_of) <= AS_OF_LAST:
            rule = f"a date from {AS_OF_FIRST.isoformat()} to {AS_OF_LAST.isoformat()}"
            raise InputError("as_of", self.as_of, rule, detail="the plays date actions up to years after it")
        # the one place a Portfolio's History is normalised; every reader then takes portfolio.history as it is
        object.__setattr__(self, "history", normalise_history(self.history))

    @classmethod
    def from_tables(
        cls,
        accounts: pd.DataFrame,
        mrr: pd.DataFrame | None = None,
        surveys: pd.DataFrame | None = None,
        history: pd.DataFrame | None = None,
        *,
        settings: Settings | None = None,
        as_of: _dt.date | None = None,
        first_row: int = 2,
    ) -> Portfolio:
        """Check the raw tables (as read from sheets: the header is row ``first_row - 1``) and keep the good rows.

        ``as_of``: this argument (e.g. ``--as-of``) wins, then the settings' as-of date, then today.
        """
        settings = settings or Settings()
        loaded_accounts = load_accounts(accounts, first_row=first_row)
        empty_mrr = pd.DataFrame({"account": [], "month": [], "mrr": []})
        loaded_mrr = load_mrr(mrr if mrr is not None else empty_mrr, first_row=first_row)
        empty_surveys = pd.DataFrame({"account": [], "date": [], "kind": [], "score": [], "comment": []})
        loaded_surveys = load_surveys(surveys if surveys is not None else empty_surveys, first_row=first_row)
        names = loaded_accounts.frame["account"]
        mrr_frame, mrr_names = match_accounts(loaded_mrr.frame, names, "MRR")
        survey_frame, survey_names = match_accounts(loaded_surveys.frame, names, "Surveys")
        issues = (
            *loaded_accounts.issues,
            *sorted([*loaded_mrr.issues, *mrr_names], key=lambda i: i.row),
            *sorted([*loaded_surveys.issues, *survey_names], key=lambda i: i.row),
        )
        return cls(
            accounts=loaded_accounts.frame,
            mrr=mrr_frame.reset_index(drop=True),
            surveys=survey_frame.reset_index(drop=True),
            history=normalise_history(None if history is None else history.reindex(columns=list(HISTORY_COLUMNS))),
            settings=settings,
            as_of=as_of or settings.on(),
            issues=tuple(issues),
        )

    @classmethod
    def from_demo(cls, data: DemoData, *, settings: Settings | None = None) -> Portfolio:
        """The seeded demo portfolio (:func:`csxl.demo_portfolio`), as of its own date."""
        return cls.from_tables(
            data.accounts, data.mrr, data.surveys, settings=settings or Settings(as_of=data.as_of), as_of=data.as_of
        )

    @property
    def as_of_month(self) -> pd.Timestamp:
        """The first day of the as-of month (:func:`csxl.facts.month_start`)."""
        return month_start(self.as_of)

    @property
    def as_of_ts(self) -> pd.Timestamp:
        """The as-of date as a pandas Timestamp (midnight)."""
        return cast(pd.Timestamp, pd.Timestamp(self.as_of))

    @cached_property
    def derived(self) -> Derived:
        """:func:`csxl.derived.derive`: the Accounts table with the contract trend from the MRR table and the NPS from
        the Surveys sheet where the data shows them (``.accounts``), and what each such value rests on."""
        return derive(self.accounts, self.mrr_rows, self.surveys, self.as_of)

    @cached_property
    def signal_sources(self) -> pd.DataFrame:
        """Where each account's ``contract_trend`` and ``nps`` come from (``typed``, ``blank`` or the evidence),
        indexed by account name, as :attr:`table`."""
        sources: pd.DataFrame = self.derived.sources().set_axis(
            self.accounts["account"].astype(object).to_numpy(), axis=0
        )
        return sources

    @cached_property
    def scored(self) -> pd.DataFrame:
        """:func:`csxl.score_accounts` with this workbook's settings on the accounts as the data shows them
        (:attr:`derived`), on the accounts' index."""
        return score_accounts(self.derived.accounts, settings=self.settings)

    @cached_property
    def table(self) -> pd.DataFrame:
        """Accounts (as the data shows them, :attr:`derived`) and their scores side by side, indexed by account name
        (the plays' usual view)."""
        accounts = self.derived.accounts
        scored = self.scored.rename(columns={c: f"{c}_computed" for c in self.scored.columns if c in accounts})
        joined = pd.concat([accounts, scored], axis=1)
        return cast(pd.DataFrame, joined.set_index("account", drop=False))

    @cached_property
    def mrr_rows(self) -> MrrRows:
        """The MRR table parsed once for every MRR metric of this run (:func:`csxl.mrrgrid.parse_rows`)."""
        return parse_rows(self.mrr)

    @cached_property
    def movements(self) -> pd.DataFrame:
        """The monthly MRR bridge with its rates over the whole MRR table (:func:`csxl.revenue.period_rates` of
        :func:`csxl.revenue.mrr_movements`), computed once per run for the Dashboard and the spec's measures."""
        return period_rates(mrr_movements(self.mrr_rows))

    @cached_property
    def mrr_cut(self) -> tuple[pd.Timestamp | None, str]:
        """:func:`csxl.facts.mrr_cut`: the last month the MRR analyses use, and the sentence saying why."""
        return mrr_cut(self.mrr, self.as_of)

    @cached_property
    def facts(self) -> pd.DataFrame:
        """:func:`csxl.facts.account_facts` (effective ARR and its source, segment, live, at risk, renewal days) on
        :attr:`table`'s index: the one answer every play, sheet and command uses."""
        return account_facts(self.table, self.mrr, self.as_of, self.settings.scheme())

    def account(self, name: Any) -> pd.Series[Any]:
        """One account's row of :attr:`table`, matched ignoring case and outer spaces.

        Raises :class:`InputError` naming the account and, when there is one, the closest existing name.
        """
        key = str(name).strip().casefold() if name is not None else ""
        names = self.table["account"].astype(str)
        hits = names[names.str.strip().str.casefold() == key]
        if key and len(hits):
            row: pd.Series[Any] = self.table.loc[hits.index[0]]
            if isinstance(row, pd.DataFrame):  # duplicate names are refused by the loader; be safe anyway
                row = row.iloc[0]
            return row
        close = difflib.get_close_matches(str(name), names.tolist(), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError("account", name, f"an account on the Accounts sheet{hint}")
