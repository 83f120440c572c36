"""Render a workbook's Dashboard sheet to PNG with LibreOffice (the picture in README.md and docs/excel.md).

``python docs/render_dashboard.py workbooks/csxl-demo.xlsx docs/img/dashboard.png`` (``make picture``): LibreOffice
exports the workbook to PDF with one page per sheet, ``pdftoppm`` renders the Dashboard's page, cropped to the
content (the extent of the text on the page, read with ``pdftotext -bbox``, plus a margin). Needs ``soffice``,
``pdftoppm`` and ``pdftotext`` (Debian: libreoffice-calc-nogui, poppler-utils).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DPI = 300
MARGIN_PT = 12.0


def sheet_index(book: Path, sheet: str) -> int:
    """1-based position of ``sheet`` in the workbook's tab order (the PDF page when each sheet is one page)."""
    with zipfile.ZipFile(book) as zf:
        names = re.findall(r'<sheet [^>]*name="([^"]+)"', zf.read("xl/workbook.xml").decode())
    return names.index(sheet) + 1


def render(book: Path, png: Path, sheet: str = "Dashboard") -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("render_dashboard: LibreOffice (soffice) is not installed")
    page = sheet_index(book, sheet)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
        profile = (work / "profile").as_uri()
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--convert-to",
                export,
                "--outdir",
                tmp,
                str(book),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        pdf = work / f"{book.stem}.pdf"
        if not pdf.exists():
            raise SystemExit(f"render_dashboard: LibreOffice did not write {pdf.name}")
        bbox = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        xs = [float(v) for v in re.findall(r'xMax="([\d.]+)"', bbox)]
        ys = [float(v) for v in re.findall(r'yMax="([\d.]+)"', bbox)]
        width_pt, height_pt = max(xs) + MARGIN_PT, max(ys) + MARGIN_PT
        scale = DPI / 72.0
        png.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "pdftoppm",
                "-f",
                str(page),
                "-l",
                str(page),
                "-png",
                "-singlefile",
                "-r",
                str(DPI),
                "-x",
                "0",
                "-y",
                "0",
                "-W",
                str(int(width_pt * scale)),
                "-H",
                str(int(height_pt * scale)),
                str(pdf),
                str(png.with_suffix("")),
            ],
            check=True,
            capture_output=True,
        )
    return png


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python docs/render_dashboard.py BOOK.xlsx OUT.png")
    print(render(Path(sys.argv[1]), Path(sys.argv[2])))
