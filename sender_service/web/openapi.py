"""The OpenAPI 3.1 document of every JSON endpoint; request schemas come from the pydantic
models that validate them, so the two cannot drift. A test checks every route is here."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from sender_service.ingest import emailbison
from sender_service.web.api_models import SendDraftBody

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


def _emailbison_webhook() -> dict[str, Any]:
    data_models = [
        emailbison.ReplyData,
        emailbison.UntrackedReplyData,
        emailbison.EmailSentData,
        emailbison.LeadData,
    ]
    return {
        "post": {
            "summary": "Receive an EmailBison webhook event",
            "description": (
                "The workspace secret (Authorization: Bearer, X-Replyline-Secret or ?secret=) is "
                "checked before the body is read; bodies over 1 MiB are refused while they "
                "stream in. LEAD_REPLIED, LEAD_INTERESTED, UNTRACKED_REPLY_RECEIVED, EMAIL_SENT, "
                "MANUAL_EMAIL_SENT, LEAD_UNSUBSCRIBED and EMAIL_BOUNCED are stored once each; "
                "other types are ignored."
            ),
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
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["event", "data"],
                            "properties": {
                                "event": {"$ref": _REF.format(model="EventInfo")},
                                "data": {
                                    "oneOf": [
                                        {"$ref": _REF.format(model=m.__name__)} for m in data_models
                                    ]
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json(
                    "Already stored (duplicate) or a type Replyline ignores",
                    _status("duplicate", "ignored"),
                ),
                "202": _json(
                    "Stored; a reply is queued for classification",
                    _status("accepted", message_id=_UUID, lead_id=_UUID),
                ),
                "400": _error("Malformed JSON or a missing/invalid field (`field` names it)"),
                "401": _error("Missing or wrong secret, or unknown workspace; body unread"),
                "413": _error("Body larger than 1 MiB"),
            },
        }
    }


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
            "409": _error("The draft was already sent, rejected or cannot be sent"),
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


@cache
def openapi_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        emailbison.EventInfo,
        emailbison.ReplyData,
        emailbison.UntrackedReplyData,
        emailbison.EmailSentData,
        emailbison.LeadData,
        SendDraftBody,
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
                    "summary": "Liveness and database check",
                    "responses": {
                        "200": _json("The database answers", _status("ok")),
                        "503": _error("The database does not answer"),
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
