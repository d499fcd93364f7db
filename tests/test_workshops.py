"""The workshop rules on both databases, and the exercise file loader."""

from __future__ import annotations

import itertools
import time
import shutil
import textwrap

import pytest
import sqlalchemy as sa

from facilitation import access
from facilitation import store as store_module
from facilitation import workshops as W
from facilitation.exercises import EXERCISES_DIR, ExerciseFileError, library, load_exercise_file, load_library

EXERCISE = "over_the_wall"
CLOSED_MESSAGE = "Not sent: the facilitator has closed this exercise. Your text is still in the form, so nothing is lost."
NOTHING_OPEN_MESSAGE = "No exercise is open yet, so your answer was not sent. Your text is still in the form."


def counting_clock(start: float = 1_000.0, step: float = 1.0):
    ticks = itertools.count()
    return lambda: start + step * next(ticks)


def count_rows(store, table) -> int:
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


@pytest.fixture
def room(store, make_workshop, make_participant):
    """A workshop with its first exercise open and one participant in Sales."""
    w, key = make_workshop()
    W.open_exercise(store, w.id, 0)
    return W.get_workshop(store, w.id), key, make_participant(w, name="Ana", function="Sales")


# --- creating a workshop ------------------------------------------------------------------------

def test_create_workshop(store):
    w, key = W.create_workshop(store, title="  Where the story breaks ", organisation="Acme", facilitator="Kim",
                               agenda_plan=[(EXERCISE, 15)], clock=lambda: 42.0)
    assert w.title == "Where the story breaks"
    assert (w.organisation, w.facilitator) == ("Acme", "Kim")
    assert len(w.code) == access.JOIN_CODE_LENGTH and set(w.code) <= set(access.JOIN_CODE_ALPHABET)
    assert (w.revision, w.live_position, w.live_state, w.created_at) == (1, None, "waiting", 42.0)
    assert w.functions == W.DEFAULT_FUNCTIONS and w.stages == W.DEFAULT_STAGES
    assert w.show_names is True
    assert [(a.position, a.exercise_key, a.minutes, a.opened_at) for a in W.agenda(store, w.id)] == [(0, EXERCISE, 15, None)]
    assert key and W.find_workshop(store, w.code) == w


def test_default_agenda_is_the_whole_library_in_order(store):
    w, _ = W.create_workshop(store, title="Full day")
    assert [a.exercise_key for a in W.agenda(store, w.id)] == list(library())
    assert [a.minutes for a in W.agenda(store, w.id)] == [e.minutes for e in library().values()]


def test_facilitator_key_is_stored_only_as_a_hash(store, make_workshop):
    w, key = make_workshop()
    with store.read() as conn:
        stored = conn.execute(sa.select(store_module.workshops.c.facilitator_key_hash)).scalar_one()
    assert stored != key and key not in stored
    assert stored == access.hash_key(key)


def test_custom_functions_and_stages_are_cleaned(store):
    w, _ = W.create_workshop(store, title="t", functions=[" Sales ", "", "  ", "\u200b", "Support"],
                             stages=["Buy", "\t", "Use "], agenda_plan=[(EXERCISE, 10)])
    assert w.functions == ["Sales", "Support"]
    assert w.stages == ["Buy", "Use"]


@pytest.mark.parametrize("overrides, field, message", [
    (dict(title=""), "title", "The title is empty. Please write something."),
    (dict(title="   "), "title", "The title has only blank or invisible characters. Please write something."),
    (dict(title="\u200b\u200d\ufeff"), "title", "The title has only blank or invisible characters. Please write something."),
    (dict(title="x" * 201), "title", "The title is 201 characters; the limit is 200. Please shorten it by 1."),
    (dict(organisation="o" * 201), "organisation", "The organisation is 201 characters; the limit is 200. Please shorten it by 1."),
    (dict(functions=["Sales", "Support", "sales "]), "functions", "'sales' is listed twice."),
    (dict(functions=["Sales"]), "functions", "Please give at least 2 functions."),
    (dict(functions=["Sales", " ", "\u200b"]), "functions", "Please give at least 2 functions."),
    (dict(functions=["Sales", "F" * 61]), "functions", f"'{'F' * 30}…' is longer than 60 characters."),
    (dict(stages=["Only one"]), "stages", "Please give at least 2 stages."),
    (dict(stages=[]), "stages", "Please give at least 2 stages."),
    (dict(stages=["Buy", "BUY"]), "stages", "'BUY' is listed twice."),
    (dict(agenda_plan=[]), "agenda", "Please choose at least one exercise."),
    (dict(agenda_plan=[("no_such_exercise", 10)]), "agenda", "There is no exercise called 'no_such_exercise'."),
    (dict(agenda_plan=[(EXERCISE, 0)]), "agenda", "Minutes for 'Over the wall' must be between 1 and 180."),
    (dict(agenda_plan=[(EXERCISE, 181)]), "agenda", "Minutes for 'Over the wall' must be between 1 and 180."),
    (dict(agenda_plan=[(EXERCISE, 12.5)]), "agenda", "Minutes for 'Over the wall' must be between 1 and 180."),
])
def test_create_workshop_validation(store, overrides, field, message):
    args = dict(title="Workshop", agenda_plan=[(EXERCISE, 15)])
    args.update(overrides)
    with pytest.raises(W.WorkshopInputError) as info:
        W.create_workshop(store, **args)
    assert info.value.problems == {field: message}
    assert count_rows(store, store_module.workshops) == 0


