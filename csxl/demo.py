"""A realistic, seeded demo portfolio (pure: numpy and pandas only).

The generator draws one latent "true health" ``h`` in 0..1 per account and lets every signal, the MRR path and the
survey answers depend on it, so that the demo behaves like real data: low-health accounts log in less, lose their
champion, pay late, answer NPS as detractors, contract and churn more often. Same seed, same portfolio, on every
machine (NumPy's PCG64 generator).

Segments and ARR bands follow the engine spec's touch-cadence table: Enterprise $100K+, Mid-Market $25-100K,
SMB $5-25K, Self-Serve < $5K.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Union

import numpy as np
import pandas as pd

from csxl.errors import InputError
from csxl.health import health_tier
from csxl.settings import TierScheme

__all__ = [
    "DemoData",
    "demo_history",
    "demo_portfolio",
]

#: segment -> (share of accounts, ARR low, ARR high) in currency units per year.
SEGMENTS: dict[str, tuple[float, float, float]] = {
    "enterprise": (0.10, 100_000, 400_000),
    "mid-market": (0.30, 25_000, 100_000),
    "smb": (0.45, 5_000, 25_000),
    "self-serve": (0.15, 600, 5_000),
}
CSMS = ("Ana Ruiz", "Ben Okafor", "Chloe Martin", "Dev Patel", "Emma Svensson")
#: The agent spec's churn-reason taxonomy.
CHURN_REASONS = (
    "Value", "Price", "Competition", "Product", "Support", "Business Change", "Champion Left", "Involuntary",
)  # fmt: skip
_NAME_A = (
    "Acme", "Blue", "Cedar", "Delta", "Echo", "Falcon", "Granite", "Harbor", "Iris", "Juniper", "Kite", "Lumen",
    "Maple", "Nova", "Orbit", "Pine", "Quartz", "River", "Summit", "Tidal", "Umber", "Vertex", "Willow", "Zephyr",
)  # fmt: skip
_NAME_B = ("Labs", "Systems", "Health", "Logistics", "Analytics", "Foods", "Retail", "Capital", "Studio", "Works", "AI")


@dataclass(frozen=True)
class DemoData:
    """The three input tables of a workbook: accounts, monthly MRR (long) and survey responses."""

    accounts: pd.DataFrame
    mrr: pd.DataFrame
    surveys: pd.DataFrame
    as_of: date


def _names(rng: np.random.Generator, n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        name = f"{rng.choice(_NAME_A)} {rng.choice(_NAME_B)}"
        if name in seen:
            name = f"{name} {len(out) + 1}"
        seen.add(name)
        out.append(name)
    return out


def demo_portfolio(accounts: int = 250, seed: int = 7, months: int = 24, as_of: date | None = None) -> DemoData:
    """Generate ``accounts`` accounts with ``months`` months of MRR ending in ``as_of``'s month (default 2026-10-31).

    MRR paths contain new business, expansion, contraction, churn (MRR reaches 0) and reactivation. Churned accounts
    stay in the accounts table with ARR 0 and a churn reason (they feed win-back plays).
    """
    for name, value, least in (("accounts", accounts, 1), ("months", months, 2), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise InputError(name, value, f"a whole number >= {least}")
    if as_of is not None and not isinstance(as_of, date):
        raise InputError("as_of", as_of, "a date")
    as_of = as_of or date(2026, 10, 31)
    rng = np.random.default_rng(seed)
    n = accounts
    health = rng.beta(4.0, 2.2, n)  # latent 0..1, mean ~0.65: most accounts fine, a tail at risk

    seg_names = list(SEGMENTS)
    seg_p = np.array([SEGMENTS[s][0] for s in seg_names])
    segment = rng.choice(seg_names, size=n, p=seg_p / seg_p.sum())
    lo = np.array([SEGMENTS[s][1] for s in segment])
    hi = np.array([SEGMENTS[s][2] for s in segment])
    arr0 = np.round(lo * (hi / lo) ** rng.random(n), -2)  # log-uniform inside the band, whole hundreds

    month_index = pd.period_range(end=pd.Period(as_of, freq="M"), periods=months, freq="M")
    mrr, start_col = _mrr_paths(rng, health, arr0, months)
    ids = np.array(_names(rng, n), dtype=object)
    long = pd.DataFrame(
        {
            "account": np.repeat(ids, months),
            "month": np.tile(month_index.to_timestamp().date, n),
            "mrr": mrr.reshape(-1),
        }
    )
    long = long[long["mrr"] > 0].reset_index(drop=True)

    accounts_frame = _accounts(rng, ids, segment, arr0, health, mrr, start_col, month_index, as_of)
    surveys = _surveys(rng, ids, health, as_of)
    return DemoData(accounts=accounts_frame, mrr=long, surveys=surveys, as_of=as_of)


def _mrr_paths(
    rng: np.random.Generator, health: np.ndarray, arr0: np.ndarray, months: int
) -> tuple[np.ndarray, np.ndarray]:
    """MRR per account and month (new, expansion, contraction, churn, reactivation) and each account's start month."""
    n = len(health)
    start_col = np.where(rng.random(n) < 0.35, 0, rng.integers(0, months, n))  # 35 % already customers at month 0
    mrr = np.zeros((n, months))
    level = arr0 / 12.0
    active = np.zeros(n, dtype=bool)
    churned_ever = np.zeros(n, dtype=bool)
    p_churn = 0.003 + 0.08 * (1 - health) ** 2  # monthly, ~1.6 % on average; healthy accounts rarely churn
    for m in range(months):
        starting = start_col == m
        active |= starting
        roll = rng.random(n)
        churn_now = active & ~starting & (roll < p_churn)
        active &= ~churn_now
        churned_ever |= churn_now
        back = ~active & churned_ever & (rng.random(n) < 0.015)  # reactivation
        active |= back
        move = rng.random(n)
        expand = active & ~starting & (move < 0.02 + 0.06 * health)
        contract = active & ~starting & ~expand & (move > 0.985 - 0.04 * (1 - health))
        level = np.where(expand, level * rng.uniform(1.1, 1.5, n), level)
        level = np.where(contract, level * rng.uniform(0.6, 0.9, n), level)
        mrr[:, m] = np.where(active, np.round(level, 0), 0.0)
    return mrr, start_col


