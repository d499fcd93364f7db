"""A phone in the room (360x740): voting feedback where the person tapped, no dot on one's own story,
the time left in sight while scrolling, and the text box's hint clear of the text being typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from facilitation import controls, demo, workshops as W
from streamlit_browser import open_page, wait_for_app

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"


def test_a_phone_votes_and_writes_with_everything_in_sight(browser, app_server, app_store):
    SCREENS.mkdir(parents=True, exist_ok=True)
    workshop, _key = demo.create_demo_workshop(app_store)
    position = next(i.position for i in W.agenda(app_store, workshop.id) if i.exercise_key == "untold_retention_stories")
    W.open_exercise(app_store, workshop.id, position)
    controls.set_voting(app_store, workshop.id, position, "open", dots=1)
    hiro = next(p for p in W.list_participants(app_store, workshop.id) if p.display_name == "Hiro")
    for dot in controls.my_dots(app_store, hiro, "untold_retention_stories"):  # the demo's vote, taken back
        controls.withdraw_vote(app_store, hiro, dot)
    own = next(s for s in W.list_stories(app_store, workshop.id, "untold_retention_stories") if s.participant_id == hiro.id)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        open_page(phone, f"{app_server}/participate?code={workshop.code}&p={hiro.token}")
        # Hiro's own story offers no dot.
        mine = phone.locator(f".st-key-vote-{own.id}")
        expect(mine).to_contain_text("Your story")
        expect(mine.get_by_role("button")).to_have_count(0)
        # One dot, then a second tap further down: the refusal shows under that button and stays.
        others = [s for s in W.list_stories(app_store, workshop.id, "untold_retention_stories") if s.participant_id != hiro.id]
        phone.locator(f".st-key-vote-{others[0].id}").get_by_role("button", name="Put a dot here").click()
        wait_for_app(phone)
        last = phone.locator(f".st-key-vote-{others[-1].id}")
        last.scroll_into_view_if_needed()
        last.get_by_role("button", name="Put a dot here").click()
        wait_for_app(phone)
        phone.wait_for_timeout(2500)  # the old warning was gone after one poll
        message = last.get_by_text("used all 1 of your dots")
        expect(message).to_be_visible()
        button = last.get_by_role("button", name="Put a dot here").bounding_box()
        box = message.bounding_box()
        # On the screen, right above the button tapped (below it, a button at the bottom edge put it out of sight).
        assert 0 <= box["y"] and box["y"] + box["height"] <= 740, (box, button)
        assert box["y"] + box["height"] <= button["y"] and button["y"] - box["y"] < 120, (box, button)
        phone.screenshot(path=str(SCREENS / "phone_vote_360x740.png"))

        # Voting over, the form: scrolled down, the time left is still on the screen.
        controls.set_voting(app_store, workshop.id, position, "off")
        area = phone.get_by_role("textbox", name="One time it really mattered")
        expect(area).to_be_visible(timeout=8_000)
        wait_for_app(phone)
        area.fill(("We called the night before go-live to test the VPN. " * 8)[:400])
        area.click()
        phone.mouse.wheel(0, 500)
        phone.wait_for_timeout(600)
        clock = phone.locator(".st-key-time-left")
        top = clock.bounding_box()
        assert top is not None and 0 <= top["y"] and top["y"] + top["height"] <= 80, top
        expect(clock).to_contain_text("left")
        # The hint ("400/400") sits under the box, not over the typed text.
        hint = phone.locator('[data-testid="stTextArea"] [data-testid="InputInstructions"]').first.bounding_box()
        text_box = area.bounding_box()
        assert hint["y"] >= text_box["y"] + text_box["height"] - 1, (hint, text_box)
        expect(phone.get_by_text("Press Ctrl+Enter to apply")).to_be_hidden()  # a phone has no Ctrl key
        phone.screenshot(path=str(SCREENS / "phone_form_360x740.png"))
    finally:
        context.close()
