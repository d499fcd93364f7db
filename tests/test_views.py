"""Room views: every exercise file's view resolves, and a new view is one module per side that
registers itself — the projector and the Word report draw it with no other file edited."""

from __future__ import annotations

import io
import sys
import textwrap

import docx
import pytest

import facilitation.views as views
import pages.views as projector_views
from facilitation import exercises, report, workshops as W
from streamlit_browser import screen_for
from test_pages import all_text, app_db, run_page  # noqa: F401  (app_db is a fixture)


def test_every_exercise_file_picks_a_registered_view():
    for path in sorted(exercises.EXERCISES_DIR.glob("*.toml")):
        ex = exercises.load_exercise_file(path)
        for name in (ex.room_view, ex.report_view):
            assert views.known(name), (path.name, name)
            assert projector_views.layout(views.get(name).name) is not None


def test_an_unknown_view_name_falls_back_to_the_wall_and_a_file_naming_one_is_refused():
    """An old archive's exercise may name a view this version no longer has: it gets the wall."""
    assert views.get("gone since 2025").name == "wall"
    assert projector_views.layout("gone since 2025") is projector_views.layout("wall")
    assert views.get("handoffs").name == "map"  # the report's older name for the journey map
    data = {"title": "T", "question": "Q?", "purpose": "P", "minutes": 5, "notes": {"say": "s", "debrief": "d"},
            "fields": [{"name": "answer", "kind": "short_text", "label": "Answer"}],
            "room": {"view": "no_such_view", "headline": "answer"}, "report": {"view": "wall"}}
    with pytest.raises(exercises.ExerciseFileError, match="room.view 'no_such_view' is not one of .*by_function"):
        exercises.parse_exercise(data, "t.toml", "t")


FACILITATION_SIDE = '''
"""Loudest: the stories shouted in capitals, longest first."""
from facilitation.views import View, register


@register
class Loudest(View):
    name = "loudest"

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        return sorted((s.answers[exercise.headline].upper() for s in stories), key=len, reverse=True)

    def stories_section(self, w, ctx, exercise, stories):
        w.heading("Shouted in the room", 2)
        for line in self.shape(stories, exercise, snapshot=None, labelled=set(), show_names=False):
            w.paragraph("LOUD: " + line)
'''

PAGES_SIDE = '''
"""Loudest on the projector and on the phone."""
import streamlit as st

from pages.views import register


@register("loudest")
def loudest(screen, shouted):
    for i, line in enumerate(shouted):
        st.text(f"{i + 1}. {line}")


@register("loudest", phone=True)
def loudest_phone(workshop, participant, item, exercise):
    st.text(f"{participant.display_name}, shout it!")
'''

LOUD_EXERCISE = {
    "title": "Loud stories", "question": "What did the customer shout?", "purpose": "Hear it.", "minutes": 5,
    "notes": {"say": "Say it loud.", "debrief": "Who heard?"},
    "fields": [{"name": "shout", "kind": "short_text", "label": "The shout"}],
    "room": {"view": "loudest", "headline": "shout"}, "report": {"view": "loudest"},
}


@pytest.fixture
def loud_view(tmp_path, monkeypatch):
    """A view that exists only in a temporary folder: one module per side, nothing else edited."""
    for package, source in ((views, FACILITATION_SIDE), (projector_views, PAGES_SIDE)):
        folder = tmp_path / package.__name__.replace(".", "_")
        folder.mkdir()
        (folder / "loudest.py").write_text(textwrap.dedent(source), encoding="utf-8")
        monkeypatch.setattr(package, "__path__", [*package.__path__, str(folder)])
    load = exercises.load_library
    monkeypatch.setattr(exercises, "load_library", lambda: {
        **load(), "loud": exercises.parse_exercise(LOUD_EXERCISE, "loud.toml", "loud")})
    exercises.library.cache_clear()
    yield
    exercises.library.cache_clear()
    for package in (views, projector_views):
        package._scan.found.discard("loudest")
        sys.modules.pop(f"{package.__name__}.loudest", None)
    views._views.pop("loudest", None)
    projector_views._layouts.pop("loudest", None)
    projector_views._phone.pop("loudest", None)


def test_a_new_view_is_one_module_per_side(app_db, loud_view):
    workshop, key = W.create_workshop(app_db, title="Loud", agenda_plan=[("loud", 5)])
    ana = W.join_workshop(app_db, workshop.code, "Ana", "Sales")
    ben = W.join_workshop(app_db, workshop.code, "Ben", "Support")
    W.open_exercise(app_db, workshop.id, 0)
    W.submit_story(app_db, ana, "loud", {"shout": "where is my invoice"}, "loud-1")
    W.submit_story(app_db, ben, "loud", {"shout": "it works"}, "loud-2")

    projector = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code))
    assert not projector.exception, projector.exception
    texts = [t.value for t in projector.text]
    assert texts.index("1. WHERE IS MY INVOICE") < texts.index("2. IT WORKS")

    phone = run_page("pages/participate.py", code=workshop.code, p=ana.token)
    assert not phone.exception, phone.exception
    assert "Ana, shout it!" in all_text(phone)

    document = docx.Document(io.BytesIO(report.build_report(W.snapshot(app_db, workshop.id), include_map_image=False,
                                                            appendix=False)))
    paragraphs = [p.text for p in document.paragraphs]
    chapter = paragraphs[paragraphs.index("Loud stories"):]
    assert "Shouted in the room" in chapter
    assert chapter.index("LOUD: WHERE IS MY INVOICE") < chapter.index("LOUD: IT WORKS")
