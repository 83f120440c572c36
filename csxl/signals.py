"""Raw customer signals rated Red / Yellow / Green, vectorised (a scalar gives a Python scalar, a Series a Series on
the same index, anything else an ndarray).

:func:`signal_rag` rates one signal with the agent spec's "Red/Yellow/Green thresholds per signal"
(``customer-success-agent.md``, HEALTH SCORING MODEL). The thresholds are data in :data:`SIGNALS`, a read-only
registry of :class:`NumericSignal` and :class:`CategoricalSignal` definitions; pass ``thresholds=`` to override one.
The five 0..10 dimension scores built from these signals are :mod:`csxl.dimensions`.

Labels are matched by :func:`csxl.cells.label_key` (case, spaces, hyphens and underscores alike: ``"On-Time"`` ==
``"on time"``). The decisions taken where the spec is silent are listed in ``docs/signals.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from csxl.cells import label_key
from csxl.errors import InputError
from csxl.vectors import FloatArray, Shape, fail, map_distinct, to_float
from csxl.vectors import restore as _restore

__all__ = [
    "COMPARE",
    "RAG",
    "SIGNALS",
    "CategoricalSignal",
    "NumericSignal",
    "Signal",
    "signal_rag",
]

#: The three ratings, worst first; a signal's code 0/1/2 indexes this tuple.
RAG: tuple[str, str, str] = ("Red", "Yellow", "Green")

Op = Literal[">", ">=", "<", "<="]
#: The comparisons a threshold may use (NumPy's, so they work on a value or a whole array); ``==`` for targets.
COMPARE: dict[str, Callable[[Any, float], Any]] = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
    "==": np.equal,
}


# --------------------------------------------------------------------------------------------------------------------
# Signal definitions and the registry
# --------------------------------------------------------------------------------------------------------------------


class NumericSignal(BaseModel):
    """A number rated by two cut-offs ``(op, threshold)``: Green where ``value op threshold`` holds for ``green``, else
    Yellow where it holds for ``yellow``, else Red. E.g. seat adoption ``green=(">", 0.75)``, ``yellow=(">=", 0.25)``.

    ``lo``/``hi`` bound the accepted values (inclusive) and ``integer`` demands whole numbers; values breaking
    them raise :class:`InputError`. Both cut-offs point the same way and Green is a subset of Yellow-or-better.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["numeric"] = "numeric"
    name: str
    meaning: str
    green: tuple[Op, float]
    yellow: tuple[Op, float]
    lo: float | None = None
    hi: float | None = None
    integer: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> NumericSignal:
        (g_op, g), (y_op, y) = self.green, self.yellow
        if g_op[0] != y_op[0]:
            raise ValueError(f"green {self.green} and yellow {self.yellow} must point the same way")
        stricter = g > y if g_op[0] == ">" else g < y
        same_edge_ok = g == y and (y_op.endswith("=") or not g_op.endswith("="))  # yellow keeps the edge if green does
        if not (stricter or same_edge_ok):
            raise ValueError(f"every Green value must also pass yellow: green {self.green}, yellow {self.yellow}")
        if self.lo is not None and self.hi is not None and self.lo > self.hi:
            raise ValueError(f"lo {self.lo} must be <= hi {self.hi}")
        return self

    @property
    def rule(self) -> str:
        """The accepted values, as a message says them (``"0..10"``, ``">= 0"``)."""
        if self.lo is not None and self.hi is not None:
            return f"{self.lo:g}..{self.hi:g}"
        if self.lo is not None:
            return f">= {self.lo:g}"
        if self.hi is not None:
            return f"<= {self.hi:g}"
        return "a number"

    def codes(self, value: Any, field: str | None = None) -> tuple[FloatArray, Shape]:
        """Validate ``value`` and rate it: 0 Red, 1 Yellow, 2 Green, NaN where missing."""
        field = field or self.name
        values, shape = to_float(value, field, lo=self.lo, hi=self.hi, rule=self.rule)
        if self.integer:
            bad = ~np.isnan(values) & (values != np.round(values))
            if bad.any():
                raise fail(field, values, bad, f"a whole number {self.rule}", shape)
        return self.rate(values), shape

    def rate(self, values: FloatArray) -> FloatArray:
        """Rate already-validated floats: 0 Red, 1 Yellow, 2 Green, NaN stays NaN."""
        with np.errstate(invalid="ignore"):
            green = COMPARE[self.green[0]](values, self.green[1])
            yellow = COMPARE[self.yellow[0]](values, self.yellow[1])
        codes = np.where(green, 2.0, np.where(yellow, 1.0, 0.0))
        return np.where(np.isnan(values), np.nan, codes)


