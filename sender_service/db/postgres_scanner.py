"""DuckDB's postgres extension, loaded from its wheel and attached to our database.

The warehouse replication and the ChatGPT export both read Postgres through it: it streams
binary `COPY` into DuckDB's vectors, so neither Python nor Postgres handles a row at a time.
"""

from __future__ import annotations

from importlib.resources import files as package_files
from pathlib import Path

import duckdb
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def extension_path() -> Path:
    """The postgres extension shipped in the `duckdb-extension-postgres-scanner` wheel.

    LOADed from the wheel's file directly: installing it by name would download it at run
    time, and `duckdb_extensions.import_extension` would copy it under ~/.duckdb first.
    """
    root = Path(str(package_files("duckdb_extension_postgres_scanner")))
    return root / "extensions" / f"v{duckdb.__version__}" / "postgres_scanner.duckdb_extension"


def libpq_conninfo(url: str, **extra: str) -> str:
    """A libpq URL (plus `extra` parameters) as the key=value string ATTACH takes."""
    return make_conninfo("", **conninfo_to_dict(url), **extra)


def attach(con: duckdb.DuckDBPyConnection, url: str, alias: str = "pg", **extra: str) -> None:
    """Load the extension into `con` and attach the database at `url`, read-only, as `alias`."""
    con.execute(f"LOAD '{extension_path()}'")
    dsn = libpq_conninfo(url, **extra).replace("'", "''")
    con.execute(f"ATTACH '{dsn}' AS {alias} (TYPE postgres, READ_ONLY)")
