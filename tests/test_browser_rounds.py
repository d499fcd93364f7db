"""Always be storytelling in its three rounds and the guess-first wall, then One millimeter forward, as a
room plays them in a browser: two phones (360x740 and 390x844), the console and the projector (1920x1080).
Screenshots of each round on a phone and of the new projector views are kept under artifacts/screens/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from facilitation import workshops as W
from test_browser_room import pick_date
from streamlit_browser import choose, click_button, expect_text, open_page, projector_path, sign_in_facilitator, wait_for_app

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"


def test_a_room_plays_the_rounds_the_guesses_and_the_commitments(browser, app_server, app_store):
    SCREENS.mkdir(parents=True, exist_ok=True)
    w, key = W.create_workshop(app_store, title="Rounds in the browser",
                               agenda_plan=[("always_be_storytelling", 15), ("one_millimeter_forward", 10)])
    ana = W.join_workshop(app_store, w.code, "Ana", "Support")
    ben = W.join_workshop(app_store, w.code, "Ben", "Sales")
    small = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    large = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    desk = browser.new_context(viewport={"width": 1440, "height": 1000})
    wall = browser.new_context(viewport={"width": 1920, "height": 1080})
    for c in (small, large, desk, wall):
        c.set_default_timeout(15_000)
    phone, other, console, projector = small.new_page(), large.new_page(), desk.new_page(), wall.new_page()
    try:
        sign_in_facilitator(console, app_server, w.code, key)
        console.locator(".st-key-open-0 button").click()
        wait_for_app(console)
        expect(console.locator(".st-key-round-control")).to_contain_text("Round 1 of 3: What a customer said")
        open_page(projector, f"{app_server}{projector_path(app_store, w)}")
        open_page(phone, f"{app_server}/participate?code={w.code}&p={ana.token}")
        open_page(other, f"{app_server}/participate?code={w.code}&p={ben.token}")

        # Round 1 on the small phone: only its three questions, sent on their own.
        expect(phone.locator(".st-key-round-now")).to_contain_text("Round 1 of 3 · What a customer said")
        phone.get_by_role("textbox", name="What did a customer say").fill("“Who do we call now the project team has gone?”")
        choose(phone, "In which function's conversation did you hear it?", "Support")
        choose(phone, "At what stage of their life with us was the customer?", "Implementation")
        phone.screenshot(path=str(SCREENS / "phone_round_1_360x740.png"), full_page=True)
        click_button(phone, "Send round 1")
        expect_text(phone, "Round 1 is sent")
        expect_text(phone, "Next: round 2")
        phone.screenshot(path=str(SCREENS / "phone_round_1_sent_360x740.png"), full_page=True)
        expect_text(projector, "“Who do we call now the project team has gone?”")

        # The facilitator moves the room: the phone follows by itself, what was sent stays listed.
        click_button(console, "Next round: The company's story, then and now")
        expect(phone.locator(".st-key-round-now")).to_contain_text("Round 2 of 3", timeout=10_000)
        phone.get_by_role("textbox", name="Which story does the company tell").fill(
            "Our first controller printed every invoice and read it before it went out.")
        phone.get_by_role("textbox", name="Where do you see that story happening again").fill(
            "Billing still checks the first three invoices of every new account.")
        phone.keyboard.press("Tab")  # leave the field, as a thumb does before reaching for Send
        wait_for_app(phone)
        click_button(phone, "Send round 2")
        expect_text(phone, "Round 2 is sent")
        phone.screenshot(path=str(SCREENS / "phone_round_2_360x740.png"), full_page=True)
        expect_text(projector, "Where it is happening again today")
        expect_text(projector, "Billing still checks the first three invoices")
        projector.wait_for_timeout(1000)
        projector.screenshot(path=str(SCREENS / "projector_rounds_then_and_now_1920x1080.png"))

        # Round 3: the term; then the wall, guess first.
        click_button(console, "Next round: A word that keeps us apart")
        expect(phone.locator(".st-key-round-now")).to_contain_text("Round 3 of 3", timeout=10_000)
        phone.get_by_role("textbox", name="A word from your discipline").fill("P1")
        phone.get_by_role("textbox", name="What it means, in words").fill("The customer cannot work at all.")
        phone.keyboard.press("Tab")
        wait_for_app(phone)
        click_button(phone, "Send round 3")
        expect_text(phone, "Every round is sent")
        phone.screenshot(path=str(SCREENS / "phone_round_3_360x740.png"), full_page=True)
        expect(projector.get_by_text("The customer cannot work at all.")).to_have_count(0)  # not before the guesses

        console.reload()
        wait_for_app(console)
        click_button(console, "Put this term up")
        expect(projector.locator(".st-key-guess-term-big")).to_contain_text("P1", timeout=10_000)
        expect(phone.locator(".st-key-guess-box")).to_contain_text("This is your term", timeout=10_000)
        box = other.get_by_role("textbox", name="What do you think it means?")
        expect(box).to_be_visible(timeout=10_000)
        box.fill("Our most important customer")
        click_button(other, "Send my guess")
        expect_text(other, "Your guess is in")
        other.screenshot(path=str(SCREENS / "phone_guess_390x844.png"), full_page=True)
        expect_text(projector, "Our most important customer")
        expect(projector.get_by_text("The customer cannot work at all.")).to_have_count(0)
        projector.wait_for_timeout(1000)
        projector.screenshot(path=str(SCREENS / "projector_rounds_guessing_1920x1080.png"))
        console.reload()
        wait_for_app(console)
        console.screenshot(path=str(SCREENS / "console_guess_first_1440.png"), full_page=True)
        click_button(console, "Reveal the meaning")
        expect(projector.locator(".st-key-guess-meaning-text")).to_contain_text("The customer cannot work at all.",
                                                                              timeout=10_000)
        expect_text(other, "It means: The customer cannot work at all.")
        projector.wait_for_timeout(1000)
        projector.screenshot(path=str(SCREENS / "projector_rounds_revealed_1920x1080.png"))

        # One millimeter forward: one's own function and a past date are refused, nothing typed is lost.
        console.locator(".st-key-open-1 button").click()
        wait_for_app(console)
        expect_text(other, "One small thing you will do", timeout=10_000)
        other.get_by_role("textbox", name="One small thing").fill("Sit in on two support calls")
        choose(other, "Which story or handoff from today does it serve?",
               "Always be storytelling · “Who do we call now the project team has gone?”")
        choose(other, "Which other function does it connect you to?", "Sales")
        past = dt.date.today() - dt.timedelta(days=3)
        pick_date(other, "By when?", past.strftime("%Y/%m/%d"))
        click_button(other, "Send")
        expect_text(other, "is your own function")
        expect_text(other, "has already passed")
        expect(other.get_by_role("textbox", name="One small thing")).to_have_value("Sit in on two support calls")
        other.screenshot(path=str(SCREENS / "phone_commitment_refused_390x844.png"), full_page=True)
        choose(other, "Which other function does it connect you to?", "Support")
        pick_date(other, "By when?", (dt.date.today() + dt.timedelta(days=10)).strftime("%Y/%m/%d"))
        click_button(other, "Send")
        expect_text(other, "Sent")
        expect_text(projector, "Nobody connected to: Sales", timeout=10_000)
        expect_text(projector, "Sit in on two support calls")
        projector.wait_for_timeout(1000)
        projector.screenshot(path=str(SCREENS / "projector_rounds_board_1920x1080.png"))
    finally:
        for c in (small, large, desk, wall):
            c.close()


@pytest.mark.parametrize("how", ["tap", "click", "tap after a refusal", "click after a refusal"])
def test_typing_then_tapping_send_sends_the_round_on_the_first_tap(browser, app_server, app_store, how):
    """A thumb goes from the text box straight to Send without leaving the field first: the first tap sends.
    (The box's character count goes when it loses focus; the page must not move under the finger then.)"""
    w, key = W.create_workshop(app_store, title=f"Straight to Send ({how})", agenda_plan=[("always_be_storytelling", 15)])
    W.open_exercise(app_store, w.id, 0)
    ana = W.join_workshop(app_store, w.code, "Ana", "Support")
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        open_page(phone, f"{app_server}/participate?code={w.code}&p={ana.token}")
        if how.endswith("after a refusal"):  # the refusals stay listed under the fields while they are filled in
            click_button(phone, "Send round 1")
            expect_text(phone, "Please choose an answer")
        choose(phone, "In which function's conversation did you hear it?", "Support")
        choose(phone, "At what stage of their life with us was the customer?", "Implementation")
        phone.get_by_role("textbox", name="What did a customer say").click()
        phone.keyboard.type("We thought the trainer would come back for the second site.")
        send = phone.get_by_role("button", name="Send round 1")
        send.click() if how.startswith("click") else send.tap()
        expect_text(phone, "Round 1 is sent", timeout=5_000)
        stories = W.list_stories(app_store, w.id, "always_be_storytelling")
        assert [s.answers.get("remark") for s in stories] == [
            "We thought the trainer would come back for the second site."]
    finally:
        context.close()
