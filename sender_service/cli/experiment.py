"""`replyline experiment assign`: campaigns into the AI and setter arms, at random."""

from __future__ import annotations

import secrets

import click
from rich.console import Console
from rich.table import Table

from sender_service.cli.common import (
    CommandError,
    database_url,
    echo_json,
    parse_uuid,
    settings_or_fail,
)
from sender_service.db.engine import session_scope
from sender_service.db.models import Workspace
from sender_service.experiment import Plan, assign
from sender_service.experiment_verdict import format_rate, verdict
from sender_service.reports.warehouse import WarehouseMissingError, open_marts


@click.group("experiment")
def experiment_group() -> None:
    """The AI auto-send vs setter-managed experiment."""


def _print_plan(plan: Plan, dry_run: bool) -> None:
    console = Console(highlight=False)
    if not plan.assignments:
        console.print("no campaigns to assign: every active campaign is already in the experiment")
        return
    table = Table(title="Experiment plan" + (" (dry run: nothing changed)" if dry_run else ""))
    for column, justify in (
        ("campaign", "left"),
        ("id", "left"),
        ("leads", "right"),
        ("from", "left"),
        ("arm", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for a in plan.assignments:
        table.add_row(a.campaign_name, a.campaign_id, f"{a.leads:,}", a.from_mode, a.to_mode)
    console.print(table)
    for arm, s in plan.summary().items():
        share = "—" if s["lead_share"] is None else f"{s['lead_share']:.1%}"
        console.print(f"{arm}: {s['campaigns']} campaigns, {s['leads']:,} leads ({share})")
    console.print(f"random seed {plan.random_seed} (pass --random-seed to repeat this plan)")


@experiment_group.command("assign")
@click.option("--workspace", "workspace_id", required=True, help="Workspace id.")
@click.option(
    "--ai-share",
    default=0.2,
    show_default=True,
    type=float,
    help="Share of campaigns for AI_AUTO_SEND, 0 < X < 1 (0.2: the specification's 80/20).",
)
@click.option("--random-seed", type=int, help="Seed for a reproducible plan.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def assign_command(
    workspace_id: str, ai_share: float, random_seed: int | None, dry_run: bool, as_json: bool
) -> None:
    """Put the campaigns not yet in the experiment into an arm, balanced by size."""
    workspace = parse_uuid(workspace_id, "--workspace")
    if not 0 < ai_share < 1:
        raise CommandError(f"--ai-share must be strictly between 0 and 1, not {ai_share}")
    seed = random_seed if random_seed is not None else secrets.randbelow(2**31)
    with session_scope(database_url()) as session:
        if session.get(Workspace, workspace) is None:
            raise CommandError(f"no workspace {workspace}")
        plan = assign(session, workspace, ai_share, seed, dry_run=dry_run)
    if as_json:
        echo_json(plan.as_json(dry_run))
    else:
        _print_plan(plan, dry_run)


@experiment_group.command("status")
@click.option("--workspace", "workspace_id", required=True, help="Workspace id.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def status_command(workspace_id: str, as_json: bool) -> None:
    """Each arm's booking rate with its 95 % interval, the difference, and — while it is
    inconclusive — how many more positive replies per arm would settle it."""
    workspace = parse_uuid(workspace_id, "--workspace")
    settings = settings_or_fail()
    with session_scope(database_url()) as session:
        if session.get(Workspace, workspace) is None:
            raise CommandError(f"no workspace {workspace}")
    try:
        with open_marts(settings.warehouse_path, workspace) as marts:
            rows = marts.table("ai_vs_setter").rows
            as_of = marts.as_of
    except WarehouseMissingError as exc:
        raise CommandError(str(exc)) from None
    result = verdict(rows)
    if as_json:
        echo_json({"workspace_id": str(workspace), "as_of": as_of.isoformat(), **result.as_json()})
        return
    console = Console(highlight=False)
    table = Table(title=f"AI auto-send vs setter-managed (as of {as_of:%Y-%m-%d %H:%M} UTC)")
    for column in ("arm", "positive leads", "booked", "booking rate (95 % interval)"):
        table.add_column(column, justify="left" if column == "arm" else "right")
    for arm in (result.ai, result.setter):
        table.add_row(arm.arm, f"{arm.positive_leads:,}", f"{arm.booked_leads:,}", format_rate(arm))
    console.print(table)
    console.print(result.sentence())
