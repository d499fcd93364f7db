"""Over the wall, played by a room: senders say what gets lost, receivers say what actually arrived
(What actually arrives), each function says where its part of the story stops, and each gap says
whether the customer judged it or we guessed. Asserts what the room sees (map traces, labels,
hover text, the phone's form) and what the report keeps (its tables), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document

from facilitation import figure_images, handoff_sides, journey_map, report, room
from facilitation import workshops as W
from facilitation.exercises import library
from facilitation.views import map as map_view

OTW, ARRIVES = "over_the_wall", "what_actually_arrives"
CUSTOMER = library()[OTW].judged_by_customer
GUESS = next(o for o in library()[OTW].field("judged_by").options if o != CUSTOMER)


def sent(stage, to, lost, gap, **more):
    return {"stage": stage, "promise": "Live in two weeks.", "experience": "Seven weeks.", "next_function": to,
            "lost": lost, "gap": gap, **more}


def play(store, *, show_names=True, support_receivers=3):
    """Three Sales, three Implementation, `support_receivers` Support people; Sales hands to Implementation
    at Sale, Implementation to Support at Onboarding. Then the receivers answer."""
    w, _ = W.create_workshop(store, title="Over the wall <b>day</b>", show_names=show_names,
                             agenda_plan=[(OTW, 15), (ARRIVES, 10)])
    people = {}
    for function, n in (("Sales", 3), ("Implementation", 3), ("Support", max(3, support_receivers))):
        for k in range(n):
            people[f"{function}{k}"] = W.join_workshop(store, w.code, f"{function[:3]}{k}", function)
    W.open_exercise(store, w.id, 0)
    stories = [
        ("Sales0", sent("Sale", "Implementation", "The <b>go-live</b> date.", 5, reach="Sale", judged_by=CUSTOMER,
                        evidence="Email: “You said two weeks” <script>")),
        ("Sales1", sent("Sale", "Implementation", "That there are two plants.", 4, judged_by=GUESS)),
        ("Sales2", sent("Prospect", "Sales", "Nothing much.", 1)),  # an old-style story: no reach, no judgement
        ("Implementation0", sent("Onboarding", "Support", "The custom alarms.", 4, reach="Implementation")),
        ("Implementation1", sent("Onboarding", "Support", "The workaround.", 3)),
        ("Implementation2", sent("Implementation", "Customer success", "Who the champion is.", 4)),
        ("Support0", sent("Support & adoption", "Customer success", "The logs.", 3, reach="Renewal & expansion")),
        ("Support1", sent("Support & adoption", "Customer success", "The night lead's name.", 3)),
        ("Support2", sent("Support & adoption", "Engineering", "The ticket history.", 2)),
    ]
    for n, (who, answers) in enumerate(stories):
        result = W.submit_story(store, people[who], OTW, answers, f"s{n}")
        assert result.ok, (who, result.problems)
    W.close_exercise(store, w.id)
    W.open_exercise(store, w.id, 1)
    return w, people


def answer(store, person, handoff, arrived, missing, key):
    return W.submit_story(store, person, ARRIVES, {"handoff": handoff, "arrived": arrived, "missing": missing}, key)


# --- the receiving round -------------------------------------------------------------------------

def test_each_receiver_is_offered_only_the_handoffs_pointed_at_their_function(store):
    w, people = play(store)
    snap = W.snapshot(store, w.id)
    ex = library()[ARRIVES]
    assert handoff_sides.handoff_choices(snap, ex, "Implementation") == {
        "Sales @ Sale": "From Sales, at Sale (2 stories)"}
    assert list(handoff_sides.handoff_choices(snap, ex, "Support")) == ["Implementation @ Onboarding"]
    assert handoff_sides.handoff_choices(snap, ex, "Finance/billing") == {}

    # The server checks it too: Support cannot answer the handoff Sales makes to Implementation.
    refused = answer(store, people["Support0"], "Sales @ Sale", "a", "b", "r1")
    assert not refused.ok and refused.problems["handoff"] == handoff_sides.CHOOSE_A_HANDOFF
    assert answer(store, people["Implementation0"], "Sales @ Sale", "A signed order.", "The go-live date.", "r2").ok


def test_a_function_nobody_hands_to_is_told_so_and_nothing_is_stored(store):
    w, _ = play(store)
    lone = W.join_workshop(store, w.code, "Fin", "Finance/billing")
    result = answer(store, lone, "Sales @ Sale", "x", "y", "r1")
    assert not result.ok and result.problems["handoff"] == handoff_sides.NO_HANDOFF_YET
    assert not W.snapshot(store, w.id).stories_for(ARRIVES)


def test_reach_cannot_end_before_the_owned_stage_and_a_customer_judgement_needs_evidence(store):
    w, _ = W.create_workshop(store, title="Rules", agenda_plan=[(OTW, 15)])
    ana = W.join_workshop(store, w.code, "Ana", "Sales")
    W.open_exercise(store, w.id, 0)
    typed = sent("Onboarding", "Support", "x", 3, reach="Prospect", judged_by=CUSTOMER)
    result = W.submit_story(store, ana, OTW, typed, "k1")
    assert not result.ok
    assert "cannot end before the stage you own (Onboarding)" in result.problems["reach"]
    assert "write what they said or showed" in result.problems["evidence"]
    assert W.submit_story(store, ana, OTW, {**typed, "reach": "Renewal & expansion", "evidence": "Ticket 12"}, "k2").ok


# --- what the room sees ---------------------------------------------------------------------------

def _trace(fig, name):
    return next((t for t in fig.data if t.name == name), None)


def test_the_map_shows_both_sides_reach_and_who_judged_each_gap(store):
    w, people = play(store)
    assert answer(store, people["Implementation0"], "Sales @ Sale", "A signed order & a <b>date</b>.",
                  "That there are two plants.", "r1").ok
    assert answer(store, people["Implementation1"], "Sales @ Sale", "A kick-off call.", "The go-live date.", "r2").ok
    assert answer(store, people["Support0"], "Implementation @ Onboarding", "A ticket.", "The custom alarms.", "r3").ok
    journey = journey_map.build_journey(W.snapshot(store, w.id))
    sales = next(h for h in journey.handoffs if (h.from_function, h.to_function) == ("Sales", "Implementation"))
    assert [a.missing for a in sales.arrivals] == ["That there are two plants.", "The go-live date."]
    assert sales.customer_judged == 1 and journey_map.judged_by_text(sales) == "the customer in 1 of 2"
    assert journey.reach["Sales"].sentence == "Sales' story stops at Sale"
    assert journey.reach["Implementation"].stage == "Implementation"  # one said so; the other ends where it hands on
    assert journey.reach["Support"].stage == "Renewal & expansion"
    # The map page's filter by function keeps the receivers' answers of the handoffs it keeps.
    whole = W.snapshot(store, w.id)
    narrowed = journey_map.build_journey(journey_map.filter_snapshot(whole, functions=["Implementation"]), whole=whole)
    kept = next(h for h in narrowed.handoffs if (h.from_function, h.to_function) == ("Sales", "Implementation"))
    assert len(kept.arrivals) == 2
    assert not any(h.arrivals for h in journey_map.build_journey(
        journey_map.filter_snapshot(whole, functions=["Customer success"]), whole=whole).handoffs)

    fig = journey_map.journey_figure(journey, min_font_px=journey_map.ROOM_FONT_PX, height=760)
    answered = _trace(fig, journey_map.ANSWERED_LABEL)
    assert answered is not None and answered.showlegend and len(answered.x) == 2  # two handoffs answered
    hover = " ".join(answered.hovertext)
    assert "Implementation says missing:</b> That there are two plants." in hover
    assert "&lt;b&gt;date&lt;/b&gt;" in hover and "<b>date</b>" not in hover  # typed text is escaped
    mid = _trace(fig, "Handoffs")
    both = next(t for t in mid.hovertext if "Sales → Implementation" in t)
    assert "Sales says lost:</b> The &lt;b&gt;go-live&lt;/b&gt; date." in both
    assert "Implementation says arrived:</b>" in both and "Judged by the customer in 1 of 2" in both
    assert "&lt;script&gt;" in both  # the customer's words, escaped
    untouched = next(t for t in mid.hovertext if "Support → Engineering" in t)
    assert "Engineering has not said what arrived" in untouched

    # Reach: one bar per lane that told a story, ending at its reach column, with the sentence on hover.
    bars = _trace(fig, journey_map.REACH_LABEL)
    ends = _trace(fig, "Story ends")
    lanes, columns = journey_map.drawn_grid(journey)
    assert len(ends.x) == 3
    by_lane = {lanes[round(y - journey_map.REACH_BAR_Y)]: columns[round(x - 0.44)] for x, y in zip(ends.x, ends.y)}
    assert by_lane == {"Sales": "Sale", "Implementation": "Implementation", "Support": "Renewal & expansion"}
    assert "<b>Sales&#x27; story stops at Sale</b>" in ends.hovertext[0]  # escaped, like all typed names
    assert bars.showlegend and bars.mode == "lines"

    # Evidenced gaps carry a ★ on their arrow and a ring on the story; guesses do not.
    labels = [a.text for a in fig.layout.annotations if a.text and a.text[:1] in "★0123456789–"]
    assert "★ 4.5" in labels and "3.5" in labels  # Sales → Implementation judged once; Implementation → Support guessed
    judged = _trace(fig, journey_map.JUDGED_LABEL)
    assert judged is not None and len(judged.x) == 1
    assert any("★ judged by the customer, no ★: our guess" in (a.text or "") for a in fig.layout.annotations)


def test_stories_from_before_the_new_fields_still_draw(store):
    """Stories stored before reach, evidence and receivers existed: guesses, ending where they hand on."""
    w, _ = W.create_workshop(store, title="Old", agenda_plan=[(OTW, 15)])
    ana = W.join_workshop(store, w.code, "Ana", "Sales")
    W.open_exercise(store, w.id, 0)
    assert W.submit_story(store, ana, OTW, sent("Sale", "Implementation", "x", 4), "k").ok
    journey = journey_map.build_journey(W.snapshot(store, w.id))
    [h] = journey.handoffs
    assert h.customer_judged == 0 and not h.arrivals and journey.reach["Sales"].stage == "Sale"
    assert journey.reach["Sales"].named == 0
    fig = journey_map.journey_figure(journey)
    assert _trace(fig, journey_map.ANSWERED_LABEL) is None and _trace(fig, journey_map.JUDGED_LABEL) is None
    assert journey_map.handoff_rows(journey)[0]["judged by"] == "our guess"


def test_with_names_off_a_receiver_side_of_fewer_than_three_people_is_not_attributed(store):
    w, people = play(store, show_names=False)
    # Two of three Support people answer: Support may not be named on the receiving side.
    for k in range(2):
        assert answer(store, people[f"Support{k}"], "Implementation @ Onboarding", f"A ticket {k}.",
                      f"Alarm notes {k}.", f"r{k}").ok
    for k in range(3):  # three Implementation people answer Sales' handoff: named, shown
        assert answer(store, people[f"Implementation{k}"], "Sales @ Sale", "An order.", f"The date {k}.", f"i{k}").ok
    for k in range(3):  # and three from Customer success, who join the two Support people unnamed (room.named_functions)
        cs = W.join_workshop(store, w.code, f"CS{k}", "Customer success")
        assert answer(store, cs, "Support @ Support & adoption", "A summary.", f"The logs {k}.", f"c{k}").ok
    journey = journey_map.build_journey(W.snapshot(store, w.id))
    impl = next(h for h in journey.handoffs if h.to_function == "Support")
    assert not impl.arrivals and len(journey.unmatched_arrivals) == 5
    sales = next(h for h in journey.handoffs if h.to_function == "Implementation")
    assert len(sales.arrivals) == 3
    fig = journey_map.journey_figure(journey)
    text = json.dumps(fig.to_plotly_json(), ensure_ascii=False)
    assert "Alarm notes" not in text and "The logs 0" not in text
    assert "Support says arrived" not in text and "Customer success says" not in text
    assert "Implementation says missing" in text


# --- what the report keeps ---------------------------------------------------------------------------

def _tables(doc):
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def test_the_report_table_carries_both_sides_and_who_judged_the_gap(store, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", lambda *a, **k: None)
    w, people = play(store)
    assert answer(store, people["Implementation0"], "Sales @ Sale", "A signed order.", "The go-live date.", "r1").ok
    doc = Document(io.BytesIO(report.build_report(W.snapshot(store, w.id))))
    [table] = [t for t in _tables(doc) if t[0] == map_view.HANDOFF_HEADER]
    rows = {(r[0], r[1], r[2]): dict(zip(table[0], r)) for r in table[1:]}
    sales = rows[("Sales", "Implementation", "Sale")]
    assert sales["What gets lost (sender)"] == "The <b>go-live</b> date. / That there are two plants."
    assert sales["What arrived (receiver)"] == "Arrived: A signed order.\nMissing: The go-live date."
    assert sales["Judged by"] == "the customer in 1 of 2"
    other = rows[("Implementation", "Support", "Onboarding")]
    assert other["Judged by"] == "our guess" and other["What arrived (receiver)"] == "not answered"
    [reach] = [t for t in _tables(doc) if t[0][:2] == ["Function", "Story stops at"]]
    assert ["Sales", "Sale", "3", "1"] in reach
    gaps = [t for t in _tables(doc) if t[0][:3] == ["Story", "Promised", "Experienced"]]
    assert any(r[-1].startswith("the customer: Email:") for t in gaps for r in t[1:])
    assert any(t[0] == ["Answer", "What arrived", "What was missing"] for t in _tables(doc))


def test_the_anonymous_report_does_not_attribute_a_small_receiving_side(store, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", lambda *a, **k: None)
    w, people = play(store, show_names=False)
    assert answer(store, people["Support0"], "Implementation @ Onboarding", "A ticket.", "Alarm notes.", "r1").ok
    doc = Document(io.BytesIO(report.build_report(W.snapshot(store, w.id))))
    [table] = [t for t in _tables(doc) if t[0] == map_view.HANDOFF_HEADER]
    assert all(r[-1] == "not answered" for r in table[1:])
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "1 answer from the receiving side matches no handoff" in text


def test_names_off_a_lone_senders_function_is_not_named_in_a_receivers_answer(store, monkeypatch):
    """The one Finance sender's handoff, answered by Support: the CSV and the report read "Other functions"."""
    from facilitation import exports

    monkeypatch.setattr(figure_images, "figure_png", lambda *a, **k: None)
    w, people = play(store, show_names=False)
    W.open_exercise(store, w.id, 0)
    fin = W.join_workshop(store, w.code, "Fin", "Finance/billing")
    assert W.submit_story(store, fin, OTW, sent("Sale", "Support", "The discount.", 4), "fin").ok
    W.open_exercise(store, w.id, 1)
    snap = W.snapshot(store, w.id)
    choices = handoff_sides.handoff_choices(snap, library()[ARRIVES], "Support")
    assert "From Other functions, at Sale (1 story)" in choices.values()
    assert not any("Finance" in label for label in choices.values())
    assert answer(store, people["Support0"], "Finance/billing @ Sale", "An invoice.", "The discount.", "r").ok
    rows = list(__import__("csv").reader(io.StringIO(exports.stories_csv(W.snapshot(store, w.id)).decode("utf-8-sig"))))
    column = rows[0].index(f"{library()[ARRIVES].title}: {library()[ARRIVES].field('handoff').label}")
    assert [r[column] for r in rows[1:] if r[column]] == ["Other functions @ Sale"]
    doc = Document(io.BytesIO(report.build_report(W.snapshot(store, w.id))))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "From Other functions, at Sale" in cells and "From Finance/billing, at Sale" not in cells


