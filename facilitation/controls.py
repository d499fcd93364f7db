"""What a facilitator does during a live session, and what participants do besides telling stories.

Time (add a minute, lock at zero), blind collection and reveal, dot voting, spotlight, hiding a
story, proxy entry, building on a story, agenda order and anonymity. Every change bumps the
workshop's revision in the same transaction, so every screen follows within one poll.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from dataclasses import dataclass

import sqlalchemy as sa

from . import input_rules
from .i18n import N_
from . import workshops as workshops_rules
from .exercises import library
from .store import Store, agenda_items, participants, stories, votes, workshops
from .workshops import (
    NOT_SAVED_YET, Clock, LiveExercise, Participant, StaleControl, SubmitResult, WorkshopInputError, _agenda_item,
    _bump, _stories_query, _story, check_item, live_exercise, offered_handoffs,
)

BUILD_ON_MAX_CHARS = 600
TELLER_NAME_MAX = 60
MAX_MINUTES = 180

# Dots are for other people's stories unless the exercise's file says `own_votes = true` under [room].
OWN_STORY_VOTE = N_("This is your own story: put your dots on other people's stories.")


@dataclass(frozen=True)
class VoteResult:
    ok: bool
    message: str = ""


class ConfirmPastZero(WorkshopInputError):
    """A change of minutes that would put an open exercise past zero and lock the room out: ask first."""

    def __init__(self, message: str):
        super().__init__({"confirm": message})


def _set_item(store: Store, workshop_id: int, position: int, *, exercise_key: str | None = None, live: bool = False,
              **values) -> None:
    with store.write() as conn:
        check_item(conn, workshop_id, position, exercise_key, live=live)
        found = conn.execute(sa.update(agenda_items).where(
            agenda_items.c.workshop_id == workshop_id, agenda_items.c.position == position).values(**values)).rowcount
        if not found:
            raise WorkshopInputError({"agenda": "That exercise is not on this workshop's agenda."})
        _bump(conn, workshop_id, "live")


def _set_workshop(store: Store, workshop_id: int, **values) -> None:
    with store.write() as conn:
        conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id).values(**values))
        _bump(conn, workshop_id, "live")


# --- time ----------------------------------------------------------------------------------

def add_time(store: Store, workshop_id: int, seconds: int = 60, *, position: int | None = None,
             exercise_key: str | None = None, clock: Clock = time.time) -> None:
    """Give the room `seconds` more from now: from the deadline while time is left, from now once past zero.

    So three clicks of "+1 minute" long after zero open three minutes, not what is left of three
    minutes counted from zero. A console names the item (`position`, `exercise_key`); refused
    (StaleControl) when another screen opened something else meanwhile.
    """
    with store.write() as conn:
        if position is not None:
            check_item(conn, workshop_id, position, exercise_key, live=True)
        w = conn.execute(sa.select(workshops.c.live_position).where(workshops.c.id == workshop_id)
                         .with_for_update()).one()
        if w.live_position is None:
            return
        row = conn.execute(sa.select(agenda_items).where(
            agenda_items.c.workshop_id == workshop_id, agenda_items.c.position == w.live_position)).one()
        if row.opened_at is None:
            return
        deadline = row.opened_at + row.minutes * 60 + row.extra_seconds
        start = max(deadline, clock())
        extra = math.ceil(start + seconds - row.opened_at - row.minutes * 60)
        conn.execute(sa.update(agenda_items).where(agenda_items.c.id == row.id).values(extra_seconds=extra))
        _bump(conn, workshop_id, "live")


def set_lock_at_zero(store: Store, workshop_id: int, lock: bool) -> None:
    """Whether submissions stop by themselves when the countdown reaches zero (the whole workshop's setting)."""
    _set_workshop(store, workshop_id, lock_at_zero=lock)


def set_minutes(store: Store, workshop_id: int, position: int, minutes: int, *, exercise_key: str | None = None,
                confirmed: bool = False, clock: Clock = time.time) -> None:
    """Plan `minutes` for an agenda item. For the open exercise, a change that puts the countdown past
    zero (and so locks the room out, with lock at zero on) is refused with ConfirmPastZero unless `confirmed`."""
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise WorkshopInputError({"minutes": f"Minutes must be a whole number from 1 to {MAX_MINUTES}."})
    with store.write() as conn:
        check_item(conn, workshop_id, position, exercise_key)
        w = conn.execute(sa.select(workshops.c.live_position, workshops.c.live_state, workshops.c.lock_at_zero)
                         .where(workshops.c.id == workshop_id).with_for_update()).one()
        row = conn.execute(sa.select(agenda_items).where(agenda_items.c.workshop_id == workshop_id,
                                                         agenda_items.c.position == position)).first()
        if row is None:
            raise WorkshopInputError({"agenda": "That exercise is not on this workshop's agenda."})
        live_open = w.live_position == position and w.live_state == "open" and row.opened_at is not None
        if live_open and w.lock_at_zero and not confirmed:
            now = clock()
            old_deadline = row.opened_at + row.minutes * 60 + row.extra_seconds
            new_deadline = row.opened_at + minutes * 60 + row.extra_seconds
            if new_deadline <= now < old_deadline:
                ran = max(0, round((now - row.opened_at) / 60))
                raise ConfirmPastZero(
                    f"{minutes} min is already past: this exercise has run for {ran} min, so the room would be "
                    "locked out at once. Lock them out now, or keep the current minutes?")
        conn.execute(sa.update(agenda_items).where(agenda_items.c.id == row.id).values(minutes=minutes))
        _bump(conn, workshop_id)


# --- agenda --------------------------------------------------------------------------------

def move_agenda_item(store: Store, workshop_id: int, position: int, delta: int, *,
                     exercise_key: str | None = None) -> None:
    """Move an agenda item up (delta -1) or down (+1); the live exercise stays live wherever it goes.

    `exercise_key` is the exercise the console showed at `position` (refused when it moved meanwhile)."""
    with store.write() as conn:
        check_item(conn, workshop_id, position, exercise_key)
        rows = conn.execute(sa.select(agenda_items.c.id, agenda_items.c.position)
                            .where(agenda_items.c.workshop_id == workshop_id)
                            .order_by(agenda_items.c.position)).all()
        index = next((i for i, r in enumerate(rows) if r.position == position), None)
        target = None if index is None else index + delta
        if target is None or not 0 <= target < len(rows):
            return
        a, b = rows[index], rows[target]
        live_position = conn.execute(sa.select(workshops.c.live_position)
                                     .where(workshops.c.id == workshop_id)).scalar_one()
        # Swap through a free position so the unique (workshop, position) constraint holds at every step.
        parking = -1 - len(rows)
        conn.execute(sa.update(agenda_items).where(agenda_items.c.id == a.id).values(position=parking))
        conn.execute(sa.update(agenda_items).where(agenda_items.c.id == b.id).values(position=a.position))
        conn.execute(sa.update(agenda_items).where(agenda_items.c.id == a.id).values(position=b.position))
        if live_position in (a.position, b.position):
            moved_to = b.position if live_position == a.position else a.position
            conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id).values(live_position=moved_to))
        _bump(conn, workshop_id, "live")


