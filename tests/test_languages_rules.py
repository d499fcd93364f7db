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


def test_a_send_after_time_is_up_is_refused_in_german_on_the_phone(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    from facilitation.store import get_store
    from test_languages import _run
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    db = get_store(url)
    ws, _key = W.create_workshop(db, title="Zeit", language="de", agenda_plan=[("over_the_wall", 15)])
    ana = W.join_workshop(db, ws.code, "Ana", ws.functions[0])
    W.open_exercise(db, ws.id, 0)
    at = _run("pages/participate.py", code=ws.code, p=ana.token)
    assert not at.exception
    W.close_exercise(db, ws.id, 0)  # the facilitator closes it while Ana's form is open
    next(b for b in at.button if b.label == "Senden").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("Nicht gesendet" in e for e in errors), errors
    assert not [e for e in errors if "Not sent" in e or "Please" in e]


def test_the_time_up_and_round_refusals_are_whole_translated_sentences(store):
    ws = _german_room(store)
    ana = W.join_workshop(store, ws.code, "Ana", ws.functions[0])
    early = W.submit_story(store, ana, "over_the_wall", {}, "k-1")
    assert i18n.translator("de").gettext(early.problems["_form"]).startswith("Noch keine Übung ist geöffnet")
    W.open_exercise(store, ws.id, 0, clock=lambda: 0.0)  # opened long ago: its 5 minutes are over
    late = W.submit_story(store, ana, "over_the_wall", {}, "k-2")
    assert i18n.translator("de").gettext(late.problems["_form"]).startswith("Nicht gesendet: Die Zeit für diese Übung")


def test_a_german_commitment_goes_to_the_calendar_and_the_email_in_german(store):
    import datetime as dt
    import icalendar
    from facilitation import follow_up
    from test_follow_up import KEY, commit
    ws, _ = W.create_workshop(store, title="Übergaben", agenda_plan=[(KEY, 10)], language="de",
                              held_on=dt.date(2026, 11, 2))
    ana = W.join_workshop(store, ws.code, "Ana", ws.functions[0])
    W.open_exercise(store, ws.id, 0)
    typed = "Den *Go-live*-Termin <b>notieren</b>"
    commit(store, ws, ana, typed, ws.functions[1], "2027-01-15")
    follow_up.set_status(store, ana, follow_up.commitments(store, ws.id, ana.id)[0].id, "partly", "halb :red[fertig]")
    mine = follow_up.commitments(store, ws.id, ana.id)
    event = icalendar.Calendar.from_ical(follow_up.commitment_ics(ws, mine, lambda c: "https://h/p")).walk("VEVENT")[0]
    assert str(event["summary"]) == f"Zusage: {typed}"  # the typed text exactly, around it German
    description = str(event["description"])
    assert "Aus dem Workshop: Übergaben" in description and "Stand: Teilweise erledigt — halb :red[fertig]" in description
    assert str(event.walk("VALARM")[0]["description"]) == f"Morgen: {typed}"
    mail = follow_up.email_text(ws, mine[0], "https://h/p").splitlines()
    assert mail[0] == f"Betreff: Meine Zusage aus Übergaben: {typed}" and mail[2] == "Guten Tag,"
    assert "Bei Übergaben habe ich mir einen kleinen Schritt vorgenommen, bis zum 15. Januar 2027:" in mail
    assert f"    {typed}" in mail and "Stand der Dinge: Teilweise erledigt — halb :red[fertig]" in mail
    assert not [line for line in mail if "\u2060" in line]
