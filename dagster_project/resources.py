"""The warehouse resource (where the files are, the source database, the writers' lock) and
the exports resource (where the weekly report and the ChatGPT zip go)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project import replication, warehouse
from sender_service.db.engine import resolve_database_url
from sender_service.settings import Settings, load_settings


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The DuckDB warehouse fed from the operational Postgres.

    Unset fields come from the environment at run time (WAREHOUSE_PATH, DATABASE_URL or the
    embedded server). The writers' lock is held from the start of a run to its end: the job
    runs in process, so the replication, the checks, dbt and the publish all happen under one
    lock and nothing else writes in between.
    """

    warehouse_path: str | None = None
    database_url: str | None = None
    lock_timeout_seconds: float = 900.0
    overlap_seconds: float = replication.DEFAULT_OVERLAP.total_seconds()

    @property
    def files(self) -> warehouse.WarehouseFiles:
        path = Path(self.warehouse_path) if self.warehouse_path else None
        return warehouse.WarehouseFiles(path or load_settings().warehouse_path)

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.overlap_seconds)

    def source_url(self) -> str:
        return self.database_url or resolve_database_url()

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseResource]:
        def on_wait(message: str) -> None:
            if context.log is not None:
                context.log.warning(message)

        with warehouse.writer_lock(self.files, self.lock_timeout_seconds, on_wait):
            yield self

    @contextmanager
    def build(self, *, attach_source: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working copy (seeded from the published file if missing).

        This is where a dbt step runs too: dbt-duckdb's `path` is `files.build`.
        """
        files = self.files
        warehouse.prepare_build(files)
        con = warehouse.connect(files.build, self.source_url() if attach_source else None)
        try:
            yield con
        finally:
            con.close()


class ExportsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the weekly exports read from and write to; unset fields come from the settings
    (WAREHOUSE_PATH, EXPORTS_DIR, EXPORTS_RETENTION_DAYS, DATABASE_URL) at run time."""

    database_url: str | None = None
    warehouse_path: str | None = None
    exports_dir: str | None = None
    retention_days: int | None = None

    def settings(self) -> Settings:
        settings = load_settings()
        return replace(
            settings,
            warehouse_path=Path(self.warehouse_path)
            if self.warehouse_path
            else settings.warehouse_path,
            exports_dir=Path(self.exports_dir) if self.exports_dir else settings.exports_dir,
            exports_retention_days=self.retention_days or settings.exports_retention_days,
        )

    def source_url(self) -> str:
        return self.database_url or resolve_database_url()
