"""Run csxl's xlwings Lite scripts through xlwings' own dispatcher, as the Lite add-in does (used by the tests).

Usage: ``python lite_dispatch.py JOBS.json`` where the file holds ``{"module": ..., "jobs": [{"book": <snapshot>,
"script": <name>, "args": [...]}, ...]}``. Prints one JSON object: ``{"meta": custom_scripts_meta(module),
"results": [{"actions": [...]} or {"error": "..."}]}``.

Runs in its own process because xlwings picks its decorators when it is first imported: ``XLWINGS_ON_SERVER=true``
(set by Lite and xlwings Server) must be in the environment before that, and the remote engine behind
``xw.Book(json=...)`` needs a licence key (the tests pass ``XLWINGS_LICENSE_KEY=noncommercial``).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any


def main(path: str) -> None:
    import xlwings as xw
    from xlwings.server import custom_scripts_call, custom_scripts_meta

    spec = json.loads(open(path, encoding="utf-8").read())  # noqa: SIM115
    module = importlib.import_module(spec["module"])
    results: list[dict[str, Any]] = []
    for job in spec["jobs"]:
        book = xw.Book(json=job["book"])
        try:
            done = asyncio.run(
                custom_scripts_call(module, job["script"], typehint_to_value={xw.Book: book}, args=job.get("args"))
            )
            results.append({"actions": done.json()["actions"]})
        except Exception as exc:  # reported to the test, which decides
            results.append({"error": f"{type(exc).__name__}: {exc}"})
    print(json.dumps({"meta": custom_scripts_meta(module), "results": results}, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
