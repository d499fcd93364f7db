"""Half the story (the cards view) and Untold retention stories (the story bank view), each played by
a room of seven with names off: what the projector and the phones show, and what the report keeps."""

from __future__ import annotations

import io
import time

import docx
import pytest
import sqlalchemy as sa

from facilitation import controls, exports, report, room, views, workshops as W
from facilitation.exercises import library
from facilitation.store import stories as story_rows
from streamlit_browser import screen_for
from test_pages import all_text, app_db, run_page  # noqa: F401  (app_db is a fixture)

HALF, UNTOLD = "half_the_story", "untold_retention_stories"
# Three from Support and three from Sales, one from Finance: with names off, Finance is never named.
ROOM = [("Ines", "Support"), ("Hiro", "Support"), ("Sam", "Support"),
        ("Amira", "Sales"), ("Ben", "Sales"), ("Cleo", "Sales"), ("Lars", "Finance/billing")]


def join_room(store, plan):
    workshop, key = W.create_workshop(store, title="Cards", agenda_plan=plan, show_names=False)
    people = {name: W.join_workshop(store, workshop.code, name, function) for name, function in ROOM}
    return workshop, key, people


def tell(store, person, key, answers, n):
    result = W.submit_story(store, person, key, answers, f"{key}-{person.display_name}-{n}")
    assert result.story is not None, result.problems
    return result.story


def stored_without_new_fields(store, workshop, person, key, answers):
    """A story as an older version stored it (before fields it now asks for existed)."""
    now = time.time()
    with store.write() as conn:
        conn.execute(sa.insert(story_rows).values(
            workshop_id=workshop.id, exercise_key=key, participant_id=person.id, function=person.function,
            answers=answers, idempotency_key=f"old-{person.id}-{key}", hidden=False, created_at=now, updated_at=now))
        W._bump(conn, workshop.id, "stories")


def projector_texts(monkeypatch, workshop, pages: int) -> list[str]:
    """The projector's text over every page of its rotating wall."""
    texts = []
    for slot in range(pages):
        monkeypatch.setattr(room, "rotation_slot", lambda now, seconds=None, slot=slot: slot)
        at = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code))
        assert not at.exception, at.exception
        texts += [t.value for t in at.text]
    return texts


def paragraphs_and_cells(data: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(data))
    out = [p.text for p in document.paragraphs]
    for table in document.tables:
        out += [cell.text for row in table.rows for cell in row.cells]
    return out


def chapter(paragraphs: list[str], title: str, next_title: str | None) -> list[str]:
    start = paragraphs.index(title)
    end = paragraphs.index(next_title, start) if next_title and next_title in paragraphs[start:] else len(paragraphs)
    return paragraphs[start:end]


# --- Half the story -------------------------------------------------------------------------------

def named(line: str) -> bool:
    """Whether a line names someone in the room (the test's own texts say "Amira's number")."""
    return any(name in line.replace(f"{name}'s", "") for name, _ in ROOM)


def number(kind: str, n: str) -> dict:
    return {"number": f"{n}", "number_kind": kind, "why_bought": f"Bought for {n}.", "why_stay": f"Stays for {n}."}


@pytest.fixture
def half_room(app_db):
    workshop, key, p = join_room(app_db, [(HALF, 15)])
    W.open_exercise(app_db, workshop.id, 0)
    s = {who: tell(app_db, p[who], HALF, number(kind, f"{who}'s number"), 0) for who, kind in (
        ("Ines", "Support tickets"), ("Hiro", "Support tickets"), ("Sam", "Usage"), ("Amira", "Revenue"),
        ("Ben", "Renewals"), ("Cleo", "Revenue"))}
    for n, (who, on, text) in enumerate([
            ("Ines", "Amira", "Support knows why they stay: we call before upgrades."),
            ("Lars", "Amira", "Finance: they pay early since the audit."),
            ("Ben", "Amira", "Sales: their champion came from a competitor."),
            ("Hiro", "Ben", "Support: they renewed after the outage call."),
            ("Sam", "Ben", "Usage doubled after training."),
            ("Amira", "Ines", "Sales: they bought for the night shift.")]):
        assert controls.build_on(app_db, p[who], s[on].id, text, f"build-{n}").ok
    return workshop, p, s


def test_cards_group_by_kind_of_number_and_the_most_built_on_grow(app_db, half_room):
    workshop, p, s = half_room
    snap = W.snapshot(app_db, workshop.id)
    ex = library()[HALF]
    told = room.room_stories(snap, W.agenda(app_db, workshop.id)[0])
    labelled = room.labelled_functions(told, show_names=False)
    wall = views.get(ex.room_view).shape(told, ex, snapshot=snap, labelled=labelled, show_names=False)
    # Groups in the order the kind field declares; the most built-on card first in its group.
    assert [kind for kind, _ in wall.groups] == ["Revenue", "Renewals", "Support tickets", "Usage"]
    revenue = dict(wall.groups)["Revenue"]
    assert [c.story.id for c in revenue] == [s["Amira"].id, s["Cleo"].id]
    grown = {c.story.id for _, cards in wall.groups for c in cards if c.grown}
    assert grown == {s["Amira"].id, s["Ben"].id}
    # Additions carry the adder's function only where the rule lets the room name it, never a name.
    assert [a.byline for a in revenue[0].additions] == ["Support", "", "Sales"]  # Finance told nothing


