"""Unsent answers kept on the server as a participant types, so a refresh or a lost phone loses nothing.

Two ways in: `save_draft` keeps the whole form when a field is left (a script run), and
`save_typed` keeps the one text field being typed, posted by the browser while the person types
(facilitation/routes.py, no script run). A story once sent takes its draft with it, in its own
transaction; `save_typed` refuses a form that has already been sent, so a save still on its way
when Send was pressed never brings the sent text back into the next, empty form.

Group commit: a room of 500 typing posts ~170 drafts a second, and one write transaction each
kept the database's single writer busy, so a Send queued behind them. Every save of this process
goes to one writer thread per store instead, which writes all the saves that arrived since its
last write in one transaction (at most one every BATCH_EVERY_S; at once when the room is quiet).
Each caller still waits until its save is committed and gets its own answer: nothing is
acknowledged before it is on disk, and saves are applied in the order they arrived.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa

from .exercises import library
from .store import SQLITE_BUSY_TIMEOUT_MS, Store, drafts, participants, stories, story_rounds, workshops
from .workshops import Clock, LiveExercise, Participant, _answers, _participant

DRAFT_MAX_CHARS = 200_000  # far above any field's limit: a draft keeps what was typed, checks come at Send
FORM_ID_MAX = 64  # the form's id is the story's idempotency key (workshops.submit_story)
BATCH_EVERY_S = 0.25  # under load, the saves of a quarter second share one transaction
IDLE_EXIT_S = 60.0
WAIT_S = 2 * SQLITE_BUSY_TIMEOUT_MS / 1000  # a caller gives up on its answer after this (the save may still land)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TypedResult:
    saved: bool
    status: int  # the HTTP status the route answers with
    message: str = ""


BUSY = TypedResult(False, 503, "Not saved yet: the server is busy.")
STRANGER = TypedResult(False, 403, "Not a participant of this workshop.")


@dataclass
class _Save:
    """One save waiting for the writer: a whole form (`answers`) or one typed field (`field_name`)."""

    exercise_key: str
    now: float
    participant: Participant | None = None  # a whole form: known; a typed field: found by the writer
    answers: dict | None = None
    merge: bool = False  # `answers` are one part of the form (a round): the other fields keep their text
    code: str = ""
    token: str = ""
    form_id: str = ""
    field_name: str = ""
    text: str = ""
    live: object = None  # a typed field: the workshop's live exercise -> LiveExercise (read by the writer)
    result: TypedResult | None = None
    done: threading.Event = field(default_factory=threading.Event)
    on_done: Callable[[TypedResult], None] | None = None  # called on the writer's thread once written


def save_draft(store: Store, participant: Participant, exercise_key: str, answers: dict, clock: Clock = time.time,
               *, form_id: str = "", wait: bool = True) -> bool:
    """Keep what this participant has typed so far for one exercise; False if it could not be saved now.

    With `form_id`, nothing is saved once that form has been sent: a field left as Send was pressed
    (the phone sends by POST, facilitation/sending.py) may reach the server after the story.
    `wait=False` queues the save and returns at once (True): a field left on the phone need not hold
    its script run until the writer's next commit; `load_draft` still waits for it, so a reload
    never brings back less than was left."""
    kept = {k: v for k, v in answers.items() if v not in (None, "") and not (isinstance(v, str) and len(v) > DRAFT_MAX_CHARS)}
    item = _Save(exercise_key, clock(), participant=participant, answers=kept, form_id=form_id[:FORM_ID_MAX])
    if not wait:
        _writer(store).put(item)
        return True
    return _writer(store).save(item).saved


def merge_draft(store: Store, participant: Participant, exercise_key: str, answers: dict,
                clock: Clock = time.time) -> bool:
    """Keep the answers of one part of a form (a round) in the draft, leaving the other fields' text as it is."""
    return _writer(store).save(_Save(exercise_key, clock(), participant=participant, answers=dict(answers),
                                     merge=True)).saved


