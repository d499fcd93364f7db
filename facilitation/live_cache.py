"""What live views read, once per server process and shared by every session in it.

Live screens are woken by push (facilitation.live_hub) and by a slow safety-net poll; a room
of 500 that wakes at once (an exercise opens) asks the same questions 500 times. Here:

* `revision(store, workshop_id)` is the push hub's number when the hub vouches for it (this
  process's own commits at once, other processes through LISTEN/NOTIFY or the SQLite watcher:
  no read at all); otherwise the counter is read at most once per `REVISION_TTL_S` per
  process and workshop, and every other caller in that window gets the same number.
* `live_exercise(...)` and `snapshot(...)` are read once per revision per process: the first
  session that sees a new revision reads, the others reuse the object (treat it as read-only;
  the dataclasses are frozen, their lists must not be mutated).
* `workshop_by_code(...)` is read once per revision per process, and `participant(...)` (who a
  page's token is) once per process until who is in the room changes (the hub's "people" topic):
  every run of every phone asked both of the database before.
* `qr_png(url)` draws a join QR code once per address.

Refreshes are single-flight: while one thread reads a newer value, the others wait for that
read instead of queueing on the database, and then use it. They do not draw the value they
had: a screen woken by push because the exercise opened must draw the open exercise, not the
waiting page (it would then wait for its next wake). A read stuck past READ_WAIT_S is not
waited for any longer.

Staleness is bounded: a change made in this process is seen at once, one made on another
replica (same database) within the hub's notification or watch delay, or REVISION_TTL_S
when the hub cannot vouch.
Values are reused only for exactly the revision just read (not "at least"): a workshop deleted
and another created under the same id starts again at revision 1 and is read afresh.

Nothing here is written; writes still go through `facilitation.workshops`, which bumps the
revision in the same transaction as the change.

No Streamlit import: this is plain process state, safe to use from any script thread.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from . import links, live_hub, workshops
from .store import Store

REVISION_TTL_S = 0.5
READ_WAIT_S = 5.0
MAX_WORKSHOPS = 1000  # entries kept per kind before the least recently refreshed are dropped
MAX_PEOPLE = 20_000  # participants kept (by token) before the least recently read are dropped


@dataclass
class _Entry:
    value: Any
    key: Any  # what the value was read for: a time for revisions, a revision for the rest


class _Table:
    """A small thread-safe map (store url, workshop id) -> _Entry with single-flight refresh."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[str, int], _Entry] = {}
        self.reading: dict[tuple[str, int], threading.Event] = {}

    def get(self, store: Store, workshop_id: int, fresh: Callable[[_Entry], bool], read: Callable[[], tuple[Any, Any]]):
        k = (store.url, workshop_id)
        for _attempt in range(3):
            with self.lock:
                entry = self.entries.get(k)
                if entry is not None and fresh(entry):
                    return entry.value
                done = self.reading.get(k)
                if done is None:
                    done = self.reading[k] = threading.Event()
                    break  # this thread reads
            if not done.wait(READ_WAIT_S) and entry is not None:
                return entry.value  # the read in flight is stuck: better what we have than a queue
        else:
            return read()[0]  # the reads in flight kept missing what we asked for: read it ourselves
        try:
            value, key = read()
            with self.lock:
                self.entries[k] = _Entry(value=value, key=key)
                if len(self.entries) > MAX_WORKSHOPS:
                    for old in list(self.entries)[: len(self.entries) - MAX_WORKSHOPS]:
                        del self.entries[old]
            return value
        finally:
            with self.lock:
                self.reading.pop(k, None)
            done.set()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def drop(self, store: Store, workshop_id: int) -> None:
        with self.lock:
            self.entries.pop((store.url, workshop_id), None)


_revisions = _Table()
_live = _Table()
_snapshots = _Table()
_serves = _Table()


def revision(store: Store, workshop_id: int, *, ttl: float | None = None) -> int:
    """The workshop's change counter, at most `ttl` (default REVISION_TTL_S) seconds old: one read
    per process per `ttl`."""
    if ttl is None:
        pushed = live_hub.hub.revision(store.url, workshop_id)
        if pushed is not None:
            return pushed
    ttl = REVISION_TTL_S if ttl is None else ttl
    now = time.monotonic()
    return _revisions.get(store, workshop_id, lambda e: now - e.key < ttl,
                          lambda: (workshops.revision(store, workshop_id), time.monotonic()))


