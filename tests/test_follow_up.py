"""Commitments after the room: made in the workshop, updated from the participant's own link long
after it, seen on the 30-day check-in and brought into the next workshop of the same facilitator."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import icalendar
import pytest
import sqlalchemy as sa

from facilitation import archive, commitments, follow_up, lifecycle, report
from facilitation import workshops as W
from facilitation.store import commitment_updates, opening_reviews

KEY = "one_millimeter_forward"


def commit(store, workshop, person, action, connects_to="Support", by_when="2027-01-15", n=[0]):
    n[0] += 1
    options = commitments.serve_options(W.snapshot(store, workshop.id))  # a workshop of commitments only: none
    result = W.submit_story(store, person, KEY, {"action": action, "serves": options[0] if options else None,
                                                 "connects_to": connects_to, "by_when": by_when}, f"c-{n[0]}")
    assert result.ok, result.problems
    return result.story


@pytest.fixture
def room(store, make_workshop, make_participant):
    """A workshop that ran the commitments exercise and closed it: Ann (Sales) made two, Bo (Support) one."""
    workshop, key = make_workshop(organisation="Acme", agenda_plan=[("over_the_wall", 10), (KEY, 10)],
                                  held_on=dt.date(2026, 11, 2))
    ann = make_participant(workshop, "Ann", "Sales")
    bo = make_participant(workshop, "Bo", "Support")
    W.open_exercise(store, workshop.id, 0)
    assert W.submit_story(store, ann, "over_the_wall", {
        "stage": "Sale", "promise": "Live in two weeks", "experience": "Seven weeks", "next_function": "Implementation",
        "lost": "The go-live date that gets lost", "gap": 4}, "otw").ok
    W.open_exercise(store, workshop.id, 1)
    stories = [commit(store, workshop, ann, "Invite implementation to two discovery calls", "Implementation"),
               commit(store, workshop, ann, "Add the go-live date to the handoff note", "Implementation"),
               commit(store, workshop, bo, "Send sales a glossary of our ticket terms", "Sales", "2027-02-01")]
    W.close_exercise(store, workshop.id)
    return workshop, key, ann, bo, stories


def test_lifecycle_made_then_updated_from_the_link_then_seen_at_check_in_and_in_the_next_workshop(store, room):
    workshop, key, ann, bo, (first, second, third) = room
    # Weeks later the workshop is over (locked); Ann opens her private link again.
    again = W.participant_by_token(store, workshop.id, ann.token)
    mine = follow_up.commitments(store, workshop.id, again.id)
    assert [c.action for c in mine] == [first.answers["action"], second.answers["action"]]
    assert all(c.status == follow_up.OPEN for c in mine)
    assert follow_up.after_the_room(True, W.live_exercise(store, workshop.id).state, workshop.held_on,
                                    workshop.created_at, today=dt.date(2026, 12, 2))
    assert follow_up.set_status(store, again, first.id, "done", "Went to two calls with Priya").ok
    assert follow_up.set_status(store, again, second.id, "partly", "Template changed, not used yet").ok
    assert follow_up.set_status(store, bo, third.id, "dropped", "").ok

    check = follow_up.check_in(store, workshop.id, today=dt.date(2026, 12, 2))
    assert check.days_since == 30
    assert check.totals == follow_up.FollowThrough(made=3, done=1, partly=1, dropped=1, open=0)
    assert list(check.by_pair) == [("Sales", "Implementation"), ("Support", "Sales")]
    assert [c.note for c in check.by_pair[("Sales", "Implementation")]] == ["Went to two calls with Priya",
                                                                           "Template changed, not used yet"]
    assert [c.id for c in check.moved] == [first.id, second.id]

    # The next workshop, opened with the same key, starts with what is still open.
    nxt, same_key = W.create_workshop(store, title="Second round", organisation=" acme ", held_on=dt.date(2027, 2, 1),
                                      agenda_plan=[(KEY, 10)], facilitator_key=key)
    assert same_key == key
    before, still_open = follow_up.previous_open_commitments(store, nxt)
    assert before.id == workshop.id
    assert [c.id for c in still_open] == [second.id]  # partly done: still to review; done and dropped are not
    assert still_open[0].note == "Template changed, not used yet"


def test_during_the_workshop_the_link_keeps_the_live_exercise():
    today = dt.date(2026, 11, 2)
    assert not follow_up.after_the_room(True, "open", today, 0.0, today=today)  # the room is taking stories
    assert not follow_up.after_the_room(False, "closed", today, 0.0, today=today)  # nothing committed yet
    assert follow_up.after_the_room(True, "closed", today, 0.0, today=today)  # locked: commitments first
    assert follow_up.after_the_room(True, "open", today, 0.0, today=today + dt.timedelta(days=1))  # the day is over


def test_another_facilitators_workshop_of_the_same_organisation_is_not_linked(store, room):
    workshop, _key, ann, _bo, _stories = room
    stranger, _ = W.create_workshop(store, title="Acme too", organisation="Acme", held_on=dt.date(2027, 2, 1),
                                    agenda_plan=[(KEY, 10)])
    assert follow_up.previous_open_commitments(store, stranger) == (None, [])
    assert [w.id for w in follow_up.linked_workshops(store, stranger)] == [stranger.id]
    with pytest.raises(W.WorkshopInputError) as refused:
        W.create_workshop(store, title="Guessing", organisation="Acme", agenda_plan=[(KEY, 10)],
                          facilitator_key="not-a-key-of-anyone")
    assert "opens no workshop" in refused.value.problems["facilitator_key"]


def test_only_the_teller_updates_a_commitment_and_bad_notes_are_refused_with_a_reason(store, room):
    workshop, _key, ann, bo, (first, _second, third) = room
    refused = follow_up.set_status(store, bo, first.id, "done", "not mine")
    assert not refused.ok and "your own" in refused.problems["_form"]
    assert not follow_up.set_status(store, ann, first.id, "finished").ok
    long = follow_up.set_status(store, ann, first.id, "done", "x" * (follow_up.NOTE_MAX_CHARS + 1))
    assert "limit is 300" in long.problems["note"]
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(commitment_updates)).scalar_one() == 0
    typed = "<b>done</b> :red[yes] $x$"
    assert follow_up.set_status(store, ann, first.id, "done", typed).ok
    assert follow_up.commitments(store, workshop.id, ann.id)[0].note == typed  # stored as typed
    assert follow_up.set_status(store, ann, first.id, "dropped", "changed my mind").ok  # the latest one counts
    assert [h[1] for h in follow_up.history(store, first.id)] == ["done", "dropped"]


def test_ics_file_parses_back_with_the_date_and_the_link(store, room):
    workshop, _key, ann, _bo, (first, second, _third) = room
    found = follow_up.commitments(store, workshop.id, ann.id)
    link = follow_up.participant_link("http://127.0.0.1:8501/participate?code=X&p=Y", workshop, ann)
    data = follow_up.commitment_ics(workshop, found, lambda c: link)
    cal = icalendar.Calendar.from_ical(data)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 2
    assert events[0].decoded("dtstart") == dt.date(2027, 1, 15)
    assert events[0].decoded("dtend") == dt.date(2027, 1, 16)
    assert str(events[0]["summary"]) == f"Commitment: {first.answers['action']}"
    assert str(events[0]["url"]) == link == f"http://127.0.0.1:8501/participate?code={workshop.code}&p={ann.token}"
    assert link in str(events[0]["description"])
    assert len({str(e["uid"]) for e in events}) == 2
    alarm = list(events[0].walk("VALARM"))[0]
    assert alarm.decoded("trigger") == dt.timedelta(days=-1)


def test_email_text_and_tracker_csv(store, room):
    workshop, _key, ann, bo, (first, _second, third) = room
    follow_up.set_status(store, bo, third.id, "done", "=HYPERLINK(\"x\")")
    found = follow_up.commitments(store, workshop.id)
    mail = follow_up.email_text(workshop, found[0], "http://h/participate?code=A&p=B")
    assert mail.splitlines()[0] == f"Subject: My commitment from {workshop.title}: {first.answers['action']}"
    assert "15 January 2027" in mail and "http://h/participate?code=A&p=B" in mail
    assert "Serves: Handoff · Sales → Implementation at Sale" in mail.splitlines()
    rows = list(csv.DictReader(io.StringIO(follow_up.tracker_csv(workshop, found, lambda c: "").decode("utf-8-sig"))))
    assert [r["Title"] for r in rows] == [c.action for c in found]
    assert rows[2]["Due date"] == "2027-02-01" and rows[2]["Status"] == "Done"
    assert rows[2]["What happened"].startswith("'=")  # never a formula in a spreadsheet
    assert rows[0]["Owner"] == "Ann"


def test_tracker_csv_names_nobody_when_names_are_off(store, make_workshop, make_participant):
    workshop, _ = make_workshop(agenda_plan=[(KEY, 10)], show_names=False)
    ann = make_participant(workshop, "Ann", "Sales")
    W.open_exercise(store, workshop.id, 0)
    commit(store, workshop, ann, "Call support weekly")
    rows = list(csv.DictReader(io.StringIO(follow_up.tracker_csv(workshop, follow_up.commitments(store, workshop.id),
                                                                 lambda c: "").decode("utf-8-sig"))))
    assert rows[0]["Owner"] == "" and rows[0]["Owner's function"] == "Sales"


def test_opening_review_shows_until_an_exercise_opens(store, room):
    workshop, key, *_ = room
    nxt, _ = W.create_workshop(store, title="Second", organisation="Acme", agenda_plan=[(KEY, 10)], facilitator_key=key,
                               held_on=dt.date(2027, 2, 1))
    follow_up.add_opening_review(store, nxt.id, clock=lambda: 100.0)
    review = follow_up.opening_review(store, nxt.id)
    assert not review.on_projector(None)
    rev = W.revision(store, nxt.id)
    follow_up.show_opening_review(store, nxt.id, clock=lambda: 200.0)
    assert W.revision(store, nxt.id) > rev  # the projector redraws
    review = follow_up.opening_review(store, nxt.id)
    assert review.on_projector(None) and review.on_projector(150.0)
    assert not review.on_projector(250.0)  # an exercise opened after it takes the screen
    follow_up.end_opening_review(store, nxt.id)
    assert not follow_up.opening_review(store, nxt.id).on_projector(None)


def test_report_and_trend_rows_show_follow_through(store, room):
    workshop, key, ann, bo, (first, second, third) = room
    follow_up.set_status(store, ann, first.id, "done", "")
    follow_up.set_status(store, bo, third.id, "dropped", "")
    rows = follow_up.follow_through_by_workshop(store, follow_up.linked_workshops(store, workshop))
    assert rows == [{"date": dt.date(2026, 11, 2), "workshop": workshop.title, "made": 3, "done": 1,
                     "partly done": 0, "dropped": 1, "open": 1}]
    from docx import Document

    data = report.build_report(W.snapshot(store, workshop.id), include_map_image=False,
                               after_the_room=report_after(store, workshop))
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "Commitment follow-through" in text
    assert "3 made · 1 done · 0 partly done · 1 dropped · 1 open" in text


def report_after(store, workshop):
    from facilitation import after_report

    return after_report.gather(store, workshop)


def test_delete_and_archive_cover_updates_reviews_and_themes(store, room, tmp_path):
    workshop, key, ann, _bo, (first, *_rest) = room
    follow_up.set_status(store, ann, first.id, "done", "Went well")
    follow_up.add_opening_review(store, workshop.id)
    data = archive.archive_json(store, workshop.id)
    held = json.loads(data)
    assert "commitment_updates" in json.dumps(held) and "opening_reviews" in json.dumps(held)
    restored = archive.import_archive(store, data).workshop
    again = follow_up.commitments(store, restored.id)
    assert [(c.action, c.status, c.note) for c in again][0] == (first.answers["action"], "done", "Went well")
    lifecycle.delete_workshop(store, workshop.id, key)
    with store.read() as conn:
        left = conn.execute(sa.select(commitment_updates.c.workshop_id)).scalars().all()
        reviews = conn.execute(sa.select(opening_reviews.c.workshop_id)).scalars().all()
    assert left == [restored.id] and reviews == [restored.id]
