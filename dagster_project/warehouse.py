"""The warehouse files: where the writer builds, how readers get a published copy, the lock.

DuckDB lets one process write a file or many processes read it, never both. So the writer
never touches the file readers open: it keeps its own working copy (`<name>.build.duckdb`
beside WAREHOUSE_PATH), and each run that succeeds publishes it by copying it to a temporary
file and `os.replace`-ing that onto WAREHOUSE_PATH. A reader that opens WAREHOUSE_PATH
read-only gets either the old or the new file, whole, and never waits for a lock; a reader that
has it open keeps reading the old file until it reconnects.

Writers (the CLI and Dagster runs alike) take an exclusive file lock on `<name>.lock` first.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from sender_service.db import postgres_scanner


class WarehouseBusy(RuntimeError):
    """Another writer held the lock for longer than we were willing to wait."""


@dataclass(frozen=True)
class WarehouseFiles:
    published: Path

    @property
    def build(self) -> Path:
        return self.published.with_name(f"{self.published.stem}.build{self.published.suffix}")

    @property
    def lock(self) -> Path:
        return self.published.with_name(f"{self.published.name}.lock")

    @property
    def holder(self) -> Path:
        """Who holds the lock (pid, since when), for the message a waiting writer prints."""
        return self.published.with_name(f"{self.published.name}.lock.holder")


def _holder_text(files: WarehouseFiles) -> str:
    try:
        info = json.loads(files.holder.read_text())
        return f"pid {info['pid']} since {info['since']}"
    except (OSError, ValueError, KeyError):
        return "holder unknown"


@contextmanager
def writer_lock(
    files: WarehouseFiles, timeout: float, on_wait: Callable[[str], None]
) -> Iterator[None]:
    """Hold the writers' lock; if another writer has it, say so through `on_wait` and wait."""
    files.lock.parent.mkdir(parents=True, exist_ok=True)
    # thread_local=False: Dagster may acquire in one thread and release in another.
    lock = FileLock(files.lock, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        on_wait(
            f"another warehouse refresh is running ({_holder_text(files)}); "
            f"waiting up to {timeout:.0f}s for it to finish"
        )
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise WarehouseBusy(
                f"another warehouse refresh still holds {files.lock} ({_holder_text(files)}) "
                f"after {timeout:.0f}s"
            ) from None
    try:
        since = datetime.now(UTC).isoformat(timespec="seconds")
        files.holder.write_text(json.dumps({"pid": os.getpid(), "since": since}))
        yield
    finally:
        files.holder.unlink(missing_ok=True)
        lock.release()


def connect(path: Path, source_url: str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `path`; with `source_url`, Postgres attached as `pg`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"autoinstall_known_extensions": False})
    if source_url is not None:
        postgres_scanner.attach(con, source_url)
    return con


def prepare_build(files: WarehouseFiles) -> None:
    """Seed a missing working copy from the published file, so a lost build stays incremental."""
    if not files.build.exists() and files.published.exists():
        shutil.copyfile(files.published, files.build)


def publish(files: WarehouseFiles) -> float:
    """Atomically replace the published file with the working copy; returns seconds taken.

    Call with the writer lock held and no connection open on the working copy, so it is
    checkpointed and whole.
    """
    started = time.perf_counter()
    tmp = files.published.with_name(f".{files.published.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(files.build, tmp)
        # fsync before the rename: after a crash the name points at a whole file or the old one.
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, files.published)
    finally:
        tmp.unlink(missing_ok=True)
    return time.perf_counter() - started


def confirm_current(files: WarehouseFiles) -> None:
    """Mark the published file current as of now when a refresh found nothing to change.

    Its modification time is the warehouse's age for `replyline doctor` and the "as of" readers
    show: without this, a quiet night with no new replies would look like a broken refresh.
    """
    with suppress(FileNotFoundError):
        os.utime(files.published)


def open_published(path: Path) -> duckdb.DuckDBPyConnection:
    """How readers open the warehouse: read-only, never blocked by a refresh."""
    return duckdb.connect(str(path), read_only=True)
