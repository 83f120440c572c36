"""Survey exports -> Surveys rows (data edge): NPS, CSAT and CES answers with an account or an e-mail.

Headings are matched by name as for billing (case, spaces and punctuation ignored; :data:`HEADINGS`). A column named
after the survey (``NPS``, ``CSAT``, ``CES``, ``How likely are you to recommend ...``) is its score and says its kind;
else a ``Kind`` column, else ``--kind``. Without an account column the account is read from the respondent's e-mail
domain (``jane@contoso.com`` -> ``contoso.com``: matched to the Accounts ``Domain`` column, else its name part
``contoso`` like every imported name: case, punctuation and one legal-form word ignored); addresses at a free mail
provider (:data:`FREE_MAIL`) name no company and are reported.

A score is checked against its survey's scale (NPS 0-10, CSAT 1-5, CES 1-7: :data:`csxl.models.SURVEY_SCALES`) and
must be whole; a bad cell leaves its row out and is reported by file and line, as is a row without a date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csxl.cells import domain_key, domain_label
from csxl.data.files import find_columns, heading_key, load_csv, read_date, read_number
from csxl.errors import InputError, RowIssue
from csxl.models import SURVEY_SCALES

__all__ = ["FREE_MAIL", "HEADINGS", "SurveysRead", "read_surveys"]

HEADINGS: Mapping[str, tuple[str, ...]] = {
    "account": ("account", "company", "organization", "organisation", "customer", "company name", "account name"),
    "email": ("email", "e mail", "email address", "respondent email", "respondent"),
    "date": ("date", "submitted at", "response date", "created at", "created", "timestamp", "completed at"),
    "kind": ("kind", "survey", "survey type", "type"),
    "score": ("score", "rating", "answer", "value"),
    "comment": ("comment", "comments", "feedback", "reason", "text", "why"),
}

#: Headings that are a score column of one survey kind.
_KIND_COLUMNS: Mapping[str, str] = {
    "nps": "nps", "nps score": "nps", "net promoter score": "nps", "csat": "csat", "csat score": "csat",
    "satisfaction": "csat", "ces": "ces", "ces score": "ces", "customer effort score": "ces",
}  # fmt: skip

#: E-mail domains that name no company.
FREE_MAIL: frozenset[str] = frozenset(
    {"gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "icloud", "me", "aol", "proton", "protonmail",
     "gmx", "web", "mail", "yandex", "zoho"}
)  # fmt: skip


@dataclass
class SurveysRead:
    """The answers (``account, date, kind, score, comment, source, line``), every bad cell, rows read per file."""

    frame: pd.DataFrame
    issues: list[RowIssue] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)


def _kind_of(heading: str) -> str | None:
    key = heading_key(heading)
    if key in _KIND_COLUMNS:
        return _KIND_COLUMNS[key]
    return "nps" if "recommend" in key else None


def _email_domain(email: Any) -> str | None:
    """``jane@mail.contoso.co.uk`` -> ``mail.contoso.co.uk`` (matched to an Accounts domain, else by its name part);
    ``None`` for free mail and for text that is no address."""
    if email is None or pd.isna(email) or "@" not in str(email):
        return None
    domain = domain_key(email)
    return None if domain is None or domain_label(domain) in FREE_MAIL else domain


def _one_file(path: Path, kind: str | None) -> tuple[pd.DataFrame, list[RowIssue], int]:
    raw = load_csv(path)
    where = path.name
    found = find_columns(raw.columns, HEADINGS)
    columns = {name: found.get(name) for name in HEADINGS}
    score_column, fixed_kind = columns["score"], None
    for heading in raw.columns:
        named = _kind_of(str(heading))
        if named is not None:
            score_column, fixed_kind = str(heading), named
            break
    if score_column is None or (columns["account"] is None and columns["email"] is None) or columns["date"] is None:
        raise InputError(where, ", ".join(map(str, raw.columns[:20])), "a survey file with a score, a date, and an "
                         "account or e-mail column")  # fmt: skip
    issues: list[RowIssue] = []
    rows: list[dict[str, Any]] = []
    for i, record in enumerate(raw.to_dict("records")):
        line = i + 2
        bad = False

        def report(column: str | None, value: Any, rule: str, line: int = line) -> None:
            issues.append(RowIssue(where, line, column or "?", value, rule, "row left out"))

        account = record.get(columns["account"]) if columns["account"] else None
        if account is None or pd.isna(account) or not str(account).strip():
            email = record.get(columns["email"]) if columns["email"] else None
            account = _email_domain(email)
            if account is None:
                report(columns["email"] or columns["account"], email, "an account, or a company e-mail address")
                bad = True
        given_kind = str(record.get(columns["kind"]) or "").strip().lower() if columns["kind"] else kind
        this_kind = fixed_kind or given_kind or ""
        if this_kind not in SURVEY_SCALES:
            report(columns["kind"], record.get(columns["kind"]) if columns["kind"] else None, "nps, csat or ces")
            bad = True
        score = read_number(record.get(score_column))
        if this_kind in SURVEY_SCALES:
            low, high = SURVEY_SCALES[this_kind]
            if score is None or not np.isfinite(score) or score != int(score) or not low <= score <= high:
                report(score_column, record.get(score_column), f"a whole {this_kind.upper()} score {low}-{high}")
                bad = True
        date = read_date(record.get(columns["date"]))
        if not isinstance(date, pd.Timestamp):
            report(columns["date"], record.get(columns["date"]), "a date (2026-01-10, or 10 Jan 2026)")
            bad = True
        if bad:
            continue
        comment = record.get(columns["comment"]) if columns["comment"] else None
        rows.append(
            {
                "account": str(account).strip(),
                "date": pd.Timestamp(str(date)).date(),
                "kind": this_kind,
                "score": int(score or 0),
                "comment": None if comment is None or pd.isna(comment) else str(comment),
                "source": where,
                "line": line,
            }
        )
    frame = pd.DataFrame(rows, columns=["account", "date", "kind", "score", "comment", "source", "line"])
    return frame, issues, len(raw)


def read_surveys(paths: Sequence[str | Path], *, kind: str | None = None) -> SurveysRead:
    """Read survey export files (see the module); ``kind`` for files that name it nowhere."""
    if kind is not None and kind not in SURVEY_SCALES:
        raise InputError("kind", kind, "nps, csat or ces")
    frames: list[pd.DataFrame] = []
    out = SurveysRead(pd.DataFrame())
    for path in map(Path, paths):
        frame, issues, count = _one_file(path, kind)
        frames.append(frame)
        out.issues += issues
        out.rows_read[path.name] = count
    out.frame = pd.concat(frames, ignore_index=True) if frames else out.frame
    return out
