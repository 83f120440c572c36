"""File safety: checks before a workbook is opened (size limits, zip bombs, XML bombs, legacy files, Excel's lock)
and the atomic replace every writer uses (:func:`replacing`).

A ``.xlsx`` workbook is a zip archive of XML parts. Before any reader (calamine, openpyxl) touches one,
:func:`check_package` looks at the archive's directory and the first bytes of its XML parts, so a hostile or damaged
file fails with a :class:`csxl.errors.FileError` that says what is wrong, instead of filling the memory, the disk or
a traceback. Stdlib and ``defusedxml`` only.

Limits (:class:`Limits`, all adjustable):

* ``max_file_bytes`` (500 MB): the file on disk. A 10,000-account book with 240,000 MRR rows is about 10 MB.
* ``max_total_uncompressed`` (2 GiB): the sum of the members' declared uncompressed sizes.
* ``max_member_ratio`` (200): uncompressed / compressed size of one member, checked only for members larger than
  5 MB uncompressed. Real sheet XML compresses 5-30 times (very repetitive sheets up to ~100); a zip bomb
  compresses 1,000 times or more. Small members are exempt: a tiny, highly compressible part cannot hurt.
* ``max_members`` (10,000): members of the archive (a workbook has a few dozen; one per sheet, drawing, comment).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csxl.errors import FileError

if sys.platform == "win32":  # the OS lock of workbook_lock
    import msvcrt
else:
    import fcntl

__all__ = [
    "DEFAULT_LIMITS",
    "LOCK_TIMEOUT_S",
    "OLE_SIGNATURE",
    "Limits",
    "check_package",
    "lock_file",
    "real_path",
    "refuse_if_open",
    "replacing",
    "workbook_lock",
]

#: First 8 bytes of an OLE2 compound file: a legacy ``.xls`` or an encrypted (password-protected) ``.xlsx``.
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
#: Members at most this large (uncompressed) are exempt from the compression-ratio check.
RATIO_EXEMPT_BYTES = 5 * 1024 * 1024
#: The longest XML prolog (declaration, comments, processing instructions before the root element) csxl reads; a
#: real part's is under 200 bytes. A DOCTYPE / ENTITY declaration can only stand there, so the whole prolog is read.
PROLOG_MAX_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024
_REQUIRED_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")
_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Size limits of :func:`check_package` (bytes, counts; see the module docstring for why these values)."""

    max_total_uncompressed: int = 2 * 1024**3
    max_member_ratio: float = 200.0
    max_members: int = 10_000
    max_file_bytes: int = 500 * 1000 * 1000


#: The default limits.
DEFAULT_LIMITS = Limits()


def _size(n: float) -> str:
    """Bytes as a short human size (``52,428,800 bytes (50.0 MB)``)."""
    return f"{int(n):,} bytes ({n / _MB:.1f} MB)"


def _decode(data: bytes) -> str:
    """A part's leading bytes as text: UTF-16 when it says so (a BOM or a zero byte up front), else UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and 0 in data[:2]):
        return data.decode("utf-16", errors="ignore")
    return data.decode("utf-8", errors="ignore")


def _prolog_verdict(text: str) -> bool | None:
    """Walk an XML prolog: True at a ``<!`` declaration (DOCTYPE, ENTITY ...), False at the root element (or text
    no parser would accept), None when ``text`` ends before either (read more)."""
    i = 1 if text.startswith("\ufeff") else 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return None
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            end = end + 1 if end != -1 else -1  # past "--", so the +2 below clears "-->"
        elif text.startswith("<!", i):
            return True
        else:
            return False if len(text) - i >= 2 or text[i] != "<" else None
        if end == -1:
            return None
        i = end + 2


def _has_declaration(member: Any) -> bool:
    """True when an XML part's prolog, read in full however long, declares a DOCTYPE or an ENTITY."""
    data = b""
    while True:
        chunk = member.read(_CHUNK)
        data += chunk
        verdict = _prolog_verdict(_decode(data))
        if verdict is not None:
            return verdict
        if not chunk:
            return False  # the part ended inside its prolog: no element, the parser will refuse it
        if len(data) > PROLOG_MAX_BYTES:
            return True  # a prolog of megabytes is no workbook's: refuse it as one would a declaration


