"""The LLM behind one small interface: the OpenAI SDK, or the offline stand-in for the demo.

Every failure — refusal, invalid JSON, a label outside the set, a timeout, a 5xx — is retried
with backoff and then raised as `LLMError`; callers turn it into `needs_review`, never a send.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

import openai
from pydantic import ValidationError

from sender_service import metrics
from sender_service.ai import prompts
from sender_service.ai.context import ReplyContext
from sender_service.ai.schemas import (
    AutoSendEvaluation,
    ReplyDraft,
    SentimentClassification,
    _Strict,
    response_format,
)
from sender_service.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T", bound=_Strict)


class LLMError(RuntimeError):
    """The LLM gave no usable answer after its retries."""


class LLM(Protocol):
    def classify(self, reply: ReplyContext) -> SentimentClassification: ...

    def draft(
        self, reply: ReplyContext, sentiment: str, revision: prompts.Revision | None = None
    ) -> ReplyDraft: ...

    def evaluate(self, reply: ReplyContext, draft: str) -> AutoSendEvaluation: ...


class _Unusable(Exception):
    """An answer that arrived but cannot be used; worth asking again."""


class OpenAILLM:
    """Chat Completions with a strict JSON-schema `response_format`."""

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
    ) -> None:
        self._client = client
        self._model = model
        self._attempts = attempts
        self._backoff = backoff_seconds

    def classify(self, reply: ReplyContext) -> SentimentClassification:
        return self._call(SentimentClassification, prompts.classify_messages(reply))

    def draft(
        self, reply: ReplyContext, sentiment: str, revision: prompts.Revision | None = None
    ) -> ReplyDraft:
        return self._call(ReplyDraft, prompts.draft_messages(reply, sentiment, revision))

    def evaluate(self, reply: ReplyContext, draft: str) -> AutoSendEvaluation:
        return self._call(AutoSendEvaluation, prompts.evaluate_messages(reply, draft))

    def _call(self, model: type[T], messages: list[prompts.Message]) -> T:
        last_error = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            try:
                return self._once(model, messages)
            except (_Unusable, openai.APITimeoutError, openai.APIConnectionError) as exc:
                last_error = str(exc) or type(exc).__name__
            except openai.APIStatusError as exc:
                last_error = f"HTTP {exc.status_code}"
                if exc.status_code < 500 and exc.status_code not in (408, 409, 429):
                    break  # a request the server will refuse again
            log.warning(
                "LLM call %s failed (attempt %d/%d): %s",
                response_format(model)["json_schema"]["name"],
                attempt,
                self._attempts,
                last_error,
            )
            if attempt < self._attempts:
                time.sleep(self._backoff * 2 ** (attempt - 1))
        raise LLMError(f"LLM gave no usable answer: {last_error}")

    def _once(self, model: type[T], messages: list[prompts.Message]) -> T:
        # Plain dicts stand in for the SDK's TypedDict params, which mypy cannot match.
        completion = self._client.chat.completions.create(  # type: ignore[call-overload]
            model=self._model,
            messages=messages,
            response_format=response_format(model),
        )
        if not completion.choices:
            raise _Unusable("empty answer")
        message = completion.choices[0].message
        if message.refusal:
            raise _Unusable(f"refused: {message.refusal[:200]}")
        try:
            return model.model_validate(json.loads(message.content or ""))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise _Unusable(f"invalid answer: {str(exc).splitlines()[0][:200]}") from None


class MeteredLLM:
    """Any LLM, its calls timed and its failures counted for /metrics (`call`: classify,
    draft, evaluate)."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner

    def classify(self, reply: ReplyContext) -> SentimentClassification:
        with self._metered("classify"):
            return self.inner.classify(reply)

    def draft(
        self, reply: ReplyContext, sentiment: str, revision: prompts.Revision | None = None
    ) -> ReplyDraft:
        with self._metered("draft"):
            return self.inner.draft(reply, sentiment, revision)

    def evaluate(self, reply: ReplyContext, draft: str) -> AutoSendEvaluation:
        with self._metered("evaluate"):
            return self.inner.evaluate(reply, draft)

    @contextmanager
    def _metered(self, call: str) -> Iterator[None]:
        with metrics.timed(metrics.LLM_SECONDS, call=call):
            try:
                yield
            except LLMError:
                metrics.LLM_FAILURES.labels(call=call).inc()
                raise


def make_llm(settings: Settings) -> LLM:
    """The configured LLM, metered. The offline stand-in only when LLM_PROVIDER=offline says so."""
    return MeteredLLM(_unmetered(settings))


def _unmetered(settings: Settings) -> LLM:
    if settings.llm_provider == "offline":
        from sender_service.ai.offline import OfflineLLM

        return OfflineLLM()
    if not settings.openai_api_key:
        raise LLMError("OPENAI_API_KEY is required when LLM_PROVIDER=openai")
    client = openai.OpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=0,  # retries are ours, so every failure kind is handled alike
    )
    return OpenAILLM(client, settings.llm_model)
