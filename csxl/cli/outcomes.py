"""``csxl churn`` and ``csxl calibrate``: what the workbook's own outcomes say (:mod:`csxl.outcomes`)."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import click

import csxl
from csxl.calibration import TARGET_SHARES, Distribution
from csxl.churn_frame import HealthBacktest
from csxl.cli.common import AS_OF, PATH, friendly
from csxl.outcome_models import (
    BaselineMetrics,
    CalibrationOutput,
    ChurnOutput,
    ColourShares,
    HealthScoreBacktest,
    ModelMetrics,
    SuggestedBounds,
    TierBounds,
    WeightsOutput,
)
from csxl.outcomes import Calibration, ChurnReport, calibrate, churn_report

__all__ = ["calibrate_cmd", "churn_cmd"]


@click.command("churn")
@click.option("--book", "book", required=True, type=PATH, help="The workbook whose history to learn from.")
@AS_OF
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 1_000_000), help="Accounts to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the model and every live account as JSON.")
@click.option("--apply", "apply", is_flag=True, help="Store the model in the workbook (Model sheet) and refresh it.")
@click.option("--force", is_flag=True, help="Write even if Excel's lock file says the workbook is open.")
@friendly
def churn_cmd(book: Path, as_of: _dt.date | None, top: int, as_json: bool, apply: bool, force: bool) -> None:
    """Live accounts ranked by expected ARR loss in the next 90 days (ARR x churn probability), from a churn model
    fitted on the workbook's own past month ends and backtested by time. Too few churns in its history: exit 2,
    saying how many there are and how many are needed (the health tiers stay the guide). With --apply the model is
    stored on the Model sheet and every refresh scores the Accounts churn columns and the Churn sheet with it."""

    found = churn_report(book, as_of=as_of, apply=apply, force=force)
    health = found.health
    if not as_json:
        _say_health(health)
    if found.ranking is None:
        raise found.refused or csxl.InputError("book", str(book), "a workbook with churn history")
    result = found.ranking
    model, metrics = result.model, result.model.metrics
    if as_json:
        click.echo(_churn_json(found, apply).model_dump_json(indent=2))
        return
    click.echo(
        f"csxl churn model as of {result.as_of:%Y-%m-%d}: {model.rows} account-months from {result.snapshots} month "
        f"ends, {model.events} churned within 90 days"
    )
    if metrics is not None:
        versus = ", ".join(f"{name} {m['roc_auc']:.2f}" for name, m in metrics.baselines.items()) or "none measured"
        click.echo(
            f"  backtest ({metrics.method}): ROC AUC {metrics.roc_auc:.2f} (baselines: {versus}), lift in the top "
            f"10 % {metrics.lift_10:.1f}x"
        )
    if model.unused:
        click.echo(f"  not learned from (blank in every past month): {', '.join(model.unused)}")
    click.echo(f"\n  {'Account':<28} {'ARR':>12} {'P(churn)':>9} {'Tier':<9} {'Expected loss':>14}  Drivers")
    for row in result.accounts.head(top).itertuples():
        click.echo(
            f"  {str(row.account)[:28]:<28} {row.arr:>12,.0f} {row.probability:>9.1%} {row.tier!s:<9} "
            f"{row.expected_loss:>14,.0f}  {row.drivers}"
        )
    if apply:
        click.echo(f"\ncsxl: model stored on the Model sheet of {book}; refreshed: Accounts churn columns, Churn sheet")


def _say_health(health: HealthBacktest) -> None:
    if not health.rows:
        click.echo("csxl: your health score: no scored History snapshot has had its 90 days yet")
        return
    auc = f"ROC AUC {health.roc_auc:.2f}" if health.roc_auc is not None else "no churn among them"
    click.echo(
        f"csxl: your health score over {health.rows} account-snapshots ({health.snapshots} dates, {health.events} "
        f"churned within 90 days): {auc}"
    )
    for row in health.by_tier.itertuples():
        click.echo(
            f"  {row.tier!s:<18} {row.accounts:>6} snapshots, {row.churned:>5} churned: {row.rate:>6.1%} "
            f"(95 % {row.low:.1%}-{row.high:.1%})"
        )


@click.command("calibrate")
@click.option("--book", "book", required=True, type=PATH, help="The workbook whose health score to calibrate.")
@click.option("--method", type=click.Choice(["percentile", "outcome"]), default="percentile", show_default=True,
              help="percentile: top 20 % green, bottom 20 % red; outcome: the scores that best separate churned "
              "from renewed and expanded accounts.")  # fmt: skip
@AS_OF
@click.option("--apply", "apply", is_flag=True, help="Write the suggested thresholds and weights to Settings.")
@click.option("--force", is_flag=True, help="Write even if Excel's lock file says the workbook is open.")
@click.option("--json", "as_json", is_flag=True, help="Print the suggestion as JSON.")
@friendly
def calibrate_cmd(book: Path, method: str, as_of: _dt.date | None, apply: bool, force: bool, as_json: bool) -> None:
    """Suggested health tier thresholds and dimension weights from the workbook's own data, with the tier
    distribution each gives against the spec's target (Green 50-60 %, Yellow 30-40 %, Red 10-20 %). Nothing is
    written without --apply. No threshold could be suggested: exit 2, saying why."""
    found = calibrate(book, method="outcome" if method == "outcome" else "percentile", as_of=as_of, apply=apply,
                      force=force)  # fmt: skip
    if as_json:
        click.echo(_calibration_json(found).model_dump_json(indent=2))
    else:
        _say_calibration(found)
    if found.suggested is None:
        raise csxl.InputError("book", str(book), "a workbook whose health scores can be calibrated",
                              detail=found.refused or "")  # fmt: skip


def _bounds(scheme: csxl.TierScheme) -> str:
    return ", ".join(f"{label} from {bound:g}" for label, bound in scheme.bounds[:-1])


def _shares(found: Distribution) -> str:
    return ", ".join(f"{colour} {share:.0%}" for colour, share in found.shares.items())


def _say_calibration(found: Calibration) -> None:
    target = ", ".join(f"{c} {lo:.0%}-{hi:.0%}" for c, (lo, hi) in TARGET_SHARES.items())
    click.echo(f"csxl calibrate ({found.method}), preset {found.scheme.name}; the spec's target: {target}")
    click.echo(f"  now:       {_bounds(found.scheme)}  ->  {_shares(found.current)} of {found.current.accounts}")
    for line in filter(None, [found.current.warning]):
        click.echo(f"             warning: {line}")
    if found.suggested is None or found.proposed is None:
        click.echo(f"  suggested: none ({found.refused})")
    else:
        click.echo(f"  suggested: {_bounds(found.suggested)}  ->  {_shares(found.proposed)}")
        for line in filter(None, [found.proposed.warning, *found.proposed.off_target()]):
            click.echo(f"             {line}")
    now = ", ".join(f"{d} {w:.2f}" for d, w in found.current_weights.items())
    click.echo(f"  weights now: {now}")
    if found.weights is None:
        click.echo(f"  weights from outcomes: none ({found.weights_refused})")
    else:
        fitted = found.weights
        suggested = ", ".join(f"{d} {w:.2f}" for d, w in fitted.weights.items())
        auc = "no held-out AUC"
        if fitted.auc_suggested is not None and fitted.auc_current is not None:
            auc = f"held-out ROC AUC {fitted.auc_suggested:.2f} against {fitted.auc_current:.2f} now ({fitted.method})"
        counts = f"{fitted.rows} account-months, {fitted.events} churned"
        click.echo(f"  weights from outcomes: {suggested}; {auc}; {counts}")
    if found.applied:
        click.echo("csxl: written to Settings and refreshed")
    elif found.suggested is not None:
        click.echo("csxl: nothing written; --apply writes the suggestion to Settings")


def _churn_json(found: ChurnReport, apply: bool) -> ChurnOutput:
    health, result = found.health, found.ranking
    assert result is not None
    model, metrics = result.model, result.model.metrics
    return ChurnOutput(
        health_score=HealthScoreBacktest(
            rows=health.rows, snapshots=health.snapshots, churn_events=health.events, roc_auc=health.roc_auc,
            churn_correlation=health.churn_correlation, expansion_correlation=health.expansion_correlation,
            by_tier=json.loads(health.by_tier.to_json(orient="records")),
        ),
        as_of=result.as_of, applied=apply, snapshots=result.snapshots, trained_from=result.window[0],
        trained_to=result.window[1], rows=model.rows, churn_events=model.events,
        unused_inputs=list(model.unused),
        metrics=None if metrics is None else ModelMetrics(
            method=metrics.method, roc_auc=metrics.roc_auc, pr_auc=metrics.pr_auc, brier=metrics.brier,
            lift_10=metrics.lift_10, lift_20=metrics.lift_20,
            baselines={k: BaselineMetrics(**v) for k, v in metrics.baselines.items()},
        ),
        odds_ratios={str(k): float(v) for k, v in model.odds_ratios()["odds_ratio"].items()},
        accounts=json.loads(result.accounts.to_json(orient="records")),
    )  # fmt: skip


def _bounds_of(scheme: csxl.TierScheme, found: Distribution) -> dict[str, object]:
    return {"bounds": dict(scheme.bounds[:-1]), "shares": ColourShares(**found.shares), "accounts": found.accounts,
            "warning": found.warning}  # fmt: skip


def _calibration_json(found: Calibration) -> CalibrationOutput:
    weights = found.weights
    suggested = None
    if found.suggested is not None and found.proposed is not None:
        suggested = SuggestedBounds(**_bounds_of(found.suggested, found.proposed),
                                    off_target=found.proposed.off_target())  # fmt: skip
    return CalibrationOutput(
        method=found.method, preset=found.scheme.name, target=dict(TARGET_SHARES),
        current=TierBounds(**_bounds_of(found.scheme, found.current)),
        suggested=suggested, refused=found.refused,
        weights=WeightsOutput(
            current=found.current_weights, suggested=None if weights is None else weights.weights,
            auc_suggested=None if weights is None else weights.auc_suggested,
            auc_current=None if weights is None else weights.auc_current,
            method=None if weights is None else weights.method, refused=found.weights_refused,
        ),
        applied=found.applied,
    )  # fmt: skip
