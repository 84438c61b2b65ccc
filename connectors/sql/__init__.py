"""SQL sources: read-only access to SQLite files, SQL Server (pyodbc) and any SQLAlchemy URL,
and `SqlSource`, the Source interface over SQL that the SQL platforms share."""

from connectors.sql.catalog import Catalog
from connectors.sql.database import Database, SqlSettings, open_database
from connectors.sql.objects import Pivot, Skip, SqlField, SqlObject
from connectors.sql.source import SqlSource

__all__ = ["Catalog", "Database", "Pivot", "Skip", "SqlField", "SqlObject", "SqlSettings", "SqlSource", "open_database"]
