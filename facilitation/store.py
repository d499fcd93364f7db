"""The database: one schema for embedded SQLite (default) and PostgreSQL (`DATABASE_URL`).

SQLite runs in WAL mode with `synchronous=NORMAL` and a busy timeout; transactions that
read and then write open with `BEGIN IMMEDIATE`, so two writers never deadlock on the
upgrade from a read lock. Every change to a workshop bumps its `revision` in the same
transaction (`record_bump`); after the commit, the commit listeners (facilitation.live_hub) are
told which workshops moved and what changed, and on PostgreSQL the same transaction sends a
NOTIFY that every other replica's listener receives once it commits.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How long a PostgreSQL statement waits for a row lock before it gives up and the participant sees
# "not saved yet" (the same patience as SQLite's busy timeout; without it a stuck lock waits forever).
POSTGRES_LOCK_TIMEOUT_MS = SQLITE_BUSY_TIMEOUT_MS
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
NOTIFY_CHANNEL_PREFIX = "story_relay_"
# Connections one server process may hold on PostgreSQL (the pool, then its overflow under a burst),
# plus one for LISTEN. Four replicas at the defaults hold at most 4 × (8 + 12 + 1) = 84, inside
# PostgreSQL's default max_connections of 100 (at the old 10 + 20, a room of 1,000 on four replicas
# met "sorry, too many clients already"). Set per deployment: replicas × (pool + overflow + 1) must
# stay under the server's max_connections.
POOL_SIZE_SETTING, MAX_OVERFLOW_SETTING = "STORY_RELAY_DB_POOL_SIZE", "STORY_RELAY_DB_MAX_OVERFLOW"
DEFAULT_POOL_SIZE, DEFAULT_MAX_OVERFLOW = 8, 12


def pool_settings(environ: dict[str, str] | None = None) -> tuple[int, int]:
    """(pool size, overflow) for PostgreSQL from the environment, else the defaults; a bad value says which."""
    environ = os.environ if environ is None else environ
    found = []
    for name, default in ((POOL_SIZE_SETTING, DEFAULT_POOL_SIZE), (MAX_OVERFLOW_SETTING, DEFAULT_MAX_OVERFLOW)):
        raw = environ.get(name, "").strip()
        try:
            value = int(raw) if raw else default
        except ValueError:
            raise ValueError(f"{name}: {raw!r} is not a whole number") from None
        if value < (1 if name == POOL_SIZE_SETTING else 0):
            raise ValueError(f"{name}: {value} is too small")
        found.append(value)
    return found[0], found[1]

# Called after a write transaction that bumped workshop revisions has committed, on the writer's
# thread: listener(store, {workshop id: (revision, frozenset of topics)}). Errors are logged by the caller.
CommitListener = Callable[["Store", dict[int, tuple[int, frozenset[str]]]], None]
COMMIT_LISTENERS: list[CommitListener] = []

metadata = sa.MetaData()

workshops = sa.Table(
    "workshops",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(16), nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("organisation", sa.Text, nullable=False, server_default=""),
    sa.Column("held_on", sa.Date, nullable=True),
    sa.Column("facilitator", sa.Text, nullable=False, server_default=""),
    sa.Column("facilitator_key_hash", sa.String(128), nullable=False),
    sa.Column("functions", sa.JSON, nullable=False),
    sa.Column("stages", sa.JSON, nullable=False),
    sa.Column("show_names", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    # Position in the agenda of the exercise the room is on; NULL before the first one opens.
    sa.Column("live_position", sa.Integer, nullable=True),
    # "open" accepts stories, "closed" shows results but takes no more.
    sa.Column("live_state", sa.String(16), nullable=False, server_default="waiting"),
    # Lock the live exercise automatically when its countdown reaches zero.
    sa.Column("lock_at_zero", sa.Boolean, nullable=False, server_default=sa.true()),
    # The story shown full-screen on the projector, if any (not a foreign key: deleting a story clears it in code).
    sa.Column("spotlight_story_id", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    # The room's language (a catalogue in locale/, facilitation/i18n.py): participant screens, projector, report.
    sa.Column("language", sa.String(16), nullable=False, server_default="en"),
)

agenda_items = sa.Table(
    "agenda_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("exercise_key", sa.String(64), nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("opened_at", sa.Float, nullable=True),
    sa.Column("closed_at", sa.Float, nullable=True),
    # Time the facilitator added while the exercise ran ("one more minute").
    sa.Column("extra_seconds", sa.Integer, nullable=False, server_default="0"),
    # Stories collected blind stay off the projector until revealed together.
    sa.Column("blind", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("revealed_at", sa.Float, nullable=True),
    # Dot voting: "off", "open" or "closed" (results stay on screen), with a cap per participant.
    sa.Column("voting", sa.String(8), nullable=False, server_default="off"),
    sa.Column("dots", sa.Integer, nullable=False, server_default="3"),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("function", sa.Text, nullable=False),
    sa.Column("joined_at", sa.Float, nullable=False),
    sa.Index("ix_participants_workshop", "workshop_id"),
)

stories = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("exercise_key", sa.String(64), nullable=False),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=True),
    # The author's function when the story was told (a proxy entry has no participant).
    sa.Column("function", sa.Text, nullable=False),
    # Who told it when a facilitator typed it in for someone in the room (proxy entry).
    sa.Column("proxy_name", sa.Text, nullable=True),
    # An addition to another story ("build on it"), shown under that story.
    sa.Column("builds_on", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=True),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("workshop_id", "idempotency_key", name="uq_story_idempotency"),
    sa.Index("ix_stories_workshop_exercise", "workshop_id", "exercise_key"),
)

votes = sa.Table(
    "votes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("story_id", "participant_id", name="uq_one_dot_per_story"),
    sa.Index("ix_votes_workshop", "workshop_id"),
)

drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("exercise_key", sa.String(64), nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("participant_id", "exercise_key", name="uq_one_draft_per_exercise"),
)

# An exercise done in pairs (facilitation/pairs.py): who tells and who listens with whom, one row a
# person; `pair_no` groups them (two, or three for the odd one out).
pair_members = sa.Table(
    "pair_members",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("exercise_key", sa.String(64), nullable=False),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("pair_no", sa.Integer, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # "teller" or "listener"
    sa.UniqueConstraint("exercise_key", "participant_id", name="uq_one_pair_per_exercise"),
    sa.Index("ix_pair_members_workshop", "workshop_id", "exercise_key"),
)

# The pairs' round of an exercise: which version of the pairs the screens show (every change moves
# it, so a stale console is refused) and which phase the facilitator started, when.
pair_rounds = sa.Table(
    "pair_rounds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("exercise_key", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    # 0 before the first phase, 1..n while phase n runs, n + 1 once the phases are over.
    sa.Column("phase", sa.Integer, nullable=False, server_default="0"),
    sa.Column("phase_started_at", sa.Float, nullable=True),
    # [[phase, started at], ...] in the order the facilitator started them (for the report).
    sa.Column("phase_log", sa.JSON, nullable=False),
    sa.UniqueConstraint("workshop_id", "exercise_key", name="uq_one_pair_round"),
)

# Workshops a facilitator linked for the cross-workshop trend (proving the other workshop's key
# when linking); one series per workshop. A workshop's organisation name links nothing by itself.
trend_links = sa.Table(
    "trend_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False,
              unique=True),
    sa.Column("series", sa.String(64), nullable=False),
    sa.Index("ix_trend_links_series", "series"),
)


# --- after the room: commitment follow-up and common themes (facilitation/follow_up.py, themes.py) ---

commitment_updates = sa.Table(
    "commitment_updates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    # The commitment: a story of an exercise whose room view is "commitments".
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=True),
    # "done", "partly" or "dropped"; the latest update of a commitment is its status (none: still open).
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_commitment_updates_story", "story_id"),
)

# "Where we left off": the next workshop opens by reviewing the previous one's open commitments.
opening_reviews = sa.Table(
    "opening_reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("added_at", sa.Float, nullable=False),
    # When the facilitator put it on the projector (it stays there until an exercise is opened after it).
    sa.Column("shown_at", sa.Float, nullable=True),
    sa.Column("ended_at", sa.Float, nullable=True),
    sa.UniqueConstraint("workshop_id", name="uq_one_opening_review"),
)

themes = sa.Table(
    "themes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    # Which kind of story it groups: a key of facilitation.themes.TOPICS.
    sa.Column("topic", sa.String(32), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    # Only confirmed themes reach the projector and the report.
    sa.Column("confirmed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    # "wordllama" or "tfidf": what grouped the stories (shown to the facilitator).
    sa.Column("method", sa.String(16), nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_themes_workshop", "workshop_id"),
)

theme_stories = sa.Table(
    "theme_stories",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("theme_id", sa.Integer, sa.ForeignKey("themes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    sa.UniqueConstraint("theme_id", "story_id", name="uq_story_once_per_theme"),
)


# --- paced rounds and the guess-first terminology wall (facilitation/rounds.py) ---

# Which round of a paced exercise the room is in (no row: the first).
exercise_rounds = sa.Table(
    "exercise_rounds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("agenda_item_id", sa.Integer, sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), nullable=False,
              unique=True),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("changed_at", sa.Float, nullable=False),
)

# Each round a story received, with the form it came from: a round sent twice (a double tap) is kept
# once, and a draft save still on its way after the round was sent is refused (drafts.save_typed).
story_rounds = sa.Table(
    "story_rounds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False),
    sa.Column("sent_at", sa.Float, nullable=False),
    sa.UniqueConstraint("workshop_id", "idempotency_key", name="uq_story_round_idempotency"),
    sa.Index("ix_story_rounds_story", "story_id"),
)

# A term of the terminology wall put up for the room to guess; its meaning shows once revealed.
guess_terms = sa.Table(
    "guess_terms",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False, unique=True),
    sa.Column("opened_at", sa.Float, nullable=False),
    sa.Column("revealed_at", sa.Float, nullable=True),
)

# What someone from another function thinks a term means, before the reveal (one per person and term).
guesses = sa.Table(
    "guesses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    # The guesser's function when they guessed (like a story's).
    sa.Column("function", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("story_id", "participant_id", name="uq_one_guess_per_term"),
    sa.Index("ix_guesses_workshop", "workshop_id"),
)

# Never reuse the id of a deleted row (see _never_reuse_ids): a cache or a link that still names a
# deleted workshop, story or person must not find a new one. Every table has one integer id.
for _table in metadata.tables.values():
    _table.dialect_options["sqlite"]["autoincrement"] = True
del _table


def default_database_url() -> str:
    """`DATABASE_URL` if set, else an SQLite file under the data folder (created on first run)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    data_dir = Path(os.environ.get("STORY_RELAY_DATA_DIR", DEFAULT_DATA_DIR))
    return f"sqlite:///{data_dir / 'story_relay.sqlite3'}"


