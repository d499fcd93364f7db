"""POST /api/story: a phone's story stored without a script run, under the same rules as the form's own Send;
a refused one kept word for word; the page redrawn afterwards, paced, by the push hub."""

from __future__ import annotations

import time

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from facilitation import drafts, live_cache, live_hub, routes, sending, workshops as W
from test_live_push import LoopThread, follow, settle


@pytest.fixture
def api(store, monkeypatch):
    monkeypatch.setattr(routes, "get_store", lambda: store)
    live_cache.clear()
    return TestClient(Starlette(routes=routes.routes()))


def story(workshop, person, answers, form="form-1", exercise="over_the_wall", session=""):
    return {"code": workshop.code, "p": person.token, "exercise": exercise, "form": form, "answers": answers,
            "session": session}


def test_a_story_sent_by_post_is_stored_once_and_shown_as_typed(api, store, make_workshop, make_participant, answers):
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    drafts.save_draft(store, ana, "over_the_wall", {"promise": "half typed"})
    typed = answers(experience="<b>Six weeks</b> & a *template* 🧑‍🔧")
    first = api.post("/api/story", json=story(w, ana, typed))
    assert first.status_code == 200 and first.json()["ok"] and first.json()["created"]
    assert first.json()["message"].startswith("Sent")
    again = api.post("/api/story", json=story(w, ana, typed))  # a retry, or the form's own Send after it
    assert again.status_code == 200 and not again.json()["created"]
    [stored] = W.list_stories(store, w.id, "over_the_wall")
    assert stored.answers["experience"] == "<b>Six weeks</b> & a *template* 🧑‍🔧"
    assert stored.participant_id == ana.id and stored.answers["gap"] == 4
    assert drafts.load_draft(store, ana, "over_the_wall") == {}  # the draft went with the story
    assert W.form_sent(store, ana, "form-1") and not W.form_sent(store, ana, "form-2")


def test_a_refused_story_keeps_every_word_as_the_draft_and_says_why(api, store, make_workshop, make_participant, answers):
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    typed = answers(gap=None, experience="Nobody said how big the gap was")
    refused = api.post("/api/story", json=story(w, ana, typed))
    assert refused.status_code == 422 and not refused.json()["ok"]
    assert "gap" in refused.json()["problems"]
    assert W.list_stories(store, w.id, "over_the_wall") == []
    assert drafts.load_draft(store, ana, "over_the_wall")["experience"] == "Nobody said how big the gap was"


def test_the_timer_and_the_facilitator_decide_as_for_the_forms_own_send(api, store, make_workshop, make_participant,
                                                                         answers, monkeypatch):
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    W.close_exercise(store, w.id)
    live_cache.clear()
    closed = api.post("/api/story", json=story(w, ana, answers(experience="Typed as it closed")))
    assert closed.status_code == 422 and "closed" in closed.json()["message"]
    assert drafts.load_draft(store, ana, "over_the_wall")["experience"] == "Typed as it closed"


def test_strangers_other_exercises_and_malformed_bodies_are_refused(api, store, make_workshop, make_participant, answers):
    w, _ = make_workshop()
    ana = make_participant(w)
    other, _ = make_workshop()
    stranger = make_participant(other)
    W.open_exercise(store, w.id, 0)
    assert api.post("/api/story", json=story(w, stranger, answers())).status_code == 403
    assert api.post("/api/story", json=story(w, ana, answers(), exercise="no_such_exercise")).status_code == 404
    assert api.post("/api/story", json=story(w, ana, answers(), exercise="half_the_story")).status_code == 422
    assert api.post("/api/story", content=b"{not json").status_code == 400
    assert api.post("/api/story", json={**story(w, ana, answers()), "answers": ["a list"]}).status_code == 400
    assert api.post("/api/story", json=story(w, ana, {**answers(), "gap": [4]})).status_code == 400
    assert api.post("/api/story", json=story(w, ana, {**answers(), "gap": True})).status_code == 400
    assert api.post("/api/story", json=story(w, ana, answers(experience="x" * 300_000))).status_code == 413
    assert api.post("/api/story", json=story(w, ana, answers()),
                    headers={"origin": "https://elsewhere.example"}).status_code == 403
    assert W.list_stories(store, w.id, "over_the_wall") == []


def test_a_form_already_sent_is_never_saved_again_as_a_draft(store, make_workshop, make_participant, answers):
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    assert sending.send_story(store, sending.StoryPost(w.code, ana.token, "over_the_wall", "form-1", answers())).ok
    # The field left as Send was pressed: its run may reach the server after the story.
    assert not drafts.save_draft(store, ana, "over_the_wall", answers(), form_id="form-1")
    assert drafts.load_draft(store, ana, "over_the_wall") == {}
    assert drafts.save_draft(store, ana, "over_the_wall", {"promise": "the next one"}, form_id="form-2")
    assert drafts.load_draft(store, ana, "over_the_wall") == {"promise": "the next one"}


def test_pages_redrawn_after_a_send_are_paced_oldest_first_each_once(store, monkeypatch):
    monkeypatch.setattr(live_hub, "REDRAWS_PER_S", 20.0)
    monkeypatch.setattr(live_hub, "REDRAWS_PER_S_WHILE_SENDING", 20.0)
    loop = LoopThread()
    hub = live_hub.Hub(read_signature=lambda _store, _wid: (0, ("open", 0)))
    hub.attach(loop.loop)
    try:
        phones = [follow(hub, store, 7, (f"session-{i}", "follow"), {"live"}) for i in range(10)]
        started = time.monotonic()
        for i in range(10):
            hub.redraw(store.url, 7, (f"session-{i}", "follow"))
        hub.redraw(store.url, 7, ("session-3", "follow"))  # asked twice before its turn: drawn once
        assert hub.redraw(store.url, 7, ("gone", "follow")) > 0  # a tab that closed: skipped, no wait
        settle(0.2)
        assert 2 <= sum(len(p.wakes) for p in phones) <= 6, "the redraws were not paced"
        settle(0.6)
        assert [len(p.wakes) for p in phones] == [1] * 10
        firsts = [p.wakes[0] for p in phones]
        assert firsts == sorted(firsts)  # in the order the stories came
        assert firsts[-1] - started >= 9 / 20 * 0.9  # 20 a second
    finally:
        hub.detach()
        loop.close()
    assert live_hub.Hub().redraw(store.url, 7, ("session-0", "follow")) == -1.0  # no push: nothing to pace


def test_while_stories_keep_arriving_their_pages_are_redrawn_more_slowly(store, monkeypatch):
    monkeypatch.setattr(live_hub, "REDRAWS_PER_S", 50.0)
    monkeypatch.setattr(live_hub, "REDRAWS_PER_S_WHILE_SENDING", 5.0)
    loop = LoopThread()
    hub = live_hub.Hub(read_signature=lambda _store, _wid: (0, ("open", 0)))
    hub.attach(loop.loop)
    try:
        phones = [follow(hub, store, 7, (f"s{i}", "follow"), {"live"}) for i in range(6)]
        until = time.monotonic() + 0.6
        i = 0
        while time.monotonic() < until:  # a Send every 50 ms: the room is still sending
            hub.redraw(store.url, 7, (f"s{i % 3}", "follow"))
            i += 1
            time.sleep(0.05)
        during = sum(len(p.wakes) for p in phones)
        assert during <= 5, during  # ~5 a second, not 50
        for j in range(3, 6):
            hub.redraw(store.url, 7, (f"s{j}", "follow"))
        settle(0.9)  # the room has stopped: the rest at once
        assert all(p.wakes for p in phones)
    finally:
        hub.detach()
        loop.close()
