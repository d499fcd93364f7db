"""A German workshop in a real browser: the phone (390x844) votes in German, the projector (1920x1080)
speaks German, and what people typed stays as they typed it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from facilitation import controls, demo, exercises, workshops as W
from facilitation.store import workshops as workshop_rows
from streamlit_browser import open_page, projector_path, wait_for_app

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"


def test_a_german_room_votes_and_reads_in_german(browser, app_server, app_store):
    SCREENS.mkdir(parents=True, exist_ok=True)
    workshop, _key = demo.create_demo_workshop(app_store)
    with app_store.write() as conn:  # the demo room, held in German (before the server has read it)
        conn.execute(sa.update(workshop_rows).where(workshop_rows.c.id == workshop.id).values(language="de"))
    position = next(i.position for i in W.agenda(app_store, workshop.id) if i.exercise_key == "untold_retention_stories")
    W.open_exercise(app_store, workshop.id, position)
    controls.set_voting(app_store, workshop.id, position, "open", dots=3)
    hiro = next(p for p in W.list_participants(app_store, workshop.id) if p.display_name == "Hiro")
    for dot in controls.my_dots(app_store, hiro, "untold_retention_stories"):
        controls.withdraw_vote(app_store, hiro, dot)
    others = [s for s in W.list_stories(app_store, workshop.id, "untold_retention_stories") if s.participant_id != hiro.id]
    german = exercises.in_language(exercises.library()["untold_retention_stories"], "de")

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="de-DE")
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        open_page(phone, f"{app_server}/participate?code={workshop.code}&p={hiro.token}")
        expect(phone.get_by_text("Abstimmen: noch 3 von 3 Punkten")).to_be_visible()
        card = phone.locator(f".st-key-vote-{others[0].id}")
        expect(card).to_contain_text(others[0].answers["story"][:40])  # the story as it was typed
        card.get_by_role("button", name="Hier einen Punkt setzen").click()
        wait_for_app(phone)
        expect(card.get_by_role("button", name="Meinen Punkt zurücknehmen")).to_be_visible()
        expect(phone.get_by_text("Abstimmen: noch 2 von 3 Punkten")).to_be_visible()
        body = phone.locator("body").inner_text()
        for english in ("Put a dot here", "Take my dot back", "Vote:", "Why this exercise?", "dots left"):
            assert english not in body, english
        phone.screenshot(path=str(SCREENS / "phone_german_vote_390x844.png"))
    finally:
        context.close()

    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    context.set_default_timeout(15_000)
    projector = context.new_page()
    try:
        open_page(projector, app_server + projector_path(app_store, workshop))
        expect(projector.get_by_text(german.title, exact=True).first).to_be_visible()
        expect(projector.get_by_text("Geschichten", exact=False).first).to_be_visible()
        body = projector.locator("body").inner_text()
        for english in ("stories ·", "in the room", "Other functions", "dots"):
            assert english not in body, english
        projector.screenshot(path=str(SCREENS / "projector_german_1920x1080.png"))
    finally:
        context.close()
