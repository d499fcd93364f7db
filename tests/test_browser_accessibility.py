"""Accessibility checked by axe-core (axe-playwright-python, which bundles axe: no network) on every
page and state a person meets: the join page, a phone in each exercise, voting and after sending,
the console, the projector in each view, the map, the report, a new workshop, the check-in and the
phone a month later. Any serious or critical violation fails, named with the element it is on.

One server and one browser context per device, pages reused from state to state, to keep it quick."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from facilitation import controls, demo, workshops as W
from streamlit_browser import open_page, projector_path, sign_in_facilitator, wait_for_app
from test_browser_check_in import seed as seed_after_the_room
from test_browser_projector import views

pytestmark = pytest.mark.browser

AXE = Axe()
IMPACTS = ("serious", "critical")


def axe_problems(page, state: str) -> list[str]:
    """The serious and critical axe violations on the page as it is now, one readable line per element."""
    found = AXE.run(page).response
    lines = []
    for v in found["violations"]:
        if v["impact"] not in IMPACTS:
            continue
        for node in v["nodes"]:
            why = " ".join(node.get("failureSummary", "").split())
            lines.append(f"{state}: {v['id']} ({v['impact']}) on {' '.join(map(str, node['target']))}: {why[:240]}")
    return lines


def assert_none(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} serious/critical accessibility violations:\n" + "\n".join(problems)


def test_the_phone_has_no_serious_accessibility_problem(browser, app_server, app_store):
    workshop, _key = demo.create_demo_workshop(app_store)
    hiro = next(p for p in W.list_participants(app_store, workshop.id) if p.display_name == "Hiro")
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    problems: list[str] = []
    try:
        open_page(phone, f"{app_server}/?code={workshop.code}")
        expect(phone.get_by_label("Your name")).to_be_visible()
        problems += axe_problems(phone, "join")
        for item in W.agenda(app_store, workshop.id):
            W.open_exercise(app_store, workshop.id, item.position)
            controls.add_time(app_store, workshop.id, 120)
            open_page(phone, f"{app_server}/participate?code={workshop.code}&p={hiro.token}")
            expect(phone.get_by_text(item.exercise.title, exact=False).first).to_be_visible(timeout=10_000)
            problems += axe_problems(phone, f"phone in {item.exercise_key}")
            if item.exercise_key == "untold_retention_stories":
                controls.set_voting(app_store, workshop.id, item.position, "open", dots=2)
                expect(phone.get_by_text("dots left", exact=False).first).to_be_visible(timeout=10_000)
                wait_for_app(phone)
                problems += axe_problems(phone, "phone voting")
                controls.set_voting(app_store, workshop.id, item.position, "off")
    finally:
        context.close()
    assert_none(problems)


def test_the_facilitator_pages_have_no_serious_accessibility_problem(browser, app_server, app_store):
    workshop, key = demo.create_demo_workshop(app_store)
    over = next(i for i in W.agenda(app_store, workshop.id) if i.exercise_key == "over_the_wall")
    W.open_exercise(app_store, workshop.id, over.position)
    controls.add_time(app_store, workshop.id, 300)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    try:
        open_page(page, f"{app_server}/new")
        problems += axe_problems(page, "new workshop")
        sign_in_facilitator(page, app_server, workshop.code, key)
        expect(page.get_by_text("Now: Over the wall", exact=False).first).to_be_visible()
        problems += axe_problems(page, "console")
        for path, shows in (("map", "Handoffs"), ("report", "Build the Word report"), ("themes", "Find themes"),
                            ("check_in", "Check-in")):
            open_page(page, f"{app_server}/{path}?code={workshop.code}")
            expect(page.get_by_text(shows, exact=False).first).to_be_visible()
            if path == "map":
                page.wait_for_selector(".st-key-map-figure .main-svg", timeout=15_000)
            problems += axe_problems(page, path)
    finally:
        context.close()
    assert_none(problems)


def test_the_projector_has_no_serious_accessibility_problem_in_any_view(browser, app_server, app_store):
    workshop, _key = demo.create_demo_workshop(app_store)
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    projector = context.new_page()
    problems: list[str] = []
    try:
        open_page(projector, f"{app_server}{projector_path(app_store, workshop)}")
        problems += axe_problems(projector, "projector before the first exercise")
        for name, set_up, shows in views(app_store, workshop):
            set_up()
            open_page(projector, f"{app_server}{projector_path(app_store, workshop)}")
            expect(projector.get_by_text(shows, exact=False).first).to_be_visible(timeout=10_000)
            projector.wait_for_timeout(1000)  # cards fade in: axe would measure them half transparent
            problems += axe_problems(projector, f"projector {name}")
    finally:
        context.close()
    assert_none(problems)


def test_after_the_room_pages_have_no_serious_accessibility_problem(browser, app_server, app_store):
    workshop, key, made = seed_after_the_room(app_store)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    try:
        ana = made["Ana"][0]
        open_page(page, f"{app_server}/participate?code={workshop.code}&p={ana.token}")
        expect(page.get_by_text(made["Ana"][1].answers["action"], exact=False).first).to_be_visible()
        problems += axe_problems(page, "phone a month later")
        open_page(page, f"{app_server}{projector_path(app_store, workshop)}&view=check_in")
        problems += axe_problems(page, "projector check-in")
        page.set_viewport_size({"width": 1440, "height": 1000})
        sign_in_facilitator(page, app_server, workshop.code, key)
        open_page(page, f"{app_server}/check_in?code={workshop.code}")
        problems += axe_problems(page, "check-in")
    finally:
        context.close()
    assert_none(problems)
