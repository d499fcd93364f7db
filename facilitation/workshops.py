"""Workshops and what happens in them: create, join, run the agenda, take stories.

Every function here is a rule of the workshop and is called by the pages; each change
bumps the workshop's `revision` in the same transaction so live views know to re-read.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import access, handoff_sides, i18n, input_rules
from .i18n import N_
from .exercises import Exercise, library
from .store import (Store, agenda_items, drafts, exercise_rounds, guess_terms, guesses, pair_members, pair_rounds,
                    participants, record_bump, stories, votes, workshops)

DEFAULT_FUNCTIONS = [
    N_("Sales"), N_("Marketing"), N_("Engineering"), N_("Product"), N_("Implementation"),
    N_("Support"), N_("Customer success"), N_("Finance/billing"), N_("Leadership"),
]
DEFAULT_STAGES = [N_("Prospect"), N_("Sale"), N_("Onboarding"), N_("Implementation"), N_("Support & adoption"),
                  N_("Renewal & expansion")]


def default_functions(language: str | None = None) -> list[str]:
    """The functions a new workshop proposes, named in the room's language (once stored they are the
    facilitator's own words, shown as stored)."""
    return [i18n.translator(language).gettext(name) for name in DEFAULT_FUNCTIONS]


def default_stages(language: str | None = None) -> list[str]:
    """The lifecycle stages a new workshop proposes, in the room's language."""
    return [i18n.translator(language).gettext(name) for name in DEFAULT_STAGES]
MAX_AGENDA_MINUTES = 180
# A Send pressed as the clock reaches zero is still taken when the server gets to it a little later: in a
# room where everyone presses Send in the last seconds, the server works through them one by one.
SEND_GRACE_SECONDS = 10.0
_log = logging.getLogger(__name__)
NOT_SAVED_YET = N_("Not saved yet: the server is busy and could not store your answer. "
                   "Your text is still in the form; please press Send again in a moment.")
# Why a Send was refused: whole sentences, translated where shown (pages/participate.py, pages/round_widgets.py).
NOT_SENT_TIME_UP = N_("Not sent: time is up for this exercise. Your text is still in the form, so nothing is lost.")
NOT_SENT_CLOSED = N_("Not sent: the facilitator has closed this exercise. Your text is still in the form, so nothing is lost.")
NOT_SENT_NOTHING_OPEN = N_("No exercise is open yet, so your answer was not sent. Your text is still in the form.")
Clock = Callable[[], float]
EDIT_FROZEN_BY_VOTING = N_("Not changed: the room is voting on these stories, so they stay as they were when the "
                            "dots were given. Your new text is still in the form.")


class WorkshopInputError(ValueError):
    """Input that cannot be accepted; `problems` maps each field to a message for a person."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Workshop:
    id: int
    code: str
    title: str
    organisation: str
    held_on: dt.date | None
    facilitator: str
    functions: list[str]
    stages: list[str]
    show_names: bool
    revision: int
    live_position: int | None
    live_state: str
    created_at: float
    lock_at_zero: bool = True
    spotlight_story_id: int | None = None
    language: str = "en"


@dataclass(frozen=True)
class AgendaItem:
    position: int
    exercise_key: str
    minutes: int
    opened_at: float | None
    closed_at: float | None
    extra_seconds: int = 0
    blind: bool = False
    revealed_at: float | None = None
    voting: str = "off"
    dots: int = 3

    @property
    def exercise(self) -> Exercise:
        return library()[self.exercise_key]

    @property
    def deadline(self) -> float | None:
        """When the countdown reaches zero (opening time + planned minutes + time added)."""
        if self.opened_at is None:
            return None
        return self.opened_at + self.minutes * 60 + self.extra_seconds

    @property
    def on_projector(self) -> bool:
        """Whether the room may see the stories (not while they are being collected blind)."""
        return not self.blind or self.revealed_at is not None


@dataclass(frozen=True)
class Participant:
    id: int
    workshop_id: int
    token: str
    display_name: str
    function: str
    joined_at: float


@dataclass(frozen=True)
class Story:
    id: int
    exercise_key: str
    participant_id: int | None
    author_name: str
    function: str
    answers: dict
    hidden: bool
    created_at: float
    updated_at: float
    builds_on: int | None = None
    proxy_name: str | None = None

    @property
    def by_proxy(self) -> bool:
        return self.participant_id is None


@dataclass(frozen=True)
class LiveExercise:
    """What the room is doing now: which exercise, whether it takes stories, and its clock."""

    revision: int
    item: AgendaItem | None
    state: str  # "waiting" before the first exercise, then "open" or "closed"
    lock_at_zero: bool = True
    spotlight_story_id: int | None = None
    round: int = 0  # the round of a paced exercise the room is in (0: the first)
    guess_term: tuple[int, bool] | None = None  # the term up for guessing: (its story's id, revealed?)
    # An exercise done in pairs: the pairs' version (0: none proposed), the phase running and since when.
    pairs_version: int = 0
    phase: int = 0
    phase_started_at: float | None = None

    @property
    def exercise(self) -> Exercise | None:
        return self.item.exercise if self.item else None

    @property
    def signature(self) -> tuple:
        """What a participant's screen depends on: it redraws only when this changes."""
        if self.item is None:
            return (None,)
        return (self.item.position, self.state, self.item.voting, self.item.dots, self.item.deadline, self.lock_at_zero,
                self.round, self.guess_term, self.pairs_version, self.phase, self.phase_started_at)

    def seconds_left(self, now: float) -> float | None:
        """Seconds on the countdown (never below zero), or None when nothing is running."""
        if self.item is None or self.state != "open" or self.item.deadline is None:
            return None
        return max(0.0, self.item.deadline - now)

    def time_is_up(self, now: float) -> bool:
        left = self.seconds_left(now)
        return left is not None and left <= 0

    def accepting(self, now: float, grace: float = 0.0) -> bool:
        """Whether stories are taken now: open, and not past zero when the workshop locks at zero.
        `grace`: seconds past zero still taken (a Send pressed as the clock ran out, still queued)."""
        if self.item is None or self.state != "open":
            return False
        return not (self.lock_at_zero and self.time_is_up(now - grace))


