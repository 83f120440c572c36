"""Every ``--json`` output validates against its published schema (``docs/schemas/``), and those files are current.

Validation uses the independent ``jsonschema`` library (draft 2020-12), not pydantic, on the exact text the
command line prints for the committed demo workbook.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import csxl
from csxl.cli import cli
from csxl.plays import PLAYS
from csxl.plays.schemas import SCHEMAS

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "docs" / "schemas"
BOOK = ROOT / "workbooks" / "csxl-demo.xlsx"


@pytest.fixture(scope="module")
def demo() -> csxl.DemoData:
    return csxl.demo_portfolio(250, seed=7)  # the committed demo workbook's data (make workbooks)


@pytest.mark.parametrize("command", sorted(SCHEMAS))
def test_published_schema_is_current(command: str) -> None:
    path = PUBLISHED / f"{command}.json"
    assert path.exists(), f"{path} missing: run csxl schema --write docs/schemas"
    assert json.loads(path.read_text()) == json.loads(json.dumps(SCHEMAS[command]())), f"{path} is stale"


#: Commands whose --json needs input files or writes the workbook: their own tests check the output against the
#: published schema (tests/published.py).
ELSEWHERE = {
    "import-accounts": "tests/test_import_accounts.py",
    "import-billing": "tests/test_import_billing.py",
    "import-events": "tests/test_import_events.py",
    "import-surveys": "tests/test_import_surveys.py",
    "import-tickets": "tests/test_import_tickets.py",
    "backfill": "tests/test_backfill.py",
}


def _json_commands() -> list[str]:
    """Every command of the command line with a --json option (``import-<kind>`` for ``csxl import <kind>``)."""
    import click

    found: list[str] = []

    def walk(command: click.Command, path: str) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path}-{name}" if path else name)
        elif any(p.name == "as_json" for p in command.params):
            found.append(path)

    walk(cli, "")
    return sorted(found)


def test_every_json_output_has_a_published_schema() -> None:
    commands = _json_commands()
    assert len(commands) >= 25
    assert [c for c in commands if c not in SCHEMAS] == []
    for command, test in ELSEWHERE.items():  # and is checked against it where it runs
        assert f'published("{command}"' in (ROOT / test).read_text(encoding="utf-8"), (command, test)


def _args(command: str, demo: csxl.DemoData) -> list[str]:
    if command == "demo":
        return ["demo", "--accounts", "40", "--json"]
    if command == "support":
        return ["support", "cannot log in since this morning", "--segment", "enterprise", "--json"]
    if command == "playbook":
        return ["playbook", "--book", str(BOOK)]
    if command in ("surveys", "churn", "calibrate", "onboarding-metrics", "measures"):
        return [command, "--book", str(BOOK), "--json"]
    play = PLAYS[command]
    live = demo.mrr[demo.mrr["month"] == demo.mrr["month"].max()]["account"]
    if command == "winback":  # an account without MRR in the last month
        account = str(sorted(set(demo.accounts["account"]) - set(live))[0])
    else:
        account = str(sorted(set(live))[0])
    return [command, *([account] if play.needs_account else []), "--book", str(BOOK), "--json"]


@pytest.mark.parametrize("command", sorted(set(SCHEMAS) - set(ELSEWHERE)))
def test_json_output_validates(command: str, demo: csxl.DemoData) -> None:
    result = CliRunner().invoke(cli, _args(command, demo))
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    schema = json.loads((PUBLISHED / f"{command}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    if command in PLAYS:
        assert document["command"] == command
        assert document["as_of"] == "2026-10-31"  # the demo workbook's Settings as-of date


def test_a_broken_document_is_refused() -> None:
    # the schemas are not vacuous: a result missing its required fields fails validation
    schema = json.loads((PUBLISHED / "risk.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"command": "risk"}, schema, cls=jsonschema.Draft202012Validator)
