"""A virtual browser for Streamlit: speaks the `/_stcore/stream` websocket protocol as the frontend does.

Used by bench/load.py, bench/floor.py and tests/test_replicas.py. What it does, and where the
browser does the same (Streamlit 1.67 frontend, `App.sendRerunBackMsg`, `WidgetStateManager`):

* Page load: GET the page, `/_stcore/health` and `/_stcore/host-config` (the browser's
  PINGING_SERVER step), then open the websocket with subprotocol "streamlit" and
  permessage-deflate (as Chromium does), and send the first `BackMsg.rerun_script` with the
  page's query string, `page_script_hash=""` and `page_name` = the path ("participate"),
  plus `context_info` (timezone, locale, url, colour scheme).
* Every later rerun carries the `page_script_hash` from the last `new_session` and the query
  string from the last `page_info_changed` (st.query_params, st.switch_page), the committed
  widget states and the hashes of the cacheable messages it holds (`cached_message_hashes`);
  a `ref_hash` message from the server is resolved from that cache, as the browser does.
* Push: the server may start a run the client did not ask for (it reruns a live fragment when
  what it shows changed); the client takes it as any other run, as the browser does. The
  `auto_rerun` interval the server sends is then only the slow safety net.
* `auto_rerun{fragment_id, interval}` starts a timer that sends `rerun_script` with
  `fragment_id` and `is_auto_rerun=True` every `interval` seconds (`setInterval` in the
  browser); a full run's `new_session` clears all timers (`cleanupAutoReruns`), and
  `stop_auto_rerun` clears the ones it names.
* Widgets: form widgets hold their values in the form until its submit button is pressed;
  then the values and a one-shot `trigger_value` for the button go in one rerun
  (`WidgetStateManager.submitForm`). After a full run, states of widgets the run did not
  draw are dropped (`removeInactive`). Widget ids are the ones the server sent in the deltas.
* Elements the server sends images for (`st.image`) are fetched over HTTP from `/media/...`
  when `fetch_media=True` (the projector's QR code), as an <img> tag would.

Everything is bounded: every wait has a timeout, the message cache keeps only what the last
two runs used, and `close()` cancels every timer.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED_SUCCESSFULLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
FINISHED_EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
FINISHED_FRAGMENT = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
FINISHED_COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR")
ALERT_ERROR, ALERT_WARNING, ALERT_SUCCESS = 1, 2, 4
WIDGET_KINDS = {"button", "text_input", "text_area", "selectbox", "radio", "checkbox", "date_input",
                "number_input", "multiselect", "slider", "download_button", "button_group", "chat_input"}
CACHE_MAX_AGE_RUNS = 2  # the frontend's default maxCachedMessageAge


class ClientError(RuntimeError):
    """Something a browser user would see as broken (a disconnect, an exception, a timeout)."""


@dataclass
class Run:
    """One script run as the client saw it: from new_session to script_finished."""

    run_id: str
    fragment_ids: tuple[str, ...]
    started: float
    finished: float | None = None
    status: int | None = None
    alerts: list[tuple[int, str]] = field(default_factory=list)  # (format, body)
    exceptions: list[str] = field(default_factory=list)
    widget_ids: set[str] = field(default_factory=set)
    n_deltas: int = 0
    auto_rerun_sent: float | None = None  # the earliest auto-rerun request this fragment run answers

    @property
    def is_fragment(self) -> bool:
        return bool(self.fragment_ids)


async def http_get(base_url: str, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """A minimal HTTP/1.1 GET over loopback (no dependency beyond asyncio); returns (status, body)."""
    parts = urllib.parse.urlsplit(base_url)
    host, port = parts.hostname, parts.port or 80

    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
                         f"Accept: */*\r\nUser-Agent: story-relay-bench\r\n\r\n".encode())
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        if b"transfer-encoding: chunked" in head.lower():
            body = _dechunk(body)
        return status, body

    return await asyncio.wait_for(go(), timeout)


async def http_post_json(base_url: str, path: str, data: dict, timeout: float = 10.0) -> int:
    """A minimal HTTP/1.1 POST of a JSON body over loopback, as the browser's fetch() does; returns the status."""
    return (await http_post_json_answer(base_url, path, data, timeout))[0]