# --- the phone and the projector (AppTest) -----------------------------------------------------------

@pytest.fixture
def app_db(tmp_path, monkeypatch):
    from facilitation.store import get_store

    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    return get_store(url)


def test_the_phone_lists_the_handoffs_to_ones_function_and_the_projector_draws_both_sides(app_db):
    from streamlit_browser import screen_for
    from test_pages import run_page

    w, people = play(app_db)
    phone = run_page("pages/participate.py", code=w.code, p=people["Implementation0"].token)
    assert not phone.exception, phone.exception
    [pick] = [s for s in phone.selectbox if s.label == library()[ARRIVES].field("handoff").label]
    assert pick.options == ["From Sales, at Sale (2 stories)"]
    pick.select_index(0).run()
    ex = library()[ARRIVES]
    for name, typed in (("arrived", "A signed order."), ("missing", "The go-live date.")):
        next(t for t in phone.text_area if t.label == ex.field(name).label).input(typed).run()
    next(b for b in phone.button if b.label == "Send").click().run()
    assert not phone.exception, phone.exception
    [stored] = W.snapshot(app_db, w.id).stories_for(ARRIVES)
    assert stored.answers == {"handoff": "Sales @ Sale", "arrived": "A signed order.", "missing": "The go-live date."}

    projector = run_page("pages/projector.py", code=w.code, screen=screen_for(w.code))
    assert not projector.exception, projector.exception
    [chart] = projector.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    names = {t.get("name") for t in spec["data"]}
    assert {journey_map.ANSWERED_LABEL, journey_map.REACH_LABEL, journey_map.JUDGED_LABEL} <= names
    answered = next(t for t in spec["data"] if t.get("name") == journey_map.ANSWERED_LABEL)
    assert "Implementation says missing:</b> The go-live date." in answered["hovertext"][0]


