"""The twelve commands of the spec as pure plays over a :class:`csxl.portfolio.Portfolio`.

Importing this package registers every play in :data:`csxl.plays.base.PLAYS` (name -> :class:`Play`), the registry
the ``csxl`` command line, the workbook sheets and the Excel buttons all use.
"""

from __future__ import annotations

from csxl.plays import (  # noqa: F401  (importing a play module registers it)
    cohorts,
    expansion,
    nrr,
    onboarding,
    portfolio,
    qbr,
    renewal,
    risk,
    save,
    score,
    success_plan,
    winback,
)
from csxl.plays.base import PLAYS, Play, PlayResult, Section, load_library, render_markdown, render_text

__all__ = ["PLAYS", "Play", "PlayResult", "Section", "load_library", "render_markdown", "render_text"]
