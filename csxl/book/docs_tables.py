"""The column and Settings tables of ``docs/workbook.md``, generated from :mod:`csxl.book.layout` (never by hand).

``python -m csxl.book.docs_tables docs/workbook.md`` (``make docs``) rewrites the part between the
``<!-- generated:layout -->`` markers; ``tests/test_template.py`` fails when the page and the layout disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from csxl.book import layout
from csxl.book.layout import TABLES, Column, column_letter

__all__ = ["BEGIN", "END", "layout_markdown", "rewrite"]

BEGIN = "<!-- generated:layout (python -m csxl.book.docs_tables docs/workbook.md) -->"
END = "<!-- /generated:layout -->"


def _num(v: float) -> str:
    return f"{v:g}"


def _accepted(c: Column) -> str:
    if c.choices:
        return ", ".join(c.choices)
    parts = []
    if c.whole:
        parts.append("whole")
    if c.lo is not None and c.hi is not None:
        parts.append(f"{_num(c.lo)}..{_num(c.hi)}")
    elif c.lo is not None:
        parts.append(f">= {_num(c.lo)}")
    elif c.hi is not None:
        parts.append(f"<= {_num(c.hi)}")
    return " ".join(parts)


def layout_markdown() -> str:
    """Every table's columns (letter, header, key, role, kind, accepted values) and the Settings cells."""
    out: list[str] = []
    for spec in TABLES:
        out += [f"### {spec.sheet} ({spec.name})", "", "| col | header | key | role | kind | accepted |"]
        out.append("|---|---|---|---|---|---|")
        for i, c in enumerate(spec.columns, start=1):
            out.append(f"| {column_letter(i)} | {c.header} | `{c.key}` | {c.role} | {c.kind} | {_accepted(c)} |")
        out.append("")
    out += [
        "### Settings (named cells, values in column B)",
        "",
        "| name | cell | label | default |",
        "|---|---|---|---|",
    ]
    rows = layout.settings_rows()
    for title, items in layout.SETTINGS:
        for item in items:
            default = "blank" if item.default is None else str(item.default)
            if len(default) > 60:
                default = default[:57] + "..."
            out.append(f"| `{item.name}` | B{rows[item.name]} | {item.label} | {default} |")
        del title
    return "\n".join(out) + "\n"


def rewrite(page: Path) -> bool:
    """Replace the generated part of ``page``; returns True when the file changed."""
    text = page.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    if not rest:
        raise SystemExit(f"{page}: no {BEGIN} marker")
    new = f"{head}{BEGIN}\n\n{layout_markdown()}\n{END}{tail}"
    if new != text:
        page.write_text(new, encoding="utf-8")
        return True
    return False


if __name__ == "__main__":
    print("rewritten" if rewrite(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/workbook.md")) else "unchanged")
