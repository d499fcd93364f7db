"""The room in a real browser: a facilitator, a projector and three phones run two exercises with a
dot vote and a spotlight. Screenshots of the console, the projector (1920x1080) and a phone (360x740)
are kept under artifacts/screens/ for people to look at."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from facilitation import commitments, workshops as W
from streamlit_browser import (choose, click_button, send_story, open_agenda_item, open_page, projector_path, sign_in_facilitator,
                              wait_for_app)

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"
POLL_SECONDS = 2
STORIES = {
    "Ana": ("Sales", "We read every contract back to the customer before signing.",
            "A customer heard the renewal terms from us before the letter came, and said it was the reason they stayed."),
    "Ben": ("Support", "We stay on the call until their own shift confirms the fix.",
            "Their night shift ran the first batch with our engineer still on the line."),
    "Cy": ("Customer success", "We send the renewal quote a budget cycle early.",
           "The early quote let them add a second site in the same budget."),
}


def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def pick_date(page, label: str, typed: str) -> None:
    """Type a date as YYYY/MM/DD the way a person does, into a text box or year/month/day segments."""
    box = page.locator('[data-testid="stDateInput"]').filter(has_text=label)
    segments = box.get_by_role("spinbutton")
    if segments.count() >= 3:
        for segment, part in zip((segments.nth(0), segments.nth(1), segments.nth(2)), typed.split("/")):
            segment.click()
            page.keyboard.type(part)
        page.keyboard.press("Tab")
    else:
        box.locator("input").first.fill(typed)
        box.locator("input").first.press("Enter")
    wait_for_app(page)


def seconds_until_visible(page, text: str, timeout: float = 10.0) -> float:
    start = time.monotonic()
    expect(page.get_by_text(text, exact=False).first).to_be_visible(timeout=timeout * 1000)
    return time.monotonic() - start


def test_a_room_runs_two_exercises_with_a_vote_and_a_spotlight(browser, app_server, app_store):
    SCREENS.mkdir(parents=True, exist_ok=True)
    workshop, key = W.create_workshop(app_store, title="Retention stories we never tell",
                                      agenda_plan=[("untold_retention_stories", 10), ("one_millimeter_forward", 10)])
    code = workshop.code

    fac_ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
    fac_ctx.set_default_timeout(15_000)
    console = fac_ctx.new_page()
    sign_in_facilitator(console, app_server, code, key)
    proj_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    projector = proj_ctx.new_page()
    open_page(projector, app_server + projector_path(app_store, W.find_workshop(app_store, code)))

    phones = {}
    for name, (function, _, _) in STORIES.items():
        ctx, page = phone(browser)
        open_page(page, f"{app_server}/?code={code}")  # what the QR code opens
        page.get_by_label("Your name").fill(name)
        choose(page, "Your function", function)
        click_button(page, "Join")
        page.wait_for_url(re.compile(r"/participate\?"))
        phones[name] = (ctx, page)
    expect(projector.get_by_text("3 joined")).to_be_visible(timeout=8_000)

    # The projector and the phones follow the console within the polling interval.
    open_agenda_item(console)
    followed = seconds_until_visible(projector, "What do we do for every customer")
    assert followed <= POLL_SECONDS + 2.5, f"projector took {followed:.1f} s to follow the console"
    for name, (_, page) in phones.items():
        expect(page.get_by_text("What do we do for every customer").first).to_be_visible(timeout=8_000)

    for name, (function, practice, story) in STORIES.items():
        page = phones[name][1]
        page.get_by_role("textbox", name="What does your team do for every customer").fill(practice)
        page.get_by_role("textbox", name="One time it really mattered").fill(story)
        if name == "Cy":
            # Cy's phone drops mid-sentence: the refresh keeps who Cy is and every word typed.
            page.get_by_role("textbox", name="One time it really mattered").blur()
            wait_for_app(page)
            time.sleep(0.5)
            url = page.url
            page.reload()
            wait_for_app(page)
            assert page.url == url
            expect(page.get_by_text(f"Cy · {function}")).to_be_visible()
            expect(page.get_by_role("textbox", name="One time it really mattered")).to_have_value(story)
        choose(page, "Which function should tell this story?", function)
        choose(page, "And to whom?", "Prospects close to signing")
        choose(page, "May we retell this story outside this room?", "Yes, as it is written")
        send_story(page)
    expect(projector.get_by_text(STORIES["Cy"][2]).first).to_be_visible(timeout=8_000)

    # Dot voting: Ana and Cy put a dot on Ben's story, Ben (who cannot vote for his own) and Ana on
    # Cy's; the projector ranks Ben first (a tie keeps the order of arrival).
    console.get_by_role("button", name="Open voting").click()
    wait_for_app(console)
    for name, (_, page) in phones.items():
        expect(page.get_by_text("Vote:").first).to_be_visible(timeout=8_000)
        target = "Cy" if name == "Ben" else "Ben"
        page.locator('[class*="st-key-vote-"]').filter(has_text=STORIES[target][2]).get_by_role("button", name="Put a dot here").click()
        wait_for_app(page)
    own = phones["Ben"][1].locator('[class*="st-key-vote-"]').filter(has_text=STORIES["Ben"][2]).first
    expect(own).to_contain_text("Your story")
    ana = phones["Ana"][1]
    ana.locator('[class*="st-key-vote-"]').filter(has_text=STORIES["Cy"][2]).get_by_role("button", name="Put a dot here").click()
    wait_for_app(ana)
    expect(ana.get_by_text("Vote: 1 of 3 dots left")).to_be_visible()
    expect(projector.get_by_text("●● 2 dots").first).to_be_visible(timeout=8_000)
    first_card = projector.locator('[class*="st-key-story-"]').first
    expect(first_card).to_contain_text(STORIES["Ben"][2])
    projector.screenshot(path=str(SCREENS / "projector_votes_1920x1080.png"))

    # Spotlight one story full screen, then end it.
    ben_story = next(s for s in W.list_stories(app_store, workshop.id) if s.answers["story"] == STORIES["Ben"][2])
    console.get_by_role("button", name="Close voting").click()
    wait_for_app(console)
    console.locator(f".st-key-spot-{ben_story.id} button").click()
    wait_for_app(console)
    expect(projector.locator(".st-key-spotlight-headline")).to_contain_text(STORIES["Ben"][2], timeout=8_000)
    projector.screenshot(path=str(SCREENS / "projector_spotlight_1920x1080.png"))
    console.get_by_role("button", name="End spotlight").click()
    wait_for_app(console)

    # Second exercise: commitments.
    console.locator(".st-key-open-1 button").click()
    wait_for_app(console)
    page = phones["Ana"][1]
    expect(page.get_by_text("One millimeter forward").first).to_be_visible(timeout=8_000)
    page.get_by_role("textbox", name="One small thing you will do in the next month").fill("Invite support to our last sales call")
    choose(page, "Which story or handoff from today does it serve?",  # one of the stories the room told
           commitments.serve_options(W.snapshot(app_store, workshop.id))[0])
    choose(page, "Which other function does it connect you to?", "Support")
    pick_date(page, "By when?", "2027/01/15")
    send_story(page)
    expect(projector.get_by_text("Invite support to our last sales call")).to_be_visible(timeout=8_000)

    projector.screenshot(path=str(SCREENS / "projector_1920x1080.png"))
    console.screenshot(path=str(SCREENS / "console_1440x1000.png"), full_page=True)
    page.screenshot(path=str(SCREENS / "phone_360x740.png"))
    # Nothing on a phone is wider than the screen.
    for _, page in phones.values():
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain] *')].map(e => e.getBoundingClientRect().right))") <= 361

    for ctx, _ in phones.values():
        ctx.close()
    proj_ctx.close()
    fac_ctx.close()