@dataclass(frozen=True)
class GuessTerm:
    """A term of the terminology wall put up for guessing (`story_id` is the story that gave it)."""

    story_id: int
    opened_at: float
    revealed_at: float | None = None


@dataclass(frozen=True)
class Guess:
    """What someone thought a term meant before its meaning was revealed."""

    id: int
    story_id: int
    participant_id: int
    author_name: str
    function: str
    text: str
    created_at: float


@dataclass(frozen=True)
class SubmitResult:
    story: Story | None
    created: bool = False
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.story is not None


@dataclass(frozen=True)
class Snapshot:
    """The whole workshop at one moment: what the map, the report and exports are built from."""

    workshop: Workshop
    agenda: list[AgendaItem]
    participants: list[Participant]
    stories: list[Story]
    taken_at: float
    votes: list[tuple[int, int]] = field(default_factory=list)  # (story id, participant id)
    rounds: dict[int, int] = field(default_factory=dict)  # agenda position → the round the room is in (absent: 0)
    guess_terms: list[GuessTerm] = field(default_factory=list)  # in the order they were put up
    guesses: list[Guess] = field(default_factory=list)  # in arrival order

    def round_of(self, item: AgendaItem) -> int:
        """The round of a paced agenda item the room is in (0 for every other)."""
        return self.rounds.get(item.position, 0)

    def guesses_for(self, story_id: int) -> list[Guess]:
        """The guesses at one term, oldest first."""
        return [g for g in self.guesses if g.story_id == story_id]
    # Exercises done in pairs (facilitation/pairs.py reads them): (exercise key, participant id, pair
    # number, role) per person, and (exercise key, version, phase, phase started at, phase log) per round.
    pair_members: list[tuple[str, int, int, str]] = field(default_factory=list)
    pair_rounds: list[tuple[str, int, int, float | None, list]] = field(default_factory=list)

    def stories_for(self, exercise_key: str, *, include_hidden: bool = False, include_build_ons: bool = False) -> list[Story]:
        """An exercise's stories in arrival order; additions ("build on") only when asked for."""
        return [s for s in self.stories if s.exercise_key == exercise_key and (include_hidden or not s.hidden)
                and (include_build_ons or s.builds_on is None)]

    def build_ons(self, story_id: int) -> list[Story]:
        """The visible additions to one story, oldest first."""
        return [s for s in self.stories if s.builds_on == story_id and not s.hidden]

    def vote_counts(self) -> dict[int, int]:
        """Dots per story id (stories without dots are absent)."""
        counts: dict[int, int] = {}
        for story_id, _participant_id in self.votes:
            counts[story_id] = counts.get(story_id, 0) + 1
        return counts


# --- reading ---------------------------------------------------------------------------

def _names(value: object) -> list[str]:
    """A stored list of function or stage names as the pages can use it, whatever was stored (a row
    inserted by hand may hold a number, or names that no screen can show)."""
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(input_rules.displayable(n) for n in value if isinstance(n, str)))


