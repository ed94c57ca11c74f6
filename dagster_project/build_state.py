"""What a refresh still has to do after replication: which dbt nodes to build, whether to publish.

The working copy remembers (`raw._build_state`) when dbt last built successfully, from which
version of the dbt project, and when the file was last published. With the tables' own
`changed_at` (set by the replication when a table's rows moved) that decides:

- a full `dbt build` (every model, seed, data and unit test) on `--full`, on the first build
  and whenever a file of the dbt project changed since the last build;
- otherwise only the tables (intermediate and marts) downstream of the tables changed since
  the last build, with their data tests, less the unit tests (they test SQL, which has not
  changed) and the tests tagged `full_build_only` (staging keys, which the replication's asset
  checks already prove); views read `raw` as it is and seeds have not changed, so neither is
  rebuilt, nor are tests that read an unbuilt node (dbt drops a test with an excluded parent);
- nothing at all when no table changed: the marts are those of the last build, except the
  models tagged `time_dependent` (they read the clock, as `draft_outcomes.pending` does): those
  are rebuilt with any incremental build, and on their own once the last build is an hour old.

An incremental build excludes what it keeps with `--indirect-selection cautious`: a test is
dropped only when every node it reads is kept, so a relationship test from a rebuilt mart to a
kept model still runs.

The publish is skipped when nothing changed in the working copy since the last publish.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from graphlib import TopologicalSorter
from typing import Any

import duckdb

from dagster_project import replication
from dagster_project.dbt_files import DBT_DIR, MANIFEST, project_files

BUILD_STATE = "raw._build_state"
DBT_STEP = "dbt"
PUBLISH_STEP = "publish"

# Dropped on an incremental build: unit tests (logic, unchanged with the project) and the
# tests whose invariant the replication checks already prove each run.
INCREMENTAL_EXCLUDES = ("resource_type:unit_test", "tag:full_build_only")
# Models that read the clock: rebuilt when their last build is older than this, changes or not.
TIME_DEPENDENT = "time_dependent"
TIME_DEPENDENT_MAX_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class DbtPlan:
    args: list[str] | None  # the `dbt` arguments; None when there is nothing to build
    reason: str
    checksum: str  # of the project planned for, recorded once the build succeeds
    kept: list[dict[str, Any]]  # manifest nodes (models, seeds) not rebuilt, upstream first


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    replication.ensure_schema(con)
    con.execute(
        f"""create table if not exists {BUILD_STATE} (
            step varchar primary key,
            done_at timestamptz not null,
            project_checksum varchar
        )"""
    )


def project_checksum() -> str:
    """A digest of every file of the dbt project: a change to any of them means a full build."""
    digest = hashlib.sha256()
    for path in project_files():
        digest.update(str(path.relative_to(DBT_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _done(con: duckdb.DuckDBPyConnection, step: str) -> tuple[datetime, str | None] | None:
    row = con.execute(
        f"select done_at, project_checksum from {BUILD_STATE} where step = '{step}'"
    ).fetchone()
    return (row[0], row[1]) if row else None


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(MANIFEST.read_text())
    return manifest


def _time_dependent(manifest: dict[str, Any]) -> set[str]:
    return {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and TIME_DEPENDENT in node["config"].get("tags", [])
    }


def _unaffected(
    manifest: dict[str, Any], changed: list[str], clock_stale: bool
) -> tuple[list[dict[str, Any]], int]:
    """The models and seeds an incremental build leaves alone (upstream first), and how many
    tables it builds: those downstream of `changed`, plus the time-dependent ones when any
    other is rebuilt or `clock_stale`."""
    children: dict[str, list[str]] = manifest["child_map"]
    queue = [uid for uid, source in manifest["sources"].items() if source["name"] in set(changed)]
    downstream: set[str] = set()
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in downstream:
                downstream.add(child)
                queue.append(child)
    nodes = manifest["nodes"]
    rebuilt = {
        uid
        for uid in downstream
        if nodes.get(uid, {}).get("resource_type") == "model"
        and nodes[uid]["config"]["materialized"] != "view"
    }
    if rebuilt or clock_stale:
        rebuilt |= _time_dependent(manifest)
    order = TopologicalSorter(manifest["parent_map"]).static_order()
    kept = [
        nodes[uid]
        for uid in order
        if uid in nodes and nodes[uid]["resource_type"] in ("model", "seed") and uid not in rebuilt
    ]
    return kept, len(rebuilt)


def plan_dbt(con: duckdb.DuckDBPyConnection, *, full: bool) -> DbtPlan:
    ensure_schema(con)
    last = _done(con, DBT_STEP)
    checksum = project_checksum()
    if full or last is None or last[1] != checksum:
        reason = (
            "requested"
            if full
            else "first build"
            if last is None
            else "the dbt project changed since the last build"
        )
        return DbtPlan(["build"], f"full build ({reason})", checksum, kept=[])
    changed = replication.changed_since(con, last[0])
    clock_stale = now(con) - last[0] > TIME_DEPENDENT_MAX_AGE
    kept, rebuilt = _unaffected(_manifest(), changed, clock_stale)
    if not rebuilt:
        reason = "no table the marts read changed since the last build"
        return DbtPlan(None, reason, checksum, kept)
    reason = (
        f"{rebuilt} tables downstream of {', '.join(changed)} (changed since the last build)"
        if changed
        else f"{rebuilt} time-dependent tables (last built over an hour ago)"
    )
    # An exclusion, not a selection: dagster-dbt adds the job's own `--select fqn:*`, and dbt
    # takes the union of every `--select`, while `--exclude` applies after it. Cautious: a
    # test is excluded only with all of its parents.
    excluded = [*INCREMENTAL_EXCLUDES, *(node["name"] for node in kept)]
    args = ["build", "--exclude", " ".join(excluded), "--indirect-selection", "cautious"]
    return DbtPlan(args, reason, checksum, kept)


def now(con: duckdb.DuckDBPyConnection) -> datetime:
    row = con.execute("select get_current_timestamp()").fetchone()
    assert row is not None
    moment: datetime = row[0]
    return moment


def record(
    con: duckdb.DuckDBPyConnection, step: str, at: datetime, checksum: str | None = None
) -> None:
    ensure_schema(con)
    digest = f"'{checksum}'" if checksum else "null"
    con.execute(
        f"insert or replace into {BUILD_STATE} values ('{step}',"
        f" timestamptz '{at.isoformat()}', {digest})"
    )


def publish_needed(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the working copy must be published, or None when the published file is current."""
    ensure_schema(con)
    last = _done(con, PUBLISH_STEP)
    if last is None:
        return "never published"
    if replication.changed_since(con, last[0]):
        return "tables changed"
    built = _done(con, DBT_STEP)
    if built is not None and built[0] > last[0]:
        return "dbt built"
    return None
