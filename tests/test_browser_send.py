"""Send from a phone in real Chromium: the story goes by one POST (no script run to wait for), exactly as the
form shows it — a choice picked a moment before Send included — and when that POST fails or is refused, the
form's own Send takes over, so nothing typed is lost and nothing is stored twice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitation import drafts, workshops as W
from streamlit_browser import fill_over_the_wall, open_page, wait_for_app

pytestmark = pytest.mark.browser


def phone_page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_send_is_one_post_that_stores_what_the_form_shows_and_the_page_then_offers_a_fresh_form(browser, app_server, app_store):
    workshop, _ = W.create_workshop(app_store, title="Send by post", agenda_plan=[("over_the_wall", 15)])
    W.open_exercise(app_store, workshop.id, 0)
    ana = W.join_workshop(app_store, workshop.code, "Ana", "Implementation")
    context, phone = phone_page(browser)
    try:
        open_page(phone, f"{app_server}/participate?code={workshop.code}&p={ana.token}")
        experience = "Sent by post: six weeks for an import template"
        fill_over_the_wall(phone, experience, scale="2")
        with phone.expect_response("**/api/story") as answered:
            phone.get_by_role("button", name="Send").click()
        assert answered.value.status == 200 and answered.value.json()["ok"] is True
        expect(phone.get_by_text("Sent — thank you").first).to_be_visible()
        # The paced redraw: a fresh, empty form and the story under "What you sent".
        expect(phone.get_by_text("What you sent (1)")).to_be_visible()
        expect(phone.get_by_role("textbox", name="What was the customer told")).to_have_value("")
        expect(phone.get_by_role("textbox", name="What was the customer told")).to_be_editable()
        # Said under the button too, where the person is looking (the page's message is above the form).
        expect(phone.get_by_role("status").filter(has_text="The form above is empty")).to_be_visible()
        [story] = W.list_stories(app_store, workshop.id, "over_the_wall")
        assert story.answers["experience"] == experience
        assert story.answers["stage"] == "Onboarding" and story.answers["next_function"] == "Support"
        assert story.answers["gap"] == 2, "the choice picked just before Send was not the one stored"
        assert drafts.load_draft(app_store, ana, "over_the_wall") == {}, "the sent story came back as a draft"
        phone.reload()
        wait_for_app(phone)
        expect(phone.get_by_role("textbox", name="What does the customer actually experience here?")).to_have_value("")
    finally:
        context.close()


def test_when_the_post_fails_the_forms_own_send_stores_the_story_once(browser, app_server, app_store):
    workshop, _ = W.create_workshop(app_store, title="Post fails", agenda_plan=[("over_the_wall", 15)])
    W.open_exercise(app_store, workshop.id, 0)
    ben = W.join_workshop(app_store, workshop.code, "Ben", "Support")
    context, phone = phone_page(browser)
    try:
        open_page(phone, f"{app_server}/participate?code={workshop.code}&p={ben.token}")
        phone.route("**/api/story", lambda route: route.abort())  # a proxy that drops it, a lost connection
        fill_over_the_wall(phone, "The POST never arrived")
        wait_for_app(phone)
        phone.get_by_role("button", name="Send").click()
        expect(phone.get_by_text("Sent — thank you").first).to_be_visible()
        expect(phone.get_by_text("What you sent (1)")).to_be_visible()
        assert [s.answers["experience"] for s in W.list_stories(app_store, workshop.id, "over_the_wall")] == [
            "The POST never arrived"]
    finally:
        context.close()


def test_a_refused_story_shows_its_problem_under_the_field_and_keeps_every_word(browser, app_server, app_store):
    workshop, _ = W.create_workshop(app_store, title="Refused", agenda_plan=[("over_the_wall", 15)])
    W.open_exercise(app_store, workshop.id, 0)
    cy = W.join_workshop(app_store, workshop.code, "Cy", "Sales")
    context, phone = phone_page(browser)
    try:
        open_page(phone, f"{app_server}/participate?code={workshop.code}&p={cy.token}")
        fill_over_the_wall(phone, "Nobody said how big the gap is", scale=None)
        wait_for_app(phone)
        with phone.expect_response("**/api/story") as answered:
            phone.get_by_role("button", name="Send").click()
        assert answered.value.status == 422
        wait_for_app(phone)
        expect(phone.locator('[data-testid="stAlertContentError"]').first).to_be_visible()
        expect(phone.get_by_role("textbox", name="What does the customer actually experience here?")).to_have_value(
            "Nobody said how big the gap is")
        assert W.list_stories(app_store, workshop.id, "over_the_wall") == []
        assert drafts.load_draft(app_store, cy, "over_the_wall")["experience"] == "Nobody said how big the gap is"
    finally:
        context.close()