def test_the_projector_shows_the_number_large_with_the_client_story_and_who_built_on_it(app_db, half_room, monkeypatch):
    workshop, p, s = half_room
    texts = projector_texts(monkeypatch, workshop, 2)
    assert "showing 5 of 6 · page 1 of 2" in texts
    # A column per kind of number; Amira's card, built on most, fills a column of its own.
    for kind in ("Revenue (1/2)", "Revenue (2/2)", "Renewals", "Support tickets", "Usage"):
        assert kind in texts
    assert texts.index("Amira's number") < texts.index("Cleo's number")  # most built-on first
    assert "Why bought: Bought for Amira's number.\nWhy stay: Stays for Amira's number." in texts
    assert "+ built on 3 times" in texts
    assert "+ Sales: their champion came from a competitor. — Sales" in texts  # the latest addition
    shown = "\n".join(texts)
    assert not any(name in shown.replace(f"{name}'s number", "") for name, _ in ROOM)  # names are off
    assert "Finance/billing" not in shown


def amira_lines(at) -> list[str]:
    return [t.value for t in at.text]


def test_phones_show_the_cards_to_build_on_and_the_author_sees_who_built_on_theirs(app_db, half_room):
    workshop, p, s = half_room
    amira = run_page("pages/participate.py", code=workshop.code, p=p["Amira"].token)
    assert not amira.exception, amira.exception
    text = all_text(amira)
    assert "Others built on your story" in text
    assert "+ Support knows why they stay: we call before upgrades. — Support" in text
    assert "+ Finance: they pay early since the audit." in amira_lines(amira)  # Finance alone here: not named
    assert "Amira's number" in text  # her own card, in the notice
    # Ben builds on Cleo's card from the build-on list, which shows numbers with their client story.
    ben = run_page("pages/participate.py", code=workshop.code, p=p["Ben"].token)
    text = all_text(ben)
    assert "Build on someone's story" in text and "Cleo's number" in text
    assert "Why bought: Bought for Cleo's number.\nWhy stay: Stays for Cleo's number." in text
    assert text.index("Amira's number") < text.index("Cleo's number")  # most built-on first
    cards = [e for e in ben.text if e.value == "Cleo's number"]
    assert cards
    boxes = [ta for ta in ben.text_area if ta.label == "Your addition"]
    order = [t.value for t in ben.text if t.value.endswith("'s number") and t.value != "Ben's number"]
    box = boxes[order.index("Cleo's number")]
    box.input("Sales: their buyer is my old colleague.")
    add = [b for b in ben.button if b.label == "Add"][order.index("Cleo's number")]
    add.click()
    ben.run()
    assert not ben.exception, ben.exception
    assert [a.answers["addition"] for a in W.snapshot(app_db, workshop.id).build_ons(s["Cleo"].id)] == [
        "Sales: their buyer is my old colleague."]
    cleo = run_page("pages/participate.py", code=workshop.code, p=p["Cleo"].token)
    assert "+ Sales: their buyer is my old colleague. — Sales" in all_text(cleo)


def test_the_report_keeps_each_card_by_kind_with_its_additions_and_their_functions(app_db, half_room):
    workshop, p, s = half_room
    # An old story: told before the kind of number was asked.
    stored_without_new_fields(app_db, workshop, p["Lars"], HALF, {"why_bought": "Old reason.", "why_stay": "Old stay."})
    text = paragraphs_and_cells(report.build_report(W.snapshot(app_db, workshop.id), include_map_image=False,
                                                    appendix=False))
    ch = chapter(text, "Half the story", None)
    assert "The most built-on numbers" in ch
    # Lars's old story makes Finance a teller: alone, it takes Sales into "Other functions" with it.
    assert "3 (Support, Other functions)" in ch  # Amira's card: who added, by function
    order = [line for line in ch if " · " in line and line.split(" · ")[0] in
             ("Revenue", "Renewals", "Support tickets", "Usage", "Kind not given")]
    assert order == ["Revenue · 2 cards", "Renewals · 1 card", "Support tickets · 2 cards", "Usage · 1 card",
                     "Kind not given · 1 card"]
    amira = next(line for line in ch if line.startswith(f"Story {exports.story_numbers([*W.snapshot(app_db, workshop.id).stories])[s['Amira'].id]} "))
    assert "built on 3 times" in amira
    assert "Added by Support" in ch and "Added by Other functions" in ch
    assert "Finance: they pay early since the audit." in ch
    assert not any(named(line) for line in ch)


# --- Untold retention stories ---------------------------------------------------------------------

def retention(who, teller, audience, retell, said=""):
    a = {"practice": f"{who}'s practice", "story": f"{who}'s story of one time it mattered.", "teller": teller,
         "audience": audience, "may_retell": retell}
    if said:
        a["said_after"] = said
    return a


