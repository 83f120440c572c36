"""csxl as Excel worksheet functions, for xlwings Lite (Office.js) and classic xlwings (Windows UDFs).

Every function is a thin wrapper over the pure core (:mod:`csxl.health`, :mod:`csxl.signals`, :mod:`csxl.revenue`,
:mod:`csxl.cohorts`, :mod:`csxl.surveys`): it turns the cells Excel sends into arrays, calls the core once for the
whole range (vectorised) and turns the answer back into cells. ``docs/excel-functions.md`` documents each function.

Conventions shared by every function:

* **Arguments** arrive as 2-D lists (``@arg(..., ndim=2, err_to_str=True)``): a single cell, a row, a column or a
  block. Blank cells are ``None``, Excel errors arrive as their text (``"#N/A"``), dates as serial numbers (xlwings
  Lite) or ``datetime`` (classic). An omitted optional argument is ``""`` (not ``None``: an ``Optional`` type hint
  breaks the Lite dispatcher on Python 3.10, and ``""`` reads the same in both runtimes).
* **Element-wise functions** (scores, tiers, ratios) answer in the shape of their inputs: a column gives a column
  (the result spills), a single cell one value. Inputs of several cells must share one shape; single cells repeat.
* **Bad input never gives a traceback or a silently wrong number**: the cell shows a short text naming the argument
  and the rule, e.g. ``dau_mau must be 0..1, got 1.5``. In a range only the bad cells show the text; the others still
  compute. A bad setting (a preset, weights, thresholds) gives one text for the whole call.
* **Blank in, blank out**: a missing primary input gives a blank cell, as the core gives ``NaN`` / ``None``.

Runtime notes: the decorators are xlwings' own ``func`` / ``arg`` / ``ret`` (``from xlwings import ...``), which are
the Office.js ones in xlwings Lite, the COM ones in classic xlwings on Windows, and no-ops elsewhere, so this module
imports on any machine without Excel. No namespace is used: ``namespace=`` exists in Lite only, and a workbook must
read ``=HEALTHSCORE(...)`` in both runtimes. Python names are upper case so that both runtimes show the same name.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import numpy as np
from pydantic import ValidationError
from xlwings import func

from csxl.cells import is_number
from csxl.dimensions import score_engagement, score_financial, score_outcomes, score_relationship, score_usage
from csxl.errors import CsxlError, InputError
from csxl.excel.cells import (
    ALL_DIMENSIONS,
    Cells,
    IntArray,
    ObjArray,
    _as_numbers,
    _blank,
    _cells,
    _elementwise,
    _errors,
    _given,
    _grid,
    _guard,
    _HealthInput,
    _int_if_whole,
    _message,
    _number,
    _officejs_cells,
    _omitted,
    _one_plain_row,
    _plain_block,
    _shaped,
    _solve,
    _text,
)
from csxl.excel.functions_churn import CHURNPROB
from csxl.excel.functions_revenue import (
    CACPAYBACK,
    CES,
    COHORTGRID,
    COHORTGRR,
    COHORTNRR,
    CSAT,
    GRR,
    LOGOCHURN,
    LTV,
    MRRMOVEMENTS,
    NPS,
    NRR,
    QUICKRATIO,
    REVENUECHURN,
)
from csxl.excel.udf import OFFICEJS, big_arg, xl_arg
from csxl.health import churn_tier, explain_health, health_score, health_tier, simple_points, simple_tier
from csxl.settings import (
    TIER_SCHEMES,
    TierScheme,
    resolve_tier_scheme,
)
from csxl.signals import SIGNALS, NumericSignal, signal_rag

__all__ = [
    "CACPAYBACK",
    "CES",
    "CHURNPROB",
    "CHURNTIER",
    "COHORTGRID",
    "COHORTGRR",
    "COHORTNRR",
    "CSAT",
    "ENGAGEMENTSCORE",
    "FINANCIALSCORE",
    "GRR",
    "HEALTHEXPLAIN",
    "HEALTHSCORE",
    "HEALTHTIER",
    "LOGOCHURN",
    "LTV",
    "MRRMOVEMENTS",
    "NPS",
    "NRR",
    "OUTCOMESSCORE",
    "QUICKRATIO",
    "RELATIONSHIPSCORE",
    "REVENUECHURN",
    "SIGNALRAG",
    "SIMPLEPOINTS",
    "SIMPLETIER",
    "USAGESCORE",
]

# --------------------------------------------------------------------------------------------------------------------
# Health model functions
# --------------------------------------------------------------------------------------------------------------------

_SCORES_DOC = (
    "Dimension scores 0..10: one row per account, columns in the preset's order (engine: usage, engagement, "
    "relationship, outcomes, financial), or a header row naming them."
)
_WEIGHTS_DOC = (
    "Optional. A preset name (engine, growth), one weight per column (e.g. the Settings weights; all blank = the "
    "preset's), or label/weight pairs. Weights are normalised."
)
_PRESET_DOC = "Optional. engine (default) or growth: the weights when none are given and the column order."


@func(category="csxl")
@big_arg("scores", _SCORES_DOC)
@xl_arg("weights", _WEIGHTS_DOC)
@xl_arg("preset", _PRESET_DOC)
def HEALTHSCORE(scores: Any, weights: Any = "", preset: Any = "") -> Cells:
    """Weighted health score 0..100 per account: 10 * sum(w * s) / sum(w) over the dimensions filled in.

    One row of dimension scores gives one score; a block of n rows spills n scores. Missing dimensions are left
    out and the weights re-normalised; an all-blank row stays blank.
    """
    if OFFICEJS:
        one_row = type(scores) is list and len(scores) == len(ALL_DIMENSIONS) and weights == "" and preset == ""
        if one_row and all(type(v) in (float, int) for v in scores):  # one account: Office.js passes the row flat
            try:
                return [[health_score(dict(zip(ALL_DIMENSIONS, scores, strict=True)), "engine")]]
            except CsxlError as err:
                return [[_message(err)]]
        scores = _officejs_cells(scores)

    if weights == "" and preset == "" and len(scores) > 1 and _plain_block(scores, len(ALL_DIMENSIONS)):
        # a whole column of accounts, all cells plain numbers: one vectorised core call, no per-cell checks
        block = np.array(scores, dtype=np.float64)
        try:
            values = health_score({d: block[:, j] for j, d in enumerate(ALL_DIMENSIONS)}, "engine")
        except CsxlError:
            pass  # a bad value somewhere: the general path below names it in its own cell
        else:
            result: Cells = np.asarray(values, dtype=np.float64).reshape(-1, 1).tolist()
            return result
    if weights == "" and preset == "" and _one_plain_row(scores, len(ALL_DIMENSIONS)):
        # the everyday call, =HEALTHSCORE(B3:F3) with the default preset: straight to the core's scalar path
        try:
            return [[health_score(dict(zip(ALL_DIMENSIONS, scores[0], strict=True)), "engine")]]
        except CsxlError as err:
            return [[_message(err)]]

    def body() -> Cells:
        model = _HealthInput(scores, weights, preset)
        data, blank_rows, bad = model.rows()
        out: ObjArray = np.full(data.shape[0], None, dtype=object)
        skip = blank_rows.copy()
        for row, text in bad:
            out[row], skip[row] = text, True
        todo = np.flatnonzero(~skip).astype(np.intp)

        def compute(idx: IntArray) -> ObjArray:
            rows = _as_numbers(data[idx])
            if rows.shape[0] == 1 and rows.dtype == np.float64:  # one account: plain numbers take the scalar path
                one: dict[str, Any] = {d: float(rows[0, j]) for j, d in enumerate(model.dims)}
                return _cells(np.asarray([health_score(one, model.weights)], dtype=np.float64))
            columns = {d: rows[:, j] for j, d in enumerate(model.dims)}
            return _cells(np.asarray(health_score(columns, model.weights), dtype=np.float64).reshape(-1))

        if todo.size == 1:  # one account (the usual =HEALTHSCORE(B3:F3)): one core call, its error is the cell's
            try:
                out[todo] = compute(todo)
            except Exception as err:
                out[todo[0]] = _message(err)
        else:
            _solve(todo, compute, out)
        cells = _shaped(out, (out.size, 1))
        return [["Health score"], *cells] if model.header else cells

    return _guard("HEALTHSCORE", body)


@func(category="csxl")
@xl_arg("scores", "Dimension scores 0..10 of ONE account (one row), in the preset's order or under a header row.")
@xl_arg("weights", _WEIGHTS_DOC)
@xl_arg("preset", _PRESET_DOC)
def HEALTHEXPLAIN(scores: Any, weights: Any = "", preset: Any = "") -> Cells:
    """Why one account scores what it scores: spills Dimension | Score | Weight | Points | Lost, biggest loss first.

    Points = 10 * weight * score and Lost = 10 * weight * (10 - score), weight re-normalised over the dimensions
    filled in; the Total row's Points is the health score (0..100) and Points + Lost = 100.
    """

    def body() -> Cells:
        model = _HealthInput(scores, weights, preset)
        data, _, bad = model.rows()
        if data.shape[0] != 1:
            raise InputError("scores", f"{data.shape[0]} account rows", "one account (one row; use HEALTHSCORE)")
        if bad:
            return [[bad[0][1]]]
        table = explain_health(model.frame(data), model.weights)
        header: list[Any] = ["Dimension", "Score", "Weight", "Points", "Lost"]
        body_rows = np.column_stack(
            [table.index.to_numpy(dtype=object), *(_cells(table[c].to_numpy()) for c in table.columns)]
        )
        total = ["Total", None, float(table["weight"].sum()), float(table["points"].sum()), float(table["lost"].sum())]
        return [header, *body_rows.tolist(), total]

    return _guard("HEALTHEXPLAIN", body)


@func(category="csxl")
@xl_arg("score", "Health scores 0..100 (a cell, a row or a column).")
@xl_arg("scheme", "Optional. engine (Thriving/Healthy/At-Risk/Critical, default) or growth (Green/Yellow/Red).")
@xl_arg("bounds", "Optional. Lower bounds of the tiers, best first, e.g. the Settings tier cells (80, 60, 40).")
def HEALTHTIER(score: Any, scheme: Any = "", bounds: Any = "") -> Cells:
    """Tier of a 0..100 health score: the first tier whose lower bound the score reaches (score >= bound).

    engine: Thriving >= 80, Healthy >= 60, At-Risk >= 40, else Critical; growth: Green >= 80, Yellow >= 50, else Red.
    Not rounded first: 79.99 is Healthy.
    """

    def body() -> Cells:
        name = _text(scheme, "scheme") or "engine"
        resolved = resolve_tier_scheme(name)
        if resolved.name not in TIER_SCHEMES:
            raise InputError(
                "scheme", name, f"a 0..100 tier scheme ({', '.join(TIER_SCHEMES)}); use SIMPLETIER for points"
            )
        chosen = _tier_bounds(resolved, bounds)
        return _elementwise(lambda a: _cells(health_tier(a["score"], chosen)), {"score": score})

    return _guard("HEALTHTIER", body)


def _tier_bounds(scheme: TierScheme, bounds: Any) -> TierScheme:
    """The scheme with the bounds given as cells: one per tier above the last (a trailing 0 may be included)."""
    if _omitted(bounds):
        return scheme
    cells = _grid(bounds).reshape(-1)
    labels = scheme.labels
    rule = f"{len(labels) - 1} decreasing numbers > 0, the lower bounds of {', '.join(labels[:-1])}"
    if _blank(cells).all():
        return scheme
    if _errors(cells).any() or not all(is_number(v) for v in cells):
        raise InputError("bounds", next(v for v in cells if not is_number(v)), rule)
    values = [float(v) for v in cells]
    if len(values) == len(labels) and values[-1] == 0:
        values = values[:-1]
    if len(values) != len(labels) - 1:
        raise InputError("bounds", f"{len(values)} number(s)", rule)
    try:
        return TierScheme(name=scheme.name, bounds=(*zip(labels, values, strict=False), (labels[-1], 0.0)))
    except ValidationError:
        raise InputError("bounds", ", ".join(f"{v:g}" for v in values), rule) from None


_POINTS_DOC = "{} points: 0, 1, 2 or Red, Yellow, Green (a cell or a column)."


@func(category="csxl")
@xl_arg(
    "usage", "Usage points 0/1/2 or Red/Yellow/Green; or an n x 5 block of all five dimensions (then omit the rest)."
)
@xl_arg("engagement", _POINTS_DOC.format("Engagement"))
@xl_arg("relationship", _POINTS_DOC.format("Relationship"))
@xl_arg("financial", _POINTS_DOC.format("Financial"))
@xl_arg("sentiment", _POINTS_DOC.format("Sentiment"))
def SIMPLEPOINTS(
    usage: Any, engagement: Any = "", relationship: Any = "", financial: Any = "", sentiment: Any = ""
) -> Cells:
    """Simple-points total 0..10 = usage + engagement + relationship + financial + sentiment (0/1/2 points each).

    Red = 0, Yellow = 1, Green = 2. A blank dimension leaves the account's total blank (a partial total would read
    as a bad score).
    """

    def body() -> Cells:
        names = ("usage", "engagement", "relationship", "financial", "sentiment")
        rest = (engagement, relationship, financial, sentiment)
        if all(_omitted(v) for v in rest):
            block = _grid(usage)
            if block.shape[1] != len(names):
                raise InputError(
                    "usage", f"{block.shape[1]} column(s)", "an n x 5 block (usage..sentiment) or give all five"
                )
            inputs: dict[str, Any] = {n: block[:, [j]].tolist() for j, n in enumerate(names)}
        else:
            missing = [n for n, v in zip(names[1:], rest, strict=True) if _omitted(v)]
            if missing:
                raise InputError(missing[0], "nothing", "given (all five dimensions, or one n x 5 block as usage)")
            inputs = dict(zip(names, (usage, *rest), strict=True))
        return _elementwise(lambda a: _cells(simple_points(*(a[n] for n in names))), inputs)

    return _guard("SIMPLEPOINTS", body)


@func(category="csxl")
@xl_arg("points", "Simple-points totals 0..10 (whole numbers).")
@xl_arg("green", "Optional. Lowest Green total (default 8; Settings: Simple tier Green from).")
@xl_arg("yellow", "Optional. Lowest Yellow total (default 5).")
def SIMPLETIER(points: Any, green: Any = "", yellow: Any = "") -> Cells:
    """Simple-model tier: Green for points >= green (8-10), Yellow for points >= yellow (5-7), else Red (0-4)."""

    def body() -> Cells:
        g, y = _number(green, "green"), _number(yellow, "yellow")
        cuts: dict[str, Any] = {"green": _int_if_whole(g, 8), "yellow": _int_if_whole(y, 5)}
        return _elementwise(lambda a: _cells(simple_tier(a["points"], **cuts)), {"points": points})

    return _guard("SIMPLETIER", body)


@func(category="csxl")
@xl_arg("signal", "Signal name, e.g. seat_adoption, logins_per_week, nps, payment, champion (see the docs).")
@xl_arg("value", "The signal's values (a cell or a column): numbers or labels, as the signal takes.")
@xl_arg("green", "Optional, numeric signals only. Green cut-off (keeps the signal's comparison, e.g. >= 9 for nps).")
@xl_arg("yellow", "Optional, numeric signals only. Yellow cut-off.")
def SIGNALRAG(signal: Any, value: Any, green: Any = "", yellow: Any = "") -> Cells:
    """Red / Yellow / Green rating of one customer signal with the spec's thresholds (or your cut-offs).

    E.g. seat_adoption: Green > 0.75, Yellow >= 0.25, else Red; nps: Green >= 9, Yellow >= 7, else Red.
    """

    def body() -> Cells:
        name = _text(signal, "signal")
        if name is None:
            raise InputError("signal", None, f"one of {', '.join(SIGNALS)}")
        g, y = _number(green, "green"), _number(yellow, "yellow")
        overrides: dict[str, Any] = {}
        definition = SIGNALS.get(name.lower())
        if (g is not None or y is not None) and definition is not None:
            if not isinstance(definition, NumericSignal):
                field = "green" if g is not None else "yellow"
                raise InputError(field, g if g is not None else y, f"blank ({definition.name} is rated by labels)")
            if g is not None:
                overrides["green"] = (definition.green[0], g)
            if y is not None:
                overrides["yellow"] = (definition.yellow[0], y)
        thresholds = overrides or None
        return _elementwise(lambda a: _cells(signal_rag(name, a["value"], thresholds)), {"value": value})

    return _guard("SIGNALRAG", body)


@func(category="csxl")
@xl_arg("probability", "Churn probabilities, fractions 0..1 (0.35 = 35 %).")
def CHURNTIER(probability: Any) -> Cells:
    """Churn-risk tier of a probability 0..1: Low < 0.2 <= Medium < 0.5 <= High <= 0.8 < Critical."""
    return _guard(
        "CHURNTIER",
        lambda: _elementwise(lambda a: _cells(churn_tier(a["probability"])), {"probability": probability}),
    )


# --------------------------------------------------------------------------------------------------------------------
# Dimension scores 0..10
# --------------------------------------------------------------------------------------------------------------------


@func(category="csxl")
@xl_arg("dau_mau", "DAU/MAU ratio, a fraction 0..1 (a cell or a column).")
@xl_arg("feature_breadth", "Optional. Features adopted / features available, a fraction 0..1.")
def USAGESCORE(dau_mau: Any, feature_breadth: Any = "") -> Cells:
    """Usage score 0..10: band by DAU/MAU (< 0.2 -> 0-3, 0.2-0.4 -> 4-6, > 0.4 -> 7-10), placed by DAU/MAU and breadth.

    E.g. DAU/MAU 0.30 with breadth 0.5 = 4 + 2 * mean(0.5, 0.5) = 5.
    """
    inputs = {"dau_mau": dau_mau, **_given(feature_breadth=feature_breadth)}
    return _guard("USAGESCORE", lambda: _elementwise(lambda a: _cells(score_usage(**a)), inputs))


@func(category="csxl")
@xl_arg("login_trend", "Login trend: down/declining, flat/stable, up/growing, or a fractional change (-0.35 = -35 %).")
@xl_arg("support_tickets_30d", "Optional. Support tickets in the last 30 days (>= 0; 10 or more is the worst).")
@xl_arg("community_active", "Optional. Active in the community: TRUE/FALSE, yes/no, 1/0.")
def ENGAGEMENTSCORE(login_trend: Any, support_tickets_30d: Any = "", community_active: Any = "") -> Cells:
    """Engagement score 0..10: band by login trend (down 0-3, flat 4-6, up 7-10), placed by tickets and community.

    E.g. flat, 2 tickets, community active = 4 + 2 * mean(1 - 2/10, 1) = 5.8.
    """
    inputs = {
        "login_trend": login_trend,
        **_given(support_tickets_30d=support_tickets_30d, community_active=community_active),
    }
    return _guard("ENGAGEMENTSCORE", lambda: _elementwise(lambda a: _cells(score_engagement(**a)), inputs))


@func(category="csxl")
@xl_arg("champion", "Champion: a name (present), or blank / none / left (absent).")
@xl_arg("exec_sponsor", "Optional. Executive sponsor: a name (present), or blank / none (absent).")
@xl_arg("contacts", "Optional. Engaged contacts at the account, a whole number >= 0.")
def RELATIONSHIPSCORE(champion: Any, exec_sponsor: Any = "", contacts: Any = "") -> Cells:
    """Relationship score 0..10: no champion 0-3, champion only 4-6, champion + sponsor or 4+ contacts 7-10.

    Position in the band = (contacts - 1) / 3, capped to 0..1 (blank contacts: the band's middle).
    """
    inputs = {"champion": champion, "exec_sponsor": None if _omitted(exec_sponsor) else exec_sponsor}
    inputs |= _given(contacts=contacts)
    return _guard("RELATIONSHIPSCORE", lambda: _elementwise(lambda a: _cells(score_relationship(**a)), inputs))


@func(category="csxl")
@xl_arg("goals_defined", "Success goals defined, a whole number >= 0.")
@xl_arg("goals_achieved", "Goals achieved, a whole number 0..goals_defined.")
@xl_arg("roi_documented", "Optional. ROI documented: TRUE/FALSE, yes/no, 1/0 (default no).")
def OUTCOMESSCORE(goals_defined: Any, goals_achieved: Any, roi_documented: Any = "") -> Cells:
    """Outcomes score 0..10: no goal met 0-3, some 4-6, all 7-10; position = mean(achieved / defined, ROI 1/0).

    E.g. 4 defined, 2 achieved, no ROI = 4 + 2 * mean(0.5, 0) = 4.5. No goals defined -> blank.
    """
    inputs = {
        "goals_defined": goals_defined,
        "goals_achieved": goals_achieved,
        **_given(roi_documented=roi_documented),
    }
    return _guard("OUTCOMESSCORE", lambda: _elementwise(lambda a: _cells(score_outcomes(**a)), inputs))


@func(category="csxl")
@xl_arg("payment_status", "Payment status: on-time / current, late, failed / overdue / delinquent.")
@xl_arg("expanding", "Optional. Expanding (upsell in progress): TRUE/FALSE, yes/no, 1/0 (default no).")
@xl_arg("contraction_risk", "Optional. Contraction risk: TRUE/FALSE, yes/no, 1/0 (default no).")
def FINANCIALSCORE(payment_status: Any, expanding: Any = "", contraction_risk: Any = "") -> Cells:
    """Financial score 0..10: late or worse 0-3, on time 4-6, on time and expanding 7-10.

    Values: delinquent 1.5, late 3, current 6, current + expanding 10; contraction risk takes 1.5 off (0 at most).
    """
    inputs = {"payment_status": payment_status, **_given(expanding=expanding, contraction_risk=contraction_risk)}
    return _guard("FINANCIALSCORE", lambda: _elementwise(lambda a: _cells(score_financial(**a)), inputs))


def _resolve_annotations() -> None:
    """Store every function's type hints as objects, not the strings ``from __future__ import annotations`` leaves.

    xlwings' dispatcher calls ``typing.get_type_hints`` on each call; with string annotations that evaluates them
    every time (~40 us a call, more than the health score itself). Resolved once here, the lookup is free.
    """
    for name in __all__:
        function = globals()[name]
        for target in {function, inspect.unwrap(function)}:
            target.__annotations__ = typing.get_type_hints(target)


_resolve_annotations()
