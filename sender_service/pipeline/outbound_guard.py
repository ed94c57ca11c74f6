"""The outbound guard: deterministic rules over the exact text the AI is about to send.

The drafter and the evaluator are both LLMs, and a lead's reply can talk both of them into
anything. Whatever they say, a draft that carries one of these goes to a person instead:

| rule          | the text holds                                                            |
|---------------|---------------------------------------------------------------------------|
| `link`        | a link to a host other than the booking link's or an allowed domain       |
| `contact`     | an email address or phone number that is neither ours nor the lead's      |
| `pricing`     | a price, currency amount, discount or free offer (unless pricing is allowed) |
| `placeholder` | a template slot left unfilled: `{…}`, `[[…]]`, `[Your Name]`, `<name>`    |
| `language`    | another language than the lead's reply                                    |
| `length`      | more characters than the workspace allows for the channel                 |
| `echo`        | a run of the lead's reply (or of our own instructions) copied back        |

`check` is a pure function of the text and a `GuardPolicy`, cheap enough to run at decision
time and again just before the send. Matching runs on a normalised copy (NFKC, zero-width and
bidi controls removed, hosts in their IDNA/punycode form), so a look-alike or a link split by
invisible characters is judged by what a reader's mail client would open.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal, get_args

import idna
import phonenumbers
from linkify_it import LinkifyIt
from linkify_it.tlds import TLDS
from py3langid.langid import MODEL_FILE, LanguageIdentifier

Rule = Literal["link", "contact", "pricing", "placeholder", "language", "length", "echo"]
RULES: tuple[Rule, ...] = get_args(Rule)

DEFAULT_MAX_CHARS = {"email": 1200, "sms": 320}

# Invisible characters a reader never sees but that split or disguise a link or a word:
# zero-width spaces and joiners, word joiner, BOM, soft hyphen, and the bidi controls.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF]
    + list(range(0x200B, 0x2010))
    + list(range(0x202A, 0x202F))
    + list(range(0x2060, 0x2070))
)
# "evil[.]com", "evil(dot)com": the defanged forms a model may be asked to write.
_DEFANGED_DOT = re.compile(r"\s*[\[(]\s*(?:\.|dot)\s*[\])]\s*", re.IGNORECASE)

_PRICING = re.compile(
    r"[$€£¥₹₽]\s*\d[\d.,]*"
    r"|\d(?:[\d.,' ]*\d)?\s*[$€£¥₹₽]"
    r"|\d(?:[\d.,' ]*\d)?\s*(?:usd|eur|gbp|chf|cad|aud|dollars?|euros?|pounds?|bucks)\b"
    r"|\b(?:usd|eur|gbp|chf|cad|aud)\s*\d"
    r"|\d+(?:[.,]\d+)?\s*%\s*(?:off|discount|cheaper|less|rabatt|de\s+r[ée]duction|descuento)"
    r"|\bdiscount|\bcoupon|\bpromo(?:tion(?:al)?)?\s+code|\brebate|\bhalf[- ]price"
    r"|\b(?:for|totally|completely|entirely|100\s*%)\s+free\b|\bfree\s+of\s+charge"
    r"|\bfree\s+(?:trial|month|months|week|weeks|year|plan|tier|version|pilot|setup"
    r"|onboarding|access|upgrade|license|licence|seats?|audit)\b"
    r"|\bat\s+no\s+(?:extra\s+|additional\s+)?(?:cost|charge)\b|\bno\s+charge\b",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"\{[^{}\n]{0,80}\}"  # {firstName}, {{ company }}
    r"|\[\[[^\[\]\n]{0,80}\]\]"  # [[first name]]
    r"|\[\s*[A-Za-z][\w .'/-]{0,40}\]"  # [Your Name], [Company]
    r"|<\s*[A-Za-z_][\w .-]{0,60}>"  # <first_name>, <COMPANY NAME>
    r"|%[A-Z][A-Z_]{2,40}%"  # %FIRST_NAME%
)
_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"[^\W\d_]")
# A host name: labels of letters (any script), digits and hyphens, then a top-level domain
# checked against the IANA list; not part of a longer word, address or dotted run.
_HOST = r"((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+([^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}))"
_BARE_HOST = re.compile(r"(?<![\w@.-])" + _HOST + r"(?![\w-]|\.[^\W_])", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+'-]+@" + _HOST + r"(?![\w-]|\.[^\W_])", re.IGNORECASE)
_TLDS = frozenset(t.lower() for t in TLDS)

# A run this long copied from the reply is more than quoting a phrase back.
ECHO_WORDS = 10
# Language is only judged on enough letters, and only between two confident guesses.
_LANGUAGE_MIN_LETTERS = 24
_LANGUAGE_MIN_PROB = 0.9


@dataclass(frozen=True)
class GuardPolicy:
    """Everything the rules compare the text with, read from the workspace, the lead and the
    thread when the check runs (so a setting changed since the decision applies at send)."""

    channel: str  # "email" or "sms"
    reply_text: str
    booking_hosts: frozenset[str] = frozenset()  # punycode, lower case
    allowed_domains: frozenset[str] = frozenset()  # punycode, lower case; subdomains too
    own_emails: frozenset[str] = frozenset()  # the sender's and the lead's, lower case
    own_phones: frozenset[str] = frozenset()  # E.164
    allow_pricing: bool = False
    max_chars: int = DEFAULT_MAX_CHARS["email"]
    phone_region: str = "US"  # for numbers written without a country code
    instructions: frozenset[tuple[str, ...]] = frozenset()  # our prompts' word runs


@dataclass(frozen=True)
class Finding:
    rule: Rule
    detail: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.detail})"


def normalise(text: str) -> str:
    """What a reader sees: compatibility forms folded, invisible characters gone."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _DEFANGED_DOT.sub(".", folded)


