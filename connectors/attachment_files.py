"""Attachment files on disk: find them once, hand them out as AttachmentRefs.

SmarterTrack names a file (FileNameOnDisk) but not its folder under App_Data, and
Track-It! keeps one folder per work order; both are indexed with one walk of the tree,
so a million attachments cost one directory scan, not a million searches. Paths may be
written the Windows way (D:\\...\\App_Data); on other systems backslashes are read as
separators, so a copied tree can be audited anywhere.

A file or folder the walk cannot read is never taken for a missing one: its ref carries
the reason (access denied; a path over Windows' 260 characters while long paths are off,
as on a default Windows Server), and the audit reports it with what to do.
"""

from __future__ import annotations

import errno
import mimetypes
import os
from collections import Counter
from functools import partial
from pathlib import Path

from connectors.base import AttachmentRef, Finding, Severity

DEFAULT_TYPE = "application/octet-stream"
MAX_PATH = 260
SAMPLE_FOLDERS = 20

# Why a file cannot be read (AttachmentRef.problem); anything else is the OS's own words.
ACCESS_DENIED = "access denied"
PATH_TOO_LONG = "path too long"
IN_UNREADABLE_FOLDER = "not found, and folders under the attachments root could not be read"
HINTS = {
    ACCESS_DENIED: "Give the account running helpmig read access to the attachments folder (and every folder "
    "below it), then audit again.",
    PATH_TOO_LONG: "The path is over Windows' 260 characters: enable long paths (group policy 'Enable Win32 long "
    "paths', or LongPathsEnabled=1 under HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem) or copy the "
    "attachments to a folder with a shorter path, then audit again.",
    IN_UNREADABLE_FOLDER: "The file may be in a folder helpmig cannot read: see the finding about unreadable "
    "attachment folders.",
}


def problem_hint(problem: str) -> str:
    return HINTS.get(problem, "Check that the file can be opened by the account running helpmig.")


def unreadable_reason(path: str, exc: OSError, *, windows: bool = os.name == "nt") -> str:
    """Why the OS refused `path`, in the words of AttachmentRef.problem."""
    if isinstance(exc, PermissionError) or getattr(exc, "winerror", None) == 5:
        return ACCESS_DENIED
    if exc.errno == errno.ENAMETOOLONG or getattr(exc, "winerror", None) == 206:
        return PATH_TOO_LONG
    if windows and len(path) >= MAX_PATH and isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return PATH_TOO_LONG  # with long paths off, Windows says "cannot find the path"
    return exc.strerror or exc.__class__.__name__


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
    name: str, record_key: str, where: str, *, size: int | None = None, content_id: str | None = None,
    problem: str = "",
) -> AttachmentRef:
    return AttachmentRef(
        name=name,
        size=size,
        content_type=content_type(name),
        record_key=record_key,
        location=where,
        inline=bool(content_id),
        content_id=content_id or None,
        problem=problem,
    )


def _refuse(path: str, problem: str):
    raise OSError(f"{problem}: {path}")


def file_ref(path: str, name: str, record_key: str, *, size: int | None, content_id: str | None = None,
             problem: str = "") -> AttachmentRef:
    """A file that is there; with a `problem`, opening it raises that reason."""
    return AttachmentRef(
        name=name,
        size=size,
        content_type=content_type(name),
        record_key=record_key,
        opener=partial(_refuse, path, problem) if problem else partial(open, path, "rb"),
        location=path,
        inline=bool(content_id),
        content_id=content_id or None,
        problem=problem,
    )


def read_problem(path: str) -> str:
    """Why `path` cannot be opened for reading; "" when it can (one open, nothing read)."""
    try:
        with open(path, "rb"):
            return ""
    except OSError as exc:
        return unreadable_reason(path, exc)


class _Unreadable:
    """Folders a walk could not enter, with the reason, reported as one finding."""

    def __init__(self) -> None:
        self.folders: list[tuple[str, str]] = []

    def __call__(self, exc: OSError) -> None:  # os.walk's onerror
        where = exc.filename if isinstance(exc.filename, str) else str(exc.filename or "")
        self.folders.append((where, unreadable_reason(where, exc)))

    def findings(self, root: Path | None) -> list[Finding]:
        if not self.folders:
            return []
        reasons = Counter(reason for _, reason in self.folders)
        worst = reasons.most_common(1)[0][0]
        return [
            Finding(
                code="attachment.folder_unreadable",
                severity=Severity.WARNING,
                message=f"{len(self.folders)} folders under {root} could not be read ("
                + ", ".join(f"{reason}: {n}" for reason, n in reasons.most_common()) + "); their files are not seen",
                keys=tuple(path for path, _ in self.folders[:SAMPLE_FOLDERS]),
                count=len(self.folders),
                detail=problem_hint(worst),
            )
        ]