def live_exercise(store: Store, workshop_id: int, *, ttl: float | None = None) -> workshops.LiveExercise:
    """What the room is on now, read once per revision per process."""
    rev = revision(store, workshop_id, ttl=ttl)

    def read():
        live = workshops.live_exercise(store, workshop_id)
        return live, live.revision

    return _live.get(store, workshop_id, lambda e: e.key == rev, read)


def snapshot(store: Store, workshop_id: int, *, ttl: float | None = None) -> workshops.Snapshot:
    """The whole workshop, read once per revision per process (the projector, the console, vote walls)."""
    rev = revision(store, workshop_id, ttl=ttl)

    def read():
        snap = workshops.snapshot(store, workshop_id)
        return snap, snap.workshop.revision

    return _snapshots.get(store, workshop_id, lambda e: e.key == rev, read)


_workshops = _Table()
_codes: dict[tuple[str, str], int] = {}  # (store url, join code) -> workshop id; a code is never reused
_people: OrderedDict[tuple[str, int, str], tuple[workshops.Participant | None, int]] = OrderedDict()
_people_lock = threading.Lock()


def workshop_by_code(store: Store, code: str) -> workshops.Workshop | None:
    """workshops.find_workshop, read once per revision per process."""
    from .access import normalise_join_code

    code = normalise_join_code(code)
    wid = _codes.get((store.url, code))
    if wid is None:
        found = workshops.find_workshop(store, code)
        if found is not None:
            _codes[(store.url, code)] = found.id
            with _workshops.lock:
                _workshops.entries[(store.url, found.id)] = _Entry(value=found, key=found.revision)
        return found
    rev = revision(store, wid)

    def read():
        found = workshops.get_workshop(store, wid)
        return found, (found.revision if found is not None else -1)

    found = _workshops.get(store, wid, lambda e: e.key == rev, read)
    if found is None or found.code != code:
        with _workshops.lock:
            _codes.pop((store.url, code), None)
        return workshops.find_workshop(store, code)
    return found


ROOM_READ_EVERY_S = 1.0  # a room's participants are read all at once at most this often per process
_room_reads: dict[tuple[str, int], float] = {}
_room_read_locks: dict[tuple[str, int], threading.Lock] = {}


def participant(store: Store, workshop_id: int, token: str | None) -> workshops.Participant | None:
    """workshops.participant_by_token, read once per process until the room's people change (a join,
    a merge, a removal), when this process's push hub vouches for what it heard; else read.

    Once the people have changed, the first caller reads the whole room in one query (at most once per
    ROOM_READ_EVERY_S) and the rest of the room finds itself there: 500 phones redrawn at once by an
    exercise opening after the last join read one list, not 500 rows one by one."""
    if not token:
        return None
    moved = live_hub.hub.moved(store.url, workshop_id, "people")
    if moved is None:
        return workshops.participant_by_token(store, workshop_id, token)
    k = (store.url, workshop_id, token)
    fresh = _known_participant(k, moved)
    if fresh is not None:
        return fresh[0]
    room_key = (store.url, workshop_id)
    with _people_lock:
        lock = _room_read_locks.setdefault(room_key, threading.Lock())
        room_read_due = time.monotonic() - _room_reads.get(room_key, float("-inf")) >= ROOM_READ_EVERY_S
    if room_read_due:
        with lock:  # one reader; the others wait for it, then find themselves
            fresh = _known_participant(k, moved)
            if fresh is not None:
                return fresh[0]
            stamp = live_hub.hub.revision(store.url, workshop_id)  # taken before the read: never newer than it
            if stamp is not None:
                everyone = workshops.list_participants(store, workshop_id)
                with _people_lock:
                    _room_reads[room_key] = time.monotonic()
                    for person in everyone:
                        _people[(store.url, workshop_id, person.token)] = (person, stamp)
                        _people.move_to_end((store.url, workshop_id, person.token))
                    found = next((p for p in everyone if p.token == token), None)
                    _people[k] = (found, stamp)
                    while len(_people) > MAX_PEOPLE:
                        _people.popitem(last=False)
                return found
    stamp = live_hub.hub.revision(store.url, workshop_id)
    found = workshops.participant_by_token(store, workshop_id, token)
    if stamp is not None:
        with _people_lock:
            _people[k] = (found, stamp)
            while len(_people) > MAX_PEOPLE:
                _people.popitem(last=False)
    return found


