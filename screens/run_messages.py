"""Stage messages of runs (plan, sample, load, delta, validation, rollback): the App's
workers post them, the App hands them to the screens that show that project.

Requests go up from a screen to the App (which owns the workers); progress comes back
down. Progress messages replace each other in the queue, so a load at full speed never
floods the interface.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

from helpmig_tui.pipeline.context import LoadOptions, LoadProgress


class _ProjectMessage(Message):
    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project


# -- requests (screen -> App) ---------------------------------------------------------


class PlanRequested(_ProjectMessage):
    pass


class RunRequested(_ProjectMessage):
    """Start or resume a load: `kind` is sample, load or delta."""

    def __init__(self, project: str, kind: str, options: LoadOptions) -> None:
        super().__init__(project)
        self.kind = kind
        self.options = options


class RunControlRequested(_ProjectMessage):
    """pause, resume or cancel the running load of a project."""

    def __init__(self, project: str, action: str) -> None:
        super().__init__(project)
        self.action = action


class ValidationRequested(_ProjectMessage):
    def __init__(self, project: str, sample: int, sample_run_only: bool = False) -> None:
        super().__init__(project)
        self.sample = sample
        self.sample_run_only = sample_run_only


class RollbackRequested(_ProjectMessage):
    """Roll back (`dry_run`: only count what would be removed)."""

    def __init__(self, project: str, sample_only: bool, dry_run: bool, *, include_changed: bool = False) -> None:
        super().__init__(project)
        self.sample_only = sample_only
        self.dry_run = dry_run
        self.include_changed = include_changed  # objects changed in Intercom after the import go too


# -- results and progress (App -> screens) ------------------------------------------------


class PlanReady(_ProjectMessage):
    def __init__(self, project: str, plan: Any = None, admins: list[Any] | None = None, error: str | None = None) -> None:
        super().__init__(project)
        self.plan = plan
        self.admins = admins or []
        self.error = error


class RunStarted(_ProjectMessage):
    def __init__(self, project: str, kind: str) -> None:
        super().__init__(project)
        self.kind = kind


class RunPlanned(_ProjectMessage):
    """Before the first bar moves: each phase's objects with their records (None: not known
    up front), which objects are messages and notes rather than records, and the plan's
    rate limit (requests per 10 s)."""

    def __init__(self, project: str, totals: dict[str, dict[str, int | None]], parts: set[str],
                 limit_per_10s: int | None = None) -> None:
        super().__init__(project)
        self.totals = totals
        self.parts = parts
        self.limit_per_10s = limit_per_10s


class RunProgressed(_ProjectMessage):
    def __init__(self, project: str, progress: LoadProgress) -> None:
        super().__init__(project)
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgressed) and message.project == self.project


class RunEvent(_ProjectMessage):
    def __init__(self, project: str, level: str, text: str) -> None:
        super().__init__(project)
        self.level = level
        self.text = text


class PhaseReported(_ProjectMessage):
    def __init__(self, project: str, report: Any) -> None:
        super().__init__(project)
        self.report = report


class RunFinished(_ProjectMessage):
    """`result` is a LoadResult; `error` a line when the run could not start or stopped."""

    def __init__(self, project: str, kind: str, result: Any = None, error: str | None = None) -> None:
        super().__init__(project)
        self.kind = kind
        self.result = result
        self.error = error


class ValidationFinished(_ProjectMessage):
    def __init__(self, project: str, result: Any = None, error: str | None = None) -> None:
        super().__init__(project)
        self.result = result
        self.error = error


class RollbackFinished(_ProjectMessage):
    """`planned` for a dry run, `report` for a rollback, `error` when it failed."""

    def __init__(self, project: str, planned: dict[str, int] | None = None, report: Any = None,
                 error: str | None = None) -> None:
        super().__init__(project)
        self.planned = planned
        self.report = report
        self.error = error
