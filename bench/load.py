"""Load test: virtual participants, a projector and a console speaking Streamlit's websocket protocol.

    python bench/load.py --scenario room --participants 500      # ours, then bench/floor.py, side by side
    python bench/load.py --scenario deadline --participants 500
    python bench/load.py --scenario open --participants 500
    python bench/load.py --scenario stress --participants 500
    python bench/load.py --participants 200 --duration 60        # one run of ours, today's stress pacing

Named scenarios (--scenario) run the app and then Streamlit's polling floor (bench/floor.py) with
the same clients and schedule, and print both side by side:

  room      people write 20-60 s per text field (3-8 s to pick an option), posting the field
            being typed to /api/draft every few seconds as the browser does, and start their
            stories at random moments over --duration (default 60 s): Sends spread over minutes;
  deadline  the fields are filled early and everyone presses Send within the last 10 s of the
            timer (--duration, default 60 s);
  open      the facilitator opens the exercise and every phone must redraw at once; no stories;
  stress    a field every 2 s (--field-gap), stories at random moments over --duration.
    python bench/load.py --participants 500 --server-url http://127.0.0.1:8501 --data-dir ./data --server-pid 1234

Without --server-url it starts its own `streamlit run app.py` on a free port with a fresh
SQLite data dir (or the PostgreSQL of --database-url), like tests/conftest.py does.
Every client is a `bench.st_client.StreamlitClient`: it loads the page, opens
`/_stcore/stream`, sends `rerun_script` as the browser does, follows the fragments'
auto-reruns every 2 s and submits the real form with the widget ids the server sent.

The session, in order (all bounded in count and time):

1. A workshop with "Over the wall" is created through the domain; a console
   (`/console?code&key`) and a projector (`/projector?code`) connect.
2. Participants arrive over --ramp seconds. A share (--join-share, default 20 %) types a name
   and a function into the real join page (`/?code=…`) and follows `st.switch_page` to the
   participant page; the others are joined through the domain (`workshops.join_workshop`,
   as a fast stand-in for the same form) and open `/participate?code&p` directly.
3. --settle seconds of everyone just following the room (fragment auto-reruns only).
4. The console presses "Open" on the exercise: every participant's screen must switch to
   the form by itself (the fragment sees the revision move and reruns the page).
5. For --duration seconds every participant sends --stories stories at random moments
   through the real form; each story carries a unique token at the start of its text.
6. Drain: wait for every acknowledgement and for every token on the projector.

It prints participants, stories sent / acknowledged / stored (counted through the domain) /
lost (acknowledged but not stored), errors, submit acknowledgement p50/p95/p99 (send of the
submit BackMsg → script_finished of that run, which drew the success message), time until the
story's text is in the projector's deltas (p50/p95), and the server's CPU and RSS per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl as urllib_parse_qsl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.st_client import (  # noqa: E402
    ALERT_ERROR, ALERT_SUCCESS, ALERT_WARNING, FINISHED_EARLY_FOR_RERUN, FINISHED_FRAGMENT, FINISHED_SUCCESSFULLY,
    ClientError, StreamlitClient, WidgetState, http_post_json, http_post_json_answer,
)

ACK_TIMEOUT_S = 30.0
FOLLOW_TIMEOUT_S = 30.0
PROJECTOR_GRACE_S = 15.0
CONNECT_TIMEOUT_S = 60.0


# --- measuring the server ---------------------------------------------------------------------

class ProcessSampler:
    """CPU seconds and RSS of the server process (and its children) sampled once a second."""

    def __init__(self, pids: list[int]):
        self.pids = [p for p in pids if p]
        self.peak_rss = 0
        self.samples: list[tuple[float, float, int]] = []  # (wall, cpu seconds, rss)
        self._task: asyncio.Task | None = None
        try:
            import psutil  # noqa: F401

            self._psutil = psutil
        except ImportError:  # pragma: no cover - psutil is in requirements-dev
            self._psutil = None

    def read(self) -> tuple[float, int] | None:
        """CPU seconds and RSS summed over the server processes (replicas) and their children."""
        if not self.pids:
            return None
        cpu, rss = 0.0, 0
        for pid in self.pids:
            got = self._read_one(pid)
            if got is None:
                return None
            cpu, rss = cpu + got[0], rss + got[1]
        return cpu, rss

    def _read_one(self, pid: int) -> tuple[float, int] | None:
        if self._psutil is not None:
            try:
                procs = [self._psutil.Process(pid)]
                procs += procs[0].children(recursive=True)
                cpu, rss = 0.0, 0
                for p in procs:
                    try:
                        t = p.cpu_times()
                        cpu += t.user + t.system
                        rss += p.memory_info().rss
                    except self._psutil.Error:
                        pass
                return cpu, rss
            except self._psutil.Error:
                return None
        try:  # Linux fallback without psutil
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            tick = os.sysconf("SC_CLK_TCK")
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            return (int(fields[11]) + int(fields[12])) / tick, rss
        except OSError:
            return None

    def mark(self) -> tuple[float, float, int] | None:
        got = self.read()
        if got is None:
            return None
        self.peak_rss = max(self.peak_rss, got[1])
        return time.perf_counter(), got[0], got[1]

    async def _loop(self) -> None:
        for _ in range(100_000):
            m = self.mark()
            if m is not None:
                self.samples.append(m)
            await asyncio.sleep(1.0)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def cpu_percent(a, b) -> float | None:
    if a is None or b is None or b[0] <= a[0]:
        return None
    return 100.0 * (b[1] - a[1]) / (b[0] - a[0])


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


# --- the scenario: what the pages look like ---------------------------------------------------

# No \b in front: in Plotly's JSON the token follows an escaped "<br>" ("\\u003cbr\\u003e").
TOKEN_RE = re.compile(r"lt([a-z]{4})x(\d{6})(?!\d)")
FIELD_KEY_RE = re.compile(r"([0-9a-f]{32})-(\w+)$")  # a story field's widget key: <form id>-<field name>
DRAFT_EVERY_S = 3.0  # while writing, the browser posts the field about this often (it saves on each pause)

# Named rooms; --duration and --stories on the command line still win.
SCENARIOS = {
    "room": dict(text_gap=(20.0, 60.0), choice_gap=(3.0, 8.0), duration=60.0, post_drafts=True, send_window=None),
    "deadline": dict(text_gap=(2.0, 8.0), choice_gap=(1.0, 3.0), duration=60.0, post_drafts=True, send_window=10.0),
    "open": dict(text_gap=None, choice_gap=None, duration=0.0, post_drafts=False, send_window=None, stories=0),
    "stress": dict(text_gap=None, choice_gap=None, duration=None, post_drafts=False, send_window=None),
}


@dataclass
class StoryForm:
    """The controls of the story form on a participant page."""

    button: str  # the Send button's widget id
    form_id: str  # the st.form's id, or "" when the fields are plain widgets that rerun on change
    fields: dict  # widget id -> (kind, element)


class StoryRelayScenario:
    """Story Relay's pages: console, projector, join, participate, with the "Over the wall" form."""

    name = "Story Relay (app.py)"
    script = ROOT / "app.py"
    has_console = True
    has_join_page = True

    def __init__(self, args):
        self.args = args
        self.store = None
        self.workshop = None
        self.key = ""
        self.seeded: dict[int, object] = {}

    def database_url(self, data_dir: Path | None) -> str:
        if self.args.database_url:
            from facilitation.store import default_database_url

            os.environ["DATABASE_URL"] = self.args.database_url
            try:
                return default_database_url()
            finally:
                del os.environ["DATABASE_URL"]
        return f"sqlite:///{data_dir}/story_relay.sqlite3"

    # The servers sign cookies with this secret, so the console can come in signed in (a cookie, as a
    # browser that used the sign-in form) and the projector with its screen token.
    secret = "bench-" + os.urandom(16).hex()

    def server_env(self) -> dict[str, str]:
        env = {"STORY_RELAY_SECRET": self.secret}
        if self.args.database_url:
            env["DATABASE_URL"] = self.args.database_url
        return env

    def setup(self, data_dir: Path | None, n_participants: int, join_page: set[int]) -> None:
        from facilitation import workshops
        from facilitation.store import Store

        self.store = Store(self.database_url(data_dir))
        self.workshop, self.key = workshops.create_workshop(
            self.store, title="Load test", organisation="bench/load.py", agenda_plan=[("over_the_wall", 30)])
        for i in range(n_participants):
            if i not in join_page:
                self.seeded[i] = workshops.join_workshop(self.store, self.workshop.code, f"Virtual {i}",
                                                         self.workshop.functions[i % len(self.workshop.functions)])

    def console_page(self) -> tuple[str, str]:
        return "console", f"code={self.workshop.code}"

    def console_cookie(self) -> str:
        import time as _time

        from facilitation import access

        value = access.facilitator_cookie(self.secret.encode(), self.workshop.code, access.hash_key(self.key), _time.time())
        return f"{access.facilitator_cookie_name(self.workshop.code)}={value}"

    def projector_page(self) -> tuple[str, str]:
        from facilitation import access

        token = access.projector_token(self.secret.encode(), self.workshop.code, access.hash_key(self.key))
        return "projector", f"code={self.workshop.code}&screen={token}"

    def via_join_page(self, i: int) -> bool:
        return i not in self.seeded

    def participant_page(self, i: int) -> tuple[str, str]:
        if i in self.seeded:
            return "participate", f"code={self.workshop.code}&p={self.seeded[i].token}"
        return "", f"code={self.workshop.code}"

    async def join_through_page(self, client: StreamlitClient, i: int, rng: random.Random) -> None:
        """Type a name, choose a function, press Join; wait for the participant page."""
        button = client.find_widget("button", id_contains="FormSubmitter:join_details")
        if button is None:
            raise ClientError(f"{client.name}: the join page has no join form")
        form_id = client.widgets[button][1].form_id
        values = {}
        for wid, (kind, el) in client.form_widgets(form_id).items():
            if kind == "text_input":
                values[wid] = WidgetState(string_value=f"Joiner {i}")
            elif kind == "selectbox":
                values[wid] = WidgetState(string_value=el.options[i % len(el.options)])
        done = client.expect_run(lambda r: not r.is_fragment and r.status == FINISHED_SUCCESSFULLY
                                 and "p=" in client.query_string)
        await client.submit_form(form_id, values, button)
        await asyncio.wait_for(done, CONNECT_TIMEOUT_S)

    async def open_exercise(self, console: StreamlitClient) -> None:
        button = console.find_widget("button", id_contains="open-0")
        if button is None:
            raise ClientError(f"console: no Open button for the first agenda item (widgets: {list(console.widgets)}, "
                              f"errors: {console.errors[:3]}, last runs: {[(r.status, r.n_deltas, r.is_fragment) for r in console.runs[-3:]]})")
        done = console.expect_run(lambda r: not r.is_fragment and r.status == FINISHED_SUCCESSFULLY)
        await console.click_button(button)
        await asyncio.wait_for(done, CONNECT_TIMEOUT_S)

    def story_controls(self, client: StreamlitClient) -> StoryForm | None:
        """The story form on the page, as an `st.form` (one submit) or as plain widgets (each field reruns)."""
        for wid, (kind, el) in client.widgets.items():
            if kind != "button" or getattr(el, "disabled", False):
                continue
            if "FormSubmitter:story-" in wid:
                fields = {k: v for k, v in client.form_widgets(el.form_id).items() if k != wid}
                return StoryForm(button=wid, form_id=el.form_id, fields=fields)
            if "-send-" in wid and el.label == "Send":
                uid = wid.rsplit("-send-", 1)[1]
                fields = {k: v for k, v in client.widgets.items() if f"-{uid}-" in k and k != wid}
                return StoryForm(button=wid, form_id="", fields=fields)
        return None

    posts_drafts = True

    async def post_draft(self, client: StreamlitClient, widget_id: str, text: str, stats) -> None:
        """What pages/live.py's draft keeper does while a field is typed: POST it, no script run."""
        m = FIELD_KEY_RE.search(widget_id)
        token = dict(urllib_parse_qsl(client.query_string)).get("p")
        if m is None or not token:
            return
        t0 = time.perf_counter()
        status = await http_post_json(client.base_url, "/api/draft", {
            "code": self.workshop.code, "p": token, "exercise": "over_the_wall", "form": m.group(1),
            "field": m.group(2), "text": text})
        stats.draft_s.append(time.perf_counter() - t0)
        if status != 200:
            stats.error(f"{client.name}: a draft save answered HTTP {status}")

    def story_post(self, client: StreamlitClient, form: StoryForm, values: dict[str, WidgetState]) -> dict | None:
        """The POST /api/story body the page's send_by_post component would build, or None when the page has none."""
        data = next((d for name, d in client.components.items() if name.endswith("story_relay_send_by_post")
                     and isinstance(d, dict) and d.get("button") and form.button.endswith(d["button"])), None)
        if data is None or data.get("disabled"):
            return None
        answers = {}
        for reading in data["fields"]:
            wid = next((w for w in form.fields if w.endswith(f"{data['form']}-{reading['name']}")), None)
            state = values.get(wid)
            shown = state.string_value if state is not None else ""
            if reading["kind"] == "text":
                answers[reading["name"]] = shown
            elif reading["kind"] == "select":
                answers[reading["name"]] = reading["labels"].get(shown) if shown else None
            elif reading["kind"] == "radio":
                labels = list(form.fields[wid][1].options) if wid in form.fields else []
                answers[reading["name"]] = reading["options"][labels.index(shown)] if shown in labels else None
            else:
                return None  # the browser could not read it either: the form's own Send
        return {"code": data["code"], "p": data["p"], "exercise": data["exercise"], "form": data["form"],
                "session": data["session"], "answers": answers}

    def form_values(self, fields: dict, token: str, rng: random.Random) -> dict[str, WidgetState]:
        values = {}
        for wid, (kind, el) in fields.items():
            field_name = wid.rsplit("-", 1)[-1]
            if kind in ("text_area", "text_input"):
                text = {"experience": "waited six weeks for an import template nobody had mentioned",
                        "promise": "you will be live in two weeks with your own data",
                        "lost": "the go-live date the CFO was told"}.get(field_name, "a real customer")
                values[wid] = WidgetState(id=wid, string_value=f"{token} {text}")
            elif kind in ("selectbox", "radio") and len(el.options):
                # Where the story ends may not come before the teller's own stage: a person picks a later one.
                choice = list(el.options)[-1] if field_name == "reach" else rng.choice(list(el.options))
                values[wid] = WidgetState(id=wid, string_value=choice)
        return values

    async def open_voting(self, console: StreamlitClient) -> bool:
        button = next((wid for wid, (kind, el) in console.widgets.items()
                       if kind == "button" and el.label in ("Open voting", "Reopen voting")), None)
        if button is None:
            return False
        done = console.expect_run(lambda r: r.status in (FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT))
        await console.click_button(button)
        await asyncio.wait_for(done, CONNECT_TIMEOUT_S)
        return True

    def vote_buttons(self, client: StreamlitClient) -> list[str]:
        return [wid for wid, (kind, el) in client.widgets.items()
                if kind == "button" and "-vote-btn-" in wid and not getattr(el, "disabled", False)]

    def stored_votes(self) -> int:
        import sqlalchemy as sa
        from facilitation import store as store_module

        votes = getattr(store_module, "votes", None)
        if votes is None:
            return 0
        with self.store.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(votes)
                                .where(votes.c.workshop_id == self.workshop.id)).scalar_one()

    def stored_tokens(self, tag: str) -> set[str]:
        from facilitation import workshops

        found = set()
        for s in workshops.list_stories(self.store, self.workshop.id, include_hidden=True):
            for value in s.answers.values():
                for m in TOKEN_RE.finditer(str(value)):
                    if m.group(1) == tag:
                        found.add(m.group(0))
        return found

    def close(self) -> None:
        if self.store is not None:
            self.store.dispose()


