"""The workbook package: members read lazily, untouched members copied compressed, and the zip writer."""

from __future__ import annotations

import struct
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO

from csxl.book.refs import resolve_target
from csxl.book.xlsx._xml import (
    _NEW_PART_TIME,
    _ZIP_LEVEL,
    CT_NS,
    CT_RELS,
    PKG_REL,
    XDR,
    _declarations,
    _parse,
    _q,
    _register,
    _relative,
    _rels_name,
    _serialise,
)
from csxl.errors import FileError

# --------------------------------------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------------------------------------


class _Package:
    """The zip's members: parsed parts csxl changes, new parts, deleted parts; everything else is copied as is."""

    def __init__(self, zin: zipfile.ZipFile, where: str) -> None:
        self.zin = zin
        self.where = where
        self.infos = {info.filename: info for info in zin.infolist() if not info.is_dir()}
        self.order = list(self.infos)
        self.trees: dict[str, ET.Element] = {}
        self.decls: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
        self.dirty: set[str] = set()
        self.raw: dict[str, bytes] = {}  # new or rewritten members given as bytes
        self.deleted: set[str] = set()
        self.builders: dict[str, Callable[[], bytes]] = {}  # parts serialised by their owner (worksheets)
        self.content_types = self.tree("[Content_Types].xml")

    # -- members
    def exists(self, name: str) -> bool:
        return name not in self.deleted and (name in self.infos or name in self.trees or name in self.raw)

    def read(self, name: str) -> bytes:
        if name in self.raw and name not in self.deleted:  # rewritten earlier in this run
            return self.raw[name]
        if name not in self.infos or name in self.deleted:
            raise FileError(self.where, f"the workbook has no part {name}")
        try:
            return self.zin.read(name)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise FileError(self.where, f"cannot read {name} ({exc})") from None

    def tree(self, name: str) -> ET.Element:
        if name not in self.trees:
            data = self.read(name)
            decls = _declarations(data, root_only=False)
            self.decls[name] = (decls, _declarations(data, root_only=True))
            _register(decls)
            self.trees[name] = _parse(data, self.where, name)
        return self.trees[name]

    def adopt(self, name: str, head: bytes, data: bytes) -> ET.Element:
        """Parse ``head`` (a part without its bulk, e.g. a worksheet without its rows) as the tree of part ``name``,
        with the namespace declarations of the whole part ``data``."""
        decls = _declarations(data, root_only=False)
        self.decls[name] = (decls, _declarations(data, root_only=True))
        _register(decls)
        self.trees[name] = _parse(head, self.where, name)
        return self.trees[name]

    def touch(self, name: str) -> None:
        self.dirty.add(name)

    def new_tree(self, name: str, root: ET.Element, content_type: str | None) -> None:
        self.deleted.discard(name)
        self.trees[name] = root
        ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        own = [("xdr", XDR)] if ns == XDR else [("", ns)]  # a new part's root namespace is its default one
        self.decls[name] = (own, [])
        self.dirty.add(name)
        if name not in self.order:
            self.order.append(name)
        if content_type:
            self.set_override(name, content_type)

    def put_bytes(self, name: str, data: bytes, content_type: str | None) -> None:
        self.deleted.discard(name)
        self.raw[name] = data
        if name not in self.order:
            self.order.append(name)
        if content_type:
            self.set_override(name, content_type)

    def delete(self, name: str) -> None:
        self.deleted.add(name)
        self.trees.pop(name, None)
        self.raw.pop(name, None)
        self.dirty.discard(name)
        self.remove_override(name)

    def free_name(self, pattern: str) -> str:
        """The lowest ``pattern.format(n)`` (n >= 1) that is not a member."""
        n = 1
        while self.exists(pattern.format(n)):
            n += 1
        return pattern.format(n)

    # -- content types
    def set_override(self, name: str, content_type: str) -> None:
        part = "/" + name
        for item in self.content_types.findall(_q("Override", CT_NS)):
            if item.get("PartName") == part:
                if item.get("ContentType") != content_type:
                    item.set("ContentType", content_type)
                    self.touch("[Content_Types].xml")
                return
        ET.SubElement(self.content_types, _q("Override", CT_NS), {"PartName": part, "ContentType": content_type})
        self.touch("[Content_Types].xml")

    def remove_override(self, name: str) -> None:
        part = "/" + name
        for item in self.content_types.findall(_q("Override", CT_NS)):
            if item.get("PartName") == part:
                self.content_types.remove(item)
                self.touch("[Content_Types].xml")

    def ensure_rels_default(self) -> None:
        for item in self.content_types.findall(_q("Default", CT_NS)):
            if (item.get("Extension") or "").lower() == "rels":
                return
        default = ET.Element(_q("Default", CT_NS), {"Extension": "rels", "ContentType": CT_RELS})
        self.content_types.insert(0, default)
        self.touch("[Content_Types].xml")

    # -- relationships
    def rels(self, source: str, create: bool = False) -> ET.Element | None:
        name = _rels_name(source)
        if self.exists(name):
            return self.tree(name)
        if not create:
            return None
        self.ensure_rels_default()
        root = ET.Element(_q("Relationships", PKG_REL))
        self.new_tree(name, root, None)
        return root

    def relations(self, source: str) -> Iterator[ET.Element]:
        rels = self.rels(source)
        if rels is not None:
            yield from rels.findall(_q("Relationship", PKG_REL))

    def relation(self, source: str, rid: str) -> ET.Element | None:
        for rel in self.relations(source):
            if rel.get("Id") == rid:
                return rel
        return None

    def target(self, source: str, rel: ET.Element) -> str:
        return resolve_target(source, rel.get("Target") or "")

    def add_relation(self, source: str, rel_type: str, part: str, *, location: bool = False) -> str:
        """Add a relationship from ``source`` to ``part`` (a part name; or, with ``location``, a target written as
        given, such as a hyperlink's ``#Sheet!A1``); returns its id."""
        rels = self.rels(source, create=True)
        assert rels is not None
        used = {rel.get("Id") for rel in rels}
        n = 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        ET.SubElement(
            rels,
            _q("Relationship", PKG_REL),
            {"Id": rid, "Type": rel_type, "Target": part if location else _relative(source, part)},
        )
        self.touch(_rels_name(source))
        return rid

    def remove_relation(self, source: str, rid: str) -> None:
        rels = self.rels(source)
        if rels is None:
            return
        for rel in rels.findall(_q("Relationship", PKG_REL)):
            if rel.get("Id") == rid:
                rels.remove(rel)
                self.touch(_rels_name(source))
        if len(rels) == 0:
            self.delete(_rels_name(source))

    def delete_with_rels(self, part: str) -> None:
        """Delete a part, its rels and the internal parts only it points to (a chart's style and colours)."""
        for rel in list(self.relations(part)):
            if rel.get("TargetMode") != "External":
                inner = self.target(part, rel)
                if self.exists(inner):
                    self.delete(inner)
        if self.exists(_rels_name(part)):
            self.delete(_rels_name(part))
        self.delete(part)

    # -- output
    def raw_member(self, info: zipfile.ZipInfo) -> bytes:
        """A member's bytes as stored in the zip (compressed), read past its local header."""
        # the zip's own open handle, never the path again: another process may have replaced the file since
        source: IO[bytes] | None = self.zin.fp
        if source is None:
            raise FileError(self.where, f"cannot read {info.filename} (the workbook was closed)")
        try:
            source.seek(info.header_offset)
            head = source.read(30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                raise OSError("no local header")
            name_length, extra_length = struct.unpack("<2H", head[26:30])
            source.seek(info.header_offset + 30 + name_length + extra_length)
            data = source.read(info.compress_size)
        except OSError as exc:
            raise FileError(self.where, f"cannot read {info.filename} ({exc})") from None
        if len(data) != info.compress_size:
            raise FileError(self.where, f"cannot read {info.filename} (truncated)")
        return data

    def close(self) -> None:
        """Nothing of its own to release: the zip (and its handle) belongs to the caller."""

    def save(self, handle: IO[bytes]) -> None:
        """Write the package as a zip: members csxl wrote are deflated (level :data:`_ZIP_LEVEL`), every other member
        is copied as its compressed bytes (same CRC, same content); order, names, times and attributes are kept."""
        for name in self.dirty:
            if name in self.builders:
                self.raw[name] = self.builders[name]()
            elif name in self.trees:
                decls, root_decls = self.decls[name]
                self.raw[name] = _serialise(self.trees[name], decls, root_decls)
        if self.zin.filename and all(i.compress_type in _ZIP_METHODS for i in self.infos.values()):
            try:
                self._save_members(_ZipWriter(handle))
                return
            except _NeedsZip64:
                handle.seek(0)
                handle.truncate()
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_ZIP_LEVEL) as zout:
            for name in self.order:
                if name in self.deleted:
                    continue
                old = self.infos.get(name)
                info = zipfile.ZipInfo(name, old.date_time if old else _NEW_PART_TIME)
                info.compress_type = old.compress_type if old else zipfile.ZIP_DEFLATED
                if old is not None:
                    info.external_attr = old.external_attr
                data = self.raw[name] if name in self.raw else self.read(name)
                zout.writestr(info, data, compresslevel=_ZIP_LEVEL)

    def _save_members(self, zout: _ZipWriter) -> None:
        for name in self.order:
            if name in self.deleted:
                continue
            old = self.infos.get(name)
            if old is None:
                zout.add(name, _NEW_PART_TIME, 0, zipfile.ZIP_DEFLATED, self.raw[name])
            elif name in self.raw or old.flag_bits & 0x1:  # rewritten (or encrypted: read() refuses it)
                data = self.raw[name] if name in self.raw else self.read(name)
                zout.add(name, old.date_time, old.external_attr, old.compress_type, data)
            else:
                stored = self.raw_member(old)
                zout.add_compressed(name, old, stored)
        zout.finish()


