"""A scratch database filled by `replyline seed`, with the environment a warehouse refresh reads
(its warehouse, Dagster home and embedded state under a temporary folder)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sender_service.cli import cli
from sender_service.db import migrate


@contextmanager
def seeded(url: str, tmp: Path, *seed_args: str) -> Iterator[CliRunner]:
    """Migrate and seed `url` (`replyline seed *seed_args`); DATABASE_URL, WAREHOUSE_PATH
    (`tmp/warehouse.duckdb`), REPLYLINE_VAR_DIR and DAGSTER_HOME stay set inside the block."""
    migrate.upgrade(url)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("WAREHOUSE_PATH", str(tmp / "warehouse.duckdb"))
        env.setenv("REPLYLINE_VAR_DIR", str(tmp / "var"))
        env.setenv("DAGSTER_HOME", str(tmp / "dagster"))
        runner = CliRunner()
        result = runner.invoke(cli, ["seed", *seed_args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        yield runner


def refresh(runner: CliRunner) -> Result:
    """`replyline warehouse refresh`, which must succeed."""
    result = runner.invoke(cli, ["warehouse", "refresh"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result
