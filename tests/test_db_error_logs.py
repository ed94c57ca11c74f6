"""A database error's log line names the statement, the constraint and the work's id, never
the row's personal data (emails, message bodies), which `lead erase` could not reach there."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from sender_service import logs
from sender_service.db.engine import session_scope
from sender_service.db.models import Lead, Message
from tests import factories

EMAIL = "private.person@example.test"
BODY = "Call me on my private line 555-0199"


def _logged_error(capsys: pytest.CaptureFixture[str], db_url: str, row: object) -> dict[str, Any]:
    logs.configure()
    token = logs.request_id.set("req-0001")
    try:
        with pytest.raises(IntegrityError) as raised, session_scope(db_url) as session:
            session.add(row)
            session.flush()
        logging.getLogger("sender_service.test").error("store failed", exc_info=raised.value)
    finally:
        logs.request_id.reset(token)
    lines: list[dict[str, Any]] = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line
    ]
    (line,) = [line for line in lines if line["message"] == "store failed"]
    return line


def test_a_check_violation_logs_ids_and_sql_not_the_row(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(db_url) as session:
        ws = factories.workspace(session)
        ws_id = ws.id
    # Postgres quotes the whole failing row in its DETAIL; SQLAlchemy adds the parameters.
    lead = Lead(workspace_id=ws_id, external_id="77", email=EMAIL, appointment_status="bogus")
    line = _logged_error(capsys, db_url, lead)
    text = json.dumps(line)
    assert EMAIL not in text
    assert line["request_id"] == "req-0001"
    assert "ck_leads_appointment_status" in line["exc"]  # the constraint: enough to act on
    assert "INSERT INTO leads" in line["exc"]
    assert "SQL parameters hidden" in line["exc"]


def test_a_foreign_key_violation_logs_no_message_body(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(db_url) as session:
        ws_id = factories.workspace(session).id
    orphan = Message(
        workspace_id=ws_id,
        lead_id=uuid.UUID(int=9),  # no such lead
        direction="inbound",
        channel="email",
        body=BODY,
        from_address=EMAIL,
        source="emailbison_reply",
        external_id="r-1",
    )
    text = json.dumps(_logged_error(capsys, db_url, orphan))
    assert BODY not in text and EMAIL not in text
    assert "SQL parameters hidden" in text