YES, ANONYMOUS, NO = library()[UNTOLD].field("may_retell").options


@pytest.fixture
def untold_room(app_db):
    workshop, key, p = join_room(app_db, [(UNTOLD, 15)])
    W.open_exercise(app_db, workshop.id, 0)
    plan = {"Hiro": ("Support", "Prospects, early in the sale", YES, "They put our number on the wall."),
            "Ines": ("Support", "Prospects close to signing", NO, "Please keep this between us."),
            "Sam": ("Sales", "Prospects close to signing", YES, ""),
            "Amira": ("Sales", "Prospects close to signing", ANONYMOUS, "“You have our backs.”"),
            "Ben": ("Sales", "Customers at renewal", YES, ""),
            "Lars": ("Finance/billing", "New customers at onboarding", YES, "They paid early.")}
    s = {who: tell(app_db, p[who], UNTOLD, retention(who, *plan[who]), 0) for who in plan}
    stored_without_new_fields(app_db, workshop, p["Cleo"], UNTOLD, {
        "practice": "Cleo's old practice", "story": "Cleo's old story.", "teller": "Sales",
        "audience": "Customers at renewal"})
    old = next(x for x in W.snapshot(app_db, workshop.id).stories_for(UNTOLD) if x.participant_id == p["Cleo"].id)
    controls.set_voting(app_db, workshop.id, 0, "open", dots=3)
    votes = {"Amira": ["Ines", "Hiro", "Sam"], "Ben": ["Ines", "Hiro", "Amira"], "Cleo": ["Ines", "Lars", "Amira"],
             "Hiro": ["Ines", "Amira"], "Sam": ["Ines", "Hiro"], "Lars": ["Cleo"]}
    ids = {**{who: st.id for who, st in s.items()}, "Cleo": old.id}
    for voter, choices in votes.items():
        for who in choices:
            assert controls.cast_vote(app_db, p[voter], ids[who]).ok
    controls.set_voting(app_db, workshop.id, 0, "off")
    return workshop, p, s


def test_the_projector_shows_each_story_under_its_practice_a_column_per_function(app_db, untold_room, monkeypatch):
    workshop, p, s = untold_room
    texts = projector_texts(monkeypatch, workshop, 2)
    assert "Practice: Hiro's practice" in texts and "Hiro's story of one time it mattered." in texts
    assert "Afterwards: They put our number on the wall." in texts
    # The room sees every story, the one kept in the room too; the old story has no new fields and still shows.
    assert "Ines's story of one time it mattered." in texts and "Cleo's old story." in texts
    # With names off only Support has three tellers who may be named; the rest share one column.
    assert "Support · 3 practices (1/2)" in texts and "Other functions · 4 practices (1/3)" in texts
    shown = "\n".join(texts)
    assert not any(name in shown.replace(f"{name}'s", "") for name, _ in ROOM)  # names are off


def test_the_report_lists_the_story_bank_by_who_tells_it_to_whom_and_keeps_the_uncleared_out(app_db, untold_room):
    workshop, p, s = untold_room
    snap = W.snapshot(app_db, workshop.id)
    text = paragraphs_and_cells(report.build_report(snap, include_map_image=False))
    assert not any("Ines's" in line or "between us" in line for line in text)  # not cleared: nowhere, appendix too
    ch = chapter(text, "Untold retention stories", None)
    bank = ch[ch.index("Story bank"):ch.index("The other stories, by votes")]
    assert "Sales should tell" in bank and "Support should tell" in bank and "Finance/billing should tell" in bank
    # Teller → audience → story: Amira's and Sam's under Sales, Hiro's under Support, Lars's under Finance.
    def under(who):
        heading = next(i for i, line in enumerate(bank) if line == f"{who}'s story of one time it mattered.")
        return [line for line in bank[:heading] if line.endswith("should tell")][-1], \
            next(line for line in reversed(bank[:heading]) if line.startswith("To "))
    assert under("Amira")[0] == "Sales should tell" and under("Amira")[1].startswith("To prospects close to signing")
    assert under("Sam")[0] == "Sales should tell"
    assert under("Hiro")[0] == "Support should tell" and under("Hiro")[1].startswith("To prospects, early in the sale")
    assert under("Lars")[0] == "Finance/billing should tell"
    assert any(line.endswith(ANONYMOUS) for line in bank) and "“You have our backs.”" in bank
    rest = ch[ch.index("The other stories, by votes"):]
    assert "Ben's story of one time it mattered." in rest  # cleared, but no votes: not in the bank
    assert "Cleo's old story." in rest  # told before the question: reported as before, never banked
    assert any(line.endswith("retelling not asked") for line in rest)
    assert "1 story was not cleared for retelling: told in the room, kept out of this report." in ch
    assert not any(named(line) for line in ch)
    csv = exports.stories_csv(snap).decode("utf-8-sig")
    assert "Hiro's story" in csv and "Ines's story" not in csv
