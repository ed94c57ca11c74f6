"""What a provider's failure means for a send: safe to retry, or outcome unknown."""

from __future__ import annotations


class NotSent(Exception):
    """The provider says the message was not sent (refused, rate-limited, unreachable).

    `retryable` is False when retrying cannot help (bad credentials, invalid request): the
    send goes to a person instead.
    """

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


class OutcomeUnknown(Exception):
    """The message may or may not have gone out (timeout, 5xx): never retried blindly."""
