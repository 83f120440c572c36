"""The health models: simple points, the weighted 0..100 health score, its tiers, the explanation and churn tiers.

Every function is vectorised: a scalar gives a Python scalar, a Series (or a table) gives a Series on the same index,
anything else gives an ndarray; labels come back as ``str`` / object arrays with ``None`` where the input is missing.

* :func:`simple_points` / :func:`simple_tier`: the agent spec's Model 1 (five dimensions, 0/1/2 points each, total
  0..10; Green 8-10, Yellow 5-7, Red 0-4).
* :func:`health_score`: the weighted model, ``score = 10 * sum(w_d * s_d) / sum(w_d)`` over the dimensions ``d`` that
  are present for the account, each ``s_d`` a 0..10 dimension score, result 0..100. Two presets (``"engine"``,
  ``"growth"``) from :mod:`csxl.settings`, or your own weights.
* :func:`health_tier`: Thriving / Healthy / At-Risk / Critical (``"engine"``) or Green / Yellow / Red (``"growth"``),
  ``score >= bound`` with no rounding first.
* :func:`explain_health` / :func:`main_risk`: which dimension costs an account the most points.
* :func:`churn_tier`: Low / Medium / High / Critical on a churn probability (agent spec Model 3).

The decisions taken where the spec is silent are listed in ``docs/health.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.cells import is_number
from csxl.errors import InputError
from csxl.settings import (
    CHURN_TIERS,
    DIMENSIONS,
    SIMPLE_TIERS,
    TierScheme,
    resolve_tier_scheme,
    resolve_weights,
)
from csxl.vectors import FloatArray, Shape, array_of, combine, fail, map_distinct, restore, shape_of, to_float

__all__ = [
    "SIMPLE_DIMENSIONS",
    "churn_tier",
    "explain_health",
    "health_score",
    "health_tier",
    "main_risk",
    "simple_points",
    "simple_tier",
]

Weights = Union[str, Mapping[str, float]]

#: The five dimensions of the simple-points model (agent spec, Model 1), in argument order.
SIMPLE_DIMENSIONS: tuple[str, ...] = ("usage", "engagement", "relationship", "financial", "sentiment")

_POINT_LABELS: dict[str, float] = {"red": 0.0, "yellow": 1.0, "green": 2.0, "0": 0.0, "1": 1.0, "2": 2.0}
_POINT_RULE = "one of 0, 1, 2, Red, Yellow, Green"


# --------------------------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------------------------


def _labels_out(
    codes: npt.NDArray[np.intp], missing: npt.NDArray[np.bool_], labels: tuple[str, ...], shape: Shape
) -> Any:
    """Turn label codes into str / object ndarray / object Series, ``None`` where ``missing``."""
    table = np.array([*labels, None], dtype=object)
    out = table[np.where(missing, len(labels), codes)]
    if shape.index is not None:  # keep object dtype: None must stay None
        return pd.Series(out, index=shape.index, name=shape.name, dtype=object)
    return restore(out, shape)


def _point_of(v: Any) -> float | None:
    """One simple-points value -> 0.0/1.0/2.0, or None when it is not allowed."""
    if isinstance(v, str):
        return _POINT_LABELS.get(v.strip().lower())
    if is_number(v) and float(v) in (0.0, 1.0, 2.0):
        return float(v)
    return None


def _points(x: Any, field: str) -> tuple[FloatArray, Shape]:
    """Convert one simple-points argument to 0.0/1.0/2.0 (NaN where missing), raising for anything else."""
    shape = shape_of(x)
    arr = array_of(x, field)
    raw = arr.reshape(-1)
    if raw.dtype.kind in "iuf":  # fast path: numbers, no Python loop
        out = raw.astype(np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(out) & (out != 0.0) & (out != 1.0) & (out != 2.0)
        if bad.any():
            raise fail(field, raw, bad, _POINT_RULE, shape)
        return out, shape
    return map_distinct(x, field, _POINT_RULE, _point_of)


def _tier_codes(values: FloatArray, bounds: tuple[tuple[str, float], ...]) -> npt.NDArray[np.intp]:
    """Index into ``bounds`` (best first) of the first tier with ``value >= bound``; NaN gets an arbitrary code."""
    ascending = np.array([b for _, b in reversed(bounds)], dtype=np.float64)
    position = np.searchsorted(ascending, values, side="right") - 1  # last ascending bound <= value
    position = np.clip(position, 0, len(bounds) - 1)
    return (len(bounds) - 1 - position).astype(np.intp)


# --------------------------------------------------------------------------------------------------------------------
# Model 1: simple points
# --------------------------------------------------------------------------------------------------------------------


def simple_points(usage: Any, engagement: Any, relationship: Any, financial: Any, sentiment: Any) -> Any:
    """Simple-points total (agent spec, Model 1): ``usage + engagement + relationship + financial + sentiment``.

    Each argument is 0, 1 or 2 points, or a label ``"Red"`` (0), ``"Yellow"`` (1), ``"Green"`` (2), case-insensitive;
    numbers may be floats (``2.0``) or numeric text (``"2"``). The total is 0..10 points.

    Missing values (``None``, ``NaN``, blank text): a missing dimension makes that account's total missing (a
    partial total would look like a bad score). Scalars give an ``int``, or ``None`` when missing. Arrays give an
    ``int64`` ndarray / Series; when any total is missing the result is ``float64`` with ``NaN`` there (as pandas does
    for integer columns with gaps). Single values broadcast against arrays; Series must share one index.

    Raises :class:`InputError` naming the argument for any other value, e.g.
    ``usage must be one of 0, 1, 2, Red, Yellow, Green, got 3``.
    """
    args = (usage, engagement, relationship, financial, sentiment)
    parts, shape = combine(*[_points(x, name) for name, x in zip(SIMPLE_DIMENSIONS, args, strict=True)])
    total = parts[0] + parts[1] + parts[2] + parts[3] + parts[4]
    missing = np.isnan(total)
    if shape.scalar:
        return None if bool(missing[0]) else int(total[0])
    out: npt.NDArray[Any] = total if missing.any() else total.astype(np.int64)
    if shape.index is not None:
        return pd.Series(out, index=shape.index, name="simple_points")
    return out


def simple_tier(points: Any, *, green: int = 8, yellow: int = 5) -> Any:
    """Simple-model tier: ``"Green"`` for ``points >= green`` (8-10), ``"Yellow"`` for ``points >= yellow`` (5-7),
    else ``"Red"`` (0-4) (agent spec, Model 1; the defaults are :data:`csxl.settings.SIMPLE_TIERS`).

    ``points`` must be a whole number 0..10 (``7.0`` is fine, ``7.5`` raises): the model only produces whole points
    and the spec's bands leave no room for fractions. Missing points give ``None``. ``green`` and ``yellow`` must be
    whole numbers with ``0 < yellow < green <= 10``.
    """
    for name, value in (("green", green), ("yellow", yellow)):
        if not is_number(value) or not 0 < value <= 10 or float(value) != round(value):
            raise InputError(name, value, "a whole number 1..10")
    if not yellow < green:
        raise InputError("yellow", yellow, f"below green ({green})")
    values, shape = to_float(points, "points", lo=0.0, hi=10.0, rule="a whole number 0..10")
    with np.errstate(invalid="ignore"):
        fractional = ~np.isnan(values) & (values != np.round(values))
    if fractional.any():
        raise fail("points", values, fractional, "a whole number 0..10", shape)
    if (green, yellow) == (8, 5):
        scheme = SIMPLE_TIERS
    else:
        scheme = TierScheme(name="simple", bounds=(("Green", float(green)), ("Yellow", float(yellow)), ("Red", 0.0)))
    return _labels_out(_tier_codes(values, scheme.bounds), np.isnan(values), scheme.labels, shape)


# --------------------------------------------------------------------------------------------------------------------
# Model 2: weighted health score
# --------------------------------------------------------------------------------------------------------------------


def _columns(scores: Any) -> tuple[dict[str, Any], pd.Index | None]:
    """The dimension columns of ``scores`` keyed by normalised name, and the table's index for a DataFrame."""
    if isinstance(scores, pd.DataFrame):
        items: list[tuple[Any, Any]] = list(scores.items())
        index: pd.Index | None = scores.index
    elif isinstance(scores, (pd.Series, Mapping)):  # a Series is one account: its index holds the dimension names
        items, index = list(scores.items()), None
    else:
        raise InputError("scores", type(scores).__name__, "a mapping of dimension -> score, or a table")
    columns: dict[str, Any] = {}
    for key, value in items:
        name = str(key).strip().lower()
        if name in columns and name in DIMENSIONS:
            raise InputError("scores", key, f"named once (two columns mean {name})")
        columns[name] = value
    return columns, index