#: Compression methods the zip writer handles (stored, deflated); another one sends the whole zip through zipfile.
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: Sizes and offsets from this on need ZIP64 (the zip then goes through zipfile); a test lowers it.
_ZIP32_LIMIT = 0xFFFFFFFF
#: Parts at least this big are deflated in two halves in two threads.
_PARALLEL_DEFLATE_BYTES = 4 * 1024 * 1024


class _NeedsZip64(Exception):
    """A member or the archive is too big for a plain (non-ZIP64) zip."""


def _deflate(data: bytes) -> tuple[bytes, int]:
    """Raw deflate (level :data:`_ZIP_LEVEL`) of ``data`` and its CRC-32.

    A big part is deflated in two halves at once (zlib releases the GIL): the first ends on a sync flush (a byte
    boundary, not the last block), the second starts primed with the first's last 32 KB, so the two join into one
    stream (the way pigz works) that any inflater reads, back-references across the cut included.
    """
    if len(data) < _PARALLEL_DEFLATE_BYTES:
        whole = zlib.compressobj(_ZIP_LEVEL, zlib.DEFLATED, -15)
        return whole.compress(data) + whole.flush(), zlib.crc32(data)
    view = memoryview(data)
    half = len(data) // 2

    def first() -> bytes:
        head = zlib.compressobj(_ZIP_LEVEL, zlib.DEFLATED, -15)
        return head.compress(view[:half]) + head.flush(zlib.Z_SYNC_FLUSH)

    try:
        pool = ThreadPoolExecutor(max_workers=1)
        job = pool.submit(first)
    except RuntimeError:  # no threads here (e.g. WebAssembly): one stream
        whole = zlib.compressobj(_ZIP_LEVEL, zlib.DEFLATED, -15)
        return whole.compress(data) + whole.flush(), zlib.crc32(data)
    try:
        tail = zlib.compressobj(_ZIP_LEVEL, zlib.DEFLATED, -15, zdict=view[max(0, half - 32768) : half])
        second = tail.compress(view[half:]) + tail.flush()
        crc = zlib.crc32(data)
        return job.result() + second, crc
    finally:
        pool.shutdown()


