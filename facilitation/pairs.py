"""An exercise done in pairs (Retrace the steps): who tells and who listens with whom, the timed
phases the facilitator starts, and the room's tally of how each pair listened.

Pairs are proposed across functions (the odd one out makes one trio, as a second listener), stored
in the database (`pair_members`, `pair_rounds`), so a reload, a phone or a second console sees the
same pairs. Every change moves the round's `version`; a console names the version it showed and is
refused (StaleControl) when another screen changed the pairs meanwhile. People who join while the
exercise is live are placed at once (`place_newcomer`, called by `workshops.join_workshop`).
Rules only: no Streamlit here.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import room
from .i18n import N_
from .exercises import Exercise, Phase, library
from .store import Store, agenda_items, pair_members, pair_rounds, participants, workshops as workshop_rows
from .workshops import Clock, Snapshot, StaleControl, Story, WorkshopInputError, _bump

TELLER, LISTENER = "teller", "listener"
ROLE_LABELS = {TELLER: N_("Teller"), LISTENER: N_("Listener")}
NOT_MARKED = "Not marked yet"


@dataclass(frozen=True)
class Member:
    participant_id: int
    name: str
    function: str
    role: str


@dataclass(frozen=True)
class Pair:
    """Two people, or three for the odd one out: one teller, the others listeners."""

    number: int  # 1-based, as the room reads it
    members: tuple[Member, ...]

    @property
    def teller(self) -> Member | None:
        return next((m for m in self.members if m.role == TELLER), None)

    @property
    def listeners(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.role != TELLER)


@dataclass(frozen=True)
class Round:
    """The pairs of one exercise and the phase it is in (version 0: no pairs proposed yet)."""

    exercise_key: str
    version: int
    phase: int  # 0 before the first phase, 1..n while one runs, n + 1 once they are over
    phase_started_at: float | None
    phase_log: tuple[tuple[int, float], ...]
    pairs: tuple[Pair, ...]
    unpaired: tuple[Member, ...]  # in the room, in no pair (joined while another exercise was live)

    def pair_of(self, participant_id: int) -> Pair | None:
        return next((p for p in self.pairs if any(m.participant_id == participant_id for m in p.members)), None)

    def member(self, participant_id: int) -> Member | None:
        pair = self.pair_of(participant_id)
        return next((m for m in pair.members if m.participant_id == participant_id), None) if pair else None


def done_in_pairs(exercise: Exercise | None) -> bool:
    """Whether an exercise is done in pairs (it names a partner), so the room is paired for it."""
    return exercise is not None and exercise.partner_field is not None


# --- proposing pairs (pure) ---------------------------------------------------------------------

def propose_groups(people: list[tuple[int, str]], seed: int = 0) -> list[list[int]]:
    """Pairs across functions from (participant id, function) in join order; teller first in each.

    The person left is always taken from the function with most people still unpaired and paired
    with someone from the next biggest other function, which makes as many cross-function pairs as
    the room allows. An odd count leaves one person, who joins a pair of two other functions as a
    second listener (a trio). `seed` varies who meets whom among equals (a facilitator's
    "propose again"); the same seed gives the same pairs.
    """
    rng = random.Random(seed)
    by_function: dict[str, list[int]] = defaultdict(list)
    for pid, function in people:
        by_function[function].append(pid)
    rank = list(by_function)
    rng.shuffle(rank)  # tie-break between functions of the same size
    for ids in by_function.values():
        rng.shuffle(ids)
    function_of = {pid: f for pid, f in people}
    groups: list[list[int]] = []
    while sum(len(ids) for ids in by_function.values()) >= 2:
        order = sorted((f for f in rank if by_function[f]), key=lambda f: -len(by_function[f]))
        first = by_function[order[0]].pop()
        second = by_function[order[1] if len(order) > 1 else order[0]].pop()
        groups.append([first, second])
    left = [ids.pop() for ids in by_function.values() if ids]
    if left:
        odd = left[0]
        if not groups:
            groups.append([odd])
        else:
            apart = [g for g in groups if function_of[odd] not in {function_of[p] for p in g}]
            (apart or groups)[-1].append(odd)
    return groups


def _place(groups: list[list[int]], newcomer: int, function_of: dict[int, str], telling: bool) -> None:
    """Put one person who was in no pair into `groups` (lists of ids, teller first), in place.

    Someone alone gets them as a listener. Before the phases start, a trio gives up its second
    listener to make a new pair with them (one trio at most); once the pairs are telling, they join
    the smallest pair with neither of their function as a second listener, so nobody is pulled
    out of a story halfway.
    """
    mine = function_of.get(newcomer)
    alone = [g for g in groups if len(g) == 1]
    if alone:
        alone[0].append(newcomer)
        return
    trios = [g for g in groups if len(g) >= 3]
    if trios and not telling:
        trio = trios[0]
        other = [p for p in trio[1:] if function_of.get(p) != mine] or trio[1:]
        moved = other[-1]
        trio.remove(moved)
        groups.append([moved, newcomer])
        return
    if not groups:
        groups.append([newcomer])
        return
    apart = [g for g in groups if mine not in {function_of.get(p) for p in g}]
    target = min(apart or groups, key=len)
    target.append(newcomer)


# --- reading ------------------------------------------------------------------------------------

def round_of(snapshot: Snapshot, exercise_key: str) -> Round:
    """The pairs and phase of one exercise, as stored at the snapshot."""
    people = {p.id: p for p in snapshot.participants}
    found = next((r for r in snapshot.pair_rounds if r[0] == exercise_key), None)
    grouped: dict[int, list[Member]] = defaultdict(list)
    for key, pid, pair_no, role in snapshot.pair_members:
        if key == exercise_key and pid in people:
            grouped[pair_no].append(Member(pid, people[pid].display_name, people[pid].function,
                                           TELLER if role == TELLER else LISTENER))
    pairs = tuple(Pair(n, tuple(sorted(ms, key=lambda m: m.role != TELLER)))
                  for n, ms in sorted(grouped.items()))
    placed = {m.participant_id for p in pairs for m in p.members}
    unpaired = tuple(Member(p.id, p.display_name, p.function, LISTENER) for p in snapshot.participants
                     if p.id not in placed) if found and found[1] > 0 else ()
    if found is None:
        return Round(exercise_key, 0, 0, None, (), pairs, unpaired)
    _key, version, phase, started, log = found
    steps = tuple((int(s[0]), float(s[1])) for s in log if isinstance(s, (list, tuple)) and len(s) == 2
                  and all(isinstance(v, (int, float)) for v in s))
    return Round(exercise_key, version, phase, started, steps, pairs, unpaired)


def current_phase(exercise: Exercise, phase: int) -> Phase | None:
    """The phase running (1-based), or None before the first and after the last."""
    return exercise.phases[phase - 1] if 1 <= phase <= len(exercise.phases) else None


def phase_deadline(exercise: Exercise, phase: int, started_at: float | None) -> float | None:
    """When the running phase's countdown reaches zero (None when no phase runs)."""
    step = current_phase(exercise, phase)
    return started_at + step.minutes * 60 if step is not None and started_at is not None else None


