"""Streaming writers for one inbox file in a given ``FileVariant``.

Rows arrive as lists of strings in the file's slot order; the writer does the
encoding work (NFD, Windows-1258, BOM) and, for XLSX, uses openpyxl's
write-only mode and then rewrites the zip with fixed timestamps, because
byte-identical output for the same seed is part of the generator's contract.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path
from types import TracebackType

from motcua_dev.generator.textcodec import to_cp1258_text
from motcua_dev.generator.variants import FileVariant

FLUSH_ROWS = 2000
ZIP_EPOCH = (2017, 7, 14, 0, 0, 0)  # any fixed date; zip stores local time without zone
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


class TableWriter:
    """Write a header and rows to ``path``; ``close()`` returns the file's sha256."""

    def __init__(
        self, path: Path, header: list[str], variant: FileVariant, stamp: datetime
    ) -> None:
        self.path = path
        self.variant = variant
        self.stamp = stamp
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        if variant.is_xlsx:
            self._open_xlsx(header)
        else:
            self._open_csv(header)

    # --- CSV ------------------------------------------------------------------------
    def _open_csv(self, header: list[str]) -> None:
        self._handle = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        if self.variant.encoding == "utf-8-sig":
            self._handle.write(b"\xef\xbb\xbf")
        self._buffer = io.StringIO()
        terminator = "\n" if self.variant.line_ending == "lf" else "\r\n"
        self._csv = csv.writer(self._buffer, lineterminator=terminator)
        self._pending = 0
        self._csv.writerow(header)
        self._flush()

    def _encode(self, text: str) -> bytes:
        if self.variant.encoding == "cp1258":
            return to_cp1258_text(text).encode("cp1258")
        if self.variant.normalization == "NFD":
            text = unicodedata.normalize("NFD", text)
        return text.encode("utf-8")

    def _flush(self) -> None:
        self._handle.write(self._encode(self._buffer.getvalue()))
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pending = 0

    # --- XLSX -----------------------------------------------------------------------
    def _open_xlsx(self, header: list[str]) -> None:
        from openpyxl import Workbook

        self._workbook = Workbook(write_only=True)
        self._workbook.properties.creator = "motcua_dev.generator"
        self._workbook.properties.created = self.stamp
        self._workbook.properties.modified = self.stamp
        self._sheet = self._workbook.create_sheet("Danh sách")
        self._sheet.append([self._cell(h) for h in header])

    def _cell(self, value: str) -> str | None:
        if value == "":
            return None
        if self.variant.normalization == "NFD":
            return unicodedata.normalize("NFD", value)
        return value

    def _close_xlsx(self) -> None:
        fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=self.path.parent)
        os.close(fd)
        try:
            self._workbook.save(tmp)
            normalise_zip(Path(tmp), self.path, self.stamp)
        finally:
            os.unlink(tmp)

    # --- common ---------------------------------------------------------------------
    def write(self, row: list[str]) -> None:
        self.rows += 1
        if self.variant.is_xlsx:
            self._sheet.append([self._cell(v) for v in row])
            return
        self._csv.writerow(row)
        self._pending += 1
        if self._pending >= FLUSH_ROWS:
            self._flush()

    def close(self) -> str:
        if self.variant.is_xlsx:
            self._close_xlsx()
        else:
            self._flush()
            self._handle.close()
        return sha256_of(self.path)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and not self.variant.is_xlsx:
            self._handle.close()


def normalise_zip(source: Path, target: Path, stamp: datetime) -> None:
    """Copy a zip entry by entry with a fixed timestamp and mode (stable bytes).

    openpyxl stamps ``dcterms:modified`` with the wall clock when saving;
    it is set back to ``stamp`` so the workbook depends on the seed only.
    """
    modified = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            if info.filename == "docProps/core.xml":
                core = _MODIFIED.sub(rb"\g<1>" + modified + rb"\g<2>", zin.read(info))
                zout.writestr(entry, core)
                continue
            with zin.open(info) as src, zout.open(entry, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
