"""The messages of each LLM call. The lead's reply text always appears verbatim."""

from __future__ import annotations

from sender_service.ai.context import ReplyContext
from sender_service.definitions import SENTIMENTS

Message = dict[str, str]

_CLASSIFY = (
    "You classify replies to cold outreach emails. Answer with one sentiment from this list: "
    + ", ".join(SENTIMENTS)
    + ". 'Blacklist' means the person asks not to be contacted again. Give your confidence "
    "from 0 to 1."
)

_DRAFT = (
    "You write the answer a sales rep would send to a positive reply to cold outreach. "
    "Be brief, warm and specific; answer what the lead asked; propose a meeting. "
    "You may use the placeholders {firstName}, {companyName} and {calendarLink}; they are "
    "filled in before sending. Never invent prices, dates or facts not in the context.\n\n"
)

_EVALUATE = (
    "You decide whether a drafted answer to a lead can be sent without a human reading it. "
    "It is safe only if it answers the lead's reply correctly, invents nothing, promises "
    "nothing outside the context, uses none of the forbidden phrases, and fits the thread. "
    "Give your confidence from 0 to 1 that a careful sales rep would send it unchanged, "
    "whether it is safe to send, and a one-sentence reason.\n\n"
)


def classify_messages(reply: ReplyContext) -> list[Message]:
    return [
        {"role": "system", "content": _CLASSIFY},
        {"role": "user", "content": f"Subject: {reply.subject or ''}\n\n{reply.reply_text}"},
    ]


def draft_messages(reply: ReplyContext, sentiment: str) -> list[Message]:
    return [
        {"role": "system", "content": _DRAFT + reply.ai_context.as_text()},
        {
            "role": "user",
            "content": (
                f"Thread so far:\n{reply.thread_text()}\n\n"
                f"The lead ({reply.lead_first_name or 'unknown name'} at "
                f"{reply.lead_company or 'unknown company'}) just replied, classified as "
                f"{sentiment}:\n{reply.reply_text}\n\nWrite the {reply.channel} answer."
            ),
        },
    ]


def evaluate_messages(reply: ReplyContext, draft: str) -> list[Message]:
    return [
        {"role": "system", "content": _EVALUATE + reply.ai_context.as_text()},
        {
            "role": "user",
            "content": (
                f"Thread so far:\n{reply.thread_text()}\n\n"
                f"The lead's reply:\n{reply.reply_text}\n\nThe draft answer:\n{draft}"
            ),
        },
    ]