class _ZipWriter:
    """A plain zip writer (no ZIP64; :class:`_NeedsZip64` past 4 GB or 65,535 members): each member's local header
    and data, then the central directory, as zipfile writes them to a seekable file."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.offset = 0
        self.central: list[bytes] = []
        self.system = 0 if sys.platform == "win32" else 3  # the "made by" system zipfile records

    def add(self, name: str, date_time: tuple[int, ...], external_attr: int, method: int, data: bytes) -> None:
        """A member from its content: deflated here (or stored as is for a stored member)."""
        if method == zipfile.ZIP_DEFLATED:
            stored, crc = _deflate(data)
        else:
            stored, crc = data, zlib.crc32(data)
        self._write(name, date_time, external_attr, method, 0, crc, len(data), stored)

    def add_compressed(self, name: str, info: zipfile.ZipInfo, stored: bytes) -> None:
        """A member copied as its compressed bytes (CRC and size from the source's directory)."""
        flags = info.flag_bits & 0x6  # the deflate option bits; no data descriptor: sizes are in the header
        self._write(
            name, info.date_time, info.external_attr, info.compress_type, flags, info.CRC, info.file_size, stored
        )

    def _write(
        self,
        name: str,
        date_time: tuple[int, ...],
        external_attr: int,
        method: int,
        flags: int,
        crc: int,
        size: int,
        stored: bytes,
    ) -> None:
        try:
            encoded = name.encode("ascii")
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), flags | 0x800
        if max(size, len(stored), self.offset) >= _ZIP32_LIMIT or len(self.central) >= 0xFFFF:
            raise _NeedsZip64
        year, month, day, hour, minute, second = date_time[:6]
        dos_time = hour << 11 | minute << 5 | second // 2
        dos_date = (year - 1980) << 9 | month << 5 | day
        fields = (flags, method, dos_time, dos_date, crc, len(stored), size, len(encoded))
        header = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, *fields, 0)
        entry = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, self.system, 20, 0, *fields, 0, 0, 0, 0, 0, 0)
        self.central.append(entry[:-8] + struct.pack("<2L", external_attr & 0xFFFFFFFF, self.offset) + encoded)
        self.handle.write(header + encoded)
        self.handle.write(stored)
        self.offset += len(header) + len(encoded) + len(stored)

    def finish(self) -> None:
        directory = b"".join(self.central)
        if self.offset + len(directory) >= _ZIP32_LIMIT:
            raise _NeedsZip64
        count = len(self.central)
        self.handle.write(directory)
        self.handle.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), self.offset, 0))