def _answers(value: object) -> dict:
    """Stored answers as every screen can draw them: an object of displayable values (else empty)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): input_rules.displayable_value(v) for k, v in value.items()}


def _workshop(row) -> Workshop:
    return Workshop(
        id=row.id, code=row.code, title=input_rules.displayable(row.title),
        organisation=input_rules.displayable(row.organisation), held_on=row.held_on,
        facilitator=input_rules.displayable(row.facilitator), functions=_names(row.functions), stages=_names(row.stages),
        show_names=bool(row.show_names), revision=row.revision, live_position=row.live_position,
        live_state=row.live_state, created_at=row.created_at, lock_at_zero=bool(row.lock_at_zero),
        spotlight_story_id=row.spotlight_story_id, language=row.language or i18n.SOURCE_LANGUAGE,
    )


def _agenda_item(row) -> AgendaItem:
    return AgendaItem(position=row.position, exercise_key=row.exercise_key, minutes=row.minutes,
                      opened_at=row.opened_at, closed_at=row.closed_at, extra_seconds=row.extra_seconds,
                      blind=bool(row.blind), revealed_at=row.revealed_at, voting=row.voting, dots=row.dots)


def _participant(row) -> Participant:
    return Participant(id=row.id, workshop_id=row.workshop_id, token=row.token,
                       display_name=input_rules.displayable(row.display_name),
                       function=input_rules.displayable(row.function), joined_at=row.joined_at)


def _story(row) -> Story:
    return Story(id=row.id, exercise_key=row.exercise_key, participant_id=row.participant_id,
                 author_name=input_rules.displayable(row.display_name or row.proxy_name or ""),
                 function=input_rules.displayable(row.function), answers=_answers(row.answers),
                 hidden=bool(row.hidden), created_at=row.created_at, updated_at=row.updated_at,
                 builds_on=row.builds_on,
                 proxy_name=input_rules.displayable(row.proxy_name) if row.proxy_name is not None else None)


def find_workshop(store: Store, code: str) -> Workshop | None:
    """The workshop with this join code (as typed: case and spaces do not matter)."""
    code = access.normalise_join_code(code)
    if not code:
        return None
    with store.read() as conn:
        row = conn.execute(sa.select(workshops).where(workshops.c.code == code)).first()
    return _workshop(row) if row else None


def get_workshop(store: Store, workshop_id: int) -> Workshop | None:
    with store.read() as conn:
        row = conn.execute(sa.select(workshops).where(workshops.c.id == workshop_id)).first()
    return _workshop(row) if row else None


def facilitator_workshop(store: Store, code: str, key: str | None) -> Workshop | None:
    """The workshop if `key` is its facilitator key, else None (also for an unknown code)."""
    code = access.normalise_join_code(code)
    with store.read() as conn:
        row = conn.execute(sa.select(workshops).where(workshops.c.code == code)).first()
    if row is None:
        access.key_matches(key, access.hash_key("no such workshop"))  # same work either way
        return None
    return _workshop(row) if access.key_matches(key, row.facilitator_key_hash) else None


def revision(store: Store, workshop_id: int) -> int:
    """The workshop's change counter: the only thing live views poll."""
    with store.read() as conn:
        return conn.execute(sa.select(workshops.c.revision).where(workshops.c.id == workshop_id)).scalar_one_or_none() or 0


def agenda(store: Store, workshop_id: int) -> list[AgendaItem]:
    with store.read() as conn:
        return _agenda(conn, workshop_id)


def _agenda(conn: Connection, workshop_id: int) -> list[AgendaItem]:
    rows = conn.execute(sa.select(agenda_items).where(agenda_items.c.workshop_id == workshop_id)
                        .order_by(agenda_items.c.position)).all()
    return [_agenda_item(r) for r in rows]


def live_exercise(store: Store, workshop_id: int) -> LiveExercise:
    """What the room is on now, read in one transaction."""
    with store.read() as conn:
        w = conn.execute(sa.select(workshops.c.revision, workshops.c.live_position, workshops.c.live_state,
                                   workshops.c.lock_at_zero, workshops.c.spotlight_story_id)
                         .where(workshops.c.id == workshop_id)).one()
        item = None
        if w.live_position is not None:
            row = conn.execute(sa.select(agenda_items).where(agenda_items.c.workshop_id == workshop_id,
                                                             agenda_items.c.position == w.live_position)).first()
            item = _agenda_item(row) if row else None
        round_, term = 0, None
        if item is not None and item.exercise_key in library():
            ex = item.exercise
            if ex.paced:
                round_ = min(_round(conn, row.id), len(ex.rounds) - 1)
            if ex.guess_first:
                up = conn.execute(sa.select(guess_terms.c.story_id, guess_terms.c.revealed_at)
                                  .select_from(guess_terms.join(stories, stories.c.id == guess_terms.c.story_id))
                                  .where(guess_terms.c.workshop_id == workshop_id,
                                         stories.c.exercise_key == item.exercise_key)
                                  .order_by(guess_terms.c.opened_at.desc(), guess_terms.c.id.desc()).limit(1)).first()
                term = (up.story_id, up.revealed_at is not None) if up else None
        pairs = None
        if item is not None:
            pairs = conn.execute(sa.select(pair_rounds.c.version, pair_rounds.c.phase, pair_rounds.c.phase_started_at)
                                 .where(pair_rounds.c.workshop_id == workshop_id,
                                        pair_rounds.c.exercise_key == item.exercise_key)).first()
    return LiveExercise(revision=w.revision, item=item, state=w.live_state if item else "waiting",
                        lock_at_zero=bool(w.lock_at_zero), spotlight_story_id=w.spotlight_story_id,
                        round=round_, guess_term=term,
                        pairs_version=pairs.version if pairs else 0, phase=pairs.phase if pairs else 0,
                        phase_started_at=pairs.phase_started_at if pairs else None)


def _round(conn: Connection, agenda_item_id: int) -> int:
    """The round the room is in for one agenda item (0 before the facilitator moves it on)."""
    return conn.execute(sa.select(exercise_rounds.c.round).where(
        exercise_rounds.c.agenda_item_id == agenda_item_id)).scalar_one_or_none() or 0


def participant_by_token(store: Store, workshop_id: int, token: str | None) -> Participant | None:
    """The participant with this token in this workshop; a token from another workshop is refused."""
    if not token:
        return None
    with store.read() as conn:
        row = conn.execute(sa.select(participants).where(participants.c.token == token,
                                                         participants.c.workshop_id == workshop_id)).first()
    return _participant(row) if row else None


def list_participants(store: Store, workshop_id: int) -> list[Participant]:
    with store.read() as conn:
        rows = conn.execute(sa.select(participants).where(participants.c.workshop_id == workshop_id)
                            .order_by(participants.c.joined_at, participants.c.id)).all()
    return [_participant(r) for r in rows]


