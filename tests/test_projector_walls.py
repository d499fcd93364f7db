"""A wall bigger than the projector rotates through pages: every function that answered is on it,
and "showing N of M" counts exactly the stories on the screen."""

from __future__ import annotations

import re

import pytest

from facilitation import demo, room, rounds, workshops as W
from facilitation.exercises import library
from streamlit_browser import screen_for
from test_pages import all_text, run_page


def test_wall_pages_cover_every_story_once():
    groups = {f"F{i}": [f"F{i}-s{j}" for j in range(n)] for i, n in enumerate([1, 5, 2, 0, 3, 1, 1, 1, 1])}
    columns = room.wall_columns({g: s for g, s in groups.items() if s}, per_column=3)
    pages = [room.wall_page(columns, 4, slot, weight=lambda c: len(c[1])) for slot in range(3)]
    assert [p.number for p in pages] == [1, 2, 3] and pages[0].pages == 3
    shown = [story for p in pages for (_g, told, _part, _parts) in p.items for story in told]
    assert sorted(shown) == sorted(s for told in groups.values() for s in told)  # each story once
    assert sum(p.shown for p in pages) == pages[0].total == 15
    assert pages[0].note == f"showing {pages[0].shown} of 15 · page 1 of 3"
    assert room.wall_page(columns, 4, 3).number == 1  # and round again
    assert room.wall_page(["a"], 4, 7).note == ""  # a wall that fits says nothing


@pytest.fixture
def demo_room(monkeypatch, tmp_path):
    from facilitation.store import get_store

    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    store = get_store(url)
    workshop, _key = demo.create_demo_workshop(store)
    return store, workshop


def open_on_projector(store, workshop, exercise_key):
    position = next(i.position for i in W.agenda(store, workshop.id) if i.exercise_key == exercise_key)
    W.open_exercise(store, workshop.id, position)
    if library()[exercise_key].paced:  # the remarks of the first round (the demo leaves the room in the last)
        rounds.set_round(store, workshop.id, position, 0, exercise_key=exercise_key)


def projector_at(monkeypatch, workshop, slot: int):
    monkeypatch.setattr(room, "rotation_slot", lambda now, seconds=None: slot)
    at = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code))
    assert not at.exception, at.exception
    return at


def test_always_be_storytelling_puts_every_function_on_the_wall(demo_room, monkeypatch):
    """Old wall: 4 functions x 4 stories, with 9 functions in the room most never appeared."""
    store, workshop = demo_room
    open_on_projector(store, workshop, "always_be_storytelling")
    remarks = {s.answers["remark"]: s.function for s in W.snapshot(store, workshop.id).stories_for("always_be_storytelling")}
    assert len(set(remarks.values())) == 9
    seen_remarks, seen_functions, pages = set(), set(), None
    for slot in range(6):
        at = projector_at(monkeypatch, workshop, slot)
        texts = [t.value for t in at.text]
        on_screen = [t for t in texts if t in remarks]
        note = next(t for t in texts if t.startswith("showing "))
        shown, total, page, pages = map(int, re.match(r"showing (\d+) of (\d+) · page (\d+) of (\d+)", note).groups())
        assert shown == len(on_screen) and total == len(remarks)  # the count matches what is shown
        seen_remarks |= set(on_screen)
        seen_functions |= {f for f in workshop.functions if f in texts or any(t.startswith(f + " (") for t in texts)}
    assert pages and pages > 1
    assert seen_remarks == set(remarks)
    assert seen_functions == set(remarks.values())


def test_the_rooms_choice_stands_out_from_the_other_stories(demo_room, monkeypatch):
    store, workshop = demo_room
    open_on_projector(store, workshop, "untold_retention_stories")  # the demo's vote is closed
    at = projector_at(monkeypatch, workshop, 0)
    snap = W.snapshot(store, workshop.id)
    winner, dots = room.ranked(snap.stories_for("untold_retention_stories"), snap.vote_counts())[0]
    texts = [t.value for t in at.text]
    assert "The room's choice" in texts
    # The winner comes first, on its own, with its dots on a line of their own (not in a byline).
    runners = [s.answers["story"] for s in snap.stories_for("untold_retention_stories")
               if s != winner and s.answers["story"] in texts]  # the next three in the vote are shown beside it
    assert runners and texts.index(winner.answers["story"]) < min(texts.index(r) for r in runners)
    assert f"{'●' * dots} {dots} dots" in texts
    assert not [t for t in texts if "●" in t and "·" in t]