# --- the virtual room ---------------------------------------------------------------------------

@dataclass
class Stats:
    connected: int = 0
    joined_via_page: int = 0
    joined_via_domain: int = 0
    connect_s: list[float] = field(default_factory=list)
    join_s: list[float] = field(default_factory=list)
    follow_s: list[float] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)  # token -> send time
    acked: dict[str, float] = field(default_factory=dict)  # token -> ack latency
    refused: dict[str, str] = field(default_factory=dict)  # token -> what the page said
    on_projector: dict[str, float] = field(default_factory=dict)  # token -> first seen (clock)
    field_s: list[float] = field(default_factory=list)  # a field left -> its rerun finished (no-form pages)
    draft_s: list[float] = field(default_factory=list)  # a draft POST while typing -> its answer
    redraw_s: list[float] = field(default_factory=list)  # a story sent by POST -> its page redrawn with a fresh form
    post_fallbacks: int = 0  # POSTs refused or failed, sent again by the form's own Send
    votes_sent: int = 0
    votes_refused: int = 0
    vote_s: list[float] = field(default_factory=list)
    vote_follow_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < 2000:
            self.errors.append(text)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1000:.0f} ms"


class Phases:
    """The moments the whole room moves on together."""

    def __init__(self):
        self.opening = asyncio.Event()  # the console is pressing "Open": phones watch for the form from now
        self.opened = asyncio.Event()  # the console's own run after "Open" has finished
        self.t_open = 0.0
        self.submit = asyncio.Event()
        self.t_submit = 0.0
        self.vote = asyncio.Event()
        self.t_vote = 0.0
        self.voting_offered = False
        self.ramp_s = 0.0


