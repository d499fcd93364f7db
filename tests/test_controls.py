"""The facilitator's live controls and what the room may see, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from facilitation import controls as C
from facilitation import room
from facilitation import workshops as W

OTW = "over_the_wall"
RETENTION = "untold_retention_stories"
HALF = "half_the_story"


class FakeClock:
    def __init__(self, now: float = 10_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def retention_answers(n: int = 0) -> dict:
    return {"practice": f"We call every new customer in week one ({n}).", "story": f"The time it mattered #{n}.",
            "teller": "Support", "audience": library_option(RETENTION, "audience"),
            "may_retell": library_option(RETENTION, "may_retell")}


def library_option(key: str, field: str) -> str:
    from facilitation.exercises import library
    return library()[key].field(field).options[0]


@pytest.fixture
def room_of_three(store, make_workshop, make_participant):
    w, key = make_workshop(agenda_plan=[(OTW, 15), (RETENTION, 10), (HALF, 10)])
    people = [make_participant(w, name=n, function=f) for n, f in (("Ana", "Sales"), ("Ben", "Support"), ("Cy", "Support"))]
    return w, key, people


# --- time ----------------------------------------------------------------------------------

def test_countdown_is_the_same_for_everyone_and_time_can_be_added(store, room_of_three, answers):
    w, _, (ana, *_rest) = room_of_three
    clock = FakeClock()
    W.open_exercise(store, w.id, 0, clock=clock)
    live = W.live_exercise(store, w.id)
    assert live.seconds_left(clock.now + 60) == 14 * 60  # a late joiner sees the same clock
    C.add_time(store, w.id, 60, clock=clock)
    assert W.live_exercise(store, w.id).seconds_left(clock.now + 60) == 15 * 60


def test_stories_stop_at_zero_and_the_text_stays(store, room_of_three, answers):
    w, _, (ana, bo, *_rest) = room_of_three
    clock = FakeClock()
    W.open_exercise(store, w.id, 0, clock=clock)
    # Pressed as the bell rang, reached by the server a few seconds later: still taken.
    clock.now += 15 * 60 + W.SEND_GRACE_SECONDS - 1
    assert not W.live_exercise(store, w.id).accepting(clock.now)  # the phones show it locked
    assert W.submit_story(store, bo, OTW, answers(), "at-the-bell", clock=clock).ok
    clock.now += 2
    result = W.submit_story(store, ana, OTW, answers(), "late-1", clock=clock)
    assert not result.ok and "time is up" in result.problems["_form"] and "still in the form" in result.problems["_form"]
    C.add_time(store, w.id, 60, clock=clock)  # "one more minute" reopens it
    assert W.submit_story(store, ana, OTW, answers(), "late-1", clock=clock).ok


def test_without_lock_at_zero_stories_keep_coming(store, room_of_three, answers):
    w, _, (ana, *_rest) = room_of_three
    clock = FakeClock()
    C.set_lock_at_zero(store, w.id, False)
    W.open_exercise(store, w.id, 0, clock=clock)
    clock.now += 3600
    assert W.live_exercise(store, w.id).time_is_up(clock.now)
    assert W.submit_story(store, ana, OTW, answers(), "late-2", clock=clock).ok


def test_reopening_resets_the_added_time(store, room_of_three):
    w, *_ = room_of_three
    clock = FakeClock()
    W.open_exercise(store, w.id, 0, clock=clock)
    C.add_time(store, w.id, 120, clock=clock)
    W.open_exercise(store, w.id, 0, clock=clock)
    assert W.live_exercise(store, w.id).item.deadline == clock.now + 15 * 60


# --- agenda --------------------------------------------------------------------------------

def test_reordering_keeps_the_live_exercise_live(store, room_of_three):
    w, *_ = room_of_three
    W.open_exercise(store, w.id, 1)
    C.move_agenda_item(store, w.id, 1, -1)
    assert [i.exercise_key for i in W.agenda(store, w.id)] == [RETENTION, OTW, HALF]
    assert W.live_exercise(store, w.id).exercise.key == RETENTION
    C.move_agenda_item(store, w.id, 0, -1)  # already first: nothing happens
    C.move_agenda_item(store, w.id, 2, +1)  # already last
    assert [i.exercise_key for i in W.agenda(store, w.id)] == [RETENTION, OTW, HALF]


# --- blind, hide, spotlight ---------------------------------------------------------------------

def test_blind_stories_reach_the_room_only_after_reveal(store, room_of_three):
    w, _, (ana, ben, _cy) = room_of_three
    C.set_blind(store, w.id, 1, True)
    W.open_exercise(store, w.id, 1)
    W.submit_story(store, ana, RETENTION, retention_answers(1), "b1")
    item = W.live_exercise(store, w.id).item
    assert room.room_stories(W.snapshot(store, w.id), item) == []
    C.reveal(store, w.id, 1)
    item = W.live_exercise(store, w.id).item
    assert [s.answers["story"] for s in room.room_stories(W.snapshot(store, w.id), item)] == ["The time it mattered #1."]


def test_hidden_story_is_kept_but_never_shown_and_leaves_the_spotlight(store, room_of_three):
    w, _, (ana, ben, _cy) = room_of_three
    W.open_exercise(store, w.id, 1)
    bad = W.submit_story(store, ana, RETENTION, retention_answers(1), "h1").story
    good = W.submit_story(store, ben, RETENTION, retention_answers(2), "h2").story
    C.set_spotlight(store, w.id, bad.id)
    assert W.live_exercise(store, w.id).spotlight_story_id == bad.id
    C.hide_story(store, w.id, bad.id)
    live = W.live_exercise(store, w.id)
    assert live.spotlight_story_id is None
    snap = W.snapshot(store, w.id)
    assert [s.id for s in room.room_stories(snap, live.item)] == [good.id]
    assert any(s.id == bad.id and s.hidden for s in snap.stories)  # kept, not deleted
    with pytest.raises(W.WorkshopInputError):
        C.set_spotlight(store, w.id, bad.id)
    C.hide_story(store, w.id, bad.id, hidden=False)
    assert len(room.room_stories(W.snapshot(store, w.id), live.item)) == 2


# --- voting --------------------------------------------------------------------------------

def test_dot_voting_respects_the_cap_and_can_move_dots(store, room_of_three):
    w, _, (ana, ben, cy) = room_of_three
    W.open_exercise(store, w.id, 1)
    # Ana tells none of them: her own story would take no dot (see the own-story test below).
    told = [W.submit_story(store, p, RETENTION, retention_answers(i), f"v{i}").story for i, p in enumerate((cy, ben, cy))]
    assert not C.cast_vote(store, ana, told[0].id).ok  # voting not open yet
    C.set_voting(store, w.id, 1, "open", dots=2)
    assert C.cast_vote(store, ana, told[0].id).ok
    assert C.cast_vote(store, ana, told[0].id).message == "Your dot is already on this story."
    assert C.cast_vote(store, ana, told[1].id).ok
    refused = C.cast_vote(store, ana, told[2].id)
    assert not refused.ok and "all 2 of your dots" in refused.message
    assert C.withdraw_vote(store, ana, told[0].id).ok
    assert C.cast_vote(store, ana, told[2].id).ok
    assert C.my_dots(store, ana, RETENTION) == {told[1].id, told[2].id}
    assert C.cast_vote(store, ben, told[2].id).ok
    snap = W.snapshot(store, w.id)
    assert snap.vote_counts() == {told[1].id: 1, told[2].id: 2}
    assert [s.id for s, _ in room.ranked(snap.stories_for(RETENTION), snap.vote_counts())] == [told[2].id, told[1].id, told[0].id]
    C.set_voting(store, w.id, 1, "closed")
    assert not C.cast_vote(store, cy, told[0].id).ok


def test_no_dots_on_hidden_or_unrevealed_stories(store, room_of_three):
    w, _, (ana, ben, _cy) = room_of_three
    C.set_blind(store, w.id, 1, True)
    W.open_exercise(store, w.id, 1)
    story = W.submit_story(store, ben, RETENTION, retention_answers(1), "u1").story
    C.set_voting(store, w.id, 1, "open")
    assert "not been revealed" in C.cast_vote(store, ana, story.id).message
    C.reveal(store, w.id, 1)
    C.hide_story(store, w.id, story.id)
    assert "not part of this vote" in C.cast_vote(store, ana, story.id).message


# --- proxy entry, build on -----------------------------------------------------------------------

def test_facilitator_enters_a_story_for_someone_in_the_room(store, room_of_three):
    w, *_ = room_of_three
    result = C.submit_proxy_story(store, w.id, exercise_key=RETENTION, function="Finance/billing", teller_name="Dee",
                                  answers=retention_answers(9), idempotency_key="p1")
    assert result.ok and result.story.by_proxy and result.story.function == "Finance/billing"
    assert result.story.author_name == "Dee"
    again = C.submit_proxy_story(store, w.id, exercise_key=RETENTION, function="Finance/billing", teller_name="Dee",
                                 answers=retention_answers(9), idempotency_key="p1")
    assert again.ok and not again.created
    bad = C.submit_proxy_story(store, w.id, exercise_key=RETENTION, function="Astrology", teller_name="",
                               answers={"story": ""}, idempotency_key="p2")
    assert not bad.ok and {"_function", "story", "practice"} <= set(bad.problems)


def test_building_on_a_story(store, room_of_three):
    w, _, (ana, ben, _cy) = room_of_three
    W.open_exercise(store, w.id, 2)
    half = {"number": "Renewal rate 92%", "number_kind": library_option(HALF, "number_kind"),
            "why_bought": "Their auditor asked for it.", "why_stay": "We answer the phone."}
    base = W.submit_story(store, ana, HALF, half, "base").story
    added = C.build_on(store, ben, base.id, "And support knows their plant manager by name.", "add1")
    assert added.ok
    snap = W.snapshot(store, w.id)
    assert [s.answers["addition"] for s in snap.build_ons(base.id)] == ["And support knows their plant manager by name."]
    assert [s.id for s in snap.stories_for(HALF)] == [base.id]  # additions live under their story
    assert not C.build_on(store, ben, base.id, "   ", "add2").ok
    W.close_exercise(store, w.id)
    assert "not taking additions" in C.build_on(store, ben, base.id, "Late", "add3").problems["_form"]


def test_no_building_on_stories_of_other_exercises(store, room_of_three):
    w, _, (ana, ben, _cy) = room_of_three
    W.open_exercise(store, w.id, 1)
    story = W.submit_story(store, ana, RETENTION, retention_answers(1), "r1").story
    assert C.build_on(store, ben, story.id, "More", "x1").problems == {"_form": "You cannot add to that story."}


# --- anonymity ---------------------------------------------------------------------------------

def test_small_functions_lose_their_label_when_anonymous(store, room_of_three, make_participant):
    w, _, (ana, ben, cy) = room_of_three
    dee = make_participant(w, name="Dee", function="Support")
    W.open_exercise(store, w.id, 1)
    for i, p in enumerate((ana, ben, cy, dee)):
        W.submit_story(store, p, RETENTION, retention_answers(i), f"a{i}")
    told = W.snapshot(store, w.id).stories_for(RETENTION)
    # Three Support people and Ana alone in Sales: labelling Support would leave Ana's story as the only
    # unlabelled one, Sales by elimination; so nothing is labelled until the unlabelled hide three people.
    assert room.labelled_functions(told, show_names=False) == set()
    for i, function in enumerate(("Marketing", "Product"), start=4):
        W.submit_story(store, make_participant(w, function=function), RETENTION, retention_answers(i), f"a{i}")
    told = W.snapshot(store, w.id).stories_for(RETENTION)
    labelled = room.labelled_functions(told, show_names=False)
    assert labelled == {"Support"}  # Sales has one, which would point at Ana
    sales_story = next(s for s in told if s.function == "Sales")
    assert room.byline(sales_story, show_names=False, labelled=labelled) == ""
    assert room.byline(told[1], show_names=False, labelled=labelled) == "Support"
    named = room.labelled_functions(told, show_names=True)
    assert room.byline(sales_story, show_names=True, labelled=named) == "Ana · Sales"
    C.set_show_names(store, w.id, False)
    assert W.get_workshop(store, w.id).show_names is False


def test_own_story_can_be_changed_until_the_exercise_locks(store, room_of_three, answers):
    w, _, (ana, ben, _cy) = room_of_three
    W.open_exercise(store, w.id, 0)
    story = W.submit_story(store, ana, OTW, answers(), "e1").story
    changed = W.edit_story(store, ana, story.id, answers(lost="The champion's name, actually."))
    assert changed.ok and changed.story.answers["lost"] == "The champion's name, actually."
    assert W.edit_story(store, ben, story.id, answers()).problems == {"_form": "You can only change your own stories."}
    assert "lost" in W.edit_story(store, ana, story.id, answers(lost="")).problems
    W.close_exercise(store, w.id)
    assert "locked" in W.edit_story(store, ana, story.id, answers(lost="too late")).problems["_form"]
    assert W.list_stories(store, w.id)[0].answers["lost"] == "The champion's name, actually."


def test_blind_stories_stay_off_the_projector_map(store, make_workshop, make_participant, answers):
    w, _ = make_workshop(agenda_plan=[(OTW, 15)])
    ana = make_participant(w, name="Ana", function="Sales")
    C.set_blind(store, w.id, 0, True)
    W.open_exercise(store, w.id, 0)
    W.submit_story(store, ana, OTW, answers(), "m1")
    assert room.room_snapshot(W.snapshot(store, w.id)).stories == []
    C.reveal(store, w.id, 0)
    assert len(room.room_snapshot(W.snapshot(store, w.id)).stories) == 1


# --- time from now, minutes past zero, when an item really stopped (issue 12) ---------------

def test_one_more_minute_after_zero_counts_from_now(store, room_of_three, answers):
    w, _, (ana, *_rest) = room_of_three
    clock = FakeClock()
    W.open_exercise(store, w.id, 0, clock=clock)
    clock.now += 15 * 60 + 5 * 60  # five minutes after zero
    for _ in range(3):
        C.add_time(store, w.id, 60, clock=clock)
    live = W.live_exercise(store, w.id)
    assert live.seconds_left(clock.now) == 3 * 60
    clock.now += 2 * 60 + 50
    assert W.submit_story(store, ana, OTW, answers(), "after-zero", clock=clock).ok
    clock.now += 11
    assert not W.live_exercise(store, w.id).accepting(clock.now)


def test_one_more_minute_before_zero_adds_to_what_is_left(store, room_of_three):
    w, *_ = room_of_three
    clock = FakeClock()
    W.open_exercise(store, w.id, 0, clock=clock)
    clock.now += 10 * 60
    C.add_time(store, w.id, 60, clock=clock)
    assert W.live_exercise(store, w.id).seconds_left(clock.now) == 6 * 60


def test_minutes_that_put_the_open_exercise_past_zero_ask_first(store, room_of_three, answers):
    w, _, (ana, *_rest) = room_of_three
    clock = FakeClock()
    W.open_exercise(store, w.id, 0, clock=clock)
    clock.now += 8 * 60
    with pytest.raises(C.ConfirmPastZero) as asked:
        C.set_minutes(store, w.id, 0, 5, exercise_key=OTW, clock=clock)
    assert "locked out" in asked.value.problems["confirm"] and "8 min" in asked.value.problems["confirm"]
    assert W.live_exercise(store, w.id).item.minutes == 15  # nothing changed yet
    assert W.submit_story(store, ana, OTW, answers(), "still-open", clock=clock).ok
    C.set_minutes(store, w.id, 0, 12, exercise_key=OTW, clock=clock)  # still ahead: no question
    C.set_minutes(store, w.id, 0, 5, exercise_key=OTW, confirmed=True, clock=clock)
    assert not W.live_exercise(store, w.id).accepting(clock.now)
    C.set_minutes(store, w.id, 1, 1, exercise_key=RETENTION, clock=clock)  # not live: never asks


def test_opening_the_next_item_records_when_the_previous_stopped(store, room_of_three):
    w, *_ = room_of_three
    clock = FakeClock()
    W.open_exercise(store, w.id, 0, clock=clock)
    clock.now += 600
    W.open_exercise(store, w.id, 1, clock=clock)  # never locked by hand
    clock.now += 20 * 60  # item 1 (10 min) locks at zero, nobody presses anything
    W.open_exercise(store, w.id, 2, clock=clock)
    first, second, third = W.agenda(store, w.id)
    assert first.closed_at == 10_600.0
    assert second.closed_at == second.opened_at + 10 * 60  # it really stopped at its zero
    assert third.closed_at is None
    clock.now += 60
    W.close_exercise(store, w.id, clock=clock)
    assert W.agenda(store, w.id)[2].closed_at == clock.now


# --- stale consoles (issue 11, item 9) ---------------------------------------------------------

def test_a_lock_pressed_on_a_stale_console_does_not_close_another_item(store, room_of_three):
    w, *_ = room_of_three
    W.open_exercise(store, w.id, 2)          # console A shows item 3 live
    W.open_exercise(store, w.id, 0)          # console B opens item 1 meanwhile
    with pytest.raises(W.StaleControl) as refused:
        W.close_exercise(store, w.id, 2, HALF)
    assert "no longer live" in refused.value.problems["stale"] and "1. Over the wall is live now" in refused.value.problems["stale"]
    live = W.live_exercise(store, w.id)
    assert live.item.position == 0 and live.state == "open"
    W.close_exercise(store, w.id, 0, OTW)
    assert W.live_exercise(store, w.id).state == "closed"


def test_every_live_control_is_refused_when_stale(store, room_of_three, answers):
    w, _, (ana, *_rest) = room_of_three
    W.open_exercise(store, w.id, 0)
    story = W.submit_story(store, ana, OTW, answers(), "s-1").story
    W.open_exercise(store, w.id, 1)  # another console moved on
    before = W.snapshot(store, w.id)
    for press in (lambda: C.add_time(store, w.id, 60, position=0, exercise_key=OTW),
                  lambda: C.set_voting(store, w.id, 0, "open", exercise_key=OTW),
                  lambda: C.set_spotlight(store, w.id, story.id, position=0, exercise_key=OTW),
                  lambda: W.open_exercise(store, w.id, 2, exercise_key=HALF, seen_live=(0, OTW))):
        with pytest.raises(W.StaleControl):
            press()
    after = W.snapshot(store, w.id)
    assert after.agenda == before.agenda and after.workshop.spotlight_story_id is None
    assert after.workshop.live_position == 1


def test_agenda_controls_name_the_exercise_not_just_the_position(store, room_of_three):
    w, *_ = room_of_three
    C.move_agenda_item(store, w.id, 0, +1)  # another console swapped items 1 and 2
    for press in (lambda: C.set_minutes(store, w.id, 0, 30, exercise_key=OTW),
                  lambda: C.set_blind(store, w.id, 0, True, exercise_key=OTW),
                  lambda: C.move_agenda_item(store, w.id, 0, +1, exercise_key=OTW),
                  lambda: W.open_exercise(store, w.id, 0, exercise_key=OTW, seen_live=None)):
        with pytest.raises(W.StaleControl):
            press()
    assert [(i.exercise_key, i.minutes, i.blind) for i in W.agenda(store, w.id)] == [
        (RETENTION, 10, False), (OTW, 15, False), (HALF, 10, False)]
    C.set_minutes(store, w.id, 1, 30, exercise_key=OTW)
    W.open_exercise(store, w.id, 1, exercise_key=OTW, seen_live=None)
    assert W.live_exercise(store, w.id).item.exercise_key == OTW


# --- an author cannot rewrite a story the room is voting on (issue 11, item 9) --------------------

def test_a_story_cannot_be_rewritten_while_the_room_votes_on_it(store, room_of_three, answers):
    w, _, (ana, ben, _cy) = room_of_three
    W.open_exercise(store, w.id, 0)
    story = W.submit_story(store, ana, OTW, answers(experience="The honest version."), "v-1").story
    C.set_voting(store, w.id, 0, "open")
    assert C.cast_vote(store, ben, story.id).ok
    edited = W.edit_story(store, ana, story.id, answers(experience="Something everyone loves."))
    assert not edited.ok and edited.problems["_form"] == W.EDIT_FROZEN_BY_VOTING
    C.set_voting(store, w.id, 0, "off")  # results hidden, but the dot is still on the story
    assert not W.edit_story(store, ana, story.id, answers(experience="Something everyone loves.")).ok
    (kept,) = W.list_stories(store, w.id)
    assert kept.answers["experience"] == "The honest version."
    other = W.submit_story(store, ben, OTW, answers(experience="Undotted."), "v-2").story
    assert W.edit_story(store, ben, other.id, answers(experience="Undotted, clearer.")).ok


def test_nobody_votes_for_their_own_story_unless_the_exercise_allows_it(store, make_workshop, make_participant, monkeypatch):
    import dataclasses

    from facilitation import controls as C
    from facilitation.exercises import library

    workshop, _ = make_workshop(agenda_plan=[("untold_retention_stories", 10)])
    ana, ben = make_participant(workshop, "Ana", "Sales"), make_participant(workshop, "Ben", "Support")
    W.open_exercise(store, workshop.id, 0)
    answers = {"practice": "Read contracts back", "story": "It mattered once.", "teller": "Sales",
               "audience": "Prospects close to signing", "may_retell": "Yes, as it is written"}
    mine = W.submit_story(store, ana, "untold_retention_stories", answers, "a1").story
    C.set_voting(store, workshop.id, 0, "open")
    refused = C.cast_vote(store, ana, mine.id)
    assert not refused.ok and refused.message == C.OWN_STORY_VOTE
    assert W.snapshot(store, workshop.id).vote_counts() == {}
    assert C.cast_vote(store, ben, mine.id).ok  # someone else's dot is fine
    # An exercise whose file says own_votes = true lets people vote for themselves.
    lib = dict(library())
    lib["untold_retention_stories"] = dataclasses.replace(lib["untold_retention_stories"], own_votes=True)
    monkeypatch.setattr("facilitation.workshops.library", lambda: lib)
    assert C.cast_vote(store, ana, mine.id).ok
