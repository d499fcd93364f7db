"""A demo workshop filled with realistic stories across all six exercises, so a newcomer sees a
full journey map, every room view and a complete report in their first minute."""

from __future__ import annotations

import time

import sqlalchemy as sa

from . import controls, workshops
from .exercises import library
from .sample_data import EXERCISE_KEY, synthetic_snapshot
from .store import Store
from .store import workshops as workshop_rows

DEMO_TITLE = "Demo: where our customer story breaks"
DEMO_NAMES = [
    "Amira", "Ben", "Chloé", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Lars",
    "Mei", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sam", "Tomás", "Uma", "Viktor", "Wen", "Yusuf", "Zoe",
]

VOICE_OF_THE_CUSTOMER = [
    dict(remark="“I don't need more features, I need to know who to call when the line stops.”",
         heard_in="Support", heard_at="Support & adoption",
         company_story="The founders drove four hours to fix the first customer's install on a Sunday.",
         retold_today="Now it's the on-call engineer who joins the customer's shift change by video.",
         term="SLA", plain_meaning="How fast we promise to answer, and what happens if we don't."),
    dict(remark="“Your sales team understood our plant better than our own IT did.”",
         heard_in="Sales", heard_at="Sale",
         company_story="We won our biggest account because someone walked the factory floor before the demo.",
         retold_today="Pre-sales still asks for a floor walk, but only when the deal is big enough.",
         term="Pipeline", plain_meaning="The list of customers who might buy, and how likely each one is."),
    dict(remark="“The invoice looked nothing like the quote, and nobody could explain why.”",
         heard_in="Finance/billing", heard_at="Onboarding",
         company_story="Our first controller printed every invoice and read it before it went out.",
         retold_today="Billing runs a check on the first three invoices of every new account.",
         term="Proration", plain_meaning="Paying only for the part of the month you actually used it."),
    dict(remark="“Training was great — for the version we are not running.”",
         heard_in="Implementation", heard_at="Implementation",
         company_story="Our trainers used to ship with a laptop image of the customer's exact setup.",
         retold_today="Implementation records short videos on the customer's own configuration.",
         term="Tenant", plain_meaning="Your company's own private space inside our system."),
]
RETRACE = [
    dict(forward="They asked for a faster export. We built it. They still exported to the same spreadsheet every Friday.",
         reversed="Starting from Friday: the plant manager prints the spreadsheet for a meeting with the owner. "
                  "The owner wants one number: how many orders shipped late.",
         behind="Nobody wanted an export. They wanted to stop preparing the Friday meeting by hand.",
         anticipatory="A weekly late-orders summary emailed to the owner, with the detail one click away.",
         listening="Tactical: we stopped once we had what our job needed"),
    dict(forward="The customer complained about slow support replies, so we added two people to the queue.",
         reversed="Going back from the complaint: the tickets were slow because they arrived without the serial number, "
                  "because the form on the device's screen doesn't ask for it.",
         behind="The delay was in the question we never asked, not in the people answering.",
         anticipatory="Put the serial number in the ticket automatically from the device.",
         listening="Strategic: we kept listening past our own goal"),
]
HALF_THE_STORY = [
    dict(number="Net revenue retention 112%", number_kind="Revenue",
         why_bought="Their auditor flagged manual temperature logs; they needed proof by the next audit.",
         why_stay="Support knows their night-shift lead by name and calls before maintenance windows."),
    dict(number="Renewal rate 91% in the mid-market segment", number_kind="Renewals",
         why_bought="A competitor's outage cost them a weekend of production.",
         why_stay="The quarterly review shows them numbers their board actually reads."),
]
HALF_ADDITIONS = [
    "Finance adds: they also stay because billing has never surprised them since the first quarter.",
    "From Product: they are the customer who asked for the audit export we now sell to everyone.",
]
RETENTION = [
    dict(practice="A check-in call the evening before every go-live",
         story="We called the night before go-live to test the VPN. It had expired; we renewed it with their IT "
               "before anyone on the shop floor noticed.", teller="Implementation", audience="Prospects close to signing"),
    dict(practice="Reading the first three invoices of every new account",
         story="We caught a double charge on a new account and sent the correction before they saw the first invoice.",
         teller="Finance/billing", audience="New customers at onboarding"),
    dict(practice="Staying on the call until the customer's own shift confirms it works",
         story="Our engineer stayed until their night shift ran the first real batch. The plant manager still mentions it.",
         teller="Support", audience="Prospects, early in the sale"),
    dict(practice="Sending the renewal quote a full budget cycle early",
         story="We sent the quote three months early so the customer's budget could include the second site.",
         teller="Customer success", audience="Customers at renewal"),
]
COMMITMENTS = [
    dict(action="Add the customer's go-live date and champion to every handoff note", serves="Sales → Implementation handoff",
         connects_to="Implementation", by_when="2026-12-15"),
    dict(action="Invite support to the last sales call of every deal over 50k", serves="The 'who do I call' story",
         connects_to="Support", by_when="2026-12-20"),
    dict(action="Share the first-three-invoices check as a one-page story for prospects", serves="Untold retention story",
         connects_to="Marketing", by_when="2027-01-10"),
    dict(action="Record the training on the customer's own configuration", serves="Training for the wrong version",
         connects_to="Customer success", by_when="2026-12-18"),
]


