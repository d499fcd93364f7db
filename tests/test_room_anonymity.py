"""The ≥3-per-function rule with names off (room.named_functions / anonymous_snapshot), and when an
agenda item really stopped (room.stopped_at, the report's "Ran for"), on SQLite and PostgreSQL."""

from __future__ import annotations

import io

from docx import Document

from facilitation import controls as C
from facilitation import figure_images, report, room
from facilitation import workshops as W

OTW = "over_the_wall"


def test_named_functions_leave_at_least_three_people_unnamed_or_none():
    three = {"Sales": {1, 2, 3}, "Support": {4, 5, 6, 7}}
    assert room.named_functions(three) == {"Sales", "Support"}
    # One Finance person alone in "Other functions" would be Finance by elimination: Sales joins them.
    assert room.named_functions({**three, "Finance": {8}}) == {"Support"}
    assert room.named_functions({**three, "Finance": {8}, "Legal": {9}, "Ops": {10}}) == {"Sales", "Support"}
    assert room.named_functions({"Sales": {1, 2}}) == set()


def test_proxy_stories_with_one_name_count_as_one_teller():
    s = lambda i, name: W.Story(id=i, exercise_key=OTW, participant_id=None, author_name=name, function="Sales",  # noqa: E731
                                answers={}, hidden=False, created_at=i, updated_at=i, proxy_name=name)
    assert room.labelled_functions([s(1, "Ines"), s(2, "ines "), s(3, "Ines")], show_names=False) == set()
    assert room.labelled_functions([s(1, ""), s(2, ""), s(3, "")], show_names=False) == {"Sales"}


def _room(store, show_names: bool):
    w, _ = W.create_workshop(store, title="Anon", show_names=show_names, agenda_plan=[(OTW, 15)])
    W.open_exercise(store, w.id, 0)
    for n, function in enumerate(["Sales"] * 3 + ["Support"] * 4 + ["Finance/billing"]):
        p = W.join_workshop(store, w.code, f"P{n}", function)
        assert W.submit_story(store, p, OTW, {"stage": "Sale", "promise": "p", "experience": f"e{n}",
                                              "next_function": "Implementation", "lost": "l", "gap": 3}, f"k{n}").ok
    return w


def test_anonymous_snapshot_folds_small_functions_and_drops_names(store):
    w = _room(store, show_names=False)
    snap = room.anonymous_snapshot(W.snapshot(store, w.id))
    assert {s.function for s in snap.stories} == {"Support", room.OTHER_FUNCTIONS}
    assert not any(s.author_name for s in snap.stories)
    assert snap.workshop.functions[-1] == room.OTHER_FUNCTIONS and "Finance/billing" in snap.workshop.functions
    assert room.anonymous_snapshot(snap) == snap  # applying it twice changes nothing
    told = snap.stories_for(OTW)
    groups = room.by_function(W.snapshot(store, w.id).stories_for(OTW), w.functions,
                              labelled=room.labelled_functions(W.snapshot(store, w.id).stories_for(OTW), show_names=False))
    assert list(groups) == ["Support", room.OTHER_FUNCTIONS] and len(groups[room.OTHER_FUNCTIONS]) == 4
    assert len(told) == 8


def test_names_on_nothing_is_folded(store):
    w = _room(store, show_names=True)
    snap = W.snapshot(store, w.id)
    assert room.anonymous_snapshot(snap) is snap


def test_the_report_says_how_long_each_item_ran(store, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", lambda *a, **k: None)
    now = [1_800_000_000.0]
    clock = lambda: now[0]  # noqa: E731
    w, _ = W.create_workshop(store, title="Agenda", agenda_plan=[(OTW, 15), ("untold_retention_stories", 10),
                                                                  ("half_the_story", 10)])
    W.open_exercise(store, w.id, 0, clock=clock)
    now[0] += 12 * 60
    W.open_exercise(store, w.id, 1, clock=clock)  # nobody pressed Lock on item 1
    now[0] += 30 * 60                              # item 2 locks at its zero, 10 min in
    W.open_exercise(store, w.id, 2, clock=clock)
    now[0] += 60
    C.add_time(store, w.id, 60, clock=clock)
    doc = Document(io.BytesIO(report.build_report(W.snapshot(store, w.id, clock=clock))))
    agenda = next(t for t in doc.tables if t.rows[0].cells[0].text == "#")
    ran = [row.cells[5].text for row in agenda.rows[1:]]
    closed = [row.cells[4].text for row in agenda.rows[1:]]
    assert ran == ["12 min", "10 min", ""] and closed[2] == "still open"


def test_stopped_at_reads_older_workshops_that_never_recorded_a_close(store):
    w, _ = W.create_workshop(store, title="Old", agenda_plan=[(OTW, 15), ("untold_retention_stories", 10)])
    W.open_exercise(store, w.id, 1, clock=lambda: 5_000.0)
    snap = W.snapshot(store, w.id, clock=lambda: 5_100.0)
    first, second = snap.agenda
    import dataclasses
    legacy = dataclasses.replace(snap, agenda=[dataclasses.replace(first, opened_at=1_000.0, closed_at=None), second])
    assert room.stopped_at(legacy, legacy.agenda[0]) == 1_000.0 + 15 * 60  # locked at its zero before item 2 opened
    assert room.stopped_at(legacy, legacy.agenda[1]) is None               # live, still taking stories
    legacy = dataclasses.replace(legacy, agenda=[dataclasses.replace(first, opened_at=4_800.0, closed_at=None), second])
    assert room.stopped_at(legacy, legacy.agenda[0]) == 5_000.0            # replaced by the next item first