async def wait_for_run(client: StreamlitClient, predicate, send, timeout: float):
    """Register for the next run matching `predicate` that starts after now, do `send()`, wait for it."""
    after = time.perf_counter()
    done = client.expect_run(lambda r: r.started > after and predicate(r))
    sent = await send()
    return sent, await asyncio.wait_for(done, timeout)


def full_run_ok(r) -> bool:
    return not r.is_fragment and r.status == FINISHED_SUCCESSFULLY


async def tell_story(client: StreamlitClient, scenario, args, stats: Stats, token: str, rng: random.Random) -> None:
    """Fill the story form as a person does and press Send; the acknowledgement is timed from Send."""
    form = scenario.story_controls(client)
    if form is None:
        stats.error(f"{client.name}: no story form on the page when it was time to send")
        return
    values = scenario.form_values(form.fields, token, rng)
    if form.form_id:  # st.form: the values travel with the submit
        send = lambda: client.submit_form(form.form_id, values, form.button)  # noqa: E731
    else:  # plain widgets: each field reruns the page when it is left or picked, then Send is a click
        for state in values.values():
            kind = form.fields.get(state.id, ("",))[0]
            gap_range = args.text_gap if kind in ("text_area", "text_input") else args.choice_gap
            gap = rng.uniform(*gap_range) if gap_range else args.field_gap
            if args.post_drafts and scenario.posts_drafts and kind in ("text_area", "text_input"):
                # Writing: the browser posts what is typed so far on each pause, without a rerun.
                typed_until = time.perf_counter() + gap
                text = state.string_value
                while typed_until - time.perf_counter() > DRAFT_EVERY_S:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * DRAFT_EVERY_S)
                    share = 1 - max(0.0, typed_until - time.perf_counter()) / gap
                    try:
                        await scenario.post_draft(client, state.id, text[: max(1, int(len(text) * share))], stats)
                    except (OSError, asyncio.TimeoutError) as exc:
                        stats.error(f"{client.name}: a draft save failed: {type(exc).__name__}")
                await asyncio.sleep(max(0.0, typed_until - time.perf_counter()))
            else:
                await asyncio.sleep(gap)
            t0 = time.perf_counter()
            fid = client.widget_fragment.get(state.id, "")  # a field inside a fragment reruns only that fragment

            def answered(r, fid=fid) -> bool:
                # A fragment run that Streamlit stops for the next queued rerun still ran the field's callback.
                return full_run_ok(r) or bool(fid and fid in r.fragment_ids
                                              and r.status in (FINISHED_FRAGMENT, FINISHED_EARLY_FOR_RERUN))

            try:
                await wait_for_run(client, answered, lambda state=state: client.set_value(state), ACK_TIMEOUT_S)
            except asyncio.TimeoutError:
                stats.error(f"{client.name}: a field change was not answered within {ACK_TIMEOUT_S:.0f} s")
                return
            stats.field_s.append(time.perf_counter() - t0)
        if args.send_window:  # the room presses Send in the last seconds of the timer
            send_at = args.t_deadline - rng.uniform(0, args.send_window)
            await asyncio.sleep(max(0.0, send_at - time.perf_counter()))
        else:
            await asyncio.sleep(rng.uniform(*args.choice_gap) if args.choice_gap else args.field_gap)
        form = scenario.story_controls(client) or form
        send = lambda: client.click_button(form.button)  # noqa: E731
        post = scenario.story_post(client, form, values) if hasattr(scenario, "story_post") else None
        if post is not None:  # the page sends by POST (pages/live.py send_by_post), as the browser does
            await send_by_post(client, scenario, stats, token, post, send)
            return
    after = time.perf_counter()
    done = client.expect_run(lambda r: full_run_ok(r) and r.started > after)
    sent = await send()
    stats.sent[token] = sent
    await take_answer(client, stats, token, done, sent)


