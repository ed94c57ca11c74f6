"""What the LLM is told about a reply: the reply itself, the thread so far, the AI context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

AI_CONTEXT_KEYS = ("offer", "faq", "signature", "tone", "never_say")


class AIContextFile(BaseModel):
    """The YAML an operator writes for `replyline workspace set-context`."""

    model_config = ConfigDict(extra="forbid")
    offer: str = Field(default="", max_length=4000)
    faq: str = Field(default="", max_length=20000)
    signature: str = Field(default="", max_length=1000)
    tone: str = Field(default="", max_length=1000)
    never_say: list[str] = Field(default_factory=list, max_length=200)


@dataclass(frozen=True)
class AIContext:
    """Offer, FAQ, signature, tone and phrases never to use; a campaign's override wins."""

    offer: str = ""
    faq: str = ""
    signature: str = ""
    tone: str = ""
    never_say: tuple[str, ...] = ()

    @classmethod
    def merged(
        cls, workspace: Mapping[str, Any] | None, campaign: Mapping[str, Any] | None
    ) -> AIContext:
        values: dict[str, Any] = {}
        for source in (workspace or {}, campaign or {}):
            for key in AI_CONTEXT_KEYS:
                if source.get(key):
                    values[key] = source[key]
        never = values.get("never_say", ())
        values["never_say"] = tuple(never) if isinstance(never, list | tuple) else (str(never),)
        return cls(**values)

    def as_text(self) -> str:
        lines = [
            f"Offer: {self.offer or '(not given)'}",
            f"FAQ: {self.faq or '(none)'}",
            f"Tone: {self.tone or 'friendly, brief, human'}",
            f"Signature: {self.signature or '(none)'}",
            "Never use these phrases: " + ("; ".join(self.never_say) or "(none)"),
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class ThreadMessage:
    direction: str
    sent_by: str | None
    body: str
    occurred_at: datetime


@dataclass(frozen=True)
class ReplyContext:
    """One inbound reply and everything the draft and evaluation may draw on."""

    reply_text: str
    subject: str | None = None
    lead_first_name: str | None = None
    lead_company: str | None = None
    channel: str = "email"
    thread: tuple[ThreadMessage, ...] = ()
    ai_context: AIContext = field(default_factory=AIContext)
