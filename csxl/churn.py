"""Model 3: the probability that an account churns in the next 90 days (pure core; scikit-learn fits it).

:func:`fit_churn_model` takes any table a user brings (one row per account and snapshot, the label yes/no) as exports
arrive: numbers (typed or as text: ``"1,200"``), yes/no columns (``yes``, ``TRUE``, ``1``), text categories and
blank cells. Each column is read by csxl's own cell rules (:mod:`csxl.cells`) into one of three kinds:

* **number**: standardised by the training mean and spread; a blank is filled with the training median (neutral)
  and, when the training column had blanks, a "<column> missing" indicator (1/0) says it was blank;
* **yes/no**: 1/0, blanks as for numbers;
* **category**: one indicator per level seen at least :data:`MIN_LEVEL_ROWS` times in training, the rest and
  unseen levels in "other", a blank its own "(blank)" level.

The model is a logistic regression with an L2 penalty (scikit-learn's ``LogisticRegression``, ``C`` = 1) on those
columns, then calibrated by Platt scaling on 3-fold out-of-fold scores (``CalibratedClassifierCV``, sigmoid).
Platt scaling is itself a logistic function of the model's linear score, so the calibrated model is still one
linear score and one logistic: :class:`ChurnModel` keeps only numbers (the encoding, the coefficients, the
intercept) and scores with NumPy, the same probability a plain-cell formula or ``=CHURNPROB`` computes from them.

Too few churn events to learn from are refused (:class:`NotEnoughChurnEvents`): at least :data:`MIN_EVENTS`, and
5 per input column (Vittinghoff and McCulloch, "Relaxing the rule of ten events per variable in logistic and Cox
regression", Am J Epidemiol 2007: 5-9 events per variable are usually enough; the L2 penalty keeps the
coefficients stable at that count). The metrics (:class:`ChurnMetrics`) come from a backtest by time when the table
has a time column (train on earlier snapshots whose 90 days were over before the test period began, test on the
later ones), else from 5-fold cross-validation; beside them, any baseline columns on the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from csxl.cells import FALSE_WORDS, TRUE_WORDS, number_from_text
from csxl.churn_eval import ChurnMetrics, churn_metrics
from csxl.errors import InputError

__all__ = [
    "MIN_EVENTS",
    "ChurnModel",
    "Encoding",
    "NotEnoughChurnEvents",
    "fit_churn_model",
]

#: The fewest churn events (and the fewest non-churned rows) a model is fitted on.
MIN_EVENTS = 20
#: Events per input column below which the fit is refused (see the module).
EVENTS_PER_COLUMN = 5
#: A category level needs this many training rows to get its own indicator; rarer levels are "other".
MIN_LEVEL_ROWS = 10
#: The share of a column's filled cells that must read as numbers (or yes/no) for the column to be one.
_KIND_SHARE = 0.9

Kind = Literal["number", "yes/no", "category"]
FloatArray = npt.NDArray[np.float64]


class NotEnoughChurnEvents(InputError):
    """The table has too few churn events (or too few renewals) to learn from; the rule-based tiers stay."""

    def __init__(self, label: str, events: int, needed: int, rows: int) -> None:
        super().__init__(
            label,
            f"{events} churn events in {rows} rows",
            f"at least {needed} churn events and {needed} rows without churn to learn from",
            detail="keep using the rule-based health tiers until more outcomes are known",
        )
        self.events = events
        self.needed = needed


@dataclass(frozen=True)
class Encoding:
    """How one input column becomes model columns: its kind, the fill for blanks, the centre and scale (numbers and
    yes/no), whether a "missing" indicator is kept, and the levels (categories)."""

    column: str
    kind: Kind
    fill: float = 0.0
    mean: float = 0.0
    scale: float = 1.0
    indicator: bool = False
    levels: tuple[str, ...] = ()

    def names(self) -> list[str]:
        """The model columns this input column makes."""
        if self.kind == "category":
            return [f"{self.column} = {level}" for level in self.levels]
        return [self.column, *([f"{self.column} missing"] if self.indicator else [])]

    def transform(self, values: pd.Series[Any]) -> FloatArray:
        """The model columns of ``values`` (rows x :meth:`names`)."""
        if self.kind == "category":
            text = _categories(values)
            known = text.where(text.isin(self.levels), "other" if "other" in self.levels else None)
            return np.column_stack([(known == level).to_numpy(dtype=float) for level in self.levels])
        numbers, _bad = _numbers(values, self.kind)
        missing = np.isnan(numbers)
        scaled = (np.where(missing, self.fill, numbers) - self.mean) / self.scale
        return np.column_stack([scaled, missing.astype(float)]) if self.indicator else scaled[:, None]


@dataclass(frozen=True)
class ChurnModel:
    """A fitted churn model: the encodings, one coefficient per model column, the intercept (calibration folded in),
    the rows and events it was fitted on (``left_out``: rows without an outcome; ``unused``: input columns blank in
    every training row), its metrics. :meth:`predict` needs NumPy only."""

    encodings: tuple[Encoding, ...]
    coefficients: pd.Series
    intercept: float
    label: str
    rows: int
    events: int
    metrics: ChurnMetrics | None = None
    left_out: int = 0
    unused: tuple[str, ...] = ()

    def score(self, frame: pd.DataFrame) -> pd.Series:
        """The linear score (log-odds of churn) of each row of ``frame``, index kept."""
        matrix = _design(self.encodings, frame)
        values = matrix @ self.coefficients.to_numpy(dtype=float) + self.intercept
        out: pd.Series = pd.Series(values, index=frame.index, dtype=float)
        return out

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """The probability of churn (0..1) of each row of ``frame``, index kept. Columns the model uses must be
        there (:class:`InputError` naming them); any other column is ignored; blanks are filled as in training."""
        probability = _logistic(self.score(frame).to_numpy())
        out: pd.Series = pd.Series(probability, index=frame.index, dtype=float, name="churn_probability")
        return out

    def odds_ratios(self) -> pd.DataFrame:
        """Each model column's coefficient and odds ratio (per standard deviation for numbers, against the other
        levels for categories), the largest effects first."""
        out = pd.DataFrame({"coefficient": self.coefficients, "odds_ratio": np.exp(self.coefficients)})
        ordered: pd.DataFrame = out.reindex(out["coefficient"].abs().sort_values(ascending=False).index)
        return ordered

    def drivers(self, frame: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """The ``top`` model columns that push each row's score most (contribution = coefficient x value, in
        log-odds), with their direction (``raises`` or ``lowers`` the risk): one row per input row and rank."""
        matrix = _design(self.encodings, frame) * self.coefficients.to_numpy(dtype=float)
        order = np.argsort(-np.abs(matrix), axis=1, kind="stable")[:, :top]
        names = np.asarray(self.coefficients.index, dtype=object)
        rows = []
        for i, index in enumerate(frame.index):
            for rank, j in enumerate(order[i], start=1):
                value = float(matrix[i, j])
                rows.append((index, rank, names[j], "raises" if value > 0 else "lowers", value))
        table: pd.DataFrame = pd.DataFrame(rows, columns=["row", "rank", "feature", "direction", "contribution"])
        return table


# --------------------------------------------------------------------------------------------------------------------
# Reading cells
# --------------------------------------------------------------------------------------------------------------------


def _blank(values: pd.Series[Any]) -> npt.NDArray[np.bool_]:
    """Where a cell is blank (missing, or only spaces), for a whole column at once."""
    missing = values.isna().to_numpy(dtype=bool)
    if values.dtype.kind in "fiubmM":
        return missing
    text = values.astype(object).where(~missing, "").astype(str).str.strip()
    out: npt.NDArray[np.bool_] = missing | (text == "").to_numpy(dtype=bool)
    return out


def _numbers(values: pd.Series[Any], kind: Kind) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """A column as floats (NaN for blanks) and where a filled cell is not a number (or yes/no, read by
    :data:`csxl.cells.TRUE_WORDS` / ``FALSE_WORDS``), a whole column at once; text that only csxl's number rules
    read (``"1,200"``, ``"$5"``) cell by cell."""
    blank = _blank(values)
    if kind == "yes/no":
        if values.dtype.kind == "b":
            return values.to_numpy(dtype=float), np.zeros(len(values), dtype=bool)
        if values.dtype.kind in "fiu":
            numeric = values.to_numpy(dtype=float, na_value=np.nan)
            known = np.isin(numeric, (0.0, 1.0))
            return np.where(known, numeric, np.nan), ~known & ~np.isnan(numeric)
        text = values.astype(object).where(~blank, "").astype(str).str.strip().str.lower()
        numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        yes = text.isin(TRUE_WORDS).to_numpy(dtype=bool) | (numeric == 1)
        no = text.isin(FALSE_WORDS).to_numpy(dtype=bool) | (numeric == 0)
        out = np.where(yes, 1.0, np.where(no, 0.0, np.nan))
        return out, ~blank & ~yes & ~no
    if values.dtype.kind in "fiub":
        return values.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(values), dtype=bool)
    out = np.array(pd.to_numeric(values.where(~blank, None), errors="coerce"), dtype=float)
    slow = np.flatnonzero(np.isnan(out) & ~blank)
    if len(slow):  # only the cells a plain number reading cannot take, each distinct text once
        texts = values.iloc[slow].astype(str)
        read = {text: number_from_text(text) for text in pd.unique(texts)}
        out[slow] = texts.map(read).to_numpy(dtype=float, na_value=np.nan)
    return out, np.isnan(out) & ~blank


def _categories(values: pd.Series[Any]) -> pd.Series[Any]:
    """A column as trimmed text, ``(blank)`` for a blank cell."""
    blank = _blank(values)
    text = values.astype(object).where(~blank, "").astype(str).str.strip()
    out: pd.Series[Any] = text.where(~blank, "(blank)")
    return out


def _kind(values: pd.Series[Any]) -> Kind:
    """What a column holds: yes/no when (nearly) every filled cell is one, else a number likewise, else categories."""
    filled = values[~_blank(values)]
    if filled.empty:
        return "number"
    if filled.dtype.kind in "fiu":  # typed numbers: yes/no only when every one is 0 or 1
        return "yes/no" if bool(filled.isin((0, 1)).all()) else "number"
    if filled.dtype.kind == "b":
        return "yes/no"
    counts = filled.astype(object).value_counts()  # each distinct cell read once, weighted by how often it occurs
    distinct, weight = pd.Series(counts.index, dtype=object), counts.to_numpy(dtype=float)
    yes_no_cells, _ = _numbers(distinct, "yes/no")
    numbers, _ = _numbers(distinct, "number")
    beyond = (~np.isnan(numbers)) & (numbers != 0) & (numbers != 1)
    if weight[~np.isnan(yes_no_cells)].sum() >= _KIND_SHARE * weight.sum() and not beyond.any():
        return "yes/no"
    if weight[~np.isnan(numbers)].sum() >= _KIND_SHARE * weight.sum():
        return "number"
    return "category"


def _encode(column: str, values: pd.Series[Any]) -> Encoding:
    """The encoding of one training column (see the module)."""
    kind = _kind(values)
    if kind == "category":
        text = _categories(values)
        counts = text.value_counts()
        levels = sorted(str(level) for level, n in counts.items() if n >= MIN_LEVEL_ROWS)
        if (counts < MIN_LEVEL_ROWS).any():
            levels.append("other")
        return Encoding(column, "category", levels=tuple(levels))
    numbers, _bad = _numbers(values, kind)
    present = numbers[~np.isnan(numbers)]
    fill = float(np.median(present)) if len(present) else 0.0
    filled = np.where(np.isnan(numbers), fill, numbers)
    spread = float(filled.std())
    return Encoding(
        column, kind, fill=fill, mean=float(filled.mean()), scale=spread if spread > 0 else 1.0,
        indicator=bool(np.isnan(numbers).any()),
    )  # fmt: skip


def _design(encodings: Sequence[Encoding], frame: pd.DataFrame) -> FloatArray:
    missing = [e.column for e in encodings if e.column not in frame.columns]
    if missing:
        raise InputError("frame", ", ".join(missing), "a table with the columns the model was fitted on")
    if not encodings:
        return np.zeros((len(frame), 0))
    return np.column_stack([e.transform(frame[e.column]) for e in encodings])


def _logistic(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))  # 1 / (1 + e^-z) without overflow
    return out


def _labels(values: pd.Series[Any], label: str) -> FloatArray:
    """The label as 1.0 (churned) / 0.0 / NaN (blank: the row is left out, counted); a cell that is not yes/no is an
    :class:`InputError` naming the first such row."""
    out, bad = _numbers(values, "yes/no")
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(f"{label} (row {values.index[first]})", values.iloc[first], "yes/no (1/0, true/false)")
    return out


# --------------------------------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------------------------------


def fit_churn_model(
    frame: pd.DataFrame,
    label: str = "churned",
    *,
    features: Sequence[str] | None = None,
    time: str | None = None,
    horizon_days: int = 90,
    baselines: Mapping[str, str] | None = None,
    seed: int = 0,
) -> ChurnModel:
    """Fit the churn model (see the module) on ``frame``: ``label`` the yes/no outcome, ``features`` the input
    columns (default: every other column but ``time``), ``time`` a date column for the
    backtest by time (rows of the last ``horizon_days`` before a test period never train it), ``baselines`` name ->
    column whose value ranks risk (``-health_score``: a leading minus when lower means riskier), measured on the same
    held-out rows. Raises :class:`NotEnoughChurnEvents` when the table cannot support a model."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError("frame", type(frame).__name__, "a table (a pandas DataFrame)")
    for name, value in (("label", label), ("time", time)):
        if not (isinstance(value, str) or (name == "time" and value is None)):
            raise InputError(name, value, "a column name (text)")
    if features is not None and (isinstance(features, str) or not all(isinstance(f, str) for f in features)):
        raise InputError("features", features, "a list of column names")
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise InputError("horizon_days", horizon_days, "a whole number of days >= 1")
    if baselines is not None and not (
        isinstance(baselines, Mapping) and all(isinstance(v, str) for v in baselines.values())
    ):
        raise InputError("baselines", baselines, "a mapping of name -> column name")
    if label not in frame.columns:
        raise InputError("label", label, f"a column of the table ({', '.join(map(str, frame.columns[:20]))})")
    y_all = _labels(frame[label], label)
    known = ~np.isnan(y_all)
    data, y = frame[known], y_all[known]
    given = list(features) if features is not None else [c for c in frame.columns if c not in (label, time)]
    missing = [c for c in given if c not in frame.columns]
    if missing:
        raise InputError("features", ", ".join(map(str, missing)), "columns of the table")
    # a column with no value in the training rows carries nothing to learn: left out, named on the model
    columns = [c for c in given if not _blank(data[c]).all()]
    events, rows = int(y.sum()), len(y)
    needed = max(MIN_EVENTS, EVENTS_PER_COLUMN * len(columns))
    if events < needed or rows - events < needed:
        raise NotEnoughChurnEvents(label, events, needed, rows)
    model = _fit(data, y, columns, label, seed)
    metrics = churn_metrics_of(data, y, columns, label, time, horizon_days, baselines or {}, seed)
    unused = tuple(c for c in given if c not in columns)
    return ChurnModel(
        model.encodings, model.coefficients, model.intercept, label, rows, events, metrics, int((~known).sum()), unused
    )


