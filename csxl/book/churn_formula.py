"""The churn model as one plain spreadsheet formula, written from the model's stored numbers (no Python needed).

For one row of cells (``refs``: the model's input column -> its A1 reference) :func:`churn_formula` returns

    =1/(1+EXP(-(intercept + coefficient x encoded value + ...)))

with each input encoded exactly as :class:`csxl.churn.Encoding` encodes it in Python:

* a cell is blank when it is empty or holds only spaces (``TRIM(x&"")=""``), as :mod:`csxl.cells` reads it;
* number: ``(IF(ISNUMBER(x), x, fill) - mean) / scale``, plus the "missing" indicator's coefficient when the cell
  holds no number (blank, or text: the formula does not parse ``"1,200"`` typed as text, which Python reads as
  1200; a number column holds numbers);
* yes/no: 1 for ``true``, ``yes``, ``y``, ``x``, ``1`` (any case) or the number 1, 0 for ``false``, ``no``, ``n``,
  ``0`` or the number 0, else the fill and the indicator; standardised as a number;
* category: the coefficient of the cell's level, compared exactly after trimming (``EXACT``: case counts, as in
  Python), ``(blank)`` when blank (or holding the text ``(blank)``), ``other`` for a level the model does not know.

Numbers are written with 17 significant digits, so the spreadsheet's probability equals the Python core's to
rounding (checked by LibreOffice recalculation to 1e-9 in ``tests/test_churn_formula.py``). Only ``IF``, ``TRIM``,
``LOWER``, ``EXACT``, ``OR``, ``AND``, ``NOT``, ``ISNUMBER`` and ``EXP`` are used: Excel 2010+ and LibreOffice compute
them all. A formula longer than Excel's limit (8,192 characters) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from csxl.cells import FALSE_WORDS, TRUE_WORDS
from csxl.churn import ChurnModel, Encoding
from csxl.errors import InputError
from csxl.settings import CHURN_TIERS

__all__ = ["MAX_FORMULA", "churn_formula", "churn_tier_formula"]

#: Excel's longest formula, in characters.
MAX_FORMULA = 8192


def _num(value: float) -> str:
    return f"{value:.17g}"


def _text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _words(cell: str, words: frozenset[str], number: int) -> str:
    """True when ``cell`` is one of ``words`` (any case, trimmed) or the number ``number``."""
    said = ",".join(f'LOWER(TRIM({cell}&""))={_text(w)}' for w in sorted(words))
    return f"OR({said},AND(ISNUMBER({cell}),{cell}={number}))"


def _terms(encoding: Encoding, cell: str, coefficients: Mapping[str, float]) -> list[str]:
    """The formula terms of one input column (each ``coefficient*(...)``)."""
    blank = f'TRIM({cell}&"")=""'
    names = encoding.names()
    if encoding.kind == "category":
        levels = [level for level in encoding.levels if level not in ("(blank)", "other")]
        matches = {level: f'EXACT(TRIM({cell}&""),{_text(level)})' for level in levels}
        cases = dict(matches)
        cases["(blank)"] = f'OR({blank},EXACT(TRIM({cell}&""),"(blank)"))'  # as Python reads it: the blank level
        any_known = f"OR({','.join(matches.values())})" if matches else "FALSE"
        cases["other"] = f"AND(NOT({cases['(blank)']}),NOT({any_known}))"
        pairs = zip(encoding.levels, names, strict=True)
        return [f"{_num(coefficients[name])}*IF({cases[level]},1,0)" for level, name in pairs]
    if encoding.kind == "yes/no":
        yes, no = _words(cell, TRUE_WORDS, 1), _words(cell, FALSE_WORDS, 0)
        known = f"OR({yes},{no})"
        value = f"IF({yes},1,IF({no},0,{_num(encoding.fill)}))"
    else:
        known = f"ISNUMBER({cell})"
        value = f"IF({known},{cell},{_num(encoding.fill)})"
    terms = [f"{_num(coefficients[names[0]])}*(({value})-{_num(encoding.mean)})/{_num(encoding.scale)}"]
    if encoding.indicator:
        terms.append(f"{_num(coefficients[names[1]])}*IF({known},0,1)")
    return terms


def churn_formula(model: ChurnModel, refs: Mapping[str, str]) -> str:
    """The formula (with its leading ``=``) that computes ``model``'s churn probability from the cells ``refs``
    (every input column of the model -> an A1 reference). :class:`InputError` names a column without a cell, or
    the length when the formula would exceed :data:`MAX_FORMULA`."""
    missing = [e.column for e in model.encodings if e.column not in refs]
    if missing:
        raise InputError("refs", ", ".join(missing), "a cell for every input column of the model")
    coefficients = {str(k): float(v) for k, v in model.coefficients.items()}
    terms = [_num(model.intercept)]
    for encoding in model.encodings:
        terms += _terms(encoding, refs[encoding.column], coefficients)
    formula = "=1/(1+EXP(-(" + "+".join(terms) + ")))"
    if len(formula) > MAX_FORMULA:
        raise InputError("churn formula", f"{len(formula):,} characters", f"at most {MAX_FORMULA:,} (Excel's limit)")
    return formula


def churn_tier_formula(cell: str) -> str:
    """The formula of :func:`csxl.churn_tier` of the probability in ``cell`` (the edges of
    :data:`csxl.settings.CHURN_TIERS`: exactly 80 % is High, 50 % High, 20 % Medium); blank when it holds no number."""
    (low, a), (medium, b), (high, c), (critical, _) = CHURN_TIERS
    inner = f'IF({cell}>{_num(c)},"{critical}",IF({cell}>={_num(b)},"{high}",IF({cell}>={_num(a)},"{medium}","{low}")))'
    return f'=IF(ISNUMBER({cell}),{inner},"")'