class Store:
    """An engine with the schema in place and the two kinds of transaction the app uses."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._writer = threading.Lock()
        if self.is_sqlite:
            path = sa.engine.make_url(url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
            _configure_sqlite(self.engine)
        else:
            # libpq options from the URL (e.g. a search_path) are kept; the lock timeout is added to them.
            options = sa.engine.make_url(url).query.get("options", "")
            options = " ".join(options) if isinstance(options, tuple) else options
            pool_size, max_overflow = pool_settings()
            self.engine = sa.create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True, connect_args={
                "options": f"{options} -c lock_timeout={POSTGRES_LOCK_TIMEOUT_MS}".strip()})
        metadata.create_all(self.engine)
        if self.is_sqlite:
            _never_reuse_ids(self.engine)
        _add_missing_columns(self.engine)
        self.notify_channel = self._notify_channel()

    def _notify_channel(self) -> str | None:
        """PostgreSQL: the NOTIFY channel of this schema (notifications are per database, and two
        schemas of one database are two different stores). None on SQLite."""
        if self.is_sqlite:
            return None
        with self.engine.connect() as conn:
            schema = conn.execute(sa.text("SELECT current_database() || '.' || current_schema()")).scalar_one()
        return NOTIFY_CHANNEL_PREFIX + hashlib.sha1(schema.encode()).hexdigest()[:16]

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both databases)."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                # READ COMMITTED would let one read see half of a change made between two statements.
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that may read and then write: `BEGIN IMMEDIATE` on SQLite.

        On SQLite the writers of this process first queue on one lock: SQLite's own busy handler
        makes a waiting writer sleep in growing steps (up to 100 ms each), so under a full room the
        unlucky ones waited seconds while the file was free most of the time. The queue is fair
        and bounded by the same busy timeout; past it the caller gets the OperationalError that
        the pages answer with "not saved yet". Other processes on the same file still meet the
        busy handler.
        """
        if self.is_sqlite and not self._writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None,
                                          sqlite3.OperationalError("database is locked (writers queued in this process)"))
        bumps = None
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                conn.info["story_relay_channel"] = self.notify_channel
                try:
                    with conn.begin():
                        yield conn
                    bumps = conn.info.get("story_relay_bumps")
                finally:
                    conn.info.pop("story_relay_bumps", None)
        finally:
            if self.is_sqlite:
                self._writer.release()
        if bumps:
            _tell_listeners(self, bumps)

    def dispose(self) -> None:
        self.engine.dispose()


