"""Shared fixtures: a real store per test on both databases, a running app, a browser.

Modelled on datasette's tests (every test gets a real, fresh database, never a mock) and on
Streamlit's own e2e_playwright conftest (the app runs as a real `streamlit run` subprocess,
tests wait for `/_stcore/health`, and the server log is shown when something fails).

Missing infrastructure (PostgreSQL down, no Chromium, no app.py) skips the tests that need
it on a developer machine, but FAILS them when the environment variable CI is set, so a
CI run can never go green by silently skipping half the suite.

Fixtures
--------
store             a `facilitation.store.Store` on a brand-new, empty database, parametrized
                  over "sqlite" (a file in tmp_path) and "postgresql" (a schema of its own in
                  a uniquely named database made once per session on the local server; all
                  dropped afterwards). PostgreSQL params carry the `postgres` marker:
                  `-m "not postgres"` runs SQLite only.
sqlite_store      the same, SQLite only;  pg_store: PostgreSQL only.
pg_database       the URL behind pg_store (an empty schema), for tests that build a Store.
make_workshop     factory: make_workshop(**overrides) -> (Workshop, facilitator_key); the
                  agenda is just "over_the_wall" unless `agenda_plan` is given.
make_participant  factory: make_participant(workshop, name="Ann", function=None) -> Participant.
answers           factory: answers(**overrides) -> a valid "over_the_wall" answer dict for a
                  workshop made with the default functions and stages.
chromium_path     path of the Chromium binary (skip locally / fail on CI when missing).
browser           a session-wide headless Playwright Chromium.
page              a fresh browser context and page per test; a screenshot of a failing
                  test is saved under artifacts/.
app_server        base URL ("http://127.0.0.1:<port>") of `streamlit run app.py` started
                  once per session on a free port with a fresh SQLite data dir.
app_data_dir      that data dir;  app_store: a Store on the app's own database, to seed data.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# One signing secret for this test run, shared by AppTest pages (in this process) and every server a
# test starts (they inherit the environment), so tests can build a projector link or a cookie.
os.environ.setdefault("STORY_RELAY_SECRET", f"story-relay-tests-{uuid.uuid4().hex}")

from facilitation import workshops as W  # noqa: E402
from facilitation.store import Store  # noqa: E402

DEFAULT_CHROMIUM = "/usr/bin/chromium"
PG_HOST = os.environ.get("STORY_RELAY_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("STORY_RELAY_TEST_PG_PORT", "5432"))
# Users tried in order against the trust-auth local server (CI runs as root, so both exist).
PG_USERS = [u for u in os.environ.get("STORY_RELAY_TEST_PG_USER", "postgres root").split() if u]
PG_MAINTENANCE_DBS = ("postgres", "test")
APP_START_TIMEOUT_S = 60


@pytest.fixture(autouse=True)
def pages_read_the_database_every_run(request, monkeypatch):
    """Page tests (AppTest, in this process) change the workshop and run a page at once; in a room the
    shared revision read of facilitation.live_cache may be REVISION_TTL_S old (tests/test_live_cache.py
    covers that delay). Browser tests run their own server, with the real TTL."""
    from facilitation import live_cache

    live_cache.clear()
    if request.module.__name__ != "test_live_cache":
        monkeypatch.setattr(live_cache, "REVISION_TTL_S", 0.0)
    yield
    live_cache.clear()


def in_ci() -> bool:
    """True when the CI environment variable is set (to anything but an explicit no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> None:
    """Skip on a developer machine; fail on CI, where missing infrastructure is an error."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(reason)


# --- markers --------------------------------------------------------------------------------

BROWSER_FIXTURES = {"browser", "page", "app_server", "chromium_path"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    # A failing test that talked to the app gets the tail of the server log in its report.
    if report.failed and "app_server" in getattr(item, "fixturenames", ()):
        log = getattr(item.config, "_story_relay_app_log", None)
        if log is not None and Path(log).exists():
            report.sections.append(("streamlit server log (tail)", _tail(Path(log))))
    return report


def _tail(path: Path, lines: int = 200) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


# --- PostgreSQL -------------------------------------------------------------------------------

_pg_admin: dict = {}


def _pg_admin_conninfo() -> str | None:
    """A working conninfo for creating databases, or None when the server cannot be reached.

    Checked once per session; the reason for a failure is kept for the skip/fail message.
    """
    if "conninfo" in _pg_admin:
        return _pg_admin["conninfo"]
    import psycopg

    errors = []
    for user in PG_USERS:
        for dbname in PG_MAINTENANCE_DBS:
            conninfo = f"host={PG_HOST} port={PG_PORT} user={user} dbname={dbname} connect_timeout=3"
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    can_create = conn.execute(
                        "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user").fetchone()[0]
                if can_create:
                    _pg_admin.update(conninfo=conninfo, user=user)
                    return conninfo
                errors.append(f"{user}@{dbname}: may not CREATE DATABASE")
            except psycopg.Error as exc:
                errors.append(f"{user}@{dbname}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}")
    _pg_admin.update(conninfo=None, error=f"{errors[0]}; tried users {', '.join(PG_USERS)}")
    return None


def _pg_execute(sql: str, dbname: str | None = None) -> None:
    import psycopg

    conninfo = _pg_admin["conninfo"]
    if dbname is not None:
        conninfo = re.sub(r"dbname=\S+", f"dbname={dbname}", conninfo)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_session_database():
    """One uniquely named PostgreSQL database for this test session, dropped at the end.

    Each test then gets its own schema in it (see pg_database): CREATE SCHEMA takes a few
    milliseconds, while CREATE DATABASE takes 30-500 ms (it syncs to disk) on a busy machine.
    """
    if _pg_admin_conninfo() is None:
        skip_or_fail(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} ({_pg_admin.get('error')}); "
                     "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    name = f"story_relay_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database(pg_session_database):
    """The SQLAlchemy URL of an empty PostgreSQL schema of its own, dropped after the test.

    URL: postgresql+psycopg://<user>@127.0.0.1:5432/<session db>?options=-csearch_path%3D<schema>,
    so everything the app creates (tables, indexes) lands in this test's schema only.
    """
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _pg_execute(f'CREATE SCHEMA "{schema}"', pg_session_database)
    try:
        yield (f"postgresql+psycopg://{_pg_admin['user']}@{PG_HOST}:{PG_PORT}/{pg_session_database}"
               f"?options=-csearch_path%3D{schema}")
    finally:
        _pg_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', pg_session_database)


def _sqlite_store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path}/story_relay.sqlite3")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """A Store on a fresh database: SQLite file per test, or a new PostgreSQL database per test."""
    if request.param == "sqlite":
        s = _sqlite_store(tmp_path)
    else:
        s = Store(request.getfixturevalue("pg_database"))
    try:
        yield s
    finally:
        s.dispose()  # before pg_database's teardown drops the database


@pytest.fixture
def sqlite_store(tmp_path):
    s = _sqlite_store(tmp_path)
    yield s
    s.dispose()


@pytest.fixture
def pg_store(pg_database):
    s = Store(pg_database)
    yield s
    s.dispose()


# --- domain factories -------------------------------------------------------------------------

DEFAULT_EXERCISE = "over_the_wall"


@pytest.fixture
def make_workshop(store):
    def make(**overrides):
        overrides.setdefault("title", "Customer journey day")
        overrides.setdefault("agenda_plan", [(DEFAULT_EXERCISE, 15)])
        return W.create_workshop(store, **overrides)

    return make


@pytest.fixture
def make_participant(store):
    counter = iter(range(1, 10_000))

    def make(workshop, name: str | None = None, function: str | None = None):
        return W.join_workshop(store, workshop.code, name or f"Person {next(counter)}",
                               function or workshop.functions[0])

    return make


@pytest.fixture
def answers():
    def make(**overrides):
        base = {
            "stage": W.DEFAULT_STAGES[1],
            "promise": "You'll be live in two weeks.",
            "experience": "Six weeks of waiting for an import template.",
            "next_function": W.DEFAULT_FUNCTIONS[4],
            "lost": "The go-live date.",
            "gap": 4,
        }
        base.update(overrides)
        return base

    return make


# --- browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Chromium for Playwright: $STORY_RELAY_CHROMIUM if set, else /usr/bin/chromium (or on PATH)."""
    path = os.environ.get("STORY_RELAY_CHROMIUM") or DEFAULT_CHROMIUM
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        found = None if os.environ.get("STORY_RELAY_CHROMIUM") else shutil.which("chromium")
        if found is None:
            skip_or_fail(f"Chromium not found at {path} (install it with: apt-get install -y chromium)")
        path = found
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, headless=True,
                               args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            out = ROOT / "artifacts" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid) + ".png")
            out.parent.mkdir(exist_ok=True)
            try:
                pg.screenshot(path=str(out), full_page=True)
            except Exception:  # noqa: BLE001 - a screenshot must not mask the real failure
                pass
        context.close()


