"""A complete workshop, made through the same functions a live session uses: all seven exercises
answered by eight people, dots on the retention stories, additions ("build on it"), one story
told by proxy and one hidden. Used by the report, export and archive tests and by anyone who
wants to look at a full report:

    python tests/full_workshop.py out.docx      # writes the report of a fresh one
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from facilitation import controls  # noqa: E402
from facilitation import workshops as W  # noqa: E402
from facilitation.store import Store  # noqa: E402

START = 1_773_302_400.0  # 12 March 2026, 08:00 UTC
HIDDEN_TEXT = "A remark about a named colleague that the facilitator hid"

PEOPLE = [
    ("Ana Costa", "Sales"), ("Bo Lindqvist", "Support"), ("Chen Wei", "Implementation"),
    ("Dana Okafor", "Customer success"), ("Emil Novak", "Finance/billing"), ("Farah Haddad", "Engineering"),
    ("Gus Moreau", "Product"), ("Hana Sato", "Marketing"),
]

OVER_THE_WALL = {
    "Ana Costa": dict(stage="Sale", promise="You'll be live in two weeks, with your own data.",
                      experience="Six weeks of waiting for an import template nobody mentioned in the demo.",
                      next_function="Implementation", lost="The go-live date we promised, and why it mattered to them "
                      "(their board meets on the first Monday of the quarter).", gap=5),
    "Chen Wei": dict(stage="Implementation", promise="A named contact who knows your setup from day one.",
                     experience="They explain their integration again to every new support engineer.",
                     next_function="Support", lost="The integration notes and the workarounds we agreed on.", gap=4),
    "Bo Lindqvist": dict(stage="Support & adoption", promise="Any issue gets a reply within four hours.",
                         experience="Replies are quick, but tickets bounce between support and engineering.",
                         next_function="Customer success", lost="Why they bought: the problem they wanted solved.",
                         gap=3),
    "Dana Okafor": dict(stage="Renewal & expansion", promise="A quarterly review of your results, together.",
                        experience="The review happens, but the numbers come from a report nobody on their side reads.",
                        next_function="Finance/billing", lost="The discount agreed by email at the last renewal.",
                        gap=4),
    "Emil Novak": dict(stage="Sale", promise="The price stays the same when you add the second site.",
                       experience="The first invoice for the second site does not match the quote.",
                       next_function="Customer success", lost="The side letter with the price promise.", gap=5),
    "Hana Sato": dict(stage="Prospect", promise="Reports your board can read without us in the room.",
                      experience="The demo data looks nothing like theirs; they ask for a pilot.",
                      next_function="Sales", lost="Which report made them call us in the first place.", gap=2),
}

# What actually arrives: receivers answer the handoffs pointed at their function.
ARRIVES = {
    "Chen Wei": dict(handoff="Sales @ Sale", arrived="A signed order and the customer's name.",
                     missing="The go-live date they were promised, and why their board cares about it."),
    "Bo Lindqvist": dict(handoff="Implementation @ Implementation", arrived="A ticket saying 'customer is live'.",
                         missing="The integration notes; we found the workarounds in the customer's own email."),
    "Ana Costa": dict(handoff="Marketing @ Prospect", arrived="A webinar sign-up list.",
                      missing="Which report made them call us."),
}

ALWAYS = {
    "Bo Lindqvist": dict(remark="'We only found the bulk import because your support person showed it to us on a "
                                "screen share.'", heard_in="Support", heard_at="Support & adoption",
                         company_story="Our first hospital client signed because the CTO drove to their site "
                                       "overnight to fix the interface.",
                         retold_today="Support stays on the call until a customer's payroll run has finished.",
                         term="P1", plain_meaning="The customer cannot work at all, not that they are an important customer."),
    "Farah Haddad": dict(remark="'Your API is fine, it's your error messages we can't live with.'",
                         heard_in="Engineering", heard_at="Implementation",
                         company_story="The outage of 2019, when we rebuilt the queue over a weekend.",
                         retold_today="On-call engineers still write a plain-language note to affected customers.",
                         term="Done", plain_meaning="Merged and deployed to production, not just written."),
    "Ana Costa": dict(remark="'Nobody asked us how our month-end close works.'", heard_in="Sales", heard_at="Sale",
                      company_story="We won our biggest logistics customer with a spreadsheet, not a deck.",
                      retold_today="Sales engineers still rebuild the customer's own numbers before a demo.",
                      term="Committed", plain_meaning="The deal is in the forecast; the customer has not signed yet."),
    "Emil Novak": dict(remark="'Can your invoices show the cost centre? Our auditors ask every year.'",
                       heard_in="Finance/billing", heard_at="Renewal & expansion",
                       company_story="Our founder answered billing questions herself for the first three years.",
                       retold_today="Finance calls every new customer before the first invoice goes out.",
                       term="ARR", plain_meaning="What the customer pays us in a year if nothing changes."),
}

RETRACE = [
    ("Chen Wei", "Gus Moreau", dict(
        forward="1. The client asks for a faster report export.\n2. We quote two sprints.\n3. They sign off, then "
                "go quiet for a month.",
        reversed="It ended with an auditor's visit. Just before that, their finance lead had to explain three "
                 "changed records. Before that: an export that did not show who changed what.",
        behind="Proof for the auditor of who changed which record, and when.",
        anticipatory="Offer the audit log up front, and ask every regulated client who reviews their data.",
        listening="Tactical: we stopped once we had what our job needed")),
    ("Dana Okafor", "Ana Costa", dict(
        forward="They wanted more seats at renewal, at a lower price per seat.",
        reversed="The new seats were for a team in Lisbon they opened after a merger; the merger is why the "
                 "budget moved to a new owner who had never heard of us.",
        behind="A new budget owner who needed a reason to keep us.",
        anticipatory="A short case for the new owner, in their terms, before the renewal conversation.",
        listening="Strategic: we kept listening past our own goal")),
]

HALF = {
    "Dana Okafor": dict(number="Renewal rate, mid-size accounts: 87%", number_kind="Renewals",
                        why_bought="Their old supplier lost a week of data and their finance director wanted "
                                   "someone who answers the phone.",
                        why_stay="Their support contact knows their setup by heart and calls them before every upgrade."),
    "Gus Moreau": dict(number="Weekly active users per account", number_kind="Usage",
                       why_bought="A pilot showed their planners saved a day a month.",
                       why_stay="I honestly don't know; usage is flat and they still renew."),
    "Bo Lindqvist": dict(number="Tickets per account per month", number_kind="Support tickets",
                         why_bought="They outgrew spreadsheets after an acquisition.",
                         why_stay="We fixed a payroll-day outage in forty minutes, and they still mention it."),
}
ADDITIONS = [("Emil Novak", "Gus Moreau", "Finance knows: they renew because the contract bundles their "
                                          "second site at the old price."),
             ("Dana Okafor", "Gus Moreau", "Their COO told me the planners would revolt if we were switched off.")]

UNTOLD = {
    "Bo Lindqvist": dict(practice="Before we close a ticket, we check with the customer that the fix works in their "
                                  "own setup.",
                         story="A fix worked in our test system but not at a warehouse client, because their scanners "
                               "were older. We only found out because we always check on site.",
                         teller="Sales", audience="Prospects close to signing", may_retell="Yes, as it is written"),
    "Chen Wei": dict(practice="Every go-live ends with a written handover: what we set up, what we did not, whom to call.",
                     story="A customer's IT lead left a month after go-live. Her replacement ran the system from our "
                           "handover note alone and told our CEO it was the best document a supplier had given them.",
                     teller="Implementation", audience="New customers at onboarding",
                     may_retell="Yes, without naming the customer"),
    "Farah Haddad": dict(practice="We read every release note against the setups of our ten largest customers.",
                         story="We held back a change that would have broken a hospital's night shift export, and "
                               "called them before they noticed anything.",
                         teller="Customer success", audience="Customers at renewal",
                         may_retell="Yes, as it is written"),
}
NOT_VOTING = {"Bo Lindqvist": [], "Chen Wei": ["Bo Lindqvist"], "Farah Haddad": ["Bo Lindqvist", "Chen Wei"]}

# A commitment serves a story the room told (its exercise and headline, as the phone lists it).
SERVES_MONTH_END = "Always be storytelling · " + ALWAYS["Ana Costa"]["remark"]
SERVES_API = "Always be storytelling · " + ALWAYS["Farah Haddad"]["remark"]
COMMITMENTS = {
    "Ana Costa": dict(action="Invite the implementation lead to my next two discovery calls.",
                      serves=SERVES_MONTH_END, connects_to="Implementation", by_when="2026-04-10"),
    "Emil Novak": dict(action="Add the price promise to the handoff note template.",
                       serves=SERVES_API, connects_to="Customer success", by_when="2026-03-31"),
    "Bo Lindqvist": dict(action="Send support a one-paragraph glossary of our pricing terms.",
                         serves=SERVES_MONTH_END, connects_to="Finance/billing", by_when="2026-04-03"),
    "Hana Sato": dict(action="=HYPERLINK(\"http://example.com\",\"Ask sales which report won the deal\")",
                      serves=SERVES_API, connects_to="Sales", by_when="2026-04-17"),
}


class Clock:
    """A clock that moves on a few seconds every time it is read."""

    def __init__(self, start: float = START, step: float = 7.0):
        self.now, self.step = start, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def make_full_workshop(store: Store, *, show_names: bool = True, clock: Clock | None = None,
                       language: str = "en"):
    """The workshop and its facilitator key, after all seven exercises ran and closed. In another
    `language` the room keeps the English function and stage names, as a facilitator may have typed them."""
    clock = clock or Clock()
    ws, key = W.create_workshop(store, title="Customer journey day", organisation="Northwind Analytics",
                                held_on=dt.date(2026, 3, 12), facilitator="Priya Raman", agenda_plan=None,
                                show_names=show_names, clock=clock, language=language,
                                functions=list(W.DEFAULT_FUNCTIONS), stages=list(W.DEFAULT_STAGES))
    people = {name: W.join_workshop(store, ws.code, name, function, clock=clock) for name, function in PEOPLE}
    positions = {item.exercise_key: item.position for item in W.agenda(store, ws.id)}
    n = 0

    def tell(who: str, key_: str, answers: dict):
        nonlocal n
        n += 1
        result = W.submit_story(store, people[who], key_, answers, f"{key_}-{n}", clock=clock)
        assert result.ok, (key_, who, result.problems)
        return result.story

    def run(key_: str, body) -> None:
        W.open_exercise(store, ws.id, positions[key_], clock=clock)
        body()
        W.close_exercise(store, ws.id, clock=clock)

    def over_the_wall():
        for who, answers in OVER_THE_WALL.items():
            tell(who, "over_the_wall", answers)

    def arrives():
        for who, answers in ARRIVES.items():
            tell(who, "what_actually_arrives", answers)

    def always():
        for who, answers in ALWAYS.items():
            tell(who, "always_be_storytelling", answers)
        hidden = tell("Gus Moreau", "always_be_storytelling", {**ALWAYS["Ana Costa"], "remark": HIDDEN_TEXT,
                                                                "term": HIDDEN_TEXT})
        controls.hide_story(store, ws.id, hidden.id)
        result = controls.submit_proxy_story(
            store, ws.id, exercise_key="always_be_storytelling", function="Leadership", teller_name="Ines (guest)",
            answers={**ALWAYS["Emil Novak"], "remark": "'We bought you for the people, not the product.'",
                     "term": "Churn", "plain_meaning": "A customer who leaves, or pays us less than last year."},
            idempotency_key="proxy-1", clock=clock)
        assert result.ok, result.problems

    def retrace():
        for listener, teller, answers in RETRACE:
            tell(listener, "retrace_the_steps", {**answers, "partner": teller})

    def half():
        told = {who: tell(who, "half_the_story", answers) for who, answers in HALF.items()}
        for k, (who, on, text) in enumerate(ADDITIONS):
            result = controls.build_on(store, people[who], told[on].id, text, f"add-{k}", clock=clock)
            assert result.ok, result.problems

    def untold():
        told = {who: tell(who, "untold_retention_stories", answers) for who, answers in UNTOLD.items()}
        controls.set_voting(store, ws.id, positions["untold_retention_stories"], "open")
        voters = [p for p in people]
        for author, story in told.items():
            for voter in voters:
                if voter != author and voter not in NOT_VOTING[author]:
                    assert controls.cast_vote(store, people[voter], story.id, clock=clock).ok
        controls.set_voting(store, ws.id, positions["untold_retention_stories"], "closed")

    def commitments():
        for who, answers in COMMITMENTS.items():
            tell(who, "one_millimeter_forward", answers)

    bodies = {"over_the_wall": over_the_wall, "what_actually_arrives": arrives, "always_be_storytelling": always, "retrace_the_steps": retrace,
              "half_the_story": half, "untold_retention_stories": untold, "one_millimeter_forward": commitments}
    for key_ in sorted(positions, key=positions.get):
        run(key_, bodies[key_])
    return W.get_workshop(store, ws.id), key


if __name__ == "__main__":
    import tempfile

    from facilitation import report

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "full_workshop.docx")
    show = "--anonymous" not in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        s = Store(f"sqlite:///{tmp}/full.db")
        ws, _key = make_full_workshop(s, show_names=show)
        out.write_bytes(report.build_report(W.snapshot(s, ws.id)))
        s.dispose()
    print(out)
