"""Always be storytelling in three rounds, the guess-first terminology wall, and One millimeter forward's
commitments: the rules on both databases, and the phones and console as a room plays them (AppTest)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from facilitation import commitments, drafts, rounds, workshops as W
from facilitation.exercises import ExerciseFileError, library, parse_exercise
from facilitation.store import get_store, story_rounds
from test_pages import APP, all_text

ABS = "always_be_storytelling"
OMF = "one_millimeter_forward"
ROUND_1 = {"remark": "“We only found the bulk import on a screen share.”", "heard_in": "Support", "heard_at": "Onboarding"}
ROUND_2 = {"company_story": "The CTO drove overnight to fix the first hospital's interface.",
           "retold_today": "Support stays on the call until the payroll run is done."}
ROUND_3 = {"term": "P1", "plain_meaning": "The customer cannot work at all."}


@pytest.fixture
def storytelling(store):
    """A workshop on Always be storytelling, open, with three people from three functions."""
    w, _ = W.create_workshop(store, title="Rounds", agenda_plan=[("over_the_wall", 10), (ABS, 15), (OMF, 10)])
    people = [W.join_workshop(store, w.code, n, f) for n, f in (("Ana", "Support"), ("Ben", "Sales"), ("Cleo", "Finance/billing"))]
    W.open_exercise(store, w.id, 1)
    return w, people


def test_each_round_is_checked_alone_and_adds_to_the_same_story(store, storytelling):
    w, (ana, ben, _cleo) = storytelling
    partial = rounds.submit_round(store, ana, ABS, 0, {"remark": ROUND_1["remark"]}, "f-r0")
    assert set(partial.problems) == {"heard_in", "heard_at"}  # this round's fields only: not six errors
    first = rounds.submit_round(store, ana, ABS, 0, ROUND_1, "f-r0")
    assert first.created and first.story.answers == ROUND_1
    again = rounds.submit_round(store, ana, ABS, 0, ROUND_1, "f-r0")  # a double tap
    assert again.story.id == first.story.id and not again.created
    early = rounds.submit_round(store, ana, ABS, 1, ROUND_2, "f-r1", story_id=first.story.id)
    assert "has not started yet" in early.problems["_form"]
    rounds.set_round(store, w.id, 1, 1, exercise_key=ABS)
    assert W.live_exercise(store, w.id).round == 1
    wrong_round = rounds.submit_round(store, ana, ABS, 1, {**ROUND_2, "term": "P1"}, "f-r1", story_id=first.story.id)
    assert "another round" in wrong_round.problems["term"]
    second = rounds.submit_round(store, ana, ABS, 1, ROUND_2, "f-r1", story_id=first.story.id)
    assert second.ok and second.story.id == first.story.id
    assert second.story.answers == {**ROUND_1, **ROUND_2}
    twice = rounds.submit_round(store, ana, ABS, 1, ROUND_2, "f-r1b", story_id=first.story.id)
    assert "already sent round 2" in twice.problems["_form"]
    not_mine = rounds.submit_round(store, ben, ABS, 1, ROUND_2, "b-r1", story_id=first.story.id)
    assert "your own story" in not_mine.problems["_form"]
    # Ben was late: round 1 is still open to him after the room moved on.
    assert rounds.submit_round(store, ben, ABS, 0, {**ROUND_1, "heard_in": "Sales"}, "b-r0").created
    assert len(W.list_stories(store, w.id, ABS)) == 2


def test_a_sent_round_leaves_the_other_rounds_draft_and_refuses_late_typing(store, storytelling):
    w, (ana, *_rest) = storytelling
    drafts.save_draft(store, ana, ABS, {**ROUND_1, "company_story": "typed ahead"})
    sent = rounds.submit_round(store, ana, ABS, 0, ROUND_1, "slot-r0")
    assert drafts.load_draft(store, ana, ABS) == {"company_story": "typed ahead"}
    rounds.set_round(store, w.id, 1, 1, exercise_key=ABS)
    rounds.submit_round(store, ana, ABS, 1, ROUND_2, "slot-r1", story_id=sent.story.id)
    live = W.live_exercise(store, w.id)
    late = drafts.save_typed(store, ana, live, ABS, "slot-r1", "company_story", "a save still on its way")
    assert late.status == 409 and drafts.load_draft(store, ana, ABS) == {}
    with store.read() as conn:
        assert sorted(r.round for r in conn.execute(sa.select(story_rounds.c.round))) == [0, 1]


def test_only_the_facilitator_moves_rounds_and_only_within_the_exercise(store, storytelling):
    w, _ = storytelling
    with pytest.raises(W.WorkshopInputError, match="rounds 1 to 3"):
        rounds.set_round(store, w.id, 1, 3, exercise_key=ABS)
    with pytest.raises(W.StaleControl):
        rounds.set_round(store, w.id, 0, 1, exercise_key="over_the_wall")  # not live


def test_guess_first_other_functions_guess_before_the_reveal(store, storytelling):
    w, (ana, ben, cleo) = storytelling
    sales_colleague = W.join_workshop(store, w.code, "Dan", "Support")
    rounds.set_round(store, w.id, 1, 2, exercise_key=ABS)
    term = rounds.submit_round(store, ana, ABS, 2, ROUND_3, "a-r2").story
    rounds.put_up_term(store, w.id, term.id)
    assert W.live_exercise(store, w.id).guess_term == (term.id, False)
    assert "your term" in rounds.submit_guess(store, ana, term.id, "I know")
    assert "your function" in rounds.submit_guess(store, sales_colleague, term.id, "I know too")
    assert rounds.submit_guess(store, ben, term.id, "An important customer") is None
    assert rounds.submit_guess(store, ben, term.id, "Priority one customer") is None  # changed, still one
    assert rounds.submit_guess(store, cleo, term.id, "  ") is not None
    assert rounds.submit_guess(store, cleo, term.id, "Phase one") is None
    snap = W.snapshot(store, w.id)
    assert [(g.function, g.text) for g in snap.guesses_for(term.id)] == [("Sales", "Priority one customer"),
                                                                          ("Finance/billing", "Phase one")]
    wall = rounds.terms(snap, library()[ABS], snap.stories_for(ABS))
    assert [(t.term, t.state, t.current) for t in wall] == [("P1", "up", True)]
    rounds.reveal_term(store, w.id, term.id)
    assert W.live_exercise(store, w.id).guess_term == (term.id, True)
    assert "Too late" in rounds.submit_guess(store, cleo, term.id, "Changed my mind")


def test_a_commitment_serves_todays_story_another_function_and_a_date_to_come(store, storytelling):
    w, (ana, ben, _cleo) = storytelling
    W.open_exercise(store, w.id, 0)
    W.submit_story(store, ben, "over_the_wall", {"stage": "Sale", "promise": "Live in two weeks", "experience": "Seven weeks",
                                                 "next_function": "Implementation", "lost": "The date", "gap": 5}, "otw")
    W.open_exercise(store, w.id, 1)
    rounds.submit_round(store, ana, ABS, 0, ROUND_1, "a-r0")
    W.open_exercise(store, w.id, 2)
    options = commitments.serve_options(W.snapshot(store, w.id))
    assert options[0] == "Handoff · Sales → Implementation at Sale"
    assert any(o.startswith("Always be storytelling · “We only found") for o in options)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    refused = W.submit_story(store, ana, OMF, {"action": "Call support weekly", "serves": "Something I made up",
                                               "connects_to": "Support", "by_when": yesterday.isoformat()}, "c1")
    assert refused.problems["serves"] == "Please choose a story or handoff from today's list."
    assert "your own function" in refused.problems["connects_to"]
    assert "has already passed" in refused.problems["by_when"]
    kept = W.submit_story(store, ana, OMF, {"action": "Call support weekly", "serves": options[0],
                                            "connects_to": "Sales", "by_when": dt.date.today().isoformat()}, "c1")
    assert kept.ok and kept.story.answers["serves"] == options[0]


def test_rounds_in_an_exercise_file_are_checked():
    base = {"title": "T", "question": "Q", "purpose": "P", "minutes": 5, "notes": {"say": "s", "debrief": "d"},
            "fields": [{"name": "a", "kind": "short_text", "label": "A"}, {"name": "b", "kind": "short_text", "label": "B"}],
            "room": {"view": "wall", "headline": "a"}, "report": {"view": "by_function"}}
    ok = parse_exercise({**base, "rounds": [{"title": "One", "fields": ["a"]}, {"title": "Two", "fields": ["b"]}]}, "t.toml", "t")
    assert ok.paced and [f.name for f in ok.round_fields(1)] == ["b"]
    with pytest.raises(ExerciseFileError, match="field 'a' is already in an earlier round"):
        parse_exercise({**base, "rounds": [{"title": "One", "fields": ["a"]}, {"title": "Two", "fields": ["a"]}]}, "t.toml", "t")
    with pytest.raises(ExerciseFileError, match="needs at least two rounds"):
        parse_exercise({**base, "rounds": [{"title": "One", "fields": ["a", "b"]}]}, "t.toml", "t")
    with pytest.raises(ExerciseFileError, match="not_own"):
        parse_exercise({**base, "fields": [{"name": "a", "kind": "short_text", "label": "A", "not_own": True}]}, "t.toml", "t")


# --- the room, on phones and the console (AppTest) -------------------------------------------------

@pytest.fixture
def app_room(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    store = get_store(url)
    w, key = W.create_workshop(store, title="Rounds room", agenda_plan=[("over_the_wall", 10), (ABS, 15), (OMF, 10)])
    people = [W.join_workshop(store, w.code, n, f) for n, f in (("Ana", "Support"), ("Ben", "Sales"), ("Cleo", "Finance/billing"))]
    W.open_exercise(store, w.id, 1)
    return store, w, key, people


def phone(w, person) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(code=w.code, p=person.token)
    at.run()
    at.switch_page("pages/participate.py")
    at.query_params.update(code=w.code, p=person.token)
    at.run()
    return at


def console(w, key) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.session_state["facilitator_code"] = w.code
    at.session_state["facilitator_key"] = key
    at.query_params.update(code=w.code)
    at.run()
    at.switch_page("pages/console.py")
    at.query_params.update(code=w.code)
    at.run()
    return at


def seen(at: AppTest) -> str:
    """Everything a person reads on the screen, the coloured boxes included."""
    return "\n".join([all_text(at), *(e.value for kind in ("success", "info", "warning", "error") for e in getattr(at, kind))])


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_phones_send_round_by_round_as_the_facilitator_moves_the_room(app_room):
    store, w, key, (ana, ben, _cleo) = app_room
    at = phone(w, ana)
    assert "Round 1 of 3 · What a customer said" in seen(at)
    assert [b.label for b in at.button if b.label.startswith("Send")] == ["Send round 1"]
    at.text_area[0].input(ROUND_1["remark"])
    button(at, "Send round 1").click().run()
    assert len(at.error) == 2  # the two choices of this round, not six red errors
    assert at.text_area[0].value == ROUND_1["remark"]  # nothing typed is lost
    at.selectbox[0].select("Support")
    at.selectbox[1].select("Onboarding")
    button(at, "Send round 1").click().run()
    assert not at.exception and not at.error
    text = seen(at)
    assert "Round 1 is sent: it is part of your story now" in text and "Next: round 2, The company's story, then and now" in text
    assert "Round 2 · The company's story, then and now: not sent yet" in text

    boss = console(w, key)
    assert "Round 1 of 3: What a customer said" in seen(boss)
    assert "Round 1: 1 sent" in seen(boss)
    button(boss, "Next round: The company's story, then and now").click().run()
    assert not boss.exception and "Round 2 of 3: The company's story, then and now" in seen(boss)

    at.run()
    assert "Round 2 of 3 · The company's story, then and now" in seen(at)
    at.text_area[0].input(ROUND_2["company_story"])
    at.text_area[1].input(ROUND_2["retold_today"])
    button(at, "Send round 2").click().run()
    assert not at.error
    [story] = W.list_stories(store, w.id, ABS, participant_id=ana.id)
    assert story.answers == {**ROUND_1, **ROUND_2}

    late = phone(w, ben)  # Ben sent nothing yet: round 1 waits for him above round 2
    assert [b.label for b in late.button if b.label.startswith("Send")] == ["Send round 1", "Send round 2"]
    assert "The room has moved on; you can still send this round." in seen(late)


def test_a_guess_box_for_the_other_functions_and_the_reveal(app_room):
    store, w, key, (ana, ben, cleo) = app_room
    rounds.set_round(store, w.id, 1, 2, exercise_key=ABS)
    rounds.submit_round(store, ana, ABS, 2, ROUND_3, "a-r2")
    boss = console(w, key)
    assert "Terminology wall: guess first" in seen(boss)
    button(boss, "Put this term up").click().run()
    assert not boss.exception

    author, guesser = phone(w, ana), phone(w, ben)
    assert "This is your term" in "\n".join(i.value for i in author.info)
    box = next(t for t in guesser.text_input if t.label == "What do you think it means?")
    box.input("A priority customer")
    button(guesser, "Send my guess").click().run()
    assert "Your guess is in" in seen(guesser)
    assert "The customer cannot work at all." not in seen(guesser)  # not before the reveal

    boss.run()
    assert "“A priority customer” — Ben · Sales" in seen(boss)
    button(boss, "Reveal the meaning").click().run()
    guesser.run()
    assert "It means: The customer cannot work at all." in seen(guesser)


def test_a_commitment_form_refuses_and_keeps_what_was_typed(app_room):
    store, w, key, (ana, ben, _cleo) = app_room
    rounds.submit_round(store, ben, ABS, 0, {**ROUND_1, "heard_in": "Sales"}, "b-r0")
    W.open_exercise(store, w.id, 2)
    at = phone(w, ana)
    serves = next(s for s in at.selectbox if s.label.startswith("Which story or handoff"))
    assert serves.options == ["Always be storytelling · “We only found the bulk import on a screen share.”"]
    at.text_input[0].input("Sit in on two support calls")
    serves.select(serves.options[0])
    next(s for s in at.selectbox if s.label.startswith("Which other function")).select("Support")
    at.date_input[0].set_value(dt.date.today() - dt.timedelta(days=2))
    button(at, "Send").click().run()
    errors = "\n".join(e.value for e in at.error)
    assert "your own function" in errors and "has already passed" in errors
    assert at.text_input[0].value == "Sit in on two support calls"
    assert not W.list_stories(store, w.id, OMF)
    next(s for s in at.selectbox if s.label.startswith("Which other function")).select("Sales")
    at.date_input[0].set_value(dt.date.today() + dt.timedelta(days=14))
    button(at, "Send").click().run()
    assert not at.error
    [made] = W.list_stories(store, w.id, OMF)
    assert made.answers["connects_to"] == "Sales" and made.answers["serves"].startswith("Always be storytelling")


def test_the_report_keeps_the_company_stories_the_guesses_and_the_board(store):
    """The demo plays every part: the Word report keeps them (python-docx)."""
    import io

    import docx

    from facilitation import demo, report

    w, _ = demo.create_demo_workshop(store)
    doc = docx.Document(io.BytesIO(report.build_report(W.snapshot(store, w.id), include_map_image=False)))
    text = "\n".join(p.text for p in doc.paragraphs)
    tables = {t.rows[0].cells[-1].text: [[c.text for c in r.cells] for r in t.rows[1:]] for t in doc.tables}
    assert "The company's story, then and now" in text
    assert ["Our first controller printed every invoice and read it before it went out.",
            "Billing now checks the first three invoices of every new account.", "Lars\nFinance/billing"] in tables["Told by"]
    guessed = {row[0].split("\n")[0]: row[2] for row in tables["What others guessed first"]}
    assert guessed["SLA"].startswith("“The discount we give big customers” (Amira · Sales)")
    assert guessed["ARR"] == "not played"
    assert "Functions in the room nobody connected to: Marketing, Engineering, Product, Leadership." in text
    board = next(t for t in doc.tables if "Handoff · Engineering → Support at Implementation" in
                 [c.text for c in t.rows[1].cells])  # soonest date first: Nadia's, eight days on
    assert "Support" in [c.text for c in board.rows[1].cells]


def test_an_archive_keeps_rounds_and_guesses_and_an_older_one_still_restores(store):
    import json

    from facilitation import archive, demo, room

    w, _ = demo.create_demo_workshop(store)
    before = W.snapshot(store, w.id)
    data = json.loads(archive.archive_json(store, w.id))
    restored = archive.import_archive(store, data).workshop
    after = W.snapshot(store, restored.id)
    assert sorted(g.text for g in after.guesses) == sorted(g.text for g in before.guesses)
    assert after.rounds == before.rounds and len(after.guess_terms) == len(before.guess_terms) == 3
    # An archive made before rounds and guesses existed has none of their tables: it restores all the same.
    for table in ("exercise_rounds", "story_rounds", "guess_terms", "guesses"):
        data["tables"].pop(table, None)
        data["references"] = {k: v for k, v in data["references"].items() if not k.startswith(table + ".")}
    old = W.snapshot(store, archive.import_archive(store, data).workshop.id)
    assert old.guesses == [] and old.rounds == {}
    item = next(i for i in old.agenda if i.exercise_key == ABS)
    wall = rounds.terms(old, library()[ABS], room.room_stories(old, item))
    assert wall and all(t.state == "waiting" for t in wall)  # every term still to play


def test_stories_stored_before_the_new_rules_still_show(store, storytelling):
    """A commitment typed as free text, a past date, a story of all seven answers sent at once."""
    w, (ana, *_rest) = storytelling
    from facilitation.store import stories as story_rows

    with store.write() as conn:
        conn.execute(sa.insert(story_rows).values(
            workshop_id=w.id, exercise_key=OMF, participant_id=ana.id, function="Support", answers={
                "action": "Call sales weekly", "serves": "A few words typed before", "connects_to": "Support",
                "by_when": "2020-01-01"}, idempotency_key="old-1", hidden=False, created_at=1.0, updated_at=1.0))
        conn.execute(sa.insert(story_rows).values(
            workshop_id=w.id, exercise_key=ABS, participant_id=ana.id, function="Support",
            answers={**ROUND_1, **ROUND_2, **ROUND_3}, idempotency_key="old-2", hidden=False, created_at=2.0,
            updated_at=2.0))
    snap = W.snapshot(store, w.id)
    [old] = snap.stories_for(OMF)
    facts = commitments.board_facts(snap, library()[OMF], [old])
    assert facts.earliest == dt.date(2020, 1, 1) and facts.nobody_connected == ["Sales", "Finance/billing"]
    mine = rounds.my_rounds(library()[ABS], snap.stories_for(ABS), 0)
    assert mine.sent == {0, 1, 2} and mine.up_to_date


def test_with_names_off_a_guess_names_a_function_only_among_three(store, storytelling):
    from facilitation import controls

    w, (ana, ben, cleo) = storytelling
    controls.set_show_names(store, w.id, False)
    sales = [ben, W.join_workshop(store, w.code, "Bea", "Sales"), W.join_workshop(store, w.code, "Bo", "Sales")]
    rounds.set_round(store, w.id, 1, 2, exercise_key=ABS)
    term = rounds.submit_round(store, ana, ABS, 2, ROUND_3, "a-r2").story
    rounds.put_up_term(store, w.id, term.id)
    for n, person in enumerate([*sales, cleo]):
        assert rounds.submit_guess(store, person, term.id, f"guess {n}") is None
    snap = W.snapshot(store, w.id)
    labelled = rounds.guess_labels(snap, library()[ABS])
    lines = [rounds.guess_byline(g, show_names=False, labelled=labelled) for g in snap.guesses_for(term.id)]
    # Three from Sales may be named; Cleo alone would be Finance/billing by name: she is one of "Other functions"
    # (with the smallest named function folded in too, so the unnamed ones hide three people).
    assert "Finance/billing" not in lines and all("Bea" not in line for line in lines)
    assert lines[-1] == "Other functions"


def test_another_story_starts_fresh_in_the_rooms_round(app_room):
    store, w, key, (ana, _ben, _cleo) = app_room
    first = rounds.submit_round(store, ana, ABS, 0, ROUND_1, "a-r0").story
    rounds.set_round(store, w.id, 1, 1, exercise_key=ABS)
    rounds.submit_round(store, ana, ABS, 1, ROUND_2, "a-r1", story_id=first.id)
    at = phone(w, ana)
    assert not [b for b in at.button if b.label.startswith("Send round")]
    button(at, "Start another story").click().run()
    assert [b.label for b in at.button if b.label.startswith("Send round")] == ["Send round 1", "Send round 2"]
    at.text_area[0].input("“A second remark.”")
    at.selectbox[0].select("Support")
    at.selectbox[1].select("Sale")
    button(at, "Send round 1").click().run()
    assert not at.error
    told = W.list_stories(store, w.id, ABS, participant_id=ana.id)
    assert [s.answers["remark"] for s in told] == [ROUND_1["remark"], "“A second remark.”"]
    assert [b.label for b in at.button if b.label.startswith("Send round")] == ["Send round 2"]  # adds to the new one
    assert "Round 1 sent — it is part of your story now." in seen(at)
