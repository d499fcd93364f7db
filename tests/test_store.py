"""The database layer on both SQLite and PostgreSQL: schema, transactions, exact text, concurrency."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitation import input_rules
from facilitation import store as store_module
from facilitation import workshops as W
from facilitation.store import Store, default_database_url, get_store

EXERCISE = "over_the_wall"


def open_workshop(store, make_workshop):
    w, _key = make_workshop()
    W.open_exercise(store, w.id, 0)
    return w


def count_stories(store, workshop_id=None) -> int:
    with store.read() as conn:
        q = sa.select(sa.func.count()).select_from(store_module.stories)
        if workshop_id is not None:
            q = q.where(store_module.stories.c.workshop_id == workshop_id)
        return conn.execute(q).scalar_one()


# --- schema and configuration ------------------------------------------------------------------

def test_schema_is_created(store):
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"workshops", "agenda_items", "participants", "stories"} <= names


def test_store_can_be_opened_twice_on_the_same_database(store):
    again = Store(store.url)  # create_all must be idempotent (app restarts)
    try:
        assert set(sa.inspect(again.engine).get_table_names()) >= {"workshops", "stories"}
    finally:
        again.dispose()


def test_is_sqlite_flag(store):
    assert store.is_sqlite == (store.engine.dialect.name == "sqlite")


def test_sqlite_connection_settings(sqlite_store):
    with sqlite_store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == store_module.SQLITE_BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_sqlite_write_takes_the_write_lock_at_begin(sqlite_store, tmp_path):
    """BEGIN IMMEDIATE: while a write transaction is open, nobody else can start one."""
    path = sa.engine.make_url(sqlite_store.url).database
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with sqlite_store.write():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the writer committed
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_sqlite_read_does_not_block_writers(sqlite_store):
    path = sa.engine.make_url(sqlite_store.url).database
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with sqlite_store.read() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM workshops").scalar()
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_write_rolls_back_on_error(store, make_workshop):
    w, _ = make_workshop()
    with pytest.raises(RuntimeError):
        with store.write() as conn:
            conn.execute(sa.update(store_module.workshops).where(store_module.workshops.c.id == w.id)
                         .values(title="changed"))
            raise RuntimeError("boom")
    assert W.get_workshop(store, w.id).title == w.title


def test_read_is_a_consistent_snapshot(store, make_workshop, make_participant, answers):
    """Store.read promises 'a consistent snapshot on both databases'.

    snapshot() and live_exercise() rely on it: several SELECTs in one read() must see the
    same committed state, even if a writer commits between them.
    """
    w = open_workshop(store, make_workshop)
    p = make_participant(w)
    W.submit_story(store, p, EXERCISE, answers(), "first")
    with store.read() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(store_module.stories)).scalar_one()
        writer = threading.Thread(target=W.submit_story, args=(store, p, EXERCISE, answers(), "second"))
        writer.start()
        writer.join(timeout=30)
        assert not writer.is_alive()
        after = conn.execute(sa.select(sa.func.count()).select_from(store_module.stories)).scalar_one()
    assert count_stories(store) == 2  # the writer did commit
    assert after == before  # one read() is one snapshot (REPEATABLE READ on PostgreSQL)


def test_default_database_url(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("STORY_RELAY_DATA_DIR", str(tmp_path))
    assert default_database_url() == f"sqlite:///{tmp_path / 'story_relay.sqlite3'}"
    for given_url in ("postgres://u@h/db", "postgresql://u@h/db", " postgresql+psycopg://u@h/db "):
        monkeypatch.setenv("DATABASE_URL", given_url)
        assert default_database_url() == "postgresql+psycopg://u@h/db"


def test_get_store_is_made_once_per_url(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.sqlite3"
    a, b = get_store(url), get_store(url)
    try:
        assert a is b
    finally:
        store_module._stores.pop(url, None)
        a.dispose()


def test_sqlite_store_creates_its_folder(tmp_path):
    s = Store(f"sqlite:///{tmp_path}/deep/er/db.sqlite3")
    try:
        assert (tmp_path / "deep" / "er" / "db.sqlite3").exists()
    finally:
        s.dispose()


# --- text is stored exactly as typed -------------------------------------------------------------

RAW_TEXTS = {
    "crlf": "line one\r\nline two\rline three\n\n",
    "control_chars": "bell\x07 esc\x1b[31mred\x1b[0m del\x7f nel\x85 nul\x00 vt\x0b ff\x0c",
    "rtl_override": "invoice\u202egnp.exe \u2067isolate\u2069 \u200fRLM",
    "emoji_zwj": "👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 skin tone, 🧑🏿‍💻 coder",
    "east_asian": "顧客は二週間で稼働すると言われた。고객은 6주를 기다렸다. ｶﾀｶﾅ 全角ＡＢＣ",
    "html": "<script>alert('x')</script><img src=x onerror=alert(1)> &amp; &lt;",
    "sql": "'; DROP TABLE stories; -- \" \\ %s %(x)s ?",
    "surrounding_space": "   leading and trailing\t \n",
    "combining_not_normalised": "Cafe\u0301 vs Café, ﬁ ligature, Å (U+212B)",
    "invisible_inside": "a\u200bb\ufeffc\u2060d\u00ade",
    "line_separators": "para\u2028graph\u2029end",
    "json_lookalike": '{"promise": "\\u0000"} \\n not a newline',
    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀 \U0010fffd",
}


def _same_bytes(got: str, want: str) -> bool:
    return got.encode("utf-8", "surrogatepass") == want.encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("text", RAW_TEXTS.values(), ids=RAW_TEXTS.keys())
def test_story_text_is_stored_byte_identical(store, make_workshop, make_participant, answers, text):
    w = open_workshop(store, make_workshop)
    p = make_participant(w)
    sent = answers(promise=text, experience=text[::-1], lost=text)
    result = W.submit_story(store, p, EXERCISE, sent, "raw-1")
    assert result.ok, result.problems
    assert _same_bytes(result.story.answers["promise"], text)

    [listed] = W.list_stories(store, w.id)
    snap = W.snapshot(store, w.id).stories[0]
    fresh = Store(store.url)  # a new engine: nothing cached, straight from the database
    try:
        [reread] = W.list_stories(fresh, w.id)
    finally:
        fresh.dispose()
    for story in (listed, snap, reread):
        assert _same_bytes(story.answers["promise"], text)
        assert _same_bytes(story.answers["experience"], text[::-1])
        assert _same_bytes(story.answers["lost"], text)


@pytest.mark.parametrize("name", ["李小龙", "José Ñúñez", "عائشة", "Ann 👩‍💻", "<b>Bob</b>", "O'Brien \"Bo\""])
def test_display_name_is_stored_exactly_apart_from_surrounding_space(store, make_workshop, name):
    w, _ = make_workshop()
    p = W.join_workshop(store, w.code, f"  {name}\t", w.functions[0])
    assert p.display_name == name
    assert W.participant_by_token(store, w.id, p.token).display_name == name


def test_display_name_with_nul_is_refused_or_stored(store, make_workshop):
    """A NUL typed or pasted into a name must give a message or be stored, never crash.

    PostgreSQL text columns cannot hold NUL (SQLite can), so the rule belongs in input_rules.
    """
    w, _ = make_workshop()
    with pytest.raises(W.WorkshopInputError) as exc:
        W.join_workshop(store, w.code, "Ann\x00e", w.functions[0])
    assert "control character" in exc.value.problems["display_name"]


@pytest.fixture
def open_room(store, make_workshop, make_participant):
    """An open workshop with one participant (shared by all examples of a property test)."""
    w = open_workshop(store, make_workshop)
    return w, make_participant(w)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=1000))
def test_any_acceptable_text_round_trips(store, open_room, answers, text):
    """Property: text the rules accept comes back identical; text they refuse is not stored."""
    w, p = open_room
    before = count_stories(store, w.id)
    result = W.submit_story(store, p, EXERCISE, answers(promise=text), f"h-{time.monotonic_ns()}")
    if input_rules.visible_text(text):
        assert result.ok, result.problems
        [story] = [s for s in W.list_stories(store, w.id) if s.id == result.story.id]
        assert _same_bytes(story.answers["promise"], text)
        assert count_stories(store, w.id) == before + 1
    else:
        assert not result.ok and "promise" in result.problems
        assert count_stories(store, w.id) == before


# --- concurrency -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_fifty_people_submit_at_the_same_moment(store, make_workshop, make_participant, answers):
    """50 threads each send one story at once: all 50 are stored, nobody sees an exception."""
    w = open_workshop(store, make_workshop)
    people = [make_participant(w, name=f"P{i}", function=w.functions[i % len(w.functions)]) for i in range(50)]
    start = threading.Barrier(len(people), timeout=60)
    results, errors = {}, []

    def send(i, person):
        try:
            start.wait()
            results[i] = W.submit_story(store, person, EXERCISE, answers(lost=f"story {i}"), f"key-{i}")
        except Exception as exc:  # noqa: BLE001 - the test is that there are none
            errors.append(f"{i}: {exc!r}")

    threads = [threading.Thread(target=send, args=(i, p)) for i, p in enumerate(people)]
    revision_before = W.revision(store, w.id)
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a submit hung"
    assert errors == []
    assert all(r.ok and r.created for r in results.values()) and len(results) == 50
    stored = W.list_stories(store, w.id)
    assert len(stored) == 50 == count_stories(store, w.id)
    assert sorted(s.answers["lost"] for s in stored) == sorted(f"story {i}" for i in range(50))
    assert {s.participant_id for s in stored} == {p.id for p in people}
    assert W.revision(store, w.id) == revision_before + 50  # no lost revision bumps


@pytest.mark.slow
def test_fifty_people_join_at_the_same_moment(store, make_workshop):
    w, _ = make_workshop()
    start = threading.Barrier(50, timeout=60)
    errors = []

    def join(i):
        try:
            start.wait()
            W.join_workshop(store, w.code.lower(), f"Person {i}", w.functions[i % len(w.functions)])
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{i}: {exc!r}")

    threads = [threading.Thread(target=join, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    people = W.list_participants(store, w.id)
    assert len(people) == 50 and len({p.token for p in people}) == 50
    assert W.revision(store, w.id) == 1 + 50


@pytest.mark.slow
def test_double_click_from_many_threads_stores_one_story(store, make_workshop, make_participant, answers):
    """The same idempotency key sent concurrently (double click, retry on a slow network).

    Each attempt must end in the one stored story, never in an exception.
    """
    w = open_workshop(store, make_workshop)
    p = make_participant(w)
    errors, outcomes = [], []
    for attempt in range(5):
        start = threading.Barrier(8, timeout=60)

        def send():
            try:
                start.wait()
                outcomes.append(W.submit_story(store, p, EXERCISE, answers(), f"dbl-{attempt}"))
            except Exception as exc:  # noqa: BLE001
                errors.append(type(exc).__name__)

        threads = [threading.Thread(target=send) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert count_stories(store, w.id) == 5
    assert errors == []
    assert all(r.ok for r in outcomes)
    assert sum(r.created for r in outcomes) == 5


def test_story_is_not_accepted_after_the_exercise_closed(store, make_workshop, make_participant, answers):
    """Close and submit race: a story must not be stored once close_exercise has returned.

    The clock submit_story calls just before it inserts is used to run close_exercise from
    another thread at the worst moment (after the 'is it open?' check).
    """
    w = open_workshop(store, make_workshop)
    p = make_participant(w)
    closer = {}

    def racing_clock():
        t = threading.Thread(target=W.close_exercise, args=(store, w.id))
        t.start()
        t.join(timeout=0.5)  # SQLite: blocked by the submit's write lock until it commits
        closer.update(thread=t, closed_mid_submit=not t.is_alive())
        return time.time()

    result = W.submit_story(store, p, EXERCISE, answers(), "race-1", clock=racing_clock)
    closer["thread"].join(timeout=30)
    assert W.live_exercise(store, w.id).state == "closed"
    assert not (result.ok and closer["closed_mid_submit"])


def test_same_key_twice_at_the_same_moment_stores_one_story(store, make_workshop, make_participant, answers):
    """Deterministic double click: both submits pass the 'already stored?' check before either inserts.

    The clock submit_story calls just before its INSERT holds each request until the other
    has also got that far (SQLite's BEGIN IMMEDIATE never lets the second one that far, so
    there the wait just times out). Both requests must succeed with the one story.
    """
    w = open_workshop(store, make_workshop)
    p = make_participant(w)
    both_checked = threading.Barrier(2, timeout=0.5)

    def held_clock():
        try:
            both_checked.wait()
        except threading.BrokenBarrierError:
            pass
        return time.time()

    outcomes, errors = [], []

    def send():
        try:
            outcomes.append(W.submit_story(store, p, EXERCISE, answers(), "double-click", clock=held_clock))
        except Exception as exc:  # noqa: BLE001 - the test is that there are none
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert count_stories(store, w.id) == 1
    assert errors == []
    assert sorted(r.created for r in outcomes) == [False, True]
    assert outcomes[0].story.id == outcomes[1].story.id
