"""The journey map: the live map with the latest stories beside it (in a receivers' round, such as
What actually arrives, the widest answered handoff from both ends above them); in the report, the
handoff table (biggest gap first: the sender's loss, who judged the gap, what the receiver says
arrived), where each function's story stops, the map as a picture and as a Word table, the biggest
gaps story by story, then every story by function. "handoffs" is its older report name."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import journey_map, room
from ..i18n import N_
from . import View, register


@dataclass(frozen=True)
class MapWall:
    journey: object         # journey_map.Journey of what the room may see
    latest: list            # the newest stories of this exercise, newest first
    sides: list = field(default_factory=list)  # receivers' round: answered handoffs (journey_map.Handoff) to show


@register
class Map(View):
    name = "map"
    aliases = ("handoffs",)
    draws_map = True

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        # Only what the room may see: exercises being collected blind stay off the map until revealed.
        seen = room.room_snapshot(snapshot)
        journey = journey_map.build_journey(seen, whole=seen)
        # The receivers' round: the widest handoff a receiver answered, from both ends, above one latest answer.
        sides = journey_map.two_sides(journey, 1) if exercise.receives_from else []
        return MapWall(journey=journey, latest=list(reversed(stories))[:1 if sides else 3], sides=sides)

    def report_section(self, w, ctx, ex, stories) -> None:
        from .. import report

        _ = report._
        journey = ctx.journeys[ex.key]
        handoffs = journey_map.handoff_rows(journey)
        top = handoffs[:report.TOP_HANDOFFS]
        if not handoffs:
            w.paragraph(_("No story named a function it hands the customer to."))
        elif len(handoffs) > len(top):
            handoff_table(w, top, heading=_("The biggest gaps"),
                          caption=_("The {top} handoffs with the biggest gap, of {all}; all of them are listed after "
                                    "the map.").format(top=report._num(len(top)), all=report._num(len(handoffs))))
        else:
            handoff_table(w, handoffs, heading=_("Handoffs, biggest gap first"), caption="")
        reach_table(w, journey)
        report._map_sections(w, journey, ctx.pictures.get(ex.key), ctx.pending)
        if len(handoffs) > len(top):  # both sides of each handoff need a landscape page's width
            w.page_setup(landscape=True)
            handoff_table(w, handoffs, heading=_("All handoffs, biggest gap first"),
                          caption=_("All {n} handoffs.").format(n=report._num(len(handoffs))))
            w.page_setup(landscape=False)
        gap_stories(w, ctx, journey)
        super().report_section(w, ctx, ex, stories)


def gap_stories(w, ctx, journey, limit: int | None = None, per_handoff: int | None = None) -> None:
    """The handoffs with the biggest gaps, each with its stories' promise, experience, loss and who
    judged the gap, then what the receiver says actually arrived."""
    from ..report import STORIES_PER_GAP, TOP_GAP_STORIES, _, _gap, _np, _num, fit_widths, function_name

    limit = TOP_GAP_STORIES if limit is None else limit
    per_handoff = STORIES_PER_GAP if per_handoff is None else per_handoff
    top = [h for h in journey.handoffs if h.mean_gap is not None][:limit]
    if not top:
        return
    w.heading(_("The biggest gaps, story by story"), 2)
    w.paragraph(_np("The handoff with the biggest mean gap, with what each story says was promised, what the customer "
                    "lived through and what got lost.",
                    "The {n} handoffs with the biggest mean gap, with what each story says was promised, what the "
                    "customer lived through and what got lost.", len(top)), "Caption")
    usable_w, _height = w.usable_mm()
    for h in top:
        heading = _("{sender} → {receiver} at {stage} · mean gap {gap} · {stories}").format(
            sender=function_name(h.from_function), receiver=function_name(h.to_function), stage=h.stage,
            gap=_gap(h.mean_gap), stories=_np("{n} story", "{n} stories", h.count))
        w.heading(heading + (" · " + _("a dead end") if h.dead_end else ""), 3)
        shown = list(h.accounts)[:per_handoff]
        rows = [[str(ctx.number.get(a.story.id, "")), a.promise, a.experience, a.lost,
                 "–" if a.gap is None else _num(a.gap),
                 _("the customer: {evidence}").format(evidence=a.evidence) if a.customer_judged and a.evidence.strip()
                 else _("the customer") if a.customer_judged else _("our guess")] for a in shown]
        header = [_("Story"), _("Promised"), _("Experienced"), _("Lost in the handoff"), _("Gap"), _("Judged by")]
        w.table(header, rows, fit_widths(header, rows, usable_w, fixed={0: 14, 4: 12}))
        if h.arrivals:
            arrived = [[str(ctx.number.get(a.story.id, "")), a.arrived, a.missing] for a in h.arrivals[:per_handoff]]
            w.paragraph(_("What {function} says actually arrived").format(function=function_name(h.to_function)),
                        "Story Label")
            w.table([_("Answer"), _("What arrived"), _("What was missing")], arrived,
                    [18, (usable_w - 18) / 2, (usable_w - 18) / 2])
        if h.count > len(shown):
            more = ", ".join(str(ctx.number.get(a.story.id, "")) for a in h.accounts[len(shown):])
            w.paragraph(_("… and {n} more: stories {numbers}, under their functions below.").format(
                n=_num(h.count - len(shown)), numbers=more), "Caption")




HANDOFF_HEADER = [N_("From"), N_("To"), N_("Stage"), N_("Stories"), N_("Mean gap"), N_("Dead end"),
                  N_("What gets lost (sender)"), N_("Judged by"), N_("What arrived (receiver)")]


def receiver_side(h: dict) -> list[tuple[str, bool]] | str:
    """The receiving side of a handoff row, as table lines: what arrived, what was missing."""
    from ..report import _

    if not h.get("receivers"):
        return _("not answered")
    lines: list[tuple[str, bool]] = []
    for label, key in ((N_("Arrived: {text}"), "what arrived"), (N_("Missing: {text}"), "what was missing")):
        if h.get(key):
            lines.append((_(label).format(text=h[key]), False))
    return lines or _("answered, nothing written")


def handoff_table(w, handoffs: list[dict], *, heading: str, caption: str) -> None:
    """The handoffs as one table: both sides of each, and who judged its gap."""
    from ..report import _, _gap, _num, function_name

    w.heading(heading, 2)
    w.paragraph((caption + " " if caption else "") + _(
        "Each row is one handoff: who passes the customer to whom, at which stage, how many "
        "stories describe it, their mean gap between promise and experience (1 barely any, 5 a canyon), "
        "whether it is a dead end (nobody in the receiving function tells a story from that stage on), "
        "what the sender says gets lost, who judged the gap (the customer, with a quote, a ticket or a "
        "score, or our own guess) and what the receiver says actually arrived and was missing."), "Caption")
    rows = []
    for h in handoffs:
        gap = h.get("mean gap")
        rows.append([function_name(h.get("from", "")), function_name(h.get("to", "")), h.get("stage", ""),
                     _num(h.get("stories", 0)),
                     "–" if gap is None else _gap(gap), _("yes") if h.get("dead end") else "",
                     h.get("what gets lost") or "", h.get("judged by") or _("our guess"), receiver_side(h)])
    usable_w, _height = w.usable_mm()
    fixed = [28, 28, 28, 17, 13, 12]
    text = max(30.0, (usable_w - sum(fixed) - 20) / 2)
    w.table([_(h) for h in HANDOFF_HEADER], rows, fixed + [text, 20, text])


def reach_table(w, journey) -> None:
    """How far each function's part of the customer's story reaches, and answers no handoff matches."""
    from ..report import _, _np, _num, function_name

    rows = journey_map.reach_rows(journey)
    if rows:
        w.heading(_("Where each function's story stops"), 2)
        w.paragraph(_("The furthest stage each function's tellers say their part of the customer's story reaches; "
                      "a teller who did not say ends where they hand the customer on."), "Caption")
        usable_w, _height = w.usable_mm()
        w.table([_("Function"), _("Story stops at"), _("Stories"), _("Said where it ends")],
                [[function_name(r["function"]), r["stage"], _num(r["stories"]), _num(r["named"])] for r in rows],
                [usable_w * 0.36, usable_w * 0.3, usable_w * 0.14, usable_w * 0.2])
    if journey.unmatched_arrivals:
        w.paragraph(_np("{n} answer from the receiving side matches no handoff shown here (the sender's story was "
                        "hidden or changed, or, with names off, fewer than three people of the receiving function "
                        "answered); it is not attributed.",
                        "{n} answers from the receiving side match no handoff shown here (the sender's story was "
                        "hidden or changed, or, with names off, fewer than three people of the receiving function "
                        "answered); they are not attributed.", len(journey.unmatched_arrivals)), "Caption")
