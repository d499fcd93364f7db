"""The demo workshop: a newcomer's first minute shows every exercise filled in."""

from collections import Counter

from facilitation import demo, journey_map, room, workshops as W
from facilitation.exercises import library


def test_demo_fills_every_exercise_and_leaves_the_map_live(store):
    assert demo.database_is_empty(store)
    workshop, key = demo.create_demo_workshop(store)
    assert not demo.database_is_empty(store)
    assert W.facilitator_workshop(store, workshop.code, key) == workshop
    snap = W.snapshot(store, workshop.id)
    told = Counter(s.exercise_key for s in snap.stories if s.builds_on is None)
    assert set(told) == set(library())  # every exercise has stories
    assert W.live_exercise(store, workshop.id).exercise.key == "what_actually_arrives"  # the map, both sides
    journey = journey_map.build_journey(snap)
    assert journey.story_count >= 20 and journey.handoffs
    retention = snap.stories_for("untold_retention_stories")
    ranked = room.ranked(retention, snap.vote_counts())
    assert ranked[0][1] > ranked[-1][1]  # the vote picked favourites
    assert any(snap.build_ons(s.id) for s in snap.stories_for("half_the_story"))
    assert len({p.display_name for p in snap.participants}) == len(snap.participants)


def test_the_demo_tells_one_customers_journey_a_facilitator_can_present(store):
    """Old demo: random phrase combinations ("Marketing at Prospect experiences: the integration needs
    three paid days of consulting"; "It works, quietly" rated 4/5). Now one customer, told coherently."""
    from facilitation import sample_data

    workshop, _key = demo.create_demo_workshop(store)
    snap = W.snapshot(store, workshop.id)
    wall = snap.stories_for("over_the_wall")
    pool = set(sample_data._EXPERIENCES) | set(sample_data._PROMISES)
    assert not [s for s in wall if s.answers["experience"] in pool or s.answers["promise"] in pool]
    # Every function speaks, and each only for its own part of the customer's life.
    assert {s.function for s in wall} == set(workshop.functions)
    # Gap scores match the words: "works, quietly" / "nothing much" are small, seven weeks late is a canyon.
    for s in wall:
        words = (s.answers["experience"] + " " + s.answers["lost"]).lower()
        if "works, quietly" in words or "nothing much" in words:
            assert s.answers["gap"] == 1, s.answers
        if "seven weeks" in words:
            assert s.answers["gap"] == 5, s.answers
    # The story the facilitator presents: the widest gap is Sales promising go-live to Implementation.
    journey = journey_map.build_journey(snap)
    top = journey.handoffs[0]
    assert (top.from_function, top.to_function, top.stage) == ("Sales", "Implementation", "Sale")
    assert not journey.uncovered_stages
    # One seam nobody picks up, and it is the champion who left: no one in Sales tells a renewal story.
    assert [(h.from_function, h.to_function, h.stage) for h in journey.dead_ends] == [
        ("Customer success", "Sales", "Renewal & expansion")]
    # The other exercises are about the same customer and by the right people.
    for key in ("always_be_storytelling",):
        for s in snap.stories_for(key):
            assert s.answers["heard_in"] == s.function
    assert all(demo.DEMO_CUSTOMER.split()[0] in s.answers["story"] for s in snap.stories_for("untold_retention_stories"))
    for s in snap.stories_for("untold_retention_stories"):
        assert s.answers["teller"] == s.function
    winner, dots = room.ranked(snap.stories_for("untold_retention_stories"), snap.vote_counts())[0]
    assert winner.function == "Support" and dots == 11
    for s in snap.stories_for("one_millimeter_forward"):
        assert s.answers["connects_to"] != s.function
    # Always be storytelling has a remark from every function: the wall has to show them all.
    assert {s.function for s in snap.stories_for("always_be_storytelling")} == set(workshop.functions)


def test_a_bigger_demo_room_keeps_the_story_and_adds_a_crowd(store):
    workshop, _key = demo.create_demo_workshop(store, participants=30, stories=40, seed=3)
    snap = W.snapshot(store, workshop.id)
    assert len(snap.participants) == 30
    assert len(snap.stories_for("over_the_wall")) == len(demo.OVER_THE_WALL) + 40
    assert len({p.display_name for p in snap.participants}) == 30
