"""Hostile archives and hostile stored data (issue 11, items 2 and 8).

An archive is restored only when it holds what the app's own rules would accept, within rows
per table a real workshop never comes near; anything else is refused with a message and leaves
the database as it was. Data that got into the database some other way (a row written by hand)
must not break a page for good. Ids are never reused, and a deleted or restored workshop leaves
nothing behind in the process-wide live cache.
"""

from __future__ import annotations

import json
import time
import tomllib

import pytest
import sqlalchemy as sa

from facilitation import access, archive, lifecycle, live_cache
from facilitation import workshops as W
from facilitation.archive import ArchiveError
from facilitation.store import Store, metadata, stories, workshops
from streamlit_browser import screen_for

from .conftest import EXERCISE, ROOT, open_room, run_page, valid_answers


def _counts(store) -> dict[str, int]:
    with store.read() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables}


def _archive(store) -> dict:
    w, _ = open_room(store, title="Archived room")
    p = W.join_workshop(store, w.code, "Ann", w.functions[0])
    assert W.submit_story(store, p, EXERCISE, valid_answers(w), "a-1").ok
    data = json.loads(archive.archive_json(store, w.id))
    return data


def _workshop_row(d, **values):
    return {**d, "tables": {**d["tables"], "workshops": [{**d["tables"]["workshops"][0], **values}]}}


def _first_story(d, **values):
    rows = [dict(r) for r in d["tables"]["stories"]]
    rows[0].update(values)
    return {**d, "tables": {**d["tables"], "stories": rows}}