class _Model:
    """The weighted model for ``n`` accounts: one float array per weighted dimension (NaN where missing)."""

    def __init__(self, scores: Any, weights: Weights) -> None:
        resolved = resolve_weights(weights)
        self.dims: tuple[str, ...] = tuple(d for d in DIMENSIONS if d in resolved)  # display order
        self.weights: dict[str, float] = {d: resolved[d] for d in self.dims}
        columns, index = _columns(scores)
        present = [d for d in self.dims if d in columns]
        if not present:
            raise InputError(
                "scores", sorted(columns), f"a mapping or table naming at least one of {', '.join(self.dims)}"
            )
        converted = [to_float(columns[d], d, lo=0.0, hi=10.0) for d in present]
        if index is not None:  # a table: every column already has the table's length
            arrays = [values for values, _ in converted]
            self.shape = Shape(False, index, "health_score")
        else:
            arrays, shape = combine(*converted)
            self.shape = Shape(False, shape.index, "health_score") if shape.index is not None else shape
        self.n = len(index) if index is not None else arrays[0].size
        #: the present dimensions' scores (a dimension absent from ``scores`` has no entry: missing everywhere)
        self.values: dict[str, FloatArray] = dict(zip(present, arrays, strict=True))
        self.known: dict[str, npt.NDArray[np.bool_]] = {d: ~np.isnan(v) for d, v in self.values.items()}
        # sum of the weights of the dimensions present, per account; 0 -> nothing to score with
        self.denominator: FloatArray = np.zeros(self.n)
        for d, known in self.known.items():
            self.denominator += self.weights[d] * known
        empty = self.denominator <= 0.0
        if empty.any():
            names = ", ".join(d for d in self.dims if self.weights[d] > 0)
            raise fail("scores", np.full(self.n, np.nan), empty, f"filled for at least one of {names}", self.shape)

    def effective_weight(self, dim: str) -> FloatArray:
        """``dim``'s weight re-normalised per account over the dimensions present (0 where it is missing)."""
        if dim not in self.known:
            return np.zeros(self.n)
        return np.asarray(self.weights[dim] * self.known[dim] / self.denominator, dtype=np.float64)

    def score(self) -> FloatArray:
        """``10 * sum(w_d * s_d) / sum(w_d)`` over the present dimensions, clipped to 0..100 against rounding."""
        numerator = np.zeros(self.n)
        for d, values in self.values.items():
            numerator += self.weights[d] * np.where(self.known[d], values, 0.0)
        return np.asarray(np.clip(10.0 * numerator / self.denominator, 0.0, 100.0), dtype=np.float64)

    def lost(self) -> FloatArray:
        """Points lost against a perfect 10, ``10 * w_eff * (10 - s)``: one row per weighted dimension, 0 if missing."""
        out = np.zeros((len(self.dims), self.n))
        for i, d in enumerate(self.dims):
            if d in self.values:
                out[i] = np.where(self.known[d], 10.0 * self.effective_weight(d) * (10.0 - self.values[d]), 0.0)
        return out