def _fit(data: pd.DataFrame, y: FloatArray, columns: Sequence[str], label: str, seed: int) -> ChurnModel:
    """The calibrated logistic regression on ``data`` (no metrics)."""
    # deferred: scikit-learn fits the model; scoring a fitted model needs NumPy only (Excel, Lite)
    from sklearn.calibration import CalibratedClassifierCV

    # deferred: as above
    from sklearn.linear_model import LogisticRegression

    encodings = tuple(_encode(c, data[c]) for c in columns)
    matrix = _design(encodings, data)
    folds = int(min(3, y.sum(), len(y) - y.sum()))  # Platt needs out-of-fold scores, not many folds
    base = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=100)  # exact Newton: many rows, few columns
    jobs = 2 if len(y) > 100_000 else None  # the folds side by side on a big table (a worker costs ~1 s to start)
    calibrated = CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False, n_jobs=jobs)
    calibrated.fit(matrix, y.astype(int))
    fitted = calibrated.calibrated_classifiers_[0]
    weights, intercept = fitted.estimator.coef_[0], float(fitted.estimator.intercept_[0])
    platt = fitted.calibrators[0]  # p = 1 / (1 + exp(a * score + b))
    a, b = float(platt.a_), float(platt.b_)
    names = [n for e in encodings for n in e.names()]
    coefficients = pd.Series(-a * weights, index=pd.Index(names), dtype=float)
    return ChurnModel(encodings, coefficients, -a * intercept - b, label, len(y), int(y.sum()))


