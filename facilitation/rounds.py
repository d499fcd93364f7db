"""Paced rounds and the guess-first terminology wall.

An exercise file may cut its form into `[[rounds]]`. The facilitator moves the whole room from one
round to the next (`set_round`); each round is sent on its own (`submit_round`), checked on the
server for its own fields only, and adds to the same story: the first round sent makes the story,
later rounds add their answers to it. A person may still send an earlier round they did not finish;
a round the room has not reached yet is refused.

On the terminology wall the facilitator puts one term up at a time (`put_up_term`); people from the
other functions guess what it means on their phones (`submit_guess`, one guess per person, which
they may change) until the facilitator reveals the meaning (`reveal_term`). The term's author and
their function do not guess: they know.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import sqlalchemy as sa

from . import input_rules
from . import i18n
from .i18n import N_
from .exercises import Exercise, library
from .store import Store, agenda_items, drafts, exercise_rounds, guess_terms, guesses, participants, stories, story_rounds, workshops
from .workshops import (NOT_SAVED_YET, NOT_SENT_CLOSED, NOT_SENT_TIME_UP, SEND_GRACE_SECONDS, AgendaItem, Clock, Guess, LiveExercise,
                        Participant, Snapshot, Story,
                        SubmitResult, WorkshopInputError, _agenda_item, _bump, _round, _stories_query, _story,
                        check_item, serve_options)

GUESS_MAX_CHARS = 200


# --- rounds -----------------------------------------------------------------------------------

def set_round(store: Store, workshop_id: int, position: int, round_index: int, *, exercise_key: str | None = None,
              clock: Clock = time.time) -> None:
    """Move the room to round `round_index` of the live paced exercise (back as well as forward).

    A console names the item it acts on: refused (StaleControl) when it is no longer live.
    """
    with store.write() as conn:
        w = conn.execute(sa.select(workshops.c.live_position).where(workshops.c.id == workshop_id)
                         .with_for_update()).one()
        check_item(conn, workshop_id, position, exercise_key, live=True)
        if w.live_position != position:
            raise WorkshopInputError({"round": "Rounds move only for the exercise the room is on."})
        row = conn.execute(sa.select(agenda_items).where(agenda_items.c.workshop_id == workshop_id,
                                                         agenda_items.c.position == position)).one()
        exercise = library().get(row.exercise_key)
        if exercise is None or not exercise.paced:
            raise WorkshopInputError({"round": "This exercise is not done in rounds."})
        if not 0 <= round_index < len(exercise.rounds):
            raise WorkshopInputError({"round": f"This exercise has rounds 1 to {len(exercise.rounds)}."})
        updated = conn.execute(sa.update(exercise_rounds).where(exercise_rounds.c.agenda_item_id == row.id)
                               .values(round=round_index, changed_at=clock())).rowcount
        if not updated:
            conn.execute(sa.insert(exercise_rounds).values(workshop_id=workshop_id, agenda_item_id=row.id,
                                                           round=round_index, changed_at=clock()))
        _bump(conn, workshop_id, "live")


def _english(message: str) -> str:
    return message


def round_label(exercise: Exercise, index: int, gettext=_english) -> str:
    """'Round 2 of 3 · The company's story, then and now' (in the room's language with `gettext`)."""
    return gettext("Round {n} of {total} · {title}").format(n=index + 1, total=len(exercise.rounds),
                                                            title=exercise.rounds[index].title)


def rounds_in(exercise: Exercise, story: Story) -> set[int]:
    """The rounds a story has answers for."""
    if not exercise.paced:
        return {0}
    return {i for i, r in enumerate(exercise.rounds) if any(n in story.answers for n in r.fields)}


@dataclass(frozen=True)
class MyRounds:
    """Where one person is in a paced exercise: the story they are adding to and what is left to send."""

    story: Story | None   # the story later rounds add to (None: the next round sent starts one)
    sent: frozenset[int]  # rounds that story has
    to_send: tuple[int, ...]  # rounds the room has reached that are not sent yet, in order
    room_round: int

    @property
    def up_to_date(self) -> bool:
        return not self.to_send


def my_rounds(exercise: Exercise, mine: list[Story], room_round: int, *, starting_another: bool = False) -> MyRounds:
    """Where a person is: their latest story (unless they start another), its rounds, and what is open."""
    story = None if starting_another or not mine else mine[-1]
    sent = frozenset(rounds_in(exercise, story)) if story else frozenset()
    return MyRounds(story=story, sent=sent, to_send=tuple(i for i in range(room_round + 1) if i not in sent),
                    room_round=room_round)


def submit_round(store: Store, participant: Participant, exercise_key: str, round_index: int, answers: dict,
                 idempotency_key: str, *, story_id: int | None = None, clock: Clock = time.time) -> SubmitResult:
    """Send one round of a paced exercise: a new story (`story_id` None) or answers added to one's own story.

    Only this round's fields are checked and stored. The same idempotency key twice stores the round
    once. A refusal leaves every word where it was (the page keeps the form, the draft stays).
    """
    exercise = library().get(exercise_key)
    if exercise is None or not exercise.paced:
        return SubmitResult(None, problems={"_form": "This exercise is not done in rounds; please reload the page."})
    if not idempotency_key or len(idempotency_key) > 64:
        return SubmitResult(None, problems={"_form": "This form has lost its identity; please reload the page."})
    if not 0 <= round_index < len(exercise.rounds):
        return SubmitResult(None, problems={"_form": "This round is not part of the exercise; please reload the page."})
    fields = exercise.round_fields(round_index)
    answers = {f.name: answers.get(f.name) for f in fields} | {k: v for k, v in answers.items()
                                                               if k not in {f.name for f in fields}}
    try:
        serves = serve_options(store, participant.workshop_id, exercise)
        with store.write() as conn:
            done = conn.execute(sa.select(story_rounds.c.story_id).where(
                story_rounds.c.workshop_id == participant.workshop_id,
                story_rounds.c.idempotency_key == idempotency_key)).first()
            if done is not None:
                row = conn.execute(_stories_query(participant.workshop_id).where(stories.c.id == done.story_id)).one()
                return SubmitResult(_story(row), created=False)
            w = conn.execute(sa.select(workshops).where(workshops.c.id == participant.workshop_id).with_for_update()).one()
            # The participant's lock, as Send takes it: a draft saved as they type waits, then sees the round sent.
            conn.execute(sa.select(participants.c.id).where(participants.c.id == participant.id).with_for_update())
            row = None if w.live_position is None else conn.execute(sa.select(agenda_items).where(
                agenda_items.c.workshop_id == w.id, agenda_items.c.position == w.live_position)).first()
            item = _agenda_item(row) if row is not None else None
            live = LiveExercise(revision=w.revision, item=item, state=w.live_state, lock_at_zero=bool(w.lock_at_zero))
            if item is None or item.exercise_key != exercise_key or not live.accepting(clock(), grace=SEND_GRACE_SECONDS):
                time_up = item is not None and item.exercise_key == exercise_key and w.live_state == "open"
                return SubmitResult(None, problems={"_form": NOT_SENT_TIME_UP if time_up else NOT_SENT_CLOSED})
            room_round = min(_round(conn, row.id), len(exercise.rounds) - 1)
            if round_index > room_round:
                _ = i18n.translator(w.language).gettext
                return SubmitResult(None, problems={"_form": _(
                    "Not sent: round {round} has not started yet; the facilitator opens it for the whole "
                    "room. What you typed is kept.").format(round=round_index + 1)})
            problems = input_rules.answer_problems(exercise, answers, functions=list(w.functions), stages=list(w.stages),
                                                   own_function=participant.function, serves=serves,
                                                   today=dt.date.fromtimestamp(clock()),
                                                   rounds=[round_index],
                                                   gettext=i18n.translator(w.language).gettext)
            if problems:
                return SubmitResult(None, problems=problems)
            given = input_rules.normalise_answers(exercise, {f.name: answers.get(f.name) for f in fields})
            now = clock()
            if story_id is None:
                story_id = conn.execute(sa.insert(stories).values(
                    workshop_id=w.id, exercise_key=exercise_key, participant_id=participant.id,
                    function=participant.function, answers=given, idempotency_key=idempotency_key, hidden=False,
                    created_at=now, updated_at=now)).inserted_primary_key[0]
                created = True
            else:
                mine = conn.execute(_stories_query(w.id).where(stories.c.id == story_id,
                                                               stories.c.participant_id == participant.id)).first()
                if mine is None or mine.exercise_key != exercise_key or mine.builds_on is not None:
                    return SubmitResult(None, problems={"_form": "You can only add a round to your own story. "
                                                                 "Please reload the page; your text is kept."})
                story = _story(mine)
                if round_index in rounds_in(exercise, story):
                    return SubmitResult(None, problems={"_form": (
                        f"You have already sent round {round_index + 1} of this story: change it under "
                        "'What you sent'. Your new text is still in the form.")})
                conn.execute(sa.update(stories).where(stories.c.id == story_id).values(
                    answers={**dict(mine.answers), **given}, updated_at=now))
                created = False
            conn.execute(sa.insert(story_rounds).values(workshop_id=w.id, story_id=story_id, round=round_index,
                                                        idempotency_key=idempotency_key, sent_at=now))
            # This round's text is done with; what was typed for the other rounds stays in the draft.
            draft = conn.execute(sa.select(drafts.c.id, drafts.c.answers).where(
                drafts.c.participant_id == participant.id, drafts.c.exercise_key == exercise_key)).first()
            if draft is not None:
                left = {k: v for k, v in dict(draft.answers or {}).items() if k not in {f.name for f in fields}}
                if left:
                    conn.execute(sa.update(drafts).where(drafts.c.id == draft.id).values(answers=left, updated_at=now))
                else:
                    conn.execute(sa.delete(drafts).where(drafts.c.id == draft.id))
            _bump(conn, w.id, "stories")
            row = conn.execute(_stories_query(w.id).where(stories.c.id == story_id)).one()
    except sa.exc.IntegrityError:
        with store.read() as conn:  # two deliveries of the same round raced (PostgreSQL): the other stored it
            done = conn.execute(sa.select(story_rounds.c.story_id).where(
                story_rounds.c.workshop_id == participant.workshop_id,
                story_rounds.c.idempotency_key == idempotency_key)).first()
            if done is None:
                raise
            row = conn.execute(_stories_query(participant.workshop_id).where(stories.c.id == done.story_id)).one()
        return SubmitResult(_story(row), created=False)
    except sa.exc.OperationalError:
        return SubmitResult(None, problems={"_form": NOT_SAVED_YET})
    return SubmitResult(_story(row), created=created)


def round_progress(snapshot: Snapshot, exercise: Exercise) -> list[int]:
    """How many people (and told-aloud stories) have sent each round, for the console."""
    told = snapshot.stories_for(exercise.key)
    out = []
    for i in range(len(exercise.rounds)):
        out.append(len({s.participant_id if s.participant_id is not None else ("aloud", s.id)
                        for s in told if i in rounds_in(exercise, s)}))
    return out


def round_of(snapshot: Snapshot, item: AgendaItem) -> int:
    """The round a paced item is in, bounded by its exercise's rounds."""
    ex = library().get(item.exercise_key)
    if ex is None or not ex.paced:
        return 0
    return min(snapshot.round_of(item), len(ex.rounds) - 1)