# --- archives ---------------------------------------------------------------------------------------

def test_an_archive_brings_both_sides_back_and_an_old_one_still_draws(sqlite_store, tmp_path):
    from facilitation import archive
    from facilitation.store import Store

    w, people = play(sqlite_store)
    assert answer(sqlite_store, people["Implementation0"], "Sales @ Sale", "An order.", "The date.", "r1").ok
    data = json.loads(archive.archive_json(sqlite_store, w.id))
    other = Store(f"sqlite:///{tmp_path}/other.sqlite3")
    try:
        restored = archive.import_archive(other, data).workshop
        journey = journey_map.build_journey(W.snapshot(other, restored.id))
        sales = next(h for h in journey.handoffs if h.to_function == "Implementation")
        assert [a.missing for a in sales.arrivals] == ["The date."] and sales.customer_judged == 1
        assert journey.reach["Sales"].stage == "Sale"
        # An archive from before these fields: no receivers' round, no reach, no judgement.
        old = json.loads(json.dumps(data))
        for row in old["tables"]["stories"]:
            for name in ("reach", "judged_by", "evidence"):
                row["answers"].pop(name, None)
        old["tables"]["stories"] = [r for r in old["tables"]["stories"] if r["exercise_key"] != ARRIVES]
        old["tables"]["agenda_items"] = [r for r in old["tables"]["agenda_items"] if r["exercise_key"] != ARRIVES]
        before = archive.import_archive(other, old).workshop
        snap = W.snapshot(other, before.id)
        journey = journey_map.build_journey(snap)
        assert journey.handoffs and not any(h.arrivals or h.customer_judged for h in journey.handoffs)
        assert journey.reach["Sales"].named == 0
        doc = Document(io.BytesIO(report.build_report(snap, include_map_image=False)))
        [table] = [t for t in _tables(doc) if t[0] == map_view.HANDOFF_HEADER]
        assert {r[7] for r in table[1:]} == {"our guess"} and {r[8] for r in table[1:]} == {"not answered"}
    finally:
        other.dispose()