async def take_answer(client: StreamlitClient, stats: Stats, token: str, done: asyncio.Future, sent: float,
                      why: str = "") -> None:
    """The run a press of the form's Send started: acknowledged ("Sent") or refused (what the page said)."""
    try:
        run = await asyncio.wait_for(done, ACK_TIMEOUT_S)
    except asyncio.TimeoutError:
        stats.error(f"{client.name}: no acknowledgement within {ACK_TIMEOUT_S:.0f} s for {token}{why}")
        return
    if any(fmt == ALERT_SUCCESS and "Sent" in body for fmt, body in run.alerts):
        stats.acked[token] = run.finished - sent
    else:
        said = "; ".join(body for fmt, body in run.alerts if fmt == ALERT_ERROR) or "no success message"
        stats.refused[token] = said
        stats.error(f"{client.name}: story {token} refused: {said}")


async def send_by_post(client: StreamlitClient, scenario, stats: Stats, token: str, post: dict, press_send) -> None:
    """Send as the page's JavaScript does: POST /api/story with what the form shows; the answer is the
    acknowledgement ("Sent" on the phone). Then the page's paced redraw brings the fresh form. A refused or
    failed POST presses the form's own Send (a script run), timed from the first press."""
    after = time.perf_counter()
    redrawn = client.expect_run(lambda r: full_run_ok(r) and r.started > after
                                and any(fmt == ALERT_SUCCESS and "Sent" in body for fmt, body in r.alerts))
    sent = time.perf_counter()
    stats.sent[token] = sent
    try:
        status, answer = await http_post_json_answer(client.base_url, "/api/story", post, timeout=ACK_TIMEOUT_S)
    except (OSError, asyncio.TimeoutError) as exc:
        status, answer = 0, {"message": type(exc).__name__}
    if status == 200 and answer and answer.get("ok"):
        stats.acked[token] = time.perf_counter() - sent
    else:
        stats.post_fallbacks += 1
        done = client.expect_run(lambda r: full_run_ok(r) and r.started > after)
        await press_send()
        await take_answer(client, stats, token, done, sent, why=f" (POST {status})")
        return
    try:
        await asyncio.wait_for(redrawn, ACK_TIMEOUT_S * 2)
        stats.redraw_s.append(time.perf_counter() - sent)
    except asyncio.TimeoutError:
        stats.error(f"{client.name}: the page was not redrawn within {ACK_TIMEOUT_S * 2:.0f} s of a story sent by POST")


async def cast_votes(client: StreamlitClient, scenario, args, stats: Stats, phases: Phases, rng: random.Random) -> None:
    """Wait for the vote buttons (the page follows the console), then put up to --vote dots."""
    for _ in range(int(FOLLOW_TIMEOUT_S / 0.2)):
        if scenario.vote_buttons(client):
            break
        await asyncio.sleep(0.2)
    else:
        stats.error(f"{client.name}: no vote buttons within {FOLLOW_TIMEOUT_S:.0f} s of voting opening")
        return
    stats.vote_follow_s.append(time.perf_counter() - phases.t_vote)
    for _ in range(args.vote):
        await asyncio.sleep(rng.uniform(0.5, 3.0))
        buttons = scenario.vote_buttons(client)
        if not buttons:
            return
        button = rng.choice(buttons)
        try:
            sent, run = await wait_for_run(client, lambda r: r.status in (FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT),
                                           lambda: client.click_button(button), ACK_TIMEOUT_S)
        except asyncio.TimeoutError:
            stats.error(f"{client.name}: a vote was not answered within {ACK_TIMEOUT_S:.0f} s")
            continue
        stats.votes_sent += 1
        stats.vote_s.append(run.finished - sent)
        if any(fmt == ALERT_WARNING for fmt, _ in run.alerts):
            stats.votes_refused += 1


async def participant(i: int, args, scenario, base_url: str, stats: Stats, tag: str, t_start: float,
                      phases: Phases, rng: random.Random, clients: list, stories_done: asyncio.Future) -> None:
    path, query = scenario.participant_page(i)
    await asyncio.sleep(max(0.0, t_start + i * args.ramp / max(1, args.participants) - time.perf_counter()))
    client = StreamlitClient(base_url, path, query, name=f"p{i}")
    clients.append(client)
    try:
        try:
            t0 = time.perf_counter()
            await client.connect(timeout=CONNECT_TIMEOUT_S)
            stats.connect_s.append(time.perf_counter() - t0)
            if scenario.via_join_page(i):
                t1 = time.perf_counter()
                await scenario.join_through_page(client, i, rng)
                stats.join_s.append(time.perf_counter() - t1)
                stats.joined_via_page += 1
            else:
                stats.joined_via_domain += 1
            stats.connected += 1

            # Each phone times its own form from the moment "Open" is pressed, not from the end of the
            # console's run (which, drawn while 500 phones redraw, finishes after most of them).
            await phases.opening.wait()
            if scenario.story_controls(client) is None:
                # The console opened the exercise: this screen must switch by itself (fragment → full rerun).
                for _ in range(int((FOLLOW_TIMEOUT_S + args.settle) / 0.05)):
                    if scenario.story_controls(client) is not None:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise ClientError(f"the story form did not appear within {FOLLOW_TIMEOUT_S:.0f} s of the exercise opening")
                stats.follow_s.append(time.perf_counter() - phases.t_open)
            await phases.submit.wait()
            # deadline: everyone starts at once and fills the fields early; otherwise over --duration
            window = 0.0 if args.send_window else args.duration
            moments = sorted(rng.uniform(0, window) for _ in range(args.stories))
            for n, at in enumerate(moments):
                await asyncio.sleep(max(0.0, phases.t_submit + at - time.perf_counter()))
                await tell_story(client, scenario, args, stats, f"lt{tag}x{i * 100 + n:06d}", rng)
        finally:
            if not stories_done.done():
                stories_done.set_result(None)
        if args.vote:
            await phases.vote.wait()
            if phases.voting_offered:
                await cast_votes(client, scenario, args, stats, phases, rng)
    except (ClientError, asyncio.TimeoutError, OSError) as exc:
        stats.error(f"p{i}: {type(exc).__name__}: {exc}")


