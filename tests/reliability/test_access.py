"""Nobody in where they don't belong: facilitator key on every facilitator page, unguessable
participant tokens scoped to one workshop, join codes from `secrets` with a throttle on wrong
guesses, XSRF protection on, no raw HTML from anyone's text."""

from __future__ import annotations

import ast
import collections
import math
import re
import string
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from facilitation import access, throttle
from facilitation import workshops as W

from .conftest import APP, ROOT, all_page_text, open_room, run_page, valid_answers

PUBLIC_PAGES = {"pages/join.py", "pages/participate.py", "pages/projector.py", "pages/new.py"}


def navigation_pages() -> list[str]:
    """Every page app.py puts in the navigation."""
    return sorted(set(re.findall(r'st\.Page\(\s*"(pages/[a-z_]+\.py)"', APP.read_text(encoding="utf-8"))))


def facilitator_pages() -> list[str]:
    return [p for p in navigation_pages() if p not in PUBLIC_PAGES]


def _first_action(source: str) -> str:
    """The first top-level statement that does something (not an import, docstring, def or constant)."""
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant):
            continue
        return ast.unparse(node)
    return ""


def test_every_non_public_page_asks_for_the_facilitator_key_first():
    pages = facilitator_pages()
    assert {"pages/console.py", "pages/report.py"} <= set(pages)
    for page in pages:
        first = _first_action((ROOT / page).read_text(encoding="utf-8"))
        assert "require_facilitator()" in first, f"{page} does something before require_facilitator(): {first}"


@pytest.fixture
def two_workshops(page_store):
    from facilitation import store as store_module

    s = store_module.get_store(page_store)
    a, key_a = open_room(s, title="Workshop A secret title")
    b, key_b = open_room(s, title="Workshop B")
    ana = W.join_workshop(s, a.code, "Ana", a.functions[0])
    assert W.submit_story(s, ana, "over_the_wall", valid_answers(a, experience="A's secret story"), "a-1").ok
    return s, a, key_a, b, key_b, ana


def _is_sign_in(at) -> bool:
    assert not at.exception, at.exception
    text = all_page_text(at)
    return ([t.value for t in at.title] == ["Facilitator sign-in"] and "secret" not in text
            and not any(b.label in ("Open", "Close", "Reopen") for b in at.button))


@pytest.mark.parametrize("page", facilitator_pages())
def test_facilitator_page_refuses_without_the_right_key(two_workshops, page):
    _, a, key_a, b, key_b, _ = two_workshops
    for query in ({"code": a.code}, {"code": a.code, "key": "not-the-key"},
                  {"code": a.code, "key": key_b},           # another workshop's key
                  {"code": b.code, "key": key_a},           # this key with another workshop's code
                  {"code": a.code, "key": key_a[:-1]}):
        assert _is_sign_in(run_page(page, **query)), (page, query)
    assert not _is_sign_in(run_page(page, code=a.code, key=key_a))


def test_console_stays_signed_in_on_rerun_and_never_by_a_guess(two_workshops):
    _, a, key_a, _, _, _ = two_workshops
    at = run_page("pages/console.py", code=a.code, key=key_a)
    assert "A's secret story" in all_page_text(at)
    at.run()  # the same browser session runs again (a live update, a click)
    assert "A's secret story" in all_page_text(at)

    at = run_page("pages/console.py", code=a.code)
    at.text_input[0].input(a.code)
    at.text_input[1].input("guessed-key")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert _is_sign_in(at)
    assert "do not match" in "\n".join(e.value for e in at.error)


def test_participant_token_from_elsewhere_or_forged_is_refused(two_workshops):
    s, a, _, b, _, ana = two_workshops
    forged = [ana.token[:-1] + ("A" if ana.token[-1] != "A" else "B"), ana.token.upper(), ana.token + "x",
              access.new_participant_token(), "' OR 1=1 --", "%", "*", ana.token[:8]]
    for token in forged:
        assert W.participant_by_token(s, a.id, token) is None, token
    assert W.participant_by_token(s, b.id, ana.token) is None  # another workshop's code with Ana's token
    assert W.participant_by_token(s, a.id, ana.token) == ana
    for code, token in [(b.code, ana.token), (a.code, forged[0]), (a.code, "")]:
        at = run_page("pages/participate.py", code=code, p=token)
        assert not at.exception
        assert [t.value for t in at.title] == ["You are not in a workshop yet"], (code, token)
        assert "secret" not in all_page_text(at)


