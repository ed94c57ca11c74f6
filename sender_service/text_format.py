"""Plain text and email HTML, both ways.

Replyline writes and reads text (the AI, the review queue, the exports); email platforms send
and render HTML. Outbound, a draft becomes HTML whose paragraphs and line breaks survive any
client; inbound, an HTML email gets the text a person would read in it.
"""

from __future__ import annotations

import html
import re
from typing import Final

import html_text

# A tag is `<name>`, `<name attr…>`, `</name>` or `<!--`; `<https://…>` in text is not.
_TAG: Final = re.compile(r"<(?:/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^>]*)?/?|!--[^>]*)>")
_PARAGRAPH_BREAK: Final = re.compile(r"\n[ \t]*\n\s*")
_BLANK_LINES: Final = re.compile(r"\n{3,}")


def looks_like_html(text: str) -> bool:
    """Whether `text` carries markup (a tag or comment), not merely a `<` in a sentence."""
    return _TAG.search(text) is not None


def html_to_text(markup: str) -> str:
    """The readable text of an HTML email: paragraphs and line breaks kept, markup and
    scripts dropped, entities decoded."""
    if not markup.strip():
        return ""
    text: str = html_text.extract_text(markup)
    lines = "\n".join(line.rstrip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", lines).strip()


def text_to_html(text: str) -> str:
    """`text` as email HTML: each blank-line-separated paragraph a `<p>`, each other line
    break a `<br>`, every character escaped (a draft's `<` or `&` is text, never markup)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        return ""
    paragraphs = _PARAGRAPH_BREAK.split(normalised)
    return "".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in paragraph.split("\n")) + "</p>\n"
        for paragraph in paragraphs
    ).rstrip("\n")