def _stories_query(workshop_id: int):
    return (sa.select(stories, participants.c.display_name)
            .select_from(stories.outerjoin(participants, stories.c.participant_id == participants.c.id))
            .where(stories.c.workshop_id == workshop_id)
            .order_by(stories.c.created_at, stories.c.id))


def list_stories(store: Store, workshop_id: int, exercise_key: str | None = None, *,
                 include_hidden: bool = False, participant_id: int | None = None) -> list[Story]:
    """Stories in the order they arrived; hidden ones only when asked for."""
    q = _stories_query(workshop_id)
    if exercise_key is not None:
        q = q.where(stories.c.exercise_key == exercise_key)
    if not include_hidden:
        q = q.where(stories.c.hidden == sa.false())
    if participant_id is not None:
        q = q.where(stories.c.participant_id == participant_id)
    with store.read() as conn:
        return [_story(r) for r in conn.execute(q).all()]


def storytellers(store: Store, workshop_id: int, exercise_key: str) -> frozenset[int]:
    """The ids of everyone with a story (hidden or not, additions included) in one exercise."""
    with store.read() as conn:
        return frozenset(conn.execute(sa.select(stories.c.participant_id).distinct().where(
            stories.c.workshop_id == workshop_id, stories.c.exercise_key == exercise_key)).scalars())


def snapshot(store: Store, workshop_id: int, clock: Clock = time.time) -> Snapshot:
    """Everything about a workshop read in one transaction (hidden stories included, flagged)."""
    with store.read() as conn:
        w = _workshop(conn.execute(sa.select(workshops).where(workshops.c.id == workshop_id)).one())
        items = _agenda(conn, workshop_id)
        people = [_participant(r) for r in conn.execute(
            sa.select(participants).where(participants.c.workshop_id == workshop_id)
            .order_by(participants.c.joined_at, participants.c.id)).all()]
        told = [_story(r) for r in conn.execute(_stories_query(workshop_id)).all()]
        dots = [(r.story_id, r.participant_id) for r in conn.execute(
            sa.select(votes.c.story_id, votes.c.participant_id).where(votes.c.workshop_id == workshop_id)
            .order_by(votes.c.id)).all()]
        rounds = {r.position: r.round for r in conn.execute(
            sa.select(agenda_items.c.position, exercise_rounds.c.round)
            .select_from(exercise_rounds.join(agenda_items, agenda_items.c.id == exercise_rounds.c.agenda_item_id))
            .where(exercise_rounds.c.workshop_id == workshop_id)).all()}
        terms = [GuessTerm(story_id=r.story_id, opened_at=r.opened_at, revealed_at=r.revealed_at) for r in conn.execute(
            sa.select(guess_terms).where(guess_terms.c.workshop_id == workshop_id)
            .order_by(guess_terms.c.opened_at, guess_terms.c.id)).all()]
        guessed = [Guess(id=r.id, story_id=r.story_id, participant_id=r.participant_id,
                         author_name=input_rules.displayable(r.display_name or ""),
                         function=input_rules.displayable(r.function), text=input_rules.displayable(r.text),
                         created_at=r.created_at) for r in conn.execute(
            sa.select(guesses, participants.c.display_name)
            .select_from(guesses.join(participants, participants.c.id == guesses.c.participant_id))
            .where(guesses.c.workshop_id == workshop_id).order_by(guesses.c.created_at, guesses.c.id)).all()]
        members = [(r.exercise_key, r.participant_id, r.pair_no, r.role) for r in conn.execute(
            sa.select(pair_members).where(pair_members.c.workshop_id == workshop_id)
            .order_by(pair_members.c.exercise_key, pair_members.c.pair_no, pair_members.c.id)).all()]
        pair_round_rows = [(r.exercise_key, r.version, r.phase, r.phase_started_at,
                            r.phase_log if isinstance(r.phase_log, list) else [])
                           for r in conn.execute(sa.select(pair_rounds).where(pair_rounds.c.workshop_id == workshop_id)).all()]
    return Snapshot(workshop=w, agenda=items, participants=people, stories=told, taken_at=clock(), votes=dots,
                    rounds=rounds, guess_terms=terms, guesses=guessed, pair_members=members, pair_rounds=pair_round_rows)


# --- changing ----------------------------------------------------------------------------

# What a change touched, so that push wakes only the screens that show it (facilitation.live_hub):
# "live" the agenda and what the room is on (open, lock, clock, voting, spotlight, settings),
# "people" who is in the room, "stories" stories and additions, "votes" dots.
# "after": commitment statuses and themes, what the after-the-room screens show.
TOPICS = frozenset({"live", "people", "stories", "votes", "after"})


def _bump(conn: Connection, workshop_id: int, *topics: str) -> None:
    """Move the workshop's revision in this transaction; `topics` say what changed (none: everything)."""
    changed = frozenset(topics) or TOPICS
    assert changed <= TOPICS, changed
    revision = conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id)
                            .values(revision=workshops.c.revision + 1).returning(workshops.c.revision)).scalar_one_or_none()
    if revision is not None:
        record_bump(conn, workshop_id, revision, changed)