def test_create_workshop_reports_every_problem_at_once(store):
    with pytest.raises(W.WorkshopInputError) as info:
        W.create_workshop(store, title="", functions=["A", "a"], stages=["One"], agenda_plan=[])
    assert set(info.value.problems) == {"title", "functions", "stages", "agenda"}
    assert "title: The title is empty" in str(info.value)


def test_a_taken_join_code_is_drawn_again(store, monkeypatch):
    codes = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(access, "new_join_code", lambda: next(codes))
    first, _ = W.create_workshop(store, title="one", agenda_plan=[(EXERCISE, 5)])
    second, _ = W.create_workshop(store, title="two", agenda_plan=[(EXERCISE, 5)])
    assert (first.code, second.code) == ("AAAAAA", "BBBBBB")
    assert len(W.agenda(store, second.id)) == 1  # the failed attempt left nothing behind
    assert count_rows(store, store_module.agenda_items) == 2


# --- codes and keys -------------------------------------------------------------------------------

@pytest.fixture
def yzu(store, monkeypatch):
    monkeypatch.setattr(access, "new_join_code", lambda: "YZU8RM")
    return W.create_workshop(store, title="Code test", agenda_plan=[(EXERCISE, 5)])


@pytest.mark.parametrize("typed", ["YZU8RM", "yzu 8rm", "yzu8rm", " Yzu-8Rm\n", "y z u 8 r m", "YZU–8RM"])
def test_join_code_is_found_however_it_is_typed(store, yzu, typed):
    w, _ = yzu
    assert W.find_workshop(store, typed).id == w.id


@pytest.mark.parametrize("typed", ["", "   ", "-", "YZU8R", "YZU8RMX", "ZZZZZZ", None])
def test_unknown_join_code_finds_nothing(store, yzu, typed):
    assert W.find_workshop(store, typed) is None


def test_join_code_typed_in_full_width_characters(store, yzu):
    """A phone keyboard in Japanese/Chinese input mode types full-width letters and digits."""
    w, _ = yzu
    found = W.find_workshop(store, "ｙｚｕ８ｒｍ")
    assert found is not None and found.id == w.id


def test_facilitator_key_check(store, make_workshop):
    a, key_a = make_workshop(title="A")
    b, key_b = make_workshop(title="B")
    assert W.facilitator_workshop(store, a.code, key_a) == a
    assert W.facilitator_workshop(store, a.code.lower(), key_a) == a
    assert W.facilitator_workshop(store, a.code, key_a + "x") is None
    assert W.facilitator_workshop(store, a.code, key_a.upper() if key_a != key_a.upper() else key_a.lower()) is None
    assert W.facilitator_workshop(store, a.code, key_b) is None  # the other workshop's key
    assert W.facilitator_workshop(store, b.code, key_a) is None
    assert W.facilitator_workshop(store, a.code, "") is None
    assert W.facilitator_workshop(store, a.code, None) is None
    assert W.facilitator_workshop(store, "NOSUCH", key_a) is None  # unknown code
    assert W.facilitator_workshop(store, "", key_a) is None


def test_secrets_are_unpredictable():
    assert len({access.new_join_code() for _ in range(200)}) > 190
    assert len({access.new_participant_token() for _ in range(200)}) == 200
    assert len(access.new_facilitator_key()) >= 24
    assert access.key_matches("k", access.hash_key("k")) and not access.key_matches("k", access.hash_key("K"))


# --- joining ----------------------------------------------------------------------------------------

def test_join_workshop(store, make_workshop):
    w, _ = make_workshop()
    p = W.join_workshop(store, f" {w.code.lower()} ", "  Ana Lima ", "Implementation")
    assert (p.workshop_id, p.display_name, p.function) == (w.id, "Ana Lima", "Implementation")
    assert len(p.token) >= 24
    assert W.list_participants(store, w.id) == [W.participant_by_token(store, w.id, p.token)]
    assert W.revision(store, w.id) == w.revision + 1


