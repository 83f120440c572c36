"""Check a command's ``--json`` text against its published schema (``docs/schemas/<command>.json``) with the
independent ``jsonschema`` library (draft 2020-12); used wherever a test runs a command with ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

PUBLISHED = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def published(command: str, text: str) -> Any:
    """The document ``text``, after checking it against ``command``'s published schema (``import-events`` for
    ``csxl import events``)."""
    document = json.loads(text)
    schema = json.loads((PUBLISHED / f"{command}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    return document
