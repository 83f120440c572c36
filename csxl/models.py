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

import ast
import datetime as dt
import functools
import types
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Union, get_args, get_origin

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from typing_extensions import Self

from csxl.columns import ColumnKind, ColumnSpec, convert_column, format_number, python_value
from csxl.errors import RowIssue, TableError

__all__ = [
    "ACCOUNT_COLUMNS",
    "CHURN_REASONS",
    "MRR_COLUMNS",
    "SURVEY_COLUMNS",
    "SURVEY_SCALES",
    "AccountRecord",
    "AtMost",
    "InRangeFor",
    "MrrRow",
    "Record",
    "RowRule",
    "SurveyResponse",
    "column_names",
    "column_specs",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

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
        return bad, [f"<= {self.limit} ({format_number(v)})" for v in b[bad]]


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


def _literal(text: str) -> Any:
    """A value as a message showed it (``repr``), back as the value; the text itself when it is not a literal."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text or None


def _record_error(model: type[BaseModel], exc: ValidationError) -> TableError:
    """A pydantic error of one record as csxl's :class:`TableError`: one :class:`RowIssue` per bad cell (row 1)."""
    issues: list[RowIssue] = []
    for error in exc.errors():
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        column = str(error["loc"][0]) if error.get("loc") else ""
        for part in message.split("; "):
            name, _, rest = part.partition(" must be ") if not column else (column, "", part.removeprefix("must be "))
            rule, _, shown = rest.rpartition(", got ") if ", got " in rest else (rest, "", "")
            value = error.get("input") if column else _literal(shown)
            issues.append(RowIssue(model.__name__, 1, name or "record", value, rule or rest))
    return TableError(model.__name__, issues)


class Record(BaseModel):
    """Base of the input records: frozen, extra keys ignored, every cell converted by the table loader's rules.

    A bad record raises :class:`csxl.errors.TableError` (an :class:`InputError`) listing every bad cell, whether it
    is built (``AccountRecord(...)``) or validated (``AccountRecord.model_validate({...})``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _record_error(type(self), exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:  # pydantic validates through __init__, which already made the csxl error
            inner = [e.get("ctx", {}).get("error") for e in exc.errors()]
            if len(inner) == 1 and isinstance(inner[0], TableError):
                raise inner[0] from None
            raise _record_error(cls, exc) from None

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
        return python_value(converted.values[0], spec)

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
    domain: str | None = _field(
        "the company's web domain (contoso.com): imports match billing, events, surveys and tickets by it"
    )
    crm_id: str | None = _field(
        "the account's record id in your CRM (HubSpot Record ID, Salesforce Account ID): imports match by it first"
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
