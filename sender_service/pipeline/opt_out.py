"""A deterministic opt-out check: the phrases people use to say "stop", in five languages.

It runs before the auto-send gate and does not ask the LLM, so a reply that says
"unsubscribe" is never auto-answered even when the model reads it as positive. A match does
not opt the lead out by itself (a person decides: "not interested in X, but tell me about Y"
happens); it holds the draft for a person. No maintained library covers reply-intent phrases,
so this is a small table; the text is compared without case or accents.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class OptOut:
    phrase: str  # the table's phrase that matched, as written here
    language: str


# (language, phrases), without accents; apostrophes and hyphens are spaces, and a space in a
# phrase also matches none ("e mails" finds "emails", "e-mails" and "e mails"; "don t" finds
# "dont" and "don't"). Each phrase matches whole words only.
_PHRASES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    (
        "English",
        (
            "unsubscribe",
            "opt out",
            "remove me",
            "remove my email",
            "stop e mailing",
            "stop sending",
            "stop contacting",
            "take me off",
            "off your list",
            "off your mailing list",
            "do not contact",
            "don t contact",
            "do not email",
            "don t email",
            "no more e mails",
            "not interested",
        ),
    ),
    (
        "Spanish",
        (
            "darme de baja",
            "dar de baja",
            "denme de baja",
            "deme de baja",
            "cancelar suscripcion",
            "eliminarme",
            "elimineme",
            "borrarme",
            "quitarme de",
            "quitenme de",
            "sacarme de",
            "saquenme de",
            "dejen de escribir",
            "deje de escribir",
            "dejen de enviar",
            "deje de enviar",
            "no me escriba",
            "no me escriban",
            "no me interesa",
            "no nos interesa",
            "no estoy interesado",
            "no estoy interesada",
        ),
    ),
    (
        "French",
        (
            "desabonner",
            "desabonnez",
            "desabonnement",
            "desinscrire",
            "desinscrivez",
            "desinscription",
            "retirez moi",
            "supprimez moi",
            "enlevez moi",
            "arretez de m envoyer",
            "arretez de m ecrire",
            "arretez de me contacter",
            "ne plus recevoir",
            "ne m interesse pas",
            "ne nous interesse pas",
            "pas interesse",
            "pas interessee",
            "pas interesses",
        ),
    ),
    (
        "German",
        (
            "abmelden",
            "austragen",
            "abbestellen",
            "entfernen sie mich",
            "nehmen sie mich",
            "von ihrer liste",
            "von der liste",
            "keine e mails mehr",
            "keine mails mehr",
            "horen sie auf",
            "schreiben sie mir nicht",
            "kontaktieren sie mich nicht",
            "kein interesse",
            "nicht interessiert",
        ),
    ),
    (
        "Portuguese",
        (
            "descadastrar",
            "descadastre",
            "descadastro",
            "cancelar inscricao",
            "cancelar a inscricao",
            "remova me",
            "me remova",
            "me remover",
            "me tire da lista",
            "me tirem da lista",
            "tire me da lista",
            "parem de enviar",
            "pare de enviar",
            "parem de me enviar",
            "pare de me enviar",
            "nao me envie",
            "nao me enviem",
            "nao tenho interesse",
            "nao temos interesse",
            "nao estou interessado",
            "nao estou interessada",
            "sem interesse",
            "nao me interessa",
        ),
    ),
)


def _fold(text: str) -> str:
    """Lower case, accents dropped, apostrophes, hyphens and punctuation made spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def _pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"\b" + r"\s*".join(words) + r"\b")


_TABLE: Final[tuple[tuple[re.Pattern[str], OptOut], ...]] = tuple(
    (_pattern(phrase), OptOut(phrase, language))
    for language, phrases in _PHRASES
    for phrase in phrases
)


def opt_out_in(text: str | None) -> OptOut | None:
    """The first opt-out phrase the reply uses, or None."""
    if not text:
        return None
    folded = _fold(text)
    for pattern, found in _TABLE:
        if pattern.search(folded):
            return found
    return None


def hold_reason(found: OptOut) -> str:
    return (
        f'the reply reads as an opt-out ("{found.phrase}", {found.language}): never '
        "auto-sent; a person decides"
    )
