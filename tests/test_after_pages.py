"""The after-the-room pages in AppTest: "my commitments" on the participant's link, the check-in,
the themes panel, the next workshop's opening review on the projector."""

from __future__ import annotations

import datetime as dt

import pytest

from facilitation import follow_up, themes
from facilitation import workshops as W
from streamlit_browser import screen_for
from tests.test_pages import all_text, app_db, run_page  # noqa: F401 - fixtures

KEY = "one_millimeter_forward"
ON_THE_DAY = dt.datetime(2026, 10, 1, 12).timestamp()  # the workshops below were held on 1 October 2026


@pytest.fixture
def finished(app_db):
    workshop, key = W.create_workshop(app_db, title="Autumn <b>round</b>", organisation="Acme",
                                      held_on=dt.date(2026, 10, 1), agenda_plan=[(KEY, 10)])
    ann = W.join_workshop(app_db, workshop.code, "Ann", "Sales")
    W.open_exercise(app_db, workshop.id, 0)
    # Made on the workshop's day (nothing else was told, so it serves no story), for a date a month on.
    story = W.submit_story(app_db, ann, KEY, {"action": "Sit in on two **support** calls",
                                              "connects_to": "Support", "by_when": "2026-11-01"}, "s1",
                           clock=lambda: ON_THE_DAY).story
    W.close_exercise(app_db, workshop.id)
    return workshop, key, ann, story


def test_participant_link_after_the_room_opens_my_commitments_and_saves_a_status(finished, app_db):
    workshop, _key, ann, story = finished
    at = run_page("pages/participate.py", code=workshop.code, p=ann.token)
    assert not at.exception, at.exception
    assert "My commitments" in all_text(at)
    assert "Sit in on two **support** calls" in [t.value for t in at.text]  # literal, not markdown
    at.radio(key=f"status-choice-{story.id}").set_value("partly")
    at.text_input(key=f"status-note-{story.id}").set_value("One call so far")
    next(b for b in at.button if b.label == "Save").click()
    at.run()
    assert not at.exception, at.exception
    c = follow_up.commitments(app_db, workshop.id, ann.id)[0]
    assert (c.status, c.note) == ("partly", "One call so far")
    assert "Partly done" in all_text(at)


def test_check_in_page_and_its_projector_screen(finished, app_db):
    workshop, key, ann, story = finished
    follow_up.set_status(app_db, ann, story.id, "done", "Both calls done")
    at = run_page("pages/check_in.py", code=workshop.code, key=key)
    assert not at.exception, at.exception
    assert [m.value for m in at.metric][:3] == ["1", "1", "0"]
    assert "Both calls done" in all_text(at)
    wall = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code), view="check_in")
    assert not wall.exception, wall.exception
    text = all_text(wall)
    assert "1 made · 1 done" in text and "Sales → Support" in text and "Both calls done" in text
    stranger = run_page("pages/check_in.py", code=workshop.code)
    assert "Facilitator sign-in" in all_text(stranger)


def test_check_in_on_the_projector_keeps_small_functions_anonymous_with_names_off(app_db):
    workshop, key = W.create_workshop(app_db, title="Quiet", agenda_plan=[(KEY, 10)], show_names=False)
    ann = W.join_workshop(app_db, workshop.code, "Ann", "Finance/billing")
    W.open_exercise(app_db, workshop.id, 0)
    W.submit_story(app_db, ann, KEY, {"action": "Explain our invoices to support",
                                      "connects_to": "Support", "by_when": "2026-11-01"}, "q1", clock=lambda: ON_THE_DAY)
    wall = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code), view="check_in")
    text = all_text(wall)
    assert "Someone → Support" in text and "Finance/billing" not in text and "Ann" not in text


def test_next_workshop_starts_with_where_we_left_off(finished, app_db):
    workshop, key, ann, story = finished
    nxt, _ = W.create_workshop(app_db, title="Winter round", organisation="Acme", held_on=dt.date(2027, 1, 10),
                               agenda_plan=[(KEY, 10)], facilitator_key=key)
    console = run_page("pages/console.py", code=nxt.code, key=key)
    assert "0. Where we left off\n1 open from Autumn <b>round</b> · not on the agenda" in [t.value for t in console.text]
    follow_up.add_opening_review(app_db, nxt.id)
    follow_up.show_opening_review(app_db, nxt.id)
    wall = run_page("pages/projector.py", code=nxt.code, screen=screen_for(nxt.code))
    text = all_text(wall)
    assert "Where we left off" in text and "Sit in on two **support** calls" in text
    W.open_exercise(app_db, nxt.id, 0)
    wall = run_page("pages/projector.py", code=nxt.code, screen=screen_for(nxt.code))
    assert "Where we left off" not in all_text(wall)


def test_themes_panel_confirms_and_only_confirmed_reach_the_projector(app_db):
    from tests.theme_samples import remarks
    from tests.test_themes import tell

    workshop, key = W.create_workshop(app_db, title="Voices", agenda_plan=[("always_be_storytelling", 15)])
    W.open_exercise(app_db, workshop.id, 0)
    tell(app_db, workshop, {}, remarks())
    themes.find_themes(app_db, workshop.id)
    first = themes.list_themes(app_db, workshop.id)[0]
    at = run_page("pages/themes.py", code=workshop.code, key=key)
    assert not at.exception, at.exception
    assert first.label in [t.value for t in at.text]
    wall = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code), view="themes")
    assert first.label not in all_text(wall)
    next(b for b in at.button if b.key == f"confirm-{first.id}").click()
    at.run()
    assert themes.list_themes(app_db, workshop.id, confirmed_only=True)[0].id == first.id
    wall = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code), view="themes")
    assert first.label in all_text(wall) and "heard by 5 functions" in all_text(wall)
