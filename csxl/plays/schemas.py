"""The published JSON schemas of every ``--json`` output (``docs/schemas/<command>.json``, ``csxl schema``).

A schema is the pydantic model's JSON schema (validation mode of the serialised output), so what ``--json`` prints
validates against it; ``tests/test_schemas.py`` checks both that the committed files are current and that real
outputs validate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from csxl.errors import FileError
from csxl.outcome_models import CalibrationOutput, ChurnOutput
from csxl.plays import PLAYS
from csxl.plays.measures import SpecMeasures
from csxl.plays.onboarding_metrics import OnboardingMetrics
from csxl.plays.playbook import playbook_schema
from csxl.plays.support import Priority
from csxl.plays.survey_report import SurveyReport
from csxl.report_models import (
    AccountsImportOutput,
    BackfillOutput,
    BillingImportOutput,
    DemoOutput,
    EventsImportOutput,
    SurveysImportOutput,
    TicketsImportOutput,
)

__all__ = ["IMPORT_OUTPUTS", "SCHEMAS", "write_schemas"]


def _play_schema(name: str) -> Callable[[], dict[str, Any]]:
    return lambda: PLAYS[name].result.model_json_schema(mode="serialization")


def _playbook() -> dict[str, Any]:

    return playbook_schema()


def _surveys() -> dict[str, Any]:

    return SurveyReport.model_json_schema(mode="serialization")


def _support() -> dict[str, Any]:

    return Priority.model_json_schema(mode="serialization")


def _of(model: type[BaseModel]) -> Callable[[], dict[str, Any]]:
    return lambda: model.model_json_schema(mode="serialization")


#: ``csxl import KIND --json`` -> its document.
IMPORT_OUTPUTS: dict[str, type[BaseModel]] = {
    "accounts": AccountsImportOutput,
    "billing": BillingImportOutput,
    "events": EventsImportOutput,
    "surveys": SurveysImportOutput,
    "tickets": TicketsImportOutput,
}

#: Command -> its schema (the twelve plays, then the reporting extras, what learns from outcomes, the imports, the
#: backfill and the demo summary); ``import-<kind>`` is ``csxl import <kind>``.
SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    **{name: _play_schema(name) for name in sorted(PLAYS, key=lambda n: PLAYS[n].number)},
    "playbook": _playbook,
    "surveys": _surveys,
    "support": _support,
    "onboarding-metrics": lambda: OnboardingMetrics.model_json_schema(mode="serialization"),
    "measures": lambda: SpecMeasures.model_json_schema(mode="serialization"),
    "churn": lambda: ChurnOutput.model_json_schema(mode="serialization"),
    "calibrate": lambda: CalibrationOutput.model_json_schema(mode="serialization"),
    **{f"import-{kind}": _of(model) for kind, model in IMPORT_OUTPUTS.items()},
    "backfill": _of(BackfillOutput),
    "demo": _of(DemoOutput),
}


def write_schemas(folder: str | Path) -> list[Path]:
    """Write ``<command>.json`` for every command into ``folder`` (created if missing); returns the paths."""
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        out = []
        for name, schema in SCHEMAS.items():
            path = target / f"{name}.json"
            path.write_text(json.dumps(schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
            out.append(path)
    except OSError as exc:
        raise FileError(str(target), f"cannot write the schemas ({exc.strerror or exc})") from None
    return out