def _english(message: str) -> str:
    return message


def phase_heading(exercise: Exercise, phase: int, gettext=_english) -> str:
    """'Phase 2 of 3 · Retell it in reverse', 'All 3 phases done', or '' before the first."""
    step = current_phase(exercise, phase)
    if step is not None:
        return gettext("Phase {n} of {total} · {title}").format(n=phase, total=len(exercise.phases), title=step.title)
    if exercise.phases and phase > len(exercise.phases):
        return gettext("All {total} phases done").format(total=len(exercise.phases))
    return ""


def role_task(exercise: Exercise, phase: int, role: str) -> str:
    """What someone in `role` does in the running phase (the room's prompt if the file says nothing)."""
    step = current_phase(exercise, phase)
    if step is None:
        return ""
    return (step.teller if role == TELLER else step.listener) or step.prompt


def people_text(members, *, with_function: bool = True, gettext=_english) -> str:
    """'Dev (Engineering)', 'Hiro (Support) and Mei (Leadership)'."""
    names = [f"{m.name} ({m.function})" if with_function else m.name for m in members]
    if not names:
        return ""
    return names[0] if len(names) == 1 else gettext("{some} and {last}").format(some=", ".join(names[:-1]),
                                                                                last=names[-1])


def phone_lines(round_: Round, participant_id: int, gettext=_english) -> tuple[str, str]:
    """What a phone says about its owner's pair: ('Pair 3 · you are the listener', 'Your teller: …').

    ('', '') when the room has no pairs yet; a person in no pair is told they will be placed.
    """
    _ = gettext
    if round_.version == 0:
        return "", ""
    pair = round_.pair_of(participant_id)
    me = round_.member(participant_id)
    if pair is None or me is None:
        return _("You are not in a pair yet"), _("The facilitator will put you with someone in a moment.")
    others = [m for m in pair.members if m.participant_id != participant_id]
    head = (_("Pair {n} · you are the teller") if me.role == TELLER else _("Pair {n} · you are the listener")).format(
        n=pair.number)
    if not others:
        return head, _("You have no partner yet: the facilitator will put someone with you.")
    if me.role == TELLER:
        listeners = [m for m in others if m.role != TELLER]
        return head, (_("Your listeners: {people}") if len(listeners) > 1 else _("Your listener: {people}")).format(
            people=people_text(listeners, gettext=_))
    teller = [m for m in others if m.role == TELLER]
    rest = [m for m in others if m.role != TELLER]
    line = _("Your teller: {people}").format(people=people_text(teller, gettext=_)) if teller else ""
    if rest:
        line += (" · " if line else "") + _("also listening: {people}").format(people=people_text(rest, gettext=_))
    return head, line


