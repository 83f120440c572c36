"""The public API is small, sorted and deliberate: adding or removing a name must be a visible change here."""

from __future__ import annotations

import pytest

import csxl

#: The exact public surface (other code, the Excel functions and the CLI rely on these names).
EXPECTED = [
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


def _isort_key(name: str) -> tuple[int, str]:
    """Constants first, then classes, then functions; each group alphabetical (ruff's RUF022 order)."""
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return group, name


def test_all_is_exactly_the_documented_api() -> None:
    assert csxl.__all__ == EXPECTED


def test_all_is_sorted() -> None:
    assert csxl.__all__ == sorted(csxl.__all__, key=_isort_key)


def test_every_name_resolves_and_is_documented() -> None:
    for name in csxl.__all__:
        obj = getattr(csxl, name)
        if callable(obj) and not isinstance(obj, type):
            assert obj.__doc__, f"csxl.{name} has no docstring"


def test_no_private_leak() -> None:
    public = {n for n in dir(csxl) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(csxl, n)).__name__ == "module"}
    # what is public but not in __all__ may only be the submodules themselves (csxl.health, ...)
    assert public - set(csxl.__all__) - modules == set()


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        csxl.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
