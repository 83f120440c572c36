"""Presets: the spec's weights, tier schemes and thresholds, as data a user can change.

Two source documents of the spec disagree on the health model; csxl ships both as named presets:

* ``"engine"`` (``customer-success-engine.md``, Phase 1): five dimensions, usage 30 %, engagement 20 %,
  relationship 15 %, outcomes 20 %, financial 15 %; tiers Thriving >= 80, Healthy >= 60, At-Risk >= 40, Critical.
* ``"growth"`` (``customer-success-agent.md``, Model 2 "Weighted Score"): usage 40 %, engagement 25 %,
  relationship 20 %, financial 15 %; tiers Green >= 80, Yellow >= 50, Red.

A user passes a preset name or their own mapping / :class:`TierScheme` anywhere a preset is accepted.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from csxl.errors import InputError

__all__ = [
    "CHURN_TIERS",
    "DIMENSIONS",
    "HEALTH_WEIGHTS",
    "INSUFFICIENT_DATA",
    "RATE_CURRENCIES",
    "SEGMENT_BANDS",
    "SIMPLE_NUMERIC_SIGNALS",
    "SIMPLE_TIERS",
    "TIER_SCHEMES",
    "Settings",
    "TierScheme",
    "min_coverage",
    "resolve_tier_scheme",
    "resolve_weights",
]

#: The health dimensions csxl knows, in display order. "sentiment" is the agent document's fifth dimension.
DIMENSIONS: tuple[str, ...] = ("usage", "engagement", "relationship", "outcomes", "financial", "sentiment")

#: ARR bands of the customer segments, lowest ARR of each (currency per year), engine spec Phase 3 "Touch Cadence by
#: Tier": Enterprise $100K+, Mid-Market $25-100K, SMB $5-25K, Self-Serve <$5K. A blank segment cell takes its band.
SEGMENT_BANDS: Mapping[str, float] = MappingProxyType(
    {"enterprise": 100_000.0, "mid-market": 25_000.0, "smb": 5_000.0, "self-serve": 0.0}
)

#: Named weight presets (fractions; each sums to 1).
HEALTH_WEIGHTS: dict[str, dict[str, float]] = {
    "engine": {"usage": 0.30, "engagement": 0.20, "relationship": 0.15, "outcomes": 0.20, "financial": 0.15},
    "growth": {"usage": 0.40, "engagement": 0.25, "relationship": 0.20, "financial": 0.15},
}


#: The tier of an account whose data covers too few dimensions to be rated (:func:`min_coverage`): unknown is not bad,
#: so such an account is neither healthy nor at risk until its data is filled in.
INSUFFICIENT_DATA = "Insufficient data"


def min_coverage(dimensions: int) -> int:
    """The fewest scored dimensions a health tier needs: half of the preset's, rounded up (engine 3 of 5, growth 2 of
    4). With fewer, the weighted score is still shown (re-weighted over what is known) but the tier is
    :data:`INSUFFICIENT_DATA`: one known bad dimension must not make an account Critical."""
    return max(1, -(-dimensions // 2))


class TierScheme(BaseModel):
    """Tiers as lower bounds, best first: a score gets the first tier whose bound it reaches (``score >= bound``).

    The last tier's bound must be 0 so that every score in 0..100 has a tier.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    bounds: tuple[tuple[str, float], ...] = Field(min_length=2)

    @field_validator("bounds")
    @classmethod
    def _descending(cls, bounds: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
        values = [b for _, b in bounds]
        if any(a <= b for a, b in pairwise(values)):
            raise ValueError(f"tier bounds must strictly decrease, got {values}")
        if values[-1] != 0:
            raise ValueError(f"the last tier must start at 0, got {values[-1]}")
        if len({label for label, _ in bounds}) != len(bounds):
            raise ValueError("tier labels must be unique")
        return bounds

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self.bounds)


TIER_SCHEMES: dict[str, TierScheme] = {
    "engine": TierScheme(
        name="engine", bounds=(("Thriving", 80.0), ("Healthy", 60.0), ("At-Risk", 40.0), ("Critical", 0.0))
    ),
    "growth": TierScheme(name="growth", bounds=(("Green", 80.0), ("Yellow", 50.0), ("Red", 0.0))),
}

#: Simple-points model (agent document, Model 1): Green 8-10, Yellow 5-7, Red 0-4 (lower bounds on 0..10 points).
SIMPLE_TIERS = TierScheme(name="simple", bounds=(("Green", 8.0), ("Yellow", 5.0), ("Red", 0.0)))

#: Predictive model tiers on churn probability (agent document, Model 3). Bounds are *upper* edges:
#: Low [0, .2), Medium [.2, .5), High [.5, .8], Critical (.8, 1]. Note .8 itself is High (the spec says 50-80 %).
CHURN_TIERS: tuple[tuple[str, float], ...] = (("Low", 0.2), ("Medium", 0.5), ("High", 0.8), ("Critical", 1.0))