def record_bump(conn: Connection, workshop_id: int, revision: int, topics: frozenset[str]) -> None:
    """Inside a write transaction: workshop `workshop_id` is now at `revision` because `topics` changed.

    The listeners hear it after COMMIT (nothing for a rolled-back write); on PostgreSQL a NOTIFY
    in this same transaction carries it to the other replicas, delivered only once it commits.
    """
    bumps = conn.info.setdefault("story_relay_bumps", {})
    old_rev, old_topics = bumps.get(workshop_id, (0, frozenset()))
    bumps[workshop_id] = (max(old_rev, revision), old_topics | topics)
    channel = conn.info.get("story_relay_channel")
    if channel:
        conn.execute(sa.select(sa.func.pg_notify(channel, f"{workshop_id}:{revision}:{','.join(sorted(topics))}")))


def _tell_listeners(store: "Store", bumps: dict) -> None:
    import logging

    for listener in list(COMMIT_LISTENERS):
        try:
            listener(store, dict(bumps))
        except Exception:  # a listener's failure must not turn a stored story into an error
            logging.getLogger(__name__).exception("commit listener failed")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself so that writers can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _never_reuse_ids(engine: Engine) -> None:
    """Give the tables of a database file made before AUTOINCREMENT their new definition, once.

    Without AUTOINCREMENT SQLite hands out the id of a deleted highest row again, so a workshop
    created after a deletion could take the deleted one's id (and anything keyed on it). SQLite
    cannot add AUTOINCREMENT to a table, so each such table is rebuilt in one transaction (the
    procedure of https://sqlite.org/lang_altertable.html#otheralter): new table, copy, drop, rename,
    indexes again. Ids are kept; sqlite_sequence starts from each table's highest id.
    PostgreSQL sequences never hand out an id twice, so it needs nothing.
    """
    with engine.connect() as conn:
        old = [t for t in metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]
               and "AUTOINCREMENT" not in (conn.exec_driver_sql(
                   "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (t.name,)).scalar() or "AUTOINCREMENT").upper()]
        conn.commit()
        if not old:
            return
        raw = conn.connection.driver_connection  # autocommit (see _configure_sqlite): no transaction open
        raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or SQLite ignores it
        try:
            with conn.begin():
                conn.exec_driver_sql("PRAGMA legacy_alter_table=OFF")
                for t in old:
                    columns = ", ".join(f'"{c.name}"' for c in t.columns)
                    temporary = f"{t.name}__autoincrement"
                    ddl = str(sa.schema.CreateTable(t).compile(dialect=engine.dialect)).strip()
                    head = f"CREATE TABLE {t.name} "
                    if not ddl.startswith(head):
                        raise RuntimeError(f"unexpected DDL for {t.name}: {ddl[:60]!r}")
                    conn.exec_driver_sql(f'CREATE TABLE "{temporary}" ' + ddl[len(head):])
                    conn.exec_driver_sql(f'INSERT INTO "{temporary}" ({columns}) SELECT {columns} FROM "{t.name}"')
                    conn.exec_driver_sql(f'DROP TABLE "{t.name}"')
                    conn.exec_driver_sql(f'ALTER TABLE "{temporary}" RENAME TO "{t.name}"')
                    for index in t.indexes:
                        index.create(conn)
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if problems:
                    raise RuntimeError(f"foreign keys broken by the AUTOINCREMENT migration: {problems[:3]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


# Columns added to a table after databases were made with it; each has a server default, so a
# database from before gets the column with that default for its rows (SQLite and PostgreSQL).
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (("workshops", "language"),)


def _add_missing_columns(engine: Engine) -> None:
    """ALTER TABLE … ADD COLUMN for each of ADDED_COLUMNS that an older database lacks, once."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        missing = [(t, c) for t, c in ADDED_COLUMNS
                   if c not in {col["name"] for col in inspector.get_columns(t)}]
        conn.commit()
        if not missing:
            return
        with conn.begin():
            for table_name, column_name in missing:
                column = metadata.tables[table_name].c[column_name]
                ddl = sa.schema.CreateColumn(column).compile(dialect=engine.dialect)
                conn.exec_driver_sql(f'ALTER TABLE "{table_name}" ADD COLUMN {ddl}')


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def get_store(url: str | None = None) -> Store:
    """The process-wide store for a URL (default: `default_database_url()`), made once."""
    url = url or default_database_url()
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store(url)
        return store