def create_workshop(store: Store, *, title: str, organisation: str = "", held_on: dt.date | None = None,
                    facilitator: str = "", functions: list[str] | None = None, stages: list[str] | None = None,
                    agenda_plan: list[tuple[str, int]] | None = None, show_names: bool = True,
                    clock: Clock = time.time, facilitator_key: str | None = None,
                    language: str = i18n.SOURCE_LANGUAGE) -> tuple[Workshop, str]:
    """Create a workshop; returns it and the facilitator key (shown once, stored hashed).

    Every list is bounded here, on the server (input_rules.MAX_FUNCTIONS, MAX_STAGES,
    MAX_AGENDA_ITEMS): whatever a browser sends, a workshop stays small enough to draw.

    `facilitator_key`: the key of one of the facilitator's earlier workshops on this server, so the
    new one opens with the same key and is linked to it (its open commitments, trends); refused
    unless it opens a workshop. Without it a new key is drawn.

    `language`: a code of `i18n.languages()`; the room's screens and the report follow it.
    """
    problems: dict[str, str] = {}
    if language not in i18n.languages():
        problems["language"] = (f"There is no language '{str(language)[:20]}' on this server; choose one of "
                                f"{', '.join(i18n.languages().values())}.")
    lists = {}
    for name, given, default, limit, max_chars in (
            ("functions", functions, default_functions(language), input_rules.MAX_FUNCTIONS, input_rules.FUNCTION_NAME_MAX),
            ("stages", stages, default_stages(language), input_rules.MAX_STAGES, input_rules.STAGE_NAME_MAX)):
        names = given if given is not None else default
        if p := input_rules.name_list_problem(names, what=name, max_chars=max_chars, maximum=limit):
            problems[name] = p
            lists[name] = []
        else:
            lists[name] = [n.strip() for n in names if input_rules.visible_text(n)]
    functions, stages = lists["functions"], lists["stages"]
    lib = library()
    if agenda_plan is None:
        agenda_plan = [(e.key, e.minutes) for e in lib.values()]
    if p := input_rules.text_problem(title, max_chars=input_rules.TITLE_MAX, what="The title", one_line=True):
        problems["title"] = p
    for name, value in (("organisation", organisation), ("facilitator", facilitator)):
        if p := input_rules.text_problem(value, max_chars=input_rules.TITLE_MAX, required=False, what=f"The {name}",
                                         one_line=True):
            problems[name] = p
    if not isinstance(agenda_plan, (list, tuple)) or not all(
            isinstance(step, (list, tuple)) and len(step) == 2 for step in agenda_plan):
        problems["agenda"] = "The agenda must be a list of (exercise, minutes)."
        agenda_plan = []
    elif not agenda_plan:
        problems["agenda"] = "Please choose at least one exercise."
    elif len(agenda_plan) > input_rules.MAX_AGENDA_ITEMS:
        problems["agenda"] = (f"{len(agenda_plan):,} exercises are more than one workshop can run: the limit is "
                              f"{input_rules.MAX_AGENDA_ITEMS}.")
        agenda_plan = []
    for key, minutes in agenda_plan:
        if not isinstance(key, str) or key not in lib:
            problems["agenda"] = f"There is no exercise called '{str(key)[:40]}'."
        elif isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_AGENDA_MINUTES:
            problems["agenda"] = f"Minutes for '{lib[key].title}' must be between 1 and {MAX_AGENDA_MINUTES}."
    planned = [k for k, _m in agenda_plan if isinstance(k, str) and k in lib] if "agenda" not in problems else []
    for i, k in enumerate(planned):
        sender = lib[k].receives_from
        if sender and sender not in planned[:i]:
            problems["agenda"] = (f"{lib[k].title} answers the handoffs told in {lib[sender].title}: put "
                                  f"{lib[sender].title} on the agenda before it, or leave {lib[k].title} out.")
    if facilitator_key and not _key_opens_a_workshop(store, facilitator_key):
        problems["facilitator_key"] = ("That key opens no workshop on this server. Leave it empty for a new key, "
                                       "or paste the key of one of your earlier workshops.")
    if problems:
        raise WorkshopInputError(problems)
    key = facilitator_key or access.new_facilitator_key()
    for _attempt in range(20):
        code = access.new_join_code()
        try:
            with store.write() as conn:
                workshop_id = conn.execute(sa.insert(workshops).values(
                    code=code, title=title.strip(), organisation=(organisation or "").strip(), held_on=held_on,
                    facilitator=(facilitator or "").strip(), facilitator_key_hash=access.hash_key(key),
                    functions=functions, stages=stages, show_names=show_names, revision=1, language=language,
                    live_position=None, live_state="waiting", created_at=clock(),
                )).inserted_primary_key[0]
                conn.execute(sa.insert(agenda_items), [
                    {"workshop_id": workshop_id, "position": i, "exercise_key": k, "minutes": m}
                    for i, (k, m) in enumerate(agenda_plan)
                ])
            break
        except sa.exc.IntegrityError:
            continue  # the code was taken; draw another
    else:  # pragma: no cover - would need 20 collisions in a space of 887 million
        raise RuntimeError("could not draw a free join code")
    return get_workshop(store, workshop_id), key


def _key_opens_a_workshop(store: Store, key: str) -> bool:
    with store.read() as conn:
        return conn.execute(sa.select(workshops.c.id).where(
            workshops.c.facilitator_key_hash == access.hash_key(key)).limit(1)).first() is not None