def test_join_returns_what_was_stored(store, make_workshop):
    w, _ = make_workshop()
    p = W.join_workshop(store, w.code, "Ana", "Sales", clock=counting_clock())
    assert W.participant_by_token(store, w.id, p.token) == p


@pytest.mark.parametrize("code", ["", "NOSUCH", "   ", None])
def test_join_with_a_bad_code(store, make_workshop, code):
    make_workshop()
    with pytest.raises(W.WorkshopInputError) as info:
        W.join_workshop(store, code, "Ana", "Sales")
    assert info.value.problems == {"code": "No workshop has this code. Check the code on the screen and try again."}


@pytest.mark.parametrize("name, message", [
    ("", "Your name is empty. Please write something."),
    (None, "Your name is empty. Please write something."),
    ("   ", "Your name has only blank or invisible characters. Please write something."),
    ("\t\n ", "Your name has only blank or invisible characters. Please write something."),
    ("\u200b", "Your name has only blank or invisible characters. Please write something."),
    ("\u200b\u200c\u200d\u2060\ufeff", "Your name has only blank or invisible characters. Please write something."),
    ("\u3000\u00a0", "Your name has only blank or invisible characters. Please write something."),
    ("N" * 61, "Your name is 61 characters; the limit is 60. Please shorten it by 1."),
])
def test_join_refuses_a_blank_or_long_name(store, make_workshop, name, message):
    w, _ = make_workshop()
    with pytest.raises(W.WorkshopInputError) as info:
        W.join_workshop(store, w.code, name, "Sales")
    assert info.value.problems == {"display_name": message}
    assert W.list_participants(store, w.id) == []
    assert W.revision(store, w.id) == w.revision


@pytest.mark.parametrize("function", ["Astronaut", "sales", " Sales", "", None])
def test_join_function_must_be_in_the_list(store, make_workshop, function):
    w, _ = make_workshop()
    with pytest.raises(W.WorkshopInputError) as info:
        W.join_workshop(store, w.code, "Ana", function)
    assert info.value.problems == {"function": "Please choose your function from the list."}
    assert W.list_participants(store, w.id) == []


def test_join_reports_name_and_function_together(store, make_workshop):
    w, _ = make_workshop()
    with pytest.raises(W.WorkshopInputError) as info:
        W.join_workshop(store, w.code, "", "Astronaut")
    assert set(info.value.problems) == {"display_name", "function"}


def test_participant_token_is_scoped_to_its_workshop(store, make_workshop, make_participant):
    a, _ = make_workshop(title="A")
    b, _ = make_workshop(title="B")
    pa = make_participant(a, name="Ana")
    pb = make_participant(b, name="Ben")
    assert W.participant_by_token(store, a.id, pa.token).id == pa.id
    assert W.participant_by_token(store, b.id, pa.token) is None  # A's token refused in B
    assert W.participant_by_token(store, a.id, pb.token) is None
    assert W.participant_by_token(store, a.id, None) is None
    assert W.participant_by_token(store, a.id, "") is None
    assert W.participant_by_token(store, a.id, "not-a-token") is None


def test_counts_by_function(store, make_workshop, make_participant):
    w, _ = make_workshop(functions=["Sales", "Support", "Finance"])
    for name, fn in [("a", "Sales"), ("b", "Support"), ("c", "Sales")]:
        make_participant(w, name=name, function=fn)
    assert W.counts_by_function(W.list_participants(store, w.id), w.functions) == {"Sales": 2, "Support": 1, "Finance": 0}


# --- the agenda: open and close ------------------------------------------------------------------------

def test_live_exercise_before_anything_opens(store, make_workshop):
    w, _ = make_workshop()
    live = W.live_exercise(store, w.id)
    assert (live.state, live.item, live.exercise, live.accepting(time.time())) == ("waiting", None, None, False)
    assert live.seconds_left(0) is None
    assert live.revision == w.revision


