"""Subscriptions -> MRR rows (csxl.billing): each rule as a hand-worked case.

Every expected figure is worked by hand in the comment beside it (exact to 1e-9: the arithmetic is a few products
and quotients). The conventions are the published ones: MRR is built from plan prices, normalised to a month,
excluding tax, net of discounts (Lago's MRR guide, getlago.com/docs/guide/analytics/revenue/mrr; ChartMogul's and
Baremetrics' MRR definitions), counted at each month end.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from csxl.billing import SUBSCRIPTION_COLUMNS, BillingRules, explain_mrr, subscriptions_to_mrr
from csxl.errors import InputError

AS_OF = dt.date(2026, 6, 15)


def _sub(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in SUBSCRIPTION_COLUMNS}
    row.update(
        subscription_id="sub_1",
        account="Contoso",
        currency="USD",
        amount=100.0,
        interval="month",
        interval_count=1,
        quantity=1,
        started_at="2026-01-10",
        cancel_at_period_end=False,
        status="active",
    )
    row.update(fields)
    return row


def _mrr(*subs: dict[str, Any], rules: BillingRules | None = None, as_of: dt.date = AS_OF) -> dict[str, float]:
    frame = pd.DataFrame(list(subs), columns=list(SUBSCRIPTION_COLUMNS))
    out = subscriptions_to_mrr(frame, as_of, rules)
    return {f"{r.account} {r.month:%Y-%m}": round(float(r.mrr), 9) for r in out.itertuples()}


def _months(first: str, last: str, value: float, account: str = "Contoso") -> dict[str, float]:
    return {f"{account} {m:%Y-%m}": value for m in pd.date_range(first, last, freq="MS")}


@pytest.mark.parametrize(
    ("subs", "expected"),
    [
        # a monthly plan of 100 from 10 January: active at every month end from January to June (as-of month)
        ([_sub()], _months("2026-01", "2026-06", 100.0)),
        # an annual plan of 1,200 is 1,200 / 12 = 100 a month (the textbook example of every MRR guide)
        ([_sub(amount=1200.0, interval="year")], _months("2026-01", "2026-06", 100.0)),
        # every 6 months, 540: 540 / 6 = 90; a quarter of 300: 100; weekly 25: 25 x 52 / 12 = 108.333333333
        ([_sub(amount=540.0, interval="month", interval_count=6)], _months("2026-01", "2026-06", 90.0)),
        ([_sub(amount=300.0, interval="quarter")], _months("2026-01", "2026-06", 100.0)),
        ([_sub(amount=25.0, interval="week")], _months("2026-01", "2026-06", round(25 * 52 / 12, 9))),
        # 5 seats at 20: 100
        ([_sub(amount=20.0, quantity=5)], _months("2026-01", "2026-06", 100.0)),
        # 20 % off 100 for good: 80; 15 off: 85
        ([_sub(percent_off=20.0)], _months("2026-01", "2026-06", 80.0)),
        ([_sub(amount_off=15.0)], _months("2026-01", "2026-06", 85.0)),
        # 50 % off until 2026-03-20: 50 at the January and February month ends, 100 from March (over by 31 March)
        (
            [_sub(percent_off=50.0, discount_end="2026-03-20")],
            _months("2026-01", "2026-02", 50.0) | _months("2026-03", "2026-06", 100.0),
        ),
        # a free plan is not MRR
        ([_sub(amount=0.0)], {}),
        # a trial until 2026-03-05 counts from the March month end
        ([_sub(trial_end="2026-03-05")], _months("2026-03", "2026-06", 100.0)),
        # cancelled on 2026-04-12 at period end 2026-05-10: paid until 10 May, so April counts, May does not
        (
            [_sub(canceled_at="2026-04-12", period_end="2026-05-10", cancel_at_period_end=True)],
            _months("2026-01", "2026-04", 100.0),
        ),
        # cancelled at once on 2026-04-12: March is the last month end it was active at
        ([_sub(canceled_at="2026-04-12", period_end="2026-05-10")], _months("2026-01", "2026-03", 100.0)),
        # a cancellation dated after the as-of date has not happened yet
        ([_sub(canceled_at="2026-08-01")], _months("2026-01", "2026-06", 100.0)),
        # started and ended inside one month: active at no month end, no MRR
        ([_sub(started_at="2026-02-03", canceled_at="2026-02-20")], {}),
        # two subscriptions add up: 100 + 50 from March; cancelling the second in May is contraction, not churn
        (
            [_sub(), _sub(subscription_id="sub_2", amount=50.0, started_at="2026-03-01", canceled_at="2026-05-02")],
            _months("2026-01", "2026-02", 100.0)
            | _months("2026-03", "2026-04", 150.0)
            | _months("2026-05", "2026-06", 100.0),
        ),
        # a customer who leaves in March and returns in May: no row for March and April (a reactivation in May)
        (
            [_sub(canceled_at="2026-03-15"), _sub(subscription_id="sub_2", started_at="2026-05-02")],
            _months("2026-01", "2026-02", 100.0) | _months("2026-05", "2026-06", 100.0),
        ),
    ],
)
def test_each_rule(subs: list[dict[str, Any]], expected: dict[str, float]) -> None:
    assert _mrr(*subs) == expected


def _total(out: dict[str, float], month: str) -> float:
    return round(sum(v for k, v in out.items() if k.endswith(month)), 9)


@pytest.mark.parametrize(
    ("source", "subs", "rules", "month", "expected"),
    [
        # Stripe, "Billing metric definitions" (docs.stripe.com/billing/subscriptions/analytics/glossary): 100
        # subscribers on Plan A at 100 USD a month and 50 on Plan B at 600 USD a year: MRR 12,500 USD
        # (100 x 100 + 50 x 600 / 12; the page's formula prints 800 but its total is 600's)
        ("stripe glossary",
         [_sub(subscription_id=f"a{i}", account=f"A{i}") for i in range(100)]
         + [_sub(subscription_id=f"b{i}", account=f"B{i}", amount=600.0, interval="year") for i in range(50)],
         None, "2026-06", 12_500.0),
        # Stripe support, "Impact of discounts and coupons on MRR in Billing": a 50 % coupon of duration forever
        # halves the subscription's MRR; a coupon of finite duration leaves MRR unaffected (Stripe's default, csxl's
        # forever_discounts_only)
        ("stripe forever coupon", [_sub(percent_off=50.0)], BillingRules(forever_discounts_only=True), "2026-06", 50.0),
        ("stripe finite coupon", [_sub(percent_off=50.0, discount_end="2026-09-01")],
         BillingRules(forever_discounts_only=True), "2026-06", 100.0),
        # Baremetrics, "Monthly Recurring Revenue" (help.baremetrics.com/en/articles/5380330): 10 customers at 10 a
        # month are 100 MRR; 120 a year adds 10; a 10-a-month user with a 50 % lifetime coupon adds 5; a 100 % coupon
        # makes a free user, not in MRR
        ("baremetrics ten customers",
         [_sub(subscription_id=f"c{i}", account=f"C{i}", amount=10.0) for i in range(10)], None, "2026-06", 100.0),
        ("baremetrics annual", [_sub(amount=120.0, interval="year")], None, "2026-06", 10.0),
        ("baremetrics lifetime coupon", [_sub(amount=10.0, percent_off=50.0)], None, "2026-06", 5.0),
        ("baremetrics 100 % coupon", [_sub(amount=10.0, percent_off=100.0)], None, "2026-06", 0.0),
        # Baremetrics, same page: a customer delinquent for more than 30 days is churned (csxl: past_due_churn_days)
        ("baremetrics delinquent", [_sub(status="past_due", period_end="2026-04-20")],
         BillingRules(past_due_churn_days=30), "2026-06", 0.0),
        # ProfitWell (Paddle), "Discounts and Credits" (paddle.com/help/profitwell-metrics/measure/subscription-metrics/
        # discounts): 120 a year with 10 % off is 9 (108 / 12); 10 a month with 10 % off is 9 while the discount
        # lasts, 10 afterwards
        ("profitwell annual discount", [_sub(amount=120.0, interval="year", percent_off=10.0)], None, "2026-06", 9.0),
        ("profitwell while it lasts", [_sub(amount=10.0, percent_off=10.0, discount_end="2026-04-15")], None,
         "2026-03", 9.0),
        ("profitwell afterwards", [_sub(amount=10.0, percent_off=10.0, discount_end="2026-04-15")], None,
         "2026-04", 10.0),
    ],
)  # fmt: skip
def test_the_published_worked_examples(
    source: str, subs: list[dict[str, Any]], rules: BillingRules | None, month: str, expected: float
) -> None:
    """Each vendor's own example, cited beside it; exact (sums and quotients of whole amounts)."""
    assert _total(_mrr(*subs, rules=rules), month) == expected, source


