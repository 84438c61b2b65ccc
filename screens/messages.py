"""Stage messages: long work reports through these, from the App's workers to the UI.

One message per stage (harlequin's pattern); progress messages replace each other in
the queue, so a fast worker never floods the screen (toolong's pattern).
"""

from __future__ import annotations

from textual.message import Message

from helpmig_tui.audit import AuditProgress
from helpmig_tui.destination import DestinationCheck
from helpmig_tui.source_connection import SourceCheck


class AuditStarted(Message):
    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project


class AuditProgressed(Message):
    def __init__(self, project: str, progress: AuditProgress) -> None:
        super().__init__()
        self.project = project
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AuditProgressed) and message.project == self.project


class AuditFinished(Message):
    """The audit ended: `audit_id` when stored, `error` (one line) when it failed."""

    def __init__(self, project: str, audit_id: int | None = None, error: str | None = None) -> None:
        super().__init__()
        self.project = project
        self.audit_id = audit_id
        self.error = error


class MappingStarted(Message):
    def __init__(self, project: str, llm: bool) -> None:
        super().__init__()
        self.project = project
        self.llm = llm


class MappingProgressed(Message):
    def __init__(self, project: str, step: str, done: int, total: int) -> None:
        super().__init__()
        self.project = project
        self.step = step
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MappingProgressed) and message.project == self.project


class MappingFinished(Message):
    """The proposal ended: `version` when stored, `error` (one line) when it failed."""

    def __init__(self, project: str, version: int | None = None, error: str | None = None) -> None:
        super().__init__()
        self.project = project
        self.version = version
        self.error = error


class SourceTested(Message):
    """A source test ended (passed or not); `check` says what answered or why not."""

    def __init__(self, project: str, check: SourceCheck) -> None:
        super().__init__()
        self.project = project
        self.check = check


class DestinationTested(Message):
    """An Intercom test ended: `check` when the token reached a workspace, else `error` (one line)."""

    def __init__(self, project: str, check: DestinationCheck | None = None, error: str | None = None) -> None:
        super().__init__()
        self.project = project
        self.check = check
        self.error = error