class FileIndex:
    """Every file under a root (nested folders), by lower-case file name; built on first use."""

    def __init__(self, root: str | os.PathLike[str] | None) -> None:
        self.root = resolve_root(root)
        self._dirs: list[str] = []
        # name -> [(dir, name, size, problem)]; size is None when the file could not be read
        self._files: dict[str, list[tuple[int, str, int | None, str]]] | None = None
        self._unreadable = _Unreadable()
        self._folders_told = False

    @property
    def available(self) -> bool:
        return self.root is not None and self.root.is_dir()

    def _index(self) -> dict[str, list[tuple[int, str, int | None, str]]]:
        if self._files is None:
            self._files = {}
            if self.available:
                for folder, _, names in os.walk(self.root, onerror=self._unreadable):
                    index = len(self._dirs)
                    self._dirs.append(folder)
                    for name in names:
                        path = os.path.join(folder, name)
                        try:
                            size, problem = os.stat(path).st_size, ""
                        except OSError as exc:
                            size, problem = None, unreadable_reason(path, exc)
                        self._files.setdefault(name.lower(), []).append((index, name, size, problem))
        return self._files

    def take_folder_findings(self) -> list[Finding]:
        """The folders under the root that could not be read, as a finding, once."""
        self._index()
        if self._folders_told:
            return []
        self._folders_told = True
        return self._unreadable.findings(self.root)

    def find(self, name_on_disk: str, length: int | None = None) -> tuple[str, int | None, str] | None:
        """(path, size, problem) of the file with that name; with several, the one of that length."""
        found = self._index().get(name_on_disk.strip().lower())
        if not found:
            return None
        folder, name, size, problem = next(
            (entry for entry in found if length is not None and entry[2] == length), found[0]
        )
        return os.path.join(self._dirs[folder], name), size, problem

    def ref(
        self,
        name_on_disk: str | None,
        original_name: str | None,
        record_key: str,
        *,
        length: int | None = None,
        content_id: str | None = None,
    ) -> AttachmentRef:
        """The attachment as a ref; `exists` is False when no such file is under the root, and
        `problem` says why a file cannot be read."""
        shown = (original_name or name_on_disk or "").strip() or "(unnamed)"
        where = str(self.root / name_on_disk) if self.root is not None and name_on_disk else str(self.root or "")
        if not name_on_disk or not name_on_disk.strip():
            return missing_ref(
                shown, record_key, where or "(no file name recorded)", size=length, content_id=content_id
            )
        hit = self.find(name_on_disk, length)
        if hit is None:
            problem = IN_UNREADABLE_FOLDER if self._unreadable.folders else ""
            return missing_ref(shown, record_key, where, size=length, content_id=content_id, problem=problem)
        path, size, problem = hit
        return file_ref(path, shown, record_key, size=size if size is not None else length, content_id=content_id,
                        problem=problem or read_problem(path))


class FolderIndex:
    """Folders named after a record number directly under a root (Track-It!'s <root>\\<wo_num>\\)."""

    def __init__(self, root: str | os.PathLike[str] | None) -> None:
        self.root = resolve_root(root)
        self._folders: dict[str, str] | None = None
        self.root_problem = ""  # why the root itself could not be listed

    @property
    def available(self) -> bool:
        """The root is a folder that can be listed (`root_problem` says why not)."""
        if self.root is None or not self.root.is_dir():
            return False
        self.folders()
        return not self.root_problem

    @staticmethod
    def normalize(name: str) -> str:
        text = str(name).strip().lower()
        return text.lstrip("0") or "0" if text.isdigit() else text

    def folders(self) -> dict[str, str]:
        """Normalized folder name -> path."""
        if self._folders is None:
            self._folders = {}
            if self.root is not None and self.root.is_dir():
                try:
                    with os.scandir(self.root) as entries:
                        for entry in entries:
                            if entry.is_dir():
                                self._folders[self.normalize(entry.name)] = entry.path
                except OSError as exc:
                    self.root_problem = unreadable_reason(str(self.root), exc)
        return self._folders

    def refs(self, number: object, record_key: str) -> list[AttachmentRef]:
        """Every file in the record's folder (and below), by relative path; a folder that
        cannot be read becomes one ref with the reason, never an empty list."""
        folder = self.folders().get(self.normalize(str(number)))
        if folder is None:
            return []
        found = []
        unreadable = _Unreadable()
        for parent, _, names in os.walk(folder, onerror=unreadable):
            for name in names:
                path = os.path.join(parent, name)
                try:
                    size = os.stat(path).st_size
                except OSError as exc:
                    found.append(file_ref(path, name, record_key, size=None, problem=unreadable_reason(path, exc)))
                    continue
                found.append(file_ref(path, name, record_key, size=size, problem=read_problem(path)))
        for path, reason in unreadable.folders:
            found.append(missing_ref(f"(folder {os.path.basename(path)})", record_key, path, problem=reason))
        found.sort(key=lambda ref: ref.location)
        return found
