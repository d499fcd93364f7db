"""Streamlit glue shared by the pages: the store, who this browser is, and safe display of text."""

from __future__ import annotations

import functools
import json
import os
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from facilitation import access, links, sign_in, throttle, workshops
from facilitation.store import Store, get_store
from facilitation.workshops import Workshop

ASSETS = Path(__file__).resolve().parent.parent / "assets"
# Live screens are woken by push (pages/live.py); this is only their safety-net poll.
LIVE_POLL_SECONDS = 30
# A phone's "what is the room on": 500 of them at 30 s were 17 script runs a second in an idle room
# (~7 % of a core). The push hub's own sweep (facilitation/live_hub.py SWEEP_S) re-wakes a screen
# whose wake was lost without any script run, so the phones' browser poll is only the last net.
PHONE_POLL_SECONDS = 90


def _use_app_navigation() -> None:
    """Make every visit go through app.py's st.navigation, also the first one after a restart.

    Streamlit treats a top-level `pages/` folder as legacy multipage mode until the process first
    calls st.navigation; until then a visit to /console would run this file directly, without
    app.py (no page config, every module listed as a page). Leave that mode and run again.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_use_app_navigation()


_MARKDOWN_PUNCTUATION = frozenset("\\`*_{}[]()<>#+-!|~$=^\"'/%;,?&")
_WORD_JOINER = "\u2060"


def plain(text: object) -> str:
    """Text someone typed, made literal for a place Streamlit reads as markdown (st.error, a label …).

    Every ASCII punctuation mark gets a backslash (CommonMark lets any of them be escaped), so
    links, images, emphasis, `:red[…]` colours, `:material/…:` icons, `$…$` maths and HTML show
    as the characters typed. Streamlit also turns bare addresses (https://…, www.…, a@b.c) into
    links after parsing, which no escape prevents: an invisible word joiner (U+2060) after each
    ':' and '@' and before each '.' breaks those patterns. Prefer st.text where the layout allows.
    """
    out = []
    for ch in str(text):
        if ch in ":@":
            out.append(f"\\{ch}{_WORD_JOINER}")
        elif ch == ".":
            out.append(f"{_WORD_JOINER}\\.")
        elif ch in _MARKDOWN_PUNCTUATION:
            out.append(f"\\{ch}")
        else:
            out.append(ch)
    return "".join(out)


def format_clock(seconds: float) -> str:
    """A countdown as m:ss."""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def store() -> Store:
    return get_store()


def use_css(name: str) -> None:
    """Inject one of our own stylesheets from assets/ (never user text)."""
    st.html(_css(name))


@functools.lru_cache(maxsize=32)
def _css(name: str) -> str:  # read once per process: every live screen draws it on every run
    return f"<style>{(ASSETS / name).read_text(encoding='utf-8')}</style>"


def query_code() -> str:
    return st.query_params.get("code", "")


def client_address() -> str:
    """What the throttles count by: this browser's address (the TCP peer, or a trusted proxy's
    X-Forwarded-For, see facilitation/routes.py), never the session, which a client can renew."""
    address = st.context.ip_address
    return throttle.client_key(address if isinstance(address, str) else None)  # None: loopback (or AppTest)


def browser_session_id() -> str:
    """A random id of this browser session (never shown, never in the URL)."""
    return st.session_state.setdefault("browser_session_id", uuid.uuid4().hex)


def cookies() -> dict[str, str]:
    """The cookies this browser sent when it opened the page (none in AppTest)."""
    return {name: value for name, value in dict(st.context.cookies).items() if isinstance(value, str)}


def server_secret() -> bytes:
    return access.server_secret()


def base_path() -> str:
    """server.baseUrlPath as an absolute path prefix: "" or "/story-relay"."""
    parts = [p for p in (st.get_option("server.baseUrlPath") or "").split("/") if p]
    return "/" + "/".join(parts) if parts else ""


@st.cache_data(ttl=60, show_spinner=False)
def _lan_address() -> str | None:
    return links.discover_lan_address()


def room() -> links.RoomAddress:
    """The address the room's phones use (STORY_RELAY_PUBLIC_URL, the browser's, or this machine's LAN address)."""
    return links.room_address(st.context.url, public_url=os.environ.get("STORY_RELAY_PUBLIC_URL"),
                              base_path=st.get_option("server.baseUrlPath") or "", port=st.get_option("server.port"),
                              server_address=st.get_option("server.address"), lan_address=_lan_address)