def test_names_off_the_spotlight_and_the_phone_do_not_name_a_lone_sender(app_db):
    from facilitation import controls
    from streamlit_browser import screen_for
    from test_pages import all_text, run_page

    w, people = play(app_db, show_names=False)
    W.open_exercise(app_db, w.id, 0)
    fin = W.join_workshop(app_db, w.code, "Fin", "Finance/billing")
    assert W.submit_story(app_db, fin, OTW, sent("Sale", "Support", "The discount.", 4), "fin").ok
    W.open_exercise(app_db, w.id, 1)
    reply = answer(app_db, people["Support0"], "Finance/billing @ Sale", "An invoice.", "The discount we gave.", "r")
    assert reply.ok
    controls.set_spotlight(app_db, w.id, reply.story.id)
    projector = run_page("pages/projector.py", code=w.code, screen=screen_for(w.code))
    assert not projector.exception, projector.exception
    wall = all_text(projector)
    assert "The discount we gave." in wall and "From Other functions, at Sale" in wall and "Finance" not in wall
    phone = run_page("pages/participate.py", code=w.code, p=people["Support0"].token)
    assert not phone.exception, phone.exception
    mine = all_text(phone)
    assert "From Other functions, at Sale" in mine and "Finance" not in mine.replace(people["Support0"].function, "")