def health_score(scores: Any, weights: Weights = "engine") -> Any:
    """Weighted health score 0..100: ``score = 10 * sum(w_d * s_d) / sum(w_d)`` over the dimensions present.

    ``scores`` maps dimension name -> 0..10 score (scalars, arrays or Series), or is a DataFrame with one column per
    dimension (-> Series on the frame's index, named ``health_score``). A Series is read as one account whose index
    holds the dimension names. Names match ignoring case and surrounding spaces.

    ``weights`` is a preset name (``"engine"``: usage .30, engagement .20, relationship .15, outcomes .20, financial
    .15; ``"growth"``: usage .40, engagement .25, relationship .20, financial .15) or a mapping, normalised to sum 1
    (:func:`csxl.settings.resolve_weights`).

    Missing data: a dimension that is missing for an account (``None``/``NaN``), or absent from ``scores`` altogether,
    is left out and the remaining weights re-normalised for that account. An account with no weighted dimension
    present raises :class:`InputError` saying which row; so does a ``scores`` that names none of the weighted
    dimensions. Columns the weights do not name (other dimensions, ids, notes) are ignored. Scores outside 0..10, text
    and booleans raise :class:`InputError`. No rounding; results are clipped to 0..100 to absorb float noise.
    """
    fast = _scalar_score(scores, weights)
    if fast is not None:
        return fast
    model = _Model(scores, weights)
    return restore(model.score(), model.shape)


