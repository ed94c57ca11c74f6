"""The OpenAPI 3.1 document of every JSON endpoint; request schemas come from the pydantic
models that validate them, so the two cannot drift. A test checks every route is here."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from sender_service.ingest import emailbison, instantly, smartlead
from sender_service.web.api_models import CampaignPatch, SendDraftBody

_REF = "#/components/schemas/{model}"


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _status(*values: str, **extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": list(values)}, **extra},
    }


_UUID = {"type": "string", "format": "uuid"}
# An API token, or the pages' signed-in session together with its CSRF token.
_CALLER: list[dict[str, list[str]]] = [{"bearer": []}, {"session": [], "csrf": []}]


_SECRET_FIRST = (
    "The workspace secret (Authorization: Bearer, X-Replyline-Secret or ?secret=) is checked "
    "before the body is read; bodies over 1 MiB are refused while they stream in."
)


def _email_webhook(summary: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "description": f"{_SECRET_FIRST} {description}",
            "parameters": [
                {"name": "workspace_id", "in": "path", "required": True, "schema": _UUID},
                {"name": "secret", "in": "query", "required": False, "schema": {"type": "string"}},
                {
                    "name": "X-Replyline-Secret",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                },
            ],
            "security": [{"bearer": []}, {}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {
                "200": _json(
                    "Already stored (duplicate) or a type Replyline ignores",
                    _status("duplicate", "ignored"),
                ),
                "202": _json(
                    "Stored (a reply is queued for classification), or held: valid JSON no "
                    "reader could use, or a delivery from a platform the workspace is no "
                    "longer on, kept in the delivery journal for a replay",
                    _status("accepted", "held", message_id=_UUID, lead_id=_UUID),
                ),
                "400": _error("The body is not JSON, or nested too deep to read (journaled)"),
                "401": _error("Missing or wrong secret, or unknown workspace; body unread"),
                "413": _error("Body larger than 1 MiB"),
            },
        }
    }


def _emailbison_webhook() -> dict[str, Any]:
    data_models = [
        emailbison.ReplyData,
        emailbison.UntrackedReplyData,
        emailbison.EmailSentData,
        emailbison.LeadData,
    ]
    return _email_webhook(
        "Receive an EmailBison webhook event",
        "LEAD_REPLIED, LEAD_INTERESTED, UNTRACKED_REPLY_RECEIVED, EMAIL_SENT, MANUAL_EMAIL_SENT, "
        "LEAD_UNSUBSCRIBED and EMAIL_BOUNCED are stored once each; other types are ignored.",
        {
            "type": "object",
            "required": ["event", "data"],
            "properties": {
                "event": {"$ref": _REF.format(model="EventInfo")},
                "data": {"oneOf": [{"$ref": _REF.format(model=m.__name__)} for m in data_models]},
            },
        },
    )


def _smartlead_webhook() -> dict[str, Any]:
    return _email_webhook(
        "Receive a Smartlead webhook event",
        "EMAIL_REPLY, UNTRACKED_REPLIES, EMAIL_SENT, LEAD_UNSUBSCRIBED and EMAIL_BOUNCE are "
        "stored once each; "
        "LEAD_CATEGORY_UPDATED tags the lead's reply with the category; other types are ignored.",
        {
            "allOf": [
                {"$ref": _REF.format(model="SmartleadWebhook")},
                {
                    "type": "object",
                    "required": ["event_type"],
                    "properties": {"event_type": {"type": "string"}},
                },
            ]
        },
    )


def _instantly_webhook() -> dict[str, Any]:
    return _email_webhook(
        "Receive an Instantly webhook event",
        "reply_received, auto_reply_received, email_sent, lead_unsubscribed and email_bounced "
        "are stored once each; lead_interested and the other lead-status events tag the lead's "
        "latest reply; other types are ignored.",
        {
            "allOf": [
                {"$ref": _REF.format(model="InstantlyWebhook")},
                {
                    "type": "object",
                    "required": ["event_type"],
                    "properties": {"event_type": {"type": "string"}},
                },
            ]
        },
    )


def _booking_webhook(summary: str, description: str, auth: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "description": description,
            "parameters": [
                {"name": "workspace_id", "in": "path", "required": True, "schema": _UUID},
                *auth,
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": _json(
                    "Already recorded (duplicate) or an event Replyline ignores",
                    _status("duplicate", "ignored"),
                ),
                "202": _json(
                    "Recorded: a booking applied to its lead (or kept until the lead appears), "
                    "or an inbound SMS queued for classification; or held: valid JSON no "
                    "reader could use, kept in the delivery journal for a replay",
                    _status(
                        "applied",
                        "unmatched",
                        "accepted",
                        "held",
                        booking_event_id=_UUID,
                        message_id=_UUID,
                        lead_id=_UUID,
                    ),
                ),
                "400": _error("The body is not JSON, or nested too deep to read (journaled)"),
                "401": _error(
                    "Missing, stale or wrong signature or secret; nothing stored (a Calendly "
                    "delivery whose valid signature is stale is journaled for reconciliation)"
                ),
                "403": _error("locationId is not the workspace's GHL location; nothing stored"),
                "413": _error("Body larger than 1 MiB"),
            },
        }
    }


def _header(name: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}


def _draft_action(summary: str, ok: dict[str, Any], body: bool) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": _CALLER,
        "parameters": [{"name": "draft_id", "in": "path", "required": True, "schema": _UUID}],
        "responses": {
            "200": _json("Done", ok),
            "400": _error("The body is not valid (`field` names the problem)"),
            "401": _error("No valid API token"),
            "403": _error("The token's user is a viewer of the draft's workspace"),
            "404": _error("No such draft in the user's workspaces"),
            "409": _error(
                "The draft was already sent or rejected, is being sent, or cannot be sent"
            ),
        },
    }
    if body:
        operation["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model="SendDraftBody")}}
            },
        }
        operation["responses"]["422"] = _error("Unresolved placeholders in the message")
        operation["responses"]["502"] = _error("The platform did not send, or did not confirm")
    return {"post": operation}


def _lead_ai_switch(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "security": _CALLER,
            "parameters": [{"name": "lead_id", "in": "path", "required": True, "schema": _UUID}],
            "responses": {
                "200": _json(
                    "The lead's AI switch as it now stands",
                    {
                        "type": "object",
                        "required": ["lead_id", "ai_paused"],
                        "properties": {"lead_id": _UUID, "ai_paused": {"type": "boolean"}},
                    },
                ),
                "401": _error("No valid API token"),
                "403": _error("The token's user is a viewer of the lead's workspace"),
                "404": _error("No such lead in the user's workspaces"),
            },
        }
    }


_WORKSPACE_QUERY = {"name": "workspace_id", "in": "query", "required": True, "schema": _UUID}
_ROWS = {"type": "array", "items": {"type": "object"}}


def _access_errors(role: str, subject: str) -> dict[str, Any]:
    return {
        "401": _error("No valid API token"),
        "403": _error(f"The token's user is a member of {subject} below the {role} role"),
        "404": _error(f"No such {subject.removeprefix('the ')} among the user's workspaces"),
    }


def _analytics_paths() -> dict[str, Any]:
    campaigns = {
        "type": "object",
        "required": ["workspace_id", "as_of", "campaigns", "segments", "ai_vs_setter", "weekly"],
        "properties": {
            "workspace_id": _UUID,
            "as_of": {
                "type": "string",
                "format": "date-time",
                "description": "When the published warehouse the numbers come from was built",
            },
            "campaigns": {**_ROWS, "description": "marts.campaign_kpis rows"},
            "segments": {**_ROWS, "description": "marts.campaign_segment_kpis rows"},
            "ai_vs_setter": {**_ROWS, "description": "marts.ai_vs_setter rows"},
            "weekly": {**_ROWS, "description": "marts.weekly_campaign_report rows (the week's)"},
            "draft_outcomes": {**_ROWS, "description": "marts.draft_outcomes rows"},
            "setters": {**_ROWS, "description": "marts.setter_kpis rows (per setter and week)"},
            "sentiments": {
                **_ROWS,
                "description": "Replies per campaign and sentiment label (of the range's days)",
            },
            "from": {"type": "string", "format": "date", "description": "With a range only"},
            "to": {"type": "string", "format": "date", "description": "With a range only"},
        },
    }
    day = {"type": "string", "format": "date"}
    unavailable = _error("No published warehouse yet: run `replyline warehouse refresh`")
    return {
        "/api/analytics/campaigns": {
            "get": {
                "summary": "A workspace's campaign analytics from the published marts (viewer+)",
                "security": [{"bearer": []}],
                "parameters": [
                    _WORKSPACE_QUERY,
                    {
                        "name": "week",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "format": "date"},
                        "description": "Only this week's weekly rows (its Monday)",
                    },
                    {
                        "name": "from",
                        "in": "query",
                        "required": False,
                        "schema": day,
                        "description": (
                            "With `to`: the cohort of leads whose first reply falls in"
                            " [from, to] (workspace time zone, both days included), their"
                            " outcome as of the refresh; weekly marts keep overlapping weeks"
                        ),
                    },
                    {
                        "name": "to",
                        "in": "query",
                        "required": False,
                        "schema": day,
                        "description": "The range's last day, included",
                    },
                ],
                "responses": {
                    "200": _json("The marts' rows of the workspace", campaigns),
                    "400": _error("A bad parameter (`field` names it)"),
                    **_access_errors("viewer", "the workspace"),
                    "503": unavailable,
                },
            }
        },
        "/api/analytics/leads/{lead_id}": {
            "get": {
                "summary": "A lead's marts.lead_booking_status row (viewer+)",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "lead_id", "in": "path", "required": True, "schema": _UUID}
                ],
                "responses": {
                    "200": _json("The row", {"type": "object"}),
                    **_access_errors("viewer", "the lead"),
                    "503": unavailable,
                },
            }
        },
    }


def _campaign_paths() -> dict[str, Any]:
    campaign = {
        "type": "object",
        "properties": {
            "id": _UUID,
            "external_id": {"type": "string"},
            "name": {"type": "string"},
            "response_mode": {"type": "string", "enum": ["SETTER_MANAGED", "AI_AUTO_SEND"]},
            "auto_send_confidence_threshold": {"type": "number"},
            "archived": {"type": "boolean"},
            "send_delay_min_seconds": {"type": "integer"},
            "send_delay_max_seconds": {"type": "integer"},
            "sending_hours": {"type": "string", "enum": ["always", "business_hours"]},
        },
    }
    return {
        "/api/campaigns": {
            "get": {
                "summary": "A workspace's campaigns, archived ones included (viewer+)",
                "security": [{"bearer": []}],
                "parameters": [_WORKSPACE_QUERY],
                "responses": {
                    "200": _json(
                        "The campaigns",
                        {
                            "type": "object",
                            "properties": {
                                "workspace_id": _UUID,
                                "campaigns": {"type": "array", "items": campaign},
                            },
                        },
                    ),
                    "400": _error("A bad parameter (`field` names it)"),
                    **_access_errors("viewer", "the workspace"),
                },
            }
        },
        "/api/campaigns/{campaign_id}": {
            "patch": {
                "summary": "Change a campaign's arm, threshold or timing (admin); mode and "
                "threshold changes are recorded with the user",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "campaign_id", "in": "path", "required": True, "schema": _UUID}
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": _REF.format(model="CampaignPatch")}}
                    },
                },
                "responses": {
                    "200": _json("The campaign as it now stands", campaign),
                    "400": _error("An invalid or unknown field (`field` names it)"),
                    **_access_errors("admin", "the campaign"),
                },
            }
        },
    }


def _export_path() -> dict[str, Any]:
    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            "description": description,
        }

    moment = {"type": "string", "format": "date-time"}
    return {
        "get": {
            "summary": "The workspace's dataset for ChatGPT (leads.csv, messages.jsonl, "
            "README.md), streamed as a zip (viewer+)",
            "security": [{"bearer": []}],
            "parameters": [
                _WORKSPACE_QUERY,
                query("positive_only", {"type": "boolean"}, "Only leads with a positive reply"),
                query("from", moment, "Messages at or after this moment (with a zone)"),
                query("to", moment, "Messages before this moment (with a zone)"),
                query("channels", {"type": "string"}, "Comma-separated: email, sms"),
                query("directions", {"type": "string"}, "Comma-separated: inbound, outbound"),
            ],
            "responses": {
                "200": {
                    "description": "The zip; Content-Disposition names "
                    "replyline-<workspace>-<date>.zip",
                    "content": {
                        "application/zip": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "400": _error("A bad filter (`field` names it)"),
                **_access_errors("viewer", "the workspace"),
            },
        }
    }


@cache
def openapi_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        emailbison.EventInfo,
        emailbison.ReplyData,
        emailbison.UntrackedReplyData,
        emailbison.EmailSentData,
        emailbison.LeadData,
        smartlead.SmartleadWebhook,
        instantly.InstantlyWebhook,
        SendDraftBody,
        CampaignPatch,
    ]
    _, schema = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
    schemas: dict[str, Any] = dict(schema.get("$defs", {}))
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "field": {"type": ["string", "null"], "description": "dotted path of the field"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Replyline", "version": "0.1.0"},
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "Liveness, database and worker check",
                    "responses": {
                        "200": _json(
                            "The database answers; worker is ok (polled within a minute) or "
                            "none (no worker running)",
                            _status("ok"),
                        ),
                        "503": _error(
                            "The database does not answer, or no worker has polled the queue "
                            "for a minute (worker: stale)"
                        ),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (text exposition format)",
                    "description": "Needs `Authorization: Bearer <METRICS_TOKEN>`; answers 404 "
                    "when METRICS_TOKEN is not set.",
                    "responses": {
                        "200": {
                            "description": "Prometheus text format 0.0.4",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "401": _error("No or a wrong metrics token"),
                        "404": _error("METRICS_TOKEN is not set: metrics are not served here"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json("OpenAPI 3.1 document", {"type": "object"})},
                }
            },
            "/webhooks/emailbison/{workspace_id}": _emailbison_webhook(),
            "/webhooks/smartlead/{workspace_id}": _smartlead_webhook(),
            "/webhooks/instantly/{workspace_id}": _instantly_webhook(),
            "/webhooks/calendly/{workspace_id}": _booking_webhook(
                "Receive a Calendly invitee webhook",
                "Calendly-Webhook-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256 of "
                "'<t>.<raw body>'> under the workspace's calendly_signing_key) is verified on "
                "the raw bytes, after the 1 MiB cap and before parsing; a timestamp older than "
                "CALENDLY_SIGNATURE_TOLERANCE_SECONDS (180) is refused. invitee.created books "
                "(lead found by utm_content, else by email), invitee.canceled cancels or, when "
                "rescheduled, hands over to the new invitee; invitee_no_show.created marks a "
                "no-show.",
                [_header("Calendly-Webhook-Signature")],
            ),
            "/webhooks/ghl/{workspace_id}": _booking_webhook(
                "Receive a GoHighLevel webhook",
                "The workspace secret (as for the email webhook) is checked before the body "
                "is read; then the 1 MiB cap; then, when a ghl_webhook_public_key is stored, "
                "x-wh-signature (base64 RSA-SHA256 over the raw body). locationId must be "
                "the workspace's. AppointmentCreate/Update/Delete move the lead with that "
                "contactId; InboundMessage of type SMS is a reply answered by SMS.",
                [
                    {
                        "name": "secret",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                    _header("X-Replyline-Secret"),
                    _header("x-wh-signature"),
                ],
            ),
            "/slack/interactions": {
                "post": {
                    "summary": "Receive the review DM's buttons and forms from Slack",
                    "description": "X-Slack-Request-Timestamp must be within 5 minutes and "
                    "X-Slack-Signature (v0=<hex HMAC-SHA256 of 'v0:<timestamp>:<raw body>'> "
                    "under a workspace's slack_signing_secret) must verify before the body is "
                    "parsed. Approve, Reject, a submitted Edit and a Regenerate are queued as "
                    "one job per click or form (Slack's retries add nothing); Edit and "
                    "Regenerate open their form at once.",
                    "parameters": [
                        _header("X-Slack-Request-Timestamp"),
                        _header("X-Slack-Signature"),
                        _header("X-Slack-Retry-Num"),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "required": ["payload"],
                                    "properties": {"payload": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Taken (or not ours to act on); for an empty "
                            "edited reply, Slack's `response_action: errors` keeps the form open"
                        },
                        "400": _error("No JSON `payload`, or not a Slack interaction"),
                        "401": _error("Missing, stale or wrong Slack signature; body not parsed"),
                        "404": _error("The draft is not one of the signing workspace's"),
                        "502": _error("Slack did not open the form"),
                    },
                }
            },
            "/api/drafts/{draft_id}/send": _draft_action(
                "Send a draft as the setter (optionally edited) through the system sender",
                _status("sent", message_id=_UUID),
                body=True,
            ),
            "/api/drafts/{draft_id}/reject": _draft_action(
                "Reject a draft: it will not be sent", _status("rejected"), body=False
            ),
            "/api/leads/{lead_id}/pause-ai": _lead_ai_switch(
                "A setter takes the lead over: no AI send to it until resumed (setter or admin)"
            ),
            "/api/leads/{lead_id}/resume-ai": _lead_ai_switch(
                "AI sends to the lead may resume for its next replies (setter or admin)"
            ),
            **_analytics_paths(),
            **_campaign_paths(),
            "/api/export/chatgpt": _export_path(),
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "replyline_session"},
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "The pages' CSRF token; needed with the session cookie",
                },
            },
        },
    }
