"""Retrace the steps played on the real pages (AppTest over the real store): seven people (a trio),
the console proposes and changes pairs and runs the three phases; each phone shows its partner, its
role and the phase's prompt; the projector shows every pair, the phase and the tally; the report
keeps them (python-docx)."""

from __future__ import annotations

import io

import pytest
from docx import Document

from facilitation import pairs as P
from facilitation import report
from facilitation import workshops as W
from facilitation.exercises import library
from streamlit_browser import screen_for
from test_pages import all_text, app_db, run_page  # noqa: F401  (fixture re-export)

RETRACE = "retrace_the_steps"
EX = library()[RETRACE]
TACTICAL, STRATEGIC = EX.field("listening").options
ROOM = [("Ana", "Sales"), ("Bo", "Sales"), ("Cy", "Sales"), ("Dee", "Engineering"), ("Eli", "Support"),
        ("Fay", "Product"), ("Gus", "Engineering")]


@pytest.fixture
def retrace_room(app_db):  # noqa: F811
    workshop, key = W.create_workshop(app_db, title="Pairs day", agenda_plan=[("over_the_wall", 10), (RETRACE, 20)])
    people = {n: W.join_workshop(app_db, workshop.code, n, f) for n, f in ROOM}
    W.open_exercise(app_db, workshop.id, 1)
    return workshop, key, people


def console(workshop, key):
    at = run_page("pages/console.py", code=workshop.code, key=key)
    assert not at.exception, at.exception
    return at


def phone(workshop, person):
    at = run_page("pages/participate.py", code=workshop.code, p=person.token)
    assert not at.exception, at.exception
    return at


def projector(workshop, monkeypatch=None, slot: int | None = None):
    if slot is not None:
        from facilitation import room
        monkeypatch.setattr(room, "rotation_slot", lambda now, seconds=None: slot)
    at = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code))
    assert not at.exception, at.exception
    return at


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def test_pairs_played_on_console_phones_projector_and_report(retrace_room, app_db, monkeypatch):
    workshop, key, people = retrace_room
    at = console(workshop, key)
    assert "7 in the room: 3 pairs and one trio" in all_text(at)
    at.button(key="propose-pairs").click().run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Teller" in d.value.columns)
    assert len(table) == 3 and sorted(s.count("·") for s in table["Listening"]) == [1, 1, 2]

    r = P.round_of(W.snapshot(app_db, workshop.id), RETRACE)
    trio = next(p for p in r.pairs if len(p.members) == 3)
    for name, person in people.items():
        shown = texts(phone(workshop, person))
        me = r.member(person.id)
        pair = r.pair_of(person.id)
        assert f"Pair {pair.number} · you are the {me.role}" in shown, (name, shown)
        others = [m for m in pair.members if m.participant_id != person.id]
        assert all(any(f"{m.name} ({m.function})" in t for t in shown) for m in others), (name, shown)
    # The trio's second listener is told who tells and who else listens.
    second = trio.listeners[1]
    assert any(t.startswith(f"Your teller: {trio.teller.name}") and "also listening" in t
               for t in texts(phone(workshop, people[second.name])))

    # The facilitator moves the trio's second listener into pair (a trio elsewhere), then swaps two people.
    target = next(p for p in r.pairs if p is not trio).number
    at.selectbox(key=f"move-who-{r.version}").select(second.participant_id).run()
    at.selectbox(key=f"move-to-{r.version}").select(target).run()
    at.button(key=f"move-{r.version}").click().run()
    assert not at.exception
    r2 = P.round_of(W.snapshot(app_db, workshop.id), RETRACE)
    assert r2.version == r.version + 1 and r2.pair_of(second.participant_id).number == target
    assert texts(phone(workshop, people[second.name]))[1].startswith(f"Pair {target} · you are the listener")
    # A second console that still shows the old pairs is refused and told why.
    stale = console(workshop, key)
    P.make_teller(app_db, workshop.id, RETRACE, second.participant_id)  # another screen, meanwhile
    stale.button(key=f"propose-again-{r2.version}").click().run()
    assert "changed on another screen" in " ".join(e.value for e in [*stale.error, *stale.warning])
    r3 = P.round_of(W.snapshot(app_db, workshop.id), RETRACE)
    assert r3.version == r2.version + 1  # the stale press changed nothing

    # Before any story: the projector shows every pair, with names (names are on).
    wall = texts(projector(workshop))
    for pair in r3.pairs:
        assert f"Pair {pair.number}" in wall
        assert f"Teller: {pair.teller.name} · {pair.teller.function}" in wall

    # Phase 1 from the console: phones show it with the prompt for their role and a clock.
    at = console(workshop, key)
    at.button(key="phase-1").click().run()
    assert not at.exception and "Phase 1 of 3 · Tell it forward" in texts(at)
    teller = r3.pairs[0].teller
    listener = r3.pairs[0].listeners[0]
    on_teller_page = phone(workshop, people[teller.name])
    on_teller = texts(on_teller_page)
    assert "Phase 1 of 3 · Tell it forward" in on_teller and EX.phases[0].teller in on_teller
    assert "Your listener types and sends one form for your pair; you tell." in all_text(on_teller_page)
    on_listener = phone(workshop, people[listener.name])
    assert EX.phases[0].listener in texts(on_listener)
    # Their form already names their teller (the listener sends the pair's form).
    assert next(b for b in on_listener.selectbox if b.label == EX.field("partner").label).value == teller.name
    wall = texts(projector(workshop))
    assert "Phase 1 of 3 · Tell it forward" in wall and EX.phases[0].prompt in wall

    at = console(workshop, key)
    at.button(key="phase-2").click().run()
    assert "Phase 2 of 3 · Retell it in reverse" in texts(phone(workshop, people[listener.name]))
    at = console(workshop, key)
    at.button(key="phase-3").click().run()
    wall = texts(projector(workshop))
    assert "Phase 3 of 3 · The story behind the story" in wall

    # Listeners send one form per pair; pair 1 marks tactical, pair 2 strategic (twice: its latest counts).
    sent = [(r3.pairs[0], TACTICAL), (r3.pairs[1], TACTICAL), (r3.pairs[1], STRATEGIC)]
    for n, (pair, mark) in enumerate(sent):
        who = people[pair.listeners[0].name]
        answers = {"partner": pair.teller.name, "forward": f"Forward {n}", "reversed": f"Reversed {n}",
                   "behind": f"Behind {n}", "anticipatory": "Ask first", "listening": mark}
        assert W.submit_story(app_db, who, RETRACE, answers, f"pair-{n}").ok
    at = console(workshop, key)
    at.button(key="phase-4").click().run()
    assert "All 3 phases done" in texts(at)
    assert "How the pairs listened (for the debrief): 1 tactical · 1 strategic · 1 pair not marked yet" in all_text(at)

    shown_forward = set()
    for slot in range(3):
        wall = texts(projector(workshop, monkeypatch, slot))
        assert "How we listened" in wall and "1 not marked yet" in wall
        assert [wall[wall.index("Tactical") - 1], wall[wall.index("Strategic") - 1]] == ["1", "1"]
        shown_forward |= {t for t in wall if t.startswith("Forward ")}
        assert not any(t.startswith("Phase ") for t in wall)  # the phases are over
    # Every story the pairs sent is reachable on the rotating pages, one a page (not only the latest).
    assert shown_forward == {"Forward 0", "Forward 1", "Forward 2"}

    doc = Document(io.BytesIO(report.build_report(W.snapshot(app_db, workshop.id), include_map_image=False,
                                                  appendix=False)))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    assert [["Listening", "Marks"], ["Tactical", "1"], ["Strategic", "1"], ["Not marked yet", "1"]] in tables
    who = next(t for t in tables if t[0] == ["Pair", "Teller", "Listening"])
    assert who[1][1] == f"{r3.pairs[0].teller.name} · {r3.pairs[0].teller.function}"
    assert any(p.text.startswith("Phases: Tell it forward at") for p in doc.paragraphs)