def _plain_number(v: Any) -> bool:
    return v is None or (type(v) in (float, int, np.float64) and not isinstance(v, bool))


def _scalar_score(scores: Any, weights: Weights) -> float | None:
    """The same formula for one account given as plain numbers (the spreadsheet's usual call), without arrays.

    Returns ``None`` when ``scores`` is not a mapping of plain numbers/blanks, so the general path decides (and
    reports). Errors are the general path's errors, word for word (``tests/test_health.py`` checks both agree).
    """
    if type(scores) is not dict or not all(_plain_number(v) for v in scores.values()):
        return None
    resolved = resolve_weights(weights)
    given: dict[str, Any] = {}
    for key, value in scores.items():
        name = str(key).strip().lower()
        if name in given or name not in resolved:
            return None  # duplicates and extra columns: the general path handles (and words) them
        given[name] = value
    values: dict[str, float] = {}
    for name in DIMENSIONS:  # the general path's order: same first error, same summation order
        value = given.get(name)
        if name not in given or value is None or value != value:
            continue
        number = float(value)
        if not 0.0 <= number <= 10.0:
            raise InputError(name, value, "0..10")
        values[name] = number
    denominator = 0.0
    numerator = 0.0
    for d, v in values.items():
        denominator += resolved[d]
        numerator += resolved[d] * v
    if denominator <= 0.0:
        return None
    return float(min(max(10.0 * numerator / denominator, 0.0), 100.0))


def health_tier(score: Any, scheme: Union[str, TierScheme] = "engine") -> Any:
    """Tier of a 0..100 health score: the first tier whose lower bound the score reaches (``score >= bound``).

    ``"engine"``: Thriving >= 80, Healthy >= 60, At-Risk >= 40, else Critical. ``"growth"``: Green >= 80,
    Yellow >= 50, else Red. A :class:`csxl.settings.TierScheme` of your own is accepted too. The score is compared as
    it is, **not rounded**: 79.999 is Healthy (so a score displayed as "80" may be 79.96 and still Healthy). Missing
    scores give ``None``; scores outside 0..100 raise :class:`InputError`. For 0..10 simple points use
    :func:`simple_tier`.
    """
    resolved = resolve_tier_scheme(scheme)
    if resolved is SIMPLE_TIERS:
        raise InputError("scheme", scheme, "a 0..100 tier scheme (engine, growth or a TierScheme); use simple_tier")
    values, shape = to_float(score, "health score", lo=0.0, hi=100.0)
    return _labels_out(_tier_codes(values, resolved.bounds), np.isnan(values), resolved.labels, shape)