# --- the guess-first terminology wall ------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    """One term of the wall as the room plays it."""

    story: Story
    term: str
    meaning: str
    state: str  # "waiting" (not up yet), "up" (being guessed), "revealed"
    guesses: tuple[Guess, ...]
    current: bool = False  # the one the facilitator put up last


def terms(snapshot: Snapshot, exercise: Exercise, stories_shown: list[Story]) -> list[Term]:
    """The terms of the wall in the order they were put up, then the ones not played yet (by arrival)."""
    if not exercise.glossary:
        return []
    term_field, meaning_field = exercise.glossary
    by_id = {s.id: s for s in stories_shown if str(s.answers.get(term_field, "")).strip()}
    played = [t for t in snapshot.guess_terms if t.story_id in by_id]
    current = played[-1].story_id if played else None
    out = []
    for t in played:
        s = by_id[t.story_id]
        out.append(Term(story=s, term=str(s.answers.get(term_field, "")), meaning=str(s.answers.get(meaning_field, "")),
                        state="revealed" if t.revealed_at is not None else "up",
                        guesses=tuple(snapshot.guesses_for(s.id)), current=s.id == current))
    put_up = {t.story_id for t in played}
    for s in by_id.values():
        if s.id not in put_up:
            out.append(Term(story=s, term=str(s.answers.get(term_field, "")), meaning=str(s.answers.get(meaning_field, "")),
                            state="waiting", guesses=()))
    return out


