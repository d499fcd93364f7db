"""The facilitator console (AppTest over the real page and store): stale controls are refused, the
timer obeys, and the console shows progress: who has not sent anything, a compact sortable list, the
spotlight marker with "End spotlight", and the live exercise's lock state (issues 11 item 9 and 12)."""

from __future__ import annotations

import time

import pytest

from facilitation import controls as C
from facilitation import workshops as W
from test_pages import all_text, app_db, run_page  # noqa: F401  (fixture re-export)

OTW = "over_the_wall"
RETENTION = "untold_retention_stories"


def otw(gap: int, experience: str) -> dict:
    return {"stage": "Sale", "promise": "Live in two weeks", "experience": experience, "next_function": "Implementation",
            "lost": "The date", "gap": gap}


@pytest.fixture
def console_room(app_db):  # noqa: F811
    workshop, key = W.create_workshop(app_db, title="Console", agenda_plan=[(RETENTION, 10), (OTW, 15)])
    people = [W.join_workshop(app_db, workshop.code, n, f) for n, f in
              (("Ana", "Sales"), ("Ben", "Support"), ("Cy", "Support"), ("Dee", "Finance/billing"))]
    W.open_exercise(app_db, workshop.id, 1)
    told = [W.submit_story(app_db, p, OTW, otw(gap, text), f"s{i}").story
            for i, (p, gap, text) in enumerate(zip(people[:3], (2, 5, 3), ("First <b>in</b>", "Second", "Third")))]
    return workshop, key, people, told


def waiting_table(at):
    return next(d.value for d in at.dataframe if "Waiting" in d.value.columns)


def console(workshop, key):
    at = run_page("pages/console.py", code=workshop.code, key=key)
    assert not at.exception, at.exception
    return at


def test_a_lock_from_a_stale_console_is_refused_and_names_what_is_live(console_room, app_db):
    workshop, key, _, _ = console_room
    at = console(workshop, key)                      # this console shows item 2 live
    W.open_exercise(app_db, workshop.id, 0)          # another console opens item 1 meanwhile
    at.button(key="close-1").click().run()
    assert not at.exception
    assert any("no longer live" in e.value and "1. Untold retention stories is live now" in e.value for e in at.error)
    live = W.live_exercise(app_db, workshop.id)
    assert live.item.position == 0 and live.state == "open"  # the old console did not close it


def test_an_open_pressed_on_a_stale_console_does_not_restart_the_clock(console_room, app_db):
    workshop, key, _, _ = console_room
    at = console(workshop, key)
    W.open_exercise(app_db, workshop.id, 0, clock=lambda: time.time() - 120)  # another console, two minutes ago
    at.button(key="open-0").click().run()
    assert any("Not opened" in e.value for e in at.error)
    assert W.live_exercise(app_db, workshop.id).item.opened_at < time.time() - 100


def test_three_more_minutes_long_after_zero_open_three_minutes(console_room, app_db):
    workshop, key, _, _ = console_room
    W.open_exercise(app_db, workshop.id, 1, clock=lambda: time.time() - 30 * 60)  # zero was 15 minutes ago
    at = console(workshop, key)
    assert "Time is up: the room cannot send stories" in all_text(at)
    for _ in range(3):
        next(b for b in at.button if b.label == "+1 minute").click().run()
    left = W.live_exercise(app_db, workshop.id).seconds_left(time.time())
    assert 170 < left <= 181  # whole seconds, rounded up
    assert "Taking stories, until the countdown reaches zero." in all_text(at)


def test_minutes_that_would_lock_the_room_out_ask_first(console_room, app_db):
    workshop, key, _, _ = console_room
    W.open_exercise(app_db, workshop.id, 1, clock=lambda: time.time() - 8 * 60)
    at = console(workshop, key)
    at.number_input(key="min-1-15").set_value(5).run()
    assert any("would be locked out" in w.value for w in at.warning)
    assert W.live_exercise(app_db, workshop.id).item.minutes == 15
    at.button(key="keep-min-1").click().run()
    assert not at.warning and W.live_exercise(app_db, workshop.id).item.minutes == 15
    at.number_input(key="min-1-15").set_value(5).run()
    at.button(key="confirm-min-1").click().run()
    assert W.live_exercise(app_db, workshop.id).item.minutes == 5
    assert "Time is up: the room cannot send stories" in all_text(at)


