"""Attachment files on disk: find them once, hand them out as AttachmentRefs.

SmarterTrack names a file (FileNameOnDisk) but not its folder under App_Data, and
Track-It! keeps one folder per work order; both are indexed with one walk of the tree,
so a million attachments cost one directory scan, not a million searches. Paths may be
written the Windows way (D:\\...\\App_Data); on other systems backslashes are read as
separators, so a copied tree can be audited anywhere.
"""

from __future__ import annotations

import mimetypes
import os
from functools import partial
from pathlib import Path

from connectors.base import AttachmentRef

DEFAULT_TYPE = "application/octet-stream"


def resolve_root(root: str | os.PathLike[str] | None) -> Path | None:
    """The attachments root as a Path; Windows separators are accepted everywhere."""
    if root is None or str(root).strip() == "":
        return None
    text = str(root).strip()
    path = Path(text).expanduser()
    if not path.exists() and os.sep == "/" and "\\" in text:
        path = Path(text.replace("\\", "/")).expanduser()
    return path


def content_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or DEFAULT_TYPE


def missing_ref(
    name: str, record_key: str, where: str, *, size: int | None = None, content_id: str | None = None
) -> AttachmentRef:
    return AttachmentRef(
        name=name,
        size=size,
        content_type=content_type(name),
        record_key=record_key,
        location=where,
        inline=bool(content_id),
        content_id=content_id or None,
    )


def file_ref(path: str, name: str, record_key: str, *, size: int, content_id: str | None = None) -> AttachmentRef:
    return AttachmentRef(
        name=name,
        size=size,
        content_type=content_type(name),
        record_key=record_key,
        opener=partial(open, path, "rb"),
        location=path,
        inline=bool(content_id),
        content_id=content_id or None,
    )


class FileIndex:
    """Every file under a root (nested folders), by lower-case file name; built on first use."""

    def __init__(self, root: str | os.PathLike[str] | None) -> None:
        self.root = resolve_root(root)
        self._dirs: list[str] = []
        self._files: dict[str, list[tuple[int, str, int]]] | None = None  # name -> [(dir, name, size)]

    @property
    def available(self) -> bool:
        return self.root is not None and self.root.is_dir()

    def _index(self) -> dict[str, list[tuple[int, str, int]]]:
        if self._files is None:
            self._files = {}
            if self.available:
                for folder, _, names in os.walk(self.root):
                    index = len(self._dirs)
                    self._dirs.append(folder)
                    for name in names:
                        try:
                            size = os.stat(os.path.join(folder, name)).st_size
                        except OSError:
                            continue
                        self._files.setdefault(name.lower(), []).append((index, name, size))
        return self._files

    def find(self, name_on_disk: str, length: int | None = None) -> tuple[str, int] | None:
        """(path, size) of the file with that name; with several, the one of that length."""
        found = self._index().get(name_on_disk.strip().lower())
        if not found:
            return None
        folder, name, size = next((entry for entry in found if length is not None and entry[2] == length), found[0])
        return os.path.join(self._dirs[folder], name), size

    def ref(
        self,
        name_on_disk: str | None,
        original_name: str | None,
        record_key: str,
        *,
        length: int | None = None,
        content_id: str | None = None,
    ) -> AttachmentRef:
        """The attachment as a ref; `exists` is False when no such file is under the root."""
        shown = (original_name or name_on_disk or "").strip() or "(unnamed)"
        where = str(self.root / name_on_disk) if self.root is not None and name_on_disk else str(self.root or "")
        if not name_on_disk or not name_on_disk.strip():
            return missing_ref(
                shown, record_key, where or "(no file name recorded)", size=length, content_id=content_id
            )
        hit = self.find(name_on_disk, length)
        if hit is None:
            return missing_ref(shown, record_key, where, size=length, content_id=content_id)
        path, size = hit
        return file_ref(path, shown, record_key, size=size, content_id=content_id)


class FolderIndex:
    """Folders named after a record number directly under a root (Track-It!'s <root>\\<wo_num>\\)."""

    def __init__(self, root: str | os.PathLike[str] | None) -> None:
        self.root = resolve_root(root)
        self._folders: dict[str, str] | None = None

    @property
    def available(self) -> bool:
        return self.root is not None and self.root.is_dir()

    @staticmethod
    def normalize(name: str) -> str:
        text = str(name).strip().lower()
        return text.lstrip("0") or "0" if text.isdigit() else text

    def folders(self) -> dict[str, str]:
        """Normalized folder name -> path."""
        if self._folders is None:
            self._folders = {}
            if self.available:
                with os.scandir(self.root) as entries:
                    for entry in entries:
                        if entry.is_dir():
                            self._folders[self.normalize(entry.name)] = entry.path
        return self._folders

    def refs(self, number: object, record_key: str) -> list[AttachmentRef]:
        """Every file in the record's folder (and below), by relative path."""
        folder = self.folders().get(self.normalize(str(number)))
        if folder is None:
            return []
        found = []
        for parent, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(parent, name)
                try:
                    size = os.stat(path).st_size
                except OSError:
                    found.append(missing_ref(name, record_key, path))
                    continue
                found.append(file_ref(path, name, record_key, size=size))
        found.sort(key=lambda ref: ref.location)
        return found
