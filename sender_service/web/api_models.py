"""Request bodies of the JSON API, validated by pydantic and published in /openapi.json."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SendDraftBody(BaseModel):
    """An optional edited body; without it the draft is sent as written."""

    model_config = ConfigDict(extra="forbid")
    body: str | None = Field(default=None, min_length=1, max_length=20_000)