# --------------------------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------------------------


def churn_metrics_of(
    data: pd.DataFrame,
    y: FloatArray,
    columns: Sequence[str],
    label: str,
    time: str | None,
    horizon_days: int,
    baselines: Mapping[str, str],
    seed: int,
) -> ChurnMetrics | None:
    """Held-out metrics of the model fitted as :func:`fit_churn_model` fits it: by time when ``time`` is given, else
    5-fold cross-validation; ``None`` when the held-out rows hold a single outcome."""
    if time is not None:
        held, predicted, method = _by_time(data, y, columns, label, time, horizon_days, seed)
    else:
        held, predicted, method = _by_folds(data, y, columns, label, seed)
    truth = y[held]
    if not len(truth) or truth.min() == truth.max():
        return None
    metrics = churn_metrics(truth, predicted, method=method)
    compared: dict[str, Mapping[str, float]] = {}
    for name, column in baselines.items():
        source = column.lstrip("-")
        if source not in data.columns:
            raise InputError("baselines", column, "a column of the table")
        values, _bad = _numbers(data[source].iloc[held], "number")
        if np.isnan(values).all():
            continue  # not measured on these rows: no comparison to make
        values = np.where(np.isnan(values), np.nanmedian(values), values)
        risk = -values if column.startswith("-") else values
        other = churn_metrics(truth, risk, method=method)
        compared[name] = {"roc_auc": other.roc_auc, "pr_auc": other.pr_auc, "lift_10": other.lift_10,
                          "lift_20": other.lift_20}  # fmt: skip
    return ChurnMetrics(**{**metrics.__dict__, "baselines": compared})