def explain_health(scores: Any, weights: Weights = "engine") -> pd.DataFrame:
    """Why one account scores what it scores: a table indexed by dimension, the biggest loss first.

    ``scores`` is one account: a mapping dimension -> 0..10 score, a Series indexed by dimension, or a one-row
    DataFrame. Columns:

    * ``score``: the 0..10 dimension score (``NaN`` when missing);
    * ``weight``: the effective weight after re-normalisation over the present dimensions (0 when missing);
    * ``points``: points contributed to the 0..100 health score, ``10 * weight * score``;
    * ``lost``: points lost against a perfect 10, ``10 * weight * (10 - score)``.

    ``points`` sums to :func:`health_score` and ``points + lost`` sums to 100. Every weighted dimension has a row
    (missing ones with 0 points and 0 lost); dimensions the weights do not name are left out. Rows are sorted by
    ``lost``, largest first; ties keep the display order of :data:`csxl.settings.DIMENSIONS`, missing rows last.
    """
    model = _Model(scores, weights)
    if model.n != 1:
        raise InputError("scores", f"{model.n} accounts", "one account (use main_risk for many)")
    nan = np.array([np.nan])
    score = np.array([model.values.get(d, nan)[0] for d in model.dims])
    weight = np.array([model.effective_weight(d)[0] for d in model.dims])
    known = ~np.isnan(score)
    points = np.where(known, 10.0 * weight * np.nan_to_num(score), 0.0)
    lost = model.lost()[:, 0]
    order = np.lexsort((np.arange(len(model.dims)), ~known, -lost))
    table = pd.DataFrame(
        {"score": score, "weight": weight, "points": points, "lost": lost},
        index=pd.Index(model.dims, name="dimension"),
    )
    result: pd.DataFrame = table.iloc[order]
    return result


def main_risk(scores: Any, weights: Weights = "engine") -> Any:
    """The dimension losing the most points per account (largest ``10 * w_eff * (10 - s)``, see :func:`explain_health`).

    Takes what :func:`health_score` takes and answers in the same shape (a table gives a Series of dimension names on
    its index). Ties go to the dimension first in :data:`csxl.settings.DIMENSIONS` order (usage, engagement,
    relationship, outcomes, financial, sentiment). An account losing no points at all (every present dimension at
    10) gets ``None``: there is no risk to name. Same errors as :func:`health_score`.
    """
    model = _Model(scores, weights)
    lost = model.lost()
    codes = np.argmax(lost, axis=0).astype(np.intp)  # first maximum: ties go to the earlier dimension
    nothing_lost = lost.max(axis=0) <= 0.0
    shape = Shape(False, model.shape.index, "main_risk") if model.shape.index is not None else model.shape
    return _labels_out(codes, nothing_lost, model.dims, shape)


# --------------------------------------------------------------------------------------------------------------------
# Model 3: churn probability tiers
# --------------------------------------------------------------------------------------------------------------------


def churn_tier(probability: Any) -> Any:
    """Tier of a churn probability (a fraction 0..1, next 90 days; agent spec, Model 3).

    ``"Low"`` [0, .2), ``"Medium"`` [.2, .5), ``"High"`` [.5, .8], ``"Critical"`` (.8, 1]: the spec's "High 50-80 %"
    includes 80 %, so exactly .8 is High and anything above it Critical; .5 is High and .2 Medium. No rounding:
    ``0.3 - 0.1`` is 0.19999999999999998 and therefore Low. Missing gives ``None``; a value outside 0..1 (such as a
    percentage, 80) raises :class:`InputError`. The edges are :data:`csxl.settings.CHURN_TIERS`.
    """
    values, shape = to_float(probability, "churn probability", lo=0.0, hi=1.0, rule="a fraction 0..1")
    (_, low), (_, medium), (_, high), _ = CHURN_TIERS
    with np.errstate(invalid="ignore"):
        codes = (values >= low).astype(np.intp) + (values >= medium) + (values > high)
    return _labels_out(codes, np.isnan(values), tuple(label for label, _ in CHURN_TIERS), shape)
