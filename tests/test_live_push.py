"""Live screens by push: only what changed wakes, bursts are coalesced, nothing idle runs.

Three layers: the private Streamlit API the wake-up relies on (fails loudly when it moves), the
hub on its own (facilitation.live_hub, a real event loop, fake screens), and a real server with
protocol clients (bench/st_client.py) counting the script runs each screen receives.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from facilitation import live_hub, workshops as W
from streamlit_browser import facilitator_cookie_header, projector_query

ROOT = Path(__file__).resolve().parent.parent


# --- the private API ---------------------------------------------------------------------------------

def test_streamlit_is_pinned_exactly_to_the_version_whose_private_api_push_uses():
    import streamlit

    pins = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
            if re.match(r"streamlit\b", line.strip())]
    pins = [p.split("#")[0].strip() for p in pins]
    assert pins == [f"streamlit=={streamlit.__version__}"], (
        f"pages/live.py wakes screens through Streamlit's private API, checked against the pinned version; "
        f"requirements.txt says {pins}, installed is {streamlit.__version__}. Re-check pages/live.py, then move the pin.")


def test_the_private_streamlit_api_that_wakes_a_screen_is_where_pages_live_expects_it():
    """If this fails, Streamlit moved what pages/live.py uses: push would silently stop waking screens."""
    from streamlit.proto.ClientState_pb2 import ClientState
    from streamlit.runtime import Runtime
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.scriptrunner_utils.script_run_context import FragmentThreadState, ThreadState

    assert "fragment_id" in {f.name for f in __import__("dataclasses").fields(FragmentThreadState)}
    assert callable(ThreadState.get)
    assert list(inspect.signature(AppSession.request_rerun).parameters) == ["self", "client_state"]
    assert callable(Runtime.get_app_session) and callable(Runtime._get_async_objs) and callable(Runtime.exists)
    fields = set(ClientState.DESCRIPTOR.fields_by_name)
    assert {"query_string", "page_script_hash", "fragment_id", "is_auto_rerun", "widget_states"} <= fields
    src = inspect.getsource(AppSession.request_rerun)
    assert "has_fragment(fragment_id)" in src and "RerunData(" in src  # a gone fragment is dropped, not run whole
    from streamlit.runtime.runtime import AsyncObjects

    assert "eventloop" in AsyncObjects.__annotations__
    # A page still drawing is not woken (a full rerun request would preempt its run): the session's state.
    from streamlit.runtime.app_session import AppSessionState

    events = inspect.getsource(AppSession._handle_scriptrunner_event_on_event_loop)
    assert "self._state = AppSessionState.APP_IS_RUNNING" in events
    assert "self._state = AppSessionState.APP_NOT_RUNNING" in events
    assert "self._state = AppSessionState.APP_NOT_RUNNING" in inspect.getsource(AppSession.__init__)
    assert {s.name for s in AppSessionState} >= {"APP_IS_RUNNING", "APP_NOT_RUNNING"}
    # A fragment's own run, told from a run of the whole page (pages/live.py fragment_run_alone).
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    assert "fragment_ids_this_run" in {f.name for f in __import__("dataclasses").fields(ScriptRunContext)}
    runs = inspect.getsource(ScriptRunner._run_script)
    assert "if rerun_data.fragment_id_queue:" in runs and "fragment_ids_this_run=fragment_ids_this_run" in runs


def test_streamlit_settings_read_without_the_lock_are_the_settings_streamlit_reads(monkeypatch):
    """If this fails, Streamlit changed how it keeps its settings: pages/live.py's lock-free
    `get_option` would answer from the wrong place (or not at all)."""
    from streamlit import config

    from pages import live

    src = inspect.getsource(config.get_option)
    assert "_config_lock" in src and "get_config_options()" in src and ".value" in src
    assert "_config_options" in inspect.getsource(config.get_config_options)
    assert "config.get_option(" in inspect.getsource(__import__("streamlit.runtime.forward_msg_cache",
                                                                 fromlist=["x"]))
    monkeypatch.setattr(config, "get_option", config.get_option)  # put Streamlit's own back after the test
    locked = config.get_option
    live.read_config_without_lock()
    live.read_config_without_lock()  # twice: still one layer
    assert config.get_option is not locked and config.get_option.reads_without_lock
    for key in ("global.minCachedMessageSize", "server.baseUrlPath", "theme.base", "runner.fastReruns"):
        assert config.get_option(key) == locked(key)
    with pytest.raises(RuntimeError, match="not defined"):
        config.get_option("no.suchOption")
    # A new settings dict (a reparse) is read at once, without the lock.
    options = dict(config._config_options)
    options["server.baseUrlPath"] = __import__("types").SimpleNamespace(value="elsewhere")
    monkeypatch.setattr(config, "_config_options", options)
    assert config.get_option("server.baseUrlPath") == "elsewhere"


def test_orphaned_media_are_looked_for_at_most_once_a_second(monkeypatch):
    """If this fails, Streamlit no longer looks for orphaned media files where pages/live.py thins it out."""
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.scriptrunner import script_runner

    from pages import live

    assert "media_file_mgr.remove_orphaned_files()" in inspect.getsource(script_runner)
    assert "with self._lock" in inspect.getsource(MediaFileManager.remove_orphaned_files)
    looked = []

    class Manager:
        def remove_orphaned_files(self):
            looked.append(time.monotonic())

    manager = Manager()
    monkeypatch.setattr(live.Runtime, "instance", staticmethod(lambda: __import__("types").SimpleNamespace(
        media_file_mgr=manager)))
    live.thin_out_media_cleanup()
    live.thin_out_media_cleanup()  # twice: still one layer
    for _ in range(50):  # fifty script runs ending within a second: one look
        manager.remove_orphaned_files()
    assert len(looked) == 1
    monkeypatch.setattr(live, "MEDIA_CLEANUP_EVERY_S", 0.0)
    manager.remove_orphaned_files()
    assert len(looked) == 2


# --- the hub on its own ----------------------------------------------------------------------------------

class LoopThread:
    """The server's event loop, on a thread of its own."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def hub(store):
    loop = LoopThread()
    signature = {"value": ("open", 0)}
    h = live_hub.Hub(read_signature=lambda _store, _wid: (0, signature["value"]))
    h.attach(loop.loop)
    h.signature = signature
    yield h
    h.detach()
    loop.close()


