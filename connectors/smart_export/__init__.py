"""SMART Service Desk from a folder of CSV or XLSX exports (the product has no API)."""

from connectors.smart_export.source import SmartExportSource

__all__ = ["SmartExportSource"]