def save_typed(store: Store, participant: Participant, live: LiveExercise, exercise_key: str, form_id: str,
               field_name: str, text: str, clock: Clock = time.time) -> TypedResult:
    """Keep the text of one field as it is being typed, merged into this exercise's draft, for a participant
    already known and the workshop's live exercise as read; waits for the commit (see `queue_typed`)."""
    item = _typed("", "", exercise_key, form_id, field_name, text, None, clock)
    if item.result is None:
        item.result = typed_problem(live, exercise_key, field_name, text, item.now)
    if item.result is not None:
        return item.result
    item.participant = participant
    return _writer(store).save(item)


def queue_typed(store: Store, code: str, token: str, exercise_key: str, form_id: str, field_name: str, text: str,
                live_exercise, on_done: Callable[[TypedResult], None], clock: Clock = time.time) -> None:
    """`save_typed` without waiting: `on_done(result)` is called once the save is committed or refused
    (on the writer's thread; the route hands it back to its event loop, so no thread waits).

    `code` and `token` are the workshop's join code and the participant's token (as in their page's
    address); `live_exercise(workshop_id)` gives the workshop's live exercise (facilitation.live_cache).
    Checked here, not trusted from the browser: the token is a participant of that workshop, the
    exercise is the live one and takes stories now, the field is one of its text fields, the text
    fits the field's limit, and the form has not been sent (a story with this form's id exists:
    nothing is saved).
    """
    item = _typed(code, token, exercise_key, form_id, field_name, text, live_exercise, clock)
    if item.result is not None:
        on_done(item.result)
        return
    item.on_done = on_done
    _writer(store).put(item)


def _typed(code, token, exercise_key, form_id, field_name, text, live_exercise, clock) -> _Save:
    item = _Save(exercise_key, clock(), code=code, token=token, form_id=form_id, field_name=field_name, text=text,
                 live=live_exercise)
    if not isinstance(text, str) or not isinstance(form_id, str) or not 0 < len(form_id) <= FORM_ID_MAX:
        item.result = TypedResult(False, 400, "Malformed draft.")
    return item


def typed_problem(live: LiveExercise, exercise_key: str, field_name: str, text: str, now: float) -> TypedResult | None:
    """Why one typed field cannot be kept now (None: it can)."""
    exercise = library().get(exercise_key)
    if exercise is None or live.exercise is None or live.exercise.key != exercise_key or not live.accepting(now):
        return TypedResult(False, 409, "This exercise is not taking answers now.")
    field_ = next((f for f in exercise.fields if f.name == field_name), None)
    if field_ is None or not field_.is_text:
        return TypedResult(False, 400, "No such text field in this exercise.")
    if len(text) > (field_.max_chars or DRAFT_MAX_CHARS):
        return TypedResult(False, 413, f"Longer than this field's {field_.max_chars} characters.")
    return None


def load_draft(store: Store, participant: Participant, exercise_key: str) -> dict:
    """The draft for one exercise, or {}.

    Read in a group with whoever else asks at the same moment (an exercise opening redraws 500 phones,
    each bringing back its draft): one query for all of them, always begun after each one asked, so
    none gets an answer older than its question."""
    _writer(store).wait_for(participant.id)  # a save of this person still queued is read, not passed by
    return _draft_reads(store).load(participant.id, exercise_key)


class _GroupRead:
    """Leader and followers: the first to ask reads for everyone waiting; who asks meanwhile waits for the next read."""

    MAX_BATCH = 500

    def __init__(self, store: Store):
        self.store = store
        self.lock = threading.Lock()
        self.waiting: list[list] = []  # [participant id, exercise key, done event, answers, error]
        self.reading = False

    def load(self, participant_id: int, exercise_key: str) -> dict:
        item = [participant_id, exercise_key, threading.Event(), None, None]
        with self.lock:
            self.waiting.append(item)
            lead = not self.reading
            self.reading = True
        if lead:
            self._read_all()
        item[2].wait()
        if item[4] is not None:
            raise item[4]
        return item[3]

    def _read_all(self) -> None:
        while True:
            with self.lock:
                batch, self.waiting = self.waiting[:self.MAX_BATCH], self.waiting[self.MAX_BATCH:]
                if not batch:
                    self.reading = False
                    return
            try:
                with self.store.read() as conn:
                    rows = conn.execute(sa.select(drafts.c.participant_id, drafts.c.exercise_key, drafts.c.answers).where(
                        drafts.c.participant_id.in_(sorted({i[0] for i in batch})),
                        drafts.c.exercise_key.in_(sorted({i[1] for i in batch})))).all()
                found = {(r.participant_id, r.exercise_key): r.answers for r in rows}
                for item in batch:
                    answers = found.get((item[0], item[1]))
                    item[3] = _answers(answers) if answers is not None else {}  # whatever was stored, something a form can show
            except Exception as exc:  # every caller of this read gets the error, as a read of its own would
                for item in batch:
                    item[4] = exc
            finally:
                for item in batch:
                    item[2].set()


