"""The demo workshop: one customer's journey told by the whole room, across all six exercises, so a
newcomer sees a full journey map, every room view and a complete report in their first minute.

The customer is Halvorsen Foods, a frozen-food maker with two plants that buys Northwind Robotics'
line monitoring. Each person speaks for their own function, and the handoffs tell one story a
facilitator can present: Sales promised go-live in two weeks and a discount that never reached
billing; training covered the standard set-up, not Halvorsen's custom alarms, so the night shift
drowned in false alarms; the champion who bought left and nobody noticed until the renewal. Every
gap score matches its text (5 is "a canyon", 1 "barely any"), and every story is told by someone
of the function it speaks for. The receivers then say what actually arrived (What actually arrives),
several gaps carry what the customer said or showed, and the tellers say where their part ends.
"""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from . import commitments, controls, pairs, rounds, workshops
from .exercises import library
from .sample_data import EXERCISE_KEY, synthetic_snapshot
from .store import Store
from .store import workshops as workshop_rows

DEMO_TITLE = "Demo: where our customer story breaks"
ARRIVES_KEY = "what_actually_arrives"  # the receiving side of Over the wall
DEMO_ORGANISATION = "Northwind Robotics"
DEMO_CUSTOMER = "Halvorsen Foods"
# The room: (name, function). Every default function is there, the busy ones twice.
DEMO_ROOM = [
    ("Amira", "Sales"), ("Ben", "Sales"), ("Chloé", "Marketing"), ("Dev", "Engineering"), ("Elena", "Product"),
    ("Farid", "Implementation"), ("Grace", "Implementation"), ("Hiro", "Support"), ("Ines", "Support"),
    ("Jonas", "Customer success"), ("Kemi", "Customer success"), ("Lars", "Finance/billing"), ("Mei", "Leadership"),
    ("Nadia", "Engineering"),
]
DEMO_NAMES = [name for name, _function in DEMO_ROOM]


CUSTOMER_JUDGED = library()[EXERCISE_KEY].judged_by_customer


def _handoff(teller, stage, promise, experience, to, lost, gap, *, reach=None, evidence=None):
    """One sender's story; `evidence` is what the customer said or showed (the customer judged the gap),
    `reach` the stage where the teller's part of the story ends."""
    answers = dict(stage=stage, promise=promise, experience=experience, next_function=to, lost=lost, gap=gap)
    if reach:
        answers["reach"] = reach
    if evidence:
        answers.update(judged_by=CUSTOMER_JUDGED, evidence=evidence)
    return teller, answers