def _check_xml(path: str, zf: zipfile.ZipFile, names: list[str]) -> None:
    safe_et: Any = importlib.import_module("defusedxml.ElementTree")
    bombs: Any = importlib.import_module("defusedxml").DefusedXmlException

    bomb = "contains a DOCTYPE/ENTITY declaration (an XML bomb guard refuses it; a real workbook never has one)"
    try:
        with zf.open("xl/workbook.xml") as member:
            safe_et.fromstring(member.read(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except bombs:
        raise FileError(path, f"xl/workbook.xml {bomb}") from None
    except safe_et.ParseError as exc:
        raise FileError(path, f"damaged workbook: xl/workbook.xml is not well-formed XML ({exc})") from None
    for name in names:
        if name == "xl/workbook.xml" or not name.lower().endswith((".xml", ".rels")):
            continue
        with zf.open(name) as member:
            hostile = _has_declaration(member)
        if hostile:
            raise FileError(path, f"{name} {bomb}")


def check_package(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a file that is missing, not an ``.xlsx`` package, too large, a zip bomb or an XML bomb.

    Raises :class:`FileError` naming the path and the reason. Checks, in order: the file exists and is a file; its size
    (``limits.max_file_bytes``); the OLE2 signature ``D0 CF 11 E0 A1 B1 1A E1`` (a password-protected or legacy
    ``.xls`` file); a readable zip archive; the member count; the declared uncompressed sizes (total, and the ratio
    uncompressed / compressed of every member larger than 5 MB); the parts ``[Content_Types].xml`` and
    ``xl/workbook.xml``; ``xl/workbook.xml`` parses with ``defusedxml`` (no DTD, no entities); the whole prolog of every
    other ``.xml``/``.rels`` member (however long: comments do not hide a declaration) holds no ``<!`` declaration.
    """
    p = Path(path)
    where = str(path)
    if not p.exists():
        raise FileError(where, "no such file")
    if p.is_dir():
        raise FileError(where, "is a folder, not a workbook file")
    size = p.stat().st_size
    if size > limits.max_file_bytes:
        raise FileError(where, f"file is {_size(size)}, more than the limit of {_size(limits.max_file_bytes)}")
    with p.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_SIGNATURE:
        raise FileError(where, "password-protected or legacy .xls file; save it as .xlsx (without a password)")
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileError(where, f"not an .xlsx workbook: not a zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise FileError(where, f"too many members in the archive: {len(infos):,} (limit {limits.max_members:,})")
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > RATIO_EXEMPT_BYTES:
                ratio = info.file_size / info.compress_size if info.compress_size else float("inf")
                if ratio > limits.max_member_ratio:
                    raise FileError(
                        where,
                        f"zip bomb: member {info.filename} expands from {_size(info.compress_size)} to "
                        f"{_size(info.file_size)} (ratio {ratio:,.0f}, limit {limits.max_member_ratio:g})",
                    )
        if total > limits.max_total_uncompressed:
            raise FileError(
                where, f"zip bomb: members expand to {_size(total)}, limit {_size(limits.max_total_uncompressed)}"
            )
        names = [info.filename for info in infos]
        for required in _REQUIRED_MEMBERS:
            if required not in names:
                raise FileError(where, f"not an .xlsx workbook: the archive has no {required}")
        try:
            _check_xml(where, zf, names)
        except FileError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise FileError(where, f"damaged workbook: {exc}") from None


def lock_file(path: str | Path) -> Path | None:
    """The lock file of an open workbook next to ``path``, or ``None``.

    Excel writes an owner file ``~$<name>`` in the same folder while the workbook is open; for a name whose stem is
    longer than 7 characters it may drop the first two characters (``Quarterly.xlsx`` -> ``~$arterly.xlsx``), so both
    spellings are checked. LibreOffice's ``.~lock.<name>#`` counts too. A stale lock (after a crash) also counts: the
    caller decides (``--force``).
    """
    p = Path(path)
    name = p.name
    candidates = [f"~${name}"]
    if len(p.stem) > 7:
        candidates.append(f"~${name[2:]}")
    candidates.append(f".~lock.{name}#")
    for candidate in candidates:
        lock = p.with_name(candidate)
        if lock.is_file():
            return lock
    return None


#: How long a csxl run waits for another one writing the same workbook before it gives up (seconds).
LOCK_TIMEOUT_S = 120.0
_HELD: dict[str, int] = {}  # workbooks this process has locked -> nesting depth (the lock is re-entrant)


def real_path(path: str | Path) -> Path:
    """The file ``path`` names, through symbolic links: csxl writes the link's target and leaves the link a link."""
    p = Path(path)
    return p.resolve() if p.is_symlink() else p


def _lock_fd(fd: int) -> bool:
    """Try to lock the open lock file exclusively, without waiting; True when this process now holds it."""
    try:
        if sys.platform == "win32":
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError on POSIX, PermissionError on Windows: another process holds it
        return False
    return True


def _remove_stale_temps(target: Path) -> None:
    """Temporary files a killed csxl run left beside ``target`` (safe: this process holds the workbook's lock)."""
    # deferred: layout loads the record models; the lock is also taken by light commands
    from csxl.book.layout import ARCHIVE_SUFFIX

    for name in (target.name, target.name + ARCHIVE_SUFFIX):  # the workbook's and its History archive's
        for stale in target.parent.glob(f".csxl-{name}-*"):
            with contextlib.suppress(OSError):
                stale.unlink()


@contextlib.contextmanager
def workbook_lock(path: str | Path, *, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the workbook's csxl lock: concurrent csxl runs on one file take turns, so none loses another's writes.

    The lock is an OS lock on a file named after the workbook's full path in the temp folder (``csxl-locks-<uid>/``, so
    nothing is left beside the workbook): the system releases it when a run ends, crashed or not, so a dead run never
    blocks the next one. It serialises runs on one machine (a workbook on a shared drive edited from two machines
    is not covered). Re-entrant within a process. Temp files a killed run
    left are removed once the lock is held. Waits up to ``timeout`` seconds, then raises :class:`FileError`.
    """
    target = real_path(path)
    key = str(target.absolute())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    user = f"-{os.getuid()}" if hasattr(os, "getuid") else ""  # one folder per user: no one else's permissions
    folder = Path(tempfile.gettempdir()) / f"csxl-locks{user}"
    lock = folder / (hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".lock")
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise FileError(str(path), f"cannot take csxl's lock in {folder} ({exc.strerror or exc})") from None
    try:
        deadline = time.monotonic() + timeout
        while not _lock_fd(fd):
            if time.monotonic() > deadline:
                raise FileError(str(path), f"another csxl run has been writing it for {timeout:g} s; try again")
            time.sleep(0.05)
        _HELD[key] = 1
        try:
            _remove_stale_temps(target)
            yield
        finally:
            del _HELD[key]
    finally:
        os.close(fd)  # closing the descriptor releases the OS lock


@contextlib.contextmanager
def replacing(target: str | Path, *, mode_from: Path | None = None, suffix: str | None = None) -> Iterator[Path]:
    """Write a file atomically: yield a temporary path beside ``target``; on success move it over ``target``.

    ``target`` is followed through symbolic links (the link's target is replaced, the link stays). A read-only
    ``target`` is refused (:class:`FileError`). The write holds the workbook's lock (:func:`workbook_lock`). The
    temporary file gets ``mode_from``'s permissions (the file it replaces), else a new file's (the umask). On any
    error it is removed and ``target`` is left as it was; an ``OSError`` becomes a :class:`FileError` naming
    ``target``. Every csxl writer (refresh, new, report, the macro workbook) goes through here.
    """
    path = real_path(target)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileError(str(target), f"folder {folder} does not exist")
    if path.exists() and not path.stat().st_mode & 0o222:
        raise FileError(
            str(target), "is read-only; csxl does not replace a protected file: make it writable, or write a copy"
        )
    with workbook_lock(path):
        try:
            prefix = f".csxl-{path.name}-"
            fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix or path.suffix or ".tmp", dir=folder)
        except OSError as exc:
            raise FileError(str(target), f"cannot write in {folder} ({exc.strerror or exc})") from None
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            if mode_from is not None:
                os.chmod(tmp, os.stat(mode_from).st_mode & 0o7777)
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        except FileError:
            raise
        except OSError as exc:
            raise FileError(str(target), f"cannot write the workbook ({exc.strerror or exc})") from None
        finally:
            if tmp.exists():
                tmp.unlink()


def refuse_if_open(path: str | Path, force: bool = False) -> None:
    """Raise :class:`FileError` when a spreadsheet app has ``path`` open (its lock file exists), unless ``force``."""
    lock = lock_file(path)
    if lock is not None and not force:
        raise FileError(str(path), f"Excel has it open ({lock.name} exists); close it there, or use --force")
