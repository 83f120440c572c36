"""The demo's raw sources: the exports a founder's tools would give for the seeded demo portfolio (pure).

:func:`csxl.demo.demo_portfolio` draws each account's latent health and what follows from it (MRR path, signals,
survey answers). This module turns that portfolio into the files a real customer would bring, so that ``csxl new
--demo`` builds its workbook through the same importers as a founder's own data:

* **CRM** (a HubSpot companies export): Record ID, Company name, Company Domain Name, Company owner, Lifecycle Stage,
  and the custom properties a founder keeps on the company (segment, renewal date, champion, sponsor, goals ...),
  keyed by the Accounts column they fill. A few leads are in the export too: the import skips them.
* **Billing** (Stripe invoice line items): one invoice a month per paying account, its line covering the calendar
  month, with the CRM record id in the metadata; a one-off onboarding fee on each first invoice (not MRR).
* **Product events** (the generic event schema): a login per active user and day, core actions
  (``report_created``) and feature events, over the last ``event_months`` months; activity follows the account's
  latent DAU/MAU, logins, trend and last login; a few events are sent twice with the same id (retries).
* **Tickets** (a Zendesk export) over the last 90 days, and **survey answers** (e-mail, date, survey, score).

Seeded: the same portfolio and seed give the same sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import cast

import numpy as np
import pandas as pd

from csxl.demo import DemoData
from csxl.errors import InputError

__all__ = ["CORE_ACTION", "FEATURES", "DemoSources", "demo_sources"]

#: The demo product's core action and its other features (the core action counts as a feature too).
CORE_ACTION = "report_created"
FEATURES: tuple[str, ...] = (
    "dashboard_viewed", "export_csv", "alert_set", "integration_synced", "comment_added", "user_invited",
    "api_call", "filter_saved", "template_used", "schedule_created", "share_link",
)  # fmt: skip

#: Accounts columns kept as custom properties on the CRM company (typed by the founder, no tool measures them).
CRM_PROPERTIES: tuple[str, ...] = (
    "segment", "renewal_date", "start_date", "champion", "champion_status", "exec_sponsor", "exec_sponsor_status",
    "contacts_count", "seats_purchased", "features_available", "integration", "goals_defined", "goals_achieved",
    "roi_documented", "community_active", "payment_status", "contract_trend", "contraction_risk", "nps",
    "churn_reason",
)  # fmt: skip


@dataclass(frozen=True)
class DemoSources:
    """The demo's exports as tables (headings as the tools write them; the CRM's custom properties keyed by the
    Accounts column they fill) and the events mapping (which events are logins and which the core action)."""

    crm: pd.DataFrame
    invoices: pd.DataFrame
    events: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    mapping: dict[str, list[str]]
    as_of: date


def domain_of(name: str) -> str:
    """The demo company's web domain: ``Acme Labs 12`` -> ``acme-labs-12.com``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".com"


def demo_sources(data: DemoData, *, seed: int = 7, event_months: int = 3, currency: str = "USD") -> DemoSources:
    """The raw sources of ``data`` (see the module). ``event_months``: months of product events up to the as-of date
    (at least 2: trends compare the latest 28 days with the 28 before); ``currency``: the invoices' currency."""
    if isinstance(event_months, bool) or not isinstance(event_months, int) or not 2 <= event_months <= 24:
        raise InputError("event_months", event_months, "a whole number 2..24")
    rng = np.random.default_rng([seed, 20261031])
    accounts = data.accounts.reset_index(drop=True)
    domains = accounts["account"].map(domain_of)
    record_ids = pd.Series(
        (9_000_000_000 + np.arange(len(accounts)) * 7_919 + rng.integers(0, 7_000, len(accounts))).astype(str)
    )
    last_paid = _last_paid(data)
    return DemoSources(
        crm=_crm(rng, accounts, domains, record_ids, data.surveys),
        invoices=_invoices(data, record_ids.set_axis(accounts["account"]), currency),
        events=_events(rng, accounts, domains, last_paid, data.as_of, event_months),
        tickets=_tickets(rng, accounts, last_paid, data.as_of),
        surveys=_surveys(data.surveys, domains.set_axis(accounts["account"])),
        mapping={"logins": ["login"], "core": [CORE_ACTION]},
        as_of=data.as_of,
    )


