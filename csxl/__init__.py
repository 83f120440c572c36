"""csxl: spreadsheet-native customer success.

The public API is the pure core (health scoring, signals, revenue and cohort metrics, surveys, table loaders, the demo
portfolio) plus the workbook entry points. Everything here is importable as ``csxl.<name>``; modules whose names start
with an underscore, and names not listed in ``__all__``, are internal and may change.

Importing :mod:`csxl` loads pandas, numpy and pydantic only; the workbook functions load openpyxl on first use.
"""

import importlib as _importlib
import typing as _typing

from csxl.churn import ChurnModel, NotEnoughChurnEvents, fit_churn_model
from csxl.churn_eval import ChurnMetrics, churn_metrics
from csxl.cohorts import cohort_grr, cohort_nrr, cohort_sizes, cohort_table
from csxl.demo import DemoData, demo_portfolio
from csxl.dimensions import score_engagement, score_financial, score_outcomes, score_relationship, score_usage
from csxl.errors import CsxlError, FileError, InputError, RowIssue, TableError
from csxl.health import churn_tier, explain_health, health_score, health_tier, main_risk, simple_points, simple_tier
from csxl.models import AccountRecord, MrrRow, SurveyResponse
from csxl.portfolio import Portfolio
from csxl.revenue import (
    cac_payback,
    grr,
    lifetime_months,
    logo_churn_rate,
    ltv,
    mrr_matrix,
    mrr_movements,
    nrr,
    period_rates,
    quick_ratio,
    revenue_churn_rate,
)
from csxl.scoring import dimension_scores, score_accounts, simple_points_frame
from csxl.settings import HEALTH_WEIGHTS, TIER_SCHEMES, Settings, TierScheme
from csxl.signals import SIGNALS, signal_rag
from csxl.surveys import SurveySummary, ces, csat, nps, nps_category, nps_followup, survey_summary
from csxl.tables import LoadResult, load_accounts, load_mrr, load_surveys

if _typing.TYPE_CHECKING:
    from csxl.book import build_template

__version__ = "0.1.0"

__all__ = [
    "HEALTH_WEIGHTS",
    "SIGNALS",
    "TIER_SCHEMES",
    "AccountRecord",
    "ChurnMetrics",
    "ChurnModel",
    "CsxlError",
    "DemoData",
    "FileError",
    "InputError",
    "LoadResult",
    "MrrRow",
    "NotEnoughChurnEvents",
    "Portfolio",
    "RowIssue",
    "Settings",
    "SurveyResponse",
    "SurveySummary",
    "TableError",
    "TierScheme",
    "build_template",
    "cac_payback",
    "ces",
    "churn_metrics",
    "churn_tier",
    "cohort_grr",
    "cohort_nrr",
    "cohort_sizes",
    "cohort_table",
    "csat",
    "demo_portfolio",
    "dimension_scores",
    "explain_health",
    "fit_churn_model",
    "grr",
    "health_score",
    "health_tier",
    "lifetime_months",
    "load_accounts",
    "load_mrr",
    "load_surveys",
    "logo_churn_rate",
    "ltv",
    "main_risk",
    "mrr_matrix",
    "mrr_movements",
    "nps",
    "nps_category",
    "nps_followup",
    "nrr",
    "period_rates",
    "quick_ratio",
    "revenue_churn_rate",
    "score_accounts",
    "score_engagement",
    "score_financial",
    "score_outcomes",
    "score_relationship",
    "score_usage",
    "signal_rag",
    "simple_points",
    "simple_points_frame",
    "simple_tier",
    "survey_summary",
]

# Workbook entry points live in the workbook edge (openpyxl); they load on first use so ``import csxl`` stays pure.
_LAZY = {"build_template": "csxl.book"}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        return getattr(_importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'csxl' has no attribute {name!r}")
