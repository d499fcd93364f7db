"""After the room in a real browser: a month later a participant opens their link on a phone, marks
a commitment done with a line on what happened, and the 30-day check-in on the projector shows it
by function pair within a poll. Screenshots: the phone (360x740), the check-in projector view
(1920x1080), the check-in console and the themes panel, under artifacts/screens/."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import icalendar
import pytest
from playwright.sync_api import expect

from facilitation import commitments, follow_up, themes
from facilitation import workshops as W
from streamlit_browser import open_page, projector_path, sign_in_facilitator, wait_for_app
from test_browser_room import phone
from theme_samples import remarks

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"
KEY = "one_millimeter_forward"
COMMITMENTS = [
    ("Ana", "Sales", "Invite the implementation lead to my next two discovery calls", "Implementation"),
    ("Ben", "Support", "Send sales a one-paragraph glossary of our ticket terms", "Sales"),
    ("Cy", "Customer success", "Add the customer's go-live date to the handoff note", "Implementation"),
    ("Dee", "Implementation", "Share the kick-off checklist with customer success", "Customer success"),
    ("Eli", "Sales", "Sit in on two support calls with our largest account", "Support"),
]


def seed(store):
    workshop, key = W.create_workshop(store, title="Autumn customer-story day", organisation="Northwind",
                                      held_on=dt.date.today() - dt.timedelta(days=30),
                                      agenda_plan=[("always_be_storytelling", 15), (KEY, 10)])
    people = {}
    W.open_exercise(store, workshop.id, 0)
    for i, (function, remark) in enumerate(remarks()):
        person = people.setdefault(function, W.join_workshop(store, workshop.code, f"{function[:3]} teller", function))
        assert W.submit_story(store, person, "always_be_storytelling", {
            "remark": remark, "heard_in": function, "heard_at": W.DEFAULT_STAGES[2],
            "company_story": "The founders drove out on a Sunday.", "retold_today": "Support does it every month.",
            "term": f"term {i}", "plain_meaning": "what it means"}, f"r-{i}").ok
    W.open_exercise(store, workshop.id, 1)
    serves = commitments.serve_options(W.snapshot(store, workshop.id))
    made = {}
    for i, (name, function, action, to) in enumerate(COMMITMENTS):
        person = W.join_workshop(store, workshop.code, name, function)
        # Made in the room a month ago (dates then still to come), serving a remark of that day.
        story = W.submit_story(store, person, KEY, {"action": action, "serves": serves[i % len(serves)],
                                                    "connects_to": to, "by_when": (dt.date.today() + dt.timedelta(days=i - 2)).isoformat()},
                               f"c-{i}", clock=lambda: time.time() - 30 * 86400).story
        made[name] = (person, story)
    W.close_exercise(store, workshop.id)
    follow_up.set_status(store, made["Ben"][0], made["Ben"][1].id, "partly", "Drafted, waiting for review by sales")
    follow_up.set_status(store, made["Dee"][0], made["Dee"][1].id, "dropped", "The checklist moved into the CRM")
    return workshop, key, made


def test_a_month_later_a_phone_marks_a_commitment_done_and_the_check_in_shows_it(browser, app_server, app_store):
    SCREENS.mkdir(parents=True, exist_ok=True)
    workshop, key, made = seed(app_store)
    ana, ana_story = made["Ana"]

    wall_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    wall = wall_ctx.new_page()
    open_page(wall, f"{app_server}{projector_path(app_store, workshop)}&view=check_in")
    expect(wall.get_by_text("30-day check-in · Autumn customer-story day")).to_be_visible()
    expect(wall.get_by_text("5 made · 0 done · 1 partly · 1 dropped · 3 still open")).to_be_visible()
    expect(wall.get_by_text("Sales → Implementation", exact=True)).to_be_visible()

    ctx, phone_page = phone(browser)
    open_page(phone_page, f"{app_server}/participate?code={workshop.code}&p={ana.token}")
    expect(phone_page.get_by_role("heading", name="My commitments")).to_be_visible()
    card = phone_page.locator(f".st-key-my-commitment-{ana_story.id}")
    expect(card.get_by_text(COMMITMENTS[0][2])).to_be_visible()
    with phone_page.expect_download() as download:
        card.get_by_role("button", name="Add to calendar (.ics)").click()
    event = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")[0]
    assert str(event["url"]).endswith(f"/participate?code={workshop.code}&p={ana.token}")
    card.locator('[data-testid="stRadio"] label').filter(has_text="Done").first.click()
    card.get_by_label("What happened (one line)").fill("Priya joined both calls; the customer asked her about go-live")
    card.get_by_role("button", name="Save").click()
    wait_for_app(phone_page)
    expect(card.get_by_text("Saved.")).to_be_visible()
    phone_page.screenshot(path=str(SCREENS / "my_commitments_phone.png"), full_page=False)
    phone_page.screenshot(path=str(SCREENS / "my_commitments_phone_full.png"), full_page=True)
    saved = time.monotonic()

    # The projector follows by itself: the revision poll brings the new status in.
    expect(wall.get_by_text("Priya joined both calls; the customer asked her about go-live")).to_be_visible(timeout=10_000)
    follow_seconds = time.monotonic() - saved
    expect(wall.get_by_text("5 made · 1 done · 1 partly · 1 dropped · 2 still open")).to_be_visible()
    wall.screenshot(path=str(SCREENS / "check_in_projector.png"))
    print(f"check-in projector showed the phone's update after {follow_seconds:.1f} s")

    console_ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
    console = console_ctx.new_page()
    sign_in_facilitator(console, app_server, workshop.code, key)
    open_page(console, f"{app_server}/check_in?code={workshop.code}")
    expect(console.get_by_role("heading", name="What moved (2)")).to_be_visible()
    expect(console.get_by_role("heading", name="Still open (2)")).to_be_visible()
    with console.expect_download() as bundle:
        console.get_by_role("button", name="All commitments as a calendar (.ics)").click()
    assert len(list(icalendar.Calendar.from_ical(Path(bundle.value.path()).read_bytes()).walk("VEVENT"))) == 5
    console.screenshot(path=str(SCREENS / "check_in_console.png"), full_page=True)

    themes.find_themes(app_store, workshop.id)
    first = themes.list_themes(app_store, workshop.id)[0]
    open_page(console, f"{app_server}/themes?code={workshop.code}")
    console.locator(f".st-key-confirm-{first.id} button").click()
    wait_for_app(console)
    expect(console.get_by_text("✓ " + first.label)).to_be_visible()
    console.screenshot(path=str(SCREENS / "themes_console.png"), full_page=True)
    open_page(wall, f"{app_server}{projector_path(app_store, workshop)}&view=themes")
    expect(wall.get_by_text(first.label, exact=True)).to_be_visible()
    wall.screenshot(path=str(SCREENS / "themes_projector.png"))
    for c in (wall_ctx, ctx, console_ctx):
        c.close()
