"""kill -9 the server in the middle of an exercise, start it again on the same data folder:
every acknowledged story is back (once), the database passes `PRAGMA integrity_check`, and a
participant's address brings the same person back to the same exercise.

Durability note: SQLite runs in WAL mode with synchronous=NORMAL, so a committed transaction
survives the death of the process (it is in the OS's page cache); a power cut could lose the last
few commits before the next checkpoint. That is the trade-off store.py makes.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import time

import conftest as root_conftest  # tests/conftest.py: start_streamlit, stop_streamlit
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from streamlit_browser import choose, click_button, expect_text, open_page, pick_radio, wait_for_app

from facilitation import workshops as W
from facilitation.store import Store

from .conftest import APP, ROOT, open_room

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "Where does our story to the customer stop"


def join(browser, base_url: str, code: str, name: str, function: str):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(20_000)
    phone = context.new_page()
    open_page(phone, f"{base_url}/?code={code}")
    phone.get_by_label("Your name").fill(name)
    choose(phone, "Your function", function)
    click_button(phone, "Join")
    phone.wait_for_url(re.compile(r"/participate\?"))
    expect(phone.get_by_text(QUESTION, exact=False)).to_be_visible()
    return context, phone


def fill(phone, experience: str) -> None:
    try:
        _fill(phone, experience)
    except Exception:
        out = ROOT / "artifacts" / f"crash_restart_fill_{int(time.time())}.png"
        out.parent.mkdir(exist_ok=True)
        phone.screenshot(path=str(out), full_page=True)
        raise


def steady_choose(phone, label: str, option: str) -> None:
    """Pick a selectbox option; a live rerun (another person's story arrived) may close the list, so try again."""
    for attempt in range(3):
        wait_for_app(phone)
        phone.get_by_role("combobox", name=label).click()
        try:
            phone.get_by_role("option", name=option, exact=True).click(timeout=4_000)
            return
        except PlaywrightTimeout:
            phone.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def _fill(phone, experience: str) -> None:
    steady_choose(phone, "Which stage of the customer's life do you own?", "Sale")
    phone.get_by_role("textbox", name="What was the customer told").fill("Live in two weeks")
    phone.get_by_role("textbox", name="What does the customer actually experience here?").fill(experience)
    steady_choose(phone, "Who do you hand the customer to next?", "Implementation")
    phone.get_by_role("textbox", name="What gets lost in that handoff?").fill("The go-live date")
    pick_radio(phone, "4")


def tell(phone, experience: str) -> None:
    fill(phone, experience)
    phone.get_by_role("button", name="Send").click()
    wait_for_app(phone)
    expect_text(phone, "Sent — thank you")  # acknowledged


def test_kill_9_mid_exercise_loses_nothing_acknowledged(browser, tmp_path, monkeypatch, figures):
    data_dir = tmp_path / "data"
    db_path = data_dir / "story_relay.sqlite3"
    seed = Store(f"sqlite:///{db_path}")
    try:
        w, _ = open_room(seed, title="Crash test")
    finally:
        seed.dispose()  # only the server has the file open when it dies

    proc, base = root_conftest.start_streamlit(APP, data_dir, tmp_path / "before.log")
    contexts = []
    try:
        people = {}
        for name, function in (("Ana", "Sales"), ("Ben", "Implementation")):
            context, phone = join(browser, base, w.code, name, function)
            contexts.append(context)
            people[name] = phone
        acknowledged = {"Ana": ["Ana: six weeks of waiting"], "Ben": ["Ben: tickets bounce"]}
        for name, told in acknowledged.items():
            for text in told:
                tell(people[name], text)
        addresses = {name: phone.url for name, phone in people.items()}

        # Ana presses Send again, and the server dies at that moment: stored or not, never twice.
        fill(people["Ana"], "Ana: in flight when the server died")
        people["Ana"].get_by_role("button", name="Send").click()
        time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
    finally:
        root_conftest.stop_streamlit(proc)

    with sqlite3.connect(db_path) as conn:  # the files exactly as the crash left them
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    port = int(base.rsplit(":", 1)[1])
    monkeypatch.setattr(root_conftest, "free_port", lambda: port)  # same address, so open pages reconnect
    t0 = time.monotonic()
    proc, base_again = root_conftest.start_streamlit(APP, data_dir, tmp_path / "after.log")
    restart_s = time.monotonic() - t0
    try:
        assert base_again == base
        store = Store(f"sqlite:///{db_path}")
        try:
            stored = W.list_stories(store, w.id, include_hidden=True)
        finally:
            store.dispose()
        texts = [s.answers["experience"] for s in stored]
        for told in acknowledged.values():
            for text in told:
                assert texts.count(text) == 1, (text, texts)
        in_flight = texts.count("Ana: in flight when the server died")
        assert in_flight in (0, 1)
        assert len(texts) == 2 + in_flight

        # Ben's address, in a fresh browser (a phone that was switched off), is Ben on the same exercise.
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.set_default_timeout(20_000)
        contexts.append(context)
        ben = context.new_page()
        open_page(ben, addresses["Ben"])
        expect(ben.get_by_text("Ben · Implementation", exact=False)).to_be_visible()
        expect(ben.get_by_text(QUESTION, exact=False)).to_be_visible()
        expect_text(ben, "What you sent (1)")
        # Ana's page, open through the crash, comes back by itself (or on a refresh) as Ana.
        ana = people["Ana"]
        sent = f"What you sent ({1 + in_flight})"
        try:
            expect(ana.get_by_text(sent, exact=False)).to_be_visible(timeout=5_000)
        except AssertionError:
            ana.reload()
            wait_for_app(ana)
            expect(ana.get_by_text(sent, exact=False)).to_be_visible()
        expect(ana.get_by_text("Ana · Sales", exact=False)).to_be_visible()
        expect(ana.get_by_text(QUESTION, exact=False)).to_be_visible()
        assert addresses["Ana"].split("?", 1)[1] in ana.url
    finally:
        for context in contexts:
            context.close()
        root_conftest.stop_streamlit(proc)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    figures.add("kill -9 of the server mid-exercise (2 participants in Chromium), restart on the same data",
                f"{sum(map(len, acknowledged.values()))} of {sum(map(len, acknowledged.values()))} acknowledged "
                f"stories back once each, the story in flight stored {in_flight}×, integrity_check ok, participant "
                f"URLs reopen as the same person on the same exercise; restart took {restart_s:.1f} s")
