"""The SQLite project store: one file per migration project (DESIGN.md section 4)."""

from helpmig_tui.state.store import (
    CorruptProjectFile,
    NewerSchema,
    NotAProjectFile,
    OlderSchema,
    ProjectExists,
    ProjectNotFound,
    ProjectStore,
    StoreError,
)

__all__ = [
    "CorruptProjectFile",
    "NewerSchema",
    "NotAProjectFile",
    "OlderSchema",
    "ProjectExists",
    "ProjectNotFound",
    "ProjectStore",
    "StoreError",
]
