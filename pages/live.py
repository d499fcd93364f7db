"""Streamlit glue for push: live fragments register with facilitation.live_hub and are rerun by the
server when what they show changes; the countdown ticks in the browser; drafts are posted as typed.

A live fragment keeps a slow safety-net poll (pages/common.py LIVE_POLL_SECONDS) and, each time it runs,
calls `follow(...)` with the workshop, the revision (or live-exercise signature) it drew and the
topics it shows. The hub then wakes it with `AppSession.request_rerun` on the server's event
loop, exactly as the websocket handler does for a browser's own fragment auto-rerun: the same
fragment id, the page's query string and script hash (without them a participant would land
on the join page), and no widget states (the session keeps the values it has).

Private Streamlit APIs used here, pinned with `streamlit==` in requirements.txt and guarded by
tests/test_live_push.py (which fails loudly when they move):
  ThreadState.get().fragment_id  the id of the fragment now running
  Runtime.instance().get_app_session(id).request_rerun(ClientState)
  AppSession._state == AppSessionState.APP_IS_RUNNING   a page still drawing is not woken (`follow`)
  ScriptRunContext.fragment_ids_this_run                a fragment's own run (`fragment_run_alone`)
  Runtime.instance()._get_async_objs().eventloop  the event loop, if st.App's lifespan did not give it
  streamlit.config._config_options               read without `_config_lock` (`read_config_without_lock`)
  Runtime.instance().media_file_mgr.remove_orphaned_files  called at most once a second (`thin_out_media_cleanup`)
"""

from __future__ import annotations

import time

import streamlit as st
from streamlit import config as st_config
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSessionState
from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx

from facilitation import live_hub
from facilitation.store import Store

PROJECTOR_MIN_INTERVAL_S = 0.5  # a burst of stories redraws the projector at most twice a second
CONSOLE_MIN_INTERVAL_S = 1.0
PHONE_MIN_INTERVAL_S = 1.0
WALL_MIN_INTERVAL_S = 2.0  # a phone's vote or build-on wall


def read_config_without_lock() -> None:
    """Let Streamlit read its settings without taking its config lock (once per process).

    Every message a script run sends asks `config.get_option` (message caching), and each ask takes one
    process-wide lock: with a room of phones running at once their script threads queue on it (a
    profile of 300 Sends in the timer's last 10 s put 15 % of the server's samples there). Once the
    settings are parsed they only change by swapping the whole dict, so reading the current dict
    without the lock sees either the old settings or the new ones, never half of each."""
    locked = st_config.get_option
    if getattr(locked, "reads_without_lock", False) or getattr(locked, "__module__", "") != "streamlit.config":
        return  # done already, or AppTest has put its own settings in (they live outside _config_options)

    def get_option(key: str):
        options = st_config._config_options
        if options is None or key not in options:
            return locked(key)  # not parsed yet, or an unknown key: Streamlit's own answer and error
        return options[key].value

    get_option.reads_without_lock = True
    get_option.__doc__ = locked.__doc__
    st_config.get_option = get_option


MEDIA_CLEANUP_EVERY_S = 1.0


def thin_out_media_cleanup() -> None:
    """Let the server look for orphaned media files at most once a second (once per process).

    Streamlit looks at the end of every script run, over every session, under one process-wide lock: a
    room of phones finishing runs together queue on it (5 % of a deadline profile). Files no page
    shows any more are then removed up to a second later; nothing a page shows is touched."""
    manager = Runtime.instance().media_file_mgr
    if getattr(manager.remove_orphaned_files, "thinned_out", False):
        return
    every_run = manager.remove_orphaned_files
    last = [float("-inf")]

    def remove_orphaned_files() -> None:
        now = time.monotonic()
        if now - last[0] >= MEDIA_CLEANUP_EVERY_S:
            last[0] = now
            every_run()

    remove_orphaned_files.thinned_out = True
    manager.remove_orphaned_files = remove_orphaned_files


def _attach() -> None:
    # `streamlit run` of a script without st.App (tests' AppTest has no Runtime: then no push).
    if not Runtime.exists():
        return
    read_config_without_lock()
    thin_out_media_cleanup()
    if not live_hub.hub.attached:  # st.App's lifespan (facilitation/routes.py) usually attached it already
        live_hub.hub.attach(Runtime.instance()._get_async_objs().eventloop)