# Over the wall: Halvorsen's journey, stage by stage, each handoff as its sender tells it.
OVER_THE_WALL = [
    _handoff("Chloé", "Prospect", "“See every freezer line's temperature live, from the first day.”",
             "The webinar demo ran on clean lab data; Halvorsen's plants log in three different formats.",
             "Sales", "Which two lines they asked about in the webinar chat.", 2),
    _handoff("Chloé", "Renewal & expansion", "“We'd love to feature you in a case study.”",
             "The case study was drafted while Halvorsen was still angry about the false alarms.",
             "Customer success", "Whether the customer was happy before we asked them to say so in public.", 3),
    _handoff("Amira", "Sale", "“You'll be live in both plants in two weeks.”",
             "Go-live took seven weeks: the second plant's network was never in the project scope.",
             "Implementation", "The go-live date, and that there are two plants.", 5, reach="Sale",
             evidence="The plant manager's email: “You said two weeks. This is week seven.”"),
    _handoff("Amira", "Sale", "“The pilot discount runs for the whole first year.”",
             "The first invoice came at full price; the plant manager forwarded it to us with one question mark.",
             "Finance/billing", "The discount, agreed by email and never put in the order.", 4, reach="Sale",
             evidence="The first invoice, forwarded back to us with one question mark."),
    _handoff("Ben", "Sale", "“Our people will learn your alarm thresholds before go-live.”",
             "Nobody in implementation heard about the custom thresholds until the kick-off call.",
             "Implementation", "The custom alarm thresholds written down in the sales notes.", 4, reach="Sale"),
    _handoff("Ben", "Prospect", "“Tell us your three worst lines and we'll start there.”",
             "They told us, and the list was in the CRM when the deal closed.",
             "Sales", "Nothing much; the notes in the CRM were good here.", 1),
    _handoff("Lars", "Sale", "“Billing starts when you are live.”",
             "Billing started at signature, seven weeks before anything was running.",
             "Customer success", "The go-live date: billing only had the contract date.", 5, reach="Onboarding",
             evidence="Onboarding survey: 2 out of 10, “billed for a system we could not use”."),
    _handoff("Lars", "Onboarding", "“One invoice per plant, matching your purchase orders.”",
             "One invoice for both plants, which Halvorsen's accounts payable rejected twice.",
             "Customer success", "That they run one purchase order per plant.", 3),
    _handoff("Farid", "Onboarding", "“Your team is trained on your own set-up.”",
             "Training covered the standard version, not their configuration with the custom alarms.",
             "Support", "The custom alarm thresholds we agreed with the plant.", 4),
    _handoff("Farid", "Implementation", "“Alarms tuned to your freezer tolerances.”",
             "The night shift got forty false alarms a night in the first week.",
             "Support", "The workaround: silence line 3 during the defrost cycle.", 4, reach="Implementation",
             evidence="Ticket 4411: forty alarms in one night, opened by the night-shift lead."),
    _handoff("Grace", "Implementation", "“A proper handover to your success manager at go-live.”",
             "The handover was an email with a PDF, sent the day the project closed.",
             "Customer success", "Who the champion is, and what she wanted from us.", 4, reach="Implementation"),
    _handoff("Dev", "Implementation", "“The ERP connector works out of the box.”",
             "The connector needed a patch for their ERP version: three days of waiting for a fix.",
             "Support", "The constraints we found in the sales demo.", 3),
    _handoff("Nadia", "Support & adoption", "“The fix for the alarm storm ships this week.”",
             "It shipped on Thursday; support learned about it from the customer on Monday.",
             "Support", "The release note for the fix.", 3),
    _handoff("Hiro", "Support & adoption", "“Any issue gets a reply within four hours.”",
             "Replies came within four hours, each asking for the logs they had sent the week before.",
             "Engineering", "The ticket history and the logs already sent.", 3),
    _handoff("Hiro", "Support & adoption", "“Someone who knows your plant picks up.”",
             "The night-shift lead explained the plant again to a new person on every call.",
             "Customer success", "The name of the night-shift lead, the person who really uses it.", 3,
             reach="Support & adoption", evidence="“Every call I explain the plant again.” (night-shift lead, ticket 4502)"),
    _handoff("Ines", "Support & adoption", "“Once the thresholds are fixed, the alarms go quiet.”",
             "It works, quietly: the night shift stopped calling after the patch.",
             "Customer success", "Nothing much; the ticket says what changed.", 1),
    _handoff("Elena", "Support & adoption", "“The audit export is on the roadmap for this quarter.”",
             "They learned it had slipped to next year from a public release note.",
             "Engineering", "That Halvorsen's food-safety audit needs the export by March.", 4),
    _handoff("Jonas", "Renewal & expansion", "“A quarterly review with the numbers your board reads.”",
             "The reviews went well, but the champion who bought us left in June and nobody noticed until renewal.",
             "Sales", "That the champion had left, and who now signs.", 4, reach="Renewal & expansion"),
    _handoff("Kemi", "Renewal & expansion", "“The price stays the same when you add the third plant.”",
             "The expansion quote from sales showed list price for plant three.",
             "Sales", "The expansion price agreed at signing.", 3),
    _handoff("Mei", "Renewal & expansion", "“We are your partner, not your vendor.”",
             "The call with their CEO went well; nobody followed up on the three things we promised.",
             "Customer success", "The three follow-ups from the CEO call.", 3),
]

