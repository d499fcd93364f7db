"""A participant in a German workshop gets the refusals in German; what they type is kept as typed."""

from __future__ import annotations

import pytest

from facilitation import i18n, throttle
from facilitation import workshops as W


def _german_room(store):
    ws, _ = W.create_workshop(store, title="Raum", agenda_plan=[("over_the_wall", 5)], language="de")
    return ws


def test_an_empty_name_on_join_is_refused_in_german(store):
    ws = _german_room(store)
    with pytest.raises(W.WorkshopInputError) as refused:
        W.join_workshop(store, ws.code, "", ws.functions[0])
    assert refused.value.problems["display_name"] == "Ihr Name ist leer. Bitte schreiben Sie etwas."


def test_a_missing_function_and_a_too_long_name_are_refused_in_german(store):
    ws = _german_room(store)
    with pytest.raises(W.WorkshopInputError) as refused:
        W.join_workshop(store, ws.code, "x" * 61, "Keine Funktion")
    assert refused.value.problems["function"] == "Bitte wählen Sie Ihre Funktion aus der Liste."
    assert refused.value.problems["display_name"].startswith("Ihr Name")
    assert "61" in refused.value.problems["display_name"] and "60" in refused.value.problems["display_name"]


def test_an_english_room_keeps_its_english_refusals(store):
    ws, _ = W.create_workshop(store, title="Room", agenda_plan=[("over_the_wall", 5)])
    with pytest.raises(W.WorkshopInputError) as refused:
        W.join_workshop(store, ws.code, "", "Nobody")
    assert refused.value.problems == {"display_name": "Your name is empty. Please write something.",
                                      "function": "Please choose your function from the list."}


def test_the_typed_name_is_kept_exactly_in_a_german_room(store):
    ws = _german_room(store)
    typed = "  Zoë *fett* <b>Ünal</b> _x_ "
    joined = W.join_workshop(store, ws.code, typed, ws.functions[0])
    assert joined.display_name in (typed, typed.strip())
    assert "*fett*" in joined.display_name and "<b>Ünal</b>" in joined.display_name


@pytest.mark.parametrize("language, wait, expected", [
    ("de", 1, "drücken Sie in 1 Sekunde erneut auf Beitreten"),
    ("de", 75, "drücken Sie in 75 Sekunden erneut auf Beitreten"),
    ("fr", 3, "Rejoindre dans 3 secondes"),
    ("es", 3, "dentro de 3 segundos"),
    ("en", 1, "press Join again in 1 second. Your name"),
])
def test_the_join_throttle_speaks_the_room_language(language, wait, expected):
    message = throttle.too_many_joins(wait, i18n.translator(language).ngettext)
    assert expected in message and "{n}" not in message