# --- blind collection and reveal ------------------------------------------------------------

def set_blind(store: Store, workshop_id: int, position: int, blind: bool, *, exercise_key: str | None = None) -> None:
    """Collect this exercise's stories blind: the projector shows only a count until reveal."""
    _set_item(store, workshop_id, position, exercise_key=exercise_key, blind=blind, revealed_at=None)


def reveal(store: Store, workshop_id: int, position: int, clock: Clock = time.time, *,
           exercise_key: str | None = None) -> None:
    """Show the stories collected blind, all at once."""
    _set_item(store, workshop_id, position, exercise_key=exercise_key, revealed_at=clock())


# --- voting --------------------------------------------------------------------------------

def set_voting(store: Store, workshop_id: int, position: int, state: str, dots: int | None = None, *,
               exercise_key: str | None = None) -> None:
    """Open, close (results stay) or switch off dot voting on an agenda item; `dots` is the cap per person.

    With `exercise_key` (a console's press) the item must still be the live one, else StaleControl."""
    if state not in ("off", "open", "closed"):
        raise ValueError(state)
    values: dict = {"voting": state}
    if dots is not None:
        if not 1 <= dots <= 20:
            raise WorkshopInputError({"dots": "Dots per person must be between 1 and 20."})
        values["dots"] = dots
    _set_item(store, workshop_id, position, exercise_key=exercise_key, live=exercise_key is not None, **values)


