"""A real three-person session in Chromium: a facilitator and two participants run Over the wall,
and the facilitator downloads a Word report that holds both stories."""

from __future__ import annotations

import re

import docx
import pytest
from playwright.sync_api import expect

from streamlit_browser import choose, click_button, expect_text, open_page, pick_radio, wait_for_app, open_agenda_item

pytestmark = pytest.mark.browser

STORIES = {
    "Ana": dict(function="Sales", stage="Sale", promise="We promised a two-week go-live with their own data.",
                experience="They waited six weeks for an import template nobody had mentioned.",
                next_function="Implementation", lost="The go-live date the CFO was told.", gap="4"),
    "Ben": dict(function="Support", stage="Support & adoption", promise="Support answers within four hours.",
                experience="Tickets bounce between two queues for days <b>and</b> nobody owns them.",
                next_function="Customer success", lost="Who the customer's champion is.", gap="5"),
}


def join(browser, base_url, code, name, function):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    phone = context.new_page()
    open_page(phone, f"{base_url}/?code={code}")
    phone.get_by_label("Your name").fill(name)
    choose(phone, "Your function", function)
    click_button(phone, "Join")
    phone.wait_for_url(re.compile(r"/participate\?"))
    expect_text(phone, "you're in")
    return context, phone


def tell(phone, story):
    choose(phone, "Which stage of the customer's life do you own?", story["stage"])
    phone.get_by_role("textbox", name="What was the customer told").fill(story["promise"])
    phone.get_by_role("textbox", name="What does the customer actually experience here?").fill(story["experience"])
    choose(phone, "Who do you hand the customer to next?", story["next_function"])
    phone.get_by_role("textbox", name="What gets lost in that handoff?").fill(story["lost"])
    pick_radio(phone, story["gap"])
    send = phone.get_by_role("button", name="Send")
    send.dblclick()  # an impatient double click must still store one story
    wait_for_app(phone)
    expect_text(phone, "Sent — thank you")


def test_three_people_run_over_the_wall_and_get_the_report(browser, app_server, app_store, tmp_path):
    facilitator_ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    facilitator_ctx.set_default_timeout(15_000)
    console = facilitator_ctx.new_page()
    open_page(console, f"{app_server}/new")
    console.get_by_label("Title", exact=True).fill("Where our customer story breaks")
    console.get_by_label("Organisation").fill("Acme Robotics")
    click_button(console, "Create workshop")
    code = console.get_by_text(re.compile(r"Join code for the room")).inner_text().split(":")[-1].strip()
    click_button(console, "Open the console")
    console.wait_for_url(re.compile(r"/console\?"))
    expect_text(console, "Nothing is live yet")

    projector_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    projector = projector_ctx.new_page()
    # The console's projector link carries the screen token; the code alone shows no wall.
    href = console.get_by_role("link", name="Open projector").first.get_attribute("href")
    assert "screen=" in href and "key" not in href
    open_page(projector, f"{app_server}/{href.lstrip('./')}")
    expect(projector.get_by_text(code, exact=True).first).to_be_visible()

    people = {name: join(browser, app_server, code, name, s["function"]) for name, s in STORIES.items()}

    open_agenda_item(console)
    expect_text(console, "Now: Over the wall")
    for name, (_, phone) in people.items():
        # the participant screen follows the console by itself, within the polling interval
        expect(phone.get_by_text("Where does our story to the customer stop", exact=False)).to_be_visible(timeout=8_000)
        tell(phone, STORIES[name])

    # The console and the projector follow without a reload; text shows literally.
    expect_text(console, STORIES["Ben"]["experience"], timeout=8_000)
    expect_text(projector, STORIES["Ben"]["experience"], timeout=8_000)
    expect_text(projector, "2 stories from 2 functions", timeout=8_000)
    stored = app_store_stories(app_store, code)
    assert sorted(s.answers["lost"] for s in stored) == sorted(s["lost"] for s in STORIES.values())

    console.get_by_role("button", name="Lock").first.click()
    wait_for_app(console)
    expect_text(people["Ana"][1], "This exercise is locked", timeout=8_000)

    console.get_by_role("link", name="Report and downloads").click()
    wait_for_app(console)
    click_button(console, "Build the Word report")
    with console.expect_download() as download_info:
        console.get_by_role("button", name="Download the report").click()
    path = tmp_path / "report.docx"
    download_info.value.save_as(path)
    document = docx.Document(str(path))
    text = "\n".join([p.text for p in document.paragraphs] +
                     [c.text for t in document.tables for row in t.rows for c in row.cells])
    for story in STORIES.values():
        assert story["experience"] in text
        assert story["promise"] in text
    assert "Where our customer story breaks" in text

    # The archive restores the workshop through the app itself (here on the same server, so with a new code).
    with console.expect_download() as archive_info:
        console.get_by_role("button", name="Workshop archive (.json)").click()
    archive_path = tmp_path / "archive.json"
    archive_info.value.save_as(archive_path)
    open_page(console, f"{app_server}/new")
    console.get_by_text("Restore a workshop from an archive (.json)").click()
    console.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(archive_path))
    wait_for_app(console)
    expect_text(console, "2 participants")
    click_button(console, "Restore this workshop")
    expect_text(console, "Workshop restored")
    restored_code = console.get_by_text(re.compile(r"Join code: ")).inner_text().split(":")[-1].strip()
    assert restored_code != code
    restored = app_store_stories(app_store, restored_code)
    assert sorted(s.answers["lost"] for s in restored) == sorted(s["lost"] for s in STORIES.values())

    for ctx, _ in people.values():
        ctx.close()
    projector_ctx.close()
    facilitator_ctx.close()


def app_store_stories(store, code):
    from facilitation import workshops as W

    workshop = W.find_workshop(store, code)
    return W.list_stories(store, workshop.id)