def join_workshop(store: Store, code: str, display_name: str, function: str, clock: Clock = time.time) -> Participant:
    """Add a participant to the workshop with this code; raises WorkshopInputError with reasons."""
    workshop = find_workshop(store, code)
    if workshop is None:
        raise WorkshopInputError({"code": "No workshop has this code. Check the code on the screen and try again."})
    _ = i18n.translator(workshop.language).gettext  # the reasons are shown to the participant, in the room's language
    problems = {}
    if p := input_rules.text_problem(display_name, max_chars=input_rules.DISPLAY_NAME_MAX, what=_("Your name"),
                                     one_line=True, gettext=_):
        problems["display_name"] = p
    if function not in workshop.functions:
        problems["function"] = _("Please choose your function from the list.")
    if problems:
        raise WorkshopInputError(problems)
    token = access.new_participant_token()
    joined_at = clock()
    with store.write() as conn:
        pid = conn.execute(sa.insert(participants).values(
            workshop_id=workshop.id, token=token, display_name=display_name.strip(), function=function,
            joined_at=joined_at)).inserted_primary_key[0]
        _bump(conn, workshop.id, "people")
        from . import pairs  # late import: pairs builds on this module

        pairs.place_newcomer(conn, workshop.id, pid, function)
    return Participant(id=pid, workshop_id=workshop.id, token=token, display_name=display_name.strip(),
                       function=function, joined_at=joined_at)


class StaleControl(WorkshopInputError):
    """A facilitator control pressed on a screen that no longer shows the workshop as it is."""

    def __init__(self, message: str):
        super().__init__({"stale": message})


# `seen_live` when the caller does not say what it saw (scripts, the demo): no check.
UNCHECKED = object()


def _item_title(key: str) -> str:
    ex = library().get(key)
    return ex.title if ex else key


def item_label(item: AgendaItem) -> str:
    """How a control names its agenda item: '2. Over the wall'."""
    return f"{item.position + 1}. {_item_title(item.exercise_key)}"


def check_item(conn: Connection, workshop_id: int, position: int, exercise_key: str | None, *,
               live: bool = False) -> None:
    """Refuse a control (StaleControl) when the item it names is not where the pressing screen saw it.

    `exercise_key` is the exercise the screen showed at `position` (None: no check, for scripts);
    with `live`, the item must also be the one the room is on now.
    """
    if exercise_key is None:
        return
    found = conn.execute(sa.select(agenda_items.c.exercise_key).where(
        agenda_items.c.workshop_id == workshop_id, agenda_items.c.position == position)).scalar_one_or_none()
    named = f"{position + 1}. {_item_title(exercise_key)}"
    if found != exercise_key:
        raise StaleControl(f"Nothing was changed: the agenda changed on another screen and item {named} is not "
                           "where this screen showed it. Look again and press once more if you still mean it.")
    if live:
        w = conn.execute(sa.select(workshops.c.live_position).where(workshops.c.id == workshop_id)).one()
        if w.live_position != position:
            now = conn.execute(sa.select(agenda_items.c.exercise_key).where(
                agenda_items.c.workshop_id == workshop_id,
                agenda_items.c.position == w.live_position)).scalar_one_or_none() if w.live_position is not None else None
            what = f"{w.live_position + 1}. {_item_title(now)} is live now" if now else "nothing is live now"
            raise StaleControl(f"Nothing was changed: {named} is no longer live ({what}, changed on another "
                               "screen). This screen shows the room as it is now.")


def _really_stopped(row, lock_at_zero: bool, now: float) -> float:
    """When a live item stopped taking stories: now, or its zero if it locked there before now."""
    if lock_at_zero and row.opened_at is not None:
        deadline = row.opened_at + row.minutes * 60 + row.extra_seconds
        return max(row.opened_at, min(now, deadline))
    return now


def open_exercise(store: Store, workshop_id: int, position: int, clock: Clock = time.time, *,
                  exercise_key: str | None = None, seen_live=UNCHECKED) -> None:
    """Open the agenda item at `position`: the room's screens switch to it and its clock starts.

    The item that was live stops (its `closed_at` is when it really stopped: now, or its zero if
    it locked there). A console names what it pressed: `exercise_key` shown at `position`, and
    `seen_live`, the (position, exercise key) it showed live or None; when another screen changed
    either meanwhile the control is refused (StaleControl) and nothing changes.
    """
    with store.write() as conn:
        check_item(conn, workshop_id, position, exercise_key)
        w = conn.execute(sa.select(workshops.c.live_position, workshops.c.live_state, workshops.c.lock_at_zero)
                         .where(workshops.c.id == workshop_id).with_for_update()).one()
        previous = None
        if w.live_position is not None:
            previous = conn.execute(sa.select(agenda_items).where(
                agenda_items.c.workshop_id == workshop_id, agenda_items.c.position == w.live_position)).first()
        if seen_live is not UNCHECKED:
            now_live = (previous.position, previous.exercise_key) if previous is not None else None
            if now_live != (tuple(seen_live) if seen_live is not None else None):
                what = (f"{previous.position + 1}. {_item_title(previous.exercise_key)} is live now" if previous
                        else "nothing is live now")
                raise StaleControl(f"Not opened: another screen changed what the room is on ({what}). "
                                   "Look again and press Open once more if you still mean it.")
        now = clock()
        if previous is not None and w.live_state == "open" and previous.closed_at is None:
            conn.execute(sa.update(agenda_items).where(agenda_items.c.id == previous.id)
                         .values(closed_at=_really_stopped(previous, bool(w.lock_at_zero), now)))
        found = conn.execute(sa.update(agenda_items)
                             .where(agenda_items.c.workshop_id == workshop_id, agenda_items.c.position == position)
                             .values(opened_at=now, closed_at=None, extra_seconds=0)).rowcount
        if not found:
            raise WorkshopInputError({"agenda": "That exercise is not on this workshop's agenda."})
        conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id)
                     .values(live_position=position, live_state="open", spotlight_story_id=None))
        _bump(conn, workshop_id, "live")