def navigate(url: str, label: str) -> None:
    """Send the browser to `url` (one of our /api routes) at once, with a link if scripts are off."""
    st.html(f"<script>window.location.replace({json.dumps(url)});</script>", unsafe_allow_javascript=True)
    st.link_button(label, url, type="primary")


def remember_facilitator(code: str, key: str) -> None:
    """This browser session proved it holds the key; the next facilitator page turns that into a cookie."""
    st.session_state["facilitator_code"] = code
    st.session_state["facilitator_key"] = key


def forget_facilitator() -> None:
    for name in ("facilitator_code", "facilitator_key", "facilitator_cookie_asked"):
        st.session_state.pop(name, None)


def _cookie_codes() -> list[str]:
    prefix = access.FACILITATOR_COOKIE_PREFIX
    return [name[len(prefix):] for name in cookies() if name.startswith(prefix)]


def facilitator_workshop() -> Workshop | None:
    """The workshop this browser facilitates: its signed cookie, or a key this session proved; checked each run.

    A key in the address is never used (and is taken out of it): the key travels only in the
    sign-in form, once.
    """
    if "key" in st.query_params:
        del st.query_params["key"]
    code = st.query_params.get("code") or st.session_state.get("facilitator_code", "")
    candidates = [code] if code else _cookie_codes()[:5]
    for candidate in candidates:
        workshop = sign_in.workshop_for_cookie(store(), candidate,
                                               cookies().get(access.facilitator_cookie_name(candidate)),
                                               server_secret())
        by_cookie = workshop is not None
        if workshop is None and st.session_state.get("facilitator_code") == access.normalise_join_code(candidate):
            workshop = sign_in.workshop_for_key(store(), candidate, st.session_state.get("facilitator_key"))
        if workshop is None:
            continue
        signed_in_before = st.session_state.get("facilitator_code") == workshop.code
        st.session_state["facilitator_code"] = workshop.code
        st.session_state["facilitator_by_cookie"] = by_cookie
        if not signed_in_before:
            st.rerun()  # app.py builds the facilitator's menu from session state: draw it from this run on
        return workshop
    return None


def _sign_in_cookie(workshop: Workshop) -> None:
    """A session that proved the key (sign-in form, /new) but has no cookie yet: get one, so a refresh
    keeps the facilitator signed in. The browser goes through /api/facilitator/enter with a one-time
    ticket and comes back to this page's address without any key."""
    if (st.session_state.get("facilitator_by_cookie") or not st.context.headers.get("host")  # no browser (AppTest): session only
            or st.session_state.get("facilitator_cookie_asked") == workshop.code):
        return
    st.session_state["facilitator_cookie_asked"] = workshop.code
    page = st.context.url.rsplit("/", 1)[-1].split("?", 1)[0] if st.context.url else "console"
    ticket = sign_in.ticket(store(), workshop, server_secret())
    navigate(f"{base_path()}/api/facilitator/enter?{urlencode({'ticket': ticket, 'next': page})}",
             "Continue to the console")
    st.stop()


def require_facilitator() -> Workshop:
    """Stop the page with a sign-in form unless this browser holds the workshop's facilitator cookie or key."""
    workshop = facilitator_workshop()
    if workshop is not None:
        _sign_in_cookie(workshop)
        return workshop
    st.title("Facilitator sign-in")
    if new_key := st.session_state.get("new_facilitator_key"):
        st.success(f"The key of workshop {new_key[0]} was replaced: the old key and every browser signed in with it "
                   "no longer open it. Your new facilitator key, shown only this once — copy it, then sign in with it:",
                   icon=":material/key:")
        st.code(new_key[1], language=None)
    if st.query_params.get("signed_out"):
        st.success("Signed out on this browser. Your key still opens the workshop from any browser.")
    elif st.query_params.get("signin") == "expired":
        st.warning("That sign-in link has expired or was used already. Sign in again.")
    st.write("This page belongs to the workshop's facilitator. Enter the join code and the facilitator key "
             "you were given when the workshop was created.")
    with st.form("facilitator_sign_in"):
        code = st.text_input("Join code", value=query_code(), max_chars=12)
        key = st.text_input("Facilitator key", type="password", max_chars=64)
        if st.form_submit_button("Sign in", type="primary"):
            result = sign_in.sign_in(store(), code, key, client_address())
            if result.workshop is None:
                st.error(result.message)
            else:
                remember_facilitator(result.workshop.code, key)
                st.session_state.pop("new_facilitator_key", None)
                st.query_params["code"] = result.workshop.code
                st.rerun()
    st.page_link("pages/new.py", label="Create a new workshop instead", icon=":material/add_circle:")
    st.stop()