def test_participant_tokens_are_unguessable():
    tokens = [access.new_participant_token() for _ in range(2000)]
    assert len(set(tokens)) == len(tokens)
    alphabet = set(string.ascii_letters + string.digits + "-_")
    assert all(set(t) <= alphabet and len(t) >= 24 for t in tokens)
    assert min(len(t) for t in tokens) * math.log2(len(alphabet)) >= 128  # bits, from token_urlsafe(18) = 144
    counts = collections.Counter("".join(tokens))
    assert len(counts) == 64  # every symbol in use …
    expected = sum(counts.values()) / 64
    assert max(counts.values()) < 1.25 * expected and min(counts.values()) > 0.75 * expected  # … evenly


def test_join_codes_come_from_secrets_with_at_least_30_bits(monkeypatch, figures):
    bits = access.JOIN_CODE_LENGTH * math.log2(len(access.JOIN_CODE_ALPHABET))
    assert bits >= 30, f"join codes have {bits:.1f} bits"
    drawn = []
    real_choice = access.secrets.choice

    def recording_choice(seq):
        drawn.append(seq)
        return real_choice(seq)

    monkeypatch.setattr(access.secrets, "choice", recording_choice)
    code = access.new_join_code()
    assert drawn == [access.JOIN_CODE_ALPHABET] * access.JOIN_CODE_LENGTH and len(code) == access.JOIN_CODE_LENGTH
    monkeypatch.undo()
    assert "import random" not in (ROOT / "facilitation" / "access.py").read_text(encoding="utf-8")
    codes = [access.new_join_code() for _ in range(3000)]
    assert len(set(codes)) == len(codes)
    first = collections.Counter(c[0] for c in codes)
    assert set(first) == set(access.JOIN_CODE_ALPHABET)
    figures.add("Join codes", f"{access.JOIN_CODE_LENGTH} characters from secrets.choice over "
                              f"{len(access.JOIN_CODE_ALPHABET)} symbols = {bits:.1f} bits "
                              f"({len(access.JOIN_CODE_ALPHABET) ** access.JOIN_CODE_LENGTH:,} codes)")


# --- wrong-code throttle --------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_throttle_after_five_wrong_tries_in_a_minute():
    clock = FakeClock()
    t = throttle.Throttle(5, 60, clock=clock)
    for i in range(4):
        assert t.record_failure("s1") == 0
        clock.now += 1
    assert t.wait_seconds("s1") == 0
    assert t.record_failure("s1") == 56  # the first of the five was 4 s ago
    assert t.wait_seconds("s2") == 0  # another session is not affected
    clock.now += 55.5
    assert t.wait_seconds("s1") == 1
    clock.now += 0.5
    assert t.wait_seconds("s1") == 0  # the oldest try has aged out: one more try
    assert t.record_failure("s1") > 0  # … and a wrong one waits again
    t.record_success("s1")
    assert t.wait_seconds("s1") == 0


def test_throttle_forgets_slow_mistakes_and_stays_bounded():
    clock = FakeClock()
    t = throttle.Throttle(5, 60, clock=clock, max_tracked=100)
    for _ in range(20):  # one wrong code every 15 s is never throttled
        assert t.record_failure("slow") == 0
        clock.now += 15
    for i in range(1000):
        t.record_failure(f"session-{i}")
    assert t.tracked() <= 100
    assert throttle.too_many_tries(1) == ("Too many tries — wait 1 second, then check the code on the screen "
                                          "and try again.")


def test_join_page_throttles_wrong_codes_from_one_address(page_store, monkeypatch):
    from facilitation import store as store_module

    clock = FakeClock()
    monkeypatch.setattr(throttle, "join_throttle", throttle.Throttle(5, 60, clock=clock))
    w, _ = open_room(store_module.get_store(page_store))

    def try_code(at, code):
        at.text_input[0].input(code)
        next(b for b in at.button if b.label == "Continue").click().run()
        assert not at.exception
        return [e.value for e in at.error]

    at = run_page("pages/join.py")
    for i in range(4):
        assert try_code(at, f"WRONG{i}") == ["No workshop has this code. Check the code on the screen and try again."]
    errors = try_code(at, "WRONG4")
    assert errors[0] == "No workshop has this code. Check the code on the screen and try again."
    assert any(e.startswith("Too many tries — wait 60 seconds") for e in errors), errors
    errors = try_code(at, w.code)  # even the right code waits: no lookups while throttled
    assert any(re.match(r"Too many tries — wait \d+ seconds", e) for e in errors), errors
    assert at.query_params.get("code") in (None, "", [])

    other = run_page("pages/join.py")  # a new browser session from the same address waits too
    assert any(re.match(r"Too many tries — wait \d+ seconds", e) for e in try_code(other, w.code))
    clock.now += 61
    assert try_code(at, w.code) == []
    assert at.query_params["code"] == w.code