class _RoomFailed(Exception):
    """The room could not even be set up; the errors say why."""


async def run_room(args, scenario, base_urls: list[str], server_pids: list[int], data_dir: Path | None) -> dict:
    """One session against the servers in `base_urls` (replicas: participant i uses replica i mod n,
    the console the first, the projector the last, as a load balancer with sticky sessions would)."""
    rng = random.Random(args.seed)
    tag = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(4)) if args.seed else \
        "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(4))
    n = args.participants
    join_page = set(rng.sample(range(n), round(n * args.join_share))) if scenario.has_join_page else set()
    t_seed = time.perf_counter()
    await asyncio.to_thread(scenario.setup, data_dir, n, join_page)
    seed_s = time.perf_counter() - t_seed
    stats = Stats()
    scenario.seen_on_wall = stats.on_projector
    sampler = ProcessSampler(server_pids)
    sampler.start()
    marks: dict[str, tuple] = {}
    own: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[name] = sampler.mark()
        own[name] = own_cpu()

    def projector_delta(_client, kind, el, now):
        texts = []
        if kind == "plotly_chart":
            texts.append(el.plotly_chart.spec)
        elif kind == "text":
            texts.append(el.text.body)
        elif kind == "markdown":
            texts.append(el.markdown.body)
        for text in texts:
            for m in TOKEN_RE.finditer(text):
                if m.group(1) == tag and m.group(0) not in stats.on_projector:
                    stats.on_projector[m.group(0)] = now

    clients: list[StreamlitClient] = []
    projector = console = None
    phases = Phases()
    stored: set[str] = set()
    votes_stored = 0
    try:
        try:
            if scenario.projector_page() is not None:
                projector = StreamlitClient(base_urls[-1], *scenario.projector_page(), name="projector",
                                            on_delta=projector_delta, fetch_media=True)
                await projector.connect(timeout=CONNECT_TIMEOUT_S)
            if scenario.has_console:
                console = StreamlitClient(base_urls[0], *scenario.console_page(), name="console",
                                          cookie=getattr(scenario, "console_cookie", lambda: "")())
                await console.connect(timeout=CONNECT_TIMEOUT_S)
        except (ClientError, asyncio.TimeoutError, OSError) as exc:
            stats.error(f"room: the projector or the console did not load: {type(exc).__name__}: {exc}")
            raise _RoomFailed from exc
        await run_phases(args, scenario, base_urls, server_pids, stats, tag, phases, clients, console, projector, mark)
        mark("end")
        for c in [*clients, projector, console]:
            if c is not None and c.errors:
                for e in c.errors:
                    stats.error(e)
        stored = await asyncio.to_thread(scenario.stored_tokens, tag)
        if args.vote:
            votes_stored = await asyncio.to_thread(scenario.stored_votes)
    except _RoomFailed:
        pass
    finally:
        sampler.stop()
        await asyncio.gather(*(c.close() for c in [*clients, projector, console] if c is not None),
                             return_exceptions=True)
    return summarise(args, scenario, stats, clients, projector, marks, own, sampler, stored, votes_stored,
                     seed_s, ramp_s=phases.ramp_s)


async def run_phases(args, scenario, base_urls, server_pids, stats, tag, phases, clients, console, projector, mark):
    """Arrivals, following, opening, stories, drain, voting; a phase that fails is an error, and the rest is skipped."""
    n = args.participants
    tasks: list[asyncio.Task] = []
    side_tasks: list[asyncio.Task] = []
    profiler = None
    try:
        # 2. arrivals
        mark("ramp")
        t_start = time.perf_counter()
        loop = asyncio.get_running_loop()
        stories_done = [loop.create_future() for _ in range(n)]
        tasks = [asyncio.create_task(participant(i, args, scenario, base_urls[i % len(base_urls)], stats, tag, t_start, phases,
                                                 random.Random(args.seed * 100_003 + i), clients, stories_done[i]))
                 for i in range(n)]
        deadline = t_start + args.ramp + CONNECT_TIMEOUT_S
        for _ in range(1_000_000):
            failed = sum(1 for t in tasks if t.done())
            if stats.connected + failed >= n or time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.2)
        phases.ramp_s = time.perf_counter() - t_start
        # 3. everyone only follows the room
        mark("settle")
        await asyncio.sleep(args.settle)
        # 4. the console opens the exercise; every phone must switch to the form by itself
        mark("open")
        phases.t_open = time.perf_counter()
        if args.profile_phase == "open":
            profiler = start_profiler(args, server_pids[0] if server_pids else None, seconds=FOLLOW_TIMEOUT_S)
        phases.opening.set()
        if console is not None:
            await scenario.open_exercise(console)
        phases.opened.set()
        for _ in range(int(FOLLOW_TIMEOUT_S * 5)):
            if len(stats.follow_s) + sum(1 for t in tasks if t.done()) >= stats.connected or console is None:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)
        # 5. stories
        mark("submit")
        phases.t_submit = time.perf_counter()
        args.t_deadline = phases.t_submit + args.duration
        phases.submit.set()
        if args.send_window:  # the server's CPU while the room presses Send (and 5 s after)
            async def mark_window():
                await asyncio.sleep(max(0.0, args.t_deadline - args.send_window - time.perf_counter()))
                mark("window")
                await asyncio.sleep(args.send_window + 5)
                mark("window_end")
            side_tasks.append(asyncio.create_task(mark_window()))
        if args.profile_phase == "open":
            stop_profiler(profiler)
            profiler = None
        elif args.profile_phase == "deadline" and args.send_window:
            # The timer's last seconds only, when the room presses Send.
            await asyncio.sleep(max(0.0, args.t_deadline - args.send_window - 1 - time.perf_counter()))
            profiler = start_profiler(args, server_pids[0] if server_pids else None, seconds=args.send_window + 12)
        else:
            profiler = start_profiler(args, server_pids[0] if server_pids else None)
        longest_field = max([args.field_gap, *(args.text_gap or ()), *(args.choice_gap or ())])
        await asyncio.wait(stories_done, timeout=args.duration + longest_field * 8 + ACK_TIMEOUT_S + 5)
        mark("drain")
        stop_profiler(profiler)
        profiler = None
        # 6. drain: wait for every acknowledged story to reach the projector (bounded)
        if projector is not None:
            until = time.perf_counter() + PROJECTOR_GRACE_S
            while time.perf_counter() < until and not set(stats.acked) <= set(stats.on_projector):
                await asyncio.sleep(0.25)
        mark("drained")
        # 7. optional: dot voting
        if args.vote and console is not None:
            phases.voting_offered = await scenario.open_voting(console)
            phases.t_vote = time.perf_counter()
            if not phases.voting_offered:
                stats.notes.append("--vote: the console offers no 'Open voting' button; no votes cast")
        phases.vote.set()
        await asyncio.wait(tasks, timeout=(FOLLOW_TIMEOUT_S + args.vote * 3 + ACK_TIMEOUT_S) if args.vote else 5)
        mark("voted")
    except (ClientError, asyncio.TimeoutError, OSError) as exc:
        stats.error(f"room: the session could not go on: {type(exc).__name__}: {exc}")
    finally:
        stop_profiler(profiler)
        for t in side_tasks:
            t.cancel()
        for t in tasks:
            if not t.done():
                t.cancel()
                stats.error("a participant was still busy when the time was up")


