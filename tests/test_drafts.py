"""Drafts survive a refresh: what was typed is on the server before Send."""

import time

from facilitation import drafts, workshops as W


def test_draft_round_trip(store, make_workshop, make_participant):
    w, _ = make_workshop()
    ana = make_participant(w, name="Ana", function="Sales")
    assert drafts.load_draft(store, ana, "over_the_wall") == {}
    assert drafts.save_draft(store, ana, "over_the_wall", {"promise": "Half a sentence\r\nand 🧑‍🔧", "gap": 3, "lost": ""})
    assert drafts.save_draft(store, ana, "over_the_wall", {"promise": "Half a sentence\r\nand 🧑‍🔧 more", "gap": 4})
    assert drafts.load_draft(store, ana, "over_the_wall") == {"promise": "Half a sentence\r\nand 🧑‍🔧 more", "gap": 4}
    other = make_participant(w, name="Ben", function="Support")
    assert drafts.load_draft(store, other, "over_the_wall") == {}


def test_saving_a_draft_does_not_wake_every_screen(store, make_workshop, make_participant):
    w, _ = make_workshop()
    ana = make_participant(w)
    before = W.revision(store, w.id)
    drafts.save_draft(store, ana, "over_the_wall", {"promise": "typing…"})
    assert W.revision(store, w.id) == before


def test_a_stored_story_takes_its_draft_and_a_refused_one_leaves_it(store, make_workshop, make_participant, answers):
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    drafts.save_draft(store, ana, "over_the_wall", {"promise": "half typed"})
    refused = W.submit_story(store, ana, "over_the_wall", answers(experience="   "), "k-1")
    assert not refused.ok
    assert drafts.load_draft(store, ana, "over_the_wall") == {"promise": "half typed"}
    assert W.submit_story(store, ana, "over_the_wall", answers(), "k-2").created
    assert drafts.load_draft(store, ana, "over_the_wall") == {}


# --- saved as typed, posted by the browser (POST /api/draft), no script run ---------------------------

import pytest  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from facilitation import live_cache, routes  # noqa: E402


@pytest.fixture
def api(store, monkeypatch):
    monkeypatch.setattr(routes, "get_store", lambda: store)
    return TestClient(Starlette(routes=routes.routes()))


def typed(workshop, person, form="form-1", field="promise", text="They were told", exercise="over_the_wall"):
    return {"code": workshop.code, "p": person.token, "exercise": exercise, "form": form, "field": field, "text": text}


def test_the_field_being_typed_is_kept_and_merged_into_the_draft(api, store, make_workshop, make_participant):
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    drafts.save_draft(store, ana, "over_the_wall", {"stage": "Onboarding", "gap": 3})
    before = W.revision(store, w.id)
    assert api.post("/api/draft", json=typed(w, ana, text="They were told two")).status_code == 200
    assert api.post("/api/draft", json=typed(w, ana, text="They were told two weeks 🧑‍🔧")).json()["saved"]
    assert drafts.load_draft(store, ana, "over_the_wall") == {"stage": "Onboarding", "gap": 3,
                                                             "promise": "They were told two weeks 🧑‍🔧"}
    assert W.revision(store, w.id) == before  # wakes no screen


def test_a_typed_draft_is_refused_for_a_stranger_a_closed_exercise_a_non_text_field_or_too_much(
        api, store, make_workshop, make_participant):
    w, _ = make_workshop()
    ana = make_participant(w)
    other, _ = make_workshop()
    stranger = make_participant(other)
    assert api.post("/api/draft", json=typed(w, ana)).status_code == 409  # nothing open yet
    W.open_exercise(store, w.id, 0)
    live_cache.clear()
    assert api.post("/api/draft", json=typed(w, stranger)).status_code == 403
    assert api.post("/api/draft", json=typed(w, ana, field="gap", text="5")).status_code == 400
    assert api.post("/api/draft", json=typed(w, ana, exercise="half_the_story")).status_code == 409
    assert api.post("/api/draft", json=typed(w, ana, text="x" * 5000)).status_code == 413
    assert api.post("/api/draft", content=b"{not json").status_code == 400
    assert api.post("/api/draft", json={**typed(w, ana), "text": 5}).status_code == 400
    W.close_exercise(store, w.id)
    live_cache.clear()
    assert api.post("/api/draft", json=typed(w, ana)).status_code == 409
    assert drafts.load_draft(store, ana, "over_the_wall") == {}


def test_a_save_arriving_after_send_never_brings_the_sent_story_back(api, store, make_workshop, make_participant, answers):
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    assert api.post("/api/draft", json=typed(w, ana, form="form-1", text="half")).json()["saved"]
    assert W.submit_story(store, ana, "over_the_wall", answers(), "form-1").created
    late = api.post("/api/draft", json=typed(w, ana, form="form-1", text="half typed, still on its way"))
    assert late.status_code == 409 and not late.json()["saved"]
    assert drafts.load_draft(store, ana, "over_the_wall") == {}
    assert api.post("/api/draft", json=typed(w, ana, form="form-2", text="the next one")).json()["saved"]
    assert drafts.load_draft(store, ana, "over_the_wall") == {"promise": "the next one"}


def test_drafts_asked_for_at_the_same_moment_are_read_together_each_its_own(store, make_workshop, make_participant, monkeypatch):
    """An exercise opening redraws every phone, each bringing back its draft: one read for those asking together."""
    import threading

    w, _ = make_workshop()
    people = [make_participant(w) for _ in range(30)]
    W.open_exercise(store, w.id, 0)
    for i, person in enumerate(people[:20]):
        drafts.save_draft(store, person, "over_the_wall", {"promise": f"draft of person {i}"})
    reads = []
    real_read = store.read

    def counted_read():
        reads.append(1)
        time.sleep(0.02)  # a busy database: the others arrive while it reads
        return real_read()

    monkeypatch.setattr(store, "read", counted_read)
    start = threading.Barrier(len(people))
    got: dict[int, dict] = {}

    def load(i, person):
        start.wait()
        got[i] = drafts.load_draft(store, person, "over_the_wall")

    threads = [threading.Thread(target=load, args=(i, p)) for i, p in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert got == {i: ({"promise": f"draft of person {i}"} if i < 20 else {}) for i in range(30)}
    assert len(reads) < 10, len(reads)
    assert drafts.load_draft(store, people[0], "half_the_story") == {}  # another exercise: not this draft


def test_a_draft_queued_without_waiting_is_what_a_reload_brings_back(store, make_workshop, make_participant, monkeypatch):
    """A field left on the phone does not hold its run for the writer's commit; a reload right after still
    gets it (load_draft waits for this person's queued saves)."""
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    monkeypatch.setattr(drafts, "BATCH_EVERY_S", 0.3)
    drafts.save_draft(store, ana, "over_the_wall", {"promise": "first"})  # the writer has just written
    t0 = time.monotonic()
    assert drafts.save_draft(store, ana, "over_the_wall", {"promise": "left just now"}, form_id="f-1", wait=False)
    assert time.monotonic() - t0 < 0.1  # returned before the commit
    assert drafts.load_draft(store, ana, "over_the_wall") == {"promise": "left just now"}
