"""The exercise library: all seven files load in workshop order, and every page renders each of them.

For every exercise file a workshop is made with just that exercise, two people join and the
exercise is opened; the participant form must show every field's label, and after one valid
story (built generically from the field kinds) the projector and the console must render.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from facilitation import rounds, workshops as W
from facilitation.exercises import Exercise, Field, in_language, load_library
from facilitation.store import get_store
from streamlit_browser import screen_for

APP = Path(__file__).resolve().parent.parent / "app.py"
WORKSHOP_ORDER = [
    "over_the_wall",
    "what_actually_arrives",
    "always_be_storytelling",
    "retrace_the_steps",
    "half_the_story",
    "untold_retention_stories",
    "one_millimeter_forward",
]
LIBRARY = load_library()
WIDGET_KINDS = ("text_input", "text_area", "selectbox", "radio", "date_input", "multiselect",
                "slider", "select_slider", "number_input", "checkbox", "toggle")


def test_library_has_the_seven_exercises_in_workshop_order():
    assert list(LIBRARY) == WORKSHOP_ORDER
    orders = [e.order for e in LIBRARY.values()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


@pytest.mark.parametrize("key", list(LIBRARY))
def test_exercise_file_is_complete(key):
    """What the room and the console rely on: a question, notes, realistic minutes, labels."""
    e = LIBRARY[key]
    assert e.question.strip().endswith("?")
    assert e.say.strip() and e.debrief.strip() and e.purpose.strip()
    assert 10 <= e.minutes <= 20
    assert e.source
    assert e.headline in {f.name for f in e.fields}
    for f in e.fields:
        assert f.label.strip()
        if f.is_text:
            assert f.max_chars and len(f.placeholder) <= f.max_chars


# Short labels that are the same word in English and in the translation (a French "Action" is an action).
SAME_IN_TRANSLATION = {("fr", "Action")}


@pytest.mark.parametrize("key", list(LIBRARY))
def test_every_field_has_a_short_label_in_every_language(key):
    """The Word report's column headings and a card's line labels: short, and in the room's language."""
    e = LIBRARY[key]
    for f in e.fields:
        assert f.short_label.strip(), f"{key}.{f.name}: no short_label"
        assert len(f.short_label) <= 24, f"{key}.{f.name}: {f.short_label!r} is longer than 24 characters"
    for code in ("de", "fr", "es"):
        translated = in_language(e, code)
        for f, t in zip(e.fields, translated.fields):
            where = f"{key}.{f.name} ({code})"
            assert t.short_label.strip(), f"{where}: no short_label"
            assert len(t.short_label) <= 24, f"{where}: {t.short_label!r} is longer than 24 characters"
            assert t.short_label != f.short_label or (code, t.short_label) in SAME_IN_TRANSLATION, \
                f"{where}: {t.short_label!r} is still the English short label"


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """The app's database for this test: a fresh SQLite file, also used by the pages."""
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    return get_store(url)


def run_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    key = query.pop("key", None)
    if key is not None:  # signed in earlier in this browser session (the sign-in form; a key is never in the URL)
        at.session_state["facilitator_code"] = str(query.get("code", "")).upper()
        at.session_state["facilitator_key"] = key
    # A browser always sends its address (the projector builds the join link and QR from it);
    # AppTest sends none unless told, so give it the address a real visit would have.
    at.context = {"url": f"http://localhost:8501/{Path(page).stem}"}
    at.query_params.update(query)
    at.run()
    at.switch_page(page)
    at.query_params.update(query)
    at.run()
    return at


def widget_labels(at: AppTest) -> list[str]:
    return [w.label for kind in WIDGET_KINDS for w in getattr(at, kind)]


def all_text(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("text", "markdown", "title", "header", "subheader", "caption")
                     for e in getattr(at, kind) if isinstance(e.value, str))


def valid_answer(f: Field, workshop: W.Workshop, partner_name: str):
    """A value the server accepts for a field of this kind (a handoff: the one `live_exercise` sent to Sales)."""
    if f.kind == "handoff":
        return f"Support @ {workshop.stages[0]}"
    if f.is_text:
        return f"Test answer for {f.name}."[: f.max_chars]
    return {
        "function": lambda: workshop.functions[1 if f.not_own else 0],  # the teller is in the first function
        "stage": lambda: workshop.stages[0],
        "scale": lambda: min(max(3, f.scale_min), f.scale_max),
        "choice": lambda: f.options[0],
        "date": lambda: "2026-12-15",
        "partner": lambda: partner_name,
        "story_or_handoff": lambda: OTW_HANDOFF,
    }[f.kind]()