HOSTILE = {
    "integer where the functions list belongs": (lambda d: _workshop_row(d, functions=5),
                                                 "the workshop: The functions must be a list of names"),
    "NUL in the title": (lambda d: _workshop_row(d, title="Day\x00one"), "control character"),
    "lone surrogate in the title": (lambda d: _workshop_row(d, title="Day \ud800"), "broken character"),
    "story answers are a list": (lambda d: _first_story(d, answers=["x", "y"]),
                                 "stories, row 1: 'answers' should be an object of answers, not list"),
    "20,000 functions": (lambda d: _workshop_row(d, functions=[f"F{i}" for i in range(20_000)]),
                         "20,000 functions are more than one workshop can show"),
    "participant name with a line break": (
        lambda d: {**d, "tables": {**d["tables"], "participants": [
            {**d["tables"]["participants"][0], "display_name": "Ann\nBen"}]}}, "participants, row 1"),
    "unknown live state": (lambda d: _workshop_row(d, live_state="exploded"), "'live_state' should be one of"),
    "NUL in a story's function": (lambda d: _first_story(d, function="Sales\x00"), "NUL character"),
    "more stories than a workshop holds": (
        lambda d: {**d, "tables": {**d["tables"], "stories": d["tables"]["stories"] * (archive.MAX_ROWS["stories"] + 1)}},
        "holds 10,001 rows of stories; a workshop on this server holds at most 10,000"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_archive_is_refused_with_a_message_and_changes_nothing(store, case, figures):
    good = _archive(store)
    mangle, message = HOSTILE[case]
    before = _counts(store)
    data = archive.dumps(mangle(good))  # as a file: ASCII JSON, \\ud800 and \\u0000 escaped
    started = time.perf_counter()
    with pytest.raises(ArchiveError) as refused:
        archive.import_archive(store, data)
    took = time.perf_counter() - started
    assert message in str(refused.value)
    assert _counts(store) == before
    if case == "more stories than a workshop holds" and store.is_sqlite:
        figures.add("restore of an archive with 10,001 stories (limit 10,000)",
                    f"refused before anything is written, in {took * 1000:.0f} ms ({len(data) / 1e6:.1f} MB file)")


def test_a_join_code_that_is_markup_is_replaced_and_the_facilitator_told(store):
    good = _archive(store)
    result = archive.import_archive(store, archive.dumps(_workshop_row(good, code="[x](http://e.x)")))
    assert access.is_join_code(result.workshop.code) and result.code_changed
    assert any(f"new code {result.workshop.code}" in n for n in result.notices)
    assert not any("e.x" in n for n in result.notices)  # the archived markup is never shown


def test_uploads_are_limited_to_a_small_size_above_a_big_workshop():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    limit_mb = config["server"]["maxUploadSize"]
    assert 10 <= limit_mb <= 16  # measured: a big real workshop 1.1 MB, 500 people with every field full 9.0 MB


# --- hostile data already in the database --------------------------------------------------------

def test_hand_written_rows_do_not_break_any_page(page_store):
    """Rows past every rule (answers that are a list, text no screen can show, a number for the
    stages) used to break the projector of that workshop for good: every page still draws."""
    from facilitation import controls
    from facilitation.store import get_store

    s = get_store(page_store)
    w, key = open_room(s, title="Broken rows")
    p = W.join_workshop(s, w.code, "Ann", w.functions[0])
    assert W.submit_story(s, p, EXERCISE, valid_answers(w), "fine").ok
    now = time.time()
    with s.write() as conn:
        conn.execute(sa.insert(stories), [
            {"workshop_id": w.id, "exercise_key": EXERCISE, "participant_id": p.id, "function": w.functions[0],
             "answers": answers, "idempotency_key": f"bad-{i}", "hidden": False, "created_at": now + i,
             "updated_at": now + i}
            for i, answers in enumerate([["a", "list"], 5, {"promise": "half \ud800 pair", "stage": ["x"]},
                                         {"experience": {"nested": [1, 2]}, "next_function": 3}])])
    with s.read() as conn:
        bad = conn.execute(sa.select(stories.c.id).where(stories.c.idempotency_key == "bad-2")).scalar_one()
    controls.set_spotlight(s, w.id, bad)
    for page, query in (("pages/projector.py", {"code": w.code, "screen": screen_for(w.code)}), ("pages/console.py", {"code": w.code, "key": key}),
                        ("pages/participate.py", {"code": w.code, "p": p.token}),
                        ("pages/map.py", {"code": w.code, "key": key}), ("pages/report.py", {"code": w.code, "key": key})):
        at = run_page(page, **query)
        assert not at.exception, (page, at.exception)
    assert any("half \ufffd pair" in t.value for t in run_page("pages/projector.py", code=w.code, screen=screen_for(w.code)).text)
    with s.write() as conn:  # a number where the stages list belongs
        conn.execute(sa.update(workshops).where(workshops.c.id == w.id).values(stages=7))
    for page, query in (("pages/projector.py", {"code": w.code, "screen": screen_for(w.code)}), ("pages/join.py", {"code": w.code})):
        assert not run_page(page, **query).exception, page


# --- ids and the live cache -----------------------------------------------------------------------

def test_the_id_of_a_deleted_workshop_is_never_given_again(store):
    first, _ = W.create_workshop(store, title="First", agenda_plan=[(EXERCISE, 10)])
    last, last_key = W.create_workshop(store, title="Deleted", agenda_plan=[(EXERCISE, 10)])
    p = W.join_workshop(store, last.code, "Ann", last.functions[0])
    lifecycle.delete_workshop(store, last.id, last_key)
    after, _ = W.create_workshop(store, title="After", agenda_plan=[(EXERCISE, 10)])
    again = W.join_workshop(store, after.code, "Ben", after.functions[0])
    assert after.id > last.id and again.id > p.id


def test_a_database_file_from_before_autoincrement_is_migrated_once(tmp_path):
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    old = sa.MetaData()
    for t in metadata.sorted_tables:
        copy = t.to_metadata(old)
        copy.dialect_options["sqlite"]["autoincrement"] = False
    engine = sa.create_engine(url)
    old.create_all(engine)
    engine.dispose()
    s = Store(url)  # opens the old file: the tables get AUTOINCREMENT, nothing is lost
    try:
        a, _ = W.create_workshop(s, title="Kept", agenda_plan=[(EXERCISE, 10)])
        b, b_key = W.create_workshop(s, title="Deleted", agenda_plan=[(EXERCISE, 10)])
        lifecycle.delete_workshop(s, b.id, b_key)
        s.dispose()
        s = Store(url)
        with s.read() as conn:
            sql = conn.exec_driver_sql("SELECT group_concat(sql) FROM sqlite_master WHERE type = 'table'").scalar_one()
            assert sql.count("AUTOINCREMENT") == len(metadata.sorted_tables)
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert W.get_workshop(s, a.id).title == "Kept"
        c, _ = W.create_workshop(s, title="New", agenda_plan=[(EXERCISE, 10)])
        assert c.id > b.id
    finally:
        s.dispose()


def test_delete_and_restore_leave_nothing_in_the_live_cache(store, monkeypatch):
    monkeypatch.setattr(live_cache, "REVISION_TTL_S", 60.0)  # as on a live server: the cache answers
    w, key = open_room(store, title="Cached")
    p = W.join_workshop(store, w.code, "Ann", w.functions[0])
    assert W.submit_story(store, p, EXERCISE, valid_answers(w, promise="DELETED STORY"), "c-1").ok
    data = archive.archive_json(store, w.id)
    assert live_cache.snapshot(store, w.id).stories  # the projector has read it
    lifecycle.delete_workshop(store, w.id, key)
    assert all((store.url, w.id) not in table.entries
               for table in (live_cache._revisions, live_cache._live, live_cache._snapshots))
    emptied = json.loads(data)
    emptied["tables"]["stories"] = []
    emptied["tables"]["drafts"] = []
    result = archive.import_archive(store, archive.dumps(emptied))
    shown = live_cache.snapshot(store, result.workshop.id)
    assert shown.workshop.title == "Cached" and shown.stories == []
