"""The JSON archive: a whole workshop out of one database and into another, on SQLite and PostgreSQL.

The archive holds no database ids (rows are in arrival order, references are positions), so
export → import → export gives the same bytes whatever ids the second database hands out.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitation import archive, input_rules
from facilitation import workshops as W
from facilitation.archive import ArchiveError
from facilitation.store import Store, metadata
from full_workshop import HIDDEN_TEXT, make_full_workshop


def fixed_clock() -> float:
    return 1_773_400_000.0


def _normalised(store: Store, workshop_id: int) -> dict:
    """A snapshot with ids replaced by positions (and the code and tokens left out)."""
    snap = W.snapshot(store, workshop_id)
    people = {p.id: i for i, p in enumerate(snap.participants)}
    told = {s.id: i for i, s in enumerate(snap.stories)}
    ws = asdict(snap.workshop)
    for k in ("id", "code"):
        ws.pop(k)
    ws["spotlight_story_id"] = told.get(ws.get("spotlight_story_id"))
    return {
        "workshop": ws,
        "agenda": [asdict(i) for i in snap.agenda],
        "participants": [(p.display_name, p.function, p.joined_at) for p in snap.participants],
        "stories": [(s.exercise_key, people.get(s.participant_id), s.author_name, s.function, s.answers, s.hidden,
                     s.created_at, s.updated_at, told.get(s.builds_on), s.proxy_name) for s in snap.stories],
        "votes": sorted((told[s], people[p]) for s, p in snap.votes),
    }


def _row_counts(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


@pytest.fixture
def full(store):
    ws, key = make_full_workshop(store)
    from facilitation import controls

    story = next(s for s in W.snapshot(store, ws.id).stories if s.exercise_key == "untold_retention_stories")
    controls.set_spotlight(store, ws.id, story.id)
    return ws, key


# --- round trip ---------------------------------------------------------------------------------

def test_archive_holds_every_table_of_the_workshop(store, full):
    ws, _key = full
    data = archive.export_archive(store, ws.id, clock=fixed_clock)
    assert data["format"] == archive.FORMAT and data["version"] == archive.VERSION
    assert data["exported_at"] == "2026-03-13T11:06:40+00:00"
    owned = {t.name for t in metadata.tables.values() if "workshop_id" in t.c} | {"workshops"}
    assert owned <= set(data["tables"])
    counts = _row_counts(store)
    for name, rows in data["tables"].items():
        assert len(rows) == counts[name], name  # the only workshop in this database: every row is its
    assert len(data["tables"]["votes"]) > 0 and any(r["builds_on"] is not None for r in data["tables"]["stories"])
    # no database ids: references are positions in the referenced table's list
    text = archive.dumps(data).decode()
    assert '"id"' not in text
    stories = data["tables"]["stories"]
    spotlight = data["tables"]["workshops"][0]["spotlight_story_id"]
    assert stories[spotlight]["exercise_key"] == "untold_retention_stories"
    for vote in data["tables"]["votes"]:
        assert 0 <= vote["story_id"] < len(stories) and vote["workshop_id"] == 0
    # the hidden story is in the archive (it restores the workshop), flagged
    assert any(s["hidden"] and s["answers"]["remark"] == HIDDEN_TEXT for s in stories)
    assert text.isascii()


def test_export_import_export_is_byte_identical_in_an_emptied_database(store, full):
    ws, key = full
    before = _normalised(store, ws.id)
    first = archive.archive_json(store, ws.id, clock=fixed_clock)
    with store.write() as conn:  # empty the database; its id counters stay where they were
        conn.execute(sa.delete(metadata.tables["workshops"]))
    assert not any(_row_counts(store).values())

    result = archive.import_archive(store, first)
    assert result.notices == () and not result.code_changed
    assert result.workshop.code == ws.code  # free again, so kept (ids: new on PostgreSQL, reused on SQLite)
    assert archive.archive_json(store, result.workshop.id, clock=fixed_clock) == first
    assert _normalised(store, result.workshop.id) == before
    assert W.facilitator_workshop(store, ws.code, key).id == result.workshop.id  # the same key opens it
    assert result.rows["stories"] == len(before["stories"])


def test_import_into_a_fresh_sqlite_database_elsewhere(sqlite_store, tmp_path):
    ws, key = make_full_workshop(sqlite_store)
    first = archive.archive_json(sqlite_store, ws.id, clock=fixed_clock)
    other = Store(f"sqlite:///{tmp_path}/other.sqlite3")
    try:
        W.create_workshop(other, title="Someone else's workshop")  # the other server is in use
        result = archive.import_archive(other, first)
        assert archive.archive_json(other, result.workshop.id, clock=fixed_clock) == first
        assert _normalised(other, result.workshop.id) == _normalised(sqlite_store, ws.id)
        # participants come back on their own links (the tokens travel with the archive)
        p = W.snapshot(sqlite_store, ws.id).participants[0]
        assert W.participant_by_token(other, result.workshop.id, p.token).display_name == p.display_name
    finally:
        other.dispose()


def test_import_next_to_the_original_draws_a_new_code_and_new_links(store, full):
    ws, key = full
    data = archive.archive_json(store, ws.id)
    result = archive.import_archive(store, data)
    copy = result.workshop
    assert result.code_changed and copy.code != ws.code and copy.id != ws.id
    assert any(ws.code in n and copy.code in n for n in result.notices)
    assert any("personal links" in n for n in result.notices)
    assert _normalised(store, copy.id) == _normalised(store, ws.id)
    assert W.facilitator_workshop(store, copy.code, key).id == copy.id
    assert W.facilitator_workshop(store, ws.code, key).id == ws.id  # the original is untouched
    tokens = [p.token for p in W.snapshot(store, ws.id).participants]
    new_tokens = [p.token for p in W.snapshot(store, copy.id).participants]
    assert not set(tokens) & set(new_tokens)
    # the copy exports to the same archive apart from the code, the tokens and the time
    again = archive.export_archive(store, copy.id)
    original = json.loads(data)
    for a in (again, original):
        a.pop("exported_at")
        a["tables"]["workshops"][0].pop("code")
        for p in a["tables"]["participants"]:
            p.pop("token")
    assert again == original


def test_a_soft_reference_to_a_story_that_is_gone_becomes_empty(sqlite_store):
    ws, _ = make_full_workshop(sqlite_store)
    with sqlite_store.write() as conn:
        conn.execute(sa.update(metadata.tables["workshops"]).values(spotlight_story_id=999_999))
    data = archive.export_archive(sqlite_store, ws.id)
    assert data["tables"]["workshops"][0]["spotlight_story_id"] is None


# --- tables added later are archived without a code change ---------------------------------------

def _extended_schema() -> sa.MetaData:
    md = sa.MetaData()
    for t in metadata.tables.values():
        t.to_metadata(md)
    sa.Table("reactions", md,  # belongs to the workshop only through its story
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
             sa.Column("emoji", sa.Text, nullable=False))
    sa.Table("notes", md,  # a workshop_id without a declared foreign key
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("workshop_id", sa.Integer, nullable=False),
             sa.Column("about_story", sa.Integer, nullable=True, info={"references": "stories.id"}),
             sa.Column("text", sa.Text, nullable=False),
             sa.Column("public_id", sa.String(16), nullable=False, unique=True))
    sa.Table("story_tags", md,  # no surrogate key
             sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
             sa.Column("tag", sa.String(40), primary_key=True))
    sa.Table("server_settings", md,  # nothing to do with any workshop
             sa.Column("name", sa.String(40), primary_key=True), sa.Column("value", sa.Text))
    return md


def test_new_tables_are_found_through_their_references(store, full):
    ws, _ = full
    md = _extended_schema()
    md.create_all(store.engine)
    t = md.tables
    snap = W.snapshot(store, ws.id)
    first, last = snap.stories[0].id, snap.stories[-1].id
    with store.write() as conn:
        conn.execute(sa.insert(t["reactions"]), [{"story_id": last, "emoji": "🎉"}, {"story_id": first, "emoji": "👍"}])
        conn.execute(sa.insert(t["notes"]), [{"workshop_id": ws.id, "about_story": last, "text": "follow up",
                                              "public_id": "note-1"}])
        conn.execute(sa.insert(t["story_tags"]), [{"story_id": last, "tag": "pricing"},
                                                  {"story_id": first, "tag": "onboarding"}])
        conn.execute(sa.insert(t["server_settings"]), [{"name": "theme", "value": "dark"}])
    data = archive.export_archive(store, ws.id, clock=fixed_clock, schema=md)
    tables = data["tables"]
    assert "server_settings" not in tables
    n = len(tables["stories"]) - 1
    assert tables["reactions"] == [{"emoji": "🎉", "story_id": n}, {"emoji": "👍", "story_id": 0}]
    assert tables["notes"] == [{"about_story": n, "public_id": "note-1", "text": "follow up", "workshop_id": 0}]
    assert tables["story_tags"] == [{"story_id": 0, "tag": "onboarding"}, {"story_id": n, "tag": "pricing"}]
    assert data["references"]["notes.about_story"] == "stories"

    first_bytes = archive.dumps(data)
    result = archive.import_archive(store, first_bytes, schema=md)  # next to the original
    assert any("notes.public_id" in n for n in result.notices)  # a unique value taken here gets a new one
    again = archive.export_archive(store, result.workshop.id, clock=fixed_clock, schema=md)
    for a in (again, data):
        a["tables"]["workshops"][0].pop("code")
        for p in a["tables"]["participants"]:
            p.pop("token")
        for note in a["tables"]["notes"]:
            note.pop("public_id")
    assert again == data
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t["reactions"])).scalar_one() == 4


# --- files that are not archives -------------------------------------------------------------------

def _valid(store) -> dict:
    ws, _ = W.create_workshop(store, title="Small", agenda_plan=[("over_the_wall", 15)])
    W.join_workshop(store, ws.code, "Ann", ws.functions[0])
    return json.loads(archive.archive_json(store, ws.id))


@pytest.mark.parametrize("mangle, message", [
    (lambda d: b"", "empty"),
    (lambda d: b"\xff\xfe not text", "not text"),
    (lambda d: b"{not json", "not valid JSON"),
    (lambda d: b"[1, 2]", "not a Story Relay workshop archive"),
    (lambda d: {**d, "format": "something else"}, "not a Story Relay workshop archive"),
    (lambda d: {**d, "version": 99}, "newer Story Relay"),
    (lambda d: {**d, "version": "1"}, "no valid format version"),
    (lambda d: {**d, "tables": []}, "damaged"),
    (lambda d: {**d, "tables": {**d["tables"], "workshops": []}}, "exactly one workshop"),
    (lambda d: {**d, "tables": {**d["tables"], "mystery": []}}, "does not know"),
    (lambda d: {**d, "references": None}, "references"),
    (lambda d: {**d, "tables": {**d["tables"], "participants": [{**d["tables"]["participants"][0], "workshop_id": 5}]}},
     "not in the file"),
    (lambda d: {**d, "tables": {**d["tables"], "workshops": [{**d["tables"]["workshops"][0], "title": 5}]}},
     "'title' should be text"),
    (lambda d: {**d, "tables": {**d["tables"], "workshops": [{**d["tables"]["workshops"][0], "held_on": "soon"}]}},
     "date"),
    (lambda d: {**d, "tables": {**d["tables"], "workshops": [{**d["tables"]["workshops"][0], "colour": "red"}]}},
     "'colour'"),
    (lambda d: {**d, "tables": {**d["tables"], "workshops": [
        {k: v for k, v in d["tables"]["workshops"][0].items() if k != "title"}]}}, "lacks 'title'"),
])
def test_a_file_that_is_not_an_archive_gets_a_clear_message_and_changes_nothing(store, mangle, message):
    good = _valid(store)
    before = _row_counts(store)
    bad = mangle(good)
    with pytest.raises(ArchiveError, match=message):
        archive.import_archive(store, bad if isinstance(bad, (bytes, dict)) else bad)
    assert _row_counts(store) == before


def test_describe_archive(store):
    good = _valid(store)
    info = archive.describe_archive(archive.dumps(good))
    assert info["title"] == "Small" and info["rows"]["participants"] == 1
    assert info["summary"].startswith("1 participant, ")  # what the restore page shows before restoring
    with pytest.raises(ArchiveError):
        archive.describe_archive(b"{}")


def test_exporting_a_workshop_that_does_not_exist(store):
    with pytest.raises(LookupError):
        archive.export_archive(store, 12345)


# --- any text survives the round trip --------------------------------------------------------------

ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=40)  # lone surrogates, NUL, RTL, …


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.tuples(ANY_TEXT, ANY_TEXT, st.one_of(st.none(), st.integers(), st.floats(allow_nan=False),
                                                               st.booleans(), st.lists(ANY_TEXT, max_size=2))),
                      min_size=1, max_size=4))
def test_any_text_survives_export_import_export(tmp_path_factory, texts):
    db = Store(f"sqlite:///{tmp_path_factory.mktemp('any')}/a.sqlite3")
    try:
        ws, _ = W.create_workshop(db, title="Any text", agenda_plan=[("over_the_wall", 15)])
        p = W.join_workshop(db, ws.code, "Ann", ws.functions[0])
        stories = metadata.tables["stories"]
        with db.write() as conn:  # straight into the table: the archive must carry whatever is stored
            conn.execute(sa.insert(stories), [
                {"workshop_id": ws.id, "exercise_key": "over_the_wall", "participant_id": p.id, "function": "Sales",
                 "answers": {"promise": a, "experience": b, "gap": c, "x" + a[:10]: b}, "idempotency_key": f"k{i}",
                 "hidden": False, "created_at": 1.5 + i, "updated_at": 2.5 + i}
                for i, (a, b, c) in enumerate(texts)])
        first = archive.archive_json(db, ws.id, clock=fixed_clock)
        assert first.isascii()
        with db.write() as conn:
            conn.execute(sa.delete(metadata.tables["workshops"]))
        result = archive.import_archive(db, first)
        assert archive.archive_json(db, result.workshop.id, clock=fixed_clock) == first
        with db.read() as conn:  # the rows hold exactly what was archived …
            stored = [r.answers for r in conn.execute(sa.select(stories.c.answers).where(
                stories.c.workshop_id == result.workshop.id).order_by(stories.c.id))]
        for answers, (a, b, _c) in zip(stored, texts):
            assert answers["promise"].encode("utf-8", "surrogatepass") == a.encode("utf-8", "surrogatepass")
            assert answers["experience"] == b
        # … and the pages get text they can show: half a surrogate pair becomes U+FFFD there.
        for s, (a, b, _c) in zip(W.snapshot(db, result.workshop.id).stories, texts):
            assert s.answers["promise"] == input_rules.displayable(a) and s.answers["experience"] == input_rules.displayable(b)
            s.answers["promise"].encode("utf-8")
    finally:
        db.dispose()