OTW_HANDOFF = "Handoff · Support → Implementation at Sale"


@pytest.fixture(params=list(LIBRARY))
def live_exercise(request, app_db):
    """A workshop with this exercise on the agenda, two people in the room, the exercise open. An exercise
    that names a story or handoff of the day comes after an Over the wall story to name."""
    exercise: Exercise = LIBRARY[request.param]
    # An exercise that answers another's handoffs runs after it: Ben (Support) hands a customer to Ana's Sales.
    # One that names a story or handoff of the day (a commitment) comes after an Over the wall story to name.
    serves = any(f.kind == "story_or_handoff" for f in exercise.fields)
    before = ([(exercise.receives_from, 10)] if exercise.receives_from else []) + [("over_the_wall", 10)] * serves
    workshop, key = W.create_workshop(app_db, title=f"Library test: {exercise.title}",
                                      agenda_plan=before + [(exercise.key, exercise.minutes)])
    ana = W.join_workshop(app_db, workshop.code, "Ana", "Sales")
    ben = W.join_workshop(app_db, workshop.code, "Ben", "Support")
    if exercise.receives_from:
        sender = LIBRARY[exercise.receives_from]
        W.open_exercise(app_db, workshop.id, 0)
        answers = {f.name: valid_answer(f, workshop, ana.display_name) for f in sender.fields if f.required}
        answers[sender.handoff["to_function"]] = "Sales"
        assert W.submit_story(app_db, ben, sender.key, answers, "library-sender").ok
    if serves:
        W.open_exercise(app_db, workshop.id, 0)
        assert W.submit_story(app_db, ben, "over_the_wall", {
            "stage": "Sale", "promise": "p", "experience": "e", "next_function": "Implementation", "lost": "l", "gap": 3},
            "library-otw").ok
    W.open_exercise(app_db, workshop.id, len(before))
    return exercise, workshop, key, ana, ben


def test_participant_form_shows_every_field(live_exercise):
    exercise, workshop, _, ana, _ = live_exercise
    at = run_page("pages/participate.py", code=workshop.code, p=ana.token)
    assert not at.exception, at.exception
    labels = widget_labels(at)
    for index in range(1, len(exercise.rounds)):  # a paced form shows the round the room is in
        rounds.set_round(get_store(), workshop.id, workshop.live_position or 0, index)
        at.run()
        labels += widget_labels(at)
    missing = [f.label for f in exercise.fields
               if (f.label if f.required else f"{f.label} (optional)") not in labels]
    assert not missing, f"labels not rendered for {exercise.key}: {missing} (rendered: {labels})"


def test_projector_and_console_render_a_story(live_exercise, app_db):
    exercise, workshop, key, ana, ben = live_exercise
    answers = {f.name: valid_answer(f, workshop, ben.display_name) for f in exercise.fields}
    result = W.submit_story(app_db, ana, exercise.key, answers, f"library-{exercise.key}")
    assert result.ok, result.problems

    projector = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code))
    assert not projector.exception, projector.exception
    headline = answers[exercise.headline]
    if isinstance(headline, str):
        assert headline in all_text(projector), "the headline answer should be on the wall"
    if exercise.glossary:  # the terminology wall: term and plain meaning, as text the back row can read
        term, meaning = (answers[name] for name in exercise.glossary)
        if exercise.guess_first:  # the meaning only once the room has guessed: put it up, reveal it
            assert meaning not in all_text(projector)
            if exercise.paced:
                rounds.set_round(app_db, workshop.id, 0, len(exercise.rounds) - 1)
            rounds.put_up_term(app_db, workshop.id, result.story.id)
            rounds.reveal_term(app_db, workshop.id, result.story.id)
            projector.run()
        assert term in all_text(projector) and meaning in all_text(projector)

    console = run_page("pages/console.py", code=workshop.code, key=key)
    assert not console.exception, console.exception