# What actually arrives: the receiving side of those handoffs, each answered by someone of the receiving function.
ARRIVES = [
    ("Farid", dict(handoff="Sales @ Sale", arrived="A signed order and a kick-off date.",
                   missing="That there are two plants, the go-live date Sales promised, and the custom alarm thresholds.")),
    ("Lars", dict(handoff="Sales @ Sale", arrived="The contract, at list price.",
                  missing="The pilot discount agreed by email: we learned it from the customer's reply to the invoice.")),
    ("Hiro", dict(handoff="Implementation @ Implementation", arrived="A go-live ticket with the standard set-up attached.",
                  missing="The custom thresholds and the defrost workaround: the night shift told us, at 3 a.m.")),
    ("Ines", dict(handoff="Engineering @ Support & adoption", arrived="Nothing: the customer told us the fix had shipped.",
                  missing="The release note, and which customers were waiting for it.")),
    ("Jonas", dict(handoff="Implementation @ Implementation", arrived="A PDF, the day the project closed.",
                   missing="Who the champion is and what she wanted from us: we met her once, at the renewal.")),
    ("Kemi", dict(handoff="Finance/billing @ Sale", arrived="Nothing: the first we heard of billing was an angry call.",
                  missing="That billing had started seven weeks before anything was running.")),
    ("Dev", dict(handoff="Support @ Support & adoption", arrived="A ticket with a one-line summary.",
                 missing="The logs the customer had already sent, and the ticket's history.")),
    ("Amira", dict(handoff="Customer success @ Renewal & expansion", arrived="A renewal date in the CRM.",
                   missing="That the champion had left and who signs now: we found out on the renewal call.")),
]