class FakeScreen:
    def __init__(self):
        self.wakes: list[float] = []

    def __call__(self) -> bool:
        self.wakes.append(time.monotonic())
        return True


def follow(hub, store, wid, name, topics, revision=1, signature=None, min_interval=0.0) -> FakeScreen:
    screen = FakeScreen()
    hub.follow(store, wid, name, topics=frozenset(topics), revision=revision, wake=screen,
               signature=signature, min_interval=min_interval)
    return screen


def settle(seconds: float = 0.4) -> None:
    time.sleep(seconds)


def test_a_story_wakes_the_projector_and_the_console_not_the_phones(hub, store):
    projector = follow(hub, store, 7, "projector", W.TOPICS)
    console = follow(hub, store, 7, "console", W.TOPICS)
    phones = [follow(hub, store, 7, f"phone-{i}", {"live"}, signature=("open", 0)) for i in range(50)]
    hub.changed(store.url, 7, 2, frozenset({"stories"}))
    settle()
    assert len(projector.wakes) == 1 and len(console.wakes) == 1
    assert all(not p.wakes for p in phones)


def test_opening_an_exercise_wakes_every_phone_once(hub, store):
    phones = [follow(hub, store, 7, f"phone-{i}", {"live"}, signature=("waiting",)) for i in range(50)]
    hub.signature["value"] = ("open", 0)
    hub.changed(store.url, 7, 2, frozenset({"live"}))
    settle()
    assert [len(p.wakes) for p in phones] == [1] * 50
    # A change to the agenda that does not move what phones show (e.g. a spotlight) wakes none.
    for i, p in enumerate(phones):
        hub.follow(store, 7, f"phone-{i}", topics=frozenset({"live"}), revision=2, wake=p, signature=("open", 0))
    hub.changed(store.url, 7, 3, frozenset({"live"}))
    settle()
    assert [len(p.wakes) for p in phones] == [1] * 50