def _vote_target_problem(conn, participant: Participant, story_id: int, *, for_dot: bool = False) -> tuple[str | None, int]:
    """Why this participant cannot put a dot on this story now (or None), and the cap."""
    w = conn.execute(sa.select(workshops.c.live_position).where(workshops.c.id == participant.workshop_id)
                     .with_for_update()).one()
    if w.live_position is None:
        return N_("Voting is not open."), 0
    item = _agenda_item(conn.execute(sa.select(agenda_items).where(
        agenda_items.c.workshop_id == participant.workshop_id, agenda_items.c.position == w.live_position)).one())
    if item.voting != "open":
        return N_("Voting is closed."), item.dots
    story = conn.execute(sa.select(stories.c.exercise_key, stories.c.hidden, stories.c.builds_on,
                                   stories.c.participant_id).where(
        stories.c.id == story_id, stories.c.workshop_id == participant.workshop_id)).first()
    if story is None or story.hidden or story.builds_on is not None or story.exercise_key != item.exercise_key:
        return N_("That story is not part of this vote."), item.dots
    if for_dot and story.participant_id == participant.id and not item.exercise.own_votes:
        return OWN_STORY_VOTE, item.dots
    if not item.on_projector:
        return N_("The stories have not been revealed yet."), item.dots
    return None, item.dots


def _english(message: str) -> str:
    return message


def cast_vote(store: Store, participant: Participant, story_id: int, clock: Clock = time.time,
              gettext=_english) -> VoteResult:
    """Put one dot on a story (one per story, at most the item's cap per person); the message in the
    room's language with `gettext`."""
    _ = gettext
    try:
        with store.write() as conn:
            problem, cap = _vote_target_problem(conn, participant, story_id, for_dot=True)
            if problem:
                return VoteResult(False, _(problem))
            exercise_key = conn.execute(sa.select(stories.c.exercise_key).where(stories.c.id == story_id)).scalar_one()
            mine = conn.execute(sa.select(votes.c.story_id).select_from(votes.join(stories, votes.c.story_id == stories.c.id))
                                .where(votes.c.participant_id == participant.id,
                                       stories.c.exercise_key == exercise_key)).scalars().all()
            if story_id in mine:
                return VoteResult(True, _("Your dot is already on this story."))
            if len(mine) >= cap:
                return VoteResult(False, _("You have used all {cap} of your dots. Take one back to move it.").format(cap=cap))
            conn.execute(sa.insert(votes).values(workshop_id=participant.workshop_id, story_id=story_id,
                                                 participant_id=participant.id, created_at=clock()))
            _bump(conn, participant.workshop_id, "votes")
    except sa.exc.IntegrityError:
        return VoteResult(True, _("Your dot is already on this story."))
    except sa.exc.OperationalError:
        return VoteResult(False, _(NOT_SAVED_YET))
    return VoteResult(True, _("Dot placed."))


def withdraw_vote(store: Store, participant: Participant, story_id: int, gettext=_english) -> VoteResult:
    """Take a dot back while voting is open."""
    with store.write() as conn:
        problem, _cap = _vote_target_problem(conn, participant, story_id)
        if problem:
            return VoteResult(False, gettext(problem))
        gone = conn.execute(sa.delete(votes).where(votes.c.story_id == story_id,
                                                   votes.c.participant_id == participant.id)).rowcount
        if gone:
            _bump(conn, participant.workshop_id, "votes")
    return VoteResult(True, gettext("Dot taken back."))