def current_term(snapshot: Snapshot, exercise: Exercise, stories_shown: list[Story]) -> Term | None:
    return next((t for t in terms(snapshot, exercise, stories_shown) if t.current), None)


def _term_row(conn, workshop_id: int, story_id: int):
    return conn.execute(_stories_query(workshop_id).where(stories.c.id == story_id)).first()


def put_up_term(store: Store, workshop_id: int, story_id: int, *, clock: Clock = time.time) -> None:
    """Put one term up for the room to guess (it replaces the one up before; a revealed term stays revealed)."""
    with store.write() as conn:
        w = conn.execute(sa.select(workshops.c.live_position).where(workshops.c.id == workshop_id)
                         .with_for_update()).one()
        row = _term_row(conn, workshop_id, story_id)
        live_key = None if w.live_position is None else conn.execute(sa.select(agenda_items.c.exercise_key).where(
            agenda_items.c.workshop_id == workshop_id, agenda_items.c.position == w.live_position)).scalar_one_or_none()
        exercise = library().get(row.exercise_key) if row is not None else None
        if row is None or row.hidden or exercise is None or not exercise.guess_first or row.builds_on is not None:
            raise WorkshopInputError({"term": "That term is not on this workshop's terminology wall."})
        if live_key != row.exercise_key:
            raise WorkshopInputError({"term": f"Open {exercise.title} first: terms are guessed while it is live."})
        if not str((row.answers or {}).get(exercise.glossary[0], "")).strip():
            raise WorkshopInputError({"term": "That story names no term."})
        updated = conn.execute(sa.update(guess_terms).where(guess_terms.c.story_id == story_id)
                               .values(opened_at=clock())).rowcount
        if not updated:
            conn.execute(sa.insert(guess_terms).values(workshop_id=workshop_id, story_id=story_id, opened_at=clock()))
        _bump(conn, workshop_id, "live")