def test_a_burst_is_coalesced_and_its_last_change_is_always_drawn(hub, store):
    projector = follow(hub, store, 7, "projector", W.TOPICS, min_interval=0.5)
    for rev in range(2, 42):  # 40 joins in 10 ms
        hub.changed(store.url, 7, rev, frozenset({"people"}))
    settle()
    assert len(projector.wakes) == 1
    # 400 joins over 2 s: a few redraws (at most twice a second), and one after the last join.
    t0 = time.monotonic()
    for rev in range(42, 442):
        hub.changed(store.url, 7, rev, frozenset({"people"}))
        time.sleep(0.005)
    last_change = time.monotonic()
    settle(1.0)
    later = projector.wakes[1:]
    assert 2 <= len(later) <= 2 * (last_change - t0) + 2, len(later)
    assert later[-1] >= last_change - 0.05  # the trailing wake draws the end of the burst


def test_a_screen_drawn_during_a_change_is_woken_when_it_registers(hub, store):
    follow(hub, store, 7, "console", W.TOPICS, revision=5)
    hub.changed(store.url, 7, 6, frozenset({"stories"}))
    settle()
    late = follow(hub, store, 7, "projector", W.TOPICS, revision=5)  # drew revision 5 while 6 committed
    settle()
    assert len(late.wakes) == 1
    current = follow(hub, store, 7, "projector-2", W.TOPICS, revision=6)
    votes_only = follow(hub, store, 7, "vote-wall", {"stories"}, revision=5)  # 6 was a story: it missed it
    hub.changed(store.url, 7, 7, frozenset({"votes"}))
    settle()
    assert len(current.wakes) == 1 and len(votes_only.wakes) == 1
    again = follow(hub, store, 7, "vote-wall", {"stories"}, revision=6)  # votes since: nothing it shows
    settle()
    assert len(again.wakes) == 0


def test_a_screen_whose_wake_was_lost_is_woken_again_by_the_sweep_and_an_up_to_date_one_is_not(store, monkeypatch):
    monkeypatch.setattr(live_hub, "SWEEP_S", 0.2)
    loop = LoopThread()
    hub = live_hub.Hub(read_signature=lambda _store, _wid: (2, ("open", 0)))
    hub.attach(loop.loop)
    try:
        projector = follow(hub, store, 7, "projector", W.TOPICS)
        up_to_date = follow(hub, store, 7, "votes-only", {"votes"})  # a story is nothing it shows
        hub.changed(store.url, 7, 2, frozenset({"stories"}))
        settle(0.1)
        assert len(projector.wakes) == 1  # woken, but it never redraws (the rerun was lost on the way)
        settle(0.5)
        assert len(projector.wakes) >= 2 and not up_to_date.wakes
        hub.follow(store, 7, "projector", topics=W.TOPICS, revision=2, wake=projector)  # it drew at last
        drawn = len(projector.wakes)
        settle(0.5)
        assert len(projector.wakes) == drawn
    finally:
        hub.detach()
        loop.close()


def test_a_screen_still_drawing_is_woken_once_its_run_is_over_never_in_the_middle_of_it(hub, store):
    drawing = {"runs": 2}  # the screen is busy for the next two looks
    wakes: list[float] = []

    def wake():
        if drawing["runs"]:
            drawing["runs"] -= 1
            return live_hub.BUSY
        wakes.append(time.monotonic())
        return True

    hub.follow(store, 9, "projector", topics=W.TOPICS, revision=1, wake=wake, min_interval=0.5)
    hub.changed(store.url, 9, 2, frozenset({"stories"}))
    settle(live_hub.COALESCE_S + live_hub.BUSY_RETRY_S / 2)
    assert wakes == [] and hub.stats["busy"] >= 1  # asked while it draws: not woken
    settle(0.4)
    assert len(wakes) == 1 and drawing["runs"] == 0  # woken as soon as it was done, and once
    hub.follow(store, 9, "projector", topics=W.TOPICS, revision=2, wake=wake, min_interval=0.5)  # it drew it
    settle(0.3)
    assert len(wakes) == 1