def test_other_currencies_at_a_fixed_rate_never_move_mrr() -> None:
    # 100 EUR at 1.10 USD per EUR: 110 every month, whatever the month
    rules = BillingRules(currency="USD", rates={"EUR": 1.10})
    assert _mrr(_sub(currency="eur"), rules=rules) == _months("2026-01", "2026-06", 110.0)


def test_a_currency_without_a_rate_is_refused_by_name() -> None:
    with pytest.raises(InputError, match="GBP"):
        _mrr(_sub(currency="GBP"))


def test_past_due_churns_after_the_chosen_days() -> None:
    # period ended 2026-03-10, unpaid: kept by default; with 30 days it churns on 9 April (March is the last month)
    late = _sub(status="past_due", period_end="2026-03-10")
    assert _mrr(late) == _months("2026-01", "2026-06", 100.0)
    assert _mrr(late, rules=BillingRules(past_due_churn_days=30)) == _months("2026-01", "2026-03", 100.0)


def test_forever_discounts_only_ignores_a_discount_with_an_end() -> None:
    rules = BillingRules(forever_discounts_only=True)
    assert _mrr(_sub(percent_off=50.0, discount_end="2026-03-20"), rules=rules) == _months("2026-01", "2026-06", 100.0)
    assert _mrr(_sub(percent_off=50.0), rules=rules) == _months("2026-01", "2026-06", 50.0)


