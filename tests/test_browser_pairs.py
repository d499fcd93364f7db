"""Retrace the steps in Chromium: the console proposes pairs, a phone (360x740) shows its partner and
role and follows the phases by itself, and the projector (1920x1080) shows every pair, the phase with
its clock and the room's tally, readable from the back. Screenshots under artifacts/screens/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from facilitation import pairs as P
from facilitation import workshops as W
from facilitation.exercises import library
from streamlit_browser import choose, expect_text, open_page, projector_path, sign_in_facilitator, wait_for_app
from test_browser_projector import projector_problems

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"
RETRACE = "retrace_the_steps"
EX = library()[RETRACE]
ROOM = [("Ana", "Sales"), ("Bo", "Sales"), ("Cy", "Sales"), ("Dee", "Engineering"), ("Eli", "Support"),
        ("Fay", "Product"), ("Gus", "Engineering"), ("Hana", "Implementation"), ("Ivo", "Customer success"),
        ("Jun", "Finance/billing"), ("Kai", "Support"), ("Lea", "Marketing"), ("Max", "Leadership"),
        ("Noor", "Implementation"), ("Olu", "Customer success")]


def test_pairs_on_console_phone_and_projector(browser, app_server, app_store):
    SCREENS.mkdir(parents=True, exist_ok=True)
    workshop, key = W.create_workshop(app_store, title="Retrace day", agenda_plan=[(RETRACE, 20)])
    people = {n: W.join_workshop(app_store, workshop.code, n, f) for n, f in ROOM}
    W.open_exercise(app_store, workshop.id, 0)
    desk = browser.new_context(viewport={"width": 1440, "height": 1000})
    wall = browser.new_context(viewport={"width": 1920, "height": 1080})
    hand = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    for c in (desk, wall, hand):
        c.set_default_timeout(15_000)
    try:
        console = desk.new_page()
        sign_in_facilitator(console, app_server, workshop.code, key)
        expect_text(console, "15 in the room: 7 pairs and one trio")
        console.locator(".st-key-propose-pairs button").click()
        wait_for_app(console)
        expect_text(console, "Start phase 1: Tell it forward")
        r = P.round_of(W.snapshot(app_store, workshop.id), RETRACE)
        assert sorted(len(p.members) for p in r.pairs) == [2] * 6 + [3]
        # Re-pair by hand: the first pair's listener changes places with the second pair's.
        first, second = r.pairs[0].listeners[0], r.pairs[1].listeners[0]
        console.get_by_text("Change the pairs").click()
        choose(console, "Swap", f"{first.name} · {first.function}")
        choose(console, "with", f"{second.name} · {second.function}")
        console.locator(f".st-key-swap-{r.version} button").click()
        wait_for_app(console)
        r = P.round_of(W.snapshot(app_store, workshop.id), RETRACE)
        assert r.pair_of(first.participant_id).number == 2 and r.pair_of(second.participant_id).number == 1
        expect(console.locator(".st-key-pairs-console")).to_contain_text(f"{second.name} · {second.function}")
        trio = next(p for p in r.pairs if len(p.members) == 3)
        console.locator(".st-key-pairs-console").screenshot(path=str(SCREENS / "console_pairs.png"))

        listener = trio.listeners[0]
        phone = hand.new_page()
        open_page(phone, f"{app_server}/participate?code={workshop.code}&p={people[listener.name].token}")
        card = phone.locator(".st-key-my-pair")
        expect(card).to_contain_text(f"Pair {trio.number} · you are the listener")
        expect(card).to_contain_text(f"Your teller: {trio.teller.name} ({trio.teller.function})")
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box  # nothing wider than the phone
        phone.screenshot(path=str(SCREENS / "phone_pairs_360x740.png"))

        projector = wall.new_page()
        open_page(projector, f"{app_server}{projector_path(app_store, workshop)}")
        for pair in r.pairs:
            expect(projector.locator(f".st-key-board-pair-{pair.number}")).to_contain_text(
                f"Teller: {pair.teller.name} · {pair.teller.function}")
        projector.wait_for_timeout(800)
        projector.screenshot(path=str(SCREENS / "projector_pairs_board_1920x1080.png"))
        problems = [p for p in projector_problems(projector, "pairs board") if "no story text" not in p]
        assert not problems, "\n".join(problems)

        # The facilitator starts phase 1: the phone and the projector follow by themselves.
        console.locator(".st-key-phase-1 button").click()
        wait_for_app(console)
        phase = phone.locator(".st-key-phase")
        expect(phase).to_contain_text("Phase 1 of 3 · Tell it forward", timeout=10_000)
        expect(phase).to_contain_text(EX.phases[0].listener)
        expect(phase.locator(".countdown")).to_contain_text("left in this phase")
        phone.screenshot(path=str(SCREENS / "phone_pairs_phase_360x740.png"))
        expect(projector.locator(".st-key-phase-band")).to_contain_text("Tell it forward", timeout=10_000)
        expect(projector.locator(".st-key-phase-band .countdown")).to_contain_text("left in this phase")

        # Phase 2 and 3; listeners send their pair's form; the tally reaches the projector.
        for n in (2, 3):
            console.locator(f".st-key-phase-{n} button").click()
            wait_for_app(console)
        marks = EX.field("listening").options
        for i, pair in enumerate(r.pairs[:4]):
            # Every answer as long as the form allows: the page must still fit the screen.
            answers = {"partner": pair.teller.name,
                       "forward": ("1. They asked for a faster export. 2. We quoted two sprints. 3. They went quiet. "
                                   * 20)[:EX.field("forward").max_chars],
                       "reversed": ("From the end back: an auditor visits every quarter and asks who changed a record. "
                                    * 20)[:EX.field("reversed").max_chars],
                       "behind": (f"Pair {pair.number}: proof for the auditor, not a faster export. " * 20)[:1000],
                       "anticipatory": ("Offer the audit log up front, and ask who reviews their data. " * 20)[:1000],
                       "listening": marks[i % 2]}
            assert W.submit_story(app_store, people[pair.listeners[0].name], RETRACE, answers, f"b-{i}").ok
        band = projector.locator(".st-key-phase-band")
        expect(band).to_contain_text("Phase 3 of 3", timeout=10_000)
        tally = projector.locator(".st-key-tally")
        expect(tally).to_contain_text("How we listened", timeout=10_000)
        expect(projector.locator(".st-key-tally-count-0")).to_contain_text("2")
        expect(projector.locator(".st-key-tally-count-1")).to_contain_text("2")
        expect(tally).to_contain_text("3 not marked yet")
        wait_for_app(projector)
        projector.wait_for_timeout(1200)
        projector.screenshot(path=str(SCREENS / "projector_pairs_phase_tally_1920x1080.png"))
        problems = projector_problems(projector, "pairs with phase and tally")
        assert not problems, "\n".join(problems)
        # Four stories, one a page: the page note says so.
        expect(projector.locator(".st-key-page-note")).to_contain_text("of 4")
        # The light theme, for bright rooms, reads as well.
        open_page(projector, f"{app_server}{projector_path(app_store, workshop)}&theme=light")
        expect(projector.locator(".st-key-tally")).to_contain_text("How we listened")
        projector.wait_for_timeout(1200)
        projector.screenshot(path=str(SCREENS / "projector_pairs_light_1920x1080.png"))
        problems = projector_problems(projector, "pairs, light theme")
        assert not problems, "\n".join(problems)

        # The phases over: the band goes, each pair's page also shows what it would have offered.
        console.locator(".st-key-phase-4 button").click()
        wait_for_app(console)
        open_page(projector, f"{app_server}{projector_path(app_store, workshop)}")
        expect(projector.locator(".st-key-phase-band")).to_have_count(0)
        expect(projector.locator('[class*="st-key-pair-more-anticipatory-"]')).to_be_visible()
        projector.wait_for_timeout(1200)
        projector.screenshot(path=str(SCREENS / "projector_pairs_after_phases_1920x1080.png"))
        problems = projector_problems(projector, "pairs after the phases")
        assert not problems, "\n".join(problems)
    finally:
        for c in (desk, wall, hand):
            c.close()