def test_open_and_close_exercise(store, make_workshop):
    w, _ = make_workshop(agenda_plan=[(EXERCISE, 15), (EXERCISE, 5)])
    W.open_exercise(store, w.id, 0, clock=lambda: 1_000.0)
    live = W.live_exercise(store, w.id)
    assert (live.state, live.accepting(1_001.0), live.item.position, live.exercise.key) == ("open", True, 0, EXERCISE)
    assert not live.accepting(1_000.0 + 15 * 60)  # locked at zero by default
    assert live.item.opened_at == 1_000.0 and live.item.closed_at is None
    assert live.seconds_left(1_000.0) == 15 * 60
    assert live.seconds_left(1_060.0) == 14 * 60
    assert live.seconds_left(99_999.0) == 0.0
    assert W.get_workshop(store, w.id).live_position == 0

    W.close_exercise(store, w.id, clock=lambda: 1_500.0)
    live = W.live_exercise(store, w.id)
    assert (live.state, live.accepting(1_501.0), live.item.position) == ("closed", False, 0)
    assert live.item.closed_at == 1_500.0 and live.seconds_left(1_100.0) is None

    W.open_exercise(store, w.id, 1, clock=lambda: 2_000.0)
    live = W.live_exercise(store, w.id)
    assert (live.state, live.item.position, live.item.minutes) == ("open", 1, 5)
    first, second = W.agenda(store, w.id)
    assert (first.opened_at, first.closed_at, second.opened_at) == (1_000.0, 1_500.0, 2_000.0)

    W.open_exercise(store, w.id, 0, clock=lambda: 3_000.0)  # reopening restarts the clock
    first = W.agenda(store, w.id)[0]
    assert (first.opened_at, first.closed_at) == (3_000.0, None)


def test_open_a_position_not_on_the_agenda(store, make_workshop):
    w, _ = make_workshop()
    with pytest.raises(W.WorkshopInputError) as info:
        W.open_exercise(store, w.id, 7)
    assert info.value.problems == {"agenda": "That exercise is not on this workshop's agenda."}
    assert W.revision(store, w.id) == w.revision
    assert W.live_exercise(store, w.id).state == "waiting"


def test_close_when_nothing_is_open_changes_nothing(store, make_workshop):
    w, _ = make_workshop()
    W.close_exercise(store, w.id)
    assert W.revision(store, w.id) == w.revision
    W.open_exercise(store, w.id, 0)
    W.close_exercise(store, w.id)
    rev = W.revision(store, w.id)
    W.close_exercise(store, w.id)
    assert W.revision(store, w.id) == rev


def test_agenda_is_per_workshop(store, make_workshop):
    a, _ = make_workshop(agenda_plan=[(EXERCISE, 10)])
    b, _ = make_workshop(agenda_plan=[(EXERCISE, 20), (EXERCISE, 30)])
    W.open_exercise(store, a.id, 0)
    assert W.live_exercise(store, b.id).state == "waiting"
    assert [i.minutes for i in W.agenda(store, b.id)] == [20, 30]
    with pytest.raises(W.WorkshopInputError):
        W.open_exercise(store, a.id, 1)


# --- telling a story ---------------------------------------------------------------------------------------

def test_submit_story(store, room, answers):
    w, _, ana = room
    sent = answers(promise="  Live in two weeks.  ")
    result = W.submit_story(store, ana, EXERCISE, sent, "form-1", clock=lambda: 5_000.0)
    assert result.ok and result.created and result.problems == {}
    s = result.story
    assert (s.exercise_key, s.participant_id, s.author_name, s.function, s.hidden) == (EXERCISE, ana.id, "Ana", "Sales", False)
    assert s.answers == sent  # text exactly as typed, spaces included
    assert (s.created_at, s.updated_at) == (5_000.0, 5_000.0)
    assert W.list_stories(store, w.id) == [s]


@pytest.mark.parametrize("field, value, message", [
    ("stage", None, "Please choose an answer."),
    ("stage", "", "Please choose an answer."),
    ("stage", "Moon landing", "Please choose one of the stages in the list."),
    ("promise", "", "This answer is empty. Please write something."),
    ("promise", None, "This answer is empty. Please write something."),
    ("promise", " \n\t\u200b", "This answer has only blank or invisible characters. Please write something."),
    ("promise", 42, "This answer must be text."),
    ("promise", "p" * 1001, "This answer is 1,001 characters; the limit is 1,000. Please shorten it by 1."),
    ("experience", "", "This answer is empty. Please write something."),
    ("experience", "e" * 2500, "This answer is 2,500 characters; the limit is 1,000. Please shorten it by 1,500."),
    ("lost", "\ufeff", "This answer has only blank or invisible characters. Please write something."),
    ("next_function", "Astronaut", "Please choose one of the functions in the list."),
    ("next_function", None, "Please choose an answer."),
    ("gap", 0, "Please pick a number from 1 to 5."),
    ("gap", 6, "Please pick a number from 1 to 5."),
    ("gap", "3", "Please pick a number from 1 to 5."),
    ("gap", 2.5, "Please pick a number from 1 to 5."),
    ("gap", True, "Please pick a number from 1 to 5."),
    ("gap", None, "Please choose an answer."),
    ("bogus", "x", "'bogus' is not a question of this exercise."),
])
def test_submit_refuses_each_bad_answer_with_its_message(store, room, answers, field, value, message):
    w, _, ana = room
    rev = W.revision(store, w.id)
    result = W.submit_story(store, ana, EXERCISE, answers(**{field: value}), "form-bad")
    assert not result.ok and not result.created
    assert result.problems == {field: message}
    assert count_rows(store, store_module.stories) == 0
    assert W.revision(store, w.id) == rev


