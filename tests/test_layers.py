"""The house rules that import-linter cannot state: package-private names stay in their package, and an import inside
a function is there for a stated reason (a real cycle or a heavy optional dependency), said on the line above it.

The floors themselves are the import-linter contracts in pyproject.toml, run by ``make lint``; a test here runs them
too so that ``pytest`` alone cannot pass with a broken floor.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "csxl"


def _modules() -> list[tuple[str, str, ast.Module, list[str]]]:
    """(module name, its package, syntax tree, source lines) of every module of csxl."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        is_init = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_init else parts)
        package = name if is_init else name.rsplit(".", 1)[0]
        text = path.read_text(encoding="utf-8")
        out.append((name, package, ast.parse(text), text.splitlines()))
    return out


def _package_of(module: str) -> str:
    path = PACKAGE.parent / module.replace(".", "/")
    return module if (path / "__init__.py").exists() else module.rsplit(".", 1)[0]


def _private_imports_across_packages() -> list[str]:
    found = []
    for name, package, tree, _ in _modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not (node.module or "").startswith("csxl"):
                continue
            source = node.module or ""
            private_module = any(part.startswith("_") for part in source.split(".")[1:])
            for alias in node.names:
                if (alias.name.startswith("_") or private_module) and _package_of(source) != package:
                    found.append(f"{name}:{node.lineno} imports {alias.name} from {source}")
    return found


def test_no_private_name_is_imported_from_another_package() -> None:
    assert _private_imports_across_packages() == []


def test_the_private_name_check_can_fail(tmp_path: Path) -> None:
    # the checker's own rule on a known-bad case: csxl.excel reaching into csxl.book.xlsx._xml
    tree = ast.parse("from csxl.book.xlsx._xml import MAIN\nfrom csxl.book.xlsx import _Book\n")
    bad = [
        n
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for n in node.names
        if _package_of(node.module or "") != "csxl.excel"
        and (n.name.startswith("_") or any(p.startswith("_") for p in (node.module or "").split(".")[1:]))
    ]
    assert len(bad) == 2


def test_every_import_inside_a_function_says_why() -> None:
    unexplained = []
    for name, _, tree, lines in _modules():
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
                    if not above.startswith("# deferred:"):
                        unexplained.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    assert unexplained == []


def test_import_linter_contracts_are_kept() -> None:
    tool = str(Path(sys.executable).parent / "lint-imports")
    run = subprocess.run([tool], cwd=PACKAGE.parent, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout


def test_the_command_line_only_parses_and_prints() -> None:
    # it calls the use cases (csxl.usecases) and the Excel edge's file builders, never the workbook or data edge
    reached = sorted(
        node.module or ""
        for path in sorted((PACKAGE / "cli").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith(("csxl.book", "csxl.dashboard", "csxl.data"))
    )
    assert reached == []


#: Modules allowed past the size limit, each for a stated reason.
LONG_MODULES = {
    "csxl.book.layout": "declarative: every sheet, table, column and setting of the workbook, one table after another",
}
MAX_MODULE_LINES = 520
MAX_FUNCTION_LINES = 80


def test_modules_and_functions_stay_small_enough_to_read() -> None:
    too_long = []
    for name, _, tree, lines in _modules():
        if len(lines) > MAX_MODULE_LINES and name not in LONG_MODULES:
            too_long.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []


def test_every_module_of_csxl_stands_on_a_floor() -> None:
    # a module missing from the layers contract would escape it: every top-level module and package must be listed
    text = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    block = text.split("layers = [", 1)[1].split("]", 1)[0]
    listed = {
        name.strip() for line in block.splitlines() for name in line.strip().strip('",').split("|") if name.strip()
    }
    tops = {f"csxl.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    tops |= {f"csxl.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert sorted(tops - listed) == []
