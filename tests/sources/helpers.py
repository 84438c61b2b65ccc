"""Helpers shared by the source tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from connectors.samples import Manifest


def no_secret(name: str) -> str | None:
    return None


def copy_sample(manifest: Manifest, target: Path) -> Path:
    """A private copy of a sample database, for tests that change its schema."""
    path = target / Path(manifest.database).name
    shutil.copyfile(manifest.database, path)
    return path


def records(source, name: str, **kw) -> list:
    return [record for batch in source.iter_records(name, **kw) for record in batch]