def test_submit_with_a_missing_answer(store, room, answers):
    _, _, ana = room
    sent = answers()
    del sent["promise"]
    result = W.submit_story(store, ana, EXERCISE, sent, "form-missing")
    assert result.problems == {"promise": "This answer is empty. Please write something."}


def test_server_enforces_max_chars(store, room, answers):
    """The browser's max_chars is only a hint: 1,001 characters are refused here, 1,000 taken."""
    w, _, ana = room
    limit = library()[EXERCISE].field("promise").max_chars
    assert limit == 1000
    refused = W.submit_story(store, ana, EXERCISE, answers(promise="é" * (limit + 1)), "too-long")
    assert not refused.ok
    assert "the limit is 1,000" in refused.problems["promise"] and "1,001" in refused.problems["promise"]
    assert W.list_stories(store, w.id, include_hidden=True) == []
    taken = W.submit_story(store, ana, EXERCISE, answers(promise="👍" * limit), "just-right")
    assert taken.ok and taken.story.answers["promise"] == "👍" * limit


def test_same_idempotency_key_twice_stores_one_story(store, room, answers):
    w, _, ana = room
    first = W.submit_story(store, ana, EXERCISE, answers(), "dup-key")
    rev = W.revision(store, w.id)
    second = W.submit_story(store, ana, EXERCISE, answers(lost="a changed retry"), "dup-key")
    assert first.created is True and second.created is False
    assert second.ok and second.story == first.story  # the first one is kept
    assert count_rows(store, store_module.stories) == 1
    assert W.revision(store, w.id) == rev  # a replay is not a change


def test_idempotency_keys_are_per_workshop(store, make_workshop, make_participant, answers):
    a, _ = make_workshop(title="A")
    b, _ = make_workshop(title="B")
    for w in (a, b):
        W.open_exercise(store, w.id, 0)
    ra = W.submit_story(store, make_participant(a), EXERCISE, answers(), "same-key")
    rb = W.submit_story(store, make_participant(b), EXERCISE, answers(), "same-key")
    assert ra.created and rb.created and ra.story.id != rb.story.id


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_submit_without_a_usable_idempotency_key(store, room, answers, key):
    _, _, ana = room
    result = W.submit_story(store, ana, EXERCISE, answers(), key)
    assert result.problems == {"_form": "This form has lost its identity; please reload the page."}
    assert count_rows(store, store_module.stories) == 0


def test_submit_to_an_unknown_exercise(store, room, answers):
    _, _, ana = room
    result = W.submit_story(store, ana, "no_such_exercise", answers(), "k1")
    assert result.problems == {"_form": "This exercise no longer exists."}


def test_submit_refused_when_the_exercise_is_closed(store, room, answers):
    w, _, ana = room
    W.close_exercise(store, w.id)
    rev = W.revision(store, w.id)
    result = W.submit_story(store, ana, EXERCISE, answers(), "late")
    assert not result.ok
    assert result.problems == {"_form": CLOSED_MESSAGE}
    assert "still in the form" in result.problems["_form"]
    assert count_rows(store, store_module.stories) == 0
    assert W.revision(store, w.id) == rev


def test_submit_refused_before_anything_opens(store, make_workshop, make_participant, answers):
    w, _ = make_workshop()
    result = W.submit_story(store, make_participant(w), EXERCISE, answers(), "early")
    assert result.problems == {"_form": NOTHING_OPEN_MESSAGE}


def test_retry_after_close_returns_the_story_already_stored(store, room, answers):
    w, _, ana = room
    first = W.submit_story(store, ana, EXERCISE, answers(), "sent-before-close")
    W.close_exercise(store, w.id)
    again = W.submit_story(store, ana, EXERCISE, answers(), "sent-before-close")
    assert again.ok and not again.created and again.story.id == first.story.id


def test_submit_refused_for_an_exercise_that_is_not_live(store, tmp_path, monkeypatch, answers):
    """With two exercises on the agenda, stories go only to the one that is open."""
    for name, order in (("first", 1), ("second", 2)):
        text = (EXERCISES_DIR / f"{EXERCISE}.toml").read_text(encoding="utf-8")
        (tmp_path / f"{name}.toml").write_text(text.replace("order = 10", f"order = {order}")
                                               .replace('title = "Over the wall"', f'title = "{name}"'), encoding="utf-8")
    lib = load_library(tmp_path)
    monkeypatch.setattr(W, "library", lambda: lib)
    w, _ = W.create_workshop(store, title="two", agenda_plan=[("first", 10), ("second", 10)])
    p = W.join_workshop(store, w.code, "Ana", "Sales")
    W.open_exercise(store, w.id, 1)
    assert W.live_exercise(store, w.id).exercise.key == "second"
    assert W.submit_story(store, p, "first", answers(), "k1").problems == {"_form": CLOSED_MESSAGE}
    assert W.submit_story(store, p, "second", answers(), "k2").ok