# Always be storytelling: a remark per person, heard where their function meets Halvorsen.
VOICE_OF_THE_CUSTOMER = [
    ("Amira", dict(remark="“Your sales team understood our plant better than our own IT did.”", heard_at="Sale",
                   company_story="We won our biggest account because someone walked the factory floor before the demo.",
                   retold_today="Pre-sales still asks for a floor walk, but only when the deal is big enough.",
                   term="Pipeline", plain_meaning="The customers who might buy, and how likely each one is.")),
    ("Ben", dict(remark="“We bought the people who listened, not the sensors.”", heard_at="Sale",
                 company_story="The first contract was signed on a napkin after a three-hour plant visit.",
                 retold_today="We tell new sellers the napkin story, but nobody visits plants any more.",
                 term="Qualified lead", plain_meaning="Someone who has a real problem, a budget and the power to say yes.")),
    ("Chloé", dict(remark="“The webinar showed a plant that looks nothing like ours.”", heard_at="Prospect",
                   company_story="Our first brochure used photos from a customer's real freezer hall.",
                   retold_today="Today's demos run on tidy lab data.",
                   term="MQL", plain_meaning="Someone who showed interest, for example by joining a webinar.")),
    ("Farid", dict(remark="“Training was great — for the version we are not running.”", heard_at="Onboarding",
                   company_story="Our trainers used to ship with a laptop image of the customer's exact set-up.",
                   retold_today="Implementation records short videos on the customer's own configuration.",
                   term="Tenant", plain_meaning="Your company's own private space inside our system.")),
    ("Grace", dict(remark="“Who do we call now that the project team has gone?”", heard_at="Implementation",
                   company_story="The first project lead gave customers her mobile number, and still gets calls.",
                   retold_today="Go-live ends with a handover email.",
                   term="Hypercare", plain_meaning="The first weeks after go-live, when the project team still answers.")),
    ("Hiro", dict(remark="“I don't need more features, I need to know who to call when the line stops.”",
                  heard_at="Support & adoption",
                  company_story="The founders drove four hours to fix the first customer's install on a Sunday.",
                  retold_today="Now the on-call engineer joins the customer's shift change by video.",
                  term="SLA", plain_meaning="How fast we promise to answer, and what happens if we don't.")),
    ("Ines", dict(remark="“Since the patch, the night shift sleeps. Well, works.”", heard_at="Support & adoption",
                  company_story="Support once kept a paper log of every customer's night-shift lead.",
                  retold_today="The names are in the CRM, if someone types them in.",
                  term="Escalation", plain_meaning="Passing a problem to someone who can decide or fix more.")),
    ("Dev", dict(remark="“Your connector is the first one our ERP people did not complain about.”",
                 heard_at="Implementation",
                 company_story="The first connector was written on site, in the customer's server room.",
                 retold_today="Connectors are tested against a list of ERP versions, not the customer's own.",
                 term="Patch", plain_meaning="A small fix to the software, shipped between bigger releases.")),
    ("Elena", dict(remark="“We need the audit export before March, or the auditor comes back.”",
                   heard_at="Support & adoption",
                   company_story="The audit export began as one customer's spreadsheet macro.",
                   retold_today="It is a roadmap line with no customer's name on it.",
                   term="Roadmap", plain_meaning="What we plan to build next, and roughly when; plans can move.")),
    ("Jonas", dict(remark="“Your quarterly review is the only report our board actually reads.”",
                   heard_at="Renewal & expansion",
                   company_story="Our first success manager printed the review and brought cake.",
                   retold_today="Reviews are slides sent the day before.",
                   term="Churn", plain_meaning="Customers who leave, or stop renewing.")),
    ("Lars", dict(remark="“The invoice looked nothing like the quote, and nobody could explain why.”",
                  heard_at="Onboarding",
                  company_story="Our first controller printed every invoice and read it before it went out.",
                  retold_today="Billing now checks the first three invoices of every new account.",
                  term="Proration", plain_meaning="Paying only for the part of the month you actually used it.")),
    ("Mei", dict(remark="“We want to grow with you, but we need to see the next three years.”",
                 heard_at="Renewal & expansion",
                 company_story="The founders promised the first customer they would never be sold to a competitor.",
                 retold_today="Leadership shares the roadmap with the ten biggest accounts every year.",
                 term="ARR", plain_meaning="What all customers pay us in a year, if nobody leaves.")),
]
# Retrace the steps: (teller, partner, answers).
RETRACE = [
    ("Hiro", "Dev", dict(
        forward="Halvorsen complained about slow support replies, so we added two people to the queue.",
        reversed="Going back from the complaint: the replies were slow because every ticket arrived without the "
                 "line number, because the alarm screen on the line doesn't show it.",
        behind="The delay was in the question we never asked, not in the people answering.",
        anticipatory="Put the line number and the last alarm in the ticket automatically from the device.",
        listening="Tactical: we stopped once we had what our job needed")),
    ("Jonas", "Amira", dict(
        forward="They asked for a faster export. We built it. They still exported to the same spreadsheet every Friday.",
        reversed="Starting from Friday: the plant manager prints the spreadsheet for a meeting with the owner. "
                 "The owner wants one number: how many pallets left the freezer late.",
        behind="Nobody wanted an export. They wanted to stop preparing the Friday meeting by hand.",
        anticipatory="A weekly late-pallets summary emailed to the owner, with the detail one click away.",
        listening="Strategic: we kept listening past our own goal")),
    ("Farid", "Lars", dict(
        forward="Halvorsen disputed the second invoice. We sent a credit note and closed the ticket.",
        reversed="From the credit note back: their controller had split the order across two cost centres, one per "
                 "plant, and our invoice could only name one.",
        behind="They needed each plant to see its own cost, because each plant manager defends a separate budget.",
        anticipatory="Ask for one billing contact and cost centre per site when the order is signed.",
        listening="Tactical: we stopped once we had what our job needed")),
    ("Elena", "Ines", dict(
        forward="The night shift kept calling about false alarms until we raised the thresholds.",
        reversed="Going back from the fix: the alarms had started the week a new line opened, and the shift lead "
                 "had been told to call for every alarm after a spoiled batch last year.",
        behind="They were afraid of a second spoiled batch, not annoyed by noise.",
        anticipatory="A threshold review for every new line, with the shift lead in the room.",
        listening="Strategic: we kept listening past our own goal")),
    ("Ben", "Grace", dict(
        forward="Go-live at the second plant slipped two weeks because the network was not ready.",
        reversed="From the delay back to the sale: nobody asked who runs IT at the second plant; it is a "
                 "contractor who books changes a month ahead.",
        behind="The plant's IT contractor needed a month's notice, which is how they keep their own promises.",
        anticipatory="Name each site's IT owner on the order form and book them before kick-off.",
        listening="Tactical: we stopped once we had what our job needed")),
]
# The pairs the facilitator settled on for it (teller first): each listener above sends for their pair.
RETRACE_PAIRS = [("Dev", "Hiro"), ("Amira", "Jonas"), ("Lars", "Farid"), ("Ines", "Elena"), ("Grace", "Ben"),
                 ("Kemi", "Nadia"), ("Mei", "Chloé")]
