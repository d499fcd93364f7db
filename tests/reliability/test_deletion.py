"""A facilitator deletes a workshop: every row of it goes, from every table, on both databases,
and nothing of any other workshop changes. Checked by scanning the whole database afterwards
(every table the database has, not only the ones this code knows), and on SQLite the files too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from facilitation import lifecycle
from facilitation import store as store_module
from facilitation import workshops as W

from .conftest import EXERCISE, open_room, valid_answers

MARK_A = "QXZ-deleted-workshop-"  # every piece of workshop A's text carries this, to find any trace of it


def _dump(store) -> dict[str, list[dict]]:
    """Every row of every table in the database (found by inspecting it), as plain values."""
    inspector = sa.inspect(store.engine)
    out = {}
    with store.read() as conn:
        for name in inspector.get_table_names():
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            out[name] = [dict(r._mapping) for r in conn.execute(sa.select(table))]
    return out


def _traces(dump: dict[str, list[dict]], workshop, secrets: list[str]) -> list[str]:
    """Rows that still carry workshop A: its id in a workshop_id column, or any of its texts anywhere."""
    found = []
    for table, rows in dump.items():
        for row in rows:
            text = json.dumps(row, default=str, ensure_ascii=False)
            if (table == "workshops" and row.get("id") == workshop.id) or row.get("workshop_id") == workshop.id:
                found.append(f"{table}: {text[:160]}")
            elif any(s in text for s in secrets):
                found.append(f"{table} mentions workshop A: {text[:160]}")
    return found


def _fill(store, title: str):
    """A workshop with people, stories, and (when the schema has them) votes and drafts."""
    w, key = open_room(store, title=f"{title} title")
    people = [W.join_workshop(store, w.code, f"{title} person {i}", w.functions[i]) for i in range(3)]
    told = [W.submit_story(store, p, EXERCISE, valid_answers(w, experience=f"{title} story {i}"), f"{title}-{i}").story
            for i, p in enumerate(people)]
    _optional_extras(store, w, people, told, title)
    return w, key, people, told


def _optional_extras(store, w, people, told, title):
    """Use the newer domain features if this tree has them, so their tables hold rows too."""
    try:
        from facilitation import controls
    except ImportError:  # pragma: no cover - an older tree
        return
    if hasattr(controls, "set_voting") and hasattr(controls, "cast_vote"):
        controls.set_voting(store, w.id, 0, "open", dots=3)
        for p in people:
            controls.cast_vote(store, p, next(s.id for s in told if s.participant_id != p.id))
    if hasattr(controls, "set_spotlight"):
        controls.set_spotlight(store, w.id, told[0].id)
    if hasattr(controls, "build_on"):
        controls.build_on(store, people[1], told[0].id, f"{title} addition", f"{title}-build")
    try:
        from facilitation import drafts
    except ImportError:
        return
    save = getattr(drafts, "save_draft", None)
    if save is not None:
        try:
            save(store, people[2], EXERCISE, {"promise": f"{title} draft"})
        except TypeError:  # pragma: no cover - a different signature
            pass


@pytest.fixture
def extra_tables():
    """Two tables 'added later' to the store's schema: one linked only through participants,
    one only through a story by a soft reference (info={"references": ...}), no workshop_id."""
    md = store_module.metadata
    reactions = sa.Table("test_reactions", md,
                         sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id"), nullable=False),
                         sa.Column("emoji", sa.Text, nullable=False))
    notes = sa.Table("test_story_notes", md,
                     sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("story_id", sa.Integer, nullable=False, info={"references": "stories.id"}),
                     sa.Column("note", sa.Text, nullable=False))
    try:
        yield reactions, notes
    finally:
        md.remove(notes)
        md.remove(reactions)


def test_delete_workshop_removes_every_trace_and_nothing_else(store, extra_tables, figures):
    reactions, notes = extra_tables
    store_module.metadata.create_all(store.engine, tables=[reactions, notes])
    a, key_a, people_a, told_a = _fill(store, MARK_A + "A")
    b, key_b, people_b, told_b = _fill(store, "Kept-B")
    with store.write() as conn:
        for p, s in zip(people_a + people_b, told_a + told_b):
            conn.execute(sa.insert(reactions).values(participant_id=p.id, emoji=f"{p.display_name} reacts"))
            conn.execute(sa.insert(notes).values(story_id=s.id, note=f"{s.author_name} note"))
    secrets = [MARK_A, a.code, key_a] + [p.token for p in people_a]
    stories_b = W.list_stories(store, b.id, include_hidden=True)
    before = _dump(store)
    assert _traces(before, a, secrets)  # the scan does see workshop A before

    for wrong in (None, "", "not-the-key", key_b, key_a + "x"):
        with pytest.raises(lifecycle.NotAllowed):
            lifecycle.delete_workshop(store, a.id, wrong)
    with pytest.raises(lifecycle.NotAllowed):
        lifecycle.delete_workshop(store, 10_000, key_a)  # no such workshop: the same answer
    assert _dump(store) == before

    deleted = lifecycle.delete_workshop(store, a.id, key_a)
    after = _dump(store)
    assert _traces(after, a, secrets) == []
    assert deleted["test_reactions"] == 3 and deleted["test_story_notes"] == 3
    assert deleted["workshops"] == 1 and deleted["participants"] == 3

    kept = {t: [r for r in rows if not _traces({t: [r]}, a, secrets)] for t, rows in before.items()}
    assert after == kept  # everything of B (and anything else) exactly as it was
    assert W.find_workshop(store, a.code) is None and W.participant_by_token(store, a.id, people_a[0].token) is None
    assert W.facilitator_workshop(store, b.code, key_b) is not None
    assert W.list_stories(store, b.id, include_hidden=True) == stories_b
    figures.add(f"Delete a workshop ({'SQLite' if store.is_sqlite else 'PostgreSQL'})",
                f"{sum(deleted.values())} rows in {sum(1 for n in deleted.values() if n)} tables removed; scan of all "
                f"{len(after)} tables finds no trace; the other workshop unchanged; wrong key refused")


def test_deleted_text_is_gone_from_the_sqlite_files(sqlite_store):
    a, key_a, _, _ = _fill(sqlite_store, MARK_A + "F")
    _fill(sqlite_store, "Kept-F")
    path = Path(sa.engine.make_url(sqlite_store.url).database)

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))

    assert MARK_A.encode() in on_disk()
    lifecycle.delete_workshop(sqlite_store, a.id, key_a)
    assert MARK_A.encode() not in on_disk(), "deleted text is still in the database file or its WAL"
    assert b"Kept-F story 0" in on_disk()


def test_every_table_of_the_schema_is_covered():
    """A table that can hold a workshop's rows is one delete_workshop clears (guards new tables)."""
    covered = {t.name for t, _ in lifecycle.owned_tables(1)}
    for table in store_module.metadata.sorted_tables:
        linked = "workshop_id" in table.c or any(fk.column.table.name in covered for fk in table.foreign_keys)
        if linked or table.name == "workshops":
            assert table.name in covered, table.name