# --- XSRF and raw HTML -------------------------------------------------------------------------------

def test_xsrf_protection_is_on_and_errors_show_no_traceback():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config.get("server", {})
    assert server.get("enableXsrfProtection", True) is True and server.get("enableCORS", True) is True
    launchers = [ROOT / ".ci" / "run", ROOT / "tests" / "conftest.py", ROOT / "app.py"]
    for path in launchers + list((ROOT / "pages").glob("*.py")):
        text = re.sub(r"[\s\"'_-]", "", path.read_text(encoding="utf-8").lower())
        for off in ("enablexsrfprotectionfalse", "enablexsrfprotection=false", "enablexsrfprotection,false",
                    "xsrfprotection=0"):
            assert off not in text, f"{path.name} turns XSRF protection off"
    # what `streamlit run` in this folder actually uses (config files, environment, defaults)
    effective = subprocess.run(
        [sys.executable, "-c", "from streamlit import config; config.get_config_options(force_reparse=True); "
                               "print(config.get_option('server.enableXsrfProtection'), "
                               "config.get_option('client.showErrorDetails'))"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout.strip().splitlines()[-1]
    xsrf, error_details = effective.split()
    assert xsrf == "True"
    assert error_details == "none", "a fault would show a traceback in the browser (client.showErrorDetails)"


def test_running_app_refuses_a_state_changing_request_without_the_xsrf_token(app_server):
    with urllib.request.urlopen(f"{app_server}/_stcore/health", timeout=10) as resp:
        cookies = [c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or []]
    xsrf = next((c.split("=", 1)[1] for c in cookies if c.startswith("_streamlit_xsrf=")), None)
    assert xsrf, f"no XSRF cookie handed out: {cookies}"

    def put(headers: dict) -> int:
        request = urllib.request.Request(f"{app_server}/_stcore/upload_file/some-session/some-file", data=b"x",
                                         method="PUT", headers={"Content-Type": "application/octet-stream", **headers})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert put({}) == 403  # no token: refused before anything else is looked at
    assert put({"Cookie": f"_streamlit_xsrf={xsrf}"}) == 403  # a cookie alone (what a cross-site form sends)
    assert put({"Cookie": f"_streamlit_xsrf={xsrf}", "X-Xsrftoken": xsrf}) == 400  # past the check: unknown session


def test_no_page_renders_raw_html_from_data():
    for path in (ROOT / "pages").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in source, f"{path.name} uses unsafe_allow_html"
        for call in re.findall(r"st\.html\((.*?)(?:\)$|, unsafe_allow_javascript)", source, flags=re.M | re.S):
            if "<script>" in call:  # our own scripts: every value in them is JSON-encoded, none is text anyone typed
                assert all(v.startswith("json.dumps(") for v in re.findall(r"(?<!{){([^{}]+)}(?!})", call)), call
                continue
            if call.startswith("_css(") or "ASSETS" in call or "<style>" in call:
                continue  # one of our own stylesheets from assets/
            # Any other markup (the projector's QR image): every value in it is escaped, base64 or a number.
            values = re.findall(r"(?<!{){([^{}]+)}(?!})", call)
            assert values and all(v.startswith("html.escape(") or v in {"png", "size"} for v in values), \
                f"{path.name}: st.html({call}) puts an unescaped value into markup"


# --- in a real browser: direct URL and refresh ----------------------------------------------------------

@pytest.mark.slow
def test_facilitator_pages_by_direct_url_and_after_refresh(browser, app_server, app_store):
    from streamlit_browser import open_page, sign_in_facilitator

    w, key = open_room(app_store, title="Browser access check")
    other, other_key = open_room(app_store, title="Someone else's workshop")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        for url in (f"{app_server}/console?code={w.code}", f"{app_server}/report?code={w.code}&key={other_key}",
                    f"{app_server}/console?code={w.code}&key={key}"):  # a key in the address is never used
            open_page(page, url)
            expect(page.get_by_role("heading", name="Facilitator sign-in")).to_be_visible()
            expect(page.get_by_text("Browser access check")).to_have_count(0)
            assert "key=" not in page.url  # and it is taken out of the address bar
        sign_in_facilitator(page, app_server, w.code, key)
        expect(page.get_by_role("heading", name="Console")).to_be_visible()
        page.reload()
        open_page(page, page.url)
        expect(page.get_by_role("heading", name="Console")).to_be_visible()  # the cookie keeps it signed in
        assert key not in page.url
    finally:
        context.close()