# Half the story: (teller, answers, [(who builds on it, addition)]). The most built-on cards grow.
HALF_THE_STORY = [
    ("Jonas", dict(number="Renewal at 112% of last year's contract", number_kind="Renewals",
                   why_bought="Their food-safety auditor flagged the paper temperature logs; they needed proof by the next audit.",
                   why_stay="Support knows their night-shift lead by name and calls before every maintenance window."),
     [("Lars", "Finance adds: since the second invoice, billing has never surprised them."),
      ("Hiro", "Support adds: the night-shift lead calls us first now, before their own maintenance team."),
      ("Mei", "Leadership adds: their owner told our CEO the audit was the first one they passed without a finding.")]),
    ("Amira", dict(number="Sales cycle: 4 months, against 9 on average", number_kind="Revenue",
                   why_bought="A competitor's freezer failure cost them a weekend of production and a retailer's trust.",
                   why_stay="The quarterly review shows them numbers their board actually reads."),
     [("Elena", "From Product: they are the customer who asked for the audit export we now plan for everyone.")]),
    ("Ines", dict(number="Tickets: 40 a week → 3 after the threshold patch", number_kind="Support tickets",
                  why_bought="They wanted fewer surprises on the night shift.",
                  why_stay="The alarms now mean something: when one goes off, someone walks to the freezer."),
     [("Farid", "Implementation adds: the patch was the workaround we found in week one, finally written down."),
      ("Nadia", "Engineering adds: we made that threshold the default for every frozen-food customer.")]),
    ("Elena", dict(number="Daily active users per plant: 23", number_kind="Usage",
                   why_bought="I don't know why they bought. I only see that the quality team logs in before the line starts.",
                   why_stay="My guess: the morning checklist replaced a clipboard, and nobody wants the clipboard back."),
     []),
    ("Kemi", dict(number="NPS 9 from the plant manager, 6 from the owner", number_kind="NPS / CSAT",
                  why_bought="The plant manager chose us; the owner signed because the insurer asked for monitoring.",
                  why_stay="The plant manager stays for the alarms. The owner is still waiting to see the money."),
     [("Ben", "Sales adds: the owner asked me twice what the monitoring saves them. We never sent the numbers.")]),
    ("Lars", dict(number="Days to pay our invoice: 58, against 30 agreed", number_kind="Revenue",
                  why_bought="They bought for the second plant first, where the auditor was strictest.",
                  why_stay="Probably not for our invoices: each one goes to three people before anyone pays it."),
     []),
]
# Untold retention stories: (teller, answers); the room's dots then pick the ones to tell prospects.
# Ines's story is not cleared for retelling: the room sees it, the report and story bank never do.
RETENTION = [
    ("Farid", dict(practice="A check-in call the evening before every go-live",
                   story="We called the night before go-live to test the VPN. It had expired; we renewed it with "
                         "Halvorsen's IT before anyone on the shop floor noticed.",
                   said_after="Their IT lead asked us to run the same call before their next upgrade, with another supplier.",
                   may_retell="Yes, as it is written", teller="Implementation", audience="Prospects close to signing")),
    ("Lars", dict(practice="Reading the first three invoices of every new account",
                  story="We caught the double charge on the second plant and sent the correction before Halvorsen "
                        "saw the invoice.", said_after="“First supplier who told us about a mistake before we found it.”",
                  may_retell="Yes, without naming the customer", teller="Finance/billing",
                  audience="New customers at onboarding")),
    ("Hiro", dict(practice="Staying on the call until the customer's own shift confirms it works",
                  story="Our engineer stayed on the line until Halvorsen's night shift ran the first real batch. "
                        "The plant manager still mentions it.",
                  said_after="The plant manager put our support number on the wall next to the fire exit plan.",
                  may_retell="Yes, as it is written", teller="Support", audience="Prospects, early in the sale")),
    ("Kemi", dict(practice="Sending the renewal quote a full budget cycle early",
                  story="We sent the quote three months early so Halvorsen's budget could include the third plant.",
                  said_after="Their finance director asked for the quote early again the next year.",
                  may_retell="Yes, without naming the customer", teller="Customer success", audience="Customers at renewal")),
    ("Ines", dict(practice="Calling back after every ticket we close, a week later",
                  story="A week after closing a ticket I called Halvorsen back: the fix had broken their label printer. "
                        "We fixed it before their audit; they asked us to keep it between us.",
                  said_after="“Thank you for not making this a case study.”",
                  may_retell="No, it stays in this room", teller="Support", audience="Prospects close to signing")),
    ("Nadia", dict(practice="Reading each release note against the customer's own set-up",
                   story="Before every release I check it against Halvorsen's custom alarms. Once it would have "
                         "silenced the freezer alarm; we held the update for them for a week.",
                   may_retell="Yes, as it is written", teller="Engineering", audience="Prospects close to signing")),
]
# Who puts their dots where (two each): Hiro's night-shift story and Lars's invoice check win, and
# go into the report's story bank; Ines's call-back stays in the room (not cleared for retelling).
RETENTION_VOTES = {
    "Amira": ("Hiro", "Lars"), "Ben": ("Hiro", "Farid"), "Chloé": ("Hiro", "Kemi"), "Dev": ("Hiro", "Lars"),
    "Elena": ("Lars", "Farid"), "Farid": ("Hiro", "Lars"), "Grace": ("Hiro", "Farid"), "Hiro": ("Lars", "Kemi"),
    "Ines": ("Hiro", "Lars"), "Jonas": ("Hiro", "Kemi"), "Kemi": ("Hiro", "Lars"), "Lars": ("Hiro", "Farid"),
    "Mei": ("Hiro", "Lars"), "Nadia": ("Lars", "Farid"),
}
# Always be storytelling is played in its three rounds; then the terminology wall, guess first:
# (term, [(who guesses, what they think it means)]). The last term is up and still being guessed.
GUESS_FIRST = [
    ("SLA", [("Amira", "The discount we give big customers"), ("Farid", "Our support plan, the paid one"),
             ("Lars", "The contract's small print nobody reads"), ("Mei", "How fast support answers")]),
    ("Hypercare", [("Ben", "Extra support for our most important customers"), ("Hiro", "The premium support tier"),
                   ("Lars", "A training course after the sale")]),
    ("Proration", [("Amira", "A discount for paying upfront"), ("Dev", "Splitting the invoice per plant"),
                   ("Hiro", "A refund when something breaks")]),
]