# --- revision --------------------------------------------------------------------------------------------------

def test_revision_moves_on_every_change_and_never_on_reads(store, answers):
    w, key = W.create_workshop(store, title="rev", agenda_plan=[(EXERCISE, 10)])
    expected = 1

    def check():
        assert W.revision(store, w.id) == expected
        assert W.get_workshop(store, w.id).revision == expected
        assert W.live_exercise(store, w.id).revision == expected

    def read_everything():
        W.find_workshop(store, w.code)
        W.get_workshop(store, w.id)
        W.facilitator_workshop(store, w.code, key)
        W.facilitator_workshop(store, w.code, "wrong")
        W.revision(store, w.id)
        W.agenda(store, w.id)
        W.live_exercise(store, w.id)
        W.list_participants(store, w.id)
        W.list_stories(store, w.id, include_hidden=True)
        W.snapshot(store, w.id)

    check()
    p = W.join_workshop(store, w.code, "Ana", "Sales")
    expected += 1
    check()
    W.participant_by_token(store, w.id, p.token)
    read_everything()
    check()
    W.open_exercise(store, w.id, 0)
    expected += 1
    check()
    W.submit_story(store, p, EXERCISE, answers(), "r1")
    expected += 1
    check()
    W.submit_story(store, p, EXERCISE, answers(), "r1")  # replay
    W.submit_story(store, p, EXERCISE, answers(gap=9), "r2")  # refused
    read_everything()
    check()
    W.close_exercise(store, w.id)
    expected += 1
    check()
    W.close_exercise(store, w.id)  # already closed
    W.submit_story(store, p, EXERCISE, answers(), "r3")  # refused: closed
    read_everything()
    check()
    W.open_exercise(store, w.id, 0)
    expected += 1
    check()


def test_revision_of_an_unknown_workshop_is_zero(store):
    assert W.revision(store, 12345) == 0


# --- reading stories back ---------------------------------------------------------------------------------------

def _hide(store, story_id: int) -> None:
    with store.write() as conn:
        conn.execute(sa.update(store_module.stories).where(store_module.stories.c.id == story_id).values(hidden=True))


def test_hidden_stories_are_left_out_unless_asked_for(store, room, make_participant, answers):
    w, _, ana = room
    ben = make_participant(w, name="Ben", function="Support")
    kept = W.submit_story(store, ana, EXERCISE, answers(lost="kept"), "s1", clock=lambda: 1.0).story
    hidden = W.submit_story(store, ben, EXERCISE, answers(lost="hidden"), "s2", clock=lambda: 2.0).story
    _hide(store, hidden.id)
    assert [s.id for s in W.list_stories(store, w.id)] == [kept.id]
    assert [s.id for s in W.list_stories(store, w.id, EXERCISE)] == [kept.id]
    both = W.list_stories(store, w.id, include_hidden=True)
    assert [(s.id, s.hidden) for s in both] == [(kept.id, False), (hidden.id, True)]
    assert W.list_stories(store, w.id, participant_id=ben.id) == []
    assert [s.id for s in W.list_stories(store, w.id, participant_id=ben.id, include_hidden=True)] == [hidden.id]
    assert W.list_stories(store, w.id, "another_exercise") == []


def test_stories_come_in_arrival_order_and_stay_in_their_workshop(store, make_workshop, make_participant, answers):
    a, _ = make_workshop(title="A")
    b, _ = make_workshop(title="B")
    for w in (a, b):
        W.open_exercise(store, w.id, 0)
    pa, pb = make_participant(a), make_participant(b)
    for i, t in enumerate([3.0, 1.0, 2.0]):
        W.submit_story(store, pa, EXERCISE, answers(lost=f"a{t}"), f"a{i}", clock=lambda t=t: t)
    W.submit_story(store, pb, EXERCISE, answers(lost="b"), "b0")
    assert [s.answers["lost"] for s in W.list_stories(store, a.id)] == ["a1.0", "a2.0", "a3.0"]
    assert [s.answers["lost"] for s in W.list_stories(store, b.id)] == ["b"]


