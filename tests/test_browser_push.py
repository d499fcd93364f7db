"""Push in real Chromium tabs: the projector shows a phone's story within a second without polling,
the countdown ticks in the browser, and the field being typed survives a reload."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from facilitation import drafts, workshops as W
from streamlit_browser import choose, fill_over_the_wall, open_page, pick_radio, projector_path, wait_for_app

pytestmark = pytest.mark.browser


def phone_context(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    return context


def count_script_runs(page) -> None:
    """Count the page's script runs as the browser sees them (the app's script-state attribute)."""
    page.evaluate("""() => {
      window.__runs = 0;
      const app = document.querySelector('[data-testid="stApp"]');
      new MutationObserver(() => { if (app.getAttribute('data-test-script-state') === 'running') window.__runs++; })
        .observe(app, { attributes: true, attributeFilter: ['data-test-script-state'] });
    }""")


def test_the_projector_shows_a_phone_story_within_a_second_and_runs_nothing_while_idle(browser, app_server, app_store):
    workshop, _ = W.create_workshop(app_store, title="Push in the room", agenda_plan=[("over_the_wall", 15)])
    W.open_exercise(app_store, workshop.id, 0)
    ana = W.join_workshop(app_store, workshop.code, "Ana", "Implementation")
    projector_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    phone_ctx = phone_context(browser)
    try:
        projector = projector_ctx.new_page()
        open_page(projector, f"{app_server}{projector_path(app_store, workshop)}")
        clock = projector.locator(".st-key-projector-clock .countdown")
        expect(clock).to_contain_text(re.compile(r"1[45]:\d\d"))
        first = clock.inner_text()
        count_script_runs(projector)
        time.sleep(4.5)  # the old projector polled every 2 s
        assert projector.evaluate("window.__runs") == 0, "the idle projector ran its script"
        assert clock.inner_text() != first, "the countdown did not tick without a rerun"

        phone = phone_ctx.new_page()
        open_page(phone, f"{app_server}/participate?code={workshop.code}&p={ana.token}")
        experience = "Push check: the import template took six weeks"
        fill_over_the_wall(phone, experience)
        wait_for_app(phone)
        phone.get_by_role("button", name="Send").click()
        sent = time.monotonic()
        expect(projector.get_by_text(experience).first).to_be_visible(timeout=5_000)
        assert time.monotonic() - sent < 1.5
        expect(phone.get_by_text("Sent — thank you").first).to_be_visible()
    finally:
        phone_ctx.close()
        projector_ctx.close()


def test_the_field_being_typed_survives_a_reload_and_a_sent_story_never_comes_back(browser, app_server, app_store):
    workshop, _ = W.create_workshop(app_store, title="Typing", agenda_plan=[("over_the_wall", 15)])
    W.open_exercise(app_store, workshop.id, 0)
    ben = W.join_workshop(app_store, workshop.code, "Ben", "Support")
    context = phone_context(browser)
    try:
        phone = context.new_page()
        url = f"{app_server}/participate?code={workshop.code}&p={ben.token}"
        open_page(phone, url)
        count_script_runs(phone)
        box = phone.get_by_role("textbox", name="What was the customer told")
        box.click()
        typed = "They were told the data import is one click, and"
        box.press_sequentially(typed, delay=15)  # typing, never leaving the field
        time.sleep(2.0)  # a pause: the browser posts the draft
        assert phone.evaluate("window.__runs") == 0, "typing reran the page"
        assert drafts.load_draft(app_store, ben, "over_the_wall").get("promise") == typed
        phone.reload()
        wait_for_app(phone)
        expect(phone.get_by_role("textbox", name="What was the customer told")).to_have_value(typed)

        # Send it, keep typing in the next form: the first story's text never returns on reload.
        choose(phone, "Which stage of the customer's life do you own?", "Onboarding")
        wait_for_app(phone)
        for label, text in (("What does the customer actually experience here?", "Three weeks of CSV fixes."),
                            ("What gets lost in that handoff?", "Which fields matter.")):
            b = phone.get_by_role("textbox", name=label)
            b.fill(text)
            b.press("Tab")
            wait_for_app(phone)
        choose(phone, "Who do you hand the customer to next?", "Implementation")
        wait_for_app(phone)
        pick_radio(phone, "3")
        wait_for_app(phone)
        phone.get_by_role("button", name="Send").click()
        wait_for_app(phone)
        expect(phone.get_by_text("Sent — thank you").first).to_be_visible()
        second = phone.get_by_role("textbox", name="What was the customer told")
        expect(second).to_have_value("")
        second.click()
        second.press_sequentially("A second story", delay=15)
        time.sleep(2.0)
        phone.reload()
        wait_for_app(phone)
        expect(phone.get_by_role("textbox", name="What was the customer told")).to_have_value("A second story")
        expect(phone.get_by_role("textbox", name="What does the customer actually experience here?")).to_have_value("")
        assert [s.answers["promise"] for s in W.list_stories(app_store, workshop.id, "over_the_wall")] == [typed]
    finally:
        context.close()
