"""Two replicas, one PostgreSQL: what a participant does on one server shows on the other.

The production setup (README "Production"): several `streamlit run app.py` behind a load balancer
with sticky sessions, every replica with the same DATABASE_URL and the same cookie secret. Here
two real servers on two ports share one PostgreSQL schema; nothing in process memory is shared.
Without PostgreSQL or Chromium these tests skip on a developer machine and FAIL when CI is set
(the pg_database and browser fixtures of conftest.py).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from conftest import ROOT, start_streamlit, stop_streamlit
from facilitation import workshops as W
from facilitation.store import Store
from streamlit_browser import choose, expect_text, open_page, pick_radio, projector_path, wait_for_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STORY = dict(stage="Onboarding", promise="A named onboarding manager from day one.",
             next_function="Support", lost="Who the customer's champion is.", gap="4")


@pytest.fixture
def replicas(pg_database, tmp_path):
    """(url_a, url_b, store): two app servers on one PostgreSQL schema, the same cookie secret on both."""
    env = {"DATABASE_URL": pg_database, "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32)}
    servers = []
    try:
        for name in ("a", "b"):
            data_dir = tmp_path / f"data-{name}"  # unused with DATABASE_URL; kept apart on purpose
            data_dir.mkdir()
            try:
                servers.append(start_streamlit(ROOT / "app.py", data_dir, tmp_path / f"streamlit-{name}.log", env=env))
            except RuntimeError as exc:
                pytest.fail(str(exc), pytrace=False)
        store = Store(pg_database)
        try:
            yield servers[0][1], servers[1][1], store
        finally:
            store.dispose()
    finally:
        for proc, _ in servers:
            stop_streamlit(proc)  # before pg_database drops the schema


def test_a_story_sent_on_one_replica_is_on_the_projector_of_the_other(replicas, browser):
    url_a, url_b, store = replicas
    workshop, _key = W.create_workshop(store, title="Two replicas", agenda_plan=[("over_the_wall", 15)])
    W.open_exercise(store, workshop.id, 0)
    experience = f"Replica check {secrets.token_hex(4)}: six weeks for an import template"

    projector_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        projector = projector_ctx.new_page()
        projector.set_default_timeout(20_000)
        open_page(projector, url_b + projector_path(store, workshop))
        expect(projector.get_by_text(workshop.code, exact=True).first).to_be_visible()

        phone = phone_ctx.new_page()
        phone.set_default_timeout(20_000)
        open_page(phone, f"{url_a}/?code={workshop.code}")
        phone.get_by_label("Your name").fill("Ana")
        choose(phone, "Your function", "Implementation")
        phone.get_by_role("button", name="Join").click()
        phone.wait_for_url(re.compile(r"/participate\?"))
        wait_for_app(phone)
        choose(phone, "Which stage of the customer's life do you own?", STORY["stage"])
        wait_for_app(phone)
        for label, text in (("What was the customer told", STORY["promise"]),
                            ("What does the customer actually experience here?", experience),
                            ("What gets lost in that handoff?", STORY["lost"])):
            box = phone.get_by_role("textbox", name=label)
            box.fill(text)
            box.press("Tab")  # leave the field, as a person does: the page keeps a draft
            wait_for_app(phone)
        choose(phone, "Who do you hand the customer to next?", STORY["next_function"])
        wait_for_app(phone)
        pick_radio(phone, STORY["gap"])
        wait_for_app(phone)
        phone.get_by_role("button", name="Send").click()
        sent_at = time.monotonic()
        # The projector on the other server is woken by PostgreSQL NOTIFY (no polling): within a second.
        expect(projector.get_by_text(experience, exact=False).first).to_be_visible(timeout=10_000)
        visible_after = time.monotonic() - sent_at
        expect_text(phone, "Sent — thank you")
        assert visible_after <= 1.0, f"the projector on the other replica showed the story after {visible_after:.2f} s"
        stored = W.list_stories(store, workshop.id, "over_the_wall")
        assert [s.answers["experience"] for s in stored] == [experience]
    finally:
        phone_ctx.close()
        projector_ctx.close()


def test_the_console_on_one_replica_moves_a_phone_on_the_other(replicas):
    """Protocol-level (bench/st_client.py, no browser): console on B opens the exercise, the phone on A follows."""
    from bench.st_client import FINISHED_SUCCESSFULLY, StreamlitClient

    url_a, url_b, store = replicas
    workshop, key = W.create_workshop(store, title="Two replicas", agenda_plan=[("over_the_wall", 15)])
    ann = W.join_workshop(store, workshop.code, "Ann", "Sales")

    async def session() -> float:
        phone = StreamlitClient(url_a, "participate", f"code={workshop.code}&p={ann.token}", name="phone")
        # Signed in as a browser is after the sign-in form: the cookie, signed with the secret both replicas share.
        from facilitation import access

        cookie = access.facilitator_cookie(access.server_secret(), workshop.code, access.hash_key(key), time.time())
        console = StreamlitClient(url_b, "console", f"code={workshop.code}", name="console",
                                  cookie=f"{access.facilitator_cookie_name(workshop.code)}={cookie}")
        try:
            await phone.connect()
            await console.connect()
            assert phone.find_widget("button", id_contains="send-") is None  # nothing open yet
            button = console.find_widget("button", id_contains="open-0")
            assert button is not None, list(console.widgets)
            done = console.expect_run(lambda r: not r.is_fragment and r.status == FINISHED_SUCCESSFULLY)
            t0 = time.monotonic()
            await console.click_button(button)
            await asyncio.wait_for(done, 20)
            for _ in range(200):  # the phone on A is woken through PostgreSQL NOTIFY and redraws the page
                if phone.find_widget("button", id_contains="send-") is not None:
                    return time.monotonic() - t0
                await asyncio.sleep(0.05)
            raise AssertionError(f"the phone on the other replica did not follow within 10 s; errors: {phone.errors}")
        finally:
            await phone.close()
            await console.close()
            assert not phone.errors and not console.errors, phone.errors + console.errors

    # Playwright's sync API keeps an event loop running on this thread once any browser test has
    # run, so the protocol client gets a thread (and a loop) of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        followed_in = pool.submit(asyncio.run, session()).result()
    assert followed_in < 2, followed_in
