"""The outside services a worker or request uses, built once from settings and on first use.

An unconfigured service fails when it is used (and the job is retried or sent to review),
not when the process starts: a worker without Slack still classifies and sends.
"""

from __future__ import annotations

from functools import cached_property

from slack_sdk import WebClient

from sender_service.ai.llm import LLM, make_llm
from sender_service.notify.slack import make_client
from sender_service.sending.providers import Repliers
from sender_service.settings import Settings


class Services:
    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings

    @cached_property
    def llm(self) -> LLM:
        return make_llm(self.settings)

    @cached_property
    def slack(self) -> WebClient:
        return make_client(self.settings)

    @cached_property
    def repliers(self) -> Repliers:
        return Repliers(self.url, self.settings)