def reveal_term(store: Store, workshop_id: int, story_id: int, *, clock: Clock = time.time) -> None:
    """Show the meaning of the term that is up: guessing on it ends."""
    with store.write() as conn:
        found = conn.execute(sa.update(guess_terms).where(guess_terms.c.workshop_id == workshop_id,
                                                          guess_terms.c.story_id == story_id,
                                                          guess_terms.c.revealed_at.is_(None))
                             .values(revealed_at=clock())).rowcount
        if not found:
            raise WorkshopInputError({"term": "That term is not up for guessing (it may be revealed already)."})
        _bump(conn, workshop_id, "live")


def guess_refusal(participant: Participant, term_story: Story, gettext=_english) -> str | None:
    """Why this person does not guess this term (its author, or from the author's function), or None."""
    if term_story.participant_id == participant.id:
        return gettext("This is your term: listen to what the others think it means.")
    if term_story.function == participant.function:
        return gettext("This term comes from your function ({function}): let the other functions guess.").format(
            function=participant.function)
    return None


def submit_guess(store: Store, participant: Participant, story_id: int, text: str, *, clock: Clock = time.time,
                 gettext=_english) -> str | None:
    """Keep (or change) this person's guess at the term that is up; the reason it was refused (in the room's
    language with `gettext`), or None."""
    if p := input_rules.text_problem(text, max_chars=GUESS_MAX_CHARS, what=N_("Your guess"), gettext=gettext):
        return p
    try:
        with store.write() as conn:
            w = conn.execute(sa.select(workshops.c.live_position).where(workshops.c.id == participant.workshop_id)
                             .with_for_update()).one()
            row = _term_row(conn, participant.workshop_id, story_id)
            up = conn.execute(sa.select(guess_terms).where(guess_terms.c.workshop_id == participant.workshop_id)
                              .order_by(guess_terms.c.opened_at.desc(), guess_terms.c.id.desc()).limit(1)).first()
            live_key = None if w.live_position is None else conn.execute(sa.select(agenda_items.c.exercise_key).where(
                agenda_items.c.workshop_id == participant.workshop_id,
                agenda_items.c.position == w.live_position)).scalar_one_or_none()
            if row is None or up is None or up.story_id != story_id or row.exercise_key != live_key:
                return gettext("Not sent: the facilitator has moved on to another term. Your guess is still in the box.")
            if up.revealed_at is not None:
                return gettext("Too late for this one: the meaning is on the screen now.")
            if why := guess_refusal(participant, _story(row), gettext):
                return why
            now = clock()
            changed = conn.execute(sa.update(guesses).where(guesses.c.story_id == story_id,
                                                            guesses.c.participant_id == participant.id)
                                   .values(text=text, updated_at=now)).rowcount
            if not changed:
                conn.execute(sa.insert(guesses).values(workshop_id=participant.workshop_id, story_id=story_id,
                                                       participant_id=participant.id, function=participant.function,
                                                       text=text, created_at=now, updated_at=now))
            _bump(conn, participant.workshop_id, "votes")
    except sa.exc.OperationalError:
        return NOT_SAVED_YET
    return None


