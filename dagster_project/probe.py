"""Whether a refresh has anything to do, answered before Dagster is even imported.

`replyline warehouse refresh` asks first: when every table is unchanged since the last run
(the replication's own plan, in one Postgres snapshot; rows re-read inside the overlap count
as unchanged when `raw` holds them in the same version), each `raw` table still counts what
Postgres did then, the dbt project is the one last built and the working copy is published,
a run would copy, build and publish nothing, so none is started. Costs a lock, one Postgres
query and a few DuckDB reads, against a Dagster run's seconds of start-up and event writes.
"""

from __future__ import annotations

from filelock import FileLock, Timeout

from dagster_project import build_state, replication, warehouse
from sender_service.db.models import REPLICATED_TABLES


def up_to_date(files: warehouse.WarehouseFiles, source_url: str) -> bool:
    """True when a refresh now would change nothing; False when unsure (a writer holds the
    lock, no working copy yet, anything moved): then the run decides."""
    if not (files.build.exists() and files.published.exists()):
        return False
    lock = FileLock(files.lock, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    try:
        con = warehouse.connect(files.build, source_url)
        try:
            return (
                replication.all_unchanged(con, REPLICATED_TABLES, replication.DEFAULT_OVERLAP)
                and build_state.plan_dbt(con, full=False).args is None
                and build_state.publish_needed(con) is None
            )
        finally:
            con.close()
    finally:
        lock.release()
