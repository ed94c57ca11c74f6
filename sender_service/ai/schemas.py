"""The structured outputs the LLM must return, as pydantic models and strict JSON schemas.

The schema names are part of the contract with the model server (and its stubs in tests).
"""

from __future__ import annotations

from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from sender_service.definitions import SENTIMENTS

SentimentLabel = Literal[
    "Interested",
    "Information Requested",
    "Meeting Requested",
    "Call Requested",
    "Not Interested",
    "Objection",
    "Out of Office",
    "Automated Reply",
    "Follow Up",
    "Blacklist",
    "Neutral",
]
assert set(get_args(SentimentLabel)) == set(SENTIMENTS), "keep in step with definitions"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SentimentClassification(_Strict):
    sentiment: SentimentLabel
    confidence: float = Field(ge=0, le=1)


class ReplyDraft(_Strict):
    body: str = Field(min_length=1)


class AutoSendEvaluation(_Strict):
    confidence: float = Field(ge=0, le=1)
    safe_to_send: bool
    reason: str = Field(min_length=1)
    # Whether a rewrite could fix what stops the draft (too long, missed the asked-for time,
    # wrong tone), and what to change. Required of the model by the strict schema; the
    # defaults only read an older answer as "not revisable".
    revisable: bool = False
    revision_hint: str = ""


SCHEMA_NAMES: Final[dict[type[_Strict], str]] = {
    SentimentClassification: "sentiment_classification",
    ReplyDraft: "reply_draft",
    AutoSendEvaluation: "auto_send_evaluation",
}


def _strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's strict mode: every property required, no extras, no numeric bounds keywords."""
    properties = {
        name: {
            k: v
            for k, v in prop.items()
            if k not in ("minimum", "maximum", "minLength", "title", "default")
        }
        for name, prop in schema["properties"].items()
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def response_format(model: type[_Strict]) -> dict[str, Any]:
    """The `response_format` argument of a Chat Completions call returning `model`."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": SCHEMA_NAMES[model],
            "strict": True,
            "schema": _strict_schema(model.model_json_schema()),
        },
    }