def test_commits_in_this_process_reach_the_hub_with_their_topics(hub, store, make_workshop, make_participant, answers):
    workshop, _ = make_workshop()
    rev = W.revision(store, workshop.id)
    projector = follow(hub, store, workshop.id, "projector", W.TOPICS, revision=rev)
    wall = follow(hub, store, workshop.id, "vote-wall", {"stories"}, revision=rev)
    ann = make_participant(workshop)  # "people": the projector, not the wall
    settle()
    assert (len(projector.wakes), len(wall.wakes)) == (1, 0)
    W.open_exercise(store, workshop.id, 0)
    settle()
    assert W.submit_story(store, ann, "over_the_wall", answers(), "k1").ok
    settle()
    assert len(wall.wakes) == 1
    assert hub.revision(store.url, workshop.id) in (None, W.revision(store, workshop.id))


def test_a_rolled_back_write_wakes_nothing(hub, store, make_workshop):
    workshop, _ = make_workshop()
    projector = follow(hub, store, workshop.id, "projector", W.TOPICS, revision=W.revision(store, workshop.id))
    with pytest.raises(RuntimeError):
        with store.write() as conn:
            W._bump(conn, workshop.id, "stories")
            raise RuntimeError("refused")
    settle()
    assert projector.wakes == []


def test_sqlite_changes_from_another_process_are_heard_by_the_watcher(hub, sqlite_store, make_workshop):
    from facilitation.store import Store

    other_process = Store(sqlite_store.url)  # no listener of ours on this one's commits
    workshop, _ = W.create_workshop(sqlite_store, title="Watched", agenda_plan=[("over_the_wall", 15)])
    projector = follow(hub, sqlite_store, workshop.id, "projector", W.TOPICS, revision=W.revision(sqlite_store, workshop.id))
    live_hub.store_module.COMMIT_LISTENERS.remove(hub.changed_from_commit)  # as if written elsewhere
    try:
        t0 = time.monotonic()
        W.join_workshop(other_process, workshop.code, "Ann", "Sales")
        for _ in range(40):
            if projector.wakes:
                break
            time.sleep(0.05)
    finally:
        live_hub.store_module.COMMIT_LISTENERS.append(hub.changed_from_commit)
        other_process.dispose()
    assert projector.wakes and projector.wakes[0] - t0 < 1.0
    assert hub.revision(sqlite_store.url, workshop.id) == W.revision(sqlite_store, workshop.id)


@pytest.mark.postgres
def test_postgresql_notifies_other_processes_after_commit_only(pg_database):
    """Replica B's hub hears replica A's commit through LISTEN/NOTIFY; a rolled-back write sends nothing."""
    from facilitation.store import Store

    a, b = Store(pg_database), Store(pg_database)
    loop = LoopThread()
    hub_b = live_hub.Hub(read_signature=lambda _s, _w: (0, ()))
    hub_b.attach(loop.loop)
    live_hub.store_module.COMMIT_LISTENERS.remove(hub_b.changed_from_commit)  # hear only the database
    try:
        workshop, _ = W.create_workshop(a, title="Replicas", agenda_plan=[("over_the_wall", 15)])
        projector = follow(hub_b, b, workshop.id, "projector", W.TOPICS, revision=W.revision(b, workshop.id))
        for _ in range(100):
            if hub_b.revision(b.url, workshop.id) is not None:
                break
            time.sleep(0.05)
        with pytest.raises(RuntimeError):
            with a.write() as conn:
                W._bump(conn, workshop.id, "stories")
                raise RuntimeError("rolled back")
        time.sleep(0.3)
        assert projector.wakes == []
        t0 = time.monotonic()
        W.join_workshop(a, workshop.code, "Ann", "Sales")
        for _ in range(100):
            if projector.wakes:
                break
            time.sleep(0.01)
        assert projector.wakes and projector.wakes[0] - t0 < 0.5
        assert hub_b.revision(b.url, workshop.id) == W.revision(a, workshop.id)
        assert hub_b.stats["notifications"] >= 1
    finally:
        hub_b.detach()
        loop.close()
        a.dispose()
        b.dispose()