def pair_note(pair: Pair) -> str:
    """What the facilitator may want to fix in a pair: alone, one function only, four or more."""
    if len(pair.members) < 2:
        return "alone"
    if len(pair.members) > 3:
        return f"{len(pair.members)} people"
    if len({m.function for m in pair.members}) == 1:
        return "one function only"
    return ""


def board(round_: Round, *, show_names: bool) -> list[tuple[int, list[tuple[str, str]]]]:
    """The pairs as the room may see them: (pair number, [(role label, who)]) per pair.

    With names on, 'Ana · Sales'. With names off, only functions, and a function with fewer than
    three people in the pairs reads "Other functions" (room.named_functions: the same ≥3 rule as
    every other room-facing output).
    """
    named: set[str] = set()
    if not show_names:
        people: dict[str, set] = defaultdict(set)
        for pair in round_.pairs:
            for m in pair.members:
                people[m.function].add(m.participant_id)
        named = room.named_functions(people)
    rows = []
    for pair in round_.pairs:
        lines = []
        for m in pair.members:
            who = f"{m.name} · {m.function}" if show_names else (m.function if m.function in named
                                                                 else room.OTHER_FUNCTIONS)
            lines.append((ROLE_LABELS[m.role], who))
        rows.append((pair.number, lines))
    return rows


# --- the tally ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    """How the room judged its own listening: one mark per pair (its latest form), as counts."""

    counts: tuple[tuple[str, int], ...]  # (short option label, marks) in the file's order
    waiting: int  # pairs that have not marked yet

    @property
    def marked(self) -> int:
        return sum(n for _label, n in self.counts)

    def line(self) -> str:
        """'3 tactical · 5 strategic · 2 pairs not marked yet'."""
        parts = [f"{n} {label.lower()}" for label, n in self.counts]
        if self.waiting:
            parts.append(f"{room.counted(self.waiting, 'pair')} not marked yet")
        return " · ".join(parts)


def short_option(option: str) -> str:
    """'Tactical: we stopped once…' → 'Tactical' (the words before the colon)."""
    head = option.split(":", 1)[0].strip()
    return head or option


def tally(exercise: Exercise, stories: list[Story], round_: Round | None = None) -> Tally | None:
    """Count the exercise's tally field over visible stories, one mark per pair (a pair that sent two
    forms counts its latest); a story from someone in no pair counts on its own. None without a tally."""
    if not exercise.tally:
        return None
    field = exercise.field(exercise.tally)
    options = field.options
    marks: dict[object, str] = {}
    for s in stories:  # arrival order: a later form of the same pair replaces the earlier mark
        if s.hidden or s.builds_on is not None:
            continue
        value = s.answers.get(exercise.tally)
        if value not in options:
            continue
        pair = round_.pair_of(s.participant_id) if round_ is not None and s.participant_id is not None else None
        marks[("pair", pair.number) if pair else ("story", s.id)] = value
    # Counted by the stored option, named in the exercise's language.
    counts = tuple((short_option(field.option_label(o)), sum(1 for v in marks.values() if v == o)) for o in options)
    marked_pairs = {k[1] for k in marks if k[0] == "pair"}
    waiting = sum(1 for p in round_.pairs if p.number not in marked_pairs) if round_ is not None else 0
    return Tally(counts, waiting)


# --- changing -----------------------------------------------------------------------------------

def _exercise(exercise_key: str) -> Exercise:
    exercise = library().get(exercise_key)
    if not done_in_pairs(exercise):
        raise WorkshopInputError({"pairs": "This exercise is not done in pairs."})
    return exercise


def _round_row(conn: Connection, workshop_id: int, exercise_key: str):
    return conn.execute(sa.select(pair_rounds).where(pair_rounds.c.workshop_id == workshop_id,
                                                     pair_rounds.c.exercise_key == exercise_key)
                        .with_for_update()).first()


def _check(row, seen_version: int | None) -> None:
    if seen_version is not None and (row.version if row else 0) != seen_version:
        raise StaleControl("Nothing was changed: the pairs were changed on another screen. "
                           "This screen shows them as they are now; look again and press once more if you still mean it.")