_group_reads: dict[str, _GroupRead] = {}


def _draft_reads(store: Store) -> _GroupRead:
    with _writers_lock:
        r = _group_reads.get(store.url)
        if r is None or r.store is not store:
            r = _group_reads[store.url] = _GroupRead(store)
        return r


# --- the writer ---------------------------------------------------------------------------------------

class _Writer:
    """One thread per store that writes every save queued since its last write in one transaction."""

    def __init__(self, store: Store):
        self.store = store
        self.queue: list[_Save] = []
        self.writing: list[_Save] = []  # the batch being written now
        self.ready = threading.Condition()
        self.last_write = float("-inf")
        self.thread: threading.Thread | None = None
        self.stats = {"writes": 0, "saves": 0, "largest": 0}

    def save(self, item: _Save) -> TypedResult:
        self.put(item)
        if not item.done.wait(WAIT_S):
            return BUSY
        return item.result or BUSY

    def wait_for(self, participant_id: int) -> None:
        """Until every save of this participant queued or being written now is committed (or WAIT_S)."""
        with self.ready:
            pending = [i for i in (*self.writing, *self.queue) if i.participant is not None
                       and i.participant.id == participant_id and not i.done.is_set()]
        for item in pending:
            item.done.wait(WAIT_S)

    def put(self, item: _Save) -> None:
        with self.ready:
            self.queue.append(item)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="draft-writer", daemon=True)
                self.thread.start()
            self.ready.notify()

    def _run(self) -> None:
        while True:
            with self.ready:
                if not self.queue:
                    self.ready.wait(IDLE_EXIT_S)
                if not self.queue:  # a quiet store: the next save starts a thread again
                    self.thread = None
                    return
            time.sleep(max(0.0, self.last_write + BATCH_EVERY_S - time.monotonic()))  # more saves join meanwhile
            with self.ready:
                batch, self.queue = self.queue, []
                self.writing = batch
            self.last_write = time.monotonic()
            try:
                self._write(batch)
            except Exception:  # never leave a caller waiting, never stop the thread
                _log.exception("writing drafts failed")
            finally:
                for item in batch:
                    if item.result is None:
                        item.result = BUSY
                    item.done.set()
                    if item.on_done is not None:
                        try:
                            item.on_done(item.result)
                        except Exception:
                            _log.exception("answering a draft save failed")

    def _write(self, batch: list[_Save]) -> None:
        self._find_participants(batch)
        batch = [i for i in batch if i.result is None]
        if not batch:
            return
        try:
            with self.store.write() as conn:
                _put_all(conn, batch)
        except sa.exc.SQLAlchemyError:
            for item in batch:
                item.result = None
            if len(batch) == 1:
                batch[0].result = BUSY
                return
            # One bad save must not cost the others theirs: each on its own.
            for item in batch:
                try:
                    with self.store.write() as conn:
                        _put_all(conn, [item])
                except sa.exc.SQLAlchemyError:
                    item.result = BUSY
        self.stats["writes"] += 1
        self.stats["saves"] += len(batch)
        self.stats["largest"] = max(self.stats["largest"], len(batch))

    def _find_participants(self, batch: list[_Save]) -> None:
        """Typed fields come with a code and a token: who they are, in one read, then the live checks."""
        typed = [i for i in batch if i.participant is None]
        if not typed:
            return
        tokens = sorted({i.token for i in typed})
        try:
            with self.store.read() as conn:
                rows = conn.execute(sa.select(participants, workshops.c.code.label("workshop_code"))
                                    .join(workshops, workshops.c.id == participants.c.workshop_id)
                                    .where(participants.c.token.in_(tokens))).all()
        except sa.exc.SQLAlchemyError:
            for item in typed:
                item.result = BUSY
            return
        from .access import normalise_join_code

        found = {(r.workshop_code, r.token): _participant(r) for r in rows}
        live: dict[int, LiveExercise] = {}
        for item in typed:
            person = found.get((normalise_join_code(item.code), item.token)) if item.token else None
            if person is None:
                item.result = STRANGER
                continue
            if person.workshop_id not in live:
                live[person.workshop_id] = item.live(person.workshop_id)
            item.participant = person
            item.result = typed_problem(live[person.workshop_id], item.exercise_key, item.field_name, item.text, item.now)