def fragment_run_alone() -> bool:
    """Whether this is a fragment's own run (its safety-net poll, or a push), not a run of the whole page.

    A live fragment that sees the workshop moved on redraws the page (`st.rerun(scope="app")`) only in
    its own run: inside a run of the whole page, a change that lands while the page draws would
    restart that run, and a room sending 50 stories a second kept the projector restarting forever.
    The hub wakes such a page again once its run is over (`follow` registered what it drew)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def follow(store: Store, workshop_id: int, name: str, *, topics: set[str] | frozenset[str], revision: int,
           signature: tuple | None = None, min_interval: float = 0.0, page: bool = False) -> None:
    """Call inside a live fragment each time it runs: the server reruns this fragment when `topics`
    of the workshop change (only when the live exercise's signature moves, if `signature` is given).

    `page=True`: this fragment would only redraw the whole page when woken (the projector, the
    console, a phone following the live exercise), so the server reruns the page at once and
    saves a fragment run per screen (500 of them when an exercise opens). No widget states are
    sent either way: the session keeps the values it holds."""
    ctx = get_script_run_ctx()
    fragment_id = ThreadState.get().fragment_id if ctx is not None else None
    if ctx is None or not fragment_id:
        return
    _attach()
    if not live_hub.hub.attached:
        return
    session_id = ctx.session_id
    state = ClientState(query_string=ctx.query_string, page_script_hash=ctx.page_script_hash,
                        fragment_id="" if page else fragment_id, is_auto_rerun=not page)

    def wake() -> bool | str:  # on the event loop
        session = Runtime.instance().get_app_session(session_id)  # None once the tab is closed
        if session is None:
            return False
        if page and session._state == AppSessionState.APP_IS_RUNNING:
            # A rerun request now would stop this run where it is and start the page again: under a room's
            # load a projector woken twice a second never finished a run. The hub asks again once it is done.
            return live_hub.BUSY
        session.request_rerun(state)
        return True

    live_hub.hub.follow(store, workshop_id, (session_id, name), topics=frozenset(topics), revision=revision,
                        wake=wake, signature=signature, min_interval=min_interval)


# --- the countdown, drawn by the browser's clock -------------------------------------------------------

_COUNTDOWN_JS = r"""
const clocks = new Map();
// What a screen reader hears (the polite status line, not the ticking clock): when the clock starts or
// changes, at each of the last five whole minutes, at 30 and 10 seconds, and when time is up.
const SAY_AT = new Set([300, 240, 180, 120, 60, 30, 10, 0]);
function spoken(c, left) {
  if (left <= 0) return c.up;
  const m = Math.floor(left / 60), s = left % 60;
  const words = m >= 1 ? `${m} ${m === 1 ? "minute" : "minutes"}` + (s && m < 5 ? ` ${s} seconds` : "")
                       : `${s} seconds`;
  return c.spoken.replace("{time}", words);
}
function draw(el, say, c) {
  if (c.deadline === null) {
    el.textContent = c.idle;
    if (c.said !== "idle") { say.textContent = c.idle; c.said = "idle"; }
    return;
  }
  const left = Math.max(0, Math.round(c.deadline - (Date.now() / 1000 + c.offset)));
  const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  el.textContent = left > 0 ? c.running.replace("{clock}", clock) : c.up;
  const moment = c.said !== c.deadline ? "new" : (SAY_AT.has(left) && c.saidLeft !== left ? "mark" : null);
  if (moment) {
    say.textContent = spoken(c, left);
    c.said = c.deadline; c.saidLeft = left;
  }
}
export default function (component) {
  const { data, key, parentElement } = component;
  const el = parentElement.querySelector(".countdown");
  const say = parentElement.querySelector(".countdown-said");
  let c = clocks.get(key);
  if (!c) { c = { timer: null, said: undefined, saidLeft: null }; clocks.set(key, c); }
  Object.assign(c, { deadline: data.deadline, idle: data.idle, running: data.running, up: data.up,
                     spoken: data.spoken, offset: data.now - Date.now() / 1000 });  // the server's clock, as far as the browser can tell
  el.className = "countdown " + data.look;
  el.style.color = data.color || "";
  draw(el, say, c);
  clearInterval(c.timer);
  c.timer = setInterval(() => draw(el, say, c), 250);
  return () => { clearInterval(c.timer); clocks.delete(key); };
}
"""

_COUNTDOWN_CSS = """
.countdown { font-variant-numeric: tabular-nums; color: inherit; font-family: inherit; display: block; }
.countdown.projector { font-size: 72px; font-weight: 700; text-align: center; line-height: 1.2; }
.countdown.caption { font-size: 14px; }
.countdown.metric { font-size: 2.25rem; line-height: 1.3; }
.countdown-said { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
                  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
"""

_countdown = st.components.v2.component("story_relay_countdown", html=('<span class="countdown" role="timer" aria-live="off"></span>'
                                              '<span class="countdown-said" role="status" aria-live="polite"></span>'),
                                        css=_COUNTDOWN_CSS, js=_COUNTDOWN_JS)


def countdown(deadline: float | None, *, key: str, look: str, running: str = "{clock}", up: str = "Time is up",
              idle: str = "", color: str = "", spoken: str = "{time} left") -> None:
    """A clock the browser ticks from `deadline` (epoch seconds; None: shows `idle`): no rerun per second.
    `look` is "projector", "caption" or "metric"; `running` holds "{clock}" for m:ss; `color` a CSS
    colour (default: the surrounding text's). A polite status line says `spoken` ("{time}" in words) when the
    clock starts, at each of the last five minutes, at 30 and 10 seconds, and `up` at the end: never every second."""
    _countdown(key=key, data={"deadline": deadline, "now": time.time(), "look": look, "running": running,
                              "up": up, "idle": idle, "color": color, "spoken": spoken})


# --- drafts saved as the person types ------------------------------------------------------------------

DRAFT_IDLE_MS = 1000  # saved one second after the person stops typing…
DRAFT_MAX_WAIT_MS = 5000  # …and at least every five seconds while they keep typing

_DRAFT_JS = r"""
const keepers = new Map();
export default function (component) {
  const { data, key } = component;
  let k = keepers.get(key);
  if (!k) {
    k = { bound: new WeakSet(), dirty: new Map(), idle: null, first: null };
    keepers.set(key, k);
  }
  k.data = data;
  const url = new URL("api/draft", document.baseURI).href;
  const post = (field, text, keepalive) => fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, keepalive,
    body: JSON.stringify({ code: k.data.code, p: k.data.p, exercise: k.data.exercise, form: k.data.form, field, text }),
  }).catch(() => {});
  const flush = (keepalive) => {
    clearTimeout(k.idle); k.idle = null; k.first = null;
    for (const [field, text] of k.dirty) post(field, text, keepalive);
    k.dirty.clear();
  };
  const bind = () => {
    for (const field of k.data.fields) {
      const box = document.querySelector(`.st-key-${CSS.escape(k.data.form + "-" + field)} textarea, ` +
                                         `.st-key-${CSS.escape(k.data.form + "-" + field)} input`);
      if (!box || k.bound.has(box)) continue;
      k.bound.add(box);
      const typed = () => {
        k.dirty.set(field, box.value);
        clearTimeout(k.idle);
        k.idle = setTimeout(() => flush(false), k.data.idle_ms);
        if (k.first === null) k.first = Date.now();
        else if (Date.now() - k.first > k.data.max_wait_ms) flush(false);
      };
      box.addEventListener("input", typed);
      // Someone quick (or a slow phone) may type before this box is found: keep what is already in it.
      if (box.value) typed();
    }
  };
  bind();
  clearInterval(k.scan);
  k.scan = setInterval(bind, 1000);  // the fields of a form drawn after this component
  const hide = () => { if (document.visibilityState === "hidden") flush(true); };
  document.addEventListener("visibilitychange", hide);
  return () => { flush(true); clearInterval(k.scan); document.removeEventListener("visibilitychange", hide); keepers.delete(key); };
}
"""

_draft_keeper = st.components.v2.component("story_relay_draft_keeper", html="", js=_DRAFT_JS)


def keep_typing(*, code: str, token: str, exercise_key: str, form_id: str, fields: list[str]) -> None:
    """Post the text fields of this form to /api/draft as they are typed (debounced), without a rerun."""
    _draft_keeper(key=f"draft-keeper-{form_id}", data={
        "code": code, "p": token, "exercise": exercise_key, "form": form_id, "fields": fields,
        "idle_ms": DRAFT_IDLE_MS, "max_wait_ms": DRAFT_MAX_WAIT_MS})


# --- Send by POST: a story stored without a script run -----------------------------------------------

SEND_TIMEOUT_MS = 8000  # no answer by then: the form's own Send takes over (the story is stored once either way)
REDRAW_FALLBACK_S = 10.0  # the page asks for its own redraw if the server's paced one has not come by then

_SEND_JS = r"""
const senders = new Map();
let current = null;  // the sender of the form on the page now
function readAnswers(s) {
  // What the form shows, field by field; null when a field cannot be read for sure (then the form's own Send).
  const answers = {};
  for (const f of s.data.fields) {
    const box = document.querySelector(`.st-key-${CSS.escape(s.data.form + "-" + f.name)}`);
    if (!box) { answers[f.name] = null; continue; }
    if (f.kind === "text") {
      const el = box.querySelector("textarea, input");
      if (!el) return null;
      answers[f.name] = el.value;
    } else if (f.kind === "select") {
      const el = box.querySelector("input[role=combobox]");
      if (!el) return null;
      if (!el.value) { answers[f.name] = null; continue; }
      if (!Object.prototype.hasOwnProperty.call(f.labels, el.value)) return null;
      answers[f.name] = f.labels[el.value];
    } else if (f.kind === "radio") {
      const el = box.querySelector('label[data-selected="true"] input[type=radio]') || box.querySelector("input[type=radio]:checked");
      if (!el) { answers[f.name] = null; continue; }
      const i = Number(el.value);
      if (!Number.isInteger(i) || i < 0 || i >= f.options.length) return null;
      answers[f.name] = f.options[i];
    } else if (f.kind === "date") {
      const el = box.querySelector("input[type=date]");
      if (!el) return null;
      if (!el.value) {
        if (box.querySelector('[role=spinbutton]:not([data-placeholder="true"])')) return null;  // half typed
        answers[f.name] = null; continue;
      }
      if (!/^\d{4}-\d{2}-\d{2}$/.test(el.value)) return null;
      answers[f.name] = el.value;
    } else {
      return null;
    }
  }
  return answers;
}
function lock(s, locked) {
  for (const sel of [".st-key-story-form", `.st-key-${CSS.escape(s.data.button)}`]) {
    const box = document.querySelector(sel);
    if (!box) continue;
    if (locked) { box.setAttribute("inert", ""); box.style.opacity = "0.55"; }
    else { box.removeAttribute("inert"); box.style.opacity = ""; }
  }
}
function fallBack(s, button) {
  // The form's own Send (a script run): it checks again and shows every problem under its field.
  s.state = "idle";
  s.status.className = "send-status";
  s.status.textContent = "";
  lock(s, false);
  s.pass = true;
  button.click();
}
async function send(s, button) {
  const answers = readAnswers(s);
  if (answers === null) return fallBack(s, button);
  s.state = "sending";
  s.status.className = "send-status";
  s.status.textContent = s.data.sending;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), s.data.timeout_ms);
  try {
    const r = await fetch(new URL("api/story", document.baseURI).href, {
      method: "POST", headers: { "Content-Type": "application/json" }, signal: ctrl.signal,
      body: JSON.stringify({ code: s.data.code, p: s.data.p, exercise: s.data.exercise, form: s.data.form,
                             session: s.data.session, answers }),
    });
    const body = await r.json().catch(() => ({}));
    clearTimeout(timer);
    if (!(r.ok && body.ok)) return fallBack(s, button);
    s.state = "sent";
    s.status.className = "send-status sent";
    s.status.textContent = s.data.sent;
    lock(s, true);  // this form is done: a fresh one comes with the redraw
    const wait = Math.max(s.data.redraw_fallback_s, (body.redraw_in_s || 0) + s.data.redraw_fallback_s);
    s.redraw = setTimeout(() => s.setTriggerValue("sent", s.data.form), wait * 1000);
  } catch (e) {
    clearTimeout(timer);
    fallBack(s, button);
  }
}
function onClick(event) {
  const s = current;
  if (!s || s.data.disabled) return;
  const button = event.target.closest && event.target.closest(`.st-key-${CSS.escape(s.data.button)} button`);
  if (!button) return;
  if (s.pass) { s.pass = false; return; }  // our own press of the form's Send: let it through
  // Before React sees it (this listener is on the document, in the capture phase): no script run.
  event.stopPropagation();
  event.preventDefault();
  if (s.state === "idle") send(s, button);
}
export default function (component) {
  const { data, key, parentElement, setTriggerValue } = component;
  let s = senders.get(key);
  if (!s) {
    s = { state: "idle", pass: false, redraw: null };
    senders.set(key, s);
  }
  Object.assign(s, { data, setTriggerValue, status: parentElement.querySelector(".send-status") });
  current = s;
  if (s.state === "idle" && data.note && !s.noted) {  // the story just sent, said under the button
    s.noted = true;
    s.status.className = "send-status sent";
    s.status.textContent = data.note;
  }
  if (!window.__storyRelaySend) {
    window.__storyRelaySend = true;
    document.addEventListener("click", onClick, true);
  }
  if (s.state !== "sent") lock(s, false);
  return () => {
    clearTimeout(s.redraw);
    lock(s, false);
    senders.delete(key);
    if (current === s) current = null;
  };
}
"""

_SEND_CSS = """
.send-status { font-size: 0.95rem; min-height: 1.4rem; margin-top: 0.25rem; }
.send-status.sent { color: #166534; font-weight: 600; }
"""

_send_by_post = st.components.v2.component("story_relay_send_by_post", html='<div class="send-status" role="status" aria-live="polite"></div>',
                                           css=_SEND_CSS, js=_SEND_JS)


def send_by_post(*, code: str, token: str, exercise_key: str, form_id: str, button_key: str, fields: list[dict],
                 sending: str, sent: str, note: str = "", disabled: bool = False) -> None:
    """Make the form's Send button (widget key `button_key`) send the story by POST /api/story, without a
    script run (facilitation/sending.py), reading `fields` off the page as they show; `note` is said under
    the button when the form is drawn (the story just sent)
    (exercise_widgets.field_readings). A refusal, a field it cannot read or no answer in time presses
    the form's own Send instead; without this component (no JavaScript, AppTest) that Send is all there is."""
    ctx = get_script_run_ctx()
    _send_by_post(key=f"send-by-post-{form_id}", on_sent_change=lambda: None, data={
        "code": code, "p": token, "exercise": exercise_key, "form": form_id, "button": button_key,
        "session": ctx.session_id if ctx is not None else "", "fields": fields, "sending": sending, "sent": sent,
        "note": note,
        "disabled": disabled, "timeout_ms": SEND_TIMEOUT_MS, "redraw_fallback_s": REDRAW_FALLBACK_S})


# --- accessible names for buttons whose visible text is short ------------------------------------------

_NAMES_JS = r"""
const namers = new Map();
export default function (component) {
  const { data, key } = component;
  let n = namers.get(key);
  if (!n) { n = {}; namers.set(key, n); }
  n.names = data.names;
  // setAttribute takes the text as text: typed words never become markup here.
  const apply = () => {
    for (const [widget, name] of Object.entries(n.names)) {
      const button = document.querySelector(`.st-key-${CSS.escape(widget)} button`);
      if (button && button.getAttribute("aria-label") !== name) button.setAttribute("aria-label", name);
    }
  };
  apply();
  clearInterval(n.scan);
  n.scan = setInterval(apply, 300);  // buttons drawn after this component, or drawn again
  return () => { clearInterval(n.scan); namers.delete(key); };
}
"""

_button_names = st.components.v2.component("story_relay_button_names", html="", js=_NAMES_JS)


def name_buttons(names: dict[str, str], *, key: str) -> None:
    """Give buttons (by widget key) an accessible name that says what they act on, e.g. which story a
    vote is for, while the visible text stays short. Names may hold typed text: set as text, never markup."""
    _button_names(key=key, data={"names": names})
