"""Run the `warehouse` job in process, as `replyline warehouse refresh` and the demo do.

The job reads WAREHOUSE_PATH, DATABASE_URL and DAGSTER_HOME from the environment at run time
(the resources' unset fields), so callers point it elsewhere by setting those first.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass

import dagster as dg

from dagster_project.dbt_project import ensure_manifest
from dagster_project.instance import dagster_home
from dagster_project.progress import progress_logger
from sender_service.settings import Settings


@dataclass(frozen=True)
class RefreshOutcome:
    result: dg.ExecuteInProcessResult
    dbt_console: str  # what dbt printed, for the failure report

    @property
    def success(self) -> bool:
        return self.result.success


def run_refresh(
    settings: Settings, *, full: bool, echo: Callable[[str], None], trigger: str
) -> RefreshOutcome:
    ensure_manifest()  # before the definitions load: they are built from the manifest
    # The warehouse's definitions alone: the exports' report libraries are not needed here.
    from dagster_project.warehouse_definitions import warehouse_defs

    job = warehouse_defs.resolve_job_def("warehouse")
    job = job.with_logger_defs({"progress": progress_logger(echo)})
    # dagster-dbt echoes every dbt event to stdout; the progress lines say what matters.
    dbt_console = io.StringIO()
    with (
        dg.DagsterInstance.from_config(str(dagster_home(settings))) as instance,
        redirect_stdout(dbt_console),
    ):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={"replyline/trigger": trigger},
            run_config={
                "loggers": {"progress": {}},
                "ops": {
                    "replicate_postgres": {"config": {"full": full}},
                    "dbt_build": {"config": {"full": full}},
                },
            },
        )
    return RefreshOutcome(result, dbt_console.getvalue())