def test_snapshot(store, make_workshop, make_participant, answers):
    w, _ = make_workshop(agenda_plan=[(EXERCISE, 15), (EXERCISE, 5)])
    W.open_exercise(store, w.id, 0, clock=lambda: 10.0)
    ana = W.join_workshop(store, w.code, "Ana", "Sales", clock=lambda: 20.0)
    ben = W.join_workshop(store, w.code, "Ben", "Support", clock=lambda: 21.0)
    s1 = W.submit_story(store, ana, EXERCISE, answers(lost="one"), "k1", clock=lambda: 30.0).story
    s2 = W.submit_story(store, ben, EXERCISE, answers(lost="two"), "k2", clock=lambda: 31.0).story
    _hide(store, s2.id)

    snap = W.snapshot(store, w.id, clock=lambda: 99.0)
    assert snap.taken_at == 99.0
    assert snap.workshop == W.get_workshop(store, w.id)
    assert snap.workshop.live_state == "open" and snap.workshop.revision == W.revision(store, w.id)
    assert [(i.position, i.minutes, i.opened_at) for i in snap.agenda] == [(0, 15, 10.0), (1, 5, None)]
    assert [(p.display_name, p.function, p.token) for p in snap.participants] == [
        ("Ana", "Sales", ana.token), ("Ben", "Support", ben.token)]
    assert [(s.id, s.hidden, s.author_name) for s in snap.stories] == [(s1.id, False, "Ana"), (s2.id, True, "Ben")]
    assert [s.id for s in snap.stories_for(EXERCISE)] == [s1.id]
    assert [s.id for s in snap.stories_for(EXERCISE, include_hidden=True)] == [s1.id, s2.id]
    assert snap.stories_for("another_exercise") == []


def test_snapshot_of_an_empty_workshop(store, make_workshop):
    w, _ = make_workshop()
    snap = W.snapshot(store, w.id)
    assert (snap.participants, snap.stories, len(snap.agenda)) == ([], [], 1)


# --- the exercise library and its files --------------------------------------------------------------------------

def test_the_library_loads():
    lib = library()
    assert EXERCISE in lib
    assert lib == load_library()
    assert set(lib) == {p.stem for p in EXERCISES_DIR.glob("*.toml")}
    assert [(e.order, e.title) for e in lib.values()] == sorted((e.order, e.title) for e in lib.values())
    for e in lib.values():
        names = [f.name for f in e.fields]
        assert len(names) == len(set(names)) and e.headline in names
        assert set(e.handoff.values()) <= set(names)


def test_over_the_wall_feeds_the_map():
    e = library()[EXERCISE]
    assert e.feeds_map and e.handoff["stage"] == "stage" and e.handoff["to_function"] == "next_function"
    assert [f.kind for f in e.fields] == ["stage", "long_text", "long_text", "function", "long_text", "stage", "scale",
                                          "choice", "short_text"]
    assert [f.name for f in e.fields if not f.required] == ["reach", "judged_by", "evidence"]
    gap = e.field("gap")
    assert (gap.scale_min, gap.scale_max, gap.scale_low, gap.scale_high) == (1, 5, "barely any", "a canyon")
    with pytest.raises(KeyError):
        e.field("nope")


VALID = textwrap.dedent('''\
    title = "Tiny"
    question = "What happened?"
    purpose = "To test the loader."
    minutes = 10
    order = 5

    [notes]
    say = "Say this."
    debrief = "Ask that."

    [[fields]]
    name = "answer"
    kind = "short_text"
    label = "Your answer"

    [[fields]]
    name = "mood"
    kind = "choice"
    label = "Mood"
    options = ["good", "bad"]

    [[fields]]
    name = "score"
    kind = "scale"
    label = "Score"
    min = 0
    max = 10

    [room]
    view = "wall"
    headline = "answer"

    [report]
    view = "by_function"
    ''')


def write_exercise(directory, text, name="tiny.toml"):
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_exercise_file_loads(tmp_path):
    write_exercise(tmp_path, VALID)
    [(key, e)] = load_library(tmp_path).items()
    assert key == e.key == "tiny"
    assert (e.title, e.minutes, e.order, e.say, e.room_view, e.headline) == ("Tiny", 10, 5, "Say this.", "wall", "answer")
    assert e.field("answer").max_chars == 200 and e.field("answer").required
    assert e.field("mood").options == ("good", "bad")
    assert (e.field("score").scale_min, e.field("score").scale_max) == (0, 10)
    assert not e.feeds_map


def test_library_orders_by_order_then_title(tmp_path):
    write_exercise(tmp_path, VALID.replace('title = "Tiny"', 'title = "Zed"'), "a.toml")
    write_exercise(tmp_path, VALID.replace('title = "Tiny"', 'title = "Alpha"'), "b.toml")
    write_exercise(tmp_path, VALID.replace("order = 5", "order = 1"), "c.toml")
    assert list(load_library(tmp_path)) == ["c", "b", "a"]


