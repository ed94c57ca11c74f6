"""One readable line per step of a run, for `replyline warehouse refresh`.

A Dagster logger that turns the run's events (step started or failed, table copied, model
built, check evaluated) into short lines, instead of the console logger's full event stream.
dbt's tests (observations on the models they read) are many: the ones that pass are counted
on their step's last line, the ones that fail get a line each.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import dagster as dg

# A step's log message starting with this is shown as a progress line (what a step decided).
NOTE = "» "


def _event_line(event: Any, quiet_checks: int) -> str | None:
    kind = event.event_type_value
    data = event.event_specific_data
    passed = f", {quiet_checks} dbt tests passed" if quiet_checks else ""
    if kind == "STEP_START":
        return f"{event.step_key}: started"
    if kind == "STEP_SUCCESS":
        return f"{event.step_key}: done in {data.duration_ms / 1000:.2f}s{passed}"
    if kind == "STEP_FAILURE":
        error = data.error
        while error.cause is not None:  # the user code's own error, not Dagster's wrapper
            error = error.cause
        return f"{event.step_key}: FAILED{passed}: {error.message.strip().splitlines()[0]}"
    if kind == "STEP_SKIPPED":
        return (
            f"{event.step_key}: skipped (nothing new upstream, or an upstream step or"
            " blocking check failed)"
        )
    if kind == "ASSET_MATERIALIZATION":
        materialization = data.materialization
        meta = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        name = materialization.asset_key.to_user_string()
        if "kept_from_last_build" in meta:  # counted in one line by the dbt step
            return None
        if "rows_copied" in meta:
            return (
                f"  {name}: {meta['mode']}, {meta['rows_copied']:,} rows copied, "
                f"{meta['rows_deleted']:,} deleted, {meta['dagster/row_count']:,} rows "
                f"({meta['duration_s']:.2f}s)"
            )
        if "path" in meta:
            return f"  published {meta['path']} ({meta['size_mb']} MB, {meta['publish_s']:.2f}s)"
        if "Execution Duration" in meta:  # a dbt model or seed
            return f"  {name}: built ({meta['Execution Duration']:.2f}s)"
        return f"  {name}: materialized"
    if kind == "ASSET_OBSERVATION":  # a dbt test that did not pass (passes are counted)
        observation = data.asset_observation
        meta = {k: getattr(v, "value", v) for k, v in observation.metadata.items()}
        if "status" not in meta:
            return None
        # test.<project>.<name>[.<hash>]
        unique_id = str(meta.get("unique_id", "test.?.a dbt test"))
        test = unique_id.split(".")[2] if unique_id.count(".") >= 2 else unique_id
        return f"  {observation.asset_key.to_user_string()} {str(meta['status']).upper()}: {test}"
    if kind == "ASSET_CHECK_EVALUATION":
        verdict = "passed" if data.passed else "FAILED"
        about = data.description or data.check_name
        return f"  {data.asset_key.to_user_string()} {verdict}: {about}"
    return None


def _passed_dbt_test(event: Any) -> str | None:
    """The unique id of the dbt test a passing test's observation reports, else None.

    A test reading two models (a relationship) is observed on each: counted once."""
    if event.event_type_value != "ASSET_OBSERVATION":
        return None
    metadata = event.event_specific_data.asset_observation.metadata
    status, unique_id = metadata.get("status"), metadata.get("unique_id")
    if status is None or getattr(status, "value", status) != "pass":
        return None
    return str(getattr(unique_id, "value", unique_id))


class _ProgressHandler(logging.Handler):
    def __init__(self, echo: Callable[[str], None]) -> None:
        super().__init__(logging.DEBUG)
        self.echo = echo
        self.passed_tests: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {})
        event = meta.get("dagster_event")
        passed = _passed_dbt_test(event) if event is not None else None
        if passed is not None:
            self.passed_tests.add(passed)
            line = None
        elif event is not None:
            line = _event_line(event, len(self.passed_tests))
            if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                self.passed_tests = set()
        elif str(meta.get("orig_message", "")).startswith(NOTE):
            message = str(meta["orig_message"]).removeprefix(NOTE)
            line = f"{meta.get('step_key') or 'run'}: {message}"
        elif record.levelno >= logging.WARNING:
            message = str(meta.get("orig_message", record.msg))
            # "Dependencies for step X failed: [<one entry per output>]. Not executing."
            message = re.sub(r": \[[^\]]*\]\.", ".", message)
            line = f"{meta.get('step_key') or 'run'}: {message}"
        else:
            line = None
        if line is not None:
            self.echo(line)


def progress_logger(echo: Callable[[str], None]) -> dg.LoggerDefinition:
    def build(_: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.getLogger("replyline.warehouse.progress")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.handlers = [_ProgressHandler(echo)]
        return logger

    return dg.LoggerDefinition(build, description="One line per step, table and check.")