def _accounts(
    rng: np.random.Generator,
    ids: np.ndarray,
    segment: np.ndarray,
    arr0: np.ndarray,
    health: np.ndarray,
    mrr: np.ndarray,
    start_col: np.ndarray,
    month_index: pd.PeriodIndex,
    as_of: date,
) -> pd.DataFrame:
    """The Accounts table: every signal drawn around the account's latent health (0..1)."""
    n = len(ids)

    def noisy(scale: float = 0.15) -> np.ndarray:
        return np.clip(health + rng.normal(0, scale, n), 0, 1)

    last_mrr = mrr[:, -1]
    is_churned = last_mrr == 0
    start_date, renewal = _contract_dates(rng, start_col, month_index, as_of)
    features_available = np.full(n, 12)
    seats_purchased = np.maximum(3, np.round(arr0 / 6_000)).astype(int)  # about USD 500 a seat a month
    goals_defined = rng.integers(0, 6, n)
    champion_state = np.select(
        [noisy() < 0.25, noisy() < 0.45, noisy() < 0.7], ["left", "new", "weak"], default="strong"
    ).astype(object)
    sponsor_state = np.select([noisy() < 0.35, noisy() < 0.6], ["none", "identified"], default="engaged").astype(object)
    trend_cut = noisy(0.2)
    trend = np.select([trend_cut < 0.35, trend_cut < 0.65], ["down", "flat"], default="up").astype(object)
    pay = noisy()
    payment = np.select([pay < 0.12, pay < 0.3], ["delinquent", "late"], default="current").astype(object)
    contract_trend = np.select([noisy() < 0.3, noisy() < 0.75], ["downgraded", "flat"], default="expanded")

    nps = np.clip(np.round(10 * noisy(0.2) ** 0.8 + rng.normal(0, 1, n)), 0, 10)
    nps[rng.random(n) < 0.08] = np.nan  # some never answered
    accounts_frame: pd.DataFrame = pd.DataFrame(
        {
            "account": ids,
            "segment": segment,
            "arr": np.round(last_mrr * 12, 2),
            "csm": rng.choice(CSMS, n),
            "renewal_date": renewal,
            "start_date": start_date,
            "dau_mau": np.round(np.clip(0.05 + 0.6 * noisy() ** 1.4, 0, 1), 3),
            "core_actions_weekly": np.round(60 * noisy() ** 2).astype(int),
            "features_adopted": np.round(1 + 10 * noisy() ** 1.5).astype(int),
            "features_available": features_available,
            "usage_trend": trend,
            "login_trend": np.where(rng.random(n) < 0.8, trend, "flat"),
            "logins_per_week": np.round(6 * noisy() ** 1.5, 1),
            "days_since_login": np.round(30 * (1 - noisy()) ** 3).astype(int),
            "support_tickets_30d": rng.poisson(1 + 6 * (1 - health)),
            "community_active": rng.random(n) < 0.6 * health,
            "champion": pd.Series(rng.choice(["Alex Kim", "Sam Lee", "Jo Park"], n), dtype=object).mask(
                champion_state == "left"
            ),
            "champion_status": champion_state,
            "exec_sponsor": pd.Series("VP Operations", index=range(n), dtype=object).mask(sponsor_state == "none"),
            "exec_sponsor_status": sponsor_state,
            "contacts_count": np.maximum(1, np.round(1 + 6 * noisy() ** 1.3)).astype(int),
            "seats_purchased": seats_purchased,
            "seats_active": np.round(seats_purchased * np.clip(noisy() * 1.05, 0.05, 1)).astype(int),
            "integration": np.select(
                [noisy() < 0.3, noisy() < 0.6], ["disconnected", "partial"], default="connected"
            ).astype(object),
            "goals_defined": goals_defined,
            "goals_achieved": np.minimum(goals_defined, np.round(goals_defined * noisy() ** 1.2)).astype(int),
            "roi_documented": rng.random(n) < health * 0.7,
            "payment_status": payment,
            "contract_trend": contract_trend,
            "contraction_risk": rng.random(n) < 0.4 * (1 - health),
            "nps": nps,
            "churn_reason": pd.Series(rng.choice(CHURN_REASONS, n), dtype=object).where(is_churned),
        }
    )
    return accounts_frame


