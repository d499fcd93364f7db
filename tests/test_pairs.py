"""Retrace the steps done in pairs: proposing pairs across functions, re-pairing, late joiners, the
phases and the tally (facilitation/pairs.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from facilitation import pairs as P
from facilitation import workshops as W
from facilitation.exercises import library

RETRACE = "retrace_the_steps"
TACTICAL, STRATEGIC = library()[RETRACE].field("listening").options


class FakeClock:
    def __init__(self, now: float = 50_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def retrace_answers(teller: str, listening: str = TACTICAL, n: int = 0) -> dict:
    return {"partner": teller, "forward": f"They asked for a faster export ({n}).",
            "reversed": "Backwards, an auditor came every quarter.", "behind": f"An audit trail ({n}).",
            "anticipatory": "Offer the audit log up front.", "listening": listening}


ROOM = [("Ana", "Sales"), ("Bo", "Sales"), ("Cy", "Sales"), ("Dee", "Engineering"), ("Eli", "Support"),
        ("Fay", "Product"), ("Gus", "Engineering")]


@pytest.fixture
def paired_room(store, make_workshop, make_participant):
    w, _key = make_workshop(agenda_plan=[("over_the_wall", 10), (RETRACE, 20)])
    people = {n: make_participant(w, name=n, function=f) for n, f in ROOM}
    W.open_exercise(store, w.id, 1)
    return w, people


def test_proposal_pairs_across_functions_with_one_trio(store, paired_room):
    w, people = paired_room
    version = P.propose(store, w.id, RETRACE)
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert r.version == version == 1
    sizes = sorted(len(p.members) for p in r.pairs)
    assert sizes == [2, 2, 3]  # seven people: two pairs and a trio
    assert {m.participant_id for p in r.pairs for m in p.members} == {p.id for p in people.values()}
    for pair in r.pairs:
        assert pair.teller is not None and len(pair.listeners) == len(pair.members) - 1
        # Three of seven are Sales: the greedy rule still gives every pair two functions.
        assert len({m.function for m in pair.members}) >= 2
    assert r.unpaired == ()


def test_propose_groups_is_stable_per_seed_and_varies_across_seeds():
    people = [(i, f) for i, f in enumerate(["Sales", "Support", "Product", "Engineering"] * 3)]
    assert P.propose_groups(people, seed=4) == P.propose_groups(people, seed=4)
    assert len({str(P.propose_groups(people, seed=s)) for s in range(1, 8)}) > 1
    for s in range(1, 8):
        assert all(len({dict(people)[a], dict(people)[b]}) == 2 for a, b in P.propose_groups(people, seed=s))
    assert P.propose_groups([(1, "Sales")]) == [[1]]
    assert P.propose_groups([]) == []


def test_each_phone_reads_its_partner_and_role(store, paired_room):
    w, people = paired_room
    ids = {n: p.id for n, p in people.items()}
    P.arrange(store, w.id, RETRACE, [[ids["Ana"], ids["Dee"]], [ids["Bo"], ids["Eli"], ids["Gus"]], [ids["Cy"], ids["Fay"]]])
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert P.phone_lines(r, ids["Ana"]) == ("Pair 1 · you are the teller", "Your listener: Dee (Engineering)")
    assert P.phone_lines(r, ids["Dee"]) == ("Pair 1 · you are the listener", "Your teller: Ana (Sales)")
    assert P.phone_lines(r, ids["Bo"]) == ("Pair 2 · you are the teller",
                                           "Your listeners: Eli (Support) and Gus (Engineering)")
    assert P.phone_lines(r, ids["Gus"]) == ("Pair 2 · you are the listener",
                                            "Your teller: Bo (Sales) · also listening: Eli (Support)")


def test_facilitator_re_pairs_and_a_stale_console_is_refused(store, paired_room):
    w, people = paired_room
    ids = {n: p.id for n, p in people.items()}
    v = P.arrange(store, w.id, RETRACE, [[ids["Ana"], ids["Dee"]], [ids["Bo"], ids["Eli"], ids["Gus"]], [ids["Cy"], ids["Fay"]]])
    v = P.swap(store, w.id, RETRACE, ids["Dee"], ids["Fay"], seen_version=v)
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert [m.name for m in r.pairs[0].members] == ["Ana", "Fay"]
    assert [m.name for m in r.pairs[2].members] == ["Cy", "Dee"]
    assert P.pair_note(P.round_of(W.snapshot(store, w.id), RETRACE).pairs[2]) == ""
    v = P.move(store, w.id, RETRACE, ids["Gus"], 1, seen_version=v)
    v = P.make_teller(store, w.id, RETRACE, ids["Gus"], seen_version=v)
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert [(m.name, m.role) for m in r.pairs[0].members] == [("Gus", "teller"), ("Ana", "listener"), ("Fay", "listener")]
    # A teller moved to a new pair of their own: the pair left behind gets a teller again.
    v = P.move(store, w.id, RETRACE, ids["Bo"], None, seen_version=v)
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert [(m.name, m.role) for m in r.pairs[1].members] == [("Eli", "teller")]
    assert P.pair_note(r.pairs[1]) == "alone"
    assert [(m.name, m.role) for m in r.pairs[3].members] == [("Bo", "teller")]
    with pytest.raises(W.StaleControl, match="changed on another screen"):
        P.swap(store, w.id, RETRACE, ids["Ana"], ids["Cy"], seen_version=v - 1)
    assert P.round_of(W.snapshot(store, w.id), RETRACE).version == v
    again = P.propose(store, w.id, RETRACE, seen_version=v)
    assert again == v + 1 and sorted(len(p.members) for p in P.round_of(W.snapshot(store, w.id), RETRACE).pairs) == [2, 2, 3]


def test_late_joiners_are_placed(store, paired_room):
    w, people = paired_room
    P.propose(store, w.id, RETRACE)
    late = W.join_workshop(store, w.code, "Hal", "Support")  # eight now: the trio gives up a listener
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert sorted(len(p.members) for p in r.pairs) == [2, 2, 2, 2]
    assert r.pair_of(late.id) is not None and r.member(late.id).role == "listener"
    P.start_phase(store, w.id, RETRACE, 1)
    later = W.join_workshop(store, w.code, "Ivy", "Sales")  # while telling: a second listener, nobody moved
    r2 = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert sorted(len(p.members) for p in r2.pairs) == [2, 2, 2, 3]
    joined = r2.pair_of(later.id)
    assert "Sales" not in {m.function for m in joined.members if m.participant_id != later.id}
    before = {p.number: {m.participant_id for m in p.members} for p in r.pairs}
    assert all(before[p.number] <= {m.participant_id for m in p.members} for p in r2.pairs)


def test_people_who_joined_before_the_exercise_opened_are_placed_by_the_facilitator(store, make_workshop,
                                                                                    make_participant):
    w, _ = make_workshop(agenda_plan=[("over_the_wall", 10), (RETRACE, 20)])
    a, b = make_participant(w, "Ana", "Sales"), make_participant(w, "Dee", "Engineering")
    W.open_exercise(store, w.id, 1)
    v = P.propose(store, w.id, RETRACE)
    W.open_exercise(store, w.id, 0)
    c = make_participant(w, "Cy", "Support")  # another exercise is live: not placed at once
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert [m.name for m in r.unpaired] == ["Cy"]
    assert P.phone_lines(r, c.id)[0] == "You are not in a pair yet"
    P.place_unpaired(store, w.id, RETRACE, seen_version=v)
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert r.unpaired == () and len(r.pairs) == 1 and len(r.pairs[0].members) == 3


def test_phases_run_in_order_with_their_own_clock(store, paired_room):
    w, _people = paired_room
    clock = FakeClock()
    ex = library()[RETRACE]
    assert [p.title for p in ex.phases] == ["Tell it forward", "Retell it in reverse", "The story behind the story"]
    live = W.live_exercise(store, w.id)
    assert live.phase == 0
    P.start_phase(store, w.id, RETRACE, 1, seen_phase=0, clock=clock)
    live = W.live_exercise(store, w.id)
    assert (live.phase, live.phase_started_at) == (1, clock.now)
    assert P.phase_deadline(ex, live.phase, live.phase_started_at) == clock.now + 5 * 60
    assert P.phase_heading(ex, 1) == "Phase 1 of 3 · Tell it forward"
    signature = live.signature
    with pytest.raises(W.StaleControl):
        P.start_phase(store, w.id, RETRACE, 3, seen_phase=0, clock=clock)
    clock.now += 300
    P.start_phase(store, w.id, RETRACE, 2, seen_phase=1, clock=clock)
    live = W.live_exercise(store, w.id)
    assert live.signature != signature  # every phone redraws with the new phase
    assert "backwards" in P.role_task(ex, 2, "listener") or "before that" in P.role_task(ex, 2, "listener")
    P.start_phase(store, w.id, RETRACE, 3, seen_phase=2, clock=clock)
    P.start_phase(store, w.id, RETRACE, 4, seen_phase=3, clock=clock)
    live = W.live_exercise(store, w.id)
    assert P.phase_heading(ex, live.phase) == "All 3 phases done" and live.phase_started_at is None
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert [n for n, _t in r.phase_log] == [1, 2, 3, 4]
    with pytest.raises(W.WorkshopInputError):
        P.start_phase(store, w.id, RETRACE, 5)


def test_tally_counts_one_mark_per_pair(store, paired_room):
    w, people = paired_room
    ids = {n: p.id for n, p in people.items()}
    P.arrange(store, w.id, RETRACE, [[ids["Ana"], ids["Dee"]], [ids["Bo"], ids["Eli"], ids["Gus"]], [ids["Cy"], ids["Fay"]]])
    for n, (who, teller, mark) in enumerate([("Dee", "Ana", TACTICAL), ("Eli", "Bo", TACTICAL),
                                             ("Gus", "Bo", STRATEGIC)]):  # pair 2 sent twice: its latest counts
        assert W.submit_story(store, people[who], RETRACE, retrace_answers(teller, mark, n), f"k{n}").ok
    snap = W.snapshot(store, w.id)
    t = P.tally(library()[RETRACE], snap.stories_for(RETRACE), P.round_of(snap, RETRACE))
    assert t.counts == (("Tactical", 1), ("Strategic", 1)) and t.waiting == 1
    assert t.line() == "1 tactical · 1 strategic · 1 pair not marked yet"


def test_board_keeps_the_anonymity_rule(store, paired_room):
    w, people = paired_room
    ids = {n: p.id for n, p in people.items()}
    P.arrange(store, w.id, RETRACE, [[ids["Ana"], ids["Dee"]], [ids["Bo"], ids["Eli"], ids["Gus"]], [ids["Cy"], ids["Fay"]]])
    r = P.round_of(W.snapshot(store, w.id), RETRACE)
    assert P.board(r, show_names=True)[0] == (1, [("Teller", "Ana · Sales"), ("Listener", "Dee · Engineering")])
    anonymous = P.board(r, show_names=False)
    shown = {who for _n, lines in anonymous for _role, who in lines}
    # Three Sales people may be named; Engineering (2), Support and Product (1 each) fold together.
    assert shown == {"Sales", "Other functions"}
    assert not any(name in who for name in people for _n, lines in anonymous for _r, who in lines)


def test_exercises_without_pairs_refuse_pair_controls(store, paired_room):
    w, _people = paired_room
    with pytest.raises(W.WorkshopInputError):
        P.propose(store, w.id, "over_the_wall")


def test_archive_keeps_the_pairs_and_an_old_archive_without_them_restores(store):
    from facilitation import archive, demo

    w, _key = demo.create_demo_workshop(store)
    data = archive.export_archive(store, w.id)
    assert len(data["tables"]["pair_members"]) == 14 and len(data["tables"]["pair_rounds"]) == 1
    restored = archive.import_archive(store, data).workshop
    r = P.round_of(W.snapshot(store, restored.id), RETRACE)
    assert [(m.name, m.role) for m in r.pairs[0].members] == [("Dev", "teller"), ("Hiro", "listener")]
    assert r.phase == 4 and len(r.phase_log) == 4
    # An archive made before pairs existed: no such tables, no such references.
    old = {**data, "tables": {k: v for k, v in data["tables"].items() if not k.startswith("pair_")},
           "references": {k: v for k, v in data["references"].items() if not k.startswith("pair_")}}
    before = archive.import_archive(store, old).workshop
    snap = W.snapshot(store, before.id)
    r = P.round_of(snap, RETRACE)
    assert r.version == 0 and r.pairs == () and r.unpaired == ()
    ex = library()[RETRACE]
    # Its tally still counts the stories it has, one mark each.
    assert P.tally(ex, snap.stories_for(RETRACE), r).counts == (("Tactical", 3), ("Strategic", 2))


PARTNER = '\n[[fields]]\nname = "with"\nkind = "partner"\nlabel = "Partner"\n'
PHASE = '\n[[phases]]\ntitle = "Tell it"\nminutes = 4\nprompt = "Tell it."\n'


@pytest.mark.parametrize("change, expected", [
    (lambda v: v.replace('headline = "answer"', 'headline = "answer"\ntally = "answer"'), "room.tally must name a field of kind 'choice'"),
    (lambda v: v + PHASE, "phases are for an exercise done in pairs"),
    (lambda v: v.replace("[room]", PARTNER.strip() + "\n\n[room]") + PHASE.replace("minutes = 4", "minutes = 0"),
     "phases[0]: 'minutes' must be between 1 and 60"),
    (lambda v: v.replace("[room]", PARTNER.strip() + "\n\n[room]") + PHASE + 'teler = "typo"\n', "unknown key 'teler'"),
    (lambda v: v.replace("[room]", PARTNER.strip() + "\n\n[room]") + '\n[[phases]]\ntitle = "No prompt"\nminutes = 3\n',
     "'prompt' is missing"),
])
def test_phases_and_tally_in_an_exercise_file_are_checked(tmp_path, change, expected):
    from facilitation.exercises import ExerciseFileError, load_library
    from test_workshops import VALID, write_exercise

    write_exercise(tmp_path, change(VALID), "paired.toml")
    with pytest.raises(ExerciseFileError) as info:
        load_library(tmp_path)
    assert str(info.value).startswith("paired.toml: ") and expected in str(info.value), str(info.value)


def test_a_paired_exercise_file_with_phases_and_a_tally_loads(tmp_path):
    from facilitation.exercises import load_library
    from test_workshops import VALID, write_exercise

    text = VALID.replace("[room]", PARTNER.strip() + "\n\n[room]").replace(
        'headline = "answer"', 'headline = "answer"\ntally = "mood"') + PHASE + 'listener = "Listen."\n'
    write_exercise(tmp_path, text)
    [e] = load_library(tmp_path).values()
    assert e.tally == "mood" and [(p.title, p.minutes, p.prompt, p.teller, p.listener) for p in e.phases] == [
        ("Tell it", 4, "Tell it.", "", "Listen.")]
    assert P.role_task(e, 1, "teller") == "Tell it." and P.role_task(e, 1, "listener") == "Listen."
