"""facilitation.live_cache: one read per process for what every live view polls, never a stale screen for long."""

from __future__ import annotations

import threading
import time

import pytest

from facilitation import live_cache, participants, workshops as W


@pytest.fixture(autouse=True)
def fresh_cache():
    live_cache.clear()
    yield
    live_cache.clear()


def count_calls(monkeypatch, name: str, delay: float = 0.0) -> list[int]:
    calls: list[int] = []
    real = getattr(W, name)

    def counted(*args, **kwargs):
        calls.append(1)
        if delay:
            time.sleep(delay)
        return real(*args, **kwargs)

    monkeypatch.setattr(W, name, counted)
    return calls


def test_revision_is_read_once_per_ttl_and_then_follows_the_database(store, make_workshop, make_participant, monkeypatch):
    workshop, _ = make_workshop()
    calls = count_calls(monkeypatch, "revision")
    first = live_cache.revision(store, workshop.id, ttl=0.3)
    for _ in range(50):
        assert live_cache.revision(store, workshop.id, ttl=0.3) == first
    assert len(calls) == 1
    make_participant(workshop)  # bumps the revision
    assert live_cache.revision(store, workshop.id, ttl=0.3) == first  # still within the TTL
    time.sleep(0.35)
    assert live_cache.revision(store, workshop.id, ttl=0.3) == first + 1
    assert len(calls) == 2


def test_live_exercise_and_snapshot_are_read_once_per_revision(store, make_workshop, make_participant, answers, monkeypatch):
    workshop, _ = make_workshop()
    live_calls = count_calls(monkeypatch, "live_exercise")
    snap_calls = count_calls(monkeypatch, "snapshot")
    assert live_cache.live_exercise(store, workshop.id, ttl=0).item is None
    W.open_exercise(store, workshop.id, 0)
    ann = make_participant(workshop)
    assert W.submit_story(store, ann, "over_the_wall", answers(), "k1").ok
    for _ in range(20):
        live = live_cache.live_exercise(store, workshop.id, ttl=0)
        snap = live_cache.snapshot(store, workshop.id, ttl=0)
    assert live.accepting if isinstance(live.accepting, bool) else live.accepting(time.time())
    assert len(snap.stories) == 1 and snap.workshop.revision == W.revision(store, workshop.id)
    assert len(live_calls) == 2 and len(snap_calls) == 1
    assert live_cache.snapshot(store, workshop.id, ttl=0) is snap  # the same object for every session


def test_refresh_is_single_flight(store, make_workshop, monkeypatch):
    """Many sessions polling at once cause one database read, not one each."""
    workshop, _ = make_workshop()
    live_cache.revision(store, workshop.id)
    time.sleep(live_cache.REVISION_TTL_S + 0.05)
    calls = count_calls(monkeypatch, "revision", delay=0.2)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(live_cache.revision(store, workshop.id))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 20 and len(set(results)) == 1
    assert len(calls) == 1