def _put_all(conn, batch: list[_Save]) -> None:
    """Inside one write transaction: apply the saves in order, one row per (participant, exercise)."""
    ids = sorted({i.participant.id for i in batch})
    # The same lock Send takes (workshops._store_story), in id order: either these saves land first and
    # the story takes its draft away, or the story is committed first and its form's save sees it.
    alive = set(conn.execute(sa.select(participants.c.id).where(participants.c.id.in_(ids))
                             .order_by(participants.c.id).with_for_update()).scalars())
    forms = sorted({i.form_id for i in batch if i.form_id and not i.merge})
    sent = set()
    if forms:  # a story with the form's id, or a round of a paced exercise sent as an addition to one
        for table in (stories, story_rounds):
            sent |= set(conn.execute(sa.select(table.c.workshop_id, table.c.idempotency_key)
                                     .where(table.c.idempotency_key.in_(forms))).all())
    rows = conn.execute(sa.select(drafts.c.participant_id, drafts.c.exercise_key, drafts.c.answers)
                        .where(drafts.c.participant_id.in_(ids))).all()
    current = {(r.participant_id, r.exercise_key): dict(r.answers) if isinstance(r.answers, dict) else {} for r in rows}
    exists = set(current)
    touched: dict[tuple[int, str], tuple[_Save, dict]] = {}
    for item in batch:
        person = item.participant
        if person.id not in alive:
            item.result = STRANGER
            continue
        key = (person.id, item.exercise_key)
        if item.form_id and not item.merge and (person.workshop_id, item.form_id) in sent:
            item.result = TypedResult(False, 409, "This form was sent already.")
            continue
        if item.answers is not None and item.merge:
            answers = dict(current.get(key, {}))
            for k, v in item.answers.items():
                if v in (None, "") or (isinstance(v, str) and len(v) > DRAFT_MAX_CHARS):
                    answers.pop(k, None)
                else:
                    answers[k] = v
        elif item.answers is not None:
            answers = dict(item.answers)
        else:
            answers = dict(current.get(key, {}))
            if item.text:
                answers[item.field_name] = item.text
            else:
                answers.pop(item.field_name, None)
        current[key] = answers
        touched[key] = (item, answers)
        item.result = TypedResult(True, 200)
    updates = [{"p": k[0], "e": k[1], "a": a, "u": i.now} for k, (i, a) in touched.items() if k in exists]
    inserts = [{"workshop_id": i.participant.workshop_id, "participant_id": k[0], "exercise_key": k[1], "answers": a,
                "updated_at": i.now} for k, (i, a) in touched.items() if k not in exists]
    if updates:
        conn.execute(sa.update(drafts).where(drafts.c.participant_id == sa.bindparam("p"),
                                             drafts.c.exercise_key == sa.bindparam("e"))
                     .values(answers=sa.bindparam("a"), updated_at=sa.bindparam("u")), updates)
    if inserts:
        conn.execute(sa.insert(drafts), inserts)


_writers: dict[str, _Writer] = {}
_writers_lock = threading.Lock()


def _writer(store: Store) -> _Writer:
    with _writers_lock:
        w = _writers.get(store.url)
        if w is None or w.store is not store:  # a store made again for the same url (tests) gets a new writer
            w = _writers[store.url] = _Writer(store)
        return w