# --- a real server, protocol clients ---------------------------------------------------------------------

def run_async(coro):
    # Playwright's sync API may hold this thread's event loop: the protocol clients get their own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


STORY = dict(stage="Onboarding", promise="A named onboarding manager.", experience="",
             next_function="Support", lost="Who the champion is.", gap=4)


@pytest.mark.browser
def test_idle_screens_run_nothing_and_a_story_wakes_the_projector_not_the_phones(app_server, app_store):
    from bench.st_client import StreamlitClient

    workshop, key = W.create_workshop(app_store, title="Push", agenda_plan=[("over_the_wall", 15)])
    people = [W.join_workshop(app_store, workshop.code, f"P{i}", "Sales") for i in range(3)]
    W.open_exercise(app_store, workshop.id, 0)
    seen: dict[str, float] = {}

    def on_delta(_client, _kind, element, now):
        for token in re.findall(r"PUSH-[0-9a-f]{8}", str(element)):
            seen.setdefault(token, now)

    async def session():
        projector = StreamlitClient(app_server, "projector", urlencode(projector_query(app_store, workshop)), name="projector",
                                    on_delta=on_delta)
        console = StreamlitClient(app_server, "console", f"code={workshop.code}", name="console",
                                  cookie=facilitator_cookie_header(workshop, key))
        phones = [StreamlitClient(app_server, "participate", f"code={workshop.code}&p={p.token}", name=f"phone{i}")
                  for i, p in enumerate(people)]
        clients = [projector, console, *phones]
        try:
            for c in clients:
                await c.connect()
            await asyncio.sleep(1.5)  # the hub's first watch of this workshop
            idle_from = [c.run_counter for c in clients]
            await asyncio.sleep(6)  # the old code polled every 2 s: 3 runs per screen here
            idle_runs = [c.run_counter - n for c, n in zip(clients, idle_from)]
            before = [c.run_counter for c in clients]
            token = f"PUSH-{time.time_ns() % 16**8:08x}"
            sent = time.perf_counter()
            result = await asyncio.to_thread(W.submit_story, app_store, people[0], "over_the_wall",
                                             dict(STORY, experience=f"{token} six weeks for a template"), token)
            assert result.ok, result.problems
            for _ in range(100):
                if token in seen:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(1.0)
            woken = [c.run_counter - n for c, n in zip(clients, before)]
            return idle_runs, woken, seen.get(token, float("inf")) - sent, [e for c in clients for e in c.errors]
        finally:
            for c in clients:
                await c.close()

    idle_runs, woken, visible_after, errors = run_async(session())
    assert not errors, errors
    assert idle_runs == [0] * 5, f"idle screens ran scripts: {idle_runs}"
    assert visible_after < 1.5, visible_after  # heard by the SQLite watcher (written by this test process)
    projector_runs, console_runs, *phone_runs = woken
    assert projector_runs >= 1 and console_runs >= 1
    assert phone_runs == [0, 0, 0], phone_runs


