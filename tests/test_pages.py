"""AppTest smoke tests: every page renders without an exception, for each kind of visitor."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from facilitation import workshops as W
from facilitation.store import get_store
from streamlit_browser import screen_for

APP = Path(__file__).resolve().parent.parent / "app.py"
PAGES = ["pages/join.py", "pages/participate.py", "pages/new.py", "pages/console.py", "pages/projector.py", "pages/report.py"]


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """The app's database for this test: a fresh SQLite file, also used by the pages."""
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    return get_store(url)


@pytest.fixture
def live_workshop(app_db):
    """A workshop with two participants, the first exercise open and one story told."""
    workshop, key = W.create_workshop(app_db, title="Smoke <b>test</b>", agenda_plan=[("over_the_wall", 15)])
    ana = W.join_workshop(app_db, workshop.code, "Ana", "Sales")
    W.join_workshop(app_db, workshop.code, "Ben", "Support")
    W.open_exercise(app_db, workshop.id, 0)
    W.submit_story(app_db, ana, "over_the_wall", {
        "stage": "Sale", "promise": "Live in two weeks", "experience": "**Six** weeks <script>x</script>",
        "next_function": "Implementation", "lost": "The import template", "gap": 4}, "smoke-1")
    return workshop, key, ana


def run_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    key = query.pop("key", None)
    if key is not None:  # signed in earlier in this browser session (the sign-in form; a key is never in the URL)
        at.session_state["facilitator_code"] = str(query.get("code", "")).upper()
        at.session_state["facilitator_key"] = key
    at.query_params.update(query)
    at.run()
    if page != "pages/join.py":
        at.switch_page(page)
        at.query_params.update(query)
        at.run()
    return at


def all_text(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("text", "markdown", "title", "header", "subheader", "caption")
                     for e in getattr(at, kind) if isinstance(e.value, str))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_a_stranger(app_db, page):
    at = run_page(page)
    assert not at.exception, at.exception


def test_every_page_renders_during_a_live_workshop(live_workshop):
    workshop, key, ana = live_workshop
    visits = {
        "pages/join.py": {"code": workshop.code},
        "pages/participate.py": {"code": workshop.code, "p": ana.token},
        "pages/new.py": {},
        "pages/console.py": {"code": workshop.code, "key": key},
        "pages/projector.py": {"code": workshop.code, "screen": screen_for(workshop.code)},
        "pages/report.py": {"code": workshop.code, "key": key},
    }
    for page, query in visits.items():
        at = run_page(page, **query)
        assert not at.exception, (page, at.exception)


def test_console_without_the_key_shows_only_sign_in(live_workshop):
    workshop, key, _ = live_workshop
    at = run_page("pages/console.py", code=workshop.code, key="not-the-key")
    text = all_text(at)
    assert "Facilitator sign-in" in text
    assert "Live in two weeks" not in text and "Incoming" not in text


def test_console_with_the_key_shows_incoming_story_literally(live_workshop):
    workshop, key, _ = live_workshop
    at = run_page("pages/console.py", code=workshop.code, key=key)
    assert "**Six** weeks <script>x</script>" in [t.value for t in at.text]


def test_participant_link_from_another_workshop_is_refused(live_workshop, app_db):
    workshop, _, ana = live_workshop
    other, _ = W.create_workshop(app_db, title="Other", agenda_plan=[("over_the_wall", 10)])
    at = run_page("pages/participate.py", code=other.code, p=ana.token)
    assert "You are not in a workshop yet" in all_text(at)


def test_participant_sends_a_story_through_the_form(live_workshop, app_db):
    workshop, _, ana = live_workshop
    at = run_page("pages/participate.py", code=workshop.code, p=ana.token)
    at.selectbox[0].select("Onboarding")
    at.text_area[0].input("They were told: a dedicated engineer")
    at.text_area[1].input("A ticket queue")
    at.selectbox[1].select("Support")
    at.text_area[2].input("The name of their champion")
    at.radio[0].set_value(5)
    at.button[0].click()
    at.run()
    assert not at.exception
    assert any("Sent" in s.value for s in at.success)
    mine = W.list_stories(app_db, workshop.id, "over_the_wall", participant_id=ana.id)
    assert [s.answers["lost"] for s in mine][-1] == "The name of their champion"
    # the form is fresh again, ready for another story
    assert all(not ta.value for ta in at.text_area)


def test_participant_error_keeps_the_text(live_workshop, app_db):
    workshop, _, ana = live_workshop
    at = run_page("pages/participate.py", code=workshop.code, p=ana.token)
    at.text_area[0].input("Only a promise, nothing else")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert at.text_area[0].value == "Only a promise, nothing else"
    assert any("Please choose" in e.value for e in at.error)
    assert len(W.list_stories(app_db, workshop.id, participant_id=ana.id)) == 1  # only the seeded one


def test_an_empty_server_offers_the_demo_and_opens_its_console(app_db):
    """A newcomer's first minute: the join page of an empty database offers a filled demo workshop;
    one press creates it and signs this browser in as its facilitator."""
    from facilitation import demo

    at = run_page("pages/join.py")
    offer = [b for b in at.button if b.label == "Open the demo workshop"]
    assert offer, "an empty database should offer the demo"
    offer[0].click().run()
    assert not at.exception, at.exception
    [workshop] = [W.find_workshop(app_db, at.session_state["facilitator_code"])]
    assert workshop.title == demo.DEMO_TITLE
    assert W.facilitator_workshop(app_db, workshop.code, at.session_state["facilitator_key"]) == workshop
    assert any(h.value.startswith("Now: ") for h in at.subheader)  # the console, with an exercise live

    # With workshops on the server the demo is still one press away, as a link under "Running a session?".
    again = run_page("pages/join.py")
    assert not [b for b in again.button if b.label == "Open the demo workshop"]  # the big offer is for an empty server
    [link] = [b for b in again.button if b.label == "Try the demo workshop"]
    link.click().run()
    assert not again.exception, again.exception
    second = W.find_workshop(app_db, again.session_state["facilitator_code"])
    assert second.title == demo.DEMO_TITLE and second.code != workshop.code