def my_guess(snapshot: Snapshot, participant: Participant, story_id: int) -> Guess | None:
    return next((g for g in snapshot.guesses_for(story_id) if g.participant_id == participant.id), None)


def guess_labels(snapshot: Snapshot, exercise: Exercise) -> set[str]:
    """Functions that may be named beside guesses: every one with names on; else those with three or more
    people guessing in this exercise, and the rest together hiding three too (room.named_functions)."""
    from . import room

    term_ids = {s.id for s in snapshot.stories_for(exercise.key)}
    mine = [g for g in snapshot.guesses if g.story_id in term_ids]
    if snapshot.workshop.show_names:
        return {g.function for g in mine}
    people: dict[str, set] = {}
    for g in mine:
        people.setdefault(g.function, set()).add(g.participant_id)
    return room.named_functions(people)


def guess_byline(g: Guess, *, show_names: bool, labelled: set[str]) -> str:
    """Who guessed, as the room may see it: 'Ben · Sales', or only the function (folded when it must be)."""
    from .room import OTHER_FUNCTIONS

    function = g.function if g.function in labelled else OTHER_FUNCTIONS
    return f"{g.author_name} · {function}" if show_names and g.author_name else function


def guesses_by_term(snapshot: Snapshot, lib: dict[str, Exercise] | None = None) -> dict[int, list[str]]:
    """Term story id → the guesses at it as the report writes them, "“guess” (who)", under the anonymity rule."""
    out: dict[int, list[str]] = {}
    for ex in (lib or library()).values():
        if not ex.guess_first:
            continue
        labelled = guess_labels(snapshot, ex)
        for s in snapshot.stories_for(ex.key):
            out[s.id] = [f"“{g.text}” ({guess_byline(g, show_names=snapshot.workshop.show_names, labelled=labelled)})"
                         for g in snapshot.guesses_for(s.id)]
    return out