def summarise(args, scenario, stats, clients, projector, marks, own, sampler, stored, votes_stored, seed_s, ramp_s):
    n = args.participants
    acked = list(stats.acked.values())
    visible = [stats.on_projector[t] - stats.sent[t] for t in stats.acked if t in stats.on_projector]
    frag = [x for c in clients for x in c.fragment_latencies]
    lost = sorted(set(stats.acked) - stored)
    result = {
        "scenario": scenario.name,
        "participants": n,
        "joined_via_join_page": stats.joined_via_page,
        "joined_via_domain": stats.joined_via_domain,
        "connected": stats.connected,
        "seed_s": round(seed_s, 2),
        "ramp_s": round(ramp_s, 1),
        "stories_sent": len(stats.sent),
        "stories_acknowledged": len(stats.acked),
        "stories_refused": len(stats.refused),
        "stories_stored": len(stored),
        "lost": len(lost),
        "errors": len(stats.errors),
        "error_samples": stats.errors[:10],
        "error_kinds": error_kinds(stats.errors),
        "submit_ack_p50_ms": r_ms(pct(acked, 50)), "submit_ack_p95_ms": r_ms(pct(acked, 95)),
        "submit_ack_p99_ms": r_ms(pct(acked, 99)), "submit_ack_max_ms": r_ms(max(acked) if acked else None),
        "projector_p50_ms": r_ms(pct(visible, 50)), "projector_p95_ms": r_ms(pct(visible, 95)),
        "projector_missing": len(set(stats.acked) - set(stats.on_projector)) if projector else None,
        "projector_runs": projector.finished.get(FINISHED_SUCCESSFULLY, 0) if projector else None,
        "projector_runs_cut": projector.finished.get(FINISHED_EARLY_FOR_RERUN, 0) if projector else None,
        "follow_open_p50_ms": r_ms(pct(stats.follow_s, 50)), "follow_open_p95_ms": r_ms(pct(stats.follow_s, 95)),
        "join_page_p50_ms": r_ms(pct(stats.join_s, 50)), "join_page_p95_ms": r_ms(pct(stats.join_s, 95)),
        "connect_p50_ms": r_ms(pct(stats.connect_s, 50)), "connect_p95_ms": r_ms(pct(stats.connect_s, 95)),
        "fragment_rerun_p50_ms": r_ms(pct(frag, 50)), "fragment_rerun_p95_ms": r_ms(pct(frag, 95)),
        "fragment_reruns": len(frag),
        "field_change_p50_ms": r_ms(pct(stats.field_s, 50)), "field_change_p95_ms": r_ms(pct(stats.field_s, 95)),
        "draft_posts": len(stats.draft_s), "draft_post_p95_ms": r_ms(pct(stats.draft_s, 95)),
        "sent_by_post": len(stats.redraw_s), "post_fallbacks": stats.post_fallbacks,
        "redraw_p50_ms": r_ms(pct(stats.redraw_s, 50)), "redraw_p95_ms": r_ms(pct(stats.redraw_s, 95)),
        "votes_sent": stats.votes_sent, "votes_refused": stats.votes_refused, "votes_stored": votes_stored,
        "vote_ack_p50_ms": r_ms(pct(stats.vote_s, 50)), "vote_ack_p95_ms": r_ms(pct(stats.vote_s, 95)),
        "notes": stats.notes,
        "server_cpu_ramp_pct": r1(cpu_percent(marks.get("ramp"), marks.get("settle"))),
        "server_cpu_idle_pct": r1(cpu_percent(marks.get("settle"), marks.get("open"))),
        "server_cpu_open_pct": r1(cpu_percent(marks.get("open"), marks.get("submit"))),
        "server_cpu_submit_pct": r1(cpu_percent(marks.get("submit"), marks.get("drain"))),
        "server_cpu_send_window_pct": r1(cpu_percent(marks.get("window"), marks.get("window_end"))),
        "server_cpu_vote_pct": r1(cpu_percent(marks.get("drained"), marks.get("voted"))) if args.vote else None,
        "replicas": len(base_urls_of(args)),
        "server_cpu_s_total": r1(marks["end"][1] - marks["ramp"][1]) if marks.get("end") and marks.get("ramp") else None,
        "server_rss_end_mb": round(marks["end"][2] / 2**20) if marks.get("end") else None,
        "server_rss_peak_mb": round(sampler.peak_rss / 2**20) if sampler.peak_rss else None,
        "generator_cpu_submit_pct": r1(100 * (own["drain"] - own["submit"]) / max(1e-9, marks["drain"][0] - marks["submit"][0]))
        if marks.get("drain") and marks.get("submit") else None,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "settle_s": args.settle, "duration_s": args.duration, "stories_per_participant": args.stories,
    }
    return result


