"""Synthetic workshops for tests, benchmarks and demos: realistic, reproducible, no database.

`synthetic_snapshot()` builds a `Snapshot` of an "Over the wall" session directly from the
dataclasses: participants spread over the workshop's functions, each telling stories about
the stage they own, whom they hand the customer to, what gets lost and how big the gap
feels. Handoffs mostly follow a plausible chain (Marketing → Sales → Implementation →
Support → Customer success) with some noise, as a real room would produce.
"""

from __future__ import annotations

import random

from .workshops import DEFAULT_FUNCTIONS, DEFAULT_STAGES, Participant, Snapshot, Story, Workshop

EXERCISE_KEY = "over_the_wall"

# Where each function usually meets the customer (stage weights) and whom it usually hands on to.
_OWNS = {
    "Sales": {"Prospect": 2, "Sale": 6},
    "Marketing": {"Prospect": 6, "Sale": 1, "Renewal & expansion": 1},
    "Engineering": {"Implementation": 4, "Support & adoption": 3},
    "Product": {"Onboarding": 1, "Implementation": 2, "Support & adoption": 3},
    "Implementation": {"Onboarding": 5, "Implementation": 5},
    "Support": {"Support & adoption": 7, "Implementation": 1},
    "Customer success": {"Onboarding": 2, "Support & adoption": 3, "Renewal & expansion": 5},
    "Finance/billing": {"Sale": 3, "Renewal & expansion": 3},
    "Leadership": {"Sale": 1, "Renewal & expansion": 2, "Prospect": 1},
}
_NEXT = {
    "Sales": ["Implementation", "Customer success"],
    "Marketing": ["Sales"],
    "Engineering": ["Support", "Implementation"],
    "Product": ["Engineering", "Support"],
    "Implementation": ["Support", "Customer success"],
    "Support": ["Customer success", "Engineering"],
    "Customer success": ["Sales", "Finance/billing"],
    "Finance/billing": ["Customer success"],
    "Leadership": ["Sales", "Customer success"],
}
_PROMISES = [
    "You'll be live in two weeks, with your own data.",
    "One named contact who knows your account from day one.",
    "The integration with your ERP works out of the box.",
    "Training for the whole team is included in the price.",
    "We'll tailor the reports to how your board reads numbers.",
    "Any issue gets a reply within four hours.",
    "The price stays the same when you add the second site.",
    "Your feature request is on the roadmap for this quarter.",
    "Migration is handled by us, you just approve the result.",
    "A quarterly review where we look at your results together.",
]
_EXPERIENCES = [
    "Six weeks of waiting for an import template nobody mentioned.",
    "They explain their setup again to every new person they meet.",
    "The first invoice does not match the quote and nobody can say why.",
    "Tickets bounce between two teams until the customer gives up.",
    "Training happens, but for the wrong version of the product.",
    "A friendly kick-off, then silence until the renewal letter arrives.",
    "The integration needs three paid days of consulting first.",
    "They learn about the roadmap change from a public blog post.",
    "Support asks for the same logs that were sent last week.",
    "The champion who bought us left and nobody noticed for months.",
    "Reports arrive on time, but nobody reads them with the customer.",
    "It works, quietly, and the customer starts using it every day.",
]
_LOST = [
    "The go-live date the customer was promised.",
    "Why they bought: the problem they were trying to solve.",
    "The name of the person who actually uses the product.",
    "A discount agreed by email that never reached billing.",
    "The workaround we suggested, so it gets suggested again.",
    "Their history of outages and how angry they were.",
    "The technical constraints found during the sales demo.",
    "That they were promised a named contact.",
    "The success criteria we agreed on at the start.",
    "Nothing much; the notes in the CRM are good here.",
]
_NAMES = [
    "Amira", "Ben", "Chloé", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kaito", "Lena",
    "Mateo", "Nadia", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe",
]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def synthetic_snapshot(participants: int = 300, stories: int = 1500, seed: int = 0, *,
                       functions: list[str] | None = None, stages: list[str] | None = None,
                       hidden_share: float = 0.0) -> Snapshot:
    """A reproducible workshop snapshot with `participants` people and `stories` "Over the wall" stories.

    With the default functions and stages the handoffs follow a plausible chain; with other
    lists, stages and next functions are drawn at random. `hidden_share` of the stories are
    flagged hidden (as if the facilitator had hidden them).
    """
    rng = random.Random(seed)
    functions = list(functions or DEFAULT_FUNCTIONS)
    stages = list(stages or DEFAULT_STAGES)
    workshop = Workshop(
        id=1, code="SYNTH1", title="Synthetic workshop", organisation="Example Ltd", held_on=None,
        facilitator="Sam", functions=functions, stages=stages, show_names=True, revision=1,
        live_position=0, live_state="open", created_at=1_700_000_000.0,
    )
    people = [
        Participant(id=i + 1, workshop_id=1, token=f"tok{i + 1:05d}",
                    display_name=f"{_NAMES[i % len(_NAMES)]} {i // len(_NAMES) + 1}",
                    function=functions[i % len(functions)] if i < len(functions) else rng.choice(functions),
                    joined_at=workshop.created_at + i)
        for i in range(participants)
    ]
    told: list[Story] = []
    for n in range(stories):
        person = people[n % len(people)] if people else None
        function = person.function if person else rng.choice(functions)
        owns = {s: w for s, w in _OWNS.get(function, {}).items() if s in stages} or {s: 1 for s in stages}
        stage = _weighted(rng, owns)
        usual = [f for f in _NEXT.get(function, []) if f in functions]
        if usual and rng.random() < 0.8:
            to_function = rng.choice(usual)
        else:
            to_function = rng.choice([f for f in functions if f != function] or functions)
        stage_index = stages.index(stage)
        gap = min(5, max(1, round(rng.gauss(1.6 + 0.5 * stage_index, 1.0))))
        at = workshop.created_at + 600 + n * 2.0
        told.append(Story(
            id=n + 1, exercise_key=EXERCISE_KEY, participant_id=person.id if person else None,
            author_name=person.display_name if person else "", function=function,
            answers={
                "stage": stage,
                "promise": rng.choice(_PROMISES),
                "experience": rng.choice(_EXPERIENCES),
                "next_function": to_function,
                "lost": rng.choice(_LOST),
                "gap": gap,
            },
            hidden=rng.random() < hidden_share, created_at=at, updated_at=at,
        ))
    return Snapshot(workshop=workshop, agenda=[], participants=people, stories=told,
                    taken_at=workshop.created_at + 600 + stories * 2.0)
