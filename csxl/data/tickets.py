"""Help-desk exports -> support figures per account (data edge, DuckDB SQL).

Accepted: a Zendesk ticket export (``Id, Organization, Created at, Status, Priority, Tags, Satisfaction Score,
First reply time in minutes, Full resolution time in minutes`` ...) and Intercom conversations (``created_at,
company, first_response_at, closed_at`` ...); headings matched by name as for billing (:data:`HEADINGS`).

Per account, as of a date (:data:`SUPPORT_SQL`; windows of 30 days up to the as-of date, ages 0-29, and the 30
before it): tickets, the 30 days before, escalations (priority ``urgent``, or a tag containing ``escalat``), median
first response and resolution in hours, first-contact resolution (solved with one reply, where the export counts
replies), support CSAT (good / rated), and the spike-then-silence pattern the spec's risk table names: at least three
tickets in the 30 days before and none in the last 30. Tickets after the as-of date, or without an account or a
creation time, are left out and counted.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csxl.data.files import find_columns, load_csv
from csxl.errors import InputError

__all__ = ["HEADINGS", "SUPPORT_KPI_SQL", "SUPPORT_SQL", "TicketsRead", "read_tickets"]

HEADINGS: Mapping[str, tuple[str, ...]] = {
    "account": ("organization", "organisation", "company", "company name", "account", "customer"),
    "created": ("created at", "created", "created_at", "opened at", "date"),
    "priority": ("priority",),
    "tags": ("tags", "tag"),
    "satisfaction": ("satisfaction score", "satisfaction", "rating", "csat"),
    "first_reply_minutes": ("first reply time in minutes", "first reply minutes", "first response minutes"),
    "resolution_minutes": ("full resolution time in minutes", "resolution time in minutes", "resolution minutes"),
    "first_response_at": ("first response at", "first_response_at", "first admin reply at", "first reply at"),
    "closed_at": ("closed at", "closed_at", "solved at", "resolved at"),
    "replies": ("replies", "reply count", "count replies"),
}

#: Per-account support figures from the view ``tickets(account, created, priority, tags, satisfaction,
#: first_reply_minutes, resolution_minutes, replies)`` as of ``$as_of``.
SUPPORT_SQL = """
WITH aged AS (
    SELECT account, created, first_reply_minutes, resolution_minutes, replies,
           lower(CAST(priority AS VARCHAR)) AS priority, lower(CAST(tags AS VARCHAR)) AS tags,
           lower(CAST(satisfaction AS VARCHAR)) AS satisfaction,
           date_diff('day', CAST(created AS DATE), CAST($as_of AS DATE)) AS age
    FROM tickets
),
now AS (
    SELECT account, count(*) AS tickets_30d,
           sum(CASE WHEN priority = 'urgent' OR tags LIKE '%escalat%' THEN 1 ELSE 0 END) AS escalations,
           median(first_reply_minutes) / 60 AS first_response_hours,
           median(resolution_minutes) / 60 AS resolution_hours,
           sum(CASE WHEN replies <= 1 AND resolution_minutes IS NOT NULL THEN 1 ELSE 0 END) AS one_touch,
           count(replies) AS with_replies,
           sum(CASE WHEN satisfaction LIKE 'good%' THEN 1 ELSE 0 END) AS good,
           sum(CASE WHEN satisfaction LIKE 'good%' OR satisfaction LIKE 'bad%' THEN 1 ELSE 0 END) AS rated
    FROM aged WHERE age BETWEEN 0 AND 29 GROUP BY 1
),
before AS (SELECT account, count(*) AS tickets_prev_30d FROM aged WHERE age BETWEEN 30 AND 59 GROUP BY 1),
accounts AS (SELECT DISTINCT account FROM aged WHERE age BETWEEN 0 AND 59)
SELECT a.account, coalesce(n.tickets_30d, 0) AS tickets_30d, coalesce(b.tickets_prev_30d, 0) AS tickets_prev_30d,
       coalesce(n.escalations, 0) AS escalations, n.first_response_hours, n.resolution_hours,
       CASE WHEN n.with_replies > 0 THEN n.one_touch / n.with_replies END AS first_contact_resolution,
       CASE WHEN n.rated > 0 THEN n.good / n.rated END AS csat,
       coalesce(b.tickets_prev_30d, 0) >= 3 AND coalesce(n.tickets_30d, 0) = 0 AS spike_then_silence