def _in(days: int, clock) -> str:
    """A commitment's date, `days` after the day the demo is made (a demo made any day has dates to come)."""
    return (dt.date.fromtimestamp(clock()) + dt.timedelta(days=days)).isoformat()


# One millimeter forward: each commitment answers one of the handoffs above (or a story of the day),
# connects to another function, and has a date in the weeks after the demo is made (days from then).
# Nobody connects to Marketing, Engineering, Product or Leadership: the board says so.
COMMITMENTS = [
    ("Amira", dict(action="Put the go-live date, the plants and the champion in every handoff note",
                   serves=("Sales", "Implementation", "Sale"), connects_to="Implementation", by_when=13)),
    ("Ben", dict(action="Copy every discount into the order, not only the email",
                 serves=("Sales", "Finance/billing", "Sale"), connects_to="Finance/billing", by_when=9)),
    ("Farid", dict(action="Train on the customer's own configuration, alarms included",
                   serves=("Implementation", "Support", "Onboarding"), connects_to="Support", by_when=16)),
    ("Grace", dict(action="Hold a live handover meeting with the success manager at every go-live",
                   serves=("Implementation", "Customer success", "Implementation"), connects_to="Customer success",
                   by_when=37)),
    ("Hiro", dict(action="Write the night-shift lead's name on the account, and read it before calling",
                  serves="Always be storytelling · “I don't need more features, I need to know who to call when the line stops.”",
                  connects_to="Customer success", by_when=10)),
    ("Nadia", dict(action="Send support the release note the day a customer's fix ships",
                   serves=("Engineering", "Support", "Implementation"), connects_to="Support", by_when=8)),
    ("Jonas", dict(action="Check the champion is still there before every quarterly review",
                   serves=("Customer success", "Sales", "Renewal & expansion"), connects_to="Sales", by_when=44)),
    ("Lars", dict(action="Start billing at go-live, with the date from implementation",
                  serves=("Finance/billing", "Customer success", "Sale"), connects_to="Implementation", by_when=34)),
]


