"""Issue 11, item 6 and issue 12 "Joining": join-code guessing is throttled per client address on
every path (the form, `/?code=`, `/projector?code=`) and across browser sessions; the projector
shows a room's wall only with the facilitator's screen token; X-Forwarded-For counts only from a
configured proxy; the person who finally types the right code is not punished for the room's typos.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit_browser import screen_for

from facilitation import routes, throttle

from .conftest import all_page_text, open_room, run_page

LIMIT = 12
NO_SUCH_CODE = "No workshop has this code. Check the code on the screen and try again."


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def guarded(page_store, monkeypatch):
    """A room on the pages' database and a join-code throttle on a clock the test moves."""
    from facilitation import store as store_module

    clock = Clock()
    # The server allows 60 wrong codes a minute per address; 12 here keeps the test short, same rule.
    monkeypatch.setattr(throttle, "join_throttle", throttle.Throttle(LIMIT, 60, clock=clock))
    w, key = open_room(store_module.get_store(page_store), title="Guess my wall")
    return w, key, clock


def open_projector(**query):
    """The projector page alone, as a browser opening /projector?… does (no join page run first)."""
    from streamlit.testing.v1 import AppTest

    from .conftest import APP

    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    at.switch_page("pages/projector.py")
    at.query_params.update(query)
    at.run()
    return at


def errors(at) -> list[str]:
    assert not at.exception, at.exception
    return [e.value for e in at.error]


def type_code(at, code: str) -> list[str]:
    at.text_input[0].input(code)
    next(b for b in at.button if b.label == "Continue").click().run()
    return errors(at)


def test_codes_in_the_address_are_throttled_per_address_across_sessions_and_paths(guarded, figures):
    w, _, clock = guarded
    for i in range(LIMIT // 2):  # every guess a fresh browser session, half of them on the projector
        at = run_page("pages/join.py", code=f"WRONG{i:02d}")
        assert errors(at) == [NO_SUCH_CODE]
        at = open_projector(code=f"GUESS{i:02d}")
        assert "This projector link is not complete" in all_page_text(at)
    at = run_page("pages/join.py", code=w.code)  # the next try, with the right code: not even looked up
    assert any(e.startswith("Too many tries — wait") for e in errors(at)), errors(at)
    assert w.title not in all_page_text(at)
    assert at.get("fragment") is not None
    at = open_projector(code=w.code, screen=screen_for(w.code))
    assert "Too many tries" in all_page_text(at) and w.title not in all_page_text(at)
    clock.now += 61  # the wait is over: the right code is welcome
    at = run_page("pages/join.py", code=w.code)
    assert errors(at) == [] and w.title in all_page_text(at)
    figures.add("join-code guesses by address (`/?code=`, `/projector?code=`, new session each)",
                "throttled after 60 a minute per client address (any mix of sessions and paths); the right code is "
                "refused only during the wait, shown as a live countdown")


def test_the_form_throttles_across_sessions_but_not_the_person_who_types_it_right(guarded):
    w, _, clock = guarded
    at = run_page("pages/join.py")
    for i in range(5):  # five typos: the old throttle locked the phone out for a minute here
        assert type_code(at, f"WRONG{i}") == [NO_SUCH_CODE]
    assert type_code(at, w.code) == []  # … and refused the right code too
    assert at.query_params["code"] == w.code

    for i in range(LIMIT - 5):  # the rest of the room's budget, from other sessions on the same address
        assert type_code(run_page("pages/join.py"), f"TYPO{i:02d}")[0] == NO_SUCH_CODE
    late = run_page("pages/join.py")
    refused = type_code(late, w.code)
    assert refused and refused[0].startswith("Too many tries — wait 60 seconds"), refused
    clock.now += 60.5
    assert type_code(late, w.code) == []


def test_a_guessed_projector_link_shows_no_wall(guarded):
    w, _, _ = guarded
    unknown = all_page_text(open_projector(code="NOSUCH9"))
    known = all_page_text(open_projector(code=w.code))
    assert known == unknown  # the page is no oracle: a real code without the token reads the same
    assert w.code not in known and w.title not in known
    forged = all_page_text(open_projector(code=w.code, screen="A" * 22))
    assert w.title not in forged
    shown = all_page_text(open_projector(code=w.code, screen=screen_for(w.code)))
    assert w.title in shown or w.code in shown


# --- X-Forwarded-For only from a configured proxy ---------------------------------------------

def _client_seen(environ: dict[str, str], peer: str, forwarded: str) -> str:
    """The client address Streamlit's server (uvicorn, as `streamlit run` configures it) hands the app."""
    import uvicorn

    routes.trust_forwarded_headers_only_from_configured_proxies(environ)
    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"][0]

    config = uvicorn.Config(app, proxy_headers=True, lifespan="off", log_level="warning")
    config.load()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "path": "/",
             "raw_path": b"/", "query_string": b"", "scheme": "http", "client": (peer, 51000),
             "server": ("127.0.0.1", 8501), "headers": [(b"x-forwarded-for", forwarded.encode())]}
    # On a thread of its own: a browser test before this one may have left an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, config.loaded_app(scope, None, None)).result(timeout=10)
    return seen["client"]


def test_x_forwarded_for_counts_only_from_a_configured_proxy():
    try:
        # uvicorn alone believes any local client: a script on the same machine could be anyone.
        assert _client_seen({}, "127.0.0.1", "203.0.113.7") == "127.0.0.1"
        assert _client_seen({}, "198.51.100.4", "203.0.113.7") == "198.51.100.4"
        proxy = {"STORY_RELAY_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}
        assert _client_seen(proxy, "127.0.0.1", "203.0.113.7") == "203.0.113.7"
        assert _client_seen(proxy, "10.1.2.3", "198.51.100.9, 203.0.113.7") == "203.0.113.7"  # the proxy's own entry
        assert _client_seen(proxy, "198.51.100.4", "203.0.113.7") == "198.51.100.4"  # not our proxy: ignored
    finally:
        routes.trust_forwarded_headers_only_from_configured_proxies({})
    with pytest.raises(ValueError, match="STORY_RELAY_TRUSTED_PROXIES"):
        routes.trusted_proxies({"STORY_RELAY_TRUSTED_PROXIES": "my-proxy.example"})


def test_app_py_installs_the_proxy_rule_before_uvicorn_wraps_it():
    """`streamlit run app.py` imports app.py inside uvicorn's Config.load(), just before the proxy-header
    middleware is chosen from uvicorn.config: the rule must be installed by that import."""
    import inspect

    import uvicorn.config

    source = inspect.getsource(uvicorn.config.Config.load)
    assert source.index("self.load_app()") < source.index("ProxyHeadersMiddleware(")
    from .conftest import APP

    assert "routes.trust_forwarded_headers_only_from_configured_proxies()" in APP.read_text(encoding="utf-8")


def test_ipv6_clients_are_counted_by_their_64_network():
    assert throttle.client_key("2001:db8:1:2:aaaa::1") == throttle.client_key("2001:db8:1:2:bbbb::9")
    assert throttle.client_key("2001:db8:1:3::1") != throttle.client_key("2001:db8:1:2::1")
    assert throttle.client_key("::ffff:198.51.100.4") == "198.51.100.4"
    assert throttle.client_key(None) == throttle.client_key("127.0.0.1") == "loopback"
