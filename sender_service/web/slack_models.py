"""The parts of Slack's interaction payloads (`block_actions`, `view_submission`) we read.

Everything else Slack sends is ignored, so a payload with fields we do not use is never refused.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field


class SlackUser(BaseModel):
    id: str


class ButtonAction(BaseModel):
    action_id: str
    value: str = ""
    action_ts: str = ""


class BlockActions(BaseModel):
    type: Literal["block_actions"]
    user: SlackUser
    trigger_id: str
    actions: list[ButtonAction] = Field(min_length=1)


class InputValue(BaseModel):
    value: str | None = None  # a plain_text_input left empty sends null


class ViewState(BaseModel):
    values: dict[str, dict[str, InputValue]] = Field(default_factory=dict)


class View(BaseModel):
    id: str
    callback_id: str
    private_metadata: str = ""
    state: ViewState = Field(default_factory=ViewState)

    def text(self, block_id: str, action_id: str) -> str:
        value = self.state.values.get(block_id, {}).get(action_id)
        return (value.value or "") if value else ""


class ViewSubmission(BaseModel):
    type: Literal["view_submission"]
    user: SlackUser
    view: View


class Other(BaseModel):
    """Interactions we do not act on (`view_closed`, `message_action`, ...)."""

    type: str


Interaction = Annotated[BlockActions | ViewSubmission, Field(discriminator="type")]