def _contract_dates(
    rng: np.random.Generator, start_col: np.ndarray, month_index: pd.PeriodIndex, as_of: date
) -> tuple[np.ndarray, np.ndarray]:
    """Each account's start date and its next renewal (the first contract anniversary after the as-of date)."""
    n = len(start_col)
    first_month = month_index[start_col].to_timestamp()
    # accounts already paying in the first month of data signed up to three years before it (contract anniversaries
    # spread over the year, not all in that first month)
    earlier = np.where(start_col == 0, rng.integers(0, 36, n), 0)
    first_month = first_month - pd.to_timedelta(earlier * 30.4375, unit="D")
    first_month = first_month.to_period("M").to_timestamp()
    start_date = (first_month + pd.to_timedelta(rng.integers(0, 28, n), unit="D")).date
    # renewal: the first contract anniversary after as_of (days are 1..28, so every anniversary exists)
    starts = pd.DatetimeIndex(start_date)
    later_this_year = (starts.month > as_of.month) | ((starts.month == as_of.month) & (starts.day > as_of.day))
    renewal = pd.to_datetime(
        pd.DataFrame(
            {"year": np.where(later_this_year, as_of.year, as_of.year + 1), "month": starts.month, "day": starts.day}
        )
    ).dt.date.to_numpy()
    return start_date, renewal


def _surveys(rng: np.random.Generator, ids: np.ndarray, health: np.ndarray, as_of: date) -> pd.DataFrame:
    """Survey answers of 70 % of the accounts over the last 180 days, scores around the latent health."""
    n = len(ids)
    rows: list[dict[str, object]] = []
    for i in np.flatnonzero(rng.random(n) < 0.7):
        for _ in range(rng.integers(1, 4)):
            day = pd.Timestamp(as_of) - pd.Timedelta(days=int(rng.integers(0, 180)))
            kind = rng.choice(["nps", "csat", "ces"], p=[0.5, 0.35, 0.15])
            h = float(np.clip(health[i] + rng.normal(0, 0.15), 0, 1))
            score = {"nps": round(10 * h**0.8), "csat": 1 + round(4 * h**0.7), "ces": 1 + round(6 * h)}[str(kind)]
            rows.append({"account": ids[i], "date": day.date(), "kind": str(kind), "score": int(score)})
    surveys: pd.DataFrame = pd.DataFrame(rows, columns=["account", "date", "kind", "score"])
    return surveys


def demo_history(
    snapshot: pd.DataFrame, *, weeks: int = 8, seed: int = 7, scheme: Union[str, TierScheme] = "engine"
) -> pd.DataFrame:
    """Weekly History snapshots before ``snapshot``'s date, so a demo workbook's week-over-week blocks have content.

    ``snapshot``: today's History rows (``as_of``, ``account``, ``health_score``, ``health_tier``, ``simple_points``,
    ``arr``). Week ``k`` (1..``weeks``) is dated ``k * 7`` days earlier; each account's score walks back from today's:
    a steady trend per account (about 1 point a week either way), weekly noise (1.5 points), and for one account in
    twenty a drop this week (new at-risk) or a recovery (saved). Tiers follow ``scheme``; accounts without a score keep
    their tier. Seeded: the same inputs give the same rows.
    """
    if not isinstance(weeks, int) or isinstance(weeks, bool) or not 0 <= weeks <= 520:
        raise InputError("weeks", weeks, "a whole number 0..520")
    if snapshot.empty or weeks == 0:
        empty: pd.DataFrame = snapshot.iloc[:0].copy()
        return empty
    rng = np.random.default_rng(seed)
    n = len(snapshot)
    now = snapshot["health_score"].to_numpy(dtype=np.float64)
    trend = rng.normal(0.0, 1.0, n)
    event = rng.random(n)
    jump = np.where(event < 0.05, 18.0, np.where(event > 0.95, -22.0, 0.0))  # dropped this week / recovered
    frames = []
    for k in range(1, weeks + 1):
        score = np.clip(now - trend * k + jump + rng.normal(0.0, 1.5, n), 0.0, 100.0)
        score = np.where(np.isnan(now), np.nan, np.round(score, 2))
        week = snapshot.copy()
        week["as_of"] = snapshot["as_of"] - pd.Timedelta(days=7 * k)
        week["health_score"] = score
        rated = pd.Series(health_tier(score, scheme=scheme), index=snapshot.index, dtype=object)
        week["health_tier"] = rated.where(~np.isnan(now), snapshot["health_tier"])
        frames.append(week)
    out: pd.DataFrame = pd.concat(frames[::-1], ignore_index=True)
    return out
