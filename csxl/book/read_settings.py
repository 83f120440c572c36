"""The Settings sheet read into :class:`csxl.Settings`: every setting's cell (by its defined name, else the layout's
row), each value checked (numbers, percentages, dates, preset and scheme names, weights, bounds, cut-offs) and every
bad cell reported with its sheet, row, value and rule."""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from csxl.book import layout
from csxl.cells import is_blank, number_from_text, serial_to_date
from csxl.errors import InputError, RowIssue
from csxl.settings import HEALTH_WEIGHTS, RATE_CURRENCIES, SIMPLE_TIERS, TIER_SCHEMES, Settings, TierScheme
from csxl.signals import SIGNALS, CategoricalSignal, NumericSignal


@dataclass(frozen=True)
class CellError:
    """An Excel error cell (``#N/A``, ``#DIV/0!`` ...). Shown as its text; never equal to a string or a number."""

    text: str

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


_WEIGHT_NAMES: tuple[str, ...] = tuple(
    item.name for _title, items in layout.SETTINGS for item in items if item.name.startswith("csxl_weight_")
)

__all__ = ["CellError", "settings_from_values"]


_Get = Callable[[str], Any]


_Report = Callable[[str, Any, str], None]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def _number(value: Any) -> float | None:
    """A finite number from a number cell or numeric text, by the cell rule of :func:`csxl.cells.number_from_text`
    with percentages (``"30%"`` is 0.3); ``None`` for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        number: float | None = float(value)
    elif isinstance(value, str):
        number = number_from_text(value, percent=True)
    else:
        return None
    return number if number is not None and math.isfinite(number) else None


def _date(value: Any) -> _dt.date | None:
    """A date cell, an ISO text ``YYYY-MM-DD`` or an Excel 1900-system serial (61 .. 2958465); else ``None``."""
    if isinstance(value, _dt.datetime):  # also pandas Timestamps
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return _dt.date.fromisoformat(text[:10])
            except ValueError:
                return None
        return None
    number = _number(value)
    moment = None if number is None else serial_to_date(number)
    return None if moment is None else moment.date()


def settings_from_values(
    values: Mapping[str, Any], *, cells: Mapping[str, tuple[int, str]] | None = None
) -> tuple[Settings, list[RowIssue]]:
    """Build :class:`Settings` from named-cell values (``csxl_preset`` -> ``"engine"`` ...); report every bad value.

    A blank cell means the default. A bad value becomes a :class:`RowIssue` (sheet ``Settings``, the cell's row from
    ``cells`` or :func:`csxl.book.layout.settings_rows`, column ``B``) and the default is used:

    * ``csxl_preset``: ``engine`` or ``growth`` (any case).
    * ``csxl_weight_*``: all blank = the preset's weights; any filled = your own weights (blank counts 0; the
      scorer normalises them to sum 1). Each must be a number >= 0 (``30%`` text is 0.3) and one at least > 0; if
      any is bad, the preset's weights are used (half a set of weights would silently change the model).
    * ``csxl_tier_<scheme>_<label>``: a score 0 < x <= 100; each scheme's bounds must strictly decrease (the last
      tier starts at 0), else the scheme keeps its defaults.
    * simple cut-offs (:func:`csxl.book.layout.simple_threshold_name`): numbers >= 0; green at least as strict as
      yellow (for ``>=`` signals green >= yellow), else the signal keeps its registry cut-offs. Only cut-offs that
      differ from the registry's are stored in ``Settings.simple_cutoffs``.
    * simple tiers (:func:`csxl.book.layout.simple_tier_name`): whole numbers 1..10 with yellow < green.
    * ``csxl_as_of``: a date cell, ISO text or an Excel serial; blank = today. ``csxl_currency``: a 3-letter code.
    * exchange rates (:func:`csxl.book.layout.rate_name`): positive numbers, blank = not used.
    """
    rows = layout.settings_rows()
    issues: list[RowIssue] = []
    options: dict[str, Any] = {}

    def report(name: str, value: Any, rule: str) -> None:
        row, column = (cells or {}).get(name, (rows.get(name, 0), "B"))
        issues.append(RowIssue(layout.SHEET_SETTINGS, row, column, value, rule))

    def get(name: str) -> Any:
        value = values.get(name)
        return None if is_blank(value) else value

    preset = get("csxl_preset")
    if preset is not None:
        key = preset.strip().lower() if isinstance(preset, str) else ""
        if key in HEALTH_WEIGHTS:
            options["preset"] = key
        else:
            report("csxl_preset", preset, f"one of {', '.join(HEALTH_WEIGHTS)}")

    options.update(_weights(get, report))
    options["tier_bounds"] = {name: _tier_bounds(scheme, get, report) for name, scheme in TIER_SCHEMES.items()}
    cutoffs = _cutoffs(get, report)
    if cutoffs:
        options["simple_cutoffs"] = cutoffs
    labels = _label_points(get, report)
    if labels:
        options["simple_labels"] = labels
    options["simple_tiers"] = _simple_tiers(get, report)

    as_of = get("csxl_as_of")
    if as_of is not None:
        day = _date(as_of)
        if day is None:
            report("csxl_as_of", as_of, "a date (YYYY-MM-DD), or blank for today")
        else:
            options["as_of"] = day
    currency = get("csxl_currency")
    if currency is not None:
        code = currency.strip().upper() if isinstance(currency, str) else ""
        if len(code) == 3 and code.isascii() and code.isalpha():
            options["currency"] = code
        else:
            report("csxl_currency", currency, "a 3-letter ISO code such as USD")
    rates = _rates(get, report, options.get("currency", "USD"))
    if rates:
        options["rates"] = rates
    try:
        settings = Settings(**options)
    except ValidationError as exc:  # pragma: no cover - every value was checked above
        raise InputError("Settings", options, "valid settings", detail=str(exc)) from None
    issues.sort(key=lambda issue: issue.row)
    return settings, issues


def _rates(get: _Get, report: _Report, currency: str) -> dict[str, float]:
    """The exchange rate cells that hold one (a positive number); any other value is reported."""
    rates: dict[str, float] = {}
    for code in RATE_CURRENCIES:
        value = get(layout.rate_name(code))
        if value is None:
            continue
        number = _number(value)
        if number is None or number <= 0:
            report(layout.rate_name(code), value, f"a positive number ({currency} per 1 {code}), or blank")
        else:
            rates[code] = number
    return rates


def _weights(get: _Get, report: _Report) -> dict[str, Any]:
    weights: dict[str, float] = {}
    filled = bad = False
    for name in _WEIGHT_NAMES:
        dimension = name.removeprefix("csxl_weight_")
        raw = get(name)
        if raw is None:
            weights[dimension] = 0.0
            continue
        filled = True
        number = _number(raw)
        if number is None or number < 0:
            report(name, raw, "a weight >= 0 (e.g. 30%), or blank")
            bad = True
        else:
            weights[dimension] = number
    if not filled or bad:
        return {}
    if sum(weights.values()) <= 0:
        first = next(name for name in _WEIGHT_NAMES if get(name) is not None)
        report(first, get(first), "a weight > 0 for at least one dimension (or all weights blank)")
        return {}
    return {"weights": weights}


def _tier_bounds(scheme: TierScheme, get: _Get, report: _Report) -> tuple[tuple[str, float], ...]:
    defaults = scheme.bounds
    names = [f"csxl_tier_{scheme.name}_{label.lower().replace('-', '_')}" for label, _ in defaults[:-1]]
    bounds: list[float] = []
    for name, (_label, default) in zip(names, defaults[:-1], strict=True):
        raw = get(name)
        number = None if raw is None else _number(raw)
        if raw is not None and (number is None or not 0 < number <= 100):
            report(name, raw, "a score above 0 and at most 100")
            number = None
        bounds.append(default if number is None else number)
    for i in range(1, len(bounds)):
        if bounds[i] >= bounds[i - 1]:
            above = defaults[i - 1][0]
            shown = get(names[i]) if get(names[i]) is not None else bounds[i]
            report(names[i], shown, f"below {above} ({bounds[i - 1]:g})")
            return defaults
    result = (*((label, b) for (label, _), b in zip(defaults[:-1], bounds, strict=True)), defaults[-1])
    try:
        return TierScheme(name=scheme.name, bounds=result).bounds
    except ValidationError:  # pragma: no cover - checked above
        return defaults


def _cutoffs(get: _Get, report: _Report) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for source in layout.SIMPLE_SOURCES:
        definition = SIGNALS.get(source.signal)
        if not isinstance(definition, NumericSignal):
            continue
        green_name = layout.simple_threshold_name(definition.name, "green")
        yellow_name = layout.simple_threshold_name(definition.name, "yellow")
        defaults = (definition.green[1], definition.yellow[1])
        picked: list[float] = []
        for name, default in zip((green_name, yellow_name), defaults, strict=True):
            raw = get(name)
            number = None if raw is None else _number(raw)
            if raw is not None and (number is None or number < 0):
                report(name, raw, "a number >= 0")
                number = None
            picked.append(default if number is None else number)
        green, yellow = picked
        update = {"green": (definition.green[0], green), "yellow": (definition.yellow[0], yellow)}
        try:
            NumericSignal.model_validate({**definition.model_dump(), **update})
        except ValidationError:
            way = ">=" if definition.green[0].startswith(">") else "<="
            report(green_name, get(green_name), f"{way} the yellow cut-off ({yellow:g})")
            continue
        if (green, yellow) != defaults:
            out[definition.name] = (green, yellow)
    return out


def _label_points(get: _Get, report: _Report) -> dict[str, dict[str, int]]:
    """The label tables: each label's points 0, 1 or 2 (blank or bad: the registry's, reported when bad)."""
    out: dict[str, dict[str, int]] = {}
    for source in layout.SIMPLE_SOURCES:
        definition = SIGNALS.get(source.signal)
        if not isinstance(definition, CategoricalSignal):
            continue
        for key, code in definition.labels.items():
            name = layout.label_points_name(definition.name, key)
            raw = get(name)
            if raw is None:
                continue
            number = _number(raw)
            if number not in (0.0, 1.0, 2.0):
                report(name, raw, "0, 1 or 2 points")
                continue
            if number is not None and int(number) != int(code):
                out.setdefault(definition.name, {})[key] = int(number)
    return out


def _simple_tiers(get: _Get, report: _Report) -> tuple[int, int]:
    names = [layout.simple_tier_name(label) for label, _ in SIMPLE_TIERS.bounds[:-1]]
    defaults = [int(bound) for _, bound in SIMPLE_TIERS.bounds[:-1]]
    picked: list[int] = []
    for name, default in zip(names, defaults, strict=True):
        raw = get(name)
        number = None if raw is None else _number(raw)
        if raw is not None and (number is None or not 1 <= number <= 10 or number != int(number)):
            report(name, raw, "a whole number 1..10")
            number = None
        picked.append(default if number is None else int(number))
    green, yellow = picked
    if not yellow < green:
        report(names[1], get(names[1]) if get(names[1]) is not None else yellow, f"below the Green bound ({green})")
        return defaults[0], defaults[1]
    return green, yellow
