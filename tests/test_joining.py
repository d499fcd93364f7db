"""Issue 12, "Joining": the room is given an address phones can open, a phone that joined before comes
back as the same person, and the facilitator can merge or remove a duplicate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from facilitation import drafts, links, participants
from facilitation import workshops as W
from streamlit_browser import choose, click_button, open_page, screen_for, wait_for_app

APP = Path(__file__).resolve().parent.parent / "app.py"
SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"


# --- the address the room uses ---------------------------------------------------------------------

def no_lan():
    return None


def test_a_loopback_address_is_replaced_by_one_the_room_can_reach():
    lan = lambda: "192.168.1.20"  # noqa: E731 - the machine's address, injected
    assert links.room_address("http://localhost:8501/projector?code=X", lan_address=lan).join_url("K7M2QXR") \
        == "http://192.168.1.20:8501/?code=K7M2QXR"
    assert links.room_address("http://127.0.0.1:8501/console", base_path="/story-relay/", lan_address=lan).base \
        == "http://192.168.1.20:8501/story-relay/"
    assert links.room_address("http://[::1]:9000/console", lan_address=lan).base == "http://192.168.1.20:9000/"
    # An address the browser used that is not loopback is what the room uses too.
    found = links.room_address("http://10.0.0.5:8501/projector?code=X", lan_address=lan)
    assert (found.base, found.source) == ("http://10.0.0.5:8501/", "browser")
    # STORY_RELAY_PUBLIC_URL wins over everything (a proxy, a DNS name).
    public = links.room_address("http://localhost:8501/console", public_url="https://relay.example.org/ws",
                                lan_address=lan)
    assert public.join_url("K7M2QXR") == "https://relay.example.org/ws/?code=K7M2QXR" and public.reachable
    assert "STORY_RELAY_PUBLIC_URL" in public.explanation()


def test_the_facilitator_is_told_when_phones_cannot_reach_the_server():
    nowhere = links.room_address("http://localhost:8501/console", lan_address=no_lan)
    assert not nowhere.reachable and "Phones cannot open this address" in nowhere.explanation()
    local_only = links.room_address("http://localhost:8501/console", server_address="127.0.0.1",
                                    lan_address=lambda: "192.168.1.20")
    assert not local_only.reachable and "--server.address 0.0.0.0" in local_only.explanation()
    lan = links.room_address("http://localhost:8501/console", lan_address=lambda: "192.168.1.20")
    assert lan.reachable and "same Wi-Fi" in lan.explanation() and "STORY_RELAY_PUBLIC_URL" in lan.explanation()
    assert links.is_loopback_host("localhost") and links.is_loopback_host("127.0.0.2")
    assert links.is_loopback_host("0.0.0.0") and not links.is_loopback_host("192.168.1.20")


def test_lan_discovery_gives_an_address_or_nothing():
    found = links.discover_lan_address()  # opens no connection: a UDP socket only picks a route
    assert found is None or not links.is_loopback_host(found)


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    from facilitation.store import get_store

    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    st.cache_data.clear()
    yield get_store(url)
    st.cache_data.clear()


def visit(page: str, url: str, **query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.context = {"url": url}
    key = query.pop("key", None)
    if key:
        at.session_state["facilitator_code"] = query["code"]
        at.session_state["facilitator_key"] = key
    at.run()
    at.switch_page(page)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("text", "caption", "warning", "markdown")
                     for e in getattr(at, kind))


def test_projector_console_and_new_give_the_room_the_public_address(app_db, monkeypatch):
    monkeypatch.setenv("STORY_RELAY_PUBLIC_URL", "http://relay.test:8080/")
    w, key = W.create_workshop(app_db, title="Room address", agenda_plan=[("over_the_wall", 10)])
    projector = visit("pages/projector.py", "http://localhost:8501/projector", code=w.code, screen=screen_for(w.code))
    assert "relay.test:8080/?code=" + w.code in texts(projector)
    assert "localhost" not in texts(projector)
    console = visit("pages/console.py", "http://localhost:8501/console", code=w.code, key=key)
    assert f"http://relay.test:8080/?code={w.code}" in texts(console)
    assert "set by STORY_RELAY_PUBLIC_URL" in texts(console)


def test_without_the_setting_the_room_gets_the_machines_lan_address(app_db, monkeypatch):
    monkeypatch.delenv("STORY_RELAY_PUBLIC_URL", raising=False)
    monkeypatch.setattr(links, "discover_lan_address", lambda: "192.168.7.42")
    at = visit("pages/new.py", "http://localhost:8501/new")
    next(t for t in at.text_input if t.label == "Title").input("Made on localhost")
    next(b for b in at.button if b.label == "Create workshop").click().run()
    code = at.session_state["just_created"]["code"]
    assert f"http://192.168.7.42:8501/?code={code}" in texts(at)
    assert "same Wi-Fi" in texts(at) and "STORY_RELAY_PUBLIC_URL" in texts(at)


# --- duplicates --------------------------------------------------------------------------------------

def test_merge_moves_stories_dots_and_drafts_and_removes_the_duplicate(store, make_workshop, answers):
    w, _ = make_workshop()
    W.open_exercise(store, w.id, 0)
    ana = W.join_workshop(store, w.code, "Ana", "Sales")
    again = W.join_workshop(store, w.code, "Ana", "Sales")  # the join link opened a second time
    ben = W.join_workshop(store, w.code, "Ben", "Support")
    first = W.submit_story(store, ana, "over_the_wall", answers(), "a-1").story
    second = W.submit_story(store, again, "over_the_wall", answers(experience="From the second tab"), "a-2").story
    told_by_ben = W.submit_story(store, ben, "over_the_wall", answers(), "b-1").story
    from facilitation import controls as C

    C.set_voting(store, w.id, 0, "open", 3)
    assert C.cast_vote(store, ana, told_by_ben.id).ok and C.cast_vote(store, again, told_by_ben.id).ok
    drafts.save_draft(store, again, "over_the_wall", {"promise": "half typed"})
    before = W.revision(store, w.id)

    assert participants.merge_participants(store, w.id, ana.id, again.id) == 1
    people = W.list_participants(store, w.id)
    assert [p.display_name for p in people] == ["Ana", "Ben"]
    mine = {s.id for s in W.list_stories(store, w.id, participant_id=ana.id)}
    assert {first.id, second.id} <= mine
    assert W.snapshot(store, w.id).vote_counts().get(told_by_ben.id) == 1  # one dot per person on a story
    assert drafts.load_draft(store, ana, "over_the_wall") == {"promise": "half typed"}
    assert W.revision(store, w.id) > before  # every screen redraws
    with pytest.raises(W.WorkshopInputError):
        participants.merge_participants(store, w.id, ana.id, again.id)  # gone already


def test_remove_only_someone_who_sent_nothing(store, make_workshop, answers):
    w, _ = make_workshop()
    W.open_exercise(store, w.id, 0)
    ana = W.join_workshop(store, w.code, "Ana", "Sales")
    empty = W.join_workshop(store, w.code, "Ana", "Sales")
    W.submit_story(store, ana, "over_the_wall", answers(), "a-1")
    with pytest.raises(W.WorkshopInputError, match="merge them"):
        participants.remove_participant(store, w.id, ana.id)
    participants.remove_participant(store, w.id, empty.id)
    assert [p.id for p in W.list_participants(store, w.id)] == [ana.id]
    other, _ = make_workshop(title="Another room")
    with pytest.raises(W.WorkshopInputError):
        participants.remove_participant(store, other.id, ana.id)  # not in that workshop


def test_the_console_merges_a_duplicate(app_db):
    w, key = W.create_workshop(app_db, title="Duplicates", agenda_plan=[("over_the_wall", 10)])
    ana = W.join_workshop(app_db, w.code, "Ana", w.functions[0])
    again = W.join_workshop(app_db, w.code, "Ana", w.functions[0])
    at = visit("pages/console.py", "http://localhost:8501/console", code=w.code, key=key)
    assert any(s.value == "In the room (2)" for s in at.subheader)
    at.selectbox(key="dup-extra").select(again.id).run()
    at.selectbox(key="dup-keep").select(ana.id).run()
    at.button(key="dup-merge").click().run()
    assert not at.exception, at.exception
    assert any(s.value == "In the room (1)" for s in at.subheader)
    assert [p.id for p in W.list_participants(app_db, w.id)] == [ana.id]


# --- the same browser comes back as the same person -----------------------------------------------------

@pytest.mark.slow
def test_opening_the_join_link_again_continues_as_the_same_person(browser, app_server, app_store):
    w, _ = W.create_workshop(app_store, title="Come back as yourself", agenda_plan=[("over_the_wall", 10)])
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        open_page(phone, f"{app_server}/?code={w.code}")
        phone.get_by_label("Your name").fill("Ana **bold**")
        choose(phone, "Your function", "Sales")
        click_button(phone, "Join")
        phone.wait_for_url(re.compile(r"/participate\?"))
        wait_for_app(phone)
        first_url = phone.url
        phone.wait_for_timeout(1_000)  # the page tells the server to remember this browser

        open_page(phone, f"{app_server}/?code={w.code}")  # the QR code scanned again
        button = phone.get_by_role("button", name="Continue as Ana **bold** · Sales")
        expect(button).to_be_visible()  # the name shows as typed, never as markdown
        SCREENS.mkdir(parents=True, exist_ok=True)
        phone.screenshot(path=str(SCREENS / "phone_continue_as_360x740.png"))
        button.click()
        phone.wait_for_url(re.compile(r"/participate\?"))
        assert phone.url == first_url
        assert len(W.list_participants(app_store, w.id)) == 1

        open_page(phone, f"{app_server}/?code={w.code}")
        click_button(phone, "Join as someone else")
        phone.get_by_label("Your name").fill("Ben")
        choose(phone, "Your function", "Support")
        click_button(phone, "Join")
        phone.wait_for_url(re.compile(r"/participate\?"))
        assert sorted(p.display_name for p in W.list_participants(app_store, w.id)) == ["Ana **bold**", "Ben"]
        phone.wait_for_timeout(1_000)
        open_page(phone, f"{app_server}/?code={w.code}")
        expect(phone.get_by_role("button", name="Continue as Ben · Support")).to_be_visible()
    finally:
        context.close()