def ascii_host(host: str) -> str:
    """A host as DNS sees it (IDNA/punycode, lower case, no trailing dot); an invalid one is
    returned folded as it is, so it can never equal an allowed host."""
    host = normalise(host).strip().rstrip(".").lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return host


def phone_key(number: str, region: str = "US") -> str | None:
    try:
        parsed = phonenumbers.parse(normalise(number), region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def word_runs(text: str, size: int = ECHO_WORDS) -> frozenset[tuple[str, ...]]:
    words = _words(text)
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def check(text: str, policy: GuardPolicy) -> tuple[Finding, ...]:
    """Every rule the text breaks, in the order of `RULES`; empty when it may go out."""
    found: list[Finding] = []
    clean = normalise(text)
    rest = clean  # the text with links and addresses blanked, for the later rules
    outside_links: list[str] = []
    outside_emails: list[str] = []
    # Links with a scheme through linkify (its URL grammar), then addresses and bare domains
    # ("evil.com/pay") by one pattern each, each blanked once found so nothing counts twice.
    for match in _linkify().match(clean) or ():
        rest = _blank(rest, match.index, match.last_index)
        if match.schema.lower() == "mailto:":
            address = match.url[len("mailto:") :].split("?", 1)[0].lower()
            if address not in policy.own_emails:
                outside_emails.append(address)
            continue
        host = ascii_host(_host(match.url))
        if host not in policy.booking_hosts and not _allowed(host, policy.allowed_domains):
            outside_links.append(host)
    for found_email in _EMAIL.finditer(rest):
        if _is_tld(found_email[2]):
            rest = _blank(rest, found_email.start(), found_email.end())
            address = found_email[0].lower()
            if address not in policy.own_emails:
                outside_emails.append(address)
    for found_host in _BARE_HOST.finditer(rest):
        if _is_tld(found_host[2]):
            rest = _blank(rest, found_host.start(), found_host.end())
            host = ascii_host(found_host[1])
            if host not in policy.booking_hosts and not _allowed(host, policy.allowed_domains):
                outside_links.append(host)
    if outside_links:
        found.append(Finding("link", "a link to " + _listed(outside_links)))

    outside_phones = [
        m.raw_string
        for m in phonenumbers.PhoneNumberMatcher(
            rest, policy.phone_region, leniency=phonenumbers.Leniency.POSSIBLE
        )
        if _looks_dialable(m.raw_string)
        and phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
        not in policy.own_phones
    ]
    if outside_emails or outside_phones:
        outside = _listed(outside_emails + outside_phones)
        found.append(Finding("contact", f"contact details {outside}"))

    if not policy.allow_pricing and (price := _PRICING.search(rest)):
        found.append(Finding("pricing", repr(price[0].strip().rstrip(".,"))))
    if placeholder := _PLACEHOLDER.search(rest):
        found.append(Finding("placeholder", f"{placeholder[0]!r} left unfilled"))
    if mismatch := _language_mismatch(rest, normalise(policy.reply_text)):
        found.append(Finding("language", mismatch))
    if len(text) > policy.max_chars:
        found.append(
            Finding(
                "length",
                f"{len(text):,} characters, over the {policy.channel} limit of "
                f"{policy.max_chars:,}",
            )
        )
    if echoed := _echo(clean, policy):
        found.append(Finding("echo", echoed))
    return tuple(found)


def reason(findings: Iterable[Finding]) -> str:
    return "the outbound guard stopped it: " + "; ".join(str(f) for f in findings)


# -- helpers ---------------------------------------------------------------------------------


@cache
def _linkify() -> LinkifyIt:
    # Only links with a scheme: its fuzzy search for bare domains costs most of a check, and
    # the patterns below find those (and addresses) in a tenth of the time.
    return LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})


