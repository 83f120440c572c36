"""The input tables: the records csxl reads from a workbook or CSV, and a fast loader that reports every bad cell.

Three tables feed csxl (their column contract is ``docs/data.md``):

* **Accounts** (:class:`AccountRecord`): one row per account, the engine spec's health-score YAML record flattened.
  Only ``account`` is required; every other cell may be blank (blank = missing data, never zero).
* **MRR** (:class:`MrrRow`): one row per account and month, monthly recurring revenue.
* **Surveys** (:class:`SurveyResponse`): one row per NPS, CSAT or CES answer.

The pydantic models *are* the schema: field names, types, ``Literal`` labels and ``Field(ge=, le=, gt=)`` bounds.
:func:`column_specs` reads them into :class:`ColumnSpec` objects, and :func:`load_table` checks a whole DataFrame
column by column with pandas/numpy operations driven by those specs, so a 240,000-row MRR table loads in tens of
milliseconds. Building one pydantic model per row would be some hundred times slower; the models still validate one
record (``AccountRecord.model_validate({...})``) with exactly the same rules, because their validators call the same
column converters on a one-row column.

Cell rules shared by every table (the spreadsheet user's view):

* **Blank** (empty cell, ``None``, ``NaN``, ``NaT``, whitespace-only text) is missing data.
* **Numbers** accept numbers and numeric text (``" 1.5 "``); booleans, other text and infinities are bad.
  Whole-number columns accept ``3`` and ``3.0`` but not ``3.5``.
* **Yes/no** cells accept ``TRUE``/``FALSE``, ``yes``/``no``, ``y``/``n``, ``1``/``0`` and ``x`` (= yes), any case.
* **Labels** are matched ignoring case, surrounding spaces, and spaces/underscores/hyphens inside (``"Mid Market"``
  = ``"mid_market"`` = ``"mid-market"``), plus a few documented synonyms, and stored in their canonical spelling.
* **Dates** accept date cells (``date``, ``datetime``, ``Timestamp``, ``numpy.datetime64``; time of day is dropped,
  a time-zone-aware value keeps its local date), ISO text ``YYYY-MM-DD`` (optionally followed by a time) and Excel
  serial numbers in the 1900 date system (serial ``n`` is ``1899-12-30 + n`` days, so 45000 is 2023-03-15; a
  fractional part is a time of day and is dropped; serials below 61, i.e. before 1900-03-01 where Excel's fictitious
  1900-02-29 lies, are rejected). Other text (``03/04/2024``) is rejected: day and month order is ambiguous.
* **Text** is stripped of surrounding whitespace and otherwise kept exactly (a leading ``=``, ``+``, ``-`` or ``@``
  is just text here). Numbers in a text column become text (``1001`` -> ``"1001"``, ``2.5`` -> ``"2.5"``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Union, get_args, get_origin

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from csxl.errors import InputError, RowIssue, TableError

__all__ = [
    "ACCOUNT_COLUMNS",
    "CHURN_REASONS",
    "MRR_COLUMNS",
    "SURVEY_COLUMNS",
    "SURVEY_SCALES",
    "AccountRecord",
    "AtMost",
    "ColumnSpec",
    "InRangeFor",
    "LoadResult",
    "MrrRow",
    "Record",
    "SurveyResponse",
    "column_names",
    "column_specs",
    "convert_column",
    "load_accounts",
    "load_mrr",
    "load_surveys",
    "load_table",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

# --------------------------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------------------------

Segment = Literal["enterprise", "mid-market", "smb", "self-serve"]
Trend = Literal["up", "flat", "down"]
ChampionStatus = Literal["strong", "weak", "new", "left", "none"]
SponsorStatus = Literal["none", "identified", "engaged"]
Integration = Literal["connected", "partial", "disconnected"]
PaymentStatus = Literal["current", "late", "delinquent"]
ContractTrend = Literal["expanded", "flat", "downgraded"]
SurveyKind = Literal["nps", "csat", "ces"]
#: Churn reasons: the engine spec's taxonomy (Product, Value, Relationship, Financial, Competition, Strategic) and the
#: agent spec's (Value/Fit, Price, Competition, Product, Support, Business Change, Champion Left, Involuntary), merged.
ChurnReason = Literal[
    "Product",
    "Value",
    "Relationship",
    "Financial",
    "Competition",
    "Strategic",
    "Price",
    "Support",
    "Business Change",
    "Champion Left",
    "Involuntary",
]
CHURN_REASONS: tuple[str, ...] = get_args(ChurnReason)

#: Valid score range per survey kind (inclusive): NPS 0-10, CSAT 1-5, CES 1-7 (agent spec, "NPS / CSAT / CES").
SURVEY_SCALES: Mapping[str, tuple[int, int]] = MappingProxyType({"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)})

_TREND_ALIASES = {"declining": "down", "growing": "up", "stable": "flat"}

# Excel's 1900 date system: serial 1 = 1900-01-01, but Excel counts a fictitious 1900-02-29 (serial 60), so from
# serial 61 (1900-03-01) on, date = 1899-12-30 + serial days. 2958465 is 9999-12-31, Excel's last date.
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_SERIAL_MIN = 61.0
_SERIAL_MAX = 2958465.0
_DATE_UNIT = "datetime64[us]"
# dtype of a loaded column by kind; text and labels stay object (None = missing) under pandas 2 and 3 alike
_DTYPE: dict[str, str] = {"text": "object", "label": "object"}


def _field(
    description: str, unit: str = "", *, aliases: Mapping[str, str] | None = None, kind: str = "", **bounds: Any
) -> Any:
    """An optional column (default ``None`` = missing data), documented with its unit and label synonyms."""
    extra: dict[str, Any] = {}
    if unit:
        extra["unit"] = unit
    if aliases:
        extra["aliases"] = dict(aliases)
    if kind:
        extra["kind"] = kind
    return Field(None, description=description, json_schema_extra=extra or None, **bounds)


# --------------------------------------------------------------------------------------------------------------------
# Row rules (cross-field), shared by the table loader and the one-record models
# --------------------------------------------------------------------------------------------------------------------


def _floats(values: Any) -> FloatArray:
    """A typed column (float, Int64, object with None) as float64 with NaN for missing."""
    series = pd.Series(values)
    if series.dtype == object:
        series = pd.to_numeric(series, errors="coerce")
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _num(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e15 else str(int(v))


@dataclass(frozen=True)
class AtMost:
    """``column <= limit`` in every row where both cells are filled and valid (e.g. goals achieved <= defined)."""

    column: str
    limit: str

    def check(self, columns: Mapping[str, Any]) -> tuple[BoolArray, list[str]]:
        """Bad rows (mask) and, for each bad row in order, the rule it breaks (naming the limit's value)."""
        a = _floats(columns[self.column])
        b = _floats(columns[self.limit])
        with np.errstate(invalid="ignore"):
            bad = a > b
        return bad, [f"<= {self.limit} ({_num(v)})" for v in b[bad]]


@dataclass(frozen=True)
class InRangeFor:
    """``column`` lies in ``ranges[label]`` where ``by`` holds ``label`` (e.g. a CSAT score is 1..5, NPS 0..10)."""

    column: str
    by: str
    ranges: Mapping[str, tuple[int, int]]

    def check(self, columns: Mapping[str, Any]) -> tuple[BoolArray, list[str]]:
        score = _floats(columns[self.column])
        label = np.asarray(pd.Series(columns[self.by], dtype=object).to_numpy(), dtype=object)
        bad = np.zeros(score.shape, dtype=bool)
        rule = np.empty(score.shape, dtype=object)
        for key, (lo, hi) in self.ranges.items():
            with np.errstate(invalid="ignore"):
                here = (label == key) & ((score < lo) | (score > hi))
            bad |= here
            rule[here] = f"{lo}..{hi} for {key}"
        return bad, [str(r) for r in rule[bad]]


RowRule = Union[AtMost, InRangeFor]


# --------------------------------------------------------------------------------------------------------------------
# The records
# --------------------------------------------------------------------------------------------------------------------


class Record(BaseModel):
    """Base of the input records: frozen, extra keys ignored, every cell converted by the table loader's rules."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: Cross-field rules checked per row (vectorised in :func:`load_table`).
    row_rules: ClassVar[tuple[RowRule, ...]] = ()
    #: Columns whose filled values must be unique within a table (checked by :func:`load_table` only).
    unique_columns: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _convert_cell(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if name is None:  # pragma: no cover - field validators always have a field name
            return value
        spec = column_specs(cls)[name]
        converted = convert_column(spec, pd.Series([value], dtype=object))
        if converted.bad[0]:
            raise ValueError(f"must be {spec.rule}, got {value!r}")
        if converted.blank[0]:
            if spec.required:
                raise ValueError("must be filled in (required)")
            return None
        return _python_value(converted.values[0], spec)

    @model_validator(mode="after")
    def _check_row_rules(self) -> Record:
        columns = {name: np.array([getattr(self, name)], dtype=object) for name in type(self).model_fields}
        problems = []
        for rule in self.row_rules:
            bad, rules = rule.check(columns)
            if bad[0]:
                problems.append(f"{rule.column} must be {rules[0]}, got {getattr(self, rule.column)!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class AccountRecord(Record):
    """One account: the engine spec's health-score YAML record (Phase 1) flattened to one spreadsheet row.

    Every field but ``account`` is optional; ``None`` means the founder has not filled that cell (missing data).
    The ``*_score`` fields are precomputed 0..10 dimension scores; where filled they override the computed score.
    """

    account: str = Field(description="account (customer) name, unique in the table", min_length=1)
    segment: Segment | None = _field(
        "customer segment",
        aliases={
            "midmarket": "mid-market",
            "mid": "mid-market",
            "selfserve": "self-serve",
            "self-service": "self-serve",
        },
    )
    arr: float | None = _field("annual recurring revenue", "currency per year", ge=0)
    csm: str | None = _field("customer success manager (owner)")
    renewal_date: dt.date | None = _field("next contract renewal", "date")
    start_date: dt.date | None = _field("customer since (contract start)", "date")
    dau_mau: float | None = _field("daily / monthly active users", "fraction (0.25 = 25 %)", ge=0, le=1)
    core_actions_weekly: float | None = _field("core (value) actions per week", "actions per week", ge=0)
    features_adopted: int | None = _field("features in regular use", "features", ge=0)
    features_available: int | None = _field("features available on the plan", "features", gt=0)
    usage_trend: Trend | None = _field("product usage trend", aliases=_TREND_ALIASES)
    login_trend: Trend | None = _field("login trend", aliases=_TREND_ALIASES)
    logins_per_week: float | None = _field("average logins per week", "logins per week", ge=0)
    days_since_login: int | None = _field("days since the last login", "days", ge=0)
    support_tickets_30d: int | None = _field("support tickets opened in the last 30 days", "tickets", ge=0)
    last_proactive_contact: dt.date | None = _field("last proactive CSM contact", "date")
    community_active: bool | None = _field("active in the user community", "yes/no")
    champion: str | None = _field("champion (name, title)")
    champion_status: ChampionStatus | None = _field("champion strength")
    exec_sponsor: str | None = _field("executive sponsor (name, title)")
    exec_sponsor_status: SponsorStatus | None = _field("executive sponsor engagement")
    contacts_count: int | None = _field("engaged contacts at the account (multi-threading)", "contacts", ge=0)
    last_exec_touch: dt.date | None = _field("last executive-level touch", "date")
    seats_purchased: int | None = _field("seats (licences) purchased", "seats", ge=0)
    seats_active: int | None = _field("seats in active use", "seats", ge=0)
    integration: Integration | None = _field(
        "integration health", aliases={"fully-connected": "connected", "none": "disconnected"}
    )
    goals_defined: int | None = _field("success-plan goals defined", "goals", ge=0)
    goals_achieved: int | None = _field("success-plan goals achieved", "goals", ge=0)
    roi_documented: bool | None = _field("ROI documented and shared", "yes/no")
    payment_status: PaymentStatus | None = _field(
        "payment status", aliases={"on-time": "current", "failed": "delinquent", "overdue": "delinquent"}
    )
    contract_trend: ContractTrend | None = _field(
        "contract value trend", aliases={"expanding": "expanded", "downgrading": "downgraded"}
    )
    expansion_signals: str | None = _field("expansion signals, free text separated by ';'")
    contraction_risk: bool | None = _field("contraction risk flagged", "yes/no")
    nps: int | None = _field("the account's latest NPS answer", "0..10 points", ge=0, le=10)
    churn_reason: ChurnReason | None = _field(
        "churn reason category (churned accounts)", aliases={"value/fit": "Value", "pricing": "Price"}
    )
    usage_override: float | None = _field("precomputed usage score (overrides)", "0..10 points", ge=0, le=10)
    engagement_override: float | None = _field("precomputed engagement score (overrides)", "0..10 points", ge=0, le=10)
    relationship_override: float | None = _field(
        "precomputed relationship score (overrides)", "0..10 points", ge=0, le=10
    )
    outcomes_override: float | None = _field("precomputed outcomes score (overrides)", "0..10 points", ge=0, le=10)
    financial_override: float | None = _field("precomputed financial score (overrides)", "0..10 points", ge=0, le=10)

    row_rules: ClassVar[tuple[RowRule, ...]] = (
        AtMost("features_adopted", "features_available"),
        AtMost("seats_active", "seats_purchased"),
        AtMost("goals_achieved", "goals_defined"),
    )
    unique_columns: ClassVar[tuple[str, ...]] = ("account",)

    @property
    def expansion_signal_list(self) -> list[str]:
        """``expansion_signals`` split on ``;``, each stripped, blanks dropped."""
        if not self.expansion_signals:
            return []
        return [part.strip() for part in self.expansion_signals.split(";") if part.strip()]


class MrrRow(Record):
    """Monthly recurring revenue of one account in one month (several rows for one account and month add up)."""

    account: str = Field(description="account (customer) name, as in the Accounts table", min_length=1)
    month: dt.date = Field(
        description="the month the MRR applies to (any date in it; stored as the 1st)",
        json_schema_extra={"unit": "month", "kind": "month"},
    )
    mrr: float = Field(description="monthly recurring revenue", ge=0, json_schema_extra={"unit": "currency per month"})


class SurveyResponse(Record):
    """One survey answer: NPS (0-10), CSAT (1-5) or CES (1-7), per the agent spec's scales."""

    account: str = Field(description="account (customer) name, as in the Accounts table", min_length=1)
    date: dt.date = Field(description="when the answer was given", json_schema_extra={"unit": "date"})
    kind: SurveyKind = Field(description="survey type")
    score: int = Field(
        description="the answer: NPS 0..10, CSAT 1..5, CES 1..7", ge=0, le=10, json_schema_extra={"unit": "points"}
    )
    comment: str | None = _field("free-text comment")

    row_rules: ClassVar[tuple[RowRule, ...]] = (InRangeFor("score", "kind", SURVEY_SCALES),)


# --------------------------------------------------------------------------------------------------------------------
# Column specs: the models read as vectorisable rules
# --------------------------------------------------------------------------------------------------------------------

ColumnKind = Literal["text", "number", "integer", "bool", "date", "month", "label"]

_RULE_OF_KIND: dict[str, str] = {
    "text": "text",
    "bool": "true/false (yes/no, 1/0, x)",
    "date": "a date (YYYY-MM-DD, a date cell or an Excel serial number)",
    "month": "a month (YYYY-MM, YYYY-MM-DD, a date cell or an Excel serial number)",
}
_TYPE_OF_KIND: dict[str, str] = {
    "text": "text",
    "number": "number",
    "integer": "whole number",
    "bool": "yes/no",
    "date": "date",
    "month": "month",
    "label": "label",
}


def _label_key(text: str) -> str:
    """Case-, space-, underscore- and hyphen-insensitive key of a label (``" Mid_Market "`` -> ``"mid-market"``)."""
    return re.sub(r"[\s_\-]+", "-", text.strip().lower())


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an input table, read from a model field: the single source of the vectorised checks and docs."""

    name: str
    kind: ColumnKind
    required: bool
    description: str = ""
    unit: str = ""
    labels: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    @property
    def type_name(self) -> str:
        """Short type for docs: text, number, whole number, yes/no, date, month or label."""
        return _TYPE_OF_KIND[self.kind]

    @property
    def range_rule(self) -> str:
        """The bounds as text: ``0..1``, ``>= 0``, ``> 0`` or empty."""
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None and not self.lo_open and not self.hi_open:
            return f"{_num(lo)}..{_num(hi)}"
        parts = []
        if lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {_num(lo)}")
        if hi is not None:
            parts.append(f"{'<' if self.hi_open else '<='} {_num(hi)}")
        return " and ".join(parts)

    @property
    def rule(self) -> str:
        """What a filled cell must be, e.g. ``a whole number >= 0`` or ``one of up, flat, down``."""
        if self.kind == "label":
            return "one of " + ", ".join(self.labels)
        if self.kind in ("number", "integer"):
            what = "a number" if self.kind == "number" else "a whole number"
            bounds = self.range_rule
            return f"{what} {bounds}" if bounds else what
        return _RULE_OF_KIND[self.kind]

    @functools.cached_property
    def lookup(self) -> Mapping[str, str]:
        """Label key -> canonical label, synonyms included (labels only)."""
        table = {_label_key(label): label for label in self.labels}
        table.update({_label_key(alias): label for alias, label in self.aliases})
        return MappingProxyType(table)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``Optional[X]`` -> ``(X, True)``; ``X`` -> ``(X, False)``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


@functools.cache
def column_specs(model: type[BaseModel]) -> Mapping[str, ColumnSpec]:
    """The columns of ``model`` in field order, as :class:`ColumnSpec` (kind, required, labels, bounds, unit)."""
    specs: dict[str, ColumnSpec] = {}
    for name, info in model.model_fields.items():
        base, _ = _unwrap(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        labels: tuple[str, ...] = ()
        kind: ColumnKind
        if get_origin(base) is Literal:
            kind, labels = "label", tuple(str(a) for a in get_args(base))
        elif base is bool:
            kind = "bool"
        elif base is int:
            kind = "integer"
        elif base is float:
            kind = "number"
        elif base is dt.date:
            kind = "month" if extra.get("kind") == "month" else "date"
        elif base is str:
            kind = "text"
        else:  # pragma: no cover - guards against a new field type nobody taught the loader
            raise TypeError(f"{model.__name__}.{name}: unsupported column type {base!r}")
        bounds: dict[str, Any] = {}
        for meta in info.metadata:
            for attr in ("ge", "gt", "le", "lt"):
                value = getattr(meta, attr, None)
                if value is not None:
                    bounds[attr] = float(value)
        raw_aliases = extra.get("aliases")
        aliases = tuple((str(k), str(v)) for k, v in raw_aliases.items()) if isinstance(raw_aliases, dict) else ()
        specs[name] = ColumnSpec(
            name=name,
            kind=kind,
            required=info.is_required(),
            description=info.description or "",
            unit=str(extra.get("unit", "")),
            labels=labels,
            aliases=aliases,
            lo=bounds.get("ge", bounds.get("gt")),
            hi=bounds.get("le", bounds.get("lt")),
            lo_open="gt" in bounds,
            hi_open="lt" in bounds,
        )
    return MappingProxyType(specs)


def column_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The column names of ``model``'s table, in order."""
    return tuple(column_specs(model))


#: Column names of the Accounts, MRR and Surveys tables, in order (derived from the models).
ACCOUNT_COLUMNS: tuple[str, ...] = column_names(AccountRecord)
MRR_COLUMNS: tuple[str, ...] = column_names(MrrRow)
SURVEY_COLUMNS: tuple[str, ...] = column_names(SurveyResponse)


# --------------------------------------------------------------------------------------------------------------------
# Column conversion (vectorised)
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Converted:
    """A converted column: typed ``values`` (missing where blank or bad), and the ``blank`` and ``bad`` masks."""

    values: Any  # ndarray (float64, datetime64[us], object) or a pandas extension array (Int64, boolean)
    blank: BoolArray
    bad: BoolArray


_NUMBER_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})
_DATE_INFERRED = frozenset({"date", "datetime", "datetime64"})
_TRUE = frozenset({"true", "yes", "y", "x", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_BLANK = object()
_BAD = object()


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _is_string_dtype(s: pd.Series[Any]) -> bool:
    return isinstance(s.dtype, pd.StringDtype)


def _strip(texts: pd.Series[Any]) -> tuple[ObjectArray, BoolArray]:
    """Strings (and missing) -> stripped object array with None for blanks, and the blank mask."""
    stripped = texts.str.strip()
    blank = np.asarray(stripped.isna() | (stripped == ""), dtype=bool)
    out: ObjectArray = np.array(stripped.astype(object).to_numpy(), dtype=object)
    out[blank] = None
    return out, blank


def _distinct_texts(texts: pd.Series[Any]) -> tuple[npt.NDArray[np.intp], ObjectArray, BoolArray]:
    """A column of strings (and missing) -> (codes, stripped distinct texts, blank per distinct text).

    Work is done once per distinct text (a 240,000-row MRR sheet has a few dozen distinct months); code -1 is missing.
    """
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    stripped, blank = _strip(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    return np.asarray(codes, dtype=np.intp), stripped, blank


def _spread(distinct: npt.NDArray[Any], codes: npt.NDArray[np.intp], fill: Any) -> npt.NDArray[Any]:
    """Per-distinct results back to rows; code -1 (missing) takes ``fill``."""
    return np.concatenate([distinct, np.array([fill], dtype=distinct.dtype)])[codes]


def _string_numbers(texts: pd.Series[Any]) -> tuple[FloatArray, BoolArray]:
    codes, distinct, blank = _distinct_texts(texts)
    return _spread(_text_numbers(distinct), codes, np.nan), _spread(blank, codes, True)


def _string_texts(texts: pd.Series[Any]) -> tuple[ObjectArray, BoolArray]:
    codes, distinct, blank = _distinct_texts(texts)
    return _spread(distinct, codes, None), _spread(blank, codes, True)


def _string_dates(texts: pd.Series[Any], month: bool) -> tuple[npt.NDArray[np.datetime64], BoolArray]:
    codes, distinct, blank = _distinct_texts(texts)
    return _spread(_iso_dates(distinct, month), codes, np.datetime64("NaT")), _spread(blank, codes, True)


def _missing(arr: ObjectArray) -> BoolArray:
    return np.asarray(pd.isna(arr), dtype=bool)


def _element_types(arr: ObjectArray) -> tuple[BoolArray, BoolArray]:
    """(is text, is a number) per element of an object array (booleans are not numbers)."""
    n = arr.size
    is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=n)
    is_num = np.fromiter((_is_number(v) for v in arr), dtype=bool, count=n)
    return is_str, is_num


def _text_numbers(texts: ObjectArray) -> FloatArray:
    """Numeric text -> float (NaN where not a number)."""
    if texts.size == 0:
        return np.empty(0)
    return np.asarray(pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce"), dtype=np.float64)


def _numbers(s: pd.Series[Any]) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Any column -> (float64 values, blank, bad): numbers and numeric text pass; booleans, text, inf are bad."""
    n = len(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        blank = np.asarray(s.isna(), dtype=bool)
        return np.full(n, np.nan), blank, ~blank
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        blank = np.isnan(values)
        return values, blank, np.isinf(values)
    arr = s.to_numpy(dtype=object)
    inferred = pd.api.types.infer_dtype(arr, skipna=True)
    if inferred in _NUMBER_INFERRED:
        values = np.asarray(pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce"), dtype=np.float64)
        blank = _missing(arr)
        return values, blank, (~blank & np.isnan(values)) | np.isinf(values)
    if inferred == "string" or _is_string_dtype(s):
        values, blank = _string_numbers(s)
        return values, blank, (~blank & np.isnan(values)) | np.isinf(values)
    # mixed types: classify each element (off the hot path: real sheets rarely mix)
    is_str, is_num = _element_types(arr)
    values = np.full(n, np.nan)
    missing = _missing(arr)
    blank = missing.copy()
    if is_num.any():
        values[is_num & ~missing] = arr[is_num & ~missing].astype(np.float64)
    if is_str.any():
        values[is_str], blank[is_str] = _string_numbers(pd.Series(arr[is_str], dtype=object))
    return values, blank, (~blank & np.isnan(values)) | np.isinf(values)


def _number_text(v: Any) -> str:
    value = v.item() if isinstance(v, np.generic) else v
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _texts(s: pd.Series[Any]) -> tuple[ObjectArray, BoolArray, BoolArray]:
    """Any column -> (stripped text, blank, bad): text passes, numbers become text, booleans/dates are bad."""
    n = len(s)
    if _is_string_dtype(s):
        out, blank = _string_texts(s)
        return out, blank, np.zeros(n, dtype=bool)
    arr = s.to_numpy(dtype=object)
    inferred = pd.api.types.infer_dtype(arr, skipna=True)
    if inferred in ("string", "empty"):
        out, blank = _string_texts(pd.Series(arr, dtype=object))
        return out, blank, np.zeros(n, dtype=bool)
    out = np.full(n, None, dtype=object)
    missing = _missing(arr)
    is_str, is_num = _element_types(arr)
    blank = missing.copy()
    if is_str.any():
        out[is_str], blank[is_str] = _string_texts(pd.Series(arr[is_str], dtype=object))
    numbers = is_num & ~missing
    nums = arr[numbers]
    finite = np.fromiter((np.isfinite(float(v)) for v in nums), dtype=bool, count=nums.size)
    out[numbers] = [_number_text(v) if ok else None for v, ok in zip(nums, finite, strict=True)]
    bad = ~blank & ~is_str & ~numbers
    bad[np.flatnonzero(numbers)[~finite]] = True
    return out, blank, bad


def _by_unique(s: pd.Series[Any], convert: Callable[[Any], object]) -> tuple[ObjectArray, BoolArray, BoolArray]:
    """Convert each distinct value once (labels, yes/no): ``convert`` returns a value, ``_BLANK`` or ``_BAD``."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate(uniques):
        mapped[i] = convert(value.item() if isinstance(value, np.generic) else value)
    mapped[-1] = _BLANK  # code -1 = missing
    picked = mapped[codes]
    blank = np.fromiter((v is _BLANK for v in mapped), dtype=bool, count=mapped.size)[codes]
    bad = np.fromiter((v is _BAD for v in mapped), dtype=bool, count=mapped.size)[codes]
    picked[blank | bad] = None
    return picked, blank, bad


def _flag(v: Any) -> object:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, str):
        key = v.strip().lower()
        if not key:
            return _BLANK
        return True if key in _TRUE else False if key in _FALSE else _BAD
    if _is_number(v):
        if v != v:
            return _BLANK
        return True if v == 1 else False if v == 0 else _BAD
    return _BLANK if v is None or v is pd.NA or v is pd.NaT else _BAD


def _labeller(spec: ColumnSpec) -> Callable[[Any], object]:
    lookup = spec.lookup

    def convert(v: Any) -> object:
        if isinstance(v, str):
            key = _label_key(v)
            return _BLANK if not key else lookup.get(key, _BAD)
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            return _BLANK
        return _BAD

    return convert


def _iso_dates(texts: ObjectArray, month: bool) -> npt.NDArray[np.datetime64]:
    """ISO text -> datetime64[D] (NaT where the text is not an ISO date, or a month for month columns)."""
    series = pd.Series(texts, dtype=object)
    time = r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    pattern = rf"\d{{4}}-\d{{2}}(?:-\d{{2}}{time})?" if month else rf"\d{{4}}-\d{{2}}-\d{{2}}{time}"
    ok = series.str.fullmatch(pattern).fillna(False).astype(bool)
    head = series.where(ok).str.slice(0, 10)
    if month:
        head = head.where(head.str.len() != 7, head + "-01")
    parsed = pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")
    return np.asarray(parsed.to_numpy(dtype="datetime64[ns]"), dtype="datetime64[D]")


def _serials(values: FloatArray) -> tuple[npt.NDArray[np.datetime64], BoolArray]:
    """Excel 1900-system serials -> datetime64[D], and the mask of serials out of range."""
    with np.errstate(invalid="ignore"):
        ok = (values >= _SERIAL_MIN) & (values < _SERIAL_MAX + 1)
    days = np.where(ok, np.floor(np.where(ok, values, 0.0)), 0).astype(np.int64)
    out = _EXCEL_EPOCH + days.astype("timedelta64[D]")
    out[~ok] = np.datetime64("NaT")
    return out, ~ok & ~np.isnan(values)


def _datetimes_to_days(s: pd.Series[Any]) -> npt.NDArray[np.datetime64]:
    """A datetime64 column (naive or time-zone-aware) -> datetime64[D] of the local date."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    return np.asarray(s.to_numpy(dtype="datetime64[ns]"), dtype="datetime64[D]")


def _one_date(v: Any) -> Any:
    """A date-like object -> datetime64[D] (local date), NaT if it is not date-like."""
    if isinstance(v, pd.Period):
        return np.datetime64(v.start_time.date(), "D")
    if isinstance(v, (dt.date, np.datetime64)):
        stamp = pd.Timestamp(v)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_localize(None)
        return np.datetime64(stamp.date(), "D")
    return np.datetime64("NaT")


def _dates(s: pd.Series[Any], month: bool) -> tuple[npt.NDArray[np.datetime64], BoolArray, BoolArray]:
    """Any column -> (datetime64[us] at midnight, or the 1st of the month; blank; bad)."""
    n = len(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        blank = np.asarray(s.isna(), dtype=bool)
        return np.full(n, np.datetime64("NaT"), dtype=_DATE_UNIT), blank, ~blank
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        days = _datetimes_to_days(s)
        blank = np.isnat(days)
        bad = np.zeros(n, dtype=bool)
    elif pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        days, bad = _serials(values)
        blank = np.isnan(values)
    else:
        arr = s.to_numpy(dtype=object)
        inferred = pd.api.types.infer_dtype(arr, skipna=True)
        missing = _missing(arr)
        if inferred in ("string", "empty") or _is_string_dtype(s):
            days, blank = _string_dates(pd.Series(arr, dtype=object), month)
            bad = ~blank & np.isnat(days)
        else:
            days = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
            converted = False
            if inferred in _DATE_INFERRED:
                try:
                    days = _datetimes_to_days(pd.Series(pd.to_datetime(pd.Series(arr, dtype=object))))
                    converted = True
                except (ValueError, TypeError, OverflowError):  # mixed time zones or out of range: one by one
                    pass
            blank = missing.copy()
            bad = np.zeros(n, dtype=bool)
            if not converted:
                is_str, is_num = _element_types(arr)
                if is_str.any():
                    days[is_str], blank[is_str] = _string_dates(pd.Series(arr[is_str], dtype=object), month)
                numbers = is_num & ~missing
                if numbers.any():
                    days[numbers], _ = _serials(arr[numbers].astype(np.float64))
                others = ~is_str & ~is_num & ~missing
                if others.any():
                    days[others] = [_one_date(v) for v in arr[others]]
                bad = ~blank & np.isnat(days)
    days = days.copy()
    days[bad | blank] = np.datetime64("NaT")
    if month:
        days = days.astype("datetime64[M]").astype("datetime64[D]")
    return days.astype(_DATE_UNIT), blank, bad


def convert_column(spec: ColumnSpec, column: pd.Series[Any]) -> Converted:
    """Convert one column by ``spec``'s rules, all rows at once: typed values, blank cells and bad cells.

    Typed values: ``number`` float64 (NaN missing); ``integer`` pandas ``Int64``; ``bool`` pandas ``boolean``;
    ``date``/``month`` ``datetime64[us]`` at midnight (months on the 1st); ``text``/``label`` object with ``None``.
    Bad cells (wrong type, out of bounds, unknown label) are missing in ``values`` and flagged in ``bad``.
    """
    s = column.reset_index(drop=True)
    values: Any
    if spec.kind in ("number", "integer"):
        numbers, blank, bad = _numbers(s)
        with np.errstate(invalid="ignore"):
            if spec.kind == "integer":
                bad |= (numbers != np.floor(numbers)) | (np.abs(numbers) > 2.0**53)
            if spec.lo is not None:
                bad |= (numbers <= spec.lo) if spec.lo_open else (numbers < spec.lo)
            if spec.hi is not None:
                bad |= (numbers >= spec.hi) if spec.hi_open else (numbers > spec.hi)
        bad &= ~blank
        numbers = numbers.copy()
        numbers[bad | blank] = np.nan
        values = pd.array(numbers, dtype="Int64") if spec.kind == "integer" else numbers
    elif spec.kind == "text":
        values, blank, bad = _texts(s)
    elif spec.kind == "label":
        values, blank, bad = _by_unique(s, _labeller(spec))
    elif spec.kind == "bool":
        if pd.api.types.is_bool_dtype(s.dtype) and not s.hasnans:
            flags = s.to_numpy(dtype=bool)
            return Converted(pd.array(flags, dtype="boolean"), np.zeros(len(s), bool), np.zeros(len(s), bool))
        picked, blank, bad = _by_unique(s, _flag)
        values = pd.array(picked.tolist(), dtype="boolean")
    else:
        values, blank, bad = _dates(s, spec.kind == "month")
    return Converted(values, blank, bad)


def _python_value(value: Any, spec: ColumnSpec) -> Any:
    """One converted cell as the Python value the model field holds."""
    if value is None or value is pd.NA:
        return None
    if spec.kind in ("date", "month"):
        return pd.Timestamp(value).date()
    if spec.kind == "integer":
        return int(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


# --------------------------------------------------------------------------------------------------------------------
# Table loading
# --------------------------------------------------------------------------------------------------------------------


def _header_key(label: Any) -> str:
    """Heading -> field name: case-insensitive, spaces, hyphens and slashes read as ``_`` (``"DAU/MAU"``)."""
    return re.sub(r"[\s\-/]+", "_", str(label).strip().lower())


def _cell(arr: ObjectArray, position: int) -> Any:
    value = arr[position]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


@dataclass(frozen=True)
class LoadResult:
    """A checked table: the valid rows (typed) and every problem found.

    ``frame`` has every model column in model order (typed, see :func:`convert_column`), then the input's other
    columns unchanged; its index, named ``row``, is the sheet row number of each row. Rows with any issue, and rows
    whose model columns are all blank, are left out. ``issues`` is sorted by row, then column order.
    """

    sheet: str
    frame: pd.DataFrame
    issues: list[RowIssue]

    @property
    def ok(self) -> bool:
        """True when no issue was found."""
        return not self.issues

    def raise_for_issues(self) -> pd.DataFrame:
        """Raise :class:`TableError` listing every issue, or return ``frame`` when there is none."""
        if self.issues:
            raise TableError(self.sheet, self.issues)
        return self.frame


def load_table(frame: pd.DataFrame, model: type[BaseModel], *, sheet: str, first_row: int = 2) -> LoadResult:
    """Check a whole table against ``model`` and report every bad cell at once.

    Row numbers: data row at position ``i`` (0-based, the input's index is ignored) is sheet row ``first_row + i``;
    the header is row ``first_row - 1``. Headings match field names ignoring case, with spaces, hyphens and slashes
    read as ``_`` (``"Renewal Date"`` is ``renewal_date``).

    Issues (``csxl.errors.RowIssue``): a bad cell (its rule, e.g. ``a number >= 0``); a blank required cell
    (``filled in (required)``); a broken row rule (``<= goals_defined (3)``); a repeated value in a unique column
    (``unique (first on row 4)``, later occurrences only); a missing required column or a column given twice (one
    issue on the header row). A row whose model columns are all blank is skipped silently (spreadsheets end in blank
    rows). Columns the model does not know are kept, unchecked. A frame with no columns and no rows is an empty table.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError("frame", type(frame).__name__, "a pandas DataFrame")
    specs = column_specs(model)
    order = {name: i for i, name in enumerate(specs)}
    n = len(frame)
    header_row = first_row - 1
    index = pd.Index(np.arange(first_row, first_row + n, dtype=np.int64), name="row")
    found: dict[str, int] = {}
    extras: list[int] = []
    issues: list[tuple[int, int, RowIssue]] = []
    for j, label in enumerate(frame.columns):
        key = _header_key(label)
        if key not in specs:
            extras.append(j)
        elif key in found:
            rule = f"a heading used once (also column {found[key] + 1})"
            issues.append((header_row, order[key], RowIssue(sheet, header_row, key, label, rule)))
        else:
            found[key] = j
    empty_table = n == 0 and len(frame.columns) == 0

    typed: dict[str, Any] = {}
    all_blank = np.ones(n, dtype=bool)
    row_bad = np.zeros(n, dtype=bool)
    # (column, bad rows, rule text: one for the column or one per row)
    problems: list[tuple[str, BoolArray, str | ObjectArray]] = []
    for name, spec in specs.items():
        if name not in found:
            if spec.required and not empty_table:
                rule = "a column of the table (required)"
                issues.append((header_row, order[name], RowIssue(sheet, header_row, name, None, rule)))
                row_bad[:] = True
            typed[name] = convert_column(spec, pd.Series([None] * n, dtype=object)).values
            continue
        converted = convert_column(spec, frame.iloc[:, found[name]])
        typed[name] = converted.values
        all_blank &= converted.blank
        problems.append((name, converted.bad, spec.rule))
        if spec.required:
            problems.append((name, converted.blank, "filled in (required)"))
    rules: tuple[RowRule, ...] = getattr(model, "row_rules", ())
    for row_rule in rules:
        if row_rule.column in found:
            bad, texts = row_rule.check(typed)
            per_row = np.empty(n, dtype=object)
            per_row[bad] = texts
            problems.append((row_rule.column, bad, per_row))
    unique: tuple[str, ...] = getattr(model, "unique_columns", ())
    for name in unique:
        if name in found:
            values = pd.Series(typed[name], dtype=object)
            filled = np.asarray(values.notna(), dtype=bool) & ~all_blank
            repeated = np.asarray(values.duplicated(keep="first"), dtype=bool) & filled
            if repeated.any():
                firsts = filled & ~repeated
                first_row_of = pd.Series(np.flatnonzero(firsts) + first_row, index=values[firsts].to_numpy())
                per_row = np.empty(n, dtype=object)
                where = first_row_of.reindex(values[repeated].to_numpy()).to_numpy()
                per_row[repeated] = [f"unique (first on row {w})" for w in where]
                problems.append((name, repeated, per_row))

    valid = ~all_blank & ~row_bad
    for name, bad, rule_text in problems:
        bad = bad & ~all_blank
        if not bad.any():
            continue
        valid &= ~bad
        raw = frame.iloc[:, found[name]].to_numpy(dtype=object)
        for pos in np.flatnonzero(bad):
            row = first_row + int(pos)
            text = rule_text if isinstance(rule_text, str) else str(rule_text[pos])
            issues.append((row, order[name], RowIssue(sheet, row, name, _cell(raw, int(pos)), text)))

    out = pd.DataFrame(
        {name: pd.Series(values, index=index, dtype=_DTYPE.get(specs[name].kind)) for name, values in typed.items()},
        index=index,
    )
    if extras:
        others = frame.iloc[:, extras].copy()
        others.index = index
        out = pd.concat([out, others], axis=1)
    issues.sort(key=lambda item: (item[0], item[1]))
    return LoadResult(sheet=sheet, frame=out[valid], issues=[issue for _, _, issue in issues])


def load_accounts(frame: pd.DataFrame, sheet: str = "Accounts", first_row: int = 2) -> LoadResult:
    """:func:`load_table` with :class:`AccountRecord` (account names must be unique)."""
    return load_table(frame, AccountRecord, sheet=sheet, first_row=first_row)


def load_mrr(frame: pd.DataFrame, sheet: str = "MRR", first_row: int = 2) -> LoadResult:
    """:func:`load_table` with :class:`MrrRow` (months normalised to the 1st)."""
    return load_table(frame, MrrRow, sheet=sheet, first_row=first_row)


def load_surveys(frame: pd.DataFrame, sheet: str = "Surveys", first_row: int = 2) -> LoadResult:
    """:func:`load_table` with :class:`SurveyResponse` (score range checked per kind)."""
    return load_table(frame, SurveyResponse, sheet=sheet, first_row=first_row)
