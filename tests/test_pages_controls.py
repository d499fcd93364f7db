"""The facilitator's controls as the room sees them (AppTest over the real pages and store)."""

from __future__ import annotations

import time

import pytest

from facilitation import controls as C
from facilitation import drafts
from facilitation import workshops as W
from streamlit_browser import screen_for
from test_pages import all_text, app_db, run_page  # noqa: F401  (fixture re-export)

RETENTION = "untold_retention_stories"


def retention(text: str) -> dict:
    return {"practice": "A call in week one.", "story": text, "teller": "Support", "audience": "Prospects in a late-stage deal",
            "may_retell": "Yes, as it is written"}


@pytest.fixture
def retention_room(app_db):
    from facilitation.exercises import library
    options = library()[RETENTION].field("audience").options
    workshop, key = W.create_workshop(app_db, title="Controls", agenda_plan=[(RETENTION, 10), ("over_the_wall", 15)])
    people = [W.join_workshop(app_db, workshop.code, n, f) for n, f in (("Ana", "Sales"), ("Ben", "Support"), ("Cy", "Support"))]
    W.open_exercise(app_db, workshop.id, 0)
    told = []
    for i, p in enumerate(people):
        answers = retention(f"Story number {i} <b>bold?</b>")
        answers["audience"] = options[0]
        told.append(W.submit_story(app_db, p, RETENTION, answers, f"s{i}").story)
    return workshop, key, people, told


def projector_text(code: str) -> tuple[str, object]:
    at = run_page("pages/projector.py", code=code, screen=screen_for(code))
    assert not at.exception
    return all_text(at), at


def test_projector_never_shows_an_admin_control(retention_room, app_db):
    workshop, _, people, told = retention_room
    for setup in (lambda: None, lambda: C.set_voting(app_db, workshop.id, 0, "open"),
                  lambda: C.set_spotlight(app_db, workshop.id, told[0].id)):
        setup()
        _, at = projector_text(workshop.code)
        assert len(at.button) == 0 and len(at.text_input) == 0 and len(at.toggle) == 0


def test_hidden_story_never_reaches_the_projector(retention_room, app_db):
    workshop, _, _, told = retention_room
    C.hide_story(app_db, workshop.id, told[1].id)
    text, _ = projector_text(workshop.code)
    assert "Story number 0 <b>bold?</b>" in text and "Story number 1" not in text


def test_blind_collection_shows_only_a_count_until_reveal(retention_room, app_db):
    workshop, *_ = retention_room
    C.set_blind(app_db, workshop.id, 0, True)
    text, _ = projector_text(workshop.code)
    assert "3 stories in" in text and "Story number" not in text
    C.reveal(app_db, workshop.id, 0)
    text, _ = projector_text(workshop.code)
    assert "Story number 2 <b>bold?</b>" in text


def test_spotlight_fills_the_projector_with_one_story(retention_room, app_db):
    workshop, _, _, told = retention_room
    C.set_spotlight(app_db, workshop.id, told[2].id)
    text, _ = projector_text(workshop.code)
    assert "Story number 2 <b>bold?</b>" in text and "Story number 0" not in text


def test_anonymous_projector_shows_no_names_and_no_small_function(retention_room, app_db):
    workshop, *_ = retention_room
    C.set_show_names(app_db, workshop.id, False)
    text, _ = projector_text(workshop.code)
    assert "Ana" not in text and "Ben" not in text
    assert "Sales" not in text  # one Sales contributor: the label would point at her


def test_participant_votes_from_the_phone_and_the_projector_ranks(retention_room, app_db):
    workshop, _, (ana, ben, cy), told = retention_room
    C.set_voting(app_db, workshop.id, 0, "open", dots=1)
    at = run_page("pages/participate.py", code=workshop.code, p=ana.token)
    assert "Vote: 1 of 1 dots left" in all_text(at)
    at.button(key=f"vote-btn-{told[2].id}").click().run()
    assert not at.exception
    assert "Vote: 0 of 1 dots left" in all_text(at)
    at.button(key=f"vote-btn-{told[1].id}").click().run()
    assert any("all 1 of your dots" in w.value for w in at.warning)
    assert W.snapshot(app_db, workshop.id).vote_counts() == {told[2].id: 1}
    _, proj = projector_text(workshop.code)
    headlines = [t.value for t in proj.text if t.value.startswith("Story number")]
    assert headlines[0] == "Story number 2 <b>bold?</b>"


