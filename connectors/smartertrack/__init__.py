"""SmarterTrack (SmarterTools): tickets, users, KB, chats and call logs from its database."""

from connectors.smartertrack.source import SmarterTrackSource

__all__ = ["SmarterTrackSource"]
