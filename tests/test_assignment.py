"""Replies waiting for a person go to setters by weighted round-robin, on a real Postgres."""

from __future__ import annotations

import uuid
from collections import Counter

import psycopg
import pytest
from click.testing import CliRunner

from sender_service.assignment import AssignmentError, assign_lead, next_setter, reassign_lead
from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import Lead, Membership
from sender_service.users import add_member
from tests import thread_builders as f


@pytest.fixture
def team(db_url: str) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    with session_scope(db_url) as s:
        ws = f.workspace(s, "Round robin").workspace.id
        people = {}
        roles = (("ann", "setter"), ("bob", "setter"), ("cat", "setter"), ("adm", "admin"))
        for name, role in roles:
            people[name] = add_member(s, f"{name}@rr.test", ws, role)[0].id
        return ws, people


def _set(db_url: str, ws: uuid.UUID, user: uuid.UUID, **values: object) -> None:
    with session_scope(db_url) as s:
        member = s.query(Membership).filter_by(workspace_id=ws, user_id=user).one()
        for key, value in values.items():
            setattr(member, key, value)


def test_shares_follow_the_weights_and_interleave(
    db_url: str, team: tuple[uuid.UUID, dict[str, uuid.UUID]]
) -> None:
    ws, people = team
    _set(db_url, ws, people["ann"], assignment_weight=2)
    _set(db_url, ws, people["cat"], assignment_paused=True)
    with session_scope(db_url) as s:
        picks = [next_setter(s, ws) for _ in range(30)]
    counts = Counter(picks)
    assert counts == {people["ann"]: 20, people["bob"]: 10}  # cat paused, admin never
    # Smooth: never three of a kind in a row at 2:1.
    assert all(len({*picks[i : i + 3]}) == 2 for i in range(len(picks) - 2))


def test_a_lead_keeps_its_setter_and_can_be_reassigned(
    db_url: str, team: tuple[uuid.UUID, dict[str, uuid.UUID]]
) -> None:
    ws, people = team
    with session_scope(db_url) as s:
        lead = Lead(workspace_id=ws)
        s.add(lead)
        s.flush()
        first = assign_lead(s, lead)
        assert first is not None and assign_lead(s, lead) == first
        lead_id = lead.id
    with session_scope(db_url) as s:
        reassign_lead(s, lead_id, people["adm"])
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select assigned_user_id, assigned_at is not null from leads where id = %s",
            (lead_id,),
        ).fetchone()
    assert row == (people["adm"], True)
    outsider = uuid.uuid4()
    with pytest.raises(AssignmentError), session_scope(db_url) as s:
        reassign_lead(s, lead_id, outsider)


def test_no_active_setter_leaves_the_lead_unassigned(
    db_url: str, team: tuple[uuid.UUID, dict[str, uuid.UUID]]
) -> None:
    ws, people = team
    for name in ("ann", "bob", "cat"):
        _set(db_url, ws, people[name], assignment_weight=0)
    with session_scope(db_url) as s:
        lead = Lead(workspace_id=ws)
        s.add(lead)
        s.flush()
        assert assign_lead(s, lead) is None and lead.assigned_user_id is None


def test_set_weight_cli(
    db_url: str, cli_runner: CliRunner, team: tuple[uuid.UUID, dict[str, uuid.UUID]]
) -> None:
    ws, people = team
    env = {"DATABASE_URL": db_url}
    ok = cli_runner.invoke(
        cli,
        ["user", "set-weight", "--email", "bob@rr.test", "--workspace", str(ws), "--weight", "3"],
        env=env,
    )
    assert ok.exit_code == 0, ok.output
    paused = cli_runner.invoke(
        cli,
        ["user", "set-weight", "--email", "cat@rr.test", "--workspace", str(ws), "--pause"],
        env=env,
    )
    assert paused.exit_code == 0, paused.output
    with psycopg.connect(db_url) as conn:
        rows = {
            email: (weight, paused)
            for email, weight, paused in conn.execute(
                "select u.email, m.assignment_weight, m.assignment_paused from memberships m"
                " join users u on u.id = m.user_id where m.workspace_id = %s",
                (ws,),
            ).fetchall()
        }
    assert rows["bob@rr.test"] == (3, False) and rows["cat@rr.test"] == (1, True)
    for args, message in (
        (["--email", "adm@rr.test", "--weight", "2"], "not a setter"),
        (["--email", "bob@rr.test", "--weight", "101"], "between 0 and 100"),
        (["--email", "nobody@rr.test", "--weight", "1"], "no user"),
    ):
        bad = cli_runner.invoke(cli, ["user", "set-weight", "--workspace", str(ws), *args], env=env)
        assert bad.exit_code == 2 and message in bad.stderr, bad.stderr