def error_kinds(errors: list[str]) -> dict[str, int]:
    """Errors grouped by what they say, without the participant and the story token."""
    kinds: dict[str, int] = {}
    for e in errors:
        key = TOKEN_RE.sub("<story>", re.sub(r"\bp\d+\b", "p#", e))[:160]
        kinds[key] = kinds.get(key, 0) + 1
    return dict(sorted(kinds.items(), key=lambda kv: -kv[1]))


def r_ms(v):
    return None if v is None else round(v * 1000)


def r1(v):
    return None if v is None else round(v, 1)


# --- profiling (optional) -----------------------------------------------------------------------

def start_profiler(args, pid, seconds: float | None = None):
    if not args.profile or not pid:
        return None
    exe = shutil.which("py-spy")
    if exe is None:
        print("py-spy not found (pip install py-spy); no profile", file=sys.stderr)
        return None
    fmt = "raw" if args.profile.endswith(".txt") else "flamegraph"
    cmd = [exe, "record", "--pid", str(pid), "--rate", "50", "--nonblocking", "--format", fmt,
           "--duration", str(int(seconds or args.duration + 10)), "-o", args.profile]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(proc) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # py-spy writes the profile on SIGINT
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# --- running ------------------------------------------------------------------------------------

def streamlit_option_env(options: list[str]) -> dict[str, str]:
    """["runner.postScriptGC=false"] -> {"STREAMLIT_RUNNER_POST_SCRIPT_GC": "false"} (Streamlit's env names)."""
    from streamlit.config_option import to_snake_case

    env = {}
    for option in options:
        name, _, value = option.partition("=")
        env[f"STREAMLIT_{to_snake_case(name.strip().replace('.', '_')).upper()}"] = value.strip()
    return env


def print_result(r: dict) -> None:
    rows = [
        ("scenario", r["scenario"]),
        ("participants", f"{r['participants']} ({r['joined_via_join_page']} through the join page, "
                         f"{r['joined_via_domain']} opened their page directly), {r['connected']} connected, "
                         f"{r['replicas']} server(s)"),
        ("stories sent", r["stories_sent"]),
        ("stories acknowledged", r["stories_acknowledged"]),
        ("stories refused", r["stories_refused"]),
        ("stories stored", r["stories_stored"]),
        ("lost", r["lost"]),
        ("errors", r["errors"]),
        ("submit ack p50/p95/p99", f"{r['submit_ack_p50_ms']} / {r['submit_ack_p95_ms']} / {r['submit_ack_p99_ms']} ms"),
        ("submit → projector p50/p95", f"{r['projector_p50_ms']} / {r['projector_p95_ms']} ms"
                                       + (f" ({r['projector_missing']} never shown)" if r["projector_missing"] else "")),
        ("projector runs finished / cut short by a rerun", f"{r['projector_runs']} / {r['projector_runs_cut']}"),
        ("open → form on phones p50/p95", f"{r['follow_open_p50_ms']} / {r['follow_open_p95_ms']} ms"),
        ("join page submit p50/p95", f"{r['join_page_p50_ms']} / {r['join_page_p95_ms']} ms"),
        ("page load p50/p95", f"{r['connect_p50_ms']} / {r['connect_p95_ms']} ms"),
        ("field change rerun p50/p95", f"{r['field_change_p50_ms']} / {r['field_change_p95_ms']} ms"),
        ("drafts posted while typing, p95", f"{r['draft_posts']}, {r['draft_post_p95_ms']} ms"),
        ("sent by POST (fell back to the form's Send)", f"{r['sent_by_post']} ({r['post_fallbacks']})"),
        ("sent → fresh form on the phone p50/p95", f"{r['redraw_p50_ms']} / {r['redraw_p95_ms']} ms"),
        ("votes sent/refused/stored", f"{r['votes_sent']} / {r['votes_refused']} / {r['votes_stored']} "
                                      f"(ack p50/p95 {r['vote_ack_p50_ms']} / {r['vote_ack_p95_ms']} ms)"),
        ("fragment auto-rerun p50/p95", f"{r['fragment_rerun_p50_ms']} / {r['fragment_rerun_p95_ms']} ms "
                                        f"({r['fragment_reruns']} reruns)"),
        ("server CPU ramp/idle/open/submit/vote", f"{r['server_cpu_ramp_pct']} / {r['server_cpu_idle_pct']} / "
                                                  f"{r['server_cpu_open_pct']} / {r['server_cpu_submit_pct']} / "
                                                  f"{r['server_cpu_vote_pct']} % of one core"),
        ("server CPU while the room presses Send", f"{r['server_cpu_send_window_pct']} % of one core"),
        ("server CPU seconds (whole run)", r["server_cpu_s_total"]),
        ("server RSS end / peak", f"{r['server_rss_end_mb']} / {r['server_rss_peak_mb']} MB"),
        ("generator CPU while submitting", f"{r['generator_cpu_submit_pct']} % of one core"),
        ("load average (1 min) at the end", r["load_avg_1m"]),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    for note in r["notes"]:
        print(f"  note: {note}")
    for kind, count in list(r["error_kinds"].items())[:12]:
        print(f"  error ×{count}: {kind}")


def build_parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default=None,
                   help="a named room (see above): runs ours, then the floor, and prints both")
    p.add_argument("--participants", type=int, default=50)
    p.add_argument("--duration", type=float, default=None, help="seconds in which the stories are started "
                   "(deadline: the timer's length); default 60")
    p.add_argument("--stories", type=int, default=None, help="stories per participant (default 1)")
    p.add_argument("--ramp", type=float, default=None, help="seconds over which participants arrive "
                   "(default: participants / 10, at least 5)")
    p.add_argument("--settle", type=float, default=10.0, help="seconds of only following before the exercise opens")
    p.add_argument("--join-share", type=float, default=0.2, help="share of participants that use the real join page")
    p.add_argument("--server-url", default=None, help="already running server(s), comma-separated "
                   "(else --replicas servers are started)")
    p.add_argument("--server-pid", default=None, help="pid(s) of --server-url's process(es), comma-separated, "
                   "for CPU and RSS")
    p.add_argument("--replicas", type=int, default=1, help="start this many servers on one data dir (or "
                   "--database-url); participants are spread over them as by a sticky load balancer")
    p.add_argument("--data-dir", default=None, help="the SQLite data dir of --server-url's server")
    p.add_argument("--database-url", default=None, help="PostgreSQL URL for the server (and for counting)")
    p.add_argument("--field-gap", type=float, default=2.0, help="seconds a person spends on each field when "
                   "the form's fields rerun on change (no st.form)")
    p.add_argument("--vote", type=int, default=0, help="after the stories, open voting and put this many dots each")
    p.add_argument("--server-option", action="append", default=[], metavar="SECTION.OPTION=VALUE",
                   help="a Streamlit config option for the self-started server, e.g. runner.postScriptGC=false "
                        "(passed as STREAMLIT_SECTION_OPTION; may be repeated)")
    p.add_argument("--floor-form", action="store_true", help="bench/floor.py only: the floor's fields in an "
                   "st.form instead of plain widgets")
    p.add_argument("--no-floor", action="store_true", help="a named scenario: run ours only, not the floor")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile", default=None, help="record the server with py-spy while stories are sent "
                   "(file.svg: flamegraph, file.txt: collapsed stacks)")
    p.add_argument("--profile-phase", choices=("open", "submit", "deadline"), default="submit",
                   help="--profile: record while the exercise opens, while stories are sent (default), or "
                        "only the timer's last seconds (--scenario deadline)")
    p.add_argument("--json", default=None, help="also write the result as JSON to this file")
    p.add_argument("--keep-data", action="store_true", help="keep the fresh data dir of a self-started server")
    return p


