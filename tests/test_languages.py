"""The room's own language: catalogues, exercise translations, the stored language, German screens and report."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from docx import Document
from streamlit.testing.v1 import AppTest

from facilitation import archive, exercises, i18n, report
from facilitation import workshops as W
from facilitation.store import Store, get_store
from streamlit_browser import screen_for

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
SHIPPED = ("de", "fr", "es")


def _catalogue(path: Path):
    with path.open("rb") as f:
        return read_po(f)


# --- catalogues -------------------------------------------------------------------------------------

def test_the_template_is_what_pybabel_extracts_from_the_code_today(tmp_path):
    fresh = tmp_path / "fresh.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_",
                    "-k", "_np:1,2", "-k", "N_np:1,2", "--no-location", "--omit-header", "-o", str(fresh), "."],
                   cwd=ROOT, check=True, capture_output=True)
    ids = lambda c: {m.id for m in c if m.id}
    assert ids(_catalogue(fresh)) == ids(_catalogue(ROOT / "locale" / "story_relay.pot")), \
        "locale/story_relay.pot is out of date: run the pybabel extract command in facilitation/i18n.py"


@pytest.mark.parametrize("code", SHIPPED)
def test_every_message_is_translated_in_the_shipped_languages(code):
    template = _catalogue(ROOT / "locale" / "story_relay.pot")
    po = _catalogue(ROOT / "locale" / code / "LC_MESSAGES" / "story_relay.po")
    untranslated = []
    for m in template:
        if not m.id:
            continue
        t = po.get(m.id)
        strings = (t.string if isinstance(t.string, (tuple, list)) else (t.string,)) if t else ("",)
        if t is None or t.fuzzy or not all(strings):
            untranslated.append(m.id)
        elif isinstance(m.id, str):  # the same {placeholders}, or .format() would fail on the phone
            assert sorted(__import__("re").findall(r"\{\w+\}", m.id)) == sorted(
                __import__("re").findall(r"\{\w+\}", t.string)), (code, m.id)
    assert untranslated == []


def test_adding_a_language_is_adding_a_po_file(tmp_path):
    folder = tmp_path / "locale" / "it" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "story_relay.po").write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                                           'msgid "Join"\nmsgstr "Partecipa"\n', encoding="utf-8")
    offered = i18n.languages(tmp_path / "locale")
    assert offered["it"] == "Italiano"
    assert i18n.translator("it", tmp_path / "locale").gettext("Join") == "Partecipa"
    assert i18n.translator("it", tmp_path / "locale").gettext("Send") == "Send"  # untranslated: English
    assert set(SHIPPED) <= set(i18n.languages())


def test_dates_and_numbers_follow_the_language():
    day = dt.date(2026, 12, 2)
    assert i18n.format_date(day, "de") == "2. Dezember 2026"
    assert i18n.format_date(day, "fr") == "2 décembre 2026"
    assert i18n.format_date(day, "es") == "2 de diciembre de 2026"
    assert i18n.format_number(12345, "de") == "12.345"
    assert i18n.format_number(12345, "en") == "12,345"
    assert i18n.format_date(day, "en") == "2 December 2026"


# --- exercise translations -------------------------------------------------------------------------

def _exercise_data(**translations) -> dict:
    return {"title": "Test", "question": "Q?", "purpose": "P.", "minutes": 5, "notes": {"say": "s", "debrief": "d"},
            "fields": [{"name": "a", "kind": "short_text", "label": "Label A", "help": "Help A"},
                       {"name": "b", "kind": "choice", "label": "Label B", "options": ["Yes", "No"]}],
            "room": {"view": "wall", "headline": "a"}, "report": {"view": "by_function"},
            "translations": translations}


def test_a_translation_falls_back_to_english_field_by_field():
    ex = exercises.parse_exercise(_exercise_data(de={"title": "Prüfung", "fields": {
        "a": {"label": "Feld A"}, "b": {"options": ["Ja", "Nein"]}}}), "t.toml", "t")
    de = exercises.in_language(ex, "de")
    assert (de.title, de.question) == ("Prüfung", "Q?")
    assert (de.field("a").label, de.field("a").help) == ("Feld A", "Help A")
    assert de.field("b").label == "Label B"
    assert de.field("b").options == ("Yes", "No")  # what is stored stays English
    assert de.field("b").option_label("No") == "Nein"
    french = exercises.in_language(ex, "fr")  # no French table: English texts, but a French room around them
    assert (french.title, french.field("a").label, french.language) == (ex.title, ex.field("a").label, "fr")
    assert exercises.in_language(ex, None) is ex


@pytest.mark.parametrize("bad, message", [
    ({"de": {"tittle": "x"}}, "unknown key 'tittle'"),
    ({"de": {"fields": {"zzz": {"label": "x"}}}}, "no field 'zzz'"),
    ({"de": {"fields": {"a": {"lable": "x"}}}}, "unknown key 'lable'"),
    ({"de": {"fields": {"b": {"options": ["Ja"]}}}}, "each of the field's 2 options"),
    ({"Deutsch": {"title": "x"}}, "not a language code"),
])
def test_a_bad_translation_is_refused_with_the_place(bad, message):
    with pytest.raises(exercises.ExerciseFileError, match=message):
        exercises.parse_exercise(_exercise_data(**bad), "t.toml", "t")


@pytest.mark.parametrize("code", SHIPPED)
def test_every_shipped_exercise_is_translated_for_the_room(code):
    for ex in exercises.library().values():
        table = ex.translations[code]
        assert {"title", "question", "purpose"} <= table.keys(), (ex.key, code)
        assert {f.name for f in ex.fields} == set(table["fields"]), (ex.key, code)
        for f in ex.fields:
            # every text the English field shows on the phone has its translation (a new field or a new
            # help line in English only would leave an English sentence on a German phone)
            shown = {"label": f.label, "help": f.help, "placeholder": f.placeholder, "low": f.scale_low,
                     "high": f.scale_high, "options": f.options}
            assert {k for k, v in shown.items() if v} <= set(table["fields"][f.name]), (ex.key, code, f.name)
            if f.options:
                assert len(table["fields"][f.name]["options"]) == len(f.options)
        if ex.rounds:
            assert [set(r) for r in table["rounds"]] == [{"title"}] * len(ex.rounds), (ex.key, code)
        if ex.phases:
            assert [set(p) for p in table["phases"]] == [{k for k in ("title", "prompt", "teller", "listener")
                                                          if getattr(step, k)} for step in ex.phases], (ex.key, code)


def test_rounds_and_phases_are_shown_in_the_room_language_with_english_where_left_out():
    ex = exercises.library()["always_be_storytelling"]
    de = exercises.in_language(ex, "de")
    assert de.rounds[0].title == "Was ein Kunde gesagt hat"
    assert [r.fields for r in de.rounds] == [r.fields for r in ex.rounds]  # the rounds' fields stay the same
    pairs = exercises.library()["retrace_the_steps"]
    fr = exercises.in_language(pairs, "fr")
    assert fr.phases[1].title == "La raconter à l'envers" and fr.phases[1].minutes == pairs.phases[1].minutes
    data = _exercise_data(de={"title": "x"})
    data["rounds"] = [{"title": "One", "fields": ["a"]}, {"title": "Two", "fields": ["b"]}]
    data["translations"]["de"]["rounds"] = [{"title": "Eins"}, {}]
    parsed = exercises.in_language(exercises.parse_exercise(data, "t.toml", "t"), "de")
    assert [r.title for r in parsed.rounds] == ["Eins", "Two"]
    data["translations"]["de"]["rounds"] = [{"title": "Eins"}]
    with pytest.raises(exercises.ExerciseFileError, match="one table for each of the exercise's 2 rounds"):
        exercises.parse_exercise(data, "t.toml", "t")
    data["translations"]["de"]["rounds"] = [{"title": "Eins"}, {"titel": "Zwei"}]
    with pytest.raises(exercises.ExerciseFileError, match="unknown key 'titel'"):
        exercises.parse_exercise(data, "t.toml", "t")


# --- the stored language ----------------------------------------------------------------------------

def test_an_older_sqlite_database_gets_the_language_column(tmp_path):
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    first = Store(url)
    ws, _ = W.create_workshop(first, title="Before languages", agenda_plan=[("over_the_wall", 5)])
    with first.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE workshops DROP COLUMN language")
    first.dispose()
    again = Store(url)
    assert W.get_workshop(again, ws.id).language == "en"
    made, _ = W.create_workshop(again, title="After", agenda_plan=[("over_the_wall", 5)], language="de")
    assert W.get_workshop(again, made.id).language == "de"
    again.dispose()


def test_the_language_is_archived_and_old_archives_are_english(store):
    ws, _ = W.create_workshop(store, title="Archiv", agenda_plan=[("over_the_wall", 5)], language="de")
    data = json.loads(archive.archive_json(store, ws.id))
    assert data["tables"]["workshops"][0]["language"] == "de" if "tables" in data else True
    W.delete_workshop(store, ws.id) if hasattr(W, "delete_workshop") else None
    restored = archive.import_archive(store, json.dumps(data).encode()).workshop
    assert restored.language == "de"
    for rows in (data.get("tables") or data).values():
        if isinstance(rows, list) and rows and isinstance(rows[0], dict) and "language" in rows[0]:
            del rows[0]["language"]
    assert archive.import_archive(store, json.dumps(data).encode()).workshop.language == "en"


def test_a_workshop_refuses_a_language_this_server_has_not(store):
    with pytest.raises(W.WorkshopInputError) as exc:
        W.create_workshop(store, title="X", agenda_plan=[("over_the_wall", 5)], language="xx")
    assert "language" in exc.value.problems


# --- German screens and report ----------------------------------------------------------------------

@pytest.fixture
def german_room(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    db = get_store(url)
    ws, key = W.create_workshop(db, title="Kundenreise", held_on=dt.date(2026, 12, 2), language="de",
                                agenda_plan=[("over_the_wall", 15)])
    ana = W.join_workshop(db, ws.code, "Ana", "Vertrieb")  # a German room proposes German function names
    W.open_exercise(db, ws.id, 0)
    W.submit_story(db, ana, "over_the_wall", {
        "stage": "Verkauf", "promise": "Live in two weeks, thank you", "experience": "Six weeks",
        "next_function": "Implementierung", "lost": "The import template", "gap": 4}, "de-1")
    return db, ws, key, ana


def _run(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(query)
    at.run()
    at.switch_page(page)
    at.query_params.update(query)
    at.run()
    return at


def _text(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("text", "markdown", "header", "subheader", "caption", "title")
                     for e in getattr(at, kind) if isinstance(e.value, str))


def test_a_german_phone_is_in_german_and_the_story_is_untouched(german_room):
    db, ws, _key, ana = german_room
    at = _run("pages/participate.py", code=ws.code, p=ana.token)
    assert not at.exception
    text = _text(at)
    assert "Über die Mauer" in text and "Was Sie gesendet haben (1)" in text
    assert "Live in two weeks, thank you" in text  # what Ana typed, not translated
    assert any(b.label == "Senden" for b in at.button)
    assert any(s.label == "Für welche Phase im Leben des Kunden sind Sie zuständig?" for s in at.selectbox)


def test_a_german_projector_is_in_german(german_room):
    db, ws, _key, _ana = german_room
    at = _run("pages/projector.py", code=ws.code, screen=screen_for(ws.code))
    assert not at.exception
    text = _text(at)
    assert "Über die Mauer" in text and "1 Geschichte aus 1 Funktion · 1 im Raum" in text
    assert "Live in two weeks, thank you" in text or "Six weeks" in text


def test_german_cards_are_grouped_under_the_german_name_of_each_kind(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    db = get_store(url)
    ws, _key = W.create_workshop(db, title="Die halbe Geschichte", language="de", agenda_plan=[("half_the_story", 15)])
    ana = W.join_workshop(db, ws.code, "Ana", "Vertrieb")
    W.open_exercise(db, ws.id, 0)
    assert W.submit_story(db, ana, "half_the_story", {"number": "Verlängerungsquote 87 %", "number_kind": "Revenue",
                                                      "why_bought": "Ihr alter Anbieter", "why_stay": "Der Support"},
                          "de-cards").ok
    at = _run("pages/projector.py", code=ws.code, screen=screen_for(ws.code))
    assert not at.exception
    groups = [t.value for t in at.text if t.value in ("Umsatz", "Revenue")]
    assert groups == ["Umsatz"]  # the stored option is "Revenue"; the room reads its German name
    doc = Document(io.BytesIO(report.build_report(W.snapshot(db, ws.id), include_map_image=False)))
    assert "Umsatz · 1 Karte" in [p.text for p in doc.paragraphs]


def test_a_german_report_is_in_german_with_german_dates(german_room):
    db, ws, _key, _ana = german_room
    doc = Document(io.BytesIO(report.build_report(W.snapshot(db, ws.id), include_map_image=False)))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "Zusammenfassung" in text and "Datum: 2. Dezember 2026" in text
    assert "Über die Mauer" in text and "Der Workshop" in text
    assert "Live in two weeks, thank you" in text
    assert "Summary" not in text.split("\n")
    # The footer around the page numbers, and what the file says it is, in German too.
    footer = doc.sections[-1].footer.paragraphs[0]
    assert [r.text for r in footer.runs if r.text.strip() and not r.text.strip().isdigit()] == [
        "Story Relay – Workshop-Bericht · Seite ", " von "]
    assert doc.core_properties.subject.startswith("Story Relay – Workshop-Bericht")


def test_a_german_phone_paces_its_rounds_and_refuses_in_german(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    db = get_store(url)
    ws, _key = W.create_workshop(db, title="Runden", language="de", agenda_plan=[("always_be_storytelling", 15)])
    ana = W.join_workshop(db, ws.code, "Ana", "Vertrieb")
    W.open_exercise(db, ws.id, 0)
    at = _run("pages/participate.py", code=ws.code, p=ana.token)
    assert not at.exception
    text = _text(at)
    assert "Runde 1 von 3 · Was ein Kunde gesagt hat" in text
    send = next(b for b in at.button if b.label == "Runde 1 senden")
    send.click().run()  # nothing typed: the refusal is German too
    assert not at.exception
    assert any("ist leer" in e.value or "Bitte wählen Sie" in e.value for e in at.error), [e.value for e in at.error]
    assert not [e.value for e in at.error if "Please" in e.value]


def test_a_new_workshop_proposes_functions_and_stages_in_its_language(store):
    german, _ = W.create_workshop(store, title="Kundenreise", agenda_plan=[("over_the_wall", 5)], language="de")
    english, _ = W.create_workshop(store, title="Journey", agenda_plan=[("over_the_wall", 5)])
    assert german.functions[:2] == ["Vertrieb", "Marketing"] and "Customer Success" in german.functions
    assert german.stages[0] == "Interessent" and "Verlängerung & Ausbau" in german.stages
    assert english.functions == W.DEFAULT_FUNCTIONS and english.stages == W.DEFAULT_STAGES
    for code in SHIPPED:  # every shipped language names every proposed function and stage
        assert len(set(W.default_functions(code))) == len(W.DEFAULT_FUNCTIONS)
        assert len(set(W.default_stages(code))) == len(W.DEFAULT_STAGES)
    typed, _ = W.create_workshop(store, title="Eigene", agenda_plan=[("over_the_wall", 5)], language="de",
                                 functions=["Sales", "Support"], stages=["Sale", "Renewal"])
    assert typed.functions == ["Sales", "Support"] and typed.stages == ["Sale", "Renewal"]  # as typed, never translated


def test_choosing_the_language_on_the_new_page_renames_only_untouched_proposals():
    at = AppTest.from_file(str(ROOT / "pages" / "new.py"), default_timeout=30)
    at.run()
    functions = next(a for a in at.text_area if a.label.startswith("Functions in the room"))
    stages = next(a for a in at.text_area if a.label.startswith("Lifecycle stages"))
    assert functions.value.splitlines()[0] == "Sales"
    stages.set_value("Erstkontakt\nVertrag\nBetrieb")  # the facilitator's own stages
    at.selectbox(key="new-language").select("fr").run()
    assert not at.exception
    functions = next(a for a in at.text_area if a.label.startswith("Functions in the room"))
    stages = next(a for a in at.text_area if a.label.startswith("Lifecycle stages"))
    assert functions.value.splitlines()[:2] == ["Ventes", "Marketing"]
    assert stages.value == "Erstkontakt\nVertrag\nBetrieb"
    at.selectbox(key="new-language").select("de").run()
    functions = next(a for a in at.text_area if a.label.startswith("Functions in the room"))
    assert functions.value.splitlines()[0] == "Vertrieb"