def test_the_console_shows_who_has_not_sent_anything_yet(console_room, app_db):
    workshop, key, _, _ = console_room
    at = console(workshop, key)
    frame = waiting_table(at)
    assert list(frame["Function"]) == ["Finance/billing"] and list(frame["Who"]) == ["Dee"]
    assert any(e.label == "Not sent anything yet: 1 of 4" for e in at.expander)
    C.set_show_names(app_db, workshop.id, False)
    at = console(workshop, key)
    frame = waiting_table(at)
    assert "Who" not in frame.columns and list(frame["Waiting"]) == [1]


def test_compact_list_sorts_by_gap_and_votes_and_marks_the_spotlight(console_room, app_db):
    workshop, key, (ana, ben, cy, dee), told = console_room
    C.set_voting(app_db, workshop.id, 1, "open")
    for voter in (ana, ben, dee):
        assert C.cast_vote(app_db, voter, told[2].id).ok
    C.set_spotlight(app_db, workshop.id, told[0].id)
    at = console(workshop, key)
    at.toggle(key="incoming-compact").set_value(True).run()
    assert not at.exception, at.exception
    listed = next(d for d in at.dataframe if "Story" in d.value.columns).value
    assert list(listed["Story"]) == ["Third", "Second", "First <b>in</b>"]  # newest first
    assert list(listed["On projector"]) == ["", "", "★"]
    at.selectbox(key="incoming-sort").select("gap").run()
    listed = next(d for d in at.dataframe if "Story" in d.value.columns).value
    assert list(listed["Gap"]) == [5, 3, 2]
    at.selectbox(key="incoming-sort").select("votes").run()
    listed = next(d for d in at.dataframe if "Story" in d.value.columns).value
    assert list(listed["Story"])[0] == "Third" and list(listed["Dots"]) == [3, 0, 0]
    at.button(key="unspot-top").click().run()
    assert W.live_exercise(app_db, workshop.id).spotlight_story_id is None


def test_the_spotlighted_card_is_marked_with_end_spotlight_beside_it(console_room, app_db):
    workshop, key, _, told = console_room
    C.set_spotlight(app_db, workshop.id, told[1].id)
    at = console(workshop, key)
    assert "On the projector now" in all_text(at)
    assert [b.label for b in at.button if b.key == f"unspot-{told[1].id}"] == ["End spotlight"]
    assert not any(b.key == f"spot-{told[1].id}" for b in at.button)
    # The marked story comes first, before the newest.
    headlines = [t.value for t in at.text if t.value in ("First <b>in</b>", "Second", "Third")]
    assert headlines[0] == "Second"
    at.button(key=f"unspot-{told[1].id}").click().run()
    assert W.live_exercise(app_db, workshop.id).spotlight_story_id is None
    assert "On the projector now" not in all_text(at)


def test_the_console_shows_the_lock_state(console_room, app_db):
    workshop, key, _, _ = console_room
    at = console(workshop, key)
    assert "Taking stories, until the countdown reaches zero." in all_text(at)
    at.button(key="close-1").click().run()
    assert "The room cannot send stories. Reopen" in all_text(at)
    C.set_lock_at_zero(app_db, workshop.id, False)
    W.open_exercise(app_db, workshop.id, 1, clock=lambda: time.time() - 3600)
    at = console(workshop, key)
    assert "Time is up, still taking stories" in all_text(at)


def test_a_big_room_shows_the_newest_cards_and_the_compact_list_has_every_story(app_db):  # noqa: F811
    from facilitation import room

    workshop, key = W.create_workshop(app_db, title="Big room", agenda_plan=[(OTW, 15)])
    W.open_exercise(app_db, workshop.id, 0)
    n = room.CONSOLE_CARDS + 5
    for i in range(n):
        person = W.join_workshop(app_db, workshop.code, f"Teller {i}", "Sales")
        assert W.submit_story(app_db, person, OTW, otw(3, f"Story number {i:03d}"), f"big-{i}").ok
    at = console(workshop, key)
    text = all_text(at)
    assert f"Story number {n - 1:03d}" in text and f"Story number {n - room.CONSOLE_CARDS:03d}" in text
    assert f"Story number {n - room.CONSOLE_CARDS - 1:03d}" not in text and "Story number 000" not in text
    assert any(f"newest {room.CONSOLE_CARDS} of {n} stories" in c.value for c in at.caption)
    assert len([b for b in at.button if b.label == "Hide"]) == room.CONSOLE_CARDS
    at.toggle(key="incoming-compact").set_value(True).run()
    frame = next(d.value for d in at.dataframe if "Story" in d.value.columns)
    assert len(frame) == n
