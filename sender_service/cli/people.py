"""`replyline user ...` and `replyline token ...`: people, their roles, their API tokens."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from sender_service import api_tokens
from sender_service.cli.common import CommandError, database_url, echo_json
from sender_service.cli.lookups import workspace_or_fail
from sender_service.db.engine import session_scope
from sender_service.db.models import ROLES, Membership
from sender_service.passwords import PasswordError, set_password
from sender_service.users import add_member, find_user, valid_email


def _email(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not valid_email(value.strip()):
        raise click.BadParameter(f"{value!r} is not an email address")
    return value.strip()


@click.group()
def user() -> None:
    """Users, their role in each workspace, and their sign-in password."""


@user.command("create")
@click.option("--email", required=True, callback=_email)
@click.option("--workspace", "workspace_id", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--json", "as_json", is_flag=True, help="Print the membership as JSON.")
def create_user(email: str, workspace_id: str, role: str, as_json: bool) -> None:
    """Give EMAIL ROLE in the workspace, creating the user if new (else setting the role)."""
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        person, membership, created = add_member(session, email, ws.id, role)
        view = {
            "user_id": str(person.id),
            "email": person.email,
            "workspace_id": str(ws.id),
            "role": membership.role,
            "created_user": created,
        }
    if as_json:
        echo_json(view)
    else:
        verb = "created user" if created else "user"
        click.echo(f"{verb} {view['email']} is {role} in workspace {view['workspace_id']}")


@user.command("set-password")
@click.option("--email", required=True, callback=_email)
def set_password_command(email: str) -> None:
    """Set EMAIL's sign-in password for the pages: read from stdin when piped, else asked twice
    at a hidden prompt. Other browsers signed in as the user are signed out."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with session_scope(database_url()) as session:
        person = find_user(session, email)
        if person is None:
            raise CommandError(f"no user {email}; create one with `replyline user create`")
        try:
            set_password(session, person, password)
        except PasswordError as exc:
            raise CommandError(str(exc)) from None
    click.echo(f"password set for {email}")


@user.command("set-weight")
@click.option("--email", required=True, callback=_email)
@click.option("--workspace", "workspace_id", required=True)
@click.option("--weight", type=int, help="Share of new assignments, 0-100 (0: none).")
@click.option("--pause/--resume", default=None, help="Stop or restart assignments to them.")
@click.option("--mailbox", help="The platform mailbox they send from (inbox replies credit).")
def set_weight(
    email: str, workspace_id: str, weight: int | None, pause: bool | None, mailbox: str | None
) -> None:
    """How many of the replies waiting for a person go to the setter EMAIL (weighted
    round-robin over the workspace's setters), or pause them."""
    if weight is not None and not 0 <= weight <= 100:
        raise CommandError(f"--weight must be between 0 and 100, not {weight}")
    if mailbox is not None and not valid_email(mailbox.strip()):
        raise CommandError(f"--mailbox must be an email address, not {mailbox!r}")
    with session_scope(database_url()) as session:
        ws = workspace_or_fail(session, workspace_id)
        person = find_user(session, email)
        if person is None:
            raise CommandError(f"no user {email}; create one with `replyline user create`")
        member = session.execute(
            select(Membership).where(
                Membership.workspace_id == ws.id, Membership.user_id == person.id
            )
        ).scalar_one_or_none()
        if member is None or member.role != "setter":
            raise CommandError(f"{email} is not a setter in workspace {ws.id}")
        if weight is not None:
            member.assignment_weight = weight
        if pause is not None:
            member.assignment_paused = pause
        if mailbox is not None:
            member.sending_mailbox = mailbox.strip()
        state = "paused" if member.assignment_paused else "active"
        click.echo(f"{email}: weight {member.assignment_weight}, {state}")


@click.group()
def token() -> None:
    """API tokens: create (shown once) and revoke."""


@token.command("create")
@click.option("--email", required=True, callback=_email)
@click.option("--json", "as_json", is_flag=True, help="Print {token, token_prefix} as JSON.")
def create_token(email: str, as_json: bool) -> None:
    """Issue an API token for an existing user; it is shown once and stored hashed."""
    with session_scope(database_url()) as session:
        person = find_user(session, email)
        if person is None:
            raise CommandError(f"no user {email}; create one with `replyline user create`")
        row, secret = api_tokens.issue_token(session, person)
        prefix = row.token_prefix
    if as_json:
        echo_json({"token": secret, "token_prefix": prefix, "email": email})
    else:
        click.echo(f"token (shown once): {secret}")


@token.command("revoke")
@click.option("--token-prefix", "prefix", required=True)
def revoke_token(prefix: str) -> None:
    """Revoke the token with this prefix (e.g. rl_1a2b3c4d); it stops working at once."""
    # A whole token pasted by mistake is reduced to its prefix and never echoed back.
    prefix = "_".join(prefix.strip().split("_", 2)[:2])
    with session_scope(database_url()) as session:
        row = api_tokens.find_by_prefix(session, prefix)
        if row is None:
            raise CommandError(f"no token with prefix {prefix!r}")
        if row.revoked_at is not None:
            raise CommandError(f"token {prefix} is already revoked")
        api_tokens.revoke(row)
    click.echo(f"revoked token {prefix}")
