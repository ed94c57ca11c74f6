"""`replyline slack check`: does the Slack token do what Replyline asks of it, for one workspace?

Each step is a real call the review DM makes, in its order: `auth.test` (the token, and the
scopes Slack granted it, from the `x-oauth-scopes` header every Web API answer carries), then
`users.lookupByEmail` for the reviewer, then `conversations.open` for the DM. Nothing is posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from slack_sdk import WebClient

from sender_service.notify import slack

# Every scope Replyline uses, and why; README.md lists the same.
REVIEW_SCOPES: Final[dict[str, str]] = {
    "users:read": "users.lookupByEmail, users.info (Slack grants users:read.email only with it)",
    "users:read.email": "users.lookupByEmail, users.info: the reviewer and who clicks, by email",
    "im:write": "conversations.open: opening the DM with the reviewer",
    "chat:write": "chat.postMessage, chat.update, chat.postEphemeral: the review DM",
    "im:history": "conversations.history: a retried DM is found, not posted twice",
}
REPORT_SCOPES: Final[dict[str, str]] = {
    "files:write": "files.getUploadURLExternal: the weekly report's files in the report channel",
    "chat:write": "the report's summary in the report channel",
}

Status = Literal["ok", "fail", "skip"]


@dataclass(frozen=True)
class Step:
    name: str
    status: Status
    detail: str


@dataclass
class CheckResult:
    steps: list[Step] = field(default_factory=list)
    missing_scopes: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(step.status == "ok" for step in self.steps)


def required_scopes(report_channel: str | None) -> dict[str, str]:
    return {**REVIEW_SCOPES, **(REPORT_SCOPES if report_channel else {})}


def granted_scopes(headers: dict[str, str]) -> set[str] | None:
    """The scopes in a Web API answer's `x-oauth-scopes` header; None when it is absent."""
    value = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if value is None:
        return None
    return {scope.strip() for scope in value.split(",") if scope.strip()}


def check(client: WebClient, reviewer_email: str, report_channel: str | None) -> CheckResult:
    result = CheckResult()
    steps = result.steps
    try:
        auth = slack.auth_test(client)
    except slack.SlackError as exc:
        steps.append(Step("auth.test", "fail", str(exc)))
        for name in ("scopes", "users.lookupByEmail", "conversations.open"):
            steps.append(Step(name, "skip", "needs a working token"))
        return result
    steps.append(
        Step(
            "auth.test",
            "ok",
            f"bot {auth.get('user')} ({auth.get('user_id')}) in {auth.get('team')} "
            f"({auth.get('team_id')})",
        )
    )

    needed = required_scopes(report_channel)
    granted = granted_scopes(dict(auth.headers))
    if granted is None:
        steps.append(Step("scopes", "fail", "Slack's answer named no scopes (x-oauth-scopes)"))
    else:
        result.missing_scopes = {s: why for s, why in needed.items() if s not in granted}
        if result.missing_scopes:
            listed = "; ".join(f"{s} ({why})" for s, why in result.missing_scopes.items())
            steps.append(Step("scopes", "fail", f"missing {listed}"))
        else:
            steps.append(Step("scopes", "ok", "granted " + ", ".join(sorted(needed))))

    try:
        user_id = slack.lookup_user_id(client, reviewer_email)
    except slack.SlackError as exc:
        steps.append(Step("users.lookupByEmail", "fail", f"{reviewer_email}: {exc}"))
        steps.append(Step("conversations.open", "skip", "needs the reviewer's Slack user"))
        return result
    steps.append(Step("users.lookupByEmail", "ok", f"{reviewer_email} is {user_id}"))
    try:
        channel = slack.open_dm(client, user_id)
    except slack.SlackError as exc:
        steps.append(Step("conversations.open", "fail", str(exc)))
        return result
    steps.append(Step("conversations.open", "ok", f"DM with {user_id} is {channel}"))
    return result
