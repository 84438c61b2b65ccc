"""Where `helpmig report P --bundle PATH` may write the evidence bundle, decided before anything is written.

A folder (one that exists, or a path ending in a separator) gets the bundle under its
default name. The bundle never goes inside the project's own folder (`--bundle
.../state.sqlite` once replaced the project's state with the zip), and never replaces a
file unless that file is an earlier evidence bundle of the same project: anything else
there (a database, a document, another project's evidence) may be the only copy of it.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

from connectors.file_paths import absolute_path, shown


class BundlePathError(Exception):
    """The bundle cannot go where --bundle says: bad input, nothing was written."""


def default_name(project: str) -> str:
    return f"helpmig-evidence-{project}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.zip"


def bundle_path(text: str, project_dir: Path, project: str) -> Path:
    """The file the bundle will be written to; its folder exists and takes new files."""
    out = absolute_path(text)
    if out.is_dir() or text.endswith(("/", os.sep)):
        out = out / default_name(project)
    where = shown(out)
    if out.resolve().is_relative_to(project_dir.resolve()):
        raise BundlePathError(f"--bundle {where} is inside the project's own folder {project_dir}; "
                              "write the bundle somewhere else")
    if out.exists() and not _earlier_bundle(out, project):
        raise BundlePathError(f"--bundle {where} exists and is not an earlier evidence bundle of {project}; "
                              "helpmig does not replace it: name a new file or a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):  # the folder takes new files: nothing is left behind
            pass
    except OSError as exc:
        why = "part of it is a file, not a folder" if isinstance(exc, (FileExistsError, NotADirectoryError)) \
            else exc.strerror or str(exc)
        raise BundlePathError(f"--bundle {where}: cannot write in {shown(out.parent)} ({why}); "
                              "name a file in a folder this account may write") from None
    return out


def _earlier_bundle(path: Path, project: str) -> bool:
    """A zip whose manifest says it is helpmig's evidence of this project."""
    try:
        with zipfile.ZipFile(path) as bundle:
            manifest = json.loads(bundle.read("manifest.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False
    return isinstance(manifest, dict) and "helpmig" in manifest and manifest.get("project") == project