def _groups(conn: Connection, workshop_id: int, exercise_key: str) -> list[list[int]]:
    rows = conn.execute(sa.select(pair_members.c.participant_id, pair_members.c.pair_no, pair_members.c.role)
                        .where(pair_members.c.workshop_id == workshop_id, pair_members.c.exercise_key == exercise_key)
                        .order_by(pair_members.c.pair_no, pair_members.c.role != TELLER, pair_members.c.id)).all()
    grouped: dict[int, list[int]] = {}
    for r in rows:
        grouped.setdefault(r.pair_no, []).append(r.participant_id)
    return list(grouped.values())


def _room(conn: Connection, workshop_id: int) -> dict[int, str]:
    """Participant id → function, in join order."""
    return {r.id: r.function for r in conn.execute(
        sa.select(participants.c.id, participants.c.function).where(participants.c.workshop_id == workshop_id)
        .order_by(participants.c.joined_at, participants.c.id)).all()}


def _save(conn: Connection, workshop_id: int, exercise_key: str, groups: list[list[int]], row, **round_values) -> int:
    """Store `groups` (teller first; empty ones dropped, numbered 1..n) and move the version; bumps "live"."""
    groups = [g for g in groups if g]
    conn.execute(sa.delete(pair_members).where(pair_members.c.workshop_id == workshop_id,
                                               pair_members.c.exercise_key == exercise_key))
    rows = [{"workshop_id": workshop_id, "exercise_key": exercise_key, "participant_id": pid, "pair_no": n,
             "role": TELLER if i == 0 else LISTENER}
            for n, group in enumerate(groups, start=1) for i, pid in enumerate(group)]
    if rows:
        conn.execute(sa.insert(pair_members), rows)
    if row is None:
        version = 1
        conn.execute(sa.insert(pair_rounds).values(workshop_id=workshop_id, exercise_key=exercise_key, version=version,
                                                   phase=0, phase_log=[], **round_values))
    else:
        version = row.version + 1
        conn.execute(sa.update(pair_rounds).where(pair_rounds.c.id == row.id).values(version=version, **round_values))
    _bump(conn, workshop_id, "live", "people")
    return version


def propose(store: Store, workshop_id: int, exercise_key: str, *, seen_version: int | None = None) -> int:
    """Pair everyone in the room across functions (again: new pairs); returns the new version.
    The phase the exercise is in stays."""
    _exercise(exercise_key)
    with store.write() as conn:
        row = _round_row(conn, workshop_id, exercise_key)
        _check(row, seen_version)
        people = _room(conn, workshop_id)
        seed = (row.version + 1) if row else 1
        return _save(conn, workshop_id, exercise_key, propose_groups(list(people.items()), seed=seed), row)


def arrange(store: Store, workshop_id: int, exercise_key: str, groups: list[list[int]], *,
            seen_version: int | None = None) -> int:
    """Store pairs exactly as given (participant ids, teller first), e.g. a plan made before the room."""
    _exercise(exercise_key)
    with store.write() as conn:
        row = _round_row(conn, workshop_id, exercise_key)
        _check(row, seen_version)
        room_ids = _room(conn, workshop_id)
        flat = [pid for g in groups for pid in g]
        if len(flat) != len(set(flat)) or any(pid not in room_ids for pid in flat):
            raise WorkshopInputError({"pairs": "Each person of this workshop may be in one pair only."})
        return _save(conn, workshop_id, exercise_key, [list(g) for g in groups], row)


def _change(store: Store, workshop_id: int, exercise_key: str, seen_version: int | None, edit) -> int:
    _exercise(exercise_key)
    with store.write() as conn:
        row = _round_row(conn, workshop_id, exercise_key)
        _check(row, seen_version)
        if row is None:
            raise WorkshopInputError({"pairs": "Propose pairs first."})
        groups = _groups(conn, workshop_id, exercise_key)
        edit(groups, _room(conn, workshop_id), row)
        return _save(conn, workshop_id, exercise_key, groups, row)


def _where(groups: list[list[int]], pid: int) -> tuple[int, int]:
    for gi, g in enumerate(groups):
        if pid in g:
            return gi, g.index(pid)
    raise WorkshopInputError({"pairs": "That person is in no pair: place them first."})


def swap(store: Store, workshop_id: int, exercise_key: str, first: int, second: int, *,
         seen_version: int | None = None) -> int:
    """Two people change places: each takes the other's pair and role."""
    def edit(groups, _people, _row):
        (ga, ia), (gb, ib) = _where(groups, first), _where(groups, second)
        groups[ga][ia], groups[gb][ib] = second, first
    return _change(store, workshop_id, exercise_key, seen_version, edit)


