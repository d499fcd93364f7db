"""Pairs: who tells and who listens with whom, the phase running, the room's tally of how each pair
listened, and one pair's story at a time with its two versions side by side (projector and report).
The rules of pairing and phases are in facilitation/pairs.py."""

from __future__ import annotations

from dataclasses import dataclass

from .. import exports, i18n, pairs, room
from . import View, register


@dataclass(frozen=True)
class PairWall:
    stories: list           # newest first
    left: object            # the two fields shown next to each other
    right: object
    partner: object         # the field naming the partner, or None
    others: tuple = ()      # the other fields shown under the two versions (not the headline, not the partner)
    board: list = ()        # every pair as the room may see it: (number, [(role, who)]) (pairs.board)
    phase: object = None    # the phase running (exercises.Phase), or None
    phase_number: int = 0   # 1-based while one runs
    phase_heading: str = ""
    phase_deadline: float | None = None
    tally: object = None    # pairs.Tally, or None when the exercise counts nothing


@register
class Pairs(View):
    name = "pairs"

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        """The pairs, newest first, with the two fields to show side by side; without a
        `side_by_side` pair in the exercise file, the plain wall."""
        if not exercise.side_by_side:
            return super().shape(stories, exercise, snapshot=snapshot, labelled=labelled, show_names=show_names)
        left, right = (exercise.field(n) for n in exercise.side_by_side)
        found = pairs.round_of(snapshot, exercise.key)
        shown = {exercise.headline, left.name, right.name, exercise.partner_field.name if exercise.partner_field else ""}
        return PairWall(stories=list(reversed(stories)), left=left, right=right, partner=exercise.partner_field,
                        others=tuple(f for f in exercise.fields if f.name not in shown),
                        board=pairs.board(found, show_names=show_names),
                        phase=pairs.current_phase(exercise, found.phase), phase_number=found.phase,
                        phase_heading=pairs.phase_heading(exercise, found.phase,
                                                          i18n.translator(exercise.language).gettext),
                        phase_deadline=pairs.phase_deadline(exercise, found.phase, found.phase_started_at),
                        tally=pairs.tally(exercise, stories, found))

    def stories_section(self, w, ctx, ex, told) -> None:
        """Each pair's story: who with whom, the two versions side by side, then the other fields."""
        from .. import report

        _ = report._
        pair_round_section(w, ctx, ex, told)
        w.heading(_("The pairs"), 2)
        partner = ex.partner_field
        pair = side_by_side_fields(ex)
        usable_w, _height = w.usable_mm()
        for s in told:
            a = report._answers(s)
            who = exports.author(s, ctx.show_names) or (_("Someone") if s.function == room.OTHER_FUNCTIONS
                                                         else _("Someone from {function}").format(function=s.function))
            if exports.author(s, ctx.show_names):
                who += f" ({s.function})"
            heading = _("Pair {number} · {who}").format(number=ctx.number.get(s.id, ""), who=who)
            if partner is not None and a.get(partner.name):
                other = a.get(partner.name)
                shown = exports.shown_partner(other, ctx.show_names, ctx.partners, ex.language)
                if ctx.show_names and isinstance(other, str) and other in ctx.partners:
                    shown += f" ({ctx.partners[other]})"
                heading = _("{pair} with {partner}").format(pair=heading, partner=shown)
            if ctx.votes is not None:
                heading += " · " + report._np("{n} vote", "{n} votes", ctx.votes_of(s))
            start = w.mark()
            w.paragraph(heading, "Story Heading")
            skip = {partner.name} if partner is not None else set()
            if pair is not None:
                left, right = pair
                w.table([left.label, right.label], [[report._answer(left, a.get(left.name), ctx),
                                                     report._answer(right, a.get(right.name), ctx)]],
                        [usable_w / 2, usable_w / 2])
                skip |= {left.name, right.name}
            report._fields(w, ctx, ex, a, skip=skip)
            report._build_ons(w, ctx, ex, s)
            w.keep_together(start)
            ctx.tick(1)


def pair_round_section(w, ctx, ex, told) -> None:
    """How the pairs judged their listening (one mark per pair, as counts), the phases as they were
    run, and who worked with whom (names off: functions only, under the ≥3 rule)."""
    from .. import report

    _ = report._
    found = pairs.round_of(ctx.snapshot, ex.key) if getattr(ctx, "snapshot", None) is not None else None
    count = pairs.tally(ex, told, found)
    if count is not None and (count.marked or count.waiting):
        w.heading(_("How the pairs listened"), 2)
        rows = [[label, report._num(n)] for label, n in count.counts]
        if count.waiting:
            rows.append([_(pairs.NOT_MARKED), report._num(count.waiting)])
        w.table([_("Listening"), _("Marks")], rows, [70, 25])
        w.paragraph(_("One mark per pair: a pair that sent two forms counts its latest."), "Caption")
    if found is None:
        return
    if found.phase_log:
        steps = []
        for n, started in found.phase_log:
            step = pairs.current_phase(ex, n)
            steps.append(_("{phase} at {time} ({minutes} min)").format(phase=step.title, time=report._when(started),
                                                                       minutes=report._num(step.minutes)) if step
                         else _("phases ended at {time}").format(time=report._when(started)))
        w.paragraph(_("Phases: {steps}.").format(steps="; ".join(steps)), "Caption")
    if found.pairs:
        w.heading(_("Who worked with whom"), 2)
        usable_w, _height = w.usable_mm()
        rows = []
        for number, lines in pairs.board(found, show_names=ctx.show_names):
            tellers = [who for role, who in lines if role == pairs.ROLE_LABELS[pairs.TELLER]]
            listeners = [who for role, who in lines if role != pairs.ROLE_LABELS[pairs.TELLER]]
            rows.append([str(number), ", ".join(report.function_name(t) for t in tellers) or "—",
                         ", ".join(report.function_name(t) for t in listeners) or "—"])
        if all(cell == _(room.OTHER_FUNCTIONS) for row in rows for cell in row[1:]):
            # Names off and no function with three people in the pairs: a table would say nothing.
            sizes = sorted({len(p.members) for p in found.pairs})
            w.paragraph(_("{pairs} of {sizes} people. Names are off and no function had three people in the pairs, "
                          "so no function is named.").format(
                pairs=report._np("{n} pair", "{n} pairs", len(found.pairs)),
                sizes=_(" or ").join(report._num(n) for n in sizes)))
        else:
            w.table([_("Pair"), _("Teller"), _("Listening")], rows, [15, (usable_w - 15) / 2, (usable_w - 15) / 2])


def side_by_side_fields(ex):
    """The two fields a pair's story shows next to each other: the pair its file names in
    `side_by_side`, else the first two long text fields."""
    names = tuple(getattr(ex, "side_by_side", ()) or ())
    by_name = {f.name: f for f in ex.fields}
    if len(names) == 2 and all(n in by_name for n in names):
        return by_name[names[0]], by_name[names[1]]
    long = [f for f in ex.fields if f.kind == "long_text"]
    return (long[0], long[1]) if len(long) >= 2 else None