BROKEN = {
    "unknown kind": (VALID.replace('kind = "short_text"', 'kind = "essay"'),
                     ["field 'answer'", "unknown kind 'essay'"]),
    "choice without options": (VALID.replace('options = ["good", "bad"]\n', ""),
                               ["field 'mood'", "'options'"]),
    "choice with one option": (VALID.replace('options = ["good", "bad"]', 'options = ["good"]'),
                               ["field 'mood'", "'options'"]),
    "headline naming no field": (VALID.replace('headline = "answer"', 'headline = "answr"'),
                                 ["room.headline", "'answr'"]),
    "bad TOML": (VALID.replace('title = "Tiny"', 'title = "Tiny'), ["not valid TOML", "line 1"]),
    "missing title": (VALID.replace('title = "Tiny"\n', ""), ["'title' is missing"]),
    "empty title": (VALID.replace('title = "Tiny"', 'title = "  "'), ["'title' is empty"]),
    "title not text": (VALID.replace('title = "Tiny"', "title = 3"), ["'title' must be str"]),
    "missing label": (VALID.replace('label = "Your answer"\n', ""), ["field 'answer'", "'label' is missing"]),
    "unknown top-level key": (VALID.replace("order = 5", "order = 5\ncolour = 'red'"), ["unknown key 'colour'"]),
    "field name twice": (VALID.replace('name = "mood"', 'name = "answer"'), ["field 'answer'", "used twice"]),
    "field name not an identifier": (VALID.replace('name = "mood"', 'name = "my mood"'), ["field 'my mood'"]),
    "max_chars zero": (VALID.replace('label = "Your answer"', 'label = "Your answer"\nmax_chars = 0'),
                       ["field 'answer'", "'max_chars'"]),
    "scale min not below max": (VALID.replace("min = 0", "min = 10"), ["field 'score'", "'min' must be below 'max'"]),
    "required not a bool": (VALID.replace('label = "Your answer"', 'label = "Your answer"\nrequired = "yes"'),
                            ["field 'answer'", "'required' must be bool"]),
    "minutes out of range": (VALID.replace("minutes = 10", "minutes = 0"), ["'minutes'"]),
    "minutes a bool": (VALID.replace("minutes = 10", "minutes = true"), ["'minutes' must be int"]),
    "bad room view": (VALID.replace('view = "wall"', 'view = "carousel"'), ["room.view", "'carousel'"]),
    "bad report view": (VALID.replace('view = "by_function"', 'view = "pie"'), ["report.view", "'pie'"]),
    "missing notes": (VALID.replace('[notes]\nsay = "Say this."\ndebrief = "Ask that."\n', ""), ["'notes' is missing"]),
    "no fields": (VALID.split("[[fields]]")[0] + '[room]\nview = "wall"\nheadline = "x"\n[report]\nview = "ranked"\n',
                  ["'fields' is missing"]),
    "handoff naming no field": (VALID + '\n[handoff]\nstage = "answer"\nto_function = "nobody"\n',
                                ["handoff.to_function", "'nobody'"]),
    "handoff without to_function": (VALID + '\n[handoff]\nstage = "answer"\n', ["handoff needs"]),
    "unknown handoff role": (VALID + '\n[handoff]\nstage = "answer"\nto_function = "mood"\nvibe = "mood"\n',
                             ["handoff.vibe"]),
}


@pytest.mark.parametrize("text, expected", BROKEN.values(), ids=BROKEN.keys())
def test_a_malformed_exercise_file_names_the_file_and_the_field(tmp_path, text, expected):
    write_exercise(tmp_path, VALID, "fine.toml")
    write_exercise(tmp_path, text, "broken_one.toml")
    with pytest.raises(ExerciseFileError) as info:
        load_library(tmp_path)
    message = str(info.value)
    assert message.startswith("broken_one.toml: ")
    for part in expected:
        assert part in message, message


def test_a_typo_in_a_field_key_is_reported(tmp_path):
    """`max_char = 10` (for max_chars) must not silently fall back to the default limit."""
    path = write_exercise(tmp_path, VALID.replace('label = "Your answer"', 'label = "Your answer"\nmax_char = 10'))
    with pytest.raises(ExerciseFileError) as exc:
        load_exercise_file(path)
    assert "field 'answer'" in str(exc.value) and "max_char" in str(exc.value)


def test_the_shipped_files_copied_elsewhere_still_load(tmp_path):
    for path in EXERCISES_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    assert list(load_library(tmp_path)) == list(library())