def _by_folds(
    data: pd.DataFrame, y: FloatArray, columns: Sequence[str], label: str, seed: int
) -> tuple[npt.NDArray[np.intp], FloatArray, str]:
    # deferred: scikit-learn's stratified folds
    from sklearn.model_selection import StratifiedKFold

    predicted = np.full(len(y), np.nan)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        model = _fit(data.iloc[train], y[train], columns, label, seed)
        predicted[test] = model.predict(data.iloc[test]).to_numpy()
    return np.arange(len(y)), predicted, "5-fold"


def _by_time(
    data: pd.DataFrame, y: FloatArray, columns: Sequence[str], label: str, time: str, horizon_days: int, seed: int
) -> tuple[npt.NDArray[np.intp], FloatArray, str]:
    """Train on the earlier snapshots, test on the last ~30 % of snapshot dates; a training row's outcome window
    (``horizon_days`` after its date) ends before the first test date."""
    if time not in data.columns:
        raise InputError("time", time, "a date column of the table")
    when = pd.to_datetime(data[time], errors="coerce")
    dates = np.sort(when.dropna().unique())
    if len(dates) < 2:
        raise InputError("time", f"{len(dates)} distinct dates", "at least two snapshot dates for a backtest by time")
    first_test = pd.Timestamp(dates[int(len(dates) * 0.7)]) if len(dates) > 2 else pd.Timestamp(dates[-1])
    train = np.flatnonzero((when + pd.Timedelta(days=horizon_days) <= first_test).to_numpy())
    test = np.flatnonzero((when >= first_test).to_numpy())
    y_train = y[train]
    if not len(train) or y_train.min() == y_train.max():
        raise NotEnoughChurnEvents(label, int(y_train.sum()), MIN_EVENTS, len(train))
    model = _fit(data.iloc[train], y_train, columns, label, seed)
    return test, model.predict(data.iloc[test]).to_numpy(), f"time (train before {first_test:%Y-%m-%d})"
