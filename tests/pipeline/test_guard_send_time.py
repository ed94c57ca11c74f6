"""The outbound guard runs again just before a delayed send, with the workspace's settings as
they are then: an admin tightening them while the send waits stops it."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from sender_service.db.models import AIDraft, AutoSendDecision
from tests.cli_helpers import ok_json, run
from tests.pipeline.test_faults import post, reply_from, rows, run_until_settled, set_campaign
from tests.pipeline.test_send_path_edges import drain, outbound
from tests.service import Service
from tests.stubs import Stubs

DRAFT = (
    "Hi {firstName}, great to hear. Our case study is at https://acme.com/case-study and the "
    "pilot is $500 for the month. Grab a time: {calendarLink}"
)

# (setting changed while the send waits, the rule that then stops it)
TIGHTENED = {
    "link domain removed": (["--allowed-link-domains", ""], "link (a link to acme.com)"),
    "pricing talk switched off": (["--allow-pricing-talk", "false"], "pricing ('$500')"),
    "email limit lowered": (["--max-email-chars", "100"], "over the email limit of 100"),
}


def workspace_update(db_url: str, setup: dict[str, Any], *args: str) -> Any:
    workspace = str(setup["workspace_id"])
    return ok_json(
        run(CliRunner(), db_url, "workspace", "update", "--workspace", workspace, *args, "--json")
    )


@pytest.mark.parametrize("change", list(TIGHTENED))
def test_a_setting_tightened_while_a_send_waits_stops_it(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, change: str
) -> None:
    args, named = TIGHTENED[change]
    view = workspace_update(
        db_url, setup, "--allowed-link-domains", "ACME.com", "--allow-pricing-talk", "true"
    )
    assert view["allowed_link_domains"] == ["acme.com"] and view["allow_pricing_talk"] is True
    stubs.llm["reply_draft"] = {"body": DRAFT}
    set_campaign(db_url, send_delay_min_seconds=4, send_delay_max_seconds=4)
    post(service, setup, reply_from(0))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    (scheduled,) = rows(db_url, AutoSendDecision)
    assert (draft.status, scheduled.action, scheduled.guard_rules) == (
        "scheduled",
        "send_later",
        [],
    )

    workspace_update(db_url, setup, *args)
    run_until_settled(db_url, setup)

    assert stubs.platform_sends() == [] and outbound(db_url) == []
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "pending"
    (held,) = rows(db_url, AutoSendDecision, AutoSendDecision.action == "needs_review")
    assert held.reason.startswith("re-checked before sending: the outbound guard stopped it: ")
    assert named in held.reason
    assert len(held.guard_rules) == 1
    assert len(stubs.slack_posts()) == 1  # the reviewer is told: the campaign still auto-sends


def test_the_same_draft_goes_out_when_nothing_changed(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    workspace_update(
        db_url, setup, "--allowed-link-domains", "acme.com", "--allow-pricing-talk", "true"
    )
    stubs.llm["reply_draft"] = {"body": DRAFT}
    set_campaign(db_url, send_delay_min_seconds=1, send_delay_max_seconds=1)
    post(service, setup, reply_from(0))
    drain(db_url, setup)
    run_until_settled(db_url, setup)
    assert len(stubs.platform_sends()) == 1
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "sent"