async def http_post_json_answer(base_url: str, path: str, data: dict, timeout: float = 10.0) -> tuple[int, dict | None]:
    """`http_post_json`, returning the status and the JSON body of the answer (None if it has none)."""
    parts = urllib.parse.urlsplit(base_url)
    body = json.dumps(data).encode()

    async def go() -> tuple[int, dict | None]:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        try:
            writer.write(f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         f"User-Agent: story-relay-bench\r\n\r\n".encode() + body)
            await writer.drain()
            head = await reader.read()
        finally:
            writer.close()
        if not head.startswith(b"HTTP/"):
            return 0, None
        status = int(head.split(b" ", 2)[1])
        headers, _, answer = head.partition(b"\r\n\r\n")
        if b"transfer-encoding: chunked" in headers.lower():
            answer = _dechunk(answer)
        try:
            return status, json.loads(answer) if answer else None
        except ValueError:
            return status, None

    return await asyncio.wait_for(go(), timeout)


def _dechunk(body: bytes) -> bytes:
    out, i = bytearray(), 0
    for _ in range(100_000):
        j = body.find(b"\r\n", i)
        if j < 0:
            break
        size = int(body[i:j].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += body[j + 2:j + 2 + size]
        i = j + 2 + size + 2
    return bytes(out)


class StreamlitClient:
    """One browser tab on one Streamlit page.

    `on_delta(client, element_kind, element, now)` is called for every new element (after a
    `ref_hash` is resolved), so a caller can look for text. `errors` collects what a person
    would notice: exceptions drawn by the app, a dropped connection, a compile error.
    """

    def __init__(self, base_url: str, path: str = "", query: str = "", *, name: str = "client",
                 on_delta: Callable | None = None, fetch_media: bool = False, preflight: bool = True,
                 auto_rerun: bool = True, clock: Callable[[], float] = time.perf_counter, cookie: str = ""):
        self.base_url = base_url.rstrip("/")
        self.cookie = cookie  # a Cookie header for the page load and the websocket (a signed-in facilitator)
        self.path = path.strip("/")
        self.query_string = query
        self.name = name
        self.on_delta = on_delta
        self.fetch_media = fetch_media
        self.preflight = preflight
        self.auto_rerun_enabled = auto_rerun
        self.clock = clock
        self.page_script_hash = ""
        self.page_name = self.path
        self.session_id: str | None = None
        self.ws = None
        self.errors: list[str] = []
        self.runs: list[Run] = []  # bounded: only the last 50 are kept
        self.current: Run | None = None
        self.open_runs: dict[str, Run] = {}
        self.widgets: dict[str, tuple[str, object]] = {}  # id -> (kind, element proto) drawn in the last runs
        self.widget_fragment: dict[str, str] = {}  # id -> the fragment that drew it ("" outside fragments)
        self.widget_states: dict[str, WidgetState] = {}  # committed (non-form, or submitted) values
        self.finished: dict[int, int] = {}  # script_finished status -> how many runs ended so
        self.components: dict[str, dict] = {}  # a v2 component's name -> the data it was last drawn with
        self.fragment_timers: dict[str, tuple[float, asyncio.Task]] = {}
        self.fragment_sends: list[float] = []
        self.fragment_latencies: list[float] = []  # send of an auto-rerun -> its script_finished
        self.cache: dict[str, tuple[ForwardMsg, int]] = {}  # hash -> (msg, run counter when last used)
        self.run_counter = 0
        self.messages = 0
        self.bytes_in = 0
        self.closed = False
        self._reader: asyncio.Task | None = None
        self._run_waiters: list[tuple[Callable[[Run], bool], asyncio.Future]] = []
        self._media_tasks: set[asyncio.Task] = set()

    # --- connecting -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        q = f"?{self.query_string}" if self.query_string else ""
        return f"{self.base_url}/{self.path}{q}"

    async def connect(self, timeout: float = 30.0) -> Run:
        """Load the page as a browser does and wait for the first full run to finish."""
        if self.preflight:
            page = "/" + self.path + (f"?{self.query_string}" if self.query_string else "")
            for p in (page, "/_stcore/health", "/_stcore/host-config"):
                status, _ = await http_get(self.base_url, p, timeout=timeout)
                if status != 200:
                    raise ClientError(f"{self.name}: GET {p} answered {status}")
        ws_url = self.base_url.replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"
        self.ws = await connect(ws_url, subprotocols=["streamlit"], origin=self.base_url, open_timeout=timeout,
                                ping_interval=None, max_size=64 * 2**20, max_queue=None,
                                user_agent_header="Mozilla/5.0 (story-relay-bench)",
                                additional_headers={"Cookie": self.cookie} if self.cookie else None)
        self._reader = asyncio.create_task(self._read_loop(), name=f"{self.name}-reader")
        waiter = self.expect_run(lambda r: not r.is_fragment and r.status == FINISHED_SUCCESSFULLY)
        await self.send_rerun()
        return await asyncio.wait_for(waiter, timeout)

    async def close(self) -> None:
        self.closed = True
        for _, task in list(self.fragment_timers.values()):
            task.cancel()
        self.fragment_timers.clear()
        for task in list(self._media_tasks):
            task.cancel()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except (asyncio.TimeoutError, ConnectionClosed, OSError):
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing, nothing to report
                pass
        for _, fut in self._run_waiters:
            if not fut.done():
                fut.cancel()
        self._run_waiters.clear()

    # --- sending ----------------------------------------------------------------------------

    async def send_rerun(self, extra_states: list[WidgetState] = (), *, fragment_id: str = "",
                         is_auto_rerun: bool = False) -> float:
        """Send `rerun_script` exactly as the frontend builds it; returns the send time."""
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query_string
        rs.page_script_hash = self.page_script_hash
        rs.page_name = "" if self.page_script_hash else self.page_name
        if fragment_id:
            rs.fragment_id = fragment_id
        rs.is_auto_rerun = is_auto_rerun
        states = dict(self.widget_states)
        for s in extra_states:
            states[s.id] = s
        rs.widget_states.widgets.extend(states.values())
        rs.cached_message_hashes.extend(self.cache.keys())
        ci = rs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "Europe/London", 0, "en-GB"
        ci.url, ci.is_embedded, ci.color_scheme = self.url, False, "light"
        now = self.clock()
        if self.ws is None or self.closed:
            raise ClientError(f"{self.name}: not connected")
        try:
            await self.ws.send(msg.SerializeToString())
        except ConnectionClosed as exc:
            self._error(f"connection closed while sending: {exc}")
            raise ClientError(f"{self.name}: connection closed") from exc
        return now

    async def submit_form(self, form_id: str, values: dict[str, WidgetState], submit_button_id: str) -> float:
        """Press the form's submit button: its widgets' values and a one-shot trigger in one rerun."""
        for wid, state in values.items():
            state.id = wid
        trigger = WidgetState(id=submit_button_id, trigger_value=True)
        committed = list(values.values())
        for s in committed:  # the form's values stay committed until a run stops drawing the widgets
            self.widget_states[s.id] = s
        return await self.send_rerun([trigger])

    async def click_button(self, button_id: str) -> float:
        """A click: a one-shot trigger; inside a fragment, the rerun is that fragment's (as in the browser)."""
        return await self.send_rerun([WidgetState(id=button_id, trigger_value=True)],
                                     fragment_id=self.widget_fragment.get(button_id, ""))

    async def set_value(self, state: WidgetState) -> float:
        """A widget outside a form changed (a text area left, an option picked): it reruns at once."""
        self.widget_states[state.id] = state
        return await self.send_rerun(fragment_id=self.widget_fragment.get(state.id, ""))

    def expect_run(self, predicate: Callable[[Run], bool]) -> asyncio.Future:
        """A future for the next finished run that matches `predicate` (register BEFORE sending)."""
        fut = asyncio.get_running_loop().create_future()
        self._run_waiters.append((predicate, fut))
        return fut

    # --- finding things in what the server drew ---------------------------------------------

    def find_widget(self, kind: str, *, id_contains: str = "", label: str | None = None) -> str | None:
        for wid, (k, el) in self.widgets.items():
            if k == kind and id_contains in wid and (label is None or getattr(el, "label", None) == label):
                return wid
        return None

    def form_widgets(self, form_id: str) -> dict[str, tuple[str, object]]:
        return {wid: (k, el) for wid, (k, el) in self.widgets.items() if getattr(el, "form_id", "") == form_id}

    # --- receiving --------------------------------------------------------------------------

    def _error(self, text: str) -> None:
        if len(self.errors) < 100:
            self.errors.append(f"{self.name}: {text}")

    async def _read_loop(self) -> None:
        try:
            async for data in self.ws:
                self.messages += 1
                self.bytes_in += len(data)
                try:
                    msg = ForwardMsg()
                    msg.ParseFromString(data)
                    self._handle(msg, self.clock())
                except Exception as exc:  # noqa: BLE001 - a bug in the client is reported, not hidden
                    self._error(f"client failed to handle a message: {exc!r}")
        except ConnectionClosed as exc:
            if not self.closed:
                self._error(f"connection closed by the server: {exc}")
        finally:
            if not self.closed:
                for _, fut in self._run_waiters:
                    if not fut.done():
                        fut.set_exception(ClientError(f"{self.name}: connection lost"))
                self._run_waiters.clear()

    def _handle(self, msg: ForwardMsg, now: float) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                self._error(f"server referred to a message this client never cached ({msg.ref_hash})")
                return
            self.cache[msg.ref_hash] = (cached[0], self.run_counter)
            resolved = ForwardMsg()
            resolved.CopyFrom(cached[0])
            resolved.metadata.CopyFrom(msg.metadata)
            msg, kind = resolved, resolved.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = (msg, self.run_counter)
        if kind == "new_session":
            self._start_run(msg, now)
        elif kind == "delta":
            self._delta(msg, now)
        elif kind == "script_finished":
            self._finish_run(msg, now)
        elif kind == "navigation":
            if msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            if self.auto_rerun_enabled:
                self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fid)
        elif kind == "session_event":
            ev = msg.session_event.WhichOneof("type")
            if ev == "script_compilation_exception":
                self._error("script compilation error")

    def _start_run(self, msg: ForwardMsg, now: float) -> None:
        ns = msg.new_session
        if ns.HasField("initialize") and ns.initialize.session_id:
            self.session_id = ns.initialize.session_id
        run = Run(run_id=msg.metadata.run.script_run_id, fragment_ids=tuple(msg.metadata.run.fragment_ids),
                  started=now)
        if not run.is_fragment:
            # With st.navigation the run's page arrives in the `navigation` message; new_session
            # then names the main script (app.py), which is not a page to ask for.
            if ns.page_script_hash and ns.page_script_hash != ns.main_script_hash:
                self.page_script_hash = ns.page_script_hash
            for fid in list(self.fragment_timers):  # the browser's cleanupAutoReruns on a full run
                self._stop_timer(fid)
        if run.is_fragment and self.fragment_sends:
            run.auto_rerun_sent = self.fragment_sends[0]
        self.fragment_sends.clear()  # a run answers every rerun request that arrived before it started
        self.current = run
        self.open_runs[run.run_id] = run
        if len(self.open_runs) > 20:  # runs the server never finished (superseded): forget the oldest
            for key in list(self.open_runs)[:-20]:
                del self.open_runs[key]
        self.run_counter += 1

    def _delta(self, msg: ForwardMsg, now: float) -> None:
        run = self.current
        delta = msg.delta
        if run is not None:
            run.n_deltas += 1
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        ek = el.WhichOneof("type")
        if ek in WIDGET_KINDS:
            inner = getattr(el, ek)
            wid = getattr(inner, "id", "")
            if wid:
                self.widgets[wid] = (ek, inner)
                self.widget_fragment[wid] = delta.fragment_id
                if run is not None:
                    run.widget_ids.add(wid)
        elif ek == "bidi_component":  # st.components.v2: what its JavaScript would be given
            try:
                self.components[el.bidi_component.component_name] = json.loads(el.bidi_component.json or "null")
            except ValueError:
                pass
        elif ek == "alert" and run is not None:
            run.alerts.append((el.alert.format, el.alert.body))
        elif ek == "exception":
            text = f"{el.exception.type}: {el.exception.message}"
            if run is not None:
                run.exceptions.append(text)
            self._error(f"the app drew an exception: {text}")
        elif ek == "imgs" and self.fetch_media:
            for img in el.imgs.imgs:
                if img.url.startswith("/"):
                    task = asyncio.get_running_loop().create_task(self._fetch_media(img.url))
                    self._media_tasks.add(task)
                    task.add_done_callback(self._media_tasks.discard)
        if self.on_delta is not None:
            self.on_delta(self, ek, el, now)

    async def _fetch_media(self, url: str) -> None:
        try:
            status, _ = await http_get(self.base_url, url)
            if status != 200:
                self._error(f"GET {url} answered {status}")
        except (OSError, asyncio.TimeoutError) as exc:
            self._error(f"GET {url} failed: {exc!r}")

    def _finish_run(self, msg: ForwardMsg, now: float) -> None:
        status = msg.script_finished
        run_id = msg.metadata.run.script_run_id
        # Match by run id, as the browser does: a superseded run may finish after its successor started.
        run = self.open_runs.pop(run_id, None) if run_id else self.current
        if run is None:
            return
        self.open_runs.pop(run.run_id, None)
        run.finished, run.status = now, status
        self.finished[status] = self.finished.get(status, 0) + 1
        if run is self.current:
            self.current = None
        if status == FINISHED_COMPILE_ERROR:
            self._error("script finished with a compile error")
        if run.is_fragment and status == FINISHED_FRAGMENT:
            # The fragment's own widgets that this run did not draw again are gone.
            frags = set(run.fragment_ids)
            self._keep_widgets(lambda k: k in run.widget_ids or self.widget_fragment.get(k, "") not in frags)
        if run.is_fragment and status == FINISHED_FRAGMENT and run.auto_rerun_sent is not None:
            self.fragment_latencies.append(now - run.auto_rerun_sent)
            if len(self.fragment_latencies) > 10_000:
                del self.fragment_latencies[:5_000]
        if not run.is_fragment and status == FINISHED_SUCCESSFULLY:
            # removeInactive: forget widgets this full run did not draw; age the message cache.
            self._keep_widgets(lambda k: k in run.widget_ids)
            self.cache = {h: (m, used) for h, (m, used) in self.cache.items()
                          if self.run_counter - used < CACHE_MAX_AGE_RUNS}
        self.runs.append(run)
        if len(self.runs) > 50:
            del self.runs[:25]
        still = []
        for predicate, fut in self._run_waiters:
            if fut.done():
                continue
            if predicate(run):
                fut.set_result(run)
            else:
                still.append((predicate, fut))
        self._run_waiters = still

    def _keep_widgets(self, keep: Callable[[str], bool]) -> None:
        self.widgets = {k: v for k, v in self.widgets.items() if keep(k)}
        self.widget_states = {k: v for k, v in self.widget_states.items() if keep(k)}
        self.widget_fragment = {k: v for k, v in self.widget_fragment.items() if keep(k)}

    # --- fragment auto-reruns ---------------------------------------------------------------

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        existing = self.fragment_timers.get(fragment_id)
        if existing is not None and existing[0] == interval:
            return
        self._stop_timer(fragment_id)
        task = asyncio.get_running_loop().create_task(self._tick(fragment_id, interval),
                                                      name=f"{self.name}-fragment")
        self.fragment_timers[fragment_id] = (interval, task)

    def _stop_timer(self, fragment_id: str) -> None:
        entry = self.fragment_timers.pop(fragment_id, None)
        if entry is not None:
            entry[1].cancel()

    async def _tick(self, fragment_id: str, interval: float) -> None:
        next_at = self.clock() + interval
        while not self.closed:
            await asyncio.sleep(max(0.0, next_at - self.clock()))
            next_at += interval
            if self.clock() > next_at:  # the loop fell behind: skip missed ticks as a throttled tab would
                next_at = self.clock() + interval
            try:
                sent = await self.send_rerun(fragment_id=fragment_id, is_auto_rerun=True)
            except ClientError:
                return
            self.fragment_sends.append(sent)
