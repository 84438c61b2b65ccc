"""BMC Track-It!: work orders, notes and what they name, from its SQL Server database."""

from connectors.trackit.source import TrackItSource

__all__ = ["TrackItSource"]
