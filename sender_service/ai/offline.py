"""The demo's deterministic, rule-based stand-in for the LLM (LLM_PROVIDER=offline).

It reads keywords, not meaning: good enough to drive the whole pipeline without a network,
and never chosen unless the configuration asks for it.
"""

from __future__ import annotations

import re

from sender_service.ai.context import ReplyContext
from sender_service.ai.prompts import Revision
from sender_service.ai.schemas import AutoSendEvaluation, ReplyDraft, SentimentClassification

# First match wins, so the stronger signals come first.
_RULES: tuple[tuple[str, str, float], ...] = (
    (r"unsubscribe|remove me|stop (emailing|contacting)|do not (contact|email)", "Blacklist", 0.97),
    (r"out of (the )?office|on (vacation|holiday|leave)|away until|\booo\b", "Out of Office", 0.96),
    (r"auto(matic|mated)?[- ]?reply|this is an automated", "Automated Reply", 0.96),
    (r"not interested|no thanks|no, thank|not a (good )?fit|please pass", "Not Interested", 0.93),
    (r"\bcall me\b|give me a (call|ring)|phone call|call (on|at) \+?\d", "Call Requested", 0.93),
    (
        r"book a time|schedule|set up a (time|meeting|call)|meeting|calendar|let'?s (meet|talk)"
        r"|free (on|at|next)|available (on|at|next)",
        "Meeting Requested",
        0.92,
    ),
    (
        r"more info|send (me )?(more|details|info)|pricing|how much|what does it cost|case stud",
        "Information Requested",
        0.9,
    ),
    (
        r"already (have|use|work with)|too expensive|no budget|not right now|bad timing",
        "Objection",
        0.85,
    ),
    (
        r"circle back|reach out (again|next)|next (quarter|month|year)|follow up (later|in)",
        "Follow Up",
        0.85,
    ),
    (
        r"interested|sounds (good|great)|tell me more|i'?m in|yes,? please|let'?s do it",
        "Interested",
        0.94,
    ),
)
_RISKY = re.compile(r"\?|contract|legal|discount|guarantee|refund|price|pricing|cost", re.I)


class OfflineLLM:
    def classify(self, reply: ReplyContext) -> SentimentClassification:
        text = reply.reply_text.lower()
        for pattern, label, confidence in _RULES:
            if re.search(pattern, text):
                return SentimentClassification(sentiment=label, confidence=confidence)  # type: ignore[arg-type]
        return SentimentClassification(sentiment="Neutral", confidence=0.6)

    def draft(
        self, reply: ReplyContext, sentiment: str, revision: Revision | None = None
    ) -> ReplyDraft:
        """The same template whatever the revision asks: the offline stand-in cannot rewrite."""
        context = reply.ai_context
        if sentiment == "Information Requested":
            middle = (
                f"Happy to share more. In short: {context.offer}"
                if context.offer
                else "Happy to share more details."
            ) + " The quickest way is a short call where I can tailor it to {companyName}."
        elif sentiment == "Call Requested":
            middle = "A call works well. Pick whatever time suits you best:"
        else:
            middle = "Great to hear from you. The easiest way to find a time is my calendar:"
        body = f"Hi {{firstName}},\n\n{middle}\n{{calendarLink}}\n\n"
        body += context.signature or "Best regards"
        return ReplyDraft(body=body)

    def evaluate(self, reply: ReplyContext, draft: str) -> AutoSendEvaluation:
        lowered = draft.lower()
        for phrase in reply.ai_context.never_say:
            if phrase.lower() in lowered:
                return AutoSendEvaluation(
                    confidence=0.2,
                    safe_to_send=False,
                    reason=f"the draft uses a forbidden phrase: {phrase!r}",
                )
        if _RISKY.search(reply.reply_text):
            return AutoSendEvaluation(
                confidence=0.55,
                safe_to_send=True,
                reason="the lead asks a question (price, terms or details) a person should answer",
            )
        if len(reply.reply_text) > 600:
            return AutoSendEvaluation(
                confidence=0.7,
                safe_to_send=True,
                reason="a long reply that may hold more than the draft answers",
            )
        return AutoSendEvaluation(
            confidence=0.95,
            safe_to_send=True,
            reason="a short positive reply; the draft offers the booking link",
        )