class CategoricalSignal(BaseModel):
    """A label rated by lookup: each accepted label belongs to exactly one of ``red``, ``yellow``, ``green``.

    Labels match ignoring case and treating spaces, hyphens and underscores alike. Anything else (another label, a
    number, a boolean) raises :class:`InputError` listing the accepted labels.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["categorical"] = "categorical"
    name: str
    meaning: str
    red: tuple[str, ...]
    yellow: tuple[str, ...]
    green: tuple[str, ...]

    @field_validator("red", "yellow", "green")
    @classmethod
    def _not_blank(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if not labels or any(not label_key(label) for label in labels):
            raise ValueError("each rating needs at least one non-blank label")
        return labels

    @model_validator(mode="after")
    def _unique(self) -> CategoricalSignal:
        keys = [label_key(label) for label in (*self.red, *self.yellow, *self.green)]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a label may belong to one rating only, got {keys}")
        return self

    @property
    def labels(self) -> dict[str, float]:
        """Normalised label -> code (0 Red, 1 Yellow, 2 Green)."""
        return {
            label_key(label): float(code)
            for code, group in enumerate((self.red, self.yellow, self.green))
            for label in group
        }

    @property
    def rule(self) -> str:
        return "one of " + ", ".join((*self.red, *self.yellow, *self.green))

    def codes(self, value: Any, field: str | None = None) -> tuple[FloatArray, Shape]:
        """Validate ``value`` and rate it: 0 Red, 1 Yellow, 2 Green, NaN where missing."""
        lookup = self.labels
        return map_distinct(
            value, field or self.name, self.rule, lambda v: lookup.get(label_key(v)) if isinstance(v, str) else None
        )


Signal = Union[NumericSignal, CategoricalSignal]


def _cat(name: str, meaning: str, red: tuple[str, ...], yellow: tuple[str, ...], green: tuple[str, ...]) -> Signal:
    return CategoricalSignal(name=name, meaning=meaning, red=red, yellow=yellow, green=green)


_DEFINITIONS: tuple[Signal, ...] = (
    NumericSignal(
        name="logins_per_week",
        meaning="average logins per week (Red < 0.5 = fewer than one login in 14 days)",
        green=(">=", 3.0),
        yellow=(">=", 0.5),
        lo=0.0,
    ),
    NumericSignal(
        name="days_since_login",
        meaning="days since the last login (Green <= 2 ~ a login every 7/3 days = 3+/week)",
        green=("<=", 2.0),
        yellow=("<=", 14.0),
        lo=0.0,
    ),
    NumericSignal(
        name="features_adopted",
        meaning="number of features in regular use",
        green=(">=", 4.0),
        yellow=(">=", 2.0),
        lo=0.0,
        integer=True,
    ),
    NumericSignal(
        name="core_action_trend",
        meaning="fractional change of core-action volume, e.g. month over month (-0.35 = down 35 %)",
        green=(">", 0.0),
        yellow=(">=", -0.30),
        lo=-1.0,
    ),
    NumericSignal(
        name="seat_adoption",
        meaning="active seats / purchased seats, a fraction",
        green=(">", 0.75),
        yellow=(">=", 0.25),
        lo=0.0,
        hi=1.0,
    ),
    _cat("integration", "integration health", ("disconnected", "none"), ("partial",), ("connected", "fully connected")),
    _cat("support", "support ticket pattern", ("escalations", "escalated"), ("normal",), ("low", "positive")),
    _cat("outreach_response", "response to CSM outreach", ("none", "no response"), ("delayed",), ("prompt",)),
    _cat("champion", "champion strength", ("none", "left"), ("weak", "new"), ("strong",)),
    NumericSignal(
        name="contacts",
        meaning="number of engaged contacts at the account (multi-threading)",
        green=(">=", 4.0),
        yellow=(">=", 2.0),
        lo=0.0,
        integer=True,
    ),
    _cat("exec_sponsor", "executive sponsor", ("none",), ("identified",), ("engaged",)),
    _cat("payment", "payment status", ("failed", "overdue", "delinquent"), ("late",), ("on-time", "current")),
    _cat("contract_trend", "contract value trend", ("downgraded",), ("flat",), ("expanded",)),
    _cat(
        "login_trend",
        "login trend (simple-points engagement)",
        ("down", "declining"),
        ("flat", "stable"),
        ("up", "growing"),
    ),
    NumericSignal(
        name="nps",
        meaning="the account's likelihood-to-recommend answer",
        green=(">=", 9.0),
        yellow=(">=", 7.0),
        lo=0.0,
        hi=10.0,
        integer=True,
    ),
)

#: The signal registry: name -> definition, read-only. Copy a definition with ``model_copy(update=...)`` to change it.
SIGNALS: Mapping[str, Signal] = MappingProxyType({d.name: d for d in _DEFINITIONS})


def _definition(signal: str, thresholds: Signal | Mapping[str, Any] | None) -> Signal:
    key = signal.strip().lower() if isinstance(signal, str) else None
    if key is None or key not in SIGNALS:
        raise InputError("signal", signal, f"one of {', '.join(SIGNALS)}")
    base = SIGNALS[key]
    if thresholds is None:
        return base
    if isinstance(thresholds, (NumericSignal, CategoricalSignal)):
        return thresholds
    if not isinstance(thresholds, Mapping):
        raise InputError("thresholds", thresholds, "a signal definition, a mapping of fields to change, or None")
    try:
        return type(base).model_validate({**base.model_dump(), **thresholds})
    except ValidationError as err:
        errors = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'definition'}: {e['msg']}" for e in err.errors())
        raise InputError("thresholds", dict(thresholds), f"valid for {base.name}", detail=errors) from None


def signal_rag(signal: str, value: Any, thresholds: Signal | Mapping[str, Any] | None = None) -> Any:
    """Rate ``value`` of ``signal`` ``"Red"``, ``"Yellow"`` or ``"Green"`` (agent spec thresholds, see :data:`SIGNALS`).

    ``value`` is a scalar (-> ``str``, or ``None`` if missing), a sequence/ndarray (-> object ndarray of labels and
    ``None``) or a Series (-> Series on the same index). ``thresholds`` overrides the registry entry: either a full
    :class:`NumericSignal` / :class:`CategoricalSignal`, or a mapping of fields to change, e.g.
    ``signal_rag("nps", 8, thresholds={"green": (">=", 8)})``.

    Raises :class:`InputError` for an unknown signal (listing the valid names), invalid overrides, text where a number
    is expected, values out of range, fractional counts and unknown labels.
    """
    definition = _definition(signal, thresholds)
    codes, shape = definition.codes(value, field=signal.strip().lower())
    labels = _LABELS[np.where(np.isnan(codes), 0, codes + 1).astype(np.intp)]
    if shape.index is not None:  # keep object dtype: None stays None (pandas would infer str and turn it into NaN)
        return pd.Series(labels, index=shape.index, name=shape.name, dtype=object)
    return _restore(labels, shape)


_LABELS = np.array([None, *RAG], dtype=object)