def test_names_off_the_projector_and_report_show_functions_under_the_rule(retrace_room, app_db):
    workshop, key, people = retrace_room
    from facilitation import controls

    controls.set_show_names(app_db, workshop.id, False)
    ids = {n: p.id for n, p in people.items()}
    P.arrange(app_db, workshop.id, RETRACE, [[ids["Ana"], ids["Dee"]], [ids["Bo"], ids["Eli"], ids["Gus"]],
                                             [ids["Cy"], ids["Fay"]]])
    wall = "\n".join(texts(projector(workshop)))
    assert "Teller: Sales" in wall and "Listener: Other functions" in wall
    assert not any(name in wall for name in people) and "Engineering" not in wall and "Product" not in wall
    # The phone still names the partner: a person has to find them in the room.
    assert "Your listener: Dee (Engineering)" in texts(phone(workshop, people["Ana"]))
    answers = {"partner": "Ana", "forward": "F", "reversed": "R", "behind": "B", "anticipatory": "A",
               "listening": STRATEGIC}
    assert W.submit_story(app_db, people["Dee"], RETRACE, answers, "anon-1").ok
    data = report.build_report(W.snapshot(app_db, workshop.id), include_map_image=False, appendix=False)
    doc = Document(io.BytesIO(data))
    who = next([[c.text for c in row.cells] for row in t.rows] for t in doc.tables
               if t.rows[0].cells[0].text == "Pair")
    assert who[1] == ["1", "Sales", "Other functions"]
    assert not any(name in cell for row in who for cell in row for name in people)


def test_demo_report_names_no_function_when_every_one_folds(app_db):
    from facilitation import controls, demo

    workshop, _key = demo.create_demo_workshop(app_db)
    controls.set_show_names(app_db, workshop.id, False)
    doc = Document(io.BytesIO(report.build_report(W.snapshot(app_db, workshop.id), include_map_image=False,
                                                  appendix=False)))
    texts = [p.text for p in doc.paragraphs]
    at = texts.index("Who worked with whom")
    assert texts[at + 1].startswith("7 pairs of 2 people. Names are off")
    assert texts[at - 1].startswith("Phases: Tell it forward at") and "phases ended at" in texts[at - 1]
    assert not any(t[0].text == "Pair" for t in (table.rows[0].cells for table in doc.tables))
