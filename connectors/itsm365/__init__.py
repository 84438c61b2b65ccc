"""ITSM 365 (Naumen Service Management Platform) over its REST API with an accessKey."""

from connectors.itsm365.source import Itsm365Source

__all__ = ["Itsm365Source"]
