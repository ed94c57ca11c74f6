"""The deterministic opt-out check: each language's phrases found, ordinary replies left alone."""

from __future__ import annotations

import pytest

from sender_service.pipeline.opt_out import opt_out_in


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Unsubscribe", "English"),
        ("please REMOVE ME from this", "English"),
        ("Stop e-mailing me.", "English"),
        ("stop emailing me", "English"),
        ("Take me off your list!", "English"),
        ("I'm not interested, thanks", "English"),
        ("Don't contact me again", "English"),
        ("Please opt-out this address", "English"),
        ("Quiero darme de baja", "Spanish"),
        ("No me interesa, gracias", "Spanish"),
        ("Dejen de enviar correos", "Spanish"),
        ("No estoy interesada.", "Spanish"),
        ("Merci de me désabonner", "French"),
        ("Retirez-moi de votre liste", "French"),
        ("Arrêtez de m'envoyer des e-mails", "French"),
        ("Ça ne m'intéresse pas", "French"),
        ("Bitte abmelden", "German"),
        ("Bitte austragen.", "German"),
        ("Hören Sie auf, mir zu schreiben", "German"),
        ("Keine E-Mails mehr bitte", "German"),
        ("Kein Interesse.", "German"),
        ("Quero descadastrar", "Portuguese"),
        ("Me remova da lista", "Portuguese"),
        ("Parem de me enviar e-mails", "Portuguese"),
        ("Não estou interessado", "Portuguese"),
        ("Sem interesse, obrigado", "Portuguese"),
    ],
)
def test_opt_out_phrases_are_found_in_every_language(text: str, language: str) -> None:
    found = opt_out_in(text)
    assert found is not None and found.language == language


@pytest.mark.parametrize(
    "text",
    [
        "Sounds interesting, can we talk Tuesday?",
        "I'm interested — send me the deck.",
        "Can you remove meeting notes from the invite?",
        "Let's stop by your booth next week.",
        "Estoy muy interesado, hablemos el martes.",
        "Je suis intéressé, appelez-moi.",
        "Wir sind interessiert, bitte melden Sie sich.",
        "Tenho interesse, vamos conversar.",
        "Busy right now, reach out next quarter.",
        "",
    ],
)
def test_ordinary_replies_are_not_opt_outs(text: str) -> None:
    assert opt_out_in(text) is None