def test_a_failed_read_is_retried_by_the_next_caller(store, make_workshop, monkeypatch):
    workshop, _ = make_workshop()
    live_cache.revision(store, workshop.id, ttl=0)
    real = W.revision

    def broken(*_args, **_kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(W, "revision", broken)
    with pytest.raises(RuntimeError):
        live_cache.revision(store, workshop.id, ttl=0)
    monkeypatch.setattr(W, "revision", real)
    assert live_cache.revision(store, workshop.id, ttl=0) == W.revision(store, workshop.id)


def test_qr_code_is_drawn_once_per_address(monkeypatch):
    from facilitation import links

    calls = []
    real = links.qr_png
    monkeypatch.setattr(links, "qr_png", lambda url: calls.append(url) or real(url))
    png = live_cache.qr_png("http://example.test/?code=ABC1234")
    assert png.startswith(b"\x89PNG")
    assert live_cache.qr_png("http://example.test/?code=ABC1234") is png
    assert calls == ["http://example.test/?code=ABC1234"]


def test_a_change_committed_in_this_process_is_read_at_once_without_asking_the_database(
        store, make_workshop, make_participant, monkeypatch, vouching_hub):
    """With push the hub vouches for the revision: no read per caller, no TTL-old number after a commit."""
    workshop, _ = make_workshop()
    rev = W.revision(store, workshop.id)
    vouching_hub(workshop)  # the watcher (SQLite) or the listener (PostgreSQL) starts vouching
    calls = count_calls(monkeypatch, "revision")
    assert live_cache.revision(store, workshop.id) == rev
    make_participant(workshop)  # committed here: the hub hears it before the write returns
    assert live_cache.revision(store, workshop.id) == rev + 1  # at once, not REVISION_TTL_S later
    assert calls == []


def test_a_screen_asking_during_a_refresh_waits_for_it_instead_of_drawing_the_old_exercise(
        store, make_workshop, monkeypatch):
    """Woken because the exercise opened, 500 phones ask at once: one read, and every one draws it open."""
    workshop, _ = make_workshop()
    assert live_cache.live_exercise(store, workshop.id, ttl=0).item is None
    W.open_exercise(store, workshop.id, 0)
    calls = count_calls(monkeypatch, "live_exercise", delay=0.3)
    results = []
    threads = [threading.Thread(target=lambda: results.append(live_cache.live_exercise(store, workshop.id, ttl=0)))
               for _ in range(20)]
    for t in threads:
        t.start()
        time.sleep(0.005)
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 20 and all(r.item is not None and r.item.position == 0 for r in results)
    assert len(calls) == 1


@pytest.fixture
def vouching_hub(store, monkeypatch):
    """The process's push hub, attached to a loop of its own, once it vouches for a workshop's revision."""
    import asyncio

    from facilitation import live_hub

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    hub = live_hub.Hub(read_signature=lambda _s, _w: (0, ()))
    hub.attach(loop)
    monkeypatch.setattr(live_hub, "hub", hub)

    def watch(workshop):
        hub.follow(store, workshop.id, "projector", topics=W.TOPICS, revision=W.revision(store, workshop.id), wake=lambda: True)
        for _ in range(100):
            if hub.revision(store.url, workshop.id) is not None:
                return
            time.sleep(0.05)

    yield watch
    hub.detach()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_who_has_told_a_story_is_read_once_while_a_room_sends_and_a_teller_stays_known(
        store, make_workshop, make_participant, answers, monkeypatch, vouching_hub):
    """At a deadline every story moves the room: a phone redrawn after its own Send must not read every
    teller of the room again (facilitation/sending.py tells the cache)."""
    from facilitation import sending

    workshop, _ = make_workshop()
    people = [make_participant(workshop) for _ in range(4)]
    W.open_exercise(store, workshop.id, 0)
    vouching_hub(workshop)
    assert not live_cache.may_have_stories(store, workshop.id, "over_the_wall", people[0].id)
    calls = count_calls(monkeypatch, "storytellers")
    for i, person in enumerate(people):  # each story moves "stories" for the whole room
        post = sending.StoryPost(workshop.code, person.token, "over_the_wall", f"form-{i}", answers())
        assert sending.send_story(store, post).ok
        assert live_cache.may_have_stories(store, workshop.id, "over_the_wall", person.id)
    assert calls == []  # every teller known from the Send itself
    stranger = make_participant(workshop)
    assert not live_cache.may_have_stories(store, workshop.id, "over_the_wall", stranger.id)
    assert calls == [1]  # someone not known as a teller: the room is read again, once


def test_after_people_change_the_whole_room_is_read_in_one_query_and_a_removed_token_stops_working(
        store, make_workshop, make_participant, monkeypatch, vouching_hub):
    workshop, _ = make_workshop()
    people = [make_participant(workshop) for _ in range(20)]
    vouching_hub(workshop)
    late = make_participant(workshop)  # "people" moved: everyone cached before is stale
    room_reads, one_by_one = count_calls(monkeypatch, "list_participants"), count_calls(monkeypatch, "participant_by_token")
    assert [live_cache.participant(store, workshop.id, p.token) for p in [*people, late]] == [*people, late]
    assert live_cache.participant(store, workshop.id, "no-such-token") is None
    assert room_reads == [1] and one_by_one == [1]  # the stranger's token, not in the room read
    participants.remove_participant(store, workshop.id, people[0].id)
    live_cache._room_reads.clear()  # as a second later
    assert live_cache.participant(store, workshop.id, people[0].token) is None
    assert live_cache.participant(store, workshop.id, people[1].token) == people[1]
    assert room_reads == [1, 1]