def close_exercise(store: Store, workshop_id: int, position: int | None = None, exercise_key: str | None = None,
                   clock: Clock = time.time) -> None:
    """Stop taking stories for the live exercise; what was sent stays on the screens.

    A console names the item it means (`position`, `exercise_key`): refused (StaleControl) when
    that item is no longer live. Without them (scripts) it locks whatever is live.
    """
    with store.write() as conn:
        w = conn.execute(sa.select(workshops.c.live_position, workshops.c.live_state, workshops.c.lock_at_zero)
                         .where(workshops.c.id == workshop_id).with_for_update()).one()
        if position is not None:
            check_item(conn, workshop_id, position, exercise_key, live=True)
        if w.live_position is None or w.live_state != "open":
            return
        row = conn.execute(sa.select(agenda_items).where(
            agenda_items.c.workshop_id == workshop_id, agenda_items.c.position == w.live_position)).one()
        conn.execute(sa.update(agenda_items).where(agenda_items.c.id == row.id)
                     .values(closed_at=_really_stopped(row, bool(w.lock_at_zero), clock())))
        conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id).values(live_state="closed"))
        _bump(conn, workshop_id, "live")


def submit_story(store: Store, participant: Participant, exercise_key: str, answers: dict, idempotency_key: str,
                 clock: Clock = time.time) -> SubmitResult:
    """Take one story. The same idempotency key twice stores it once (a double click, a retry)."""
    if not idempotency_key or len(idempotency_key) > 64:
        return SubmitResult(None, problems={"_form": "This form has lost its identity; please reload the page."})
    lib = library()
    exercise = lib.get(exercise_key)
    if exercise is None:
        return SubmitResult(None, problems={"_form": "This exercise no longer exists."})
    try:
        return _store_story(store, participant, exercise, answers, idempotency_key, clock)
    except sa.exc.IntegrityError:
        # Two deliveries of the same submission raced (PostgreSQL): the other one stored it.
        with store.read() as conn:
            existing = conn.execute(_stories_query(participant.workshop_id)
                                    .where(stories.c.idempotency_key == idempotency_key)).first()
        if existing is None:
            raise
        return SubmitResult(_story(existing), created=False)
    except sa.exc.OperationalError:
        return SubmitResult(None, problems={"_form": NOT_SAVED_YET})


def form_sent(store: Store, participant: Participant, form_id: str) -> bool:
    """Whether this participant's form (its id is the story's idempotency key) has been stored as a story."""
    if not form_id:
        return False
    with store.read() as conn:
        return conn.execute(sa.select(stories.c.id).where(
            stories.c.workshop_id == participant.workshop_id, stories.c.participant_id == participant.id,
            stories.c.idempotency_key == form_id)).first() is not None


def serve_options(store: Store, workshop_id: int, exercise: Exercise) -> list[str]:
    """The stories and handoffs a commitment of this exercise may serve ([] when it names none)."""
    if not any(f.kind == "story_or_handoff" for f in exercise.fields):
        return []
    from . import commitments  # it builds on the map, which builds on this module

    return commitments.serve_options(snapshot(store, workshop_id))


def _store_story(store: Store, participant: Participant, exercise: Exercise, answers: dict, idempotency_key: str,
                 clock: Clock) -> SubmitResult:
    exercise_key = exercise.key
    serves = serve_options(store, participant.workshop_id, exercise)  # read before the write: it reads a snapshot
    with store.write() as conn:
        existing = conn.execute(_stories_query(participant.workshop_id)
                                .where(stories.c.idempotency_key == idempotency_key)).first()
        if existing is not None:
            return SubmitResult(_story(existing), created=False)
        # Lock the workshop row: a facilitator closing the exercise waits for this story, or this story sees it closed.
        w = conn.execute(sa.select(workshops).where(workshops.c.id == participant.workshop_id).with_for_update()).one()
        # And the participant's: a draft saved as they type (drafts.save_typed) waits, then sees this story sent.
        conn.execute(sa.select(participants.c.id).where(participants.c.id == participant.id).with_for_update())
        live_key = conn.execute(sa.select(agenda_items.c.exercise_key).where(
            agenda_items.c.workshop_id == w.id, agenda_items.c.position == w.live_position)).scalar_one_or_none()
        if w.live_position is None:
            return SubmitResult(None, problems={"_form": NOT_SENT_NOTHING_OPEN})
        item = _agenda_item(conn.execute(sa.select(agenda_items).where(
            agenda_items.c.workshop_id == w.id, agenda_items.c.position == w.live_position)).one())
        live = LiveExercise(revision=w.revision, item=item, state=w.live_state, lock_at_zero=bool(w.lock_at_zero))
        if live_key != exercise_key or not live.accepting(clock(), grace=SEND_GRACE_SECONDS):
            time_up = live_key == exercise_key and w.live_state == "open"
            return SubmitResult(None, problems={"_form": NOT_SENT_TIME_UP if time_up else NOT_SENT_CLOSED})
        partners = [r.display_name for r in conn.execute(
            sa.select(participants.c.display_name).where(participants.c.workshop_id == w.id,
                                                          participants.c.id != participant.id))
                    ] if exercise.partner_field else []
        problems = input_rules.answer_problems(exercise, answers, functions=list(w.functions),
                                               stages=list(w.stages), partners=partners,
                                               handoffs=offered_handoffs(conn, w, exercise, participant.function),
                                               own_function=participant.function,
                                               serves=serves, today=dt.date.fromtimestamp(clock()),
                                               gettext=i18n.translator(w.language).gettext)
        if problems:
            _log.info("A story was not sent (participant %s): %s", participant.id,
                      "; ".join(f"{k}: {v}" for k, v in sorted(problems.items()))[:500])
            return SubmitResult(None, problems=problems)
        now = clock()
        # The draft this story was typed in is done with, in the same transaction: one write per Send.
        conn.execute(sa.delete(drafts).where(drafts.c.participant_id == participant.id,
                                             drafts.c.exercise_key == exercise_key))
        story_id = conn.execute(sa.insert(stories).values(
            workshop_id=w.id, exercise_key=exercise_key, participant_id=participant.id,
            function=participant.function, answers=input_rules.normalise_answers(exercise, answers),
            idempotency_key=idempotency_key, hidden=False, created_at=now, updated_at=now,
        )).inserted_primary_key[0]
        _bump(conn, w.id, "stories")
        row = conn.execute(_stories_query(w.id).where(stories.c.id == story_id)).one()
    return SubmitResult(_story(row), created=True)


