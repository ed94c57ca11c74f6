"""The dbt project (`dbt/`) as Dagster sees it, and the manifest its assets are built from.

`@dbt_assets` reads `dbt/target/manifest.json` when the code location loads, so the manifest
must exist before any import of `dagster_project.assets.dbt`. `make install` writes it
(`python -m dagster_project.dbt_project`), and `ensure_manifest()` re-parses whenever a file
of the dbt project is newer than it or one was added or deleted, so a fresh clone, an edited
model, the CLI refresh and `dagster definitions validate` all load the project as it is on disk.
"""

from __future__ import annotations

import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from dagster_project.dbt_files import DBT_DIR, project_files

DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def dbt_executable() -> str:
    """The `dbt` beside this interpreter: `.venv/bin` need not be on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


class ReplylineDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, less two start-up costs each `dbt build` paid before dbt ran.

    - The dbt version comes from the installed `dbt-core` package (pinned, beside this
      interpreter), not from a `dbt --version` subprocess: 2.4 s of a refresh on this machine.
    - No dbt adapter is opened in this process: dagster-dbt wants one only to fetch column
      metadata and row counts, which no asset here asks for; building it imports and
      configures dbt a second time beside the `dbt build` subprocess.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    # dagster-dbt takes None for "no adapter" (its invocation's `adapter` is optional).
    def _initialize_dbt_core_adapter(self, args: Any) -> None:  # type: ignore[override]
        return None


def dbt_resource() -> DbtCliResource:
    return ReplylineDbtCliResource(
        project_dir=str(DBT_DIR), profiles_dir=str(DBT_DIR), dbt_executable=dbt_executable()
    )


def dbt_target_path(build: Path) -> Path:
    """Where a refresh's `dbt build` writes its artifacts and dbt.log: beside the working copy."""
    return build.parent / "dbt-target"


def _newest_source_mtime() -> float:
    return max((p.stat().st_mtime for p in project_files()), default=0.0)


def _source_list() -> str:
    return "\n".join(str(p.relative_to(DBT_DIR)) for p in project_files())


def ensure_manifest() -> Path:
    """`dbt parse` when the manifest is missing, older than the project, or was parsed from
    another set of files (a deleted model leaves every remaining file older); its path."""
    manifest = DBT_PROJECT.manifest_path
    parsed_from = manifest.with_name("manifest.sources")  # the files the manifest was parsed from
    files = _source_list()
    if (
        not manifest.exists()
        or manifest.stat().st_mtime < _newest_source_mtime()
        or not parsed_from.exists()
        or parsed_from.read_text() != files
    ):
        # Parsing opens no database; the invocation runs as a subprocess of this `dbt`.
        dbt_resource().cli(["parse", "--quiet"], target_path=DBT_PROJECT.target_path).wait()
        parsed_from.write_text(files)
    return manifest


if __name__ == "__main__":
    print(ensure_manifest())