# --- the app ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def start_streamlit(script: Path, data_dir: Path, log_path: Path, *, timeout: float = APP_START_TIMEOUT_S,
                    env: dict[str, str] | None = None):
    """Start `streamlit run <script>` on a free port; returns (process, base_url) once healthy.

    The server gets this process's environment without DATABASE_URL (so it uses the SQLite file
    in `data_dir`), then `env` on top: e.g. env={"DATABASE_URL": url} for a shared PostgreSQL.
    """
    port = free_port()
    extra_env = env
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(STORY_RELAY_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    env.update(extra_env or {})
    cmd = [sys.executable, "-m", "streamlit", "run", str(script),
           "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed by stop_streamlit
    proc = subprocess.Popen(cmd, cwd=script.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    proc._story_relay_log = log  # type: ignore[attr-defined]
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if _health(f"{base_url}/_stcore/health") == "ok":
            return proc, base_url
        if proc.poll() is not None:
            stop_streamlit(proc)
            raise RuntimeError(f"streamlit exited with code {proc.returncode} before it was healthy:\n"
                               f"{_tail(log_path)}")
        if time.monotonic() > deadline:
            stop_streamlit(proc)
            raise RuntimeError(f"streamlit did not answer 'ok' on /_stcore/health within {timeout:.0f} s:\n"
                               f"{_tail(log_path)}")
        time.sleep(0.25)


def stop_streamlit(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    log = getattr(proc, "_story_relay_log", None)
    if log is not None and not log.closed:
        log.close()


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("app_data")


@pytest.fixture(scope="session")
def app_server(request, app_data_dir, tmp_path_factory):
    """Base URL of the app, started once per session against a fresh SQLite database."""
    script = ROOT / "app.py"
    if not script.exists():
        skip_or_fail(f"{script} does not exist yet")
    log_path = tmp_path_factory.mktemp("app_server") / "streamlit.log"
    request.config._story_relay_app_log = log_path
    try:
        proc, base_url = start_streamlit(script, app_data_dir, log_path)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield base_url
    finally:
        died = proc.poll()
        stop_streamlit(proc)
        if died is not None:  # failing tests already carry the log tail in their report
            sys.stderr.write(f"\n----- streamlit exited early with code {died}; log {log_path} -----\n"
                             f"{_tail(log_path)}\n")


@pytest.fixture
def app_store(app_server, app_data_dir):
    """A Store on the running app's own SQLite database (to seed workshops for browser tests)."""
    s = Store(f"sqlite:///{app_data_dir}/story_relay.sqlite3")
    yield s
    s.dispose()