def test_many_subscriptions_in_one_call_match_one_at_a_time() -> None:
    """Vectorised: the same rows whether computed together or one by one (here 200 varied subscriptions)."""
    import random

    rng = random.Random(7)
    subs = [
        _sub(
            subscription_id=f"s{i}",
            account=f"A{i % 37}",
            amount=float(rng.choice([0, 20, 99, 1200])),
            interval=rng.choice(["month", "year", "week"]),
            quantity=rng.randint(1, 4),
            started_at=f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            canceled_at=rng.choice([None, f"2026-{rng.randint(1, 9):02d}-15"]),
            trial_end=rng.choice([None, "2026-02-01"]),
        )
        for i in range(200)
    ]
    together = _mrr(*subs)
    apart: dict[str, float] = {}
    for sub in subs:
        for key, value in _mrr(sub).items():
            apart[key] = round(apart.get(key, 0.0) + value, 9)
    assert together == pytest.approx(apart, abs=1e-6)


def test_each_movement_is_explained_by_its_subscription() -> None:
    # two subscriptions: 100 from January (50 % off until 20 March), 50 from March ended on 2 May
    subs = pd.DataFrame(
        [
            _sub(percent_off=50.0, discount_end="2026-03-20"),
            _sub(subscription_id="sub_2", amount=50.0, started_at="2026-03-01", canceled_at="2026-05-02"),
        ],
        columns=list(SUBSCRIPTION_COLUMNS),
    )
    why = explain_mrr(subs, AS_OF)
    got = [(f"{r.month:%Y-%m}", r.subscription_id, round(float(r.change), 9), r.reason) for r in why.itertuples()]
    assert got == [
        ("2026-01", "sub_1", 50.0, "started"),  # 100 at half price
        ("2026-03", "sub_1", 50.0, "discount ended"),  # 100 from the March month end
        ("2026-03", "sub_2", 50.0, "started"),
        ("2026-05", "sub_2", -50.0, "ended"),  # active at the April month end, not at May's
    ]


def test_explanations_add_up_to_every_months_movement() -> None:
    """Property over 200 varied subscriptions: per account and month, the explained changes sum to the MRR of the
    month minus the month before (0 before the first and after the last), to 1e-6."""
    import random

    rng = random.Random(11)
    rows = [
        _sub(
            subscription_id=f"s{i}", account=f"A{i % 23}", amount=float(rng.choice([20, 99, 1200])),
            interval=rng.choice(["month", "year"]),
            started_at=f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            canceled_at=rng.choice([None, f"2026-{rng.randint(1, 6):02d}-10"]),
            percent_off=rng.choice([None, 20.0]), discount_end=rng.choice([None, "2026-02-15"]),
            trial_end=rng.choice([None, "2025-12-20"]),
        )
        for i in range(200)
    ]  # fmt: skip
    subs = pd.DataFrame(rows, columns=list(SUBSCRIPTION_COLUMNS))
    mrr = subscriptions_to_mrr(subs, AS_OF).set_index(["account", "month"])["mrr"]
    why = explain_mrr(subs, AS_OF).groupby(["account", "month"])["change"].sum()
    months = pd.date_range("2025-01-01", "2026-06-01", freq="MS")
    for account in sorted({r["account"] for r in rows}):
        before = 0.0
        for month in months:
            now = float(mrr.get((account, month), 0.0))
            assert float(why.get((account, month), 0.0)) == pytest.approx(now - before, abs=1e-6), (account, month)
            before = now
