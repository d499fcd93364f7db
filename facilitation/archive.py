"""A whole workshop as one JSON file, and that file restored on another server.

    data = archive_json(store, workshop_id)      # bytes: UTF-8 (pure ASCII), stable key order
    result = import_archive(other_store, data)   # ImportResult: .workshop, .notices
    describe_archive(data)                       # what a file holds, without touching a database

What is archived is found in the schema (`facilitation.store.metadata`), not listed here,
so a table or column added to the store is archived and restored without a change to
this module:

* the workshop's row in `workshops` (the root);
* every table that refers to an archived table: through a foreign key, through a column
  called `workshop_id` (even without a declared foreign key), or through a column whose
  `info={"references": "table.column"}` says what it points at (for a reference that
  is deliberately not a foreign key, such as `workshops.spotlight_story_id`);
* in each such table, the rows that refer to an archived row of a table closer to the root
  (votes belong to the workshop through `workshop_id`, or through their story).

The file does not depend on database ids, so the same workshop always gives the same
bytes (apart from `exported_at`) whichever server it sits on:

* rows are listed per table, in primary-key order (the order they arrived in);
* a table's surrogate key (a single integer primary key that is not a reference) is left out;
* a reference to an archived table holds the *position* (0-based) of the referenced row in
  that table's list; `references` in the file says which columns are references and to what.
  A reference to a table outside the archive keeps its value.

Values are JSON: dates and datetimes as ISO 8601 strings, bytes as base64, decimals as
strings, JSON columns as they are. The text is written with `ensure_ascii=True`, so any
string the database holds, even a lone surrogate, survives the round trip exactly.

Import makes new primary keys and rewrites every reference; it keeps the join code when it
is free on this server and draws a new one otherwise, keeps the facilitator key's hash (the
same key opens the restored workshop), and keeps other globally unique values (participant
tokens) unless they are taken, in which case new ones are drawn. `ImportResult.notices`
says, in a sentence a facilitator understands, whatever changed. Everything is restored in
one transaction: a file that does not fit leaves the database untouched and raises
`ArchiveError` with a message for a person.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import sqlalchemy as sa

from . import access, i18n, input_rules, live_cache
from .room import counted
from .store import Store, metadata
from .workshops import Workshop

FORMAT = "story-relay-workshop-archive"
VERSION = 1
ROOT_TABLE = "workshops"

# References that are not declared in the schema (no ForeignKey, no info["references"]).
# A column listed here that the schema does not have is ignored.
SOFT_REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("workshops", "spotlight_story_id"): ("stories", "id"),
}
# How to draw a fresh value for a globally unique column whose archived value is taken here.
REGENERATE: dict[tuple[str, str], Callable[[], str]] = {
    ("workshops", "code"): access.new_join_code,
    ("participants", "token"): access.new_participant_token,
}
_CHUNK = 5_000  # values per IN (...) when checking unique columns
# Rows per table an archive may hold. A big real workshop (300 people, 1,500 stories, votes and
# drafts) is 1.1 MB and well inside these; a file past them is refused before anything is written,
# so one upload cannot keep the database busy for long (README, reliability table).
MAX_ROWS: dict[str, int] = {
    ROOT_TABLE: 1, "agenda_items": input_rules.MAX_AGENDA_ITEMS, "participants": 2_000, "stories": 10_000,
    "votes": 60_000, "drafts": 12_000,
}
MAX_ROWS_OTHER = 10_000  # a table added to the schema later
LIVE_STATES = ("waiting", "open", "closed")


class ArchiveError(ValueError):
    """A file that is not a workshop archive this server can restore; the message says why."""


@dataclass(frozen=True)
class ImportResult:
    workshop: Workshop
    notices: tuple[str, ...] = ()
    code_changed: bool = False
    rows: dict[str, int] | None = None  # rows restored per table


# --- what belongs to a workshop -----------------------------------------------------------------

@dataclass(frozen=True)
class _Ref:
    table: str
    column: str
    target: str
    target_column: str
    declared: bool  # a foreign key the database enforces (else a soft reference: may point at nothing)


@dataclass(frozen=True)
class _Plan:
    tables: tuple[sa.Table, ...]           # archived tables, in insertion order (root first)
    rounds: dict[str, int]                 # distance from the root
    refs: dict[str, tuple[_Ref, ...]]      # references from each archived table to archived tables
    surrogate: dict[str, str | None]       # the surrogate key column of each table, if it has one

    def table(self, name: str) -> sa.Table:
        return next(t for t in self.tables if t.name == name)


def _references(md: sa.MetaData) -> dict[str, list[_Ref]]:
    refs: dict[str, list[_Ref]] = defaultdict(list)
    root = md.tables[ROOT_TABLE]
    root_pk = next(iter(root.primary_key.columns)).name
    for t in md.tables.values():
        for col in t.columns:
            target: tuple[str, str] | None = None
            fks = list(col.foreign_keys)
            if fks:
                target = (fks[0].column.table.name, fks[0].column.name)
            if target is None and isinstance(col.info.get("references"), str) and "." in col.info["references"]:
                target = tuple(col.info["references"].split(".", 1))  # type: ignore[assignment]
            if target is None and (t.name, col.name) in SOFT_REFERENCES:
                target = SOFT_REFERENCES[(t.name, col.name)]
            if target is None and col.name == "workshop_id" and t.name != ROOT_TABLE:
                target = (ROOT_TABLE, root_pk)
            if target is not None and target[0] in md.tables and target[1] in md.tables[target[0]].c:
                refs[t.name].append(_Ref(t.name, col.name, target[0], target[1], declared=bool(fks)))
    return refs


def _surrogate(t: sa.Table, ref_columns: set[str]) -> str | None:
    pk = list(t.primary_key.columns)
    if len(pk) == 1 and isinstance(pk[0].type, sa.Integer) and not pk[0].foreign_keys \
            and pk[0].name not in ref_columns:
        return pk[0].name
    return None


def _plan(md: sa.MetaData = metadata) -> _Plan:
    all_refs = _references(md)
    rounds = {ROOT_TABLE: 0}
    n = 0
    while True:
        n += 1
        added = [t.name for t in md.tables.values() if t.name not in rounds
                 and any(r.target in rounds for r in all_refs.get(t.name, ()))]
        if not added:
            break
        for name in added:
            rounds[name] = n
    refs = {name: tuple(r for r in all_refs.get(name, ()) if r.target in rounds) for name in rounds}
    surrogate = {name: _surrogate(md.tables[name], {r.column for r in refs[name]}) for name in rounds}
    # Insertion order: a table after the tables it refers to, where that is possible (a cycle is
    # broken by restoring the reference afterwards); ties broken by the schema's own order.
    schema_order = [t.name for t in md.tables.values()]
    order: list[str] = [ROOT_TABLE]
    left = [name for name in schema_order if name in rounds and name != ROOT_TABLE]
    while left:
        ready = [name for name in left
                 if all(r.target in order or r.target == name for r in refs[name])]
        pick = ready[0] if ready else left[0]
        order.append(pick)
        left.remove(pick)
    return _Plan(tables=tuple(md.tables[name] for name in order), rounds=rounds, refs=refs, surrogate=surrogate)


def _owner_condition(plan: _Plan, t: sa.Table, workshop_id: int, cache: dict[str, Any]):
    """SQL condition selecting the rows of `t` that belong to the workshop."""
    if t.name in cache:
        return cache[t.name]
    if t.name == ROOT_TABLE:
        pk = next(iter(t.primary_key.columns))
        cond = pk == workshop_id
    else:
        parts = []
        for r in plan.refs[t.name]:
            if plan.rounds[r.target] < plan.rounds[t.name]:
                parent = plan.table(r.target)
                parts.append(t.c[r.column].in_(
                    sa.select(parent.c[r.target_column]).where(_owner_condition(plan, parent, workshop_id, cache))))
        cond = sa.or_(*parts)
    cache[t.name] = cond
    return cond


# --- values ---------------------------------------------------------------------------------

def _encode(col: sa.Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(col.type, sa.Boolean):
        return bool(value)
    return value


def _decode(col: sa.Column, value: Any, where: str) -> Any:
    """The archived JSON value as the Python value the column takes; ArchiveError if it cannot be."""
    if value is None:
        return None
    kind = col.type

    def wrong(expected: str) -> ArchiveError:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "…"
        return ArchiveError(f"{where}: '{col.name}' should be {expected}, not {shown}.")

    if isinstance(kind, sa.JSON):
        return value
    if isinstance(kind, sa.Boolean):
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if isinstance(kind, sa.Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("a whole number")
        return value
    if isinstance(kind, sa.Float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if isinstance(kind, sa.Numeric):
        try:
            return decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise wrong("a number") from None
    if isinstance(kind, sa.DateTime):
        try:
            return dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise wrong("a date and time (ISO 8601)") from None
    if isinstance(kind, sa.Date):
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise wrong("a date like 2026-03-12") from None
    if isinstance(kind, sa.Time):
        try:
            return dt.time.fromisoformat(value)
        except (TypeError, ValueError):
            raise wrong("a time of day") from None
    if isinstance(kind, sa.LargeBinary):
        try:
            return base64.b64decode(value, validate=True)
        except (TypeError, ValueError):
            raise wrong("base64 data") from None
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            raise wrong("text")
        return value
    return value


# --- export ---------------------------------------------------------------------------------

def export_archive(store: Store, workshop_id: int, *, clock: Callable[[], float] = time.time,
                   schema: sa.MetaData | None = None) -> dict:
    """Everything belonging to the workshop as a JSON-serialisable dict (see the module docstring).

    Read in one transaction, so the archive is a consistent moment even while stories arrive.
    Raises LookupError when there is no such workshop. `schema` is for tests (default: the store's).
    """
    plan = _plan(schema if schema is not None else metadata)
    raw: dict[str, list[dict]] = {}
    cache: dict[str, Any] = {}
    with store.read() as conn:
        for t in plan.tables:
            q = sa.select(t).where(_owner_condition(plan, t, workshop_id, cache))
            key = plan.surrogate[t.name]
            q = q.order_by(t.c[key]) if key else q.order_by(*t.primary_key.columns)
            raw[t.name] = [dict(r._mapping) for r in conn.execute(q)]
    if not raw[ROOT_TABLE]:
        raise LookupError(f"There is no workshop with id {workshop_id}.")

    # Rows are listed in primary-key order (arrival); a reference becomes the position of the row
    # it points at. Tables without a surrogate key are ordered by their encoded content instead,
    # so they are encoded (and their positions known) before the tables that have one.
    positions: dict[tuple[str, str], dict] = {}
    targets = defaultdict(set)
    for t in plan.tables:
        for r in plan.refs[t.name]:
            targets[r.target].add(r.target_column)

    def remember(t: sa.Table) -> None:
        for col in targets[t.name]:
            positions[(t.name, col)] = {row[col]: i for i, row in enumerate(raw[t.name])}

    def encode_row(t: sa.Table, row: dict) -> dict:
        out = {}
        refs = {r.column: r for r in plan.refs[t.name]}
        for col in t.columns:
            if col.name == plan.surrogate[t.name]:
                continue
            value = row[col.name]
            r = refs.get(col.name)
            if r is not None and value is not None:
                where = positions.get((r.target, r.target_column))
                if where is None:
                    raise ArchiveError(f"{t.name}.{col.name} refers to {r.target}, which has no key of its own "
                                       "and comes later; such a schema cannot be archived.")
                if value in where:
                    value = where[value]
                elif not r.declared:
                    value = None  # a soft reference to a row that is gone (a spotlight on a deleted story)
                else:
                    raise ArchiveError(f"{t.name}.{col.name} refers to a {r.target} row outside this workshop "
                                       f"({value!r}); the database is inconsistent.")
            out[col.name] = _encode(col, value)
        return out

    for t in plan.tables:
        if plan.surrogate[t.name] is not None:
            remember(t)
    tables: dict[str, list[dict]] = {}
    for t in plan.tables:
        if plan.surrogate[t.name] is None:
            encoded = [(encode_row(t, row), row) for row in raw[t.name]]
            encoded.sort(key=lambda pair: _canonical(pair[0]))
            tables[t.name] = [e for e, _ in encoded]
            raw[t.name] = [r for _, r in encoded]
            remember(t)
    for t in plan.tables:
        if plan.surrogate[t.name] is not None:
            tables[t.name] = [encode_row(t, row) for row in raw[t.name]]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": dt.datetime.fromtimestamp(clock(), dt.timezone.utc).isoformat(timespec="seconds"),
        "references": {f"{r.table}.{r.column}": r.target for t in plan.tables for r in plan.refs[t.name]},
        "tables": {t.name: tables[t.name] for t in plan.tables},
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"), default=str)


def dumps(data: dict) -> bytes:
    """The archive dict as the bytes of the file: ASCII-only JSON, keys sorted, one value per line."""
    return (json.dumps(data, ensure_ascii=True, sort_keys=True, indent=1) + "\n").encode("utf-8")


def archive_json(store: Store, workshop_id: int, *, clock: Callable[[], float] = time.time,
                 schema: sa.MetaData | None = None) -> bytes:
    """`export_archive` as the bytes of a .json file, ready for a download button."""
    return dumps(export_archive(store, workshop_id, clock=clock, schema=schema))


def archive_filename(workshop: Workshop, when: float | None = None) -> str:
    stamp = dt.datetime.fromtimestamp(when if when is not None else time.time()).strftime("%Y-%m-%d_%H%M")
    return f"story-relay-{workshop.code}-{stamp}.json"


# --- reading a file -------------------------------------------------------------------------

def load(data: bytes | str | dict) -> dict:
    """The archive in a file's bytes (or text, or an already parsed dict), checked for its form.

    Raises ArchiveError with a message for a person when it is not a workshop archive this
    server can read.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ArchiveError("This file is not a Story Relay archive: it is not text (UTF-8).") from None
    if isinstance(data, str):
        if not data.strip():
            raise ArchiveError("This file is empty.")
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ArchiveError(f"This file is not a Story Relay archive: it is not valid JSON "
                               f"(line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
        except RecursionError:
            raise ArchiveError("This file is not a Story Relay archive: it is nested too deeply.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError("This file is not a Story Relay workshop archive (it lacks "
                           f"\"format\": \"{FORMAT}\"). Choose a .json file downloaded from a report page.")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ArchiveError(f"This archive has no valid format version ({version!r}).")
    if version > VERSION:
        raise ArchiveError(f"This archive was made by a newer Story Relay (archive format version {version}); "
                           f"this server reads version {VERSION} and older. Update this server and try again.")
    tables = data.get("tables")
    if not isinstance(tables, dict) or not all(isinstance(v, list) for v in tables.values()):
        raise ArchiveError("This archive is damaged: 'tables' must map each table to a list of rows.")
    if len(tables.get(ROOT_TABLE) or ()) != 1 or not isinstance(tables[ROOT_TABLE][0], dict):
        raise ArchiveError("This archive is damaged: it must hold exactly one workshop.")
    for name, rows in tables.items():
        limit = MAX_ROWS.get(name, MAX_ROWS_OTHER)
        if len(rows) > limit:
            raise ArchiveError(f"This archive holds {len(rows):,} rows of {name}; a workshop on this server holds at "
                               f"most {limit:,}, so it cannot be restored here.")
    return data


def describe_archive(data: bytes | str | dict) -> dict:
    """What an archive holds, for a confirmation before importing: title, organisation, date,
    join code, when it was exported, and rows per table. Raises ArchiveError like `load`."""
    archive = load(data)
    w = archive["tables"][ROOT_TABLE][0]
    rows = {name: len(table_rows) for name, table_rows in archive["tables"].items()}
    counts = [counted(rows.get("participants", 0), "participant"),
              counted(rows.get("stories", 0), "story or addition", "stories and additions"),
              counted(rows.get("votes", 0), "vote")]
    return {
        "title": w.get("title"), "organisation": w.get("organisation"), "held_on": w.get("held_on"),
        "code": w.get("code"), "exported_at": archive.get("exported_at"), "rows": rows,
        "summary": ", ".join(counts),
    }


# --- import ---------------------------------------------------------------------------------

def import_archive(store: Store, data: bytes | str | dict, *, attempts: int = 3,
                   schema: sa.MetaData | None = None) -> ImportResult:
    """Restore an archived workshop into this database (which may hold other workshops).

    Returns the restored workshop and notices about what had to change (a join code or
    participant links already in use here). Raises ArchiveError, leaving the database as it
    was, when the file is not an archive this server can restore.
    """
    archive = load(data)
    plan = _plan(schema if schema is not None else metadata)
    rows_by_table = _decoded_rows(plan, archive)
    _check_content(plan, rows_by_table)
    last: Exception | None = None
    for _attempt in range(max(1, attempts)):
        try:
            with store.write() as conn:
                result = _restore(conn, plan, rows_by_table)
            live_cache.forget(store, result.workshop.id)  # nothing read before under this id is served again
            return result
        except sa.exc.IntegrityError as exc:  # a code or token taken between our check and insert: draw again
            last = exc
            if not _is_unique_violation(exc):
                raise ArchiveError(f"This archive does not fit this server's database: {_first_line(exc)}") from exc
        except (sa.exc.DataError, sa.exc.StatementError) as exc:
            raise ArchiveError(f"This archive does not fit this server's database: {_first_line(exc)}") from exc
    raise ArchiveError(f"This archive does not fit this server's database: {_first_line(last)}") from last


def _is_unique_violation(exc: sa.exc.IntegrityError) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "unique" in text or "duplicate key" in text


def _first_line(exc: BaseException | None) -> str:
    text = str(getattr(exc, "orig", None) or exc or "").strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _decoded_rows(plan: _Plan, archive: dict) -> dict[str, list[dict]]:
    """Every archived row as column → Python value (references still as positions), checked."""
    tables = archive["tables"]
    known = {t.name for t in plan.tables}
    for name in tables:
        if name not in known:
            raise ArchiveError(f"This archive holds a table '{name}' that this server does not know; "
                               "it was probably made by a newer Story Relay. Update this server and try again.")
    declared = archive.get("references")
    if not isinstance(declared, dict):
        raise ArchiveError("This archive is damaged: it does not say which columns are references ('references').")
    out: dict[str, list[dict]] = {}
    for t in plan.tables:
        refs = {r.column: r for r in plan.refs[t.name]}
        for col, target in declared.items():
            tname, _, cname = str(col).partition(".")
            if tname == t.name and (cname not in refs or refs[cname].target != target):
                raise ArchiveError(f"In this archive {col} refers to {target}, but not on this server; "
                                   "the archive cannot be restored here.")
        for cname, r in refs.items():
            if f"{t.name}.{cname}" not in declared and any(cname in row for row in tables.get(t.name, [])
                                                          if isinstance(row, dict)):
                raise ArchiveError(f"On this server {t.name}.{cname} refers to {r.target}, but the archive "
                                   "does not treat it as a reference; the archive cannot be restored here.")
        key = plan.surrogate[t.name]
        decoded = []
        columns_seen: set[str] | None = None
        for i, row in enumerate(tables.get(t.name, [])):
            where = f"{t.name}, row {i + 1}"
            if not isinstance(row, dict):
                raise ArchiveError(f"This archive is damaged: {where} is not a record.")
            values = {}
            for name, value in row.items():
                if name not in t.c or name == key:
                    raise ArchiveError(f"This archive is damaged or newer than this server: {where} has a column "
                                       f"'{name}' that this server does not know.")
                r = refs.get(name)
                if r is not None and value is not None:
                    n_target = len(tables.get(r.target, []))
                    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_target:
                        raise ArchiveError(f"This archive is damaged: {where} refers to {r.target} row {value!r}, "
                                           f"which is not in the file.")
                    values[name] = value
                else:
                    values[name] = _decode(t.c[name], value, f"This archive is damaged: {where}")
            for col in t.columns:
                if col.name in values or col.name == key:
                    continue
                if not col.nullable and col.server_default is None and col.default is None and not col.primary_key:
                    raise ArchiveError(f"This archive is damaged: {where} lacks '{col.name}', which is required.")
            if columns_seen is not None and set(values) != columns_seen:
                raise ArchiveError(f"This archive is damaged: the rows of {t.name} do not all have the same columns.")
            columns_seen = set(values)
            decoded.append(values)
        out[t.name] = decoded
    return out


def _check_content(plan: _Plan, rows_by_table: dict[str, list[dict]]) -> None:
    """Refuse, with ArchiveError, what the app's own rules would refuse and what no screen could show.

    The workshop's title, organisation and facilitator, its functions and stages (and their
    numbers), participants' names and functions go through the same input rules as when they
    were typed; answers must be an object of answers; no text column may hold NUL (PostgreSQL
    cannot store it) or half of a surrogate pair (no screen can show it). Story text inside
    answers is kept as archived (the pages show it safely)."""
    def refuse(where: str, problem: str) -> ArchiveError:
        return ArchiveError(f"This archive cannot be restored: {where}: {problem}")

    w = rows_by_table[ROOT_TABLE][0]
    where = "the workshop"
    for name, what, required in (("title", "The title", True), ("organisation", "The organisation", False),
                                 ("facilitator", "The facilitator", False)):
        if name in w and (p := input_rules.text_problem(w[name], max_chars=input_rules.TITLE_MAX, what=what,
                                                        required=required, one_line=True)):
            raise refuse(where, p)
    for name, limit, max_chars in (("functions", input_rules.MAX_FUNCTIONS, input_rules.FUNCTION_NAME_MAX),
                                   ("stages", input_rules.MAX_STAGES, input_rules.STAGE_NAME_MAX)):
        if name in w and (p := input_rules.name_list_problem(w[name], what=name, max_chars=max_chars, maximum=limit)):
            raise refuse(where, p)
    if w.get("language") is not None and not (isinstance(w["language"], str)
                                             and i18n.LANGUAGE_CODE.match(w["language"])):
        raise refuse(where, "'language' should be a language code such as 'en' or 'de'.")
    if w.get("live_state") is not None and w.get("live_state") not in LIVE_STATES:
        raise refuse(where, f"'live_state' should be one of {', '.join(LIVE_STATES)}.")
    for i, p in enumerate(rows_by_table.get("participants", ())):
        for name, limit in (("display_name", input_rules.DISPLAY_NAME_MAX), ("function", input_rules.FUNCTION_NAME_MAX)):
            if name in p and (problem := input_rules.text_problem(p[name], max_chars=limit, one_line=True,
                                                                  what=f"'{name}'")):
                raise refuse(f"participants, row {i + 1}", problem)
    for table in ("stories", "drafts"):
        for i, row in enumerate(rows_by_table.get(table, ())):
            answers = row.get("answers")
            if answers is not None and not isinstance(answers, dict):
                raise refuse(f"{table}, row {i + 1}", f"'answers' should be an object of answers, "
                                                      f"not {type(answers).__name__ if answers is not None else 'nothing'}.")
    for t in plan.tables:
        text_columns = [c.name for c in t.columns if isinstance(c.type, sa.String)]
        for i, row in enumerate(rows_by_table.get(t.name, ())):
            for name in text_columns:
                value = row.get(name)
                if isinstance(value, str) and ("\x00" in value or input_rules.has_lone_surrogate(value)):
                    raise refuse(f"{t.name}, row {i + 1}", f"'{name}' holds a NUL character or half of a surrogate "
                                                           "pair, which this server cannot store or show.")


def _unique_columns(t: sa.Table, skip: set[str]) -> list[str]:
    """Columns that must be unique across the whole table (one-column unique constraints/indexes)."""
    names: list[str] = [c.name for c in t.columns if c.unique]
    for cons in t.constraints:
        if isinstance(cons, sa.UniqueConstraint) and len(cons.columns) == 1:
            names.append(next(iter(cons.columns)).name)
    for index in t.indexes:
        if index.unique and len(index.columns) == 1:
            names.append(next(iter(index.columns)).name)
    return [n for n in dict.fromkeys(names) if n not in skip]


def _taken(conn, col: sa.Column, values: Iterable[Any]) -> set:
    values = [v for v in dict.fromkeys(values) if v is not None]
    found: set = set()
    for i in range(0, len(values), _CHUNK):
        found.update(conn.execute(sa.select(col).where(col.in_(values[i:i + _CHUNK]))).scalars())
    return found


def _fresh_value(t: sa.Table, col: sa.Column) -> Any:
    make = REGENERATE.get((t.name, col.name))
    if make is not None:
        return make()
    if isinstance(col.type, sa.String):
        length = col.type.length or 32
        return secrets.token_urlsafe(length)[:length]
    raise ArchiveError(f"{t.name}.{col.name} must be unique and the archived value is already used here.")


def _restore(conn, plan: _Plan, rows_by_table: dict[str, list[dict]]) -> ImportResult:
    notices: list[str] = []
    code_changed = False
    new_keys: dict[str, list[Any]] = {}          # table → new surrogate key per position
    values_at: dict[str, list[dict]] = {}        # table → the values as inserted, per position
    deferred: list[tuple[sa.Table, str, int, _Ref, int]] = []  # (table, key col, position, ref, target position)
    inserted: set[str] = set()

    for t in plan.tables:
        rows = [dict(r) for r in rows_by_table[t.name]]
        key = plan.surrogate[t.name]
        refs = {r.column: r for r in plan.refs[t.name]}
        if t.name == ROOT_TABLE and "code" in t.c and rows and not access.is_join_code(rows[0].get("code")):
            # Not a code this server would draw (hand-edited, or markup): never shown, replaced.
            rows[0]["code"] = access.new_join_code()
            code_changed = True
            notices.append(f"The archived join code is not a valid join code here, so the restored workshop has "
                           f"the new code {rows[0]['code']}.")
        if t.name == ROOT_TABLE and rows and rows[0].get("language") not in (None, *i18n.languages()):
            notices.append(f"The workshop's language '{rows[0]['language']}' has no catalogue on this server, so its "
                           f"screens and report are in English until one is added to locale/.")
        # Globally unique values (join code, participant tokens) that are taken here get new ones.
        for cname in _unique_columns(t, {key or "", *refs}):
            col = t.c[cname]
            taken = _taken(conn, col, (r.get(cname) for r in rows))
            changed = 0
            for r in rows:
                if r.get(cname) in taken:
                    old = r[cname]
                    while r[cname] in taken:
                        r[cname] = _fresh_value(t, col)
                        taken |= _taken(conn, col, [r[cname]])  # a fresh value may be in use too
                    taken.add(r[cname])
                    changed += 1
                    if (t.name, cname) == (ROOT_TABLE, "code"):
                        code_changed = True
                        notices.append(f"The join code {old} is already used by another workshop on this server, "
                                       f"so the restored workshop has the new code {r[cname]}.")
            if changed and (t.name, cname) == ("participants", "token"):
                notices.append(f"{changed:,} of the participants' personal links were already in use on this "
                               "server and were replaced; those people can rejoin with the join code.")
            elif changed and (t.name, cname) != (ROOT_TABLE, "code"):
                notices.append(f"{changed:,} values of {t.name}.{cname} were already in use on this server "
                               "and were replaced.")
        # References: positions → the new keys; a reference to a table not restored yet (a cycle,
        # or a row of the same table) is filled in afterwards.
        for i, r in enumerate(rows):
            for cname, ref in refs.items():
                pos = r.get(cname)
                if pos is None:
                    continue
                if ref.target in inserted and ref.target != t.name:
                    r[cname] = _target_value(plan, ref, pos, new_keys, values_at)
                else:
                    if not t.c[cname].nullable:
                        raise ArchiveError(f"{t.name}.{cname} refers in a circle and cannot be restored on this "
                                           "server (the column does not allow an empty value).")
                    r[cname] = None
                    deferred.append((t, key, i, ref, pos))
        if rows:
            if key:
                result = conn.execute(sa.insert(t).returning(t.c[key], sort_by_parameter_order=True), rows)
                new_keys[t.name] = [row[0] for row in result]
            else:
                conn.execute(sa.insert(t), rows)
                new_keys[t.name] = [None] * len(rows)
        else:
            new_keys[t.name] = []
        values_at[t.name] = rows
        inserted.add(t.name)

    for t, key, i, ref, pos in deferred:
        if key is None:
            raise ArchiveError(f"{t.name}.{ref.column} refers in a circle and {t.name} has no key to update it by.")
        conn.execute(sa.update(t).where(t.c[key] == new_keys[t.name][i])
                     .values({ref.column: _target_value(plan, ref, pos, new_keys, values_at)}))

    workshop_id = new_keys[ROOT_TABLE][0]
    counts = {t.name: len(rows_by_table[t.name]) for t in plan.tables}
    ws = _read_workshop(conn, workshop_id)
    return ImportResult(workshop=ws, notices=tuple(notices), code_changed=code_changed, rows=counts)


def _target_value(plan: _Plan, ref: _Ref, pos: int, new_keys: dict, values_at: dict) -> Any:
    if ref.target_column == plan.surrogate[ref.target]:
        return new_keys[ref.target][pos]
    return values_at[ref.target][pos][ref.target_column]


def _read_workshop(conn, workshop_id: int) -> Workshop:
    from .workshops import _workshop  # the same reading the rest of the app uses

    t = metadata.tables[ROOT_TABLE]
    return _workshop(conn.execute(sa.select(t).where(t.c.id == workshop_id)).one())


__all__ = ["ArchiveError", "ImportResult", "FORMAT", "VERSION", "archive_json", "archive_filename",
           "describe_archive", "dumps", "export_archive", "import_archive", "load"]
