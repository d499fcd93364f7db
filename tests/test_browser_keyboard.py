"""A whole participant session with the keyboard alone: join, send a story, cast a vote, with
Tab, Shift+Tab, typing, Enter and Space only (no click, no fill). The vote button is found by its
accessible name, which names the story it votes for."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilitation import controls, workshops as W
from streamlit_browser import open_page, wait_for_app
from test_browser_accessibility import assert_none, axe_problems

pytestmark = pytest.mark.browser

FOCUSED_NAME = """() => { const el = document.activeElement; if (!el) return '';
  return (el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].innerText)
          || el.innerText || '').trim(); }"""


def tab_to(page, name: str, limit: int = 60) -> None:
    """Press Tab until the focused control's accessible name starts with `name` (as a screen reader names it)."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_NAME)
        if focused.startswith(name):
            return
        seen.append(focused[:40])
    raise AssertionError(f"Tab never reached {name!r}; focus went through {seen}")


def test_a_participant_joins_writes_and_votes_with_the_keyboard_alone(browser, app_server, app_store):
    workshop, _key = W.create_workshop(app_store, title="Keyboard room", agenda_plan=[("untold_retention_stories", 10)])
    W.open_exercise(app_store, workshop.id, 0)
    other = W.join_workshop(app_store, workshop.code, "Ola", "Support")
    told = "We rang the warehouse the morning after every fix to check the scanners worked."
    assert W.submit_story(app_store, other, "untold_retention_stories",
                          {"practice": "We check on site.", "story": told, "teller": "Support",
                           "audience": "Customers at renewal", "may_retell": "Yes, as it is written"}, "kb-other").ok
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        open_page(phone, f"{app_server}/?code={workshop.code}")
        tab_to(phone, "Your name")
        phone.keyboard.type("Kim")
        tab_to(phone, "Your function")
        phone.keyboard.type("Sales")
        phone.keyboard.press("Enter")
        wait_for_app(phone)
        tab_to(phone, "Join")
        phone.keyboard.press("Enter")
        phone.wait_for_url(re.compile(r"/participate\?"))
        wait_for_app(phone)

        tab_to(phone, "What does your team do for every customer")
        phone.keyboard.type("We answer every renewal question within a day.")
        tab_to(phone, "One time it really mattered")
        phone.keyboard.type("A renewal nearly slipped; our same-day answer kept it.")
        tab_to(phone, "May we retell this story outside this room?")
        phone.keyboard.type("Yes, as it is written")
        phone.keyboard.press("Enter")
        wait_for_app(phone)
        tab_to(phone, "Which function should tell this story?")
        phone.keyboard.type("Sales")
        phone.keyboard.press("Enter")
        wait_for_app(phone)
        tab_to(phone, "And to whom?")
        phone.keyboard.type("Customers at renewal")
        phone.keyboard.press("Enter")
        wait_for_app(phone)
        tab_to(phone, "Send")
        phone.keyboard.press("Enter")
        wait_for_app(phone)
        # Said by a screen reader: the confirmation is a polite status region (above the form, and under Send).
        expect(phone.get_by_role("status").filter(has_text="Sent — thank you").first).to_be_visible()
        expect(phone.get_by_role("status").filter(has_text="The form above is empty")).to_be_visible()
        kim = next(p for p in W.list_participants(app_store, workshop.id) if p.display_name == "Kim")
        mine = [s for s in W.list_stories(app_store, workshop.id) if s.participant_id == kim.id]
        assert [s.answers["story"] for s in mine] == ["A renewal nearly slipped; our same-day answer kept it."]
        problems = axe_problems(phone, "phone after sending")

        controls.set_voting(app_store, workshop.id, 0, "open", dots=1)
        expect(phone.get_by_text("Vote: 1 of 1 dots left")).to_be_visible(timeout=10_000)
        wait_for_app(phone)
        phone.wait_for_timeout(600)  # the buttons' names are set by the browser
        tab_to(phone, f"Put a dot here: {told}")
        phone.keyboard.press("Space")
        wait_for_app(phone)
        expect(phone.get_by_text("Vote: 0 of 1 dots left")).to_be_visible()
        assert [d for d in controls.my_dots(app_store, kim, "untold_retention_stories")], "no dot stored"
        problems += axe_problems(phone, "phone after voting")
    finally:
        context.close()
    assert_none(problems)