@pytest.mark.browser
def test_opening_an_exercise_redraws_each_phone_once(app_server, app_store):
    from bench.st_client import FINISHED_SUCCESSFULLY, StreamlitClient

    workshop, key = W.create_workshop(app_store, title="Push open", agenda_plan=[("over_the_wall", 15)])
    people = [W.join_workshop(app_store, workshop.code, f"P{i}", "Sales") for i in range(3)]

    async def session():
        console = StreamlitClient(app_server, "console", f"code={workshop.code}", name="console",
                                  cookie=facilitator_cookie_header(workshop, key))
        phones = [StreamlitClient(app_server, "participate", f"code={workshop.code}&p={p.token}", name=f"phone{i}")
                  for i, p in enumerate(people)]
        try:
            for c in (console, *phones):
                await c.connect()
            await asyncio.sleep(1.0)
            before = [len([r for r in p.runs if not r.is_fragment]) for p in phones]
            done = console.expect_run(lambda r: not r.is_fragment and r.status == FINISHED_SUCCESSFULLY)
            t0 = time.perf_counter()
            await console.click_button(console.find_widget("button", id_contains="open-0"))
            await asyncio.wait_for(done, 20)
            followed = []
            for p in phones:
                for _ in range(200):
                    if p.find_widget("button", id_contains="send-"):
                        followed.append(time.perf_counter() - t0)
                        break
                    await asyncio.sleep(0.02)
            await asyncio.sleep(2.0)
            full_runs = [len([r for r in p.runs if not r.is_fragment]) - b for p, b in zip(phones, before)]
            return followed, full_runs, [e for c in (console, *phones) for e in c.errors]
        finally:
            for c in (console, *phones):
                await c.close()

    followed, full_runs, errors = run_async(session())
    assert not errors, errors
    assert len(followed) == 3 and max(followed) < 2.0, followed  # a click in this process: no watcher delay
    assert full_runs == [1, 1, 1], full_runs


@pytest.mark.browser
def test_a_stream_of_stories_never_keeps_the_projector_restarting_and_it_shows_the_last_one_promptly(app_server, app_store):
    """Stories landing while the projector draws used to restart its run (a rerun from inside the run, or a
    wake in the middle of it): at a room's pace it finished almost none. Now each run finishes and the
    hub wakes it again once it is over."""
    from bench.st_client import FINISHED_EARLY_FOR_RERUN, FINISHED_SUCCESSFULLY, StreamlitClient

    workshop, key = W.create_workshop(app_store, title="Stream", agenda_plan=[("over_the_wall", 15)])
    people = [W.join_workshop(app_store, workshop.code, f"P{i}", "Sales") for i in range(60)]
    W.open_exercise(app_store, workshop.id, 0)
    seen: dict[str, float] = {}

    def on_delta(_client, _kind, element, now):
        for token in re.findall(r"STREAM-\d{3}", str(element)):
            seen.setdefault(token, now)

    async def session():
        projector = StreamlitClient(app_server, "projector", urlencode(projector_query(app_store, workshop)),
                                    name="projector", on_delta=on_delta)
        try:
            await projector.connect()
            await asyncio.sleep(1.5)
            before = dict(projector.finished)

            def tell_all():
                for i, person in enumerate(people):
                    result = W.submit_story(app_store, person, "over_the_wall",
                                            dict(STORY, experience=f"STREAM-{i:03d} waited for a template"), f"stream-{i}")
                    assert result.ok, result.problems
                    time.sleep(0.025)  # ~40 stories a second, as a room at a deadline
                return time.perf_counter()

            last_sent = await asyncio.to_thread(tell_all)
            for _ in range(150):
                if "STREAM-059" in seen:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)
            ran = {s: projector.finished.get(s, 0) - before.get(s, 0) for s in (FINISHED_SUCCESSFULLY, FINISHED_EARLY_FOR_RERUN)}
            return ran, seen.get("STREAM-059", float("inf")) - last_sent, projector.errors
        finally:
            await projector.close()

    ran, last_visible_after, errors = run_async(session())
    assert not errors, errors
    from bench.st_client import FINISHED_EARLY_FOR_RERUN, FINISHED_SUCCESSFULLY

    assert ran[FINISHED_SUCCESSFULLY] >= 3, ran  # it kept drawing the stream (about twice a second)
    assert ran[FINISHED_EARLY_FOR_RERUN] <= 1, ran  # and finished what it started
    assert last_visible_after < 2.0, last_visible_after
