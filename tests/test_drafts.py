"""Drafts survive a refresh: what was typed is on the server before Send."""

from facilitation import drafts, workshops as W


def test_draft_round_trip(store, make_workshop, make_participant):
    w, _ = make_workshop()
    ana = make_participant(w, name="Ana", function="Sales")
    assert drafts.load_draft(store, ana, "over_the_wall") == {}
    assert drafts.save_draft(store, ana, "over_the_wall", {"promise": "Half a sentence\r\nand 🧑‍🔧", "gap": 3, "lost": ""})
    assert drafts.save_draft(store, ana, "over_the_wall", {"promise": "Half a sentence\r\nand 🧑‍🔧 more", "gap": 4})
    assert drafts.load_draft(store, ana, "over_the_wall") == {"promise": "Half a sentence\r\nand 🧑‍🔧 more", "gap": 4}
    other = make_participant(w, name="Ben", function="Support")
    assert drafts.load_draft(store, other, "over_the_wall") == {}


def test_saving_a_draft_does_not_wake_every_screen(store, make_workshop, make_participant):
    w, _ = make_workshop()
    ana = make_participant(w)
    before = W.revision(store, w.id)
    drafts.save_draft(store, ana, "over_the_wall", {"promise": "typing…"})
    assert W.revision(store, w.id) == before


def test_a_stored_story_takes_its_draft_and_a_refused_one_leaves_it(store, make_workshop, make_participant, answers):
    w, _ = make_workshop()
    ana = make_participant(w)
    W.open_exercise(store, w.id, 0)
    drafts.save_draft(store, ana, "over_the_wall", {"promise": "half typed"})
    refused = W.submit_story(store, ana, "over_the_wall", answers(experience="   "), "k-1")
    assert not refused.ok
    assert drafts.load_draft(store, ana, "over_the_wall") == {"promise": "half typed"}
    assert W.submit_story(store, ana, "over_the_wall", answers(), "k-2").created
    assert drafts.load_draft(store, ana, "over_the_wall") == {}