def create_demo_workshop(store: Store, *, participants: int | None = None, stories: int | None = None, seed: int = 7,
                         clock=time.time) -> tuple[workshops.Workshop, str]:
    """Create a finished-looking workshop across the whole agenda; returns it and its facilitator key.

    Everything goes through the same rules as a live session (join, open, submit, vote, close), so
    the demo is exactly what a real room would have produced. The room is left on What actually
    arrives (the receivers' round of the first exercise), with its journey map full on both sides. `participants` and `stories` make a bigger room for
    load and layout tests: synthetic people and "Over the wall" stories join the demo's own.
    """
    workshop, key = workshops.create_workshop(
        store, title=DEMO_TITLE, organisation=DEMO_ORGANISATION, facilitator="Demo facilitator", clock=clock)
    people = {name: workshops.join_workshop(store, workshop.code, name, function, clock=clock)
              for name, function in DEMO_ROOM}
    positions = {i.exercise_key: i.position for i in workshops.agenda(store, workshop.id)}
    lib = library()

    def run(exercise_key: str, told: list[tuple[str, dict]], prepare=None) -> list[workshops.Story]:
        workshops.open_exercise(store, workshop.id, positions[exercise_key], clock=clock)
        if prepare is not None:
            prepare()
        made = []
        for n, (teller, answers) in enumerate(told):
            result = workshops.submit_story(store, people[teller], exercise_key, answers, f"demo-{exercise_key}-{n}",
                                            clock=clock)
            if result.story is None:
                raise RuntimeError(f"demo story for {exercise_key} was refused: {result.problems}")
            made.append(result.story)
        return made

    # Over the wall first, so that commitments can serve its handoffs; it is opened again last, so the
    # room is left on the journey map.
    if EXERCISE_KEY in positions:
        run(EXERCISE_KEY, OVER_THE_WALL)
        workshops.close_exercise(store, workshop.id, clock=clock)
    for exercise_key in positions:
        if exercise_key in (EXERCISE_KEY, ARRIVES_KEY):
            continue  # Over the wall ran first; its receivers answer last
        if exercise_key == "always_be_storytelling":
            _storytelling_in_rounds(store, workshop, people, positions[exercise_key], clock)
        elif exercise_key == "retrace_the_steps":
            partner = lib[exercise_key].partner_field.name

            def pair_up(key=exercise_key):
                # The facilitator's pairs, and the three phases run one after the other.
                pairs.arrange(store, workshop.id, key, [[people[n].id for n in group] for group in RETRACE_PAIRS])
                start = clock()
                for phase in range(1, len(lib[key].phases) + 2):  # each phase its planned minutes after the last
                    at = start + sum(p.minutes * 60 for p in lib[key].phases[:phase - 1])
                    pairs.start_phase(store, workshop.id, key, phase, clock=lambda at=at: at)

            run(exercise_key, [(teller, dict(a, **{partner: with_whom})) for teller, with_whom, a in RETRACE],
                prepare=pair_up)
        elif exercise_key == "half_the_story":
            told = run(exercise_key, [(teller, a) for teller, a, _additions in HALF_THE_STORY])
            for story, (_teller, _a, additions) in zip(told, HALF_THE_STORY):
                for n, (who, text) in enumerate(additions):
                    controls.build_on(store, people[who], story.id, text, f"demo-build-{story.id}-{n}", clock=clock)
        elif exercise_key == "untold_retention_stories":
            told = dict(zip((teller for teller, _a in RETENTION), run(exercise_key, RETENTION)))
            controls.set_voting(store, workshop.id, positions[exercise_key], "open", dots=2)
            for voter, choices in RETENTION_VOTES.items():
                for teller in choices:
                    controls.cast_vote(store, people[voter], told[teller].id, clock=clock)
            controls.set_voting(store, workshop.id, positions[exercise_key], "closed")
        elif exercise_key == "one_millimeter_forward":
            workshops.open_exercise(store, workshop.id, positions[exercise_key], clock=clock)
            options = commitments.serve_options(workshops.snapshot(store, workshop.id))
            told = []
            for who, a in COMMITMENTS:
                serves = (commitments.handoff_label(*a["serves"]) if isinstance(a["serves"], tuple) else a["serves"])
                if serves not in options:
                    raise RuntimeError(f"demo commitment of {who} serves nothing the room told: {serves}")
                told.append((who, dict(a, serves=serves, by_when=_in(a["by_when"], clock))))
            run(exercise_key, told)
        else:  # an exercise added to the library later: left empty in the demo
            workshops.open_exercise(store, workshop.id, positions[exercise_key], clock=clock)
        workshops.close_exercise(store, workshop.id, clock=clock)
    if EXERCISE_KEY in positions:
        workshops.open_exercise(store, workshop.id, positions[EXERCISE_KEY], clock=clock)
    if participants or stories:
        _add_a_crowd(store, workshop, participants or len(DEMO_ROOM), stories or 0, seed, clock)
    if ARRIVES_KEY in positions:  # the receivers answer last: the room is left on the map with both sides
        workshops.close_exercise(store, workshop.id, clock=clock)
        run(ARRIVES_KEY, ARRIVES)
    return workshops.get_workshop(store, workshop.id), key


