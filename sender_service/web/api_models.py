"""Request bodies of the JSON API, validated by pydantic and published in /openapi.json."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sender_service.campaigns import MAX_DELAY_SECONDS


class SendDraftBody(BaseModel):
    """An optional edited body; without it the draft is sent as written."""

    model_config = ConfigDict(extra="forbid")
    body: str | None = Field(default=None, min_length=1, max_length=20_000)


class CampaignPatch(BaseModel):
    """The settings an admin may change; fields left out keep their value. The delay window
    is checked against the stored values by `campaigns.set_timing`, as the CLI's is."""

    model_config = ConfigDict(extra="forbid")
    response_mode: Literal["SETTER_MANAGED", "AI_AUTO_SEND"] | None = None
    auto_send_confidence_threshold: Decimal | None = Field(
        default=None, ge=0, le=1, decimal_places=3
    )
    send_delay_min_seconds: int | None = Field(
        default=None, ge=0, le=MAX_DELAY_SECONDS, strict=True
    )
    send_delay_max_seconds: int | None = Field(
        default=None, ge=0, le=MAX_DELAY_SECONDS, strict=True
    )
    sending_hours: Literal["always", "business_hours"] | None = None