def base_urls_of(args) -> list[str]:
    if args.server_url:
        return [u.strip().rstrip("/") for u in args.server_url.split(",") if u.strip()]
    return [""] * args.replicas


def apply_scenario(args) -> None:
    """Fill what the command line left open from the named scenario (default: stress)."""
    d = SCENARIOS[args.scenario or "stress"]
    args.text_gap, args.choice_gap = d["text_gap"], d["choice_gap"]
    args.post_drafts, args.send_window = d["post_drafts"], d["send_window"]
    if args.duration is None:
        args.duration = d["duration"] if d["duration"] is not None else 60.0
    if args.stories is None:
        args.stories = d.get("stories", 1)
    args.t_deadline = 0.0


SIDE_BY_SIDE = [
    ("connected", "connected"), ("stories acknowledged", "stories_acknowledged"), ("stories stored", "stories_stored"),
    ("lost", "lost"), ("errors", "errors"), ("submit ack p50 ms", "submit_ack_p50_ms"),
    ("submit ack p95 ms", "submit_ack_p95_ms"), ("story on projector p50 ms", "projector_p50_ms"),
    ("story on projector p95 ms", "projector_p95_ms"), ("open → form p50 ms", "follow_open_p50_ms"),
    ("open → form p95 ms", "follow_open_p95_ms"), ("field change p95 ms", "field_change_p95_ms"),
    ("page load p95 ms", "connect_p95_ms"), ("drafts posted", "draft_posts"), ("draft post p95 ms", "draft_post_p95_ms"),
    ("sent by POST", "sent_by_post"), ("sent → fresh form p95 ms", "redraw_p95_ms"),
    ("server CPU idle % core", "server_cpu_idle_pct"), ("server CPU open % core", "server_cpu_open_pct"),
    ("server CPU submit % core", "server_cpu_submit_pct"), ("server CPU Send window % core", "server_cpu_send_window_pct"), ("server CPU s whole run", "server_cpu_s_total"),
    ("server RSS peak MB", "server_rss_peak_mb"), ("load average 1 min", "load_avg_1m"),
]


def print_side_by_side(name: str, ours: dict, floor: dict) -> None:
    print(f"\n=== scenario {name}: {ours['participants']} participants, ours vs Streamlit's polling floor ===")
    width = max(len(k) for k, _ in SIDE_BY_SIDE)
    print(f"{'':<{width}}  {'Story Relay (push)':>20}  {'floor (2 s poll)':>18}")
    for label, key in SIDE_BY_SIDE:
        print(f"{label:<{width}}  {str(ours.get(key)):>20}  {str(floor.get(key)):>18}")


def main(argv=None, scenario_cls=StoryRelayScenario, doc: str = __doc__) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(doc).parse_args(argv)
    if args.scenario and scenario_cls is StoryRelayScenario and not args.server_url and not args.no_floor:
        print(f"--- scenario {args.scenario}: Story Relay ---", file=sys.stderr)
        ours = run_one(args, scenario_cls)
        from bench import floor

        print(f"--- scenario {args.scenario}: Streamlit's polling floor ---", file=sys.stderr)
        floor_argv = list(argv)
        for flag in ("--replicas", "--database-url"):  # the floor is one process without a database
            while flag in floor_argv:
                i = floor_argv.index(flag)
                del floor_argv[i:i + 2]
        for option in floor.app_streamlit_options():
            floor_argv += ["--server-option", option]
        floor_args = build_parser(floor.__doc__).parse_args(floor_argv)
        floor_args.json = (args.json + ".floor.json") if args.json else None
        theirs = run_one(floor_args, floor.FloorScenario)
        print_side_by_side(args.scenario, ours, theirs)
        return {"ours": ours, "floor": theirs}
    return run_one(args, scenario_cls)


def run_one(args, scenario_cls) -> dict:
    apply_scenario(args)
    if args.participants < 1 or args.participants > 5000:
        raise SystemExit("--participants must be between 1 and 5000")
    if not 1 <= args.replicas <= 8:
        raise SystemExit("--replicas must be between 1 and 8")
    if args.ramp is None:
        args.ramp = max(5.0, args.participants / 10)
    scenario = scenario_cls(args)
    procs: list = []
    tmp = None
    try:
        if args.server_url:
            base_urls = base_urls_of(args)
            pids = [int(p) for p in str(args.server_pid or "").split(",") if p.strip()]
            data_dir = Path(args.data_dir) if args.data_dir else None
            if data_dir is None and not args.database_url and getattr(scenario, "needs_database", True):
                raise SystemExit("with --server-url, give --data-dir or --database-url so stored stories can be counted")
        else:
            from tests.conftest import start_streamlit

            tmp = Path(tempfile.mkdtemp(prefix="story-relay-load-"))
            data_dir = tmp / "data"
            data_dir.mkdir()
            env = {**scenario.server_env(), **streamlit_option_env(args.server_option)}
            base_urls, pids = [], []
            for r in range(args.replicas):  # replicas share the data dir (SQLite) or --database-url
                proc, url = start_streamlit(scenario.script, data_dir, tmp / f"streamlit-{r}.log", env=env)
                procs.append(proc)
                base_urls.append(url)
                pids.append(proc.pid)
                print(f"server {r}: {url} (pid {proc.pid}), log {tmp / f'streamlit-{r}.log'}", file=sys.stderr)
        scenario.base_url = base_urls[0]
        result = asyncio.run(run_room(args, scenario, base_urls, pids, data_dir))
        print_result(result)
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        return result
    finally:
        scenario.close()
        if procs:
            from tests.conftest import stop_streamlit

            for proc in procs:
                stop_streamlit(proc)
        if tmp is not None and not args.keep_data:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