FROM accounts a LEFT JOIN now n ON n.account = a.account LEFT JOIN before b ON b.account = a.account
ORDER BY a.account
"""


#: The whole help desk's KPIs over the tickets of the 30 days to ``$as_of`` (ticket level, not a mean of accounts):
#: tickets, median first response and resolution in hours, first-contact resolution (solved with one reply, of the
#: tickets whose export counts replies), escalation rate, support CSAT (good / rated).
SUPPORT_KPI_SQL = """
WITH recent AS (
    SELECT first_reply_minutes, resolution_minutes, replies, lower(CAST(priority AS VARCHAR)) AS priority,
           lower(CAST(tags AS VARCHAR)) AS tags, lower(CAST(satisfaction AS VARCHAR)) AS satisfaction
    FROM tickets WHERE date_diff('day', CAST(created AS DATE), CAST($as_of AS DATE)) BETWEEN 0 AND 29
)
SELECT count(*) AS tickets,
       median(first_reply_minutes) / 60 AS first_response_hours,
       median(resolution_minutes) / 60 AS resolution_hours,
       CASE WHEN count(replies) > 0
            THEN sum(CASE WHEN replies <= 1 AND resolution_minutes IS NOT NULL THEN 1 ELSE 0 END) / count(replies)
       END AS first_contact_resolution,
       CASE WHEN count(*) > 0
            THEN sum(CASE WHEN priority = 'urgent' OR tags LIKE '%escalat%' THEN 1 ELSE 0 END) / count(*)
       END AS escalation_rate,
       CASE WHEN sum(CASE WHEN satisfaction LIKE 'good%' OR satisfaction LIKE 'bad%' THEN 1 ELSE 0 END) > 0
            THEN sum(CASE WHEN satisfaction LIKE 'good%' THEN 1 ELSE 0 END)
                 / sum(CASE WHEN satisfaction LIKE 'good%' OR satisfaction LIKE 'bad%' THEN 1 ELSE 0 END)
       END AS csat
FROM recent
"""


@dataclass
class TicketsRead:
    """Per-account support figures (:data:`SUPPORT_SQL`'s columns), the whole help desk's KPIs
    (:data:`SUPPORT_KPI_SQL`, one row) and how many tickets were read and used."""

    figures: pd.DataFrame
    rows_read: int
    rows_used: int
    kpis: dict[str, float | None]


def _normalised(raw: pd.DataFrame, where: str) -> pd.DataFrame:
    found = find_columns(raw.columns, HEADINGS)
    columns = {name: found.get(name) for name in HEADINGS}
    if columns["account"] is None or columns["created"] is None:
        shown = ", ".join(map(str, raw.columns[:20]))
        raise InputError(where, shown, "a ticket export with an organisation (or company) and a creation date column")

    def text(name: str) -> pd.Series[Any]:
        heading = columns[name]
        return raw[heading].astype(object) if heading else pd.Series([None] * len(raw), index=raw.index, dtype=object)

    def minutes(name: str, start: str = "created", end: str | None = None) -> pd.Series[Any]:
        if columns[name]:
            return pd.to_numeric(text(name), errors="coerce")
        if end is not None and columns[end]:  # Intercom: two timestamps instead of a duration
            opened = pd.to_datetime(text(start), errors="coerce", utc=True)
            span = pd.to_datetime(text(end), errors="coerce", utc=True) - opened
            seconds: pd.Series[Any] = span.dt.total_seconds()
            return seconds / 60
        return pd.Series([float("nan")] * len(raw), index=raw.index)

    created = pd.to_datetime(text("created"), errors="coerce", utc=True).dt.tz_localize(None)
    out: pd.DataFrame = pd.DataFrame(
        {
            "account": text("account").map(
                lambda v: None if v is None or pd.isna(v) or not str(v).strip() else str(v).strip()
            ),
            "created": created,
            "priority": text("priority"),
            "tags": text("tags"),
            "satisfaction": text("satisfaction"),
            "first_reply_minutes": minutes("first_reply_minutes", end="first_response_at"),
            "resolution_minutes": minutes("resolution_minutes", end="closed_at"),
            "replies": pd.to_numeric(text("replies"), errors="coerce"),
        }
    )
    return out


def read_tickets(paths: Sequence[str | Path], as_of: _dt.date) -> TicketsRead:
    """Read ticket export files and compute :data:`SUPPORT_SQL` on DuckDB (see the module)."""
    # deferred: DuckDB is the command line's engine
    import duckdb

    frames = [_normalised(load_csv(Path(p)), Path(p).name) for p in paths]
    tickets = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    used = tickets[tickets["account"].notna() & tickets["created"].notna() & (tickets["created"] < end)]
    with duckdb.connect() as con:
        con.register("tickets", used)
        figures: pd.DataFrame = con.execute(SUPPORT_SQL, {"as_of": as_of}).df()
        row = con.execute(SUPPORT_KPI_SQL, {"as_of": as_of}).df().iloc[0]
    kpis = {str(k): (None if pd.isna(v) else float(v)) for k, v in row.items()}
    return TicketsRead(figures, len(tickets), len(used), kpis)