def my_dots(store: Store, participant: Participant, exercise_key: str) -> set[int]:
    """The stories of one exercise this participant has put a dot on."""
    with store.read() as conn:
        return set(conn.execute(sa.select(votes.c.story_id).select_from(votes.join(stories, votes.c.story_id == stories.c.id))
                                .where(votes.c.participant_id == participant.id,
                                       stories.c.exercise_key == exercise_key)).scalars())


# --- moderation and the projector ------------------------------------------------------------

def hide_story(store: Store, workshop_id: int, story_id: int, hidden: bool = True) -> None:
    """Hide a story from every screen and the report body; it is kept, never deleted."""
    with store.write() as conn:
        conn.execute(sa.update(stories).where(stories.c.id == story_id, stories.c.workshop_id == workshop_id)
                     .values(hidden=hidden))
        if hidden:
            conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id,
                                                    workshops.c.spotlight_story_id == story_id)
                         .values(spotlight_story_id=None))
        _bump(conn, workshop_id, "stories")


def set_spotlight(store: Store, workshop_id: int, story_id: int | None, *, position: int | None = None,
                  exercise_key: str | None = None) -> None:
    """Show one story full-screen on the projector (None to go back to the wall).

    A console names the live item it showed (`position`, `exercise_key`): refused when another
    screen opened something else meanwhile, so an old story never takes over the new exercise's wall.
    """
    with store.write() as conn:
        if position is not None:
            check_item(conn, workshop_id, position, exercise_key, live=True)
        if story_id is not None:
            ok = conn.execute(sa.select(stories.c.id).where(stories.c.id == story_id, stories.c.workshop_id == workshop_id,
                                                            stories.c.hidden == sa.false())).first()
            if ok is None:
                raise WorkshopInputError({"story": "That story cannot be shown."})
        conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id).values(spotlight_story_id=story_id))
        _bump(conn, workshop_id)


def set_show_names(store: Store, workshop_id: int, show: bool) -> None:
    """Names on the projector and in the report, or anonymous."""
    _set_workshop(store, workshop_id, show_names=show)


# --- stories told another way --------------------------------------------------------------------

def submit_proxy_story(store: Store, workshop_id: int, *, exercise_key: str, function: str, teller_name: str,
                       answers: dict, idempotency_key: str, clock: Clock = time.time) -> SubmitResult:
    """The facilitator types a story for someone in the room (no device, or the story was told aloud)."""
    exercise = library().get(exercise_key)
    if exercise is None:
        return SubmitResult(None, problems={"_form": "This exercise no longer exists."})
    try:
        serves = workshops_rules.serve_options(store, workshop_id, exercise)
        with store.write() as conn:
            existing = conn.execute(_stories_query(workshop_id).where(stories.c.idempotency_key == idempotency_key)).first()
            if existing is not None:
                return SubmitResult(_story(existing), created=False)
            w = conn.execute(sa.select(workshops).where(workshops.c.id == workshop_id).with_for_update()).one()
            on_agenda = conn.execute(sa.select(agenda_items.c.id).where(
                agenda_items.c.workshop_id == workshop_id, agenda_items.c.exercise_key == exercise_key)).first()
            problems = {} if on_agenda else {"_form": "That exercise is not on this workshop's agenda."}
            if function not in w.functions:
                problems["_function"] = "Please choose the teller's function."
            if p := input_rules.text_problem(teller_name, max_chars=TELLER_NAME_MAX, required=False,
                                             what="The teller's name", one_line=True):
                problems["_teller"] = p
            problems.update(input_rules.answer_problems(
                exercise, answers, functions=list(w.functions), stages=list(w.stages), partners=_names(conn, workshop_id),
                handoffs=offered_handoffs(conn, w, exercise, function),
                own_function=function, serves=serves, today=_dt.date.fromtimestamp(clock()),
                # Told aloud in a paced exercise: the rounds they answered (the first at least).
                rounds=input_rules.rounds_given(exercise, answers) if exercise.paced else None))
            if problems:
                return SubmitResult(None, problems=problems)
            now = clock()
            story_id = conn.execute(sa.insert(stories).values(
                workshop_id=workshop_id, exercise_key=exercise_key, participant_id=None, function=function,
                proxy_name=(teller_name or "").strip() or None, answers=input_rules.normalise_answers(exercise, answers),
                idempotency_key=idempotency_key, hidden=False, created_at=now, updated_at=now)).inserted_primary_key[0]
            _bump(conn, workshop_id, "stories")
            row = conn.execute(_stories_query(workshop_id).where(stories.c.id == story_id)).one()
    except sa.exc.OperationalError:
        return SubmitResult(None, problems={"_form": NOT_SAVED_YET})
    return SubmitResult(_story(row), created=True)


