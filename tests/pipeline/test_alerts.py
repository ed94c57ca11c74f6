"""Channel alerts end to end: replies over HTTP to the EmailBison webhook, the real worker,
Slack reached through slack_sdk on the loopback stub, settings made with the real CLI."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select, text, update
from werkzeug import Request, Response

from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign, Job, Lead, ReplyAlert
from sender_service.jobs import queue, schedule
from sender_service.jobs.worker import Worker
from sender_service.notify.alerts import POST_ALERT, POST_DIGEST
from sender_service.services import Services
from tests import emailbison_payloads as eb
from tests.cli_helpers import run
from tests.service import Service
from tests.stubs import Stubs

CHANNEL = "C-ALERTS"
ALL_KINDS = "meeting_requested,call_requested,negative_after_ai"


def drain(db_url: str, setup: dict[str, Any]) -> None:
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)


def configure(db_url: str, setup: dict[str, Any], *extra: str) -> None:
    result = run(
        CliRunner(), db_url, "workspace", "update", "--workspace", str(setup["workspace_id"]),
        "--alerts-channel", CHANNEL, "--alerts", ALL_KINDS, *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


def reply(
    service: Service, setup: dict[str, Any], stubs: Stubs, reply_id: int, sentiment: str, text: str
) -> None:
    stubs.llm["sentiment_classification"] = {"sentiment": sentiment, "confidence": 0.95}
    payload = eb.event(
        "LEAD_REPLIED",
        lead=eb.lead(),
        campaign=eb.CAMPAIGN,
        reply=eb.reply(reply_id, text_body=text, html_body=f"<p>{text}</p>"),
        sender_email=eb.SENDER,
    )
    status, body = service.post_json(
        f"/webhooks/emailbison/{setup['workspace_id']}",
        payload,
        {"X-Replyline-Secret": setup["secret"]},
    )
    assert status in (200, 202), body


def alert_posts(stubs: Stubs) -> list[dict[str, Any]]:
    return [post for post in stubs.slack_posts() if post["channel"] == CHANNEL]


def blocks_text(post: dict[str, Any]) -> str:
    blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
    return json.dumps(blocks)


def statuses(db_url: str) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(ReplyAlert.kind, ReplyAlert.status).order_by(ReplyAlert.created_at)
        ).all()
    return [(kind, status) for kind, status in rows]


def lead_id(db_url: str) -> str:
    with session_scope(db_url) as session:
        return str(session.execute(select(Lead.id)).scalar_one())


def test_a_meeting_request_is_posted_once_and_the_lead_is_quiet_for_an_hour(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup)
    reply(service, setup, stubs, 9001, "Meeting Requested", "Can we meet Thursday at 2?")
    drain(db_url, setup)

    (post,) = alert_posts(stubs)
    shown = blocks_text(post)
    for expected in (
        "Meeting requested",
        "Dana Reyes",
        "dana@prospect.io",
        "Spring push",
        "Can we meet Thursday at 2?",
        f"https://app.replyline.test/leads/{lead_id(db_url)}",
    ):
        assert expected in shown, expected

    # Another qualifying reply from the same lead within the hour: recorded, not posted.
    reply(service, setup, stubs, 9002, "Call Requested", "Actually, just call me: 555 0100")
    drain(db_url, setup)
    assert len(alert_posts(stubs)) == 1
    assert statuses(db_url) == [("meeting_requested", "sent"), ("call_requested", "suppressed")]


def test_two_workers_racing_post_one_alert_for_a_lead(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup)
    reply(service, setup, stubs, 9001, "Meeting Requested", "Can we meet Thursday at 2?")
    reply(service, setup, stubs, 9002, "Call Requested", "Or call me today.")
    drain(db_url, setup)
    # Both alerts pending again, each with a job, and nothing posted yet.
    with session_scope(db_url) as session:
        session.execute(update(ReplyAlert).values(status="pending", claimed_at=None))
        for alert_id in session.execute(select(ReplyAlert.id)).scalars():
            queue.enqueue(session, POST_ALERT, {"alert_id": str(alert_id)})
    stubs.server.clear_log()

    # Two workers, each with one of the jobs, both held at the lead's row lock: neither can
    # have checked the hour before the other claimed.
    with session_scope(db_url) as holder:
        holder.execute(select(Lead.id).with_for_update())
        workers = [threading.Thread(target=drain, args=(db_url, setup)) for _ in range(2)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 10
        while waiting_on_locks(db_url) < 2:
            assert time.monotonic() < deadline, "the workers never waited for the lead's lock"
            time.sleep(0.05)
    for worker in workers:
        worker.join()

    assert len(alert_posts(stubs)) == 1
    assert sorted(status for _, status in statuses(db_url)) == ["sent", "suppressed"]


def waiting_on_locks(db_url: str) -> int:
    with session_scope(db_url) as session:
        return int(
            session.execute(
                text(
                    "select count(*) from pg_stat_activity"
                    " where datname = current_database() and wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def test_a_no_after_the_ai_answered_is_posted(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup)
    reply(service, setup, stubs, 9001, "Interested", "Sounds good, tell me more.")
    drain(db_url, setup)
    assert len(stubs.platform_sends()) == 1  # the AI answered
    assert alert_posts(stubs) == []  # interest alone is no alert

    reply(service, setup, stubs, 9002, "Not Interested", "On reflection, no thanks.")
    drain(db_url, setup)
    (post,) = alert_posts(stubs)
    assert "Negative reply after the AI answered" in blocks_text(post)
    assert "On reflection, no thanks." in blocks_text(post)


def test_setter_managed_campaigns_alert_the_channel_but_never_dm_the_reviewer(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup)
    with session_scope(db_url) as session:
        session.execute(update(EmailCampaign).values(response_mode="SETTER_MANAGED"))
    reply(service, setup, stubs, 9001, "Call Requested", "Call me at 4, please.")
    drain(db_url, setup)

    (post,) = stubs.slack_posts()
    assert post["channel"] == CHANNEL
    assert "Call me at 4, please." in blocks_text(post)
    assert stubs.slack_calls("conversations.open") == []  # no DM opened to the reviewer
    assert stubs.platform_sends() == []


def test_digest_mode_posts_nothing_at_once_then_one_digest_with_both_replies(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup, "--alerts-digest", "daily")
    reply(service, setup, stubs, 9001, "Meeting Requested", "Can we meet Thursday at 2?")
    reply(service, setup, stubs, 9002, "Call Requested", "Or call me: 555 0100")
    drain(db_url, setup)
    assert alert_posts(stubs) == []

    today = f"{datetime.now(UTC):%Y-%m-%d}"
    for _ in range(2):  # the day's job offered twice (a retry, a second worker): one post
        with session_scope(db_url) as session:
            queue.enqueue(session, POST_DIGEST, {"day": today})
        drain(db_url, setup)
    (digest,) = alert_posts(stubs)
    assert "2 replies worth a look" in digest["text"]
    assert "Can we meet Thursday at 2?" in digest["text"]
    assert "Or call me: 555 0100" in digest["text"]
    assert f"https://app.replyline.test/leads/{lead_id(db_url)}" in digest["text"]


def test_a_digest_covers_the_workspaces_own_day_and_goes_out_after_its_midnight(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup, "--alerts-digest", "daily", "--timezone", "America/New_York")
    reply(service, setup, stubs, 9001, "Meeting Requested", "Late on Saturday: can we meet?")
    reply(service, setup, stubs, 9002, "Call Requested", "Sunday, just after midnight: call me")
    drain(db_url, setup)
    with session_scope(db_url) as session:
        # 23:30 and 00:30 in New York (EST, UTC-5): the same UTC day, two local days.
        for text_body, moment in (
            ("Late on Saturday", datetime(2026, 11, 29, 4, 30, tzinfo=UTC)),
            ("Sunday, just after", datetime(2026, 11, 29, 5, 30, tzinfo=UTC)),
        ):
            session.execute(
                text(
                    "update reply_alerts set created_at = :moment where message_id ="
                    " (select id from messages where body like :body)"
                ),
                {"moment": moment, "body": f"%{text_body}%"},
            )

    def offer(now: datetime) -> None:
        with session_scope(db_url) as session:
            schedule.enqueue_periodic(session, now)
        drain(db_url, setup)

    offer(datetime(2026, 11, 29, 4, 59, tzinfo=UTC))  # 23:59 on Saturday there: not yet
    assert alert_posts(stubs) == []
    offer(datetime(2026, 11, 29, 5, 1, tzinfo=UTC))  # Saturday is over in New York
    (saturday,) = alert_posts(stubs)
    assert "1 reply worth a look on 2026-11-28" in saturday["text"]
    assert "Late on Saturday" in saturday["text"]
    assert "Sunday" not in saturday["text"]
    offer(datetime(2026, 11, 29, 23, 0, tzinfo=UTC))  # still Sunday there: nothing new
    assert len(alert_posts(stubs)) == 1
    offer(datetime(2026, 11, 30, 5, 1, tzinfo=UTC))
    sunday = alert_posts(stubs)[1]
    assert "1 reply worth a look on 2026-11-29" in sunday["text"]
    assert "Sunday, just after midnight" in sunday["text"]


def test_a_digest_whose_answer_was_lost_is_found_in_the_channel_not_posted_again(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup, "--alerts-digest", "daily")
    reply(service, setup, stubs, 9001, "Meeting Requested", "Can we meet Thursday at 2?")
    drain(db_url, setup)
    stubs.slack_history_from_posts = True
    lost: list[str] = []

    def lose_the_answer(req: Request) -> Response | None:
        # Slack took the post (it is in the channel) but its answer never arrived.
        args = req.get_json() if req.is_json else req.form
        if args.get("channel") != CHANNEL or lost:
            return None
        lost.append(req.path)
        return Response("upstream timed out", status=504)

    stubs.slack_fault = lose_the_answer
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    with session_scope(db_url) as session:
        queue.enqueue(session, POST_DIGEST, {"day": today})
    drain(db_url, setup)
    assert len(alert_posts(stubs)) == 1 and lost
    with session_scope(db_url) as session:
        # The retry waits until the first attempt cannot still be in flight.
        session.execute(
            text(
                "update notifications set last_attempt_at = last_attempt_at - interval '3 minutes'"
            )
        )
        session.execute(update(Job).where(Job.kind == POST_DIGEST).values(run_at=func.now()))
    drain(db_url, setup)

    assert len(alert_posts(stubs)) == 1  # found in the channel's history, not posted again
    assert len(stubs.slack_calls("conversations.history")) == 1
    assert statuses(db_url) == [("meeting_requested", "sent")]
    with session_scope(db_url) as session:
        job = session.execute(select(Job).where(Job.kind == POST_DIGEST)).scalar_one()
        assert job.status == "done"


def test_alerts_off_posts_nothing(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup)
    result = run(
        CliRunner(), db_url, "workspace", "update", "--workspace", str(setup["workspace_id"]),
        "--alerts", "off",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    reply(service, setup, stubs, 9001, "Meeting Requested", "Can we meet Thursday at 2?")
    drain(db_url, setup)
    assert alert_posts(stubs) == []
    assert statuses(db_url) == []


def test_a_slack_failure_is_retried_by_the_queue_and_never_stops_the_pipeline(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    configure(db_url, setup)
    refusals: list[str] = []

    def refuse_once(req: Request) -> Response | None:
        args = req.get_json() if req.is_json else req.form
        if args.get("channel") != CHANNEL or refusals:
            return None
        refusals.append(req.path)
        return Response(
            json.dumps({"ok": False, "error": "not_in_channel"}),
            content_type="application/json",
        )

    stubs.slack_fault = refuse_once
    reply(service, setup, stubs, 9001, "Meeting Requested", "Can we meet Thursday at 2?")
    drain(db_url, setup)
    assert len(stubs.platform_sends()) == 1  # the AI still answered the lead
    assert len(refusals) == 1
    with session_scope(db_url) as session:
        job = session.execute(select(Job).where(Job.kind == POST_ALERT)).scalar_one()
        assert (job.status, job.attempts) == ("queued", 1)
        assert "not_in_channel" in (job.last_error or "")
        session.execute(update(Job).where(Job.id == job.id).values(run_at=func.now()))
    assert statuses(db_url) == [("meeting_requested", "pending")]

    drain(db_url, setup)  # the retry, once its backoff is over
    assert len(alert_posts(stubs)) == 2  # the refused attempt and the one that went
    assert statuses(db_url) == [("meeting_requested", "sent")]
    # Slack said no for sure, so the retry did not need to look for an earlier post.
    assert stubs.slack_calls("conversations.history") == []
