"""A database that cannot take a write: locked past the busy timeout, read-only, full.

In each case `submit_story` returns the friendly "Not saved yet" problem and raises nothing;
on the participant page the message shows and every typed answer stays in the form; after the
fault clears, pressing Send again stores the story exactly once.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from facilitation import store as store_module
from facilitation import workshops as W
from facilitation.store import Store, _configure_sqlite

from .conftest import EXERCISE, fill_story, form_values, open_room, press_send, run_page, valid_answers

SHORT_BUSY_TIMEOUT_MS = 300
TYPED = dict(promise="Live in two weeks, <b>promised</b>", experience="Six weeks\r\nof waiting 顧客",
             lost="The go-live date the CFO was told")


def _db_path(url: str) -> Path:
    return Path(sa.engine.make_url(url).database)


def _count(store: Store, workshop_id: int) -> int:
    return len(W.list_stories(store, workshop_id, include_hidden=True))


def _assert_not_saved_yet(result: W.SubmitResult) -> None:
    assert not result.ok
    assert result.problems == {"_form": W.NOT_SAVED_YET}
    assert W.NOT_SAVED_YET.startswith("Not saved yet")


@contextmanager
def write_lock_held(path: Path):
    """A second connection holds the write lock (BEGIN EXCLUSIVE) until the block ends."""
    locker = sqlite3.connect(str(path), isolation_level=None, timeout=5)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        locker.execute("ROLLBACK")
        locker.close()


class ReadOnlyStore(Store):
    """The same database file opened read-only, as SQLite does when the file is not writable.

    The tests run as root on CI, where `chmod 444` does not stop a write; opening with
    `mode=ro` gives SQLite's own read-only state ("attempt to write a readonly database").
    """

    def __init__(self, url: str):
        path = _db_path(url)
        self.url = url
        self.is_sqlite = True
        self._writer = threading.Lock()
        self.engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=1))
        _configure_sqlite(self.engine)
        self.notify_channel = None  # SQLite: no NOTIFY (as Store sets it)


def make_disk_full(store: Store) -> None:
    """From now on the database file may not grow by a single page (SQLITE_FULL, "database or disk is full")."""
    def limit(dbapi_connection, _record):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    event.listen(store.engine, "connect", limit)
    store.engine.dispose()  # pooled connections reconnect with the limit
    store._disk_full = limit  # type: ignore[attr-defined]


def free_disk(store: Store) -> None:
    event.remove(store.engine, "connect", store._disk_full)  # type: ignore[attr-defined]
    store.engine.dispose()


def fail_story_inserts(store: Store, message: str = "database or disk is full"):
    """Make every INSERT into stories fail in the driver with sqlite3.OperationalError(message)."""
    def boom(cursor, statement, parameters, context):
        if statement.lstrip().upper().startswith("INSERT INTO STORIES"):
            raise sqlite3.OperationalError(message)

    event.listen(store.engine, "do_execute", boom)
    return lambda: event.remove(store.engine, "do_execute", boom)


# --- the domain -------------------------------------------------------------------------------------

@pytest.fixture
def short_timeout_store(tmp_path, monkeypatch):
    """An SQLite store whose busy timeout is 0.3 s instead of 10 s (read by store.py at connect time)."""
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_MS", SHORT_BUSY_TIMEOUT_MS)
    s = Store(f"sqlite:///{tmp_path}/locked.sqlite3")
    yield s
    s.dispose()


def test_locked_past_the_busy_timeout_gives_not_saved_yet(short_timeout_store, figures):
    s = short_timeout_store
    w, _ = open_room(s)
    p = W.join_workshop(s, w.code, "Ana", w.functions[0])
    with write_lock_held(_db_path(s.url)):
        t0 = time.perf_counter()
        result = W.submit_story(s, p, EXERCISE, valid_answers(w, **TYPED), "locked-1")
        waited = time.perf_counter() - t0
        _assert_not_saved_yet(result)
        assert SHORT_BUSY_TIMEOUT_MS / 1000 * 0.8 <= waited < 5
        assert _count(s, w.id) == 0  # and the room can still read while the lock is held
    again = W.submit_story(s, p, EXERCISE, valid_answers(w, **TYPED), "locked-1")
    assert again.ok and again.created and again.story.answers["experience"] == TYPED["experience"]
    assert W.submit_story(s, p, EXERCISE, valid_answers(w, **TYPED), "locked-1").created is False
    assert _count(s, w.id) == 1
    figures.add("Database locked past the busy timeout (SQLite, BEGIN EXCLUSIVE held, timeout 0.3 s)",
                f"'Not saved yet' after {waited:.2f} s, nothing raised; Send again after the lock: stored once")


def test_postgresql_row_lock_with_lock_timeout_gives_not_saved_yet(pg_database):
    """With a lock_timeout on the connection, a workshop row locked by a stuck transaction gives 'Not saved yet'."""
    import psycopg

    s = Store(pg_database)

    def lock_timeout(dbapi_connection, _record):
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SET lock_timeout = 300")
        dbapi_connection.autocommit = False

    event.listen(s.engine, "connect", lock_timeout)
    s.engine.dispose()
    try:
        w, _ = open_room(s)
        p = W.join_workshop(s, w.code, "Ana", w.functions[0])
        conninfo = s.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo) as locker:
            locker.execute("SELECT id FROM workshops WHERE id = %s FOR UPDATE", (w.id,))
            _assert_not_saved_yet(W.submit_story(s, p, EXERCISE, valid_answers(w), "pg-locked-1"))
            locker.rollback()
        assert W.submit_story(s, p, EXERCISE, valid_answers(w), "pg-locked-1").created
        assert _count(s, w.id) == 1
    finally:
        s.dispose()


def test_postgresql_store_has_a_lock_timeout_and_keeps_the_urls_options(pg_store):
    """A stuck lock ends in 'Not saved yet' rather than a wait without end, and libpq options given in
    DATABASE_URL (here the test schema's search_path) still apply beside the lock timeout."""
    with pg_store.read() as conn:
        setting = conn.exec_driver_sql("SHOW lock_timeout").scalar_one()
        search_path = conn.exec_driver_sql("SHOW search_path").scalar_one()
    assert setting == f"{store_module.POSTGRES_LOCK_TIMEOUT_MS // 1000}s"
    assert search_path in pg_store.url


@pytest.fixture
def seeded_file(tmp_path):
    """An SQLite file with an open workshop and one participant, closed again; returns (url, workshop, participant)."""
    url = f"sqlite:///{tmp_path}/faults.sqlite3"
    s = Store(url)
    try:
        w, _ = open_room(s)
        p = W.join_workshop(s, w.code, "Ana", w.functions[0])
    finally:
        s.dispose()
    return url, w, p


def test_read_only_database_gives_not_saved_yet(seeded_file, figures):
    url, w, p = seeded_file
    os.chmod(_db_path(url), 0o444)
    ro = ReadOnlyStore(url)
    try:
        assert W.find_workshop(ro, w.code).id == w.id  # reading still works
        _assert_not_saved_yet(W.submit_story(ro, p, EXERCISE, valid_answers(w, **TYPED), "ro-1"))
        assert _count(ro, w.id) == 0
    finally:
        ro.dispose()
        os.chmod(_db_path(url), 0o644)
    s = Store(url)
    try:
        assert W.submit_story(s, p, EXERCISE, valid_answers(w, **TYPED), "ro-1").created
        assert _count(s, w.id) == 1
    finally:
        s.dispose()
    figures.add("Read-only database file (SQLite)", "'Not saved yet', nothing raised; writable again: stored once")


def test_disk_full_while_the_room_is_writing(seeded_file, figures):
    """The file may not grow: stories that fit in free pages are stored, the first that does not gets
    'Not saved yet' (a real SQLITE_FULL), and is stored once when there is room again."""
    url, w, p = seeded_file
    s = Store(url)
    try:
        make_disk_full(s)
        stored, failed_key = 0, None
        for i in range(200):
            result = W.submit_story(s, p, EXERCISE, valid_answers(w, experience=f"{i} " + "x" * 900), f"full-{i}")
            if not result.ok:
                _assert_not_saved_yet(result)
                failed_key = f"full-{i}"
                break
            stored += 1
        assert failed_key is not None, "the database never filled up"
        assert _count(s, w.id) == stored
        free_disk(s)
        assert W.submit_story(s, p, EXERCISE, valid_answers(w, experience="retry"), failed_key).created
        assert _count(s, w.id) == stored + 1
    finally:
        s.dispose()
    figures.add("Disk full (SQLite max_page_count: the file may not grow)",
                f"{stored} stories fitted, the next got 'Not saved yet', nothing raised; with room again: stored once")


def test_disk_full_error_from_the_driver_gives_not_saved_yet(seeded_file):
    url, w, p = seeded_file
    s = Store(url)
    try:
        restore = fail_story_inserts(s)
        _assert_not_saved_yet(W.submit_story(s, p, EXERCISE, valid_answers(w), "driver-full-1"))
        restore()
        assert W.submit_story(s, p, EXERCISE, valid_answers(w), "driver-full-1").created
        assert _count(s, w.id) == 1
    finally:
        s.dispose()


# --- the participant page ----------------------------------------------------------------------------

FAULTS = ["locked", "read-only", "disk-full"]


@pytest.mark.parametrize("fault", FAULTS)
def test_participant_page_keeps_the_text_and_says_not_saved_yet(page_store, monkeypatch, fault):
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_MS", SHORT_BUSY_TIMEOUT_MS)
    s = store_module.get_store(page_store)
    w, _ = open_room(s)
    p = W.join_workshop(s, w.code, "Ana", w.functions[0])
    typed = valid_answers(w, **TYPED)

    at = run_page("pages/participate.py", code=w.code, p=p.token)
    assert not at.exception
    fill_story(at, typed)
    if fault == "locked":
        with write_lock_held(_db_path(page_store)):
            press_send(at)
    elif fault == "read-only":
        ro = ReadOnlyStore(page_store)
        store_module._stores[page_store] = ro
        try:
            press_send(at)
        finally:
            store_module._stores[page_store] = s
            ro.dispose()
    else:
        restore = fail_story_inserts(s)
        try:
            press_send(at)
        finally:
            restore()
    assert not at.exception
    assert W.NOT_SAVED_YET in [e.value for e in at.error]
    assert not at.success
    assert form_values(at) == [typed["promise"], typed["experience"], typed["lost"]]
    # (the optional "where your part ends" and "who judged that gap" stay unchosen)
    assert [sb.value for sb in at.selectbox] == [typed["stage"], typed["next_function"], None, None]
    assert _count(s, w.id) == 0

    press_send(at)  # the fault has cleared: the same press stores it, once
    assert not at.exception
    assert any("Sent" in m.value for m in at.success)
    [story] = W.list_stories(s, w.id)
    assert {k: story.answers[k] for k in TYPED} == TYPED


def test_join_page_says_not_joined_yet_and_keeps_the_name(page_store, monkeypatch):
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_MS", SHORT_BUSY_TIMEOUT_MS)
    s = store_module.get_store(page_store)
    w, _ = open_room(s)
    at = run_page("pages/join.py", code=w.code)
    at.text_input[0].input("Ana Lima")
    at.selectbox[0].select(w.functions[0])
    with write_lock_held(_db_path(page_store)):
        next(b for b in at.button if b.label == "Join").click().run()
    assert not at.exception
    assert [e.value[:40] for e in at.error] == ["Not joined yet: the server is busy. Your"]
    assert at.text_input[0].value == "Ana Lima" and at.selectbox[0].value == w.functions[0]
    assert W.list_participants(s, w.id) == []
    next(b for b in at.button if b.label == "Join").click().run()
    assert not at.exception
    [ana] = W.list_participants(s, w.id)
    assert ana.display_name == "Ana Lima"