def _names(conn, workshop_id: int) -> list[str]:
    return [r.display_name for r in conn.execute(sa.select(participants.c.display_name)
                                                 .where(participants.c.workshop_id == workshop_id))]


def build_on(store: Store, participant: Participant, story_id: int, text: str, idempotency_key: str,
             clock: Clock = time.time, gettext=_english) -> SubmitResult:
    """Add to someone else's story ("build on it") while its exercise takes stories (a refusal in the
    room's language with `gettext`)."""
    if p := input_rules.text_problem(text, max_chars=BUILD_ON_MAX_CHARS, what=N_("Your addition"), gettext=gettext):
        return SubmitResult(None, problems={"addition": p})
    try:
        with store.write() as conn:
            existing = conn.execute(_stories_query(participant.workshop_id)
                                    .where(stories.c.idempotency_key == idempotency_key)).first()
            if existing is not None:
                return SubmitResult(_story(existing), created=False)
            target = conn.execute(sa.select(stories).where(stories.c.id == story_id,
                                                           stories.c.workshop_id == participant.workshop_id)).first()
            exercise = library().get(target.exercise_key) if target is not None else None
            if target is None or target.hidden or target.builds_on is not None or exercise is None or not exercise.build_on:
                return SubmitResult(None, problems={"_form": gettext("You cannot add to that story.")})
            w = conn.execute(sa.select(workshops).where(workshops.c.id == participant.workshop_id).with_for_update()).one()
            item = None if w.live_position is None else _agenda_item(conn.execute(sa.select(agenda_items).where(
                agenda_items.c.workshop_id == w.id, agenda_items.c.position == w.live_position)).one())
            live = LiveExercise(revision=w.revision, item=item, state=w.live_state, lock_at_zero=bool(w.lock_at_zero))
            if item is None or item.exercise_key != target.exercise_key or not live.accepting(clock(), grace=workshops_rules.SEND_GRACE_SECONDS):
                return SubmitResult(None, problems={"_form": gettext(
                    "Not sent: this exercise is not taking additions now. Your text is still in the box.")})
            now = clock()
            new_id = conn.execute(sa.insert(stories).values(
                workshop_id=w.id, exercise_key=target.exercise_key, participant_id=participant.id,
                function=participant.function, builds_on=story_id, answers={"addition": text},
                idempotency_key=idempotency_key, hidden=False, created_at=now, updated_at=now)).inserted_primary_key[0]
            _bump(conn, w.id, "stories")
            row = conn.execute(_stories_query(w.id).where(stories.c.id == new_id)).one()
    except sa.exc.OperationalError:
        return SubmitResult(None, problems={"_form": gettext(NOT_SAVED_YET)})
    return SubmitResult(_story(row), created=True)


def lock_state(live: LiveExercise, now: float) -> tuple[str, str]:
    """The live exercise's lock state for the console: ("open" | "locked" | "overtime", a sentence)."""
    if live.item is None:
        return "locked", "Nothing is live."
    if live.state != "open":
        return "locked", "The room cannot send stories. Reopen it on the agenda to take more."
    if live.accepting(now):
        if live.time_is_up(now):
            return "overtime", "Time is up, still taking stories: lock at zero is off."
        return "open", "Taking stories" + (", until the countdown reaches zero." if live.lock_at_zero else ".")
    return "locked", "Time is up: the room cannot send stories. +1 minute reopens it for one minute from now."
