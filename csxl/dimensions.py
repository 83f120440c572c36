"""The five dimension scores 0..10 (engine spec Phase 1): usage, engagement, relationship, outcomes, financial, each
from its signals, vectorised (a value, a list, an array or a Series in; the same shape out).

The primary signal picks the band (low 0..3, middle 4..6, high 7..10) and secondary signals place the score inside
it: ``score = band_low + (band_high - band_low) * position``, ``position`` in [0, 1]. A blank primary signal gives no
score (the health model leaves the dimension out); a blank secondary signal counts as the middle of its range. The
signals' thresholds are :mod:`csxl.signals`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from csxl.cells import YES_NO_RULE, is_number, label_key, yes_no
from csxl.errors import InputError
from csxl.signals import SIGNALS, NumericSignal
from csxl.vectors import FloatArray, Shape, array_of, combine, fail, map_distinct, shape_of, to_float
from csxl.vectors import restore as _restore


def _flag_of(v: Any) -> float | None:
    """One yes/no cell (the rule of :func:`csxl.cells.yes_no`) -> 1.0 / 0.0, None when it is not a yes/no."""
    flag = yes_no(v)
    return float(flag) if isinstance(flag, bool) else None


def _flag(x: Any, field: str) -> tuple[FloatArray, Shape]:
    """A yes/no signal -> 1.0 / 0.0, NaN where missing (the rule of :func:`csxl.cells.yes_no`)."""
    arr = array_of(x, field)
    if arr.dtype.kind == "b":
        return arr.reshape(-1).astype(np.float64), shape_of(x)
    return map_distinct(x, field, YES_NO_RULE, _flag_of)


#: Text meaning "nobody" for a champion or an executive sponsor (any other non-blank text is a person or a status).
_ABSENT = frozenset({"none", "no", "left", "false", "n/a", "na", "-", "0"})


def _presence_of(v: Any) -> float | None:
    if isinstance(v, str):
        return 0.0 if label_key(v) in _ABSENT else 1.0
    return _flag_of(v)


def _presence(x: Any, field: str) -> tuple[FloatArray, Shape]:
    """A person slot (champion, exec sponsor) -> 1.0 present / 0.0 absent / NaN blank."""
    arr = array_of(x, field)
    if arr.dtype.kind == "b":
        return arr.reshape(-1).astype(np.float64), shape_of(x)
    return map_distinct(x, field, "a name, true/false, or none/left", _presence_of)


def _count(x: Any, field: str) -> tuple[FloatArray, Shape]:
    """A whole number >= 0, NaN where missing."""
    values, shape = to_float(x, field, lo=0.0, rule=">= 0")
    bad = ~np.isnan(values) & (values != np.round(values))
    if bad.any():
        raise fail(field, values, bad, "a whole number >= 0", shape)
    return values, shape


def _optional(x: Any, convert: Callable[[Any, str], tuple[FloatArray, Shape]], field: str) -> tuple[FloatArray, Shape]:
    if x is None:
        return np.array([np.nan]), Shape(True)
    return convert(x, field)


_BAND_LO = np.array([0.0, 4.0, 7.0])


_BAND_HI = np.array([3.0, 6.0, 10.0])


def _in_band(band: FloatArray, position: FloatArray) -> FloatArray:
    """``band`` 0/1/2 (NaN = no score) and ``position`` in [0, 1] -> ``lo + (hi - lo) * position``."""
    known = ~np.isnan(band)
    idx = np.where(known, band, 0).astype(np.intp)
    lo, hi = _BAND_LO[idx], _BAND_HI[idx]
    return np.where(known, lo + (hi - lo) * np.clip(position, 0.0, 1.0), np.nan)


def _neutral(component: FloatArray) -> FloatArray:
    """A missing secondary component counts as 0.5, half-way between its worst and its best."""
    return np.where(np.isnan(component), 0.5, component)


def score_usage(
    dau_mau: Any,
    feature_breadth: Any = None,
    *,
    bands: tuple[float, float] = (0.20, 0.40),
    saturation: float = 0.60,
) -> Any:
    """Product-usage score 0..10 from the DAU/MAU ratio (engine spec: <20 % = 0-3, 20-40 % = 4-6, >40 % = 7-10).

    ``dau_mau`` and ``feature_breadth`` are fractions 0..1 (features adopted / features available). With
    ``bands=(a, b)``:

    * band: ``dau_mau < a`` -> 0..3; ``a <= dau_mau <= b`` -> 4..6; ``dau_mau > b`` -> 7..10 (both edges belong to the
      middle band, as the spec's "<20 %" and ">40 %" exclude them);
    * DAU/MAU position: ``dau_mau / a`` in the low band, ``(dau_mau - a) / (b - a)`` in the middle one,
      ``min(1, (dau_mau - b) / (saturation - b))`` in the top one (10 from ``saturation`` on);
    * position = the DAU/MAU position, or its mean with ``feature_breadth`` when that is given (a missing breadth entry
      counts as not given). Breadth never changes the band.

    Example: ``score_usage(0.30, 0.5)`` = 4 + 2 * mean(0.5, 0.5) = 5.0. Missing ``dau_mau`` -> NaN.
    """
    a, b = bands
    if not (0 < a < b < saturation <= 1):
        raise InputError(
            "bands and saturation", (a, b, saturation), "increasing fractions, 0 < a < b < saturation <= 1"
        )
    (x, breadth), shape = combine(
        to_float(dau_mau, "dau_mau", lo=0.0, hi=1.0), _optional(feature_breadth, _fraction, "feature_breadth")
    )
    band = np.where(np.isnan(x), np.nan, np.where(x < a, 0.0, np.where(x <= b, 1.0, 2.0)))
    position = np.select([x < a, x <= b], [x / a, (x - a) / (b - a)], np.minimum(1.0, (x - b) / (saturation - b)))
    position = np.where(np.isnan(breadth), position, (position + breadth) / 2)
    return _restore(_in_band(band, position), shape)


def _fraction(x: Any, field: str) -> tuple[FloatArray, Shape]:
    return to_float(x, field, lo=0.0, hi=1.0)


_TREND_LABELS = {
    "down": 0.0,
    "declining": 0.0,
    "flat": 1.0,
    "stable": 1.0,
    "up": 2.0,
    "growing": 2.0,
}


_CORE_ACTION_TREND = cast(NumericSignal, SIGNALS["core_action_trend"])


_TREND_RULE = "down, declining, flat, stable, up, growing, or a fractional change >= -1"


def _trend(x: Any, field: str) -> tuple[FloatArray, Shape]:
    """Login trend -> 0 down, 1 flat, 2 up. Numbers are fractional changes rated like ``core_action_trend``."""
    cuts = _CORE_ACTION_TREND
    arr = array_of(x, field)
    if arr.dtype.kind in "fiu":
        values, shape = to_float(x, field, lo=-1.0, rule=_TREND_RULE)
        return cuts.rate(values), shape

    def convert(v: Any) -> float | None:
        if isinstance(v, str):
            if label_key(v) in _TREND_LABELS:
                return _TREND_LABELS[label_key(v)]
            try:
                v = float(v)
            except ValueError:
                return None
        if not is_number(v) or not (math.isfinite(float(v)) and float(v) >= -1):
            return None
        return float(cuts.rate(np.array([float(v)]))[0])

    return map_distinct(x, field, _TREND_RULE, convert)


def score_engagement(
    login_trend: Any,
    support_tickets_30d: Any = None,
    community_active: Any = None,
    *,
    tickets_cap: float = 10.0,
) -> Any:
    """Engagement score 0..10 from the login trend (engine spec: Declining = 0-3, Flat = 4-6, Growing = 7-10).

    * band: ``login_trend`` ``"down"``/``"declining"`` -> 0..3, ``"flat"``/``"stable"`` -> 4..6, ``"up"``/``"growing"``
      -> 7..10 (case-insensitive). A number is a fractional change rated with the ``core_action_trend`` cut-offs:
      ``< -0.30`` down, ``-0.30..0`` flat (flat or slight decline), ``> 0`` up.
    * position = mean(tickets component, community component), where tickets component =
      ``max(0, 1 - support_tickets_30d / tickets_cap)`` (0 tickets best, ``tickets_cap`` or more worst) and community
      component = 1 if ``community_active`` else 0. A missing component counts 0.5, so with neither the score is the
      band midpoint (1.5, 5, 8.5).

    Example: ``score_engagement("flat", 2, True)`` = 4 + 2 * mean(1 - 2/10, 1) = 5.8. Missing trend -> NaN.
    """
    if not (math.isfinite(tickets_cap) and tickets_cap > 0):
        raise InputError("tickets_cap", tickets_cap, "a number > 0")
    (band, tickets, community), shape = combine(
        _trend(login_trend, "login_trend"),
        _optional(support_tickets_30d, _nonnegative, "support_tickets_30d"),
        _optional(community_active, _flag, "community_active"),
    )
    ticket_part = np.maximum(0.0, 1.0 - tickets / tickets_cap)
    position = (_neutral(ticket_part) + _neutral(community)) / 2
    return _restore(_in_band(band, position), shape)


def _nonnegative(x: Any, field: str) -> tuple[FloatArray, Shape]:
    return to_float(x, field, lo=0.0)


def score_relationship(champion: Any, exec_sponsor: Any, contacts: Any = None, *, contacts_green: int = 4) -> Any:
    """Relationship score 0..10 (engine spec: No champion = 0-3, Champion only = 4-6, Multi-thread = 7-10).

    ``champion`` / ``exec_sponsor``: a name or status text means present; ``True``/``1`` present; blank, ``None``,
    ``False``, ``0`` and the words none, no, left, false, n/a, na, - mean absent. ``contacts``: engaged contacts at
    the account, a whole number >= 0.

    * band: no champion -> 0..3; champion and (exec sponsor or ``contacts >= contacts_green``) -> 7..10
      (multi-threaded; 4+ contacts is the agent spec's Green for multi-threading); champion otherwise -> 4..6.
    * position = ``min(1, max(0, (contacts - 1) / (contacts_green - 1)))``: a single contact (Red) is the bottom of
      the band, ``contacts_green`` or more the top; missing contacts -> 0.5 (band midpoint).

    Example: ``score_relationship("Ana Ruiz", None, 2)`` = 4 + 2 * (2 - 1) / 3 = 4.667. A blank champion is
    unknown, not "no champion": the score is NaN (the dimension is left out); ``"none"`` or ``"left"`` is 0..3.
    """
    if not (isinstance(contacts_green, (int, np.integer)) and contacts_green >= 2):
        raise InputError("contacts_green", contacts_green, "a whole number >= 2")
    (has_champion, has_sponsor, n), shape = combine(
        _presence(champion, "champion"),
        _presence(exec_sponsor, "exec_sponsor"),
        _optional(contacts, _count, "contacts"),
    )
    nothing = np.isnan(has_champion)  # the band needs to know whether there is a champion
    champ, sponsor = np.nan_to_num(has_champion) > 0, np.nan_to_num(has_sponsor) > 0
    multi = champ & (sponsor | (np.nan_to_num(n) >= contacts_green))
    band = np.where(nothing, np.nan, np.where(~champ, 0.0, np.where(multi, 2.0, 1.0)))
    position = _neutral(np.clip((n - 1) / (contacts_green - 1), 0.0, 1.0))
    return _restore(_in_band(band, position), shape)


def score_outcomes(goals_defined: Any, goals_achieved: Any, roi_documented: Any = False) -> Any:
    """Outcomes score 0..10 (engine spec: 0 goals met = 0-3, Some = 4-6, All = 7-10).

    ``goals_defined`` and ``goals_achieved`` are whole numbers >= 0 with ``goals_achieved <= goals_defined``;
    ``roi_documented`` is yes/no (a missing entry counts as no, the default).

    * band: achieved 0 -> 0..3; 0 < achieved < defined -> 4..6; achieved == defined -> 7..10.
    * position = mean(achieved / defined, 1 if ROI documented else 0).
    * ``goals_defined == 0`` (or either count missing) -> NaN: there is nothing to measure.

    Example: ``score_outcomes(4, 2, False)`` = 4 + 2 * mean(0.5, 0) = 4.5; ``score_outcomes(3, 3, True)`` = 10.
    """
    (defined, achieved, roi), shape = combine(
        _count(goals_defined, "goals_defined"),
        _count(goals_achieved, "goals_achieved"),
        _flag(roi_documented, "roi_documented"),
    )
    with np.errstate(invalid="ignore"):
        over = achieved > defined
    if over.any():
        first = int(np.flatnonzero(over)[0])
        raise fail("goals_achieved", achieved, over, f"<= goals_defined ({defined[first]:g})", shape)
    measurable = defined > 0  # False for NaN as well
    ratio = np.divide(achieved, defined, out=np.full(defined.shape, np.nan), where=measurable)
    band = np.where(np.isnan(ratio), np.nan, np.where(ratio == 0, 0.0, np.where(ratio < 1, 1.0, 2.0)))
    position = (np.nan_to_num(ratio) + np.nan_to_num(roi)) / 2
    return _restore(_in_band(band, position), shape)


#: payment label -> 0 failed/overdue/delinquent, 1 late, 2 on time (the ``payment`` signal's Red/Yellow/Green).
_PAYMENT = SIGNALS["payment"]


def score_financial(payment_status: Any, expanding: Any = False, contraction_risk: Any = False) -> Any:
    """Financial score 0..10 (engine spec: Late payments = 0-3, On-time = 4-6, Expanding = 7-10).

    ``payment_status`` uses the ``payment`` signal's labels: failed / overdue / delinquent, late, on-time / current.
    ``expanding`` and ``contraction_risk`` are yes/no (a missing entry counts as no, the default).

    * band: late or worse -> 0..3; on time and not expanding -> 4..6; on time and expanding -> 7..10 (expansion of an
      account that pays late does not lift it).
    * position = mean(payment part, 1 - contraction_risk), payment part = 0 for failed/overdue/delinquent, 1 for late
      and for on time (the best payment of its band).

    Values: delinquent 1.5 (0 with contraction risk), late 3 (1.5), current 6 (5), current + expanding 10 (8.5).
    Missing payment status -> NaN.
    """
    (pay, grow, risk), shape = combine(
        _PAYMENT.codes(payment_status, "payment_status"),
        _flag(expanding, "expanding"),
        _flag(contraction_risk, "contraction_risk"),
    )
    band = np.where(pay < 2, 0.0, np.where(np.nan_to_num(grow) > 0, 2.0, 1.0))
    band = np.where(np.isnan(pay), np.nan, band)
    position = (np.minimum(pay, 1.0) + 1.0 - np.nan_to_num(risk)) / 2
    return _restore(_in_band(band, np.nan_to_num(position)), shape)
