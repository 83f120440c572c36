"""Files for xlwings Lite: ``main.py`` to paste into the Lite editor and the requirement lines to add to its
``requirements.txt`` tab (``csxl lite DIR``).

xlwings Lite runs Python (Pyodide) inside Excel. It registers the custom functions and scripts it finds in the
namespace of the workbook's ``main.py`` (xlwings inspects that module's members, imported ones included), and
installs the packages listed in its ``requirements.txt`` tab. So ``main.py`` only imports csxl's functions
(:mod:`csxl.excel.functions`) and scripts (:mod:`csxl.excel.macros`); the code itself stays in the csxl package.

The requirement lines are **added** to the tab, never pasted over it: the tab already holds the lines the add-in
itself needs. They pin csxl to this version and xlwings to the version installed beside it (the one csxl's tests
ran with; micropip otherwise keeps whatever xlwings the add-in loaded, which may be older than csxl supports).
Dependencies Pyodide cannot install are excluded by environment markers in csxl's own metadata
(``python-calamine; sys_platform != "emscripten"``). After changing the tab, Lite's Python must be restarted.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from csxl.errors import FileError
from csxl.excel import functions, macros

__all__ = ["LITE_FILES", "lite_main", "lite_requirements", "write_lite"]

#: The files :func:`write_lite` writes.
LITE_FILES: tuple[str, ...] = ("main.py", "requirements-to-add.txt")


def _version(package: str = "csxl") -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - csxl run from a source tree without install
        return "0.1.0"


def lite_main() -> str:
    """The text of ``main.py``: imports that make Lite register csxl's worksheet functions and scripts."""

    names = sorted(functions.__all__)
    lines = [
        '"""csxl in xlwings Lite: paste this into the main.py tab (and requirements.txt into its tab).',
        "",
        "Lite registers the custom functions and scripts that this module defines or imports:",
        "  =HEALTHSCORE(...), =HEALTHTIER(...), =NRR(...) ... (csxl.excel.functions; docs/excel-functions.md)",
        "  scripts 'csxl refresh', 'csxl account page', 'csxl risk' ... (csxl.excel.macros; docs/excel.md)",
        "Sheet buttons: the shapes csxl draws on the Dashboard (Refresh) and the Actions sheet (one per action), each",
        "linked to its own cell as its script's button='[shape]Sheet!cell' says.",
        '"""',
        "",
        "from csxl.excel.functions import (  # noqa: F401",
        *[f"    {name}," for name in names],
        ")",
        "from csxl.excel.macros import (  # noqa: F401",
        *[f"    {name}," for name in sorted({*macros.SCRIPTS, "csxl_play"})],
        ")",
        "",
    ]
    return "\n".join(lines)


def lite_requirements() -> str:
    """The lines to add to Lite's ``requirements.txt`` tab: xlwings and csxl pinned to the installed versions."""
    return f"xlwings=={_version('xlwings')}\ncsxl=={_version()}\n"


def write_lite(directory: str | Path) -> list[Path]:
    """Write ``main.py`` and ``requirements-to-add.txt`` into ``directory`` (created if missing); returns their
    paths.

    Existing files of those names are overwritten (they are generated). Raises :class:`FileError` when the folder
    cannot be created or written.
    """
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / name for name in LITE_FILES]
        paths[0].write_text(lite_main(), encoding="utf-8")
        paths[1].write_text(lite_requirements(), encoding="utf-8")
    except OSError as exc:
        raise FileError(str(folder), f"cannot write the xlwings Lite files ({exc.strerror or exc})") from None
    return paths