def create_demo_workshop(store: Store, *, participants: int = 14, stories: int = 28, seed: int = 7,
                         clock=time.time) -> tuple[workshops.Workshop, str]:
    """Create a finished-looking workshop across the whole agenda; returns it and its facilitator key.

    Everything goes through the same rules as a live session (join, open, submit, vote, close), so
    the demo is exactly what a real room would have produced. The room is left on the first
    exercise, with its journey map full.
    """
    sample = synthetic_snapshot(participants=participants, stories=stories, seed=seed)
    workshop, key = workshops.create_workshop(
        store, title=DEMO_TITLE, organisation="Northwind Robotics", facilitator="Demo facilitator",
        functions=sample.workshop.functions, stages=sample.workshop.stages, clock=clock)
    people = {p.id: workshops.join_workshop(store, workshop.code, _demo_name(i), p.function, clock=clock)
              for i, p in enumerate(sample.participants)}
    crowd = list(people.values())
    positions = {i.exercise_key: i.position for i in workshops.agenda(store, workshop.id)}
    lib = library()

    def run(exercise_key: str, answer_sets: list[dict], authors: list[workshops.Participant]) -> list[workshops.Story]:
        workshops.open_exercise(store, workshop.id, positions[exercise_key], clock=clock)
        told = []
        for n, (answers, author) in enumerate(zip(answer_sets, authors)):
            result = workshops.submit_story(store, author, exercise_key, answers, f"demo-{exercise_key}-{n}", clock=clock)
            if result.story is None:
                raise RuntimeError(f"demo story for {exercise_key} was refused: {result.problems}")
            told.append(result.story)
        return told

    def by_function(function: str, fallback: int) -> workshops.Participant:
        return next((p for p in crowd if p.function == function), crowd[fallback % len(crowd)])

    for key_, sets in (("always_be_storytelling", VOICE_OF_THE_CUSTOMER), ("untold_retention_stories", RETENTION),
                       ("one_millimeter_forward", COMMITMENTS)):
        if key_ in positions:
            run(key_, sets, [crowd[(i * 3) % len(crowd)] for i in range(len(sets))])
            if key_ == "untold_retention_stories":
                told = workshops.list_stories(store, workshop.id, key_)
                controls.set_voting(store, workshop.id, positions[key_], "open", dots=2)
                for i, voter in enumerate(crowd):
                    controls.cast_vote(store, voter, told[i % len(told)].id, clock=clock)
                    if i % 2 == 0:
                        controls.cast_vote(store, voter, told[(i // 2) % 2].id, clock=clock)
                controls.set_voting(store, workshop.id, positions[key_], "closed")
            workshops.close_exercise(store, workshop.id, clock=clock)
    if "retrace_the_steps" in positions:
        tellers = [crowd[1], crowd[4]]
        partner_field = lib["retrace_the_steps"].partner_field.name
        pairs = [dict(answers, **{partner_field: crowd[(i * 4 + 2) % len(crowd)].display_name}) for i, answers in enumerate(RETRACE)]
        run("retrace_the_steps", pairs, tellers)
        workshops.close_exercise(store, workshop.id, clock=clock)
    if "half_the_story" in positions:
        told = run("half_the_story", HALF_THE_STORY, [by_function("Sales", 0), by_function("Customer success", 5)])
        for n, text in enumerate(HALF_ADDITIONS):
            controls.build_on(store, by_function(("Finance/billing", "Product")[n], 2 + n), told[n % len(told)].id, text,
                              f"demo-build-{n}", clock=clock)
        workshops.close_exercise(store, workshop.id, clock=clock)
    workshops.open_exercise(store, workshop.id, positions[EXERCISE_KEY], clock=clock)
    for n, story in enumerate(sample.stories):
        workshops.submit_story(store, people[story.participant_id], EXERCISE_KEY, story.answers, f"demo-{seed}-{n}", clock=clock)
    return workshops.get_workshop(store, workshop.id), key


def _demo_name(i: int) -> str:
    """Distinct first names; past the list, a second round with an initial."""
    name = DEMO_NAMES[i % len(DEMO_NAMES)]
    return name if i < len(DEMO_NAMES) else f"{name} {chr(ord('A') + i // len(DEMO_NAMES) - 1)}."


def database_is_empty(store: Store) -> bool:
    """True before the first workshop is created (the join page then offers the demo)."""
    with store.read() as conn:
        return conn.execute(sa.select(workshop_rows.c.id).limit(1)).first() is None
