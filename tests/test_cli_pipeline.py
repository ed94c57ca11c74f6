"""`replyline workspace set-context` and `replyline lead explain`."""

from __future__ import annotations

import pathlib

from click.testing import CliRunner

from sender_service.ai.offline import OfflineLLM
from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign, Workspace
from sender_service.pipeline.process import process_inbound
from tests import factories

CONTEXT = """
offer: We book qualified sales meetings for B2B SaaS teams.
faq: |
  Pricing starts at $2k/month.
signature: "Alex, Acme Outbound"
tone: warm and brief
never_say:
  - guarantee
  - risk-free
"""


def test_set_context_for_workspace_and_campaign(
    db_url: str, cli_runner: CliRunner, tmp_path: pathlib.Path
) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws, "AI_AUTO_SEND")
        ids = (str(ws.id), c.external_id, c.id, ws.id)
    path = tmp_path / "context.yaml"
    path.write_text(CONTEXT)
    env = {"DATABASE_URL": db_url}
    result = cli_runner.invoke(
        cli, ["workspace", "set-context", "--workspace", ids[0], "--file", str(path)], env=env
    )
    assert result.exit_code == 0, result.output
    result = cli_runner.invoke(
        cli,
        [
            "workspace",
            "set-context",
            "--workspace",
            ids[0],
            "--campaign",
            ids[1],
            "--file",
            str(path),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    with session_scope(db_url) as session:
        assert session.get_one(Workspace, ids[3]).ai_context["never_say"] == [
            "guarantee",
            "risk-free",
        ]
        campaign_context = session.get_one(EmailCampaign, ids[2]).ai_context or {}
        assert campaign_context["signature"] == "Alex, Acme Outbound"


def test_set_context_bad_input(db_url: str, cli_runner: CliRunner, tmp_path: pathlib.Path) -> None:
    with session_scope(db_url) as session:
        ws_id = str(factories.workspace(session).id)
    env = {"DATABASE_URL": db_url}
    cases = {
        "offer: [unclosed": "not valid YAML",
        "offer: x\npricing: 3": "pricing",
        "never_say: just-one-string": "never_say",
    }
    for text, fragment in cases.items():
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        result = cli_runner.invoke(
            cli, ["workspace", "set-context", "--workspace", ws_id, "--file", str(path)], env=env
        )
        assert result.exit_code == 2, text
        assert fragment in result.output
    path.write_text("offer: x")
    result = cli_runner.invoke(
        cli,
        [
            "workspace",
            "set-context",
            "--workspace",
            ws_id,
            "--campaign",
            "nope",
            "--file",
            str(path),
        ],
        env=env,
    )
    assert result.exit_code == 2
    with session_scope(db_url) as session:
        assert session.get_one(Workspace, ws_id).ai_context == {}


def test_lead_explain_shows_the_decision_and_why(db_url: str, cli_runner: CliRunner) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        c = factories.campaign(session, ws, "AI_AUTO_SEND")
        lead = factories.lead(session, ws, c)
        msg_id = factories.inbound(session, lead, "Interested, what does it cost?").id
        lead_id = str(lead.id)
    with session_scope(db_url) as session:
        process_inbound(session, msg_id, OfflineLLM())
    result = cli_runner.invoke(cli, ["lead", "explain", lead_id], env={"DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Dana Ng <dana@initech.test>" in out
    assert "reply (Information Requested)" in out
    assert "AI draft [pending, confidence 0.550" in out
    assert "needs_review: confidence 0.55 below threshold 0.90" in out
    assert out.index("reply (") < out.index("needs_review")

    missing = cli_runner.invoke(cli, ["lead", "explain", "nope"], env={"DATABASE_URL": db_url})
    assert missing.exit_code == 2 and "LEAD_ID must be an id" in missing.output
