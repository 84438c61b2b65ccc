"""Infraon Desk / Infraon ITSM over its REST API (`/ux/...`), API key or token auth."""

from connectors.infraon.source import InfraonSource

__all__ = ["InfraonSource"]
