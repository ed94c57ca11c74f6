"""Plain text to email HTML and back: what the lead reads is what the draft says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sender_service.text_format import html_to_text, looks_like_html, text_to_html

# Words of text a draft may hold, markup characters and entities included.
WORD = st.text(alphabet="abcXYZ019<>&;'\"/=#é€😀", min_size=1, max_size=8)
LINE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map("\n".join)
DRAFT = st.lists(PARAGRAPH, min_size=1, max_size=3).map("\n\n".join)


@given(DRAFT)
def test_a_draft_survives_the_trip_through_html_exactly(text: str) -> None:
    """Escaped, so `<b>` or `&amp;` in a draft is text the lead reads as written; paragraphs
    and line breaks are where the draft has them."""
    assert html_to_text(text_to_html(text)) == text


def test_the_html_of_a_draft() -> None:
    assert text_to_html("Hi Dana,\r\n\r\n\r\nA & B <ok>\nAlex\n") == (
        "<p>Hi Dana,</p>\n<p>A &amp; B &lt;ok&gt;<br>\nAlex</p>"
    )
    assert text_to_html("  \n ") == ""


def test_an_html_email_reads_as_its_text() -> None:
    markup = (
        "<html><head><style>p {color: red}</style></head><body><div>Hi Dana,</div>"
        "<div><br></div><p>R&amp;D teams<br/>love it.</p><script>track()</script>"
        "<blockquote>On Monday Alex wrote:<br>hello</blockquote></body></html>"
    )
    assert html_to_text(markup) == (
        "Hi Dana,\n\nR&D teams\nlove it.\n\nOn Monday Alex wrote:\nhello"
    )


def test_markup_is_told_from_text_that_mentions_angle_brackets() -> None:
    assert looks_like_html("<p>Hi</p>") and looks_like_html("Hi<br>there")
    assert looks_like_html("<!-- template -->Hi")
    assert not looks_like_html("see <https://acme.test> or 2 < 3 > 1")