def move(store: Store, workshop_id: int, exercise_key: str, participant_id: int, to_pair: int | None, *,
         seen_version: int | None = None) -> int:
    """Move one person (in a pair or not yet) to pair number `to_pair` as a listener, or into a new pair of
    their own (None) as its teller. A pair that loses its teller gets its first listener as teller."""
    def edit(groups, people, row):
        if participant_id not in people:
            raise WorkshopInputError({"pairs": "That person is not in this workshop."})
        target = groups[to_pair - 1] if to_pair is not None and 1 <= to_pair <= len(groups) else None
        if to_pair is not None and target is None:
            raise WorkshopInputError({"pairs": f"There is no pair {to_pair}."})
        if target is not None and participant_id in target:
            return
        for g in groups:
            if participant_id in g:
                g.remove(participant_id)
        if target is None:
            groups.append([participant_id])
        else:
            target.append(participant_id)
    return _change(store, workshop_id, exercise_key, seen_version, edit)


def make_teller(store: Store, workshop_id: int, exercise_key: str, participant_id: int, *,
                seen_version: int | None = None) -> int:
    """This person tells their pair's story; the teller they replace listens."""
    def edit(groups, _people, _row):
        gi, i = _where(groups, participant_id)
        g = groups[gi]
        g.insert(0, g.pop(i))
    return _change(store, workshop_id, exercise_key, seen_version, edit)


def place_unpaired(store: Store, workshop_id: int, exercise_key: str, *, seen_version: int | None = None) -> int:
    """Place everyone in the room who is in no pair (by the rule for late joiners)."""
    def edit(groups, people, row):
        placed = {pid for g in groups for pid in g}
        telling = row.phase > 0
        for pid in people:
            if pid not in placed:
                _place(groups, pid, people, telling)
    return _change(store, workshop_id, exercise_key, seen_version, edit)


def place_newcomer(conn: Connection, workshop_id: int, participant_id: int, function: str) -> None:
    """Inside `join_workshop`'s transaction: while an exercise done in pairs is live and has pairs,
    the person who just joined is placed in one (see `_place`), and every screen hears of it."""
    w = conn.execute(sa.select(workshop_rows.c.live_position, workshop_rows.c.live_state)
                     .where(workshop_rows.c.id == workshop_id)).one()
    if w.live_position is None or w.live_state != "open":
        return
    key = conn.execute(sa.select(agenda_items.c.exercise_key).where(
        agenda_items.c.workshop_id == workshop_id, agenda_items.c.position == w.live_position)).scalar_one_or_none()
    if key is None or not done_in_pairs(library().get(key)):
        return
    row = _round_row(conn, workshop_id, key)
    if row is None or row.version == 0:
        return  # no pairs proposed yet: the proposal will include them
    groups = _groups(conn, workshop_id, key)
    people = _room(conn, workshop_id)
    people[participant_id] = function
    _place(groups, participant_id, people, telling=row.phase > 0)
    _save(conn, workshop_id, key, groups, row)


def start_phase(store: Store, workshop_id: int, exercise_key: str, phase: int, *, seen_phase: int | None = None,
                clock: Clock = time.time) -> None:
    """Start phase `phase` (1-based; one past the last ends the phases), its countdown from now.

    `seen_phase` is the phase the pressing console showed: refused (StaleControl) when another
    screen moved the phases meanwhile. Pairs are not needed to run the phases.
    """
    exercise = _exercise(exercise_key)
    if not 1 <= phase <= len(exercise.phases) + 1:
        raise WorkshopInputError({"phase": f"This exercise has {len(exercise.phases)} phases."})
    with store.write() as conn:
        row = _round_row(conn, workshop_id, exercise_key)
        if seen_phase is not None and (row.phase if row else 0) != seen_phase:
            raise StaleControl("Nothing was changed: the phase was moved on another screen. "
                               "This screen shows the phase the room is in now.")
        now = clock()
        log = [*(row.phase_log if row is not None and isinstance(row.phase_log, list) else []), [phase, now]]
        values = {"phase": phase, "phase_started_at": now if phase <= len(exercise.phases) else None, "phase_log": log}
        if row is None:
            conn.execute(sa.insert(pair_rounds).values(workshop_id=workshop_id, exercise_key=exercise_key, version=0,
                                                       **values))
        else:
            conn.execute(sa.update(pair_rounds).where(pair_rounds.c.id == row.id).values(**values))
        _bump(conn, workshop_id, "live")
