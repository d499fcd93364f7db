"""The end of a workshop: its facilitator deletes it and everything in it.

Which rows belong to a workshop is worked out from the schema, not listed by hand, so a
table added to `facilitation.store.metadata` later is covered without touching this file:

* the `workshops` row itself;
* every row of a table with a `workshop_id` column, or a foreign key to `workshops`, that
  points at the workshop;
* every row of a table with a foreign key (or a column marked
  `info={"references": "table.column"}`) to a table whose rows belong to the workshop
  (a vote on a story, a draft of a participant …), however deep.

Children are deleted before their parents in one write transaction, so foreign keys hold
on both databases with or without ON DELETE CASCADE. On SQLite the deleted bytes are
overwritten too (`secure_delete`) and the write-ahead log is checkpointed and truncated
afterwards, so the text is gone from the files on disk, not just unreachable.
"""

from __future__ import annotations

import graphlib
import sys

import sqlalchemy as sa

from . import access, live_cache
from .store import Store, metadata, workshops

WORKSHOP_ID_COLUMN = "workshop_id"
_MAX_DEPTH = 8  # foreign-key hops followed from a table back to `workshops`


class NotAllowed(PermissionError):
    """The key does not open this workshop (or there is no such workshop)."""


NOT_ALLOWED = "Only the workshop's facilitator can delete it: the facilitator key does not match."


def _references(table: sa.Table) -> list[tuple[sa.Column, sa.Table, sa.Column]]:
    """(column, referenced table, referenced column) for each declared foreign key and each
    column marked `info={"references": "table.column"}` (a reference that is not a foreign key)."""
    found = [(fk.parent, fk.column.table, fk.column) for fk in table.foreign_keys]
    for col in table.columns:
        target = col.info.get("references")
        if isinstance(target, str) and "." in target:
            name, column = target.split(".", 1)
            parent = table.metadata.tables.get(name)
            if parent is not None and column in parent.c:
                found.append((col, parent, parent.c[column]))
    return found


def _belongs(table: sa.Table, workshop_id: int, depth: int = 0, seen: frozenset[str] = frozenset()):
    """A WHERE clause selecting the rows of `table` that belong to the workshop, or None if none can."""
    if table is workshops:
        return workshops.c.id == workshop_id
    if depth > _MAX_DEPTH or table.name in seen:
        return None
    seen = seen | {table.name}
    clauses = []
    if WORKSHOP_ID_COLUMN in table.c:
        clauses.append(table.c[WORKSHOP_ID_COLUMN] == workshop_id)
    for column, parent, parent_column in _references(table):
        if parent is workshops and parent_column is workshops.c.id:
            if column.name != WORKSHOP_ID_COLUMN:
                clauses.append(column == workshop_id)
            continue
        parent_rows = _belongs(parent, workshop_id, depth + 1, seen)
        if parent_rows is not None:
            clauses.append(column.in_(sa.select(parent_column).where(parent_rows)))
    return sa.or_(*clauses) if clauses else None


def _deletion_order() -> list[sa.Table]:
    """Every table, each before the tables it refers to (foreign keys and soft references alike).

    A cycle through soft references falls back to the foreign-key order SQLAlchemy computes.
    """
    graph = {table: {parent for _col, parent, _pc in _references(table) if parent is not table}
             for table in metadata.sorted_tables if table is not workshops}
    for table in list(graph):
        if WORKSHOP_ID_COLUMN in table.c:
            graph[table].add(workshops)
    graph[workshops] = set()
    try:
        parents_first = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        parents_first = list(metadata.sorted_tables)
    return list(reversed(parents_first))


def owned_tables(workshop_id: int = 0) -> list[tuple[sa.Table, object]]:
    """Every table that can hold a workshop's rows, children before parents, with its WHERE clause."""
    found = []
    for table in _deletion_order():
        where = _belongs(table, workshop_id)
        if where is not None:
            found.append((table, where))
    return found


def delete_workshop(store: Store, workshop_id: int, key: str | None) -> dict[str, int]:
    """Delete the workshop and every row that belongs to it; returns rows deleted per table.

    Raises NotAllowed (a PermissionError, message for a person) unless `key` is the
    workshop's facilitator key; an unknown workshop gives the same answer.
    """
    deleted: dict[str, int] = {}
    with store.write() as conn:
        stored_hash = conn.execute(sa.select(workshops.c.facilitator_key_hash)
                                   .where(workshops.c.id == workshop_id)).scalar_one_or_none()
        if not access.key_matches(key, stored_hash or access.hash_key("no such workshop")) or stored_hash is None:
            raise NotAllowed(NOT_ALLOWED)
        if store.is_sqlite:
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
        try:
            for table, where in owned_tables(workshop_id):
                deleted[table.name] = conn.execute(sa.delete(table).where(where)).rowcount
        finally:
            if store.is_sqlite:
                conn.exec_driver_sql("PRAGMA secure_delete=OFF")
    if store.is_sqlite:
        _checkpoint(store)
    live_cache.forget(store, workshop_id)
    _forget_cached_text()
    return deleted


def _checkpoint(store: Store) -> None:
    """Copy the WAL into the database file and truncate it (best effort: a reader may hold it)."""
    raw = store.engine.raw_connection()
    try:
        # The driver connection runs in autocommit (store.py), so no transaction is open here.
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except Exception:  # noqa: BLE001 - the deletion itself is committed; this only tidies the files
        pass
    finally:
        raw.close()


def _forget_cached_text() -> None:
    """Drop participant text the journey map keeps in an in-memory cache (if it was loaded)."""
    journey_map = sys.modules.get(f"{__package__}.journey_map")
    wrap = getattr(journey_map, "_wrap", None)
    if wrap is not None and hasattr(wrap, "cache_clear"):
        wrap.cache_clear()