def _storytelling_in_rounds(store: Store, workshop: workshops.Workshop, people: dict, position: int, clock) -> None:
    """Always be storytelling as a facilitator runs it: each round sent on its own, the room moved on
    from the console, then the terminology wall played guess first (two terms revealed, one up)."""
    key = "always_be_storytelling"
    exercise = library()[key]
    workshops.open_exercise(store, workshop.id, position, clock=clock)
    stories: dict[str, int] = {}
    for index in range(len(exercise.rounds)):
        if index:
            rounds.set_round(store, workshop.id, position, index, exercise_key=key, clock=clock)
        for who, a in VOICE_OF_THE_CUSTOMER:
            answers = {f.name: dict(a, heard_in=people[who].function).get(f.name) for f in exercise.round_fields(index)}
            result = rounds.submit_round(store, people[who], key, index, answers, f"demo-{key}-{who}-r{index}",
                                         story_id=stories.get(who), clock=clock)
            if result.story is None:
                raise RuntimeError(f"demo round {index + 1} of {who} was refused: {result.problems}")
            stories[who] = result.story.id
    by_term = {a["term"]: stories[who] for who, a in VOICE_OF_THE_CUSTOMER}
    for n, (term, guessed) in enumerate(GUESS_FIRST):
        rounds.put_up_term(store, workshop.id, by_term[term], clock=clock)
        for who, text in guessed:
            if problem := rounds.submit_guess(store, people[who], by_term[term], text, clock=clock):
                raise RuntimeError(f"demo guess of {who} at {term} was refused: {problem}")
        if n < len(GUESS_FIRST) - 1:
            rounds.reveal_term(store, workshop.id, by_term[term], clock=clock)


def _add_a_crowd(store: Store, workshop: workshops.Workshop, participants: int, stories: int, seed: int, clock) -> None:
    """Synthetic people and "Over the wall" stories on top of the demo's own (a bigger room for tests)."""
    extra = max(0, participants - len(DEMO_ROOM))
    sample = synthetic_snapshot(participants=max(1, extra), stories=stories, seed=seed,
                                functions=workshop.functions, stages=workshop.stages)
    people = {p.id: workshops.join_workshop(store, workshop.code, _demo_name(len(DEMO_ROOM) + i), p.function, clock=clock)
              for i, p in enumerate(sample.participants[:max(1, extra)])}
    for n, story in enumerate(sample.stories):
        workshops.submit_story(store, people[story.participant_id], EXERCISE_KEY, story.answers, f"demo-{seed}-{n}",
                               clock=clock)


def _demo_name(i: int) -> str:
    """Distinct first names; past the room, a second round with an initial."""
    name = DEMO_NAMES[i % len(DEMO_NAMES)]
    return name if i < len(DEMO_NAMES) else f"{name} {chr(ord('A') + i // len(DEMO_NAMES) - 1)}."


def database_is_empty(store: Store) -> bool:
    """True before the first workshop is created (the join page then leads with the demo)."""
    with store.read() as conn:
        return conn.execute(sa.select(workshop_rows.c.id).limit(1)).first() is None