def test_lock_at_zero_keeps_the_typed_text_visible(retention_room, app_db):
    workshop, _, (ana, *_), _ = retention_room
    at = run_page("pages/participate.py", code=workshop.code, p=ana.token)
    at.text_area[0].input("Half of my story, typed before the bell").run()
    # The clock runs out: open the exercise as if it started long ago.
    W.open_exercise(app_db, workshop.id, 0, clock=lambda: time.time() - 3600)
    at.run()
    assert not at.exception
    assert at.text_area[0].value == "Half of my story, typed before the bell"
    assert at.text_area[0].disabled
    assert any("locked" in w.value for w in at.warning)


def test_a_refresh_brings_back_the_draft(retention_room, app_db):
    workshop, _, (ana, *_), _ = retention_room
    first = run_page("pages/participate.py", code=workshop.code, p=ana.token)
    first.text_area[0].input("Typed on the train, then the tunnel").run()
    assert drafts.load_draft(app_db, ana, RETENTION)["story"] == "Typed on the train, then the tunnel"
    refreshed = run_page("pages/participate.py", code=workshop.code, p=ana.token)  # a new browser session
    assert refreshed.text_area[0].value == "Typed on the train, then the tunnel"


def test_console_hides_and_spotlights(retention_room, app_db):
    workshop, key, _, told = retention_room
    at = run_page("pages/console.py", code=workshop.code, key=key)
    at.button(key=f"hide-{told[0].id}").click().run()
    assert not at.exception
    assert W.list_stories(app_db, workshop.id, RETENTION)[0].id == told[1].id
    at.button(key=f"spot-{told[1].id}").click().run()
    assert W.live_exercise(app_db, workshop.id).spotlight_story_id == told[1].id
    # The hidden list never names the author.
    hidden_section = [t.value for t in at.text]
    assert "Story number 0 <b>bold?</b>" in hidden_section


def test_console_proxy_entry(retention_room, app_db):
    workshop, key, *_ = retention_room
    at = run_page("pages/console.py", code=workshop.code, key=key)
    proxy = at.session_state["proxy_form_id"]
    at.text_input(key=f"{proxy}-_teller").input("Dee")
    at.selectbox(key=f"{proxy}-_function").select("Finance/billing")
    at.text_input(key=f"{proxy}-practice").input("We read every invoice before it goes out.")
    at.text_area(key=f"{proxy}-story").input("Once it caught a double charge before the customer did.")
    at.selectbox(key=f"{proxy}-teller").select("Finance/billing")
    at.selectbox(key=f"{proxy}-audience").select(at.selectbox(key=f"{proxy}-audience").options[0])
    at.selectbox(key=f"{proxy}-may_retell").select(at.selectbox(key=f"{proxy}-may_retell").options[0])
    at.button(key=f"{proxy}-send").click().run()
    assert not at.exception
    stored = [s for s in W.list_stories(app_db, workshop.id, RETENTION) if s.by_proxy]
    assert [(s.author_name, s.function) for s in stored] == [("Dee", "Finance/billing")]


def test_facilitator_deletes_the_workshop_from_the_report_page(retention_room, app_db):
    """The delete button stays disabled until the join code is typed; then everything is gone and the
    browser is no longer signed in as that workshop's facilitator."""
    workshop, key, people, _ = retention_room
    other, _ = W.create_workshop(app_db, title="Another room")
    at = run_page("pages/report.py", code=workshop.code, key=key)
    assert not at.exception
    delete = next(b for b in at.button if b.label == "Delete the workshop")
    assert delete.disabled
    at.text_input(key="delete_confirm").input(workshop.code.lower()).run()
    next(b for b in at.button if b.label == "Delete the workshop").click().run()
    assert not at.exception
    assert W.find_workshop(app_db, workshop.code) is None
    assert W.list_stories(app_db, workshop.id) == [] and W.list_participants(app_db, workshop.id) == []
    assert W.find_workshop(app_db, other.code) is not None
    assert "facilitator_key" not in at.session_state
    assert any("Workshop deleted" in s.value for s in at.success)
