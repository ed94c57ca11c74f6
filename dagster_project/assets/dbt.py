"""The dbt project as Dagster assets: staging, intermediate and marts in the working copy.

`dbt build` runs against the working copy the replication just filled
(`REPLYLINE_WAREHOUSE_BUILD`, read by `dbt/profiles.yml`), inside the run's writer lock. What
it builds is planned from what changed (`dagster_project.build_state`): everything with every
test on `--full`, a first build or a changed project; else only the models downstream of the
tables that changed since the last build; nothing when none did. The sources carry
`meta.dagster.asset_key: ["raw", <table>]`, so each staging model hangs off its replication
asset and the lineage is one graph. A failing model or test fails the step, and
`published_warehouse` (downstream of every model) is not published.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from dagster_project import build_state
from dagster_project import warehouse as files
from dagster_project.dbt_project import DBT_PROJECT, dbt_target_path, ensure_manifest
from dagster_project.progress import NOTE
from dagster_project.resources import WarehouseResource

BUILD_ENV = "REPLYLINE_WAREHOUSE_BUILD"
# Metadata of a model or seed an incremental build did not need to rebuild.
KEPT = "kept_from_last_build"


class ReplylineTranslator(DagsterDbtTranslator):
    """Models and seeds keyed by their schema (`marts/campaign_kpis`), grouped by layer.

    dbt's tests are reported as observations on the models they read, not as asset checks: a
    failing test already fails the step (dbt exits non-zero), which stops the publish, and as
    checks each test cost three stored events a run (planned, evaluated, output) against one,
    the largest share of a run's event writes (about 50 ms each on a loaded machine).
    """

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            return str(dbt_resource_props["schema"])
        return super().get_group_name(dbt_resource_props)


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    """`name=value` while the dbt subprocess starts (it copies os.environ then)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


class DbtBuildConfig(dg.Config):
    full: bool = False
    """Build and test every model, as on a first build, not only what changed."""


@dbt_assets(
    manifest=ensure_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=ReplylineTranslator(),
    name="dbt_build",
    pool="warehouse",
)
def dbt_build(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
) -> Iterator[Any]:
    build = warehouse.files
    files.prepare_build(build)
    with warehouse.build() as con:
        plan = build_state.plan_dbt(con, full=config.full)
        unpublished = build_state.publish_needed(con) is not None
        started = build_state.now(con)
    if plan.args is None and not unpublished:
        # Nothing materialized, so the publish step is skipped too: nothing new to show.
        context.log.info(f"{NOTE}nothing to build: {plan.reason}")
        return
    # Models and seeds whose inputs did not change are current as they are. Reported (upstream
    # first, as Dagster wants), so that the publish, which waits on every one of them, runs.
    translator = ReplylineTranslator()
    kept = [translator.get_asset_key(node) for node in plan.kept]
    kept = [key for key in kept if key in context.selected_asset_keys]
    if kept:
        context.log.info(f"{NOTE}{len(kept)} models and seeds kept from the last build")
    for key in kept:
        yield dg.MaterializeResult(asset_key=key, metadata={KEPT: True})
    if plan.args is not None:
        context.log.info(f"{NOTE}dbt {plan.args[0]}: {plan.reason}")
        # Artifacts beside the working copy: one run at a time writes them (the lock is held).
        with _env(BUILD_ENV, str(build.build)):
            invocation = dbt.cli(
                plan.args, context=context, target_path=dbt_target_path(build.build)
            )
        yield from invocation.stream()
        # Only after every node succeeded: a failed build is planned again next run.
        with warehouse.build() as con:
            build_state.record(con, build_state.DBT_STEP, started, plan.checksum)
