"""The dbt project as Dagster assets: staging, intermediate and marts in the working copy.

`dbt build` (models, seeds, data and unit tests) runs against the working copy the
replication just filled (`REPLYLINE_WAREHOUSE_BUILD`, read by `dbt/profiles.yml`), inside the
run's writer lock. The sources carry `meta.dagster.asset_key: ["raw", <table>]`, so each
staging model hangs off its replication asset and the lineage is one graph. A failing model or
test fails the step, and `published_warehouse` (downstream of every model) is not published.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_project import warehouse as files
from dagster_project.dbt_project import DBT_PROJECT, dbt_target_path, ensure_manifest
from dagster_project.resources import WarehouseResource

BUILD_ENV = "REPLYLINE_WAREHOUSE_BUILD"


class ReplylineTranslator(DagsterDbtTranslator):
    """Models and seeds keyed by their schema (`marts/campaign_kpis`), grouped by layer."""

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


@dbt_assets(
    manifest=ensure_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=ReplylineTranslator(),
    name="dbt_build",
    pool="warehouse",
)
def dbt_build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    build = warehouse.files
    files.prepare_build(build)
    # Artifacts beside the working copy: one run at a time writes them (the lock is held).
    with _env(BUILD_ENV, str(build.build)):
        invocation = dbt.cli(["build"], context=context, target_path=dbt_target_path(build.build))
    yield from invocation.stream()