def facilitator_params(workshop: Workshop) -> dict[str, str]:
    """The query of a facilitator page's address: the code only (the cookie or session does the rest)."""
    return {"code": workshop.code}


def sign_out_url(workshop: Workshop) -> str:
    return f"{base_path()}/api/facilitator/sign-out?{urlencode({'code': workshop.code})}"


def projector_url(workshop: Workshop, theme: str = "dark") -> str:
    """The projector's address with its screen token (the second factor that shows the wall)."""
    query = {"code": workshop.code, "screen": sign_in.projector_token(store(), workshop, server_secret())}
    if theme == "light":
        query["theme"] = "light"
    return f"projector?{urlencode(query)}"


def projector_allowed(workshop: Workshop) -> bool:
    """The wall shows to a link with the facilitator's screen token, or to this workshop's signed-in facilitator."""
    if sign_in.projector_allowed(store(), workshop, server_secret(), st.query_params.get("screen")):
        return True
    return sign_in.workshop_for_cookie(store(), workshop.code,
                                       cookies().get(access.facilitator_cookie_name(workshop.code)),
                                       server_secret()) is not None


def code_wait_seconds() -> int:
    """How long this client must wait before its next join-code try (wrong codes, every path)."""
    return throttle.join_throttle.wait_seconds(client_address())


def wrong_code() -> int:
    """Count a wrong join code against this client's address; returns the wait that now applies."""
    return throttle.join_throttle.record_failure(client_address())


def countdown(wait_seconds: int, message) -> None:
    """A live countdown of a throttle's wait (`message(seconds)` is the text); the page redraws at zero."""
    until = time.time() + wait_seconds
    st.session_state["countdown_until"] = max(until, st.session_state.get("countdown_until", 0))

    @st.fragment(run_every=1)
    def tick():
        left = int(round(st.session_state.get("countdown_until", 0) - time.time()))
        if left <= 0:
            st.session_state.pop("countdown_until", None)
            st.rerun(scope="app")
        with st.container(key="throttle-countdown"):
            st.error(message(left), icon=":material/hourglass_top:")

    tick()


def remember_participant(workshop: Workshop, participant) -> None:
    """Let this browser remember who it is in this workshop (an HttpOnly cookie set by
    /api/participant/remember), so the join link opened again offers "Continue as …"."""
    name = access.participant_cookie_name(workshop.code)
    if (cookies().get(name) == participant.token or not st.context.headers.get("host")
            or st.session_state.get("participant_remembered") == participant.token):
        return
    st.session_state["participant_remembered"] = participant.token
    body = json.dumps({"code": workshop.code, "p": participant.token})
    url = f"{base_path()}/api/participant/remember"
    st.html(f"<script>fetch({json.dumps(url)}, {{method: 'POST', credentials: 'same-origin', "
            f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}});</script>",
            unsafe_allow_javascript=True)


PROJECTOR_LINK_INCOMPLETE = ("This projector link is not complete. Open the projector from the facilitator console: "
                             "its link carries the workshop's screen token.")


def projector_workshop() -> Workshop | None:
    """The workshop whose wall this projector may show, or None after telling the screen why not.

    An unknown code and a known code without the screen token get the same answer (the page is no
    oracle for codes), and both count as a wrong code against this client's address.
    """
    code = access.normalise_join_code(query_code())
    if code:
        if wait := code_wait_seconds():
            st.title("Projector")
            countdown(wait, throttle.too_many_tries)
            return None
        found = workshops.find_workshop(store(), code)
        if found is not None and projector_allowed(found):
            return found
        attempt = (code, st.query_params.get("screen", ""))
        if st.session_state.get("projector_refused") != attempt:  # once per link, not on every rerun
            st.session_state["projector_refused"] = attempt
            wrong_code()
    st.title("Projector")
    st.write(PROJECTOR_LINK_INCOMPLETE if code else
             "Open this page from the facilitator console: its projector link carries the workshop code and screen token.")
    return None