@cache
def _two_letter_tld() -> re.Pattern[str]:
    return re.compile(_linkify().tlds_2ch_src_re)


def _is_tld(name: str) -> bool:
    """Any IANA top-level domain (linkify's list and its country codes), or an IDN one."""
    lowered = name.lower()
    if lowered.startswith("xn--") or lowered in _TLDS:
        return True
    return len(lowered) == 2 and _two_letter_tld().fullmatch(lowered) is not None


def _looks_dialable(raw: str) -> bool:
    """Written as a phone number is: "1000000 users" is a count, "+1 415…", "(312) 555-…" or
    ten digits in a row are numbers to call. Fictional ranges count: the text is the risk."""
    digits = sum(ch.isdigit() for ch in raw)
    return raw.lstrip().startswith("+") or digits >= 10 or any(ch in raw for ch in " -.()/")


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


@cache
def _identifier() -> LanguageIdentifier:
    # The model ships inside the wheel; loaded once per process, never downloaded.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _host(url: str) -> str:
    after_scheme = url.split("//", 1)[1] if "//" in url else url
    authority = re.split(r"[/?#]", after_scheme, maxsplit=1)[0]
    host = authority.rsplit("@", 1)[-1]  # user:pass@host
    if host.startswith("["):
        return host  # an IPv6 literal is never an allowed host
    return host.split(":", 1)[0]


def _allowed(host: str, domains: frozenset[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _listed(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    shown = ", ".join(unique[:3])
    return shown + (f" and {len(unique) - 3} more" if len(unique) > 3 else "")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _letters(text: str) -> int:
    return len(_LETTER.findall(text))


def _language_mismatch(draft: str, reply: str) -> str | None:
    """Both texts long enough and each confidently in one language, and they differ."""
    if _letters(draft) < _LANGUAGE_MIN_LETTERS or _letters(reply) < _LANGUAGE_MIN_LETTERS:
        return None
    identify = _identifier().classify
    draft_lang, draft_p = identify(draft)
    if draft_p < _LANGUAGE_MIN_PROB:
        return None
    reply_lang, reply_p = identify(reply)
    if reply_p < _LANGUAGE_MIN_PROB or reply_lang == draft_lang:
        return None
    return f"the draft reads as {draft_lang!r}, the lead wrote in {reply_lang!r}"


def _echo(draft: str, policy: GuardPolicy) -> str | None:
    runs = word_runs(draft)
    if not runs:
        return None
    if runs & word_runs(normalise(policy.reply_text)):
        return f"{ECHO_WORDS}+ words of the lead's reply copied back"
    if runs & policy.instructions:
        return "our own instructions copied into the draft"
    return None