def test_the_receivers_round_needs_the_senders_round_before_it(store):
    with pytest.raises(W.WorkshopInputError) as refused:
        W.create_workshop(store, title="Backwards", agenda_plan=[(ARRIVES, 10), (OTW, 15)])
    assert refused.value.problems["agenda"] == ("What actually arrives answers the handoffs told in Over the wall: "
                                                "put Over the wall on the agenda before it, or leave What actually "
                                                "arrives out.")
    assert W.create_workshop(store, title="Forwards", agenda_plan=[(OTW, 15), (ARRIVES, 10)])[0].title == "Forwards"


# --- the exercise files ------------------------------------------------------------------------------

def _file(**changes):
    import tomllib
    from pathlib import Path

    from facilitation.exercises import EXERCISES_DIR

    data = tomllib.loads(Path(EXERCISES_DIR, f"{changes.pop('key', OTW)}.toml").read_text(encoding="utf-8"))
    for table, values in changes.items():
        data[table] = {**data.get(table, {}), **values} if isinstance(values, dict) else values
    return data


@pytest.mark.parametrize("changes, message", [
    ({"handoff": {"reach": "promise"}}, "handoff.reach must name a field of kind 'stage'"),
    ({"handoff": {"judged_by_customer": "The customer, surely"}}, "handoff.judged_by_customer one of its options"),
    ({"key": ARRIVES, "receives": {"handoff": "arrived"}}, "receives.handoff must name a field of kind 'handoff'"),
    ({"key": ARRIVES, "receives": {"exercise": ""}}, "receives.exercise must name the exercise"),
    ({"key": ARRIVES, "receives": {"said": "arrived"}}, "receives.said is not one of"),
])
def test_a_wrong_handoff_or_receives_table_is_refused_with_the_field_named(changes, message):
    from facilitation.exercises import ExerciseFileError, parse_exercise

    key = changes.get("key", OTW)
    with pytest.raises(ExerciseFileError) as refused:
        parse_exercise(_file(**changes), f"{key}.toml", key)
    assert message in str(refused.value) and f"{key}.toml" in str(refused.value)


def test_a_handoff_field_needs_a_receives_table_and_the_library_checks_whom_it_answers(tmp_path):
    from pathlib import Path

    from facilitation.exercises import EXERCISES_DIR, ExerciseFileError, load_library, parse_exercise

    data = _file(key=ARRIVES)
    del data["receives"]
    with pytest.raises(ExerciseFileError, match="a field of kind 'handoff' needs a \\[receives\\] table"):
        parse_exercise(data, "x.toml", "x")
    text = Path(EXERCISES_DIR, f"{ARRIVES}.toml").read_text(encoding="utf-8")
    (tmp_path / f"{ARRIVES}.toml").write_text(text, encoding="utf-8")  # without Over the wall beside it
    with pytest.raises(ExerciseFileError, match="receives.exercise 'over_the_wall' is not an exercise of this library"):
        load_library(tmp_path)