def resolve_weights(weights: Union[str, Mapping[str, float]]) -> dict[str, float]:
    """Turn a preset name or a mapping into normalised weights (summing to 1).

    Raises :class:`InputError` for an unknown preset, an unknown dimension, a negative or non-finite weight, or
    weights that are all zero.
    """
    if isinstance(weights, str):
        key = weights.strip().lower()
        if key not in HEALTH_WEIGHTS:
            raise InputError("weights", weights, f"a preset ({', '.join(sorted(HEALTH_WEIGHTS))}) or a mapping")
        return dict(HEALTH_WEIGHTS[key])
    if not isinstance(weights, Mapping):
        raise InputError(
            "weights", type(weights).__name__, f"a preset ({', '.join(sorted(HEALTH_WEIGHTS))}) or a mapping"
        )
    raw: dict[str, float] = {}
    for dim, w in weights.items():
        name = str(dim).strip().lower()
        if name not in DIMENSIONS:
            raise InputError("weights", dim, f"a dimension ({', '.join(DIMENSIONS)})")
        try:
            value = float(w)
        except (TypeError, ValueError):
            raise InputError(f"weight of {name}", w, "a number >= 0") from None
        if not value >= 0 or value == float("inf"):
            raise InputError(f"weight of {name}", w, "a finite number >= 0")
        raw[name] = value
    total = sum(raw.values())
    if total <= 0:
        raise InputError("weights", dict(weights), "at least one weight > 0")
    return {dim: w / total for dim, w in raw.items()}


def resolve_tier_scheme(scheme: Union[str, TierScheme]) -> TierScheme:
    """A preset name (``"engine"``, ``"growth"``, ``"simple"``) or a :class:`TierScheme` of your own."""
    if isinstance(scheme, TierScheme):
        return scheme
    key = str(scheme).strip().lower()
    if key == "simple":
        return SIMPLE_TIERS
    if key not in TIER_SCHEMES:
        raise InputError("scheme", scheme, f"a tier scheme ({', '.join(sorted([*TIER_SCHEMES, 'simple']))})")
    return TIER_SCHEMES[key]


#: Currencies with a rate cell on the Settings sheet (the most used for SaaS billing; the command line takes others).
RATE_CURRENCIES: tuple[str, ...] = (
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "JPY", "SGD", "INR", "BRL",
)  # fmt: skip

#: Simple-points signals whose cut-offs live on the Settings sheet: signal -> (Accounts column, dimension).
SIMPLE_NUMERIC_SIGNALS: tuple[str, ...] = ("logins_per_week", "contacts", "nps")


class Settings(BaseModel):
    """Everything a computation reads from a workbook's Settings sheet, with the spec's defaults.

    ``weights`` ``None`` means the preset's weights; a mapping is normalised (see :func:`resolve_weights`).
    ``tier_bounds`` maps a scheme name to its lower bounds (best tier first, the last tier starts at 0);
    ``simple_cutoffs`` maps a simple-points signal to its (green, yellow) cut-offs; ``simple_labels`` maps a label
    signal (``payment``, ``login_trend``) to the points (0, 1 or 2) of the labels whose points differ from the
    registry's (label keys, :func:`csxl.cells.label_key`); ``simple_tiers`` is the (green, yellow) lower bounds on
    0..10 points. ``as_of`` ``None`` means today. ``rates``: units of ``currency`` per one unit of each other
    currency, one rate per currency for every month (so exchange rates never move MRR; :mod:`csxl.billing`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str = "engine"
    weights: dict[str, float] | None = None
    tier_bounds: dict[str, tuple[tuple[str, float], ...]] = Field(
        default_factory=lambda: {name: scheme.bounds for name, scheme in TIER_SCHEMES.items()}
    )
    simple_cutoffs: dict[str, tuple[float, float]] = Field(default_factory=dict)
    simple_labels: dict[str, dict[str, int]] = Field(default_factory=dict)
    simple_tiers: tuple[int, int] = (8, 5)
    as_of: _dt.date | None = None
    currency: str = "USD"
    rates: dict[str, float] = Field(default_factory=dict)

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        key = value.strip().lower()
        if key not in HEALTH_WEIGHTS:
            raise ValueError(f"preset must be one of {', '.join(HEALTH_WEIGHTS)}, got {value!r}")
        return key

    @field_validator("simple_labels")
    @classmethod
    def _simple_labels(cls, value: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        for signal, points in value.items():
            bad = {label: p for label, p in points.items() if p not in (0, 1, 2)}
            if bad:
                raise ValueError(f"simple_labels[{signal!r}] points must be 0, 1 or 2, got {bad!r}")
        return value

    @field_validator("simple_tiers")
    @classmethod
    def _simple_tiers(cls, value: tuple[int, int]) -> tuple[int, int]:
        green, yellow = value
        if not 0 < yellow < green <= 10:
            raise ValueError(f"simple_tiers must be (green, yellow) with 0 < yellow < green <= 10, got {value!r}")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"currency must be a 3-letter ISO code such as USD, got {value!r}")
        return code

    @field_validator("rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {code: rate for code, rate in value.items() if not (0 < rate < float("inf")) or len(code) != 3}
        if bad:
            raise ValueError(f"rates must be positive numbers by 3-letter currency code, got {bad!r}")
        return {code.upper(): float(rate) for code, rate in value.items()}

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:  # every bad setting at once, as a csxl error naming the field and the value
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "settings"
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InputError(field, first.get("input"), "a valid setting", detail=problems) from None

    def resolved_weights(self) -> dict[str, float]:
        """The normalised weights in force: the user's own, or the preset's."""
        return resolve_weights(self.weights if self.weights else self.preset)

    def scheme(self) -> TierScheme:
        """The tier scheme of the preset, with the workbook's bounds."""
        bounds = self.tier_bounds.get(self.preset, TIER_SCHEMES[self.preset].bounds)
        return TierScheme(name=self.preset, bounds=bounds)

    def on(self, today: _dt.date | None = None) -> _dt.date:
        """The as-of date: the setting, else ``today`` (else the system date)."""
        return self.as_of or today or _dt.date.today()