def _known_participant(k: tuple[str, int, str], moved: int) -> tuple[workshops.Participant | None] | None:
    with _people_lock:
        got = _people.get(k)
        if got is not None and got[1] >= moved:
            _people.move_to_end(k)
            return (got[0],)
    return None


_tellers: dict[tuple[str, int, str], tuple[frozenset[int], int]] = {}
_tellers_lock = threading.Lock()


def may_have_stories(store: Store, workshop_id: int, exercise_key: str, participant_id: int) -> bool:
    """False only when this participant surely has no story (hidden or not) in this exercise: who has
    told one is read once per process until the room's stories change (the hub's "stories" topic), so
    a room that has just opened an exercise reads nobody's own stories. True: read them."""
    moved = live_hub.hub.moved(store.url, workshop_id, "stories")
    if moved is None:
        return True
    k = (store.url, workshop_id, exercise_key)
    with _tellers_lock:
        got = _tellers.get(k)
    if got is not None and participant_id in got[0]:
        return True  # once a teller, always worth reading (a room sending 50 a second moves "stories" constantly)
    if got is None or got[1] < moved:
        stamp = live_hub.hub.revision(store.url, workshop_id)  # before the read: never newer than it
        tellers = workshops.storytellers(store, workshop_id, exercise_key)
        if stamp is None:
            return participant_id in tellers
        got = (tellers, stamp)
        with _tellers_lock:
            _tellers[k] = got
            if len(_tellers) > MAX_WORKSHOPS:
                del _tellers[next(iter(_tellers))]
    return participant_id in got[0]


def told(store: Store, workshop_id: int, exercise_key: str, participant_id: int) -> None:
    """This process stored a story of this participant: `may_have_stories` knows it without reading the room."""
    k = (store.url, workshop_id, exercise_key)
    with _tellers_lock:
        got = _tellers.get(k)
        if got is not None and participant_id not in got[0]:
            _tellers[k] = (got[0] | {participant_id}, got[1])


def serve_options(store: Store, workshop_id: int) -> list[str]:
    """What a commitment may serve (facilitation.commitments.serve_options), worked out once per revision per
    process: a room opening its commitments draws it on every phone (bench/bench_serve_options.py)."""
    snap = snapshot(store, workshop_id)

    def read():
        from . import commitments  # it builds on the map, which builds on workshops

        return commitments.serve_options(snap), snap.workshop.revision

    return _serves.get(store, workshop_id, lambda e: e.key == snap.workshop.revision, read)


@lru_cache(maxsize=256)
def qr_png(url: str) -> bytes:
    """The join QR code for an address, drawn once per process (segno takes ~20 ms a code)."""
    return links.qr_png(url)


def forget(store: Store, workshop_id: int) -> None:
    """Drop what this process keeps for one workshop (called when it is deleted or restored), so no
    screen is ever served a deleted workshop's stories, whatever id or revision comes next."""
    for table in (_revisions, _live, _snapshots, _serves, _workshops):
        table.drop(store, workshop_id)
    with _workshops.lock:
        for k in [k for k, v in _codes.items() if k[0] == store.url and v == workshop_id]:
            del _codes[k]
    with _people_lock:
        for k in [k for k in _people if k[0] == store.url and k[1] == workshop_id]:
            del _people[k]
        _room_reads.pop((store.url, workshop_id), None)
    with _tellers_lock:
        for k in [k for k in _tellers if k[0] == store.url and k[1] == workshop_id]:
            del _tellers[k]


def clear() -> None:
    """Forget everything (tests; a workshop deleted by another process is simply never asked for)."""
    _revisions.clear()
    _live.clear()
    _snapshots.clear()
    _serves.clear()
    _workshops.clear()
    with _workshops.lock:
        _codes.clear()
    with _people_lock:
        _people.clear()
        _room_reads.clear()
    with _tellers_lock:
        _tellers.clear()
    qr_png.cache_clear()
