"""Push for live screens: per server process, which screens show which workshop, and what wakes them.

A live screen (the projector, the console, a phone's "what is the room on", a phone's vote wall)
registers with `follow(...)` each time it draws: the workshop, the revision it drew, the topics
it shows (facilitation.workshops.TOPICS: "live", "people", "stories", "votes") and a `wake`
callable. When a change to that workshop commits, the hub wakes only the screens that show what
changed:

* a change is heard from this process's own commits (store.COMMIT_LISTENERS, at once), from the
  other replicas through PostgreSQL LISTEN/NOTIFY (one listener per process), or, on SQLite, from
  one watcher thread that reads the revisions of the watched workshops every WATCH_S;
* changes within COALESCE_S are pushed once, with the union of their topics;
* a screen with a `signature` (a phone following the live exercise) is woken only when the live
  exercise's signature differs from the one it drew: one read per change per process decides
  it for the whole room, so a join or a story moves no phone, and opening an exercise moves each
  phone once;
* a screen still drawing is not woken until its run is over (`wake` says BUSY): a rerun request
  would throw the run away and start it again;
* a screen is woken at most once per its `min_interval` (the projector twice a second, the
  console once a second): a burst of 400 joins redraws them a few times, not 400 times;
  the last change of a burst is always drawn (a trailing wake);
* a screen that registers after a change it did not draw (it was drawn during the change) is
  woken at once;
* every SWEEP_S the hub looks over every screen it knows and wakes those that drew less than what
  it has heard since (a wake lost on the way): the server-side safety net, which costs no script
  run for a screen that is up to date. The browser's own slow poll stays as the last one.

How a screen is woken (a Streamlit rerun) is the caller's business (pages/live.py); this module
has no Streamlit import. Everything that schedules runs on the server's event loop (`attach`),
and `changed()` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Hashable

from . import store as store_module
from .workshops import TOPICS, live_exercise

COALESCE_S = 0.075
WATCH_S = 0.5  # SQLite: how often the watcher thread reads the watched workshops' revisions
FRESH_FOR_S = 3 * WATCH_S  # a watcher silent for longer than this no longer vouches for revisions
MAX_ROOMS = 1000
SWEEP_S = 10.0
# Pages redrawn after a story sent by POST (facilitation/sending.py): at most this many a second, so
# a room sending at a deadline does not bury the projector's and the console's runs under its own.
REDRAWS_PER_S = 20.0
REDRAWS_PER_S_WHILE_SENDING = 8.0  # while stories keep arriving (one asked for in the last SENDING_S)
SENDING_S = 0.5
# A screen still drawing is not woken (a rerun request would throw its run away and start again: a
# projector woken twice a second while each of its runs took longer, under a room's load, never
# finished one). Its wake waits; this often it looks again.
BUSY_RETRY_S = 0.05
BUSY = "busy"  # what a `wake` returns for a screen whose last run has not finished

_log = logging.getLogger(__name__)


@dataclass
class Screen:
    """One live fragment of one browser tab."""

    key: Hashable
    topics: frozenset[str]
    revision: int  # the workshop revision this screen drew
    wake: Callable[[], bool | str]  # on the event loop; False when the screen is gone, BUSY while it draws
    signature: tuple | None = None
    min_interval: float = 0.0
    last_woken: float = float("-inf")
    trailing: bool = False  # a wake is scheduled for the end of min_interval


@dataclass
class Room:
    """One workshop of one store, as this process knows it."""

    url: str
    workshop_id: int
    revision: int = 0
    screens: dict[Hashable, Screen] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    scheduled: bool = False
    moved: dict[str, int] = field(default_factory=dict)  # topic -> revision of the last change that touched it
    live_signature: tuple | None = None  # the live exercise's signature as last read, at live_revision
    live_revision: int = -1
    checking_live: bool = False
    check_again: bool = False


class Hub:
    """The per-process registry. One instance (`hub`) serves the app; tests make their own."""

    def __init__(self, read_signature: Callable[[store_module.Store, int], tuple[int, tuple]] | None = None):
        self._lock = threading.Lock()
        self._rooms: dict[tuple[str, int], Room] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stores: dict[str, store_module.Store] = {}
        self._heard: dict[str, float] = {}  # store url -> monotonic time its watcher/listener last vouched
        self._watcher: threading.Thread | None = None
        self._listeners: dict[str, asyncio.Task] = {}
        self._stop = threading.Event()
        self._read_signature = read_signature or _read_signature
        self._sweep_loop: asyncio.AbstractEventLoop | None = None
        self._redraws: OrderedDict[tuple[str, int, Hashable], None] = OrderedDict()
        self._redrawing = False
        self._last_redraw_asked = float("-inf")
        self.stats = {"busy": 0, "redraws": 0, "sweep_wakes": 0, "changes": 0, "dispatches": 0, "wakes": 0, "trailing_wakes": 0, "live_reads": 0,
                      "gone": 0, "notifications": 0, "watch_reads": 0}

    # --- wiring ---------------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Use the server's event loop from now on (st.App's lifespan)."""
        self._loop = loop
        if self.changed_from_commit not in store_module.COMMIT_LISTENERS:
            store_module.COMMIT_LISTENERS.append(self.changed_from_commit)
        if self._sweep_loop is not loop:
            self._sweep_loop = loop
            loop.call_soon_threadsafe(loop.call_later, SWEEP_S, self._sweep, loop)

    def detach(self) -> None:
        self._stop.set()
        for task in self._listeners.values():
            task.cancel()
        self._listeners.clear()
        if self.changed_from_commit in store_module.COMMIT_LISTENERS:
            store_module.COMMIT_LISTENERS.remove(self.changed_from_commit)
        self._loop = None
        self._sweep_loop = None
        with self._lock:
            self._redraws.clear()
            self._redrawing = False

    @property
    def attached(self) -> bool:
        return self._loop is not None and not self._loop.is_closed()

    # --- screens ----------------------------------------------------------------------------------

    def follow(self, store: store_module.Store, workshop_id: int, key: Hashable, *, topics: frozenset[str],
               revision: int, wake: Callable[[], bool | str], signature: tuple | None = None,
               min_interval: float = 0.0) -> None:
        """Register (or refresh) a screen; call each time it draws. Any thread."""
        assert topics <= TOPICS, topics
        if not self.attached:
            return
        self._watch(store)
        recheck = False
        with self._lock:
            room = self._room(store.url, workshop_id)
            old = room.screens.get(key)
            screen = Screen(key, frozenset(topics), revision, wake, signature, min_interval)
            if old is not None:
                screen.last_woken, screen.trailing = old.last_woken, old.trailing
            room.screens[key] = screen
            if revision > room.revision:
                room.revision = revision
            # Drawn during a change that touched what it shows: that change may have passed it by.
            recheck = any(room.moved.get(t, 0) > revision for t in topics)
        if recheck:
            self._loop.call_soon_threadsafe(self._recheck, room, key)

    def unfollow(self, store: store_module.Store, workshop_id: int, key: Hashable) -> None:
        with self._lock:
            room = self._rooms.get((store.url, workshop_id))
            if room is not None:
                room.screens.pop(key, None)

    def redraw(self, url: str, workshop_id: int, key: Hashable) -> float:
        """Wake one screen (by the key it follows with) soon, whatever it drew: its own page changed (a
        story it sent by POST). Paced at REDRAWS_PER_S across the process, oldest first, each screen
        once however often it asks (REDRAWS_PER_S_WHILE_SENDING while more keep coming). Any thread; returns
        about how many seconds the wait is (-1: no push)."""
        if not self.attached:
            return -1.0
        return self._queue_redraw(url, workshop_id, key, asked=True)

    def _queue_redraw(self, url: str, workshop_id: int, key: Hashable, *, asked: bool) -> float:
        # `asked`: a story just came in (a retry of a screen that was busy is not one: it keeps no room "sending").
        with self._lock:
            self._redraws[(url, workshop_id, key)] = None
            if asked:
                self._last_redraw_asked = time.monotonic()
            waiting = len(self._redraws)
            start = not self._redrawing
            self._redrawing = True
        if start:
            self._loop.call_soon_threadsafe(self._redraw_next)
        return waiting / REDRAWS_PER_S

    def _redraw_next(self) -> None:
        loop = self._loop
        with self._lock:
            if not self._redraws or loop is None or loop.is_closed():
                self._redrawing = False
                return
            (url, workshop_id, key), _ = self._redraws.popitem(last=False)
            room = self._rooms.get((url, workshop_id))
            screen = room.screens.get(key) if room is not None else None
        if screen is None:  # that tab is gone (or never followed here): the next one at once
            loop.call_soon(self._redraw_next)
            return
        try:
            alive = screen.wake()
        except Exception:
            _log.exception("redrawing a screen failed")
            alive = False
        if alive == BUSY:  # its run is not over: its turn comes again a little later, the next one now
            loop.call_later(BUSY_RETRY_S, lambda: self.attached and self._queue_redraw(url, workshop_id, key, asked=False))
            loop.call_soon(self._redraw_next)
            return
        screen.last_woken = loop.time()
        self.stats["redraws"] += 1
        if not alive:
            with self._lock:
                if room.screens.get(key) is screen:
                    del room.screens[key]
        # A room still sending (a deadline): its Sends come first, the fresh forms a little later.
        sending = time.monotonic() - self._last_redraw_asked < SENDING_S
        loop.call_later(1 / (REDRAWS_PER_S_WHILE_SENDING if sending else REDRAWS_PER_S), self._redraw_next)

    def screens(self, url: str, workshop_id: int) -> int:
        with self._lock:
            room = self._rooms.get((url, workshop_id))
            return len(room.screens) if room else 0

    # --- what the process knows -------------------------------------------------------------------

    def revision(self, url: str, workshop_id: int) -> int | None:
        """The workshop's revision if this process is sure it is current (its watcher or listener
        vouched within FRESH_FOR_S and the workshop is watched), else None: read the database."""
        heard = self._heard.get(url)
        if heard is None or time.monotonic() - heard > FRESH_FOR_S:
            return None
        with self._lock:
            room = self._rooms.get((url, workshop_id))
            return room.revision if room is not None and room.screens else None

    def moved(self, url: str, workshop_id: int, topic: str) -> int | None:
        """The revision of the last change to `topic` of the workshop this process heard of, if it is
        sure to have heard every change (as `revision`), else None. 0: none since it started watching."""
        if self.revision(url, workshop_id) is None:
            return None
        with self._lock:
            room = self._rooms.get((url, workshop_id))
            return room.moved.get(topic, 0) if room is not None else None

    # --- changes ------------------------------------------------------------------------------------

    def changed_from_commit(self, store: store_module.Store, bumps: dict[int, tuple[int, frozenset[str]]]) -> None:
        """store.COMMIT_LISTENERS entry: this process committed these bumps."""
        for workshop_id, (revision, topics) in bumps.items():
            self.changed(store.url, workshop_id, revision, topics)

    def changed(self, url: str, workshop_id: int, revision: int, topics: frozenset[str] = TOPICS) -> None:
        """Workshop `workshop_id` of store `url` reached `revision` because `topics` changed. Any thread;
        a revision already known (our own NOTIFY coming back, a watcher behind a commit) is ignored."""
        with self._lock:
            room = self._rooms.get((url, workshop_id))
            if room is None or revision <= room.revision:
                if room is not None:  # known already (a screen drew it first): still say what it moved
                    for t in topics:
                        room.moved[t] = max(room.moved.get(t, 0), revision)
                if room is None and len(self._rooms) < MAX_ROOMS:
                    room = self._room(url, workshop_id)  # nobody shows it yet: just remember
                    room.revision = revision
                return
            room.revision = revision
            for t in topics:
                room.moved[t] = revision
            self.stats["changes"] += 1
            room.pending |= topics
            if room.scheduled or not room.screens:
                if not room.screens:
                    room.pending.clear()
                return
            room.scheduled = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.call_later, COALESCE_S, self._dispatch, room)

    def _room(self, url: str, workshop_id: int) -> Room:  # under self._lock
        room = self._rooms.get((url, workshop_id))
        if room is None:
            if len(self._rooms) >= MAX_ROOMS:  # forget the oldest rooms nobody watches
                for k in [k for k, r in self._rooms.items() if not r.screens][: MAX_ROOMS // 10 or 1]:
                    del self._rooms[k]
            room = self._rooms[(url, workshop_id)] = Room(url, workshop_id)
        return room

    # --- on the event loop --------------------------------------------------------------------------

    def _dispatch(self, room: Room) -> None:
        with self._lock:
            topics, room.pending, room.scheduled = set(room.pending), set(), False
            touched = [s for s in room.screens.values() if s.topics & topics]
        self.stats["dispatches"] += 1
        plain = [s for s in touched if s.signature is None]
        for screen in plain:
            self._wake(room, screen)
        if len(plain) < len(touched):
            self._check_live(room)

    def _check_live(self, room: Room) -> None:
        """Read the live exercise once (off the loop), then wake the screens whose signature differs.
        Single-flight: asked again during a read, it reads once more when that read is back."""
        if room.checking_live:
            room.check_again = True
            return
        room.checking_live, room.check_again = True, False
        store = self._stores.get(room.url)

        def read():
            try:
                return self._read_signature(store, room.workshop_id)
            except Exception:
                _log.exception("reading the live exercise failed")
                return None

        def done(result) -> None:
            room.checking_live = False
            if result is not None:
                self.stats["live_reads"] += 1
                room.live_revision, room.live_signature = result
                with self._lock:
                    stale = [s for s in room.screens.values() if s.signature is not None and s.signature != result[1]]
                for screen in stale:
                    self._wake(room, screen)
            if room.check_again:
                self._check_live(room)

        def back(fut: asyncio.Future) -> None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(done, fut.result())

        self._loop.run_in_executor(None, read).add_done_callback(back)

    def _recheck(self, room: Room, key: Hashable) -> None:
        screen = room.screens.get(key)
        if screen is None:
            return
        if screen.signature is None:
            self._wake(room, screen)
        elif room.live_revision >= room.moved.get("live", 0) and room.live_signature is not None:
            if screen.signature != room.live_signature:
                self._wake(room, screen)
        else:
            self._check_live(room)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """The server-side safety net (SWEEP_S): wake every screen that drew less than what is known."""
        if self._sweep_loop is not loop or self._loop is not loop or loop.is_closed():
            return
        try:
            with self._lock:
                rooms = [(r, list(r.screens.values())) for r in self._rooms.values() if r.screens]
            for room, screens in rooms:
                following = [s for s in screens if s.signature is not None]
                if following and room.live_revision < room.moved.get("live", 0):
                    self._check_live(room)  # reads once, then wakes the phones that differ
                    following = []
                for screen in [s for s in screens if s.signature is None] + following:
                    if self._stale(room, screen):
                        self.stats["sweep_wakes"] += 1
                        self._wake(room, screen)
        except Exception:
            _log.exception("the safety-net sweep failed")
        finally:
            loop.call_later(SWEEP_S, self._sweep, loop)

    @staticmethod
    def _stale(room: Room, screen: Screen) -> bool:
        """Whether the screen drew less than what is known now (checked again when a delayed wake is due:
        the screen may have redrawn since, on its own or woken by an earlier change)."""
        if screen.signature is not None:
            return screen.signature != room.live_signature or room.live_revision < room.moved.get("live", 0)
        return any(room.moved.get(t, 0) > screen.revision for t in screen.topics)

    def _wake(self, room: Room, screen: Screen) -> None:
        if not self._stale(room, screen):
            return
        now = self._loop.time()
        wait = screen.last_woken + screen.min_interval - now
        if wait > 0:
            if not screen.trailing:
                screen.trailing = True
                self._loop.call_later(wait, self._trailing_wake, room, screen.key)
            return
        try:
            alive = screen.wake()
        except Exception:
            _log.exception("waking a screen failed")
            alive = False
        if alive == BUSY:
            self.stats["busy"] += 1
            if not screen.trailing:
                screen.trailing = True
                self._loop.call_later(BUSY_RETRY_S, self._trailing_wake, room, screen.key)
            return
        screen.last_woken = now
        self.stats["wakes"] += 1
        if not alive:
            self.stats["gone"] += 1
            with self._lock:
                if room.screens.get(screen.key) is screen:
                    del room.screens[screen.key]

    def _trailing_wake(self, room: Room, key: Hashable) -> None:
        screen = room.screens.get(key)
        if screen is None:
            return
        screen.trailing = False
        self.stats["trailing_wakes"] += 1
        self._wake(room, screen)

    # --- hearing other processes ----------------------------------------------------------------------

    def _watch(self, store: store_module.Store) -> None:
        if store.url in self._stores:
            return
        with self._lock:
            if store.url in self._stores:
                return
            self._stores[store.url] = store
        if store.notify_channel:
            self._loop.call_soon_threadsafe(self._start_listener, store)
        elif self._watcher is None:
            self._watcher = threading.Thread(target=self._watch_sqlite, name="live-hub-watch", daemon=True)
            self._watcher.start()

    def _watch_sqlite(self) -> None:
        """One thread for every SQLite store of the process: the watched workshops' revisions, every WATCH_S."""
        import sqlalchemy as sa

        while not self._stop.wait(WATCH_S):
            for url, store in list(self._stores.items()):
                if not store.is_sqlite:
                    continue
                with self._lock:
                    ids = [wid for (u, wid), r in self._rooms.items() if u == url and r.screens]
                try:
                    if ids:
                        with store.read() as conn:
                            rows = conn.execute(sa.select(store_module.workshops.c.id, store_module.workshops.c.revision)
                                                .where(store_module.workshops.c.id.in_(ids))).all()
                        self.stats["watch_reads"] += 1
                        for wid, rev in rows:
                            self.changed(url, wid, rev)
                    self._heard[url] = time.monotonic()
                except Exception:
                    _log.exception("watching %s failed", url)

    def _start_listener(self, store: store_module.Store) -> None:
        self._listeners[store.url] = self._loop.create_task(self._listen(store))

    async def _listen(self, store: store_module.Store) -> None:
        """PostgreSQL: LISTEN on the store's channel, one connection per process, reconnecting on loss."""
        import psycopg

        url = store.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        delay = 0.5
        while not self._stop.is_set():
            try:
                aconn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                try:
                    await aconn.execute(f'LISTEN "{store.notify_channel}"')
                    self._heard[store.url] = time.monotonic()
                    delay = 0.5
                    # A change committed while we were not listening: read the watched revisions once.
                    await asyncio.get_running_loop().run_in_executor(None, self._catch_up, store)
                    while not self._stop.is_set():
                        async for note in aconn.notifies(timeout=FRESH_FOR_S / 2):
                            self.stats["notifications"] += 1
                            self._heard[store.url] = time.monotonic()
                            try:
                                wid, rev, topics = note.payload.split(":", 2)
                                self.changed(store.url, int(wid), int(rev),
                                             frozenset(t for t in topics.split(",") if t in TOPICS) or TOPICS)
                            except ValueError:
                                _log.warning("unreadable notification %r", note.payload)
                        await aconn.execute("SELECT 1")  # still connected: keep vouching
                        self._heard[store.url] = time.monotonic()
                finally:
                    self._heard.pop(store.url, None)
                    await aconn.close()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.warning("listening for changes on PostgreSQL failed; retrying in %.1f s", delay, exc_info=True)
                self._heard.pop(store.url, None)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _catch_up(self, store: store_module.Store) -> None:
        import sqlalchemy as sa

        with self._lock:
            ids = [wid for (u, wid), r in self._rooms.items() if u == store.url]
        if not ids:
            return
        with store.read() as conn:
            rows = conn.execute(sa.select(store_module.workshops.c.id, store_module.workshops.c.revision)
                                .where(store_module.workshops.c.id.in_(ids))).all()
        for wid, rev in rows:
            self.changed(store.url, wid, rev)


def _read_signature(store: store_module.Store, workshop_id: int) -> tuple[int, tuple]:
    live = live_exercise(store, workshop_id)
    return live.revision, live.signature


hub = Hub()