def _last_paid(data: DemoData) -> pd.Series:
    """Each account's last paid day: the as-of date while it pays, else the end of its last paid month."""
    months = pd.to_datetime(data.mrr.groupby("account")["month"].max())
    ends = (months + pd.offsets.MonthEnd(0)).dt.date
    now = pd.Timestamp(data.as_of).to_period("M").to_timestamp().date()
    paid = data.mrr.groupby("account")["month"].max().map(lambda m: m >= now)
    out = ends.where(~paid, data.as_of)
    return cast(pd.Series, out.reindex(data.accounts["account"]).reset_index(drop=True))


def _crm(
    rng: np.random.Generator, accounts: pd.DataFrame, domains: pd.Series, ids: pd.Series, surveys: pd.DataFrame
) -> pd.DataFrame:
    """The HubSpot companies export: the standard columns and the custom properties."""
    nps = surveys[surveys["kind"] == "nps"].sort_values("date").groupby("account")["score"].last()
    crm = pd.DataFrame(
        {
            "Record ID": ids,
            "Company name": accounts["account"],
            "Company Domain Name": domains,
            "Company owner": accounts["csm"],
            "Lifecycle Stage": "Customer",
        }
    )
    for column in CRM_PROPERTIES:
        crm[column] = accounts[column].astype(object)
    # NPS: the latest answer of the survey export, else the one the CRM recorded before it (older answers)
    crm["nps"] = accounts["account"].map(nps).astype(object).where(lambda v: v.notna(), crm["nps"])
    for column in ("roi_documented", "community_active", "contraction_risk"):
        crm[column] = crm[column].map({True: "true", False: "false"})
    leads = crm.sample(n=max(1, len(crm) // 25), random_state=int(rng.integers(0, 2**31)))
    leads = leads.assign(
        **{
            "Record ID": (pd.to_numeric(leads["Record ID"]) + 3).astype(str),
            "Company name": leads["Company name"] + " Prospect",
            "Company Domain Name": "prospect-" + leads["Company Domain Name"],
            "Lifecycle Stage": "Lead",
        }
    )
    leads.loc[:, list(CRM_PROPERTIES)] = None
    out: pd.DataFrame = pd.concat([crm, leads]).sort_values("Record ID", kind="stable").reset_index(drop=True)
    return out


def _invoices(data: DemoData, record_ids: pd.Series, currency: str) -> pd.DataFrame:
    """Stripe invoice line items: a monthly invoice per paying month (a new subscription id after each return), the
    onboarding fee on the first invoice (no service period: a one-off charge)."""
    mrr = data.mrr.sort_values(["account", "month"], kind="stable").reset_index(drop=True)
    start = pd.to_datetime(mrr["month"])
    gap = start.groupby(mrr["account"]).diff().dt.days.fillna(999) > 31  # first month, or back after a gap
    run = gap.astype(int).groupby(mrr["account"]).cumsum()
    number = mrr["account"].map({a: i for i, a in enumerate(data.accounts["account"])})
    lines = pd.DataFrame(
        {
            "Invoice ID": [f"in_{n:06d}" for n in range(1, len(mrr) + 1)],
            "Invoice Status": "paid",
            "Customer ID": number.map(lambda n: f"cus_{n:05d}"),
            "Customer Name": mrr["account"],
            "hubspot_company_id (metadata)": mrr["account"].map(record_ids),
            "Subscription ID": [f"sub_{n:05d}_{r}" for n, r in zip(number, run, strict=True)],
            "Description": "Subscription",
            "Currency": currency.lower(),
            "Amount": mrr["mrr"].round(2),
            "Period Start": start.dt.strftime("%Y-%m-%d"),
            "Period End": (start + pd.offsets.MonthBegin(1)).dt.strftime("%Y-%m-%d"),
        }
    )
    fees = lines[gap.to_numpy() & (run == 1).to_numpy()].assign(
        **{"Subscription ID": "", "Description": "Onboarding fee", "Period Start": "", "Period End": ""}
    )
    fees["Amount"] = (fees["Amount"] * 2).round(-1)
    out = pd.concat([lines, fees]).sort_values(["Invoice ID", "Description"], kind="stable")
    return cast(pd.DataFrame, out.reset_index(drop=True))


def _activity(
    rng: np.random.Generator, accounts: pd.DataFrame, last_paid: pd.Series, as_of: date, days: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which of every account's users is active on which day: the owning account and number of each user, and the
    user x day matrix. A day is active with the account's DAU/MAU, scaled back month by month by its trend; nothing
    after the account's last login (as of today) or its last paid day, and one user active on that day."""
    users = np.maximum(1, accounts["seats_active"].to_numpy(dtype=np.int64))
    owner = np.repeat(np.arange(len(accounts)), users)  # one row per (account, user)
    user_no = np.arange(len(owner)) - np.repeat(np.cumsum(users) - users, users)
    since = accounts["days_since_login"].to_numpy(dtype=np.int64)
    stop = np.minimum(
        (pd.Timestamp(as_of) - pd.to_timedelta(since, unit="D")).to_numpy(), pd.to_datetime(last_paid).to_numpy()
    )
    # the month-over-month trend: usage falling now was higher before, and the other way round
    factor = accounts["usage_trend"].map({"down": 1.25, "flat": 1.0, "up": 0.8}).fillna(1.0).to_numpy(dtype=float)
    age = ((pd.Timestamp(as_of) - days).days // 28).to_numpy()
    p_day = np.clip(accounts["dau_mau"].to_numpy(dtype=float)[:, None] * factor[:, None] ** age[None, :], 0, 0.95)
    active = rng.random((len(owner), len(days))) < p_day[owner]
    active &= days.to_numpy()[None, :] <= stop[owner][:, None]
    last_day = np.searchsorted(days.to_numpy(), stop, side="right") - 1
    firsts = np.flatnonzero(user_no == 0)
    seen = last_day[owner[firsts]] >= 0
    active[firsts[seen], last_day[owner[firsts]][seen]] = True  # the account's last login is on its stop day
    return owner, user_no, active


def _events(
    rng: np.random.Generator,
    accounts: pd.DataFrame,
    domains: pd.Series,
    last_paid: pd.Series,
    as_of: date,
    months: int,
) -> pd.DataFrame:
    """Product events of every account's active users, day by day over the last ``months`` months: a login, a
    feature event (among the account's adopted features) and its core actions for each active user and day."""
    first = (pd.Timestamp(as_of).to_period("M") - (months - 1)).to_timestamp()
    days = pd.date_range(first, pd.Timestamp(as_of), freq="D")
    owner, user_no, active = _activity(rng, accounts, last_paid, as_of, days)
    pair, day = np.nonzero(active)
    account = owner[pair]
    weekly = accounts["core_actions_weekly"].to_numpy(dtype=float)
    users = np.maximum(1, accounts["seats_active"].to_numpy(dtype=np.int64))
    user_days_week = users * np.maximum(accounts["dau_mau"].to_numpy(dtype=float), 0.02) * 7
    core = rng.poisson(np.clip(weekly / user_days_week, 0, 4)[account])
    adopted = np.clip(accounts["features_adopted"].to_numpy(dtype=np.int64) - 1, 1, len(FEATURES))
    order = np.argsort(rng.random((len(accounts), len(FEATURES))), axis=1)
    feature = order[account, (rng.random(len(pair)) * adopted[account]).astype(np.int64)]
    when = days.to_numpy()[day] + rng.integers(8 * 3600, 19 * 3600, len(pair)).astype("timedelta64[s]")
    index = np.arange(len(pair))
    logins = pd.DataFrame({"i": index, "event": "login", "at": when})
    named = np.asarray(FEATURES, dtype=object)[feature]
    features = pd.DataFrame({"i": index, "event": named, "at": when + np.timedelta64(90, "s")})
    later = (np.arange(core.sum()) % 97 + 2).astype("timedelta64[m]")
    actions = pd.DataFrame({"i": np.repeat(index, core), "event": CORE_ACTION, "at": np.repeat(when, core) + later})
    events = pd.concat([logins, features, actions], ignore_index=True)
    events = events[events["at"] <= np.datetime64(pd.Timestamp(as_of) + pd.Timedelta(hours=23, minutes=59))]
    events = events.sort_values(["at", "i"], kind="stable").reset_index(drop=True)
    user = np.array([f"usr_{a:05d}_{u:03d}" for a, u in zip(owner, user_no, strict=True)], dtype=object)[pair]
    frame = pd.DataFrame(
        {
            "event_id": [f"evt_{n:08d}" for n in range(1, len(events) + 1)],
            "timestamp": events["at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event": events["event"],
            "user_id": user[events["i"].to_numpy()],
            "account": domains.to_numpy()[account[events["i"].to_numpy()]],
        }
    )
    retried = frame.sample(frac=0.005, random_state=int(rng.integers(0, 2**31)))  # sent twice, same id
    out = pd.concat([frame, retried]).sort_values("timestamp", kind="stable").reset_index(drop=True)
    return cast(pd.DataFrame, out)


def _tickets(rng: np.random.Generator, accounts: pd.DataFrame, last_paid: pd.Series, as_of: date) -> pd.DataFrame:
    """A Zendesk tickets export over the last 90 days: about three months of each account's 30-day ticket count."""
    counts = rng.poisson(accounts["support_tickets_30d"].to_numpy(dtype=float) * 3)
    owner = np.repeat(np.arange(len(accounts)), counts)
    age = rng.integers(0, 90, len(owner))
    created = (
        pd.Timestamp(as_of)
        - pd.to_timedelta(age, unit="D")
        + pd.to_timedelta(rng.integers(7 * 60, 20 * 60, len(owner)), unit="m")
    )
    keep = created.normalize() <= pd.to_datetime(last_paid).to_numpy()[owner]
    owner, created, age = owner[keep], created[keep], age[keep]
    stressed = accounts["support_tickets_30d"].to_numpy(dtype=float)[owner] > 4
    roll = rng.random(len(owner))
    priority = np.select([roll < 0.05 + 0.1 * stressed, roll < 0.3, roll < 0.85], ["urgent", "high", "normal"], "low")
    solved = (age > 2) | (rng.random(len(owner)) < 0.5)
    first_reply = np.round(rng.lognormal(4.2 + 0.5 * stressed, 0.8)).astype(int)
    resolution = np.where(solved, first_reply + np.round(rng.lognormal(6.5, 1.0, len(owner))).astype(int), -1)
    rating = np.select(
        [rng.random(len(owner)) < 0.5, rng.random(len(owner)) < 0.75 - 0.3 * stressed], ["unoffered", "good"], "bad"
    )
    frame = pd.DataFrame(
        {
            "Id": np.arange(1, len(owner) + 1) + 40_000,
            "Created at": pd.DatetimeIndex(created).strftime("%Y-%m-%d %H:%M:%S"),
            "Organization": accounts["account"].to_numpy()[owner],
            "Priority": priority,
            "Status": np.where(solved, "solved", "open"),
            "Satisfaction Score": np.where(solved, rating, "unoffered"),
            "First reply time in minutes": first_reply,
            "Full resolution time in minutes": pd.array(np.where(resolution >= 0, resolution, 0), dtype="Int64"),
        }
    )
    frame.loc[~solved, "Full resolution time in minutes"] = pd.NA
    out: pd.DataFrame = frame.sort_values("Created at", kind="stable").reset_index(drop=True)
    out["Id"] = np.arange(1, len(out) + 1) + 40_000
    return out


def _surveys(surveys: pd.DataFrame, domains: pd.Series) -> pd.DataFrame:
    """The survey tool's export: the respondent's e-mail at the company's domain, the date, the survey, the score."""
    people = ("alex.kim", "sam.lee", "jo.park", "maria.lopez", "li.wei")
    emails = [f"{people[i % len(people)]}@{domains[a]}" for i, a in enumerate(surveys["account"])]
    out = pd.DataFrame(
        {
            "Email": emails,
            "Submitted at": pd.to_datetime(surveys["date"]).dt.strftime("%Y-%m-%d"),
            "Survey": surveys["kind"].str.upper(),
            "Score": surveys["score"].astype(int),
        }
    )
    ordered: pd.DataFrame = out.sort_values(["Submitted at", "Email"], kind="stable").reset_index(drop=True)
    return ordered
