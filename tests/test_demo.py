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
    assert W.live_exercise(store, workshop.id).exercise.key == "over_the_wall"
    journey = journey_map.build_journey(snap)
    assert journey.story_count >= 20 and journey.handoffs
    retention = snap.stories_for("untold_retention_stories")
    ranked = room.ranked(retention, snap.vote_counts())
    assert ranked[0][1] > ranked[-1][1]  # the vote picked favourites
    assert any(snap.build_ons(s.id) for s in snap.stories_for("half_the_story"))
    assert len({p.display_name for p in snap.participants}) == len(snap.participants)