def offered_handoffs(conn: Connection, w, exercise: Exercise, function: str) -> list[str] | None:
    """For an exercise that answers another's handoffs (`[receives]`): the handoff answers a teller of
    `function` may give, read in this transaction (`w` is the workshop row or Workshop); else None."""
    sender = library().get(exercise.receives_from) if exercise.receives_from else None
    if sender is None:
        return None
    rows = conn.execute(_stories_query(w.id).where(stories.c.exercise_key == sender.key,
                                                    stories.c.hidden == sa.false(),
                                                    stories.c.builds_on.is_(None))).all()
    offered = handoff_sides.offered_handoffs([_story(r) for r in rows], sender, function,
                                             functions=_names(w.functions), stages=_names(w.stages))
    return [o.value for o in offered]


def counts_by_function(people: list[Participant], functions: list[str]) -> dict[str, int]:
    """How many people came from each function, in the workshop's order (zeros included)."""
    counts = {f: 0 for f in functions}
    for p in people:
        counts[p.function] = counts.get(p.function, 0) + 1
    return counts


def edit_story(store: Store, participant: Participant, story_id: int, answers: dict, clock: Clock = time.time) -> SubmitResult:
    """Change one's own story while its exercise still takes stories; the same checks as sending it."""
    try:
        with store.write() as conn:
            row = conn.execute(_stories_query(participant.workshop_id).where(
                stories.c.id == story_id, stories.c.participant_id == participant.id)).first()
            if row is None or row.builds_on is not None:
                return SubmitResult(None, problems={"_form": N_("You can only change your own stories.")})
            exercise = library().get(row.exercise_key)
            w = conn.execute(sa.select(workshops).where(workshops.c.id == participant.workshop_id).with_for_update()).one()
            item = None if w.live_position is None else _agenda_item(conn.execute(sa.select(agenda_items).where(
                agenda_items.c.workshop_id == w.id, agenda_items.c.position == w.live_position)).one())
            live = LiveExercise(revision=w.revision, item=item, state=w.live_state, lock_at_zero=bool(w.lock_at_zero))
            if exercise is None or item is None or item.exercise_key != row.exercise_key or not live.accepting(clock(), grace=SEND_GRACE_SECONDS):
                return SubmitResult(None, problems={"_form": N_("Not changed: this exercise is locked. Your text is still in the form.")})
            dotted = conn.execute(sa.select(sa.func.count()).select_from(votes)
                                  .where(votes.c.story_id == story_id)).scalar_one()
            if item.voting != "off" or dotted:
                # Dots were given to the text people read: it may not change under them.
                return SubmitResult(None, problems={"_form": EDIT_FROZEN_BY_VOTING})
            partners = [r.display_name for r in conn.execute(
                sa.select(participants.c.display_name).where(participants.c.workshop_id == w.id,
                                                              participants.c.id != participant.id))]
            problems = input_rules.answer_problems(exercise, answers, functions=list(w.functions),
                                                   stages=list(w.stages), partners=partners,
                                                   handoffs=offered_handoffs(conn, w, exercise, participant.function),
                                                   own_function=participant.function,
                                                   serves=serve_options(store, participant.workshop_id, exercise),
                                                   today=dt.date.fromtimestamp(clock()),
                                                   rounds=input_rules.rounds_given(exercise, _story(row).answers)
                                                   if exercise.paced else None,
                                                   gettext=i18n.translator(w.language).gettext)
            if problems:
                return SubmitResult(None, problems=problems)
            conn.execute(sa.update(stories).where(stories.c.id == story_id).values(
                answers=input_rules.normalise_answers(exercise, answers), updated_at=clock()))
            _bump(conn, w.id, "stories")
            row = conn.execute(_stories_query(w.id).where(stories.c.id == story_id)).one()
    except sa.exc.OperationalError:
        return SubmitResult(None, problems={"_form": NOT_SAVED_YET})
    return SubmitResult(_story(row), created=False)
